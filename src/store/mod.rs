//! The only code that knows RocksDB.
//!
//! [`Storage`] offers the narrow set of operations the sync layer needs (read an entry, read a
//! record's position, write a [`Batch`] durably, scan the log at start-up); nothing above this
//! module sees a RocksDB type. A second backend implements the same operations. Every key is built
//! in [`keys`], every column family and all tuning is in [`cf`]; patient sync's reads and writes
//! are in `patient.rs`.

pub mod cf;
pub mod keys;
pub mod log_entry;
mod patient;

use std::path::Path;

use rocksdb::{Direction, IteratorMode, WriteBatch, WriteOptions, DB};

use crate::domain::directory::{Directory, Site, Store, User};
use crate::domain::ids::SiteId;
pub use log_entry::LogEntry;
pub use patient::StoredPatientRecord;

/// The on-disk format this build reads and writes.
pub const FORMAT_VERSION: u32 = 2;

#[derive(Debug, Clone, thiserror::Error)]
pub enum StoreError {
    /// RocksDB reported an error (I/O, corruption, lock held by another process).
    #[error("storage: {0}")]
    Rocks(#[from] rocksdb::Error),
    /// The database was written by a different, incompatible format version.
    #[error("database format version {found} is not the supported version {FORMAT_VERSION}")]
    FormatVersion { found: u32 },
    /// A write could not be completed; nothing of it was applied.
    #[error("write failed: {0}")]
    WriteFailed(String),
    /// A stored value could not be decoded.
    #[error("corrupt value in {family}: {detail}")]
    Corrupt { family: &'static str, detail: String },
}

pub type Result<T> = std::result::Result<T, StoreError>;

/// The embedded RocksDB backend.
pub struct Storage {
    db: DB,
}

impl Storage {
    /// Opens (or creates) the database in `path`, checking its format version.
    pub fn open(path: &Path, block_cache_mib: usize) -> Result<Storage> {
        let (options, families) = cf::options(block_cache_mib)?;
        let db = DB::open_cf_descriptors(&options, path, families)?;
        let storage = Storage { db };
        match storage.db.get_cf(storage.cf(cf::META), keys::META_FORMAT_VERSION)? {
            Some(bytes) => {
                let found = u32::from_be_bytes(
                    bytes
                        .as_slice()
                        .try_into()
                        .map_err(|_| corrupt(cf::META, "format version"))?,
                );
                if found == 1 {
                    storage.migrate_record_index()?;
                } else if found != FORMAT_VERSION {
                    return Err(StoreError::FormatVersion { found });
                }
            }
            None => {
                let mut batch = storage.batch();
                batch.inner.put_cf(
                    storage.cf(cf::META),
                    keys::META_FORMAT_VERSION,
                    FORMAT_VERSION.to_be_bytes(),
                );
                storage.commit(batch)?;
            }
        }
        Ok(storage)
    }

    /// Format 1 keyed `record_index` by (table, id) with the seq as value; format 2 keys it by
    /// id alone, with the seq and the table. Every old key is rewritten, in chunks; a crash
    /// half-way leaves both kinds, and the next open finishes (old keys hold a 0 byte, ids do
    /// not). Where two tables held one id, the older record keeps it: the other stays in the log
    /// and in the queues, no longer found by id, and is named in a warning.
    fn migrate_record_index(&self) -> Result<()> {
        let family = self.cf(cf::RECORD_INDEX);
        let mut old: Vec<(Vec<u8>, u64)> = Vec::new();
        for item in self.db.iterator_cf(family, IteratorMode::Start) {
            let (key, value) = item?;
            if key.contains(&0) {
                old.push((key.to_vec(), decode_seq(&value, cf::RECORD_INDEX)?));
            }
        }
        old.sort_by_key(|(_, seq)| *seq);
        tracing::info!(records = old.len(), "re-keying the record index by id (format 1 to 2)");
        let mut kept: std::collections::HashMap<Vec<u8>, String> = std::collections::HashMap::new();
        for chunk in old.chunks(10_000) {
            let mut batch = self.batch();
            for (key, seq) in chunk {
                let (table, id) = keys::parse_record_key(key).ok_or_else(|| corrupt(cf::RECORD_INDEX, "key"))?;
                let new_key = keys::record_index_key(id);
                match kept.get(&new_key) {
                    Some(holder) => {
                        tracing::warn!(table, id, holder = %holder, "an id two tables held stays with the older record")
                    }
                    None => {
                        batch.put_record_seq(table, id, *seq);
                        kept.insert(new_key, table.to_string());
                    }
                }
                batch.inner.delete_cf(family, key);
            }
            self.commit(batch)?;
        }
        let mut batch = self.batch();
        batch.inner.put_cf(
            self.cf(cf::META),
            keys::META_FORMAT_VERSION,
            FORMAT_VERSION.to_be_bytes(),
        );
        self.commit(batch)
    }

    fn cf(&self, name: &str) -> &rocksdb::ColumnFamily {
        self.db.cf_handle(name).expect("every column family is created on open")
    }

    pub fn batch(&self) -> Batch<'_> {
        Batch {
            storage: self,
            inner: WriteBatch::default(),
        }
    }

    /// Writes `batch` atomically and durably: when this returns, the WAL is on disk.
    pub fn commit(&self, batch: Batch<'_>) -> Result<()> {
        let mut options = WriteOptions::default();
        options.set_sync(true);
        self.db.write_opt(batch.inner, &options)?;
        Ok(())
    }

    // ---- directory ----

    /// Every site, store and user.
    pub fn load_directory(&self, primary: SiteId) -> Result<Directory> {
        let mut directory = Directory::new(primary);
        for item in self.db.iterator_cf(self.cf(cf::DIRECTORY), IteratorMode::Start) {
            let (key, value) = item?;
            let bad = |what: &str| corrupt(cf::DIRECTORY, what);
            match key.first() {
                Some(&keys::DIRECTORY_SITE) => {
                    directory.put_site(serde_json::from_slice::<Site>(&value).map_err(|_| bad("site"))?)
                }
                Some(&keys::DIRECTORY_STORE) => {
                    directory.put_store(serde_json::from_slice::<Store>(&value).map_err(|_| bad("store"))?)
                }
                Some(&keys::DIRECTORY_USER) => {
                    directory.put_user(serde_json::from_slice::<User>(&value).map_err(|_| bad("user"))?)
                }
                _ => return Err(bad("unknown key kind")),
            }
        }
        Ok(directory)
    }

    // ---- log and records ----

    pub fn next_seq(&self) -> Result<u64> {
        match self.db.get_cf(self.cf(cf::META), keys::META_NEXT_SEQ)? {
            Some(bytes) => Ok(u64::from_be_bytes(
                bytes.as_slice().try_into().map_err(|_| corrupt(cf::META, "next_seq"))?,
            )),
            None => Ok(1),
        }
    }

    /// Log entries that the last write superseded and the next write deletes.
    pub fn gc_pending(&self) -> Result<Vec<u64>> {
        let bytes = self
            .db
            .get_cf(self.cf(cf::META), keys::META_GC_PENDING)?
            .unwrap_or_default();
        Ok(bytes
            .chunks_exact(8)
            .map(|c| u64::from_be_bytes(c.try_into().expect("chunks of 8")))
            .collect())
    }

    pub fn log_entry(&self, seq: u64) -> Result<Option<LogEntry>> {
        match self.db.get_pinned_cf(self.cf(cf::LOG), keys::log_key(seq))? {
            Some(bytes) => Ok(Some(decode_log_entry(seq, &bytes)?)),
            None => Ok(None),
        }
    }

    /// Compacts every column family fully. After a bulk load, so that the first satellites do
    /// not pay for reading through the overlapping files a load leaves behind (a dump of the
    /// fresh standard data set ran at half speed until background compaction caught up).
    pub fn compact(&self) {
        for family in cf::ALL {
            self.db.compact_range_cf(self.cf(family), None::<&[u8]>, None::<&[u8]>);
        }
    }

    /// A consistent view of the database as it is now, for reads that must not hold a lock.
    pub fn snapshot(&self) -> Snapshot<'_> {
        Snapshot {
            storage: self,
            inner: self.db.snapshot(),
        }
    }

