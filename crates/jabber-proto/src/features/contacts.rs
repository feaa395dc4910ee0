//! Others' presence (RFC 6121 §4): the model of which resources of each contact — and
//! of our own account — are available, with what show, status and priority, and the
//! feature that keeps it from the presence the server routes to us.
//!
//! The model is bounded by [`Config::max_contacts`](crate::client::Config::max_contacts)
//! and [`Config::max_resources`](crate::client::Config::max_resources); it is empty (no
//! heap) while nobody is online, and cleared when the connection ends.

use alloc::boxed::Box;
use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;
use core::cmp::Ordering;

use crate::client::{Cx, PresenceEvent};
use crate::jid::{Jid, JidRef, key};
use crate::stanza::{Presence, PresenceType, Show, StanzaCondition, StanzaError};
use crate::time::Instant;

/// One available resource of a contact, as its last presence described it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResourcePresence {
    /// The resource's full address (or the bare one, for an entity that sent presence
    /// without a resource).
    pub jid: Jid,
    /// Its `<show/>`; `None` is plain available.
    pub show: Option<Show>,
    /// Its `<status/>` text, at most [`STATUS_KEEP_BYTES`] of it (the whole text is in
    /// the [`PresenceEvent::Available`] that brought it).
    pub status: Option<String>,
    /// Its priority (RFC 6121 §4.7.2.3; 0 when absent).
    pub priority: i8,
    /// When its last presence arrived.
    pub since: Instant,
    /// Arrival order within the connection: larger is more recent.
    seq: u64,
}

/// How much of a status text the model keeps per resource: with the contact and
/// resource bounds, this bounds the model's memory (anyone can send us directed
/// presence, each with a status as large as a stanza may be).
pub const STATUS_KEEP_BYTES: usize = 512;

/// `s` cut to at most `max` bytes, at a character boundary.
fn truncated(s: &str, max: usize) -> &str {
    let mut end = s.len().min(max);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

impl ResourcePresence {
    fn from_presence(jid: Jid, p: &Presence, since: Instant, seq: u64) -> ResourcePresence {
        ResourcePresence {
            jid,
            show: p.show(),
            status: p
                .status()
                .map(|s| String::from(truncated(&s, STATUS_KEEP_BYTES))),
            priority: p.priority(),
            since,
            seq,
        }
    }

    /// The same resource's new presence, in place: its address and its status buffer
    /// are reused (this runs for most presence a client receives).
    fn update(&mut self, from: JidRef<'_>, p: &Presence, since: Instant, seq: u64) {
        if self.jid.as_str() != from.as_str() {
            // Equal but spelt otherwise (case, a trailing dot): keep the latest spelling.
            self.jid = from.to_owned_jid();
        }
        self.show = p.show();
        match (p.status(), &mut self.status) {
            (Some(new), Some(kept)) => {
                kept.clear();
                kept.push_str(truncated(&new, STATUS_KEEP_BYTES));
            }
            (new, kept) => *kept = new.map(|s| String::from(truncated(&s, STATUS_KEEP_BYTES))),
        }
        self.priority = p.priority();
        self.since = since;
        self.seq = seq;
    }

    /// Whether messages to the contact's bare address reach this resource: a negative
    /// priority opts out (RFC 6121 §4.7.2.3, §8.5.2.1.1).
    pub fn receives_bare_messages(&self) -> bool {
        self.priority >= 0
    }

    /// How this resource ranks: higher priority first, then show (chat, available,
    /// away, xa, dnd), then the most recent presence.
    pub fn rank_cmp(&self, other: &ResourcePresence) -> Ordering {
        self.priority
            .cmp(&other.priority)
            .then(show_rank(self.show).cmp(&show_rank(other.show)))
            .then(self.seq.cmp(&other.seq))
    }
}

/// Show, from least to most reachable.
fn show_rank(show: Option<Show>) -> u8 {
    match show {
        Some(Show::Dnd) => 0,
        Some(Show::Xa) => 1,
        Some(Show::Away) => 2,
        None => 3,
        Some(Show::Chat) => 4,
    }
}

#[derive(Clone, Debug, Default)]
struct Model {
    /// Bare address (compared canonically) → its available resources, unordered.
    contacts: BTreeMap<Jid, Vec<ResourcePresence>>,
    seq: u64,
    untracked: u64,
    /// What the model holds, as [`Config::max_presence_bytes`] counts it.
    ///
    /// [`Config::max_presence_bytes`]: crate::client::Config::max_presence_bytes
    bytes: usize,
}

/// What a resource's entry costs the model: the entry and its strings.
fn entry_cost(r: &ResourcePresence) -> usize {
    // The status buffer's capacity, not its length: an update reuses the buffer.
    core::mem::size_of::<ResourcePresence>()
        + r.jid.as_str().len()
        + r.status.as_ref().map_or(0, String::capacity)
}

/// What a contact costs the model besides its resources: its key and list.
fn contact_cost(bare: &Jid) -> usize {
    core::mem::size_of::<Jid>()
        + core::mem::size_of::<Vec<ResourcePresence>>()
        + bare.as_str().len()
}

/// The presence model, read through [`Client::presence`](crate::client::Client::presence).
#[derive(Clone, Copy, Debug)]
pub struct PresenceView<'a> {
    model: Option<&'a Model>,
}

