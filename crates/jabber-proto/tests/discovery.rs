//! Service discovery (XEP-0030), entity capabilities (XEP-0115) and data forms
//! (XEP-0004) on a scripted server: the XEP's own hash examples, our answers and
//! queries byte-exact, replies from the wrong address dropped, capabilities cached only
//! when their hash verifies, registration with a data form, and private values masked.

mod support;

use std::num::NonZeroU64;

use jabber_proto::client::{AccountEvent, Config, DiscoEvent, Error, Event};
use jabber_proto::console::MASK;
use jabber_proto::features::caps::{self, CapsError, verification_string};
use jabber_proto::features::disco::{DiscoInfo, Discovery, Identity};
use jabber_proto::jid::Jid;
use jabber_proto::negotiation::register::Field;
use jabber_proto::stanza::form::{DataForm, FieldType, FormField, FormKind};
use jabber_proto::stanza::{Presence, StanzaCondition};
use jabber_proto::stream::{Item, Limits, StreamParser, Writer};
use jabber_proto::xml::Element;
use support::{CLASSIC_HEADER, Harness, SEED, wire_id};

const CAPS: &str = "http://jabber.org/protocol/caps";
const INFO: &str = "http://jabber.org/protocol/disco#info";
const ITEMS: &str = "http://jabber.org/protocol/disco#items";
const MUC: &str = "http://jabber.org/protocol/muc";

fn config() -> Config {
    let mut c = Config::new(
        "example.com",
        NonZeroU64::new(SEED).expect("a non-zero seed"),
    );
    // A classic server is scripted: the classic stream, stated (1.0 is the default).
    c.version = None;
    c.fetch_roster = false;
    c.initial_presence = false;
    c.keepalive_interval = None;
    c.dead_peer_timeout = None;
    c
}

fn with_discovery() -> Config {
    let mut c = config();
    c.discovery = Some(Box::new(Discovery::default()));
    c
}

fn jid(s: &str) -> Jid {
    Jid::parse(s).expect("a valid JID")
}

/// One element of server XML, parsed as the client would.
fn parse(xml: &str) -> Element {
    let mut p = StreamParser::new(Limits::default());
    p.push(
        format!(
            "<stream:stream xmlns='jabber:client' \
             xmlns:stream='http://etherx.jabber.org/streams'>{xml}"
        )
        .as_bytes(),
    );
    assert!(matches!(p.next_item(), Some(Ok(Item::Header(_)))));
    match p.next_item() {
        Some(Ok(Item::Element(el))) => el,
        other => panic!("{other:?}"),
    }
}

fn disco(h: &mut Harness) -> Vec<DiscoEvent> {
    h.events()
        .into_iter()
        .map(|e| match e {
            Event::Disco(d) => d,
            other => panic!("unexpected event {other:?}"),
        })
        .collect()
}

/// XEP-0115 §5.2's simple example.
fn exodus() -> DiscoInfo {
    let mut info = DiscoInfo::default();
    info.identities
        .push(Identity::new("client", "pc").with_name("Exodus 0.9.1"));
    for f in [CAPS, INFO, ITEMS, MUC] {
        info.features.push(f.into());
    }
    info
}

/// XEP-0115 §5.3's complex example, as a client receives it (in the XEP's order,
/// which is not the hash's).
const PSI: &str = "<query xmlns='http://jabber.org/protocol/disco#info' \
    node='http://psi-im.org#q07IKJEyjvHSyhy//CH0CxmKi8w='>\
    <identity xml:lang='en' category='client' name='Psi 0.11' type='pc'/>\
    <identity xml:lang='el' category='client' name='Ψ 0.11' type='pc'/>\
    <feature var='http://jabber.org/protocol/caps'/>\
    <feature var='http://jabber.org/protocol/disco#info'/>\
    <feature var='http://jabber.org/protocol/disco#items'/>\
    <feature var='http://jabber.org/protocol/muc'/>\
    <x xmlns='jabber:x:data' type='result'>\
    <field var='FORM_TYPE' type='hidden'><value>urn:xmpp:dataforms:softwareinfo</value></field>\
    <field var='ip_version'><value>ipv4</value><value>ipv6</value></field>\
    <field var='os'><value>Mac</value></field>\
    <field var='os_version'><value>10.5.1</value></field>\
    <field var='software'><value>Psi</value></field>\
    <field var='software_version'><value>0.11</value></field>\
    </x></query>";

