//! Which channel binding a SASL `-PLUS` login uses (RFC 5056, XEP-0440), and whether a
//! login may go on without one ([`ChannelBindingPolicy`]).
//!
//! The server lists the types it supports in `<sasl-channel-binding>` (XEP-0440); we
//! bind to the best of ours it names. A server may offer `-PLUS` and list nothing: one
//! from before RFC 9266 (ejabberd 23.01 binds only to `tls-unique`, which TLS 1.3 does
//! not define and rustls does not expose), or one whose list an attacker stripped. The
//! two look alike, so the policy decides.

use alloc::string::String;

use super::auth::LoginError;
use super::sasl::{ChannelBinding, ChannelBindingKind};

/// Whether a login over TLS must be bound to the channel
/// ([`Config::channel_binding`](crate::client::Config::channel_binding)).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ChannelBindingPolicy {
    /// Bind when the server lists a type we have (XEP-0440); otherwise use SCRAM
    /// unbound — with the `y` flag when the server offered no `-PLUS`, so that a server
    /// that did offer one (and had it stripped) sees the downgrade, and with `n` when it
    /// offered `-PLUS` without a list, which an attacker removing the list makes
    /// undetectable. Interoperates with every server, pre-RFC 9266 ones included.
    #[default]
    Opportunistic,
    /// Never authenticate unbound: a `-PLUS` mechanism or nothing. With `-PLUS` offered
    /// and no XEP-0440 list, bind to RFC 9266's default, `tls-exporter`, on TLS 1.3,
    /// else to `tls-server-end-point` (TLS 1.2's default, `tls-unique`, is not
    /// available from rustls); a server that binds to something else refuses the
    /// login (a SASL failure). No `-PLUS` offered, a list naming no type we have, or no
    /// channel data (no TLS): the login fails with
    /// [`LoginError::ChannelBindingRequired`] before any credential is sent — and so
    /// does the classic login (`jabber:iq:auth`, which cannot bind), whether asked for
    /// or offered as the only method.
    Required,
}

impl ChannelBindingPolicy {
    /// The policy's name in captures.
    pub fn as_str(self) -> &'static str {
        match self {
            ChannelBindingPolicy::Opportunistic => "opportunistic",
            ChannelBindingPolicy::Required => "required",
        }
    }

    /// The policy named `name` ([`as_str`](Self::as_str)).
    pub fn from_name(name: &str) -> Option<ChannelBindingPolicy> {
        match name {
            "opportunistic" => Some(ChannelBindingPolicy::Opportunistic),
            "required" => Some(ChannelBindingPolicy::Required),
            _ => None,
        }
    }
}

/// The binding to use with a `-PLUS` mechanism: of `ours` (the transport's data), the
/// best the server `listed` (XEP-0440) — or, when `Required` and the server offers
/// `-PLUS` (`plus_offered`) with no list, RFC 9266's default. `Err` when `Required`
/// cannot bind.
pub(crate) fn choose<'a>(
    policy: ChannelBindingPolicy,
    ours: &'a [ChannelBinding],
    plus_offered: bool,
    listed: &[String],
) -> Result<Option<&'a ChannelBinding>, LoginError> {
    let named = ours
        .iter()
        .find(|b| listed.iter().any(|s| s == b.kind.as_str()));
    match policy {
        ChannelBindingPolicy::Opportunistic => Ok(named),
        ChannelBindingPolicy::Required => {
            let chosen = if !plus_offered {
                None
            } else if listed.is_empty() {
                let of = |kind| ours.iter().find(|b| b.kind == kind);
                // The link gives tls-exporter only on TLS 1.3: there it is the default.
                of(ChannelBindingKind::TlsExporter)
                    .or_else(|| of(ChannelBindingKind::TlsServerEndPoint))
            } else {
                named
            };
            chosen.map(Some).ok_or(LoginError::ChannelBindingRequired)
        }
    }
}
