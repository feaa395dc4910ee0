//! `jabber send`.

use jabber_tokio::Message;

use super::{Result, parse_jid};
use crate::args::{Common, Send, SendType};
use crate::connect::{self, Needs};
use crate::output::Record;

/// Logs in, sends the message, waits until the server has it, logs out.
pub(crate) async fn run(common: &Common, args: Send) -> Result {
    let to = parse_jid(&args.to)?;
    let mut builder = match args.kind {
        SendType::Chat => Message::chat(&to),
        SendType::Normal => Message::normal(&to),
        SendType::Headline => Message::headline(&to),
    };
    if let Some(subject) = &args.subject {
        builder = builder.subject(subject);
    }
    let message = builder.body(&args.text).build()?;
    let mut session = connect::login(common, Needs::default()).await?;
    session.conn.send(message)?;
    session.settle().await?;
    let json = session.json;
    session.logout().await?;
    if json {
        Record::new("sent", "")
            .field("to", Some(to.as_str()))
            .print(true)?;
    }
    Ok(())
}
