//! What commands print on standard output: a line of text, or with `--json` one JSON
//! object per line.

use std::io::{self, Write};

use serde_json::{Map, Value};

use crate::fail::Failure;

/// One thing to print: its text line and its JSON fields (`kind` first).
pub(crate) struct Record {
    text: String,
    fields: Map<String, Value>,
}

impl Record {
    /// A record of `kind` whose text line is `text`.
    pub(crate) fn new(kind: &str, text: impl Into<String>) -> Record {
        let mut fields = Map::new();
        fields.insert("kind".into(), Value::from(kind));
        Record {
            text: text.into(),
            fields,
        }
    }

    /// Adds a field (left out of the JSON when `None`).
    pub(crate) fn field<V: Into<Value>>(mut self, name: &str, value: Option<V>) -> Record {
        if let Some(v) = value {
            self.fields.insert(name.into(), v.into());
        }
        self
    }

    /// Prints the record as `--json` asks, and flushes: a reader piped to us sees
    /// each line as it comes.
    pub(crate) fn print(self, json: bool) -> Result<(), Failure> {
        let mut out = io::stdout().lock();
        let written = if json {
            writeln!(out, "{}", Value::Object(self.fields))
        } else {
            writeln!(out, "{}", self.text)
        };
        written
            .and_then(|()| out.flush())
            .map_err(|e| Failure::new(format!("cannot write the output: {e}")))
    }
}
