//! The classic login (XEP-0078) against a scripted server with a virtual clock: every
//! path, byte-exact where we send credentials.

mod support;

use core::time::Duration;
use std::num::NonZeroU64;

use jabber_proto::client::{
    CloseReason, Config, Error, Event, IqEvent, RosterEvent, SessionEvent, SessionState, State,
    StreamEvent,
};
use jabber_proto::features::roster::Subscription;
use jabber_proto::negotiation::auth::{Credentials, LoginError, digest};
use jabber_proto::stanza::StanzaCondition;
use jabber_proto::stream::Condition;
use support::{CLASSIC_HEADER, Harness, SEED, wire_id};

const PASSWORD: &str = "Calli0pe";

fn config() -> Config {
    let mut c = Config::new("example.com", NonZeroU64::MIN);
    // A classic server is scripted: the classic stream, stated (1.0 is the default).
    c.version = None;
    c.seed = NonZeroU64::new(SEED).expect("a non-zero seed");
    c
}

fn creds() -> Credentials {
    Credentials::new("alice", PASSWORD, "laptop")
}

/// A client that called `login` and has sent the fields request (id 1).
fn logging_in(config: Config) -> Harness {
    let mut h = Harness::new(config);
    let now = h.now;
    h.client.login(now, creds()).expect("login starts");
    h.sent();
    h.server(CLASSIC_HEADER);
    assert!(matches!(
        h.events().as_slice(),
        [Event::Stream(StreamEvent::Opened(_))]
    ));
    assert_eq!(
        h.sent(),
        format!(
            "<iq type='get' id='{}'><query xmlns='jabber:iq:auth'><username>alice</username>\
             </query></iq>",
            wire_id(1)
        )
    );
    h
}

fn offer(h: &mut Harness, fields: &str) {
    h.server(&format!(
        "<iq type='result' id='{}'><query xmlns='jabber:iq:auth'>{fields}</query></iq>",
        wire_id(1)
    ));
}

fn set_with(proof: &str) -> String {
    format!(
        "<iq type='set' id='{}'><query xmlns='jabber:iq:auth'><username>alice</username>\
         {proof}<resource>laptop</resource></query></iq>",
        wire_id(2)
    )
}

fn digest_proof() -> String {
    format!("<digest>{}</digest>", digest("3EE948B0", PASSWORD))
}

fn plaintext_proof() -> String {
    format!("<password>{PASSWORD}</password>")
}

fn single<T: core::fmt::Debug>(mut v: Vec<T>) -> T {
    assert_eq!(v.len(), 1, "{v:?}");
    v.remove(0)
}

fn login_failed(h: &mut Harness) -> LoginError {
    let events = h.events();
    let [Event::Session(SessionEvent::LoginFailed(e))] = events.as_slice() else {
        panic!("{events:?}")
    };
    assert_eq!(h.client.state(), State::Closing);
    assert_eq!(h.sent(), "</stream:stream>");
    e.clone()
}

