//! The decisions of patient sync, as pure functions of a patient's state: which sources a load
//! asks (and which jobs it writes), and which jobs an answer, an error or a time-out closes.

use crate::patient::ids::{PatientId, SourcePid};
use crate::patient::jobs::{JobRecord, JobState, JobType};
use crate::patient::metastamp::SourceSyncState;
use crate::patient::stamp::StampTime;
use crate::patient::{completion, Source, SyncError};

use super::state::{last_completed_millis, latest_records, open_enterprise_job, PatientState};

/// Which sources a load fetches again even if they are complete and recent (`forcedSite`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Forced {
    #[default]
    None,
    /// `forcedSite=true`: every secondary source.
    AllSecondary,
    /// A comma list of source codes.
    Sources(Vec<Source>),
}

impl Forced {
    fn includes(&self, source: &Source) -> bool {
        match self {
            Forced::None => false,
            Forced::AllSecondary => !source.is_primary(),
            Forced::Sources(sources) => sources.contains(source),
        }
    }
}

/// How long things may take, in milliseconds.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// A secondary source answered within this is not asked again.
    pub expiry_ms: u64,
    /// An enterprise job open longer than this was abandoned (by a restart): it is closed and a
    /// new one started rather than joined.
    pub stale_ms: u64,
}

/// What a load (or an answer naming new sources) writes and asks.
#[derive(Debug, Default)]
pub struct Plan {
    /// Job records to write, in order.
    pub jobs: Vec<JobRecord>,
    /// Source states to write: new sources, and asked sources whose error is cleared.
    pub states: Vec<SourceSyncState>,
    /// The sources to ask, each with its job.
    pub requests: Vec<(SourcePid, JobRecord)>,
}

/// Plans a load of `patient` whose sources are `sources`, requested as `requested_by`.
///
/// An open enterprise job is joined: only sources the patient did not have when it started are
/// asked, under it. Otherwise a source is asked when it is forced, new, failed or incomplete, or
/// (a secondary source) when its last complete answer is older than the expiry; a complete
/// satellite is not asked again. Nothing to ask, no job.
pub fn plan_load(
    patient: &PatientState,
    sources: &[SourcePid],
    requested_by: &PatientId,
    forced: &Forced,
    limits: Limits,
    now_ms: u64,
) -> Plan {
    let mut plan = Plan::default();
    let mut root = open_enterprise_job(&patient.jobs).cloned();
    if let Some(open) = &root {
        if now_ms.saturating_sub(open.timestamp) > limits.stale_ms {
            plan.jobs.extend(close_abandoned(&patient.jobs, &open.job_id, now_ms));
            root = None;
        }
    }
    let joining = root.is_some();
    let needs_asking = |pid: &SourcePid| -> bool {
        let source = pid.source();
        let Some(state) = patient.source(pid) else {
            return true;
        };
        if joining {
            return false;
        }
        if forced.includes(&source) || state.error().is_some() || !completion::is_source_complete(state) {
            return true;
        }
        !source.is_primary()
            && last_completed_millis(&patient.jobs, &source)
                .is_none_or(|at| now_ms.saturating_sub(at) >= limits.expiry_ms)
    };
    let asked: Vec<&SourcePid> = sources.iter().filter(|pid| needs_asking(pid)).collect();
    if asked.is_empty() {
        return plan;
    }
    let root = root.unwrap_or_else(|| {
        let enterprise = JobRecord::created(JobType::EnterpriseSync, &patient.jpid, requested_by, None, now_ms);
        plan.jobs.push(enterprise.clone());
        enterprise
    });
    let now = StampTime::from_unix_seconds(now_ms / 1000);
    for pid in asked {
        let job_type = JobType::SourceSync(pid.source());
        let job = JobRecord::created(job_type, &patient.jpid, requested_by, Some(&root.job_id), now_ms);
        match patient.source(pid) {
            None => plan.states.push(SourceSyncState::new(pid.clone())),
            Some(state) if state.error().is_some() => {
                let mut cleared = state.clone();
                cleared.clear_error(now);
                plan.states.push(cleared);
            }
            Some(_) => {}
        }
        plan.jobs.push(job.clone());
        plan.requests.push((pid.clone(), job));
    }
    plan
}

/// Closes an abandoned enterprise job and its open source jobs with a time-out error.
fn close_abandoned(jobs: &[JobRecord], root: &str, now_ms: u64) -> Vec<JobRecord> {
    let error = SyncError::new("timeout", "the sync was abandoned before it finished");
    latest_records(jobs)
        .into_iter()
        .filter(|record| record.root_job_id == root && record.state.is_open())
        .map(|record| record.moved_to(JobState::Error { error: error.clone() }, now_ms))
        .collect()
}

/// The records that close the jobs the sources' states have finished: a source job whose source
/// is complete is completed, one whose source has an error fails with it; an enterprise job whose
/// source jobs are all over is completed, or fails naming the sources that failed.
pub fn closing_records(jobs: &[JobRecord], sources: &[SourceSyncState], now_ms: u64) -> Vec<JobRecord> {
    let latest = latest_records(jobs);
    let mut closing = Vec::new();
    for record in latest.iter().filter(|record| record.state.is_open()) {
        let Some(source) = record.job_type.source() else {
            continue;
        };
        let Some(state) = sources.iter().find(|state| state.source() == *source) else {
            continue;
        };
        if let Some(error) = state.error() {
            closing.push(record.moved_to(JobState::Error { error: error.clone() }, now_ms));
        } else if completion::is_source_complete(state) {
            closing.push(record.moved_to(JobState::Completed, now_ms));
        }
    }
    let state_of = |job_id: &str| -> JobState {
        closing
            .iter()
            .chain(latest.iter().copied())
            .find(|record| record.job_id == job_id)
            .map(|record| record.state.clone())
            .unwrap_or(JobState::Created)
    };
    let mut enterprise_closing = Vec::new();
    for root in latest
        .iter()
        .filter(|record| record.job_type == JobType::EnterpriseSync && record.state.is_open())
    {
        let children: Vec<(&JobRecord, JobState)> = latest
            .iter()
            .filter(|record| record.root_job_id == root.job_id && record.job_id != root.job_id)
            .map(|record| (*record, state_of(&record.job_id)))
            .collect();
        if children.iter().any(|(_, state)| state.is_open()) {
            continue;
        }
        let failed: Vec<String> = children
            .iter()
            .filter(|(_, state)| matches!(state, JobState::Error { .. }))
            .filter_map(|(record, _)| record.job_type.source().map(ToString::to_string))
            .collect();
        let state = if failed.is_empty() {
            JobState::Completed
        } else {
            let message = format!(
                "{} of {} sources failed: {}",
                failed.len(),
                children.len(),
                failed.join(", ")
            );
            JobState::Error {
                error: SyncError::new("source", &message),
            }
        };
        enterprise_closing.push(root.moved_to(state, now_ms));
    }
    closing.extend(enterprise_closing);
    closing
}

/// The latest record of job `job_id` if it is still open.
pub fn open_job<'j>(jobs: &'j [JobRecord], job_id: &str) -> Option<&'j JobRecord> {
    latest_records(jobs)
        .into_iter()
        .find(|record| record.job_id == job_id)
        .filter(|record| record.state.is_open())
}

#[cfg(test)]
mod tests;
