//! `tls-server-end-point` channel-binding data (RFC 5929 §4.1): the hash of the server's
//! certificate, with the hash its signature uses.
//!
//! RFC 5929 §4.1: the hash is that of the certificate's `signatureAlgorithm`; MD5 and
//! SHA-1 are replaced by SHA-256; an algorithm with no single hash (Ed25519, Ed448) or
//! several leaves the type undefined, and so does one we do not know: then the link
//! offers no `tls-server-end-point` at all rather than data the server would compute
//! differently.
//!
//! The certificate comes from the network: it is read with a small DER reader that
//! looks at three elements (`Certificate`, its `signatureAlgorithm`, and RSASSA-PSS's
//! hash parameter), is bounded by the input's length, does not recurse, and answers
//! `None` for anything it does not expect.

use sha2::{Digest, Sha224, Sha256, Sha384, Sha512};

/// The hash `tls-server-end-point` uses for a certificate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum EndPointHash {
    Sha224,
    Sha256,
    Sha384,
    Sha512,
}

impl EndPointHash {
    fn digest(self, data: &[u8]) -> Vec<u8> {
        match self {
            EndPointHash::Sha224 => Sha224::digest(data).to_vec(),
            EndPointHash::Sha256 => Sha256::digest(data).to_vec(),
            EndPointHash::Sha384 => Sha384::digest(data).to_vec(),
            EndPointHash::Sha512 => Sha512::digest(data).to_vec(),
        }
    }
}

/// The `tls-server-end-point` data of the DER certificate `cert`: `None` when the type
/// is undefined for it (see the module docs) or it is not a certificate we can read.
pub(crate) fn server_end_point(cert: &[u8]) -> Option<Vec<u8>> {
    end_point_hash(cert).map(|h| h.digest(cert))
}

// OIDs as their DER content bytes: compared as bytes, never decoded.
/// 1.2.840.113549.1.1 (PKCS #1); the last arc names the algorithm.
const PKCS1: &[u8] = &[0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x01];
/// 1.2.840.10045.4.3 (ECDSA with a SHA-2 hash); the last arc names the hash.
const ECDSA_SHA2: &[u8] = &[0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x04, 0x03];
/// 1.2.840.10045.4.1: ecdsa-with-SHA1.
const ECDSA_SHA1: &[u8] = &[0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x04, 0x01];
/// 1.2.840.10040.4.3: dsa-with-sha1.
const DSA_SHA1: &[u8] = &[0x2A, 0x86, 0x48, 0xCE, 0x38, 0x04, 0x03];
/// 2.16.840.1.101.3.4.3 (NIST signature algorithms); 1, 2: DSA with SHA-224, SHA-256.
const NIST_SIG: &[u8] = &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x03];
/// 2.16.840.1.101.3.4.2 (NIST hashes); 1–4: SHA-256, SHA-384, SHA-512, SHA-224.
const NIST_HASH: &[u8] = &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02];
/// 1.3.14.3.2.26: SHA-1.
const SHA1: &[u8] = &[0x2B, 0x0E, 0x03, 0x02, 0x1A];
/// 1.2.840.113549.2.5: MD5.
const MD5: &[u8] = &[0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x02, 0x05];

const SEQUENCE: u8 = 0x30;
const OID: u8 = 0x06;
/// `[0]` constructed: RSASSA-PSS-params' explicitly tagged `hashAlgorithm`.
const CONTEXT_0: u8 = 0xA0;

