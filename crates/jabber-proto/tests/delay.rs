//! Timestamps and delay stamps: both wire forms into one UTC value, and back.

use jabber_proto::jid::Jid;
use jabber_proto::stanza::{Delay, DelayForm, Stanza};
use jabber_proto::stream::{Item, StreamParser};
use jabber_proto::time::{DateTime, Timestamp};
use jabber_proto::xml::Element;
use proptest::prelude::*;

/// One stanza, parsed as the client parses what the server sends.
fn parse(xml: &str) -> Stanza {
    let mut p = StreamParser::new(Default::default());
    p.push(
        b"<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>",
    );
    p.push(xml.as_bytes());
    assert!(matches!(p.next_item(), Some(Ok(Item::Header(_)))));
    match p.next_item() {
        Some(Ok(Item::Element(e))) => Stanza::try_from(e).expect("a valid stanza"),
        other => panic!("no element: {other:?}"),
    }
}

fn ts(s: &str) -> Timestamp {
    Timestamp::parse(s).unwrap_or_else(|| panic!("{s} parses"))
}

#[test]
fn xep0082_examples() {
    // XEP-0082 §3.2: the same instant with and without an offset.
    assert_eq!(ts("1969-07-21T02:56:15Z"), ts("1969-07-20T21:56:15-05:00"));
    assert_eq!(ts("1969-07-21T02:56:15Z").unix_millis(), -14_159_025_000);
    assert_eq!(ts("1970-01-01T00:00:00Z").unix_millis(), 0);
    assert_eq!(
        ts("2000-02-29T12:00:00.5+01:30").to_string(),
        "2000-02-29T10:30:00.500Z"
    );
    // Fractions beyond milliseconds are truncated, not rounded.
    assert_eq!(ts("2002-09-10T23:08:25.123999Z").parts().millis, 123);
    assert_eq!(
        Timestamp::parse_legacy("20020910T23:08:25"),
        Some(ts("2002-09-10T23:08:25Z"))
    );
    assert_eq!(ts("0000-01-01T00:00:00Z"), Timestamp::MIN);
    assert_eq!(ts("9999-12-31T23:59:59.999Z"), Timestamp::MAX);
}

#[test]
fn invalid_stamps_are_none() {
    for bad in [
        "",
        "2002-09-10",
        "2002-09-10T23:08:25",       // no zone
        "2002-09-10 23:08:25Z",      // no T
        "2002-09-10t23:08:25Z",      // lower-case t
        "2002-13-10T23:08:25Z",      // month 13
        "2001-02-29T00:00:00Z",      // not a leap year
        "1900-02-29T00:00:00Z",      // not a leap year either
        "2002-09-31T00:00:00Z",      // September has 30 days
        "2002-09-10T24:00:00Z",      // hour 24
        "2002-09-10T23:60:00Z",      // minute 60
        "2002-09-10T23:08:60Z",      // second 60
        "2002-09-10T23:08:25.Z",     // empty fraction
        "2002-09-10T23:08:25+0100",  // offset without colon
        "2002-09-10T23:08:25+24:00", // offset hour 24
        "2002-09-10T23:08:25Z ",     // trailing space
        "+2002-09-10T23:08:25Z",
        "0000-01-01T00:00:00+00:01", // before year 0 once the offset is applied
        "9999-12-31T23:59:59-00:01", // after year 9999
        "２００２-09-10T23:08:25Z",  // non-ASCII digits
    ] {
        assert_eq!(Timestamp::parse(bad), None, "{bad:?}");
    }
    for bad in [
        "2002091T23:08:25",
        "20020910T23:08:25Z",
        "2002-09-10T23:08:25Z",
        "20020230T00:00:00",
        "20020910 23:08:25",
    ] {
        assert_eq!(Timestamp::parse_legacy(bad), None, "{bad:?}");
    }
}

