//! Entity capabilities (XEP-0115): a hash of what an entity's `disco#info` says, sent in
//! its presence, so others learn its features without asking each time.
//!
//! The verification string ([`verification_string`], §5.1) lists the identities, the
//! features and the extended information forms, each sorted; its SHA-1 in base64 is
//! the `ver` ([`ver`]). Our own goes into our available presence ([`caps_element`]) when
//! [`Discovery::advertise_caps`] is on. A contact's `<c/>` ([`Caps::from_presence`])
//! makes the client ask that contact's `disco#info` for `node#ver` once per `ver`; the
//! answer is cached only when its own hash equals the advertised `ver` and it is
//! well-formed (§5.4: anyone can advertise any string, and a cache filled from
//! unverified answers would let one contact lie about every other one using that `ver`).
//! The cache is bounded by [`Discovery::max_caps`]; [`Client::capabilities`] looks a
//! contact up.
//!
//! [`Client::capabilities`]: crate::client::Client::capabilities

use alloc::boxed::Box;
use alloc::collections::{BTreeMap, BTreeSet};
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use base64::Engine as _;
use sha1::{Digest as _, Sha1};

use super::disco::{DiscoInfo, Discovery, info_query, own_info};
use crate::client::{Config, Cx, DiscoEvent, IqId, Owner, Reply};
use crate::jid::Jid;
use crate::ns;
use crate::stanza::form::{FORM_TYPE, FieldType};
use crate::stanza::{IqType, Presence, PresenceType};
use crate::xml::{BuildError, Element, ElementRef};

/// Most bytes of feature names cached for one `ver`: real clients list a few dozen
/// features (a few KiB); more is not worth keeping.
pub const MAX_ENTRY_BYTES: usize = 16 << 10;

/// Why a `disco#info` answer has no verification string (XEP-0115 §5.4): it is
/// ill-formed, and must not be cached whatever it hashes to.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CapsError {
    /// Two identities with the same category, type, language and name.
    DuplicateIdentity,
    /// The same feature twice.
    DuplicateFeature,
    /// Two extended information forms with the same `FORM_TYPE`, or one whose
    /// `FORM_TYPE` has different values.
    DuplicateFormType,
}

impl fmt::Display for CapsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CapsError::DuplicateIdentity => "duplicate identity",
            CapsError::DuplicateFeature => "duplicate feature",
            CapsError::DuplicateFormType => "duplicate FORM_TYPE",
        })
    }
}

impl core::error::Error for CapsError {}

/// The verification string of `info` (XEP-0115 §5.1).
///
/// Identities sorted by category, type, language (then name), each
/// `category/type/lang/name<`; the features sorted, each `feature<`; then the
/// extended information forms sorted by `FORM_TYPE`, each its `FORM_TYPE<` and its
/// other fields sorted by `var`, each `var<` and its values sorted, each `value<`. A
/// form without a hidden `FORM_TYPE` is left out (§5.4). Sorting is by bytes
/// (`i;octet`).
pub fn verification_string(info: &DiscoInfo) -> Result<String, CapsError> {
    let mut s = String::new();
    let mut identities: Vec<_> = info
        .identities
        .iter()
        .map(|i| {
            let lang = i.lang.as_deref().unwrap_or("");
            let name = i.name.as_deref().unwrap_or("");
            (i.category.as_str(), i.kind.as_str(), lang, name)
        })
        .collect();
    identities.sort_unstable();
    if identities.windows(2).any(|w| w[0] == w[1]) {
        return Err(CapsError::DuplicateIdentity);
    }
    for (category, kind, lang, name) in identities {
        for part in [category, "/", kind, "/", lang, "/", name, "<"] {
            s.push_str(part);
        }
    }
    let mut features: Vec<&str> = info.features.iter().map(String::as_str).collect();
    features.sort_unstable();
    if features.windows(2).any(|w| w[0] == w[1]) {
        return Err(CapsError::DuplicateFeature);
    }
    for feature in features {
        s.push_str(feature);
        s.push('<');
    }
    let mut forms = Vec::new();
    for form in &info.forms {
        let Some(field) = form.field(FORM_TYPE) else {
            continue;
        };
        if field.kind != Some(FieldType::Hidden) {
            continue;
        }
        let Some(form_type) = field.value() else {
            continue;
        };
        if field.values.iter().any(|v| v != form_type) {
            return Err(CapsError::DuplicateFormType);
        }
        forms.push((form_type, form));
    }
    forms.sort_unstable_by(|a, b| a.0.cmp(b.0));
    if forms.windows(2).any(|w| w[0].0 == w[1].0) {
        return Err(CapsError::DuplicateFormType);
    }
    for (form_type, form) in forms {
        s.push_str(form_type);
        s.push('<');
        let mut fields: Vec<_> = form
            .fields
            .iter()
            .filter_map(|f| Some((f.var.as_deref()?, f)))
            .filter(|(var, _)| *var != FORM_TYPE)
            .collect();
        fields.sort_by(|a, b| a.0.cmp(b.0));
        for (var, field) in fields {
            s.push_str(var);
            s.push('<');
            let mut values: Vec<&str> = field.values.iter().map(String::as_str).collect();
            values.sort_unstable();
            for value in values {
                s.push_str(value);
                s.push('<');
            }
        }
    }
    Ok(s)
}

