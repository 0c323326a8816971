//! Snapshots of a replica, kept in a JetStream object store bucket, so that an instance on an
//! empty disk starts from the latest one and replays only the log after it, and so that the log
//! is purged below the oldest snapshot kept instead of growing without bound.
//!
//! A snapshot is a RocksDB checkpoint of the writer's replica (a consistent point: the log
//! position it covers is inside it, committed with the groups). Each of its files is one object,
//! `{position}/{file}`; the manifest `{position}.manifest`, written last, lists them with their
//! sizes, so a snapshot whose upload was cut short is never restored. The writer takes one when
//! the bucket holds none (a new cluster, bootstrapped from a seed database copied to each
//! instance) and then every `snapshot_interval_seconds` if the log moved; the two latest are kept.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_nats::jetstream::object_store;
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};

use super::Cluster;
use crate::store::{LogReads, Storage};
use crate::sync::SyncEngine;

/// Snapshots kept; the log is purged below the oldest once there are this many.
const KEEP: usize = 2;

#[derive(Debug, Serialize, Deserialize)]
struct Manifest {
    /// The log position the snapshot covers: the log resumes after it.
    position: u64,
    /// (file name, size in bytes).
    files: Vec<(String, u64)>,
}

fn manifest_name(position: u64) -> String {
    format!("{position:020}.manifest")
}

fn file_object(position: u64, file: &str) -> String {
    format!("{position:020}/{file}")
}

/// The snapshot bucket, created by the first instance that asks (retried for a while: a busy
/// JetStream answers a new bucket's creation late).
pub(super) async fn bucket(cluster: &Cluster) -> Result<object_store::ObjectStore, String> {
    let jetstream = &cluster.log.jetstream;
    let name = &cluster.config.snapshot_bucket;
    let what = format!("the snapshot bucket {name}");
    super::patiently(&what, || async {
        if let Ok(bucket) = jetstream.get_object_store(name).await {
            return Ok(bucket);
        }
        jetstream
            .create_object_store(object_store::Config {
                bucket: name.clone(),
                num_replicas: cluster.config.replicas,
                storage: async_nats::jetstream::stream::StorageType::File,
                ..Default::default()
            })
            .await
            .map_err(|error| error.to_string())
    })
    .await
    .map_err(|error| error.to_string())
}

/// The positions of the complete snapshots in the bucket, oldest first.
async fn positions(bucket: &object_store::ObjectStore) -> Result<Vec<u64>, String> {
    let mut list = bucket.list().await.map_err(|error| error.to_string())?;
    let mut positions = Vec::new();
    while let Some(object) = list.next().await {
        let object = object.map_err(|error| error.to_string())?;
        if object.deleted {
            continue;
        }
        if let Some(position) = object.name.strip_suffix(".manifest").and_then(|p| p.parse().ok()) {
            positions.push(position);
        }
    }
    positions.sort_unstable();
    Ok(positions)
}

/// While this instance is the writer: a snapshot when the bucket has none, then every interval
/// if the log moved since the latest.
pub(super) async fn run<P: AsRef<SyncEngine> + Send + Sync + 'static>(cluster: Arc<Cluster>, primary: Arc<P>) {
    let every = Duration::from_secs(cluster.config.snapshot_interval_seconds);
    let mut last_taken: Option<Instant> = None;
    loop {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let engine = (*primary).as_ref();
        let Some(replication) = engine.replication() else {
            return;
        };
        if !replication.is_writer() {
            continue;
        }
        let due = last_taken.is_none_or(|at| at.elapsed() >= every);
        if !due {
            continue;
        }
        match take_if_needed(&cluster, engine, last_taken.is_none()).await {
            Ok(Some(position)) => {
                tracing::info!(
                    position,
                    "snapshot of this replica stored; the log purged below the oldest kept"
                );
                last_taken = Some(Instant::now());
            }
            Ok(None) => last_taken = Some(Instant::now()),
            Err(error) => tracing::warn!(%error, "taking a snapshot; trying again later"),
        }
    }
}

/// Takes a snapshot unless the latest already covers this replica's position (or, when `only_if_none`,
/// unless the bucket holds any); keeps the latest [`KEEP`] and purges the log below the oldest.
async fn take_if_needed(cluster: &Cluster, engine: &SyncEngine, only_if_none: bool) -> Result<Option<u64>, String> {
    let bucket = bucket(cluster).await?;
    let existing = positions(&bucket).await?;
    let applied = engine.replication().map_or(0, |r| r.applied());
    if (only_if_none && !existing.is_empty()) || existing.last() == Some(&applied) {
        return Ok(None);
    }
    // Beside the database, on its file system: a checkpoint hard-links the files it shares.
    let checkpoint = cluster.data_dir.with_extension("snapshot");
    let _ = tokio::fs::remove_dir_all(&checkpoint).await;
    let taken = take_checkpoint(engine, &checkpoint, &bucket).await;
    let _ = tokio::fs::remove_dir_all(&checkpoint).await;
    let position = taken?;
    // Only the writer takes snapshots, and its position only moves on: the new one is the latest.
    let mut kept = existing;
    kept.push(position);

    while kept.len() > KEEP {
        let old = kept.remove(0);
        forget(&bucket, old).await;
    }
    // Purged only below the older of two: a replica a little behind the latest snapshot (a
    // process paused, restarted) still replays from the log. With one snapshot, the first of a
    // new cluster, the log is kept whole: purged below it, a replica behind it could follow the
    // log no more and would have to start again on an empty disk.
    if let (Some(oldest), true) = (kept.first(), kept.len() >= KEEP) {
        // Everything up to and including the oldest snapshot's position is in it.
        let stream = cluster.log.stream().await?;
        stream
            .purge()
            .sequence(oldest + 1)
            .await
            .map_err(|error| format!("purging the log below {oldest}: {error}"))?;
    }
    Ok(Some(position))
}