#[test]
fn digest_is_preferred_and_success_fetches_roster_and_sends_presence() {
    let mut h = logging_in(config());
    offer(&mut h, "<username/><password/><digest/><resource/>");
    assert_eq!(h.sent(), set_with(&digest_proof()));
    assert_eq!(h.client.session_state(), SessionState::Authenticating);
    h.server(&format!("<iq type='result' id='{}'/>", wire_id(2)));
    assert_eq!(
        h.sent(),
        format!(
            "<iq type='get' id='{}'><query xmlns='jabber:iq:roster'/></iq><presence/>",
            wire_id(3)
        )
    );
    assert_eq!(h.client.session_state(), SessionState::LoggedIn);
    assert_eq!(h.events(), vec![]);
    // ejabberd answers roster requests from our bare JID.
    h.server(&format!(
        "<iq type='result' id='{}' to='alice@example.com/laptop' from='alice@example.com'>\
         <query xmlns='jabber:iq:roster'>\
         <item jid='bob@example.com' name='Bob' subscription='both'><group>Friends</group></item>\
         <item jid='carol@example.com' subscription='none' ask='subscribe'/>\
         <item jid='not a jid@@'/>\
         </query></iq>",
        wire_id(3)
    ));
    let Event::Session(SessionEvent::Ready { jid, roster, .. }) = single(h.events()) else {
        panic!()
    };
    assert_eq!(jid.as_str(), "alice@example.com/laptop");
    assert_eq!(h.client.jid(), Some(&jid));
    let roster = roster.unwrap();
    assert_eq!(roster.items.len(), 2);
    assert_eq!(roster.items[0].jid.as_str(), "bob@example.com");
    assert_eq!(roster.items[0].name.as_deref(), Some("Bob"));
    assert_eq!(roster.items[0].subscription, Subscription::Both);
    assert_eq!(roster.items[0].groups, vec!["Friends".to_string()]);
    assert!(roster.items[1].pending_out);
    assert_eq!(h.client.session_state(), SessionState::Ready);
}

#[test]
fn login_before_the_stream_opens_waits_for_the_header() {
    let mut h = Harness::new(config());
    let now = h.now;
    h.client.login(now, creds()).unwrap();
    assert!(!h.sent().contains("iq"));
    // Chunking does not matter.
    h.server_bytewise(CLASSIC_HEADER);
    assert!(h.sent().contains("jabber:iq:auth"));
}

#[test]
fn plaintext_is_sent_when_allowed_and_only_password_is_offered() {
    let mut c = config();
    c.allow_plaintext = true;
    let mut h = logging_in(c);
    offer(&mut h, "<username/><password/><resource/>");
    assert_eq!(h.sent(), set_with(&plaintext_proof()));
}

#[test]
fn digest_can_be_turned_off() {
    let mut c = config();
    c.use_digest = false;
    c.allow_plaintext = true;
    let mut h = logging_in(c);
    offer(&mut h, "<username/><password/><digest/><resource/>");
    assert_eq!(h.sent(), set_with(&plaintext_proof()));

    let mut c = config();
    c.use_digest = false;
    let mut h = logging_in(c);
    offer(&mut h, "<username/><password/><digest/><resource/>");
    assert_eq!(login_failed(&mut h), LoginError::PlaintextNotAllowed);
}

#[test]
fn plaintext_is_sent_on_an_encrypted_transport() {
    let mut c = config();
    c.transport_encrypted = true;
    let mut h = logging_in(c);
    offer(&mut h, "<username/><password/><resource/>");
    assert_eq!(h.sent(), set_with(&plaintext_proof()));
}

#[test]
fn plaintext_refused_when_not_allowed_sends_nothing_and_closes() {
    let mut h = logging_in(config());
    offer(&mut h, "<username/><password/><resource/>");
    assert_eq!(login_failed(&mut h), LoginError::PlaintextNotAllowed);
    assert_eq!(h.client.session_state(), SessionState::Ended);
    h.server("</stream:stream>");
    assert_eq!(h.events(), vec![Event::Closed(CloseReason::Local)]);
}

#[test]
fn prosody_ignoring_the_digest_is_not_a_login() {
    // prosody 0.12 answers a digest with type='result' carrying the field list again.
    let mut h = logging_in(config());
    offer(&mut h, "<username/><password/><digest/><resource/>");
    assert_eq!(h.sent(), set_with(&digest_proof()));
    h.server(&format!(
        "<iq type='result' id='{}'><query xmlns='jabber:iq:auth'><username/><password/>\
         <resource/></query></iq>",
        wire_id(2)
    ));
    assert_eq!(login_failed(&mut h), LoginError::DigestNotSupported);
    assert_ne!(h.client.session_state(), SessionState::Ready);
}

