//! Imports through the running primary (`POST import`: JSON lines in the push shape, streamed,
//! applied as the primary's own records in batches through the writer while satellites sync)
//! and their progress (`GET imports`). The body is read as it arrives, so an import is as large
//! as the data, never held whole in memory; a line may be at most the configured body limit.

use std::sync::Arc;

use crate::admin::transfer::{apply, Batches};
use crate::api::call::Call;
use crate::api::error::ApiError;
use crate::domain::ids::SiteId;
use crate::primary::Primary;
use crate::wire::admin::{import_body, imports_body, ImportView};

pub async fn import(primary: &Arc<Primary>, operator: &str, call: Call) -> Result<Vec<u8>, ApiError> {
    let id = primary.imports.start(operator);
    let outcome = run(primary, id, call).await;
    primary.imports.update(id, |progress| {
        progress.finished = true;
        progress.error = outcome.as_ref().err().map(ToString::to_string);
    });
    let applied = outcome?;
    tracing::info!(operator, import = id, records = applied, "import finished");
    Ok(import_body(id, applied))
}

async fn run(primary: &Arc<Primary>, id: u64, call: Call) -> Result<u64, ApiError> {
    let own = SiteId(primary.config.server.primary_site_id);
    let max_line = primary.config.limits.max_body_bytes;
    let mut body = call.into_stream();
    let mut batches = Batches::default();
    while let Some(chunk) = body.next_chunk().await {
        let chunk = chunk?;
        primary.imports.update(id, |p| p.bytes_read += chunk.len() as u64);
        for batch in batches.chunk(&chunk, max_line).map_err(refused)? {
            batches.applied += apply(&primary.engine, own, batch).await.map_err(refused)?;
            let applied = batches.applied;
            primary.imports.update(id, |p| p.records_applied = applied);
        }
    }
    if let Some(batch) = batches.finish() {
        batches.applied += apply(&primary.engine, own, batch).await.map_err(refused)?;
    }
    let applied = batches.applied;
    primary.imports.update(id, |p| p.records_applied = applied);
    Ok(applied)
}

/// Every import started since the primary started (the last finished ones), with its progress.
pub fn list(primary: &Primary) -> Vec<u8> {
    let views: Vec<ImportView> = primary
        .imports
        .all()
        .into_iter()
        .map(|p| ImportView {
            id: p.id,
            operator: p.operator,
            started_at: p.started_unix_seconds,
            bytes_read: p.bytes_read,
            records_applied: p.records_applied,
            finished: p.finished,
            error: p.error,
        })
        .collect();
    imports_body(&views)
}

fn refused(error: crate::admin::AdminError) -> ApiError {
    use crate::admin::AdminError;
    match error {
        AdminError::Invalid(message) => ApiError::BadRequest(message),
        AdminError::Sync(error) => error.into(),
        other => {
            tracing::error!(error = %other, "import failed");
            ApiError::Internal
        }
    }
}
