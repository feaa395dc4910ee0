//! SCRAM (RFC 5802; SHA-256 in RFC 7677), the client's side, as pure message functions:
//! the first message, the final message from the server's first, and the check of the
//! server's signature. Channel binding (`-PLUS`, RFC 5929 / RFC 9266) takes the bytes the
//! transport gives.
//!
//! The cryptography is RustCrypto's (`hmac`, `pbkdf2`, `sha1`, `sha2`); what is ours is
//! the message syntax, the checks of what the server sends, and the downgrade rule
//! (the `y` flag).
//!
//! ```
//! use jabber_proto::negotiation::scram::{Cbind, ScramClient, ScramHash};
//! // RFC 7677's example exchange.
//! let mut scram = ScramClient::new(ScramHash::Sha256, "user", "pencil",
//!     "rOprNGfwEbeRWgbNEkqO", Cbind::None).unwrap();
//! assert_eq!(scram.client_first(), "n,,n=user,r=rOprNGfwEbeRWgbNEkqO");
//! let last = scram.client_final(b"r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,\
//!     s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096").unwrap();
//! assert_eq!(last, "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,\
//!     p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=");
//! scram.verify_server_final(b"v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=").unwrap();
//! ```

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use hmac::{Hmac, Mac};
use sha1::Sha1;
use sha2::{Digest, Sha256, Sha512};

/// Fewest PBKDF2 iterations accepted from a server: RFC 7677 §4's minimum. A server asking
/// for fewer would make a stolen exchange cheap to crack.
pub const MIN_ITERATIONS: u32 = 4096;

/// Most PBKDF2 iterations done for a server: beyond, a hostile server could make the
/// client spin (each iteration is two hash compressions).
pub const MAX_ITERATIONS: u32 = 1_000_000;

/// The hash of a SCRAM mechanism.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ScramHash {
    /// `SCRAM-SHA-1` (RFC 5802).
    Sha1,
    /// `SCRAM-SHA-256` (RFC 7677).
    Sha256,
    /// `SCRAM-SHA-512`.
    Sha512,
}

impl ScramHash {
    /// The mechanism's name, with `-PLUS` when `plus`.
    pub fn mechanism(self, plus: bool) -> &'static str {
        match (self, plus) {
            (ScramHash::Sha1, false) => "SCRAM-SHA-1",
            (ScramHash::Sha1, true) => "SCRAM-SHA-1-PLUS",
            (ScramHash::Sha256, false) => "SCRAM-SHA-256",
            (ScramHash::Sha256, true) => "SCRAM-SHA-256-PLUS",
            (ScramHash::Sha512, false) => "SCRAM-SHA-512",
            (ScramHash::Sha512, true) => "SCRAM-SHA-512-PLUS",
        }
    }
}

/// The channel-binding choice of one exchange (the GS2 header's flag).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Cbind {
    /// `n`: the client does not support channel binding (or the transport has none).
    None,
    /// `y`: the client supports it but thinks the server does not — said when the server
    /// offered no `-PLUS` mechanism, so that a server that did offer one detects the
    /// downgrade.
    NotOffered,
    /// `p=<type>`: bound to the transport with this type's data (a `-PLUS` mechanism).
    Bound {
        /// The channel-binding type's name: `tls-exporter`, `tls-server-end-point`.
        kind: String,
        /// The data the transport gives for it.
        data: Vec<u8>,
    },
}

/// Why a SCRAM exchange failed on the client's side.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ScramError {
    /// The username or password holds what SCRAM cannot carry (a NUL). SASLprep
    /// (RFC 4013) is not applied: names and passwords go as their UTF-8 bytes, which
    /// is what servers that store the same bytes expect.
    BadCredentials,
    /// The server's message is not what RFC 5802 allows.
    Malformed,
    /// The server's nonce does not extend ours.
    NonceMismatch,
    /// The server asks for an extension we do not know (`m=`).
    UnsupportedExtension,
    /// The iteration count is outside [`MIN_ITERATIONS`]..=[`MAX_ITERATIONS`].
    Iterations(u32),
    /// The server said the exchange failed: its `e=` value.
    ServerError(String),
    /// The server's signature is wrong: it does not know the password (or the channel
    /// is not the one it saw).
    BadServerSignature,
}

impl fmt::Display for ScramError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ScramError::BadCredentials => f.write_str("credentials SCRAM cannot carry"),
            ScramError::Malformed => f.write_str("malformed SCRAM message from the server"),
            ScramError::NonceMismatch => f.write_str("the server's nonce does not extend ours"),
            ScramError::UnsupportedExtension => f.write_str("mandatory SCRAM extension"),
            ScramError::Iterations(i) => write!(f, "iteration count {i} out of bounds"),
            ScramError::ServerError(e) => write!(f, "server error: {e}"),
            ScramError::BadServerSignature => f.write_str("wrong server signature"),
        }
    }
}

