//! A model-based property test of the queues: random pushes (updates and deletes of central and
//! store records), pulls with partial acknowledgements, and initial dumps, from three sites. Every
//! pull returns what `count` promised, and at the end each satellite's copy (what it pushed
//! itself plus everything it integrated) equals the primary's latest state of every record in its
//! view: nothing lost, nothing stale, nothing from another store.
//!
//! The same property runs against a cluster (`cluster_…`): two instances on a NATS cluster,
//! each call of the model going to the instance after the previous call's, as a satellite's
//! requests do behind a load balancer.

use std::collections::BTreeMap;

use proptest::prelude::*;
use proptest::test_runner::{RngAlgorithm, TestRng, TestRunner};
use satsync::domain::ids::SiteId;
use satsync::sync::SyncEngine;

use crate::support::deployment::{Deployment, Kind};
use crate::support::SiteLogin;

const SITES: usize = 3;

#[derive(Debug, Clone)]
enum Op {
    /// Site pushes changes: (central?, record number, delete?). Store records belong to the
    /// pushing site's own store, as a satellite only holds its own stores' records.
    Push {
        site: usize,
        changes: Vec<(bool, u8, bool)>,
    },
    /// The primary itself changes a store's records (store index, record number, delete?): they
    /// reach that store's site, and compete with the site's own changes to the same records.
    PrimaryPush { changes: Vec<(usize, u8, bool)> },
    /// Site pulls `limit` and acknowledges the records whose bit is set in `mask`.
    Pull { site: usize, limit: usize, mask: u64 },
    /// Site re-initialises (its copy is wiped and rebuilt from the dump).
    Dump { site: usize },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0..SITES, proptest::collection::vec((any::<bool>(), 0u8..9, proptest::bool::weighted(0.2)), 1..5))
            .prop_map(|(site, changes)| Op::Push { site, changes }),
        4 => (0..SITES, 1usize..6, any::<u64>()).prop_map(|(site, limit, mask)| Op::Pull { site, limit, mask }),
        1 => (0..SITES).prop_map(|site| Op::Dump { site }),
        2 => proptest::collection::vec((0..SITES, 0u8..9, proptest::bool::weighted(0.2)), 1..4)
            .prop_map(|changes| Op::PrimaryPush { changes }),
    ]
}

type Key = (String, String);
/// What a satellite holds: the version (`v`) of each record. Rows arrive whole (completed by
/// the catalogue); the version is what tells the latest state from an older one.
type Copy = BTreeMap<Key, String>;

fn version(data: &serde_json::Value) -> String {
    data["v"]
        .as_str()
        .expect("every pushed row carries its version")
        .to_string()
}

fn version_of(text: &str) -> String {
    version(&serde_json::from_str(text).unwrap())
}

/// The primary's truth: latest data of every record (None when deleted), and its store (None = central).
#[derive(Default)]
struct Truth {
    records: BTreeMap<Key, (Option<String>, Option<usize>)>,
}

fn apply_pulled(copy: &mut Copy, record: &serde_json::Value) {
    let key = (
        record["RecordType"].as_str().unwrap().to_string(),
        record["RecordID"].as_str().unwrap().to_string(),
    );
    match record["SyncType"].as_str().unwrap() {
        "D" => {
            copy.remove(&key);
        }
        _ => {
            copy.insert(key, version(&record["data"]));
        }
    }
}

/// One change as a push line, and the data it leaves (None for a delete).
fn change_line(key: &Key, store_id: Option<&str>, delete: bool, names: &str, version: u64) -> (String, Option<String>) {
    let (table, id) = key;
    let store_id = store_id.unwrap_or("");
    if delete {
        let line = format!(
            r#"{{"SyncID":"{names}P{version}","RecordType":"{table}","RecordID":"{id}","SyncType":"D","StoreID":"{store_id}"}}"#
        );
        (line, None)
    } else {
        let data = format!(r#"{{"ID":"{id}","store_ID":"{store_id}","v":"{version}"}}"#);
        let line = format!(
            r#"{{"SyncID":"{names}P{version}","RecordType":"{table}","RecordID":"{id}","SyncType":"U","StoreID":"{store_id}","Data":{data}}}"#
        );
        (line, Some(data))
    }
}

/// The engines the model's calls go to: the one of a single process; in a cluster, each call
/// to the instance after the previous call's, once that instance has applied everything the log
/// holds (the read rule, which the HTTP layer applies before every satellite request and this
/// test, calling the engines directly, applies itself; at once for a single process).
struct Engines<'a> {
    all: Vec<&'a SyncEngine>,
    calls: usize,
}

