//! # jabber-tokio
//!
//! Drives the [`jabber_proto`] core over tokio. Adapters hold no protocol logic: they move
//! bytes between a socket and the core, feed it the time, and sleep until its next
//! deadline.
//!
//! This crate is a placeholder in the workspace layout; the adapter itself is tracked in
//! the project's issues.
#![forbid(unsafe_code)]
