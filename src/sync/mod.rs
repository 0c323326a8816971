//! Push, pull, acknowledge and initial dump: the sync core every API version shares.
//!
//! Reads (`count`, `list`, `find`) run on the caller's thread under a read lock. Every mutation
//! goes to one writer thread (`writer.rs`), which groups the commands waiting for it into one
//! durable RocksDB write and then updates the in-memory state. A reply is sent only after the
//! write is on disk. Depends on `domain` and `store` only: no HTTP, no `wire`, no JSON shape.
//! The engine is generic over the storage backend (`store::SyncStorage`); the embedded RocksDB
//! one is the default.

pub mod activity;
pub mod directory_changes;
pub mod dump_progress;
mod group;
pub mod health;
pub mod index;
pub mod log_question;
pub mod lookups;
mod parents_first;
pub mod patients;
mod push;
pub mod queue_view;
#[cfg(test)]
mod replica_tests;
pub mod replication;
pub mod site_queue;
pub mod transfers;
pub mod write_op;
mod writer;
pub mod writer_stats;

use foldhash::{HashMap, HashMapExt};
use std::sync::Arc;

use parking_lot::RwLock;

use crate::domain::directory::{Directory, DirectoryChange};
use crate::domain::fields::FieldCatalogue;
use crate::domain::ids::SiteId;
use crate::domain::record::PushedRecord;
use crate::domain::record::RecordView;
use crate::domain::row;
use crate::domain::tables::TableCatalogue;
use crate::domain::values::ValueRules;
use crate::store::log_entry::record_view;
use crate::store::{IndexWrites, LogSnapshot, LogWrites, PatientWrites, Storage, StoreError, SyncStorage, WriteRight};
pub use dump_progress::{DumpProgress, TableProgress};
use index::QueueIndex;
pub use lookups::Lookups;
pub use push::PushOutcome;
use queue_view::QueueView;
pub use site_queue::ClientKind;
use site_queue::{OutgoingId, SiteQueue};

#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    /// The storage layer failed; the change was not applied.
    #[error(transparent)]
    Storage(#[from] StoreError),
    /// The writer thread has stopped (the server is shutting down).
    #[error("the writer has stopped")]
    WriterStopped,
    /// In a cluster: no instance took the change as the writer (the lease is changing hands, or
    /// this instance was deposed while it wrote). Nothing was applied; it may be sent again.
    #[error("no writer took the change; try again")]
    NotWriter,
    /// The site is bound to another hardware id.
    #[error("site is registered to another machine")]
    HardwareMismatch,
    /// The site is not known.
    #[error("unknown site {0}")]
    UnknownSite(SiteId),
    /// The request names something that does not exist or is not allowed; the text says what.
    #[error("{0}")]
    Invalid(String),
    /// A pushed record's data cannot be read into its row (a value that is not its field's
    /// type, an id another table holds); the text names the record and what is wrong. Nothing
    /// of the push was applied.
    #[error("{0}")]
    BadRecord(String),
    /// Patient sync's change was decided against patient state that another change has since
    /// replaced (in a cluster, on a replica that had not applied it yet). Nothing was applied;
    /// patient sync decides the change again.
    #[error("the patient state changed since the change was decided")]
    PatientStale,
    /// The SyncID names no record in that satellite's queue.
    #[error("no record with SyncID {0} is queued for this site")]
    NotQueued(String),
    /// The write of the group this change was part of failed, for the cause given, and nothing
    /// of the group was applied. The writer has logged it, once for the whole group.
    #[error("the group write failed: {0}")]
    GroupFailed(StoreError),
}

pub type Result<T> = std::result::Result<T, SyncError>;

/// What the sync core knows of tables: how they are routed and ordered, their fields, how
/// pushed values are read, and the references indexed (derived from the routing).
#[derive(Debug, Clone)]
pub struct Catalogues {
    pub tables: TableCatalogue,
    pub fields: FieldCatalogue,
    pub values: ValueRules,
    pub lookups: Lookups,
}

impl Catalogues {
    pub fn new(tables: TableCatalogue, fields: FieldCatalogue, values: ValueRules) -> Catalogues {
        let lookups = Lookups::of(&tables);
        Catalogues {
            tables,
            fields,
            values,
            lookups,
        }
    }

