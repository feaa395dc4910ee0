//! The XMPP 1.0 login on scripted transcripts: STARTTLS, SASL (SCRAM checked by a
//! server side written here with the RustCrypto primitives, PLAIN), stream restarts,
//! binding and session — byte-exact for what the client sends, and every refusal typed.

mod support;

use std::num::NonZeroU64;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use hmac::{Hmac, Mac};
use jabber_proto::client::{Config, Error, Event, SessionEvent, State, StreamEvent};
use jabber_proto::negotiation::auth::{AuthMethod, Credentials, LoginError};
use jabber_proto::negotiation::channel_binding::ChannelBindingPolicy;
use jabber_proto::negotiation::sasl::{
    ChannelBinding, ChannelBindingKind, Mechanism, MechanismSet, SaslCondition,
};
use jabber_proto::negotiation::scram::{ScramError, ScramHash};
use sha2::{Digest, Sha256};
use support::{Harness, SEED, wire_id};

const PASSWORD: &str = "pencil-Pa55";
const HEADER_1_0: &str = "<?xml version='1.0'?><stream:stream xmlns='jabber:client' \
    xmlns:stream='http://etherx.jabber.org/streams' from='example.com' id='s1' \
    version='1.0'>";
const OUR_HEADER: &str = "<stream:stream xmlns='jabber:client' \
    xmlns:stream='http://etherx.jabber.org/streams' to='example.com' version='1.0'>";

fn config() -> Config {
    let mut c = Config::new("example.com", NonZeroU64::new(SEED).expect("non-zero"));
    c.version = Some("1.0".into());
    c.fetch_roster = false;
    c.initial_presence = false;
    c.keepalive_interval = None;
    c.dead_peer_timeout = None;
    c
}

fn creds() -> Credentials {
    Credentials::new("alice", PASSWORD, "desk")
}

fn features(inner: &str) -> String {
    format!("<stream:features>{inner}</stream:features>")
}

fn mechanisms(names: &[&str]) -> String {
    let list: String = names
        .iter()
        .map(|m| format!("<mechanism>{m}</mechanism>"))
        .collect();
    format!("<mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>{list}</mechanisms>")
}

const STARTTLS: &str = "<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required/></starttls>";
const EXPORTER_CB: &str = "<sasl-channel-binding xmlns='urn:xmpp:sasl-cb:0'>\
    <channel-binding type='tls-exporter'/></sasl-channel-binding>";
const BIND: &str = "<bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/>";

/// The text between `<tag ...>` and `</tag>` in `xml`.
fn content<'a>(xml: &'a str, tag: &str) -> &'a str {
    let start = xml.find(&format!("<{tag}")).expect("the element");
    let start = start + xml[start..].find('>').expect("its start tag") + 1;
    let end = start + xml[start..].find(&format!("</{tag}>")).expect("its end");
    &xml[start..end]
}

/// A SCRAM-SHA-256 server, written from RFC 5802 with the same primitives: it checks the
/// client's proof and makes the signature a real server would.
struct ScramServer {
    salt: Vec<u8>,
    iterations: u32,
    nonce: String,
    client_first_bare: String,
    server_first: String,
    gs2: String,
}

type HmacSha256 = Hmac<Sha256>;

fn hmac(key: &[u8], data: &[u8]) -> Vec<u8> {
    let mut mac = HmacSha256::new_from_slice(key).expect("any key length");
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

impl ScramServer {
    /// Takes the client's first message; returns the server's.
    fn first(client_first: &str, iterations: u32) -> ScramServer {
        let (gs2, bare) = client_first.split_at(client_first.find("n=").expect("a username"));
        let client_nonce = bare.split(",r=").nth(1).expect("a nonce");
        let nonce = format!("{client_nonce}SERVERNONCE");
        let salt = b"salt-of-alice".to_vec();
        let server_first = format!("r={nonce},s={},i={iterations}", B64.encode(&salt));
        ScramServer {
            salt,
            iterations,
            nonce,
            client_first_bare: bare.to_owned(),
            server_first,
            gs2: gs2.to_owned(),
        }
    }

    fn salted(&self) -> Vec<u8> {
        let mut out = [0u8; 32];
        pbkdf2::pbkdf2_hmac::<Sha256>(PASSWORD.as_bytes(), &self.salt, self.iterations, &mut out);
        out.to_vec()
    }

    /// Checks the client's final message (its channel binding `cbind` included); returns
    /// the server's final message.
    fn last(&self, client_final: &str, cbind: &[u8]) -> Result<String, &'static str> {
        let (without_proof, proof) = client_final.rsplit_once(",p=").ok_or("no proof")?;
        let mut expected_c = self.gs2.as_bytes().to_vec();
        expected_c.extend_from_slice(cbind);
        if without_proof != format!("c={},r={}", B64.encode(&expected_c), self.nonce) {
            return Err("wrong channel binding or nonce");
        }
        let auth = format!(
            "{},{},{without_proof}",
            self.client_first_bare, self.server_first
        );
        let salted = self.salted();
        let client_key = hmac(&salted, b"Client Key");
        let stored = Sha256::digest(&client_key);
        let signature = hmac(&stored, auth.as_bytes());
        let proof = B64.decode(proof).map_err(|_| "bad base64")?;
        let recovered: Vec<u8> = proof.iter().zip(&signature).map(|(p, s)| p ^ s).collect();
        if Sha256::digest(&recovered).as_slice() != stored.as_slice() {
            return Err("wrong proof");
        }
        let server_key = hmac(&salted, b"Server Key");
        Ok(format!(
            "v={}",
            B64.encode(hmac(&server_key, auth.as_bytes()))
        ))
    }
}

