//! Outstanding IQ requests: ids, addressees, deadlines.

use alloc::collections::{BTreeMap, BTreeSet};
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;
use core::fmt::Write as _;
use core::time::Duration;

use crate::features::services::ServiceRequest;
use crate::jid::{Jid, JidRef};
use crate::negotiation::account::AccountStep;
use crate::negotiation::login::LoginStep;
use crate::time::Instant;

/// Which feature sent one of the client's own requests: its reply (or timeout) is routed
/// there instead of to the application.
#[derive(Clone, Debug)]
pub(crate) enum Owner {
    Login(LoginStep),
    Account(AccountStep),
    Roster,
    Keepalive,
    /// An account service (vCard, private storage, update query).
    Service(ServiceRequest),
    /// The blocking policy's storage and server sync.
    BlockPolicy(crate::features::block_policy::PolicyStep),
    /// Enabling message carbons.
    Carbons,
    /// Service discovery: the application's queries and the caps verification.
    Disco(crate::features::caps::DiscoRequest),
    /// Conferences: self-pings, instant configuration, nickname requests, browsing.
    Conference(crate::features::conference::ConferenceRequest),
    /// File transfer: iq:oob offers, the upload service search, slot requests.
    Transfer(crate::features::files::TransferRequest),
}

/// Handle of an IQ request we sent; its reply, error or timeout carries the same handle.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct IqId(u64);

impl IqId {
    /// The sequence number of the request in its session (1 for the first): the
    /// handles of a connection that resumes a session continue after the old one's.
    pub fn get(self) -> u64 {
        self.0
    }
}

impl IqId {
    /// The handle with sequence number `n` (a carried request read back from a capture).
    pub(crate) fn from_sequence(n: u64) -> IqId {
        IqId(n)
    }
}

impl fmt::Display for IqId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "iq#{}", self.0)
    }
}

#[derive(Debug)]
struct Pending {
    id: IqId,
    to: Option<Jid>,
    deadline: Instant,
    /// Set when the client itself asked (login, roster, ...): the reply goes to the
    /// session machine, not to the application.
    owner: Option<Owner>,
    /// Carried over from a connection that died (see [`InFlightIq`]): when resumption
    /// fails, a reply can only come if the request itself goes out again.
    carried: bool,
}

/// A request that was waiting for its reply when its connection died, carried to the
/// connection that resumes the session (in
/// [`Resumption::in_flight`](crate::features::stream_management::Resumption::in_flight)).
///
/// On a resumed stream the server delivers the replies it had not delivered, and they
/// reach the request's handle as if nothing had happened. When resumption fails, the
/// requests the server had not acknowledged are sent again in the new session and
/// still get their replies; the others were answered into the lost session, and their
/// handles get [`IqEvent::Lost`](crate::client::IqEvent::Lost) (or the feature's
/// failure event for an account-service, discovery or conference request).
///
/// Carried: the application's requests, account-service and discovery queries, file
/// transfer's offers, upload-service searches and slot requests, a
/// password change or account removal, the blocking policy's load and save, a
/// conference browse, instant configuration or nickname request (their answers are
/// events the application waits for), and the roster fetch (a resumed session does not
/// fetch again). Not carried: the client's own housekeeping (keepalive pings, caps
/// verification, carbons, the blocking policy's server sync, room self-pings), which a
/// new session redoes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InFlightIq {
    wire: String,
    id: IqId,
    to: Option<Jid>,
    /// What was left of the request's timeout when its connection died.
    remaining: Duration,
    owner: Carried,
}

/// Who waits for a carried request's reply.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Carried {
    App,
    Roster,
    Password,
    Remove,
    PolicyLoad,
    PolicySave,
    Service(ServiceRequest),
    Disco(crate::features::caps::DiscoRequest),
    Transfer(crate::features::files::TransferRequest),
    /// A browse, an instant configuration or a conference nickname request.
    Conference(crate::features::conference::ConferenceRequest),
}

impl InFlightIq {
    /// The request's handle, as its command returned it.
    pub fn id(&self) -> IqId {
        self.id
    }

    /// Where the request went (`None`: to our server, for our account).
    pub fn to(&self) -> Option<&Jid> {
        self.to.as_ref()
    }

    /// The `id` attribute the request carried on the wire.
    pub fn wire_id(&self) -> &str {
        &self.wire
    }

    /// What was left of the request's timeout when its connection died.
    pub fn remaining(&self) -> Duration {
        self.remaining
    }

