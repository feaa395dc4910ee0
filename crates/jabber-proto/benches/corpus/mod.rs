//! Deterministic generator of server-to-client XMPP streams for benchmarks and tests.
//!
//! Every corpus is one complete stream: the XML declaration, the
//! `<stream:stream …>` header, a run of top-level stanzas and the closing
//! `</stream:stream>`. The same `(target_bytes, seed)` always yields the same
//! bytes; nothing here depends on the platform, the clock or a `rand` crate.
//!
//! Used from `benches/pipeline.rs` with `mod corpus;` and from tests with
//! `#[path = "../benches/corpus/mod.rs"] mod corpus;`.

// Shared between several targets, each of which uses only part of it.
#![allow(dead_code, unreachable_pub)]

/// Exact size in bytes of every stanza in the [`tiny`] corpus.
pub const TINY_STANZA_LEN: usize = 146;

/// Closing tag that ends every corpus.
pub const STREAM_CLOSE: &str = "</stream:stream>";

/// A generated stream together with what the generator knows about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Corpus {
    /// The complete stream, declaration to `</stream:stream>`.
    pub bytes: Vec<u8>,
    /// Number of top-level stanzas between the header and the close.
    pub stanzas: usize,
    /// Of those, `<message/>` stanzas.
    pub messages: usize,
    /// Of those, `<presence/>` stanzas.
    pub presences: usize,
    /// Of those, roster `<iq/>` results.
    pub iqs: usize,
    /// Length of the declaration plus the `<stream:stream …>` header.
    pub header_len: usize,
}

/// Mixed traffic of about `target_bytes` bytes: 60 % chat messages, 30 %
/// presence, 10 % roster results (by stanza count).
pub fn mixed(target_bytes: usize, seed: u64) -> Vec<u8> {
    mixed_corpus(target_bytes, seed).bytes
}

/// Chat messages of exactly [`TINY_STANZA_LEN`] bytes each, about
/// `target_bytes` bytes in all.
pub fn tiny(target_bytes: usize, seed: u64) -> Vec<u8> {
    tiny_corpus(target_bytes, seed).bytes
}

/// [`mixed`] with its stanza counts (see [`three_kinds`] for how it fills).
pub fn mixed_corpus(target_bytes: usize, seed: u64) -> Corpus {
    let g = Gen::new(seed ^ 0x6d69_7865_6400_0000);
    three_kinds(g, target_bytes, [Gen::message, Gen::presence, Gen::roster])
}

/// Stanzas of three kinds — 60 % messages, 30 % presence, 10 % IQs (by stanza count) —
/// added while the stream, with its close, stays within `target_bytes`; at least one
/// stanza is always written.
fn three_kinds(mut g: Gen, target_bytes: usize, kinds: [fn(&mut Gen, &mut String); 3]) -> Corpus {
    let mut c = g.start();
    let mut stanza = String::with_capacity(8 * 1024);
    loop {
        stanza.clear();
        let roll = g.below(100);
        let kind = match roll {
            0..60 => 0,
            60..90 => 1,
            _ => 2,
        };
        kinds[kind](&mut g, &mut stanza);
        if c.stanzas > 0 && c.bytes.len() + stanza.len() + STREAM_CLOSE.len() > target_bytes {
            break;
        }
        c.bytes.extend_from_slice(stanza.as_bytes());
        c.stanzas += 1;
        match kind {
            0 => c.messages += 1,
            1 => c.presences += 1,
            _ => c.iqs += 1,
        }
    }
    c.bytes.extend_from_slice(STREAM_CLOSE.as_bytes());
    c
}

/// Typed instant messaging of about `target_bytes` bytes: 60 % chat messages with
/// extensions (a `urn:xmpp:delay` stamp, a chat state, a receipt request, a
/// `jabber:x:event` request), 30 % presence with show, status, priority and a
/// `urn:xmpp:delay` stamp, 10 % roster pushes (no `from`: from our own account) — the
/// stanzas whose typed events issue 10 added.
pub fn typed_im_corpus(target_bytes: usize, seed: u64) -> Corpus {
    let g = Gen::new(seed ^ 0x7479_7065_6400_0000);
    let kinds = [Gen::rich_message, Gen::stamped_presence, Gen::roster_push];
    three_kinds(g, target_bytes, kinds)
}

