//! Like `stream_chunking`, but a valid server stream header comes first, so the fuzzer
//! spends its time on stanzas rather than on getting past the header.
//!
//! Input: split choice (cuts apply to header and body together), then the body.
#![no_main]

use libfuzzer_sys::fuzz_target;

/// What ejabberd or Prosody would send (declaration and header in one write).
const HEADER: &[u8] = b"<?xml version='1.0'?><stream:stream \
    xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' \
    id='4217446383215346765' from='example.com' version='1.0' xml:lang='en'>";

fuzz_target!(|data: &[u8]| {
    let (splits, body) = jabber_fuzz::decode(data, |len| HEADER.len() + len);
    let mut stream = Vec::with_capacity(HEADER.len() + body.len());
    stream.extend_from_slice(HEADER);
    stream.extend_from_slice(body);
    jabber_fuzz::check_chunking(&stream, &splits);
});
