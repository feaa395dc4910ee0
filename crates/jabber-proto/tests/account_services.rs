//! Account services on a scripted server: vCards, private storage and update queries
//! byte-exact, their answers as typed events, replies from the wrong address dropped and
//! reported, and the answers we give to version, time and last-activity queries as the
//! config discloses them, on the virtual clock.

mod support;

use std::num::NonZeroU64;
use std::time::Duration;

use jabber_proto::client::{Config, Error, Event, ServiceEvent, SessionState};
use jabber_proto::features::autoupdate::{UpdateChannel, UpdateInfo, UpdateRelease, notice};
use jabber_proto::features::disclosure::{Disclosure, SoftwareVersion, TimeZone};
use jabber_proto::features::vcard::{
    Address, Email, Organization, PersonName, Photo, Telephone, Vcard, VcardType,
};
use jabber_proto::jid::Jid;
use jabber_proto::stanza::{ErrorType, Stanza, StanzaCondition, StanzaError};
use jabber_proto::time::{Timestamp, TzOffset};
use jabber_proto::xml::Element;
use support::{Harness, SEED, wire_id};

fn config() -> Config {
    let mut c = Config::new(
        "example.com",
        NonZeroU64::new(SEED).expect("a non-zero seed"),
    );
    // A classic server is scripted: the classic stream, stated (1.0 is the default).
    c.version = None;
    c.fetch_roster = false;
    c.initial_presence = false;
    c.keepalive_interval = None;
    c.dead_peer_timeout = None;
    c
}

fn jid(s: &str) -> Jid {
    Jid::parse(s).expect("a valid JID")
}

fn el(name: &str, ns: &str) -> Element {
    Element::builder(name, ns).build().expect("a valid element")
}

fn services(h: &mut Harness) -> Vec<ServiceEvent> {
    h.events()
        .into_iter()
        .map(|e| match e {
            Event::Services(s) => s,
            other => panic!("unexpected event {other:?}"),
        })
        .collect()
}

/// A card using every typed field, and one field kept untyped.
fn full_card() -> Vcard {
    let mut card = Vcard::default();
    card.full_name = Some("Juliet Capulet".into());
    card.name = Some(PersonName {
        family: Some("Capulet".into()),
        given: Some("Juliet".into()),
        ..PersonName::default()
    });
    card.nickname = Some("Jul".into());
    card.photo = Some(Photo::Binary {
        mime_type: Some("image/png".into()),
        data: vec![0x89, b'P', b'N', b'G', 0, 0xff],
    });
    card.birthday = Some("1999-07-31".into());
    card.addresses.push(Address {
        types: vec![VcardType::Home],
        locality: Some("Verona".into()),
        country: Some("Italy".into()),
        ..Address::default()
    });
    card.telephones.push(Telephone {
        number: "+39 045 555".into(),
        types: vec![VcardType::Cell, VcardType::Voice],
    });
    card.emails.push(Email {
        address: "juliet@example.com".into(),
        types: vec![VcardType::Internet, VcardType::Pref],
    });
    card.organization = Some(Organization {
        name: "Capulet & Co".into(),
        units: vec!["Balcony".into()],
    });
    card.url = Some("http://example.com/~juliet".into());
    card.other.push(
        Element::builder("TITLE", "vcard-temp")
            .text("Heiress")
            .build()
            .expect("a valid field"),
    );
    card
}

const FULL_CARD_XML: &str = "<vCard xmlns='vcard-temp'><FN>Juliet Capulet</FN>\
    <N><FAMILY>Capulet</FAMILY><GIVEN>Juliet</GIVEN></N><NICKNAME>Jul</NICKNAME>\
    <PHOTO><TYPE>image/png</TYPE><BINVAL>iVBORwD/</BINVAL></PHOTO>\
    <BDAY>1999-07-31</BDAY>\
    <ADR><HOME/><LOCALITY>Verona</LOCALITY><CTRY>Italy</CTRY></ADR>\
    <TEL><CELL/><VOICE/><NUMBER>+39 045 555</NUMBER></TEL>\
    <EMAIL><INTERNET/><PREF/><USERID>juliet@example.com</USERID></EMAIL>\
    <ORG><ORGNAME>Capulet &amp; Co</ORGNAME><ORGUNIT>Balcony</ORGUNIT></ORG>\
    <URL>http://example.com/~juliet</URL><TITLE>Heiress</TITLE></vCard>";

