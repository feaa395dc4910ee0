//! Server lookup (RFC 6120 §3.2, XEP-0368, RFC 2782) against a DNS server this test
//! runs on 127.0.0.1 (tests/src/dns.rs), then real logins on ejabberd and prosody at the
//! endpoints it names.
//!
//! The test servers serve `localhost`, and resolvers answer `*.localhost` themselves
//! (RFC 6761) without asking any DNS server, so the SRV records live under
//! `example.test` and `connect_domain` is asked for that name while the config's
//! domain (and the certificate checked) stays `localhost`.

use std::net::{Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

use jabber_net::resolve::BlockingResolver;
use jabber_net::srv::{Endpoint, SrvRecord, endpoints};
use jabber_net::{Options, Tls};
use jabber_proto::client::{Config, Event, StanzaEvent};
use jabber_proto::negotiation::auth::Credentials;
use jabber_proto::stanza::{Message, MessageType};
use jabber_std::{Connection, Next};
use jabber_tests::dns::DnsServer;
use jabber_tests::{Server, ServerKind, TestCa, free_port};

const LOOKUP: &str = "example.test";

fn test_tls() -> Tls {
    let mut tls = Tls::default().trust(TestCa::get().ca_der().to_vec());
    tls.no_builtin_roots = true;
    tls
}

fn options(dns: &DnsServer) -> Options {
    let mut options = Options::tls(test_tls());
    options.starttls = Some(test_tls());
    options.dns_servers = vec![dns.addr()];
    options.connect_timeout = Duration::from_secs(3);
    options
}

fn config(server: &Server) -> Config {
    let mut c = Config::new(server.domain(), jabber_net::fresh_seed());
    c.version = Some("1.0".into());
    c
}

fn login_and_echo(conn: &mut Connection, user: &str, password: &str) {
    conn.login(Credentials::new(user, password, "lookup"))
        .unwrap_or_else(|e| panic!("login: {e}"));
    let me = conn.client().jid().expect("bound").to_bare();
    conn.send(Message::new(MessageType::Chat, &me, "found you").expect("message"))
        .expect("sent");
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match conn.next_event_timeout(left).expect("alive") {
            Next::Event(Event::Stanza(StanzaEvent::Message(m)))
                if m.body().as_deref() == Some("found you") =>
            {
                return;
            }
            Next::Event(_) => {}
            other => panic!("the message did not come back: {other:?}"),
        }
    }
}

/// A port on 127.0.0.1 where nothing listens: connecting is refused at once.
fn dead_port() -> u16 {
    free_port()
}