/// [`tiny`] with its stanza count.
pub fn tiny_corpus(target_bytes: usize, seed: u64) -> Corpus {
    let mut g = Gen::new(seed ^ 0x7469_6e79_0000_0000);
    let mut c = g.start();
    let room = target_bytes.saturating_sub(c.bytes.len() + STREAM_CLOSE.len());
    let count = (room / TINY_STANZA_LEN).max(1);
    c.bytes
        .reserve(count * TINY_STANZA_LEN + STREAM_CLOSE.len());
    let mut stanza = String::with_capacity(TINY_STANZA_LEN);
    for _ in 0..count {
        stanza.clear();
        g.tiny_message(&mut stanza);
        assert_eq!(
            stanza.len(),
            TINY_STANZA_LEN,
            "tiny stanza has the wrong size: {stanza}"
        );
        c.bytes.extend_from_slice(stanza.as_bytes());
    }
    c.stanzas = count;
    c.messages = count;
    c.bytes.extend_from_slice(STREAM_CLOSE.as_bytes());
    c
}

/// splitmix64: tiny, fast, and good enough to vary test data.
#[derive(Debug, Clone)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    /// A generator whose sequence is fixed by `seed`.
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    /// The next 64 pseudo-random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (`n > 0`); the tiny modulo bias does not matter here.
    pub fn below(&mut self, n: u64) -> u64 {
        // Multiply-high maps the 64 random bits onto 0..n.
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// Uniform in `lo..=hi`.
    pub fn between(&mut self, lo: usize, hi: usize) -> usize {
        lo + self.below((hi - lo + 1) as u64) as usize
    }

    /// One element of a non-empty slice.
    pub fn pick<'a, T: ?Sized>(&mut self, items: &[&'a T]) -> &'a T {
        items[self.below(items.len() as u64) as usize]
    }
}

/// Body and status vocabulary, already escaped for XML character data.
/// Non-ASCII words, the five predefined entities and character references
/// are all present so that a parser has to decode UTF-8 and unescape.
#[rustfmt::skip]
const WORDS: &[&str] = &[
    "hello", "there", "the", "a", "meeting", "is", "moved", "to", "tomorrow", "at", "noon",
    "please", "check", "your", "roster", "server", "restart", "tonight", "lunch", "coffee",
    "sounds", "good", "thanks", "see", "you", "later", "ok", "on", "my", "way", "link",
    "build", "passed", "failed", "again", "why", "not", "and", "or", "with", "from",
    "café", "naïve", "Grüße", "日本語", "привет", "façade", "smörgåsbord", "Zürich", "😀",
    "&amp;", "R&amp;D", "a&lt;b", "x&gt;y", "&quot;quoted&quot;", "it&apos;s", "&lt;3",
    "caf&#233;", "&#233;t&#233;", "&#x263A;", "&#x65E5;&#x672C;",
];

#[rustfmt::skip]
const NAMES: &[&str] = &[
    "alice", "bob", "carol", "dave", "eve", "frank", "grace", "heidi", "ivan", "judy",
    "mallory", "oscar", "peggy", "trent", "victor", "walter", "zoë", "jürgen", "søren", "renée",
];

#[rustfmt::skip]
const DISPLAY_NAMES: &[&str] = &[
    "Alice", "Bob B.", "Carol &amp; Co", "Dave", "Eve (work)", "Frank", "Grace Hopper",
    "Heidi", "Ivan Иванов", "Judy", "Mallory", "Oscar", "Peggy", "Trent", "Victor",
    "Walter", "Zoë", "Jürgen", "Søren", "Renée", "山田太郎", "&quot;Tim&quot;",
];

const DOMAINS: &[&str] = &[
    "example.com",
    "example.org",
    "chat.example.net",
    "xmpp.example.de",
];

const RESOURCES: &[&str] = &["phone", "laptop", "desktop", "tablet", "gajim.3F2A", "work"];

#[rustfmt::skip]
const GROUPS: &[&str] = &[
    "Friends", "Family", "Work", "Coworkers", "Team &amp; Partners", "Familie", "Друзья",
    "友達", "Old school", "Conference",
];

const SHOWS: &[&str] = &["away", "chat", "dnd", "xa"];

/// Generator state: the PRNG plus a serial for unique ids.
struct Gen {
    rng: SplitMix64,
    serial: u64,
}

impl Gen {
    fn new(seed: u64) -> Self {
        Self {
            rng: SplitMix64::new(seed),
            serial: 0,
        }
    }

    fn below(&mut self, n: u64) -> u64 {
        self.rng.below(n)
    }

