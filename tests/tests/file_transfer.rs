//! File transfer (the cheat sheet's §8) on real servers, through jabber-std:
//! - HTTP File Upload (XEP-0363): a 5 MB file uploaded to ejabberd's `mod_http_upload`
//!   and to prosody's `mod_http_file_share` over HTTPS (the test CA trusted like the
//!   XMPP connection), its URL sent to a second account as `jabber:x:oob`, downloaded,
//!   the same SHA-256;
//! - the trivial server: the sender serves the file itself and offers it with
//!   `jabber:iq:oob`; accepted after the download, and declined (the server then stops
//!   listening: the test connects to check);
//! - the download size limit: a typed error, nothing left on disk;
//! - a file above the service's limit: the typed refusal with the limit.
//!
//! Each scenario runs on both servers; one server of each kind serves the whole file.

use std::fs;
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use jabber_net::{Options, Tls};
use jabber_proto::client::{Config, Event, StanzaEvent, TransferEvent};
use jabber_proto::features::files::{OobRefusal, UploadError, UploadFile};
use jabber_proto::jid::Jid;
use jabber_proto::negotiation::auth::Credentials;
use jabber_proto::stanza::Message;
use jabber_std::files::{ServeOutcome, TransferError};
use jabber_std::{Connection, FileServer, Next};
use jabber_tests::http_upload::{MAX_UPLOAD_SIZE, UPLOAD_SERVICE};
use jabber_tests::{Server, ServerKind, TestCa};
use sha2::{Digest, Sha256};

const PASSWORD: &str = "secret";
const FIVE_MB: usize = 5 * 1024 * 1024;

fn server(kind: ServerKind) -> &'static Server {
    static EJABBERD: OnceLock<Server> = OnceLock::new();
    static PROSODY: OnceLock<Server> = OnceLock::new();
    let cell = match kind {
        ServerKind::Ejabberd => &EJABBERD,
        ServerKind::Prosody => &PROSODY,
    };
    cell.get_or_init(|| Server::start_with_upload(kind).expect("server starts"))
}

fn tls() -> Tls {
    let mut tls = Tls::default().trust(TestCa::get().ca_der().to_vec());
    tls.no_builtin_roots = true;
    tls
}

/// A fresh account logged in over STARTTLS; returns the connection and its full JID.
fn login(kind: ServerKind, user: &str) -> (Connection, Jid) {
    login_taking_offers(kind, user, true)
}

/// [`login`], with [`Config::oob_offers`] as given.
fn login_taking_offers(kind: ServerKind, user: &str, oob_offers: bool) -> (Connection, Jid) {
    let server = server(kind);
    server.register(user, PASSWORD).expect("registered");
    let mut config = Config::new(server.domain(), jabber_net::fresh_seed());
    config.iq_timeout = Duration::from_secs(20);
    config.oob_offers = oob_offers;
    let mut conn = Connection::connect_with(server.addr(), config, Options::starttls(tls()))
        .expect("connects");
    let me = conn
        .login(Credentials::new(user, PASSWORD, "files"))
        .expect("logged in");
    (conn, me.jid)
}

/// A file of `len` pseudo-random bytes in a fresh folder; returns its path.
fn make_file(name: &str, len: usize) -> PathBuf {
    let dir = scratch(name);
    let path = dir.join(format!("{name}.bin"));
    let mut x: u32 = 0x1234_5678 ^ len as u32;
    let data: Vec<u8> = (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect();
    fs::write(&path, data).expect("file written");
    path
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "jabber-files-{}-{name}-{}",
        std::process::id(),
        jabber_net::fresh_seed()
    ));
    fs::create_dir_all(&dir).expect("scratch folder");
    dir
}

fn remove_folder_of(file: &Path) {
    if let Some(dir) = file.parent() {
        let _ = fs::remove_dir_all(dir);
    }
}

fn sha256(path: &Path) -> Vec<u8> {
    Sha256::digest(fs::read(path).expect("readable")).to_vec()
}

/// Waits (bounded) for the first event `pick` maps to a value.
fn wait<T>(conn: &mut Connection, mut pick: impl FnMut(Event) -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        assert!(!left.is_zero(), "timed out waiting for an event");
        match conn.next_event_timeout(left).expect("connection alive") {
            Next::Event(e) => {
                if let Some(v) = pick(e) {
                    return v;
                }
            }
            Next::TimedOut => {}
            Next::Ended => panic!("connection ended"),
        }
    }
}

