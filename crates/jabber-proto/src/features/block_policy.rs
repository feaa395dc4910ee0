//! The blocking policy: which senders' messages (and, optionally, subscription
//! requests) the core drops before they reach the application, kept in private storage
//! so it follows the account from computer to computer.
//!
//! A [`BlockPolicy`] is a [`BlockMode`] and a list of addresses:
//! - [`Off`](BlockMode::Off): nothing is dropped (the list is kept, inactive);
//! - [`Listed`](BlockMode::Listed): what the listed addresses send is dropped;
//! - [`RosterOnly`](BlockMode::RosterOnly): that, and what anyone not on the roster
//!   sends — except groupchat messages (a room we joined sends them) and error
//!   messages (the answer to something we sent).
//!
//! Our server and our own account (no `from`, the server's domain, our bare JID and its
//! resources) are never blocked. A listed address matches as XEP-0191 §3.3 reads a
//! blocked JID: `user@domain/resource` only that resource, `user@domain` every resource
//! of it, `domain/resource` only that, `domain` everyone at it; compared canonically.
//!
//! **Reporting.** A dropped message or request produces no event — a flood of blocked
//! spam costs a few comparisons each, never a queue — and is counted:
//! [`Client::blocked_counts`](crate::client::Client::blocked_counts) says how many, per
//! kind, for the connection's life.
//!
//! **Storage and the server's list.**
//! [`Client::set_block_policy`](crate::client::Client::set_block_policy) puts a policy in
//! force at once and saves it to private storage (XEP-0049, as `<policy/>` in
//! [`POLICY_NS`]). Once the save succeeded, the server's block list (XEP-0191) is brought
//! in line: the addresses the policy lists and the server's list did not hold of ours
//! are blocked, those it held and the policy no longer lists unblocked (with
//! [`Off`](BlockMode::Off), the server's list holds none of them). Waiting for the save
//! keeps the two stored things together: a policy that could not be stored changes
//! nothing on the server. Only that difference is sent, so entries the user blocked by
//! other means stay. What the server's list holds of ours is taken from the policy last
//! loaded or stored, so load first
//! ([`Client::load_block_policy`](crate::client::Client::load_block_policy), after
//! login): the loaded policy replaces the local one. Loading sends nothing to the
//! server's list: it was brought in line when the policy was stored. Answers come only
//! from our own account or our server (anything else is [`ServiceEvent::Spoofed`] and
//! changes nothing).
//!
//! The list is bounded by what one stored element can hold
//! ([`Limits::max_stanza_bytes`](crate::stream::Limits)).

use alloc::boxed::Box;
use alloc::vec::Vec;

use crate::client::{Cx, IqId, Owner, Reply, ServiceEvent};
use crate::features::blocking;
use crate::features::roster::RosterView;
use crate::jid::{Jid, JidRef};
use crate::ns;
use crate::stanza::{IqType, Message, MessageType, Presence};
use crate::xml::{BuildError, Element, ElementRef};

/// The namespace the policy is stored under in private storage.
pub const POLICY_NS: &str = "urn:jabber-rs:block-policy:0";

/// Whom the policy blocks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum BlockMode {
    /// No one: the list is kept but not applied (the default).
    #[default]
    Off,
    /// The listed addresses.
    Listed,
    /// The listed addresses and everyone not on the roster.
    RosterOnly,
}

impl BlockMode {
    /// The stored name: `off`, `listed` or `roster-only`.
    pub fn as_str(self) -> &'static str {
        match self {
            BlockMode::Off => "off",
            BlockMode::Listed => "listed",
            BlockMode::RosterOnly => "roster-only",
        }
    }

    /// The mode stored as `name`.
    pub fn from_name(name: &str) -> Option<BlockMode> {
        [BlockMode::Off, BlockMode::Listed, BlockMode::RosterOnly]
            .into_iter()
            .find(|m| m.as_str() == name)
    }
}

/// A blocking policy: see the [module](self).
///
/// ```
/// use jabber_proto::features::block_policy::{BlockMode, BlockPolicy};
/// use jabber_proto::jid::Jid;
/// let policy = BlockPolicy::new(BlockMode::RosterOnly)
///     .with_jid(Jid::parse("mallory@example.net")?)
///     .blocking_subscriptions(true);
/// assert_eq!(
///     policy.to_element()?.to_string(),
///     "<policy xmlns='urn:jabber-rs:block-policy:0' mode='roster-only' subscriptions='true'>\
///      <item jid='mallory@example.net'/></policy>"
/// );
/// assert_eq!(BlockPolicy::from_element(policy.to_element()?.root()), Some(policy));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct BlockPolicy {
    /// Whom it blocks.
    pub mode: BlockMode,
    /// Whether subscription requests are dropped too (not only messages).
    pub subscriptions: bool,
    /// The listed addresses, in the order given.
    pub jids: Vec<Jid>,
}

impl BlockPolicy {
    /// A policy in `mode` with an empty list, messages only.
    pub fn new(mode: BlockMode) -> BlockPolicy {
        BlockPolicy {
            mode,
            subscriptions: false,
            jids: Vec::new(),
        }
    }

