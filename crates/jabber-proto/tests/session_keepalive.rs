//! Keepalive whitespace, idle probes, dead-peer detection and IQ timeouts, on the virtual
//! clock.

mod support;

use core::time::Duration;
use std::num::NonZeroU64;

use jabber_proto::client::{CloseReason, Config, Event};
use support::{CLASSIC_HEADER, Harness, SEED, wire_id};

const S: Duration = Duration::from_secs(1);

fn config() -> Config {
    let mut c = Config::new("example.com", NonZeroU64::MIN);
    // A classic server is scripted: the classic stream, stated (1.0 is the default).
    c.version = None;
    c.seed = NonZeroU64::new(SEED).expect("a non-zero seed");
    c.fetch_roster = false;
    c.initial_presence = false;
    c.keepalive_interval = Some(60 * S);
    c.dead_peer_timeout = Some(180 * S);
    c
}

fn ping(id: u64) -> String {
    format!(
        "<iq type='get' id='{}' to='example.com'><ping xmlns='urn:xmpp:ping'/></iq>",
        wire_id(id)
    )
}

#[test]
fn idle_writes_send_one_whitespace_at_the_interval() {
    let mut h = Harness::logged_in(config());
    let t0 = h.now;
    // Traffic from the server keeps the probe away; only our writing side is idle.
    h.advance(30 * S);
    h.server("<message from='b@example.com'><body>hi</body></message>");
    h.advance(30 * S - Duration::from_millis(1));
    assert_eq!(h.sent(), "");
    h.advance(Duration::from_millis(1));
    assert_eq!(h.sent(), " ");
    assert_eq!(h.now, t0 + 60 * S);
    // The next one is a full interval later.
    assert_eq!(h.client.poll_timeout(), Some(t0 + 90 * S));
}

#[test]
fn sending_resets_the_idle_timer() {
    let mut h = Harness::logged_in(config());
    let t0 = h.now;
    h.advance(59 * S);
    h.server("<presence from='b@example.com'/>");
    let msg = jabber_proto::stanza::Message::new(
        jabber_proto::stanza::MessageType::Chat,
        &jabber_proto::jid::Jid::parse("b@example.com").unwrap(),
        "hello",
    )
    .unwrap();
    h.client.send(h.now, msg).unwrap();
    h.sent();
    h.advance(S);
    assert_eq!(h.sent(), "", "the write at 59 s counts");
    assert_eq!(h.client.poll_timeout(), Some(t0 + 119 * S));
}

#[test]
fn a_silent_server_is_probed_then_declared_dead() {
    let mut h = Harness::logged_in(config());
    let t0 = h.now;
    assert_eq!(h.run_to_deadline(), Some(t0 + 60 * S));
    assert_eq!(h.sent(), ping(3));
    assert_eq!(
        h.client.pending_iqs(),
        0,
        "the probe is not the application's IQ"
    );
    // The probe counts as a write, and no second probe goes out while it waits. At 120 s
    // its IQ timeout passes unseen by the application, and the next probe would come a
    // full interval later; meanwhile the idle writer sends its whitespace.
    assert_eq!(h.run_to_deadline(), Some(t0 + 120 * S));
    assert_eq!(h.sent(), " ");
    assert_eq!(
        h.events(),
        vec![],
        "the probe's timeout is not the application's"
    );
    assert_eq!(h.run_to_deadline(), Some(t0 + 180 * S));
    assert_eq!(h.events(), vec![Event::Closed(CloseReason::PeerTimeout)]);
    assert_eq!(h.client.close_reason(), Some(&CloseReason::PeerTimeout));
    // A dead peer reads nothing: the client drops its output and is finished at once.
    assert_eq!(h.sent(), "");
    assert!(h.client.is_finished());
    assert_eq!(h.client.poll_timeout(), None);
}

