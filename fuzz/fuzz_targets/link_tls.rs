//! Drives `jabber_net::Link` over direct TLS against an in-memory rustls server, on a
//! virtual clock: after a real handshake and the server's stream header, fuzzer bytes
//! choose what the server sends (XMPP bytes encrypted, its close_notify, raw bytes that
//! are not TLS at all), how the records are cut into reads, end of input, a reset, the
//! client's close and the passing of time.
//!
//! Input: a sequence of steps, each a control byte and, for some, data bytes after it:
//!
//! | byte        | step                                                                 |
//! |-------------|----------------------------------------------------------------------|
//! | `00`–`7F`   | the server writes the next `b + 1` data bytes (encrypted)            |
//! | `80`–`9F`   | the link reads what the server sent, in pieces of `(b & 0x1F) + 1`    |
//! | `A0`–`AF`   | the server sends close_notify                                        |
//! | `B0`–`BF`   | the link reads the next `(b & 0x0F) + 1` data bytes raw (not TLS)    |
//! | `C0`–`C7`   | end of input                                                         |
//! | `C8`–`CF`   | the socket is reset                                                  |
//! | `D0`–`D7`   | the client closes the stream                                         |
//! | `D8`–`DF`   | `(b & 7) + 1` seconds pass and the link's timeout runs               |
//! | `E0`–`FF`   | the client's bytes are written to the server                         |
//!
//! The core's event bound is small, so that one read can fill it: input it refuses is
//! offered again after draining the events and running the timeout, as the contract
//! says.
//!
//! Checked: no panic and no hang (libFuzzer's timeout: a read loop that spins is a
//! finding); input is refused only when `wants_input` said so; after a fatal error
//! nothing more is fed; `Closed` comes at most once and nothing follows it; after a
//! reset the link is finished; once the link is finished it offers no byte.
#![no_main]

use std::num::NonZeroU64;
use std::io::{Read, Write};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use jabber_net::{Error, Link, Options, Tls};
use jabber_proto::client::{self, Config, Event};
use jabber_proto::time::Instant;
use libfuzzer_sys::fuzz_target;
use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};

const DOMAIN: &str = "example.com";
const HEADER: &[u8] = b"<?xml version='1.0'?><stream:stream xmlns='jabber:client' \
    xmlns:stream='http://etherx.jabber.org/streams' id='3EE948B0' from='example.com'>";

/// The server's configuration and the client's options, made once per process.
fn pki() -> &'static (Arc<rustls::ServerConfig>, Options) {
    static PKI: OnceLock<(Arc<rustls::ServerConfig>, Options)> = OnceLock::new();
    PKI.get_or_init(|| {
        let ca_key = rcgen::KeyPair::generate().expect("CA key");
        let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("CA");
        ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        let ca = ca_params.self_signed(&ca_key).expect("CA");
        let key = rcgen::KeyPair::generate().expect("key");
        let cert = rcgen::CertificateParams::new(vec![DOMAIN.to_string()])
            .expect("params")
            .signed_by(&key, &ca, &ca_key)
            .expect("cert");
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let server = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("versions")
            .with_no_client_auth()
            .with_single_cert(
                vec![cert.der().clone()],
                PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
            )
            .expect("server config");
        let mut tls = Tls::default().trust(ca.der().to_vec());
        tls.no_builtin_roots = true;
        (Arc::new(server), Options::tls(tls))
    })
}

struct Run {
    link: Link,
    server: rustls::ServerConnection,
    now: Instant,
    closed: bool,
    failed: bool,
}

impl Run {
    /// The client's bytes to the server (whatever the server makes of them).
    fn client_to_server(&mut self) {
        while let Some(bytes) = self.link.poll_transmit() {
            let n = bytes.len();
            let mut piece = bytes;
            // The server takes what it can; after its own error or close it takes
            // nothing more (read_tls gives 0), and the rest is dropped.
            while !piece.is_empty() {
                match self.server.read_tls(&mut piece) {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {
                        let _ = self.server.process_new_packets();
                    }
                }
            }
            self.link.advance_transmit(self.now, n);
        }
        let mut sink = [0u8; 4096];
        while matches!(self.server.reader().read(&mut sink), Ok(n) if n > 0) {}
    }

