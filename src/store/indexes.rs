//! The sync indexes: where each record is in the log (by id), which pushes each site has made,
//! patients' joins to stores, and the lookups (records by the parent they refer to).

use super::{cf, corrupt, keys, Batch, Result, Storage};
use crate::domain::ids::SiteId;

impl Storage {
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
}

impl Batch<'_> {
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
}

pub(super) fn decode_seq(bytes: &[u8], family: &'static str) -> Result<u64> {
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
