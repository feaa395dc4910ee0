//! Staying in the room (XEP-0410, "Schrödinger's chat"): a room forgets an occupant
//! when its service restarts or loses the connection, and nothing tells the occupant.
//! After [`ConferenceConfig::self_ping_secs`](super::ConferenceConfig::self_ping_secs)
//! without a stanza from the room, we ping our own occupant address; the room answers
//! it only while we are in it, so the answer says whether we still are:
//!
//! | answer | verdict |
//! |---|---|
//! | result; `service-unavailable`, `feature-not-implemented` (the ping reached a client that does not answer pings: we are in) ; `item-not-found` (our nickname just changed) | joined |
//! | `remote-server-not-found`, `remote-server-timeout`, no answer | unknown: ask again an interval later |
//! | `not-acceptable` and any other error | not joined: the room dropped us |

use crate::ns;
use crate::stanza::{StanzaCondition, StanzaError};
use crate::xml::{BuildError, Element};

/// What a self-ping's answer says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Verdict {
    Joined,
    Unknown,
    Dropped,
}

/// The ping's payload (XEP-0199).
pub(crate) fn ping() -> Result<Element, BuildError> {
    Element::builder("ping", ns::PING).build()
}

/// The verdict of an error answer (`None`: no answer at all).
pub(crate) fn verdict(error: Option<&StanzaError>) -> Verdict {
    use StanzaCondition as C;
    let Some(error) = error else {
        return Verdict::Unknown;
    };
    match error.condition {
        C::ServiceUnavailable | C::FeatureNotImplemented | C::ItemNotFound => Verdict::Joined,
        C::RemoteServerNotFound | C::RemoteServerTimeout => Verdict::Unknown,
        _ => Verdict::Dropped,
    }
}