#[test]
fn any_answer_to_the_probe_keeps_the_session() {
    let mut h = Harness::logged_in(config());
    let t0 = h.now;
    h.run_to_deadline();
    assert_eq!(h.sent(), ping(3));
    h.advance(Duration::from_millis(40));
    // A server without XEP-0199 answers with an error (here without `from`, which means
    // the server itself); that is proof of life too.
    h.server(&format!(
        "<iq type='error' id='{}'><error code='501'/></iq>",
        wire_id(3)
    ));
    assert_eq!(h.client.pending_iqs(), 0);
    assert_eq!(
        h.events(),
        vec![],
        "the probe's reply is not the application's"
    );
    let alive = t0 + 60 * S + Duration::from_millis(40);
    assert_eq!(h.client.poll_timeout(), Some(t0 + 120 * S));
    h.run_to_deadline();
    assert_eq!(h.sent(), " ");
    // Next probe one interval after the last byte received.
    assert_eq!(h.client.poll_timeout(), Some(alive + 60 * S));
    h.run_to_deadline();
    assert_eq!(h.sent(), ping(4));
}

#[test]
fn before_login_there_is_no_probe_but_dead_peer_still_applies() {
    let mut c = config();
    c.dead_peer_timeout = Some(90 * S);
    let mut h = Harness::new(c);
    let t0 = h.now;
    h.sent();
    h.server(CLASSIC_HEADER);
    h.events();
    assert_eq!(h.run_to_deadline(), Some(t0 + 60 * S));
    assert_eq!(h.sent(), " ");
    assert_eq!(h.run_to_deadline(), Some(t0 + 90 * S));
    assert_eq!(h.events(), vec![Event::Closed(CloseReason::PeerTimeout)]);
}

#[test]
fn a_server_that_never_answers_the_header_is_dead() {
    let mut c = config();
    c.dead_peer_timeout = Some(30 * S);
    let mut h = Harness::new(c);
    let t0 = h.now;
    h.sent();
    assert_eq!(h.run_to_deadline(), Some(t0 + 30 * S));
    assert_eq!(h.events(), vec![Event::Closed(CloseReason::PeerTimeout)]);
    assert_eq!(h.sent(), "");
    assert!(h.client.is_finished());
}

#[test]
fn nothing_follows_our_close() {
    let mut h = Harness::logged_in(config());
    let now = h.now;
    h.client.close(now);
    assert_eq!(h.sent(), "</stream:stream>");
    h.advance(9 * S);
    assert_eq!(h.sent(), "");
    // The close timeout (10 s) is the only timer left.
    assert_eq!(h.run_to_deadline(), Some(now + 10 * S));
    assert_eq!(h.events(), vec![Event::Closed(CloseReason::LocalTimeout)]);
}

#[test]
fn timers_off_means_no_deadline() {
    let mut c = config();
    c.keepalive_interval = None;
    c.dead_peer_timeout = None;
    let h = Harness::logged_in(c);
    assert_eq!(h.client.poll_timeout(), None);
}

#[test]
fn a_lost_probe_is_repeated_an_interval_later_not_at_once() {
    let mut c = config();
    c.iq_timeout = 10 * S;
    c.dead_peer_timeout = None;
    let mut h = Harness::logged_in(c);
    let t0 = h.now;
    assert_eq!(h.run_to_deadline(), Some(t0 + 60 * S));
    assert_eq!(h.sent(), ping(3));
    // Lost at 70 s: the whitespace at 120 s, the next probe at 130 s.
    assert_eq!(h.run_to_deadline(), Some(t0 + 70 * S));
    assert_eq!(h.sent(), "");
    assert_eq!(h.run_to_deadline(), Some(t0 + 120 * S));
    assert_eq!(h.sent(), " ");
    assert_eq!(h.run_to_deadline(), Some(t0 + 130 * S));
    assert_eq!(h.sent(), ping(4));
}

#[test]
fn a_zero_iq_timeout_does_not_flood_probes() {
    let mut c = config();
    c.iq_timeout = Duration::ZERO;
    c.dead_peer_timeout = None;
    let mut h = Harness::logged_in(c);
    h.advance(60 * S);
    assert_eq!(h.sent(), ping(3));
    for _ in 0..100 {
        h.client.handle_timeout(h.now);
    }
    let deadline = h.client.poll_timeout().expect("timers run");
    assert!(deadline > h.now, "no deadline at now: {deadline:?}");
    assert_eq!(h.sent(), "", "one probe, not a flood");
}
