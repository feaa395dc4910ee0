//! `jabber chat JID`: line-mode chat.

use tokio::io::{AsyncBufReadExt, BufReader};

use jabber_tokio::{Event, Message, StanzaEvent};

use super::{Result, parse_jid};
use crate::args::{Common, Target};
use crate::connect::{self, Needs};
use crate::fail::Failure;
use crate::output::Record;

/// Each line typed (or piped) is sent to the contact as a chat message; the contact's
/// messages are printed as they arrive. The end of input (Ctrl-D) waits until the
/// server has every line, then logs out.
pub(crate) async fn run(common: &Common, target: Target) -> Result {
    let peer = parse_jid(&target.address)?;
    let mut session = connect::login(
        common,
        Needs {
            roster: false,
            presence: true,
            offers: false,
        },
    )
    .await?;
    let mut lines = BufReader::new(tokio::io::stdin()).lines();
    let mut typing = true;
    while typing {
        // Both are cancel-safe: the branch that loses keeps its place.
        tokio::select! {
            line = lines.next_line() => match line {
                Ok(Some(line)) => {
                    if !line.is_empty() {
                        let m = Message::chat(&peer).body(&line).build()?;
                        session.conn.send(m)?;
                    }
                }
                Ok(None) => typing = false,
                Err(e) => return Err(Failure::new(format!("cannot read standard input: {e}")).into()),
            },
            event = session.conn.next_event() => match event? {
                None => return Err(Failure::new("the connection ended").into()),
                Some(Event::Closed(reason)) => {
                    return Err(Failure::new(format!("the connection ended: {reason}")).into());
                }
                Some(Event::Stanza(StanzaEvent::Message(m))) => {
                    if is_from(&m, &peer) {
                        if let Some(record) = line_of(&m) {
                            record.print(session.json)?;
                        }
                    }
                }
                Some(_) => {}
            },
        }
    }
    session.settle().await?;
    session.logout().await?;
    Ok(())
}

/// Whether `m` comes from the peer (any of its resources when it was named bare).
fn is_from(m: &Message, peer: &jabber_tokio::Jid) -> bool {
    let Some(from) = m.from() else { return false };
    if peer.is_bare() {
        from.bare().to_owned_jid() == *peer
    } else {
        from.to_owned_jid() == *peer
    }
}

/// An incoming line: `bob@example.com: text`, or an error the server returned.
fn line_of(m: &Message) -> Option<Record> {
    let from = m.from()?.as_str().to_owned();
    let body = m.body()?.into_owned();
    let text = if m.kind() == jabber_tokio::MessageType::Error {
        format!("{from}: (not delivered) {body}")
    } else {
        format!("{from}: {body}")
    };
    Some(
        Record::new("message", text)
            .field("from", Some(from))
            .field("type", Some(m.kind().as_str()))
            .field("body", Some(body)),
    )
}
