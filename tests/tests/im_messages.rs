//! Messages between real accounts on ejabberd and prosody, through the blocking adapter
//! (`jabber-std`): a chat in a thread and its reply; messages to an offline account
//! delivered with their delay stamp at its next login, the one whose `jabber:x:expire`
//! lifetime has run out (the UTC input driven an hour forward) reported as expired;
//! receipts, `jabber:x:event` and chat states between two accounts, the receipt and
//! "delivered" answers automatic on the receiving side.
//!
//! One test per server: it starts the server, takes four accounts, and runs the
//! scenarios one after the other.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use jabber_proto::client::{AutoAnswers, Config, Event, StanzaEvent};
use jabber_proto::jid::Jid;
use jabber_proto::negotiation::auth::Credentials;
use jabber_proto::stanza::ext::{ChatState, Expire, MessageEvents, Notice, Receipt};
use jabber_proto::stanza::{Message, MessageType};
use jabber_proto::time::Timestamp;
use jabber_std::{Connection, Next, Options};
use jabber_tests::{Server, ServerKind};

const PASSWORD: &str = "im-secret";
const WAIT: Duration = Duration::from_secs(15);

fn utc_now() -> Timestamp {
    let ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970")
        .as_millis();
    Timestamp::from_unix_millis(i64::try_from(ms).expect("in range")).expect("before 9999")
}

struct Ctx {
    server: Server,
}

impl Ctx {
    fn start(kind: ServerKind) -> Ctx {
        let server = Server::start(kind).unwrap_or_else(|e| panic!("{kind:?} starts: {e}"));
        for user in ["ima", "imb", "imc", "imd"] {
            server.register(user, PASSWORD).expect("an account");
        }
        Ctx { server }
    }

    fn config(&self) -> Config {
        let mut c = Config::new(self.server.domain(), jabber_net::fresh_seed());
        c.iq_timeout = Duration::from_secs(20);
        // Classic (jabber:iq:auth) logins, stated: the default is XMPP 1.0.
        c.version = None;
        // prosody 0.12 offers no digest; loopback only.
        c.allow_plaintext = self.server.kind() == ServerKind::Prosody;
        c
    }

    fn connect(&self, config: Config) -> Connection {
        Connection::connect_with(self.server.addr(), config, Options::plain()).expect("connect")
    }

    fn login(&self, user: &str, config: Config) -> Connection {
        let mut conn = self.connect(config);
        conn.login(Credentials::new(user, PASSWORD, "im"))
            .unwrap_or_else(|e| panic!("{}: login as {user}: {e}", self.server.kind().name()));
        conn
    }

    fn bare(&self, user: &str) -> Jid {
        Jid::parse(&format!("{user}@{}", self.server.domain())).expect("a JID")
    }
}

fn jid_of(conn: &Connection) -> Jid {
    conn.client().jid().cloned().expect("logged in")
}

/// Waits for a message event that `pick` accepts (`expired` marks an
/// `ExpiredMessage`); other events are dropped.
fn wait_message<T>(conn: &mut Connection, mut pick: impl FnMut(&Message, bool) -> Option<T>) -> T {
    let deadline = Instant::now() + WAIT;
    let mut seen = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match conn.next_event_timeout(left).expect("transport") {
            Next::Event(Event::Stanza(StanzaEvent::Message(m))) => {
                if let Some(t) = pick(&m, false) {
                    return t;
                }
                seen.push(m.element().to_string());
            }
            Next::Event(Event::Stanza(StanzaEvent::ExpiredMessage(m))) => {
                if let Some(t) = pick(&m, true) {
                    return t;
                }
                seen.push(format!("expired: {}", m.element()));
            }
            Next::Event(e) => seen.push(format!("{e:?}")),
            other => panic!("no message: {other:?}; saw {seen:#?}"),
        }
    }
}

fn send(conn: &mut Connection, m: Message) {
    conn.send(m).expect("send");
}

fn chat_with_thread(ctx: &Ctx) {
    let mut a = ctx.login("ima", ctx.config());
    let mut b = ctx.login("imb", ctx.config());
    let (a_jid, b_jid) = (jid_of(&a), jid_of(&b));
    let opening = a
        .with_client(|c, _| {
            c.new_conversation(&b_jid)
                .body("Wherefore art thou?")
                .build()
        })
        .expect("transport")
        .expect("a message");
    let thread = opening.thread().expect("a thread").into_owned();
    send(&mut a, opening);

    let received = wait_message(&mut b, |m, _| m.body().is_some().then(|| m.clone()));
    assert_eq!(received.kind(), MessageType::Chat);
    assert_eq!(received.body().as_deref(), Some("Wherefore art thou?"));
    assert_eq!(received.thread().as_deref(), Some(thread.as_str()));
    assert_eq!(
        received.from().map(|f| f.to_owned_jid()),
        Some(a_jid.clone())
    );
    let reply = received
        .reply()
        .expect("a sender")
        .body("Here.")
        .build()
        .expect("a reply");
    send(&mut b, reply);

    let (from, thread_back) = wait_message(&mut a, |m, _| {
        (m.body().as_deref() == Some("Here.")).then(|| {
            (
                m.from().map(|f| f.to_owned_jid()),
                m.thread().map(|t| t.into_owned()),
            )
        })
    });
    assert_eq!(from, Some(b_jid));
    assert_eq!(thread_back, Some(thread));
    a.close().expect("logout");
    b.close().expect("logout");
}

