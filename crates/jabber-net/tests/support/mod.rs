//! What the link tests share: throw-away certificates, an in-memory rustls server, and a
//! pair that moves bytes between it and a link on a virtual clock.
#![allow(dead_code)] // each test file uses its own part

use std::io::{Read, Write};
use std::num::NonZeroU64;
use std::sync::Arc;

use jabber_net::{Error, Link, Options, Tls};
use jabber_proto::client::{Config, Event};
use jabber_proto::time::Instant;
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

pub(crate) const DOMAIN: &str = "example.com";
pub(crate) const CLASSIC_HEADER: &str = "<?xml version='1.0'?><stream:stream xmlns='jabber:client' \
    xmlns:stream='http://etherx.jabber.org/streams' id='3EE948B0' from='example.com'>";

/// A CA and a server certificate for `names`, signed by it.
pub(crate) struct Pki {
    pub(crate) ca: CertificateDer<'static>,
    pub(crate) chain: Vec<CertificateDer<'static>>,
    pub(crate) key: Vec<u8>,
}

pub(crate) fn pki(names: &[&str]) -> Pki {
    pki_named("jabber-net test CA", names)
}

pub(crate) fn pki_named(ca_name: &str, names: &[&str]) -> Pki {
    let ca_key = KeyPair::generate().expect("CA key");
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
    ca_params
        .distinguished_name
        .push(DnType::CommonName, ca_name);
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = ca_params.self_signed(&ca_key).expect("CA");
    let key = KeyPair::generate().expect("server key");
    let params = CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>())
        .expect("server params");
    let cert = params.signed_by(&key, &ca, &ca_key).expect("server cert");
    Pki {
        ca: ca.der().clone(),
        chain: vec![cert.der().clone()],
        key: key.serialize_der(),
    }
}

/// [`pki`] with the CA's key (and so the server certificate's signature) of `alg`.
pub(crate) fn pki_signed_with(alg: &'static rcgen::SignatureAlgorithm, names: &[&str]) -> Pki {
    let ca_key = KeyPair::generate_for(alg).expect("CA key");
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "jabber-net test CA");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = ca_params.self_signed(&ca_key).expect("CA");
    let key = KeyPair::generate().expect("server key");
    let params = CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>())
        .expect("server params");
    let cert = params.signed_by(&key, &ca, &ca_key).expect("server cert");
    Pki {
        ca: ca.der().clone(),
        chain: vec![cert.der().clone()],
        key: key.serialize_der(),
    }
}

pub(crate) fn server(pki: &Pki) -> rustls::ServerConnection {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(pki.key.clone()));
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_no_client_auth()
        .with_single_cert(pki.chain.clone(), key)
        .expect("server config");
    rustls::ServerConnection::new(Arc::new(config)).expect("server session")
}

pub(crate) fn trusting(pki: &Pki) -> Options {
    let mut tls = Tls::default().trust(pki.ca.to_vec());
    tls.no_builtin_roots = true;
    Options::tls(tls)
}

pub(crate) fn config() -> Config {
    let mut c = Config::new(DOMAIN, NonZeroU64::MIN);
    c.seed = NonZeroU64::new(7).expect("a non-zero seed");
    // The scripts are classic (jabber:iq:auth) logins: stated, the default is XMPP 1.0.
    c.version = None;
    c.fetch_roster = false;
    c.initial_presence = false;
    c
}

/// The two sides and what crossed, on a virtual clock that stands at `now`.
pub(crate) struct Pair {
    pub(crate) link: Link,
    pub(crate) server: rustls::ServerConnection,
    /// Plaintext the server received.
    pub(crate) received: Vec<u8>,
    pub(crate) events: Vec<Event>,
    /// Bytes per piece handed to each side.
    pub(crate) chunk: usize,
    pub(crate) now: Instant,
}

impl Pair {
    pub(crate) fn new(
        config: Config,
        options: &Options,
        server: rustls::ServerConnection,
        chunk: usize,
    ) -> Pair {
        let now = Instant::ZERO;
        Pair {
            link: Link::new(config, options, now).expect("link"),
            server,
            received: Vec::new(),
            events: Vec::new(),
            chunk,
            now,
        }
    }

    /// Moves bytes both ways until nothing moves; the first error of the link.
    pub(crate) fn pump(&mut self) -> Result<(), Error> {
        loop {
            let mut moved = self.client_to_server();
            let wire = self.server_wire();
            for piece in wire.chunks(self.chunk) {
                self.link.handle_input(self.now, piece)?;
                moved = true;
            }
            self.events
                .extend(std::iter::from_fn(|| self.link.poll_event()));
            if !moved {
                return Ok(());
            }
        }
    }

    /// Writes what the link offers to the server, which reads it; whether anything moved.
    pub(crate) fn client_to_server(&mut self) -> bool {
        let mut moved = false;
        while let Some(bytes) = self.link.poll_transmit() {
            let n = bytes.len().min(self.chunk);
            let mut piece = &bytes[..n];
            while !piece.is_empty() {
                self.server.read_tls(&mut piece).expect("server read_tls");
            }
            self.link.advance_transmit(self.now, n);
            self.server
                .process_new_packets()
                .expect("server accepts the client");
            moved = true;
        }
        let mut plain = [0u8; 4096];
        loop {
            match self.server.reader().read(&mut plain) {
                Ok(0) => break,
                Ok(n) => self.received.extend_from_slice(&plain[..n]),
                Err(_) => break,
            }
        }
        moved
    }

    /// The server's TLS records so far, as they would cross the wire.
    pub(crate) fn server_wire(&mut self) -> Vec<u8> {
        let mut wire = Vec::new();
        while self.server.wants_write() {
            self.server.write_tls(&mut wire).expect("server write_tls");
        }
        wire
    }

    /// `xml` encrypted by the server, as it would cross the wire (not handed over).
    pub(crate) fn server_encrypts(&mut self, xml: &str) -> Vec<u8> {
        self.server
            .writer()
            .write_all(xml.as_bytes())
            .expect("server write");
        self.server_wire()
    }

    /// A pair after the handshake and the server's stream header.
    pub(crate) fn opened(config: Config, options: &Options, pki: &Pki) -> Pair {
        let mut pair = Pair::new(config, options, server(pki), 4096);
        pair.pump().expect("handshake");
        pair.server_says(CLASSIC_HEADER).expect("header");
        pair
    }

    pub(crate) fn server_says(&mut self, xml: &str) -> Result<(), Error> {
        self.server
            .writer()
            .write_all(xml.as_bytes())
            .expect("server write");
        self.pump()
    }

    pub(crate) fn received(&self) -> String {
        String::from_utf8_lossy(&self.received).into_owned()
    }

    /// The `id` of the last IQ the client sent.
    pub(crate) fn last_iq_id(&self) -> String {
        let text = self.received();
        let at = text.rfind("<iq").expect("an IQ");
        let id = &text[at..];
        let start = id.find("id='").or_else(|| id.find("id=\"")).expect("an id") + 4;
        let end = start + id[start..].find(['\'', '"']).expect("id end");
        id[start..end].to_string()
    }
}
