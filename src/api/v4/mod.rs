//! The v4 patient lookups, served at `/sync/v4/…` and `/api/v4/…`, authenticated as a site.

use std::sync::Arc;

use crate::api::auth::{authenticate_site, seen};
use crate::api::call::Call;
use crate::api::endpoint::Endpoint;
use crate::api::error::ApiError;
use crate::api::run_pull;
use crate::primary::Primary;
use crate::wire::v4;

pub async fn handle(primary: &Arc<Primary>, endpoint: Endpoint, call: Call) -> Result<Vec<u8>, ApiError> {
    use http::Method;
    let site = authenticate_site(&primary.engine, &call.headers).await?;
    seen(&primary.engine, site, &call);
    match (endpoint, &call.method) {
        (Endpoint::NameStoreJoin, &Method::POST) => {
            let body = call.body().await?;
            let (name_id, store_id) = v4::decode_join(&body)?;
            let join = primary.engine.join_patient(&name_id, &store_id).await?;
            Ok(v4::encode_join(&join))
        }
        (Endpoint::PatientHistory, &Method::GET) => {
            let id = call
                .query
                .get("id")
                .filter(|id| !id.trim().is_empty())
                .cloned()
                .ok_or_else(|| ApiError::BadRequest("id (the patient's name id) is required".into()))?;
            // Several storage reads per invoice line: a pull's work, off the async workers.
            let history = run_pull(primary, move |primary| primary.engine.patient_history(&id)).await?;
            Ok(v4::encode_history(&history))
        }
        (_, method) => Err(ApiError::MethodNotAllowed(method.to_string())),
    }
}
