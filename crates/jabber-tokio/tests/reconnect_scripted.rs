//! The asynchronous reconnecting [`Session`] against scripted XMPP 1.0 peers with stream
//! management: a transport that fails without the core seeing an end (a write timeout)
//! must still carry the requests in flight into the resumed session.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use jabber_proto::client::IqEvent;
use jabber_proto::stanza::IqType;
use jabber_tests::scripted::{self, Gate};
use jabber_tokio::{Backoff, CloseReason, Element, Event, Item, Jid, Options, Resumed, Session};

/// How long the test waits for an item.
const LIMIT: Duration = Duration::from_secs(10);

/// A gate a script of `serve_many` can take once (its scripts are `Fn`).
type Shared<T> = Arc<Mutex<Option<Gate<T>>>>;

fn take<T>(gate: &Shared<T>) -> Gate<T> {
    gate.lock().expect("gate").take().expect("one use")
}

/// The next item that is not one of stream management's own reports.
async fn next(session: &mut Session) -> Item {
    loop {
        let item = tokio::time::timeout(LIMIT, session.next())
            .await
            .expect("an item within the limit");
        match item.expect("next") {
            Some(Item::TimedOut | Item::Event(Event::StreamManagement(_) | Event::Stream(_))) => {}
            Some(item) => return item,
            None => panic!("the session ended"),
        }
    }
}

#[tokio::test]
async fn a_write_timeout_keeps_the_request_in_flight_for_the_resumed_session() {
    let (lost, lost_when) = scripted::gate::<()>();
    let lost_when: Shared<()> = Arc::new(Mutex::new(Some(lost_when)));
    let (wire, wire_id) = scripted::gate::<String>();
    let wire = Mutex::new(Some(wire));
    let wire_id: Shared<String> = Arc::new(Mutex::new(Some(wire_id)));
    let connections = AtomicUsize::new(0);
    let peer = scripted::serve_many_on(scripted::small_window(4096), 2, move |mut peer| {
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
    let (mut session, _) = Session::connect(
        peer.addr(),
        scripted::sm_config(4),
        options,
        scripted::creds(),
        backoff,
    )
    .await
    .expect("logged in");
    // Stream management is enabled once `<enabled/>` is read.
    let started = Instant::now();
    while session
        .connection()
        .is_some_and(|c| c.client().resumption().is_none())
    {
        assert!(started.elapsed() < LIMIT, "stream management not enabled");
        tokio::time::timeout(LIMIT, session.next())
            .await
            .expect("within the limit")
            .expect("next");
    }
    let server = Jid::parse("example.com").expect("jid");
    let query = Element::builder("query", "jabber:iq:version")
        .build()
        .expect("query");
    let request = session
        .connection()
        .expect("connected")
        .with_client(|c, now| c.send_iq(now, Some(&server), IqType::Get, query))
        .expect("written")
        .expect("sent");
    // Backs up until the write timeout (found while waiting for the next item).
    session
        .send(scripted::chat("bob@example.com", &"x".repeat(6 << 20)))
        .expect("taken");
    match next(&mut session).await {
        Item::Disconnected(reason) => assert_eq!(reason, Some(CloseReason::Reset)),
        other => panic!("expected Disconnected, got {other:?}"),
    }
    lost.open();
    assert!(matches!(next(&mut session).await, Item::Attempt { .. }));
    assert!(matches!(
        next(&mut session).await,
        Item::Reconnected(Resumed::Resumed { .. })
    ));
    match next(&mut session).await {
        Item::Event(Event::Iq(IqEvent::Result { id, .. })) => assert_eq!(id, request),
        other => panic!("expected the reply, got {other:?}"),
    }
    session.close().await.expect("closed");
    peer.finish();
}
