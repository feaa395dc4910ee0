//! `<iq/>` (RFC 6120 §8.2.3).

use super::{InvalidReason, common_getters};
use crate::xml::{Element, ElementRef};

crate::names::named_enum! {
    /// The `type` of an IQ.
    pub enum IqType {
        /// A request for information.
        Get => "get",
        /// A request to change something.
        Set => "set",
        /// A successful response.
        Result => "result",
        /// An error response.
        Error => "error",
    }
}

impl IqType {
    /// Whether this is a request (get or set) that must be answered.
    pub fn is_request(self) -> bool {
        matches!(self, IqType::Get | IqType::Set)
    }
}

/// An `<iq/>` stanza. Classification guarantees an `id` and a valid payload count.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Iq {
    element: Element,
    kind: IqType,
}

common_getters!(Iq);

impl Iq {
    /// `kind` and `id`: the `type` and `id` attributes.
    pub(super) fn classify(
        el: &Element,
        kind: Option<&str>,
        id: Option<&str>,
    ) -> Result<IqType, InvalidReason> {
        let kind = kind
            .and_then(IqType::from_name)
            .ok_or(InvalidReason::BadType)?;
        if id.is_none() {
            return Err(InvalidReason::MissingId);
        }
        let payloads = el
            .children()
            .filter(|c| !(kind == IqType::Error && c.name() == "error"))
            .count();
        let ok = match kind {
            IqType::Get | IqType::Set => payloads == 1,
            IqType::Result => payloads <= 1,
            IqType::Error => true,
        };
        if ok {
            Ok(kind)
        } else {
            Err(InvalidReason::BadPayload)
        }
    }

    pub(super) fn from_parts(element: Element, kind: IqType) -> Iq {
        Iq { element, kind }
    }

    /// The IQ type.
    pub fn kind(&self) -> IqType {
        self.kind
    }

    /// The payload: the child of a get, set or result (an error may echo the request's).
    pub fn payload(&self) -> Option<ElementRef<'_>> {
        self.element
            .children()
            .find(|c| !(self.kind == IqType::Error && c.name() == "error"))
    }
}
