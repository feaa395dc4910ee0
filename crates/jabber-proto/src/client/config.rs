//! Connection settings.

use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;
use core::num::NonZeroU64;
use core::time::Duration;

use crate::features::disclosure::Disclosure;
use crate::features::disco::Discovery;
use crate::features::roster::RosterCache;
use crate::negotiation::channel_binding::ChannelBindingPolicy;
use crate::negotiation::sasl::MechanismSet;
use crate::stream::{Framing, Limits};

/// Settings of one connection. Start from [`Config::new`] and change fields.
///
/// ```
/// use core::num::NonZeroU64;
/// use core::time::Duration;
/// use jabber_proto::client::Config;
/// let seed = NonZeroU64::new(0x5eed).unwrap(); // a fresh value per connection
/// let mut config = Config::new("example.com", seed);
/// config.iq_timeout = Duration::from_secs(30);
/// ```
///
/// A seed of zero — every connection with the same ids — cannot be written:
///
/// ```compile_fail
/// let config = jabber_proto::client::Config::new("example.com", 0);
/// ```
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Config {
    /// The server's domain: the `to` of our stream header.
    pub domain: String,
    /// Bounds on what the server can make us buffer.
    pub limits: Limits,
    /// Seeds the ids of the IQs we send, so runs are reproducible and two connections do
    /// not reuse each other's ids. Give each connection a different value (the adapters'
    /// `fresh_seed` draws one); it is never zero, so a forgotten seed cannot make every
    /// connection alike.
    pub seed: NonZeroU64,
    /// How long a sent IQ waits for its reply before an [`IqTimeout`](super::IqEvent::Timeout)
    /// event. Default 60 s.
    pub iq_timeout: Duration,
    /// How long [`close`](super::Client::close) waits for the server to close its side.
    /// Default 10 s.
    pub close_timeout: Duration,
    /// Send `<?xml version='1.0'?>` before the stream header. Default true.
    pub send_declaration: bool,
    /// The `version` attribute of our stream header. `Some("1.0")` (the default): the
    /// client waits for `<stream:features>` and logs in with STARTTLS, SASL and resource
    /// binding (or `jabber:iq:auth` when the server offers only that, or its header has
    /// no version — on an unencrypted transport only if [`require_tls`](Self::require_tls)
    /// is off). `None` for a classic stream, on which login is `jabber:iq:auth` right
    /// after the headers.
    pub version: Option<String>,
    /// The `xml:lang` of our stream header. Default none.
    pub lang: Option<String>,
    /// Namespaces of incoming IQ requests the application answers
    /// ([`IqRequest`](super::StanzaEvent::IqRequest) events). Requests in any other namespace
    /// get a `service-unavailable` error reply from the core (RFC 6120 §8.4).
    pub iq_namespaces: Vec<String>,
    /// The transport is encrypted (direct TLS), so a plaintext password may be sent.
    /// Adapters set this; default false.
    pub transport_encrypted: bool,
    /// Send a plaintext password even on an unencrypted transport, when the server offers
    /// nothing better. Default false: such a login fails with
    /// [`LoginError::PlaintextNotAllowed`](crate::negotiation::auth::LoginError) and the
    /// password is never sent.
    pub allow_plaintext: bool,
    /// On an XMPP 1.0 stream, refuse to log in unless the transport is encrypted (direct
    /// TLS, or STARTTLS, which the client negotiates whenever the server offers it):
    /// when the server offers no STARTTLS — or an attacker strips it — the login fails
    /// with [`LoginError::TlsRequired`](crate::negotiation::auth::LoginError::TlsRequired)
    /// before any credential is sent. Default true. A version-less (classic) stream has
    /// no STARTTLS; there the plaintext rules ([`allow_plaintext`](Self::allow_plaintext))
    /// apply.
    pub require_tls: bool,
    /// Use `<digest>` when the server offers it (and the stream has an id). Default true;
    /// turn it off for a server whose digest check is broken. The plaintext rule still
    /// applies.
    pub use_digest: bool,
    /// Fetch the roster after login; [`SessionEvent::Ready`](super::SessionEvent::Ready) then
    /// carries it. Default true.
    pub fetch_roster: bool,
    /// Send an initial `<presence/>` after login. Default true.
    pub initial_presence: bool,
    /// After this long without writing, send a single whitespace; after this long without
    /// receiving, once logged in, ping the server (XEP-0199). `None` turns both off.
    /// Default 60 s.
    pub keepalive_interval: Option<Duration>,
    /// Most bytes that may wait in [`poll_transmit`](super::Client::poll_transmit). An
    /// application command that would go beyond is refused
    /// ([`Error::SendBufferFull`](super::Error::SendBufferFull)); if the client's own
    /// answers and keepalives go beyond, the server is not reading and the connection ends
    /// ([`CloseReason::SendBufferFull`](super::CloseReason::SendBufferFull)). Default 8 MiB.
    pub max_unsent_bytes: usize,
    /// After this long without receiving a single byte, the connection is declared dead:
    /// [`CloseReason::PeerTimeout`](super::CloseReason::PeerTimeout). `None` turns it off.
    /// Default 180 s.
    pub dead_peer_timeout: Option<Duration>,
    /// Most events that may wait in [`poll_event`](super::Client::poll_event). When the
    /// application does not drain them, the client stops parsing at this many (the rest
    /// of the input waits, unparsed, and parsing resumes through
    /// [`poll_timeout`](super::Client::poll_timeout) once there is room) and refuses new
    /// input with [`Error::EventQueueFull`](super::Error::EventQueueFull). Default 1,024.
    pub max_events: usize,
    /// Record the traffic for [`Client::poll_console`](super::Client::poll_console), as
    /// XML with secrets masked ([`console`](crate::console)). Default false: nothing is
    /// recorded and nothing allocated.
    pub console: bool,
    /// Most bytes of console text that may wait in
    /// [`poll_console`](super::Client::poll_console); beyond it the oldest entries are
    /// dropped and counted ([`console_dropped`](super::Client::console_dropped)).
    /// Default 256 KiB.
    pub console_max_bytes: usize,
    /// Record every input, command and output for a replay
    /// ([`Client::poll_capture`](super::Client::poll_capture), [`replay`](crate::replay)).
    /// Default false: nothing is recorded and nothing allocated.
    pub capture: bool,
    /// Most bytes of records that may wait in
    /// [`poll_capture`](super::Client::poll_capture); records that do not fit are dropped
    /// and counted ([`capture_dropped`](super::Client::capture_dropped)), and the capture
    /// cannot be replayed past them. Default 1 MiB.
    pub capture_max_bytes: usize,
    /// A name for this connection in traces (the `tracing` feature); `None` (the default)
    /// names it by its seed in hexadecimal.
    pub name: Option<String>,
    /// Most contacts (bare addresses) the presence model
    /// ([`Client::presence`](super::Client::presence)) tracks; available presence from
    /// one more is still reported but not tracked
    /// ([`PresenceView::untracked`](crate::features::contacts::PresenceView::untracked)).
    /// Default 4,096. With [`max_resources`](Self::max_resources) it bounds the model's
    /// entries, whoever sends us presence: at most `max_contacts × max_resources`, each
    /// an address (at most 3 KiB, RFC 7622) and at most
    /// [`STATUS_KEEP_BYTES`](crate::features::contacts::STATUS_KEEP_BYTES) of status;
    /// [`max_presence_bytes`](Self::max_presence_bytes) bounds their bytes.
    pub max_contacts: u16,
    /// Most resources tracked per contact; beyond it a newcomer replaces the
    /// lowest-ranking one when it ranks above it, else it is not tracked. Default 8.
    pub max_resources: u8,
    /// Most bytes the presence model holds (addresses, status texts and entries,
    /// counted as stored); a resource that would go beyond is not tracked (counted in
    /// [`PresenceView::untracked`](crate::features::contacts::PresenceView::untracked)).
    /// Default 4 MiB: thousands of contacts online, while the count bounds alone would
    /// let hostile presence (3 KiB addresses from many contacts) fill about 120 MB.
    pub max_presence_bytes: usize,
    /// Most incoming subscription requests remembered until answered
    /// ([`Client::pending_subscriptions`](super::Client::pending_subscriptions)); one
    /// beyond is reported but not remembered. Default 256.
    pub max_pending_subscriptions: u16,
    /// Most items [`Client::roster`](super::Client::roster) holds; items beyond are
    /// not kept and reported as
    /// [`RosterEvent::Truncated`](super::RosterEvent::Truncated). Default 10,000.
    pub max_roster_items: u32,
    /// Roster versioning (RFC 6121 §2.6), opt-in: a roster saved from an earlier
    /// session with its version (or an empty one with version `""` to start). The
    /// fetch after login then carries `ver`, and the client's roster starts from this
    /// one (it is taken out of the configuration then). Default `None`: a plain fetch.
    pub roster_cache: Option<RosterCache>,
    /// Requests in incoming messages the core answers on its own: delivery receipts
    /// (XEP-0184) and `jabber:x:event`'s "delivered" (XEP-0022). Default none.
    pub auto_answers: super::AutoAnswers,
    /// What the client tells others about itself when asked: its software version, its
    /// time, its idle time ([`Disclosure`]). `None` (the default) discloses nothing:
    /// such requests get `service-unavailable`. Boxed: off, it costs one word.
    pub disclosure: Option<Box<Disclosure>>,
    /// Ask the server for message carbons (XEP-0280) right after login: copies of what
    /// our other resources send and receive, as
    /// [`CarbonEvent`](super::CarbonEvent)s. An error answer means the server does not
    /// offer them. Default false.
    pub carbons: bool,
    /// Service discovery and entity capabilities ([`Discovery`]): our identity, extra
    /// features, our `<c/>` in presence and the cache of contacts' capabilities.
    /// `None` (the default): `disco#info` is still answered (as
    /// [`Discovery::default`]), but no capabilities are sent or asked for. Boxed: off,
    /// it costs one word.
    pub discovery: Option<Box<Discovery>>,
    /// Enable XEP-0198 stream management (with resumption) after binding, when the server
    /// offers it (XMPP 1.0 streams only). Default true.
    pub stream_management: bool,
    /// Ask for an ack (`<r/>`) after this many stanzas; 0: only by time. Default 5.
    pub sm_ack_every: u16,
    /// Most stanzas kept unacknowledged; an application command beyond is refused
    /// ([`Error::UnackedQueueFull`](super::Error::UnackedQueueFull)). Default 1,000.
    pub sm_max_unacked: u16,
    /// Ask for an ack when stanzas have waited this many milliseconds unacknowledged; 0:
    /// only by count. Default 5,000. (Milliseconds in a `u32` rather than a `Duration`:
    /// every idle client carries its config.)
    pub sm_ack_delay_ms: u32,
    /// Whether a SASL login over TLS must be bound to the channel (SCRAM `-PLUS`):
    /// [`Opportunistic`](ChannelBindingPolicy::Opportunistic) (the default: bind when the
    /// server lists a type we have, as XEP-0440 says; works with servers from before RFC
    /// 9266, whose `-PLUS` without a list we cannot tell from a stripped list) or
    /// [`Required`](ChannelBindingPolicy::Required) (bind or fail before any credential
    /// is sent; see its docs).
    pub channel_binding: ChannelBindingPolicy,
    /// The SASL mechanisms an XMPP 1.0 login may use; the strongest of them the server
    /// offers is chosen (a mechanism left out is as if the server had not offered it).
    /// Default [`MechanismSet::ALL`]. E.g. `MechanismSet::only(Mechanism::Plain)` for a
    /// server whose SCRAM is broken (PLAIN still goes only where the plaintext rules
    /// allow). The classic login's methods are [`use_digest`](Self::use_digest) and
    /// [`allow_plaintext`](Self::allow_plaintext).
    pub sasl_mechanisms: MechanismSet,
    /// Conferences: how many rooms and occupants are kept, how often a room is
    /// self-pinged. See [`ConferenceConfig`](crate::features::conference::ConferenceConfig).
    pub conference: crate::features::conference::ConferenceConfig,
    /// How the stream is framed on the transport. [`Framing::Stream`] (the default): one
    /// XML stream over TCP or TLS. [`Framing::WebSocket`] (RFC 7395): each
    /// [`handle_input`](super::Client::handle_input) is one received WebSocket message,
    /// each [`take_transmit`](super::Client::take_transmit) (or
    /// [`poll_transmit`](super::Client::poll_transmit) until advanced past) one message
    /// to send; `<open/>` and `<close/>` frame the stream, no STARTTLS is negotiated
    /// (set [`transport_encrypted`](Self::transport_encrypted) for `wss:`) and no
    /// whitespace keepalive is sent (logged in, the client still pings).
    pub framing: Framing,
    /// Whether `jabber:iq:oob` offers (file transfer, §8) reach the application as
    /// [`TransferEvent::Offer`](super::TransferEvent::Offer)s, which it must then answer
    /// ([`accept_oob`](super::Client::accept_oob) or
    /// [`refuse_oob`](super::Client::refuse_oob)). Default false: an application that
    /// does not handle file transfer never leaves a sender waiting, each offer is
    /// answered `service-unavailable` (RFC 6120 §8.2.3: an IQ request is always
    /// answered).
    pub oob_offers: bool,
}