#[test]
fn requests_are_byte_exact() {
    let mut h = Harness::logged_in(config());
    let now = h.now;
    h.client.vcard_get(now, None).expect("sent");
    h.client
        .vcard_get(now, Some(&jid("juliet@example.com/balcony")))
        .expect("sent");
    h.client.vcard_set(now, &full_card()).expect("sent");
    h.client
        .private_get(now, "prefs", "urn:example:prefs")
        .expect("sent");
    let prefs = Element::builder("prefs", "urn:example:prefs")
        .attr("block", "strangers")
        .child(Element::builder("item", "urn:example:prefs").text("mallory@example.com"))
        .build()
        .expect("a valid element");
    h.client.private_set(now, &prefs).expect("sent");
    h.client
        .check_update(now, &jid("959967024@update.example.com"))
        .expect("sent");
    let expected = [
        format!(
            "<iq type='get' id='{}'><vCard xmlns='vcard-temp'/></iq>",
            wire_id(3)
        ),
        // A contact's card is asked of its bare address.
        format!(
            "<iq type='get' id='{}' to='juliet@example.com'><vCard xmlns='vcard-temp'/></iq>",
            wire_id(4)
        ),
        format!("<iq type='set' id='{}'>{FULL_CARD_XML}</iq>", wire_id(5)),
        format!(
            "<iq type='get' id='{}'><query xmlns='jabber:iq:private'>\
             <prefs xmlns='urn:example:prefs'/></query></iq>",
            wire_id(6)
        ),
        format!(
            "<iq type='set' id='{}'><query xmlns='jabber:iq:private'>\
             <prefs xmlns='urn:example:prefs' block='strangers'>\
             <item>mallory@example.com</item></prefs></query></iq>",
            wire_id(7)
        ),
        format!(
            "<iq type='get' id='{}' to='959967024@update.example.com'>\
             <query xmlns='jabber:iq:autoupdate'/></iq>",
            wire_id(8)
        ),
    ];
    assert_eq!(h.sent(), expected.concat());
    assert_eq!(h.client.pending_iqs(), 0, "the client's own requests");
}

#[test]
fn commands_need_a_session_and_a_storable_namespace() {
    let mut h = Harness::open(config());
    let now = h.now;
    assert_eq!(h.client.vcard_get(now, None), Err(Error::WrongPhase));
    assert_eq!(
        h.client.private_get(now, "x", "urn:x"),
        Err(Error::WrongPhase)
    );
    let mut h = Harness::logged_in(config());
    let now = h.now;
    for ns in ["", "jabber:client", "jabber:server", "jabber:iq:private"] {
        assert_eq!(
            h.client.private_get(now, "x", ns),
            Err(Error::NotStorable),
            "{ns}"
        );
    }
    assert_eq!(
        h.client.private_set(now, &el("query", "jabber:iq:private")),
        Err(Error::NotStorable)
    );
    assert_eq!(h.sent(), "", "nothing sent");
    let mut bad = Vcard::default();
    bad.full_name = Some("nul \u{0} inside".into());
    assert!(matches!(
        h.client.vcard_set(now, &bad),
        Err(Error::Build(_))
    ));
    assert_eq!(h.sent(), "");
    h.client.close(now);
    assert_eq!(h.client.vcard_get(now, None), Err(Error::Closed));
}

