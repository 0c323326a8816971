//! A second backend, in memory, for tests: it shows that the sync core needs nothing of RocksDB
//! (the conformance suite and the sync engine run on it), and it checks the suite itself against
//! an implementation written apart from the RocksDB one.
//!
//! Committed state is an immutable [`Tables`] behind an `Arc`, replaced whole by each commit, so a
//! snapshot is a clone of the `Arc`. "Durable" here means: in a process-wide registry by path, so
//! that opening the same path again finds what was committed.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use parking_lot::RwLock;

use super::backend::{
    DirectoryReads, DirectoryWrites, IndexReads, IndexWrites, LogReads, LogSnapshot, LogWrites, SyncBatch, SyncStorage,
    WriteRight,
};
use super::{LogEntry, PatientWrites, Result, StoreError};
use crate::domain::directory::{Directory, Operator, Site, Store, User};
use crate::domain::ids::{key_form, SiteId};

/// Everything a database holds; ids in key form wherever the contract says they are one id.
#[derive(Debug, Clone, Default)]
struct Tables {
    log: BTreeMap<u64, Vec<u8>>,
    next_seq: Option<u64>,
    log_position: u64,
    patient_generation: u64,
    gc_pending: Vec<u64>,
    /// Record id → (table, seq).
    records: HashMap<String, (String, u64)>,
    pushed: HashMap<(SiteId, String), u64>,
    joins: BTreeSet<(String, String)>,
    /// (table, parent, record).
    lookups: BTreeSet<(String, String, String)>,
    fingerprint: Option<Vec<u8>>,
    sites: BTreeMap<SiteId, Site>,
    stores: BTreeMap<String, Store>,
    users: BTreeMap<String, User>,
    operators: BTreeMap<String, Operator>,
    queues: BTreeMap<SiteId, Vec<u8>>,
    skips: BTreeMap<(SiteId, u64), String>,
    healths: BTreeMap<SiteId, Vec<u8>>,
    patient_writes: usize,
}

type Shared = Arc<RwLock<Arc<Tables>>>;

pub struct MemoryStorage {
    tables: Shared,
    database: u64,
}

impl MemoryStorage {
    /// Opens the database "at" `path`: the one committed to under that path before in this
    /// process, or an empty one.
    pub fn open(path: &Path) -> (MemoryStorage, WriteRight) {
        static OPENED: OnceLock<Mutex<HashMap<PathBuf, Shared>>> = OnceLock::new();
        let mut opened = OPENED.get_or_init(Default::default).lock().expect("registry");
        let tables = opened.entry(path.to_path_buf()).or_default().clone();
        let (right, database) = WriteRight::issue();
        (MemoryStorage { tables, database }, right)
    }

    fn now(&self) -> Arc<Tables> {
        self.tables.read().clone()
    }
}

impl LogReads for MemoryStorage {
    fn next_seq(&self) -> Result<u64> {
        Ok(self.now().next_seq.unwrap_or(1))
    }

    fn log_position(&self) -> Result<u64> {
        Ok(self.now().log_position)
    }

    fn patient_generation(&self) -> Result<u64> {
        Ok(self.now().patient_generation)
    }

    fn gc_pending(&self) -> Result<Vec<u64>> {
        Ok(self.now().gc_pending.clone())
    }

    fn log_entry(&self, seq: u64) -> Result<Option<LogEntry>> {
        self.now().log.get(&seq).map(|bytes| decode(seq, bytes)).transpose()
    }

    fn log_entries(&self, seqs: &[u64]) -> Result<Vec<Option<LogEntry>>> {
        seqs.iter().map(|seq| self.log_entry(*seq)).collect()
    }

    fn scan_log(&self, mut visit: impl FnMut(u64, LogEntry)) -> Result<()> {
        let tables = self.now();
        for (seq, bytes) in &tables.log {
            if !tables.gc_pending.contains(seq) {
                visit(*seq, decode(*seq, bytes)?);
            }
        }
        Ok(())
    }
}