#[test]
fn xep_0115_simple_example() {
    let info = exodus();
    assert_eq!(
        verification_string(&info).expect("valid"),
        "client/pc//Exodus 0.9.1<http://jabber.org/protocol/caps<\
         http://jabber.org/protocol/disco#info<http://jabber.org/protocol/disco#items<\
         http://jabber.org/protocol/muc<"
    );
    assert_eq!(
        caps::ver(&info).expect("valid"),
        "QgayPKawpkPSDYmwT/WM94uAlu0="
    );
    // Order of what was received does not matter.
    let mut shuffled = info.clone();
    shuffled.features.reverse();
    assert_eq!(caps::ver(&shuffled), caps::ver(&info));
}

#[test]
fn xep_0115_complex_example() {
    let query = parse(PSI);
    let info = DiscoInfo::from_query(query.root()).expect("a disco#info query");
    assert_eq!(info.forms.len(), 1);
    assert_eq!(
        info.forms[0].form_type(),
        Some("urn:xmpp:dataforms:softwareinfo")
    );
    assert_eq!(
        verification_string(&info).expect("valid"),
        "client/pc/el/Ψ 0.11<client/pc/en/Psi 0.11<http://jabber.org/protocol/caps<\
         http://jabber.org/protocol/disco#info<http://jabber.org/protocol/disco#items<\
         http://jabber.org/protocol/muc<urn:xmpp:dataforms:softwareinfo<\
         ip_version<ipv4<ipv6<os<Mac<os_version<10.5.1<software<Psi<\
         software_version<0.11<"
    );
    assert_eq!(
        caps::ver(&info).expect("valid"),
        "q07IKJEyjvHSyhy//CH0CxmKi8w="
    );
    // Written back and read again, the same hash.
    let again = parse(&info.to_query().expect("valid").to_string());
    assert_eq!(
        caps::ver(&DiscoInfo::from_query(again.root()).expect("valid")).expect("valid"),
        "q07IKJEyjvHSyhy//CH0CxmKi8w="
    );
}

#[test]
fn ill_formed_answers_have_no_hash() {
    let mut twice = exodus();
    twice.features.push(MUC.into());
    assert_eq!(caps::ver(&twice), Err(CapsError::DuplicateFeature));
    let mut twice = exodus();
    twice.identities.push(twice.identities[0].clone());
    assert_eq!(caps::ver(&twice), Err(CapsError::DuplicateIdentity));
    let psi = DiscoInfo::from_query(parse(PSI).root()).expect("valid");
    let mut twice = psi.clone();
    twice.forms.push(psi.forms[0].clone());
    assert_eq!(caps::ver(&twice), Err(CapsError::DuplicateFormType));
    // A form whose FORM_TYPE is not hidden is left out of the hash (§5.4).
    let mut open = psi.clone();
    open.forms[0].fields[0].kind = Some(FieldType::TextSingle);
    assert_eq!(caps::ver(&open), caps::ver(&exodus_like_psi()));
}

/// The Psi example without its form.
fn exodus_like_psi() -> DiscoInfo {
    let mut info = DiscoInfo::from_query(parse(PSI).root()).expect("valid");
    info.forms.clear();
    info
}

const OUR_FEATURES: &str = "<feature var='http://jabber.org/protocol/caps'/>\
    <feature var='http://jabber.org/protocol/disco#info'/>\
    <feature var='http://jabber.org/protocol/disco#items'/>\
    <feature var='jabber:x:data'/><feature var='urn:xmpp:ping'/>";

