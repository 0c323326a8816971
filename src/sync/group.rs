//! One group commit being assembled by the writer: every command of the group adds its writes to
//! one batch and its in-memory effects to a list applied after the batch is durable. Commands of
//! the same group see each other's writes through the overlays here.

use foldhash::{HashMap, HashMapExt, HashSet, HashSetExt};

use super::index::EntryFacts;
use super::site_queue::SiteQueue;
use super::SyncState;
use crate::domain::directory::Site;
use crate::domain::ids::{key_form, SiteId};
use crate::store::{keys, Batch, LogEntry, Result, Storage};

/// A change to the queue index, applied once the group is durable.
pub enum IndexOp {
    Insert(u64, EntryFacts),
    Remove(u64, EntryFacts),
}

pub struct Group<'a> {
    pub storage: &'a Storage,
    pub state: &'a SyncState,
    pub batch: Batch<'a>,
    pub next_seq: u64,
    /// Records written by this group: record key → (seq, entry).
    records: HashMap<Vec<u8>, (u64, LogEntry)>,
    pushed: HashSet<Vec<u8>>,
    /// What storage held, read ahead in bulk for a push (see [`Group::prefetch`]).
    stored_pushed: HashMap<Vec<u8>, bool>,
    stored_records: HashMap<Vec<u8>, Option<(u64, LogEntry)>>,
    joins: HashMap<(String, String), bool>,
    /// Log entries this group supersedes; deleted by the next group (see ARCHITECTURE.md).
    pub superseded: Vec<u64>,
    pub index_ops: Vec<IndexOp>,
    pub queues: HashMap<SiteId, SiteQueue>,
    pub sites: HashMap<SiteId, Site>,
}

pub fn facts(entry: &LogEntry) -> EntryFacts {
    EntryFacts {
        table: entry.record.table.clone(),
        origin: entry.origin,
        audiences: entry.audiences.clone(),
        exists: entry.record.sync_type.leaves_record(),
    }
}

impl<'a> Group<'a> {
    pub fn new(storage: &'a Storage, state: &'a SyncState, next_seq: u64) -> Group<'a> {
        Group {
            storage,
            state,
            batch: storage.batch(),
            next_seq,
            records: HashMap::new(),
            pushed: HashSet::new(),
            stored_pushed: HashMap::new(),
            stored_records: HashMap::new(),
            joins: HashMap::new(),
            superseded: Vec::new(),
            index_ops: Vec::new(),
            queues: HashMap::new(),
            sites: HashMap::new(),
        }
    }

    /// The current log entry of a record, with its seq.
    pub fn current(&self, table: &str, record_id: &str) -> Result<Option<(u64, LogEntry)>> {
        let key = keys::record_key(table, record_id);
        if let Some(found) = self.records.get(&key) {
            return Ok(Some(found.clone()));
        }
        if let Some(stored) = self.stored_records.get(&key) {
            return Ok(stored.clone());
        }
        let Some(seq) = self.storage.record_seq(table, record_id)? else {
            return Ok(None);
        };
        Ok(self.storage.log_entry(seq)?.map(|entry| (seq, entry)))
    }

    /// Writes `entry` as the new state of its record, superseding `previous`.
    pub fn write_entry(&mut self, target_id: &str, entry: LogEntry, previous: Option<(u64, LogEntry)>) -> u64 {
        let seq = self.next_seq;
        self.next_seq += 1;
        self.batch.put_log(seq, &entry);
        self.batch.put_record_seq(&entry.record.table, target_id, seq);
        if let Some((old_seq, old_entry)) = previous {
            self.superseded.push(old_seq);
            self.index_ops.push(IndexOp::Remove(old_seq, facts(&old_entry)));
        }
        self.index_ops.push(IndexOp::Insert(seq, facts(&entry)));
        let key = keys::record_key(&entry.record.table, target_id);
        self.records.insert(key, (seq, entry));
        seq
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
        let pushed_keys: Vec<Vec<u8>> = records
            .iter()
            .map(|(sync_id, ..)| keys::pushed_key(site, sync_id))
            .collect();
        let record_keys: Vec<Vec<u8>> = records.iter().map(|(_, t, id)| keys::record_key(t, id)).collect();
        let pushed = self.storage.pushed_many(&pushed_keys)?;
        let seqs = self.storage.record_seqs(&record_keys)?;
        let found: Vec<u64> = seqs.iter().flatten().copied().collect();
        let mut entries = self.storage.log_entries(&found)?.into_iter();
        self.stored_pushed.extend(pushed_keys.into_iter().zip(pushed));
        for (key, seq) in record_keys.into_iter().zip(seqs) {
            let current = match seq {
                Some(seq) => entries.next().flatten().map(|entry| (seq, entry)),
                None => None,
            };
            self.stored_records.insert(key, current);
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

    pub fn set_queue(&mut self, site: SiteId, queue: SiteQueue) {
        self.batch.put_site_queue(site, &queue.encode());
        self.queues.insert(site, queue);
    }

    pub fn site(&self, site: SiteId) -> Option<Site> {
        self.sites
            .get(&site)
            .or_else(|| self.state.directory.site(site))
            .cloned()
    }

    pub fn set_site(&mut self, site: Site) {
        self.batch.put_site(&site);
        self.sites.insert(site.id, site);
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
