//! `<presence/>` (RFC 6121 §3 and §4).

use alloc::borrow::Cow;

use super::{InvalidReason, child_text, common_getters};
use crate::ns;
use crate::xml::Element;

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
    pub(super) fn classify(el: &Element) -> Result<PresenceType, InvalidReason> {
        match el.attr("type") {
            None => Ok(PresenceType::Available),
            Some("") => Err(InvalidReason::BadType),
            Some(t) => PresenceType::from_name(t).ok_or(InvalidReason::BadType),
        }
    }

    pub(super) fn from_parts(element: Element, kind: PresenceType) -> Presence {
        Presence { element, kind }
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
