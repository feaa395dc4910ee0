//! The server harness itself: each server starts, takes an account out of
//! band, lets it log in with plaintext `jabber:iq:auth` over a version-less
//! stream, refuses a wrong password, and is gone after drop; its direct-TLS
//! listener does the same inside a verified TLS session; bulk accounts work.
//!
//! Raw sockets (and rustls for TLS) only: these tests must not depend on the
//! code under test.

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use jabber_tests::{Server, ServerKind, TestCa};
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{ClientConfig, ClientConnection, RootCertStore, StreamOwned};

/// A direct-TLS client stream over TCP.
type Tls = StreamOwned<ClientConnection, TcpStream>;

/// One client connection (plaintext or TLS) that reads until an expected
/// text.
struct Raw<S = TcpStream> {
    stream: S,
    received: String,
}

impl Raw {
    fn open(server: &Server) -> Raw {
        let stream = TcpStream::connect(server.addr()).expect("connect to the server");
        stream
            .set_read_timeout(Some(Duration::from_millis(200)))
            .expect("set a read timeout");
        Raw::start(stream, server.domain())
    }
}

impl Raw<Tls> {
    /// Connects to the direct-TLS port, completes a handshake that verifies
    /// the server against `roots` for `name`, and opens a stream.
    fn open_tls(server: &Server, roots: &[&[u8]], name: &str) -> Result<Raw<Tls>, rustls::Error> {
        let tls = handshake(server, roots, name)?;
        Ok(Raw::start(tls, server.domain()))
    }
}

impl<S: Read + Write> Raw<S> {
    /// Sends a version-less stream header and waits for the server's.
    fn start(stream: S, domain: &str) -> Raw<S> {
        let mut raw = Raw {
            stream,
            received: String::new(),
        };
        raw.send(&stream_header(domain));
        raw.until("stream header", |text| {
            text.contains("<stream:stream").then_some(())
        });
        raw
    }

    fn send(&mut self, text: &str) {
        self.stream.write_all(text.as_bytes()).expect("send");
        self.stream.flush().expect("flush");
    }

    /// Reads until `done` finds what it wants in everything received so far;
    /// returns what it found and forgets what was received.
    fn until<T>(&mut self, what: &str, done: impl Fn(&str) -> Option<T>) -> T {
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut buf = [0u8; 4096];
        loop {
            if let Some(found) = done(&self.received) {
                self.received.clear();
                return found;
            }
            assert!(
                Instant::now() < deadline,
                "no {what} from the server; got {:?}",
                self.received
            );
            match self.stream.read(&mut buf) {
                Ok(0) => panic!("server closed; got {:?}", self.received),
                Ok(n) => self.received.push_str(&String::from_utf8_lossy(&buf[..n])),
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
                Err(e) => panic!("read: {e}"),
            }
        }
    }

    /// Sends a plaintext iq:auth set and returns the whole reply.
    fn auth(&mut self, id: &str, user: &str, password: &str) -> String {
        self.send(&format!(
            "<iq type='set' id='{id}'><query xmlns='jabber:iq:auth'><username>{user}</username>\
             <password>{password}</password><resource>r</resource></query></iq>"
        ));
        self.until(&format!("reply to {id}"), |text| complete_iq(text, id))
    }
}

fn stream_header(domain: &str) -> String {
    format!(
        "<?xml version='1.0'?><stream:stream to='{domain}' xmlns='jabber:client' \
         xmlns:stream='http://etherx.jabber.org/streams'>"
    )
}

/// Whether an iq reply has `attr` = `value`, in single or double quotes.
fn has(reply: &str, attr: &str, value: &str) -> bool {
    reply.contains(&format!("{attr}='{value}'")) || reply.contains(&format!("{attr}=\"{value}\""))
}

/// A TLS client handshake with the server's direct-TLS port, trusting only
/// `roots` (DER) and checking the certificate against `name`.
fn handshake(server: &Server, roots: &[&[u8]], name: &str) -> Result<Tls, rustls::Error> {
    let mut store = RootCertStore::empty();
    for root in roots {
        store
            .add(CertificateDer::from(root.to_vec()))
            .expect("a usable root certificate");
    }
    let config =
        ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .expect("ring's protocol versions")
            .with_root_certificates(store)
            .with_no_client_auth();
    let name = ServerName::try_from(name.to_owned()).expect("a server name");
    let mut conn = ClientConnection::new(Arc::new(config), name)?;
    let mut tcp = TcpStream::connect(server.tls_addr()).expect("connect to the TLS port");
    tcp.set_read_timeout(Some(Duration::from_secs(10)))
        .expect("set a read timeout");
    while conn.is_handshaking() {
        conn.complete_io(&mut tcp).map_err(|e| {
            // rustls reports its own failures as InvalidData wrapping its error.
            match e
                .into_inner()
                .map(|inner| inner.downcast::<rustls::Error>())
            {
                Some(Ok(tls)) => *tls,
                Some(Err(other)) => rustls::Error::General(other.to_string()),
                None => rustls::Error::General("handshake I/O failed".to_owned()),
            }
        })?;
    }
    tcp.set_read_timeout(Some(Duration::from_millis(200)))
        .expect("set a read timeout");
    Ok(StreamOwned::new(conn, tcp))
}

