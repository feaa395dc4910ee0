//! Reconnecting sessions of the driver against scripted peers that speak XMPP 1.0 with
//! stream management (SASL PLAIN over loopback, bind, XEP-0198 enable and resume): what
//! the real servers cannot be made to do on cue — a connection that dies right after
//! a resumption while stanzas wait for the core, a close while an attempt runs, an
//! address that fails at once. (A transport that fails without the core seeing an end,
//! a write timeout, is one scenario for every adapter: `tests/tests/reconnect_scripted.rs`.)
//!
//! Nothing sleeps: the backoff delays are timers of the driver's queue, and the loop
//! polls until the output comes (bounded by a wall-clock limit); peers and test meet at
//! gates.

use std::net::SocketAddr;
use std::num::NonZeroU64;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use jabber_mio::{
    Backoff, CloseReason, Config, Driver, Error, Event, Item, Options, Output, Resumed,
    SessionEvent, SessionId,
};
use jabber_proto::client;
use jabber_tests::scripted::{self, Gate, Peer};

/// How long the client side waits for an output before the test fails.
const LIMIT: Duration = Duration::from_secs(10);

/// [`scripted::sm_config`] with a fixed seed.
fn config(max_unacked: u16) -> Config {
    let mut config = scripted::sm_config(max_unacked);
    config.seed = NonZeroU64::new(0x5eed_5eed).expect("a non-zero seed");
    config
}

fn backoff(initial_ms: u64) -> Backoff {
    Backoff {
        initial: Duration::from_millis(initial_ms),
        max: Duration::from_secs(1),
        max_attempts: Some(3),
    }
}

/// The next output, polling as needed; `Connected`, the stream's opening and stream
/// management's own reports skipped.
fn next(driver: &mut Driver) -> (SessionId, Output) {
    let started = Instant::now();
    loop {
        while let Some(output) = driver.poll_output() {
            match output {
                (_, Output::Connected)
                | (_, Output::Event(Event::Stream(_) | Event::StreamManagement(_))) => {}
                other => return other,
            }
        }
        assert!(started.elapsed() < LIMIT, "no output within {LIMIT:?}");
        driver.poll(Some(Duration::from_millis(100))).expect("poll");
    }
}

/// The next output, which must be a reconnection item of `id`.
fn item(driver: &mut Driver, id: SessionId) -> Item {
    match next(driver) {
        (from, Output::Reconnection(item)) if from == id => item,
        other => panic!("expected a reconnection item of {id:?}, got {other:?}"),
    }
}

/// Polls until `flag` is set (by a peer), or the limit.
fn poll_until(driver: &mut Driver, flag: &AtomicBool) {
    let started = Instant::now();
    while !flag.load(Ordering::SeqCst) {
        assert!(started.elapsed() < LIMIT, "the peer did not get there");
        driver.poll(Some(Duration::from_millis(20))).expect("poll");
    }
}

fn logged_in(
    driver: &mut Driver,
    addrs: &[SocketAddr],
    config: Config,
    options: &Options,
    backoff: Backoff,
) -> SessionId {
    let id = driver
        .connect_reconnecting(addrs, config, options, scripted::creds(), backoff)
        .expect("connect");
    match next(driver) {
        (from, Output::Event(Event::Session(SessionEvent::Ready { .. }))) if from == id => {}
        other => panic!("expected Ready, got {other:?}"),
    }
    id
}

/// A gate a script of `serve_many` can take once (its scripts are `Fn`).
type Shared<T> = Arc<Mutex<Option<Gate<T>>>>;

fn take<T>(gate: &Shared<T>) -> Gate<T> {
    gate.lock().expect("gate").take().expect("one use")
}

