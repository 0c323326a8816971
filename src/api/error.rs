//! Every failure a call can end in, and the one table from it to an HTTP status.
//!
//! Each layer's errors convert into [`ApiError`] (the sync core's, the decoders', the patient
//! API's own), whose [`ErrorCode`] is one of a closed set. [`ErrorCode::status`] is the only place
//! a status is chosen, for each of the four shapes errors are answered in ([`Shape`]): where the
//! APIs differ, the table says so and why. The renderers are `ApiError::body` (v1 to v4),
//! `ApiError::v5_response` (v5, v6), `ApiError::admin_response` (the admin API) and the patient
//! API's envelope (`wire::patient`).

use http::StatusCode;

use crate::wire::json::error_body;

/// Text the mobile client shows after this prefix when a site's hardware binding does not match.
pub const HARDWARE_MISMATCH: &str =
    "Site registration doesn't match. This site is registered to another machine: ask the primary's operator to reset it.";
pub const INVALID_CREDENTIALS: &str = "Invalid username or password";
/// What a disabled site's user reads.
pub const SITE_DISABLED: &str =
    "This site has been disabled on the primary server. Contact your mSupply administrator.";

/// The closed set of ways a call fails, whatever its API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    BadRequest,
    Unauthorized,
    /// The site is bound to another machine.
    HardwareMismatch,
    /// An operator has disabled the site.
    SiteDisabled,
    Forbidden,
    NotFound,
    MethodNotAllowed,
    PayloadTooLarge,
    /// The body is compressed in an encoding the primary does not read.
    UnsupportedEncoding,
    /// A pushed record the primary refuses (nothing of its push applied).
    RecordRefused,
    /// The client's API or app version is one this primary does not serve.
    VersionIncompatible,
    /// The request contradicts what is kept (an identifier of another patient).
    Conflict,
    /// The caller's site has not finished initialising.
    Initialising,
    /// The server is shutting down.
    Unavailable,
    /// Too many failed logins from the caller's address: refused before any check.
    TooManyRequests,
    /// Something failed inside the primary; the cause is logged, not sent.
    Internal,
}

/// The shapes errors are answered in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// v1 to v4, mSupply Mobile's and desktop's: `{"error":"…"}`.
    Sync,
    /// v5 and v6, open-mSupply's: `{"error":{"code","message","data"}}`.
    V5,
    /// The patient API's envelope: `{"data":{"error":{"code","message"}},"status"}`.
    Patient,
    /// The admin API's: `{"error":{"code","message"}}`, the code [`ErrorCode::name`].
    Admin,
}

