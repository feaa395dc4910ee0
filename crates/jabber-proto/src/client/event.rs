//! What the client reports to the application, grouped by concern.
//!
//! [`Event`] is a small enum of concerns; each concern has its own enum. An application
//! matches the concerns it cares about and lets the rest fall through, and an adapter
//! waiting for a login finds its outcome in [`Event::Session`] without help:
//!
//! ```
//! use jabber_proto::client::{Event, SessionEvent, StanzaEvent};
//!
//! fn on_event(event: Event) {
//!     match event {
//!         Event::Stanza(StanzaEvent::Message(m)) => println!("{:?}", m.body()),
//!         Event::Session(SessionEvent::Ready { jid, .. }) => println!("logged in as {jid}"),
//!         Event::Closed(reason) => println!("closed: {reason}"),
//!         _ => {}
//!     }
//! }
//! ```

use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use super::IqId;
use crate::features::autoupdate::UpdateInfo;
use crate::features::roster::Roster;
use crate::features::stream_management::SmError;
use crate::features::vcard::Vcard;
use crate::jid::Jid;
use crate::negotiation::auth::{AuthMethod, LoginError};
use crate::negotiation::register::{RegistrationError, RegistrationForm, RegistrationStep};
use crate::stanza::ext::{CarbonDirection, Forwarded};
use crate::stanza::{InvalidStanza, Iq, Message, Presence, StanzaError};
use crate::stream::{ParseError, StreamError, StreamHeader};
use crate::xml::Element;

/// An event, taken with [`Client::poll_event`](super::Client::poll_event).
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Event {
    /// The stream itself: the server's header, its features, other top-level elements.
    Stream(StreamEvent),
    /// The login and the session it opens.
    Session(SessionEvent),
    /// The account: registration, password change, removal.
    Account(AccountEvent),
    /// Stanzas for the application: messages, IQ requests (presence has its own concerns:
    /// [`Event::Presence`], [`Event::Subscription`]).
    Stanza(StanzaEvent),
    /// Outcomes of the IQ requests the application sent.
    Iq(IqEvent),
    /// The roster changed on the server.
    Roster(RosterEvent),
    /// A command was refused with [`Error::SendBufferFull`](super::Error::SendBufferFull)
    /// and the bytes waiting to be written have since fallen far enough under
    /// [`Config::max_unsent_bytes`](super::Config::max_unsent_bytes) for it (the largest
    /// refused since the last `Writable`) to fit: retry. Only while the stream is open.
    Writable,
    /// Others' presence: contacts and our other resources coming, changing and going.
    Presence(PresenceEvent),
    /// Presence subscriptions asked of us and answered to us.
    Subscription(SubscriptionEvent),
    /// Account services: vCards, private storage, software updates.
    Services(ServiceEvent),
    /// Message carbons (XEP-0280): copies of what our other resources send and receive.
    Carbons(CarbonEvent),
    /// Service discovery and entity capabilities.
    Disco(DiscoEvent),
    /// The connection is over; always the last event, delivered once. Outstanding IQs
    /// will not be answered. Flush [`poll_transmit`](super::Client::poll_transmit) until
    /// [`is_finished`](super::Client::is_finished), then close the transport.
    Closed(CloseReason),
    /// Stream management (XEP-0198): enabled, resumed, resumption refused, possible
    /// duplicates.
    StreamManagement(SmEvent),
    /// Conferences: rooms, their occupants and messages, invitations.
    Conference(crate::features::conference::ConferenceEvent),
    /// File transfer (§8): iq:oob offers both ways, HTTP upload services and slots.
    Transfer(TransferEvent),
}

/// The stream itself.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum StreamEvent {
    /// The server's stream header arrived: the stream is open.
    Opened(StreamHeader),
    /// `<stream:features/>` (on a `version='1.0'` stream).
    Features(Element),
    /// A top-level element that is neither a stanza nor features.
    Element(Element),
}

