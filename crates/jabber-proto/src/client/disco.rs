//! The discovery commands and getters: `disco#info` and `disco#items` of any address
//! (XEP-0030), and contacts' verified capabilities (XEP-0115). They route to
//! `features/disco.rs` and `features/caps.rs`; answers come as
//! [`DiscoEvent`](super::DiscoEvent)s.

use alloc::string::String;

use super::{Client, Error, IqId, Owner, capture};
use crate::features::caps::{self, DiscoRequest};
use crate::features::disco::{self, DiscoInfo};
use crate::jid::Jid;
use crate::stanza::IqType;
use crate::time::Instant;
use crate::xml::Element;

impl Client {
    /// Asks `to` what it is and does (`disco#info`, about `node` if given): a server
    /// (its domain as a JID), a contact's resource, a service.
    /// [`DiscoEvent::Info`](super::DiscoEvent::Info) or `Failed` follows; only `to`
    /// may answer (a reply from elsewhere is dropped and reported as `Spoofed`).
    /// Refused with [`Error::WrongPhase`] before login.
    pub fn disco_info(
        &mut self,
        now: Instant,
        to: &Jid,
        node: Option<&str>,
    ) -> Result<IqId, Error> {
        let record = || node_attr(capture::command("disco-info").attr("to", to.as_str()), node);
        self.captured(now, record, |c| {
            let query = disco::info_query(node)?;
            c.disco_request(now, to, query, DiscoRequest::Info)
        })
    }

    /// Asks `to` for the items it holds (`disco#items`, below `node` if given):
    /// [`DiscoEvent::Items`](super::DiscoEvent::Items) or `Failed` follows, as for
    /// [`disco_info`](Self::disco_info).
    pub fn disco_items(
        &mut self,
        now: Instant,
        to: &Jid,
        node: Option<&str>,
    ) -> Result<IqId, Error> {
        let record = || {
            node_attr(
                capture::command("disco-items").attr("to", to.as_str()),
                node,
            )
        };
        self.captured(now, record, |c| {
            let query = disco::items_query(node)?;
            c.disco_request(now, to, query, DiscoRequest::Items)
        })
    }

    /// The features `contact` (a full address: capabilities are per resource) advertised
    /// in its presence, once the client asked for them and verified their hash (with
    /// [`Config::discovery`](super::Config::discovery) on); sorted. `None` while unknown
    /// or unverified.
    pub fn capabilities(&self, contact: &Jid) -> Option<&[String]> {
        self.caps.lookup(contact)
    }

    /// The verified features cached under the verification string `ver`.
    pub fn capabilities_of_ver(&self, ver: &str) -> Option<&[String]> {
        self.caps.features(ver)
    }

    /// What the client answers to `disco#info` about itself: its identity and the
    /// features it implements under this config.
    pub fn own_disco_info(&self) -> DiscoInfo {
        disco::own_info(&self.cx.config)
    }

    /// Our capabilities' verification string (XEP-0115 `ver`), as our presence carries
    /// it when [`Discovery::advertise_caps`](crate::features::disco::Discovery) is on.
    pub fn own_caps_ver(&self) -> String {
        // Our own info has one identity and distinct features: it always hashes.
        caps::ver(&self.own_disco_info()).unwrap_or_default()
    }

    fn disco_request(
        &mut self,
        now: Instant,
        to: &Jid,
        payload: Element,
        request: DiscoRequest,
    ) -> Result<IqId, Error> {
        self.session_request(now, Some(to), IqType::Get, payload, Owner::Disco(request))
    }
}

fn node_attr(b: crate::xml::ElementBuilder, node: Option<&str>) -> crate::xml::ElementBuilder {
    match node {
        Some(node) => b.attr("node", node),
        None => b,
    }
}
