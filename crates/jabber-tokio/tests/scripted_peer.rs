//! What only this adapter has, against a scripted peer on loopback
//! (`jabber_tests::scripted`, a thread): the `Stream` impl, `Sender` handles in other
//! tasks, waits that cost no CPU (polls counted), cancel-safe waits, writes handed to
//! the socket without a poll, and a write timeout found while waiting for events. What
//! every adapter must do — logging in, the ways a connection ends, timers, TLS,
//! connecting — is run through all three in `tests/tests/adapter_behaviour.rs` (the
//! tokio one there blocks on each future in turn).
//!
//! Most tests run on the current-thread runtime: nothing but the connection's own
//! wake-ups drives it, so a connection that spun shows in the poll counts.

use std::future::poll_fn;
use std::io::ErrorKind;
use std::net::SocketAddr;
use std::pin::Pin;
use std::time::{Duration, Instant};

use futures_core::{FusedStream, Stream};
use jabber_proto::client;
use jabber_proto::stanza::IqType;
use jabber_tests::scripted::{self, gate};
use jabber_tokio::{
    CloseReason, Config, Connection, Element, Error, Event, Jid, Message, Options, PresenceEvent,
    StanzaEvent, StreamEvent,
};
use tokio::time::timeout;

fn chat(body: &str) -> Message {
    scripted::chat("bob@example.com/phone", body)
}

async fn connect(addr: SocketAddr, config: Config) -> Connection {
    Connection::connect_with(addr, config, Options::plain())
        .await
        .expect("connect")
}

async fn logged_in(addr: SocketAddr, config: Config) -> Connection {
    let mut conn = connect(addr, config).await;
    conn.login(scripted::creds()).await.expect("login");
    conn
}

/// The events up to and including `Closed`, then checks that nothing follows.
async fn events_to_close(conn: &mut Connection) -> (Vec<Event>, CloseReason) {
    let mut events = Vec::new();
    loop {
        match conn.next_event().await.expect("no I/O error") {
            Some(Event::Closed(reason)) => {
                assert!(conn.next_event().await.expect("no I/O error").is_none());
                assert!(conn.is_closed());
                return (events, reason);
            }
            Some(event) => events.push(event),
            None => panic!("ended without Closed after {events:?}"),
        }
    }
}

/// The next item of the connection as a [`Stream`].
async fn next_item(conn: &mut Connection) -> Option<Result<Event, Error>> {
    poll_fn(|cx| Pin::new(&mut *conn).poll_next(cx)).await
}

#[tokio::test]
async fn the_events_as_a_stream_end_after_closed() {
    let peer = scripted::serve(|mut peer| {
        peer.open_stream();
        peer.write("<message from='example.com'><body>one</body></message>");
        peer.write("<presence from='bob@example.com/phone'/>");
        peer.close_stream();
    });
    let mut conn = connect(peer.addr(), scripted::config()).await;
    let mut events = Vec::new();
    while let Some(item) = next_item(&mut conn).await {
        events.push(item.expect("no I/O error"));
    }
    assert!(conn.is_terminated());
    assert!(next_item(&mut conn).await.is_none());
    let [
        Event::Stream(StreamEvent::Opened(_)),
        Event::Stanza(StanzaEvent::Message(m)),
        Event::Presence(PresenceEvent::Available(_)),
        Event::Closed(CloseReason::Peer),
    ] = events.as_slice()
    else {
        panic!("{events:?}");
    };
    assert_eq!(m.body().as_deref(), Some("one"));
    assert!(matches!(conn.next_event().await, Ok(None)));
    peer.finish();
}

/// Commands from another task, on a runtime with two worker threads: they run while the
/// owner waits for events, their verdicts come back, and they fail once the connection
/// is over.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sender_in_another_task() {
    let peer = scripted::serve(|mut peer| {
        peer.login();
        for i in 0..3 {
            let message = peer.read_until("</message>");
            assert!(message.contains(&format!("<body>n{i}</body>")), "{message}");
        }
        peer.close_stream();
    });
    let mut conn = logged_in(peer.addr(), scripted::lite_config()).await;
    let sender = conn.sender();
    let task = tokio::spawn(async move {
        let jid = sender
            .command(|client, _| client.jid().cloned())
            .await
            .expect("the command ran");
        assert_eq!(
            jid.as_ref().map(Jid::as_str),
            Some("alice@example.com/laptop")
        );
        // The core's refusal comes back to the sender.
        let payload = Element::builder("query", "jabber:iq:version")
            .build()
            .expect("payload");
        let refused = sender
            .command(move |client, now| client.send_iq(now, None, IqType::Result, payload))
            .await
            .expect("the command ran");
        assert_eq!(refused, Err(client::Error::NotARequest));
        for i in 0..3 {
            sender.send(chat(&format!("n{i}"))).await.expect("sent");
        }
        sender.closed().await;
        assert!(sender.is_closed());
        match sender.send(chat("late")).await {
            Err(Error::Client(client::Error::Closed)) => {}
            other => panic!("{other:?}"),
        }
    });
    let (events, reason) = events_to_close(&mut conn).await;
    assert!(
        matches!(events.as_slice(), [Event::Stream(StreamEvent::Opened(_))]),
        "{events:?}"
    );
    assert_eq!(reason, CloseReason::Peer);
    if let Err(e) = task.await {
        std::panic::resume_unwind(e.into_panic());
    }
    // A sender made after the end fails at once; closing it is a no-op.
    let late = conn.sender();
    assert!(late.is_closed());
    assert!(matches!(
        late.send(chat("later")).await,
        Err(Error::Client(client::Error::Closed))
    ));
    late.close().await;
    peer.finish();
}