/// Up to the client's `<auth>`: the stream opened on a transport that `encrypted` says,
/// with `offered` features.
fn to_auth(mut c: Config, offered: &str) -> (Harness, String) {
    c.transport_encrypted = true;
    let mut h = Harness::new(c);
    let now = h.now;
    h.client.login(now, creds()).expect("login starts");
    h.sent();
    h.server(HEADER_1_0);
    h.server(&features(offered));
    let auth = h.sent();
    (h, auth)
}

/// Completes a SCRAM-SHA-256 exchange started by `auth`; the client's final message.
fn scram_exchange(h: &mut Harness, auth: &str, cbind: &[u8]) -> (ScramServer, String) {
    let first =
        String::from_utf8(B64.decode(content(auth, "auth")).expect("base64")).expect("UTF-8");
    let server = ScramServer::first(&first, 4096);
    h.server(&format!(
        "<challenge xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>{}</challenge>",
        B64.encode(&server.server_first)
    ));
    let response = h.sent();
    let last = String::from_utf8(B64.decode(content(&response, "response")).expect("base64"))
        .expect("UTF-8");
    let check = server.last(&last, cbind);
    assert!(check.is_ok(), "{check:?}");
    (server, last)
}

fn success(server: &ScramServer, last: &str, cbind: &[u8]) -> String {
    format!(
        "<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>{}</success>",
        B64.encode(server.last(last, cbind).expect("valid"))
    )
}

#[test]
fn scram_sha_256_then_restart_bind_and_ready_with_the_bound_jid() {
    let offered = mechanisms(&["PLAIN", "SCRAM-SHA-1", "SCRAM-SHA-256"]);
    let (mut h, auth) = to_auth(config(), &offered);
    assert!(
        auth.starts_with(
            "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='SCRAM-SHA-256'>"
        ),
        "{auth}"
    );
    let first = String::from_utf8(B64.decode(content(&auth, "auth")).expect("b64")).expect("");
    // No channel binding data on this transport: `n`.
    assert!(first.starts_with("n,,n=alice,r="), "{first}");
    let (server, last) = scram_exchange(&mut h, &auth, b"n,,"[..0].as_ref());
    h.server(&success(&server, &last, b""));
    // The stream restarts: our header again, without the declaration.
    assert_eq!(h.sent(), OUR_HEADER);
    h.server(HEADER_1_0);
    h.server(&features(BIND));
    assert_eq!(
        h.sent(),
        format!(
            "<iq type='set' id='{}'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>\
             <resource>desk</resource></bind></iq>",
            wire_id(1)
        )
    );
    // The server picks the resource.
    h.server(&format!(
        "<iq type='result' id='{}'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>\
         <jid>alice@example.com/desk-4f2</jid></bind></iq>",
        wire_id(1)
    ));
    let events = h.events();
    // One `Opened` for the connection; the restart is not a new stream for the app.
    let opened = events
        .iter()
        .filter(|e| matches!(e, Event::Stream(StreamEvent::Opened(_))))
        .count();
    assert_eq!(opened, 1, "{events:?}");
    let Some(Event::Session(SessionEvent::Ready { jid, method, .. })) = events.last() else {
        panic!("{events:?}")
    };
    assert_eq!(jid.as_str(), "alice@example.com/desk-4f2");
    assert_eq!(
        *method,
        AuthMethod::Sasl(Mechanism::Scram {
            hash: ScramHash::Sha256,
            plus: false
        })
    );
    assert_eq!(
        h.client.jid().map(|j| j.as_str()),
        Some("alice@example.com/desk-4f2")
    );
}

#[test]
fn a_wrong_server_signature_fails_the_login_before_binding() {
    let (mut h, auth) = to_auth(config(), &mechanisms(&["SCRAM-SHA-256"]));
    let (_, _) = scram_exchange(&mut h, &auth, b"");
    let forged = B64.encode(format!("v={}", B64.encode([7u8; 32])));
    h.server(&format!(
        "<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>{forged}</success>"
    ));
    let events = h.events();
    assert!(
        matches!(
            events.last(),
            Some(Event::Session(SessionEvent::LoginFailed(
                LoginError::Scram(ScramError::BadServerSignature)
            )))
        ),
        "{events:?}"
    );
    assert_eq!(h.sent(), "</stream:stream>", "no restart, no bind");
}

