//! The session's commands and getters: login, registration and account management, the
//! roster, our presence. Each routes to the feature that owns it.

use super::{Client, Error, IqId, capture};
use crate::features::roster::{self, RosterItem};
use crate::jid::Jid;
use crate::negotiation::auth::{AuthMethod, Credentials};
use crate::negotiation::register::RegistrationForm;
use crate::ns;
use crate::stanza::IqType;
use crate::time::Instant;
use crate::xml::Element;

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
    /// Logged in and [`SessionEvent::Ready`](super::SessionEvent::Ready) delivered.
    Ready,
    /// The session is over (registration done, account removed, login failed, closed).
    Ended,
}

impl Client {
    // ---- getters ----

    /// Where the session (login, registration) is.
    pub fn session_state(&self) -> SessionState {
        if !matches!(self.cx.state, super::State::Opening | super::State::Open)
            || self.login.has_failed()
        {
            SessionState::Ended
        } else if self.login.is_ready() {
            SessionState::Ready
        } else if self.login.is_logged_in() {
            SessionState::LoggedIn
        } else if self.login.is_running() {
            SessionState::Authenticating
        } else {
            SessionState::Unauthenticated
        }
    }

    /// Our full address, once logged in, in canonical form ([`Jid::canonical`]). A
    /// server may still address us as the login spelled the username (ejabberd does):
    /// compare with `==`, which compares JIDs canonically, not by their text.
    pub fn jid(&self) -> Option<&Jid> {
        self.cx.jid.as_ref()
    }

    /// How the login proved the password, once logged in.
    pub fn login_method(&self) -> Option<AuthMethod> {
        self.login.method()
    }

    /// Whether we announced available presence and have not withdrawn it: closing then
    /// sends unavailable presence first.
    pub fn is_available(&self) -> bool {
        self.cx.is_open() && self.presence.is_available()
    }

    // ---- commands ----

    /// Logs in with `jabber:iq:auth` (XEP-0078). May be called right after
    /// [`Client::new`]: the exchange starts once the server's stream header (and, on a
    /// `version='1.0'` stream, its features) arrived. The outcome is
    /// [`SessionEvent::Ready`](super::SessionEvent::Ready) or
    /// [`SessionEvent::LoginFailed`](super::SessionEvent::LoginFailed).
    ///
    /// The digest is used when the server offers it; a plaintext password is sent only if
    /// [`Config::transport_encrypted`](super::Config::transport_encrypted) or
    /// [`Config::allow_plaintext`](super::Config::allow_plaintext) is set, and after a
    /// refused digest only when the refusal says the digest could not be checked (a wrong
    /// password is not tried twice).
    ///
    /// ```
    /// use core::num::NonZeroU64;
    /// use jabber_proto::client::{Client, Config, Event, SessionEvent};
    /// use jabber_proto::negotiation::auth::{AuthMethod, Credentials, digest};
    /// use jabber_proto::time::Instant;
    ///
    /// let now = Instant::ZERO;
    /// let mut config = Config::new("example.com", NonZeroU64::MIN);
    /// config.version = None; // a classic (version-less) stream, as this server speaks
    /// config.fetch_roster = false;
    /// let mut client = Client::new(config, now);
    /// client.login(now, Credentials::new("alice", "secret", "laptop")).unwrap();
    /// let mut wire = |client: &mut Client| {
    ///     let out = String::from_utf8(client.take_transmit().unwrap_or_default());
    ///     out.unwrap()
    /// };
    /// wire(&mut client); // our header
    ///
    /// client.handle_input(now, b"<stream:stream xmlns='jabber:client' \
    ///     xmlns:stream='http://etherx.jabber.org/streams' id='abc'>").unwrap();
    /// assert!(wire(&mut client).contains("<query xmlns='jabber:iq:auth'><username>alice"));
    ///
    /// // The server offers the digest: the password itself never goes out.
    /// client.handle_input(now, b"<iq type='result' id='00000001-1'>\
    ///     <query xmlns='jabber:iq:auth'><username/><password/><digest/><resource/></query></iq>").unwrap();
    /// let set = wire(&mut client);
    /// assert!(set.contains(&digest("abc", "secret")) && !set.contains("secret"));
    ///
    /// client.handle_input(now, b"<iq type='result' id='00000001-2'/>").unwrap();
    /// while let Some(event) = client.poll_event() {
    ///     if let Event::Session(SessionEvent::Ready { jid, method, .. }) = event {
    ///         assert_eq!(jid.as_str(), "alice@example.com/laptop");
    ///         assert_eq!(method, AuthMethod::Digest);
    ///     }
    /// }
    /// assert_eq!(client.jid().map(|j| j.as_str()), Some("alice@example.com/laptop"));
    /// ```
    ///
    /// Refused (and nothing sent) when the credentials make no valid address or hold
    /// characters XML cannot carry, or when a login or registration is already running.
    pub fn login(&mut self, now: Instant, credentials: Credentials) -> Result<(), Error> {
        let record = || {
            capture::command("login")
                .attr("username", &credentials.username)
                .attr("resource", &credentials.resource)
                .child(Element::builder("password", ns::IQ_AUTH).text(&credentials.password))
        };
        self.capture_command(now, record);
        let result = self.start_login(now, credentials);
        self.capture_refusal(now, &result);
        result
    }

    fn start_login(&mut self, now: Instant, credentials: Credentials) -> Result<(), Error> {
        self.cx.check_not_closing()?;
        if !self.login.is_idle() || self.account.is_busy() {
            return Err(Error::WrongPhase);
        }
        self.cx.tick(now);
        let next = self.login.start(&mut self.cx, credentials)?;
        self.follow_login(next);
        Ok(())
    }