/// The login and the session it opens.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum SessionEvent {
    /// Logged in: stanzas can flow. With
    /// [`Config::fetch_roster`](super::Config::fetch_roster) this comes once the roster
    /// arrived (`roster` is `None` if the server refused it or it is off).
    Ready {
        /// Our full address, in canonical form (see [`Jid::canonical`]).
        jid: Jid,
        /// The roster, if fetched: what [`Client::roster`](super::Client::roster) holds
        /// then (with roster versioning and an unchanged roster, the cached one).
        roster: Option<Roster>,
        /// How the password was proven.
        method: AuthMethod,
    },
    /// The login failed; the client closes the stream (a [`Closed`](Event::Closed)
    /// follows).
    LoginFailed(LoginError),
}

/// The account: registration (XEP-0077), password change, removal.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum AccountEvent {
    /// The server's registration form, asked for with
    /// [`Client::request_registration`](super::Client::request_registration): fill it in
    /// and submit it with
    /// [`Client::submit_registration`](super::Client::submit_registration).
    RegistrationForm(RegistrationForm),
    /// The username is taken (409 `conflict`): correct the returned form and submit
    /// again, on the same stream.
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
    /// The password was changed
    /// ([`Client::change_password`](super::Client::change_password)).
    PasswordChanged,
    /// The account was removed
    /// ([`Client::remove_account`](super::Client::remove_account)); the client closes
    /// the stream.
    Removed,
}

/// Stanzas for the application.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum StanzaEvent {
    /// A message.
    Message(Message),
    /// An IQ get or set in one of
    /// [`Config::iq_namespaces`](super::Config::iq_namespaces): answer it with
    /// [`Client::respond`](super::Client::respond).
    IqRequest(Iq),
    /// A stanza that breaks RFC 6120's rules and was dropped (an invalid IQ request is
    /// also answered with `bad-request`).
    Invalid(InvalidStanza),
    /// A message whose `jabber:x:expire` lifetime ran out before it arrived (counted
    /// from its delay stamp, against the UTC given with
    /// [`Client::set_utc`](super::Client::set_utc)): not to be shown as fresh, and not
    /// acknowledged.
    ExpiredMessage(Message),
}

/// The outcome of an IQ request the application sent with
/// [`Client::send_iq`](super::Client::send_iq); each carries the handle it returned.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum IqEvent {
    /// A result; its [`payload`](Iq::payload) is the answer, if any.
    Result {
        /// The request's handle.
        id: IqId,
        /// The reply.
        iq: Iq,
    },
    /// An error reply.
    Error {
        /// The request's handle.
        id: IqId,
        /// The error.
        error: StanzaError,
        /// The reply as received.
        iq: Iq,
    },
    /// No reply within [`Config::iq_timeout`](super::Config::iq_timeout).
    Timeout {
        /// The request's handle.
        id: IqId,
    },
    /// The request's connection died and its session could not be resumed after the
    /// server had taken the request: its reply went to the lost session and will not
    /// come (see [`InFlightIq`](super::InFlightIq)). Whether the request took effect is
    /// unknown.
    Lost {
        /// The request's handle.
        id: IqId,
    },
}

impl IqEvent {
    /// The handle of the request this answers.
    pub fn id(&self) -> IqId {
        match self {
            IqEvent::Result { id, .. }
            | IqEvent::Error { id, .. }
            | IqEvent::Timeout { id }
            | IqEvent::Lost { id } => *id,
        }
    }
}

/// The roster changed on the server.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum RosterEvent {
    /// A roster push (RFC 6121 §2.1.6) from our own server; the client has acknowledged
    /// it. Items with `subscription`
    /// [`Remove`](crate::features::roster::Subscription::Remove) were deleted.
    Push(Roster),
    /// The server sent roster items beyond
    /// [`Config::max_roster_items`](super::Config::max_roster_items): they were not
    /// kept in [`Client::roster`](super::Client::roster). After a push it follows the
    /// [`Push`](Self::Push), which still holds them; for the fetch it comes before
    /// [`SessionEvent::Ready`], whose roster holds only the kept items.
    Truncated {
        /// How many items were left out this time.
        dropped: u64,
    },
}

