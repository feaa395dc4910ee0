//! Property tests for data forms and discovery payloads: what the crate builds is
//! written, parsed back and read as the same value; reading hostile forms never fails
//! and what was read writes back to itself.

use jabber_proto::features::caps;
use jabber_proto::features::disco::{DiscoInfo, Identity};
use jabber_proto::stanza::form::{DataForm, FieldOption, FieldType, FormField, FormKind};
use jabber_proto::stream::{Item, Limits, StreamParser, Writer};
use jabber_proto::xml::Element;
use proptest::prelude::*;

/// `el` as the client writes it inside its stream, parsed back.
fn write_parse(el: &Element) -> Element {
    let mut bytes = b"<stream:stream xmlns='jabber:client' \
        xmlns:stream='http://etherx.jabber.org/streams'>"
        .to_vec();
    Writer::new("jabber:client").element(&mut bytes, el.root());
    let mut p = StreamParser::new(Limits::default());
    p.push(&bytes);
    assert!(matches!(p.next_item(), Some(Ok(Item::Header(_)))));
    match p.next_item() {
        Some(Ok(Item::Element(back))) => back,
        other => panic!("{other:?} for {el}"),
    }
}

/// Text with what XML must escape, spaces and non-ASCII.
fn text() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9 <>&'\"ψé]{0,10}"
}

fn field() -> impl Strategy<Value = FormField> {
    (
        proptest::option::of(text()),
        proptest::option::of(proptest::sample::select(FieldType::ALL)),
        proptest::option::of(text()),
        proptest::option::of(text()),
        any::<bool>(),
        proptest::collection::vec((proptest::option::of(text()), text()), 0..3),
        proptest::collection::vec(text(), 0..3),
    )
        .prop_map(|(var, kind, label, desc, required, options, values)| {
            let mut f = FormField::new("", FieldType::TextSingle);
            f.var = var;
            f.kind = kind;
            f.label = label;
            f.desc = desc;
            f.required = required;
            f.options = options
                .iter()
                .map(|(l, v)| FieldOption::new(l.as_deref(), v))
                .collect();
            f.values = values;
            f
        })
}

fn form() -> impl Strategy<Value = DataForm> {
    (
        proptest::sample::select(FormKind::ALL),
        proptest::option::of(text()),
        proptest::collection::vec(text(), 0..3),
        proptest::collection::vec(field(), 0..5),
        proptest::option::of(proptest::collection::vec(field(), 0..3)),
        proptest::collection::vec(proptest::collection::vec(field(), 0..3), 0..3),
    )
        .prop_map(|(kind, title, instructions, fields, reported, items)| {
            let mut form = DataForm::new(kind);
            form.title = title;
            form.instructions = instructions;
            form.fields = fields;
            form.reported = reported;
            form.items = items;
            form
        })
}

/// Any child soup under `<x type='form'>`: known names in odd places, unknown ones,
/// text.
fn hostile_form() -> impl Strategy<Value = String> {
    let child = proptest::sample::select(vec![
        "<field/>",
        "<field var='a'><value>1</value><value/></field>",
        "<field type='bogus' var='b'><option><value>x</value></option><option/></field>",
        "<field var='c'><required/><desc>d</desc><desc>e</desc></field>",
        "<reported><field var='r'/></reported>",
        "<item><field var='r'><value>v</value></field></item>",
        "<title>t</title>",
        "<instructions>i</instructions>",
        "<other xmlns='urn:x'><field/></other>",
        "text",
    ]);
    proptest::collection::vec(child, 0..8)
        .prop_map(|c| format!("<x xmlns='jabber:x:data' type='form'>{}</x>", c.concat()))
}

fn parse_str(xml: &str) -> Element {
    let mut p = StreamParser::new(Limits::default());
    p.push(
        format!(
            "<stream:stream xmlns='jabber:client' \
             xmlns:stream='http://etherx.jabber.org/streams'>{xml}"
        )
        .as_bytes(),
    );
    assert!(matches!(p.next_item(), Some(Ok(Item::Header(_)))));
    match p.next_item() {
        Some(Ok(Item::Element(el))) => el,
        other => panic!("{other:?}"),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn every_form_survives_build_write_parse(form in form()) {
        let el = form.to_element().expect("a valid form");
        let back = DataForm::from_element(write_parse(&el).root()).expect("a form");
        prop_assert_eq!(back, form);
    }

    #[test]
    fn hostile_forms_read_and_write_back_to_themselves(xml in hostile_form()) {
        let read = DataForm::from_element(parse_str(&xml).root()).expect("a form");
        let written = read.to_element().expect("what was read can be written");
        prop_assert_eq!(DataForm::from_element(written.root()), Some(read));
    }

    /// A disco#info answer survives writing and reading, and its hash does not depend
    /// on the order of what it lists.
    #[test]
    fn disco_info_round_trips_and_hashes_in_any_order(
        identities in proptest::collection::vec((text(), text(), proptest::option::of(text())), 1..4),
        features in proptest::collection::btree_set("[a-z:#/.]{1,12}", 0..6),
        forms in proptest::collection::vec(form(), 0..2),
        seed in any::<u64>(),
    ) {
        let mut info = DiscoInfo::default();
        for (category, kind, name) in &identities {
            let mut i = Identity::new(category, kind);
            i.name = name.clone();
            info.identities.push(i);
        }
        info.features = features.into_iter().collect();
        info.forms = forms.into_iter().map(|mut f| { f.kind = FormKind::Result; f }).collect();
        let back = DiscoInfo::from_query(write_parse(&info.to_query().expect("valid")).root()).expect("valid");
        prop_assert_eq!(&back, &info);
        let mut shuffled = info.clone();
        let n = shuffled.features.len().max(1);
        shuffled.features.rotate_left((seed as usize) % n);
        shuffled.identities.reverse();
        prop_assert_eq!(caps::ver(&shuffled), caps::ver(&info));
    }
}
