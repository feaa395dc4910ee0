//! Service discovery (XEP-0030): what an entity is (identities), what it implements
//! (features), the items it holds — the payloads, and the client's side of it.
//!
//! The client answers `disco#info` about itself from one table, [`FEATURES`], to which
//! every feature module that answers or understands a namespace contributes a row (with
//! the condition under which it is on: the time answers only when disclosed, receipts
//! only when answered), plus what the application adds in
//! [`Discovery::features`]. The identity is [`Discovery::identity`]. The node of our
//! entity capabilities ([`caps`](super::caps)) is answered too. `disco#items` about
//! ourselves is answered empty: a client holds no items.
//!
//! The application asks others with
//! [`Client::disco_info`](crate::client::Client::disco_info) and
//! [`disco_items`](crate::client::Client::disco_items); answers come as
//! [`DiscoEvent`](crate::client::DiscoEvent)s, accepted only from the address asked.

use alloc::string::String;
use alloc::vec::Vec;

use crate::client::{AutoAnswers, Config};
use crate::jid::Jid;
use crate::ns;
use crate::stanza::form::DataForm;
use crate::xml::{BuildError, Element, ElementRef};

/// The node our entity capabilities name by default (XEP-0115 §4: a URI that
/// identifies the software): the crate's own.
pub const DEFAULT_CAPS_NODE: &str = "https://example.invalid/jabber";

/// One identity of an entity: its category, type, and optionally a language and a
/// human-readable name (XEP-0030 §3.1; categories and types are registered by the XMPP
/// Registrar: `client`/`pc`, `server`/`im`, `conference`/`text`, ...).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub struct Identity {
    /// Its category (`client`, `server`, `pubsub`, ...).
    pub category: String,
    /// Its type within the category (`pc`, `phone`, `im`, ...).
    pub kind: String,
    /// The language of its name (`xml:lang`).
    pub lang: Option<String>,
    /// Its name.
    pub name: Option<String>,
}

impl Identity {
    /// The identity `category`/`kind`, unnamed.
    pub fn new(category: &str, kind: &str) -> Identity {
        Identity {
            category: String::from(category),
            kind: String::from(kind),
            lang: None,
            name: None,
        }
    }

    /// With a name.
    #[must_use]
    pub fn with_name(mut self, name: &str) -> Identity {
        self.name = Some(String::from(name));
        self
    }

    /// With the language of its name.
    #[must_use]
    pub fn with_lang(mut self, lang: &str) -> Identity {
        self.lang = Some(String::from(lang));
        self
    }

    fn to_element(&self) -> crate::xml::ElementBuilder {
        let mut b = Element::builder("identity", ns::DISCO_INFO)
            .attr("category", &self.category)
            .attr("type", &self.kind);
        if let Some(lang) = &self.lang {
            b = b.lang(lang);
        }
        if let Some(name) = &self.name {
            b = b.attr("name", name);
        }
        b
    }
}

/// What an entity says about itself: a `disco#info` answer (XEP-0030 §3.1), with the
/// extended information forms of XEP-0128.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct DiscoInfo {
    /// The node asked about, echoed.
    pub node: Option<String>,
    /// Its identities.
    pub identities: Vec<Identity>,
    /// Its features (namespaces), as sent.
    pub features: Vec<String>,
    /// Extended information: data forms of type `result` (XEP-0128).
    pub forms: Vec<DataForm>,
}

impl DiscoInfo {
    /// Reads a `<query xmlns='…disco#info'/>`; `None` when `query` is not one.
    /// Identities without category or type and features without `var` are skipped.
    pub fn from_query(query: ElementRef<'_>) -> Option<DiscoInfo> {
        if !query.is("query", ns::DISCO_INFO) {
            return None;
        }
        let mut info = DiscoInfo {
            node: query.attr("node").map(String::from),
            ..DiscoInfo::default()
        };
        for child in query.children() {
            if child.is("identity", ns::DISCO_INFO) {
                let (Some(category), Some(kind)) = (child.attr("category"), child.attr("type"))
                else {
                    continue;
                };
                let mut identity = Identity::new(category, kind);
                identity.lang = child.lang().map(String::from);
                identity.name = child.attr("name").map(String::from);
                info.identities.push(identity);
            } else if child.is("feature", ns::DISCO_INFO) {
                if let Some(var) = child.attr("var") {
                    info.features.push(String::from(var));
                }
            } else if let Some(form) = DataForm::from_element(child) {
                info.forms.push(form);
            }
        }
        Some(info)
    }

