//! Applying what sources answer: a satellite's ingested items, a secondary source's reply or
//! failure, a source's time-out. Each runs on the patient writer (see [`super::on_writer`]), reads
//! the patients it touches, changes them in one `PatientWrites`, closes the jobs the change
//! finished, has the sync writer commit it durably, and only then wakes the patients' waiters.

use std::collections::btree_map::Entry;
use std::collections::BTreeMap;

use super::Host;
use crate::patient::ids::{Jpid, PatientId, SourcePid};
use crate::patient::jobs::{unix_millis_now, JobRecord};
use crate::patient::metastamp::{Metastamp, SourceSyncState};
use crate::patient::stamp::StampTime;
use crate::patient::{completion, SyncError};
use crate::store::{PatientWrites, StoredPatientRecord};
use crate::wire::patient::IngestItem;

use super::identity::{associate, known_jpid, source_pids};
use super::plan::{closing_records, open_job, plan_load, Forced, Plan};
use super::secondary::{FetchError, SourceAnswer};
use super::state::{open_enterprise_job, PatientState};
use super::{write, PatientSync, Result};

/// What an ingestion did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct IngestOutcome {
    /// Items applied.
    pub items: usize,
    /// Records stored (an older version than the one kept is not).
    pub records: usize,
    /// Items for patients the primary does not sync (never loaded, or cleared): the satellite
    /// should stop sending them.
    pub ignored: usize,
}

/// A source to ask, decided while applying: a source the patient gained during an open load.
#[derive(Debug, Clone)]
pub struct Request {
    pub jpid: Jpid,
    pub pid: SourcePid,
    pub job: JobRecord,
}

/// Applies the items a satellite posted (each already checked to be its own patient's).
pub fn ingest(host: &dyn Host, items: &[IngestItem]) -> Result<(IngestOutcome, Vec<Request>)> {
    let storage = host.engine().storage();
    let mut outcome = IngestOutcome::default();
    let mut patients: BTreeMap<Jpid, (PatientState, Vec<&IngestItem>)> = BTreeMap::new();
    for item in items {
        match known_jpid(storage, &PatientId::Source(item.pid.clone()))? {
            None => outcome.ignored += 1,
            Some(jpid) => match patients.entry(jpid) {
                Entry::Occupied(mut kept) => kept.get_mut().1.push(item),
                Entry::Vacant(new) => {
                    let state = PatientState::read(storage, new.key())?;
                    new.insert((state, vec![item]));
                }
            },
        }
    }
    let mut batch = PatientWrites::new();
    let mut requests = Vec::new();
    let (now, now_ms) = (StampTime::now(), unix_millis_now());
    for (patient, items) in patients.values_mut() {
        for item in items.iter() {
            outcome.records += apply_item(host, &mut batch, patient, item, now)?;
            outcome.items += 1;
        }
        requests.extend(ask_new_sources(host, &mut batch, patient, now_ms));
        finish(host, &mut batch, patient, now_ms);
    }
    write(host, batch)?;
    for jpid in patients.keys() {
        host.patients().waiters.notify(jpid);
    }
    Ok((outcome, requests))
}

/// Applies a secondary source's answer to job `job_id` (or its failure, or "nothing here").
/// An answer to a job that is over (timed out, or the patient cleared) changes nothing.
pub fn secondary_answer(
    host: &dyn Host,
    jpid: &Jpid,
    pid: &SourcePid,
    job_id: &str,
    answer: &std::result::Result<SourceAnswer, FetchError>,
) -> Result<Vec<Request>> {
    let storage = host.engine().storage();
    let mut patient = PatientState::read(storage, jpid)?;
    if open_job(&patient.jobs, job_id).is_none() {
        return Ok(Vec::new());
    }
    let (now, now_ms) = (StampTime::now(), unix_millis_now());
    let mut batch = PatientWrites::new();
    match answer {
        Ok(SourceAnswer::Data(item)) => {
            apply_item(host, &mut batch, &mut patient, item, now)?;
            let state = source_mut(&mut patient, pid);
            if state.error().is_none() && !completion::is_source_complete(state) {
                let lacking = SyncError::new("incomplete", "the answer lacks records its metastamp lists");
                state.record_error(lacking, now);
            }
        }
        Ok(SourceAnswer::Nothing) => {
            // The source holds nothing for the patient: an empty metastamp, which is complete.
            let state = source_mut(&mut patient, pid);
            state.clear_error(now);
            let empty = Metastamp {
                stamp_time: now,
                domains: BTreeMap::new(),
            };
            state.merge(&empty, now);
        }
        Err(error) => source_mut(&mut patient, pid).record_error(error.to_sync_error(), now),
    }
    let requests = ask_new_sources(host, &mut batch, &mut patient, now_ms);
    finish(host, &mut batch, &mut patient, now_ms);
    write(host, batch)?;
    host.patients().waiters.notify(jpid);
    Ok(requests)
}

