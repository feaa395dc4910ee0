//! Link targets and image sources: an allow-list of schemes, checked the way a browser
//! would read the value, then rewritten in one canonical, plain-ASCII form.

use alloc::string::String;
use core::fmt::Write;

/// Schemes a link may use.
const LINK_SCHEMES: &[&str] = &["http", "https", "xmpp", "mailto"];
/// Schemes an image may be fetched from (`cid`: XEP-0231 bits of binary, no network).
const IMAGE_SCHEMES: &[&str] = &["http", "https", "cid"];
/// Longest URI kept, in bytes of its canonical form.
pub const MAX_URI_BYTES: usize = 2048;

/// A URI whose scheme is on an allow-list (`http`, `https`, `xmpp`, `mailto` for links;
/// `http`, `https`, `cid` for images), in canonical form: scheme in lower case, no white
/// space or control characters, everything outside RFC 3986's characters percent-encoded.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct SafeUri(String);

/// What a URI is for: the allowed schemes differ.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Purpose {
    Link,
    Image,
}

impl SafeUri {
    /// A link target; `None` unless its scheme is `http`, `https`, `xmpp` or `mailto`.
    pub fn link(value: &str) -> Option<SafeUri> {
        SafeUri::check(value, Purpose::Link)
    }

    /// An image source; `None` unless its scheme is `http`, `https` or `cid`.
    pub fn image(value: &str) -> Option<SafeUri> {
        SafeUri::check(value, Purpose::Image)
    }

    /// The canonical form.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The scheme, in lower case.
    pub fn scheme(&self) -> &str {
        self.0.split_once(':').map_or("", |(s, _)| s)
    }

    pub(super) fn check(value: &str, purpose: Purpose) -> Option<SafeUri> {
        // Browsers drop leading and trailing C0 controls and spaces, and tabs and line
        // breaks anywhere ("java\tscript:" is javascript:): read the value as they do.
        let value = value.trim_matches(|c: char| c <= ' ');
        let cleaned = value.chars().filter(|c| !matches!(c, '\t' | '\n' | '\r'));
        let mut out = String::with_capacity(value.len());
        let mut in_scheme = true;
        for c in cleaned {
            if c.is_control() {
                return None;
            }
            if in_scheme {
                if c == ':' {
                    in_scheme = false;
                    let allowed = match purpose {
                        Purpose::Link => LINK_SCHEMES,
                        Purpose::Image => IMAGE_SCHEMES,
                    };
                    if !allowed.contains(&out.as_str()) {
                        return None;
                    }
                } else if c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.') {
                    out.push(c.to_ascii_lowercase());
                    continue;
                } else {
                    // No scheme (a relative reference) or a malformed one.
                    return None;
                }
            }
            if is_uri_char(c) {
                out.push(c);
            } else {
                let mut buf = [0; 4];
                for b in c.encode_utf8(&mut buf).bytes() {
                    let _ = write!(out, "%{b:02X}");
                }
            }
            if out.len() > MAX_URI_BYTES {
                return None;
            }
        }
        (!in_scheme).then_some(SafeUri(out))
    }
}

/// RFC 3986 unreserved, reserved and `%`.
fn is_uri_char(c: char) -> bool {
    c.is_ascii_alphanumeric()
        || matches!(
            c,
            '-' | '.'
                | '_'
                | '~'
                | ':'
                | '/'
                | '?'
                | '#'
                | '['
                | ']'
                | '@'
                | '!'
                | '$'
                | '&'
                | '\''
                | '('
                | ')'
                | '*'
                | '+'
                | ','
                | ';'
                | '='
                | '%'
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schemes_are_read_as_a_browser_would() {
        let link = |s: &str| SafeUri::link(s).map(|u| u.0);
        assert_eq!(
            link("https://a.example/x y"),
            Some("https://a.example/x%20y".into())
        );
        assert_eq!(link(" HTTP://a/"), Some("http://a/".into()));
        assert_eq!(
            link("xmpp:romeo@example.net"),
            Some("xmpp:romeo@example.net".into())
        );
        assert_eq!(
            link("https://é.example/"),
            Some("https://%C3%A9.example/".into())
        );
        for bad in [
            "javascript:alert(1)",
            "JaVaScRiPt:alert(1)",
            " \u{1}javascript:alert(1)",
            "java\tscript:alert(1)",
            "java\nscript:alert(1)",
            "vbscript:msgbox(1)",
            "data:text/html,<script>",
            "//evil.example/",
            "/relative",
            "",
            "https\u{0}://x",
            "ht tp://x",
            "https",
        ] {
            assert_eq!(link(bad), None, "{bad:?}");
        }
        assert_eq!(SafeUri::image("xmpp:a@b"), None);
        assert!(SafeUri::image("cid:sha1+8f35@bob.xmpp.org").is_some());
    }
}
