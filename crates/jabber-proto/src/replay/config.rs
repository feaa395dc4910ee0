//! The config a capture starts with, read back from its `<config/>` record.

use alloc::boxed::Box;
use alloc::string::String;
use core::num::NonZeroU64;
use core::str::FromStr;
use core::time::Duration;

use crate::client::{AutoAnswers, CAPTURE_NS, Config};
use crate::features::disclosure::{Disclosure, SoftwareVersion, TimeZone};
use crate::features::roster::{Roster, RosterCache};
use crate::negotiation::channel_binding::ChannelBindingPolicy;
use crate::negotiation::sasl::MechanismSet;
use crate::time::TzOffset;
use crate::xml::{Element, ElementRef};

/// The config `el` describes; `None` when the domain or seed is missing or a field is
/// unreadable. A field the record lacks (a capture written before the field existed)
/// keeps its default.
pub(crate) fn config(el: &Element) -> Option<Config> {
    if !el.is("config", CAPTURE_NS) {
        return None;
    }
    let seed = u64::from_str(el.attr("seed")?).ok()?;
    let mut c = Config::new(el.attr("domain")?, NonZeroU64::new(seed)?);
    // Each reader leaves the default when the attribute is absent, and fails on a
    // value it cannot read.
    let num = |name: &str, into: &mut u64| -> Option<()> {
        if let Some(v) = el.attr(name) {
            *into = u64::from_str(v).ok()?;
        }
        Some(())
    };
    let flag = |name: &str, into: &mut bool| -> Option<()> {
        match el.attr(name) {
            None => {}
            Some("true") => *into = true,
            Some("false") => *into = false,
            Some(_) => return None,
        }
        Some(())
    };
    let ms = |name: &str, into: &mut Duration| -> Option<()> {
        let mut v = u64::try_from(into.as_millis()).ok()?;
        num(name, &mut v)?;
        *into = Duration::from_millis(v);
        Some(())
    };
    // Present: that duration; absent: off (the writer leaves out `None`).
    let opt_ms = |name: &str| -> Option<Option<Duration>> {
        match el.attr(name) {
            None => Some(None),
            Some(v) => Some(Some(Duration::from_millis(u64::from_str(v).ok()?))),
        }
    };
    let size = |name: &str, into: &mut usize| -> Option<()> {
        let mut v = u64::try_from(*into).ok()?;
        num(name, &mut v)?;
        *into = usize::try_from(v).ok()?;
        Some(())
    };
    let small = |name: &str, into: &mut u32| -> Option<()> {
        let mut v = u64::from(*into);
        num(name, &mut v)?;
        *into = u32::try_from(v).ok()?;
        Some(())
    };
    ms("iq-timeout-ms", &mut c.iq_timeout)?;
    ms("close-timeout-ms", &mut c.close_timeout)?;
    flag("send-declaration", &mut c.send_declaration)?;
    c.version = el.attr("version").map(String::from);
    c.lang = el.attr("lang").map(String::from);
    c.name = el.attr("name").map(String::from);
    c.iq_namespaces = el
        .children()
        .filter(|n| n.is("iq-namespace", CAPTURE_NS))
        .map(|n| n.text().into_owned())
        .collect();
    flag("transport-encrypted", &mut c.transport_encrypted)?;
    flag("allow-plaintext", &mut c.allow_plaintext)?;
    flag("require-tls", &mut c.require_tls)?;
    flag("use-digest", &mut c.use_digest)?;
    flag("fetch-roster", &mut c.fetch_roster)?;
    flag("initial-presence", &mut c.initial_presence)?;
    c.keepalive_interval = opt_ms("keepalive-interval-ms")?;
    c.dead_peer_timeout = opt_ms("dead-peer-timeout-ms")?;
    size("max-unsent-bytes", &mut c.max_unsent_bytes)?;
    size("max-events", &mut c.max_events)?;
    flag("console", &mut c.console)?;
    size("console-max-bytes", &mut c.console_max_bytes)?;
    flag("capture", &mut c.capture)?;
    size("capture-max-bytes", &mut c.capture_max_bytes)?;
    size("max-stanza-bytes", &mut c.limits.max_stanza_bytes)?;
    small("max-depth", &mut c.limits.max_depth)?;
    let mut n = u32::from(c.max_contacts);
    small("max-contacts", &mut n)?;
    c.max_contacts = u16::try_from(n).ok()?;
    let mut n = u32::from(c.max_resources);
    small("max-resources", &mut n)?;
    c.max_resources = u8::try_from(n).ok()?;
    size("max-presence-bytes", &mut c.max_presence_bytes)?;
    let mut n = u32::from(c.max_pending_subscriptions);
    small("max-pending-subscriptions", &mut n)?;
    c.max_pending_subscriptions = u16::try_from(n).ok()?;
    small("max-roster-items", &mut c.max_roster_items)?;
    let (mut receipts, mut events) = (false, false);
    flag("auto-receipts", &mut receipts)?;
    flag("auto-message-events", &mut events)?;
    c.auto_answers = match (receipts, events) {
        (false, false) => AutoAnswers::NONE,
        (true, false) => AutoAnswers::RECEIPTS,
        (false, true) => AutoAnswers::MESSAGE_EVENTS,
        (true, true) => AutoAnswers::ALL,
    };
    if let Some(cache) = el.child("roster-cache", CAPTURE_NS) {
        let roster = Roster::from_query(cache.child("query", crate::ns::IQ_ROSTER)?);
        c.roster_cache = Some(RosterCache::new(cache.attr("version")?, roster));
    }
    small("max-attributes", &mut c.limits.max_attributes)?;
    if let Some(d) = el.child("disclosure", CAPTURE_NS) {
        c.disclosure = Some(Box::new(disclosure(d)?));
    }
    flag("carbons", &mut c.carbons)?;
    if let Some(d) = el.child("discovery", CAPTURE_NS) {
        c.discovery = Some(Box::new(discovery(d)?));
    }
    // A capture from before stream management had none: absent means off.
    c.stream_management = false;
    flag("stream-management", &mut c.stream_management)?;
    let mut n = u32::from(c.sm_ack_every);
    small("sm-ack-every", &mut n)?;
    c.sm_ack_every = u16::try_from(n).ok()?;
    let mut n = u32::from(c.sm_max_unacked);
    small("sm-max-unacked", &mut n)?;
    c.sm_max_unacked = u16::try_from(n).ok()?;
    small("sm-ack-delay-ms", &mut c.sm_ack_delay_ms)?;
    if let Some(policy) = el.attr("channel-binding") {
        c.channel_binding = ChannelBindingPolicy::from_name(policy)?;
    }
    if let Some(names) = el.attr("sasl-mechanisms") {
        c.sasl_mechanisms = MechanismSet::from_str(names).ok()?;
    }
    if let Some(conf) = el.child("conference", CAPTURE_NS) {
        c.conference = crate::features::conference::capture::read_config(conf)?;
    }
    // Absent: a byte stream (captures from before WebSocket framing existed).
    if let Some(framing) = el.attr("framing") {
        c.framing = crate::stream::Framing::from_name(framing)?;
    }
    // Absent: off (captures from before the switch, whose offers were all events, are
    // replayed as answered; an application that answered them is rare in captures).
    flag("oob-offers", &mut c.oob_offers)?;
    Some(c)
}

