//! Building messages: [`MessageBuilder`] can only produce a valid `<message/>`, and
//! replies keep their conversation's thread.

use alloc::string::String;
use alloc::vec::Vec;

use super::ext::{Encrypted, Extension, MessageEvents, Notice, Receipt};
use super::{Message, MessageType, StanzaError};
use crate::jid::Jid;
use crate::ns;
use crate::xml::{BuildError, Element};

/// The plain body an encrypted message carries for clients that cannot decrypt it.
pub const ENCRYPTED_BODY: &str = "This message is encrypted.";

/// A message being built; start from [`Message::chat`], [`Message::normal`],
/// [`Message::headline`], [`Message::groupchat`] or [`Message::reply`].
///
/// Error messages are not built here but answered with [`Message::error_reply`], so a
/// builder cannot make one without the message it answers.
///
/// ```
/// use jabber_proto::jid::Jid;
/// use jabber_proto::stanza::Message;
/// use jabber_proto::stanza::ext::ChatState;
/// let juliet = Jid::parse("juliet@example.com")?;
/// let m = Message::chat(&juliet)
///     .id("m1")
///     .body("Art thou not Romeo?")
///     .thread("e0ffe42b28561960c6b12b944a092794b9683a38")
///     .extension(&ChatState::Active)
///     .build()?;
/// assert_eq!(
///     m.element().to_string(),
///     "<message xmlns='jabber:client' to='juliet@example.com' type='chat' id='m1'>\
///      <body>Art thou not Romeo?</body>\
///      <thread>e0ffe42b28561960c6b12b944a092794b9683a38</thread>\
///      <active xmlns='http://jabber.org/protocol/chatstates'/></message>"
/// );
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[must_use]
pub struct MessageBuilder {
    kind: MessageType,
    to: Jid,
    id: Option<String>,
    subject: Option<String>,
    body: Option<String>,
    thread: Option<String>,
    encrypted: bool,
    children: Vec<Element>,
    error: Option<BuildError>,
}

impl MessageBuilder {
    pub(super) fn new(kind: MessageType, to: Jid) -> MessageBuilder {
        MessageBuilder {
            kind,
            to,
            id: None,
            subject: None,
            body: None,
            thread: None,
            encrypted: false,
            children: Vec::new(),
            error: None,
        }
    }

    /// With a stanza id.
    pub fn id(mut self, id: &str) -> MessageBuilder {
        self.id = Some(String::from(id));
        self
    }

    /// With a `<subject/>`.
    pub fn subject(mut self, subject: &str) -> MessageBuilder {
        self.subject = Some(String::from(subject));
        self
    }

    /// With a `<body/>` (replacing an earlier one).
    pub fn body(mut self, body: &str) -> MessageBuilder {
        self.body = Some(String::from(body));
        self
    }

    /// With a `/me` action as the body (XEP-0245): `me("waves")` is the body
    /// `/me waves`, which [`Message::me`] reads back.
    pub fn me(self, action: &str) -> MessageBuilder {
        let mut body = String::with_capacity(action.len() + 4);
        body.push_str("/me ");
        body.push_str(action);
        self.body(&body)
    }

    /// In the conversation `thread` (make one with
    /// [`Client::new_thread`](crate::client::Client::new_thread)).
    pub fn thread(mut self, thread: &str) -> MessageBuilder {
        self.thread = Some(String::from(thread));
        self
    }

    /// With an encrypted payload (`jabber:x:encrypted`). The body then explains the
    /// message is encrypted: [`ENCRYPTED_BODY`] unless [`body`](Self::body) sets
    /// another explanation (never the plain text!).
    pub fn encrypted(mut self, payload: &str) -> MessageBuilder {
        self.encrypted = true;
        self.extension(&Encrypted {
            payload: String::from(payload),
        })
    }

    /// With an extension payload, after the ones added before.
    pub fn extension(mut self, ext: &impl Extension) -> MessageBuilder {
        match ext.to_element() {
            Ok(el) => self.children.push(el),
            Err(e) => {
                self.error.get_or_insert(e);
            }
        }
        self
    }

    /// The message; an error only when a text holds characters XML cannot carry.
    pub fn build(self) -> Result<Message, BuildError> {
        if let Some(e) = self.error {
            return Err(e);
        }
        let mut b = Element::builder("message", ns::CLIENT).attr("to", self.to.as_str());
        if self.kind != MessageType::Normal {
            b = b.attr("type", self.kind.as_str());
        }
        if let Some(id) = &self.id {
            b = b.attr("id", id);
        }
        if let Some(subject) = &self.subject {
            b = b.child(Element::builder("subject", ns::CLIENT).text(subject));
        }
        let body = match (&self.body, self.encrypted) {
            (Some(body), _) => Some(body.as_str()),
            (None, true) => Some(ENCRYPTED_BODY),
            (None, false) => None,
        };
        if let Some(body) = body {
            b = b.child(Element::builder("body", ns::CLIENT).text(body));
        }
        if let Some(thread) = &self.thread {
            b = b.child(Element::builder("thread", ns::CLIENT).text(thread));
        }
        let element = b.children(self.children).build()?;
        Ok(Message::from_parts(element, self.kind))
    }
}

impl Message {
    /// A one-to-one chat message to `to`.
    pub fn chat(to: &Jid) -> MessageBuilder {
        MessageBuilder::new(MessageType::Chat, to.clone())
    }

