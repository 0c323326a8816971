//! v5, as open-mSupply remote sites speak it to a legacy primary: JSON envelopes with
//! `queueLength`, records as `syncOutId`/`tableName`/`recordId`/`action`/`recordData`, and errors
//! as `{"error":{"code":…,"message":…,"data":null}}`. Record data goes out byte for byte as stored.

use std::borrow::Cow;

use serde::Deserialize;
use serde_json::value::RawValue;

use super::json::write_string;
use super::v2::RecordFields;
use super::DecodeError;
use crate::domain::fields::FieldCatalogue;
use crate::domain::record::{PushedRecord, SyncType};
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
pub fn encode_site(site_id: u32, status: Initialisation, primary_id: u32, central_url: &str) -> Vec<u8> {
    let status = match status {
        Initialisation::New => "new",
        Initialisation::Started => "started",
        Initialisation::Completed => "completed",
    };
    serde_json::json!({
        "id": format!("{site_id:032X}"),
        "siteId": site_id,
        "initialisationStatus": status,
        "omSupplyCentralServerUrl": central_url,
        "isOmSupplyCentralServer": false,
        "mSupplyCentralSiteId": primary_id,
    })
    .to_string()
    .into_bytes()
}

/// A stored row of `table` as v5 carries it (native JSON types), as `queued_records` and
/// `central_records` send it.
pub fn native_row(fields: &FieldCatalogue, table: &str, data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len());
    super::v5_rows::write_row(&mut out, fields.table(table).map(|t| &**t), data);
    out
}

/// `{"queueLength":n}`, the reply of `initialise` and of acknowledgements.
pub fn encode_queue_length(n: u64) -> Vec<u8> {
    format!("{{\"queueLength\":{n}}}").into_bytes()
}

/// `GET queued_records`: the queue length and the records, `recordData` left out for deletes and
/// holding the two ids for merges.
pub fn encode_queued(queue_length: u64, records: &[Outgoing], fields: &FieldCatalogue) -> Vec<u8> {
    let mut out = Vec::with_capacity(64 + records.iter().map(|r| r.encoded_len() + 128).sum::<usize>());
    out.extend_from_slice(format!("{{\"queueLength\":{queue_length},\"data\":[").as_bytes());
    for (i, outgoing) in records.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(b"{\"syncOutId\":\"");
        out.extend_from_slice(&outgoing.sync_id);
        out.push(b'"');
        write_record(&mut out, outgoing, fields);
        out.push(b'}');
    }
    out.extend_from_slice(b"]}");
    out
}

/// `GET central_records`: the highest cursor, and the records each with its cursor as `ID`.
pub fn encode_central(max_cursor: u64, records: &[(u64, Outgoing)], fields: &FieldCatalogue) -> Vec<u8> {
    let mut out = Vec::with_capacity(64 + records.iter().map(|(_, r)| r.encoded_len() + 128).sum::<usize>());
    out.extend_from_slice(format!("{{\"maxCursor\":{max_cursor},\"data\":[").as_bytes());
    for (i, (cursor, outgoing)) in records.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(format!("{{\"ID\":{cursor}").as_bytes());
        write_record(&mut out, outgoing, fields);
        out.push(b'}');
    }
    out.extend_from_slice(b"]}");
    out
}

