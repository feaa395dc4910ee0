//! Reconnecting sessions of the driver against scripted peers on loopback: what a real
//! server cannot be made to do on cue — a connection lost after the login, attempts
//! refused until the maximum, a stop while an attempt waits, a close while offline, a
//! stream error that refuses us. Stream management (resumption) is tested on real
//! servers in `tests/tests/stream_management.rs`; these peers speak the classic login,
//! so every reconnection here is a new session.
//!
//! Nothing sleeps: the backoff delays are timers of the driver's queue, and the loop
//! polls until the output comes (bounded by a wall-clock limit).

use std::net::{SocketAddr, TcpListener};
use std::num::NonZeroU64;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use jabber_mio::{
    Backoff, CloseReason, Config, Driver, Error, Event, Item, Options, Output, Resumed,
    SessionEvent, SessionId,
};
use jabber_proto::client;
use jabber_proto::stream::Condition;
use jabber_tests::scripted::{self, Peer};

/// How long the client side waits for an output before the test fails.
const LIMIT: Duration = Duration::from_secs(10);

const SEED: u64 = 0x0bac_0ff5;

fn config() -> Config {
    let mut config = scripted::lite_config();
    config.seed = NonZeroU64::new(SEED).expect("a non-zero seed");
    config
}

fn backoff(initial_ms: u64, max_attempts: u32) -> Backoff {
    Backoff {
        initial: Duration::from_millis(initial_ms),
        max: Duration::from_secs(1),
        max_attempts: Some(max_attempts),
    }
}

/// The next output, polling as needed; `Connected` and the stream's opening skipped.
fn next(driver: &mut Driver) -> (SessionId, Output) {
    let started = Instant::now();
    loop {
        while let Some(output) = driver.poll_output() {
            match output {
                (_, Output::Connected) | (_, Output::Event(Event::Stream(_))) => {}
                other => return other,
            }
        }
        assert!(started.elapsed() < LIMIT, "no output within {LIMIT:?}");
        driver.poll(Some(Duration::from_millis(200))).expect("poll");
    }
}

/// The next output, which must be a reconnection item of `id`.
fn item(driver: &mut Driver, id: SessionId) -> Item {
    match next(driver) {
        (from, Output::Reconnection(item)) if from == id => item,
        other => panic!("expected a reconnection item of {id:?}, got {other:?}"),
    }
}

/// A reconnecting session logged in on `addr` (the peer's script must log in).
fn logged_in(driver: &mut Driver, addr: SocketAddr, backoff: Backoff) -> SessionId {
    let id = driver
        .connect_reconnecting(
            &[addr],
            config(),
            &Options::plain(),
            scripted::creds(),
            backoff,
        )
        .expect("connect");
    match next(driver) {
        (from, Output::Event(Event::Session(SessionEvent::Ready { .. }))) if from == id => {}
        other => panic!("expected Ready, got {other:?}"),
    }
    id
}

/// Peer: logs in, then ends the connection (its side first, then waits for the
/// client's).
fn login_then_leave(mut peer: Peer) {
    peer.login();
    peer.shutdown_write();
    peer.read_to_end();
}

/// A port nobody listens on.
fn refused_addr() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("local address")
}

fn assert_ended(driver: &Driver, id: SessionId) {
    assert!(driver.client(id).is_none(), "{id:?} still runs");
    assert!(!driver.sessions().any(|s| s == id));
    assert!(driver.is_empty());
}

/// The loss, then attempt 1 announced with the delay the seed gives.
fn assert_lost_then_attempt(driver: &mut Driver, id: SessionId, backoff: &Backoff) {
    match item(driver, id) {
        Item::Disconnected(Some(CloseReason::EndOfInput { .. } | CloseReason::Peer)) => {}
        other => panic!("expected Disconnected, got {other:?}"),
    }
    match item(driver, id) {
        Item::Attempt { attempt, delay } => {
            assert_eq!(attempt, 1);
            assert_eq!(delay, backoff.delay(0, SEED), "the jitter of the seed");
        }
        other => panic!("expected Attempt, got {other:?}"),
    }
}