impl core::error::Error for ScramError {}

/// One SCRAM exchange, client side.
#[derive(Clone)]
pub struct ScramClient {
    hash: ScramHash,
    password: String,
    cbind: Cbind,
    client_first_bare: String,
    nonce: String,
    /// The server signature expected, once the final message is made.
    expected: Option<Vec<u8>>,
}

impl fmt::Debug for ScramClient {
    // The password and the keys stay out of logs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ScramClient")
            .field("hash", &self.hash)
            .field("client_first_bare", &self.client_first_bare)
            .finish_non_exhaustive()
    }
}

impl ScramClient {
    /// An exchange for `username` with `password`, our nonce `nonce` (printable ASCII
    /// without `,`; the client draws it from its seeded source) and the channel-binding
    /// choice `cbind`.
    pub fn new(
        hash: ScramHash,
        username: &str,
        password: &str,
        nonce: &str,
        cbind: Cbind,
    ) -> Result<ScramClient, ScramError> {
        let printable = |c: char| c.is_ascii_graphic() && c != ',';
        if username.is_empty()
            || username.contains('\0')
            || password.contains('\0')
            || nonce.is_empty()
            || !nonce.chars().all(printable)
        {
            return Err(ScramError::BadCredentials);
        }
        let client_first_bare = format!("n={},r={nonce}", saslname(username));
        Ok(ScramClient {
            hash,
            password: String::from(password),
            cbind,
            client_first_bare,
            nonce: String::from(nonce),
            expected: None,
        })
    }

    fn gs2_header(&self) -> String {
        match &self.cbind {
            Cbind::None => String::from("n,,"),
            Cbind::NotOffered => String::from("y,,"),
            Cbind::Bound { kind, .. } => format!("p={kind},,"),
        }
    }

    /// The client's first message.
    pub fn client_first(&self) -> String {
        format!("{}{}", self.gs2_header(), self.client_first_bare)
    }

    /// The client's final message, from the server's first; remembers the server
    /// signature to expect.
    pub fn client_final(&mut self, server_first: &[u8]) -> Result<String, ScramError> {
        if self.expected.is_some() {
            // One server-first per exchange: a server that challenges again would make
            // us derive keys (up to MAX_ITERATIONS each) as often as it likes.
            return Err(ScramError::Malformed);
        }
        let server_first = core::str::from_utf8(server_first).map_err(|_| ScramError::Malformed)?;
        let mut nonce = None;
        let mut salt = None;
        let mut iterations = None;
        for (i, attr) in server_first.split(',').enumerate() {
            let (key, value) = attr.split_once('=').ok_or(ScramError::Malformed)?;
            match (i, key) {
                (0, "m") => return Err(ScramError::UnsupportedExtension),
                (0, "r") => nonce = Some(value),
                (1, "s") => salt = Some(B64.decode(value).map_err(|_| ScramError::Malformed)?),
                (2, "i") => {
                    let i: u32 = value.parse().map_err(|_| ScramError::Malformed)?;
                    iterations = Some(i);
                }
                (3.., _) => {} // extensions after the three: ignored (RFC 5802 §5.1)
                _ => return Err(ScramError::Malformed),
            }
        }
        let (Some(nonce), Some(salt), Some(iterations)) = (nonce, salt, iterations) else {
            return Err(ScramError::Malformed);
        };
        if !nonce.starts_with(&self.nonce) || nonce.len() == self.nonce.len() {
            return Err(ScramError::NonceMismatch);
        }
        if !nonce.chars().all(|c| c.is_ascii_graphic() && c != ',') {
            return Err(ScramError::Malformed);
        }
        if !(MIN_ITERATIONS..=MAX_ITERATIONS).contains(&iterations) {
            return Err(ScramError::Iterations(iterations));
        }
        let mut cbind_input = self.gs2_header().into_bytes();
        if let Cbind::Bound { data, .. } = &self.cbind {
            cbind_input.extend_from_slice(data);
        }
        let without_proof = format!("c={},r={nonce}", B64.encode(&cbind_input));
        let auth_message = format!("{},{server_first},{without_proof}", self.client_first_bare);
        let (proof, server_signature) = proof(
            self.hash,
            self.password.as_bytes(),
            &salt,
            iterations,
            auth_message.as_bytes(),
        );
        self.expected = Some(server_signature);
        Ok(format!("{without_proof},p={}", B64.encode(proof)))
    }

