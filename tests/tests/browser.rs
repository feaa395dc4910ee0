//! The wasm client in a real browser against real servers: the demo page
//! (`crates/jabber-wasm/www`, its module built for the test) runs in headless Chromium
//! driven over WebDriver, is refused a wrong password, then logs in to ejabberd or
//! prosody over a WebSocket (RFC 7395),
//! approves a TCP client's (jabber-std) subscription and asks for its presence in turn,
//! lists it online, sets its own presence, shows the client's message, answers it
//! through the chat box and logs out; every step is asserted on the DOM or at the TCP
//! client. A screenshot of the page is kept as `target/artefacts/browser-demo-<server>.png`.
//!
//! Over `wss:` the page logs in and out too, Chromium trusting the test server's key
//! (and no other) by its hash.
//!
//! Needs Debian's chromium and chromium-driver and wasm-bindgen-cli
//! (`scripts/install-browser`), and the servers (`scripts/install-servers`).

use std::io;
use std::time::{Duration, Instant};

use base64::Engine as _;
use jabber_net::{Options, Tls};
use jabber_proto::client::{Config, Event, PresenceEvent, StanzaEvent, SubscriptionEvent};
use jabber_proto::jid::Jid;
use jabber_proto::negotiation::auth::Credentials;
use jabber_proto::stanza::{Message, MessageType, Show};
use jabber_std::{Connection, Next};
use jabber_tests::browser::bundle;
use jabber_tests::browser::static_files::StaticFiles;
use jabber_tests::browser::webdriver::{Browser, Chromedriver};
use jabber_tests::{Server, ServerKind, TestCa};
use serde_json::{Value, json};

/// How long one step in the page may take (a login includes SCRAM in a debug build of
/// the module).
const STEP: Duration = Duration::from_secs(20);
const TO_PAGE: &str = "hello from TCP <&> ünïcode";
const FROM_PAGE: &str = "hello from the browser";

fn test_tls() -> Tls {
    let mut tls = Tls::default().trust(TestCa::get().ca_der().to_vec());
    tls.no_builtin_roots = true;
    tls
}

/// The TCP side: bob, logged in with jabber-std over STARTTLS.
fn tcp_client(server: &Server) -> Connection {
    let config = Config::new(server.domain(), jabber_net::fresh_seed());
    let mut conn = Connection::connect_with(server.addr(), config, Options::starttls(test_tls()))
        .expect("bob connects");
    conn.login(Credentials::new("bob", "Bob-pw", "tcp"))
        .expect("bob logs in");
    conn
}

/// The first of bob's events that `pick` takes, within [`STEP`].
fn next_event<T>(conn: &mut Connection, what: &str, mut pick: impl FnMut(Event) -> Option<T>) -> T {
    let deadline = Instant::now() + STEP;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match conn.next_event_timeout(left).expect("bob's connection") {
            Next::Event(e) => {
                if let Some(found) = pick(e) {
                    return found;
                }
            }
            other => panic!("no {what}: {other:?}"),
        }
    }
}

/// The page's value of `script` (a function body).
fn eval(browser: &Browser, script: &str) -> io::Result<Value> {
    browser.execute(script, json!([]))
}

/// Waits until `#status` is in `state`; returns its text.
fn wait_status(browser: &Browser, state: &str) -> String {
    browser
        .wait_for(&format!("status {state}"), STEP, |b| {
            let status = eval(
                b,
                "const s = document.getElementById('status'); return [s.dataset.state, s.textContent];",
            )?;
            Ok((status[0] == state).then(|| status[1].as_str().unwrap_or_default().to_owned()))
        })
        .unwrap_or_else(|e| panic!("{e}"))
}

