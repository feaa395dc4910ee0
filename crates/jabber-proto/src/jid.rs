//! XMPP addresses (JIDs) as defined by RFC 7622.
//!
//! A JID has the form `[localpart@]domainpart[/resourcepart]`. Two types are
//! provided:
//!
//! * [`Jid`] owns its text in a single `String` and records where the parts
//!   start, so every accessor is a slice and never allocates.
//! * [`JidRef`] is a validated view over borrowed text. Parsing it does not
//!   allocate, which makes it the right tool for reading the `from` and `to`
//!   attributes of incoming stanzas; convert it with [`JidRef::to_owned_jid`]
//!   only when the address has to outlive the input buffer.
//!
//! # Structure
//!
//! Following RFC 7622 §3.1 the *first* `/` starts the resourcepart, which may
//! itself contain `@` and `/`; the first `@` before that ends the localpart.
//! One trailing dot is removed from the domainpart (RFC 7622 §3.2), so
//! `example.com.` and `example.com` name the same domain.
//!
//! # Validation
//!
//! RFC 7622 prepares and enforces each part with PRECIS profiles
//! (UsernameCaseMapped for the localpart, OpaqueString for the resourcepart)
//! and the domainpart with IDNA2008. The full profiles need Unicode property
//! and normalisation tables, which are out of scope for this `no_std` core,
//! so only the structural rules, the characters that no profile allows and
//! the mappings described under [Canonical form](#canonical-form) are
//! applied here; full enforcement is left to the server.
//!
//! * Every part that is present is 1 to 1023 bytes long: `@example.com`
//!   (empty localpart) and `user@example.com/` (empty resourcepart) are
//!   errors. The localpart and domainpart are held to the limit both as
//!   written and in canonical form, which lowercasing can make longer
//!   (`İ`, two bytes, becomes `i` and U+0307, three bytes).
//! * No part contains a control character, U+FFFE or U+FFFF. Beyond being
//!   disallowed by PRECIS, these are characters an XML document cannot carry.
//! * The localpart contains none of `" & ' / : < > @` (RFC 7622 §3.3.1) and no
//!   whitespace (excluded by the PRECIS IdentifierClass). Width mapping comes
//!   first, as in the profile, so their fullwidth forms (`＠`, `／`, ...) and
//!   U+3000 IDEOGRAPHIC SPACE are refused too.
//! * The domainpart is either an IPv6 literal in brackets such as `[::1]`, or
//!   a dot separated list of non-empty labels. In labels, ASCII is limited to
//!   letters, digits, `-` and `_`; a label that is all ASCII, as written or
//!   once lowercased (U+212A KELVIN SIGN becomes `k`), is at most 63 bytes,
//!   the DNS limit. Non-ASCII characters are allowed except whitespace and
//!   the alternative full stops U+3002, U+FF0E and U+FF61, which IDNA2008
//!   disallows and which would otherwise make label boundaries ambiguous. An
//!   IPv4 address such as `127.0.0.1` passes as ordinary labels.
//! * The resourcepart may contain spaces and any other non-control character
//!   (OpaqueString).
//!
//! # Canonical form
//!
//! The canonical form of a JID is what [`Jid::canonical`] returns and what
//! comparisons look at. It maps each part character by character:
//!
//! * **Localpart**, the mapping steps of UsernameCaseMapped (RFC 8265 §3.3,
//!   RFC 7622 §3.3) that need no tables beyond `core`:
//!   1. *Width mapping*: every character with a `<wide>` or `<narrow>`
//!      decomposition is replaced by it, which covers U+3000 and the whole
//!      Halfwidth and Fullwidth Forms block: U+FF01–U+FF5E become ASCII
//!      U+0021–U+007E (`ａ` is `a`), halfwidth Katakana, Hangul, symbols and
//!      punctuation become their ordinary forms (`ｶ` is `カ`).
//!   2. *Case mapping*: [`char::to_lowercase`], the full, locale-independent
//!      lowercase mapping (so `İ` becomes `i` followed by U+0307). The
//!      context-dependent Final_Sigma rule of Unicode's `toLowerCase()` is
//!      not applied: `Σ` always becomes `σ`, never `ς`.
//!
//!   Not applied: *normalisation* (NFC) and the *directionality* rule, nor
//!   the check that every character is in the PRECIS IdentifierClass. A
//!   localpart that is not in NFC therefore stays as given and compares
//!   unequal to its NFC form: `e` + U+0301 is not `é`, and halfwidth `ｶﾞ`
//!   maps to `カ` + U+3099 rather than to `ガ`. Servers send prepared, hence
//!   NFC, addresses, so this matters mostly for text typed by users.
//! * **Domainpart**: [`char::to_lowercase`] (ASCII letters and any other
//!   cased letter), without the trailing dot. No IDNA mapping or Punycode
//!   conversion.
//! * **Resourcepart**: unchanged; OpaqueString does no case mapping.
//!
//! Mapping twice gives the same result as mapping once, and the canonical
//! form of a valid JID is itself a valid JID.
//!
//! # Comparison
//!
//! Equality, ordering and hashing compare the canonical forms, without
//! building them: the localpart and domainpart compare character by
//! character through the mappings above, and the resourcepart exactly. So
//! `Alice@Example.com/Res`, `alice@example.com/Res` and
//! `ａｌｉｃｅ@example.com/Res` are all equal, but none of them equals
//! `alice@example.com/res`. Two JIDs are equal exactly when their canonical
//! texts are. [`Jid`] and [`JidRef`] compare with each other by the same rule.
//!
//! Ordering is by domainpart, then localpart (none before any), then
//! resourcepart (none before any), each by the code points of its canonical
//! form: a total order that agrees with equality, and groups addresses by
//! server with a bare JID ahead of its full JIDs.
//!
//! # Example
//!
//! ```
//! use jabber_proto::jid::{Jid, JidRef};
//!
//! let jid: Jid = "juliet@Example.COM./balcony".parse()?;
//! assert_eq!(jid.local(), Some("juliet"));
//! assert_eq!(jid.domain(), "Example.COM");
//! assert_eq!(jid.resource(), Some("balcony"));
//! assert_eq!(jid.to_string(), "juliet@Example.COM/balcony");
//!
//! // Domains compare case-insensitively; the bare JID drops the resource.
//! let bare = JidRef::parse("juliet@example.com")?;
//! assert_eq!(jid.to_bare(), bare);
//! assert!(jid.is_full() && bare.is_bare());
//!
//! // Localparts compare by their canonical form too; resources exactly.
//! let romeo = Jid::parse("Romeo@Example.COM/Orchard")?;
//! assert_eq!(romeo, JidRef::parse("romeo@example.com/Orchard")?);
//! assert_ne!(romeo, JidRef::parse("romeo@example.com/orchard")?);
//! assert_eq!(romeo.canonical().as_str(), "romeo@example.com/Orchard");
//!
//! // The first '/' starts the resource, which may contain '@' and '/'.
//! let odd = Jid::parse("example.com/a@b/c")?;
//! assert_eq!((odd.local(), odd.resource()), (None, Some("a@b/c")));
//!
//! assert!(Jid::parse("@example.com").is_err());
//! # Ok::<(), jabber_proto::jid::JidError>(())
//! ```

use alloc::borrow::Cow;
use alloc::string::String;
use core::cmp::Ordering;
use core::fmt;
use core::hash::{Hash, Hasher};
use core::str::FromStr;

/// Longest allowed part, in bytes (RFC 7622 §3.2, §3.3, §3.4).
const MAX_PART_LEN: usize = 1023;

/// Longest all-ASCII domain label, in bytes (RFC 1035 §2.3.4).
const MAX_LABEL_LEN: usize = 63;

/// Longest part whose canonical form is sure to fit in [`MAX_PART_LEN`]:
/// mapping a character at most multiplies its UTF-8 length by 3/2 (`İ`, two
/// bytes, lowercases to three), as a test checks for every character.
const MAX_UNMAPPED_LEN: usize = MAX_PART_LEN * 2 / 3;

/// Why a string is not a valid JID.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum JidError {
    /// An `@` is present but nothing precedes it.
    EmptyLocal,
    /// The domainpart is empty (after removing a trailing dot).
    EmptyDomain,
    /// A `/` is present but nothing follows it.
    EmptyResource,
    /// The localpart, as written or in canonical form, is longer than 1023
    /// bytes.
    LocalTooLong,
    /// The domainpart, as written or in canonical form, is longer than 1023
    /// bytes.
    DomainTooLong,
    /// The resourcepart is longer than 1023 bytes.
    ResourceTooLong,
    /// The localpart contains a character it must not contain, itself or
    /// once width-mapped (fullwidth `＠` is refused like `@`).
    ForbiddenCharInLocal {
        /// The first offending character, as written.
        ch: char,
    },
    /// The domainpart contains a character it must not contain.
    ForbiddenCharInDomain {
        /// The first offending character.
        ch: char,
    },
    /// The resourcepart contains a character it must not contain.
    ForbiddenCharInResource {
        /// The first offending character.
        ch: char,
    },
    /// The domainpart has an empty label, as in `a..b` or `.a`.
    EmptyDomainLabel,
    /// An ASCII label of the domainpart, as written or once lowercased, is
    /// longer than 63 bytes.
    DomainLabelTooLong,
    /// The domainpart starts with `[` but is not a bracketed IPv6 address.
    InvalidIpLiteral,
}

impl fmt::Display for JidError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::EmptyLocal => f.write_str("JID localpart is empty"),
            Self::EmptyDomain => f.write_str("JID domainpart is empty"),
            Self::EmptyResource => f.write_str("JID resourcepart is empty"),
            Self::LocalTooLong => f.write_str("JID localpart is longer than 1023 bytes"),
            Self::DomainTooLong => f.write_str("JID domainpart is longer than 1023 bytes"),
            Self::ResourceTooLong => f.write_str("JID resourcepart is longer than 1023 bytes"),
            Self::ForbiddenCharInLocal { ch } => {
                write!(f, "JID localpart contains forbidden character {ch:?}")
            }
            Self::ForbiddenCharInDomain { ch } => {
                write!(f, "JID domainpart contains forbidden character {ch:?}")
            }
            Self::ForbiddenCharInResource { ch } => {
                write!(f, "JID resourcepart contains forbidden character {ch:?}")
            }
            Self::EmptyDomainLabel => f.write_str("JID domainpart has an empty label"),
            Self::DomainLabelTooLong => {
                f.write_str("JID domainpart has a label longer than 63 bytes")
            }
            Self::InvalidIpLiteral => f.write_str("JID domainpart is not a valid IPv6 literal"),
        }
    }
}

impl core::error::Error for JidError {}

/// An owned, validated JID.
///
/// The text is kept as written apart from a trailing domain dot, which is
/// removed; that is what [`as_str`](Self::as_str) and `Display` return, and
/// [`canonical`](Self::canonical) gives the case-mapped form. See the
/// [module documentation](self) for the validation and comparison rules.
#[derive(Clone)]
pub struct Jid {
    text: String,
    /// Byte index of the `@` ending the localpart.
    at: Option<u16>,
    /// Byte index of the `/` starting the resourcepart.
    slash: Option<u16>,
}