    /// The encoded log entries at `seqs`, in the same order (one multi-get).
    fn log_values_by_key(&self, seqs: &[u64], options: &rocksdb::ReadOptions) -> Result<Vec<Option<Vec<u8>>>> {
        let family = self.cf(cf::LOG);
        let keys: Vec<[u8; 8]> = seqs.iter().map(|s| keys::log_key(*s)).collect();
        let mut out = Vec::with_capacity(seqs.len());
        for value in self.db.batched_multi_get_cf_opt(family, &keys, false, options) {
            out.push(value?.map(|bytes| bytes.to_vec()));
        }
        Ok(out)
    }

    /// The encoded log entries at `seqs`, in the same order, read by one scan of the range they
    /// span: when they are most of that range (a dump part, a busy queue) this is several times
    /// cheaper than looking each one up, as consecutive entries share data blocks.
    fn log_values_by_scan(&self, seqs: &[u64], mut options: rocksdb::ReadOptions) -> Result<Vec<Option<Vec<u8>>>> {
        // A pull crossing from one table to the next is ascending runs, not one: scan in order
        // and put each value back in its place.
        let mut order: Vec<usize> = (0..seqs.len()).collect();
        order.sort_unstable_by_key(|&i| seqs[i]);
        let (Some(&first), Some(&last)) = (order.first(), order.last()) else {
            return Ok(Vec::new());
        };
        options.set_iterate_lower_bound(keys::log_key(seqs[first]).to_vec());
        options.set_iterate_upper_bound(keys::log_key(seqs[last] + 1).to_vec());
        let mut out: Vec<Option<Vec<u8>>> = vec![None; seqs.len()];
        let mut wanted = order.into_iter().peekable();
        let mut iter = self.db.raw_iterator_cf_opt(self.cf(cf::LOG), options);
        iter.seek_to_first();
        while let (Some(&slot), true) = (wanted.peek(), iter.valid()) {
            let key = iter.key().unwrap_or_default();
            let seq = keys::parse_log_key(key).ok_or_else(|| corrupt(cf::LOG, "key"))?;
            if seq < seqs[slot] {
                iter.next();
                continue;
            }
            wanted.next();
            if seq == seqs[slot] {
                out[slot] = iter.value().map(<[u8]>::to_vec);
            }
        }
        iter.status()?;
        Ok(out)
    }

