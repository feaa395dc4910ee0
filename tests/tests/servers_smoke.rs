//! The server harness itself: each server starts, takes an account out of
//! band, lets it log in with plaintext `jabber:iq:auth` over a version-less
//! stream, refuses a wrong password, and is gone after drop.
//!
//! Raw sockets only: these tests must not depend on the code under test.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::time::{Duration, Instant};

use jabber_tests::{Server, ServerKind};

/// One plaintext client connection that reads until an expected text.
struct Raw {
    stream: TcpStream,
    received: String,
}

impl Raw {
    fn open(server: &Server) -> Raw {
        let stream = TcpStream::connect(server.addr()).expect("connect to the server");
        stream
            .set_read_timeout(Some(Duration::from_millis(200)))
            .expect("set a read timeout");
        let mut raw = Raw {
            stream,
            received: String::new(),
        };
        raw.send(&format!(
            "<?xml version='1.0'?><stream:stream to='{}' xmlns='jabber:client' \
             xmlns:stream='http://etherx.jabber.org/streams'>",
            server.domain()
        ));
        raw.until("stream header", |text| {
            text.contains("<stream:stream").then_some(())
        });
        raw
    }

    fn send(&mut self, text: &str) {
        self.stream.write_all(text.as_bytes()).expect("send");
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
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) => {}
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

    // With the id in single or double quotes, whatever the server prefers.
    let has = |reply: &str, attr: &str, value: &str| {
        reply.contains(&format!("{attr}='{value}'"))
            || reply.contains(&format!("{attr}=\"{value}\""))
    };

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
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) =>
                {
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
