//! Account management as a feature of the client: in-band registration before login,
//! password change and removal once logged in (XEP-0077). The payloads are in
//! [`register`](super::register).

use alloc::boxed::Box;

use super::login::Next;
use super::register::{self, RegistrationError, RegistrationForm, RegistrationStep};
use crate::client::{AccountEvent, Cx, Error, Owner, Reply};
use crate::ns;
use crate::stanza::{IqType, StanzaCondition};
use crate::time::Instant;
use crate::xml::{BuildError, Element};

/// The account feature's requests, as their replies come back to it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum AccountStep {
    Form,
    Submit(Box<RegistrationForm>),
    ChangePassword,
    Remove,
}

/// The account feature's state.
#[derive(Clone, Debug, Default)]
pub(crate) struct Account {
    /// A registration request is in flight (or queued).
    busy: bool,
    /// `request_registration` was called before the stream (or its features) arrived;
    /// it fails if they have not by this deadline.
    queued: Option<Instant>,
    /// The account's removal is under way.
    removing: bool,
    /// `<starttls/>` went out for a queued form request (XMPP 1.0): the form is asked
    /// for on the encrypted stream, after the restart.
    securing: bool,
}

impl Account {
    pub(crate) fn is_busy(&self) -> bool {
        self.busy
    }

    /// Registering on an XMPP 1.0 stream before any login: as while the login
    /// negotiates, the server owes nothing but the answers to our requests.
    pub(crate) fn negotiating(&self, cx: &Cx) -> bool {
        (self.busy || self.securing) && cx.jid.is_none() && cx.stream_has_features()
    }

    // ---- commands ----

    /// Asks for the form now, or once the stream allows.
    pub(crate) fn request_form(&mut self, cx: &mut Cx) -> Result<(), Error> {
        if self.busy || self.removing {
            return Err(Error::WrongPhase);
        }
        self.queued = Some(cx.now + cx.config.iq_timeout);
        self.busy = true;
        if cx.ready_to_negotiate() {
            if let Err(e) = self.ask_form(cx) {
                self.queued = None;
                self.busy = false;
                return Err(e);
            }
        }
        Ok(())
    }

    /// The stream allows negotiation: asks for the queued form — on an XMPP 1.0 stream
    /// not yet encrypted, after STARTTLS (the form and what follows carry the password;
    /// RFC 6120 §5.3.1: TLS before anything else), or not at all when TLS is required
    /// and not offered, as for the login.
    fn ask_form(&mut self, cx: &mut Cx) -> Result<(), Error> {
        if self.securing {
            return Ok(());
        }
        if cx.stream_has_features() && !cx.config.transport_encrypted {
            let websocket = cx.config.framing.is_websocket();
            if !websocket && cx.features.as_deref().is_some_and(|f| f.starttls) {
                let starttls = Element::builder("starttls", ns::TLS).build()?;
                cx.emit(&starttls);
                self.securing = true;
                return Ok(());
            }
            if cx.config.require_tls {
                self.queued = None;
                self.busy = false;
                failed(cx, RegistrationStep::Form, RegistrationError::TlsRequired);
                cx.close();
                return Ok(());
            }
        }
        self.queued = None;
        request(cx, register::form_query(), AccountStep::Form)
    }

    /// Submits a filled form for a new account. A password goes out only where
    /// plaintext is allowed: registration has no digest.
    pub(crate) fn submit(&mut self, cx: &mut Cx, form: &RegistrationForm) -> Result<(), Error> {
        if self.busy {
            return Err(Error::WrongPhase);
        }
        if form.carries_secret() {
            cx.check_plaintext()?;
        }
        let step = AccountStep::Submit(Box::new(form.clone()));
        cx.request(
            None,
            IqType::Set,
            form.to_query()?,
            Some(Owner::Account(step)),
        )?;
        self.busy = true;
        Ok(())
    }

    /// Changes the logged-in account's password.
    pub(crate) fn change_password(&mut self, cx: &mut Cx, password: &str) -> Result<(), Error> {
        let Some(jid) = cx.jid.as_ref().filter(|_| !self.removing) else {
            return Err(Error::WrongPhase);
        };
        cx.check_plaintext()?;
        let payload = register::password_change_query(jid.local().unwrap_or_default(), password);
        request(cx, payload, AccountStep::ChangePassword)
    }

    /// Removes the logged-in account.
    pub(crate) fn remove(&mut self, cx: &mut Cx) -> Result<(), Error> {
        if cx.jid.is_none() || self.removing {
            return Err(Error::WrongPhase);
        }
        request(cx, register::remove_query(), AccountStep::Remove)?;
        self.removing = true;
        Ok(())
    }

