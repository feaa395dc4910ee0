//! Messages and their payloads: every builder byte-exact, every value the API can build
//! read back unchanged, and the client's handling of expiry and automatic answers on a
//! scripted server with a virtual clock.

mod support;

use std::num::NonZeroU64;
use std::time::Duration;

use jabber_proto::client::{AutoAnswers, Config, Event, StanzaEvent};
use jabber_proto::jid::Jid;
use jabber_proto::stanza::ext::{
    Address, AddressRole, ChatState, Encrypted, Envelope, Expire, Extension, Invitation,
    MessageEvents, Notice, Oob, Receipt, RosterExchange, SharedItem, Signed,
};
use jabber_proto::stanza::{
    Delay, DelayForm, ENCRYPTED_BODY, Message, MessageBuilder, MessageType, Stanza,
    StanzaCondition, StanzaError,
};
use jabber_proto::stream::{Item, StreamParser};
use jabber_proto::time::Timestamp;
use proptest::prelude::*;
use support::{Harness, SEED};

fn jid(s: &str) -> Jid {
    Jid::parse(s).expect("a valid JID")
}

/// One stanza, parsed as the client parses what the server sends.
fn parse(xml: &str) -> Message {
    let mut p = StreamParser::new(Default::default());
    p.push(
        b"<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>",
    );
    p.push(xml.as_bytes());
    assert!(matches!(p.next_item(), Some(Ok(Item::Header(_)))));
    match p.next_item() {
        Some(Ok(Item::Element(e))) => match Stanza::try_from(e) {
            Ok(Stanza::Message(m)) => m,
            other => panic!("not a message: {other:?}"),
        },
        other => panic!("no element: {other:?}"),
    }
}

/// What the message looks like on the wire, as our writer writes it inside a stream.
fn wire(m: &Message) -> String {
    m.element().to_string()
}

#[test]
fn builders_byte_exact() {
    let juliet = jid("juliet@capulet.com/balcony");
    let room = jid("darkcave@chat.shakespeare.lit/thirdwitch");
    let cases: Vec<(MessageBuilder, &str)> = vec![
        (
            Message::chat(&juliet).body("hi"),
            "<message xmlns='jabber:client' to='juliet@capulet.com/balcony' type='chat'><body>hi</body></message>",
        ),
        (
            Message::normal(&juliet)
                .id("n1")
                .subject("re: <you>")
                .body("a & b")
                .thread("t9"),
            "<message xmlns='jabber:client' to='juliet@capulet.com/balcony' id='n1'><subject>re: &lt;you&gt;</subject><body>a &amp; b</body><thread>t9</thread></message>",
        ),
        (
            Message::headline(&juliet).body("news"),
            "<message xmlns='jabber:client' to='juliet@capulet.com/balcony' type='headline'><body>news</body></message>",
        ),
        // A groupchat goes to the room, never to a nickname.
        (
            Message::groupchat(&room).body("all hail"),
            "<message xmlns='jabber:client' to='darkcave@chat.shakespeare.lit' type='groupchat'><body>all hail</body></message>",
        ),
        (
            Message::chat(&juliet).me("sighs"),
            "<message xmlns='jabber:client' to='juliet@capulet.com/balcony' type='chat'><body>/me sighs</body></message>",
        ),
        // Encrypted: the payload, and a body that only explains.
        (
            Message::chat(&juliet).encrypted("hQEMA"),
            "<message xmlns='jabber:client' to='juliet@capulet.com/balcony' type='chat'><body>This message is encrypted.</body><x xmlns='jabber:x:encrypted'>hQEMA</x></message>",
        ),
        (
            Message::chat(&juliet)
                .body("(encrypted)")
                .encrypted("hQEMA"),
            "<message xmlns='jabber:client' to='juliet@capulet.com/balcony' type='chat'><body>(encrypted)</body><x xmlns='jabber:x:encrypted'>hQEMA</x></message>",
        ),
        // Chat state alone: no body.
        (
            Message::chat(&juliet).extension(&ChatState::Composing),
            "<message xmlns='jabber:client' to='juliet@capulet.com/balcony' type='chat'><composing xmlns='http://jabber.org/protocol/chatstates'/></message>",
        ),
        (
            Message::chat(&juliet)
                .id("r1")
                .body("ack me")
                .extension(&Receipt::Request),
            "<message xmlns='jabber:client' to='juliet@capulet.com/balcony' type='chat' id='r1'><body>ack me</body><request xmlns='urn:xmpp:receipts'/></message>",
        ),
        // We can send either stamp form.
        (
            Message::normal(&juliet)
                .body("old news")
                .extension(&Delay {
                    form: DelayForm::Legacy,
                    ..Delay::new(Timestamp::parse("2002-09-10T23:08:25Z").expect("a stamp"))
                })
                .extension(&Delay::new(
                    Timestamp::parse("2002-09-10T23:08:25.5Z").expect("a stamp"),
                )),
            "<message xmlns='jabber:client' to='juliet@capulet.com/balcony'><body>old news</body><x xmlns='jabber:x:delay' stamp='20020910T23:08:25'/><delay xmlns='urn:xmpp:delay' stamp='2002-09-10T23:08:25.500Z'/></message>",
        ),
    ];
    for (b, want) in cases {
        assert_eq!(wire(&b.build().expect("a valid test value")), want);
    }
}

