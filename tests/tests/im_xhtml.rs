//! XHTML-IM (XEP-0071) between two accounts on a real ejabberd and a real prosody, through
//! the blocking adapter: a styled message built with `HtmlBuilder` arrives with the same
//! safe representation and its plain-text body; hostile markup sent by hand arrives with
//! nothing of it left but text.

use std::time::Duration;

use jabber_net::Options;
use jabber_proto::client::{Config, Event, StanzaEvent};
use jabber_proto::jid::Jid;
use jabber_proto::ns;
use jabber_proto::stanza::MessageType;
use jabber_proto::stanza::xhtml::{
    Color, FontFamily, GenericFamily, Html, HtmlBuilder, Image, NS_XHTML, NS_XHTML_IM, Node,
    Sanitized, Style,
};
use jabber_proto::xml::Element;
use jabber_tests::adapters::{Adapter, Session, StdAdapter};
use jabber_tests::scenario::{creds, wait_for};
use jabber_tests::{Server, ServerKind};

const PASSWORD: &str = "pw-xhtml";
const WAIT: Duration = Duration::from_secs(10);

fn login(server: &Server, user: &str) -> Box<dyn Session> {
    let mut config = Config::new(server.domain(), jabber_net::fresh_seed());
    // These tests are about features, not the login: the classic login on plain TCP
    // (1.0 with STARTTLS is tested in xmpp1.rs and conformance).
    config.version = None;
    // prosody 0.12 offers no digest on plain TCP (loopback only).
    config.allow_plaintext = server.kind() == ServerKind::Prosody;
    let mut session = StdAdapter
        .connect(server.addr(), config, Options::plain())
        .unwrap_or_else(|e| panic!("{}: connect: {e}", server.kind().name()));
    session
        .login(creds(user, PASSWORD))
        .unwrap_or_else(|e| panic!("{}: login as {user}: {e}", server.kind().name()));
    session
}

/// The body and the XHTML-IM content of the next message that has the latter.
fn styled_message(e: &Event) -> Option<(Option<String>, Sanitized)> {
    match e {
        Event::Stanza(StanzaEvent::Message(m)) => {
            let html = m.html()?;
            Some((m.body().map(|b| b.to_string()), html))
        }
        _ => None,
    }
}

fn styled() -> Html {
    let mut b = HtmlBuilder::new();
    b.open_paragraph(Style::new())
        .and_then(|b| b.text("Hello, "))
        .and_then(|b| {
            b.styled(
                "world",
                Style::new()
                    .bold()
                    .color(Color::rgb(0, 128, 0))
                    .family(FontFamily::Generic(GenericFamily::Monospace)),
            )
        })
        .and_then(|b| b.text(" <&> ünïcödé"))
        .and_then(|b| b.end())
        .and_then(|b| b.open_list(false, Style::new()))
        .and_then(|b| b.open_item(Style::new().italic()))
        .and_then(|b| b.link("https://example.com/a b", "a link"))
        .and_then(|b| b.end())
        .and_then(|b| b.open_item(Style::new()))
        .and_then(|b| b.image(Image::new("https://example.com/i.png", "an image")?))
        .and_then(|b| b.line_break())
        .and_then(|b| b.text("after the break"))
        .and_then(|b| b.end())
        .and_then(|b| b.end())
        .and_then(|b| b.open_quote(Style::new()))
        .and_then(|b| b.text("quoted"))
        .and_then(|b| b.end())
        .expect("valid steps");
    b.build().expect("all closed")
}

/// Markup a hostile or careless client sends: legacy tags, a script, handlers, a
/// `javascript:` link, a style with `expression()`.
fn hostile(to: &Jid) -> Element {
    let x = |name: &str| Element::builder(name, NS_XHTML);
    let body = x("body")
        .child(x("script").text("alert(1)"))
        .child(
            x("font")
                .attr("color", "red")
                .attr("onmouseover", "alert(2)")
                .text("red"),
        )
        .child(x("a").attr("href", " JaVaScRiPt:alert(3)").text("click"))
        .child(
            x("span")
                .attr("style", "color: expression(alert(4)); font-style: italic")
                .text("it"),
        );
    Element::builder("message", ns::CLIENT)
        .attr("to", to.as_str())
        .attr("type", "chat")
        .child(Element::builder("body", ns::CLIENT).text("red click it"))
        .child(Element::builder("html", NS_XHTML_IM).child(body))
        .build()
        .expect("a message")
}

fn run(kind: ServerKind) {
    let server = Server::start(kind).expect("a server");
    for user in ["alice", "bob"] {
        server.register(user, PASSWORD).expect("an account");
    }
    let alice = login(&server, "alice");
    let mut bob = login(&server, "bob");
    let bob_jid = bob.jid().expect("bob's JID");
    let mut alice = alice;

    let html = styled();
    let message = html
        .message(MessageType::Chat, &bob_jid)
        .expect("a message");
    alice.send(message.into()).expect("send");
    let (body, got) = wait_for(&mut *bob, WAIT, styled_message);
    assert_eq!(got.html, html, "{}: the styled message", kind.name());
    assert!(got.removed.is_empty(), "{}: {:?}", kind.name(), got.removed);
    assert_eq!(body.as_deref(), Some(html.plain_text().as_str()));
    assert_eq!(
        html.plain_text(),
        "Hello, world <&> ünïcödé\n- a link <https://example.com/a%20b>\n\
         - an image\n  after the break\n> quoted"
    );

    alice.send(hostile(&bob_jid)).expect("send");
    let (_, got) = wait_for(&mut *bob, WAIT, styled_message);
    let span = |style: Style, text: &str| {
        let mut b = HtmlBuilder::new();
        b.styled(text, style).expect("a span");
        b.build().expect("closed").bodies()[0].nodes()[0].clone()
    };
    assert_eq!(
        got.html.body().expect("a body").nodes(),
        &[
            span(Style::new().color(Color::rgb(255, 0, 0)), "red"),
            Node::Text("click".into()),
            span(Style::new().italic(), "it"),
        ],
        "{}",
        kind.name()
    );
    assert_eq!(got.removed.elements, 1);
    assert_eq!(got.removed.attributes, 1);
    assert_eq!(got.removed.links, 1);
    assert_eq!(got.removed.styles, 1);

    alice.close().expect("logout");
    bob.close().expect("logout");
}

#[test]
fn ejabberd_styled_message_and_hostile_markup() {
    run(ServerKind::Ejabberd);
}

#[test]
fn prosody_styled_message_and_hostile_markup() {
    run(ServerKind::Prosody);
}
