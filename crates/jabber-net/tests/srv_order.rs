//! The SRV ordering rules (RFC 2782, XEP-0368) on fixed records and fixed seeds.

use jabber_net::Options;
use jabber_net::srv::{Endpoint, SrvRecord, endpoints, rfc2782_order};

fn ep(host: &str, port: u16, direct_tls: bool) -> Endpoint {
    Endpoint {
        host: host.into(),
        port,
        direct_tls,
    }
}

/// Hosts and ports in order, one line each: what the adapter will try.
fn plan(list: &[Endpoint]) -> String {
    list.iter()
        .map(|e| {
            format!(
                "{}:{}{}\n",
                e.host,
                e.port,
                if e.direct_tls { " tls" } else { "" }
            )
        })
        .collect()
}

#[test]
fn no_records_fall_back_to_the_domain_on_5222() {
    assert_eq!(
        endpoints("example.org", None, None, 7),
        [ep("example.org", 5222, false)]
    );
    assert_eq!(
        endpoints("example.org", Some(&[]), Some(&[]), 7),
        [ep("example.org", 5222, false)]
    );
}

#[test]
fn a_dot_target_means_no_service_and_no_fallback() {
    let refuse = [SrvRecord::new(0, 0, 0, ".")];
    assert_eq!(endpoints("example.org", None, Some(&refuse), 7), []);
    assert_eq!(
        endpoints("example.org", Some(&refuse), Some(&refuse), 7),
        []
    );
    // A refusal of one service leaves the other.
    let starttls = [SrvRecord::new(5, 0, 5222, "xmpp.example.org.")];
    assert_eq!(
        endpoints("example.org", Some(&refuse), Some(&starttls), 7),
        [ep("xmpp.example.org", 5222, false)]
    );
}

#[test]
fn fixed_seed_gives_this_exact_order() {
    let direct = [
        SrvRecord::new(10, 60, 443, "a.example.org."),
        SrvRecord::new(20, 0, 5223, "backup.example.org."),
    ];
    let starttls = [
        SrvRecord::new(10, 30, 5222, "b.example.org."),
        SrvRecord::new(10, 10, 5222, "c.example.org."),
        SrvRecord::new(10, 0, 5222, "d.example.org."),
        SrvRecord::new(5, 0, 5222, "first.example.org."),
    ];
    let got = endpoints("example.org", Some(&direct), Some(&starttls), 42);
    assert_eq!(
        plan(&got),
        "\
first.example.org:5222
b.example.org:5222
a.example.org:443 tls
c.example.org:5222
d.example.org:5222
backup.example.org:5223 tls
"
    );
    let got = endpoints("example.org", Some(&direct), Some(&starttls), 43);
    assert_eq!(
        plan(&got),
        "\
first.example.org:5222
a.example.org:443 tls
b.example.org:5222
c.example.org:5222
d.example.org:5222
backup.example.org:5223 tls
"
    );
}

#[test]
fn weights_share_the_first_place_as_rfc_2782_says() {
    // Draws are uniform in 0..=total (101 values): weight 0 wins only on 0.
    let mut firsts = [0u32; 4];
    for seed in 0..10_100u64 {
        let order = rfc2782_order(vec![(1, 60, 0), (1, 30, 1), (1, 10, 2), (1, 0, 3)], seed);
        firsts[order[0]] += 1;
    }
    let expected = [6000.0, 3000.0, 1000.0, 100.0];
    for (got, want) in firsts.iter().zip(expected) {
        let got = f64::from(*got);
        assert!((got - want).abs() < want * 0.1 + 30.0, "{firsts:?}");
    }
}

#[test]
fn priorities_are_strict_and_every_record_comes_once() {
    for seed in 0..200u64 {
        let records = vec![
            (3, 5, 'e'),
            (1, 0, 'a'),
            (2, 7, 'c'),
            (1, 9, 'b'),
            (2, 1, 'd'),
        ];
        let order = rfc2782_order(records, seed);
        let mut sorted = order.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, ['a', 'b', 'c', 'd', 'e']);
        assert!(matches!(order[..2], ['a', 'b'] | ['b', 'a']));
        assert!(matches!(order[2..4], ['c', 'd'] | ['d', 'c']));
        assert_eq!(order[4], 'e');
    }
}

#[test]
fn endpoint_options_pick_the_tls_mode() {
    let options = Options::default();
    let direct = options.for_endpoint(&ep("h", 5223, true)).expect("usable");
    assert!(direct.tls.is_some());
    let plain = options.for_endpoint(&ep("h", 5222, false)).expect("usable");
    assert!(plain.tls.is_none() && plain.starttls.is_some());
    // Only STARTTLS settings: they serve direct TLS too.
    let starttls_only = Options::starttls(jabber_net::Tls::default());
    assert!(
        starttls_only
            .for_endpoint(&ep("h", 5223, true))
            .expect("usable")
            .tls
            .is_some()
    );
    // No TLS at all: a direct-TLS endpoint is skipped.
    let mut none = Options::plain();
    none.starttls = None;
    assert!(none.for_endpoint(&ep("h", 5223, true)).is_none());
    assert!(none.for_endpoint(&ep("h", 5222, false)).is_some());
}
