//! `GET queued_records` (pull), `GET queued_records/count`, `POST queued_records` (push).

use super::{num_records, own_queue};
use crate::http::error::ApiError;
use crate::http::{Call, Primary};
use crate::wire::v2;
use std::sync::Arc;

pub async fn get(primary: &Arc<Primary>, call: Call) -> Result<Vec<u8>, ApiError> {
    let site = own_queue(primary, &call).await?;
    if let Some(sync_id) = call.query.get("sync_id").cloned() {
        return run_blocking(primary, move |p| {
            Ok(v2::encode_records(p.engine.find(site, &sync_id)?.as_slice()))
        })
        .await;
    }
    let limit = match call.query.get("limit") {
        None => 1,
        Some(text) => text
            .trim()
            .parse::<usize>()
            .map_err(|_| ApiError::BadRequest(format!("limit must be a whole number, not \"{text}\"")))?,
    };
    let limit = limit.min(primary.config.limits.max_pull_limit);
    // Reading and encoding both happen off the async workers, which stay free for the light
    // calls (count, acknowledgements) that the satellites make between pulls.
    run_blocking(primary, move |p| Ok(v2::encode_records(&p.engine.list(site, limit)?))).await
}

pub async fn count(primary: &Arc<Primary>, call: Call) -> Result<Vec<u8>, ApiError> {
    let site = own_queue(primary, &call).await?;
    Ok(num_records(primary.engine.count(site)))
}

pub async fn post(primary: &Arc<Primary>, call: Call) -> Result<Vec<u8>, ApiError> {
    let site = own_queue(primary, &call).await?;
    let body = call.body().await?;
    let records = v2::decode_push(&body, primary.config.limits.max_push_records)?;
    primary.engine.push(site, records).await?;
    Ok(br#"{"error":""}"#.to_vec())
}

/// Runs a storage read off the async runtime.
async fn run_blocking<T: Send + 'static>(
    primary: &Arc<Primary>,
    read: impl FnOnce(&Primary) -> crate::sync::Result<T> + Send + 'static,
) -> Result<T, ApiError> {
    let primary = primary.clone();
    tokio::task::spawn_blocking(move || {
        crate::http::priority::lower_current_thread();
        read(&primary)
    })
    .await
    .map_err(|_| ApiError::Internal)?
    .map_err(ApiError::from)
}
