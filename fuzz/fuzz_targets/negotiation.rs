//! Drives the XMPP 1.0 login (stream features, STARTTLS, SASL, restarts, bind) with
//! arbitrary server bytes after a valid 1.0 header.
//!
//! Input: byte 0 holds flags (bit 0: the transport is encrypted from the start, bit 1:
//! `require_tls`, bit 2: `allow_plaintext`, bit 3: channel-binding data is given, bit 4:
//! the driver brings TLS up when asked), byte 1 the chunk size (1–256), the rest is what
//! the server sends. Each chunk is followed by 7 virtual seconds.
//!
//! Checked: no panic; with TLS required and the transport not encrypted, no credential
//! leaves in any form (no `<auth>`, no iq:auth password or digest) until TLS is up; while
//! the client waits for TLS nothing is sent and no stanza reaches the application (what
//! follows `<proceed/>` in plaintext is an injection); at most one of `Ready` /
//! `LoginFailed`; `Closed` once and last; no deadline in the past.
#![no_main]

use std::num::NonZeroU64;
use std::time::Duration;

use jabber_proto::client::{Client, Config, Event, SessionEvent};
use jabber_proto::negotiation::auth::Credentials;
use jabber_proto::negotiation::sasl::{ChannelBinding, ChannelBindingKind};
use jabber_proto::time::Instant;
use libfuzzer_sys::fuzz_target;

const HEADER: &[u8] = b"<?xml version='1.0'?><stream:stream xmlns='jabber:client' \
    xmlns:stream='http://etherx.jabber.org/streams' id='3EE948B0' from='example.com' \
    version='1.0'>";
const PASSWORD: &str = "pw-Zq9xK";

fn binding() -> Vec<ChannelBinding> {
    vec![ChannelBinding {
        kind: ChannelBindingKind::TlsExporter,
        data: vec![0xAB; 32],
    }]
}

fn drain(client: &mut Client, sent: &mut Vec<u8>, events: &mut Vec<Event>) {
    while let Some(b) = client.poll_transmit() {
        sent.extend_from_slice(b);
        let n = b.len();
        client.advance_transmit(n);
    }
    while let Some(e) = client.poll_event() {
        assert!(
            !matches!(events.last(), Some(Event::Closed(_))),
            "event after Closed: {e:?}"
        );
        events.push(e);
    }
}

fuzz_target!(|data: &[u8]| {
    let [flags, chunk, body @ ..] = data else {
        return;
    };
    let mut config = Config::new("example.com", NonZeroU64::MIN);
    config.version = Some("1.0".into());
    config.transport_encrypted = flags & 1 != 0;
    config.require_tls = flags & 2 != 0;
    config.allow_plaintext = flags & 4 != 0;
    let bind = flags & 8 != 0;
    let bring_tls_up = flags & 16 != 0;
    let guarded = config.require_tls && !config.transport_encrypted;

    let mut now = Instant::ZERO;
    let mut client = Client::new(config, now);
    if bind {
        client.handle_channel_binding(now, binding());
    }
    client
        .login(now, Credentials::new("alice", PASSWORD, "r"))
        .expect("a fresh client takes a login");
    let (mut sent, mut events) = (Vec::new(), Vec::new());
    drain(&mut client, &mut sent, &mut events);
    client.handle_input(now, HEADER).expect("drained before every input");
    drain(&mut client, &mut sent, &mut events);
    let mut tls_up = false;
    let mut before_tls = 0;
    for piece in body.chunks(usize::from(*chunk) + 1) {
        let waiting = client.wants_tls();
        let (sent_len, events_len) = (sent.len(), events.len());
        client.handle_input(now, piece).expect("drained before every input");
        now = now + Duration::from_secs(7);
        client.handle_timeout(now);
        drain(&mut client, &mut sent, &mut events);
        if waiting {
            assert_eq!(sent.len(), sent_len, "written while waiting for TLS");
            assert!(
                events[events_len..]
                    .iter()
                    .all(|e| matches!(e, Event::Closed(_) | Event::Session(_))),
                "input taken while waiting for TLS: {:?}",
                &events[events_len..]
            );
        }
        if client.wants_tls() && bring_tls_up {
            client
                .handle_tls_ready(now, if bind { binding() } else { Vec::new() })
                .expect("asked for");
            tls_up = true;
            drain(&mut client, &mut sent, &mut events);
        }
        if !tls_up {
            before_tls = sent.len();
        }
        if let Some(t) = client.poll_timeout() {
            assert!(t > now, "deadline in the past");
        }
    }

    if guarded {
        let text = String::from_utf8_lossy(&sent[..before_tls]);
        for secret in ["<auth ", "<password>", "<digest>", PASSWORD] {
            assert!(!text.contains(secret), "{secret} before TLS: {text}");
        }
    }
    let count = |f: fn(&Event) -> bool| events.iter().filter(|e| f(e)).count();
    let ready = count(|e| matches!(e, Event::Session(SessionEvent::Ready { .. })));
    let failed = count(|e| matches!(e, Event::Session(SessionEvent::LoginFailed(_))));
    assert!(ready + failed <= 1, "{events:?}");
    assert!(count(|e| matches!(e, Event::Closed(_))) <= 1);
    if client.is_closed() {
        assert!(matches!(events.last(), Some(Event::Closed(_))));
    }
});
