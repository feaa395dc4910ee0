//! The reconnecting sessions of every adapter (jabber-std, jabber-mio, jabber-tokio,
//! through `jabber_tests::adapters::reconnecting`) against scripted XMPP 1.0 peers with
//! stream management: what real servers cannot be made to do on cue. One definition per
//! scenario, run through each adapter.
//!
//! Nothing sleeps to win a race: peer and test meet at gates, and loops poll with a
//! wall-clock limit.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use jabber_net::{Backoff, Error, Item, Options, Resumed};
use jabber_proto::client::{CloseReason, Error as ClientError, Event, IqEvent};
use jabber_proto::jid::Jid;
use jabber_proto::stanza::IqType;
use jabber_proto::xml::Element;
use jabber_tests::adapters::reconnecting::{self, Reconnecting};
use jabber_tests::scripted::{self, Gate};

/// How long the test waits for an item before it fails.
const LIMIT: Duration = Duration::from_secs(10);

/// A gate a script of `serve_many_on` can take once (its scripts are `Fn`).
type Shared<T> = Arc<Mutex<Option<Gate<T>>>>;

fn take<T>(gate: &Shared<T>) -> Gate<T> {
    gate.lock().expect("gate").take().expect("one use")
}

/// The next item that is not a timeout or a stream's own report.
fn next(session: &mut dyn Reconnecting, what: &str) -> Item {
    let started = Instant::now();
    loop {
        assert!(
            started.elapsed() < LIMIT,
            "{what}: no item within {LIMIT:?}"
        );
        match session.next(Duration::from_millis(100)).expect("next") {
            Some(Item::TimedOut | Item::Event(Event::StreamManagement(_) | Event::Stream(_))) => {}
            Some(item) => return item,
            None => panic!("{what}: the session ended"),
        }
    }
}

fn version_query() -> Element {
    Element::builder("query", "jabber:iq:version")
        .build()
        .expect("query")
}

/// The peer takes a request, then stops reading; a large message backs up until the
/// write timeout fails the transport — the core sees no end of input and no reset. The
/// lost connection's core then refuses commands, and the resumed session still gets the
/// request's reply under its handle.
#[test]
fn a_write_timeout_keeps_the_request_in_flight_for_the_resumed_session() {
    for make in reconnecting::all() {
        let adapter = make();
        let what = adapter.name();
        let (lost, lost_when) = scripted::gate::<()>();
        let lost_when: Shared<()> = Arc::new(Mutex::new(Some(lost_when)));
        let (wire, wire_id) = scripted::gate::<String>();
        let wire = Mutex::new(Some(wire));
        let wire_id: Shared<String> = Arc::new(Mutex::new(Some(wire_id)));
        let connections = AtomicUsize::new(0);
        let listener = scripted::small_window(4096);
        let peer = scripted::serve_many_on(listener, 2, move |mut peer| {
            if connections.fetch_add(1, Ordering::SeqCst) == 0 {
                peer.login_sm();
                let upto = peer.read_until("jabber:iq:version");
                let request = &upto[upto.rfind("<iq").expect("the request")..];
                let opener = wire.lock().expect("wire").take().expect("once");
                opener.pass(scripted::id_of(request));
                // Reads no more: the client's writes back up, until the test saw the loss.
                take(&lost_when).wait();
            } else {
                // Both stanzas were received before the loss: nothing is resent.
                peer.resume_sm(2);
                let id = take(&wire_id).wait();
                peer.write(&format!(
                    "<iq type='result' id='{id}' from='example.com'>\
                     <query xmlns='jabber:iq:version'><name>peer</name></query></iq>"
                ));
                peer.answer_close_after_anything();
            }
        });
        let mut options = Options::plain();
        options.write_timeout = Some(Duration::from_millis(300));
        let backoff = Backoff {
            initial: Duration::from_millis(20),
            max: Duration::from_millis(40),
            max_attempts: Some(3),
        };
        let (mut session, _) = adapter
            .connect_reconnecting(
                peer.addr(),
                scripted::sm_config(4),
                options,
                scripted::creds(),
                backoff,
            )
            .expect("logged in");
        // Stream management is enabled once `<enabled/>` is read.
        let started = Instant::now();
        while session.unacked().is_none() {
            assert!(
                started.elapsed() < LIMIT,
                "{what}: stream management not enabled"
            );
            session.next(Duration::from_millis(50)).expect("next");
        }
        let server = Jid::parse("example.com").expect("jid");
        let request = session
            .send_iq(Some(&server), IqType::Get, version_query())
            .expect("written")
            .expect("sent");
        // Backs up until the write timeout: the core had taken it, so it is with the
        // session (found during the send by a blocking adapter, while waiting by others).
        session
            .send(scripted::chat("bob@example.com", &"x".repeat(6 << 20)).into())
            .expect("taken");
        match next(&mut *session, what) {
            Item::Disconnected(reason) => {
                assert_eq!(reason, Some(CloseReason::Reset), "{what}");
            }
            other => panic!("{what}: expected Disconnected, got {other:?}"),
        }
        // Offline, the lost connection's core refuses commands: nothing vanishes.
        let refused = session.send_iq(Some(&server), IqType::Get, version_query());
        assert!(
            matches!(
                refused,
                Ok(Err(ClientError::Closed)) | Err(Error::Client(ClientError::Closed))
            ),
            "{what}: {refused:?}"
        );
        lost.open();
        assert!(
            matches!(next(&mut *session, what), Item::Attempt { .. }),
            "{what}"
        );
        assert!(
            matches!(
                next(&mut *session, what),
                Item::Reconnected(Resumed::Resumed { .. })
            ),
            "{what}"
        );
        match next(&mut *session, what) {
            Item::Event(Event::Iq(IqEvent::Result { id, .. })) => {
                assert_eq!(id, request, "{what}");
            }
            other => panic!("{what}: expected the reply, got {other:?}"),
        }
        session.close().expect("closed");
        peer.finish();
    }
}

/// The server names another place to resume at (`<enabled location/>`): the attempt
/// connects there first. The first listener takes one connection only, so an attempt
/// that ignored the location would find no server.
#[test]
fn the_resumption_goes_where_the_server_asked() {
    for make in reconnecting::all() {
        let adapter = make();
        let what = adapter.name();
        let elsewhere = scripted::serve_many_on(
            std::net::TcpListener::bind("127.0.0.1:0").expect("a port"),
            1,
            |mut peer| {
                peer.resume_sm(0);
                peer.answer_close_after_anything();
            },
        );
        let location = elsewhere.addr().to_string();
        let first = scripted::serve_many_on(
            std::net::TcpListener::bind("127.0.0.1:0").expect("a port"),
            1,
            move |mut peer| {
                peer.login_sm_at(&location);
                peer.shutdown_write();
                peer.read_to_end();
            },
        );
        let backoff = Backoff {
            initial: Duration::from_millis(20),
            max: Duration::from_millis(40),
            max_attempts: Some(2),
        };
        let (mut session, _) = adapter
            .connect_reconnecting(
                first.addr(),
                scripted::sm_config(4),
                Options::plain(),
                scripted::creds(),
                backoff,
            )
            .expect("logged in");
        assert!(
            matches!(next(&mut *session, what), Item::Disconnected(_)),
            "{what}"
        );
        assert!(
            matches!(next(&mut *session, what), Item::Attempt { .. }),
            "{what}"
        );
        let outcome = next(&mut *session, what);
        assert!(
            matches!(outcome, Item::Reconnected(Resumed::Resumed { .. })),
            "{what}: {outcome:?}"
        );
        session.close().expect("closed");
        first.finish();
        elsewhere.finish();
    }
}
