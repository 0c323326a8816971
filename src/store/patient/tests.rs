use serde_json::json;

use super::*;
use crate::domain::ids::SiteId;
use crate::domain::record::{SyncRecord, SyncType};
use crate::patient::jobs::{JobState, JobType};
use crate::patient::Source;
use crate::store::{Database, DirectoryWrites, IndexWrites, LogEntry, LogReads, LogWrites, SyncBatch};

fn open() -> (tempfile::TempDir, Database) {
    let dir = tempfile::tempdir().unwrap();
    let storage = Database::open(dir.path(), 8).unwrap();
    (dir, storage)
}

/// Commits patient sync's changes as the sync writer does: in a batch of its own.
fn commit(storage: &Database, writes: PatientWrites) {
    let mut batch = storage.batch();
    batch.put_patient_writes(writes);
    storage.commit(batch).unwrap();
}

fn stamp(number: u64) -> StampTime {
    StampTime::from_number(number).unwrap()
}

fn pid(text: &str) -> PatientId {
    PatientId::parse(text).unwrap()
}

fn source_pid(text: &str) -> SourcePid {
    SourcePid::parse(text).unwrap()
}

const UID: &str = "urn:va:allergy:9E7A:3:751";

fn record(n: u64) -> StoredPatientRecord {
    StoredPatientRecord {
        source: "9E7A".to_string(),
        stamp: stamp(20050317200936 + n),
        data: json!({"uid": UID, "summary": "PENICILLIN", "n": n}),
    }
}

/// Writes one patient with every kind of key: identifiers, a source state, jobs, demographics,
/// records.
fn write_patient(storage: &Database, jpid: &Jpid, ids: &[&str]) {
    let mut batch = PatientWrites::new();
    for id in ids {
        batch.put_patient_identifier(&pid(id), jpid);
    }
    let mut state = SourceSyncState::new(source_pid("9E7A;3"));
    state.record_stored(UID, stamp(20050317200936), stamp(20160706094511));
    batch.put_patient_source(jpid, &state);
    batch.put_patient_source(jpid, &SourceSyncState::new(source_pid("HDR;10108V420871")));
    let job = JobRecord::created(JobType::EnterpriseSync, jpid, &pid(ids[0]), None, 1);
    batch.put_patient_job(jpid, &job, 10);
    batch.put_patient_record(jpid, &source_pid("9E7A;3"), "allergy", UID, &record(0));
    batch.put_patient_record(
        jpid,
        &source_pid("9E7A;3"),
        "vital",
        "urn:va:vital:9E7A:3:1",
        &record(1),
    );
    let demographics = json!({"givenNames": "PATIENT", "familyName": "EIGHT"});
    batch.put_patient_demographics(jpid, demographics.as_object().unwrap());
    commit(storage, batch);
}

/// Everything in one column family, for before/after comparisons.
fn contents(storage: &Storage, family: &str) -> Vec<(Vec<u8>, Vec<u8>)> {
    storage
        .db
        .iterator_cf(storage.cf(family), rocksdb::IteratorMode::Start)
        .map(|item| {
            let (key, value) = item.unwrap();
            (key.to_vec(), value.to_vec())
        })
        .collect()
}

#[test]
fn identifiers_map_to_their_jpid_and_back() {
    let (_dir, storage) = open();
    let jpid = Jpid::generate();
    let ids = ["9E7A;3", "10108V420871", "DOD;0000000003", "HDR;10108V420871"];
    write_patient(&storage, &jpid, &ids);
    for id in ids {
        assert_eq!(storage.patient_jpid(&pid(id)).unwrap(), Some(jpid.clone()), "{id}");
    }
    // The identifier's one spelling finds it whatever case the client sent.
    assert_eq!(storage.patient_jpid(&pid("9e7a;0003")).unwrap(), Some(jpid.clone()));
    assert_eq!(storage.patient_jpid(&pid("C877;3")).unwrap(), None);
    let mut listed = storage.patient_identifiers(&jpid).unwrap();
    listed.sort();
    let mut expected: Vec<PatientId> = ids.iter().map(|id| pid(id)).collect();
    expected.sort();
    assert_eq!(listed, expected);
    assert!(storage.patient_identifiers(&Jpid::generate()).unwrap().is_empty());
}