#[test]
fn answers_become_typed_events() {
    let mut h = Harness::logged_in(config());
    let now = h.now;
    let own = h.client.vcard_get(now, None).expect("sent");
    let juliet = h
        .client
        .vcard_get(now, Some(&jid("juliet@example.com")))
        .expect("sent");
    let set = h.client.vcard_set(now, &full_card()).expect("sent");
    let get = h
        .client
        .private_get(now, "prefs", "urn:example:prefs")
        .expect("sent");
    let put = h
        .client
        .private_set(now, &el("prefs", "urn:example:prefs"))
        .expect("sent");
    let update = h
        .client
        .check_update(now, &jid("update.example.com"))
        .expect("sent");
    h.sent();
    // Our own card, from our bare JID as ejabberd answers; a contact's, with a photo
    // wrapped over lines as MIME encoders write it; the others as servers send them.
    h.server(&format!(
        "<iq type='result' id='{}' from='alice@example.com'><vCard xmlns='vcard-temp'/></iq>\
         <iq type='result' id='{}' from='juliet@example.com'>{}</iq>\
         <iq type='result' id='{}'/>\
         <iq type='result' id='{}' to='alice@example.com/desk'><query xmlns='jabber:iq:private'>\
         <prefs xmlns='urn:example:prefs'><block>all</block></prefs></query></iq>\
         <iq type='error' id='{}'><query xmlns='jabber:iq:private'/><error type='cancel'>\
         <not-acceptable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>\
         <iq type='result' id='{}' from='update.example.com'><query xmlns='jabber:iq:autoupdate'>\
         <release priority='optional'><ver>1.2</ver><desc>Fixes</desc><url>http://example.com/1.2</url></release>\
         <beta priority='optional'><ver>1.3b</ver><desc/><url/></beta><dev><desc>no version</desc></dev>\
         </query></iq>",
        wire_id(3),
        wire_id(4),
        FULL_CARD_XML.replace("iVBORwD/", "iVBO\n Rw\nD/"),
        wire_id(5),
        wire_id(6),
        wire_id(7),
        wire_id(8),
    ));
    let events = services(&mut h);
    let prefs = Element::builder("prefs", "urn:example:prefs")
        .child(Element::builder("block", "urn:example:prefs").text("all"))
        .build()
        .expect("a valid element");
    assert_eq!(
        events,
        [
            ServiceEvent::Vcard {
                id: own,
                vcard: Box::default(),
            },
            ServiceEvent::Vcard {
                id: juliet,
                vcard: Box::new(full_card()),
            },
            ServiceEvent::VcardSaved { id: set },
            ServiceEvent::PrivateData {
                id: get,
                data: Some(prefs),
            },
            ServiceEvent::Failed {
                id: put,
                error: Some(
                    StanzaError::new(StanzaCondition::NotAcceptable).with_type(ErrorType::Cancel)
                ),
            },
            ServiceEvent::Update {
                id: update,
                info: UpdateInfo {
                    releases: vec![
                        UpdateRelease {
                            channel: UpdateChannel::Release,
                            priority: Some("optional".into()),
                            version: "1.2".into(),
                            description: Some("Fixes".into()),
                            url: Some("http://example.com/1.2".into()),
                        },
                        UpdateRelease {
                            channel: UpdateChannel::Beta,
                            priority: Some("optional".into()),
                            version: "1.3b".into(),
                            description: None,
                            url: None,
                        },
                    ],
                },
            },
        ]
    );
    assert_eq!(h.sent(), "", "results are not answered");
}

#[test]
fn photos_read_whatever_base64_they_come_in() {
    let mut h = Harness::logged_in(config());
    let now = h.now;
    let photo = |binval: &str| {
        format!(
            "<vCard xmlns='vcard-temp'><PHOTO><TYPE>image/gif</TYPE><BINVAL>{binval}</BINVAL></PHOTO></vCard>"
        )
    };
    let mut ids = Vec::new();
    for binval in [
        "R0lGODlh",
        "R0lG\r\nODlhAQ==",
        "R0lGODlhAQ",
        "R0lGODlhAR",
        "not*base64",
    ] {
        let id = h.client.vcard_get(now, None).expect("sent");
        h.sent();
        h.server(&format!(
            "<iq type='result' id='{}'>{}</iq>",
            wire_id(id.get()),
            photo(binval)
        ));
        ids.push(id);
    }
    let photos: Vec<_> = services(&mut h)
        .into_iter()
        .map(|e| match e {
            ServiceEvent::Vcard { vcard, .. } => (vcard.photo.clone(), vcard.other.len()),
            other => panic!("{other:?}"),
        })
        .collect();
    let gif = |data: &[u8]| {
        Some(Photo::Binary {
            mime_type: Some("image/gif".into()),
            data: data.to_vec(),
        })
    };
    assert_eq!(
        photos,
        [
            (gif(b"GIF89a"), 0),
            (gif(b"GIF89a\x01"), 0),
            // Unpadded, and with stray low bits.
            (gif(b"GIF89a\x01"), 0),
            (gif(b"GIF89a\x01"), 0),
            // Not base64 at all: kept untyped.
            (None, 1),
        ]
    );
}

