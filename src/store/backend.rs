//! What the sync core asks of storage, as traits: a backend is anything that implements
//! [`SyncStorage`] (its reads, a [`SyncBatch`] of writes, a [`LogSnapshot`], and a durable commit)
//! and passes the conformance suite (`store::conformance`). The embedded RocksDB [`Storage`] is the
//! one backend today; the sync engine is generic over this trait, so another (a replicated log, an
//! in-memory store for tests) plugs in without touching `sync/`.
//!
//! The reads and writes are grouped by what they touch, as the RocksDB backend's files are: the
//! log ([`LogReads`], [`LogWrites`]), the sync indexes ([`IndexReads`], [`IndexWrites`]), and the
//! directory with the queue states and the skip log ([`DirectoryReads`], [`DirectoryWrites`]).
//!
//! **Only the writer commits.** [`SyncStorage::commit`] takes the database's [`WriteRight`],
//! which opening a database hands out once, which cannot be cloned or made outside `store`, and
//! which the sync engine moves into its writer thread. Everything else (handlers, patient sync,
//! pulls) holds the storage for reading and sends its changes to the writer.
//!
//! [`Storage`]: super::Storage

use std::sync::atomic::{AtomicU64, Ordering};

use super::{LogEntry, PatientWrites, Result};
use crate::domain::directory::{Directory, Operator, Site, Store, User};
use crate::domain::ids::SiteId;

/// The right to commit to one opened database. There is one per open, and nothing outside
/// `store` can make another: whoever holds it is the database's writer.
#[derive(Debug)]
pub struct WriteRight {
    database: u64,
}

impl WriteRight {
    /// A right and the id of the database it is for; each call gives a new id. For a backend's
    /// `open`, which keeps the id and checks it at every commit.
    pub(super) fn issue() -> (WriteRight, u64) {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        let database = NEXT.fetch_add(1, Ordering::Relaxed);
        (WriteRight { database }, database)
    }

    /// Whether this is the right to the database `database`.
    pub(super) fn is_for(&self, database: u64) -> bool {
        self.database == database
    }
}

/// The log: one entry per record at its sequence number, the next sequence number, and the
/// entries the last write superseded (deleted by the next one).
pub trait LogReads {
    /// The next sequence number to write at (1 for an empty log).
    fn next_seq(&self) -> Result<u64>;
    /// Log entries that the last write superseded and the next write deletes.
    fn gc_pending(&self) -> Result<Vec<u64>>;
    /// In a cluster, the position in the replicated log of the last group applied here (0 for
    /// none, and always for a primary that is not clustered).
    fn log_position(&self) -> Result<u64>;
    /// How many of patient sync's changes were applied here, counted by the writer (0 for
    /// none). A change decided against an older count is refused (see ARCHITECTURE.md).
    fn patient_generation(&self) -> Result<u64>;
    fn log_entry(&self, seq: u64) -> Result<Option<LogEntry>>;
    /// The log entries at `seqs`, in the same order.
    fn log_entries(&self, seqs: &[u64]) -> Result<Vec<Option<LogEntry>>>;
    /// Calls `visit` for every current log entry in sequence order (entries in
    /// [`LogReads::gc_pending`] are skipped).
    fn scan_log(&self, visit: impl FnMut(u64, LogEntry)) -> Result<()>;
}

/// A consistent, point-in-time view of the log, for reads that must not hold a lock.
pub trait LogSnapshot {
    /// The encoded log entries at `seqs` as they were when the snapshot was taken, in the same
    /// order (decode them with [`LogEntry::decode`], or read them in place with
    /// [`super::log_entry::record_view`]).
    fn log_values(&self, seqs: &[u64]) -> Result<Vec<Option<Vec<u8>>>>;
}

/// The sync indexes: where each record is in the log (by id, unique across tables), which
/// pushes each site has made, patients' joins to stores, and the lookups (records by the parent
/// they refer to).
pub trait IndexReads {
    /// The sequence number of the latest entry of `table`'s record `record_id` (ids compare in
    /// key form); `None` when no record has the id, or another table's does.
    fn record_seq(&self, table: &str, record_id: &str) -> Result<Option<u64>>;
    /// Which table holds each of these ids, and the seq of its latest entry.
    fn record_holders(&self, ids: &[&str]) -> Result<Vec<Option<(String, u64)>>>;
    /// The seqs of the latest entries of these (table, id) records.
    fn record_seqs(&self, records: &[(&str, &str)]) -> Result<Vec<Option<u64>>> {
        let ids: Vec<&str> = records.iter().map(|(_, id)| *id).collect();
        let holders = self.record_holders(&ids)?;
        Ok(records
            .iter()
            .zip(holders)
            .map(|((table, _), holder)| super::seq_if_held_by(holder.as_ref(), table))
            .collect())
    }
    /// The sequence number a push with this SyncID from this site was applied at, if it was.
    fn pushed_seq(&self, site: SiteId, sync_id: &str) -> Result<Option<u64>>;
    /// Of these SyncIDs pushed by `site`, which were applied.
    fn pushed_many(&self, site: SiteId, sync_ids: &[&str]) -> Result<Vec<bool>>;
    /// The ids (key form) of the `table` records that refer to `parent_id`.
    fn lookup(&self, table: &str, parent_id: &str) -> Result<Vec<String>>;
    /// What the lookups were built for (see `sync::lookups::Lookups::fingerprint`); `None` if
    /// they never were.
    fn lookups_fingerprint(&self) -> Result<Option<Vec<u8>>>;
    /// The store ids (key form) a patient is joined to.
    fn patient_stores(&self, name_id: &str) -> Result<Vec<String>>;
}

