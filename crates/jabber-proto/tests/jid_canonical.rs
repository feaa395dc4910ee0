//! Canonical JIDs and comparison (RFC 7622 §3.3, RFC 8265 §3.3): equality, ordering and
//! hashing must agree with `Jid::canonical`, which must be idempotent and give a valid JID.
//!
//! The generators build parts from *classes* of characters that share one canonical
//! form (`a`, `A`, `ａ`, `Ａ`), so that two independently drawn JIDs are often equal
//! without being identical, and from characters whose mapping is unusual: `İ` becomes
//! two characters, `ß` has no single-character uppercase, `ς` is not `σ`, KELVIN SIGN
//! becomes ASCII, halfwidth Katakana widens.

use std::collections::HashSet;
use std::hash::{BuildHasher, Hash, Hasher, RandomState};

use jabber_proto::jid::{Jid, JidError, JidRef};
use proptest::prelude::*;

/// Spellings that share a canonical localpart, one class per row.
const LOCAL_CLASSES: &[&[&str]] = &[
    &["a", "A", "ａ", "Ａ"],
    &["k", "K", "\u{212A}", "ｋ", "Ｋ"],
    &["i", "I", "ｉ", "Ｉ"],
    &["ı"],
    &["i\u{307}", "İ", "ｉ\u{307}"],
    &["\u{307}"],
    &["ß", "ẞ"],
    &["ss", "sS", "ｓｓ"],
    &["σ", "Σ"],
    &["ς"],
    &["ǆ", "ǅ", "Ǆ"],
    &["å", "Å", "\u{212B}"],
    &["é", "É"],
    &["e\u{301}", "E\u{301}", "ｅ\u{301}"],
    &["カ", "ｶ"],
    &["カ\u{3099}", "ｶﾞ", "ｶ\u{3099}"],
    &["ガ"],
    &["ㄱ", "ﾡ"],
    &["0", "０"],
    &["_", "＿"],
    &["+", "＋"],
    &["日"],
];

/// Spellings that share a canonical domain label, one class per row.
const DOMAIN_CLASSES: &[&[&str]] = &[
    &["a", "A"],
    &["k", "K", "\u{212A}"],
    &["ä", "Ä"],
    &["i\u{307}", "İ"],
    &["σ", "Σ"],
    &["ß", "ẞ"],
    &["例"],
    &["-"],
    &["0"],
];

/// Resources compare exactly, so these include case variants that must differ.
const RESOURCES: &[&str] = &["Res", "res", "RES", "ａ", "a b", "x@y/z", "Σ"];

/// A part as a list of (class, spelling) picks; the spelling index is reduced modulo
/// the class size, so the same classes with other spellings give an equal part.
fn picks(
    classes: usize,
    len: std::ops::Range<usize>,
) -> impl Strategy<Value = Vec<(usize, usize)>> {
    prop::collection::vec((0..classes, 0..8usize), len)
}

fn spell(classes: &[&[&str]], picks: &[(usize, usize)]) -> String {
    picks
        .iter()
        .map(|&(class, spelling)| classes[class][spelling % classes[class].len()])
        .collect()
}

/// The parts of a JID, as class picks; see [`Shape::spell`].
#[derive(Debug, Clone)]
struct Shape {
    local: Option<Vec<(usize, usize)>>,
    labels: Vec<Vec<(usize, usize)>>,
    resource: Option<usize>,
}

impl Shape {
    fn spell(&self) -> Jid {
        let local = self.local.as_ref().map(|p| spell(LOCAL_CLASSES, p));
        let labels: Vec<String> = self
            .labels
            .iter()
            .map(|p| spell(DOMAIN_CLASSES, p))
            .collect();
        let domain = labels.join(".");
        let resource = self.resource.map(|r| RESOURCES[r]);
        Jid::new(local.as_deref(), &domain, resource).expect("the classes hold valid parts only")
    }

    /// A JID taking each part from `self` (respelled) or from `other`, as `mask`
    /// says: pairs that differ in one part only, or not at all.
    fn mixed(&self, other: &Shape, mask: u8, shift: usize) -> Shape {
        let own = self.respelled(shift);
        Shape {
            local: if mask & 1 == 0 {
                own.local
            } else {
                other.local.clone()
            },
            labels: if mask & 2 == 0 {
                own.labels
            } else {
                other.labels.clone()
            },
            resource: if mask & 4 == 0 {
                own.resource
            } else {
                other.resource
            },
        }
    }

