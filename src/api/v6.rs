//! v6, under `/central/sync/`: the calls an open-mSupply remote makes of the central that v5's
//! `site` names, every sync (push and site_status once initialised, then pull). Without answers
//! the remote's whole sync fails, so satsync answers as a central that holds none of the v6-only
//! tables: authenticated as the site by the credentials in the body, nothing to pull, and a push
//! counted. The tables an open-mSupply central keeps of its own are out of satsync's scope.

use std::sync::Arc;

use http::Method;

use crate::api::auth::authenticate_site_as;
use crate::api::call::Call;
use crate::api::endpoint::Endpoint;
use crate::api::error::ApiError;
use crate::primary::Primary;
use crate::wire::v6;

pub async fn handle(primary: &Arc<Primary>, endpoint: Endpoint, call: Call) -> Result<Vec<u8>, ApiError> {
    if call.method != Method::POST {
        return Err(ApiError::MethodNotAllowed(call.method.to_string()));
    }
    let path = call.path.clone();
    let seen_as = super::auth::SeenFrom::of(&call);
    let body = call.body().await?;
    let request = v6::decode_request(&body)?;
    let hardware = Some(request.site_uuid.as_str());
    let site = authenticate_site_as(&primary.engine, &request.username, &request.password_sha256, hardware).await?;
    seen_as.note(&primary.engine, site);
    match endpoint {
        Endpoint::CentralPull => Ok(v6::encode_empty_pull()),
        Endpoint::CentralPush => Ok(v6::encode_pushed(request.records)),
        Endpoint::CentralSiteStatus => Ok(v6::encode_not_integrating()),
        _ => Err(ApiError::NotFound(path)),
    }
}
