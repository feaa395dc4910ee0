//! What the client tells others about itself when asked: its software version
//! (`jabber:iq:version`, XEP-0092), its time (`jabber:iq:time`, XEP-0090, and
//! `urn:xmpp:time`, XEP-0202) and how long it has been idle (`jabber:iq:last`,
//! XEP-0012).
//!
//! [`Config::disclosure`](crate::client::Config::disclosure) decides what is answered;
//! anything not disclosed gets `service-unavailable`, as if the client did not know the
//! namespace. The core has no wall clock: the time is answered only once the application
//! gave one with [`Client::set_utc`](crate::client::Client::set_utc). Idle time needs no
//! wall clock: it is measured on the caller's [`Instant`]s from our last activity (the
//! login, or the last stanza the application sent with
//! [`Client::send`](crate::client::Client::send) — a message, a presence; IQs and the
//! client's own traffic are not the user's doing).

use alloc::boxed::Box;
use alloc::format;
use alloc::string::String;

use crate::client::Cx;
use crate::ns;
use crate::stanza::{Iq, IqType};
use crate::time::Instant;
use crate::time::{Timestamp, TzOffset, local_display};
use crate::xml::{BuildError, Element};

/// What the client discloses when asked. Everything is off by default.
///
/// ```
/// use jabber_proto::features::disclosure::{Disclosure, SoftwareVersion, TimeZone};
/// use jabber_proto::time::TzOffset;
/// let mut d = Disclosure::default();
/// d.software = Some(SoftwareVersion::new("jabber", "0.1.0").with_os("Linux"));
/// d.time = Some(TimeZone::new(TzOffset::from_minutes(60).unwrap()).with_name("CET"));
/// d.last_activity = true;
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Disclosure {
    /// Answer `jabber:iq:version` with this.
    pub software: Option<SoftwareVersion>,
    /// Answer `jabber:iq:time` and `urn:xmpp:time` in this zone (once a wall clock is
    /// set).
    pub time: Option<TimeZone>,
    /// Answer `jabber:iq:last` with the seconds since our last activity: the login, or
    /// the last stanza sent with [`Client::send`](crate::client::Client::send).
    pub last_activity: bool,
}

/// Our software, as `jabber:iq:version` tells it.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct SoftwareVersion {
    /// The software's name.
    pub name: String,
    /// Its version.
    pub version: String,
    /// The operating system, if it is to be told.
    pub os: Option<String>,
}

impl SoftwareVersion {
    /// `name` at `version`, the operating system not told.
    pub fn new(name: &str, version: &str) -> SoftwareVersion {
        SoftwareVersion {
            name: String::from(name),
            version: String::from(version),
            os: None,
        }
    }

    /// Telling the operating system too.
    #[must_use]
    pub fn with_os(mut self, os: &str) -> SoftwareVersion {
        self.os = Some(String::from(os));
        self
    }
}

/// Our time zone, as the time answers tell it.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct TimeZone {
    /// The offset from UTC.
    pub offset: TzOffset,
    /// Its name for the legacy answer's `tz` (`CET`, `MDT`, ...), if it is to be told.
    pub name: Option<String>,
}

impl TimeZone {
    /// The zone at `offset`, unnamed.
    pub fn new(offset: TzOffset) -> TimeZone {
        TimeZone { offset, name: None }
    }

    /// With a name for the legacy answer.
    #[must_use]
    pub fn with_name(mut self, name: &str) -> TimeZone {
        self.name = Some(String::from(name));
        self
    }
}

/// The answer to `jabber:iq:version`.
///
/// ```
/// use jabber_proto::features::disclosure::{SoftwareVersion, version_answer};
/// let v = SoftwareVersion::new("jabber", "0.1.0").with_os("Linux");
/// assert_eq!(
///     version_answer(&v).unwrap().to_string(),
///     "<query xmlns='jabber:iq:version'><name>jabber</name><version>0.1.0</version>\
///      <os>Linux</os></query>"
/// );
/// ```
pub fn version_answer(software: &SoftwareVersion) -> Result<Element, BuildError> {
    let field = |name: &str, text: &str| Element::builder(name, ns::IQ_VERSION).text(text);
    let mut b = Element::builder("query", ns::IQ_VERSION)
        .child(field("name", &software.name))
        .child(field("version", &software.version));
    if let Some(os) = &software.os {
        b = b.child(field("os", os));
    }
    b.build()
}

