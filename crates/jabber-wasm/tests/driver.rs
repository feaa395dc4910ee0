//! The browser runtime's decisions without a browser: a scripted server speaks RFC 7395
//! to the [`Driver`] the way the page's WebSocket would deliver it, one message per
//! call, and every action the glue would perform is checked.

use std::num::NonZeroU64;
use std::time::Duration;

use jabber_proto::time::Instant;
use jabber_wasm::{Action, CommandError, Contact, Driver, Field, Notice, Options};

const SERVER_OPEN: &str = "<open xmlns='urn:ietf:params:xml:ns:xmpp-framing' \
    from='example.com' id='ws-1' version='1.0' xml:lang='en'/>";
const CLIENT_OPEN: &str = "<open xmlns='urn:ietf:params:xml:ns:xmpp-framing' \
    to='example.com' version='1.0'/>";
const CLOSE: &str = "<close xmlns='urn:ietf:params:xml:ns:xmpp-framing'/>";
const SASL_FEATURES: &str = "<stream:features xmlns:stream='http://etherx.jabber.org/streams'>\
    <mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>PLAIN</mechanism>\
    </mechanisms></stream:features>";
const BIND_FEATURES: &str = "<stream:features xmlns:stream='http://etherx.jabber.org/streams'>\
    <bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></stream:features>";
const SEED: NonZeroU64 = NonZeroU64::MIN;

fn options(url: &str) -> Options {
    Options {
        url: url.into(),
        jid: "alice@example.com".into(),
        password: "secret".into(),
        resource: None,
        allow_insecure: false,
    }
}

/// A driver and the page's clock.
struct Page {
    driver: Driver,
    now: Instant,
}

impl Page {
    fn new(options: &Options) -> Page {
        let now = Instant::from_millis(1_000);
        let driver = Driver::new(options, SEED, now).expect("valid options");
        Page { driver, now }
    }

    fn actions(&mut self) -> Vec<Action> {
        self.driver.take_actions()
    }

    /// The messages sent since the last call, asserting nothing else happened.
    fn sent(&mut self) -> Vec<String> {
        self.actions()
            .into_iter()
            .map(|a| match a {
                Action::Send(text) => text,
                other => panic!("expected only sends, got {other:?}"),
            })
            .collect()
    }

    fn server(&mut self, message: &str) {
        self.driver.on_message(self.now, message.as_bytes());
    }

    /// Logs in through SASL PLAIN and bind; returns what the page was told.
    fn log_in(&mut self) -> Vec<Action> {
        assert!(self.actions().is_empty(), "nothing before the socket opens");
        self.driver.on_open();
        assert_eq!(self.sent(), [CLIENT_OPEN]);
        self.server(SERVER_OPEN);
        self.server(SASL_FEATURES);
        let auth = self.sent();
        assert_eq!(auth.len(), 1);
        assert!(
            auth[0]
                .starts_with("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>")
        );
        self.server("<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>");
        assert_eq!(
            self.sent(),
            [CLIENT_OPEN],
            "the stream restarts with a new <open/>"
        );
        self.server(SERVER_OPEN);
        self.server(BIND_FEATURES);
        let bind = self.sent();
        assert_eq!(bind.len(), 1);
        let id = id_of(&bind[0]);
        self.server(&format!(
            "<iq xmlns='jabber:client' type='result' id='{id}'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>\
             <jid>alice@example.com/web</jid></bind></iq>"
        ));
        let roster = self.sent();
        assert!(roster[0].contains("jabber:iq:roster"), "{roster:?}");
        // The initial presence does not wait for the roster.
        assert_eq!(roster[1..], ["<presence xmlns='jabber:client'/>"]);
        let id = id_of(&roster[0]);
        self.server(&format!(
            "<iq xmlns='jabber:client' type='result' id='{id}' to='alice@example.com/web'>\
             <query xmlns='jabber:iq:roster'><item jid='bob@example.com' name='Bob' \
             subscription='both'/></query></iq>"
        ));
        self.actions()
    }
}

/// The `id` attribute of a sent stanza.
fn id_of(stanza: &str) -> String {
    let start = stanza.find(" id='").expect("an id") + 5;
    let end = stanza[start..].find('\'').expect("quoted") + start;
    stanza[start..end].to_owned()
}

fn bob() -> Contact {
    Contact {
        jid: "bob@example.com".into(),
        name: Some("Bob".into()),
        subscription: "both",
        pending: false,
    }
}

