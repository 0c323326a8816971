//! The patient sync jobs in flight (`GET patient-jobs?limit=`): every job whose latest record is
//! still open, across all patients, oldest first, so that an operator sees the loads waiting on a
//! source and the ones a restart abandoned. One scan of the open jobs' index, on the pulls' pool.

use std::collections::HashMap;
use std::sync::Arc;

use crate::api::error::ApiError;
use crate::patient::jobs::{unix_millis_now, JobRecord, JobState};
use crate::primary::Primary;
use crate::wire::admin::{patient_jobs_body, PatientJobView};

/// Jobs listed when the call names no `limit`, and the most it may name.
const DEFAULT_LIMIT: usize = 200;
const MAX_LIMIT: usize = 5_000;

pub async fn in_flight(primary: &Arc<Primary>, query: &HashMap<String, String>) -> Result<Vec<u8>, ApiError> {
    let limit = super::queue::limit(query, DEFAULT_LIMIT, MAX_LIMIT)?;
    crate::api::run_pull(primary, move |primary| {
        // The index is in JPID order: read them all (jobs in flight are few) to list the oldest.
        let (total, mut jobs) = primary.engine.storage().open_patient_jobs(MAX_LIMIT)?;
        jobs.sort_by_key(|job| job.timestamp);
        jobs.truncate(limit);
        let (now_ms, stale_ms) = (unix_millis_now(), primary.patients.limits().stale_ms);
        let views: Vec<PatientJobView> = jobs.iter().map(|job| view(job, now_ms, stale_ms)).collect();
        Ok(patient_jobs_body(total, &views))
    })
    .await
}

fn view(job: &JobRecord, now_ms: u64, stale_ms: u64) -> PatientJobView {
    PatientJobView {
        job_id: job.job_id.clone(),
        root_job_id: job.root_job_id.clone(),
        jpid: job.jpid.as_str().to_string(),
        patient: job.patient_identifier.value.clone(),
        job_type: job.job_type.to_string(),
        state: match job.state {
            JobState::Created => "created",
            JobState::Started => "started",
            JobState::Completed => "completed",
            JobState::Error { .. } => "error",
        }
        .to_string(),
        since_unix_ms: job.timestamp,
        abandoned: now_ms.saturating_sub(job.timestamp) > stale_ms,
    }
}
