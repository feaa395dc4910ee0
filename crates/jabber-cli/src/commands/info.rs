//! `jabber vcard`, `disco`, `ping`: ask an address and print the answer.

use std::time::Instant;

use jabber_tokio::Event;
use jabber_tokio::jabber_proto::client::{DiscoEvent, ServiceEvent};
use jabber_tokio::jabber_proto::features::vcard::Vcard;
use jabber_tokio::jabber_proto::stanza::StanzaCondition;
use serde_json::{Value, json};

use super::{Result, parse_jid};
use crate::args::{Common, Optional};
use crate::connect::{self, Needs};
use crate::fail::Failure;
use crate::output::Record;
use crate::session::Session;

/// The address asked: the argument, else `default` of the session.
fn target(
    arg: &Optional,
    session: &Session,
    default: impl FnOnce(&Session) -> jabber_tokio::Jid,
) -> Result<jabber_tokio::Jid, Failure> {
    match &arg.address {
        Some(text) => parse_jid(text),
        None => Ok(default(session)),
    }
}

/// Our server, as an address.
fn server(session: &Session) -> jabber_tokio::Jid {
    jabber_tokio::Jid::domain_only(session.me.domain()).unwrap_or_else(|_| session.me.to_bare())
}

/// Prints a vCard: ours, or the address's.
pub(crate) async fn vcard(common: &Common, arg: Optional) -> Result {
    let mut session = connect::login(common, Needs::default()).await?;
    let of = target(&arg, &session, |s| s.me.to_bare())?;
    let ask = arg.address.is_some().then_some(of.clone());
    let id = session.command(|c, now| c.vcard_get(now, ask.as_ref()))?;
    let card = session
        .wait_for(|event| match event {
            Event::Services(ServiceEvent::Vcard { id: got, vcard }) if got == id => Some(Ok(vcard)),
            // No card stored: prosody says so with item-not-found, ejabberd with an
            // empty card.
            Event::Services(ServiceEvent::Failed {
                id: got,
                error: Some(e),
            }) if got == id && e.condition == StanzaCondition::ItemNotFound => {
                Some(Ok(Box::default()))
            }
            Event::Services(ServiceEvent::Failed { id: got, error }) if got == id => {
                Some(Err(error))
            }
            _ => None,
        })
        .await?
        .map_err(|e| {
            let why = e.map_or_else(|| "no answer".to_owned(), |e| e.to_string());
            Failure::new(format!("no vCard of {of}: {why}"))
        })?;
    let json = session.json;
    session.logout().await?;
    card_record(&of, &card).print(json)?;
    Ok(())
}

/// A vCard's readable fields.
fn card_record(of: &jabber_tokio::Jid, card: &Vcard) -> Record {
    let mut lines = vec![format!("JID: {of}")];
    let mut add = |label: &str, value: Option<&str>| {
        if let Some(v) = value {
            lines.push(format!("{label}: {v}"));
        }
    };
    add("Name", card.full_name.as_deref());
    add("Nickname", card.nickname.as_deref());
    add("Birthday", card.birthday.as_deref());
    add("URL", card.url.as_deref());
    add(
        "Organization",
        card.organization.as_ref().map(|o| o.name.as_str()),
    );
    for e in &card.emails {
        lines.push(format!("Email: {}", e.address));
    }
    for t in &card.telephones {
        lines.push(format!("Telephone: {}", t.number));
    }
    let emails: Vec<&str> = card.emails.iter().map(|e| e.address.as_str()).collect();
    let phones: Vec<&str> = card.telephones.iter().map(|t| t.number.as_str()).collect();
    Record::new("vcard", lines.join("\n"))
        .field("jid", Some(of.as_str()))
        .field("full_name", card.full_name.as_deref())
        .field("nickname", card.nickname.as_deref())
        .field("birthday", card.birthday.as_deref())
        .field("url", card.url.as_deref())
        .field(
            "organization",
            card.organization.as_ref().map(|o| o.name.as_str()),
        )
        .field("emails", Some(emails))
        .field("telephones", Some(phones))
}

/// Prints what an address says it is (identities, features) and holds (items).
pub(crate) async fn disco(common: &Common, arg: Optional) -> Result {
    let mut session = connect::login(common, Needs::default()).await?;
    let to = target(&arg, &session, server)?;
    let info_id = session.command(|c, now| c.disco_info(now, &to, None))?;
    let items_id = session.command(|c, now| c.disco_items(now, &to, None))?;
    let (mut info, mut items, mut failed) = (None, None, None);
    while (info.is_none() || items.is_none()) && failed.is_none() {
        session
            .wait_for(|event| match event {
                Event::Disco(DiscoEvent::Info { id, info: i }) if id == info_id => {
                    info = Some(i);
                    Some(())
                }
                Event::Disco(DiscoEvent::Items { id, items: i }) if id == items_id => {
                    items = Some(i);
                    Some(())
                }
                Event::Disco(DiscoEvent::Failed { id, error })
                    if id == info_id || id == items_id =>
                {
                    failed = Some(error.map_or_else(|| "no answer".to_owned(), |e| e.to_string()));
                    Some(())
                }
                _ => None,
            })
            .await?;
    }
    let json = session.json;
    session.logout().await?;
    if let Some(why) = failed {
        return Err(Failure::new(format!("{to} did not answer discovery: {why}")).into());
    }
    let (Some(info), Some(items)) = (info, items) else {
        return Err(Failure::new("no discovery answer").into());
    };
    let mut lines = Vec::new();
    for i in &info.identities {
        let name = i
            .name
            .as_deref()
            .map(|n| format!(" {n}"))
            .unwrap_or_default();
        lines.push(format!("identity\t{}/{}{name}", i.category, i.kind));
    }
    for f in &info.features {
        lines.push(format!("feature\t{f}"));
    }
    for i in &items.items {
        let mut line = format!("item\t{}", i.jid);
        if let Some(node) = &i.node {
            line.push_str(&format!(" node={node}"));
        }
        if let Some(name) = &i.name {
            line.push_str(&format!(" {name}"));
        }
        lines.push(line);
    }
    let identities: Vec<Value> = info
        .identities
        .iter()
        .map(|i| json!({"category": i.category, "type": i.kind, "name": i.name}))
        .collect();
    let item_values: Vec<Value> = items
        .items
        .iter()
        .map(|i| json!({"jid": i.jid.as_str(), "node": i.node, "name": i.name}))
        .collect();
    Record::new("disco", lines.join("\n"))
        .field("jid", Some(to.as_str()))
        .field("identities", Some(identities))
        .field("features", Some(info.features.clone()))
        .field("items", Some(item_values))
        .print(json)?;
    Ok(())
}

/// Pings an address and prints the round trip.
pub(crate) async fn ping(common: &Common, arg: Optional) -> Result {
    let mut session = connect::login(common, Needs::default()).await?;
    let to = target(&arg, &session, server)?;
    let ask = arg.address.is_some().then_some(to.clone());
    let start = Instant::now();
    let answer = session.ping(ask.as_ref()).await?;
    let ms = start.elapsed().as_secs_f64() * 1000.0;
    let json = session.json;
    session.logout().await?;
    if let Err(e) = answer {
        return Err(Failure::new(format!("{to} answered the ping with an error: {e}")).into());
    }
    Record::new("pong", format!("pong from {to}: {ms:.1} ms"))
        .field("from", Some(to.as_str()))
        .field("ms", Some((ms * 10.0).round() / 10.0))
        .print(json)?;
    Ok(())
}