#[test]
fn extensions_byte_exact() {
    let e = |x: &dyn Fn() -> String, want: &str| assert_eq!(x(), want);
    e(
        &|| {
            MessageEvents::request(Notice::ALL)
                .to_element()
                .expect("a valid test value")
                .to_string()
        },
        "<x xmlns='jabber:x:event'><offline/><delivered/><displayed/><composing/></x>",
    );
    e(
        &|| {
            MessageEvents::notice(Notice::Composing, "m1")
                .to_element()
                .expect("a valid test value")
                .to_string()
        },
        "<x xmlns='jabber:x:event'><composing/><id>m1</id></x>",
    );
    e(
        &|| {
            MessageEvents::cancel("m1")
                .to_element()
                .expect("a valid test value")
                .to_string()
        },
        "<x xmlns='jabber:x:event'><id>m1</id></x>",
    );
    e(
        &|| {
            Expire {
                seconds: 1800,
                stored: Some(912_912),
            }
            .to_element()
            .expect("a valid test value")
            .to_string()
        },
        "<x xmlns='jabber:x:expire' seconds='1800' stored='912912'/>",
    );
    e(
        &|| {
            Expire::new(60)
                .to_element()
                .expect("a valid test value")
                .to_string()
        },
        "<x xmlns='jabber:x:expire' seconds='60'/>",
    );
    e(
        &|| {
            Envelope {
                addresses: vec![
                    Address {
                        role: AddressRole::From,
                        jid: jid("romeo@montague.net"),
                        name: Some("Romeo".into()),
                    },
                    Address {
                        role: AddressRole::Cc,
                        jid: jid("benvolio@montague.net"),
                        name: None,
                    },
                    Address {
                        role: AddressRole::ForwardedBy,
                        jid: jid("nurse@capulet.com"),
                        name: None,
                    },
                ],
            }
            .to_element()
            .expect("a valid test value")
            .to_string()
        },
        "<x xmlns='jabber:x:envelope'><from jid='romeo@montague.net' name='Romeo'/><cc jid='benvolio@montague.net'/><forwardedby jid='nurse@capulet.com'/></x>",
    );
    e(
        &|| {
            Signed {
                payload: "iQEVAwUBOz".into(),
            }
            .to_element()
            .expect("a valid test value")
            .to_string()
        },
        "<x xmlns='jabber:x:signed'>iQEVAwUBOz</x>",
    );
    e(
        &|| {
            Encrypted {
                payload: "hQEMA".into(),
            }
            .to_element()
            .expect("a valid test value")
            .to_string()
        },
        "<x xmlns='jabber:x:encrypted'>hQEMA</x>",
    );
    e(
        &|| {
            Oob {
                url: "http://x.org/a?b=1&c=2".into(),
                desc: Some("a file".into()),
            }
            .to_element()
            .expect("a valid test value")
            .to_string()
        },
        "<x xmlns='jabber:x:oob'><url>http://x.org/a?b=1&amp;c=2</url><desc>a file</desc></x>",
    );
    e(
        &|| {
            RosterExchange {
                items: vec![SharedItem {
                    jid: jid("mercutio@verona.lit"),
                    name: Some("Mercutio".into()),
                    groups: vec!["Friends".into(), "Verona".into()],
                }],
            }
            .to_element()
            .expect("a valid test value")
            .to_string()
        },
        "<x xmlns='jabber:x:roster'><item jid='mercutio@verona.lit' name='Mercutio'><group>Friends</group><group>Verona</group></item></x>",
    );
    e(
        &|| {
            Invitation {
                room: jid("darkcave@chat.shakespeare.lit"),
                reason: Some("tonight".into()),
                password: Some("cauldron".into()),
                continues: Some("e0ffe42b".into()),
            }
            .to_element()
            .expect("a valid test value")
            .to_string()
        },
        "<x xmlns='jabber:x:conference' jid='darkcave@chat.shakespeare.lit' password='cauldron' reason='tonight' continue='true' thread='e0ffe42b'/>",
    );
    e(
        &|| {
            Receipt::Received(Some("r1".into()))
                .to_element()
                .expect("a valid test value")
                .to_string()
        },
        "<received xmlns='urn:xmpp:receipts' id='r1'/>",
    );
    for s in ChatState::ALL {
        assert_eq!(
            s.to_element().expect("a valid test value").to_string(),
            format!("<{s} xmlns='http://jabber.org/protocol/chatstates'/>")
        );
    }
}

