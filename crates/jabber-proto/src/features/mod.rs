//! What a session does once it is up, a module per feature: the roster, our own
//! presence, and keeping the link alive. Each owns its state and is reached by
//! [`Client`](crate::client::Client) through a narrow interface; see
//! `docs/architecture.md` for the pattern.

pub mod autoupdate;
pub mod blocking;
pub mod disclosure;
pub(crate) mod keepalive;
pub(crate) mod presence;
pub mod private_storage;
pub mod roster;
pub(crate) mod services;
pub mod vcard;
