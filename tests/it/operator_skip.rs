//! An operator unblocks a satellite: `satsync queue show` lists what heads its queue, `queue skip`
//! removes one record from that satellite's queue only (logged with the reason), `queue skipped`
//! reads the log. The record stays on the primary and in every other queue.

use crate::support::data::{batch, ids, item, sync_ids};
use crate::support::{register_sites, satsync_cli as satsync, TestServer};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_skipped_record_leaves_one_queue_only_and_is_logged() {
    let dir = tempfile::tempdir().unwrap();
    let logins = register_sites(dir.path(), 3);
    let (a, b, c) = (&logins[0], &logins[1], &logins[2]);
    let server = TestServer::start(dir.path()).await;
    server
        .satellite(a, "v3")
        .push(&batch(&[item(1), item(2), item(3)]))
        .await;
    // The satellite pulls but cannot integrate the first record, so never acknowledges.
    let stuck = server.satellite(b, "v3").pull_records(3).await;
    let blocked = sync_ids(&stuck)[0].clone();
    let blocked_record = ids(&stuck)[0].clone();
    server.stop().await;

    let (ok, shown, stderr) = satsync(dir.path(), &["queue", "show", "--site", &b.name, "--limit", "2"]);
    assert!(ok, "{stderr}");
    assert!(
        shown.starts_with(&format!("3 records queued for {}; the first 2:", b.name)),
        "{shown}"
    );
    let first = shown.lines().nth(2).unwrap();
    assert!(
        first.starts_with(&format!("{blocked}\titem\t{blocked_record}\tU\t")),
        "{shown}"
    );

    let skip = |site: &str, sync_id: &str, reason: &str| {
        satsync(
            dir.path(),
            &[
                "queue",
                "skip",
                "--site",
                site,
                "--sync-id",
                sync_id,
                "--reason",
                reason,
            ],
        )
    };
    let (ok, _, stderr) = skip(&b.name, &blocked, " ");
    assert!(!ok && stderr.contains("--reason"), "a skip needs a reason: {stderr}");
    let (ok, out, stderr) = skip(&b.name, &blocked, "fails to integrate on the tablet");
    assert!(ok, "{stderr}");
    assert!(out.contains(&format!("skipped item {blocked_record}")), "{out}");
    let (ok, _, stderr) = skip(&b.name, &blocked, "again");
    assert!(
        !ok && stderr.contains("is queued"),
        "skipping twice is refused: {stderr}"
    );
    let (ok, _, stderr) = skip("nowhere", &blocked, "x");
    assert!(!ok && stderr.contains("no site named nowhere"), "{stderr}");

    let (ok, log, _) = satsync(dir.path(), &["queue", "skipped", "--site", &b.name]);
    assert!(ok);
    let entries: Vec<serde_json::Value> = log.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(entries.len(), 1, "{log}");
    assert_eq!(entries[0]["sync_id"], blocked.as_str());
    assert_eq!(entries[0]["record_id"], blocked_record.as_str());
    assert_eq!(entries[0]["reason"], "fails to integrate on the tablet");
    let (_, other_log, _) = satsync(dir.path(), &["queue", "skipped", "--site", &c.name]);
    assert!(other_log.is_empty(), "{other_log}");

    let server = TestServer::start(dir.path()).await;
    let after = server.satellite(b, "v3").drain(10).await;
    assert_eq!(
        ids(&after),
        ids(&stuck)[1..].to_vec(),
        "only the skipped record left B's queue"
    );
    let others = server.satellite(c, "v3").drain(10).await;
    assert_eq!(
        ids(&others),
        ids(&stuck),
        "C still receives every record, the skipped one included"
    );
    server.stop().await;
}
