//! A scripted XMPP server on loopback, for the adapters' I/O tests: a thread accepts a
//! connection and plays a script on it — expect text, write text, shut down, reset,
//! stop reading — in the classic `jabber:iq:auth` dialect of the core. The protocol is
//! the core's and is tested there; a scripted peer checks what crosses the socket.
//!
//! A script's assertions run in its thread. [`Scripted::finish`] joins it and passes its
//! panic on; a [`Scripted`] dropped unfinished is joined the same way, so no script's
//! expectations go unchecked. Nothing here sleeps: a peer blocks on its socket (with a
//! timeout, [`PATIENCE`], so that a stuck test fails) or on a [`Gate`].

use std::any::Any;
use std::io::{self, ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::num::NonZeroU64;
use std::sync::Arc;
use std::sync::mpsc;
use std::thread::{self, JoinHandle};
use std::time::Duration;

use jabber_proto::client::Config;
use jabber_proto::jid::Jid;
use jabber_proto::negotiation::auth::{Credentials, digest};
use jabber_proto::stanza::{Message, MessageType};

/// How long a peer waits for a connection, a byte or a [`Gate`] before its script fails.
pub const PATIENCE: Duration = Duration::from_secs(5);
/// How long [`Gate::hold`] waits at most.
const HOLD_LIMIT: Duration = Duration::from_secs(30);
/// The domain the peer serves.
pub const DOMAIN: &str = "example.com";
/// The id of the peer's stream (the digest's salt).
pub const STREAM_ID: &str = "s1";
/// The account the peer's [`Peer::login`] expects.
pub const USER: &str = "alice";
/// The password every account has.
pub const PASSWORD: &str = "s3cret";
/// The resource every login asks for.
pub const RESOURCE: &str = "laptop";
/// The peer's stream header (no version: a classic stream, no features).
pub const SERVER_HEADER: &str = "<?xml version='1.0'?><stream:stream xmlns='jabber:client' \
    xmlns:stream='http://etherx.jabber.org/streams' from='example.com' id='s1'>";

// ---- the client's side of the script ----

/// A config for [`DOMAIN`] with a fixed seed.
pub fn config() -> Config {
    let mut config = Config::new(DOMAIN, NonZeroU64::new(0x5eed).expect("a non-zero seed"));
    // The scripts are classic (jabber:iq:auth) logins: stated, the default is XMPP 1.0.
    config.version = None;
    config
}

/// [`config`] without roster fetch and initial presence: a login is two IQs, which
/// [`Peer::login`] answers.
pub fn lite_config() -> Config {
    let mut config = config();
    config.fetch_roster = false;
    config.initial_presence = false;
    config
}

/// The credentials [`Peer::login`] expects.
pub fn creds() -> Credentials {
    creds_for(USER)
}

/// Credentials of `user` (with [`PASSWORD`] and [`RESOURCE`]).
pub fn creds_for(user: &str) -> Credentials {
    Credentials::new(user, PASSWORD, RESOURCE)
}

/// A chat message to `to` (a JID).
pub fn chat(to: &str, body: &str) -> Message {
    let to = Jid::parse(to).expect("a valid JID");
    Message::new(MessageType::Chat, &to, body).expect("a valid message")
}

// ---- reading the client's text ----

/// The `id` attribute of the first element in `xml` (the client quotes with `'`).
pub fn id_of(xml: &str) -> String {
    let start = xml.find(" id='").expect("an id") + 5;
    let len = xml[start..].find('\'').expect("a closing quote");
    xml[start..start + len].to_owned()
}

/// The text of the first `<tag>...</tag>` in `xml`.
pub fn text_of(xml: &str, tag: &str) -> String {
    let open = format!("<{tag}>");
    let start = xml
        .find(&open)
        .unwrap_or_else(|| panic!("no {open} in {xml}"))
        + open.len();
    let len = xml[start..]
        .find(&format!("</{tag}>"))
        .unwrap_or_else(|| panic!("no </{tag}> in {xml}"));
    xml[start..start + len].to_owned()
}

// ---- the peer ----

/// The server side of one connection.
#[derive(Debug)]
pub struct Peer {
    sock: TcpStream,
    /// Received and not yet matched.
    pending: Vec<u8>,
    /// How much of `pending` is known not to start a match.
    scanned: usize,
}

impl Peer {
    fn new(sock: TcpStream) -> Peer {
        sock.set_read_timeout(Some(PATIENCE)).expect("read timeout");
        sock.set_nodelay(true).expect("nodelay");
        Peer {
            sock,
            pending: Vec::new(),
            scanned: 0,
        }
    }

    /// Waits at most `limit` (instead of [`PATIENCE`]) for each read from now on.
    pub fn set_patience(&mut self, limit: Duration) {
        self.sock
            .set_read_timeout(Some(limit))
            .expect("read timeout");
    }

    /// Reads more into `pending`; panics on end of input, an error or a timeout.
    fn fill(&mut self, waiting_for: &str) {
        let mut chunk = [0; 64 * 1024];
        match self.sock.read(&mut chunk) {
            Ok(0) => panic!(
                "end of input while waiting for {waiting_for}; got {:?}",
                String::from_utf8_lossy(&self.pending)
            ),
            Ok(n) => self.pending.extend_from_slice(&chunk[..n]),
            Err(e) => panic!(
                "{e} while waiting for {waiting_for}; got {} bytes ending {:?}",
                self.pending.len(),
                String::from_utf8_lossy(&self.pending[self.pending.len().saturating_sub(200)..])
            ),
        }
    }

    /// Reads until `pattern` arrives; returns everything up to and including it.
    pub fn read_until(&mut self, pattern: &str) -> String {
        let needle = pattern.as_bytes();
        loop {
            if let Some(i) = self.pending[self.scanned..]
                .windows(needle.len())
                .position(|w| w == needle)
            {
                let rest = self.pending.split_off(self.scanned + i + needle.len());
                let got = std::mem::replace(&mut self.pending, rest);
                self.scanned = 0;
                return String::from_utf8(got).expect("the client sends UTF-8");
            }
            self.scanned = self.pending.len().saturating_sub(needle.len() - 1);
            self.fill(&format!("{pattern:?}"));
        }
    }

    /// The next byte, left unread; waits for one.
    pub fn peek_byte(&mut self) -> u8 {
        if self.pending.is_empty() {
            self.fill("a byte");
        }
        self.pending[0]
    }

    /// Reads exactly one byte.
    pub fn read_byte(&mut self) -> u8 {
        let byte = self.peek_byte();
        self.pending.remove(0);
        self.scanned = 0;
        byte
    }

    /// Reads until the client shuts its side down; returns what came before.
    pub fn read_to_end(&mut self) -> String {
        String::from_utf8(self.read_bytes_to_end()).expect("the client sends UTF-8")
    }

    /// [`read_to_end`](Self::read_to_end) for bytes that need not be text (TLS).
    pub fn read_bytes_to_end(&mut self) -> Vec<u8> {
        let mut rest = std::mem::take(&mut self.pending);
        self.scanned = 0;
        if let Err(e) = self.sock.read_to_end(&mut rest) {
            panic!(
                "{e} while waiting for the client to shut down; got {:?}",
                String::from_utf8_lossy(&rest)
            );
        }
        rest
    }

    /// Writes `text`.
    pub fn write(&mut self, text: &str) {
        self.sock.write_all(text.as_bytes()).expect("peer write");
    }

    /// Writes `bytes`, passing a failure on (for peers that write until stopped).
    pub fn try_write(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.sock.write_all(bytes)
    }

    /// Writes `text` one byte per `write` call (Nagle is off: one segment each).
    pub fn write_bytewise(&mut self, text: &str) {
        for b in text.as_bytes() {
            self.sock
                .write_all(std::slice::from_ref(b))
                .expect("peer write");
        }
    }

    /// Shuts our sending side down (a FIN): the client's input ends.
    pub fn shutdown_write(&mut self) {
        self.sock.shutdown(Shutdown::Write).expect("shutdown");
    }

    /// Closes the socket with a reset instead of a FIN (a zero linger time).
    pub fn reset(self) {
        let sock = socket2::Socket::from(self.sock);
        sock.set_linger(Some(Duration::ZERO)).expect("linger");
    }

    /// Reads the client's stream header and answers with [`SERVER_HEADER`].
    pub fn open_stream(&mut self) {
        self.read_until("<stream:stream");
        let header = self.read_until(">");
        assert!(header.contains("to='example.com'"), "{header}");
        self.write(SERVER_HEADER);
    }

    /// The `jabber:iq:auth` exchange of whoever logs in, up to the client's `set`
    /// (checked: the digest of [`PASSWORD`], [`RESOURCE`]), which is left unanswered.
    /// Returns the `set`'s id and the username.
    pub fn authenticate(&mut self) -> (String, String) {
        let get = self.read_until("</iq>");
        let user = text_of(&get, "username");
        self.write(&format!(
            "<iq type='result' id='{}'><query xmlns='jabber:iq:auth'>\
             <username/><digest/><resource/></query></iq>",
            id_of(&get)
        ));
        let set = self.read_until("</iq>");
        assert_eq!(text_of(&set, "username"), user, "{set}");
        assert_eq!(
            text_of(&set, "digest"),
            digest(STREAM_ID, PASSWORD),
            "{set}"
        );
        assert_eq!(text_of(&set, "resource"), RESOURCE, "{set}");
        (id_of(&set), user)
    }

    /// The stream and a login of [`USER`] with [`lite_config`] (neither roster nor
    /// presence follows).
    pub fn login(&mut self) {
        assert_eq!(self.login_anyone(), USER);
    }

    /// [`login`](Self::login) of whoever connects; returns the username.
    pub fn login_anyone(&mut self) -> String {
        self.open_stream();
        let (id, user) = self.authenticate();
        self.write(&format!("<iq type='result' id='{id}'/>"));
        user
    }

    /// Closes the stream first: expects the client's `</stream:stream>` in answer, then
    /// the end of its input.
    pub fn close_stream(&mut self) {
        self.write("</stream:stream>");
        assert_eq!(self.read_to_end(), "</stream:stream>");
    }

    /// Waits for the client's `</stream:stream>`, answers it, and expects the end of
    /// its input right after.
    pub fn answer_close(&mut self) {
        self.read_until("</stream:stream>");
        self.write("</stream:stream>");
        assert_eq!(self.read_to_end(), "");
    }
}

// ---- XMPP 1.0 with stream management (XEP-0198) ----

/// The peer's XMPP 1.0 stream header.
pub const SERVER_HEADER_1_0: &str = "<?xml version='1.0'?><stream:stream \
    xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' \
    from='example.com' id='s1' version='1.0'>";

/// [`lite_config`] on XMPP 1.0 with stream management, the unacknowledged bound
/// `max_unacked`; the transport counts as encrypted (loopback: SASL PLAIN without TLS).
pub fn sm_config(max_unacked: u16) -> Config {
    let mut config = lite_config();
    config.version = Some("1.0".into());
    config.transport_encrypted = true;
    config.sm_max_unacked = max_unacked;
    config
}

impl Peer {
    /// The 1.0 stream, SASL PLAIN, and the restarted stream offering bind and stream
    /// management.
    pub fn sasl_authenticate(&mut self) {
        let features =
            |inner: &str| format!("{SERVER_HEADER_1_0}<stream:features>{inner}</stream:features>");
        self.read_until("<stream:stream");
        self.read_until(">");
        self.write(&features(
            "<mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>\
             <mechanism>PLAIN</mechanism></mechanisms>",
        ));
        self.read_until("</auth>");
        self.write("<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>");
        self.read_until("<stream:stream");
        self.read_until(">");
        self.write(&features(
            "<bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/><sm xmlns='urn:xmpp:sm:3'/>",
        ));
    }

    /// A login of [`USER`] with [`sm_config`]: bound to [`RESOURCE`], stream management
    /// enabled, resumable as `sm1`.
    pub fn login_sm(&mut self) {
        self.login_sm_enabled("");
    }

    /// [`login_sm`](Self::login_sm), the server asking resumption to happen at
    /// `location` (XEP-0198 §5).
    pub fn login_sm_at(&mut self, location: &str) {
        self.login_sm_enabled(&format!(" location='{location}'"));
    }

    fn login_sm_enabled(&mut self, attrs: &str) {
        self.sasl_authenticate();
        let bind = self.read_until("</iq>");
        self.write(&format!(
            "<iq type='result' id='{}'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>\
             <jid>{USER}@{DOMAIN}/{RESOURCE}</jid></bind></iq>",
            id_of(&bind)
        ));
        self.read_until("<enable");
        self.read_until(">");
        self.write(&format!(
            "<enabled xmlns='urn:xmpp:sm:3' id='sm1' resume='true'{attrs}/>"
        ));
    }

    /// Up to the client's `<resume/>` of `sm1` (checked), unanswered.
    pub fn await_resume(&mut self) {
        self.sasl_authenticate();
        self.read_until("<resume");
        let resume = self.read_until(">");
        assert!(resume.contains("previd='sm1'"), "{resume}");
    }

    /// [`await_resume`](Self::await_resume), then `<resumed/>` with `h` (stanzas the
    /// server received before the loss).
    pub fn resume_sm(&mut self, h: u32) {
        self.await_resume();
        self.write(&format!(
            "<resumed xmlns='urn:xmpp:sm:3' h='{h}' previd='sm1'/>"
        ));
    }

    /// Waits for the client's close and answers it, whatever came before (acks,
    /// resent stanzas); then the end of its input.
    pub fn answer_close_after_anything(&mut self) {
        self.read_until("</stream:stream>");
        self.write("</stream:stream>");
        self.read_to_end();
    }
}

// ---- synchronisation with the test ----

/// The waiting side of a one-shot signal between a test and its peer (either way),
/// which may carry a value.
#[derive(Debug)]
pub struct Gate<T = ()>(mpsc::Receiver<T>);

/// The signalling side of a [`Gate`].
#[derive(Debug)]
pub struct Opener<T = ()>(mpsc::Sender<T>);

/// A closed gate and what opens it.
pub fn gate<T>() -> (Opener<T>, Gate<T>) {
    let (tx, rx) = mpsc::channel();
    (Opener(tx), Gate(rx))
}

impl Opener {
    /// Opens the gate.
    pub fn open(self) {
        self.pass(());
    }
}

impl<T> Opener<T> {
    /// Opens the gate, handing `value` through.
    pub fn pass(self, value: T) {
        // The other side may have failed already; its own panic tells why.
        let _ = self.0.send(value);
    }
}

impl<T> Gate<T> {
    /// Waits until the gate opens and returns what came through; panics when it is
    /// dropped unopened or after [`PATIENCE`].
    pub fn wait(self) -> T {
        match self.0.recv_timeout(PATIENCE) {
            Ok(value) => value,
            Err(mpsc::RecvTimeoutError::Timeout) => panic!("the gate stayed shut {PATIENCE:?}"),
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                panic!("the gate's opener was dropped (its side failed)")
            }
        }
    }

    /// Waits until the gate opens or its opener is dropped (the other side is done,
    /// either way); panics after 30 s.
    pub fn hold(self) {
        if let Err(mpsc::RecvTimeoutError::Timeout) = self.0.recv_timeout(HOLD_LIMIT) {
            panic!("held for {HOLD_LIMIT:?}");
        }
    }
}

