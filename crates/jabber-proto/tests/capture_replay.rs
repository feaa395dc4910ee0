//! Captures and replay: a scripted session using every command, captured, written to a
//! file, read back and replayed — the same events and the same bytes sent, in any
//! chunking; secrets masked byte-exactly in the commands; a tampered capture reported at
//! its first difference; the bound leaves a gap that stops the replay.

mod support;

use std::num::NonZeroU64;
use std::time::Duration;

use jabber_proto::client::{CaptureRecord, Config, Event, RecordKind};
use jabber_proto::features::roster::RosterItem;
use jabber_proto::jid::Jid;
use jabber_proto::negotiation::auth::Credentials;
use jabber_proto::negotiation::channel_binding::ChannelBindingPolicy;
use jabber_proto::negotiation::register::{Field, RegistrationForm};
use jabber_proto::negotiation::sasl::{Mechanism, MechanismSet};
use jabber_proto::negotiation::scram::ScramHash;
use jabber_proto::replay::{self, FILE_HEADER, FormatError, Options};
use jabber_proto::stanza::{IqType, StanzaCondition, StanzaError};
use jabber_proto::xml::Element;
use support::{CLASSIC_HEADER, Harness, SEED, wire_id};

const SECRET: &str = "s3cr3t-Pa55";

fn config() -> Config {
    let mut c = Config::new("example.com", NonZeroU64::MIN);
    // A classic server is scripted: the classic stream, stated (1.0 is the default).
    c.version = None;
    c.seed = NonZeroU64::new(SEED).expect("a non-zero seed");
    c.capture = true;
    c.iq_namespaces = vec!["jabber:iq:version".into()];
    c
}

fn jid(s: &str) -> Jid {
    Jid::parse(s).expect("a valid JID")
}

/// A session through every command the client has, with the live events and the
/// capture's records.
struct Session {
    events: Vec<String>,
    records: Vec<CaptureRecord>,
}

impl Session {
    fn drain(h: &mut Harness, events: &mut Vec<String>) {
        h.sent();
        events.extend(h.events().iter().map(|e| format!("{e:?}")));
    }

    fn run() -> Session {
        let mut h = Harness::new(config());
        let mut events = Vec::new();
        let now = h.now;
        h.client
            .login(now, Credentials::new("alice", SECRET, "desk"))
            .expect("login starts");
        h.server(CLASSIC_HEADER);
        Self::drain(&mut h, &mut events);
        h.server(&format!(
            "<iq type='result' id='{}'><query xmlns='jabber:iq:auth'>\
             <username/><digest/><resource/></query></iq>",
            wire_id(1)
        ));
        Self::drain(&mut h, &mut events);
        h.server(&format!("<iq type='result' id='{}'/>", wire_id(2)));
        h.server(&format!(
            "<iq type='result' id='{}'><query xmlns='jabber:iq:roster'>\
             <item jid='bob@example.com' subscription='both' name='Bob'/></query></iq>",
            wire_id(3)
        ));
        Self::drain(&mut h, &mut events);
        assert!(events.iter().any(|e| e.contains("Ready")), "{events:#?}");

        // Traffic from the server: a message, a roster push, requests to answer, a ping.
        h.advance(Duration::from_millis(250));
        h.server(
            "<message from='bob@example.com/x' type='chat' id='m1'><body>hi \u{e9}</body>\
             </message><iq type='set' id='push1'><query xmlns='jabber:iq:roster'>\
             <item jid='carol@example.com' subscription='none'/></query></iq>\
             <iq type='get' id='v1' from='bob@example.com/x'>\
             <query xmlns='jabber:iq:version'/></iq>\
             <iq type='get' id='v2' from='bob@example.com/x'>\
             <query xmlns='jabber:iq:version'/></iq>\
             <iq type='get' id='p1' from='example.com'><ping xmlns='urn:xmpp:ping'/></iq>",
        );
        let mut requests = Vec::new();
        h.sent();
        for e in h.events() {
            events.push(format!("{e:?}"));
            if let Event::Stanza(jabber_proto::client::StanzaEvent::IqRequest(iq)) = e {
                requests.push(iq);
            }
        }
        assert_eq!(requests.len(), 2);
        let now = h.now;
        let version = Element::builder("query", "jabber:iq:version")
            .child(Element::builder("name", "jabber:iq:version").text("replay"))
            .build()
            .expect("a valid query");
        h.client
            .respond(now, &requests[0], Ok(Some(version)))
            .expect("answered");
        h.client
            .respond(
                now,
                &requests[1],
                Err(StanzaError::new(StanzaCondition::ItemNotFound).with_text("gone")),
            )
            .expect("answered");

        // Commands: a message, IQs (one never answered), roster changes, a refused
        // password change (plaintext not allowed), registration queries.
        let chat = Element::builder("message", "jabber:client")
            .attr("to", "bob@example.com")
            .attr("type", "chat")
            .child(Element::builder("body", "jabber:client").text("back <soon> & \"well\""))
            .build()
            .expect("a valid message");
        h.client.send(now, chat).expect("sent");
        let disco = Element::builder("query", "http://jabber.org/protocol/disco#info")
            .build()
            .expect("a valid query");
        h.client
            .send_iq(now, Some(&jid("example.com")), IqType::Get, disco.clone())
            .expect("sent");
        h.client
            .send_iq(now, None, IqType::Get, disco)
            .expect("sent");
        let item = RosterItem::new(jid("dave@example.com"))
            .with_name("Dave")
            .with_group("Friends");
        h.client.roster_set(now, &item).expect("sent");
        h.client
            .roster_remove(now, &jid("carol@example.com"))
            .expect("sent");
        assert!(h.client.change_password(now, "n3w-Secret").is_err());
        h.client.request_registration(now).expect("sent");
        let mut form = RegistrationForm::with_fields(&[Field::Username, Field::Password]);
        form.set(Field::Username, "alice");
        form.set(Field::Password, SECRET);
        assert!(h.client.submit_registration(now, &form).is_err());
        h.client.remove_account(now).expect("sent");

        // Part of the output written, then the rest.
        let n = h.client.poll_transmit().map_or(0, |b| b.len().min(5));
        h.client.advance_transmit(n);
        Self::drain(&mut h, &mut events);

        // Answers to some, an IQ timeout for the one left, then the close.
        h.advance(Duration::from_millis(40));
        h.server(&format!("<iq type='result' id='{}'/>", wire_id(7)));
        Self::drain(&mut h, &mut events);
        h.advance(Duration::from_secs(61));
        Self::drain(&mut h, &mut events);
        let now = h.now;
        h.client.close(now);
        h.server("</stream:stream>");
        Self::drain(&mut h, &mut events);
        assert!(h.client.is_closed(), "the session ended");
        let records = std::iter::from_fn(|| h.client.poll_capture()).collect();
        assert_eq!(h.client.capture_dropped(), 0);
        Session { events, records }
    }

