//! The client's side of a capture: every call that can change the connection, as a
//! record a replay can feed back (see [`replay`](crate::replay)).
//!
//! With [`Config::capture`] on, each input, each command and each output the application
//! takes is recorded in the order it happened, with its `now`: the bytes received as they
//! came, the commands as XML in [`CAPTURE_NS`] (secrets masked by the console's one
//! table, [`is_secret`](crate::console::is_secret)), what was sent as the console shows
//! it, and each event as the application polled it. The core is deterministic, so these
//! and the config (the first record) are all a replay needs.

use alloc::collections::VecDeque;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use super::{AutoAnswers, Config};
use crate::stream::Writer;
use crate::time::Instant;
use crate::xml::{Element, ElementBuilder};

/// The namespace of a capture's own elements: the config and the commands.
pub const CAPTURE_NS: &str = "urn:jabber-rs:capture:1";

/// What a [`CaptureRecord`] holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RecordKind {
    /// The connection's [`Config`] as a `<config/>` element (always the first record).
    Config,
    /// Bytes given to [`handle_input`](super::Client::handle_input), as they came.
    Input,
    /// [`handle_eof`](super::Client::handle_eof).
    Eof,
    /// [`handle_reset`](super::Client::handle_reset).
    Reset,
    /// [`handle_timeout`](super::Client::handle_timeout).
    Timeout,
    /// A command, as an element in [`CAPTURE_NS`] with secrets masked.
    Command,
    /// The input or command just recorded was refused: the error, as text.
    Refused,
    /// [`advance_transmit`](super::Client::advance_transmit): the count, in decimal,
    /// followed by ` all` when it emptied the buffer.
    Advance,
    /// [`take_transmit`](super::Client::take_transmit).
    Take,
    /// One event the application polled, in its `Debug` form.
    Event,
    /// One item the client sent, as the console shows it (secrets masked).
    Sent,
    /// Records were dropped here to stay within [`Config::capture_max_bytes`]: the
    /// capture cannot be replayed past this point.
    Gap,
}

impl RecordKind {
    /// The record's name in a capture file.
    pub fn as_str(self) -> &'static str {
        match self {
            RecordKind::Config => "config",
            RecordKind::Input => "in",
            RecordKind::Eof => "eof",
            RecordKind::Reset => "reset",
            RecordKind::Timeout => "timeout",
            RecordKind::Command => "command",
            RecordKind::Refused => "refused",
            RecordKind::Advance => "advance",
            RecordKind::Take => "take",
            RecordKind::Event => "event",
            RecordKind::Sent => "sent",
            RecordKind::Gap => "gap",
        }
    }

    /// The kind named `name` in a capture file.
    pub fn from_name(name: &str) -> Option<RecordKind> {
        const ALL: [RecordKind; 12] = [
            RecordKind::Config,
            RecordKind::Input,
            RecordKind::Eof,
            RecordKind::Reset,
            RecordKind::Timeout,
            RecordKind::Command,
            RecordKind::Refused,
            RecordKind::Advance,
            RecordKind::Take,
            RecordKind::Event,
            RecordKind::Sent,
            RecordKind::Gap,
        ];
        ALL.into_iter().find(|k| k.as_str() == name)
    }
}

/// One recorded call or output.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct CaptureRecord {
    /// What it is.
    pub kind: RecordKind,
    /// The `now` of the call (for calls without one, the client's latest time).
    pub time: Instant,
    /// Its data: the bytes received, the XML, the text (see [`RecordKind`]).
    pub data: Vec<u8>,
}

impl CaptureRecord {
    /// A record of `kind` at `time` holding `data`.
    pub fn new(kind: RecordKind, time: Instant, data: Vec<u8>) -> CaptureRecord {
        CaptureRecord { kind, time, data }
    }
}

