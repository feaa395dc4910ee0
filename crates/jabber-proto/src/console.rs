//! The XML console: the traffic of a connection as XML text, secrets masked.
//!
//! With [`Config::console`](crate::client::Config::console) on, the client records every
//! top-level item it sends and receives — the stream headers, each stanza, a stream error,
//! the close, a whitespace keepalive — as one [`ConsoleEntry`], which the application
//! pulls with [`Client::poll_console`](crate::Client::poll_console). Off (the default), it
//! records nothing and allocates nothing.
//!
//! # Masking
//!
//! The console's text is never the wire's bytes: it is the item serialised again with
//! secrets masked, so it can be logged and attached to a bug report. Which elements carry
//! a secret is decided here and nowhere else, by [`is_secret`] over the element's
//! namespace and name; the serialiser consults it for every element it writes to the
//! console, whichever feature built it and in whichever direction it travels (a server
//! that echoes our request in its error reply, as ejabberd does, is masked too). A secret
//! element's whole content is replaced by [`MASK`], its start tag and attributes are
//! kept: `<password>***</password>`, `<auth mechanism='PLAIN'>***</auth>`. One secret
//! depends on its parent rather than its own name: the `<value>`s of a data-form field
//! that [`is_secret_value`] names (`text-private`, or `password`), written
//! `<field type='text-private' var='pin'><value>***</value></field>`. An empty
//! element (`<password/>` in the list of fields a server wants) carries nothing and is
//! written as it is.
//!
//! # Bound
//!
//! At most [`Config::console_max_bytes`](crate::client::Config::console_max_bytes) bytes of
//! text wait in the console. When a new entry would go beyond, the oldest entries are
//! dropped until it fits; an entry larger than the whole bound is dropped itself. Every
//! dropped entry is counted ([`Client::console_dropped`](crate::Client::console_dropped)),
//! so a gap in what the application saw is never silent.

use alloc::collections::VecDeque;
use alloc::string::String;

use crate::ns;
use crate::time::Instant;

/// What replaces the content of an element that carries a secret.
pub const MASK: &str = "***";

/// Whether the element `name` in namespace `ns` carries a secret, so the console writes
/// [`MASK`] for its content. The one table of secrets; a feature that sends a new kind of
/// secret adds its element here (the test `every_secret_builder_is_masked` fails until it
/// does).
///
/// ```
/// use jabber_proto::console::is_secret;
/// assert!(is_secret("jabber:iq:auth", "password"));
/// assert!(is_secret("jabber:iq:auth", "digest"));
/// assert!(is_secret("jabber:iq:register", "password"));
/// assert!(is_secret("http://jabber.org/protocol/muc", "password"));
/// assert!(is_secret("urn:ietf:params:xml:ns:xmpp-sasl", "response"));
/// assert!(!is_secret("jabber:iq:auth", "username"));
/// assert!(!is_secret("urn:ietf:params:xml:ns:xmpp-sasl", "mechanism"));
/// ```
pub fn is_secret(ns: &str, name: &str) -> bool {
    match ns {
        ns::IQ_AUTH => matches!(name, "password" | "digest"),
        ns::IQ_REGISTER => name == "password",
        // A room's password: in the join presence, and in a mediated invitation.
        ns::MUC | ns::MUC_USER => name == "password",
        // Secret unless known to carry none: a SASL element added later (a new mechanism's
        // data) is masked without anyone having to remember it. `auth`, `response`,
        // `challenge` and `success` carry credentials or proofs of them.
        ns::SASL => !matches!(
            name,
            "mechanisms" | "mechanism" | "failure" | "text" | "abort"
        ),
        _ => false,
    }
}

/// Whether the attribute `attr` of the element `name` in namespace `ns` carries a
/// secret, so the console writes [`MASK`] for its value: the room password of a direct
/// invitation (XEP-0249), the one secret sent as an attribute.
///
/// ```
/// use jabber_proto::console::is_secret_attr;
/// assert!(is_secret_attr("jabber:x:conference", "x", "password"));
/// assert!(!is_secret_attr("jabber:x:conference", "x", "jid"));
/// ```
pub fn is_secret_attr(ns: &str, name: &str, attr: &str) -> bool {
    ns == ns::X_CONFERENCE && name == "x" && attr == "password"
}

