//! Message carbons (XEP-0280): with [`Config::carbons`](crate::client::Config::carbons)
//! on, the client asks the server to enable them right after login — without asking
//! service discovery first: an error answer (or none) simply means they are not offered
//! ([`CarbonEvent::Unavailable`]), a result [`CarbonEvent::Enabled`].
//!
//! A copy is accepted **only** from our own bare JID, compared canonically: a message
//! anyone else wraps in `<sent/>` or `<received/>` — a contact, our server's domain, one
//! of our own full JIDs, or no `from` at all — is the spoofing class of CVE-2017-5589. It
//! is dropped whole (never delivered as a message either) and reported as
//! [`CarbonEvent::Spoofed`]. A trusted copy becomes [`CarbonEvent::Sent`] or
//! [`CarbonEvent::Received`] with the forwarded message; one whose wrapper holds no
//! readable message is [`CarbonEvent::Invalid`]. Copies are never answered
//! automatically (receipts are the receiving resource's business).

use alloc::boxed::Box;

use crate::client::{CarbonEvent, Cx, Owner, Reply};
use crate::stanza::ext::{Carbon, CarbonDirection, Forwarded, enable_query};
use crate::stanza::{IqType, Message};

/// Where enabling carbons stands on this connection; one byte.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) enum Carbons {
    /// Not asked (the config has them off, or not logged in yet).
    #[default]
    Off,
    /// The enable request is out.
    Asked,
    /// The server said yes.
    Enabled,
    /// The server said no, or nothing.
    Unavailable,
}

impl Carbons {
    /// Logged in: asks for carbons if the config wants them.
    pub(crate) fn on_session(&mut self, cx: &mut Cx) {
        if !cx.config.carbons {
            return;
        }
        let sent = enable_query()
            .ok()
            .and_then(|q| cx.request(None, IqType::Set, q, Some(Owner::Carbons)).ok());
        *self = if sent.is_some() {
            Carbons::Asked
        } else {
            Carbons::Unavailable
        };
    }

    pub(crate) fn is_enabled(self) -> bool {
        self == Carbons::Enabled
    }

    /// The answer to the enable request.
    pub(crate) fn on_reply(&mut self, cx: &mut Cx, reply: Reply<'_>) {
        let event = match reply {
            Reply::Result(_) => {
                *self = Carbons::Enabled;
                CarbonEvent::Enabled
            }
            Reply::Error(error) => {
                *self = Carbons::Unavailable;
                CarbonEvent::Unavailable { error: Some(error) }
            }
            Reply::Timeout => {
                *self = Carbons::Unavailable;
                CarbonEvent::Unavailable { error: None }
            }
        };
        cx.push(event);
    }
}

/// `m` wraps `carbon`: the copy, if it comes from our own bare JID and holds a message;
/// otherwise it is reported here and `None` returned (nothing else may see it).
pub(crate) fn accept(
    cx: &mut Cx,
    m: Message,
    carbon: Carbon,
) -> Option<(CarbonDirection, Box<Forwarded>)> {
    let trusted = match (m.from(), cx.jid.as_ref()) {
        (Some(from), Some(own)) => from.is_bare() && from == own.as_jid_ref().bare(),
        _ => false,
    };
    if !trusted {
        let from = m.from().map(|f| f.to_owned_jid());
        cx.push(CarbonEvent::Spoofed {
            from,
            direction: carbon.direction,
        });
        return None;
    }
    match carbon.forwarded {
        Some(f) => Some((carbon.direction, Box::new(f))),
        None => {
            cx.push(CarbonEvent::Invalid(m));
            None
        }
    }
}