#[tokio::test]
async fn a_sender_logs_out_and_the_owner_sees_the_end() {
    let peer = scripted::serve(|mut peer| {
        peer.login();
        peer.read_until("</stream:stream>");
        peer.write("<message from='example.com'><body>bye</body></message>");
        peer.write("</stream:stream>");
        assert_eq!(peer.read_to_end(), "");
    });
    let mut conn = logged_in(peer.addr(), scripted::lite_config()).await;
    let sender = conn.sender();
    let task = tokio::spawn(async move { sender.close().await });
    let (events, reason) = events_to_close(&mut conn).await;
    let [
        Event::Stream(StreamEvent::Opened(_)),
        Event::Stanza(StanzaEvent::Message(m)),
    ] = events.as_slice()
    else {
        panic!("{events:?}");
    };
    assert_eq!(m.body().as_deref(), Some("bye"));
    assert_eq!(reason, CloseReason::Local);
    task.await.expect("the sender's task");
    peer.finish();
}

/// Waiting through three keepalives takes a handful of polls each, not a spin (that the
/// spaces arrive in time is in adapter_behaviour).
#[tokio::test]
async fn waiting_through_keepalives_is_idle() {
    let interval = Duration::from_millis(100);
    let peer = scripted::serve(|mut peer| {
        peer.open_stream();
        for _ in 0..3 {
            assert_eq!(peer.read_byte(), b' ');
        }
        peer.write("<message from='example.com'><body>heard you</body></message>");
        peer.close_stream();
    });
    let mut config = scripted::config();
    config.keepalive_interval = Some(interval);
    let mut conn = connect(peer.addr(), config).await;
    // Count the polls while waiting for the message: a handful per keepalive, not a spin.
    let mut polls = 0;
    let mut events = Vec::new();
    while events.len() < 2 {
        let event = poll_fn(|cx| {
            polls += 1;
            conn.poll_next_event(cx)
        })
        .await;
        events.push(event.expect("an event").expect("no I/O error"));
    }
    assert!(polls <= 20, "{polls} polls for 3 keepalives");
    assert!(
        matches!(events[1], Event::Stanza(StanzaEvent::Message(_))),
        "{events:?}"
    );
    let (_, reason) = events_to_close(&mut conn).await;
    assert_eq!(reason, CloseReason::Peer);
    peer.finish();
}

/// The dead-peer deadline is one wake-up, not a spin (the verdict and its timing are in
/// adapter_behaviour).
#[tokio::test]
async fn waiting_for_a_dead_peer_is_one_wake_up() {
    let peer = scripted::serve(|mut peer| {
        peer.login();
        assert_eq!(peer.read_to_end(), "");
    });
    let mut config = scripted::lite_config();
    let dead = Duration::from_millis(1_500);
    config.dead_peer_timeout = Some(dead);
    let started = Instant::now();
    let mut conn = logged_in(peer.addr(), config).await;
    assert!(matches!(
        conn.next_event().await,
        Ok(Some(Event::Stream(StreamEvent::Opened(_))))
    ));
    let mut polls = 0;
    let event = poll_fn(|cx| {
        polls += 1;
        conn.poll_next_event(cx)
    })
    .await;
    assert!(
        matches!(event, Some(Ok(Event::Closed(CloseReason::PeerTimeout)))),
        "{event:?}"
    );
    assert!(polls <= 5, "{polls} polls for one deadline");
    assert!(started.elapsed() >= dead);
    assert!(matches!(conn.next_event().await, Ok(None)));
    peer.finish();
}

