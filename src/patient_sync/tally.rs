//! Patient sync's loads and finished jobs since the primary started, for the metrics: a load
//! that started a sync (a new enterprise job: one joining a load in flight, or finding every
//! source fresh, starts none), and every job that ended, completed or in error. Counted by the
//! instance that decided the change, once it is durable (a change refused, and decided again,
//! counts once). The jobs still in flight are read from the open jobs' index instead, exactly.

use std::sync::atomic::{AtomicU64, Ordering};

use crate::patient::jobs::{JobRecord, JobState, JobType};

/// Counts since start.
#[derive(Debug, Default)]
pub struct JobTally {
    loads_started: AtomicU64,
    completed: AtomicU64,
    failed: AtomicU64,
}

/// What a [`JobTally`] holds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct JobTotals {
    pub loads_started: u64,
    pub completed: u64,
    pub failed: u64,
}

impl JobTotals {
    /// What writing `jobs` counts: a new enterprise job is a load started; a record closing a
    /// job is a job finished.
    pub fn of(jobs: &[JobRecord]) -> JobTotals {
        let mut totals = JobTotals::default();
        for job in jobs {
            match (&job.state, &job.job_type) {
                (JobState::Created, JobType::EnterpriseSync) => totals.loads_started += 1,
                (JobState::Created | JobState::Started, _) => {}
                (JobState::Completed, _) => totals.completed += 1,
                (JobState::Error { .. }, _) => totals.failed += 1,
            }
        }
        totals
    }
}

impl JobTally {
    /// Counts job records once they are durable (see [`JobTotals::of`]).
    pub fn add(&self, written: JobTotals) {
        self.loads_started.fetch_add(written.loads_started, Ordering::Relaxed);
        self.completed.fetch_add(written.completed, Ordering::Relaxed);
        self.failed.fetch_add(written.failed, Ordering::Relaxed);
    }

    pub fn totals(&self) -> JobTotals {
        JobTotals {
            loads_started: self.loads_started.load(Ordering::Relaxed),
            completed: self.completed.load(Ordering::Relaxed),
            failed: self.failed.load(Ordering::Relaxed),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::patient::ids::{Jpid, PatientId};
    use crate::patient::{Source, SyncError};

    #[test]
    fn a_new_enterprise_job_is_a_load_and_closing_records_are_finished_jobs() {
        let tally = JobTally::default();
        let (jpid, pid) = (Jpid::generate(), PatientId::parse("9E7A;3").unwrap());
        let root = JobRecord::created(JobType::EnterpriseSync, &jpid, &pid, None, 1);
        let source = JobRecord::created(JobType::SourceSync(Source::Hdr), &jpid, &pid, Some(&root.job_id), 1);
        tally.add(JobTotals::of(&[
            root.clone(),
            source.clone(),
            source.moved_to(JobState::Started, 2),
        ]));
        assert_eq!(
            tally.totals(),
            JobTotals {
                loads_started: 1,
                ..JobTotals::default()
            }
        );
        tally.add(JobTotals::of(&[
            source.moved_to(
                JobState::Error {
                    error: SyncError::new("timeout", "late"),
                },
                3,
            ),
            root.moved_to(JobState::Completed, 3),
        ]));
        assert_eq!(
            tally.totals(),
            JobTotals {
                loads_started: 1,
                completed: 1,
                failed: 1
            }
        );
    }
}
