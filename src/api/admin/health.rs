//! Sites' health as operators read it: one site's (`GET sites/{name}/health`) and every flagged
//! site's (`GET flagged`), from the health the engine keeps in memory. No storage read.

use super::sites::satellite;
use crate::api::error::ApiError;
use crate::domain::ids::SiteId;
use crate::sync::health::{Flag, QueueHead};
use crate::sync::{Initialisation, SyncEngine};
use crate::wire::admin::{flagged_body, one_body, FlagView, FlaggedSite, HealthView, QueueHeadView};

/// One site's health and flags.
pub fn of_site(engine: &SyncEngine, name: &str) -> Result<Vec<u8>, ApiError> {
    let site = satellite(engine, name)?;
    let health = engine.health().of(site.id);
    let queued = engine.count(site.id);
    let progress = engine.dump_progress(site.id);
    let view = HealthView {
        site: site.id.0,
        name: site.name.clone(),
        queued,
        initialisation: initialisation_name(engine.initialisation(site.id)),
        initialisation_acknowledged: progress.as_ref().map(|p| p.tables.iter().map(|t| t.acknowledged).sum()),
        initialisation_queued: progress.as_ref().map(|p| p.tables.iter().map(|t| t.queued).sum()),
        flags: engine.flags(site.id).iter().map(flag_view).collect(),
        last_request_at: health.last_request_at,
        address: health.address,
        api: health.api,
        app_version: health.app_version,
        last_push_at: health.last_push_at,
        last_pull_at: health.last_pull_at,
        last_ack_at: health.last_ack_at,
        failed_logins: health.failed_logins,
        last_failed_login_at: health.last_failed_login_at,
        head: health.head.as_ref().map(head_view),
        head_deliveries: health.head_deliveries,
    };
    Ok(one_body(&view))
}

/// Every satellite the primary flags, by id.
pub fn flagged(engine: &SyncEngine) -> Vec<u8> {
    let mut sites: Vec<(SiteId, String)> = engine.with_directory(|d| {
        d.sites()
            .filter(|site| site.id != d.primary())
            .map(|site| (site.id, site.name.clone()))
            .collect()
    });
    sites.sort();
    let flagged: Vec<FlaggedSite> = sites
        .into_iter()
        .filter_map(|(id, name)| {
            let flags: Vec<FlagView> = engine.flags(id).iter().map(flag_view).collect();
            (!flags.is_empty()).then_some(FlaggedSite { id: id.0, name, flags })
        })
        .collect();
    flagged_body(&flagged)
}

/// The kinds of flag `site` carries now (for the sites list).
pub fn flag_kinds(engine: &SyncEngine, site: SiteId) -> Vec<&'static str> {
    engine.flags(site).iter().map(Flag::kind).collect()
}

fn flag_view(flag: &Flag) -> FlagView {
    let (message, record) = match flag {
        Flag::Stuck { head, deliveries } => (
            format!(
                "given {} {} ({}) {deliveries} times without an acknowledgement: it cannot integrate it; skip it with a reason",
                head.table, head.record_id, head.sync_id
            ),
            Some(head_view(head)),
        ),
        Flag::Silent { since } => (format!("no request since {since} (unix seconds)"), None),
        Flag::AcksStopped { since } => (
            format!("pulling without acknowledging since {since} (unix seconds)"),
            None,
        ),
        Flag::FailingLogins { count } => (
            format!("{count} failed logins within the hour: a reinstalled tablet needs its hardware binding reset, or its password is wrong"),
            None,
        ),
    };
    FlagView {
        kind: flag.kind(),
        message,
        record,
    }
}

fn head_view(head: &QueueHead) -> QueueHeadView {
    QueueHeadView {
        sync_id: head.sync_id.clone(),
        table: head.table.clone(),
        record_id: head.record_id.clone(),
    }
}

pub fn initialisation_name(initialisation: Initialisation) -> &'static str {
    match initialisation {
        Initialisation::New => "new",
        Initialisation::Started => "initialising",
        Initialisation::Completed => "initialised",
    }
}
