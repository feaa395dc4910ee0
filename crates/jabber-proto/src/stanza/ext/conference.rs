//! `jabber:x:conference`: an invitation to a chat room — the classic form (the room in
//! `jid`, a reason as text) and XEP-0249's direct invitation (the same element, with
//! `password`, `reason`, `continue` and `thread` attributes).

use alloc::string::String;

use super::Extension;
use crate::jid::{Jid, JidRef};
use crate::ns;
use crate::xml::{BuildError, Element, ElementRef};

/// An invitation to a room.
///
/// ```
/// use jabber_proto::jid::Jid;
/// use jabber_proto::stanza::ext::{Extension, Invitation};
/// let room = Jid::parse("darkcave@macbeth.shakespeare.lit")?;
/// let mut i = Invitation::new(&room);
/// i.reason = Some("Hey Hecate, this is the place for all good witches!".into());
/// assert_eq!(
///     i.to_element()?.to_string(),
///     "<x xmlns='jabber:x:conference' jid='darkcave@macbeth.shakespeare.lit' \
///      reason='Hey Hecate, this is the place for all good witches!'/>"
/// );
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Invitation {
    /// The room.
    pub room: Jid,
    /// Why: the `reason` attribute, or the classic form's text.
    pub reason: Option<String>,
    /// The room's password.
    pub password: Option<String>,
    /// The one-to-one thread this invitation continues in the room (XEP-0249
    /// `continue='true'` with its `thread`).
    pub continues: Option<String>,
}

impl Invitation {
    /// An invitation to `room`.
    pub fn new(room: &Jid) -> Invitation {
        Invitation {
            room: room.clone(),
            reason: None,
            password: None,
            continues: None,
        }
    }
}

impl Extension for Invitation {
    fn from_child(child: ElementRef<'_>) -> Option<Invitation> {
        if !child.is("x", ns::X_CONFERENCE) {
            return None;
        }
        let text = child.text();
        let continues = matches!(child.attr("continue"), Some("true" | "1"))
            .then(|| String::from(child.attr("thread").unwrap_or_default()));
        Some(Invitation {
            room: JidRef::parse(child.attr("jid")?).ok()?.to_owned_jid(),
            reason: child
                .attr("reason")
                .map(String::from)
                .or_else(|| (!text.trim().is_empty()).then(|| String::from(text))),
            password: child.attr("password").map(String::from),
            continues,
        })
    }

    fn to_element(&self) -> Result<Element, BuildError> {
        let mut b = Element::builder("x", ns::X_CONFERENCE).attr("jid", self.room.as_str());
        if let Some(password) = &self.password {
            b = b.attr("password", password);
        }
        if let Some(reason) = &self.reason {
            b = b.attr("reason", reason);
        }
        if let Some(thread) = &self.continues {
            b = b.attr("continue", "true");
            if !thread.is_empty() {
                b = b.attr("thread", thread);
            }
        }
        b.build()
    }
}
