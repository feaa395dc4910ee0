//! A throw-away certificate authority for the servers' direct-TLS listeners.
//!
//! [`TestCa::get`] generates, once per test process, a CA and a server
//! certificate it signed for the harness's XMPP domain (subject alternative
//! names: the domain and `localhost`). Every [`Server`](crate::Server) gets the
//! server certificate and key in its directory; a client that trusts
//! [`TestCa::ca_der`] (or [`TestCa::ca_pem`]) and asks for the domain by name
//! (SNI and certificate check) gets a verified TLS session, nothing else does.
//!
//! The keys are ECDSA P-256, made with `rcgen` on `ring`; they live in memory
//! and in the servers' private directories only, for the length of the run.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::{Duration, SystemTime};

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
    KeyUsagePurpose,
};

use crate::servers::DOMAIN;

/// The throw-away CA of this test process and the server certificate it
/// issued.
pub struct TestCa {
    ca_der: Vec<u8>,
    ca_pem: String,
    server_cert_pem: String,
    server_key_pem: String,
    names: Vec<String>,
}

impl std::fmt::Debug for TestCa {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // No key material in test output.
        f.debug_struct("TestCa")
            .field("names", &self.names)
            .finish_non_exhaustive()
    }
}

/// Where [`TestCa::write_server_files`] put the PEM files.
#[derive(Clone, Debug)]
pub(crate) struct ServerFiles {
    /// The CA certificate alone.
    pub(crate) ca: PathBuf,
    /// The server certificate followed by the CA certificate.
    pub(crate) chain: PathBuf,
    /// The server's private key (PKCS#8).
    pub(crate) key: PathBuf,
    /// Chain and key in one file, as ejabberd's `certfiles` likes it.
    pub(crate) combined: PathBuf,
}

impl TestCa {
    /// The CA of this process, generated on first use.
    ///
    /// # Panics
    ///
    /// If `rcgen` cannot make a key or a certificate (it has no reason to).
    pub fn get() -> &'static TestCa {
        static CA: OnceLock<TestCa> = OnceLock::new();
        CA.get_or_init(|| {
            TestCa::generate().unwrap_or_else(|e| panic!("cannot make the test CA: {e}"))
        })
    }

    fn generate() -> Result<TestCa, rcgen::Error> {
        // A day back and a year ahead. Not rcgen's default of the year 4096:
        // ejabberd arms a timer for the expiry of every certificate it loads,
        // and one that far out overflows it (its `pkix` crashes, no TLS).
        let now = SystemTime::now();
        let not_before = now - Duration::from_secs(24 * 3600);
        let not_after = now + Duration::from_secs(365 * 24 * 3600);

        let mut ca_params = CertificateParams::new(Vec::<String>::new())?;
        ca_params
            .distinguished_name
            .push(DnType::CommonName, "jabber-tests throw-away CA");
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params.not_before = not_before.into();
        ca_params.not_after = not_after.into();
        ca_params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let ca_key = KeyPair::generate()?;
        let ca_cert = ca_params.self_signed(&ca_key)?;

        let mut names = vec![DOMAIN.to_owned()];
        if DOMAIN != "localhost" {
            names.push("localhost".to_owned());
        }
        let mut params = CertificateParams::new(names.clone())?;
        params.distinguished_name.push(DnType::CommonName, DOMAIN);
        params.not_before = not_before.into();
        params.not_after = not_after.into();
        params.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyEncipherment,
        ];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        params.use_authority_key_identifier_extension = true;
        let key = KeyPair::generate()?;
        let cert = params.signed_by(&key, &ca_cert, &ca_key)?;

        Ok(TestCa {
            ca_der: ca_cert.der().to_vec(),
            ca_pem: ca_cert.pem(),
            server_cert_pem: cert.pem(),
            server_key_pem: key.serialize_pem(),
            names,
        })
    }

    /// The CA certificate in DER, for a client's root store.
    pub fn ca_der(&self) -> &[u8] {
        &self.ca_der
    }

    /// The CA certificate in PEM (for `openssl s_client -CAfile`, say).
    pub fn ca_pem(&self) -> &str {
        &self.ca_pem
    }

    /// The server certificate in PEM, without the CA.
    pub fn server_cert_pem(&self) -> &str {
        &self.server_cert_pem
    }

    /// The server certificate's private key in PEM (PKCS#8).
    pub fn server_key_pem(&self) -> &str {
        &self.server_key_pem
    }

    /// The DNS names the server certificate is valid for: the harness's
    /// domain and `localhost`.
    pub fn server_names(&self) -> &[String] {
        &self.names
    }

    /// Writes `ca.pem`, `server.crt` (certificate and CA), `server.key` and
    /// `server.pem` (all three) into `dir`, the key readable by its owner only.
    pub(crate) fn write_server_files(&self, dir: &Path) -> io::Result<ServerFiles> {
        fs::create_dir_all(dir)?;
        let files = ServerFiles {
            ca: dir.join("ca.pem"),
            chain: dir.join("server.crt"),
            key: dir.join("server.key"),
            combined: dir.join("server.pem"),
        };
        let chain = format!("{}{}", self.server_cert_pem, self.ca_pem);
        fs::write(&files.ca, &self.ca_pem)?;
        fs::write(&files.chain, &chain)?;
        write_private(&files.key, &self.server_key_pem)?;
        write_private(&files.combined, &format!("{chain}{}", self.server_key_pem))?;
        Ok(files)
    }
}

fn write_private(path: &Path, text: &str) -> io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    io::Write::write_all(&mut file, text.as_bytes())
}