/// A validated JID borrowing its text.
///
/// Unlike [`Jid`], [`as_str`](Self::as_str) returns the text exactly as it
/// was parsed, which may still carry the trailing domain dot that the
/// accessors, comparisons and `Display` leave out.
#[derive(Clone, Copy)]
pub struct JidRef<'a> {
    text: &'a str,
    layout: Layout,
}

/// Where the parts of a validated JID lie in its text.
///
/// Indices fit in `u16` because each part is at most 1023 bytes long, which
/// keeps `Jid` as small as a `String` plus one word.
#[derive(Clone, Copy)]
struct Layout {
    /// Byte index of the `@` ending the localpart.
    at: Option<u16>,
    /// Byte index just past the domainpart, before any stripped trailing dot.
    domain_end: u16,
    /// Byte index of the `/` starting the resourcepart.
    slash: Option<u16>,
}

impl Layout {
    fn local<'s>(&self, text: &'s str) -> Option<&'s str> {
        self.at.map(|at| &text[..usize::from(at)])
    }

    fn domain<'s>(&self, text: &'s str) -> &'s str {
        let start = self.at.map_or(0, |at| usize::from(at) + 1);
        &text[start..usize::from(self.domain_end)]
    }

    fn resource<'s>(&self, text: &'s str) -> Option<&'s str> {
        self.slash.map(|slash| &text[usize::from(slash) + 1..])
    }

    /// Whether a trailing domain dot sits between the domainpart and the
    /// resource (or the end of the text).
    fn has_stripped_dot(&self, text: &str) -> bool {
        let domain_region_end = self.slash.map_or(text.len(), usize::from);
        usize::from(self.domain_end) != domain_region_end
    }
}

/// Converts an index already bounded by the part length checks.
fn index(i: usize) -> u16 {
    // Every index lies within localpart + '@' + domainpart + '.', i.e. at
    // most 2048, so this never saturates; saturating keeps it panic-free.
    u16::try_from(i).unwrap_or(u16::MAX)
}

/// Splits and validates `text`, the single source of truth for both types.
fn parse_layout(text: &str) -> Result<Layout, JidError> {
    match ascii_layout(text) {
        Some(layout) => Ok(layout),
        None => full_layout(text),
    }
}

/// The common address in one pass over its bytes: a localpart (non-ASCII ones get
/// [`check_local`] of their own), a host name that takes the fast path of
/// [`ascii_host`], no trailing dot, a printable ASCII resource. Whatever else (including
/// every error) is `None`, for [`full_layout`] to judge; what this accepts, `full_layout` accepts with the same
/// layout (a property test checks it).
fn ascii_layout(text: &str) -> Option<Layout> {
    let bytes = text.as_bytes();
    let mut at = None;
    // The domain label being read, and whether the domain so far is a host name.
    let mut label = 0;
    let mut host = true;
    let mut end = bytes.len();
    // A non-ASCII byte before any `@`: the localpart needs its full check.
    let mut local_unicode = false;
    for (i, &b) in bytes.iter().enumerate() {
        match ASCII_CLASS[usize::from(b)] {
            HOST_AND_LOCAL => label += 1,
            DOT => {
                host &= label != 0 && label <= MAX_LABEL_LEN;
                label = 0;
            }
            LOCAL_ONLY => host = false,
            // Before the first `@` every byte was allowed in a localpart; the domain
            // starts over after it.
            _ if b == b'@' && at.is_none() => {
                at = Some(i);
                label = 0;
                host = true;
            }
            _ if b == b'/' => {
                end = i;
                break;
            }
            // UTF-8 never has `@` or `/` inside a character, so the split stands.
            _ if b >= 0x80 && at.is_none() => {
                local_unicode = true;
                host = false;
            }
            _ => return None,
        }
    }
    let domain_start = at.map_or(0, |at| at + 1);
    let local_ok = at.is_none_or(|at| at != 0 && at <= MAX_PART_LEN);
    let domain_ok = host && label != 0 && label <= MAX_LABEL_LEN;
    if !(local_ok && domain_ok && end - domain_start <= MAX_PART_LEN) {
        return None;
    }
    if local_unicode {
        // Only with an `@`: without one, `host` is false and we returned above.
        check_local(text.get(..at?)?).ok()?;
    }
    let slash = if end < bytes.len() {
        let resource = &bytes[end + 1..];
        let printable = resource.iter().all(|b| (0x20..0x7F).contains(b));
        if resource.is_empty() || resource.len() > MAX_PART_LEN || !printable {
            return None;
        }
        Some(index(end))
    } else {
        None
    };
    Some(Layout {
        at: at.map(index),
        domain_end: index(end),
        slash,
    })
}

/// [`parse_layout`] for any text: part by part, saying what is wrong.
fn full_layout(text: &str) -> Result<Layout, JidError> {
    let (head, resource) = match memchr::memchr(b'/', text.as_bytes()) {
        Some(slash) => (&text[..slash], Some(&text[slash + 1..])),
        None => (text, None),
    };
    let (local, domain) = match memchr::memchr(b'@', head.as_bytes()) {
        Some(at) => (Some(&head[..at]), &head[at + 1..]),
        None => (None, head),
    };
    if let Some(local) = local {
        check_local(local)?;
    }
    let stripped = check_domain(domain)?;
    if let Some(resource) = resource {
        check_resource(resource)?;
    }

    let domain_start = local.map_or(0, |local| local.len() + 1);
    Ok(Layout {
        at: local.map(|local| index(local.len())),
        domain_end: index(domain_start + stripped.len()),
        slash: resource.map(|_| index(head.len())),
    })
}

/// Characters forbidden in every part: controls, which no PRECIS class
/// allows, and U+FFFE/U+FFFF, which an XML 1.0 document cannot carry at all.
fn is_forbidden_everywhere(ch: char) -> bool {
    ch.is_control() || ch == '\u{FFFE}' || ch == '\u{FFFF}'
}

/// Characters the localpart must not hold once width-mapped.
fn is_forbidden_in_local(ch: char) -> bool {
    is_forbidden_everywhere(ch)
        || ch.is_whitespace()
        || matches!(ch, '"' | '&' | '\'' | '/' | ':' | '<' | '>' | '@')
}

fn check_local(local: &str) -> Result<(), JidError> {
    if local.is_empty() {
        return Err(JidError::EmptyLocal);
    }
    if local.len() > MAX_PART_LEN {
        return Err(JidError::LocalTooLong);
    }
    // Fast path: most localparts are ASCII letters, digits and punctuation,
    // which no mapping makes longer or forbidden.
    if local.bytes().all(|b| ASCII_CLASS[usize::from(b)] != OTHER) {
        return Ok(());
    }
    // UsernameCaseMapped width-maps before checking, so '＠' is as bad as '@';
    // the error names the character as written, which is what the caller has.
    if let Some(ch) = local
        .chars()
        .find(|&ch| is_forbidden_in_local(width_map(ch)))
    {
        return Err(JidError::ForbiddenCharInLocal { ch });
    }
    if local.len() > MAX_UNMAPPED_LEN && mapped_len(local_chars(local)) > MAX_PART_LEN {
        return Err(JidError::LocalTooLong);
    }
    Ok(())
}

/// Validates a domainpart and returns it without its trailing dot.
fn check_domain(domain: &str) -> Result<&str, JidError> {
    let domain = domain.strip_suffix('.').unwrap_or(domain);
    if domain.is_empty() {
        return Err(JidError::EmptyDomain);
    }
    if domain.len() > MAX_PART_LEN {
        return Err(JidError::DomainTooLong);
    }
    if let Some(literal) = domain.strip_prefix('[') {
        // RFC 7622 §3.2 allows the IP-literal of RFC 3986, which in
        // practice means IPv6; zone identifiers are not part of it.
        return match literal.strip_suffix(']') {
            Some(addr) if addr.parse::<core::net::Ipv6Addr>().is_ok() => Ok(domain),
            _ => Err(JidError::InvalidIpLiteral),
        };
    }
    if ascii_host(domain) {
        return Ok(domain);
    }
    for label in domain.split('.') {
        check_label(label)?;
    }
    if domain.len() > MAX_UNMAPPED_LEN && mapped_len(domain_chars(domain)) > MAX_PART_LEN {
        return Err(JidError::DomainTooLong);
    }
    Ok(domain)
}

/// One pass over the common case: an ASCII host name whose labels are all non-empty and
/// short enough. Anything else takes the label-by-label path, which says what is wrong.
fn ascii_host(domain: &str) -> bool {
    // One table lookup per byte; label lengths are checked at each dot and at the end.
    let mut label = 0;
    for &b in domain.as_bytes() {
        match ASCII_CLASS[usize::from(b)] {
            HOST_AND_LOCAL => label += 1,
            DOT => {
                if label == 0 || label > MAX_LABEL_LEN {
                    return false;
                }
                label = 0;
            }
            _ => return false,
        }
    }
    label > 0 && label <= MAX_LABEL_LEN
}

/// [`ASCII_CLASS`] values: no fast path for the byte; a host name's letter, digit,
/// `-` or `_` (also fine in a localpart); `.` (fine in both); a byte allowed as is in a
/// localpart only.
const OTHER: u8 = 0;
const HOST_AND_LOCAL: u8 = 1;
const DOT: u8 = 2;
const LOCAL_ONLY: u8 = 3;

/// How the fast paths of [`ascii_host`] and [`check_local`] see each byte.
static ASCII_CLASS: [u8; 256] = ascii_classes();

const fn ascii_classes() -> [u8; 256] {
    let mut t = [OTHER; 256];
    let mut b = 0x21;
    while b < 0x7F {
        t[b] = match b as u8 {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' => HOST_AND_LOCAL,
            b'.' => DOT,
            b'"' | b'&' | b'\'' | b'/' | b':' | b'<' | b'>' | b'@' => OTHER,
            _ => LOCAL_ONLY,
        };
        b += 1;
    }
    t
}

fn check_label(label: &str) -> Result<(), JidError> {
    if label.is_empty() {
        return Err(JidError::EmptyDomainLabel);
    }
    if label.len() <= MAX_LABEL_LEN
        && label
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Ok(());
    }
    for ch in label.chars() {
        let allowed = if ch.is_ascii() {
            // Underscores are not valid in host names but do occur in
            // deployed component addresses, and they are harmless here.
            ch.is_ascii_alphanumeric() || ch == '-' || ch == '_'
        } else {
            !(is_forbidden_everywhere(ch)
                || ch.is_whitespace()
                || matches!(ch, '\u{3002}' | '\u{FF0E}' | '\u{FF61}'))
        };
        if !allowed {
            return Err(JidError::ForbiddenCharInDomain { ch });
        }
    }
    // A non-ASCII label's DNS length is that of its Punycode form, which
    // cannot be judged from the UTF-8 length, so only ASCII labels are held
    // to the limit; the canonical form is too, since lowercasing can turn a
    // non-ASCII label into ASCII (KELVIN SIGN) but never makes it longer.
    if label.len() > MAX_LABEL_LEN
        && domain_chars(label).all(|ch| ch.is_ascii())
        && domain_chars(label).count() > MAX_LABEL_LEN
    {
        return Err(JidError::DomainLabelTooLong);
    }
    Ok(())
}