/// `,"tableName":…,"recordId":…,"action":…[,"recordData":…]`, the data in v5's native types.
fn write_record(out: &mut Vec<u8>, outgoing: &Outgoing, fields: &FieldCatalogue) {
    let r = outgoing.record();
    out.extend_from_slice(b",\"tableName\":");
    write_string(out, r.table);
    out.extend_from_slice(b",\"recordId\":");
    write_string(out, r.record_id);
    out.extend_from_slice(b",\"action\":\"");
    out.extend_from_slice(action(r.sync_type).as_bytes());
    out.push(b'"');
    match r.sync_type {
        SyncType::Insert | SyncType::Update => {
            out.extend_from_slice(b",\"recordData\":");
            if r.data.is_empty() {
                out.extend_from_slice(b"{}");
            } else {
                super::v5_rows::write_row(out, fields.table(r.table).map(|t| &**t), r.data);
            }
        }
        SyncType::Merge => {
            out.extend_from_slice(b",\"recordData\":{\"mergeIdToKeep\":");
            write_string(out, r.merge_id_to_keep);
            out.extend_from_slice(b",\"mergeIdToDelete\":");
            write_string(out, r.merge_id_to_delete);
            out.push(b'}');
        }
        SyncType::Delete => {}
    }
}

#[derive(Deserialize)]
struct Push<'a> {
    #[serde(rename = "queueLength")]
    queue_length: u64,
    #[serde(borrow)]
    data: Vec<&'a RawValue>,
}

#[derive(Deserialize)]
struct PushedV5<'a> {
    #[serde(rename = "syncOutId", borrow)]
    sync_out_id: Option<Cow<'a, str>>,
    #[serde(rename = "tableName", borrow)]
    table_name: Option<Cow<'a, str>>,
    #[serde(rename = "recordId", borrow)]
    record_id: Option<Cow<'a, str>>,
    #[serde(borrow)]
    action: Option<Cow<'a, str>>,
    #[serde(rename = "recordData", borrow, default)]
    record_data: Option<&'a RawValue>,
}

#[derive(Deserialize)]
struct MergeData<'a> {
    #[serde(rename = "mergeIdToKeep", borrow)]
    keep: Option<Cow<'a, str>>,
    #[serde(rename = "mergeIdToDelete", borrow)]
    delete: Option<Cow<'a, str>>,
}

/// A v5 push: what the site still has to push (this batch included), and the records.
#[derive(Debug)]
pub struct Pushed {
    pub queue_length: u64,
    pub records: Vec<PushedRecord>,
}

/// `{"queueLength":n,"data":[…]}`: every record valid, or the error names the first that is not.
pub fn decode_push(body: &[u8], max_records: usize) -> Result<Pushed, DecodeError> {
    let push: Push<'_> = serde_json::from_slice(body)
        .map_err(|e| DecodeError::Malformed(format!("the body must be {{\"queueLength\":n,\"data\":[…]}}: {e}")))?;
    if push.data.len() > max_records {
        return Err(DecodeError::TooMany(format!(
            "a push may hold at most {max_records} records, this one holds {}",
            push.data.len()
        )));
    }
    let records = push
        .data
        .iter()
        .enumerate()
        .map(|(n, raw)| decode_record(n, raw))
        .collect::<Result<_, _>>()?;
    Ok(Pushed {
        queue_length: push.queue_length,
        records,
    })
}

