//! Property tests of the login machine: whatever the server answers, in whatever order,
//! pieces and timing, and wherever the application closes, the client never panics, never
//! sends a plaintext password where it is not allowed, sends nothing after its
//! `</stream:stream>`, and ends ready, failed with a typed error, or still waiting.

mod support;

use core::time::Duration;
use std::num::NonZeroU64;

use jabber_proto::client::{Client, Config, Event, SessionEvent, SessionState, State};
use jabber_proto::negotiation::auth::Credentials;
use jabber_proto::time::Instant;
use proptest::prelude::*;
use support::{SEED, wire_id};

const PASSWORD: &str = "pw-Zq9xK";

#[derive(Clone, Debug)]
enum Step {
    /// A reply to our latest IQ but `back` (0: the latest).
    Reply { back: u64, body: String },
    /// Arbitrary server text.
    Raw(String),
    /// Time passes.
    Wait(u64),
    /// The transport ends.
    Eof,
    /// The application closes the stream.
    Close,
}

fn fields() -> impl Strategy<Value = String> {
    proptest::collection::vec(
        prop::sample::select(vec![
            "<username/>",
            "<password/>",
            "<digest/>",
            "<resource/>",
        ]),
        0..4,
    )
    .prop_map(|v| v.concat())
}

fn reply_body() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => Just("type='result'/>".to_string()),
        6 => fields().prop_map(|f| format!(
            "type='result'><query xmlns='jabber:iq:auth'>{f}</query></iq>"
        )),
        1 => Just(
            "type='result'><query xmlns='jabber:iq:roster'><item jid='b@example.com'/></query></iq>"
                .to_string()
        ),
        1 => Just("type='result'><query xmlns='jabber:iq:register'><username/></query></iq>".to_string()),
        1 => prop::sample::select(vec![401u16, 406, 409, 500, 503]).prop_map(|c| format!(
            "type='error'><error code='{c}'/></iq>"
        )),
        1 => Just(
            "type='error'><error type='auth'><not-authorized \
             xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>"
                .to_string()
        ),
        1 => Just("type='get'><query xmlns='jabber:iq:auth'/></iq>".to_string()),
    ]
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        12 => (prop::sample::select(vec![0u64, 0, 0, 1, 2]), reply_body())
            .prop_map(|(back, body)| Step::Reply { back, body }),
        1 => prop::sample::select(vec![
            "<stream:features><auth xmlns='http://jabber.org/features/iq-auth'/></stream:features>",
            "<stream:error><conflict xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error>",
            "</stream:stream>",
            "<message from='b@example.com'><body>hi</body></message>",
            " ",
            "<<junk",
        ])
        .prop_map(|s| Step::Raw(s.to_string())),
        1 => "[ -~]{0,12}".prop_map(Step::Raw),
        3 => (0u64..200_000).prop_map(Step::Wait),
        1 => Just(Step::Eof),
        1 => Just(Step::Close),
    ]
}

fn header() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec![
        support::CLASSIC_HEADER,
        support::SERVER_HEADER,
        "<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>",
    ])
}

fn drain(client: &mut Client, sent: &mut Vec<u8>, events: &mut Vec<Event>) {
    while let Some(b) = client.poll_transmit() {
        sent.extend_from_slice(b);
        let n = b.len();
        client.advance_transmit(n);
    }
    events.extend(std::iter::from_fn(|| client.poll_event()));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    #[test]
    fn login_never_leaks_and_always_ends_somewhere_sane(
        allow_plaintext in any::<bool>(),
        encrypted in any::<bool>(),
        fetch_roster in any::<bool>(),
        version in any::<bool>(),
        header in header(),
        steps in proptest::collection::vec(step(), 0..16),
        split in any::<prop::sample::Index>(),
    ) {
        let mut config = Config::new("example.com", NonZeroU64::MIN);
        config.seed = NonZeroU64::new(SEED).expect("a non-zero seed");
        config.allow_plaintext = allow_plaintext;
        config.transport_encrypted = encrypted;
        config.fetch_roster = fetch_roster;
        config.version = version.then(|| "1.0".to_string());
        let plaintext_ok = allow_plaintext || encrypted;

        let mut now = Instant::from_millis(0);
        let mut client = Client::new(config, now);
        client.login(now, Credentials::new("alice", PASSWORD, "r")).expect("fresh client");
        let mut sent = Vec::new();
        let mut events = Vec::new();
        drain(&mut client, &mut sent, &mut events);
        // The header in two pieces, split anywhere.
        let at = split.index(header.len() + 1);
        client.handle_input(now, &header.as_bytes()[..at]).expect("input taken");
        client.handle_input(now, &header.as_bytes()[at..]).expect("input taken");
        if version {
            client.handle_input(now, b"<stream:features/>").expect("input taken");
        }
        drain(&mut client, &mut sent, &mut events);
        for step in steps {
            match step {
                Step::Reply { back, body } => {
                    let text = String::from_utf8_lossy(&sent);
                    let requests = (text.matches("type='get'").count()
                        + text.matches("type='set'").count()) as u64;
                    let xml = format!("<iq id='{}' {body}", wire_id(requests.saturating_sub(back)));
                    let cut = split.index(xml.len() + 1);
                    client.handle_input(now, &xml.as_bytes()[..cut]).expect("input taken");
                    client.handle_input(now, &xml.as_bytes()[cut..]).expect("input taken");
                }
                Step::Raw(s) => client.handle_input(now, s.as_bytes()).expect("input taken"),
                Step::Wait(ms) => {
                    now = now + Duration::from_millis(ms);
                    client.handle_timeout(now);
                }
                Step::Eof => client.handle_eof(now),
                Step::Close => client.close(now),
            }
            drain(&mut client, &mut sent, &mut events);
            if let Some(t) = client.poll_timeout() {
                prop_assert!(t >= now || client.is_closed(), "deadline in the past");
            }
        }

        let sent = String::from_utf8_lossy(&sent);
        if let Some(at) = sent.find("</stream:stream>") {
            let after = &sent[at + "</stream:stream>".len()..];
            prop_assert!(after.is_empty(), "sent after our close: {after:?}");
        }
        if !plaintext_ok {
            prop_assert!(!sent.contains(PASSWORD), "plaintext password sent: {sent}");
        }
        let ready = events.iter().filter(|e| matches!(e, Event::Session(SessionEvent::Ready { .. }))).count();
        let failed = events.iter().filter(|e| matches!(e, Event::Session(SessionEvent::LoginFailed(_)))).count();
        let closed = events.iter().filter(|e| matches!(e, Event::Closed(_))).count();
        prop_assert!(ready + failed <= 1, "{events:?}");
        prop_assert!(closed <= 1);
        if closed == 1 {
            prop_assert!(matches!(events.last(), Some(Event::Closed(_))), "Closed is last");
        }
        match client.session_state() {
            SessionState::Ready => prop_assert_eq!(ready, 1),
            SessionState::Authenticating | SessionState::LoggedIn => {
                prop_assert_eq!(failed + closed, 0)
            }
            // Ended by a failure, by the connection's end, or by our own close.
            SessionState::Ended => prop_assert!(
                failed + closed >= 1 || client.state() == State::Closing,
                "{events:?}"
            ),
            SessionState::Unauthenticated => prop_assert!(false, "login forgotten: {events:?}"),
            other => prop_assert!(false, "unexpected state {other:?}"),
        }
    }
}