#[test]
fn a_session_from_open_to_close() {
    let mut page = Page::new(&options("wss://example.com/ws"));
    let told = page.log_in();
    assert_eq!(
        told,
        [
            Action::Notify(Notice::Online {
                jid: "alice@example.com/web".into()
            }),
            Action::Notify(Notice::Roster { items: vec![bob()] }),
        ]
    );

    page.server(
        "<presence xmlns='jabber:client' from='bob@example.com/desk' to='alice@example.com/web'>\
         <show>away</show><status>lunch</status></presence>",
    );
    page.server(
        "<message xmlns='jabber:client' type='chat' from='bob@example.com/desk' \
         to='alice@example.com/web'><body>hi &amp; hello</body></message>",
    );
    assert_eq!(
        page.actions(),
        [
            Action::Notify(Notice::Presence {
                from: "bob@example.com/desk".into(),
                available: true,
                show: Some("away"),
                status: Some("lunch".into()),
            }),
            Action::Notify(Notice::Message {
                from: "bob@example.com/desk".into(),
                body: "hi & hello".into(),
                kind: "chat",
            }),
        ]
    );

    page.driver
        .send_message(page.now, "bob@example.com", "<3")
        .expect("sent");
    assert_eq!(
        page.sent(),
        [
            "<message xmlns='jabber:client' to='bob@example.com' type='chat'><body>&lt;3</body></message>"
        ]
    );
    page.driver
        .set_presence(page.now, "dnd", Some("busy"))
        .expect("sent");
    assert_eq!(
        page.sent(),
        ["<presence xmlns='jabber:client'><show>dnd</show><status>busy</status></presence>"]
    );

    page.driver.close(page.now);
    assert_eq!(
        page.sent(),
        [
            "<presence xmlns='jabber:client' type='unavailable'/>",
            CLOSE
        ]
    );
    page.server(CLOSE);
    assert_eq!(
        page.actions(),
        [
            Action::Notify(Notice::Closed {
                reason: "closed".into(),
                clean: true,
                see_other_uri: None,
            }),
            Action::CloseSocket,
        ]
    );
    assert!(page.driver.is_done());
    // The socket's own close event, afterwards, changes nothing.
    page.driver.on_close(page.now, true);
    assert!(page.actions().is_empty());
}

#[test]
fn nothing_is_sent_before_the_socket_opens() {
    let mut page = Page::new(&options("wss://example.com/ws"));
    assert!(page.actions().is_empty());
    // A command before the stream is up is refused, and sends nothing later either.
    assert_eq!(
        page.driver
            .send_message(page.now, "bob@example.com", "early"),
        Err(CommandError::Client(jabber_proto::client::Error::NotOpen))
    );
    page.driver.on_open();
    assert_eq!(page.sent(), [CLIENT_OPEN]);
}

#[test]
fn a_socket_that_never_opens_ends_the_session_as_a_reset() {
    let mut page = Page::new(&options("wss://example.com/ws"));
    page.driver.on_close(page.now, false);
    let actions = page.actions();
    assert!(
        matches!(
            actions.as_slice(),
            [Action::Notify(Notice::Closed { clean: false, .. })]
        ),
        "{actions:?}"
    );
    assert!(page.driver.is_done());
    assert_eq!(page.driver.deadline(), None, "no timer after the end");
}

#[test]
fn a_refused_password_is_reported_then_the_socket_closes() {
    let mut page = Page::new(&options("wss://example.com/ws"));
    page.driver.on_open();
    page.sent();
    page.server(SERVER_OPEN);
    page.server(SASL_FEATURES);
    page.sent();
    page.server("<failure xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><not-authorized/></failure>");
    let actions = page.actions();
    assert!(
        matches!(&actions[0], Action::Notify(Notice::LoginFailed { .. })),
        "{actions:?}"
    );
    assert_eq!(actions[1..2], [Action::Send(CLOSE.into())]);
    page.server(CLOSE);
    let actions = page.actions();
    assert!(
        matches!(
            actions.as_slice(),
            [Action::Notify(Notice::Closed { .. }), Action::CloseSocket]
        ),
        "{actions:?}"
    );
}

