//! One instance of a satsync cluster over NATS JetStream (see ARCHITECTURE.md, "The cluster").
//!
//! JetStream's Raft replicates and orders; satsync only uses it. The log stream holds one
//! message per writer group (`sync::write_op`'s format); a KV bucket holds the writer's lease.
//! Every instance is a replica: it tails the log into its own RocksDB and index (`tail.rs`) and
//! serves reads from them. The instance holding the lease (`lease.rs`) is the writer: it appends
//! each group before committing it (`log.rs`); the others forward their changes to it
//! (`forwarding.rs`) and answer their clients once their own replica has applied the group.
//!
//! Depends on `sync` (the engine it feeds, the log trait it implements) and `config`.

mod forwarding;
mod lease;
mod log;
pub mod snapshot;
mod tail;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream::{self, kv, stream};

use crate::config::ClusterConfig;
use crate::sync::replication::ReplicatedLog;
use crate::sync::SyncEngine;
pub use log::NatsLog;

/// JetStream's file store refuses a message over 32 MiB (payload, headers and subject), whatever
/// the server's max_payload says; the stream refuses them itself, before replicating anything.
pub const MAX_MESSAGE_BYTES: usize = 32 * 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    #[error("connecting to NATS ({servers}): {cause}")]
    Connect { servers: String, cause: String },
    #[error("setting up {what} in JetStream: {cause}")]
    Setup { what: String, cause: String },
}

/// This instance's connection to its cluster and what it learnt of it.
pub struct Cluster {
    config: ClusterConfig,
    log: Arc<NatsLog>,
    lease: kv::Store,
    /// Groups the tail has yet to apply, as the log last told it.
    behind: AtomicU64,
    /// The tail has read the log to its end at least once since start.
    tail_reached_end: AtomicBool,
    /// The revision of the lease this instance holds (0: none), for giving it up on leaving.
    held_revision: AtomicU64,
    /// This instance's database directory (snapshots are checkpointed beside it).
    data_dir: std::path::PathBuf,
    /// The instance's tasks, ended when it leaves.
    tasks: parking_lot::Mutex<Vec<tokio::task::AbortHandle>>,
}

/// How long an instance starting keeps asking JetStream for its stream and buckets: NATS servers
/// starting together, or a leader being elected, answer a request late or not at all.
const SET_UP_FOR: Duration = Duration::from_secs(60);

