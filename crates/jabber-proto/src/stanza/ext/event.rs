//! `jabber:x:event` (XEP-0022): requests for, and notices of, a message's offline
//! storage, delivery, display and a reply being composed.
//!
//! A request rides on the message itself (no `<id/>`); a notice is a message of its own,
//! without a body, naming the message it is about in `<id/>`. A notice without any event
//! cancels an earlier "composing".

use alloc::string::String;

use super::{Extension, child_string};
use crate::ns;
use crate::xml::{BuildError, Element, ElementRef};

crate::names::named_enum! {
    /// One of the four message events.
    pub enum Notice {
        /// Stored offline by the server.
        Offline => "offline",
        /// Delivered to the recipient's client.
        Delivered => "delivered",
        /// Shown to the recipient.
        Displayed => "displayed",
        /// The recipient is typing a reply.
        Composing => "composing",
    }
}

/// A `jabber:x:event` payload.
///
/// ```
/// use jabber_proto::stanza::ext::{Extension, MessageEvents, Notice};
/// let request = MessageEvents::request(&[Notice::Delivered, Notice::Composing]);
/// assert_eq!(
///     request.to_element()?.to_string(),
///     "<x xmlns='jabber:x:event'><delivered/><composing/></x>"
/// );
/// let notice = MessageEvents::notice(Notice::Delivered, "m1");
/// assert_eq!(
///     notice.to_element()?.to_string(),
///     "<x xmlns='jabber:x:event'><delivered/><id>m1</id></x>"
/// );
/// # Ok::<(), jabber_proto::xml::BuildError>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct MessageEvents {
    /// `<offline/>`.
    pub offline: bool,
    /// `<delivered/>`.
    pub delivered: bool,
    /// `<displayed/>`.
    pub displayed: bool,
    /// `<composing/>`.
    pub composing: bool,
    /// The id of the message a notice is about; `None` in a request.
    pub id: Option<String>,
}

impl MessageEvents {
    /// A request for these notices, to put on an outgoing message.
    pub fn request(notices: &[Notice]) -> MessageEvents {
        let mut e = MessageEvents::default();
        for n in notices {
            e.set(*n);
        }
        e
    }

    /// A notice about the message `id`.
    pub fn notice(notice: Notice, id: &str) -> MessageEvents {
        let mut e = MessageEvents::cancel(id);
        e.set(notice);
        e
    }

    /// Cancels an earlier "composing" about the message `id`.
    pub fn cancel(id: &str) -> MessageEvents {
        MessageEvents {
            id: Some(String::from(id)),
            ..MessageEvents::default()
        }
    }

    /// Whether this asks for notices (rather than gives one).
    pub fn is_request(&self) -> bool {
        self.id.is_none()
    }

    /// Whether `notice` is requested (or notified).
    pub fn has(&self, notice: Notice) -> bool {
        *self.flag(notice)
    }

    fn set(&mut self, notice: Notice) {
        *self.flag_mut(notice) = true;
    }

    fn flag(&self, notice: Notice) -> &bool {
        match notice {
            Notice::Offline => &self.offline,
            Notice::Delivered => &self.delivered,
            Notice::Displayed => &self.displayed,
            Notice::Composing => &self.composing,
        }
    }

    fn flag_mut(&mut self, notice: Notice) -> &mut bool {
        match notice {
            Notice::Offline => &mut self.offline,
            Notice::Delivered => &mut self.delivered,
            Notice::Displayed => &mut self.displayed,
            Notice::Composing => &mut self.composing,
        }
    }
}

impl Extension for MessageEvents {
    fn from_child(child: ElementRef<'_>) -> Option<MessageEvents> {
        if !child.is("x", ns::X_EVENT) {
            return None;
        }
        let mut e = MessageEvents::default();
        for n in Notice::ALL {
            if child.child(n.as_str(), ns::X_EVENT).is_some() {
                e.set(*n);
            }
        }
        // An empty <id/> still marks a notice (it cannot name a message, but it is not
        // a request either).
        e.id = child
            .child("id", ns::X_EVENT)
            .map(|_| child_string(child, "id", ns::X_EVENT).unwrap_or_default());
        Some(e)
    }

    fn to_element(&self) -> Result<Element, BuildError> {
        let mut b = Element::builder("x", ns::X_EVENT);
        for n in Notice::ALL.iter().filter(|n| self.has(**n)) {
            b = b.child(Element::builder(n.as_str(), ns::X_EVENT));
        }
        if let Some(id) = &self.id {
            b = b.child(Element::builder("id", ns::X_EVENT).text(id));
        }
        b.build()
    }
}
