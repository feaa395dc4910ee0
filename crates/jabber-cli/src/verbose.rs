//! `-v`: the XML exchanged, on standard error.
//!
//! The core reports every item it sends and receives as a console entry, with secrets
//! (passwords, SASL payloads) already masked, and with the `tracing` feature each entry
//! is a `tracing` event (target `jabber_proto::console`); jabber-net adds its decisions
//! (connected, TLS established, closed). This subscriber prints both, one line each, as
//! they happen — also when the login fails, which is when `-v` is wanted most.

use std::fmt::{self, Write as _};
use std::io::Write as _;

use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Level, Metadata, Subscriber};

/// Prints console entries and the transport's decisions on standard error.
struct Console;

/// Installs the subscriber for the whole process.
pub(crate) fn install() {
    // Only fails when one is installed already, which nothing else here does.
    let _ = tracing::subscriber::set_global_default(Console);
}

/// Whether an event's target is the core's console.
fn is_console(target: &str) -> bool {
    target == "jabber_proto::console"
}

impl Subscriber for Console {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        is_console(metadata.target())
            || (metadata.target().starts_with("jabber_net") && *metadata.level() <= Level::DEBUG)
    }

    fn new_span(&self, _: &Attributes<'_>) -> Id {
        // No span is recorded; every id is the same.
        Id::from_u64(1)
    }

    fn record(&self, _: &Id, _: &Record<'_>) {}

    fn record_follows_from(&self, _: &Id, _: &Id) {}

    fn event(&self, event: &Event<'_>) {
        let mut fields = Fields::default();
        event.record(&mut fields);
        let line = if is_console(event.metadata().target()) {
            match (fields.direction.as_deref(), fields.xml) {
                (Some("in"), Some(xml)) => format!("<- {xml}"),
                (Some(_), Some(xml)) => format!("-> {xml}"),
                _ => format!("-- {}", fields.message),
            }
        } else {
            format!("-- {}{}", fields.message, fields.rest)
        };
        // Standard error gone: nothing to tell anyone.
        let _ = writeln!(std::io::stderr().lock(), "{line}");
    }

    fn enter(&self, _: &Id) {}

    fn exit(&self, _: &Id) {}
}

/// The fields of one event.
#[derive(Default)]
struct Fields {
    message: String,
    direction: Option<String>,
    xml: Option<String>,
    /// The other fields, as ` name=value`.
    rest: String,
}

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        match field.name() {
            "direction" => self.direction = Some(value.to_owned()),
            _ => self.record_debug(field, &value),
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        match field.name() {
            "message" => self.message = format!("{value:?}"),
            "xml" => self.xml = Some(format!("{value:?}")),
            // Every line is one connection's: its name says nothing here.
            "connection" | "time_ms" => {}
            name => {
                let _ = write!(self.rest, " {name}={value:?}");
            }
        }
    }
}
