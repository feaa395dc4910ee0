//! Message delivery receipts (XEP-0184), the successor of `jabber:x:event`'s delivered.

use alloc::string::String;

use super::Extension;
use crate::ns;
use crate::xml::{BuildError, Element, ElementRef};

/// A receipt request, or a receipt.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Receipt {
    /// `<request/>`: the sender asks to be told when the message arrives.
    Request,
    /// `<received/>`: the message with this id arrived (`None`: the id was not given).
    Received(Option<String>),
}

impl Extension for Receipt {
    fn from_child(child: ElementRef<'_>) -> Option<Receipt> {
        if child.is("request", ns::RECEIPTS) {
            Some(Receipt::Request)
        } else if child.is("received", ns::RECEIPTS) {
            Some(Receipt::Received(child.attr("id").map(String::from)))
        } else {
            None
        }
    }

    fn to_element(&self) -> Result<Element, BuildError> {
        match self {
            Receipt::Request => Element::builder("request", ns::RECEIPTS).build(),
            Receipt::Received(id) => {
                let mut b = Element::builder("received", ns::RECEIPTS);
                if let Some(id) = id {
                    b = b.attr("id", id);
                }
                b.build()
            }
        }
    }
}
