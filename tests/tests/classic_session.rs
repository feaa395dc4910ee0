//! The classic session against real servers: login (plaintext, digest, refused), the
//! plaintext rule, in-band registration with a conflict, password change and account
//! removal, a message round trip, an idle session outliving both sides' idle timers, a
//! frozen and a killed server, and logout — through `jabber-std`, on ejabberd and
//! prosody started on loopback for this run.
//!
//! A custom `main` (no libtest): it starts one server of each kind, runs every scenario
//! on each (one thread per server), prints libtest-style lines, and stops the servers by
//! PID whatever happened. `cargo test -p jabber-tests --test classic_session -- NAME`
//! runs the scenarios whose name contains NAME.

use std::process::ExitCode;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use jabber_proto::client::SessionState;
use jabber_proto::features::roster::Subscription;
use jabber_proto::negotiation::auth::{Credentials, LoginError};
use jabber_proto::negotiation::register::Field;
use jabber_proto::ns;
use jabber_proto::stanza::IqType;
use jabber_proto::stanza::{Message, MessageType, StanzaCondition};
use jabber_proto::stream::Condition as StreamCondition;
use jabber_proto::xml::Element;
use jabber_std::{
    AccountEvent, CloseReason, Config, Connection, Error, Event, IqEvent, Jid, Next, Options,
    RosterEvent,
};
use jabber_tests::runner::{self, Filter, Scenario, Tally};
use jabber_tests::scenario::{await_killed_server, body_of, closed_reason, creds, wait_for};
use jabber_tests::{Server, ServerKind};

const PASSWORD: &str = "pw-classic";
/// Accounts created out of band before the scenarios run.
const USERS: [&str; 3] = ["alice", "bob", "carol"];

const SCENARIOS: &[Scenario<Server>] = &[
    ("plaintext_login", plaintext_login),
    ("digest_login", digest_login),
    ("wrong_password_is_a_typed_failure", wrong_password),
    ("plaintext_refused_when_not_allowed", plaintext_refused),
    (
        "registration_conflict_password_change_removal",
        registration,
    ),
    ("blocking_register_helper", blocking_register),
    ("message_round_trip", message_round_trip),
    ("roster_push_then_fetch", roster_push_then_fetch),
    ("replaced_session_gets_the_stream_error", replaced_session),
    ("idle_session_outlives_idle_timers", idle_session),
    ("frozen_server_is_a_dead_peer", frozen_server),
    ("killed_server_is_noticed", killed_server),
    ("clean_logout", clean_logout),
];

fn main() -> ExitCode {
    let filter = Filter::from_args();
    let started = Instant::now();
    let filter = &filter;
    let tallies = runner::in_parallel(
        ServerKind::ALL
            .into_iter()
            .map(|kind| move || run_all(kind, filter)),
    );
    runner::finish(&tallies, started)
}

/// Starts a server of `kind`, creates the accounts, runs every selected scenario.
fn run_all(kind: ServerKind, filter: &Filter) -> Tally {
    let group = kind.name();
    if !runner::any_selected(group, SCENARIOS, filter) {
        return Tally::default();
    }
    let server = match Server::start(kind) {
        Ok(s) => s,
        Err(e) => return Tally::setup_failed(&format!("{group}::start"), &e),
    };
    for user in USERS {
        if let Err(e) = server.register(user, PASSWORD) {
            return Tally::setup_failed(&format!("{group}::accounts"), &e);
        }
    }
    runner::run_scenarios(group, &server, SCENARIOS, filter, &|server: &Server| {
        format!("--- server log ---\n{}", server.log_tail())
    })
}

// ---- helpers ----

fn config(server: &Server) -> Config {
    let mut c = Config::new(server.domain(), jabber_net::fresh_seed());
    // Generous for a loaded CI machine; the timing scenarios set their own.
    c.iq_timeout = Duration::from_secs(20);
    c
}

fn connect(server: &Server, config: Config) -> Connection {
    Connection::connect_with(server.addr(), config, Options::plain()).expect("connect")
}

fn login(server: &Server, user: &str, mut config: Config) -> Connection {
    config.allow_plaintext = true;
    let mut conn = connect(server, config);
    conn.login(creds(user, PASSWORD)).expect("login");
    conn
}

fn login_error(result: Result<jabber_std::LoggedIn, Error>) -> LoginError {
    match result {
        Err(Error::Login(e)) => e,
        Err(other) => panic!("expected a login failure, got {other}"),
        Ok(l) => panic!("logged in as {} where it must fail", l.jid),
    }
}

