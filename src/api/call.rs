//! The request type of the handlers: one HTTP request, its query decoded, its body read on
//! demand under the configured limit. Built by `http`, which knows connections; read by the
//! handlers of every API.

use std::collections::HashMap;

use http::Request;
use http_body_util::BodyExt;
use hyper::body::Incoming;

use super::error::ApiError;

/// Marks, in its extensions, a request that came over TLS (`http` sets it).
#[derive(Debug, Clone, Copy)]
pub struct OverTls;

/// One request as the handlers see it.
pub struct Call {
    pub method: http::Method,
    /// The request's path, for the handlers that serve several API versions.
    pub path: String,
    pub headers: http::HeaderMap,
    pub query: HashMap<String, String>,
    /// The address the request came from (what a site's health shows).
    pub peer: Option<std::net::IpAddr>,
    /// Whether it came over TLS (the URLs a reply names use the same scheme).
    pub over_tls: bool,
    body: Incoming,
    body_limit: usize,
}

impl Call {
    /// The request as the handlers see it: method, headers, decoded query, and the unread body,
    /// which [`Call::body`] reads up to `body_limit` bytes.
    pub fn new(request: Request<Incoming>, body_limit: usize, peer: Option<std::net::IpAddr>) -> Call {
        let query = request
            .uri()
            .query()
            .map(|q| form_urlencoded::parse(q.as_bytes()).into_owned().collect())
            .unwrap_or_default();
        let path = request.uri().path().to_string();
        let over_tls = request.extensions().get::<OverTls>().is_some();
        let (parts, body) = request.into_parts();
        Call {
            method: parts.method,
            path,
            headers: parts.headers,
            query,
            peer,
            over_tls,
            body,
            body_limit,
        }
    }

    /// The body as it arrives, chunk by chunk, for a caller that streams it (an operator's
    /// import, as large as the data): `next_chunk` gives each, `None` at the end. Each chunk is
    /// at most what the connection delivered at once: memory stays bounded by the caller.
    pub fn into_stream(self) -> BodyStream {
        BodyStream(self.body)
    }

    /// The body, refused with 413 past the configured limit. An oversized body is still read
    /// (and dropped) up to a bound, so that the client, which is still sending it, reads the 413
    /// instead of a reset connection; past that bound the connection is cut. A compressed body
    /// (`Content-Encoding` gzip, zstd or br) is decompressed, the limit applying to what it
    /// decompresses to: a small body that inflates past it (a zip bomb) is refused with 413 as
    /// soon as the limit is passed, never inflated whole.
    pub async fn body(self) -> Result<Vec<u8>, ApiError> {
        let encoding = self
            .headers
            .get(http::header::CONTENT_ENCODING)
            .map(|value| value.to_str().unwrap_or("").trim().to_ascii_lowercase());
        let limit = self.body_limit;
        let raw = self.raw_body().await?;
        match encoding.as_deref() {
            None | Some("" | "identity") => Ok(raw),
            Some(name) => {
                let Some(encoding) = BodyEncoding::named(name) else {
                    return Err(ApiError::UnsupportedEncoding(name.to_string()));
                };
                if raw.len() <= INFLATE_INLINE_BYTES {
                    encoding.inflate(&raw, limit)
                } else {
                    tokio::task::spawn_blocking(move || encoding.inflate(&raw, limit))
                        .await
                        .map_err(|_| ApiError::Internal)?
                }
            }
        }
    }

    /// The body as sent, under the limit.
    async fn raw_body(self) -> Result<Vec<u8>, ApiError> {
        let limit = self.body_limit;
        let drain_bound = limit.saturating_mul(4).max(1 << 20);
        let declared = self
            .headers
            .get(http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<usize>().ok());
        if declared.is_some_and(|len| len > drain_bound) {
            return Err(ApiError::PayloadTooLarge(limit));
        }
        let mut body = self.body;
        let mut kept = Vec::with_capacity(declared.unwrap_or(0).min(limit));
        let mut seen = 0usize;
        while let Some(frame) = body.frame().await {
            let frame = frame.map_err(|_| ApiError::BadRequest("the request body could not be read".into()))?;
            if let Ok(data) = frame.into_data() {
                seen += data.len();
                if seen <= limit {
                    kept.extend_from_slice(&data);
                } else if seen > drain_bound {
                    break;
                }
            }
        }
        if seen > limit {
            return Err(ApiError::PayloadTooLarge(limit));
        }
        Ok(kept)
    }
}

/// A request body read as it arrives (see [`Call::into_stream`]).
pub struct BodyStream(Incoming);

impl BodyStream {
    pub async fn next_chunk(&mut self) -> Option<Result<bytes::Bytes, ApiError>> {
        loop {
            let frame = match self.0.frame().await? {
                Ok(frame) => frame,
                Err(_) => return Some(Err(ApiError::BadRequest("the request body could not be read".into()))),
            };
            if let Ok(data) = frame.into_data() {
                return Some(Ok(data));
            }
        }
    }

    /// Reads and drops the rest of the body, up to `bound` bytes: after a refusal, so that a
    /// client still sending reads the answer instead of a reset connection (past the bound the
    /// connection is cut, as for any oversized body).
    pub async fn discard(&mut self, bound: usize) {
        let mut seen = 0usize;
        while let Some(Ok(chunk)) = self.next_chunk().await {
            seen += chunk.len();
            if seen > bound {
                return;
            }
        }
    }
}

/// Compressed bodies up to this size are inflated on the async worker; larger ones on the
/// blocking pool (inflating the largest allowed body takes tens of milliseconds).
const INFLATE_INLINE_BYTES: usize = 16 * 1024;

/// A `Content-Encoding` a request body may come in.
#[derive(Debug, Clone, Copy)]
enum BodyEncoding {
    Gzip,
    Zstd,
    Brotli,
}

impl BodyEncoding {
    fn named(name: &str) -> Option<BodyEncoding> {
        match name {
            "gzip" | "x-gzip" => Some(BodyEncoding::Gzip),
            "zstd" => Some(BodyEncoding::Zstd),
            "br" => Some(BodyEncoding::Brotli),
            _ => None,
        }
    }

    /// `compressed` inflated, refused with 413 once it passes `limit` bytes (reading stops
    /// there: memory and time stay bounded whatever the ratio).
    fn inflate(self, compressed: &[u8], limit: usize) -> Result<Vec<u8>, ApiError> {
        use std::io::Read;
        let reader: Box<dyn Read + '_> = match self {
            BodyEncoding::Gzip => Box::new(flate2::read::MultiGzDecoder::new(compressed)),
            BodyEncoding::Zstd => Box::new(
                zstd::stream::read::Decoder::with_buffer(compressed)
                    .map_err(|_| ApiError::BadRequest("the request body is not valid zstd".into()))?,
            ),
            BodyEncoding::Brotli => Box::new(brotli::Decompressor::new(compressed, 4096)),
        };
        let mut inflated = Vec::with_capacity(compressed.len().saturating_mul(4).min(limit));
        reader
            .take(limit as u64 + 1)
            .read_to_end(&mut inflated)
            .map_err(|_| ApiError::BadRequest(format!("the request body is not valid {}", self.name())))?;
        if inflated.len() > limit {
            return Err(ApiError::PayloadTooLarge(limit));
        }
        Ok(inflated)
    }

    fn name(self) -> &'static str {
        match self {
            BodyEncoding::Gzip => "gzip",
            BodyEncoding::Zstd => "zstd",
            BodyEncoding::Brotli => "br",
        }
    }
}