    /// The catalogues compiled into the binary.
    pub fn builtin() -> Catalogues {
        Catalogues::new(
            TableCatalogue::builtin(),
            FieldCatalogue::builtin(),
            ValueRules::default(),
        )
    }
}

/// Everything the writer changes and readers read, behind one lock.
pub struct SyncState {
    pub directory: Directory,
    pub index: QueueIndex,
    pub queues: HashMap<SiteId, SiteQueue>,
    /// How many of patient sync's changes are applied (see [`SyncEngine::patient_generation`]).
    pub patient_generation: u64,
}

impl SyncState {
    /// `site`'s queue as a view (an empty queue for a site with no state yet), handed to `read`.
    fn with_view<T>(&self, site: SiteId, read: impl FnOnce(&QueueView<'_>) -> T) -> T {
        let default = SiteQueue::default();
        let queue = self.queues.get(&site).unwrap_or(&default);
        read(&QueueView::new(&self.index, site, queue))
    }
}

/// An operator's act on the directory, decided against the directory as the writer holds it
/// when it comes to it (so two acts never both take one name): the changes it makes, or why it
/// cannot be done.
pub type DirectoryPlan = Box<dyn FnOnce(&Directory) -> std::result::Result<Vec<DirectoryChange>, String> + Send>;

/// Where a site stands with its initialisation (the v5 `site` call reports it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Initialisation {
    /// It never asked for an initial dump.
    New,
    /// Its latest dump is not yet wholly acknowledged.
    Started,
    /// Its latest dump is wholly acknowledged.
    Completed,
}

/// One record leaving the primary: the SyncID it goes out under and its stored state, kept
/// encoded as read (a pull encodes it straight from these bytes, without a copy per field).
#[derive(Debug, Clone)]
pub struct Outgoing {
    pub sync_id: [u8; 32],
    value: Vec<u8>,
}

impl Outgoing {
    /// `None` if `value` is not an encoded log entry.
    pub fn new(sync_id: [u8; 32], value: Vec<u8>) -> Option<Outgoing> {
        record_view(&value)?;
        Some(Outgoing { sync_id, value })
    }

    pub fn record(&self) -> RecordView<'_> {
        record_view(&self.value).expect("checked by Outgoing::new")
    }

    /// The size of the stored entry, about that of the record encoded.
    pub fn encoded_len(&self) -> usize {
        self.value.len()
    }

    pub fn sync_id(&self) -> &str {
        std::str::from_utf8(&self.sync_id).expect("SyncIDs are hex")
    }
}

pub struct SyncEngine<S: SyncStorage = Storage> {
    storage: Arc<S>,
    state: Arc<RwLock<SyncState>>,
    catalogues: Arc<Catalogues>,
    writer: writer::WriterHandle,
    health: health::Health,
    activity: Arc<activity::Activity>,
    writer_stats: Arc<writer_stats::WriterStats>,
    replication: Option<Arc<replication::Replication>>,
}

impl<S: SyncStorage> SyncEngine<S> {
    /// Opens the engine over `storage`: finishes any pending log clean-up, loads the directory
    /// and queue states, rebuilds the queue index from the log, and starts the writer, which
    /// takes the write right: from then on only it commits.
    pub fn open(storage: S, right: WriteRight, catalogues: Catalogues, primary: SiteId) -> Result<SyncEngine<S>> {
        SyncEngine::open_replicated(storage, right, catalogues, primary, None)
    }