#[test]
fn sasl_failures_are_typed() {
    let (mut h, _) = to_auth(config(), &mechanisms(&["SCRAM-SHA-1"]));
    h.server(
        "<failure xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><not-authorized/>\
         <text>Invalid username or password</text></failure>",
    );
    let events = h.events();
    let Some(Event::Session(SessionEvent::LoginFailed(LoginError::Sasl(f)))) = events.last() else {
        panic!("{events:?}")
    };
    assert_eq!(f.condition, Some(SaslCondition::NotAuthorized));
    assert_eq!(f.text.as_deref(), Some("Invalid username or password"));
    assert_eq!(h.client.state(), State::Closing);
}

#[test]
fn server_nonce_and_iteration_count_are_checked() {
    for (server_first, expected) in [
        (
            "r=someone-elses,s=c2FsdA==,i=4096",
            ScramError::NonceMismatch,
        ),
        ("r=NONCE,s=c2FsdA==,i=100", ScramError::Iterations(100)),
        (
            "r=NONCE,s=c2FsdA==,i=99999999",
            ScramError::Iterations(99_999_999),
        ),
        (
            "m=ext,r=NONCE,s=c2FsdA==,i=4096",
            ScramError::UnsupportedExtension,
        ),
        ("r=NONCE,i=4096", ScramError::Malformed),
    ] {
        let (mut h, auth) = to_auth(config(), &mechanisms(&["SCRAM-SHA-256"]));
        let first =
            String::from_utf8(B64.decode(content(&auth, "auth")).expect("b64")).expect("UTF-8");
        let nonce = first.split(",r=").nth(1).expect("nonce");
        let server_first = server_first.replace("NONCE", &format!("{nonce}xyz"));
        h.server(&format!(
            "<challenge xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>{}</challenge>",
            B64.encode(&server_first)
        ));
        let events = h.events();
        assert!(
            matches!(
                events.last(),
                Some(Event::Session(SessionEvent::LoginFailed(LoginError::Scram(e)))) if *e == expected
            ),
            "{server_first}: {events:?}"
        );
        // We abort the exchange and close; no proof went out.
        assert_eq!(
            h.sent(),
            "<abort xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/></stream:stream>"
        );
    }
}

fn exporter() -> ChannelBinding {
    ChannelBinding {
        kind: ChannelBindingKind::TlsExporter,
        data: vec![0xEE; 32],
    }
}

fn end_point() -> ChannelBinding {
    ChannelBinding {
        kind: ChannelBindingKind::TlsServerEndPoint,
        data: vec![0x5E; 32],
    }
}

/// The GS2 header of the client's first message with `bindings` given and `offered`.
fn gs2_with(bindings: Vec<ChannelBinding>, offered: &str) -> (String, String) {
    let mut c = config();
    c.transport_encrypted = true;
    let mut h = Harness::new(c);
    let now = h.now;
    h.client.handle_channel_binding(now, bindings);
    h.client.login(now, creds()).expect("login starts");
    h.sent();
    h.server(HEADER_1_0);
    h.server(&features(offered));
    let auth = h.sent();
    let mechanism = auth
        .split("mechanism='")
        .nth(1)
        .and_then(|m| m.split('\'').next())
        .expect("a mechanism")
        .to_owned();
    let first = String::from_utf8(B64.decode(content(&auth, "auth")).expect("b64")).expect("");
    (
        mechanism,
        first.split("n=alice").next().unwrap_or_default().to_owned(),
    )
}