/// Others' presence (RFC 6121 §4), as routed to us; the model
/// ([`Client::presence`](super::Client::presence)) is updated before the event is queued.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum PresenceEvent {
    /// A contact's resource (or another resource of our own account) is available, or
    /// changed its show, status or priority. Our own session's echo is reported too,
    /// but not tracked.
    Available(Presence),
    /// A resource went offline (from a bare address: every resource of it); it left the
    /// model.
    Unavailable(Presence),
    /// A presence error: a directed presence or subscription request could not be
    /// delivered, for instance.
    Error {
        /// The error (`undefined-condition` when the stanza carried none).
        error: StanzaError,
        /// The presence as received.
        presence: Presence,
    },
    /// A probe addressed to us (servers answer probes themselves; rarely seen).
    Probe(Presence),
}

/// Presence subscriptions (RFC 6121 §3): what contacts ask of us and answer us.
///
/// A concern of its own rather than part of [`PresenceEvent`]: subscriptions are
/// requests for the user's authorisation and changes of the roster relationship,
/// handled apart from availability (a prompt, not a status icon), and a request waits
/// for an answer ([`Client::approve_subscription`](super::Client::approve_subscription),
/// [`Client::deny_subscription`](super::Client::deny_subscription)).
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum SubscriptionEvent {
    /// The sender asks to see our presence; remembered in
    /// [`Client::pending_subscriptions`](super::Client::pending_subscriptions) until
    /// answered. A repeated request is not reported again. Its status may explain it.
    Request(Presence),
    /// The sender approved our request: we see its presence.
    Approved(Presence),
    /// The sender denied our request or cancelled our subscription to its presence.
    Revoked(Presence),
    /// The sender unsubscribed from our presence (its pending request, if any, is
    /// forgotten).
    Unsubscribed(Presence),
}

impl SubscriptionEvent {
    /// The presence as received.
    pub fn presence(&self) -> &Presence {
        match self {
            SubscriptionEvent::Request(p)
            | SubscriptionEvent::Approved(p)
            | SubscriptionEvent::Revoked(p)
            | SubscriptionEvent::Unsubscribed(p) => p,
        }
    }

    /// The contact: the sender's bare address. Always `Some` in what the client
    /// reports (subscription presence without a sender is dropped).
    pub fn contact(&self) -> Option<Jid> {
        self.presence().from().map(|f| f.bare().to_owned_jid())
    }
}