/// A checkpoint of this replica at `checkpoint`, stored in the bucket; its position.
async fn take_checkpoint(
    engine: &SyncEngine,
    checkpoint: &Path,
    bucket: &object_store::ObjectStore,
) -> Result<u64, String> {
    let storage = engine.storage().clone();
    let dir = checkpoint.to_path_buf();
    tokio::task::spawn_blocking(move || storage.checkpoint(&dir))
        .await
        .map_err(|error| error.to_string())?
        .map_err(|error| error.to_string())?;
    let position = checkpoint_position(checkpoint)?;
    upload(bucket, checkpoint, position).await?;
    Ok(position)
}

/// The log position a checkpoint covers, read from the checkpoint itself.
fn checkpoint_position(checkpoint: &Path) -> Result<u64, String> {
    let (storage, _right) = Storage::open(checkpoint, 8).map_err(|error| error.to_string())?;
    storage.log_position().map_err(|error| error.to_string())
}

async fn upload(bucket: &object_store::ObjectStore, checkpoint: &Path, position: u64) -> Result<(), String> {
    let mut files = Vec::new();
    let mut entries = tokio::fs::read_dir(checkpoint)
        .await
        .map_err(|error| error.to_string())?;
    while let Some(entry) = entries.next_entry().await.map_err(|error| error.to_string())? {
        let name = entry.file_name().to_string_lossy().into_owned();
        let mut file = tokio::fs::File::open(entry.path())
            .await
            .map_err(|error| error.to_string())?;
        let size = file.metadata().await.map_err(|error| error.to_string())?.len();
        bucket
            .put(file_object(position, &name).as_str(), &mut file)
            .await
            .map_err(|error| format!("storing {name}: {error}"))?;
        files.push((name, size));
    }
    let manifest = serde_json::to_vec(&Manifest { position, files }).map_err(|error| error.to_string())?;
    bucket
        .put(manifest_name(position).as_str(), &mut manifest.as_slice())
        .await
        .map_err(|error| format!("storing the manifest: {error}"))?;
    Ok(())
}

/// Deletes a snapshot: its manifest first, so that it is never restored half deleted.
async fn forget(bucket: &object_store::ObjectStore, position: u64) {
    let Ok(manifest) = read_manifest(bucket, position).await else {
        return;
    };
    let _ = bucket.delete(manifest_name(position)).await;
    for (file, _) in manifest.files {
        let _ = bucket.delete(file_object(position, &file)).await;
    }
}

async fn read_manifest(bucket: &object_store::ObjectStore, position: u64) -> Result<Manifest, String> {
    let bytes = read_object(bucket, &manifest_name(position)).await?;
    serde_json::from_slice(&bytes).map_err(|error| format!("the manifest of {position}: {error}"))
}

async fn read_object(bucket: &object_store::ObjectStore, name: &str) -> Result<Vec<u8>, String> {
    use tokio::io::AsyncReadExt;
    let mut object = bucket.get(name).await.map_err(|error| format!("{name}: {error}"))?;
    let mut bytes = Vec::new();
    object
        .read_to_end(&mut bytes)
        .await
        .map_err(|error| format!("{name}: {error}"))?;
    Ok(bytes)
}

/// For an instance whose data directory holds no database: the latest snapshot written into
/// it, and its position; `None` when the cluster has no snapshot and no log yet (a new cluster's
/// first instance, which starts empty). Waits for a snapshot while the log has groups but no
/// snapshot covers them (an instance of a new cluster bootstrapped from a seed database).
pub async fn restore_if_empty(cluster: &Cluster, data_dir: &Path) -> Result<Option<u64>, String> {
    if data_dir.join("CURRENT").exists() {
        return Ok(None);
    }
    let bucket = bucket(cluster).await?;
    loop {
        let latest = super::patiently("the list of snapshots", || positions(&bucket))
            .await
            .map_err(|error| error.to_string())?;
        if let Some(&position) = latest.last() {
            restore(&bucket, position, data_dir).await?;
            return Ok(Some(position));
        }
        let stream = super::patiently("the log stream", || cluster.log.stream())
            .await
            .map_err(|error| error.to_string())?;
        if stream.cached_info().state.last_sequence == 0 && cluster.writer_named().await.is_none() {
            return Ok(None);
        }
        tracing::warn!("this instance's disk is empty and the cluster has no snapshot yet; waiting for the writer's");
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
}

async fn restore(bucket: &object_store::ObjectStore, position: u64, data_dir: &Path) -> Result<(), String> {
    let manifest = read_manifest(bucket, position).await?;
    let staging: PathBuf = data_dir.with_extension("restoring");
    let _ = tokio::fs::remove_dir_all(&staging).await;
    tokio::fs::create_dir_all(&staging)
        .await
        .map_err(|error| error.to_string())?;
    for (file, size) in &manifest.files {
        let bytes = read_object(bucket, &file_object(position, file)).await?;
        if bytes.len() as u64 != *size {
            return Err(format!(
                "{file} of snapshot {position}: {} bytes, not {size}",
                bytes.len()
            ));
        }
        tokio::fs::write(staging.join(file), bytes)
            .await
            .map_err(|error| error.to_string())?;
    }
    let _ = tokio::fs::remove_dir(data_dir).await;
    tokio::fs::rename(&staging, data_dir)
        .await
        .map_err(|error| format!("moving the restored snapshot into {}: {error}", data_dir.display()))?;
    tracing::info!(
        position,
        files = manifest.files.len(),
        "restored the cluster's latest snapshot"
    );
    Ok(())
}
