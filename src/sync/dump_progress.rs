//! How far a satellite's latest initial dump has come, table by table: what the dump queued and
//! how much of it the satellite has acknowledged. Patient sync's `operational-status` reports it
//! (a site whose initialisation is not complete cannot load patients yet).
//!
//! Kept beside the queue state in `site_queues` and kept after the dump drains, so that a site
//! stays complete. The counts are maintained, never recounted: `queued` is known when the dump
//! starts, `acknowledged` grows with each acknowledgement; a request only reads them.

use std::time::{SystemTime, UNIX_EPOCH};

use super::site_queue::Reader;

/// One site's latest initial dump.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DumpProgress {
    /// Per table, in dump order.
    pub tables: Vec<TableProgress>,
    pub started_unix_seconds: u64,
    /// When every record the dump queued was acknowledged (or skipped by an operator); kept
    /// until the site starts another dump.
    pub completed_unix_seconds: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableProgress {
    pub table: String,
    /// Records of the table the dump queued.
    pub queued: u64,
    /// Of those, how many the site has acknowledged.
    pub acknowledged: u64,
}

impl DumpProgress {
    /// A dump that starts now with `queued` records of each of its tables (in dump order, one
    /// entry per table of the dump, so that a dump SyncID's table position finds its entry). A
    /// dump that queued nothing is complete as it starts.
    pub fn started(queued: Vec<(String, u64)>, now_unix_seconds: u64) -> DumpProgress {
        let tables: Vec<TableProgress> = queued
            .into_iter()
            .map(|(table, queued)| TableProgress {
                table,
                queued,
                acknowledged: 0,
            })
            .collect();
        let empty = tables.iter().all(|t| t.queued == 0);
        DumpProgress {
            tables,
            started_unix_seconds: now_unix_seconds,
            completed_unix_seconds: empty.then_some(now_unix_seconds),
        }
    }

    pub fn is_complete(&self) -> bool {
        self.completed_unix_seconds.is_some()
    }

    /// Counts one acknowledged dump record of the table at `table_pos` in the dump order.
    pub fn acknowledged(&mut self, table_pos: u32) {
        if let Some(table) = self.tables.get_mut(table_pos as usize) {
            debug_assert!(
                table.acknowledged < table.queued,
                "{} acknowledged beyond queued",
                table.table
            );
            table.acknowledged += 1;
        }
    }

    /// The dump has drained: every record still in it was acknowledged. Records changed or deleted
    /// while the dump ran left it (they come, if at all, as changes after it), so what the dump
    /// queued of a table is corrected to what it delivered: a drained dump has acknowledged all.
    pub fn drained(&mut self, now_unix_seconds: u64) {
        if self.is_complete() {
            return;
        }
        for table in &mut self.tables {
            table.queued = table.acknowledged;
        }
        self.completed_unix_seconds = Some(now_unix_seconds);
    }

    /// The tables the dump queued something of (a catalogue lists tables a site may hold none of).
    pub fn without_empty_tables(mut self) -> DumpProgress {
        self.tables.retain(|t| t.queued > 0);
        self
    }

    pub(super) fn encode_into(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.started_unix_seconds.to_be_bytes());
        match self.completed_unix_seconds {
            Some(at) => {
                out.push(1);
                out.extend_from_slice(&at.to_be_bytes());
            }
            None => out.push(0),
        }
        out.extend_from_slice(&(self.tables.len() as u32).to_be_bytes());
        for table in &self.tables {
            out.extend_from_slice(&(table.table.len() as u32).to_be_bytes());
            out.extend_from_slice(table.table.as_bytes());
            out.extend_from_slice(&table.queued.to_be_bytes());
            out.extend_from_slice(&table.acknowledged.to_be_bytes());
        }
    }

    pub(super) fn decode_from(r: &mut Reader<'_>) -> Option<DumpProgress> {
        let started_unix_seconds = r.u64()?;
        let completed_unix_seconds = match r.u8()? {
            0 => None,
            1 => Some(r.u64()?),
            _ => return None,
        };
        let count = r.u32()?;
        let mut tables = Vec::with_capacity(count.min(10_000) as usize);
        for _ in 0..count {
            let len = r.u32()? as usize;
            let table = String::from_utf8(r.take(len)?.to_vec()).ok()?;
            tables.push(TableProgress {
                table,
                queued: r.u64()?,
                acknowledged: r.u64()?,
            });
        }
        Some(DumpProgress {
            tables,
            started_unix_seconds,
            completed_unix_seconds,
        })
    }
}

/// Seconds since the Unix epoch, the unit of dump progress times.
pub fn unix_seconds_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn progress() -> DumpProgress {
        DumpProgress::started(
            vec![("item".into(), 2), ("unit".into(), 0), ("transact".into(), 3)],
            100,
        )
    }

    #[test]
    fn acknowledgements_count_per_table_until_drained() {
        let mut progress = progress();
        assert!(!progress.is_complete());
        progress.acknowledged(0);
        progress.acknowledged(0);
        progress.acknowledged(2);
        let counts: Vec<(u64, u64)> = progress.tables.iter().map(|t| (t.queued, t.acknowledged)).collect();
        assert_eq!(counts, [(2, 2), (0, 0), (3, 1)]);
        // Two transact records were changed during the dump and left it.
        progress.drained(200);
        assert!(progress.is_complete());
        assert_eq!(progress.completed_unix_seconds, Some(200));
        assert_eq!(progress.tables[2].queued, 1);
        // Completion is kept, with its time.
        progress.drained(300);
        assert_eq!(progress.completed_unix_seconds, Some(200));
        let tables: Vec<String> = progress
            .without_empty_tables()
            .tables
            .into_iter()
            .map(|t| t.table)
            .collect();
        assert_eq!(tables, ["item", "transact"]);
    }

    #[test]
    fn a_dump_of_nothing_is_complete_at_once() {
        let progress = DumpProgress::started(vec![("item".into(), 0)], 100);
        assert!(progress.is_complete());
        assert_eq!(progress.completed_unix_seconds, Some(100));
    }

    #[test]
    fn progress_round_trips() {
        let mut progress = progress();
        for _ in 0..2 {
            let mut bytes = Vec::new();
            progress.encode_into(&mut bytes);
            let mut reader = Reader::new(&bytes);
            assert_eq!(DumpProgress::decode_from(&mut reader), Some(progress.clone()));
            assert!(reader.is_at_end());
            progress.drained(150);
        }
    }
}
