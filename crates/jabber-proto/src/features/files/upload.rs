//! HTTP File Upload (XEP-0363): the upload service found by discovery, the slot
//! request, and the slot or refusal that answers it. No HTTP here: the adapters PUT the
//! file to the slot's URL and send its GET URL on (as `jabber:x:oob`).

use alloc::string::String;
use alloc::vec::Vec;

use crate::features::disco::DiscoInfo;
use crate::jid::Jid;
use crate::ns;
use crate::stanza::{Iq, StanzaCondition, StanzaError};
use crate::time::Timestamp;
use crate::xml::{BuildError, Element, ElementRef};

/// An upload service: its address and the largest file it takes, if it says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UploadService {
    /// Where slot requests go ([`Client::request_upload_slot`](crate::client::Client::request_upload_slot)).
    pub jid: Jid,
    /// The `max-file-size` its discovery form announces, in bytes.
    pub max_file_size: Option<u64>,
}

impl UploadService {
    /// The service `jid` is, from its `disco#info`: `None` unless it offers
    /// `urn:xmpp:http:upload:0`.
    pub fn from_info(jid: Jid, info: &DiscoInfo) -> Option<UploadService> {
        if !info.has_feature(ns::HTTP_UPLOAD) {
            return None;
        }
        let max_file_size = info
            .forms
            .iter()
            .filter(|f| f.form_type() == Some(ns::HTTP_UPLOAD))
            .find_map(|f| f.value("max-file-size"))
            .and_then(|v| v.trim().parse().ok());
        Some(UploadService { jid, max_file_size })
    }
}

/// The file a slot is asked for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UploadFile {
    /// Its name (no path: the service uses it in the URL).
    pub filename: String,
    /// Its size in bytes: the PUT must send exactly this many.
    pub size: u64,
    /// Its media type (`image/png`, ...), if known.
    pub content_type: Option<String>,
}

impl UploadFile {
    /// A file of `size` bytes called `filename`, without a media type.
    pub fn new(filename: &str, size: u64) -> UploadFile {
        UploadFile {
            filename: String::from(filename),
            size,
            content_type: None,
        }
    }

    /// The same file with a media type.
    #[must_use]
    pub fn with_content_type(mut self, content_type: &str) -> UploadFile {
        self.content_type = Some(String::from(content_type));
        self
    }

    /// Reads a `<request/>` payload (as a capture records it).
    pub fn from_request(request: ElementRef<'_>) -> Option<UploadFile> {
        if !request.is("request", ns::HTTP_UPLOAD) {
            return None;
        }
        Some(UploadFile {
            filename: String::from(request.attr("filename")?),
            size: request.attr("size")?.parse().ok()?,
            content_type: request.attr("content-type").map(String::from),
        })
    }

    /// The `<request/>` payload of the slot request (XEP-0363 §4).
    pub fn request(&self) -> Result<Element, BuildError> {
        let mut b = Element::builder("request", ns::HTTP_UPLOAD)
            .attr("filename", &self.filename)
            .attr("size", itoa(self.size).as_str());
        if let Some(ct) = &self.content_type {
            b = b.attr("content-type", ct);
        }
        b.build()
    }
}

fn itoa(n: u64) -> String {
    use core::fmt::Write as _;
    let mut s = String::new();
    let _ = write!(s, "{n}");
    s
}

/// The headers a service may ask the PUT to carry (XEP-0363 §4): any other is dropped,
/// so a service cannot make us send, say, a `Host` or `Content-Length` of its choosing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PutHeader {
    /// `Authorization`.
    Authorization,
    /// `Cookie`.
    Cookie,
    /// `Expires`.
    Expires,
}

impl PutHeader {
    /// The header's name as HTTP writes it.
    pub fn name(self) -> &'static str {
        match self {
            PutHeader::Authorization => "Authorization",
            PutHeader::Cookie => "Cookie",
            PutHeader::Expires => "Expires",
        }
    }

    /// The header `name` is (compared without case), if allowed.
    pub fn from_name(name: &str) -> Option<PutHeader> {
        [
            PutHeader::Authorization,
            PutHeader::Cookie,
            PutHeader::Expires,
        ]
        .into_iter()
        .find(|h| h.name().eq_ignore_ascii_case(name))
    }
}

/// A slot: where to PUT the file, with which headers, and where it can then be fetched.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UploadSlot {
    /// The URL to PUT the file to.
    pub put_url: String,
    /// The headers the PUT must carry: only the allowed ones, their values without
    /// line breaks.
    pub put_headers: Vec<(PutHeader, String)>,
    /// The URL to give the receiver once the PUT succeeded.
    pub get_url: String,
}

