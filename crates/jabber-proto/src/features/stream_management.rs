//! XEP-0198 stream management: acknowledged stanzas both ways and stream resumption.
//!
//! ```text
//!  bound ──<enable resume/>──► Enabling ──<enabled id/>──► Enabled ──(stream dies)──► Resumption
//!                                 │ <failed/>                                          │
//!                                 ▼                                                    ▼
//!                                off              new Client: SASL ──<resume previd h/>─┐
//!                                                   <resumed h/>: resend the unacked ◄──┤
//!                                                   <failed/>: bind, new session, resend,
//!                                                              report possible duplicates
//! ```
//!
//! Counting: every stanza (`message`, `presence`, `iq` of `jabber:client`) we write after
//! `<enable/>` (or on a resumed stream) is kept until the server's `<a h/>` covers it;
//! every stanza we receive after `<enabled/>` (or `<resumed/>`) counts towards the `h` we
//! answer `<r/>` with. Both counters wrap at 2^32 (XEP-0198 §4). The state lives in the
//! shared context, because every feature writes through the context's one write path,
//! which counts.
//!
//! The queue of unacknowledged stanzas is bounded by [`Config::sm_max_unacked`]: an
//! application command that would go beyond is refused with
//! [`Error::UnackedQueueFull`](crate::client::Error::UnackedQueueFull) (an ack is
//! requested at once, and [`Event::Writable`](crate::client::Event::Writable) follows
//! when the server's answer made room); the client's own answers may go beyond, up to
//! twice the bound, after which the server is not acknowledging at all and the connection
//! ends ([`SmError::Unacknowledged`]).
//!
//! [`Config::sm_max_unacked`]: crate::client::Config::sm_max_unacked

use alloc::collections::VecDeque;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use crate::client::{Cx, InFlightIq, SmEvent};
use crate::jid::Jid;
use crate::ns;
use crate::time::Instant;
use crate::xml::Element;

/// What a new connection needs to resume a stream-managed session (XEP-0198 §5): take
/// it from [`Client::resumption`](crate::client::Client::resumption) when the old
/// connection died and give it to
/// [`Client::resume`](crate::client::Client::resume) on the new one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Resumption {
    /// The stream id the server gave in `<enabled id/>` (the `previd` of `<resume/>`).
    pub id: String,
    /// Where the server prefers the resumption to happen (`<enabled location/>`), if it
    /// said.
    pub location: Option<String>,
    /// The full address the session was bound to.
    pub jid: Jid,
    /// Stanzas we handled from the server, modulo 2^32 (the `h` of `<resume/>`).
    pub handled: u32,
    /// Stanzas of ours the server acknowledged, modulo 2^32.
    pub acked: u32,
    /// Stanzas of ours the server has not acknowledged, oldest first.
    pub unacked: Vec<Element>,
    /// Requests that were waiting for their replies: on the resumed stream (or, for
    /// those in `unacked`, in a new session) the replies reach the same handles.
    pub in_flight: Vec<InFlightIq>,
    /// The last request handle the session gave out: the new connection's handles
    /// continue after it, so that none is given out twice.
    pub iq_handles: u64,
    /// The conference rooms the session was in (see
    /// [`CarriedRoom`](crate::features::conference::CarriedRoom)).
    pub rooms: Vec<crate::features::conference::CarriedRoom>,
}

/// A stream-management fault of the server; ends the connection
/// ([`CloseReason::StreamManagement`](crate::client::CloseReason::StreamManagement)).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SmError {
    /// The server acknowledged more stanzas than we sent (XEP-0198 §4): we answered with
    /// `undefined-condition` and `<handled-count-too-high/>`.
    HandledCountTooHigh {
        /// The `h` the server sent.
        h: u32,
        /// How many stanzas we had sent, modulo 2^32.
        sent: u32,
    },
    /// The server left twice [`Config::sm_max_unacked`](crate::client::Config::sm_max_unacked)
    /// stanzas unacknowledged: it is not acknowledging.
    Unacknowledged,
}

impl fmt::Display for SmError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SmError::HandledCountTooHigh { h, sent } => {
                write!(f, "the server acknowledged {h} stanzas; we sent {sent}")
            }
            SmError::Unacknowledged => f.write_str("the server does not acknowledge stanzas"),
        }
    }
}

impl core::error::Error for SmError {}

