//! The roster (contact list), `jabber:iq:roster` (RFC 6121 §2, the seed protocol's §4):
//! the values, the payloads, and the feature that fetches the roster and takes the
//! server's pushes.

use alloc::boxed::Box;
use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;

use crate::client::{Cx, Owner, Reply, RosterEvent};
use crate::jid::{Jid, JidRef};
use crate::ns;
use crate::stanza::{Iq, IqType, StanzaCondition, StanzaError};
use crate::xml::{BuildError, Element, ElementRef};

crate::names::named_enum! {
    /// Whose presence each side sees (RFC 6121 §2.1.2.5).
    #[non_exhaustive]
    pub enum Subscription {
        /// Neither side.
        None => "none",
        /// We see the contact's presence.
        To => "to",
        /// The contact sees ours.
        From => "from",
        /// Both ways.
        Both => "both",
        /// The item is being removed (roster pushes only).
        Remove => "remove",
    }
}

/// One contact.
///
/// ```
/// use jabber_proto::features::roster::RosterItem;
/// use jabber_proto::jid::Jid;
/// let item = RosterItem::new(Jid::parse("juliet@example.com").unwrap())
///     .with_name("Juliet")
///     .with_group("Friends");
/// assert_eq!(item.groups, ["Friends"]);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RosterItem {
    /// The contact's address.
    pub jid: Jid,
    /// The name the user gave the contact.
    pub name: Option<String>,
    /// The subscription state.
    pub subscription: Subscription,
    /// A subscription request to the contact is pending (`ask='subscribe'`).
    pub pending_out: bool,
    /// The groups the contact is filed under.
    pub groups: Vec<String>,
}

impl RosterItem {
    /// An item for `jid` with no name, no groups and no subscription: what
    /// [`Client::roster_set`](crate::client::Client::roster_set) sends to add a contact.
    pub fn new(jid: Jid) -> RosterItem {
        RosterItem {
            jid,
            name: None,
            subscription: Subscription::None,
            pending_out: false,
            groups: Vec::new(),
        }
    }

    /// With the name the user gives the contact.
    #[must_use]
    pub fn with_name(mut self, name: &str) -> RosterItem {
        self.name = Some(String::from(name));
        self
    }

    /// Filed under one more group.
    #[must_use]
    pub fn with_group(mut self, group: &str) -> RosterItem {
        self.groups.push(String::from(group));
        self
    }
}

/// The roster as the server sent it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Roster {
    /// The contacts: in the server's order in a push; from the client's model
    /// ([`Client::roster`](crate::client::Client::roster), `SessionEvent::Ready`) in
    /// canonical order of their addresses.
    pub items: Vec<RosterItem>,
}

impl Roster {
    /// Reads a `<query xmlns='jabber:iq:roster'>`. Items with an unusable `jid` are
    /// skipped, as RFC 6121 §2.1.2 allows a client to ignore them.
    pub fn from_query(query: ElementRef<'_>) -> Roster {
        let items = query
            .children()
            .filter(|c| c.is("item", ns::IQ_ROSTER))
            .filter_map(|item| {
                let jid = Jid::parse(item.attr("jid")?).ok()?;
                Some(RosterItem {
                    jid,
                    name: item.attr("name").map(String::from),
                    subscription: item
                        .attr("subscription")
                        .and_then(Subscription::from_name)
                        .unwrap_or(Subscription::None),
                    pending_out: item.attr("ask") == Some("subscribe"),
                    groups: item
                        .children()
                        .filter(|g| g.is("group", ns::IQ_ROSTER))
                        .map(|g| g.text().into_owned())
                        .collect(),
                })
            })
            .collect();
        Roster { items }
    }
}

/// The payload fetching the roster: `<query xmlns='jabber:iq:roster'/>`.
pub fn fetch_query() -> Result<Element, BuildError> {
    Element::builder("query", ns::IQ_ROSTER).build()
}

/// The payload fetching the roster with versioning (RFC 6121 §2.6.2): `ver` is the
/// version of the roster we hold (empty: we hold none but want versions).
pub fn versioned_fetch_query(ver: &str) -> Result<Element, BuildError> {
    Element::builder("query", ns::IQ_ROSTER)
        .attr("ver", ver)
        .build()
}

/// The payload adding or updating `item` (RFC 6121 §2.3, §2.4): its address, name and
/// groups. The subscription is not the client's to set and is left out.
pub fn set_query(item: &RosterItem) -> Result<Element, BuildError> {
    let mut el = Element::builder("item", ns::IQ_ROSTER).attr("jid", item.jid.as_str());
    if let Some(name) = &item.name {
        el = el.attr("name", name);
    }
    for group in &item.groups {
        el = el.child(Element::builder("group", ns::IQ_ROSTER).text(group));
    }
    Element::builder("query", ns::IQ_ROSTER).child(el).build()
}