#[test]
fn we_answer_disco_info_about_ourselves() {
    let mut h = Harness::logged_in(config());
    h.server(
        "<iq type='get' id='d1' from='juliet@example.com/balcony' to='alice@example.com/desk'>\
         <query xmlns='http://jabber.org/protocol/disco#info'/></iq>",
    );
    assert_eq!(
        h.sent(),
        format!(
            "<iq type='result' id='d1' to='juliet@example.com/balcony'>\
             <query xmlns='http://jabber.org/protocol/disco#info'>\
             <identity category='client' type='pc'/>{OUR_FEATURES}</query></iq>"
        )
    );
    assert!(h.events().is_empty());
}

#[test]
fn answered_features_follow_the_config() {
    let mut c = with_discovery();
    let d = c.discovery.as_mut().expect("valid");
    d.identity = Identity::new("client", "phone").with_name("jabber");
    d.features.push("urn:example:app".into());
    d.features.push("urn:xmpp:ping".into()); // already ours: listed once
    c.disclosure = Some(Box::default());
    c.disclosure.as_mut().expect("valid").last_activity = true;
    let mut h = Harness::logged_in(c);
    h.server(
        "<iq type='get' id='d2' from='juliet@example.com/balcony'>\
         <query xmlns='http://jabber.org/protocol/disco#info'/></iq>",
    );
    assert_eq!(
        h.sent(),
        "<iq type='result' id='d2' to='juliet@example.com/balcony'>\
         <query xmlns='http://jabber.org/protocol/disco#info'>\
         <identity category='client' type='phone' name='jabber'/>\
         <feature var='http://jabber.org/protocol/caps'/>\
         <feature var='http://jabber.org/protocol/disco#info'/>\
         <feature var='http://jabber.org/protocol/disco#items'/>\
         <feature var='jabber:iq:last'/><feature var='jabber:x:data'/>\
         <feature var='urn:example:app'/><feature var='urn:xmpp:ping'/></query></iq>"
    );
}

#[test]
fn our_caps_node_is_answered_and_others_are_not() {
    let mut h = Harness::logged_in(with_discovery());
    let ver = h.client.own_caps_ver();
    assert_eq!(ver, caps::ver(&h.client.own_disco_info()).expect("valid"));
    h.server(&format!(
        "<iq type='get' id='n1' from='juliet@example.com/balcony'>\
         <query xmlns='http://jabber.org/protocol/disco#info' \
         node='https://example.invalid/jabber#{ver}'/></iq>"
    ));
    assert_eq!(
        h.sent(),
        format!(
            "<iq type='result' id='n1' to='juliet@example.com/balcony'>\
             <query xmlns='http://jabber.org/protocol/disco#info' \
             node='https://example.invalid/jabber#{ver}'>\
             <identity category='client' type='pc'/>{OUR_FEATURES}</query></iq>"
        )
    );
    h.server(
        "<iq type='get' id='n2' from='juliet@example.com/balcony'>\
         <query xmlns='http://jabber.org/protocol/disco#info' node='urn:other'/></iq>",
    );
    assert_eq!(
        h.sent(),
        "<iq type='error' id='n2' to='juliet@example.com/balcony'><error type='cancel'>\
         <item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>"
    );
    h.server(
        "<iq type='get' id='n3' from='juliet@example.com/balcony'>\
         <query xmlns='http://jabber.org/protocol/disco#items'/></iq>",
    );
    assert_eq!(
        h.sent(),
        "<iq type='result' id='n3' to='juliet@example.com/balcony'>\
         <query xmlns='http://jabber.org/protocol/disco#items'/></iq>"
    );
}