fn check_resource(resource: &str) -> Result<(), JidError> {
    if resource.is_empty() {
        return Err(JidError::EmptyResource);
    }
    if resource.len() > MAX_PART_LEN {
        return Err(JidError::ResourceTooLong);
    }
    if resource.bytes().all(|b| (0x20..0x7F).contains(&b)) {
        return Ok(());
    }
    match resource.chars().find(|&ch| is_forbidden_everywhere(ch)) {
        Some(ch) => Err(JidError::ForbiddenCharInResource { ch }),
        None => Ok(()),
    }
}

/// Replaces a fullwidth or halfwidth character by its `<wide>` or `<narrow>`
/// decomposition, the PRECIS width mapping rule (RFC 8265 §3.3); any other
/// character is returned as it is.
///
/// These are all such decompositions in Unicode: U+3000 and the Halfwidth
/// and Fullwidth Forms block, each mapping to a single character.
fn width_map(ch: char) -> char {
    let cp = u32::from(ch);
    if cp < 0x3000 {
        return ch;
    }
    let mapped = match cp {
        0x3000 => 0x20,
        // Fullwidth ASCII, in the same order.
        0xFF01..=0xFF5E => cp - 0xFF01 + 0x21,
        0xFF5F => 0x2985,
        0xFF60 => 0x2986,
        0xFF61 => 0x3002,
        0xFF62 => 0x300C,
        0xFF63 => 0x300D,
        0xFF64 => 0x3001,
        0xFF65 => 0x30FB,
        0xFF66..=0xFF9D => {
            let i = usize::try_from(cp - 0xFF66).unwrap_or(usize::MAX);
            KATAKANA.get(i).map_or(cp, |&low| 0x3000 + u32::from(low))
        }
        0xFF9E => 0x3099,
        0xFF9F => 0x309A,
        // Halfwidth Hangul: the filler, then runs of compatibility jamo in
        // order, with gaps in the halfwidth block between the vowel rows.
        0xFFA0 => 0x3164,
        0xFFA1..=0xFFBE => cp - 0xFFA1 + 0x3131,
        0xFFC2..=0xFFC7 => cp - 0xFFC2 + 0x314F,
        0xFFCA..=0xFFCF => cp - 0xFFCA + 0x3155,
        0xFFD2..=0xFFD7 => cp - 0xFFD2 + 0x315B,
        0xFFDA..=0xFFDC => cp - 0xFFDA + 0x3161,
        0xFFE0 => 0xA2,
        0xFFE1 => 0xA3,
        0xFFE2 => 0xAC,
        0xFFE3 => 0xAF,
        0xFFE4 => 0xA6,
        0xFFE5 => 0xA5,
        0xFFE6 => 0x20A9,
        0xFFE8 => 0x2502,
        0xFFE9..=0xFFEC => cp - 0xFFE9 + 0x2190,
        0xFFED => 0x25A0,
        0xFFEE => 0x25CB,
        _ => return ch,
    };
    char::from_u32(mapped).unwrap_or(ch)
}

/// Low bytes of the Katakana (U+30xx) that U+FF66–U+FF9D stand for; the
/// halfwidth block follows the order of the kana syllabary, not the
/// Katakana block's.
const KATAKANA: [u8; 56] = [
    0xF2, // ヲ
    0xA1, 0xA3, 0xA5, 0xA7, 0xA9, // small ァィゥェォ
    0xE3, 0xE5, 0xE7, 0xC3, // small ャュョッ
    0xFC, // ー
    0xA2, 0xA4, 0xA6, 0xA8, 0xAA, // アイウエオ
    0xAB, 0xAD, 0xAF, 0xB1, 0xB3, // カキクケコ
    0xB5, 0xB7, 0xB9, 0xBB, 0xBD, // サシスセソ
    0xBF, 0xC1, 0xC4, 0xC6, 0xC8, // タチツテト
    0xCA, 0xCB, 0xCC, 0xCD, 0xCE, // ナニヌネノ
    0xCF, 0xD2, 0xD5, 0xD8, 0xDB, // ハヒフヘホ
    0xDE, 0xDF, 0xE0, 0xE1, 0xE2, // マミムメモ
    0xE4, 0xE6, 0xE8, // ヤユヨ
    0xE9, 0xEA, 0xEB, 0xEC, 0xED, // ラリルレロ
    0xEF, 0xF3, // ワン
];

/// The canonical characters of a localpart: width mapping, then lowercase.
fn local_chars(local: &str) -> impl Iterator<Item = char> + '_ {
    local.chars().map(width_map).flat_map(char::to_lowercase)
}

/// The canonical characters of a domainpart.
fn domain_chars(domain: &str) -> impl Iterator<Item = char> + '_ {
    domain.chars().flat_map(char::to_lowercase)
}

fn mapped_len(chars: impl Iterator<Item = char>) -> usize {
    chars.map(char::len_utf8).sum()
}

/// Length of the longest common prefix of `a` and `b` made of whole characters that
/// are the same bytes, or ASCII letters equal up to case. Both mappings work char by
/// char and act on ASCII as ASCII lowercasing, so this prefix is equal in canonical
/// form and only the rest needs the char-wise path.
fn canon_prefix(a: &str, b: &str) -> usize {
    // The same text (a map search ends on it; keys often share their domain): one
    // `memcmp`.
    if a == b {
        return a.len();
    }
    let (x, y) = (a.as_bytes(), b.as_bytes());
    let mut p = 0;
    while let (Some(&c), Some(&d)) = (x.get(p), y.get(p)) {
        if c != d && !(c.is_ascii() && c.eq_ignore_ascii_case(&d)) {
            break;
        }
        p += 1;
    }
    // A multi-byte character shared only in part is not shared: back to its start. Up
    // to `p` both texts have the same characters, so the boundary is the same in both.
    while !a.is_char_boundary(p) {
        p -= 1;
    }
    p
}

/// How the rests of `a` and `b` after their [`canon_prefix`] `p` compare, when their
/// first bytes alone decide: `None` when a non-ASCII character needs the char-wise path.
/// No character maps to nothing, so a text that goes on is the greater.
fn canon_rest_cmp(a: &str, b: &str, p: usize) -> Option<Ordering> {
    match (a.as_bytes().get(p), b.as_bytes().get(p)) {
        (None, None) => Some(Ordering::Equal),
        (None, Some(_)) => Some(Ordering::Less),
        (Some(_), None) => Some(Ordering::Greater),
        // Two ASCII characters that differ up to case: their lowercase forms decide.
        (Some(x), Some(y)) if x.is_ascii() && y.is_ascii() => {
            Some(x.to_ascii_lowercase().cmp(&y.to_ascii_lowercase()))
        }
        _ => None,
    }
}

/// Whether `a` and `b` map to the same characters under `canon`.
fn canon_eq<'s, I>(a: &'s str, b: &'s str, canon: impl Fn(&'s str) -> I) -> bool
where
    I: Iterator<Item = char>,
{
    let p = canon_prefix(a, b);
    match canon_rest_cmp(a, b, p) {
        Some(order) => order == Ordering::Equal,
        None => canon(&a[p..]).eq(canon(&b[p..])),
    }
}

/// Orders `a` and `b` by the characters they map to under `canon`.
fn canon_cmp<'s, I>(a: &'s str, b: &'s str, canon: impl Fn(&'s str) -> I) -> Ordering
where
    I: Iterator<Item = char>,
{
    let p = canon_prefix(a, b);
    canon_rest_cmp(a, b, p).unwrap_or_else(|| canon(&a[p..]).cmp(canon(&b[p..])))
}

/// Whether `part` already is what `canon` maps it to.
fn is_canon<'s, I>(part: &'s str, canon: impl Fn(&'s str) -> I) -> bool
where
    I: Iterator<Item = char>,
{
    part.bytes()
        .all(|b| b.is_ascii() && !b.is_ascii_uppercase())
        || canon(part).eq(part.chars())
}

/// The length of the all-ASCII start of `part`: the fast path of canonical forms
/// (ASCII needs only lowercasing).
fn ascii_len(part: &str) -> usize {
    part.bytes()
        .position(|b| !b.is_ascii())
        .unwrap_or(part.len())
}

/// Appends the canonical form of `part` to `text`.
fn push_canon<'s, I>(text: &mut String, part: &'s str, canon: impl Fn(&'s str) -> I)
where
    I: Iterator<Item = char>,
{
    let ascii = ascii_len(part);
    let start = text.len();
    text.push_str(&part[..ascii]);
    text[start..].make_ascii_lowercase();
    text.extend(canon(&part[ascii..]));
}

/// Feeds a hasher the UTF-8 bytes of a canonical form without building it.
///
/// `Hasher` does not promise that split writes hash like one, so the bytes go
/// out in 64-byte chunks fixed by their position in the canonical text: equal
/// canonical texts then make identical calls, however they were written.
struct CanonHasher<'h, H: Hasher> {
    state: &'h mut H,
    buf: [u8; 64],
    len: usize,
}

impl<'h, H: Hasher> CanonHasher<'h, H> {
    fn new(state: &'h mut H) -> Self {
        Self {
            state,
            buf: [0; 64],
            len: 0,
        }
    }

    fn push(&mut self, byte: u8) {
        if self.len == self.buf.len() {
            self.state.write(&self.buf);
            self.len = 0;
        }
        self.buf[self.len] = byte;
        self.len += 1;
    }

    fn push_part<'s, I>(&mut self, part: &'s str, canon: impl Fn(&'s str) -> I)
    where
        I: Iterator<Item = char>,
    {
        let ascii = ascii_len(part);
        for b in part[..ascii].bytes() {
            self.push(b.to_ascii_lowercase());
        }
        for ch in canon(&part[ascii..]) {
            for &b in ch.encode_utf8(&mut [0; 4]).as_bytes() {
                self.push(b);
            }
        }
    }

    fn finish(self) {
        self.state.write(&self.buf[..self.len]);
        // A byte UTF-8 never contains ends the part, as `str`'s own `Hash`
        // does, so that consecutive parts stay prefix-free in the stream.
        self.state.write_u8(0xFF);
    }
}

/// The parts a comparison looks at; shared so that `Jid` and `JidRef` agree.
struct Parts<'s> {
    local: Option<&'s str>,
    domain: &'s str,
    resource: Option<&'s str>,
}

impl Parts<'_> {
    fn same_as(&self, other: &Parts<'_>) -> bool {
        let local = match (self.local, other.local) {
            (Some(a), Some(b)) => canon_eq(a, b, local_chars),
            (a, b) => a.is_none() && b.is_none(),
        };
        local
            && self.resource == other.resource
            && canon_eq(self.domain, other.domain, domain_chars)
    }

    /// Orders by domain, then localpart, then resource, so sorted lists
    /// group addresses by server and keep a bare JID before its full JIDs.
    fn order(&self, other: &Parts<'_>) -> Ordering {
        canon_cmp(self.domain, other.domain, domain_chars)
            .then_with(|| match (self.local, other.local) {
                (Some(a), Some(b)) => canon_cmp(a, b, local_chars),
                (a, b) => a.is_some().cmp(&b.is_some()),
            })
            .then_with(|| self.resource.cmp(&other.resource))
    }

    fn hash_into<H: Hasher>(&self, state: &mut H) {
        // Hashing the canonical text, not the bytes as written, is what keeps
        // the hash in line with equality.
        let mut domain = CanonHasher::new(state);
        domain.push_part(self.domain, domain_chars);
        domain.finish();
        match self.local {
            Some(local) => {
                state.write_u8(1);
                let mut local_hasher = CanonHasher::new(state);
                local_hasher.push_part(local, local_chars);
                local_hasher.finish();
            }
            None => state.write_u8(0),
        }
        self.resource.hash(state);
    }

    fn is_canonical(&self) -> bool {
        self.local.is_none_or(|local| is_canon(local, local_chars))
            && is_canon(self.domain, domain_chars)
    }

    /// Builds the canonical JID; the parse-time checks guarantee it is valid.
    fn to_canonical_jid(&self) -> Jid {
        let len = self.local.map_or(0, |l| l.len() + 1)
            + self.domain.len()
            + self.resource.map_or(0, |r| r.len() + 1);
        let mut text = String::with_capacity(len);
        let at = self.local.map(|local| {
            push_canon(&mut text, local, local_chars);
            let at = index(text.len());
            text.push('@');
            at
        });
        push_canon(&mut text, self.domain, domain_chars);
        let slash = self.resource.map(|resource| {
            let slash = index(text.len());
            text.push('/');
            text.push_str(resource);
            slash
        });
        Jid { text, at, slash }
    }
}

