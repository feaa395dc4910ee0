//! XEP-0198 stream management on scripted transcripts with a virtual clock: enabling,
//! acks both ways, the 2^32 wrap, the bounded queue, resumption (success and failure) and
//! the server's faults — byte-exact for what the client sends. Among them, the failures
//! other libraries have had: counters off by one after resumption, stanzas sent twice
//! after resumption, `<r/>` after a failed resumption, binding before resuming.

mod support;

use std::num::NonZeroU64;
use std::time::Duration;

use jabber_proto::client::{
    CloseReason, Config, Error, Event, IqEvent, IqId, ServiceEvent, SessionEvent, SessionState,
    SmEvent,
};
use jabber_proto::features::stream_management::{Resumption, SmError};
use jabber_proto::jid::Jid;
use jabber_proto::negotiation::auth::Credentials;
use jabber_proto::stanza::{IqType, Message, MessageType};
use jabber_proto::xml::Element;
use support::{Harness, SEED, SERVER_HEADER, wire_id};

const SM: &str = "urn:xmpp:sm:3";
const OUR_HEADER: &str = "<stream:stream xmlns='jabber:client' \
    xmlns:stream='http://etherx.jabber.org/streams' to='example.com' version='1.0'>";
const PLAIN: &str = "<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>\
    <mechanism>PLAIN</mechanism></mechanisms></stream:features>";
const SUCCESS: &str = "<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>";
const BIND_AND_SM: &str = "<stream:features><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/>\
    <sm xmlns='urn:xmpp:sm:3'/></stream:features>";
const ENABLE: &str = "<enable xmlns='urn:xmpp:sm:3' resume='true'/>";

fn config() -> Config {
    let mut c = Config::new("example.com", NonZeroU64::new(SEED).expect("non-zero"));
    c.version = Some("1.0".into());
    // PLAIN over a transport the driver encrypted: the shortest 1.0 login.
    c.transport_encrypted = true;
    c.fetch_roster = false;
    c.initial_presence = false;
    c.keepalive_interval = None;
    c.dead_peer_timeout = None;
    c.sm_ack_every = 3;
    c.sm_ack_delay_ms = 5_000;
    c
}

fn creds() -> Credentials {
    Credentials::new("alice", "pw", "desk")
}

fn bind_result(id: u64) -> String {
    format!(
        "<iq type='result' id='{}'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>\
         <jid>alice@example.com/desk</jid></bind></iq>",
        wire_id(id)
    )
}

/// Authenticated by PLAIN, the restarted stream's features about to arrive.
fn authenticated(config: Config, resumption: Option<Resumption>) -> Harness {
    let mut h = Harness::new(config);
    let now = h.now;
    match resumption {
        None => h.client.login(now, creds()).expect("login starts"),
        Some(r) => h.client.resume(now, creds(), r).expect("resume starts"),
    }
    h.sent();
    h.server(SERVER_HEADER);
    h.server(PLAIN);
    assert!(h.sent().contains("mechanism='PLAIN'"));
    h.server(SUCCESS);
    assert_eq!(h.sent(), OUR_HEADER);
    h.server(SERVER_HEADER);
    h.events();
    h
}

/// Logged in with stream management enabled (resumable as `id`), everything drained.
fn enabled(config: Config) -> Harness {
    let mut h = authenticated(config, None);
    h.server(BIND_AND_SM);
    assert!(
        h.sent()
            .contains("<bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>")
    );
    h.server(&bind_result(1));
    // Enabled before anything of the session goes out, so all of it is counted.
    assert_eq!(h.sent(), ENABLE);
    h.server("<enabled xmlns='urn:xmpp:sm:3' id='sm-1' resume='true' max='300'/>");
    let events = h.events();
    assert!(
        events.contains(&Event::StreamManagement(SmEvent::Enabled {
            resumable: true
        })),
        "{events:?}"
    );
    assert!(
        events
            .iter()
            .any(|e| matches!(e, Event::Session(SessionEvent::Ready { .. })))
    );
    h
}

fn msg(n: u32) -> Message {
    let to = Jid::parse("bob@example.com").expect("a JID");
    Message::new(MessageType::Chat, &to, &format!("m{n}")).expect("a message")
}

fn send(h: &mut Harness, n: u32) {
    let now = h.now;
    h.client.send(now, msg(n)).expect("sent");
}

fn body_count(wire: &str, n: u32) -> usize {
    wire.matches(&format!("<body>m{n}</body>")).count()
}

#[test]
fn enable_after_bind_and_answer_requests() {
    let mut h = enabled(config());
    // Three stanzas from the server, then its request: h counts exactly those.
    h.server(
        "<message from='bob@example.com/x' type='chat'><body>1</body></message>\
              <presence from='bob@example.com/x'/>\
              <iq type='result' id='unknown' from='example.com'/>",
    );
    h.server("<r xmlns='urn:xmpp:sm:3'/>");
    assert_eq!(h.sent(), "<a xmlns='urn:xmpp:sm:3' h='3'/>");
    // Non-stanzas are not counted.
    h.server("<r xmlns='urn:xmpp:sm:3'/>");
    assert_eq!(h.sent(), "<a xmlns='urn:xmpp:sm:3' h='3'/>");
}

