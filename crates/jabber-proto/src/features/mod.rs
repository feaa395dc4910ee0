//! What a session does once it is up, a module per feature: the roster, our own
//! presence, and keeping the link alive. Each owns its state and is reached by
//! [`Client`](crate::client::Client) through a narrow interface; see
//! `docs/architecture.md` for the pattern.

pub(crate) mod keepalive;
pub(crate) mod messaging;
pub(crate) mod presence;
pub mod roster;