/// Room for unacknowledged stanzas an emptied queue keeps: none, as the send buffer
/// (one allocation per burst; an idle client holds no queue — a kept `Element` slot
/// costs more than the allocation saves).
const IDLE_UNACKED: usize = 0;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    /// A resumption waits for the point of binding (the app called `resume`).
    Pending,
    /// `<resume/>` sent: nothing is counted until `<resumed/>`.
    Resuming,
    /// `<enable/>` sent: what we send counts, what we receive not yet.
    Enabling,
    /// Both ways counted.
    Enabled,
    /// The resumption failed: only the stanzas to resend in the new session remain.
    Failed,
}

/// The stream-management state of one connection (boxed in [`Cx`]; none without SM).
#[derive(Debug)]
pub(crate) struct StreamManagement {
    phase: Phase,
    /// `<enabled id/>` with `resume='true'`: the stream can be resumed.
    id: Option<String>,
    location: Option<String>,
    handled: u32,
    acked: u32,
    unacked: VecDeque<Element>,
    /// Stanzas sent since the last `<r/>`.
    since_request: u32,
    /// When to ask for an ack of what is still unacknowledged.
    request_at: Option<Instant>,
    /// An application command was refused for a full queue: `Writable` is owed.
    owe_writable: bool,
    /// An `<r/>` is out and no `<a/>` has come since.
    requested: bool,
    /// The last stanza counted was followed at once by an `<r/>` (undone with it).
    last_requested: bool,
    /// The last element written was a stanza, counted into `unacked`.
    last_counted: bool,
    /// The bound JID of the session being resumed.
    jid: Option<Jid>,
    /// The requests waiting for replies when the connection died (empty until then),
    /// or carried by the resumption under way.
    in_flight: Vec<InFlightIq>,
    /// The IQ table's last handle when the connection died.
    iq_handles: u64,
    /// The last `h` we told the server in an `<a/>`.
    told: u32,
}

impl StreamManagement {
    fn new(phase: Phase) -> StreamManagement {
        StreamManagement {
            phase,
            id: None,
            location: None,
            handled: 0,
            acked: 0,
            unacked: VecDeque::new(),
            since_request: 0,
            request_at: None,
            owe_writable: false,
            requested: false,
            last_requested: false,
            last_counted: false,
            jid: None,
            in_flight: Vec::new(),
            iq_handles: 0,
            told: 0,
        }
    }

    /// A resumption the application asked for, waiting for the login to reach binding.
    pub(crate) fn resuming(r: Resumption) -> StreamManagement {
        let mut sm = StreamManagement::new(Phase::Pending);
        sm.id = Some(r.id);
        sm.location = r.location;
        sm.handled = r.handled;
        sm.told = r.handled;
        sm.acked = r.acked;
        sm.unacked = r.unacked.into();
        sm.jid = Some(r.jid);
        // Taken in by the IQ table once the server answered the resumption: before
        // that (in plaintext, before authentication) no reply may match them.
        sm.in_flight = r.in_flight;
        sm
    }

    fn counts_out(&self) -> bool {
        matches!(self.phase, Phase::Enabling | Phase::Enabled)
    }

    fn sent(&self) -> u32 {
        // The queue is bounded far below 2^32.
        self.acked
            .wrapping_add(u32::try_from(self.unacked.len()).unwrap_or(u32::MAX))
    }

    /// Called by [`Cx::emit`] for everything written; `true` when an ack is to be
    /// requested now.
    pub(crate) fn on_sent(
        &mut self,
        el: &Element,
        now: Instant,
        cfg: &crate::client::Config,
    ) -> bool {
        if !self.counts_out() || !is_stanza(el) {
            // Another element written after the stanza (not our own ack request) means a
            // refusal now concerns that element, not the stanza.
            if el.ns() != crate::ns::SM {
                self.last_counted = false;
                self.last_requested = false;
            }
            return false;
        }
        self.last_counted = true;
        self.last_requested = false;
        self.unacked.push_back(el.clone());
        self.since_request = self.since_request.saturating_add(1);
        if self.phase != Phase::Enabled {
            return false;
        }
        if self.request_at.is_none() {
            self.request_at = ack_delay(cfg).map(|d| now + d);
        }
        self.last_requested = self.request_due(cfg);
        self.last_requested
    }

    fn request_due(&mut self, cfg: &crate::client::Config) -> bool {
        let every = u32::from(cfg.sm_ack_every);
        if every > 0 && self.since_request >= every {
            self.since_request = 0;
            return true;
        }
        false
    }

