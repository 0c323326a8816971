use std::collections::BTreeMap;

use super::*;
use crate::patient::ids::Jpid;
use crate::patient::metastamp::{DomainStamps, Metastamp};

const NOW_MS: u64 = 1_700_000_000_000;
const HOUR_MS: u64 = 3_600_000;
const LIMITS: Limits = Limits {
    expiry_ms: HOUR_MS,
    stale_ms: 10 * HOUR_MS,
};

fn pid(text: &str) -> SourcePid {
    SourcePid::parse(text).unwrap()
}

fn stamp(value: u64) -> StampTime {
    StampTime::from_number(value).unwrap()
}

fn patient(sources: Vec<SourceSyncState>, jobs: Vec<JobRecord>) -> PatientState {
    PatientState {
        jpid: Jpid::parse("52833885-af7c-4899-90be-b3a6630b2369").unwrap(),
        identifiers: Vec::new(),
        sources,
        jobs,
    }
}

/// A source that answered with one domain, every event stored.
fn complete(text: &str) -> SourceSyncState {
    let mut state = SourceSyncState::new(pid(text));
    let uid = "urn:va:allergy:1";
    let domain = DomainStamps {
        stamp_time: Some(stamp(20160706094004)),
        events: BTreeMap::from([(uid.to_string(), stamp(20160706094004))]),
    };
    let metastamp = Metastamp {
        stamp_time: stamp(20160706094004),
        domains: BTreeMap::from([("allergy".to_string(), domain)]),
    };
    state.merge(&metastamp, stamp(20160706094500));
    state.record_stored(uid, stamp(20160706094004), stamp(20160706094500));
    assert!(completion::is_source_complete(&state));
    state
}

fn failed(text: &str) -> SourceSyncState {
    let mut state = SourceSyncState::new(pid(text));
    state.record_error(SyncError::new("fetch", "refused"), stamp(20160706094500));
    state
}

fn requester() -> PatientId {
    PatientId::parse("9E7A;3").unwrap()
}

fn job(patient: &PatientState, source: Option<&str>, root: Option<&str>, at: u64) -> JobRecord {
    let job_type = source.map_or(JobType::EnterpriseSync, |s| JobType::SourceSync(pid(s).source()));
    JobRecord::created(job_type, &patient.jpid, &requester(), root, at)
}

fn types(records: &[JobRecord]) -> Vec<String> {
    records
        .iter()
        .map(|r| format!("{} {:?}", r.job_type, r.state))
        .collect()
}

#[test]
fn a_new_patient_gets_an_enterprise_job_and_one_job_and_state_per_source() {
    let p = patient(vec![], vec![]);
    let sources = [pid("9E7A;3"), pid("HDR;10108V420871")];
    let plan = plan_load(&p, &sources, &requester(), &Forced::None, LIMITS, NOW_MS);
    assert_eq!(
        types(&plan.jobs),
        [
            "enterprise-sync-request Created",
            "vista-9E7A-subscribe-request Created",
            "hdr-sync-request Created"
        ]
    );
    let root = &plan.jobs[0].job_id;
    assert!(plan.jobs.iter().all(|job| job.root_job_id == *root));
    assert_eq!(plan.states.len(), 2);
    assert_eq!(plan.requests.len(), 2);
}

#[test]
fn an_open_load_is_joined_and_only_a_source_new_since_is_asked() {
    let mut p = patient(vec![SourceSyncState::new(pid("9E7A;3"))], vec![]);
    let root = job(&p, None, None, NOW_MS - 1000);
    p.jobs = vec![root.clone(), job(&p, Some("9E7A;3"), Some(&root.job_id), NOW_MS - 1000)];
    let plan = plan_load(&p, &[pid("9E7A;3")], &requester(), &Forced::None, LIMITS, NOW_MS);
    assert!(plan.jobs.is_empty() && plan.requests.is_empty());
    let plan = plan_load(
        &p,
        &[pid("9E7A;3"), pid("C877;3")],
        &requester(),
        &Forced::None,
        LIMITS,
        NOW_MS,
    );
    assert_eq!(types(&plan.jobs), ["vista-C877-subscribe-request Created"]);
    assert_eq!(plan.jobs[0].root_job_id, root.job_id);
}

#[test]
fn an_abandoned_open_load_is_closed_with_an_error_and_a_new_one_started() {
    let mut p = patient(vec![SourceSyncState::new(pid("9E7A;3"))], vec![]);
    let old = NOW_MS - 11 * HOUR_MS;
    let root = job(&p, None, None, old);
    p.jobs = vec![root.clone(), job(&p, Some("9E7A;3"), Some(&root.job_id), old)];
    let plan = plan_load(&p, &[pid("9E7A;3")], &requester(), &Forced::None, LIMITS, NOW_MS);
    assert!(plan.jobs[0].job_id == root.job_id && matches!(plan.jobs[0].state, JobState::Error { .. }));
    assert!(matches!(plan.jobs[1].state, JobState::Error { .. }));
    assert_eq!(
        types(&plan.jobs[2..]),
        [
            "enterprise-sync-request Created",
            "vista-9E7A-subscribe-request Created"
        ]
    );
    assert_ne!(plan.jobs[2].job_id, root.job_id);
}

