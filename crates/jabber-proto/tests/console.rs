//! The XML console: every item in and out recorded, secrets masked byte-exactly, nothing
//! recorded when it is off, the bound.

mod support;

use std::num::NonZeroU64;

use jabber_proto::client::{AccountEvent, Config, Event};
use jabber_proto::console::{ConsoleEntry, Direction, MASK};
use jabber_proto::negotiation::auth::{self, AuthMethod, Credentials};
use jabber_proto::negotiation::register::{self, Field, RegistrationForm};
use jabber_proto::stream::Writer;
use jabber_proto::xml::Element;
use support::{CLASSIC_HEADER, Harness, SEED, wire_id};

const SECRET: &str = "s3cr3t-Pa55";

fn config() -> Config {
    let mut c = Config::new("example.com", NonZeroU64::MIN);
    c.seed = NonZeroU64::new(SEED).expect("a non-zero seed");
    c.console = true;
    // The scripts below are classic (jabber:iq:auth) logins.
    c.version = None;
    c.fetch_roster = false;
    c.initial_presence = false;
    c
}

fn console(h: &mut Harness) -> Vec<ConsoleEntry> {
    std::iter::from_fn(|| h.client.poll_console()).collect()
}

fn outbound(entries: &[ConsoleEntry]) -> Vec<&str> {
    entries
        .iter()
        .filter(|e| e.direction == Direction::Out)
        .map(|e| e.xml.as_str())
        .collect()
}

/// Starts a login with [`SECRET`] and answers the fields request with `fields`.
fn login_with_fields(config: Config, fields: &str) -> Harness {
    let mut h = Harness::new(config);
    let now = h.now;
    h.client
        .login(now, Credentials::new("alice", SECRET, "desk"))
        .expect("login starts");
    h.server(CLASSIC_HEADER);
    h.server(&format!(
        "<iq type='result' id='{}'><query xmlns='jabber:iq:auth'>{fields}</query></iq>",
        wire_id(1)
    ));
    h
}

#[test]
fn login_digest_is_masked() {
    let mut h = login_with_fields(config(), "<username/><digest/><resource/>");
    let wire = h.sent();
    let digest = auth::digest("3EE948B0", SECRET);
    assert!(wire.contains(&digest), "the wire carries the digest");
    let entries = console(&mut h);
    let out = outbound(&entries);
    assert_eq!(
        out,
        [
            "<?xml version='1.0'?><stream:stream xmlns='jabber:client' \
             xmlns:stream='http://etherx.jabber.org/streams' to='example.com'>"
                .to_owned(),
            format!(
                "<iq type='get' id='{}'><query xmlns='jabber:iq:auth'>\
                 <username>alice</username></query></iq>",
                wire_id(1)
            ),
            format!(
                "<iq type='set' id='{}'><query xmlns='jabber:iq:auth'>\
                 <username>alice</username><digest>***</digest><resource>desk</resource>\
                 </query></iq>",
                wire_id(2)
            ),
        ]
    );
    // The server's fields list carries empty elements: nothing to mask, shown as is.
    let inbound: Vec<&str> = entries
        .iter()
        .filter(|e| e.direction == Direction::In)
        .map(|e| e.xml.as_str())
        .collect();
    assert!(inbound[0].starts_with("<stream:stream"), "{inbound:?}");
    assert!(inbound[1].contains("<digest/>"), "{inbound:?}");
    assert!(entries.iter().all(|e| e.time == h.now));
    assert!(!entries.iter().any(|e| e.xml.contains(&digest)));
}

#[test]
fn login_plaintext_is_masked() {
    let mut c = config();
    c.allow_plaintext = true;
    let mut h = login_with_fields(c, "<username/><password/><resource/>");
    assert!(h.sent().contains(SECRET), "the wire carries the password");
    let entries = console(&mut h);
    assert_eq!(
        outbound(&entries).last().copied(),
        Some(
            format!(
                "<iq type='set' id='{}'><query xmlns='jabber:iq:auth'>\
                 <username>alice</username><password>***</password><resource>desk</resource>\
                 </query></iq>",
                wire_id(2)
            )
            .as_str()
        )
    );
}

