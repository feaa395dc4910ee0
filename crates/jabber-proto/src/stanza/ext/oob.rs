//! `jabber:x:oob` (XEP-0066): a URL to fetch out of band, a file or a link.

use alloc::string::String;

use super::{Extension, child_string};
use crate::ns;
use crate::xml::{BuildError, Element, ElementRef};

/// A URL and its description.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Oob {
    /// The URL, as sent (not checked: treat it as untrusted).
    pub url: String,
    /// What it is.
    pub desc: Option<String>,
}

impl Extension for Oob {
    fn from_child(child: ElementRef<'_>) -> Option<Oob> {
        if !child.is("x", ns::X_OOB) {
            return None;
        }
        Some(Oob {
            url: child_string(child, "url", ns::X_OOB)?,
            desc: child_string(child, "desc", ns::X_OOB),
        })
    }

    fn to_element(&self) -> Result<Element, BuildError> {
        let mut b = Element::builder("x", ns::X_OOB)
            .child(Element::builder("url", ns::X_OOB).text(&self.url));
        if let Some(desc) = &self.desc {
            b = b.child(Element::builder("desc", ns::X_OOB).text(desc));
        }
        b.build()
    }
}

impl crate::stanza::Message {
    /// The `jabber:x:oob` URL the message carries, if any (the first, when several).
    pub fn oob(&self) -> Option<Oob> {
        self.extension::<Oob>()
    }
}

impl crate::stanza::MessageBuilder {
    /// Adds a `jabber:x:oob` URL with an optional description (XEP-0066 §4).
    pub fn oob(self, url: &str, desc: Option<&str>) -> Self {
        self.extension(&Oob {
            url: String::from(url),
            desc: desc.map(String::from),
        })
    }
}
