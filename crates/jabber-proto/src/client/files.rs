//! The file-transfer commands (§8): iq:oob offers both ways, the upload service search
//! and slot requests (XEP-0363). They route to `features/files`; answers come as
//! [`TransferEvent`](super::TransferEvent)s.

use super::{Client, Error, IqId, Owner, capture};
use crate::features::disco;
use crate::features::files::{OobOffer, OobRefusal, TransferRequest, UploadFile, oob};
use crate::jid::Jid;
use crate::stanza::IqType;
use crate::stanza::ext::Oob;
use crate::time::Instant;
use core::time::Duration;

impl Client {
    /// Offers `oob` (a URL and its description) to `to`, a full address, in a
    /// `jabber:iq:oob` set (XEP-0066 §3).
    /// [`TransferEvent::OfferAccepted`](super::TransferEvent::OfferAccepted) follows
    /// once the receiver has fetched it, or `OfferRefused`; only `to` may answer.
    /// Refused with [`Error::NotFullJid`] for a bare address, [`Error::NoUrl`] for an
    /// empty or blank URL, [`Error::WrongPhase`] before login.
    pub fn offer_oob(&mut self, now: Instant, to: &Jid, oob: &Oob) -> Result<IqId, Error> {
        self.offer(now, to, oob, None)
    }

    /// Like [`offer_oob`](Self::offer_oob), waiting `timeout` for the answer instead of
    /// [`Config::iq_timeout`](super::Config::iq_timeout): the receiver answers once it
    /// has downloaded the file, which for a large file takes longer than a protocol
    /// exchange.
    pub fn offer_oob_within(
        &mut self,
        now: Instant,
        to: &Jid,
        oob: &Oob,
        timeout: Duration,
    ) -> Result<IqId, Error> {
        self.offer(now, to, oob, Some(timeout))
    }

    fn offer(
        &mut self,
        now: Instant,
        to: &Jid,
        oob: &Oob,
        timeout: Option<Duration>,
    ) -> Result<IqId, Error> {
        let record = || {
            let mut b = capture::command("oob-offer").attr("to", to.as_str());
            if let Some(t) = timeout {
                b = b.attr("timeout-ms", &alloc::format!("{}", t.as_millis()));
            }
            capture::with_child(b, oob::offer_query(oob, None))
        };
        self.captured(now, record, |c| {
            if !to.is_full() {
                return Err(Error::NotFullJid);
            }
            if oob.url.trim().is_empty() {
                return Err(Error::NoUrl);
            }
            let query = oob::offer_query(oob, None)?;
            let owner = Owner::Transfer(TransferRequest::Offer);
            let id = c.session_request(now, Some(to), IqType::Set, query, owner)?;
            if let Some(t) = timeout {
                // At least a millisecond, as for any request.
                let deadline = c.cx.now + t.max(Duration::from_millis(1));
                c.cx.iqs.set_deadline(id, deadline);
            }
            Ok(id)
        })
    }

    /// Tells the sender of `offer` that we have the file: an empty result.
    pub fn accept_oob(&mut self, now: Instant, offer: &OobOffer) -> Result<(), Error> {
        self.respond(now, offer.request(), Ok(None))
    }

    /// Refuses `offer`: `406 not-acceptable` when declined, `404 item-not-found` when
    /// the file could not be fetched.
    pub fn refuse_oob(
        &mut self,
        now: Instant,
        offer: &OobOffer,
        refusal: OobRefusal,
    ) -> Result<(), Error> {
        self.respond(now, offer.request(), Err(refusal.error()))
    }

    /// Looks for an HTTP upload service (XEP-0363 §3): asks our server for its items,
    /// then it and them (at most
    /// [`MAX_UPLOAD_CANDIDATES`](crate::features::files::MAX_UPLOAD_CANDIDATES)) for their
    /// info. [`TransferEvent::UploadService`](super::TransferEvent::UploadService) with
    /// the returned handle follows: the first service found, or `None`.
    pub fn find_upload_service(&mut self, now: Instant) -> Result<IqId, Error> {
        let record = || capture::command("find-upload-service");
        self.captured(now, record, |c| {
            let query = disco::items_query(None)?;
            let server = Jid::domain_only(&c.cx.config.domain).map_err(Error::InvalidAddress)?;
            let owner = Owner::Transfer(TransferRequest::UploadItems);
            c.session_request(now, Some(&server), IqType::Get, query, owner)
        })
    }

    /// Asks the upload service `service` for a slot for `file` (XEP-0363 §4):
    /// [`TransferEvent::Slot`](super::TransferEvent::Slot) or `SlotFailed` (too large,
    /// quota, refused, timeout) follows; only `service` may answer.
    pub fn request_upload_slot(
        &mut self,
        now: Instant,
        service: &Jid,
        file: &UploadFile,
    ) -> Result<IqId, Error> {
        let record = || {
            let b = capture::command("upload-slot").attr("service", service.as_str());
            capture::with_child(b, file.request())
        };
        self.captured(now, record, |c| {
            let request = file.request()?;
            let owner = Owner::Transfer(TransferRequest::Slot);
            c.session_request(now, Some(service), IqType::Get, request, owner)
        })
    }
}
