//! The login as a feature of the client: from `login()` to a logged-in session, on the
//! XMPP 1.0 path ([`stream_login`](super::stream_login): STARTTLS, SASL, bind) or the
//! classic one (`jabber:iq:auth`, below) when the stream is version-less or the server
//! offers only that.
//!
//! ```text
//!  Idle ──login()──► Queued ──(stream open / features)──► fields get ──► credentials set
//!                      │ deadline                             │ refused       │ result
//!                      ▼                                      ▼               ▼
//!                  LoginFailed ◄──────────────────────── LoginFailed      LoggedIn ──► Ready
//!                  (stream closed)                                 (roster, if fetched)
//! ```

use alloc::boxed::Box;
use alloc::string::String;

use super::auth::{self, AuthFields, AuthMethod, Credentials, LoginError};
use super::channel_binding::ChannelBindingPolicy;
use super::features::StreamFeatures;
use super::stream_login::{Outcome, StreamLogin};
use crate::client::{Cx, Error, Owner, Reply, SessionEvent};
use crate::jid::Jid;
use crate::ns;
use crate::stanza::{IqType, StanzaError};
use crate::time::Instant;
use crate::xml::Element;

/// The login's requests, as its replies come back to it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum LoginStep {
    /// The `get` asking which fields the server wants.
    Fields,
    /// The `set` carrying the credentials with this method.
    Credentials(AuthMethod),
    /// Resource binding (XMPP 1.0).
    Bind,
    /// Session establishment (XMPP 1.0, where still required).
    Session,
}

/// What the client does after the login took an input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Next {
    /// Nothing.
    Wait,
    /// Restart the stream.
    Restart,
    /// Stop writing and ask the driver for TLS.
    StartTls,
    /// Logged in: start the session.
    LoggedIn,
    /// Authenticated: resume the earlier session (XEP-0198) in place of binding.
    Resume,
}

#[derive(Clone, Debug, Default)]
enum Phase {
    #[default]
    Idle,
    /// `login` was called before the stream (or its features) arrived; it fails with
    /// [`LoginError::Timeout`] if they do not arrive by `deadline`.
    Queued {
        credentials: Box<Credentials>,
        deadline: Instant,
        /// Resume a stream-managed session (XEP-0198) in place of binding.
        resume: bool,
    },
    Authenticating {
        credentials: Box<Credentials>,
        fields: AuthFields,
        digest_failed: bool,
    },
    /// The XMPP 1.0 path.
    Stream(Box<StreamLogin>),
    /// Logged in with `method`; `ready` once [`SessionEvent::Ready`] was delivered.
    LoggedIn { method: AuthMethod, ready: bool },
    /// The login failed: the stream is being closed.
    Failed,
}

/// The login feature's state.
#[derive(Clone, Debug, Default)]
pub(crate) struct Login {
    phase: Phase,
}

impl Login {
    // ---- getters ----

    pub(crate) fn is_idle(&self) -> bool {
        matches!(self.phase, Phase::Idle)
    }

    pub(crate) fn is_running(&self) -> bool {
        matches!(
            self.phase,
            Phase::Queued { .. } | Phase::Authenticating { .. } | Phase::Stream(_)
        )
    }

    pub(crate) fn is_logged_in(&self) -> bool {
        matches!(self.phase, Phase::LoggedIn { .. })
    }

    pub(crate) fn is_ready(&self) -> bool {
        matches!(self.phase, Phase::LoggedIn { ready: true, .. })
    }

    pub(crate) fn has_failed(&self) -> bool {
        matches!(self.phase, Phase::Failed)
    }

    pub(crate) fn method(&self) -> Option<AuthMethod> {
        match self.phase {
            Phase::LoggedIn { method, .. } => Some(method),
            _ => None,
        }
    }

    // ---- commands ----

    /// Queues a login; it starts once the stream allows ([`on_stream_ready`](Self::on_stream_ready)).
    pub(crate) fn start(&mut self, cx: &mut Cx, credentials: Credentials) -> Result<Next, Error> {
        self.start_with(cx, credentials, false)
    }

