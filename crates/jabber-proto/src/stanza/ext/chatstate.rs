//! Chat state notifications (XEP-0085), the successor of `jabber:x:event`'s composing.

use super::Extension;
use crate::ns;
use crate::xml::{BuildError, Element, ElementRef};

crate::names::named_enum! {
    /// Where the sender is in the conversation.
    pub enum ChatState {
        /// Taking part.
        Active => "active",
        /// Typing a reply.
        Composing => "composing",
        /// Stopped typing for a while.
        Paused => "paused",
        /// Not paying attention.
        Inactive => "inactive",
        /// Left the conversation.
        Gone => "gone",
    }
}

impl Extension for ChatState {
    fn from_child(child: ElementRef<'_>) -> Option<ChatState> {
        (child.ns() == ns::CHATSTATES)
            .then(|| ChatState::from_name(child.name()))
            .flatten()
    }

    fn to_element(&self) -> Result<Element, BuildError> {
        Element::builder(self.as_str(), ns::CHATSTATES).build()
    }
}
