//! `jabber listen`, and how an incoming item is printed (shared with `chat`).

use jabber_tokio::jabber_proto::features::conference::{
    ConferenceEvent, Decline, Invite, InviteKind,
};
use jabber_tokio::jabber_proto::stanza::PresenceType;
use jabber_tokio::{Event, Jid, Message, Presence, PresenceEvent, StanzaEvent, SubscriptionEvent};

use super::{Result, Stop};
use crate::args::{Common, Listen};
use crate::connect::{self, Needs};
use crate::fail::Failure;
use crate::output::Record;

/// Logs in (available, so that messages and presence reach us) and prints each incoming
/// message, presence and subscription change until `--count` items or `--timeout`.
pub(crate) async fn run(common: &Common, args: Listen) -> Result {
    let timeout = super::timeout_arg(args.timeout)?;
    let mut session = connect::login(
        common,
        Needs {
            roster: false,
            presence: true,
            offers: false,
        },
    )
    .await?;
    let deadline = super::deadline_after(timeout);
    let mut seen = 0u64;
    while args.count.is_none_or(|n| seen < n) {
        let next = match deadline {
            Some(d) => match tokio::time::timeout_at(d, session.conn.next_event()).await {
                Ok(next) => next,
                Err(_) => {
                    session.logout().await?;
                    return Err(Stop::TimedOut);
                }
            },
            None => session.conn.next_event().await,
        };
        match next? {
            None => return Err(Failure::new("the connection ended").into()),
            Some(Event::Closed(reason)) => {
                return Err(Failure::new(format!("the connection ended: {reason}")).into());
            }
            Some(event) => {
                if let Some(record) = describe(&event, &session.me) {
                    record.print(session.json)?;
                    seen += 1;
                }
            }
        }
    }
    session.logout().await?;
    Ok(())
}

/// The line for an incoming message, presence or subscription change; `None` for
/// anything else (our own presence included).
pub(crate) fn describe(event: &Event, me: &Jid) -> Option<Record> {
    match event {
        Event::Stanza(StanzaEvent::Message(m)) => message(m),
        Event::Presence(PresenceEvent::Available(p) | PresenceEvent::Unavailable(p)) => {
            let from = p.from()?;
            if from.as_str() == me.as_str() {
                return None;
            }
            Some(presence(p, from.as_str()))
        }
        Event::Presence(PresenceEvent::Error { error, presence }) => {
            let from = presence.from().map(|f| f.as_str().to_owned());
            let who = from.clone().unwrap_or_else(|| "the server".into());
            Some(
                Record::new("presence", format!("{who}: presence error: {error}"))
                    .field("from", from)
                    .field("type", Some("error"))
                    .field("error", Some(error.condition.to_string())),
            )
        }
        Event::Subscription(s) => subscription(s),
        Event::Conference(ConferenceEvent::Invited(i)) => Some(invitation(i)),
        Event::Conference(ConferenceEvent::Declined(d)) => Some(decline(d)),
        _ => None,
    }
}

/// A message with something to read (a body or a subject); chat-state notices and
/// other body-less messages are not shown.
fn message(m: &Message) -> Option<Record> {
    let body = m.body();
    let subject = m.subject();
    if body.is_none() && subject.is_none() {
        return None;
    }
    let from = m.from().map(|f| f.as_str().to_owned());
    let kind = m.kind().as_str();
    let mut text = format!("{} ({kind})", from.as_deref().unwrap_or("the server"));
    if let Some(s) = &subject {
        text.push_str(&format!(" [{s}]"));
    }
    text.push_str(": ");
    text.push_str(body.as_deref().unwrap_or_default());
    Some(
        Record::new("message", text)
            .field("from", from)
            .field("to", m.to().map(|t| t.as_str().to_owned()))
            .field("type", Some(kind))
            .field("id", m.id())
            .field("subject", subject.map(|s| s.into_owned()))
            .field("thread", m.thread().map(|s| s.into_owned()))
            .field("body", body.map(|s| s.into_owned())),
    )
}

/// Someone's availability.
fn presence(p: &Presence, from: &str) -> Record {
    let available = p.kind() != PresenceType::Unavailable;
    let kind = if available {
        "available"
    } else {
        "unavailable"
    };
    let show = p.show().map(|s| s.as_str());
    let status = p.status().map(|s| s.into_owned());
    let mut text = format!("{from} is {kind}");
    if let Some(show) = show {
        text.push_str(&format!(" ({show})"));
    }
    if let Some(status) = &status {
        text.push_str(&format!(": {status}"));
    }
    Record::new("presence", text)
        .field("from", Some(from))
        .field("type", Some(kind))
        .field("show", show)
        .field("status", status)
        .field("priority", available.then(|| p.priority()))
}

/// A subscription request or answer.
fn subscription(s: &SubscriptionEvent) -> Option<Record> {
    let from = s.presence().from()?.as_str().to_owned();
    let (kind, says) = match s {
        SubscriptionEvent::Request(_) => ("subscribe", "asks to see your presence"),
        SubscriptionEvent::Approved(_) => ("subscribed", "lets you see its presence"),
        SubscriptionEvent::Revoked(_) => ("unsubscribed", "no longer lets you see its presence"),
        SubscriptionEvent::Unsubscribed(_) => ("unsubscribe", "stopped seeing your presence"),
        _ => return None,
    };
    let status = s.presence().status().map(|s| s.into_owned());
    let mut text = format!("{from} {says}");
    if let Some(status) = &status {
        text.push_str(&format!(": {status}"));
    }
    Some(
        Record::new("subscription", text)
            .field("from", Some(from))
            .field("type", Some(kind))
            .field("status", status),
    )
}

/// An invitation to a room (direct or through the room).
fn invitation(i: &Invite) -> Record {
    let from = i
        .from
        .as_ref()
        .or(i.sender.as_ref())
        .map(|j| j.as_str().to_owned());
    let kind = match i.kind {
        InviteKind::Direct => "direct",
        _ => "mediated",
    };
    let mut text = format!(
        "{} invites you to {}",
        from.as_deref().unwrap_or("someone"),
        i.room
    );
    if let Some(reason) = &i.reason {
        text.push_str(&format!(": {reason}"));
    }
    Record::new("invitation", text)
        .field("from", from)
        .field("room", Some(i.room.as_str()))
        .field("type", Some(kind))
        .field("reason", i.reason.clone())
        .field("password", i.password.clone())
}

/// A declined invitation we had sent through a room.
fn decline(d: &Decline) -> Record {
    let from = d.from.as_ref().map(|j| j.as_str().to_owned());
    let mut text = format!(
        "{} declined the invitation to {}",
        from.as_deref().unwrap_or("someone"),
        d.room
    );
    if let Some(reason) = &d.reason {
        text.push_str(&format!(": {reason}"));
    }
    Record::new("decline", text)
        .field("from", from)
        .field("room", Some(d.room.as_str()))
        .field("reason", d.reason.clone())
}
