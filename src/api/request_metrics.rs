//! Requests counted by API, endpoint and status, with their latency, for the metrics. The
//! access log records each request here once, as it ends (`http` names it from its route
//! tables: never a raw path, never a site, so the label sets are few and fixed by the code);
//! a scrape reads them.
//!
//! On the hot path a request costs a read lock on the map (shared, uncontended between
//! requests: no writer once every label set seen has been added, which the first requests of
//! each kind do) and three relaxed atomic adds into its histogram; a label set seen for the
//! first time takes the write lock once.

use std::collections::HashMap;
use std::time::Duration;

use parking_lot::RwLock;

use crate::histogram::{Histogram, HistogramSnapshot, LATENCY_MICROS};

/// What one request is counted under.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RequestLabels {
    /// `v1` … `v6`, `patient`, `admin`, `health`, or `none` (a path under no API).
    pub api: &'static str,
    /// The endpoint as the route table names it, or `unknown`.
    pub endpoint: &'static str,
    /// The HTTP status of the reply.
    pub status: u16,
}

/// The latencies of the requests, per label set.
#[derive(Debug, Default)]
pub struct RequestMetrics {
    by_labels: RwLock<HashMap<RequestLabels, Histogram>>,
}

impl RequestMetrics {
    /// One request, answered in `elapsed`.
    pub fn record(&self, labels: RequestLabels, elapsed: Duration) {
        let micros = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX);
        if let Some(histogram) = self.by_labels.read().get(&labels) {
            histogram.observe(micros);
            return;
        }
        self.by_labels
            .write()
            .entry(labels)
            .or_insert_with(|| Histogram::new(&LATENCY_MICROS))
            .observe(micros);
    }

    /// Every label set seen, in a stable order, with its latencies (microseconds).
    pub fn snapshot(&self) -> Vec<(RequestLabels, HistogramSnapshot)> {
        let mut all: Vec<(RequestLabels, HistogramSnapshot)> = self
            .by_labels
            .read()
            .iter()
            .map(|(labels, histogram)| (*labels, histogram.snapshot()))
            .collect();
        all.sort_by_key(|(labels, _)| *labels);
        all
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(endpoint: &'static str, status: u16) -> RequestLabels {
        RequestLabels {
            api: "v3",
            endpoint,
            status,
        }
    }

    #[test]
    fn each_label_set_has_its_own_histogram() {
        let metrics = RequestMetrics::default();
        metrics.record(labels("queued_records", 200), Duration::from_micros(800));
        metrics.record(labels("queued_records", 200), Duration::from_millis(40));
        metrics.record(labels("queued_records", 401), Duration::from_micros(300));
        metrics.record(labels("site", 200), Duration::from_secs(60));
        let snapshot = metrics.snapshot();
        let counts: Vec<(&str, u16, u64, u64)> = snapshot
            .iter()
            .map(|(l, h)| (l.endpoint, l.status, h.count, h.sum))
            .collect();
        assert_eq!(
            counts,
            [
                ("queued_records", 200, 2, 40_800),
                ("queued_records", 401, 1, 300),
                ("site", 200, 1, 60_000_000)
            ]
        );
        let slow = &snapshot[2].1;
        assert_eq!(slow.buckets.last(), Some(&(u64::MAX, 1)), "past 30 s: only +Inf");
    }
}