    /// [`start`](Self::start); with `resume`, a stream-managed session (XEP-0198) is
    /// resumed where a new one would be bound.
    pub(crate) fn start_with(
        &mut self,
        cx: &mut Cx,
        credentials: Credentials,
        resume: bool,
    ) -> Result<Next, Error> {
        // Every request the login will build is checked now, so a bad value is the
        // caller's error here rather than a failure half-way through.
        Jid::new(
            Some(&credentials.username),
            &cx.config.domain,
            Some(&credentials.resource),
        )
        .map_err(Error::InvalidAddress)?;
        auth::fields_query(&credentials.username)?;
        auth::credentials_query(&credentials, AuthMethod::Plaintext, "")?;
        self.phase = Phase::Queued {
            credentials: Box::new(credentials),
            deadline: cx.now + cx.config.iq_timeout,
            resume,
        };
        Ok(self.on_stream_ready(cx))
    }

    // ---- inputs ----

    /// The stream opened or its features arrived: a queued login starts.
    pub(crate) fn on_stream_ready(&mut self, cx: &mut Cx) -> Next {
        if !cx.ready_to_negotiate() || !matches!(self.phase, Phase::Queued { .. }) {
            // Only a queued login moves on; any other phase stays as it is.
            return Next::Wait;
        }
        if cx.stream_has_features() {
            // A 1.0 stream whose features came before the login: they decide.
            return match cx.features.clone() {
                Some(f) => self.on_features(cx, &f),
                None => Next::Wait,
            };
        }
        if let Phase::Queued { credentials, .. } = core::mem::take(&mut self.phase) {
            // We asked for XMPP 1.0 and got a version-less stream: on an unencrypted
            // transport that may be an attacker stripping the version to get the digest
            // (salted as they chose) or the password in the clear. The TLS rule holds.
            let downgraded = cx.config.version.is_some() && !cx.config.transport_encrypted;
            if downgraded && cx.config.require_tls {
                self.fail(cx, LoginError::TlsRequired);
                return Next::Wait;
            }
            self.start_classic(cx, credentials);
        }
        Next::Wait
    }

    /// An XMPP 1.0 login is running and not done: the server may send no stanza yet
    /// (RFC 6120 §6.4.6: only after authentication), and what came before TLS must be
    /// forgotten (§5.4.3.3). Stanzas are dropped meanwhile.
    pub(crate) fn negotiating(&self) -> bool {
        matches!(self.phase, Phase::Stream(_))
    }

    /// The SASL exchange is under way (see [`StreamLogin::in_sasl`]).
    pub(crate) fn in_sasl(&self) -> bool {
        matches!(&self.phase, Phase::Stream(s) if s.in_sasl())
    }

    /// The classic login: ask which fields the server wants.
    fn start_classic(&mut self, cx: &mut Cx, credentials: Box<Credentials>) {
        if cx.config.channel_binding == ChannelBindingPolicy::Required {
            // jabber:iq:auth cannot bind to the channel: a server (or an attacker)
            // offering only it must not get an unbound credential.
            return self.fail(cx, LoginError::ChannelBindingRequired);
        }
        let payload = auth::fields_query(&credentials.username);
        self.phase = Phase::Authenticating {
            credentials,
            fields: AuthFields::default(),
            digest_failed: false,
        };
        if self
            .request(cx, IqType::Get, payload, LoginStep::Fields)
            .is_err()
        {
            self.fail(cx, LoginError::UnexpectedReply);
        }
    }

    /// `<stream:features>` on a 1.0 stream: a queued login picks its path; the 1.0 path
    /// takes the next step.
    pub(crate) fn on_features(&mut self, cx: &mut Cx, f: &StreamFeatures) -> Next {
        match core::mem::take(&mut self.phase) {
            Phase::Queued {
                credentials,
                resume,
                ..
            } => {
                let classic_only = f.mechanisms.is_empty() && !f.starttls && f.iq_auth;
                if !classic_only {
                    let mut stream = Box::new(StreamLogin::new(cx, credentials, resume));
                    let outcome = stream.on_features(cx, f);
                    self.phase = Phase::Stream(stream);
                    return self.follow(cx, outcome);
                }
                // XEP-0078 §4: only iq:auth. The TLS rule of 1.0 streams still holds.
                if !cx.config.transport_encrypted && cx.config.require_tls {
                    self.fail(cx, LoginError::TlsRequired);
                    return Next::Wait;
                }
                self.start_classic(cx, credentials);
                Next::Wait
            }
            Phase::Stream(mut stream) => {
                let outcome = stream.on_features(cx, f);
                self.phase = Phase::Stream(stream);
                self.follow(cx, outcome)
            }
            other => {
                self.phase = other;
                Next::Wait
            }
        }
    }

