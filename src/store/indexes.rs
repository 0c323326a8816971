//! The sync indexes: where each record is in the log (by id), which pushes each site has made,
//! patients' joins to stores, and the lookups (records by the parent they refer to).

use super::backend::{IndexReads, IndexWrites};
use super::{cf, corrupt, keys, Batch, Result, Storage};
use crate::domain::ids::SiteId;

impl IndexReads for Storage {
    fn record_seq(&self, table: &str, record_id: &str) -> Result<Option<u64>> {
        let value = self
            .db
            .get_pinned_cf(self.cf(cf::RECORD_INDEX), keys::record_index_key(record_id))?;
        let holder = value.map(|b| decode_holder(&b)).transpose()?;
        Ok(seq_if_held_by(holder.as_ref(), table))
    }

    fn pushed_seq(&self, site: SiteId, sync_id: &str) -> Result<Option<u64>> {
        let value = self
            .db
            .get_pinned_cf(self.cf(cf::PUSHED), keys::pushed_key(site, sync_id))?;
        value.map(|b| decode_seq(&b, cf::PUSHED)).transpose()
    }

    /// One multi-get.
    fn pushed_many(&self, site: SiteId, sync_ids: &[&str]) -> Result<Vec<bool>> {
        let pushed_keys: Vec<Vec<u8>> = sync_ids.iter().map(|id| keys::pushed_key(site, id)).collect();
        let values = self.db.batched_multi_get_cf(self.cf(cf::PUSHED), &pushed_keys, false);
        values.into_iter().map(|v| Ok(v?.is_some())).collect()
    }

    /// One multi-get.
    fn record_holders(&self, ids: &[&str]) -> Result<Vec<Option<(String, u64)>>> {
        let id_keys: Vec<Vec<u8>> = ids.iter().map(|id| keys::record_index_key(id)).collect();
        let values = self.db.batched_multi_get_cf(self.cf(cf::RECORD_INDEX), &id_keys, false);
        values
            .into_iter()
            .map(|v| v?.map(|b| decode_holder(&b)).transpose())
            .collect()
    }

    /// A scan of the keys under (table, parent) in [`cf::LOOKUPS`].
    fn lookup(&self, table: &str, parent_id: &str) -> Result<Vec<String>> {
        let prefix = keys::lookup_prefix(table, parent_id);
        let mut ids = Vec::new();
        self.scan_prefix(cf::LOOKUPS, &prefix, |key, _| {
            let id = &key[prefix.len()..];
            ids.push(String::from_utf8(id.to_vec()).map_err(|_| corrupt(cf::LOOKUPS, "key"))?);
            Ok(())
        })?;
        Ok(ids)
    }

    fn lookups_fingerprint(&self) -> Result<Option<Vec<u8>>> {
        Ok(self.db.get_cf(self.cf(cf::META), keys::META_LOOKUPS_BUILT)?)
    }

    fn patient_stores(&self, name_id: &str) -> Result<Vec<String>> {
        let mut stores = Vec::new();
        self.scan_prefix(cf::PATIENT_JOINS, &keys::join_prefix(name_id), |key, _| {
            let (_, store) = keys::parse_join_key(key).ok_or_else(|| corrupt(cf::PATIENT_JOINS, "key"))?;
            stores.push(store.to_string());
            Ok(())
        })?;
        Ok(stores)
    }
}

impl IndexWrites for Batch<'_> {
    fn put_record_seq(&mut self, table: &str, record_id: &str, seq: u64) {
        let mut value = Vec::with_capacity(8 + table.len());
        value.extend_from_slice(&seq.to_be_bytes());
        value.extend_from_slice(table.as_bytes());
        self.put(cf::RECORD_INDEX, keys::record_index_key(record_id), value);
    }

    fn put_pushed(&mut self, site: SiteId, sync_id: &str, seq: u64) {
        self.put(cf::PUSHED, keys::pushed_key(site, sync_id), seq.to_be_bytes());
    }

    fn put_join(&mut self, name_id: &str, store_id: &str) {
        self.put(cf::PATIENT_JOINS, keys::join_key(name_id, store_id), []);
    }

    fn delete_join(&mut self, name_id: &str, store_id: &str) {
        self.delete(cf::PATIENT_JOINS, keys::join_key(name_id, store_id));
    }

    fn put_lookup(&mut self, table: &str, parent_id: &str, record_id: &str) {
        self.put(cf::LOOKUPS, keys::lookup_key(table, parent_id, record_id), []);
    }

    fn delete_lookup(&mut self, table: &str, parent_id: &str, record_id: &str) {
        self.delete(cf::LOOKUPS, keys::lookup_key(table, parent_id, record_id));
    }

    fn mark_lookups_built(&mut self, fingerprint: &[u8]) {
        self.put(cf::META, keys::META_LOOKUPS_BUILT, fingerprint);
    }

    fn clear_lookups(&mut self) {
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
