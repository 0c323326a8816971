//! `POST acknowledged_records`: the satellite has integrated these records.

use super::{own_queue, RecordFormat};
use crate::api::call::Call;
use crate::api::error::ApiError;
use crate::primary::Primary;
use crate::wire::v2;
use std::sync::Arc;

pub async fn post(primary: &Arc<Primary>, format: RecordFormat, call: Call) -> Result<Vec<u8>, ApiError> {
    let site = own_queue(primary, format, &call).await?;
    let mut body = call.body().await?;
    let ids = v2::decode_acknowledgement(&mut body)?;
    let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
    let left = primary.engine.acknowledge(site, &ids).await?;
    Ok(format!("{{\"error\":\"\",\"NumRecords\":{left}}}").into_bytes())
}
