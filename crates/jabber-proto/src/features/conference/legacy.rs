//! The cheat sheet's conference protocol as the rooms see it: the nickname request's
//! answer, the `jabber:iq:conference` roster pushes, browsing (and a browsed proxy
//! JID's real address). Payloads are in [`browse`](super::browse).

use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;

use super::room::drop_room;
use super::{
    BrowseItem, ConferenceEvent, Conferences, DropReason, IQ_BROWSE, JoinOptions, Occupant,
    Protocol, RoomState, browse, join,
};
use crate::client::{Cx, Error, IqId, Reply};
use crate::jid::Jid;
use crate::stanza::{Iq, IqType, Presence, StanzaCondition, StanzaError};
use crate::xml::Element;

impl Conferences {
    /// An IQ request: a `jabber:iq:conference` roster push from a conference-protocol
    /// room we know is ours.
    pub(crate) fn on_request(&mut self, cx: &mut Cx, iq: &Iq) -> bool {
        let Some(lines) = iq.payload().and_then(browse::roster_push) else {
            return false;
        };
        if iq.from().is_some_and(|f| f.resource().is_some()) {
            return false;
        }
        let Some(jid) = self.room_of(|| iq.from()) else {
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
        let mut dropped = false;
        // A push names each occupant once; one that flips a nick back and forth would
        // make an event per line: at most two per occupant kept are taken.
        let mut budget = max_occupants.saturating_mul(2).max(2);
        for line in lines {
            if budget == 0 {
                break;
            }
            let own = line.nick == room.nick;
            if room.state == RoomState::Leaving {
                // The one last update after our unavailable presence (the cheat sheet):
                // it confirms we left, and says nothing else.
                if own && line.remove {
                    left = true;
                }
                continue;
            }
            if line.remove && own {
                // The room took us out of its roster: we are no longer in it.
                dropped = true;
                break;
            }
            if line.remove {
                if let Some(occupant) = room.occupants.remove(&line.nick) {
                    budget -= 1;
                    cx.push(ConferenceEvent::OccupantLeft {
                        room: jid.clone(),
                        occupant: Box::new(occupant),
                    });
                }
                continue;
            }
            let known = room.occupants.get(&line.nick).map(|o| o.proxy.as_ref());
            if known == Some(Some(&line.proxy)) {
                // Nothing new (a push may repeat a line any number of times): no event,
                // so one push yields at most one per occupant kept and one per removal.
                continue;
            }
            let known = known.is_some();
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
            budget -= 1;
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
        } else if dropped {
            if let Some(room) = self.get_mut(&jid) {
                drop_room(room);
            }
            cx.push(ConferenceEvent::Dropped {
                room: jid,
                reason: DropReason::Unlisted,
            });
        }
        true
    }

    pub(super) fn on_nick_reply(&mut self, cx: &mut Cx, jid: Jid, reply: Reply<'_>) {
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
                // Joined; not self-pinged (see `Room::self_pinged`).
                room.state = RoomState::Joined;
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

    pub(super) fn on_browse_reply(&mut self, cx: &mut Cx, id: IqId, from: Jid, reply: Reply<'_>) {
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
}

/// The conference protocol's nickname choices: ours, then (with retry) the fallbacks.
pub(super) fn nick_choices(nick: &str, options: &JoinOptions) -> Result<Element, Error> {
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

/// A member's presence in a conference-protocol room (from its proxy JID): its show and
/// status. Who is in the room is the roster pushes' to say, so a proxy the roster has
/// not named, or an unavailable presence, changes nothing.
pub(super) fn on_member_presence(room: &mut super::Room, cx: &mut Cx, jid: &Jid, p: &Presence) {
    if p.kind() != crate::stanza::PresenceType::Available || room.state == RoomState::Leaving {
        return;
    }
    let Some(from) = p.from().map(|f| f.to_owned_jid()) else {
        return;
    };
    let Some(occupant) = room
        .occupants
        .values_mut()
        .find(|o| o.proxy.as_ref() == Some(&from))
    else {
        return;
    };
    occupant.show = p.show();
    occupant.status = p.status().map(String::from);
    let occupant = Box::new(occupant.clone());
    cx.push(ConferenceEvent::OccupantChanged {
        room: jid.clone(),
        occupant,
    });
}
