//! Presence subscriptions (RFC 6121 §3, the seed protocol's §5): the four requests both
//! ways, and the incoming requests waiting for the application's answer.
//!
//! Incoming requests are remembered until [`Client::approve_subscription`] or
//! [`Client::deny_subscription`] answers them, at most
//! [`Config::max_pending_subscriptions`] of them; one beyond is still reported but not
//! remembered (the server delivers a request again at each login until it is answered,
//! RFC 6121 §3.1.3). A repeated request is neither remembered nor reported twice.
//!
//! [`Client::approve_subscription`]: crate::client::Client::approve_subscription
//! [`Client::deny_subscription`]: crate::client::Client::deny_subscription
//! [`Config::max_pending_subscriptions`]: crate::client::Config::max_pending_subscriptions

use alloc::boxed::Box;
use alloc::vec::Vec;

use crate::client::{Cx, Error, SubscriptionEvent};
use crate::jid::Jid;
use crate::stanza::{Presence, PresenceType};
use crate::xml::Element;

/// The feature's state: the requests waiting for an answer (no heap while there are
/// none; boxed, so that a client with none pays one word for them).
#[derive(Clone, Debug, Default)]
pub(crate) struct Subscriptions {
    pending: Option<Box<Pending>>,
}

/// The requests waiting for an answer, oldest first, by the contact's bare address.
#[derive(Clone, Debug, Default)]
struct Pending {
    requests: Vec<Jid>,
}

impl Subscriptions {
    /// The requests waiting for an answer, oldest first.
    pub(crate) fn pending(&self) -> &[Jid] {
        self.pending
            .as_deref()
            .map_or(&[], |p| p.requests.as_slice())
    }

    /// The connection ended: the server will deliver unanswered requests again.
    pub(crate) fn clear(&mut self) {
        self.pending = None;
    }

    /// A subscription presence from a contact. Those without a sender are dropped: a
    /// subscription is always between two accounts.
    pub(crate) fn on_presence(&mut self, cx: &mut Cx, presence: Presence) {
        let Some(from) = presence.from().map(|f| f.bare().to_owned_jid()) else {
            return;
        };
        let event = match presence.kind() {
            PresenceType::Subscribe => {
                if self.pending().contains(&from) {
                    return;
                }
                let max = usize::from(cx.config.max_pending_subscriptions);
                let list = &mut self.pending.get_or_insert_with(Box::default).requests;
                if list.len() < max {
                    list.push(from);
                }
                self.free_if_empty();
                SubscriptionEvent::Request(presence)
            }
            PresenceType::Subscribed => SubscriptionEvent::Approved(presence),
            PresenceType::Unsubscribed => SubscriptionEvent::Revoked(presence),
            PresenceType::Unsubscribe => {
                // They no longer want ours: a request of theirs we had not answered is moot.
                self.forget(&from);
                SubscriptionEvent::Unsubscribed(presence)
            }
            _ => return,
        };
        cx.push(event);
    }

    /// Sends a subscription presence of `kind` to `to`; answering (subscribed,
    /// unsubscribed) forgets `to`'s pending request.
    pub(crate) fn send(&mut self, cx: &mut Cx, kind: PresenceType, to: &Jid) -> Result<(), Error> {
        let builder = match kind {
            PresenceType::Subscribe => Presence::subscribe(to),
            PresenceType::Subscribed => Presence::subscribed(to),
            PresenceType::Unsubscribe => Presence::unsubscribe(to),
            _ => Presence::unsubscribed(to),
        };
        let el = Element::from(builder.build()?);
        let before = cx.out_len();
        cx.emit(&el);
        cx.check_room(before)?;
        if matches!(kind, PresenceType::Subscribed | PresenceType::Unsubscribed) {
            self.forget(&to.to_bare());
        }
        Ok(())
    }

    fn forget(&mut self, bare: &Jid) {
        if let Some(pending) = self.pending.as_mut() {
            pending.requests.retain(|j| j != bare);
        }
        self.free_if_empty();
    }

    fn free_if_empty(&mut self) {
        if self.pending.as_ref().is_some_and(|p| p.requests.is_empty()) {
            self.pending = None;
        }
    }
}