#[test]
fn classic_payloads_as_servers_send_them() {
    let m = parse(
        "<message from='romeo@montague.net/orchard' id='m7' type='chat'>\
         <body>Come to the feast</body>\
         <x xmlns='jabber:x:conference' jid='feast@conference.capulet.com'>Masks on</x>\
         <x xmlns='jabber:x:event'><delivered/><composing/></x>\
         <x xmlns='jabber:x:envelope'><to jid='juliet@capulet.com' name='Juliet'/><unknown jid='a@b'/><cc jid='not a jid@'/></x>\
         <x xmlns='jabber:x:roster'><item jid='mercutio@verona.lit'/><item name='no jid'/></x>\
         <active xmlns='http://jabber.org/protocol/chatstates'/>\
         <custom xmlns='urn:example:custom' a='1'><deep/></custom>\
         </message>",
    );
    let inv: Invitation = m.extension().expect("a valid test value");
    assert_eq!(inv.room, jid("feast@conference.capulet.com"));
    assert_eq!(inv.reason.as_deref(), Some("Masks on"));
    assert_eq!((inv.password, inv.continues), (None, None));
    let ev = m.events().expect("a valid test value");
    assert!(ev.is_request() && ev.delivered && ev.composing && !ev.offline && !ev.displayed);
    let env: Envelope = m.extension().expect("a valid test value");
    assert_eq!(env.addresses.len(), 1);
    assert_eq!(env.addresses[0].name.as_deref(), Some("Juliet"));
    assert!(!env.is_forwarded());
    let roster: RosterExchange = m.extension().expect("a valid test value");
    assert_eq!(roster.items.len(), 1);
    assert_eq!(m.chat_state(), Some(ChatState::Active));
    assert_eq!(m.receipt(), None);
    assert_eq!(m.me(), None);
    // Unknown children stay available, untouched.
    let unknown: Vec<String> = m.unknown_children().map(|c| c.to_string()).collect();
    assert_eq!(
        unknown,
        ["<custom xmlns='urn:example:custom' a='1'><deep/></custom>"]
    );
    // A notice names the message it is about.
    let notice = parse(
        "<message from='juliet@capulet.com/balcony'><x xmlns='jabber:x:event'><displayed/><id>m7</id></x></message>",
    );
    let ev = notice.events().expect("a valid test value");
    assert!(!ev.is_request() && ev.displayed);
    assert_eq!(ev.id.as_deref(), Some("m7"));
    // Wrong or missing required parts read as absent, never as a panic.
    let broken = parse(
        "<message><x xmlns='jabber:x:oob'><desc>no url</desc></x><x xmlns='jabber:x:expire' seconds='soon'/>\
         <x xmlns='jabber:x:conference'/><received xmlns='urn:xmpp:receipts'/></message>",
    );
    assert_eq!(broken.extension::<Oob>(), None);
    assert_eq!(broken.extension::<Expire>(), None);
    assert_eq!(broken.extension::<Invitation>(), None);
    assert_eq!(broken.receipt(), Some(Receipt::Received(None)));
}

#[test]
fn me_helper_reads_only_the_prefix() {
    let me = parse("<message from='a@b/c'><body>/me waves at everyone.</body></message>");
    assert_eq!(me.me().as_deref(), Some("waves at everyone."));
    for body in ["/meow", "/me", " /me waves", "hello /me"] {
        let m = parse(&format!(
            "<message from='a@b/c'><body>{body}</body></message>"
        ));
        assert_eq!(m.me(), None, "{body}");
    }
}