impl UploadSlot {
    /// Reads a `<slot/>`; `None` when it is not one, lacks a URL, a URL is not
    /// `http://` or `https://`, or credentials (an `Authorization` or `Cookie` header)
    /// would go to a cleartext `http://` PUT URL.
    pub fn from_element(slot: ElementRef<'_>) -> Option<UploadSlot> {
        if !slot.is("slot", ns::HTTP_UPLOAD) {
            return None;
        }
        let put = slot.child("put", ns::HTTP_UPLOAD)?;
        let get = slot.child("get", ns::HTTP_UPLOAD)?;
        let put_url = web_url(put.attr("url")?)?;
        let get_url = web_url(get.attr("url")?)?;
        let put_headers = put
            .children()
            .filter(|c| c.is("header", ns::HTTP_UPLOAD))
            .filter_map(|c| {
                let header = PutHeader::from_name(c.attr("name")?)?;
                let value: String = c
                    .text()
                    .chars()
                    .filter(|&ch| ch != '\r' && ch != '\n')
                    .collect();
                Some((header, value))
            })
            .collect::<Vec<_>>();
        let secret = put_headers
            .iter()
            .any(|(h, _)| matches!(h, PutHeader::Authorization | PutHeader::Cookie));
        if secret && !is_https(&put_url) {
            return None;
        }
        Some(UploadSlot {
            put_url,
            put_headers,
            get_url,
        })
    }
}

/// `url` when it is an absolute `http`/`https` URL without whitespace or control
/// characters.
fn web_url(url: &str) -> Option<String> {
    let lower = url
        .get(..8)
        .map(str::to_ascii_lowercase)
        .unwrap_or_default();
    let scheme_ok = lower.starts_with("https://") || lower.starts_with("http://");
    let clean = !url.chars().any(|c| c.is_whitespace() || c.is_control());
    (scheme_ok && clean && url.len() > 8).then(|| String::from(url))
}

/// Whether `url` starts with `https://` (in any case).
fn is_https(url: &str) -> bool {
    url.get(..8)
        .is_some_and(|s| s.eq_ignore_ascii_case("https://"))
}

/// Why no slot was given.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum UploadError {
    /// The file is larger than the service takes (`<file-too-large/>`), with the limit
    /// when it says.
    TooLarge {
        /// The largest size the service takes, in bytes.
        max_file_size: Option<u64>,
        /// The refusal as sent.
        error: StanzaError,
    },
    /// A quota is used up (`resource-constraint`); try again later, at `retry` if given.
    Quota {
        /// When to try again (`<retry stamp='…'/>`).
        retry: Option<Timestamp>,
        /// The refusal as sent.
        error: StanzaError,
    },
    /// Any other refusal (`not-allowed`, `forbidden`, ...).
    Refused(StanzaError),
    /// The service did not answer within the IQ timeout.
    Timeout,
    /// The service answered with no usable slot (a missing or non-HTTP URL, or
    /// credentials for a cleartext `http://` PUT URL).
    Malformed,
}

impl core::fmt::Display for UploadError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            UploadError::TooLarge {
                max_file_size: Some(max),
                ..
            } => write!(f, "the file is larger than the service takes ({max} bytes)"),
            UploadError::TooLarge { .. } => {
                f.write_str("the file is larger than the service takes")
            }
            UploadError::Quota { retry: Some(t), .. } => {
                write!(f, "the upload quota is used up; try again after {t}")
            }
            UploadError::Quota { .. } => f.write_str("the upload quota is used up"),
            UploadError::Refused(e) => write!(f, "the upload service refused: {e}"),
            UploadError::Timeout => f.write_str("the upload service did not answer"),
            UploadError::Malformed => f.write_str("the upload service gave no usable slot"),
        }
    }
}

impl UploadError {
    /// The typed error an error reply to a slot request carries.
    pub fn from_error_iq(iq: &Iq) -> UploadError {
        let error = iq
            .error()
            .unwrap_or_else(|| StanzaError::new(StanzaCondition::UndefinedCondition));
        let app = iq
            .element()
            .children()
            .find(|c| c.name() == "error")
            .into_iter()
            .flat_map(|e| e.children())
            .find(|c| c.ns() == ns::HTTP_UPLOAD);
        match app {
            Some(too_large) if too_large.name() == "file-too-large" => UploadError::TooLarge {
                max_file_size: too_large
                    .child("max-file-size", ns::HTTP_UPLOAD)
                    .and_then(|m| m.text().trim().parse().ok()),
                error,
            },
            Some(retry) if retry.name() == "retry" => UploadError::Quota {
                retry: retry.attr("stamp").and_then(Timestamp::parse),
                error,
            },
            _ if error.condition == StanzaCondition::ResourceConstraint => {
                UploadError::Quota { retry: None, error }
            }
            _ => UploadError::Refused(error),
        }
    }
}
