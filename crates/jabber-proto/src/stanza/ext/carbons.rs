//! Message carbons (XEP-0280) and the forwarding wrapper they use (XEP-0297): the
//! payloads that enable them, the `<private/>` marker that keeps a message out of them,
//! and the copies the server sends (`<sent/>`, `<received/>`), read into a [`Carbon`].
//!
//! Reading a copy says nothing about whether to trust it: only a copy from the account's
//! own bare JID is one (XEP-0280 §11). The client checks that before it reports a copy
//! ([`CarbonEvent`](crate::client::CarbonEvent)).

use super::Extension;
use crate::stanza::{Delay, Message, MessageBuilder, Stanza};
use crate::xml::{BuildError, Element, ElementRef};

/// The carbons namespace, XEP-0280 (version 2).
pub const CARBONS_NS: &str = "urn:xmpp:carbons:2";
/// The forwarding wrapper's namespace, XEP-0297.
pub const FORWARD_NS: &str = "urn:xmpp:forward:0";

/// `<private xmlns='urn:xmpp:carbons:2'/>`: the server sends no carbon of this message to
/// our other resources (XEP-0280 §6). Added with [`MessageBuilder::private`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Private;

impl Extension for Private {
    fn from_child(child: ElementRef<'_>) -> Option<Private> {
        child.is("private", CARBONS_NS).then_some(Private)
    }

    fn to_element(&self) -> Result<Element, BuildError> {
        Element::builder("private", CARBONS_NS).build()
    }
}

impl MessageBuilder {
    /// Keeps the message out of carbons: our other resources get no copy of it
    /// (`<private xmlns='urn:xmpp:carbons:2'/>`, XEP-0280 §6).
    ///
    /// ```
    /// use jabber_proto::jid::Jid;
    /// use jabber_proto::stanza::Message;
    /// let m = Message::chat(&Jid::parse("juliet@example.com")?).body("psst").private().build()?;
    /// assert_eq!(
    ///     m.element().to_string(),
    ///     "<message xmlns='jabber:client' to='juliet@example.com' type='chat'>\
    ///      <body>psst</body><private xmlns='urn:xmpp:carbons:2'/></message>"
    /// );
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn private(self) -> MessageBuilder {
        self.extension(&Private)
    }
}

/// Which way a carbon's message went.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CarbonDirection {
    /// Another resource of ours sent it (`<sent/>`).
    Sent,
    /// Another resource of ours received it (`<received/>`).
    Received,
}

impl CarbonDirection {
    /// The wrapper's element name: `sent` or `received`.
    pub fn as_str(self) -> &'static str {
        match self {
            CarbonDirection::Sent => "sent",
            CarbonDirection::Received => "received",
        }
    }
}

/// A forwarded message (XEP-0297): the message as it was, and when it was first sent if
/// the forwarder said so.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Forwarded {
    /// The message forwarded, untouched (its own `from` and `to`).
    pub message: Message,
    /// The `<delay/>` of the wrapper (not the message's own, which
    /// [`Message::delay`] reads).
    pub delay: Option<Delay>,
}

impl Forwarded {
    /// The forwarded message in `<forwarded xmlns='urn:xmpp:forward:0'/>`; `None` when
    /// `el` is not one or holds no valid `jabber:client` message.
    pub fn from_element(el: ElementRef<'_>) -> Option<Forwarded> {
        if !el.is("forwarded", FORWARD_NS) {
            return None;
        }
        let inner = el.child("message", crate::ns::CLIENT)?;
        let Ok(Stanza::Message(message)) = Stanza::try_from(inner.to_element()) else {
            return None;
        };
        let delay = el
            .children()
            .find(|c| c.is("delay", crate::ns::DELAY))
            .and_then(Delay::from_element);
        Some(Forwarded { message, delay })
    }

    /// The wrapper: `<forwarded xmlns='urn:xmpp:forward:0'>`, the delay first, then the
    /// message.
    pub fn to_element(&self) -> Result<Element, BuildError> {
        let mut b = Element::builder("forwarded", FORWARD_NS);
        if let Some(delay) = &self.delay {
            b = b.child(delay.to_element(crate::stanza::DelayForm::Modern)?);
        }
        b.child(self.message.element()).build()
    }
}

/// A carbon copy as read from its message, before any trust decision.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Carbon {
    /// Sent or received by another resource.
    pub direction: CarbonDirection,
    /// The copied message; `None` when the wrapper held none that could be read.
    pub forwarded: Option<Forwarded>,
}

impl Carbon {
    /// The carbon `message` wraps (its first `<sent/>` or `<received/>` in
    /// [`CARBONS_NS`]); `None` when it is not a carbon.
    ///
    /// ```
    /// use jabber_proto::stanza::ext::{Carbon, CarbonDirection};
    /// use jabber_proto::stanza::{Message, Stanza};
    /// use jabber_proto::xml::Element;
    /// # fn parse(xml: &str) -> Message {
    /// #     use jabber_proto::stream::{Item, StreamParser};
    /// #     let mut p = StreamParser::new(Default::default());
    /// #     p.push(b"<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>");
    /// #     p.push(xml.as_bytes());
    /// #     let _ = p.next_item();
    /// #     let Some(Ok(Item::Element(el))) = p.next_item() else { unreachable!() };
    /// #     let Ok(Stanza::Message(m)) = Stanza::try_from(el) else { unreachable!() };
    /// #     m
    /// # }
    /// let m = parse("<message from='romeo@example.net' to='romeo@example.net/home'>\
    ///     <sent xmlns='urn:xmpp:carbons:2'><forwarded xmlns='urn:xmpp:forward:0'>\
    ///     <message xmlns='jabber:client' to='juliet@example.com' type='chat'>\
    ///     <body>hi</body></message></forwarded></sent></message>");
    /// let carbon = Carbon::of(&m).unwrap();
    /// assert_eq!(carbon.direction, CarbonDirection::Sent);
    /// assert_eq!(carbon.forwarded.unwrap().message.body().as_deref(), Some("hi"));
    /// ```
    pub fn of(message: &Message) -> Option<Carbon> {
        message.element().root().children().find_map(|c| {
            let direction = match c.name() {
                "sent" if c.ns() == CARBONS_NS => CarbonDirection::Sent,
                "received" if c.ns() == CARBONS_NS => CarbonDirection::Received,
                _ => return None,
            };
            let forwarded = c.children().find_map(Forwarded::from_element);
            Some(Carbon {
                direction,
                forwarded,
            })
        })
    }

    /// The wrapper as the server sends it inside a message: `<sent/>` or `<received/>`
    /// around the forwarded message.
    pub fn to_element(&self) -> Result<Element, BuildError> {
        let mut b = Element::builder(self.direction.as_str(), CARBONS_NS);
        if let Some(f) = &self.forwarded {
            b = b.child(f.to_element()?);
        }
        b.build()
    }
}

/// The payload that turns carbons on for this resource:
/// `<enable xmlns='urn:xmpp:carbons:2'/>` (XEP-0280 §4).
pub fn enable_query() -> Result<Element, BuildError> {
    Element::builder("enable", CARBONS_NS).build()
}

/// The payload that turns them off again: `<disable xmlns='urn:xmpp:carbons:2'/>`.
pub fn disable_query() -> Result<Element, BuildError> {
    Element::builder("disable", CARBONS_NS).build()
}