/// The payload removing `jid` from the roster (RFC 6121 §2.5):
/// `<item jid='…' subscription='remove'/>`.
pub fn remove_query(jid: &Jid) -> Result<Element, BuildError> {
    Element::builder("query", ns::IQ_ROSTER)
        .child(
            Element::builder("item", ns::IQ_ROSTER)
                .attr("jid", jid.as_str())
                .attr("subscription", Subscription::Remove.as_str()),
        )
        .build()
}

/// A roster kept from an earlier session and its version, for roster versioning
/// (RFC 6121 §2.6), given in [`Config::roster_cache`](crate::client::Config::roster_cache).
///
/// With it, the fetch after login carries `ver`; a server that supports versioning
/// answers with an empty result when the roster is unchanged (the cached one is then
/// the roster) or with pushes of what changed. The roster and version to save for the
/// next session are [`Client::roster`](crate::client::Client::roster)'s.
///
/// ```
/// use jabber_proto::features::roster::{Roster, RosterCache};
/// // No roster kept yet, but versions wanted: the fetch sends ver=''.
/// let first = RosterCache::new("", Roster::default());
/// assert_eq!(first.version(), "");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RosterCache(Box<(String, Roster)>);

impl RosterCache {
    /// The roster `roster` at version `version` (empty when none is known yet).
    pub fn new(version: &str, roster: Roster) -> RosterCache {
        RosterCache(Box::new((String::from(version), roster)))
    }

    /// The version.
    pub fn version(&self) -> &str {
        &self.0.0
    }

    /// The roster.
    pub fn roster(&self) -> &Roster {
        &self.0.1
    }
}

/// The roster as the client holds it, read through
/// [`Client::roster`](crate::client::Client::roster): built from the server's answer to
/// the fetch and its pushes only.
#[derive(Clone, Copy, Debug)]
pub struct RosterView<'a> {
    model: Option<&'a RosterModel>,
}

impl<'a> RosterView<'a> {
    /// The item for `jid` (compared as JIDs compare, bare).
    pub fn get(&self, jid: &Jid) -> Option<&'a RosterItem> {
        self.get_ref(jid.as_jid_ref())
    }

    /// [`get`](Self::get) for a borrowed address, copying nothing (the blocking policy
    /// asks for every message).
    pub(crate) fn get_ref(&self, jid: JidRef<'_>) -> Option<&'a RosterItem> {
        let bare = jid.bare();
        self.model?.items.get(crate::jid::key(&bare))
    }

    /// The items, in canonical order of their addresses.
    pub fn items(&self) -> impl Iterator<Item = &'a RosterItem> + 'a {
        self.model.into_iter().flat_map(|m| m.items.values())
    }

    /// How many items.
    pub fn len(&self) -> usize {
        self.model.map_or(0, |m| m.items.len())
    }

    /// Whether it holds no item.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The roster's version (RFC 6121 §2.6), when versioning is on
    /// ([`Config::roster_cache`](crate::client::Config::roster_cache)) and the server
    /// gave one: save it with the items for the next session.
    pub fn version(&self) -> Option<&'a str> {
        self.model?.ver.as_deref()
    }

    /// Items the server sent that were not kept, because
    /// [`Config::max_roster_items`](crate::client::Config::max_roster_items) was
    /// reached (each time also a [`RosterEvent::Truncated`]).
    pub fn dropped(&self) -> u64 {
        self.model.map_or(0, |m| m.dropped)
    }

    /// The items as a [`Roster`] value (to save, with [`version`](Self::version), as a
    /// [`RosterCache`]).
    pub fn to_roster(&self) -> Roster {
        Roster {
            items: self.items().cloned().collect(),
        }
    }
}

/// The roster model's content.
#[derive(Clone, Debug, Default)]
struct RosterModel {
    /// Bare address (compared canonically) → item.
    items: BTreeMap<Jid, RosterItem>,
    ver: Option<String>,
    dropped: u64,
}

impl RosterModel {
    /// Applies one item the server sent; false if it was left out at `max`.
    fn apply(&mut self, item: RosterItem, max: usize) -> bool {
        let key = item.jid.to_bare();
        if item.subscription == Subscription::Remove {
            self.items.remove(&key);
            return true;
        }
        if let Some(known) = self.items.get_mut(&key) {
            *known = item;
            return true;
        }
        if self.items.len() >= max {
            self.dropped += 1;
            return false;
        }
        self.items.insert(key, item);
        true
    }
}

/// The roster feature's state: the fetch after login, the pushes, and the roster they
/// built (no heap while it is empty and unversioned).
///
/// The roster is changed only by what the server says (its answer to the fetch, its
/// pushes), never by our own requests: a set or remove is answered by a push.
#[derive(Clone, Debug, Default)]
pub(crate) struct RosterSync {
    model: Option<Box<RosterModel>>,
}

