//! `GET site`: who the authenticated site is, with its first store.

use super::{authenticate, RecordFormat};
use crate::api::auth::Claim;
use crate::api::call::Call;
use crate::api::error::ApiError;
use crate::primary::Primary;
use crate::wire::v2;
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
        let field = |read: fn(&crate::domain::directory::Store) -> &str| store.map(read).unwrap_or("");
        Some(v2::encode_site(&v2::SiteReply {
            server_id: primary.config.server.primary_site_id,
            site_id: site.id.0,
            store_id: field(|s| s.id.as_str()),
            name_id: field(|s| s.name_id.as_str()),
            supplying_store_id: field(|s| s.supplying_store_id.as_str()),
            supplying_store_name_id: field(|s| s.supplying_store_name_id.as_str()),
            server_version: primary.config.server.server_version,
        }))
    });
    reply.ok_or_else(|| ApiError::Forbidden("site_name does not name the authenticated site".into()))
}