    /// The last stanza [`on_sent`](Self::on_sent) kept was not sent after all (its
    /// command was refused). `true` when the `<r/>` written right after it goes too.
    pub(crate) fn retract_last(&mut self) -> bool {
        // Only a stanza the refused command wrote: a nonza was never counted, and the
        // queue's last entry is then someone else's (one the server will acknowledge).
        if !core::mem::take(&mut self.last_counted)
            || !self.counts_out()
            || self.unacked.pop_back().is_none()
        {
            return false;
        }
        if core::mem::take(&mut self.last_requested) {
            // The request is undone with the stanza: the next stanza asks again.
            self.requested = false;
            self.since_request = u32::MAX;
            return true;
        }
        self.since_request = self.since_request.saturating_sub(1);
        false
    }

    /// Whether an application command must be refused: the queue is over its bound.
    pub(crate) fn over_bound(&self, cfg: &crate::client::Config) -> bool {
        self.unacked.len() > usize::from(cfg.sm_max_unacked)
    }

    /// Whether the server leaves so much unacknowledged that it is not acknowledging.
    pub(crate) fn over_hard_bound(&self, cfg: &crate::client::Config) -> bool {
        self.unacked.len() > 2 * usize::from(cfg.sm_max_unacked).max(1)
    }

    /// A command was refused for the full queue: `Writable` is owed; `true` when an
    /// ack must be asked for (none is outstanding).
    pub(crate) fn owe_writable(&mut self) -> bool {
        self.owe_writable = true;
        !self.requested
    }

    /// When to ask for an ack of what is waiting.
    pub(crate) fn deadline(&self) -> Option<Instant> {
        (self.phase == Phase::Enabled && !self.unacked.is_empty())
            .then_some(self.request_at)
            .flatten()
    }

    /// Applies the server's `h`: drops what it covers. `Err` when it covers more than we
    /// sent.
    fn ack(&mut self, h: u32) -> Result<(), SmError> {
        let newly = usize::try_from(h.wrapping_sub(self.acked)).unwrap_or(usize::MAX);
        if newly > self.unacked.len() {
            return Err(SmError::HandledCountTooHigh {
                h,
                sent: self.sent(),
            });
        }
        self.unacked.drain(..newly);
        if self.unacked.is_empty() {
            // An idle session keeps no room its last burst needed.
            self.unacked.shrink_to(IDLE_UNACKED);
        }
        self.acked = h;
        Ok(())
    }

    /// What a new connection needs to resume this session, if the server allows it.
    pub(crate) fn resumption(&self, jid: Option<&Jid>) -> Option<Resumption> {
        if !matches!(self.phase, Phase::Enabled) {
            return None;
        }
        Some(Resumption {
            id: self.id.clone()?,
            location: self.location.clone(),
            jid: jid?.clone(),
            handled: self.handled,
            acked: self.acked,
            unacked: self.unacked.iter().cloned().collect(),
            in_flight: self.in_flight.clone(),
            iq_handles: self.iq_handles,
            rooms: Vec::new(),
        })
    }

    /// What [`resumption`](Self::resumption)'s `unacked` would hold, counted.
    pub(crate) fn resumable_unacked(&self, jid: Option<&Jid>) -> Option<usize> {
        (matches!(self.phase, Phase::Enabled) && self.id.is_some() && jid.is_some())
            .then_some(self.unacked.len())
    }

    /// The connection died: keep the requests still waiting for replies and the last
    /// handle, for a resumption to carry (only when there can be one).
    pub(crate) fn keep_in_flight(&mut self, in_flight: Vec<InFlightIq>, iq_handles: u64) {
        if self.phase == Phase::Enabled && self.id.is_some() {
            self.in_flight = in_flight;
            self.iq_handles = iq_handles;
        }
    }

    /// The requests a resumption carries, for the IQ table.
    pub(crate) fn take_carried(&mut self) -> Vec<InFlightIq> {
        core::mem::take(&mut self.in_flight)
    }
}

/// [`Config::sm_ack_delay_ms`](crate::client::Config::sm_ack_delay_ms) as a duration;
/// `None` when off.
fn ack_delay(cfg: &crate::client::Config) -> Option<core::time::Duration> {
    (cfg.sm_ack_delay_ms > 0)
        .then(|| core::time::Duration::from_millis(u64::from(cfg.sm_ack_delay_ms)))
}

