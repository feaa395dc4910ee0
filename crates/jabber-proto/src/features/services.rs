//! The account services' requests — vCards, private storage, update queries — and their
//! answers: each request goes into the IQ table tagged with what it asked, and its reply
//! comes back here to become a typed [`ServiceEvent`].
//!
//! The table accepts a reply only from the address the request went to (for a request
//! without `to`: no `from`, our server, our own account). A reply that names one of
//! these requests but comes from anyone else is dropped as the table drops it, and, as
//! private data and our own vCard are worth spoofing, reported
//! ([`ServiceEvent::Spoofed`]).

use alloc::boxed::Box;

use crate::client::{Cx, IqId, Owner, Reply, ServiceEvent};
use crate::features::{autoupdate, blocking, private_storage, vcard};
use crate::jid::JidRef;
use crate::stanza::Iq;

/// What one of the service requests asked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ServiceRequest {
    VcardGet,
    VcardSet,
    PrivateGet,
    PrivateSet,
    Update,
    BlockList,
    Block,
    Unblock,
}

impl ServiceRequest {
    const ALL: [(ServiceRequest, &'static str); 8] = [
        (ServiceRequest::VcardGet, "vcard-get"),
        (ServiceRequest::VcardSet, "vcard-set"),
        (ServiceRequest::PrivateGet, "private-get"),
        (ServiceRequest::PrivateSet, "private-set"),
        (ServiceRequest::Update, "update"),
        (ServiceRequest::BlockList, "block-list"),
        (ServiceRequest::Block, "block"),
        (ServiceRequest::Unblock, "unblock"),
    ];

    /// The request's name in a capture.
    pub(crate) fn name(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(r, _)| *r == self)
            .map_or("", |(_, n)| n)
    }

    /// The request a capture names.
    pub(crate) fn from_name(name: &str) -> Option<ServiceRequest> {
        Self::ALL.iter().find(|(_, n)| *n == name).map(|(r, _)| *r)
    }
}

/// The reply (or timeout) to request `id`, as its event.
pub(crate) fn on_reply(cx: &mut Cx, id: IqId, request: ServiceRequest, reply: Reply<'_>) {
    let event = match reply {
        Reply::Timeout => ServiceEvent::Failed { id, error: None },
        Reply::Error(error) => ServiceEvent::Failed {
            id,
            error: Some(error),
        },
        Reply::Result(iq) => match request {
            ServiceRequest::VcardGet => ServiceEvent::Vcard {
                id,
                vcard: Box::new(vcard::from_result(iq.payload())),
            },
            ServiceRequest::VcardSet => ServiceEvent::VcardSaved { id },
            ServiceRequest::PrivateGet => ServiceEvent::PrivateData {
                id,
                data: private_storage::from_result(iq.payload()),
            },
            ServiceRequest::PrivateSet => ServiceEvent::PrivateSaved { id },
            ServiceRequest::Update => ServiceEvent::Update {
                id,
                info: autoupdate::UpdateInfo::from_result(iq.payload()),
            },
            ServiceRequest::BlockList => ServiceEvent::BlockList {
                id,
                jids: iq
                    .payload()
                    .filter(|p| p.is("blocklist", crate::ns::BLOCKING))
                    .map(blocking::items)
                    .unwrap_or_default(),
            },
            ServiceRequest::Block => ServiceEvent::Blocked { id },
            ServiceRequest::Unblock => ServiceEvent::Unblocked { id },
        },
    };
    cx.push(event);
}

/// A reply the IQ table did not accept: if its id is one of ours, someone else
/// answered in our server's or our contact's name. Reported; nothing else changes.
pub(crate) fn on_unmatched_reply(cx: &mut Cx, iq: &Iq) {
    let Some(wire_id) = iq.id() else {
        return;
    };
    if let Some((id, Owner::Service(_) | Owner::BlockPolicy(_))) = cx.iqs.peek(wire_id) {
        let from = iq.from().map(|f: JidRef<'_>| f.to_owned_jid());
        cx.push(ServiceEvent::Spoofed { id, from });
    }
}
