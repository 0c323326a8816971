//! One group commit being assembled by the writer: every command of the group adds its writes to
//! one batch and its in-memory effects to a list applied after the batch is durable. Commands of
//! the same group see each other's writes through the overlays here.

use std::cell::RefCell;

use foldhash::{HashMap, HashMapExt, HashSet, HashSetExt};

use roaring::RoaringTreemap;

use super::directory_changes::{added_site, write_change};
use super::index::{union_len_in, EntryFacts, CENTRAL};
use super::site_queue::{ClientKind, SiteQueue};
use super::{SyncError, SyncState};
use crate::domain::directory::{Directory, DirectoryChange, Site};
use crate::domain::ids::{key_form, SiteId};
use crate::store::{
    keys, seq_if_held_by, DirectoryWrites, IndexWrites, LogEntry, LogWrites, PatientWrites, Result, SyncBatch,
    SyncStorage,
};

/// A change to the queue index, applied once the group is durable.
pub enum IndexOp {
    Insert(u64, EntryFacts),
    Remove(u64, EntryFacts),
}

/// What storage holds of records, by record key: (seq, entry), or `None` when absent.
type StoredRecords = HashMap<Vec<u8>, Option<(u64, LogEntry)>>;

pub struct Group<'a, S: SyncStorage> {
    pub storage: &'a S,
    pub state: &'a SyncState,
    pub batch: S::Batch<'a>,
    pub next_seq: u64,
    /// The group's clock (unix seconds), read once by the writer: what a command writes of the
    /// time comes from here, so that every replica of a cluster writes the same.
    pub now: u64,
    /// Records written by this group: record key → (seq, entry).
    records: HashMap<Vec<u8>, (u64, LogEntry)>,
    pushed: HashSet<Vec<u8>>,
    /// What storage held, read ahead in bulk for a push (see [`Group::prefetch`]).
    stored_pushed: HashMap<Vec<u8>, bool>,
    /// What storage holds of the records this group asked about: read ahead for a push, or on
    /// first ask (a line's header, asked for by every line of a push). Storage does not change
    /// until the group commits, so each answer holds for the group.
    stored_records: RefCell<StoredRecords>,
    /// Which table holds an id (key form), for the ids this group wrote new.
    claimed_ids: HashMap<String, String>,
    /// Of the ids a push asked about, those another table than the record's holds (rare).
    other_holders: HashMap<String, String>,
    joins: HashMap<(String, String), bool>,
    /// Lookups this group added (`true`) or removed: (table, parent key form) → every change
    /// (id key form, present) in order; an id's last change counts. Appended, never searched
    /// when noted: a push of 500 lines of one invoice notes 500 under one parent.
    lookups: HashMap<(String, String), Vec<(String, bool)>>,
    /// Log entries this group supersedes; deleted by the next group (see ARCHITECTURE.md).
    pub superseded: Vec<u64>,
    pub index_ops: Vec<IndexOp>,
    pub queues: HashMap<SiteId, SiteQueue>,
    pub sites: HashMap<SiteId, Site>,
    /// The directory as this group's operator changes leave it: a copy of the state's, made by
    /// the first such change in the group (they are rare; pushes never need one).
    directory: Option<Directory>,
    /// Sites this group removed: their queues are dropped, and nothing later in the group
    /// writes one back.
    removed: Vec<SiteId>,
    /// Sites whose stores this group changed: their views in the index are rebuilt.
    views: Vec<SiteId>,
    /// How many of patient sync's changes are applied, this group's included.
    patient_generation: u64,
}

/// What a group changes in memory once its batch is durable, and what the next group deletes.
pub struct GroupOutcome {
    pub next_seq: u64,
    pub superseded: Vec<u64>,
    pub index_ops: Vec<IndexOp>,
    pub queues: HashMap<SiteId, SiteQueue>,
    pub sites: HashMap<SiteId, Site>,
    /// The whole directory, when an operator changed it (it includes `sites`).
    pub directory: Option<Directory>,
    pub removed: Vec<SiteId>,
    pub views: Vec<SiteId>,
    pub patient_generation: u64,
}