#[test]
fn ack_requested_every_n_stanzas_and_after_idle() {
    let mut h = enabled(config());
    send(&mut h, 1);
    send(&mut h, 2);
    assert!(!h.sent().contains("<r "));
    send(&mut h, 3);
    let wire = h.sent();
    assert!(
        wire.ends_with("<body>m3</body></message><r xmlns='urn:xmpp:sm:3'/>"),
        "{wire}"
    );
    h.server("<a xmlns='urn:xmpp:sm:3' h='3'/>");
    assert_eq!(h.client.resumption().expect("resumable").unacked.len(), 0);
    // One stanza, then silence: the request comes by time, not count.
    send(&mut h, 4);
    h.sent();
    assert_eq!(
        h.client.poll_timeout(),
        Some(h.now + Duration::from_secs(5))
    );
    h.advance(Duration::from_millis(4_999));
    assert_eq!(h.sent(), "");
    h.advance(Duration::from_millis(1));
    assert_eq!(h.sent(), "<r xmlns='urn:xmpp:sm:3'/>");
    h.server("<a xmlns='urn:xmpp:sm:3' h='4'/>");
    // Nothing unacknowledged: no timer.
    assert_eq!(h.client.poll_timeout(), None);
}

#[test]
fn counters_wrap_at_2_pow_32() {
    // A resumed session near the wrap: both counters pass 2^32 - 1 to 0.
    let r = Resumption {
        id: "sm-w".into(),
        location: None,
        jid: Jid::parse("alice@example.com/desk").expect("a JID"),
        handled: u32::MAX,
        acked: u32::MAX - 1,
        unacked: Vec::new(),
        in_flight: Vec::new(),
        iq_handles: 0,
        rooms: Vec::new(),
    };
    let mut h = authenticated(config(), Some(r));
    h.server(BIND_AND_SM);
    assert_eq!(
        h.sent(),
        format!("<resume xmlns='{SM}' previd='sm-w' h='{}'/>", u32::MAX)
    );
    h.server(&format!(
        "<resumed xmlns='{SM}' previd='sm-w' h='{}'/>",
        u32::MAX - 1
    ));
    h.server("<message from='bob@example.com/x'><body>w</body></message>");
    h.server("<r xmlns='urn:xmpp:sm:3'/>");
    assert_eq!(h.sent(), "<a xmlns='urn:xmpp:sm:3' h='0'/>");
    send(&mut h, 1);
    send(&mut h, 2);
    h.sent();
    h.server("<a xmlns='urn:xmpp:sm:3' h='0'/>");
    let r = h.client.resumption().expect("resumable");
    assert_eq!((r.acked, r.unacked.len(), r.handled), (0, 0, 0));
}

#[test]
fn h_beyond_what_was_sent_is_a_stream_error() {
    let mut h = enabled(config());
    send(&mut h, 1);
    h.sent();
    h.server("<a xmlns='urn:xmpp:sm:3' h='2'/>");
    assert_eq!(
        h.sent(),
        "<stream:error><undefined-condition xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>\
         <handled-count-too-high xmlns='urn:xmpp:sm:3' h='2' send-count='1'/></stream:error>\
         </stream:stream>"
    );
    assert_eq!(
        h.events().last(),
        Some(&Event::Closed(CloseReason::StreamManagement(
            SmError::HandledCountTooHigh { h: 2, sent: 1 }
        )))
    );
}

#[test]
fn queue_bound_refuses_then_writable_after_ack() {
    let mut c = config();
    c.sm_ack_every = 0;
    c.sm_ack_delay_ms = 0;
    c.sm_max_unacked = 2;
    let mut h = enabled(c);
    send(&mut h, 1);
    send(&mut h, 2);
    h.sent();
    let now = h.now;
    assert_eq!(h.client.send(now, msg(3)), Err(Error::UnackedQueueFull));
    // Nothing of it went out; an ack was asked for instead.
    assert_eq!(h.sent(), "<r xmlns='urn:xmpp:sm:3'/>");
    assert_eq!(h.client.resumption().expect("resumable").unacked.len(), 2);
    h.server("<a xmlns='urn:xmpp:sm:3' h='1'/>");
    assert_eq!(h.events(), [Event::Writable]);
    send(&mut h, 3);
    assert_eq!(body_count(&h.sent(), 3), 1);
}

#[test]
fn a_server_that_never_acks_cannot_grow_the_queue() {
    let mut c = config();
    c.sm_ack_every = 0;
    c.sm_ack_delay_ms = 0;
    c.sm_max_unacked = 2;
    let mut h = enabled(c);
    // The client's own answers (pings) are not refused, but bounded at twice the limit.
    for i in 0..5 {
        h.server(&format!(
            "<iq type='get' id='p{i}' from='example.com'><ping xmlns='urn:xmpp:ping'/></iq>"
        ));
    }
    assert_eq!(
        h.events().last(),
        Some(&Event::Closed(CloseReason::StreamManagement(
            SmError::Unacknowledged
        )))
    );
}

/// A session that died with stanzas 1..=3 sent, the server having acked 1, and 2
/// stanzas received from it.
fn died() -> Resumption {
    let mut h = enabled(config());
    h.server(
        "<message from='bob@example.com/x'><body>a</body></message>\
              <message from='bob@example.com/x'><body>b</body></message>",
    );
    send(&mut h, 1);
    send(&mut h, 2);
    send(&mut h, 3);
    h.sent();
    h.server("<a xmlns='urn:xmpp:sm:3' h='1'/>");
    let now = h.now;
    h.client.handle_reset(now);
    let r = h.client.resumption().expect("resumable after a reset");
    assert_eq!((r.id.as_str(), r.handled, r.acked), ("sm-1", 2, 1));
    assert_eq!(r.unacked.len(), 2);
    assert_eq!(h.client.unacked_stanzas(), Some(2), "counted as built");
    r
}