#[test]
fn delay_elements_byte_exact_both_forms() {
    let d = Delay::new(ts("2002-09-10T23:08:25.250Z"))
        .with_from(&Jid::parse("capulet.com").expect("a valid test value"))
        .with_reason("Offline Storage");
    assert_eq!(
        d.to_element(DelayForm::Modern)
            .expect("a valid test value")
            .to_string(),
        "<delay xmlns='urn:xmpp:delay' from='capulet.com' stamp='2002-09-10T23:08:25.250Z'>Offline Storage</delay>"
    );
    assert_eq!(
        d.to_element(DelayForm::Legacy)
            .expect("a valid test value")
            .to_string(),
        "<x xmlns='jabber:x:delay' from='capulet.com' stamp='20020910T23:08:25'>Offline Storage</x>"
    );
    let bare = Delay::new(ts("2002-09-10T23:08:25Z"));
    assert_eq!(
        bare.to_element(DelayForm::Modern)
            .expect("a valid test value")
            .to_string(),
        "<delay xmlns='urn:xmpp:delay' stamp='2002-09-10T23:08:25Z'/>"
    );
}

#[test]
fn message_and_presence_prefer_urn_xmpp_delay() {
    let Stanza::Message(m) = parse(
        "<message from='romeo@montague.net/orchard' to='juliet@capulet.com'>\
         <body>O blessed, blessed night!</body>\
         <x xmlns='jabber:x:delay' stamp='20020910T23:08:25'/>\
         <delay xmlns='urn:xmpp:delay' from='capulet.com' stamp='2002-09-10T23:08:25.5Z'>Offline Storage</delay>\
         </message>",
    ) else {
        panic!("a message")
    };
    let d = m.delay().expect("a delay");
    assert_eq!(d.form, DelayForm::Modern);
    assert_eq!(d.stamp, ts("2002-09-10T23:08:25.500Z"));
    assert_eq!(
        d.from,
        Some(Jid::parse("capulet.com").expect("a valid test value"))
    );
    assert_eq!(d.reason.as_deref(), Some("Offline Storage"));

    // An unreadable modern stamp falls back to the legacy one.
    let Stanza::Presence(p) = parse(
        "<presence from='romeo@montague.net/orchard'>\
         <delay xmlns='urn:xmpp:delay' stamp='yesterday'/>\
         <x xmlns='jabber:x:delay' from='@bad' stamp='20020910T23:08:25'/>\
         <x xmlns='jabber:x:signed'>iQEVAwUBOz</x></presence>",
    ) else {
        panic!("a presence")
    };
    let d = p.delay().expect("the legacy delay");
    assert_eq!((d.form, d.from, d.reason), (DelayForm::Legacy, None, None));
    assert_eq!(d.stamp, ts("2002-09-10T23:08:25Z"));
    assert_eq!(
        p.signed().expect("a valid test value").payload,
        "iQEVAwUBOz"
    );

    let Stanza::Presence(p) = parse("<presence><x xmlns='jabber:x:delay' stamp='x'/></presence>")
    else {
        panic!("a presence")
    };
    assert_eq!(p.delay(), None);
}

fn arb_timestamp() -> impl Strategy<Value = Timestamp> {
    (Timestamp::MIN.unix_millis()..=Timestamp::MAX.unix_millis())
        .prop_map(|ms| Timestamp::from_unix_millis(ms).expect("a valid test value"))
}