#[test]
fn stanzas_accepted_while_an_attempt_ran_survive_a_loss_right_after_it() {
    // The bound is 2. Offline, `before` waits with the session; during the attempt,
    // `during`. The resumption resends `before` and answers the server's ping: the core
    // is full, so `during` waits in the driver when the connection dies again. It must
    // reach the next connection (not be dropped for the bound the core already fills).
    let (resuming, resume_seen) = (Arc::new(AtomicBool::new(false)), scripted::gate());
    let (answer, answered) = resume_seen;
    let answered: Shared<()> = Arc::new(Mutex::new(Some(answered)));
    let connections = AtomicUsize::new(0);
    let seen = Arc::clone(&resuming);
    let peer = scripted::serve_many(3, move |mut peer| {
        match connections.fetch_add(1, Ordering::SeqCst) {
            0 => {
                peer.login_sm();
                peer.shutdown_write();
                peer.read_to_end();
            }
            1 => {
                peer.await_resume();
                seen.store(true, Ordering::SeqCst);
                take(&answered).wait();
                peer.write(
                    "<resumed xmlns='urn:xmpp:sm:3' h='0' previd='sm1'/>\
                     <iq type='get' id='ping1' from='example.com'>\
                     <ping xmlns='urn:xmpp:ping'/></iq>",
                );
                let resent = peer.read_until("id='ping1'");
                assert!(resent.contains("<body>before</body>"), "{resent}");
                peer.reset();
            }
            _ => {
                peer.resume_sm(0);
                let resent = peer.read_until("<body>during</body>");
                assert!(resent.contains("<body>before</body>"), "{resent}");
                peer.answer_close_after_anything();
            }
        }
    });
    let mut driver = Driver::new().expect("driver");
    let id = logged_in(
        &mut driver,
        &[peer.addr()],
        config(2),
        &Options::plain(),
        backoff(20),
    );
    assert!(matches!(item(&mut driver, id), Item::Disconnected(_)));
    assert!(matches!(item(&mut driver, id), Item::Attempt { .. }));
    driver
        .send(id, scripted::chat("bob@example.com", "before"))
        .expect("waits with the session");
    poll_until(&mut driver, &resuming);
    driver
        .send(id, scripted::chat("bob@example.com", "during"))
        .expect("waits for the attempt's outcome");
    answer.open();
    assert!(matches!(
        item(&mut driver, id),
        Item::Reconnected(Resumed::Resumed { .. })
    ));
    match item(&mut driver, id) {
        Item::Disconnected(Some(CloseReason::Reset)) => {}
        other => panic!("expected Disconnected, got {other:?}"),
    }
    // Nothing reported as lost: `during` fits what a resumption carries.
    assert!(matches!(item(&mut driver, id), Item::Attempt { .. }));
    assert!(matches!(
        item(&mut driver, id),
        Item::Reconnected(Resumed::Resumed { .. })
    ));
    driver.close(id).expect("close");
    match next(&mut driver) {
        (from, Output::Event(Event::Closed(CloseReason::Local))) if from == id => {}
        other => panic!("expected Closed, got {other:?}"),
    }
    peer.finish();
}

#[test]
fn a_stanza_waiting_for_the_core_is_kept_when_the_resumed_stream_ends_at_once() {
    // `<resumed/>` and a stream error arrive together: the core is closed before the
    // stanza sent during the attempt reaches it. The loss that follows carries it.
    let resuming = Arc::new(AtomicBool::new(false));
    let (answer, answered) = scripted::gate();
    let answered: Shared<()> = Arc::new(Mutex::new(Some(answered)));
    let connections = AtomicUsize::new(0);
    let seen = Arc::clone(&resuming);
    let peer = scripted::serve_many(3, move |mut peer| {
        match connections.fetch_add(1, Ordering::SeqCst) {
            0 => {
                peer.login_sm();
                peer.shutdown_write();
                peer.read_to_end();
            }
            1 => {
                peer.await_resume();
                seen.store(true, Ordering::SeqCst);
                take(&answered).wait();
                peer.write(
                    "<resumed xmlns='urn:xmpp:sm:3' h='0' previd='sm1'/>\
                     <stream:error><system-shutdown \
                     xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error>\
                     </stream:stream>",
                );
                peer.read_to_end();
            }
            _ => {
                peer.resume_sm(0);
                peer.read_until("<body>during</body>");
                peer.answer_close_after_anything();
            }
        }
    });
    let mut driver = Driver::new().expect("driver");
    let id = logged_in(
        &mut driver,
        &[peer.addr()],
        config(4),
        &Options::plain(),
        backoff(20),
    );
    assert!(matches!(item(&mut driver, id), Item::Disconnected(_)));
    assert!(matches!(item(&mut driver, id), Item::Attempt { .. }));
    poll_until(&mut driver, &resuming);
    driver
        .send(id, scripted::chat("bob@example.com", "during"))
        .expect("waits for the attempt's outcome");
    answer.open();
    assert!(matches!(
        item(&mut driver, id),
        Item::Reconnected(Resumed::Resumed { .. })
    ));
    assert!(matches!(
        item(&mut driver, id),
        Item::Disconnected(Some(CloseReason::StreamError(_)))
    ));
    assert!(matches!(item(&mut driver, id), Item::Attempt { .. }));
    assert!(matches!(
        item(&mut driver, id),
        Item::Reconnected(Resumed::Resumed { .. })
    ));
    driver.close(id).expect("close");
    match next(&mut driver) {
        (from, Output::Event(Event::Closed(CloseReason::Local))) if from == id => {}
        other => panic!("expected Closed, got {other:?}"),
    }
    peer.finish();
}

