//! `<stream:error/>` (RFC 6120 §4.9).

use alloc::string::{String, ToString};
use core::fmt;

use super::Condition;
use crate::ns;
use crate::xml::{Element, ElementRef};

/// A stream error: received from the peer, or sent by us before closing.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct StreamError {
    /// The defined condition; `UndefinedCondition` when the peer sent an unknown one.
    pub condition: Condition,
    /// Human-readable text, if any.
    pub text: Option<String>,
}

impl StreamError {
    /// An error with a condition and no text.
    pub fn new(condition: Condition) -> StreamError {
        StreamError {
            condition,
            text: None,
        }
    }

    /// The same error with a human-readable text.
    #[must_use]
    pub fn with_text(mut self, text: &str) -> StreamError {
        self.text = Some(String::from(text));
        self
    }

    /// Reads a `<stream:error/>` element; `None` if `el` is not one.
    pub fn from_element(el: ElementRef<'_>) -> Option<StreamError> {
        if !el.is("error", ns::STREAM) {
            return None;
        }
        let condition = el
            .children()
            .filter(|c| c.ns() == ns::STREAM_ERRORS)
            .find_map(|c| Condition::from_name(c.name()))
            .unwrap_or(Condition::UndefinedCondition);
        let text = el
            .child("text", ns::STREAM_ERRORS)
            .map(|t| t.text().to_string());
        Some(StreamError { condition, text })
    }

    /// The `<stream:error/>` element.
    pub fn to_element(&self) -> Element {
        let mut b = Element::builder("error", ns::STREAM)
            .child(Element::builder(self.condition.as_str(), ns::STREAM_ERRORS));
        if let Some(text) = &self.text {
            b = b.child(Element::builder("text", ns::STREAM_ERRORS).text(text));
        }
        // Condition names are valid XML names; text that XML cannot carry is dropped.
        b.build()
            .unwrap_or_else(|_| StreamError::new(self.condition).to_element())
    }
}

impl fmt::Display for StreamError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.condition.as_str())?;
        if let Some(text) = &self.text {
            write!(f, ": {text}")?;
        }
        Ok(())
    }
}

impl core::error::Error for StreamError {}
