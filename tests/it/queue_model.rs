//! A model-based property test of the queues: random pushes (updates and deletes of central and
//! store records), pulls with partial acknowledgements, and initial dumps, from three sites. Every
//! pull returns what `count` promised, and at the end each satellite's copy (what it pushed
//! itself plus everything it integrated) equals the primary's latest state of every record in its
//! view: nothing lost, nothing stale, nothing from another store.

use std::collections::BTreeMap;

use proptest::prelude::*;
use satsync::domain::ids::SiteId;
use satsync::sync::SyncEngine;

use crate::support::{register_sites, SiteLogin, TestServer};

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
fn change_line(key: &Key, store_id: Option<&str>, delete: bool, version: u64) -> (String, Option<String>) {
    let (table, id) = key;
    let store_id = store_id.unwrap_or("");
    if delete {
        let line = format!(
            r#"{{"SyncID":"P{version}","RecordType":"{table}","RecordID":"{id}","SyncType":"D","StoreID":"{store_id}"}}"#
        );
        (line, None)
    } else {
        let data = format!(r#"{{"ID":"{id}","store_ID":"{store_id}","v":"{version}"}}"#);
        let line = format!(
            r#"{{"SyncID":"P{version}","RecordType":"{table}","RecordID":"{id}","SyncType":"U","StoreID":"{store_id}","Data":{data}}}"#
        );
        (line, Some(data))
    }
}

async fn pull(engine: &SyncEngine, site: SiteId, limit: usize) -> Vec<serde_json::Value> {
    let expected = engine.count(site);
    let records = engine.list(site, limit).unwrap();
    assert_eq!(
        records.len() as u64,
        expected.min(limit as u64),
        "count must match the list"
    );
    let encoded = satsync::wire::v2::encode_records(&records);
    serde_json::from_slice::<Vec<serde_json::Value>>(&encoded).unwrap()
}

async fn run(ops: Vec<Op>) {
    let dir = tempfile::tempdir().unwrap();
    let logins: Vec<SiteLogin> = register_sites(dir.path(), SITES);
    let server = TestServer::start(dir.path()).await;
    let engine = &server.primary.engine;
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
                    let key = ("transact".to_string(), format!("transact-{store}-{n}"));
                    let (line, data) = change_line(&key, Some(&logins[store].store_id), delete, version);
                    body.push(line);
                    truth.records.insert(key, (data, Some(store)));
                }
                let records = satsync::wire::v2::decode_push(format!("[{}]", body.join(",")).as_bytes(), 100).unwrap();
                engine.push(crate::support::PRIMARY, records).await.unwrap();
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
                        Some(store) => format!("{table}-{store}-{n}"),
                        None => format!("{table}-{n}"),
                    };
                    let key = (table.to_string(), id.clone());
                    let sync_id = format!("V{version}");
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
                engine.push(sites[site], records).await.unwrap();
            }
            Op::Pull { site, limit, mask } => {
                let batch = pull(engine, sites[site], limit).await;
                for record in &batch {
                    apply_pulled(&mut copies[site], record);
                }
                let acked: Vec<&str> = batch
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| mask & (1 << i) != 0)
                    .map(|(_, r)| r["SyncID"].as_str().unwrap())
                    .collect();
                engine.acknowledge(sites[site], &acked).await.unwrap();
            }
            Op::Dump { site } => {
                copies[site].clear();
                engine
                    .initial_dump(sites[site], false, satsync::sync::ClientKind::Current)
                    .await
                    .unwrap();
            }
        }
    }

    for site in 0..SITES {
        let promised = engine.count(sites[site]);
        let mut delivered = 0;
        loop {
            let batch = pull(engine, sites[site], 7).await;
            if batch.is_empty() {
                break;
            }
            delivered += batch.len() as u64;
            batch.iter().for_each(|r| apply_pulled(&mut copies[site], r));
            let ids: Vec<&str> = batch.iter().map(|r| r["SyncID"].as_str().unwrap()).collect();
            engine.acknowledge(sites[site], &ids).await.unwrap();
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
    server.stop().await;
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn queues_deliver_exactly_the_latest_state_of_each_view(ops in proptest::collection::vec(op(), 1..40)) {
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        runtime.block_on(run(ops));
    }
}
