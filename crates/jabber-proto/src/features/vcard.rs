//! vCards, `vcard-temp` (XEP-0054): the common fields typed, every other field kept as
//! it came, and the payloads that get and set one.
//!
//! [`Client::vcard_get`](crate::client::Client::vcard_get) and
//! [`Client::vcard_set`](crate::client::Client::vcard_set) send them; the answers come
//! back as [`ServiceEvent`](crate::client::ServiceEvent)s.

use alloc::string::String;
use alloc::vec::Vec;

use base64::Engine as _;
use base64::alphabet;
use base64::engine::DecodePaddingMode;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, STANDARD};

use crate::ns;
use crate::xml::{BuildError, Element, ElementBuilder, ElementRef};

crate::names::named_enum! {
    /// The empty marker elements that say what kind of address, number or e-mail a
    /// field holds (`<HOME/>`, `<CELL/>`, ...).
    #[non_exhaustive]
    pub enum VcardType {
        /// At home.
        Home => "HOME",
        /// At work.
        Work => "WORK",
        /// The preferred one.
        Pref => "PREF",
        /// An Internet e-mail address.
        Internet => "INTERNET",
        /// An X.400 address.
        X400 => "X400",
        /// A voice number.
        Voice => "VOICE",
        /// A fax number.
        Fax => "FAX",
        /// A pager.
        Pager => "PAGER",
        /// A messaging service.
        Msg => "MSG",
        /// A mobile phone.
        Cell => "CELL",
        /// A video phone.
        Video => "VIDEO",
        /// A bulletin board.
        Bbs => "BBS",
        /// A modem.
        Modem => "MODEM",
        /// An ISDN line.
        Isdn => "ISDN",
        /// A personal communication service.
        Pcs => "PCS",
        /// A postal address.
        Postal => "POSTAL",
        /// A parcel address.
        Parcel => "PARCEL",
        /// A domestic address.
        Dom => "DOM",
        /// An international address.
        Intl => "INTL",
    }
}

/// The structured name, `<N/>`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PersonName {
    /// `FAMILY`.
    pub family: Option<String>,
    /// `GIVEN`.
    pub given: Option<String>,
    /// `MIDDLE`.
    pub middle: Option<String>,
    /// `PREFIX` (a title).
    pub prefix: Option<String>,
    /// `SUFFIX`.
    pub suffix: Option<String>,
}

/// One `<EMAIL/>`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Email {
    /// The address (`USERID`).
    pub address: String,
    /// Its kinds (`INTERNET`, `HOME`, ...).
    pub types: Vec<VcardType>,
}

/// One `<TEL/>`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Telephone {
    /// The number (`NUMBER`).
    pub number: String,
    /// Its kinds (`CELL`, `WORK`, ...).
    pub types: Vec<VcardType>,
}

/// One `<ADR/>`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Address {
    /// Its kinds (`HOME`, `POSTAL`, ...).
    pub types: Vec<VcardType>,
    /// `POBOX`.
    pub pobox: Option<String>,
    /// `EXTADD`, the extended address.
    pub extended: Option<String>,
    /// `STREET`.
    pub street: Option<String>,
    /// `LOCALITY`, the city.
    pub locality: Option<String>,
    /// `REGION`.
    pub region: Option<String>,
    /// `PCODE`, the postal code.
    pub postal_code: Option<String>,
    /// `CTRY`, the country.
    pub country: Option<String>,
}

/// `<ORG/>`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Organization {
    /// `ORGNAME`.
    pub name: String,
    /// Each `ORGUNIT`, in order.
    pub units: Vec<String>,
}

/// `<PHOTO/>`: an image, carried or pointed to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Photo {
    /// The image itself (`TYPE` and base64 `BINVAL`).
    Binary {
        /// Its media type (`image/png`, ...).
        mime_type: Option<String>,
        /// The image's bytes, decoded.
        data: Vec<u8>,
    },
    /// Where the image is (`EXTVAL`, a URI).
    External(String),
}

