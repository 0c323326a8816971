//! A satsync cluster (issue 17) on a real three-node NATS JetStream cluster with two satsync
//! instances, each a real server over its own RocksDB (support/cluster.rs): changes made through
//! either instance reach both, satellites spread over both see one consistent queue, and the
//! writer's role moves when the writer stops.

use std::collections::BTreeSet;

use crate::support::cluster::TestCluster;
use crate::support::data::{batch, ids, item};
use crate::support::process_cluster::drain_satellite;
use crate::support::Satellite;

fn item_id(n: usize) -> String {
    format!("{:032X}", 0x1_0000_0000u64 + n as u64)
}

/// What each instance's replica holds of the log, as (seq, table, id).
fn log_of(server: &crate::support::TestServer) -> Vec<(u64, String, String)> {
    use satsync::store::LogReads;
    let mut entries = Vec::new();
    server
        .primary
        .engine
        .storage()
        .scan_log(|seq, entry| entries.push((seq, entry.record.table.clone(), entry.record.record_id.clone())))
        .unwrap();
    entries
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn cluster_changes_through_either_instance_reach_both_and_counts_agree_with_lists() {
    let cluster = TestCluster::start(2).await;
    let writer = cluster.wait_writer().await;
    let other = 1 - writer;
    // The directory changes go through the instance that is not the writer: forwarded.
    let logins = cluster.register_sites(other, 2).await;
    let pusher = Satellite::new(&cluster.instance(other).base_url(), &logins[0], "v3");
    let items: Vec<String> = (0..300).map(item).collect();
    let reply = pusher.push(&batch(&items)).await;
    assert_eq!(
        (reply.status, reply.json["error"].as_str()),
        (200, Some("")),
        "{}",
        reply.raw
    );

    // Answered by the instance that forwarded it once its own replica applied it; the other
    // instance applies it before it answers anything (the read rule).
    for n in 0..2 {
        let on_one = Satellite::new(&cluster.instance(n).base_url(), &logins[1], "v3");
        assert_eq!(on_one.count().await, 300, "instance {n}");
    }
    let puller = cluster.satellite(&logins[1], "v3");
    let received = drain_satellite(&puller, 40).await;
    let want: BTreeSet<String> = (0..300).map(item_id).collect();
    assert_eq!(received, want, "each item exactly once");
    for n in 0..2 {
        let on_one = Satellite::new(&cluster.instance(n).base_url(), &logins[1], "v3");
        assert_eq!(on_one.count().await, 0, "instance {n} has the acknowledgements");
        assert_eq!(on_one.pull_records(10).await.len(), 0);
    }
    cluster.wait_applied_everywhere().await;
    assert_eq!(
        log_of(cluster.instance(0)),
        log_of(cluster.instance(1)),
        "one log, two replicas"
    );

    // An operator added through one instance logs in on both; each instance's metrics say which
    // is the writer, how far its replica applied the log, and what the read rule cost.
    let hash = satsync::domain::credentials::PasswordHash::from_password(crate::support::admin::PASSWORD);
    cluster
        .instance(other)
        .primary
        .engine
        .change_directory(Box::new(move |d| {
            satsync::admin::operators::plan_add_operator(d, crate::support::admin::OPERATOR, hash)
                .map_err(|e| e.to_string())
        }))
        .await
        .unwrap();
    cluster.wait_applied_everywhere().await;
    let mut applied = Vec::new();
    for n in 0..2 {
        let (scrape, _) = crate::metrics::scrape(&cluster.instance(n).admin_url()).await;
        let value = |name: &str| {
            scrape
                .samples
                .iter()
                .find(|s| s.metric == name)
                .and_then(|s| match s.value {
                    prometheus_parse::Value::Gauge(v) => Some(v),
                    _ => None,
                })
                .unwrap_or_else(|| panic!("{name} on instance {n}"))
        };
        let expected = if n == writer { 1.0 } else { 0.0 };
        assert_eq!(value("satsync_cluster_writer"), expected, "instance {n}");
        applied.push(value("satsync_cluster_applied_position"));
        // Every satellite request here (a count and a pull at least) went through the read rule.
        for part in ["asking", "applying"] {
            let name = format!("satsync_cluster_read_rule_{part}_seconds_count");
            let requests = crate::metrics::value(&scrape, &name, &[]);
            assert!(requests >= 2.0, "{name} on instance {n}: {requests}");
        }
        let questions = crate::metrics::value(&scrape, "satsync_cluster_read_rule_questions_total", &[]);
        assert!(questions >= 1.0, "questions on instance {n}: {questions}");
    }
    assert!(applied[0] > 0.0 && applied[0] == applied[1], "{applied:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn cluster_a_stopped_writer_hands_over_and_nothing_answered_is_lost() {
    let mut cluster = TestCluster::start(2).await;
    let writer = cluster.wait_writer().await;
    let survivor = 1 - writer;
    let logins = cluster.register_sites(writer, 2).await;
    let before = Satellite::new(&cluster.instance(writer).base_url(), &logins[0], "v3");
    let first: Vec<String> = (0..100).map(item).collect();
    assert_eq!(before.push(&batch(&first)).await.json["error"], "");

    cluster.stop(writer).await;
    assert_eq!(
        cluster.wait_writer().await,
        survivor,
        "the other instance took the lease"
    );
    let after = Satellite::new(&cluster.instance(survivor).base_url(), &logins[0], "v3");
    let second: Vec<String> = (100..200).map(item).collect();
    assert_eq!(after.push(&batch(&second)).await.json["error"], "");

    let puller = Satellite::new(&cluster.instance(survivor).base_url(), &logins[1], "v3");
    assert_eq!(puller.count().await, 200);
    let mut got = ids(&puller.drain(500).await);
    got.sort();
    let want: Vec<String> = (0..200).map(item_id).collect();
    assert_eq!(got, want);
    assert_eq!(puller.count().await, 0);
}

/// The command line does not change a cluster instance's database while the instance is stopped:
/// the change would not be in the log, and that replica would differ from the others for ever.
#[test]
fn cluster_offline_changes_to_an_instance_database_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("db");
    let config = crate::support::write_config(
        &dir.path().join("instance.toml"),
        &data_dir,
        "[cluster]\nservers = [\"nats://127.0.0.1:1\"]\ninstance = \"instance-0\"\n",
    );
    for args in [
        &["site", "add", "--name", "north"][..],
        &["operator", "add", "--name", "ops"][..],
    ] {
        let (ok, _, stderr) = crate::support::run_satsync(&config, args, "pw\n", &[]);
        assert!(!ok, "{args:?} was let through");
        assert!(stderr.contains("cluster's log"), "{args:?}: {stderr}");
    }
    let (storage, _right) = satsync::store::Storage::open(&data_dir, 8).unwrap();
    let directory = satsync::store::DirectoryReads::load_directory(&storage, satsync::domain::ids::SiteId(1)).unwrap();
    assert_eq!(directory.sites().count(), 0, "nothing was written");
}
