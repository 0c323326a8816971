//! A pull page never delivers a line before its header. The log keeps a record at its latest
//! change, so a header changed after its lines were written (an invoice confirmed once its lines
//! are in) sits after them in the queue, and a header changed during a dump leaves the dump for
//! the change part, after its lines. A client that integrates a line before its header loses it:
//! open-mSupply marks it failed for good when the header comes in a later sync. So before a page
//! goes out, each line whose header is still to be delivered later in the same queue brings the
//! header forward, just before it; the header is then acknowledged out of order, which the queue
//! allows, and `count` is unchanged (the header was in the queue already).

use foldhash::{HashSet, HashSetExt};

use super::site_queue::OutgoingId;
use super::{Outgoing, Result, SyncEngine};
use crate::domain::ids::SiteId;
use crate::domain::row::string_fields;
use crate::domain::tables::RouteKind;
use crate::store::SyncStorage;

/// A line of the page and its header: (position in the page, header table, header id).
type Line = (usize, String, String);

impl<S: SyncStorage> SyncEngine<S> {
    /// `records` (the page `ids` loaded), with each header still to come placed before its first
    /// line, and at most `limit` records: a line that no longer fits waits for the next page,
    /// after its header.
    pub(super) fn parents_first(
        &self,
        site: SiteId,
        ids: &[OutgoingId],
        records: Vec<Outgoing>,
        limit: usize,
    ) -> Result<Vec<Outgoing>> {
        // Most pages need no reads at all: no header of theirs is anywhere ahead in the queue (a
        // dump of lines whose headers have not changed since it started, say).
        let header_tables: HashSet<&str> = records
            .iter()
            .filter_map(|record| {
                self.catalogues
                    .tables
                    .route(record.record().table)
                    .parent_table
                    .as_deref()
            })
            .collect();
        if header_tables.is_empty() || !self.may_hold_any(site, &header_tables) {
            return Ok(records);
        }
        let lines = self.lines_of(&records);
        if lines.is_empty() {
            return Ok(records);
        }
        let headers: Vec<(&str, &str)> = lines
            .iter()
            .map(|(_, table, id)| (table.as_str(), id.as_str()))
            .collect();
        let header_seqs = self.storage.record_seqs(&headers)?;
        let in_page: HashSet<u64> = ids.iter().map(|id| id.seq()).collect();
        let (early, snapshot) = {
            let state = self.state.read();
            let mut seen = HashSet::new();
            let early: Vec<(usize, OutgoingId)> = state.with_view(site, |view| {
                lines
                    .iter()
                    .zip(header_seqs)
                    .filter_map(|((at, table, _), seq)| {
                        let seq = seq.filter(|seq| !in_page.contains(seq) && seen.insert(*seq))?;
                        view.pending(table, seq).map(|id| (*at, id))
                    })
                    .collect()
            });
            (early, self.storage.snapshot())
        };
        if early.is_empty() {
            return Ok(records);
        }
        let header_ids: Vec<OutgoingId> = early.iter().map(|(_, id)| *id).collect();
        let headers = self.load(&header_ids, &snapshot)?;
        let mut headers = early.iter().map(|(at, _)| *at).zip(headers).peekable();
        let mut out = Vec::with_capacity(limit.min(records.len() + early.len()));
        for (at, record) in records.into_iter().enumerate() {
            if let Some((_, header)) = headers.next_if(|(first_line, _)| *first_line == at) {
                out.push(header);
            }
            if out.len() >= limit {
                break;
            }
            out.push(record);
            if out.len() >= limit {
                break;
            }
        }
        Ok(out)
    }

    /// Whether `site`'s queue may still hold an entry of one of `tables` ahead of this page.
    fn may_hold_any(&self, site: SiteId, tables: &HashSet<&str>) -> bool {
        let state = self.state.read();
        state.with_view(site, |view| tables.iter().any(|table| view.may_hold(table)))
    }

    /// The records of the page that are lines of a header, with the header they name.
    fn lines_of(&self, records: &[Outgoing]) -> Vec<Line> {
        let mut lines = Vec::new();
        for (at, record) in records.iter().enumerate() {
            let view = record.record();
            if !view.sync_type.leaves_record() {
                continue;
            }
            let route = self.catalogues.tables.route(view.table);
            let (RouteKind::Parent, Some(table), Some(field)) = (route.route, &route.parent_table, &route.parent_field)
            else {
                continue;
            };
            let header = string_fields(view.data, &[field.as_str()])
                .pop()
                .and_then(|(_, value)| value)
                .filter(|id| !id.is_empty());
            if let Some(header) = header {
                lines.push((at, table.clone(), header));
            }
        }
        lines
    }
}