/// The answers to the account-service commands ([`Client::vcard_get`](super::Client::vcard_get),
/// [`Client::private_get`](super::Client::private_get), ...), each carrying the handle its
/// command returned.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum ServiceEvent {
    /// A vCard ([`Client::vcard_get`](super::Client::vcard_get)); empty when the server
    /// holds none and says so with an empty card.
    Vcard {
        /// The request's handle.
        id: IqId,
        /// The card (boxed: it is large, and events are moved often).
        vcard: Box<Vcard>,
    },
    /// Our vCard was stored ([`Client::vcard_set`](super::Client::vcard_set)).
    VcardSaved {
        /// The request's handle.
        id: IqId,
    },
    /// Private data ([`Client::private_get`](super::Client::private_get)): the element
    /// stored under the name and namespace asked for (empty when nothing is stored);
    /// `None` when the answer held no element.
    PrivateData {
        /// The request's handle.
        id: IqId,
        /// The stored element.
        data: Option<Element>,
    },
    /// Private data was stored ([`Client::private_set`](super::Client::private_set)).
    PrivateSaved {
        /// The request's handle.
        id: IqId,
    },
    /// The versions an update agent offers
    /// ([`Client::check_update`](super::Client::check_update)).
    Update {
        /// The request's handle.
        id: IqId,
        /// What is on offer.
        info: UpdateInfo,
    },
    /// The request failed: an error reply, or (`error` is `None`) no reply within
    /// [`Config::iq_timeout`](super::Config::iq_timeout).
    Failed {
        /// The request's handle.
        id: IqId,
        /// The error, if one came.
        error: Option<StanzaError>,
    },
    /// The server's block list ([`Client::blocklist_get`](super::Client::blocklist_get)).
    BlockList {
        /// The request's handle.
        id: IqId,
        /// The blocked addresses.
        jids: Vec<Jid>,
    },
    /// The server blocked the addresses asked ([`Client::block`](super::Client::block)).
    Blocked {
        /// The request's handle.
        id: IqId,
    },
    /// The server unblocked the addresses asked ([`Client::unblock`](super::Client::unblock),
    /// [`Client::unblock_all`](super::Client::unblock_all)).
    Unblocked {
        /// The request's handle.
        id: IqId,
    },
    /// The server says these addresses are now blocked (by this or another resource of
    /// the account; XEP-0191 §3.3). Acknowledged by the client.
    BlockPush {
        /// The addresses.
        jids: Vec<Jid>,
    },
    /// The server says these addresses are no longer blocked; none means every address
    /// is (XEP-0191 §3.4). Acknowledged by the client.
    UnblockPush {
        /// The addresses.
        jids: Vec<Jid>,
    },
    /// A reply to the request came from an address it did not go to (for private
    /// storage and our own vCard: anyone but our server and our own account): it was
    /// dropped, and the request keeps waiting for its real answer.
    Spoofed {
        /// The request's handle.
        id: IqId,
        /// Who claimed to answer (`None`: no `from`, where one was required).
        from: Option<Jid>,
    },
    /// The blocking policy stored in private storage
    /// ([`Client::load_block_policy`](super::Client::load_block_policy)); it is now the
    /// one in force. `None`: nothing stored (or nothing this version can read), and the
    /// local policy is kept.
    BlockPolicy {
        /// The request's handle.
        id: IqId,
        /// The stored policy.
        policy: Option<crate::features::block_policy::BlockPolicy>,
    },
    /// The policy was stored
    /// ([`Client::set_block_policy`](super::Client::set_block_policy)).
    BlockPolicySaved {
        /// The handle `set_block_policy` returned.
        id: IqId,
    },
    /// The server's block list was brought in line with the policy set with
    /// [`Client::set_block_policy`](super::Client::set_block_policy) (one per request:
    /// blocking the addresses added, unblocking those removed).
    BlockListSynced {
        /// The handle `set_block_policy` returned.
        id: IqId,
    },
    /// The server refused (or did not answer) a change of its block list for the
    /// policy set with [`Client::set_block_policy`](super::Client::set_block_policy):
    /// the server does not enforce it; the local policy still applies.
    BlockListSyncFailed {
        /// The handle `set_block_policy` returned.
        id: IqId,
        /// The error, if one came.
        error: Option<StanzaError>,
    },
}

/// Message carbons (XEP-0280); see [`features::carbons`](crate::features::carbons) and
/// [`Config::carbons`](super::Config::carbons).
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum CarbonEvent {
    /// The server enabled carbons for this resource.
    Enabled,
    /// The server refused to enable them (`error`), or did not answer in time (`None`):
    /// it does not offer them.
    Unavailable {
        /// The error, if one came.
        error: Option<StanzaError>,
    },
    /// Another resource of ours sent this message.
    Sent(Box<Forwarded>),
    /// Another resource of ours received this message.
    Received(Box<Forwarded>),
    /// A carbon from anyone but our own bare JID: forged (CVE-2017-5589's class). It
    /// was dropped and delivered nowhere.
    Spoofed {
        /// Who sent it (`None`: no `from`).
        from: Option<Jid>,
        /// What it claimed to be.
        direction: CarbonDirection,
    },
    /// A carbon from our own account whose wrapper holds no readable message; dropped.
    Invalid(Message),
}

