//! The access log: one event per request, target `satsync::access`, at the configured level
//! (`[log] access`): a request id (the caller's `x-request-id` when it sends a short one, else
//! a new one; sent back either way), method, path (no query), the listener, the name the caller
//! presented (a site or user; never its password, never the Authorization header), status,
//! duration and bytes in and out (the declared body, the reply's size when known). The same
//! end records the request in the metrics (`Primary::requests`, named by `request_names`),
//! whatever the log's level.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use http::{HeaderMap, HeaderValue, Request, Response};
use hyper::body::Body;
use tracing::Level;

use super::Surface;
use crate::config::AccessLevel;
use crate::primary::Primary;

pub const REQUEST_ID: &str = "x-request-id";

/// A request under way, as the log will name it.
pub struct Access {
    id: HeaderValue,
    method: http::Method,
    path: String,
    surface: Surface,
    presented: Option<String>,
    bytes_in: u64,
    started: Instant,
}

impl Access {
    pub fn begin<B>(request: &Request<B>, surface: Surface) -> Access {
        let headers = request.headers();
        Access {
            id: request_id(headers),
            method: request.method().clone(),
            path: request.uri().path().to_string(),
            surface,
            presented: crate::api::auth::basic_credentials(headers).map(|(name, _)| name),
            bytes_in: headers
                .get(http::header::CONTENT_LENGTH)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse().ok())
                .unwrap_or(0),
            started: Instant::now(),
        }
    }

    /// The name the caller presented (HTTP Basic), checked or not.
    pub fn presented(&self) -> Option<&str> {
        self.presented.as_deref()
    }

    /// Logs the request with its response and records it in the metrics, and gives the
    /// response its request id. A streamed reply (an export) ends here when its head is ready.
    pub fn end<B: Body>(self, primary: &Primary, response: &mut Response<B>) {
        let elapsed = self.started.elapsed();
        let labels = super::request_names::labels(primary, self.surface, &self.path, response.status().as_u16());
        primary.requests.record(labels, elapsed);
        let bytes_out = response.body().size_hint().exact();
        response.headers_mut().insert(REQUEST_ID, self.id.clone());
        let level = match primary.config.log.access {
            AccessLevel::Off => return,
            AccessLevel::Error => Level::ERROR,
            AccessLevel::Warn => Level::WARN,
            AccessLevel::Info => Level::INFO,
            AccessLevel::Debug => Level::DEBUG,
            AccessLevel::Trace => Level::TRACE,
        };
        macro_rules! access {
            ($level:expr) => {
                tracing::event!(
                    target: "satsync::access",
                    $level,
                    request_id = self.id.to_str().unwrap_or_default(),
                    listener = self.surface.name(),
                    method = %self.method,
                    path = %self.path,
                    site = self.presented.as_deref(),
                    status = response.status().as_u16(),
                    duration_ms = elapsed.as_secs_f64() * 1000.0,
                    bytes_in = self.bytes_in,
                    bytes_out = bytes_out,
                    "request"
                )
            };
        }
        // `event!` takes its level as a constant.
        match level {
            Level::ERROR => access!(Level::ERROR),
            Level::WARN => access!(Level::WARN),
            Level::INFO => access!(Level::INFO),
            Level::DEBUG => access!(Level::DEBUG),
            _ => access!(Level::TRACE),
        }
    }
}

/// The caller's request id when it is short and printable, else a new one.
fn request_id(headers: &HeaderMap) -> HeaderValue {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    if let Some(given) = headers.get(REQUEST_ID) {
        let usable = given.len() <= 64 && given.as_bytes().iter().all(|b| b.is_ascii_graphic());
        if usable {
            return given.clone();
        }
    }
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    HeaderValue::from_str(&format!("{:08x}-{n}", process_tag())).expect("hex and digits are a header value")
}

/// A tag of this process's run, so that ids from two runs do not collide in one log.
fn process_tag() -> u32 {
    static TAG: std::sync::OnceLock<u32> = std::sync::OnceLock::new();
    *TAG.get_or_init(rand::random)
}