    /// An empty corpus holding the declaration and stream header.
    fn start(&mut self) -> Corpus {
        let mut head = String::new();
        head.push_str(
            "<?xml version='1.0'?><stream:stream xmlns='jabber:client' \
             xmlns:stream='http://etherx.jabber.org/streams' from='example.com' id='",
        );
        push_hex(&mut head, self.rng.next_u64());
        head.push_str("' version='1.0'>");
        Corpus {
            header_len: head.len(),
            bytes: head.into_bytes(),
            stanzas: 0,
            messages: 0,
            presences: 0,
            iqs: 0,
        }
    }

    fn next_id(&mut self, out: &mut String, prefix: &str) {
        self.serial += 1;
        out.push_str(prefix);
        push_u64(out, self.serial);
    }

    fn bare_jid(&mut self, out: &mut String) {
        out.push_str(self.rng.pick(NAMES));
        out.push('@');
        out.push_str(self.rng.pick(DOMAINS));
    }

    fn full_jid(&mut self, out: &mut String) {
        self.bare_jid(out);
        out.push('/');
        out.push_str(self.rng.pick(RESOURCES));
    }

    /// Appends words until the text has `chars` characters once unescaped;
    /// ASCII letters fill the last gap exactly.
    fn text(&mut self, out: &mut String, chars: usize) {
        let mut have = 0;
        while have < chars {
            let word = self.rng.pick(WORDS);
            let sep = usize::from(have > 0);
            let len = unescaped_chars(word);
            if have + sep + len > chars {
                break;
            }
            if sep == 1 {
                out.push(' ');
            }
            out.push_str(word);
            have += sep + len;
        }
        while have < chars {
            out.push(char::from(b'a' + (self.rng.below(26) as u8)));
            have += 1;
        }
    }

    /// `<message type='chat'>` with body, thread and a chat-state event.
    fn message(&mut self, out: &mut String) {
        out.push_str("<message from='");
        self.full_jid(out);
        out.push_str("' to='");
        self.full_jid(out);
        out.push_str("' type='chat' id='");
        self.next_id(out, "m");
        out.push_str("'><body>");
        let chars = self.rng.between(20, 400);
        self.text(out, chars);
        out.push_str("</body><thread>");
        push_hex(out, self.rng.next_u64());
        out.push_str("</thread><x xmlns='jabber:x:event'><composing/></x></message>");
    }

    /// `<presence>` with show, status, priority and a legacy delay stamp.
    fn presence(&mut self, out: &mut String) {
        out.push_str("<presence from='");
        self.full_jid(out);
        out.push_str("' to='");
        self.full_jid(out);
        out.push_str("' id='");
        self.next_id(out, "p");
        out.push_str("'><show>");
        out.push_str(self.rng.pick(SHOWS));
        out.push_str("</show><status>");
        let chars = self.rng.between(5, 60);
        self.text(out, chars);
        out.push_str("</status><priority>");
        push_u64(out, self.rng.below(128));
        out.push_str("</priority><x xmlns='jabber:x:delay' from='");
        self.bare_jid(out);
        out.push_str("' stamp='2026");
        push_2(out, 1 + self.rng.below(12));
        push_2(out, 1 + self.rng.below(28));
        out.push('T');
        push_2(out, self.rng.below(24));
        out.push(':');
        push_2(out, self.rng.below(60));
        out.push(':');
        push_2(out, self.rng.below(60));
        out.push_str("'/></presence>");
    }

    /// Roster result with 1–50 items.
    fn roster(&mut self, out: &mut String) {
        out.push_str("<iq type='result' id='");
        self.next_id(out, "r");
        out.push_str("' to='");
        self.full_jid(out);
        out.push_str("'><query xmlns='jabber:iq:roster'>");
        let items = self.rng.between(1, 50);
        for _ in 0..items {
            out.push_str("<item jid='");
            self.bare_jid(out);
            out.push_str("' name='");
            out.push_str(self.rng.pick(DISPLAY_NAMES));
            out.push_str("' subscription='both'><group>");
            out.push_str(self.rng.pick(GROUPS));
            out.push_str("</group></item>");
        }
        out.push_str("</query></iq>");
    }

    /// A XEP-0082 stamp in 2026.
    fn stamp(&mut self, out: &mut String) {
        out.push_str("2026-");
        push_2(out, 1 + self.rng.below(12));
        out.push('-');
        push_2(out, 1 + self.rng.below(28));
        out.push('T');
        push_2(out, self.rng.below(24));
        out.push(':');
        push_2(out, self.rng.below(60));
        out.push(':');
        push_2(out, self.rng.below(60));
        out.push('Z');
    }