    /// A standalone message to `to` (no `type`).
    pub fn normal(to: &Jid) -> MessageBuilder {
        MessageBuilder::new(MessageType::Normal, to.clone())
    }

    /// An alert or notification to `to`; no reply expected.
    pub fn headline(to: &Jid) -> MessageBuilder {
        MessageBuilder::new(MessageType::Headline, to.clone())
    }

    /// A message to everyone in the chat room `room` (its bare address: a resource, a
    /// nickname, is dropped).
    pub fn groupchat(room: &Jid) -> MessageBuilder {
        MessageBuilder::new(MessageType::Groupchat, room.to_bare())
    }

    /// A reply: to the sender (to the room, for a groupchat message), of the same type,
    /// in the same thread. `None` for an error message (errors are not answered), a
    /// headline (no reply expected; RFC 6121 §5.2.2) or a message without a sender.
    ///
    /// ```
    /// use jabber_proto::stanza::{Message, Stanza};
    /// use jabber_proto::xml::Element;
    /// let received = Element::builder("message", "jabber:client")
    ///     .attr("from", "juliet@example.com/balcony")
    ///     .attr("type", "chat")
    ///     .child(Element::builder("body", "jabber:client").text("Wherefore art thou?"))
    ///     .child(Element::builder("thread", "jabber:client").text("t1"))
    ///     .build()?;
    /// let Ok(Stanza::Message(m)) = Stanza::try_from(received) else { unreachable!() };
    /// let reply = m.reply().unwrap().body("Here.").build()?;
    /// assert_eq!(
    ///     reply.element().to_string(),
    ///     "<message xmlns='jabber:client' to='juliet@example.com/balcony' type='chat'>\
    ///      <body>Here.</body><thread>t1</thread></message>"
    /// );
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn reply(&self) -> Option<MessageBuilder> {
        let from = self.from()?;
        let to = match self.kind() {
            MessageType::Error | MessageType::Headline => return None,
            MessageType::Groupchat => from.bare().to_owned_jid(),
            _ => from.to_owned_jid(),
        };
        let mut b = MessageBuilder::new(self.kind(), to);
        if let Some(thread) = self.thread() {
            b = b.thread(&thread);
        }
        Some(b)
    }

    /// The receipt this message asks for (XEP-0184): `<received/>` with its id, to its
    /// sender. `None` unless it has a sender and an id and carries `<request/>`; never
    /// for an error or a groupchat message (the room would broadcast it; XEP-0184 §5),
    /// nor for a message that is itself a receipt (two clients would answer each other
    /// forever).
    ///
    /// Returning receipts tells the sender we are online: XEP-0184 §8 says to answer
    /// only senders allowed to see our presence, which is the application's call.
    pub fn receipt_answer(&self) -> Option<MessageBuilder> {
        let (to, id) = self.answerable()?;
        let mut requested = false;
        for r in self.extensions::<Receipt>() {
            match r {
                Receipt::Request => requested = true,
                Receipt::Received(_) => return None,
            }
        }
        requested.then(|| {
            MessageBuilder::new(MessageType::Normal, to)
                .extension(&Receipt::Received(Some(String::from(id))))
        })
    }

    /// The `jabber:x:event` notice (XEP-0022) this message asks for: `notice` about its
    /// id, to its sender. `None` unless it has a sender and an id and its
    /// `jabber:x:event` requests `notice`; never for an error or a groupchat message.
    pub fn event_notice(&self, notice: Notice) -> Option<MessageBuilder> {
        let (to, id) = self.answerable()?;
        let events = self.events()?;
        (events.is_request() && events.has(notice)).then(|| {
            MessageBuilder::new(MessageType::Normal, to)
                .extension(&MessageEvents::notice(notice, id))
        })
    }

    /// The sender and id an answer needs, unless the message is one that is never
    /// answered.
    fn answerable(&self) -> Option<(Jid, &str)> {
        if matches!(self.kind(), MessageType::Error | MessageType::Groupchat) {
            return None;
        }
        let id = self.id().filter(|id| !id.is_empty())?;
        Some((self.from()?.to_owned_jid(), id))
    }

    /// The error message answering this one (RFC 6121 §5.2.2, the classic "error
    /// reply"): to its sender, with its id, its subject, body and thread, and `error`
    /// with its classic code (derived from the condition when `error` has none). `None`
    /// for an error message: errors are never answered with errors (RFC 6120 §8.3.1).
    pub fn error_reply(&self, error: &StanzaError) -> Option<Result<Message, BuildError>> {
        if self.kind() == MessageType::Error {
            return None;
        }
        let root = self.element().root();
        let mut b = Element::builder("message", ns::CLIENT);
        if let Some(from) = root.attr("from") {
            b = b.attr("to", from);
        }
        if let Some(id) = root.attr("id") {
            b = b.attr("id", id);
        }
        b = b.attr("type", "error");
        for name in ["subject", "body", "thread"] {
            if let Some(c) = root.child(name, ns::CLIENT) {
                b = b.child(c);
            }
        }
        let mut error = error.clone();
        if error.code.is_none() {
            error.code = error.condition.code();
        }
        let built = error
            .to_element(ns::CLIENT)
            .and_then(|e| b.child(e).build())
            .map(|element| Message::from_parts(element, MessageType::Error));
        Some(built)
    }
}
