//! Direct TLS settings and the rustls configuration they make.

use std::fmt;
use std::sync::{Arc, Mutex};

use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;

use crate::Error;

/// Direct TLS settings. The server's certificate must be valid for the XMPP domain
/// (the core's `Config::domain`) and chain to a trusted root: Mozilla's root store
/// (compiled in, from `webpki-roots`) plus any CA added with [`trust`](Self::trust).
///
/// The adapter tells the core the transport is encrypted, so a plaintext password may
/// be sent over it (see the core's `Config::transport_encrypted`).
///
/// ```
/// use jabber_net::Tls;
/// # let ca_der: Vec<u8> = Vec::new();
/// let tls = Tls::default().trust(ca_der);
/// assert_eq!(tls.extra_roots.len(), 1);
/// ```
#[derive(Clone, Default)]
#[non_exhaustive]
pub struct Tls {
    /// Do not trust the built-in root store, only [`extra_roots`](Self::extra_roots).
    /// Default false.
    pub no_builtin_roots: bool,
    /// More CAs to trust, as DER certificates.
    pub extra_roots: Vec<CertificateDer<'static>>,
    /// The name the certificate must carry, if not the XMPP domain.
    pub server_name: Option<String>,
    /// A complete rustls configuration of your own (client certificates, another
    /// verifier, ...). When set, the fields above are ignored.
    pub config: Option<Arc<rustls::ClientConfig>>,
    /// The configuration built from the fields above, with the inputs it was built
    /// from; shared by the clones of this value so that many connections build it once,
    /// and rebuilt when the fields no longer match (they are public).
    built: Arc<Mutex<Option<Built>>>,
}

/// A configuration and what it was built from.
struct Built {
    no_builtin_roots: bool,
    extra_roots: Vec<CertificateDer<'static>>,
    config: Arc<rustls::ClientConfig>,
}

impl Tls {
    /// Also trusts the CA whose DER certificate is `der`.
    pub fn trust(mut self, der: impl Into<Vec<u8>>) -> Tls {
        self.extra_roots.push(CertificateDer::from(der.into()));
        self
    }

    /// Also trusts every certificate of a PEM file's contents.
    pub fn trust_pem(mut self, pem: &[u8]) -> Result<Tls, Error> {
        let before = self.extra_roots.len();
        for cert in CertificateDer::pem_slice_iter(pem) {
            let cert = cert.map_err(|e| Error::Tls(rustls::Error::General(e.to_string())))?;
            self.extra_roots.push(cert);
        }
        if self.extra_roots.len() == before {
            return Err(Error::Tls(rustls::Error::General(
                "no certificate in the PEM data".into(),
            )));
        }
        Ok(self)
    }

    /// The rustls configuration these settings make.
    pub fn client_config(&self) -> Result<Arc<rustls::ClientConfig>, Error> {
        if let Some(config) = &self.config {
            return Ok(config.clone());
        }
        // A poisoned lock only means another thread panicked while building: build anew.
        let mut built = self.built.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(b) = built.as_ref() {
            if b.no_builtin_roots == self.no_builtin_roots && b.extra_roots == self.extra_roots {
                return Ok(b.config.clone());
            }
        }
        let mut roots = rustls::RootCertStore::empty();
        if !self.no_builtin_roots {
            roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        }
        for cert in &self.extra_roots {
            roots.add(cert.clone()).map_err(Error::Tls)?;
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(Error::Tls)?
            .with_root_certificates(roots)
            .with_no_client_auth();
        let config = Arc::new(config);
        *built = Some(Built {
            no_builtin_roots: self.no_builtin_roots,
            extra_roots: self.extra_roots.clone(),
            config: config.clone(),
        });
        Ok(config)
    }
}

impl fmt::Debug for Tls {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tls")
            .field("no_builtin_roots", &self.no_builtin_roots)
            .field("extra_roots", &self.extra_roots.len())
            .field("server_name", &self.server_name)
            .field("config", &self.config.is_some())
            .finish()
    }
}
