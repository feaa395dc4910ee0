//! The conference commands and getters (`features/conference`): rooms, their messages,
//! invitations, and the cheat sheet's browsing. Each command records itself for the
//! capture and checks the session; a refused command changes nothing.

use super::{Client, Error, IqId, capture};
use alloc::vec::Vec;

use crate::features::conference::{
    self, CarriedRoom, JoinOptions, Room, RoomView, capture as conference_capture, invite_message,
};
use crate::jid::Jid;
use crate::stanza::Message;
use crate::stanza::ext::{Extension, Invitation};
use crate::time::Instant;

impl Client {
    // ---- getters ----

    /// A room we are in, entering, leaving or were dropped from: our nickname, its
    /// occupants, its subject.
    pub fn room(&self, room: &Jid) -> Option<RoomView<'_>> {
        self.conference.room(room)
    }

    /// Every room [`room`](Self::room) knows, in address order.
    pub fn rooms(&self) -> impl Iterator<Item = RoomView<'_>> + '_ {
        self.conference.rooms()
    }

    /// The rooms to carry to a new connection ([`carry_rooms`](Self::carry_rooms)):
    /// those we are in, entering, leaving or were dropped from, with their occupants. Also
    /// after the connection ended, which is when it is wanted. (A resumption carries
    /// them by itself: [`Resumption::rooms`](crate::features::stream_management::Resumption::rooms).)
    pub fn carried_rooms(&self) -> Vec<CarriedRoom> {
        self.conference.carry_out()
    }

    // ---- commands ----

    /// Takes in the rooms an earlier connection was in
    /// ([`carried_rooms`](Self::carried_rooms)), before logging in on this one: the new
    /// session is in none of them, so each is reported
    /// [`Dropped`](conference::ConferenceEvent::Dropped) with
    /// [`DropReason::NewSession`](conference::DropReason::NewSession) when it starts,
    /// and kept for [`rejoin_room`](Self::rejoin_room). Refused with
    /// [`Error::WrongPhase`] once a session is up.
    pub fn carry_rooms(&mut self, now: Instant, rooms: Vec<CarriedRoom>) -> Result<(), Error> {
        let record = || {
            capture::command("carry-rooms")
                .children(rooms.iter().map(conference_capture::room_element))
        };
        self.captured(now, record, |c| {
            if c.cx.jid.is_some() || c.is_closed() {
                return Err(Error::WrongPhase);
            }
            c.cx.tick(now);
            c.conference.carry_in(&c.cx, rooms.clone());
            Ok(())
        })
    }

    /// Enters `room` (its bare address) as `nick`, as `options` say (MUC by default).
    /// The occupants already there come as
    /// [`OccupantJoined`](conference::ConferenceEvent::OccupantJoined), then
    /// [`Joined`](conference::ConferenceEvent::Joined); a refusal is
    /// [`Error`](conference::ConferenceEvent::Error) or
    /// [`NickConflict`](conference::ConferenceEvent::NickConflict).
    ///
    /// On a room we are leaving, the leave ends at once
    /// ([`Left`](conference::ConferenceEvent::Left)) and the room is entered anew —
    /// unless it was left before it answered the join: its answers to that join and to
    /// the leave may still come, and could not be told from the new join's, so the join
    /// waits (refused with [`Error::WrongPhase`]) until the leave ends.
    ///
    /// Refused with [`Error::WrongPhase`] before login or for a room already joined (or
    /// being joined), [`Error::TooManyRooms`] beyond
    /// [`ConferenceConfig::max_rooms`](conference::ConferenceConfig::max_rooms),
    /// [`Error::InvalidAddress`] for a nickname that makes no address.
    pub fn join_room(
        &mut self,
        now: Instant,
        room: &Jid,
        nick: &str,
        options: JoinOptions,
    ) -> Result<(), Error> {
        let record = || {
            conference_capture::with_options(
                capture::command("join-room")
                    .attr("room", room.as_str())
                    .attr("nick", nick),
                &options,
            )
        };
        self.captured(now, record, |c| {
            let leaving = c
                .conference
                .room(room)
                .is_some_and(|r| r.state() == conference::RoomState::Leaving);
            c.room_change(now, room, |conf, cx| {
                conf.join(cx, room, nick, options.clone())
            })?;
            if leaving {
                // The join ended the leave (only once it went out: a refused join is
                // undone whole, leave included).
                c.cx.push(conference::ConferenceEvent::Left {
                    room: room.to_bare(),
                });
            }
            Ok(())
        })
    }

    /// Enters again a room the server dropped us from
    /// ([`Dropped`](conference::ConferenceEvent::Dropped)) under the same nickname and
    /// options; for a room we are in, sends the join presence again. Refused with
    /// [`Error::NotInRoom`] for a room unknown (or left).
    pub fn rejoin_room(&mut self, now: Instant, room: &Jid) -> Result<(), Error> {
        let record = || capture::command("rejoin-room").attr("room", room.as_str());
        self.captured(now, record, |c| {
            c.room_change(now, room, |conf, cx| conf.rejoin(cx, room))
        })
    }

    /// Leaves `room` (unavailable presence, with an optional status);
    /// [`Left`](conference::ConferenceEvent::Left) follows when the room confirms (at
    /// once for a room we were dropped from; without confirmation, after
    /// [`Config::iq_timeout`](super::Config::iq_timeout)).
    pub fn leave_room(
        &mut self,
        now: Instant,
        room: &Jid,
        status: Option<&str>,
    ) -> Result<(), Error> {
        let record = || {
            let b = capture::command("leave-room").attr("room", room.as_str());
            match status {
                Some(s) => b.attr("status", s),
                None => b,
            }
        };
        self.captured(now, record, |c| {
            c.room_change(now, room, |conf, cx| {
                conf.leave(cx, room, status).map(|()| None)
            })
        })
    }

    /// Asks for the nickname `nick` in `room`:
    /// [`NickChanged`](conference::ConferenceEvent::NickChanged) or
    /// [`NickConflict`](conference::ConferenceEvent::NickConflict) follows. Refused with
    /// [`Error::WrongPhase`] in the conference protocol, which has no such request.
    pub fn change_nick(&mut self, now: Instant, room: &Jid, nick: &str) -> Result<(), Error> {
        let record = || {
            capture::command("change-nick")
                .attr("room", room.as_str())
                .attr("nick", nick)
        };
        self.captured(now, record, |c| {
            c.room_change(now, room, |conf, cx| {
                conf.change_nick(cx, room, nick).map(|()| None)
            })
        })
    }

    /// Sends `body` to everyone in `room` (a `groupchat` message to its bare address,
    /// whatever resource `room` has; `/me`: [`conference::me`]). The room reflects it back as a
    /// [`Message`](conference::ConferenceEvent::Message) from our nickname.
    pub fn send_groupchat(&mut self, now: Instant, room: &Jid, body: &str) -> Result<(), Error> {
        let record = || {
            capture::command("send-groupchat")
                .attr("room", room.as_str())
                .attr("body", body)
        };
        self.captured(now, record, |c| {
            // `groupchat` goes to the bare address: never to an occupant.
            let m = Message::groupchat(room).body(body).build()?;
            c.send_to_room(now, room, &m)
        })
    }

    /// Sets the subject of `room` (to its bare address; where the room allows us);
    /// [`Subject`](conference::ConferenceEvent::Subject) follows.
    pub fn set_subject(&mut self, now: Instant, room: &Jid, subject: &str) -> Result<(), Error> {
        let record = || {
            capture::command("set-subject")
                .attr("room", room.as_str())
                .attr("subject", subject)
        };
        self.captured(now, record, |c| {
            let m = Message::groupchat(room).subject(subject).build()?;
            c.send_to_room(now, room, &m)
        })
    }

    /// Sends `body` privately to the occupant `nick` of `room` (a `chat` message to its
    /// occupant address; in the conference protocol, its proxy JID).
    pub fn send_private(
        &mut self,
        now: Instant,
        room: &Jid,
        nick: &str,
        body: &str,
    ) -> Result<(), Error> {
        let record = || {
            capture::command("send-private")
                .attr("room", room.as_str())
                .attr("nick", nick)
                .attr("body", body)
        };
        self.captured(now, record, |c| {
            c.check_session()?;
            let m = c.conference.private_message(room, nick, body)?;
            c.emit_command(now, m.element())
        })
    }

    /// Invites `to` to a room directly (`jabber:x:conference`, XEP-0249): a message to
    /// `to` carrying `invitation`.
    pub fn invite_direct(
        &mut self,
        now: Instant,
        to: &Jid,
        invitation: &Invitation,
    ) -> Result<(), Error> {
        let record = || {
            capture::with_child(
                capture::command("invite-direct").attr("to", to.as_str()),
                invitation.to_element(),
            )
        };
        self.captured(now, record, |c| {
            c.check_session()?;
            let m = Message::normal(to).extension(invitation).build()?;
            c.emit_command(now, m.element())
        })
    }

    /// Asks `room` (its bare address) to invite `to` (mediated, XEP-0045 §7.8.2); the
    /// invitee may decline
    /// ([`Declined`](conference::ConferenceEvent::Declined)).
    pub fn invite(
        &mut self,
        now: Instant,
        room: &Jid,
        to: &Jid,
        reason: Option<&str>,
    ) -> Result<(), Error> {
        let record = || {
            let b = capture::command("invite")
                .attr("room", room.as_str())
                .attr("to", to.as_str());
            match reason {
                Some(r) => b.attr("reason", r),
                None => b,
            }
        };
        self.captured(now, record, |c| {
            let m = invite_message(room, "invite", to, reason)?;
            c.send_to_room(now, room, &m)
        })
    }

    /// Declines a mediated invitation to `room` from `inviter` (the room passes it on).
    pub fn decline_invite(
        &mut self,
        now: Instant,
        room: &Jid,
        inviter: &Jid,
        reason: Option<&str>,
    ) -> Result<(), Error> {
        let record = || {
            let b = capture::command("decline-invite")
                .attr("room", room.as_str())
                .attr("inviter", inviter.as_str());
            match reason {
                Some(r) => b.attr("reason", r),
                None => b,
            }
        };
        self.captured(now, record, |c| {
            c.check_session()?;
            let m = invite_message(room, "decline", inviter, reason)?;
            c.emit_command(now, m.element())
        })
    }

    /// Browses `to` (`jabber:iq:browse`, the cheat sheet's discovery): a server for its
    /// conference services, a room name to see whether it is free, a member's proxy JID
    /// for its real address. [`Browsed`](conference::ConferenceEvent::Browsed) or
    /// [`BrowseFailed`](conference::ConferenceEvent::BrowseFailed) follows.
    pub fn browse(&mut self, now: Instant, to: &Jid) -> Result<IqId, Error> {
        let record = || capture::command("browse").attr("to", to.as_str());
        self.captured(now, record, |c| {
            c.check_session()?;
            c.cx.tick(now);
            let before = c.cx.out_len();
            let id = c.conference.browse(&mut c.cx, to)?;
            if let Err(e) = c.cx.check_room(before) {
                c.cx.iqs.forget(id);
                return Err(e);
            }
            Ok(id)
        })
    }

    /// Accepts the default configuration of `room`, which we created with
    /// [`JoinOptions::instant`] off (a room we create stays locked until its owner
    /// configures it): [`Configured`](conference::ConferenceEvent::Configured) or
    /// [`Error`](conference::ConferenceEvent::Error) follows. Refused with
    /// [`Error::NotInRoom`] for a room we are not in.
    pub fn configure_instant_room(&mut self, now: Instant, room: &Jid) -> Result<IqId, Error> {
        let record = || capture::command("configure-instant-room").attr("room", room.as_str());
        self.captured(now, record, |c| {
            c.check_session()?;
            c.cx.tick(now);
            let before = c.cx.out_len();
            let id = c.conference.configure_instant(&mut c.cx, room)?;
            if let Err(e) = c.cx.check_room(before) {
                c.cx.iqs.forget(id);
                return Err(e);
            }
            Ok(id)
        })
    }

    // ---- helpers ----

    fn check_session(&self) -> Result<(), Error> {
        self.cx.check_open()?;
        if self.cx.jid.is_none() {
            return Err(Error::WrongPhase);
        }
        Ok(())
    }

    /// Writes `stanza` for the application, within the send-buffer bound.
    fn emit_command(&mut self, now: Instant, stanza: &crate::xml::Element) -> Result<(), Error> {
        self.cx.tick(now);
        let before = self.cx.out_len();
        self.cx.emit(stanza);
        self.cx.check_room(before)?;
        self.responders.on_activity(now);
        Ok(())
    }

    /// Sends `m` to a room we are in.
    fn send_to_room(&mut self, now: Instant, room: &Jid, m: &Message) -> Result<(), Error> {
        self.check_session()?;
        self.conference.room_is_live(room)?;
        self.emit_command(now, m.element())
    }

    /// A command that changes what we know of `room`: undone whole when its bytes do
    /// not fit.
    fn room_change(
        &mut self,
        now: Instant,
        room: &Jid,
        change: impl FnOnce(&mut conference::Conferences, &mut super::Cx) -> Result<Option<IqId>, Error>,
    ) -> Result<(), Error> {
        self.check_session()?;
        self.cx.tick(now);
        let was: Option<Room> = self.conference.snapshot(room);
        let before = self.cx.out_len();
        let id = change(&mut self.conference, &mut self.cx)?;
        if let Err(e) = self.cx.check_room(before) {
            if let Some(id) = id {
                self.cx.iqs.forget(id);
            }
            self.conference.restore(room, was);
            return Err(e);
        }
        self.responders.on_activity(now);
        Ok(())
    }
}
