//! What a session does once it is up: the roster, and keeping the link alive.

pub(crate) mod keepalive;
pub mod roster;