#[test]
fn queries_are_byte_exact_and_answers_typed() {
    let mut h = Harness::logged_in(config());
    let now = h.now;
    let server = jid("example.com");
    let info = h.client.disco_info(now, &server, None).expect("sent");
    let items = h
        .client
        .disco_items(now, &jid("juliet@example.com/balcony"), Some("urn:n"))
        .expect("sent");
    assert_eq!(
        h.sent(),
        format!(
            "<iq type='get' id='{}' to='example.com'>\
             <query xmlns='http://jabber.org/protocol/disco#info'/></iq>\
             <iq type='get' id='{}' to='juliet@example.com/balcony'>\
             <query xmlns='http://jabber.org/protocol/disco#items' node='urn:n'/></iq>",
            wire_id(3),
            wire_id(4)
        )
    );
    h.server(&format!(
        "<iq type='result' id='{}' from='example.com'>\
         <query xmlns='http://jabber.org/protocol/disco#info'>\
         <identity category='server' type='im' name='s'/>\
         <feature var='urn:xmpp:ping'/><feature var='jabber:iq:version'/></query></iq>\
         <iq type='result' id='{}' from='juliet@example.com/balcony'>\
         <query xmlns='http://jabber.org/protocol/disco#items' node='urn:n'>\
         <item jid='pubsub.example.com' node='n1' name='One'/><item jid='@bad'/></query></iq>",
        wire_id(3),
        wire_id(4)
    ));
    let events = disco(&mut h);
    let [
        DiscoEvent::Info { id: i1, info: got },
        DiscoEvent::Items {
            id: i2,
            items: list,
        },
    ] = events.as_slice()
    else {
        panic!("{events:?}");
    };
    assert_eq!((*i1, *i2), (info, items));
    assert_eq!(
        got.identities,
        [Identity::new("server", "im").with_name("s")]
    );
    assert!(got.has_feature("urn:xmpp:ping") && got.has_feature("jabber:iq:version"));
    assert_eq!(list.node.as_deref(), Some("urn:n"));
    assert_eq!(list.items.len(), 1);
    assert_eq!(list.items[0].jid, jid("pubsub.example.com"));
    assert_eq!(list.items[0].node.as_deref(), Some("n1"));
    assert_eq!(list.items[0].name.as_deref(), Some("One"));
}

#[test]
fn spoofed_disco_results_are_dropped() {
    let mut h = Harness::logged_in(config());
    let now = h.now;
    let id = h
        .client
        .disco_info(now, &jid("juliet@example.com/balcony"), None)
        .expect("sent");
    h.sent();
    let answer = |from: &str| {
        format!(
            "<iq type='result' id='{}'{from}>\
             <query xmlns='http://jabber.org/protocol/disco#info'>\
             <identity category='client' type='pc'/></query></iq>",
            wire_id(3)
        )
    };
    // Another resource, the bare address, no `from`, the server: none asked.
    for from in [
        " from='juliet@example.com/phone'",
        " from='juliet@example.com'",
        "",
        " from='example.com'",
    ] {
        h.server(&answer(from));
        let events = disco(&mut h);
        assert!(
            matches!(events.as_slice(), [DiscoEvent::Spoofed { id: s, .. }] if *s == id),
            "{from}: {events:?}"
        );
    }
    h.server(&answer(" from='juliet@example.com/balcony'"));
    assert!(matches!(
        disco(&mut h).as_slice(),
        [DiscoEvent::Info { id: i, .. }] if *i == id
    ));
    assert_eq!(h.client.pending_iqs(), 0);
}

#[test]
fn commands_need_a_session() {
    let mut h = Harness::open(config());
    let now = h.now;
    assert_eq!(
        h.client.disco_info(now, &jid("example.com"), None),
        Err(Error::WrongPhase)
    );
    assert_eq!(h.sent(), "");
}

