//! Initialisation progress per table (what patient sync's `operational-status` reports): a dump
//! shows what it queued of each table and how much the site has acknowledged, is complete once
//! the site has acknowledged it all, and stays so across a restart; a site that never initialised
//! has none.

use satsync::domain::ids::SiteId;
use satsync::sync::{DumpProgress, TableProgress};

use crate::support::data::{batch, item, record, sync_ids, transact};
use crate::support::{register_sites, TestServer};

const ITEMS: usize = 30;
const TRANSACTS: usize = 12;

fn table(table: &str, queued: u64, acknowledged: u64) -> TableProgress {
    TableProgress {
        table: table.to_string(),
        queued,
        acknowledged,
    }
}

fn progress(server: &TestServer, site: u32) -> Option<DumpProgress> {
    server.primary.engine.dump_progress(SiteId(site))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dump_reports_per_table_progress_until_complete() {
    let dir = tempfile::tempdir().unwrap();
    let logins = register_sites(dir.path(), 2);
    let server = TestServer::start(dir.path()).await;
    let (dumped, other) = (&logins[0], &logins[1]);
    // The other site pushes central items and transactions of the dumped site's store.
    let pusher = server.satellite(other, "v3");
    let items: Vec<String> = (0..ITEMS).map(item).collect();
    assert_eq!(pusher.push(&batch(&items)).await.json["error"], "");
    let transacts: Vec<String> = (0..TRANSACTS).map(|n| transact(n, &dumped.store_id).1).collect();
    assert_eq!(pusher.push(&batch(&transacts)).await.json["error"], "");
    assert_eq!(progress(&server, dumped.id), None, "not initialised yet");

    let satellite = server.satellite(dumped, "v3");
    let reply = satellite.initial_dump(true).await;
    assert_eq!(reply.json["NumRecords"].as_u64(), Some((ITEMS + TRANSACTS) as u64));
    let started = progress(&server, dumped.id).unwrap();
    assert_eq!(
        started.tables,
        [table("item", ITEMS as u64, 0), table("transact", TRANSACTS as u64, 0)]
    );
    assert!(!started.is_complete());
    assert!(started.started_unix_seconds > 0);
    assert_eq!(started.completed_unix_seconds, None);

    // Part of the dump acknowledged: counted per table, each record once (here every id is sent
    // twice, and again later), not complete.
    let first = satellite.pull_records(ITEMS + 2).await;
    let twice = [sync_ids(&first), sync_ids(&first)].concat();
    for _ in 0..2 {
        let reply = satellite.acknowledge(&twice).await;
        assert_eq!(reply.status, 200, "{}", reply.raw);
    }
    let partway = progress(&server, dumped.id).unwrap();
    assert_eq!(
        partway.tables,
        [
            table("item", ITEMS as u64, ITEMS as u64),
            table("transact", TRANSACTS as u64, 2)
        ]
    );
    assert!(!partway.is_complete());

    let rest = satellite.drain(7).await;
    assert_eq!(first.len() + rest.len(), ITEMS + TRANSACTS);
    let done = progress(&server, dumped.id).unwrap();
    assert_eq!(
        done.tables,
        [
            table("item", ITEMS as u64, ITEMS as u64),
            table("transact", TRANSACTS as u64, TRANSACTS as u64)
        ]
    );
    assert!(done.is_complete());
    assert!(done.completed_unix_seconds.unwrap() >= done.started_unix_seconds);
    assert_eq!(progress(&server, other.id), None, "the pushing site never initialised");
    server.stop().await;

    // Kept in the stored queue state: the same after a restart, and still complete.
    let server = TestServer::start(dir.path()).await;
    assert_eq!(progress(&server, dumped.id), Some(done));
    assert_eq!(progress(&server, other.id), None);

    // Another dump starts over.
    let satellite = server.satellite(dumped, "v3");
    satellite.initial_dump(true).await;
    let again = progress(&server, dumped.id).unwrap();
    assert!(!again.is_complete());
    assert!(again.tables.iter().all(|t| t.acknowledged == 0));
    server.stop().await;
}

/// A record changed while the dump runs leaves it (it comes as a change after the dump): the
/// drained dump is complete, and what it queued of that table is what it delivered.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_record_changed_during_the_dump_leaves_it() {
    let dir = tempfile::tempdir().unwrap();
    let logins = register_sites(dir.path(), 2);
    let server = TestServer::start(dir.path()).await;
    let (dumped, other) = (&logins[0], &logins[1]);
    let pusher = server.satellite(other, "v3");
    let items: Vec<String> = (0..ITEMS).map(item).collect();
    assert_eq!(pusher.push(&batch(&items)).await.json["error"], "");
    let satellite = server.satellite(dumped, "v3");
    satellite.initial_dump(true).await;
    assert_eq!(
        progress(&server, dumped.id).unwrap().tables,
        [table("item", ITEMS as u64, 0)]
    );

    let id = format!("{:032X}", 0x1_0000_0000u64);
    let changed = record(
        "ITEM0-AGAIN",
        "item",
        &id,
        "",
        &format!(r#"{{"ID":"{id}","code":"I0"}}"#),
    );
    assert_eq!(pusher.push(&batch(&[changed])).await.json["error"], "");
    let received = satellite.drain(10).await;
    assert_eq!(received.len(), ITEMS, "the changed record once, as a change");
    let done = progress(&server, dumped.id).unwrap();
    assert!(done.is_complete());
    assert_eq!(done.tables, [table("item", ITEMS as u64 - 1, ITEMS as u64 - 1)]);
    server.stop().await;
}

/// On a new primary with no data, a dump queues nothing and is complete at once: the site is
/// initialised (v5 says so), and the patient API, which waits for a site's initialisation,
/// answers its loads.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_empty_dump_completes_and_the_patient_api_then_answers() {
    let dir = tempfile::tempdir().unwrap();
    let logins = register_sites(dir.path(), 1);
    let server = TestServer::start(dir.path()).await;
    let login = &logins[0];
    let satellite = server.satellite(login, "v3");
    let dumped = satellite.initial_dump(false).await;
    assert_eq!(dumped.json["NumRecords"], 0, "{}", dumped.raw);
    assert_eq!(
        server.primary.engine.initialisation(SiteId(login.id)),
        satsync::sync::Initialisation::Completed
    );
    let done = progress(&server, login.id).expect("a dump was started");
    assert!(done.is_complete());

    let code = format!("{:04X}", login.id);
    let load = http::Request::get(format!(
        "{}/resource/sync/load?pid={code};1&immediate=true",
        server.base_url()
    ))
    .header(
        "authorization",
        crate::support::client::basic(&login.name, &login.password),
    )
    .header("msupply-site-uuid", format!("hw-{}", login.name))
    .body(http_body_util::Full::new(bytes::Bytes::new()))
    .unwrap();
    let reply = crate::support::client::send(&crate::support::client::http_client(), load).await;
    assert_eq!(reply.status, 201, "{}", reply.raw);
    let site = server.satellite(login, "v5").request("GET", "site", "").await;
    assert_eq!(site.json["initialisationStatus"], "completed", "{}", site.raw);
    server.stop().await;
}
