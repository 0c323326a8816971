//! v5, as open-mSupply remote sites speak it to a legacy primary: JSON envelopes with
//! `queueLength`, records as `syncOutId`/`tableName`/`recordId`/`action`/`recordData`, and errors
//! as `{"error":{"code":…,"message":…,"data":null}}`. Record data goes out byte for byte as stored.

use serde::Deserialize;

use super::json::write_string;
use super::DecodeError;
use crate::domain::record::SyncType;
use crate::sync::{Initialisation, Outgoing};

/// The `action` of a record, lower case as open-mSupply writes it.
fn action(sync_type: SyncType) -> &'static str {
    match sync_type {
        SyncType::Insert => "insert",
        SyncType::Update => "update",
        SyncType::Delete => "delete",
        SyncType::Merge => "merge",
    }
}

/// `GET site`.
pub fn encode_site(site_id: u32, status: Initialisation, primary_id: u32) -> Vec<u8> {
    let status = match status {
        Initialisation::New => "new",
        Initialisation::Started => "started",
        Initialisation::Completed => "completed",
    };
    serde_json::json!({
        "id": format!("{site_id:032X}"),
        "siteId": site_id,
        "initialisationStatus": status,
        "omSupplyCentralServerUrl": "",
        "isOmSupplyCentralServer": false,
        "mSupplyCentralSiteId": primary_id,
    })
    .to_string()
    .into_bytes()
}

/// `{"queueLength":n}`, the reply of `initialise` and of acknowledgements.
pub fn encode_queue_length(n: u64) -> Vec<u8> {
    format!("{{\"queueLength\":{n}}}").into_bytes()
}

/// `GET queued_records`: the queue length and the records, `recordData` left out for deletes and
/// holding the two ids for merges.
pub fn encode_queued(queue_length: u64, records: &[Outgoing]) -> Vec<u8> {
    let mut out = Vec::with_capacity(64 + records.iter().map(|r| r.encoded_len() + 128).sum::<usize>());
    out.extend_from_slice(format!("{{\"queueLength\":{queue_length},\"data\":[").as_bytes());
    for (i, outgoing) in records.iter().enumerate() {
        let r = outgoing.record();
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(b"{\"syncOutId\":\"");
        out.extend_from_slice(&outgoing.sync_id);
        out.extend_from_slice(b"\",\"tableName\":");
        write_string(&mut out, r.table);
        out.extend_from_slice(b",\"recordId\":");
        write_string(&mut out, r.record_id);
        out.extend_from_slice(b",\"action\":\"");
        out.extend_from_slice(action(r.sync_type).as_bytes());
        out.push(b'"');
        match r.sync_type {
            SyncType::Insert | SyncType::Update => {
                out.extend_from_slice(b",\"recordData\":");
                out.extend_from_slice(if r.data.is_empty() { b"{}" } else { r.data });
            }
            SyncType::Merge => {
                out.extend_from_slice(b",\"recordData\":{\"mergeIdToKeep\":");
                write_string(&mut out, r.merge_id_to_keep);
                out.extend_from_slice(b",\"mergeIdToDelete\":");
                write_string(&mut out, r.merge_id_to_delete);
                out.push(b'}');
            }
            SyncType::Delete => {}
        }
        out.push(b'}');
    }
    out.extend_from_slice(b"]}");
    out
}

#[derive(Deserialize)]
struct Acknowledgement {
    #[serde(rename = "syncIDs")]
    sync_ids: Vec<String>,
}

/// `{"syncIDs":["…",…]}`.
pub fn decode_acknowledgement(body: &[u8]) -> Result<Vec<String>, DecodeError> {
    serde_json::from_slice::<Acknowledgement>(body)
        .map(|a| a.sync_ids)
        .map_err(|e| DecodeError::Malformed(format!("the body must be {{\"syncIDs\":[\"…\"]}}: {e}")))
}

/// `{"error":{"code":…,"message":…,"data":null}}`.
pub fn error_body(code: &str, message: &str) -> Vec<u8> {
    serde_json::json!({"error": {"code": code, "message": message, "data": null}})
        .to_string()
        .into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ids::SiteId;
    use crate::domain::record::SyncRecord;
    use crate::store::LogEntry;

    fn outgoing(sync_type: SyncType, data: &str) -> Outgoing {
        let entry = LogEntry {
            origin: SiteId(2),
            audiences: vec![],
            record: SyncRecord {
                table: "trans_line".into(),
                record_id: "R1".into(),
                sync_type,
                store_id: String::new(),
                key_field_id: String::new(),
                merge_id_to_keep: "K".into(),
                merge_id_to_delete: "D".into(),
                data: data.as_bytes().to_vec(),
            },
        };
        Outgoing::new(*b"0000000000000000000000000000138A", entry.encode()).unwrap()
    }

    #[test]
    fn queued_records_in_the_shape_open_msupply_reads() {
        let body = encode_queued(
            3,
            &[
                outgoing(SyncType::Update, r#"{"ID":"R1","quantity":5,"note":"x"}"#),
                outgoing(SyncType::Delete, ""),
                outgoing(SyncType::Merge, ""),
            ],
        );
        let value: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(
            value,
            serde_json::json!({"queueLength": 3, "data": [
                {"syncOutId": "0000000000000000000000000000138A", "tableName": "trans_line", "recordId": "R1",
                 "action": "update", "recordData": {"ID": "R1", "quantity": 5, "note": "x"}},
                {"syncOutId": "0000000000000000000000000000138A", "tableName": "trans_line", "recordId": "R1",
                 "action": "delete"},
                {"syncOutId": "0000000000000000000000000000138A", "tableName": "trans_line", "recordId": "R1",
                 "action": "merge", "recordData": {"mergeIdToKeep": "K", "mergeIdToDelete": "D"}},
            ]})
        );
        assert!(String::from_utf8(body)
            .unwrap()
            .contains(r#""recordData":{"ID":"R1","quantity":5,"note":"x"}"#));
    }

    #[test]
    fn acknowledgements_and_errors() {
        assert_eq!(decode_acknowledgement(br#"{"syncIDs":["A","B"]}"#).unwrap(), ["A", "B"]);
        assert!(decode_acknowledgement(br#"{"SyncRecordIDs":["A"]}"#).is_err());
        assert_eq!(
            error_body("site_incorrect_password", "no"),
            br#"{"error":{"code":"site_incorrect_password","data":null,"message":"no"}}"#.to_vec()
        );
    }
}
