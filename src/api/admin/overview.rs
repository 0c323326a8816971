//! The primary at a glance (`GET overview`), for the dashboard's first page: sites by state,
//! what the database holds, and the last hour a minute at a time (records pushed, delivered and
//! acknowledged; the writer's groups and commit latency). From memory and RocksDB's own
//! estimates: no scan. The census of sites is the metrics' too.

use std::sync::Arc;

use crate::primary::Primary;
use crate::sync::health::Flag;
use crate::sync::{Initialisation, SyncEngine};
use crate::wire::admin::{overview_body, MinuteView, Overview, SitesByState};

/// Every satellite site counted by state, and the flagged ones by flag (a site with two flags
/// counts under each): what the overview and the metrics show. From memory; a flag that depends
/// on a queue's length counts that queue.
#[derive(Debug, Clone, Default)]
pub struct Census {
    pub sites: SitesByState,
    /// (flag kind, sites with it), for every kind.
    pub flags: Vec<(&'static str, u64)>,
}

pub fn census(engine: &SyncEngine) -> Census {
    let sites: Vec<(crate::domain::ids::SiteId, bool)> = engine.with_directory(|d| {
        d.sites()
            .filter(|site| site.id != d.primary())
            .map(|site| (site.id, site.disabled))
            .collect()
    });
    let mut census = Census {
        sites: SitesByState {
            total: sites.len() as u64,
            ..SitesByState::default()
        },
        flags: Flag::KINDS.iter().map(|kind| (*kind, 0)).collect(),
    };
    let by_state = &mut census.sites;
    for (site, disabled) in sites {
        match engine.initialisation(site) {
            Initialisation::New => by_state.new += 1,
            Initialisation::Started => by_state.initialising += 1,
            Initialisation::Completed => by_state.initialised += 1,
        }
        by_state.disabled += u64::from(disabled);
        let flags = engine.flags(site);
        by_state.flagged += u64::from(!flags.is_empty());
        for flag in flags {
            if let Some(count) = census.flags.iter_mut().find(|(kind, _)| *kind == flag.kind()) {
                count.1 += 1;
            }
        }
    }
    census
}

pub fn overview(primary: &Arc<Primary>) -> Vec<u8> {
    let engine = &primary.engine;
    let by_state = census(engine).sites;
    let (records, database_bytes) = engine.storage().size();
    let (pushed, delivered, acknowledged) = engine.activity().totals();
    let minutes = engine
        .activity()
        .last_hour()
        .into_iter()
        .map(|m| MinuteView {
            at_unix_seconds: m.minute * 60,
            pushed: m.pushed,
            delivered: m.delivered,
            acknowledged: m.acknowledged,
            groups: m.groups,
            commit_ms_mean: if m.groups == 0 {
                0.0
            } else {
                m.commit_micros as f64 / m.groups as f64 / 1000.0
            },
            commit_ms_max: m.commit_max_micros as f64 / 1000.0,
        })
        .collect();
    overview_body(&Overview {
        sites: by_state,
        records_estimate: records,
        database_bytes,
        pushed_since_start: pushed,
        delivered_since_start: delivered,
        acknowledged_since_start: acknowledged,
        minutes,
    })
}
