//! The XMPP 1.0 login (RFC 6120 §5–7): STARTTLS, SASL, stream restart, resource binding
//! and, where a server still asks for it, session establishment — driven by the stream
//! features the server sends after each (re)start.
//!
//! ```text
//!  features ──starttls──► <starttls/> ──<proceed/>──► driver starts TLS ──► restart ─┐
//!     │  (TLS required, not offered: fail, nothing sent)                               │
//!     ▼                                                                                │
//!  features ◄────────────────────────────────────────────────────────────────────────┘
//!     │ mechanisms
//!     ▼
//!  <auth> ──<challenge>──► <response> ──<success> (server signature checked)──► restart
//!     │ <failure>                                                                   │
//!     ▼                                                                             ▼
//!  LoginFailed                          features ──bind──► bound JID ──(session)──► logged in
//! ```
//!
//! [`Login`](super::login::Login) holds one of these while the 1.0 path runs; the
//! classic path (`jabber:iq:auth`) is used instead when the server offers only that.

use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

use super::auth::{AuthMethod, Credentials, LoginError};
use super::bind;
use super::channel_binding::{self, ChannelBindingPolicy};
use super::features::StreamFeatures;
use super::login::LoginStep;
use super::sasl::{self, Mechanism, SaslFailure};
use super::scram::{Cbind, ScramClient};
use crate::client::{Cx, Owner, Reply};
use crate::jid::Jid;
use crate::ns;
use crate::stanza::IqType;
use crate::time::Instant;
use crate::xml::Element;

/// What the client must do after a step of the 1.0 login.
#[derive(Debug)]
pub(crate) enum Outcome {
    /// Nothing: wait for the server.
    Wait,
    /// Restart the stream: a new header, a fresh parser, features next.
    Restart,
    /// Ask the driver for TLS: nothing more may be written in plaintext.
    StartTls,
    /// Logged in as `jid` with `method`.
    LoggedIn(Jid, AuthMethod),
    /// The login failed (the client closes the stream).
    Failed(LoginError),
    /// Authenticated: resume the earlier session (XEP-0198) rather than bind.
    Resume,
}

#[derive(Clone, Debug)]
enum Step {
    /// Waiting for `<stream:features>` (the first, or after a restart).
    Features,
    /// `<starttls/>` sent; waiting for `<proceed/>`.
    StartTls,
    /// `<proceed/>` received; waiting for the driver's TLS.
    TlsHandshake,
    /// `<auth>` sent.
    Sasl {
        mechanism: Mechanism,
        scram: Option<Box<ScramClient>>,
    },
    /// SASL succeeded; the restart's features will offer binding.
    Authenticated(Mechanism),
    /// The bind request is out.
    Binding(Mechanism),
    /// The session request is out, for this bound JID.
    Session(Mechanism, Jid),
    /// `<resume/>` is out (XEP-0198) in place of binding.
    Resuming(Mechanism),
}

/// The 1.0 login in progress.
#[derive(Clone, Debug)]
pub(crate) struct StreamLogin {
    credentials: Box<Credentials>,
    step: Step,
    /// When the server has taken too long for the current step.
    deadline: Instant,
    /// The features after authentication asked for session establishment (not marked
    /// optional).
    session_wanted: bool,
    /// Resume an earlier session in place of binding, when the server offers stream
    /// management.
    resume: bool,
}

impl StreamLogin {
    pub(crate) fn new(cx: &Cx, credentials: Box<Credentials>, resume: bool) -> StreamLogin {
        StreamLogin {
            credentials,
            step: Step::Features,
            deadline: cx.now + cx.config.iq_timeout,
            session_wanted: false,
            resume,
        }
    }

    /// The mechanism that authenticated us (once past SASL).
    pub(crate) fn method(&self) -> AuthMethod {
        match &self.step {
            Step::Authenticated(m) | Step::Binding(m) | Step::Session(m, _) | Step::Resuming(m) => {
                AuthMethod::Sasl(*m)
            }
            Step::Sasl { mechanism, .. } => AuthMethod::Sasl(*mechanism),
            _ => AuthMethod::Sasl(Mechanism::Plain),
        }
    }

