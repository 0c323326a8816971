//! v6, under `/central/sync/`: the calls an open-mSupply remote makes of the central that v5's
//! `site` names, every sync (push and site_status once initialised, then pull). Without answers
//! the remote's whole sync fails, so satsync answers as a central that holds none of the v6-only
//! tables: authenticated as the site by the credentials in the body, nothing to pull, and a push
//! counted. The tables an open-mSupply central keeps of its own are out of satsync's scope.

use std::sync::Arc;

use http::{HeaderMap, HeaderValue, Method};

use crate::http::auth::{authenticate_site_as, HARDWARE_HEADER};
use crate::http::error::ApiError;
use crate::http::router::Endpoint;
use crate::http::Call;
use crate::primary::Primary;
use crate::wire::v6;

pub async fn handle(primary: &Arc<Primary>, endpoint: Endpoint, call: Call) -> Result<Vec<u8>, ApiError> {
    if call.method != Method::POST {
        return Err(ApiError::MethodNotAllowed(call.method.to_string()));
    }
    let path = call.path.clone();
    let body = call.body().await?;
    let request = v6::decode_request(&body)?;
    // The hardware id travels in the body here; the binding is checked as for v5's header.
    let mut hardware = HeaderMap::new();
    if let Ok(value) = HeaderValue::from_str(&request.site_uuid) {
        if !request.site_uuid.is_empty() {
            hardware.insert(HARDWARE_HEADER, value);
        }
    }
    authenticate_site_as(&primary.engine, &request.username, &request.password_sha256, &hardware).await?;
    match endpoint {
        Endpoint::CentralPull => Ok(v6::encode_empty_pull()),
        Endpoint::CentralPush => Ok(v6::encode_pushed(request.records)),
        Endpoint::CentralSiteStatus => Ok(v6::encode_not_integrating()),
        _ => Err(ApiError::NotFound(path)),
    }
}
