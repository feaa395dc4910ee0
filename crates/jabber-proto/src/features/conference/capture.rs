//! The conference feature in a capture (see `client/capture.rs`): its config, its
//! commands' options and the rooms a resumption carries, written as capture elements
//! and read back by the replay.

use alloc::format;
use alloc::string::String;

use super::occupants::{Affiliation, Occupant, Role};
use super::{CarriedRoom, ConferenceConfig, History, JoinOptions, MUC, Protocol, RoomState};
use crate::client::{CAPTURE_NS, Client, Error};
use crate::jid::Jid;
use crate::stanza::Show;
use crate::stanza::ext::{Extension, Invitation};
use crate::time::Instant;
use crate::xml::{Element, ElementBuilder, ElementRef};

fn flag(v: bool) -> &'static str {
    if v { "true" } else { "false" }
}

/// [`ConferenceConfig`] as `<conference/>`.
pub(crate) fn config_element(c: &ConferenceConfig) -> ElementBuilder {
    Element::builder("conference", CAPTURE_NS)
        .attr("max-rooms", &format!("{}", c.max_rooms))
        .attr("max-occupants", &format!("{}", c.max_occupants))
        .attr("self-ping-secs", &format!("{}", c.self_ping_secs))
}

/// The `<conference/>` of a capture's config read back (defaults for what it lacks).
pub(crate) fn read_config(el: ElementRef<'_>) -> Option<ConferenceConfig> {
    let mut c = ConferenceConfig::default();
    if let Some(v) = el.attr("max-rooms") {
        c.max_rooms = v.parse().ok()?;
    }
    if let Some(v) = el.attr("max-occupants") {
        c.max_occupants = v.parse().ok()?;
    }
    if let Some(v) = el.attr("self-ping-secs") {
        c.self_ping_secs = v.parse().ok()?;
    }
    Some(c)
}

/// `b` with the attributes that say `options`.
pub(crate) fn with_options(mut b: ElementBuilder, options: &JoinOptions) -> ElementBuilder {
    b = b
        .attr("protocol", options.protocol.as_str())
        .attr("retry-nick", flag(options.retry_nick))
        .attr("instant", flag(options.instant));
    if let Some(p) = &options.password {
        // A child the console's secrets table names, so the capture masks it (the
        // replay joins with the mask, which the console shows as it showed the
        // password).
        b = b.child(Element::builder("password", MUC).text(p));
    }
    let h = &options.history;
    for (name, v) in [
        ("max-stanzas", h.max_stanzas),
        ("max-chars", h.max_chars),
        ("seconds", h.seconds),
    ] {
        if let Some(v) = v {
            b = b.attr(name, &format!("{v}"));
        }
    }
    b
}

/// The options [`with_options`] wrote on `el`.
pub(crate) fn read_options(el: ElementRef<'_>) -> Result<JoinOptions, String> {
    let num = |name: &str| -> Result<Option<u32>, String> {
        el.attr(name)
            .map(|v| v.parse().map_err(|_| format!("bad '{name}'")))
            .transpose()
    };
    let history = History {
        max_stanzas: num("max-stanzas")?,
        max_chars: num("max-chars")?,
        seconds: num("seconds")?,
    };
    let mut o = JoinOptions::default().history(history);
    o.protocol = match el.attr("protocol") {
        Some(p) => Protocol::from_name(p).ok_or("bad 'protocol'")?,
        None => Protocol::Muc,
    };
    o.password = el
        .child("password", MUC)
        .map(|p| String::from(p.text()))
        .or_else(|| el.attr("password").map(String::from));
    o.retry_nick = el.attr("retry-nick") == Some("true");
    o.instant = el.attr("instant") != Some("false");
    Ok(o)
}

fn state_name(s: RoomState) -> &'static str {
    match s {
        RoomState::Joining => "joining",
        RoomState::Joined => "joined",
        RoomState::Leaving => "leaving",
        RoomState::Dropped => "dropped",
    }
}

/// A carried room as `<room/>` (in a resumption's capture).
pub(crate) fn room_element(room: &CarriedRoom) -> ElementBuilder {
    let mut b = with_options(
        Element::builder("room", CAPTURE_NS)
            .attr("jid", room.room.as_str())
            .attr("nick", &room.nick)
            .attr("state", state_name(room.state)),
        &room.options,
    );
    if let Some(s) = &room.subject {
        b = b.attr("subject", s);
    }
    for o in &room.occupants {
        let mut e = Element::builder("occupant", CAPTURE_NS)
            .attr("nick", &o.nick)
            .attr("role", o.role.as_str())
            .attr("affiliation", o.affiliation.as_str());
        for (name, v) in [("jid", o.jid.as_ref()), ("proxy", o.proxy.as_ref())] {
            if let Some(v) = v {
                e = e.attr(name, v.as_str());
            }
        }
        if let Some(show) = o.show {
            e = e.attr("show", show.as_str());
        }
        if let Some(status) = &o.status {
            e = e.attr("status", status);
        }
        b = b.child(e);
    }
    b
}

