//! The cheat sheet's conference protocol (§7), which no live server speaks any more:
//! `jabber:iq:browse` to find conference services, to check that a room name is free (a
//! room that does not exist answers 404) and to find a member's real address behind
//! its proxy JID; the nicknames we would like, in order, sent in an `iq set` after the
//! join presence; and the room's `jabber:iq:conference` roster, pushed as a
//! `<conference/>` of `<user jid='proxy' name='nick'/>`, `type='remove'` for one who
//! left.
//!
//! (The cheat sheet names `jabber:iq:browse` for the nickname request; we follow it.)

use alloc::string::String;
use alloc::vec::Vec;

use super::{IQ_BROWSE, IQ_CONFERENCE};
use crate::jid::{Jid, JidRef};
use crate::xml::{BuildError, Element, ElementRef};

/// At most this many children of a browse answer are read.
const MAX_BROWSE_ITEMS: usize = 1024;

/// What a `jabber:iq:browse` answer describes: an entity (its element name is the
/// category — `user`, `conference`, `service`, ...) and, one level down, what it holds.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct BrowseItem {
    /// The category: the element's name.
    pub category: String,
    /// Its `jid`: for a browsed proxy JID, the member's real address.
    pub jid: Option<Jid>,
    /// Its `name`.
    pub name: Option<String>,
    /// Its `type` within the category (`public`, `private`, `irc`, ...).
    pub kind: Option<String>,
    /// The namespaces it says it speaks (`<ns/>` children).
    pub namespaces: Vec<String>,
    /// What it holds (conference services on a server, rooms on a service), without
    /// their own children (at most 1,024).
    pub items: Vec<BrowseItem>,
}

impl BrowseItem {
    /// The item `el` describes (anything in `jabber:iq:browse`).
    pub(crate) fn from_element(el: ElementRef<'_>, depth: u8) -> BrowseItem {
        let mut item = BrowseItem {
            category: String::from(el.name()),
            jid: el
                .attr("jid")
                .and_then(|j| JidRef::parse(j).ok())
                .map(|j| j.to_owned_jid()),
            name: el.attr("name").map(String::from),
            kind: el.attr("type").map(String::from),
            namespaces: Vec::new(),
            items: Vec::new(),
        };
        for child in el.children().filter(|c| c.ns() == IQ_BROWSE) {
            if child.name() == "ns" {
                if item.namespaces.len() < MAX_BROWSE_ITEMS {
                    item.namespaces.push(String::from(child.text()));
                }
            } else if depth > 0 && item.items.len() < MAX_BROWSE_ITEMS {
                item.items.push(BrowseItem::from_element(child, depth - 1));
            }
        }
        item
    }

    /// Whether this is (or holds, for a server) a conference service: category
    /// `conference`.
    pub fn is_conference(&self) -> bool {
        self.category == "conference"
    }
}

/// The browse request.
pub(crate) fn query() -> Result<Element, BuildError> {
    Element::builder("query", IQ_BROWSE).build()
}

/// The nicknames we would like in a room, in order of preference.
pub(crate) fn nick_choices(nicks: &[&str]) -> Result<Element, BuildError> {
    Element::builder("query", IQ_BROWSE)
        .children(
            nicks
                .iter()
                .map(|n| Element::builder("nick", IQ_BROWSE).text(n)),
        )
        .build()
}

/// One line of a `jabber:iq:conference` roster push.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct RosterLine {
    pub(crate) proxy: Jid,
    pub(crate) nick: String,
    pub(crate) remove: bool,
}

/// The lines of a roster push's payload (`None`: not one), read as they are used:
/// nothing is collected, however many lines it has.
pub(crate) fn roster_push(
    payload: ElementRef<'_>,
) -> Option<impl Iterator<Item = RosterLine> + '_> {
    if payload.ns() != IQ_CONFERENCE {
        return None;
    }
    Some(
        payload
            .children()
            .filter(|c| c.is("user", IQ_CONFERENCE))
            .filter_map(|u| {
                Some(RosterLine {
                    proxy: JidRef::parse(u.attr("jid")?).ok()?.to_owned_jid(),
                    nick: String::from(u.attr("name").unwrap_or_default()),
                    remove: u.attr("type") == Some("remove"),
                })
            }),
    )
}