/// The records waiting for the application, within [`Config::capture_max_bytes`].
///
/// Unlike the console, a capture keeps its beginning: a replay starts from the config
/// and cannot skip a record, so records that do not fit are dropped (and counted) and a
/// [`RecordKind::Gap`] marks where, once there is room again.
#[derive(Debug, Default)]
pub(crate) struct CaptureLog {
    records: VecDeque<CaptureRecord>,
    bytes: usize,
    dropped: u64,
    gap_owed: bool,
    /// How many of the latest records pushed were `Sent` ones, kept, in a row.
    sent_tail: usize,
}

impl CaptureLog {
    pub(crate) fn push(&mut self, record: CaptureRecord, max_bytes: usize) {
        let sent = record.kind == RecordKind::Sent;
        // The fixed cost of a record, so that empty ones are bounded too.
        let size = record.data.len() + 16;
        let gap = if self.gap_owed { 16 } else { 0 };
        if self.bytes + size + gap > max_bytes {
            self.dropped += 1;
            self.gap_owed = true;
            self.sent_tail = 0;
            return;
        }
        if self.gap_owed {
            self.gap_owed = false;
            self.bytes += gap;
            let at = record.time;
            self.records
                .push_back(CaptureRecord::new(RecordKind::Gap, at, Vec::new()));
        }
        self.bytes += size;
        self.sent_tail = if sent { self.sent_tail + 1 } else { 0 };
        self.records.push_back(record);
    }

    /// Takes back the newest record if it is a [`RecordKind::Sent`]: what it showed was
    /// refused before it was sent.
    pub(crate) fn retract_sent(&mut self) {
        // Only one of the latest `Sent` records pushed and kept in a row.
        if self.sent_tail == 0 {
            return;
        }
        self.sent_tail -= 1;
        if self
            .records
            .back()
            .is_some_and(|r| r.kind == RecordKind::Sent)
        {
            self.pop_back();
        }
    }

    fn pop_back(&mut self) {
        if let Some(r) = self.records.pop_back() {
            self.bytes -= Self::size(&r);
        }
    }

    fn size(r: &CaptureRecord) -> usize {
        if r.kind == RecordKind::Gap {
            16
        } else {
            r.data.len() + 16
        }
    }

    pub(crate) fn pop(&mut self) -> Option<CaptureRecord> {
        let r = self.records.pop_front()?;
        self.bytes -= Self::size(&r);
        Some(r)
    }

    pub(crate) fn dropped(&self) -> u64 {
        self.dropped
    }
}

/// Serialises a capture element (a command, the config) masked, on one line.
pub(crate) fn to_xml(element: &Element) -> Vec<u8> {
    let mut out = Vec::new();
    Writer::CONSOLE.element(&mut out, element.root());
    out
}

/// A command's element: `<name xmlns=CAPTURE_NS ...>`.
pub(crate) fn command(name: &str) -> ElementBuilder {
    Element::builder(name, CAPTURE_NS)
}

/// `builder` with `child` when it could be built (a command whose payload cannot be is
/// refused itself; its record then shows the command without it).
pub(crate) fn with_child(
    builder: ElementBuilder,
    child: Result<Element, crate::xml::BuildError>,
) -> ElementBuilder {
    match child {
        Ok(child) => builder.child(child),
        Err(_) => builder,
    }
}