#[test]
fn sources_records_and_demographics_round_trip() {
    let (_dir, storage) = open();
    let jpid = Jpid::generate();
    write_patient(&storage, &jpid, &["9E7A;3"]);
    let vista = storage.patient_source(&jpid, &source_pid("9E7A;3")).unwrap().unwrap();
    assert_eq!(vista.stored_stamp(UID), Some(stamp(20050317200936)));
    assert_eq!(storage.patient_source(&jpid, &source_pid("DOD;1")).unwrap(), None);
    let sources: Vec<Source> = storage
        .patient_sources(&jpid)
        .unwrap()
        .iter()
        .map(SourceSyncState::source)
        .collect();
    assert_eq!(sources, [Source::parse("9E7A").unwrap(), Source::Hdr]);
    assert_eq!(
        storage
            .patient_record(&jpid, &source_pid("9E7A;3"), "allergy", UID)
            .unwrap(),
        Some(record(0))
    );
    assert_eq!(
        storage
            .patient_record(&jpid, &source_pid("9E7A;3"), "vital", UID)
            .unwrap(),
        None
    );
    assert_eq!(storage.patient_record_count(&jpid).unwrap(), 2);
    let demographics = storage.patient_demographics(&jpid).unwrap().unwrap();
    assert_eq!(demographics["familyName"], "EIGHT");
    assert_eq!(storage.patient_demographics(&Jpid::generate()).unwrap(), None);
}

#[test]
fn jobs_come_back_in_write_order() {
    let (_dir, storage) = open();
    let jpid = Jpid::generate();
    let patient = pid("10108V420871");
    let root = JobRecord::created(JobType::EnterpriseSync, &jpid, &patient, None, 1);
    let hdr = JobRecord::created(JobType::SourceSync(Source::Hdr), &jpid, &patient, Some(&root.job_id), 2);
    let written = [
        (100, root.clone()),
        (150, hdr.clone()),
        (200, hdr.moved_to(JobState::Started, 3)),
        // Out of timestamp order on purpose: write order is what counts.
        (250, root.moved_to(JobState::Completed, 2)),
        (300, hdr.moved_to(JobState::Completed, 4)),
    ];
    // In two batches, the later one first in code order but with later times.
    let mut batch = PatientWrites::new();
    for (at, job) in &written[2..] {
        batch.put_patient_job(&jpid, job, *at);
    }
    commit(&storage, batch);
    let mut batch = PatientWrites::new();
    for (at, job) in &written[..2] {
        batch.put_patient_job(&jpid, job, *at);
    }
    commit(&storage, batch);
    let expected: Vec<JobRecord> = written.iter().map(|(_, job)| job.clone()).collect();
    assert_eq!(storage.patient_jobs(&jpid).unwrap(), expected);
    assert!(storage.patient_jobs(&Jpid::generate()).unwrap().is_empty());
}

#[test]
fn the_jobs_in_flight_are_those_whose_latest_record_is_open() {
    let (_dir, storage) = open();
    let (first, second) = (Jpid::generate(), Jpid::generate());
    let patient = pid("10108V420871");
    let root = JobRecord::created(JobType::EnterpriseSync, &first, &patient, None, 1);
    let hdr = JobRecord::created(
        JobType::SourceSync(Source::Hdr),
        &first,
        &patient,
        Some(&root.job_id),
        2,
    );
    let other = JobRecord::created(JobType::EnterpriseSync, &second, &pid("9E7A;3"), None, 3);
    let mut batch = PatientWrites::new();
    batch.put_patient_job(&first, &root, 10);
    batch.put_patient_job(&first, &hdr, 20);
    batch.put_patient_job(&second, &other, 30);
    commit(&storage, batch);
    assert_eq!(storage.open_patient_jobs(10).unwrap().0, 3);

    let mut batch = PatientWrites::new();
    batch.put_patient_job(&first, &hdr.moved_to(JobState::Started, 4), 40);
    batch.put_patient_job(&first, &root.moved_to(JobState::Completed, 5), 50);
    commit(&storage, batch);
    let (total, jobs) = storage.open_patient_jobs(10).unwrap();
    assert_eq!(total, 2);
    let started = jobs.iter().find(|job| job.job_id == hdr.job_id).unwrap();
    assert_eq!(started.state, JobState::Started, "the latest record is listed");
    let (total, jobs) = storage.open_patient_jobs(1).unwrap();
    assert_eq!((total, jobs.len()), (2, 1), "at most the limit, with the total");

    let mut batch = PatientWrites::new();
    batch.put_patient_job(&first, &hdr.moved_to(JobState::Completed, 6), 60);
    commit(&storage, batch);
    let (total, jobs) = storage.open_patient_jobs(10).unwrap();
    assert_eq!((total, jobs[0].job_id.clone()), (1, other.job_id));
}

