//! Stanzas: `<message/>`, `<presence/>` and `<iq/>` as typed values over an [`Element`].
//!
//! Classification ([`Stanza::try_from`]) checks what every stanza must get right — its
//! type, its addresses, an IQ's id and payload count — once; the typed getters then read
//! the element without allocating.

mod delay;
mod error;
pub mod ext;
pub mod form;
mod iq;
mod message;
mod message_builder;
mod message_ext;
mod presence;
pub mod xhtml;

use alloc::borrow::Cow;
use core::fmt;

pub use delay::{Delay, DelayForm};
pub use error::{ErrorType, StanzaCondition, StanzaError};
pub use iq::{Iq, IqType};
pub use message::{Message, MessageType};
pub use message_builder::{ENCRYPTED_BODY, MessageBuilder};
pub use presence::{Presence, PresenceBuilder, PresenceType, Show};

use crate::jid::JidRef;
use crate::ns;
use crate::xml::Element;

/// A classified stanza.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Stanza {
    /// `<message/>`
    Message(Message),
    /// `<presence/>`
    Presence(Presence),
    /// `<iq/>`
    Iq(Iq),
}

/// Why an element is not a valid stanza.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum InvalidReason {
    /// Not `message`, `presence` or `iq` in `jabber:client`.
    NotAStanza,
    /// `from` is not a valid JID.
    BadFrom,
    /// `to` is not a valid JID.
    BadTo,
    /// `type` is not one this kind of stanza allows.
    BadType,
    /// An IQ without `id`.
    MissingId,
    /// An IQ get or set without exactly one payload element, or a result with more than one.
    BadPayload,
}

impl fmt::Display for InvalidReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            InvalidReason::NotAStanza => "not a stanza",
            InvalidReason::BadFrom => "invalid 'from' address",
            InvalidReason::BadTo => "invalid 'to' address",
            InvalidReason::BadType => "invalid 'type'",
            InvalidReason::MissingId => "IQ without 'id'",
            InvalidReason::BadPayload => "IQ with a wrong number of payload elements",
        })
    }
}

/// An element that could not be classified, handed back with the reason.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InvalidStanza {
    /// The element as received.
    pub element: Element,
    /// What is wrong with it.
    pub reason: InvalidReason,
}

impl fmt::Display for InvalidStanza {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid <{}/>: {}", self.element.name(), self.reason)
    }
}

impl core::error::Error for InvalidStanza {}

impl TryFrom<Element> for Stanza {
    type Error = InvalidStanza;

    fn try_from(element: Element) -> Result<Stanza, InvalidStanza> {
        enum Kind {
            Message(MessageType),
            Presence(PresenceType),
            Iq(IqType),
        }
        let head = Head::of(&element);
        let kind = check_addresses(&head).and_then(|()| match (element.ns(), element.name()) {
            (ns::CLIENT, "message") => Message::classify(head.kind).map(Kind::Message),
            (ns::CLIENT, "presence") => Presence::classify(head.kind).map(Kind::Presence),
            (ns::CLIENT, "iq") => Iq::classify(&element, head.kind, head.id).map(Kind::Iq),
            _ => Err(InvalidReason::NotAStanza),
        });
        match kind {
            Ok(Kind::Message(k)) => Ok(Stanza::Message(Message::from_parts(element, k))),
            Ok(Kind::Presence(k)) => Ok(Stanza::Presence(Presence::from_parts(element, k))),
            Ok(Kind::Iq(k)) => Ok(Stanza::Iq(Iq::from_parts(element, k))),
            Err(reason) => Err(InvalidStanza { element, reason }),
        }
    }
}

/// The attributes classification reads, found in one pass over the stanza's attributes
/// (a lookup of each would walk them again and again).
#[derive(Default)]
struct Head<'a> {
    from: Option<&'a str>,
    to: Option<&'a str>,
    kind: Option<&'a str>,
    id: Option<&'a str>,
}

impl<'a> Head<'a> {
    fn of(el: &'a Element) -> Head<'a> {
        let mut head = Head::default();
        for a in el.root().attrs().filter(|a| a.ns.is_empty()) {
            let slot = match a.name {
                "from" => &mut head.from,
                "to" => &mut head.to,
                "type" => &mut head.kind,
                "id" => &mut head.id,
                _ => continue,
            };
            // The first, as `Element::attr` finds it (parsed and built elements have no
            // duplicate attributes anyway).
            slot.get_or_insert(a.value);
        }
        head
    }
}

fn check_addresses(head: &Head<'_>) -> Result<(), InvalidReason> {
    if head.from.is_some_and(|f| JidRef::parse(f).is_err()) {
        return Err(InvalidReason::BadFrom);
    }
    if head.to.is_some_and(|t| JidRef::parse(t).is_err()) {
        return Err(InvalidReason::BadTo);
    }
    Ok(())
}

/// Getters every stanza has.
macro_rules! common_getters {
    ($ty:ident) => {
        impl $ty {
            /// The sender, as the server stamped it.
            pub fn from(&self) -> Option<$crate::jid::JidRef<'_>> {
                self.element
                    .attr("from")
                    .and_then(|f| $crate::jid::JidRef::parse(f).ok())
            }

            /// The addressee.
            pub fn to(&self) -> Option<$crate::jid::JidRef<'_>> {
                self.element
                    .attr("to")
                    .and_then(|t| $crate::jid::JidRef::parse(t).ok())
            }

            /// The stanza id.
            pub fn id(&self) -> Option<&str> {
                self.element.attr("id")
            }

            /// `xml:lang`, if set on the stanza.
            pub fn lang(&self) -> Option<&str> {
                self.element.root().lang()
            }

            /// The `<error/>` of a stanza of type error.
            pub fn error(&self) -> Option<$crate::stanza::StanzaError> {
                $crate::stanza::StanzaError::from_stanza(self.element.root())
            }

            /// The whole element.
            pub fn element(&self) -> &$crate::xml::Element {
                &self.element
            }

            /// The whole element, by value.
            pub fn into_element(self) -> $crate::xml::Element {
                self.element
            }
        }

        impl From<$ty> for $crate::xml::Element {
            fn from(s: $ty) -> $crate::xml::Element {
                s.element
            }
        }
    };
}
pub(crate) use common_getters;

/// The text of the child `name` in `jabber:client`, if present.
fn child_text<'a>(el: &'a Element, name: &str) -> Option<Cow<'a, str>> {
    el.child(name, ns::CLIENT).map(|c| c.text())
}