#[tokio::test]
async fn an_idle_connection_without_timers_is_not_polled() {
    let (go, gate) = gate();
    let peer = scripted::serve(move |mut peer| {
        peer.login();
        gate.wait();
        peer.close_stream();
    });
    let mut config = scripted::lite_config();
    config.keepalive_interval = None;
    config.dead_peer_timeout = None;
    let mut conn = logged_in(peer.addr(), config).await;
    assert!(matches!(
        conn.next_event().await,
        Ok(Some(Event::Stream(StreamEvent::Opened(_))))
    ));
    let mut polls = 0;
    let idle = poll_fn(|cx| {
        polls += 1;
        conn.poll_next_event(cx)
    });
    // `biased`: when the sleep ends, the connection is not polled once more.
    tokio::select! {
        biased;
        () = tokio::time::sleep(Duration::from_millis(300)) => {}
        event = idle => panic!("{event:?}"),
    }
    assert_eq!(polls, 1, "woken while nothing happened");
    go.open();
    let (events, reason) = events_to_close(&mut conn).await;
    assert!(events.is_empty(), "{events:?}");
    assert_eq!(reason, CloseReason::Peer);
    peer.finish();
}

/// Waits cut short — by `timeout`, by a `select!` branch that lost — in the middle of a
/// stanza being read and of a stanza being written: nothing is lost either way.
#[tokio::test]
async fn dropped_waits_lose_no_event_and_no_byte() {
    // Larger than what the socket buffers hold while the peer does not read (its receive
    // buffer is fixed at 64 KiB, the client's send buffer grows to 4 MiB at most).
    const BIG: usize = 8 << 20;
    let (go, gate) = gate();
    let peer = scripted::serve_on(scripted::small_window(64 << 10), move |mut peer| {
        peer.login();
        peer.write("<message from='bob@example.com/phone' type='chat'><body>first ha");
        gate.wait();
        peer.write("lf</body></message>");
        // The big message whole, then the one sent after it.
        let big = peer.read_until("</message>");
        let body = big
            .split_once("<body>")
            .and_then(|(_, rest)| rest.split_once("</body>"))
            .map(|(body, _)| body)
            .expect("a body");
        assert!(body.len() == BIG && body.bytes().all(|b| b == b'x'));
        let after = peer.read_until("</message>");
        assert!(after.contains("<body>after</body>"), "{after}");
        peer.close_stream();
    });
    let mut config = scripted::lite_config();
    config.max_unsent_bytes = 2 * BIG;
    let mut conn = logged_in(peer.addr(), config).await;
    assert!(matches!(
        conn.next_event().await,
        Ok(Some(Event::Stream(StreamEvent::Opened(_))))
    ));

    // Half a stanza arrives; the waits for it are dropped.
    assert!(
        timeout(Duration::from_millis(100), conn.next_event())
            .await
            .is_err()
    );
    tokio::select! {
        event = conn.next_event() => panic!("{event:?}"),
        () = tokio::time::sleep(Duration::from_millis(50)) => {}
    }

    // A stanza the socket cannot take while the peer does not read: the writes stop
    // part-way, and the waits for them are dropped.
    conn.send(chat(&"x".repeat(BIG))).expect("send");
    assert!(
        timeout(Duration::from_millis(100), conn.flush())
            .await
            .is_err()
    );
    tokio::select! {
        flushed = conn.flush() => panic!("{flushed:?}"),
        () = tokio::time::sleep(Duration::from_millis(50)) => {}
    }
    conn.send(chat("after")).expect("send");

    go.open();
    match conn.next_event().await {
        Ok(Some(Event::Stanza(StanzaEvent::Message(m)))) => {
            assert_eq!(m.body().as_deref(), Some("first half"))
        }
        other => panic!("{other:?}"),
    }
    let (events, reason) = events_to_close(&mut conn).await;
    assert!(events.is_empty(), "{events:?}");
    assert_eq!(reason, CloseReason::Peer);
    peer.finish();
}

/// `send` only queues what the socket does not take at once: waiting for events drives
/// the rest, and finds the write timeout (adapter_behaviour's tokio session flushes
/// after each send, so the timeout is found there by `flush`).
#[tokio::test]
async fn a_write_timeout_is_found_while_waiting_for_events() {
    const BIG: usize = 8 << 20;
    let (done, held) = gate();
    let peer = scripted::serve_on(scripted::small_window(64 << 10), move |mut peer| {
        peer.login();
        // Reads nothing more until the client has given up.
        held.hold();
    });
    let mut config = scripted::lite_config();
    config.max_unsent_bytes = 2 * BIG;
    let mut options = Options::plain();
    let limit = Duration::from_millis(300);
    options.write_timeout = Some(limit);
    let mut conn = Connection::connect_with(peer.addr(), config, options)
        .await
        .expect("connect");
    conn.login(scripted::creds()).await.expect("login");
    // The write timeout counts from the last write that made progress, during `send` or
    // after it: measure from before it.
    let started = Instant::now();
    conn.send(chat(&"x".repeat(BIG))).expect("send");
    assert!(matches!(
        conn.next_event().await,
        Ok(Some(Event::Stream(StreamEvent::Opened(_))))
    ));
    match conn.next_event().await {
        Err(Error::Io(e)) => assert_eq!(e.kind(), ErrorKind::TimedOut),
        other => panic!("{other:?}"),
    }
    assert!(started.elapsed() >= limit);
    assert!(conn.is_closed());
    done.open();
    peer.finish();
}

