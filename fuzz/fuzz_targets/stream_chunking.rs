//! Any split of the input gives the same items and the same error as the whole input, and
//! the parser never holds more than `max_stanza_bytes` plus one piece.
//!
//! Input: split choice, then the stream (see `jabber_fuzz::decode`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (splits, stream) = jabber_fuzz::decode(data, |len| len);
    jabber_fuzz::check_chunking(stream, &splits);
});
