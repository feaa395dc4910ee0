//! What the conference feature reports: [`Event::Conference`](crate::client::Event::Conference).

use alloc::boxed::Box;
use alloc::string::String;

use super::browse::BrowseItem;
use super::invite::{Decline, Invite};
use super::occupants::Occupant;
use crate::client::IqId;
use crate::jid::Jid;
use crate::stanza::{Message, StanzaError};

/// Why we are no longer in a room we did not leave.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum DropReason {
    /// A self-ping (XEP-0410) says the room no longer knows us (its service restarted,
    /// or lost our connection); the error it answered.
    SelfPing(StanzaError),
    /// This is a new session (stream-management resumption failed): the server took
    /// us out of every room with the old one.
    NewSession,
    /// Kicked (307) or banned (301), or removed by an affiliation change (321, 322),
    /// a service shutdown (332) or an error (333): the status code.
    Removed(u16),
    /// The room was destroyed.
    Destroyed,
    /// The room's roster (the cheat sheet's conference protocol) took us out while we
    /// had not left.
    Unlisted,
}

/// The conference feature's events (rooms: XEP-0045, groupchat 1.0 and the cheat
/// sheet's conference protocol; invitations).
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum ConferenceEvent {
    /// We are in the room: our own presence came back (status 110; in groupchat 1.0,
    /// the presence of our own nickname; in the conference protocol, the answer to our
    /// nickname request). The occupants already there came before it.
    Joined {
        /// The room (bare).
        room: Jid,
        /// Our nickname, as the room has it (it may have changed ours).
        nick: String,
        /// Our join created the room (201). With
        /// [`JoinOptions::instant`](super::JoinOptions::instant) its default
        /// configuration is accepted at once ([`Configured`](Self::Configured) follows).
        created: bool,
    },
    /// The room we created took its default configuration: it is open to others.
    Configured {
        /// The room.
        room: Jid,
    },
    /// Someone entered (or was there when we entered).
    OccupantJoined {
        /// The room.
        room: Jid,
        /// Who.
        occupant: Box<Occupant>,
    },
    /// An occupant's presence, role or affiliation changed.
    OccupantChanged {
        /// The room.
        room: Jid,
        /// The occupant, as it now is.
        occupant: Box<Occupant>,
    },
    /// An occupant left.
    OccupantLeft {
        /// The room.
        room: Jid,
        /// Who, as it was.
        occupant: Box<Occupant>,
    },
    /// An occupant's nickname changed (303); `own` when it is ours.
    NickChanged {
        /// The room.
        room: Jid,
        /// The nickname before.
        old: String,
        /// The nickname after.
        new: String,
        /// It is ours.
        own: bool,
    },
    /// Our nickname is taken (409). While joining with
    /// [`JoinOptions::retry_nick`](super::JoinOptions::retry_nick), `retry` is the
    /// nickname the join goes on with; otherwise the join (or change) is given up.
    NickConflict {
        /// The room.
        room: Jid,
        /// The nickname refused.
        nick: String,
        /// The one tried next, if any.
        retry: Option<String>,
    },
    /// The room's subject (sent on joining, and when someone changes it).
    Subject {
        /// The room.
        room: Jid,
        /// Who set it, if the room says (none for the room itself).
        nick: Option<String>,
        /// The subject (empty: cleared).
        subject: String,
    },
    /// A message to the room (ours too, as the room reflects it; the history sent on
    /// joining carries a delay, [`Message::delay`]). `/me`: [`super::emote`].
    Message {
        /// The room.
        room: Jid,
        /// Who sent it.
        nick: String,
        /// The message.
        message: Box<Message>,
    },
    /// A message from the room itself (its bare address): "has joined/left" lines of
    /// the older protocols, configuration notices.
    Notice {
        /// The room.
        room: Jid,
        /// The message.
        message: Box<Message>,
    },
    /// A private message from an occupant (or, in the conference protocol, its proxy
    /// JID).
    PrivateMessage {
        /// The room.
        room: Jid,
        /// Who sent it.
        nick: String,
        /// The message.
        message: Box<Message>,
    },
    /// An invitation (from anyone: it joins nothing by itself).
    Invited(Box<Invite>),
    /// A mediated invitation we sent was declined.
    Declined(Box<Decline>),
    /// We left the room ([`Client::leave_room`](crate::client::Client::leave_room)):
    /// the room confirmed with our own unavailable presence (in the conference
    /// protocol, its last roster update) or with an error presence, or we left a room we
    /// had been dropped from; without confirmation, an
    /// [`iq_timeout`](crate::client::Config::iq_timeout) after leaving, or at once when
    /// we join it again or a new session starts. What the room sent between our leaving
    /// and then is ignored, and the room is forgotten.
    Left {
        /// The room.
        room: Jid,
    },
    /// We are no longer in the room though we did not leave; it is kept, to
    /// [`rejoin`](crate::client::Client::rejoin_room) when the application wants.
    Dropped {
        /// The room.
        room: Jid,
        /// Why.
        reason: DropReason,
    },
    /// The room refused something: the join (then we are not in it), a message, a
    /// subject, the instant configuration.
    Error {
        /// The room.
        room: Jid,
        /// Its error.
        error: StanzaError,
    },
    /// The answer to [`Client::browse`](crate::client::Client::browse).
    Browsed {
        /// The request's handle.
        id: IqId,
        /// What was browsed.
        from: Jid,
        /// What it is and holds; for a member's proxy JID, `jid` is its real address
        /// (also set on the occupant, with [`OccupantChanged`](Self::OccupantChanged)).
        item: Box<BrowseItem>,
    },
    /// A browse request failed; `free` when it was a room that does not exist (404),
    /// whose name can be taken.
    BrowseFailed {
        /// The request's handle.
        id: IqId,
        /// What was browsed.
        from: Jid,
        /// The room does not exist: its name is free.
        free: bool,
        /// The error (`None`: no answer in time).
        error: Option<StanzaError>,
    },
}