/// The legacy time answer (`jabber:iq:time`): `utc` as `CCYYMMDDThh:mm:ss`, the zone's
/// name as `tz` (if told), and the local time for display.
///
/// ```
/// use jabber_proto::features::disclosure::{TimeZone, legacy_time_answer};
/// use jabber_proto::time::{Timestamp, TzOffset};
/// let utc = Timestamp::parse("2002-09-10T18:58:35Z").unwrap();
/// let zone = TimeZone::new(TzOffset::from_minutes(-360).unwrap()).with_name("MDT");
/// assert_eq!(
///     legacy_time_answer(utc, &zone).unwrap().to_string(),
///     "<query xmlns='jabber:iq:time'><utc>20020910T18:58:35</utc><tz>MDT</tz>\
///      <display>Tue Sep 10 12:58:35 2002</display></query>"
/// );
/// ```
pub fn legacy_time_answer(utc: Timestamp, zone: &TimeZone) -> Result<Element, BuildError> {
    let field = |name: &str, text: &str| Element::builder(name, ns::IQ_TIME).text(text);
    let mut b = Element::builder("query", ns::IQ_TIME).child(field("utc", &utc.to_legacy()));
    if let Some(name) = &zone.name {
        b = b.child(field("tz", name));
    }
    b.child(field("display", &local_display(utc, zone.offset)))
        .build()
}

/// The time answer (`urn:xmpp:time`, XEP-0202): the zone's offset and the time in UTC.
///
/// ```
/// use jabber_proto::features::disclosure::{TimeZone, time_answer};
/// use jabber_proto::time::{Timestamp, TzOffset};
/// let utc = Timestamp::parse("2006-12-19T17:58:35Z").unwrap();
/// let zone = TimeZone::new(TzOffset::from_minutes(-360).unwrap());
/// assert_eq!(
///     time_answer(utc, &zone).unwrap().to_string(),
///     "<time xmlns='urn:xmpp:time'><tzo>-06:00</tzo><utc>2006-12-19T17:58:35Z</utc></time>"
/// );
/// ```
pub fn time_answer(utc: Timestamp, zone: &TimeZone) -> Result<Element, BuildError> {
    let field = |name: &str, text: &str| Element::builder(name, ns::TIME).text(text);
    Element::builder("time", ns::TIME)
        .child(field("tzo", &format!("{}", zone.offset)))
        .child(field("utc", &utc.to_xep0082()))
        .build()
}

/// The last-activity answer (`jabber:iq:last`): `<query seconds='N'/>`.
pub fn last_answer(seconds: u64) -> Result<Element, BuildError> {
    Element::builder("query", ns::IQ_LAST)
        .attr("seconds", &format!("{seconds}"))
        .build()
}

/// The responders' state, boxed: a client that discloses nothing (most) pays one word
/// for it. The wall clock is the one the application gives
/// [`Client::set_utc`](crate::client::Client::set_utc).
#[derive(Debug)]
pub(crate) struct Responders(Option<Box<State>>);

#[derive(Debug)]
struct State {
    /// Our last activity; kept only when something is disclosed (the config cannot
    /// change after the client is made).
    last_activity: Instant,
}

impl Responders {
    pub(crate) fn new(now: Instant, disclosing: bool) -> Responders {
        Responders(disclosing.then(|| Box::new(State { last_activity: now })))
    }

    /// The user did something (logged in, sent a stanza).
    pub(crate) fn on_activity(&mut self, now: Instant) {
        if let Some(s) = &mut self.0 {
            s.last_activity = s.last_activity.max(now);
        }
    }

    fn last_activity(&self) -> Option<Instant> {
        self.0.as_ref().map(|s| s.last_activity)
    }

    /// An IQ get this module answers, if disclosed: answered, and true. False otherwise
    /// (the client then answers `service-unavailable`). `utc`: the wall clock now, if
    /// the application gave one (the time answers need it).
    pub(crate) fn on_request(&mut self, cx: &mut Cx, iq: &Iq, utc: Option<Timestamp>) -> bool {
        let Some(payload) = iq.payload() else {
            return false;
        };
        if iq.kind() != IqType::Get {
            return false;
        }
        let Some(disclosure) = cx.config.disclosure.as_deref() else {
            return false;
        };
        let now = cx.now;
        let answer = match (payload.name(), payload.ns()) {
            ("query", ns::IQ_VERSION) => disclosure.software.as_ref().map(version_answer),
            ("query", ns::IQ_TIME) => match (&disclosure.time, utc) {
                (Some(zone), Some(utc)) => Some(legacy_time_answer(utc, zone)),
                _ => None,
            },
            ("time", ns::TIME) => match (&disclosure.time, utc) {
                (Some(zone), Some(utc)) => Some(time_answer(utc, zone)),
                _ => None,
            },
            ("query", ns::IQ_LAST) if disclosure.last_activity => self
                .last_activity()
                .map(|last| last_answer((now - last).as_secs())),
            _ => None,
        };
        // A configured value XML cannot carry answers nothing, as if not disclosed.
        let Some(Ok(answer)) = answer else {
            return false;
        };
        let _ = cx.reply(iq.element(), Ok(Some(answer)));
        true
    }
}