fn user(kind: ServerKind, what: &str) -> String {
    format!("{what}{}", kind.name())
}

fn upload_then_oob_message(kind: ServerKind) {
    let (mut alice, _) = login(kind, &user(kind, "upa"));
    let (mut bob, bob_jid) = login(kind, &user(kind, "upb"));
    let file = make_file("upload", FIVE_MB);

    let service = alice
        .find_upload_service()
        .expect("search")
        .expect("a service");
    assert_eq!(service.jid.as_str(), UPLOAD_SERVICE);
    assert_eq!(service.max_file_size, Some(MAX_UPLOAD_SIZE));

    let mut reported = 0;
    let url = alice
        .upload_file(&file, Some("application/octet-stream"), &tls(), |p| {
            assert_eq!(p.total, Some(FIVE_MB as u64));
            reported = p.done;
        })
        .expect("uploaded");
    assert_eq!(reported, FIVE_MB as u64, "progress reached the end");
    assert!(url.starts_with("https://localhost:"), "{url}");

    let message = Message::chat(&bob_jid.to_bare())
        .body("here it is")
        .oob(&url, Some("five megabytes"))
        .build()
        .expect("message");
    alice.send(message).expect("sent");

    let oob = wait(&mut bob, |e| match e {
        Event::Stanza(StanzaEvent::Message(m)) => m.oob(),
        _ => None,
    });
    assert_eq!(oob.url, url);
    assert_eq!(oob.desc.as_deref(), Some("five megabytes"));
    let dir = scratch("upload-dest");
    let dest = dir.join(jabber_net::transfer::file_name_from_url(&oob.url));
    let mut last = None;
    let n = jabber_std::download(&oob.url, &dest, 10 * 1024 * 1024, &tls(), |p| {
        last = Some(p)
    })
    .expect("downloaded");
    assert_eq!(n, FIVE_MB as u64);
    assert_eq!(last.map(|p| p.done), Some(FIVE_MB as u64));
    assert_eq!(sha256(&dest), sha256(&file), "same bytes");

    // The limit, typed, with nothing left behind.
    let small = dir.join("small");
    match jabber_std::download(&oob.url, &small, 1024 * 1024, &tls(), |_| {}) {
        Err(TransferError::TooLarge { limit }) => assert_eq!(limit, 1024 * 1024),
        other => panic!("expected TooLarge, got {other:?}"),
    }
    assert!(!small.exists(), "no partial file");

    remove_folder_of(&file);
    let _ = fs::remove_dir_all(&dir);
    alice.close().expect("closed");
    bob.close().expect("closed");
}

fn too_large_for_the_service(kind: ServerKind) {
    let (mut alice, _) = login(kind, &user(kind, "big"));
    let service = Jid::parse(UPLOAD_SERVICE).expect("a JID");
    let file = UploadFile::new("huge.bin", MAX_UPLOAD_SIZE + 1);
    match alice.request_upload_slot(&service, &file) {
        Err(TransferError::SlotRefused(UploadError::TooLarge { max_file_size, .. })) => {
            // ejabberd says the limit, prosody too (0.12 sends <max-file-size/>).
            assert_eq!(max_file_size, Some(MAX_UPLOAD_SIZE));
        }
        other => panic!("expected TooLarge, got {other:?}"),
    }
    alice.close().expect("closed");
}

/// Whether anything still accepts connections at `addr`.
fn listening(addr: SocketAddr) -> bool {
    TcpStream::connect_timeout(&addr, Duration::from_millis(500)).is_ok()
}

fn served_accepted(kind: ServerKind) {
    let (mut alice, _) = login(kind, &user(kind, "sva"));
    let (mut bob, bob_jid) = login(kind, &user(kind, "svb"));
    let file = make_file("served", FIVE_MB);
    let server = FileServer::start("127.0.0.1:0", &file).expect("serving");
    let addr = server.local_addr();
    let dest_dir = scratch("served-dest");

    // Bob receives on a thread of his own: Alice's call blocks until he answers.
    let receiver = {
        let dest_dir = dest_dir.clone();
        std::thread::spawn(move || {
            let offer = wait(&mut bob, |e| match e {
                Event::Transfer(TransferEvent::Offer(offer)) => Some(offer),
                _ => None,
            });
            let path = bob
                .receive_offer(&offer, &dest_dir, 10 * 1024 * 1024, &tls(), |_| {})
                .expect("received");
            bob.close().expect("closed");
            path
        })
    };
    let outcome = alice
        .send_file_served(&bob_jid, server, Some("served"))
        .expect("accepted");
    assert_eq!(
        outcome,
        ServeOutcome::Completed {
            bytes: FIVE_MB as u64
        }
    );
    let path = receiver.join().expect("receiver");
    assert_eq!(sha256(&path), sha256(&file));
    assert!(!listening(addr), "the trivial server stopped listening");
    alice.close().expect("closed");
    remove_folder_of(&file);
    let _ = fs::remove_dir_all(&dest_dir);
}

