//! The `jabber` binary as a process against real servers (ejabberd and prosody on
//! loopback, tests/src/servers.rs): every command, its exit status, its `--json` lines,
//! and its one-line errors. Each scenario runs on both servers (`ejabberd::send_and_listen`,
//! `prosody::send_and_listen`); one server of each kind serves every scenario, each
//! scenario with accounts of its own. The servers' watchdogs stop them by PID when the
//! test process ends.

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, ExitStatus, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::sync::{Arc, Mutex, OnceLock};
use std::thread;
use std::time::{Duration, Instant};

use jabber_tests::{Server, ServerKind, TestCa, free_port};
use serde_json::Value;

/// Every account's password.
const PASSWORD: &str = "Cli-secret-7";
/// How long one command may take (a login is well under a second).
const COMMAND_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a background command may take to get ready or to print a line.
const WAIT: Duration = Duration::from_secs(20);

/// A running server and the test CA as a file for `--ca`.
struct Fixture {
    server: Server,
    ca: PathBuf,
}

/// The server of `kind` every scenario shares, started on first use.
fn fixture(kind: ServerKind) -> &'static Fixture {
    static EJABBERD: OnceLock<Fixture> = OnceLock::new();
    static PROSODY: OnceLock<Fixture> = OnceLock::new();
    let cell = match kind {
        ServerKind::Ejabberd => &EJABBERD,
        ServerKind::Prosody => &PROSODY,
    };
    cell.get_or_init(|| {
        // With HTTP upload (ejabberd's mod_http_upload, prosody's mod_http_file_share).
        let server = Server::start_with_upload(kind).unwrap_or_else(|e| panic!("{kind:?}: {e}"));
        let ca = server.dir().join("cli-test-ca.pem");
        std::fs::write(&ca, TestCa::get().ca_pem()).expect("write the CA file");
        Fixture { server, ca }
    })
}

impl Fixture {
    /// A fresh account (`prefix` and a number), created out of band.
    fn account(&self, prefix: &str) -> String {
        static N: AtomicU32 = AtomicU32::new(0);
        let user = format!("{prefix}{}", N.fetch_add(1, Ordering::Relaxed));
        self.server
            .register(&user, PASSWORD)
            .unwrap_or_else(|e| panic!("account {user}: {e}"));
        user
    }

    /// `jabber` logging in as `user` over STARTTLS on the plain port, trusting the test
    /// CA; nothing from the environment, no standard input.
    fn jabber(&self, user: &str) -> Command {
        self.jabber_at(user, self.server.addr().port())
    }

    /// [`jabber`](Self::jabber) connecting to `port`.
    fn jabber_at(&self, user: &str, port: u16) -> Command {
        let mut c = self.bare_jabber_at(port);
        let jid = format!("{user}@localhost");
        c.args(["--jid", &jid, "--password", PASSWORD]);
        c
    }

    /// `jabber` with the server and CA options only.
    fn bare_jabber(&self) -> Command {
        self.bare_jabber_at(self.server.addr().port())
    }

    /// [`bare_jabber`](Self::bare_jabber) connecting to `port`.
    fn bare_jabber_at(&self, port: u16) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_jabber"));
        for var in [
            "JABBER_PASSWORD",
            "JABBER_JID",
            "JABBER_NEW_PASSWORD",
            "JABBER_SERVER",
            "JABBER_PORT",
            "JABBER_CA",
        ] {
            c.env_remove(var);
        }
        c.args(["--server", "127.0.0.1", "--port"])
            .arg(port.to_string())
            .arg("--ca")
            .arg(&self.ca)
            .stdin(Stdio::null());
        c
    }
}

/// `user`'s bare address.
fn bare(user: &str) -> String {
    format!("{user}@localhost")
}

/// Runs `command` to its end (at most [`COMMAND_TIMEOUT`]).
fn run(command: &mut Command) -> Output {
    assert_cmd::Command::from_std(std::mem::replace(command, Command::new("true")))
        .timeout(COMMAND_TIMEOUT)
        .output()
        .expect("the command runs")
}

/// Runs `command` and asserts it succeeded; its standard output.
fn ok(command: &mut Command) -> String {
    let what = format!("{command:?}");
    let out = run(command);
    assert!(
        out.status.success(),
        "{what}: {:?}\nstdout: {}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8 output")
}

/// Runs `command` and asserts it failed with status 1 and exactly one line on standard
/// error, which it returns.
fn fails(command: &mut Command) -> String {
    let what = format!("{command:?}");
    let out = run(command);
    let stderr = String::from_utf8(out.stderr).expect("UTF-8 errors");
    assert_eq!(out.status.code(), Some(1), "{what}: {stderr}");
    assert_eq!(stderr.lines().count(), 1, "{what}: one line: {stderr:?}");
    assert!(
        stderr.starts_with("jabber: ") && stderr.ends_with('\n'),
        "{stderr:?}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    stderr
}

/// The JSON objects of `--json` output, one per line.
fn json_lines(stdout: &str) -> Vec<Value> {
    stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l:?}: {e}")))
        .collect()
}

/// A command running in the background with `-v`, its output read by threads.
struct Background {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: Receiver<String>,
    ready: Receiver<()>,
    stderr: Arc<Mutex<String>>,
}