    /// The `<query/>` answer.
    pub fn to_query(&self) -> Result<Element, BuildError> {
        let mut b = Element::builder("query", ns::DISCO_INFO);
        if let Some(node) = &self.node {
            b = b.attr("node", node);
        }
        b = b.children(self.identities.iter().map(Identity::to_element));
        for feature in &self.features {
            b = b.child(Element::builder("feature", ns::DISCO_INFO).attr("var", feature));
        }
        for form in &self.forms {
            b = b.child(form.to_element()?);
        }
        b.build()
    }

    /// Whether it lists `feature`.
    pub fn has_feature(&self, feature: &str) -> bool {
        self.features.iter().any(|f| f == feature)
    }
}

/// One item of a `disco#items` answer.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct DiscoItem {
    /// Its address.
    pub jid: Jid,
    /// Its node, if it is one below that address.
    pub node: Option<String>,
    /// Its name.
    pub name: Option<String>,
}

/// The items an entity holds: a `disco#items` answer (XEP-0030 §4).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct DiscoItems {
    /// The node asked about, echoed.
    pub node: Option<String>,
    /// The items; those whose `jid` is not an address are skipped.
    pub items: Vec<DiscoItem>,
}

impl DiscoItems {
    /// Reads a `<query xmlns='…disco#items'/>`; `None` when `query` is not one.
    pub fn from_query(query: ElementRef<'_>) -> Option<DiscoItems> {
        if !query.is("query", ns::DISCO_ITEMS) {
            return None;
        }
        let items = query
            .children()
            .filter(|c| c.is("item", ns::DISCO_ITEMS))
            .filter_map(|c| {
                Some(DiscoItem {
                    jid: Jid::parse(c.attr("jid")?).ok()?,
                    node: c.attr("node").map(String::from),
                    name: c.attr("name").map(String::from),
                })
            })
            .collect();
        Some(DiscoItems {
            node: query.attr("node").map(String::from),
            items,
        })
    }
}

/// The `disco#info` request, about `node` if given.
///
/// ```
/// use jabber_proto::features::disco::info_query;
/// assert_eq!(
///     info_query(None).unwrap().to_string(),
///     "<query xmlns='http://jabber.org/protocol/disco#info'/>"
/// );
/// ```
pub fn info_query(node: Option<&str>) -> Result<Element, BuildError> {
    query(ns::DISCO_INFO, node)
}

/// The `disco#items` request, about `node` if given.
pub fn items_query(node: Option<&str>) -> Result<Element, BuildError> {
    query(ns::DISCO_ITEMS, node)
}

fn query(namespace: &str, node: Option<&str>) -> Result<Element, BuildError> {
    let b = Element::builder("query", namespace);
    match node {
        Some(node) => b.attr("node", node),
        None => b,
    }
    .build()
}

/// How the client presents itself to service discovery and entity capabilities.
///
/// With [`Config::discovery`] `None` (the default) the client still answers
/// `disco#info` (as [`Discovery::default`] and the features it implements) but neither
/// puts capabilities in its presence nor asks contacts for theirs. `Some` turns both on.
///
/// ```
/// use jabber_proto::features::disco::{Discovery, Identity};
/// let mut d = Discovery::default();
/// d.identity = Identity::new("client", "phone").with_name("jabber");
/// d.features.push("urn:xmpp:jingle:1".into()); // the application handles it
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Discovery {
    /// Our identity. Default `client`/`pc`, unnamed.
    pub identity: Identity,
    /// Features the application implements itself (say, namespaces it answers through
    /// [`Config::iq_namespaces`]), listed beside the client's own.
    pub features: Vec<String>,
    /// The node of our capabilities (XEP-0115 §4): a URI naming the software. Default
    /// [`DEFAULT_CAPS_NODE`].
    pub caps_node: String,
    /// Put `<c/>` in our available presence (the initial one and
    /// [`send_presence`](crate::client::Client::send_presence)'s). Default true.
    pub advertise_caps: bool,
    /// Ask contacts that advertise capabilities for them (once per verification string),
    /// verify and cache them. Default true.
    pub query_caps: bool,
    /// Most verification strings cached, and most contact resources whose advertised
    /// string is remembered. Default 256.
    pub max_caps: u16,
}

