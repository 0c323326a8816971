//! Records in the v2 push shape.

use serde_json::{json, Value};

/// A pushed record with `Data` given as literal JSON text (kept byte for byte by the primary).
pub fn record(sync_id: &str, table: &str, id: &str, store: &str, data: &str) -> String {
    format!(
        r#"{{"SyncID":"{sync_id}","RecordType":"{table}","RecordID":"{id}","SyncType":"U","StoreID":"{store}","Data":{data}}}"#
    )
}

pub fn delete(sync_id: &str, table: &str, id: &str, store: &str) -> String {
    format!(r#"{{"SyncID":"{sync_id}","RecordType":"{table}","RecordID":"{id}","SyncType":"D","StoreID":"{store}"}}"#)
}

pub fn batch(records: &[String]) -> String {
    format!("[{}]", records.join(","))
}

pub fn item(n: usize) -> String {
    let id = format!("{:032X}", 0x1_0000_0000u64 + n as u64);
    record(
        &format!("ITEM{n}"),
        "item",
        &id,
        "",
        &format!(r#"{{"ID":"{id}","code":"I{n}","item_name":"Item {n}","default_pack_size":"1"}}"#),
    )
}

pub fn transact(n: usize, store: &str) -> (String, String) {
    let id = format!("{:032X}", 0x2_0000_0000u64 + n as u64);
    let data = format!(
        r#"{{"ID":"{id}","invoice_num":"{n}","total":"10.50","store_ID":"{store}","type":"ci","status":"nw","name_ID":"CUSTOMER1"}}"#
    );
    (
        id.clone(),
        record(&format!("TR{n}-{store}"), "transact", &id, store, &data),
    )
}

/// The `RecordID`s of pulled records.
pub fn ids(records: &[Value]) -> Vec<String> {
    records
        .iter()
        .map(|r| r["RecordID"].as_str().unwrap().to_string())
        .collect()
}

pub fn sync_ids(records: &[Value]) -> Vec<String> {
    records
        .iter()
        .map(|r| r["SyncID"].as_str().unwrap().to_string())
        .collect()
}

pub fn empty_ack() -> Value {
    json!({"SyncRecordIDs": []})
}