/// Sites, stores, users and operators; the satellites' queue states; the skip log.
pub trait DirectoryReads {
    /// Every site, store, user and operator.
    fn load_directory(&self, primary: SiteId) -> Result<Directory>;
    /// One satellite's stored queue state, undecoded.
    fn site_queue(&self, site: SiteId) -> Result<Option<Vec<u8>>>;
    /// Every stored satellite queue state, undecoded.
    fn site_queues(&self) -> Result<Vec<(SiteId, Vec<u8>)>>;
    /// The skip log of `site`, oldest first.
    fn skips(&self, site: SiteId) -> Result<Vec<String>>;
    /// Every site's persisted health, as [`DirectoryWrites::put_site_health`] wrote it.
    fn site_healths(&self) -> Result<Vec<(SiteId, Vec<u8>)>>;
}

pub trait LogWrites {
    fn put_log(&mut self, seq: u64, entry: &LogEntry);
    fn delete_log(&mut self, seq: u64);
    fn put_next_seq(&mut self, next: u64);
    /// The replicated log's position of the group this batch applies (see
    /// [`LogReads::log_position`]).
    fn put_log_position(&mut self, position: u64);
    /// See [`LogReads::patient_generation`].
    fn put_patient_generation(&mut self, generation: u64);
    /// Replaces the list of entries the next write deletes.
    fn put_gc_pending(&mut self, seqs: &[u64]);
}

pub trait IndexWrites {
    /// Notes that `table` holds `record_id` (whatever another table held under it before), its
    /// latest entry at `seq`.
    fn put_record_seq(&mut self, table: &str, record_id: &str, seq: u64);
    fn put_pushed(&mut self, site: SiteId, sync_id: &str, seq: u64);
    fn put_join(&mut self, name_id: &str, store_id: &str);
    fn delete_join(&mut self, name_id: &str, store_id: &str);
    fn put_lookup(&mut self, table: &str, parent_id: &str, record_id: &str);
    fn delete_lookup(&mut self, table: &str, parent_id: &str, record_id: &str);
    /// Records that the lookups hold an entry for every stored record under the references
    /// `fingerprint` names.
    fn mark_lookups_built(&mut self, fingerprint: &[u8]);
    /// Removes every lookup (before they are built again for other references).
    fn clear_lookups(&mut self);
}

pub trait DirectoryWrites {
    /// One entry of the skip log; `entry` is the operator-readable text, `at_micros` orders it.
    fn put_skip(&mut self, site: SiteId, at_micros: u64, entry: &str);
    fn put_site_queue(&mut self, site: SiteId, state: &[u8]);
    fn put_site(&mut self, site: &Site);
    fn put_store(&mut self, store: &Store);
    fn put_user(&mut self, user: &User);
    fn put_operator(&mut self, operator: &Operator);
    /// A removed site: its directory entry and its queue state (its skip log stays, for the
    /// record). Its stores are deleted one by one with [`DirectoryWrites::delete_store`].
    fn delete_site(&mut self, site: SiteId);
    fn delete_store(&mut self, store_id: &str);
    /// Persisted health of sites (`sync/health.rs`'s encoding), a batch of them at a time.
    fn put_site_health(&mut self, site: SiteId, health: &[u8]);
}

/// Changes written together, atomically, by [`SyncStorage::commit`].
pub trait SyncBatch: LogWrites + IndexWrites + DirectoryWrites {
    /// Patient sync's changes, prepared on its own thread and written with the rest.
    fn put_patient_writes(&mut self, writes: PatientWrites);
}

/// A storage backend of the sync core.
pub trait SyncStorage: LogReads + IndexReads + DirectoryReads + Send + Sync + 'static {
    type Batch<'a>: SyncBatch
    where
        Self: 'a;
    type Snapshot<'a>: LogSnapshot
    where
        Self: 'a;

    fn batch(&self) -> Self::Batch<'_>;
    fn snapshot(&self) -> Self::Snapshot<'_>;
    /// Writes `batch` atomically and durably (when this returns, it survives a crash of the
    /// process and of the machine). Refused, writing nothing, with another database's right.
    fn commit(&self, right: &WriteRight, batch: Self::Batch<'_>) -> Result<()>;

    /// The current entry of a record, if it has one.
    fn current(&self, table: &str, record_id: &str) -> Result<Option<LogEntry>> {
        match self.record_seq(table, record_id)? {
            Some(seq) => self.log_entry(seq),
            None => Ok(None),
        }
    }
}
