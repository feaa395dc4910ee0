//! The link against an in-memory rustls server: the handshake, the certificate checks,
//! the core told that the transport is encrypted, chunking, and the TLS close — all
//! without sockets, by moving bytes between the two sides by hand.

mod support;

use std::io::{Read, Write};
use std::sync::Arc;

use jabber_net::{Error, LINGER, Link, Options, Tls};
use jabber_proto::client::{
    CloseReason, Event, SessionEvent, SessionState, StanzaEvent, StreamEvent,
};
use jabber_proto::negotiation::auth::Credentials;
use jabber_proto::time::Instant;

use support::{CLASSIC_HEADER, DOMAIN, Pair, Pki, config, pki, pki_named, server, trusting};

/// A full plaintext login over TLS, with every piece `chunk` bytes long; returns what
/// the server received and the events.
fn plaintext_login(chunk: usize) -> (String, Vec<Event>) {
    let pki = pki(&[DOMAIN]);
    let mut pair = Pair::new(config(), &trusting(&pki), server(&pki), chunk);
    assert!(pair.link.is_tls());
    // The core is told the transport is encrypted, so a plaintext password is allowed
    // without Config::allow_plaintext.
    assert!(pair.link.client().config().transport_encrypted);
    assert!(!pair.link.client().config().allow_plaintext);
    pair.pump().expect("handshake");
    assert!(pair.received().starts_with("<?xml"), "{}", pair.received());
    pair.server_says(CLASSIC_HEADER).expect("header");
    pair.link
        .command(pair.now, |c, now| {
            c.login(now, Credentials::new("alice", "s3cret", "tls"))
        })
        .expect("login");
    pair.pump().expect("auth get");
    let id = pair.last_iq_id();
    pair.server_says(&format!(
        "<iq type='result' id='{id}'><query xmlns='jabber:iq:auth'>\
         <username/><password/><resource/></query></iq>"
    ))
    .expect("fields");
    assert!(
        pair.received().contains("<password>s3cret</password>"),
        "{}",
        pair.received()
    );
    let id = pair.last_iq_id();
    pair.server_says(&format!("<iq type='result' id='{id}'/>"))
        .expect("success");
    assert_eq!(pair.link.client().session_state(), SessionState::Ready);
    (pair.received(), pair.events)
}

#[test]
fn plaintext_password_is_sent_only_inside_tls() {
    let (received, events) = plaintext_login(16 * 1024);
    assert!(received.contains("<username>alice</username>"));
    assert!(
        events
            .iter()
            .any(|e| matches!(e, Event::Session(SessionEvent::Ready { .. }))),
        "{events:?}"
    );
}

#[test]
fn chunking_changes_nothing() {
    let (whole, whole_events) = plaintext_login(16 * 1024);
    for chunk in [1, 2, 5, 64, 1000] {
        let (received, events) = plaintext_login(chunk);
        assert_eq!(received, whole, "chunk {chunk}");
        assert_eq!(events, whole_events, "chunk {chunk}");
    }
}

#[test]
fn an_unknown_issuer_is_refused() {
    let pki = pki(&[DOMAIN]);
    let other = pki_other();
    let mut pair = Pair::new(config(), &trusting(&other), server(&pki), 4096);
    match pair.pump() {
        Err(Error::Tls(rustls::Error::InvalidCertificate(e))) => {
            assert_eq!(e, rustls::CertificateError::UnknownIssuer)
        }
        other => panic!("expected an unknown issuer, got {other:?}"),
    }
    assert!(pair.received.is_empty(), "no XMPP byte reached the server");
}

/// Another CA, with another name, that signed a certificate for the same domain.
fn pki_other() -> Pki {
    pki_named("someone else's CA", &[DOMAIN])
}

#[test]
fn a_certificate_for_another_name_is_refused() {
    let pki = pki(&["other.example"]);
    let mut pair = Pair::new(config(), &trusting(&pki), server(&pki), 4096);
    match pair.pump() {
        Err(Error::Tls(rustls::Error::InvalidCertificate(e))) => assert!(
            matches!(
                e,
                rustls::CertificateError::NotValidForName
                    | rustls::CertificateError::NotValidForNameContext { .. }
            ),
            "{e:?}"
        ),
        other => panic!("expected a name mismatch, got {other:?}"),
    }
}

#[test]
fn the_built_in_roots_do_not_know_a_private_ca() {
    let pki = pki(&[DOMAIN]);
    let mut pair = Pair::new(config(), &Options::default(), server(&pki), 4096);
    assert!(matches!(
        pair.pump(),
        Err(Error::Tls(rustls::Error::InvalidCertificate(_)))
    ));
}

