//! One scenario suite, three adapters: every scenario below is written once against
//! the [`Session`] interface and run through `jabber-std`, `jabber-mio` and
//! `jabber-tokio` against a real ejabberd on loopback. Test names carry the adapter
//! (`mio::message_round_trip`), so a failure names it.
//!
//! Scenarios: login and roster fetch (plain TCP, digest), login over direct TLS
//! (plaintext password allowed because the transport is encrypted), an untrusted
//! certificate refused, a message round trip between two accounts, directed presence,
//! keepalive across an idle period longer than the server's idle timer, a killed server
//! detected, and logout.
//!
//! A custom `main` (see `jabber_tests::runner`): one ejabberd serves every adapter; each
//! adapter runs its scenarios in its own thread; the killed-server scenario starts a
//! server of its own.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use jabber_net::{Error, Options, Tls};
use jabber_proto::client::{CloseReason, Config, Event, RosterEvent, StanzaEvent};
use jabber_proto::jid::Jid;
use jabber_proto::negotiation::auth::Credentials;
use jabber_proto::ns;
use jabber_proto::stanza::{IqType, Message, MessageType};
use jabber_proto::xml::Element;
use jabber_tests::adapters::{self, Adapter, Next, Session};
use jabber_tests::certs::TestCa;
use jabber_tests::runner::{self, Filter, Scenario, Tally};
use jabber_tests::scenario::{self, body_of, wait_for};
use jabber_tests::{Server, ServerKind};

const PASSWORD: &str = "pw-conformance";

/// Accounts created before the scenarios run: a pair per adapter, so that the adapters'
/// threads do not replace each other's sessions.
const USERS: [&str; 2] = ["alice", "bob"];

struct Ctx<'a> {
    adapter: Box<dyn Adapter>,
    server: &'a Server,
}

/// The scenarios, in the order they run (a function: the context borrows the server).
fn scenarios<'a>() -> Vec<Scenario<Ctx<'a>>> {
    vec![
        ("login_and_roster_fetch", login_and_roster_fetch),
        ("login_over_direct_tls", login_over_direct_tls),
        ("untrusted_certificate_is_refused", untrusted_certificate),
        ("message_round_trip", message_round_trip),
        ("directed_presence", directed_presence),
        ("keepalive_across_idle_period", keepalive_across_idle_period),
        ("killed_server_is_detected", killed_server),
        ("logout", logout),
    ]
}

fn main() -> ExitCode {
    let filter = Filter::from_args();
    let started = Instant::now();
    let names: Vec<&str> = adapters::all().iter().map(|make| make().name()).collect();
    if !names
        .iter()
        .any(|n| runner::any_selected(n, &scenarios(), &filter))
    {
        return runner::finish(&[], started);
    }
    let server = match Server::start(ServerKind::Ejabberd) {
        Ok(s) => s,
        Err(e) => return runner::finish(&[Tally::setup_failed("ejabberd::start", &e)], started),
    };
    for name in &names {
        for user in USERS {
            if let Err(e) = server.register(&format!("{user}-{name}"), PASSWORD) {
                return runner::finish(&[Tally::setup_failed("ejabberd::accounts", &e)], started);
            }
        }
    }
    let (filter, server) = (&filter, &server);
    let tallies = runner::in_parallel(adapters::all().into_iter().map(|make| {
        move || {
            let ctx = Ctx {
                adapter: make(),
                server,
            };
            let group = ctx.adapter.name();
            runner::run_scenarios(group, &ctx, &scenarios(), filter, &|ctx: &Ctx<'_>| {
                format!("--- server log ---\n{}", ctx.server.log_tail())
            })
        }
    }));
    runner::finish(&tallies, started)
}

// ---- helpers ----

impl Ctx<'_> {
    /// This adapter's account `user`.
    fn user(&self, user: &str) -> String {
        format!("{user}-{}", self.adapter.name())
    }

    fn config(&self, server: &Server) -> Config {
        let mut c = Config::new(server.domain(), jabber_net::fresh_seed());
        // Generous for a loaded CI machine; the timing scenarios set their own.
        c.iq_timeout = Duration::from_secs(20);
        c
    }

    fn connect(&self, addr: SocketAddr, config: Config, options: Options) -> Box<dyn Session> {
        self.adapter
            .connect(addr, config, options)
            .unwrap_or_else(|e| panic!("{}: connect: {e}", self.adapter.name()))
    }

    /// A logged-in session of this adapter's `user` over plain TCP (ejabberd takes the
    /// digest, so no plaintext password crosses).
    fn login(&self, server: &Server, user: &str, config: Config) -> Box<dyn Session> {
        let mut session = self.connect(server.addr(), config, Options::plain());
        session
            .login(creds(&self.user(user)))
            .unwrap_or_else(|e| panic!("{}: login: {e}", self.adapter.name()));
        session
    }
}

