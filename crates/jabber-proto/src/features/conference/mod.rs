//! Conferences (the cheat sheet's §7): chat rooms hosted by a service, many to many.
//!
//! Three ways into a room, one model of it ([`Protocol`]): Multi-User Chat (XEP-0045,
//! what servers run today), groupchat 1.0 (the same presence without MUC's `<x/>`) and
//! the cheat sheet's conference protocol (`jabber:iq:browse`, `jabber:iq:conference`;
//! see [`browse`]). On [`Client`](crate::client::Client):
//! - [`join_room`](crate::client::Client::join_room) with [`JoinOptions`] (password,
//!   history, nickname retry after a conflict, instant configuration of a room we
//!   create), [`leave_room`](crate::client::Client::leave_room),
//!   [`rejoin_room`](crate::client::Client::rejoin_room),
//!   [`change_nick`](crate::client::Client::change_nick);
//! - [`send_groupchat`](crate::client::Client::send_groupchat) (and [`me`] for
//!   `/me`), [`set_subject`](crate::client::Client::set_subject),
//!   [`send_private`](crate::client::Client::send_private);
//! - [`invite_direct`](crate::client::Client::invite_direct) (`jabber:x:conference`),
//!   [`invite`](crate::client::Client::invite) (mediated),
//!   [`decline_invite`](crate::client::Client::decline_invite);
//! - [`browse`](crate::client::Client::browse) (the cheat sheet's discovery);
//! - the rooms: [`room`](crate::client::Client::room),
//!   [`rooms`](crate::client::Client::rooms); what happens:
//!   [`Event::Conference`](crate::client::Event::Conference).
//!
//! **Trust.** A presence or message is the room's only if it comes from the room's own
//! address (`room@service` or `room@service/nick`) of a room we joined: a presence
//! claiming status 110 from anywhere else is somebody else's and changes nothing here.
//! Invitations may come from anyone, and are reported with who sent them; they join
//! nothing by themselves.
//!
//! **Staying in.** Rooms forget occupants when their service restarts; see
//! [`self_ping`] for how that is noticed. After a resumed stream (XEP-0198) we are
//! still in every room; after a new session we are in none, and each is reported
//! [`Dropped`](ConferenceEvent::Dropped) for the application to rejoin.
//!
//! **Bounds.** At most [`ConferenceConfig::max_rooms`] rooms, each with at most
//! [`ConferenceConfig::max_occupants`] occupants; nothing is kept (no heap) while no
//! room is.

pub mod browse;
pub(crate) mod capture;
mod event;
mod invite;
mod join;
mod legacy;
mod messages;
mod occupants;
mod presence;
mod room;
pub mod self_ping;

use alloc::boxed::Box;
use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::time::Duration;

pub use browse::BrowseItem;
pub use event::{ConferenceEvent, DropReason};
pub(crate) use invite::muc_user_message as invite_message;
pub use invite::{Decline, Invite, InviteKind};
pub use join::{History, JoinOptions, Protocol};
pub use occupants::{Affiliation, Occupant, Role};
pub use room::{CarriedRoom, RoomState, RoomView};

use crate::client::{Cx, Error, IqId, Owner, Reply};
use crate::jid::Jid;
use crate::stanza::StanzaCondition;
use crate::stanza::ext::Extension;
use crate::stanza::{IqType, Message, Presence, StanzaError};
use crate::xml::{BuildError, Element, ElementRef};
use legacy::nick_choices;
pub(crate) use room::Room;
use room::drop_room;

/// Multi-User Chat: the join payload (XEP-0045).
pub const MUC: &str = crate::ns::MUC;
/// Multi-User Chat: what the room says of occupants, invitations, declines.
pub const MUC_USER: &str = crate::ns::MUC_USER;
/// Multi-User Chat: the owner's configuration.
pub const MUC_OWNER: &str = "http://jabber.org/protocol/muc#owner";
/// The cheat sheet's browsing (JEP-0011).
pub const IQ_BROWSE: &str = "jabber:iq:browse";
/// The cheat sheet's conference roster.
pub const IQ_CONFERENCE: &str = "jabber:iq:conference";