#[test]
fn close_sends_the_stream_end_then_close_notify() {
    let pki = pki(&[DOMAIN]);
    let mut pair = Pair::opened(config(), &trusting(&pki), &pki);
    pair.link.command(pair.now, |c, now| c.close(now));
    pair.pump().expect("close");
    assert!(
        pair.received().ends_with("</stream:stream>"),
        "{}",
        pair.received()
    );
    // The core waits for the server's side of the stream: TLS stays open meanwhile.
    let mut buf = [0u8; 16];
    assert!(
        pair.server.reader().read(&mut buf).is_err(),
        "no close_notify yet"
    );
    assert!(!pair.link.is_finished());
    // The server closes its side: the core is closed, close_notify follows, and the
    // link is finished once nothing is left to write.
    pair.server_says("</stream:stream>").expect("server end");
    assert!(pair.link.client().is_closed());
    assert_eq!(pair.server.reader().read(&mut buf).expect("clean end"), 0);
    assert!(pair.link.is_finished());
}

#[test]
fn without_tls_the_bytes_are_the_cores() {
    let now = Instant::ZERO;
    let mut link = Link::new(config(), &Options::plain(), now).expect("link");
    assert!(!link.is_tls());
    assert!(!link.client().config().transport_encrypted);
    let header = link.poll_transmit().expect("the stream header").to_vec();
    assert!(header.starts_with(b"<?xml"));
    link.advance_transmit(now, header.len());
    assert!(link.poll_transmit().is_none());
    link.handle_input(now, CLASSIC_HEADER.as_bytes())
        .expect("input");
    assert!(matches!(
        link.poll_event(),
        Some(Event::Stream(StreamEvent::Opened(_)))
    ));
}

#[test]
fn fresh_seeds_never_repeat() {
    // A seed of zero is impossible by the type; what remains is that two connections of
    // one process never share one.
    let seeds: std::collections::HashSet<_> =
        (0..10_000).map(|_| jabber_net::fresh_seed()).collect();
    assert_eq!(seeds.len(), 10_000);
}

#[test]
fn a_repeated_error_keeps_its_kind_and_says_earlier_once() {
    let first = Error::Io(std::io::Error::new(
        std::io::ErrorKind::ConnectionReset,
        "reset",
    ));
    let again = first.repeat().repeat();
    let Error::Io(e) = &again else {
        panic!("{again:?}")
    };
    assert_eq!(e.kind(), std::io::ErrorKind::ConnectionReset);
    assert_eq!(e.to_string(), "the connection failed earlier: reset");
}

#[test]
fn close_notify_ends_the_input_and_later_bytes_are_dropped() {
    let pki = pki(&[DOMAIN]);
    let mut pair = Pair::opened(config(), &trusting(&pki), &pki);
    // close_notify without the stream's end: the core hears of the end at once (a server
    // may wait for our close_notify before it closes TCP).
    pair.server.send_close_notify();
    let wire = pair.server_wire();
    pair.link
        .handle_input(pair.now, &wire)
        .expect("close_notify");
    let events: Vec<Event> = std::iter::from_fn(|| pair.link.poll_event()).collect();
    assert!(
        matches!(
            events.as_slice(),
            [Event::Closed(CloseReason::EndOfInput { .. })]
        ),
        "{events:?}"
    );
    // Bytes after close_notify are not TLS: dropped, and the call returns.
    pair.link
        .handle_input(pair.now, b"garbage after the end")
        .expect("dropped");
    pair.link.handle_eof(pair.now).expect("TCP end");
    assert!(pair.link.poll_event().is_none(), "one Closed only");
}

#[test]
fn data_before_a_corrupt_record_reaches_the_core() {
    let pki = pki(&[DOMAIN]);
    let mut pair = Pair::opened(config(), &trusting(&pki), &pki);
    pair.events.clear();
    pair.server
        .writer()
        .write_all(b"<message from='bob@example.com/x'><body>hi</body></message>")
        .expect("server write");
    let mut wire = pair.server_wire();
    // An application-data record that does not decrypt.
    wire.extend_from_slice(b"\x17\x03\x03\x00\x20");
    wire.extend_from_slice(&[0u8; 32]);
    match pair.link.handle_input(pair.now, &wire) {
        Err(Error::Tls(_)) => {}
        other => panic!("expected a TLS error, got {other:?}"),
    }
    let events: Vec<Event> = std::iter::from_fn(|| pair.link.poll_event()).collect();
    assert!(
        matches!(events.as_slice(), [Event::Stanza(StanzaEvent::Message(m))] if m.body().as_deref() == Some("hi")),
        "{events:?}"
    );
}

#[test]
fn changed_tls_fields_rebuild_the_configuration() {
    let mut tls = Tls::default();
    let first = tls.clone().client_config().expect("config");
    let private = pki(&[DOMAIN]);
    tls.no_builtin_roots = true;
    tls.extra_roots.push(private.ca.clone());
    let second = tls.client_config().expect("config");
    assert!(!Arc::ptr_eq(&first, &second), "the changed fields count");
    // And the new trust is the one used.
    let mut pair = Pair::new(config(), &Options::tls(tls.clone()), server(&private), 4096);
    pair.pump().expect("the private CA is trusted now");
    // Unchanged fields reuse the configuration.
    assert!(Arc::ptr_eq(&second, &tls.client_config().expect("config")));
}

