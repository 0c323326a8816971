//! A satellite's queue as a view over the index: the rest of its initial dump (table by table,
//! as of the dump's snapshot), then every change in its audiences after its position that it did
//! not originate and has not acknowledged. `count` and the list come from the same bitmaps, so
//! they always agree.

use roaring::RoaringTreemap;

use super::index::{merged_after, union_len_in, QueueIndex, CENTRAL};
use super::site_queue::{ClientKind, OutgoingId, SiteQueue};
use crate::domain::ids::SiteId;

pub struct QueueView<'a> {
    index: &'a QueueIndex,
    site: SiteId,
    queue: &'a SiteQueue,
    /// Changes the site's client must not receive (the gated tables, for the 2017 app): out of
    /// the change part, as the site's own pushes are. (Its dumps leave those tables out.)
    withheld: RoaringTreemap,
}

impl<'a> QueueView<'a> {
    pub fn new(index: &'a QueueIndex, site: SiteId, queue: &'a SiteQueue) -> QueueView<'a> {
        let withheld = match queue.client {
            ClientKind::Mobile2017 => index.gated_in(site),
            _ => RoaringTreemap::new(),
        };
        QueueView {
            index,
            site,
            queue,
            withheld,
        }
    }

    fn change_bitmaps(&self) -> Vec<&'a RoaringTreemap> {
        self.index
            .queued_view(self.site, self.queue.client)
            .iter()
            .map(|a| self.index.changes(*a))
            .collect()
    }

    /// (central, stores) member bitmaps of one table in this satellite's view.
    fn member_bitmaps(&self, table: &str) -> (Vec<&'a RoaringTreemap>, Vec<&'a RoaringTreemap>) {
        let view = self.index.queued_view(self.site, self.queue.client);
        let central = view
            .iter()
            .filter(|a| **a == CENTRAL)
            .map(|a| self.index.members(*a, table))
            .collect();
        let stores = view
            .iter()
            .filter(|a| **a != CENTRAL)
            .map(|a| self.index.members(*a, table))
            .collect();
        (central, stores)
    }

    /// Dump entries still to deliver, in order, as (table position, seq); acknowledged ones
    /// included when `with_acked`.
    pub fn dump_entries(&self, with_acked: bool) -> impl Iterator<Item = (u32, u64)> + 'a {
        let index = self.index;
        let view = index.queued_view(self.site, self.queue.client);
        let dump = self.queue.dump.as_ref();
        let start = dump.map(|d| d.table_pos as usize).unwrap_or(usize::MAX);
        let tables = dump.map(|d| d.tables.as_slice()).unwrap_or(&[]);
        tables.iter().enumerate().skip(start).flat_map(move |(pos, table)| {
            let dump = dump.expect("tables are empty without a dump");
            let after = if pos == start { dump.after_seq } else { 0 };
            let bitmaps: Vec<&RoaringTreemap> = view.iter().map(|a| index.members(*a, table)).collect();
            merged_after(&bitmaps, after)
                .take_while(move |seq| *seq <= dump.snapshot)
                .filter(move |seq| with_acked || !dump.acked.contains(*seq))
                .map(move |seq| (pos as u32, seq))
        })
    }

    /// Change-part seqs still to deliver, in order; acknowledged ones included when `with_acked`.
    pub fn change_entries(&self, with_acked: bool) -> impl Iterator<Item = u64> + '_ {
        let own = self.index.own(self.site);
        let acked = &self.queue.acked;
        let withheld = &self.withheld;
        merged_after(&self.change_bitmaps(), self.queue.position)
            .filter(move |seq| !own.contains(*seq) && !withheld.contains(*seq) && (with_acked || !acked.contains(*seq)))
    }

    /// The first `limit` records of the queue.
    pub fn head(&self, limit: usize) -> Vec<OutgoingId> {
        let generation = self.queue.dump.as_ref().map(|d| d.generation).unwrap_or(0);
        let mut out: Vec<OutgoingId> = self
            .dump_entries(false)
            .take(limit)
            .map(|(table, seq)| OutgoingId::Dump { generation, table, seq })
            .collect();
        if out.len() < limit {
            let rest = limit - out.len();
            out.extend(
                self.change_entries(false)
                    .take(rest)
                    .map(|seq| OutgoingId::Change { seq }),
            );
        }
        out
    }

    /// The number of records `head` would return with no limit.
    pub fn count(&self) -> u64 {
        let mut total = 0;
        if let Some(dump) = &self.queue.dump {
            for (pos, table) in dump.tables.iter().enumerate().skip(dump.table_pos as usize) {
                let after = if pos == dump.table_pos as usize {
                    dump.after_seq
                } else {
                    0
                };
                let (central, stores) = self.member_bitmaps(table);
                total += union_len_in(&central, after, dump.snapshot) + union_len_in(&stores, after, dump.snapshot);
            }
            let acked_in_dump = dump.acked.iter().filter(|seq| self.dump_holds(None, *seq)).count() as u64;
            total -= acked_in_dump;
        }
        let position = self.queue.position;
        let view = self.index.queued_view(self.site, self.queue.client);
        let central: Vec<&RoaringTreemap> = view
            .iter()
            .filter(|a| **a == CENTRAL)
            .map(|a| self.index.changes(*a))
            .collect();
        let stores: Vec<&RoaringTreemap> = view
            .iter()
            .filter(|a| **a != CENTRAL)
            .map(|a| self.index.changes(*a))
            .collect();
        let in_view = union_len_in(&central, position, u64::MAX) + union_len_in(&stores, position, u64::MAX);
        let own = self.index.own(self.site);
        let mut own_above = own.len() - own.rank(position);
        if view.first() != Some(&CENTRAL) && !own.is_empty() {
            // The site's own pushes are all in its view; those of central ones are not in a view
            // without central (open-mSupply's), so they are not in what is subtracted from.
            let own_central = own & self.index.changes(CENTRAL);
            own_above -= own_central.len() - own_central.rank(position);
        }
        let withheld_above = self
            .withheld
            .iter()
            .filter(|seq| *seq > position && !own.contains(*seq))
            .count() as u64;
        let bitmaps = self.change_bitmaps();
        let acked_live = self
            .queue
            .acked
            .iter()
            .filter(|seq| {
                *seq > position
                    && !own.contains(*seq)
                    && !self.withheld.contains(*seq)
                    && bitmaps.iter().any(|b| b.contains(*seq))
            })
            .count() as u64;
        total + in_view - own_above - withheld_above - acked_live
    }

    /// Whether the rest of the dump holds `seq`: in the given table position, or in any.
    fn dump_holds(&self, table: Option<u32>, seq: u64) -> bool {
        let Some(dump) = &self.queue.dump else { return false };
        if seq > dump.snapshot {
            return false;
        }
        let view = self.index.queued_view(self.site, self.queue.client);
        let holds = |pos: usize| {
            let remaining = pos > dump.table_pos as usize || (pos == dump.table_pos as usize && seq > dump.after_seq);
            remaining
                && dump
                    .tables
                    .get(pos)
                    .is_some_and(|t| view.iter().any(|a| self.index.members(*a, t).contains(seq)))
        };
        match table {
            Some(pos) => holds(pos as usize),
            None => (dump.table_pos as usize..dump.tables.len()).any(holds),
        }
    }

    /// Whether `id` is in the queue now, acknowledged out of order or not.
    fn contains_unacked_or_acked(&self, id: OutgoingId) -> bool {
        match id {
            OutgoingId::Dump { generation, table, seq } => {
                self.queue.dump.as_ref().is_some_and(|d| d.generation == generation)
                    && self.dump_holds(Some(table), seq)
            }
            OutgoingId::Change { seq } => {
                seq > self.queue.position
                    && !self.index.own(self.site).contains(seq)
                    && !self.withheld.contains(seq)
                    && self.change_bitmaps().iter().any(|b| b.contains(seq))
            }
        }
    }

    /// Whether the queue may still hold an entry of `table`: the rest of the dump has the table,
    /// or a record of it in the view changed after the queue's position. (False means it holds
    /// none; true may be wrong the other way, for entries the view leaves out.)
    pub fn may_hold(&self, table: &str) -> bool {
        let dumped = self
            .queue
            .dump
            .as_ref()
            .is_some_and(|d| d.tables.iter().skip(d.table_pos as usize).any(|t| t == table));
        dumped
            || self.index.queued_view(self.site, self.queue.client).iter().any(|a| {
                self.index
                    .members(*a, table)
                    .max()
                    .is_some_and(|max| max > self.queue.position)
            })
    }

    /// How the entry `seq` of `table` is still to be delivered in this queue, if it is: in the
    /// rest of the dump, or in the change part.
    pub fn pending(&self, table: &str, seq: u64) -> Option<OutgoingId> {
        if let Some(dump) = &self.queue.dump {
            if let Some(at) = dump.tables.iter().position(|t| t == table) {
                let id = OutgoingId::Dump {
                    generation: dump.generation,
                    table: at as u32,
                    seq,
                };
                if self.contains(id) {
                    return Some(id);
                }
            }
        }
        let id = OutgoingId::Change { seq };
        self.contains(id).then_some(id)
    }

    /// Whether `id` is in the queue and not yet acknowledged.
    pub fn contains(&self, id: OutgoingId) -> bool {
        let acked = match id {
            OutgoingId::Dump { seq, .. } => self.queue.dump.as_ref().is_some_and(|d| d.acked.contains(seq)),
            OutgoingId::Change { seq } => self.queue.acked.contains(seq),
        };
        !acked && self.contains_unacked_or_acked(id)
    }
}

