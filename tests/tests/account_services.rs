//! Account services against real ejabberd and prosody, through the blocking adapter
//! (`jabber-std`), two accounts per server: a vCard with a photo stored and read back,
//! and read by a contact; private data stored, read back, and read again from a second
//! login; and the version, time and idle time one account discloses, asked by the other
//! — nothing where the config discloses nothing.
//!
//! One server of each kind, started by the test that uses it (the two run in parallel).

use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use jabber_proto::client::{Config, Event, IqEvent, IqId, ServiceEvent, StanzaEvent};
use jabber_proto::features::disclosure::{Disclosure, SoftwareVersion, TimeZone};
use jabber_proto::features::vcard::{Email, Photo, Vcard, VcardType};
use jabber_proto::jid::Jid;
use jabber_proto::ns;
use jabber_proto::stanza::{IqType, Message, MessageType, StanzaCondition};
use jabber_proto::time::{Timestamp, TzOffset};
use jabber_proto::xml::Element;
use jabber_std::{Connection, Next, Options};
use jabber_tests::scenario::wait_for;
use jabber_tests::{Server, ServerKind};

const PASSWORD: &str = "acct-pw";
const WAIT: Duration = Duration::from_secs(15);

/// A tiny PNG's bytes (any bytes do: the photo must come back exactly).
const PHOTO: &[u8] =
    b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89";

fn now_utc() -> Timestamp {
    let ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970")
        .as_millis();
    Timestamp::from_unix_millis(i64::try_from(ms).expect("in range")).expect("a time")
}

fn config(server: &Server, disclosure: Option<Disclosure>) -> Config {
    let mut c = Config::new(server.domain(), jabber_net::fresh_seed());
    c.iq_timeout = Duration::from_secs(20);
    // Classic (jabber:iq:auth) logins, stated: the default is XMPP 1.0.
    c.version = None;
    // prosody 0.12 offers no digest: the password crosses loopback as it is.
    c.allow_plaintext = server.kind() == ServerKind::Prosody;
    c.disclosure = disclosure.map(Box::new);
    c
}

fn login(
    server: &Server,
    user: &str,
    resource: &str,
    disclosure: Option<Disclosure>,
) -> Connection {
    let mut conn =
        Connection::connect_with(server.addr(), config(server, disclosure), Options::plain())
            .unwrap_or_else(|e| panic!("{}: connect: {e}", server.kind()));
    conn.login(jabber_proto::negotiation::auth::Credentials::new(
        user, PASSWORD, resource,
    ))
    .unwrap_or_else(|e| panic!("{}: login as {user}: {e}", server.kind()));
    conn
}

fn service(conn: &mut Connection, id: IqId) -> ServiceEvent {
    wait_for(conn, WAIT, |e| match e {
        Event::Services(s) if service_id(s) == Some(id) => Some(s.clone()),
        _ => None,
    })
}

/// The handle of the request `e` answers; `None` for a push.
fn service_id(e: &ServiceEvent) -> Option<IqId> {
    match e {
        ServiceEvent::Vcard { id, .. }
        | ServiceEvent::VcardSaved { id }
        | ServiceEvent::PrivateData { id, .. }
        | ServiceEvent::PrivateSaved { id }
        | ServiceEvent::Update { id, .. }
        | ServiceEvent::Failed { id, .. }
        | ServiceEvent::Spoofed { id, .. }
        | ServiceEvent::BlockList { id, .. }
        | ServiceEvent::Blocked { id }
        | ServiceEvent::Unblocked { id } => Some(*id),
        _ => None,
    }
}

fn iq_answer(conn: &mut Connection, id: IqId) -> IqEvent {
    wait_for(conn, WAIT, |e| match e {
        Event::Iq(iq) if iq.id() == id => Some(iq.clone()),
        _ => None,
    })
}

/// Runs `f` while `peer` reads and answers on a thread of its own (a blocking connection
/// answers only while it is read), then stops it.
fn serving<T>(peer: &mut Connection, f: impl FnOnce() -> T) -> T {
    let stop = AtomicBool::new(false);
    thread::scope(|s| {
        let pump = s.spawn(|| {
            while !stop.load(Ordering::Relaxed) {
                match peer.next_event_timeout(Duration::from_millis(50)) {
                    Ok(Next::Event(_) | Next::TimedOut) => {}
                    other => panic!("the peer stopped: {other:?}"),
                }
            }
        });
        let t = f();
        stop.store(true, Ordering::Relaxed);
        pump.join().expect("the peer's thread");
        t
    })
}

/// `event` with each field's kinds in one order: ejabberd writes them back in its own.
fn sorted_types(mut event: ServiceEvent) -> ServiceEvent {
    if let ServiceEvent::Vcard { vcard, .. } = &mut event {
        for e in &mut vcard.emails {
            e.types.sort_by_key(|t| t.as_str());
        }
    }
    event
}