#[test]
fn caps_go_out_in_our_available_presence() {
    let mut c = with_discovery();
    c.initial_presence = true;
    let mut h = Harness::new(c);
    let now = h.now;
    h.client
        .login(
            now,
            jabber_proto::negotiation::auth::Credentials::new("alice", "pw", "desk"),
        )
        .expect("valid");
    h.server(CLASSIC_HEADER);
    h.server(&format!(
        "<iq type='result' id='{}'><query xmlns='jabber:iq:auth'><digest/></query></iq>",
        wire_id(1)
    ));
    h.sent();
    h.server(&format!("<iq type='result' id='{}'/>", wire_id(2)));
    let ver = h.client.own_caps_ver();
    let c = format!(
        "<c xmlns='http://jabber.org/protocol/caps' hash='sha-1' \
         node='https://example.invalid/jabber' ver='{ver}'/>"
    );
    assert_eq!(h.sent(), format!("<presence>{c}</presence>"));
    let away = Presence::available().status("out").build().expect("valid");
    h.client.send_presence(h.now, &away).expect("valid");
    assert_eq!(
        h.sent(),
        format!("<presence><status>out</status>{c}</presence>")
    );
    // Unavailable presence carries none.
    h.client
        .send_presence(h.now, &Presence::unavailable().build().expect("valid"))
        .expect("valid");
    assert_eq!(h.sent(), "<presence type='unavailable'/>");
}

#[test]
fn without_discovery_no_caps_are_sent_or_asked() {
    let mut h = Harness::logged_in(config());
    h.client
        .send_presence(h.now, &Presence::available().build().expect("valid"))
        .expect("valid");
    assert_eq!(h.sent(), "<presence/>");
    h.server(&contact_presence(
        "juliet@example.com/balcony",
        "QgayPKawpkPSDYmwT/WM94uAlu0=",
    ));
    assert_eq!(h.sent(), "");
}

fn contact_presence(from: &str, ver: &str) -> String {
    format!(
        "<presence from='{from}'><c xmlns='http://jabber.org/protocol/caps' hash='sha-1' \
         node='http://code.google.com/p/exodus' ver='{ver}'/></presence>"
    )
}

const EXODUS_VER: &str = "QgayPKawpkPSDYmwT/WM94uAlu0=";

fn exodus_answer(id: &str, from: &str, extra: &str) -> String {
    format!(
        "<iq type='result' id='{id}' from='{from}'>\
         <query xmlns='http://jabber.org/protocol/disco#info' \
         node='http://code.google.com/p/exodus#{EXODUS_VER}'>\
         <identity category='client' name='Exodus 0.9.1' type='pc'/>\
         <feature var='http://jabber.org/protocol/caps'/>\
         <feature var='http://jabber.org/protocol/disco#info'/>\
         <feature var='http://jabber.org/protocol/disco#items'/>\
         <feature var='http://jabber.org/protocol/muc'/>{extra}</query></iq>"
    )
}

