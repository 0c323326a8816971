//! What the sync core asks of a replicated log when it runs as one instance of a cluster, and the
//! state it keeps about it: the position it has applied, and whether it is the writer.
//!
//! The log (the cluster's implementation is `cluster::` over NATS JetStream) orders the groups of
//! one writer at a time. The writer appends each group before committing it; every instance,
//! the writer included, holds a replica that has applied the log up to a position. Nothing here
//! knows NATS: `sync` depends on `domain` and `store` only.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use tokio::sync::watch;

use super::log_question::LogQuestion;
use crate::histogram::{Histogram, LATENCY_MICROS};

fn micros(elapsed: std::time::Duration) -> u64 {
    u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX)
}

/// How long a request waits for this replica to apply what the log held when it came, before it
/// is answered "busy" (503, the satellite tries again, behind a balancer on another instance)
/// rather than held while this replica cannot follow the log.
const CAUGHT_UP_WITHIN: std::time::Duration = std::time::Duration::from_secs(10);

pub type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

/// Why an append did not happen.
#[derive(Debug, Clone, thiserror::Error)]
pub enum AppendError {
    /// The log holds a group after the position this writer built on: another instance wrote
    /// (this one was deposed). Nothing was appended.
    #[error("another writer appended to the log")]
    Fenced,
    /// The log did not take the group (no quorum, no connection); it may be retried.
    #[error("the log is unavailable: {0}")]
    Unavailable(String),
}

/// A replicated, ordered log of groups.
pub trait ReplicatedLog: Send + Sync + 'static {
    /// Appends a group's message, built on the state after position `after`; returns the new
    /// group's position once the log has it durably (on a quorum's disks). Refused with
    /// [`AppendError::Fenced`] when the log holds anything after `after`. Blocks: the writer is
    /// a thread of its own.
    fn append(&self, after: u64, message: Vec<u8>) -> Result<u64, AppendError>;

    /// The largest message the log takes.
    fn max_message(&self) -> usize {
        usize::MAX
    }

    /// The position of the last group in the log now (the read barrier waits to apply it).
    fn last_position(&self) -> BoxFuture<Result<u64, String>>;

    /// Sends a forwarded command (`write_op::encode_forwarded`) to the writer and returns its
    /// answer (`write_op::decode_answer`), or why it could not reach the writer.
    fn forward(&self, request: Vec<u8>) -> BoxFuture<Result<Vec<u8>, String>>;
}

/// An instance's place in its cluster: the log, whether it holds the writer's lease, and how far
/// its replica has applied the log.
pub struct Replication {
    log: Arc<dyn ReplicatedLog>,
    writer: AtomicBool,
    /// The position of the last group applied here (committed to this instance's RocksDB).
    applied: watch::Sender<u64>,
    /// The writer's epoch while this instance is the writer (the lease's revision).
    epoch: AtomicU64,
    /// Until when (milliseconds after `started`) the lease lets this instance write: a writer
    /// frozen past it (a paused VM, a stopped process) refuses to write the moment it wakes,
    /// before its lease loop has run.
    writer_until: AtomicU64,
    started: Instant,
    /// How long a change keeps looking for the writer (a lease changing hands) before it is
    /// refused, in milliseconds.
    find_writer_for: AtomicU64,
    /// Bumped when this replica applies patient sync's changes that another instance wrote.
    patient_changes: watch::Sender<u64>,
    /// The read rule's question to the log, shared by the requests waiting for it.
    last_position: LogQuestion,
    /// What the read rule costs each request, in microseconds: waiting for the log's answer, then
    /// for this replica to apply up to it (for the metrics).
    pub read_rule_asking: Histogram,
    pub read_rule_applying: Histogram,
    /// The runtime the log's client runs on, for the threads outside it (patient sync's writer).
    runtime: tokio::runtime::Handle,
}