fn lookup_on(kind: ServerKind) {
    let server = Server::start(kind).expect("the server starts");
    server.register("finder", "Lookup-1").expect("an account");
    let tls_port = server.tls_addr().port();
    let plain_port = server.addr().port();

    // 1. Direct TLS first (priority 0), STARTTLS behind it: direct TLS is used.
    let dns = DnsServer::start().expect("dns");
    dns.srv(
        &format!("_xmpps-client._tcp.{LOOKUP}"),
        0,
        5,
        tls_port,
        "tls.example.test",
    );
    dns.srv(
        &format!("_xmpp-client._tcp.{LOOKUP}"),
        10,
        5,
        plain_port,
        "plain.example.test",
    );
    dns.a("tls.example.test", Ipv4Addr::LOCALHOST);
    dns.a("plain.example.test", Ipv4Addr::LOCALHOST);
    let mut conn =
        Connection::connect_domain(LOOKUP, config(&server), options(&dns)).expect("connected");
    assert!(
        conn.is_tls(),
        "{kind}: the _xmpps-client record means TLS from the start"
    );
    assert_eq!(conn.peer_addr().expect("peer").port(), tls_port);
    login_and_echo(&mut conn, "finder", "Lookup-1");
    conn.close().expect("closed");
    let asked = dns.queries();
    for question in [
        "_xmpps-client._tcp.example.test. SRV",
        "_xmpp-client._tcp.example.test. SRV",
        "tls.example.test. A",
    ] {
        assert!(
            asked.iter().any(|q| q == question),
            "{question} in {asked:?}"
        );
    }
    assert!(
        !asked.iter().any(|q| q.starts_with("plain.")),
        "the backup was not even resolved: {asked:?}"
    );
    drop(dns);

    // 2. The direct-TLS host refuses: the STARTTLS record of the next priority serves.
    let dns = DnsServer::start().expect("dns");
    dns.srv(
        &format!("_xmpps-client._tcp.{LOOKUP}"),
        0,
        5,
        dead_port(),
        "tls.example.test",
    );
    dns.srv(
        &format!("_xmpp-client._tcp.{LOOKUP}"),
        10,
        5,
        plain_port,
        "plain.example.test",
    );
    dns.a("tls.example.test", Ipv4Addr::LOCALHOST);
    dns.a("plain.example.test", Ipv4Addr::LOCALHOST);
    let mut conn =
        Connection::connect_domain(LOOKUP, config(&server), options(&dns)).expect("connected");
    assert!(
        !conn.is_tls(),
        "{kind}: plain TCP first, STARTTLS inside the stream"
    );
    assert_eq!(conn.peer_addr().expect("peer").port(), plain_port);
    login_and_echo(&mut conn, "finder", "Lookup-1");
    assert!(
        conn.is_tls() || conn.client().config().transport_encrypted,
        "{kind}: STARTTLS happened"
    );
    conn.close().expect("closed");
    drop(dns);

    // 3. A target without an address is skipped too.
    let dns = DnsServer::start().expect("dns");
    dns.srv(
        &format!("_xmpp-client._tcp.{LOOKUP}"),
        0,
        0,
        plain_port,
        "gone.example.test",
    );
    dns.srv(
        &format!("_xmpp-client._tcp.{LOOKUP}"),
        1,
        0,
        plain_port,
        "plain.example.test",
    );
    dns.a("plain.example.test", Ipv4Addr::LOCALHOST);
    let conn =
        Connection::connect_domain(LOOKUP, config(&server), options(&dns)).expect("connected");
    assert_eq!(conn.peer_addr().expect("peer").port(), plain_port);
    drop(conn);
}

#[test]
fn ejabberd_found_through_srv_records() {
    lookup_on(ServerKind::Ejabberd);
}

#[test]
fn prosody_found_through_srv_records() {
    lookup_on(ServerKind::Prosody);
}

#[test]
fn no_records_fall_back_to_the_domain_on_5222() {
    let dns = DnsServer::start().expect("dns");
    dns.a("nosrv.test", Ipv4Addr::LOCALHOST);
    let resolver = BlockingResolver::new(&options(&dns)).expect("resolver");
    let found = resolver.endpoints("nosrv.test", 1);
    assert_eq!(
        found,
        [Endpoint {
            host: "nosrv.test".into(),
            port: 5222,
            direct_tls: false
        }]
    );
    assert_eq!(
        resolver.addresses(&found[0]).expect("an address"),
        [SocketAddr::from((Ipv4Addr::LOCALHOST, 5222))]
    );
    let asked = dns.queries();
    for question in [
        "_xmpps-client._tcp.nosrv.test. SRV",
        "_xmpp-client._tcp.nosrv.test. SRV",
        "nosrv.test. A",
    ] {
        assert!(
            asked.iter().any(|q| q == question),
            "{question} in {asked:?}"
        );
    }
}

#[test]
fn a_dot_record_refuses_the_service() {
    let dns = DnsServer::start().expect("dns");
    dns.srv("_xmpp-client._tcp.closed.test", 0, 0, 0, ".");
    dns.a("closed.test", Ipv4Addr::LOCALHOST);
    let config = Config::new("closed.test", jabber_net::fresh_seed());
    let err =
        Connection::connect_domain("closed.test", config, options(&dns)).expect_err("no service");
    assert!(err.to_string().contains("no XMPP client service"), "{err}");
}

