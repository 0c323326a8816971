//! `GET load?pid=&forcedSite=&prioritySite=&immediate=` and `POST demographics-load`: both
//! answer 201 with the `/status` data.

use std::sync::Arc;

use http::StatusCode;

use crate::api::call::Call;
use crate::domain::permissions::READ_PATIENT_RECORD;
use crate::patient::Source;
use crate::patient_sync::load::{self as service, Wait};
use crate::patient_sync::plan::Forced;
use crate::primary::Primary;
use crate::wire::patient::{decode_demographics_load, invalid_flag_message};

use super::access::caller;
use super::{host, pid_parameter, Refusal, Reply};

pub async fn load(primary: &Arc<Primary>, call: Call) -> Reply {
    let caller = caller(primary, &call.headers).await?;
    caller.require(READ_PATIENT_RECORD)?;
    let pid = pid_parameter(&call)?;
    let forced = forced_parameter(&call)?;
    let priority = match call.query.get("prioritySite") {
        // forcedSite, when present, overrides it.
        Some(_) if forced.is_some() => None,
        Some(code) => Some(Source::parse(code.trim()).map_err(|error| Refusal::bad_request(error.to_string()))?),
        None => None,
    };
    let immediate = match call.query.get("immediate").map(String::as_str) {
        None | Some("false") => false,
        Some("true") => true,
        Some(other) => return Err(Refusal::bad_request(invalid_flag_message("immediate", other))),
    };
    let wait = match priority {
        Some(source) => Wait::For(source),
        None if immediate => Wait::Not,
        None => Wait::All,
    };
    caller.require_initialised(primary)?;
    let status = service::load(&host(primary), pid, forced.unwrap_or_default(), wait).await?;
    Ok((StatusCode::CREATED, status))
}

/// `forcedSite`: `true` for every secondary source, `false` for none, or a comma list of sources.
fn forced_parameter(call: &Call) -> Result<Option<Forced>, Refusal> {
    let Some(value) = call.query.get("forcedSite") else {
        return Ok(None);
    };
    let forced = match value.trim() {
        "true" => Forced::AllSecondary,
        "false" => Forced::None,
        list => Forced::Sources(
            list.split(',')
                .map(|code| Source::parse(code.trim()))
                .collect::<Result<_, _>>()
                .map_err(|error| Refusal::bad_request(error.to_string()))?,
        ),
    };
    Ok(Some(forced))
}

pub async fn demographics_load(primary: &Arc<Primary>, call: Call) -> Reply {
    let caller = caller(primary, &call.headers).await?;
    caller.require(READ_PATIENT_RECORD)?;
    caller.require_initialised(primary)?;
    let body = call.body().await.map_err(Refusal::from)?;
    let request = decode_demographics_load(&body).map_err(Refusal::from)?;
    let status = service::demographics_load(&host(primary), request.patient, request.demographics).await?;
    Ok((StatusCode::CREATED, status))
}