/// The hash for `cert`'s signature algorithm (RFC 5929 §4.1).
pub(crate) fn end_point_hash(cert: &[u8]) -> Option<EndPointHash> {
    // Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm, signatureValue }
    let mut certificate = Der::new(Der::new(cert).expect(SEQUENCE)?);
    certificate.expect(SEQUENCE)?; // tbsCertificate, skipped
    // AlgorithmIdentifier ::= SEQUENCE { algorithm OID, parameters ANY OPTIONAL }
    let mut algorithm = Der::new(certificate.expect(SEQUENCE)?);
    let oid = algorithm.expect(OID)?;
    if let Some(arc) = last_arc(oid, PKCS1) {
        return match arc {
            // md5WithRSAEncryption, sha1WithRSAEncryption: SHA-256 instead.
            4 | 5 => Some(EndPointHash::Sha256),
            // RSASSA-PSS: the hash is a parameter.
            10 => pss_hash(algorithm.next()),
            11 => Some(EndPointHash::Sha256),
            12 => Some(EndPointHash::Sha384),
            13 => Some(EndPointHash::Sha512),
            14 => Some(EndPointHash::Sha224),
            _ => None,
        };
    }
    if let Some(arc) = last_arc(oid, ECDSA_SHA2) {
        return match arc {
            1 => Some(EndPointHash::Sha224),
            2 => Some(EndPointHash::Sha256),
            3 => Some(EndPointHash::Sha384),
            4 => Some(EndPointHash::Sha512),
            _ => None,
        };
    }
    if oid == ECDSA_SHA1 || oid == DSA_SHA1 {
        return Some(EndPointHash::Sha256);
    }
    match last_arc(oid, NIST_SIG) {
        Some(1) => Some(EndPointHash::Sha224),
        Some(2) => Some(EndPointHash::Sha256),
        // EdDSA, SHA-3 and anything unknown: the type is undefined for us.
        _ => None,
    }
}

/// RSASSA-PSS-params' hash (RFC 4055 §3.1): `[0]` holding an AlgorithmIdentifier,
/// SHA-1 when absent (and SHA-1 means SHA-256 here).
fn pss_hash(params: Option<(u8, &[u8])>) -> Option<EndPointHash> {
    let (tag, params) = params?;
    if tag != SEQUENCE {
        return None;
    }
    let mut params = Der::new(params);
    let explicit = match params.next() {
        Some((CONTEXT_0, explicit)) => explicit,
        // No hashAlgorithm (the next field, or nothing): the default, SHA-1.
        Some(_) | None => return Some(EndPointHash::Sha256),
    };
    let mut hash = Der::new(Der::new(explicit).expect(SEQUENCE)?);
    let oid = hash.expect(OID)?;
    if oid == SHA1 || oid == MD5 {
        return Some(EndPointHash::Sha256);
    }
    match last_arc(oid, NIST_HASH)? {
        1 => Some(EndPointHash::Sha256),
        2 => Some(EndPointHash::Sha384),
        3 => Some(EndPointHash::Sha512),
        4 => Some(EndPointHash::Sha224),
        _ => None,
    }
}

/// The last arc of `oid` when it is `prefix` and one small arc (< 128, one byte).
fn last_arc(oid: &[u8], prefix: &[u8]) -> Option<u8> {
    match oid.strip_prefix(prefix)? {
        [arc] if *arc < 0x80 => Some(*arc),
        _ => None,
    }
}

/// A cursor over DER elements side by side (the content of one constructed element).
struct Der<'a> {
    rest: &'a [u8],
}