#[test]
fn a_stanza_the_new_core_can_never_send_is_reported() {
    // Sent during the attempt, a stanza larger than the core's output bound: the core
    // refuses it for good (`StanzaTooLarge`); the application hears of it, and what
    // follows it still goes out.
    let resuming = Arc::new(AtomicBool::new(false));
    let (answer, answered) = scripted::gate();
    let answered: Shared<()> = Arc::new(Mutex::new(Some(answered)));
    let connections = AtomicUsize::new(0);
    let seen = Arc::clone(&resuming);
    let peer = scripted::serve_many(2, move |mut peer| {
        if connections.fetch_add(1, Ordering::SeqCst) == 0 {
            peer.login_sm();
            peer.shutdown_write();
            peer.read_to_end();
        } else {
            peer.await_resume();
            seen.store(true, Ordering::SeqCst);
            take(&answered).wait();
            peer.write("<resumed xmlns='urn:xmpp:sm:3' h='0' previd='sm1'/>");
            let sent = peer.read_until("<body>small</body>");
            assert!(!sent.contains("xxxx"), "the large one went out");
            peer.answer_close_after_anything();
        }
    });
    let mut driver = Driver::new().expect("driver");
    let mut config = config(4);
    config.max_unsent_bytes = 4096;
    let id = logged_in(
        &mut driver,
        &[peer.addr()],
        config,
        &Options::plain(),
        backoff(20),
    );
    assert!(matches!(item(&mut driver, id), Item::Disconnected(_)));
    assert!(matches!(item(&mut driver, id), Item::Attempt { .. }));
    poll_until(&mut driver, &resuming);
    let large = "x".repeat(8192);
    driver
        .send(id, scripted::chat("bob@example.com", &large))
        .expect("waits for the attempt's outcome");
    driver
        .send(id, scripted::chat("bob@example.com", "small"))
        .expect("waits for the attempt's outcome");
    answer.open();
    assert!(matches!(
        item(&mut driver, id),
        Item::Reconnected(Resumed::Resumed { .. })
    ));
    match item(&mut driver, id) {
        Item::NotSent { stanzas, error } => {
            assert_eq!(error, client::Error::StanzaTooLarge);
            assert_eq!(stanzas.len(), 1);
        }
        other => panic!("expected NotSent, got {other:?}"),
    }
    driver.close(id).expect("close");
    match next(&mut driver) {
        (from, Output::Event(Event::Closed(CloseReason::Local))) if from == id => {}
        other => panic!("expected Closed, got {other:?}"),
    }
    peer.finish();
}

/// A classic peer that logs in, then waits for the client to leave.
fn classic_login_then_leave(mut peer: Peer) {
    peer.login();
    peer.shutdown_write();
    peer.read_to_end();
}

