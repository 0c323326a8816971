//! The completion rules: when an event, a domain, a source and a patient are synced, and when a
//! waiting load is done or has failed. Every view and every wait asks these functions, so that
//! `/status`, `/data-status` and `/load` never disagree.

use super::jobs::{job_status, JobRecord};
use super::metastamp::{DomainStamps, SourceSyncState};
use super::stamp::StampTime;
use super::Source;

/// A domain's counts as the views show them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DomainProgress {
    pub event_count: usize,
    pub stored_count: usize,
    pub complete: bool,
}

/// An event is stored only when the record stored for its uid carries exactly its latest stamp: a
/// newer version announced but not yet stored leaves it unstored, and so does a stored version the
/// metastamp does not name yet.
pub fn is_event_stored(state: &SourceSyncState, uid: &str, latest: StampTime) -> bool {
    state.stored_stamp(uid) == Some(latest)
}

/// A domain is complete when it has a domain stamp and every event is stored, with no error at the
/// source.
pub fn domain_progress(state: &SourceSyncState, domain: &DomainStamps) -> DomainProgress {
    let event_count = domain.events.len();
    let stored_count = domain
        .events
        .iter()
        .filter(|(uid, latest)| is_event_stored(state, uid, **latest))
        .count();
    let complete = domain.stamp_time.is_some() && stored_count == event_count && state.error().is_none();
    DomainProgress {
        event_count,
        stored_count,
        complete,
    }
}

/// A source is complete when its metastamp has arrived and every domain is complete (a source with
/// no domain holds nothing for the patient, which is complete too).
pub fn is_source_complete(state: &SourceSyncState) -> bool {
    state.has_metastamp()
        && state.error().is_none()
        && state
            .domains()
            .values()
            .all(|domain| domain_progress(state, domain).complete)
}

/// The `/status` rule: `completedStamp` present, `inProgress` absent and `jobStatus` empty, that is
/// at least one source, every source complete, and no job whose latest record is not completed.
pub fn is_fully_synced(sources: &[SourceSyncState], jobs: &[JobRecord]) -> bool {
    !sources.is_empty() && sources.iter().all(is_source_complete) && job_status(jobs).is_empty()
}

/// The `allSites` of `/data-status`: every source complete and no job open (still created or
/// started; a failed job is over, and its source shows `hasError`). A patient no source holds has
/// nothing synced anywhere, so it is false.
pub fn all_sites_complete(sources: &[SourceSyncState], jobs: &[JobRecord]) -> bool {
    let no_job_open = job_status(jobs).iter().all(|record| !record.state.is_open());
    !sources.is_empty() && sources.iter().all(is_source_complete) && no_job_open
}

/// Where a waiting `/load` stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoadProgress {
    /// Keep waiting (until the wait limit, which answers 500).
    Waiting,
    /// Answer 201 with the status.
    Done,
    /// Answer 500: the sync failed where the caller needed it.
    Failed,
}