pub fn facts(entry: &LogEntry) -> EntryFacts {
    EntryFacts {
        table: entry.record.table.clone(),
        origin: entry.origin,
        audiences: entry.audiences.clone(),
        exists: entry.record.sync_type.leaves_record(),
    }
}

impl<'a, S: SyncStorage> Group<'a, S> {
    pub fn new(storage: &'a S, state: &'a SyncState, next_seq: u64, now: u64) -> Group<'a, S> {
        Group {
            storage,
            state,
            batch: storage.batch(),
            next_seq,
            now,
            records: HashMap::new(),
            pushed: HashSet::new(),
            stored_pushed: HashMap::new(),
            stored_records: RefCell::new(HashMap::new()),
            claimed_ids: HashMap::new(),
            other_holders: HashMap::new(),
            joins: HashMap::new(),
            lookups: HashMap::new(),
            superseded: Vec::new(),
            index_ops: Vec::new(),
            queues: HashMap::new(),
            sites: HashMap::new(),
            directory: None,
            removed: Vec::new(),
            views: Vec::new(),
            patient_generation: state.patient_generation,
        }
    }

    /// The batch to commit, and what to apply once it is durable.
    pub fn finish(self) -> (S::Batch<'a>, GroupOutcome) {
        let outcome = GroupOutcome {
            next_seq: self.next_seq,
            superseded: self.superseded,
            index_ops: self.index_ops,
            queues: self.queues,
            sites: self.sites,
            directory: self.directory,
            removed: self.removed,
            views: self.views,
            patient_generation: self.patient_generation,
        };
        (self.batch, outcome)
    }

    /// Adds patient sync's changes, unless they were decided against an older patient state
    /// than this group's: then they are refused, whole (see [`SyncError::PatientStale`]).
    /// Every replica applies the same changes in the same order, so every one refuses the same.
    pub fn put_patient_writes(&mut self, writes: PatientWrites) -> std::result::Result<(), SyncError> {
        if writes
            .decided_at()
            .is_some_and(|decided| decided != self.patient_generation)
        {
            return Err(SyncError::PatientStale);
        }
        if writes.is_empty() {
            return Ok(());
        }
        self.batch.put_patient_writes(writes);
        self.patient_generation += 1;
        self.batch.put_patient_generation(self.patient_generation);
        Ok(())
    }

    /// The current log entry of a record, with its seq.
    pub fn current(&self, table: &str, record_id: &str) -> Result<Option<(u64, LogEntry)>> {
        let key = keys::record_key(table, record_id);
        if let Some(found) = self.records.get(&key) {
            return Ok(Some(found.clone()));
        }
        if let Some(stored) = self.stored_records.borrow().get(&key) {
            return Ok(stored.clone());
        }
        let read = match self.storage.record_seq(table, record_id)? {
            Some(seq) => self.storage.log_entry(seq)?.map(|entry| (seq, entry)),
            None => None,
        };
        self.stored_records.borrow_mut().insert(key, read.clone());
        Ok(read)
    }

    /// Writes `entry` as the new state of its record, superseding `previous`.
    pub fn write_entry(&mut self, target_id: &str, entry: LogEntry, previous: Option<(u64, LogEntry)>) -> u64 {
        let seq = self.next_seq;
        self.next_seq += 1;
        self.batch.put_log(seq, &entry);
        self.batch.put_record_seq(&entry.record.table, target_id, seq);
        if previous.is_none() {
            self.claimed_ids.insert(key_form(target_id), entry.record.table.clone());
        }
        if let Some((old_seq, old_entry)) = previous {
            self.superseded.push(old_seq);
            self.index_ops.push(IndexOp::Remove(old_seq, facts(&old_entry)));
        }
        self.index_ops.push(IndexOp::Insert(seq, facts(&entry)));
        let key = keys::record_key(&entry.record.table, target_id);
        self.records.insert(key, (seq, entry));
        seq
    }

    /// Whether `table` holds a record `record_id`, this group's writes included.
    pub fn holds(&self, table: &str, record_id: &str) -> Result<bool> {
        let key = keys::record_key(table, record_id);
        if self.records.contains_key(&key) {
            return Ok(true);
        }
        if let Some(stored) = self.stored_records.borrow().get(&key) {
            return Ok(stored.is_some());
        }
        Ok(self.storage.record_seq(table, record_id)?.is_some())
    }

    /// The table other than `table` that holds `record_id`, if one does: this group's writes,
    /// then what [`Group::prefetch`] read (only for the records it was given).
    pub fn other_holder(&self, table: &str, record_id: &str) -> Option<&str> {
        let key = key_form(record_id);
        match self.claimed_ids.get(&key) {
            Some(holder) if holder != table => Some(holder),
            Some(_) => None,
            None => self.other_holders.get(&key).map(String::as_str),
        }
    }

    pub fn already_pushed(&self, site: SiteId, sync_id: &str) -> Result<bool> {
        let key = keys::pushed_key(site, sync_id);
        if self.pushed.contains(&key) {
            return Ok(true);
        }
        if let Some(&stored) = self.stored_pushed.get(&key) {
            return Ok(stored);
        }
        Ok(self.storage.pushed_seq(site, sync_id)?.is_some())
    }

    /// Reads ahead, in three multi-gets instead of up to three lookups per record, what a push
    /// of `records` will ask: whether each SyncID was applied before, and each record's current
    /// entry. Storage does not change until the group commits, so these answers stay true; the
    /// group's own writes are still seen first, through the overlays.
    pub fn prefetch(&mut self, site: SiteId, records: &[(&str, &str, &str)]) -> Result<()> {
        let sync_ids: Vec<&str> = records.iter().map(|(sync_id, ..)| *sync_id).collect();
        let pushed = self.storage.pushed_many(site, &sync_ids)?;
        let pushed_keys = sync_ids.iter().map(|sync_id| keys::pushed_key(site, sync_id));
        let record_keys: Vec<Vec<u8>> = records.iter().map(|(_, t, id)| keys::record_key(t, id)).collect();
        let ids: Vec<&str> = records.iter().map(|(_, _, id)| *id).collect();
        let holders = self.storage.record_holders(&ids)?;
        // The one lookup per record answers both: the record's entry (when its own table holds
        // the id), and which table holds the id (the push refuses another).
        let seqs: Vec<Option<u64>> = records
            .iter()
            .zip(&holders)
            .map(|((_, table, _), holder)| seq_if_held_by(holder.as_ref(), table))
            .collect();
        for ((_, table, id), holder) in records.iter().zip(holders) {
            if let Some((held_by, _)) = holder.filter(|(held_by, _)| held_by != table) {
                self.other_holders.insert(key_form(id), held_by);
            }
        }
        let found: Vec<u64> = seqs.iter().flatten().copied().collect();
        let mut entries = self.storage.log_entries(&found)?.into_iter();
        self.stored_pushed.extend(pushed_keys.zip(pushed));
        for (key, seq) in record_keys.into_iter().zip(seqs) {
            let current = match seq {
                Some(seq) => entries.next().flatten().map(|entry| (seq, entry)),
                None => None,
            };
            self.stored_records.get_mut().insert(key, current);
        }
        Ok(())
    }

    pub fn mark_pushed(&mut self, site: SiteId, sync_id: &str, seq: u64) {
        self.batch.put_pushed(site, sync_id, seq);
        self.pushed.insert(keys::pushed_key(site, sync_id));
    }

    pub fn set_join(&mut self, name_id: &str, store_id: &str, joined: bool) {
        if joined {
            self.batch.put_join(name_id, store_id);
        } else {
            self.batch.delete_join(name_id, store_id);
        }
        self.joins.insert((key_form(name_id), key_form(store_id)), joined);
    }

    /// Indexes `record_id` of `table` under the id it refers to.
    pub fn put_lookup(&mut self, table: &str, parent_id: &str, record_id: &str) {
        self.batch.put_lookup(table, parent_id, record_id);
        self.note_lookup(table, parent_id, record_id, true);
    }

    pub fn delete_lookup(&mut self, table: &str, parent_id: &str, record_id: &str) {
        self.batch.delete_lookup(table, parent_id, record_id);
        self.note_lookup(table, parent_id, record_id, false);
    }

    fn note_lookup(&mut self, table: &str, parent_id: &str, record_id: &str, present: bool) {
        self.lookups
            .entry((table.to_string(), key_form(parent_id)))
            .or_default()
            .push((key_form(record_id), present));
    }

    /// The ids (key form) of the `table` records that refer to `parent_id`, this group's changes
    /// included: the stored ones this group did not change, then those this group left present,
    /// in the order of their last change.
    pub fn children(&self, table: &str, parent_id: &str) -> Result<Vec<String>> {
        let mut ids = self.storage.lookup(table, parent_id)?;
        if let Some(changes) = self.lookups.get(&(table.to_string(), key_form(parent_id))) {
            let last: HashMap<&str, usize> = changes
                .iter()
                .enumerate()
                .map(|(n, (id, _))| (id.as_str(), n))
                .collect();
            ids.retain(|id| !last.contains_key(id.as_str()));
            let present = changes
                .iter()
                .enumerate()
                .filter(|(n, (id, present))| *present && last[id.as_str()] == *n);
            ids.extend(present.map(|(_, (id, _))| id.clone()));
        }
        Ok(ids)
    }

    /// The stores (key form) a patient is joined to, this group's changes included.
    pub fn patient_stores(&self, name_id: &str) -> Result<Vec<String>> {
        let name = key_form(name_id);
        let mut stores: Vec<String> = self.storage.patient_stores(name_id)?;
        for ((joined_name, store), joined) in &self.joins {
            if *joined_name == name {
                stores.retain(|s| s != store);
                if *joined {
                    stores.push(store.clone());
                }
            }
        }
        stores.sort_unstable();
        Ok(stores)
    }

    /// The queue state of `site` as this group leaves it so far.
    pub fn queue(&self, site: SiteId) -> SiteQueue {
        self.queues
            .get(&site)
            .or_else(|| self.state.queues.get(&site))
            .cloned()
            .unwrap_or_default()
    }

    /// Sets `site`'s queue state. Every change of a queue passes here, so this is where a dump
    /// that has just drained (by an acknowledgement or a skip) gets its progress marked complete.
    pub fn set_queue(&mut self, site: SiteId, mut queue: SiteQueue) {
        if self.removed.contains(&site) {
            return;
        }
        queue.note_dump_drained(self.now);
        self.batch.put_site_queue(site, &queue.encode());
        self.queues.insert(site, queue);
    }

    /// How many records of each of `tables` a dump for `site` as of `snapshot` holds: the index's
    /// members, with this group's own index changes applied (they are in the dump, but reach the
    /// index only after the commit). Bitmap counts, no reads.
    pub fn dump_queued(
        &self,
        site: SiteId,
        client: ClientKind,
        tables: &[String],
        snapshot: u64,
    ) -> Vec<(String, u64)> {
        let index = &self.state.index;
        let view = index.queued_view(site, client);
        // Central and store audiences never share an entry, so they are counted apart (a union
        // of bitmaps copies them; a site has one store, usually).
        let (central, stores): (Vec<u32>, Vec<u32>) = view.iter().partition(|a| **a == CENTRAL);
        let count = |audiences: &[u32], table: &str| {
            let members: Vec<&RoaringTreemap> = audiences.iter().map(|a| index.members(*a, table)).collect();
            union_len_in(&members, 0, snapshot)
        };
        let mut counts: Vec<(String, u64)> = tables
            .iter()
            .map(|table| (table.clone(), count(&central, table) + count(&stores, table)))
            .collect();
        for op in &self.index_ops {
            let (seq, facts, inserted) = match op {
                IndexOp::Insert(seq, facts) => (*seq, facts, true),
                IndexOp::Remove(seq, facts) => (*seq, facts, false),
            };
            if !facts.exists || seq > snapshot || !index.queues(site, client, &facts.audiences) {
                continue;
            }
            if let Some((_, count)) = counts.iter_mut().find(|(table, _)| *table == facts.table) {
                // A removal is of an entry counted already: in the index, or inserted earlier here.
                *count = if inserted { *count + 1 } else { count.saturating_sub(1) };
            }
        }
        counts
    }

    pub fn site(&self, site: SiteId) -> Option<Site> {
        match &self.directory {
            Some(directory) => directory.site(site).cloned(),
            None => self
                .sites
                .get(&site)
                .or_else(|| self.state.directory.site(site))
                .cloned(),
        }
    }

    pub fn set_site(&mut self, site: Site) {
        self.batch.put_site(&site);
        if let Some(directory) = &mut self.directory {
            directory.put_site(site.clone());
        }
        self.sites.insert(site.id, site);
    }

    /// The directory as this group leaves it so far.
    pub fn directory(&self) -> &Directory {
        self.directory.as_ref().unwrap_or(&self.state.directory)
    }

    /// Writes an operator's changes of the directory, in order: a new site's queue starts at the
    /// end of the log as this group leaves it (the rest comes with its initial dump); a removed
    /// site's queue goes with it.
    pub fn change_directory(&mut self, changes: &[DirectoryChange]) {
        let directory = self.directory.get_or_insert_with(|| {
            let mut copy = self.state.directory.clone();
            self.sites.values().for_each(|site| copy.put_site(site.clone()));
            copy
        });
        let mut new_sites = Vec::new();
        for change in changes {
            write_change(&mut self.batch, directory, change);
            new_sites.extend(added_site(directory, change));
            let site = match change {
                DirectoryChange::PutSite(site) => Some(site.id),
                DirectoryChange::RemoveSite(id) => Some(*id),
                DirectoryChange::PutStore(store) => Some(store.site),
                DirectoryChange::PutUser(_) | DirectoryChange::PutOperator(_) => None,
            };
            self.views.extend(site);
            // The copy is the directory from here on (`site` reads it, the commit takes it
            // whole): the `sites` overlay needs nothing of these.
            if let DirectoryChange::RemoveSite(id) = change {
                self.queues.remove(id);
                self.removed.push(*id);
            }
            if let DirectoryChange::PutSite(site) = change {
                self.removed.retain(|removed| *removed != site.id);
            }
            directory.apply(change);
        }
        for site in new_sites {
            self.set_queue(site, SiteQueue::starting_at(self.next_seq - 1));
        }
    }

    /// Every table present once this group is applied.
    pub fn tables(&self) -> Vec<String> {
        let mut tables: Vec<String> = self.state.index.tables().map(str::to_string).collect();
        for op in &self.index_ops {
            if let IndexOp::Insert(_, facts) = op {
                if !tables.contains(&facts.table) {
                    tables.push(facts.table.clone());
                }
            }
        }
        tables
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::directory::{Directory, Store};
    use crate::domain::ids::StoreKey;
    use crate::domain::routing::Audience;
    use crate::store::{IndexWrites, SyncStorage};
    use crate::sync::index::QueueIndex;

    fn facts(table: &str, audience: Audience, exists: bool) -> EntryFacts {
        EntryFacts {
            table: table.to_string(),
            origin: SiteId(9),
            audiences: vec![audience],
            exists,
        }
    }

    /// A group's children of a parent: the stored ones it did not change, then those it left
    /// present in the order of their last change; an id added and removed again is gone, one
    /// removed and added again is back.
    #[test]
    fn children_are_the_stored_ones_with_the_groups_changes_applied() {
        let directory = Directory::new(SiteId(1));
        let state = SyncState {
            index: QueueIndex::new(&directory),
            directory,
            queues: HashMap::new(),
            patient_generation: 0,
        };
        let dir = tempfile::tempdir().unwrap();
        let (storage, right) = crate::store::Storage::open(dir.path(), 8).unwrap();
        let mut batch = storage.batch();
        for line in ["L1", "L2", "L3"] {
            batch.put_lookup("trans_line", "T1", line);
        }
        storage.commit(&right, batch).unwrap();
        let mut group = Group::new(&storage, &state, 5, 1_765_000_000);
        group.put_lookup("trans_line", "t1", "L9");
        group.delete_lookup("trans_line", "T1", "l2");
        group.put_lookup("trans_line", "T1", "L8");
        group.delete_lookup("trans_line", "T1", "L9");
        group.put_lookup("trans_line", "T1", "L2");
        group.put_lookup("trans_line", "T1", "L7");
        group.delete_lookup("trans_line", "T1", "L3");
        group.put_lookup("trans_line", "T2", "L6");
        assert_eq!(group.children("trans_line", "T1").unwrap(), ["L1", "L8", "L2", "L7"]);
        assert_eq!(group.children("trans_line", "T2").unwrap(), ["L6"]);
        assert!(group.children("requisition_line", "T1").unwrap().is_empty());
    }

    /// A dump started in the same group as a push counts the push's changes, which the index
    /// holds only after the commit: new records in, superseded ones out, deletes not at all.
    #[test]
    fn dump_counts_include_the_groups_own_changes() {
        let site = SiteId(2);
        let mut directory = Directory::new(SiteId(1));
        directory.put_site(Site::for_test(site, &["S2"]));
        directory.put_store(Store::for_test("S2", site));
        let (mine, other) = (
            Audience::Store(StoreKey::new("S2")),
            Audience::Store(StoreKey::new("S3")),
        );
        let mut index = QueueIndex::new(&directory);
        index.insert(1, &facts("item", Audience::Central, true));
        index.insert(2, &facts("item", Audience::Central, true));
        index.insert(3, &facts("transact", mine.clone(), true));
        index.insert(4, &facts("transact", other.clone(), true));
        let state = SyncState {
            directory,
            index,
            queues: HashMap::new(),
            patient_generation: 0,
        };
        let dir = tempfile::tempdir().unwrap();
        let (storage, _) = crate::store::Storage::open(dir.path(), 8).unwrap();
        let mut group = Group::new(&storage, &state, 5, 1_765_000_000);
        group.index_ops = vec![
            // Item 2 changed: its old entry goes, the new one comes.
            IndexOp::Remove(2, facts("item", Audience::Central, true)),
            IndexOp::Insert(5, facts("item", Audience::Central, true)),
            IndexOp::Insert(6, facts("item", Audience::Central, true)),
            // A transaction of this site's store deleted, one of another store added.
            IndexOp::Remove(3, facts("transact", mine.clone(), true)),
            IndexOp::Insert(7, facts("transact", mine, false)),
            IndexOp::Insert(8, facts("transact", other, true)),
        ];
        let tables = ["item".to_string(), "transact".to_string(), "unit".to_string()];
        let counts = group.dump_queued(site, ClientKind::Current, &tables, 8);
        let expected = [
            ("item".to_string(), 3),
            ("transact".to_string(), 0),
            ("unit".to_string(), 0),
        ];
        assert_eq!(counts, expected);
    }
}
