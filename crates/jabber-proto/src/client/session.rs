//! The session machine on top of the stream: login, registration, roster and presence
//! after login, keepalive.
//!
//! ```text
//!  Unauthenticated ──login()──► (stream open / features) ──► auth get ──► auth set
//!        │    ▲                                                 │            │ result
//!        │    └──────── conflict: RegistrationConflict ◄──┐     │ refused    ▼
//!        └─request_registration()─► form ─submit_registration()─┘  LoginFailed  LoggedIn
//!                                                                  → close    (roster, presence)
//!                                                                              → SessionReady
//! ```

use alloc::boxed::Box;
use alloc::string::String;

use super::{Client, CloseReason, Error, Event, State};
use crate::features::keepalive::Due;
use crate::features::roster::{self, Roster};
use crate::jid::Jid;
use crate::negotiation::auth::{self, AuthFields, AuthMethod, Credentials, LoginError};
use crate::negotiation::register::{
    self, Field, RegistrationError, RegistrationForm, RegistrationStep,
};
use crate::ns;
use crate::stanza::{Iq, IqType, StanzaCondition, StanzaError};
use crate::stream::Writer;
use crate::time::Instant;
use crate::xml::{BuildError, Element};

/// Requests the client sends on its own behalf; their replies drive the session.
#[derive(Clone, Debug)]
pub(crate) enum Internal {
    AuthFields,
    AuthSet(AuthMethod),
    Roster,
    RegistrationForm,
    RegistrationSubmit(Box<RegistrationForm>),
    ChangePassword,
    Remove,
    Probe,
}

/// Where the session is.
#[derive(Clone, Debug, Default)]
pub(crate) enum Phase {
    /// Nothing started (or a registration exchange, which needs no login).
    #[default]
    Unauthenticated,
    /// `login` was called before the stream (or its features) arrived; it fails with
    /// [`LoginError::Timeout`] if they do not arrive by `deadline`.
    LoginQueued {
        credentials: Box<Credentials>,
        deadline: Instant,
    },
    /// The iq:auth exchange runs.
    Authenticating {
        credentials: Box<Credentials>,
        fields: AuthFields,
        digest_failed: bool,
    },
    /// Logged in as `jid`; `ready` once the roster arrived (or was not asked for);
    /// `removing` while the account's removal is under way.
    LoggedIn {
        jid: Jid,
        ready: bool,
        removing: bool,
    },
    /// Registered, removed, or login failed: the stream is being closed.
    Ended,
}

/// What the public getters report.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SessionState {
    /// Not logged in, no login running.
    Unauthenticated,
    /// A login is running (or waits for the stream).
    Authenticating,
    /// Logged in; the roster may still be on its way.
    LoggedIn,
    /// Logged in and [`SessionReady`](Event::SessionReady) delivered.
    Ready,
    /// The session is over (registration done, account removed, login failed, closed).
    Ended,
}

impl Client {
    // ---- getters ----

    /// Where the session (login, registration) is.
    pub fn session_state(&self) -> SessionState {
        if matches!(self.state, State::Closing | State::Closed) {
            return SessionState::Ended;
        }
        match &self.phase {
            Phase::Unauthenticated => SessionState::Unauthenticated,
            Phase::LoginQueued { .. } | Phase::Authenticating { .. } => {
                SessionState::Authenticating
            }
            Phase::LoggedIn { ready: false, .. } => SessionState::LoggedIn,
            Phase::LoggedIn { ready: true, .. } => SessionState::Ready,
            Phase::Ended => SessionState::Ended,
        }
    }

    /// Our full address, once logged in.
    pub fn jid(&self) -> Option<&Jid> {
        match &self.phase {
            Phase::LoggedIn { jid, .. } => Some(jid),
            _ => None,
        }
    }

    // ---- commands ----

