//! The only code that knows RocksDB.
//!
//! [`backend`] says, as traits, what the sync core asks of storage; [`Storage`], the embedded
//! RocksDB, implements them, and nothing above this module sees a RocksDB type. Every key is
//! built in [`keys`], every column family and all tuning is in [`cf`]. This file opens the
//! database (with the migrations of older formats) and commits; the reads and writes are by what
//! they touch: `log.rs` (the log), `indexes.rs` (record positions, pushes, joins, lookups),
//! `directory.rs` (sites, stores, users, queue states, the skip log), `patient.rs` (patient
//! sync's families); `pressure.rs` reads RocksDB's compaction backlog and write stalls. `conformance.rs` is the suite any backend must pass. Depends on `domain`
//! and `patient` (the types it keeps), nothing above.

pub mod backend;
pub mod cf;
#[cfg(test)]
mod conformance;
mod directory;
mod indexes;
pub mod keys;
mod log;
pub mod log_entry;
#[cfg(test)]
mod memory;
mod patient;
mod pressure;

use std::path::Path;

use rocksdb::{Direction, IteratorMode, WriteBatch, WriteOptions, DB};

pub use backend::{
    DirectoryReads, DirectoryWrites, IndexReads, IndexWrites, LogReads, LogSnapshot, LogWrites, SyncBatch, SyncStorage,
    WriteRight,
};
pub use indexes::seq_if_held_by;
pub use log::Snapshot;
pub use log_entry::LogEntry;
pub use patient::{PatientWrites, StoredPatientRecord};
pub use pressure::WritePressure;

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
    /// A commit with the write right of another database; nothing was written.
    #[error("a commit with another database's write right")]
    NotTheWriter,
    /// A stored value could not be decoded.
    #[error("corrupt value in {family}: {detail}")]
    Corrupt { family: &'static str, detail: String },
}

pub type Result<T> = std::result::Result<T, StoreError>;

/// The embedded RocksDB backend.
pub struct Storage {
    db: DB,
    /// Which [`WriteRight`] commits here.
    database: u64,
}

