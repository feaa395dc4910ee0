//! One room as we know it: our nickname, how we entered, where we are with it, its
//! occupants (bounded by [`ConferenceConfig::max_occupants`](super::ConferenceConfig)),
//! its subject and its self-ping timer; and the read-only view the application gets.

use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;

use super::join::{JoinOptions, Protocol};
use super::occupants::Occupant;
use crate::jid::Jid;
use crate::time::Instant;
use core::time::Duration;

/// Where we are with a room.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RoomState {
    /// The join presence is out; our own presence has not come back.
    Joining,
    /// In the room.
    Joined,
    /// Our unavailable presence is out; the room has not confirmed.
    Leaving,
    /// The room dropped us ([`ConferenceEvent::Dropped`](super::ConferenceEvent)): it
    /// can be [rejoined](crate::client::Client::rejoin_room).
    Dropped,
}

/// A room as [`Client::room`](crate::client::Client::room) shows it.
#[derive(Clone, Copy, Debug)]
pub struct RoomView<'a> {
    pub(crate) jid: &'a Jid,
    pub(crate) room: &'a Room,
}

impl<'a> RoomView<'a> {
    /// The room's (bare) address.
    pub fn jid(&self) -> &'a Jid {
        self.jid
    }

    /// Our nickname there.
    pub fn nick(&self) -> &'a str {
        &self.room.nick
    }

    /// Where we are with it.
    pub fn state(&self) -> RoomState {
        self.room.state
    }

    /// How we joined it.
    pub fn options(&self) -> &'a JoinOptions {
        &self.room.options
    }

    /// The occupants (ourselves included, once joined), by nickname.
    pub fn occupants(&self) -> impl Iterator<Item = &'a Occupant> + 'a {
        self.room.occupants.values()
    }

    /// The occupant with this nickname.
    pub fn occupant(&self, nick: &str) -> Option<&'a Occupant> {
        self.room.occupants.get(nick)
    }

    /// How many occupants were left out to stay within
    /// [`ConferenceConfig::max_occupants`](super::ConferenceConfig::max_occupants).
    pub fn occupants_dropped(&self) -> u32 {
        self.room.dropped
    }

    /// The room's subject, once it said.
    pub fn subject(&self) -> Option<&'a str> {
        self.room.subject.as_deref()
    }
}

/// A room we are in, entering, leaving, or were dropped from.
#[derive(Clone, Debug)]
pub(crate) struct Room {
    pub(crate) nick: String,
    pub(crate) options: JoinOptions,
    pub(crate) state: RoomState,
    pub(crate) occupants: BTreeMap<String, Occupant>,
    /// Occupants left out at the bound.
    pub(crate) dropped: u32,
    pub(crate) subject: Option<String>,
    /// Nicknames tried after conflicts on this join.
    pub(crate) retries: u8,
    /// A nickname change we asked for and the room has not confirmed.
    pub(crate) pending_nick: Option<String>,
    /// When to self-ping next (joined rooms, with self-ping on).
    pub(crate) next_ping: Option<Instant>,
    /// A self-ping is out.
    pub(crate) pinging: bool,
    /// While leaving: when to stop waiting for the room's confirmation.
    pub(crate) leave_by: Option<Instant>,
    /// Joined again while leaving: the old leave's confirmation (our own unavailable
    /// presence) may still come, and is not about this join.
    pub(crate) stale_leave: bool,
    /// Left while still joining: the room may yet answer the join, then the leave, and a
    /// new join could not tell its answers from theirs; it waits for the leave to end.
    pub(crate) left_joining: bool,
}

impl Room {
    pub(crate) fn new(nick: &str, options: JoinOptions) -> Room {
        Room {
            nick: String::from(nick),
            options,
            state: RoomState::Joining,
            occupants: BTreeMap::new(),
            dropped: 0,
            subject: None,
            retries: 0,
            pending_nick: None,
            next_ping: None,
            pinging: false,
            leave_by: None,
            stale_leave: false,
            left_joining: false,
        }
    }

    /// Whether this room is self-pinged: joined, and not in the cheat sheet's protocol
    /// (there a stanza to `room/nick` switches the server to groupchat, whose errors
    /// would read as the room having forgotten us).
    pub(crate) fn self_pinged(&self) -> bool {
        self.state == RoomState::Joined && self.options.protocol != Protocol::Conference
    }

    /// The nickname of the occupant whose proxy JID (conference protocol) is `jid`.
    pub(crate) fn nick_of_proxy(&self, jid: &Jid) -> Option<&str> {
        self.occupants
            .values()
            .find(|o| o.proxy.as_ref() == Some(jid))
            .map(|o| o.nick.as_str())
    }
}

/// A room carried to the connection that resumes a session (in
/// [`Resumption::rooms`](crate::features::stream_management::Resumption::rooms)): on a
/// resumed stream we are still in it, as we were; in a new session the server took us
/// out, and it is reported [`Dropped`](super::ConferenceEvent::Dropped) with
/// [`DropReason::NewSession`](super::DropReason::NewSession), kept for a rejoin.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct CarriedRoom {
    /// The room.
    pub room: Jid,
    /// Our nickname there.
    pub nick: String,
    /// How we joined it.
    pub options: JoinOptions,
    /// Where we were with it.
    pub state: RoomState,
    /// Its occupants.
    pub occupants: Vec<Occupant>,
    /// Its subject.
    pub subject: Option<String>,
}

impl CarriedRoom {
    /// A room to carry: `room` joined as `nick` with `options` (the other fields empty).
    pub fn new(room: &Jid, nick: &str, options: JoinOptions) -> CarriedRoom {
        CarriedRoom {
            room: room.to_bare(),
            nick: String::from(nick),
            options,
            state: RoomState::Joined,
            occupants: Vec::new(),
            subject: None,
        }
    }
}

/// A stanza from the room (not an error): it still knows us; the next self-ping waits.
pub(super) fn touch(room: &mut Room, now: Instant, ping: Option<Duration>) {
    if room.self_pinged() && !room.pinging {
        room.next_ping = ping.map(|d| now + d);
    }
}

/// An error from the room that a room which forgot us answers (`not-acceptable`,
/// `item-not-found`): self-ping at once rather than an interval later.
pub(super) fn suspect(
    room: &mut Room,
    now: Instant,
    ping: Option<Duration>,
    error: &crate::stanza::StanzaError,
) {
    use crate::stanza::StanzaCondition as C;
    let forgotten = matches!(error.condition, C::NotAcceptable | C::ItemNotFound);
    if forgotten && ping.is_some() && room.self_pinged() && !room.pinging {
        room.next_ping = Some(now);
    }
}

/// We are out of the room without leaving it: kept, for a rejoin.
pub(super) fn drop_room(room: &mut Room) {
    room.state = RoomState::Dropped;
    room.occupants.clear();
    room.next_ping = None;
    room.pinging = false;
    room.pending_nick = None;
    room.leave_by = None;
    room.stale_leave = false;
}