// ---- serving ----

/// A running script: the address to connect to, and the thread to join.
#[derive(Debug)]
#[must_use = "a script's assertions count only once it is finished"]
pub struct Scripted {
    addr: SocketAddr,
    thread: Option<JoinHandle<()>>,
}

impl Scripted {
    /// The address the peer accepts on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Waits for the script to end and passes its panic on.
    pub fn finish(mut self) {
        if let Some(Err(panic)) = self.thread.take().map(JoinHandle::join) {
            std::panic::resume_unwind(panic);
        }
    }
}

impl Drop for Scripted {
    fn drop(&mut self) {
        let Some(Err(panic)) = self.thread.take().map(JoinHandle::join) else {
            return;
        };
        if thread::panicking() {
            eprintln!("the scripted peer failed too: {}", panic_text(&*panic));
        } else {
            std::panic::resume_unwind(panic);
        }
    }
}

/// A panic's message.
pub fn panic_text(panic: &(dyn Any + Send)) -> String {
    panic
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_default()
}

/// Accepts one connection, waiting at most [`PATIENCE`] (Linux honours a listening
/// socket's receive timeout in `accept`).
fn accept(listener: &TcpListener) -> Peer {
    socket2::SockRef::from(listener)
        .set_read_timeout(Some(PATIENCE))
        .expect("accept timeout");
    match listener.accept() {
        Ok((sock, _)) => Peer::new(sock),
        Err(e) => panic!("no connection to accept: {e}"),
    }
}

