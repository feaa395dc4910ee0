//! Cross-crate and real-server tests for jabber; the tests live in `tests/tests/`.
#![forbid(unsafe_code)]
