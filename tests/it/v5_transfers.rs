//! Transfers between an open-mSupply store and a mSupply Mobile store, each way, and what
//! open-mSupply pushes re-served as the legacy primary would: the outbound shipment an
//! open-mSupply site pushes (its own shapes: plain dates as datetimes, times as "HH:MM:SS",
//! null numbers) reaches the mobile store as the supplier invoice the primary generates, judged
//! by the app's rules; the mobile store's issue reaches the open-mSupply store as it is, with its
//! lines, and no generated half (the remote builds its own); a re-initialised open-mSupply site
//! gets its own invoice back in v5's forms, with every `om_*` key it pushed.

use serde_json::{json, Value};

use crate::support::data::{batch, record};
use crate::support::remote::{failures, Remote};
use crate::support::{register_sites, SiteLogin, TestServer};

const ITEM: &str = "5A000000000000000000000000000001";

/// What both stores need before they trade: a home currency, the invad name, the item, both
/// stores and their names, each store's view of the other's name, a list joined to each.
fn central_records(a: &SiteLogin, b: &SiteLogin) -> Vec<String> {
    let mut lines = vec![
        record(
            "C1",
            "currency",
            "CUR1",
            "",
            r#"{"ID":"CUR1","currency":"USD","rate":"1","is_home_currency":"true"}"#,
        ),
        record(
            "C2",
            "name",
            "INVAD",
            "",
            r#"{"ID":"INVAD","name":"Inventory adjustments","code":"invad","type":"invad"}"#,
        ),
        record(
            "C3",
            "item",
            ITEM,
            "",
            &format!(r#"{{"ID":"{ITEM}","code":"AMX","item_name":"Amoxicillin"}}"#),
        ),
        record(
            "C4",
            "list_master",
            "LIST1",
            "",
            r#"{"ID":"LIST1","description":"All","code":"ALL","inactive":"false"}"#,
        ),
    ];
    for (n, (login, other)) in [(a, b), (b, a)].into_iter().enumerate() {
        let (store, name) = (&login.store_id, &login.store_name_id);
        lines.push(record(&format!("S{n}"), "name", name, "",
            &format!(r#"{{"ID":"{name}","name":"Store {n}","code":"S{n}","type":"store","customer":"true","supplier":"true"}}"#)));
        lines.push(record(
            &format!("T{n}"),
            "store",
            store,
            "",
            &format!(r#"{{"ID":"{store}","name":"Store {n}","code":"S{n}","name_ID":"{name}"}}"#),
        ));
        lines.push(record(
            &format!("J{n}"),
            "name_store_join",
            &format!("J{n}"),
            store,
            &format!(
                r#"{{"ID":"J{n}","name_ID":"{}","store_ID":"{store}"}}"#,
                other.store_name_id
            ),
        ));
        lines.push(record(
            &format!("L{n}"),
            "list_master_name_join",
            &format!("L{n}"),
            "",
            &format!(r#"{{"ID":"L{n}","name_ID":"{name}","list_master_ID":"LIST1"}}"#),
        ));
    }
    lines
}

/// An outbound shipment as open-mSupply pushes it (the legacy struct's fields, Nones as null).
fn outbound(from: &SiteLogin, to: &SiteLogin) -> Vec<Value> {
    let header = json!({"ID": "OMS-OUT-1", "name_ID": to.store_name_id, "store_ID": from.store_id,
        "invoice_num": 7, "type": "ci", "status": "fn", "hold": false, "currency_rate": 1.0, "mode": "store",
        "entry_date": "2024-05-01T00:00:00", "entry_time": "10:30:00", "confirm_date": "2024-05-01T00:00:00",
        "confirm_time": "10:45:00", "finalised_date": "2024-05-02T00:00:00", "finalised_time": "08:00:00",
        "user_ID": null, "comment": null, "their_ref": "To the clinic", "prescriber_ID": null, "currency_ID": null,
        "goods_received_ID": null, "original_PO_ID": null, "requisition_ID": null, "linked_transaction_id": null,
        "nameInsuranceJoinID": null, "donor_default_id": null, "insuranceDiscountAmount": null,
        "insuranceDiscountRate": null, "tax_rate": null, "om_type": "OUTBOUND_SHIPMENT", "om_status": "SHIPPED",
        "om_created_datetime": "2024-05-01T10:30:00", "om_shipped_datetime": "2024-05-02T08:00:00.123",
        "om_colour": null, "oms_fields": {"charges_local_currency": 0.0, "charges_foreign_currency": 0.0}});
    let line = json!({"ID": "OMS-OUT-1-L1", "transaction_ID": "OMS-OUT-1", "item_ID": ITEM, "item_name": "Amoxicillin",
        "item_line_ID": null, "location_ID": null, "batch": "B7", "expiry_date": "2026-01-31T00:00:00",
        "pack_size": 1.0, "cost_price": 2.5, "sell_price": 3.0, "quantity": 12.0, "volume_per_pack": 0.0,
        "type": "stock_out", "note": null, "optionID": null, "linked_transact_id": null, "donor_id": null,
        "vaccine_vial_monitor_status_ID": null, "om_item_code": "AMX", "om_tax": null});
    [("transact", header), ("trans_line", line)]
        .into_iter()
        .enumerate()
        .map(|(n, (table, data))| {
            json!({"syncOutId": (n + 1).to_string(), "tableName": table, "recordId": data["ID"],
                   "action": "Update", "recordData": data})
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transfers_each_way_between_open_msupply_and_mobile_stores() {
    let dir = tempfile::tempdir().unwrap();
    let logins = register_sites(dir.path(), 2);
    let (oms, mobile) = (&logins[0], &logins[1]);
    let server = TestServer::start(dir.path()).await;
    server.import(&central_records(oms, mobile).join("\n")).await;

    let mut remote = Remote::new(&server.base_url(), oms);
    remote.initialise().await;
    let first = remote.sync(500).await;
    assert_eq!(failures(&first), "", "{}", remote.report());
    assert_eq!(remote.missing_prerequisites(), Vec::<String>::new());
    let pushed = remote.push(&outbound(oms, mobile)).await;
    assert_eq!(pushed.json, json!({"integrationStarted": true}), "{}", pushed.raw);

    // OMS → mobile: the primary generates the mobile store's supplier invoice, as the app needs.
    let device = server.satellite(mobile, "v3");
    device.initial_dump(false).await;
    let received = device.drain(500).await;
    let report = device.judged().unwrap();
    assert!(report.all_passed(), "{report}");
    let generated = received
        .iter()
        .find(|r| r["RecordType"] == "transact" && r["data"]["linked_transaction_id"] == "OMS-OUT-1")
        .unwrap_or_else(|| panic!("no supplier invoice for the shipment: {received:?}"));
    assert_eq!(
        (&generated["data"]["type"], &generated["data"]["store_ID"]),
        (&json!("si"), &json!(mobile.store_id))
    );
    assert!(
        received.iter().any(|r| r["RecordType"] == "trans_line"
            && r["data"]["transaction_ID"] == generated["data"]["ID"]
            && r["data"]["batch"] == "B7"),
        "its line"
    );

    // mobile → OMS: the issue and its line go to the open-mSupply store as they are; no half
    // is generated for it.
    let issue = format!(
        r#"{{"ID":"MOB-CI-1","store_ID":"{}","name_ID":"{}","type":"ci","status":"fn","invoice_num":"3","entry_date":"2024-06-01T00:00:00.000Z","confirm_date":"2024-06-01T00:00:00.000Z","mode":"store"}}"#,
        mobile.store_id, oms.store_name_id
    );
    let issue_line = format!(
        r#"{{"ID":"MOB-CI-1-L1","transaction_ID":"MOB-CI-1","item_ID":"{ITEM}","item_name":"Amoxicillin","batch":"M1","quantity":"4","pack_size":"1","cost_price":"2","sell_price":"2","type":"stock_out","expiry_date":"2026-03-31T00:00:00.000Z"}}"#
    );
    let sent = device
        .push(&batch(&[
            record("MOB-1", "transact", "MOB-CI-1", &mobile.store_id, &issue),
            record("MOB-2", "trans_line", "MOB-CI-1-L1", &mobile.store_id, &issue_line),
        ]))
        .await;
    assert_eq!(sent.json["error"], "", "{}", sent.raw);
    let before = remote.received.len();
    let second = remote.sync(500).await;
    assert_eq!(failures(&second), "", "{}", remote.report());
    assert!(remote.page_defects.is_empty(), "{:#?}", remote.page_defects);
    let new: Vec<&Value> = remote.received[before..].iter().collect();
    let ids: Vec<&str> = new.iter().filter_map(|r| r["recordId"].as_str()).collect();
    let (header_at, line_at) = (
        ids.iter().position(|id| *id == "MOB-CI-1"),
        ids.iter().position(|id| *id == "MOB-CI-1-L1"),
    );
    assert!(
        matches!((header_at, line_at), (Some(h), Some(l)) if h < l),
        "the issue, then its line: {ids:?}"
    );
    assert!(
        !new.iter()
            .any(|r| r["tableName"] == "transact" && r["recordData"]["store_ID"] == oms.store_id.as_str()),
        "nothing generated for the open-mSupply store, and its own shipment not echoed: {ids:?}"
    );

    // Re-initialised, the open-mSupply site gets its own shipment back in v5's forms.
    let mut fresh = Remote::new(&server.base_url(), oms);
    fresh.initialise().await;
    let again = fresh.sync(500).await;
    assert_eq!(failures(&again), "", "{}", fresh.report());
    let own = fresh
        .received
        .iter()
        .find(|r| r["recordId"] == "OMS-OUT-1")
        .expect("its shipment");
    let data = &own["recordData"];
    for (key, want) in [
        ("entry_date", json!("2024-05-01")),
        ("entry_time", json!(37800)),
        ("finalised_time", json!(28800)),
        ("insuranceDiscountAmount", json!(0)),
        ("om_type", json!("OUTBOUND_SHIPMENT")),
        ("om_shipped_datetime", json!("2024-05-02T08:00:00.123")),
        (
            "oms_fields",
            json!({"charges_local_currency": 0.0, "charges_foreign_currency": 0.0}),
        ),
    ] {
        assert_eq!(data[key], want, "{key} in {data}");
    }
    let line = fresh
        .received
        .iter()
        .find(|r| r["recordId"] == "OMS-OUT-1-L1")
        .expect("its line");
    assert_eq!(
        line["recordData"]["expiry_date"], "2026-01-31",
        "{}",
        line["recordData"]
    );
    server.stop().await;
}

/// A header changed after its lines sits after them in the log; a page still delivers it first,
/// in the change stream and in a dump it left by changing, even one record per page.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_header_changed_after_its_lines_still_comes_before_them() {
    let dir = tempfile::tempdir().unwrap();
    let logins = register_sites(dir.path(), 2);
    let (mobile, oms) = (&logins[0], &logins[1]);
    let server = TestServer::start(dir.path()).await;
    server.import(&central_records(oms, mobile).join("\n")).await;
    let mut remote = Remote::new(&server.base_url(), oms);
    remote.initialise().await;
    remote.sync(500).await;

    let device = server.satellite(mobile, "v3");
    let header = |n: usize, status: &str| {
        let data = format!(
            r#"{{"ID":"MOB-CI-9","store_ID":"{}","name_ID":"{}","type":"ci","status":"{status}","invoice_num":"9","entry_date":"2024-06-01T00:00:00.000Z","mode":"store"}}"#,
            mobile.store_id, oms.store_name_id
        );
        record(&format!("H{n}"), "transact", "MOB-CI-9", &mobile.store_id, &data)
    };
    let line = format!(
        r#"{{"ID":"MOB-CI-9-L1","transaction_ID":"MOB-CI-9","item_ID":"{ITEM}","item_name":"Amoxicillin","batch":"M9","quantity":"2","pack_size":"1","cost_price":"2","sell_price":"2","type":"stock_out"}}"#
    );
    for body in [
        batch(&[
            header(1, "nw"),
            record("L1", "trans_line", "MOB-CI-9-L1", &mobile.store_id, &line),
        ]),
        batch(&[header(2, "cn")]),
    ] {
        assert_eq!(device.push(&body).await.json["error"], "");
    }
    let order = |received: &[Value]| -> Vec<String> {
        received
            .iter()
            .filter_map(|r| r["recordId"].as_str())
            .filter(|id| id.starts_with("MOB-CI-9"))
            .map(str::to_string)
            .collect()
    };
    let before = remote.received.len();
    let verdicts = remote.sync(1).await;
    assert_eq!(failures(&verdicts), "", "{}", remote.report());
    assert_eq!(
        order(&remote.received[before..]),
        ["MOB-CI-9", "MOB-CI-9-L1"],
        "in the change stream"
    );
    assert!(remote.page_defects.is_empty(), "{:#?}", remote.page_defects);

    // A dump taken, then the header changed: it left the dump, its line did not.
    let mut fresh = Remote::new(&server.base_url(), oms);
    fresh.initialise().await;
    assert_eq!(device.push(&batch(&[header(3, "fn")])).await.json["error"], "");
    let verdicts = fresh.sync(2).await;
    assert_eq!(failures(&verdicts), "", "{}", fresh.report());
    assert_eq!(order(&fresh.received), ["MOB-CI-9", "MOB-CI-9-L1"], "in a dump");
    assert!(fresh.page_defects.is_empty(), "{:#?}", fresh.page_defects);
    server.stop().await;
}