    /// Calls `visit` for every current log entry in sequence order (entries already superseded
    /// and waiting for deletion are skipped).
    pub fn scan_log(&self, mut visit: impl FnMut(u64, LogEntry)) -> Result<()> {
        let superseded: std::collections::HashSet<u64> = self.gc_pending()?.into_iter().collect();
        for item in self.db.iterator_cf(self.cf(cf::LOG), IteratorMode::Start) {
            let (key, value) = item?;
            let seq = keys::parse_log_key(&key).ok_or_else(|| corrupt(cf::LOG, "key"))?;
            if superseded.contains(&seq) {
                continue;
            }
            visit(seq, decode_log_entry(seq, &value)?);
        }
        Ok(())
    }

    /// The sequence number of a record's latest entry.
    pub fn record_seq(&self, table: &str, record_id: &str) -> Result<Option<u64>> {
        let value = self
            .db
            .get_pinned_cf(self.cf(cf::RECORD_INDEX), keys::record_index_key(record_id))?;
        let holder = value.map(|b| decode_holder(&b)).transpose()?;
        Ok(seq_if_held_by(holder.as_ref(), table))
    }

    /// The sequence number a push with this SyncID from this site was applied at, if it was.
    pub fn pushed_seq(&self, site: SiteId, sync_id: &str) -> Result<Option<u64>> {
        let value = self
            .db
            .get_pinned_cf(self.cf(cf::PUSHED), keys::pushed_key(site, sync_id))?;
        value.map(|b| decode_seq(&b, cf::PUSHED)).transpose()
    }

    /// Of these `pushed` keys ([`keys::pushed_key`]), which were applied: one multi-get.
    pub fn pushed_many(&self, pushed_keys: &[Vec<u8>]) -> Result<Vec<bool>> {
        let values = self.db.batched_multi_get_cf(self.cf(cf::PUSHED), pushed_keys, false);
        values.into_iter().map(|v| Ok(v?.is_some())).collect()
    }