/// Fails job `job_id` with a time-out if it is still open `seconds` after it was asked.
pub fn source_timed_out(host: &dyn Host, jpid: &Jpid, pid: &SourcePid, job_id: &str, seconds: u64) -> Result<()> {
    let storage = host.engine().storage();
    let mut patient = PatientState::read(storage, jpid)?;
    if open_job(&patient.jobs, job_id).is_none() {
        return Ok(());
    }
    let (now, now_ms) = (StampTime::now(), unix_millis_now());
    let message = format!("{} did not answer within {seconds} s", pid.source());
    source_mut(&mut patient, pid).record_error(SyncError::new("timeout", &message), now);
    let mut batch = PatientWrites::new();
    finish(host, &mut batch, &mut patient, now_ms);
    write(host, batch)?;
    host.patients().waiters.notify(jpid);
    Ok(())
}

/// Writes a load's plan into `batch` and into `patient`.
pub fn write_plan(patients: &PatientSync, batch: &mut PatientWrites, patient: &mut PatientState, plan: &Plan) {
    for job in &plan.jobs {
        batch.put_patient_job(&patient.jpid, job, patients.next_micros());
        patient.jobs.push(job.clone());
    }
    for state in &plan.states {
        batch.put_patient_source(&patient.jpid, state);
        match patient.sources.iter_mut().find(|kept| kept.pid() == state.pid()) {
            Some(kept) => *kept = state.clone(),
            None => patient.sources.push(state.clone()),
        }
    }
}

/// One item: the identifiers it adds, its demographics, then the source's answer. Returns the
/// records stored.
fn apply_item(
    host: &dyn Host,
    batch: &mut PatientWrites,
    patient: &mut PatientState,
    item: &IngestItem,
    now: StampTime,
) -> Result<usize> {
    let storage = host.engine().storage();
    if !item.identifiers.is_empty() {
        patient.identifiers = associate(storage, batch, &patient.jpid, &patient.identifiers, &item.identifiers)?;
    }
    if let Some(demographics) = &item.demographics {
        let mut kept = storage.patient_demographics(&patient.jpid)?.unwrap_or_default();
        kept.extend(demographics.iter().map(|(key, value)| (key.clone(), value.clone())));
        batch.put_patient_demographics(&patient.jpid, &kept);
    }
    let jpid = patient.jpid.clone();
    let state = source_mut(patient, &item.pid);
    match &item.error {
        Some(error) => state.record_error(error.clone(), now),
        None if state.error().is_some() => state.clear_error(now),
        None => {}
    }
    if let Some(metastamp) = &item.metastamp {
        state.merge(metastamp, now);
    }
    let mut stored = 0;
    for record in &item.records {
        // An older version never replaces a newer one: answers may arrive out of order.
        if state
            .stored_stamp(&record.uid)
            .is_some_and(|kept| kept > record.stamp_time)
        {
            continue;
        }
        let kept = StoredPatientRecord {
            source: item.pid.to_string(),
            stamp: record.stamp_time,
            data: record.data.clone(),
        };
        batch.put_patient_record(&jpid, &item.pid, &record.domain, &record.uid, &kept);
        state.record_stored(&record.uid, record.stamp_time, now);
        stored += 1;
    }
    Ok(stored)
}

/// The patient's state at `pid`, added (with nothing answered yet) if the patient had none.
fn source_mut<'p>(patient: &'p mut PatientState, pid: &SourcePid) -> &'p mut SourceSyncState {
    let index = match patient.sources.iter().position(|state| state.pid() == pid) {
        Some(index) => index,
        None => {
            patient.sources.push(SourceSyncState::new(pid.clone()));
            patient.sources.len() - 1
        }
    };
    &mut patient.sources[index]
}

/// While a load is open, a source the patient gained (an identifier an answer brought) is asked
/// under it at once; otherwise the next load asks it.
fn ask_new_sources(
    host: &dyn Host,
    batch: &mut PatientWrites,
    patient: &mut PatientState,
    now_ms: u64,
) -> Vec<Request> {
    let Some(root) = open_enterprise_job(&patient.jobs) else {
        return Vec::new();
    };
    let Ok(requested_by) = PatientId::parse(&root.patient_identifier.value) else {
        return Vec::new();
    };
    let config = &host.patients().config;
    let sources = host
        .engine()
        .with_directory(|directory| source_pids(&patient.identifiers, config, directory));
    let new: Vec<SourcePid> = sources
        .into_iter()
        .filter(|pid| patient.source(pid).is_none())
        .collect();
    // Joining an open load asks exactly the sources without a state.
    let plan = plan_load(
        patient,
        &new,
        &requested_by,
        &Forced::None,
        host.patients().limits(),
        now_ms,
    );
    write_plan(host.patients(), batch, patient, &plan);
    plan.requests
        .into_iter()
        .map(|(pid, job)| Request {
            jpid: patient.jpid.clone(),
            pid,
            job,
        })
        .collect()
}

/// Closes the jobs the patient's new state finished, and writes its sources.
fn finish(host: &dyn Host, batch: &mut PatientWrites, patient: &mut PatientState, now_ms: u64) {
    let closing = closing_records(&patient.jobs, &patient.sources, now_ms);
    for job in &closing {
        batch.put_patient_job(&patient.jpid, job, host.patients().next_micros());
    }
    patient.jobs.extend(closing);
    for state in &patient.sources {
        batch.put_patient_source(&patient.jpid, state);
    }
}
