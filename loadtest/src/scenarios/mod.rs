//! The scenarios, and what they share: a pool of workers over the satellites, and draining a
//! queue (count → pull → acknowledge until empty) with the count checked against the list.

pub mod dump;
pub mod failover;
pub mod idle;
pub mod patients;
pub mod reinit;
pub mod sync;

use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;

use anyhow::bail;
use indicatif::ProgressBar;
use satsync::admin::dataset::DatasetSpec;

use crate::client::{Http, Pulled, Satellite};
use crate::endpoints::Endpoints;
use crate::formats::{Api, PullReply};
use crate::holdings::Digest;
use crate::judging::{Judge, JudgeAs, Judging};
use crate::metrics::Metrics;

/// Everything a scenario runs with.
pub struct Context {
    /// Where the satellites send their requests: the primary, or a cluster's instances.
    pub endpoints: Endpoints,
    /// The API the satellites speak.
    pub api: Api,
    pub http: Http,
    /// How the satellites reach the primary (the probe opens its own client with it).
    pub link: crate::link::LinkOptions,
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
    /// What mSupply Mobile would do with what the satellites receive.
    pub judging: Arc<Judging>,
    /// Each satellite's place in v5's central feed, kept across the rounds of a run.
    pub central_cursors: Arc<[Arc<AtomicU64>]>,
    /// Keeps a timed scenario going past its duration (the failover scenario's faults).
    pub hold: Hold,
    /// sync: every push carries a record of its own that every other satellite must receive,
    /// and the run counts those lost (failover).
    pub count_losses: bool,
}

/// Whether something keeps a timed scenario running after its duration: it ends once its
/// duration has passed and nothing holds it.
#[derive(Clone, Default)]
pub struct Hold(Arc<AtomicBool>);

impl Hold {
    pub fn hold(&self) {
        self.0.store(true, Ordering::Release);
    }

    pub fn release(&self) {
        self.0.store(false, Ordering::Release);
    }

