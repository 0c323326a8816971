//! `patients`: many clinicians load different patients at once while the satellites holding
//! them answer. The first `SOURCES` satellites act as the patients' primary sources: each drains
//! its queue and answers every `patient_sync_request` by posting the patient's metastamp and
//! records to `ingest`. Clinicians (`--concurrency` of them, for `--duration`) call `load` (which
//! waits until the patient is fully synced) for a new patient each time; its latency is the time
//! to complete. Integrity: every load answered 201 with the patient fully synced and every event
//! stored.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};
use serde_json::{json, Value};

use super::{drain, Context, DrainOptions, Outcome};
use crate::client::Satellite;

/// Satellites acting as patient sources (at most the data set's sites).
const SOURCES: usize = 20;
/// Domains and events per domain in each patient's answer.
const DOMAINS: [&str; 4] = ["allergy", "med", "vital", "lab"];
const EVENTS_PER_DOMAIN: u32 = 5;
const STAMP: u64 = 20160706094004;

pub async fn run(ctx: &Context) -> anyhow::Result<Outcome> {
    let mut outcome = Outcome::default();
    let sources = ctx.spec.sites.min(SOURCES);
    if sources == 0 {
        bail!("patients needs at least one site");
    }
    // The sources first catch up with their queues, so that what they pull afterwards is the
    // requests (and the figures measure loads, not a first drain).
    let metrics = ctx.metrics.clone();
    let caught_up = ctx
        .each((0..sources).collect(), move |satellite| {
            let metrics = metrics.clone();
            async move {
                let options = DrainOptions {
                    batch: 5000,
                    quiescent: true,
                    drop_one: false,
                    save: None,
                    defer_digest: false,
                    judge: None,
                };
                drain(&satellite, &metrics, &options, |_| {}).await.map(drop)
            }
        })
        .await;
    for (n, result) in caught_up.into_iter().enumerate() {
        result.with_context(|| format!("source site {n} catching up"))?;
    }

    let stop = Arc::new(AtomicBool::new(false));
    let answered = Arc::new(AtomicUsize::new(0));
    let mut answering = Vec::new();
    for n in 0..sources {
        let (satellite, stop, answered) = (ctx.satellite(n), stop.clone(), answered.clone());
        answering.push(tokio::spawn(async move {
            answer_requests(satellite, &stop, &answered).await
        }));
    }

    let next = Arc::new(AtomicUsize::new(0));
    let deadline = Instant::now() + ctx.duration;
    let started = Instant::now();
    ctx.progress.set_length(0);
    let mut clinicians = Vec::new();
    for _ in 0..ctx.concurrency.max(1) {
        let next = next.clone();
        let satellites: Vec<Satellite> = (0..sources).map(|n| ctx.satellite(n)).collect();
        let progress = ctx.progress.clone();
        clinicians.push(tokio::spawn(async move {
            let mut failures = Vec::new();
            while Instant::now() < deadline {
                let n = next.fetch_add(1, Ordering::Relaxed);
                let holder = &satellites[n % satellites.len()];
                // The clinician works at another site than the patient's.
                let caller = &satellites[(n + 1) % satellites.len()];
                let pid = format!("{};{}", holder.site_code(), 1000 + n);
                match caller
                    .patient_call("load", "GET", &format!("load?pid={pid}"), Vec::new(), 201)
                    .await
                {
                    Ok(status) => {
                        if let Err(problem) = check_fully_synced(&pid, holder, &status) {
                            failures.push(problem);
                        }
                    }
                    Err(error) => failures.push(format!("{pid}: {error}")),
                }
                progress.inc(1);
            }
            failures
        }));
    }
    for clinician in clinicians {
        outcome.failures.extend(clinician.await?);
    }
    let seconds = started.elapsed().as_secs_f64();
    let loads = next.load(Ordering::Relaxed);
    stop.store(true, Ordering::Relaxed);
    for task in answering {
        if let Err(error) = task.await? {
            outcome.failures.push(format!("a source failed: {error}"));
        }
    }
    let completed = loads.saturating_sub(outcome.failures.len());
    outcome.figure("loads", loads);
    outcome.figure("loads_completed_per_second", completed as f64 / seconds);
    outcome.figure("source_answers", answered.load(Ordering::Relaxed));
    outcome.figure(
        "records_per_patient",
        DOMAINS.len() as u64 * u64::from(EVENTS_PER_DOMAIN),
    );
    Ok(outcome)
}

/// A source: pulls its queue, answers each load request with the patient's data, acknowledges.
async fn answer_requests(satellite: Satellite, stop: &AtomicBool, answered: &AtomicUsize) -> anyhow::Result<()> {
    while !stop.load(Ordering::Relaxed) {
        let reply = satellite.pull(200).await?;
        let body = reply.to_v2()?;
        let records: Vec<Value> = serde_json::from_slice(&body)?;
        if records.is_empty() {
            tokio::time::sleep(Duration::from_millis(10)).await;
            continue;
        }
        let mut items = Vec::new();
        for record in &records {
            if record["RecordType"] == "patient_sync_request" && record["data"]["action"] == "load" {
                let pid = record["data"]["pid"].as_str().context("a request names its pid")?;
                items.push(patient_answer(pid));
            }
        }
        if !items.is_empty() {
            answered.fetch_add(items.len(), Ordering::Relaxed);
            let body = serde_json::to_vec(&Value::Array(items))?;
            satellite.patient_call("ingest", "POST", "ingest", body, 200).await?;
        }
        let ids: Vec<&str> = records.iter().filter_map(|record| record["SyncID"].as_str()).collect();
        satellite.acknowledge(&ids).await?;
    }
    Ok(())
}

/// What a satellite holds of a patient: a metastamp of every domain and the records it lists.
fn patient_answer(pid: &str) -> Value {
    let mut domains = serde_json::Map::new();
    let mut records = Vec::new();
    for domain in DOMAINS {
        let mut events = serde_json::Map::new();
        for n in 0..EVENTS_PER_DOMAIN {
            let uid = format!("urn:va:{domain}:{}:{n}", pid.replace(';', ":"));
            events.insert(uid.clone(), json!(STAMP));
            records.push(json!({"uid": uid, "domain": domain, "stampTime": STAMP,
                "data": {"uid": uid, "summary": format!("{domain} {n} of {pid}"), "entered": STAMP}}));
        }
        domains.insert(domain.to_string(), json!({"stampTime": STAMP, "events": events}));
    }
    json!({"pid": pid, "metastamp": {"stampTime": STAMP, "domains": domains}, "records": records})
}

/// A completed load's status: the holder complete, nothing in progress, no job open, every event
/// of every domain stored.
fn check_fully_synced(pid: &str, holder: &Satellite, status: &Value) -> Result<(), String> {
    let sync = &status["syncStatus"];
    let source = &sync["completedStamp"]["sourceMetaStamp"][holder.site_code()];
    let problem = if sync.get("inProgress").is_some() {
        Some("a source is still in progress")
    } else if status["jobStatus"].as_array().is_none_or(|jobs| !jobs.is_empty()) {
        Some("a job is still open")
    } else if source["syncCompleted"] != true {
        Some("its satellite is not complete")
    } else {
        let stored_everything = DOMAINS.iter().all(|domain| {
            let counts = &source["domainMetaStamp"][*domain];
            counts["eventCount"] == EVENTS_PER_DOMAIN && counts["storedCount"] == EVENTS_PER_DOMAIN
        });
        (!stored_everything).then_some("an event is not stored")
    };
    match problem {
        Some(problem) => Err(format!("{pid}: load answered 201 but {problem}: {status}")),
        None => Ok(()),
    }
}