impl Background {
    /// Starts `command` (with `-v` added), standard input a pipe.
    fn start(command: &mut Command) -> Background {
        let mut child = command
            .arg("-v")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn jabber");
        let stdin = child.stdin.take();
        let (line_tx, lines) = channel();
        let stdout = child.stdout.take().expect("stdout");
        thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = line_tx.send(line);
            }
        });
        let (ready_tx, ready) = channel();
        let stderr_text = Arc::new(Mutex::new(String::new()));
        let sink = stderr_text.clone();
        let stderr = child.stderr.take().expect("stderr");
        thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                // The server's echo of our initial presence: the session is available,
                // so messages to the bare address reach it.
                if line.starts_with("<- <presence") {
                    let _ = ready_tx.send(());
                }
                let mut s = sink.lock().unwrap_or_else(|e| e.into_inner());
                s.push_str(&line);
                s.push('\n');
            }
        });
        Background {
            child,
            stdin,
            lines,
            ready,
            stderr: stderr_text,
        }
    }

    fn stderr(&self) -> String {
        self.stderr
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Waits until the session is available.
    fn wait_ready(&self) {
        if self.ready.recv_timeout(WAIT).is_err() {
            panic!("not ready; stderr:\n{}", self.stderr());
        }
    }

    /// The next line of standard output.
    fn line(&self) -> String {
        match self.lines.recv_timeout(WAIT) {
            Ok(line) => line,
            Err(RecvTimeoutError::Timeout) => panic!("no line; stderr:\n{}", self.stderr()),
            Err(RecvTimeoutError::Disconnected) => {
                panic!("output ended; stderr:\n{}", self.stderr())
            }
        }
    }

    /// Types `text` on its standard input.
    fn type_in(&mut self, text: &str) {
        let stdin = self.stdin.as_mut().expect("stdin open");
        stdin.write_all(text.as_bytes()).expect("write stdin");
        stdin.flush().expect("flush stdin");
    }

    /// Closes standard input and waits for the exit; the status and the rest of the
    /// output.
    fn finish(mut self) -> (ExitStatus, Vec<String>) {
        drop(self.stdin.take());
        let deadline = Instant::now() + WAIT;
        let status = loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                break status;
            }
            assert!(
                Instant::now() < deadline,
                "no exit; stderr:\n{}",
                self.stderr()
            );
            thread::sleep(Duration::from_millis(20));
        };
        let rest = self.lines.iter().collect();
        (status, rest)
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        // Only our own child, by its handle.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

// ---- scenarios ----

/// bob listens; alice sends; bob prints the message as JSON and exits 0 after one.
fn send_and_listen(f: &Fixture) {
    let alice = f.account("alice");
    let bob = f.account("bob");
    let listener = Background::start(f.jabber(&bob).args([
        "--json",
        "listen",
        "--count",
        "1",
        "--timeout",
        "20",
    ]));
    listener.wait_ready();
    ok(f.jabber(&alice).args([
        "send",
        &bare(&bob),
        "hello from the shell",
        "--subject",
        "greeting",
    ]));
    let (status, lines) = listener.finish();
    assert_eq!(status.code(), Some(0));
    let items = json_lines(&lines.join("\n"));
    assert_eq!(items.len(), 1, "{items:?}");
    let m = &items[0];
    assert_eq!(m["kind"], "message");
    assert_eq!(m["type"], "chat");
    assert_eq!(m["body"], "hello from the shell");
    assert_eq!(m["subject"], "greeting");
    let from = m["from"].as_str().expect("from");
    assert!(from.starts_with(&format!("{}/", bare(&alice))), "{from}");

    // Text output, a headline.
    let listener = Background::start(f.jabber(&bob).args(["listen", "--count", "1"]));
    listener.wait_ready();
    let out =
        ok(f.jabber(&alice)
            .args(["--json", "send", &bare(&bob), "news", "--type", "headline"]));
    assert_eq!(json_lines(&out)[0]["kind"], "sent");
    let line = listener.line();
    assert!(
        line.starts_with(&bare(&alice)) && line.ends_with("(headline): news"),
        "{line}"
    );
    assert_eq!(listener.finish().0.code(), Some(0));
}

/// Nothing arrives: exit 2 after the timeout, nothing printed.
fn listen_timeout(f: &Fixture) {
    let carol = f.account("carol");
    let started = Instant::now();
    let out = run(f.jabber(&carol).args(["listen", "--timeout", "1"]));
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(out.stdout.is_empty() && out.stderr.is_empty(), "{out:?}");
    assert!(started.elapsed() >= Duration::from_secs(1));
}

/// roster add (name, groups), list (text and JSON), remove.
fn roster(f: &Fixture) {
    let alice = f.account("ralice");
    let bob = f.account("rbob");
    assert_eq!(ok(f.jabber(&alice).args(["roster"])), "");
    ok(f.jabber(&alice).args([
        "roster",
        "add",
        &bare(&bob),
        "--name",
        "Bob",
        "--group",
        "Friends",
        "--group",
        "Work",
    ]));
    let text = ok(f.jabber(&alice).args(["roster", "list"]));
    assert_eq!(text, format!("{}\tBob\tnone\tFriends,Work\n", bare(&bob)));
    let items = json_lines(&ok(f.jabber(&alice).args(["--json", "roster"])));
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["kind"], "contact");
    assert_eq!(items[0]["jid"], bare(&bob));
    assert_eq!(items[0]["name"], "Bob");
    assert_eq!(items[0]["subscription"], "none");
    let mut groups: Vec<&str> = items[0]["groups"]
        .as_array()
        .expect("groups")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    groups.sort_unstable();
    assert_eq!(groups, ["Friends", "Work"]);
    let out = ok(f
        .jabber(&alice)
        .args(["--json", "roster", "remove", &bare(&bob)]));
    assert_eq!(json_lines(&out)[0]["kind"], "removed");
    assert_eq!(ok(f.jabber(&alice).args(["roster", "list"])), "");
}

/// alice asks, bob sees the request when he listens, approves; alice's roster shows it.
fn subscribe_and_approve(f: &Fixture) {
    let alice = f.account("salice");
    let bob = f.account("sbob");
    ok(f.jabber(&alice).args(["subscribe", &bare(&bob)]));
    let out = ok(f
        .jabber(&bob)
        .args(["--json", "listen", "--count", "1", "--timeout", "20"]));
    let items = json_lines(&out);
    assert_eq!(items[0]["kind"], "subscription", "{items:?}");
    assert_eq!(items[0]["type"], "subscribe");
    assert_eq!(items[0]["from"], bare(&alice));
    ok(f.jabber(&bob).args(["approve", &bare(&alice)]));
    let items = json_lines(&ok(f.jabber(&alice).args(["--json", "roster"])));
    assert_eq!(items.len(), 1, "{items:?}");
    assert_eq!(items[0]["jid"], bare(&bob));
    assert_eq!(items[0]["subscription"], "to");
}