fn chat(to: &Jid, body: &str) -> Message {
    Message::new(MessageType::Chat, to, body).expect("a valid message")
}

// ---- scenarios ----

fn plaintext_login(server: &Server) {
    let mut c = config(server);
    c.use_digest = false; // ejabberd offers the digest too; this is the plaintext path
    c.allow_plaintext = true;
    let mut conn = connect(server, c);
    let me = conn
        .login(creds("alice", PASSWORD))
        .expect("plaintext login");
    assert_eq!(me.jid.local(), Some("alice"));
    assert_eq!(me.jid.domain(), server.domain());
    assert!(me.roster.is_some(), "the roster is fetched after login");
    assert_eq!(conn.client().session_state(), SessionState::Ready);
    assert_eq!(conn.close().expect("logout"), CloseReason::Local);
}

fn digest_login(server: &Server) {
    let mut conn = connect(server, config(server)); // plaintext not allowed
    let outcome = conn.login(creds("bob", PASSWORD));
    match server.kind() {
        ServerKind::Ejabberd => {
            let me = outcome.expect("digest login on ejabberd");
            assert_eq!(me.jid.local(), Some("bob"));
        }
        // prosody 0.12 offers no <digest/>: the client must say so, not pretend.
        ServerKind::Prosody => {
            assert_eq!(login_error(outcome), LoginError::PlaintextNotAllowed);
            let reason = wait_for(&mut conn, Duration::from_secs(10), closed_reason);
            assert_eq!(reason, CloseReason::Local);
        }
    }
}

fn wrong_password(server: &Server) {
    for use_digest in [true, false] {
        let mut c = config(server);
        c.allow_plaintext = true;
        c.use_digest = use_digest;
        let mut conn = connect(server, c);
        let e = login_error(conn.login(creds("alice", "not-the-password")));
        assert_eq!(e.condition(), Some(StanzaCondition::NotAuthorized), "{e}");
        assert_eq!(e.code(), Some(401));
        assert!(conn.client().jid().is_none());
    }
}

fn plaintext_refused(server: &Server) {
    let mut c = config(server);
    c.use_digest = false; // so ejabberd, too, has only the plaintext method left
    let mut conn = connect(server, c);
    let e = login_error(conn.login(creds("alice", PASSWORD)));
    assert_eq!(e, LoginError::PlaintextNotAllowed);
    let reason = wait_for(&mut conn, Duration::from_secs(10), closed_reason);
    assert_eq!(reason, CloseReason::Local);
}

fn registration(server: &Server) {
    static N: AtomicU32 = AtomicU32::new(0);
    let user = format!("newbie{}", N.fetch_add(1, Ordering::Relaxed));
    let (first, second) = ("first-pw", "second-pw");

    // Registration and password changes carry the password itself: allowed on loopback.
    let mut c = config(server);
    c.allow_plaintext = true;
    // The form, a conflict on an existing name, then success on the same stream.
    let mut conn = connect(server, c.clone());
    conn.with_client(|c, now| c.request_registration(now))
        .expect("io")
        .expect("request");
    let mut form = wait_for(&mut conn, Duration::from_secs(10), |e| match e {
        Event::Account(AccountEvent::RegistrationForm(f)) => Some(f.clone()),
        _ => None,
    });
    assert!(form.get(Field::Username).is_some() && form.get(Field::Password).is_some());
    assert!(form.instructions().is_some());
    form.set(Field::Username, "alice");
    form.set(Field::Password, first);
    conn.with_client(|c, now| c.submit_registration(now, &form))
        .expect("io")
        .expect("submit");
    let mut form = wait_for(&mut conn, Duration::from_secs(10), |e| match e {
        Event::Account(AccountEvent::RegistrationConflict(f)) => Some(f.clone()),
        _ => None,
    });
    assert_eq!(form.get(Field::Username), Some("alice"));
    form.set(Field::Username, &user);
    conn.with_client(|c, now| c.submit_registration(now, &form))
        .expect("io")
        .expect("resubmit");
    wait_for(&mut conn, Duration::from_secs(10), |e| {
        matches!(e, Event::Account(AccountEvent::Registered)).then_some(())
    });
    let reason = wait_for(&mut conn, Duration::from_secs(10), closed_reason);
    assert!(reason.is_clean(), "{reason}");

    // The new account logs in and changes its password.
    let mut conn = connect(server, c.clone());
    conn.login(creds(&user, first))
        .expect("login as the new account");
    conn.with_client(|c, now| c.change_password(now, second))
        .expect("io")
        .expect("change");
    wait_for(&mut conn, Duration::from_secs(10), |e| {
        matches!(e, Event::Account(AccountEvent::PasswordChanged)).then_some(())
    });
    conn.close().expect("logout");

    // Only the new password works now.
    let mut conn = connect(server, c.clone());
    let e = login_error(conn.login(creds(&user, first)));
    assert_eq!(e.code(), Some(401));
    let mut conn = connect(server, c.clone());
    conn.login(creds(&user, second))
        .expect("login with the new password");

    // Removal: the server confirms, then ends the session.
    conn.with_client(|c, now| c.remove_account(now))
        .expect("io")
        .expect("remove");
    wait_for(&mut conn, Duration::from_secs(10), |e| {
        matches!(e, Event::Account(AccountEvent::Removed)).then_some(())
    });
    wait_for(&mut conn, Duration::from_secs(10), closed_reason);
    let mut conn = connect(server, c);
    let e = login_error(conn.login(creds(&user, second)));
    assert_eq!(e.condition(), Some(StanzaCondition::NotAuthorized));
}

