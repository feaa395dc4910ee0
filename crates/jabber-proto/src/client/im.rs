//! The instant-messaging commands and getters: our presence, subscriptions, and the
//! models of others' presence and of the roster. Each routes to the feature that owns
//! it (`features/presence.rs`, `features/subscriptions.rs`, `features/contacts.rs`,
//! `features/roster.rs`).

use super::{Client, Error};
use crate::features::contacts::PresenceView;
use crate::features::roster::RosterView;
use crate::jid::Jid;
use crate::stanza::{Presence, PresenceType};
use crate::time::Instant;
use crate::xml::Element;

impl Client {
    // ---- getters ----

    /// Others' presence as the server routed it to us: each contact's available
    /// resources (and our own account's other resources) and the best one. Empty
    /// before login and once the connection is over.
    pub fn presence(&self) -> PresenceView<'_> {
        self.contacts.view()
    }

    /// The roster as the server gave it (its answer to the fetch after login, then its
    /// pushes), never changed by our own requests. With
    /// [`Config::roster_cache`](super::Config::roster_cache) it starts from the cached
    /// roster. It stays readable after the connection ends, to be saved.
    pub fn roster(&self) -> RosterView<'_> {
        self.roster.view()
    }

    /// The contacts (bare addresses) whose subscription requests wait for
    /// [`approve_subscription`](Self::approve_subscription) or
    /// [`deny_subscription`](Self::deny_subscription), oldest first.
    pub fn pending_subscriptions(&self) -> &[Jid] {
        self.subscriptions.pending()
    }

    // ---- commands ----

    /// Sends our presence: available (with show, status, priority) or unavailable, to
    /// every contact (no `to`) or directed to one address (RFC 6121 §4.6). Unavailable
    /// broadcast presence while connected is the seed protocol's "invisible".
    ///
    /// A broadcast available presence makes [`close`](Self::close) send unavailable
    /// first; a broadcast unavailable one withdraws that debt; directed presence changes
    /// neither. Other types are refused with [`Error::WrongPresenceType`] (subscriptions
    /// have their own commands), and nothing is sent before login
    /// ([`Error::WrongPhase`]).
    ///
    /// ```
    /// use jabber_proto::stanza::{Presence, Show};
    /// let away = Presence::available().show(Show::Away).status("lunch").priority(-1).build()?;
    /// assert_eq!(
    ///     away.element().to_string(),
    ///     "<presence xmlns='jabber:client'><show>away</show><status>lunch</status>\
    ///      <priority>-1</priority></presence>"
    /// );
    /// // client.send_presence(now, &away)?;
    /// # Ok::<(), jabber_proto::xml::BuildError>(())
    /// ```
    pub fn send_presence(&mut self, now: Instant, presence: &Presence) -> Result<(), Error> {
        self.check_logged_in()?;
        if !matches!(
            presence.kind(),
            PresenceType::Available | PresenceType::Unavailable
        ) {
            return Err(Error::WrongPresenceType);
        }
        // Our capabilities (XEP-0115), when advertised.
        let el = crate::features::caps::with_our_caps(&self.cx.config, presence.element());
        self.send(
            now,
            el.unwrap_or_else(|| Element::clone(presence.element())),
        )
    }

    /// Asks to see `contact`'s presence (`subscribe`, RFC 6121 §3.1). Its answer comes
    /// as [`SubscriptionEvent::Approved`](super::SubscriptionEvent::Approved) or
    /// [`Revoked`](super::SubscriptionEvent::Revoked), and the roster changes by pushes.
    pub fn subscribe(&mut self, now: Instant, contact: &Jid) -> Result<(), Error> {
        self.subscription(now, PresenceType::Subscribe, contact)
    }

    /// Stops seeing `contact`'s presence (`unsubscribe`, RFC 6121 §3.3).
    pub fn unsubscribe(&mut self, now: Instant, contact: &Jid) -> Result<(), Error> {
        self.subscription(now, PresenceType::Unsubscribe, contact)
    }

    /// Lets `contact` see our presence (`subscribed`, RFC 6121 §3.1.4): approves its
    /// request, which leaves [`pending_subscriptions`](Self::pending_subscriptions)
    /// (or pre-approves one, §3.4).
    pub fn approve_subscription(&mut self, now: Instant, contact: &Jid) -> Result<(), Error> {
        self.subscription(now, PresenceType::Subscribed, contact)
    }

    /// Refuses `contact`'s request, or cancels its existing subscription to our presence
    /// (`unsubscribed`, RFC 6121 §3.1.4, §3.2); a pending request leaves
    /// [`pending_subscriptions`](Self::pending_subscriptions).
    pub fn deny_subscription(&mut self, now: Instant, contact: &Jid) -> Result<(), Error> {
        self.subscription(now, PresenceType::Unsubscribed, contact)
    }

    fn subscription(&mut self, now: Instant, kind: PresenceType, to: &Jid) -> Result<(), Error> {
        let record = || {
            super::capture::command("subscription")
                .attr("type", kind.as_str())
                .attr("to", to.as_str())
        };
        self.captured(now, record, |c| c.send_subscription(now, kind, to))
    }

    fn send_subscription(
        &mut self,
        now: Instant,
        kind: PresenceType,
        to: &Jid,
    ) -> Result<(), Error> {
        self.check_logged_in()?;
        self.cx.tick(now);
        // Subscriptions are between accounts: always to the bare address (RFC 6121 §3.1.1).
        self.subscriptions.send(&mut self.cx, kind, &to.to_bare())
    }

    fn check_logged_in(&self) -> Result<(), Error> {
        self.cx.check_open()?;
        if !self.login.is_logged_in() {
            return Err(Error::WrongPhase);
        }
        Ok(())
    }
}