/// A vCard: the common fields typed, every other field in [`other`](Self::other) as it
/// came, so that a card read, changed and written back loses nothing.
///
/// ```
/// use jabber_proto::features::vcard::{Email, Photo, Vcard, VcardType};
/// let mut card = Vcard::default();
/// card.full_name = Some("Juliet Capulet".into());
/// card.emails.push(Email { address: "juliet@example.com".into(), types: vec![VcardType::Internet] });
/// card.photo = Some(Photo::Binary { mime_type: Some("image/png".into()), data: vec![0x89, b'P'] });
/// let el = card.to_element().unwrap();
/// assert_eq!(
///     el.to_string(),
///     "<vCard xmlns='vcard-temp'><FN>Juliet Capulet</FN>\
///      <PHOTO><TYPE>image/png</TYPE><BINVAL>iVA=</BINVAL></PHOTO>\
///      <EMAIL><INTERNET/><USERID>juliet@example.com</USERID></EMAIL></vCard>"
/// );
/// assert_eq!(Vcard::from_element(el.root()), card);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Vcard {
    /// `FN`, the formatted name.
    pub full_name: Option<String>,
    /// `N`, the structured name.
    pub name: Option<PersonName>,
    /// `NICKNAME`.
    pub nickname: Option<String>,
    /// `PHOTO`.
    pub photo: Option<Photo>,
    /// `BDAY`, the birthday (ISO 8601 date, as written).
    pub birthday: Option<String>,
    /// Each `ADR`.
    pub addresses: Vec<Address>,
    /// Each `TEL`.
    pub telephones: Vec<Telephone>,
    /// Each `EMAIL`.
    pub emails: Vec<Email>,
    /// `ORG`.
    pub organization: Option<Organization>,
    /// `URL`.
    pub url: Option<String>,
    /// Every other child of `<vCard/>`, in order, untouched (a second `FN`, `TITLE`,
    /// `DESC`, a `PHOTO` whose data is not base64, ...). Written after the typed fields;
    /// an element put here that is one of the typed fields (a first `FN`, ...) reads back
    /// typed.
    pub other: Vec<Element>,
}

impl Vcard {
    /// Reads a `<vCard xmlns='vcard-temp'/>`. The first of each single field is typed;
    /// anything else, and anything that does not read as its field, is kept in
    /// [`other`](Self::other).
    pub fn from_element(card: ElementRef<'_>) -> Vcard {
        let mut v = Vcard::default();
        for child in card.children() {
            if !v.take(child) {
                v.other.push(child.to_element());
            }
        }
        v
    }

    /// Types `field` if it is a common field not already seen; false to keep it as is.
    fn take(&mut self, field: ElementRef<'_>) -> bool {
        if field.ns() != ns::VCARD {
            return false;
        }
        let text = |slot: &mut Option<String>| {
            if slot.is_some() {
                return false;
            }
            *slot = Some(field.text().into_owned());
            true
        };
        match field.name() {
            "FN" => text(&mut self.full_name),
            "NICKNAME" => text(&mut self.nickname),
            "BDAY" => text(&mut self.birthday),
            "URL" => text(&mut self.url),
            "N" if self.name.is_none() => {
                self.name = Some(PersonName {
                    family: sub_text(field, "FAMILY"),
                    given: sub_text(field, "GIVEN"),
                    middle: sub_text(field, "MIDDLE"),
                    prefix: sub_text(field, "PREFIX"),
                    suffix: sub_text(field, "SUFFIX"),
                });
                true
            }
            "ORG" if self.organization.is_none() => {
                self.organization = Some(Organization {
                    name: sub_text(field, "ORGNAME").unwrap_or_default(),
                    units: field
                        .children()
                        .filter(|c| c.is("ORGUNIT", ns::VCARD))
                        .map(|c| c.text().into_owned())
                        .collect(),
                });
                true
            }
            "EMAIL" => {
                self.emails.push(Email {
                    address: sub_text(field, "USERID").unwrap_or_default(),
                    types: types_of(field),
                });
                true
            }
            "TEL" => {
                self.telephones.push(Telephone {
                    number: sub_text(field, "NUMBER").unwrap_or_default(),
                    types: types_of(field),
                });
                true
            }
            "ADR" => {
                self.addresses.push(Address {
                    types: types_of(field),
                    pobox: sub_text(field, "POBOX"),
                    extended: sub_text(field, "EXTADD"),
                    street: sub_text(field, "STREET"),
                    locality: sub_text(field, "LOCALITY"),
                    region: sub_text(field, "REGION"),
                    postal_code: sub_text(field, "PCODE"),
                    country: sub_text(field, "CTRY"),
                });
                true
            }
            "PHOTO" if self.photo.is_none() => {
                self.photo = photo(field);
                self.photo.is_some()
            }
            _ => false,
        }
    }

