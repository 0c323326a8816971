//! One folder per API surface (the satellites' sync APIs, the patient API, the operators' admin
//! API), one thin file per endpoint: authenticate → decode (`wire`) → act
//! (`sync`) → encode (`wire`); and what they share: the request ([`call`]), what a route names
//! ([`endpoint`]), authentication ([`auth`]) and the error table ([`error`]). No business rule
//! and no storage type here, and no import of `http`, which calls these handlers.

pub mod admin;
pub mod auth;
pub mod call;
pub mod endpoint;
pub mod error;
pub mod health;
pub mod metrics;
pub mod patient;
pub mod request_metrics;
pub mod v2;
pub mod v4;
pub mod v5;
pub mod v6;

use std::sync::Arc;

use crate::primary::Primary;
use error::ApiError;

/// Runs a pull's storage read and encoding on the blocking pool at the pull threads' lowered
/// priority ([`crate::priority`]), so that it never holds up an async worker nor the cheap
/// calls waiting for one.
pub(crate) async fn run_pull<T: Send + 'static>(
    primary: &Arc<Primary>,
    read: impl FnOnce(&Primary) -> crate::sync::Result<T> + Send + 'static,
) -> Result<T, ApiError> {
    let primary = primary.clone();
    tokio::task::spawn_blocking(move || {
        crate::priority::lower_current_thread();
        read(&primary)
    })
    .await
    .map_err(|_| ApiError::Internal)?
    .map_err(ApiError::from)
}
