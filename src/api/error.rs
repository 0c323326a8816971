//! The one table from API errors to HTTP statuses and bodies (v1/v2/v3 shape: `{"error":"…"}`).

use http::StatusCode;

use crate::wire::json::error_body;

/// Text the mobile client shows after this prefix when a site's hardware binding does not match.
pub const HARDWARE_MISMATCH: &str =
    "Site registration doesn't match. This site is registered to another machine: ask the primary's operator to reset it.";
pub const INVALID_CREDENTIALS: &str = "Invalid username or password";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApiError {
    /// Malformed request: bad JSON, bad or missing parameters (400).
    #[error("{0}")]
    BadRequest(String),
    /// Wrong or missing credentials (401).
    #[error("{INVALID_CREDENTIALS}")]
    Unauthorized,
    /// The request names a queue other than the caller's own (403); it does not say whether
    /// the other site exists.
    #[error("{0}")]
    Forbidden(String),
    /// No such endpoint (404).
    #[error("no such endpoint: {0}")]
    NotFound(String),
    /// Endpoint exists, method does not (405).
    #[error("method {0} is not allowed here")]
    MethodNotAllowed(String),
    /// The body is larger than the configured limit (413).
    #[error("the request body is larger than the limit of {0} bytes")]
    PayloadTooLarge(usize),
    /// A problem the satellite's user should read: 200 with the message, as mobile expects.
    #[error("{0}")]
    Record(String),
    /// The site is bound to another machine: 200 with the text mobile recognises.
    #[error("{HARDWARE_MISMATCH}")]
    HardwareMismatch,
    /// The client's API or app version is one this primary does not serve (409).
    #[error("{0}")]
    VersionIncompatible(String),
    /// The server is shutting down (503).
    #[error("the server is shutting down")]
    Unavailable,
    /// Something failed inside the primary (500); the cause is logged, not sent.
    #[error("internal error")]
    Internal,
}

impl ApiError {
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::Record(_) | ApiError::HardwareMismatch => StatusCode::OK,
            ApiError::VersionIncompatible(_) => StatusCode::CONFLICT,
            ApiError::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn body(&self) -> Vec<u8> {
        error_body(&self.to_string())
    }

    /// The status and body in v5's shape, `{"error":{"code":…,"message":…,"data":null}}`, with
    /// the codes open-mSupply recognises. Unlike v2, a hardware mismatch is a 401 there.
    pub fn v5_response(&self) -> (StatusCode, Vec<u8>) {
        let (status, code) = match self {
            ApiError::Unauthorized => (StatusCode::UNAUTHORIZED, "site_incorrect_password"),
            ApiError::HardwareMismatch => (StatusCode::UNAUTHORIZED, "site_incorrect_hardware_id"),
            ApiError::BadRequest(_) | ApiError::Record(_) => (StatusCode::BAD_REQUEST, "bad_request"),
            ApiError::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden"),
            ApiError::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
            ApiError::MethodNotAllowed(_) => (StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed"),
            ApiError::PayloadTooLarge(_) => (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large"),
            ApiError::VersionIncompatible(_) => (StatusCode::CONFLICT, "api_version_incompatible"),
            ApiError::Unavailable => (StatusCode::SERVICE_UNAVAILABLE, "unavailable"),
            ApiError::Internal => (StatusCode::INTERNAL_SERVER_ERROR, "internal_error"),
        };
        (status, crate::wire::v5::error_body(code, &self.to_string()))
    }
}

impl From<crate::sync::SyncError> for ApiError {
    fn from(error: crate::sync::SyncError) -> ApiError {
        use crate::sync::SyncError;
        match error {
            SyncError::HardwareMismatch => ApiError::HardwareMismatch,
            SyncError::WriterStopped => ApiError::Unavailable,
            SyncError::UnknownSite(_) => ApiError::Unauthorized,
            SyncError::Invalid(message) => ApiError::BadRequest(message),
            SyncError::BadRecord(message) => ApiError::Record(message),
            // Only operator actions skip records; no endpoint reaches this.
            SyncError::NotQueued(sync_id) => ApiError::BadRequest(format!("no record {sync_id} is queued")),
            SyncError::Storage(cause) => {
                tracing::error!(%cause, "storage failure");
                ApiError::Internal
            }
            // The writer logged it for the whole group.
            SyncError::GroupFailed(_) => ApiError::Internal,
        }
    }
}

impl From<crate::wire::DecodeError> for ApiError {
    fn from(error: crate::wire::DecodeError) -> ApiError {
        use crate::wire::DecodeError;
        match error {
            DecodeError::Malformed(message) | DecodeError::TooMany(message) => ApiError::BadRequest(message),
            DecodeError::Record(message) => ApiError::Record(message),
        }
    }
}