/// [`Config::disclosure`] read back from its `<disclosure/>`.
fn disclosure(el: ElementRef<'_>) -> Option<Disclosure> {
    let mut d = Disclosure {
        last_activity: el.attr("last-activity")? == "true",
        ..Disclosure::default()
    };
    if let Some(s) = el.child("software", CAPTURE_NS) {
        let mut v = SoftwareVersion::new(s.attr("name")?, s.attr("version")?);
        v.os = s.attr("os").map(String::from);
        d.software = Some(v);
    }
    if let Some(t) = el.child("time", CAPTURE_NS) {
        let minutes = i16::from_str(t.attr("offset-minutes")?).ok()?;
        let mut zone = TimeZone::new(TzOffset::from_minutes(minutes)?);
        zone.name = t.attr("name").map(String::from);
        d.time = Some(zone);
    }
    Some(d)
}

/// [`Config::discovery`] read back from its `<discovery/>`.
fn discovery(el: ElementRef<'_>) -> Option<crate::features::disco::Discovery> {
    use crate::features::disco::{Discovery, Identity};
    let i = el.child("identity", CAPTURE_NS)?;
    let mut identity = Identity::new(i.attr("category")?, i.attr("type")?);
    identity.lang = i.attr("lang").map(String::from);
    identity.name = i.attr("name").map(String::from);
    Some(Discovery {
        identity,
        caps_node: String::from(el.attr("caps-node")?),
        advertise_caps: el.attr("advertise-caps")? == "true",
        query_caps: el.attr("query-caps")? == "true",
        max_caps: u16::from_str(el.attr("max-caps")?).ok()?,
        features: el
            .children()
            .filter(|f| f.is("feature", CAPTURE_NS))
            .map(|f| f.text().into_owned())
            .collect(),
    })
}