#[test]
fn a_lost_connection_comes_back_as_a_new_session_under_the_same_id() {
    let connections = AtomicUsize::new(0);
    let peer = scripted::serve_many(2, move |mut peer| {
        if connections.fetch_add(1, Ordering::SeqCst) == 0 {
            login_then_leave(peer);
        } else {
            peer.login();
            peer.answer_close();
        }
    });
    let mut driver = Driver::new().expect("driver");
    let b = backoff(40, 3);
    let id = logged_in(&mut driver, peer.addr(), b);
    assert_lost_then_attempt(&mut driver, id, &b);
    // Offline: the id is still the session's, but a classic session has nothing to
    // resume, so nothing can wait for the next connection.
    assert_eq!(driver.is_connected(id), Some(false));
    assert!(driver.sessions().any(|s| s == id));
    assert!(matches!(
        driver.send(id, scripted::chat("bob@example.com", "x")),
        Err(Error::Client(client::Error::Closed))
    ));
    match item(&mut driver, id) {
        Item::Reconnected(Resumed::NewSession(logged_in)) => {
            assert_eq!(logged_in.jid.to_string(), "alice@example.com/laptop");
        }
        other => panic!("expected Reconnected, got {other:?}"),
    }
    assert_eq!(driver.is_connected(id), Some(true));
    driver.close(id).expect("close");
    match next(&mut driver) {
        (from, Output::Event(Event::Closed(CloseReason::Local))) if from == id => {}
        other => panic!("expected Closed, got {other:?}"),
    }
    peer.finish();
    assert_ended(&driver, id);
}

#[test]
fn a_login_refused_in_an_attempt_fails_it_and_the_next_attempt_goes_on() {
    let connections = AtomicUsize::new(0);
    let peer = scripted::serve_many(3, move |mut peer| {
        match connections.fetch_add(1, Ordering::SeqCst) {
            0 => login_then_leave(peer),
            1 => {
                peer.open_stream();
                let (id, _) = peer.authenticate();
                peer.write(&format!(
                    "<iq type='error' id='{id}'><error code='401' type='auth'>\
                     <not-authorized xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>"
                ));
                // The client closes its stream and drops the connection.
                peer.read_until("</stream:stream>");
                peer.read_to_end();
            }
            _ => {
                peer.login();
                peer.answer_close();
            }
        }
    });
    let mut driver = Driver::new().expect("driver");
    let b = backoff(20, 5);
    let id = logged_in(&mut driver, peer.addr(), b);
    assert_lost_then_attempt(&mut driver, id, &b);
    match item(&mut driver, id) {
        Item::AttemptFailed(Error::Login(e)) => assert_eq!(e.code(), Some(401)),
        other => panic!("expected AttemptFailed, got {other:?}"),
    }
    match item(&mut driver, id) {
        Item::Attempt { attempt: 2, delay } => assert_eq!(delay, b.delay(1, SEED)),
        other => panic!("expected Attempt 2, got {other:?}"),
    }
    assert!(matches!(
        item(&mut driver, id),
        Item::Reconnected(Resumed::NewSession(_))
    ));
    driver.close(id).expect("close");
    match next(&mut driver) {
        (from, Output::Event(Event::Closed(CloseReason::Local))) if from == id => {}
        other => panic!("expected Closed, got {other:?}"),
    }
    peer.finish();
}

#[test]
fn attempts_refused_until_the_maximum_give_up() {
    let peer = scripted::serve(login_then_leave);
    let addr = peer.addr();
    let mut driver = Driver::new().expect("driver");
    let b = backoff(20, 2);
    let id = logged_in(&mut driver, addr, b);
    assert_lost_then_attempt(&mut driver, id, &b);
    // The peer's listener closes before the first attempt is due (only `poll` runs it).
    peer.finish();
    for attempt in 1..=2u32 {
        match item(&mut driver, id) {
            Item::AttemptFailed(Error::Io(_)) => {}
            other => panic!("attempt {attempt}: expected AttemptFailed, got {other:?}"),
        }
        if attempt < 2 {
            match item(&mut driver, id) {
                Item::Attempt { attempt: n, delay } => {
                    assert_eq!(n, attempt + 1);
                    assert_eq!(delay, b.delay(attempt, SEED));
                }
                other => panic!("expected Attempt, got {other:?}"),
            }
        }
    }
    assert!(matches!(item(&mut driver, id), Item::GaveUp));
    assert_ended(&driver, id);
    assert!(matches!(
        driver.send(id, scripted::chat("bob@example.com", "x")),
        Err(Error::Client(client::Error::Closed))
    ));
}