#[test]
fn no_resumption_after_an_orderly_close() {
    let mut h = enabled(config());
    let now = h.now;
    h.client.close(now);
    h.server("</stream:stream>");
    assert_eq!(h.client.resumption(), None);
    assert_eq!(h.client.unacked_stanzas(), None);
}

#[test]
fn resume_resends_exactly_the_unacked_without_rebinding() {
    let mut c = config();
    c.fetch_roster = true;
    c.initial_presence = true;
    let mut h = authenticated(c, Some(died()));
    h.server(BIND_AND_SM);
    // No bind: the resumption comes first, with the count of what we handled.
    assert_eq!(
        h.sent(),
        format!("<resume xmlns='{SM}' previd='sm-1' h='2'/>")
    );
    h.events();
    // The server had received stanza 2 after all.
    h.server(&format!("<resumed xmlns='{SM}' previd='sm-1' h='2'/>"));
    let wire = h.sent();
    assert_eq!(
        (
            body_count(&wire, 1),
            body_count(&wire, 2),
            body_count(&wire, 3)
        ),
        (0, 0, 1),
        "{wire}"
    );
    // No roster fetch, no presence, no bind.
    assert!(!wire.contains("jabber:iq:roster") && !wire.contains("<presence"));
    assert!(!wire.contains("xmpp-bind"));
    let jid = Jid::parse("alice@example.com/desk").expect("a JID");
    assert_eq!(
        h.events(),
        [Event::StreamManagement(SmEvent::Resumed {
            jid: jid.clone(),
            resent: 1
        })]
    );
    assert_eq!(h.client.session_state(), SessionState::Ready);
    assert_eq!(h.client.jid(), Some(&jid));
    // Counters carry on: the server acks 3 (2 + the resent one); our h carries on from 2.
    h.server(&format!("<a xmlns='{SM}' h='3'/>"));
    assert_eq!(h.client.resumption().expect("resumable").unacked.len(), 0);
    h.server("<message from='bob@example.com/x'><body>c</body></message>");
    h.server(&format!("<r xmlns='{SM}'/>"));
    assert_eq!(h.sent(), format!("<a xmlns='{SM}' h='3'/>"));
    // Not sent twice later either.
    send(&mut h, 4);
    let wire = h.sent();
    assert_eq!((body_count(&wire, 3), body_count(&wire, 4)), (0, 1));
}

#[test]
fn failed_resume_binds_a_new_session_and_reports_duplicates() {
    let mut c = config();
    c.fetch_roster = true;
    c.initial_presence = true;
    let mut h = authenticated(c, Some(died()));
    h.server(BIND_AND_SM);
    h.sent();
    h.events();
    h.server(&format!(
        "<failed xmlns='{SM}'><item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></failed>"
    ));
    assert_eq!(h.events(), [Event::StreamManagement(SmEvent::ResumeFailed)]);
    // Bound anew, no <r/> or <a/> while stream management is off.
    let wire = h.sent();
    assert!(
        wire.contains("<bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>"),
        "{wire}"
    );
    assert!(!wire.contains("urn:xmpp:sm:3"), "{wire}");
    // The new session's handles continue after the old one's (its bind was 1).
    h.server(&bind_result(2));
    let wire = h.sent();
    // Enabled first, then the session (roster, presence), then the old unacked stanzas.
    let enable = wire.find(ENABLE).expect("enable");
    let roster = wire.find("jabber:iq:roster").expect("roster fetch");
    let presence = wire.find("<presence").expect("presence");
    let m2 = wire.find("<body>m2</body>").expect("m2 resent");
    let m3 = wire.find("<body>m3</body>").expect("m3 resent");
    assert!(
        enable < roster && roster < presence && presence < m2 && m2 < m3,
        "{wire}"
    );
    assert_eq!(body_count(&wire, 1), 0);
    assert!(!wire.contains("<r "), "no <r/> before <enabled/>: {wire}");
    let events = h.events();
    let Some(Event::StreamManagement(SmEvent::PossibleDuplicates(dups))) = events.last() else {
        panic!("{events:?}");
    };
    assert_eq!(dups.len(), 2);
    // The new session counts from zero: roster get, presence, m2, m3.
    h.server(&format!("<enabled xmlns='{SM}' id='sm-2' resume='true'/>"));
    h.sent();
    h.server(&format!("<a xmlns='{SM}' h='4'/>"));
    let r = h.client.resumption().expect("resumable");
    assert_eq!((r.id.as_str(), r.acked, r.unacked.len()), ("sm-2", 4, 0));
}

#[test]
fn failed_with_h_resends_only_what_the_server_lacked() {
    let mut h = authenticated(config(), Some(died()));
    h.server(BIND_AND_SM);
    h.sent();
    h.server(&format!("<failed xmlns='{SM}' h='2'/>"));
    h.sent();
    h.server(&bind_result(2));
    let wire = h.sent();
    assert_eq!(
        (body_count(&wire, 2), body_count(&wire, 3)),
        (0, 1),
        "{wire}"
    );
}