fn the_page_chats_with_a_tcp_client(kind: ServerKind) {
    let started = Instant::now();
    let pkg = bundle::build().expect("the wasm module builds");
    let built = started.elapsed();
    let server = Server::start_websocket(kind).expect("the server starts");
    let ws_url = server.websocket_url(false).expect("a ws: listener");
    server.register("alice", "Alice-pw").expect("alice");
    server.register("bob", "Bob-pw").expect("bob");
    let files = StaticFiles::serve(vec![("/".into(), bundle::www()), ("/pkg/".into(), pkg)])
        .expect("the page is served");
    let chromedriver = Chromedriver::start().expect("chromedriver starts");
    let browser = chromedriver.session().expect("chromium starts");

    // Log in through the form: a wrong password first, then the right one.
    browser
        .goto(&format!("{}/?url={ws_url}", files.origin()))
        .expect("the page loads");
    assert_eq!(
        wait_status(&browser, "offline"),
        "offline",
        "the module loaded"
    );
    let alice = format!("alice@{}", server.domain());
    browser
        .find("#jid")
        .and_then(|e| e.type_text(&alice))
        .expect("typed");
    let password = browser.find("#password").expect("#password");
    password.type_text("wrong").expect("typed");
    // A ws: URL alone (here from the query string) does not allow an unencrypted
    // socket: only the checkbox does.
    browser
        .find("#connect")
        .and_then(|e| e.click())
        .expect("clicked");
    assert_eq!(
        wait_status(&browser, "failed"),
        "a ws:// url is unencrypted: set allowInsecure to use it anyway"
    );
    browser
        .find("#insecure")
        .and_then(|e| e.click())
        .expect("checked");
    browser
        .find("#connect")
        .and_then(|e| e.click())
        .expect("clicked");
    // The status said "failed" already: wait for the login's own failure.
    let failed = browser
        .wait_for("the login refused", STEP, |b| {
            let text = eval(b, "return document.getElementById('status').textContent;")?;
            let text = text.as_str().unwrap_or_default();
            Ok(text.starts_with("login failed: ").then(|| text.to_owned()))
        })
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(failed.starts_with("login failed: "), "{failed}");
    browser
        .wait_for("the form again", STEP, |b| {
            let enabled = eval(b, "return !document.getElementById('connect').disabled;")?;
            Ok((enabled == true).then_some(()))
        })
        .unwrap_or_else(|e| panic!("{e}"));
    password.clear().expect("cleared");
    password.type_text("Alice-pw").expect("typed");
    browser
        .find("#connect")
        .and_then(|e| e.click())
        .expect("clicked");
    let online = wait_status(&browser, "online");
    assert!(
        online.starts_with(&format!("online as {alice}/")),
        "{online}"
    );

    // Bob asks to see alice's presence: the page approves, the server pushes bob into
    // alice's roster, and the page lists him.
    let mut bob = tcp_client(&server);
    let alice_jid = Jid::parse(&alice).expect("jid");
    bob.with_client(|c, now| c.subscribe(now, &alice_jid))
        .expect("alive")
        .expect("subscribe sent");
    // The page asks back; bob approves, and the page lists him online.
    let bob_bare = format!("bob@{}", server.domain());
    let asked = next_event(&mut bob, "alice's subscription request", |e| match e {
        Event::Subscription(SubscriptionEvent::Request(p)) => p.from().map(|f| f.to_string()),
        _ => None,
    });
    assert_eq!(asked, alice);
    bob.with_client(|c, now| c.approve_subscription(now, &alice_jid))
        .expect("alive")
        .expect("approval sent");
    let listed = browser
        .wait_for("bob online in the roster", STEP, |b| {
            let found = b.execute(
                "const li = document.querySelector(`#roster li[data-jid='${arguments[0]}']`); \
                 return li && li.dataset.show !== 'offline' && [li.title, li.dataset.show];",
                json!([bob_bare]),
            )?;
            Ok(found.is_array().then_some(found))
        })
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(listed, json!(["subscription: both", "available"]));

    // The page's presence reaches bob.
    browser
        .find("#show option[value='away']")
        .and_then(|e| e.click())
        .expect("chosen");
    browser
        .find("#status-text")
        .and_then(|e| e.type_text("at lunch"))
        .expect("typed");
    browser
        .find("#set-presence")
        .and_then(|e| e.click())
        .expect("clicked");
    let seen = next_event(&mut bob, "alice away", |e| match e {
        Event::Presence(PresenceEvent::Available(p)) if p.show() == Some(Show::Away) => Some((
            p.from().map(|f| f.bare().to_string()),
            p.status().map(|s| s.into_owned()),
        )),
        _ => None,
    });
    assert_eq!(seen, (Some(alice.clone()), Some("at lunch".to_owned())));

    // Bob's message shows in the chat log.
    let to_alice = Message::new(MessageType::Chat, &alice_jid, TO_PAGE).expect("message");
    bob.send(to_alice).expect("bob sends");
    let (peer, text) = browser
        .wait_for("bob's message in the log", STEP, |b| {
            let line = eval(
                b,
                "const li = document.querySelector('#log li.in'); \
                 return li && [li.dataset.peer, li.querySelector('.text').textContent];",
            )?;
            Ok(line.as_array().map(|l| {
                let s = |i: usize| l[i].as_str().unwrap_or_default().to_owned();
                (s(0), s(1))
            }))
        })
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(peer.starts_with(&format!("{bob_bare}/")), "{peer}");
    assert_eq!(text, TO_PAGE);

    // The page answers through the chat box; bob receives it.
    let to = browser.find("#to").expect("#to");
    to.clear().expect("cleared");
    to.type_text(&bob_bare).expect("typed");
    browser
        .find("#body")
        .and_then(|e| e.type_text(FROM_PAGE))
        .expect("typed");
    browser
        .find("#send")
        .and_then(|e| e.click())
        .expect("clicked");
    let from = next_event(&mut bob, "the page's message", |e| match e {
        Event::Stanza(StanzaEvent::Message(m)) if m.body().as_deref() == Some(FROM_PAGE) => {
            m.from().map(|f| f.to_string())
        }
        _ => None,
    });
    assert!(from.starts_with(&format!("{alice}/")), "{from}");
    let outgoing = eval(
        &browser,
        "return [...document.querySelectorAll('#log li.out .text')].map(t => t.textContent);",
    )
    .expect("the log");
    assert_eq!(outgoing, json!([FROM_PAGE]));

    let shot = bundle::target_dir().join(format!("artefacts/browser-demo-{kind}.png"));
    browser.screenshot(&shot).expect("a screenshot");
    assert!(
        std::fs::metadata(&shot).expect("saved").len() > 1000,
        "a real picture"
    );

    // Log out: the page's session ends cleanly and shows the form again.
    browser
        .find("#logout")
        .and_then(|e| e.click())
        .expect("clicked");
    assert_eq!(wait_status(&browser, "closed"), "closed: closed");
    let form_back = eval(&browser, "return !document.getElementById('login').hidden;");
    assert_eq!(form_back.expect("the form"), json!(true));
    bob.close().expect("bob logs out");
    println!(
        "{kind}: module ready in {:.1?}, whole test {:.1?}, screenshot {}",
        built,
        started.elapsed(),
        shot.display()
    );
}

