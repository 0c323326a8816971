//! The v2 API, also served at v3 (mSupply Mobile since 2017 uses v3 with the v2 format).

mod acknowledged_records;
mod initial_dump;
mod queued_records;
mod site;
mod user;

use crate::domain::ids::SiteId;
use crate::http::error::ApiError;
use crate::http::router::Endpoint;
use crate::http::{Call, Primary};
use std::sync::Arc;

pub async fn handle(primary: &Arc<Primary>, endpoint: Endpoint, call: Call) -> Result<Vec<u8>, ApiError> {
    use http::Method;
    match (endpoint, &call.method) {
        (Endpoint::Site, &Method::GET) => site::get(primary, call).await,
        (Endpoint::User, &Method::GET) => user::get(primary, call).await,
        (Endpoint::QueuedRecords, &Method::GET) => queued_records::get(primary, call).await,
        (Endpoint::QueuedRecords, &Method::POST) => queued_records::post(primary, call).await,
        (Endpoint::QueuedRecordsCount, &Method::GET) => queued_records::count(primary, call).await,
        (Endpoint::AcknowledgedRecords, &Method::POST) => acknowledged_records::post(primary, call).await,
        (Endpoint::InitialDump, &Method::GET | &Method::POST) => initial_dump::get(primary, call).await,
        (_, method) => Err(ApiError::MethodNotAllowed(method.to_string())),
    }
}

/// Authenticates the site and checks that `from_site`/`to_site` name its own queue.
async fn own_queue(primary: &Arc<Primary>, call: &Call) -> Result<SiteId, ApiError> {
    let site = crate::http::auth::authenticate_site(&primary.engine, &call.headers).await?;
    let parse = |name: &str| -> Result<u32, ApiError> {
        let value = call
            .query
            .get(name)
            .ok_or_else(|| ApiError::BadRequest(format!("{name} is required")))?;
        value
            .trim()
            .parse()
            .map_err(|_| ApiError::BadRequest(format!("{name} must be a site number, not \"{value}\"")))
    };
    let (from, to) = (parse("from_site")?, parse("to_site")?);
    let primary_id = primary.config.server.primary_site_id;
    if from != site.0 || to != primary_id {
        return Err(ApiError::Forbidden(format!(
            "from_site must be your own site id and to_site the primary's ({primary_id})"
        )));
    }
    Ok(site)
}

fn num_records(n: u64) -> Vec<u8> {
    format!("{{\"NumRecords\":{n}}}").into_bytes()
}
