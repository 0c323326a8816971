//! The log: one entry per record at its sequence number, read one by one, by multi-get or by a
//! scan of a dense range, at a snapshot or now; the next sequence number and the entries the
//! next write deletes.

use rocksdb::IteratorMode;

use super::backend::{LogReads, LogSnapshot, LogWrites};
use super::{cf, corrupt, keys, Batch, LogEntry, Result, Storage};

impl LogReads for Storage {
    fn next_seq(&self) -> Result<u64> {
        Ok(self.meta_u64(keys::META_NEXT_SEQ, "next_seq")?.unwrap_or(1))
    }

    fn log_position(&self) -> Result<u64> {
        Ok(self.meta_u64(keys::META_LOG_POSITION, "log_position")?.unwrap_or(0))
    }

    fn patient_generation(&self) -> Result<u64> {
        Ok(self
            .meta_u64(keys::META_PATIENT_GENERATION, "patient_generation")?
            .unwrap_or(0))
    }

    fn gc_pending(&self) -> Result<Vec<u64>> {
        let bytes = self
            .db
            .get_cf(self.cf(cf::META), keys::META_GC_PENDING)?
            .unwrap_or_default();
        Ok(bytes
            .chunks_exact(8)
            .map(|c| u64::from_be_bytes(c.try_into().expect("chunks of 8")))
            .collect())
    }

    fn log_entry(&self, seq: u64) -> Result<Option<LogEntry>> {
        match self.db.get_pinned_cf(self.cf(cf::LOG), keys::log_key(seq))? {
            Some(bytes) => Ok(Some(decode_log_entry(seq, &bytes)?)),
            None => Ok(None),
        }
    }

    fn scan_log(&self, mut visit: impl FnMut(u64, LogEntry)) -> Result<()> {
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

    /// One multi-get.
    fn log_entries(&self, seqs: &[u64]) -> Result<Vec<Option<LogEntry>>> {
        let values = self.log_values_by_key(seqs, &rocksdb::ReadOptions::default())?;
        seqs.iter()
            .zip(values)
            .map(|(seq, v)| v.map(|b| decode_log_entry(*seq, &b)).transpose())
            .collect()
    }
}

impl Storage {
    /// A number kept in `meta` under `key` (`None` when it was never written).
    fn meta_u64(&self, key: &[u8], name: &str) -> Result<Option<u64>> {
        let Some(bytes) = self.db.get_cf(self.cf(cf::META), key)? else {
            return Ok(None);
        };
        let bytes = bytes.as_slice().try_into().map_err(|_| corrupt(cf::META, name))?;
        Ok(Some(u64::from_be_bytes(bytes)))
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
}

impl LogWrites for Batch<'_> {
    fn put_log(&mut self, seq: u64, entry: &LogEntry) {
        self.put(cf::LOG, keys::log_key(seq), entry.encode());
    }

    fn delete_log(&mut self, seq: u64) {
        self.delete(cf::LOG, keys::log_key(seq));
    }

    fn put_next_seq(&mut self, next: u64) {
        self.put(cf::META, keys::META_NEXT_SEQ, next.to_be_bytes());
    }

    fn put_log_position(&mut self, position: u64) {
        self.put(cf::META, keys::META_LOG_POSITION, position.to_be_bytes());
    }

    fn put_patient_generation(&mut self, generation: u64) {
        self.put(cf::META, keys::META_PATIENT_GENERATION, generation.to_be_bytes());
    }

    fn put_gc_pending(&mut self, seqs: &[u64]) {
        let bytes: Vec<u8> = seqs.iter().flat_map(|s| s.to_be_bytes()).collect();
        self.put(cf::META, keys::META_GC_PENDING, bytes);
    }
}

/// A point-in-time view of the database (see [`super::SyncStorage::snapshot`]).
pub struct Snapshot<'a> {
    storage: &'a Storage,
    inner: rocksdb::Snapshot<'a>,
}

impl Snapshot<'_> {
    pub(super) fn new(storage: &Storage) -> Snapshot<'_> {
        Snapshot {
            storage,
            inner: storage.db.snapshot(),
        }
    }
}

impl LogSnapshot for Snapshot<'_> {
    /// Dense runs are read by one scan, others by one multi-get.
    fn log_values(&self, seqs: &[u64]) -> Result<Vec<Option<Vec<u8>>>> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ids::SiteId;
    use crate::domain::record::{SyncRecord, SyncType};
    use crate::store::SyncStorage;

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
        let (storage, right) = Storage::open(dir.path(), 8).unwrap();
        let mut batch = storage.batch();
        for seq in (10..400).filter(|s| s % 5 != 0) {
            batch.put_log(seq, &entry(seq));
        }
        storage.commit(&right, batch).unwrap();
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
}
