//! A room's presence: its occupants coming, changing and going, our own presence
//! (status 110) that says we are in, nickname changes (303) and conflicts (409), and
//! how we leave or are removed.

use alloc::boxed::Box;
use alloc::string::String;
use core::time::Duration;

use super::occupants::{MucUser, status};
use super::resource_of;
use super::room::Room;
use super::room::{drop_room, suspect, touch};
use super::{
    Affiliation, ConferenceEvent, ConferenceRequest, Conferences, DropReason, Occupant, Protocol,
    Role, RoomState, join,
};
use crate::client::{Cx, Owner};
use crate::jid::Jid;
use crate::stanza::{IqType, Presence, PresenceType, StanzaCondition, StanzaError};

impl Conferences {
    /// A presence: the room's if it comes from a room we know; otherwise handed back.
    pub(crate) fn on_presence(&mut self, cx: &mut Cx, p: Presence) -> Option<Presence> {
        let Some(jid) = self.room_of(|| p.from()) else {
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
        if p.kind() == PresenceType::Error {
            let error = StanzaError::from_stanza(p.element().root())
                .unwrap_or_else(|| StanzaError::new(StanzaCondition::UndefinedCondition));
            if room.state == RoomState::Leaving {
                // Whatever it refuses (a join it never took, a leave from one it forgot),
                // we are out: the leave is done.
                cx.push(ConferenceEvent::Left { room: jid.clone() });
                self.remove(&jid);
                return None;
            }
            // An error says nothing of whether the room still knows us; the two a room
            // that forgot us answers make us ask at once.
            suspect(room, cx.now, ping, &error);
        } else {
            // Any other stanza from the room shows we are still in it.
            touch(room, cx.now, ping);
        }
        let Some(nick) = resource else {
            // The room's own address has no presence of its own to report.
            return None;
        };
        if room.options.protocol == Protocol::Conference {
            // Members are proxy JIDs there, and the roster pushes say who is in.
            super::legacy::on_member_presence(room, cx, &jid, &p);
            return None;
        }
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
}

/// What to do with the room after a presence.
#[derive(PartialEq, Eq)]
enum Outcome {
    Keep,
    Forget,
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
    if own && room.stale_leave && room.state == RoomState::Joining {
        // The confirmation of the leave this join followed, not a refusal of the join.
        room.stale_leave = false;
        return Outcome::Keep;
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
