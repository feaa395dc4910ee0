//! `jabber join ROOM@SERVICE/NICK`: a conference room (MUC) in line mode.

use tokio::io::{AsyncBufReadExt, BufReader};

use jabber_tokio::Event;
use jabber_tokio::jabber_proto::features::conference::{ConferenceEvent, JoinOptions, emote};

use super::{Result, parse_jid};
use crate::args::{Common, Join};
use crate::connect::{self, Needs};
use crate::fail::Failure;
use crate::output::Record;

/// Joins the room and prints what happens in it; each typed line goes to the room
/// (`/me ...` as an action, `/nick NEW` changes our nickname). The end of input leaves
/// the room and logs out.
pub(crate) async fn run(common: &Common, args: Join) -> Result {
    let address = parse_jid(&args.room)?;
    let Some(nick) = address.resource().map(str::to_owned) else {
        return Err(Failure::new(format!(
            "{}: name the nickname too: ROOM@SERVICE/NICK",
            args.room
        ))
        .into());
    };
    let room = address.to_bare();
    let mut options = JoinOptions::default();
    options.retry_nick = true;
    if let Some(p) = &args.room_password {
        options = options.password(p);
    }
    let mut session = connect::login(common, Needs::default()).await?;
    session.command(|c, now| c.join_room(now, &room, &nick, options))?;
    let json = session.json;
    let mut lines = BufReader::new(tokio::io::stdin()).lines();
    let mut joined = false;
    let mut typing = true;
    loop {
        tokio::select! {
            // Lines are read once we are in the room: before, they would be refused.
            line = lines.next_line(), if joined && typing => match line {
                Ok(Some(line)) => {
                    if let Some(new) = line.strip_prefix("/nick ") {
                        let new = new.trim().to_owned();
                        session.command(|c, now| c.change_nick(now, &room, &new))?;
                    } else if !line.is_empty() {
                        session.command(|c, now| c.send_groupchat(now, &room, &line))?;
                    }
                }
                Ok(None) => {
                    typing = false;
                    session.command(|c, now| c.leave_room(now, &room, None))?;
                }
                Err(e) => return Err(Failure::new(format!("cannot read standard input: {e}")).into()),
            },
            event = session.conn.next_event() => match event? {
                None => return Err(Failure::new("the connection ended").into()),
                Some(Event::Closed(reason)) => {
                    return Err(Failure::new(format!("the connection ended: {reason}")).into());
                }
                Some(Event::Conference(e)) => {
                    match &e {
                        ConferenceEvent::Joined { room: r, .. } if *r == room => joined = true,
                        ConferenceEvent::Left { room: r } if *r == room => break,
                        ConferenceEvent::Error { room: r, error } if *r == room && !joined => {
                            return Err(Failure::new(format!("cannot join {room}: {error}")).into());
                        }
                        ConferenceEvent::Dropped { room: r, .. } if *r == room => {
                            // Out of the room without leaving: go back in.
                            session.command(|c, now| c.rejoin_room(now, &room))?;
                        }
                        _ => {}
                    }
                    if let Some(record) = describe(&e) {
                        record.print(json)?;
                    }
                }
                Some(_) => {}
            },
        }
    }
    session.logout().await?;
    Ok(())
}

/// The line for a room event.
fn describe(e: &ConferenceEvent) -> Option<Record> {
    let record = match &e {
        ConferenceEvent::Joined { room, nick, .. } => {
            Record::new("joined", format!("* you are in {room} as {nick}"))
                .field("room", Some(room.as_str()))
                .field("nick", Some(nick.as_str()))
        }
        ConferenceEvent::OccupantJoined { room, occupant } => {
            Record::new("occupant", format!("* {} is here", occupant.nick))
                .field("room", Some(room.as_str()))
                .field("type", Some("joined"))
                .field("nick", Some(occupant.nick.as_str()))
                .field("jid", occupant.jid.as_ref().map(|j| j.as_str()))
        }
        ConferenceEvent::OccupantLeft { room, occupant } => {
            Record::new("occupant", format!("* {} left", occupant.nick))
                .field("room", Some(room.as_str()))
                .field("type", Some("left"))
                .field("nick", Some(occupant.nick.as_str()))
        }
        ConferenceEvent::NickChanged { room, old, new, .. } => {
            Record::new("nick", format!("* {old} is now {new}"))
                .field("room", Some(room.as_str()))
                .field("old", Some(old.as_str()))
                .field("new", Some(new.as_str()))
        }
        ConferenceEvent::Subject { room, subject, .. } => {
            Record::new("subject", format!("* subject: {subject}"))
                .field("room", Some(room.as_str()))
                .field("subject", Some(subject.as_str()))
        }
        ConferenceEvent::Message {
            room,
            nick,
            message,
        } => {
            let body = message.body()?.into_owned();
            let text = match emote(nick, &body) {
                Some(action) => format!("* {action}"),
                None => format!("<{nick}> {body}"),
            };
            Record::new("groupchat", text)
                .field("room", Some(room.as_str()))
                .field("nick", Some(nick.as_str()))
                .field("body", Some(body))
                .field("delayed", Some(message.delay().is_some()))
        }
        ConferenceEvent::PrivateMessage {
            room,
            nick,
            message,
        } => {
            let body = message.body()?.into_owned();
            Record::new("private", format!("<{nick}> (private) {body}"))
                .field("room", Some(room.as_str()))
                .field("nick", Some(nick.as_str()))
                .field("body", Some(body))
        }
        ConferenceEvent::Notice { room, message } => {
            let body = message.body()?.into_owned();
            Record::new("notice", format!("* {body}"))
                .field("room", Some(room.as_str()))
                .field("body", Some(body))
        }
        ConferenceEvent::Dropped { room, .. } => {
            Record::new("dropped", format!("* {room} dropped us; joining again"))
                .field("room", Some(room.as_str()))
        }
        ConferenceEvent::Error { room, error } => {
            Record::new("error", format!("* {room}: {error}"))
                .field("room", Some(room.as_str()))
                .field("error", Some(error.to_string()))
        }
        _ => return None,
    };
    Some(record)
}
