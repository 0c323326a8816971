//! Imports through the running primary (`POST import`: JSON lines in the push shape, streamed,
//! applied as the primary's own records in batches through the writer while satellites sync)
//! and their progress (`GET imports`). The body is read as it arrives, so an import is as large
//! as the data, never held whole in memory; a line may be at most the configured body limit.

use std::sync::Arc;

use crate::admin::transfer::{apply, Batches};
use crate::api::call::{BodyStream, Call};
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

/// Applies the body; on a refusal, reads (and drops) the rest of it up to a bound first, so the
/// client, still sending, reads the refusal.
async fn run(primary: &Arc<Primary>, id: u64, call: Call) -> Result<u64, ApiError> {
    let paced = pace(primary.config.admin.import_records_per_second, &call);
    let mut body = call.into_stream();
    let outcome = match paced {
        Ok(pace) => apply_all(primary, id, &mut body, Pace::new(pace)).await,
        Err(refused) => Err(refused),
    };
    if outcome.is_err() {
        body.discard(primary.config.limits.max_body_bytes.saturating_mul(4).max(1 << 20))
            .await;
    }
    outcome
}

async fn apply_all(primary: &Arc<Primary>, id: u64, body: &mut BodyStream, pace: Pace) -> Result<u64, ApiError> {
    let own = SiteId(primary.config.server.primary_site_id);
    let max_line = primary.config.limits.max_body_bytes;
    let mut batches = Batches::default();
    while let Some(chunk) = body.next_chunk().await {
        let chunk = chunk?;
        primary.imports.update(id, |p| p.bytes_read += chunk.len() as u64);
        for batch in batches.chunk(&chunk, max_line).map_err(refused)? {
            batches.applied += apply(&primary.engine, own, batch).await.map_err(refused)?;
            let applied = batches.applied;
            primary.imports.update(id, |p| p.records_applied = applied);
            pace.wait(applied).await;
        }
    }
    if let Some(batch) = batches.finish() {
        batches.applied += apply(&primary.engine, own, batch).await.map_err(refused)?;
    }
    let applied = batches.applied;
    primary.imports.update(id, |p| p.records_applied = applied);
    pace.wait(applied).await;
    Ok(applied)
}

/// The import's pace in records per second (0: none): the configured one, or less when the call
/// asks (`records_per_second`).
fn pace(configured: u64, call: &Call) -> Result<u64, ApiError> {
    let Some(text) = call.query.get("records_per_second") else {
        return Ok(configured);
    };
    match text.parse::<u64>() {
        Ok(asked) if asked > 0 => Ok(if configured == 0 { asked } else { asked.min(configured) }),
        _ => Err(ApiError::BadRequest(format!(
            "records_per_second must be a positive number, not {text:?}"
        ))),
    }
}

/// Holds an import to its pace: after `applied` records it waits until they are due.
struct Pace {
    started: tokio::time::Instant,
    records_per_second: u64,
}

impl Pace {
    fn new(records_per_second: u64) -> Pace {
        Pace {
            started: tokio::time::Instant::now(),
            records_per_second,
        }
    }

    async fn wait(&self, applied: u64) {
        if self.records_per_second > 0 {
            let due = std::time::Duration::from_secs_f64(applied as f64 / self.records_per_second as f64);
            tokio::time::sleep_until(self.started + due).await;
        }
    }
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
