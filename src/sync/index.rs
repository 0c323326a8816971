//! The queue index: in-memory bitmaps of log sequence numbers, per audience, that make every
//! satellite's queue a view over the one log.
//!
//! - `changes[audience]`: seqs of live log entries (records, deletes, merges) of that audience;
//! - `members[(audience, table)]`: seqs of records that exist (not deleted), for initial dumps;
//! - `own[site]`: seqs whose origin is that site and which fall in its view (never sent back);
//! - `gated[(audience, table)]`: seqs of live entries of the few tables some clients must not
//!   receive (the 2017 mobile app and requisitions), to take them out of those clients' views.
//!
//! The index is derived state: it is rebuilt from the log when the server starts and changed only
//! by the writer, after the matching write is durable. Counting is `rank` arithmetic on bitmaps,
//! so `count` costs the same whether a queue holds ten records or ten million.

use foldhash::{HashMap, HashMapExt};

use roaring::RoaringTreemap;

use crate::domain::directory::Directory;
use crate::domain::ids::SiteId;
use crate::domain::routing::Audience;

use super::site_queue::ClientKind;

/// Dense ids for names (audiences, tables), assigned in order of first sight.
#[derive(Debug, Default)]
pub struct Interner {
    ids: HashMap<String, u32>,
    names: Vec<String>,
}

impl Interner {
    pub fn intern(&mut self, name: &str) -> u32 {
        if let Some(id) = self.ids.get(name) {
            return *id;
        }
        let id = self.names.len() as u32;
        self.ids.insert(name.to_string(), id);
        self.names.push(name.to_string());
        id
    }

    pub fn get(&self, name: &str) -> Option<u32> {
        self.ids.get(name).copied()
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.names.iter().map(String::as_str)
    }
}

/// What the index needs to know of one log entry.
#[derive(Debug, Clone)]
pub struct EntryFacts {
    pub table: String,
    pub origin: SiteId,
    pub audiences: Vec<Audience>,
    /// Whether the record exists after this change (deletes and merges do not count as members).
    pub exists: bool,
}

#[derive(Debug)]
pub struct QueueIndex {
    audiences: Interner,
    tables: Interner,
    changes: Vec<RoaringTreemap>,
    members: HashMap<(u32, u32), RoaringTreemap>,
    own: HashMap<SiteId, RoaringTreemap>,
    /// Table ids whose live entries are kept per audience in `gated`.
    gated_tables: Vec<u32>,
    gated: HashMap<(u32, u32), RoaringTreemap>,
    /// Audience ids each satellite sees: central (id 0) first, then its stores.
    views: HashMap<SiteId, Vec<u32>>,
    /// The site of each store audience, to decide whether a change falls in its origin's view.
    audience_site: HashMap<u32, SiteId>,
    empty: RoaringTreemap,
}

/// The id of the central audience.
pub const CENTRAL: u32 = 0;

impl QueueIndex {
    pub fn new(directory: &Directory) -> QueueIndex {
        let mut index = QueueIndex {
            audiences: Interner::default(),
            tables: Interner::default(),
            changes: Vec::new(),
            members: HashMap::new(),
            own: HashMap::new(),
            gated_tables: Vec::new(),
            gated: HashMap::new(),
            views: HashMap::new(),
            audience_site: HashMap::new(),
            empty: RoaringTreemap::new(),
        };
        let central = index.audience_id(&Audience::Central);
        debug_assert_eq!(central, CENTRAL);
        for site in directory.satellites() {
            index.set_view(site, directory);
        }
        index
    }

    /// Sets what `site` sees from the stores `directory` gives it (none when it is not a
    /// satellite there: removed, or the primary). Entries already in the index are seen by
    /// their audience, so a store added to a site brings its records into the site's view.
    pub fn set_view(&mut self, site: SiteId, directory: &Directory) {
        self.audience_site.retain(|_, owner| *owner != site);
        if site == directory.primary() || directory.site(site).is_none() {
            self.views.remove(&site);
            return;
        }
        let mut view = vec![CENTRAL];
        for store in directory.store_keys_of(site) {
            let id = self.audience_id(&Audience::Store(store));
            self.audience_site.insert(id, site);
            view.push(id);
        }
        view[1..].sort_unstable();
        view.dedup();
        self.views.insert(site, view);
    }

    /// Keeps the live entries of `tables` per audience (call before the first insert), so that
    /// [`QueueIndex::gated_in`] can take them out of a view.
    pub fn gate(&mut self, tables: &[String]) {
        self.gated_tables = tables.iter().map(|t| self.tables.intern(t)).collect();
    }

    /// The live entries of the gated tables in `site`'s view.
    pub fn gated_in(&self, site: SiteId) -> RoaringTreemap {
        let mut out = RoaringTreemap::new();
        for table in &self.gated_tables {
            for audience in self.view(site) {
                if let Some(entries) = self.gated.get(&(*audience, *table)) {
                    out |= entries;
                }
            }
        }
        out
    }

    fn audience_id(&mut self, audience: &Audience) -> u32 {
        let id = self.audiences.intern(audience.as_key());
        if self.changes.len() <= id as usize {
            self.changes.resize_with(id as usize + 1, RoaringTreemap::new);
        }
        id
    }

