//! Entering a room: which protocol (MUC, groupchat 1.0, or the cheat sheet's
//! conference), the join presence with its password and history limits (XEP-0045 §7.2),
//! the nickname to retry under after a conflict, and the instant-room form an owner
//! submits to unlock a room it created (§10.1.2).

use alloc::format;
use alloc::string::String;

use super::{MUC, MUC_OWNER};
use crate::jid::Jid;
use crate::ns;
use crate::stanza::Presence;
use crate::xml::{BuildError, Element};

crate::names::named_enum! {
    /// How a room is entered.
    pub enum Protocol {
        /// Multi-User Chat (XEP-0045): presence to `room@service/nick` carrying
        /// `<x xmlns='http://jabber.org/protocol/muc'/>`. What servers run today.
        Muc => "muc",
        /// Groupchat 1.0: the same presence without the `<x/>` (ejabberd accepts it;
        /// prosody 0.12 answers `item-not-found`).
        Groupchat => "groupchat",
        /// The cheat sheet's conference protocol (§7): presence to the bare room, then
        /// an `iq set` with the nicknames we would like, the room's roster pushed as
        /// `jabber:iq:conference`. No live server speaks it.
        Conference => "conference",
    }
}

/// How much of the room's history to ask for on joining (XEP-0045 §7.2.15); the room
/// decides when nothing is said.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct History {
    /// At most this many messages (`maxstanzas`; 0: none).
    pub max_stanzas: Option<u32>,
    /// At most this many characters of XML (`maxchars`).
    pub max_chars: Option<u32>,
    /// Only those of the last this many seconds (`seconds`).
    pub seconds: Option<u32>,
}

impl History {
    /// No history at all.
    pub fn none() -> History {
        History {
            max_stanzas: Some(0),
            ..History::default()
        }
    }

    /// The last `n` messages.
    pub fn last(n: u32) -> History {
        History {
            max_stanzas: Some(n),
            ..History::default()
        }
    }

    fn is_empty(&self) -> bool {
        self.max_stanzas.is_none() && self.max_chars.is_none() && self.seconds.is_none()
    }
}

/// How to join a room ([`Client::join_room`](crate::client::Client::join_room)).
///
/// ```
/// use jabber_proto::features::conference::{History, JoinOptions};
/// let options = JoinOptions::default().password("cauldron").history(History::last(20)).retry_nick(true);
/// assert_eq!(options.password.as_deref(), Some("cauldron"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct JoinOptions {
    /// The protocol. Default [`Protocol::Muc`].
    pub protocol: Protocol,
    /// The room's password, if it has one.
    pub password: Option<String>,
    /// How much history to ask for (MUC only).
    pub history: History,
    /// On a nickname conflict (409) while joining, join again as `nick_`, `nick__`, ...
    /// (at most three more tries) instead of giving up. Default off.
    pub retry_nick: bool,
    /// When the join created the room (status 201), accept the default configuration
    /// at once (an instant room, XEP-0045 §10.1.2), which unlocks it. Default on.
    pub instant: bool,
}

impl Default for JoinOptions {
    fn default() -> JoinOptions {
        JoinOptions {
            protocol: Protocol::Muc,
            password: None,
            history: History::default(),
            retry_nick: false,
            instant: true,
        }
    }
}

impl JoinOptions {
    /// With `protocol`.
    pub fn protocol(mut self, protocol: Protocol) -> JoinOptions {
        self.protocol = protocol;
        self
    }

    /// With the room's password.
    pub fn password(mut self, password: &str) -> JoinOptions {
        self.password = Some(String::from(password));
        self
    }

    /// Asking for `history`.
    pub fn history(mut self, history: History) -> JoinOptions {
        self.history = history;
        self
    }

    /// Retrying under another nickname after a conflict (or not).
    pub fn retry_nick(mut self, retry: bool) -> JoinOptions {
        self.retry_nick = retry;
        self
    }

    /// Accepting the default configuration of a room we create (or not).
    pub fn instant(mut self, instant: bool) -> JoinOptions {
        self.instant = instant;
        self
    }
}

/// How many more nicknames a conflict may make us try.
pub(crate) const MAX_NICK_RETRIES: u8 = 3;

/// The nickname to try after `nick` conflicted.
pub(crate) fn next_nick(nick: &str) -> String {
    format!("{nick}_")
}

/// The presence that enters `room` as `nick` (also the one that re-enters it).
pub(crate) fn join_presence(
    room: &Jid,
    nick: &str,
    options: &JoinOptions,
) -> Result<Element, crate::client::Error> {
    let to = match options.protocol {
        // The cheat sheet: no resource on a conference join, or the server falls back
        // to groupchat.
        Protocol::Conference => room.to_bare(),
        _ => room
            .with_resource(nick)
            .map_err(crate::client::Error::InvalidAddress)?,
    };
    let presence = Presence::available().to(&to).build()?;
    if options.protocol != Protocol::Muc {
        return Ok(presence.element().clone());
    }
    Ok(with_child(presence.element(), muc_x(options)?)?)
}

/// `<x xmlns='http://jabber.org/protocol/muc'>` with the password and history limits.
fn muc_x(options: &JoinOptions) -> Result<Element, BuildError> {
    let mut x = Element::builder("x", MUC);
    if !options.history.is_empty() {
        let h = &options.history;
        let mut b = Element::builder("history", MUC);
        for (name, value) in [
            ("maxchars", h.max_chars),
            ("maxstanzas", h.max_stanzas),
            ("seconds", h.seconds),
        ] {
            if let Some(v) = value {
                b = b.attr(name, &format!("{v}"));
            }
        }
        x = x.child(b);
    }
    if let Some(password) = &options.password {
        x = x.child(Element::builder("password", MUC).text(password));
    }
    x.build()
}

/// A copy of `el` with `child` appended.
pub(crate) fn with_child(el: &Element, child: Element) -> Result<Element, BuildError> {
    let root = el.root();
    let mut b = Element::builder(root.name(), root.ns());
    for a in root.attrs() {
        b = if a.ns.is_empty() {
            b.attr(a.name, a.value)
        } else {
            b.attr_ns(a.name, a.ns, a.value)
        };
    }
    b.children(root.children().map(|c| c.to_element()))
        .child(child)
        .build()
}

/// The owner's query that accepts the default configuration (an empty submitted form).
pub(crate) fn instant_room_query() -> Result<Element, BuildError> {
    Element::builder("query", MUC_OWNER)
        .child(Element::builder("x", ns::DATA_FORMS).attr("type", "submit"))
        .build()
}