/// The `ver` of `info`: the SHA-1 of its [`verification_string`], in base64.
///
/// ```
/// use jabber_proto::features::caps::ver;
/// use jabber_proto::features::disco::{DiscoInfo, Identity};
/// let mut info = DiscoInfo::default();
/// info.identities.push(Identity::new("client", "pc").with_name("Exodus 0.9.1"));
/// for f in ["http://jabber.org/protocol/caps", "http://jabber.org/protocol/disco#info",
///           "http://jabber.org/protocol/disco#items", "http://jabber.org/protocol/muc"] {
///     info.features.push(f.into());
/// }
/// // XEP-0115 §5.2.
/// assert_eq!(ver(&info).unwrap(), "QgayPKawpkPSDYmwT/WM94uAlu0=");
/// ```
pub fn ver(info: &DiscoInfo) -> Result<String, CapsError> {
    let s = verification_string(info)?;
    let digest = Sha1::digest(s.as_bytes());
    Ok(base64::engine::general_purpose::STANDARD.encode(digest))
}

/// The capabilities a presence advertises: its `<c xmlns='…caps'/>`.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Caps {
    /// The software's node.
    pub node: String,
    /// The verification string's hash.
    pub ver: String,
    /// The hash function (`sha-1`); absent in the legacy form, which is not verifiable.
    pub hash: Option<String>,
}

impl Caps {
    /// The `<c/>` of `presence`, if it has one with `node` and `ver`.
    pub fn from_presence(presence: &Presence) -> Option<Caps> {
        Caps::from_element(presence.element().child("c", ns::CAPS)?)
    }

    /// Reads a `<c/>`.
    pub fn from_element(c: ElementRef<'_>) -> Option<Caps> {
        Some(Caps {
            node: String::from(c.attr("node")?),
            ver: String::from(c.attr("ver")?),
            hash: c.attr("hash").map(String::from),
        })
    }
}

/// Our `<c hash='sha-1' node='…' ver='…'/>` for `ver`.
pub fn caps_element(node: &str, ver: &str) -> Result<Element, BuildError> {
    Element::builder("c", ns::CAPS)
        .attr("hash", "sha-1")
        .attr("node", node)
        .attr("ver", ver)
        .build()
}

/// Our capabilities' node as asked for: `node#ver` (`None` when our info has no
/// verification string, which our own never lacks).
pub(crate) fn our_node(config: &Config, info: &DiscoInfo) -> Option<String> {
    let default = Discovery::default();
    let discovery = config.discovery.as_deref().unwrap_or(&default);
    let ver = ver(info).ok()?;
    Some(alloc::format!("{}#{ver}", discovery.caps_node))
}