    /// With `jid` added to the list.
    pub fn with_jid(mut self, jid: Jid) -> BlockPolicy {
        self.jids.push(jid);
        self
    }

    /// With subscription requests dropped too (or not).
    pub fn blocking_subscriptions(mut self, on: bool) -> BlockPolicy {
        self.subscriptions = on;
        self
    }

    /// The stored form: `<policy xmlns='urn:jabber-rs:block-policy:0' mode='…'
    /// [subscriptions='true']><item jid='…'/>…</policy>`.
    pub fn to_element(&self) -> Result<Element, BuildError> {
        let mut b = Element::builder("policy", POLICY_NS).attr("mode", self.mode.as_str());
        if self.subscriptions {
            b = b.attr("subscriptions", "true");
        }
        for jid in &self.jids {
            b = b.child(Element::builder("item", POLICY_NS).attr("jid", jid.as_str()));
        }
        b.build()
    }

    /// The policy `el` stores; `None` when it is not a `<policy/>` with a mode this
    /// version knows — which includes the empty element a server returns when nothing
    /// is stored. Items whose `jid` is not an address are skipped.
    pub fn from_element(el: ElementRef<'_>) -> Option<BlockPolicy> {
        if !el.is("policy", POLICY_NS) {
            return None;
        }
        let mode = BlockMode::from_name(el.attr("mode")?)?;
        let jids = el
            .children()
            .filter(|c| c.is("item", POLICY_NS))
            .filter_map(|c| Jid::parse(c.attr("jid")?).ok())
            .collect();
        Some(BlockPolicy {
            mode,
            subscriptions: el.attr("subscriptions") == Some("true"),
            jids,
        })
    }

    /// Whether one of the listed addresses matches `from` (see the [module](self)).
    pub fn lists(&self, from: JidRef<'_>) -> bool {
        self.jids.iter().any(|j| jid_matches(j.as_jid_ref(), from))
    }

    /// What the server's block list should hold for this policy: the list, unless the
    /// policy is [`Off`](BlockMode::Off).
    pub fn server_list(&self) -> &[Jid] {
        match self.mode {
            BlockMode::Off => &[],
            BlockMode::Listed | BlockMode::RosterOnly => &self.jids,
        }
    }
}

/// Whether the blocked address `item` covers the sender `from` (XEP-0191 §3.3's
/// reading; canonical comparison).
pub fn jid_matches(item: JidRef<'_>, from: JidRef<'_>) -> bool {
    match (item.local(), item.resource()) {
        (Some(_), Some(_)) | (None, Some(_)) => item == from,
        (Some(_), None) => item == from.bare(),
        (None, None) => JidRef::parse(from.domain()).is_ok_and(|d| d == item),
    }
}

/// The addresses in `new` that `old` lacks (canonically).
fn missing_from(new: &[Jid], old: &[Jid]) -> Vec<Jid> {
    new.iter()
        .filter(|n| !old.iter().any(|o| o.as_jid_ref() == n.as_jid_ref()))
        .cloned()
        .collect()
}

/// How many items the policy dropped on this connection.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct BlockedCounts {
    /// Messages (carbons of received messages included).
    pub messages: u64,
    /// Subscription requests.
    pub subscriptions: u64,
}

/// Which of the policy's own requests an answer is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum PolicyStep {
    Load,
    Save,
    /// Blocking or unblocking on the server for the policy saved by request `of`.
    Sync {
        of: IqId,
    },
}

/// The policy in force and what it dropped; nothing (no heap) until a policy is set or
/// loaded.
#[derive(Debug, Default)]
pub(crate) struct PolicyState {
    inner: Option<Box<Inner>>,
}

#[derive(Debug, Default)]
struct Inner {
    policy: BlockPolicy,
    counts: BlockedCounts,
    /// What the server's block list holds of ours, as far as we know: the list of the
    /// last policy stored (and synced) or loaded.
    synced: Vec<Jid>,
    /// Policies being stored: each save's handle and the server list it wants, synced
    /// once the save succeeded (one entry per request in flight).
    saving: Vec<(IqId, Vec<Jid>)>,
}

impl PolicyState {
    pub(crate) fn policy(&self) -> Option<&BlockPolicy> {
        self.inner.as_ref().map(|i| &i.policy)
    }

    pub(crate) fn counts(&self) -> BlockedCounts {
        self.inner.as_ref().map(|i| i.counts).unwrap_or_default()
    }

    fn inner(&mut self) -> &mut Inner {
        self.inner.get_or_insert_with(Box::default)
    }

    /// Puts `policy` in force; its save went out as request `id`: the server's list
    /// follows when the save succeeds.
    pub(crate) fn set(&mut self, id: IqId, policy: BlockPolicy) {
        let inner = self.inner();
        inner.saving.push((id, policy.server_list().to_vec()));
        inner.policy = policy;
    }