#[test]
fn inbound_echo_of_a_password_is_masked() {
    let mut c = config();
    c.allow_plaintext = true;
    let mut h = login_with_fields(c, "<username/><password/><resource/>");
    h.sent();
    console(&mut h);
    // ejabberd echoes the request, password included, in its error reply.
    h.server(&format!(
        "<iq type='error' id='{}'><query xmlns='jabber:iq:auth'><username>alice</username>\
         <password>{SECRET}</password><resource>desk</resource></query>\
         <error code='401' type='auth'><not-authorized \
         xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>",
        wire_id(2)
    ));
    let entries = console(&mut h);
    let echo = &entries[0];
    assert_eq!(echo.direction, Direction::In);
    assert_eq!(
        echo.xml,
        format!(
            "<iq type='error' id='{}'><query xmlns='jabber:iq:auth'><username>alice</username>\
             <password>***</password><resource>desk</resource></query>\
             <error code='401' type='auth'><not-authorized \
             xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>",
            wire_id(2)
        )
    );
    assert!(!entries.iter().any(|e| e.xml.contains(SECRET)));
    // The login failed: the client closes, and the close is recorded too.
    assert_eq!(outbound(&entries).last().copied(), Some("</stream:stream>"));
}

#[test]
fn registration_submit_is_masked() {
    let mut c = config();
    c.allow_plaintext = true;
    let mut h = Harness::new(c);
    h.server(CLASSIC_HEADER);
    let now = h.now;
    h.client.request_registration(now).expect("asked");
    h.server(&format!(
        "<iq type='result' id='{}'><query xmlns='jabber:iq:register'>\
         <username/><password/></query></iq>",
        wire_id(1)
    ));
    let events = h.events();
    let Some(Event::Account(AccountEvent::RegistrationForm(form))) = events.last() else {
        panic!("{events:?}")
    };
    let mut form = form.clone();
    form.set(Field::Username, "alice");
    form.set(Field::Password, SECRET);
    h.client.submit_registration(now, &form).expect("submitted");
    assert!(h.sent().contains(SECRET));
    let entries = console(&mut h);
    assert_eq!(
        outbound(&entries).last().copied(),
        Some(
            format!(
                "<iq type='set' id='{}'><query xmlns='jabber:iq:register'>\
                 <username>alice</username><password>***</password></query></iq>",
                wire_id(2)
            )
            .as_str()
        )
    );
}

#[test]
fn password_change_is_masked() {
    let mut c = config();
    c.allow_plaintext = true;
    let mut h = Harness::logged_in(c);
    console(&mut h);
    let now = h.now;
    h.client.change_password(now, SECRET).expect("sent");
    assert!(h.sent().contains(SECRET));
    let entries = console(&mut h);
    assert_eq!(
        outbound(&entries),
        [format!(
            "<iq type='set' id='{}'><query xmlns='jabber:iq:register'>\
             <username>alice</username><password>***</password></query></iq>",
            wire_id(3)
        )]
    );
}

/// Every payload builder of `negotiation::auth` and `negotiation::register`, given
/// [`SECRET`] wherever it takes one. A builder added to either module belongs here: if
/// it carries a secret in an element the mask table does not name, this fails.
fn every_payload_builder() -> Vec<(&'static str, Element)> {
    let credentials = Credentials::new("alice", SECRET, "desk");
    let mut form = RegistrationForm::with_fields(&[Field::Username, Field::Password, Field::Email]);
    form.set(Field::Username, "alice");
    form.set(Field::Password, SECRET);
    form.set(Field::Email, "a@example.com");
    let built = [
        ("auth::fields_query", auth::fields_query("alice")),
        (
            "auth::credentials_query(Digest)",
            auth::credentials_query(&credentials, AuthMethod::Digest, "3EE948B0"),
        ),
        (
            "auth::credentials_query(Plaintext)",
            auth::credentials_query(&credentials, AuthMethod::Plaintext, "3EE948B0"),
        ),
        ("register::form_query", register::form_query()),
        ("RegistrationForm::to_query", form.to_query()),
        (
            "RegistrationForm::to_query (data form)",
            data_form_submission(),
        ),
        (
            "register::password_change_query",
            register::password_change_query("alice", SECRET),
        ),
        ("register::remove_query", register::remove_query()),
        (
            "sasl::auth(PLAIN)",
            jabber_proto::negotiation::sasl::auth(
                jabber_proto::negotiation::sasl::Mechanism::Plain,
                &jabber_proto::negotiation::sasl::plain_message("alice", SECRET),
            ),
        ),
        (
            "sasl::response",
            jabber_proto::negotiation::sasl::response(format!("c=biws,p={SECRET}").as_bytes()),
        ),
    ];
    built
        .into_iter()
        .map(|(name, el)| (name, el.expect("a valid payload")))
        .collect()
}

