//! In-band registration (XEP-0077) against a scripted server: the form, conflicts,
//! password change and account removal.

mod support;

use jabber_proto::client::{AccountEvent, CloseReason, Config, Error, Event, SessionState, State};
use jabber_proto::negotiation::auth::Credentials;
use jabber_proto::negotiation::register::{
    Field, RegistrationError, RegistrationForm, RegistrationStep,
};
use jabber_proto::stanza::StanzaCondition;
use std::num::NonZeroU64;
use support::{CLASSIC_HEADER, Harness, SEED, wire_id};

/// Registration sends passwords as they are: allowed here, as on loopback.
fn config() -> Config {
    let mut c = Config::new("example.com", NonZeroU64::MIN);
    // A classic server is scripted: the classic stream, stated (1.0 is the default).
    c.version = None;
    c.seed = NonZeroU64::new(SEED).expect("a non-zero seed");
    c.allow_plaintext = true;
    c
}

fn open() -> Harness {
    let mut h = Harness::new(config());
    h.sent();
    h.server(CLASSIC_HEADER);
    h.events();
    h
}

fn form_reply(id: u64) -> String {
    format!(
        "<iq type='result' id='{}'><query xmlns='jabber:iq:register'>\
         <instructions>Choose a username &amp; password.</instructions>\
         <key>k3y</key><username/><password/><email/><x xmlns='jabber:x:data' type='form'/>\
         </query></iq>",
        wire_id(id)
    )
}

#[test]
fn form_conflict_then_success_on_the_same_stream() {
    let mut h = open();
    let now = h.now;
    h.client.request_registration(now).unwrap();
    assert_eq!(
        h.sent(),
        format!(
            "<iq type='get' id='{}'><query xmlns='jabber:iq:register'/></iq>",
            wire_id(1)
        )
    );
    // The form may arrive in any pieces.
    h.server_bytewise(&form_reply(1));
    let events = h.events();
    let [Event::Account(AccountEvent::RegistrationForm(form))] = events.as_slice() else {
        panic!("{events:?}")
    };
    assert_eq!(form.instructions(), Some("Choose a username & password."));
    assert_eq!(form.key(), Some("k3y"));
    assert!(!form.is_registered());
    let fields: Vec<Field> = form.fields().map(|(f, _)| f).collect();
    assert_eq!(fields, [Field::Username, Field::Password, Field::Email]);

    let mut form = form.clone();
    assert!(form.set(Field::Username, "alice"));
    assert!(form.set(Field::Password, "s3cret"));
    assert!(!form.set(Field::Phone, "555"));
    h.client.submit_registration(now, &form).unwrap();
    assert_eq!(
        h.sent(),
        format!(
            "<iq type='set' id='{}'><query xmlns='jabber:iq:register'><username>alice</username>\
             <password>s3cret</password><key>k3y</key></query></iq>",
            wire_id(2)
        )
    );
    // A second submission while one is in flight is refused.
    assert_eq!(
        h.client.submit_registration(now, &form),
        Err(Error::WrongPhase)
    );
    h.server(&format!(
        "<iq type='error' id='{}'><error code='409' type='cancel'>\
         <conflict xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>",
        wire_id(2)
    ));
    let events = h.events();
    let [Event::Account(AccountEvent::RegistrationConflict(returned))] = events.as_slice() else {
        panic!("{events:?}")
    };
    assert_eq!(returned, &form);
    assert_eq!(h.client.state(), State::Open);

    let mut form = returned.clone();
    form.set(Field::Username, "alice2");
    h.client.submit_registration(now, &form).unwrap();
    assert!(h.sent().contains("<username>alice2</username>"));
    h.server(&format!("<iq type='result' id='{}'/>", wire_id(3)));
    assert_eq!(h.events(), vec![Event::Account(AccountEvent::Registered)]);
    assert_eq!(h.sent(), "</stream:stream>");
    assert_eq!(h.client.session_state(), SessionState::Ended);
    h.server("</stream:stream>");
    assert_eq!(h.events(), vec![Event::Closed(CloseReason::Local)]);
}