fn decode_record(n: usize, raw: &RawValue) -> Result<PushedRecord, DecodeError> {
    let bad = |message: String| DecodeError::Record(format!("record {} of the push: {message}", n + 1));
    let pushed: PushedV5<'_> = serde_json::from_str(raw.get()).map_err(|e| bad(e.to_string()))?;
    let sync_type = match pushed.action.as_deref().map(str::to_ascii_lowercase).as_deref() {
        None | Some("") => None,
        Some("insert") => Some(SyncType::Insert),
        Some("update") => Some(SyncType::Update),
        Some("delete") => Some(SyncType::Delete),
        Some("merge") => Some(SyncType::Merge),
        Some(other) => {
            return Err(bad(format!(
                "action \"{other}\" is not insert, update, delete or merge"
            )))
        }
    };
    let (keep, delete) = match (sync_type, pushed.record_data) {
        (Some(SyncType::Merge), Some(data)) => {
            let merge: MergeData<'_> = serde_json::from_str(data.get()).map_err(|e| {
                bad(format!(
                    "a merge's recordData must name mergeIdToKeep and mergeIdToDelete: {e}"
                ))
            })?;
            (merge.keep, merge.delete)
        }
        _ => (None, None),
    };
    let fields = RecordFields {
        sync_id: pushed.sync_out_id,
        table: pushed.table_name,
        record_id: pushed.record_id,
        sync_type,
        store_id: None,
        key_field_id: None,
        merge_id_to_keep: keep,
        merge_id_to_delete: delete,
        data: pushed.record_data,
    };
    fields.validate(&bad, ["syncOutId", "tableName", "recordId", "action", "recordData"])
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
                // Stored in the legacy text form, served in v5's native types.
                outgoing(SyncType::Update, r#"{"ID":"R1","quantity":"5","note":"x"}"#),
                outgoing(SyncType::Delete, ""),
                outgoing(SyncType::Merge, ""),
            ],
            &FieldCatalogue::builtin(),
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
    fn pushes_in_any_case_with_native_types_and_merges() {
        let body = br#"{"queueLength":0,"data":[
            {"syncOutId":"1385","tableName":"trans_line","recordId":"L1","action":"Update","recordData":{"ID":"L1","quantity":5,"store_ID":"S1"}},
            {"syncOutId":"1386","tableName":"name","recordId":"N2","action":"MERGE","recordData":{"mergeIdToKeep":"N1","mergeIdToDelete":"N2"}},
            {"syncOutId":"1387","tableName":"trans_line","recordId":"L2","action":"delete"}]}"#;
        let pushed = decode_push(body, 10).unwrap();
        assert_eq!(pushed.queue_length, 0);
        let [update, merge, delete] = &pushed.records[..] else {
            panic!("three records")
        };
        assert_eq!(
            (update.sync_id.as_str(), update.record.sync_type),
            ("1385", SyncType::Update)
        );
        assert_eq!(
            update.record.data,
            br#"{"ID":"L1","quantity":5,"store_ID":"S1"}"#.to_vec()
        );
        assert_eq!(merge.record.sync_type, SyncType::Merge);
        assert_eq!(
            (
                merge.record.merge_id_to_keep.as_str(),
                merge.record.merge_id_to_delete.as_str()
            ),
            ("N1", "N2")
        );
        assert!(merge.record.data.is_empty());
        assert_eq!(delete.record.sync_type, SyncType::Delete);
    }

    #[test]
    fn a_bad_record_names_itself_and_refuses_the_push() {
        let body = br#"{"queueLength":1,"data":[{"syncOutId":"1","tableName":"item","recordId":"I1","action":"insert","recordData":{}},
            {"syncOutId":"2","tableName":"item","recordId":"I2","action":"upsert","recordData":{}}]}"#;
        let error = decode_push(body, 10).unwrap_err();
        assert_eq!(
            error,
            DecodeError::Record(
                "record 2 of the push: action \"upsert\" is not insert, update, delete or merge".into()
            )
        );
        assert!(matches!(
            decode_push(br#"{"data":[]}"#, 10),
            Err(DecodeError::Malformed(_))
        ));
        let no_data =
            br#"{"queueLength":0,"data":[{"syncOutId":"1","tableName":"item","recordId":"I1","action":"insert"}]}"#;
        assert!(matches!(decode_push(no_data, 10), Err(DecodeError::Record(m)) if m.contains("recordData")));
        assert!(matches!(
            decode_push(br#"{"queueLength":0,"data":[{},{}]}"#, 1),
            Err(DecodeError::TooMany(_))
        ));
    }

    #[test]
    fn central_records_carry_their_cursor() {
        let body = encode_central(
            200,
            &[(17, outgoing(SyncType::Update, r#"{"ID":"R1"}"#))],
            &FieldCatalogue::builtin(),
        );
        let value: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(
            value,
            serde_json::json!({"maxCursor": 200, "data": [
                {"ID": 17, "tableName": "trans_line", "recordId": "R1", "action": "update", "recordData": {"ID": "R1"}}]})
        );
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