/// Trusts the run's throw-away CA and nothing else.
fn test_tls() -> Tls {
    let mut tls = Tls::default().trust(TestCa::get().ca_der().to_vec());
    tls.no_builtin_roots = true;
    tls
}

fn creds(user: &str) -> Credentials {
    scenario::creds(user, PASSWORD)
}

/// The session's own full JID.
fn full_jid(session: &mut dyn Session) -> Jid {
    session.jid().expect("logged in: a JID")
}

// ---- scenarios ----

fn login_and_roster_fetch(ctx: &Ctx<'_>) {
    let server = ctx.server;
    let mut session = ctx.connect(server.addr(), ctx.config(server), Options::plain());
    assert!(!session.is_tls());
    let me = session.login(creds(&ctx.user("alice"))).expect("login");
    assert_eq!(me.jid.local(), Some(ctx.user("alice").as_str()));
    assert_eq!(me.jid.domain(), server.domain());
    // Config::fetch_roster is on by default: the roster came with the login (empty for
    // a fresh account, but present).
    let roster = me.roster.expect("the roster was fetched");
    assert!(roster.items.is_empty(), "{roster:?}");

    // Add a contact (a roster set); the server pushes the change to our session.
    let bob = format!("{}@{}", ctx.user("bob"), server.domain());
    let item = Element::builder("query", ns::IQ_ROSTER)
        .child(
            Element::builder("item", ns::IQ_ROSTER)
                .attr("jid", &bob)
                .attr("name", "Bob")
                .child(Element::builder("group", ns::IQ_ROSTER).text("Friends")),
        )
        .build()
        .expect("a roster item");
    session
        .command(Box::new(move |client, now| {
            client.send_iq(now, None, IqType::Set, item).map(|_| ())
        }))
        .expect("transport")
        .expect("roster set");
    let pushed = wait_for(&mut *session, Duration::from_secs(10), |e| match e {
        Event::Roster(RosterEvent::Push(r)) => Some(r.clone()),
        _ => None,
    });
    assert_eq!(pushed.items.len(), 1, "{pushed:?}");
    assert_eq!(session.close().expect("logout"), CloseReason::Local);

    // A new session fetches it with the login.
    let mut again = ctx.connect(server.addr(), ctx.config(server), Options::plain());
    let me = again.login(creds(&ctx.user("alice"))).expect("login");
    let roster = me.roster.expect("the roster was fetched");
    let item = roster
        .items
        .iter()
        .find(|i| i.jid.as_str() == bob)
        .unwrap_or_else(|| panic!("bob in the roster: {roster:?}"));
    assert_eq!(item.name.as_deref(), Some("Bob"));
    assert_eq!(item.groups, vec!["Friends".to_string()]);
    assert_eq!(again.close().expect("logout"), CloseReason::Local);
}

fn login_over_direct_tls(ctx: &Ctx<'_>) {
    let server = ctx.server;
    let mut config = ctx.config(server);
    // No digest: the password goes as it is, which the core allows only because the
    // adapter tells it the transport is encrypted (allow_plaintext stays off).
    config.use_digest = false;
    assert!(!config.allow_plaintext);
    let mut session = ctx.connect(server.tls_addr(), config, Options::tls(test_tls()));
    assert!(session.is_tls());
    let me = session
        .login(creds(&ctx.user("alice")))
        .expect("login over TLS");
    assert_eq!(me.jid.domain(), server.domain());
    let to = me.jid.clone();
    session
        .send(
            Message::new(MessageType::Chat, &to, "over TLS")
                .expect("message")
                .into(),
        )
        .expect("send");
    assert_eq!(
        wait_for(&mut *session, Duration::from_secs(10), body_of),
        "over TLS"
    );
    assert_eq!(session.close().expect("logout"), CloseReason::Local);
}

fn untrusted_certificate(ctx: &Ctx<'_>) {
    let server = ctx.server;
    // Only the built-in roots: the throw-away CA is unknown, the handshake must fail
    // before any XMPP byte is exchanged.
    let mut session = ctx.connect(server.tls_addr(), ctx.config(server), Options::default());
    match session.login(creds(&ctx.user("alice"))) {
        Err(Error::Tls(e)) => {
            let text = e.to_string();
            assert!(text.contains("certificate"), "{text}");
        }
        Err(other) => panic!("expected a TLS error, got {other}"),
        Ok(me) => panic!("logged in as {} with an untrusted certificate", me.jid),
    }
}