    fn file(&self) -> Vec<u8> {
        let mut file = FILE_HEADER.as_bytes().to_vec();
        for r in &self.records {
            replay::write_record(&mut file, r);
        }
        file
    }
}

#[test]
fn a_captured_session_replays_to_the_same_events_and_bytes() {
    let session = Session::run();
    let records = replay::parse(&session.file()).expect("the file reads back");
    assert_eq!(
        records, session.records,
        "the file holds every record as it was"
    );
    let report = replay::replay(&records, &Options::default());
    assert_eq!(report.difference, None);
    assert!(!report.incomplete);
    assert_eq!(report.replayed, records.len());
    assert_eq!(report.events, session.events);
    let sent = records
        .iter()
        .filter(|r| r.kind == RecordKind::Sent)
        .count();
    assert_eq!(report.sent.len(), sent);
    assert!(sent >= 15, "the session sent {sent} items");
    // Every kind of record a live client writes appears in this session.
    for kind in [
        RecordKind::Config,
        RecordKind::Input,
        RecordKind::Timeout,
        RecordKind::Command,
        RecordKind::Refused,
        RecordKind::Advance,
        RecordKind::Event,
        RecordKind::Sent,
    ] {
        assert!(records.iter().any(|r| r.kind == kind), "no {kind:?} record");
    }
}

#[test]
fn any_chunking_of_the_input_replays_the_same() {
    let session = Session::run();
    for n in [1, 2, 7, 64, 1460] {
        let report = replay::replay(&session.records, &Options::chunked(n));
        assert_eq!(report.difference, None, "pieces of {n}");
        assert_eq!(report.events, session.events, "pieces of {n}");
    }
}