    /// The name the capture gives the request's owner (`app`, `service:vcard-get`, ...).
    pub(crate) fn owner_name(&self) -> String {
        match &self.owner {
            Carried::App => String::from("app"),
            Carried::Roster => String::from("roster"),
            Carried::Password => String::from("password"),
            Carried::Remove => String::from("remove"),
            Carried::PolicyLoad => String::from("policy-load"),
            Carried::PolicySave => String::from("policy-save"),
            Carried::Service(s) => alloc::format!("service:{}", s.name()),
            Carried::Disco(d) => String::from(match d {
                crate::features::caps::DiscoRequest::Items => "disco:items",
                _ => "disco:info",
            }),
            Carried::Transfer(t) => alloc::format!("transfer:{}", t.name()),
            Carried::Conference(c) => alloc::format!("conference:{}", c.name()),
        }
    }

    /// Rebuilds a carried request from its capture (replay).
    pub(crate) fn from_parts(
        wire: &str,
        id: u64,
        to: Option<Jid>,
        remaining: Duration,
        owner: &str,
    ) -> Option<InFlightIq> {
        let owner = match owner {
            "app" => Carried::App,
            "roster" => Carried::Roster,
            "password" => Carried::Password,
            "remove" => Carried::Remove,
            "policy-load" => Carried::PolicyLoad,
            "policy-save" => Carried::PolicySave,
            "disco:info" => Carried::Disco(crate::features::caps::DiscoRequest::Info),
            "disco:items" => Carried::Disco(crate::features::caps::DiscoRequest::Items),
            other if other.starts_with("transfer:") => Carried::Transfer(
                crate::features::files::TransferRequest::from_name(&other[9..])?,
            ),
            other if other.starts_with("conference:") => {
                Carried::Conference(crate::features::conference::ConferenceRequest::from_name(
                    other.strip_prefix("conference:")?,
                    to.as_ref()?,
                )?)
            }
            other => Carried::Service(ServiceRequest::from_name(other.strip_prefix("service:")?)?),
        };
        Some(InFlightIq {
            wire: String::from(wire),
            id: IqId(id),
            to,
            remaining,
            owner,
        })
    }
}

/// The table of requests awaiting a reply.
#[derive(Debug)]
pub(crate) struct IqTable {
    /// Every wire id starts with this, in eight hex digits.
    prefix: u32,
    next: u64,
    by_wire_id: BTreeMap<String, Pending>,
    deadlines: BTreeSet<(Instant, IqId, String)>,
}

impl IqTable {
    pub(crate) fn new(seed: core::num::NonZeroU64) -> IqTable {
        let seed = seed.get();
        // The seed shows in every id, so ids of two connections differ.
        IqTable {
            prefix: (seed ^ (seed >> 32)) as u32,
            next: 0,
            by_wire_id: BTreeMap::new(),
            deadlines: BTreeSet::new(),
        }
    }

    /// A fresh token from the same seeded sequence as the wire ids (prefix, then `tag`
    /// instead of `-`, then the counter), so it never equals one of them nor another
    /// token.
    pub(crate) fn fresh_token(&mut self, tag: char) -> String {
        self.next += 1;
        let mut token = String::with_capacity(16);
        let _ = write!(token, "{:08x}{tag}{}", self.prefix, self.next);
        token
    }

    /// Registers a request; returns its handle and the id to put on the wire.
    pub(crate) fn insert(
        &mut self,
        to: Option<Jid>,
        deadline: Instant,
        owner: Option<Owner>,
    ) -> (IqId, String) {
        self.next += 1;
        let id = IqId(self.next);
        // Eight hex digits, '-', and a counter that rarely needs more than seven.
        let mut wire = String::with_capacity(16);
        let _ = write!(wire, "{:08x}-{}", self.prefix, self.next);
        self.deadlines.insert((deadline, id, wire.clone()));
        self.by_wire_id.insert(
            wire.clone(),
            Pending {
                id,
                to,
                deadline,
                owner,
                carried: false,
            },
        );
        (id, wire)
    }

