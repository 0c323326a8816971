//! Unblocking a satellite: what sits at the head of its queue, and skipping a record it cannot
//! integrate (removed from that satellite's queue only; the record stays on the primary and in
//! every other queue, and the skip is logged durably with the operator's reason).

use super::{AdminError, Result};
use crate::domain::ids::SiteId;
use crate::sync::{Outgoing, SyncEngine};
use crate::wire::admin::skip_log_entry;
pub use crate::wire::admin::Queued;

fn queued(outgoing: &Outgoing) -> Queued {
    Queued::of(outgoing.sync_id(), &outgoing.record())
}

fn site_named(engine: &SyncEngine, name: &str) -> Result<SiteId> {
    engine
        .with_directory(|d| d.site_named(name).map(|s| s.id))
        .ok_or_else(|| AdminError::Invalid(format!("no site named {name}")))
}

/// The first `limit` records of the named site's queue, in delivery order, and how many are
/// queued in all.
pub fn head(engine: &SyncEngine, site_name: &str, limit: usize) -> Result<(u64, Vec<Queued>)> {
    let site = site_named(engine, site_name)?;
    let records = engine.list(site, limit)?;
    Ok((engine.count(site), records.iter().map(queued).collect()))
}

/// Removes the record `sync_id` from the named site's queue, logging `reason`.
pub async fn skip(engine: &SyncEngine, site_name: &str, sync_id: &str, reason: &str) -> Result<Queued> {
    if reason.trim().is_empty() {
        return Err(AdminError::Invalid("say why the record is skipped (--reason)".into()));
    }
    let site = site_named(engine, site_name)?;
    let skipped = engine
        .skip(site, sync_id, |record, at| {
            skip_log_entry(at, site, sync_id, record, reason)
        })
        .await?;
    let skipped = queued(&skipped);
    tracing::warn!(site = site_name, sync_id, table = %skipped.table, record_id = %skipped.record_id, reason, "record skipped by an operator");
    Ok(skipped)
}

/// The named site's skip log, oldest first (one JSON object per skip).
pub fn skipped(engine: &SyncEngine, site_name: &str) -> Result<Vec<String>> {
    Ok(engine.skips(site_named(engine, site_name)?)?)
}