    // ---- inputs ----

    /// The stream opened or its features arrived: a queued form request goes out.
    pub(crate) fn on_stream_ready(&mut self, cx: &mut Cx) {
        if !cx.ready_to_negotiate() || self.queued.is_none() {
            return;
        }
        if self.ask_form(cx).is_err() {
            self.queued = None;
            self.busy = false;
        }
    }

    /// A STARTTLS answer (`urn:ietf:params:xml:ns:xmpp-tls`) while securing the stream
    /// for a registration; `None` when not ours.
    pub(crate) fn on_tls_nonza(&mut self, cx: &mut Cx, el: &Element) -> Option<Next> {
        if !self.securing || el.ns() != ns::TLS {
            return None;
        }
        if el.name() == "proceed" {
            return Some(Next::StartTls);
        }
        // `<failure/>` (the server then closes the stream), or anything else.
        self.securing = false;
        self.queued = None;
        self.busy = false;
        failed(cx, RegistrationStep::Form, RegistrationError::TlsRefused);
        cx.close();
        Some(Next::Wait)
    }

    /// The driver's TLS is up: the stream restarts, and the form is asked for once the
    /// new features arrived. `None` when the TLS was not ours.
    pub(crate) fn on_tls_ready(&mut self) -> Option<Next> {
        if !self.securing {
            return None;
        }
        self.securing = false;
        Some(Next::Restart)
    }

    pub(crate) fn on_reply(&mut self, cx: &mut Cx, step: AccountStep, reply: Reply<'_>) {
        match step {
            AccountStep::Form => {
                self.busy = false;
                let form = match reply {
                    Reply::Result(iq) => iq
                        .payload()
                        .filter(|p| p.is("query", ns::IQ_REGISTER))
                        .map(RegistrationForm::from_query)
                        .ok_or(RegistrationError::UnexpectedReply),
                    other => Err(registration_error(other)),
                };
                match form {
                    Ok(form) => cx.push(AccountEvent::RegistrationForm(form)),
                    Err(e) => failed(cx, RegistrationStep::Form, e),
                }
            }
            AccountStep::Submit(form) => {
                self.busy = false;
                match reply {
                    Reply::Result(_) => {
                        cx.push(AccountEvent::Registered);
                        cx.close();
                    }
                    Reply::Error(e) if e.condition == StanzaCondition::Conflict => {
                        cx.push(AccountEvent::RegistrationConflict(*form));
                    }
                    other => failed(cx, RegistrationStep::Submit, registration_error(other)),
                }
            }
            AccountStep::ChangePassword => match reply {
                Reply::Result(_) => cx.push(AccountEvent::PasswordChanged),
                other => failed(
                    cx,
                    RegistrationStep::ChangePassword,
                    registration_error(other),
                ),
            },
            AccountStep::Remove => {
                self.removing = false;
                match reply {
                    Reply::Result(_) => {
                        cx.push(AccountEvent::Removed);
                        cx.close();
                    }
                    other => failed(cx, RegistrationStep::Remove, registration_error(other)),
                }
            }
        }
    }

    /// A form request that waited too long for the stream fails.
    pub(crate) fn on_timeout(&mut self, cx: &mut Cx, now: Instant) {
        if self.deadline(cx).is_some_and(|d| d <= now) {
            self.queued = None;
            self.busy = false;
            // A `<proceed/>` that never came: a new request must start over.
            self.securing = false;
            failed(cx, RegistrationStep::Form, RegistrationError::Timeout);
        }
    }

    /// When a queued form request gives up waiting for the stream; after our own close
    /// it is moot.
    pub(crate) fn deadline(&self, cx: &Cx) -> Option<Instant> {
        self.queued.filter(|_| cx.check_not_closing().is_ok())
    }
}

fn request(
    cx: &mut Cx,
    payload: Result<Element, BuildError>,
    step: AccountStep,
) -> Result<(), Error> {
    let kind = match step {
        AccountStep::Form => IqType::Get,
        _ => IqType::Set,
    };
    cx.request(None, kind, payload?, Some(Owner::Account(step)))
        .map(|_| ())
}

fn failed(cx: &mut Cx, step: RegistrationStep, error: RegistrationError) {
    cx.push(AccountEvent::RegistrationFailed { step, error });
}

fn registration_error(reply: Reply<'_>) -> RegistrationError {
    match reply {
        Reply::Result(_) => RegistrationError::UnexpectedReply,
        Reply::Error(e) => RegistrationError::Refused(e),
        Reply::Timeout => RegistrationError::Timeout,
    }
}
