//! TLS for the satellites' listener (rustls with *ring*; TLS 1.2 and 1.3, nothing older): the
//! certificate chain and its key read from PEM files, and read again on SIGHUP without dropping a
//! connection. Each handshake asks [`Certificates`] for the pair it holds now, so a reload is
//! seen by the next handshake while connections already open keep the one they agreed on; a
//! reload that fails (a file half-written, a key that does not match) keeps the pair in use.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use parking_lot::RwLock;
use rustls::crypto::CryptoProvider;
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::TlsAcceptor;

use crate::config::TlsConfig;

/// Why a certificate or its key could not be used.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// A file could not be read or holds no PEM object of the kind expected.
    #[error("{path}: {reason}")]
    Pem { path: PathBuf, reason: String },
    /// The key is of a kind rustls cannot sign with, or does not match the certificate.
    #[error("the key {key} cannot serve the certificate {certificate}: {source}")]
    Key {
        certificate: PathBuf,
        key: PathBuf,
        source: rustls::Error,
    },
    /// rustls refused the protocol versions (a build without TLS 1.2).
    #[error("TLS configuration: {0}")]
    Config(#[from] rustls::Error),
}

/// The certificate chain and key the TLS listener presents, as last read from their files.
#[derive(Debug)]
pub struct Certificates {
    certificate: PathBuf,
    key: PathBuf,
    provider: Arc<CryptoProvider>,
    current: RwLock<Arc<CertifiedKey>>,
}

impl Certificates {
    /// Reads the files `config` names; an error names the file at fault.
    pub fn load(config: &TlsConfig) -> Result<Arc<Certificates>, TlsError> {
        // *ring* builds from source with a C compiler alone (aws-lc-rs, which adds post-quantum
        // key exchange, needs more of the toolchain on a fresh machine); rustls marks it
        // deprecated for lacking post-quantum groups only.
        #[allow(deprecated)]
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let current = read_pair(&config.certificate, &config.key, &provider)?;
        Ok(Arc::new(Certificates {
            certificate: config.certificate.clone(),
            key: config.key.clone(),
            provider,
            current: RwLock::new(Arc::new(current)),
        }))
    }

    /// Reads the files again; on success the next handshakes present the new pair, on failure
    /// the pair in use stays.
    pub fn reload(&self) -> Result<(), TlsError> {
        let fresh = read_pair(&self.certificate, &self.key, &self.provider)?;
        *self.current.write() = Arc::new(fresh);
        Ok(())
    }

    /// What accepts TLS connections with these certificates: HTTP/1.1 by ALPN, TLS 1.2 and 1.3,
    /// stateless session tickets so that a phone reconnecting each sync round resumes instead of
    /// paying a full handshake.
    pub fn acceptor(self: &Arc<Self>) -> Result<TlsAcceptor, TlsError> {
        let versions = [&rustls::version::TLS13, &rustls::version::TLS12];
        let mut config = rustls::ServerConfig::builder_with_provider(self.provider.clone())
            .with_protocol_versions(&versions)?
            .with_no_client_auth()
            .with_cert_resolver(self.clone());
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        config.ticketer = rustls::crypto::ring::Ticketer::new()?;
        Ok(TlsAcceptor::from(Arc::new(config)))
    }
}

impl ResolvesServerCert for Certificates {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.current.read().clone())
    }
}

/// The chain in `certificate` (leaf first) with the key in `key`, checked to belong together.
fn read_pair(certificate: &Path, key: &Path, provider: &CryptoProvider) -> Result<CertifiedKey, TlsError> {
    let pem_error = |path: &Path, reason: String| TlsError::Pem {
        path: path.to_path_buf(),
        reason,
    };
    let chain = CertificateDer::pem_file_iter(certificate)
        .map_err(|e| pem_error(certificate, e.to_string()))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| pem_error(certificate, e.to_string()))?;
    if chain.is_empty() {
        return Err(pem_error(certificate, "no certificate in the file".into()));
    }
    let private = PrivateKeyDer::from_pem_file(key).map_err(|e| pem_error(key, e.to_string()))?;
    CertifiedKey::from_der(chain, private, provider).map_err(|source| TlsError::Key {
        certificate: certificate.to_path_buf(),
        key: key.to_path_buf(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A self-signed certificate and its key as PEM files in `dir`, named `name`.
    fn pair(dir: &Path, name: &str) -> TlsConfig {
        let made = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
        let (certificate, key) = (dir.join(format!("{name}.pem")), dir.join(format!("{name}.key")));
        std::fs::write(&certificate, made.cert.pem()).unwrap();
        std::fs::write(&key, made.signing_key.serialize_pem()).unwrap();
        TlsConfig {
            listen: "127.0.0.1:0".parse().unwrap(),
            certificate,
            key,
        }
    }

    fn presented(certificates: &Certificates) -> Vec<u8> {
        certificates.current.read().cert[0].to_vec()
    }

    #[test]
    fn a_key_that_is_not_the_certificates_is_refused_naming_both_files() {
        let dir = tempfile::tempdir().unwrap();
        let (one, other) = (pair(dir.path(), "one"), pair(dir.path(), "other"));
        let crossed = TlsConfig {
            key: other.key.clone(),
            ..one.clone()
        };
        let error = Certificates::load(&crossed).unwrap_err();
        assert!(matches!(error, TlsError::Key { .. }), "{error}");
        let text = error.to_string();
        assert!(text.contains("one.pem") && text.contains("other.key"), "{text}");
    }

    #[test]
    fn files_without_a_certificate_or_a_key_are_refused_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let good = pair(dir.path(), "good");
        let empty = dir.path().join("empty.pem");
        std::fs::write(&empty, "").unwrap();
        for config in [
            TlsConfig {
                certificate: empty.clone(),
                ..good.clone()
            },
            TlsConfig {
                key: empty.clone(),
                ..good.clone()
            },
            TlsConfig {
                key: dir.path().join("missing.key"),
                ..good.clone()
            },
        ] {
            let error = Certificates::load(&config).unwrap_err();
            assert!(matches!(error, TlsError::Pem { .. }), "{error}");
        }
    }

    #[test]
    fn a_failed_reload_keeps_the_pair_in_use_and_a_good_one_replaces_it() {
        let dir = tempfile::tempdir().unwrap();
        let config = pair(dir.path(), "server");
        let certificates = Certificates::load(&config).unwrap();
        let first = presented(&certificates);

        std::fs::write(&config.certificate, "-----BEGIN CERTIFICATE-----\nnot base64\n").unwrap();
        assert!(certificates.reload().is_err());
        assert_eq!(presented(&certificates), first);

        let renewed = pair(dir.path(), "renewed");
        std::fs::copy(&renewed.certificate, &config.certificate).unwrap();
        std::fs::copy(&renewed.key, &config.key).unwrap();
        certificates.reload().unwrap();
        let expected = CertificateDer::from_pem_file(&renewed.certificate).unwrap();
        assert_ne!(presented(&certificates), first);
        assert_eq!(presented(&certificates), expected.to_vec());
    }
}