#[test]
fn replies_keep_the_thread_and_address_the_sender() {
    let m = parse(
        "<message from='darkcave@chat.shakespeare.lit/firstwitch' type='groupchat'><body>Thrice</body><thread>t1</thread></message>",
    );
    assert_eq!(
        wire(
            &m.reply()
                .expect("a valid test value")
                .body("Hail")
                .build()
                .expect("a valid test value")
        ),
        "<message xmlns='jabber:client' to='darkcave@chat.shakespeare.lit' type='groupchat'><body>Hail</body><thread>t1</thread></message>"
    );
    let m = parse("<message from='romeo@montague.net/orchard'><body>hi</body></message>");
    assert_eq!(
        wire(
            &m.reply()
                .expect("a valid test value")
                .body("hey")
                .build()
                .expect("a valid test value")
        ),
        "<message xmlns='jabber:client' to='romeo@montague.net/orchard'><body>hey</body></message>"
    );
    let error = parse("<message from='romeo@montague.net' type='error'><body>hi</body></message>");
    assert!(error.reply().is_none());
    let headline =
        parse("<message from='news.montague.net' type='headline'><body>Verona</body></message>");
    assert!(headline.reply().is_none());
    assert!(
        parse("<message><body>from the server</body></message>")
            .reply()
            .is_none()
    );
}

#[test]
fn error_messages_carry_condition_code_and_original_body() {
    let m = parse(
        "<message from='romeo@montague.net/orchard' to='juliet@capulet.com' id='m1' type='chat'>\
         <body>Art thou there?</body><thread>t1</thread></message>",
    );
    let reply = m
        .error_reply(&StanzaError::new(StanzaCondition::ServiceUnavailable))
        .expect("a valid test value")
        .expect("a valid test value");
    assert_eq!(
        wire(&reply),
        "<message xmlns='jabber:client' to='romeo@montague.net/orchard' id='m1' type='error'>\
         <body>Art thou there?</body><thread>t1</thread>\
         <error type='cancel' code='503'><service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></message>"
    );
    assert!(
        reply
            .error_reply(&StanzaError::new(StanzaCondition::BadRequest))
            .is_none()
    );

    // As a classic server sends it: a code only, and the original body.
    let bounced = parse(
        "<message from='nobody@capulet.com' type='error' id='m2'><body>hello?</body>\
         <error code='404'>Not Found</error></message>",
    );
    assert_eq!(bounced.kind(), MessageType::Error);
    let e = bounced.error().expect("a valid test value");
    assert_eq!(
        (e.condition, e.code),
        (StanzaCondition::ItemNotFound, Some(404))
    );
    assert_eq!(e.text.as_deref(), Some("Not Found"));
    assert_eq!(bounced.body().as_deref(), Some("hello?"));
}

// ---- every buildable message survives write -> parse ----

#[derive(Clone, Debug)]
enum Ext {
    ChatState(ChatState),
    Receipt(Receipt),
    Events(MessageEvents),
    Expire(Expire),
    Envelope(Envelope),
    Signed(Signed),
    Oob(Oob),
    Roster(RosterExchange),
    Invitation(Invitation),
    Delay(Delay),
}

fn text() -> impl Strategy<Value = String> {
    // Non-empty, and with what needs escaping; XML cannot carry control characters,
    // and the API refuses them at build time (tested in the builder's own tests).
    "[a-zA-Z0-9 <>&'\"é€😀]{1,12}"
}

fn arb_jid() -> impl Strategy<Value = Jid> {
    (
        "[a-z]{1,8}",
        "[a-z]{1,8}\\.(com|lit)",
        proptest::option::of("[A-Za-z0-9]{1,8}"),
    )
        .prop_map(|(l, d, r)| match r {
            Some(r) => jid(&format!("{l}@{d}/{r}")),
            None => jid(&format!("{l}@{d}")),
        })
}

