//! The trivial server (`FileServer`) at the socket: a wrong path or a `HEAD` does not end
//! the transfer, a complete `GET` does (and closes the socket), `stop` ends an idle one,
//! and a download cut short is not counted as complete. Plain loopback HTTP, no XMPP.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::time::Duration;

use jabber_std::FileServer;
use jabber_std::files::{ServeOutcome, TransferError};

fn file(len: usize) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("jabber-std-fs-{}", jabber_std::fresh_seed()));
    std::fs::create_dir_all(&dir).expect("folder");
    let path = dir.join("payload.bin");
    std::fs::write(
        &path,
        (0..len).map(|i| (i % 251) as u8).collect::<Vec<u8>>(),
    )
    .expect("file");
    path
}

/// One request, the whole answer.
fn request(addr: SocketAddr, head: &str) -> Vec<u8> {
    let mut s = TcpStream::connect(addr).expect("connects");
    s.set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    s.write_all(head.as_bytes()).expect("written");
    let mut out = Vec::new();
    s.read_to_end(&mut out).expect("read");
    out
}

fn path_of(url: &str) -> &str {
    let rest = url.strip_prefix("http://").expect("http");
    &rest[rest.find('/').expect("a path")..]
}

fn listening(addr: SocketAddr) -> bool {
    TcpStream::connect_timeout(&addr, Duration::from_millis(500)).is_ok()
}

#[test]
fn only_a_complete_get_of_the_file_ends_the_transfer() {
    let path = file(300_000);
    let server = FileServer::start("127.0.0.1:0", &path).expect("serving");
    let addr = server.local_addr();
    let p = path_of(server.url()).to_string();
    assert!(p.ends_with("/payload.bin"), "{p}");

    let wrong = request(addr, "GET /payload.bin HTTP/1.1\r\nHost: x\r\n\r\n");
    assert!(
        wrong.starts_with(b"HTTP/1.1 404 "),
        "{}",
        String::from_utf8_lossy(&wrong)
    );
    let head = request(addr, &format!("HEAD {p} HTTP/1.1\r\nHost: x\r\n\r\n"));
    assert!(head.starts_with(b"HTTP/1.1 200 OK\r\n"));
    assert!(String::from_utf8_lossy(&head).contains("Content-Length: 300000\r\n"));
    assert!(head.ends_with(b"\r\n\r\n"), "no body for HEAD");
    let put = request(addr, &format!("PUT {p} HTTP/1.1\r\n\r\n"));
    assert!(put.starts_with(b"HTTP/1.1 405 "));
    assert!(!server.is_finished(), "still serving");

    let got = request(addr, &format!("GET {p} HTTP/1.1\r\nHost: x\r\n\r\n"));
    let body_at = got
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a head")
        + 4;
    assert_eq!(
        &got[body_at..],
        std::fs::read(&path).expect("file").as_slice()
    );
    assert_eq!(server.stop(), ServeOutcome::Completed { bytes: 300_000 });
    assert!(!listening(addr));
    let _ = std::fs::remove_dir_all(path.parent().expect("folder"));
}

#[test]
fn a_cut_download_is_not_complete_and_stop_closes_the_socket() {
    let path = file(4 << 20);
    let server = FileServer::start("127.0.0.1:0", &path).expect("serving");
    let addr = server.local_addr();
    let p = path_of(server.url()).to_string();
    {
        let mut s = TcpStream::connect(addr).expect("connects");
        s.write_all(format!("GET {p} HTTP/1.1\r\n\r\n").as_bytes())
            .expect("written");
        let mut some = [0; 1000];
        s.read_exact(&mut some).expect("the start");
        // Dropped: the rest is never read.
    }
    // Whenever the server sees the cut, the download does not count.
    assert_eq!(server.stop(), ServeOutcome::Stopped);
    assert!(!listening(addr));
    let _ = std::fs::remove_dir_all(path.parent().expect("folder"));
}

