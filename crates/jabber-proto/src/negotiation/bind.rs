//! Resource binding (RFC 6120 §7) and the legacy session establishment (RFC 3921 §3).

use crate::jid::Jid;
use crate::ns;
use crate::xml::{BuildError, Element, ElementRef};

/// The payload of the bind request: our `resource`, or none to let the server choose.
pub fn bind_query(resource: Option<&str>) -> Result<Element, BuildError> {
    let b = Element::builder("bind", ns::BIND);
    match resource.filter(|r| !r.is_empty()) {
        Some(r) => b
            .child(Element::builder("resource", ns::BIND).text(r))
            .build(),
        None => b.build(),
    }
}

/// The full JID a bind result carries; `None` when it carries none or an invalid one.
pub fn bound_jid(payload: ElementRef<'_>) -> Option<Jid> {
    if !payload.is("bind", ns::BIND) {
        return None;
    }
    let jid = Jid::parse(payload.child("jid", ns::BIND)?.text().trim()).ok()?;
    jid.resource().is_some().then_some(jid)
}

/// The payload of the session request.
pub fn session_query() -> Result<Element, BuildError> {
    Element::builder("session", ns::SESSION).build()
}
