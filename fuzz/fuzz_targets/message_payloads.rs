//! Reads every payload of every message (and presence) in arbitrary server bytes after a
//! valid header, through the lazy getters the application uses.
//!
//! Input: the stream after the header. Checked: no panic; every payload that reads
//! writes back and reads again as the same value (reading is idempotent after one
//! write: what is dropped on the way in — invalid addresses, unknown roles — stays
//! dropped); a delay stamp writes back in its own form to the same stamp; expiry is
//! monotonic (expired at `t` stays expired later).
#![no_main]

use jabber_proto::stanza::ext::{
    ChatState, Encrypted, Envelope, Expire, Extension, Invitation, MessageEvents, Notice, Oob,
    Receipt, RosterExchange, Signed,
};
use jabber_proto::stanza::{Delay, Stanza};
use jabber_proto::stream::{Item, StreamParser};
use jabber_proto::time::Timestamp;
use jabber_proto::xml::ElementRef;
use libfuzzer_sys::fuzz_target;

const HEADER: &[u8] = b"<stream:stream xmlns='jabber:client' \
    xmlns:stream='http://etherx.jabber.org/streams' from='example.com'>";

fn round_trip<T: Extension + PartialEq + std::fmt::Debug>(child: ElementRef<'_>) {
    if let Some(v) = T::from_child(child) {
        let el = v.to_element().expect("a value read from XML writes back");
        assert_eq!(T::from_child(el.root()), Some(v), "{child}");
    }
}

fuzz_target!(|data: &[u8]| {
    let mut parser = StreamParser::new(jabber_fuzz::limits());
    parser.push(HEADER);
    parser.push(data);
    while let Some(Ok(item)) = parser.next_item() {
        let Item::Element(el) = item else { continue };
        let root = match Stanza::try_from(el) {
            Ok(Stanza::Message(m)) => {
                let _ = (m.body(), m.me(), m.thread(), m.subject(), m.error());
                let _ = (m.chat_state(), m.receipt(), m.events(), m.unknown_children().count());
                let _ = (m.receipt_answer(), m.reply(), m.event_notice(Notice::Displayed));
                let t = Timestamp::from_unix_millis(1_764_000_000_000).expect("in range");
                if m.is_expired(t) {
                    assert!(m.is_expired(Timestamp::MAX));
                }
                m.into_element()
            }
            Ok(Stanza::Presence(p)) => {
                let _ = (p.delay(), p.signed());
                p.into_element()
            }
            _ => continue,
        };
        for child in root.root().children() {
            round_trip::<ChatState>(child);
            round_trip::<Receipt>(child);
            round_trip::<MessageEvents>(child);
            round_trip::<Expire>(child);
            round_trip::<Envelope>(child);
            round_trip::<Encrypted>(child);
            round_trip::<Signed>(child);
            round_trip::<Oob>(child);
            round_trip::<RosterExchange>(child);
            round_trip::<Invitation>(child);
            if let Some(d) = Delay::from_element(child) {
                let el = d.to_element(d.form).expect("a stamp read from XML writes back");
                assert_eq!(Delay::from_element(el.root()), Some(d));
            }
        }
    }
});
