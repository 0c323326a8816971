//! Certificates made at test time (rcgen): one test authority per test process, which every test
//! client trusts, and server certificates it issues for 127.0.0.1 and localhost, written as PEM
//! files the way an operator installs them.

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
use rustls::pki_types::CertificateDer;

/// The test process's certificate authority.
pub struct TestAuthority {
    issuer: CertifiedIssuer<'static, KeyPair>,
}

/// The authority every test client trusts (made on first use).
pub fn authority() -> &'static TestAuthority {
    static AUTHORITY: OnceLock<TestAuthority> = OnceLock::new();
    AUTHORITY.get_or_init(|| {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "satsync test authority");
        TestAuthority {
            issuer: CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap(),
        }
    })
}

/// A server certificate and key as PEM files, and the certificate itself (to recognise it in a
/// handshake).
pub struct ServerCertificate {
    pub certificate: PathBuf,
    pub key: PathBuf,
    pub der: CertificateDer<'static>,
}

impl TestAuthority {
    /// Writes `<name>.pem` (the chain: the server's certificate, then the authority's) and
    /// `<name>.key` in `dir`, valid for 127.0.0.1 and localhost.
    pub fn issue(&self, dir: &Path, name: &str) -> ServerCertificate {
        let key = KeyPair::generate().unwrap();
        let params = CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".to_string()]).unwrap();
        let certificate = params.signed_by(&key, &self.issuer).unwrap();
        let paths = (dir.join(format!("{name}.pem")), dir.join(format!("{name}.key")));
        std::fs::write(&paths.0, format!("{}{}", certificate.pem(), self.issuer.pem())).unwrap();
        std::fs::write(&paths.1, key.serialize_pem()).unwrap();
        ServerCertificate {
            certificate: paths.0,
            key: paths.1,
            der: certificate.der().clone(),
        }
    }

    /// The authority's certificate as PEM (what the harness's `--tls` is given).
    pub fn pem(&self) -> String {
        self.issuer.pem()
    }

    /// A client configuration trusting this authority alone, for `versions`.
    pub fn client_config(&self, versions: &[&'static rustls::SupportedProtocolVersion]) -> rustls::ClientConfig {
        let mut roots = rustls::RootCertStore::empty();
        roots.add(self.issuer.der().clone()).unwrap();
        #[allow(deprecated)]
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        rustls::ClientConfig::builder_with_provider(provider)
            .with_protocol_versions(versions)
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth()
    }
}

/// A new TLS connection to `address` (as 127.0.0.1), trusting the test authority.
async fn connect(
    address: std::net::SocketAddr,
    versions: &[&'static rustls::SupportedProtocolVersion],
) -> tokio_rustls::client::TlsStream<tokio::net::TcpStream> {
    let connector = tokio_rustls::TlsConnector::from(Arc::new(authority().client_config(versions)));
    let tcp = tokio::net::TcpStream::connect(address).await.unwrap();
    let name = rustls::pki_types::ServerName::try_from("127.0.0.1").unwrap();
    connector.connect(name, tcp).await.expect("the TLS handshake")
}

/// What the server presents to a new TLS connection to `address`, and the version agreed.
pub async fn presented(
    address: std::net::SocketAddr,
    versions: &[&'static rustls::SupportedProtocolVersion],
) -> (CertificateDer<'static>, rustls::ProtocolVersion) {
    let stream = connect(address, versions).await;
    let (_, session) = stream.get_ref();
    let leaf = session.peer_certificates().unwrap()[0].clone();
    (leaf, session.protocol_version().unwrap())
}

/// One HTTPS connection to `address`, held open by the caller: requests on it go over that
/// connection alone (a closed one fails instead of reconnecting).
pub async fn one_connection(
    address: std::net::SocketAddr,
) -> hyper::client::conn::http1::SendRequest<http_body_util::Full<bytes::Bytes>> {
    let stream = connect(address, rustls::DEFAULT_VERSIONS).await;
    let (sender, connection) = hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
        .await
        .unwrap();
    tokio::spawn(connection);
    sender
}

/// `GET path` on `connection`: the status, or `None` when the connection is gone.
pub async fn get_on(
    connection: &mut hyper::client::conn::http1::SendRequest<http_body_util::Full<bytes::Bytes>>,
    path: &str,
) -> Option<u16> {
    use http_body_util::BodyExt;
    let request = http::Request::get(path)
        .header("host", "127.0.0.1")
        .body(Default::default())
        .unwrap();
    let response = connection.send_request(request).await.ok()?;
    let status = response.status().as_u16();
    response.into_body().collect().await.ok()?;
    Some(status)
}