#[test]
fn a_download_is_limited_and_leaves_nothing() {
    let path = file(100_000);
    let server = FileServer::start("127.0.0.1:0", &path).expect("serving");
    let dest = path.with_file_name("copy.bin");
    let tls = jabber_std::Tls::default();
    match jabber_std::download(server.url(), &dest, 99_999, &tls, |_| {}) {
        Err(TransferError::TooLarge { limit: 99_999 }) => {}
        other => panic!("{other:?}"),
    }
    assert!(!dest.exists());
    let mut seen = Vec::new();
    let n = jabber_std::download(server.url(), &dest, 100_000, &tls, |p| seen.push(p.done))
        .expect("downloaded");
    assert_eq!(n, 100_000);
    assert_eq!(seen.last(), Some(&100_000));
    assert!(seen.windows(2).all(|w| w[0] < w[1]), "progress only grows");
    assert_eq!(
        std::fs::read(&dest).expect("copy"),
        std::fs::read(&path).expect("file")
    );
    assert!(matches!(
        jabber_std::download("ftp://example.com/x", &dest, 1, &tls, |_| {}),
        Err(TransferError::BadUrl(_))
    ));
    drop(server);
    let _ = std::fs::remove_dir_all(path.parent().expect("folder"));
}

/// A peer that sends one byte of its head and then nothing.
fn dripping(addr: SocketAddr) -> TcpStream {
    let mut s = TcpStream::connect(addr).expect("connects");
    s.write_all(b"G").expect("written");
    s
}

#[test]
fn a_silent_peer_neither_holds_the_server_nor_delays_stop() {
    let path = file(10_000);
    let server = FileServer::start("127.0.0.1:0", &path).expect("serving");
    let addr = server.local_addr();
    let p = path_of(server.url()).to_string();
    let _slow = dripping(addr);
    // Another receiver is served meanwhile.
    let head = request(addr, &format!("HEAD {p} HTTP/1.1\r\n\r\n"));
    assert!(head.starts_with(b"HTTP/1.1 200 OK\r\n"));
    let _slow2 = dripping(addr);
    let started = std::time::Instant::now();
    assert_eq!(server.stop(), ServeOutcome::Stopped);
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    assert!(!listening(addr));
    let _ = std::fs::remove_dir_all(path.parent().expect("folder"));
}

#[test]
fn a_download_under_way_is_cut_by_stop() {
    let path = file(8 << 20);
    let server = FileServer::start("127.0.0.1:0", &path).expect("serving");
    let addr = server.local_addr();
    let p = path_of(server.url()).to_string();
    let mut s = TcpStream::connect(addr).expect("connects");
    s.write_all(format!("GET {p} HTTP/1.1\r\n\r\n").as_bytes())
        .expect("written");
    let mut some = [0; 1000];
    s.read_exact(&mut some).expect("the start");
    // The rest is not read: the server is stuck writing until stop cuts it.
    let started = std::time::Instant::now();
    assert_eq!(server.stop(), ServeOutcome::Stopped);
    assert!(started.elapsed() < Duration::from_secs(2));
    let _ = std::fs::remove_dir_all(path.parent().expect("folder"));
}

#[test]
fn a_dripping_head_is_cut_at_the_deadline() {
    let path = file(10);
    let server = FileServer::start("127.0.0.1:0", &path).expect("serving");
    let mut s = TcpStream::connect(server.local_addr()).expect("connects");
    s.set_read_timeout(Some(Duration::from_millis(400)))
        .expect("timeout");
    let started = std::time::Instant::now();
    // A byte of a never-ending header line every 400 ms: each read of the server's
    // would succeed within any per-read timeout; only the deadline on the whole head ends it.
    let cut = loop {
        assert!(
            started.elapsed() < jabber_std::files::HEAD_DEADLINE + Duration::from_secs(5),
            "never cut"
        );
        if s.write_all(b"x").is_err() {
            break started.elapsed();
        }
        let mut buf = [0; 64];
        match s.read(&mut buf) {
            Ok(0) => break started.elapsed(),
            Ok(_) => panic!("answered"),
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(e) if e.kind() == std::io::ErrorKind::TimedOut => {}
            Err(_) => break started.elapsed(),
        }
    };
    assert!(
        cut >= jabber_std::files::HEAD_DEADLINE - Duration::from_secs(1),
        "{cut:?}"
    );
    assert_eq!(server.stop(), ServeOutcome::Stopped);
    let _ = std::fs::remove_dir_all(path.parent().expect("folder"));
}
