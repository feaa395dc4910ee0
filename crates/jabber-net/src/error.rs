//! What can go wrong while driving a connection, for every adapter.

use std::{fmt, io};

use jabber_proto::client::{self, CloseReason};
use jabber_proto::negotiation::auth::LoginError;
use jabber_proto::negotiation::register::RegistrationError;
use jabber_proto::xml::BuildError;

/// How the copies of an I/O error made by [`Error::repeat`] start.
const EARLIER: &str = "the connection failed earlier: ";

/// Why an adapter call failed.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// The socket failed: resolving or connecting, or a read or write error other than a
    /// timeout, or a write that made no progress within the write timeout. The
    /// connection is dead; every later call returns an error of the same kind.
    Io(io::Error),
    /// TLS failed: the server's certificate was not trusted or not valid for the domain,
    /// the handshake failed, or the server sent something that is not TLS. The
    /// connection is dead, as for [`Io`](Self::Io).
    Tls(rustls::Error),
    /// The core refused a command (local misuse: sending before the stream is open,
    /// after it closed, logging in twice, ...). The connection is unharmed.
    Client(client::Error),
    /// The login failed; the core is closing the stream (an `Event::Closed` follows).
    Login(LoginError),
    /// Registration: the username is taken. The stream stays open; try another name.
    UsernameTaken,
    /// Registration failed for another reason.
    Registration(RegistrationError),
    /// The connection ended while a call waited for its outcome.
    Closed(CloseReason),
}

impl Error {
    /// A copy of a fatal transport error, for the calls after the first one (which
    /// returned the error itself): the kind and the text survive.
    pub fn repeat(&self) -> Error {
        match self {
            Error::Io(e) => {
                let text = e.to_string();
                // Copies of copies say it once.
                let text = if text.starts_with(EARLIER) {
                    text
                } else {
                    format!("{EARLIER}{text}")
                };
                Error::Io(io::Error::new(e.kind(), text))
            }
            Error::Tls(e) => Error::Tls(e.clone()),
            Error::Closed(reason) => Error::Closed(reason.clone()),
            Error::Client(e) => Error::Client(e.clone()),
            Error::Login(e) => Error::Login(e.clone()),
            Error::UsernameTaken => Error::UsernameTaken,
            Error::Registration(e) => Error::Registration(e.clone()),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Io(e) => write!(f, "connection failed: {e}"),
            Error::Tls(e) => write!(f, "TLS failed: {e}"),
            Error::Client(e) => write!(f, "command refused: {e}"),
            Error::Login(e) => e.fmt(f),
            Error::UsernameTaken => f.write_str("registration refused: the username is taken"),
            Error::Registration(e) => write!(f, "registration failed: {e}"),
            Error::Closed(reason) => write!(f, "connection ended: {reason}"),
        }
    }
}

/// The inner error's text is part of [`Display`](fmt::Display), so
/// [`source`](std::error::Error::source) skips it and returns the inner error's own source.
impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io(e) => e.source(),
            Error::Tls(e) => e.source(),
            Error::Client(e) => e.source(),
            Error::Login(e) => e.source(),
            Error::Registration(e) => e.source(),
            Error::UsernameTaken | Error::Closed(_) => None,
        }
    }
}

impl From<io::Error> for Error {
    fn from(e: io::Error) -> Error {
        Error::Io(e)
    }
}

impl From<rustls::Error> for Error {
    fn from(e: rustls::Error) -> Error {
        Error::Tls(e)
    }
}

impl From<client::Error> for Error {
    fn from(e: client::Error) -> Error {
        Error::Client(e)
    }
}

impl From<LoginError> for Error {
    fn from(e: LoginError) -> Error {
        Error::Login(e)
    }
}

/// A stanza that could not be built (e.g. `Message::new` with a character XML cannot
/// carry) is a refused command.
impl From<BuildError> for Error {
    fn from(e: BuildError) -> Error {
        Error::Client(client::Error::Build(e))
    }
}
