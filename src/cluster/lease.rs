//! The writer's lease: one key in a KV bucket whose entries expire after the lease's TTL. The
//! instance that creates the key (only one can: `create` fails when it exists) holds the lease;
//! it renews it three times per TTL with `update` at the revision it holds, so that a renewal
//! after another took the lease fails. The revision of the creation is the writer's epoch.
//!
//! An instance takes the writer's role only once its replica has applied the whole log; it gives
//! it up when a renewal is refused or when it could not renew for two thirds of the TTL (the
//! key may expire and another take it). Whatever a deposed writer still sends is refused by the
//! log's fencing, so the lease bounds how long writes pause, not what is correct.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_nats::jetstream::kv::{CreateErrorKind, UpdateErrorKind};

use super::Cluster;
use crate::sync::replication::Replication;
use crate::sync::SyncEngine;

pub(super) const KEY: &str = "writer";

/// The lease this instance holds: its revision now, the epoch it was taken at, when it was last
/// renewed.
struct Held {
    revision: u64,
    epoch: u64,
    renewed: Instant,
}

pub async fn run<P: AsRef<SyncEngine> + Send + Sync + 'static>(cluster: Arc<Cluster>, primary: Arc<P>) {
    let Some(replication) = (*primary).as_ref().replication().cloned() else {
        return;
    };
    let ttl = Duration::from_secs(cluster.config.lease_ttl_seconds);
    let mut held: Option<Held> = None;
    loop {
        held = match held {
            Some(lease) => renew(&cluster, &replication, lease, ttl).await,
            None => take(&cluster, &replication).await,
        };
        let revision = held.as_ref().map_or(0, |lease| lease.revision);
        cluster.held_revision.store(revision, Ordering::Release);
        if let Some(lease) = &held {
            if !replication.is_writer() && caught_up(&replication, ttl / 3).await {
                cluster.log.epoch.store(lease.epoch, Ordering::Release);
                replication.set_writer(Some(lease.epoch));
                tracing::info!(
                    instance = cluster.instance(),
                    epoch = lease.epoch,
                    "this instance is the writer"
                );
            }
            // Before the key can expire (a TTL after the renewal reached the server), this
            // instance stops writing; the margin covers clocks and the renewal's round trip.
            replication.hold_until(lease.renewed + ttl * 2 / 3);
        }
        tokio::time::sleep(ttl / 3).await;
    }
}

/// Whether the replica has applied everything in the log (asked within `within`).
async fn caught_up(replication: &Replication, within: Duration) -> bool {
    tokio::time::timeout(within, replication.caught_up())
        .await
        .is_ok_and(|caught_up| caught_up.is_ok())
}

async fn take(cluster: &Cluster, replication: &Replication) -> Option<Held> {
    // An instance still far behind the log leaves the lease to one that can write at once.
    if !cluster.caught_up() {
        learn_writer(cluster).await;
        return None;
    }
    match cluster
        .lease
        .create(KEY, cluster.instance().as_bytes().to_vec().into())
        .await
    {
        Ok(revision) => {
            *cluster.log.writer.write() = Some(cluster.instance().to_string());
            tracing::info!(
                instance = cluster.instance(),
                revision,
                applied = replication.applied(),
                "took the writer's lease"
            );
            Some(Held {
                revision,
                epoch: revision,
                renewed: Instant::now(),
            })
        }
        Err(error) if error.kind() == CreateErrorKind::AlreadyExists => {
            learn_writer(cluster).await;
            None
        }
        Err(error) => {
            tracing::warn!(%error, "taking the writer's lease");
            None
        }
    }
}

async fn renew(cluster: &Cluster, replication: &Replication, lease: Held, ttl: Duration) -> Option<Held> {
    let value = cluster.instance().as_bytes().to_vec().into();
    match cluster.lease.update(KEY, value, lease.revision).await {
        Ok(revision) => Some(Held {
            revision,
            renewed: Instant::now(),
            ..lease
        }),
        Err(error) if error.kind() == UpdateErrorKind::WrongLastRevision => {
            step_down(cluster, replication, "another instance took the lease");
            None
        }
        Err(error) if lease.renewed.elapsed() > ttl * 2 / 3 => {
            step_down(
                cluster,
                replication,
                &format!("the lease could not be renewed in time: {error}"),
            );
            None
        }
        Err(error) => {
            tracing::warn!(%error, "renewing the writer's lease; trying again");
            Some(lease)
        }
    }
}

fn step_down(cluster: &Cluster, replication: &Replication, why: &str) {
    replication.set_writer(None);
    *cluster.log.writer.write() = None;
    tracing::warn!(
        instance = cluster.instance(),
        why,
        "this instance is no longer the writer"
    );
}

/// Reads which instance the lease names, for forwarding.
async fn learn_writer(cluster: &Cluster) {
    let named = cluster.writer_named().await;
    *cluster.log.writer.write() = named;
}