fn decode(seq: u64, bytes: &[u8]) -> Result<LogEntry> {
    LogEntry::decode(bytes).ok_or_else(|| StoreError::Corrupt {
        family: "log",
        detail: format!("entry {seq}"),
    })
}

impl IndexReads for MemoryStorage {
    fn record_seq(&self, table: &str, record_id: &str) -> Result<Option<u64>> {
        let holder = self.now().records.get(&key_form(record_id)).cloned();
        Ok(super::seq_if_held_by(holder.as_ref(), table))
    }

    fn record_holders(&self, ids: &[&str]) -> Result<Vec<Option<(String, u64)>>> {
        let tables = self.now();
        Ok(ids
            .iter()
            .map(|id| tables.records.get(&key_form(id)).cloned())
            .collect())
    }

    fn pushed_seq(&self, site: SiteId, sync_id: &str) -> Result<Option<u64>> {
        Ok(self.now().pushed.get(&(site, sync_id.to_string())).copied())
    }

    fn pushed_many(&self, site: SiteId, sync_ids: &[&str]) -> Result<Vec<bool>> {
        let tables = self.now();
        Ok(sync_ids
            .iter()
            .map(|id| tables.pushed.contains_key(&(site, id.to_string())))
            .collect())
    }

    fn lookup(&self, table: &str, parent_id: &str) -> Result<Vec<String>> {
        let parent = key_form(parent_id);
        Ok(self
            .now()
            .lookups
            .iter()
            .filter(|(t, p, _)| t == table && *p == parent)
            .map(|(_, _, id)| id.clone())
            .collect())
    }

    fn lookups_fingerprint(&self) -> Result<Option<Vec<u8>>> {
        Ok(self.now().fingerprint.clone())
    }

    fn patient_stores(&self, name_id: &str) -> Result<Vec<String>> {
        let name = key_form(name_id);
        Ok(self
            .now()
            .joins
            .iter()
            .filter(|(n, _)| *n == name)
            .map(|(_, store)| store.clone())
            .collect())
    }
}

impl DirectoryReads for MemoryStorage {
    fn load_directory(&self, primary: SiteId) -> Result<Directory> {
        let tables = self.now();
        let mut directory = Directory::new(primary);
        tables.sites.values().for_each(|s| directory.put_site(s.clone()));
        tables.stores.values().for_each(|s| directory.put_store(s.clone()));
        tables.users.values().for_each(|u| directory.put_user(u.clone()));
        tables
            .operators
            .values()
            .for_each(|o| directory.put_operator(o.clone()));
        Ok(directory)
    }

    fn site_queue(&self, site: SiteId) -> Result<Option<Vec<u8>>> {
        Ok(self.now().queues.get(&site).cloned())
    }

    fn site_queues(&self) -> Result<Vec<(SiteId, Vec<u8>)>> {
        Ok(self.now().queues.iter().map(|(s, q)| (*s, q.clone())).collect())
    }

    fn site_healths(&self) -> Result<Vec<(SiteId, Vec<u8>)>> {
        Ok(self.now().healths.iter().map(|(s, h)| (*s, h.clone())).collect())
    }

    fn skips(&self, site: SiteId) -> Result<Vec<String>> {
        Ok(self
            .now()
            .skips
            .range((site, 0)..=(site, u64::MAX))
            .map(|(_, entry)| entry.clone())
            .collect())
    }
}

/// One change of a batch, applied to the tables at the commit.
type Change = Box<dyn FnOnce(&mut Tables) + Send>;

/// A batch: its changes, applied in order at the commit.
#[derive(Default)]
pub struct MemoryBatch {
    changes: Vec<Change>,
}

impl MemoryBatch {
    fn change(&mut self, change: impl FnOnce(&mut Tables) + Send + 'static) {
        self.changes.push(Box::new(change));
    }
}

impl LogWrites for MemoryBatch {
    fn put_log(&mut self, seq: u64, entry: &LogEntry) {
        let bytes = entry.encode();
        self.change(move |t| {
            t.log.insert(seq, bytes);
        });
    }

