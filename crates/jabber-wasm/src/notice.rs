//! What the page is told: the core's events flattened into plain records (the browser
//! glue makes each a JavaScript object `{kind, ...fields}`).
//!
//! The core's events are rich, typed and non-exhaustive; a page wants a handful of
//! flat records it can switch on by `kind`. The translation lives here, independent of
//! the browser, so it is tested natively.

use jabber_proto::client::{
    Client, CloseReason, Event, PresenceEvent, RosterEvent, SessionEvent, StanzaEvent,
    SubscriptionEvent,
};
use jabber_proto::features::roster::RosterItem;
use jabber_proto::stanza::{MessageType, Presence};

/// One contact of the roster, as the page lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Contact {
    /// The contact's bare address.
    pub jid: String,
    /// The name the user gave it.
    pub name: Option<String>,
    /// `none`, `to`, `from` or `both` (RFC 6121 §2.1.2.5).
    pub subscription: &'static str,
    /// Our subscription request to it is pending.
    pub pending: bool,
}

impl Contact {
    fn from_item(item: &RosterItem) -> Contact {
        Contact {
            jid: item.jid.to_string(),
            name: item.name.clone(),
            subscription: item.subscription.as_str(),
            pending: item.pending_out,
        }
    }
}

/// A record for the page; [`kind`](Notice::kind) names it, [`fields`](Notice::fields)
/// holds the rest.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Notice {
    /// `online`: logged in; stanzas can flow.
    Online {
        /// Our full address.
        jid: String,
    },
    /// `roster`: the whole roster, at login and after every change the server pushed.
    Roster {
        /// Every contact.
        items: Vec<Contact>,
    },
    /// `message`: a message with a body.
    Message {
        /// The sender's full address.
        from: String,
        /// The text.
        body: String,
        /// `chat`, `normal`, `groupchat` or `headline`.
        kind: &'static str,
    },
    /// `presence`: a contact's resource came, changed or went.
    Presence {
        /// The resource's full address (bare when all of a contact's resources went).
        from: String,
        /// Whether it is available.
        available: bool,
        /// `away`, `chat`, `dnd` or `xa`; none is plain available.
        show: Option<&'static str>,
        /// Its status text.
        status: Option<String>,
    },
    /// `subscription`: a contact asks to see our presence (`request`), approved ours
    /// (`approved`), revoked it (`revoked`) or stopped seeing ours (`unsubscribed`).
    Subscription {
        /// The contact's bare address.
        from: String,
        /// What happened.
        kind: &'static str,
    },
    /// `loginFailed`: the login was refused or timed out; `closed` follows.
    LoginFailed {
        /// Why, in words.
        error: String,
    },
    /// `error`: a message or presence we sent came back as an error.
    Error {
        /// Who answered with the error.
        from: Option<String>,
        /// The error, in words.
        error: String,
    },
    /// `closed`: the connection is over; the last record (`seeOtherUri` when the server
    /// redirected us).
    Closed {
        /// Why, in words.
        reason: String,
        /// Both sides closed the stream in order.
        clean: bool,
        /// The server's `<close see-other-uri='...'/>` (RFC 7395 §3.6.1): connect there
        /// instead. Only a `ws:` or `wss:` URL, and never `ws:` when this session was
        /// `wss:` (see [`redirect_target`]); any other redirect is left out.
        see_other_uri: Option<String>,
    },
}