    /// The `<vCard xmlns='vcard-temp'/>` element: the typed fields in XEP-0054's order,
    /// then [`other`](Self::other). Fails for a value XML cannot carry.
    pub fn to_element(&self) -> Result<Element, BuildError> {
        let mut b = Element::builder("vCard", ns::VCARD);
        b = opt_text(b, "FN", &self.full_name);
        if let Some(n) = &self.name {
            let mut el = field("N");
            el = opt_text(el, "FAMILY", &n.family);
            el = opt_text(el, "GIVEN", &n.given);
            el = opt_text(el, "MIDDLE", &n.middle);
            el = opt_text(el, "PREFIX", &n.prefix);
            el = opt_text(el, "SUFFIX", &n.suffix);
            b = b.child(el);
        }
        b = opt_text(b, "NICKNAME", &self.nickname);
        if let Some(photo) = &self.photo {
            let el = match photo {
                Photo::Binary { mime_type, data } => opt_text(field("PHOTO"), "TYPE", mime_type)
                    .child(field("BINVAL").text(&STANDARD.encode(data))),
                Photo::External(uri) => field("PHOTO").child(field("EXTVAL").text(uri)),
            };
            b = b.child(el);
        }
        b = opt_text(b, "BDAY", &self.birthday);
        for a in &self.addresses {
            let mut el = with_types(field("ADR"), &a.types);
            el = opt_text(el, "POBOX", &a.pobox);
            el = opt_text(el, "EXTADD", &a.extended);
            el = opt_text(el, "STREET", &a.street);
            el = opt_text(el, "LOCALITY", &a.locality);
            el = opt_text(el, "REGION", &a.region);
            el = opt_text(el, "PCODE", &a.postal_code);
            el = opt_text(el, "CTRY", &a.country);
            b = b.child(el);
        }
        for t in &self.telephones {
            let el = with_types(field("TEL"), &t.types).child(field("NUMBER").text(&t.number));
            b = b.child(el);
        }
        for e in &self.emails {
            let el = with_types(field("EMAIL"), &e.types).child(field("USERID").text(&e.address));
            b = b.child(el);
        }
        if let Some(org) = &self.organization {
            let mut el = field("ORG").child(field("ORGNAME").text(&org.name));
            for unit in &org.units {
                el = el.child(field("ORGUNIT").text(unit));
            }
            b = b.child(el);
        }
        b = opt_text(b, "URL", &self.url);
        b.children(self.other.iter()).build()
    }
}

/// The payload asking for a vCard: `<vCard xmlns='vcard-temp'/>`.
pub fn get_query() -> Result<Element, BuildError> {
    Element::builder("vCard", ns::VCARD).build()
}

/// The vCard an IQ result carries; an empty one when it carries none (XEP-0054 §3.1: a
/// server may answer with an empty `<vCard/>`, or with nothing, for a user without one).
pub fn from_result(payload: Option<ElementRef<'_>>) -> Vcard {
    payload
        .filter(|p| p.is("vCard", ns::VCARD))
        .map(Vcard::from_element)
        .unwrap_or_default()
}

/// What we read: padded or not, stray low bits allowed, as clients of every age wrote
/// it. What we write is standard, padded base64.
const LENIENT: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_decode_padding_mode(DecodePaddingMode::Indifferent)
        .with_decode_allow_trailing_bits(true),
);

fn field(name: &str) -> ElementBuilder {
    Element::builder(name, ns::VCARD)
}

fn opt_text(b: ElementBuilder, name: &str, value: &Option<String>) -> ElementBuilder {
    match value {
        Some(v) => b.child(field(name).text(v)),
        None => b,
    }
}

fn with_types(mut b: ElementBuilder, types: &[VcardType]) -> ElementBuilder {
    for t in types {
        b = b.child(field(t.as_str()));
    }
    b
}

fn sub_text(el: ElementRef<'_>, name: &str) -> Option<String> {
    el.child(name, ns::VCARD).map(|c| c.text().into_owned())
}

fn types_of(el: ElementRef<'_>) -> Vec<VcardType> {
    el.children()
        .filter(|c| c.ns() == ns::VCARD)
        .filter_map(|c| VcardType::from_name(c.name()))
        .collect()
}

/// A photo that reads: base64 data (line breaks and spaces, which MIME-style encoders
/// insert, are skipped) or an external URI. `None` keeps the element untyped.
fn photo(el: ElementRef<'_>) -> Option<Photo> {
    if let Some(binval) = el.child("BINVAL", ns::VCARD) {
        let text = binval.text();
        let compact: Vec<u8> = text.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
        let data = LENIENT.decode(compact).ok()?;
        return Some(Photo::Binary {
            mime_type: sub_text(el, "TYPE"),
            data,
        });
    }
    sub_text(el, "EXTVAL").map(Photo::External)
}
