//! The roster (contact list), `jabber:iq:roster` (RFC 6121 §2, the seed protocol's §4):
//! the values, the payloads, and the feature that fetches the roster and takes the
//! server's pushes.

use alloc::string::String;
use alloc::vec::Vec;

use crate::client::{Cx, Owner, Reply, RosterEvent};
use crate::jid::Jid;
use crate::ns;
use crate::stanza::{Iq, IqType, StanzaCondition, StanzaError};
use crate::xml::{BuildError, Element, ElementRef};

crate::names::named_enum! {
    /// Whose presence each side sees (RFC 6121 §2.1.2.5).
    #[non_exhaustive]
    pub enum Subscription {
        /// Neither side.
        None => "none",
        /// We see the contact's presence.
        To => "to",
        /// The contact sees ours.
        From => "from",
        /// Both ways.
        Both => "both",
        /// The item is being removed (roster pushes only).
        Remove => "remove",
    }
}

/// One contact.
///
/// ```
/// use jabber_proto::features::roster::RosterItem;
/// use jabber_proto::jid::Jid;
/// let item = RosterItem::new(Jid::parse("juliet@example.com").unwrap())
///     .with_name("Juliet")
///     .with_group("Friends");
/// assert_eq!(item.groups, ["Friends"]);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RosterItem {
    /// The contact's address.
    pub jid: Jid,
    /// The name the user gave the contact.
    pub name: Option<String>,
    /// The subscription state.
    pub subscription: Subscription,
    /// A subscription request to the contact is pending (`ask='subscribe'`).
    pub pending_out: bool,
    /// The groups the contact is filed under.
    pub groups: Vec<String>,
}

impl RosterItem {
    /// An item for `jid` with no name, no groups and no subscription: what
    /// [`Client::roster_set`](crate::client::Client::roster_set) sends to add a contact.
    pub fn new(jid: Jid) -> RosterItem {
        RosterItem {
            jid,
            name: None,
            subscription: Subscription::None,
            pending_out: false,
            groups: Vec::new(),
        }
    }

    /// With the name the user gives the contact.
    #[must_use]
    pub fn with_name(mut self, name: &str) -> RosterItem {
        self.name = Some(String::from(name));
        self
    }

    /// Filed under one more group.
    #[must_use]
    pub fn with_group(mut self, group: &str) -> RosterItem {
        self.groups.push(String::from(group));
        self
    }
}

/// The roster as the server sent it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Roster {
    /// The contacts, in the server's order.
    pub items: Vec<RosterItem>,
}

impl Roster {
    /// Reads a `<query xmlns='jabber:iq:roster'>`. Items with an unusable `jid` are
    /// skipped, as RFC 6121 §2.1.2 allows a client to ignore them.
    pub fn from_query(query: ElementRef<'_>) -> Roster {
        let items = query
            .children()
            .filter(|c| c.is("item", ns::IQ_ROSTER))
            .filter_map(|item| {
                let jid = Jid::parse(item.attr("jid")?).ok()?;
                Some(RosterItem {
                    jid,
                    name: item.attr("name").map(String::from),
                    subscription: item
                        .attr("subscription")
                        .and_then(Subscription::from_name)
                        .unwrap_or(Subscription::None),
                    pending_out: item.attr("ask") == Some("subscribe"),
                    groups: item
                        .children()
                        .filter(|g| g.is("group", ns::IQ_ROSTER))
                        .map(|g| g.text().into_owned())
                        .collect(),
                })
            })
            .collect();
        Roster { items }
    }
}

/// The payload fetching the roster: `<query xmlns='jabber:iq:roster'/>`.
pub fn fetch_query() -> Result<Element, BuildError> {
    Element::builder("query", ns::IQ_ROSTER).build()
}

/// The payload adding or updating `item` (RFC 6121 §2.3, §2.4): its address, name and
/// groups. The subscription is not the client's to set and is left out.
pub fn set_query(item: &RosterItem) -> Result<Element, BuildError> {
    let mut el = Element::builder("item", ns::IQ_ROSTER).attr("jid", item.jid.as_str());
    if let Some(name) = &item.name {
        el = el.attr("name", name);
    }
    for group in &item.groups {
        el = el.child(Element::builder("group", ns::IQ_ROSTER).text(group));
    }
    Element::builder("query", ns::IQ_ROSTER).child(el).build()
}

/// The payload removing `jid` from the roster (RFC 6121 §2.5):
/// `<item jid='…' subscription='remove'/>`.
pub fn remove_query(jid: &Jid) -> Result<Element, BuildError> {
    Element::builder("query", ns::IQ_ROSTER)
        .child(
            Element::builder("item", ns::IQ_ROSTER)
                .attr("jid", jid.as_str())
                .attr("subscription", Subscription::Remove.as_str()),
        )
        .build()
}

/// The roster feature's state: the fetch after login and the pushes.
///
/// The roster is changed only by what the server says (its answer to the fetch, its
/// pushes), never by our own requests: a set or remove is answered by a push.
#[derive(Clone, Debug, Default)]
pub(crate) struct RosterSync {}

impl RosterSync {
    /// Asks for the roster; false if it could not be sent.
    pub(crate) fn fetch(&mut self, cx: &mut Cx) -> bool {
        match fetch_query() {
            Ok(query) => cx
                .request(None, IqType::Get, query, Some(Owner::Roster))
                .is_ok(),
            Err(_) => false,
        }
    }

    /// The answer to the fetch: the roster, or `None` if the server refused it.
    pub(crate) fn on_reply(&mut self, reply: Reply<'_>) -> Option<Roster> {
        match reply {
            Reply::Result(iq) => Some(
                iq.payload()
                    .filter(|p| p.is("query", ns::IQ_ROSTER))
                    .map(Roster::from_query)
                    .unwrap_or_default(),
            ),
            _ => None,
        }
    }

    /// An IQ set in `jabber:iq:roster`: a push (RFC 6121 §2.1.6). Returns false when it
    /// is not one (another payload).
    ///
    /// A push is accepted only from our own server — no `from`, or our bare JID — and
    /// only in a live session; it is then acknowledged and reported. One from anyone
    /// else could rewrite the contact list, so it is refused with `service-unavailable`
    /// (RFC 6121 §2.1.6) and changes nothing.
    pub(crate) fn on_request(&mut self, cx: &mut Cx, iq: &Iq) -> bool {
        let is_push =
            iq.kind() == IqType::Set && iq.payload().is_some_and(|p| p.is("query", ns::IQ_ROSTER));
        if !is_push {
            return false;
        }
        if !cx.is_open() {
            // After our close nothing can be acknowledged, so nothing is claimed.
            return true;
        }
        let own = cx.jid.as_ref().map(Jid::to_bare);
        let trusted = match (&own, iq.from()) {
            (None, _) => false,
            (Some(_), None) => true,
            (Some(own), Some(from)) => from == *own,
        };
        if trusted {
            let roster = iq.payload().map(Roster::from_query).unwrap_or_default();
            let _ = cx.reply(iq.element(), Ok(None));
            cx.push(RosterEvent::Push(roster));
        } else {
            let refusal = StanzaError::new(StanzaCondition::ServiceUnavailable);
            let _ = cx.reply(iq.element(), Err(refusal));
        }
        true
    }
}
