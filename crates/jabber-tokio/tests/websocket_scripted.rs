//! The WebSocket runtime against a scripted loopback WebSocket server: the `xmpp`
//! subprotocol is required, a `<close see-other-uri/>` ends the connection with that
//! reason (our `<close/>` answers it), and a message that is not one element is answered
//! with a stream error and a close, each its own message.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use jabber_proto::stream::ParseError;
use jabber_tokio::{CloseReason, Config, Event, Options, WebSocketConnection};
use tokio::net::{TcpListener, TcpStream};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::handshake::server::{Request, Response};
use tokio_tungstenite::tungstenite::http::HeaderValue;

const OPEN: &str = "<open xmlns='urn:ietf:params:xml:ns:xmpp-framing' to='example.com' \
    version='1.0'/>";
const SERVER_OPEN: &str = "<open xmlns='urn:ietf:params:xml:ns:xmpp-framing' \
    from='example.com' id='x1' version='1.0'/>";
const CLOSE: &str = "<close xmlns='urn:ietf:params:xml:ns:xmpp-framing'/>";

/// A listener and the `ws:` URL to it.
async fn listener() -> (TcpListener, String) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bound");
    let port = listener.local_addr().expect("an address").port();
    (listener, format!("ws://127.0.0.1:{port}/xmpp"))
}

/// Accepts one WebSocket connection, agreeing to `xmpp` when `agree`.
// tungstenite's callback signature returns its (large) error response by value.
#[allow(clippy::result_large_err)]
async fn accept(listener: &TcpListener, agree: bool) -> WebSocketStream<TcpStream> {
    let (tcp, _) = listener.accept().await.expect("accepted");
    let callback = move |request: &Request, mut response: Response| {
        let asked = request
            .headers()
            .get("Sec-WebSocket-Protocol")
            .and_then(|v| v.to_str().ok());
        assert_eq!(asked, Some("xmpp"));
        if agree {
            response
                .headers_mut()
                .insert("Sec-WebSocket-Protocol", HeaderValue::from_static("xmpp"));
        }
        Ok(response)
    };
    tokio_tungstenite::accept_hdr_async(tcp, callback)
        .await
        .expect("handshake")
}

/// The next text message the server gets.
async fn text(ws: &mut WebSocketStream<TcpStream>) -> String {
    loop {
        let next = tokio::time::timeout(Duration::from_secs(5), ws.next())
            .await
            .expect("a message within 5 s");
        match next {
            Some(Ok(Message::Text(t))) => return t.as_str().to_owned(),
            Some(Ok(_)) => {}
            other => panic!("no text message: {other:?}"),
        }
    }
}

fn config() -> Config {
    Config::new("example.com", jabber_tokio::fresh_seed())
}

/// Events until the stream ends, within 5 s.
async fn events(conn: &mut WebSocketConnection) -> Vec<Event> {
    let mut events = Vec::new();
    let drain = async {
        while let Some(event) = conn.next_event().await.expect("no transport error") {
            events.push(event);
        }
    };
    tokio::time::timeout(Duration::from_secs(5), drain)
        .await
        .expect("the connection ends within 5 s");
    events
}

#[tokio::test]
async fn see_other_uri_ends_the_connection_with_that_reason() {
    let (listener, url) = listener().await;
    let server = tokio::spawn(async move {
        let mut ws = accept(&listener, true).await;
        assert_eq!(text(&mut ws).await, OPEN);
        ws.send(Message::text(
            "<close xmlns='urn:ietf:params:xml:ns:xmpp-framing' \
             see-other-uri='wss://elsewhere.example/xmpp'/>",
        ))
        .await
        .expect("sent");
        // Our close answers it.
        assert_eq!(text(&mut ws).await, CLOSE);
    });
    let mut conn = WebSocketConnection::connect(&url, config(), Options::plain())
        .await
        .expect("connected");
    assert!(!conn.is_tls());
    let events = events(&mut conn).await;
    assert!(
        matches!(
            events.last(),
            Some(Event::Closed(CloseReason::SeeOtherUri(uri))) if uri == "wss://elsewhere.example/xmpp"
        ),
        "{events:?}"
    );
    server.await.expect("the server's side ran");
}

#[tokio::test]
async fn a_message_of_two_elements_is_answered_with_a_stream_error() {
    let (listener, url) = listener().await;
    let server = tokio::spawn(async move {
        let mut ws = accept(&listener, true).await;
        assert_eq!(text(&mut ws).await, OPEN);
        ws.send(Message::text(SERVER_OPEN)).await.expect("sent");
        ws.send(Message::text(
            "<presence xmlns='jabber:client'/><presence xmlns='jabber:client'/>",
        ))
        .await
        .expect("sent");
        assert_eq!(
            text(&mut ws).await,
            "<error xmlns='http://etherx.jabber.org/streams'>\
             <bad-format xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></error>"
        );
        assert_eq!(text(&mut ws).await, CLOSE);
    });
    let mut conn = WebSocketConnection::connect(&url, config(), Options::plain())
        .await
        .expect("connected");
    let events = events(&mut conn).await;
    assert!(
        matches!(
            events.last(),
            Some(Event::Closed(CloseReason::Protocol(
                ParseError::ExtraInMessage
            )))
        ),
        "{events:?}"
    );
    server.await.expect("the server's side ran");
}