/// The `<iq>` element with this `id` in `text`, once it is complete.
fn complete_iq(text: &str, id: &str) -> Option<String> {
    let at = text
        .find(&format!("id='{id}'"))
        .or_else(|| text.find(&format!("id=\"{id}\"")))?;
    let start = text[..at].rfind("<iq")?;
    let open_end = at + text[at..].find('>')?;
    let end = if text[..open_end].ends_with('/') {
        open_end + 1
    } else {
        open_end + text[open_end..].find("</iq>")? + "</iq>".len()
    };
    Some(text[start..end].to_owned())
}

fn login_and_cleanup(kind: ServerKind) {
    let started = Instant::now();
    let server = Server::start(kind).unwrap_or_else(|e| panic!("start {kind}: {e}"));
    let start_time = started.elapsed();
    assert_eq!(server.kind(), kind);
    assert!(server.addr().ip().is_loopback());
    assert_eq!(server.domain(), "localhost");

    let registered = Instant::now();
    server
        .register("alice", "secret")
        .unwrap_or_else(|e| panic!("register on {kind}: {e}"));
    let register_time = registered.elapsed();
    let again = server
        .register("alice", "other")
        .expect_err("a second account of the same name");
    assert_eq!(again.kind(), std::io::ErrorKind::AlreadyExists, "{again}");
    eprintln!("{kind}: started in {start_time:?}, one account in {register_time:?}");

    let mut bad = Raw::open(&server);
    let reply = bad.auth("a0", "alice", "wrong");
    assert!(
        has(&reply, "type", "error"),
        "{kind} wrong password: {reply}"
    );
    assert!(reply.contains("not-authorized"), "{kind}: {reply}");
    // prosody with internal_plain storage would never answer this one.
    let reply = bad.auth("a00", "nobody", "secret");
    assert!(has(&reply, "type", "error"), "{kind} unknown user: {reply}");

    let mut good = Raw::open(&server);
    let reply = good.auth("a1", "alice", "secret");
    assert!(
        has(&reply, "type", "result") && has(&reply, "id", "a1"),
        "{kind} login: {reply}"
    );

    let pid = server.pid();
    let dir = server.dir().to_path_buf();
    assert!(Path::new(&format!("/proc/{pid}")).exists());
    drop(server);
    assert!(
        !Path::new(&format!("/proc/{pid}")).exists(),
        "{kind} process {pid} survived drop"
    );
    assert!(
        !dir.exists(),
        "{kind} directory {} survived drop",
        dir.display()
    );
}

#[test]
fn ejabberd_login_and_cleanup() {
    login_and_cleanup(ServerKind::Ejabberd);
}

#[test]
fn prosody_login_and_cleanup() {
    login_and_cleanup(ServerKind::Prosody);
}

/// `kill` takes the server down at once: an open session sees end of file.
#[test]
fn kill_closes_sessions() {
    for kind in ServerKind::ALL {
        let mut server = Server::start(kind).unwrap_or_else(|e| panic!("start {kind}: {e}"));
        let mut raw = Raw::open(&server);
        let pid = server.pid();
        server.kill();
        assert!(!Path::new(&format!("/proc/{pid}")).exists(), "{kind} alive");
        let mut buf = [0u8; 64];
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            match raw.stream.read(&mut buf) {
                Ok(0) => break,
                Ok(_) => {}
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                    assert!(Instant::now() < deadline, "{kind}: no EOF after kill");
                }
                // A reset is as good as a FIN here.
                Err(_) => break,
            }
        }
    }
}

/// A paused server accepts no stream until resumed.
#[test]
fn pause_and_resume() {
    let server = Server::start(ServerKind::Prosody).expect("start prosody");
    server.pause();
    let mut stream = TcpStream::connect(server.addr()).expect("the kernel still accepts");
    stream
        .set_read_timeout(Some(Duration::from_millis(500)))
        .expect("timeout");
    stream
        .write_all(
            b"<?xml version='1.0'?><stream:stream to='localhost' xmlns='jabber:client' \
              xmlns:stream='http://etherx.jabber.org/streams'>",
        )
        .expect("send");
    let mut buf = [0u8; 256];
    assert!(stream.read(&mut buf).is_err(), "a paused server answered");
    server.resume();
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    let n = stream.read(&mut buf).expect("answer after resume");
    assert!(String::from_utf8_lossy(&buf[..n]).contains("<stream:stream"));

    // Dropping a paused server still stops it.
    server.pause();
    let pid = server.pid();
    drop(server);
    assert!(
        !Path::new(&format!("/proc/{pid}")).exists(),
        "paused server survived drop"
    );
}