fn arb_ext() -> impl Strategy<Value = Ext> {
    let opt = |s: BoxedStrategy<String>| proptest::option::of(s);
    prop_oneof![
        proptest::sample::select(ChatState::ALL.to_vec()).prop_map(Ext::ChatState),
        proptest::option::of("[a-z0-9]{1,8}").prop_map(|id| Ext::Receipt(
            id.map_or(Receipt::Request, |i| Receipt::Received(Some(i)))
        )),
        (any::<[bool; 4]>(), proptest::option::of("[a-z0-9]{1,8}")).prop_map(|(f, id)| {
            Ext::Events(MessageEvents {
                offline: f[0],
                delivered: f[1],
                displayed: f[2],
                composing: f[3],
                id,
            })
        }),
        (any::<u32>(), proptest::option::of(any::<u64>()))
            .prop_map(|(seconds, stored)| Ext::Expire(Expire { seconds, stored })),
        proptest::collection::vec(
            (
                proptest::sample::select(AddressRole::ALL.to_vec()),
                arb_jid(),
                opt(text().boxed())
            ),
            0..4,
        )
        .prop_map(|a| Ext::Envelope(Envelope {
            addresses: a
                .into_iter()
                .map(|(role, jid, name)| Address { role, jid, name })
                .collect()
        })),
        "[A-Za-z0-9+/=]{0,20}".prop_map(|payload| Ext::Signed(Signed { payload })),
        (text(), opt(text().boxed())).prop_map(|(url, desc)| Ext::Oob(Oob { url, desc })),
        proptest::collection::vec(
            (
                arb_jid(),
                opt(text().boxed()),
                proptest::collection::vec(text(), 0..3)
            ),
            0..3
        )
        .prop_map(|items| Ext::Roster(RosterExchange {
            items: items
                .into_iter()
                .map(|(jid, name, groups)| SharedItem { jid, name, groups })
                .collect()
        })),
        (
            arb_jid(),
            opt(text().boxed()),
            opt(text().boxed()),
            opt("[a-z0-9]{0,8}".boxed())
        )
            .prop_map(
                |(room, reason, password, continues)| Ext::Invitation(Invitation {
                    room,
                    reason,
                    password,
                    continues
                })
            ),
        (
            (Timestamp::MIN.unix_millis()..=Timestamp::MAX.unix_millis()),
            opt(text().boxed()),
            any::<bool>(),
        )
            .prop_map(|(ms, reason, legacy)| {
                // The legacy form carries whole seconds only.
                let ms = if legacy { ms - ms.rem_euclid(1000) } else { ms };
                let mut d =
                    Delay::new(Timestamp::from_unix_millis(ms).expect("a valid test value"));
                d.reason = reason;
                if legacy {
                    d.form = DelayForm::Legacy;
                }
                Ext::Delay(d)
            }),
    ]
}

fn add(b: MessageBuilder, e: &Ext) -> MessageBuilder {
    match e {
        Ext::ChatState(x) => b.extension(x),
        Ext::Receipt(x) => b.extension(x),
        Ext::Events(x) => b.extension(x),
        Ext::Expire(x) => b.extension(x),
        Ext::Envelope(x) => b.extension(x),
        Ext::Signed(x) => b.extension(x),
        Ext::Oob(x) => b.extension(x),
        Ext::Roster(x) => b.extension(x),
        Ext::Invitation(x) => b.extension(x),
        Ext::Delay(x) => b.extension(x),
    }
}

fn check(m: &Message, e: &Ext) -> Result<(), TestCaseError> {
    match e {
        Ext::ChatState(x) => prop_assert_eq!(m.chat_state(), Some(*x)),
        Ext::Receipt(x) => prop_assert_eq!(m.receipt(), Some(x.clone())),
        Ext::Events(x) => {
            // An empty <id/> is still a notice, read back as Some("").
            prop_assert_eq!(m.events(), Some(x.clone()))
        }
        Ext::Expire(x) => prop_assert_eq!(m.extension::<Expire>(), Some(*x)),
        Ext::Envelope(x) => prop_assert_eq!(m.extension::<Envelope>(), Some(x.clone())),
        Ext::Signed(x) => prop_assert_eq!(m.extension::<Signed>(), Some(x.clone())),
        Ext::Oob(x) => prop_assert_eq!(m.extension::<Oob>(), Some(x.clone())),
        Ext::Roster(x) => prop_assert_eq!(m.extension::<RosterExchange>(), Some(x.clone())),
        Ext::Invitation(x) => prop_assert_eq!(m.extension::<Invitation>(), Some(x.clone())),
        Ext::Delay(x) => prop_assert_eq!(m.delay(), Some(x.clone())),
    }
    Ok(())
}