    /// Records a live log entry at `seq`.
    pub fn insert(&mut self, seq: u64, facts: &EntryFacts) {
        let table = self.tables.intern(&facts.table);
        let gated = self.gated_tables.contains(&table);
        let mut in_origin_view = false;
        for audience in &facts.audiences {
            let id = self.audience_id(audience);
            self.changes[id as usize].insert(seq);
            if facts.exists {
                self.members.entry((id, table)).or_default().insert(seq);
            }
            if gated {
                self.gated.entry((id, table)).or_default().insert(seq);
            }
            in_origin_view |= id == CENTRAL || self.audience_site.get(&id) == Some(&facts.origin);
        }
        if in_origin_view && self.views.contains_key(&facts.origin) {
            self.own.entry(facts.origin).or_default().insert(seq);
        }
    }

    /// Forgets the entry at `seq` (superseded by a newer state of the same record).
    pub fn remove(&mut self, seq: u64, facts: &EntryFacts) {
        let table = self.tables.get(&facts.table);
        for audience in &facts.audiences {
            if let Some(id) = self.audiences.get(audience.as_key()) {
                self.changes[id as usize].remove(seq);
                if let Some(members) = table.and_then(|t| self.members.get_mut(&(id, t))) {
                    members.remove(seq);
                }
                if let Some(gated) = table.and_then(|t| self.gated.get_mut(&(id, t))) {
                    gated.remove(seq);
                }
            }
        }
        if let Some(own) = self.own.get_mut(&facts.origin) {
            own.remove(seq);
        }
    }

    /// The audience ids `site` sees (empty for the primary and unknown sites).
    pub fn view(&self, site: SiteId) -> &[u32] {
        self.views.get(&site).map(Vec::as_slice).unwrap_or(&[])
    }

    /// The audiences whose entries `site`'s queue carries for its client: its whole view, but
    /// central for open-mSupply, which reads central records through `central_records` (a
    /// record queued as well would reach it twice). Central is always a view's first audience.
    pub fn queued_view(&self, site: SiteId, client: ClientKind) -> &[u32] {
        let view = self.view(site);
        match client {
            ClientKind::OpenMsupply => view.get(1..).unwrap_or(&[]),
            ClientKind::Current | ClientKind::Mobile2017 => view,
        }
    }

    /// Whether an entry of these audiences is in `site`'s queue for its client.
    pub fn queues(&self, site: SiteId, client: ClientKind, audiences: &[Audience]) -> bool {
        let view = self.queued_view(site, client);
        audiences
            .iter()
            .any(|a| self.audiences.get(a.as_key()).is_some_and(|id| view.contains(&id)))
    }

    pub fn changes(&self, audience: u32) -> &RoaringTreemap {
        self.changes.get(audience as usize).unwrap_or(&self.empty)
    }

    pub fn members(&self, audience: u32, table: &str) -> &RoaringTreemap {
        self.tables
            .get(table)
            .and_then(|t| self.members.get(&(audience, t)))
            .unwrap_or(&self.empty)
    }

    pub fn own(&self, site: SiteId) -> &RoaringTreemap {
        self.own.get(&site).unwrap_or(&self.empty)
    }

    /// Every table name the log has held.
    pub fn tables(&self) -> impl Iterator<Item = &str> {
        self.tables.names()
    }
}

/// How many of `bitmaps`' union lie in `(after, up_to]`. Central and store audiences never share
/// an entry, but two stores of one site can (a transfer between them), hence the union.
pub fn union_len_in(bitmaps: &[&RoaringTreemap], after: u64, up_to: u64) -> u64 {
    if up_to <= after {
        return 0;
    }
    let in_range = |b: &RoaringTreemap| b.rank(up_to) - b.rank(after);
    match bitmaps {
        [] => 0,
        [one] => in_range(one),
        many => {
            let mut union = RoaringTreemap::new();
            for b in many {
                let mut part = (*b).clone();
                part.remove_range(..=after);
                if up_to < u64::MAX {
                    part.remove_range(up_to + 1..);
                }
                union |= part;
            }
            union.len()
        }
    }
}

/// Seqs of the union of `bitmaps` above `after`, ascending, without repeats.
pub fn merged_after<'a>(bitmaps: &[&'a RoaringTreemap], after: u64) -> impl Iterator<Item = u64> + 'a {
    let mut heads: Vec<std::iter::Peekable<roaring::treemap::Iter<'a>>> = bitmaps
        .iter()
        .map(|b| {
            let mut it = b.iter();
            it.advance_to(after.saturating_add(1));
            it.peekable()
        })
        .collect();
    std::iter::from_fn(move || {
        let next = heads.iter_mut().filter_map(|h| h.peek().copied()).min()?;
        for head in heads.iter_mut() {
            if head.peek() == Some(&next) {
                head.next();
            }
        }
        Some(next)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bitmap(values: &[u64]) -> RoaringTreemap {
        values.iter().copied().collect()
    }

    #[test]
    fn merged_after_is_sorted_and_deduplicated() {
        let a = bitmap(&[1, 4, 7, 9]);
        let b = bitmap(&[2, 4, 8]);
        let got: Vec<u64> = merged_after(&[&a, &b], 3).collect();
        assert_eq!(got, vec![4, 7, 8, 9]);
        assert_eq!(union_len_in(&[&a, &b], 3, 8), 3);
        assert_eq!(union_len_in(&[&a], 3, 9), 3);
        assert_eq!(union_len_in(&[&a, &b], 9, 3), 0);
    }
}
