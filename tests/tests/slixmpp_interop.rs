//! Interop with an independent client: Debian's python3-slixmpp runs an echo bot
//! (tests/slixmpp/echo_bot.py) on the same test server; our client sends it 1,000
//! messages over the XMPP 1.0 path (STARTTLS with the run's test CA, SASL SCRAM,
//! resource binding) and must get all 1,000 back, each once and unchanged. On ejabberd
//! and on prosody. The bot also logs in over STARTTLS, trusting only the test CA.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use jabber_net::{Options, Tls};
use jabber_proto::client::{Config, Event, StanzaEvent};
use jabber_proto::jid::Jid;
use jabber_proto::negotiation::auth::{AuthMethod, Credentials};
use jabber_proto::negotiation::sasl::Mechanism;
use jabber_proto::stanza::{Message, MessageType};
use jabber_std::{Connection, Next};
use jabber_tests::{Server, ServerKind, TestCa};

const COUNT: usize = 1000;
/// Messages in flight at most: the echoes are read while more go out.
const WINDOW: usize = 200;

/// A Python with slixmpp: Debian's (scripts/install-servers installs python3-slixmpp),
/// or the first `python3` on the PATH that has it.
fn python() -> String {
    for candidate in ["/usr/bin/python3", "python3"] {
        let ok = Command::new(candidate)
            .args(["-c", "import slixmpp"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if ok {
            return candidate.to_owned();
        }
    }
    panic!(
        "no python3 with slixmpp: run scripts/install-servers (apt-get install python3-slixmpp)"
    );
}

/// The bot's process, ended by PID (and by closing its stdin) on drop.
struct Bot {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: mpsc::Receiver<String>,
}

impl Bot {
    fn start(server: &Server, jid: &str, password: &str) -> Bot {
        let ca = server.dir().join("slixmpp-ca.pem");
        std::fs::write(&ca, TestCa::get().ca_pem()).expect("the CA file");
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/slixmpp/echo_bot.py");
        let port = server.addr().port().to_string();
        let mut child = Command::new(python())
            .arg(script)
            .args(["--jid", jid, "--password", password, "--host", "127.0.0.1"])
            .args(["--port", &port, "--ca"])
            .arg(&ca)
            .args(["--lifetime", "90"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("the bot starts");
        let stdout = child.stdout.take().expect("piped");
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Bot {
            stdin: child.stdin.take(),
            child,
            lines,
        }
    }

    /// Waits for the bot's `READY <mechanism>` line and returns the mechanism.
    fn ready(&self, kind: ServerKind) -> String {
        let line = self
            .lines
            .recv_timeout(Duration::from_secs(20))
            .unwrap_or_else(|e| panic!("{kind}: the slixmpp bot did not log in: {e}"));
        line.strip_prefix("READY ")
            .unwrap_or_else(|| panic!("{kind}: the bot said {line:?}"))
            .to_owned()
    }
}

impl Drop for Bot {
    fn drop(&mut self) {
        drop(self.stdin.take());
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
}

fn test_tls() -> Tls {
    let mut tls = Tls::default().trust(TestCa::get().ca_der().to_vec());
    tls.no_builtin_roots = true;
    tls
}

fn echo_thousand(kind: ServerKind) {
    let server = Server::start(kind).expect("the server starts");
    server
        .register("echo", "Echo-bot-1")
        .expect("the bot's account");
    server.register("talker", "Talker-1").expect("our account");
    let bot = Bot::start(&server, "echo@localhost", "Echo-bot-1");
    let bot_mechanism = bot.ready(kind);

    let mut config = Config::new(server.domain(), jabber_net::fresh_seed());
    config.version = Some("1.0".into());
    let mut conn = Connection::connect_with(server.addr(), config, Options::starttls(test_tls()))
        .expect("connected");
    conn.login(Credentials::new("talker", "Talker-1", "interop"))
        .unwrap_or_else(|e| panic!("{kind}: login: {e}"));
    let method = conn.client().login_method();
    println!("{kind}: we logged in with {method:?}, slixmpp with {bot_mechanism}");
    assert!(
        matches!(method, Some(AuthMethod::Sasl(Mechanism::Scram { .. }))),
        "{kind}: {method:?}"
    );
    assert!(conn.is_tls() || conn.client().config().transport_encrypted);

    let bot_jid: Jid = "echo@localhost".parse().expect("a JID");
    let mut sent = 0;
    let mut back = BTreeSet::new();
    let mut duplicates = 0;
    let deadline = Instant::now() + Duration::from_secs(45);
    while back.len() < COUNT {
        while sent < COUNT && sent - back.len() < WINDOW {
            let body = format!("echo {sent}");
            conn.send(Message::new(MessageType::Chat, &bot_jid, &body).expect("a message"))
                .expect("sent");
            sent += 1;
        }
        let left = deadline.saturating_duration_since(Instant::now());
        match conn.next_event_timeout(left).expect("no transport error") {
            Next::Event(Event::Stanza(StanzaEvent::Message(m))) => {
                let from_bot = m.from().is_some_and(|f| f.bare() == bot_jid);
                let n = m
                    .body()
                    .as_deref()
                    .and_then(|b| b.strip_prefix("echo ")?.parse().ok());
                if let (true, Some(n)) = (from_bot, n) {
                    let n: usize = n;
                    assert!(n < sent, "{kind}: an echo of {n} before it was sent");
                    if !back.insert(n) {
                        duplicates += 1;
                    }
                }
            }
            Next::Event(_) => {}
            other => panic!(
                "{kind}: {} of {COUNT} echoes back, then {other:?}",
                back.len()
            ),
        }
    }
    assert_eq!(duplicates, 0, "{kind}: echoes came twice");
    assert_eq!(back.len(), COUNT);
    println!("{kind}: {COUNT} messages echoed by slixmpp, no duplicates");
    conn.close().expect("closed");
    drop(bot);
}

#[test]
fn slixmpp_echoes_a_thousand_messages_on_ejabberd() {
    echo_thousand(ServerKind::Ejabberd);
}

#[test]
fn slixmpp_echoes_a_thousand_messages_on_prosody() {
    echo_thousand(ServerKind::Prosody);
}
