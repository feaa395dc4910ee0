//! Character data and attribute values as XML defines their value: references decoded,
//! line ends normalised (and, in attribute values, whitespace normalised to spaces).

use alloc::string::{String, ToString};

use super::ParseError;
use crate::xml::chars::{is_ncname, is_xml_char};

/// Checks raw character data — no character XML forbids, no `]]>` — and tells whether
/// its value differs from it (references, carriage returns).
pub(crate) fn check_text(raw: &str) -> Result<bool, ParseError> {
    let bytes = raw.as_bytes();
    // One branch-free pass (it vectorises); the rare flagged cases look closer.
    let flags = bytes.iter().fold(0u8, |acc, &b| {
        acc | u8::from(b < 0x20) | (u8::from(b == b'&') << 1) | (u8::from(b == b'>') << 2)
    });
    let mut decode = flags & 2 != 0;
    if flags & 1 != 0 {
        if let Some(&c) = bytes
            .iter()
            .find(|&&c| c < 0x20 && !matches!(c, b'\t' | b'\n' | b'\r'))
        {
            return Err(ParseError::ForbiddenChar { code: u32::from(c) });
        }
        decode |= bytes.contains(&b'\r');
    }
    if flags & 4 != 0 && memchr::memmem::find(bytes, b"]]>").is_some() {
        return Err(ParseError::CdataEndInText);
    }
    Ok(decode)
}

/// Whether a raw attribute value differs from its value.
pub(crate) fn attr_needs_decoding(raw: &str) -> bool {
    // Branch-free, like `check_text`: `&`, or a byte from TAB to CR (xmlparser has
    // refused VT and FF, which XML forbids, before any value gets here).
    raw.bytes().fold(0u8, |acc, b| {
        acc | u8::from(b == b'&') | u8::from(b.wrapping_sub(b'\t') <= b'\r' - b'\t')
    }) != 0
}

/// Appends the value of raw character data (`attr == false`) or of a raw attribute value
/// (`attr == true`) to `out`.
pub(crate) fn decode(raw: &str, attr: bool, out: &mut String) -> Result<(), ParseError> {
    let bytes = raw.as_bytes();
    let mut run = 0;
    let mut i = 0;
    // Jump from one byte that changes the value to the next; the runs between are copied
    // whole.
    let next = |from: usize| {
        let rest = &bytes[from..];
        let hit = if attr {
            memchr::memchr3(b'&', b'\r', b'\n', rest)
                .into_iter()
                .chain(memchr::memchr(b'\t', rest))
                .min()
        } else {
            memchr::memchr2(b'&', b'\r', rest)
        };
        hit.map_or(bytes.len(), |h| from + h)
    };
    loop {
        i = next(i);
        let Some(&b) = bytes.get(i) else { break };
        out.push_str(&raw[run..i]);
        match b {
            b'&' => {
                let rest = &raw[i + 1..];
                let semi = memchr::memchr(b';', rest.as_bytes()).ok_or(ParseError::BadReference)?;
                out.push(reference(&rest[..semi])?);
                i += semi + 2;
            }
            b'\r' => {
                out.push(if attr { ' ' } else { '\n' });
                i += if bytes.get(i + 1) == Some(&b'\n') {
                    2
                } else {
                    1
                };
            }
            // `\n` or `\t` in an attribute value.
            _ => {
                out.push(' ');
                i += 1;
            }
        }
        run = i;
    }
    out.push_str(&raw[run..]);
    Ok(())
}

/// Appends CDATA content: only line ends change.
pub(crate) fn decode_cdata(raw: &str, out: &mut String) {
    let mut parts = raw.split('\r');
    if let Some(first) = parts.next() {
        out.push_str(first);
    }
    for part in parts {
        out.push('\n');
        out.push_str(part.strip_prefix('\n').unwrap_or(part));
    }
}

