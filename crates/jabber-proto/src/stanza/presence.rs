//! `<presence/>` (RFC 6121 §3 and §4).

use alloc::borrow::Cow;
use alloc::string::String;
use core::fmt::Write as _;

use super::{InvalidReason, child_text, common_getters};
use crate::jid::Jid;
use crate::ns;
use crate::xml::{BuildError, Element};

crate::names::named_enum! {
    /// The `type` of a presence; absent means available.
    pub enum PresenceType {
        /// No `type`: the sender is available.
        Available => "",
        /// An error reply.
        Error => "error",
        /// A request for the recipient's current presence.
        Probe => "probe",
        /// A request to subscribe to the recipient's presence.
        Subscribe => "subscribe",
        /// The subscription request was approved.
        Subscribed => "subscribed",
        /// The sender is no longer available.
        Unavailable => "unavailable",
        /// The sender unsubscribes from the recipient's presence.
        Unsubscribe => "unsubscribe",
        /// A subscription was denied or cancelled.
        Unsubscribed => "unsubscribed",
    }
}

crate::names::named_enum! {
    /// Availability detail of an available presence.
    pub enum Show {
        /// Temporarily away.
        Away => "away",
        /// Free to chat.
        Chat => "chat",
        /// Do not disturb.
        Dnd => "dnd",
        /// Extended away.
        Xa => "xa",
    }
}

/// A `<presence/>` stanza.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Presence {
    element: Element,
    kind: PresenceType,
}

common_getters!(Presence);

impl Presence {
    /// `kind`: the `type` attribute.
    pub(super) fn classify(kind: Option<&str>) -> Result<PresenceType, InvalidReason> {
        match kind {
            None => Ok(PresenceType::Available),
            Some("") => Err(InvalidReason::BadType),
            Some(t) => PresenceType::from_name(t).ok_or(InvalidReason::BadType),
        }
    }

    pub(super) fn from_parts(element: Element, kind: PresenceType) -> Presence {
        Presence { element, kind }
    }

    /// Available presence, to broadcast (or, with [`PresenceBuilder::to`], directed).
    ///
    /// ```
    /// use jabber_proto::stanza::{Presence, Show};
    /// let p = Presence::available().show(Show::Away).status("lunch").priority(5).build()?;
    /// assert_eq!(
    ///     p.element().to_string(),
    ///     "<presence xmlns='jabber:client'><show>away</show><status>lunch</status><priority>5</priority></presence>"
    /// );
    /// # Ok::<(), jabber_proto::xml::BuildError>(())
    /// ```
    pub fn available() -> PresenceBuilder {
        PresenceBuilder::new(PresenceType::Available, None)
    }

    /// Unavailable presence: we go offline (or, the cheat sheet's "invisible", withdraw
    /// our presence while staying connected).
    pub fn unavailable() -> PresenceBuilder {
        PresenceBuilder::new(PresenceType::Unavailable, None)
    }

    /// A request to subscribe to `to`'s presence (RFC 6121 §3.1).
    ///
    /// ```
    /// use jabber_proto::jid::Jid;
    /// use jabber_proto::stanza::Presence;
    /// let romeo = Jid::parse("romeo@example.net")?;
    /// let p = Presence::subscribe(&romeo).build()?;
    /// assert_eq!(
    ///     p.element().to_string(),
    ///     "<presence xmlns='jabber:client' to='romeo@example.net' type='subscribe'/>"
    /// );
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn subscribe(to: &Jid) -> PresenceBuilder {
        PresenceBuilder::new(PresenceType::Subscribe, Some(to))
    }

    /// Approves `to`'s subscription request (RFC 6121 §3.1.4).
    pub fn subscribed(to: &Jid) -> PresenceBuilder {
        PresenceBuilder::new(PresenceType::Subscribed, Some(to))
    }

    /// Unsubscribes from `to`'s presence (RFC 6121 §3.3).
    pub fn unsubscribe(to: &Jid) -> PresenceBuilder {
        PresenceBuilder::new(PresenceType::Unsubscribe, Some(to))
    }

    /// Denies or cancels `to`'s subscription to our presence (RFC 6121 §3.2).
    pub fn unsubscribed(to: &Jid) -> PresenceBuilder {
        PresenceBuilder::new(PresenceType::Unsubscribed, Some(to))
    }

    /// The presence type.
    pub fn kind(&self) -> PresenceType {
        self.kind
    }

    /// `<show/>`, when it holds a defined value.
    pub fn show(&self) -> Option<Show> {
        self.element
            .child("show", ns::CLIENT)
            .and_then(|s| Show::from_name(s.text().trim()))
    }

    /// The first `<status/>`.
    pub fn status(&self) -> Option<Cow<'_, str>> {
        child_text(&self.element, "status")
    }

    /// `<priority/>`: -128..=127; 0 when absent or invalid (RFC 6121 §4.7.2.3).
    pub fn priority(&self) -> i8 {
        child_text(&self.element, "priority")
            .and_then(|p| p.trim().parse().ok())
            .unwrap_or(0)
    }
}

/// A presence being built; see [`Presence::available`] and its siblings.
#[derive(Clone, Debug, PartialEq, Eq)]
#[must_use]
pub struct PresenceBuilder {
    kind: PresenceType,
    to: Option<Jid>,
    id: Option<String>,
    show: Option<Show>,
    status: Option<String>,
    priority: Option<i8>,
}

impl PresenceBuilder {
    fn new(kind: PresenceType, to: Option<&Jid>) -> PresenceBuilder {
        PresenceBuilder {
            kind,
            to: to.cloned(),
            id: None,
            show: None,
            status: None,
            priority: None,
        }
    }

    /// Directed to `to` rather than broadcast to our contacts (RFC 6121 §4.6).
    pub fn to(mut self, to: &Jid) -> PresenceBuilder {
        self.to = Some(to.clone());
        self
    }

    /// With a stanza id.
    pub fn id(mut self, id: &str) -> PresenceBuilder {
        self.id = Some(String::from(id));
        self
    }

    /// With `<show/>` (available presence only; ignored on other types).
    pub fn show(mut self, show: Show) -> PresenceBuilder {
        self.show = Some(show);
        self
    }

    /// With a `<status/>` text.
    pub fn status(mut self, status: &str) -> PresenceBuilder {
        self.status = Some(String::from(status));
        self
    }

    /// With a `<priority/>` (-128..=127; RFC 6121 §4.7.2.3).
    pub fn priority(mut self, priority: i8) -> PresenceBuilder {
        self.priority = Some(priority);
        self
    }

    /// The presence; an error only when a text holds characters XML cannot carry.
    pub fn build(self) -> Result<Presence, BuildError> {
        let mut b = Element::builder("presence", ns::CLIENT);
        if let Some(to) = &self.to {
            b = b.attr("to", to.as_str());
        }
        if let Some(id) = &self.id {
            b = b.attr("id", id);
        }
        if self.kind != PresenceType::Available {
            b = b.attr("type", self.kind.as_str());
        }
        if let Some(show) = self.show.filter(|_| self.kind == PresenceType::Available) {
            b = b.child(Element::builder("show", ns::CLIENT).text(show.as_str()));
        }
        if let Some(status) = &self.status {
            b = b.child(Element::builder("status", ns::CLIENT).text(status));
        }
        if let Some(priority) = self.priority {
            let mut text = String::new();
            let _ = write!(text, "{priority}");
            b = b.child(Element::builder("priority", ns::CLIENT).text(&text));
        }
        Ok(Presence {
            element: b.build()?,
            kind: self.kind,
        })
    }
}