impl Default for Discovery {
    fn default() -> Discovery {
        Discovery {
            identity: Identity::new("client", "pc"),
            features: Vec::new(),
            caps_node: String::from(DEFAULT_CAPS_NODE),
            advertise_caps: true,
            query_caps: true,
            max_caps: 256,
        }
    }
}

/// Which of our features are on under a config.
type When = fn(&Config) -> bool;

fn always(_: &Config) -> bool {
    true
}

/// The features the client implements, each with the condition under which it is on:
/// the one list `disco#info` about ourselves answers from (and our capabilities hash).
/// A feature module that answers or understands a namespace adds its row here.
pub const FEATURES: &[(&str, When)] = &[
    // features/disco.rs, features/caps.rs
    (ns::DISCO_INFO, always),
    (ns::DISCO_ITEMS, always),
    (ns::CAPS, always),
    // stanza/form.rs
    (ns::DATA_FORMS, always),
    // features/keepalive.rs answers pings
    (ns::PING, always),
    // features/disclosure.rs, as disclosed
    (ns::IQ_VERSION, |c| {
        c.disclosure.as_ref().is_some_and(|d| d.software.is_some())
    }),
    (ns::IQ_TIME, |c| {
        c.disclosure.as_ref().is_some_and(|d| d.time.is_some())
    }),
    (ns::TIME, |c| {
        c.disclosure.as_ref().is_some_and(|d| d.time.is_some())
    }),
    (ns::IQ_LAST, |c| {
        c.disclosure.as_ref().is_some_and(|d| d.last_activity)
    }),
    // features/messaging.rs, as answered
    (ns::RECEIPTS, |c| {
        c.auto_answers.contains(AutoAnswers::RECEIPTS)
    }),
    (ns::X_EVENT, |c| {
        c.auto_answers.contains(AutoAnswers::MESSAGE_EVENTS)
    }),
];

/// Our own `disco#info` under `config`: the identity and every feature on, sorted and
/// without duplicates.
pub fn own_info(config: &Config) -> DiscoInfo {
    let default = Discovery::default();
    let discovery = config.discovery.as_deref().unwrap_or(&default);
    let mut features: Vec<String> = FEATURES
        .iter()
        .filter(|(_, on)| on(config))
        .map(|(f, _)| String::from(*f))
        .chain(discovery.features.iter().cloned())
        .collect();
    features.sort();
    features.dedup();
    DiscoInfo {
        node: None,
        identities: alloc::vec![discovery.identity.clone()],
        features,
        forms: Vec::new(),
    }
}

/// An IQ get about ourselves in `disco#info` or `disco#items`: answered, and true;
/// false when it is not one. `disco#info` is answered for no node and for our
/// capabilities' node (`node#ver`, XEP-0115 §6.2); any other node is `item-not-found`.
pub(crate) fn on_request(cx: &mut crate::client::Cx, iq: &crate::stanza::Iq) -> bool {
    use crate::stanza::{IqType, StanzaCondition, StanzaError};
    let Some(payload) = iq.payload() else {
        return false;
    };
    if !payload.is("query", ns::DISCO_INFO) && !payload.is("query", ns::DISCO_ITEMS) {
        return false;
    }
    if iq.kind() != IqType::Get {
        // Nothing to set: the client answers `service-unavailable`.
        return false;
    }
    let node = payload.attr("node");
    let answer = if payload.ns() == ns::DISCO_ITEMS {
        // A client holds no items, under any node.
        items_query(node).ok()
    } else {
        let mut info = own_info(&cx.config);
        let ours = match node {
            None => true,
            Some(node) => super::caps::our_node(&cx.config, &info).is_some_and(|n| n == node),
        };
        info.node = node.map(String::from);
        ours.then(|| info.to_query().ok()).flatten()
    };
    let response = answer
        .map(Some)
        .ok_or_else(|| StanzaError::new(StanzaCondition::ItemNotFound));
    let _ = cx.reply(iq.element(), response);
    true
}
