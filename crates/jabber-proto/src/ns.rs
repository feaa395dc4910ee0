//! Namespace names used by the protocol.

use alloc::borrow::Cow;
use alloc::string::String;

/// Content namespace of client-to-server streams.
pub const CLIENT: &str = "jabber:client";
/// Content namespace of server-to-server streams.
pub const SERVER: &str = "jabber:server";
/// Namespace of the stream root, `<stream:stream>`, and of `<stream:features>`/`<stream:error>`.
pub const STREAM: &str = "http://etherx.jabber.org/streams";
/// XMPP over WebSocket's framing elements, `<open/>` and `<close/>` (RFC 7395).
pub const FRAMING: &str = "urn:ietf:params:xml:ns:xmpp-framing";
/// The namespace bound to the `xml` prefix (as in `xml:lang`).
pub const XML: &str = "http://www.w3.org/XML/1998/namespace";
/// Conditions of stream errors.
pub const STREAM_ERRORS: &str = "urn:ietf:params:xml:ns:xmpp-streams";
/// Conditions of stanza errors.
pub const STANZA_ERRORS: &str = "urn:ietf:params:xml:ns:xmpp-stanzas";
/// Classic authentication, XEP-0078.
pub const IQ_AUTH: &str = "jabber:iq:auth";
/// The stream feature announcing classic authentication on an XMPP 1.0 stream (XEP-0078 §4).
pub const FEATURE_IQ_AUTH: &str = "http://jabber.org/features/iq-auth";
/// In-band registration, XEP-0077.
pub const IQ_REGISTER: &str = "jabber:iq:register";
/// Roster management, RFC 6121.
pub const IQ_ROSTER: &str = "jabber:iq:roster";
/// SASL negotiation, RFC 6120 §6 (its payloads are always masked in the console).
pub const SASL: &str = "urn:ietf:params:xml:ns:xmpp-sasl";
/// STARTTLS, RFC 6120 §5.
pub const TLS: &str = "urn:ietf:params:xml:ns:xmpp-tls";
/// Resource binding, RFC 6120 §7.
pub const BIND: &str = "urn:ietf:params:xml:ns:xmpp-bind";
/// Session establishment, RFC 3921 §3 (optional since RFC 6121).
pub const SESSION: &str = "urn:ietf:params:xml:ns:xmpp-session";
/// Stream management, XEP-0198.
pub const SM: &str = "urn:xmpp:sm:3";
/// Roster versioning's stream feature, RFC 6121 §2.6.
pub const FEATURE_ROSTER_VER: &str = "urn:xmpp:features:rosterver";
/// In-band registration's stream feature, XEP-0077.
pub const FEATURE_REGISTER: &str = "http://jabber.org/features/iq-register";
/// Channel-binding types a server supports, XEP-0440.
pub const SASL_CB: &str = "urn:xmpp:sasl-cb:0";
/// Application-level ping, XEP-0199.
pub const PING: &str = "urn:xmpp:ping";
/// vCards, XEP-0054.
pub const VCARD: &str = "vcard-temp";
/// Private XML storage, XEP-0049.
pub const IQ_PRIVATE: &str = "jabber:iq:private";
/// Software version, XEP-0092.
pub const IQ_VERSION: &str = "jabber:iq:version";
/// Entity time, the legacy form, XEP-0090.
pub const IQ_TIME: &str = "jabber:iq:time";
/// Entity time, XEP-0202.
pub const TIME: &str = "urn:xmpp:time";
/// Last activity, XEP-0012.
pub const IQ_LAST: &str = "jabber:iq:last";
/// Software updates: the query and its answer (XEP-0011's era, the seed protocol).
pub const IQ_AUTOUPDATE: &str = "jabber:iq:autoupdate";
/// Software updates: the notice carried in a message.
pub const X_AUTOUPDATE: &str = "jabber:x:autoupdate";
/// The server's block list, XEP-0191.
pub const BLOCKING: &str = "urn:xmpp:blocking";

/// Namespaces an element can inherit from outside its own bytes without copying them.
/// Order is part of the element representation: only append.
pub(crate) const KNOWN: &[&str] = &[
    CLIENT,
    SERVER,
    STREAM,
    XML,
    STREAM_ERRORS,
    STANZA_ERRORS,
    IQ_AUTH,
    IQ_REGISTER,
    IQ_ROSTER,
    PING,
];

/// `ns` without a copy when it is one of [`KNOWN`]: namespace names a connection keeps
/// for its whole life (its content namespace, the stream header's bindings) then cost no
/// heap.
pub(crate) fn shared(ns: &str) -> Cow<'static, str> {
    match KNOWN.iter().find(|k| **k == ns) {
        Some(k) => Cow::Borrowed(k),
        None => Cow::Owned(String::from(ns)),
    }
}

pub(crate) fn known_index(ns: &str) -> Option<u8> {
    KNOWN
        .iter()
        .position(|k| *k == ns)
        .and_then(|i| u8::try_from(i).ok())
}

/// Delayed delivery, XEP-0203.
pub const DELAY: &str = "urn:xmpp:delay";
/// Legacy delayed delivery, XEP-0091.
pub const X_DELAY: &str = "jabber:x:delay";
/// Message events, XEP-0022.
pub const X_EVENT: &str = "jabber:x:event";
/// Message expiration, XEP-0023.
pub const X_EXPIRE: &str = "jabber:x:expire";
/// Extended addressing of the classic protocol (names, cc, forwarded).
pub const X_ENVELOPE: &str = "jabber:x:envelope";
/// An encrypted payload (XEP-0027).
pub const X_ENCRYPTED: &str = "jabber:x:encrypted";
/// A signature (XEP-0027).
pub const X_SIGNED: &str = "jabber:x:signed";
/// Out-of-band data, a URL (XEP-0066).
pub const X_OOB: &str = "jabber:x:oob";
/// Roster items sent in a message (XEP-0093).
pub const X_ROSTER: &str = "jabber:x:roster";
/// A chat room invitation (the classic form and XEP-0249's direct invitation).
pub const X_CONFERENCE: &str = "jabber:x:conference";
/// Chat state notifications, XEP-0085.
pub const CHATSTATES: &str = "http://jabber.org/protocol/chatstates";
/// Message delivery receipts, XEP-0184.
pub const RECEIPTS: &str = "urn:xmpp:receipts";
/// Data forms, XEP-0004.
pub const DATA_FORMS: &str = "jabber:x:data";
/// Service discovery: what an entity is and does, XEP-0030.
pub const DISCO_INFO: &str = "http://jabber.org/protocol/disco#info";
/// Service discovery: the items an entity holds, XEP-0030.
pub const DISCO_ITEMS: &str = "http://jabber.org/protocol/disco#items";
/// Entity capabilities, XEP-0115.
pub const CAPS: &str = "http://jabber.org/protocol/caps";
/// Out-of-band data offered in an IQ, acknowledged by the receiver (XEP-0066).
pub const IQ_OOB: &str = "jabber:iq:oob";
/// HTTP File Upload, XEP-0363.
pub const HTTP_UPLOAD: &str = "urn:xmpp:http:upload:0";

/// Multi-User Chat (XEP-0045): the join payload.
pub const MUC: &str = "http://jabber.org/protocol/muc";
/// Multi-User Chat: what a room says of occupants, invitations, declines.
pub const MUC_USER: &str = "http://jabber.org/protocol/muc#user";
