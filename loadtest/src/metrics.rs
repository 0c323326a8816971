//! What the harness measures: an HDR histogram of latency per call type, errors, and a
//! per-second timeline of calls, records and latency, for the report and the chart.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use serde::Serialize;

fn histogram() -> Histogram<u64> {
    // Microseconds, up to an hour, 3 significant digits.
    Histogram::new_with_bounds(1, 3_600_000_000, 3).expect("valid histogram bounds")
}

struct Second {
    calls: u64,
    pushed: u64,
    delivered: u64,
    latency: Histogram<u64>,
}

struct Inner {
    calls: BTreeMap<&'static str, (Histogram<u64>, u64)>,
    seconds: Vec<Second>,
    pushed: u64,
    delivered: u64,
}

pub struct Metrics {
    start: Instant,
    inner: Mutex<Inner>,
}

#[derive(Debug, Clone, Serialize)]
pub struct CallSummary {
    pub calls: u64,
    pub errors: u64,
    pub per_second: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct SecondSummary {
    pub second: usize,
    pub calls: u64,
    pub records_pushed: u64,
    pub records_delivered: u64,
    pub p99_ms: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub seconds: f64,
    pub records_pushed: u64,
    pub records_delivered: u64,
    pub pushed_per_second: f64,
    pub delivered_per_second: f64,
    pub calls: BTreeMap<String, CallSummary>,
    pub timeline: Vec<SecondSummary>,
}

fn ms(micros: u64) -> f64 {
    micros as f64 / 1000.0
}

impl Metrics {
    pub fn new() -> Metrics {
        Metrics {
            start: Instant::now(),
            inner: Mutex::new(Inner {
                calls: BTreeMap::new(),
                seconds: Vec::new(),
                pushed: 0,
                delivered: 0,
            }),
        }
    }

    fn second(inner: &mut Inner, at: usize) -> &mut Second {
        while inner.seconds.len() <= at {
            inner.seconds.push(Second {
                calls: 0,
                pushed: 0,
                delivered: 0,
                latency: histogram(),
            });
        }
        &mut inner.seconds[at]
    }

    /// Records one call of kind `call` that took `latency`.
    pub fn call(&self, call: &'static str, latency: Duration, ok: bool) {
        let micros = (latency.as_micros() as u64).clamp(1, 3_600_000_000);
        let at = self.start.elapsed().as_secs() as usize;
        let mut inner = self.inner.lock().expect("metrics lock");
        let (histogram, errors) = inner.calls.entry(call).or_insert_with(|| (histogram(), 0));
        histogram.record(micros).expect("clamped into range");
        if !ok {
            *errors += 1;
        }
        let second = Metrics::second(&mut inner, at);
        second.calls += 1;
        second.latency.record(micros).expect("clamped into range");
    }

    pub fn records(&self, pushed: u64, delivered: u64) {
        let at = self.start.elapsed().as_secs() as usize;
        let mut inner = self.inner.lock().expect("metrics lock");
        inner.pushed += pushed;
        inner.delivered += delivered;
        let second = Metrics::second(&mut inner, at);
        second.pushed += pushed;
        second.delivered += delivered;
    }

    pub fn totals(&self) -> (u64, u64, u64) {
        let inner = self.inner.lock().expect("metrics lock");
        let errors = inner.calls.values().map(|(_, e)| e).sum();
        (inner.pushed, inner.delivered, errors)
    }

    /// The summary over `seconds` of measured time.
    pub fn summary(&self, seconds: f64) -> Summary {
        let inner = self.inner.lock().expect("metrics lock");
        let calls = inner
            .calls
            .iter()
            .map(|(name, (h, errors))| {
                let summary = CallSummary {
                    calls: h.len(),
                    errors: *errors,
                    per_second: h.len() as f64 / seconds,
                    p50_ms: ms(h.value_at_quantile(0.5)),
                    p99_ms: ms(h.value_at_quantile(0.99)),
                    max_ms: ms(h.max()),
                };
                (name.to_string(), summary)
            })
            .collect();
        let timeline = inner
            .seconds
            .iter()
            .enumerate()
            .map(|(second, s)| SecondSummary {
                second,
                calls: s.calls,
                records_pushed: s.pushed,
                records_delivered: s.delivered,
                p99_ms: if s.calls > 0 {
                    ms(s.latency.value_at_quantile(0.99))
                } else {
                    0.0
                },
            })
            .collect();
        Summary {
            seconds,
            records_pushed: inner.pushed,
            records_delivered: inner.delivered,
            pushed_per_second: inner.pushed as f64 / seconds,
            delivered_per_second: inner.delivered as f64 / seconds,
            calls,
            timeline,
        }
    }
}