/// The direct-TLS port: a handshake that verifies the certificate against the
/// test CA for the domain, then a version-less stream and a plaintext iq:auth
/// login inside it. A client that does not trust the CA, or asks for another
/// name, fails the handshake; a plaintext stream header gets no stream back.
fn direct_tls(kind: ServerKind) {
    let server = Server::start(kind).unwrap_or_else(|e| panic!("start {kind}: {e}"));
    assert!(server.tls_addr().ip().is_loopback());
    assert_ne!(server.tls_addr(), server.addr());
    server
        .register("carol", "s3cret")
        .unwrap_or_else(|e| panic!("register on {kind}: {e}"));
    let ca = TestCa::get();
    assert!(ca.server_names().iter().any(|n| n == server.domain()));
    assert!(ca.ca_pem().starts_with("-----BEGIN CERTIFICATE-----"));

    let mut tls = Raw::open_tls(&server, &[ca.ca_der()], server.domain())
        .unwrap_or_else(|e| panic!("{kind}: TLS handshake: {e}"));
    assert!(
        tls.stream.conn.protocol_version().is_some(),
        "{kind}: no TLS version"
    );
    let reply = tls.auth("t1", "carol", "s3cret");
    assert!(
        has(&reply, "type", "result") && has(&reply, "id", "t1"),
        "{kind} login over TLS: {reply}"
    );
    let mut bad = Raw::open_tls(&server, &[ca.ca_der()], "localhost")
        .unwrap_or_else(|e| panic!("{kind}: TLS handshake for localhost: {e}"));
    let reply = bad.auth("t2", "carol", "wrong");
    assert!(
        has(&reply, "type", "error"),
        "{kind} wrong password: {reply}"
    );

    // Verification is real: no trusted root, or the wrong name, fails.
    match handshake(&server, &[], server.domain()) {
        Err(rustls::Error::InvalidCertificate(_)) => {}
        Err(e) => panic!("{kind}: untrusted CA: unexpected error {e}"),
        Ok(_) => panic!("{kind}: a client without the test CA verified the server"),
    }
    match handshake(&server, &[ca.ca_der()], "example.org") {
        // prosody already refuses the unknown name (SNI) with an alert.
        Err(rustls::Error::InvalidCertificate(_) | rustls::Error::AlertReceived(_)) => {}
        Err(e) => panic!("{kind}: wrong name: unexpected error {e}"),
        Ok(_) => panic!("{kind}: the certificate passed for example.org"),
    }

    // And it is TLS from the first byte: plaintext XML gets no stream header.
    let mut plain = TcpStream::connect(server.tls_addr()).expect("connect to the TLS port");
    plain
        .set_read_timeout(Some(Duration::from_secs(3)))
        .expect("set a read timeout");
    plain
        .write_all(stream_header(server.domain()).as_bytes())
        .expect("send");
    let mut got = Vec::new();
    let mut buf = [0u8; 1024];
    while let Ok(n @ 1..) = plain.read(&mut buf) {
        got.extend_from_slice(&buf[..n]);
    }
    assert!(
        !String::from_utf8_lossy(&got).contains("<stream:stream"),
        "{kind}: the TLS port answered plaintext: {:?}",
        String::from_utf8_lossy(&got)
    );
}

#[test]
fn ejabberd_direct_tls() {
    direct_tls(ServerKind::Ejabberd);
}

#[test]
fn prosody_direct_tls() {
    direct_tls(ServerKind::Prosody);
}