impl Replication {
    /// An instance whose replica has applied the log up to `applied` (as its database says).
    /// Made inside the runtime that `log` uses.
    pub fn new(log: Arc<dyn ReplicatedLog>, applied: u64) -> Arc<Replication> {
        Arc::new(Replication {
            log,
            writer: AtomicBool::new(false),
            applied: watch::Sender::new(applied),
            epoch: AtomicU64::new(0),
            writer_until: AtomicU64::new(u64::MAX),
            started: Instant::now(),
            find_writer_for: AtomicU64::new(20_000),
            patient_changes: watch::Sender::new(0),
            last_position: LogQuestion::default(),
            read_rule_asking: Histogram::new(&LATENCY_MICROS),
            read_rule_applying: Histogram::new(&LATENCY_MICROS),
            runtime: tokio::runtime::Handle::current(),
        })
    }

    /// How long a change keeps looking for the cluster's writer before it is refused with
    /// `SyncError::NotWriter` (20 s unless set): longer than a lease takes to change hands.
    pub fn find_writer_for(&self) -> std::time::Duration {
        std::time::Duration::from_millis(self.find_writer_for.load(Ordering::Relaxed))
    }

    pub fn set_find_writer_for(&self, patience: std::time::Duration) {
        self.find_writer_for
            .store(patience.as_millis() as u64, Ordering::Relaxed);
    }

    pub fn runtime(&self) -> &tokio::runtime::Handle {
        &self.runtime
    }

    pub fn log(&self) -> &dyn ReplicatedLog {
        &*self.log
    }

    pub fn is_writer(&self) -> bool {
        self.writer.load(Ordering::Acquire) && self.millis_now() < self.writer_until.load(Ordering::Acquire)
    }

    /// This instance now holds the lease of `epoch` (its replica must have applied the whole log
    /// first), or no longer does (`None`). Until [`Replication::hold_until`] bounds it, the role
    /// does not lapse by itself.
    pub fn set_writer(&self, epoch: Option<u64>) {
        self.epoch.store(epoch.unwrap_or(0), Ordering::Release);
        self.writer_until.store(u64::MAX, Ordering::Release);
        self.writer.store(epoch.is_some(), Ordering::Release);
    }

    /// The lease was renewed: this instance may write until `until`, unless renewed again.
    pub fn hold_until(&self, until: Instant) {
        let millis = until.saturating_duration_since(self.started).as_millis() as u64;
        self.writer_until.store(millis, Ordering::Release);
    }

    fn millis_now(&self) -> u64 {
        self.started.elapsed().as_millis() as u64
    }

    pub fn epoch(&self) -> u64 {
        self.epoch.load(Ordering::Acquire)
    }

    pub fn applied(&self) -> u64 {
        *self.applied.borrow()
    }

    pub(super) fn note_applied(&self, position: u64) {
        self.applied.send_replace(position);
    }

    /// Sees every group of patient sync's changes that this replica applies from the log (another
    /// instance's patient sync wrote them): loads waiting here read their patient again.
    pub fn patient_changes(&self) -> watch::Receiver<u64> {
        self.patient_changes.subscribe()
    }

    pub(super) fn note_patient_changes(&self) {
        self.patient_changes.send_modify(|version| *version += 1);
    }

    /// Questions the read rule sent to the log since start (see [`LogQuestion`]).
    pub fn read_rule_questions(&self) -> u64 {
        self.last_position.sent()
    }

    /// Waits until this replica has applied the log up to `position`.
    pub async fn applied_up_to(&self, position: u64) {
        let mut applied = self.applied.subscribe();
        // The sender lives as long as `self`, which the caller holds.
        let _ = applied.wait_for(|at| *at >= position).await;
    }

    /// Waits until this replica has applied everything the log held when this was called: what
    /// an instance does before answering a satellite, which may have been answered by another
    /// instance a moment ago.
    pub async fn caught_up(&self) -> Result<(), String> {
        let asked = Instant::now();
        let last = self.last_position.last_position(|| self.log.last_position()).await?;
        let answered = Instant::now();
        self.read_rule_asking.observe(micros(answered - asked));
        let applied = tokio::time::timeout(CAUGHT_UP_WITHIN, self.applied_up_to(last))
            .await
            .map_err(|_| format!("this replica did not apply the log up to {last} within {CAUGHT_UP_WITHIN:?}"));
        self.read_rule_applying.observe(micros(answered.elapsed()));
        applied
    }
}