#[test]
fn unanswered_requests_time_out_as_failed() {
    let mut h = Harness::logged_in(config());
    let now = h.now;
    let id = h.client.vcard_get(now, None).expect("sent");
    h.sent();
    h.advance(Duration::from_secs(59));
    assert!(h.events().is_empty());
    h.advance(Duration::from_secs(1));
    assert_eq!(services(&mut h), [ServiceEvent::Failed { id, error: None }]);
}

/// A reply that names our request but comes from someone else is dropped and reported,
/// never delivered; the request still takes its real answer.
#[test]
fn replies_from_the_wrong_address_are_dropped_and_reported() {
    let mut h = Harness::logged_in(config());
    let now = h.now;
    let get = h
        .client
        .private_get(now, "prefs", "urn:example:prefs")
        .expect("sent");
    let card = h
        .client
        .vcard_get(now, Some(&jid("juliet@example.com")))
        .expect("sent");
    h.sent();
    let forged = "<query xmlns='jabber:iq:private'><prefs xmlns='urn:example:prefs'>\
                  <block>none</block></prefs></query>";
    h.server(&format!(
        // Another user, another resource's look-alike, another server, no `from` for a
        // contact's card, and a contact's card from someone else.
        "<iq type='result' id='{g}' from='mallory@example.com'>{forged}</iq>\
         <iq type='result' id='{g}' from='alice@example.net/desk'>{forged}</iq>\
         <iq type='result' id='{g}' from='evil.example.com'>{forged}</iq>\
         <iq type='result' id='{c}'><vCard xmlns='vcard-temp'><FN>Forged</FN></vCard></iq>\
         <iq type='result' id='{c}' from='mallory@example.com'><vCard xmlns='vcard-temp'/></iq>",
        g = wire_id(3),
        c = wire_id(4),
    ));
    assert_eq!(
        services(&mut h),
        [
            ServiceEvent::Spoofed {
                id: get,
                from: Some(jid("mallory@example.com")),
            },
            ServiceEvent::Spoofed {
                id: get,
                from: Some(jid("alice@example.net/desk")),
            },
            ServiceEvent::Spoofed {
                id: get,
                from: Some(jid("evil.example.com")),
            },
            ServiceEvent::Spoofed {
                id: card,
                from: None
            },
            ServiceEvent::Spoofed {
                id: card,
                from: Some(jid("mallory@example.com")),
            },
        ]
    );
    assert_eq!(h.sent(), "");
    // The real answers: our own full JID (prosody stamps it), the contact's bare JID.
    h.server(&format!(
        "<iq type='result' id='{}' from='alice@example.com/desk'>\
         <query xmlns='jabber:iq:private'><prefs xmlns='urn:example:prefs'/></query></iq>\
         <iq type='result' id='{}' from='juliet@example.com'><vCard xmlns='vcard-temp'>\
         <FN>Juliet</FN></vCard></iq>",
        wire_id(3),
        wire_id(4)
    ));
    let mut juliet = Vcard::default();
    juliet.full_name = Some("Juliet".into());
    assert_eq!(
        services(&mut h),
        [
            ServiceEvent::PrivateData {
                id: get,
                data: Some(el("prefs", "urn:example:prefs")),
            },
            ServiceEvent::Vcard {
                id: card,
                vcard: Box::new(juliet),
            },
        ]
    );
    // Replies to nothing we asked stay silent, as before.
    h.server("<iq type='result' id='nope' from='mallory@example.com'/>");
    assert!(h.events().is_empty());
}

fn disclosing() -> Config {
    let mut c = config();
    c.disclosure = Some(Box::new({
        let mut d = Disclosure::default();
        d.software = Some(SoftwareVersion::new("jabber", "0.1.0").with_os("Linux"));
        d.time =
            Some(TimeZone::new(TzOffset::from_minutes(-360).expect("an offset")).with_name("MDT"));
        d.last_activity = true;
        d
    }));
    c
}

const ASK: &str = "<iq type='get' id='v1' from='bob@example.com/x'><query xmlns='jabber:iq:version'/></iq>\
    <iq type='get' id='t1' from='bob@example.com/x'><query xmlns='jabber:iq:time'/></iq>\
    <iq type='get' id='t2' from='bob@example.com/x'><time xmlns='urn:xmpp:time'/></iq>\
    <iq type='get' id='l1' from='bob@example.com/x'><query xmlns='jabber:iq:last'/></iq>";

fn unavailable(id: &str) -> String {
    format!(
        "<iq type='error' id='{id}' to='bob@example.com/x'><error type='cancel'>\
         <service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>"
    )
}