    /// Which table holds each of these ids, and the seq of its latest entry: one multi-get.
    pub fn record_holders(&self, ids: &[&str]) -> Result<Vec<Option<(String, u64)>>> {
        let id_keys: Vec<Vec<u8>> = ids.iter().map(|id| keys::record_index_key(id)).collect();
        let values = self.db.batched_multi_get_cf(self.cf(cf::RECORD_INDEX), &id_keys, false);
        values
            .into_iter()
            .map(|v| v?.map(|b| decode_holder(&b)).transpose())
            .collect()
    }

    /// The seqs of the latest entries of these (table, id) records: one multi-get.
    pub fn record_seqs(&self, records: &[(&str, &str)]) -> Result<Vec<Option<u64>>> {
        let ids: Vec<&str> = records.iter().map(|(_, id)| *id).collect();
        let holders = self.record_holders(&ids)?;
        Ok(records
            .iter()
            .zip(holders)
            .map(|((table, _), holder)| seq_if_held_by(holder.as_ref(), table))
            .collect())
    }

    /// The log entries at `seqs`, in the same order: one multi-get.
    pub fn log_entries(&self, seqs: &[u64]) -> Result<Vec<Option<LogEntry>>> {
        let values = self.log_values_by_key(seqs, &rocksdb::ReadOptions::default())?;
        seqs.iter()
            .zip(values)
            .map(|(seq, v)| v.map(|b| decode_log_entry(*seq, &b)).transpose())
            .collect()
    }

    /// The ids (key form) of the `table` records that refer to `parent_id` (see [`cf::LOOKUPS`]).
    pub fn lookup(&self, table: &str, parent_id: &str) -> Result<Vec<String>> {
        let prefix = keys::lookup_prefix(table, parent_id);
        let mut ids = Vec::new();
        self.scan_prefix(cf::LOOKUPS, &prefix, |key, _| {
            let id = &key[prefix.len()..];
            ids.push(String::from_utf8(id.to_vec()).map_err(|_| corrupt(cf::LOOKUPS, "key"))?);
            Ok(())
        })?;
        Ok(ids)
    }

    /// What the `lookups` family was built for (see `sync::lookups::Lookups::fingerprint`);
    /// `None` if it never was.
    pub fn lookups_fingerprint(&self) -> Result<Option<Vec<u8>>> {
        Ok(self.db.get_cf(self.cf(cf::META), keys::META_LOOKUPS_BUILT)?)
    }

    /// The current entry of a record, if it has one.
    pub fn current(&self, table: &str, record_id: &str) -> Result<Option<LogEntry>> {
        match self.record_seq(table, record_id)? {
            Some(seq) => self.log_entry(seq),
            None => Ok(None),
        }
    }

    /// The skip log of `site`, oldest first.
    pub fn skips(&self, site: SiteId) -> Result<Vec<String>> {
        let mut entries = Vec::new();
        self.scan_prefix(cf::META, &keys::skip_prefix(site), |_, value| {
            entries.push(String::from_utf8(value.to_vec()).map_err(|_| corrupt(cf::META, "skip log entry"))?);
            Ok(())
        })?;
        Ok(entries)
    }

    /// Calls `visit` with (key, value) for every key of `family` that starts with `prefix`.
    fn scan_prefix(
        &self,
        family: &'static str,
        prefix: &[u8],
        mut visit: impl FnMut(&[u8], &[u8]) -> Result<()>,
    ) -> Result<()> {
        let mode = IteratorMode::From(prefix, Direction::Forward);
        for item in self.db.iterator_cf(self.cf(family), mode) {
            let (key, value) = item?;
            if !key.starts_with(prefix) {
                break;
            }
            visit(&key, &value)?;
        }
        Ok(())
    }

    /// The store ids (key form) a patient is joined to.
    pub fn patient_stores(&self, name_id: &str) -> Result<Vec<String>> {
        let mut stores = Vec::new();
        self.scan_prefix(cf::PATIENT_JOINS, &keys::join_prefix(name_id), |key, _| {
            let (_, store) = keys::parse_join_key(key).ok_or_else(|| corrupt(cf::PATIENT_JOINS, "key"))?;
            stores.push(store.to_string());
            Ok(())
        })?;
        Ok(stores)
    }