    /// A chat message with a delay stamp, a chat state, a receipt and an event request.
    fn rich_message(&mut self, out: &mut String) {
        out.push_str("<message from='");
        self.full_jid(out);
        out.push_str("' to='");
        self.full_jid(out);
        out.push_str("' type='chat' id='");
        self.next_id(out, "m");
        out.push_str("'><body>");
        let chars = self.rng.between(20, 300);
        self.text(out, chars);
        out.push_str("</body><thread>");
        push_hex(out, self.rng.next_u64());
        out.push_str("</thread><active xmlns='http://jabber.org/protocol/chatstates'/>");
        out.push_str("<request xmlns='urn:xmpp:receipts'/>");
        out.push_str("<x xmlns='jabber:x:event'><delivered/><composing/></x>");
        out.push_str("<delay xmlns='urn:xmpp:delay' from='");
        self.bare_jid(out);
        out.push_str("' stamp='");
        self.stamp(out);
        out.push_str("'>Offline Storage</delay></message>");
    }

    /// Presence with show, status, priority and a `urn:xmpp:delay` stamp.
    fn stamped_presence(&mut self, out: &mut String) {
        out.push_str("<presence from='");
        self.full_jid(out);
        out.push_str("' to='");
        self.full_jid(out);
        out.push_str("'><show>");
        out.push_str(self.rng.pick(SHOWS));
        out.push_str("</show><status>");
        let chars = self.rng.between(5, 60);
        self.text(out, chars);
        out.push_str("</status><priority>");
        push_u64(out, self.rng.below(128));
        out.push_str("</priority><delay xmlns='urn:xmpp:delay' from='");
        self.bare_jid(out);
        out.push_str("' stamp='");
        self.stamp(out);
        out.push_str("'/></presence>");
    }

    /// A roster push of one item (no `from`: it comes from our own account).
    fn roster_push(&mut self, out: &mut String) {
        out.push_str("<iq type='set' id='");
        self.next_id(out, "push");
        out.push_str("'><query xmlns='jabber:iq:roster'><item jid='");
        self.bare_jid(out);
        out.push_str("' name='");
        out.push_str(self.rng.pick(DISPLAY_NAMES));
        out.push_str("' subscription='both'><group>");
        out.push_str(self.rng.pick(GROUPS));
        out.push_str("</group></item></query></iq>");
    }

    /// A chat message of exactly [`TINY_STANZA_LEN`] bytes.
    fn tiny_message(&mut self, out: &mut String) {
        out.push_str("<message from='");
        self.full_jid(out);
        out.push_str("' to='");
        self.bare_jid(out);
        out.push_str("' type='chat' id='");
        self.next_id(out, "t");
        out.push_str("'><body>");
        const TAIL: &str = "</body></message>";
        let room = TINY_STANZA_LEN
            .checked_sub(out.len() + TAIL.len())
            .expect("tiny stanza template too long");
        // Whole words while they fit (a few misses allowed), then ASCII
        // letters close the gap exactly.
        let start = out.len();
        let mut misses = 0;
        while misses < 4 {
            let word = self.rng.pick(WORDS);
            let used = out.len() - start;
            let sep = usize::from(used > 0);
            if used + sep + word.len() > room {
                misses += 1;
                continue;
            }
            if sep == 1 {
                out.push(' ');
            }
            out.push_str(word);
        }
        while out.len() - start < room {
            out.push(char::from(b'a' + (self.rng.below(26) as u8)));
        }
        out.push_str(TAIL);
    }
}

/// Characters in `escaped` once each `&…;` reference counts as one.
fn unescaped_chars(escaped: &str) -> usize {
    let mut n = 0;
    let mut in_ref = false;
    for c in escaped.chars() {
        match c {
            '&' => in_ref = true,
            ';' if in_ref => {
                in_ref = false;
                n += 1;
            }
            _ if in_ref => {}
            _ => n += 1,
        }
    }
    n
}

fn push_u64(out: &mut String, mut v: u64) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    for &d in &digits[i..] {
        out.push(char::from(d));
    }
}

fn push_2(out: &mut String, v: u64) {
    out.push(char::from(b'0' + (v / 10 % 10) as u8));
    out.push(char::from(b'0' + (v % 10) as u8));
}

fn push_hex(out: &mut String, v: u64) {
    for shift in (0..16).rev() {
        let nibble = ((v >> (shift * 4)) & 0xf) as u8;
        out.push(char::from(if nibble < 10 {
            b'0' + nibble
        } else {
            b'a' + nibble - 10
        }));
    }
}