    /// [`SyncEngine::open`], as one instance of a cluster when `log` is given: every change goes
    /// through the replicated log (appended by this instance while it is the writer, forwarded to
    /// the writer otherwise), and the groups others append are applied here through
    /// [`SyncEngine::replicated`]. Called inside the runtime the log's client runs on.
    pub fn open_replicated(
        storage: S,
        right: WriteRight,
        catalogues: Catalogues,
        primary: SiteId,
        log: Option<Arc<dyn replication::ReplicatedLog>>,
    ) -> Result<SyncEngine<S>> {
        let pending = storage.gc_pending()?;
        if !pending.is_empty() {
            let mut batch = storage.batch();
            for seq in &pending {
                batch.delete_log(*seq);
            }
            batch.put_gc_pending(&[]);
            storage.commit(&right, batch)?;
        }
        let directory = storage.load_directory(primary)?;
        let mut index = QueueIndex::new(&directory);
        index.gate(catalogues.tables.not_for_mobile_2017());
        // A database indexed for other references (or before lookups existed) is indexed again,
        // in the same scan.
        let fingerprint = catalogues.lookups.fingerprint();
        let build_lookups = storage.lookups_fingerprint()?.as_deref() != Some(fingerprint.as_slice());
        let mut found = Vec::new();
        storage.scan_log(|seq, entry| {
            index.insert(seq, &group::facts(&entry));
            if build_lookups {
                if let Some((table, parent)) = catalogues.lookups.parent(&entry.record) {
                    found.push((table, parent, entry.record.target_id().to_string()));
                }
            }
        })?;
        if build_lookups {
            let mut batch = storage.batch();
            batch.clear_lookups();
            storage.commit(&right, batch)?;
            for chunk in found.chunks(10_000) {
                let mut batch = storage.batch();
                for (table, parent, id) in chunk {
                    batch.put_lookup(table, parent, id);
                }
                storage.commit(&right, batch)?;
            }
            let mut batch = storage.batch();
            batch.mark_lookups_built(&fingerprint);
            storage.commit(&right, batch)?;
        }
        let mut queues = HashMap::new();
        for (site, bytes) in storage.site_queues()? {
            let queue = SiteQueue::decode(&bytes).ok_or_else(|| StoreError::Corrupt {
                family: crate::store::cf::SITE_QUEUES,
                detail: format!("queue of site {site}"),
            })?;
            queues.insert(site, queue);
        }
        let next_seq = storage.next_seq()?;
        let health = health::Health::load(storage.site_healths()?);
        let storage = Arc::new(storage);
        let state = Arc::new(RwLock::new(SyncState {
            directory,
            index,
            queues,
            patient_generation: storage.patient_generation()?,
        }));
        let catalogues = Arc::new(catalogues);
        let activity = Arc::new(activity::Activity::default());
        let writer_stats = Arc::new(writer_stats::WriterStats::default());
        let replication = match log {
            Some(log) => Some(replication::Replication::new(log, storage.log_position()?)),
            None => None,
        };
        let writer = writer::start(writer::WriterParts {
            storage: storage.clone(),
            right,
            state: state.clone(),
            catalogues: catalogues.clone(),
            next_seq,
            activity: activity.clone(),
            stats: writer_stats.clone(),
            replication: replication.clone(),
        });
        Ok(SyncEngine {
            storage,
            state,
            catalogues,
            writer,
            health,
            activity,
            writer_stats,
            replication,
        })
    }

    /// This instance's place in its cluster; `None` for a primary that is not clustered.
    pub fn replication(&self) -> Option<&Arc<replication::Replication>> {
        self.replication.as_ref()
    }

    /// Applies, in order, a group the cluster's log holds at `position` (a group this instance
    /// wrote or applied already is passed over).
    pub async fn replicated(&self, position: u64, message: Vec<u8>) -> Result<()> {
        self.writer.replicated(position, message).await
    }

    /// Applies a change another instance forwarded to this one as the cluster's writer: the
    /// answer, and the log position of the group that holds it.
    pub async fn apply_forwarded(&self, op: write_op::WriteOp) -> (write_op::Answer, u64) {
        self.writer.apply_forwarded(op).await
    }

    /// In a cluster, waits until this replica has applied everything the log held when asked:
    /// what a satellite was answered by any instance before, this one now holds. At once for a
    /// primary that is not clustered.
    pub async fn caught_up(&self) -> Result<()> {
        match &self.replication {
            Some(replication) => replication.caught_up().await.map_err(|_| SyncError::NotWriter),
            None => Ok(()),
        }
    }

    /// What the primary did over the last hour (see [`activity`]).
    pub fn activity(&self) -> &activity::Activity {
        &self.activity
    }

    /// The writer's groups since start: how many, their sizes, their commit times.
    pub fn writer_stats(&self) -> &writer_stats::WriterStats {
        &self.writer_stats
    }

    /// Every satellite's health, as requests leave it (see [`health`]).
    pub fn health(&self) -> &health::Health {
        &self.health
    }

    /// What the primary flags of `site` now. Its queue is counted only when a flag depends on
    /// it (acks-stopped: a site pulling without acknowledging), so flagging every site of a
    /// country costs no bitmap work for those that are fine.
    pub fn flags(&self, site: SiteId) -> Vec<health::Flag> {
        let of_site = self.health.of(site);
        let queued = if of_site.unacknowledged_since.is_some() {
            self.count(site)
        } else {
            0
        };
        of_site.flags(&self.health.thresholds(), queued, self.health.now())
    }