    /// One satellite's stored queue state, undecoded.
    pub fn site_queue(&self, site: SiteId) -> Result<Option<Vec<u8>>> {
        Ok(self.db.get_cf(self.cf(cf::SITE_QUEUES), keys::site_queue_key(site))?)
    }

    /// Every stored satellite queue state, undecoded.
    pub fn site_queues(&self) -> Result<Vec<(SiteId, Vec<u8>)>> {
        let mut out = Vec::new();
        for item in self.db.iterator_cf(self.cf(cf::SITE_QUEUES), IteratorMode::Start) {
            let (key, value) = item?;
            let site = keys::parse_site_queue_key(&key).ok_or_else(|| corrupt(cf::SITE_QUEUES, "key"))?;
            out.push((site, value.to_vec()));
        }
        Ok(out)
    }
}

fn decode_seq(bytes: &[u8], family: &'static str) -> Result<u64> {
    Ok(u64::from_be_bytes(
        bytes.try_into().map_err(|_| corrupt(family, "sequence number"))?,
    ))
}

/// The seq of a record of `table`, from the holder of its id (another table's record is not it).
pub fn seq_if_held_by(holder: Option<&(String, u64)>, table: &str) -> Option<u64> {
    holder.filter(|(held_by, _)| held_by == table).map(|(_, seq)| *seq)
}

/// A `record_index` value: the seq (8 bytes, big-endian), then the table's name.
fn decode_holder(bytes: &[u8]) -> Result<(String, u64)> {
    let (seq, table) = bytes
        .split_at_checked(8)
        .ok_or_else(|| corrupt(cf::RECORD_INDEX, "value"))?;
    let table = std::str::from_utf8(table).map_err(|_| corrupt(cf::RECORD_INDEX, "table"))?;
    Ok((table.to_string(), decode_seq(seq, cf::RECORD_INDEX)?))
}

fn corrupt(family: &'static str, detail: &str) -> StoreError {
    StoreError::Corrupt {
        family,
        detail: detail.to_string(),
    }
}

/// A point-in-time view of the database (see [`Storage::snapshot`]).
pub struct Snapshot<'a> {
    storage: &'a Storage,
    inner: rocksdb::Snapshot<'a>,
}

impl Snapshot<'_> {
    /// The encoded log entries at `seqs` as they were when the snapshot was taken (decode them
    /// with [`LogEntry::decode`], or read them in place with [`log_entry::record_view`]).
    pub fn log_values(&self, seqs: &[u64]) -> Result<Vec<Option<Vec<u8>>>> {
        let mut options = rocksdb::ReadOptions::default();
        options.set_snapshot(&self.inner);
        if is_dense(seqs) {
            self.storage.log_values_by_scan(seqs, options)
        } else {
            self.storage.log_values_by_key(seqs, &options)
        }
    }
}

/// Whether `seqs` fill at least an eighth of the range they span: then one scan costs
/// less than a lookup per entry (measured with `cargo bench --bench sync -- pull`).
fn is_dense(seqs: &[u64]) -> bool {
    let (Some(first), Some(last)) = (seqs.iter().min(), seqs.iter().max()) else {
        return false;
    };
    seqs.len() >= 16 && (last - first) / 8 < seqs.len() as u64
}

fn decode_log_entry(seq: u64, bytes: &[u8]) -> Result<LogEntry> {
    LogEntry::decode(bytes).ok_or_else(|| corrupt(cf::LOG, &format!("entry {seq}")))
}

/// Changes written together, atomically, by [`Storage::commit`].
pub struct Batch<'a> {
    storage: &'a Storage,
    inner: WriteBatch,
}