    /// The same classes with the spellings shifted: an equal JID, written differently.
    fn respelled(&self, shift: usize) -> Shape {
        let respell = |p: &Vec<(usize, usize)>| p.iter().map(|&(c, s)| (c, s + shift)).collect();
        Shape {
            local: self.local.as_ref().map(respell),
            labels: self.labels.iter().map(respell).collect(),
            resource: self.resource,
        }
    }
}

fn shape() -> impl Strategy<Value = Shape> {
    // Short parts from few classes, so that independent draws often coincide.
    (
        prop::option::weighted(0.9, picks(LOCAL_CLASSES.len(), 1..4)),
        prop::collection::vec(picks(DOMAIN_CLASSES.len(), 1..3), 1..3),
        prop::option::of(0..RESOURCES.len()),
    )
        .prop_map(|(local, labels, resource)| Shape {
            local,
            labels,
            resource,
        })
}

/// Records every call made to the hasher, so that equal records mean the hashes
/// agree for any `Hasher`, not only for one.
#[derive(Default)]
struct Recorder(Vec<Vec<u8>>);

impl Hasher for Recorder {
    fn finish(&self) -> u64 {
        0
    }

    fn write(&mut self, bytes: &[u8]) {
        self.0.push(bytes.to_vec());
    }
}

fn record<T: Hash + ?Sized>(value: &T) -> Vec<Vec<u8>> {
    let mut recorder = Recorder::default();
    value.hash(&mut recorder);
    recorder.0
}

/// The order the module documents, computed on the canonical texts: domain, then
/// localpart (a bare domain first), then resource. UTF-8 byte order is code point
/// order, so comparing `str`s here compares the canonical characters.
fn documented_order(a: &Jid, b: &Jid) -> std::cmp::Ordering {
    let (a, b) = (a.canonical(), b.canonical());
    a.domain()
        .cmp(b.domain())
        .then_with(|| a.local().cmp(&b.local()))
        .then_with(|| a.resource().cmp(&b.resource()))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn canonical_is_idempotent_and_valid(shape in shape()) {
        let jid = shape.spell();
        let canonical = jid.canonical();
        prop_assert!(canonical.is_canonical());
        prop_assert_eq!(canonical.canonical().to_string(), canonical.as_str());
        prop_assert_eq!(jid.is_canonical(), jid.as_str() == canonical.as_str());
        prop_assert_eq!(&*canonical, &jid);

        // The canonical text is a valid JID with the same parts, and canonical.
        let reparsed = Jid::parse(canonical.as_str()).unwrap();
        prop_assert_eq!(reparsed.as_str(), canonical.as_str());
        prop_assert_eq!(reparsed.local(), canonical.local());
        prop_assert_eq!(reparsed.domain(), canonical.domain());
        prop_assert!(reparsed.is_canonical());
        prop_assert_eq!(jid.resource(), canonical.resource());

        // Every route to the canonical form agrees.
        prop_assert_eq!(jid.clone().into_canonical().to_string(), canonical.as_str());
        prop_assert_eq!(jid.as_jid_ref().to_canonical_jid().to_string(), canonical.as_str());
        // With a trailing domain dot, which is not part of the canonical form.
        let resource = jid.resource().map(|r| format!("/{r}")).unwrap_or_default();
        let dotted = format!("{}.{resource}", jid.to_bare());
        let dotted = JidRef::parse(&dotted).unwrap();
        prop_assert_eq!(dotted.to_canonical_jid().to_string(), canonical.as_str());
        prop_assert_eq!(dotted.is_canonical(), jid.is_canonical());
    }

    #[test]
    fn respelling_keeps_equality_hash_and_order(shape in shape(), shift in 1..8usize) {
        let a = shape.spell();
        let b = shape.respelled(shift).spell();
        prop_assert_eq!(&a, &b);
        prop_assert_eq!(a.as_jid_ref(), b.as_jid_ref());
        prop_assert_eq!(&a, &b.as_jid_ref());
        prop_assert_eq!(a.cmp(&b), std::cmp::Ordering::Equal);
        prop_assert_eq!(record(&a), record(&b));
        prop_assert_eq!(record(&a.as_jid_ref()), record(&b));
        prop_assert_eq!(a.canonical().to_string(), b.canonical().to_string());
    }

    #[test]
    fn equality_is_equality_of_canonical_text(
        a in shape(),
        other in shape(),
        mask in 0..8u8,
        shift in 0..8usize,
    ) {
        let (a, b) = (a.spell(), a.mixed(&other, mask, shift).spell());
        let same = a.canonical().as_str() == b.canonical().as_str();
        prop_assert_eq!(a == b, same);
        prop_assert_eq!(b == a, same);
        prop_assert_eq!(a.as_jid_ref() == b.as_jid_ref(), same);
        prop_assert_eq!(a == b.as_jid_ref(), same);
        prop_assert_eq!(a.as_jid_ref() == b, same);
        if same {
            prop_assert_eq!(record(&a), record(&b));
        }
        // Hashing the canonical JID is hashing the JID.
        prop_assert_eq!(record(&a), record(&*a.canonical()));
    }

    #[test]
    fn ordering_is_the_documented_total_order(
        a in shape(),
        others in (shape(), shape()),
        masks in (0..8u8, 0..8u8),
        shift in 0..8usize,
    ) {
        let b = a.mixed(&others.0, masks.0, shift).spell();
        let c = a.mixed(&others.1, masks.1, shift + 1).spell();
        let a = a.spell();
        prop_assert_eq!(a.cmp(&b), documented_order(&a, &b));
        prop_assert_eq!(a.as_jid_ref().cmp(&b.as_jid_ref()), a.cmp(&b));
        prop_assert_eq!(a.cmp(&b), b.cmp(&a).reverse());
        prop_assert_eq!(a.cmp(&b).is_eq(), a == b);
        prop_assert_eq!(a.partial_cmp(&b), Some(a.cmp(&b)));
        // Transitivity, checked on the sorted triple.
        let mut sorted = [&a, &b, &c];
        sorted.sort();
        prop_assert!(sorted[0] <= sorted[1] && sorted[1] <= sorted[2] && sorted[0] <= sorted[2]);
    }

    #[test]
    fn hash_set_deduplicates_by_canonical_form(shapes in prop::collection::vec(shape(), 1..12)) {
        let jids: Vec<Jid> = shapes.iter().map(Shape::spell).collect();
        let set: HashSet<&Jid> = jids.iter().collect();
        let texts: HashSet<String> = jids.iter().map(|j| j.canonical().as_str().to_owned()).collect();
        prop_assert_eq!(set.len(), texts.len());
        // A seeded std hasher agrees on equal JIDs too.
        let state = RandomState::new();
        for x in &jids {
            for y in &jids {
                if x == y {
                    prop_assert_eq!(state.hash_one(x), state.hash_one(y));
                }
            }
        }
    }
}

