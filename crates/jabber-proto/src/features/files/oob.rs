//! `jabber:iq:oob` (XEP-0066 §3): a URL offered in an IQ set to a full address, which
//! the receiver acknowledges with a result once it fetched the file, or refuses with an
//! error (406 `not-acceptable`: declined; 404 `item-not-found`: it could not be
//! fetched). The message form, `jabber:x:oob`, is [`Oob`] in `stanza::ext`.

use alloc::string::String;

use crate::jid::Jid;
use crate::ns;
use crate::stanza::ext::Oob;
use crate::stanza::{ErrorType, Iq, IqType, StanzaCondition, StanzaError};
use crate::xml::{BuildError, Element, ElementRef};

/// The `<query xmlns='jabber:iq:oob'/>` of an offer, with a stream id when the offer
/// belongs to a negotiated session.
pub fn offer_query(oob: &Oob, sid: Option<&str>) -> Result<Element, BuildError> {
    let mut b = Element::builder("query", ns::IQ_OOB);
    if let Some(sid) = sid {
        b = b.attr("sid", sid);
    }
    b = b.child(Element::builder("url", ns::IQ_OOB).text(&oob.url));
    if let Some(desc) = &oob.desc {
        b = b.child(Element::builder("desc", ns::IQ_OOB).text(desc));
    }
    b.build()
}

/// Reads an offer's `<query/>`: the URL (required, not empty) and its description.
pub fn read_query(query: ElementRef<'_>) -> Option<Oob> {
    if !query.is("query", ns::IQ_OOB) {
        return None;
    }
    let text = |name| {
        query
            .child(name, ns::IQ_OOB)
            .map(|c| String::from(c.text().trim()))
            .filter(|t| !t.is_empty())
    };
    Some(Oob {
        url: text("url")?,
        desc: text("desc"),
    })
}

/// An offer someone made us: answer it with
/// [`Client::accept_oob`](crate::client::Client::accept_oob) once the file is fetched, or
/// [`Client::refuse_oob`](crate::client::Client::refuse_oob).
#[derive(Clone, Debug, PartialEq)]
pub struct OobOffer {
    from: Jid,
    oob: Oob,
    sid: Option<String>,
    /// The request itself, which the answer goes to.
    request: Iq,
}

impl OobOffer {
    /// Who offers (a full address, as the server stamped it).
    pub fn from(&self) -> &Jid {
        &self.from
    }

    /// The URL, as sent: untrusted, check its scheme before fetching.
    pub fn url(&self) -> &str {
        &self.oob.url
    }

    /// What the offer says it is.
    pub fn desc(&self) -> Option<&str> {
        self.oob.desc.as_deref()
    }

    /// URL and description together.
    pub fn oob(&self) -> &Oob {
        &self.oob
    }

    /// The stream id of a negotiated session, if the offer names one.
    pub fn sid(&self) -> Option<&str> {
        self.sid.as_deref()
    }

    /// The IQ the offer came in.
    pub fn request(&self) -> &Iq {
        &self.request
    }
}

/// Why we refuse an offer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum OobRefusal {
    /// We do not want it: `406`, `not-acceptable` (XEP-0066 §3.2).
    Declined,
    /// We could not fetch it: `404`, `item-not-found`.
    NotFound,
}

impl OobRefusal {
    /// The error the refusal sends, with its classic code.
    pub fn error(self) -> StanzaError {
        match self {
            OobRefusal::Declined => StanzaError::new(StanzaCondition::NotAcceptable)
                .with_type(ErrorType::Modify)
                .with_code(406),
            OobRefusal::NotFound => StanzaError::new(StanzaCondition::ItemNotFound)
                .with_type(ErrorType::Cancel)
                .with_code(404),
        }
    }
}

/// An incoming `jabber:iq:oob` request: the offer, or the error to answer with when it is
/// not one we can act on (not a `set`, no sender, no URL).
pub(crate) fn read_offer(iq: &Iq) -> Option<Result<OobOffer, StanzaError>> {
    let query = iq.payload().filter(|p| p.is("query", ns::IQ_OOB))?;
    let bad = || Err(StanzaError::new(StanzaCondition::BadRequest));
    if iq.kind() != IqType::Set {
        return Some(bad());
    }
    let (Some(from), Some(oob)) = (iq.from(), read_query(query)) else {
        return Some(bad());
    };
    Some(Ok(OobOffer {
        from: from.to_owned_jid(),
        oob,
        sid: query.attr("sid").map(String::from),
        request: iq.clone(),
    }))
}