fn message_round_trip(ctx: &Ctx<'_>) {
    let server = ctx.server;
    let mut alice = ctx.login(server, "alice", ctx.config(server));
    let mut bob = ctx.login(server, "bob", ctx.config(server));
    let bob_jid = full_jid(&mut *bob);
    let alice_jid = full_jid(&mut *alice);
    let body = "ping <&> ünïcödé";
    alice
        .send(
            Message::new(MessageType::Chat, &bob_jid, body)
                .expect("message")
                .into(),
        )
        .expect("send");
    assert_eq!(wait_for(&mut *bob, Duration::from_secs(10), body_of), body);
    bob.send(
        Message::new(MessageType::Chat, &alice_jid, "pong")
            .expect("message")
            .into(),
    )
    .expect("send");
    assert_eq!(
        wait_for(&mut *alice, Duration::from_secs(10), body_of),
        "pong"
    );
    assert_eq!(alice.close().expect("logout"), CloseReason::Local);
    assert_eq!(bob.close().expect("logout"), CloseReason::Local);
}

fn directed_presence(ctx: &Ctx<'_>) {
    let server = ctx.server;
    let mut alice = ctx.login(server, "alice", ctx.config(server));
    let mut bob = ctx.login(server, "bob", ctx.config(server));
    let bob_jid = full_jid(&mut *bob);
    let alice_jid = full_jid(&mut *alice);
    let presence = Element::builder("presence", ns::CLIENT)
        .attr("to", bob_jid.as_str())
        .child(Element::builder("show", ns::CLIENT).text("away"))
        .child(Element::builder("status", ns::CLIENT).text("at lunch"))
        .build()
        .expect("presence");
    alice.send(presence).expect("send");
    let (from, status) = wait_for(&mut *bob, Duration::from_secs(10), |e| match e {
        Event::Stanza(StanzaEvent::Presence(p)) if p.status().is_some() => Some((
            p.from().map(|f| f.to_string()),
            p.status().map(|s| s.to_string()),
        )),
        _ => None,
    });
    assert_eq!(from.as_deref(), Some(alice_jid.as_str()));
    assert_eq!(status.as_deref(), Some("at lunch"));
    assert_eq!(alice.close().expect("logout"), CloseReason::Local);
    assert_eq!(bob.close().expect("logout"), CloseReason::Local);
}

fn keepalive_across_idle_period(ctx: &Ctx<'_>) {
    let server = ctx.server;
    // Our idle timer 1 s and dead-peer timer 2 s; ejabberd pings a client silent for
    // 3 s, too late to keep our dead-peer timer quiet. Idle for 8 s: only our own probes
    // (after 1 s without input, answered by the server) keep the session, and they run
    // only if the adapter fires the core's timers.
    let mut config = ctx.config(server);
    config.keepalive_interval = Some(Duration::from_secs(1));
    config.dead_peer_timeout = Some(Duration::from_secs(2));
    let mut session = ctx.login(server, "alice", config);
    let me = full_jid(&mut *session);
    let until = Instant::now() + Duration::from_secs(8);
    while let Some(left) = until.checked_duration_since(Instant::now()) {
        match session
            .next_event(left)
            .expect("no transport error while idle")
        {
            Next::Event(Event::Closed(r)) => panic!("the idle session died: {r}"),
            Next::Ended => panic!("the idle session ended"),
            _ => {}
        }
    }
    // The timers ran: no deadline of the core is overdue.
    let overdue_ms = Arc::new(AtomicU64::new(0));
    let out = overdue_ms.clone();
    session
        .command(Box::new(move |client, now| {
            if let Some(at) = client.poll_timeout() {
                out.store(
                    now.saturating_duration_since(at).as_millis() as u64,
                    Ordering::SeqCst,
                );
            }
            Ok(())
        }))
        .expect("transport")
        .expect("a getter");
    let overdue = overdue_ms.load(Ordering::SeqCst);
    assert!(
        overdue < 500,
        "a deadline of the core is {overdue} ms overdue"
    );
    session
        .send(
            Message::new(MessageType::Chat, &me, "still here")
                .expect("message")
                .into(),
        )
        .expect("send");
    assert_eq!(
        wait_for(&mut *session, Duration::from_secs(10), body_of),
        "still here"
    );
    assert_eq!(session.close().expect("logout"), CloseReason::Local);
}

fn killed_server(ctx: &Ctx<'_>) {
    let mut own = Server::start(ServerKind::Ejabberd).expect("a server of its own");
    own.register("dave", PASSWORD).expect("account");
    let mut config = ctx.config(&own);
    // Far beyond what the kernel needs: noticing must come from the connection's end,
    // not from the dead-peer timer.
    config.dead_peer_timeout = Some(Duration::from_secs(30));
    let mut session = ctx.connect(own.addr(), config, Options::plain());
    session.login(creds("dave")).expect("login");
    own.kill();
    let took = scenario::await_killed_server(&mut *session);
    assert!(took < Duration::from_secs(3), "took {took:?}");
}

fn logout(ctx: &Ctx<'_>) {
    let server = ctx.server;
    let session = ctx.login(server, "bob", ctx.config(server));
    // Local: the server answered our stream end with its own within the close timeout;
    // anything else (LocalTimeout, EndOfInput) fails.
    assert_eq!(session.close().expect("logout"), CloseReason::Local);
}
