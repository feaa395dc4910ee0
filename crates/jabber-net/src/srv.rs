//! Where to connect for an XMPP domain, from its SRV records: the ordering rules of
//! RFC 2782 and XEP-0368, without any I/O. [`resolve`](crate::resolve) does the queries
//! and hands their answers here, so the rules are tested with fixed records and a fixed
//! seed.

/// The default port of `_xmpp-client._tcp` (RFC 6120 §3.2.1), used when a domain has no
/// SRV records.
pub const DEFAULT_PORT: u16 = 5222;

/// One SRV record of `_xmpps-client._tcp` or `_xmpp-client._tcp`, as the DNS gave it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SrvRecord {
    /// Lower is tried first.
    pub priority: u16,
    /// Relative chance among records of the same priority (0: only when nothing else).
    pub weight: u16,
    /// The TCP port.
    pub port: u16,
    /// The host to connect to, without a trailing dot. `"."` (or empty) says the service
    /// is not offered at all.
    pub target: String,
}

impl SrvRecord {
    /// A record; `target` may carry the DNS's trailing dot, which is dropped.
    pub fn new(priority: u16, weight: u16, port: u16, target: &str) -> SrvRecord {
        let target = match target.strip_suffix('.') {
            Some(t) if !t.is_empty() => t,
            _ => target,
        };
        SrvRecord {
            priority,
            weight,
            port,
            target: target.to_owned(),
        }
    }

    /// RFC 2782: a lone record whose target is `.` means "decidedly not available".
    fn is_refusal(&self) -> bool {
        self.target == "." || self.target.is_empty()
    }
}

/// A host and port to try, and how TLS starts there.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Endpoint {
    /// The host name (or address) to resolve.
    pub host: String,
    /// The TCP port.
    pub port: u16,
    /// TLS from the first byte (an `_xmpps-client` record, XEP-0368), rather than plain
    /// TCP upgraded with STARTTLS.
    pub direct_tls: bool,
}

/// The endpoints of `domain` in the order to try them, from the answers to the
/// `_xmpps-client._tcp` (direct TLS) and `_xmpp-client._tcp` (STARTTLS) queries; `None`
/// for a query that found no records (or failed).
///
/// Both lists are merged into one and ordered by RFC 2782: lower priority first, and
/// within one priority a weighted random order drawn from `seed` (XEP-0368 §3: direct
/// TLS and STARTTLS records compete on equal terms). With no records at all the domain
/// itself on port [`DEFAULT_PORT`] (STARTTLS) is the one endpoint. When the records
/// there are say the service is not offered (target `.`), the list is empty.
///
/// ```
/// use jabber_net::srv::{Endpoint, SrvRecord, endpoints};
/// let fallback = endpoints("example.com", None, None, 1);
/// assert_eq!(fallback, [Endpoint { host: "example.com".into(), port: 5222, direct_tls: false }]);
/// let xmpps = [SrvRecord::new(0, 0, 443, "xmpp.example.com.")];
/// let found = endpoints("example.com", Some(&xmpps), None, 1);
/// assert_eq!(found, [Endpoint { host: "xmpp.example.com".into(), port: 443, direct_tls: true }]);
/// ```
pub fn endpoints(
    domain: &str,
    direct_tls: Option<&[SrvRecord]>,
    starttls: Option<&[SrvRecord]>,
    seed: u64,
) -> Vec<Endpoint> {
    let tagged = direct_tls
        .unwrap_or_default()
        .iter()
        .map(|r| (r, true))
        .chain(starttls.unwrap_or_default().iter().map(|r| (r, false)));
    let (refusals, usable): (Vec<_>, Vec<_>) = tagged.partition(|(r, _)| r.is_refusal());
    if usable.is_empty() {
        if !refusals.is_empty() {
            return Vec::new();
        }
        return vec![Endpoint {
            host: domain.to_owned(),
            port: DEFAULT_PORT,
            direct_tls: false,
        }];
    }
    let weighted: Vec<(u16, u16, Endpoint)> = usable
        .into_iter()
        .map(|(r, direct_tls)| {
            let endpoint = Endpoint {
                host: r.target.clone(),
                port: r.port,
                direct_tls,
            };
            (r.priority, r.weight, endpoint)
        })
        .collect();
    rfc2782_order(weighted, seed)
}

/// RFC 2782's selection: by ascending priority; within a priority, repeatedly pick one
/// of the remaining records with probability proportional to its weight (weight-0
/// records first in the running sum, so they are chosen only when the draw is 0 or
/// nothing else is left).
pub fn rfc2782_order<T>(mut records: Vec<(u16, u16, T)>, seed: u64) -> Vec<T> {
    let mut rng = SplitMix64(seed);
    // Stable: weight-0 records first within each priority, the given order otherwise.
    records.sort_by_key(|(priority, weight, _)| (*priority, *weight != 0));
    let mut ordered = Vec::with_capacity(records.len());
    let mut rest = records.into_iter().peekable();
    while let Some(&(priority, _, _)) = rest.peek() {
        let mut group: Vec<(u16, T)> = Vec::new();
        while let Some((_, weight, item)) = rest.next_if(|(p, _, _)| *p == priority) {
            group.push((weight, item));
        }
        while !group.is_empty() {
            let total: u64 = group.iter().map(|(w, _)| u64::from(*w)).sum();
            // A number in 0..=total, as the RFC says.
            let draw = rng.next() % (total + 1);
            let mut running = 0;
            let pick = group
                .iter()
                .position(|(w, _)| {
                    running += u64::from(*w);
                    running >= draw
                })
                .unwrap_or(0);
            ordered.push(group.remove(pick).1);
        }
    }
    ordered
}

/// splitmix64: small, fast, and plenty for spreading load over a handful of hosts.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}