/// Writes `local@domain/resource` from the parts, omitting a stripped dot.
fn write_parts(parts: &Parts<'_>, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    if let Some(local) = parts.local {
        f.write_str(local)?;
        f.write_str("@")?;
    }
    f.write_str(parts.domain)?;
    if let Some(resource) = parts.resource {
        f.write_str("/")?;
        f.write_str(resource)?;
    }
    Ok(())
}

impl Jid {
    /// Parses and validates a JID.
    ///
    /// Allocates exactly once, for the stored text.
    pub fn parse(s: &str) -> Result<Self, JidError> {
        JidRef::parse(s).map(|jid| jid.to_owned_jid())
    }

    /// Builds a JID from its parts, validating each of them.
    ///
    /// A trailing dot on `domain` is removed. The parts are taken literally:
    /// an `@` in `local` or a `/` in `domain` is an error rather than a
    /// separator, whereas `resource` may contain both.
    pub fn new(
        local: Option<&str>,
        domain: &str,
        resource: Option<&str>,
    ) -> Result<Self, JidError> {
        if let Some(local) = local {
            check_local(local)?;
        }
        let domain = check_domain(domain)?;
        if let Some(resource) = resource {
            check_resource(resource)?;
        }

        let len =
            local.map_or(0, |l| l.len() + 1) + domain.len() + resource.map_or(0, |r| r.len() + 1);
        let mut text = String::with_capacity(len);
        let at = local.map(|local| {
            text.push_str(local);
            let at = index(text.len());
            text.push('@');
            at
        });
        text.push_str(domain);
        let slash = resource.map(|resource| {
            let slash = index(text.len());
            text.push('/');
            text.push_str(resource);
            slash
        });
        Ok(Self { text, at, slash })
    }

    /// Builds a JID that has only a domainpart, such as a server's address.
    pub fn domain_only(domain: &str) -> Result<Self, JidError> {
        Self::new(None, domain, None)
    }

    /// The localpart, if there is one.
    pub fn local(&self) -> Option<&str> {
        self.layout().local(&self.text)
    }

    /// The domainpart, as written apart from a removed trailing dot.
    pub fn domain(&self) -> &str {
        self.layout().domain(&self.text)
    }

    /// The resourcepart, if there is one.
    pub fn resource(&self) -> Option<&str> {
        self.layout().resource(&self.text)
    }

    /// The whole JID as text, as written apart from a removed trailing dot.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Whether the JID has no resourcepart.
    pub fn is_bare(&self) -> bool {
        self.slash.is_none()
    }

    /// Whether the JID has a resourcepart (a localpart is not required).
    pub fn is_full(&self) -> bool {
        self.slash.is_some()
    }

    /// A copy of this JID without its resourcepart.
    pub fn to_bare(&self) -> Jid {
        self.as_jid_ref().bare().to_owned_jid()
    }

    /// This JID without its resourcepart, reusing the allocation.
    pub fn into_bare(mut self) -> Jid {
        if let Some(slash) = self.slash.take() {
            self.text.truncate(usize::from(slash));
        }
        self
    }

    /// The bare form of this JID with `resource` as its resourcepart.
    pub fn with_resource(&self, resource: &str) -> Result<Jid, JidError> {
        check_resource(resource)?;
        let bare = self.as_jid_ref().bare().as_str();
        let mut text = String::with_capacity(bare.len() + 1 + resource.len());
        text.push_str(bare);
        text.push('/');
        text.push_str(resource);
        Ok(Jid {
            text,
            at: self.at,
            slash: Some(index(bare.len())),
        })
    }

    /// Whether this JID is already in [canonical form](self#canonical-form),
    /// that is [`canonical`](Self::canonical) would return it unchanged.
    ///
    /// ```
    /// use jabber_proto::jid::Jid;
    ///
    /// assert!(Jid::parse("alice@example.com/Phone")?.is_canonical());
    /// assert!(!Jid::parse("Alice@example.com/Phone")?.is_canonical());
    /// assert!(!Jid::parse("alice@EXAMPLE.com")?.is_canonical());
    /// # Ok::<(), jabber_proto::jid::JidError>(())
    /// ```
    pub fn is_canonical(&self) -> bool {
        self.parts().is_canonical()
    }

    /// This JID in [canonical form](self#canonical-form): the localpart
    /// width- and case-mapped, the domainpart lowercased, the resourcepart
    /// unchanged. Borrows `self` when it is already canonical.
    ///
    /// Equality already compares canonical forms; use this where the text
    /// itself matters, for example to address ourselves as the server does
    /// when it assigned no JID (RFC 7622 §3.3, RFC 8265 §3.3).
    ///
    /// ```
    /// use jabber_proto::jid::Jid;
    ///
    /// let own = Jid::new(Some("Alice"), "LocalHost", Some("Phone"))?;
    /// assert_eq!(own.canonical().as_str(), "alice@localhost/Phone");
    ///
    /// // Fullwidth letters map to ASCII.
    /// let wide = Jid::parse("ａｌｉｃｅ@example.com")?;
    /// assert_eq!(wide.canonical().as_str(), "alice@example.com");
    /// assert_eq!(wide, Jid::parse("alice@example.com")?);
    /// # Ok::<(), jabber_proto::jid::JidError>(())
    /// ```
    pub fn canonical(&self) -> Cow<'_, Jid> {
        if self.is_canonical() {
            Cow::Borrowed(self)
        } else {
            Cow::Owned(self.parts().to_canonical_jid())
        }
    }

    /// This JID in [canonical form](self#canonical-form), reusing `self`
    /// without allocating when it is already canonical.
    ///
    /// ```
    /// use jabber_proto::jid::Jid;
    ///
    /// let jid = Jid::parse("İstanbul@Example.com/Desk")?.into_canonical();
    /// assert_eq!(jid.as_str(), "i\u{307}stanbul@example.com/Desk");
    /// # Ok::<(), jabber_proto::jid::JidError>(())
    /// ```
    pub fn into_canonical(self) -> Jid {
        if self.is_canonical() {
            self
        } else {
            self.parts().to_canonical_jid()
        }
    }

    /// A borrowed view of this JID.
    pub fn as_jid_ref(&self) -> JidRef<'_> {
        JidRef {
            text: &self.text,
            layout: self.layout(),
        }
    }

    fn layout(&self) -> Layout {
        Layout {
            at: self.at,
            domain_end: self.slash.unwrap_or_else(|| index(self.text.len())),
            slash: self.slash,
        }
    }

    fn parts(&self) -> Parts<'_> {
        self.as_jid_ref().parts()
    }
}

impl<'a> JidRef<'a> {
    /// Parses and validates a JID without allocating.
    pub fn parse(s: &'a str) -> Result<Self, JidError> {
        parse_layout(s).map(|layout| Self { text: s, layout })
    }

    /// The localpart, if there is one.
    pub fn local(&self) -> Option<&'a str> {
        self.layout.local(self.text)
    }

    /// The domainpart, as written apart from a removed trailing dot.
    pub fn domain(&self) -> &'a str {
        self.layout.domain(self.text)
    }

    /// The resourcepart, if there is one.
    pub fn resource(&self) -> Option<&'a str> {
        self.layout.resource(self.text)
    }

    /// The text this JID was parsed from, including any trailing domain dot.
    pub fn as_str(&self) -> &'a str {
        self.text
    }

    /// Whether the JID has no resourcepart.
    pub fn is_bare(&self) -> bool {
        self.layout.slash.is_none()
    }

    /// Whether the JID has a resourcepart (a localpart is not required).
    pub fn is_full(&self) -> bool {
        self.layout.slash.is_some()
    }

    /// This JID without its resourcepart, borrowing the same text.
    pub fn bare(&self) -> JidRef<'a> {
        match self.layout.slash {
            Some(slash) => JidRef {
                text: &self.text[..usize::from(slash)],
                layout: Layout {
                    slash: None,
                    ..self.layout
                },
            },
            None => *self,
        }
    }

    /// Copies this JID into an owned [`Jid`], removing any trailing dot.
    pub fn to_owned_jid(&self) -> Jid {
        let layout = self.layout;
        if !layout.has_stripped_dot(self.text) {
            return Jid {
                text: String::from(self.text),
                at: layout.at,
                slash: layout.slash,
            };
        }
        // The stripped dot is the single byte at `domain_end`; dropping it
        // shifts the resource separator one byte left.
        let dot = usize::from(layout.domain_end);
        let mut text = String::with_capacity(self.text.len() - 1);
        text.push_str(&self.text[..dot]);
        text.push_str(&self.text[dot + 1..]);
        Jid {
            text,
            at: layout.at,
            slash: layout.slash.map(|slash| slash - 1),
        }
    }

    /// Whether the parts of this JID are in [canonical form](self#canonical-form).
    ///
    /// A trailing domain dot is not a part and does not count.
    ///
    /// ```
    /// use jabber_proto::jid::JidRef;
    ///
    /// assert!(JidRef::parse("alice@example.com./Phone")?.is_canonical());
    /// assert!(!JidRef::parse("Alice@example.com")?.is_canonical());
    /// # Ok::<(), jabber_proto::jid::JidError>(())
    /// ```
    pub fn is_canonical(&self) -> bool {
        self.parts().is_canonical()
    }

    /// Copies this JID into an owned [`Jid`] in [canonical form](self#canonical-form).
    ///
    /// ```
    /// use jabber_proto::jid::JidRef;
    ///
    /// let jid = JidRef::parse("Alice@Example.com./Phone")?;
    /// assert_eq!(jid.to_canonical_jid().as_str(), "alice@example.com/Phone");
    /// # Ok::<(), jabber_proto::jid::JidError>(())
    /// ```
    pub fn to_canonical_jid(&self) -> Jid {
        self.parts().to_canonical_jid()
    }

    fn parts(&self) -> Parts<'a> {
        Parts {
            local: self.local(),
            domain: self.domain(),
            resource: self.resource(),
        }
    }
}