proptest! {
    #[test]
    fn every_buildable_message_survives_write_then_parse(
        kind in 0..4usize,
        to in arb_jid(),
        id in proptest::option::of("[a-zA-Z0-9-]{1,10}"),
        subject in proptest::option::of(text()),
        body in proptest::option::of(text()),
        thread in proptest::option::of("[a-zA-Z0-9]{1,16}"),
        me in proptest::option::of(text()),
        encrypted in proptest::option::of("[A-Za-z0-9+/=]{1,20}"),
        exts in proptest::collection::vec(arb_ext(), 0..6),
    ) {
        // At most one payload of each kind: the getters read the first.
        let mut exts = exts;
        let mut kinds = Vec::new();
        exts.retain(|e| {
            let k = std::mem::discriminant(e);
            !kinds.contains(&k) && { kinds.push(k); true }
        });
        let mut b = match kind {
            0 => Message::chat(&to),
            1 => Message::normal(&to),
            2 => Message::headline(&to),
            _ => Message::groupchat(&to),
        };
        if let Some(id) = &id { b = b.id(id); }
        if let Some(s) = &subject { b = b.subject(s); }
        if let Some(s) = &body { b = b.body(s); }
        if let Some(s) = &me { b = b.me(s); }
        if let Some(t) = &thread { b = b.thread(t); }
        if let Some(p) = &encrypted { b = b.encrypted(p); }
        for ext in &exts {
            b = add(b, ext);
        }
        let built = b.build().expect("a valid test value");
        let m = parse(&wire(&built));
        prop_assert_eq!(&m, &built);
        prop_assert_eq!(m.kind(), [MessageType::Chat, MessageType::Normal, MessageType::Headline, MessageType::Groupchat][kind]);
        let want_to = if kind == 3 { to.to_bare() } else { to.clone() };
        prop_assert_eq!(m.to().map(|j| j.to_owned_jid()), Some(want_to));
        prop_assert_eq!(m.id().map(String::from), id.clone());
        prop_assert_eq!(m.subject().map(|t| t.into_owned()), subject.clone());
        let want_body = match (&me, &body, &encrypted) {
            (Some(a), _, _) => Some(format!("/me {a}")),
            (None, Some(b), _) => Some(b.clone()),
            (None, None, Some(_)) => Some(ENCRYPTED_BODY.to_string()),
            _ => None,
        };
        prop_assert_eq!(m.body().map(|b| b.into_owned()), want_body);
        prop_assert_eq!(m.me().map(|t| t.into_owned()), me.clone());
        prop_assert_eq!(m.thread().map(|t| t.into_owned()), thread.clone());
        prop_assert_eq!(m.extension::<Encrypted>().map(|e| e.payload), encrypted);
        for ext in &exts {
            check(&m, ext)?;
        }
        prop_assert_eq!(m.unknown_children().count(), 0);
    }
}

// ---- the client: expiry and automatic answers ----

fn config() -> Config {
    let mut c = Config::new(
        "example.com",
        NonZeroU64::new(SEED).expect("a valid test value"),
    );
    // A classic server is scripted: the classic stream, stated (1.0 is the default).
    c.version = None;
    c.fetch_roster = false;
    c.initial_presence = false;
    c.keepalive_interval = None;
    c.dead_peer_timeout = None;
    c
}

fn answering() -> Config {
    let mut c = config();
    c.auto_answers = AutoAnswers::ALL;
    c
}

fn messages(h: &mut Harness) -> Vec<(&'static str, Message)> {
    h.events()
        .into_iter()
        .map(|e| match e {
            Event::Stanza(StanzaEvent::Message(m)) => ("fresh", m),
            Event::Stanza(StanzaEvent::ExpiredMessage(m)) => ("expired", m),
            other => panic!("unexpected {other:?}"),
        })
        .collect()
}

const EXPIRING_STORED: &str = "<message from='romeo@montague.net/orchard' to='alice@example.com' id='e1'>\
    <body>meet me at noon</body><x xmlns='jabber:x:expire' seconds='3600'/>\
    <delay xmlns='urn:xmpp:delay' from='example.com' stamp='2026-12-03T10:00:00Z'>Offline Storage</delay>\
    <request xmlns='urn:xmpp:receipts'/></message>";