/// A field's value, borrowed from a [`Notice`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Field<'a> {
    /// A string.
    Text(&'a str),
    /// A boolean.
    Flag(bool),
    /// A list of contacts.
    Contacts(&'a [Contact]),
}

impl Notice {
    /// The record's `kind`, what the page switches on.
    pub fn kind(&self) -> &'static str {
        match self {
            Notice::Online { .. } => "online",
            Notice::Roster { .. } => "roster",
            Notice::Message { .. } => "message",
            Notice::Presence { .. } => "presence",
            Notice::Subscription { .. } => "subscription",
            Notice::LoginFailed { .. } => "loginFailed",
            Notice::Error { .. } => "error",
            Notice::Closed { .. } => "closed",
        }
    }

    /// The record's other fields, by name; absent values are left out.
    pub fn fields(&self) -> Vec<(&'static str, Field<'_>)> {
        use Field::{Contacts, Flag, Text};
        let mut fields = Vec::new();
        match self {
            Notice::Online { jid } => return vec![("jid", Text(jid))],
            Notice::Roster { items } => return vec![("items", Contacts(items))],
            Notice::Message { from, body, kind } => {
                return vec![
                    ("from", Text(from)),
                    ("body", Text(body)),
                    ("type", Text(kind)),
                ];
            }
            Notice::Presence {
                from,
                available,
                show,
                status,
            } => {
                fields.push(("from", Text(from)));
                fields.push(("available", Flag(*available)));
                if let Some(show) = show {
                    fields.push(("show", Text(show)));
                }
                if let Some(status) = status {
                    fields.push(("status", Text(status)));
                }
            }
            Notice::Subscription { from, kind } => {
                return vec![("from", Text(from)), ("type", Text(kind))];
            }
            Notice::LoginFailed { error } => return vec![("error", Text(error))],
            Notice::Error { from, error } => {
                if let Some(from) = from {
                    fields.push(("from", Text(from)));
                }
                fields.push(("error", Text(error)));
            }
            Notice::Closed {
                reason,
                clean,
                see_other_uri,
            } => {
                fields.push(("reason", Text(reason)));
                fields.push(("clean", Flag(*clean)));
                if let Some(uri) = see_other_uri {
                    fields.push(("seeOtherUri", Text(uri)));
                }
            }
        }
        fields
    }

    /// What `event` tells the page, if anything (`client` gives the roster as it is
    /// after a push); the rest (IQ outcomes, stream details, ...) is the core's business.
    /// `Ready` gives two records, `online` then `roster`.
    pub fn from_event(event: &Event, client: &Client) -> Vec<Notice> {
        let roster = || Notice::Roster {
            items: client.roster().items().map(Contact::from_item).collect(),
        };
        let notice = match event {
            Event::Session(SessionEvent::Ready { jid, .. }) => {
                let online = Notice::Online {
                    jid: jid.to_string(),
                };
                return vec![online, roster()];
            }
            Event::Session(SessionEvent::LoginFailed(e)) => Notice::LoginFailed {
                error: e.to_string(),
            },
            Event::Roster(RosterEvent::Push(_)) => roster(),
            Event::Stanza(StanzaEvent::Message(m)) if m.kind() == MessageType::Error => {
                Notice::Error {
                    from: m.from().map(|f| f.to_string()),
                    error: m.error().map_or_else(|| "error".into(), |e| e.to_string()),
                }
            }
            Event::Stanza(StanzaEvent::Message(m)) => match (m.from(), m.body()) {
                (Some(from), Some(body)) => Notice::Message {
                    from: from.to_string(),
                    body: body.into_owned(),
                    kind: m.kind().as_str(),
                },
                // Chat states, receipts and other bodiless messages: nothing to show.
                _ => return Vec::new(),
            },
            Event::Presence(PresenceEvent::Available(p)) => presence(p, true),
            Event::Presence(PresenceEvent::Unavailable(p)) => presence(p, false),
            Event::Presence(PresenceEvent::Error { error, presence }) => Notice::Error {
                from: presence.from().map(|f| f.to_string()),
                error: error.to_string(),
            },
            Event::Subscription(s) => {
                let kind = match s {
                    SubscriptionEvent::Request(_) => "request",
                    SubscriptionEvent::Approved(_) => "approved",
                    SubscriptionEvent::Revoked(_) => "revoked",
                    SubscriptionEvent::Unsubscribed(_) => "unsubscribed",
                    _ => return Vec::new(),
                };
                match s.contact() {
                    Some(from) => Notice::Subscription {
                        from: from.to_string(),
                        kind,
                    },
                    None => return Vec::new(),
                }
            }
            Event::Closed(reason) => Notice::Closed {
                reason: reason.to_string(),
                clean: reason.is_clean(),
                see_other_uri: match reason {
                    CloseReason::SeeOtherUri(uri) => {
                        redirect_target(uri, client.config().transport_encrypted)
                    }
                    _ => None,
                },
            },
            _ => return Vec::new(),
        };
        vec![notice]
    }
}

/// The URL a `see-other-uri` redirect may send the page to: a `ws:` or `wss:` URL
/// (the scheme case-insensitive), and from a `wss:` session (`secure`) only `wss:`. A
/// server — or whoever forged its `<close/>` over a `ws:` hop — must not talk the page
/// down to an unencrypted socket, nor to a scheme the page would open as something else.
pub fn redirect_target(uri: &str, secure: bool) -> Option<String> {
    let (scheme, rest) = uri.split_once("://")?;
    let to_secure = if scheme.eq_ignore_ascii_case("wss") {
        true
    } else if scheme.eq_ignore_ascii_case("ws") {
        false
    } else {
        return None;
    };
    if rest.is_empty() || (secure && !to_secure) {
        return None;
    }
    Some(uri.to_owned())
}

fn presence(p: &Presence, available: bool) -> Notice {
    Notice::Presence {
        from: p.from().map(|f| f.to_string()).unwrap_or_default(),
        available,
        show: p.show().map(|s| s.as_str()),
        status: p.status().map(|s| s.into_owned()),
    }
}
