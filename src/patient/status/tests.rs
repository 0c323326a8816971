//! The views against the sample shapes of the API.

use std::collections::BTreeMap;

use serde_json::json;

use super::*;
use crate::patient::jobs::{JobState, JobType};
use crate::patient::metastamp::{DomainStamps, Metastamp};
use crate::patient::{ids::PatientId, SyncError};

const JPID: &str = "52833885-af7c-4899-90be-b3a6630b2369";
const A1: &str = "urn:va:allergy:9E7A:3:751";
const A2: &str = "urn:va:allergy:9E7A:3:752";

fn stamp(number: u64) -> StampTime {
    StampTime::from_number(number).unwrap()
}

fn metastamp(source_stamp: u64, events: &[(&str, u64)]) -> Metastamp {
    let events = events
        .iter()
        .map(|(uid, event)| (uid.to_string(), stamp(*event)))
        .collect();
    let allergy = DomainStamps {
        stamp_time: Some(stamp(source_stamp)),
        events,
    };
    Metastamp {
        stamp_time: stamp(source_stamp),
        domains: BTreeMap::from([("allergy".to_string(), allergy)]),
    }
}

/// A source that sent one allergy domain of `events` and had every one of them stored at `as_of`.
fn complete_source(pid: &str, source_stamp: u64, events: &[(&str, u64)], as_of: u64) -> SourceSyncState {
    let mut state = SourceSyncState::new(SourcePid::parse(pid).unwrap());
    state.merge(&metastamp(source_stamp, events), stamp(source_stamp));
    for (uid, event) in events {
        state.record_stored(uid, stamp(*event), stamp(as_of));
    }
    state
}

/// The view of a patient with no ICN, no access time and no job.
fn without_icn<'a>(jpid: &'a Jpid, sources: &'a [SourceSyncState]) -> PatientSyncView<'a> {
    PatientSyncView {
        jpid,
        icn: None,
        last_access_time: None,
        sources,
        jobs: &[],
    }
}

#[test]
fn status_of_a_fully_synced_patient_is_the_sample() {
    let jpid = Jpid::parse(JPID).unwrap();
    let icn = Icn::parse("10108V420871").unwrap();
    let sources = [complete_source(
        "9E7A;3",
        20160706094004,
        &[(A1, 20050317200936), (A2, 20050317200936)],
        20160706094511,
    )];
    let view = PatientSyncView {
        jpid: &jpid,
        icn: Some(&icn),
        last_access_time: Some(stamp(20160706113600)),
        sources: &sources,
        jobs: &[],
    };
    let expected = json!({"jpid": JPID,
      "syncStatus": {"completedStamp": {"icn": "10108V420871", "lastAccessTime": 20160706113600_u64,
        "sourceMetaStamp": {"9E7A": {"pid": "9E7A;3", "localId": 3, "stampTime": 20160706094004_u64,
          "syncCompleted": true, "syncCompleteAsOf": 20160706094511_u64,
          "domainMetaStamp": {"allergy": {"domain": "allergy", "stampTime": 20160706094004_u64,
            "eventCount": 2, "storedCount": 2, "syncCompleted": true}}}}}},
      "jobStatus": []});
    assert_eq!(serde_json::to_value(status(&view)).unwrap(), expected);
    assert!(completion::is_fully_synced(view.sources, view.jobs));
}

#[test]
fn status_in_progress_fills_what_the_patient_and_its_sources_lack() {
    let jpid = Jpid::parse(JPID).unwrap();
    let mut newer = complete_source("9E7A;3", 20160706094004, &[(A1, 20050317200936)], 20160706094511);
    newer.merge(
        &metastamp(20160707000000, &[(A1, 20160707000000)]),
        stamp(20160707000100),
    );
    let waiting = SourceSyncState::new(SourcePid::parse("DOD;0004325678").unwrap());
    let pid = PatientId::parse("DOD;0004325678").unwrap();
    let job = JobRecord::created(JobType::SourceSync(Source::Dod), &jpid, &pid, None, 1467800000000);
    let (sources, jobs) = ([newer, waiting], [job.clone()]);
    let view = PatientSyncView {
        jpid: &jpid,
        icn: None,
        last_access_time: None,
        sources: &sources,
        jobs: &jobs,
    };
    // No ICN: `""`; nothing complete: an empty `completedStamp`; DOD has sent nothing: stamp 0.
    let expected = json!({"jpid": JPID,
      "syncStatus": {"completedStamp": {"icn": "", "sourceMetaStamp": {}},
        "inProgress": {"icn": "", "sourceMetaStamp": {
        "9E7A": {"pid": "9E7A;3", "localId": 3, "stampTime": 20160707000000_u64, "syncCompleted": false,
          "domainMetaStamp": {"allergy": {"domain": "allergy", "stampTime": 20160707000000_u64,
            "eventCount": 1, "storedCount": 0, "syncCompleted": false}}},
        "DOD": {"pid": "DOD;0004325678", "localId": "0004325678", "stampTime": 0, "syncCompleted": false,
          "domainMetaStamp": {}}}}},
      "jobStatus": [serde_json::to_value(&job).unwrap()]});
    assert_eq!(serde_json::to_value(status(&view)).unwrap(), expected);
}

