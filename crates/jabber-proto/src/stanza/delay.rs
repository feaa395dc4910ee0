//! Delayed delivery: when a stanza was first sent, as a server that stored it (or a
//! contact's last presence) says. Both forms become one [`Delay`]: XEP-0203
//! (`urn:xmpp:delay`, XEP-0082 dates, what servers send today) and the classic
//! `jabber:x:delay` (XEP-0091, `CCYYMMDDThh:mm:ss` in UTC).

use alloc::string::String;

use super::ext::Extension;
use crate::jid::{Jid, JidRef};
use crate::ns;
use crate::time::Timestamp;
use crate::xml::{BuildError, Element, ElementRef};

/// Which element a delay stamp is written as.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DelayForm {
    /// `<delay xmlns='urn:xmpp:delay'/>` (XEP-0203), to the millisecond.
    Modern,
    /// `<x xmlns='jabber:x:delay'/>` (XEP-0091), to the second.
    Legacy,
}

/// A delay stamp.
///
/// ```
/// use jabber_proto::stanza::{Delay, DelayForm};
/// use jabber_proto::time::Timestamp;
/// let stamp = Timestamp::parse("2002-09-10T23:08:25Z").unwrap();
/// let d = Delay::new(stamp).with_reason("Offline Storage");
/// assert_eq!(
///     d.to_element(DelayForm::Legacy)?.to_string(),
///     "<x xmlns='jabber:x:delay' stamp='20020910T23:08:25'>Offline Storage</x>"
/// );
/// # Ok::<(), jabber_proto::xml::BuildError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Delay {
    /// When the stanza was first sent (UTC).
    pub stamp: Timestamp,
    /// Who delayed it (a server storing it offline, say), if given and a valid JID.
    pub from: Option<Jid>,
    /// Why, as human-readable text, if given and not empty.
    pub reason: Option<String>,
    /// The form it came in (or will be written in by default).
    pub form: DelayForm,
}

impl Delay {
    /// A stamp without `from` or reason, in the modern form.
    pub fn new(stamp: Timestamp) -> Delay {
        Delay {
            stamp,
            from: None,
            reason: None,
            form: DelayForm::Modern,
        }
    }

    /// With who delayed it.
    pub fn with_from(mut self, from: &Jid) -> Delay {
        self.from = Some(from.clone());
        self
    }

    /// With a reason.
    pub fn with_reason(mut self, reason: &str) -> Delay {
        self.reason = Some(String::from(reason));
        self
    }

    /// The delay stamp of a stanza: the first valid `urn:xmpp:delay` one, else the first
    /// valid `jabber:x:delay` one. A stamp that does not parse counts as absent.
    pub fn of_stanza(stanza: ElementRef<'_>) -> Option<Delay> {
        let mut legacy = None;
        for child in stanza.children() {
            if child.is("delay", ns::DELAY) {
                if let Some(d) = Delay::from_element(child) {
                    return Some(d);
                }
            } else if legacy.is_none() && child.is("x", ns::X_DELAY) {
                legacy = Delay::from_element(child);
            }
        }
        legacy
    }

    /// One delay element, in either form.
    pub fn from_element(el: ElementRef<'_>) -> Option<Delay> {
        let (form, stamp) = if el.is("delay", ns::DELAY) {
            (DelayForm::Modern, Timestamp::parse(el.attr("stamp")?)?)
        } else if el.is("x", ns::X_DELAY) {
            (
                DelayForm::Legacy,
                Timestamp::parse_legacy(el.attr("stamp")?)?,
            )
        } else {
            return None;
        };
        let from = el
            .attr("from")
            .and_then(|f| JidRef::parse(f).ok())
            .map(|j| j.to_owned_jid());
        let text = el.text();
        let reason = (!text.is_empty()).then(|| String::from(text));
        Some(Delay {
            stamp,
            from,
            reason,
            form,
        })
    }

    /// The element, in `form`; an error only when the reason holds characters XML
    /// cannot carry.
    pub fn to_element(&self, form: DelayForm) -> Result<Element, BuildError> {
        let mut b = match form {
            DelayForm::Modern => Element::builder("delay", ns::DELAY),
            DelayForm::Legacy => Element::builder("x", ns::X_DELAY),
        };
        if let Some(from) = &self.from {
            b = b.attr("from", from.as_str());
        }
        b = match form {
            DelayForm::Modern => b.attr("stamp", &self.stamp.to_xep0082()),
            DelayForm::Legacy => b.attr("stamp", &self.stamp.to_legacy()),
        };
        if let Some(reason) = &self.reason {
            b = b.text(reason);
        }
        b.build()
    }
}

/// As a payload, a delay stamp is written in its own [`form`](Delay::form), so a stamp
/// can ride on a message ([`MessageBuilder::extension`](super::MessageBuilder::extension))
/// in either form.
impl Extension for Delay {
    fn from_child(child: ElementRef<'_>) -> Option<Delay> {
        Delay::from_element(child)
    }

    fn to_element(&self) -> Result<Element, BuildError> {
        Delay::to_element(self, self.form)
    }
}
