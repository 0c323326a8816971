//! `GET initial_dump`: (re)queue every record the site should hold; `type=full` for all tables,
//! anything else for the mobile subset (without the tables the 2017 app cannot take, over
//! `/sync/v2/`).

use super::{client_of, num_records, own_queue, RecordFormat};
use crate::api::call::Call;
use crate::api::error::ApiError;
use crate::primary::Primary;
use std::sync::Arc;

pub async fn get(primary: &Arc<Primary>, format: RecordFormat, call: Call) -> Result<Vec<u8>, ApiError> {
    let site = own_queue(primary, format, &call).await?;
    let full = call.query.get("type").is_some_and(|t| t == "full");
    let queued = primary.engine.initial_dump(site, !full, client_of(&call)).await?;
    Ok(num_records(queued))
}