#[test]
fn clear_removes_one_patient_and_nothing_else() {
    let (_dir, storage) = open();
    let (cleared, kept) = (Jpid::generate(), Jpid::generate());
    write_patient(&storage, &cleared, &["9E7A;3", "10108V420871", "HDR;10108V420871"]);
    write_patient(&storage, &kept, &["9E7A;4", "C877;8"]);
    // mSupply data in the other families, which clear must not touch.
    let mut batch = storage.batch();
    let entry = LogEntry {
        origin: SiteId(2),
        audiences: Vec::new(),
        record: SyncRecord {
            table: "name".to_string(),
            record_id: "ABC".to_string(),
            sync_type: SyncType::Update,
            store_id: String::new(),
            key_field_id: String::new(),
            merge_id_to_keep: String::new(),
            merge_id_to_delete: String::new(),
            data: b"{\"ID\":\"ABC\"}".to_vec(),
        },
    };
    batch.put_log(7, &entry);
    batch.put_record_seq("name", "ABC", 7);
    batch.put_pushed(SiteId(2), "SYNC1", 7);
    batch.put_join("ABC", "STORE1");
    batch.put_lookup("transact", "ABC", "T1");
    batch.put_site_queue(SiteId(2), &[1, 2, 3]);
    batch.put_next_seq(8);
    storage.commit(batch).unwrap();
    let others: Vec<&str> = cf::ALL
        .into_iter()
        .filter(|family| ![cf::PATIENT_IDS, cf::PATIENT_DATA].contains(family))
        .collect();
    let before: Vec<_> = others.iter().map(|family| contents(&storage, family)).collect();
    let kept_ids = contents(&storage, cf::PATIENT_IDS).len();

    let identifiers = storage.patient_identifiers(&cleared).unwrap();
    assert_eq!(identifiers.len(), 3);
    let mut batch = PatientWrites::new();
    batch.clear_patient(&cleared, &identifiers);
    commit(&storage, batch);

    for id in ["9E7A;3", "10108V420871", "HDR;10108V420871"] {
        assert_eq!(storage.patient_jpid(&pid(id)).unwrap(), None, "{id}");
    }
    assert!(storage.patient_identifiers(&cleared).unwrap().is_empty());
    assert!(storage.patient_sources(&cleared).unwrap().is_empty());
    assert!(storage.patient_jobs(&cleared).unwrap().is_empty());
    assert_eq!(storage.patient_demographics(&cleared).unwrap(), None);
    assert_eq!(storage.patient_record_count(&cleared).unwrap(), 0);
    let prefix = keys::patient_data_prefix(&cleared);
    assert!(contents(&storage, cf::PATIENT_DATA)
        .iter()
        .all(|(key, _)| !key.starts_with(&prefix)));

    // The other patient is whole.
    assert_eq!(storage.patient_jpid(&pid("C877;8")).unwrap(), Some(kept.clone()));
    assert_eq!(storage.patient_identifiers(&kept).unwrap().len(), 2);
    assert_eq!(storage.patient_sources(&kept).unwrap().len(), 2);
    assert_eq!(storage.patient_jobs(&kept).unwrap().len(), 1);
    assert_eq!(storage.patient_record_count(&kept).unwrap(), 2);
    assert!(storage.patient_demographics(&kept).unwrap().is_some());
    // The cleared patient's three identifiers had two keys each, and its open job one; the kept
    // patient's stay.
    assert_eq!(kept_ids - contents(&storage, cf::PATIENT_IDS).len(), 7);
    let (open, jobs) = storage.open_patient_jobs(10).unwrap();
    assert_eq!((open, jobs[0].jpid.clone()), (1, kept.clone()));

    // And the mSupply families are byte for byte as they were.
    let after: Vec<_> = others.iter().map(|family| contents(&storage, family)).collect();
    assert_eq!(before, after);
    assert_eq!(storage.log_entry(7).unwrap(), Some(entry));
}