fn blocking_register(server: &Server) {
    static N: AtomicU32 = AtomicU32::new(0);
    let user = format!("quick{}", N.fetch_add(1, Ordering::Relaxed));
    let mut c = config(server);
    // Without the plaintext allowance the password may not go out: refused locally.
    let mut conn = connect(server, c.clone());
    assert!(matches!(
        conn.register(&user, "pw"),
        Err(Error::Client(
            jabber_proto::client::Error::PlaintextNotAllowed
        ))
    ));
    c.allow_plaintext = true;
    let mut conn = connect(server, c.clone());
    assert!(matches!(
        conn.register("alice", "pw"),
        Err(Error::UsernameTaken)
    ));
    // Same stream, another name.
    conn.register(&user, "pw").expect("register");
    let reason = wait_for(&mut conn, Duration::from_secs(10), closed_reason);
    assert!(reason.is_clean(), "{reason}");
    let mut conn = connect(server, c);
    let me = conn
        .login(creds(&user, "pw"))
        .expect("login as the new account");
    assert_eq!(me.jid.local(), Some(user.as_str()));
}

fn message_round_trip(server: &Server) {
    let mut alice = login(server, "alice", config(server));
    let mut bob = login(server, "bob", config(server));
    let bob_jid = bob.client().jid().cloned().expect("bob's JID");
    let alice_jid = alice.client().jid().cloned().expect("alice's JID");
    alice
        .send(chat(&bob_jid, "ping from alice <&> ünïcödé"))
        .expect("send");
    let got = wait_for(&mut bob, Duration::from_secs(10), body_of);
    assert_eq!(got, "ping from alice <&> ünïcödé");
    bob.send(chat(&alice_jid, "pong from bob")).expect("send");
    assert_eq!(
        wait_for(&mut alice, Duration::from_secs(10), body_of),
        "pong from bob"
    );
    alice.close().expect("logout");
    bob.close().expect("logout");
}

fn roster_push_then_fetch(server: &Server) {
    let mut alice = login(server, "alice", config(server));
    let bob = format!("bob@{}", server.domain());
    let item = Element::builder("query", ns::IQ_ROSTER)
        .child(
            Element::builder("item", ns::IQ_ROSTER)
                .attr("jid", &bob)
                .attr("name", "Bob")
                .child(Element::builder("group", ns::IQ_ROSTER).text("Friends")),
        )
        .build()
        .expect("a valid roster item");
    let id = alice
        .with_client(|c, now| c.send_iq(now, None, IqType::Set, item))
        .expect("io")
        .expect("send_iq");
    // The server pushes the change to our resource (acknowledged by the core) and
    // answers the request.
    let mut pushed = None;
    let mut answered = false;
    while pushed.is_none() || !answered {
        match wait_for(&mut alice, Duration::from_secs(10), |e| match e {
            Event::Roster(RosterEvent::Push(r)) => Some(Ok(r.clone())),
            Event::Iq(IqEvent::Result { id: got, .. }) if *got == id => Some(Err(())),
            _ => None,
        }) {
            Ok(r) => pushed = Some(r),
            Err(()) => answered = true,
        }
    }
    let pushed = pushed.expect("a push");
    assert_eq!(pushed.items.len(), 1);
    assert_eq!(pushed.items[0].jid.as_str(), bob);
    alice.close().expect("logout");

    // A new session fetches it.
    let mut c = config(server);
    c.allow_plaintext = true;
    let mut conn = connect(server, c);
    let me = conn.login(creds("alice", PASSWORD)).expect("login");
    let roster = me.roster.expect("the roster");
    let item = roster
        .items
        .iter()
        .find(|i| i.jid.as_str() == bob)
        .expect("bob in the roster");
    assert_eq!(item.name.as_deref(), Some("Bob"));
    assert_eq!(item.groups, vec!["Friends".to_string()]);
    assert_eq!(item.subscription, Subscription::None);
    conn.close().expect("logout");
}