#[test]
fn a_complete_satellite_is_not_asked_again_but_an_incomplete_or_failed_one_is() {
    let p = patient(vec![complete("9E7A;3"), SourceSyncState::new(pid("C877;3"))], vec![]);
    let plan = plan_load(
        &p,
        &[pid("9E7A;3"), pid("C877;3")],
        &requester(),
        &Forced::None,
        LIMITS,
        NOW_MS,
    );
    assert_eq!(types(&plan.jobs[1..]), ["vista-C877-subscribe-request Created"]);

    let p = patient(vec![complete("9E7A;3"), failed("C877;3")], vec![]);
    let plan = plan_load(
        &p,
        &[pid("9E7A;3"), pid("C877;3")],
        &requester(),
        &Forced::None,
        LIMITS,
        NOW_MS,
    );
    assert_eq!(types(&plan.jobs[1..]), ["vista-C877-subscribe-request Created"]);
    assert_eq!(plan.states.len(), 1);
    assert!(plan.states[0].error().is_none(), "asking again clears the error");
}

#[test]
fn a_secondary_source_answered_within_the_expiry_is_not_fetched_unless_forced() {
    let mut p = patient(vec![complete("HDR;10108V420871"), complete("9E7A;3")], vec![]);
    let root = job(&p, None, None, NOW_MS - 10 * 60_000);
    let hdr = job(&p, Some("HDR;10108V420871"), Some(&root.job_id), NOW_MS - 10 * 60_000);
    let done = hdr.moved_to(JobState::Completed, NOW_MS - 9 * 60_000);
    p.jobs = vec![
        root.clone(),
        hdr,
        done,
        root.moved_to(JobState::Completed, NOW_MS - 9 * 60_000),
    ];
    let sources = [pid("9E7A;3"), pid("HDR;10108V420871")];
    let plan = plan_load(&p, &sources, &requester(), &Forced::None, LIMITS, NOW_MS);
    assert!(plan.jobs.is_empty(), "recent and complete: nothing to ask");

    let plan = plan_load(&p, &sources, &requester(), &Forced::AllSecondary, LIMITS, NOW_MS);
    assert_eq!(types(&plan.jobs[1..]), ["hdr-sync-request Created"]);

    let forced_site = Forced::Sources(vec![Source::parse("9E7A").unwrap()]);
    let plan = plan_load(&p, &sources, &requester(), &forced_site, LIMITS, NOW_MS);
    assert_eq!(types(&plan.jobs[1..]), ["vista-9E7A-subscribe-request Created"]);

    let plan = plan_load(&p, &sources, &requester(), &Forced::None, LIMITS, NOW_MS + HOUR_MS);
    assert_eq!(types(&plan.jobs[1..]), ["hdr-sync-request Created"], "expired");
}

#[test]
fn answers_close_source_jobs_and_the_enterprise_job_once_all_are_over() {
    let mut p = patient(vec![], vec![]);
    let root = job(&p, None, None, NOW_MS);
    let site = job(&p, Some("9E7A;3"), Some(&root.job_id), NOW_MS);
    let hdr = job(&p, Some("HDR;10108V420871"), Some(&root.job_id), NOW_MS);
    p.jobs = vec![root.clone(), site.clone(), hdr.clone()];

    let one_open = closing_records(&p.jobs, &[complete("9E7A;3"), SourceSyncState::new(hdr_pid())], NOW_MS);
    assert_eq!(types(&one_open), ["vista-9E7A-subscribe-request Completed"]);

    let all_done = closing_records(&p.jobs, &[complete("9E7A;3"), complete("HDR;10108V420871")], NOW_MS);
    assert_eq!(
        types(&all_done),
        [
            "vista-9E7A-subscribe-request Completed",
            "hdr-sync-request Completed",
            "enterprise-sync-request Completed"
        ]
    );

    let one_failed = closing_records(&p.jobs, &[complete("9E7A;3"), failed("HDR;10108V420871")], NOW_MS);
    assert!(matches!(&one_failed[1].state, JobState::Error { error } if error.kind == "fetch"));
    match &one_failed[2].state {
        JobState::Error { error } => assert_eq!(error.message, "1 of 2 sources failed: HDR"),
        other => panic!("enterprise job should fail, is {other:?}"),
    }

    p.jobs.extend(all_done);
    assert!(closing_records(&p.jobs, &[complete("9E7A;3"), complete("HDR;10108V420871")], NOW_MS).is_empty());
}

fn hdr_pid() -> SourcePid {
    pid("HDR;10108V420871")
}

#[test]
fn open_job_finds_only_a_job_whose_latest_record_is_open() {
    let p = patient(vec![], vec![]);
    let root = job(&p, None, None, NOW_MS);
    let jobs = vec![root.clone()];
    assert!(open_job(&jobs, &root.job_id).is_some());
    let jobs = vec![root.clone(), root.moved_to(JobState::Completed, NOW_MS)];
    assert!(open_job(&jobs, &root.job_id).is_none());
    assert!(open_job(&jobs, "no-such-job").is_none());
}