/// The character a reference body (between `&` and `;`) stands for.
fn reference(body: &str) -> Result<char, ParseError> {
    let code = if let Some(hex) = body.strip_prefix("#x") {
        number(hex, 16)?
    } else if let Some(dec) = body.strip_prefix('#') {
        number(dec, 10)?
    } else {
        return match body {
            "lt" => Ok('<'),
            "gt" => Ok('>'),
            "amp" => Ok('&'),
            "apos" => Ok('\''),
            "quot" => Ok('"'),
            // Entity names are XML Names, which may contain colons.
            name if name.split(':').all(is_ncname) => {
                Err(ParseError::UndefinedEntity(name.to_string()))
            }
            _ => Err(ParseError::BadReference),
        };
    };
    match char::from_u32(code) {
        Some(c) if is_xml_char(c) => Ok(c),
        _ => Err(ParseError::ForbiddenChar { code }),
    }
}

/// The value of a character reference's digits. XML allows any number of leading zeros;
/// they are skipped, and more significant digits than a `u32` holds make the reference
/// malformed (such a value is no character anyway), so the work is bounded whatever the
/// peer sends.
fn number(digits: &str, radix: u32) -> Result<u32, ParseError> {
    // from_str_radix accepts a leading '+', XML does not.
    if digits.is_empty() || !digits.bytes().all(|b| char::from(b).is_digit(radix)) {
        return Err(ParseError::BadReference);
    }
    let significant = digits.trim_start_matches('0');
    // Eight hex or ten decimal digits can still fit a u32; the parse below checks the rest.
    let max = if radix == 16 { 8 } else { 10 };
    if significant.len() > max {
        return Err(ParseError::BadReference);
    }
    if significant.is_empty() {
        return Ok(0);
    }
    u32::from_str_radix(significant, radix).map_err(|_| ParseError::BadReference)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(raw: &str) -> Result<String, ParseError> {
        let mut s = String::new();
        decode(raw, false, &mut s).map(|()| s)
    }

    fn attr(raw: &str) -> Result<String, ParseError> {
        let mut s = String::new();
        decode(raw, true, &mut s).map(|()| s)
    }

    /// The plain byte loop `decode` replaced, kept as its oracle.
    fn decode_bytewise(raw: &str, attr: bool) -> Result<String, ParseError> {
        let (bytes, mut out, mut run, mut i) = (raw.as_bytes(), String::new(), 0, 0);
        while i < bytes.len() {
            let step = match bytes[i] {
                b'&' => {
                    out.push_str(&raw[run..i]);
                    let rest = &raw[i + 1..];
                    let semi = rest.find(';').ok_or(ParseError::BadReference)?;
                    out.push(reference(&rest[..semi])?);
                    semi + 2
                }
                b'\r' => {
                    out.push_str(&raw[run..i]);
                    out.push(if attr { ' ' } else { '\n' });
                    if bytes.get(i + 1) == Some(&b'\n') {
                        2
                    } else {
                        1
                    }
                }
                b'\n' | b'\t' if attr => {
                    out.push_str(&raw[run..i]);
                    out.push(' ');
                    1
                }
                _ => {
                    i += 1;
                    continue;
                }
            };
            i += step;
            run = i;
        }
        out.push_str(&raw[run..]);
        Ok(out)
    }

    proptest::proptest! {
        #[test]
        fn decode_agrees_with_the_byte_loop(
            raw in "([a-z#x0-9;&\r\n\t é]|&amp;|&lt;|&#233;|&#x1F600;){0,40}",
            attr in proptest::bool::ANY,
        ) {
            let mut got = String::new();
            let got = decode(&raw, attr, &mut got).map(|()| got);
            proptest::prop_assert_eq!(got, decode_bytewise(&raw, attr));
        }
    }

    #[test]
    fn predefined_and_character_references() {
        assert_eq!(
            text("a&lt;b&gt;c&amp;d&apos;e&quot;f").unwrap(),
            "a<b>c&d'e\"f"
        );
        assert_eq!(text("&#233;&#xE9;&#x1F600;").unwrap(), "éé😀");
        assert_eq!(text("&#13;&#10;").unwrap(), "\r\n");
    }

    #[test]
    fn line_ends_are_normalised() {
        assert_eq!(text("a\r\nb\rc\nd").unwrap(), "a\nb\nc\nd");
        assert_eq!(attr("a\r\nb\tc\nd").unwrap(), "a b c d");
        assert_eq!(attr("&#9;&#10;").unwrap(), "\t\n");
        let mut s = String::new();
        decode_cdata("x\r\ny\rz", &mut s);
        assert_eq!(s, "x\ny\nz");
    }

    #[test]
    fn undefined_entities_are_restricted() {
        assert_eq!(
            text("&nbsp;"),
            Err(ParseError::UndefinedEntity("nbsp".into()))
        );
    }

    #[test]
    fn malformed_references() {
        for bad in [
            "&",
            "&amp",
            "&;",
            "&#;",
            "&#x;",
            "&#12a;",
            "&#+12;",
            "&#x110000000;",
            "& amp;",
        ] {
            assert_eq!(text(bad), Err(ParseError::BadReference), "{bad}");
        }
    }

    #[test]
    fn leading_zeros_do_not_count() {
        assert_eq!(text("&#000000009;").unwrap(), "\t");
        assert_eq!(text("&#x0000000041;").unwrap(), "A");
        assert_eq!(attr("&#x0000000041;&#0000000000066;").unwrap(), "AB");
        let zeros = "0".repeat(10_000);
        assert_eq!(text(&format!("&#{zeros}233;")).unwrap(), "\u{E9}");
        assert_eq!(text(&format!("&#x{zeros}1F600;")).unwrap(), "\u{1F600}");
        assert_eq!(text("&#x0010FFFF;").unwrap(), "\u{10FFFF}");
        // Zeros alone are the value 0.
        assert_eq!(text("&#0000;"), Err(ParseError::ForbiddenChar { code: 0 }));
        assert_eq!(text("&#x00;"), Err(ParseError::ForbiddenChar { code: 0 }));
    }

    #[test]
    fn values_beyond_unicode_are_refused_however_written() {
        assert_eq!(
            text("&#x00000000110000;"),
            Err(ParseError::ForbiddenChar { code: 0x11_0000 })
        );
        assert_eq!(
            text("&#0001114112;"),
            Err(ParseError::ForbiddenChar { code: 0x11_0000 })
        );
        // The largest values a u32 holds are still reported by code...
        assert_eq!(
            text("&#x0FFFFFFFF;"),
            Err(ParseError::ForbiddenChar { code: u32::MAX })
        );
        assert_eq!(
            text("&#4294967295;"),
            Err(ParseError::ForbiddenChar { code: u32::MAX })
        );
        // ...and larger ones are malformed, however many digits they have.
        for bad in [
            "&#4294967296;",
            "&#x100000000;",
            "&#00099999999999;",
            "&#x000123456789ABCDEF;",
        ] {
            assert_eq!(text(bad), Err(ParseError::BadReference), "{bad}");
        }
        let nines = "9".repeat(10_000);
        assert_eq!(text(&format!("&#{nines};")), Err(ParseError::BadReference));
    }

    #[test]
    fn references_to_forbidden_characters() {
        assert_eq!(text("&#0;"), Err(ParseError::ForbiddenChar { code: 0 }));
        assert_eq!(
            text("&#xD800;"),
            Err(ParseError::ForbiddenChar { code: 0xD800 })
        );
        assert_eq!(
            text("&#xFFFE;"),
            Err(ParseError::ForbiddenChar { code: 0xFFFE })
        );
        assert_eq!(
            text("&#x110000;"),
            Err(ParseError::ForbiddenChar { code: 0x110000 })
        );
    }
}
