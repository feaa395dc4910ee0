//! The main demo: a throw-away local server, two accounts, one conversation.
//!
//! `cargo run -p jabber-tests --bin demo [-- ejabberd|prosody]` starts the server on
//! 127.0.0.1 (ejabberd by default), creates `alice` and `bob`, logs both in through
//! `jabber-std` — alice over direct TLS (the server's certificate comes from a CA made for
//! this run, and is checked), bob over plain TCP — has them exchange messages, prints the
//! conversation, logs out and stops the server (by PID, also on failure).

use std::process::ExitCode;
use std::time::{Duration, Instant};

use jabber_proto::negotiation::auth::Credentials;
use jabber_proto::stanza::{Message, MessageType};
use jabber_std::{Config, Connection, Event, Jid, Next, Options, StanzaEvent, Tls};
use jabber_tests::{Server, ServerKind, TestCa};

fn main() -> ExitCode {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    // `demo serve [ejabberd|prosody]`: keep the server for the `jabber` command.
    let serving = args.first().is_some_and(|a| a == "serve");
    if serving {
        args.remove(0);
    }
    let kind = match args.first().map(String::as_str) {
        None | Some("ejabberd") => ServerKind::Ejabberd,
        Some("prosody") => ServerKind::Prosody,
        Some(other) => {
            eprintln!("usage: demo [serve] [ejabberd|prosody] (not {other:?})");
            return ExitCode::from(2);
        }
    };
    let outcome = if serving { serve(kind) } else { run(kind) };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("demo failed: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(kind: ServerKind) -> Result<(), Box<dyn std::error::Error>> {
    let t = Instant::now();
    let server = Server::start(kind)?;
    println!(
        "== {} started on {} (pid {}) in {:.1} s",
        kind.name(),
        server.addr(),
        server.pid(),
        t.elapsed().as_secs_f64()
    );
    for user in ["alice", "bob"] {
        server.register(user, &format!("{user}-secret"))?;
    }
    println!("== accounts alice@{0} and bob@{0} created", server.domain());

    let mut alice = log_in(&server, "alice", true)?;
    let mut bob = log_in(&server, "bob", false)?;
    let alice_jid = alice.client().jid().cloned().ok_or("no JID")?;
    let bob_jid = bob.client().jid().cloned().ok_or("no JID")?;

    say(&mut alice, &bob_jid, "Hello Bob! Are you there?")?;
    hear(&mut bob)?;
    say(&mut bob, &alice_jid, "Hi Alice, loud and clear <3")?;
    hear(&mut alice)?;

    println!("== alice logged out: {}", alice.close()?);
    println!("== bob logged out: {}", bob.close()?);
    drop(server);
    println!("== {} stopped", kind.name());
    Ok(())
}

fn log_in(
    server: &Server,
    user: &str,
    tls: bool,
) -> Result<Connection, Box<dyn std::error::Error>> {
    let mut config = Config::new(server.domain(), jabber_net::fresh_seed());
    // The demo shows the classic (jabber:iq:auth) login; the default is XMPP 1.0.
    config.version = None;
    let (addr, options, how) = if tls {
        // Trust this run's CA only; over TLS the password may travel as it is.
        let mut tls = Tls::default().trust(TestCa::get().ca_der().to_vec());
        tls.no_builtin_roots = true;
        (server.tls_addr(), Options::tls(tls), "direct TLS")
    } else {
        // prosody offers no digest; a plaintext password is acceptable on loopback only.
        config.allow_plaintext = server.kind() == ServerKind::Prosody;
        (server.addr(), Options::plain(), "plain TCP")
    };
    let mut conn = Connection::connect_with(addr, config, options)?;
    let me = conn.login(Credentials::new(user, &format!("{user}-secret"), "demo"))?;
    let contacts = me.roster.map_or(0, |r| r.items.len());
    println!(
        "{}: logged in over {how} ({addr}), {contacts} contacts in the roster",
        me.jid
    );
    Ok(conn)
}

fn say(from: &mut Connection, to: &Jid, body: &str) -> Result<(), Box<dyn std::error::Error>> {
    from.send(Message::new(MessageType::Chat, to, body)?)?;
    let me = from.client().jid().map(Jid::to_string).unwrap_or_default();
    println!("{me} -> {to}: {body}");
    Ok(())
}

fn hear(conn: &mut Connection) -> Result<(), Box<dyn std::error::Error>> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match conn.next_event_timeout(left)? {
            Next::Event(Event::Stanza(StanzaEvent::Message(m))) => {
                if let Some(body) = m.body() {
                    let from = m.from().map(|j| j.to_string()).unwrap_or_default();
                    let me = conn.client().jid().map(Jid::to_string).unwrap_or_default();
                    println!("{me} <- {from}: {body}");
                    return Ok(());
                }
            }
            Next::Event(Event::Closed(reason)) => return Err(format!("closed: {reason}").into()),
            Next::Event(_) => {}
            Next::TimedOut => return Err("no message within 10 s".into()),
            Next::Ended => return Err("the connection ended".into()),
        }
    }
}

/// Starts the server with `alice` and `bob`, writes what the `jabber` command needs to
/// reach it (`target/demo/env`: its address, port and this run's CA), and keeps it until
/// the process is interrupted; the server's watchdog then stops it by its PID.
fn serve(kind: ServerKind) -> Result<(), Box<dyn std::error::Error>> {
    let server = Server::start(kind)?;
    for user in ["alice", "bob"] {
        server.register(user, &format!("{user}-secret"))?;
    }
    let dir = std::path::Path::new("target/demo");
    std::fs::create_dir_all(dir)?;
    let ca = std::fs::canonicalize(dir)?.join("ca.pem");
    std::fs::write(&ca, TestCa::get().ca_pem())?;
    let env = format!(
        "export JABBER_SERVER=127.0.0.1 JABBER_PORT={} JABBER_CA={}\n",
        server.addr().port(),
        ca.display()
    );
    std::fs::write(dir.join("env"), &env)?;
    println!(
        "== {} on {} (pid {}): alice@{d} (password alice-secret) and bob@{d} (bob-secret)",
        kind.name(),
        server.addr(),
        server.pid(),
        d = server.domain()
    );
    println!(
        "== for the jabber command: . target/demo/env   ({})",
        env.trim()
    );
    println!("== Ctrl-C stops the server");
    loop {
        std::thread::park();
    }
}