fn card() -> Vcard {
    let mut card = Vcard::default();
    card.full_name = Some("Alice Liddell".into());
    card.nickname = Some("al".into());
    card.emails.push(Email {
        address: "alice@example.com".into(),
        types: vec![VcardType::Internet, VcardType::Pref],
    });
    card.photo = Some(Photo::Binary {
        mime_type: Some("image/png".into()),
        data: PHOTO.to_vec(),
    });
    card.other.push(
        Element::builder("TITLE", ns::VCARD)
            .text("Explorer")
            .build()
            .expect("a field"),
    );
    card
}

fn prefs() -> Element {
    Element::builder("prefs", "urn:example:jabber-tests:prefs")
        .attr("block", "strangers")
        .child(
            Element::builder("item", "urn:example:jabber-tests:prefs")
                .attr("jid", "mallory@example.com"),
        )
        .build()
        .expect("an element")
}

fn disclosed() -> Disclosure {
    let mut d = Disclosure::default();
    d.software = Some(SoftwareVersion::new("jabber-tests", "1.2.3").with_os("TestOS"));
    d.time = Some(TimeZone::new(TzOffset::from_minutes(120).expect("an offset")).with_name("CEST"));
    d.last_activity = true;
    d
}

fn run(kind: ServerKind) {
    let server = Server::start(kind).unwrap_or_else(|e| panic!("{kind}: start: {e}"));
    let (alice, bob) = ("acct-alice", "acct-bob");
    for user in [alice, bob] {
        server.register(user, PASSWORD).expect("an account");
    }
    let alice_bare = Jid::new(Some(alice), server.domain(), None).expect("a JID");
    let bob_bare = Jid::new(Some(bob), server.domain(), None).expect("a JID");

    let mut a = login(&server, alice, "desk", Some(disclosed()));
    let mut b = login(&server, bob, "phone", None);
    a.with_client(|c, now| c.set_utc(now, now_utc()))
        .expect("transport");

    // vCard: ours stored and read back, photo and untyped field included; then a contact's.
    let id = a
        .with_client(|c, now| c.vcard_set(now, &card()))
        .expect("transport")
        .expect("sent");
    assert_eq!(
        service(&mut a, id),
        ServiceEvent::VcardSaved { id },
        "{kind}"
    );
    let id = a
        .with_client(|c, now| c.vcard_get(now, None))
        .expect("transport")
        .expect("sent");
    assert_eq!(
        sorted_types(service(&mut a, id)),
        sorted_types(ServiceEvent::Vcard {
            id,
            vcard: Box::new(card())
        }),
        "{kind}: our own card"
    );
    let id = b
        .with_client(|c, now| c.vcard_get(now, Some(&alice_bare)))
        .expect("transport")
        .expect("sent");
    assert_eq!(
        sorted_types(service(&mut b, id)),
        sorted_types(ServiceEvent::Vcard {
            id,
            vcard: Box::new(card())
        }),
        "{kind}: a contact's card"
    );

    // Private storage: stored, read back, and read again from a second login.
    let id = a
        .with_client(|c, now| c.private_set(now, &prefs()))
        .expect("transport")
        .expect("sent");
    assert_eq!(
        service(&mut a, id),
        ServiceEvent::PrivateSaved { id },
        "{kind}"
    );
    let read = |conn: &mut Connection| {
        let id = conn
            .with_client(|c, now| c.private_get(now, "prefs", "urn:example:jabber-tests:prefs"))
            .expect("transport")
            .expect("sent");
        (id, service(conn, id))
    };
    let (id, got) = read(&mut a);
    assert_eq!(
        got,
        ServiceEvent::PrivateData {
            id,
            data: Some(prefs())
        },
        "{kind}"
    );
    let mut a2 = login(&server, alice, "laptop", None);
    let (id, got) = read(&mut a2);
    assert_eq!(
        got,
        ServiceEvent::PrivateData {
            id,
            data: Some(prefs())
        },
        "{kind}: a second login"
    );
    // Nothing stored under another name: the empty element asked for.
    let id = a2
        .with_client(|c, now| c.private_get(now, "other", "urn:example:jabber-tests:none"))
        .expect("transport")
        .expect("sent");
    let empty = Element::builder("other", "urn:example:jabber-tests:none")
        .build()
        .expect("an element");
    assert_eq!(
        service(&mut a2, id),
        ServiceEvent::PrivateData {
            id,
            data: Some(empty)
        },
        "{kind}"
    );
    drop(a2.close());

    // Version, time and idle time: alice discloses them; bob asks her full JID.
    let alice_full = a.client().jid().cloned().expect("logged in");
    let ask = |conn: &mut Connection, to: &Jid, name: &str, ns: &str| {
        let payload = Element::builder(name, ns).build().expect("a query");
        let to = to.clone();
        let id = conn
            .with_client(move |c, now| c.send_iq(now, Some(&to), IqType::Get, payload))
            .expect("transport")
            .expect("sent");
        iq_answer(conn, id)
    };
    let result_payload = |e: IqEvent, what: &str| match e {
        IqEvent::Result { iq, .. } => iq.payload().expect("a payload").to_element(),
        other => panic!("{kind}: {what}: {other:?}"),
    };
    serving(&mut a, || {
        let version = result_payload(ask(&mut b, &alice_full, "query", ns::IQ_VERSION), "version");
        let text = |el: &Element, name: &str, ns: &str| {
            el.child(name, ns)
                .map(|c| c.text().into_owned())
                .unwrap_or_default()
        };
        assert_eq!(text(&version, "name", ns::IQ_VERSION), "jabber-tests");
        assert_eq!(text(&version, "version", ns::IQ_VERSION), "1.2.3");
        assert_eq!(text(&version, "os", ns::IQ_VERSION), "TestOS");

        let time = result_payload(ask(&mut b, &alice_full, "time", ns::TIME), "time");
        assert_eq!(text(&time, "tzo", ns::TIME), "+02:00");
        let told = text(&time, "utc", ns::TIME);
        let close_to_now = |told: &str| {
            let told = Timestamp::parse(told).or_else(|| Timestamp::parse_legacy(told));
            told.is_some_and(|t| (t.unix_millis() - now_utc().unix_millis()).abs() <= 3_000)
        };
        assert!(close_to_now(&told), "{kind}: utc {told}");
        let legacy = result_payload(
            ask(&mut b, &alice_full, "query", ns::IQ_TIME),
            "legacy time",
        );
        assert!(
            close_to_now(&text(&legacy, "utc", ns::IQ_TIME)),
            "{kind}: {legacy}"
        );
        assert_eq!(text(&legacy, "tz", ns::IQ_TIME), "CEST");

        let last = result_payload(ask(&mut b, &alice_full, "query", ns::IQ_LAST), "last");
        let seconds: u64 = last
            .attr("seconds")
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("{kind}: {last}"));
        assert!(seconds < 60, "{kind}: idle {seconds} s");
    });

    // Bob discloses nothing: each question is refused as an unknown namespace.
    let bob_full = b.client().jid().cloned().expect("logged in");
    serving(&mut b, || {
        for (name, ns) in [
            ("query", ns::IQ_VERSION),
            ("time", ns::TIME),
            ("query", ns::IQ_TIME),
            ("query", ns::IQ_LAST),
        ] {
            match ask(&mut a, &bob_full, name, ns) {
                IqEvent::Error { error, .. } => {
                    assert_eq!(
                        error.condition,
                        StanzaCondition::ServiceUnavailable,
                        "{kind}: {ns}"
                    );
                }
                other => panic!("{kind}: {ns} answered: {other:?}"),
            }
        }
    });
    // The server's block list: bob blocked, which a new login sees; what bob sends
    // meanwhile never arrives; unblocked, his next message does.
    let id = a
        .with_client(|c, now| c.blocklist_get(now))
        .expect("transport")
        .expect("sent");
    assert_eq!(
        service(&mut a, id),
        ServiceEvent::BlockList { id, jids: vec![] },
        "{kind}"
    );
    let blocked = vec![bob_bare.clone()];
    let id = a
        .with_client(|c, now| c.block(now, &blocked))
        .expect("transport")
        .expect("sent");
    assert_eq!(service(&mut a, id), ServiceEvent::Blocked { id }, "{kind}");
    let mut a3 = login(&server, alice, "tablet", None);
    let id = a3
        .with_client(|c, now| c.blocklist_get(now))
        .expect("transport")
        .expect("sent");
    assert_eq!(
        service(&mut a3, id),
        ServiceEvent::BlockList { id, jids: blocked },
        "{kind}: a new login"
    );
    let chat = |text: &str| Message::new(MessageType::Chat, &alice_bare, text).expect("a message");
    b.send(chat("while blocked")).expect("sent");
    // A round trip to the server after the message: it has been dealt with.
    let id = b
        .with_client(|c, now| c.blocklist_get(now))
        .expect("transport")
        .expect("sent");
    service(&mut b, id);
    let id = a
        .with_client(|c, now| c.unblock_all(now))
        .expect("transport")
        .expect("sent");
    assert_eq!(
        service(&mut a, id),
        ServiceEvent::Unblocked { id },
        "{kind}"
    );
    let pushed = wait_for(&mut a3, WAIT, |e| match e {
        Event::Services(ServiceEvent::UnblockPush { jids }) => Some(jids.clone()),
        _ => None,
    });
    assert!(
        pushed.is_empty() || pushed == [bob_bare.clone()],
        "{kind}: {pushed:?}"
    );
    b.send(chat("after unblocking")).expect("sent");
    let bodies = wait_for(&mut a, WAIT, |e| match e {
        Event::Stanza(StanzaEvent::Message(m)) => m.body().map(|b| b.into_owned()),
        _ => None,
    });
    assert_eq!(
        bodies, "after unblocking",
        "{kind}: the blocked message came through"
    );
    drop(a3.close());
    drop(a.close());
    drop(b.close());
}

#[test]
fn ejabberd_account_services() {
    run(ServerKind::Ejabberd);
}

#[test]
fn prosody_account_services() {
    run(ServerKind::Prosody);
}