#[test]
fn channel_binding_choice_and_downgrade_flag() {
    let plus = mechanisms(&["SCRAM-SHA-1", "SCRAM-SHA-256", "SCRAM-SHA-256-PLUS"]);
    // -PLUS without the types the server binds to (a pre-RFC 9266 server binds to
    // tls-unique): unbound, `n`, rather than a guess that fails the login.
    assert_eq!(
        gs2_with(vec![exporter(), end_point()], &plus),
        ("SCRAM-SHA-256".into(), "n,,".into())
    );
    // Bound with the best type we have of those the server lists.
    let both = "<sasl-channel-binding xmlns='urn:xmpp:sasl-cb:0'>\
                <channel-binding type='tls-server-end-point'/>\
                <channel-binding type='tls-exporter'/></sasl-channel-binding>";
    assert_eq!(
        gs2_with(vec![exporter(), end_point()], &format!("{plus}{both}")),
        ("SCRAM-SHA-256-PLUS".into(), "p=tls-exporter,,".into())
    );
    // XEP-0440: the server lists the types it supports.
    let cb = "<sasl-channel-binding xmlns='urn:xmpp:sasl-cb:0'>\
              <channel-binding type='tls-server-end-point'/></sasl-channel-binding>";
    assert_eq!(
        gs2_with(vec![exporter(), end_point()], &format!("{plus}{cb}")),
        (
            "SCRAM-SHA-256-PLUS".into(),
            "p=tls-server-end-point,,".into()
        )
    );
    // No type in common: unbound, `n` (we cannot bind to what it offers).
    let unique = "<sasl-channel-binding xmlns='urn:xmpp:sasl-cb:0'>\
                  <channel-binding type='tls-unique'/></sasl-channel-binding>";
    assert_eq!(
        gs2_with(vec![exporter()], &format!("{plus}{unique}")),
        ("SCRAM-SHA-256".into(), "n,,".into())
    );
    // We could bind, the server offered no -PLUS: `y`, so a server that did offer one
    // (and had it stripped) refuses.
    assert_eq!(
        gs2_with(
            vec![exporter()],
            &mechanisms(&["SCRAM-SHA-1", "SCRAM-SHA-256"])
        ),
        ("SCRAM-SHA-256".into(), "y,,".into())
    );
    // No binding data: `n`, and no -PLUS.
    assert_eq!(
        gs2_with(vec![], &plus),
        ("SCRAM-SHA-256".into(), "n,,".into())
    );
}

/// What the client sends after the features `offered`, with `bindings` given and
/// channel binding required: the `<auth>`, or the login's failure (and what was sent).
fn required_with(
    bindings: Vec<ChannelBinding>,
    offered: &str,
) -> Result<(String, String), (Option<LoginError>, String)> {
    let mut c = config();
    c.transport_encrypted = true;
    c.channel_binding = ChannelBindingPolicy::Required;
    let mut h = Harness::new(c);
    let now = h.now;
    h.client.handle_channel_binding(now, bindings);
    h.client.login(now, creds()).expect("login starts");
    h.sent();
    h.server(HEADER_1_0);
    h.server(&features(offered));
    let auth = h.sent();
    if !auth.starts_with("<auth") {
        let failure = h.events().into_iter().find_map(|e| match e {
            Event::Session(SessionEvent::LoginFailed(e)) => Some(e),
            _ => None,
        });
        return Err((failure, auth));
    }
    let mechanism = auth
        .split("mechanism='")
        .nth(1)
        .and_then(|m| m.split('\'').next())
        .expect("a mechanism")
        .to_owned();
    let first = String::from_utf8(B64.decode(content(&auth, "auth")).expect("b64")).expect("");
    Ok((
        mechanism,
        first.split("n=alice").next().unwrap_or_default().to_owned(),
    ))
}

#[test]
fn required_channel_binding_binds_or_sends_no_credential() {
    let plus = mechanisms(&[
        "SCRAM-SHA-1",
        "SCRAM-SHA-256",
        "SCRAM-SHA-256-PLUS",
        "PLAIN",
    ]);
    let refused = |sent: &str| Err((Some(LoginError::ChannelBindingRequired), sent.to_owned()));
    // -PLUS with no XEP-0440 list (a pre-RFC 9266 server, or the list stripped): RFC
    // 9266's default, tls-exporter on TLS 1.3 ...
    assert_eq!(
        required_with(vec![exporter(), end_point()], &plus),
        Ok(("SCRAM-SHA-256-PLUS".into(), "p=tls-exporter,,".into()))
    );
    // ... tls-server-end-point on TLS 1.2 (no exporter data).
    assert_eq!(
        required_with(vec![end_point()], &plus),
        Ok((
            "SCRAM-SHA-256-PLUS".into(),
            "p=tls-server-end-point,,".into()
        ))
    );
    // A listed type we have: that one.
    let cb = "<sasl-channel-binding xmlns='urn:xmpp:sasl-cb:0'>\
              <channel-binding type='tls-server-end-point'/></sasl-channel-binding>";
    assert_eq!(
        required_with(vec![exporter(), end_point()], &format!("{plus}{cb}")),
        Ok((
            "SCRAM-SHA-256-PLUS".into(),
            "p=tls-server-end-point,,".into()
        ))
    );
    // A list naming nothing we have: refused, only the closing tag sent.
    let unique = "<sasl-channel-binding xmlns='urn:xmpp:sasl-cb:0'>\
                  <channel-binding type='tls-unique'/></sasl-channel-binding>";
    assert_eq!(
        required_with(vec![exporter()], &format!("{plus}{unique}")),
        refused("</stream:stream>")
    );
    // No -PLUS at all (stripped, or a server that cannot bind): refused, where
    // Opportunistic would have used SCRAM with `y`.
    let unbound = mechanisms(&["SCRAM-SHA-256", "PLAIN"]);
    assert_eq!(
        required_with(vec![exporter()], &format!("{unbound}{EXPORTER_CB}")),
        refused("</stream:stream>")
    );
    assert_eq!(
        gs2_with(vec![exporter()], &unbound),
        ("SCRAM-SHA-256".into(), "y,,".into())
    );
    // No channel data from the transport: refused.
    assert_eq!(required_with(vec![], &plus), refused("</stream:stream>"));
}