    /// Logs in with `jabber:iq:auth` (XEP-0078). May be called right after
    /// [`Client::new`]: the exchange starts once the server's stream header (and, on a
    /// `version='1.0'` stream, its features) arrived. The outcome is
    /// [`Event::SessionReady`] or [`Event::LoginFailed`].
    ///
    /// The digest is used when the server offers it; a plaintext password is sent only if
    /// [`Config::transport_encrypted`](super::Config::transport_encrypted) or
    /// [`Config::allow_plaintext`](super::Config::allow_plaintext) is set.
    ///
    /// ```
    /// use jabber_proto::client::{Client, Config, Event};
    /// use jabber_proto::negotiation::auth::{Credentials, digest};
    /// use jabber_proto::time::Instant;
    ///
    /// let now = Instant::ZERO;
    /// let mut config = Config::new("example.com");
    /// config.fetch_roster = false;
    /// let mut client = Client::new(config, now);
    /// client.login(now, Credentials::new("alice", "secret", "laptop")).unwrap();
    /// let mut wire = |client: &mut Client| {
    ///     let out = String::from_utf8(client.poll_transmit().unwrap_or_default().to_vec());
    ///     client.advance_transmit(usize::MAX);
    ///     out.unwrap()
    /// };
    /// wire(&mut client); // our header
    ///
    /// client.handle_input(now, b"<stream:stream xmlns='jabber:client' \
    ///     xmlns:stream='http://etherx.jabber.org/streams' id='abc'>");
    /// assert!(wire(&mut client).contains("<query xmlns='jabber:iq:auth'><username>alice"));
    ///
    /// // The server offers the digest: the password itself never goes out.
    /// client.handle_input(now, b"<iq type='result' id='00000000-1'>\
    ///     <query xmlns='jabber:iq:auth'><username/><password/><digest/><resource/></query></iq>");
    /// let set = wire(&mut client);
    /// assert!(set.contains(&digest("abc", "secret")) && !set.contains("secret"));
    ///
    /// client.handle_input(now, b"<iq type='result' id='00000000-2'/>");
    /// while let Some(event) = client.poll_event() {
    ///     if let Event::SessionReady { jid, .. } = event {
    ///         assert_eq!(jid.as_str(), "alice@example.com/laptop");
    ///     }
    /// }
    /// assert_eq!(client.jid().map(|j| j.as_str()), Some("alice@example.com/laptop"));
    /// ```
    ///
    /// Refused (and nothing sent) when the credentials make no valid address or hold
    /// characters XML cannot carry, or when a login or registration is already running.
    pub fn login(&mut self, now: Instant, credentials: Credentials) -> Result<(), Error> {
        self.check_not_closing()?;
        if !matches!(self.phase, Phase::Unauthenticated) || self.registration_busy {
            return Err(Error::WrongPhase);
        }
        // Every request the login will build is checked now, so a bad value is the
        // caller's error here rather than a failure half-way through.
        Jid::new(
            Some(&credentials.username),
            &self.config.domain,
            Some(&credentials.resource),
        )
        .map_err(Error::InvalidAddress)?;
        auth::fields_query(&credentials.username)?;
        auth::credentials_query(&credentials, AuthMethod::Plaintext, "")?;
        self.now = self.now.max(now);
        self.phase = Phase::LoginQueued {
            credentials: Box::new(credentials),
            deadline: self.now + self.config.iq_timeout,
        };
        self.start_queued();
        Ok(())
    }

    /// Asks the server for its registration form (XEP-0077): [`Event::RegistrationForm`]
    /// follows. Before login it is the form for a new account; logged in, it tells
    /// whether the account is registered. Like [`login`](Self::login), it may be called
    /// before the stream is open; the request goes out once it is.
    pub fn request_registration(&mut self, now: Instant) -> Result<(), Error> {
        self.check_not_closing()?;
        let allowed = matches!(
            self.phase,
            Phase::Unauthenticated
                | Phase::LoggedIn {
                    removing: false,
                    ..
                }
        );
        if !allowed || self.registration_busy {
            return Err(Error::WrongPhase);
        }
        self.now = self.now.max(now);
        if self.ready_to_negotiate() {
            self.internal_iq(
                IqType::Get,
                register::form_query(),
                Internal::RegistrationForm,
            )?;
        } else {
            self.registration_queued = Some(self.now + self.config.iq_timeout);
        }
        self.registration_busy = true;
        Ok(())
    }

