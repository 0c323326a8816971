//! Patient sync ("Group Sync"): the service behind `/resource/sync`. It keeps the patients'
//! identifiers, metastamps, jobs and records in the patient column families, asks the sources
//! (satellites through their ordinary outgoing queue, secondary sources over HTTP), applies what
//! they answer, and wakes the `load` calls waiting on a patient.
//!
//! Every change of patient state is a read-modify-write on one thread, the patient writer
//! ([`writer`]): it reads the patient, prepares its changes as one `PatientWrites`, and hands
//! them to the sync core's writer (`SyncEngine::write_patient`, the one holder of the write
//! right), waiting until they are durable before anyone is told. A `patient_sync_request` to a
//! satellite is an ordinary push from the primary itself.
//!
//! In a cluster every instance has its own patient writer, reading its own replica, which may
//! not have applied another instance's latest change yet. So each change says which patient
//! generation (the count of patient changes applied) it was read at, and the sync writer refuses
//! it if another came since; [`on_writer`] then catches up with the log and decides it again.
//!
//! It runs on a [`Host`] (the sync engine and its own state) and imports neither `primary`,
//! `api` nor `http`.

pub mod apply;
pub mod clear;
pub mod dispatch;
pub mod identity;
pub mod load;
pub mod plan;
pub mod secondary;
pub mod state;
pub mod tally;
pub mod views;
pub mod waiters;
pub mod writer;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use crate::config::PatientConfig;
use crate::store::{PatientWrites, StoreError};
use crate::sync::{SyncEngine, SyncError};
use secondary::SecondaryClient;
use waiters::Waiters;

/// Why a patient sync call failed; the API layer turns each into the spec's status and message.
#[derive(Debug, thiserror::Error)]
pub enum PatientSyncError {
    /// A malformed parameter or body (400).
    #[error("{0}")]
    BadRequest(String),
    /// The patient, or a source for it, is not there (404, with the spec's message).
    #[error("{0}")]
    NotFound(String),
    /// An identifier already belongs to another patient (409).
    #[error("{0}")]
    Conflict(String),
    /// The caller may not do this (403).
    #[error("{0}")]
    Forbidden(String),
    /// The caller's site has not finished its initialisation (503).
    #[error("operational data is in progress")]
    Initialising,
    /// The sync failed at the sources the caller waited for, or the wait ran out (500).
    #[error("the sync failed or did not finish in time")]
    Failed,
    #[error(transparent)]
    Storage(#[from] StoreError),
    #[error(transparent)]
    Sync(#[from] crate::sync::SyncError),
    /// A change panicked on the patient writer (and was not applied).
    #[error("a patient sync task failed")]
    Task,
}

pub type Result<T> = std::result::Result<T, PatientSyncError>;

/// The patient sync service: one per primary.
pub struct PatientSync {
    pub config: PatientConfig,
    /// Runs every read-modify-write of patient state (see the module comment).
    writer: writer::PatientWriter,
    pub waiters: Waiters,
    /// Loads started and jobs finished since start, for the metrics.
    pub tally: tally::JobTally,
    secondary: SecondaryClient,
    /// The last write position given out: job records are listed in write order, so two writes
    /// in the same microsecond still get distinct, increasing positions.
    last_micros: AtomicU64,
}

impl PatientSync {
    pub fn new(config: PatientConfig) -> PatientSync {
        let secondary = SecondaryClient::new(config.max_concurrent_fetches);
        PatientSync {
            config,
            writer: writer::PatientWriter::start(),
            waiters: Waiters::default(),
            tally: tally::JobTally::default(),
            secondary,
            last_micros: AtomicU64::new(0),
        }
    }

    /// The time limits of the sync decisions (see [`plan::Limits`]).
    pub fn limits(&self) -> plan::Limits {
        plan::Limits {
            expiry_ms: self.config.expiry_seconds.saturating_mul(1000),
            stale_ms: (self.config.source_timeout_seconds + self.config.wait_limit_seconds).saturating_mul(1000),
        }
    }

    /// A write position later than every one given out before.
    pub(crate) fn next_micros(&self) -> u64 {
        let now = u64::try_from(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap_or_default()
                .as_micros(),
        )
        .unwrap_or(u64::MAX);
        let mut last = self.last_micros.load(Ordering::Relaxed);
        loop {
            let next = now.max(last + 1);
            match self
                .last_micros
                .compare_exchange_weak(last, next, Ordering::Relaxed, Ordering::Relaxed)
            {
                Ok(_) => return next,
                Err(seen) => last = seen,
            }
        }
    }
}

/// What the patient sync service runs on: the sync engine (its storage, and the queues its
/// requests to satellites go through) and its own state. The running primary is one
/// (`primary.rs`); patient sync knows nothing else of it, and imports nothing above itself.
pub trait Host: Send + Sync + 'static {
    fn engine(&self) -> &SyncEngine;
    fn patients(&self) -> &PatientSync;
    /// The patient generation the work running on the patient writer read its state at (see
    /// [`on_writer`]); `None` elsewhere.
    fn decided_at(&self) -> Option<u64> {
        None
    }
}

/// A host shared with the tasks that outlive a call (fetches, time-outs).
pub type Shared = Arc<dyn Host>;

/// How often one piece of work is decided again after its change was refused as stale, before
/// its caller is told to try later. Each time, this replica first catches up with the log.
const DECISIONS: usize = 20;

/// The host as the work on the patient writer sees it: with the generation it read at.
struct Decision {
    host: Shared,
    generation: u64,
}

impl Host for Decision {
    fn engine(&self) -> &SyncEngine {
        self.host.engine()
    }

    fn patients(&self) -> &PatientSync {
        self.host.patients()
    }

    fn decided_at(&self) -> Option<u64> {
        Some(self.generation)
    }
}

/// Runs `work` on the patient writer (see [`writer`]), after every change asked for before.
/// `work` may run more than once: when its change is refused as decided against an older patient
/// state (another instance's change came first), it runs again on the state that has it. It
/// must change nothing but through [`write`] before its write succeeds.
pub async fn on_writer<T: Send + 'static>(
    host: &Shared,
    work: impl Fn(&dyn Host) -> Result<T> + Send + Sync + 'static,
) -> Result<T> {
    let work = Arc::new(work);
    let mut decided = 0;
    loop {
        let (held, run) = (host.clone(), work.clone());
        let result = host
            .patients()
            .writer
            .run(move || {
                // Read before any patient state: what the work reads is at least this recent.
                let generation = held.engine().patient_generation();
                run(&Decision { host: held, generation })
            })
            .await
            .ok_or(PatientSyncError::Task)?;
        decided += 1;
        match result {
            Err(PatientSyncError::Sync(SyncError::PatientStale)) if decided < DECISIONS => {
                tracing::debug!(
                    decided,
                    "a patient change was decided on stale state; deciding it again"
                );
                host.engine().caught_up().await?;
            }
            other => return other,
        }
    }
}

/// Writes the patient changes the running work decided, durably; then counts the jobs they
/// started and finished.
pub fn write(host: &dyn Host, mut writes: PatientWrites) -> Result<()> {
    if let Some(generation) = host.decided_at() {
        writes.decided_at_generation(generation);
    }
    let written = tally::JobTotals::of(writes.jobs());
    host.engine().write_patient(writes)?;
    host.patients().tally.add(written);
    Ok(())
}