    /// The server refused our `<resume/>`: bind as if no resumption had been asked for
    /// (the features of this stream are still known).
    pub(crate) fn on_resume_failed(&mut self, cx: &mut Cx) -> Outcome {
        let Step::Resuming(mechanism) = self.step else {
            return Outcome::Wait;
        };
        self.resume = false;
        match cx.features.clone() {
            Some(f) => self.bind(cx, &f, mechanism),
            None => Outcome::Failed(LoginError::UnexpectedReply),
        }
    }

    /// When a step that waits for a nonza (no IQ timeout covers it) gives up.
    pub(crate) fn deadline(&self) -> Option<Instant> {
        match self.step {
            Step::Features
            | Step::StartTls
            | Step::Sasl { .. }
            | Step::Authenticated(_)
            | Step::Resuming(_) => Some(self.deadline),
            // The driver's TLS handshake has its own bounds; IQs have theirs.
            Step::TlsHandshake | Step::Binding(_) | Step::Session(..) => None,
        }
    }

    /// The SASL exchange is under way: what the server sends now (its challenge, its
    /// signature) is secret.
    pub(crate) fn in_sasl(&self) -> bool {
        matches!(self.step, Step::Sasl { .. })
    }

    fn wait(&mut self, cx: &Cx, step: Step) -> Outcome {
        self.step = step;
        self.deadline = cx.now + cx.config.iq_timeout;
        Outcome::Wait
    }

    /// Features arrived (the first ones, or after a restart).
    pub(crate) fn on_features(&mut self, cx: &mut Cx, f: &StreamFeatures) -> Outcome {
        match core::mem::replace(&mut self.step, Step::Features) {
            Step::Features => self.negotiate(cx, f),
            Step::Authenticated(mechanism) => self.bind(cx, f, mechanism),
            // Features in the middle of an exchange: the server is confused.
            _ => Outcome::Failed(LoginError::UnexpectedReply),
        }
    }

    /// Before authentication: TLS first, then SASL.
    fn negotiate(&mut self, cx: &mut Cx, f: &StreamFeatures) -> Outcome {
        let encrypted = cx.config.transport_encrypted;
        // Over WebSocket the transport is the TLS layer (`wss:`); there is no STARTTLS.
        if !encrypted && f.starttls && !cx.config.framing.is_websocket() {
            let Ok(starttls) = Element::builder("starttls", ns::TLS).build() else {
                return Outcome::Failed(LoginError::UnexpectedReply);
            };
            cx.emit(&starttls);
            return self.wait(cx, Step::StartTls);
        }
        if !encrypted && cx.config.require_tls {
            // STARTTLS stripped, or a server without TLS: no credential leaves.
            return Outcome::Failed(LoginError::TlsRequired);
        }
        let plain_ok = cx.check_plaintext().is_ok();
        let can_bind = !cx.channel_binding().is_empty();
        let policy = cx.config.channel_binding;
        // The `y` flag says what the server offered, whatever we allow ourselves.
        let server_offers_plus = offers_plus(&f.mechanisms);
        // A mechanism the config leaves out is as if the server had not offered it.
        let allowed = cx.config.sasl_mechanisms;
        let offered: Vec<String> = f
            .mechanisms
            .iter()
            .filter(|name| Mechanism::from_name(name).is_some_and(|m| allowed.contains(m)))
            .cloned()
            .collect();
        let plus_offered = offers_plus(&offered);
        let binding = match channel_binding::choose(
            policy,
            cx.channel_binding(),
            plus_offered,
            &f.channel_bindings,
        ) {
            Ok(binding) => binding,
            Err(e) => return Outcome::Failed(e),
        };
        let Some(mechanism) = Mechanism::choose(&offered, binding.is_some(), plain_ok) else {
            return Outcome::Failed(if offered.iter().any(|m| m == "PLAIN") {
                LoginError::PlaintextNotAllowed
            } else {
                LoginError::NoCommonMethod
            });
        };
        let bound = matches!(mechanism, Mechanism::Scram { plus: true, .. });
        if policy == ChannelBindingPolicy::Required && !bound {
            // A -PLUS mechanism we could not use (none with our binding): nothing sent.
            return Outcome::Failed(LoginError::ChannelBindingRequired);
        }
        let (initial, scram) = match mechanism {
            Mechanism::Plain => (
                sasl::plain_message(&self.credentials.username, &self.credentials.password),
                None,
            ),
            Mechanism::Scram { hash, plus } => {
                let cbind = match (plus, binding) {
                    (true, Some(b)) => Cbind::Bound {
                        kind: String::from(b.kind.as_str()),
                        data: b.data.clone(),
                    },
                    // We could bind but the server offered no -PLUS: say so, so that a
                    // server that did offer one (and had it stripped) sees the
                    // downgrade (RFC 5802 §6).
                    (false, _) if can_bind && !server_offers_plus => Cbind::NotOffered,
                    _ => Cbind::None,
                };
                let nonce = nonce(cx);
                let client = ScramClient::new(
                    hash,
                    &self.credentials.username,
                    &self.credentials.password,
                    &nonce,
                    cbind,
                );
                let Ok(client) = client else {
                    return Outcome::Failed(LoginError::NoCommonMethod);
                };
                (client.client_first().into_bytes(), Some(Box::new(client)))
            }
        };
        let Ok(auth) = sasl::auth(mechanism, &initial) else {
            return Outcome::Failed(LoginError::UnexpectedReply);
        };
        cx.emit(&auth);
        self.wait(cx, Step::Sasl { mechanism, scram })
    }

