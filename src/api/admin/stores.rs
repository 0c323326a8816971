//! Stores as an operator sees them (`GET stores`) and adds them (`POST stores`), through the
//! sync writer.

use crate::admin::directory::{plan_add_store, put_store, NewStore};
use crate::api::error::ApiError;
use crate::domain::directory::{Directory, Store};
use crate::sync::SyncEngine;
use crate::wire::admin::{decode_request, one_body, stores_body, NewStoreRequest, StoreSummary};

/// Every store, by id.
pub fn list(engine: &SyncEngine) -> Vec<u8> {
    let mut stores: Vec<StoreSummary> = engine.with_directory(|d| d.stores().map(summary).collect());
    stores.sort_by(|a, b| a.id.cmp(&b.id));
    stores_body(&stores)
}

/// Adds a store to the site the request names.
pub async fn add(engine: &SyncEngine, operator: &str, body: &[u8]) -> Result<Vec<u8>, ApiError> {
    let request: NewStoreRequest = decode_request(body)?;
    if request.name.is_empty() {
        return Err(ApiError::BadRequest("a store needs a name".into()));
    }
    let changes = engine
        .change_directory(Box::new(move |d: &Directory| {
            let new = NewStore {
                id: request.id.as_deref(),
                name: &request.name,
                code: &request.code,
                name_id: request.name_id.as_deref(),
                site: &request.site,
                supplying_store_id: &request.supplying_store_id,
            };
            plan_add_store(d, &new).map_err(|e| e.to_string())
        }))
        .await?;
    let store = put_store(changes);
    tracing::info!(operator, store = %store.id, site = store.site.0, "store added");
    Ok(one_body(&summary(&store)))
}

fn summary(store: &Store) -> StoreSummary {
    StoreSummary {
        id: store.id.clone(),
        name: store.name.clone(),
        code: store.code.clone(),
        name_id: store.name_id.clone(),
        site: store.site.0,
        supplying_store_id: store.supplying_store_id.clone(),
    }
}