#[test]
fn contacts_caps_are_asked_once_verified_and_cached() {
    let mut h = Harness::logged_in(with_discovery());
    let juliet = jid("juliet@example.com/balcony");
    h.server(&contact_presence("juliet@example.com/balcony", EXODUS_VER));
    assert_eq!(
        h.sent(),
        format!(
            "<iq type='get' id='{}' to='juliet@example.com/balcony'>\
             <query xmlns='http://jabber.org/protocol/disco#info' \
             node='http://code.google.com/p/exodus#{EXODUS_VER}'/></iq>",
            wire_id(3)
        )
    );
    h.events();
    // A second resource with the same string: no second question.
    h.server(&contact_presence("romeo@example.net/orchard", EXODUS_VER));
    assert_eq!(h.sent(), "");
    h.events();
    assert_eq!(h.client.capabilities(&juliet), None);
    // The answer from someone else is dropped; the question stands.
    h.server(&exodus_answer(&wire_id(3), "mallory@example.net/x", ""));
    assert!(h.events().is_empty());
    assert_eq!(h.client.capabilities(&juliet), None);
    h.server(&exodus_answer(
        &wire_id(3),
        "juliet@example.com/balcony",
        "",
    ));
    assert_eq!(
        disco(&mut h),
        [DiscoEvent::Capabilities {
            contact: juliet.clone(),
            ver: EXODUS_VER.into()
        }]
    );
    let features = [CAPS, INFO, ITEMS, MUC].map(String::from);
    assert_eq!(h.client.capabilities(&juliet), Some(&features[..]));
    let romeo = jid("romeo@example.net/orchard");
    assert_eq!(h.client.capabilities(&romeo), Some(&features[..]));
    // Gone offline: no longer looked up.
    h.server("<presence from='romeo@example.net/orchard' type='unavailable'/>");
    h.events();
    assert_eq!(h.client.capabilities(&romeo), None);
    // Unavailable from the bare address: every resource gone.
    h.server("<presence from='juliet@example.com' type='unavailable'/>");
    h.events();
    assert_eq!(h.client.capabilities(&juliet), None);
    assert_eq!(
        h.client.capabilities_of_ver(EXODUS_VER),
        Some(&features[..])
    );
}

#[test]
fn caps_with_a_wrong_hash_are_not_cached() {
    let mut h = Harness::logged_in(with_discovery());
    let juliet = jid("juliet@example.com/balcony");
    h.server(&contact_presence("juliet@example.com/balcony", EXODUS_VER));
    h.sent();
    h.events();
    // One feature more than the hash covers.
    h.server(&exodus_answer(
        &wire_id(3),
        "juliet@example.com/balcony",
        "<feature var='urn:evil'/>",
    ));
    let events = disco(&mut h);
    assert!(
        matches!(
            events.as_slice(),
            [DiscoEvent::CapsMismatch { contact, ver, computed: Some(c) }]
                if *contact == juliet && ver == EXODUS_VER && c != EXODUS_VER
        ),
        "{events:?}"
    );
    assert_eq!(h.client.capabilities(&juliet), None);
    assert_eq!(h.client.capabilities_of_ver(EXODUS_VER), None);
    // An ill-formed answer (a feature twice) is not cached either.
    h.server(&contact_presence("juliet@example.com/balcony", EXODUS_VER));
    h.sent();
    h.events();
    h.server(&exodus_answer(
        &wire_id(4),
        "juliet@example.com/balcony",
        "<feature var='http://jabber.org/protocol/muc'/>",
    ));
    assert!(matches!(
        disco(&mut h).as_slice(),
        [DiscoEvent::CapsMismatch { computed: None, .. }]
    ));
    assert_eq!(h.client.capabilities(&juliet), None);
}

#[test]
fn the_caps_cache_is_bounded() {
    let mut c = with_discovery();
    c.discovery.as_mut().expect("valid").max_caps = 2;
    let mut h = Harness::logged_in(c);
    for n in 0..5 {
        h.server(&contact_presence(
            &format!("c{n}@example.com/r"),
            &format!("v{n}"),
        ));
    }
    // Two questions at most in flight.
    assert_eq!(h.sent().matches("<iq ").count(), 2);
    h.events();
}

/// A registration form as prosody sends it: the classic fields and a data form.
const PROSODY_FORM: &str = "<query xmlns='jabber:iq:register'>\
    <instructions>Choose a username and password for use with this service.</instructions>\
    <username/><password/>\
    <x xmlns='jabber:x:data' type='form'><title>Creating a new account</title>\
    <instructions>Choose a username and password for use with this service.</instructions>\
    <field var='FORM_TYPE' type='hidden'><value>jabber:iq:register</value></field>\
    <field var='username' type='text-single' label='Username'><required/></field>\
    <field var='password' type='text-private' label='Password'><required/></field>\
    </x></query>";

