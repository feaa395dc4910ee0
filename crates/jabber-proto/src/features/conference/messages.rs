//! A room's messages: groupchat, subject, private, from the room itself, errors; and
//! invitations and declines, from anyone.

use alloc::boxed::Box;
use alloc::string::String;

use super::resource_of;
use super::room::{suspect, touch};
use super::{ConferenceEvent, Conferences, RoomState, invite};
use crate::client::Cx;
use crate::stanza::{Message, MessageType, StanzaCondition, StanzaError};

impl Conferences {
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
        let Some(jid) = self.room_of(|| m.from()) else {
            return Some(m);
        };
        let resource = m.from().and_then(resource_of);
        let ping = cx.config.conference.self_ping();
        let Some(room) = self.get_mut(&jid) else {
            return Some(m);
        };
        if room.state == RoomState::Leaving {
            // We left (see `ConferenceEvent::Left`): what it still sends is not ours.
            return None;
        }
        if m.kind() == MessageType::Error {
            if let Some(error) = StanzaError::from_stanza(m.element().root()) {
                suspect(room, cx.now, ping, &error);
            }
        } else {
            touch(room, cx.now, ping);
        }
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
}
