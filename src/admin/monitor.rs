//! The health monitor of a running primary: every `[admin] health_flush_seconds` it writes the
//! sites' health changed since the last time (one durable write through the writer, whatever
//! the number of requests), and logs once each flag a site newly carries (silent, its
//! acknowledgements stopped, failing logins; a stuck satellite is logged as it is delivered the
//! record once too often). A flag that clears may be logged again when it comes back.

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::time::Duration;

use crate::domain::ids::SiteId;
use crate::sync::health::Flag;
use crate::sync::SyncEngine;

/// Runs until `stop` completes, then writes what changed one last time.
pub async fn run(engine: &SyncEngine, every: Duration, stop: impl Future<Output = ()>) {
    tokio::pin!(stop);
    let mut logged: HashMap<SiteId, HashSet<&'static str>> = HashMap::new();
    let mut ticks = tokio::time::interval(every.max(Duration::from_millis(100)));
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = ticks.tick() => {}
            _ = &mut stop => break,
        }
        flush(engine).await;
        log_new_flags(engine, &mut logged);
    }
    flush(engine).await;
}

async fn flush(engine: &SyncEngine) {
    if let Err(error) = engine.flush_health().await {
        tracing::warn!(%error, "the sites' health could not be written; it is kept and retried");
    }
}

/// Logs each flag a satellite carries now and did not at the last look.
fn log_new_flags(engine: &SyncEngine, logged: &mut HashMap<SiteId, HashSet<&'static str>>) {
    let satellites: Vec<(SiteId, String)> = engine.with_directory(|d| {
        d.sites()
            .filter(|site| site.id != d.primary())
            .map(|site| (site.id, site.name.clone()))
            .collect()
    });
    let mut current: HashMap<SiteId, HashSet<&'static str>> = HashMap::new();
    for (site, name) in satellites {
        let flags = engine.flags(site);
        for flag in &flags {
            if logged.get(&site).is_some_and(|kinds| kinds.contains(flag.kind())) {
                continue;
            }
            match flag {
                // Logged as it happens, by the pull that crossed the threshold.
                Flag::Stuck { .. } => {}
                Flag::Silent { since } => {
                    tracing::warn!(site = site.0, name = %name, last_request_at = since, "satellite silent")
                }
                Flag::AcksStopped { since } => tracing::warn!(
                    site = site.0,
                    name = %name,
                    pulling_unacknowledged_since = since,
                    "satellite pulls without acknowledging"
                ),
                Flag::FailingLogins { count } => tracing::warn!(
                    site = site.0,
                    name = %name,
                    failed_in_the_hour = count,
                    "satellite failing to log in (a reinstalled tablet needs its hardware binding reset)"
                ),
            }
        }
        if !flags.is_empty() {
            current.insert(site, flags.iter().map(Flag::kind).collect());
        }
    }
    *logged = current;
}