/// The first thing the client sends after the features `offered` on a transport
/// `encrypted` or not, allowed only `allowed`, and the login's failure if any.
fn with_mechanisms(
    allowed: MechanismSet,
    encrypted: bool,
    bindings: Vec<ChannelBinding>,
    offered: &str,
) -> (String, Option<LoginError>) {
    let mut c = config();
    c.transport_encrypted = encrypted;
    c.require_tls = false;
    c.sasl_mechanisms = allowed;
    let mut h = Harness::new(c);
    let now = h.now;
    h.client.handle_channel_binding(now, bindings);
    h.client.login(now, creds()).expect("login starts");
    h.sent();
    h.server(HEADER_1_0);
    h.server(&features(offered));
    let sent = h.sent();
    let failure = h.events().into_iter().find_map(|e| match e {
        Event::Session(SessionEvent::LoginFailed(e)) => Some(e),
        _ => None,
    });
    (sent, failure)
}

#[test]
fn the_mechanism_allow_list_narrows_the_choice() {
    let scram = |hash, plus| Mechanism::Scram { hash, plus };
    let all = mechanisms(&[
        "SCRAM-SHA-1",
        "SCRAM-SHA-256",
        "SCRAM-SHA-1-PLUS",
        "SCRAM-SHA-256-PLUS",
        "PLAIN",
    ]);
    let mechanism_of = |sent: &str| {
        sent.split("mechanism='")
            .nth(1)
            .and_then(|m| m.split('\'').next())
            .map(String::from)
    };
    // PLAIN alone over TLS: PLAIN, though SCRAM is offered; byte-exact.
    let (sent, failure) = with_mechanisms(MechanismSet::only(Mechanism::Plain), true, vec![], &all);
    let expected = B64.encode(format!("\0alice\0{PASSWORD}"));
    assert_eq!(
        sent,
        format!(
            "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>{expected}</auth>"
        )
    );
    assert_eq!(failure, None);
    // SCRAM-SHA-1 alone: SHA-1 although SHA-256 is offered.
    let sha1 = MechanismSet::only(scram(ScramHash::Sha1, false));
    let (sent, _) = with_mechanisms(sha1, true, vec![], &all);
    assert_eq!(mechanism_of(&sent).as_deref(), Some("SCRAM-SHA-1"));
    // -PLUS offered but not allowed, with channel data: unbound with `n` (the server
    // did offer -PLUS, so `y` would make it refuse us), never -PLUS.
    let (sent, _) = with_mechanisms(sha1, true, vec![exporter()], &format!("{all}{EXPORTER_CB}"));
    assert_eq!(mechanism_of(&sent).as_deref(), Some("SCRAM-SHA-1"));
    let first = String::from_utf8(B64.decode(content(&sent, "auth")).expect("b64")).expect("");
    assert!(first.starts_with("n,,n=alice,r="), "{first}");
    // PLAIN alone on an unencrypted stream (require_tls off): refused before the
    // password leaves; only the stream's close is sent.
    let (sent, failure) =
        with_mechanisms(MechanismSet::only(Mechanism::Plain), false, vec![], &all);
    assert_eq!(sent, "</stream:stream>");
    assert_eq!(failure, Some(LoginError::PlaintextNotAllowed));
    // Nothing allowed that the server offers.
    let sha512 = MechanismSet::only(scram(ScramHash::Sha512, false));
    let (sent, failure) = with_mechanisms(sha512, true, vec![], &all);
    assert_eq!(sent, "</stream:stream>");
    assert_eq!(failure, Some(LoginError::NoCommonMethod));
    // The default allows everything: the strongest offered.
    assert_eq!(
        Config::new("x", NonZeroU64::MIN).sasl_mechanisms,
        MechanismSet::ALL
    );
    let (sent, _) = with_mechanisms(MechanismSet::ALL, true, vec![], &all);
    assert_eq!(mechanism_of(&sent).as_deref(), Some("SCRAM-SHA-256"));
}

#[test]
fn required_channel_binding_refuses_the_classic_login() {
    // A version-less answer (a classic server, or the version stripped) on TLS, and a
    // 1.0 server offering only iq:auth: jabber:iq:auth cannot bind, nothing is asked.
    let classic_header = "<?xml version='1.0'?><stream:stream xmlns='jabber:client' \
        xmlns:stream='http://etherx.jabber.org/streams' from='example.com' id='s1'>";
    let iq_auth_only = features("<auth xmlns='http://jabber.org/features/iq-auth'/>");
    for (header, features) in [(classic_header, ""), (HEADER_1_0, iq_auth_only.as_str())] {
        let mut c = config();
        c.transport_encrypted = true;
        c.channel_binding = ChannelBindingPolicy::Required;
        let mut h = Harness::new(c);
        let now = h.now;
        h.client.handle_channel_binding(now, vec![exporter()]);
        h.client.login(now, creds()).expect("login starts");
        h.sent();
        h.server(header);
        h.server(features);
        assert_eq!(h.sent(), "</stream:stream>", "{header}");
        let events = h.events();
        assert!(
            events.contains(&Event::Session(SessionEvent::LoginFailed(
                LoginError::ChannelBindingRequired
            ))),
            "{events:?}"
        );
    }
}

