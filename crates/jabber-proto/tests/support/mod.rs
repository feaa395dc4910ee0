//! A scripted server and a virtual clock around one `Client`.

#![allow(dead_code)]

use core::time::Duration;

use jabber_proto::client::{Client, Config, Event, SessionEvent, StreamEvent};
use jabber_proto::negotiation::auth::Credentials;
use jabber_proto::time::Instant;

pub(crate) const SERVER_HEADER: &str = "<?xml version='1.0'?><stream:stream xmlns='jabber:client' \
    xmlns:stream='http://etherx.jabber.org/streams' from='example.com' id='s1' version='1.0'>";

/// The header of a classic (version-less) server stream, as ejabberd sends it.
pub(crate) const CLASSIC_HEADER: &str = "<?xml version='1.0'?><stream:stream xmlns='jabber:client' \
    xmlns:stream='http://etherx.jabber.org/streams' id='3EE948B0' from='example.com'>";

/// The seed the session tests use.
pub(crate) const SEED: u64 = 0x1234_5678_9abc_def0;

/// The wire id of the `n`th IQ a client seeded with [`SEED`] sends.
pub(crate) fn wire_id(n: u64) -> String {
    format!("{:08x}-{n}", (SEED ^ (SEED >> 32)) as u32)
}

pub(crate) struct Harness {
    pub(crate) client: Client,
    pub(crate) now: Instant,
}

impl Harness {
    pub(crate) fn new(config: Config) -> Harness {
        let now = Instant::from_millis(1_000);
        Harness {
            client: Client::new(config, now),
            now,
        }
    }

    /// A client logged in by digest at `now` on a classic stream, everything drained.
    /// With `fetch_roster` and `initial_presence` off (as the callers set them) the
    /// next IQ id is 3.
    pub(crate) fn logged_in(config: Config) -> Harness {
        let mut h = Harness::new(config);
        let now = h.now;
        h.client
            .login(now, Credentials::new("alice", "pw", "desk"))
            .expect("login starts");
        h.server(CLASSIC_HEADER);
        h.server(&format!(
            "<iq type='result' id='{}'><query xmlns='jabber:iq:auth'><digest/></query></iq>",
            wire_id(1)
        ));
        h.server(&format!("<iq type='result' id='{}'/>", wire_id(2)));
        assert!(matches!(
            h.events().last(),
            Some(Event::Session(SessionEvent::Ready { .. }))
        ));
        h.sent();
        h
    }

    /// A client whose stream is open; the header exchange is already drained.
    pub(crate) fn open(config: Config) -> Harness {
        let mut h = Harness::new(config);
        h.sent();
        h.server(SERVER_HEADER);
        assert!(matches!(
            h.events().as_slice(),
            [Event::Stream(StreamEvent::Opened(_))]
        ));
        h
    }

    /// Delivers server bytes.
    pub(crate) fn server(&mut self, xml: &str) {
        self.client
            .handle_input(self.now, xml.as_bytes())
            .expect("input taken");
    }

    /// Delivers server bytes one at a time.
    pub(crate) fn server_bytewise(&mut self, xml: &str) {
        for b in xml.as_bytes() {
            self.client
                .handle_input(self.now, core::slice::from_ref(b))
                .expect("input taken");
        }
    }

    /// Advances the virtual clock and fires due timers.
    pub(crate) fn advance(&mut self, d: Duration) {
        self.now = self.now + d;
        self.client.handle_timeout(self.now);
    }

    /// Jumps to the client's next deadline and fires it.
    pub(crate) fn run_to_deadline(&mut self) -> Option<Instant> {
        let t = self.client.poll_timeout()?;
        assert!(t >= self.now, "deadline in the past");
        self.now = t;
        self.client.handle_timeout(t);
        Some(t)
    }

    /// Everything the client wants to send, as text, drained.
    pub(crate) fn sent(&mut self) -> String {
        let mut out = Vec::new();
        while let Some(b) = self.client.poll_transmit() {
            out.extend_from_slice(b);
            let n = b.len();
            self.client.advance_transmit(n);
        }
        String::from_utf8(out).expect("the client sends UTF-8")
    }

    /// All queued events, drained.
    pub(crate) fn events(&mut self) -> Vec<Event> {
        std::iter::from_fn(|| self.client.poll_event()).collect()
    }
}