/// Plays `script` on the first connection to [`Scripted::addr`].
pub fn serve(script: impl FnOnce(Peer) + Send + 'static) -> Scripted {
    serve_on(TcpListener::bind("127.0.0.1:0").expect("bind"), script)
}

/// [`serve`] on a listener of the caller's (e.g. [`small_window`]).
pub fn serve_on(listener: TcpListener, script: impl FnOnce(Peer) + Send + 'static) -> Scripted {
    let addr = listener.local_addr().expect("local address");
    let thread = thread::spawn(move || script(accept(&listener)));
    Scripted {
        addr,
        thread: Some(thread),
    }
}

/// Accepts `n` connections and plays `script` on each in a thread of its own; finishing
/// waits for all of them and passes the first panic on.
pub fn serve_many(n: usize, script: impl Fn(Peer) + Send + Sync + 'static) -> Scripted {
    serve_many_on(TcpListener::bind("127.0.0.1:0").expect("bind"), n, script)
}

/// [`serve_many`] on a listener of the caller's (e.g. [`small_window`]).
pub fn serve_many_on(
    listener: TcpListener,
    n: usize,
    script: impl Fn(Peer) + Send + Sync + 'static,
) -> Scripted {
    let addr = listener.local_addr().expect("local address");
    let script = Arc::new(script);
    let thread = thread::spawn(move || {
        let peers: Vec<_> = (0..n)
            .map(|_| {
                let peer = accept(&listener);
                let script = Arc::clone(&script);
                thread::spawn(move || script(peer))
            })
            .collect();
        let mut first = None;
        for peer in peers {
            if let Err(panic) = peer.join() {
                first.get_or_insert(panic);
            }
        }
        if let Some(panic) = first {
            std::panic::resume_unwind(panic);
        }
    });
    Scripted {
        addr,
        thread: Some(thread),
    }
}

