//! The scenarios, and what they share: a pool of workers over the satellites, and draining a
//! queue (count → pull → acknowledge until empty) with the count checked against the list.

pub mod dump;
pub mod idle;
pub mod reinit;
pub mod sync;

use std::future::Future;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use anyhow::bail;
use indicatif::ProgressBar;
use satsync::admin::dataset::DatasetSpec;

use crate::client::{Http, Pulled, Satellite};
use crate::holdings::Digest;
use crate::metrics::Metrics;

/// Everything a scenario runs with.
pub struct Context {
    pub url: String,
    pub http: Http,
    pub metrics: Arc<Metrics>,
    pub spec: DatasetSpec,
    pub concurrency: usize,
    pub duration: std::time::Duration,
    pub batch: usize,
    pub push_batch: usize,
    pub save_bodies: Option<PathBuf>,
    /// Fault injection for the harness's own tests: satellite 0 loses one record it received.
    pub drop_one_record: bool,
    pub progress: ProgressBar,
}

/// What a scenario found: integrity failures, and figures of its own for the report.
#[derive(Default)]
pub struct Outcome {
    pub failures: Vec<String>,
    pub figures: serde_json::Map<String, serde_json::Value>,
}

impl Outcome {
    pub fn figure(&mut self, name: &str, value: impl Into<serde_json::Value>) {
        self.figures.insert(name.to_string(), value.into());
    }
}

impl Context {
    pub fn satellite(&self, number: usize) -> Satellite {
        Satellite::new(number, &self.url, self.http.clone(), self.metrics.clone())
    }

    /// Runs `work` for each satellite number in `numbers`, `concurrency` at a time; the results
    /// come back in the order of `numbers`.
    pub async fn each<T, F, Fut>(&self, numbers: Vec<usize>, work: F) -> Vec<anyhow::Result<T>>
    where
        T: Send + 'static,
        F: Fn(Satellite) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = anyhow::Result<T>> + Send + 'static,
    {
        let numbers = Arc::new(numbers);
        let next = Arc::new(AtomicUsize::new(0));
        let work = Arc::new(work);
        let mut workers = Vec::new();
        for _ in 0..self.concurrency.min(numbers.len()).max(1) {
            let (numbers, next, work) = (numbers.clone(), next.clone(), work.clone());
            let (url, http, metrics) = (self.url.clone(), self.http.clone(), self.metrics.clone());
            workers.push(tokio::spawn(async move {
                let mut done = Vec::new();
                loop {
                    let slot = next.fetch_add(1, Ordering::Relaxed);
                    let Some(&number) = numbers.get(slot) else { return done };
                    let satellite = Satellite::new(number, &url, http.clone(), metrics.clone());
                    done.push((slot, work(satellite).await));
                }
            }));
        }
        let mut results: Vec<Option<anyhow::Result<T>>> = (0..numbers.len()).map(|_| None).collect();
        for worker in workers {
            match worker.await {
                Ok(done) => done.into_iter().for_each(|(slot, result)| results[slot] = Some(result)),
                Err(error) => bail_all(&mut results, &error.to_string()),
            }
        }
        results
            .into_iter()
            .map(|r| r.unwrap_or_else(|| Err(anyhow::anyhow!("worker failed"))))
            .collect()
    }
}

fn bail_all<T>(results: &mut [Option<anyhow::Result<T>>], message: &str) {
    for slot in results.iter_mut().filter(|r| r.is_none()) {
        *slot = Some(Err(anyhow::anyhow!("worker failed: {message}")));
    }
}

/// What a drain received.
#[derive(Default)]
pub struct Drained {
    pub digest: Digest,
    pub bytes: u64,
    pub pulls: u64,
}

/// Drains a satellite's queue: `count`, then pulls of `batch` acknowledged at once, until empty.
/// Fails if a pull returns fewer records than `count` promised, or, when nothing else writes
/// (`quiescent`), any other number. `on_record` sees every record.
pub async fn drain(
    satellite: &Satellite,
    batch: usize,
    quiescent: bool,
    metrics: &Metrics,
    drop_one: bool,
    save: Option<&std::path::Path>,
    mut on_record: impl FnMut(&Pulled<'_>),
) -> anyhow::Result<Drained> {
    let mut drained = Drained::default();
    let mut dropped = !drop_one;
    loop {
        let promised = satellite.count().await?;
        let body = satellite.pull(batch).await?;
        let records: Vec<Pulled<'_>> = serde_json::from_slice(&body)?;
        let wanted = promised.min(batch as u64);
        let got = records.len() as u64;
        if got < wanted || (quiescent && got != wanted) {
            bail!(
                "site {}: count said {promised} but a pull of {batch} returned {}",
                satellite.site_id,
                records.len()
            );
        }
        if records.is_empty() {
            return Ok(drained);
        }
        if let Some(dir) = save {
            std::fs::write(dir.join(format!("{:06}.json", drained.pulls)), &body)?;
        }
        drained.pulls += 1;
        drained.bytes += body.len() as u64;
        for record in &records {
            if !dropped {
                dropped = true;
                continue;
            }
            if record.sync_type != "D" && record.sync_type != "M" {
                drained.digest.add(&record.table, &record.id, record.data.get());
            }
            on_record(record);
        }
        let ids: Vec<_> = records.iter().map(|r| r.sync_id.clone()).collect();
        satellite.acknowledge(&ids).await?;
        metrics.records(0, records.len() as u64);
    }
}
