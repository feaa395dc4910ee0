//! Stream management (XEP-0198) as the client routes it: its elements, its timer, the
//! start of a resumed or new session, and the commands that export and resume a session.

use alloc::boxed::Box;
use alloc::format;

use super::{Client, Error, SmEvent, StreamEvent, capture};
use crate::features::stream_management::{self as sm, Outcome, Resumption, StreamManagement};
use crate::negotiation::auth::Credentials;
use crate::ns;
use crate::time::Instant;
use crate::xml::Element;

impl Client {
    // ---- getters ----

    /// What a new connection needs to resume this session (XEP-0198 §5), while stream
    /// management is enabled with resumption — also after the connection died, which is
    /// when it is wanted. `None` after an orderly close (which ends the session) or when
    /// the server does not allow resumption.
    pub fn resumption(&self) -> Option<Resumption> {
        if self
            .close_reason()
            .is_some_and(super::CloseReason::is_clean)
        {
            return None;
        }
        let mut r = self.cx.sm.as_deref()?.resumption(self.cx.jid.as_ref())?;
        if !self.is_closed() {
            // Asked while the connection is still open (its driver saw the transport
            // fail first): what waits for replies is still in the table.
            r.in_flight = self.cx.iqs.in_flight(self.cx.now);
            r.iq_handles = self.cx.iqs.last_handle();
        }
        r.rooms = self.conference.carry_out();
        Some(r)
    }

    /// How many stanzas a [`resumption`](Self::resumption) would carry as
    /// unacknowledged, without building it (`None` where there would be none).
    pub fn unacked_stanzas(&self) -> Option<usize> {
        if self
            .close_reason()
            .is_some_and(super::CloseReason::is_clean)
        {
            return None;
        }
        self.cx
            .sm
            .as_deref()?
            .resumable_unacked(self.cx.jid.as_ref())
    }

    // ---- commands ----

    /// Logs in like [`login`](Self::login), but where a new session would be bound,
    /// resumes the one `resumption` describes (from the old connection's
    /// [`resumption`](Self::resumption)). On `<resumed/>` the stanzas the server had not
    /// received go out again, and [`SmEvent::Resumed`] follows — no binding, no roster
    /// fetch, no initial presence. When the server refuses (or offers no stream
    /// management), [`SmEvent::ResumeFailed`]: the login goes on as a new session
    /// (binding, roster, presence, [`SessionEvent::Ready`](super::SessionEvent::Ready)),
    /// after which the unacknowledged stanzas are sent again and reported as
    /// [`SmEvent::PossibleDuplicates`].
    ///
    /// Requests that were waiting for replies ([`Resumption::in_flight`]) keep their
    /// handles: their replies arrive as if the connection had not changed, or, after a
    /// refused resumption, [`IqEvent::Lost`](super::IqEvent::Lost) says a reply went to
    /// the lost session (see [`InFlightIq`](super::InFlightIq)).
    ///
    /// Refused like [`login`](Self::login); also on a classic stream
    /// ([`Error::WrongPhase`]: stream management needs `Config::version`) and with more
    /// unacknowledged stanzas than [`Config::sm_max_unacked`](super::Config::sm_max_unacked)
    /// ([`Error::UnackedQueueFull`]).
    pub fn resume(
        &mut self,
        now: Instant,
        credentials: Credentials,
        resumption: Resumption,
    ) -> Result<(), Error> {
        let record = || {
            let mut r = capture::command("resumption")
                .attr("id", &resumption.id)
                .attr("jid", resumption.jid.as_str())
                .attr("handled", &format!("{}", resumption.handled))
                .attr("acked", &format!("{}", resumption.acked));
            if let Some(location) = &resumption.location {
                r = r.attr("location", location);
            }
            let mut r = r
                .attr("iq-handles", &format!("{}", resumption.iq_handles))
                .children(resumption.unacked.iter().cloned());
            for iq in &resumption.in_flight {
                let mut c = capture::command("in-flight")
                    .attr("wire", iq.wire_id())
                    .attr("n", &format!("{}", iq.id().get()))
                    .attr("ms", &format!("{}", iq.remaining().as_millis()))
                    .attr("owner", &iq.owner_name());
                if let Some(to) = iq.to() {
                    c = c.attr("to", to.as_str());
                }
                r = r.child(c);
            }
            for room in &resumption.rooms {
                r = r.child(crate::features::conference::capture::room_element(room));
            }
            capture::command("resume")
                .attr("username", &credentials.username)
                .attr("resource", &credentials.resource)
                .child(Element::builder("password", ns::IQ_AUTH).text(&credentials.password))
                .child(r)
        };
        self.capture_command(now, record);
        let result = self.start_resume(now, credentials, resumption);
        self.capture_refusal(now, &result);
        result
    }

