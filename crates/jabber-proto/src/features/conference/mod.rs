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
mod occupants;
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
use crate::stanza::{Iq, IqType, Message, MessageType, Presence, PresenceType, StanzaError};
use crate::time::Instant;
use crate::xml::{BuildError, Element, ElementRef};
use occupants::{MucUser, status};
pub(crate) use room::Room;

/// Multi-User Chat: the join payload (XEP-0045).
pub const MUC: &str = "http://jabber.org/protocol/muc";
/// Multi-User Chat: what the room says of occupants, invitations, declines.
pub const MUC_USER: &str = "http://jabber.org/protocol/muc#user";
/// Multi-User Chat: the owner's configuration.
pub const MUC_OWNER: &str = "http://jabber.org/protocol/muc#owner";
/// The cheat sheet's browsing (JEP-0011).
pub const IQ_BROWSE: &str = "jabber:iq:browse";
/// The cheat sheet's conference roster.
pub const IQ_CONFERENCE: &str = "jabber:iq:conference";

/// The conference feature's settings ([`Config::conference`](crate::client::Config)).
/// Eight bytes: every `Client` holds one.
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
    /// 0: never. Default 300.
    pub self_ping_secs: u32,
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
#[derive(Clone, Debug)]
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
fn resource_of(from: crate::jid::JidRef<'_>) -> Option<String> {
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
    /// one: every message and presence asks.
    fn room_of(&self, from: Option<crate::jid::JidRef<'_>>) -> Option<Jid> {
        let bare = from?.bare();
        self.rooms.as_deref()?.keys().find(|k| **k == bare).cloned()
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
        if let Some(known) = self.rooms.as_deref().and_then(|r| r.get(&room)) {
            if known.state != RoomState::Dropped {
                return Err(Error::WrongPhase);
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
        self.rooms
            .get_or_insert_with(Default::default)
            .insert(room, Room::new(nick, options));
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
            r.state = RoomState::Leaving;
            r.next_ping = None;
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

    /// Sends a browse request to `to`.
    pub(crate) fn browse(&mut self, cx: &mut Cx, to: &Jid) -> Result<IqId, Error> {
        let owner = Owner::Conference(ConferenceRequest::Browse(to.clone()));
        cx.request(Some(to), IqType::Get, browse::query()?, Some(owner))
    }

    // ---- stream management ----

    /// The rooms a resumed session keeps (see [`CarriedRoom`]).
    pub(crate) fn carry_out(&self) -> Vec<CarriedRoom> {
        self.rooms()
            .filter(|v| v.state() != RoomState::Leaving)
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
        for c in carried.into_iter().take(max) {
            let mut room = Room::new(&c.nick, c.options);
            room.state = c.state;
            room.subject = c.subject;
            for o in c.occupants.into_iter().take(max_occupants) {
                room.occupants.insert(o.nick.clone(), o);
            }
            self.rooms
                .get_or_insert_with(Default::default)
                .insert(c.room.to_bare(), room);
        }
    }

    /// The session resumed: we are still in every room; self-pings start over.
    pub(crate) fn on_resumed(&mut self, cx: &Cx) {
        let next = cx.config.conference.self_ping().map(|d| cx.now + d);
        for room in self
            .rooms
            .as_deref_mut()
            .into_iter()
            .flat_map(|r| r.values_mut())
        {
            if room.state == RoomState::Joined {
                room.next_ping = next;
            }
        }
    }

    /// A new session: the server took us out of every room.
    pub(crate) fn on_new_session(&mut self, cx: &mut Cx) {
        let Some(rooms) = self.rooms.as_deref_mut() else {
            return;
        };
        rooms.retain(|_, r| r.state != RoomState::Leaving);
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

    /// A presence: the room's if it comes from a room we know; otherwise handed back.
    pub(crate) fn on_presence(&mut self, cx: &mut Cx, p: Presence) -> Option<Presence> {
        let Some(jid) = self.room_of(p.from()) else {
            return Some(p);
        };
        let resource = p.from().and_then(resource_of);
        let max_occupants = usize::from(cx.config.conference.max_occupants);
        let ping = cx.config.conference.self_ping();
        let Some(room) = self.get_mut(&jid) else {
            return Some(p);
        };
        match p.kind() {
            PresenceType::Available | PresenceType::Unavailable | PresenceType::Error => {}
            // Subscriptions and probes are between accounts, not the room's.
            _ => return Some(p),
        }
        // Any stanza from the room shows we are still in it.
        touch(room, cx.now, ping);
        let Some(nick) = resource else {
            // The room's own address has no presence of its own to report.
            return None;
        };
        let muc = MucUser::of(p.element().root()).unwrap_or_default();
        let outcome = match p.kind() {
            PresenceType::Error => on_error(room, cx, &jid, &p),
            PresenceType::Unavailable => on_unavailable(room, cx, &jid, &nick, &muc),
            _ => on_available(room, cx, &jid, &nick, &p, muc, max_occupants, ping),
        };
        if outcome == Outcome::Forget {
            self.remove(&jid);
        }
        None
    }

    /// A message: invitations (from anyone) and what a room we know sends; anything
    /// else is handed back.
    pub(crate) fn on_message(&mut self, cx: &mut Cx, m: Message) -> Option<Message> {
        if m.kind() != MessageType::Error {
            if let Some(carried) = invite::read(&m) {
                cx.push(match carried {
                    invite::Carried::Invite(i) => ConferenceEvent::Invited(Box::new(i)),
                    invite::Carried::Decline(d) => ConferenceEvent::Declined(Box::new(d)),
                });
                return None;
            }
        }
        let Some(jid) = self.room_of(m.from()) else {
            return Some(m);
        };
        let resource = m.from().and_then(resource_of);
        let ping = cx.config.conference.self_ping();
        let Some(room) = self.get_mut(&jid) else {
            return Some(m);
        };
        touch(room, cx.now, ping);
        let nick = resource.map(|r| match m.from() {
            // The conference protocol's senders are proxy JIDs.
            Some(from) => room
                .nick_of_proxy(&from.to_owned_jid())
                .map(String::from)
                .unwrap_or(r),
            None => r,
        });
        let event = match (m.kind(), nick) {
            (MessageType::Error, _) => ConferenceEvent::Error {
                room: jid,
                error: crate::stanza::StanzaError::from_stanza(m.element().root())
                    .unwrap_or_else(|| StanzaError::new(StanzaCondition::UndefinedCondition)),
            },
            (MessageType::Groupchat, nick) if m.body().is_none() && m.subject().is_some() => {
                let subject = String::from(m.subject().unwrap_or_default());
                room.subject = Some(subject.clone());
                ConferenceEvent::Subject {
                    room: jid,
                    nick,
                    subject,
                }
            }
            (_, None) => ConferenceEvent::Notice {
                room: jid,
                message: Box::new(m),
            },
            (MessageType::Groupchat, Some(nick)) => ConferenceEvent::Message {
                room: jid,
                nick,
                message: Box::new(m),
            },
            (_, Some(nick)) => ConferenceEvent::PrivateMessage {
                room: jid,
                nick,
                message: Box::new(m),
            },
        };
        cx.push(event);
        None
    }

    /// An IQ request: a `jabber:iq:conference` roster push from a conference-protocol
    /// room we know is ours.
    pub(crate) fn on_request(&mut self, cx: &mut Cx, iq: &Iq) -> bool {
        let Some(lines) = iq.payload().and_then(browse::roster_push) else {
            return false;
        };
        if iq.from().is_some_and(|f| f.resource().is_some()) {
            return false;
        }
        let Some(jid) = self.room_of(iq.from()) else {
            return false;
        };
        let max_occupants = usize::from(cx.config.conference.max_occupants);
        let Some(room) = self.get_mut(&jid) else {
            return false;
        };
        if room.options.protocol != Protocol::Conference || iq.kind() != IqType::Set {
            return false;
        }
        let _ = cx.reply(iq.element(), Ok(None));
        let mut left = false;
        for line in lines {
            let own = line.nick == room.nick;
            if room.state == RoomState::Leaving {
                // The one last update after our unavailable presence (the cheat sheet):
                // it confirms we left, and says nothing else.
                if own && line.remove {
                    left = true;
                }
                continue;
            }
            if line.remove {
                if let Some(occupant) = room.occupants.remove(&line.nick) {
                    cx.push(ConferenceEvent::OccupantLeft {
                        room: jid.clone(),
                        occupant: Box::new(occupant),
                    });
                }
                continue;
            }
            let known = room.occupants.contains_key(&line.nick);
            if !known && room.occupants.len() >= max_occupants {
                room.dropped = room.dropped.saturating_add(1);
                continue;
            }
            let occupant = room
                .occupants
                .entry(line.nick.clone())
                .or_insert_with(|| Occupant::new(&line.nick));
            occupant.proxy = Some(line.proxy);
            let occupant = occupant.clone();
            cx.push(if known {
                ConferenceEvent::OccupantChanged {
                    room: jid.clone(),
                    occupant: Box::new(occupant),
                }
            } else {
                ConferenceEvent::OccupantJoined {
                    room: jid.clone(),
                    occupant: Box::new(occupant),
                }
            });
        }
        if left {
            self.remove(&jid);
            cx.push(ConferenceEvent::Left { room: jid });
        }
        true
    }

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

    fn on_ping_reply(&mut self, cx: &mut Cx, jid: Jid, reply: Reply<'_>) {
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
            Reply::Result(_) => self_ping::Verdict::Joined,
            Reply::Error(e) => self_ping::verdict(Some(e)),
            Reply::Timeout => self_ping::verdict(None),
        };
        if verdict != self_ping::Verdict::Dropped {
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

    fn on_nick_reply(&mut self, cx: &mut Cx, jid: Jid, reply: Reply<'_>) {
        let ping = cx.config.conference.self_ping();
        let now = cx.now;
        let Some(room) = self.get_mut(&jid) else {
            return;
        };
        if room.state != RoomState::Joining {
            return;
        }
        match reply {
            Reply::Result(iq) => {
                // The room may say which of our nicknames we got.
                let chosen = iq.payload().and_then(|p| {
                    p.children()
                        .find(|c| c.name() == "nick")
                        .map(|c| String::from(c.text()))
                });
                if let Some(nick) = chosen.filter(|n| !n.is_empty()) {
                    room.nick = nick;
                }
                room.state = RoomState::Joined;
                room.next_ping = ping.map(|d| now + d);
                let nick = room.nick.clone();
                // The cheat sheet: presence once more, or the members may not see us.
                if let Ok(p) = Presence::available().to(&jid).build() {
                    cx.emit(p.element());
                }
                cx.push(ConferenceEvent::Joined {
                    room: jid,
                    nick,
                    created: false,
                });
            }
            Reply::Error(error) => {
                let nick = room.nick.clone();
                self.remove(&jid);
                cx.push(if error.condition == StanzaCondition::Conflict {
                    ConferenceEvent::NickConflict {
                        room: jid,
                        nick,
                        retry: None,
                    }
                } else {
                    ConferenceEvent::Error { room: jid, error }
                });
            }
            Reply::Timeout => {
                self.remove(&jid);
                cx.push(ConferenceEvent::Error {
                    room: jid,
                    error: StanzaError::new(StanzaCondition::RemoteServerTimeout),
                });
            }
        }
    }

    fn on_browse_reply(&mut self, cx: &mut Cx, id: IqId, from: Jid, reply: Reply<'_>) {
        match reply {
            Reply::Result(iq) => {
                let Some(payload) = iq.payload().filter(|p| p.ns() == IQ_BROWSE) else {
                    return cx.push(ConferenceEvent::BrowseFailed {
                        id,
                        from,
                        free: false,
                        error: Some(StanzaError::new(StanzaCondition::BadRequest)),
                    });
                };
                let item = BrowseItem::from_element(payload, 1);
                self.learn_real_jid(cx, &from, &item);
                cx.push(ConferenceEvent::Browsed {
                    id,
                    from,
                    item: Box::new(item),
                });
            }
            Reply::Error(error) => cx.push(ConferenceEvent::BrowseFailed {
                id,
                from,
                free: error.condition == StanzaCondition::ItemNotFound,
                error: Some(error),
            }),
            Reply::Timeout => cx.push(ConferenceEvent::BrowseFailed {
                id,
                from,
                free: false,
                error: None,
            }),
        }
    }

    /// A browsed proxy JID's answer names the member's real address.
    fn learn_real_jid(&mut self, cx: &mut Cx, proxy: &Jid, item: &BrowseItem) {
        let (Some(real), Some(room)) = (&item.jid, self.get_mut(&proxy.to_bare())) else {
            return;
        };
        let Some(occupant) = room
            .occupants
            .values_mut()
            .find(|o| o.proxy.as_ref() == Some(proxy))
        else {
            return;
        };
        occupant.jid = Some(real.clone());
        let occupant = occupant.clone();
        cx.push(ConferenceEvent::OccupantChanged {
            room: proxy.to_bare(),
            occupant: Box::new(occupant),
        });
    }

    /// When a self-ping is next due.
    pub(crate) fn deadline(&self) -> Option<Instant> {
        self.rooms
            .as_deref()?
            .values()
            .filter(|r| r.state == RoomState::Joined && !r.pinging)
            .filter_map(|r| r.next_ping)
            .min()
    }

    /// Sends the self-pings that are due.
    pub(crate) fn on_timeout(&mut self, cx: &mut Cx, now: Instant) {
        let Some(rooms) = self.rooms.as_deref_mut() else {
            return;
        };
        if cx.jid.is_none() || !cx.is_open() {
            return;
        }
        for (jid, room) in rooms.iter_mut() {
            let due = room.state == RoomState::Joined
                && !room.pinging
                && room.next_ping.is_some_and(|t| t <= now);
            if !due {
                continue;
            }
            let (Ok(to), Ok(ping)) = (jid.with_resource(&room.nick), self_ping::ping()) else {
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
        }
    }
}

/// The conference protocol's nickname choices: ours, then (with retry) the fallbacks.
fn nick_choices(nick: &str, options: &JoinOptions) -> Result<Element, Error> {
    let mut nicks = alloc::vec![String::from(nick)];
    if options.retry_nick {
        for _ in 0..join::MAX_NICK_RETRIES {
            let next = join::next_nick(nicks.last().map(String::as_str).unwrap_or(nick));
            nicks.push(next);
        }
    }
    let refs: Vec<&str> = nicks.iter().map(String::as_str).collect();
    Ok(browse::nick_choices(&refs)?)
}

/// What to do with the room after a presence.
#[derive(PartialEq, Eq)]
enum Outcome {
    Keep,
    Forget,
}

/// A stanza from the room: it still knows us; the next self-ping waits.
fn touch(room: &mut Room, now: Instant, ping: Option<Duration>) {
    if room.state == RoomState::Joined && !room.pinging {
        room.next_ping = ping.map(|d| now + d);
    }
}

/// We are out of the room without leaving it: kept, for a rejoin.
fn drop_room(room: &mut Room) {
    room.state = RoomState::Dropped;
    room.occupants.clear();
    room.next_ping = None;
    room.pinging = false;
    room.pending_nick = None;
}

fn occupant_of(nick: &str, p: &Presence, muc: MucUser, proxy: Option<Jid>) -> Occupant {
    let mut o = Occupant::new(nick);
    o.role = muc.role.unwrap_or(Role::Participant);
    o.affiliation = muc.affiliation.unwrap_or(Affiliation::None);
    o.jid = muc.jid;
    o.show = p.show();
    o.status = p.status().map(String::from);
    o.proxy = proxy;
    o
}

#[allow(clippy::too_many_arguments)]
fn on_available(
    room: &mut Room,
    cx: &mut Cx,
    jid: &Jid,
    nick: &str,
    p: &Presence,
    muc: MucUser,
    max_occupants: usize,
    ping: Option<Duration>,
) -> Outcome {
    if room.state == RoomState::Leaving || room.state == RoomState::Dropped {
        return Outcome::Keep;
    }
    let own = muc.has(status::SELF)
        || (room.options.protocol == Protocol::Groupchat
            && room.state == RoomState::Joining
            && nick == room.nick);
    let created = muc.has(status::CREATED);
    if own && nick != room.nick {
        // Our own entry moves with our nickname: one slot, however often the room
        // renames us (the bound leaves room for us alone).
        let old = core::mem::replace(&mut room.nick, String::from(nick));
        room.occupants.remove(&old);
    }
    let proxy = room.occupants.get(nick).and_then(|o| o.proxy.clone());
    let occupant = occupant_of(nick, p, muc, proxy);
    let known = room.occupants.contains_key(nick);
    if !known && !own && room.occupants.len() >= max_occupants {
        room.dropped = room.dropped.saturating_add(1);
        return Outcome::Keep;
    }
    room.occupants.insert(String::from(nick), occupant.clone());
    if own && room.state == RoomState::Joining {
        // The room may have given us another nickname than the one we asked (210).
        room.nick = String::from(nick);
        room.state = RoomState::Joined;
        room.retries = 0;
        room.next_ping = ping.map(|d| cx.now + d);
        cx.push(ConferenceEvent::OccupantJoined {
            room: jid.clone(),
            occupant: Box::new(occupant),
        });
        cx.push(ConferenceEvent::Joined {
            room: jid.clone(),
            nick: String::from(nick),
            created,
        });
        if created && room.options.instant {
            let owner = Owner::Conference(ConferenceRequest::Configure(jid.clone()));
            if let Ok(query) = join::instant_room_query() {
                let _ = cx.request(Some(jid), IqType::Set, query, Some(owner));
            }
        }
        return Outcome::Keep;
    }
    if own {
        room.nick = String::from(nick);
        if room.pending_nick.as_deref() == Some(nick) {
            room.pending_nick = None;
        }
    }
    cx.push(if known {
        ConferenceEvent::OccupantChanged {
            room: jid.clone(),
            occupant: Box::new(occupant),
        }
    } else {
        ConferenceEvent::OccupantJoined {
            room: jid.clone(),
            occupant: Box::new(occupant),
        }
    });
    Outcome::Keep
}

fn on_unavailable(room: &mut Room, cx: &mut Cx, jid: &Jid, nick: &str, muc: &MucUser) -> Outcome {
    let own =
        muc.has(status::SELF) || (room.options.protocol != Protocol::Muc && nick == room.nick);
    if muc.has(status::NEW_NICK) {
        if let Some(new) = muc.nick.as_deref() {
            if room.state == RoomState::Leaving {
                return Outcome::Keep;
            }
            if let Some(mut o) = room.occupants.remove(nick) {
                o.nick = String::from(new);
                room.occupants.insert(String::from(new), o);
            }
            if own {
                room.nick = String::from(new);
                room.pending_nick = None;
            }
            cx.push(ConferenceEvent::NickChanged {
                room: jid.clone(),
                old: String::from(nick),
                new: String::from(new),
                own,
            });
            return Outcome::Keep;
        }
    }
    if own {
        if room.state == RoomState::Leaving {
            cx.push(ConferenceEvent::Left { room: jid.clone() });
            return Outcome::Forget;
        }
        if room.state == RoomState::Dropped {
            return Outcome::Keep;
        }
        let reason = if muc.destroyed {
            DropReason::Destroyed
        } else {
            let codes = [
                status::BANNED,
                status::KICKED,
                status::AFFILIATION,
                status::MEMBERS_ONLY,
                status::SHUTDOWN,
                status::ERROR,
            ];
            DropReason::Removed(
                codes
                    .into_iter()
                    .find(|c| muc.has(*c))
                    .unwrap_or(status::ERROR),
            )
        };
        drop_room(room);
        cx.push(ConferenceEvent::Dropped {
            room: jid.clone(),
            reason,
        });
        return Outcome::Keep;
    }
    if room.state == RoomState::Leaving {
        return Outcome::Keep;
    }
    if let Some(occupant) = room.occupants.remove(nick) {
        cx.push(ConferenceEvent::OccupantLeft {
            room: jid.clone(),
            occupant: Box::new(occupant),
        });
    }
    Outcome::Keep
}

fn on_error(room: &mut Room, cx: &mut Cx, jid: &Jid, p: &Presence) -> Outcome {
    let error = StanzaError::from_stanza(p.element().root())
        .unwrap_or_else(|| StanzaError::new(StanzaCondition::UndefinedCondition));
    let conflict = error.condition == StanzaCondition::Conflict;
    match room.state {
        RoomState::Joining if conflict => {
            let nick = room.nick.clone();
            let retry = (room.options.retry_nick && room.retries < join::MAX_NICK_RETRIES)
                .then(|| join::next_nick(&nick));
            let sent = retry.as_ref().is_some_and(|next| {
                match join::join_presence(jid, next, &room.options) {
                    Ok(presence) => {
                        cx.emit(&presence);
                        true
                    }
                    Err(_) => false,
                }
            });
            let retry = retry.filter(|_| sent);
            if let Some(next) = &retry {
                room.nick = next.clone();
                room.retries += 1;
            }
            let forget = retry.is_none();
            cx.push(ConferenceEvent::NickConflict {
                room: jid.clone(),
                nick,
                retry,
            });
            if forget {
                Outcome::Forget
            } else {
                Outcome::Keep
            }
        }
        RoomState::Joining => {
            cx.push(ConferenceEvent::Error {
                room: jid.clone(),
                error,
            });
            Outcome::Forget
        }
        _ => {
            if let (Some(nick), true) = (room.pending_nick.take(), conflict) {
                cx.push(ConferenceEvent::NickConflict {
                    room: jid.clone(),
                    nick,
                    retry: None,
                });
            } else {
                cx.push(ConferenceEvent::Error {
                    room: jid.clone(),
                    error,
                });
            }
            Outcome::Keep
        }
    }
}