/// `presence` with our `<c/>`, when [`Discovery::advertise_caps`] is on and it is an
/// available presence without one; otherwise as it is.
pub(crate) fn with_our_caps(config: &Config, presence: &Element) -> Option<Element> {
    let discovery = config.discovery.as_deref()?;
    let available = presence.attr("type").is_none();
    if !discovery.advertise_caps || !available || presence.child("c", ns::CAPS).is_some() {
        return None;
    }
    let ver = ver(&own_info(config)).ok()?;
    let c = caps_element(&discovery.caps_node, &ver).ok()?;
    let mut b = Element::builder(presence.name(), presence.ns());
    for a in presence.root().attrs() {
        b = b.attr_ns(a.name, a.ns, a.value);
    }
    for node in presence.root().nodes() {
        b = match node {
            crate::xml::Node::Text(t) => b.text(t),
            crate::xml::Node::Element(e) => b.child(e),
        };
    }
    b.child(c).build().ok()
}

/// A caps query in flight: which `ver` it verifies, and whom it asked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct CapsQuery {
    ver: String,
    contact: Jid,
}

/// The capabilities feature's state, boxed and made on first use: a client without
/// [`Config::discovery`], or whose contacts advertise nothing, pays one word.
#[derive(Debug, Default)]
pub(crate) struct Capabilities(Option<Box<Cache>>);

#[derive(Debug, Default)]
struct Cache {
    /// Verified answers: `ver` → features, sorted.
    known: BTreeMap<String, Vec<String>>,
    /// What each contact resource advertised last: full address → `ver`.
    contacts: BTreeMap<Jid, String>,
    /// `ver`s being asked for.
    asking: BTreeSet<String>,
}

impl Capabilities {
    /// The features `contact` (a full address) advertised, once verified.
    pub(crate) fn lookup(&self, contact: &Jid) -> Option<&[String]> {
        let cache = self.0.as_deref()?;
        let ver = cache.contacts.get(contact)?;
        cache.known.get(ver).map(Vec::as_slice)
    }

    /// The features cached under `ver`, if verified.
    pub(crate) fn features(&self, ver: &str) -> Option<&[String]> {
        self.0.as_deref()?.known.get(ver).map(Vec::as_slice)
    }

    /// A presence arrived: remember what a contact's resource advertises, and ask for
    /// a `ver` not known yet.
    pub(crate) fn on_presence(&mut self, cx: &mut Cx, presence: &Presence) {
        let Some(discovery) = cx.config.discovery.as_deref() else {
            return;
        };
        if !discovery.query_caps {
            return;
        }
        let max = usize::from(discovery.max_caps);
        let Some(from) = presence.from() else {
            return;
        };
        if from.is_bare() {
            // Unavailable from a bare address: every resource of it is gone.
            if presence.kind() == PresenceType::Unavailable {
                if let Some(cache) = &mut self.0 {
                    cache
                        .contacts
                        .retain(|jid, _| jid.as_jid_ref().bare() != from);
                }
            }
            return;
        }
        let from = from.to_owned_jid();
        if cx.jid.as_ref() == Some(&from) {
            return; // our own echo: we know what we said
        }
        let caps = match presence.kind() {
            PresenceType::Available => Caps::from_presence(presence),
            PresenceType::Unavailable => None,
            _ => return,
        };
        // Only the hashed form (`hash='sha-1'`) can be verified; the legacy one is
        // ignored.
        let Some(caps) = caps.filter(|c| c.hash.as_deref() == Some("sha-1")) else {
            if let Some(cache) = &mut self.0 {
                cache.contacts.remove(&from);
            }
            return;
        };
        let cache = self.0.get_or_insert_with(Box::default);
        if cache.contacts.len() < max || cache.contacts.contains_key(&from) {
            cache.contacts.insert(from.clone(), caps.ver.clone());
        }
        let unknown = !cache.known.contains_key(&caps.ver) && !cache.asking.contains(&caps.ver);
        // A full cache could not keep the answer: no question then.
        let full = cache.known.len() >= max || cache.asking.len() >= max;
        if !unknown || full || !cx.is_open() {
            return;
        }
        let node = alloc::format!("{}#{}", caps.node, caps.ver);
        let Ok(query) = info_query(Some(&node)) else {
            return;
        };
        let owner = Owner::Disco(DiscoRequest::Caps(Box::new(CapsQuery {
            ver: caps.ver.clone(),
            contact: from.clone(),
        })));
        if cx
            .request(Some(&from), IqType::Get, query, Some(owner))
            .is_ok()
        {
            cache.asking.insert(caps.ver);
        }
    }

