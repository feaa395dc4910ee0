//! The blocking policy's commands and the carbons config in a capture: a session using
//! them replays to the same events and the same bytes, whole and in pieces.

mod support;

use std::num::NonZeroU64;

use jabber_proto::client::{CaptureRecord, Config, RecordKind};
use jabber_proto::features::block_policy::{BlockMode, BlockPolicy};
use jabber_proto::jid::Jid;
use jabber_proto::negotiation::auth::Credentials;
use jabber_proto::replay::{self, FILE_HEADER, Options};
use support::{CLASSIC_HEADER, Harness, SEED, wire_id};

fn config() -> Config {
    let mut c = Config::new(
        "example.com",
        NonZeroU64::new(SEED).expect("a non-zero seed"),
    );
    // A classic server is scripted: the classic stream, stated (1.0 is the default).
    c.version = None;
    c.capture = true;
    c.fetch_roster = false;
    c.carbons = true;
    c
}

fn run() -> (Vec<String>, Vec<CaptureRecord>) {
    let mut h = Harness::new(config());
    let mut events = Vec::new();
    let mut drain = |h: &mut Harness| {
        h.sent();
        events.extend(h.events().iter().map(|e| format!("{e:?}")));
    };
    let now = h.now;
    h.client
        .login(now, Credentials::new("alice", "pw", "desk"))
        .expect("login starts");
    h.server(CLASSIC_HEADER);
    h.server(&format!(
        "<iq type='result' id='{}'><query xmlns='jabber:iq:auth'><digest/></query></iq>",
        wire_id(1)
    ));
    // Logged in: presence (1 message), then the carbons request (id 3).
    h.server(&format!("<iq type='result' id='{}'/>", wire_id(2)));
    h.server(&format!("<iq type='result' id='{}'/>", wire_id(3)));
    drain(&mut h);

    let now = h.now;
    h.client.load_block_policy(now).expect("sent");
    let policy = BlockPolicy::new(BlockMode::RosterOnly)
        .with_jid(Jid::parse("mallory@example.net").expect("a JID"))
        .blocking_subscriptions(true);
    h.client.set_block_policy(now, policy).expect("sent");
    drain(&mut h);
    h.server(&format!(
        "<iq type='result' id='{}'><query xmlns='jabber:iq:private'>\
         <policy xmlns='urn:jabber-rs:block-policy:0' mode='roster-only'/></query></iq>\
         <iq type='result' id='{}'/><iq type='result' id='{}'/>\
         <message from='stranger@example.org/x'><body>dropped</body></message>\
         <message from='alice@example.com'><sent xmlns='urn:xmpp:carbons:2'>\
         <forwarded xmlns='urn:xmpp:forward:0'><message xmlns='jabber:client' \
         to='bob@example.com' type='chat'><body>copy</body></message></forwarded></sent>\
         </message>\
         <message from='bob@example.com'><sent xmlns='urn:xmpp:carbons:2'/></message>",
        wire_id(4),
        wire_id(5),
        wire_id(6),
    ));
    drain(&mut h);
    let records = std::iter::from_fn(|| h.client.poll_capture()).collect();
    (events, records)
}

#[test]
fn block_policy_and_carbons_replay_to_the_same_events_and_bytes() {
    let (events, records) = run();
    for kind in [
        "Enabled",
        "BlockPolicy ",
        "BlockPolicySaved",
        "BlockListSynced",
        "Sent(",
        "Spoofed",
    ] {
        assert!(
            events.iter().any(|e| e.contains(kind)),
            "no {kind} in {events:#?}"
        );
    }
    assert!(!events.iter().any(|e| e.contains("dropped")), "{events:#?}");
    let mut file = FILE_HEADER.as_bytes().to_vec();
    for r in &records {
        replay::write_record(&mut file, r);
    }
    let read = replay::parse(&file).expect("the file reads back");
    assert_eq!(read, records);
    let sent: Vec<String> = records
        .iter()
        .filter(|r| r.kind == RecordKind::Sent)
        .map(|r| String::from_utf8_lossy(&r.data).into_owned())
        .collect();
    assert!(
        sent.iter()
            .any(|s| s.contains("<enable xmlns='urn:xmpp:carbons:2'/>"))
    );
    for options in [Options::default(), Options::chunked(1), Options::chunked(7)] {
        let report = replay::replay(&records, &options);
        assert_eq!(report.difference, None, "{options:?}");
        assert!(!report.incomplete);
        assert_eq!(report.events, events, "{options:?}");
        assert_eq!(report.sent, sent, "{options:?}");
    }
}