/// A loopback listener whose connections have a receive buffer of `bytes` (set before
/// `listen`, so the window announced is small from the first segment): a client's writes
/// back up soon once the peer stops reading.
pub fn small_window(bytes: usize) -> TcpListener {
    let listener =
        socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).expect("socket");
    listener.set_recv_buffer_size(bytes).expect("SO_RCVBUF");
    let any: SocketAddr = "127.0.0.1:0".parse().expect("address");
    listener.bind(&any.into()).expect("bind");
    listener.listen(16).expect("listen");
    listener.into()
}

/// A loopback listener whose accept queue is full: the kernel drops further SYNs, so a
/// connect hangs until its timeout — or until [`serve_after_draining`] makes room.
///
/// [`serve_after_draining`]: FullBacklog::serve_after_draining
#[derive(Debug)]
pub struct FullBacklog {
    listener: socket2::Socket,
    addr: SocketAddr,
    /// The connections that fill the queue.
    fillers: Vec<TcpStream>,
}

impl FullBacklog {
    /// A listener with a zero backlog, filled (checked: a connect to it timed out).
    pub fn new() -> FullBacklog {
        let listener = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None)
            .expect("socket");
        let any: SocketAddr = "127.0.0.1:0".parse().expect("address");
        listener.bind(&any.into()).expect("bind");
        listener.listen(0).expect("listen");
        let addr = listener
            .local_addr()
            .expect("local address")
            .as_socket()
            .expect("an IP address");
        let mut fillers = Vec::new();
        while fillers.len() < 16 {
            match TcpStream::connect_timeout(&addr, Duration::from_millis(150)) {
                Ok(s) => fillers.push(s),
                Err(e) if e.kind() == ErrorKind::TimedOut => break,
                Err(e) => panic!("{e}"),
            }
        }
        assert!(fillers.len() < 16, "the accept queue never filled");
        FullBacklog {
            listener,
            addr,
            fillers,
        }
    }

    /// The address that does not answer.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Accepts the fillers, making room: a client's SYN, dropped so far, is retransmitted
    /// (after a second on Linux) and accepted; plays `script` on that connection.
    pub fn serve_after_draining(self, script: impl FnOnce(Peer) + Send + 'static) -> Scripted {
        let FullBacklog {
            listener,
            addr,
            fillers,
        } = self;
        let listener = TcpListener::from(listener);
        let thread = thread::spawn(move || {
            let drained: Vec<_> = fillers
                .iter()
                .map(|_| listener.accept().expect("accept a filler"))
                .collect();
            script(accept(&listener));
            drop((drained, fillers));
        });
        Scripted {
            addr,
            thread: Some(thread),
        }
    }
}

impl Default for FullBacklog {
    fn default() -> FullBacklog {
        FullBacklog::new()
    }
}