#[test]
fn expiry_counts_from_the_delay_stamp_against_the_utc_given() {
    let mut h = Harness::logged_in(answering());
    // No wall clock yet: nothing can be judged expired.
    h.server(EXPIRING_STORED);
    assert_eq!(messages(&mut h)[0].0, "fresh");
    h.sent();

    let now = h.now;
    h.client.set_utc(
        now,
        Timestamp::parse("2026-12-03T10:59:59Z").expect("a valid test value"),
    );
    h.server(EXPIRING_STORED);
    assert_eq!(messages(&mut h)[0].0, "fresh");
    h.sent();

    // Two seconds of virtual time later the hour since the stamp has passed.
    h.advance(Duration::from_secs(2));
    assert_eq!(
        h.client.utc(h.now),
        Timestamp::parse("2026-12-03T11:00:01Z")
    );
    h.server(EXPIRING_STORED);
    let got = messages(&mut h);
    assert_eq!(got[0].0, "expired");
    assert_eq!(got[0].1.body().as_deref(), Some("meet me at noon"));
    // An expired message is not acknowledged: it was not delivered.
    assert_eq!(h.sent(), "");
}

#[test]
fn expiry_without_delay_stamp() {
    let mut h = Harness::logged_in(config());
    let now = h.now;
    h.client.set_utc(
        now,
        Timestamp::parse("2026-12-03T12:00:00Z").expect("a valid test value"),
    );
    // Fresh from the sender: its lifetime starts now, even at zero seconds.
    h.server(
        "<message from='a@b.c/d'><body>x</body><x xmlns='jabber:x:expire' seconds='0'/></message>",
    );
    assert_eq!(messages(&mut h)[0].0, "fresh");
    // A server that honours the extension says when it stored it.
    let stored = Timestamp::parse("2026-12-03T11:00:00Z")
        .expect("a valid test value")
        .unix_millis()
        / 1000;
    h.server(&format!(
        "<message from='a@b.c/d'><body>x</body><x xmlns='jabber:x:expire' seconds='60' stored='{stored}'/></message>"
    ));
    assert_eq!(messages(&mut h)[0].0, "expired");
    h.server(&format!(
        "<message from='a@b.c/d'><body>x</body><x xmlns='jabber:x:expire' seconds='7200' stored='{stored}'/></message>"
    ));
    assert_eq!(messages(&mut h)[0].0, "fresh");
    // A stamp without jabber:x:expire is just old, not expired.
    h.server("<message from='a@b.c/d'><body>x</body><x xmlns='jabber:x:delay' stamp='19990101T00:00:00'/></message>");
    assert_eq!(messages(&mut h)[0].0, "fresh");
}

#[test]
fn receipts_and_delivered_events_answered_once_when_asked() {
    let mut h = Harness::logged_in(answering());
    h.server(
        "<message from='romeo@montague.net/orchard' id='m1' type='chat'><body>hi</body>\
         <request xmlns='urn:xmpp:receipts'/><request xmlns='urn:xmpp:receipts'/>\
         <x xmlns='jabber:x:event'><delivered/><displayed/><composing/></x></message>",
    );
    assert_eq!(messages(&mut h).len(), 1);
    assert_eq!(
        h.sent(),
        "<message to='romeo@montague.net/orchard'><received xmlns='urn:xmpp:receipts' id='m1'/></message>\
         <message to='romeo@montague.net/orchard'><x xmlns='jabber:x:event'><delivered/><id>m1</id></x></message>"
    );
}