#[test]
fn registration_submits_the_servers_data_form() {
    let mut c = config();
    c.allow_plaintext = true;
    c.console = true;
    let mut h = Harness::new(c);
    let now = h.now;
    h.client.request_registration(now).expect("valid");
    h.server(CLASSIC_HEADER);
    h.sent();
    h.server(&format!(
        "<iq type='result' id='{}'>{PROSODY_FORM}</iq>",
        wire_id(1)
    ));
    let mut form = match h.events().pop() {
        Some(Event::Account(AccountEvent::RegistrationForm(f))) => f,
        other => panic!("{other:?}"),
    };
    let data = form.data_form().expect("the data form");
    assert_eq!(data.kind, FormKind::Form);
    assert_eq!(data.form_type(), Some("jabber:iq:register"));
    assert_eq!(data.title.as_deref(), Some("Creating a new account"));
    assert!(data.field("password").expect("valid").is_private());
    assert!(data.field("username").expect("valid").required);
    assert!(form.set(Field::Username, "alice"));
    assert!(form.set(Field::Password, "s3cret"));
    assert!(!format!("{form:?}").contains("s3cret"));
    while h.client.poll_console().is_some() {}
    h.client.submit_registration(h.now, &form).expect("valid");
    assert_eq!(
        h.sent(),
        format!(
            "<iq type='set' id='{}'><query xmlns='jabber:iq:register'>\
             <x xmlns='jabber:x:data' type='submit'>\
             <field var='FORM_TYPE' type='hidden'><value>jabber:iq:register</value></field>\
             <field var='username' type='text-single'><value>alice</value></field>\
             <field var='password' type='text-private'><value>s3cret</value></field>\
             </x></query></iq>",
            wire_id(2)
        )
    );
    let shown = h.client.poll_console().expect("recorded").xml;
    assert_eq!(
        shown,
        format!(
            "<iq type='set' id='{}'><query xmlns='jabber:iq:register'>\
             <x xmlns='jabber:x:data' type='submit'>\
             <field var='FORM_TYPE' type='hidden'><value>jabber:iq:register</value></field>\
             <field var='username' type='text-single'><value>alice</value></field>\
             <field var='password' type='text-private'><value>{MASK}</value></field>\
             </x></query></iq>",
            wire_id(2)
        )
    );
}

#[test]
fn a_data_form_password_needs_the_plaintext_rule() {
    let mut h = Harness::new(config());
    let now = h.now;
    h.client.request_registration(now).expect("valid");
    h.server(CLASSIC_HEADER);
    h.sent();
    // Only a data form, with a private field under another name.
    h.server(&format!(
        "<iq type='result' id='{}'><query xmlns='jabber:iq:register'>\
         <x xmlns='jabber:x:data' type='form'>\
         <field var='pin' type='text-private'/></x></query></iq>",
        wire_id(1)
    ));
    let mut form = match h.events().pop() {
        Some(Event::Account(AccountEvent::RegistrationForm(f))) => f,
        other => panic!("{other:?}"),
    };
    assert!(!form.set(Field::Password, "x"));
    assert!(
        form.data_form_mut()
            .expect("valid")
            .set_value("pin", "1234")
    );
    assert_eq!(
        h.client.submit_registration(h.now, &form),
        Err(Error::PlaintextNotAllowed)
    );
    assert_eq!(h.sent(), "");
}

#[test]
fn private_values_are_masked_wherever_the_field_is() {
    let mut form = DataForm::new(FormKind::Form);
    form.fields.push(
        FormField::new("pin", FieldType::TextPrivate)
            .with_value("1234")
            .with_value("5678"),
    );
    // A submission may leave the type out; `password` is masked by its name.
    let mut pw = FormField::new("password", FieldType::TextSingle).with_value("pw");
    pw.kind = None;
    form.fields.push(pw);
    let mut listed = FormField::new("colour", FieldType::ListSingle).with_value("red");
    listed
        .options
        .push(jabber_proto::stanza::form::FieldOption::new(
            Some("Red"),
            "red",
        ));
    form.fields.push(listed);
    let el = form.to_element().expect("valid");
    let mut shown = Vec::new();
    Writer::new("jabber:client")
        .masked(true)
        .element(&mut shown, el.root());
    assert_eq!(
        String::from_utf8(shown).expect("valid"),
        "<x xmlns='jabber:x:data' type='form'>\
         <field var='pin' type='text-private'><value>***</value><value>***</value></field>\
         <field var='password'><value>***</value></field>\
         <field var='colour' type='list-single'><value>red</value>\
         <option label='Red'><value>red</value></option></field></x>"
    );
    assert!(!format!("{form:?}").contains("1234"));
}