/// A thousand accounts in one call, quickly; the first and the last log in,
/// the one past the end does not exist; a second batch over the same names
/// stops at the first, and a name the servers would change is refused.
fn register_many(kind: ServerKind) {
    const COUNT: usize = 1000;
    let server = Server::start(kind).unwrap_or_else(|e| panic!("start {kind}: {e}"));
    let started = Instant::now();
    server
        .register_many("bulk", COUNT, "pass word")
        .unwrap_or_else(|e| panic!("register_many on {kind}: {e}"));
    let took = started.elapsed();
    eprintln!("{kind}: {COUNT} accounts in {took:?}");
    assert!(
        took < Duration::from_secs(30),
        "{kind}: {COUNT} accounts took {took:?}"
    );

    for (id, user) in [("b0", "bulk0"), ("b1", "bulk999")] {
        let mut raw = Raw::open(&server);
        let reply = raw.auth(id, user, "pass word");
        assert!(
            has(&reply, "type", "result") && has(&reply, "id", id),
            "{kind} login as {user}: {reply}"
        );
    }
    let mut raw = Raw::open(&server);
    let reply = raw.auth("b2", "bulk500", "other");
    assert!(
        has(&reply, "type", "error"),
        "{kind} wrong password: {reply}"
    );
    let mut raw = Raw::open(&server);
    let reply = raw.auth("b3", "bulk1000", "pass word");
    assert!(has(&reply, "type", "error"), "{kind} one too many: {reply}");

    let again = server
        .register_many("bulk", 2, "x")
        .expect_err("existing accounts");
    assert_eq!(again.kind(), ErrorKind::AlreadyExists, "{kind}: {again}");
    let again = server
        .register("bulk7", "x")
        .expect_err("an account of the batch");
    assert_eq!(again.kind(), ErrorKind::AlreadyExists, "{kind}: {again}");
    let bad = server
        .register_many("Upper", 1, "x")
        .expect_err("an upper-case prefix");
    assert_eq!(bad.kind(), ErrorKind::InvalidInput, "{kind}: {bad}");
    server
        .register_many("none", 0, "x")
        .unwrap_or_else(|e| panic!("{kind}: an empty batch: {e}"));
}

#[test]
fn ejabberd_register_many() {
    register_many(ServerKind::Ejabberd);
}

#[test]
fn prosody_register_many() {
    register_many(ServerKind::Prosody);
}

/// The servers run with the open-files limit raised (to 65536, or the hard
/// limit if lower) for a thousand sessions and more.
///
/// The check runs in a copy of this test binary started with a soft limit of
/// 256, so that the raise shows even where the test's own soft limit is
/// already at the hard one.
#[test]
fn open_files_limit_is_raised() {
    const INNER: &str = "JABBER_TESTS_INNER_NOFILE_CHECK";
    if std::env::var_os(INNER).is_none() {
        let exe = std::env::current_exe().expect("this test binary");
        let output = std::process::Command::new("sh")
            .args([
                "-c",
                "ulimit -S -n 256 && exec \"$0\" --exact open_files_limit_is_raised \
                 --nocapture --test-threads 1",
            ])
            .arg(exe)
            .env(INNER, "1")
            .output()
            .expect("run this test binary again");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(output.status.success(), "inner run failed:\n{text}");
        assert!(text.contains("1 passed"), "inner run ran nothing:\n{text}");
        return;
    }
    let limits = |pid: &str| -> (u64, u64) {
        let text = std::fs::read_to_string(format!("/proc/{pid}/limits")).expect("limits");
        let line = text
            .lines()
            .find(|l| l.starts_with("Max open files"))
            .expect("an open-files line");
        let numbers: Vec<u64> = line
            .split_whitespace()
            .filter_map(|w| w.parse().ok().or((w == "unlimited").then_some(u64::MAX)))
            .collect();
        (numbers[0], numbers[1])
    };
    assert_eq!(limits("self").0, 256, "the inner run's own soft limit");
    for kind in ServerKind::ALL {
        let server = Server::start(kind).unwrap_or_else(|e| panic!("start {kind}: {e}"));
        let (soft, hard) = limits(&server.pid().to_string());
        assert_eq!(soft, hard.min(65536), "{kind}: soft {soft}, hard {hard}");
        eprintln!("{kind}: open files {soft} (hard {hard})");
    }
}

/// `start_for_scale`: an ejabberd without its own pings, overload killer and info log,
/// with caches for every account, that takes bulk accounts and logins like the other.
#[test]
fn ejabberd_for_scale() {
    let server = Server::start_for_scale(ServerKind::Ejabberd).expect("start ejabberd for scale");
    let config = std::fs::read_to_string(server.dir().join("ejabberd.yml")).expect("its config");
    for line in [
        "send_pings: false",
        "oom_killer: false",
        "cache_size: 100000",
        "loglevel: warning",
    ] {
        assert!(config.contains(line), "no {line:?} in:\n{config}");
    }
    for line in ["send_pings: true", "timeout_action: kill", "loglevel: info"] {
        assert!(!config.contains(line), "{line:?} in:\n{config}");
    }
    server
        .register_many("scale", 3, "pw")
        .expect("register_many");
    let mut raw = Raw::open(&server);
    let reply = raw.auth("s2", "scale2", "pw");
    assert!(
        has(&reply, "type", "result") && has(&reply, "id", "s2"),
        "login: {reply}"
    );
}