#[test]
fn a_bound_exchange_carries_the_channel_data_in_c() {
    let mut c = config();
    c.transport_encrypted = true;
    let mut h = Harness::new(c);
    let now = h.now;
    h.client.handle_channel_binding(now, vec![exporter()]);
    h.client.login(now, creds()).expect("login starts");
    h.sent();
    h.server(HEADER_1_0);
    h.server(&features(&format!(
        "{}{EXPORTER_CB}",
        mechanisms(&["SCRAM-SHA-256-PLUS"])
    )));
    let auth = h.sent();
    let (server, last) = scram_exchange(&mut h, &auth, &exporter().data);
    // A server on another channel (a man in the middle) computes other data: refused.
    assert!(server.last(&last, &end_point().data).is_err());
    h.server(&success(&server, &last, &exporter().data));
    assert_eq!(h.sent(), OUR_HEADER);
}

#[test]
fn plain_only_over_tls_byte_exact() {
    let (mut h, auth) = to_auth(config(), &mechanisms(&["PLAIN"]));
    let expected = B64.encode(format!("\0alice\0{PASSWORD}"));
    assert_eq!(
        auth,
        format!(
            "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>{expected}</auth>"
        )
    );
    h.server("<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>");
    assert_eq!(h.sent(), OUR_HEADER);
}

#[test]
fn starttls_then_scram_then_session_where_required() {
    let mut h = Harness::new(config());
    let now = h.now;
    h.client.login(now, creds()).expect("login starts");
    h.sent();
    h.server(HEADER_1_0);
    h.server(&features(&format!(
        "{STARTTLS}{}",
        mechanisms(&["SCRAM-SHA-256", "PLAIN"])
    )));
    assert_eq!(
        h.sent(),
        "<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"
    );
    assert!(!h.client.wants_tls());
    // `<proceed/>`, and an attacker's plaintext after it in the same read.
    h.server(
        "<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>\
         <message from='example.com'><body>injected</body></message>",
    );
    assert!(h.client.wants_tls());
    let now = h.now;
    // Nothing is written or taken while the driver sets TLS up.
    assert_eq!(
        h.client.send(now, support_message()),
        Err(Error::WrongPhase)
    );
    h.server("<message from='example.com'><body>also injected</body></message>");
    assert_eq!(h.sent(), "");
    h.client
        .handle_tls_ready(now, vec![exporter()])
        .expect("asked for");
    assert!(!h.client.wants_tls());
    assert_eq!(h.sent(), OUR_HEADER, "the stream restarts over TLS");
    // Asked only once.
    assert_eq!(
        h.client.handle_tls_ready(now, vec![]),
        Err(Error::WrongPhase)
    );
    h.server(HEADER_1_0);
    h.server(&features(&format!(
        "{}{EXPORTER_CB}",
        mechanisms(&["SCRAM-SHA-256", "SCRAM-SHA-256-PLUS"])
    )));
    let auth = h.sent();
    assert!(auth.contains("mechanism='SCRAM-SHA-256-PLUS'"), "{auth}");
    let (server, last) = scram_exchange(&mut h, &auth, &exporter().data);
    h.server(&success(&server, &last, &exporter().data));
    assert_eq!(h.sent(), OUR_HEADER);
    h.server(HEADER_1_0);
    h.server(&features(&format!(
        "{BIND}<session xmlns='urn:ietf:params:xml:ns:xmpp-session'/>"
    )));
    h.sent();
    h.server(&format!(
        "<iq type='result' id='{}'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>\
         <jid>alice@example.com/desk</jid></bind></iq>",
        wire_id(1)
    ));
    assert_eq!(
        h.sent(),
        format!(
            "<iq type='set' id='{}'><session xmlns='urn:ietf:params:xml:ns:xmpp-session'/></iq>",
            wire_id(2)
        )
    );
    h.server(&format!("<iq type='result' id='{}'/>", wire_id(2)));
    let events = h.events();
    assert!(
        !events.iter().any(|e| format!("{e:?}").contains("injected")),
        "plaintext after <proceed/> reached the application: {events:?}"
    );
    assert!(
        matches!(
            events.last(),
            Some(Event::Session(SessionEvent::Ready { .. }))
        ),
        "{events:?}"
    );
}

