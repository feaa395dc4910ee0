//! File transfer (the cheat sheet's §8): a URL handed over out of band, the file itself
//! moved over HTTP by the adapters, never by the core.
//!
//! - In a message, `jabber:x:oob` ([`Oob`], read with [`Message::oob`](crate::stanza::Message::oob),
//!   written with [`MessageBuilder::oob`](crate::stanza::MessageBuilder::oob)).
//! - In an IQ, `jabber:iq:oob` ([`oob`]): [`Client::offer_oob`](crate::client::Client::offer_oob)
//!   sends an offer to a full address and reports whether it was accepted; an offer made
//!   to us is [`TransferEvent::Offer`] when
//!   [`Config::oob_offers`](crate::client::Config::oob_offers) is set (else it is
//!   answered `service-unavailable`), answered with
//!   [`accept_oob`](crate::client::Client::accept_oob) or
//!   [`refuse_oob`](crate::client::Client::refuse_oob).
//! - HTTP File Upload, XEP-0363 ([`upload`]):
//!   [`find_upload_service`](crate::client::Client::find_upload_service) and
//!   [`request_upload_slot`](crate::client::Client::request_upload_slot).
//!
//! Nothing here keeps state in the client: each request carries what it asked in its
//! entry of the IQ table, and an offer made to us carries its own request, so an idle
//! client pays nothing for the feature. Replies are accepted only from the address asked
//! (the IQ table checks it); one that names our request from elsewhere is reported as
//! [`TransferEvent::Spoofed`] and changes nothing.
//!
//! An offer made to us, fetched (by the adapter) and acknowledged:
//!
//! ```
//! use core::num::NonZeroU64;
//! use jabber_proto::client::{Client, Config, Event, TransferEvent};
//! use jabber_proto::time::Instant;
//!
//! let now = Instant::ZERO;
//! let mut config = Config::new("example.com", NonZeroU64::MIN);
//! config.oob_offers = true;
//! let mut client = Client::new(config, now);
//! client.handle_input(now, b"<stream:stream xmlns='jabber:client' \
//!     xmlns:stream='http://etherx.jabber.org/streams' id='s1'>").unwrap();
//! client.take_transmit();
//! client.handle_input(now, b"<iq type='set' id='o1' from='romeo@example.net/orchard'>\
//!     <query xmlns='jabber:iq:oob'><url>https://example.net/verse.txt</url>\
//!     <desc>A verse</desc></query></iq>").unwrap();
//! let offer = std::iter::from_fn(|| client.poll_event())
//!     .find_map(|e| match e {
//!         Event::Transfer(TransferEvent::Offer(offer)) => Some(offer),
//!         _ => None,
//!     })
//!     .unwrap();
//! assert_eq!((offer.url(), offer.desc()), ("https://example.net/verse.txt", Some("A verse")));
//! // ... download offer.url() (jabber_std::files::download), then:
//! client.accept_oob(now, &offer).unwrap();
//! assert_eq!(
//!     client.take_transmit().as_deref(),
//!     Some(&b"<iq type='result' id='o1' to='romeo@example.net/orchard'/>"[..])
//! );
//! ```

pub mod oob;
pub mod upload;

use alloc::boxed::Box;
use alloc::vec::Vec;

pub use crate::stanza::ext::Oob;
pub use oob::{OobOffer, OobRefusal};
pub use upload::{PutHeader, UploadError, UploadFile, UploadService, UploadSlot};

use crate::client::{Cx, IqId, Owner, TransferEvent};
use crate::features::disco::{self, DiscoInfo, DiscoItems};
use crate::jid::Jid;
use crate::stanza::{Iq, IqType, StanzaCondition, StanzaError};

/// At most this many addresses (the server and its items) are asked whether they are an
/// upload service: a server listing thousands of items costs a bounded number of queries.
pub const MAX_UPLOAD_CANDIDATES: usize = 16;

/// What one of the transfer requests asked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TransferRequest {
    /// An iq:oob offer we made.
    Offer,
    /// The server's items, first step of the search for an upload service.
    UploadItems,
    /// One candidate's info, in the search whose handle is `search`.
    UploadInfo { search: IqId },
    /// A slot request.
    Slot,
}

impl TransferRequest {
    /// The request's name in a capture (`offer`, `items`, `info:<search>`, `slot`).
    pub(crate) fn name(self) -> alloc::string::String {
        match self {
            TransferRequest::Offer => "offer".into(),
            TransferRequest::UploadItems => "items".into(),
            TransferRequest::UploadInfo { search } => alloc::format!("info:{}", search.get()),
            TransferRequest::Slot => "slot".into(),
        }
    }

    /// The request a capture names.
    pub(crate) fn from_name(name: &str) -> Option<TransferRequest> {
        Some(match name {
            "offer" => TransferRequest::Offer,
            "items" => TransferRequest::UploadItems,
            "slot" => TransferRequest::Slot,
            other => TransferRequest::UploadInfo {
                search: IqId::from_sequence(other.strip_prefix("info:")?.parse().ok()?),
            },
        })
    }
}

