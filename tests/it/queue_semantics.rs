//! Queue semantics: FIFO, at-least-once, idempotent pushes, latest state, deletes and merges,
//! whole rows (an update keeps the fields it leaves out; unknown fields byte for byte), `sync_id` lookups, out-of-order acknowledgements, idempotent dumps in
//! reference order with later changes after them.

//!
//! Each scenario runs against one process and, as `cluster_…`, against two instances on a NATS
//! cluster with every satellite's requests alternating between them: one consistent queue.

use crate::support::data::{batch, delete, ids, item, record, sync_ids};
use crate::support::deployment::{both_ways, Deployment, Kind};
use crate::support::{Satellite, SiteLogin};

/// A deployment of `kind` with two sites, and a v3 satellite of each.
async fn two_sites(kind: Kind) -> (Deployment, Vec<SiteLogin>, Satellite, Satellite) {
    let (deployment, logins) = Deployment::start(kind, 2).await;
    let (a, b) = (
        deployment.satellite(&logins[0], "v3"),
        deployment.satellite(&logins[1], "v3"),
    );
    (deployment, logins, a, b)
}

both_ways! {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    fn unacknowledged_records_come_back_first_in_the_same_order, cluster_unacknowledged_records_come_back_first_in_the_same_order = fifo_and_at_least_once
}

async fn fifo_and_at_least_once(kind: Kind) {
    let (deployment, _, a, b) = two_sites(kind).await;
    let items: Vec<String> = (0..8).map(item).collect();
    a.push(&batch(&items)).await;
    let first = b.pull_records(5).await;
    let again = b.pull_records(5).await;
    assert_eq!(
        first, again,
        "an unacknowledged batch comes back whole, same order, same SyncIDs"
    );
    assert_eq!(
        ids(&first),
        (0..5)
            .map(|n| format!("{:032X}", 0x1_0000_0000u64 + n))
            .collect::<Vec<_>>(),
        "FIFO"
    );
    // Acknowledge only the second record: it leaves, the others stay, in order.
    let reply = b.acknowledge(&sync_ids(&first[1..2])).await;
    assert_eq!(reply.json["NumRecords"], 7);
    let rest = b.pull_records(3).await;
    assert_eq!(
        ids(&rest),
        vec![ids(&first)[0].clone(), ids(&first)[2].clone(), ids(&first)[3].clone()]
    );
    // Unknown, foreign and repeated ids are ignored; an empty list is fine.
    let reply = b.acknowledge(&["NOT-OURS".into(), sync_ids(&first)[1].clone()]).await;
    assert_eq!((reply.status, reply.json["NumRecords"].as_u64()), (200, Some(7)));
    assert_eq!(b.acknowledge(&[]).await.json["NumRecords"], 7);
    assert_eq!(b.drain(3).await.len(), 7);
    deployment.stop().await;
}

both_ways! {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    fn a_push_applied_twice_changes_nothing_the_second_time, cluster_a_push_applied_twice_changes_nothing_the_second_time = idempotent_pushes
}