/// Applies acknowledgements to `queue`: ids in the queue are marked, then the positions move
/// over every marked record at the head. Ids not in the queue are ignored.
pub fn acknowledge(index: &QueueIndex, site: SiteId, queue: &mut SiteQueue, ids: &[OutgoingId]) {
    let accepted: Vec<OutgoingId> = {
        let view = QueueView::new(index, site, queue);
        ids.iter().copied().filter(|id| view.contains(*id)).collect()
    };
    for id in accepted {
        match id {
            OutgoingId::Dump { seq, table, .. } => {
                // Counted once: an id sent twice in one acknowledgement is accepted twice above.
                let first_time = queue.dump.as_mut().is_some_and(|dump| dump.acked.insert(seq));
                if let (true, Some(progress)) = (first_time, queue.progress.as_mut()) {
                    progress.acknowledged(table);
                }
            }
            OutgoingId::Change { seq } => {
                queue.acked.insert(seq);
            }
        }
    }
    advance_dump(index, site, queue);
    advance_changes(index, site, queue);
}

fn advance_dump(index: &QueueIndex, site: SiteId, queue: &mut SiteQueue) {
    let Some(dump) = queue.dump.as_ref() else { return };
    // Table order is not seq order, so the passed entries are removed one by one.
    let mut passed = Vec::new();
    let mut exhausted = true;
    for (pos, seq) in QueueView::new(index, site, queue).dump_entries(true) {
        if dump.acked.contains(seq) {
            passed.push((pos, seq));
        } else {
            exhausted = false;
            break;
        }
    }
    if exhausted {
        queue.dump = None;
        return;
    }
    let dump = queue.dump.as_mut().expect("checked above");
    if let Some(&(pos, seq)) = passed.last() {
        dump.table_pos = pos;
        dump.after_seq = seq;
        for (_, seq) in passed {
            dump.acked.remove(seq);
        }
    }
}

