//! `jabber join ROOM@SERVICE/NICK`: a conference room (MUC) in line mode.

use tokio::io::{AsyncBufReadExt, BufReader};

use jabber_tokio::Event;
use jabber_tokio::jabber_proto::features::conference::{
    ConferenceEvent, DropReason, JoinOptions, emote,
};

use super::{Result, parse_jid};
use crate::args::{Common, Join};
use crate::connect::{self, Needs};
use crate::fail::Failure;
use crate::output::Record;
use crate::session::ANSWER_WAIT;

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
    // A room (or a service) that never answers the join must not hold us forever; a
    // rejoin after a drop waits as long.
    let mut answer_by = Some(tokio::time::Instant::now() + ANSWER_WAIT);
    loop {
        tokio::select! {
            () = until(answer_by) => {
                return Err(Failure::new(format!("{room} did not answer the join")).into());
            }
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
                        ConferenceEvent::Joined { room: r, .. } if *r == room => {
                            joined = true;
                            answer_by = None;
                        }
                        ConferenceEvent::Left { room: r } if *r == room => break,
                        ConferenceEvent::Error { room: r, error } if *r == room && !joined => {
                            return Err(Failure::new(format!("cannot join {room}: {error}")).into());
                        }
                        ConferenceEvent::Dropped { room: r, reason } if *r == room => {
                            // Lines typed now would be refused; a failed rejoin ends
                            // the command (the error before `joined`).
                            joined = false;
                            if !rejoins(reason) {
                                // Kicked, banned, the room destroyed: not ours to undo.
                                return Err(Failure::new(format!(
                                    "{room}: {}",
                                    drop_text(reason)
                                ))
                                .into());
                            }
                            // The room lost us (a restart, a lost connection): go back in.
                            session.command(|c, now| c.rejoin_room(now, &room))?;
                            answer_by = Some(tokio::time::Instant::now() + ANSWER_WAIT);
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

/// Waits until `at`; never without one.
async fn until(at: Option<tokio::time::Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// Whether a drop is the room forgetting us, which joining again repairs, rather than
/// someone's decision.
fn rejoins(reason: &DropReason) -> bool {
    matches!(reason, DropReason::SelfPing(_) | DropReason::NewSession)
}

/// Why the room took us out, for the error line.
fn drop_text(reason: &DropReason) -> String {
    match reason {
        DropReason::Removed(301) => "banned from the room".into(),
        DropReason::Removed(307) => "kicked from the room".into(),
        DropReason::Removed(321 | 322) => "removed from the room (affiliation changed)".into(),
        DropReason::Removed(332) => "the room's service shut down".into(),
        DropReason::Removed(code) => format!("removed from the room (status {code})"),
        DropReason::Destroyed => "the room was destroyed".into(),
        DropReason::Unlisted => "the room's roster no longer lists us".into(),
        other => format!("dropped from the room ({other:?})"),
    }
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
        ConferenceEvent::Dropped { room, reason } if rejoins(reason) => {
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
