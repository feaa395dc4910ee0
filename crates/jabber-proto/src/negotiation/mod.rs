//! Getting from an open stream to a usable session: classic authentication
//! ([`auth`], XEP-0078) and in-band registration ([`register`], XEP-0077).
//!
//! These modules hold the payloads and the rules (which method, what counts as success);
//! [`Client`](crate::client::Client) drives them.

pub mod auth;
pub mod register;