/// The config as a `<config/>` element: every field, so a replay builds the same client.
/// `None` when a field holds what XML cannot carry (a control character in the domain):
/// the capture then starts with an empty config record, and a replay says so.
pub(crate) fn config_element(config: &Config) -> Option<Element> {
    // Destructured without `..`: a new field does not compile until it is captured here
    // (and read back in `replay::config`).
    let Config {
        domain,
        limits,
        seed,
        iq_timeout,
        close_timeout,
        send_declaration,
        version,
        lang,
        iq_namespaces,
        transport_encrypted,
        allow_plaintext,
        require_tls,
        use_digest,
        fetch_roster,
        initial_presence,
        keepalive_interval,
        max_unsent_bytes,
        dead_peer_timeout,
        max_events,
        console,
        console_max_bytes,
        name,
        capture,
        capture_max_bytes,
        max_contacts,
        max_resources,
        max_presence_bytes,
        max_pending_subscriptions,
        max_roster_items,
        roster_cache,
        auto_answers,
        disclosure,
        carbons,
        discovery,
        stream_management,
        sm_ack_every,
        sm_max_unacked,
        sm_ack_delay_ms,
        channel_binding,
        sasl_mechanisms,
        conference,
        framing,
        oob_offers,
    } = config;
    let crate::stream::Limits {
        max_stanza_bytes,
        max_depth,
        max_attributes,
    } = limits;
    let ms = |d: &core::time::Duration| format!("{}", d.as_millis());
    let mut b = Element::builder("config", CAPTURE_NS)
        .attr("domain", domain)
        .attr("seed", &format!("{seed}"))
        .attr("iq-timeout-ms", &ms(iq_timeout))
        .attr("close-timeout-ms", &ms(close_timeout))
        .attr("send-declaration", bool_str(*send_declaration))
        .attr("transport-encrypted", bool_str(*transport_encrypted))
        .attr("allow-plaintext", bool_str(*allow_plaintext))
        .attr("require-tls", bool_str(*require_tls))
        .attr("use-digest", bool_str(*use_digest))
        .attr("fetch-roster", bool_str(*fetch_roster))
        .attr("initial-presence", bool_str(*initial_presence))
        .attr("max-unsent-bytes", &format!("{max_unsent_bytes}"))
        .attr("max-events", &format!("{max_events}"))
        .attr("console", bool_str(*console))
        .attr("console-max-bytes", &format!("{console_max_bytes}"))
        .attr("capture", bool_str(*capture))
        .attr("capture-max-bytes", &format!("{capture_max_bytes}"))
        .attr("max-contacts", &format!("{max_contacts}"))
        .attr("max-resources", &format!("{max_resources}"))
        .attr("max-presence-bytes", &format!("{max_presence_bytes}"))
        .attr(
            "max-pending-subscriptions",
            &format!("{max_pending_subscriptions}"),
        )
        .attr("max-roster-items", &format!("{max_roster_items}"))
        .attr(
            "auto-receipts",
            bool_str(auto_answers.contains(AutoAnswers::RECEIPTS)),
        )
        .attr(
            "auto-message-events",
            bool_str(auto_answers.contains(AutoAnswers::MESSAGE_EVENTS)),
        )
        .attr("max-stanza-bytes", &format!("{max_stanza_bytes}"))
        .attr("max-depth", &format!("{max_depth}"))
        .attr("max-attributes", &format!("{max_attributes}"))
        .attr("carbons", bool_str(*carbons));
    let optional = [
        ("version", version.clone()),
        ("lang", lang.clone()),
        ("name", name.clone()),
        ("keepalive-interval-ms", keepalive_interval.as_ref().map(ms)),
        ("dead-peer-timeout-ms", dead_peer_timeout.as_ref().map(ms)),
    ];
    for (key, value) in optional {
        if let Some(value) = value {
            b = b.attr(key, &value);
        }
    }
    for ns in iq_namespaces {
        b = b.child(Element::builder("iq-namespace", CAPTURE_NS).text(ns));
    }
    if let Some(cache) = roster_cache {
        b = b.child(roster_element(cache));
    }
    if let Some(d) = disclosure {
        b = b.child(disclosure_element(d));
    }
    if let Some(d) = discovery {
        b = b.child(discovery_element(d));
    }
    b = b
        .attr("stream-management", bool_str(*stream_management))
        .attr("sm-ack-every", &format!("{sm_ack_every}"))
        .attr("sm-max-unacked", &format!("{sm_max_unacked}"))
        .attr("sm-ack-delay-ms", &format!("{sm_ack_delay_ms}"))
        .attr("channel-binding", channel_binding.as_str())
        .attr("sasl-mechanisms", &format!("{sasl_mechanisms}"));
    b = b.child(crate::features::conference::capture::config_element(
        conference,
    ));
    if *framing != crate::stream::Framing::Stream {
        b = b.attr("framing", framing.as_str());
    }
    if *oob_offers {
        b = b.attr("oob-offers", "true");
    }
    b.build().ok()
}