#[test]
fn a_registration_asked_for_before_the_stream_opens_waits_for_it() {
    let mut h = Harness::new(config());
    let now = h.now;
    h.client.request_registration(now).unwrap();
    assert!(!h.sent().contains("<iq"));
    h.server_bytewise(CLASSIC_HEADER);
    assert_eq!(
        h.sent(),
        format!(
            "<iq type='get' id='{}'><query xmlns='jabber:iq:register'/></iq>",
            wire_id(1)
        )
    );
    // A login meanwhile is refused: one negotiation at a time.
    assert_eq!(
        h.client.login(now, Credentials::new("a", "b", "c")),
        Err(Error::WrongPhase)
    );
}

#[test]
fn other_refusals_are_typed() {
    let mut h = open();
    let now = h.now;
    h.client.request_registration(now).unwrap();
    h.server(&form_reply(1));
    let Some(Event::Account(AccountEvent::RegistrationForm(form))) = h.events().pop() else {
        panic!()
    };
    h.client.submit_registration(now, &form).unwrap();
    h.server(&format!(
        "<iq type='error' id='{}'><error code='406'>Not Acceptable</error></iq>",
        wire_id(2)
    ));
    let events = h.events();
    let [Event::Account(AccountEvent::RegistrationFailed { step, error })] = events.as_slice()
    else {
        panic!("{events:?}")
    };
    assert_eq!(*step, RegistrationStep::Submit);
    let RegistrationError::Refused(e) = error else {
        panic!()
    };
    assert_eq!(e.condition, StanzaCondition::NotAcceptable);
    assert_eq!(e.code, Some(406));
    // The stream stays usable: the application may try again.
    assert_eq!(h.client.state(), State::Open);

    // Registration switched off: the form request fails.
    let mut h = open();
    h.client.request_registration(now).unwrap();
    h.server(&format!(
        "<iq type='error' id='{}'><error type='cancel'>\
         <service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>",
        wire_id(1)
    ));
    assert!(matches!(
        h.events().as_slice(),
        [Event::Account(AccountEvent::RegistrationFailed {
            step: RegistrationStep::Form,
            error: RegistrationError::Refused(_)
        })]
    ));
}

#[test]
fn registration_request_times_out() {
    let mut h = open();
    let now = h.now;
    h.client.request_registration(now).unwrap();
    h.run_to_deadline();
    assert_eq!(
        h.events(),
        vec![Event::Account(AccountEvent::RegistrationFailed {
            step: RegistrationStep::Form,
            error: RegistrationError::Timeout
        })]
    );
}

/// A logged-in client (no roster, no presence) whose next IQ id is 3.
fn logged_in() -> Harness {
    let mut c = config();
    c.fetch_roster = false;
    c.initial_presence = false;
    c.keepalive_interval = None;
    Harness::logged_in(c)
}

#[test]
fn change_password_when_logged_in() {
    let mut h = logged_in();
    let now = h.now;
    h.client.change_password(now, "n3w").unwrap();
    assert_eq!(
        h.sent(),
        format!(
            "<iq type='set' id='{}'><query xmlns='jabber:iq:register'><username>alice</username>\
             <password>n3w</password></query></iq>",
            wire_id(3)
        )
    );
    h.server(&format!(
        "<iq type='result' id='{}' from='alice@example.com'/>",
        wire_id(3)
    ));
    assert_eq!(
        h.events(),
        vec![Event::Account(AccountEvent::PasswordChanged)]
    );
    // Registering a new account while logged in is refused.
    let form = RegistrationForm::with_fields(&[]);
    assert_eq!(
        h.client.submit_registration(now, &form),
        Err(Error::WrongPhase)
    );
}