#[test]
fn the_dns_answers_are_ordered_like_the_sans_io_rules() {
    let dns = DnsServer::start().expect("dns");
    let records = [
        (0, 10, 5223, "a.example.test", true),
        (0, 30, 5222, "b.example.test", false),
        (0, 60, 5222, "c.example.test", false),
        (0, 0, 5223, "d.example.test", true),
        (7, 1, 5222, "e.example.test", false),
    ];
    for (priority, weight, port, target, tls) in records {
        let service = if tls { "_xmpps-client" } else { "_xmpp-client" };
        dns.srv(
            &format!("{service}._tcp.{LOOKUP}"),
            priority,
            weight,
            port,
            target,
        );
    }
    let direct: Vec<SrvRecord> = records
        .iter()
        .filter(|r| r.4)
        .map(|r| SrvRecord::new(r.0, r.1, r.2, r.3))
        .collect();
    let starttls: Vec<SrvRecord> = records
        .iter()
        .filter(|r| !r.4)
        .map(|r| SrvRecord::new(r.0, r.1, r.2, r.3))
        .collect();
    let resolver = BlockingResolver::new(&options(&dns)).expect("resolver");
    for seed in 0..20 {
        let got = resolver.endpoints(LOOKUP, seed);
        assert_eq!(got.len(), 5);
        assert_eq!(got[4].host, "e.example.test");
        assert_eq!(got, endpoints(LOOKUP, Some(&direct), Some(&starttls), seed));
    }
}

/// The async adapter's `connect_domain`: the same lookup on tokio, direct TLS skipped
/// (refused) for the STARTTLS record behind it.
fn tokio_lookup_on(kind: ServerKind) {
    let server = Server::start(kind).expect("the server starts");
    server.register("async", "Lookup-2").expect("an account");
    let plain_port = server.addr().port();
    let dns = DnsServer::start().expect("dns");
    dns.srv(
        &format!("_xmpps-client._tcp.{LOOKUP}"),
        0,
        0,
        dead_port(),
        "tls.example.test",
    );
    dns.srv(
        &format!("_xmpp-client._tcp.{LOOKUP}"),
        5,
        0,
        plain_port,
        "plain.example.test",
    );
    dns.a("tls.example.test", Ipv4Addr::LOCALHOST);
    dns.a("plain.example.test", Ipv4Addr::LOCALHOST);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let mut conn =
            jabber_tokio::Connection::connect_domain(LOOKUP, config(&server), options(&dns))
                .await
                .expect("connected");
        assert_eq!(conn.peer_addr().expect("peer").port(), plain_port);
        let me = conn
            .login(Credentials::new("async", "Lookup-2", "tokio"))
            .await
            .unwrap_or_else(|e| panic!("{kind} login: {e}"));
        assert_eq!(me.jid.resource(), Some("tokio"));
        assert!(conn.is_tls() || conn.client().config().transport_encrypted);
        conn.close().await.expect("closed");
    });
}

#[test]
fn ejabberd_found_through_srv_records_on_tokio() {
    tokio_lookup_on(ServerKind::Ejabberd);
}

#[test]
fn prosody_found_through_srv_records_on_tokio() {
    tokio_lookup_on(ServerKind::Prosody);
}

/// Polls `driver` until an output for `id` that `pick` accepts; panics on a failure or
/// after 15 s.
fn mio_until(
    driver: &mut jabber_mio::Driver,
    id: jabber_mio::SessionId,
    what: &str,
    pick: impl Fn(&jabber_mio::Output) -> bool,
) {
    let deadline = Instant::now() + Duration::from_secs(15);
    while Instant::now() < deadline {
        driver.poll(Some(Duration::from_millis(100))).expect("poll");
        while let Some((from, output)) = driver.poll_output() {
            if from != id {
                continue; // the end of an earlier session
            }
            if pick(&output) {
                return;
            }
            if let jabber_mio::Output::Failed(e) = output {
                panic!("{what}: failed: {e}");
            }
        }
    }
    panic!("{what}: nothing within 15 s");
}

