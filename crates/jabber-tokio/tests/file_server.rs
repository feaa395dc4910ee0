//! The trivial server (`FileServer`) at the socket: a wrong path, a `HEAD` or a
//! download given up does not end `serve`, a complete `GET` does; dropping the future
//! closes the socket; `download` keeps to its limit. Plain loopback HTTP, no XMPP.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use jabber_tokio::FileServer;
use jabber_tokio::files::{ServeOutcome, TransferError};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

fn file(len: usize) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("jabber-tokio-fs-{}", jabber_tokio::fresh_seed()));
    std::fs::create_dir_all(&dir).expect("folder");
    let path = dir.join("payload.bin");
    std::fs::write(
        &path,
        (0..len).map(|i| (i % 251) as u8).collect::<Vec<u8>>(),
    )
    .expect("file");
    path
}

async fn request(addr: SocketAddr, head: String) -> Vec<u8> {
    let mut s = TcpStream::connect(addr).await.expect("connects");
    s.write_all(head.as_bytes()).await.expect("written");
    let mut out = Vec::new();
    s.read_to_end(&mut out).await.expect("read");
    out
}

fn path_of(url: &str) -> String {
    let rest = url.strip_prefix("http://").expect("http");
    rest[rest.find('/').expect("a path")..].to_string()
}

#[tokio::test]
async fn serve_ends_after_one_complete_download_only() {
    let path = file(4 << 20);
    let server = FileServer::bind("127.0.0.1:0", &path, Some("application/x-test"))
        .await
        .expect("bound");
    let addr = server.local_addr();
    let url = server.url();
    let p = path_of(&url);
    let serving = tokio::spawn(server.serve(|_| {}));

    let wrong = request(addr, "GET /x HTTP/1.1\r\n\r\n".into()).await;
    assert!(wrong.starts_with(b"HTTP/1.1 404 "));
    let head = request(addr, format!("HEAD {p} HTTP/1.1\r\n\r\n")).await;
    assert!(String::from_utf8_lossy(&head).contains("Content-Type: application/x-test\r\n"));
    // A download cut short (the rest left unread: the connection is reset) does not
    // count.
    {
        let mut s = TcpStream::connect(addr).await.expect("connects");
        s.write_all(format!("GET {p} HTTP/1.1\r\n\r\n").as_bytes())
            .await
            .expect("written");
        let mut some = [0; 1000];
        s.read_exact(&mut some).await.expect("the start");
    }
    // Had the cut counted, serving would have ended and the download below would fail.

    let dest = path.with_file_name("copy.bin");
    let tls = jabber_tokio::Tls::default();
    let mut last = 0;
    let n = jabber_tokio::download(&url, &dest, 4 << 20, &tls, |p| last = p.done)
        .await
        .expect("downloaded");
    assert_eq!((n, last), (4 << 20, 4 << 20));
    assert_eq!(
        std::fs::read(&dest).expect("copy"),
        std::fs::read(&path).expect("file")
    );
    let outcome = tokio::time::timeout(Duration::from_secs(10), serving)
        .await
        .expect("ends")
        .expect("task")
        .expect("served");
    assert_eq!(outcome, ServeOutcome::Completed { bytes: 4 << 20 });
    assert!(TcpStream::connect(addr).await.is_err(), "socket closed");
    let _ = std::fs::remove_dir_all(path.parent().expect("folder"));
}

#[tokio::test]
async fn a_download_keeps_to_its_limit_and_leaves_nothing() {
    let path = file(100_000);
    let server = FileServer::bind("127.0.0.1:0", &path, None)
        .await
        .expect("bound");
    let url = server.url();
    let serving = tokio::spawn(server.serve(|_| {}));
    let dest = path.with_file_name("copy.bin");
    let tls = jabber_tokio::Tls::default();
    match jabber_tokio::download(&url, &dest, 99_999, &tls, |_| {}).await {
        Err(TransferError::TooLarge { limit: 99_999 }) => {}
        other => panic!("{other:?}"),
    }
    assert!(!dest.exists());
    assert!(matches!(
        jabber_tokio::download("file:///etc/passwd", &dest, 1, &tls, |_| {}).await,
        Err(TransferError::BadUrl(_))
    ));
    serving.abort();
    let _ = std::fs::remove_dir_all(path.parent().expect("folder"));
}

#[tokio::test]
async fn dropping_serve_closes_the_socket() {
    let path = file(10);
    let server = FileServer::bind("127.0.0.1:0", &path, None)
        .await
        .expect("bound");
    let addr = server.local_addr();
    let serving = server.serve(|_| {});
    // Declined: the owner stops polling and drops the future.
    let _ = tokio::time::timeout(Duration::from_millis(50), serving).await;
    assert!(TcpStream::connect(addr).await.is_err(), "socket closed");
    let _ = std::fs::remove_dir_all(path.parent().expect("folder"));
}

#[tokio::test]
async fn a_silent_peer_does_not_hold_the_server() {
    let path = file(10_000);
    let server = FileServer::bind("127.0.0.1:0", &path, None)
        .await
        .expect("bound");
    let addr = server.local_addr();
    let url = server.url();
    let serving = tokio::spawn(server.serve(|_| {}));
    // One byte of a head, then nothing.
    let mut slow = TcpStream::connect(addr).await.expect("connects");
    slow.write_all(b"G").await.expect("written");
    let dest = path.with_file_name("copy.bin");
    let tls = jabber_tokio::Tls::default();
    let n = tokio::time::timeout(
        Duration::from_secs(5),
        jabber_tokio::download(&url, &dest, 10_000, &tls, |_| {}),
    )
    .await
    .expect("served beside the silent peer")
    .expect("downloaded");
    assert_eq!(n, 10_000);
    let outcome = tokio::time::timeout(Duration::from_secs(5), serving)
        .await
        .expect("ends")
        .expect("task")
        .expect("served");
    assert_eq!(outcome, ServeOutcome::Completed { bytes: 10_000 });
    drop(slow);
    let _ = std::fs::remove_dir_all(path.parent().expect("folder"));
}

#[tokio::test]
async fn a_dripping_head_is_cut_at_the_deadline() {
    let path = file(10);
    let server = FileServer::bind("127.0.0.1:0", &path, None)
        .await
        .expect("bound");
    let addr = server.local_addr();
    let serving = tokio::spawn(server.serve(|_| {}));
    let mut s = TcpStream::connect(addr).await.expect("connects");
    let started = tokio::time::Instant::now();
    let deadline = jabber_tokio::files::HEAD_DEADLINE;
    // A byte of a never-ending header line every 400 ms: only the deadline on the whole
    // head ends it.
    let cut = loop {
        assert!(
            started.elapsed() < deadline + Duration::from_secs(5),
            "never cut"
        );
        if s.write_all(b"x").await.is_err() {
            break started.elapsed();
        }
        let mut buf = [0; 64];
        match tokio::time::timeout(Duration::from_millis(400), s.read(&mut buf)).await {
            Err(_) => {}
            Ok(Ok(0)) | Ok(Err(_)) => break started.elapsed(),
            Ok(Ok(_)) => panic!("answered"),
        }
    };
    assert!(cut >= deadline - Duration::from_secs(1), "{cut:?}");
    assert!(!serving.is_finished(), "still serving others");
    serving.abort();
    let _ = std::fs::remove_dir_all(path.parent().expect("folder"));
}
