//! A satellite's queue as an operator handles it: what heads it (`GET sites/{name}/queue`),
//! skipping a record it cannot integrate (`POST sites/{name}/queue/skip`, logged with the
//! operator's reason) and the skip log (`GET sites/{name}/skips`). The work is `admin::queue`'s,
//! which the command line shares.

use std::collections::HashMap;
use std::sync::Arc;

use super::sites::satellite;
use crate::admin::{queue, AdminError};
use crate::api::error::ApiError;
use crate::primary::Primary;
use crate::sync::{SyncEngine, SyncError};
use crate::wire::admin::{decode_request, queue_body, skipped_body, skips_body, SkipRequest};

/// Records shown when the call names no `limit`.
pub const DEFAULT_LIMIT: usize = 20;

/// `limit` from the query: a positive number, capped at `max`; `default` when left out.
pub fn limit(query: &HashMap<String, String>, default: usize, max: usize) -> Result<usize, ApiError> {
    match query.get("limit") {
        None => Ok(default.min(max)),
        Some(text) => match text.parse::<usize>() {
            Ok(limit) if limit > 0 => Ok(limit.min(max)),
            _ => Err(ApiError::BadRequest(format!(
                "limit must be a positive number, not {text:?}"
            ))),
        },
    }
}

/// How many records the site has queued, and the first `limit` in delivery order (read on the
/// pulls' pool: it reads storage).
pub async fn head(primary: &Arc<Primary>, name: &str, limit: usize) -> Result<Vec<u8>, ApiError> {
    satellite(&primary.engine, name)?;
    let name = name.to_string();
    crate::api::run_pull(primary, move |primary| {
        queue::head(&primary.engine, &name, limit)
            .map(|(count, head)| queue_body(count, &head))
            .map_err(|error| match error {
                AdminError::Sync(error) => error,
                other => SyncError::Invalid(other.to_string()),
            })
    })
    .await
}

/// Removes one record from the site's queue only, from `{"sync_id":…,"reason":…}`.
pub async fn skip(engine: &SyncEngine, operator: &str, name: &str, body: &[u8]) -> Result<Vec<u8>, ApiError> {
    satellite(engine, name)?;
    let request: SkipRequest = decode_request(body)?;
    if request.reason.trim().is_empty() {
        return Err(ApiError::BadRequest("say why the record is skipped (reason)".into()));
    }
    let reason = format!("{} (operator {operator})", request.reason.trim());
    let skipped = queue::skip(engine, name, &request.sync_id, &reason)
        .await
        .map_err(|error| match error {
            AdminError::Sync(SyncError::NotQueued(sync_id)) => {
                ApiError::NotFound(format!("no record {sync_id} is queued for {name}"))
            }
            other => from_admin(other),
        })?;
    Ok(skipped_body(&skipped))
}

/// The site's skip log, oldest first.
pub fn skips(engine: &SyncEngine, name: &str) -> Result<Vec<u8>, ApiError> {
    satellite(engine, name)?;
    let entries = queue::skipped(engine, name).map_err(from_admin)?;
    Ok(skips_body(&entries))
}

fn from_admin(error: AdminError) -> ApiError {
    match error {
        AdminError::Invalid(message) => ApiError::BadRequest(message),
        AdminError::Sync(error) => ApiError::from(error),
        AdminError::Storage(error) => ApiError::from(SyncError::Storage(error)),
        AdminError::Io(error) => {
            tracing::error!(%error, "admin I/O failure");
            ApiError::Internal
        }
    }
}
