//! A success reply means durable: the server process is killed with SIGKILL right after a push,
//! an acknowledgement and an initial dump, and a new process finds all of them.

use crate::support::client::Satellite;
use crate::support::data::{batch, ids, item, sync_ids};
use crate::support::process::spawn_server;
use crate::support::register_sites;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_writes_survive_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("db");
    std::fs::create_dir_all(&data).unwrap();
    let logins = register_sites(&data, 3);
    let config = crate::support::write_config(&dir.path().join("satsync.toml"), &data, "");

    let server = spawn_server(&config);
    let (a, b, c) = (
        Satellite::new(&server.base, &logins[0], "v3"),
        Satellite::new(&server.base, &logins[1], "v3"),
        Satellite::new(&server.base, &logins[2], "v3"),
    );
    let items: Vec<String> = (0..300).map(item).collect();
    assert_eq!(a.push(&batch(&items)).await.json["error"], "");
    let first = b.pull_records(100).await;
    assert_eq!(b.acknowledge(&sync_ids(&first)).await.json["NumRecords"], 200);
    assert_eq!(c.initial_dump(true).await.json["NumRecords"], 300);
    let dumped = c.pull_records(50).await;
    c.acknowledge(&sync_ids(&dumped)).await;
    server.kill_9();

    let server = spawn_server(&config);
    let (b, c) = (
        Satellite::new(&server.base, &logins[1], "v3"),
        Satellite::new(&server.base, &logins[2], "v3"),
    );
    assert_eq!(b.count().await, 200, "the acknowledgement survived");
    let rest = b.drain(500).await;
    let mut all = ids(&first);
    all.extend(ids(&rest));
    all.sort();
    all.dedup();
    assert_eq!(all.len(), 300, "every pushed record survived, none twice");
    assert_eq!(c.count().await, 250, "the dump and its acknowledgement survived");
    server.kill_9();
}
