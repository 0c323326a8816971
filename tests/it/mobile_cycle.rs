//! The full mobile-style cycle, on v2 and on v3: site → initial dump → count/pull/ack with limit
//! 10 then 500 → push → pull on another site. Each scenario runs against one process and, as
//! `cluster_…`, against two instances on a NATS cluster with every satellite's requests
//! alternating between them.

use crate::support::data::{batch, ids, item, transact};
use crate::support::deployment::{both_ways, Deployment, Kind};

async fn cycle(kind: Kind, version: &str) {
    let (deployment, logins) = Deployment::start(kind, 2).await;
    let (a, b) = (
        deployment.satellite(&logins[0], version),
        deployment.satellite(&logins[1], version),
    );

    // The primary's own central data, and store data for both sites, pushed by the other site.
    let items: Vec<String> = (0..700).map(item).collect();
    let seeding = deployment.satellite(&logins[1], version);
    let reply = seeding.push(&batch(&items[..400])).await;
    assert_eq!((reply.status, reply.raw.as_str()), (200, r#"{"error":""}"#));
    assert_eq!(seeding.push(&batch(&items[400..])).await.json["error"], "");

    let site = a.site().await;
    assert_eq!(site.status, 200);
    assert_eq!(site.json["SiteID"], logins[0].id);
    assert_eq!(site.json["ServerID"], 1);
    assert_eq!(site.json["StoreID"], logins[0].store_id.as_str());
    assert_eq!(site.json["NameID"], logins[0].store_name_id.as_str());

    let dump = a.initial_dump(false).await;
    assert_eq!(dump.status, 200);
    assert_eq!(dump.json["NumRecords"], 700);

    // Mobile starts at limit 10, then grows the batch.
    let mut received = Vec::new();
    for _ in 0..3 {
        let expected = a.count().await;
        let first = a.pull_records(10).await;
        assert_eq!(first.len(), 10);
        assert_eq!(a.count().await, expected, "pulling alone must not consume");
        let reply = a.acknowledge(&crate::support::data::sync_ids(&first)).await;
        assert_eq!(reply.json["NumRecords"], expected - 10);
        received.extend(first);
    }
    received.extend(a.drain(500).await);
    let mut got = ids(&received);
    got.sort();
    let mut want: Vec<String> = (0..700).map(|n| format!("{:032X}", 0x1_0000_0000u64 + n)).collect();
    want.sort();
    assert_eq!(got, want, "each item exactly once");
    assert_eq!(a.count().await, 0);

    // A pushes an invoice for its own store; B does not host that store, so only a central
    // change reaches B, and A never gets its own push back.
    let (invoice_id, invoice) = transact(1, &logins[0].store_id);
    assert_eq!(a.push(&batch(&[invoice, item(9000)])).await.json["error"], "");
    assert_eq!(a.count().await, 0, "a site's own push is never queued back to it");
    let b_records = b.drain(500).await;
    let b_ids = ids(&b_records);
    assert!(b_ids.contains(&format!("{:032X}", 0x1_0000_0000u64 + 9000)));
    assert!(!b_ids.contains(&invoice_id), "B does not host A's store");
    deployment.stop().await;
}

both_ways! {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    fn mobile_cycle_on_v2, cluster_mobile_cycle_on_v2 = |kind| cycle(kind, "v2")
}

both_ways! {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    fn mobile_cycle_on_v3, cluster_mobile_cycle_on_v3 = |kind| cycle(kind, "v3")
}

both_ways! {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    fn trailing_slashes_and_users, cluster_trailing_slashes_and_users = users_and_trailing_slashes
}

async fn users_and_trailing_slashes(kind: Kind) {
    let (deployment, logins) = Deployment::start(kind, 1).await;
    let a = deployment.satellite(&logins[0], "v3");
    for path in ["site", "site/"] {
        assert_eq!(a.request("GET", path, "").await.status, 200, "{path}");
    }
    for path in ["queued_records/count", "queued_records/count/"] {
        let reply = a
            .request("GET", &format!("{path}?from_site={}&to_site=1", logins[0].id), "")
            .await;
        assert_eq!(reply.json["NumRecords"], 0, "{path}");
    }
    let user = crate::support::client::basic(&format!("user-{}", logins[0].name), "user-pass");
    let as_user = deployment.satellite(&logins[0], "v3").with_authorization(&user);
    let ok = as_user
        .request("GET", &format!("user?store={}", logins[0].store_id.to_lowercase()), "")
        .await;
    assert_eq!(ok.status, 200);
    assert_eq!(ok.json["isAdmin"], false);
    assert!(ok.json["UserID"].as_str().is_some_and(|id| id.len() == 32));
    let other_store = as_user.request("GET", "user?store=FFFF", "").await;
    assert_eq!(
        (other_store.status, other_store.json["error"].as_str()),
        (401, Some("Invalid username or password"))
    );
    let wrong = deployment
        .satellite(&logins[0], "v3")
        .with_authorization(&crate::support::client::basic("user-site2", "nope"));
    assert_eq!(
        wrong
            .request("GET", &format!("user?store={}", logins[0].store_id), "")
            .await
            .status,
        401
    );
    deployment.stop().await;
}
