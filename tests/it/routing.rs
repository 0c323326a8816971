//! Routing over HTTP: store tables to the hosting site (an invoice to another store's name stays
//! with its own store: the other half is generated, see `transfers.rs`), lines with their
//! header, records that follow a name with it, patients only to the stores they are joined to,
//! ids compared without regard to case.

use crate::support::data::{batch, ids, item, record};
use crate::support::{register_sites, TestServer};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn store_records_reach_their_stores_and_patients_follow_joins() {
    let dir = tempfile::tempdir().unwrap();
    let logins = register_sites(dir.path(), 3);
    let server = TestServer::start(dir.path()).await;
    let sats: Vec<_> = logins.iter().map(|l| server.satellite(l, "v3")).collect();
    let (s_a, s_b) = (&logins[0].store_id, &logins[1].store_id);

    // An invoice of store A (its envelope's id sent in lower case) to store B's name: A's site gets it, and B's
    // does not (it would ignore another store's invoice; it gets its own supplier invoice once
    // A's is finalised).
    let to_b = record(
        "T1",
        "transact",
        "TRANSFER1",
        &s_a.to_lowercase(),
        &format!(
            r#"{{"ID":"TRANSFER1","store_ID":"{s_a}","name_ID":"{}","type":"ci","status":"cn"}}"#,
            logins[1].store_name_id
        ),
    );
    let local = record(
        "T2",
        "transact",
        "LOCAL1",
        s_a,
        &format!(r#"{{"ID":"LOCAL1","store_ID":"{s_a}","name_ID":"SOMEONE","type":"ci","status":"nw"}}"#),
    );
    assert_eq!(sats[2].push(&batch(&[to_b, local])).await.json["error"], "");
    assert_eq!(ids(&sats[0].drain(100).await), vec!["TRANSFER1", "LOCAL1"]);
    assert!(sats[1].drain(100).await.is_empty());
    assert!(sats[2].drain(100).await.is_empty());

    // A line without a store of its own goes where its header goes, whoever pushes it.
    let line = record(
        "L1",
        "trans_line",
        "LINE1",
        "",
        r#"{"ID":"LINE1","transaction_ID":"LOCAL1","item_ID":"I1","item_line_ID":"IL1","quantity":"1"}"#,
    );
    sats[2].push(&batch(&[line])).await;
    assert_eq!(ids(&sats[0].drain(100).await), vec!["LINE1"]);
    assert!(sats[1].drain(100).await.is_empty());

    // A master list joined to B's own name goes to B only.
    let list_join = record(
        "M1",
        "list_master_name_join",
        "LMNJ1",
        "",
        &format!(
            r#"{{"ID":"LMNJ1","name_ID":"{}","list_master_ID":"LIST1"}}"#,
            logins[1].store_name_id
        ),
    );
    sats[2].push(&batch(&[list_join])).await;
    assert_eq!(ids(&sats[1].drain(100).await), vec!["LMNJ1"]);
    assert!(sats[0].drain(100).await.is_empty());

    // A patient goes nowhere until joined; a join to B's store brings it to B only.
    let patient = record(
        "P1",
        "name",
        "PAT1",
        "",
        r#"{"ID":"PAT1","type":"patient","first":"Ana"}"#,
    );
    let customer = record("C1", "name", "CUST1", "", r#"{"ID":"CUST1","type":"facility"}"#);
    sats[2].push(&batch(&[patient, customer])).await;
    assert_eq!(ids(&sats[0].drain(100).await), vec!["CUST1"]);
    assert_eq!(ids(&sats[1].drain(100).await), vec!["CUST1"]);
    let join = record(
        "J1",
        "name_store_join",
        "JOIN1",
        s_b,
        &format!(r#"{{"ID":"JOIN1","name_ID":"PAT1","store_ID":"{s_b}"}}"#),
    );
    sats[2].push(&batch(&[join])).await;
    let mut got_b = ids(&sats[1].drain(100).await);
    got_b.sort();
    assert_eq!(got_b, vec!["JOIN1", "PAT1"]);
    assert!(
        sats[0].drain(100).await.is_empty(),
        "A's store is not joined to the patient"
    );

    // B's re-initialisation includes the patient; A's does not.
    sats[1].initial_dump(true).await;
    assert!(ids(&sats[1].drain(500).await).contains(&"PAT1".to_string()));
    sats[0].initial_dump(true).await;
    assert!(!ids(&sats[0].drain(500).await).contains(&"PAT1".to_string()));
    server.stop().await;
}

/// A site that syncs over /sync/v2/ (the 2017 app) is sent no requisitions, neither in its dump
/// nor after it, and `count` agrees with what it is sent; the same site re-initialised over v3
/// (the app upgraded) gets them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_2017_app_is_sent_no_requisitions() {
    let dir = tempfile::tempdir().unwrap();
    let logins = register_sites(dir.path(), 2);
    let server = TestServer::start(dir.path()).await;
    let store = &logins[1].store_id;
    let requisition = |sync_id: &str, id: &str| {
        record(
            sync_id,
            "requisition",
            id,
            store,
            &format!(
                r#"{{"ID":"{id}","store_ID":"{store}","name_ID":"SUPPLIER","type":"request","status":"sg","daysToSupply":"30","serial_number":"1"}}"#
            ),
        )
    };
    let line = record(
        "RL",
        "requisition_line",
        "RL1",
        store,
        r#"{"ID":"RL1","requisition_ID":"REQ1","item_ID":"I1","stock_on_hand":"3"}"#,
    );
    let invoice = record(
        "TI",
        "transact",
        "TR1",
        store,
        &format!(r#"{{"ID":"TR1","store_ID":"{store}","name_ID":"CUSTOMER1","type":"ci","status":"nw"}}"#),
    );
    let pusher = server.satellite(&logins[0], "v3");
    pusher.push(&batch(&[requisition("R1", "REQ1"), line, invoice])).await;

    let old = server.satellite(&logins[1], "v2").with_hardware(None);
    assert_eq!(old.initial_dump(false).await.json["NumRecords"], 1);
    assert_eq!(ids(&old.drain(100).await), vec!["TR1"]);
    // A change after the dump: withheld too, and counted as withheld.
    pusher.push(&batch(&[requisition("R2", "REQ2"), item(5)])).await;
    assert_eq!(old.count().await, 1);
    assert_eq!(
        ids(&old.drain(100).await),
        vec![format!("{:032X}", 0x1_0000_0000u64 + 5)]
    );

    let upgraded = server.satellite(&logins[1], "v3").with_hardware(None);
    upgraded.initial_dump(false).await;
    let mut all = ids(&upgraded.drain(100).await);
    all.sort();
    assert!(
        ["REQ1", "REQ2", "RL1", "TR1"]
            .iter()
            .all(|id| all.contains(&id.to_string())),
        "{all:?}"
    );
    server.stop().await;
}
