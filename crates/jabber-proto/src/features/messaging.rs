//! Incoming messages: expiry (`jabber:x:expire`) and the opt-in automatic answers —
//! delivery receipts (XEP-0184) and `jabber:x:event`'s "delivered" (XEP-0022).
//!
//! Everything else a message carries is read by the application through the lazy
//! getters of [`Message`]; a message that needs none of this is handed on untouched.
//!
//! Expiry needs the wall clock, which the core never reads: the application (or its
//! adapter) tells it the current UTC with
//! [`Client::set_utc`](crate::client::Client::set_utc), once or whenever its clock is
//! corrected. The core keeps only the offset between that UTC and its own
//! [`Instant`]s, so time then moves on with every `now` it is given. Until then no
//! message is judged expired.

use crate::client::{AutoAnswers, Cx, StanzaEvent};
use crate::ns;
use crate::stanza::ext::{Extension, MessageEvents, Receipt};
use crate::stanza::{Message, MessageType};
use crate::time::{Instant, Timestamp};
use crate::xml::Element;

/// The UTC of the caller's time origin, [`Instant::ZERO`], in Unix milliseconds;
/// [`UNKNOWN`] until the application says. One word, no heap.
#[derive(Debug)]
pub(crate) struct Messaging {
    utc_at_origin: i64,
}

const UNKNOWN: i64 = i64::MIN;

impl Default for Messaging {
    fn default() -> Messaging {
        Messaging {
            utc_at_origin: UNKNOWN,
        }
    }
}

impl Messaging {
    /// `utc` is the wall-clock time at `now`.
    pub(crate) fn set_utc(&mut self, now: Instant, utc: Timestamp) {
        let now = i64::try_from(now.as_millis()).unwrap_or(i64::MAX);
        self.utc_at_origin = utc.unix_millis().saturating_sub(now);
    }

    /// The wall-clock time at `now`, if the application gave one.
    pub(crate) fn utc(&self, now: Instant) -> Option<Timestamp> {
        if self.utc_at_origin == UNKNOWN {
            return None;
        }
        let now = i64::try_from(now.as_millis()).unwrap_or(i64::MAX);
        let ms = self.utc_at_origin.saturating_add(now);
        Some(Timestamp::from_unix_millis(ms).unwrap_or(if ms < 0 {
            Timestamp::MIN
        } else {
            Timestamp::MAX
        }))
    }

    /// A message arrived: reported as expired, or answered as configured and reported.
    pub(crate) fn on_message(&mut self, cx: &mut Cx, m: Message) {
        if let Some(utc) = self.utc(cx.now) {
            if m.is_expired(utc) {
                // Not delivered as fresh, so not acknowledged either.
                return cx.push(StanzaEvent::ExpiredMessage(m));
            }
        }
        if !cx.config.auto_answers.is_empty() {
            answer(cx, &m);
        }
        cx.push(StanzaEvent::Message(m));
    }
}

/// The automatic answers a message asked for, each at most once: only for a message
/// with a sender and an id, in a live session, never for an error (errors are not
/// answered) nor a groupchat message (the room would broadcast the answer; XEP-0184 §5).
fn answer(cx: &mut Cx, m: &Message) {
    if matches!(m.kind(), MessageType::Error | MessageType::Groupchat) || cx.jid.is_none() {
        return;
    }
    let (Some(from), Some(id)) = (m.element().attr("from"), m.id()) else {
        return;
    };
    if id.is_empty() {
        return;
    }
    let answers = cx.config.auto_answers;
    let mut receipt_requested = false;
    let mut is_receipt = false;
    let mut wants_delivered = false;
    for child in m.element().root().children() {
        match Receipt::from_child(child) {
            Some(Receipt::Request) => receipt_requested = true,
            Some(Receipt::Received(_)) => is_receipt = true,
            None => {}
        }
        if let Some(e) = MessageEvents::from_child(child) {
            wants_delivered |= e.is_request() && e.delivered;
        }
    }
    // A receipt that also asks for one would start a ping-pong between two clients.
    if answers.contains(AutoAnswers::RECEIPTS) && receipt_requested && !is_receipt {
        send_answer(cx, from, Receipt::Received(Some(id.into())).to_element());
    }
    if answers.contains(AutoAnswers::MESSAGE_EVENTS) && wants_delivered {
        let notice = MessageEvents::notice(crate::stanza::ext::Notice::Delivered, id);
        send_answer(cx, from, notice.to_element());
    }
}

fn send_answer(cx: &mut Cx, to: &str, payload: Result<Element, crate::xml::BuildError>) {
    // The id comes from the received message, which parsed, so the payload builds.
    let Ok(payload) = payload else { return };
    if let Ok(answer) = Element::builder("message", ns::CLIENT)
        .attr("to", to)
        .child(payload)
        .build()
    {
        cx.emit(&answer);
    }
}
