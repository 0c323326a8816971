//! The simulated satellites' link to the primary: plain HTTP or HTTPS (trusting one given
//! authority), connections kept alive or a new one per call (phones do not keep theirs across
//! sync rounds), each connection paced to a link speed in both directions (`--link-kbps`), and
//! the replies asked for compressed (`--accept-encoding`) and decoded. Every byte received is
//! counted as it came over the wire.

use std::future::Future as _;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{ready, Context, Poll};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::{Connected, Connection, HttpConnector};
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

/// How the satellites reach the primary.
#[derive(Debug, Clone, Default)]
pub struct LinkOptions {
    /// The authority (PEM) whose certificates HTTPS trusts; none: plain HTTP only.
    pub trusted: Option<Vec<u8>>,
    /// A new connection (and, over HTTPS, a full handshake) for every call.
    pub fresh_connections: bool,
    /// Each connection paced to this many kilobits per second each way.
    pub kbps: Option<u32>,
    /// Sent as `Accept-Encoding`; the replies are decoded.
    pub accept_encoding: Option<String>,
}

/// The satellites' shared HTTP client.
#[derive(Clone)]
pub struct Http {
    client: Client<HttpsConnector<LinkConnector>, Full<Bytes>>,
    accept_encoding: Option<http::HeaderValue>,
    /// Reply body bytes as received (compressed when they came so).
    pub wire_bytes: Arc<AtomicU64>,
    /// The same replies decoded.
    pub decoded_bytes: Arc<AtomicU64>,
}

impl Http {
    pub fn new(options: &LinkOptions) -> anyhow::Result<Http> {
        let mut roots = rustls::RootCertStore::empty();
        if let Some(pem) = &options.trusted {
            use rustls::pki_types::pem::PemObject;
            for certificate in rustls::pki_types::CertificateDer::pem_slice_iter(pem) {
                roots.add(certificate.context("the trusted authority's PEM")?)?;
            }
        }
        #[allow(deprecated)] // *ring*, as the primary uses it.
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut tls = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()?
            .with_root_certificates(roots)
            .with_no_client_auth();
        if options.fresh_connections {
            // Each call a full handshake: the worst case, a phone whose TLS session is gone.
            tls.resumption = rustls::client::Resumption::disabled();
        }
        let mut http = HttpConnector::new();
        http.set_nodelay(true);
        http.enforce_http(false);
        let link = LinkConnector {
            http,
            bytes_per_second: options.kbps.map(|kbps| kbps as f64 * 1000.0 / 8.0),
        };
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_http1()
            .wrap_connector(link);
        let idle = if options.fresh_connections { 0 } else { 4096 };
        let client = Client::builder(TokioExecutor::new())
            .pool_max_idle_per_host(idle)
            .build(connector);
        Ok(Http {
            client,
            accept_encoding: match &options.accept_encoding {
                Some(offer) => Some(http::HeaderValue::from_str(offer)?),
                None => None,
            },
            wire_bytes: Default::default(),
            decoded_bytes: Default::default(),
        })
    }

    /// Sends `request` (asking for compression when configured) and returns the status and
    /// the body, decoded.
    pub async fn send(&self, mut request: http::Request<Full<Bytes>>) -> anyhow::Result<(http::StatusCode, Bytes)> {
        if let Some(offer) = &self.accept_encoding {
            request
                .headers_mut()
                .insert(http::header::ACCEPT_ENCODING, offer.clone());
        }
        let response = self.client.request(request).await?;
        let status = response.status();
        let encoding = response.headers().get(http::header::CONTENT_ENCODING).cloned();
        let bytes = response.into_body().collect().await?.to_bytes();
        self.wire_bytes.fetch_add(bytes.len() as u64, Ordering::Relaxed);
        let bytes = match encoding.as_ref().map(|e| e.to_str().unwrap_or("")) {
            None | Some("identity") => bytes,
            Some(name) => Bytes::from(decode(name, &bytes)?),
        };
        self.decoded_bytes.fetch_add(bytes.len() as u64, Ordering::Relaxed);
        Ok((status, bytes))
    }
}