#[test]
fn nothing_is_disclosed_by_default() {
    let mut h = Harness::logged_in(config());
    let now = h.now;
    h.client.set_utc(
        now,
        Timestamp::from_unix_millis(1_000_000_000_000).expect("a time"),
    );
    h.server(ASK);
    let expected: String = ["v1", "t1", "t2", "l1"]
        .iter()
        .map(|id| unavailable(id))
        .collect();
    assert_eq!(h.sent(), expected);
    assert!(h.events().is_empty());
}

#[test]
fn version_time_and_last_are_answered_as_disclosed() {
    let mut h = Harness::logged_in(disclosing());
    // No wall clock yet: the time is not known, so not answered.
    h.advance(Duration::from_secs(3));
    h.server(ASK);
    assert_eq!(
        h.sent(),
        [
            "<iq type='result' id='v1' to='bob@example.com/x'><query xmlns='jabber:iq:version'>\
             <name>jabber</name><version>0.1.0</version><os>Linux</os></query></iq>"
                .to_owned(),
            unavailable("t1"),
            unavailable("t2"),
            "<iq type='result' id='l1' to='bob@example.com/x'>\
             <query xmlns='jabber:iq:last' seconds='3'/></iq>"
                .to_owned(),
        ]
        .concat()
    );
    // The wall clock, given once, advances with the virtual clock.
    let now = h.now;
    let utc = Timestamp::parse("2006-12-19T17:58:30Z").expect("a date");
    h.client.set_utc(now, utc);
    h.advance(Duration::from_millis(5_000));
    assert_eq!(h.client.utc(h.now), utc.checked_add(Duration::from_secs(5)));
    h.server(ASK);
    let sent = h.sent();
    assert!(sent.contains(
        "<iq type='result' id='t1' to='bob@example.com/x'><query xmlns='jabber:iq:time'>\
         <utc>20061219T17:58:35</utc><tz>MDT</tz><display>Tue Dec 19 11:58:35 2006</display>\
         </query></iq>"
    ));
    assert!(sent.contains(
        "<iq type='result' id='t2' to='bob@example.com/x'><time xmlns='urn:xmpp:time'>\
         <tzo>-06:00</tzo><utc>2006-12-19T17:58:35Z</utc></time></iq>"
    ));
    assert!(sent.contains("<query xmlns='jabber:iq:last' seconds='8'/>"));
    // Sending a stanza is activity: idle time starts again.
    let now = h.now;
    h.client
        .send(now, el("presence", "jabber:client"))
        .expect("sent");
    h.advance(Duration::from_secs(2));
    h.sent();
    h.server(
        "<iq type='get' id='l2' from='bob@example.com/x'><query xmlns='jabber:iq:last'/></iq>",
    );
    assert_eq!(
        h.sent(),
        "<iq type='result' id='l2' to='bob@example.com/x'>\
         <query xmlns='jabber:iq:last' seconds='2'/></iq>"
    );
    // A set is not a question these answer.
    h.server(
        "<iq type='set' id='v2' from='bob@example.com/x'><query xmlns='jabber:iq:version'/></iq>",
    );
    assert_eq!(h.sent(), unavailable("v2"));
    assert!(h.events().is_empty());
}

#[test]
fn the_application_can_still_answer_itself() {
    let mut c = disclosing();
    c.iq_namespaces = vec!["jabber:iq:version".into()];
    let mut h = Harness::logged_in(c);
    h.server(
        "<iq type='get' id='v1' from='bob@example.com/x'><query xmlns='jabber:iq:version'/></iq>",
    );
    assert_eq!(h.sent(), "");
    assert!(matches!(
        h.events().as_slice(),
        [Event::Stanza(jabber_proto::client::StanzaEvent::IqRequest(
            _
        ))]
    ));
    assert_eq!(h.client.session_state(), SessionState::Ready);
}

#[test]
fn an_autoupdate_notice_names_the_agent() {
    let parse = |xml: &str| {
        let el = Element::builder("message", "jabber:client");
        let x = match xml {
            "text" => Element::builder("x", "jabber:x:autoupdate").text(" update.example.com\n"),
            _ => Element::builder("x", "jabber:x:autoupdate").attr("jid", "update.example.org"),
        };
        let Ok(Stanza::Message(m)) = Stanza::try_from(el.child(x).build().expect("valid")) else {
            panic!("a message")
        };
        notice(&m)
    };
    assert_eq!(parse("text").as_deref(), Some("update.example.com"));
    assert_eq!(parse("attr").as_deref(), Some("update.example.org"));
    let Ok(Stanza::Message(plain)) = Stanza::try_from(el("message", "jabber:client")) else {
        panic!("a message")
    };
    assert_eq!(notice(&plain), None);
}

