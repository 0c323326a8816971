//! A remote site over one or more syncs. Pages are received into the sync buffer, keyed by
//! `recordId` alone (a later record replaces an earlier one whatever its table; merges get a key of
//! their own), and checked against the stream rules. `integrate` ends a sync: the buffer is
//! integrated table by table in dependency order — upserts, then deletes in reverse order, then
//! merges (§1.8) — on a copy of what the site holds. A panic rolls the whole step back and leaves the
//! buffer to be integrated again at the next sync, as the remote does.

use std::collections::{HashMap, HashSet};

use serde_json::Value;

use crate::envelope::{self, Action, Element};
use crate::report::Report;
use crate::state::RemoteState;
use crate::stream::Stream;
use crate::{judge, order, prerequisites, Endpoint, Outcome, Site, Verdict};

/// What some rules need to know about the whole sync buffer.
#[derive(Clone, Debug, Default)]
pub(crate) struct BufferFacts {
    /// The `goods_received_ID`s of the invoices being upserted.
    pub(crate) receipts_named_by_invoices: HashSet<String>,
}

/// The records received and not yet integrated.
#[derive(Clone, Debug, Default)]
struct SyncBuffer {
    rows: Vec<Element>,
    /// `recordId` → position in `rows` (merges are not indexed: each is its own row).
    positions: HashMap<String, usize>,
}

impl SyncBuffer {
    fn put(&mut self, element: Element) {
        if element.action == Action::Merge {
            self.rows.push(element);
            return;
        }
        match self.positions.get(&element.record_id) {
            Some(&position) => self.rows[position] = element,
            None => {
                self.positions.insert(element.record_id.clone(), self.rows.len());
                self.rows.push(element);
            }
        }
    }

    fn facts(&self) -> BufferFacts {
        let receipts = self
            .rows
            .iter()
            .filter(|row| row.table == "transact" && row.action == Action::Upsert)
            .filter_map(|row| row.data.get("goods_received_ID").and_then(Value::as_str))
            .filter(|id| !id.is_empty())
            .map(str::to_string)
            .collect();
        BufferFacts {
            receipts_named_by_invoices: receipts,
        }
    }

    /// The rows in integration order.
    fn in_integration_order(&self) -> Vec<&Element> {
        let mut rows: Vec<&Element> = self.rows.iter().collect();
        rows.sort_by_key(|row| {
            let rank = order::rank(&row.table);
            match row.action {
                Action::Upsert => (0, rank),
                Action::Delete => (1, usize::MAX - rank),
                Action::Merge => (2, rank),
            }
        });
        rows
    }
}

/// A remote site receiving pages and integrating them, sync after sync.
#[derive(Clone, Debug)]
pub struct Session {
    site: Site,
    stream: Stream,
    buffer: SyncBuffer,
    state: RemoteState,
    report: Report,
}

impl Session {
    /// A fresh remote database: nothing held, nothing received.
    pub fn new(site: Site) -> Session {
        Session {
            site,
            stream: Stream::default(),
            buffer: SyncBuffer::default(),
            state: RemoteState::default(),
            report: Report::default(),
        }
    }

    /// One pull page's `data` array as received from `endpoint`. Checks each element's envelope and
    /// the stream rules, buffers the elements that parse, and returns the page's defects, each
    /// naming table, `recordId` and the rule. An element whose envelope does not parse would fail
    /// the whole page on the remote; it is reported and left out, and the rest is still buffered.
    pub fn receive(&mut self, endpoint: Endpoint, data: &[Value]) -> Vec<String> {
        let mut defects = Vec::new();
        for (position, value) in data.iter().enumerate() {
            match envelope::read(endpoint, value, position) {
                Ok((element, found)) => {
                    defects.extend(found);
                    self.stream.receive(&element, &mut defects);
                    self.buffer.put(element);
                }
                Err(errors) => defects.extend(errors),
            }
        }
        self.report.add_stream_defects(&defects);
        defects
    }

    /// Ends one sync: integrates the buffer and returns one verdict per buffered record, in
    /// integration order. Records integrated stay known for later syncs. If a record aborts the
    /// step, nothing of it is kept and the buffer stays for the next sync.
    pub fn integrate(&mut self) -> Vec<Verdict> {
        let facts = self.buffer.facts();
        let mut working = self.state.clone();
        let verdicts: Vec<Verdict> = self
            .buffer
            .in_integration_order()
            .into_iter()
            .map(|element| judge::judge(element, &self.site, &mut working, &facts))
            .collect();
        let aborted = verdicts
            .iter()
            .any(|verdict| matches!(verdict.outcome, Outcome::Aborts(_)));
        if !aborted {
            self.state = working;
            self.buffer = SyncBuffer::default();
        }
        self.report.add_sync(&verdicts, aborted);
        verdicts
    }

    /// What the site still lacks after what it has integrated (§4.2, §7 item 11), one line each.
    pub fn missing_prerequisites(&self) -> Vec<String> {
        prerequisites::missing(&self.site, &self.state)
    }

    /// Totals so far, with the first failures and what the site still lacks.
    pub fn report(&self) -> Report {
        let mut report = self.report.clone();
        report.buffered = self.buffer.rows.len();
        report.missing = self.missing_prerequisites();
        report
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn element(table: &str, id: &str, action: Action) -> Element {
        Element {
            table: table.into(),
            record_id: id.into(),
            action_text: String::new(),
            action,
            data: json!({}),
            change_id: None,
        }
    }

    #[test]
    fn the_buffer_keys_by_record_id_alone() {
        let mut buffer = SyncBuffer::default();
        buffer.put(element("item", "X", Action::Upsert));
        buffer.put(element("name", "X", Action::Upsert));
        buffer.put(element("name", "M", Action::Merge));
        buffer.put(element("name", "M", Action::Merge));
        assert_eq!(buffer.rows.len(), 3);
        assert_eq!(buffer.rows[0].table, "name");
    }

    #[test]
    fn upserts_come_first_then_deletes_in_reverse_then_merges() {
        let mut buffer = SyncBuffer::default();
        buffer.put(element("item", "M", Action::Merge));
        buffer.put(element("transact", "T", Action::Delete));
        buffer.put(element("trans_line", "L", Action::Delete));
        buffer.put(element("trans_line", "L2", Action::Upsert));
        buffer.put(element("transact", "T2", Action::Upsert));
        let order: Vec<&str> = buffer
            .in_integration_order()
            .iter()
            .map(|row| row.record_id.as_str())
            .collect();
        assert_eq!(order, ["T2", "L2", "L", "T", "M"]);
    }
}
