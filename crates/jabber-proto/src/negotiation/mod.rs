//! Getting from an open stream to a usable session: on XMPP 1.0 streams the stream
//! [`features`], STARTTLS, SASL ([`sasl`], [`scram`]) and resource binding ([`bind`]);
//! classic authentication ([`auth`], XEP-0078); in-band registration ([`register`],
//! XEP-0077).
//!
//! [`auth`] and [`register`] hold the payloads and the rules (which method, what counts as
//! success); the login and account features (`login`, `account`) run the exchanges and
//! [`Client`](crate::client::Client) routes to them.

pub(crate) mod account;
pub mod auth;
pub mod bind;
pub mod channel_binding;
pub mod features;
pub(crate) mod login;
pub mod register;
pub mod sasl;
pub mod scram;
pub(crate) mod stream_login;