/// A `message`, `presence` or `iq` of `jabber:client`: what XEP-0198 counts.
pub(crate) fn is_stanza(el: &Element) -> bool {
    is_stanza_in(el.ns(), el.name())
}

/// [`is_stanza`] for an element whose namespace the caller has already resolved.
pub(crate) fn is_stanza_in(ns: &str, name: &str) -> bool {
    ns == ns::CLIENT && matches!(name, "message" | "presence" | "iq")
}

fn nonza(name: &str) -> Element {
    // A fixed name and namespace always build.
    Element::builder(name, ns::SM)
        .build()
        .unwrap_or_else(|_| unreachable!())
}

fn with_h(name: &str, h: u32) -> Element {
    Element::builder(name, ns::SM)
        .attr("h", &alloc::format!("{h}"))
        .build()
        .unwrap_or_else(|_| unreachable!())
}

fn parse_h(el: &Element) -> Option<u32> {
    el.attr("h")?.parse().ok()
}

/// Sends `<r/>` and re-arms the idle request.
pub(crate) fn request_ack(cx: &mut Cx) {
    let now = cx.now;
    let delay = ack_delay(&cx.config);
    let Some(sm) = cx.sm.as_deref_mut() else {
        return;
    };
    if sm.phase != Phase::Enabled {
        return;
    }
    sm.since_request = 0;
    sm.requested = true;
    sm.request_at = delay.map(|d| now + d);
    cx.emit(&nonza("r"));
}

/// Logged in by binding: enables stream management when the server offered it and the
/// configuration wants it. Returns the stanzas of a failed resumption, to be sent again
/// in the new session, and the requests it carried.
pub(crate) fn on_bound(cx: &mut Cx, offered: bool) -> (Vec<Element>, Vec<InFlightIq>) {
    let leftover = match cx.sm.take() {
        Some(sm) if matches!(sm.phase, Phase::Pending | Phase::Failed) => {
            if sm.phase == Phase::Pending {
                // The server offered no stream management to resume with.
                cx.push(SmEvent::ResumeFailed);
            }
            (sm.unacked.into(), sm.in_flight)
        }
        _ => (Vec::new(), Vec::new()),
    };
    if offered && cx.config.stream_management {
        let enable = Element::builder("enable", ns::SM)
            .attr("resume", "true")
            .build()
            .unwrap_or_else(|_| unreachable!());
        cx.emit(&enable);
        // Counting starts with `<enable/>` (XEP-0198 §4).
        cx.sm = Some(alloc::boxed::Box::new(StreamManagement::new(
            Phase::Enabling,
        )));
    }
    leftover
}

/// Sends `<resume/>` in place of binding.
pub(crate) fn send_resume(cx: &mut Cx) {
    let Some(sm) = cx.sm.as_deref_mut() else {
        return;
    };
    sm.phase = Phase::Resuming;
    let handled = sm.handled;
    let previd = sm.id.clone().unwrap_or_default();
    let resume = Element::builder("resume", ns::SM)
        .attr("previd", &previd)
        .attr("h", &alloc::format!("{handled}"));
    match resume.build() {
        Ok(el) => cx.emit(&el),
        // An id that XML cannot carry never came from a server: the resumption fails.
        Err(_) => sm.phase = Phase::Failed,
    }
}

/// What a stream-management element from the server means to the client.
pub(crate) enum Outcome {
    /// Handled here.
    Done,
    /// `<resumed/>`: the session is back under `jid`; `resent` stanzas went out again.
    Resumed { jid: Jid, resent: usize },
    /// `<failed/>` to our `<resume/>`: bind a new session.
    ResumeFailed,
    /// The server broke the protocol: the connection ends with this.
    Fatal(SmError),
    /// Not ours (no stream management runs): the application sees it.
    Unexpected,
}

/// A stanza arrived: counted once stream management is enabled.
pub(crate) fn on_stanza_received(cx: &mut Cx) {
    if let Some(sm) = cx.sm.as_deref_mut() {
        if sm.phase == Phase::Enabled {
            sm.handled = sm.handled.wrapping_add(1);
        }
    }
}

/// Our close: what we received and the server has not heard us acknowledge is
/// acknowledged first. A server counts it as undelivered otherwise, and ejabberd bounces
/// such stanzas back to their senders as errors although we handled them (XEP-0198 lets
/// an `<a/>` go at any time).
pub(crate) fn on_close(cx: &mut Cx) {
    let Some(sm) = cx.sm.as_deref_mut() else {
        return;
    };
    if sm.phase == Phase::Enabled && sm.handled != sm.told {
        let h = sm.handled;
        sm.told = h;
        cx.emit(&with_h("a", h));
    }
}

