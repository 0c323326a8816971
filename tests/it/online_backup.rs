//! An online backup: taken through the admin API while a satellite keeps pushing, it holds every
//! push answered before it began and is a database satsync starts on.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use crate::support::admin::{call, new_unit, plain_basic, send_json, with_operator_and_units, OPERATOR, PASSWORD};
use crate::support::TestServer;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_taken_while_pushes_continue_holds_what_was_answered_and_starts() {
    let dir = tempfile::tempdir().unwrap();
    let (server, logins) = with_operator_and_units(dir.path(), 2).await;
    let (admin, operator) = (server.admin_url(), plain_basic(OPERATOR, PASSWORD));

    // A satellite pushes one record at a time, counting the pushes answered.
    let answered = Arc::new(AtomicU64::new(0));
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let pusher = {
        let (satellite, answered) = (server.satellite(&logins[0], "v3").not_mobile(), answered.clone());
        tokio::spawn(async move {
            let mut n = 0;
            while !*stopped.borrow() {
                n += 1;
                let reply = satellite.push(&format!("[{}]", new_unit("BK", n))).await;
                assert_eq!(reply.status, 200, "{}", reply.raw);
                answered.store(n, Ordering::SeqCst);
            }
        })
    };
    while answered.load(Ordering::SeqCst) < 20 {
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    let before = answered.load(Ordering::SeqCst);
    let taken = send_json(&admin, "POST", "/admin/v1/backups", &operator, r#"{"name":"b1"}"#).await;
    let after = answered.load(Ordering::SeqCst);
    assert_eq!(taken.status, 200, "{}", taken.raw);
    while answered.load(Ordering::SeqCst) < after + 5 {
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    stop.send(true).unwrap();
    pusher.await.unwrap();
    let path = std::path::PathBuf::from(taken.json["path"].as_str().unwrap());
    assert!(path.ends_with("b1"), "{path:?}");
    assert!(taken.json["bytes"].as_u64().unwrap() > 0);

    for (body, why) in [
        (r#"{"name":"b1"}"#, "a name taken"),
        (r#"{"name":"../elsewhere"}"#, "a name leaving the backup directory"),
        (r#"{"nom":"x"}"#, "an unknown key"),
    ] {
        let refused = send_json(&admin, "POST", "/admin/v1/backups", &operator, body).await;
        assert_eq!(refused.status, 400, "{why}: {}", refused.raw);
    }
    let listed = call(&admin, "GET", "/admin/v1/backups", Some(&operator)).await;
    assert_eq!(listed.json["backups"][0]["name"], "b1", "{}", listed.raw);
    let live_count = server.satellite(&logins[1], "v3").not_mobile().count().await;
    server.stop().await;

    // Restored: satsync starts on the backup; the other site's queue holds the three central
    // records and every push answered before the backup began, and none it could not have seen.
    let restored = TestServer::start(&path).await;
    let queued = restored.satellite(&logins[1], "v3").not_mobile().count().await;
    assert!(
        (3 + before..=3 + after).contains(&queued),
        "{queued} queued, pushes answered before the backup {before}, after it {after}"
    );
    assert!(queued < live_count, "pushes went on after the backup");
    let records = restored.satellite(&logins[1], "v3").not_mobile().drain(500).await;
    assert_eq!(records.len() as u64, queued, "every queued record reads back whole");
    restored.stop().await;
}