/// alice blocks bob: his message does not reach her; unblocked, it does.
fn block_and_unblock(f: &Fixture) {
    let alice = f.account("balice");
    let bob = f.account("bbob");
    let out = ok(f.jabber(&alice).args(["--json", "block", &bare(&bob)]));
    assert_eq!(json_lines(&out)[0]["kind"], "blocked");
    let listener =
        Background::start(
            f.jabber(&alice)
                .args(["listen", "--count", "1", "--timeout", "2"]),
        );
    listener.wait_ready();
    ok(f.jabber(&bob).args(["send", &bare(&alice), "blocked?"]));
    let (status, lines) = listener.finish();
    assert_eq!(status.code(), Some(2), "{lines:?}");

    let out = ok(f.jabber(&alice).args(["--json", "unblock", &bare(&bob)]));
    assert_eq!(json_lines(&out)[0]["kind"], "unblocked");
    let listener =
        Background::start(
            f.jabber(&alice)
                .args(["listen", "--count", "1", "--timeout", "20"]),
        );
    listener.wait_ready();
    ok(f.jabber(&bob).args(["send", &bare(&alice), "through"]));
    assert!(listener.line().ends_with(": through"));
    assert_eq!(listener.finish().0.code(), Some(0));
}

/// register (with --field), passwd, unregister; the old password and the removed
/// account are refused afterwards.
fn account_lifecycle(f: &Fixture) {
    static N: AtomicU32 = AtomicU32::new(0);
    let user = format!("newcomer{}", N.fetch_add(1, Ordering::Relaxed));
    // The form's fields from --field: no prompt, no --password needed.
    let out = ok(f.bare_jabber().args([
        "--json",
        "--jid",
        &bare(&user),
        "register",
        "--field",
        &format!("username={user}"),
        "--field",
        "password=first-pw",
    ]));
    let records = json_lines(&out);
    let last = records.last().expect("records");
    assert_eq!(last["kind"], "registered");
    assert_eq!(last["jid"], bare(&user));
    assert!(
        records[..records.len() - 1]
            .iter()
            .all(|r| r["kind"] == "instructions" && r["text"].is_string()),
        "{records:?}"
    );
    // Taken now.
    let e = fails(
        f.bare_jabber()
            .args(["--jid", &bare(&user), "--password", "other", "register"]),
    );
    assert!(e.contains("taken"), "{e}");

    let login = |pw: &str| {
        let mut c = f.bare_jabber();
        c.args(["--jid", &bare(&user), "--password", pw]);
        c
    };
    ok(login("first-pw").args(["ping"]));
    ok(login("first-pw").args(["passwd", "--new-password", "second-pw"]));
    let e = fails(login("first-pw").args(["ping"]));
    assert_eq!(
        e,
        "jabber: login failed: wrong password or unknown account\n"
    );
    let out = ok(login("second-pw").args(["--json", "unregister"]));
    assert_eq!(json_lines(&out)[0]["kind"], "unregistered");
    let e = fails(login("second-pw").args(["ping"]));
    assert_eq!(
        e,
        "jabber: login failed: wrong password or unknown account\n"
    );
}

/// ping (text and JSON), disco of the server, an (empty) vCard.
fn ping_disco_vcard(f: &Fixture) {
    let dave = f.account("dave");
    let out = ok(f.jabber(&dave).args(["ping"]));
    assert!(
        out.starts_with("pong from localhost: ") && out.ends_with(" ms\n"),
        "{out}"
    );
    let pong = &json_lines(&ok(f.jabber(&dave).args(["--json", "ping", "localhost"])))[0];
    assert_eq!(pong["kind"], "pong");
    assert_eq!(pong["from"], "localhost");
    assert!(pong["ms"].as_f64().is_some_and(|ms| ms >= 0.0));

    let disco = &json_lines(&ok(f.jabber(&dave).args(["--json", "disco"])))[0];
    assert_eq!(disco["kind"], "disco");
    assert_eq!(disco["jid"], "localhost");
    let features = disco["features"].as_array().expect("features");
    assert!(features.iter().any(|v| v == "urn:xmpp:ping"), "{disco}");
    let identities = disco["identities"].as_array().expect("identities");
    assert!(
        identities.iter().any(|i| i["category"] == "server"),
        "{disco}"
    );
    let text = ok(f.jabber(&dave).args(["disco"]));
    assert!(
        text.lines().any(|l| l == "feature\turn:xmpp:ping"),
        "{text}"
    );

    let card = &json_lines(&ok(f.jabber(&dave).args(["--json", "vcard"])))[0];
    assert_eq!(card["kind"], "vcard");
    assert_eq!(card["jid"], bare(&dave));
    let text = ok(f.jabber(&dave).args(["vcard", &bare(&dave)]));
    assert!(text.starts_with(&format!("JID: {}", bare(&dave))), "{text}");
}

/// `chat` driven through standard input: lines typed go out, a line from the peer is
/// printed, the end of input logs out with status 0.
fn chat(f: &Fixture) {
    let alice = f.account("calice");
    let bob = f.account("cbob");
    let bobs_ear = Background::start(f.jabber(&bob).args([
        "--json",
        "listen",
        "--count",
        "2",
        "--timeout",
        "20",
    ]));
    bobs_ear.wait_ready();
    let mut chat = Background::start(f.jabber(&alice).args(["chat", &bare(&bob)]));
    chat.wait_ready();
    chat.type_in("first line\n\nsecond line\n");
    let heard: Vec<Value> = (0..2)
        .map(|_| serde_json::from_str(&bobs_ear.line()).expect("JSON"))
        .collect();
    assert_eq!(heard[0]["body"], "first line");
    assert_eq!(heard[1]["body"], "second line");
    assert_eq!(bobs_ear.finish().0.code(), Some(0));
    ok(f.jabber(&bob).args(["send", &bare(&alice), "hi alice"]));
    let line = chat.line();
    assert!(
        line.starts_with(&bare(&bob)) && line.ends_with(": hi alice"),
        "{line}"
    );
    let (status, rest) = chat.finish();
    assert_eq!(status.code(), Some(0), "{rest:?}");
}