impl Batch<'_> {
    fn put(&mut self, family: &str, key: impl AsRef<[u8]>, value: impl AsRef<[u8]>) {
        self.inner.put_cf(self.storage.cf(family), key, value);
    }

    fn delete(&mut self, family: &str, key: impl AsRef<[u8]>) {
        self.inner.delete_cf(self.storage.cf(family), key);
    }

    pub fn put_log(&mut self, seq: u64, entry: &LogEntry) {
        self.put(cf::LOG, keys::log_key(seq), entry.encode());
    }

    pub fn delete_log(&mut self, seq: u64) {
        self.delete(cf::LOG, keys::log_key(seq));
    }

    /// Notes that `table` holds `record_id`, its latest entry at `seq`.
    pub fn put_record_seq(&mut self, table: &str, record_id: &str, seq: u64) {
        let mut value = Vec::with_capacity(8 + table.len());
        value.extend_from_slice(&seq.to_be_bytes());
        value.extend_from_slice(table.as_bytes());
        self.put(cf::RECORD_INDEX, keys::record_index_key(record_id), value);
    }

    pub fn put_pushed(&mut self, site: SiteId, sync_id: &str, seq: u64) {
        self.put(cf::PUSHED, keys::pushed_key(site, sync_id), seq.to_be_bytes());
    }

    pub fn put_join(&mut self, name_id: &str, store_id: &str) {
        self.put(cf::PATIENT_JOINS, keys::join_key(name_id, store_id), []);
    }

    pub fn delete_join(&mut self, name_id: &str, store_id: &str) {
        self.delete(cf::PATIENT_JOINS, keys::join_key(name_id, store_id));
    }

    pub fn put_next_seq(&mut self, next: u64) {
        self.put(cf::META, keys::META_NEXT_SEQ, next.to_be_bytes());
    }

    pub fn put_gc_pending(&mut self, seqs: &[u64]) {
        let bytes: Vec<u8> = seqs.iter().flat_map(|s| s.to_be_bytes()).collect();
        self.put(cf::META, keys::META_GC_PENDING, bytes);
    }

    pub fn put_lookup(&mut self, table: &str, parent_id: &str, record_id: &str) {
        self.put(cf::LOOKUPS, keys::lookup_key(table, parent_id, record_id), []);
    }

    pub fn delete_lookup(&mut self, table: &str, parent_id: &str, record_id: &str) {
        self.delete(cf::LOOKUPS, keys::lookup_key(table, parent_id, record_id));
    }

    /// Records that `lookups` holds an entry for every stored record under the references
    /// `fingerprint` names.
    pub fn mark_lookups_built(&mut self, fingerprint: &[u8]) {
        self.put(cf::META, keys::META_LOOKUPS_BUILT, fingerprint);
    }

    /// Empties the `lookups` family (before it is built again for other references).
    pub fn clear_lookups(&mut self) {
        // Keys start with a table name, which is text: every key sorts between these two.
        self.inner
            .delete_range_cf(self.storage.cf(cf::LOOKUPS), [0x00u8].as_slice(), [0xFFu8].as_slice());
    }

    /// One entry of the skip log (see [`keys::skip_key`]); `entry` is the operator-readable text.
    pub fn put_skip(&mut self, site: SiteId, at_micros: u64, entry: &str) {
        self.put(cf::META, keys::skip_key(site, at_micros), entry);
    }

    pub fn put_site_queue(&mut self, site: SiteId, state: &[u8]) {
        self.put(cf::SITE_QUEUES, keys::site_queue_key(site), state);
    }

    pub fn put_site(&mut self, site: &Site) {
        self.put(
            cf::DIRECTORY,
            keys::site_key(site.id),
            serde_json::to_vec(site).expect("sites serialise"),
        );
    }

    pub fn put_store(&mut self, store: &Store) {
        self.put(
            cf::DIRECTORY,
            keys::store_key(&store.id),
            serde_json::to_vec(store).expect("stores serialise"),
        );
    }

    pub fn put_user(&mut self, user: &User) {
        self.put(
            cf::DIRECTORY,
            keys::user_key(&user.name),
            serde_json::to_vec(user).expect("users serialise"),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::record::{SyncRecord, SyncType};

    fn entry(seq: u64) -> LogEntry {
        LogEntry {
            origin: SiteId(seq as u32 % 7),
            audiences: Vec::new(),
            record: SyncRecord {
                table: "item".to_string(),
                record_id: format!("{seq:032X}"),
                sync_type: SyncType::Update,
                store_id: String::new(),
                key_field_id: String::new(),
                merge_id_to_keep: String::new(),
                merge_id_to_delete: String::new(),
                data: format!("{{\"n\":{seq}}}").into_bytes(),
            },
        }
    }

    /// Both read paths (one scan of a dense range, a lookup per entry) give the same answer,
    /// including for entries that are not there, at either end and in between.
    #[test]
    fn dense_and_sparse_reads_agree() {
        let dir = tempfile::tempdir().unwrap();
        let storage = Storage::open(dir.path(), 8).unwrap();
        let mut batch = storage.batch();
        for seq in (10..400).filter(|s| s % 5 != 0) {
            batch.put_log(seq, &entry(seq));
        }
        storage.commit(batch).unwrap();
        let snapshot = storage.snapshot();
        let cases: Vec<Vec<u64>> = vec![
            (5..420).collect(),
            (10..200).collect(),
            (100..180).filter(|s| s % 3 != 0).collect(),
            vec![11, 12, 500, 501, 900],
            (0..40).map(|i| i * 97 % 400).collect(),
            (300..350).chain(20..40).chain(100..120).collect(),
            (20..40).chain(25..45).collect(),
        ];
        for seqs in cases {
            let expected: Vec<Option<LogEntry>> = seqs.iter().map(|s| storage.log_entry(*s).unwrap()).collect();
            let decoded = |values: Vec<Option<Vec<u8>>>| -> Vec<Option<LogEntry>> {
                values
                    .iter()
                    .map(|v| v.as_ref().and_then(|b| LogEntry::decode(b)))
                    .collect()
            };
            assert_eq!(decoded(snapshot.log_values(&seqs).unwrap()), expected, "{seqs:?}");
            let mut options = rocksdb::ReadOptions::default();
            options.set_snapshot(&snapshot.inner);
            assert_eq!(decoded(storage.log_values_by_key(&seqs, &options).unwrap()), expected);
        }
        assert!(is_dense(&(10..200).collect::<Vec<_>>()));
        assert!(!is_dense(&[11, 12, 500, 501, 900]));
    }

    /// A format-1 database (record index keyed by table and id) opens re-keyed by id: every
    /// record found again under its table, an id two tables held kept by the older, a half-done
    /// migration finished, and the version written.
    #[test]
    fn a_format_1_record_index_is_rekeyed_by_id() {
        let dir = tempfile::tempdir().unwrap();
        {
            let storage = Storage::open(dir.path(), 8).unwrap();
            let family = storage.cf(cf::RECORD_INDEX);
            let mut batch = storage.batch();
            for (table, id, seq) in [
                ("item", "a1", 5u64),
                ("unit", "U1", 6),
                ("name", "A1", 9),
                ("item", "i2", 7),
            ] {
                batch
                    .inner
                    .put_cf(family, keys::record_key(table, id), seq.to_be_bytes());
            }
            // A migration interrupted after its first chunk: one key already in the new form.
            batch.put_record_seq("store", "S1", 3);
            batch
                .inner
                .put_cf(storage.cf(cf::META), keys::META_FORMAT_VERSION, 1u32.to_be_bytes());
            storage.commit(batch).unwrap();
        }
        let storage = Storage::open(dir.path(), 8).unwrap();
        assert_eq!(
            storage.record_seq("item", "A1").unwrap(),
            Some(5),
            "the older keeps the id"
        );
        assert_eq!(storage.record_seq("name", "a1").unwrap(), None);
        assert_eq!(
            storage
                .record_seqs(&[("unit", "u1"), ("item", "I2"), ("store", "S1"), ("item", "U1")])
                .unwrap(),
            vec![Some(6), Some(7), Some(3), None]
        );
        assert_eq!(
            storage.record_holders(&["u1", "nope"]).unwrap(),
            vec![Some(("unit".to_string(), 6)), None]
        );
        let old_keys = storage
            .db
            .iterator_cf(storage.cf(cf::RECORD_INDEX), IteratorMode::Start)
            .filter(|item| item.as_ref().unwrap().0.contains(&0))
            .count();
        assert_eq!(old_keys, 0, "no key of the old form is left");
        drop(storage);
        let version = {
            let storage = Storage::open(dir.path(), 8).unwrap();
            storage
                .db
                .get_cf(storage.cf(cf::META), keys::META_FORMAT_VERSION)
                .unwrap()
                .unwrap()
        };
        assert_eq!(version, FORMAT_VERSION.to_be_bytes());
    }
}