#[test]
fn remove_account_closes_the_stream() {
    let mut h = logged_in();
    let now = h.now;
    h.client.remove_account(now).unwrap();
    assert_eq!(
        h.sent(),
        format!(
            "<iq type='set' id='{}'><query xmlns='jabber:iq:register'><remove/></query></iq>",
            wire_id(3)
        )
    );
    h.server(&format!("<iq type='result' id='{}'/>", wire_id(3)));
    assert_eq!(h.events(), vec![Event::Account(AccountEvent::Removed)]);
    assert_eq!(h.sent(), "</stream:stream>");
}

#[test]
fn refused_password_change_is_typed_and_harmless() {
    let mut h = logged_in();
    let now = h.now;
    h.client.change_password(now, "n3w").unwrap();
    h.server(&format!(
        "<iq type='error' id='{}'><error code='405'/></iq>",
        wire_id(3)
    ));
    let events = h.events();
    let [Event::Account(AccountEvent::RegistrationFailed { step, .. })] = events.as_slice() else {
        panic!("{events:?}")
    };
    assert_eq!(*step, RegistrationStep::ChangePassword);
    assert_eq!(h.client.session_state(), SessionState::Ready);
}

#[test]
fn a_stream_error_during_registration_ends_everything_once() {
    let error = "<stream:error><policy-violation xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>\
                 </stream:error>";
    // Waiting for the form.
    let mut h = open();
    let now = h.now;
    h.client.request_registration(now).unwrap();
    h.sent();
    h.server(error);
    let events = h.events();
    assert!(
        matches!(
            events.as_slice(),
            [Event::Closed(CloseReason::StreamError(_))]
        ),
        "{events:?}"
    );
    assert_eq!(h.sent(), "</stream:stream>");
    // Waiting for the verdict on a submission.
    let mut h = open();
    h.client.request_registration(now).unwrap();
    h.server(&form_reply(1));
    let Some(Event::Account(AccountEvent::RegistrationForm(form))) = h.events().pop() else {
        panic!()
    };
    h.client.submit_registration(now, &form).unwrap();
    h.sent();
    h.server(error);
    assert!(matches!(
        h.events().as_slice(),
        [Event::Closed(CloseReason::StreamError(_))]
    ));
    assert_eq!(h.client.submit_registration(now, &form), Err(Error::Closed));
    // Logged in, waiting for a password change.
    let mut h = logged_in();
    h.client.change_password(now, "x").unwrap();
    h.server(error);
    assert!(matches!(
        h.events().as_slice(),
        [Event::Closed(CloseReason::StreamError(_))]
    ));
}

#[test]
fn passwords_in_the_clear_need_the_plaintext_allowance() {
    let mut c = config();
    c.allow_plaintext = false;
    let mut h = Harness::new(c.clone());
    h.sent();
    h.server(CLASSIC_HEADER);
    let now = h.now;
    let mut form = RegistrationForm::with_fields(&[Field::Username, Field::Password]);
    form.set(Field::Username, "alice");
    form.set(Field::Password, "s3cret");
    assert_eq!(
        h.client.submit_registration(now, &form),
        Err(Error::PlaintextNotAllowed)
    );
    assert_eq!(h.sent(), "", "nothing sent");
    // An encrypted transport is enough.
    c.transport_encrypted = true;
    let mut h = Harness::new(c.clone());
    h.server(CLASSIC_HEADER);
    assert_eq!(h.client.submit_registration(now, &form), Ok(()));

    c.transport_encrypted = false;
    c.fetch_roster = false;
    c.initial_presence = false;
    let mut h = Harness::logged_in(c);
    assert_eq!(
        h.client.change_password(now, "n3w"),
        Err(Error::PlaintextNotAllowed)
    );
    assert_eq!(h.sent(), "");
}

#[test]
fn removal_runs_once_and_blocks_other_account_changes() {
    let mut h = logged_in();
    let now = h.now;
    h.client.remove_account(now).unwrap();
    assert_eq!(h.client.remove_account(now), Err(Error::WrongPhase));
    assert_eq!(h.client.change_password(now, "x"), Err(Error::WrongPhase));
    h.server(&format!("<iq type='result' id='{}'/>", wire_id(3)));
    assert_eq!(h.events(), vec![Event::Account(AccountEvent::Removed)]);
    // The server's stream error that follows a removal ends the stream; no second event.
    h.server(
        "<stream:error><conflict xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error>",
    );
    assert!(matches!(
        h.events().as_slice(),
        [Event::Closed(CloseReason::StreamError(_))]
    ));
}