#[tokio::test]
async fn a_server_that_does_not_speak_xmpp_is_refused() {
    let (listener, url) = listener().await;
    let server = tokio::spawn(async move {
        // The handshake may fail on either side; the server's outcome does not matter.
        let (tcp, _) = listener.accept().await.expect("accepted");
        let _ = tokio_tungstenite::accept_async(tcp).await;
    });
    let result = WebSocketConnection::connect(&url, config(), Options::plain()).await;
    assert!(result.is_err(), "{result:?}");
    let _ = server.await;
}

#[tokio::test]
async fn a_message_beyond_the_stanza_limit_is_not_buffered() {
    let (listener, url) = listener().await;
    let server = tokio::spawn(async move {
        let mut ws = accept(&listener, true).await;
        assert_eq!(text(&mut ws).await, OPEN);
        ws.send(Message::text(SERVER_OPEN)).await.expect("sent");
        let body = "x".repeat(20_000);
        let _ = ws
            .send(Message::text(format!(
                "<message xmlns='jabber:client'><body>{body}</body></message>"
            )))
            .await;
        // Held open until the client gives up.
        let _ = tokio::time::timeout(Duration::from_secs(5), ws.next()).await;
    });
    let mut c = config();
    c.limits.max_stanza_bytes = 4096;
    let mut conn = WebSocketConnection::connect(&url, c, Options::plain())
        .await
        .expect("connected");
    let outcome = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            match conn.next_event().await {
                Ok(Some(_)) => {}
                other => return other,
            }
        }
    })
    .await
    .expect("an outcome within 5 s");
    // The WebSocket layer refuses the message at the core's limit: a transport error.
    assert!(outcome.is_err(), "{outcome:?}");
    drop(conn);
    let _ = server.await;
}

/// Accepts one TCP connection and says nothing, holding it for 10 s.
async fn silent(listener: TcpListener) {
    let (tcp, _) = listener.accept().await.expect("accepted");
    tokio::time::sleep(Duration::from_secs(10)).await;
    drop(tcp);
}

fn short_timeouts() -> Options {
    let mut o = Options::plain();
    o.connect_timeout = Duration::from_millis(200);
    o
}

fn timed_out<T>(result: &Result<T, jabber_tokio::Error>) -> bool {
    matches!(result, Err(jabber_tokio::Error::Io(e)) if e.kind() == std::io::ErrorKind::TimedOut)
}

#[tokio::test]
async fn a_silent_peer_times_the_upgrade_and_the_tls_handshake_out() {
    // ws: the WebSocket upgrade gets no answer.
    let (l, url) = listener().await;
    let server = tokio::spawn(silent(l));
    let result = tokio::time::timeout(
        Duration::from_secs(5),
        WebSocketConnection::connect(&url, config(), short_timeouts()),
    )
    .await
    .expect("given up within 5 s");
    assert!(timed_out(&result), "{result:?}");
    server.abort();
    // wss: the TLS handshake gets no answer.
    let (l, url) = listener().await;
    let server = tokio::spawn(silent(l));
    let url = url.replacen("ws:", "wss:", 1);
    let result = tokio::time::timeout(
        Duration::from_secs(5),
        WebSocketConnection::connect(&url, config(), short_timeouts()),
    )
    .await
    .expect("given up within 5 s");
    assert!(timed_out(&result), "{result:?}");
    server.abort();
}

#[tokio::test]
async fn discovery_from_a_silent_server_times_out() {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bound");
    let port = listener.local_addr().expect("an address").port();
    // Two GETs (host-meta, then host-meta.json), each to a silent peer.
    let server = tokio::spawn(async move {
        let first = tokio::spawn(silent_once(&listener).await);
        let second = silent_once(&listener).await;
        second.await;
        let _ = first.await;
    });
    let result = tokio::time::timeout(
        Duration::from_secs(5),
        jabber_tokio::discover_websocket_at(
            &format!("https://127.0.0.1:{port}"),
            "example.com",
            &short_timeouts(),
        ),
    )
    .await
    .expect("given up within 5 s");
    assert!(timed_out(&result), "{result:?}");
    server.abort();
}

/// Accepts one TCP connection; the future holds it, silent, for 10 s.
async fn silent_once(listener: &TcpListener) -> impl std::future::Future<Output = ()> + use<> {
    let (tcp, _) = listener.accept().await.expect("accepted");
    async move {
        tokio::time::sleep(Duration::from_secs(10)).await;
        drop(tcp);
    }
}

