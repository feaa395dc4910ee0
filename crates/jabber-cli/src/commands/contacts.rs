//! `jabber subscribe`, `approve`, `block`, `unblock`: one request about one contact.

use jabber_tokio::Event;
use jabber_tokio::jabber_proto::client::ServiceEvent;

use super::{Result, parse_jid};
use crate::args::{Common, Target};
use crate::connect::{self, Needs};
use crate::fail::Failure;

/// Asks to see the contact's presence.
pub(crate) async fn subscribe(common: &Common, target: Target) -> Result {
    let contact = parse_jid(&target.address)?;
    let mut session = connect::login(common, Needs::default()).await?;
    session.command(|c, now| c.subscribe(now, &contact))?;
    session.settle().await?;
    Ok(session.done("subscribe", &target.address).await?)
}

/// Lets the contact see our presence.
pub(crate) async fn approve(common: &Common, target: Target) -> Result {
    let contact = parse_jid(&target.address)?;
    let mut session = connect::login(common, Needs::default()).await?;
    session.command(|c, now| c.approve_subscription(now, &contact))?;
    session.settle().await?;
    Ok(session.done("approved", &target.address).await?)
}

/// Blocks (`block`) or unblocks the address (XEP-0191).
pub(crate) async fn block(common: &Common, target: Target, block: bool) -> Result {
    let jid = parse_jid(&target.address)?;
    let mut session = connect::login(common, Needs::default()).await?;
    let jids = [jid];
    let id = session.command(|c, now| {
        if block {
            c.block(now, &jids)
        } else {
            c.unblock(now, &jids)
        }
    })?;
    let answer = session
        .wait_for(|event| match event {
            Event::Services(
                ServiceEvent::Blocked { id: got } | ServiceEvent::Unblocked { id: got },
            ) if got == id => Some(Ok(())),
            Event::Services(ServiceEvent::Failed { id: got, error }) if got == id => {
                Some(Err(error))
            }
            _ => None,
        })
        .await?;
    if let Err(error) = answer {
        let what = if block { "blocking" } else { "unblocking" };
        let why = error.map_or_else(|| "no answer".to_owned(), |e| e.to_string());
        return Err(Failure::new(format!(
            "the server refused {what} {}: {why}",
            target.address
        ))
        .into());
    }
    Ok(session
        .done(if block { "blocked" } else { "unblocked" }, &target.address)
        .await?)
}
