//! `jabber:x:encrypted` and `jabber:x:signed` (XEP-0027): an armoured OpenPGP payload,
//! exposed as its text. Encrypting and checking signatures is the application's.

use alloc::string::String;

use super::Extension;
use crate::ns;
use crate::xml::{BuildError, Element, ElementRef};

/// An encrypted message text. The message's `<body/>` then only explains that it is
/// encrypted ([`MessageBuilder::encrypted`](crate::stanza::MessageBuilder::encrypted)
/// adds one).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Encrypted {
    /// The armoured payload, as sent (without the armour's header and footer).
    pub payload: String,
}

/// A signature over a presence's status or a message's body.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Signed {
    /// The armoured signature, as sent.
    pub payload: String,
}

fn read(child: ElementRef<'_>, ns: &str) -> Option<String> {
    child.is("x", ns).then(|| String::from(child.text()))
}

fn write(ns: &str, payload: &str) -> Result<Element, BuildError> {
    Element::builder("x", ns).text(payload).build()
}

impl Extension for Encrypted {
    fn from_child(child: ElementRef<'_>) -> Option<Encrypted> {
        read(child, ns::X_ENCRYPTED).map(|payload| Encrypted { payload })
    }

    fn to_element(&self) -> Result<Element, BuildError> {
        write(ns::X_ENCRYPTED, &self.payload)
    }
}

impl Extension for Signed {
    fn from_child(child: ElementRef<'_>) -> Option<Signed> {
        read(child, ns::X_SIGNED).map(|payload| Signed { payload })
    }

    fn to_element(&self) -> Result<Element, BuildError> {
        write(ns::X_SIGNED, &self.payload)
    }
}
