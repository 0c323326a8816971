//! `GET queued_records` (pull), `GET queued_records/count`, `POST queued_records` (push).

use super::{client_of, num_records, own_queue, RecordFormat};
use crate::api::call::Call;
use crate::api::error::ApiError;
use crate::api::run_pull;
use crate::primary::Primary;
use crate::sync::Outgoing;
use crate::wire::{v1, v2};
use std::sync::Arc;

pub async fn get(primary: &Arc<Primary>, format: RecordFormat, call: Call) -> Result<Vec<u8>, ApiError> {
    let site = own_queue(primary, format, &call).await?;
    primary.engine.note_client(site, client_of(&call)).await?;
    if let Some(sync_id) = call.query.get("sync_id").cloned() {
        return run_pull(primary, move |p| {
            Ok(encode(p, format, p.engine.find(site, &sync_id)?.as_slice()))
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
    run_pull(primary, move |p| Ok(encode(p, format, &p.engine.deliver(site, limit)?))).await
}

pub async fn count(primary: &Arc<Primary>, format: RecordFormat, call: Call) -> Result<Vec<u8>, ApiError> {
    let site = own_queue(primary, format, &call).await?;
    // What the site may receive depends on its client: settled before counting, so that the
    // count and the list agree.
    primary.engine.note_client(site, client_of(&call)).await?;
    Ok(num_records(primary.engine.count(site)))
}

pub async fn post(primary: &Arc<Primary>, format: RecordFormat, call: Call) -> Result<Vec<u8>, ApiError> {
    let site = own_queue(primary, format, &call).await?;
    let body = call.body().await?;
    let max = primary.config.limits.max_push_records;
    let records = match format {
        RecordFormat::Named => v2::decode_push(&body, max)?,
        RecordFormat::Numbered => v1::decode_push(&body, max, &primary.config.v1.numbering)?,
    };
    primary.engine.push(site, records).await?;
    Ok(br#"{"error":""}"#.to_vec())
}

fn encode(primary: &Primary, format: RecordFormat, records: &[Outgoing]) -> Vec<u8> {
    match format {
        RecordFormat::Named => v2::encode_records(records),
        RecordFormat::Numbered => v1::encode_records(records, &primary.config.v1.numbering),
    }
}