    /// After authentication: bind the resource.
    fn bind(&mut self, cx: &mut Cx, f: &StreamFeatures, mechanism: Mechanism) -> Outcome {
        if self.resume && f.stream_management {
            // XEP-0198 §5: resumption takes the place of binding; never both.
            self.wait(cx, Step::Resuming(mechanism));
            return Outcome::Resume;
        }
        if !f.bind {
            return Outcome::Failed(LoginError::NoCommonMethod);
        }
        let resource = Some(self.credentials.resource.as_str());
        let owner = Some(Owner::Login(LoginStep::Bind));
        let sent = bind::bind_query(resource)
            .map_err(crate::client::Error::from)
            .and_then(|q| cx.request(None, IqType::Set, q, owner));
        if sent.is_err() {
            return Outcome::Failed(LoginError::UnexpectedReply);
        }
        self.step = Step::Binding(mechanism);
        // Remembered for the session request, which needs to know whether to happen.
        self.session_wanted = f.session && !f.session_optional;
        Outcome::Wait
    }

    /// A SASL or TLS element (a "nonza") from the server.
    pub(crate) fn on_nonza(&mut self, cx: &mut Cx, el: &Element) -> Outcome {
        match (&mut self.step, el.ns(), el.name()) {
            (Step::StartTls, ns::TLS, "proceed") => {
                self.step = Step::TlsHandshake;
                Outcome::StartTls
            }
            (Step::StartTls, ns::TLS, "failure") => Outcome::Failed(LoginError::TlsRefused),
            (Step::Sasl { .. }, ns::SASL, "challenge") if cx.replaying => {
                // A capture holds the challenge masked (it would let anyone test
                // password guesses): the replay answers with a placeholder, which the
                // console shows masked like the real response.
                if let Ok(response) = sasl::response(b"replayed") {
                    cx.emit(&response);
                }
                Outcome::Wait
            }
            (Step::Sasl { scram, .. }, ns::SASL, "challenge") => {
                let Some(data) = sasl::data_of(el.root()) else {
                    return Outcome::Failed(LoginError::UnexpectedReply);
                };
                let Some(scram) = scram else {
                    // PLAIN has no challenge.
                    return Outcome::Failed(LoginError::UnexpectedReply);
                };
                let response = match scram.client_final(&data) {
                    Ok(r) => r,
                    Err(e) => return self.abort(cx, LoginError::Scram(e)),
                };
                let Ok(response) = sasl::response(response.as_bytes()) else {
                    return Outcome::Failed(LoginError::UnexpectedReply);
                };
                cx.emit(&response);
                self.deadline = cx.now + cx.config.iq_timeout;
                Outcome::Wait
            }
            (Step::Sasl { mechanism, scram }, ns::SASL, "success") => {
                if let Some(scram) = scram.as_deref().filter(|_| !cx.replaying) {
                    // The server's signature proves it knows the password (and, bound,
                    // sees our channel): without it, a success means nothing. A replay,
                    // whose password is masked, takes the recorded outcome.
                    let checked = sasl::data_of(el.root())
                        .ok_or(super::scram::ScramError::Malformed)
                        .and_then(|data| scram.verify_server_final(&data));
                    if let Err(e) = checked {
                        return Outcome::Failed(LoginError::Scram(e));
                    }
                }
                let mechanism = *mechanism;
                self.wait(cx, Step::Authenticated(mechanism));
                Outcome::Restart
            }
            (Step::Sasl { .. }, ns::SASL, "failure") => {
                Outcome::Failed(LoginError::Sasl(SaslFailure::from_element(el.root())))
            }
            _ => Outcome::Failed(LoginError::UnexpectedReply),
        }
    }