    /// Asks the server for its registration form (XEP-0077):
    /// [`AccountEvent::RegistrationForm`](super::AccountEvent::RegistrationForm) follows.
    /// Before login it is the form for a new account; logged in, it tells whether the
    /// account is registered. Like [`login`](Self::login), it may be called before the
    /// stream is open; the request goes out once it is. Before login on an unencrypted
    /// XMPP 1.0 stream, STARTTLS comes first ([`wants_tls`](Self::wants_tls), as for a
    /// login) and the form is asked for on the encrypted stream; with
    /// [`Config::require_tls`](super::Config::require_tls) and no STARTTLS offered, the
    /// request fails
    /// ([`RegistrationError::TlsRequired`](crate::negotiation::register::RegistrationError::TlsRequired)).
    pub fn request_registration(&mut self, now: Instant) -> Result<(), Error> {
        let record = || capture::command("request-registration");
        self.captured(now, record, |c| c.ask_registration(now))
    }

    fn ask_registration(&mut self, now: Instant) -> Result<(), Error> {
        self.cx.check_not_closing()?;
        if !(self.login.is_idle() || self.login.is_logged_in()) {
            return Err(Error::WrongPhase);
        }
        self.cx.tick(now);
        self.account.request_form(&mut self.cx)
    }

    /// Submits a filled registration form for a new account. The outcome is
    /// [`AccountEvent::Registered`](super::AccountEvent::Registered) (after which the
    /// stream closes),
    /// [`AccountEvent::RegistrationConflict`](super::AccountEvent::RegistrationConflict)
    /// or [`AccountEvent::RegistrationFailed`](super::AccountEvent::RegistrationFailed).
    ///
    /// A form carrying a password is refused with [`Error::PlaintextNotAllowed`] on an
    /// unencrypted transport unless [`Config::allow_plaintext`](super::Config) is set:
    /// registration has no digest.
    pub fn submit_registration(
        &mut self,
        now: Instant,
        form: &RegistrationForm,
    ) -> Result<(), Error> {
        let record =
            || capture::with_child(capture::command("submit-registration"), form.to_query());
        self.captured(now, record, |c| c.register(now, form))
    }

    fn register(&mut self, now: Instant, form: &RegistrationForm) -> Result<(), Error> {
        self.cx.check_open()?;
        if !self.login.is_idle() {
            return Err(Error::WrongPhase);
        }
        self.cx.tick(now);
        self.account.submit(&mut self.cx, form)
    }

    /// Changes the logged-in account's password:
    /// [`AccountEvent::PasswordChanged`](super::AccountEvent::PasswordChanged) or
    /// [`AccountEvent::RegistrationFailed`](super::AccountEvent::RegistrationFailed)
    /// follows. Like registration, it sends the password itself, so the plaintext rule
    /// applies ([`Error::PlaintextNotAllowed`]).
    pub fn change_password(&mut self, now: Instant, password: &str) -> Result<(), Error> {
        let record = || {
            capture::command("change-password")
                .child(Element::builder("password", ns::IQ_REGISTER).text(password))
        };
        self.captured(now, record, |c| c.new_password(now, password))
    }

    fn new_password(&mut self, now: Instant, password: &str) -> Result<(), Error> {
        self.cx.check_open()?;
        self.cx.tick(now);
        self.account.change_password(&mut self.cx, password)
    }

    /// Removes the logged-in account from the server:
    /// [`AccountEvent::Removed`](super::AccountEvent::Removed) (after which the stream
    /// closes) or [`AccountEvent::RegistrationFailed`](super::AccountEvent::RegistrationFailed)
    /// follows.
    pub fn remove_account(&mut self, now: Instant) -> Result<(), Error> {
        let record = || capture::command("remove-account");
        self.captured(now, record, |c| c.unregister(now))
    }

    fn unregister(&mut self, now: Instant) -> Result<(), Error> {
        self.cx.check_open()?;
        self.cx.tick(now);
        self.account.remove(&mut self.cx)
    }

    /// Adds `item` to the roster or updates it (its name and groups; RFC 6121 §2.3).
    /// The server answers the returned handle ([`IqEvent`](super::IqEvent)) and, on
    /// success, pushes the change to every resource
    /// ([`RosterEvent::Push`](super::RosterEvent::Push)): the roster is updated from the
    /// push, not from this request.
    pub fn roster_set(&mut self, now: Instant, item: &RosterItem) -> Result<IqId, Error> {
        let record =
            || capture::with_child(capture::command("roster-set"), roster::set_query(item));
        self.captured(now, record, |c| {
            c.roster_request(now, roster::set_query(item)?)
        })
    }

    /// Removes `jid` from the roster (RFC 6121 §2.5), which also cancels the
    /// subscriptions both ways; answered like [`roster_set`](Self::roster_set).
    pub fn roster_remove(&mut self, now: Instant, jid: &Jid) -> Result<IqId, Error> {
        let record = || capture::command("roster-remove").attr("jid", jid.as_str());
        self.captured(now, record, |c| {
            c.roster_request(now, roster::remove_query(jid)?)
        })
    }

    fn roster_request(&mut self, now: Instant, query: crate::xml::Element) -> Result<IqId, Error> {
        if !self.login.is_logged_in() {
            self.cx.check_open()?;
            return Err(Error::WrongPhase);
        }
        self.request(now, None, IqType::Set, query, None)
    }
}