#[test]
fn the_capture_never_holds_a_secret_and_masks_each_command_byte_exactly() {
    let session = Session::run();
    let file = session.file();
    let text = String::from_utf8_lossy(&file);
    assert!(!text.contains(SECRET), "the password leaked");
    assert!(!text.contains("n3w-Secret"), "the new password leaked");
    let digest = jabber_proto::negotiation::auth::digest("3EE948B0", SECRET);
    assert!(!text.contains(&digest), "the digest leaked");
    let commands: Vec<String> = session
        .records
        .iter()
        .filter(|r| r.kind == RecordKind::Command)
        .map(|r| String::from_utf8(r.data.clone()).expect("UTF-8"))
        .collect();
    let ns = "urn:jabber-rs:capture:1";
    for expected in [
        format!(
            "<login xmlns='{ns}' username='alice' resource='desk'>\
             <password xmlns='jabber:iq:auth'>***</password></login>"
        ),
        format!(
            "<change-password xmlns='{ns}'>\
             <password xmlns='jabber:iq:register'>***</password></change-password>"
        ),
        format!(
            "<submit-registration xmlns='{ns}'><query xmlns='jabber:iq:register'>\
             <username>alice</username><password>***</password></query>\
             </submit-registration>"
        ),
    ] {
        assert!(
            commands.contains(&expected),
            "{expected}\nnot in {commands:#?}"
        );
    }
    // The digest the client sent is masked in the sent record too.
    let sent: Vec<&CaptureRecord> = session
        .records
        .iter()
        .filter(|r| r.kind == RecordKind::Sent && r.data.windows(8).any(|w| w == b"<digest>"))
        .collect();
    assert_eq!(sent.len(), 1);
    assert!(String::from_utf8_lossy(&sent[0].data).contains("<digest>***</digest>"));
}

#[test]
fn a_tampered_capture_is_reported_at_its_first_difference() {
    let session = Session::run();
    // The server's message says something else: the event differs.
    let mut records = session.records.clone();
    let (i, input) = records
        .iter_mut()
        .enumerate()
        .find(|(_, r)| r.kind == RecordKind::Input && r.data.starts_with(b"<message"))
        .expect("the message was received");
    let at = input
        .data
        .windows(2)
        .position(|w| w == b"hi")
        .expect("its body");
    input.data[at] = b'H';
    let report = replay::replay(&records, &Options::default());
    let diff = report.difference.expect("a difference");
    assert_eq!(diff.kind, RecordKind::Event);
    assert!(diff.record > i);
    assert!(
        diff.expected.contains("hi") && diff.found.contains("Hi"),
        "{diff:?}"
    );
    assert!(report.events.len() < session.events.len());

    // A sent item that the client would not send.
    let mut records = session.records.clone();
    let sent = records
        .iter_mut()
        .find(|r| r.kind == RecordKind::Sent && r.data.starts_with(b"<message"))
        .expect("a message was sent");
    sent.data = b"<message to='eve@example.com'/>".to_vec();
    let diff = replay::replay(&records, &Options::default())
        .difference
        .expect("a difference");
    assert_eq!(diff.kind, RecordKind::Sent);
    assert!(
        diff.found.starts_with("<message to='bob@example.com'"),
        "{diff:?}"
    );

    // A refusal that did not happen.
    let mut records = session.records.clone();
    let refused = records
        .iter()
        .position(|r| r.kind == RecordKind::Refused)
        .expect("a refusal");
    records.remove(refused);
    let diff = replay::replay(&records, &Options::default())
        .difference
        .expect("a difference");
    assert_eq!(diff.kind, RecordKind::Command);
    assert_eq!(diff.expected, "accepted");
}

#[test]
fn the_config_is_captured_field_by_field() {
    let mut c = config();
    c.iq_timeout = Duration::from_millis(1234);
    c.close_timeout = Duration::from_millis(99);
    c.send_declaration = false;
    c.version = Some("1.0".into());
    c.lang = Some("de".into());
    c.iq_namespaces.push("urn:example:x".into());
    c.transport_encrypted = true;
    c.allow_plaintext = true;
    c.use_digest = false;
    c.fetch_roster = false;
    c.initial_presence = false;
    c.keepalive_interval = None;
    c.dead_peer_timeout = Some(Duration::from_secs(7));
    c.max_unsent_bytes = 4321;
    c.max_events = 17;
    c.console = true;
    c.console_max_bytes = 999;
    c.capture_max_bytes = 1 << 22;
    c.name = Some("conn-7".into());
    c.limits.max_stanza_bytes = 5555;
    c.limits.max_depth = 9;
    c.limits.max_attributes = 11;
    c.channel_binding = ChannelBindingPolicy::Required;
    c.sasl_mechanisms = MechanismSet::only(Mechanism::Plain).with(Mechanism::Scram {
        hash: ScramHash::Sha1,
        plus: false,
    });
    let expected = format!("{c:?}");
    let mut h = Harness::new(c);
    let first = h.client.poll_capture().expect("the config record");
    assert_eq!(first.kind, RecordKind::Config);
    // A replay rebuilds the same client from it: its header is what the live one sent.
    let live_header = h.sent();
    assert!(live_header.starts_with("<stream:stream"), "{live_header}");
    let records = std::iter::once(first)
        .chain(std::iter::from_fn(|| h.client.poll_capture()))
        .collect::<Vec<_>>();
    let report = replay::replay(&records, &Options::default());
    assert_eq!(report.difference, None);
    assert!(report.sent[0].contains("xml:lang='de'") && report.sent[0].contains("version='1.0'"));
    // Every field round-trips: the config the record describes prints as the original.
    let text = String::from_utf8(records[0].data.clone()).expect("UTF-8");
    for needle in [
        "iq-timeout-ms='1234'",
        "close-timeout-ms='99'",
        "send-declaration='false'",
        "dead-peer-timeout-ms='7000'",
        "max-unsent-bytes='4321'",
        "max-events='17'",
        "console-max-bytes='999'",
        "capture-max-bytes='4194304'",
        "name='conn-7'",
        "max-stanza-bytes='5555'",
        "max-depth='9'",
        "max-attributes='11'",
        "<iq-namespace>urn:example:x</iq-namespace>",
        "channel-binding='required'",
        "sasl-mechanisms='SCRAM-SHA-1 PLAIN'",
    ] {
        assert!(text.contains(needle), "{needle} not in {text}");
    }
    assert!(!text.contains("keepalive-interval-ms"), "{text}");
    assert!(expected.contains("conn-7"));
}