    fn delete_log(&mut self, seq: u64) {
        self.change(move |t| {
            t.log.remove(&seq);
        });
    }

    fn put_next_seq(&mut self, next: u64) {
        self.change(move |t| t.next_seq = Some(next));
    }

    fn put_log_position(&mut self, position: u64) {
        self.change(move |t| t.log_position = position);
    }

    fn put_patient_generation(&mut self, generation: u64) {
        self.change(move |t| t.patient_generation = generation);
    }

    fn put_gc_pending(&mut self, seqs: &[u64]) {
        let seqs = seqs.to_vec();
        self.change(move |t| t.gc_pending = seqs);
    }
}

impl IndexWrites for MemoryBatch {
    fn put_record_seq(&mut self, table: &str, record_id: &str, seq: u64) {
        let (id, table) = (key_form(record_id), table.to_string());
        self.change(move |t| {
            t.records.insert(id, (table, seq));
        });
    }

    fn put_pushed(&mut self, site: SiteId, sync_id: &str, seq: u64) {
        let id = sync_id.to_string();
        self.change(move |t| {
            t.pushed.insert((site, id), seq);
        });
    }

    fn put_join(&mut self, name_id: &str, store_id: &str) {
        let join = (key_form(name_id), key_form(store_id));
        self.change(move |t| {
            t.joins.insert(join);
        });
    }

    fn delete_join(&mut self, name_id: &str, store_id: &str) {
        let join = (key_form(name_id), key_form(store_id));
        self.change(move |t| {
            t.joins.remove(&join);
        });
    }

    fn put_lookup(&mut self, table: &str, parent_id: &str, record_id: &str) {
        let lookup = (table.to_string(), key_form(parent_id), key_form(record_id));
        self.change(move |t| {
            t.lookups.insert(lookup);
        });
    }

    fn delete_lookup(&mut self, table: &str, parent_id: &str, record_id: &str) {
        let lookup = (table.to_string(), key_form(parent_id), key_form(record_id));
        self.change(move |t| {
            t.lookups.remove(&lookup);
        });
    }

    fn mark_lookups_built(&mut self, fingerprint: &[u8]) {
        let fingerprint = fingerprint.to_vec();
        self.change(move |t| t.fingerprint = Some(fingerprint));
    }

    fn clear_lookups(&mut self) {
        self.change(|t| t.lookups.clear());
    }
}

impl DirectoryWrites for MemoryBatch {
    fn put_skip(&mut self, site: SiteId, at_micros: u64, entry: &str) {
        let entry = entry.to_string();
        self.change(move |t| {
            t.skips.insert((site, at_micros), entry);
        });
    }

    fn put_site_queue(&mut self, site: SiteId, state: &[u8]) {
        let state = state.to_vec();
        self.change(move |t| {
            t.queues.insert(site, state);
        });
    }

    fn put_site(&mut self, site: &Site) {
        let site = site.clone();
        self.change(move |t| {
            t.sites.insert(site.id, site);
        });
    }

    fn put_store(&mut self, store: &Store) {
        let store = store.clone();
        self.change(move |t| {
            t.stores.insert(key_form(&store.id), store);
        });
    }

    fn put_user(&mut self, user: &User) {
        let user = user.clone();
        self.change(move |t| {
            t.users.insert(user.name.clone(), user);
        });
    }

    fn put_operator(&mut self, operator: &Operator) {
        let operator = operator.clone();
        self.change(move |t| {
            t.operators.insert(operator.name.clone(), operator);
        });
    }

    fn delete_site(&mut self, site: SiteId) {
        self.change(move |t| {
            t.sites.remove(&site);
            t.queues.remove(&site);
            t.healths.remove(&site);
        });
    }

    fn delete_store(&mut self, store_id: &str) {
        let key = key_form(store_id);
        self.change(move |t| {
            t.stores.remove(&key);
        });
    }

    fn put_site_health(&mut self, site: SiteId, health: &[u8]) {
        let health = health.to_vec();
        self.change(move |t| {
            t.healths.insert(site, health);
        });
    }
}