#[test]
fn prosody_ignoring_the_digest_falls_back_to_plaintext_when_allowed() {
    let mut c = config();
    c.allow_plaintext = true;
    let mut h = logging_in(c);
    offer(&mut h, "<username/><password/><digest/><resource/>");
    assert_eq!(h.sent(), set_with(&digest_proof()));
    h.server(&format!(
        "<iq type='result' id='{}'><query xmlns='jabber:iq:auth'><username/><password/>\
         <digest/><resource/></query></iq>",
        wire_id(2)
    ));
    assert_eq!(
        h.sent(),
        format!(
            "<iq type='set' id='{}'><query xmlns='jabber:iq:auth'><username>alice</username>\
             {}<resource>laptop</resource></query></iq>",
            wire_id(3),
            plaintext_proof()
        )
    );
    h.server(&format!("<iq type='result' id='{}'/>", wire_id(3)));
    assert_eq!(h.client.session_state(), SessionState::LoggedIn);
}

#[test]
fn refused_digest_falls_back_only_under_the_plaintext_rule() {
    let refusal = |id: u64| {
        format!(
            "<iq type='error' id='{}'><error code='401' type='auth'>\
             <not-authorized xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>",
            wire_id(id)
        )
    };
    // The digest not taken as sent (406): nothing was checked, so the password may go
    // out once in the clear, where the plaintext rule allows.
    let not_taken = |id: u64| {
        format!(
            "<iq type='error' id='{}'><error code='406' type='modify'>\
             <not-acceptable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>",
            wire_id(id)
        )
    };
    // Not allowed: the server's refusal is the failure.
    let mut h = logging_in(config());
    offer(&mut h, "<username/><password/><digest/><resource/>");
    h.sent();
    h.server(&not_taken(2));
    let e = login_failed(&mut h);
    assert_eq!(e.code(), Some(406));
    assert_eq!(e.condition(), Some(StanzaCondition::NotAcceptable));
    assert!(!h.sent().contains(&plaintext_proof()));

    // Allowed: one plaintext attempt, whose refusal is final.
    let mut c = config();
    c.allow_plaintext = true;
    let mut h = logging_in(c);
    offer(&mut h, "<username/><password/><digest/><resource/>");
    h.sent();
    h.server(&not_taken(2));
    assert!(h.sent().contains(&plaintext_proof()));
    h.server(&refusal(3));
    assert_eq!(login_failed(&mut h).code(), Some(401));
}

#[test]
fn a_wrong_password_is_not_tried_twice() {
    // ejabberd and prosody refuse a wrong digest with a bare not-authorized (see
    // docs/auth-refusals.md): the password was checked and is wrong, so it is not sent
    // again in the clear, even where the plaintext rule would allow it.
    let refusal = |id: u64| {
        format!(
            "<iq type='error' id='{}'><error code='401' type='auth'>\
             <not-authorized xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>",
            wire_id(id)
        )
    };
    for allow_plaintext in [false, true] {
        let mut c = config();
        c.allow_plaintext = allow_plaintext;
        let mut h = logging_in(c);
        offer(&mut h, "<username/><password/><digest/><resource/>");
        assert!(h.sent().contains(&digest_proof()));
        h.server(&refusal(2));
        let e = login_failed(&mut h);
        assert_eq!(e.code(), Some(401));
        assert_eq!(e.condition(), Some(StanzaCondition::NotAuthorized));
        let after = h.sent();
        assert!(!after.contains("<iq"), "a second attempt: {after}");
    }
}

#[test]
fn classic_error_codes_become_typed_failures() {
    for (code, text, condition) in [
        (401, "Unauthorized", StanzaCondition::NotAuthorized),
        (406, "Not Acceptable", StanzaCondition::NotAcceptable),
        (409, "Conflict", StanzaCondition::Conflict),
    ] {
        let mut h = logging_in(config());
        offer(&mut h, "<username/><digest/><resource/>");
        h.sent();
        h.server(&format!(
            "<iq type='error' id='{}'><error code='{code}'>{text}</error></iq>",
            wire_id(2)
        ));
        let e = login_failed(&mut h);
        assert_eq!(e.code(), Some(code));
        assert_eq!(e.condition(), Some(condition));
        assert_eq!(e.text(), Some(text));
    }
}