impl ErrorCode {
    /// The one table from failure to HTTP status.
    pub fn status(self, shape: Shape) -> StatusCode {
        match self {
            ErrorCode::BadRequest => StatusCode::BAD_REQUEST,
            ErrorCode::Unauthorized => StatusCode::UNAUTHORIZED,
            // mSupply Mobile shows the `error` of a 200 to its user and stops there; any other
            // status it takes for a network failure and retries for ever. open-mSupply (which
            // names it `site_incorrect_hardware_id`) and the patient API's clients want a 401.
            ErrorCode::HardwareMismatch if shape == Shape::Sync => StatusCode::OK,
            ErrorCode::HardwareMismatch => StatusCode::UNAUTHORIZED,
            // Shown to mobile's user like a hardware mismatch, so that it stops there.
            ErrorCode::SiteDisabled if shape == Shape::Sync => StatusCode::OK,
            ErrorCode::SiteDisabled => StatusCode::FORBIDDEN,
            // The same for a refused record: mobile shows the message; v5 answers `bad_request`.
            ErrorCode::RecordRefused if shape == Shape::Sync => StatusCode::OK,
            ErrorCode::RecordRefused => StatusCode::BAD_REQUEST,
            ErrorCode::Forbidden => StatusCode::FORBIDDEN,
            ErrorCode::NotFound => StatusCode::NOT_FOUND,
            ErrorCode::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ErrorCode::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ErrorCode::UnsupportedEncoding => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ErrorCode::VersionIncompatible | ErrorCode::Conflict => StatusCode::CONFLICT,
            ErrorCode::Initialising | ErrorCode::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            ErrorCode::TooManyRequests => StatusCode::TOO_MANY_REQUESTS,
            ErrorCode::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The code's own name, as the admin API answers it.
    pub fn name(self) -> &'static str {
        match self {
            ErrorCode::BadRequest => "bad_request",
            ErrorCode::Unauthorized => "unauthorized",
            ErrorCode::HardwareMismatch => "hardware_mismatch",
            ErrorCode::SiteDisabled => "site_disabled",
            ErrorCode::Forbidden => "forbidden",
            ErrorCode::NotFound => "not_found",
            ErrorCode::MethodNotAllowed => "method_not_allowed",
            ErrorCode::PayloadTooLarge => "payload_too_large",
            ErrorCode::UnsupportedEncoding => "unsupported_encoding",
            ErrorCode::RecordRefused => "record_refused",
            ErrorCode::VersionIncompatible => "version_incompatible",
            ErrorCode::Conflict => "conflict",
            ErrorCode::Initialising => "initialising",
            ErrorCode::Unavailable => "unavailable",
            ErrorCode::TooManyRequests => "too_many_requests",
            ErrorCode::Internal => "internal",
        }
    }

    /// The `error.code` open-mSupply recognises.
    pub fn v5_code(self) -> &'static str {
        match self {
            ErrorCode::Unauthorized => "site_incorrect_password",
            ErrorCode::HardwareMismatch => "site_incorrect_hardware_id",
            ErrorCode::BadRequest | ErrorCode::RecordRefused | ErrorCode::UnsupportedEncoding => "bad_request",
            ErrorCode::Forbidden | ErrorCode::SiteDisabled => "forbidden",
            ErrorCode::NotFound => "not_found",
            ErrorCode::MethodNotAllowed => "method_not_allowed",
            ErrorCode::PayloadTooLarge => "payload_too_large",
            ErrorCode::VersionIncompatible => "api_version_incompatible",
            ErrorCode::Conflict => "conflict",
            ErrorCode::Initialising | ErrorCode::Unavailable => "unavailable",
            ErrorCode::TooManyRequests => "too_many_requests",
            ErrorCode::Internal => "internal_error",
        }
    }
}

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
    /// The body's `Content-Encoding` is not one the primary reads (415).
    #[error("the request body's Content-Encoding {0:?} is not accepted: send it as gzip, zstd, br or uncompressed")]
    UnsupportedEncoding(String),
    /// A problem the satellite's user should read: 200 with the message, as mobile expects.
    #[error("{0}")]
    Record(String),
    /// The site is bound to another machine: 200 with the text mobile recognises.
    #[error("{HARDWARE_MISMATCH}")]
    HardwareMismatch,
    /// An operator has disabled the site.
    #[error("{SITE_DISABLED}")]
    SiteDisabled,
    /// The client's API or app version is one this primary does not serve (409).
    #[error("{0}")]
    VersionIncompatible(String),
    /// The server is shutting down (503).
    #[error("the server is shutting down")]
    Unavailable,
    /// In a cluster: no writer took a change in time, or the log did not answer (503); nothing
    /// was applied, and the same request may be sent again.
    #[error("the cluster has no writer or log answering just now (a failover): try again")]
    ClusterBusy,
    /// Too many failed logins from this address (429); it may try again after the seconds given.
    #[error("too many failed logins from this address: try again in {0} seconds")]
    TooManyLogins(u64),
    /// Something failed inside the primary (500); the cause is logged, not sent.
    #[error("internal error")]
    Internal,
}

impl ApiError {
    pub fn code(&self) -> ErrorCode {
        match self {
            ApiError::BadRequest(_) => ErrorCode::BadRequest,
            ApiError::Unauthorized => ErrorCode::Unauthorized,
            ApiError::Forbidden(_) => ErrorCode::Forbidden,
            ApiError::NotFound(_) => ErrorCode::NotFound,
            ApiError::MethodNotAllowed(_) => ErrorCode::MethodNotAllowed,
            ApiError::PayloadTooLarge(_) => ErrorCode::PayloadTooLarge,
            ApiError::UnsupportedEncoding(_) => ErrorCode::UnsupportedEncoding,
            ApiError::Record(_) => ErrorCode::RecordRefused,
            ApiError::HardwareMismatch => ErrorCode::HardwareMismatch,
            ApiError::SiteDisabled => ErrorCode::SiteDisabled,
            ApiError::VersionIncompatible(_) => ErrorCode::VersionIncompatible,
            ApiError::Unavailable | ApiError::ClusterBusy => ErrorCode::Unavailable,
            ApiError::TooManyLogins(_) => ErrorCode::TooManyRequests,
            ApiError::Internal => ErrorCode::Internal,
        }
    }

