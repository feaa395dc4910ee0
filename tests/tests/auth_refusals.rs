//! What ejabberd and prosody answer to classic logins (`jabber:iq:auth`), with the
//! password stored in the clear and hashed (SCRAM), and what
//! [`digest_refusal_allows_fallback`] makes of each refusal: a right and a wrong digest,
//! a right and a wrong plaintext password, and the field list each offers. Findings and
//! raw XML: `docs/auth-refusals.md`.
//!
//! The requests go out through our client (`jabber-std`, raw `send_iq`), one fresh
//! connection each; the logins go through a tap that records what the client sent, to
//! count the credentials it tried.

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

use jabber_proto::negotiation::auth::{
    self, AuthFields, AuthMethod, Credentials, LoginError, digest_refusal_allows_fallback,
};
use jabber_proto::ns;
use jabber_proto::stanza::{IqType, StanzaCondition, StanzaError};
use jabber_std::{Config, Connection, Error, Event, IqEvent, Next, Options, StreamEvent};
use jabber_tests::{PasswordStorage, Server, ServerKind};

const USER: &str = "alice";
const PASSWORD: &str = "right-pw";
const WRONG: &str = "wrong-pw";

/// A server's answer to one `jabber:iq:auth` request.
#[derive(Debug, PartialEq)]
enum Answer {
    /// An empty result: logged in.
    Success,
    /// A result carrying the field list (prosody's answer to anything it cannot use).
    Fields(AuthFields),
    /// An error.
    Refused(StanzaError),
}

impl Answer {
    fn refusal(&self) -> &StanzaError {
        match self {
            Answer::Refused(e) => e,
            other => panic!("expected a refusal, got {other:?}"),
        }
    }
}

fn config(server: &Server) -> Config {
    let mut c = Config::new(server.domain(), jabber_net::fresh_seed());
    c.iq_timeout = Duration::from_secs(20);
    // Classic (jabber:iq:auth) logins, stated: the default is XMPP 1.0.
    c.version = None;
    c
}

/// Opens a stream to `addr` and waits for the server's header; returns the stream id.
fn open(server: &Server, addr: SocketAddr, config: Config) -> (Connection, String) {
    let mut conn = Connection::connect_with(addr, config, Options::plain()).expect("connect");
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match conn.next_event_timeout(left).expect("the stream opens") {
            Next::Event(Event::Stream(StreamEvent::Opened(header))) => {
                let id = header.id().expect("a stream id").to_owned();
                return (conn, id);
            }
            Next::Event(_) => {}
            other => panic!("{}: no stream header: {other:?}", server.kind()),
        }
    }
}

/// Sends one `jabber:iq:auth` request on a fresh connection and returns the answer.
fn ask(server: &Server, kind: IqType, payload: impl FnOnce(&str) -> jabber_std::Element) -> Answer {
    let (mut conn, stream_id) = open(server, server.addr(), config(server));
    let payload = payload(&stream_id);
    let id = conn
        .with_client(|c, now| c.send_iq(now, None, kind, payload))
        .expect("transport")
        .expect("send_iq");
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match conn.next_event_timeout(left).expect("an answer") {
            Next::Event(Event::Iq(IqEvent::Result { id: got, iq })) if got == id => {
                return match iq.payload() {
                    None => Answer::Success,
                    Some(q) if q.is("query", ns::IQ_AUTH) => {
                        Answer::Fields(AuthFields::from_query(q))
                    }
                    Some(other) => panic!("unexpected result payload {other:?}"),
                };
            }
            Next::Event(Event::Iq(IqEvent::Error { id: got, error, .. })) if got == id => {
                return Answer::Refused(error);
            }
            Next::Event(_) => {}
            other => panic!("{}: no answer: {other:?}", server.kind()),
        }
    }
}

fn fields(server: &Server) -> Answer {
    ask(server, IqType::Get, |_| {
        auth::fields_query(USER).expect("a query")
    })
}

fn set(server: &Server, method: AuthMethod, password: &str) -> Answer {
    static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let resource = format!("r{}", N.fetch_add(1, std::sync::atomic::Ordering::Relaxed));
    let credentials = Credentials::new(USER, password, &resource);
    ask(server, IqType::Set, |stream_id| {
        auth::credentials_query(&credentials, method, stream_id).expect("a query")
    })
}

/// The field lists the servers send.
fn offered(digest: bool) -> Answer {
    Answer::Fields(AuthFields {
        password: true,
        digest,
        resource: true,
    })
}

fn not_authorized() -> StanzaError {
    StanzaError::new(StanzaCondition::NotAuthorized)
}

/// A one-connection TCP relay to `to` that records every byte the client sends.
struct Tap {
    addr: SocketAddr,
    sent: Arc<Mutex<Vec<u8>>>,
}

impl Tap {
    fn new(to: SocketAddr) -> Tap {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the tap");
        let addr = listener.local_addr().expect("the tap's address");
        let sent = Arc::new(Mutex::new(Vec::new()));
        let record = Arc::clone(&sent);
        thread::spawn(move || {
            let Ok((client, _)) = listener.accept() else {
                return;
            };
            let Ok(server) = TcpStream::connect(to) else {
                return;
            };
            let (Ok(client2), Ok(server2)) = (client.try_clone(), server.try_clone()) else {
                return;
            };
            thread::spawn(move || relay(server2, client2, None));
            relay(client, server, Some(&record));
        });
        Tap { addr, sent }
    }

    /// How many credential sets (`<digest>` or `<password>`) went out so far.
    fn credentials_sent(&self) -> (usize, usize) {
        let sent = self.sent.lock().unwrap_or_else(PoisonError::into_inner);
        let text = String::from_utf8_lossy(&sent);
        (
            text.matches("<digest>").count(),
            text.matches("<password>").count(),
        )
    }
}

