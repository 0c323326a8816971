//! A histogram for the metrics that costs a few atomic adds to record and takes no lock: the
//! requests' latencies (once per request, on every worker) and the writer's groups record into
//! it on their hot paths, and a scrape reads it. Observations are integers in the unit the
//! histogram is made with (microseconds, commands), so the sum is exact and never a float
//! compare-and-swap loop; the scrape scales them into the exposition's unit (seconds).
//!
//! A scrape reads the buckets one by one while others may still add: its `count` is the sum of
//! the buckets it read (so `_count` always equals the `+Inf` bucket), and its sum may be a few
//! observations ahead or behind, which Prometheus's rates absorb.

use std::sync::atomic::{AtomicU64, Ordering};

/// Request and commit latencies, in microseconds: 0.1 ms to 30 s, about ×2.5 a step.
pub const LATENCY_MICROS: [u64; 17] = [
    100, 250, 500, 1_000, 2_500, 5_000, 10_000, 25_000, 50_000, 100_000, 250_000, 500_000, 1_000_000, 2_500_000,
    5_000_000, 10_000_000, 30_000_000,
];

/// How many microseconds one second is: the scale from [`LATENCY_MICROS`] to seconds.
pub const MICROS_PER_SECOND: f64 = 1_000_000.0;

/// Counts of observations per bucket, and their sum.
#[derive(Debug)]
pub struct Histogram {
    /// Upper bounds (inclusive), ascending; a last bucket without bound (`+Inf`) follows.
    bounds: &'static [u64],
    /// Observations per bucket, not cumulative: one more than `bounds`.
    buckets: Box<[AtomicU64]>,
    sum: AtomicU64,
}

/// What a histogram held when it was read.
#[derive(Debug, Clone, PartialEq)]
pub struct HistogramSnapshot {
    /// (upper bound, observations in this bucket alone), the last bound `u64::MAX` (`+Inf`).
    pub buckets: Vec<(u64, u64)>,
    pub sum: u64,
    pub count: u64,
}

impl Histogram {
    /// A histogram over `bounds` (ascending upper bounds, in the unit observations will be in).
    pub fn new(bounds: &'static [u64]) -> Histogram {
        debug_assert!(bounds.windows(2).all(|pair| pair[0] < pair[1]), "bounds ascend");
        Histogram {
            bounds,
            buckets: (0..=bounds.len()).map(|_| AtomicU64::new(0)).collect(),
            sum: AtomicU64::new(0),
        }
    }

    pub fn observe(&self, value: u64) {
        // The first bucket whose bound is at least the value (Prometheus's `le`), or `+Inf`.
        let bucket = self.bounds.partition_point(|bound| *bound < value);
        self.buckets[bucket].fetch_add(1, Ordering::Relaxed);
        self.sum.fetch_add(value, Ordering::Relaxed);
    }

    pub fn snapshot(&self) -> HistogramSnapshot {
        let buckets: Vec<(u64, u64)> = self
            .bounds
            .iter()
            .copied()
            .chain(std::iter::once(u64::MAX))
            .zip(self.buckets.iter().map(|count| count.load(Ordering::Relaxed)))
            .collect();
        HistogramSnapshot {
            count: buckets.iter().map(|(_, count)| count).sum(),
            sum: self.sum.load(Ordering::Relaxed),
            buckets,
        }
    }
}

impl HistogramSnapshot {
    /// The buckets as the exposition wants them: upper bounds in its unit (`scale` units of
    /// ours make one of its), the last `+Inf`; counts per bucket alone (the encoder sums them).
    pub fn scaled_buckets(&self, scale: f64) -> Vec<(f64, u64)> {
        self.buckets
            .iter()
            .map(|(bound, count)| {
                let bound = if *bound == u64::MAX {
                    f64::INFINITY
                } else {
                    *bound as f64 / scale
                };
                (bound, *count)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BOUNDS: [u64; 3] = [1, 10, 100];

    #[test]
    fn each_observation_lands_in_the_first_bucket_whose_bound_holds_it() {
        let histogram = Histogram::new(&BOUNDS);
        for value in [0, 1, 2, 10, 11, 100, 101, 5_000] {
            histogram.observe(value);
        }
        let snapshot = histogram.snapshot();
        assert_eq!(snapshot.buckets, vec![(1, 2), (10, 2), (100, 2), (u64::MAX, 2)]);
        assert_eq!(snapshot.count, 8);
        assert_eq!(snapshot.sum, 1 + 2 + 10 + 11 + 100 + 101 + 5_000);
    }

    #[test]
    fn scaled_buckets_are_in_the_exposition_unit_and_end_with_infinity() {
        let histogram = Histogram::new(&LATENCY_MICROS);
        histogram.observe(700);
        let scaled = histogram.snapshot().scaled_buckets(MICROS_PER_SECOND);
        assert_eq!(scaled.len(), LATENCY_MICROS.len() + 1);
        assert_eq!(scaled[0], (0.0001, 0));
        assert_eq!(scaled[3], (0.001, 1), "700 µs is at most 1 ms");
        assert_eq!(scaled.last(), Some(&(f64::INFINITY, 0)));
    }

    #[test]
    fn observations_from_many_threads_are_all_counted() {
        let histogram = Histogram::new(&BOUNDS);
        std::thread::scope(|scope| {
            for _ in 0..4 {
                scope.spawn(|| (0..1_000).for_each(|n| histogram.observe(n % 200)));
            }
        });
        let snapshot = histogram.snapshot();
        assert_eq!(snapshot.count, 4_000);
        assert_eq!(snapshot.sum, 4 * 5 * (0..200).sum::<u64>());
    }
}
