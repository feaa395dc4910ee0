//! The room roster (XEP-0045 §7.2): what an occupant's presence says of it — nickname,
//! role, affiliation, the real JID where the room shows it — and the `muc#user` payload
//! that carries those, with the status codes that qualify a presence.

use alloc::string::String;
use alloc::vec::Vec;

use super::MUC_USER;
use crate::jid::{Jid, JidRef};
use crate::stanza::Show;
use crate::xml::ElementRef;

crate::names::named_enum! {
    /// What an occupant may do in the room now (XEP-0045 §5.1).
    pub enum Role {
        /// May kick and moderate.
        Moderator => "moderator",
        /// May speak.
        Participant => "participant",
        /// May only listen.
        Visitor => "visitor",
        /// Not in the room (the role of an occupant leaving).
        None => "none",
    }
}

crate::names::named_enum! {
    /// The occupant's long-lived standing with the room (XEP-0045 §5.2).
    pub enum Affiliation {
        /// Owns the room.
        Owner => "owner",
        /// Administers the room.
        Admin => "admin",
        /// A registered member.
        Member => "member",
        /// Banned.
        Outcast => "outcast",
        /// No affiliation.
        None => "none",
    }
}

/// One occupant of a room, as its latest presence (or, in the cheat sheet's conference
/// protocol, the room's `jabber:iq:conference` roster) describes it.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Occupant {
    /// The nickname: the resource of its occupant address `room@service/nick`.
    pub nick: String,
    /// Its role (`Participant` where the room does not say).
    pub role: Role,
    /// Its affiliation (`None` where the room does not say).
    pub affiliation: Affiliation,
    /// Its real address, where the room lets us see it (non-anonymous rooms, or to
    /// moderators; in the cheat sheet's protocol, once browsed).
    pub jid: Option<Jid>,
    /// Its availability detail.
    pub show: Option<Show>,
    /// Its status text.
    pub status: Option<String>,
    /// In the cheat sheet's conference protocol: the proxy address the room made up for
    /// it (`room@service/3f5c…`), to which private messages and browse queries go.
    pub proxy: Option<Jid>,
}

impl Occupant {
    /// An occupant known only by its nickname.
    pub fn new(nick: &str) -> Occupant {
        Occupant {
            nick: String::from(nick),
            role: Role::Participant,
            affiliation: Affiliation::None,
            jid: None,
            show: None,
            status: None,
            proxy: None,
        }
    }
}

/// The status codes of a `muc#user` payload we act on (XEP-0045 §15.6).
pub(crate) mod status {
    /// This presence is our own.
    pub(crate) const SELF: u16 = 110;
    /// This presence created the room.
    pub(crate) const CREATED: u16 = 201;
    /// A nickname change: the item's `nick` is the new one.
    pub(crate) const NEW_NICK: u16 = 303;
    /// Banned.
    pub(crate) const BANNED: u16 = 301;
    /// Kicked.
    pub(crate) const KICKED: u16 = 307;
    /// Removed because of an affiliation change.
    pub(crate) const AFFILIATION: u16 = 321;
    /// Removed because the room became members-only.
    pub(crate) const MEMBERS_ONLY: u16 = 322;
    /// Removed because the service is shutting down.
    pub(crate) const SHUTDOWN: u16 = 332;
    /// Removed because of an error (the service lost us, e.g. after a restart).
    pub(crate) const ERROR: u16 = 333;
}

/// The `<x xmlns='http://jabber.org/protocol/muc#user'/>` of an occupant's presence,
/// read: its item and status codes (bounded: a room sending more than 16 codes is
/// truncated, as no presence needs that many).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct MucUser {
    pub(crate) role: Option<Role>,
    pub(crate) affiliation: Option<Affiliation>,
    pub(crate) jid: Option<Jid>,
    /// The item's `nick`: the new nickname with status 303.
    pub(crate) nick: Option<String>,
    pub(crate) codes: Vec<u16>,
    /// `<destroy/>`: the room is gone.
    pub(crate) destroyed: bool,
}

const MAX_CODES: usize = 16;

impl MucUser {
    /// The payload in `stanza`, if it has one.
    pub(crate) fn of(stanza: ElementRef<'_>) -> Option<MucUser> {
        let x = stanza.child("x", MUC_USER)?;
        let mut user = MucUser::default();
        for child in x.children() {
            if child.ns() != MUC_USER {
                continue;
            }
            match child.name() {
                "item" => {
                    user.role = child.attr("role").and_then(Role::from_name);
                    user.affiliation = child.attr("affiliation").and_then(Affiliation::from_name);
                    user.jid = child
                        .attr("jid")
                        .and_then(|j| JidRef::parse(j).ok())
                        .map(|j| j.to_owned_jid());
                    user.nick = child.attr("nick").map(String::from);
                }
                "status" if user.codes.len() < MAX_CODES => {
                    if let Some(code) = child.attr("code").and_then(|c| c.parse().ok()) {
                        user.codes.push(code);
                    }
                }
                "destroy" => user.destroyed = true,
                _ => {}
            }
        }
        Some(user)
    }

    pub(crate) fn has(&self, code: u16) -> bool {
        self.codes.contains(&code)
    }
}
