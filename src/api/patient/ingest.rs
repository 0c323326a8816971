//! `POST ingest`: a satellite answers `patient_sync_request`s with its patients' metastamps and
//! records (the contract is in the README). Only a satellite may post, only for pids at its own
//! site code, and the whole body is refused (nothing applied) if any item is not its own.

use std::sync::Arc;

use http::StatusCode;

use crate::api::call::Call;
use crate::patient::ids::SourcePid;
use crate::patient_sync::dispatch::dispatch;
use crate::patient_sync::identity::site_code;
use crate::patient_sync::{apply, on_writer};
use crate::primary::Primary;
use crate::wire::patient::{decode_ingest, ingest_data};

use super::access::caller;
use super::{host, Refusal, Reply};
use crate::api::error::ErrorCode;

pub async fn ingest(primary: &Arc<Primary>, call: Call) -> Reply {
    let caller = caller(primary, &call.headers).await?;
    let site = match (caller.is_site, caller.site) {
        (true, Some(site)) => site,
        _ => {
            return Err(Refusal::new(
                ErrorCode::Forbidden,
                "only a satellite, with its own credentials, may post to ingest",
            ))
        }
    };
    let limit = primary.config.limits.max_body_bytes;
    let body = call.body().await.map_err(Refusal::from)?;
    let items = decode_ingest(&body, limit).map_err(Refusal::from)?;
    let own = site_code(site);
    for (index, item) in items.iter().enumerate() {
        let mine = matches!(&item.pid, SourcePid::Site { site, .. } if site == &own);
        if !mine {
            return Err(Refusal::new(
                ErrorCode::Forbidden,
                format!("item {index}: pid {} is not a patient of site {own}", item.pid),
            ));
        }
    }
    let (outcome, requests) = on_writer(&host(primary), move |p| apply::ingest(p, &items)).await?;
    dispatch(host(primary), requests).await?;
    Ok((
        StatusCode::OK,
        ingest_data(outcome.items, outcome.records, outcome.ignored),
    ))
}