#[test]
fn the_timer_fires_the_cores_deadlines() {
    let mut page = Page::new(&options("wss://example.com/ws"));
    page.driver.on_open();
    page.sent();
    // The server never answers: the login's deadline is the timer's.
    let deadline = page.driver.deadline().expect("a login deadline");
    assert!(deadline > page.now);
    // Early: nothing happens, and the deadline stays.
    page.driver.on_timer(page.now + Duration::from_millis(1));
    assert!(page.actions().is_empty());
    assert_eq!(page.driver.deadline(), Some(deadline));
    page.driver.on_timer(deadline);
    let actions = page.actions();
    assert!(
        matches!(&actions[0], Action::Notify(Notice::LoginFailed { .. })),
        "{actions:?}"
    );
}

#[test]
fn ws_urls_need_allow_insecure_and_then_use_no_tls() {
    let refused = Driver::new(&options("ws://127.0.0.1:5280/ws"), SEED, Instant::ZERO);
    assert!(refused.is_err());
    let mut insecure = options("ws://127.0.0.1:5280/ws");
    insecure.allow_insecure = true;
    let mut page = Page::new(&insecure);
    page.driver.on_open();
    page.sent();
    page.server(SERVER_OPEN);
    // Over ws:// the password may not go in the clear: PLAIN alone is refused locally.
    page.server(SASL_FEATURES);
    let actions = page.actions();
    assert!(
        matches!(&actions[0], Action::Notify(Notice::LoginFailed { .. })),
        "{actions:?}"
    );
}

