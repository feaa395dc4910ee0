//! Local misuse: returned to the caller, never an event.

use core::fmt;

use crate::jid::JidError;
use crate::xml::BuildError;

/// Why a command was refused. These are the caller's mistakes; the connection is unharmed.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// The stream is not open yet (the server's header has not arrived).
    NotOpen,
    /// The connection is closing or closed.
    Closed,
    /// `send_iq` with a type other than get or set, or `respond` to something that is not a
    /// get or set.
    NotARequest,
    /// The command does not fit the session's phase: logging in twice, registering while
    /// a login runs, changing the password before logging in, ...
    WrongPhase,
    /// The command would send a password in the clear: the transport is not encrypted and
    /// [`Config::allow_plaintext`](super::Config::allow_plaintext) is off.
    PlaintextNotAllowed,
    /// The bytes waiting to be written would exceed
    /// [`Config::max_unsent_bytes`](super::Config::max_unsent_bytes): write what
    /// [`poll_transmit`](super::Client::poll_transmit) holds first;
    /// [`Event::Writable`](super::Event::Writable) says when the same command fits.
    SendBufferFull,
    /// The stanza alone is larger than
    /// [`Config::max_unsent_bytes`](super::Config::max_unsent_bytes): it can never be
    /// sent with this configuration.
    StanzaTooLarge,
    /// The credentials do not make a valid address (`username@domain/resource`).
    InvalidAddress(JidError),
    /// An element could not be built (a value XML cannot carry).
    Build(BuildError),
    /// Input refused: [`Config::max_events`](super::Config::max_events) events wait to be
    /// taken. Drain [`poll_event`](super::Client::poll_event), then offer the same bytes
    /// again; none of them were taken.
    EventQueueFull,
    /// [`Client::send_presence`](super::Client::send_presence) takes available or
    /// unavailable presence only; subscriptions have their own commands.
    WrongPresenceType,
    /// Private storage cannot hold an element without a namespace, or in
    /// `jabber:client`, `jabber:server` or `jabber:iq:private` (XEP-0049 §2).
    NotStorable,
    /// A block or unblock command without an address (to unblock everyone, use
    /// [`Client::unblock_all`](super::Client::unblock_all)).
    NoAddress,
    /// Stream management holds [`Config::sm_max_unacked`](super::Config::sm_max_unacked)
    /// stanzas the server has not acknowledged: an ack was requested;
    /// [`Event::Writable`](super::Event::Writable) says when the same command fits.
    UnackedQueueFull,
    /// A room command for a room we are not in (not joined, or already left).
    NotInRoom,
    /// A join beyond
    /// [`ConferenceConfig::max_rooms`](crate::features::conference::ConferenceConfig::max_rooms).
    TooManyRooms,
    /// An iq:oob offer goes to one resource: the address needs one (XEP-0066 §3).
    NotFullJid,
    /// An iq:oob offer needs a URL: it is empty or only whitespace.
    NoUrl,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::NotOpen => f.write_str("the stream is not open yet"),
            Error::Closed => f.write_str("the connection is closed"),
            Error::NotARequest => f.write_str("only get and set IQs are requests"),
            Error::WrongPhase => f.write_str("not possible in the session's current phase"),
            Error::PlaintextNotAllowed => f.write_str(
                "a password would go out in the clear: the transport is not encrypted and \
                 Config::allow_plaintext is off",
            ),
            Error::SendBufferFull => f.write_str("too many bytes wait to be written"),
            Error::StanzaTooLarge => f.write_str("the stanza is larger than the send buffer"),
            Error::InvalidAddress(e) => write!(f, "the credentials make no valid address: {e}"),
            Error::Build(e) => write!(f, "cannot build the stanza: {e}"),
            Error::EventQueueFull => f.write_str("too many events wait to be taken"),
            Error::WrongPresenceType => {
                f.write_str("only available or unavailable presence is sent this way")
            }
            Error::NotStorable => f.write_str("private storage cannot hold this namespace"),
            Error::NoAddress => f.write_str("a block or unblock command needs an address"),
            Error::UnackedQueueFull => {
                f.write_str("too many stanzas wait for the server's acknowledgement")
            }
            Error::NotInRoom => f.write_str("not in that room"),
            Error::TooManyRooms => f.write_str("too many rooms at once"),
            Error::NotFullJid => f.write_str("the address needs a resource"),
            Error::NoUrl => f.write_str("an out-of-band offer needs a URL"),
        }
    }
}

impl core::error::Error for Error {}

impl From<BuildError> for Error {
    fn from(e: BuildError) -> Error {
        Error::Build(e)
    }
}

/// For drivers whose errors are `std::io::Error`: a refused command (or refused input)
/// becomes one of kind `Other`, so `?` works in their loops.
#[cfg(feature = "std")]
impl From<Error> for std::io::Error {
    fn from(e: Error) -> std::io::Error {
        std::io::Error::other(e)
    }
}