    /// Writes the health of the sites changed since the last flush, in one durable write
    /// through the writer; returns how many. Called every `[admin] health_flush_seconds`.
    pub async fn flush_health(&self) -> Result<usize> {
        let changed = self.health.take_changed();
        let count = changed.len();
        if count > 0 {
            self.writer.put_health(changed).await?;
        }
        Ok(count)
    }

    /// The first `limit` records of `site`'s queue, delivered to it: as [`SyncEngine::list`],
    /// and noted in its health (the head it was given; one log line when it has been given the
    /// same head too many times: it is stuck on it).
    pub fn deliver(&self, site: SiteId, limit: usize) -> Result<Vec<Outgoing>> {
        let records = self.list(site, limit)?;
        let head = records.first().map(|first| {
            let record = first.record();
            health::QueueHead {
                sync_id: first.sync_id().to_string(),
                table: record.table.to_string(),
                record_id: record.record_id.to_string(),
            }
        });
        self.activity.delivered(records.len() as u64);
        let deliveries = self.health.pulled(site, head.clone());
        if let Some(head) = head.filter(|_| deliveries == self.health.thresholds().stuck_deliveries) {
            tracing::warn!(
                site = site.0,
                sync_id = %head.sync_id,
                table = %head.table,
                record_id = %head.record_id,
                deliveries,
                "satellite stuck: the same record delivered again and again, never acknowledged; skip it with a reason if it cannot integrate it"
            );
        }
        Ok(records)
    }

    /// The storage under the engine, to read: patient sync keeps its own data in it. Nothing
    /// can commit through it (the writer holds the right): changes go through the engine.
    pub fn storage(&self) -> &Arc<S> {
        &self.storage
    }

    /// Writes patient sync's changes durably, with the writer's next group. Blocks the calling
    /// thread: for the patient writer, which runs outside the async runtime. Changes that say
    /// which [`SyncEngine::patient_generation`] they were decided against are refused with
    /// [`SyncError::PatientStale`] when the writer holds another.
    pub fn write_patient(&self, writes: PatientWrites) -> Result<()> {
        self.writer.patient_writes_blocking(writes)
    }

    /// How many of patient sync's changes this instance has applied. Patient state read after
    /// this is at least that recent: the count moves only once a change is durable.
    pub fn patient_generation(&self) -> u64 {
        self.state.read().patient_generation
    }

    /// Runs `read` on the directory.
    pub fn with_directory<T>(&self, read: impl FnOnce(&Directory) -> T) -> T {
        read(&self.state.read().directory)
    }

    /// The catalogues the engine routes and completes records by.
    pub fn catalogues(&self) -> &Catalogues {
        &self.catalogues
    }

    /// Applies a push from `site`, all or nothing, durably. Each record's data is first read into
    /// the stored form (here, on the caller's thread, so that the one writer only merges); a value
    /// that is not its field's type refuses the whole push.
    pub async fn push(&self, site: SiteId, mut records: Vec<PushedRecord>) -> Result<PushOutcome> {
        for (n, pushed) in records.iter_mut().enumerate() {
            let record = &pushed.record;
            if !record.sync_type.leaves_record() {
                continue;
            }
            let fields = self.catalogues.fields.table(&record.table).map(|t| &**t);
            let normal = row::normalize(fields, &record.data, self.catalogues.values).map_err(|error| {
                SyncError::BadRecord(format!(
                    "record {} of the push ({} {}): {error}",
                    n + 1,
                    record.table,
                    record.record_id
                ))
            })?;
            pushed.whole_row = normal.whole;
            if let Some(normal) = normal.data {
                pushed.record.data = normal;
            }
        }
        self.health.pushed(site);
        let count = records.len() as u64;
        let outcome = self.writer.push(site, records).await?;
        self.activity.pushed(count);
        Ok(outcome)
    }

    /// Acknowledges outgoing SyncIDs; returns how many records are left in the queue.
    pub async fn acknowledge(&self, site: SiteId, sync_ids: &[&str]) -> Result<u64> {
        if !sync_ids.is_empty() {
            self.health.acknowledged(site);
        }
        let ids: Vec<OutgoingId> = sync_ids.iter().filter_map(|id| OutgoingId::parse(id)).collect();
        if !ids.is_empty() {
            let count = ids.len() as u64;
            self.writer.acknowledge(site, ids).await?;
            self.activity.acknowledged(count);
        }
        Ok(self.count(site))
    }

