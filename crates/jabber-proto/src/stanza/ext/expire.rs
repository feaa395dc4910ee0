//! `jabber:x:expire` (XEP-0023): how long a message stays worth delivering.

use alloc::string::String;
use core::fmt::Write as _;

use super::Extension;
use crate::ns;
use crate::xml::{BuildError, Element, ElementRef};

/// A message's lifetime.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Expire {
    /// Seconds after it was sent that the message expires.
    pub seconds: u32,
    /// When a server stored it, in seconds since 1970 (servers that honour the
    /// extension set it).
    pub stored: Option<u64>,
}

impl Expire {
    /// A lifetime of `seconds`.
    pub fn new(seconds: u32) -> Expire {
        Expire {
            seconds,
            stored: None,
        }
    }
}

impl Extension for Expire {
    fn from_child(child: ElementRef<'_>) -> Option<Expire> {
        if !child.is("x", ns::X_EXPIRE) {
            return None;
        }
        Some(Expire {
            seconds: child.attr("seconds")?.parse().ok()?,
            stored: child.attr("stored").and_then(|s| s.parse().ok()),
        })
    }

    fn to_element(&self) -> Result<Element, BuildError> {
        let mut n = String::new();
        let _ = write!(n, "{}", self.seconds);
        let mut b = Element::builder("x", ns::X_EXPIRE).attr("seconds", &n);
        if let Some(stored) = self.stored {
            n.clear();
            let _ = write!(n, "{stored}");
            b = b.attr("stored", &n);
        }
        b.build()
    }
}