fn support_message() -> jabber_proto::xml::Element {
    jabber_proto::xml::Element::builder("message", "jabber:client")
        .attr("to", "bob@example.com")
        .build()
        .expect("valid")
}

#[test]
fn tls_required_and_not_offered_sends_no_credential() {
    // STARTTLS stripped: SCRAM offered on a plaintext transport.
    let mut h = Harness::new(config());
    let now = h.now;
    h.client.login(now, creds()).expect("login starts");
    h.sent();
    h.server(HEADER_1_0);
    h.server(&features(&mechanisms(&["SCRAM-SHA-256", "PLAIN"])));
    let events = h.events();
    assert!(
        matches!(
            events.last(),
            Some(Event::Session(SessionEvent::LoginFailed(
                LoginError::TlsRequired
            )))
        ),
        "{events:?}"
    );
    assert_eq!(h.sent(), "</stream:stream>");
    // Allowed explicitly, SCRAM goes out (never PLAIN on plaintext).
    let mut c = config();
    c.require_tls = false;
    let mut h = Harness::new(c);
    h.client.login(now, creds()).expect("login starts");
    h.sent();
    h.server(HEADER_1_0);
    h.server(&features(&mechanisms(&["PLAIN", "SCRAM-SHA-1"])));
    assert!(h.sent().contains("mechanism='SCRAM-SHA-1'"));
}

#[test]
fn starttls_refused_is_typed() {
    let mut h = Harness::new(config());
    let now = h.now;
    h.client.login(now, creds()).expect("login starts");
    h.sent();
    h.server(HEADER_1_0);
    h.server(&features(STARTTLS));
    h.sent();
    h.server("<failure xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>");
    let events = h.events();
    assert!(
        matches!(
            events.last(),
            Some(Event::Session(SessionEvent::LoginFailed(
                LoginError::TlsRefused
            )))
        ),
        "{events:?}"
    );
}

#[test]
fn the_1_0_login_is_the_same_byte_at_a_time() {
    let run = |bytewise: bool| -> Vec<String> {
        let (mut h, auth) = to_auth(config(), &mechanisms(&["SCRAM-SHA-256"]));
        let first =
            String::from_utf8(B64.decode(content(&auth, "auth")).expect("b64")).expect("UTF-8");
        let server = ScramServer::first(&first, 4096);
        let challenge = format!(
            "<challenge xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>{}</challenge>",
            B64.encode(&server.server_first)
        );
        if bytewise {
            h.server_bytewise(&challenge);
        } else {
            h.server(&challenge);
        }
        let response = h.sent();
        let last = String::from_utf8(B64.decode(content(&response, "response")).expect("b64"))
            .expect("UTF-8");
        // The server's new stream answers our new header: it comes in a later read.
        let success = success(&server, &last, b"");
        let rest = format!(
            "{HEADER_1_0}{}<iq type='result' id='{}'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>\
             <jid>alice@example.com/desk</jid></bind></iq>",
            features(BIND),
            wire_id(1)
        );
        for input in [success, rest] {
            if bytewise {
                h.server_bytewise(&input);
            } else {
                h.server(&input);
            }
            h.sent();
        }
        h.events().iter().map(|e| format!("{e:?}")).collect()
    };
    let whole = run(false);
    assert!(
        whole.last().is_some_and(|e| e.contains("Ready")),
        "{whole:?}"
    );
    assert_eq!(run(true), whole);
}

#[test]
fn a_version_stripped_header_gets_no_credential_when_tls_is_required() {
    // We asked for 1.0; an attacker answers with a version-less header to get the
    // classic login (a digest salted as it chose) on a plaintext transport.
    let mut h = Harness::new(config());
    let now = h.now;
    h.client.login(now, creds()).expect("login starts");
    h.sent();
    h.server(
        "<?xml version='1.0'?><stream:stream xmlns='jabber:client' \
         xmlns:stream='http://etherx.jabber.org/streams' from='example.com' id='abc'>",
    );
    let events = h.events();
    assert!(
        matches!(
            events.last(),
            Some(Event::Session(SessionEvent::LoginFailed(
                LoginError::TlsRequired
            )))
        ),
        "{events:?}"
    );
    assert_eq!(h.sent(), "</stream:stream>");
}

#[test]
fn nothing_but_the_login_crosses_the_stream_while_it_negotiates() {
    let mut h = Harness::new(config());
    let now = h.now;
    h.client.login(now, creds()).expect("login starts");
    h.sent();
    h.server(HEADER_1_0);
    h.server(&features(&format!(
        "{STARTTLS}{}",
        mechanisms(&["SCRAM-SHA-256"])
    )));
    assert_eq!(
        h.sent(),
        "<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"
    );
    // The application may not write before TLS and login.
    assert_eq!(
        h.client.send(now, support_message()),
        Err(Error::WrongPhase)
    );
    // Stanzas injected in plaintext before <proceed/> reach nobody, and are forgotten.
    h.server(
        "<presence from='ceo@example.com/phone'/>\
         <message from='ceo@example.com/phone'><body>wire the money</body></message>\
         <presence from='eve@example.com' type='subscribe'/>",
    );
    h.server("<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>");
    h.client.handle_tls_ready(now, vec![]).expect("asked for");
    let events = h.events();
    assert!(
        events.iter().all(|e| matches!(e, Event::Stream(_))),
        "{events:?}"
    );
    assert_eq!(h.client.presence().contacts().count(), 0);
    assert!(h.client.pending_subscriptions().is_empty());
    assert_eq!(h.sent(), OUR_HEADER);
}