#[test]
fn refused_fields_request_and_no_common_method_fail() {
    let mut h = logging_in(config());
    h.server(&format!(
        "<iq type='error' id='{}'><error type='cancel'>\
         <service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>",
        wire_id(1)
    ));
    let e = login_failed(&mut h);
    assert_eq!(e.condition(), Some(StanzaCondition::ServiceUnavailable));
    assert_eq!(e.code(), Some(503));

    let mut h = logging_in(config());
    offer(&mut h, "<username/><resource/>");
    assert_eq!(login_failed(&mut h), LoginError::NoCommonMethod);
}

#[test]
fn a_payload_on_a_plaintext_result_is_not_a_login() {
    let mut c = config();
    c.allow_plaintext = true;
    let mut h = logging_in(c);
    offer(&mut h, "<username/><password/><resource/>");
    h.sent();
    h.server(&format!(
        "<iq type='result' id='{}'><query xmlns='jabber:iq:auth'><password/></query></iq>",
        wire_id(2)
    ));
    assert_eq!(login_failed(&mut h), LoginError::UnexpectedReply);
}

#[test]
fn unanswered_login_times_out() {
    let mut c = config();
    c.iq_timeout = Duration::from_secs(20);
    let mut h = logging_in(c);
    let t0 = h.now;
    h.advance(Duration::from_millis(19_999));
    assert_eq!(h.events(), vec![]);
    h.advance(Duration::from_millis(1));
    assert_eq!(login_failed(&mut h), LoginError::Timeout);
    assert_eq!(h.now, t0 + Duration::from_secs(20));
}

#[test]
fn a_reply_from_another_address_does_not_count() {
    let mut h = logging_in(config());
    h.server(&format!(
        "<iq type='result' id='{}' from='mallory@evil.example'><query xmlns='jabber:iq:auth'>\
         <password/></query></iq>",
        wire_id(1)
    ));
    assert_eq!(h.sent(), "");
    assert_eq!(h.events(), vec![]);
}

#[test]
fn roster_and_presence_are_optional() {
    let mut c = config();
    c.fetch_roster = false;
    c.initial_presence = false;
    let mut h = logging_in(c);
    offer(&mut h, "<digest/>");
    h.sent();
    h.server(&format!("<iq type='result' id='{}'/>", wire_id(2)));
    assert_eq!(h.sent(), "");
    let Event::Session(SessionEvent::Ready { roster, .. }) = single(h.events()) else {
        panic!()
    };
    assert_eq!(roster, None);
}

#[test]
fn a_refused_roster_still_makes_the_session_ready() {
    let mut h = logging_in(config());
    offer(&mut h, "<digest/>");
    h.server(&format!("<iq type='result' id='{}'/>", wire_id(2)));
    h.sent();
    h.server(&format!(
        "<iq type='error' id='{}'><error code='503'/></iq>",
        wire_id(3)
    ));
    let Event::Session(SessionEvent::Ready { roster, .. }) = single(h.events()) else {
        panic!()
    };
    assert_eq!(roster, None);
}

#[test]
fn misplaced_commands_are_refused() {
    let mut h = logging_in(config());
    let now = h.now;
    assert_eq!(h.client.login(now, creds()), Err(Error::WrongPhase));
    assert_eq!(h.client.request_registration(now), Err(Error::WrongPhase));
    assert_eq!(h.client.change_password(now, "x"), Err(Error::WrongPhase));
    assert_eq!(h.client.remove_account(now), Err(Error::WrongPhase));
    h.client.close(now);
    assert_eq!(h.client.login(now, creds()), Err(Error::Closed));
}

