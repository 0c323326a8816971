//! A replica that applies the writer's log holds exactly what the writer holds: every kind of
//! change goes through a log kept in memory here (the cluster's is NATS JetStream, tested over
//! real servers in the integration tests), and a second database applies it.

use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;

use super::replication::{AppendError, BoxFuture, ReplicatedLog};
use super::{Catalogues, SyncEngine, SyncError};
use crate::domain::directory::{DirectoryChange, Site, Store};
use crate::domain::ids::SiteId;
use crate::domain::record::{PushedRecord, SyncRecord, SyncType};
use crate::patient::ids::Jpid;
use crate::store::{DirectoryReads, LogReads, PatientWrites, Storage};

/// A log that fences as JetStream's expected last sequence does.
#[derive(Default)]
struct MemoryLog {
    groups: Mutex<Vec<Vec<u8>>>,
}

impl ReplicatedLog for MemoryLog {
    fn append(&self, after: u64, message: Vec<u8>) -> Result<u64, AppendError> {
        let mut groups = self.groups.lock();
        if groups.len() as u64 != after {
            return Err(AppendError::Fenced);
        }
        groups.push(message);
        Ok(groups.len() as u64)
    }

    fn last_position(&self) -> BoxFuture<Result<u64, String>> {
        let last = self.groups.lock().len() as u64;
        Box::pin(async move { Ok(last) })
    }

    fn forward(&self, _request: Vec<u8>) -> BoxFuture<Result<Vec<u8>, String>> {
        Box::pin(async { Err("no other instance here".to_string()) })
    }
}

fn record(table: &str, id: &str, store: &str, data: &str) -> PushedRecord {
    PushedRecord::new(
        format!("SYNC-{table}-{id}"),
        SyncRecord {
            table: table.to_string(),
            record_id: id.to_string(),
            sync_type: SyncType::Insert,
            store_id: store.to_string(),
            key_field_id: String::new(),
            merge_id_to_keep: String::new(),
            merge_id_to_delete: String::new(),
            data: data.as_bytes().to_vec(),
        },
    )
}

fn open(dir: &std::path::Path, log: &Arc<MemoryLog>) -> SyncEngine {
    let (storage, right) = Storage::open(dir, 8).unwrap();
    let log: Arc<dyn ReplicatedLog> = log.clone();
    SyncEngine::open_replicated(storage, right, Catalogues::builtin(), SiteId(1), Some(log)).unwrap()
}

