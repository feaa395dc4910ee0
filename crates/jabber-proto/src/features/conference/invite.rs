//! Invitations: direct (`jabber:x:conference`, the cheat sheet's form and XEP-0249's)
//! and mediated (XEP-0045 §7.8.2: a message to the room, which forwards it from its own
//! address), and the decline of a mediated one (§7.8.2: sent to the room, which passes
//! it to the inviter).
//!
//! Anyone can send an invitation, so an invitation is reported as what it is — who
//! sent the stanza, who the room says invited us — and never joins anything by itself.

use alloc::string::String;

use super::MUC_USER;
use crate::jid::{Jid, JidRef};
use crate::stanza::Message;
use crate::stanza::ext::Invitation;
use crate::xml::{BuildError, Element, ElementRef};

/// How an invitation came.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum InviteKind {
    /// From the inviter itself (`jabber:x:conference`, XEP-0249).
    Direct,
    /// Through the room (`muc#user` `<invite/>`); decline it with
    /// [`Client::decline_invite`](crate::client::Client::decline_invite).
    Mediated,
}

/// An invitation received.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Invite {
    /// The room we are invited to.
    pub room: Jid,
    /// Who invites: the sender of a direct invitation; for a mediated one, the address
    /// the room names (`<invite from/>`), if it does.
    pub from: Option<Jid>,
    /// The address the stanza came from (the room, for a mediated invitation).
    pub sender: Option<Jid>,
    /// Why.
    pub reason: Option<String>,
    /// The room's password, if the invitation carries it.
    pub password: Option<String>,
    /// Direct or mediated.
    pub kind: InviteKind,
    /// A direct invitation (XEP-0249) that continues a one-to-one conversation in the
    /// room (`continue='true'`): the thread it continues (empty when it names none).
    pub continues: Option<String>,
}

/// A declined mediated invitation, as the room passes it on to us (the inviter).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Decline {
    /// The room.
    pub room: Jid,
    /// Who declined, as the room names them.
    pub from: Option<Jid>,
    /// Why.
    pub reason: Option<String>,
}

/// What a message carries of invitations: a mediated invitation or a decline (from a
/// room's bare address), else a direct invitation.
pub(crate) enum Carried {
    Invite(Invite),
    Decline(Decline),
}

fn jid_attr(el: ElementRef<'_>, name: &str) -> Option<Jid> {
    el.attr(name)
        .and_then(|j| JidRef::parse(j).ok())
        .map(|j| j.to_owned_jid())
}

fn reason(el: ElementRef<'_>) -> Option<String> {
    el.child("reason", MUC_USER)
        .map(|r| String::from(r.text()))
        .filter(|r| !r.trim().is_empty())
}

/// The invitation or decline in `m`, if any.
pub(crate) fn read(m: &Message) -> Option<Carried> {
    // Only a message that carries one pays for reading it (every message asks): one
    // pass finds whether any `<x/>` of either kind is there.
    let carries = m
        .element()
        .children()
        .any(|c| c.name() == "x" && matches!(c.ns(), MUC_USER | crate::ns::X_CONFERENCE));
    if !carries {
        return None;
    }
    let muc = m.element().child("x", MUC_USER);
    let direct: Option<Invitation> = match muc {
        Some(_) => None,
        None => Some(m.extension()?),
    };
    let sender = m.from().map(|f| f.to_owned_jid());
    if let Some(x) = muc {
        // Mediated: the room forwards it from its own (bare) address.
        let room = sender.as_ref().filter(|s| s.is_bare());
        if let (Some(invite), Some(room)) = (x.child("invite", MUC_USER), room) {
            return Some(Carried::Invite(Invite {
                room: room.clone(),
                from: jid_attr(invite, "from"),
                sender: sender.clone(),
                reason: reason(invite),
                password: x
                    .child("password", MUC_USER)
                    .map(|p| String::from(p.text())),
                kind: InviteKind::Mediated,
                continues: None,
            }));
        }
        if let (Some(decline), Some(room)) = (x.child("decline", MUC_USER), room) {
            return Some(Carried::Decline(Decline {
                room: room.clone(),
                from: jid_attr(decline, "from"),
                reason: reason(decline),
            }));
        }
    }
    let direct = direct.or_else(|| m.extension())?;
    Some(Carried::Invite(Invite {
        room: direct.room,
        from: sender.clone(),
        sender,
        reason: direct.reason,
        password: direct.password,
        kind: InviteKind::Direct,
        continues: direct.continues,
    }))
}

/// A `muc#user` message to `room`: an `<invite/>` or `<decline/>` (`what`) to `to`.
pub(crate) fn muc_user_message(
    room: &Jid,
    what: &str,
    to: &Jid,
    why: Option<&str>,
) -> Result<Message, BuildError> {
    let mut item = Element::builder(what, MUC_USER).attr("to", to.as_str());
    if let Some(why) = why {
        item = item.child(Element::builder("reason", MUC_USER).text(why));
    }
    let x = Element::builder("x", MUC_USER).child(item).build()?;
    Message::normal(&room.to_bare())
        .extension(&super::Payload(x))
        .build()
}