/// An element of `urn:xmpp:sm:3` from the server.
pub(crate) fn on_element(cx: &mut Cx, el: &Element) -> Outcome {
    let now = cx.now;
    let delay = ack_delay(&cx.config);
    let max = usize::from(cx.config.sm_max_unacked);
    let open = cx.is_open();
    let Some(sm) = cx.sm.as_deref_mut() else {
        return Outcome::Unexpected;
    };
    match (sm.phase, el.name()) {
        (Phase::Enabled | Phase::Enabling, "r") => {
            if !open {
                // Our close is out, with the count before it: nothing may follow it
                // (a server that closes at once would meet our ack with a reset).
                return Outcome::Done;
            }
            let h = sm.handled;
            sm.told = h;
            cx.emit(&with_h("a", h));
            Outcome::Done
        }
        (Phase::Enabled | Phase::Enabling, "a") => {
            let Some(h) = parse_h(el) else {
                return Outcome::Done;
            };
            if let Err(e) = sm.ack(h) {
                return Outcome::Fatal(e);
            }
            sm.requested = false;
            sm.request_at = if sm.unacked.is_empty() {
                None
            } else {
                delay.map(|d| now + d)
            };
            if sm.owe_writable && sm.unacked.len() < max {
                sm.owe_writable = false;
                cx.push(crate::client::Event::Writable);
            }
            Outcome::Done
        }
        (Phase::Enabling, "enabled") => {
            let resumable = matches!(el.attr("resume"), Some("true" | "1"));
            sm.id = el.attr("id").filter(|_| resumable).map(String::from);
            sm.location = el.attr("location").map(String::from);
            sm.phase = Phase::Enabled;
            let resumable = sm.id.is_some();
            if !sm.unacked.is_empty() {
                sm.request_at = delay.map(|d| now + d);
            }
            let due = sm.request_due(&cx.config);
            cx.push(SmEvent::Enabled { resumable });
            if due {
                request_ack(cx);
            }
            Outcome::Done
        }
        (Phase::Enabling, "failed") => {
            // The server would not: the session goes on without it.
            cx.sm = None;
            Outcome::Done
        }
        (Phase::Resuming, "resumed") => {
            let Some(h) = parse_h(el) else {
                return Outcome::Fatal(SmError::HandledCountTooHigh {
                    h: 0,
                    sent: sm.sent(),
                });
            };
            if let Err(e) = sm.ack(h) {
                return Outcome::Fatal(e);
            }
            if let Some(id) = el.attr("previd") {
                sm.id = Some(String::from(id));
            }
            let jid = sm.jid.clone();
            sm.phase = Phase::Enabled;
            sm.since_request = 0;
            // The ones the server did not get go out again, counted anew from `h`.
            let resend: Vec<Element> = core::mem::take(&mut sm.unacked).into();
            let resent = resend.len();
            for stanza in &resend {
                cx.emit(stanza);
            }
            if resent > 0 {
                request_ack(cx);
            }
            match jid {
                Some(jid) => Outcome::Resumed { jid, resent },
                None => Outcome::ResumeFailed,
            }
        }
        (Phase::Resuming, "failed") => {
            // A server may say what it got of the old session (XEP-0198 1.6): fewer to
            // send again. An impossible count is ignored; the session is gone anyway.
            if let Some(h) = parse_h(el) {
                let _ = sm.ack(h);
            }
            sm.phase = Phase::Failed;
            sm.request_at = None;
            Outcome::ResumeFailed
        }
        _ => Outcome::Unexpected,
    }
}

/// The stream error for `e`: `undefined-condition` with XEP-0198's own condition.
pub(crate) fn stream_error(e: &SmError) -> Element {
    let mut b = Element::builder("error", ns::STREAM)
        .child(Element::builder("undefined-condition", ns::STREAM_ERRORS));
    if let SmError::HandledCountTooHigh { h, sent } = e {
        b = b.child(
            Element::builder("handled-count-too-high", ns::SM)
                .attr("h", &alloc::format!("{h}"))
                .attr("send-count", &alloc::format!("{sent}")),
        );
    }
    b.build().unwrap_or_else(|_| unreachable!())
}
