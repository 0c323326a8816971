//! How hard RocksDB is pressed, as its own properties say, for the metrics: the bytes its
//! compactions are behind, whether and how much it is slowing or stopping writes now, and how
//! many times it has since the database was opened. Plain numbers, so that nothing above
//! `store` sees RocksDB; read at scrape time (a handful of property reads, no I/O).

use super::{cf, Storage};

/// RocksDB's compaction backlog and write stalls.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WritePressure {
    /// Bytes compactions must rewrite to bring every level under its target, summed over the
    /// column families (`rocksdb.estimate-pending-compaction-bytes`): what grows before RocksDB
    /// slows writes down.
    pub pending_compaction_bytes: u64,
    /// The rate writes are held to now, bytes a second; 0 when they are not slowed
    /// (`rocksdb.actual-delayed-write-rate`).
    pub delayed_write_rate: u64,
    /// Writes are stopped now (`rocksdb.is-write-stopped`): every commit waits.
    pub write_stopped: bool,
    /// Times writes were slowed, and stopped, since the database was opened, summed over the
    /// column families (`rocksdb.cf-write-stall-stats`: `total-delays`, `total-stops`).
    pub stall_delays: u64,
    pub stall_stops: u64,
}

impl Storage {
    /// RocksDB's compaction backlog and write stalls now; a property it cannot answer reads 0.
    pub fn write_pressure(&self) -> WritePressure {
        let db_int = |name: &str| self.db.property_int_value(name).ok().flatten().unwrap_or(0);
        let mut pressure = WritePressure {
            delayed_write_rate: db_int("rocksdb.actual-delayed-write-rate"),
            write_stopped: db_int("rocksdb.is-write-stopped") != 0,
            ..WritePressure::default()
        };
        for family in cf::ALL {
            let handle = self.cf(family);
            pressure.pending_compaction_bytes += self
                .db
                .property_int_value_cf(handle, "rocksdb.estimate-pending-compaction-bytes")
                .ok()
                .flatten()
                .unwrap_or(0);
            let stalls = self
                .db
                .property_value_cf(handle, "rocksdb.cf-write-stall-stats")
                .ok()
                .flatten()
                .unwrap_or_default();
            pressure.stall_delays += stall_count(&stalls, "total-delays");
            pressure.stall_stops += stall_count(&stalls, "total-stops");
        }
        pressure
    }
}

/// The count named `key` in the text of `rocksdb.cf-write-stall-stats` (`Write Stall (count):
/// name: n, name: n, …`); 0 when it is not there (a RocksDB without it).
fn stall_count(stats: &str, key: &str) -> u64 {
    let body = stats.split_once(':').map_or("", |(_, body)| body);
    body.split([',', '\n'])
        .filter_map(|pair| pair.split_once(':'))
        .find(|(name, _)| name.trim() == key)
        .and_then(|(_, count)| count.trim().parse().ok())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stall_totals_are_read_from_rocksdb_text() {
        let text = "Write Stall (count): cf-l0-file-count-limit-delays-with-ongoing-compaction: 3, \
                    cf-l0-file-count-limit-stops-with-ongoing-compaction: 0, l0-file-count-limit-delays: 7, \
                    total-delays: 12, total-stops: 2\n";
        assert_eq!(stall_count(text, "total-delays"), 12);
        assert_eq!(stall_count(text, "total-stops"), 2);
        assert_eq!(stall_count(text, "l0-file-count-limit-delays"), 7);
        assert_eq!(stall_count("", "total-stops"), 0);
        assert_eq!(stall_count("Write Stall (count): total-stops: x\n", "total-stops"), 0);
    }

    #[test]
    fn a_fresh_database_answers_every_property_unpressed() {
        let dir = tempfile::tempdir().unwrap();
        let (storage, _right) = Storage::open(dir.path(), 8).unwrap();
        let pressure = storage.write_pressure();
        assert!(!pressure.write_stopped);
        assert_eq!((pressure.stall_delays, pressure.stall_stops), (0, 0));
        // RocksDB answers the stall property at all: its text names the totals we read.
        let text = storage
            .db
            .property_value_cf(storage.cf(cf::LOG), "rocksdb.cf-write-stall-stats")
            .unwrap()
            .unwrap();
        assert!(text.contains("total-delays: 0"), "{text}");
        assert!(text.contains("total-stops: 0"), "{text}");
    }
}