#[test]
fn a_refused_removal_allows_another_try() {
    let mut h = logged_in();
    let now = h.now;
    h.client.remove_account(now).unwrap();
    h.server(&format!(
        "<iq type='error' id='{}'><error code='405'/></iq>",
        wire_id(3)
    ));
    assert!(matches!(
        h.events().as_slice(),
        [Event::Account(AccountEvent::RegistrationFailed {
            step: RegistrationStep::Remove,
            ..
        })]
    ));
    assert_eq!(h.client.remove_account(now), Ok(()));
}

#[test]
fn a_registration_on_a_1_0_stream_waits_for_features_within_the_iq_timeout() {
    let mut c = config();
    c.version = Some("1.0".into());
    c.iq_timeout = std::time::Duration::from_secs(20);
    c.keepalive_interval = None;
    c.dead_peer_timeout = None;
    // A plaintext stream without STARTTLS, allowed (see the tests below for TLS).
    c.require_tls = false;
    // Features come: the request goes out then, not before.
    let mut h = Harness::new(c.clone());
    let now = h.now;
    h.sent();
    h.server(support::SERVER_HEADER);
    h.client.request_registration(now).unwrap();
    assert_eq!(h.sent(), "", "waits for the features");
    h.server("<stream:features/>");
    assert!(h.sent().contains("jabber:iq:register"));
    // They never come: a typed failure, not an endless wait.
    let mut h = Harness::new(c);
    h.client.request_registration(now).unwrap();
    h.server(support::SERVER_HEADER);
    h.events();
    assert_eq!(
        h.run_to_deadline(),
        Some(now + std::time::Duration::from_secs(20))
    );
    assert_eq!(
        h.events(),
        vec![Event::Account(AccountEvent::RegistrationFailed {
            step: RegistrationStep::Form,
            error: RegistrationError::Timeout
        })]
    );
    // ... after which the application may try again.
    assert_eq!(h.client.request_registration(now), Ok(()));
}

/// A 1.0 config on plain TCP, as an adapter's: TLS required (the default).
fn config_1_0() -> Config {
    let mut c = config();
    c.version = Some("1.0".into());
    c.allow_plaintext = false;
    c.keepalive_interval = None;
    c.dead_peer_timeout = None;
    c
}

const STARTTLS_OFFER: &str = "<stream:features>\
    <starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>\
    <register xmlns='http://jabber.org/features/iq-register'/></stream:features>";
const OUR_1_0_HEADER: &str = "<stream:stream xmlns='jabber:client' \
    xmlns:stream='http://etherx.jabber.org/streams' to='example.com' version='1.0'>";

#[test]
fn a_registration_on_a_1_0_stream_secures_it_first() {
    let mut h = Harness::new(config_1_0());
    let now = h.now;
    h.sent();
    h.client.request_registration(now).unwrap();
    h.server(support::SERVER_HEADER);
    h.server(STARTTLS_OFFER);
    // STARTTLS before the form: nothing of the registration crosses in plaintext.
    assert_eq!(
        h.sent(),
        "<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"
    );
    h.server("<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>");
    assert!(h.client.wants_tls());
    let now = h.now;
    h.client.handle_tls_ready(now, vec![]).unwrap();
    assert_eq!(h.sent(), OUR_1_0_HEADER);
    h.server(support::SERVER_HEADER);
    h.server(
        "<stream:features><register xmlns='http://jabber.org/features/iq-register'/>\
         </stream:features>",
    );
    assert_eq!(
        h.sent(),
        format!(
            "<iq type='get' id='{}'><query xmlns='jabber:iq:register'/></iq>",
            wire_id(1)
        )
    );
    h.server(&format!(
        "<iq type='result' id='{}'><query xmlns='jabber:iq:register'>\
         <username/><password/></query></iq>",
        wire_id(1)
    ));
    let Some(Event::Account(AccountEvent::RegistrationForm(mut form))) = h
        .events()
        .into_iter()
        .find(|e| matches!(e, Event::Account(_)))
    else {
        panic!("a form")
    };
    // The stream is encrypted now: the password may go without allow_plaintext.
    form.set(Field::Username, "newbie");
    form.set(Field::Password, "secret");
    let now = h.now;
    assert_eq!(h.client.submit_registration(now, &form), Ok(()));
    assert!(h.sent().contains("<password>secret</password>"));
}

