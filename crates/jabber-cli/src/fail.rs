//! Why a command failed, as the one line the user reads on standard error.
//!
//! Each typed error of the adapter becomes a sentence that says what happened and, where
//! an option changes it, which one: the user should not need `-v` to know that the
//! password was wrong or that the server's certificate is not trusted.

use std::fmt;
use std::io;

use jabber_net::rustls;
use jabber_tokio::jabber_proto::negotiation::auth::LoginError;
use jabber_tokio::jabber_proto::negotiation::sasl::SaslCondition;
use jabber_tokio::jabber_proto::stanza::StanzaCondition;
use jabber_tokio::{CloseReason, Error};

/// A command's failure: printed as `jabber: <text>`, exit status 1.
#[derive(Debug)]
pub(crate) struct Failure(String);

impl Failure {
    /// A failure saying `text`.
    pub(crate) fn new(text: impl Into<String>) -> Failure {
        Failure(text.into())
    }

    /// Connecting to `place` failed with `e`.
    pub(crate) fn unreachable(place: &str, e: Error) -> Failure {
        match e {
            Error::Io(e) => Failure(format!("cannot reach {place}: {}", io_text(&e))),
            other => Failure::from(other),
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What went wrong with a socket, without the OS's error number.
fn io_text(e: &io::Error) -> String {
    match e.kind() {
        io::ErrorKind::ConnectionRefused => "connection refused".into(),
        io::ErrorKind::TimedOut => "timed out".into(),
        _ => {
            // "Connection reset by peer (os error 104)": the number says nothing more.
            let text = e.to_string();
            match text.find(" (os error") {
                Some(at) => text[..at].to_owned(),
                None => text,
            }
        }
    }
}

impl From<Error> for Failure {
    fn from(e: Error) -> Failure {
        Failure(match e {
            Error::Io(e) => format!("connection failed: {}", io_text(&e)),
            Error::Tls(rustls::Error::InvalidCertificate(c)) => format!(
                "the server's certificate is not trusted ({c:?}); --ca FILE trusts another CA"
            ),
            // The core takes a STARTTLS the server offers; --tls none has no settings.
            Error::Tls(rustls::Error::General(text))
                if text.contains("Options::starttls is None") =>
            {
                "the server offers STARTTLS, which --tls none does not take: use --tls \
                 starttls (the default)"
                    .into()
            }
            Error::Tls(e) => format!("TLS failed: {e}"),
            Error::Login(e) => login_text(&e),
            Error::Client(e) => command_text(&e),
            Error::UsernameTaken => "registration refused: the username is taken".into(),
            Error::Registration(e) => format!("registration failed: {e}"),
            Error::Closed(reason) => closed_text(&reason),
            other => other.to_string(),
        })
    }
}

impl From<jabber_tokio::jabber_proto::client::Error> for Failure {
    fn from(e: jabber_tokio::jabber_proto::client::Error) -> Failure {
        Failure(command_text(&e))
    }
}

impl From<jabber_tokio::jabber_proto::xml::BuildError> for Failure {
    fn from(e: jabber_tokio::jabber_proto::xml::BuildError) -> Failure {
        Failure(format!("cannot send that: {e}"))
    }
}

/// A refused login.
fn login_text(e: &LoginError) -> String {
    let wrong_password = match e {
        LoginError::Refused(error) => error.condition == StanzaCondition::NotAuthorized,
        LoginError::Sasl(failure) => failure.condition == Some(SaslCondition::NotAuthorized),
        _ => false,
    };
    if wrong_password {
        return "login failed: wrong password or unknown account".into();
    }
    match e {
        LoginError::PlaintextNotAllowed => "login refused: the server wants the password in \
            plaintext on an unencrypted stream (--allow-plaintext sends it anyway)"
            .into(),
        LoginError::TlsRequired => "login refused: the server offers no STARTTLS and \
            encryption is required (--tls none allows an unencrypted stream)"
            .into(),
        LoginError::Timeout => "login failed: the server did not answer".into(),
        other => format!("login failed: {other}"),
    }
}

/// A command the core refused.
fn command_text(e: &jabber_tokio::jabber_proto::client::Error) -> String {
    use jabber_tokio::jabber_proto::client::Error as E;
    match e {
        E::PlaintextNotAllowed => "refused to send the password on an unencrypted stream \
            (--allow-plaintext sends it anyway)"
            .into(),
        E::InvalidAddress(e) => format!("not a valid address: {e}"),
        other => format!("refused: {other}"),
    }
}

/// The connection ended before the command was done.
fn closed_text(reason: &CloseReason) -> String {
    format!("the connection ended: {reason}")
}