/// Everything a satellite or an operator can read of an engine, and what its database holds.
fn holdings(engine: &SyncEngine, sites: &[SiteId]) -> Vec<String> {
    let mut seen = Vec::new();
    for site in sites {
        seen.push(format!("site {site} count {}", engine.count(*site)));
        for outgoing in engine.list(*site, 10_000).unwrap() {
            let record = outgoing.record();
            seen.push(format!(
                "{site} {} {} {} {}",
                outgoing.sync_id(),
                record.table,
                record.record_id,
                String::from_utf8_lossy(record.data)
            ));
        }
        seen.push(format!("{site} skips {:?}", engine.skips(*site).unwrap()));
        seen.push(format!("{site} progress {:?}", engine.dump_progress(*site)));
    }
    let storage = engine.storage();
    storage
        .scan_log(|seq, entry| seen.push(format!("log {seq} {entry:?}")))
        .unwrap();
    seen.push(format!(
        "next {} at {}",
        storage.next_seq().unwrap(),
        storage.log_position().unwrap()
    ));
    seen.push(format!("queues {:?}", storage.site_queues().unwrap()));
    seen.push(format!("health {:?}", storage.site_healths().unwrap()));
    let mut directory = engine.with_directory(|d| d.sites().cloned().collect::<Vec<_>>());
    directory.sort_by_key(|site| site.id);
    seen.push(format!("directory {directory:?}"));
    seen
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replica_fed_the_log_holds_what_the_writer_holds() {
    let log = Arc::new(MemoryLog::default());
    let (writer_dir, replica_dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let writer = Arc::new(open(writer_dir.path(), &log));
    writer.replication().unwrap().set_writer(Some(1));
    let (clinic, store) = (SiteId(2), SiteId(3));

    // Every kind of change: an operator's, pushes (new rows completed with today's date),
    // a dump, acknowledgements, a skip, a client, a binding, health, patient sync's writes.
    let sites = |_: &crate::domain::directory::Directory| {
        Ok(vec![
            DirectoryChange::PutSite(Site::for_test(SiteId(2), &["S2"])),
            DirectoryChange::PutStore(Store::for_test("S2", SiteId(2))),
            DirectoryChange::PutSite(Site::for_test(SiteId(3), &["S3"])),
            DirectoryChange::PutStore(Store::for_test("S3", SiteId(3))),
            DirectoryChange::PutSite(Site::for_test(SiteId(4), &[])),
        ])
    };
    writer.change_directory(Box::new(sites)).await.unwrap();
    let refused = writer
        .change_directory(Box::new(
            |_: &crate::domain::directory::Directory| Err("no".to_string()),
        ))
        .await;
    assert!(matches!(refused, Err(SyncError::Invalid(_))));
    writer
        .push(
            clinic,
            vec![
                record("unit", "U1", "", r#"{"ID":"U1","units":"box"}"#),
                record("item", "I1", "", r#"{"ID":"I1","item_name":"Amoxicillin"}"#),
                record("transact", "T1", "S2", r#"{"ID":"T1","store_ID":"S2","type":"si"}"#),
            ],
        )
        .await
        .unwrap();
    writer
        .initial_dump(store, false, super::ClientKind::Current)
        .await
        .unwrap();
    let delivered = writer.list(store, 2).unwrap();
    let ids: Vec<&str> = delivered.iter().map(|o| o.sync_id()).collect();
    writer.acknowledge(store, &ids[..1]).await.unwrap();
    writer
        .skip(store, ids[1], |record, at| {
            format!("{} skipped at {at}", record.record_id)
        })
        .await
        .unwrap();
    writer
        .note_client(clinic, super::ClientKind::OpenMsupply)
        .await
        .unwrap();
    writer.bind_hardware(clinic, "HW-1").await.unwrap();
    assert!(matches!(
        writer.bind_hardware(clinic, "HW-2").await,
        Err(SyncError::HardwareMismatch)
    ));
    writer.health().pushed(clinic);
    writer.flush_health().await.unwrap();
    let jpid = Jpid::parse("0b0e8a9c-6a4f-4c1e-9d0a-3f2b1c4d5e6f").unwrap();
    let mut writes = PatientWrites::new();
    let demographics = serde_json::json!({"givenNames": "Ada"});
    writes.put_patient_demographics(&jpid, demographics.as_object().unwrap());
    let patient_writer = writer.clone();
    tokio::task::spawn_blocking(move || patient_writer.write_patient(writes))
        .await
        .unwrap()
        .unwrap();
    writer
        .push(
            store,
            vec![record("item", "I2", "", r#"{"ID":"I2","item_name":"Zinc"}"#)],
        )
        .await
        .unwrap();

    let groups = log.groups.lock().clone();
    assert!(
        groups.len() >= 10,
        "every change went through the log: {} groups",
        groups.len()
    );
    let replica = open(replica_dir.path(), &log);
    for (n, message) in groups.iter().enumerate() {
        replica.replicated(n as u64 + 1, message.clone()).await.unwrap();
    }
    replica.caught_up().await.unwrap();

    // Site 4 never syncs: its queue holds every central record.
    let sites = [clinic, store, SiteId(4)];
    let (on_writer, on_replica) = (holdings(&writer, &sites), holdings(&replica, &sites));
    assert!(on_writer.iter().any(|line| line.contains("Zinc")), "{on_writer:#?}");
    for (w, r) in on_writer.iter().zip(&on_replica) {
        assert_eq!(w, r, "the writer's line, then the replica's");
    }
    assert_eq!(on_writer.len(), on_replica.len());
    let demographics_on = |engine: &SyncEngine| engine.storage().patient_demographics(&jpid).unwrap();
    assert_eq!(demographics_on(&replica), demographics_on(&writer));
    assert!(demographics_on(&replica).is_some());

    // A group passed again (a restart's replay, the writer's own) changes nothing.
    replica.replicated(1, groups[0].clone()).await.unwrap();
    replica.caught_up().await.unwrap();
    assert_eq!(holdings(&replica, &sites), on_writer);
    writer.shutdown();
    replica.shutdown();
    drop(replica);

    // Reopened, the replica resumes after the last group it applied.
    let reopened = open(replica_dir.path(), &log);
    assert_eq!(reopened.replication().unwrap().applied(), groups.len() as u64);
    assert_eq!(holdings(&reopened, &sites), on_writer);
    reopened.shutdown();
}

/// A writer whose replica has not applied the whole log is fenced: its change is refused and
/// nothing of it is applied (here or in the log).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_writer_behind_the_log_is_fenced() {
    let log = Arc::new(MemoryLog::default());
    let (first_dir, second_dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let first = open(first_dir.path(), &log);
    first.replication().unwrap().set_writer(Some(1));
    let site =
        |_: &crate::domain::directory::Directory| Ok(vec![DirectoryChange::PutSite(Site::for_test(SiteId(2), &[]))]);
    first.change_directory(Box::new(site)).await.unwrap();

    let deposed = open(second_dir.path(), &log);
    deposed.replication().unwrap().set_writer(Some(2));
    deposed
        .replication()
        .unwrap()
        .set_find_writer_for(Duration::from_millis(200));
    let refused = deposed
        .push(SiteId(2), vec![record("unit", "U9", "", r#"{"ID":"U9"}"#)])
        .await;
    assert!(matches!(refused, Err(SyncError::NotWriter)), "{refused:?}");
    assert_eq!(log.groups.lock().len(), 1, "nothing appended");
    assert_eq!(deposed.storage().next_seq().unwrap(), 1, "nothing applied");
    first.shutdown();
    deposed.shutdown();
}

/// Patient changes say which patient generation they were decided at: one decided before
/// another change was applied is refused whole, on the writer and on every replica alike.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_patient_change_decided_on_an_older_generation_is_refused_everywhere() {
    let log = Arc::new(MemoryLog::default());
    let (writer_dir, replica_dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let writer = Arc::new(open(writer_dir.path(), &log));
    writer.replication().unwrap().set_writer(Some(1));
    let patients = ["first", "stale", "third"].map(|name| {
        let jpid = Jpid::generate();
        let mut writes = PatientWrites::new();
        let demographics = serde_json::json!({"givenNames": name});
        writes.put_patient_demographics(&jpid, demographics.as_object().unwrap());
        (jpid, writes)
    });
    let write = |mut writes: PatientWrites, generation: u64| {
        let engine = writer.clone();
        writes.decided_at_generation(generation);
        tokio::task::spawn_blocking(move || engine.write_patient(writes))
    };
    assert_eq!(writer.patient_generation(), 0);
    write(patients[0].1.clone(), 0).await.unwrap().unwrap();
    assert_eq!(writer.patient_generation(), 1);
    let stale = write(patients[1].1.clone(), 0).await.unwrap();
    assert!(matches!(stale, Err(SyncError::PatientStale)), "{stale:?}");
    assert_eq!(writer.patient_generation(), 1, "a refused change counts for nothing");
    write(patients[2].1.clone(), 1).await.unwrap().unwrap();

    let replica = open(replica_dir.path(), &log);
    let groups = log.groups.lock().clone();
    for (n, message) in groups.into_iter().enumerate() {
        replica.replicated(n as u64 + 1, message).await.unwrap();
    }
    replica.caught_up().await.unwrap();
    for engine in [&*writer, &replica] {
        let held = |n: usize| engine.storage().patient_demographics(&patients[n].0).unwrap().is_some();
        assert_eq!([held(0), held(1), held(2)], [true, false, true]);
        assert_eq!(engine.patient_generation(), 2);
        assert_eq!(engine.storage().patient_generation().unwrap(), 2);
    }
    writer.shutdown();
    replica.shutdown();
}