#[test]
fn resume_without_sm_offered_falls_back_to_binding() {
    let mut h = authenticated(config(), Some(died()));
    h.server("<stream:features><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></stream:features>");
    assert!(h.sent().contains("xmpp-bind"));
    h.server(&bind_result(2));
    let wire = h.sent();
    assert!(!wire.contains(SM), "{wire}");
    assert_eq!(body_count(&wire, 2) + body_count(&wire, 3), 2);
    let events = h.events();
    assert!(events.contains(&Event::StreamManagement(SmEvent::ResumeFailed)));
    assert!(matches!(
        events.last(),
        Some(Event::StreamManagement(SmEvent::PossibleDuplicates(d))) if d.len() == 2
    ));
}

#[test]
fn enable_refused_goes_on_without() {
    let mut h = authenticated(config(), None);
    h.server(BIND_AND_SM);
    h.sent();
    h.server(&bind_result(1));
    assert_eq!(h.sent(), ENABLE);
    h.server(&format!("<failed xmlns='{SM}'/>"));
    send(&mut h, 1);
    send(&mut h, 2);
    send(&mut h, 3);
    assert!(!h.sent().contains("<r "));
    assert_eq!(h.client.resumption(), None);
}

#[test]
fn stanzas_between_enable_and_enabled_count() {
    let mut h = authenticated(config(), None);
    h.server(BIND_AND_SM);
    h.sent();
    h.server(&bind_result(1));
    h.sent();
    send(&mut h, 1);
    // No <r/> before <enabled/>.
    assert!(!h.sent().contains("<r "));
    // A stanza from the server before <enabled/> is not counted.
    h.server("<message from='bob@example.com/x'><body>early</body></message>");
    h.server(&format!("<enabled xmlns='{SM}' id='e' resume='true'/>"));
    h.server(&format!("<a xmlns='{SM}' h='1'/>"));
    h.server(&format!("<r xmlns='{SM}'/>"));
    assert_eq!(h.sent(), format!("<a xmlns='{SM}' h='0'/>"));
    assert_eq!(h.client.resumption().expect("resumable").unacked.len(), 0);
}

#[test]
fn chunking_changes_nothing() {
    let mut a = enabled(config());
    let mut b = enabled(config());
    let input = "<message from='bob@example.com/x'><body>a</body></message>\
                 <r xmlns='urn:xmpp:sm:3'/><a xmlns='urn:xmpp:sm:3' h='0'/>";
    a.server(input);
    b.server_bytewise(input);
    assert_eq!(a.sent(), b.sent());
    assert_eq!(a.events(), b.events());
}

#[test]
fn idle_ping_on_a_1_0_stream_and_a_dead_server() {
    let mut c = config();
    c.keepalive_interval = Some(Duration::from_secs(60));
    c.dead_peer_timeout = Some(Duration::from_secs(180));
    c.sm_ack_delay_ms = 0;
    let mut h = enabled(c);
    let start = h.now;
    // Idle: after the interval the server is pinged (XEP-0199) ...
    h.run_to_deadline();
    assert_eq!(h.now, start + Duration::from_secs(60));
    let wire = h.sent();
    assert!(wire.starts_with("<iq type='get' id='"), "{wire}");
    assert!(
        wire.contains("<ping xmlns='urn:xmpp:ping'/></iq>"),
        "{wire}"
    );
    // ... an answer proves it alive ...
    let id = wire
        .split("id='")
        .nth(1)
        .and_then(|s| s.split('\'').next())
        .expect("an id");
    h.server(&format!("<iq type='result' id='{id}' from='example.com'/>"));
    assert!(
        h.events().is_empty(),
        "the ping's reply is the client's own"
    );
    // ... and silence after that, for the dead-peer time, ends the connection.
    while !h.client.is_closed() {
        h.run_to_deadline().expect("a deadline");
        h.sent();
    }
    assert_eq!(h.now, start + Duration::from_secs(60 + 180));
    assert_eq!(
        h.events().last(),
        Some(&Event::Closed(CloseReason::PeerTimeout))
    );
    // The session can be resumed elsewhere: the unanswered pings are among the unacked.
    let r = h.client.resumption().expect("resumable after a dead peer");
    assert!(!r.unacked.is_empty());
}

#[test]
fn a_refused_command_takes_its_ack_request_back() {
    use jabber_proto::console::Direction;
    let mut c = config();
    c.console = true;
    c.sm_ack_every = 1;
    c.max_unsent_bytes = 400;
    let mut h = enabled(c);
    while h.client.poll_console().is_some() {}
    let mut accepted = 0;
    let refusal = loop {
        let now = h.now;
        match h.client.send(now, msg(accepted)) {
            Ok(()) => accepted += 1,
            Err(e) => break e,
        }
    };
    assert_eq!(refusal, Error::SendBufferFull);
    // What the console shows is exactly what goes out: the refused stanza and the <r/>
    // that followed it are both gone.
    let wire = h.sent();
    let console: String = std::iter::from_fn(|| h.client.poll_console())
        .filter(|e| e.direction == Direction::Out)
        .map(|e| e.xml)
        .collect();
    assert_eq!(wire, console);
    assert_eq!(wire.matches("<r xmlns").count(), accepted as usize);
    assert_eq!(
        h.client.resumption().expect("resumable").unacked.len(),
        accepted as usize
    );
    // The next stanza asks for its ack.
    send(&mut h, 99);
    assert!(h.sent().ends_with("<r xmlns='urn:xmpp:sm:3'/>"));
}