    /// Aborts a SASL exchange we cannot go on with.
    fn abort(&mut self, cx: &mut Cx, error: LoginError) -> Outcome {
        if let Ok(abort) = Element::builder("abort", ns::SASL).build() {
            cx.emit(&abort);
        }
        Outcome::Failed(error)
    }

    /// The driver's TLS is up: the stream restarts over it.
    pub(crate) fn on_tls_ready(&mut self, cx: &Cx) -> Outcome {
        if !matches!(self.step, Step::TlsHandshake) {
            return Outcome::Wait;
        }
        self.wait(cx, Step::Features);
        Outcome::Restart
    }

    /// The reply to the bind or session request.
    pub(crate) fn on_reply(&mut self, cx: &mut Cx, step: LoginStep, reply: Reply<'_>) -> Outcome {
        match (
            step,
            core::mem::replace(&mut self.step, Step::Features),
            reply,
        ) {
            (LoginStep::Bind, Step::Binding(mechanism), Reply::Result(iq)) => {
                let Some(jid) = iq.payload().and_then(|p| bind::bound_jid(p)) else {
                    return Outcome::Failed(LoginError::UnexpectedReply);
                };
                if !self.session_wanted {
                    return Outcome::LoggedIn(jid, AuthMethod::Sasl(mechanism));
                }
                let owner = Some(Owner::Login(LoginStep::Session));
                let sent = bind::session_query()
                    .map_err(crate::client::Error::from)
                    .and_then(|q| cx.request(None, IqType::Set, q, owner));
                if sent.is_err() {
                    return Outcome::Failed(LoginError::UnexpectedReply);
                }
                self.step = Step::Session(mechanism, jid);
                Outcome::Wait
            }
            (LoginStep::Session, Step::Session(mechanism, jid), Reply::Result(_)) => {
                Outcome::LoggedIn(jid, AuthMethod::Sasl(mechanism))
            }
            (LoginStep::Bind | LoginStep::Session, _, Reply::Error(e)) => {
                Outcome::Failed(LoginError::Refused(e))
            }
            (_, _, Reply::Timeout) => Outcome::Failed(LoginError::Timeout),
            _ => Outcome::Failed(LoginError::UnexpectedReply),
        }
    }
}

fn offers_plus(mechanisms: &[String]) -> bool {
    mechanisms.iter().any(|m| m.ends_with("-PLUS"))
}

/// A SCRAM client nonce from the connection's seed: unique per connection (seeds are),
/// reproducible in a replay, and no RNG in the core.
fn nonce(cx: &Cx) -> String {
    let mut h = Sha256::new();
    h.update(b"jabber SCRAM client nonce");
    h.update(cx.config.seed.get().to_le_bytes());
    h.update(cx.now.as_millis().to_le_bytes());
    // A config reused for another connection repeats the seed, and a link's clock
    // starts at zero: the server's stream id (fresh per stream) and the channel make
    // the nonce differ anyway.
    if let Some(id) = cx.server_header.as_ref().and_then(|h| h.id()) {
        h.update(id.as_bytes());
    }
    for binding in cx.channel_binding() {
        h.update(&binding.data);
    }
    let digest: Vec<u8> = h.finalize().to_vec();
    URL_SAFE_NO_PAD.encode(&digest[..18])
}
