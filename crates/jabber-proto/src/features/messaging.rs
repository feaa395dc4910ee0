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
use crate::stanza::ext::Notice;
use crate::stanza::{Message, MessageBuilder};
use crate::time::{Instant, Timestamp};

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

/// The automatic answers a message asked for, each at most once, in a live session;
/// which messages may be answered is [`Message::receipt_answer`]'s and
/// [`Message::event_notice`]'s rule.
fn answer(cx: &mut Cx, m: &Message) {
    // Logged in, and our side not closed: nothing may follow our </stream:stream>.
    if cx.jid.is_none() || !cx.is_open() {
        return;
    }
    let answers = cx.config.auto_answers;
    if answers.contains(AutoAnswers::RECEIPTS) {
        send_answer(cx, m.receipt_answer());
    }
    if answers.contains(AutoAnswers::MESSAGE_EVENTS) {
        send_answer(cx, m.event_notice(Notice::Delivered));
    }
}

fn send_answer(cx: &mut Cx, answer: Option<MessageBuilder>) {
    // Built from a message that parsed, so it builds.
    if let Some(Ok(answer)) = answer.map(MessageBuilder::build) {
        cx.emit(answer.element());
    }
}