    /// Submits a filled registration form for a new account. The outcome is
    /// [`Event::Registered`] (after which the stream closes),
    /// [`Event::RegistrationConflict`] or [`Event::RegistrationFailed`].
    ///
    /// A form carrying a password is refused with [`Error::PlaintextNotAllowed`] on an
    /// unencrypted transport unless [`Config::allow_plaintext`](super::Config) is set:
    /// registration has no digest.
    pub fn submit_registration(
        &mut self,
        now: Instant,
        form: &RegistrationForm,
    ) -> Result<(), Error> {
        self.check_open()?;
        if !matches!(self.phase, Phase::Unauthenticated) || self.registration_busy {
            return Err(Error::WrongPhase);
        }
        if form.get(Field::Password).is_some_and(|p| !p.is_empty()) {
            self.check_plaintext()?;
        }
        self.now = self.now.max(now);
        let internal = Internal::RegistrationSubmit(Box::new(form.clone()));
        self.internal_iq(IqType::Set, form.to_query(), internal)?;
        self.registration_busy = true;
        Ok(())
    }

    /// Changes the logged-in account's password: [`Event::PasswordChanged`] or
    /// [`Event::RegistrationFailed`] follows. Like registration, it sends the password
    /// itself, so the plaintext rule applies ([`Error::PlaintextNotAllowed`]).
    pub fn change_password(&mut self, now: Instant, password: &str) -> Result<(), Error> {
        self.check_open()?;
        let Phase::LoggedIn {
            jid,
            removing: false,
            ..
        } = &self.phase
        else {
            return Err(Error::WrongPhase);
        };
        self.check_plaintext()?;
        let payload = register::password_change_query(jid.local().unwrap_or_default(), password);
        self.now = self.now.max(now);
        self.internal_iq(IqType::Set, payload, Internal::ChangePassword)
    }

    /// Removes the logged-in account from the server: [`Event::AccountRemoved`] (after
    /// which the stream closes) or [`Event::RegistrationFailed`] follows.
    pub fn remove_account(&mut self, now: Instant) -> Result<(), Error> {
        self.check_open()?;
        if !matches!(
            self.phase,
            Phase::LoggedIn {
                removing: false,
                ..
            }
        ) {
            return Err(Error::WrongPhase);
        }
        self.now = self.now.max(now);
        self.internal_iq(IqType::Set, register::remove_query(), Internal::Remove)?;
        if let Phase::LoggedIn { removing, .. } = &mut self.phase {
            *removing = true;
        }
        Ok(())
    }

    // ---- internals ----

    fn check_not_closing(&self) -> Result<(), Error> {
        match self.state {
            State::Opening | State::Open => Ok(()),
            State::Closing | State::Closed => Err(Error::Closed),
        }
    }

    fn check_plaintext(&self) -> Result<(), Error> {
        if self.config.transport_encrypted || self.config.allow_plaintext {
            Ok(())
        } else {
            Err(Error::PlaintextNotAllowed)
        }
    }

    /// A `version='1.0'` stream on both sides (RFC 6120 §4.7.5): features come first.
    pub(super) fn stream_has_features(&self) -> bool {
        self.config.version.is_some()
            && self
                .server_header
                .as_ref()
                .and_then(|h| h.version())
                .is_some_and(|v| !v.starts_with("0."))
    }

    /// The stream is open and, on a 1.0 stream, its features have arrived: negotiation
    /// requests may go out.
    fn ready_to_negotiate(&self) -> bool {
        self.state == State::Open && (!self.stream_has_features() || self.features_received)
    }

    /// Starts a login or registration request that waited for the stream.
    pub(super) fn start_queued(&mut self) {
        if !self.ready_to_negotiate() {
            return;
        }
        if self.registration_queued.take().is_some()
            && self
                .internal_iq(
                    IqType::Get,
                    register::form_query(),
                    Internal::RegistrationForm,
                )
                .is_err()
        {
            self.registration_busy = false;
        }
        // Only a queued login moves on; any other phase stays as it is (a second
        // `<stream:features>` must not disturb a running login).
        let credentials = match core::mem::take(&mut self.phase) {
            Phase::LoginQueued { credentials, .. } => credentials,
            other => {
                self.phase = other;
                return;
            }
        };
        // XEP-0078 §4: on an XMPP 1.0 stream the server announces iq:auth.
        if self.stream_has_features() && !self.iq_auth_feature {
            return self.fail_login(LoginError::NoCommonMethod);
        }
        let payload = auth::fields_query(&credentials.username);
        self.phase = Phase::Authenticating {
            credentials,
            fields: AuthFields::default(),
            digest_failed: false,
        };
        if self
            .internal_iq(IqType::Get, payload, Internal::AuthFields)
            .is_err()
        {
            self.fail_login(LoginError::UnexpectedReply);
        }
    }

