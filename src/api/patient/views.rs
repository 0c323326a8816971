//! `GET status`, `status-detail`, `data-status` (a patient's) and `operational-status` (a site's).

use std::sync::Arc;

use http::StatusCode;

use crate::api::call::Call;
use crate::domain::permissions::READ_PATIENT_RECORD;
use crate::patient::ids::SiteCode;
use crate::patient_sync::identity::site_of_code;
use crate::patient_sync::views::{operational_status, patient_view, View};
use crate::primary::Primary;

use super::access::caller;
use super::{pid_parameter, Refusal, Reply};
use crate::api::error::ErrorCode;

pub async fn patient(primary: &Arc<Primary>, call: Call, view: View) -> Reply {
    let caller = caller(primary, &call.headers).await?;
    caller.require(READ_PATIENT_RECORD)?;
    let pid = pid_parameter(&call)?;
    Ok((StatusCode::OK, patient_view(&**primary, &pid, view)?))
}

/// The caller's own site; an administrator, or a user of that site, may name another with
/// `site=` (a site code).
pub async fn operational(primary: &Arc<Primary>, call: Call) -> Reply {
    let caller = caller(primary, &call.headers).await?;
    caller.require(READ_PATIENT_RECORD)?;
    let site = match call.query.get("site") {
        None => caller.site.ok_or_else(|| {
            Refusal::bad_request("this user has no site of their own: name one with site=<site code>")
        })?,
        Some(code) => {
            let named = SiteCode::parse(code.trim())
                .ok()
                .and_then(|code| {
                    primary
                        .engine
                        .with_directory(|directory| site_of_code(&code, directory))
                })
                .ok_or_else(|| Refusal::new(ErrorCode::NotFound, format!("no site has the code {code}")))?;
            if Some(named) != caller.site && !caller.is_admin {
                return Err(Refusal::new(
                    ErrorCode::Forbidden,
                    "only an administrator may read another site's operational status",
                ));
            }
            named
        }
    };
    Ok((StatusCode::OK, operational_status(&**primary, site)?))
}