fn classic_logged_in(driver: &mut Driver, addrs: &[SocketAddr]) -> SessionId {
    logged_in(
        driver,
        addrs,
        scripted::lite_config(),
        &Options::plain(),
        backoff(20),
    )
}

#[test]
fn a_close_during_an_attempt_that_then_fails_ends_the_session_with_closed() {
    let attempting = Arc::new(AtomicBool::new(false));
    let (fail, when) = scripted::gate();
    let when: Shared<()> = Arc::new(Mutex::new(Some(when)));
    let connections = AtomicUsize::new(0);
    let seen = Arc::clone(&attempting);
    let peer = scripted::serve_many(2, move |mut peer| {
        if connections.fetch_add(1, Ordering::SeqCst) == 0 {
            classic_login_then_leave(peer);
        } else {
            peer.read_until("<stream:stream");
            seen.store(true, Ordering::SeqCst);
            take(&when).wait();
            // The attempt fails at the transport.
            peer.reset();
        }
    });
    let mut driver = Driver::new().expect("driver");
    let id = classic_logged_in(&mut driver, &[peer.addr()]);
    assert!(matches!(item(&mut driver, id), Item::Disconnected(_)));
    assert!(matches!(item(&mut driver, id), Item::Attempt { .. }));
    poll_until(&mut driver, &attempting);
    driver.close(id).expect("close");
    fail.open();
    match next(&mut driver) {
        (from, Output::Event(Event::Closed(CloseReason::Local))) if from == id => {}
        other => panic!("expected Closed, got {other:?}"),
    }
    peer.finish();
    let started = Instant::now();
    while !driver.is_empty() {
        assert!(started.elapsed() < LIMIT, "the session did not end");
        driver.poll(Some(Duration::from_millis(20))).expect("poll");
    }
    assert!(driver.client(id).is_none());
    assert!(driver.poll_output().is_none(), "nothing after the end");
}

#[test]
fn an_address_that_fails_at_once_is_passed_over_at_login_and_on_attempts() {
    // A multicast address: a TCP connect to it fails before it starts (ENETUNREACH).
    let unreachable: SocketAddr = "224.0.0.1:5222".parse().expect("address");
    let connections = AtomicUsize::new(0);
    let peer = scripted::serve_many(2, move |mut peer| {
        if connections.fetch_add(1, Ordering::SeqCst) == 0 {
            classic_login_then_leave(peer);
        } else {
            peer.login();
            peer.answer_close();
        }
    });
    let mut driver = Driver::new().expect("driver");
    let id = classic_logged_in(&mut driver, &[unreachable, peer.addr()]);
    assert!(matches!(item(&mut driver, id), Item::Disconnected(_)));
    assert!(matches!(item(&mut driver, id), Item::Attempt { .. }));
    match item(&mut driver, id) {
        Item::Reconnected(Resumed::NewSession(_)) => {}
        Item::AttemptFailed(Error::Io(e)) => panic!("the attempt stopped at the first: {e}"),
        other => panic!("expected Reconnected, got {other:?}"),
    }
    driver.close(id).expect("close");
    match next(&mut driver) {
        (from, Output::Event(Event::Closed(CloseReason::Local))) if from == id => {}
        other => panic!("expected Closed, got {other:?}"),
    }
    peer.finish();
}

#[test]
fn a_close_during_an_attempt_whose_connect_is_refused_ends_the_session_with_closed() {
    let peer = scripted::serve(classic_login_then_leave);
    let mut driver = Driver::new().expect("driver");
    let id = classic_logged_in(&mut driver, &[peer.addr()]);
    assert!(matches!(item(&mut driver, id), Item::Disconnected(_)));
    assert!(matches!(item(&mut driver, id), Item::Attempt { .. }));
    // Nobody listens any more: the attempt's connect is refused, which the driver
    // learns at the poll after the one that started it.
    peer.finish();
    let started = Instant::now();
    while driver.client(id).is_some_and(|c| c.is_closed()) {
        assert!(started.elapsed() < LIMIT, "no attempt");
        driver.poll(Some(Duration::from_millis(20))).expect("poll");
    }
    assert!(driver.poll_output().is_none(), "the attempt still runs");
    driver.close(id).expect("close");
    match next(&mut driver) {
        (from, Output::Event(Event::Closed(CloseReason::Local))) if from == id => {}
        other => panic!("expected Closed, got {other:?}"),
    }
    assert!(driver.is_empty() && driver.client(id).is_none());
    assert!(driver.poll_output().is_none(), "nothing after the end");
}

