//! The server's block list, `urn:xmpp:blocking` (XEP-0191): the payloads that read it,
//! block and unblock addresses, and the server's pushes when it changes.
//!
//! This is the server's list only: the server enforces it (ejabberd and prosody drop
//! what a blocked address sends, and send it nothing of ours). The commands are
//! [`Client::blocklist_get`](crate::client::Client::blocklist_get),
//! [`block`](crate::client::Client::block), [`unblock`](crate::client::Client::unblock)
//! and [`unblock_all`](crate::client::Client::unblock_all); their answers and the pushes
//! come as [`ServiceEvent`]s.

use alloc::vec::Vec;

use crate::client::{Cx, ServiceEvent};
use crate::jid::Jid;
use crate::ns::BLOCKING as NS;
use crate::stanza::{Iq, IqType, StanzaCondition, StanzaError};
use crate::xml::{BuildError, Element, ElementRef};

/// The payload asking for the list: `<blocklist xmlns='urn:xmpp:blocking'/>`.
pub fn blocklist_query() -> Result<Element, BuildError> {
    Element::builder("blocklist", NS).build()
}

/// The payload blocking `jids`: `<block><item jid='…'/>…</block>`.
///
/// ```
/// use jabber_proto::features::blocking::block_query;
/// use jabber_proto::jid::Jid;
/// let q = block_query(&[Jid::parse("romeo@example.net").unwrap()]).unwrap();
/// assert_eq!(
///     q.to_string(),
///     "<block xmlns='urn:xmpp:blocking'><item jid='romeo@example.net'/></block>"
/// );
/// ```
pub fn block_query(jids: &[Jid]) -> Result<Element, BuildError> {
    with_items("block", jids)
}

/// The payload unblocking `jids`; with none, it unblocks every address (XEP-0191 §3.4).
pub fn unblock_query(jids: &[Jid]) -> Result<Element, BuildError> {
    with_items("unblock", jids)
}

/// The addresses in a `<blocklist/>`, `<block/>` or `<unblock/>`; items whose `jid` is
/// not an address are skipped.
pub fn items(el: ElementRef<'_>) -> Vec<Jid> {
    el.children()
        .filter(|c| c.is("item", NS))
        .filter_map(|c| Jid::parse(c.attr("jid")?).ok())
        .collect()
}

fn with_items(name: &str, jids: &[Jid]) -> Result<Element, BuildError> {
    let mut b = Element::builder(name, NS);
    for jid in jids {
        b = b.child(Element::builder("item", NS).attr("jid", jid.as_str()));
    }
    b.build()
}

/// An IQ set in `urn:xmpp:blocking`: a push (XEP-0191 §3.3, §3.4). Returns false when it
/// is not one.
///
/// Like a roster push, it is accepted only from our own account — no `from`, or our bare
/// JID — in a live session: acknowledged and reported
/// ([`ServiceEvent::BlockPush`], [`ServiceEvent::UnblockPush`]). From anyone else it is
/// refused with `service-unavailable` and reported nowhere: it changes nothing.
pub(crate) fn on_request(cx: &mut Cx, iq: &Iq) -> bool {
    let Some(payload) = iq.payload() else {
        return false;
    };
    if iq.kind() != IqType::Set || payload.ns() != NS {
        return false;
    }
    let block = match payload.name() {
        "block" => true,
        "unblock" => false,
        _ => return false,
    };
    if !cx.is_open() {
        return true;
    }
    let own = cx.jid.as_ref().map(Jid::to_bare);
    let trusted = match (&own, iq.from()) {
        (None, _) => false,
        (Some(_), None) => true,
        (Some(own), Some(from)) => from == *own,
    };
    if !trusted {
        let refusal = StanzaError::new(StanzaCondition::ServiceUnavailable);
        let _ = cx.reply(iq.element(), Err(refusal));
        return true;
    }
    let jids = items(payload);
    let _ = cx.reply(iq.element(), Ok(None));
    cx.push(if block {
        ServiceEvent::BlockPush { jids }
    } else {
        ServiceEvent::UnblockPush { jids }
    });
    true
}
