//! `<message/>` (RFC 6121 §5).

use alloc::borrow::Cow;

use super::{InvalidReason, child_text, common_getters};
use crate::jid::Jid;
use crate::ns;
use crate::xml::{BuildError, Element};

crate::names::named_enum! {
    /// The `type` of a message; absent or unknown means `normal` (RFC 6121 §5.2.2).
    pub enum MessageType {
        /// A one-to-one chat line.
        Chat => "chat",
        /// An error reply.
        Error => "error",
        /// A line in a multi-user chat.
        Groupchat => "groupchat",
        /// An alert or notification; no reply expected.
        Headline => "headline",
        /// A standalone message (the default).
        Normal => "normal",
    }
}

/// A `<message/>` stanza.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message {
    element: Element,
    kind: MessageType,
}

common_getters!(Message);

impl Message {
    /// `kind`: the `type` attribute.
    pub(super) fn classify(kind: Option<&str>) -> Result<MessageType, InvalidReason> {
        Ok(kind
            .and_then(MessageType::from_name)
            .unwrap_or(MessageType::Normal))
    }

    pub(super) fn from_parts(element: Element, kind: MessageType) -> Message {
        Message { element, kind }
    }

    /// A message of `kind` to `to` with a body.
    ///
    /// ```
    /// use jabber_proto::jid::Jid;
    /// use jabber_proto::stanza::{Message, MessageType};
    /// let to = Jid::parse("juliet@example.com").unwrap();
    /// let m = Message::new(MessageType::Chat, &to, "hello").unwrap();
    /// assert_eq!(m.body().as_deref(), Some("hello"));
    /// assert_eq!(m.to().unwrap(), to);
    /// ```
    pub fn new(kind: MessageType, to: &Jid, body: &str) -> Result<Message, BuildError> {
        let mut b = Element::builder("message", ns::CLIENT).attr("to", to.as_str());
        if kind != MessageType::Normal {
            b = b.attr("type", kind.as_str());
        }
        let element = b
            .child(Element::builder("body", ns::CLIENT).text(body))
            .build()?;
        Ok(Message { element, kind })
    }

    /// The same message with the stanza id `id` (replacing any it had).
    ///
    /// ```
    /// use jabber_proto::jid::Jid;
    /// use jabber_proto::stanza::{Message, MessageType};
    /// let to = Jid::parse("juliet@example.com").unwrap();
    /// let m = Message::new(MessageType::Chat, &to, "hi").unwrap().with_id("m1").unwrap();
    /// assert_eq!(m.id(), Some("m1"));
    /// assert_eq!(
    ///     m.element().to_string(),
    ///     "<message xmlns='jabber:client' to='juliet@example.com' type='chat' id='m1'><body>hi</body></message>"
    /// );
    /// ```
    pub fn with_id(self, id: &str) -> Result<Message, BuildError> {
        let root = self.element.root();
        let mut b = Element::builder("message", ns::CLIENT);
        for a in root.attrs().filter(|a| a.name != "id" || !a.ns.is_empty()) {
            b = if a.ns.is_empty() {
                b.attr(a.name, a.value)
            } else {
                b.attr_ns(a.name, a.ns, a.value)
            };
        }
        // Text directly inside <message/> is only white space between children.
        let element = b.attr("id", id).children(root.children()).build()?;
        Ok(Message {
            element,
            kind: self.kind,
        })
    }

    /// The message type.
    pub fn kind(&self) -> MessageType {
        self.kind
    }

    /// The first `<body/>`.
    pub fn body(&self) -> Option<Cow<'_, str>> {
        child_text(&self.element, "body")
    }

    /// The `<subject/>`.
    pub fn subject(&self) -> Option<Cow<'_, str>> {
        child_text(&self.element, "subject")
    }

    /// The `<thread/>`.
    pub fn thread(&self) -> Option<Cow<'_, str>> {
        child_text(&self.element, "thread")
    }
}