    /// A top-level element of STARTTLS or SASL. `false` when no 1.0 login runs (the
    /// client then hands it to the application).
    pub(crate) fn on_nonza(&mut self, cx: &mut Cx, el: &Element) -> Option<Next> {
        let Phase::Stream(stream) = &mut self.phase else {
            return None;
        };
        let outcome = stream.on_nonza(cx, el);
        Some(self.follow(cx, outcome))
    }

    /// The driver's TLS is up.
    pub(crate) fn on_tls_ready(&mut self, cx: &mut Cx) -> Next {
        let Phase::Stream(stream) = &mut self.phase else {
            return Next::Wait;
        };
        let outcome = stream.on_tls_ready(cx);
        self.follow(cx, outcome)
    }

    fn follow(&mut self, cx: &mut Cx, outcome: Outcome) -> Next {
        match outcome {
            Outcome::Wait => Next::Wait,
            Outcome::Restart => Next::Restart,
            Outcome::StartTls => Next::StartTls,
            Outcome::Resume => Next::Resume,
            Outcome::LoggedIn(jid, method) => {
                cx.jid = Some(jid.into_canonical());
                self.phase = Phase::LoggedIn {
                    method,
                    ready: false,
                };
                Next::LoggedIn
            }
            Outcome::Failed(e) => {
                self.fail(cx, e);
                Next::Wait
            }
        }
    }

    /// The server resumed the session: logged in as before, ready at once (no roster,
    /// no presence).
    pub(crate) fn on_resumed(&mut self, cx: &mut Cx, jid: Jid) {
        if let Phase::Stream(stream) = &self.phase {
            let method = stream.method();
            cx.jid = Some(jid.into_canonical());
            cx.negotiating = false;
            self.phase = Phase::LoggedIn {
                method,
                ready: true,
            };
        }
    }

    /// The server refused the resumption: bind a new session instead.
    pub(crate) fn on_resume_failed(&mut self, cx: &mut Cx) -> Next {
        let Phase::Stream(stream) = &mut self.phase else {
            return Next::Wait;
        };
        let outcome = stream.on_resume_failed(cx);
        self.follow(cx, outcome)
    }

    /// A reply to one of the login's requests.
    pub(crate) fn on_reply(&mut self, cx: &mut Cx, step: LoginStep, reply: Reply<'_>) -> Next {
        match step {
            LoginStep::Fields => {
                self.on_fields(cx, reply);
                Next::Wait
            }
            LoginStep::Credentials(method) => {
                if self.on_credentials(cx, method, reply) {
                    Next::LoggedIn
                } else {
                    Next::Wait
                }
            }
            LoginStep::Bind | LoginStep::Session => {
                let Phase::Stream(stream) = &mut self.phase else {
                    return Next::Wait;
                };
                let outcome = stream.on_reply(cx, step, reply);
                self.follow(cx, outcome)
            }
        }
    }

    /// A login that waited too long for the stream fails.
    pub(crate) fn on_timeout(&mut self, cx: &mut Cx, now: Instant) {
        if self.deadline(cx).is_some_and(|d| d <= now) {
            self.phase = Phase::Idle;
            self.fail(cx, LoginError::Timeout);
        }
    }

    /// When a queued login gives up waiting for the stream; after our own close it is
    /// moot.
    pub(crate) fn deadline(&self, cx: &Cx) -> Option<Instant> {
        if cx.check_not_closing().is_err() {
            return None;
        }
        match &self.phase {
            Phase::Queued { deadline, .. } => Some(*deadline),
            Phase::Stream(stream) => stream.deadline(),
            _ => None,
        }
    }

    /// The session is up (the roster, if asked for, arrived): the method that proved the
    /// password, the first time only; the client then reports
    /// [`SessionEvent::Ready`].
    pub(crate) fn ready(&mut self) -> Option<AuthMethod> {
        match &mut self.phase {
            Phase::LoggedIn { method, ready } if !*ready => {
                *ready = true;
                Some(*method)
            }
            _ => None,
        }
    }

