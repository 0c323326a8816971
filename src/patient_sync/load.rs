//! `load` and `demographics-load`: resolve (or create) the patient, plan and record the jobs,
//! ask the sources, then wait as the caller asked: not at all, for one source, or for all. The
//! wait holds no thread (see [`super::waiters`]).

use std::time::Duration;

use serde_json::{Map, Value};

use super::{Host, Shared};
use crate::patient::completion::{load_progress, LoadProgress};
use crate::patient::ids::{Jpid, PatientId};
use crate::patient::jobs::unix_millis_now;
use crate::patient::Source;
use crate::store::PatientWrites;
use crate::wire::patient::NOT_YET_ACCESSIBLE;

use super::apply::{write_plan, Request};
use super::dispatch::dispatch;
use super::identity::{associate, known_jpid, source_pids};
use super::plan::{plan_load, Forced};
use super::state::{latest_records, PatientState};
use super::views::{render, View};
use super::{on_writer, write, PatientSyncError, Result};

/// How long a `load` waits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Wait {
    /// `immediate=true`: answer with the status as it is.
    Not,
    /// `prioritySite`: until that source is complete (or fails).
    For(Source),
    /// Until every source is complete.
    All,
}

/// `GET load`: the `/status` data once the wait is over; `Failed` on an error where the caller
/// waited, or when the wait limit passes.
pub async fn load(host: &Shared, pid: PatientId, forced: Forced, wait: Wait) -> Result<Value> {
    let (jpid, requests) = on_writer(host, move |p| start(p, &pid, None, &forced, true)).await?;
    dispatch(host.clone(), requests).await?;
    let priority = match &wait {
        Wait::Not => return current_status(&**host, &jpid),
        Wait::For(source) => Some(source.clone()),
        Wait::All => None,
    };
    let limit = Duration::from_secs(host.patients().config.wait_limit_seconds);
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        let mut changed = host.patients().waiters.subscribe(&jpid);
        let patient = PatientState::read(host.engine().storage(), &jpid)?;
        match load_progress(&patient.sources, priority.as_ref(), &patient.jobs) {
            LoadProgress::Done => return Ok(render(&patient, View::Status)),
            LoadProgress::Failed => return Err(PatientSyncError::Failed),
            // Nothing open would ever change the answer: a source failed and the rest is done.
            LoadProgress::Waiting if !latest_records(&patient.jobs).iter().any(|job| job.state.is_open()) => {
                return Err(PatientSyncError::Failed)
            }
            LoadProgress::Waiting => {}
        }
        if tokio::time::timeout_at(deadline, changed.changed()).await.is_err() {
            return Err(PatientSyncError::Failed);
        }
    }
}

/// `POST demographics-load`: keeps the demographics (decoded with `dob` as `birthDate`), starts
/// the sync and answers at once. A patient no source serves is kept all the same: its
/// demographics are what the primary knows of it.
pub async fn demographics_load(host: &Shared, pid: PatientId, demographics: Map<String, Value>) -> Result<Value> {
    let (jpid, requests) = on_writer(host, move |p| start(p, &pid, Some(&demographics), &Forced::None, false)).await?;
    dispatch(host.clone(), requests).await?;
    current_status(&**host, &jpid)
}

/// Resolves or creates the patient and writes the load's plan, on the patient writer. With
/// `needs_source`, a patient no source serves is refused (404) and nothing is written.
fn start(
    host: &dyn Host,
    pid: &PatientId,
    demographics: Option<&Map<String, Value>>,
    forced: &Forced,
    needs_source: bool,
) -> Result<(Jpid, Vec<Request>)> {
    let storage = host.engine().storage();
    let not_accessible = || PatientSyncError::NotFound(NOT_YET_ACCESSIBLE.to_string());
    let mut patient = match known_jpid(storage, pid)? {
        Some(jpid) => PatientState::read(storage, &jpid)?,
        None if matches!(pid, PatientId::Jpid(_)) => return Err(not_accessible()),
        None => PatientState {
            jpid: Jpid::generate(),
            identifiers: Vec::new(),
            sources: Vec::new(),
            jobs: Vec::new(),
        },
    };
    let mut batch = PatientWrites::new();
    if !matches!(pid, PatientId::Jpid(_)) {
        patient.identifiers = associate(
            storage,
            &mut batch,
            &patient.jpid,
            &patient.identifiers,
            std::slice::from_ref(pid),
        )?;
    }
    let config = &host.patients().config;
    let sources = host
        .engine()
        .with_directory(|directory| source_pids(&patient.identifiers, config, directory));
    if sources.is_empty() && needs_source {
        return Err(not_accessible());
    }
    if let Some(demographics) = demographics {
        batch.put_patient_demographics(&patient.jpid, demographics);
    }
    let plan = plan_load(
        &patient,
        &sources,
        pid,
        forced,
        host.patients().limits(),
        unix_millis_now(),
    );
    write_plan(host.patients(), &mut batch, &mut patient, &plan);
    write(host, batch)?;
    host.patients().waiters.notify(&patient.jpid);
    let requests = plan
        .requests
        .into_iter()
        .map(|(pid, job)| Request {
            jpid: patient.jpid.clone(),
            pid,
            job,
        })
        .collect();
    Ok((patient.jpid, requests))
}

fn current_status(host: &dyn Host, jpid: &Jpid) -> Result<Value> {
    let patient = PatientState::read(host.engine().storage(), jpid)?;
    Ok(render(&patient, View::Status))
}