/// A `<room/>` read back.
pub(crate) fn read_room(el: ElementRef<'_>) -> Result<CarriedRoom, String> {
    let jid = |v: Option<&str>| -> Result<Option<Jid>, String> {
        v.map(|v| Jid::parse(v).map_err(|e| format!("bad address: {e}")))
            .transpose()
    };
    let room = jid(el.attr("jid"))?.ok_or("<room/> without 'jid'")?;
    let mut c = CarriedRoom::new(
        &room,
        el.attr("nick").unwrap_or_default(),
        read_options(el)?,
    );
    c.state = match el.attr("state") {
        Some("joining") => RoomState::Joining,
        Some("leaving") => RoomState::Leaving,
        Some("dropped") => RoomState::Dropped,
        _ => RoomState::Joined,
    };
    c.subject = el.attr("subject").map(String::from);
    for o in el.children().filter(|c| c.is("occupant", CAPTURE_NS)) {
        let mut occupant = Occupant::new(o.attr("nick").unwrap_or_default());
        occupant.role = o
            .attr("role")
            .and_then(Role::from_name)
            .unwrap_or(Role::Participant);
        occupant.affiliation = o
            .attr("affiliation")
            .and_then(Affiliation::from_name)
            .unwrap_or(Affiliation::None);
        occupant.jid = jid(o.attr("jid"))?;
        occupant.proxy = jid(o.attr("proxy"))?;
        occupant.show = o.attr("show").and_then(Show::from_name);
        occupant.status = o.attr("status").map(String::from);
        c.occupants.push(occupant);
    }
    Ok(c)
}

/// The conference commands a capture records.
const COMMANDS: &[&str] = &[
    "join-room",
    "rejoin-room",
    "leave-room",
    "change-nick",
    "send-groupchat",
    "set-subject",
    "send-private",
    "invite-direct",
    "invite",
    "decline-invite",
    "browse",
    "carry-rooms",
    "configure-instant-room",
];

/// Whether `name` is one of the conference commands.
pub(crate) fn is_command(name: &str) -> bool {
    COMMANDS.contains(&name)
}

/// Runs the conference command `el` records on `client` (replay).
pub(crate) fn apply(
    client: &mut Client,
    now: Instant,
    el: ElementRef<'_>,
) -> Result<Result<(), Error>, String> {
    let attr = |name: &str| {
        el.attr(name)
            .ok_or_else(|| format!("<{}/> without '{name}'", el.name()))
    };
    let jid = |name: &str| -> Result<Jid, String> {
        Jid::parse(attr(name)?).map_err(|e| format!("bad '{name}': {e}"))
    };
    Ok(match el.name() {
        "join-room" => client.join_room(now, &jid("room")?, attr("nick")?, read_options(el)?),
        "rejoin-room" => client.rejoin_room(now, &jid("room")?),
        "leave-room" => client.leave_room(now, &jid("room")?, el.attr("status")),
        "change-nick" => client.change_nick(now, &jid("room")?, attr("nick")?),
        "send-groupchat" => client.send_groupchat(now, &jid("room")?, attr("body")?),
        "set-subject" => client.set_subject(now, &jid("room")?, attr("subject")?),
        "send-private" => client.send_private(now, &jid("room")?, attr("nick")?, attr("body")?),
        "invite-direct" => {
            let invitation = el
                .children()
                .find_map(Invitation::from_child)
                .ok_or("<invite-direct/> without its invitation")?;
            client.invite_direct(now, &jid("to")?, &invitation)
        }
        "invite" => client.invite(now, &jid("room")?, &jid("to")?, el.attr("reason")),
        "decline-invite" => {
            client.decline_invite(now, &jid("room")?, &jid("inviter")?, el.attr("reason"))
        }
        "browse" => client.browse(now, &jid("to")?).map(drop),
        "configure-instant-room" => client.configure_instant_room(now, &jid("room")?).map(drop),
        "carry-rooms" => {
            let rooms = el
                .children()
                .filter(|c| c.is("room", CAPTURE_NS))
                .map(read_room)
                .collect::<Result<_, _>>()?;
            client.carry_rooms(now, rooms)
        }
        other => return Err(format!("unknown command <{other}/>")),
    })
}