    /// (Re)starts `site`'s initial dump for a satellite running `client`; returns the number of
    /// records now queued.
    pub async fn initial_dump(&self, site: SiteId, mobile_only: bool, client: ClientKind) -> Result<u64> {
        self.writer.initial_dump(site, mobile_only, client).await?;
        Ok(self.count(site))
    }

    /// Records that `site` syncs with `client` (what it may receive depends on it), when its
    /// queue state says otherwise. Costs a write only when the client changes.
    pub async fn note_client(&self, site: SiteId, client: ClientKind) -> Result<()> {
        let known = {
            let state = self.state.read_recursive();
            state.queues.get(&site).map(|q| q.client).unwrap_or_default()
        };
        if known == client {
            return Ok(());
        }
        self.writer.set_client(site, client).await
    }

    /// Removes the record `sync_id` from `site`'s queue only (the record stays on the primary and
    /// in every other queue), and logs the skip in the same durable write: the entry is what
    /// `log_entry` writes of the record at the time given (unix seconds). Returns the record
    /// skipped. For a record a satellite cannot integrate and so never acknowledges.
    pub async fn skip(
        &self,
        site: SiteId,
        sync_id: &str,
        log_entry: impl FnOnce(&RecordView<'_>, u64) -> String,
    ) -> Result<Outgoing> {
        let not_queued = || SyncError::NotQueued(sync_id.to_string());
        let id = OutgoingId::parse(sync_id).ok_or_else(not_queued)?;
        let record = self.find(site, sync_id)?.ok_or_else(not_queued)?;
        let at = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        let log_entry = log_entry(&record.record(), at.as_secs());
        self.writer.skip(site, id, log_entry, at.as_micros() as u64).await?;
        self.health.skipped(site, sync_id);
        Ok(record)
    }

    /// The skip log of `site` (JSON objects, oldest first).
    pub fn skips(&self, site: SiteId) -> Result<Vec<String>> {
        Ok(self.storage.skips(site)?)
    }

    /// Changes the directory as an operator asks, durably, through the writer like any change:
    /// the changes made, or [`SyncError::Invalid`] with what `plan` refused.
    pub async fn change_directory(&self, plan: DirectoryPlan) -> Result<Vec<DirectoryChange>> {
        self.writer.change_directory(plan, &self.state).await
    }

    /// Binds `site` to `hardware_id` if it is not bound yet; refuses a different binding.
    pub async fn bind_hardware(&self, site: SiteId, hardware_id: &str) -> Result<()> {
        self.writer.bind_hardware(site, hardware_id.to_string()).await
    }

    /// The client `site` syncs with, as its queue state says.
    pub fn client(&self, site: SiteId) -> ClientKind {
        let state = self.state.read_recursive();
        state.queues.get(&site).map(|q| q.client).unwrap_or_default()
    }

    pub fn initialisation(&self, site: SiteId) -> Initialisation {
        let state = self.state.read_recursive();
        match state.queues.get(&site) {
            Some(queue) if queue.dump.is_some() => Initialisation::Started,
            Some(queue) if queue.dump_generation > 0 => Initialisation::Completed,
            _ => Initialisation::New,
        }
    }

    /// How far `site`'s latest initial dump has come, per table (tables it queued nothing of left
    /// out); `None` when the site never initialised, or last initialised before progress was
    /// kept. Reads counts kept in memory, maintained by the writer: no scan.
    pub fn dump_progress(&self, site: SiteId) -> Option<DumpProgress> {
        let state = self.state.read_recursive();
        let progress = state.queues.get(&site).and_then(|queue| queue.progress.clone());
        progress.map(DumpProgress::without_empty_tables)
    }

    /// The number of records `list` would return with no limit.
    pub fn count(&self, site: SiteId) -> u64 {
        // Taken even while the writer waits for the lock: that writer may be waiting for a
        // (niced, preempted) pull to release its read lock, and a count, microseconds long,
        // should not queue behind both.
        self.state.read_recursive().with_view(site, |view| view.count())
    }

    /// Records waiting in every satellite's queue, summed (a record waiting for ten sites counts
    /// ten times), each queue counted as [`SyncEngine::count`] counts it. There is no running
    /// total to read, since a queue is a view and one central change lengthens every queue at
    /// once; so this is one count per site, bitmap arithmetic with the read lock held for that
    /// one count only (the writer never waits for all of them). About 3.5 µs a site mid-dump
    /// (0.14 s for 40,000): for a scrape, not for a request.
    pub fn queued_in_every_queue(&self) -> u64 {
        let sites: Vec<SiteId> = self.with_directory(|directory| {
            directory
                .sites()
                .filter(|site| site.id != directory.primary())
                .map(|site| site.id)
                .collect()
        });
        sites.into_iter().map(|site| self.count(site)).sum()
    }

    /// The first `limit` records of `site`'s queue (reads storage: call off the async runtime).
    pub fn list(&self, site: SiteId, limit: usize) -> Result<Vec<Outgoing>> {
        let (ids, snapshot) = {
            let state = self.state.read();
            (state.with_view(site, |view| view.head(limit)), self.storage.snapshot())
        };
        let records = self.load(&ids, &snapshot)?;
        self.parents_first(site, &ids, records, limit)
    }

    /// The central changes after `cursor` (a log sequence number) that `site` did not push, at
    /// most `limit`, each with its sequence number as its cursor, and the highest such cursor:
    /// the feed open-mSupply reads central data from. A record changed twice appears once, at
    /// its latest cursor. A site's own changes are not echoed back to it (they would overwrite
    /// its newer edits); the highest cursor skips them too, so the feed never answers an empty
    /// page below it.
    pub fn central_after(&self, site: SiteId, cursor: u64, limit: usize) -> Result<(u64, Vec<(u64, Outgoing)>)> {
        let (seqs, max_cursor, snapshot) = {
            let state = self.state.read();
            let central = state.index.changes(index::CENTRAL);
            let own = state.index.own(site);
            let seqs: Vec<u64> = index::merged_after(&[central], cursor)
                .filter(|seq| !own.contains(*seq))
                .take(limit)
                .collect();
            // Never below the cursor asked from (open-mSupply subtracts it): the site's own change
            // may have superseded the entry it last read.
            let max_cursor = central
                .iter()
                .rev()
                .find(|seq| !own.contains(*seq))
                .unwrap_or(0)
                .max(cursor);
            (seqs, max_cursor, self.storage.snapshot())
        };
        let ids: Vec<OutgoingId> = seqs.iter().map(|&seq| OutgoingId::Change { seq }).collect();
        let records = self.load(&ids, &snapshot)?;
        Ok((max_cursor, seqs.into_iter().zip(records).collect()))
    }

    /// The queued record with this outgoing SyncID, if it is in `site`'s queue.
    pub fn find(&self, site: SiteId, sync_id: &str) -> Result<Option<Outgoing>> {
        let Some(id) = OutgoingId::parse(sync_id) else {
            return Ok(None);
        };
        let snapshot = {
            let state = self.state.read();
            if !state.with_view(site, |view| view.contains(id)) {
                return Ok(None);
            }
            self.storage.snapshot()
        };
        Ok(self.load(&[id], &snapshot)?.pop())
    }

    /// Reads the log entries behind `ids` from a snapshot taken while the read lock was held.
    /// Every entry the index named then exists in that snapshot: the writer commits a group
    /// before it updates the index, and deletes superseded entries only in the next group,
    /// after the index stopped naming them. So the lock is not held while reading.
    fn load(&self, ids: &[OutgoingId], snapshot: &S::Snapshot<'_>) -> Result<Vec<Outgoing>> {
        let seqs: Vec<u64> = ids.iter().map(|id| id.seq()).collect();
        let values = snapshot.log_values(&seqs)?;
        let mut out = Vec::with_capacity(ids.len());
        for (id, value) in ids.iter().zip(values) {
            let corrupt = |what: &str| StoreError::Corrupt {
                family: crate::store::cf::LOG,
                detail: format!("indexed entry {} is {what}", id.seq()),
            };
            let value = value.ok_or_else(|| corrupt("missing"))?;
            out.push(Outgoing::new(id.hex(), value).ok_or_else(|| corrupt("unreadable"))?);
        }
        Ok(out)
    }

    /// Whether the writer takes commands (what readiness reports).
    pub fn writer_alive(&self) -> bool {
        self.writer.is_alive()
    }

    /// Stops the writer after the commands already sent to it.
    pub fn shutdown(&self) {
        self.writer.stop();
    }
}