proptest! {
    #[test]
    fn xep0082_round_trip(t in arb_timestamp()) {
        prop_assert_eq!(Timestamp::parse(&t.to_xep0082()), Some(t));
        prop_assert_eq!(Timestamp::from_parts(t.parts()), Some(t));
    }

    #[test]
    fn legacy_round_trip_to_the_second(t in arb_timestamp()) {
        let secs = Timestamp::from_unix_millis(t.unix_millis().div_euclid(1000) * 1000).expect("a valid test value");
        prop_assert_eq!(Timestamp::parse_legacy(&t.to_legacy()), Some(secs));
    }

    /// A local time with an offset names the UTC instant the offset says.
    #[test]
    fn offsets_and_fractions(
        t in (Timestamp::MIN.unix_millis() + 86_400_000..Timestamp::MAX.unix_millis() - 86_400_000)
            .prop_map(|ms| Timestamp::from_unix_millis(ms).expect("a valid test value")),
        east in any::<bool>(),
        h in 0u8..24,
        m in 0u8..60,
        extra in proptest::collection::vec(0u8..10, 0..6),
    ) {
        let offset_ms = (i64::from(h) * 60 + i64::from(m)) * 60_000 * if east { 1 } else { -1 };
        let local = Timestamp::from_unix_millis(t.unix_millis() + offset_ms).expect("a valid test value").parts();
        let extra: String = extra.iter().map(|d| char::from(b'0' + d)).collect();
        let s = format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}{extra}{}{h:02}:{m:02}",
            local.year, local.month, local.day, local.hour, local.minute, local.second,
            local.millis, if east { '+' } else { '-' },
        );
        prop_assert_eq!(Timestamp::parse(&s), Some(t), "{}", s);
    }

    #[test]
    fn any_text_parses_or_is_none(s in "\\PC{0,40}") {
        let _ = Timestamp::parse(&s);
        let _ = Timestamp::parse_legacy(&s);
    }

    #[test]
    fn near_misses_do_not_panic(s in "[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]{0,4})?(Z|[+-][0-9]{2}:[0-9]{2})") {
        if let Some(t) = Timestamp::parse(&s) {
            let p: DateTime = t.parts();
            prop_assert!(p.month >= 1 && p.month <= 12 && p.day >= 1 && p.hour < 24);
        }
    }

    #[test]
    fn delay_round_trips(t in arb_timestamp(), reason in proptest::option::of("[a-zA-Z ]{1,20}"), legacy in any::<bool>()) {
        let mut d = Delay::new(t).with_from(&Jid::parse("example.com").expect("a valid test value"));
        d.reason = reason;
        let form = if legacy { DelayForm::Legacy } else { DelayForm::Modern };
        let el: Element = d.to_element(form).expect("a valid test value");
        let back = Delay::from_element(el.root()).expect("a valid test value");
        let mut want = d.clone();
        want.form = form;
        if legacy {
            want.stamp = Timestamp::from_unix_millis(t.unix_millis().div_euclid(1000) * 1000).expect("a valid test value");
        }
        prop_assert_eq!(back, want);
    }
}

#[test]
fn presence_carries_a_signature_and_a_stamp_we_add() {
    use jabber_proto::stanza::Presence;
    use jabber_proto::stanza::ext::Signed;
    let to = Jid::parse("romeo@montague.net").expect("a JID");
    let p = Presence::available()
        .to(&to)
        .id("p1")
        .status("here")
        .build()
        .expect("a presence")
        .with_extension(&Signed {
            payload: "iQEVAwUBOz".into(),
        })
        .expect("signed")
        .with_extension(&Delay {
            form: DelayForm::Legacy,
            ..Delay::new(ts("2002-09-10T23:08:25Z"))
        })
        .expect("stamped");
    let wire = p.element().to_string();
    assert_eq!(
        wire,
        "<presence xmlns='jabber:client' to='romeo@montague.net' id='p1'><status>here</status>\
         <x xmlns='jabber:x:signed'>iQEVAwUBOz</x><x xmlns='jabber:x:delay' stamp='20020910T23:08:25'/></presence>"
    );
    let Stanza::Presence(back) = parse(&wire) else {
        panic!("a presence")
    };
    assert_eq!(back, p);
    assert_eq!(
        back.signed().map(|s| s.payload).as_deref(),
        Some("iQEVAwUBOz")
    );
    assert_eq!(
        back.delay().map(|d| d.stamp),
        Some(ts("2002-09-10T23:08:25Z"))
    );
    assert_eq!(back.status().as_deref(), Some("here"));
}