/// A registration submitted as the server's data form (XEP-0077 §6), the password in a
/// `text-private` field.
fn data_form_submission() -> Result<Element, jabber_proto::xml::BuildError> {
    use jabber_proto::stanza::form::{DataForm, FieldType, FormField, FormKind};
    let mut data = DataForm::new(FormKind::Form);
    data.fields.push(FormField::form_type("jabber:iq:register"));
    data.fields
        .push(FormField::new("username", FieldType::TextSingle));
    data.fields
        .push(FormField::new("password", FieldType::TextPrivate));
    let mut form = RegistrationForm::with_fields(&[]);
    form.set_data_form(Some(data));
    form.set(Field::Username, "alice");
    form.set(Field::Password, SECRET);
    form.to_query()
}

#[test]
fn every_secret_builder_is_masked() {
    let digest = auth::digest("3EE948B0", SECRET);
    let plain = Writer::new("jabber:client");
    let masked = Writer::new("jabber:client").masked(true);
    let mut carried = 0;
    for (name, el) in every_payload_builder() {
        let mut wire = Vec::new();
        plain.element(&mut wire, el.root());
        let wire = String::from_utf8(wire).expect("UTF-8");
        // SASL data is base64: it carries the secret without showing it.
        if wire.contains(SECRET) || wire.contains(&digest) || name.starts_with("sasl::") {
            carried += 1;
        }
        let mut shown = Vec::new();
        masked.element(&mut shown, el.root());
        let shown = String::from_utf8(shown).expect("UTF-8");
        assert!(
            !shown.contains(SECRET) && !shown.contains(&digest),
            "{name} shows its secret: {shown}"
        );
        if wire != shown {
            assert!(shown.contains(MASK), "{name}: {shown}");
        }
    }
    assert_eq!(
        carried, 7,
        "the builders that carry a secret were all exercised"
    );
}

#[test]
fn console_off_records_nothing() {
    let mut c = config();
    c.console = false;
    let mut h = login_with_fields(c, "<username/><digest/><resource/>");
    h.sent();
    assert!(h.client.poll_console().is_none());
    assert_eq!(h.client.console_dropped(), 0);
}

#[test]
fn the_bound_drops_the_oldest_and_counts_them() {
    let mut c = config();
    c.console_max_bytes = 200;
    let mut h = login_with_fields(c, "<username/><digest/><resource/>");
    let entries = console(&mut h);
    assert!(entries.iter().map(|e| e.xml.len()).sum::<usize>() <= 200);
    let dropped = h.client.console_dropped();
    assert!(dropped >= 1, "{entries:?}");
    // The newest survived: the credentials request.
    assert!(
        entries.last().is_some_and(|e| e.xml.contains(MASK)),
        "{entries:?}"
    );
}

#[test]
fn stream_error_and_close_are_recorded() {
    let mut h = Harness::new(config());
    h.server(CLASSIC_HEADER);
    h.server(
        "<stream:error><conflict xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error>",
    );
    let entries = console(&mut h);
    let last: Vec<(Direction, &str)> = entries
        .iter()
        .rev()
        .take(2)
        .map(|e| (e.direction, e.xml.as_str()))
        .collect();
    assert_eq!(
        last,
        [
            (Direction::Out, "</stream:stream>"),
            (
                Direction::In,
                "<stream:error><conflict xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>\
                 </stream:error>"
            ),
        ]
    );
}