impl<'a> Der<'a> {
    fn new(input: &'a [u8]) -> Der<'a> {
        Der { rest: input }
    }

    /// The next element's tag and content; `None` at the end or on malformed input
    /// (after which the cursor is empty).
    fn next(&mut self) -> Option<(u8, &'a [u8])> {
        let parsed = self.read();
        if parsed.is_none() {
            self.rest = &[];
        }
        parsed
    }

    fn read(&mut self) -> Option<(u8, &'a [u8])> {
        let (&tag, rest) = self.rest.split_first()?;
        // High tag numbers (0x1F) are not in the elements we read.
        if tag & 0x1F == 0x1F {
            return None;
        }
        let (&first, mut rest) = rest.split_first()?;
        let len = if first < 0x80 {
            usize::from(first)
        } else {
            // Long form: 1–4 length bytes (0x80, indefinite, is not DER).
            let count = usize::from(first & 0x7F);
            if count == 0 || count > 4 || count > rest.len() {
                return None;
            }
            let (bytes, after) = rest.split_at(count);
            rest = after;
            bytes.iter().fold(0usize, |n, &b| (n << 8) | usize::from(b))
        };
        if len > rest.len() {
            return None;
        }
        let (content, after) = rest.split_at(len);
        self.rest = after;
        Some((tag, content))
    }

    /// The next element's content when it has `tag`.
    fn expect(&mut self, tag: u8) -> Option<&'a [u8]> {
        match self.next()? {
            (t, content) if t == tag => Some(content),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A self-signed certificate for `alg` with a fresh key (or `key`'s PEM).
    fn certificate(alg: &'static rcgen::SignatureAlgorithm, key: Option<&str>) -> Vec<u8> {
        let key = match key {
            Some(pem) => rcgen::KeyPair::from_pem_and_sign_algo(pem, alg).expect("key"),
            None => rcgen::KeyPair::generate_for(alg).expect("key generated"),
        };
        let params = rcgen::CertificateParams::new(vec!["example.com".into()]).expect("params");
        params.self_signed(&key).expect("signed").der().to_vec()
    }

    /// A test-only RSA key (ring cannot generate one), made with
    /// `openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048`.
    const RSA_KEY: &str = include_str!("../testdata/rsa-2048-test-key.pem");

    #[test]
    fn the_hash_follows_the_signature_algorithm() {
        let cases: [(
            &'static rcgen::SignatureAlgorithm,
            Option<&str>,
            Option<EndPointHash>,
        ); 6] = [
            (
                &rcgen::PKCS_ECDSA_P256_SHA256,
                None,
                Some(EndPointHash::Sha256),
            ),
            (
                &rcgen::PKCS_ECDSA_P384_SHA384,
                None,
                Some(EndPointHash::Sha384),
            ),
            (
                &rcgen::PKCS_RSA_SHA256,
                Some(RSA_KEY),
                Some(EndPointHash::Sha256),
            ),
            (
                &rcgen::PKCS_RSA_SHA384,
                Some(RSA_KEY),
                Some(EndPointHash::Sha384),
            ),
            (
                &rcgen::PKCS_RSA_SHA512,
                Some(RSA_KEY),
                Some(EndPointHash::Sha512),
            ),
            // EdDSA has no single hash: the type is undefined.
            (&rcgen::PKCS_ED25519, None, None),
        ];
        for (alg, key, hash) in cases {
            let cert = certificate(alg, key);
            assert_eq!(end_point_hash(&cert), hash, "{alg:?}");
        }
    }

    #[test]
    fn the_data_is_the_certificates_hash() {
        let cert = certificate(&rcgen::PKCS_ECDSA_P384_SHA384, None);
        let data = server_end_point(&cert).expect("defined");
        assert_eq!(data, Sha384::digest(&cert).to_vec());
        assert_eq!(data.len(), 48);
        let ed = certificate(&rcgen::PKCS_ED25519, None);
        assert_eq!(server_end_point(&ed), None);
    }

    /// DER of `tag` around `content` (short or two-byte long form).
    fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
        let mut out = vec![tag];
        match content.len() {
            n if n < 0x80 => out.push(n as u8),
            n if n < 0x100 => out.extend([0x81, n as u8]),
            n => out.extend([0x82, (n >> 8) as u8, n as u8]),
        }
        out.extend_from_slice(content);
        out
    }

    /// A certificate shell: an empty tbsCertificate, `algorithm`, an empty signature.
    fn shell(algorithm: &[u8]) -> Vec<u8> {
        let mut body = tlv(SEQUENCE, &[]);
        body.extend(tlv(SEQUENCE, algorithm));
        body.extend(tlv(0x03, &[0]));
        tlv(SEQUENCE, &body)
    }

    fn oid(prefix: &[u8], arc: &[u8]) -> Vec<u8> {
        tlv(OID, &[prefix, arc].concat())
    }

    fn pss(hash: Option<Vec<u8>>) -> Vec<u8> {
        let mut params = Vec::new();
        if let Some(hash) = hash {
            params.extend(tlv(CONTEXT_0, &tlv(SEQUENCE, &hash)));
        }
        // saltLength [2] 32, after the hash: never taken for one.
        params.extend(tlv(0xA2, &tlv(0x02, &[32])));
        let mut alg = oid(PKCS1, &[10]);
        alg.extend(tlv(SEQUENCE, &params));
        shell(&alg)
    }

    #[test]
    fn weak_hashes_become_sha_256_and_pss_takes_its_parameter() {
        let null = tlv(0x05, &[]);
        let md5_rsa = [oid(PKCS1, &[4]), null.clone()].concat();
        let sha1_rsa = [oid(PKCS1, &[5]), null.clone()].concat();
        for weak in [md5_rsa, sha1_rsa, oid(ECDSA_SHA1, &[]), oid(DSA_SHA1, &[])] {
            assert_eq!(end_point_hash(&shell(&weak)), Some(EndPointHash::Sha256));
        }
        assert_eq!(
            end_point_hash(&shell(&oid(PKCS1, &[14]))),
            Some(EndPointHash::Sha224)
        );
        let sha = |arc: u8| Some([oid(NIST_HASH, &[arc]), null.clone()].concat());
        assert_eq!(end_point_hash(&pss(sha(1))), Some(EndPointHash::Sha256));
        assert_eq!(end_point_hash(&pss(sha(2))), Some(EndPointHash::Sha384));
        assert_eq!(end_point_hash(&pss(sha(3))), Some(EndPointHash::Sha512));
        // The default hash is SHA-1: SHA-256.
        assert_eq!(end_point_hash(&pss(None)), Some(EndPointHash::Sha256));
        assert_eq!(
            end_point_hash(&pss(Some(oid(SHA1, &[])))),
            Some(EndPointHash::Sha256)
        );
        // A hash we do not know (SHA3-256, 2.16.840.1.101.3.4.2.8): undefined.
        assert_eq!(end_point_hash(&pss(sha(8))), None);
        // Ed448, an unknown PKCS #1 arc, SHA3 signatures: undefined.
        for unknown in [
            oid(&[0x2B, 0x65], &[0x71]),
            oid(PKCS1, &[99]),
            oid(NIST_SIG, &[10]),
        ] {
            assert_eq!(end_point_hash(&shell(&unknown)), None);
        }
    }

    #[test]
    fn malformed_der_is_refused() {
        let good = shell(&oid(ECDSA_SHA2, &[3]));
        assert_eq!(end_point_hash(&good), Some(EndPointHash::Sha384));
        // Every truncation fails: the outer length no longer fits.
        for cut in 0..good.len() {
            assert_eq!(end_point_hash(&good[..cut]), None, "cut at {cut}");
        }
        // Indefinite length, a five-byte length, a length beyond the input.
        assert_eq!(end_point_hash(&[0x30, 0x80, 0, 0]), None);
        assert_eq!(end_point_hash(&[0x30, 0x85, 0, 0, 0, 0, 1, 0]), None);
        assert_eq!(end_point_hash(&[0x30, 0x84, 0xFF, 0xFF, 0xFF, 0xFF]), None);
        // A long-form length is read as such.
        let long = shell(&[oid(ECDSA_SHA2, &[2]), tlv(0x04, &[0; 300])].concat());
        assert_eq!(end_point_hash(&long), Some(EndPointHash::Sha256));
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            let _ = server_end_point(&bytes);
        }

        #[test]
        fn a_mutated_certificate_never_panics(
            flips in proptest::collection::vec((0usize..400, any::<u8>()), 1..8),
        ) {
            let mut cert = shell(&pss(Some([oid(NIST_HASH, &[2]), tlv(0x05, &[])].concat())));
            for (at, byte) in flips {
                let at = at % cert.len();
                cert[at] = byte;
            }
            let _ = end_point_hash(&cert);
        }
    }
}