#[test]
fn a_registration_on_a_1_0_stream_without_tls_is_refused_or_kept_plain() {
    // No STARTTLS offered, TLS required: a typed failure, nothing asked.
    let mut h = Harness::new(config_1_0());
    let now = h.now;
    h.sent();
    h.client.request_registration(now).unwrap();
    h.server(support::SERVER_HEADER);
    h.server(
        "<stream:features><register xmlns='http://jabber.org/features/iq-register'/>\
         </stream:features>",
    );
    assert_eq!(h.sent(), "</stream:stream>");
    assert!(
        h.events()
            .contains(&Event::Account(AccountEvent::RegistrationFailed {
                step: RegistrationStep::Form,
                error: RegistrationError::TlsRequired
            }))
    );
    // The server refuses STARTTLS: typed too.
    let mut h = Harness::new(config_1_0());
    h.sent();
    h.client.request_registration(now).unwrap();
    h.server(support::SERVER_HEADER);
    h.server(STARTTLS_OFFER);
    h.sent();
    h.server("<failure xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>");
    assert_eq!(h.sent(), "</stream:stream>");
    assert!(
        h.events()
            .contains(&Event::Account(AccountEvent::RegistrationFailed {
                step: RegistrationStep::Form,
                error: RegistrationError::TlsRefused
            }))
    );
    // TLS not required and not offered: the form is asked for in plaintext, and the
    // password is still refused locally without allow_plaintext.
    let mut c = config_1_0();
    c.require_tls = false;
    let mut h = Harness::new(c);
    h.sent();
    h.client.request_registration(now).unwrap();
    h.server(support::SERVER_HEADER);
    h.server(
        "<stream:features><register xmlns='http://jabber.org/features/iq-register'/>\
         </stream:features>",
    );
    assert!(h.sent().contains("jabber:iq:register"));
    h.server(&format!(
        "<iq type='result' id='{}'><query xmlns='jabber:iq:register'>\
         <username/><password/></query></iq>",
        wire_id(1)
    ));
    let Some(Event::Account(AccountEvent::RegistrationForm(mut form))) = h
        .events()
        .into_iter()
        .find(|e| matches!(e, Event::Account(_)))
    else {
        panic!("a form")
    };
    form.set(Field::Username, "newbie");
    form.set(Field::Password, "secret");
    let now = h.now;
    assert_eq!(
        h.client.submit_registration(now, &form),
        Err(Error::PlaintextNotAllowed)
    );
}

#[test]
fn stanzas_injected_before_a_1_0_registration_is_secured_are_not_routed() {
    let mut h = Harness::new(config_1_0());
    let now = h.now;
    h.sent();
    h.client.request_registration(now).unwrap();
    h.server(support::SERVER_HEADER);
    h.server(STARTTLS_OFFER);
    h.sent();
    // In plaintext, before `<proceed/>`: a message and a request, as an injector would.
    h.server(
        "<message from='mallory@example.net/x' type='chat'><body>click</body></message>\
         <iq type='get' id='v1' from='mallory@example.net/x'>\
         <query xmlns='jabber:iq:version'/></iq>",
    );
    assert!(
        !h.events()
            .iter()
            .any(|e| matches!(e, Event::Stanza(_) | Event::Iq(_))),
        "nothing of it reaches the application"
    );
    assert_eq!(h.sent(), "", "and nothing is answered in plaintext");
}