#[test]
fn stop_reconnecting_while_an_attempt_waits_gives_up_at_once() {
    let peer = scripted::serve(login_then_leave);
    let mut driver = Driver::new().expect("driver");
    // The attempt is far: only the stop can end the wait within the test's limit.
    let b = Backoff {
        initial: Duration::from_secs(60),
        max: Duration::from_secs(60),
        max_attempts: None,
    };
    let id = logged_in(&mut driver, peer.addr(), b);
    assert!(matches!(item(&mut driver, id), Item::Disconnected(_)));
    assert!(matches!(
        item(&mut driver, id),
        Item::Attempt { attempt: 1, .. }
    ));
    driver.stop_reconnecting(id);
    assert!(
        matches!(driver.poll_output(), Some((from, Output::Reconnection(Item::GaveUp))) if from == id)
    );
    assert_ended(&driver, id);
    peer.finish();
}

#[test]
fn a_stop_before_the_loss_ends_the_session_with_it() {
    let (leave, when) = scripted::gate();
    let peer = scripted::serve(move |mut peer| {
        peer.login();
        when.wait();
        peer.shutdown_write();
        peer.read_to_end();
    });
    let mut driver = Driver::new().expect("driver");
    let id = logged_in(&mut driver, peer.addr(), backoff(20, 3));
    driver.stop_reconnecting(id);
    leave.open();
    // The loss ends the session as any other's, and no attempt follows.
    match next(&mut driver) {
        (from, Output::Event(Event::Closed(CloseReason::EndOfInput { .. }))) if from == id => {}
        other => panic!("expected Closed, got {other:?}"),
    }
    peer.finish();
    let started = Instant::now();
    while !driver.is_empty() || driver.client(id).is_some() {
        assert!(started.elapsed() < LIMIT);
        driver.poll(Some(Duration::from_millis(100))).expect("poll");
    }
    assert!(driver.poll_output().is_none(), "no reconnection follows");
}

#[test]
fn close_while_offline_ends_the_session_at_once() {
    let peer = scripted::serve(login_then_leave);
    let mut driver = Driver::new().expect("driver");
    let b = Backoff {
        initial: Duration::from_secs(60),
        ..Backoff::default()
    };
    let id = logged_in(&mut driver, peer.addr(), b);
    assert!(matches!(item(&mut driver, id), Item::Disconnected(_)));
    assert!(matches!(item(&mut driver, id), Item::Attempt { .. }));
    driver.close(id).expect("close");
    assert!(matches!(
        driver.poll_output(),
        Some((from, Output::Event(Event::Closed(CloseReason::Local)))) if from == id
    ));
    assert_ended(&driver, id);
    peer.finish();
}

#[test]
fn a_stream_error_that_refuses_us_does_not_reconnect() {
    let peer = scripted::serve(|mut peer| {
        peer.login();
        peer.write(
            "<stream:error><not-authorized xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>\
             </stream:error></stream:stream>",
        );
        peer.read_to_end();
    });
    let mut driver = Driver::new().expect("driver");
    let id = logged_in(&mut driver, peer.addr(), backoff(20, 3));
    match next(&mut driver) {
        (from, Output::Event(Event::Closed(CloseReason::StreamError(e)))) if from == id => {
            assert_eq!(e.condition, Condition::NotAuthorized);
        }
        other => panic!("expected Closed, got {other:?}"),
    }
    peer.finish();
    // The socket lingers for the last bytes at most; then the driver forgets it, with
    // no attempt in between.
    let started = Instant::now();
    while driver.client(id).is_some() || !driver.is_empty() {
        assert!(started.elapsed() < LIMIT);
        driver.poll(Some(Duration::from_millis(100))).expect("poll");
    }
    assert!(driver.poll_output().is_none());
    let _ = driver.poll(Some(Duration::from_millis(50)));
    assert!(driver.poll_output().is_none(), "no reconnection follows");
}

#[test]
fn a_first_connection_that_fails_is_final() {
    let mut driver = Driver::new().expect("driver");
    let result = driver.connect_reconnecting(
        &[refused_addr()],
        config(),
        &Options::plain(),
        scripted::creds(),
        backoff(20, 3),
    );
    match result {
        Ok(id) => {
            assert!(
                matches!(next(&mut driver), (from, Output::Failed(Error::Io(_))) if from == id)
            );
            assert_ended(&driver, id);
        }
        Err(e) => assert!(matches!(e, Error::Io(_)), "{e:?}"),
    }
    assert!(driver.poll_output().is_none());
}
