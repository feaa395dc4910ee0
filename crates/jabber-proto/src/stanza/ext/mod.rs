//! Payloads carried inside messages and presences, each typed both ways: read from a
//! child element ([`Extension::from_child`], reached through
//! [`Message::extension`](super::Message::extension)) and written as one
//! ([`Extension::to_element`], added with
//! [`MessageBuilder::extension`](super::MessageBuilder::extension)).
//!
//! The classic `jabber:x:*` payloads sit beside their successors: message events
//! ([`MessageEvents`]) beside chat states ([`ChatState`]) and delivery receipts
//! ([`Receipt`]), the classic conference invitation and XEP-0249's direct one in
//! [`Invitation`].

mod chatstate;
mod conference;
mod encrypted;
mod envelope;
mod event;
mod expire;
mod oob;
mod receipt;
mod xroster;

pub use chatstate::ChatState;
pub use conference::Invitation;
pub use encrypted::{Encrypted, Signed};
pub use envelope::{Address, AddressRole, Envelope};
pub use event::{MessageEvents, Notice};
pub use expire::Expire;
pub use oob::Oob;
pub use receipt::Receipt;
pub use xroster::{RosterExchange, SharedItem};

use crate::xml::{BuildError, Element, ElementRef};

/// A payload that lives in one child element of a stanza.
pub trait Extension: Sized {
    /// The payload, if `child` is one (in the right namespace and well-formed enough to
    /// read). Never panics; what it cannot read is `None`, and the element stays
    /// available in the stanza untouched.
    fn from_child(child: ElementRef<'_>) -> Option<Self>;

    /// The payload as an element; an error only when a text holds characters XML cannot
    /// carry.
    fn to_element(&self) -> Result<Element, BuildError>;
}

/// Namespaces of the payloads this module reads (and of the delay stamps), for
/// [`Message::unknown_children`](super::Message::unknown_children).
pub(crate) const KNOWN: &[&str] = &[
    crate::ns::DELAY,
    crate::ns::X_DELAY,
    crate::ns::X_EVENT,
    crate::ns::X_EXPIRE,
    crate::ns::X_ENVELOPE,
    crate::ns::X_ENCRYPTED,
    crate::ns::X_SIGNED,
    crate::ns::X_OOB,
    crate::ns::X_ROSTER,
    crate::ns::X_CONFERENCE,
    crate::ns::CHATSTATES,
    crate::ns::RECEIPTS,
];

/// The text of `el`'s child `name` in `ns`, if present and not empty.
fn child_string(el: ElementRef<'_>, name: &str, ns: &str) -> Option<alloc::string::String> {
    el.child(name, ns)
        .map(|c| alloc::string::String::from(c.text()))
        .filter(|t| !t.is_empty())
}