    /// The requests a resumed session carries over (see [`InFlightIq`]), with what is
    /// left of their timeouts at `now`.
    pub(crate) fn in_flight(&self, now: Instant) -> Vec<InFlightIq> {
        use crate::features::block_policy::PolicyStep;
        let mut carried = Vec::new();
        for (wire, p) in &self.by_wire_id {
            let owner = match &p.owner {
                None => Carried::App,
                Some(Owner::Roster) => Carried::Roster,
                Some(Owner::Account(AccountStep::ChangePassword)) => Carried::Password,
                Some(Owner::Account(AccountStep::Remove)) => Carried::Remove,
                Some(Owner::BlockPolicy(PolicyStep::Load)) => Carried::PolicyLoad,
                Some(Owner::BlockPolicy(PolicyStep::Save)) => Carried::PolicySave,
                Some(Owner::Service(s)) => Carried::Service(*s),
                Some(Owner::Disco(
                    d @ (crate::features::caps::DiscoRequest::Info
                    | crate::features::caps::DiscoRequest::Items),
                )) => Carried::Disco(d.clone()),
                Some(Owner::Transfer(t)) => Carried::Transfer(*t),
                Some(Owner::Conference(c)) if c.is_carried() => Carried::Conference(c.clone()),
                Some(_) => continue,
            };
            carried.push(InFlightIq {
                wire: wire.clone(),
                id: p.id,
                to: p.to.clone(),
                remaining: p.deadline.saturating_duration_since(now),
                owner,
            });
        }
        carried
    }

    /// The last handle given out: a resumed session's continue after it.
    pub(crate) fn last_handle(&self) -> u64 {
        self.next
    }

    /// Continues the handles (and wire ids' counter) of a session after `last`.
    pub(crate) fn continue_after(&mut self, last: u64) {
        self.next = self.next.max(last);
    }

    /// Takes in the requests an earlier connection carried over: their replies reach
    /// the same handles, and this table's handles continue after theirs.
    pub(crate) fn carry_in(&mut self, carried: Vec<InFlightIq>, now: Instant) {
        for c in carried {
            if self.by_wire_id.contains_key(&c.wire) {
                continue;
            }
            self.next = self.next.max(c.id.0);
            // At least a millisecond, as for a new request.
            let deadline = now + c.remaining.max(Duration::from_millis(1));
            self.deadlines.insert((deadline, c.id, c.wire.clone()));
            let owner = match c.owner {
                Carried::App => None,
                Carried::Roster => Some(Owner::Roster),
                Carried::Password => Some(Owner::Account(AccountStep::ChangePassword)),
                Carried::Remove => Some(Owner::Account(AccountStep::Remove)),
                Carried::PolicyLoad => Some(Owner::BlockPolicy(
                    crate::features::block_policy::PolicyStep::Load,
                )),
                Carried::PolicySave => Some(Owner::BlockPolicy(
                    crate::features::block_policy::PolicyStep::Save,
                )),
                Carried::Service(s) => Some(Owner::Service(s)),
                Carried::Disco(d) => Some(Owner::Disco(d)),
                Carried::Transfer(t) => Some(Owner::Transfer(t)),
                Carried::Conference(c) => Some(Owner::Conference(c)),
            };
            self.by_wire_id.insert(
                c.wire,
                Pending {
                    id: c.id,
                    to: c.to,
                    deadline,
                    owner,
                    carried: true,
                },
            );
        }
    }

    /// After a failed resumption, with `resent` the wire ids of the requests that went
    /// out again: removes and returns the carried requests whose replies cannot come.
    /// A carried roster fetch goes in any case: the new session fetches its own.
    pub(crate) fn take_lost(&mut self, resent: &[&str]) -> Vec<(IqId, Option<Owner>)> {
        let lost: Vec<String> = self
            .by_wire_id
            .iter()
            .filter(|(wire, p)| {
                p.carried
                    && (!resent.contains(&wire.as_str()) || matches!(p.owner, Some(Owner::Roster)))
            })
            .map(|(wire, _)| wire.clone())
            .collect();
        for p in self.by_wire_id.values_mut() {
            p.carried = false;
        }
        let mut out = Vec::with_capacity(lost.len());
        for wire in lost {
            if let Some(p) = self.by_wire_id.remove(&wire) {
                self.deadlines.remove(&(p.deadline, p.id, wire));
                out.push((p.id, p.owner));
            }
        }
        self.release_if_empty();
        out
    }