impl SyncBatch for MemoryBatch {
    /// Patient sync reads RocksDB only: here its changes are counted, not kept.
    fn put_patient_writes(&mut self, writes: PatientWrites) {
        let some = usize::from(!writes.is_empty());
        self.change(move |t| t.patient_writes += some);
    }
}

impl SyncStorage for MemoryStorage {
    type Batch<'a> = MemoryBatch;
    type Snapshot<'a> = MemorySnapshot;

    fn batch(&self) -> MemoryBatch {
        MemoryBatch::default()
    }

    fn snapshot(&self) -> MemorySnapshot {
        MemorySnapshot(self.now())
    }

    fn commit(&self, right: &WriteRight, batch: MemoryBatch) -> Result<()> {
        if !right.is_for(self.database) {
            return Err(StoreError::NotTheWriter);
        }
        let mut current = self.tables.write();
        let mut next = Tables::clone(&current);
        batch.changes.into_iter().for_each(|change| change(&mut next));
        *current = Arc::new(next);
        Ok(())
    }
}

pub struct MemorySnapshot(Arc<Tables>);

impl LogSnapshot for MemorySnapshot {
    fn log_values(&self, seqs: &[u64]) -> Result<Vec<Option<Vec<u8>>>> {
        Ok(seqs.iter().map(|seq| self.0.log.get(seq).cloned()).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::directory::Site;
    use crate::domain::record::{PushedRecord, SyncRecord, SyncType};
    use crate::sync::{Catalogues, SyncEngine};

    #[test]
    fn the_memory_backend_conforms() {
        super::super::conformance::check(MemoryStorage::open);
    }

    fn unit(id: &str) -> PushedRecord {
        PushedRecord::new(
            format!("SYNC-{id}"),
            SyncRecord {
                table: "unit".to_string(),
                record_id: id.to_string(),
                sync_type: SyncType::Update,
                store_id: String::new(),
                key_field_id: String::new(),
                merge_id_to_keep: String::new(),
                merge_id_to_delete: String::new(),
                data: format!("{{\"ID\":\"{id}\",\"units\":\"box\"}}").into_bytes(),
            },
        )
    }

    /// The sync engine, unchanged, over the memory backend: a push from one site reaches the
    /// other's queue, once, and is gone when acknowledged; a re-sent push changes nothing.
    #[tokio::test]
    async fn the_sync_engine_runs_on_it() {
        let dir = tempfile::tempdir().unwrap();
        let (storage, right) = MemoryStorage::open(dir.path());
        let mut batch = storage.batch();
        batch.put_site(&Site::for_test(SiteId(2), &[]));
        batch.put_site(&Site::for_test(SiteId(3), &[]));
        storage.commit(&right, batch).unwrap();
        let engine = SyncEngine::open(storage, right, Catalogues::builtin(), SiteId(1)).unwrap();
        let (writer, reader) = (SiteId(2), SiteId(3));

        let outcome = engine.push(writer, vec![unit("U1"), unit("U2")]).await.unwrap();
        assert_eq!(outcome.applied, 2);
        assert_eq!(engine.count(reader), 2);
        assert_eq!(engine.count(writer), 0, "its own pushes are not sent back");
        let again = engine.push(writer, vec![unit("U1")]).await.unwrap();
        assert_eq!(again.applied, 0, "a re-sent push is recognised");

        let pulled = engine.list(reader, 10).unwrap();
        let ids: Vec<&str> = pulled.iter().map(|o| o.record().record_id).collect();
        assert_eq!(ids, ["U1", "U2"]);
        let row = String::from_utf8_lossy(pulled[0].record().data).into_owned();
        assert!(row.contains("\"units\":\"box\""), "the pushed field is kept: {row}");
        let sync_ids: Vec<&str> = pulled.iter().map(|o| o.sync_id()).collect();
        assert_eq!(engine.acknowledge(reader, &sync_ids).await.unwrap(), 0);
        assert!(engine.list(reader, 10).unwrap().is_empty());
        engine.shutdown();
    }
}