fn relay(mut from: TcpStream, mut to: TcpStream, record: Option<&Mutex<Vec<u8>>>) {
    let mut buf = [0u8; 4096];
    while let Ok(n @ 1..) = from.read(&mut buf) {
        if let Some(record) = record {
            record
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .extend_from_slice(&buf[..n]);
        }
        if to.write_all(&buf[..n]).is_err() {
            break;
        }
    }
    let _ = to.shutdown(Shutdown::Write);
}

/// Logs in through a [`Tap`] with the digest preferred and plaintext allowed; returns
/// the outcome and how many digests and plaintext passwords the client sent.
fn login(server: &Server, password: &str) -> (Result<(), LoginError>, (usize, usize)) {
    let tap = Tap::new(server.addr());
    let mut c = config(server);
    c.allow_plaintext = true;
    let (mut conn, _) = open(server, tap.addr, c);
    let outcome = match conn.login(jabber_tests::scenario::creds(USER, password)) {
        Ok(_) => Ok(()),
        Err(Error::Login(e)) => Err(e),
        Err(other) => panic!("{}: login: {other}", server.kind()),
    };
    let _ = conn.close();
    (outcome, tap.credentials_sent())
}

fn start(kind: ServerKind, storage: PasswordStorage) -> Server {
    let server = Server::start_with(kind, storage).expect("start the server");
    server.register(USER, PASSWORD).expect("create the account");
    server
}

#[test]
fn ejabberd_with_clear_passwords_checks_the_digest() {
    let server = start(ServerKind::Ejabberd, PasswordStorage::Plain);
    assert_eq!(fields(&server), offered(true));
    assert_eq!(set(&server, AuthMethod::Digest, PASSWORD), Answer::Success);
    assert_eq!(
        set(&server, AuthMethod::Plaintext, PASSWORD),
        Answer::Success
    );
    for method in [AuthMethod::Digest, AuthMethod::Plaintext] {
        let wrong = set(&server, method, WRONG);
        // A bare not-authorized (ejabberd echoes the query, which we ignore).
        assert_eq!(wrong.refusal(), &not_authorized(), "{method:?}");
        assert!(!digest_refusal_allows_fallback(wrong.refusal()));
    }
    let (outcome, _) = login(&server, PASSWORD);
    assert_eq!(outcome, Ok(()));
    let (outcome, _) = login(&server, WRONG);
    assert_eq!(outcome, Err(LoginError::Refused(not_authorized())));
}

#[test]
fn ejabberd_with_scram_passwords_offers_no_digest() {
    let server = start(ServerKind::Ejabberd, PasswordStorage::Hashed);
    assert_eq!(fields(&server), offered(false));
    // A digest it cannot check is refused exactly like a wrong one.
    let unchecked = set(&server, AuthMethod::Digest, PASSWORD);
    assert_eq!(unchecked, set(&server, AuthMethod::Digest, WRONG));
    assert_eq!(unchecked.refusal(), &not_authorized());
    assert!(!digest_refusal_allows_fallback(unchecked.refusal()));
    // ejabberd 23.01 bug: with SCRAM storage, iq:auth compares the plaintext password
    // with the stored key, so even the right one is refused (SASL PLAIN works).
    assert_eq!(
        set(&server, AuthMethod::Plaintext, PASSWORD).refusal(),
        &not_authorized()
    );
    assert_eq!(
        set(&server, AuthMethod::Plaintext, WRONG).refusal(),
        &not_authorized()
    );
    // Our client never sends the digest it was not offered: one plaintext attempt.
    let (outcome, sent) = login(&server, PASSWORD);
    assert_eq!(outcome, Err(LoginError::Refused(not_authorized())));
    assert_eq!(sent, (0, 1), "(digests, plaintext passwords) sent");
}

/// prosody has no digest, whatever the storage: it answers one with the field list
/// again (a result that checked nothing), and the client goes on with plaintext.
fn prosody(storage: PasswordStorage) {
    let server = start(ServerKind::Prosody, storage);
    assert_eq!(fields(&server), offered(false));
    for password in [PASSWORD, WRONG] {
        assert_eq!(set(&server, AuthMethod::Digest, password), offered(false));
    }
    assert_eq!(
        set(&server, AuthMethod::Plaintext, PASSWORD),
        Answer::Success
    );
    let wrong = set(&server, AuthMethod::Plaintext, WRONG);
    assert_eq!(wrong.refusal(), &not_authorized());
    // The client sends no digest to prosody (not offered): plaintext, once.
    let (outcome, sent) = login(&server, PASSWORD);
    assert_eq!(outcome, Ok(()));
    assert_eq!(sent, (0, 1), "(digests, plaintext passwords) sent");
    let (outcome, sent) = login(&server, WRONG);
    assert_eq!(outcome, Err(LoginError::Refused(not_authorized())));
    assert_eq!(sent, (0, 1), "(digests, plaintext passwords) sent");
}

#[test]
fn prosody_internal_hashed_has_no_digest() {
    prosody(PasswordStorage::Hashed);
}

#[test]
fn prosody_internal_plain_has_no_digest() {
    prosody(PasswordStorage::Plain);
}

/// The case the rule is for: a wrong password must be tried once, not again as
/// plaintext after the digest was refused.
#[test]
fn wrong_password_is_tried_once() {
    let server = start(ServerKind::Ejabberd, PasswordStorage::Plain);
    let (outcome, sent) = login(&server, WRONG);
    assert_eq!(outcome, Err(LoginError::Refused(not_authorized())));
    assert_eq!(sent, (1, 0), "(digests, plaintext passwords) sent");
}