/// `attempt` until it succeeds, for up to [`SET_UP_FOR`].
pub(super) async fn patiently<T, E: std::fmt::Display, F: std::future::Future<Output = Result<T, E>>>(
    what: &str,
    mut attempt: impl FnMut() -> F,
) -> Result<T, ClusterError> {
    let started = std::time::Instant::now();
    loop {
        match attempt().await {
            Ok(done) => return Ok(done),
            Err(error) if started.elapsed() < SET_UP_FOR => {
                tracing::warn!(%error, what, "setting up in JetStream; trying again");
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
            Err(error) => {
                return Err(ClusterError::Setup {
                    what: what.to_string(),
                    cause: error.to_string(),
                })
            }
        }
    }
}

impl Cluster {
    /// Connects to the NATS servers and makes sure the log stream and the lease bucket exist
    /// (created by the first instance; the others find them).
    pub async fn connect(config: &ClusterConfig, data_dir: &std::path::Path) -> Result<Arc<Cluster>, ClusterError> {
        let servers = config.servers.join(",");
        let client = async_nats::ConnectOptions::new()
            .name(format!("satsync {}", config.instance))
            .retry_on_initial_connect()
            .connect(config.servers.clone())
            .await
            .map_err(|error| ClusterError::Connect {
                servers: servers.clone(),
                cause: error.to_string(),
            })?;
        let jetstream = jetstream::ContextBuilder::new()
            .timeout(Duration::from_secs(5))
            .build(client.clone());
        let subject = format!("{}.log", config.subject_prefix);
        let stream_config = stream::Config {
            name: config.stream.clone(),
            subjects: vec![subject.clone()],
            num_replicas: config.replicas,
            storage: stream::StorageType::File,
            max_message_size: MAX_MESSAGE_BYTES as i32,
            ..Default::default()
        };
        let what = format!("the log stream {}", config.stream);
        patiently(&what, || jetstream.get_or_create_stream(stream_config.clone())).await?;
        let what = format!("the lease bucket {}", config.lease_bucket);
        let lease = patiently(&what, || async {
            match jetstream.get_key_value(&config.lease_bucket).await {
                Ok(lease) => Ok(lease),
                Err(_) => jetstream
                    .create_key_value(kv::Config {
                        bucket: config.lease_bucket.clone(),
                        history: 1,
                        max_age: Duration::from_secs(config.lease_ttl_seconds),
                        num_replicas: config.replicas,
                        storage: stream::StorageType::File,
                        ..Default::default()
                    })
                    .await
                    .map_err(|error| error.to_string()),
            }
        })
        .await?;
        let log = Arc::new(NatsLog {
            client,
            jetstream,
            stream: config.stream.clone(),
            subject,
            forward_prefix: format!("{}.write.", config.subject_prefix),
            epoch: AtomicU64::new(0),
            writer: Default::default(),
            runtime: tokio::runtime::Handle::current(),
        });
        Ok(Arc::new(Cluster {
            config: config.clone(),
            log,
            lease,
            behind: AtomicU64::new(u64::MAX),
            tail_reached_end: AtomicBool::new(false),
            held_revision: AtomicU64::new(0),
            data_dir: data_dir.to_path_buf(),
            tasks: Default::default(),
        }))
    }

    /// The log, for the sync engine to open on.
    pub fn log(&self) -> Arc<dyn ReplicatedLog> {
        self.log.clone()
    }

    pub fn instance(&self) -> &str {
        &self.config.instance
    }

    /// The instance the lease names now, as last read.
    pub fn writer(&self) -> Option<String> {
        self.log.writer.read().clone()
    }

    /// The instance the lease names, read from the bucket now.
    pub async fn writer_named(&self) -> Option<String> {
        match self.lease.entry(lease::KEY).await {
            Ok(Some(entry)) if !entry.value.is_empty() => Some(String::from_utf8_lossy(&entry.value).into_owned()),
            _ => None,
        }
    }

    /// Groups of the log the tail has yet to apply, as it last saw (the largest number until it
    /// first reads the log).
    pub fn behind(&self) -> u64 {
        self.behind.load(Ordering::Acquire)
    }

    /// Whether this replica has read the log to its end at least once since it started: what
    /// readiness waits for, so that a load balancer sends nothing to an instance still catching
    /// up after a start (a few groups behind later is what every request's read rule waits out).
    pub fn has_caught_up(&self) -> bool {
        self.tail_reached_end.load(Ordering::Acquire)
    }

    /// Whether this replica has read the log to its end and has nothing left to apply now: an
    /// instance behind leaves the lease to one that can write at once.
    pub fn caught_up(&self) -> bool {
        self.tail_reached_end.load(Ordering::Acquire) && self.behind.load(Ordering::Acquire) == 0
    }

    /// Starts the instance's part: the tail that applies the log, the server of changes
    /// forwarded to the writer, and the lease loop. They run until the process ends.
    pub fn start<P: AsRef<SyncEngine> + Send + Sync + 'static>(self: &Arc<Self>, primary: Arc<P>) {
        let tasks = [
            tokio::spawn(tail::run(self.clone(), primary.clone())).abort_handle(),
            tokio::spawn(forwarding::serve(self.clone(), primary.clone())).abort_handle(),
            tokio::spawn(lease::run(self.clone(), primary.clone())).abort_handle(),
            tokio::spawn(snapshot::run(self.clone(), primary)).abort_handle(),
        ];
        self.tasks.lock().extend(tasks);
    }

    /// Leaves the cluster on a clean stop: ends the instance's tasks, and gives up the lease
    /// if it holds it, so that another instance becomes the writer at once rather than after the
    /// lease's TTL. (Its writer takes nothing more: the engine stops after this.)
    pub async fn leave(&self, engine: &SyncEngine) {
        for task in self.tasks.lock().drain(..) {
            task.abort();
        }
        if let Some(replication) = engine.replication() {
            replication.set_writer(None);
            let (asking, applying) = (
                replication.read_rule_asking.snapshot(),
                replication.read_rule_applying.snapshot(),
            );
            let mean_ms = |sum: u64| sum as f64 / 1000.0 / asking.count.max(1) as f64;
            tracing::info!(
                requests = asking.count,
                questions = replication.read_rule_questions(),
                asking_mean_ms = mean_ms(asking.sum),
                applying_mean_ms = mean_ms(applying.sum),
                "the read rule since start"
            );
        }
        let revision = self.held_revision.swap(0, Ordering::AcqRel);
        if revision > 0 {
            if let Err(error) = self.lease.delete_expect_revision(lease::KEY, Some(revision)).await {
                tracing::warn!(%error, "giving up the writer's lease; it expires by itself");
            }
        }
    }
}
