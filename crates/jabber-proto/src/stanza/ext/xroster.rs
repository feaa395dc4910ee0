//! `jabber:x:roster` (XEP-0093): contacts sent to someone in a message, to add to their
//! roster if they wish.

use alloc::string::String;
use alloc::vec::Vec;

use super::Extension;
use crate::jid::{Jid, JidRef};
use crate::ns;
use crate::xml::{BuildError, Element, ElementRef};

/// One contact being shared.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct SharedItem {
    /// The contact's address.
    pub jid: Jid,
    /// The name the sender suggests.
    pub name: Option<String>,
    /// Groups the sender suggests.
    pub groups: Vec<String>,
}

/// The contacts of a `jabber:x:roster` payload; items without a valid `jid` are skipped.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct RosterExchange {
    /// The contacts, in document order.
    pub items: Vec<SharedItem>,
}

impl Extension for RosterExchange {
    fn from_child(child: ElementRef<'_>) -> Option<RosterExchange> {
        if !child.is("x", ns::X_ROSTER) {
            return None;
        }
        let items = child
            .children()
            .filter(|c| c.is("item", ns::X_ROSTER))
            .filter_map(|c| {
                Some(SharedItem {
                    jid: JidRef::parse(c.attr("jid")?).ok()?.to_owned_jid(),
                    name: c.attr("name").map(String::from),
                    groups: c
                        .children()
                        .filter(|g| g.is("group", ns::X_ROSTER))
                        .map(|g| String::from(g.text()))
                        .collect(),
                })
            })
            .collect();
        Some(RosterExchange { items })
    }

    fn to_element(&self) -> Result<Element, BuildError> {
        let items = self.items.iter().map(|i| {
            let mut b = Element::builder("item", ns::X_ROSTER).attr("jid", i.jid.as_str());
            if let Some(name) = &i.name {
                b = b.attr("name", name);
            }
            b.children(
                i.groups
                    .iter()
                    .map(|g| Element::builder("group", ns::X_ROSTER).text(g)),
            )
        });
        Element::builder("x", ns::X_ROSTER).children(items).build()
    }
}