/// A reply body in `encoding`, decoded.
fn decode(encoding: &str, body: &[u8]) -> anyhow::Result<Vec<u8>> {
    use std::io::Read;
    let mut out = Vec::with_capacity(body.len() * 6);
    match encoding {
        "gzip" => {
            flate2::read::GzDecoder::new(body).read_to_end(&mut out)?;
        }
        "zstd" => out = zstd::decode_all(body)?,
        "br" => {
            brotli::BrotliDecompress(&mut &body[..], &mut out)?;
        }
        other => anyhow::bail!("a reply in an encoding not asked for: {other}"),
    }
    Ok(out)
}

/// Opens TCP connections, each paced when a link speed is set.
#[derive(Clone)]
pub struct LinkConnector {
    http: HttpConnector,
    bytes_per_second: Option<f64>,
}

impl tower_service::Service<http::Uri> for LinkConnector {
    type Response = TokioIo<Paced>;
    type Error = Box<dyn std::error::Error + Send + Sync>;
    type Future = Pin<Box<dyn std::future::Future<Output = Result<Self::Response, Self::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.http.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, uri: http::Uri) -> Self::Future {
        let connecting = self.http.call(uri);
        let rate = self.bytes_per_second;
        Box::pin(async move {
            let stream = connecting.await?.into_inner();
            Ok(TokioIo::new(Paced {
                read: rate.map(Bucket::new),
                write: rate.map(Bucket::new),
                stream,
            }))
        })
    }
}

/// A TCP stream whose reads and writes each go no faster than a token bucket allows.
pub struct Paced {
    stream: TcpStream,
    read: Option<Bucket>,
    write: Option<Bucket>,
}

impl Connection for Paced {
    fn connected(&self) -> Connected {
        self.stream.connected()
    }
}

/// Bytes allowed at a rate, with a burst of about a twentieth of a second.
struct Bucket {
    bytes_per_second: f64,
    capacity: f64,
    tokens: f64,
    refilled: Instant,
    wait: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl Bucket {
    fn new(bytes_per_second: f64) -> Bucket {
        let capacity = (bytes_per_second / 20.0).max(1500.0);
        Bucket {
            bytes_per_second,
            capacity,
            tokens: capacity,
            refilled: Instant::now(),
            wait: None,
        }
    }

    /// How many bytes may pass now (at most `wanted`), once at least one may.
    fn poll_allowance(&mut self, cx: &mut Context<'_>, wanted: usize) -> Poll<usize> {
        loop {
            let now = Instant::now();
            let earned = now.duration_since(self.refilled).as_secs_f64() * self.bytes_per_second;
            self.tokens = (self.tokens + earned).min(self.capacity);
            self.refilled = now;
            if self.tokens >= 1.0 {
                self.wait = None;
                return Poll::Ready(wanted.min(self.tokens as usize).max(1));
            }
            let needed = Duration::from_secs_f64((1.0 - self.tokens) / self.bytes_per_second);
            let wait = self
                .wait
                .get_or_insert_with(|| Box::pin(tokio::time::sleep(needed.max(Duration::from_millis(1)))));
            ready!(wait.as_mut().poll(cx));
            self.wait = None;
        }
    }

    fn spend(&mut self, bytes: usize) {
        self.tokens -= bytes as f64;
    }
}

impl AsyncRead for Paced {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<std::io::Result<()>> {
        let this = &mut *self;
        let Some(bucket) = &mut this.read else {
            return Pin::new(&mut this.stream).poll_read(cx, buf);
        };
        let allowed = ready!(bucket.poll_allowance(cx, buf.remaining().min(16 * 1024)));
        let mut scratch = [0u8; 16 * 1024];
        let mut limited = ReadBuf::new(&mut scratch[..allowed]);
        ready!(Pin::new(&mut this.stream).poll_read(cx, &mut limited))?;
        let filled = limited.filled();
        bucket.spend(filled.len());
        buf.put_slice(filled);
        Poll::Ready(Ok(()))
    }
}

impl AsyncWrite for Paced {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, data: &[u8]) -> Poll<std::io::Result<usize>> {
        let this = &mut *self;
        let Some(bucket) = &mut this.write else {
            return Pin::new(&mut this.stream).poll_write(cx, data);
        };
        let allowed = ready!(bucket.poll_allowance(cx, data.len()));
        let written = ready!(Pin::new(&mut this.stream).poll_write(cx, &data[..allowed]))?;
        bucket.spend(written);
        Poll::Ready(Ok(written))
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}