impl FromStr for Jid {
    type Err = JidError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl TryFrom<&str> for Jid {
    type Error = JidError;

    fn try_from(s: &str) -> Result<Self, Self::Error> {
        Self::parse(s)
    }
}

impl<'a> TryFrom<&'a str> for JidRef<'a> {
    type Error = JidError;

    fn try_from(s: &'a str) -> Result<Self, Self::Error> {
        Self::parse(s)
    }
}

impl From<JidRef<'_>> for Jid {
    fn from(jid: JidRef<'_>) -> Self {
        jid.to_owned_jid()
    }
}

impl<'a> From<&'a Jid> for JidRef<'a> {
    fn from(jid: &'a Jid) -> Self {
        jid.as_jid_ref()
    }
}

impl AsRef<str> for Jid {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl fmt::Display for Jid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl fmt::Display for JidRef<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_parts(&self.parts(), f)
    }
}

impl fmt::Debug for Jid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Jid").field(&self.text).finish()
    }
}

impl fmt::Debug for JidRef<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("JidRef").field(&self.text).finish()
    }
}

impl PartialEq for Jid {
    fn eq(&self, other: &Self) -> bool {
        self.parts().same_as(&other.parts())
    }
}

impl Eq for Jid {}

impl PartialEq for JidRef<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.parts().same_as(&other.parts())
    }
}

impl Eq for JidRef<'_> {}

impl PartialEq<JidRef<'_>> for Jid {
    fn eq(&self, other: &JidRef<'_>) -> bool {
        self.parts().same_as(&other.parts())
    }
}

impl PartialEq<Jid> for JidRef<'_> {
    fn eq(&self, other: &Jid) -> bool {
        self.parts().same_as(&other.parts())
    }
}

impl Ord for Jid {
    fn cmp(&self, other: &Self) -> Ordering {
        self.parts().order(&other.parts())
    }
}

impl PartialOrd for Jid {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for JidRef<'_> {
    fn cmp(&self, other: &Self) -> Ordering {
        self.parts().order(&other.parts())
    }
}

impl PartialOrd for JidRef<'_> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// A map keyed by [`Jid`] searched with a borrowed address: `Jid` borrows as this
/// trait object, ordered and compared exactly as `Jid` is, so a lookup by the sender of
/// a stanza copies nothing ([`key`] makes the search key).
pub(crate) trait JidKey {
    fn jid(&self) -> JidRef<'_>;
}

impl JidKey for JidRef<'_> {
    fn jid(&self) -> JidRef<'_> {
        *self
    }
}

impl JidKey for Jid {
    fn jid(&self) -> JidRef<'_> {
        self.as_jid_ref()
    }
}

impl<'a> core::borrow::Borrow<dyn JidKey + 'a> for Jid {
    fn borrow(&self) -> &(dyn JidKey + 'a) {
        self
    }
}

impl PartialEq for dyn JidKey + '_ {
    fn eq(&self, other: &Self) -> bool {
        self.jid() == other.jid()
    }
}

impl Eq for dyn JidKey + '_ {}

impl PartialOrd for dyn JidKey + '_ {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for dyn JidKey + '_ {
    fn cmp(&self, other: &Self) -> Ordering {
        self.jid().cmp(&other.jid())
    }
}

/// `jid` as the search key of a map keyed by [`Jid`] (see [`JidKey`]).
pub(crate) fn key<'k>(jid: &'k JidRef<'_>) -> &'k (dyn JidKey + 'k) {
    jid
}

impl Hash for Jid {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.parts().hash_into(state);
    }
}

