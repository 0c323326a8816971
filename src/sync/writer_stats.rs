//! The writer's groups since the primary started, for the metrics: how many were committed, how
//! many commands each held, and how long each durable write took. Recorded once per group by
//! the writer thread (atomic adds, no lock), read at scrape time. The per-minute view the
//! dashboard charts is [`super::activity`]'s.

use std::sync::atomic::{AtomicU64, Ordering};

use crate::histogram::{Histogram, HistogramSnapshot, LATENCY_MICROS};

/// Commands per group: powers of two up to the most a group takes (the writer's `GROUP_MAX`).
pub const GROUP_SIZES: [u64; 9] = [1, 2, 4, 8, 16, 32, 64, 128, 256];

/// The committed groups, their sizes and commit times.
#[derive(Debug)]
pub struct WriterStats {
    groups: AtomicU64,
    /// Commands per committed group.
    sizes: Histogram,
    /// Microseconds of each committed group's synced write.
    commit_micros: Histogram,
}

impl Default for WriterStats {
    fn default() -> WriterStats {
        WriterStats {
            groups: AtomicU64::new(0),
            sizes: Histogram::new(&GROUP_SIZES),
            commit_micros: Histogram::new(&LATENCY_MICROS),
        }
    }
}

impl WriterStats {
    /// A group of `commands` written durably in `micros`.
    pub fn committed(&self, commands: usize, micros: u64) {
        self.groups.fetch_add(1, Ordering::Relaxed);
        self.sizes.observe(commands as u64);
        self.commit_micros.observe(micros);
    }

    /// Groups committed since the primary started.
    pub fn groups(&self) -> u64 {
        self.groups.load(Ordering::Relaxed)
    }

    /// Commands per group.
    pub fn sizes(&self) -> HistogramSnapshot {
        self.sizes.snapshot()
    }

    /// Commit times, in microseconds.
    pub fn commit_micros(&self) -> HistogramSnapshot {
        self.commit_micros.snapshot()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_committed_group_counts_once_with_its_size_and_time() {
        let stats = WriterStats::default();
        stats.committed(3, 700);
        stats.committed(256, 40_000);
        assert_eq!(stats.groups(), 2);
        let sizes = stats.sizes();
        assert_eq!((sizes.count, sizes.sum), (2, 259));
        assert_eq!(sizes.buckets[2], (4, 1), "3 commands: at most 4");
        assert_eq!(sizes.buckets[8], (256, 1));
        let commits = stats.commit_micros();
        assert_eq!((commits.count, commits.sum), (2, 40_700));
    }
}