#[test]
fn stanzas_waiting_for_the_core_are_reported_when_the_resumed_stream_ends_the_session() {
    // `<resumed/>` and the server's orderly close arrive together: the session ends,
    // and the stanza sent during the attempt, which the core never took, is reported.
    let resuming = Arc::new(AtomicBool::new(false));
    let (answer, answered) = scripted::gate();
    let answered: Shared<()> = Arc::new(Mutex::new(Some(answered)));
    let connections = AtomicUsize::new(0);
    let seen = Arc::clone(&resuming);
    let peer = scripted::serve_many(2, move |mut peer| {
        if connections.fetch_add(1, Ordering::SeqCst) == 0 {
            peer.login_sm();
            peer.shutdown_write();
            peer.read_to_end();
        } else {
            peer.await_resume();
            seen.store(true, Ordering::SeqCst);
            take(&answered).wait();
            peer.write("<resumed xmlns='urn:xmpp:sm:3' h='0' previd='sm1'/></stream:stream>");
            let rest = peer.read_to_end();
            assert!(!rest.contains("during"), "{rest}");
        }
    });
    let mut driver = Driver::new().expect("driver");
    let id = logged_in(
        &mut driver,
        &[peer.addr()],
        config(4),
        &Options::plain(),
        backoff(20),
    );
    assert!(matches!(item(&mut driver, id), Item::Disconnected(_)));
    assert!(matches!(item(&mut driver, id), Item::Attempt { .. }));
    poll_until(&mut driver, &resuming);
    driver
        .send(id, scripted::chat("bob@example.com", "during"))
        .expect("waits for the attempt's outcome");
    answer.open();
    assert!(matches!(
        item(&mut driver, id),
        Item::Reconnected(Resumed::Resumed { .. })
    ));
    match item(&mut driver, id) {
        Item::NotSent { stanzas, error } => {
            assert_eq!((stanzas.len(), error), (1, client::Error::Closed));
        }
        other => panic!("expected NotSent, got {other:?}"),
    }
    match next(&mut driver) {
        (from, Output::Event(Event::Closed(CloseReason::Peer))) if from == id => {}
        other => panic!("expected Closed, got {other:?}"),
    }
    peer.finish();
}

#[test]
fn stanzas_taken_while_offline_are_reported_when_the_session_is_closed() {
    // Offline with a session to resume: a send waits with it (told Ok). Closing the
    // session instead of resuming reports it, then ends.
    let peer = scripted::serve_many(1, |mut peer| {
        peer.login_sm();
        peer.shutdown_write();
        peer.read_to_end();
    });
    let mut driver = Driver::new().expect("driver");
    let slow = Backoff {
        initial: Duration::from_secs(60),
        max: Duration::from_secs(60),
        max_attempts: Some(3),
    };
    let id = logged_in(
        &mut driver,
        &[peer.addr()],
        config(4),
        &Options::plain(),
        slow,
    );
    assert!(matches!(item(&mut driver, id), Item::Disconnected(_)));
    assert!(matches!(item(&mut driver, id), Item::Attempt { .. }));
    driver
        .send(id, scripted::chat("bob@example.com", "offline"))
        .expect("waits with the session");
    driver.close(id).expect("close");
    match driver.poll_output() {
        Some((from, Output::Reconnection(Item::NotSent { stanzas, error }))) if from == id => {
            assert_eq!(error, client::Error::Closed);
            assert_eq!(stanzas.len(), 1);
        }
        other => panic!("expected NotSent, got {other:?}"),
    }
    assert!(matches!(
        driver.poll_output(),
        Some((from, Output::Event(Event::Closed(CloseReason::Local)))) if from == id
    ));
    peer.finish();
}
