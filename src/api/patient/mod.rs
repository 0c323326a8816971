//! The patient sync ("Group Sync") API under `[patient] base_path` (default `/resource/sync`).
//! Every reply, success or error, is the envelope `{"data": …, "status": <HTTP status>}`; the
//! handlers here authenticate, check permissions and the initialisation rule, decode parameters,
//! and call [`crate::patient_sync`].

mod access;
mod clear;
mod ingest;
mod load;
mod views;

use std::sync::Arc;

use http::{Method, StatusCode};
use serde_json::Value;

use crate::api::call::Call;
use crate::api::error::{ErrorCode, Shape};
use crate::patient::ids::PatientId;
use crate::patient_sync::views::View;
use crate::patient_sync::{PatientSyncError, Shared};
use crate::primary::Primary;
use crate::wire::patient::{envelope, error_body, load_error_body, malformed_pid_message, MISSING_PID};

/// A failed call: what failed and the message the envelope carries; its status is the one
/// table's ([`ErrorCode::status`]).
#[derive(Debug)]
pub struct Refusal {
    pub code: ErrorCode,
    pub message: String,
}

impl Refusal {
    fn new(code: ErrorCode, message: impl Into<String>) -> Refusal {
        Refusal {
            code,
            message: message.into(),
        }
    }

    fn bad_request(message: impl Into<String>) -> Refusal {
        Refusal::new(ErrorCode::BadRequest, message)
    }

    fn status(&self) -> StatusCode {
        self.code.status(Shape::Patient)
    }
}

impl From<crate::api::error::ApiError> for Refusal {
    fn from(error: crate::api::error::ApiError) -> Refusal {
        Refusal::new(error.code(), error.to_string())
    }
}

impl From<crate::wire::patient::PatientWireError> for Refusal {
    fn from(error: crate::wire::patient::PatientWireError) -> Refusal {
        use crate::wire::patient::PatientWireError;
        let code = match &error {
            PatientWireError::TooLarge(_) => ErrorCode::PayloadTooLarge,
            PatientWireError::BadRequest(_) => ErrorCode::BadRequest,
        };
        Refusal::new(code, error.to_string())
    }
}

impl From<PatientSyncError> for Refusal {
    fn from(error: PatientSyncError) -> Refusal {
        use crate::wire::patient::{INTERNAL_ERROR, OPERATIONAL_DATA_IN_PROGRESS};
        match error {
            PatientSyncError::BadRequest(message) => Refusal::bad_request(message),
            PatientSyncError::NotFound(message) => Refusal::new(ErrorCode::NotFound, message),
            PatientSyncError::Conflict(message) => Refusal::new(ErrorCode::Conflict, message),
            PatientSyncError::Forbidden(message) => Refusal::new(ErrorCode::Forbidden, message),
            PatientSyncError::Initialising => Refusal::new(ErrorCode::Initialising, OPERATIONAL_DATA_IN_PROGRESS),
            PatientSyncError::Failed => Refusal::new(ErrorCode::Internal, INTERNAL_ERROR),
            PatientSyncError::Sync(crate::sync::SyncError::WriterStopped) => {
                Refusal::new(ErrorCode::Unavailable, "the server is shutting down")
            }
            // The writer logged it for the whole group.
            PatientSyncError::Sync(crate::sync::SyncError::GroupFailed(_)) => {
                Refusal::new(ErrorCode::Internal, INTERNAL_ERROR)
            }
            cause @ (PatientSyncError::Storage(_) | PatientSyncError::Sync(_) | PatientSyncError::Task) => {
                tracing::error!(%cause, "patient sync failure");
                Refusal::new(ErrorCode::Internal, INTERNAL_ERROR)
            }
        }
    }
}

/// A refusal of a call under the base path in the envelope: (status, body).
pub fn refusal(error: &crate::api::error::ApiError) -> (StatusCode, Vec<u8>) {
    let refusal = Refusal::from(error.clone());
    (
        refusal.status(),
        error_body(refusal.status().as_u16(), &refusal.message),
    )
}

/// The primary as the patient sync service sees it.
fn host(primary: &Arc<Primary>) -> Shared {
    primary.clone()
}

/// A successful reply's status and `data`.
pub type Reply = Result<(StatusCode, Value), Refusal>;

/// Every endpoint under the base path (another method on one of them is a 405, not a 404).
const ENDPOINTS: [&str; 8] = [
    "/load",
    "/demographics-load",
    "/clear",
    "/status",
    "/status-detail",
    "/data-status",
    "/operational-status",
    "/ingest",
];

/// The endpoint `rest` (the path after the base path) names, as the metrics name it (`load`,
/// `status`, …); `None` when it is none of them.
pub fn endpoint_name(rest: &str) -> Option<&'static str> {
    let endpoint = rest.strip_suffix('/').unwrap_or(rest);
    ENDPOINTS
        .iter()
        .find(|known| **known == endpoint)
        .map(|known| known.trim_start_matches('/'))
}

/// Serves `rest` (the path after the base path); answers with the status and the envelope.
pub async fn handle(primary: &Arc<Primary>, rest: &str, call: Call) -> (StatusCode, Vec<u8>) {
    let endpoint = rest.strip_suffix('/').unwrap_or(rest);
    let is_load = endpoint == "/load";
    let reply = match (endpoint, &call.method) {
        ("/load", &Method::GET) => load::load(primary, call).await,
        ("/demographics-load", &Method::POST) => load::demographics_load(primary, call).await,
        ("/clear", &Method::GET) => clear::clear(primary, call).await,
        ("/status", &Method::GET) => views::patient(primary, call, View::Status).await,
        ("/status-detail", &Method::GET) => views::patient(primary, call, View::Detail).await,
        ("/data-status", &Method::GET) => views::patient(primary, call, View::Data).await,
        ("/operational-status", &Method::GET) => views::operational(primary, call).await,
        ("/ingest", &Method::POST) => ingest::ingest(primary, call).await,
        _ if ENDPOINTS.contains(&endpoint) => Err(Refusal::new(
            ErrorCode::MethodNotAllowed,
            format!("method {} is not allowed here", call.method),
        )),
        _ => Err(Refusal::new(
            ErrorCode::NotFound,
            format!("no such endpoint: {endpoint}"),
        )),
    };
    match reply {
        Ok((status, data)) => (status, envelope(&data, status.as_u16())),
        // The load endpoint answers a bad request with a list of messages, as its clients expect.
        Err(refusal) if is_load && refusal.code == ErrorCode::BadRequest => (
            refusal.status(),
            load_error_body(refusal.status().as_u16(), &refusal.message),
        ),
        Err(refusal) => (
            refusal.status(),
            error_body(refusal.status().as_u16(), &refusal.message),
        ),
    }
}

/// The `pid` parameter, parsed; 400 with the spec's messages when it is missing or malformed.
fn pid_parameter(call: &Call) -> Result<PatientId, Refusal> {
    let text = call
        .query
        .get("pid")
        .filter(|pid| !pid.trim().is_empty())
        .ok_or_else(|| Refusal::bad_request(MISSING_PID))?;
    PatientId::parse(text.trim()).map_err(|_| Refusal::bad_request(malformed_pid_message(text)))
}

#[cfg(test)]
mod tests {
    #[test]
    fn endpoint_names_are_the_endpoints_without_their_slash() {
        assert_eq!(super::endpoint_name("/load"), Some("load"));
        assert_eq!(super::endpoint_name("/status-detail/"), Some("status-detail"));
        assert_eq!(super::endpoint_name("/load/9E7A;3"), None);
        assert_eq!(super::endpoint_name(""), None);
    }
}