    /// Sends one of the client's own requests, stamped with `self.now`.
    fn internal_iq(
        &mut self,
        kind: IqType,
        payload: Result<Element, BuildError>,
        internal: Internal,
    ) -> Result<(), Error> {
        self.request(None, kind, payload?, Some(internal))
            .map(|_| ())
    }

    /// A reply (or a timeout: `iq` is `None`) to one of our own requests.
    pub(super) fn on_internal_reply(&mut self, internal: Internal, iq: Option<Iq>) {
        let outcome = match &iq {
            None => Reply::Timeout,
            Some(iq) if iq.kind() == IqType::Result => Reply::Result(iq),
            Some(iq) => Reply::Error(
                iq.error()
                    .unwrap_or_else(|| StanzaError::new(StanzaCondition::UndefinedCondition)),
            ),
        };
        match internal {
            Internal::AuthFields => self.on_auth_fields(outcome),
            Internal::AuthSet(method) => self.on_auth_set(method, outcome),
            Internal::Roster => {
                let roster = match outcome {
                    Reply::Result(iq) => Some(
                        iq.payload()
                            .filter(|p| p.is("query", ns::IQ_ROSTER))
                            .map(Roster::from_query)
                            .unwrap_or_default(),
                    ),
                    _ => None,
                };
                self.session_ready(roster);
            }
            Internal::RegistrationForm => {
                self.registration_busy = false;
                let form = match outcome {
                    Reply::Result(iq) => iq
                        .payload()
                        .filter(|p| p.is("query", ns::IQ_REGISTER))
                        .map(RegistrationForm::from_query)
                        .ok_or(RegistrationError::UnexpectedReply),
                    other => Err(other.into_registration_error()),
                };
                match form {
                    Ok(form) => self.events.push_back(Event::RegistrationForm(form)),
                    Err(e) => self.registration_failed(RegistrationStep::Form, e),
                }
            }
            Internal::RegistrationSubmit(form) => {
                self.registration_busy = false;
                match outcome {
                    Reply::Result(_) => {
                        self.events.push_back(Event::Registered);
                        self.end_session();
                    }
                    Reply::Error(e) if e.condition == StanzaCondition::Conflict => {
                        self.events.push_back(Event::RegistrationConflict(*form));
                    }
                    other => self.registration_failed(
                        RegistrationStep::Submit,
                        other.into_registration_error(),
                    ),
                }
            }
            Internal::ChangePassword => match outcome {
                Reply::Result(_) => self.events.push_back(Event::PasswordChanged),
                other => self.registration_failed(
                    RegistrationStep::ChangePassword,
                    other.into_registration_error(),
                ),
            },
            Internal::Remove => {
                if let Phase::LoggedIn { removing, .. } = &mut self.phase {
                    *removing = false;
                }
                match outcome {
                    Reply::Result(_) => {
                        self.events.push_back(Event::AccountRemoved);
                        self.end_session();
                    }
                    other => self.registration_failed(
                        RegistrationStep::Remove,
                        other.into_registration_error(),
                    ),
                }
            }
            // Any answer, even an error, proves the server is alive; receiving it already
            // reset the dead-peer clock.
            Internal::Probe if iq.is_some() => self.keepalive.on_probe_answered(),
            Internal::Probe => self.keepalive.on_probe_lost(self.now),
        }
    }