mod props {
    use super::*;
    use proptest::prelude::*;

    #[derive(Clone, Debug)]
    enum Step {
        /// We send a message.
        Send,
        /// The server sends a stanza.
        Incoming,
        /// The server asks for our count.
        Request,
        /// The server acknowledges this many more of ours (capped at what is unacked).
        Ack(usize),
        /// Time passes.
        Wait(u16),
    }

    fn step() -> impl Strategy<Value = Step> {
        prop_oneof![
            4 => Just(Step::Send),
            3 => Just(Step::Incoming),
            1 => Just(Step::Request),
            2 => (0usize..6).prop_map(Step::Ack),
            1 => (0u16..8000).prop_map(Step::Wait),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

        /// Whatever the interleaving (and byte-wise input for half of the runs), the `h`
        /// we answer is exactly the stanzas received, the unacknowledged stanzas are
        /// exactly those sent after the server's last `h`, oldest first.
        #[test]
        fn counters_follow_any_interleaving(
            steps in proptest::collection::vec(step(), 0..60),
            bytewise in any::<bool>(),
        ) {
            let mut h = enabled(config());
            let (mut sent, mut received, mut acked) = (0u32, 0u32, 0u32);
            let deliver = |h: &mut Harness, xml: &str| {
                if bytewise { h.server_bytewise(xml) } else { h.server(xml) }
            };
            for s in steps {
                match s {
                    Step::Send => {
                        send(&mut h, sent);
                        sent += 1;
                    }
                    Step::Incoming => {
                        deliver(&mut h, "<message from='bob@example.com/x'><body>i</body></message>");
                        received += 1;
                    }
                    Step::Request => {
                        h.sent();
                        deliver(&mut h, "<r xmlns='urn:xmpp:sm:3'/>");
                        prop_assert_eq!(h.sent(), format!("<a xmlns='urn:xmpp:sm:3' h='{received}'/>"));
                    }
                    Step::Ack(n) => {
                        acked += u32::try_from(n).unwrap().min(sent - acked);
                        deliver(&mut h, &format!("<a xmlns='urn:xmpp:sm:3' h='{acked}'/>"));
                    }
                    Step::Wait(ms) => h.advance(Duration::from_millis(u64::from(ms))),
                }
                let r = h.client.resumption().expect("resumable");
                prop_assert_eq!(r.handled, received);
                prop_assert_eq!(r.acked, acked);
                prop_assert_eq!(r.unacked.len() as u32, sent - acked);
                let first = r.unacked.first().map(|m| m.child("body", "jabber:client").map(|b| b.text().into_owned()));
                if sent > acked {
                    prop_assert_eq!(first, Some(Some(format!("m{acked}"))));
                }
            }
            prop_assert!(!h.client.is_closed());
        }
    }
}

#[test]
fn a_resumed_session_is_captured_and_replays() {
    use jabber_proto::replay::{self, Options};
    let mut c = config();
    c.capture = true;
    let mut h = authenticated(c, Some(died()));
    let mut events = Vec::new();
    h.server(BIND_AND_SM);
    h.server(&format!("<resumed xmlns='{SM}' previd='sm-1' h='2'/>"));
    h.server(&format!("<a xmlns='{SM}' h='3'/>"));
    send(&mut h, 7);
    h.advance(Duration::from_secs(6));
    h.sent();
    events.extend(h.events());
    let records: Vec<_> = std::iter::from_fn(|| h.client.poll_capture()).collect();
    assert!(
        records
            .iter()
            .any(|r| String::from_utf8_lossy(&r.data).contains("<resumption "))
    );
    let report = replay::replay(&records, &Options::default());
    assert_eq!(report.difference, None);
    assert!(!report.incomplete);
    assert_eq!(report.replayed, records.len());
    // The resumed event comes out of the replay too.
    assert!(
        report.events.iter().any(|e| e.contains("Resumed")),
        "{:?}",
        report.events
    );
}

#[test]
fn resume_refusals() {
    let mut classic = config();
    classic.version = None;
    let mut h = Harness::new(classic);
    let now = h.now;
    assert_eq!(
        h.client.resume(now, creds(), died()),
        Err(Error::WrongPhase)
    );
    // More than the session could have held (twice the bound: the application's
    // stanzas up to it, the client's own answers beyond) is refused.
    let mut small = config();
    small.sm_max_unacked = 1;
    let mut h = Harness::new(small);
    let mut three = died();
    three.unacked.push(three.unacked[0].clone());
    assert_eq!(
        h.client.resume(now, creds(), three),
        Err(Error::UnackedQueueFull)
    );
    // Nothing was queued: a login still works.
    assert_eq!(h.client.login(now, creds()), Ok(()));
    assert!(!h.sent().contains("resume"));
}

#[test]
fn a_session_resumes_only_for_its_own_account() {
    // Alice's unacknowledged stanzas must not be resent from Mallory's session.
    let mut h = Harness::new(config());
    let now = h.now;
    assert_eq!(
        h.client
            .resume(now, Credentials::new("mallory", "pw", "z"), died()),
        Err(Error::WrongPhase)
    );
    assert!(!h.sent().contains("resume"));
    assert_eq!(h.client.resume(now, creds(), died()), Ok(()));
}

#[test]
fn a_refused_nonza_leaves_the_unacked_queue_alone() {
    let mut c = config();
    c.sm_max_unacked = 2;
    c.sm_ack_every = 0;
    let mut h = enabled(c);
    send(&mut h, 1);
    send(&mut h, 2);
    // The client's own answer to a request takes the queue to 3 (over the bound).
    h.server("<iq type='get' id='q1' from='example.com'><query xmlns='urn:example:x'/></iq>");
    h.sent();
    let now = h.now;
    let nonza = jabber_proto::xml::Element::builder("hello", "urn:example:nonza")
        .build()
        .expect("valid");
    assert_eq!(h.client.send(now, nonza), Err(Error::UnackedQueueFull));
    assert_eq!(h.client.resumption().expect("resumable").unacked.len(), 3);
    // The server acknowledges all three: no "handled count too high".
    h.server("<a xmlns='urn:xmpp:sm:3' h='3'/>");
    assert!(!h.client.is_closed(), "{:?}", h.events());
    assert!(h.client.resumption().expect("resumable").unacked.is_empty());
}

/// A session that died with two requests waiting for replies: an application IQ
/// (`wire_id(2)`, which the server acknowledged) and a vCard query (`wire_id(3)`, not
/// acknowledged). Returns the resumption and the two handles.
fn died_with_requests() -> (Resumption, IqId, IqId) {
    let mut c = config();
    c.iq_timeout = Duration::from_secs(30);
    let mut h = enabled(c);
    let now = h.now;
    let version = Element::builder("query", "jabber:iq:version")
        .build()
        .expect("a query");
    let app = h
        .client
        .send_iq(now, None, IqType::Get, version)
        .expect("sent");
    h.server(&format!("<a xmlns='{SM}' h='1'/>"));
    let vcard = h.client.vcard_get(now, None).expect("sent");
    let wire = h.sent();
    assert!(wire.contains(&format!("id='{}'", wire_id(2))), "{wire}");
    assert!(wire.contains(&format!("id='{}'", wire_id(3))), "{wire}");
    h.advance(Duration::from_secs(10));
    let now = h.now;
    h.client.handle_reset(now);
    let r = h.client.resumption().expect("resumable after a reset");
    assert_eq!(r.unacked.len(), 1);
    let carried: Vec<_> = r
        .in_flight
        .iter()
        .map(|i| (i.id(), i.wire_id().to_string()))
        .collect();
    assert_eq!(carried, [(app, wire_id(2)), (vcard, wire_id(3))]);
    // What was left of the 30 s timeout when the connection died.
    let left: Vec<_> = r.in_flight.iter().map(|i| i.remaining()).collect();
    assert!(
        left.iter().all(|l| *l == Duration::from_secs(20)),
        "{left:?}"
    );
    (r, app, vcard)
}

#[test]
fn replies_to_requests_in_flight_reach_their_handles_after_resumption() {
    let (r, app, vcard) = died_with_requests();
    let mut h = authenticated(config(), Some(r));
    h.server(BIND_AND_SM);
    h.sent();
    h.server(&format!("<resumed xmlns='{SM}' previd='sm-1' h='1'/>"));
    h.sent();
    h.events();
    // A reply from an address the request did not go to is still refused.
    h.server(&format!(
        "<iq type='result' id='{}' from='mallory@evil.example/x'>\
         <query xmlns='jabber:iq:version'><name>fake</name></query></iq>",
        wire_id(2)
    ));
    assert!(
        !h.events().iter().any(|e| matches!(e, Event::Iq(_))),
        "a spoofed reply must not answer a carried request"
    );
    h.server(&format!(
        "<iq type='result' id='{}'><query xmlns='jabber:iq:version'><name>srv</name></query></iq>",
        wire_id(2)
    ));
    h.server(&format!(
        "<iq type='result' id='{}'><vCard xmlns='vcard-temp'><FN>Alice</FN></vCard></iq>",
        wire_id(3)
    ));
    let events = h.events();
    assert!(
        events
            .iter()
            .any(|e| matches!(e, Event::Iq(IqEvent::Result { id, .. }) if *id == app)),
        "{events:?}"
    );
    assert!(
        events.iter().any(
            |e| matches!(e, Event::Services(ServiceEvent::Vcard { id, vcard: card }) if *id == vcard && card.full_name.as_deref() == Some("Alice"))
        ),
        "{events:?}"
    );
    // New requests get handles after the carried ones, and wire ids of their own.
    let now = h.now;
    let next = h.client.vcard_get(now, None).expect("sent");
    assert!(next > vcard);
    assert_eq!(h.client.pending_iqs(), 0);
}

#[test]
fn carried_requests_time_out_with_what_was_left_of_their_timeout() {
    let (r, app, vcard) = died_with_requests();
    let mut h = authenticated(config(), Some(r));
    h.server(BIND_AND_SM);
    h.server(&format!("<resumed xmlns='{SM}' previd='sm-1' h='1'/>"));
    h.events();
    h.advance(Duration::from_millis(19_999));
    assert!(
        !h.events()
            .iter()
            .any(|e| matches!(e, Event::Iq(_) | Event::Services(_)))
    );
    h.advance(Duration::from_millis(1));
    let events = h.events();
    assert!(
        events.contains(&Event::Iq(IqEvent::Timeout { id: app })),
        "{events:?}"
    );
    assert!(
        events.contains(&Event::Services(ServiceEvent::Failed {
            id: vcard,
            error: None
        })),
        "{events:?}"
    );
}

#[test]
fn after_a_failed_resumption_only_requests_sent_again_get_replies() {
    let (r, app, vcard) = died_with_requests();
    let mut h = authenticated(config(), Some(r));
    h.server(BIND_AND_SM);
    h.sent();
    h.server(&format!(
        "<failed xmlns='{SM}'><item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></failed>"
    ));
    // The new session's bind comes after the carried handles.
    let wire = h.sent();
    assert!(wire.contains(&format!("id='{}'", wire_id(4))), "{wire}");
    h.server(&bind_result(4));
    let wire = h.sent();
    // The vCard query (unacknowledged) goes out again with its wire id; the acknowledged
    // application IQ does not, and its reply went to the lost session.
    assert!(wire.contains(&format!("id='{}'", wire_id(3))), "{wire}");
    assert!(!wire.contains(&format!("id='{}'", wire_id(2))), "{wire}");
    let events = h.events();
    assert!(
        events.contains(&Event::Iq(IqEvent::Lost { id: app })),
        "{events:?}"
    );
    assert!(
        !events
            .iter()
            .any(|e| matches!(e, Event::Services(ServiceEvent::Failed { id, .. }) if *id == vcard)),
        "{events:?}"
    );
    h.server(&format!(
        "<iq type='result' id='{}'><vCard xmlns='vcard-temp'><FN>Alice</FN></vCard></iq>",
        wire_id(3)
    ));
    assert!(
        h.events()
            .iter()
            .any(|e| matches!(e, Event::Services(ServiceEvent::Vcard { id, .. }) if *id == vcard))
    );
    // A late reply to the lost request is not taken for anything.
    h.server(&format!("<iq type='result' id='{}'/>", wire_id(2)));
    assert!(!h.events().iter().any(|e| matches!(e, Event::Iq(_))));
}

#[test]
fn carried_requests_are_captured_and_replay() {
    use jabber_proto::replay::{self, Options};
    let (r, app, _) = died_with_requests();
    let mut c = config();
    c.capture = true;
    let mut h = authenticated(c, Some(r));
    h.server(BIND_AND_SM);
    h.server(&format!("<resumed xmlns='{SM}' previd='sm-1' h='1'/>"));
    h.server(&format!(
        "<iq type='result' id='{}'><query xmlns='jabber:iq:version'/></iq>",
        wire_id(2)
    ));
    h.advance(Duration::from_secs(25));
    h.sent();
    let events = h.events();
    assert!(
        events
            .iter()
            .any(|e| matches!(e, Event::Iq(IqEvent::Result { id, .. }) if *id == app))
    );
    let records: Vec<_> = std::iter::from_fn(|| h.client.poll_capture()).collect();
    assert!(
        records
            .iter()
            .any(|r| String::from_utf8_lossy(&r.data).contains("<in-flight "))
    );
    let report = replay::replay(&records, &Options::default());
    assert_eq!(report.difference, None, "{:?}", report.events);
    assert_eq!(report.replayed, records.len());
    // Both the reply and the vCard query's timeout come out of the replay.
    assert!(
        report.events.iter().any(|e| e.contains("Result")),
        "{:?}",
        report.events
    );
    assert!(
        report.events.iter().any(|e| e.contains("Failed")),
        "{:?}",
        report.events
    );
}

#[test]
fn an_interrupted_roster_fetch_completes_on_the_resumed_stream() {
    let mut c = config();
    c.fetch_roster = true;
    let mut h = authenticated(c.clone(), None);
    h.server(BIND_AND_SM);
    h.sent();
    h.server(&bind_result(1));
    let wire = h.sent();
    assert!(
        wire.contains("jabber:iq:roster") && wire.contains(&wire_id(2)),
        "{wire}"
    );
    h.server(&format!("<enabled xmlns='{SM}' id='sm-1' resume='true'/>"));
    h.events();
    let now = h.now;
    h.client.handle_reset(now);
    let r = h.client.resumption().expect("resumable");
    assert_eq!(r.in_flight.len(), 1);

    let mut h = authenticated(c, Some(r));
    h.server(BIND_AND_SM);
    h.sent();
    h.server(&format!("<resumed xmlns='{SM}' previd='sm-1' h='1'/>"));
    // Resumed: no second fetch.
    assert!(!h.sent().contains("jabber:iq:roster"));
    h.events();
    h.server(&format!(
        "<iq type='result' id='{}'><query xmlns='jabber:iq:roster'>\
         <item jid='bob@example.com' subscription='both'/></query></iq>",
        wire_id(2)
    ));
    h.events();
    let bob = Jid::parse("bob@example.com").expect("a JID");
    assert!(h.client.roster().get(&bob).is_some());
}

#[test]
fn carried_requests_match_no_reply_before_the_resumption_is_answered() {
    let (r, app, _) = died_with_requests();
    let mut h = Harness::new(config());
    let now = h.now;
    h.client.resume(now, creds(), r).expect("resume starts");
    h.sent();
    h.server(SERVER_HEADER);
    h.server(PLAIN);
    h.sent();
    // Before authentication (in plaintext on a real stream): a forged reply.
    h.server(&format!(
        "<iq type='result' id='{}'><query xmlns='jabber:iq:version'><name>forged</name></query></iq>",
        wire_id(2)
    ));
    h.server(SUCCESS);
    h.sent();
    h.server(SERVER_HEADER);
    h.server(BIND_AND_SM);
    h.sent();
    h.server(&format!("<resumed xmlns='{SM}' previd='sm-1' h='1'/>"));
    assert!(
        !h.events().iter().any(|e| matches!(e, Event::Iq(_))),
        "the forged reply answered nothing"
    );
    h.server(&format!(
        "<iq type='result' id='{}'><query xmlns='jabber:iq:version'><name>real</name></query></iq>",
        wire_id(2)
    ));
    let events = h.events();
    let Some(Event::Iq(IqEvent::Result { id, iq })) =
        events.iter().find(|e| matches!(e, Event::Iq(_)))
    else {
        panic!("{events:?}")
    };
    assert_eq!(*id, app);
    assert!(format!("{:?}", iq.payload()).contains("real"));
}

#[test]
fn a_password_change_in_flight_is_answered_after_resumption_or_failed_after_a_refusal() {
    use jabber_proto::client::AccountEvent;
    // Died with a password change sent and acknowledged, its reply not received.
    let died = || {
        let mut h = enabled(config());
        let now = h.now;
        h.client.change_password(now, "n3w").expect("sent");
        h.sent();
        h.server(&format!("<a xmlns='{SM}' h='1'/>"));
        let now = h.now;
        h.client.handle_reset(now);
        h.client.resumption().expect("resumable")
    };
    let mut h = authenticated(config(), Some(died()));
    h.server(BIND_AND_SM);
    h.sent();
    h.server(&format!("<resumed xmlns='{SM}' previd='sm-1' h='1'/>"));
    h.server(&format!("<iq type='result' id='{}'/>", wire_id(2)));
    assert!(
        h.events()
            .contains(&Event::Account(AccountEvent::PasswordChanged))
    );
    // Refused: the reply went to the lost session; the application is told.
    let mut h = authenticated(config(), Some(died()));
    h.server(BIND_AND_SM);
    h.sent();
    h.server(&format!("<failed xmlns='{SM}'/>"));
    h.sent();
    h.server(&bind_result(3));
    let events = h.events();
    assert!(
        events
            .iter()
            .any(|e| matches!(e, Event::Account(AccountEvent::RegistrationFailed { .. }))),
        "{events:?}"
    );
}

#[test]
fn after_a_refused_resumption_a_stale_roster_reply_changes_nothing() {
    let mut c = config();
    c.fetch_roster = true;
    let mut h = authenticated(c.clone(), None);
    h.server(BIND_AND_SM);
    h.sent();
    h.server(&bind_result(1));
    h.sent();
    h.server(&format!("<enabled xmlns='{SM}' id='sm-1' resume='true'/>"));
    h.events();
    let now = h.now;
    h.client.handle_reset(now);
    let r = h.client.resumption().expect("resumable");

    let mut h = authenticated(c, Some(r));
    h.server(BIND_AND_SM);
    h.sent();
    h.server(&format!("<failed xmlns='{SM}'/>"));
    h.sent();
    h.server(&bind_result(3));
    let wire = h.sent();
    // The new session's own fetch (4), and the old one sent again (2).
    assert!(
        wire.contains(&wire_id(4)) && wire.contains(&wire_id(2)),
        "{wire}"
    );
    let roster = |id: u64, who: &str| {
        format!(
            "<iq type='result' id='{}'><query xmlns='jabber:iq:roster'>\
             <item jid='{who}@example.com' subscription='both'/></query></iq>",
            wire_id(id)
        )
    };
    h.server(&roster(4, "bob"));
    h.server(&roster(2, "stale"));
    h.events();
    let r = h.client.roster();
    assert!(
        r.get(&Jid::parse("bob@example.com").expect("a JID"))
            .is_some()
    );
    assert!(
        r.get(&Jid::parse("stale@example.com").expect("a JID"))
            .is_none()
    );
}

/// What we received is acknowledged before our close: a server counts the rest as
/// undelivered (ejabberd bounces it to the senders as errors). Nothing more when the
/// server already heard the count, and nothing on a stream without stream management.
#[test]
fn close_acknowledges_what_was_received_first() {
    let mut h = enabled(config());
    h.server("<message from='bob@example.com/x' type='chat'><body>1</body></message>");
    h.server("<message from='bob@example.com/x' type='chat'><body>2</body></message>");
    let now = h.now;
    h.client.close(now);
    assert_eq!(
        h.sent(),
        "<a xmlns='urn:xmpp:sm:3' h='2'/></stream:stream>",
        "the ack goes before the close"
    );
    // Nothing follows our close, not even an answer to the server's request.
    h.server("<r xmlns='urn:xmpp:sm:3'/>");
    assert_eq!(h.sent(), "", "nothing after </stream:stream>");

    let mut h = enabled(config());
    h.server("<message from='bob@example.com/x' type='chat'><body>1</body></message>");
    h.server("<r xmlns='urn:xmpp:sm:3'/>");
    assert_eq!(h.sent(), "<a xmlns='urn:xmpp:sm:3' h='1'/>");
    let now = h.now;
    h.client.close(now);
    assert_eq!(h.sent(), "</stream:stream>", "the server already has h=1");

    let mut h = enabled(config());
    let now = h.now;
    h.client.close(now);
    assert_eq!(
        h.sent(),
        "</stream:stream>",
        "nothing received, nothing to tell"
    );
}