    /// What the server has sent, read by the link in pieces of `piece` bytes.
    fn server_to_client(&mut self, piece: usize) {
        let mut wire = Vec::new();
        while self.server.wants_write() {
            if self.server.write_tls(&mut wire).is_err() {
                break;
            }
        }
        for chunk in wire.chunks(piece) {
            self.read(chunk);
        }
    }

    /// Bytes read from the socket; refused at the event bound, they are offered again
    /// once the events are drained and the paused input resumed.
    fn read(&mut self, bytes: &[u8]) {
        for _ in 0..10_000 {
            if self.failed {
                return;
            }
            let promised = self.link.wants_input();
            match self.link.handle_input(self.now, bytes) {
                Err(Error::Client(client::Error::EventQueueFull)) => {
                    assert!(!promised, "refused although wants_input said yes");
                    self.events();
                    let now = self.now;
                    self.feed(|link| link.handle_timeout(now));
                }
                result => {
                    self.failed |= result.is_err();
                    self.events();
                    return;
                }
            }
        }
        panic!("input refused again and again");
    }

    fn feed(&mut self, input: impl FnOnce(&mut Link) -> Result<(), Error>) {
        if self.failed {
            return;
        }
        if input(&mut self.link).is_err() {
            self.failed = true;
        }
        self.events();
    }

    fn events(&mut self) {
        while let Some(event) = self.link.poll_event() {
            assert!(!self.closed, "an event after Closed: {event:?}");
            if matches!(event, Event::Closed(_)) {
                self.closed = true;
            }
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let (server_config, options) = pki();
    let mut config = Config::new(DOMAIN, NonZeroU64::MIN);
    config.max_events = 4;
    // A classic stream, as before the default became XMPP 1.0.
    config.version = None;
    let mut run = Run {
        link: Link::new(config, options, Instant::ZERO).expect("link"),
        server: rustls::ServerConnection::new(server_config.clone()).expect("server"),
        now: Instant::ZERO,
        closed: false,
        failed: false,
    };
    // The handshake and the server's header.
    for _ in 0..4 {
        run.client_to_server();
        run.server_to_client(4096);
    }
    run.server.writer().write_all(HEADER).expect("header");
    run.server_to_client(4096);

    let mut rest = data;
    while let Some((&b, tail)) = rest.split_first() {
        rest = tail;
        match b {
            0x00..=0x7F => {
                let n = (usize::from(b) + 1).min(rest.len());
                let _ = run.server.writer().write_all(&rest[..n]);
                rest = &rest[n..];
            }
            0x80..=0x9F => run.server_to_client(usize::from(b & 0x1F) + 1),
            0xA0..=0xAF => run.server.send_close_notify(),
            0xB0..=0xBF => {
                let n = (usize::from(b & 0x0F) + 1).min(rest.len());
                let raw = &rest[..n];
                run.read(raw);
                rest = &rest[n..];
            }
            0xC0..=0xC7 => {
                let now = run.now;
                run.feed(|link| link.handle_eof(now));
            }
            0xC8..=0xCF => {
                if !run.failed {
                    run.link.handle_reset(run.now);
                    run.events();
                    assert!(run.link.is_finished(), "a reset finishes the link");
                }
            }
            0xD0..=0xD7 => {
                if !run.failed {
                    run.link.command(run.now, |client, now| client.close(now));
                    run.events();
                }
            }
            0xD8..=0xDF => {
                run.now = run.now + Duration::from_secs(u64::from(b & 7) + 1);
                let now = run.now;
                run.feed(|link| link.handle_timeout(now));
            }
            _ => run.client_to_server(),
        }
    }
    if !run.failed && run.link.is_finished() {
        assert!(run.link.poll_transmit().is_none(), "bytes offered after the end");
    }
});
