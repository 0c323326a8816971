//! One patient's kept state, read in one go: what every view and every decision starts from.

use std::collections::BTreeMap;

use crate::patient::ids::{Icn, Jpid, PatientId, SourcePid};
use crate::patient::jobs::{JobRecord, JobType};
use crate::patient::metastamp::SourceSyncState;
use crate::patient::stamp::StampTime;
use crate::patient::status::PatientSyncView;
use crate::patient::Source;
use crate::store::Storage;

use super::Result;

#[derive(Debug, Clone)]
pub struct PatientState {
    pub jpid: Jpid,
    pub identifiers: Vec<PatientId>,
    pub sources: Vec<SourceSyncState>,
    /// Every job record, in write order.
    pub jobs: Vec<JobRecord>,
}

impl PatientState {
    /// Reads the patient outside the writer, where a commit may land between the reads: jobs are
    /// read first, so a mixed read sees jobs no later than the sources. A change commits a
    /// source's answer and the closing of its job together, so such a read can only show a job
    /// still open whose source has answered (the waiter waits, and the commit's notification
    /// wakes it to read again), never a job closed whose answer it cannot see, which would read
    /// as "nothing open, not complete": failed.
    pub fn read(storage: &Storage, jpid: &Jpid) -> Result<PatientState> {
        let jobs = storage.patient_jobs(jpid)?;
        let identifiers = storage.patient_identifiers(jpid)?;
        let sources = storage.patient_sources(jpid)?;
        Ok(PatientState {
            jpid: jpid.clone(),
            identifiers,
            sources,
            jobs,
        })
    }

    pub fn icn(&self) -> Option<&Icn> {
        self.identifiers.iter().find_map(|id| match id {
            PatientId::Icn(icn) => Some(icn),
            _ => None,
        })
    }

    /// When the patient was last loaded: the start of its latest enterprise job.
    pub fn last_access_time(&self) -> Option<StampTime> {
        self.jobs
            .iter()
            .filter(|job| job.job_type == JobType::EnterpriseSync)
            .map(|job| job.timestamp)
            .max()
            .map(|millis| StampTime::from_unix_seconds(millis / 1000))
    }

    pub fn source(&self, pid: &SourcePid) -> Option<&SourceSyncState> {
        self.sources.iter().find(|state| state.pid() == pid)
    }

    pub fn view(&self) -> PatientSyncView<'_> {
        PatientSyncView {
            jpid: &self.jpid,
            icn: self.icn(),
            last_access_time: self.last_access_time(),
            sources: &self.sources,
            jobs: &self.jobs,
        }
    }
}

/// The latest record of every job, by job id, in write order of the jobs' first records.
pub fn latest_records(jobs: &[JobRecord]) -> Vec<&JobRecord> {
    let mut order: Vec<&str> = Vec::new();
    let mut latest: BTreeMap<&str, &JobRecord> = BTreeMap::new();
    for record in jobs {
        if latest.insert(&record.job_id, record).is_none() {
            order.push(&record.job_id);
        }
    }
    order.into_iter().map(|id| latest[id]).collect()
}

/// The enterprise job still open, if any: the latest enterprise job, when its latest record is.
pub fn open_enterprise_job(jobs: &[JobRecord]) -> Option<&JobRecord> {
    latest_records(jobs)
        .into_iter()
        .rfind(|record| record.job_type == JobType::EnterpriseSync)
        .filter(|record| record.state.is_open())
}

/// When a source last answered a request completely: the latest completed job of that source.
pub fn last_completed_millis(jobs: &[JobRecord], source: &Source) -> Option<u64> {
    jobs.iter()
        .filter(|record| record.job_type.source() == Some(source))
        .filter(|record| record.state == crate::patient::jobs::JobState::Completed)
        .map(|record| record.timestamp)
        .max()
}