impl<'a> PresenceView<'a> {
    /// The resource of `contact` (a bare address; a full one is taken as its bare)
    /// that ranks first: highest priority, then show (chat > available > away > xa >
    /// dnd), then the most recent. `None` when no resource is available. A resource with
    /// negative priority still counts as online (see
    /// [`ResourcePresence::receives_bare_messages`]).
    ///
    /// ```
    /// # use core::num::NonZeroU64;
    /// # use jabber_proto::client::{Client, Config};
    /// # use jabber_proto::jid::Jid;
    /// # use jabber_proto::time::Instant;
    /// let client = Client::new(Config::new("example.com", NonZeroU64::MIN), Instant::ZERO);
    /// let juliet = Jid::parse("juliet@example.com").unwrap();
    /// assert!(client.presence().best(&juliet).is_none());
    /// ```
    pub fn best(&self, contact: &Jid) -> Option<&'a ResourcePresence> {
        self.resources(contact).iter().max_by(|a, b| a.rank_cmp(b))
    }

    /// The available resources of `contact`, in no particular order.
    pub fn resources(&self, contact: &Jid) -> &'a [ResourcePresence] {
        let Some(model) = self.model else {
            return &[];
        };
        let bare = contact.as_jid_ref().bare();
        model.contacts.get(key(&bare)).map_or(&[], Vec::as_slice)
    }

    /// Whether any resource of `contact` is available.
    pub fn is_available(&self, contact: &Jid) -> bool {
        !self.resources(contact).is_empty()
    }

    /// The bare addresses with at least one available resource, in canonical order.
    pub fn contacts(&self) -> impl Iterator<Item = &'a Jid> + 'a {
        self.model.into_iter().flat_map(|m| m.contacts.keys())
    }

    /// Available presences the model did not keep because a bound was reached
    /// ([`Config::max_contacts`](crate::client::Config::max_contacts),
    /// [`Config::max_resources`](crate::client::Config::max_resources)), this connection.
    /// They were still reported as [`PresenceEvent::Available`].
    pub fn untracked(&self) -> u64 {
        self.model.map_or(0, |m| m.untracked)
    }
}

/// The feature's state: the model, allocated on the first available presence and freed
/// when the last resource goes.
#[derive(Clone, Debug, Default)]
pub(crate) struct Contacts {
    model: Option<Box<Model>>,
}

