//! XMPP over WebSocket (RFC 7395) on real servers through jabber-tokio's native
//! WebSocket runtime: ejabberd (`ejabberd_http_ws`) and prosody (`mod_websocket`), each
//! over `ws:` and `wss:` (the test CA): SASL login, the roster fetch, a message round
//! trip with a TCP client (jabber-std, STARTTLS), the close; and XEP-0156 discovery
//! where the server publishes `host-meta` (ejabberd's `mod_host_meta`).

use std::time::{Duration, Instant};

use jabber_net::{Options, Tls};
use jabber_proto::client::{CloseReason, Config, Event, StanzaEvent};
use jabber_proto::jid::Jid;
use jabber_proto::negotiation::auth::Credentials;
use jabber_proto::stanza::{Message, MessageType};
use jabber_proto::stream::Framing;
use jabber_tests::{Server, ServerKind, TestCa};
use jabber_tokio::WebSocketConnection;

const PASSWORD: &str = "ws-Pa55word";

fn test_tls() -> Tls {
    let mut tls = Tls::default().trust(TestCa::get().ca_der().to_vec());
    tls.no_builtin_roots = true;
    tls
}

fn options() -> Options {
    Options::tls(test_tls())
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime")
}

/// A TCP client (jabber-std, STARTTLS on the plain port) logged in as `user`.
fn tcp_client(server: &Server, user: &str) -> jabber_std::Connection {
    let config = Config::new(server.domain(), jabber_net::fresh_seed());
    let mut conn =
        jabber_std::Connection::connect_with(server.addr(), config, Options::starttls(test_tls()))
            .expect("TCP connected");
    conn.login(Credentials::new(user, PASSWORD, "tcp"))
        .expect("TCP login");
    conn
}

/// Waits up to 10 s for a message with `body` over TCP. (Others may come first: a
/// message the last session received but had not acknowledged when it closed is
/// delivered again, XEP-0198.)
fn tcp_receive(conn: &mut jabber_std::Connection, body: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        assert!(!left.is_zero(), "no message over TCP within 10 s");
        if let jabber_std::Next::Event(Event::Stanza(StanzaEvent::Message(m))) =
            conn.next_event_timeout(left).expect("TCP alive")
        {
            if m.body().as_deref() == Some(body) {
                return body.to_owned();
            }
        }
    }
}

/// Waits up to 10 s for a message with `body` over the WebSocket (see
/// [`tcp_receive`]).
async fn ws_receive(conn: &mut WebSocketConnection, body: &str) -> String {
    let wait = async {
        loop {
            match conn.next_event().await.expect("WebSocket alive") {
                Some(Event::Stanza(StanzaEvent::Message(m))) => {
                    if m.body().as_deref() == Some(body) {
                        return body.to_owned();
                    }
                }
                Some(_) => {}
                None => panic!("the WebSocket connection ended"),
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(10), wait)
        .await
        .expect("a message over the WebSocket within 10 s")
}

/// Log in over the WebSocket at `url`, fetch the roster, exchange a message each way
/// with a TCP client, close.
fn round_trip(server: &Server, url: &str, user: &str, peer: &str) {
    let rt = runtime();
    let mut tcp = tcp_client(server, peer);
    let mut config = Config::new(server.domain(), jabber_net::fresh_seed());
    // `ws:` carries no TLS: the login must not insist on it.
    config.require_tls = url.starts_with("wss:");
    let mut ws = rt.block_on(async {
        let mut ws = WebSocketConnection::connect(url, config, options())
            .await
            .unwrap_or_else(|e| panic!("{} {url}: {e}", server.kind()));
        let me = ws
            .login(Credentials::new(user, PASSWORD, "web"))
            .await
            .unwrap_or_else(|e| panic!("{} {url}: login: {e}", server.kind()));
        assert_eq!(me.jid.as_str(), format!("{user}@localhost/web").as_str());
        // The roster was fetched (empty for a fresh account, but there).
        assert!(me.roster.is_some(), "no roster over {url}");
        ws
    });
    assert_eq!(ws.client().config().framing, Framing::WebSocket);
    assert_eq!(ws.is_tls(), url.starts_with("wss:"));
    assert_eq!(ws.client().config().transport_encrypted, ws.is_tls());

    let peer_jid = Jid::parse(&format!("{peer}@localhost")).expect("a JID");
    let hello = format!("hello over {url}");
    let msg = Message::new(MessageType::Chat, &peer_jid, &hello).expect("a message");
    rt.block_on(async {
        ws.send(msg).expect("sent");
        ws.flush().await.expect("flushed");
    });
    assert_eq!(tcp_receive(&mut tcp, &hello), hello);

    let user_jid = Jid::parse(&format!("{user}@localhost")).expect("a JID");
    let back = format!("and back to {url} <&>");
    tcp.send(Message::new(MessageType::Chat, &user_jid, &back).expect("a message"))
        .expect("sent over TCP");
    let got = rt.block_on(ws_receive(&mut ws, &back));
    assert_eq!(got, back);

    let reason = rt.block_on(ws.close()).expect("closed");
    assert_eq!(reason, CloseReason::Local, "{} {url}", server.kind());
    tcp.close().expect("TCP closed");
}

fn run(kind: ServerKind) {
    let started = Instant::now();
    let server = match Server::start_websocket(kind) {
        Ok(server) => server,
        Err(e) => panic!("{kind} with WebSocket listeners: {e}"),
    };
    for user in ["wsalice", "wsbob"] {
        server.register(user, PASSWORD).expect("registered");
    }
    let ws = server.websocket_url(false).expect("ws:");
    let wss = server.websocket_url(true).expect("wss:");
    round_trip(&server, &ws, "wsalice", "wsbob");
    round_trip(&server, &wss, "wsalice", "wsbob");
    if kind == ServerKind::Ejabberd {
        // XEP-0156: ejabberd publishes its endpoint (mod_host_meta) on its HTTPS port,
        // for the virtual host the request names.
        let ports = server.websocket_ports().expect("ports");
        let origin = format!("https://{}:{}", server.domain(), ports.wss);
        let found = runtime()
            .block_on(jabber_tokio::discover_websocket_at(
                &origin,
                server.domain(),
                &options(),
            ))
            .expect("host-meta fetched");
        let expected = format!("wss://localhost:{}/ws", ports.wss);
        assert_eq!(found, std::slice::from_ref(&expected));
        round_trip(&server, &expected, "wsbob", "wsalice");
    }
    eprintln!("{kind} over WebSocket: {:?}", started.elapsed());
}

#[test]
fn ejabberd_over_websocket() {
    run(ServerKind::Ejabberd);
}

#[test]
fn prosody_over_websocket() {
    run(ServerKind::Prosody);
}