#[test]
fn login_name_matches_server_address() {
    let own: Jid = "Alice@Example.com/Res".parse().unwrap();
    let addressed: Jid = "alice@example.com/Res".parse().unwrap();
    assert_eq!(own, addressed);
    assert_eq!(record(&own), record(&addressed));
    assert_ne!(own, "alice@example.com/res".parse::<Jid>().unwrap());
    assert_eq!(own.canonical().as_str(), "alice@example.com/Res");
    assert_eq!(own.to_bare(), JidRef::parse("ALICE@EXAMPLE.COM").unwrap());
}

#[test]
fn fullwidth_localpart_matches_ascii() {
    let wide: Jid = "ａｌｉｃｅ@example.com".parse().unwrap();
    let ascii: Jid = "alice@example.com".parse().unwrap();
    assert_eq!(wide, ascii);
    assert_eq!(record(&wide), record(&ascii));
    assert_eq!(wide.canonical().as_str(), "alice@example.com");
}

#[test]
fn width_mapping_to_a_forbidden_char_is_refused() {
    assert_eq!(
        Jid::parse("alice＠evil@example.com").unwrap_err(),
        JidError::ForbiddenCharInLocal { ch: '＠' }
    );
    assert_eq!(
        JidRef::parse("a／b@example.com").unwrap_err(),
        JidError::ForbiddenCharInLocal { ch: '／' }
    );
    assert_eq!(
        Jid::new(Some("a＜b"), "example.com", None).unwrap_err(),
        JidError::ForbiddenCharInLocal { ch: '＜' }
    );
    // The resource is not width-mapped, so the same character is fine there.
    assert!(Jid::parse("alice@example.com/＠home").is_ok());
}

#[test]
fn canonical_that_would_be_too_long_is_refused() {
    let local: String = std::iter::repeat_n('İ', 342).collect();
    assert_eq!(local.len(), 684);
    assert_eq!(
        Jid::new(Some(&local), "example.com", None).unwrap_err(),
        JidError::LocalTooLong
    );
    let fits: String = std::iter::repeat_n('İ', 341).collect();
    let jid = Jid::new(Some(&fits), "example.com", None).unwrap();
    assert_eq!(jid.canonical().local().map(str::len), Some(1023));
}