    /// Whether a scenario whose duration ends at `deadline` is over.
    pub fn over(&self, deadline: std::time::Instant) -> bool {
        std::time::Instant::now() >= deadline && !self.0.load(Ordering::Acquire)
    }
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
        Satellite::new(
            number,
            self.api,
            &self.endpoints,
            self.http.clone(),
            self.metrics.clone(),
        )
        .with_central_cursor(self.central_cursors[number].clone())
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
            let (api, endpoints, http, metrics) = (
                self.api,
                self.endpoints.clone(),
                self.http.clone(),
                self.metrics.clone(),
            );
            let cursors = self.central_cursors.clone();
            workers.push(tokio::spawn(async move {
                let mut done = Vec::new();
                loop {
                    let slot = next.fetch_add(1, Ordering::Relaxed);
                    let Some(&number) = numbers.get(slot) else { return done };
                    let satellite = Satellite::new(number, api, &endpoints, http.clone(), metrics.clone())
                        .with_central_cursor(cursors[number].clone());
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

/// How a drain runs.
pub struct DrainOptions<'a> {
    /// The `limit` of each pull.
    pub batch: usize,
    /// Nothing else writes to this queue meanwhile, so every pull must return exactly what
    /// `count` promised (otherwise at least that many).
    pub quiescent: bool,
    /// Fault injection for the harness's own tests: lose the first record received.
    pub drop_one: bool,
    /// Write each reply body to this directory (for the nginx comparison).
    pub save: Option<&'a Path>,
    /// Keep the reply bodies and digest them only in [`Drained::digest_held`], after the caller
    /// stopped its clock: a timed drain then measures the primary and the transfer, and the
    /// harness does per pull only what a satellite must (find the SyncIDs to acknowledge); over
    /// v1 and v5 the translation to the v2 shape waits too.
    pub defer_digest: bool,
    /// Judge what arrives as mSupply Mobile would (for the satellites `Judging` picks).
    pub judge: Option<JudgeAs>,
}

/// What a drain received.
#[derive(Default)]
pub struct Drained {
    pub digest: Digest,
    pub bytes: u64,
    pub pulls: u64,
    /// Replies not yet digested, with the SyncIDs acknowledged for each.
    held: Vec<(PullReply, usize)>,
    /// A record still to be lost on purpose (`drop_one`).
    drop_pending: bool,
    /// The app's session of this satellite, when it is judged, and where its totals go.
    judge: Option<(Judge, Arc<Judging>)>,
}

impl Drained {
    /// Adds what the app judged of this drain to the scenario's totals.
    fn conclude_judging(&mut self) {
        if let Some((session, judging)) = self.judge.take() {
            judging.add(session);
        }
    }

    /// Digests the bodies a drain with `defer_digest` kept.
    pub fn digest_held(&mut self, mut on_record: impl FnMut(&Pulled<'_>)) -> anyhow::Result<()> {
        for (reply, acknowledged) in std::mem::take(&mut self.held) {
            let ids = reply.sync_ids()?;
            if ids.len() != acknowledged {
                bail!(
                    "a reply held {} SyncIDs but {acknowledged} were acknowledged",
                    ids.len()
                );
            }
            self.digest_body(&reply, &ids, &mut on_record)?;
        }
        self.conclude_judging();
        Ok(())
    }

    /// Parses a reply in full (in the v2 shape, whatever the API), checks it holds exactly the
    /// SyncIDs acknowledged, and adds its records to the digest.
    fn digest_body(
        &mut self,
        reply: &PullReply,
        ids: &[&str],
        on_record: &mut impl FnMut(&Pulled<'_>),
    ) -> anyhow::Result<()> {
        let body = reply.to_v2()?;
        if let Some((session, _)) = self.judge.as_mut() {
            session.judge(&body, reply.body())?;
        }
        let records: Vec<Pulled<'_>> = serde_json::from_slice(&body)?;
        if records.len() != ids.len() || records.iter().zip(ids).any(|(r, id)| r.sync_id != *id) {
            bail!("the SyncIDs acknowledged are not those of the records in the reply");
        }
        for record in &records {
            if self.drop_pending {
                self.drop_pending = false;
                continue;
            }
            if record.sync_type != "D" && record.sync_type != "M" {
                self.digest.add(&record.table, &record.id, record.data.get());
            }
            on_record(record);
        }
        Ok(())
    }
}

/// Drains a satellite's queue: `count`, then pulls acknowledged at once, until empty. Fails if a
/// pull returns fewer records than `count` promised (see [`DrainOptions::quiescent`]).
/// `on_record` sees every record (after the drain, with `defer_digest`).
pub async fn drain(
    satellite: &Satellite,
    metrics: &Metrics,
    options: &DrainOptions<'_>,
    mut on_record: impl FnMut(&Pulled<'_>),
) -> anyhow::Result<Drained> {
    let mut drained = Drained {
        drop_pending: options.drop_one,
        judge: options.judge.as_ref().and_then(|as_| {
            let session = as_.judging.session(satellite.number, as_.rank, as_.fresh)?;
            Some((session, as_.judging.clone()))
        }),
        ..Drained::default()
    };
    // An open-mSupply site reads central data from the central feed (its queue holds only its
    // stores' records) first, as it does in every sync; the feed is read, not acknowledged.
    if satellite.api() == Api::V5 {
        while let Some(reply) = satellite.pull_central(options.batch).await? {
            let ids = reply.sync_ids()?;
            drained.pulls += 1;
            drained.bytes += reply.body().len() as u64;
            metrics.records(0, ids.len() as u64);
            if options.defer_digest {
                let n = ids.len();
                drained.held.push((reply, n));
            } else {
                drained.digest_body(&reply, &ids, &mut on_record)?;
            }
        }
    }
    loop {
        let promised = satellite.count().await?;
        let reply = satellite.pull(options.batch).await?;
        let ids = reply.sync_ids()?;
        let wanted = promised.min(options.batch as u64);
        let got = ids.len() as u64;
        if got < wanted || (options.quiescent && got != wanted) {
            bail!(
                "site {}: count said {promised} but a pull of {} returned {got}",
                satellite.site_id,
                options.batch
            );
        }
        if ids.is_empty() {
            if !options.defer_digest {
                drained.conclude_judging();
            }
            return Ok(drained);
        }
        if let Some(dir) = options.save {
            std::fs::write(dir.join(format!("{:06}.json", drained.pulls)), reply.body())?;
        }
        drained.pulls += 1;
        drained.bytes += reply.body().len() as u64;
        if options.defer_digest {
            drained.held.push((reply.clone(), ids.len()));
        } else {
            drained.digest_body(&reply, &ids, &mut on_record)?;
        }
        satellite.acknowledge(&ids).await?;
        metrics.records(0, got);
    }
}