    /// Whether the policy drops `m` (counted if so).
    pub(crate) fn drops_message(&mut self, cx: &Cx, m: &Message, roster: RosterView<'_>) -> bool {
        // Without a policy nothing is dropped: the sender's address is not even parsed
        // (this runs for every message).
        if self.policy().is_none_or(|p| p.mode == BlockMode::Off) {
            return false;
        }
        let exempt_from_roster = matches!(m.kind(), MessageType::Groupchat | MessageType::Error);
        let drop = self.drops(cx, m.from(), roster, exempt_from_roster);
        if drop {
            self.inner().counts.messages += 1;
        }
        drop
    }

    /// Whether the policy drops the subscription request `p` (counted if so).
    pub(crate) fn drops_subscription(
        &mut self,
        cx: &Cx,
        p: &Presence,
        roster: RosterView<'_>,
    ) -> bool {
        if !self.policy().is_some_and(|p| p.subscriptions) {
            return false;
        }
        let drop = self.drops(cx, p.from(), roster, false);
        if drop {
            self.inner().counts.subscriptions += 1;
        }
        drop
    }

    /// Whether the policy would drop what `from` sends us: then we must not ask it
    /// anything either (a capabilities query would tell it we are online).
    /// `from` is parsed only when a policy is set (this runs for every presence).
    pub(crate) fn shuns<'j>(
        &self,
        cx: &Cx,
        from: impl FnOnce() -> Option<JidRef<'j>>,
        roster: RosterView<'_>,
    ) -> bool {
        self.policy().is_some() && self.drops(cx, from(), roster, false)
    }

    fn drops(
        &self,
        cx: &Cx,
        from: Option<JidRef<'_>>,
        roster: RosterView<'_>,
        exempt_from_roster: bool,
    ) -> bool {
        let Some(policy) = self.policy() else {
            return false;
        };
        let Some(from) = from else {
            return false;
        };
        if policy.mode == BlockMode::Off || is_own(cx, from) {
            return false;
        }
        if policy.lists(from) {
            return true;
        }
        policy.mode == BlockMode::RosterOnly
            && !exempt_from_roster
            && roster.get_ref(from).is_none()
    }

    /// The answer to one of the policy's requests.
    pub(crate) fn on_reply(&mut self, cx: &mut Cx, id: IqId, step: PolicyStep, reply: Reply<'_>) {
        let saving = match step {
            PolicyStep::Save => self.inner.as_mut().and_then(|inner| {
                let at = inner.saving.iter().position(|(i, _)| *i == id)?;
                Some(inner.saving.remove(at).1)
            }),
            _ => None,
        };
        let error = match reply {
            Reply::Result(iq) => {
                let event = match step {
                    PolicyStep::Load => {
                        let policy = iq
                            .payload()
                            .filter(|p| p.is("query", ns::IQ_PRIVATE))
                            .and_then(|q| q.child("policy", POLICY_NS))
                            .and_then(BlockPolicy::from_element);
                        if let Some(p) = &policy {
                            let inner = self.inner();
                            inner.synced = p.server_list().to_vec();
                            inner.policy = p.clone();
                        }
                        ServiceEvent::BlockPolicy { id, policy }
                    }
                    PolicyStep::Save => {
                        cx.push(ServiceEvent::BlockPolicySaved { id });
                        if let Some(list) = saving {
                            self.sync(cx, id, list);
                        }
                        return;
                    }
                    PolicyStep::Sync { of } => ServiceEvent::BlockListSynced { id: of },
                };
                return cx.push(event);
            }
            Reply::Error(e) => Some(e),
            Reply::Timeout => None,
        };
        cx.push(match step {
            PolicyStep::Load | PolicyStep::Save => ServiceEvent::Failed { id, error },
            PolicyStep::Sync { of } => ServiceEvent::BlockListSyncFailed { id: of, error },
        });
    }

    /// The policy saved by request `id` is stored: the server's list follows it — what
    /// it lists and the list did not is blocked, what the list held and it does not is
    /// unblocked. The client's own requests, like its answers to the server.
    fn sync(&mut self, cx: &mut Cx, id: IqId, list: Vec<Jid>) {
        let inner = self.inner();
        let add = missing_from(&list, &inner.synced);
        let remove = missing_from(&inner.synced, &list);
        inner.synced = list;
        let owner = || Some(Owner::BlockPolicy(PolicyStep::Sync { of: id }));
        if !add.is_empty() {
            if let Ok(q) = blocking::block_query(&add) {
                let _ = cx.request(None, IqType::Set, q, owner());
            }
        }
        if !remove.is_empty() {
            if let Ok(q) = blocking::unblock_query(&remove) {
                let _ = cx.request(None, IqType::Set, q, owner());
            }
        }
    }
}

/// Whether `from` is our server or our own account.
fn is_own(cx: &Cx, from: JidRef<'_>) -> bool {
    if from.local().is_none() && JidRef::parse(&cx.config.domain).is_ok_and(|d| d == from) {
        return true;
    }
    cx.jid
        .as_ref()
        .is_some_and(|own| own.as_jid_ref().bare() == from.bare())
}
