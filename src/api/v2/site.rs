//! `GET site`: who the authenticated site is, with its first store.

use super::{authenticate, RecordFormat};
use crate::api::auth::Claim;
use crate::api::call::Call;
use crate::api::error::ApiError;
use crate::primary::Primary;
use std::sync::Arc;

pub async fn get(primary: &Arc<Primary>, format: RecordFormat, call: Call) -> Result<Vec<u8>, ApiError> {
    let claim = call.query.get("site_name").map(|name| Claim::Name(name));
    let site = authenticate(primary, format, &call, claim).await?;
    let reply = primary.engine.with_directory(|d| {
        let site = d.site(site)?;
        if let Some(name) = call.query.get("site_name") {
            if *name != site.name {
                return None;
            }
        }
        let store = site.stores.first().and_then(|id| d.store(id));
        Some(serde_json::json!({
            "ServerID": primary.config.server.primary_site_id,
            "SiteID": site.id.0,
            "StoreID": store.map(|s| s.id.as_str()).unwrap_or(""),
            "NameID": store.map(|s| s.name_id.as_str()).unwrap_or(""),
            "SupplyingStoreID": store.map(|s| s.supplying_store_id.as_str()).unwrap_or(""),
            "SupplyingStoreNameID": store.map(|s| s.supplying_store_name_id.as_str()).unwrap_or(""),
            "ServerVersion": primary.config.server.server_version,
        }))
    });
    let reply = reply.ok_or_else(|| ApiError::Forbidden("site_name does not name the authenticated site".into()))?;
    Ok(serde_json::to_vec(&reply).expect("json values serialise"))
}