    fn on_auth_fields(&mut self, outcome: Reply<'_>) {
        let fields = match outcome {
            Reply::Result(iq) => iq
                .payload()
                .filter(|p| p.is("query", ns::IQ_AUTH))
                .map(AuthFields::from_query)
                .unwrap_or_default(),
            Reply::Error(e) => return self.fail_login(LoginError::Refused(e)),
            Reply::Timeout => return self.fail_login(LoginError::Timeout),
        };
        if let Phase::Authenticating { fields: f, .. } = &mut self.phase {
            *f = fields;
        }
        self.send_credentials(None);
    }

    fn on_auth_set(&mut self, method: AuthMethod, outcome: Reply<'_>) {
        match outcome {
            // Success is an empty result. A result carrying the field list again is how
            // prosody 0.12 answers a digest it does not support: not a login.
            Reply::Result(iq) if iq.payload().is_none() => self.logged_in(),
            Reply::Result(iq) if method == AuthMethod::Digest => {
                let offered = iq
                    .payload()
                    .filter(|p| p.is("query", ns::IQ_AUTH))
                    .map(AuthFields::from_query);
                if let Phase::Authenticating {
                    fields,
                    digest_failed,
                    ..
                } = &mut self.phase
                {
                    *digest_failed = true;
                    if let Some(offered) = offered {
                        *fields = offered;
                    }
                }
                self.send_credentials(None);
            }
            Reply::Result(_) => self.fail_login(LoginError::UnexpectedReply),
            Reply::Error(e) if method == AuthMethod::Digest => {
                if let Phase::Authenticating { digest_failed, .. } = &mut self.phase {
                    *digest_failed = true;
                }
                self.send_credentials(Some(e));
            }
            Reply::Error(e) => self.fail_login(LoginError::Refused(e)),
            Reply::Timeout => self.fail_login(LoginError::Timeout),
        }
    }

    /// Sends the `set` with the best allowed method; `refusal` is the server's answer to
    /// a digest attempt, reported if no fallback is allowed.
    fn send_credentials(&mut self, refusal: Option<StanzaError>) {
        let plaintext_ok = self.check_plaintext().is_ok();
        let stream_id = self
            .server_header
            .as_ref()
            .and_then(|h| h.id())
            .map(String::from);
        let Phase::Authenticating {
            credentials,
            fields,
            digest_failed,
        } = &self.phase
        else {
            return;
        };
        let digest_usable = stream_id.is_some() && self.config.use_digest;
        let chosen = fields.choose(digest_usable, *digest_failed, plaintext_ok);
        let method = match (chosen, refusal) {
            (Ok(method), _) => method,
            (Err(_), Some(refusal)) => return self.fail_login(LoginError::Refused(refusal)),
            (Err(e), None) => return self.fail_login(e),
        };
        let payload = auth::credentials_query(
            credentials,
            method,
            stream_id.as_deref().unwrap_or_default(),
        );
        if self
            .internal_iq(IqType::Set, payload, Internal::AuthSet(method))
            .is_err()
        {
            self.fail_login(LoginError::UnexpectedReply);
        }
    }

    fn logged_in(&mut self) {
        let credentials = match core::mem::take(&mut self.phase) {
            Phase::Authenticating { credentials, .. } => credentials,
            other => {
                self.phase = other;
                return;
            }
        };
        // `login` checked that these make a JID.
        let jid = Jid::new(
            Some(&credentials.username),
            &self.config.domain,
            Some(&credentials.resource),
        );
        let Ok(jid) = jid else {
            return self.fail_login(LoginError::UnexpectedReply);
        };
        self.phase = Phase::LoggedIn {
            jid,
            ready: false,
            removing: false,
        };
        let fetching = self.config.fetch_roster
            && self
                .internal_iq(IqType::Get, roster::fetch_query(), Internal::Roster)
                .is_ok();
        if self.config.initial_presence {
            if let Ok(presence) = Element::builder("presence", ns::CLIENT).build() {
                self.emit(&presence);
            }
        }
        if !fetching {
            self.session_ready(None);
        }
    }

    fn session_ready(&mut self, roster: Option<Roster>) {
        if let Phase::LoggedIn { jid, ready, .. } = &mut self.phase {
            if !*ready {
                *ready = true;
                let jid = jid.clone();
                self.events.push_back(Event::SessionReady { jid, roster });
            }
        }
    }