/// `--ignore-certificate-errors-spki-list` for the test servers' key: Chromium then takes
/// their certificate (signed by the throw-away CA it does not know), and only theirs.
fn trust_test_server() -> String {
    let key = rcgen::KeyPair::from_pem(TestCa::get().server_key_pem()).expect("the test key");
    let spki = ring::digest::digest(&ring::digest::SHA256, &key.public_key_der());
    let hash = base64::engine::general_purpose::STANDARD.encode(spki.as_ref());
    format!("--ignore-certificate-errors-spki-list={hash}")
}

/// Logs in over `wss:` (the TLS is Chromium's) and out again, after a URL the
/// constructor refuses.
fn the_page_logs_in_over_wss(kind: ServerKind) {
    let pkg = bundle::build().expect("the wasm module builds");
    let server = Server::start_websocket(kind).expect("the server starts");
    server.register("alice", "Alice-pw").expect("alice");
    // The certificate names localhost, not 127.0.0.1.
    let url = server
        .websocket_url(true)
        .expect("a wss: listener")
        .replacen("127.0.0.1", "localhost", 1);
    let files = StaticFiles::serve(vec![("/".into(), bundle::www()), ("/pkg/".into(), pkg)])
        .expect("the page is served");
    let chromedriver = Chromedriver::start().expect("chromedriver starts");
    let browser = chromedriver
        .session_with(&[trust_test_server()])
        .expect("chromium starts");
    browser
        .goto(&format!("{}/?url={url}", files.origin()))
        .expect("the page loads");
    wait_status(&browser, "offline");
    let alice = format!("alice@{}", server.domain());
    browser
        .find("#jid")
        .and_then(|e| e.type_text(&alice))
        .expect("typed");
    browser
        .find("#password")
        .and_then(|e| e.type_text("Alice-pw"))
        .expect("typed");
    // Not a WebSocket URL: the constructor throws, and the page says why.
    let field = browser.find("#url").expect("#url");
    field.clear().expect("cleared");
    field.type_text("https://localhost/ws").expect("typed");
    browser
        .find("#connect")
        .and_then(|e| e.click())
        .expect("clicked");
    assert_eq!(
        wait_status(&browser, "failed"),
        "the url must start with wss:// or ws://"
    );
    field.clear().expect("cleared");
    field.type_text(&url).expect("typed");
    browser
        .find("#connect")
        .and_then(|e| e.click())
        .expect("clicked");
    let online = wait_status(&browser, "online");
    assert!(
        online.starts_with(&format!("online as {alice}/")),
        "{online}"
    );
    browser
        .find("#logout")
        .and_then(|e| e.click())
        .expect("clicked");
    assert_eq!(wait_status(&browser, "closed"), "closed: closed");
}

#[test]
fn ejabberd_page_logs_in_over_wss() {
    the_page_logs_in_over_wss(ServerKind::Ejabberd);
}

#[test]
fn prosody_page_logs_in_over_wss() {
    the_page_logs_in_over_wss(ServerKind::Prosody);
}

#[test]
fn ejabberd_page_chats_with_a_tcp_client() {
    the_page_chats_with_a_tcp_client(ServerKind::Ejabberd);
}

#[test]
fn prosody_page_chats_with_a_tcp_client() {
    the_page_chats_with_a_tcp_client(ServerKind::Prosody);
}