impl Config {
    /// Defaults for a connection to `domain`, its ids seeded with `seed`.
    pub fn new(domain: &str, seed: NonZeroU64) -> Config {
        // XMPP 1.0 by default (issue 11): most servers refuse the classic login; the
        // classic path is still taken when the server offers only jabber:iq:auth.
        Config {
            domain: String::from(domain),
            limits: Limits::default(),
            seed,
            iq_timeout: Duration::from_secs(60),
            close_timeout: Duration::from_secs(10),
            send_declaration: true,
            version: Some(String::from("1.0")),
            lang: None,
            iq_namespaces: Vec::new(),
            transport_encrypted: false,
            allow_plaintext: false,
            require_tls: true,
            use_digest: true,
            fetch_roster: true,
            initial_presence: true,
            keepalive_interval: Some(Duration::from_secs(60)),
            dead_peer_timeout: Some(Duration::from_secs(180)),
            max_unsent_bytes: 8 << 20,
            max_events: 1024,
            console: false,
            console_max_bytes: 256 << 10,
            capture: false,
            capture_max_bytes: 1 << 20,
            name: None,
            max_contacts: 4096,
            max_resources: 8,
            max_presence_bytes: 4 << 20,
            max_pending_subscriptions: 256,
            max_roster_items: 10_000,
            roster_cache: None,
            auto_answers: super::AutoAnswers::NONE,
            disclosure: None,
            carbons: false,
            discovery: None,
            stream_management: true,
            sm_ack_every: 5,
            sm_max_unacked: 1000,
            sm_ack_delay_ms: 5_000,
            channel_binding: ChannelBindingPolicy::Opportunistic,
            sasl_mechanisms: MechanismSet::ALL,
            conference: Default::default(),
            framing: Framing::Stream,
            oob_offers: false,
        }
    }
}

impl Config {
    /// How traces name this connection: [`name`](Self::name), or the seed in hexadecimal.
    /// Displaying it does not allocate.
    ///
    /// ```
    /// use core::num::NonZeroU64;
    /// use jabber_proto::client::Config;
    /// let mut config = Config::new("example.com", NonZeroU64::new(0xab).unwrap());
    /// assert_eq!(config.connection_name().to_string(), "00000000000000ab");
    /// config.name = Some("bot-1".into());
    /// assert_eq!(config.connection_name().to_string(), "bot-1");
    /// ```
    pub fn connection_name(&self) -> ConnectionName<'_> {
        ConnectionName {
            name: self.name.as_deref(),
            seed: self.seed.get(),
        }
    }
}

/// A connection's name in traces ([`Config::connection_name`]).
#[derive(Clone, Copy, Debug)]
pub struct ConnectionName<'a> {
    name: Option<&'a str>,
    seed: u64,
}

impl core::fmt::Display for ConnectionName<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self.name {
            Some(name) => f.write_str(name),
            None => write!(f, "{:016x}", self.seed),
        }
    }
}