fn ready(output: &jabber_mio::Output) -> bool {
    matches!(
        output,
        jabber_mio::Output::Event(Event::Session(
            jabber_proto::client::SessionEvent::Ready { .. }
        ))
    )
}

/// The event loop's `connect_domain`: a refused address moves on to the next under the
/// same session id, keeping a login given before the connection was up (same kind:
/// direct TLS), or starting afresh across kinds (direct TLS refused, STARTTLS next)
/// when the login comes after `Connected`.
fn mio_lookup_on(kind: ServerKind) {
    let server = Server::start(kind).expect("the server starts");
    server.register("looped", "Lookup-3").expect("an account");
    let creds = || Credentials::new("looped", "Lookup-3", "mio");

    // First a listener whose accept queue is full: the connect times out (the
    // driver's timer path), then the next address, the login given meanwhile kept.
    let silent = jabber_tests::scripted::FullBacklog::new();
    let dns = DnsServer::start().expect("dns");
    let (silent_port, tls_port) = (silent.addr().port(), server.tls_addr().port());
    dns.srv(
        &format!("_xmpps-client._tcp.{LOOKUP}"),
        0,
        0,
        silent_port,
        "dead.example.test",
    );
    dns.srv(
        &format!("_xmpps-client._tcp.{LOOKUP}"),
        1,
        0,
        tls_port,
        "tls.example.test",
    );
    dns.a("dead.example.test", Ipv4Addr::LOCALHOST);
    dns.a("tls.example.test", Ipv4Addr::LOCALHOST);
    let mut short = options(&dns);
    short.connect_timeout = Duration::from_millis(700);
    let mut driver = jabber_mio::Driver::new().expect("a driver");
    let started = Instant::now();
    let id = driver
        .connect_domain(LOOKUP, config(&server), &short)
        .expect("connecting");
    driver
        .login(id, creds())
        .expect("login given while connecting");
    mio_until(&mut driver, id, "same kind", ready);
    assert!(
        started.elapsed() >= Duration::from_millis(700),
        "{kind}: the silent address was tried first"
    );
    assert_eq!(driver.is_tls(id), Some(true), "{kind}");
    drop(silent);
    driver.close(id).expect("close");
    drop(dns);

    let dns = DnsServer::start().expect("dns");
    dns.srv(
        &format!("_xmpps-client._tcp.{LOOKUP}"),
        0,
        0,
        dead_port(),
        "dead.example.test",
    );
    dns.srv(
        &format!("_xmpp-client._tcp.{LOOKUP}"),
        1,
        0,
        server.addr().port(),
        "plain.example.test",
    );
    dns.a("dead.example.test", Ipv4Addr::LOCALHOST);
    dns.a("plain.example.test", Ipv4Addr::LOCALHOST);
    let id = driver
        .connect_domain(LOOKUP, config(&server), &options(&dns))
        .expect("connecting");
    mio_until(&mut driver, id, "connected", |o| {
        matches!(o, jabber_mio::Output::Connected)
    });
    assert_eq!(
        driver.is_tls(id),
        Some(false),
        "{kind}: plain TCP, then STARTTLS"
    );
    driver.login(id, creds()).expect("login");
    mio_until(&mut driver, id, "across kinds", ready);
    // STARTTLS must really have happened on this plain connection: a core that only
    // believed its transport encrypted (a direct-TLS config carried over) would have
    // skipped it and sent its credentials in the clear.
    assert_eq!(driver.is_tls(id), Some(true), "{kind}: STARTTLS happened");
    driver.close(id).expect("close");
}

#[test]
fn ejabberd_found_through_srv_records_on_mio() {
    mio_lookup_on(ServerKind::Ejabberd);
}

#[test]
fn prosody_found_through_srv_records_on_mio() {
    mio_lookup_on(ServerKind::Prosody);
}