fn advance_changes(index: &QueueIndex, site: SiteId, queue: &mut SiteQueue) {
    let mut position = None;
    for seq in QueueView::new(index, site, queue).change_entries(true) {
        if queue.acked.contains(seq) {
            position = Some(seq);
        } else {
            break;
        }
    }
    if let Some(seq) = position {
        queue.position = seq;
        queue.acked.remove_range(..=seq);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::directory::{Directory, Site, Store};
    use crate::domain::ids::StoreKey;
    use crate::domain::routing::Audience;
    use crate::sync::index::EntryFacts;
    use proptest::prelude::*;

    const SITES: std::ops::RangeInclusive<u32> = 2..=5;

    proptest! {
        /// Entries from every origin (the primary included) into central and store audiences,
        /// some superseded: each site's queue holds every live entry of its view except its own,
        /// never its own, and `count` equals what the list holds. An open-mSupply site's queue
        /// holds no central entry (it reads those through `central_records`).
        #[test]
        fn a_site_never_receives_its_own_changes_and_misses_nothing_else(
            entries in proptest::collection::vec((1u32..=5, 0u32..=5, any::<bool>(), any::<bool>()), 1..80),
            open_msupply in any::<bool>(),
        ) {
            let client = if open_msupply { ClientKind::OpenMsupply } else { ClientKind::Current };
            let mut directory = Directory::new(SiteId(1));
            for id in SITES {
                let store = format!("S{id}");
                directory.put_site(Site::for_test(SiteId(id), &[&store]));
                directory.put_store(Store::for_test(&store, SiteId(id)));
            }
            let mut index = QueueIndex::new(&directory);
            let mut live = Vec::new();
            for (n, (origin, audience, item, superseded)) in entries.into_iter().enumerate() {
                let audience = if audience < 2 { Audience::Central } else { Audience::Store(StoreKey::new(&format!("S{audience}"))) };
                let facts = EntryFacts {
                    table: if item { "item".into() } else { "transact".into() },
                    origin: SiteId(origin),
                    audiences: vec![audience],
                    exists: true,
                };
                let seq = n as u64 + 1;
                index.insert(seq, &facts);
                if superseded {
                    index.remove(seq, &facts);
                } else {
                    live.push((seq, facts));
                }
            }
            for id in SITES {
                let site = SiteId(id);
                let queue = SiteQueue { client, ..SiteQueue::default() };
                let view = QueueView::new(&index, site, &queue);
                let got: Vec<u64> = view.change_entries(false).collect();
                let want: Vec<u64> = live
                    .iter()
                    .filter(|(_, f)| f.origin != site)
                    .filter(|(_, f)| f.audiences.iter().any(|a| match a {
                        Audience::Central => !open_msupply,
                        Audience::Store(s) => s.as_str() == format!("S{id}"),
                    }))
                    .map(|(seq, _)| *seq)
                    .collect();
                prop_assert_eq!(&got, &want, "site {}", id);
                prop_assert_eq!(view.count(), got.len() as u64);
            }
        }
    }
}
