//! The blocking policy's commands and getters, carbons' getter, and the routing of
//! incoming messages through both: a carbon is checked and unwrapped, then the policy
//! may drop what a blocked sender sent, then the message goes on to its feature.

use super::{CarbonEvent, Client, Error, IqId, Owner, capture};
use crate::features::block_policy::{BlockPolicy, BlockedCounts, PolicyStep};
use crate::features::{carbons, private_storage};
use crate::stanza::ext::{Carbon, CarbonDirection};
use crate::stanza::{IqType, Message, Presence};
use crate::time::Instant;
use crate::xml::Element;

impl Client {
    /// The blocking policy in force ([`features::block_policy`](crate::features::block_policy));
    /// `None` until one is set or loaded (nothing is blocked then).
    pub fn block_policy(&self) -> Option<&BlockPolicy> {
        self.block_policy.policy()
    }

    /// How many messages and subscription requests the blocking policy dropped on this
    /// connection. Dropped items produce no event; this is how they are reported.
    pub fn blocked_counts(&self) -> BlockedCounts {
        self.block_policy.counts()
    }

    /// Whether the server enabled message carbons for this session
    /// ([`Config::carbons`](super::Config::carbons)).
    pub fn carbons_enabled(&self) -> bool {
        self.carbons.is_enabled()
    }

    /// Puts `policy` in force at once and saves it to private storage; once stored, the
    /// server's block list (XEP-0191) is brought in line with it (see
    /// [`features::block_policy`](crate::features::block_policy)). Returns the save's
    /// handle: [`ServiceEvent::BlockPolicySaved`](super::ServiceEvent::BlockPolicySaved)
    /// or `Failed` follows (after a failure the server's list is left alone), then, for
    /// each change of the server's list,
    /// [`BlockListSynced`](super::ServiceEvent::BlockListSynced) or
    /// [`BlockListSyncFailed`](super::ServiceEvent::BlockListSyncFailed) with the same
    /// handle. Refused with [`Error::WrongPhase`] before login; a refused command changes
    /// nothing.
    pub fn set_block_policy(&mut self, now: Instant, policy: BlockPolicy) -> Result<IqId, Error> {
        let record =
            || capture::with_child(capture::command("set-block-policy"), policy.to_element());
        self.captured(now, record, |c| {
            let query = private_storage::set_query(&policy.to_element()?)?;
            let id = c.policy_request(now, IqType::Set, query, PolicyStep::Save)?;
            c.block_policy.set(id, policy.clone());
            Ok(id)
        })
    }

    /// Reads the policy saved in private storage; the answer,
    /// [`ServiceEvent::BlockPolicy`](super::ServiceEvent::BlockPolicy), puts it in force
    /// (accepted only from our own account: anything else is
    /// [`Spoofed`](super::ServiceEvent::Spoofed) and changes nothing). Call it after
    /// login, before [`set_block_policy`](Self::set_block_policy).
    pub fn load_block_policy(&mut self, now: Instant) -> Result<IqId, Error> {
        let record = || capture::command("load-block-policy");
        self.captured(now, record, |c| {
            let query =
                private_storage::get_query("policy", crate::features::block_policy::POLICY_NS)?;
            c.policy_request(now, IqType::Get, query, PolicyStep::Load)
        })
    }

    fn policy_request(
        &mut self,
        now: Instant,
        kind: IqType,
        payload: Element,
        step: PolicyStep,
    ) -> Result<IqId, Error> {
        self.session_request(now, None, kind, payload, Owner::BlockPolicy(step))
    }

    /// An incoming message: a carbon is checked and unwrapped; what the blocking policy
    /// blocks is dropped (and counted); the rest goes on to the message feature.
    pub(super) fn on_message(&mut self, m: Message) {
        if let Some(carbon) = Carbon::of(&m) {
            let Some((direction, forwarded)) = carbons::accept(&mut self.cx, m, carbon) else {
                return;
            };
            let event = match direction {
                CarbonDirection::Sent => CarbonEvent::Sent(forwarded),
                CarbonDirection::Received => {
                    let roster = self.roster.view();
                    let inner = &forwarded.message;
                    if self.block_policy.drops_message(&self.cx, inner, roster) {
                        return;
                    }
                    CarbonEvent::Received(forwarded)
                }
            };
            return self.cx.push(event);
        }
        if self
            .block_policy
            .drops_message(&self.cx, &m, self.roster.view())
        {
            return;
        }
        let Some(m) = self.conference.on_message(&mut self.cx, m) else {
            return;
        };
        self.messaging.on_message(&mut self.cx, m);
    }

    /// Whether the blocking policy drops this subscription request (counted if so).
    pub(super) fn drops_subscription(&mut self, p: &Presence) -> bool {
        self.block_policy
            .drops_subscription(&self.cx, p, self.roster.view())
    }
}
