//! The account services' commands: vCards, private storage, update queries, and the wall
//! clock the time answers need. Each routes to its feature module; answers come back as
//! [`ServiceEvent`](super::ServiceEvent)s.

use super::{Client, Error, IqId, capture};
use crate::features::services::ServiceRequest;
use crate::features::vcard::{self, Vcard};
use crate::features::{autoupdate, blocking, private_storage};
use crate::jid::Jid;
use crate::stanza::IqType;
use crate::time::Instant;
use crate::xml::Element;

/// A capture record with one `<item jid='…'/>` per address.
fn with_items(mut b: crate::xml::ElementBuilder, jids: &[Jid]) -> crate::xml::ElementBuilder {
    for jid in jids {
        b = b.child(capture::command("item").attr("jid", jid.as_str()));
    }
    b
}

impl Client {
    /// Asks for a vCard (XEP-0054): ours (`of` is `None`) or a contact's (sent to its
    /// bare address). The answer is [`ServiceEvent::Vcard`](super::ServiceEvent::Vcard)
    /// with the returned handle, or `Failed` (a server may answer `item-not-found` for a
    /// user without a card); only the address asked may answer (otherwise `Spoofed`).
    /// Refused with [`Error::WrongPhase`] before login.
    pub fn vcard_get(&mut self, now: Instant, of: Option<&Jid>) -> Result<IqId, Error> {
        let record = || {
            let b = capture::command("vcard-get");
            match of {
                Some(of) => b.attr("of", of.as_str()),
                None => b,
            }
        };
        self.captured(now, record, |c| {
            let to = of.map(Jid::to_bare);
            let query = vcard::get_query()?;
            c.service_request(
                now,
                to.as_ref(),
                IqType::Get,
                query,
                ServiceRequest::VcardGet,
            )
        })
    }

    /// Stores `vcard` as our own; [`ServiceEvent::VcardSaved`](super::ServiceEvent) or
    /// `Failed` follows. The whole card is replaced: read it first to keep fields
    /// ([`Vcard::other`] keeps those this crate does not type).
    pub fn vcard_set(&mut self, now: Instant, vcard: &Vcard) -> Result<IqId, Error> {
        let record = || capture::with_child(capture::command("vcard-set"), vcard.to_element());
        self.captured(now, record, |c| {
            let card = vcard.to_element()?;
            c.service_request(now, None, IqType::Set, card, ServiceRequest::VcardSet)
        })
    }

    /// Reads the private data (XEP-0049) stored under the element `name` in `namespace`:
    /// [`ServiceEvent::PrivateData`](super::ServiceEvent::PrivateData) follows, accepted
    /// only from our own account. Refused with [`Error::NotStorable`] for a namespace
    /// private storage cannot hold.
    pub fn private_get(
        &mut self,
        now: Instant,
        name: &str,
        namespace: &str,
    ) -> Result<IqId, Error> {
        let record = || {
            capture::command("private-get")
                .attr("name", name)
                .attr("ns", namespace)
        };
        self.captured(now, record, |c| {
            if !private_storage::is_storable(namespace) {
                return Err(Error::NotStorable);
            }
            let query = private_storage::get_query(name, namespace)?;
            c.service_request(now, None, IqType::Get, query, ServiceRequest::PrivateGet)
        })
    }

    /// Stores `data` in private storage, replacing what was stored under its name and
    /// namespace: [`ServiceEvent::PrivateSaved`](super::ServiceEvent::PrivateSaved) or
    /// `Failed` follows. Refused with [`Error::NotStorable`] for a namespace private
    /// storage cannot hold.
    pub fn private_set(&mut self, now: Instant, data: &Element) -> Result<IqId, Error> {
        let record = || capture::command("private-set").child(data);
        self.captured(now, record, |c| {
            if !private_storage::is_storable(data.ns()) {
                return Err(Error::NotStorable);
            }
            let query = private_storage::set_query(data)?;
            c.service_request(now, None, IqType::Set, query, ServiceRequest::PrivateSet)
        })
    }

    /// Asks the update agent `agent` (as a `jabber:x:autoupdate` notice names it,
    /// [`autoupdate::notice`]) which versions it offers:
    /// [`ServiceEvent::Update`](super::ServiceEvent::Update) or `Failed` follows.
    pub fn check_update(&mut self, now: Instant, agent: &Jid) -> Result<IqId, Error> {
        let record = || capture::command("check-update").attr("agent", agent.as_str());
        self.captured(now, record, |c| {
            let query = autoupdate::query()?;
            c.service_request(now, Some(agent), IqType::Get, query, ServiceRequest::Update)
        })
    }

    /// Asks the server for its block list (XEP-0191):
    /// [`ServiceEvent::BlockList`](super::ServiceEvent::BlockList) or `Failed` follows
    /// (`service-unavailable` or `feature-not-implemented` where the server has no
    /// blocking command). Asking also subscribes this resource to the server's
    /// [`BlockPush`](super::ServiceEvent::BlockPush)es.
    pub fn blocklist_get(&mut self, now: Instant) -> Result<IqId, Error> {
        let record = || capture::command("blocklist-get");
        self.captured(now, record, |c| {
            let query = blocking::blocklist_query()?;
            c.service_request(now, None, IqType::Get, query, ServiceRequest::BlockList)
        })
    }

    /// Asks the server to block `jids` (XEP-0191 §3.3): it then drops what they send us
    /// and sends them nothing of ours. [`ServiceEvent::Blocked`](super::ServiceEvent)
    /// or `Failed` follows. Refused with [`Error::NoAddress`] for an empty list.
    pub fn block(&mut self, now: Instant, jids: &[Jid]) -> Result<IqId, Error> {
        let record = || with_items(capture::command("block"), jids);
        self.captured(now, record, |c| {
            if jids.is_empty() {
                return Err(Error::NoAddress);
            }
            let query = blocking::block_query(jids)?;
            c.service_request(now, None, IqType::Set, query, ServiceRequest::Block)
        })
    }

    /// Asks the server to unblock `jids`; [`ServiceEvent::Unblocked`](super::ServiceEvent)
    /// or `Failed` follows. Refused with [`Error::NoAddress`] for an empty list (which
    /// the protocol reads as "everyone": that is [`unblock_all`](Self::unblock_all)).
    pub fn unblock(&mut self, now: Instant, jids: &[Jid]) -> Result<IqId, Error> {
        let record = || with_items(capture::command("unblock"), jids);
        self.captured(now, record, |c| {
            if jids.is_empty() {
                return Err(Error::NoAddress);
            }
            let query = blocking::unblock_query(jids)?;
            c.service_request(now, None, IqType::Set, query, ServiceRequest::Unblock)
        })
    }

    /// Asks the server to unblock every address; answered like
    /// [`unblock`](Self::unblock).
    pub fn unblock_all(&mut self, now: Instant) -> Result<IqId, Error> {
        let record = || capture::command("unblock-all");
        self.captured(now, record, |c| {
            let query = blocking::unblock_query(&[])?;
            c.service_request(now, None, IqType::Set, query, ServiceRequest::Unblock)
        })
    }

    fn service_request(
        &mut self,
        now: Instant,
        to: Option<&Jid>,
        kind: IqType,
        payload: Element,
        request: ServiceRequest,
    ) -> Result<IqId, Error> {
        self.session_request(now, to, kind, payload, super::Owner::Service(request))
    }
}