impl Hash for JidRef<'_> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.parts().hash_into(state);
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use alloc::format;
    use alloc::string::ToString;
    use alloc::vec::Vec;
    use proptest::prelude::*;

    /// Records everything fed to the hasher, so that two values "hash the
    /// same" only if they feed any hasher identically; this also keeps the
    /// tests free of `std`.
    #[derive(Default)]
    struct Recorder(Vec<u8>);

    impl Hasher for Recorder {
        fn finish(&self) -> u64 {
            0
        }

        fn write(&mut self, bytes: &[u8]) {
            self.0.extend_from_slice(bytes);
        }
    }

    fn hash_of<T: Hash + ?Sized>(value: &T) -> Vec<u8> {
        let mut hasher = Recorder::default();
        value.hash(&mut hasher);
        hasher.0
    }

    fn err(s: &str) -> JidError {
        let owned = Jid::parse(s).unwrap_err();
        assert_eq!(JidRef::parse(s).unwrap_err(), owned, "{s:?}");
        owned
    }

    fn repeat(ch: char, n: usize) -> String {
        core::iter::repeat_n(ch, n).collect()
    }

    #[test]
    fn full_jid_accessors() {
        let jid = Jid::parse("juliet@example.com/balcony").unwrap();
        assert_eq!(jid.local(), Some("juliet"));
        assert_eq!(jid.domain(), "example.com");
        assert_eq!(jid.resource(), Some("balcony"));
        assert_eq!(jid.as_str(), "juliet@example.com/balcony");
        assert!(jid.is_full());
        assert!(!jid.is_bare());
    }

    #[test]
    fn bare_jid_accessors() {
        let jid = Jid::parse("juliet@example.com").unwrap();
        assert_eq!(jid.local(), Some("juliet"));
        assert_eq!(jid.domain(), "example.com");
        assert_eq!(jid.resource(), None);
        assert!(jid.is_bare());
        assert!(!jid.is_full());
    }

    #[test]
    fn domain_only_and_domain_with_resource() {
        let jid = Jid::parse("example.com").unwrap();
        assert_eq!(
            (jid.local(), jid.domain(), jid.resource()),
            (None, "example.com", None)
        );
        assert_eq!(Jid::domain_only("example.com").unwrap(), jid);

        let jid = Jid::parse("example.com/res").unwrap();
        assert_eq!((jid.local(), jid.resource()), (None, Some("res")));
        assert!(jid.is_full());
    }

    #[test]
    fn jid_ref_accessors_borrow_the_input() {
        let text = String::from("juliet@example.com/balcony");
        let jid = JidRef::parse(&text).unwrap();
        let (local, domain, resource) = (jid.local(), jid.domain(), jid.resource());
        assert_eq!(local, Some("juliet"));
        assert_eq!(domain, "example.com");
        assert_eq!(resource, Some("balcony"));
        assert_eq!(jid.as_str(), text);
        assert!(jid.is_full() && !jid.is_bare());
        // Same allocation: the accessors slice the input.
        assert_eq!(domain.as_ptr(), text[7..].as_ptr());
    }

    #[test]
    fn resource_may_contain_at_and_slash() {
        let jid = Jid::parse("a@b/c@d/e").unwrap();
        assert_eq!(
            (jid.local(), jid.domain(), jid.resource()),
            (Some("a"), "b", Some("c@d/e"))
        );

        // The '@' after the first '/' does not make a localpart.
        let jid = Jid::parse("b/c@d").unwrap();
        assert_eq!(
            (jid.local(), jid.domain(), jid.resource()),
            (None, "b", Some("c@d"))
        );
    }

    #[test]
    fn resource_may_contain_spaces_and_unicode() {
        let jid = Jid::parse("a@b/The Orchard ♥ é").unwrap();
        assert_eq!(jid.resource(), Some("The Orchard ♥ é"));
    }

    #[test]
    fn rejects_empty_local() {
        assert_eq!(err("@example.com"), JidError::EmptyLocal);
        assert_eq!(err("@example.com/r"), JidError::EmptyLocal);
    }

    #[test]
    fn rejects_empty_domain() {
        for s in ["", "a@", "/r", "a@/r", ".", "a@./r"] {
            assert_eq!(err(s), JidError::EmptyDomain, "{s:?}");
        }
    }

    #[test]
    fn rejects_empty_resource() {
        assert_eq!(err("a@b/"), JidError::EmptyResource);
        assert_eq!(err("b/"), JidError::EmptyResource);
    }

    #[test]
    fn local_length_limit() {
        let ok = format!("{}@b", repeat('a', 1023));
        assert_eq!(Jid::parse(&ok).unwrap().local().unwrap().len(), 1023);
        assert_eq!(
            err(&format!("{}@b", repeat('a', 1024))),
            JidError::LocalTooLong
        );
    }

    #[test]
    fn domain_length_limit() {
        let labels = format!("{}.", repeat('a', 63)).repeat(15);
        let ok = format!("{labels}{}", repeat('b', 63));
        assert_eq!(ok.len(), 1023);
        assert_eq!(Jid::parse(&ok).unwrap().domain(), ok);
        // The trailing dot does not count against the limit.
        assert_eq!(Jid::parse(&format!("{ok}.")).unwrap().domain(), ok);
        let too_long = format!("{labels}{}.c", repeat('b', 62));
        assert_eq!(too_long.len(), 1024);
        assert_eq!(err(&too_long), JidError::DomainTooLong);
    }

    #[test]
    fn resource_length_limit() {
        let ok = format!("a@b/{}", repeat('r', 1023));
        assert_eq!(Jid::parse(&ok).unwrap().resource().unwrap().len(), 1023);
        let too_long = format!("a@b/{}", repeat('é', 512));
        assert_eq!(err(&too_long), JidError::ResourceTooLong);
    }

    #[test]
    fn longest_possible_jid() {
        let domain = format!("{}.", repeat('d', 63)).repeat(16);
        let s = format!(
            "{}@{}/{}",
            repeat('l', 1023),
            &domain[..1023],
            repeat('r', 1023)
        );
        let jid = Jid::parse(&s).unwrap();
        assert_eq!(jid.as_str(), s);
        assert_eq!(jid.resource().unwrap().len(), 1023);
        assert_eq!(jid.to_bare().as_str().len(), 1023 + 1 + 1023);
    }

    #[test]
    fn rejects_forbidden_chars_in_local() {
        for ch in [
            '"', '&', '\'', ':', '<', '>', ' ', '\t', '\n', '\u{0}', '\u{7f}', '\u{85}', '\u{a0}',
            '\u{3000}', '\u{FFFE}', '\u{FFFF}',
        ] {
            let s = format!("a{ch}b@example.com");
            assert_eq!(err(&s), JidError::ForbiddenCharInLocal { ch }, "{s:?}");
        }
        // '@' and '/' cannot reach the localpart through parsing, only
        // through the constructor.
        for ch in ['@', '/'] {
            let local = format!("a{ch}b");
            let result = Jid::new(Some(&local), "example.com", None);
            assert_eq!(result.unwrap_err(), JidError::ForbiddenCharInLocal { ch });
        }
    }

    #[test]
    fn local_allows_other_punctuation_and_unicode() {
        let jid = Jid::parse("Ju.li-et+tag_1!#$%*=?^{|}~ÄΣ@example.com").unwrap();
        assert_eq!(jid.local(), Some("Ju.li-et+tag_1!#$%*=?^{|}~ÄΣ"));
    }

    #[test]
    fn rejects_forbidden_chars_in_domain() {
        for ch in [
            ' ', '"', '&', '\'', '<', '>', ':', '[', ']', '\\', '!', '+', '\u{0}', '\u{85}',
            '\u{a0}', '\u{3000}', '\u{3002}', '\u{FF0E}', '\u{FF61}', '\u{FFFE}', '\u{FFFF}',
        ] {
            let s = format!("a@exa{ch}mple.com/r");
            assert_eq!(err(&s), JidError::ForbiddenCharInDomain { ch }, "{s:?}");
        }
        // A second '@' lands in the domainpart.
        assert_eq!(err("a@b@c"), JidError::ForbiddenCharInDomain { ch: '@' });
        assert_eq!(
            err("example.com:5222"),
            JidError::ForbiddenCharInDomain { ch: ':' }
        );
        let result = Jid::new(None, "a/b", None);
        assert_eq!(
            result.unwrap_err(),
            JidError::ForbiddenCharInDomain { ch: '/' }
        );
    }

    #[test]
    fn domain_allows_ldh_underscore_and_unicode() {
        let jid = Jid::parse("muc_1.x-y.Example.COM").unwrap();
        assert_eq!(jid.domain(), "muc_1.x-y.Example.COM");
        let jid = Jid::parse("user@bücher.例え.テスト").unwrap();
        assert_eq!(jid.domain(), "bücher.例え.テスト");
    }

    #[test]
    fn rejects_forbidden_chars_in_resource() {
        for ch in [
            '\u{0}', '\t', '\n', '\r', '\u{1f}', '\u{7f}', '\u{85}', '\u{9f}', '\u{FFFE}',
            '\u{FFFF}',
        ] {
            let s = format!("a@b/x{ch}y");
            assert_eq!(err(&s), JidError::ForbiddenCharInResource { ch }, "{s:?}");
        }
    }

    #[test]
    fn strips_one_trailing_domain_dot() {
        let jid = Jid::parse("a@example.com./r").unwrap();
        assert_eq!(jid.domain(), "example.com");
        assert_eq!(jid.as_str(), "a@example.com/r");
        assert_eq!(jid.resource(), Some("r"));
        assert_eq!(jid, Jid::parse("a@example.com/r").unwrap());

        let jid = JidRef::parse("a@example.com./r").unwrap();
        assert_eq!(jid.domain(), "example.com");
        assert_eq!(jid.as_str(), "a@example.com./r");
        assert_eq!(jid.to_string(), "a@example.com/r");
        assert_eq!(jid.to_owned_jid().as_str(), "a@example.com/r");

        let jid = JidRef::parse("example.com.").unwrap();
        assert_eq!(jid.domain(), "example.com");
        assert_eq!(jid.to_owned_jid().as_str(), "example.com");

        assert_eq!(
            Jid::domain_only("example.com.").unwrap().as_str(),
            "example.com"
        );
        assert_eq!(err("a@example.com.."), JidError::EmptyDomainLabel);
    }

    #[test]
    fn rejects_empty_domain_labels() {
        for s in ["a..b", ".a", "a@.b", "a@b..c/r", ".."] {
            assert_eq!(err(s), JidError::EmptyDomainLabel, "{s:?}");
        }
    }

    #[test]
    fn ascii_domain_label_length_limit() {
        let ok = format!("{}.com", repeat('a', 63));
        assert!(Jid::parse(&ok).is_ok());
        assert_eq!(
            err(&format!("{}.com", repeat('a', 64))),
            JidError::DomainLabelTooLong
        );
        // The Punycode length of a non-ASCII label is not judged.
        assert!(Jid::parse(&format!("{}.com", repeat('ä', 40))).is_ok());
    }

    #[test]
    fn ip_literal_domains() {
        for s in [
            "[::1]",
            "a@[::1]/r",
            "[2001:db8::ff00:42:8329]",
            "[::ffff:192.0.2.1]",
            "127.0.0.1",
            "a@192.0.2.1/r",
        ] {
            assert!(Jid::parse(s).is_ok(), "{s:?}");
        }
        let jid = Jid::parse("a@[::1]/r").unwrap();
        assert_eq!(jid.domain(), "[::1]");
        assert_eq!(
            Jid::parse("[2001:DB8::1]").unwrap(),
            Jid::parse("[2001:db8::1]").unwrap()
        );
    }

    #[test]
    fn rejects_bad_ip_literals() {
        for s in [
            "[::1",
            "[]",
            "[zz::1]",
            "[127.0.0.1]",
            "[::1]x",
            "[fe80::1%eth0]",
            "[::1]]",
        ] {
            assert_eq!(err(s), JidError::InvalidIpLiteral, "{s:?}");
        }
        assert_eq!(err("::1"), JidError::ForbiddenCharInDomain { ch: ':' });
    }

    #[test]
    fn domain_compares_case_insensitively() {
        let a = Jid::parse("user@Example.COM/r").unwrap();
        let b = Jid::parse("user@example.com/r").unwrap();
        assert_eq!(a, b);
        assert_eq!(a.cmp(&b), Ordering::Equal);
        assert_eq!(hash_of(&a), hash_of(&b));
        assert_eq!(hash_of(&a.as_jid_ref()), hash_of(&b));
    }

    #[test]
    fn non_ascii_domain_compares_case_insensitively() {
        let a = Jid::parse("ÄÖ.Example").unwrap();
        let b = JidRef::parse("äö.example").unwrap();
        assert_eq!(a, b);
        assert_eq!(hash_of(&a), hash_of(&b));
        // Lowercasing maps KELVIN SIGN to ASCII 'k'.
        let kelvin = Jid::parse("\u{212A}.example").unwrap();
        let k = Jid::parse("K.example").unwrap();
        assert_eq!(kelvin, k);
        assert_eq!(kelvin.cmp(&k), Ordering::Equal);
        assert_eq!(hash_of(&kelvin), hash_of(&k));
    }

    #[test]
    fn local_compares_canonically_and_resource_exactly() {
        let jid = Jid::parse("user@example.com/res").unwrap();
        let shouted = Jid::parse("User@example.com/res").unwrap();
        assert_eq!(jid, shouted);
        assert_eq!(jid.cmp(&shouted), Ordering::Equal);
        assert_eq!(hash_of(&jid), hash_of(&shouted));
        assert_ne!(jid, Jid::parse("user@example.com/Res").unwrap());
        assert_ne!(jid, Jid::parse("user@example.com").unwrap());
        assert_ne!(jid.to_bare(), Jid::parse("example.com").unwrap());
    }

    /// The case from prosody: a login as `Alice` must match `alice`.
    #[test]
    fn login_name_case_matches_server_address() {
        let own = Jid::new(Some("Alice"), "Example.com", Some("Res")).unwrap();
        let server = JidRef::parse("alice@example.com/Res").unwrap();
        assert_eq!(own, server);
        assert_eq!(server, own);
        assert_eq!(hash_of(&own), hash_of(&server));
        assert_eq!(own.cmp(&server.to_owned_jid()), Ordering::Equal);
        assert_ne!(own, JidRef::parse("alice@example.com/res").unwrap());
        assert_eq!(own.canonical().as_str(), "alice@example.com/Res");
        assert_eq!(own.into_canonical().as_str(), server.as_str());
    }

    #[test]
    fn fullwidth_local_equals_ascii() {
        let wide = Jid::parse("ａｌｉｃｅ@example.com").unwrap();
        let ascii = JidRef::parse("alice@example.com").unwrap();
        assert_eq!(wide, ascii);
        assert_eq!(hash_of(&wide), hash_of(&ascii));
        assert_eq!(wide.canonical().as_str(), "alice@example.com");
        // Fullwidth capitals are width-mapped, then lowercased.
        assert_eq!(Jid::parse("ＡＬＩＣＥ@example.com").unwrap(), ascii);
        // Mixed: the ASCII prefix is compared apart from the rest.
        assert_eq!(Jid::parse("alｉｃｅ@example.com").unwrap(), ascii);
        assert_ne!(Jid::parse("alｉｃｅs@example.com").unwrap(), ascii);
    }

    #[test]
    fn width_map_follows_unicode_decompositions() {
        for (from, to) in [
            ('\u{3000}', ' '),
            ('！', '!'),
            ('ａ', 'a'),
            ('Ｚ', 'Z'),
            ('～', '~'),
            ('\u{FF5F}', '\u{2985}'),
            ('｡', '。'),
            ('･', '・'),
            ('ｦ', 'ヲ'),
            ('ｧ', 'ァ'),
            ('ｯ', 'ッ'),
            ('ｰ', 'ー'),
            ('ｱ', 'ア'),
            ('ｶ', 'カ'),
            ('ﾂ', 'ツ'),
            ('ﾊ', 'ハ'),
            ('ﾎ', 'ホ'),
            ('ﾝ', 'ン'),
            ('ﾞ', '\u{3099}'),
            ('ﾟ', '\u{309A}'),
            ('\u{FFA0}', '\u{3164}'),
            ('ﾡ', 'ㄱ'),
            ('ﾾ', 'ㅎ'),
            ('ￂ', 'ㅏ'),
            ('ￜ', 'ㅣ'),
            ('￠', '¢'),
            ('￣', '¯'),
            ('￦', '₩'),
            ('￨', '│'),
            ('￩', '←'),
            ('￬', '↓'),
            ('￮', '○'),
        ] {
            assert_eq!(width_map(from), to, "{from:?}");
        }
        // Unassigned gaps and neighbours stay as they are.
        for ch in [
            'a', 'é', 'ア', '\u{FF00}', '\u{FFBF}', '\u{FFDD}', '\u{FFE7}', '\u{FFEF}',
        ] {
            assert_eq!(width_map(ch), ch);
        }
    }

    fn canonical_local(local: &str) -> String {
        local_chars(local).collect()
    }

    #[test]
    fn local_case_mapping_edge_cases() {
        // One char can lowercase to two.
        assert_eq!(canonical_local("İ"), "i\u{307}");
        assert_eq!(
            Jid::parse("İ@x").unwrap(),
            Jid::parse("i\u{307}@x").unwrap()
        );
        assert_ne!(Jid::parse("İ@x").unwrap(), Jid::parse("i@x").unwrap());
        // Lowercase, not case folding: ß stays, ẞ joins it; ς is not σ.
        assert_eq!(canonical_local("ẞ"), "ß");
        assert_ne!(Jid::parse("ß@x").unwrap(), Jid::parse("ss@x").unwrap());
        assert_ne!(Jid::parse("σ@x").unwrap(), Jid::parse("ς@x").unwrap());
        // No Final_Sigma context: a word-final Σ becomes σ.
        assert_eq!(canonical_local("ΟΔΥΣΣΕΥΣ"), "οδυσσευσ");
        // Titlecase and compatibility letters.
        assert_eq!(canonical_local("ǅ\u{212A}\u{212B}"), "ǆkå");
        // No normalisation: decomposed and precomposed forms differ.
        assert_ne!(
            Jid::parse("e\u{301}@x").unwrap(),
            Jid::parse("é@x").unwrap()
        );
        assert_eq!(canonical_local("ｶﾞ"), "カ\u{3099}");
        assert_ne!(Jid::parse("ｶﾞ@x").unwrap(), Jid::parse("ガ@x").unwrap());
        assert_eq!(
            Jid::parse("ｶﾞ@x").unwrap(),
            Jid::parse("カ\u{3099}@x").unwrap()
        );
    }

    #[test]
    fn fullwidth_forms_of_forbidden_chars_are_refused() {
        for ch in ['＂', '＆', '＇', '／', '：', '＜', '＞', '＠', '\u{3000}'] {
            let s = format!("a{ch}b@example.com/r");
            assert_eq!(err(&s), JidError::ForbiddenCharInLocal { ch }, "{s:?}");
            let built = Jid::new(Some(&format!("a{ch}b")), "example.com", None);
            assert_eq!(built.unwrap_err(), JidError::ForbiddenCharInLocal { ch });
        }
        // Other fullwidth punctuation is fine, and so are the fullwidth forms
        // in the resource, which is not mapped.
        let jid = Jid::parse("ａ＿ｂ＋ｃ@example.com/＠／").unwrap();
        assert_eq!(jid.canonical().as_str(), "a_b+c@example.com/＠／");
    }

    #[test]
    fn canonical_local_length_limit() {
        // İ takes 2 bytes as written and 3 once lowercased.
        let fits = repeat('İ', 341);
        assert_eq!(fits.len(), 682);
        let jid = Jid::new(Some(&fits), "x", None).unwrap();
        assert_eq!(jid.canonical().local().unwrap().len(), 1023);
        assert_eq!(
            Jid::new(Some(&format!("{fits}a")), "x", None).unwrap_err(),
            JidError::LocalTooLong
        );
        assert_eq!(
            err(&format!("{}@x", repeat('İ', 511))),
            JidError::LocalTooLong
        );
        // Fullwidth text shrinks, but the text as written is held to the
        // limit as well.
        let wide = repeat('ａ', 341);
        assert_eq!(wide.len(), 1023);
        let jid = Jid::new(Some(&wide), "x", None).unwrap();
        assert_eq!(jid.canonical().local().unwrap(), repeat('a', 341));
        assert_eq!(
            err(&format!("{}@x", repeat('ａ', 342))),
            JidError::LocalTooLong
        );
    }

    #[test]
    fn canonical_domain_limits() {
        // KELVIN SIGN lowercases to ASCII 'k', so the label becomes ASCII.
        let kelvins = repeat('\u{212A}', 63);
        let jid = Jid::new(Some("a"), &format!("{kelvins}.example"), None).unwrap();
        let canonical = jid.canonical();
        assert_eq!(canonical.domain(), format!("{}.example", repeat('k', 63)));
        assert_eq!(Jid::parse(canonical.as_str()).unwrap(), jid);
        assert_eq!(
            err(&format!("a@{kelvins}\u{212A}.example")),
            JidError::DomainLabelTooLong
        );
        // A label mixing KELVIN SIGN with other non-ASCII stays unlimited.
        assert!(Jid::parse(&format!("{kelvins}\u{212A}ä.example")).is_ok());

        let fits = repeat('İ', 341);
        let jid = Jid::domain_only(&fits).unwrap();
        assert_eq!(jid.canonical().domain().len(), 1023);
        assert_eq!(err(&format!("{fits}i")), JidError::DomainTooLong);
    }

    #[test]
    fn canonical_borrows_or_reuses_when_already_canonical() {
        let jid = Jid::parse("alice@example.com/Res").unwrap();
        assert!(jid.is_canonical());
        assert!(matches!(jid.canonical(), Cow::Borrowed(_)));
        let ptr = jid.as_str().as_ptr();
        assert_eq!(jid.into_canonical().as_str().as_ptr(), ptr);

        for s in [
            "Alice@example.com",
            "alice@Example.com",
            "ａ@b",
            "\u{212A}.example",
        ] {
            let jid = Jid::parse(s).unwrap();
            assert!(!jid.is_canonical(), "{s:?}");
            assert!(matches!(jid.canonical(), Cow::Owned(_)), "{s:?}");
            assert!(jid.canonical().is_canonical(), "{s:?}");
        }
        // The trailing dot is not part of the canonical form; JidRef ignores it.
        let jid = JidRef::parse("Alice@Example.com./r").unwrap();
        assert!(!jid.is_canonical());
        assert_eq!(jid.to_canonical_jid().as_str(), "alice@example.com/r");
        assert!(
            JidRef::parse("alice@example.com./r")
                .unwrap()
                .is_canonical()
        );
        assert!(Jid::parse("example.com/Res").unwrap().is_canonical());
        assert!(Jid::parse("[::1]").unwrap().is_canonical());
        assert!(!Jid::parse("[::A]").unwrap().is_canonical());
    }

    #[test]
    fn hash_agrees_across_chunk_boundaries() {
        // The canonical hash goes out in 64-byte chunks; put a two-byte char
        // across the boundary and a width-mapped run in front of it.
        let a = format!("{}É{}@x", repeat('A', 63), repeat('B', 70));
        let b = format!("{}é{}@x", repeat('ａ', 63), repeat('b', 70));
        let (a, b) = (Jid::parse(&a).unwrap(), Jid::parse(&b).unwrap());
        assert_eq!(a, b);
        assert_eq!(hash_of(&a), hash_of(&b));
        assert_eq!(hash_of(&a), hash_of(&b.canonical().as_jid_ref()));
        let c = Jid::parse(&format!("{}e{}@x", repeat('a', 63), repeat('b', 70))).unwrap();
        assert_ne!(a, c);
        assert_ne!(hash_of(&a), hash_of(&c));
        // Parts stay apart in the hashed stream.
        assert_ne!(
            hash_of(&Jid::parse("ab@c").unwrap()),
            hash_of(&Jid::parse("a@bc").unwrap())
        );
        assert_ne!(
            hash_of(&Jid::parse("x/ab").unwrap()),
            hash_of(&Jid::parse("a@x/b").unwrap())
        );
    }

    #[test]
    fn ordering_uses_canonical_local() {
        let mut jids: Vec<Jid> = ["b@x", "ａ@x", "A@x/r", "C@x", "x", "Ｂ@x/r"]
            .iter()
            .map(|s| Jid::parse(s).unwrap())
            .collect();
        jids.sort();
        let sorted: Vec<&str> = jids.iter().map(Jid::as_str).collect();
        assert_eq!(sorted, ["x", "ａ@x", "A@x/r", "b@x", "Ｂ@x/r", "C@x"]);
    }

    /// Every char, one at a time: the mappings work char by char, so what
    /// holds for each char holds for every string.
    #[test]
    fn mappings_hold_their_promises_for_every_char() {
        let mut one = [0; 4];
        for ch in (0..=0x10_FFFF).filter_map(char::from_u32) {
            let s: &str = ch.encode_utf8(&mut one);
            let local_valid = check_local(s).is_ok();
            let label_valid = check_label(s).is_ok();
            // Most chars map to themselves; only the others need the checks
            // below, which would otherwise make this test slow.
            let local_same = local_chars(s).eq([ch]);
            let domain_same = domain_chars(s).eq([ch]);
            assert_eq!(is_canon(s, local_chars), local_same, "{ch:?}");
            assert_eq!(is_canon(s, domain_chars), domain_same, "{ch:?}");
            if !local_same {
                let canon = canonical_local(s);
                // The bound behind MAX_UNMAPPED_LEN.
                assert!(2 * canon.len() <= 3 * s.len(), "{ch:?}");
                assert_eq!(canonical_local(&canon), canon, "{ch:?}");
                assert!(is_canon(&canon, local_chars), "{ch:?}");
                if local_valid {
                    assert_eq!(check_local(&canon), Ok(()), "{ch:?}");
                }
            }
            if !domain_same {
                let canon: String = domain_chars(s).collect();
                assert!(2 * canon.len() <= 3 * s.len(), "{ch:?}");
                assert!(is_canon(&canon, domain_chars), "{ch:?}");
                if label_valid {
                    assert_eq!(check_label(&canon), Ok(()), "{ch:?}");
                }
            }
        }
    }

    #[test]
    fn ordering_groups_by_domain_then_bare_then_resource() {
        let mut jids: Vec<Jid> = [
            "b@a.org/x",
            "B.ORG",
            "a@b.org/y",
            "a@b.org",
            "a@B.org/x",
            "a.org",
        ]
        .iter()
        .map(|s| Jid::parse(s).unwrap())
        .collect();
        jids.sort();
        let sorted: Vec<&str> = jids.iter().map(Jid::as_str).collect();
        assert_eq!(
            sorted,
            [
                "a.org",
                "b@a.org/x",
                "B.ORG",
                "a@b.org",
                "a@B.org/x",
                "a@b.org/y"
            ]
        );
    }

    #[test]
    fn jid_and_jid_ref_compare_both_ways() {
        let owned = Jid::parse("a@EXAMPLE.com/r").unwrap();
        let borrowed = JidRef::parse("a@example.com./r").unwrap();
        assert!(owned == borrowed);
        assert!(borrowed == owned);
        assert!(owned != JidRef::parse("a@example.com").unwrap());
        assert_eq!(owned.as_jid_ref(), borrowed);
        assert_eq!(borrowed.cmp(&owned.as_jid_ref()), Ordering::Equal);
    }

    #[test]
    fn new_builds_from_parts() {
        let jid = Jid::new(Some("a"), "example.com.", Some("x/y@z")).unwrap();
        assert_eq!(jid.as_str(), "a@example.com/x/y@z");
        assert_eq!(
            (jid.local(), jid.domain(), jid.resource()),
            (Some("a"), "example.com", Some("x/y@z"))
        );
        assert_eq!(jid, Jid::parse(jid.as_str()).unwrap());

        assert_eq!(
            Jid::new(Some(""), "b", None).unwrap_err(),
            JidError::EmptyLocal
        );
        assert_eq!(Jid::new(None, "", None).unwrap_err(), JidError::EmptyDomain);
        assert_eq!(
            Jid::new(None, "b", Some("")).unwrap_err(),
            JidError::EmptyResource
        );
        assert_eq!(Jid::domain_only("[::1]").unwrap().domain(), "[::1]");
    }

    #[test]
    fn shortcut_comparisons_agree_with_the_canonical_characters() {
        // Shared bytes ending inside a character, ASCII against non-ASCII that maps to
        // ASCII, a text that ends, case: the fast paths must say what the char-wise
        // comparison says.
        let texts = [
            "", "a", "A", "ab", "aB", "b", "é", "ê", "É", "zoë", "zoe", "zoé", "ZOË", "ｚoe", "ａ",
            "k", "\u{212A}", "K", "jürgen", "jÜrgen", "søren", "ß", "ss",
        ];
        fn agree<I: Iterator<Item = char>>(
            a: &'static str,
            b: &'static str,
            map: fn(&'static str) -> I,
        ) {
            let chars = |t| map(t).collect::<Vec<_>>();
            assert_eq!(canon_cmp(a, b, map), chars(a).cmp(&chars(b)), "{a:?} {b:?}");
            assert_eq!(canon_eq(a, b, map), chars(a) == chars(b), "{a:?} {b:?}");
        }
        for a in texts {
            for b in texts {
                agree(a, b, local_chars);
                agree(a, b, domain_chars);
            }
        }
    }

    #[test]
    fn to_bare_and_into_bare() {
        let jid = Jid::parse("a@example.com/r/s").unwrap();
        let bare = jid.to_bare();
        assert_eq!(bare.as_str(), "a@example.com");
        assert!(bare.is_bare());
        assert_eq!(jid.clone().into_bare(), bare);
        assert_eq!(jid.into_bare().as_str(), "a@example.com");
        assert_eq!(bare.to_bare(), bare);
    }

    #[test]
    fn jid_ref_bare_slices_the_input() {
        let jid = JidRef::parse("a@example.com./r").unwrap();
        let bare = jid.bare();
        assert_eq!(bare.as_str(), "a@example.com.");
        assert_eq!(bare.domain(), "example.com");
        assert!(bare.is_bare());
        assert_eq!(bare.to_owned_jid().as_str(), "a@example.com");
        assert_eq!(bare.as_str().as_ptr(), jid.as_str().as_ptr());
    }

    #[test]
    fn with_resource_replaces_the_resource() {
        let jid = Jid::parse("a@example.com/old").unwrap();
        let new = jid.with_resource("new one").unwrap();
        assert_eq!(new.as_str(), "a@example.com/new one");
        assert_eq!(new.resource(), Some("new one"));
        assert_eq!(new.local(), Some("a"));
        let server = Jid::domain_only("example.com")
            .unwrap()
            .with_resource("r")
            .unwrap();
        assert_eq!((server.local(), server.resource()), (None, Some("r")));
        assert_eq!(jid.with_resource("").unwrap_err(), JidError::EmptyResource);
        assert_eq!(
            jid.with_resource("a\u{0}").unwrap_err(),
            JidError::ForbiddenCharInResource { ch: '\u{0}' }
        );
    }

    #[test]
    fn conversions() {
        let from_str: Jid = "a@b/c".parse().unwrap();
        let try_from = Jid::try_from("a@b/c").unwrap();
        let jid_ref = JidRef::try_from("a@b/c").unwrap();
        assert_eq!(from_str, try_from);
        assert_eq!(Jid::from(jid_ref), from_str);
        assert_eq!(JidRef::from(&from_str), jid_ref);
        assert_eq!(from_str.as_ref(), "a@b/c");
        assert!("@b".parse::<Jid>().is_err());
    }

    #[test]
    fn display_and_debug() {
        let jid = Jid::parse("a@Example.com./r").unwrap();
        assert_eq!(jid.to_string(), "a@Example.com/r");
        assert_eq!(format!("{jid:?}"), r#"Jid("a@Example.com/r")"#);
        let jid = JidRef::parse("a@Example.com./r").unwrap();
        assert_eq!(format!("{jid:?}"), r#"JidRef("a@Example.com./r")"#);
        assert_eq!(jid.bare().to_string(), "a@Example.com");
    }

    #[test]
    fn error_display() {
        assert_eq!(JidError::EmptyLocal.to_string(), "JID localpart is empty");
        assert_eq!(
            JidError::ForbiddenCharInDomain { ch: ' ' }.to_string(),
            "JID domainpart contains forbidden character ' '"
        );
        let boxed: &dyn core::error::Error = &JidError::InvalidIpLiteral;
        assert!(boxed.to_string().contains("IPv6"));
    }

    fn local_strategy() -> impl Strategy<Value = String> {
        prop_oneof![
            "[a-zA-Z0-9._+!#$%*=?^{|}~-]{1,24}",
            "[a-zäöüßéΣσ日本0-9]{1,8}",
        ]
    }

    fn domain_strategy() -> impl Strategy<Value = String> {
        let label = prop_oneof!["[a-zA-Z0-9_-]{1,20}", "[a-zäöüÄÖÜ例え-]{1,6}"];
        let names = proptest::collection::vec(label, 1..5).prop_map(|labels| labels.join("."));
        let ipv6 = any::<[u16; 8]>()
            .prop_map(|segments| format!("[{}]", core::net::Ipv6Addr::from(segments)));
        prop_oneof![4 => names, 1 => ipv6]
    }

    fn resource_strategy() -> impl Strategy<Value = String> {
        prop_oneof!["[a-zA-Z0-9 @/._-]{1,24}", "\\PC{1,16}"]
    }

    /// Inputs built from the characters that matter to the parser, so that
    /// the interesting cases come up far more often than with random text.
    fn structured_input() -> impl Strategy<Value = String> {
        "[a@/.\\[\\]:1fA ä\u{0}\u{212A}\u{3002}\u{FFFF}-]{0,24}"
    }

    fn any_input() -> impl Strategy<Value = String> {
        prop_oneof![
            4 => any::<String>(),
            4 => structured_input(),
            // Long enough to cross the 1023-byte part limits.
            1 => "[a@/.]{1000,3200}",
        ]
    }

    #[test]
    fn one_pass_layout_refuses_what_the_property_test_once_caught() {
        // A 64-byte label (one over the limit), and a forbidden non-ASCII localpart.
        let label = format!("{}-AaA", "a".repeat(60));
        assert!(ascii_layout(&label).is_none());
        assert!(JidRef::parse(&label).is_err());
        assert!(ascii_layout("\u{3000}@a").is_none());
        assert_eq!(
            JidRef::parse("\u{3000}@a").map(|_| ()),
            Err(JidError::ForbiddenCharInLocal { ch: '\u{3000}' })
        );
    }

    proptest! {
        #[test]
        fn one_pass_layout_agrees_with_the_part_by_part_one(
            text in prop_oneof![
                // Mostly well-formed, so that the one-pass path answers often ...
                "([a-zA-Z0-9._!\\-\u{e9}\u{ff21}\u{3000}\u{85}]{0,8}@)?[a-zA-Z0-9._\\-]{0,12}(/[ -~]{0,6})?",
                // ... and anything near it.
                "[a-zA-Z0-9._@/\\[\\]:\"& \\-\u{e9}\u{ff21}\u{7f}]{0,24}",
            ],
            long in 0..3usize,
        ) {
            // Long labels and parts too: around the 63- and 1023-byte limits.
            let text = match long {
                0 => text,
                1 => format!("{}{text}", "a".repeat(60)),
                _ => format!("{text}{}", "b".repeat(1020)),
            };
            if let Some(fast) = ascii_layout(&text) {
                let full = full_layout(&text);
                prop_assert!(full.is_ok(), "{:?}: {:?}", text, full.err());
                let full = full.unwrap_or(fast);
                prop_assert_eq!(
                    (fast.at, fast.domain_end, fast.slash),
                    (full.at, full.domain_end, full.slash),
                    "{:?}", text
                );
            }
        }
    }

    proptest! {
        #[test]
        fn parse_of_display_round_trips(
            local in proptest::option::of(local_strategy()),
            domain in domain_strategy(),
            resource in proptest::option::of(resource_strategy()),
            trailing_dot in any::<bool>(),
        ) {
            let written_domain = if trailing_dot { format!("{domain}.") } else { domain.clone() };
            let jid = Jid::new(local.as_deref(), &written_domain, resource.as_deref()).unwrap();
            prop_assert_eq!(jid.local(), local.as_deref());
            prop_assert_eq!(jid.domain(), domain.as_str());
            prop_assert_eq!(jid.resource(), resource.as_deref());

            let text = jid.to_string();
            let reparsed = Jid::parse(&text).unwrap();
            prop_assert_eq!(&reparsed, &jid);
            prop_assert_eq!(reparsed.as_str(), jid.as_str());
            prop_assert_eq!(reparsed.local(), jid.local());
            prop_assert_eq!(reparsed.domain(), jid.domain());
            prop_assert_eq!(reparsed.resource(), jid.resource());
        }

        #[test]
        fn parse_never_panics(input in any_input()) {
            let _ = Jid::parse(&input);
            if let Ok(jid) = JidRef::parse(&input) {
                let _ = (jid.bare(), jid.to_string(), jid.to_owned_jid().to_bare());
            }
        }

        #[test]
        fn jid_and_jid_ref_agree(input in any_input()) {
            match (Jid::parse(&input), JidRef::parse(&input)) {
                (Ok(owned), Ok(borrowed)) => {
                    prop_assert_eq!(owned.local(), borrowed.local());
                    prop_assert_eq!(owned.domain(), borrowed.domain());
                    prop_assert_eq!(owned.resource(), borrowed.resource());
                    prop_assert_eq!(owned.is_bare(), borrowed.is_bare());
                    prop_assert_eq!(owned.as_str(), borrowed.to_string());
                    prop_assert_eq!(&owned, &borrowed);
                    prop_assert_eq!(hash_of(&owned), hash_of(&borrowed));
                    prop_assert_eq!(owned.to_bare(), borrowed.bare());
                    // Parts must be reusable to rebuild the same JID.
                    let rebuilt =
                        Jid::new(owned.local(), owned.domain(), owned.resource()).unwrap();
                    prop_assert_eq!(rebuilt.as_str(), owned.as_str());
                }
                (Err(owned), Err(borrowed)) => prop_assert_eq!(owned, borrowed),
                (owned, borrowed) => prop_assert!(false, "{:?} vs {:?}", owned, borrowed),
            }
        }

        #[test]
        fn domain_case_does_not_affect_eq_hash_or_order(
            local in proptest::option::of(local_strategy()),
            domain in domain_strategy(),
            resource in proptest::option::of(resource_strategy()),
            other in domain_strategy(),
        ) {
            let jid = Jid::new(local.as_deref(), &domain, resource.as_deref()).unwrap();
            let upper: String = domain.chars().flat_map(char::to_uppercase).collect();
            // Lowercasing does not always undo uppercasing ('ß' becomes "SS"
            // and then "ss"), so only compare when it does.
            if domain_chars(&upper).eq(domain_chars(&domain)) {
                let shouted = Jid::new(local.as_deref(), &upper, resource.as_deref()).unwrap();
                prop_assert_eq!(&jid, &shouted);
                prop_assert_eq!(hash_of(&jid), hash_of(&shouted));
                prop_assert_eq!(jid.cmp(&shouted), Ordering::Equal);
            }
            let different = Jid::new(local.as_deref(), &other, resource.as_deref()).unwrap();
            prop_assert_eq!(jid == different, jid.cmp(&different) == Ordering::Equal);
            prop_assert_eq!(jid.cmp(&different), different.cmp(&jid).reverse());
        }
    }
}