#[test]
fn a_second_challenge_is_not_answered() {
    let (mut h, auth) = to_auth(config(), &mechanisms(&["SCRAM-SHA-256"]));
    let (server, _) = scram_exchange(&mut h, &auth, b"");
    h.server(&format!(
        "<challenge xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>{}</challenge>",
        B64.encode(&server.server_first)
    ));
    let events = h.events();
    assert!(
        matches!(
            events.last(),
            Some(Event::Session(SessionEvent::LoginFailed(
                LoginError::Scram(ScramError::Malformed)
            )))
        ),
        "{events:?}"
    );
    assert_eq!(
        h.sent(),
        "<abort xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/></stream:stream>"
    );
}

#[test]
fn the_wait_for_tls_ends_with_the_connection() {
    let to_proceed = || {
        let mut h = Harness::new(config());
        let now = h.now;
        h.client.login(now, creds()).expect("login starts");
        h.sent();
        h.server(HEADER_1_0);
        h.server(&features(STARTTLS));
        h.sent();
        h.server("<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>");
        assert!(h.client.wants_tls());
        h
    };
    // The server goes away: no TLS is wanted any more, and none is taken.
    let mut h = to_proceed();
    let now = h.now;
    h.client.handle_eof(now);
    assert!(!h.client.wants_tls());
    assert_eq!(
        h.client.handle_tls_ready(now, vec![]),
        Err(Error::WrongPhase)
    );
    assert_eq!(h.sent(), "");
    // We close: nothing can be written in plaintext after <proceed/>; the connection
    // ends at once.
    let mut h = to_proceed();
    let now = h.now;
    h.client.close(now);
    assert!(h.client.is_closed());
    assert!(!h.client.wants_tls());
    assert_eq!(h.sent(), "");
    // The keepalive writes nothing while TLS is awaited.
    let mut c = config();
    c.keepalive_interval = Some(std::time::Duration::from_secs(30));
    let mut h = Harness::new(c);
    let now = h.now;
    h.client.login(now, creds()).expect("login starts");
    h.sent();
    h.server(HEADER_1_0);
    h.server(&features(STARTTLS));
    h.sent();
    h.server("<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>");
    h.advance(std::time::Duration::from_secs(61));
    assert_eq!(h.sent(), "", "a keepalive in plaintext after <proceed/>");
}

#[test]
fn a_captured_scram_login_holds_no_password_verifier_and_replays() {
    use jabber_proto::client::RecordKind;
    use jabber_proto::replay::{self, Options};
    let mut c = config();
    c.capture = true;
    let (mut h, auth) = to_auth(c, &mechanisms(&["SCRAM-SHA-256"]));
    let (server, last) = scram_exchange(&mut h, &auth, b"");
    let success = success(&server, &last, b"");
    h.server(&success);
    h.sent();
    h.server(HEADER_1_0);
    h.server(&features(BIND));
    h.sent();
    h.server(&format!(
        "<iq type='result' id='{}'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>\
         <jid>alice@example.com/desk</jid></bind></iq>",
        wire_id(1)
    ));
    let events: Vec<String> = h.events().iter().map(|e| format!("{e:?}")).collect();
    assert!(
        events.last().is_some_and(|e| e.contains("Ready")),
        "{events:?}"
    );
    let records: Vec<_> = std::iter::from_fn(|| h.client.poll_capture()).collect();
    let text: String = records
        .iter()
        .map(|r| String::from_utf8_lossy(&r.data).into_owned())
        .collect();
    // The salt and iteration count (server-first) and the server signature are what a
    // guesser needs; none of them, nor the proof, is in the capture.
    let server_first_b64 = B64.encode(&server.server_first);
    let signature = content(&success, "success").to_owned();
    for secret in [server_first_b64.as_str(), signature.as_str(), PASSWORD] {
        assert!(!text.contains(secret), "{secret} in the capture");
    }
    assert!(
        records.iter().any(|r| r.kind == RecordKind::Input
            && r.data
                .starts_with(b"<challenge xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>***")),
        "the challenge is captured masked"
    );
    let report = replay::replay(&records, &Options::default());
    assert_eq!(report.difference, None);
    assert_eq!(report.events, events);
    let bytewise = replay::replay(&records, &Options::chunked(1));
    assert_eq!(bytewise.difference, None);
}