/// The conference feature's settings ([`Config::conference`](crate::client::Config)).
/// Six bytes, aligned to two: every `Client` holds one, in what would otherwise be
/// [`Config`](crate::client::Config)'s padding.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ConferenceConfig {
    /// At most this many rooms at once; a join beyond is refused
    /// ([`Error::TooManyRooms`]). Default 64.
    pub max_rooms: u16,
    /// At most this many occupants kept per room; those beyond are counted
    /// ([`RoomView::occupants_dropped`]), not kept. Default 2,000.
    pub max_occupants: u16,
    /// Self-ping (XEP-0410) a room after this many seconds without a stanza from it;
    /// 0: never. Default 300; at most 65,535 (about 18 hours).
    pub self_ping_secs: u16,
}

impl Default for ConferenceConfig {
    fn default() -> ConferenceConfig {
        ConferenceConfig {
            max_rooms: 64,
            max_occupants: 2000,
            self_ping_secs: 300,
        }
    }
}

impl ConferenceConfig {
    fn self_ping(&self) -> Option<Duration> {
        (self.self_ping_secs > 0).then(|| Duration::from_secs(u64::from(self.self_ping_secs)))
    }
}

/// The conference feature's own requests (their replies come back here).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum ConferenceRequest {
    /// A self-ping of our occupant address in this room.
    SelfPing(Jid),
    /// The instant configuration of a room we created.
    Configure(Jid),
    /// The nickname request of a conference-protocol join.
    Nick(Jid),
    /// A browse of this address.
    Browse(Jid),
}

impl ConferenceRequest {
    /// Whether a resumption carries it: those whose answer the application (or a room
    /// being joined) waits for. A self-ping is not: a resumed session pings anew.
    pub(crate) fn is_carried(&self) -> bool {
        !matches!(self, ConferenceRequest::SelfPing(_))
    }

    /// Its name in a capture (the address is the request's `to`).
    pub(crate) fn name(&self) -> &'static str {
        match self {
            ConferenceRequest::SelfPing(_) => "self-ping",
            ConferenceRequest::Configure(_) => "configure",
            ConferenceRequest::Nick(_) => "nick",
            ConferenceRequest::Browse(_) => "browse",
        }
    }

    /// The carried request [`name`](Self::name) names, sent to `to`.
    pub(crate) fn from_name(name: &str, to: &Jid) -> Option<ConferenceRequest> {
        Some(match name {
            "configure" => ConferenceRequest::Configure(to.to_bare()),
            "nick" => ConferenceRequest::Nick(to.to_bare()),
            "browse" => ConferenceRequest::Browse(to.clone()),
            _ => return None,
        })
    }
}

/// `/me` (the IRC convention the cheat sheet describes): the body that shows `action`
/// as an action ("/me waves" shows as "Jens waves").
///
/// ```
/// use jabber_proto::features::conference::{emote, me};
/// assert_eq!(me("waves at everyone."), "/me waves at everyone.");
/// assert_eq!(emote("Jens", "/me waves at everyone.").as_deref(), Some("Jens waves at everyone."));
/// assert_eq!(emote("Jens", "hello"), None);
/// ```
pub fn me(action: &str) -> String {
    format!("/me {action}")
}

/// How `body`, sent by `nick`, reads when it is a `/me` action: the nickname in place of
/// `/me`; `None` for an ordinary body.
pub fn emote(nick: &str, body: &str) -> Option<String> {
    body.strip_prefix("/me ")
        .map(|rest| format!("{nick} {rest}"))
}

/// An element sent as a message payload as it is (the `muc#user` ones we build).
pub(crate) struct Payload(pub(crate) Element);

impl Extension for Payload {
    fn from_child(_: ElementRef<'_>) -> Option<Payload> {
        None
    }

    fn to_element(&self) -> Result<Element, BuildError> {
        Ok(self.0.clone())
    }
}

/// An empty `muc#user` `<x/>`: marks a private message as one within a room
/// (XEP-0045 §7.5).
pub(crate) struct MucUserMark;

impl Extension for MucUserMark {
    fn from_child(_: ElementRef<'_>) -> Option<MucUserMark> {
        None
    }

    fn to_element(&self) -> Result<Element, BuildError> {
        Element::builder("x", MUC_USER).build()
    }
}

/// The rooms; nothing on the heap while there are none (one word in `Client`).
#[derive(Debug, Default)]
pub(crate) struct Conferences {
    // Boxed: one word in every `Client` (a map inline is three), nothing while empty.
    #[allow(clippy::box_collection)]
    rooms: Option<Box<BTreeMap<Jid, Room>>>,
}

/// A stanza's sender's resource (nickname, or proxy id), owned.
pub(super) fn resource_of(from: crate::jid::JidRef<'_>) -> Option<String> {
    from.resource().map(String::from)
}