    /// A roster push (RFC 6121 §2.1.6): acknowledged and reported when it comes from
    /// our server (no `from`, or our bare JID); anything else is ignored, as the RFC
    /// says.
    pub(super) fn on_roster_push(&mut self, iq: Iq) {
        // Only a live session has a roster to push to (and can acknowledge).
        let Some(own) = self
            .jid()
            .map(Jid::to_bare)
            .filter(|_| self.state == State::Open)
        else {
            return;
        };
        let trusted = match iq.from() {
            None => true,
            Some(from) => {
                from.local()
                    .is_some_and(|l| own.local().is_some_and(|o| o.eq_ignore_ascii_case(l)))
                    && from.resource().is_none()
                    && from.domain().eq_ignore_ascii_case(own.domain())
            }
        };
        if !trusted {
            return;
        }
        let roster = iq.payload().map(Roster::from_query).unwrap_or_default();
        let _ = self.reply(iq.element(), Ok(None));
        self.events.push_back(Event::RosterPush(roster));
    }

    fn fail_login(&mut self, error: LoginError) {
        self.events.push_back(Event::LoginFailed(error));
        self.end_session();
    }

    fn registration_failed(&mut self, step: RegistrationStep, error: RegistrationError) {
        self.events
            .push_back(Event::RegistrationFailed { step, error });
    }

    /// The session has nothing more to do on this stream: close it.
    fn end_session(&mut self) {
        self.phase = Phase::Ended;
        let now = self.now;
        self.close(now);
    }

    /// Acts on the session's timers at `now`: a login that waited too long for the
    /// stream, then the keepalive.
    pub(super) fn run_session_timers(&mut self, now: Instant) {
        // Requests waiting for the stream; after our own close they are moot.
        let waiting = matches!(self.state, State::Opening | State::Open);
        if waiting && matches!(self.phase, Phase::LoginQueued { deadline, .. } if deadline <= now) {
            self.phase = Phase::Unauthenticated;
            self.fail_login(LoginError::Timeout);
        }
        if waiting && self.registration_queued.is_some_and(|d| d <= now) {
            self.registration_queued = None;
            self.registration_busy = false;
            self.registration_failed(RegistrationStep::Form, RegistrationError::Timeout);
        }
        loop {
            let may_write = self.state == State::Open;
            let may_probe = may_write && matches!(self.phase, Phase::LoggedIn { .. });
            match self.keepalive.due(now, may_write, may_probe) {
                None => return,
                Some(Due::Dead) => {
                    // Closed politely in case the path comes back; nobody waits for it.
                    if matches!(self.state, State::Opening | State::Open) {
                        Writer::CLIENT.close(&mut self.out);
                    }
                    return self.finish(CloseReason::PeerTimeout);
                }
                Some(Due::Whitespace) => self.out.push(b' '),
                Some(Due::Probe) => {
                    let to = Jid::domain_only(&self.config.domain).ok();
                    let ping = Element::builder("ping", ns::PING).build();
                    if let Ok(ping) = ping {
                        let _ = self.request(to.as_ref(), IqType::Get, ping, Some(Internal::Probe));
                    }
                }
            }
        }
    }

    /// The session's next deadline.
    pub(super) fn session_deadline(&self) -> Option<Instant> {
        let may_write = self.state == State::Open;
        let may_probe = may_write && matches!(self.phase, Phase::LoggedIn { .. });
        let waiting = matches!(self.state, State::Opening | State::Open);
        let login = match self.phase {
            Phase::LoginQueued { deadline, .. } if waiting => Some(deadline),
            _ => None,
        };
        let registration = self.registration_queued.filter(|_| waiting);
        [
            login,
            registration,
            self.keepalive.deadline(may_write, may_probe),
        ]
        .into_iter()
        .flatten()
        .min()
    }
}

enum Reply<'a> {
    Result(&'a Iq),
    Error(StanzaError),
    Timeout,
}

impl Reply<'_> {
    fn into_registration_error(self) -> RegistrationError {
        match self {
            Reply::Result(_) => RegistrationError::UnexpectedReply,
            Reply::Error(e) => RegistrationError::Refused(e),
            Reply::Timeout => RegistrationError::Timeout,
        }
    }
}
