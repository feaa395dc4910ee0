//! Reads every element of arbitrary server bytes (after a valid header), at any depth,
//! as a data form, a `disco#info` / `disco#items` answer, a registration query and a
//! caps element; hashes every `disco#info`.
//!
//! Input: the stream after the header. Checked: no panic; every value that reads writes
//! back and reads again as the same value; a hash never depends on the order identities
//! and features came in; the masked writer never shows a private field's value.
#![no_main]

use jabber_proto::features::caps::{self, Caps};
use jabber_proto::features::disco::{DiscoInfo, DiscoItems};
use jabber_proto::negotiation::register::RegistrationForm;
use jabber_proto::stanza::form::DataForm;
use jabber_proto::stream::{Item, StreamParser, Writer};
use jabber_proto::xml::ElementRef;
use libfuzzer_sys::fuzz_target;

const HEADER: &[u8] = b"<stream:stream xmlns='jabber:client' \
    xmlns:stream='http://etherx.jabber.org/streams' from='example.com'>";

fn visit(el: ElementRef<'_>, depth: usize) {
    if let Some(form) = DataForm::from_element(el) {
        let written = form.to_element().expect("a form read from XML writes back");
        assert_eq!(DataForm::from_element(written.root()).as_ref(), Some(&form));
        for field in form.fields.iter().filter(|f| f.is_private()) {
            let mut bare = field.clone();
            bare.options.clear();
            let el = bare.to_element().build().expect("a field read from XML writes back");
            let mut shown = Vec::new();
            Writer::new("jabber:client").masked(true).element(&mut shown, el.root());
            let shown = String::from_utf8(shown).expect("UTF-8");
            assert_eq!(
                shown.matches("<value>").count(),
                shown.matches("<value>***</value>").count(),
                "{shown}"
            );
        }
    }
    if let Some(info) = DiscoInfo::from_query(el) {
        let written = info.to_query().expect("an answer read from XML writes back");
        assert_eq!(DiscoInfo::from_query(written.root()).as_ref(), Some(&info));
        let mut reversed = info.clone();
        reversed.identities.reverse();
        reversed.features.reverse();
        assert_eq!(caps::ver(&reversed), caps::ver(&info));
    }
    if let Some(items) = DiscoItems::from_query(el) {
        let _ = items.items.len();
    }
    if el.is("query", "jabber:iq:register") {
        let form = RegistrationForm::from_query(el);
        let _ = format!("{form:?}");
        let _ = form.to_query();
    }
    if el.is("c", "http://jabber.org/protocol/caps") {
        let _ = Caps::from_element(el);
    }
    if depth < 64 {
        for child in el.children() {
            visit(child, depth + 1);
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let mut parser = StreamParser::new(jabber_fuzz::limits());
    parser.push(HEADER);
    parser.push(data);
    while let Some(Ok(item)) = parser.next_item() {
        if let Item::Element(el) = item {
            visit(el.root(), 0);
        }
    }
});
