//! `jabber:x:envelope`: e-mail-like addressing of the classic protocol — names for
//! sender and recipients, several recipients, carbon copies, and who forwarded a
//! message.

use alloc::string::String;
use alloc::vec::Vec;

use super::Extension;
use crate::jid::{Jid, JidRef};
use crate::ns;
use crate::xml::{BuildError, Element, ElementRef};

crate::names::named_enum! {
    /// What an address is to the message.
    pub enum AddressRole {
        /// The original sender.
        From => "from",
        /// A recipient.
        To => "to",
        /// A recipient in copy.
        Cc => "cc",
        /// A hidden recipient.
        Bcc => "bcc",
        /// Where replies should go.
        ReplyTo => "replyto",
        /// Who forwarded the message.
        ForwardedBy => "forwardedby",
    }
}

/// One address of an envelope.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Address {
    /// Its role.
    pub role: AddressRole,
    /// The address.
    pub jid: Jid,
    /// A display name.
    pub name: Option<String>,
}

/// The addresses of an envelope, in document order. Entries whose role is unknown or
/// whose `jid` is not a valid JID are skipped.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Envelope {
    /// The addresses.
    pub addresses: Vec<Address>,
}

impl Envelope {
    /// The addresses in `role`.
    pub fn with_role(&self, role: AddressRole) -> impl Iterator<Item = &Address> {
        self.addresses.iter().filter(move |a| a.role == role)
    }

    /// Whether the message says it was forwarded.
    pub fn is_forwarded(&self) -> bool {
        self.with_role(AddressRole::ForwardedBy).next().is_some()
    }
}

impl Extension for Envelope {
    fn from_child(child: ElementRef<'_>) -> Option<Envelope> {
        if !child.is("x", ns::X_ENVELOPE) {
            return None;
        }
        let addresses = child
            .children()
            .filter(|c| c.ns() == ns::X_ENVELOPE)
            .filter_map(|c| {
                Some(Address {
                    role: AddressRole::from_name(c.name())?,
                    jid: JidRef::parse(c.attr("jid")?).ok()?.to_owned_jid(),
                    name: c.attr("name").map(String::from),
                })
            })
            .collect();
        Some(Envelope { addresses })
    }

    fn to_element(&self) -> Result<Element, BuildError> {
        let children = self.addresses.iter().map(|a| {
            let b = Element::builder(a.role.as_str(), ns::X_ENVELOPE).attr("jid", a.jid.as_str());
            match &a.name {
                Some(name) => b.attr("name", name),
                None => b,
            }
        });
        Element::builder("x", ns::X_ENVELOPE)
            .children(children)
            .build()
    }
}