    /// Checks the server's final message: its signature must be the one only a server
    /// knowing the password (and seeing our channel) can make.
    pub fn verify_server_final(&self, server_final: &[u8]) -> Result<(), ScramError> {
        let text = core::str::from_utf8(server_final).map_err(|_| ScramError::Malformed)?;
        let first = text.split(',').next().unwrap_or_default();
        if let Some(e) = first.strip_prefix("e=") {
            return Err(ScramError::ServerError(String::from(e)));
        }
        let v = first.strip_prefix("v=").ok_or(ScramError::Malformed)?;
        let got = B64.decode(v).map_err(|_| ScramError::Malformed)?;
        match &self.expected {
            Some(expected) if constant_time_eq(expected, &got) => Ok(()),
            _ => Err(ScramError::BadServerSignature),
        }
    }
}

/// `=` and `,` escaped as RFC 5802 §5.1 says.
fn saslname(name: &str) -> String {
    name.replace('=', "=3D").replace(',', "=2C")
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

macro_rules! scram_keys {
    ($hash:ty, $password:expr, $salt:expr, $iterations:expr, $auth:expr) => {{
        let mut salted = alloc::vec![0u8; <$hash as Digest>::output_size()];
        pbkdf2::pbkdf2_hmac::<$hash>($password, $salt, $iterations, &mut salted);
        let hmac = |key: &[u8], data: &[u8]| -> Vec<u8> {
            // HMAC takes keys of any length.
            let mut mac = <Hmac<$hash> as Mac>::new_from_slice(key)
                .unwrap_or_else(|_| unreachable!("HMAC accepts any key length"));
            mac.update(data);
            mac.finalize().into_bytes().to_vec()
        };
        let client_key = hmac(&salted, b"Client Key");
        let stored_key = <$hash>::digest(&client_key);
        let client_signature = hmac(&stored_key, $auth);
        let proof: Vec<u8> = client_key
            .iter()
            .zip(&client_signature)
            .map(|(k, s)| k ^ s)
            .collect();
        let server_key = hmac(&salted, b"Server Key");
        (proof, hmac(&server_key, $auth))
    }};
}

/// The client proof and the expected server signature.
fn proof(
    hash: ScramHash,
    password: &[u8],
    salt: &[u8],
    iterations: u32,
    auth_message: &[u8],
) -> (Vec<u8>, Vec<u8>) {
    match hash {
        ScramHash::Sha1 => scram_keys!(Sha1, password, salt, iterations, auth_message),
        ScramHash::Sha256 => scram_keys!(Sha256, password, salt, iterations, auth_message),
        ScramHash::Sha512 => scram_keys!(Sha512, password, salt, iterations, auth_message),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_5802_sha_1_example() {
        let mut c = ScramClient::new(
            ScramHash::Sha1,
            "user",
            "pencil",
            "fyko+d2lbbFgONRv9qkxdawL",
            Cbind::None,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(c.client_first(), "n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL");
        let last = c
            .client_final(b"r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096")
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            last,
            "c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts="
        );
        assert_eq!(
            c.verify_server_final(b"v=rmF9pqV8S7suAoZWja4dJRkFsKQ="),
            Ok(())
        );
        assert_eq!(
            c.verify_server_final(b"v=AmF9pqV8S7suAoZWja4dJRkFsKQ="),
            Err(ScramError::BadServerSignature)
        );
        assert_eq!(
            c.verify_server_final(b"e=invalid-proof"),
            Err(ScramError::ServerError("invalid-proof".into()))
        );
    }

    #[test]
    fn usernames_are_escaped_and_nul_refused() {
        let c = ScramClient::new(ScramHash::Sha256, "a=b,c", "p", "n0nce", Cbind::None)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(c.client_first(), "n,,n=a=3Db=2Cc,r=n0nce");
        assert_eq!(
            ScramClient::new(ScramHash::Sha256, "a", "p\0", "n", Cbind::None).err(),
            Some(ScramError::BadCredentials)
        );
        assert_eq!(
            ScramClient::new(ScramHash::Sha256, "a", "p", "n,n", Cbind::None).err(),
            Some(ScramError::BadCredentials)
        );
    }

    #[test]
    fn a_signature_before_the_final_message_is_never_accepted() {
        let c = ScramClient::new(ScramHash::Sha1, "user", "pencil", "abc", Cbind::None)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            c.verify_server_final(b"v=rmF9pqV8S7suAoZWja4dJRkFsKQ="),
            Err(ScramError::BadServerSignature)
        );
    }
}
