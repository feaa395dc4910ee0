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
//!
//! A received message is read on demand, and answered in its own thread:
//!
//! ```
//! use jabber_proto::stanza::ext::{ChatState, Oob, Receipt};
//! use jabber_proto::stanza::{Message, Stanza};
//! use jabber_proto::stream::{Item, StreamParser};
//!
//! let mut parser = StreamParser::new(Default::default());
//! parser.push(b"<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>");
//! parser.push(b"<message from='juliet@example.com/balcony' id='m1' type='chat'>\
//!     <body>/me shows a picture</body><thread>t7</thread>\
//!     <x xmlns='jabber:x:oob'><url>https://example.com/rose.jpg</url></x>\
//!     <active xmlns='http://jabber.org/protocol/chatstates'/>\
//!     <request xmlns='urn:xmpp:receipts'/>\
//!     <delay xmlns='urn:xmpp:delay' stamp='2026-12-03T09:30:00Z'/></message>");
//! let _header = parser.next_item();
//! let Some(Ok(Item::Element(el))) = parser.next_item() else { unreachable!() };
//! let Ok(Stanza::Message(m)) = Stanza::try_from(el) else { unreachable!() };
//!
//! assert_eq!(m.me().as_deref(), Some("shows a picture"));
//! assert_eq!(m.extension::<Oob>().map(|o| o.url).as_deref(), Some("https://example.com/rose.jpg"));
//! assert_eq!(m.chat_state(), Some(ChatState::Active));
//! assert_eq!(m.receipt(), Some(Receipt::Request));
//! assert_eq!(m.delay().map(|d| d.stamp.to_string()).as_deref(), Some("2026-12-03T09:30:00Z"));
//!
//! let reply = m.reply().unwrap().body("lovely").extension(&ChatState::Active).build()?;
//! assert_eq!(
//!     reply.element().to_string(),
//!     "<message xmlns='jabber:client' to='juliet@example.com/balcony' type='chat'>\
//!      <body>lovely</body><thread>t7</thread>\
//!      <active xmlns='http://jabber.org/protocol/chatstates'/></message>"
//! );
//! # Ok::<(), jabber_proto::xml::BuildError>(())
//! ```

mod carbons;
mod chatstate;
mod conference;
mod encrypted;
mod envelope;
mod event;
mod expire;
mod oob;
mod receipt;
mod xroster;

pub use carbons::{
    CARBONS_NS, Carbon, CarbonDirection, FORWARD_NS, Forwarded, Private, disable_query,
    enable_query,
};
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