impl Conferences {
    // ---- getters ----

    pub(crate) fn room<'a>(&'a self, jid: &Jid) -> Option<RoomView<'a>> {
        let (jid, room) = self.rooms.as_deref()?.get_key_value(&jid.to_bare())?;
        Some(RoomView { jid, room })
    }

    pub(crate) fn rooms(&self) -> impl Iterator<Item = RoomView<'_>> + '_ {
        self.rooms
            .as_deref()
            .into_iter()
            .flat_map(|r| r.iter().map(|(jid, room)| RoomView { jid, room }))
    }

    /// A copy of what we know of `room`, to put back with [`restore`](Self::restore)
    /// when a command must be undone.
    pub(crate) fn snapshot(&self, room: &Jid) -> Option<Room> {
        self.rooms.as_deref()?.get(&room.to_bare()).cloned()
    }

    /// Puts `room` back as [`snapshot`](Self::snapshot) found it.
    pub(crate) fn restore(&mut self, room: &Jid, was: Option<Room>) {
        let room = room.to_bare();
        match was {
            Some(was) => {
                self.rooms
                    .get_or_insert_with(Default::default)
                    .insert(room, was);
            }
            None => self.remove(&room),
        }
    }

    /// The room `from` is (bare) or is in (an occupant), without allocating unless it is
    /// one: every message and presence asks. `from` is parsed only when there are rooms
    /// (most clients are in none).
    fn room_of<'j>(&self, from: impl FnOnce() -> Option<crate::jid::JidRef<'j>>) -> Option<Jid> {
        let rooms = self.rooms.as_deref()?;
        let bare = from()?.bare();
        rooms.keys().find(|k| **k == bare).cloned()
    }

    fn get_mut(&mut self, room: &Jid) -> Option<&mut Room> {
        self.rooms.as_deref_mut()?.get_mut(room)
    }

    fn remove(&mut self, room: &Jid) {
        if let Some(rooms) = self.rooms.as_deref_mut() {
            rooms.remove(room);
            if rooms.is_empty() {
                self.rooms = None;
            }
        }
    }

    /// A room we are joined to (or entering, for commands that may go before the
    /// room confirmed), else [`Error::NotInRoom`].
    fn live(&self, room: &Jid) -> Result<&Room, Error> {
        match self.rooms.as_deref().and_then(|r| r.get(room)) {
            Some(r) if matches!(r.state, RoomState::Joined | RoomState::Joining) => Ok(r),
            _ => Err(Error::NotInRoom),
        }
    }

    // ---- commands (the client checked the session) ----

    /// Enters `room` as `nick`.
    pub(crate) fn join(
        &mut self,
        cx: &mut Cx,
        room: &Jid,
        nick: &str,
        options: JoinOptions,
    ) -> Result<Option<IqId>, Error> {
        let room = room.to_bare();
        let mut leaving = false;
        if let Some(known) = self.rooms.as_deref().and_then(|r| r.get(&room)) {
            match known.state {
                RoomState::Dropped => {}
                // Joining again ends the leave (the client reports it done once the
                // join went out); the room's late confirmation of it is not taken for
                // a refusal of this join.
                RoomState::Leaving if !known.left_joining => leaving = true,
                _ => return Err(Error::WrongPhase),
            }
        } else if self.rooms.as_deref().map_or(0, BTreeMap::len)
            >= usize::from(cx.config.conference.max_rooms)
        {
            return Err(Error::TooManyRooms);
        }
        let presence = join::join_presence(&room, nick, &options)?;
        let nick_query = match options.protocol {
            Protocol::Conference => Some(nick_choices(nick, &options)?),
            _ => None,
        };
        cx.emit(&presence);
        let mut id = None;
        if let Some(query) = nick_query {
            let owner = Owner::Conference(ConferenceRequest::Nick(room.clone()));
            id = Some(cx.request(Some(&room), IqType::Set, query, Some(owner))?);
        }
        let mut entry = Room::new(nick, options);
        entry.stale_leave = leaving;
        self.rooms
            .get_or_insert_with(Default::default)
            .insert(room, entry);
        Ok(id)
    }

    /// Enters again a room we were dropped from (or are in: the join presence goes out
    /// again, which a MUC room answers with the room's state).
    pub(crate) fn rejoin(&mut self, cx: &mut Cx, room: &Jid) -> Result<Option<IqId>, Error> {
        let room = room.to_bare();
        let Some(known) = self.rooms.as_deref().and_then(|r| r.get(&room)) else {
            return Err(Error::NotInRoom);
        };
        if known.state == RoomState::Leaving {
            return Err(Error::WrongPhase);
        }
        let (nick, options) = (known.nick.clone(), known.options.clone());
        if let Some(r) = self.get_mut(&room) {
            r.state = RoomState::Dropped;
        }
        self.join(cx, &room, &nick, options)
    }

    /// Leaves `room` (unavailable presence to our occupant address); a dropped room is
    /// forgotten at once.
    pub(crate) fn leave(
        &mut self,
        cx: &mut Cx,
        room: &Jid,
        status: Option<&str>,
    ) -> Result<(), Error> {
        let room = room.to_bare();
        let Some(known) = self.rooms.as_deref().and_then(|r| r.get(&room)) else {
            return Err(Error::NotInRoom);
        };
        match known.state {
            RoomState::Dropped => {
                self.remove(&room);
                cx.push(ConferenceEvent::Left { room });
                return Ok(());
            }
            RoomState::Leaving => return Err(Error::WrongPhase),
            _ => {}
        }
        let to = match known.options.protocol {
            Protocol::Conference => room.clone(),
            _ => room
                .with_resource(&known.nick)
                .map_err(Error::InvalidAddress)?,
        };
        let mut p = Presence::unavailable().to(&to);
        if let Some(status) = status {
            p = p.status(status);
        }
        cx.emit(p.build()?.element());
        if let Some(r) = self.get_mut(&room) {
            r.left_joining = r.state == RoomState::Joining;
            r.state = RoomState::Leaving;
            r.next_ping = None;
            // A confirmation is not promised (a room that forgot us sends none): we stop
            // waiting after an IQ timeout.
            r.leave_by = Some(cx.now + cx.config.iq_timeout);
        }
        Ok(())
    }

    /// Asks for a new nickname in `room`.
    pub(crate) fn change_nick(&mut self, cx: &mut Cx, room: &Jid, nick: &str) -> Result<(), Error> {
        let room = room.to_bare();
        let known = self.live(&room)?;
        if known.options.protocol == Protocol::Conference || known.state != RoomState::Joined {
            return Err(Error::WrongPhase);
        }
        let to = room.with_resource(nick).map_err(Error::InvalidAddress)?;
        cx.emit(Presence::available().to(&to).build()?.element());
        if let Some(r) = self.get_mut(&room) {
            r.pending_nick = Some(String::from(nick));
        }
        Ok(())
    }

    /// Refused with [`Error::NotInRoom`] unless we are in `room` (or entering it).
    pub(crate) fn room_is_live(&self, room: &Jid) -> Result<(), Error> {
        self.live(&room.to_bare()).map(|_| ())
    }

    /// The private message `body` to `nick` in `room`: to its occupant address, marked
    /// as within the room (XEP-0045 §7.5), or in the conference protocol a plain chat
    /// message to its proxy JID.
    pub(crate) fn private_message(
        &self,
        room: &Jid,
        nick: &str,
        body: &str,
    ) -> Result<Message, Error> {
        let room = room.to_bare();
        let known = self.live(&room)?;
        if known.options.protocol == Protocol::Conference {
            let proxy = known
                .occupants
                .get(nick)
                .and_then(|o| o.proxy.clone())
                .ok_or(Error::NotInRoom)?;
            return Ok(Message::chat(&proxy).body(body).build()?);
        }
        let to = room.with_resource(nick).map_err(Error::InvalidAddress)?;
        Ok(Message::chat(&to)
            .body(body)
            .extension(&MucUserMark)
            .build()?)
    }

    /// Accepts the default configuration of `room` (an instant room, XEP-0045
    /// §10.1.2): the owner's empty submitted form.
    pub(crate) fn configure_instant(&mut self, cx: &mut Cx, room: &Jid) -> Result<IqId, Error> {
        let room = room.to_bare();
        self.live(&room)?;
        let owner = Owner::Conference(ConferenceRequest::Configure(room.clone()));
        cx.request(
            Some(&room),
            IqType::Set,
            join::instant_room_query()?,
            Some(owner),
        )
    }

    /// Sends a browse request to `to`.
    pub(crate) fn browse(&mut self, cx: &mut Cx, to: &Jid) -> Result<IqId, Error> {
        let owner = Owner::Conference(ConferenceRequest::Browse(to.clone()));
        cx.request(Some(to), IqType::Get, browse::query()?, Some(owner))
    }

    // ---- stream management ----

    /// The rooms a resumed session keeps (see [`CarriedRoom`]); those being left too,
    /// so that their [`Left`](ConferenceEvent::Left) still comes.
    pub(crate) fn carry_out(&self) -> Vec<CarriedRoom> {
        self.rooms()
            .map(|v| CarriedRoom {
                room: v.jid.clone(),
                nick: v.room.nick.clone(),
                options: v.room.options.clone(),
                state: v.room.state,
                occupants: v.occupants().cloned().collect(),
                subject: v.room.subject.clone(),
            })
            .collect()
    }

    /// Takes in the rooms an earlier connection carried (kept as they were until the
    /// resumption's outcome is known).
    pub(crate) fn carry_in(&mut self, cx: &Cx, carried: Vec<CarriedRoom>) {
        let max = usize::from(cx.config.conference.max_rooms);
        let max_occupants = usize::from(cx.config.conference.max_occupants);
        for c in carried {
            let jid = c.room.to_bare();
            let rooms = self.rooms.as_deref();
            let known = rooms.is_some_and(|r| r.contains_key(&jid));
            if !known && rooms.map_or(0, BTreeMap::len) >= max {
                // The bound holds across every carry (it may be called more than once).
                continue;
            }
            let mut room = Room::new(&c.nick, c.options);
            room.state = c.state;
            room.subject = c.subject;
            for o in c.occupants.into_iter().take(max_occupants) {
                room.occupants.insert(o.nick.clone(), o);
            }
            self.rooms
                .get_or_insert_with(Default::default)
                .insert(jid, room);
        }
    }

    /// The session resumed: we are still in every room; self-pings start over, and so
    /// does the wait for a leave's confirmation.
    pub(crate) fn on_resumed(&mut self, cx: &Cx) {
        let next = cx.config.conference.self_ping().map(|d| cx.now + d);
        let leave_by = cx.now + cx.config.iq_timeout;
        for room in self
            .rooms
            .as_deref_mut()
            .into_iter()
            .flat_map(|r| r.values_mut())
        {
            match room.state {
                RoomState::Joined => room.next_ping = next,
                RoomState::Leaving => room.leave_by = Some(leave_by),
                _ => {}
            }
        }
    }

    /// A new session: the server took us out of every room.
    pub(crate) fn on_new_session(&mut self, cx: &mut Cx) {
        let Some(rooms) = self.rooms.as_deref_mut() else {
            return;
        };
        // A room being left is left: the new session is in none.
        rooms.retain(|jid, r| {
            let leaving = r.state == RoomState::Leaving;
            if leaving {
                cx.push(ConferenceEvent::Left { room: jid.clone() });
            }
            !leaving
        });
        for (jid, room) in rooms.iter_mut() {
            if room.state == RoomState::Dropped {
                continue;
            }
            drop_room(room);
            cx.push(ConferenceEvent::Dropped {
                room: jid.clone(),
                reason: DropReason::NewSession,
            });
        }
        if rooms.is_empty() {
            self.rooms = None;
        }
    }

    // ---- routing ----

    /// The answer (or timeout) of one of our requests.
    pub(crate) fn on_reply(
        &mut self,
        cx: &mut Cx,
        id: IqId,
        request: ConferenceRequest,
        reply: Reply<'_>,
    ) {
        match request {
            ConferenceRequest::SelfPing(jid) => self.on_ping_reply(cx, jid, reply),
            ConferenceRequest::Configure(room) => cx.push(match reply {
                Reply::Result(_) => ConferenceEvent::Configured { room },
                Reply::Error(error) => ConferenceEvent::Error { room, error },
                Reply::Timeout => ConferenceEvent::Error {
                    room,
                    error: StanzaError::new(StanzaCondition::RemoteServerTimeout),
                },
            }),
            ConferenceRequest::Nick(jid) => self.on_nick_reply(cx, jid, reply),
            ConferenceRequest::Browse(from) => self.on_browse_reply(cx, id, from, reply),
        }
    }

    /// The connection is over: the rooms are kept for a resumption to carry.
    pub(crate) fn on_closed(&mut self) {
        for room in self
            .rooms
            .as_deref_mut()
            .into_iter()
            .flat_map(|r| r.values_mut())
        {
            room.pinging = false;
            room.next_ping = None;
            room.leave_by = None;
        }
    }
}