/// With a priority source the patient has: done once it is complete, failed on its error, and the
/// other sources do not matter. Otherwise: done once fully synced, failed when every source has an
/// error (an error at some sources only leaves the rest to finish, so the wait goes on). A priority
/// source the patient does not have could never complete, so it is ignored.
pub fn load_progress(sources: &[SourceSyncState], priority: Option<&Source>, jobs: &[JobRecord]) -> LoadProgress {
    let priority_state = priority.and_then(|wanted| sources.iter().find(|state| state.source() == *wanted));
    if let Some(state) = priority_state {
        return match (is_source_complete(state), state.error().is_some()) {
            (true, _) => LoadProgress::Done,
            (false, true) => LoadProgress::Failed,
            (false, false) => LoadProgress::Waiting,
        };
    }
    if is_fully_synced(sources, jobs) {
        LoadProgress::Done
    } else if !sources.is_empty() && sources.iter().all(|state| state.error().is_some()) {
        LoadProgress::Failed
    } else {
        LoadProgress::Waiting
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::patient::ids::SourcePid;
    use crate::patient::jobs::{JobState, JobType};
    use crate::patient::metastamp::Metastamp;
    use crate::patient::{ids, SyncError};

    const A1: &str = "urn:va:allergy:9E7A:3:751";
    const A2: &str = "urn:va:allergy:9E7A:3:752";
    const V1: &str = "urn:va:vital:9E7A:3:1";
    const T1: u64 = 20160706094004;
    const T2: u64 = 20160707000000;
    const E1: u64 = 20050317200936;
    const E2: u64 = 20160706235959;

    fn stamp(number: u64) -> StampTime {
        StampTime::from_number(number).unwrap()
    }

    /// One thing that happens to a source.
    enum Step {
        /// A metastamp: source stamp, one domain with its stamp (if any) and events.
        Meta(u64, &'static str, Option<u64>, &'static [(&'static str, u64)]),
        /// A record stored with this stamp.
        Store(&'static str, u64),
        Fail,
        ClearError,
    }
    use Step::*;

    fn apply(state: &mut SourceSyncState, step: &Step) {
        let now = stamp(20160708000000);
        match step {
            Meta(source_stamp, domain, domain_stamp, events) => {
                let events = events
                    .iter()
                    .map(|(uid, event)| (uid.to_string(), stamp(*event)))
                    .collect();
                let stamps = DomainStamps {
                    stamp_time: domain_stamp.map(stamp),
                    events,
                };
                let domains = BTreeMap::from([(domain.to_string(), stamps)]);
                state.merge(
                    &Metastamp {
                        stamp_time: stamp(*source_stamp),
                        domains,
                    },
                    now,
                );
            }
            Store(uid, stored) => state.record_stored(uid, stamp(*stored), now),
            Fail => state.record_error(SyncError::new("fetch", "source unreachable"), now),
            ClearError => state.clear_error(now),
        }
    }

    /// (case, steps, source complete, allergy (events, stored, complete), source stamp)
    type SourceCase = (
        &'static str,
        &'static [&'static Step],
        bool,
        Option<(usize, usize, bool)>,
        Option<u64>,
    );

    #[test]
    fn source_and_domain_completion() {
        const DONE: &Step = &Meta(T1, "allergy", Some(T1), &[(A1, E1)]);
        #[rustfmt::skip]
        let cases: &[SourceCase] = &[
            ("no metastamp yet", &[], false, None, None),
            ("a record but no metastamp yet", &[&Store(A1, E1)], false, None, None),
            ("a domain with no events", &[&Meta(T1, "allergy", Some(T1), &[])], true, Some((0, 0, true)), Some(T1)),
            ("an event not stored", &[DONE], false, Some((1, 0, false)), Some(T1)),
            ("the event stored at its stamp", &[DONE, &Store(A1, E1)], true, Some((1, 1, true)), Some(T1)),
            ("the record before the metastamp", &[&Store(A1, E1), DONE], true, Some((1, 1, true)), Some(T1)),
            ("an older version stored", &[&Meta(T1, "allergy", Some(T1), &[(A1, E2)]), &Store(A1, E1)], false, Some((1, 0, false)), Some(T1)),
            ("a version newer than the metastamp", &[DONE, &Store(A1, E2)], false, Some((1, 0, false)), Some(T1)),
            ("a newer stamp after stored", &[DONE, &Store(A1, E1), &Meta(T2, "allergy", Some(T2), &[(A1, E2)])], false, Some((1, 0, false)), Some(T2)),
            ("the newer version stored", &[DONE, &Store(A1, E1), &Meta(T2, "allergy", Some(T2), &[(A1, E2)]), &Store(A1, E2)], true, Some((1, 1, true)), Some(T2)),
            ("an older metastamp never lowers", &[&Meta(T2, "allergy", Some(T2), &[(A1, E2)]), &Store(A1, E2), DONE], true, Some((1, 1, true)), Some(T2)),
            ("a domain without a stamp", &[&Meta(T1, "allergy", None, &[(A1, E1)]), &Store(A1, E1)], false, Some((1, 1, false)), Some(T1)),
            ("its stamp in a later part", &[&Meta(T1, "allergy", None, &[(A1, E1)]), &Store(A1, E1), &Meta(T1, "allergy", Some(T1), &[])], true, Some((1, 1, true)), Some(T1)),
            ("one of two events stored", &[&Meta(T1, "allergy", Some(T1), &[(A1, E1), (A2, E1)]), &Store(A1, E1)], false, Some((2, 1, false)), Some(T1)),
            ("parts accumulate events", &[DONE, &Store(A1, E1), &Meta(T1, "allergy", Some(T1), &[(A2, E1)])], false, Some((2, 1, false)), Some(T1)),
            ("every accumulated event stored", &[DONE, &Store(A1, E1), &Meta(T1, "allergy", Some(T1), &[(A2, E1)]), &Store(A2, E1)], true, Some((2, 2, true)), Some(T1)),
            ("another domain incomplete", &[DONE, &Store(A1, E1), &Meta(T1, "vital", Some(T1), &[(V1, E1)])], false, Some((1, 1, true)), Some(T1)),
            ("an error at the source", &[DONE, &Store(A1, E1), &Fail], false, Some((1, 1, false)), Some(T1)),
            ("the error cleared", &[DONE, &Store(A1, E1), &Fail, &ClearError], true, Some((1, 1, true)), Some(T1)),
        ];
        for (name, steps, complete, allergy, source_stamp) in cases {
            let mut state = SourceSyncState::new(SourcePid::parse("9E7A;3").unwrap());
            for step in *steps {
                apply(&mut state, step);
            }
            assert_eq!(is_source_complete(&state), *complete, "{name}: source complete");
            assert_eq!(
                state.sync_complete_as_of().is_some(),
                *complete,
                "{name}: syncCompleteAsOf"
            );
            let progress = state
                .domains()
                .get("allergy")
                .map(|domain| domain_progress(&state, domain));
            let progress = progress.map(|p| (p.event_count, p.stored_count, p.complete));
            assert_eq!(progress, *allergy, "{name}: allergy");
            assert_eq!(state.stamp_time(), source_stamp.map(stamp), "{name}: source stamp");
        }
    }

    #[derive(Clone, Copy)]
    enum Kind {
        Complete,
        Incomplete,
        NoMetastamp,
        Errored,
    }
    use Kind::*;

    fn source_state(code: &str, kind: Kind) -> SourceSyncState {
        let pid = match code {
            "DOD" => "DOD;4325678".to_string(),
            "HDR" | "VLER" => format!("{code};10108V420871"),
            site => format!("{site};3"),
        };
        let mut state = SourceSyncState::new(SourcePid::parse(&pid).unwrap());
        let steps: &[&Step] = match kind {
            Complete => &[&Meta(T1, "allergy", Some(T1), &[(A1, E1)]), &Store(A1, E1)],
            Incomplete => &[&Meta(T1, "allergy", Some(T1), &[(A1, E1)])],
            NoMetastamp => &[],
            Errored => &[&Fail],
        };
        for step in steps {
            apply(&mut state, step);
        }
        state
    }

    fn job_record(job_type: &str, state: JobState) -> JobRecord {
        let jpid = ids::Jpid::generate();
        let pid = ids::PatientId::parse("9E7A;3").unwrap();
        JobRecord::created(JobType::parse(job_type).unwrap(), &jpid, &pid, None, 1).moved_to(state, 2)
    }

    /// (case, sources, jobs, prioritySite, fully synced, allSites, load)
    type PatientCase = (
        &'static str,
        &'static [(&'static str, Kind)],
        Vec<JobRecord>,
        Option<&'static str>,
        bool,
        bool,
        LoadProgress,
    );

    #[test]
    fn patient_completion_and_load_progress() {
        use LoadProgress::*;
        let error = || JobState::Error {
            error: SyncError::new("timeout", "no answer"),
        };
        let vista = "vista-9E7A-subscribe-request";
        #[rustfmt::skip]
        let cases: Vec<PatientCase> = vec![
            ("one complete source", &[("9E7A", Complete)], vec![], None, true, true, Done),
            ("one complete, one incomplete", &[("9E7A", Complete), ("C877", Incomplete)], vec![], None, false, false, Waiting),
            ("one with no metastamp yet", &[("9E7A", Complete), ("DOD", NoMetastamp)], vec![], None, false, false, Waiting),
            ("a job still open", &[("9E7A", Complete)], vec![job_record(vista, JobState::Started)], None, false, false, Waiting),
            ("every job completed", &[("9E7A", Complete)], vec![job_record("enterprise-sync-request", JobState::Completed), job_record(vista, JobState::Completed)], None, true, true, Done),
            ("a failed job, sources complete", &[("9E7A", Complete), ("HDR", Complete)], vec![job_record("hdr-sync-request", error())], None, false, true, Waiting),
            ("an error at one source", &[("9E7A", Complete), ("VLER", Errored)], vec![], None, false, false, Waiting),
            ("an error at every source", &[("9E7A", Errored), ("VLER", Errored)], vec![], None, false, false, Failed),
            ("priority complete, others not", &[("9E7A", Complete), ("C877", Incomplete), ("DOD", NoMetastamp)], vec![], Some("9E7A"), false, false, Done),
            ("priority complete, error elsewhere", &[("9E7A", Complete), ("VLER", Errored)], vec![], Some("9E7A"), false, false, Done),
            ("an error at the priority source", &[("9E7A", Errored), ("C877", Complete)], vec![], Some("9E7A"), false, false, Failed),
            ("priority incomplete, others complete", &[("9E7A", Incomplete), ("C877", Complete)], vec![], Some("9E7A"), false, false, Waiting),
            ("priority not yet answered, error elsewhere", &[("9E7A", NoMetastamp), ("VLER", Errored)], vec![], Some("9E7A"), false, false, Waiting),
            ("a priority the patient lacks", &[("9E7A", Complete)], vec![], Some("C877"), true, true, Done),
            ("no source at all", &[], vec![], None, false, false, Waiting),
        ];
        for (name, sources, jobs, priority, fully_synced, all_sites, load) in cases {
            let states: Vec<SourceSyncState> = sources.iter().map(|(code, kind)| source_state(code, *kind)).collect();
            let priority = priority.map(|code| Source::parse(code).unwrap());
            assert_eq!(is_fully_synced(&states, &jobs), fully_synced, "{name}: fully synced");
            assert_eq!(all_sites_complete(&states, &jobs), all_sites, "{name}: allSites");
            assert_eq!(load_progress(&states, priority.as_ref(), &jobs), load, "{name}: load");
        }
    }
}
