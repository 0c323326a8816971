//! `GET clear?pid=`: needs `clear-patient-sync`.

use std::sync::Arc;

use http::StatusCode;

use crate::api::call::Call;
use crate::domain::permissions::CLEAR_PATIENT_SYNC;
use crate::primary::Primary;
use crate::wire::patient::clear_data;

use super::access::caller;
use super::{host, pid_parameter, Reply};

pub async fn clear(primary: &Arc<Primary>, call: Call) -> Reply {
    let caller = caller(primary, &call.headers).await?;
    caller.require(CLEAR_PATIENT_SYNC)?;
    let pid = pid_parameter(&call)?;
    caller.require_initialised(primary)?;
    crate::patient_sync::clear::clear(&host(primary), pid.clone()).await?;
    Ok((StatusCode::OK, clear_data(&pid.to_string())))
}
