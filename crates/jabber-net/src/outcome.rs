//! The outcomes of the adapters' waiting calls (`login`, `register`) as results, decided
//! once here. Finding them needs no helper: a login ends with an `Event::Session`, a
//! registration step with an `Event::Account`.

use std::io;

use jabber_proto::client::{AccountEvent, Event, SessionEvent, SmEvent};
use jabber_proto::features::roster::Roster;
use jabber_proto::jid::Jid;
use jabber_proto::negotiation::register::{Field, RegistrationError, RegistrationForm};

use crate::Error;

/// The outcome of a successful login.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct LoggedIn {
    /// Our full address.
    pub jid: Jid,
    /// The roster, when the core's `Config::fetch_roster` is on and the server sent it.
    pub roster: Option<Roster>,
}

/// A login's outcome event as a result. `Event::Closed` is [`Error::Closed`].
pub fn login_outcome(event: Event) -> Result<LoggedIn, Error> {
    match event {
        Event::Session(SessionEvent::Ready { jid, roster, .. }) => Ok(LoggedIn { jid, roster }),
        Event::Session(SessionEvent::LoginFailed(e)) => Err(Error::Login(e)),
        other => Err(unexpected(other)),
    }
}

/// The outcome of [`Client::resume`](jabber_proto::client::Client::resume).
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Resumed {
    /// The session was resumed: no new binding, roster or presence; `resent` stanzas
    /// the server had not received went out again.
    Resumed {
        /// The session's address.
        jid: Jid,
        /// Stanzas sent again.
        resent: usize,
    },
    /// The server refused; a new session was started (its unacknowledged stanzas are
    /// sent again and reported by `SmEvent::PossibleDuplicates`).
    NewSession(LoggedIn),
}

/// Whether `event` ends a resumption attempt (see [`resume_outcome`]).
pub fn is_resume_outcome(event: &Event) -> bool {
    matches!(
        event,
        Event::Session(_) | Event::StreamManagement(SmEvent::Resumed { .. })
    )
}

/// A resumption's outcome event as a result. `Event::Closed` is [`Error::Closed`].
pub fn resume_outcome(event: Event) -> Result<Resumed, Error> {
    match event {
        Event::StreamManagement(SmEvent::Resumed { jid, resent }) => {
            Ok(Resumed::Resumed { jid, resent })
        }
        other => login_outcome(other).map(Resumed::NewSession),
    }
}

/// A registration outcome that is not the expected one, as an error.
pub fn registration_failure(event: Event) -> Error {
    match event {
        Event::Account(AccountEvent::RegistrationConflict(_)) => Error::UsernameTaken,
        Event::Account(AccountEvent::RegistrationFailed { error, .. }) => {
            Error::Registration(error)
        }
        other => unexpected(other),
    }
}

/// The answer to a registration request, as the form filled in with `username` and
/// `password`, ready to submit. A form that asks for more than these two fields, or no
/// form, is an error.
pub fn filled_registration_form(
    event: Event,
    username: &str,
    password: &str,
) -> Result<RegistrationForm, Error> {
    let mut form = match event {
        Event::Account(AccountEvent::RegistrationForm(form)) => form,
        other => return Err(registration_failure(other)),
    };
    if !form.set(Field::Username, username) || !form.set(Field::Password, password) {
        return Err(Error::Registration(RegistrationError::UnexpectedReply));
    }
    Ok(form)
}

/// The answer to a registration submission as a result.
pub fn registration_outcome(event: Event) -> Result<(), Error> {
    match event {
        Event::Account(AccountEvent::Registered) => Ok(()),
        other => Err(registration_failure(other)),
    }
}

/// The error of bytes that waited longer than the write timeout for the socket.
pub fn write_timed_out() -> io::Error {
    io::Error::new(
        io::ErrorKind::TimedOut,
        "the server accepted no data within the write timeout",
    )
}

fn unexpected(event: Event) -> Error {
    match event {
        Event::Closed(reason) => Error::Closed(reason),
        other => Error::Io(io::Error::other(format!("unexpected event {other:?}"))),
    }
}