/// `join`: two accounts in a room through standard input; a message, `/me`, a nick
/// change; the end of input leaves.
fn join(f: &Fixture) {
    static N: AtomicU32 = AtomicU32::new(0);
    let room = format!(
        "cliroom{}@conference.localhost",
        N.fetch_add(1, Ordering::Relaxed)
    );
    let alice = f.account("jalice");
    let bob = f.account("jbob");
    let mut alice_in =
        Background::start(
            f.jabber(&alice)
                .args(["--json", "join", &format!("{room}/alice")]),
        );
    // The room's roster (ourselves included), then our own arrival.
    let joined = loop {
        let e: Value = serde_json::from_str(&alice_in.line()).expect("JSON");
        if e["kind"] != "occupant" {
            break e;
        }
    };
    assert_eq!(joined["kind"], "joined", "{joined}");
    assert_eq!(joined["room"], room.as_str());
    assert_eq!(joined["nick"], "alice");
    let mut bob_in = Background::start(f.jabber(&bob).args(["join", &format!("{room}/bob")]));
    // bob sees alice there, then himself in.
    let mut seen = Vec::new();
    while !seen.iter().any(|l: &String| l.starts_with("* you are in")) {
        seen.push(bob_in.line());
    }
    assert!(seen.contains(&"* alice is here".to_owned()), "{seen:?}");
    bob_in.type_in("hello room\n/me waves\n/nick robert\n");
    // alice: bob arrives, speaks, acts, changes his nickname.
    let mut events = Vec::new();
    while !events.iter().any(|e: &Value| e["kind"] == "nick") {
        let e: Value = serde_json::from_str(&alice_in.line()).expect("JSON");
        events.push(e);
    }
    let find = |kind: &'static str| events.iter().filter(move |e| e["kind"] == kind);
    assert!(
        find("occupant").any(|e| e["nick"] == "bob" && e["type"] == "joined"),
        "{events:?}"
    );
    let said: Vec<&Value> = find("groupchat").collect();
    assert_eq!(said.len(), 2, "{events:?}");
    assert_eq!(said[0]["nick"], "bob");
    assert_eq!(said[0]["body"], "hello room");
    assert_eq!(said[1]["body"], "/me waves");
    let nick = find("nick").next().expect("nick");
    assert_eq!(
        (&nick["old"], &nick["new"]),
        (&"bob".into(), &"robert".into())
    );
    // Text form of the same: bob's own view of his action.
    let mut bob_lines = Vec::new();
    while !bob_lines
        .iter()
        .any(|l: &String| l.starts_with("* bob is now"))
    {
        bob_lines.push(bob_in.line());
    }
    assert!(
        bob_lines.contains(&"<bob> hello room".to_owned()),
        "{bob_lines:?}"
    );
    assert!(
        bob_lines.contains(&"* bob waves".to_owned()),
        "{bob_lines:?}"
    );
    assert_eq!(bob_in.finish().0.code(), Some(0));
    let left: Value = serde_json::from_str(&alice_in.line()).expect("JSON");
    assert_eq!(
        (&left["kind"], &left["type"], &left["nick"]),
        (&"occupant".into(), &"left".into(), &"robert".into())
    );
    alice_in.type_in("");
    assert_eq!(alice_in.finish().0.code(), Some(0));
}

/// A room's owner (through the library) invites: `listen` prints it; kicks: `join`
/// ends with one line and status 1, no rejoin.
fn join_kicked(f: &Fixture) {
    use jabber_tokio::jabber_proto::features::conference::{ConferenceEvent, JoinOptions};
    use jabber_tokio::jabber_proto::stanza::IqType;
    use jabber_tokio::{
        Config, Connection, Credentials, Element, Event, IqEvent, Jid, Options, Tls,
    };

    static N: AtomicU32 = AtomicU32::new(0);
    let room = format!(
        "clikick{}@conference.localhost",
        N.fetch_add(1, Ordering::Relaxed)
    );
    let owner = f.account("kowner");
    let bob = f.account("kbob");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let room_jid = Jid::parse(&room).expect("room");
    // The owner, through the library: creates the room.
    let mut conn = rt.block_on(async {
        let tls = Tls::default().trust(TestCa::get().ca_der().to_vec());
        let config = Config::new("localhost", jabber_tokio::fresh_seed());
        let mut conn = Connection::connect_with(f.server.addr(), config, Options::starttls(tls))
            .await
            .expect("connect");
        conn.login(Credentials::new(&owner, PASSWORD, "owner"))
            .await
            .expect("login");
        conn.with_client(|c, now| c.join_room(now, &room_jid, "owner", JoinOptions::default()))
            .expect("alive")
            .expect("join");
        next_where(&mut conn, |e| {
            matches!(e, Event::Conference(ConferenceEvent::Joined { .. }))
        })
        .await;
        conn
    });
    // `listen` prints an invitation through the room.
    let carol = f.account("kcarol");
    let carols_ear = Background::start(f.jabber(&carol).args(["--json", "listen", "--count", "1"]));
    carols_ear.wait_ready();
    let carol_jid = Jid::parse(&bare(&carol)).expect("carol");
    conn.with_client(|c, now| c.invite(now, &room_jid, &carol_jid, Some("come in")))
        .expect("alive")
        .expect("invite");
    let invited: Value = serde_json::from_str(&carols_ear.line()).expect("JSON");
    assert_eq!(
        (
            &invited["kind"],
            &invited["room"],
            &invited["type"],
            &invited["reason"]
        ),
        (
            &"invitation".into(),
            &room.as_str().into(),
            &"mediated".into(),
            &"come in".into()
        ),
        "{invited}"
    );
    assert_eq!(carols_ear.finish().0.code(), Some(0));

    let bob_in = Background::start(f.jabber(&bob).args(["join", &format!("{room}/bob")]));
    while !bob_in.line().starts_with("* you are in") {}
    rt.block_on(async {
        let kick = Element::builder("query", "http://jabber.org/protocol/muc#admin")
            .child(
                Element::builder("item", "http://jabber.org/protocol/muc#admin")
                    .attr("nick", "bob")
                    .attr("role", "none"),
            )
            .build()
            .expect("kick");
        let id = conn
            .with_client(|c, now| c.send_iq(now, Some(&room_jid), IqType::Set, kick))
            .expect("alive")
            .expect("kick sent");
        next_where(
            &mut conn,
            |e| matches!(e, Event::Iq(IqEvent::Result { id: got, .. }) if *got == id),
        )
        .await;
    });
    let deadline = Instant::now() + WAIT;
    let mut bob_in = bob_in;
    let status = loop {
        if let Some(status) = bob_in.child.try_wait().expect("wait") {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "still in; stderr:\n{}",
            bob_in.stderr()
        );
        thread::sleep(Duration::from_millis(50));
    };
    bob_in.stdin.take();
    let stderr = bob_in.stderr();
    assert_eq!(status.code(), Some(1), "{stderr}");
    assert!(
        stderr
            .lines()
            .any(|l| l.starts_with("jabber: ") && l.contains("kicked")),
        "{stderr}"
    );
    rt.block_on(async {
        let _ = conn.close().await;
    });
}