impl Storage {
    /// Opens (or creates) the database in `path`, checking its format version; returns it with
    /// the one right to commit to it.
    pub fn open(path: &Path, block_cache_mib: usize) -> Result<(Storage, WriteRight)> {
        let (options, families) = cf::options(block_cache_mib)?;
        let db = DB::open_cf_descriptors(&options, path, families)?;
        let (right, database) = WriteRight::issue();
        let storage = Storage { db, database };
        match storage.db.get_cf(storage.cf(cf::META), keys::META_FORMAT_VERSION)? {
            Some(bytes) => {
                let found = u32::from_be_bytes(
                    bytes
                        .as_slice()
                        .try_into()
                        .map_err(|_| corrupt(cf::META, "format version"))?,
                );
                if found == 1 {
                    storage.migrate_record_index(&right)?;
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
                storage.commit(&right, batch)?;
            }
        }
        Ok((storage, right))
    }

    /// Format 1 keyed `record_index` by (table, id) with the seq as value; format 2 keys it by
    /// id alone, with the seq and the table. Every old key is rewritten, in chunks; a crash
    /// half-way leaves both kinds, and the next open finishes (old keys hold a 0 byte, ids do
    /// not). Where two tables held one id, the older record keeps it: the other stays in the log
    /// and in the queues, no longer found by id, and is named in a warning.
    fn migrate_record_index(&self, right: &WriteRight) -> Result<()> {
        let family = self.cf(cf::RECORD_INDEX);
        let mut old: Vec<(Vec<u8>, u64)> = Vec::new();
        for item in self.db.iterator_cf(family, IteratorMode::Start) {
            let (key, value) = item?;
            if key.contains(&0) {
                old.push((key.to_vec(), indexes::decode_seq(&value, cf::RECORD_INDEX)?));
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
            self.commit(right, batch)?;
        }
        let mut batch = self.batch();
        batch.inner.put_cf(
            self.cf(cf::META),
            keys::META_FORMAT_VERSION,
            FORMAT_VERSION.to_be_bytes(),
        );
        self.commit(right, batch)
    }

    fn cf(&self, name: &str) -> &rocksdb::ColumnFamily {
        self.db.cf_handle(name).expect("every column family is created on open")
    }

    /// Compacts every column family fully. After a bulk load, so that the first satellites do
    /// not pay for reading through the overlapping files a load leaves behind (a dump of the
    /// fresh standard data set ran at half speed until background compaction caught up).
    /// A consistent copy of the whole database in `dir` (which must not exist yet), taken while
    /// it serves: RocksDB's checkpoint, which flushes the memtables and hard-links the table
    /// files (a copy where `dir` is on another file system). It holds every commit made before
    /// it began and none made after it ended; satsync starts on it as on any data directory.
    pub fn checkpoint(&self, dir: &Path) -> Result<()> {
        rocksdb::checkpoint::Checkpoint::new(&self.db)?.create_checkpoint(dir)?;
        Ok(())
    }

    /// What the database holds, for operators: an estimate of the log's entries (RocksDB's,
    /// from its table files and memtables), and the bytes of its table files and memtables.
    pub fn size(&self) -> (u64, u64) {
        let property = |family: &str, name: &str| {
            self.db
                .property_int_value_cf(self.cf(family), name)
                .ok()
                .flatten()
                .unwrap_or(0)
        };
        let records = property(cf::LOG, "rocksdb.estimate-num-keys");
        let bytes = cf::ALL
            .iter()
            .map(|family| {
                property(family, "rocksdb.total-sst-files-size") + property(family, "rocksdb.cur-size-all-mem-tables")
            })
            .sum();
        (records, bytes)
    }

    pub fn compact(&self) {
        for family in cf::ALL {
            self.db.compact_range_cf(self.cf(family), None::<&[u8]>, None::<&[u8]>);
        }
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
}

fn corrupt(family: &'static str, detail: &str) -> StoreError {
    StoreError::Corrupt {
        family,
        detail: detail.to_string(),
    }
}

impl SyncStorage for Storage {
    type Batch<'a> = Batch<'a>;
    type Snapshot<'a> = Snapshot<'a>;

    fn batch(&self) -> Batch<'_> {
        Batch {
            storage: self,
            inner: WriteBatch::default(),
        }
    }

    fn snapshot(&self) -> Snapshot<'_> {
        Snapshot::new(self)
    }

    /// When this returns, the WAL is on disk.
    fn commit(&self, right: &WriteRight, batch: Batch<'_>) -> Result<()> {
        if !right.is_for(self.database) {
            return Err(StoreError::NotTheWriter);
        }
        let mut options = WriteOptions::default();
        options.set_sync(true);
        self.db.write_opt(batch.inner, &options)?;
        Ok(())
    }
}

/// A database opened for the command line while no server runs: its storage and the right to
/// commit to it, used together (a server's engine takes them apart, keeping the right in its
/// writer).
pub struct Database {
    storage: Storage,
    right: WriteRight,
}

impl Database {
    pub fn open(path: &Path, block_cache_mib: usize) -> Result<Database> {
        let (storage, right) = Storage::open(path, block_cache_mib)?;
        Ok(Database { storage, right })
    }

    pub fn batch(&self) -> Batch<'_> {
        self.storage.batch()
    }

    pub fn commit(&self, batch: Batch<'_>) -> Result<()> {
        self.storage.commit(&self.right, batch)
    }

    pub fn into_parts(self) -> (Storage, WriteRight) {
        (self.storage, self.right)
    }
}

impl std::ops::Deref for Database {
    type Target = Storage;

    fn deref(&self) -> &Storage {
        &self.storage
    }
}

/// Changes written together, atomically, by [`SyncStorage::commit`].
pub struct Batch<'a> {
    storage: &'a Storage,
    inner: WriteBatch,
}

impl SyncBatch for Batch<'_> {
    fn put_patient_writes(&mut self, writes: PatientWrites) {
        self.put_patient_changes(writes);
    }
}

impl Batch<'_> {
    fn put(&mut self, family: &str, key: impl AsRef<[u8]>, value: impl AsRef<[u8]>) {
        self.inner.put_cf(self.storage.cf(family), key, value);
    }

    fn delete(&mut self, family: &str, key: impl AsRef<[u8]>) {
        self.inner.delete_cf(self.storage.cf(family), key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A format-1 database (record index keyed by table and id) opens re-keyed by id: every
    /// record found again under its table, an id two tables held kept by the older, a half-done
    /// migration finished, and the version written.
    #[test]
    fn a_format_1_record_index_is_rekeyed_by_id() {
        let dir = tempfile::tempdir().unwrap();
        {
            let (storage, right) = Storage::open(dir.path(), 8).unwrap();
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
            storage.commit(&right, batch).unwrap();
        }
        let (storage, _) = Storage::open(dir.path(), 8).unwrap();
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
            let (storage, _) = Storage::open(dir.path(), 8).unwrap();
            storage
                .db
                .get_cf(storage.cf(cf::META), keys::META_FORMAT_VERSION)
                .unwrap()
                .unwrap()
        };
        assert_eq!(version, FORMAT_VERSION.to_be_bytes());
    }
}