/// [`Config::disclosure`] as `<disclosure/>`, read back by `replay::config`.
fn disclosure_element(d: &crate::features::disclosure::Disclosure) -> ElementBuilder {
    let mut b =
        Element::builder("disclosure", CAPTURE_NS).attr("last-activity", bool_str(d.last_activity));
    if let Some(s) = &d.software {
        let mut el = Element::builder("software", CAPTURE_NS)
            .attr("name", &s.name)
            .attr("version", &s.version);
        if let Some(os) = &s.os {
            el = el.attr("os", os);
        }
        b = b.child(el);
    }
    if let Some(t) = &d.time {
        let mut el = Element::builder("time", CAPTURE_NS)
            .attr("offset-minutes", &format!("{}", t.offset.minutes()));
        if let Some(name) = &t.name {
            el = el.attr("name", name);
        }
        b = b.child(el);
    }
    b
}

/// [`Config::discovery`] as `<discovery/>`, read back by `replay::config`.
fn discovery_element(d: &crate::features::disco::Discovery) -> ElementBuilder {
    let i = &d.identity;
    let mut identity = Element::builder("identity", CAPTURE_NS)
        .attr("category", &i.category)
        .attr("type", &i.kind);
    if let Some(lang) = &i.lang {
        identity = identity.attr("lang", lang);
    }
    if let Some(name) = &i.name {
        identity = identity.attr("name", name);
    }
    let mut b = Element::builder("discovery", CAPTURE_NS)
        .attr("caps-node", &d.caps_node)
        .attr("advertise-caps", bool_str(d.advertise_caps))
        .attr("query-caps", bool_str(d.query_caps))
        .attr("max-caps", &format!("{}", d.max_caps))
        .child(identity);
    for feature in &d.features {
        b = b.child(Element::builder("feature", CAPTURE_NS).text(feature));
    }
    b
}

fn bool_str(b: bool) -> &'static str {
    if b { "true" } else { "false" }
}

/// Text of a refusal.
pub(crate) fn refusal(error: &impl core::fmt::Display) -> Vec<u8> {
    let s: String = format!("{error}");
    s.into_bytes()
}

/// A TLS command's element: the channel-binding types, never their data (it identifies
/// the TLS session; a replay has no TLS and gives zeros of the same length).
pub(crate) fn channel_binding(
    name: &str,
    bindings: &[crate::negotiation::sasl::ChannelBinding],
) -> ElementBuilder {
    let mut b = command(name);
    for binding in bindings {
        b = b.child(
            Element::builder("binding", CAPTURE_NS)
                .attr("kind", binding.kind.as_str())
                .attr("bytes", &format!("{}", binding.data.len())),
        );
    }
    b
}

/// A cached roster as `<roster-cache version='...'><query xmlns='jabber:iq:roster'>` with
/// every item as the server would send it.
fn roster_element(cache: &crate::features::roster::RosterCache) -> ElementBuilder {
    use crate::ns;
    let mut query = Element::builder("query", ns::IQ_ROSTER);
    for item in &cache.roster().items {
        let mut el = Element::builder("item", ns::IQ_ROSTER)
            .attr("jid", item.jid.as_str())
            .attr("subscription", item.subscription.as_str());
        if let Some(name) = &item.name {
            el = el.attr("name", name);
        }
        if item.pending_out {
            el = el.attr("ask", "subscribe");
        }
        for group in &item.groups {
            el = el.child(Element::builder("group", ns::IQ_ROSTER).text(group));
        }
        query = query.child(el);
    }
    Element::builder("roster-cache", CAPTURE_NS)
        .attr("version", cache.version())
        .child(query)
}