fn replaced_session(server: &Server) {
    // The same full JID logging in again replaces the first session, which hears why.
    let mut c = config(server);
    c.allow_plaintext = true;
    let same = Credentials::new("carol", PASSWORD, "only-one");
    let mut first = connect(server, c.clone());
    first.login(same.clone()).expect("first login");
    let mut second = connect(server, c);
    second.login(same).expect("second login");
    let reason = wait_for(&mut first, Duration::from_secs(10), closed_reason);
    let CloseReason::StreamError(e) = reason else {
        panic!("expected a stream error, got {reason}")
    };
    assert_eq!(e.condition, StreamCondition::Conflict, "{e}");
    assert!(e.text.is_some(), "the server says why: {e}");
    assert_eq!(second.close().expect("logout"), CloseReason::Local);
}

fn idle_session(server: &Server) {
    // Our idle timer 1 s, dead-peer 4 s; the servers' idle timers are 3 s (see the
    // harness). Stay idle for 8 s: both sides' keepalives must keep the session.
    let mut c = config(server);
    c.keepalive_interval = Some(Duration::from_secs(1));
    c.dead_peer_timeout = Some(Duration::from_secs(4));
    let mut conn = login(server, "carol", c);
    let me = conn.client().jid().cloned().expect("JID");
    let until = Instant::now() + Duration::from_secs(8);
    while let Some(left) = until.checked_duration_since(Instant::now()) {
        match conn
            .next_event_timeout(left)
            .expect("no I/O error while idle")
        {
            Next::Event(Event::Closed(r)) => panic!("the idle session died: {r}"),
            Next::Ended => panic!("the idle session ended"),
            _ => {}
        }
    }
    assert!(!conn.is_closed());
    conn.send(chat(&me, "still here")).expect("send");
    assert_eq!(
        wait_for(&mut conn, Duration::from_secs(10), body_of),
        "still here"
    );
    assert_eq!(conn.close().expect("logout"), CloseReason::Local);
}

/// A dedicated server of the same kind, with one account.
fn own_server(server: &Server) -> Server {
    let own = Server::start(server.kind()).expect("a dedicated server");
    own.register("dave", PASSWORD).expect("account");
    own
}

fn frozen_server(server: &Server) {
    let own = own_server(server);
    let mut c = config(&own);
    c.keepalive_interval = Some(Duration::from_secs(1));
    c.dead_peer_timeout = Some(Duration::from_secs(3));
    let mut conn = login(&own, "dave", c);
    // SIGSTOP: the socket stays open, nothing comes back — no FIN to notice.
    own.pause();
    let t = Instant::now();
    let reason = wait_for(&mut conn, Duration::from_secs(10), closed_reason);
    let took = t.elapsed();
    own.resume();
    assert_eq!(reason, CloseReason::PeerTimeout);
    assert!(
        took <= Duration::from_millis(4_500),
        "dead peer noticed after {took:?}, limit 3 s after the last byte"
    );
}

fn killed_server(server: &Server) {
    let mut own = own_server(server);
    let mut c = config(&own);
    // Far beyond what the kernel needs: noticing must come from the connection's end,
    // not from the dead-peer timer.
    c.dead_peer_timeout = Some(Duration::from_secs(30));
    let mut conn = login(&own, "dave", c);
    own.kill();
    let took = await_killed_server(&mut conn);
    assert!(took < Duration::from_secs(3), "took {took:?}");
    assert!(conn.is_closed());
}

fn clean_logout(server: &Server) {
    let conn = login(server, "alice", config(server));
    assert_eq!(conn.close().expect("logout"), CloseReason::Local);
}