#[test]
fn a_data_form_result_with_reported_items() {
    let xml = "<x xmlns='jabber:x:data' type='result'><title>Found</title>\
        <reported><field var='jid' type='jid-single' label='JID'/></reported>\
        <item><field var='jid'><value>a@example.com</value></field></item>\
        <item><field var='jid'><value>b@example.com</value></field></item></x>";
    let form = DataForm::from_element(parse(xml).root()).expect("valid");
    assert_eq!(form.kind, FormKind::Result);
    assert_eq!(
        form.reported.as_ref().expect("valid")[0].kind,
        Some(FieldType::JidSingle)
    );
    assert_eq!(form.items.len(), 2);
    assert_eq!(form.items[1][0].value(), Some("b@example.com"));
    assert_eq!(form.to_element().expect("valid").to_string(), xml);
    // Not a form: an unknown type, another element.
    assert!(DataForm::from_element(parse("<x xmlns='jabber:x:data' type='x'/>").root()).is_none());
    assert!(DataForm::from_element(parse("<x xmlns='jabber:x:oob'/>").root()).is_none());
    let _ = StanzaCondition::ItemNotFound;
}

#[test]
fn a_full_cache_asks_nothing_more() {
    let mut c = with_discovery();
    c.discovery.as_mut().expect("on").max_caps = 1;
    let mut h = Harness::logged_in(c);
    h.server(&contact_presence("juliet@example.com/balcony", EXODUS_VER));
    assert_eq!(h.sent().matches("<iq ").count(), 1);
    h.events();
    h.server(&exodus_answer(
        &wire_id(3),
        "juliet@example.com/balcony",
        "",
    ));
    assert!(matches!(
        disco(&mut h).as_slice(),
        [DiscoEvent::Capabilities { .. }]
    ));
    // Another string: the cache holds one already, so nobody is asked.
    h.server(&contact_presence(
        "romeo@example.net/orchard",
        "q07IKJEyjvHSyhy//CH0CxmKi8w=",
    ));
    assert_eq!(h.sent(), "");
    assert!(!h.events().iter().any(|e| matches!(e, Event::Disco(_))));
}

#[test]
fn no_caps_query_to_senders_the_blocking_policy_shuts_out() {
    use jabber_proto::features::block_policy::{BlockMode, BlockPolicy};
    let mut h = Harness::logged_in(with_discovery());
    let now = h.now;
    let policy = BlockPolicy::new(BlockMode::RosterOnly).with_jid(jid("mallory@example.net"));
    h.client.set_block_policy(now, policy).expect("set");
    h.sent();
    h.events();
    // Listed, and a stranger under roster-only: asking either would tell them we are on.
    h.server(&contact_presence("mallory@example.net/x", EXODUS_VER));
    h.server(&contact_presence("stranger@example.org/y", EXODUS_VER));
    assert_eq!(h.sent(), "");
    h.events();
    // The same policy switched off: the stranger is asked.
    let now = h.now;
    h.client
        .set_block_policy(now, BlockPolicy::new(BlockMode::Off))
        .expect("set");
    h.sent();
    h.server(&contact_presence("stranger@example.org/y", EXODUS_VER));
    assert!(h.sent().contains("to='stranger@example.org/y'"));
}
