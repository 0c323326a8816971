//! The v1, v2 and v3 API: the same calls, and the same handlers. v3 is the v2 format (mSupply
//! Mobile since 2017); v1 differs only in its record format (numbered tables and fields) and in
//! accepting the historic shared sync user.

mod acknowledged_records;
mod initial_dump;
mod queued_records;
mod site;
mod user;

use crate::api::auth::{authenticate_site, authenticate_site_v1, seen, Claim};
use crate::api::call::Call;
use crate::api::endpoint::Endpoint;
use crate::api::error::ApiError;
use crate::domain::ids::SiteId;
use crate::primary::Primary;
use crate::sync::ClientKind;
use std::sync::Arc;

/// How records look on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordFormat {
    /// v1: `TableNumber`, `fields` and `values`.
    Numbered,
    /// v2 and v3: `RecordType` and `data`.
    Named,
}

pub async fn handle(
    primary: &Arc<Primary>,
    format: RecordFormat,
    endpoint: Endpoint,
    call: Call,
) -> Result<Vec<u8>, ApiError> {
    use http::Method;
    match (endpoint, &call.method) {
        (Endpoint::Site, &Method::GET) => site::get(primary, format, call).await,
        (Endpoint::User, &Method::GET) => user::get(primary, call).await,
        (Endpoint::QueuedRecords, &Method::GET) => queued_records::get(primary, format, call).await,
        (Endpoint::QueuedRecords, &Method::POST) => queued_records::post(primary, format, call).await,
        (Endpoint::QueuedRecordsCount, &Method::GET) => queued_records::count(primary, format, call).await,
        (Endpoint::AcknowledgedRecords, &Method::POST) => acknowledged_records::post(primary, format, call).await,
        (Endpoint::InitialDump, &Method::GET | &Method::POST) => initial_dump::get(primary, format, call).await,
        (_, method) => Err(ApiError::MethodNotAllowed(method.to_string())),
    }
}

/// The site the credentials name; on v1 also the shared sync user acting for `claim`.
async fn authenticate(
    primary: &Arc<Primary>,
    format: RecordFormat,
    call: &Call,
    claim: Option<Claim<'_>>,
) -> Result<SiteId, ApiError> {
    let site = match format {
        RecordFormat::Named => authenticate_site(&primary.engine, &call.headers).await,
        RecordFormat::Numbered => authenticate_site_v1(&primary.engine, &call.headers, &primary.config.v1, claim).await,
    }?;
    seen(&primary.engine, site, call);
    Ok(site)
}

/// Authenticates the site and checks that `from_site`/`to_site` name its own queue.
async fn own_queue(primary: &Arc<Primary>, format: RecordFormat, call: &Call) -> Result<SiteId, ApiError> {
    let claimed = call.query.get("from_site").and_then(|v| v.trim().parse().ok());
    let site = authenticate(primary, format, call, claimed.map(Claim::Id)).await?;
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

/// The client a call comes from, by its API: `/sync/v2/` is the 2017 mobile app's.
fn client_of(call: &Call) -> ClientKind {
    if call.path.starts_with("/sync/v2/") {
        ClientKind::Mobile2017
    } else {
        ClientKind::Current
    }
}

fn num_records(n: u64) -> Vec<u8> {
    format!("{{\"NumRecords\":{n}}}").into_bytes()
}
