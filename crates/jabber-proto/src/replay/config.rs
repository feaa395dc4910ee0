//! The config a capture starts with, read back from its `<config/>` record.

use alloc::boxed::Box;
use alloc::string::String;
use core::num::NonZeroU64;
use core::str::FromStr;
use core::time::Duration;

use crate::client::{CAPTURE_NS, Config};
use crate::features::disclosure::{Disclosure, SoftwareVersion, TimeZone};
use crate::utc::TzOffset;
use crate::xml::{Element, ElementRef};

/// The config `el` describes, every field as captured; `None` when a field is missing
/// or unreadable.
pub(crate) fn config(el: &Element) -> Option<Config> {
    if !el.is("config", CAPTURE_NS) {
        return None;
    }
    let num = |name: &str| -> Option<u64> { u64::from_str(el.attr(name)?).ok() };
    let flag = |name: &str| -> Option<bool> {
        match el.attr(name)? {
            "true" => Some(true),
            "false" => Some(false),
            _ => None,
        }
    };
    let opt_ms = |name: &str| -> Option<Option<Duration>> {
        match el.attr(name) {
            None => Some(None),
            Some(v) => Some(Some(Duration::from_millis(u64::from_str(v).ok()?))),
        }
    };
    let mut config = Config::new(el.attr("domain")?, NonZeroU64::new(num("seed")?)?);
    config.iq_timeout = Duration::from_millis(num("iq-timeout-ms")?);
    config.close_timeout = Duration::from_millis(num("close-timeout-ms")?);
    config.send_declaration = flag("send-declaration")?;
    config.version = el.attr("version").map(String::from);
    config.lang = el.attr("lang").map(String::from);
    config.name = el.attr("name").map(String::from);
    config.iq_namespaces = el
        .children()
        .filter(|c| c.is("iq-namespace", CAPTURE_NS))
        .map(|c| c.text().into_owned())
        .collect();
    config.transport_encrypted = flag("transport-encrypted")?;
    config.allow_plaintext = flag("allow-plaintext")?;
    config.use_digest = flag("use-digest")?;
    config.fetch_roster = flag("fetch-roster")?;
    config.initial_presence = flag("initial-presence")?;
    config.keepalive_interval = opt_ms("keepalive-interval-ms")?;
    config.dead_peer_timeout = opt_ms("dead-peer-timeout-ms")?;
    config.max_unsent_bytes = usize::try_from(num("max-unsent-bytes")?).ok()?;
    config.max_events = usize::try_from(num("max-events")?).ok()?;
    config.console = flag("console")?;
    config.console_max_bytes = usize::try_from(num("console-max-bytes")?).ok()?;
    config.capture = flag("capture")?;
    config.capture_max_bytes = usize::try_from(num("capture-max-bytes")?).ok()?;
    config.limits.max_stanza_bytes = usize::try_from(num("max-stanza-bytes")?).ok()?;
    config.limits.max_depth = u32::try_from(num("max-depth")?).ok()?;
    config.limits.max_attributes = u32::try_from(num("max-attributes")?).ok()?;
    if let Some(d) = el.child("disclosure", CAPTURE_NS) {
        config.disclosure = Some(Box::new(disclosure(d)?));
    }
    Some(config)
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