impl<'a> Engines<'a> {
    async fn next(&mut self) -> &'a SyncEngine {
        let engine = self.all[self.calls % self.all.len()];
        self.calls += 1;
        crate::support::cluster::caught_up(engine).await;
        engine
    }
}

/// Counts on one engine and lists on the next: in a cluster, the count one instance promises
/// is what the other delivers.
async fn pull(engines: &mut Engines<'_>, site: SiteId, limit: usize) -> Vec<serde_json::Value> {
    let expected = engines.next().await.count(site);
    let records = engines.next().await.list(site, limit).unwrap();
    assert_eq!(
        records.len() as u64,
        expected.min(limit as u64),
        "count must match the list"
    );
    let encoded = satsync::wire::v2::encode_records(&records);
    serde_json::from_slice::<Vec<serde_json::Value>>(&encoded).unwrap()
}

/// Runs `ops` from the sites of `logins` on `deployment`; every record id and SyncID begins with
/// `names` (empty for a deployment of its own; a case's own prefix when one cluster serves
/// many cases, so that no case's records are another's).
async fn run(deployment: &Deployment, logins: &[SiteLogin], names: &str, ops: Vec<Op>) {
    let mut engines = Engines {
        all: deployment.engines(),
        calls: 0,
    };
    let sites: Vec<SiteId> = logins.iter().map(|l| SiteId(l.id)).collect();
    let mut copies: Vec<Copy> = vec![Copy::new(); SITES];
    let mut truth = Truth::default();
    let mut version = 0u64;

    for op in ops {
        match op {
            Op::PrimaryPush { changes } => {
                let mut body = Vec::new();
                for (store, n, delete) in changes {
                    version += 1;
                    let key = ("transact".to_string(), format!("{names}transact-{store}-{n}"));
                    let (line, data) = change_line(&key, Some(&logins[store].store_id), delete, names, version);
                    body.push(line);
                    truth.records.insert(key, (data, Some(store)));
                }
                let records = satsync::wire::v2::decode_push(format!("[{}]", body.join(",")).as_bytes(), 100).unwrap();
                engines
                    .next()
                    .await
                    .push(crate::support::PRIMARY, records)
                    .await
                    .unwrap();
            }
            Op::Push { site, changes } => {
                let mut body = Vec::new();
                for (central, n, delete) in changes {
                    version += 1;
                    let (table, store_index) = if central {
                        ("item", None)
                    } else {
                        ("transact", Some(site))
                    };
                    let store_id = store_index.map(|s| logins[s].store_id.clone()).unwrap_or_default();
                    let id = match store_index {
                        Some(store) => format!("{names}{table}-{store}-{n}"),
                        None => format!("{names}{table}-{n}"),
                    };
                    let key = (table.to_string(), id.clone());
                    let sync_id = format!("{names}V{version}");
                    if delete {
                        body.push(format!(r#"{{"SyncID":"{sync_id}","RecordType":"{table}","RecordID":"{id}","SyncType":"D","StoreID":"{store_id}"}}"#));
                        let previous_store = truth.records.get(&key).and_then(|(_, s)| *s).or(store_index);
                        truth.records.insert(key.clone(), (None, previous_store));
                        copies[site].remove(&key);
                    } else {
                        let data = format!(r#"{{"ID":"{id}","store_ID":"{store_id}","v":"{version}"}}"#);
                        body.push(format!(r#"{{"SyncID":"{sync_id}","RecordType":"{table}","RecordID":"{id}","SyncType":"U","StoreID":"{store_id}","Data":{data}}}"#));
                        truth.records.insert(key.clone(), (Some(data.clone()), store_index));
                        // The pushing satellite holds its own change already.
                        copies[site].insert(key, version_of(&data));
                    }
                }
                let records = satsync::wire::v2::decode_push(format!("[{}]", body.join(",")).as_bytes(), 100).unwrap();
                engines.next().await.push(sites[site], records).await.unwrap();
            }
            Op::Pull { site, limit, mask } => {
                let batch = pull(&mut engines, sites[site], limit).await;
                for record in &batch {
                    apply_pulled(&mut copies[site], record);
                }
                let acked: Vec<&str> = batch
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| mask & (1 << i) != 0)
                    .map(|(_, r)| r["SyncID"].as_str().unwrap())
                    .collect();
                engines.next().await.acknowledge(sites[site], &acked).await.unwrap();
            }
            Op::Dump { site } => {
                copies[site].clear();
                engines
                    .next()
                    .await
                    .initial_dump(sites[site], false, satsync::sync::ClientKind::Current)
                    .await
                    .unwrap();
            }
        }
    }

    for site in 0..SITES {
        let promised = engines.next().await.count(sites[site]);
        let mut delivered = 0;
        loop {
            let batch = pull(&mut engines, sites[site], 7).await;
            if batch.is_empty() {
                break;
            }
            delivered += batch.len() as u64;
            batch.iter().for_each(|r| apply_pulled(&mut copies[site], r));
            let ids: Vec<&str> = batch.iter().map(|r| r["SyncID"].as_str().unwrap()).collect();
            engines.next().await.acknowledge(sites[site], &ids).await.unwrap();
        }
        assert_eq!(
            delivered, promised,
            "site {site}: count promised {promised}, the queue delivered {delivered}"
        );
        let expected: Copy = truth
            .records
            .iter()
            .filter(|(_, (_, store))| store.is_none() || *store == Some(site))
            .filter_map(|(key, (data, _))| data.as_ref().map(|d| (key.clone(), version_of(d))))
            .collect();
        let held: Copy = copies[site]
            .iter()
            .filter(|(key, _)| truth.records.contains_key(*key))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        assert_eq!(held, expected, "site {site} holds exactly the latest state of its view");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn queues_deliver_exactly_the_latest_state_of_each_view(ops in proptest::collection::vec(op(), 1..40)) {
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        runtime.block_on(async {
            let (deployment, logins) = Deployment::start(Kind::Single, SITES).await;
            run(&deployment, &logins, "", ops).await;
            deployment.stop().await;
        });
    }
}

/// How many cases the clustered property runs: as many as the single-process one, since they
/// share one cluster (a case takes a fraction of a second once the cluster runs).
const CLUSTER_CASES: u32 = 64;

/// The property against a cluster. A cluster per case (a NATS cluster and two instances, seconds
/// each) would be far too slow, so one cluster serves every case: each case registers sites of
/// its own (through the instance that is not the writer) and names its records and SyncIDs
/// after itself, so that it sees nothing of the cases before it but the central records an
/// initial dump brings (the model leaves out what it did not write). The cases come from a fixed
/// seed: the same cases every run, so that a failure found once is found again (timing aside).
#[test]
fn cluster_queues_deliver_exactly_the_latest_state_of_each_view() {
    // A plain test with a runtime of its own (four workers, as the other clustered tests have):
    // proptest's runner is not async, and each case blocks on the runtime the cluster runs on.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .unwrap();
    let (deployment, _) = runtime.block_on(Deployment::start(Kind::Cluster, 0));
    let config = ProptestConfig {
        cases: CLUSTER_CASES,
        failure_persistence: None,
        // Each shrinking step is a case on the cluster: enough of them to make a failing case
        // readable, not so many that a failure takes an hour to report.
        max_shrink_iters: 100,
        ..ProptestConfig::default()
    };
    let mut runner = TestRunner::new_with_rng(config, TestRng::deterministic_rng(RngAlgorithm::ChaCha));
    let cases = std::sync::atomic::AtomicU64::new(0);
    let result = runner.run(&proptest::collection::vec(op(), 1..40), |ops| {
        // Shrinking runs cases too: every run gets a number of its own.
        let case = cases.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        runtime.block_on(async {
            let mut logins = Vec::new();
            for site in 0..SITES as u64 {
                // Store ids (and name ids, 0x1000 above) apart from every other case's.
                let store = 0xC000_0000_0000 + (case << 16) + site;
                let name = format!("c{case}-site{site}");
                logins.push(deployment.register_site(&name, None, store).await);
            }
            run(&deployment, &logins, &format!("c{case}-"), ops).await;
        });
        Ok(())
    });
    let ran = cases.load(std::sync::atomic::Ordering::Relaxed);
    if let Err(failure) = result {
        panic!("{failure} (after {ran} runs on one cluster)");
    }
    assert_eq!(ran, u64::from(CLUSTER_CASES), "every case ran");
    runtime.block_on(deployment.stop());
}
