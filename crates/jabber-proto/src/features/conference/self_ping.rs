//! Staying in the room (XEP-0410, "Schrödinger's chat"): a room forgets an occupant
//! when its service restarts or loses the connection, and nothing tells the occupant.
//! After [`ConferenceConfig::self_ping_secs`](super::ConferenceConfig::self_ping_secs)
//! without a stanza from the room, we ping our own occupant address; the room answers
//! it only while we are in it, so the answer says whether we still are:
//!
//! | answer | verdict |
//! |---|---|
//! | result; `service-unavailable`, `feature-not-implemented` (the ping reached a client that does not answer pings: we are in) ; `item-not-found` (our nickname just changed) | joined |
//! | `remote-server-not-found`, `remote-server-timeout`, no answer | unknown: ask again an interval later |
//! | `not-acceptable` and any other error | not joined: the room dropped us |
//!
//! An error from the room is no sign of life: it does not postpone the ping, and the
//! two a room that forgot us answers a groupchat or presence with (`not-acceptable`,
//! `item-not-found`) bring it forward to now. Rooms of the cheat sheet's protocol are
//! not pinged (a stanza to `room/nick` would switch its server to groupchat 1.0).

use super::room::drop_room;
use super::{ConferenceEvent, ConferenceRequest, Conferences, DropReason, RoomState};
use crate::client::{Cx, Owner, Reply};
use crate::jid::Jid;
use crate::ns;
use crate::stanza::{IqType, StanzaCondition, StanzaError};
use crate::time::Instant;
use crate::xml::{BuildError, Element};

/// What a self-ping's answer says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Verdict {
    Joined,
    Unknown,
    Dropped,
}

/// The ping's payload (XEP-0199).
pub(crate) fn ping() -> Result<Element, BuildError> {
    Element::builder("ping", ns::PING).build()
}

/// The verdict of an error answer (`None`: no answer at all).
pub(crate) fn verdict(error: Option<&StanzaError>) -> Verdict {
    use StanzaCondition as C;
    let Some(error) = error else {
        return Verdict::Unknown;
    };
    match error.condition {
        C::ServiceUnavailable | C::FeatureNotImplemented | C::ItemNotFound => Verdict::Joined,
        C::RemoteServerNotFound | C::RemoteServerTimeout => Verdict::Unknown,
        _ => Verdict::Dropped,
    }
}

impl Conferences {
    pub(super) fn on_ping_reply(&mut self, cx: &mut Cx, jid: Jid, reply: Reply<'_>) {
        let ping = cx.config.conference.self_ping();
        let now = cx.now;
        let Some(room) = self.get_mut(&jid) else {
            return;
        };
        room.pinging = false;
        if room.state != RoomState::Joined {
            return;
        }
        let verdict = match &reply {
            Reply::Result(_) => Verdict::Joined,
            Reply::Error(e) => verdict(Some(e)),
            Reply::Timeout => verdict(None),
        };
        if verdict != Verdict::Dropped {
            room.next_ping = ping.map(|d| now + d);
            return;
        }
        drop_room(room);
        let Reply::Error(error) = reply else {
            return;
        };
        cx.push(ConferenceEvent::Dropped {
            room: jid,
            reason: DropReason::SelfPing(error),
        });
    }

    /// When a self-ping is next due, or a leave stops waiting: only while the stream is
    /// open and logged in (`on_timeout` does nothing otherwise, so an earlier instant
    /// would make the client spin).
    pub(crate) fn deadline(&self, cx: &Cx) -> Option<Instant> {
        if cx.jid.is_none() || !cx.is_open() {
            return None;
        }
        self.rooms
            .as_deref()?
            .values()
            .filter_map(|r| match r.state {
                RoomState::Leaving => r.leave_by,
                _ if r.self_pinged() && !r.pinging => r.next_ping,
                _ => None,
            })
            .min()
    }

    /// Sends the self-pings that are due; forgets the rooms whose leave went
    /// unconfirmed too long.
    pub(crate) fn on_timeout(&mut self, cx: &mut Cx, now: Instant) {
        let Some(rooms) = self.rooms.as_deref_mut() else {
            return;
        };
        if cx.jid.is_none() || !cx.is_open() {
            return;
        }
        let gone =
            |r: &super::Room| r.state == RoomState::Leaving && r.leave_by.is_some_and(|t| t <= now);
        if rooms.values().any(gone) {
            // No confirmation will come (the room forgot us, or its protocol does not
            // promise one): the leave is done.
            rooms.retain(|jid, r| {
                let keep = !gone(r);
                if !keep {
                    cx.push(ConferenceEvent::Left { room: jid.clone() });
                }
                keep
            });
            if rooms.is_empty() {
                self.rooms = None;
                return;
            }
        }
        for (jid, room) in rooms.iter_mut() {
            let due =
                room.self_pinged() && !room.pinging && room.next_ping.is_some_and(|t| t <= now);
            if !due {
                continue;
            }
            let (Ok(to), Ok(ping)) = (jid.with_resource(&room.nick), ping()) else {
                room.next_ping = None;
                continue;
            };
            let owner = Owner::Conference(ConferenceRequest::SelfPing(jid.clone()));
            room.pinging = cx
                .request(Some(&to), IqType::Get, ping, Some(owner))
                .is_ok();
            room.next_ping = None;
        }
    }
}