/// An IQ get or set: an iq:oob offer becomes an event when the application takes them
/// ([`Config::oob_offers`](crate::client::Config::oob_offers)), else is answered
/// `service-unavailable`; a malformed one is refused.
pub(crate) fn on_request(cx: &mut Cx, iq: &Iq) -> bool {
    match oob::read_offer(iq) {
        None => false,
        Some(Ok(_)) if !cx.config.oob_offers => {
            let refusal = StanzaError::new(StanzaCondition::ServiceUnavailable);
            let _ = cx.reply(iq.element(), Err(refusal));
            true
        }
        Some(Ok(offer)) => {
            cx.push(TransferEvent::Offer(Box::new(offer)));
            true
        }
        Some(Err(error)) => {
            let _ = cx.reply(iq.element(), Err(error));
            true
        }
    }
}

/// The reply (or timeout: `iq` is `None`) to one of our transfer requests.
pub(crate) fn on_reply(cx: &mut Cx, id: IqId, request: TransferRequest, iq: Option<&Iq>) {
    let result = iq.filter(|iq| iq.kind() == IqType::Result);
    let error = iq.filter(|iq| iq.kind() == IqType::Error);
    match request {
        TransferRequest::Offer => cx.push(match result {
            Some(_) => TransferEvent::OfferAccepted { id },
            None => TransferEvent::OfferRefused {
                id,
                error: error.map(|iq| {
                    iq.error()
                        .unwrap_or_else(|| StanzaError::new(StanzaCondition::UndefinedCondition))
                }),
            },
        }),
        TransferRequest::Slot => {
            let outcome = match (result, error) {
                (Some(iq), _) => iq
                    .payload()
                    .and_then(UploadSlot::from_element)
                    .ok_or(UploadError::Malformed),
                (None, Some(iq)) => Err(UploadError::from_error_iq(iq)),
                (None, None) => Err(UploadError::Timeout),
            };
            cx.push(match outcome {
                Ok(slot) => TransferEvent::Slot {
                    id,
                    slot: Box::new(slot),
                },
                Err(error) => TransferEvent::SlotFailed { id, error },
            });
        }
        TransferRequest::UploadItems => {
            let items = result
                .and_then(|iq| iq.payload())
                .and_then(DiscoItems::from_query)
                .map(|i| i.items)
                .unwrap_or_default();
            ask_candidates(
                cx,
                id,
                items
                    .into_iter()
                    .filter(|i| i.node.is_none())
                    .map(|i| i.jid),
            );
        }
        TransferRequest::UploadInfo { search } => {
            let found = result.and_then(|iq| {
                let info = DiscoInfo::from_query(iq.payload()?)?;
                let from = match iq.from() {
                    Some(from) => from.to_owned_jid(),
                    None => Jid::domain_only(&cx.config.domain).ok()?,
                };
                UploadService::from_info(from, &info)
            });
            let in_search = |o: &Owner| matches!(o, Owner::Transfer(TransferRequest::UploadInfo { search: s }) if *s == search);
            if found.is_some() {
                // The first service found ends the search: later answers are not awaited.
                for wire in cx.iqs.wire_ids_of(in_search) {
                    cx.iqs.cancel(&wire);
                }
            } else if !cx.iqs.wire_ids_of(in_search).is_empty() {
                return;
            }
            cx.push(TransferEvent::UploadService {
                id: search,
                service: found.map(Box::new),
            });
        }
    }
}

/// Asks our server and the items it listed (at most [`MAX_UPLOAD_CANDIDATES`] in all)
/// for their info; reports that there is no service when none could be asked.
fn ask_candidates(cx: &mut Cx, search: IqId, items: impl Iterator<Item = Jid>) {
    let mut candidates: Vec<Jid> = Vec::new();
    candidates.extend(Jid::domain_only(&cx.config.domain).ok());
    for jid in items {
        if candidates.len() >= MAX_UPLOAD_CANDIDATES {
            break;
        }
        if !candidates.contains(&jid) {
            candidates.push(jid);
        }
    }
    let mut asked = 0;
    for jid in &candidates {
        let owner = Owner::Transfer(TransferRequest::UploadInfo { search });
        let sent = disco::info_query(None)
            .ok()
            .and_then(|q| cx.request(Some(jid), IqType::Get, q, Some(owner)).ok());
        asked += usize::from(sent.is_some());
    }
    if asked == 0 {
        cx.push(TransferEvent::UploadService {
            id: search,
            service: None,
        });
    }
}

/// A reply the IQ table did not accept: if its id is one of our offers or slot
/// requests, someone other than the address asked answered. Reported; nothing changes.
pub(crate) fn on_unmatched_reply(cx: &mut Cx, iq: &Iq) {
    let Some(wire_id) = iq.id() else {
        return;
    };
    if let Some((id, Owner::Transfer(_))) = cx.iqs.peek(wire_id) {
        let from = iq.from().map(|f| f.to_owned_jid());
        cx.push(TransferEvent::Spoofed { id, from });
    }
}
