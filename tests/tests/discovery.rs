//! Service discovery, entity capabilities and registration data forms against real
//! ejabberd and prosody, through the blocking adapter (`jabber-std`): the server's
//! `disco#info` (features each server is known to have), a contact's `disco#info`
//! answered by our own client, our capabilities in a presence seen by the contact and
//! verified into its cache, and in-band registration with the data form where the
//! server sends one. Each test prints what the server sent, for the report.
//!
//! One server of each kind, started by the test that uses it (the two run in parallel).

use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::Duration;

use jabber_proto::client::{AccountEvent, Config, DiscoEvent, Event, IqId};
use jabber_proto::features::disco::{DiscoInfo, Discovery};
use jabber_proto::jid::Jid;
use jabber_proto::negotiation::auth::Credentials;
use jabber_proto::negotiation::register::Field;
use jabber_proto::ns;
use jabber_proto::stanza::Presence;
use jabber_std::{Connection, Next, Options};
use jabber_tests::scenario::wait_for;
use jabber_tests::{Server, ServerKind};

const PASSWORD: &str = "disco-pw";
const WAIT: Duration = Duration::from_secs(15);

fn config(server: &Server) -> Config {
    let mut c = Config::new(server.domain(), jabber_net::fresh_seed());
    // These tests are about features, not the login: the classic login on plain TCP
    // (1.0 with STARTTLS is tested in xmpp1.rs and conformance).
    c.version = None;
    c.iq_timeout = Duration::from_secs(20);
    // prosody 0.12 offers no digest, and registration sends the password itself: it
    // crosses loopback as it is.
    c.allow_plaintext = true;
    c.discovery = Some(Box::new(Discovery::default()));
    c
}

fn login(server: &Server, user: &str, resource: &str) -> Connection {
    let mut conn = Connection::connect_with(server.addr(), config(server), Options::plain())
        .unwrap_or_else(|e| panic!("{}: connect: {e}", server.kind()));
    conn.login(Credentials::new(user, PASSWORD, resource))
        .unwrap_or_else(|e| panic!("{}: login as {user}: {e}", server.kind()));
    conn
}

fn info_answer(conn: &mut Connection, id: IqId) -> DiscoInfo {
    wait_for(conn, WAIT, |e| match e {
        Event::Disco(DiscoEvent::Info { id: i, info }) if *i == id => Some(info.clone()),
        Event::Disco(DiscoEvent::Failed { id: i, error }) if *i == id => {
            panic!("disco#info failed: {error:?}")
        }
        _ => None,
    })
}

/// Runs `f` while `peer` reads and answers on a thread of its own (a blocking
/// connection answers only while it is read), then stops it.
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

fn run(kind: ServerKind) {
    let server = Server::start(kind).unwrap_or_else(|e| panic!("{kind}: start: {e}"));
    let (alice, bob) = ("disco-alice", "disco-bob");
    for user in [alice, bob] {
        server.register(user, PASSWORD).expect("an account");
    }
    let mut a = login(&server, alice, "desk");
    let mut b = login(&server, bob, "phone");

    // The server's disco#info.
    let domain = Jid::parse(server.domain()).expect("a JID");
    let id = a
        .with_client(|c, now| c.disco_info(now, &domain, None))
        .expect("transport")
        .expect("sent");
    let info = info_answer(&mut a, id);
    println!("{kind}: server identities {:?}", info.identities);
    println!("{kind}: server features {:?}", info.features);
    assert!(
        info.identities
            .iter()
            .any(|i| i.category == "server" && i.kind == "im"),
        "{kind}: {info:?}"
    );
    for feature in [ns::DISCO_INFO, ns::DISCO_ITEMS, ns::PING, ns::VCARD] {
        assert!(
            info.has_feature(feature),
            "{kind} lacks {feature}: {info:?}"
        );
    }

    // A contact's disco#info, answered by our own client; then our capabilities in a
    // directed presence, verified into the contact's cache.
    let alice_full = a.client().jid().cloned().expect("logged in");
    let bob_full = b.client().jid().cloned().expect("logged in");
    let ours = a.client().own_disco_info();
    let ver = a.client().own_caps_ver();
    serving(&mut a, || {
        let to = alice_full.clone();
        let id = b
            .with_client(move |c, now| c.disco_info(now, &to, None))
            .expect("transport")
            .expect("sent");
        let info = info_answer(&mut b, id);
        assert_eq!(info.identities, ours.identities, "{kind}");
        assert_eq!(info.features, ours.features, "{kind}");
    });
    let presence = Presence::available()
        .to(&bob_full)
        .status("caps")
        .build()
        .expect("a presence");
    a.with_client(|c, now| c.send_presence(now, &presence))
        .expect("transport")
        .expect("sent");
    let verified = serving(&mut a, || {
        wait_for(&mut b, WAIT, |e| match e {
            Event::Disco(DiscoEvent::Capabilities { contact, ver }) => {
                Some((contact.clone(), ver.clone()))
            }
            Event::Disco(DiscoEvent::CapsMismatch { .. }) => panic!("{kind}: {e:?}"),
            _ => None,
        })
    });
    assert_eq!(verified, (alice_full.clone(), ver), "{kind}");
    assert_eq!(
        b.client().capabilities(&alice_full),
        Some(&ours.features[..]),
        "{kind}"
    );
    drop(a.close());
    drop(b.close());

    registration(&server);
}

/// In-band registration: what the server's form holds, and a submission of its data
/// form where it sends one (the classic fields otherwise); the new account logs in.
fn registration(server: &Server) {
    let kind = server.kind();
    let mut conn = Connection::connect_with(server.addr(), config(server), Options::plain())
        .unwrap_or_else(|e| panic!("{kind}: connect: {e}"));
    conn.with_client(|c, now| c.request_registration(now))
        .expect("transport")
        .expect("asked");
    let mut form = wait_for(&mut conn, WAIT, |e| match e {
        Event::Account(AccountEvent::RegistrationForm(f)) => Some(f.clone()),
        Event::Account(other) => panic!("{kind}: {other:?}"),
        _ => None,
    });
    let classic: Vec<&str> = form.fields().map(|(f, _)| f.as_str()).collect();
    println!("{kind}: registration classic fields {classic:?}");
    match form.data_form() {
        Some(data) => println!(
            "{kind}: registration data form FORM_TYPE {:?}, fields {:?}",
            data.form_type(),
            data.fields
                .iter()
                .map(|f| (f.var.clone(), f.kind, f.required))
                .collect::<Vec<_>>()
        ),
        None => println!("{kind}: registration without a data form"),
    }
    if kind == ServerKind::Prosody {
        let data = form.data_form().expect("prosody sends a data form");
        assert_eq!(data.form_type(), Some("jabber:iq:register"));
        assert!(data.field("password").is_some_and(|f| f.is_private()));
    }
    assert!(form.set(Field::Username, "disco-new"));
    assert!(form.set(Field::Password, PASSWORD));
    conn.with_client(|c, now| c.submit_registration(now, &form))
        .expect("transport")
        .expect("submitted");
    wait_for(&mut conn, WAIT, |e| match e {
        Event::Account(AccountEvent::Registered) => Some(()),
        Event::Account(other) => panic!("{kind}: {other:?}"),
        _ => None,
    });
    drop(conn);
    let new = login(server, "disco-new", "r");
    drop(new.close());
}

#[test]
fn ejabberd_discovery_caps_and_registration_form() {
    run(ServerKind::Ejabberd);
}

#[test]
fn prosody_discovery_caps_and_registration_form() {
    run(ServerKind::Prosody);
}