#[test]
fn version_less_streams_ignore_features_and_1_0_streams_wait_for_them() {
    // prosody sends features on a version-less stream: ignored, login goes on.
    let mut h = logging_in(config());
    h.server(
        "<stream:features><auth xmlns='http://jabber.org/features/iq-auth'/></stream:features>",
    );
    assert_eq!(h.events(), vec![]);

    let mut c = config();
    c.version = Some("1.0".into());
    c.require_tls = false;
    let mut h = Harness::new(c);
    let now = h.now;
    h.client.login(now, creds()).unwrap();
    h.sent();
    h.server(support::SERVER_HEADER);
    assert!(!h.sent().contains("iq"), "waits for the features");
    h.server(
        "<stream:features><auth xmlns='http://jabber.org/features/iq-auth'/></stream:features>",
    );
    assert!(h.sent().contains("jabber:iq:auth"));
}

#[test]
fn a_1_0_stream_offering_only_iq_auth_without_tls_sends_nothing_when_tls_is_required() {
    let mut c = config();
    c.version = Some("1.0".into());
    let mut h = Harness::new(c);
    let now = h.now;
    h.client.login(now, creds()).unwrap();
    h.sent();
    h.server(support::SERVER_HEADER);
    h.server(
        "<stream:features><auth xmlns='http://jabber.org/features/iq-auth'/></stream:features>",
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
    assert_eq!(h.sent(), "</stream:stream>", "no credential without TLS");
}

#[test]
fn server_stream_errors_in_every_login_state_end_the_session() {
    let error = "<stream:error><not-authorized xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>\
                 <text xmlns='urn:ietf:params:xml:ns:xmpp-streams'>go away</text></stream:error>";
    let check = |h: &mut Harness| {
        h.server(error);
        let events = h.events();
        let Some(Event::Closed(CloseReason::StreamError(e))) = events.last() else {
            panic!("{events:?}")
        };
        assert_eq!(e.condition, Condition::NotAuthorized);
        assert_eq!(e.text.as_deref(), Some("go away"));
        assert!(h.client.is_closed());
        assert_eq!(h.client.session_state(), SessionState::Ended);
    };
    // Waiting for the fields.
    check(&mut logging_in(config()));
    // Waiting for the verdict.
    let mut h = logging_in(config());
    offer(&mut h, "<digest/>");
    check(&mut h);
    // Waiting for the roster.
    let mut h = logging_in(config());
    offer(&mut h, "<digest/>");
    h.server(&format!("<iq type='result' id='{}'/>", wire_id(2)));
    check(&mut h);
    // Ready.
    let mut h = logging_in(config());
    offer(&mut h, "<digest/>");
    h.server(&format!("<iq type='result' id='{}'/>", wire_id(2)));
    h.server(&format!("<iq type='result' id='{}'/>", wire_id(3)));
    h.events();
    check(&mut h);
    // Before the stream opened: the header may carry the error right away.
    let mut h = Harness::new(config());
    let now = h.now;
    h.client.login(now, creds()).unwrap();
    h.server(CLASSIC_HEADER);
    check(&mut h);
}

#[test]
fn no_digest_without_a_stream_id() {
    let mut c = config();
    c.allow_plaintext = false;
    let mut h = Harness::new(c);
    let now = h.now;
    h.client.login(now, creds()).unwrap();
    h.sent();
    h.server(
        "<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' \
         from='example.com'>",
    );
    h.events();
    h.sent();
    offer(&mut h, "<digest/><password/>");
    assert_eq!(login_failed(&mut h), LoginError::PlaintextNotAllowed);
}

#[test]
fn bad_credentials_are_the_callers_error_and_send_nothing() {
    let mut h = Harness::new(config());
    let now = h.now;
    h.sent();
    let bad_address = Credentials::new("alice@home", PASSWORD, "laptop");
    assert!(matches!(
        h.client.login(now, bad_address),
        Err(Error::InvalidAddress(_))
    ));
    let empty_resource = Credentials::new("alice", PASSWORD, "");
    assert!(matches!(
        h.client.login(now, empty_resource),
        Err(Error::InvalidAddress(_))
    ));
    let not_xml = Credentials::new("alice", "pass\u{1}word", "laptop");
    assert!(matches!(h.client.login(now, not_xml), Err(Error::Build(_))));
    assert_eq!(h.client.session_state(), SessionState::Unauthenticated);
    h.server(CLASSIC_HEADER);
    assert_eq!(h.sent(), "");
    // A good one is still accepted afterwards.
    assert_eq!(h.client.login(now, creds()), Ok(()));
}

#[test]
fn nothing_follows_our_close_whatever_the_login_replies() {
    // Closed while the fields request is out.
    let mut c = config();
    c.allow_plaintext = true;
    let mut h = logging_in(c.clone());
    let now = h.now;
    h.client.close(now);
    assert_eq!(h.sent(), "</stream:stream>");
    offer(&mut h, "<username/><password/><resource/>");
    assert_eq!(h.sent(), "");
    assert_eq!(h.events(), vec![]);
    // Closed while the credentials are out: the late success sends no roster request
    // and no presence, and reports no session.
    let mut h = logging_in(c);
    offer(&mut h, "<username/><password/><resource/>");
    h.sent();
    h.client.close(now);
    h.sent();
    h.server(&format!("<iq type='result' id='{}'/>", wire_id(2)));
    assert_eq!(h.sent(), "");
    assert_eq!(h.events(), vec![]);
    // Nor does the request's timeout.
    h.advance(Duration::from_secs(9));
    assert_eq!(h.events(), vec![]);
}

#[test]
fn a_1_0_stream_without_features_or_without_iq_auth_fails_the_login() {
    let mut c = config();
    c.version = Some("1.0".into());
    c.iq_timeout = Duration::from_secs(20);
    c.keepalive_interval = None;
    c.dead_peer_timeout = None;
    let mut h = Harness::new(c.clone());
    let now = h.now;
    h.client.login(now, creds()).unwrap();
    h.sent();
    h.server(support::SERVER_HEADER);
    h.events();
    assert_eq!(h.client.poll_timeout(), Some(now + Duration::from_secs(20)));
    h.run_to_deadline();
    assert_eq!(login_failed(&mut h), LoginError::Timeout);

    // Only PLAIN, on a plaintext transport: refused by the TLS rule, and without it by
    // the plaintext rule; either way nothing but the close goes out.
    for (require_tls, expected) in [
        (true, LoginError::TlsRequired),
        (false, LoginError::PlaintextNotAllowed),
    ] {
        let mut c = c.clone();
        c.require_tls = require_tls;
        let mut h = Harness::new(c);
        h.client.login(now, creds()).unwrap();
        h.sent();
        h.server(support::SERVER_HEADER);
        h.server(
            "<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>\
             <mechanism>PLAIN</mechanism></mechanisms></stream:features>",
        );
        let events = h.events();
        assert!(
            matches!(
                events.as_slice(),
                [
                    Event::Stream(StreamEvent::Opened(_)),
                    Event::Stream(StreamEvent::Features(_)),
                    Event::Session(SessionEvent::LoginFailed(e))
                ] if *e == expected
            ),
            "{events:?}"
        );
        assert_eq!(h.sent(), "</stream:stream>", "no credential sent");
    }
}

#[test]
fn roster_pushes_from_our_server_are_acknowledged_and_reported() {
    let mut h = logging_in(config());
    offer(&mut h, "<digest/>");
    h.server(&format!("<iq type='result' id='{}'/>", wire_id(2)));
    h.server(&format!("<iq type='result' id='{}'/>", wire_id(3)));
    h.events();
    h.sent();
    h.server(
        "<iq type='set' id='push1' from='alice@example.com'><query xmlns='jabber:iq:roster'>\
         <item jid='dave@example.com' subscription='remove'/></query></iq>",
    );
    assert_eq!(
        h.sent(),
        "<iq type='result' id='push1' to='alice@example.com'/>"
    );
    let Event::Roster(RosterEvent::Push(roster)) = single(h.events()) else {
        panic!()
    };
    assert_eq!(roster.items[0].jid.as_str(), "dave@example.com");
    assert_eq!(roster.items[0].subscription, Subscription::Remove);
    // From anyone else: refused and not reported (RFC 6121 §2.1.6).
    h.server(
        "<iq type='set' id='push2' from='mallory@evil.example'><query xmlns='jabber:iq:roster'>\
         <item jid='mallory@evil.example' subscription='both'/></query></iq>",
    );
    assert_eq!(
        h.sent(),
        "<iq type='error' id='push2' to='mallory@evil.example'><error type='cancel'>\
         <service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>"
    );
    assert_eq!(h.events(), vec![]);
}

/// Logged in as alice@example.com/laptop, roster and presence off, next IQ id 3.
fn ready() -> Harness {
    let mut c = config();
    c.fetch_roster = false;
    c.initial_presence = false;
    let mut h = logging_in(c);
    offer(&mut h, "<digest/>");
    h.server(&format!("<iq type='result' id='{}'/>", wire_id(2)));
    h.events();
    h.sent();
    h
}

#[test]
fn replies_for_our_own_account_may_lack_from_or_differ_in_case() {
    use jabber_proto::jid::Jid;
    use jabber_proto::stanza::IqType;
    use jabber_proto::xml::Element;
    let vcard = || {
        Element::builder("vCard", "vcard-temp")
            .build()
            .expect("valid")
    };
    let mut h = ready();
    let now = h.now;
    let me = Jid::parse("alice@example.com").unwrap();
    // prosody answers a request to our bare JID without `from`.
    let a = h
        .client
        .send_iq(now, Some(&me), IqType::Get, vcard())
        .unwrap();
    h.server(&format!("<iq type='result' id='{}'/>", wire_id(3)));
    assert!(matches!(h.events().as_slice(), [Event::Iq(IqEvent::Result { id, .. })] if *id == a));
    // ejabberd keeps the case the user logged in with.
    let b = h
        .client
        .send_iq(now, Some(&me), IqType::Get, vcard())
        .unwrap();
    h.server(&format!(
        "<iq type='result' id='{}' from='Alice@Example.com'/>",
        wire_id(4)
    ));
    assert!(matches!(h.events().as_slice(), [Event::Iq(IqEvent::Result { id, .. })] if *id == b));
    // A reply without `from` to a request sent to someone else still does not count.
    let bob = Jid::parse("bob@example.com").unwrap();
    h.client
        .send_iq(now, Some(&bob), IqType::Get, vcard())
        .unwrap();
    h.server(&format!("<iq type='result' id='{}'/>", wire_id(5)));
    assert_eq!(h.events(), vec![]);
    assert_eq!(h.client.pending_iqs(), 1);
}

#[test]
fn a_queued_login_is_dropped_by_our_close() {
    let mut c = config();
    c.dead_peer_timeout = None;
    let mut h = Harness::new(c);
    let now = h.now;
    h.client.login(now, creds()).unwrap();
    h.client.close(now);
    h.advance(Duration::from_secs(120));
    assert_eq!(h.events(), vec![Event::Closed(CloseReason::LocalTimeout)]);
}

#[test]
fn roster_pushes_need_a_live_session() {
    let push = "<iq type='set' id='p'><query xmlns='jabber:iq:roster'>\
                <item jid='dave@example.com'/></query></iq>";
    // Before login: nobody to push to.
    let mut h = logging_in(config());
    h.server(push);
    assert!(
        h.events()
            .iter()
            .all(|e| !matches!(e, Event::Roster(RosterEvent::Push(_))))
    );
    // After our close: no acknowledgement can go out, so none is claimed.
    let mut h = ready();
    let now = h.now;
    h.client.close(now);
    h.sent();
    h.server(push);
    assert_eq!(h.events(), vec![]);
    assert_eq!(h.sent(), "");
}