#[test]
fn the_block_list_commands_are_byte_exact_and_answered_as_events() {
    let mut h = Harness::logged_in(config());
    let now = h.now;
    let romeo = jid("romeo@example.net");
    let spam = jid("spam.example.org");
    assert_eq!(h.client.block(now, &[]), Err(Error::NoAddress));
    assert_eq!(h.client.unblock(now, &[]), Err(Error::NoAddress));
    let list = h.client.blocklist_get(now).expect("sent");
    let block = h
        .client
        .block(now, &[romeo.clone(), spam.clone()])
        .expect("sent");
    let unblock = h
        .client
        .unblock(now, std::slice::from_ref(&romeo))
        .expect("sent");
    let all = h.client.unblock_all(now).expect("sent");
    assert_eq!(
        h.sent(),
        format!(
            "<iq type='get' id='{}'><blocklist xmlns='urn:xmpp:blocking'/></iq>\
             <iq type='set' id='{}'><block xmlns='urn:xmpp:blocking'>\
             <item jid='romeo@example.net'/><item jid='spam.example.org'/></block></iq>\
             <iq type='set' id='{}'><unblock xmlns='urn:xmpp:blocking'>\
             <item jid='romeo@example.net'/></unblock></iq>\
             <iq type='set' id='{}'><unblock xmlns='urn:xmpp:blocking'/></iq>",
            wire_id(3),
            wire_id(4),
            wire_id(5),
            wire_id(6)
        )
    );
    h.server(&format!(
        "<iq type='result' id='{}'><blocklist xmlns='urn:xmpp:blocking'>\
         <item jid='romeo@example.net'/><item jid='not an address@'/>\
         <item jid='spam.example.org'/></blocklist></iq>\
         <iq type='result' id='{}'/><iq type='result' id='{}' from='alice@example.com'/>\
         <iq type='error' id='{}'><error type='cancel'>\
         <feature-not-implemented xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>",
        wire_id(3),
        wire_id(4),
        wire_id(5),
        wire_id(6)
    ));
    assert_eq!(
        services(&mut h),
        [
            ServiceEvent::BlockList {
                id: list,
                jids: vec![romeo.clone(), spam.clone()],
            },
            ServiceEvent::Blocked { id: block },
            ServiceEvent::Unblocked { id: unblock },
            ServiceEvent::Failed {
                id: all,
                error: Some(
                    StanzaError::new(StanzaCondition::FeatureNotImplemented)
                        .with_type(ErrorType::Cancel)
                ),
            },
        ]
    );
}

/// Pushes are acknowledged and reported only from our own account; from anyone else
/// they are refused and change nothing.
#[test]
fn block_pushes_only_from_our_own_account() {
    let mut h = Harness::logged_in(config());
    h.server(
        "<iq type='set' id='b1'><block xmlns='urn:xmpp:blocking'>\
         <item jid='romeo@example.net'/></block></iq>\
         <iq type='set' id='b2' from='alice@example.com'><unblock xmlns='urn:xmpp:blocking'/></iq>\
         <iq type='set' id='b3' from='mallory@example.com'><unblock xmlns='urn:xmpp:blocking'/></iq>\
         <iq type='set' id='b4' from='alice@example.com/other'><block xmlns='urn:xmpp:blocking'>\
         <item jid='juliet@example.com'/></block></iq>",
    );
    assert_eq!(
        h.sent(),
        "<iq type='result' id='b1'/><iq type='result' id='b2' to='alice@example.com'/>\
         <iq type='error' id='b3' to='mallory@example.com'><error type='cancel'>\
         <service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>\
         <iq type='error' id='b4' to='alice@example.com/other'><error type='cancel'>\
         <service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>"
    );
    assert_eq!(
        services(&mut h),
        [
            ServiceEvent::BlockPush {
                jids: vec![jid("romeo@example.net")],
            },
            ServiceEvent::UnblockPush { jids: vec![] },
        ]
    );
}