/// The first event `pick` takes (panics after [`WAIT`]).
async fn next_where(
    conn: &mut jabber_tokio::Connection,
    pick: impl Fn(&jabber_tokio::Event) -> bool,
) {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        match tokio::time::timeout_at(deadline, conn.next_event()).await {
            Ok(Ok(Some(e))) if pick(&e) => return,
            Ok(Ok(Some(_))) => {}
            other => panic!("no such event: {other:?}"),
        }
    }
}

/// `sendfile` both ways — uploaded (its URL sent out of band) and served from here
/// (an iq:oob offer) — and `receive`: 5 MB arriving whole, byte for byte.
fn sendfile_and_receive(f: &Fixture) {
    let alice = f.account("falice");
    let bob = f.account("fbob");
    let dir = f.server.dir().join(format!("cli-files-{bob}"));
    let inbox = dir.join("inbox");
    std::fs::create_dir_all(&inbox).expect("folders");
    let file = dir.join("five.bin");
    let mut x: u32 = 0x9e37_79b9;
    let data: Vec<u8> = (0..5 * 1024 * 1024)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect();
    std::fs::write(&file, &data).expect("the file");

    let receiver = Background::start(
        f.jabber(&bob)
            .args([
                "--json",
                "receive",
                "--count",
                "2",
                "--timeout",
                "60",
                "--dir",
            ])
            .arg(&inbox),
    );
    let ready: Value = serde_json::from_str(&receiver.line()).expect("JSON");
    assert_eq!(ready["kind"], "ready");
    let bob_full = ready["jid"].as_str().expect("jid").to_owned();
    receiver.wait_ready();

    let out = ok(f
        .jabber(&alice)
        .args(["--json", "sendfile", &bare(&bob)])
        .arg(&file));
    let sent = &json_lines(&out)[0];
    assert_eq!(sent["kind"], "sent-file");
    assert_eq!(sent["bytes"], 5 * 1024 * 1024);
    let got: Value = serde_json::from_str(&receiver.line()).expect("JSON");
    assert_eq!(got["kind"], "received", "{got}");
    assert_eq!(got["url"], sent["url"]);
    let path = PathBuf::from(got["path"].as_str().expect("path"));
    assert!(path.starts_with(&inbox), "{path:?}");
    assert!(
        std::fs::read(&path).expect("received") == data,
        "the uploaded bytes"
    );

    let out = ok(f
        .jabber(&alice)
        .args([
            "--json",
            "sendfile",
            &bob_full,
            "--serve",
            "0.0.0.0:0",
            "--desc",
            "again",
        ])
        .arg(&file));
    let sent = &json_lines(&out)[0];
    // Not "http://0.0.0.0:...": the address the XMPP connection goes out from.
    assert!(
        sent["url"]
            .as_str()
            .is_some_and(|u| u.starts_with("http://127.0.0.1:")),
        "{sent}"
    );
    let got: Value = serde_json::from_str(&receiver.line()).expect("JSON");
    assert_eq!(got["kind"], "received", "{got}");
    assert_eq!(got["url"], sent["url"]);
    assert!(
        got["from"]
            .as_str()
            .is_some_and(|f| f.starts_with(&bare(&alice))),
        "{got}"
    );
    let second = PathBuf::from(got["path"].as_str().expect("path"));
    assert_ne!(second, path, "a new name beside the first");
    assert!(
        std::fs::read(&second).expect("received") == data,
        "the served bytes"
    );
    assert_eq!(receiver.finish().0.code(), Some(0));

    // Served to a bare address: refused before anything is offered.
    let e = fails(
        f.jabber(&alice)
            .args(["sendfile", &bare(&bob), "--serve", "127.0.0.1:0"])
            .arg(&file),
    );
    assert!(e.contains("full address"), "{e}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// `receive` keeps a link that arrives while it downloads another: two messages with
/// URLs sent at once, the first served slowly.
fn receive_queues_during_a_download(f: &Fixture) {
    use jabber_tokio::{Config, Connection, Credentials, Jid, Message, Options, Tls};

    let alice = f.account("qalice");
    let bob = f.account("qbob");
    // An HTTP server that answers each request a second late, so that the second link
    // arrives while the first is still downloading.
    let http = std::net::TcpListener::bind("127.0.0.1:0").expect("http port");
    let port = http.local_addr().expect("address").port();
    thread::spawn(move || {
        for stream in http.incoming().take(2) {
            let Ok(mut stream) = stream else { break };
            thread::spawn(move || {
                let mut head = Vec::new();
                let mut byte = [0u8; 1];
                while !head.ends_with(b"\r\n\r\n") {
                    match std::io::Read::read(&mut stream, &mut byte) {
                        Ok(1) => head.push(byte[0]),
                        _ => return,
                    }
                }
                thread::sleep(Duration::from_secs(1));
                let body = b"slow but sure\n";
                let _ = write!(
                    stream,
                    "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                let _ = stream.write_all(body);
            });
        }
    });
    let inbox = f.server.dir().join(format!("cli-queue-{bob}"));
    std::fs::create_dir_all(&inbox).expect("inbox");
    let receiver = Background::start(
        f.jabber(&bob)
            .args([
                "--json",
                "receive",
                "--count",
                "2",
                "--timeout",
                "20",
                "--dir",
            ])
            .arg(&inbox),
    );
    let ready: Value = serde_json::from_str(&receiver.line()).expect("JSON");
    assert_eq!(ready["kind"], "ready");
    receiver.wait_ready();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let tls = Tls::default().trust(TestCa::get().ca_der().to_vec());
        let config = Config::new("localhost", jabber_tokio::fresh_seed());
        let mut conn = Connection::connect_with(f.server.addr(), config, Options::starttls(tls))
            .await
            .expect("connect");
        conn.login(Credentials::new(&alice, PASSWORD, "q"))
            .await
            .expect("login");
        let to = Jid::parse(&bare(&bob)).expect("bob");
        for name in ["first.txt", "second.txt"] {
            let url = format!("http://127.0.0.1:{port}/{name}");
            let m = Message::chat(&to)
                .body(&url)
                .oob(&url, None)
                .build()
                .expect("message");
            conn.send(m).expect("sent");
        }
        let _ = conn.close().await;
    });
    let mut got = Vec::new();
    for _ in 0..2 {
        let line: Value = serde_json::from_str(&receiver.line()).expect("JSON");
        assert_eq!(line["kind"], "received", "{line}");
        got.push(line["url"].as_str().expect("url").to_owned());
    }
    assert!(
        got[0].ends_with("/first.txt") && got[1].ends_with("/second.txt"),
        "{got:?}"
    );
    assert_eq!(receiver.finish().0.code(), Some(0));
    let _ = std::fs::remove_dir_all(&inbox);
}

/// `receive --from`: a file from anyone else is not taken; from the sender named, it is.
fn receive_from(f: &Fixture) {
    let alice = f.account("ralice");
    let bob = f.account("rbob");
    let inbox = f.server.dir().join(format!("cli-from-{bob}"));
    std::fs::create_dir_all(&inbox).expect("inbox");
    let file = inbox.join("note.txt");
    std::fs::write(&file, b"for bob only\n").expect("the file");
    let inbox_dir = inbox.join("in");
    std::fs::create_dir_all(&inbox_dir).expect("inbox");
    for (from, expect) in [("someone@localhost", 2), (bare(&alice).as_str(), 0)] {
        let receiver = Background::start(
            f.jabber(&bob)
                .args([
                    "--json",
                    "receive",
                    "--from",
                    from,
                    "--timeout",
                    "5",
                    "--dir",
                ])
                .arg(&inbox_dir),
        );
        let ready: Value = serde_json::from_str(&receiver.line()).expect("JSON");
        assert_eq!(ready["kind"], "ready");
        receiver.wait_ready();
        ok(f.jabber(&alice).args(["sendfile", &bare(&bob)]).arg(&file));
        let (status, rest) = receiver.finish();
        assert_eq!(status.code(), Some(expect), "--from {from}: {rest:?}");
        let taken = std::fs::read_dir(&inbox_dir).expect("inbox").count();
        assert_eq!(taken, usize::from(expect == 0), "--from {from}");
    }
    let _ = std::fs::remove_dir_all(&inbox);
}

/// HTTPS transfers trust `--ca` whatever `--tls` says of the XMPP stream: an upload
/// from a classic, unencrypted login.
fn upload_with_tls_none(f: &Fixture) {
    let alice = f.account("halice");
    let bob = f.account("hbob");
    let file = f.server.dir().join(format!("cli-small-{alice}.txt"));
    std::fs::write(&file, b"small but whole\n").expect("the file");
    let out = ok(f
        .jabber(&alice)
        .args([
            "--legacy",
            "--tls",
            "none",
            "--auth",
            "plain",
            "--allow-plaintext",
            "--json",
            "sendfile",
            &bare(&bob),
        ])
        .arg(&file));
    let sent = &json_lines(&out)[0];
    assert_eq!(sent["kind"], "sent-file", "{sent}");
    assert!(
        sent["url"]
            .as_str()
            .is_some_and(|u| u.starts_with("https://")),
        "{sent}"
    );
    let _ = std::fs::remove_file(&file);
}

/// The errors: a wrong password, an unreachable server, an untrusted certificate,
/// plaintext refused; each one line, status 1.
fn errors(f: &Fixture) {
    let erin = f.account("erin");
    let e = fails(
        f.bare_jabber()
            .args(["--jid", &bare(&erin), "--password", "wrong", "ping"]),
    );
    assert_eq!(
        e,
        "jabber: login failed: wrong password or unknown account\n"
    );

    let port = free_port();
    let e = fails(f.jabber_at(&erin, port).args(["ping"]));
    assert_eq!(
        e,
        format!("jabber: cannot reach 127.0.0.1:{port}: connection refused\n")
    );

    // Without --ca: the test CA is not among the usual roots.
    let mut c = Command::new(env!("CARGO_BIN_EXE_jabber"));
    c.args([
        "--jid",
        &bare(&erin),
        "--password",
        PASSWORD,
        "--server",
        "127.0.0.1",
    ])
    .args(["--port", &f.server.addr().port().to_string(), "ping"])
    .env_remove("JABBER_PASSWORD")
    .env_remove("JABBER_CA")
    .stdin(Stdio::null());
    let e = fails(&mut c);
    assert!(e.contains("certificate is not trusted"), "{e}");

    // The classic login on plain TCP: the password would cross unencrypted (prosody
    // offers no digest), and an unencrypted 1.0 stream without STARTTLS is refused.
    let e = fails(
        f.jabber(&erin)
            .args(["--legacy", "--tls", "none", "--auth", "plain", "ping"]),
    );
    assert!(e.contains("--allow-plaintext"), "{e}");
    ok(f.jabber(&erin).args([
        "--legacy",
        "--tls",
        "none",
        "--auth",
        "plain",
        "--allow-plaintext",
        "ping",
    ]));

    // A classic login has no STARTTLS: with the default --tls it is refused, not
    // quietly unencrypted.
    for classic in [&["--legacy"][..], &["--auth", "digest"][..]] {
        let e = fails(f.jabber(&erin).args(classic).arg("ping"));
        assert!(e.contains("has no STARTTLS") && e.contains("--tls"), "{e}");
    }
    let e = fails(
        f.jabber(&erin)
            .args(["--legacy", "--tls", "none", "--auth", "scram", "ping"]),
    );
    assert!(e.contains("--auth scram"), "{e}");
    // STARTTLS stripped on the way (a downgrade): refused before the password goes.
    let strip = jabber_tests::strip_tls::StripTls::start(f.server.addr()).expect("proxy");
    let e = fails(f.jabber_at(&erin, strip.addr().port()).arg("ping"));
    assert!(
        e.contains("offers no STARTTLS") && e.contains("encryption is required"),
        "{e}"
    );
    // --tls none against a server that offers STARTTLS: a readable refusal.
    let e = fails(f.jabber(&erin).args(["--tls", "none", "ping"]));
    assert!(e.contains("--tls none") && !e.contains("Options::"), "{e}");

    // No password and no terminal.
    let e = fails(f.bare_jabber().args(["--jid", &bare(&erin), "ping"]));
    assert!(e.contains("JABBER_PASSWORD"), "{e}");
    // From the environment instead.
    ok(f.bare_jabber()
        .env("JABBER_PASSWORD", PASSWORD)
        .args(["--jid", &bare(&erin), "ping"]));
}

/// Direct TLS on the TLS port, and `-v`: the XML both ways, the password masked.
fn direct_tls_and_verbose(f: &Fixture) {
    let fred = f.account("fred");
    let out = run(f
        .jabber_at(&fred, f.server.tls_addr().port())
        .args(["--tls", "direct", "-v", "--auth", "plain", "ping"]));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("-> <auth") && stderr.contains("<- <success"),
        "{stderr}"
    );
    assert!(!stderr.contains(PASSWORD), "the password leaked:\n{stderr}");
    // PLAIN sends the password in base64: that must not show either.
    let plain = base64(format!("\0{fred}\0{PASSWORD}").as_bytes());
    assert!(
        !stderr.contains(&plain),
        "the PLAIN message leaked:\n{stderr}"
    );
    assert!(
        stderr
            .lines()
            .any(|l| l.starts_with("-> <auth") && l.contains(">***</auth>")),
        "{stderr}"
    );
    assert!(
        stderr
            .lines()
            .all(|l| l.starts_with("<- ") || l.starts_with("-> ") || l.starts_with("-- "))
    );

    // The classic login with the password in the clear: unmasked, it would be there
    // literally.
    let out = run(f.jabber(&fred).args([
        "--legacy",
        "--tls",
        "none",
        "--auth",
        "plain",
        "--allow-plaintext",
        "-v",
        "ping",
    ]));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(!stderr.contains(PASSWORD), "the password leaked:\n{stderr}");
    assert!(stderr.contains("<password>***</password>"), "{stderr}");

    // SCRAM only, and a resource of our choosing.
    let out = run(f.jabber(&fred).args(["--auth", "scram", "-v", "ping"]));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr
            .lines()
            .any(|l| l.starts_with("-> <auth") && l.contains("mechanism='SCRAM-")),
        "{stderr}"
    );
    let out = run(f.jabber(&fred).args([
        "--resource",
        "cli-desk",
        "--json",
        "receive",
        "--timeout",
        "0",
    ]));
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let ready = &json_lines(&String::from_utf8_lossy(&out.stdout))[0];
    assert_eq!(ready["jid"], format!("{}/cli-desk", bare(&fred)));
}

