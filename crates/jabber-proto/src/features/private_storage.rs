//! Private XML storage, `jabber:iq:private` (XEP-0049): any namespaced element kept on
//! the server for our own account, read back by its name and namespace.
//!
//! [`Client::private_get`](crate::client::Client::private_get) and
//! [`Client::private_set`](crate::client::Client::private_set) send these payloads; the
//! answers come back as [`ServiceEvent`](crate::client::ServiceEvent)s, and only from our
//! own account.

use crate::ns;
use crate::xml::{BuildError, Element, ElementRef};

/// Whether `namespace` may be stored: XEP-0049 §2 reserves `jabber:client`,
/// `jabber:server` and `jabber:iq:private` itself (a server refuses them), and an element
/// needs a namespace to be found again.
pub fn is_storable(namespace: &str) -> bool {
    !matches!(namespace, "" | ns::CLIENT | ns::SERVER | ns::IQ_PRIVATE)
}

/// The payload asking for the element `name` in `namespace`:
/// `<query xmlns='jabber:iq:private'><name xmlns='namespace'/></query>`.
///
/// ```
/// use jabber_proto::features::private_storage::get_query;
/// assert_eq!(
///     get_query("prefs", "urn:example:prefs").unwrap().to_string(),
///     "<query xmlns='jabber:iq:private'><prefs xmlns='urn:example:prefs'/></query>"
/// );
/// ```
pub fn get_query(name: &str, namespace: &str) -> Result<Element, BuildError> {
    Element::builder("query", ns::IQ_PRIVATE)
        .child(Element::builder(name, namespace))
        .build()
}

/// The payload storing `data` (replacing what was stored under its name and namespace).
pub fn set_query(data: &Element) -> Result<Element, BuildError> {
    Element::builder("query", ns::IQ_PRIVATE)
        .child(data)
        .build()
}

/// What an answer to [`get_query`] holds: the stored element (the empty element asked
/// for when nothing is stored), `None` when the result has no such payload.
pub fn from_result(payload: Option<ElementRef<'_>>) -> Option<Element> {
    let query = payload.filter(|p| p.is("query", ns::IQ_PRIVATE))?;
    query.children().next().map(|c| c.to_element())
}
