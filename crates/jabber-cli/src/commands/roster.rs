//! `jabber roster [list|add|remove]`.

use jabber_tokio::jabber_proto::features::roster::RosterItem;

use super::{Result, parse_jid};
use crate::args::{Common, Roster, RosterCommand};
use crate::connect::{self, Needs};
use crate::fail::Failure;
use crate::output::Record;
use crate::session::Session;

/// Lists, adds or removes.
pub(crate) async fn run(common: &Common, args: Roster) -> Result {
    match args.action.unwrap_or(RosterCommand::List) {
        RosterCommand::List => list(common).await,
        RosterCommand::Add {
            contact: jid,
            name,
            groups,
        } => {
            let mut item = RosterItem::new(parse_jid(&jid)?);
            item.name = name;
            item.groups = groups;
            let mut session = connect::login(common, Needs::default()).await?;
            let id = session.command(|c, now| c.roster_set(now, &item))?;
            answered(&mut session, id, "adding", &jid).await?;
            Ok(session.done("added", &jid).await?)
        }
        RosterCommand::Remove { contact: jid } => {
            let contact = parse_jid(&jid)?;
            let mut session = connect::login(common, Needs::default()).await?;
            let id = session.command(|c, now| c.roster_remove(now, &contact))?;
            answered(&mut session, id, "removing", &jid).await?;
            Ok(session.done("removed", &jid).await?)
        }
    }
}

/// One line per contact: address, name, subscription, groups (tab-separated).
async fn list(common: &Common) -> Result {
    let session = connect::login(
        common,
        Needs {
            roster: true,
            presence: false,
            offers: false,
        },
    )
    .await?;
    let records: Vec<Record> = session
        .conn
        .client()
        .roster()
        .items()
        .map(|item| {
            // The server's order of the groups is not stable (prosody): sorted.
            let mut groups = item.groups.clone();
            groups.sort_unstable();
            let subscription = item.subscription.as_str();
            let text = format!(
                "{}\t{}\t{subscription}{}\t{}",
                item.jid,
                item.name.as_deref().unwrap_or(""),
                if item.pending_out { " (asked)" } else { "" },
                groups.join(",")
            );
            Record::new("contact", text)
                .field("jid", Some(item.jid.as_str()))
                .field("name", item.name.as_deref())
                .field("subscription", Some(subscription))
                .field("asked", Some(item.pending_out))
                .field("groups", Some(groups))
        })
        .collect();
    let json = session.json;
    session.logout().await?;
    for record in records {
        record.print(json)?;
    }
    Ok(())
}

/// Waits for the server's answer to a roster request.
async fn answered(
    session: &mut Session,
    id: jabber_tokio::jabber_proto::client::IqId,
    doing: &str,
    jid: &str,
) -> Result {
    match session.iq_answer(id).await? {
        Ok(_) => Ok(()),
        Err(e) => Err(Failure::new(format!("the server refused {doing} {jid}: {e}")).into()),
    }
}