impl Contacts {
    pub(crate) fn view(&self) -> PresenceView<'_> {
        PresenceView {
            model: self.model.as_deref(),
        }
    }

    /// The connection ended: nobody's presence is known any more.
    pub(crate) fn clear(&mut self) {
        self.model = None;
    }

    /// A presence that is not about subscriptions: update the model, report it.
    pub(crate) fn on_presence(&mut self, cx: &mut Cx, presence: Presence) {
        match presence.kind() {
            PresenceType::Available => {
                self.on_available(cx, &presence);
                cx.push(PresenceEvent::Available(presence));
            }
            PresenceType::Unavailable => {
                self.on_unavailable(cx, &presence);
                cx.push(PresenceEvent::Unavailable(presence));
            }
            PresenceType::Error => {
                let error = presence
                    .error()
                    .unwrap_or_else(|| StanzaError::new(StanzaCondition::UndefinedCondition));
                cx.push(PresenceEvent::Error { error, presence });
            }
            PresenceType::Probe => cx.push(PresenceEvent::Probe(presence)),
            // Subscription types are the subscriptions feature's; Client routes them there.
            _ => {}
        }
    }

    /// Whose presence this is: the sender, unless it is this very session (the
    /// server's echo of our own broadcast) or has no address (our server speaking for
    /// our account).
    fn sender<'p>(cx: &Cx, presence: &'p Presence) -> Option<JidRef<'p>> {
        let from = presence.from()?;
        if cx.jid.as_ref().is_some_and(|own| from == *own) {
            return None;
        }
        Some(from)
    }

    fn on_available(&mut self, cx: &Cx, presence: &Presence) {
        let Some(from) = Self::sender(cx, presence) else {
            return;
        };
        let max_contacts = usize::from(cx.config.max_contacts);
        let max_resources = usize::from(cx.config.max_resources);
        let max_bytes = cx.config.max_presence_bytes;
        let model = self.model.get_or_insert_with(Box::default);
        model.seq += 1;
        let seq = model.seq;
        let bare = from.bare();
        let Some(resources) = model.contacts.get_mut(key(&bare)) else {
            // A new contact: only now is its address copied.
            let bare = bare.to_owned_jid();
            let entry = ResourcePresence::from_presence(from.to_owned_jid(), presence, cx.now, seq);
            let needed = entry_cost(&entry) + contact_cost(&bare);
            if model.contacts.len() >= max_contacts
                || max_resources == 0
                || model.bytes + needed > max_bytes
            {
                model.untracked += 1;
            } else {
                model.bytes += needed;
                model.contacts.insert(bare, alloc::vec![entry]);
            }
            return self.free_if_empty();
        };
        if let Some(at) = resources.iter().position(|r| r.jid == from) {
            // The same resource: updated in place (no new entry), within the budget.
            let old = entry_cost(&resources[at]);
            resources[at].update(from, presence, cx.now, seq);
            let new = entry_cost(&resources[at]);
            if model.bytes - old + new <= max_bytes {
                model.bytes = model.bytes - old + new;
                return;
            }
            // Over the budget: the resource is no longer tracked (its old entry would
            // be stale).
            resources.swap_remove(at);
            model.bytes -= old;
            model.untracked += 1;
            if resources.is_empty() {
                // The key as stored: a spelling that compares equal may differ in length.
                if let Some((stored, _)) = model.contacts.remove_entry(key(&bare)) {
                    model.bytes -= contact_cost(&stored);
                }
            }
            return self.free_if_empty();
        }
        let entry = ResourcePresence::from_presence(from.to_owned_jid(), presence, cx.now, seq);
        let cost = entry_cost(&entry);
        let full = resources.len() >= max_resources;
        model.untracked += u64::from(full);
        let replaced = if full {
            // Full: the newcomer replaces the lowest-ranking resource if it ranks above
            // it (so `best` stays right), else it is the one left out.
            let worst = resources
                .iter()
                .enumerate()
                .min_by(|a, b| a.1.rank_cmp(b.1))
                .filter(|(_, w)| entry.rank_cmp(w) == Ordering::Greater)
                .map(|(at, _)| at);
            if worst.is_none() {
                return;
            }
            worst
        } else {
            None
        };
        let freed = replaced.map_or(0, |at| entry_cost(&resources[at]));
        if model.bytes - freed + cost > max_bytes {
            // Over the budget: not tracked (when full, already counted above).
            model.untracked += u64::from(!full);
            return self.free_if_empty();
        }
        model.bytes = model.bytes - freed + cost;
        match replaced {
            Some(at) => resources[at] = entry,
            None => resources.push(entry),
        }
    }

    fn on_unavailable(&mut self, cx: &Cx, presence: &Presence) {
        let Some(from) = Self::sender(cx, presence) else {
            return;
        };
        let Some(model) = self.model.as_mut() else {
            return;
        };
        let bare = from.bare();
        if let Some(resources) = model.contacts.get_mut(key(&bare)) {
            // Unavailable from the bare address: none of its resources is available.
            let gone = |r: &ResourcePresence| from.is_bare() || r.jid == from;
            model.bytes -= resources
                .iter()
                .filter(|r| gone(r))
                .map(entry_cost)
                .sum::<usize>();
            resources.retain(|r| !gone(r));
            if resources.is_empty() {
                // The key as stored: a spelling that compares equal may differ in length.
                if let Some((stored, _)) = model.contacts.remove_entry(key(&bare)) {
                    model.bytes -= contact_cost(&stored);
                }
            }
        }
        self.free_if_empty();
    }

    /// Nobody online and nothing to count: back to no heap at all.
    fn free_if_empty(&mut self) {
        if self
            .model
            .as_ref()
            .is_some_and(|m| m.contacts.is_empty() && m.untracked == 0)
        {
            self.model = None;
        }
    }
}
