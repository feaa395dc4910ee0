//! What the client reports to the application.

use core::fmt;

use super::IqId;
use crate::features::roster::Roster;
use crate::jid::Jid;
use crate::negotiation::auth::LoginError;
use crate::negotiation::register::{RegistrationError, RegistrationForm, RegistrationStep};
use crate::stanza::{InvalidStanza, Iq, Message, Presence, StanzaError};
use crate::stream::{ParseError, StreamError, StreamHeader};
use crate::xml::Element;

/// An event, taken with [`Client::poll_event`](super::Client::poll_event).
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Event {
    /// The server's stream header arrived: the stream is open.
    StreamOpened(StreamHeader),
    /// Logged in: stanzas can flow. With [`Config::fetch_roster`](super::Config::fetch_roster)
    /// this comes once the roster arrived (`roster` is `None` if the server refused it or
    /// it is off).
    SessionReady {
        /// Our full address.
        jid: Jid,
        /// The roster, if fetched.
        roster: Option<Roster>,
    },
    /// The login failed; the client closes the stream (a [`Closed`](Event::Closed) follows).
    LoginFailed(LoginError),
    /// The server changed the roster (a roster push, RFC 6121 §2.1.6); the client has
    /// acknowledged it. Items with `subscription` [`Remove`](crate::features::roster::Subscription::Remove)
    /// were deleted.
    RosterPush(Roster),
    /// The server's registration form, asked for with
    /// [`Client::request_registration`](super::Client::request_registration): fill it in and
    /// submit it with [`Client::submit_registration`](super::Client::submit_registration).
    RegistrationForm(RegistrationForm),
    /// The username is taken (409 `conflict`): correct the returned form and submit again,
    /// on the same stream.
    RegistrationConflict(RegistrationForm),
    /// The account is registered. The client closes the stream: log in on a new
    /// connection.
    Registered,
    /// A registration request failed.
    RegistrationFailed {
        /// Which request.
        step: RegistrationStep,
        /// Why.
        error: RegistrationError,
    },
    /// The password was changed ([`Client::change_password`](super::Client::change_password)).
    PasswordChanged,
    /// The account was removed ([`Client::remove_account`](super::Client::remove_account));
    /// the client closes the stream.
    AccountRemoved,
    /// A message.
    Message(Message),
    /// A presence.
    Presence(Presence),
    /// An IQ get or set in one of [`Config::iq_namespaces`](super::Config::iq_namespaces):
    /// answer it with [`Client::respond`](super::Client::respond).
    IqRequest(Iq),
    /// The result of an IQ we sent.
    IqResult {
        /// The handle [`Client::send_iq`](super::Client::send_iq) returned.
        id: IqId,
        /// The reply; its [`payload`](Iq::payload) is the result, if any.
        iq: Iq,
    },
    /// An error reply to an IQ we sent.
    IqError {
        /// The handle [`Client::send_iq`](super::Client::send_iq) returned.
        id: IqId,
        /// The error.
        error: StanzaError,
        /// The reply as received.
        iq: Iq,
    },
    /// No reply to an IQ we sent within [`Config::iq_timeout`](super::Config::iq_timeout).
    IqTimeout {
        /// The handle [`Client::send_iq`](super::Client::send_iq) returned.
        id: IqId,
    },
    /// A top-level element that is not a stanza (e.g. `<stream:features/>`).
    Element(Element),
    /// A stanza that breaks RFC 6120's rules and was dropped (an invalid IQ request is also
    /// answered with `bad-request`).
    InvalidStanza(InvalidStanza),
    /// The connection is over; always the last event, delivered once. Outstanding IQs
    /// will not be answered. Flush [`poll_transmit`](super::Client::poll_transmit), then
    /// close the transport.
    Closed(CloseReason),
}

/// Why the connection ended.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CloseReason {
    /// We closed the stream and the server closed its side (or the transport).
    Local,
    /// We closed the stream; the server did not close its side within
    /// [`Config::close_timeout`](super::Config::close_timeout).
    LocalTimeout,
    /// The server closed the stream; we closed ours in turn.
    Peer,
    /// The server sent a stream error.
    StreamError(StreamError),
    /// The server sent something we could not accept; we sent the matching stream error.
    Protocol(ParseError),
    /// Nothing arrived for [`Config::dead_peer_timeout`](super::Config::dead_peer_timeout):
    /// the server or the path to it is gone. Close the transport without waiting.
    PeerTimeout,
    /// The server left more than [`Config::max_unsent_bytes`](super::Config::max_unsent_bytes)
    /// of the client's answers unread: it is not reading. Close the transport.
    SendBufferFull,
    /// The transport ended while the stream was open (`mid_element` when it ended inside
    /// an element).
    EndOfInput {
        /// Input ended inside an element.
        mid_element: bool,
    },
}

impl CloseReason {
    /// Whether both sides closed the stream in order.
    pub fn is_clean(&self) -> bool {
        matches!(self, CloseReason::Local | CloseReason::Peer)
    }
}

impl fmt::Display for CloseReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CloseReason::Local => f.write_str("closed"),
            CloseReason::LocalTimeout => f.write_str("closed; the server did not confirm in time"),
            CloseReason::Peer => f.write_str("closed by the server"),
            CloseReason::StreamError(e) => write!(f, "stream error from the server: {e}"),
            CloseReason::Protocol(e) => write!(f, "the server violated the protocol: {e}"),
            CloseReason::SendBufferFull => f.write_str("the server stopped reading"),
            CloseReason::PeerTimeout => f.write_str("the server stopped answering"),
            CloseReason::EndOfInput { mid_element: true } => {
                f.write_str("connection lost inside an element")
            }
            CloseReason::EndOfInput { mid_element: false } => f.write_str("connection lost"),
        }
    }
}