    fn start_resume(
        &mut self,
        now: Instant,
        credentials: Credentials,
        resumption: Resumption,
    ) -> Result<(), Error> {
        if self.cx.config.version.is_none() {
            // Stream management needs an XMPP 1.0 stream.
            return Err(Error::WrongPhase);
        }
        if resumption.unacked.len() > 2 * usize::from(self.cx.config.sm_max_unacked).max(1) {
            // More than the session could have held (the application's stanzas up to the
            // bound, the client's own answers up to twice it): the bound is the
            // application's too.
            return Err(Error::UnackedQueueFull);
        }
        self.cx.check_not_closing()?;
        if !self.login.is_idle() || self.account.is_busy() {
            return Err(Error::WrongPhase);
        }
        // A session resumes only for the account it belongs to: another account's
        // unacknowledged stanzas must not be resent from this one.
        let ours = crate::jid::Jid::new(Some(&credentials.username), &self.cx.config.domain, None)
            .map_err(Error::InvalidAddress)?;
        if resumption.jid.to_bare() != ours {
            return Err(Error::WrongPhase);
        }
        self.cx.tick(now);
        // Before any request of this connection: none may reuse an old handle.
        self.cx.iqs.continue_after(resumption.iq_handles);
        let mut resumption = resumption;
        let rooms = core::mem::take(&mut resumption.rooms);
        let previous = self
            .cx
            .sm
            .replace(Box::new(StreamManagement::resuming(resumption)));
        match self.login.start_with(&mut self.cx, credentials, true) {
            Ok(next) => {
                self.conference.carry_in(&self.cx, rooms);
                self.follow_login(next);
                Ok(())
            }
            Err(e) => {
                self.cx.sm = previous;
                Err(e)
            }
        }
    }

    // ---- routing ----

    /// An element of `urn:xmpp:sm:3` from the server.
    pub(super) fn on_sm_element(&mut self, el: Element) {
        match sm::on_element(&mut self.cx, &el) {
            Outcome::Done => {}
            Outcome::Resumed { jid, resent } => {
                // Authenticated and resumed: the replies the server kept may come now.
                let carried = self
                    .cx
                    .sm
                    .as_deref_mut()
                    .map(StreamManagement::take_carried)
                    .unwrap_or_default();
                let now = self.cx.now;
                self.cx.iqs.carry_in(carried, now);
                self.cx.features = None;
                self.login.on_resumed(&mut self.cx, jid.clone());
                self.cx.push(SmEvent::Resumed { jid, resent });
                self.conference.on_resumed(&self.cx);
            }
            Outcome::ResumeFailed => {
                self.cx.push(SmEvent::ResumeFailed);
                let next = self.login.on_resume_failed(&mut self.cx);
                self.follow_login(next);
            }
            Outcome::Fatal(e) => self.cx.fail_sm(e),
            Outcome::Unexpected => self.cx.push(StreamEvent::Element(el)),
        }
    }

    /// Bound to a new session: stream management is enabled (if offered) before the
    /// session's first requests, so that they are counted.
    pub(super) fn sm_on_bound(
        &mut self,
    ) -> (alloc::vec::Vec<Element>, alloc::vec::Vec<super::InFlightIq>) {
        let offered = self
            .cx
            .features
            .as_ref()
            .is_some_and(|f| f.stream_management);
        sm::on_bound(&mut self.cx, offered)
    }

    /// After a failed resumption the new session sends the old one's unacknowledged
    /// stanzas again, and says they may be duplicates.
    pub(super) fn sm_resend(
        &mut self,
        leftover: alloc::vec::Vec<Element>,
        carried: alloc::vec::Vec<super::InFlightIq>,
    ) {
        let now = self.cx.now;
        self.cx.iqs.carry_in(carried, now);
        // The carried requests that do not go out again were answered into the lost
        // session: their replies will not come.
        let resent: alloc::vec::Vec<&str> = leftover
            .iter()
            .filter(|el| el.name() == "iq")
            .filter_map(|el| el.attr("id"))
            .collect();
        for (id, owner) in self.cx.iqs.take_lost(&resent) {
            match owner {
                // The new session fetches its own roster.
                Some(super::Owner::Roster) => {}
                Some(owner) => self.on_own_reply(id, owner, None),
                None => self.cx.push(super::IqEvent::Lost { id }),
            }
        }
        if leftover.is_empty() {
            return;
        }
        for stanza in &leftover {
            self.cx.emit(stanza);
        }
        self.cx.push(SmEvent::PossibleDuplicates(leftover));
    }

    /// When stream management next asks for an ack.
    pub(super) fn sm_deadline(&self) -> Option<Instant> {
        self.cx.sm.as_deref()?.deadline()
    }

    pub(super) fn sm_on_timeout(&mut self, now: Instant) {
        if self.sm_deadline().is_some_and(|d| d <= now) && self.cx.is_open() {
            sm::request_ack(&mut self.cx);
        }
    }
}