fn offline_delivery_with_delay_and_expiry(ctx: &Ctx) {
    let mut a = ctx.login("ima", ctx.config());
    let c_bare = ctx.bare("imc");
    let sent_at = utc_now();
    let stored = Message::normal(&c_bare)
        .id("off1")
        .body("while you were out")
        .build()
        .expect("a valid test value");
    let expiring = Message::normal(&c_bare)
        .id("off2")
        .body("only for a minute")
        .extension(&Expire::new(60))
        .build()
        .expect("a valid test value");
    send(&mut a, stored);
    send(&mut a, expiring);
    // A round trip to our own server: both messages were handled (stored) before it.
    let own = jid_of(&a).to_bare();
    let ping = jabber_proto::xml::Element::builder("ping", jabber_proto::ns::PING)
        .build()
        .expect("a valid test value");
    a.with_client(|c, now| c.send_iq(now, Some(&own), jabber_proto::stanza::IqType::Get, ping))
        .expect("transport")
        .expect("a ping");
    let deadline = Instant::now() + WAIT;
    loop {
        match a
            .next_event_timeout(deadline.saturating_duration_since(Instant::now()))
            .expect("transport")
        {
            Next::Event(Event::Iq(_)) => break,
            Next::Event(_) => {}
            other => panic!("no ping answer: {other:?}"),
        }
    }

    // imc logs in an hour later, as far as its wall clock says: the UTC input is
    // driven forward instead of sleeping.
    let mut c = ctx.connect(ctx.config());
    c.with_client(|client, now| {
        let later = utc_now()
            .checked_add(Duration::from_secs(3600))
            .expect("a valid test value");
        client.set_utc(now, later)
    })
    .expect("transport");
    c.login(Credentials::new("imc", PASSWORD, "im"))
        .expect("login as imc");
    let mut fresh = None;
    let mut expired = None;
    while fresh.is_none() || expired.is_none() {
        let (m, is_expired) =
            wait_message(&mut c, |m, e| m.body().is_some().then(|| (m.clone(), e)));
        match m.body().as_deref() {
            Some("while you were out") => fresh = Some((m, is_expired)),
            Some("only for a minute") => expired = Some((m, is_expired)),
            other => panic!("unexpected body {other:?}"),
        }
    }
    let (fresh, fresh_expired) = fresh.expect("a valid test value");
    assert!(
        !fresh_expired,
        "a message without jabber:x:expire never expires"
    );
    let delay = fresh.delay().expect("offline storage stamps the message");
    let skew = (delay.stamp.unix_millis() - sent_at.unix_millis()).abs();
    assert!(skew < 60_000, "stamp {} vs sent {}", delay.stamp, sent_at);
    let (expired, is_expired) = expired.expect("a valid test value");
    assert!(is_expired, "reported as expired: {}", expired.element());
    assert_eq!(expired.extension::<Expire>().map(|e| e.seconds), Some(60));
    assert!(expired.delay().is_some());
    a.close().expect("logout");
    c.close().expect("logout");
}

fn receipts_events_and_chat_states(ctx: &Ctx) {
    let mut a = ctx.login("ima", ctx.config());
    let mut answering = ctx.config();
    answering.auto_answers = AutoAnswers::RECEIPTS | AutoAnswers::MESSAGE_EVENTS;
    let mut d = ctx.login("imd", answering);
    let (a_jid, d_jid) = (jid_of(&a), jid_of(&d));

    let m = Message::chat(&d_jid)
        .id("rcpt-1")
        .body("did you get this?")
        .extension(&ChatState::Active)
        .extension(&Receipt::Request)
        .extension(&MessageEvents::request(&[
            Notice::Delivered,
            Notice::Composing,
        ]))
        .build()
        .expect("a valid test value");
    send(&mut a, m);
    let got = wait_message(&mut d, |m, _| m.body().is_some().then(|| m.clone()));
    assert_eq!(got.chat_state(), Some(ChatState::Active));
    assert_eq!(got.receipt(), Some(Receipt::Request));

    // imd's core answered both requests on its own; imd's user starts typing.
    let composing = got
        .reply()
        .expect("a valid test value")
        .extension(&ChatState::Composing)
        .build()
        .expect("a valid test value");
    send(&mut d, composing);
    let notice = MessageEvents::notice(Notice::Composing, "rcpt-1");
    send(
        &mut d,
        Message::chat(&a_jid)
            .extension(&notice)
            .build()
            .expect("a valid test value"),
    );

    let (mut receipt, mut delivered, mut typing, mut x_composing) = (false, false, false, false);
    while !(receipt && delivered && typing && x_composing) {
        wait_message(&mut a, |m, _| {
            assert_eq!(m.from().map(|f| f.to_owned_jid()), Some(d_jid.clone()));
            if m.receipt() == Some(Receipt::Received(Some("rcpt-1".into()))) {
                receipt = true;
            }
            if let Some(e) = m.events() {
                assert_eq!(e.id.as_deref(), Some("rcpt-1"));
                delivered |= e.delivered;
                x_composing |= e.composing;
            }
            typing |= m.chat_state() == Some(ChatState::Composing);
            Some(())
        });
    }
    a.close().expect("logout");
    d.close().expect("logout");
}

fn run(kind: ServerKind) {
    let started = Instant::now();
    let ctx = Ctx::start(kind);
    chat_with_thread(&ctx);
    offline_delivery_with_delay_and_expiry(&ctx);
    receipts_events_and_chat_states(&ctx);
    eprintln!("{}: {:?}", kind.name(), started.elapsed());
}

#[test]
fn ejabberd() {
    run(ServerKind::Ejabberd);
}

#[test]
fn prosody() {
    run(ServerKind::Prosody);
}