/// Standard base64 (RFC 4648) with padding, to look for an encoded secret.
fn base64(bytes: &[u8]) -> String {
    const ABC: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ABC[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// A TCP relay to the server whose connections can be cut, as if the server stopped.
struct Relay {
    port: u16,
    carried: Arc<Mutex<Vec<std::net::TcpStream>>>,
    stopped: Arc<std::sync::atomic::AtomicBool>,
}

impl Relay {
    fn to(target: std::net::SocketAddr) -> Relay {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("relay port");
        let port = listener.local_addr().expect("relay address").port();
        let carried = Arc::new(Mutex::new(Vec::new()));
        let stopped = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (sockets, gone) = (carried.clone(), stopped.clone());
        thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(client) = client else { break };
                if gone.load(Ordering::SeqCst) {
                    continue;
                }
                let Ok(server) = std::net::TcpStream::connect(target) else {
                    continue;
                };
                for (from, to) in [(&client, &server), (&server, &client)] {
                    if let (Ok(mut from), Ok(mut to)) = (from.try_clone(), to.try_clone()) {
                        thread::spawn(move || {
                            let _ = std::io::copy(&mut from, &mut to);
                            let _ = to.shutdown(std::net::Shutdown::Write);
                        });
                    }
                }
                let mut s = sockets.lock().unwrap_or_else(|e| e.into_inner());
                s.push(client);
                s.push(server);
            }
        });
        Relay {
            port,
            carried,
            stopped,
        }
    }

    /// Closes every connection and refuses new ones.
    fn stop(&self) {
        self.stopped.store(true, Ordering::SeqCst);
        let mut s = self.carried.lock().unwrap_or_else(|e| e.into_inner());
        for socket in s.drain(..) {
            let _ = socket.shutdown(std::net::Shutdown::Both);
        }
    }
}

