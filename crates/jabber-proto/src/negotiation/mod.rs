//! Getting from an open stream to a usable session: classic authentication
//! ([`auth`], XEP-0078) and in-band registration ([`register`], XEP-0077).
//!
//! [`auth`] and [`register`] hold the payloads and the rules (which method, what counts as
//! success); the login and account features (`login`, `account`) run the exchanges and
//! [`Client`](crate::client::Client) routes to them.

pub(crate) mod account;
pub mod auth;
pub(crate) mod login;
pub mod register;