    /// The status in the v1 to v4 APIs.
    pub fn status(&self) -> StatusCode {
        self.code().status(Shape::Sync)
    }

    pub fn body(&self) -> Vec<u8> {
        error_body(&self.to_string())
    }

    /// The status and body in v5's shape, `{"error":{"code":…,"message":…,"data":null}}`.
    pub fn v5_response(&self) -> (StatusCode, Vec<u8>) {
        let code = self.code();
        (
            code.status(Shape::V5),
            crate::wire::v5::error_body(code.v5_code(), &self.to_string()),
        )
    }

    /// The status and body in the admin API's shape, `{"error":{"code":…,"message":…}}`.
    pub fn admin_response(&self) -> (StatusCode, Vec<u8>) {
        let code = self.code();
        (
            code.status(Shape::Admin),
            crate::wire::admin::error_body(code.name(), &self.to_string()),
        )
    }
}

impl From<crate::sync::SyncError> for ApiError {
    fn from(error: crate::sync::SyncError) -> ApiError {
        use crate::sync::SyncError;
        match error {
            SyncError::HardwareMismatch => ApiError::HardwareMismatch,
            SyncError::WriterStopped => ApiError::Unavailable,
            // A cluster found no writer in time (a lease changing hands): nothing was applied,
            // and a satellite sends it again at its next sync.
            SyncError::NotWriter => ApiError::ClusterBusy,
            SyncError::UnknownSite(_) => ApiError::Unauthorized,
            SyncError::Invalid(message) => ApiError::BadRequest(message),
            SyncError::BadRecord(message) => ApiError::Record(message),
            // Only operator actions skip records; no endpoint reaches this.
            SyncError::NotQueued(sync_id) => ApiError::BadRequest(format!("no record {sync_id} is queued")),
            // Only patient sync's changes are refused so, and it decides them again.
            SyncError::PatientStale => ApiError::ClusterBusy,
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

#[cfg(test)]
mod tests {
    use super::*;

    const EVERY_CODE: [ErrorCode; 16] = [
        ErrorCode::BadRequest,
        ErrorCode::Unauthorized,
        ErrorCode::HardwareMismatch,
        ErrorCode::SiteDisabled,
        ErrorCode::Forbidden,
        ErrorCode::NotFound,
        ErrorCode::MethodNotAllowed,
        ErrorCode::PayloadTooLarge,
        ErrorCode::UnsupportedEncoding,
        ErrorCode::RecordRefused,
        ErrorCode::VersionIncompatible,
        ErrorCode::Conflict,
        ErrorCode::Initialising,
        ErrorCode::Unavailable,
        ErrorCode::TooManyRequests,
        ErrorCode::Internal,
    ];

    #[test]
    fn the_apis_differ_only_where_mobile_needs_a_200() {
        for code in EVERY_CODE {
            let (sync, v5, patient, admin) = (
                code.status(Shape::Sync),
                code.status(Shape::V5),
                code.status(Shape::Patient),
                code.status(Shape::Admin),
            );
            assert_eq!(v5, patient, "{code:?}");
            assert_eq!(v5, admin, "{code:?}");
            let mobile_reads_it = matches!(
                code,
                ErrorCode::HardwareMismatch | ErrorCode::RecordRefused | ErrorCode::SiteDisabled
            );
            assert_eq!(sync == StatusCode::OK, mobile_reads_it, "{code:?}");
            if !mobile_reads_it {
                assert_eq!(sync, v5, "{code:?}");
            }
            assert!(v5.is_client_error() || v5.is_server_error(), "{code:?}: {v5}");
        }
        assert_eq!(ErrorCode::HardwareMismatch.status(Shape::V5), StatusCode::UNAUTHORIZED);
        let names: std::collections::HashSet<&str> = EVERY_CODE.iter().map(|c| c.name()).collect();
        assert_eq!(names.len(), EVERY_CODE.len(), "every code has a name of its own");
        assert_eq!(
            ErrorCode::Unavailable.status(Shape::Patient),
            StatusCode::SERVICE_UNAVAILABLE
        );
    }
}