impl RosterSync {
    pub(crate) fn view(&self) -> RosterView<'_> {
        RosterView {
            model: self.model.as_deref(),
        }
    }

    /// Asks for the roster; false if it could not be sent. With a
    /// [`RosterCache`] in the configuration the model starts from it and the request
    /// carries its version.
    pub(crate) fn fetch(&mut self, cx: &mut Cx) -> bool {
        let query = match cx.config.roster_cache.take() {
            Some(cache) => {
                let (ver, roster) = *cache.0;
                let query = versioned_fetch_query(&ver);
                let max = limit(cx.config.max_roster_items);
                let mut model = RosterModel::default();
                for item in roster.items {
                    model.apply(item, max);
                }
                model.ver = Some(ver);
                self.model = Some(Box::new(model));
                query
            }
            None => fetch_query(),
        };
        match query {
            Ok(query) => cx
                .request(None, IqType::Get, query, Some(Owner::Roster))
                .is_ok(),
            Err(_) => false,
        }
    }

    /// The answer to the fetch: the roster, or `None` if the server refused it. A result
    /// without a query (RFC 6121 §2.6.3: the cached roster is current) keeps the
    /// cached roster.
    pub(crate) fn on_reply(&mut self, cx: &mut Cx, reply: Reply<'_>) -> Option<Roster> {
        let Reply::Result(iq) = reply else {
            return None;
        };
        let query = iq.payload().filter(|p| p.is("query", ns::IQ_ROSTER));
        let versioned = self.model.as_ref().is_some_and(|m| m.ver.is_some());
        if let Some(query) = query {
            let roster = Roster::from_query(query);
            let ver = query.attr("ver").filter(|_| versioned).map(String::from);
            let mut model = RosterModel {
                ver,
                ..RosterModel::default()
            };
            let max = limit(cx.config.max_roster_items);
            for item in roster.items.iter().cloned() {
                model.apply(item, max);
            }
            self.report_dropped(cx, model.dropped);
            self.model = Some(Box::new(model));
            self.free_if_empty();
        }
        Some(self.view().to_roster())
    }

    fn report_dropped(&self, cx: &mut Cx, dropped: u64) {
        if dropped > 0 {
            cx.push(RosterEvent::Truncated { dropped });
        }
    }

    /// An empty, unversioned model takes no heap.
    fn free_if_empty(&mut self) {
        if self
            .model
            .as_ref()
            .is_some_and(|m| m.items.is_empty() && m.ver.is_none() && m.dropped == 0)
        {
            self.model = None;
        }
    }

    /// Applies a trusted push to the model; how many items were left out.
    fn apply_push(&mut self, cx: &Cx, query: ElementRef<'_>, roster: &Roster) -> u64 {
        let max = limit(cx.config.max_roster_items);
        let model = self.model.get_or_insert_with(Box::default);
        let mut dropped = 0;
        for item in roster.items.iter().cloned() {
            dropped += u64::from(!model.apply(item, max));
        }
        if model.ver.is_some() {
            if let Some(ver) = query.attr("ver") {
                model.ver = Some(String::from(ver));
            }
        }
        self.free_if_empty();
        dropped
    }

    /// An IQ set in `jabber:iq:roster`: a push (RFC 6121 §2.1.6). Returns false when it
    /// is not one (another payload).
    ///
    /// A push is accepted only from our own server — no `from`, or our bare JID — and
    /// only in a live session; it is then acknowledged and reported. One from anyone
    /// else could rewrite the contact list, so it is refused with `service-unavailable`
    /// (RFC 6121 §2.1.6) and changes nothing.
    pub(crate) fn on_request(&mut self, cx: &mut Cx, iq: &Iq) -> bool {
        let is_push =
            iq.kind() == IqType::Set && iq.payload().is_some_and(|p| p.is("query", ns::IQ_ROSTER));
        if !is_push {
            return false;
        }
        if !cx.is_open() {
            // After our close nothing can be acknowledged, so nothing is claimed.
            return true;
        }
        let own = cx.jid.as_ref().map(Jid::to_bare);
        let trusted = match (&own, iq.from()) {
            (None, _) => false,
            (Some(_), None) => true,
            (Some(own), Some(from)) => from == *own,
        };
        if trusted {
            let roster = iq.payload().map(Roster::from_query).unwrap_or_default();
            let _ = cx.reply(iq.element(), Ok(None));
            let dropped = iq
                .payload()
                .map_or(0, |query| self.apply_push(cx, query, &roster));
            cx.push(RosterEvent::Push(roster));
            self.report_dropped(cx, dropped);
        } else {
            let refusal = StanzaError::new(StanzaCondition::ServiceUnavailable);
            let _ = cx.reply(iq.element(), Err(refusal));
        }
        true
    }
}

/// A `u32` limit as `usize` (saturating where `usize` is narrower).
fn limit(n: u32) -> usize {
    usize::try_from(n).unwrap_or(usize::MAX)
}