async fn idempotent_pushes(kind: Kind) {
    let (deployment, _, a, b) = two_sites(kind).await;
    let body = batch(&(0..20).map(item).collect::<Vec<_>>());
    assert_eq!(a.push(&body).await.raw, r#"{"error":""}"#);
    let first = b.pull_records(100).await;
    assert_eq!(
        a.push(&body).await.raw,
        r#"{"error":""}"#,
        "a re-sent push answers success"
    );
    assert_eq!(b.count().await, 20);
    assert_eq!(b.pull_records(100).await, first, "nothing re-queued or changed");
    deployment.stop().await;
}

both_ways! {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    fn latest_state_once_as_a_whole_row_deletes_and_merges, cluster_latest_state_once_as_a_whole_row_deletes_and_merges = latest_state_deletes_and_merges
}

async fn latest_state_deletes_and_merges(kind: Kind) {
    let (deployment, _, a, b) = two_sites(kind).await;
    let id = "fd4480004dd011e683e8eb63f3681c9a";
    // Odd spacing, key order that is not sorted, numbers as numbers and as strings, a null date.
    let v1 = r#"{"ID":"fd4480004dd011e683e8eb63f3681c9a", "code":"Z1","item_name":"Zinc", "zeta":"1","alpha":2,"quantity":"10"}"#;
    let v2 = r#"{ "quantity" : "12", "ID":"fd4480004dd011e683e8eb63f3681c9a","date":"0000-00-00T00:00:00","n":1.50 }"#;
    a.push(&batch(&[record("S1", "item", id, "", v1)])).await;
    a.push(&batch(&[record("S2", "item", id, "", v2)])).await;
    assert_eq!(b.count().await, 1, "changed twice before delivery: delivered once");
    let reply = b.pull(10).await;
    let got = reply.json.as_array().unwrap();
    // The whole row: the second push's fields over the first's, the catalogue's defaults for
    // what neither carried, and fields the catalogue does not know exactly as pushed.
    let data = &got[0]["data"];
    assert_eq!(data["quantity"], "12", "the update's value");
    assert_eq!(
        (&data["zeta"], &data["alpha"]),
        (&serde_json::json!("1"), &serde_json::json!(2)),
        "kept from the insert"
    );
    assert_eq!(
        (&data["type_of"], &data["doses"], &data["is_vaccine"]),
        (
            &serde_json::json!("general"),
            &serde_json::json!("0"),
            &serde_json::json!("false")
        )
    );
    assert!(
        reply.raw.contains(r#""n":1.50"#),
        "an unknown field byte for byte: {}",
        reply.raw
    );
    assert_eq!(got[0]["RecordID"], id, "the id keeps its case");
    assert_eq!(got[0]["RecordType"], "item");
    assert_eq!(got[0]["SyncType"], "U");
    for key in [
        "SyncID",
        "KeyFieldID",
        "mergeIDtokeep",
        "mergeIDtodelete",
        "StoreID",
        "data",
    ] {
        assert!(got[0].get(key).is_some(), "pulled records carry {key}");
    }
    b.acknowledge(&sync_ids(got)).await;

    // A delete reaches the satellite.
    a.push(&batch(&[delete("S3", "item", id, "")])).await;
    let deleted = b.drain(10).await;
    assert_eq!((deleted.len(), deleted[0]["SyncType"].as_str()), (1, Some("D")));
    assert_eq!(deleted[0]["RecordID"], id);

    // A merge reaches it with both ids, and the merged-away record leaves later dumps.
    a.push(&batch(&[item(1), item(2)])).await;
    b.drain(10).await;
    let keep = format!("{:032X}", 0x1_0000_0000u64 + 1);
    let gone = format!("{:032X}", 0x1_0000_0000u64 + 2);
    let merge = format!(
        r#"[{{"SyncID":"S4","RecordType":"item","RecordID":"{keep}","SyncType":"M","mergeIDtokeep":"{keep}","mergeIDtodelete":"{gone}"}}]"#
    );
    assert_eq!(a.push(&merge).await.json["error"], "");
    let merged = b.drain(10).await;
    assert_eq!(merged.len(), 1);
    assert_eq!(
        (
            merged[0]["SyncType"].as_str(),
            merged[0]["mergeIDtokeep"].as_str(),
            merged[0]["mergeIDtodelete"].as_str()
        ),
        (Some("M"), Some(keep.as_str()), Some(gone.as_str()))
    );
    let dump = b.initial_dump(true).await;
    assert_eq!(dump.json["NumRecords"], 1, "only the kept item exists");
    assert_eq!(ids(&b.drain(10).await), vec![keep]);
    deployment.stop().await;
}

both_ways! {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    fn sync_id_lookup_returns_only_a_queued_record, cluster_sync_id_lookup_returns_only_a_queued_record = sync_id_lookups
}

async fn sync_id_lookups(kind: Kind) {
    let (deployment, logins, a, b) = two_sites(kind).await;
    a.push(&batch(&[item(1), item(2)])).await;
    let queued = b.pull_records(2).await;
    let wanted = queued[1]["SyncID"].as_str().unwrap();
    let query = format!("queued_records?from_site={}&to_site=1&sync_id={wanted}", logins[1].id);
    let found = b.request("GET", &query, "").await.json;
    assert_eq!(found.as_array().unwrap(), &vec![queued[1].clone()]);
    // Another site's view does not hold it (A pushed it), and unknown ids give [].
    let query_a = format!("queued_records?from_site={}&to_site=1&sync_id={wanted}", logins[0].id);
    assert_eq!(a.request("GET", &query_a, "").await.json, serde_json::json!([]));
    let unknown = format!(
        "queued_records?from_site={}&to_site=1&sync_id=89E2D46494F00C409E96DE3F933D77F1",
        logins[1].id
    );
    assert_eq!(b.request("GET", &unknown, "").await.json, serde_json::json!([]));
    b.acknowledge(&sync_ids(&queued[1..])).await;
    assert_eq!(
        b.request("GET", &query, "").await.json,
        serde_json::json!([]),
        "acknowledged: no longer queued"
    );
    deployment.stop().await;
}

both_ways! {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    fn initial_dump_is_idempotent_ordered_by_reference_and_followed_by_later_changes, cluster_initial_dump_is_idempotent_ordered_by_reference_and_followed_by_later_changes = dumps_in_reference_order
}

async fn dumps_in_reference_order(kind: Kind) {
    let (deployment, logins, a, b) = two_sites(kind).await;
    // A full dump is what a desktop satellite asks for; the same site later asks as mobile.
    let desktop_b = deployment.satellite(&logins[1], "v1");
    let store = &logins[1].store_id;
    // Pushed in the reverse of reference order.
    let line = record(
        "L1",
        "trans_line",
        "LINE1",
        store,
        &format!(r#"{{"ID":"LINE1","transaction_ID":"TR1","item_ID":"I1","item_line_ID":"IL1","store_ID":"{store}"}}"#),
    );
    let invoice = record(
        "T1",
        "transact",
        "TR1",
        store,
        &format!(r#"{{"ID":"TR1","store_ID":"{store}","name_ID":"CUSTOMER1","type":"ci","status":"nw"}}"#),
    );
    // A table the mobile app never integrates (it drops every adverse drug reaction).
    let stocktake = record(
        "K1",
        "adverse_drug_reaction",
        "ST1",
        store,
        &format!(r#"{{"ID":"ST1","store_ID":"{store}"}}"#),
    );
    a.push(&batch(&[line, invoice, stocktake, item(1)])).await;

    assert_eq!(desktop_b.initial_dump(true).await.json["NumRecords"], 4);
    let partial = desktop_b.pull_records(2).await;
    desktop_b.acknowledge(&sync_ids(&partial)).await;
    // Retried: the whole dump again, nothing twice.
    assert_eq!(desktop_b.initial_dump(true).await.json["NumRecords"], 4);
    a.push(&batch(&[item(2)])).await;
    let all = desktop_b.drain(500).await;
    assert_eq!(
        ids(&all),
        vec![
            format!("{:032X}", 0x1_0000_0000u64 + 1),
            "TR1".into(),
            "LINE1".into(),
            "ST1".into(),
            format!("{:032X}", 0x1_0000_0000u64 + 2)
        ]
    );

    // The mobile subset leaves out tables mobile does not integrate.
    assert_eq!(b.initial_dump(false).await.json["NumRecords"], 4);
    let mobile = ids(&b.drain(500).await);
    assert!(!mobile.contains(&"ST1".to_string()));
    assert_eq!(mobile.len(), 4);
    deployment.stop().await;
}