/// Service discovery (XEP-0030) and entity capabilities (XEP-0115): the answers to
/// [`Client::disco_info`](super::Client::disco_info) and
/// [`Client::disco_items`](super::Client::disco_items), each with the handle its command
/// returned, and what the capabilities cache learnt.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum DiscoEvent {
    /// What the address asked says it is and does.
    Info {
        /// The request's handle.
        id: IqId,
        /// The answer.
        info: crate::features::disco::DiscoInfo,
    },
    /// The items the address asked holds.
    Items {
        /// The request's handle.
        id: IqId,
        /// The answer.
        items: crate::features::disco::DiscoItems,
    },
    /// The request failed: an error reply, or (`error` is `None`) no reply within
    /// [`Config::iq_timeout`](super::Config::iq_timeout) or a result without the
    /// expected query.
    Failed {
        /// The request's handle.
        id: IqId,
        /// The error, if one came.
        error: Option<StanzaError>,
    },
    /// A reply to the request came from an address it did not go to: dropped; the
    /// request keeps waiting for its real answer.
    Spoofed {
        /// The request's handle.
        id: IqId,
        /// Who claimed to answer.
        from: Option<Jid>,
    },
    /// A contact's capabilities were verified (their hash is the `ver` it advertised)
    /// and cached: [`Client::capabilities`](super::Client::capabilities) knows them.
    Capabilities {
        /// The contact resource that was asked.
        contact: Jid,
        /// The verified string.
        ver: String,
    },
    /// A contact's answer does not hash to the `ver` it advertised, or is ill-formed
    /// (XEP-0115 §5.4): not cached.
    CapsMismatch {
        /// The contact resource that was asked.
        contact: Jid,
        /// What it advertised.
        ver: String,
        /// What its answer hashes to (`None`: ill-formed or no answer).
        computed: Option<String>,
    },
}

macro_rules! into_event {
    ($($concern:ident => $variant:ident),* $(,)?) => {$(
        impl From<$concern> for Event {
            fn from(e: $concern) -> Event {
                Event::$variant(e)
            }
        }
    )*};
}

into_event! {
    StreamEvent => Stream,
    SessionEvent => Session,
    AccountEvent => Account,
    StanzaEvent => Stanza,
    IqEvent => Iq,
    RosterEvent => Roster,
    PresenceEvent => Presence,
    SubscriptionEvent => Subscription,
    ServiceEvent => Services,
    CarbonEvent => Carbons,
    DiscoEvent => Disco,
    SmEvent => StreamManagement,
    TransferEvent => Transfer,
}

impl From<crate::features::conference::ConferenceEvent> for Event {
    fn from(e: crate::features::conference::ConferenceEvent) -> Event {
        Event::Conference(e)
    }
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
    /// the server or the path to it is gone. Nothing more is written.
    PeerTimeout,
    /// The server left more than [`Config::max_unsent_bytes`](super::Config::max_unsent_bytes)
    /// of the client's answers unread: it is not reading. Nothing more is written.
    SendBufferFull,
    /// The transport ended while the stream was open (`mid_element` when it ended inside
    /// an element).
    EndOfInput {
        /// Input ended inside an element.
        mid_element: bool,
    },
    /// The transport reported a reset ([`Client::handle_reset`](super::Client::handle_reset)):
    /// the connection is gone and nothing more can be written.
    Reset,
    /// The server broke stream management (XEP-0198); we sent the stream error.
    StreamManagement(SmError),
    /// Over WebSocket, the server closed the stream and asked the client to connect to
    /// this URI instead (`<close see-other-uri='...'/>`, RFC 7395 §3.6.1). A client must
    /// not follow it to a less secure endpoint (`wss:` to `ws:`).
    ///
    /// The core reports the attribute raw, unchecked: whoever follows it checks it — its
    /// scheme is `ws` or `wss` (case-insensitive), and never `ws` when the session's URL
    /// was `wss` (as jabber-wasm's `notice::redirect_target` does). jabber-tokio only
    /// reports it and follows nothing.
    SeeOtherUri(String),
}