/// `send` and `with_client` hand their bytes to the socket at once: the peer gets them
/// while nobody polls the connection.
#[tokio::test]
async fn a_command_is_written_without_a_poll() {
    let peer = scripted::serve(|mut peer| {
        peer.login();
        let message = peer.read_until("</message>");
        assert!(message.contains("<body>at once</body>"), "{message}");
    });
    let mut conn = logged_in(peer.addr(), scripted::lite_config()).await;
    conn.send(chat("at once")).expect("send");
    // Only the peer runs now.
    peer.finish();
    drop(conn);
}

/// After a reset, as a stream: the event queued before, the error, then the end; every
/// later call fails the same way, the sender's too (that the reset is reported after
/// the events before it is in adapter_behaviour).
#[tokio::test]
async fn a_reset_ends_the_stream_and_fails_every_later_call() {
    let (go, gate) = gate();
    let peer = scripted::serve(move |mut peer| {
        peer.login();
        gate.wait();
        peer.reset();
    });
    let mut conn = logged_in(peer.addr(), scripted::lite_config()).await;
    let sender = conn.sender();
    go.open();
    peer.finish();
    assert!(matches!(
        next_item(&mut conn).await,
        Some(Ok(Event::Stream(StreamEvent::Opened(_))))
    ));
    match next_item(&mut conn).await {
        Some(Err(Error::Io(e))) => assert_eq!(e.kind(), ErrorKind::ConnectionReset),
        other => panic!("{other:?}"),
    }
    assert!(next_item(&mut conn).await.is_none());
    assert!(conn.is_terminated());
    assert!(conn.is_closed());
    for _ in 0..2 {
        let Err(Error::Io(again)) = conn.next_event().await else {
            panic!("the failure is not sticky")
        };
        assert_eq!(again.kind(), ErrorKind::ConnectionReset);
        assert_eq!(
            again.to_string().matches("failed earlier").count(),
            1,
            "{again}"
        );
    }
    assert!(matches!(conn.send(chat("x")), Err(Error::Io(_))));
    assert!(matches!(conn.flush().await, Err(Error::Io(_))));
    assert!(matches!(
        sender.send(chat("x")).await,
        Err(Error::Client(client::Error::Closed))
    ));
    assert!(matches!(conn.close().await, Err(Error::Io(_))));
}

#[test]
fn the_connection_and_its_sender_can_move_between_threads() {
    fn send_sync<T: Send + Sync>() {}
    fn send<T: Send>() {}
    send::<Connection>();
    send_sync::<jabber_tokio::Sender>();
}

/// A server that closes its side (FIN) while our last bytes cannot leave: the socket at
/// its end is always readable, yet waiting out the linger time (cut short here by the
/// write timeout) takes a handful of polls, not a spin.
#[tokio::test]
async fn waiting_out_the_last_bytes_after_the_server_closed_is_no_spin() {
    const BIG: usize = 8 << 20;
    let (done, held) = gate();
    let (sent, sending) = gate();
    let peer = scripted::serve_on(scripted::small_window(64 << 10), move |mut peer| {
        peer.login();
        sending.wait();
        peer.write("</stream:stream>");
        peer.shutdown_write();
        // Reads nothing more until the client has given up.
        held.hold();
    });
    let mut config = scripted::lite_config();
    config.max_unsent_bytes = 2 * BIG;
    let mut options = Options::plain();
    let limit = Duration::from_millis(500);
    options.write_timeout = Some(limit);
    let mut conn = Connection::connect_with(peer.addr(), config, options)
        .await
        .expect("connect");
    conn.login(scripted::creds()).await.expect("login");
    conn.send(chat(&"x".repeat(BIG))).expect("send");
    sent.open();
    let mut polls = 0;
    loop {
        let event = poll_fn(|cx| {
            polls += 1;
            conn.poll_next_event(cx)
        })
        .await;
        match event {
            Some(Ok(_)) => continue,
            Some(Err(_)) | None => break,
        }
    }
    assert!(polls <= 20, "{polls} polls while the last bytes lingered");
    done.open();
    peer.finish();
}