#[test]
fn the_bound_drops_records_and_a_gap_stops_the_replay() {
    let mut c = config();
    // Room for the config, the headers and one message (about 1.8 KB), not two.
    c.capture_max_bytes = 2000;
    let mut h = Harness::new(c);
    h.sent();
    h.server(CLASSIC_HEADER);
    let body = "x".repeat(800);
    // Nothing drained: the second message does not fit.
    for i in 0..2 {
        h.server(&format!(
            "<message from='bob@example.com/x' id='{i}'><body>{body}</body></message>"
        ));
    }
    assert!(h.client.capture_dropped() > 0);
    let mut records: Vec<CaptureRecord> = std::iter::from_fn(|| h.client.poll_capture()).collect();
    // With room again, the next record comes after a gap.
    h.server("<message from='bob@example.com/x' id='late'/>");
    records.extend(std::iter::from_fn(|| h.client.poll_capture()));
    assert!(
        records.iter().any(|r| r.kind == RecordKind::Gap),
        "{records:?}"
    );
    let report = replay::replay(&records, &Options::default());
    assert!(report.incomplete);
    assert_eq!(report.difference, None);
    assert!(report.replayed < records.len());
}

#[test]
fn capture_off_records_nothing() {
    let mut c = config();
    c.capture = false;
    c.fetch_roster = false;
    c.initial_presence = false;
    let mut h = Harness::logged_in(c);
    h.server("<message from='bob@example.com/x'><body>x</body></message>");
    h.events();
    assert_eq!(h.client.poll_capture(), None);
    assert_eq!(h.client.capture_dropped(), 0);
}

#[test]
fn the_file_format_reads_back_and_refuses_what_is_not_a_capture() {
    assert_eq!(
        replay::parse(b"<stream:stream>"),
        Err(FormatError::NotACapture)
    );
    let mut file = FILE_HEADER.as_bytes().to_vec();
    let r1 = CaptureRecord::new(
        RecordKind::Input,
        jabber_proto::time::Instant::from_millis(12),
        b"a\nb\xff\n".to_vec(),
    );
    let r2 = CaptureRecord::new(
        RecordKind::Timeout,
        jabber_proto::time::Instant::from_millis(13),
        Vec::new(),
    );
    replay::write_record(&mut file, &r1);
    replay::write_record(&mut file, &r2);
    assert_eq!(replay::parse(&file), Ok(vec![r1.clone(), r2]));
    // Cut anywhere in its last record, a file gives the records before it.
    let whole = file.len();
    let first_end = FILE_HEADER.len() + "in 12 5\n".len() + 5 + 1;
    for cut in first_end..whole {
        assert_eq!(
            replay::parse(&file[..cut]),
            Ok(vec![r1.clone()]),
            "cut at {cut}"
        );
    }
    let mut bad = FILE_HEADER.as_bytes().to_vec();
    bad.extend_from_slice(b"bogus 1 0\n\n");
    assert!(matches!(
        replay::parse(&bad),
        Err(FormatError::BadRecord { .. })
    ));
}

#[test]
fn a_hostile_length_reads_as_a_file_cut_short() {
    // Capture files arrive attached to bug reports: a length no file can hold must not
    // panic the reader.
    for len in [usize::MAX, usize::MAX - 9, usize::MAX / 2] {
        let mut file = FILE_HEADER.as_bytes().to_vec();
        file.extend_from_slice(format!("in 0 {len}\nabc\n").as_bytes());
        let read = replay::parse(&file);
        assert!(
            matches!(&read, Ok(r) if r.is_empty())
                || matches!(read, Err(FormatError::BadRecord { .. })),
            "length {len}"
        );
    }
}