#[test]
fn automatic_answers_refused_where_they_do_not_belong() {
    let refused = [
        // Errors are never answered.
        "<message from='r@m.net/o' id='m1' type='error'><body>hi</body><request xmlns='urn:xmpp:receipts'/>\
         <x xmlns='jabber:x:event'><delivered/></x><error code='404'/></message>",
        // The room would broadcast the answer.
        "<message from='room@chat.m.net/nick' id='m1' type='groupchat'><body>hi</body><request xmlns='urn:xmpp:receipts'/>\
         <x xmlns='jabber:x:event'><delivered/></x></message>",
        // Nothing to name the message by.
        "<message from='r@m.net/o'><body>hi</body><request xmlns='urn:xmpp:receipts'/><x xmlns='jabber:x:event'><delivered/></x></message>",
        "<message from='r@m.net/o' id=''><body>hi</body><request xmlns='urn:xmpp:receipts'/></message>",
        // Nobody to answer.
        "<message id='m1'><body>hi</body><request xmlns='urn:xmpp:receipts'/><x xmlns='jabber:x:event'><delivered/></x></message>",
        // A receipt that also asks for one; a notice that is not a request.
        "<message from='r@m.net/o' id='m1'><received xmlns='urn:xmpp:receipts' id='m0'/><request xmlns='urn:xmpp:receipts'/></message>",
        "<message from='r@m.net/o' id='m1'><x xmlns='jabber:x:event'><delivered/><id>m0</id></x></message>",
        // Only delivered is answered automatically.
        "<message from='r@m.net/o' id='m1'><body>hi</body><x xmlns='jabber:x:event'><displayed/><composing/></x></message>",
    ];
    let mut h = Harness::logged_in(answering());
    for xml in refused {
        h.server(xml);
        assert_eq!(messages(&mut h).len(), 1, "{xml}");
        assert_eq!(h.sent(), "", "{xml}");
    }
    // Off by default.
    let mut h = Harness::logged_in(config());
    h.server(
        "<message from='r@m.net/o' id='m1'><body>hi</body><request xmlns='urn:xmpp:receipts'/><x xmlns='jabber:x:event'><delivered/></x></message>",
    );
    assert_eq!(messages(&mut h).len(), 1);
    assert_eq!(h.sent(), "");
    // Not after our close: nothing may follow </stream:stream>.
    let mut h = Harness::logged_in(answering());
    let now = h.now;
    h.client.close(now);
    assert!(h.sent().ends_with("</stream:stream>"));
    h.server("<message from='r@m.net/o' id='m1'><body>hi</body><request xmlns='urn:xmpp:receipts'/></message>");
    assert_eq!(messages(&mut h).len(), 1);
    assert_eq!(h.sent(), "");
    // Not before login: the session is not ours yet.
    let mut h = Harness::open(answering());
    h.server("<message from='r@m.net/o' id='m1'><body>hi</body><request xmlns='urn:xmpp:receipts'/></message>");
    assert_eq!(messages(&mut h).len(), 1);
    assert_eq!(h.sent(), "");
}

#[test]
fn threads_come_from_the_seed_and_never_repeat() {
    let mut h = Harness::logged_in(config());
    let juliet = jid("juliet@capulet.com");
    let a = h
        .client
        .new_conversation(&juliet)
        .body("one")
        .build()
        .expect("a valid test value");
    let b = h.client.new_thread();
    assert_ne!(a.thread().expect("a valid test value"), b);
    let prefix = format!("{:08x}t", (SEED ^ (SEED >> 32)) as u32);
    assert!(b.starts_with(&prefix), "{b}");
    let now = h.now;
    h.client.send(now, a).expect("a valid test value");
    assert_eq!(
        h.sent(),
        format!(
            "<message to='juliet@capulet.com' type='chat'><body>one</body><thread>{prefix}3</thread></message>"
        )
    );
    // Another seed, other threads.
    let mut other = config();
    other.seed = NonZeroU64::new(SEED + (1 << 40)).expect("a valid test value");
    let mut h2 = Harness::new(other);
    assert_ne!(h2.client.new_thread(), b);
}

#[test]
fn answer_helpers_build_only_what_was_asked() {
    let m = parse(
        "<message from='romeo@montague.net/orchard' id='m1' type='chat'><body>hi</body>\
         <request xmlns='urn:xmpp:receipts'/><x xmlns='jabber:x:event'><displayed/><composing/></x></message>",
    );
    let build = |b: Option<MessageBuilder>| b.map(|b| wire(&b.build().expect("an answer")));
    assert_eq!(
        build(m.event_notice(Notice::Displayed)).as_deref(),
        Some(
            "<message xmlns='jabber:client' to='romeo@montague.net/orchard'><x xmlns='jabber:x:event'><displayed/><id>m1</id></x></message>"
        )
    );
    assert_eq!(
        build(m.event_notice(Notice::Composing)).as_deref(),
        Some(
            "<message xmlns='jabber:client' to='romeo@montague.net/orchard'><x xmlns='jabber:x:event'><composing/><id>m1</id></x></message>"
        )
    );
    assert_eq!(build(m.event_notice(Notice::Delivered)), None);
    assert_eq!(build(m.event_notice(Notice::Offline)), None);
    assert_eq!(
        build(m.receipt_answer()).as_deref(),
        Some(
            "<message xmlns='jabber:client' to='romeo@montague.net/orchard'><received xmlns='urn:xmpp:receipts' id='m1'/></message>"
        )
    );
    let groupchat = parse(
        "<message from='room@chat.m.net/n' id='g1' type='groupchat'><request xmlns='urn:xmpp:receipts'/>\
         <x xmlns='jabber:x:event'><displayed/></x></message>",
    );
    assert!(groupchat.receipt_answer().is_none());
    assert!(groupchat.event_notice(Notice::Displayed).is_none());
}
