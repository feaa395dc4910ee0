//! The blocking calls that only this adapter has, against a scripted peer on loopback
//! (`jabber_tests::scripted`): `next_event` without a limit and the `events` iterator,
//! after a clean end and after a failure. What every adapter must do — logging in, the
//! ways a connection ends, timers, TLS, connecting — is run through all three in
//! `tests/tests/adapter_behaviour.rs`.

use std::io::ErrorKind;

use jabber_std::{CloseReason, Connection, Error, Event, Options, StanzaEvent, StreamEvent};
use jabber_tests::scripted::{self, gate};

fn logged_in(addr: std::net::SocketAddr) -> Connection {
    let mut conn =
        Connection::connect_with(addr, scripted::lite_config(), Options::plain()).expect("connect");
    conn.login(scripted::creds()).expect("login");
    conn
}

#[test]
fn the_iterator_and_next_event_end_after_closed() {
    let peer = scripted::serve(|mut peer| {
        peer.login();
        peer.write("<message from='bob@example.com/phone'><body>one</body></message>");
        peer.close_stream();
    });
    let mut conn = logged_in(peer.addr());
    let events: Vec<Event> = conn.events().map(|e| e.expect("no I/O error")).collect();
    let [
        Event::Stream(StreamEvent::Opened(_)),
        Event::Stanza(StanzaEvent::Message(m)),
        Event::Closed(CloseReason::Peer),
    ] = events.as_slice()
    else {
        panic!("{events:?}");
    };
    assert_eq!(m.body().as_deref(), Some("one"));
    assert!(conn.events().next().is_none());
    assert!(matches!(conn.next_event(), Ok(None)));
    assert!(conn.is_closed());
    peer.finish();
}

#[test]
fn after_a_reset_the_iterator_ends_and_next_event_fails_again() {
    let (go, gate) = gate();
    let peer = scripted::serve(move |mut peer| {
        peer.login();
        gate.wait();
        peer.reset();
    });
    let mut conn = logged_in(peer.addr());
    go.open();
    peer.finish();
    let mut events = conn.events();
    assert!(matches!(
        events.next(),
        Some(Ok(Event::Stream(StreamEvent::Opened(_))))
    ));
    match events.next() {
        Some(Err(Error::Io(e))) => assert_eq!(e.kind(), ErrorKind::ConnectionReset),
        other => panic!("{other:?}"),
    }
    assert!(events.next().is_none());
    assert!(conn.is_closed());
    let Err(Error::Io(again)) = conn.next_event() else {
        panic!("the failure is not sticky")
    };
    assert_eq!(again.kind(), ErrorKind::ConnectionReset);
}