fn served_declined(kind: ServerKind) {
    let (mut alice, _) = login(kind, &user(kind, "sda"));
    let (mut bob, bob_jid) = login(kind, &user(kind, "sdb"));
    let file = make_file("declined", 64 * 1024);
    let server = FileServer::start("127.0.0.1:0", &file).expect("serving");
    let addr = server.local_addr();
    assert!(listening(addr));

    let receiver = std::thread::spawn(move || {
        let offer = wait(&mut bob, |e| match e {
            Event::Transfer(TransferEvent::Offer(offer)) => Some(offer),
            _ => None,
        });
        bob.decline_offer(&offer).expect("declined");
        bob.close().expect("closed");
    });
    match alice.send_file_served(&bob_jid, server, None) {
        Err(TransferError::OfferRefused(Some(error))) => {
            assert_eq!(error.condition, OobRefusal::Declined.error().condition);
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    receiver.join().expect("receiver");
    assert!(!listening(addr), "the trivial server stopped listening");
    alice.close().expect("closed");
    remove_folder_of(&file);
}

/// A receiver that does not take offers (the default config) answers them
/// `service-unavailable` at once: the sender is not left waiting.
fn unhandled_offer_answered(kind: ServerKind) {
    let (mut alice, _) = login(kind, &user(kind, "uoa"));
    let (mut bob, bob_jid) = login_taking_offers(kind, &user(kind, "uob"), false);
    let file = make_file("unhandled", 1024);
    let server = FileServer::start("127.0.0.1:0", &file).expect("serving");
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let receiver = {
        let done = done.clone();
        std::thread::spawn(move || {
            let mut offers = 0;
            while !done.load(std::sync::atomic::Ordering::SeqCst) {
                if let Next::Event(Event::Transfer(TransferEvent::Offer(_))) = bob
                    .next_event_timeout(Duration::from_millis(100))
                    .expect("alive")
                {
                    offers += 1;
                }
            }
            bob.close().expect("closed");
            offers
        })
    };
    let started = Instant::now();
    match alice.send_file_served(&bob_jid, server, None) {
        Err(TransferError::OfferRefused(Some(error))) => {
            assert_eq!(
                error.condition,
                jabber_proto::stanza::StanzaCondition::ServiceUnavailable
            );
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert!(started.elapsed() < Duration::from_secs(10));
    done.store(true, std::sync::atomic::Ordering::SeqCst);
    assert_eq!(
        receiver.join().expect("receiver"),
        0,
        "no event for the offer"
    );
    alice.close().expect("closed");
    remove_folder_of(&file);
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime")
}

/// jabber-tokio's HTTP: the slot (asked over XMPP) filled with its `upload`, the file
/// fetched back with its `download`, and its limit typed.
fn tokio_upload_and_download(kind: ServerKind) {
    let (mut alice, _) = login(kind, &user(kind, "tua"));
    let file = make_file("tokio-upload", FIVE_MB);
    let service = alice
        .find_upload_service()
        .expect("search")
        .expect("a service");
    let slot = alice
        .request_upload_slot(&service.jid, &UploadFile::new("tokio.bin", FIVE_MB as u64))
        .expect("a slot");
    let dir = scratch("tokio-dest");
    let dest = dir.join("tokio.bin");
    let small = dir.join("small");
    runtime().block_on(async {
        let sent = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
        let seen = sent.clone();
        jabber_tokio::upload(&slot, &file, None, &tls(), move |p| {
            seen.store(p.done, std::sync::atomic::Ordering::SeqCst);
        })
        .await
        .expect("uploaded");
        assert_eq!(
            sent.load(std::sync::atomic::Ordering::SeqCst),
            FIVE_MB as u64
        );
        let mut last = None;
        let n = jabber_tokio::download(&slot.get_url, &dest, 8 * 1024 * 1024, &tls(), |p| {
            last = Some(p.done)
        })
        .await
        .expect("downloaded");
        assert_eq!((n, last), (FIVE_MB as u64, Some(FIVE_MB as u64)));
        match jabber_tokio::download(&slot.get_url, &small, 1000, &tls(), |_| {}).await {
            Err(TransferError::TooLarge { limit: 1000 }) => {}
            other => panic!("expected TooLarge, got {other:?}"),
        }
    });
    assert_eq!(sha256(&dest), sha256(&file));
    assert!(!small.exists());
    alice.close().expect("closed");
    remove_folder_of(&file);
    let _ = fs::remove_dir_all(&dir);
}

/// jabber-tokio's trivial server: `serve` runs beside the (blocking) offer; accepted
/// after a complete download, or declined and dropped — closed either way.
fn tokio_served(kind: ServerKind, decline: bool) {
    let tag = if decline { "tsd" } else { "tsa" };
    let (mut alice, _) = login(kind, &user(kind, &format!("{tag}a")));
    let (mut bob, bob_jid) = login(kind, &user(kind, &format!("{tag}b")));
    let file = make_file(tag, 1024 * 1024);
    let dest_dir = scratch(&format!("{tag}-dest"));
    let receiver = {
        let dest_dir = dest_dir.clone();
        std::thread::spawn(move || {
            let offer = wait(&mut bob, |e| match e {
                Event::Transfer(TransferEvent::Offer(offer)) => Some(offer),
                _ => None,
            });
            let got = if decline {
                bob.decline_offer(&offer).expect("declined");
                None
            } else {
                let dest = dest_dir.join("got.bin");
                runtime()
                    .block_on(jabber_tokio::download(
                        offer.url(),
                        &dest,
                        2 << 20,
                        &tls(),
                        |_| {},
                    ))
                    .expect("downloaded");
                bob.with_client(|c, now| c.accept_oob(now, &offer))
                    .expect("alive")
                    .expect("accepted");
                Some(dest)
            };
            bob.close().expect("closed");
            got
        })
    };
    let (outcome, answer, addr) = runtime().block_on(async {
        let server = jabber_tokio::FileServer::bind("127.0.0.1:0", &file, None)
            .await
            .expect("bound");
        let addr = server.local_addr();
        let oob = server.oob(Some("tokio"));
        let offer = tokio::task::spawn_blocking(move || {
            let answer = alice.offer_oob(&bob_jid, &oob);
            (alice, answer)
        });
        let serving = server.serve(|_| {});
        tokio::pin!(offer, serving);
        let mut outcome = None;
        let answer = loop {
            tokio::select! {
                o = &mut serving, if outcome.is_none() => outcome = Some(o.expect("served")),
                r = &mut offer => break r.expect("offer thread"),
            }
        };
        // Accepted: the receiver may answer before the server has seen its clean close.
        if !decline && outcome.is_none() {
            let served = tokio::time::timeout(Duration::from_secs(10), &mut serving).await;
            outcome = Some(served.expect("serving ends").expect("served"));
        }
        // Declined: the serving future is dropped here, with its socket.
        (outcome, answer, addr)
    });
    let (alice, answer) = answer;
    let got = receiver.join().expect("receiver");
    if decline {
        assert!(
            matches!(answer, Err(TransferError::OfferRefused(Some(_)))),
            "{answer:?}"
        );
        assert_eq!(outcome, None);
    } else {
        answer.expect("accepted");
        assert_eq!(outcome, Some(ServeOutcome::Completed { bytes: 1 << 20 }));
        assert_eq!(sha256(&got.expect("a file")), sha256(&file));
    }
    assert!(!listening(addr), "the trivial server stopped listening");
    alice.close().expect("closed");
    remove_folder_of(&file);
    let _ = fs::remove_dir_all(&dest_dir);
}

fn tokio_served_accepted(kind: ServerKind) {
    tokio_served(kind, false);
}

fn tokio_served_declined(kind: ServerKind) {
    tokio_served(kind, true);
}

macro_rules! on_both {
    ($($name:ident),* $(,)?) => {
        mod ejabberd {
            $(#[test] fn $name() { super::$name(jabber_tests::ServerKind::Ejabberd) })*
        }
        mod prosody {
            $(#[test] fn $name() { super::$name(jabber_tests::ServerKind::Prosody) })*
        }
    };
}

on_both!(
    upload_then_oob_message,
    too_large_for_the_service,
    served_accepted,
    served_declined,
    unhandled_offer_answered,
    tokio_upload_and_download,
    tokio_served_accepted,
    tokio_served_declined,
);
