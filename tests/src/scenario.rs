//! Helpers the real-server scenarios share: waiting for events through any adapter,
//! picking message bodies and close reasons, running a core command for its value, and
//! credentials with a fresh resource.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use jabber_proto::client::{self, Client, CloseReason, Event, StanzaEvent};
use jabber_proto::negotiation::auth::Credentials;
use jabber_proto::time::Instant as CoreInstant;

use crate::adapters::{Next, Session};

/// Credentials for `user` with a resource no other connection of this process uses
/// (the same full JID twice would replace the first session).
pub fn creds(user: &str, password: &str) -> Credentials {
    static N: AtomicU32 = AtomicU32::new(0);
    let resource = format!("test-{}", N.fetch_add(1, Ordering::Relaxed));
    Credentials::new(user, password, &resource)
}

/// Waits up to `limit` for an event `pick` accepts; other events are dropped. Panics
/// (listing what it saw) when none comes, the session ends, or the transport fails.
pub fn wait_for<T>(
    session: &mut dyn Session,
    limit: Duration,
    mut pick: impl FnMut(&Event) -> Option<T>,
) -> T {
    let deadline = Instant::now() + limit;
    let mut seen = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match session.next_event(left) {
            Ok(Next::Event(e)) => {
                if let Some(t) = pick(&e) {
                    return t;
                }
                seen.push(format!("{e:?}"));
            }
            Ok(Next::TimedOut) => panic!("nothing matching within {limit:?}; saw {seen:?}"),
            Ok(Next::Ended) => panic!("the session ended; saw {seen:?}"),
            Err(e) => panic!("error {e}; saw {seen:?}"),
        }
    }
}

/// Hands every event to `watch` until it returns true (all it waited for has come),
/// for a scenario that waits for several events in any order. Panics (listing what it
/// saw) when that takes longer than `limit`, the session ends, or the transport fails.
pub fn wait_until(
    session: &mut dyn Session,
    limit: Duration,
    mut watch: impl FnMut(&Event) -> bool,
) {
    wait_for(session, limit, |e| watch(e).then_some(()))
}

/// Runs `f` on the session's core through [`Session::command`] and returns its value:
/// how a scenario reaches the core's commands and getters that the interface has no
/// call for. Panics when the transport or the command fails.
pub fn call<T: Send + 'static>(
    session: &mut dyn Session,
    f: impl FnOnce(&mut Client, CoreInstant) -> Result<T, client::Error> + Send + 'static,
) -> T {
    // The command's closure returns no value; the result comes back through a slot.
    let slot = Arc::new(Mutex::new(None));
    let out = slot.clone();
    session
        .command(Box::new(move |client, now| {
            let value = f(client, now)?;
            *out.lock().unwrap_or_else(PoisonError::into_inner) = Some(value);
            Ok(())
        }))
        .unwrap_or_else(|e| panic!("transport: {e}"))
        .unwrap_or_else(|e| panic!("command refused: {e}"));
    let value = slot.lock().unwrap_or_else(PoisonError::into_inner).take();
    value.expect("the command ran")
}

/// A message's body, for [`wait_for`].
pub fn body_of(e: &Event) -> Option<String> {
    match e {
        Event::Stanza(StanzaEvent::Message(m)) => m.body().map(|b| b.to_string()),
        _ => None,
    }
}

/// Why the connection closed, for [`wait_for`].
pub fn closed_reason(e: &Event) -> Option<CloseReason> {
    match e {
        Event::Closed(r) => Some(r.clone()),
        _ => None,
    }
}

/// After the server's process was killed: waits for the session to notice — the end of
/// its input, or a reset when the server's socket had unread data — and returns how long
/// that took. Panics on any other ending, or when nothing happens within 10 s.
pub fn await_killed_server(session: &mut dyn Session) -> Duration {
    let t = Instant::now();
    loop {
        match session.next_event(Duration::from_secs(10)) {
            Ok(Next::Event(Event::Closed(CloseReason::EndOfInput { .. }))) => break,
            Ok(Next::Event(Event::Closed(other))) => panic!("closed for another reason: {other}"),
            Ok(Next::Event(_)) => continue,
            Ok(Next::TimedOut) => panic!("the killed server went unnoticed for 10 s"),
            Ok(Next::Ended) => panic!("ended without a Closed event"),
            Err(jabber_net::Error::Io(e)) if e.kind() == std::io::ErrorKind::ConnectionReset => {
                break;
            }
            Err(e) => panic!("{e}"),
        }
    }
    t.elapsed()
}