#[test]
fn what_the_page_is_told() {
    let mut page = Page::new(&options("wss://example.com/ws"));
    page.log_in();
    let tell = |page: &mut Page, message: &str| {
        page.server(message);
        page.actions()
            .into_iter()
            .filter_map(|a| match a {
                Action::Notify(n) => Some(n),
                Action::Send(_) => None, // the push's acknowledgement, say
                Action::CloseSocket => panic!("the session goes on"),
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(
        tell(
            &mut page,
            "<presence xmlns='jabber:client' type='subscribe' from='carol@example.com'/>"
        ),
        [Notice::Subscription {
            from: "carol@example.com".into(),
            kind: "request"
        }]
    );
    // A roster push gives the whole roster as it now is.
    assert_eq!(
        tell(
            &mut page,
            "<iq xmlns='jabber:client' type='set' id='push-1'><query xmlns='jabber:iq:roster'>\
             <item jid='carol@example.com' subscription='from'/></query></iq>"
        ),
        [Notice::Roster {
            items: vec![
                bob(),
                Contact {
                    jid: "carol@example.com".into(),
                    name: None,
                    subscription: "from",
                    pending: false,
                }
            ]
        }]
    );
    assert_eq!(
        tell(
            &mut page,
            "<presence xmlns='jabber:client' type='unavailable' from='bob@example.com/desk'/>"
        ),
        [Notice::Presence {
            from: "bob@example.com/desk".into(),
            available: false,
            show: None,
            status: None,
        }]
    );
    assert_eq!(
        tell(
            &mut page,
            "<message xmlns='jabber:client' type='error' from='dave@example.com'>\
             <error type='cancel'><item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>\
             </error></message>"
        ),
        [Notice::Error {
            from: Some("dave@example.com".into()),
            error: "item-not-found (cancel)".into(),
        }]
    );
    // A chat state without a body, and a roster push from a stranger: nothing to show.
    assert_eq!(
        tell(
            &mut page,
            "<message xmlns='jabber:client' type='chat' from='bob@example.com/desk'>\
             <composing xmlns='http://jabber.org/protocol/chatstates'/></message>"
        ),
        []
    );
    assert_eq!(
        tell(
            &mut page,
            "<iq xmlns='jabber:client' type='set' id='push-2' from='mallory@example.com'>\
             <query xmlns='jabber:iq:roster'><item jid='mallory@example.com'/></query></iq>"
        ),
        []
    );
}

#[test]
fn records_flatten_to_named_fields() {
    let presence = Notice::Presence {
        from: "bob@example.com/desk".into(),
        available: true,
        show: Some("away"),
        status: None,
    };
    assert_eq!(presence.kind(), "presence");
    assert_eq!(
        presence.fields(),
        [
            ("from", Field::Text("bob@example.com/desk")),
            ("available", Field::Flag(true)),
            ("show", Field::Text("away")),
        ]
    );
    let roster = Notice::Roster { items: vec![bob()] };
    assert_eq!(roster.fields(), [("items", Field::Contacts(&[bob()]))]);
}

#[test]
fn a_redirect_tells_the_page_where_to_go() {
    let mut page = Page::new(&options("wss://example.com/ws"));
    page.driver.on_open();
    page.sent();
    page.server(
        "<close xmlns='urn:ietf:params:xml:ns:xmpp-framing' \
         see-other-uri='wss://other.example.com/ws'/>",
    );
    let actions = page.actions();
    let Some(Action::Notify(closed)) = actions.first() else {
        panic!("{actions:?}");
    };
    assert_eq!(closed.kind(), "closed");
    assert!(
        closed
            .fields()
            .contains(&("seeOtherUri", Field::Text("wss://other.example.com/ws"))),
        "{closed:?}"
    );
    assert_eq!(actions.last(), Some(&Action::CloseSocket));
}

/// The `seeOtherUri` the page is told when a session at `url` is redirected to `to`.
fn redirect(url: &str, to: &str) -> Option<String> {
    let mut o = options(url);
    o.allow_insecure = true;
    let mut page = Page::new(&o);
    page.driver.on_open();
    page.sent();
    page.server(&format!(
        "<close xmlns='urn:ietf:params:xml:ns:xmpp-framing' see-other-uri='{to}'/>"
    ));
    let actions = page.actions();
    let closed = actions
        .iter()
        .find_map(|a| match a {
            Action::Notify(n) if n.kind() == "closed" => Some(n.clone()),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no closed record: {actions:?}"));
    assert_eq!(actions.last(), Some(&Action::CloseSocket));
    let Notice::Closed { see_other_uri, .. } = closed else {
        panic!("{closed:?}");
    };
    see_other_uri
}

#[test]
fn a_redirect_never_leaves_wss_nor_websocket_schemes() {
    // Down from wss: to ws: is refused, whatever the scheme's case.
    assert_eq!(
        redirect("wss://example.com/ws", "ws://evil.example/ws"),
        None
    );
    assert_eq!(
        redirect("wss://example.com/ws", "WS://evil.example/ws"),
        None
    );
    // Other schemes are no WebSocket.
    for to in [
        "http://other.example/ws",
        "javascript:alert(1)",
        "file:///etc/passwd",
        "wss://",
    ] {
        assert_eq!(redirect("wss://example.com/ws", to), None, "{to}");
        assert_eq!(redirect("ws://example.com/ws", to), None, "{to}");
    }
    // wss: stays wss: (any case); ws: may go to either.
    assert_eq!(
        redirect("wss://example.com/ws", "WSS://other.example/ws").as_deref(),
        Some("WSS://other.example/ws")
    );
    assert_eq!(
        redirect("ws://example.com/ws", "ws://other.example/ws").as_deref(),
        Some("ws://other.example/ws")
    );
    assert_eq!(
        redirect("ws://example.com/ws", "wss://other.example/ws").as_deref(),
        Some("wss://other.example/ws")
    );
}

#[test]
fn a_socket_without_the_xmpp_subprotocol_is_closed_and_the_page_told_why() {
    for refused in ["", "xmpp-framing", "XMPP"] {
        let mut page = Page::new(&options("wss://example.com/ws"));
        page.driver.on_open_with(page.now, refused);
        let actions = page.actions();
        // Nothing was sent: not even our `<open/>`.
        assert!(
            !actions.iter().any(|a| matches!(a, Action::Send(_))),
            "{actions:?}"
        );
        let notices: Vec<&Notice> = actions
            .iter()
            .filter_map(|a| match a {
                Action::Notify(n) => Some(n),
                _ => None,
            })
            .collect();
        assert_eq!(notices.len(), 2, "{actions:?}");
        assert_eq!(notices[0].kind(), "error");
        assert!(
            notices[0]
                .fields()
                .iter()
                .any(|(name, value)| *name == "error"
                    && matches!(value, Field::Text(t) if t.contains("xmpp subprotocol"))),
            "{:?}",
            notices[0]
        );
        assert_eq!(notices[1].kind(), "closed");
        assert_eq!(actions.last(), Some(&Action::CloseSocket));
        assert!(page.driver.is_done());
    }
    // `xmpp` opens as before.
    let mut page = Page::new(&options("wss://example.com/ws"));
    page.driver.on_open_with(page.now, "xmpp");
    assert_eq!(page.sent(), [CLIENT_OPEN]);
}