    // ---- internals ----

    fn request(
        &self,
        cx: &mut Cx,
        kind: IqType,
        payload: Result<crate::xml::Element, crate::xml::BuildError>,
        step: LoginStep,
    ) -> Result<(), Error> {
        cx.request(None, kind, payload?, Some(Owner::Login(step)))
            .map(|_| ())
    }

    fn on_fields(&mut self, cx: &mut Cx, reply: Reply<'_>) {
        let offered = match reply {
            Reply::Result(iq) => iq
                .payload()
                .filter(|p| p.is("query", ns::IQ_AUTH))
                .map(AuthFields::from_query)
                .unwrap_or_default(),
            Reply::Error(e) => return self.fail(cx, LoginError::Refused(e)),
            Reply::Timeout => return self.fail(cx, LoginError::Timeout),
        };
        if let Phase::Authenticating { fields, .. } = &mut self.phase {
            *fields = offered;
        }
        self.send_credentials(cx, None);
    }

    fn on_credentials(&mut self, cx: &mut Cx, method: AuthMethod, reply: Reply<'_>) -> bool {
        match reply {
            // Success is an empty result. A result carrying the field list again is how
            // prosody 0.12 answers a digest it does not support: not a login.
            Reply::Result(iq) if iq.payload().is_none() => return self.logged_in(cx, method),
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
                self.send_credentials(cx, None);
            }
            Reply::Result(_) => self.fail(cx, LoginError::UnexpectedReply),
            // A refused digest is retried as plaintext only when the refusal says the
            // digest could not be checked; a wrong password is not sent a second time.
            Reply::Error(e)
                if method == AuthMethod::Digest && auth::digest_refusal_allows_fallback(&e) =>
            {
                if let Phase::Authenticating { digest_failed, .. } = &mut self.phase {
                    *digest_failed = true;
                }
                self.send_credentials(cx, Some(e));
            }
            Reply::Error(e) => self.fail(cx, LoginError::Refused(e)),
            Reply::Timeout => self.fail(cx, LoginError::Timeout),
        }
        false
    }

    /// Sends the `set` with the best allowed method; `refusal` is the server's answer to
    /// a digest attempt, reported if no fallback is allowed.
    fn send_credentials(&mut self, cx: &mut Cx, refusal: Option<StanzaError>) {
        let plaintext_ok = cx.check_plaintext().is_ok();
        let stream_id = cx
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
        let digest_usable = stream_id.is_some() && cx.config.use_digest;
        let chosen = fields.choose(digest_usable, *digest_failed, plaintext_ok);
        let method = match (chosen, refusal) {
            (Ok(method), _) => method,
            (Err(_), Some(refusal)) => return self.fail(cx, LoginError::Refused(refusal)),
            (Err(e), None) => return self.fail(cx, e),
        };
        let payload = auth::credentials_query(
            credentials,
            method,
            stream_id.as_deref().unwrap_or_default(),
        );
        let step = LoginStep::Credentials(method);
        if self.request(cx, IqType::Set, payload, step).is_err() {
            self.fail(cx, LoginError::UnexpectedReply);
        }
    }

    fn logged_in(&mut self, cx: &mut Cx, method: AuthMethod) -> bool {
        let credentials = match core::mem::take(&mut self.phase) {
            Phase::Authenticating { credentials, .. } => credentials,
            other => {
                self.phase = other;
                return false;
            }
        };
        // `start` checked that these make a JID. The classic login has no server-assigned
        // address, so the canonical form is derived here: it is how the server will
        // address us.
        let jid = Jid::new(
            Some(&credentials.username),
            &cx.config.domain,
            Some(&credentials.resource),
        );
        let Ok(jid) = jid else {
            self.fail(cx, LoginError::UnexpectedReply);
            return false;
        };
        cx.jid = Some(jid.into_canonical());
        self.phase = Phase::LoggedIn {
            method,
            ready: false,
        };
        true
    }

    fn fail(&mut self, cx: &mut Cx, error: LoginError) {
        self.phase = Phase::Failed;
        cx.push(SessionEvent::LoginFailed(error));
        cx.close();
    }
}