#[tokio::test]
async fn a_login_amid_a_flood_stops_at_the_event_bound() {
    let (listener, url) = listener().await;
    let server = tokio::spawn(async move {
        let mut ws = accept(&listener, true).await;
        assert_eq!(text(&mut ws).await, OPEN);
        ws.send(Message::text(SERVER_OPEN)).await.expect("sent");
        // Messages, and never the features a login needs.
        for i in 0..50 {
            let message = format!(
                "<message xmlns='jabber:client' from='bob@example.com/x'><body>{i}</body></message>"
            );
            if ws.send(Message::text(message)).await.is_err() {
                return;
            }
        }
        let _ = tokio::time::timeout(Duration::from_secs(10), ws.next()).await;
    });
    let mut c = config();
    c.require_tls = false;
    c.max_events = 8;
    let mut conn = WebSocketConnection::connect(&url, c, Options::plain())
        .await
        .expect("connected");
    let login = tokio::time::timeout(
        Duration::from_secs(5),
        conn.login(jabber_tokio::Credentials::new("alice", "secret", "r")),
    )
    .await
    .expect("the login gives up within 5 s");
    assert!(
        matches!(
            login,
            Err(jabber_tokio::Error::Client(
                jabber_proto::client::Error::EventQueueFull
            ))
        ),
        "{login:?}"
    );
    // The events are there to take.
    let mut queued = 0;
    while let Ok(Ok(Some(_))) =
        tokio::time::timeout(Duration::from_millis(100), conn.next_event()).await
    {
        queued += 1;
        if queued >= 8 {
            break;
        }
    }
    assert!(queued >= 8, "{queued}");
    drop(conn);
    server.abort();
}

#[tokio::test]
async fn a_peer_that_stops_reading_times_the_write_out() {
    let (listener, url) = listener().await;
    let server = tokio::spawn(async move {
        let mut ws = accept(&listener, true).await;
        assert_eq!(text(&mut ws).await, OPEN);
        ws.send(Message::text(SERVER_OPEN)).await.expect("sent");
        // Then reads nothing more, holding the socket open.
        tokio::time::sleep(Duration::from_secs(30)).await;
        drop(ws);
    });
    let mut c = config();
    c.require_tls = false;
    c.max_unsent_bytes = 64 << 20;
    let mut options = Options::plain();
    options.write_timeout = Some(Duration::from_millis(300));
    let mut conn = WebSocketConnection::connect(&url, c, options)
        .await
        .expect("connected");
    // Wait for the server's `<open/>`.
    let opened = tokio::time::timeout(Duration::from_secs(5), conn.next_event())
        .await
        .expect("opened within 5 s");
    assert!(matches!(opened, Ok(Some(Event::Stream(_)))), "{opened:?}");
    let to = jabber_tokio::Jid::parse("bob@example.com").expect("jid");
    let body = "x".repeat(1 << 20);
    let outcome = tokio::time::timeout(Duration::from_secs(20), async {
        // Far more than the loopback socket's buffers can hold.
        for _ in 0..200 {
            let message = jabber_tokio::Message::new(jabber_tokio::MessageType::Chat, &to, &body)
                .expect("a message");
            conn.send(message)?;
            conn.flush().await?;
        }
        Ok::<(), jabber_tokio::Error>(())
    })
    .await
    .expect("the write gives up within 20 s");
    assert!(timed_out(&outcome), "{outcome:?}");
    server.abort();
}

#[tokio::test]
async fn the_capture_option_writes_the_session() {
    let (listener, url) = listener().await;
    let server = tokio::spawn(async move {
        let mut ws = accept(&listener, true).await;
        assert_eq!(text(&mut ws).await, OPEN);
        ws.send(Message::text(SERVER_OPEN)).await.expect("sent");
        ws.send(Message::text(CLOSE)).await.expect("sent");
        assert_eq!(text(&mut ws).await, CLOSE);
    });
    let path = std::env::temp_dir().join(format!("jabber-ws-capture-{}.xml", std::process::id()));
    let mut options = Options::plain();
    options.capture = Some(path.clone());
    let mut conn = WebSocketConnection::connect(&url, config(), options)
        .await
        .expect("connected");
    let events = events(&mut conn).await;
    assert!(
        matches!(events.last(), Some(Event::Closed(_))),
        "{events:?}"
    );
    drop(conn);
    server.await.expect("the server's side ran");
    let captured = std::fs::read_to_string(&path).expect("the capture file");
    let _ = std::fs::remove_file(&path);
    assert!(
        captured.starts_with(jabber_proto::replay::FILE_HEADER),
        "{captured}"
    );
    // What came in (the server's open) and what went out (ours) are both recorded.
    assert!(captured.contains("x1"), "{captured}");
    assert!(
        captured.len() > jabber_proto::replay::FILE_HEADER.len() + 100,
        "{captured}"
    );
}