#[test]
fn an_unreading_peer_gets_no_more_bytes() {
    let pki = pki(&[DOMAIN]);
    let mut c = config();
    c.max_unsent_bytes = 300;
    let mut pair = Pair::opened(c, &trusting(&pki), &pki);
    // The server pings and never reads the answers (nothing is written here).
    for i in 0..20 {
        let ping = format!("<iq type='get' id='p{i}'><ping xmlns='urn:xmpp:ping'/></iq>");
        pair.server
            .writer()
            .write_all(ping.as_bytes())
            .expect("server write");
        let wire = pair.server_wire();
        pair.link.handle_input(pair.now, &wire).expect("input");
        if pair.link.client().is_closed() {
            break;
        }
    }
    assert_eq!(
        pair.link.client().close_reason(),
        Some(&CloseReason::SendBufferFull)
    );
    // The core's contract: drop the transport without waiting for the unread bytes.
    assert!(pair.link.poll_transmit().is_none());
    assert!(pair.link.is_finished());
}

#[test]
fn the_last_bytes_after_the_core_closed_have_the_linger_time() {
    let pki = pki(&[DOMAIN]);
    let mut c = config();
    c.keepalive_interval = None;
    c.dead_peer_timeout = None;
    let mut options = trusting(&pki);
    options.write_timeout = None;
    let mut pair = Pair::opened(c, &options, &pki);
    // A stream error closes the core at once; its own stream end waits to be written.
    pair.server
        .writer()
        .write_all(
            b"<stream:error><conflict xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error>",
        )
        .expect("server write");
    let wire = pair.server_wire();
    pair.now = Instant::from_millis(1_234);
    pair.link.handle_input(pair.now, &wire).expect("input");
    assert!(pair.link.client().is_closed());
    // Nothing written yet: the link is not finished, and it wants to be woken exactly
    // at the end of the linger time, to give up then.
    assert!(!pair.link.is_finished());
    let deadline = pair.link.poll_timeout().expect("the linger deadline");
    assert_eq!(deadline, pair.now + LINGER);
    // Written in time, the stream end and close_notify go out and the link is finished.
    pair.pump().expect("the last bytes");
    assert!(
        pair.received().ends_with("</stream:stream>"),
        "{}",
        pair.received()
    );
    assert!(pair.link.is_finished());
}

#[test]
fn nothing_is_read_after_the_end_of_input() {
    let pki = pki(&[DOMAIN]);
    let mut pair = Pair::opened(config(), &trusting(&pki), &pki);
    pair.link.handle_eof(pair.now).expect("end of input");
    let events: Vec<Event> = std::iter::from_fn(|| pair.link.poll_event()).collect();
    assert!(
        matches!(
            events.as_slice(),
            [Event::Closed(CloseReason::EndOfInput { .. })]
        ),
        "{events:?}"
    );
    // A socket yields nothing after its end; bytes handed in anyway (found by fuzzing:
    // rustls asserted on them in debug builds) are ignored, as is a second end.
    pair.link
        .handle_input(pair.now, b"\xb1\x38<iq/>")
        .expect("ignored");
    pair.link.handle_eof(pair.now).expect("ignored");
    assert!(pair.link.poll_event().is_none());
}

/// The channel-binding types and sizes the link gave the core after the handshake with
/// a server whose certificate is signed with `alg`, as the capture records them.
fn bindings_for(alg: &'static rcgen::SignatureAlgorithm) -> String {
    let pki = support::pki_signed_with(alg, &[DOMAIN]);
    let mut c = config();
    c.capture = true;
    let mut pair = Pair::new(c, &trusting(&pki), server(&pki), 16 * 1024);
    pair.pump().expect("handshake");
    pair.server_says(CLASSIC_HEADER).expect("header");
    let records: Vec<String> = std::iter::from_fn(|| pair.link.poll_capture())
        .map(|r| String::from_utf8_lossy(&r.data).into_owned())
        .collect();
    records
        .into_iter()
        .find(|r| r.starts_with("<channel-binding"))
        .unwrap_or_else(|| panic!("no channel-binding record"))
}

#[test]
fn tls_server_end_point_uses_the_certificates_signature_hash() {
    // TLS 1.3 with the in-memory server: tls-exporter (32 bytes) first, then the
    // certificate's hash with its signature's hash (RFC 5929 §4.1).
    let p256 = bindings_for(&rcgen::PKCS_ECDSA_P256_SHA256);
    assert!(p256.contains("kind='tls-exporter' bytes='32'"), "{p256}");
    assert!(
        p256.contains("kind='tls-server-end-point' bytes='32'"),
        "{p256}"
    );
    let p384 = bindings_for(&rcgen::PKCS_ECDSA_P384_SHA384);
    assert!(
        p384.contains("kind='tls-server-end-point' bytes='48'"),
        "{p384}"
    );
    // Ed25519 has no single hash: the type is undefined, not offered.
    let ed25519 = bindings_for(&rcgen::PKCS_ED25519);
    assert!(ed25519.contains("kind='tls-exporter'"), "{ed25519}");
    assert!(!ed25519.contains("tls-server-end-point"), "{ed25519}");
}
