//! With the `tracing` feature, a session through the blocking adapter is traced: the
//! adapter's connect, the core's console entries at TRACE (secrets masked, the
//! connection named), the close. A minimal subscriber collects every event.

use std::fmt::Debug;
use std::sync::{Arc, Mutex, PoisonError};

use jabber_net::Options;
use jabber_std::Connection;
use jabber_tests::scripted::{self, PASSWORD};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Metadata, Subscriber};

/// One traced event: its target, level and fields as `name=value`.
#[derive(Clone, Debug)]
struct Traced {
    target: String,
    level: tracing::Level,
    fields: Vec<(String, String)>,
}

impl Traced {
    fn field(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

#[derive(Clone, Default)]
struct Collector(Arc<Mutex<Vec<Traced>>>);

impl Collector {
    fn take(&self) -> Vec<Traced> {
        std::mem::take(&mut *self.0.lock().unwrap_or_else(PoisonError::into_inner))
    }
}

struct Fields<'a>(&'a mut Vec<(String, String)>);

impl Visit for Fields<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn Debug) {
        self.0.push((field.name().to_owned(), format!("{value:?}")));
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.push((field.name().to_owned(), value.to_owned()));
    }
}

impl Subscriber for Collector {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }

    fn new_span(&self, _: &Attributes<'_>) -> Id {
        Id::from_u64(1)
    }

    fn record(&self, _: &Id, _: &Record<'_>) {}

    fn record_follows_from(&self, _: &Id, _: &Id) {}

    fn event(&self, event: &Event<'_>) {
        let mut fields = Vec::new();
        event.record(&mut Fields(&mut fields));
        let traced = Traced {
            target: event.metadata().target().to_owned(),
            level: *event.metadata().level(),
            fields,
        };
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(traced);
    }

    fn enter(&self, _: &Id) {}

    fn exit(&self, _: &Id) {}
}

#[test]
fn a_session_is_traced_with_secrets_masked_and_the_connection_named() {
    let peer = scripted::serve(|mut peer| {
        peer.login();
        peer.answer_close();
    });
    let collector = Collector::default();
    let addr = peer.addr();
    tracing::subscriber::with_default(collector.clone(), || {
        let mut config = scripted::lite_config();
        config.name = Some("traced-1".into());
        let mut conn = Connection::connect_with(addr, config, Options::plain()).expect("connected");
        conn.login(scripted::creds()).expect("logged in");
        conn.close().expect("closed");
    });
    peer.finish();
    let traced = collector.take();
    let named = |t: &Traced| t.field("connection") == Some("traced-1");
    assert!(
        traced.iter().all(named),
        "an event without the name: {traced:#?}"
    );

    let connected = traced
        .iter()
        .find(|t| t.target == "jabber_net" && t.field("message") == Some("connected"))
        .expect("the adapter traced its connect");
    assert_eq!(connected.field("addr"), Some(addr.to_string().as_str()));
    assert_eq!(connected.field("tls"), Some("false"));
    assert!(
        traced
            .iter()
            .any(|t| t.target == "jabber_net" && t.field("message") == Some("closed")),
        "{traced:#?}"
    );

    let console: Vec<&Traced> = traced
        .iter()
        .filter(|t| t.target == "jabber_proto::console")
        .collect();
    assert!(console.iter().all(|t| t.level == tracing::Level::TRACE));
    let xml = |direction: &str| -> Vec<&str> {
        console
            .iter()
            .filter(|t| t.field("direction") == Some(direction))
            .filter_map(|t| t.field("xml"))
            .collect()
    };
    let out = xml("out");
    let inbound = xml("in");
    assert!(
        out[0].starts_with("<?xml version='1.0'?><stream:stream"),
        "{out:#?}"
    );
    assert!(inbound[0].contains("id='s1'"), "{inbound:#?}");
    let digest = jabber_proto::negotiation::auth::digest(scripted::STREAM_ID, PASSWORD);
    assert!(
        out.iter().any(|x| x.contains("<digest>***</digest>")),
        "{out:#?}"
    );
    let everything = format!("{traced:?}");
    assert!(!everything.contains(&digest), "the digest was traced");
    assert!(!everything.contains(PASSWORD), "the password was traced");
    assert_eq!(out.last(), Some(&"</stream:stream>"));
}