/// The SASL exchange through the client: what we send (PLAIN's `<auth>`, SCRAM's
/// `<auth>` and `<response>`) and what the server sends (`<challenge>`, `<success>`)
/// shows as `***`, byte-exact, in both directions.
#[test]
fn the_sasl_exchange_is_masked_both_ways() {
    use base64::Engine;
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    let header = "<stream:stream xmlns='jabber:client' \
        xmlns:stream='http://etherx.jabber.org/streams' id='s2' version='1.0'>";
    for mechanism in ["PLAIN", "SCRAM-SHA-1"] {
        let mut c = config();
        c.version = Some("1.0".into());
        c.transport_encrypted = true;
        let mut h = Harness::new(c);
        let now = h.now;
        h.client
            .login(now, Credentials::new("alice", SECRET, "desk"))
            .expect("login starts");
        h.sent();
        h.server(header);
        h.server(&format!(
            "<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>\
             <mechanism>{mechanism}</mechanism></mechanisms></stream:features>"
        ));
        let wire = h.sent();
        if mechanism == "SCRAM-SHA-1" {
            let first = wire
                .split('>')
                .nth(1)
                .and_then(|t| t.split('<').next())
                .expect("data");
            let first = base64::engine::general_purpose::STANDARD
                .decode(first)
                .expect("base64");
            let nonce = String::from_utf8(first).expect("UTF-8");
            let nonce = nonce.split(",r=").nth(1).expect("a nonce");
            h.server(&format!(
                "<challenge xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>{}</challenge>",
                b64(&format!("r={nonce}srv,s=c2FsdA==,i=4096"))
            ));
        }
        let entries = console(&mut h);
        let sasl: Vec<String> = entries
            .iter()
            .filter(|e| e.xml.contains("xmpp-sasl'") && !e.xml.contains("mechanisms"))
            .map(|e| format!("{} {}", e.direction.as_str(), e.xml))
            .collect();
        let auth = format!(
            "out <auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='{mechanism}'>***</auth>"
        );
        let expected: Vec<String> = if mechanism == "PLAIN" {
            vec![auth]
        } else {
            vec![
                auth,
                "in <challenge xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>***</challenge>".into(),
                "out <response xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>***</response>".into(),
            ]
        };
        assert_eq!(sasl, expected, "{mechanism}");
        let all: String = entries.iter().map(|e| e.xml.as_str()).collect();
        assert!(!all.contains(&b64(&format!("\0alice\0{SECRET}"))));
    }
}

#[test]
fn a_refused_write_takes_back_only_its_own_entry() {
    // A stanza too large for the console is dropped from it; when the send buffer then
    // refuses that stanza, the entry of the one before (which was sent) stays.
    let mut c = config();
    c.console_max_bytes = 200;
    c.max_unsent_bytes = 300;
    let mut h = Harness::new(c);
    h.server(CLASSIC_HEADER);
    console(&mut h);
    let now = h.now;
    let small = Element::builder("message", "jabber:client")
        .attr("to", "bob@example.com")
        .child(Element::builder("body", "jabber:client").text("sent"))
        .build()
        .expect("valid");
    h.client.send(now, small).expect("sent");
    let big = Element::builder("message", "jabber:client")
        .attr("to", "bob@example.com")
        .child(Element::builder("body", "jabber:client").text(&"x".repeat(250)))
        .build()
        .expect("valid");
    assert!(
        h.client.send(now, big).is_err(),
        "refused for the send buffer"
    );
    let entries = console(&mut h);
    let out = outbound(&entries);
    assert!(
        out.iter().any(|x| x.contains("<body>sent</body>")),
        "the sent stanza's entry was taken back: {out:?}"
    );
}

#[test]
fn upload_slot_credentials_are_masked() {
    // A slot as ejabberd or prosody may send it (XEP-0363 §5): the PUT's credentials
    // are secrets, its expiry is not.
    let slot = Element::builder("slot", "urn:xmpp:http:upload:0")
        .child(
            Element::builder("put", "urn:xmpp:http:upload:0")
                .attr("url", "https://up.example.com/a/f.bin")
                .child(
                    Element::builder("header", "urn:xmpp:http:upload:0")
                        .attr("name", "Authorization")
                        .text(SECRET),
                )
                .child(
                    Element::builder("header", "urn:xmpp:http:upload:0")
                        .attr("name", "Cookie")
                        .text(SECRET),
                )
                .child(
                    Element::builder("header", "urn:xmpp:http:upload:0")
                        .attr("name", "Expires")
                        .text("Tue, 1 Dec 2026 10:00:00 GMT"),
                ),
        )
        .build()
        .expect("a slot");
    assert_eq!(
        format!("{:?}", slot.root()),
        format!(
            "<slot xmlns='urn:xmpp:http:upload:0'><put url='https://up.example.com/a/f.bin'>\
             <header name='Authorization'>{MASK}</header><header name='Cookie'>{MASK}</header>\
             <header name='Expires'>Tue, 1 Dec 2026 10:00:00 GMT</header></put></slot>"
        )
    );
}