    /// The request a reply with this `id` from `from` answers, removed from the table.
    ///
    /// RFC 6120 §8.1.2.1: a reply comes from the address the request went to; a request
    /// without `to` went to our server on our account's behalf, so its reply comes without
    /// `from`, from the server's domain, or from our own address (`own`, once logged in).
    /// Addresses compare as JIDs do: canonically (RFC 7622), so a server that keeps the
    /// case a user logged in with still matches.
    pub(crate) fn take_reply(
        &mut self,
        wire_id: &str,
        from: Option<JidRef<'_>>,
        domain: &str,
        own: Option<&Jid>,
    ) -> Option<(IqId, Option<Owner>)> {
        let pending = self.by_wire_id.get(wire_id)?;
        // Parsing borrows: no allocation on the reply path.
        let server = |j: JidRef<'_>| JidRef::parse(domain).is_ok_and(|d| j == d);
        let ours = |j: JidRef<'_>| {
            own.is_some_and(|own| own.as_jid_ref() == j || own.as_jid_ref().bare() == j)
        };
        let matches = match (&pending.to, from) {
            (Some(to), Some(from)) => to.as_jid_ref() == from,
            // No `from` means our server answering for our account (RFC 6120 §8.1.2.1):
            // fine if the request went to the server or to our own bare JID.
            (Some(to), None) => {
                let to = to.as_jid_ref();
                server(to) || (to.is_bare() && ours(to))
            }
            (None, None) => true,
            (None, Some(from)) => server(from) || ours(from),
        };
        if !matches {
            return None;
        }
        let p = self.by_wire_id.remove(wire_id)?;
        self.deadlines
            .remove(&(p.deadline, p.id, String::from(wire_id)));
        self.release_if_empty();
        Some((p.id, p.owner))
    }

    /// The handle and owner of the request waiting under `wire_id`, left in the table.
    /// The wire ids of the pending requests whose owner `f` selects.
    pub(crate) fn wire_ids_of(&self, f: impl Fn(&Owner) -> bool) -> Vec<String> {
        self.by_wire_id
            .iter()
            .filter(|(_, p)| p.owner.as_ref().is_some_and(&f))
            .map(|(w, _)| w.clone())
            .collect()
    }

    /// Moves the deadline of request `id` (one that waits for a person, like an iq:oob
    /// offer answered after a download, may take longer than a protocol exchange).
    pub(crate) fn set_deadline(&mut self, id: IqId, deadline: Instant) {
        let Some((wire, p)) = self.by_wire_id.iter_mut().find(|(_, p)| p.id == id) else {
            return;
        };
        self.deadlines.remove(&(p.deadline, id, wire.clone()));
        p.deadline = deadline;
        self.deadlines.insert((deadline, id, wire.clone()));
    }

    pub(crate) fn peek(&self, wire_id: &str) -> Option<(IqId, &Owner)> {
        let p = self.by_wire_id.get(wire_id)?;
        Some((p.id, p.owner.as_ref()?))
    }

    /// Forgets the request `id` (its bytes were taken back).
    pub(crate) fn forget(&mut self, id: IqId) {
        let wire = self
            .by_wire_id
            .iter()
            .find(|(_, p)| p.id == id)
            .map(|(w, _)| w.clone());
        if let Some(wire) = wire {
            self.cancel(&wire);
        }
    }

    /// Forgets a request that was never sent.
    pub(crate) fn cancel(&mut self, wire_id: &str) {
        if let Some(p) = self.by_wire_id.remove(wire_id) {
            self.deadlines
                .remove(&(p.deadline, p.id, String::from(wire_id)));
        }
        self.release_if_empty();
    }

    /// Removes and returns the first request whose deadline has passed.
    pub(crate) fn pop_expired(&mut self, now: Instant) -> Option<(IqId, Option<Owner>)> {
        let first = self.deadlines.first()?;
        if first.0 > now {
            return None;
        }
        let (_, id, wire) = self.deadlines.pop_first()?;
        let owner = self.by_wire_id.remove(&wire).and_then(|p| p.owner);
        self.release_if_empty();
        Some((id, owner))
    }

    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        self.deadlines.first().map(|d| d.0)
    }

    /// Requests the application sent (the client's own are not counted).
    pub(crate) fn app_len(&self) -> usize {
        self.by_wire_id
            .values()
            .filter(|p| p.owner.is_none())
            .count()
    }

    pub(crate) fn clear(&mut self) {
        self.by_wire_id.clear();
        self.deadlines.clear();
    }

    /// Frees the maps' nodes once no request is outstanding: a `BTreeMap` emptied by
    /// `remove` keeps its root node — about 1.5 KiB for the two maps — which would
    /// otherwise stay with every idle client.
    fn release_if_empty(&mut self) {
        if self.by_wire_id.is_empty() && self.deadlines.is_empty() {
            self.by_wire_id = BTreeMap::new();
            self.deadlines = BTreeSet::new();
        }
    }
}