/// `chat` whose server goes away while standard input stays open: one line, status 1,
/// promptly (the blocked read of standard input must not hold the exit).
fn chat_fails_with_stdin_open(f: &Fixture) {
    let gina = f.account("gina");
    let relay = Relay::to(f.server.addr());
    let mut chat = Background::start(f.jabber_at(&gina, relay.port).args(["chat", &bare(&gina)]));
    chat.wait_ready();
    relay.stop();
    let deadline = Instant::now() + Duration::from_secs(15);
    let status = loop {
        if let Some(status) = chat.child.try_wait().expect("wait") {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "no exit with standard input open; stderr:\n{}",
            chat.stderr()
        );
        thread::sleep(Duration::from_millis(50));
    };
    assert!(chat.stdin.is_some(), "standard input was kept open");
    assert_eq!(status.code(), Some(1), "{}", chat.stderr());
    let stderr = chat.stderr();
    let errors: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("jabber: "))
        .collect();
    assert_eq!(errors.len(), 1, "{stderr}");
}

/// `command` on a terminal of its own (util-linux `script` gives it a pseudo-terminal):
/// each answer is typed once its prompt has appeared (as a person would, so nothing is
/// typed before the terminal is set up); the exit status and everything it showed.
fn on_terminal(command: &Command, dialogue: &[(&str, &str)]) -> (Option<i32>, String) {
    let quote = |s: &std::ffi::OsStr| format!("'{}'", s.to_string_lossy().replace('\'', r"'\''"));
    let mut line = quote(command.get_program());
    for arg in command.get_args() {
        line.push(' ');
        line.push_str(&quote(arg));
    }
    let mut script = Command::new("script");
    script.args(["-q", "-e", "-c", &line, "/dev/null"]);
    for (key, value) in command.get_envs() {
        match value {
            Some(v) => script.env(key, v),
            None => script.env_remove(key),
        };
    }
    let mut child = script
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("script (util-linux) runs");
    let shown = Arc::new(Mutex::new(String::new()));
    let mut stdout = child.stdout.take().expect("piped");
    let reader = {
        let shown = Arc::clone(&shown);
        thread::spawn(move || {
            let mut buf = [0u8; 1024];
            while let Ok(n) = std::io::Read::read(&mut stdout, &mut buf) {
                if n == 0 {
                    break;
                }
                shown
                    .lock()
                    .expect("not poisoned")
                    .push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        })
    };
    let mut stdin = child.stdin.take().expect("piped");
    let deadline = Instant::now() + COMMAND_TIMEOUT;
    let mut seen = 0;
    for (prompt, answer) in dialogue {
        // The prompt's next appearance after what was already answered.
        loop {
            let text = shown.lock().expect("not poisoned").clone();
            if let Some(at) = text[seen..].find(prompt) {
                seen += at + prompt.len();
                break;
            }
            assert!(
                Instant::now() < deadline,
                "no prompt {prompt:?} on the terminal: {text:?}"
            );
            thread::sleep(Duration::from_millis(20));
        }
        stdin
            .write_all(format!("{answer}\n").as_bytes())
            .expect("typed");
    }
    // The terminal stays open until the command ends.
    let status = loop {
        if let Some(status) = child.try_wait().expect("waited") {
            break status;
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            panic!("still running: {:?}", shown.lock().expect("not poisoned"));
        }
        thread::sleep(Duration::from_millis(20));
    };
    drop(stdin);
    reader.join().expect("reader");
    let text = shown.lock().expect("not poisoned").clone();
    (status.code(), text)
}

/// `register` asks for what the server's form wants on a terminal (the password without
/// echo), and `passwd` asks for the new password twice; two different ones are refused.
fn account_on_a_terminal(f: &Fixture) {
    static N: AtomicU32 = AtomicU32::new(0);
    let user = format!("typist{}", N.fetch_add(1, Ordering::Relaxed));
    let mut register = f.bare_jabber();
    register.args(["--json", "--jid", &bare(&user), "register"]);
    let (code, shown) = on_terminal(&register, &[("Password for ", "typed-pw-1")]);
    assert_eq!(code, Some(0), "{shown}");
    assert!(shown.contains(r#""kind":"registered""#), "{shown}");

    let login = |pw: &str| {
        let mut c = f.bare_jabber();
        c.args(["--jid", &bare(&user), "--password", pw]);
        c
    };
    ok(login("typed-pw-1").args(["ping"]));

    let mut passwd = login("typed-pw-1");
    passwd.arg("passwd");
    let (code, shown) = on_terminal(
        &passwd,
        &[
            ("New password: ", "typed-pw-2"),
            ("New password again: ", "typed-pw-3"),
        ],
    );
    assert_eq!(code, Some(1), "{shown}");
    assert!(shown.contains("the two new passwords differ"), "{shown}");
    ok(login("typed-pw-1").args(["ping"]));

    let mut passwd = login("typed-pw-1");
    passwd.arg("passwd");
    let (code, shown) = on_terminal(
        &passwd,
        &[
            ("New password: ", "typed-pw-2"),
            ("New password again: ", "typed-pw-2"),
        ],
    );
    assert_eq!(code, Some(0), "{shown}");
    ok(login("typed-pw-2").args(["ping"]));
    let e = fails(login("typed-pw-1").args(["ping"]));
    assert_eq!(
        e,
        "jabber: login failed: wrong password or unknown account\n"
    );
}

macro_rules! on_both_servers {
    ($($scenario:ident),* $(,)?) => {
        mod ejabberd {
            $( #[test] fn $scenario() { super::$scenario(super::fixture(jabber_tests::ServerKind::Ejabberd)) } )*
        }
        mod prosody {
            $( #[test] fn $scenario() { super::$scenario(super::fixture(jabber_tests::ServerKind::Prosody)) } )*
        }
    };
}

on_both_servers!(
    send_and_listen,
    listen_timeout,
    roster,
    subscribe_and_approve,
    block_and_unblock,
    account_lifecycle,
    ping_disco_vcard,
    chat,
    join,
    sendfile_and_receive,
    errors,
    direct_tls_and_verbose,
    chat_fails_with_stdin_open,
    join_kicked,
    upload_with_tls_none,
    receive_queues_during_a_download,
    receive_from,
    account_on_a_terminal,
);

/// `--help` reads like a Unix tool's; a usage error is status 1.
#[test]
fn help_and_usage() {
    let out = run(Command::new(env!("CARGO_BIN_EXE_jabber")).arg("--help"));
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout);
    for needle in [
        "Usage: jabber [OPTIONS] <COMMAND>",
        "send",
        "listen",
        "--json",
        "Exit status",
    ] {
        assert!(help.contains(needle), "{needle}: {help}");
    }
    let out = run(Command::new(env!("CARGO_BIN_EXE_jabber")).args(["send", "--help"]));
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("--subject <S>"));
    let out = run(Command::new(env!("CARGO_BIN_EXE_jabber")).args(["send"]));
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("required"));
    // No command at all: the help, but as a usage error.
    let out = run(&mut Command::new(env!("CARGO_BIN_EXE_jabber")));
    assert_eq!(out.status.code(), Some(1));
    // No account.
    let mut c = Command::new(env!("CARGO_BIN_EXE_jabber"));
    c.env_remove("JABBER_JID").args(["ping"]);
    let e = fails(&mut c);
    assert!(e.contains("--jid"), "{e}");
}