#[test]
fn status_detail_lists_every_event_and_every_source_before_any_metastamp() {
    let jpid = Jpid::parse(JPID).unwrap();
    let mut state = complete_source("9E7A;3", 20160706094004, &[(A1, 20050317200936)], 20160706094511);
    state.merge(
        &metastamp(20160706094004, &[(A2, 20050317200936)]),
        stamp(20160706094600),
    );
    let sources = [state];
    let view = without_icn(&jpid, &sources);
    let detail = serde_json::to_value(status_detail(&view)).unwrap();
    let allergy = &detail["inProgress"]["sourceMetaStamp"]["9E7A"]["domainMetaStamp"]["allergy"];
    let expected_events = json!({
        A1: {"stampTime": 20050317200936_u64, "stored": true},
        A2: {"stampTime": 20050317200936_u64, "stored": false}});
    assert_eq!(allergy["eventMetaStamp"], expected_events);
    assert_eq!(
        (allergy["eventCount"].as_u64(), allergy["storedCount"].as_u64()),
        (Some(2), Some(1))
    );
    // /status carries no per-event detail.
    let summary = serde_json::to_value(status(&view)).unwrap();
    assert!(
        summary["syncStatus"]["inProgress"]["sourceMetaStamp"]["9E7A"]["domainMetaStamp"]["allergy"]
            .get("eventMetaStamp")
            .is_none()
    );

    let unanswered = [SourceSyncState::new(SourcePid::parse("9E7A;3").unwrap())];
    let view = PatientSyncView {
        sources: &unanswered,
        ..view
    };
    assert_eq!(
        serde_json::to_value(status_detail(&view)).unwrap(),
        json!({"completedStamp": {"icn": "", "sourceMetaStamp": {}},
          "inProgress": {"icn": "", "sourceMetaStamp": {"9E7A": {"pid": "9E7A;3", "localId": 3,
            "stampTime": 0, "syncCompleted": false, "domainMetaStamp": {}}}}})
    );
}

#[test]
fn data_status_is_the_sample() {
    let jpid = Jpid::parse(JPID).unwrap();
    let mut vler = SourceSyncState::new(SourcePid::parse("VLER;10108V420871").unwrap());
    vler.record_error(SyncError::new("fetch", "connection refused"), stamp(20160706094030));
    let mut c877 = SourceSyncState::new(SourcePid::parse("C877;3").unwrap());
    c877.merge(
        &metastamp(20160706094010, &[("urn:va:allergy:C877:3:1", 20050317200936)]),
        stamp(20160706094010),
    );
    let sources = [
        complete_source("9E7A;3", 20160706094004, &[(A1, 20050317200936)], 20160706094511),
        c877,
        complete_source("DOD;4325678", 20160706094020, &[], 20160706094020),
        complete_source("HDR;10108V420871", 20160706094020, &[], 20160706094020),
        vler,
    ];
    let view = without_icn(&jpid, &sources);
    let expected = json!({
        "VISTA": {"9E7A": {"isSyncCompleted": true, "completedStamp": 20160706094004_u64},
                  "C877": {"isSyncCompleted": false, "hasError": false, "completedStamp": 0}},
        "DOD": {"isSyncCompleted": true, "completedStamp": 20160706094020_u64},
        "HDR": {"isSyncCompleted": true, "completedStamp": 20160706094020_u64},
        "VLER": {"hasError": true, "isSyncCompleted": false},
        "allSites": false});
    assert_eq!(serde_json::to_value(data_status(&view)).unwrap(), expected);
}

#[test]
fn data_status_keeps_vista_dod_and_vler_when_the_patient_lacks_them() {
    let jpid = Jpid::parse(JPID).unwrap();
    let dod_only = [complete_source("DOD;4325678", 20160706094020, &[], 20160706094020)];
    let view = without_icn(&jpid, &dod_only);
    let expected = json!({"VISTA": {}, "DOD": {"isSyncCompleted": true, "completedStamp": 20160706094020_u64},
        "VLER": {"isSyncCompleted": true}, "allSites": true});
    assert_eq!(serde_json::to_value(data_status(&view)).unwrap(), expected);

    let pid = PatientId::parse("DOD;4325678").unwrap();
    let open = [JobRecord::created(JobType::EnterpriseSync, &jpid, &pid, None, 1).moved_to(JobState::Started, 2)];
    let view = PatientSyncView { jobs: &open, ..view };
    assert_eq!(
        serde_json::to_value(data_status(&view)).unwrap()["allSites"],
        json!(false)
    );
}

#[test]
fn data_status_keeps_a_sites_last_complete_stamp_while_a_newer_one_is_awaited() {
    let jpid = Jpid::parse(JPID).unwrap();
    let mut site = complete_source("9E7A;3", 20160706094004, &[(A1, 20050317200936)], 20160706094511);
    site.merge(
        &metastamp(20160707000000, &[(A1, 20160707000000)]),
        stamp(20160707000100),
    );
    let sources = [site];
    let view = without_icn(&jpid, &sources);
    let data = serde_json::to_value(data_status(&view)).unwrap();
    assert_eq!(
        data["VISTA"]["9E7A"],
        json!({"isSyncCompleted": false, "hasError": false, "completedStamp": 20160706094004_u64})
    );
}
