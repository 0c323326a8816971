//! The client of the secondary sources (DOD, HDR, VLER): the primary fetches a patient's data
//! from them itself, where primary sources answer through their sync queue.
//!
//! # Contract (ours: the real systems sit behind adapters that speak it)
//!
//! `GET {base_url}/patient-sync?pid=<the patient's pid at the source, url-encoded>`, plain HTTP:
//! - **200**: one ingest item, the shape of one item of the ingestion API
//!   (`{"pid":…,"metastamp":…,"records":[…],"error":…}`, see [`crate::wire::patient`]), whose
//!   `pid` is the one asked for;
//! - **404**: the source holds nothing for this patient (the source is then complete and empty);
//! - **anything else**, no reply within the time allowed, a reply larger than the limit, or a body
//!   that is not such an item: an error, which the source's job records
//!   ([`FetchError::to_sync_error`]).
//!
//! At most `max_concurrent` fetches run at once, whatever the number of patients being loaded: a
//! burst of loads must not open a connection per patient to systems outside our control. The time
//! limit runs from when a fetch gets its turn, so a queued fetch is not failed by its queue.

use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Empty, LengthLimitError, Limited};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use tokio::sync::Semaphore;

use crate::patient::ids::SourcePid;
use crate::patient::SyncError;
use crate::wire::patient::{decode_source_reply, IngestItem};

/// The largest reply read by default: a whole patient record at one source, generously.
pub const DEFAULT_MAX_REPLY_BYTES: usize = 64 << 20;

/// What a source answered about one patient.
#[derive(Debug, Clone, PartialEq)]
pub enum SourceAnswer {
    /// The source's metastamp and records (or the error it reported) for the patient.
    Data(IngestItem),
    /// The source holds nothing for the patient (404).
    Nothing,
}

/// A fetch that brought no usable answer. The messages name no address: they reach clients
/// through the job's `error`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FetchError {
    /// No complete reply within the time allowed.
    #[error("the source did not answer within {} ms", .0.as_millis())]
    Timeout(Duration),
    /// The request could not be made or its reply not received (address, connection, protocol).
    #[error("the source could not be reached: {0}")]
    Connect(String),
    /// The source answered with a status other than 200 or 404.
    #[error("the source answered with status {0}")]
    Status(u16),
    /// The reply's body is too large, could not be read, or is not an ingest item for the pid.
    #[error("the source's reply is not usable: {0}")]
    Body(String),
}

impl FetchError {
    /// The short kind the job's `error.type` carries.
    pub fn kind(&self) -> &'static str {
        match self {
            FetchError::Timeout(_) => "timeout",
            FetchError::Connect(_) => "connect",
            FetchError::Status(_) => "status",
            FetchError::Body(_) => "body",
        }
    }

    /// The error as the source's job and sync state record it.
    pub fn to_sync_error(&self) -> SyncError {
        SyncError::new(self.kind(), &self.to_string())
    }
}

/// Fetches patients from secondary sources, at most `max_concurrent` at once. One per process:
/// its connection pool and its bound are shared by every load.
pub struct SecondaryClient {
    http: Client<HttpConnector, Empty<Bytes>>,
    permits: Semaphore,
    max_reply_bytes: usize,
}

impl SecondaryClient {
    /// A client running at most `max_concurrent` fetches at once (at least one).
    pub fn new(max_concurrent: usize) -> SecondaryClient {
        SecondaryClient {
            http: Client::builder(TokioExecutor::new()).build_http(),
            permits: Semaphore::new(max_concurrent.max(1)),
            max_reply_bytes: DEFAULT_MAX_REPLY_BYTES,
        }
    }

    /// Replies larger than `max_reply_bytes` are refused as [`FetchError::Body`].
    pub fn with_max_reply_bytes(mut self, max_reply_bytes: usize) -> SecondaryClient {
        self.max_reply_bytes = max_reply_bytes;
        self
    }

    /// Asks the source at `base_url` for the patient it knows as `pid`; `timeout` bounds the
    /// request and the reading of its reply, once the fetch has its turn.
    pub async fn fetch(&self, base_url: &str, pid: &SourcePid, timeout: Duration) -> Result<SourceAnswer, FetchError> {
        let uri = source_uri(base_url, pid)?;
        let _permit = self.permits.acquire().await.expect("the semaphore is never closed");
        match tokio::time::timeout(timeout, self.request(uri, pid)).await {
            Ok(answer) => answer,
            Err(_) => Err(FetchError::Timeout(timeout)),
        }
    }

    async fn request(&self, uri: http::Uri, pid: &SourcePid) -> Result<SourceAnswer, FetchError> {
        let response = self
            .http
            .get(uri)
            .await
            .map_err(|e| FetchError::Connect(with_causes(&e)))?;
        match response.status().as_u16() {
            200 => {}
            404 => return Ok(SourceAnswer::Nothing),
            status => return Err(FetchError::Status(status)),
        }
        let body = Limited::new(response.into_body(), self.max_reply_bytes)
            .collect()
            .await
            .map_err(|e| {
                if e.downcast_ref::<LengthLimitError>().is_some() {
                    FetchError::Body(format!("the reply is larger than {} bytes", self.max_reply_bytes))
                } else {
                    FetchError::Body(format!("the reply could not be read: {}", with_causes(e.as_ref())))
                }
            })?
            .to_bytes();
        decode_source_reply(&body, pid)
            .map(SourceAnswer::Data)
            .map_err(|e| FetchError::Body(e.to_string()))
    }
}

/// `{base_url}/patient-sync?pid=…`; a trailing `/` on the base is allowed.
fn source_uri(base_url: &str, pid: &SourcePid) -> Result<http::Uri, FetchError> {
    let pid: String = form_urlencoded::byte_serialize(pid.to_string().as_bytes()).collect();
    format!("{}/patient-sync?pid={pid}", base_url.trim_end_matches('/'))
        .parse()
        .map_err(|e| FetchError::Connect(format!("the source's address is not a valid url: {e}")))
}

/// The error and its causes on one line: hyper's own message alone ("client error (Connect)")
/// does not say what failed.
fn with_causes(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(inner) = cause {
        text.push_str(": ");
        text.push_str(&inner.to_string());
        cause = inner.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pid_is_url_encoded_and_a_trailing_slash_is_allowed() {
        let pid = SourcePid::parse("DOD;4325678").unwrap();
        for base in ["http://127.0.0.1:9/dod", "http://127.0.0.1:9/dod/"] {
            assert_eq!(
                source_uri(base, &pid).unwrap().to_string(),
                "http://127.0.0.1:9/dod/patient-sync?pid=DOD%3B4325678"
            );
        }
        assert_eq!(source_uri("not a url", &pid).unwrap_err().kind(), "connect");
    }

    #[test]
    fn errors_become_sync_errors_of_their_kind() {
        let cases = [
            (
                FetchError::Timeout(Duration::from_millis(1500)),
                "timeout",
                "the source did not answer within 1500 ms",
            ),
            (
                FetchError::Connect("refused".into()),
                "connect",
                "the source could not be reached: refused",
            ),
            (FetchError::Status(502), "status", "the source answered with status 502"),
            (
                FetchError::Body("x".into()),
                "body",
                "the source's reply is not usable: x",
            ),
        ];
        for (error, kind, message) in cases {
            assert_eq!(error.to_sync_error(), SyncError::new(kind, message));
        }
    }
}
