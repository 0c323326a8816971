//! Storage designed for a country: after `initial_dump` for 200 satellites over 20,000 records,
//! the database has grown by less than 1 MB, and each satellite still drains exactly its records.

use std::collections::BTreeSet;

use crate::support::data::{batch, item, transact};
use crate::support::{database_size, register_sites, TestServer};

const SITES: usize = 200;
const CENTRAL: usize = 2_000;
const PER_STORE: usize = 90;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_dumps_add_no_copies() {
    let dir = tempfile::tempdir().unwrap();
    let logins = register_sites(dir.path(), SITES);
    let server = TestServer::start(dir.path()).await;
    // The records are pushed by the last site, so every other site's dump must include them.
    let pusher = server.satellite(&logins[SITES - 1], "v3");
    let items: Vec<String> = (0..CENTRAL).map(item).collect();
    for chunk in items.chunks(500) {
        assert_eq!(pusher.push(&batch(chunk)).await.json["error"], "");
    }
    let mut expected: Vec<BTreeSet<String>> = Vec::new();
    let central_ids: BTreeSet<String> = (0..CENTRAL)
        .map(|n| format!("{:032X}", 0x1_0000_0000u64 + n as u64))
        .collect();
    for (s, login) in logins.iter().enumerate() {
        let (ids, records): (Vec<String>, Vec<String>) = (0..PER_STORE)
            .map(|n| transact(s * PER_STORE + n, &login.store_id))
            .unzip();
        assert_eq!(pusher.push(&batch(&records)).await.json["error"], "");
        let mut mine = central_ids.clone();
        mine.extend(ids);
        expected.push(mine);
    }
    let total = CENTRAL + SITES * PER_STORE;
    assert_eq!(total, 20_000);
    server.stop().await;
    let before = database_size(dir.path());

    let server = TestServer::start(dir.path()).await;
    for (s, login) in logins.iter().enumerate() {
        let reply = server.satellite(login, "v3").initial_dump(true).await;
        assert_eq!(
            reply.json["NumRecords"].as_u64(),
            Some(expected[s].len() as u64),
            "site {}",
            login.id
        );
    }
    server.stop().await;
    let after = database_size(dir.path());
    let growth = after.saturating_sub(before);
    assert!(
        growth < 1_000_000,
        "200 dumps grew the database by {growth} bytes ({before} → {after})"
    );

    let server = TestServer::start(dir.path()).await;
    for (s, login) in logins
        .iter()
        .enumerate()
        .step_by(7)
        .chain(std::iter::once((SITES - 1, &logins[SITES - 1])))
    {
        let received = server.satellite(login, "v3").drain(500).await;
        let got: Vec<String> = received
            .iter()
            .map(|r| r["RecordID"].as_str().unwrap().to_string())
            .collect();
        let unique: BTreeSet<String> = got.iter().cloned().collect();
        assert_eq!(unique.len(), got.len(), "site {}: nothing twice", login.id);
        assert_eq!(unique, expected[s], "site {}: exactly its records", login.id);
    }
    server.stop().await;
}