    /// The answer to a caps query: cached when it verifies.
    fn on_reply(&mut self, cx: &mut Cx, query: CapsQuery, reply: Reply<'_>) {
        let max = cx
            .config
            .discovery
            .as_deref()
            .map_or(0, |d| usize::from(d.max_caps));
        let Some(cache) = &mut self.0 else {
            return;
        };
        cache.asking.remove(&query.ver);
        let info = match reply {
            Reply::Result(iq) => iq.payload().and_then(DiscoInfo::from_query),
            // No answer: a later presence with the same `ver` asks again.
            Reply::Error(_) | Reply::Timeout => return,
        };
        let computed = info.as_ref().and_then(|i| ver(i).ok());
        let CapsQuery { ver, contact } = query;
        let Some(info) = info.filter(|_| computed.as_deref() == Some(ver.as_str())) else {
            cx.push(DiscoEvent::CapsMismatch {
                contact,
                ver,
                computed,
            });
            return;
        };
        let mut features = info.features;
        features.sort();
        let bytes: usize = features.iter().map(String::len).sum();
        if bytes <= MAX_ENTRY_BYTES && cache.known.len() < max {
            cache.known.insert(ver.clone(), features);
            cx.push(DiscoEvent::Capabilities { contact, ver });
        }
    }

    /// The connection is over: contacts' resources are gone; verified answers stay
    /// valid (a `ver` names the same features forever).
    pub(crate) fn on_closed(&mut self) {
        if let Some(cache) = &mut self.0 {
            cache.contacts = BTreeMap::new();
            cache.asking = BTreeSet::new();
            if cache.known.is_empty() {
                self.0 = None;
            }
        }
    }
}

/// What one of the discovery requests asked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum DiscoRequest {
    /// The application's `disco#info`.
    Info,
    /// The application's `disco#items`.
    Items,
    /// A contact's capabilities, to verify.
    Caps(Box<CapsQuery>),
}

/// The reply (or timeout) to discovery request `id`.
pub(crate) fn on_reply(
    caps: &mut Capabilities,
    cx: &mut Cx,
    id: IqId,
    request: DiscoRequest,
    reply: Reply<'_>,
) {
    use super::disco::DiscoItems;
    let event = match (request, reply) {
        (DiscoRequest::Caps(query), reply) => return caps.on_reply(cx, *query, reply),
        (_, Reply::Timeout) => DiscoEvent::Failed { id, error: None },
        (_, Reply::Error(error)) => DiscoEvent::Failed {
            id,
            error: Some(error),
        },
        (DiscoRequest::Info, Reply::Result(iq)) => {
            match iq.payload().and_then(DiscoInfo::from_query) {
                Some(info) => DiscoEvent::Info { id, info },
                None => DiscoEvent::Failed { id, error: None },
            }
        }
        (DiscoRequest::Items, Reply::Result(iq)) => {
            match iq.payload().and_then(DiscoItems::from_query) {
                Some(items) => DiscoEvent::Items { id, items },
                None => DiscoEvent::Failed { id, error: None },
            }
        }
    };
    cx.push(event);
}

/// A reply the IQ table did not accept but whose id is one of the application's
/// discovery requests: someone else answered in the name of the address asked.
/// Reported; nothing else changes.
pub(crate) fn on_unmatched_reply(cx: &mut Cx, iq: &crate::stanza::Iq) {
    let Some(wire_id) = iq.id() else {
        return;
    };
    if let Some((id, Owner::Disco(DiscoRequest::Info | DiscoRequest::Items))) = cx.iqs.peek(wire_id)
    {
        let from = iq.from().map(|f| f.to_owned_jid());
        cx.push(DiscoEvent::Spoofed { id, from });
    }
}