/// Whether `el` is a request header of an HTTP upload slot (XEP-0363 §5) that carries a
/// credential for the PUT (`Authorization` or `Cookie`, names case-insensitive), so the
/// console writes [`MASK`] for its content; other headers (`Expires`) are kept. Secret
/// by an attribute, so the serialiser asks this of the element itself.
///
/// ```
/// use jabber_proto::console::is_secret_header;
/// use jabber_proto::xml::Element;
/// let header = |name: &str| {
///     Element::builder("header", "urn:xmpp:http:upload:0").attr("name", name).build().unwrap()
/// };
/// assert!(is_secret_header(header("Authorization").root()));
/// assert!(is_secret_header(header("cookie").root()));
/// assert!(!is_secret_header(header("Expires").root()));
/// ```
pub fn is_secret_header(el: crate::xml::ElementRef<'_>) -> bool {
    el.is("header", ns::HTTP_UPLOAD)
        && el.attr("name").is_some_and(|n| {
            n.eq_ignore_ascii_case("authorization") || n.eq_ignore_ascii_case("cookie")
        })
}

/// Whether the `<value>`s of `field` are secrets, so the console writes [`MASK`] for
/// their content: a data-form field (XEP-0004) of type `text-private`, or one named
/// `password` — a submission may leave `type` out (XEP-0004 §3.2), and `password` is
/// the registration form's password (XEP-0077 §6). The field itself, its label and
/// options are kept. The one rule for secrets that depends on a parent: a `<value>` is
/// secret or not by the field it is in, so the serialiser asks this of every element
/// whose children it writes.
///
/// ```
/// use jabber_proto::console::is_secret_value;
/// use jabber_proto::xml::Element;
/// let field = |ty: &str, var: &str| {
///     Element::builder("field", "jabber:x:data").attr("type", ty).attr("var", var).build().unwrap()
/// };
/// assert!(is_secret_value(field("text-private", "pin").root()));
/// assert!(is_secret_value(field("text-single", "password").root()));
/// assert!(!is_secret_value(field("text-single", "username").root()));
/// ```
pub fn is_secret_value(field: crate::xml::ElementRef<'_>) -> bool {
    field.is("field", ns::DATA_FORMS)
        && (field.attr("type") == Some("text-private") || field.attr("var") == Some("password"))
}

/// Which way an item travelled.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Direction {
    /// Received from the server.
    In,
    /// Sent (queued for the transport) by the client.
    Out,
}

impl Direction {
    /// `"in"` or `"out"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::In => "in",
            Direction::Out => "out",
        }
    }
}

/// One item of traffic as the console shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ConsoleEntry {
    /// Received or sent.
    pub direction: Direction,
    /// The `now` of the input or command that received or sent it.
    pub time: Instant,
    /// The item as XML, secrets masked (see the [module](self) docs). A stream header is
    /// its start tag (after the XML declaration, for ours), the close is
    /// `</stream:stream>`, a whitespace keepalive is `" "`.
    pub xml: String,
}

/// The entries waiting for the application, within the configured bound.
#[derive(Debug, Default)]
pub(crate) struct Console {
    entries: VecDeque<ConsoleEntry>,
    bytes: usize,
    dropped: u64,
    /// How many of the latest pushes were kept in a row (they are the newest entries).
    kept_tail: usize,
}

impl Console {
    /// Queues `entry`, dropping the oldest to stay within `max_bytes`.
    pub(crate) fn push(&mut self, entry: ConsoleEntry, max_bytes: usize) {
        if entry.xml.len() > max_bytes {
            self.dropped += 1;
            self.kept_tail = 0;
            return;
        }
        self.kept_tail += 1;
        while self.bytes + entry.xml.len() > max_bytes {
            let Some(old) = self.entries.pop_front() else {
                break;
            };
            self.bytes -= old.xml.len();
            self.dropped += 1;
        }
        self.bytes += entry.xml.len();
        self.entries.push_back(entry);
    }

    /// Takes back the newest entry: what it showed was refused before it was sent.
    pub(crate) fn retract_last(&mut self) {
        // Only an entry among the latest pushes that were kept; one dropped for its
        // size is not there to take back (its drop stays counted).
        if self.kept_tail == 0 {
            return;
        }
        self.kept_tail -= 1;
        if let Some(e) = self.entries.pop_back() {
            self.bytes -= e.xml.len();
        }
    }

    pub(crate) fn pop(&mut self) -> Option<ConsoleEntry> {
        let e = self.entries.pop_front()?;
        self.bytes -= e.xml.len();
        Some(e)
    }

    pub(crate) fn dropped(&self) -> u64 {
        self.dropped
    }
}
