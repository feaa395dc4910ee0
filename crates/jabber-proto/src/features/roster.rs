//! The roster (contact list), `jabber:iq:roster` (RFC 6121 §2, the seed protocol's §4).

use alloc::string::String;
use alloc::vec::Vec;

use crate::jid::Jid;
use crate::ns;
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
