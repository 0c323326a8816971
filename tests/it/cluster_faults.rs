//! Faults of a satsync cluster, over real processes (support/process_cluster.rs): the writer
//! instance killed with SIGKILL during a push storm and restarted on its disk, the NATS server
//! leading the log's stream killed during a push storm, a writer frozen (SIGSTOP) until its lease
//! was taken and then woken, an instance started on an empty disk. Each ends with every push that
//! was answered success delivered exactly once, through every instance, to a satellite draining
//! its queue (its count agreeing with its list at every step), and one log on every replica.

use std::collections::BTreeSet;
use std::time::Duration;

use crate::support::process_cluster::{drain_checked, ProcessCluster, PushStorm};
use crate::support::SiteLogin;

/// Every instance's reader (one per instance) drains exactly `answered`; then every instance is
/// stopped and their logs compared.
async fn check_everywhere(cluster: &mut ProcessCluster, readers: &[SiteLogin], answered: &BTreeSet<String>) {
    for n in 0..cluster.instances.len() {
        cluster.wait_ready(n).await;
    }
    for (n, reader) in readers.iter().enumerate() {
        let received = drain_checked(&cluster.base(n % cluster.instances.len()), reader).await;
        let missing: Vec<&String> = answered.difference(&received).take(5).collect();
        assert!(
            missing.is_empty(),
            "answered success but never delivered: {missing:?}\n{}",
            cluster.logs()
        );
        // A batch answered with an error may have been applied before the error: never more than
        // what was pushed, and every one of those was pushed again until answered success.
        assert_eq!(&received, answered, "reader {n} received what was pushed, once");
    }
    cluster.stop_all();
    let logs = cluster.logs_held();
    for (n, log) in logs.iter().enumerate().skip(1) {
        assert_eq!(log, &logs[0], "instance {n}'s replica differs from instance 0's");
    }
    let unique: BTreeSet<&String> = logs[0].iter().collect();
    assert_eq!(unique.len(), logs[0].len(), "a record twice in the log");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn cluster_faults_the_writer_killed_during_a_push_storm_loses_nothing_answered() {
    let (mut cluster, logins) = ProcessCluster::start(2, 5, "").await;
    let (pushers, readers) = logins.split_at(3);
    let writer = cluster.wait_writer().await;
    let storm = PushStorm::start(cluster.bases.clone(), pushers, 0, 20);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    cluster.kill(writer);
    let survivor = cluster.wait_writer().await;
    assert_ne!(survivor, writer, "the other instance took the lease");
    tokio::time::sleep(Duration::from_millis(1000)).await;
    // The killed instance comes back on its disk: it replays what it missed and serves again.
    cluster.launch(writer);
    cluster.wait_ready(writer).await;
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let failures = *storm.failures.lock().unwrap();
    let answered = storm.finish().await;
    assert!(answered.len() >= 100, "the storm pushed {} items", answered.len());
    eprintln!(
        "{} items answered, {failures} attempts failed during the failover",
        answered.len()
    );
    check_everywhere(&mut cluster, readers, &answered).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn cluster_faults_the_log_leader_killed_during_a_push_storm_loses_nothing_answered() {
    let (mut cluster, logins) = ProcessCluster::start(2, 5, "").await;
    let (pushers, readers) = logins.split_at(3);
    let storm = PushStorm::start(cluster.bases.clone(), pushers, 0, 20);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let leader = cluster
        .nats
        .wait_stream_leader("SATSYNC_LOG", Duration::from_secs(30))
        .await
        .expect("the log has a leader");
    cluster.nats.kill(leader);
    tokio::time::sleep(Duration::from_millis(8000)).await;
    cluster.nats.restart(leader).await;
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let answered = storm.finish().await;
    assert!(answered.len() >= 100, "the storm pushed {} items", answered.len());
    check_everywhere(&mut cluster, readers, &answered).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn cluster_faults_a_frozen_writer_woken_after_its_lease_was_taken_writes_nothing() {
    let (mut cluster, logins) = ProcessCluster::start(2, 3, "").await;
    let (pushers, readers) = logins.split_at(1);
    let writer = cluster.wait_writer().await;
    let other = 1 - writer;
    cluster.signal(writer, "STOP");
    // The lease expires unrenewed (TTL 2 s) and the other instance takes it.
    let started = std::time::Instant::now();
    while cluster.lease_holder().await != Some(other) {
        assert!(started.elapsed() < Duration::from_secs(30), "the lease never moved");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mut answered = BTreeSet::new();
    let first: Vec<String> = (0..10).map(crate::support::data::item).collect();
    let via_other = crate::support::Satellite::new(&cluster.base(other), &pushers[0], "v3");
    assert_eq!(
        via_other.push(&crate::support::data::batch(&first)).await.json["error"],
        ""
    );
    answered.extend((0..10).map(|n| format!("{:032X}", 0x1_0000_0000u64 + n)));

    // A push sent to the frozen writer waits in its socket; woken, the instance must not write
    // it as the writer it no longer is: it goes to the new writer (or is refused), once.
    let frozen_base = cluster.base(writer);
    let late = pushers[0].clone();
    let pending = tokio::spawn(async move {
        let second: Vec<String> = (10..20).map(crate::support::data::item).collect();
        crate::support::Satellite::new(&frozen_base, &late, "v3")
            .push(&crate::support::data::batch(&second))
            .await
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    cluster.signal(writer, "CONT");
    let reply = pending.await.unwrap();
    assert_eq!(reply.status, 200, "{}", reply.raw);
    answered.extend((10..20).map(|n| format!("{:032X}", 0x1_0000_0000u64 + n)));
    assert_eq!(
        cluster.lease_holder().await,
        Some(other),
        "the woken instance did not take the lease back"
    );
    check_everywhere(&mut cluster, readers, &answered).await;
    let woken_log = std::fs::read_to_string(cluster.log_file(writer)).unwrap();
    assert!(
        woken_log.contains("no longer the writer"),
        "the woken instance gave up the writer's role:\n{woken_log}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn cluster_faults_an_instance_on_an_empty_disk_restores_the_snapshot_and_replays() {
    let (mut cluster, logins) = ProcessCluster::start(2, 4, "snapshot_interval_seconds = 1\n").await;
    let (pushers, readers) = logins.split_at(1);
    let storm = PushStorm::start(cluster.bases.clone(), pushers, 0, 20);
    tokio::time::sleep(Duration::from_millis(3000)).await;
    // A third instance with nothing on its disk joins while pushes go on.
    cluster.launch(2);
    cluster.wait_ready(2).await;
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let answered = storm.finish().await;
    let log = std::fs::read_to_string(cluster.log_file(2)).unwrap();
    assert!(log.contains("restored the cluster's latest snapshot"), "{log}");
    check_everywhere(
        &mut cluster,
        &[readers[0].clone(), readers[1].clone(), readers[2].clone()],
        &answered,
    )
    .await;
}
