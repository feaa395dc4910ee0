//! Drives `jabber_net::Link` over direct TLS against an in-memory rustls server: after a
//! real handshake and the server's stream header, fuzzer bytes choose what the server
//! sends (XMPP bytes encrypted, its close_notify, raw bytes that are not TLS at all), how
//! the records are cut into reads, end of input and the client's close.
//!
//! Input: a sequence of steps, each a control byte and, for some, data bytes after it:
//!
//! | byte        | step                                                                 |
//! |-------------|----------------------------------------------------------------------|
//! | `00`–`7F`   | the server writes the next `b + 1` data bytes (encrypted)            |
//! | `80`–`9F`   | the link reads what the server sent, in pieces of `(b & 0x1F) + 1`    |
//! | `A0`–`AF`   | the server sends close_notify                                        |
//! | `B0`–`BF`   | the link reads the next `(b & 0x0F) + 1` data bytes raw (not TLS)    |
//! | `C0`–`CF`   | end of input                                                         |
//! | `D0`–`DF`   | the client closes the stream                                         |
//! | `E0`–`FF`   | the client's bytes are written to the server                         |
//!
//! Checked: no panic and no hang (libFuzzer's timeout: a read loop that spins is a
//! finding); after a fatal error nothing more is fed; `Closed` comes at most once and
//! nothing follows it; once the link is finished it offers no byte.
#![no_main]

use std::num::NonZeroU64;
use std::io::{Read, Write};
use std::sync::{Arc, OnceLock};

use jabber_net::{Link, Options, Tls};
use jabber_proto::client::{Config, Event};
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
    closed: bool,
    failed: bool,
}

impl Run {
    /// The client's bytes to the server (whatever the server makes of them).
    fn client_to_server(&mut self) {
        while let Some(bytes) = self.link.poll_write() {
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
            self.link.advance_write(n);
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
            self.feed(|link| link.handle_read(chunk));
        }
    }

    fn feed(&mut self, input: impl FnOnce(&mut Link) -> Result<(), jabber_net::Error>) {
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
    let mut run = Run {
        link: Link::new(config, options).expect("link"),
        server: rustls::ServerConnection::new(server_config.clone()).expect("server"),
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
                run.feed(|link| link.handle_read(raw));
                rest = &rest[n..];
            }
            0xC0..=0xCF => run.feed(|link| link.handle_eof()),
            0xD0..=0xDF => {
                if !run.failed {
                    run.link.command(|client, now| client.close(now));
                    run.events();
                }
            }
            _ => run.client_to_server(),
        }
    }
    if !run.failed && run.link.is_finished() {
        assert!(run.link.poll_write().is_none(), "bytes offered after the end");
    }
});