impl CloseReason {
    /// Whether both sides closed the stream in order.
    pub fn is_clean(&self) -> bool {
        matches!(self, CloseReason::Local | CloseReason::Peer)
    }

    /// Whether the transport can take no more bytes (a dead, unreading or reset peer):
    /// the client drops what it had not written yet.
    pub fn abandons_output(&self) -> bool {
        matches!(
            self,
            CloseReason::PeerTimeout | CloseReason::SendBufferFull | CloseReason::Reset
        )
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
            CloseReason::Reset => f.write_str("connection reset"),
            CloseReason::StreamManagement(e) => write!(f, "stream management: {e}"),
            CloseReason::SeeOtherUri(uri) => write!(f, "the server redirected us to {uri}"),
        }
    }
}

/// Stream management (XEP-0198): its enabling, and the outcome of a resumption.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum SmEvent {
    /// The server enabled stream management; `resumable` when it allows resumption
    /// ([`Client::resumption`](super::Client::resumption) then gives what a new
    /// connection needs).
    Enabled {
        /// The server allows resumption.
        resumable: bool,
    },
    /// The session was resumed on this connection ([`Client::resume`](super::Client::resume)):
    /// no new binding, roster fetch or presence; `resent` stanzas the server had not
    /// received went out again.
    Resumed {
        /// The session's address.
        jid: Jid,
        /// Stanzas sent again.
        resent: usize,
    },
    /// The server refused the resumption: a new session is being bound.
    ResumeFailed,
    /// Stanzas of the lost session that the server had not acknowledged were sent again
    /// in the new session: the recipients may have received them already.
    PossibleDuplicates(Vec<Element>),
}

/// File transfer (§8): the outcomes of [`Client::offer_oob`](super::Client::offer_oob),
/// [`find_upload_service`](super::Client::find_upload_service) and
/// [`request_upload_slot`](super::Client::request_upload_slot), each with the handle its
/// command returned, and the offers others make us.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum TransferEvent {
    /// Someone offers us a URL in a `jabber:iq:oob` set: fetch it, then
    /// [`accept_oob`](super::Client::accept_oob), or
    /// [`refuse_oob`](super::Client::refuse_oob) (boxed: it carries its request).
    Offer(Box<crate::features::files::OobOffer>),
    /// The receiver acknowledged our offer: it has the file.
    OfferAccepted {
        /// The offer's handle.
        id: IqId,
    },
    /// The receiver refused our offer (`406 not-acceptable`: declined; `404
    /// item-not-found`: it could not fetch it), or did not answer in time (`None`).
    OfferRefused {
        /// The offer's handle.
        id: IqId,
        /// The refusal; `None` for a timeout.
        error: Option<StanzaError>,
    },
    /// The search for an upload service ended: the first service found, or `None` when
    /// neither our server nor any of its items offers HTTP upload.
    UploadService {
        /// The search's handle.
        id: IqId,
        /// The service found.
        service: Option<Box<crate::features::files::UploadService>>,
    },
    /// A slot: PUT the file to it, then send its GET URL.
    Slot {
        /// The request's handle.
        id: IqId,
        /// The slot (boxed: three URLs and headers).
        slot: Box<crate::features::files::UploadSlot>,
    },
    /// No slot was given.
    SlotFailed {
        /// The request's handle.
        id: IqId,
        /// Why.
        error: crate::features::files::UploadError,
    },
    /// A reply naming one of our offers or slot requests came from another address
    /// than the one asked: dropped, the request still waits.
    Spoofed {
        /// The request it claimed to answer.
        id: IqId,
        /// Who sent it.
        from: Option<Jid>,
    },
}
