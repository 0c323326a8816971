//! The v2 record format (v3 is the same format): named tables and fields.
//!
//! Pushed records carry `Data` (capital D), pulled ones `data`. The `data` object is kept as the
//! raw bytes the satellite sent, so it goes back byte for byte: key order, spacing and value types.

use std::borrow::Cow;

use serde::Deserialize;
use serde_json::value::RawValue;

use super::json::{encode_array, write_string};
use super::DecodeError;
use crate::domain::record::RecordView;
use crate::domain::record::{PushedRecord, SyncRecord, SyncType};
use crate::sync::Outgoing;

/// Longest table name, record id, store id or SyncID accepted.
const MAX_ID_LEN: usize = 255;
/// Longest `data` object accepted for one record.
const MAX_DATA_LEN: usize = 1 << 20;

#[derive(Deserialize)]
struct PushedV2<'a> {
    #[serde(rename = "SyncID", borrow)]
    sync_id: Option<Cow<'a, str>>,
    #[serde(rename = "RecordType", borrow)]
    record_type: Option<Cow<'a, str>>,
    #[serde(rename = "RecordID", borrow)]
    record_id: Option<Cow<'a, str>>,
    #[serde(rename = "SyncType", borrow)]
    sync_type: Option<Cow<'a, str>>,
    #[serde(rename = "StoreID", borrow, default)]
    store_id: Option<Cow<'a, str>>,
    #[serde(rename = "KeyFieldID", borrow, default)]
    key_field_id: Option<&'a RawValue>,
    #[serde(rename = "mergeIDtokeep", borrow, default)]
    merge_id_to_keep: Option<Cow<'a, str>>,
    #[serde(rename = "mergeIDtodelete", borrow, default)]
    merge_id_to_delete: Option<Cow<'a, str>>,
    #[serde(rename = "Data", borrow, default)]
    data: Option<&'a RawValue>,
}

/// Decodes a v2 push body: a JSON array of records. Either every record is valid or the error
/// names the first one that is not.
pub fn decode_push(body: &[u8], max_records: usize) -> Result<Vec<PushedRecord>, DecodeError> {
    let items: Vec<&RawValue> = serde_json::from_slice(body)
        .map_err(|e| DecodeError::Malformed(format!("the body must be a JSON array of sync records: {e}")))?;
    if items.len() > max_records {
        return Err(DecodeError::TooMany(format!(
            "a push may hold at most {max_records} records, this one holds {}",
            items.len()
        )));
    }
    items.iter().enumerate().map(|(n, raw)| decode_record(n, raw)).collect()
}

fn decode_record(n: usize, raw: &RawValue) -> Result<PushedRecord, DecodeError> {
    let bad = |message: String| DecodeError::Record(format!("record {} of the push: {message}", n + 1));
    let pushed: PushedV2<'_> = serde_json::from_str(raw.get()).map_err(|e| bad(e.to_string()))?;
    let code = pushed.sync_type.as_deref().unwrap_or_default();
    let sync_type = match code {
        "" => None,
        code => Some(
            SyncType::from_code(code).ok_or_else(|| bad(format!("SyncType \"{code}\" is not one of I, U, D, M")))?,
        ),
    };
    let fields = RecordFields {
        sync_id: pushed.sync_id,
        table: pushed.record_type,
        record_id: pushed.record_id,
        sync_type,
        store_id: pushed.store_id,
        key_field_id: pushed.key_field_id.map(|k| k.get().to_string()),
        merge_id_to_keep: pushed.merge_id_to_keep,
        merge_id_to_delete: pushed.merge_id_to_delete,
        data: pushed.data,
    };
    fields.validate(&bad, ["SyncID", "RecordType", "RecordID", "SyncType", "Data"])
}

/// The envelope of one pushed record in any named format, before validation.
pub(crate) struct RecordFields<'a> {
    pub sync_id: Option<Cow<'a, str>>,
    pub table: Option<Cow<'a, str>>,
    pub record_id: Option<Cow<'a, str>>,
    pub sync_type: Option<SyncType>,
    pub store_id: Option<Cow<'a, str>>,
    pub key_field_id: Option<String>,
    pub merge_id_to_keep: Option<Cow<'a, str>>,
    pub merge_id_to_delete: Option<Cow<'a, str>>,
    pub data: Option<&'a RawValue>,
}

impl RecordFields<'_> {
    /// Checks what every format requires (ids present, bounded and without NUL, an object as
    /// the data of an insert or update, both ids of a merge) and builds the record. `names`
    /// are the format's own names of the SyncID, table, record id, sync type and data fields,
    /// for the messages; `bad` wraps a message with the record's place in the batch.
    pub(crate) fn validate(
        self,
        bad: &impl Fn(String) -> DecodeError,
        names: [&str; 5],
    ) -> Result<PushedRecord, DecodeError> {
        let [sync_id_name, table_name, record_id_name, sync_type_name, data_name] = names;
        let required = |value: Option<Cow<'_, str>>, name: &str| -> Result<String, DecodeError> {
            match value {
                Some(v) if !v.is_empty() => Ok(v.into_owned()),
                _ => Err(bad(format!("{name} is missing"))),
            }
        };
        let sync_id = required(self.sync_id, sync_id_name)?;
        let table = required(self.table, table_name)?;
        let record_id = required(self.record_id, record_id_name)?;
        let sync_type = self
            .sync_type
            .ok_or_else(|| bad(format!("{sync_type_name} is missing")))?;
        let store_id = self.store_id.map(Cow::into_owned).unwrap_or_default();
        let merge_id_to_keep = self.merge_id_to_keep.map(Cow::into_owned).unwrap_or_default();
        let merge_id_to_delete = self.merge_id_to_delete.map(Cow::into_owned).unwrap_or_default();
        for (name, value) in [
            (sync_id_name, &sync_id),
            (table_name, &table),
            (record_id_name, &record_id),
            ("StoreID", &store_id),
            ("mergeIDtokeep", &merge_id_to_keep),
            ("mergeIDtodelete", &merge_id_to_delete),
        ] {
            if value.len() > MAX_ID_LEN || value.contains('\0') {
                return Err(bad(format!("{name} is longer than {MAX_ID_LEN} bytes or holds a NUL")));
            }
        }
        let data = match (sync_type, self.data) {
            (SyncType::Insert | SyncType::Update, Some(data)) if data.get().starts_with('{') => {
                data.get().as_bytes().to_vec()
            }
            (SyncType::Insert | SyncType::Update, _) => {
                return Err(bad(format!(
                    "{data_name} must be a JSON object for an insert or update"
                )))
            }
            (SyncType::Delete | SyncType::Merge, _) => Vec::new(),
        };
        if data.len() > MAX_DATA_LEN {
            return Err(bad(format!("{data_name} is larger than {MAX_DATA_LEN} bytes")));
        }
        if sync_type == SyncType::Merge && (merge_id_to_keep.is_empty() || merge_id_to_delete.is_empty()) {
            return Err(bad("a merge needs the id to keep and the id to delete".into()));
        }
        let key_field_id = self.key_field_id.unwrap_or_default();
        if key_field_id.len() > MAX_ID_LEN {
            return Err(bad("KeyFieldID is too long".into()));
        }
        Ok(PushedRecord::new(
            sync_id,
            SyncRecord {
                table,
                record_id,
                sync_type,
                store_id,
                key_field_id,
                merge_id_to_keep,
                merge_id_to_delete,
                data,
            },
        ))
    }
}

/// Encodes one outgoing record in the pulled shape (lower-case `data`, every key present).
/// `,"RecordID":…,"KeyFieldID":…,"SyncType":"…"`, as v1 and v2 both write them (a record pushed
/// without `KeyFieldID` goes out with 1, what mobile expects).
pub(crate) fn write_id_fields(out: &mut Vec<u8>, r: &RecordView<'_>) {
    out.extend_from_slice(b",\"RecordID\":");
    write_string(out, r.record_id);
    out.extend_from_slice(b",\"KeyFieldID\":");
    out.extend_from_slice(if r.key_field_id.is_empty() {
        b"1"
    } else {
        r.key_field_id.as_bytes()
    });
    out.extend_from_slice(b",\"SyncType\":\"");
    out.extend_from_slice(r.sync_type.code().as_bytes());
    out.push(b'"');
}

pub fn encode_record(out: &mut Vec<u8>, outgoing: &Outgoing) {
    let r = outgoing.record();
    out.extend_from_slice(b"{\"SyncID\":\"");
    out.extend_from_slice(&outgoing.sync_id);
    out.extend_from_slice(b"\",\"RecordType\":");
    write_string(out, r.table);
    write_id_fields(out, &r);
    out.extend_from_slice(b",\"mergeIDtokeep\":");
    write_string(out, r.merge_id_to_keep);
    out.extend_from_slice(b",\"mergeIDtodelete\":");
    write_string(out, r.merge_id_to_delete);
    out.extend_from_slice(b",\"StoreID\":");
    write_string(out, r.store_id);
    out.extend_from_slice(b",\"data\":");
    out.extend_from_slice(if r.data.is_empty() { b"{}" } else { r.data });
    out.push(b'}');
}

/// One record in the push shape (capital `Data`), as `export` writes it and `import` reads it.
/// The SyncID is derived from the log position, so re-importing the same file changes nothing.
pub fn encode_push_line(seq: u64, record: &SyncRecord) -> Vec<u8> {
    let mut out = Vec::with_capacity(record.data.len() + 200);
    out.extend_from_slice(b"{\"SyncID\":");
    write_string(&mut out, &format!("{seq:032X}"));
    out.extend_from_slice(b",\"RecordType\":");
    write_string(&mut out, &record.table);
    out.extend_from_slice(b",\"RecordID\":");
    write_string(&mut out, &record.record_id);
    out.extend_from_slice(b",\"SyncType\":\"");
    out.extend_from_slice(record.sync_type.code().as_bytes());
    out.extend_from_slice(b"\",\"StoreID\":");
    write_string(&mut out, &record.store_id);
    if !record.data.is_empty() {
        out.extend_from_slice(b",\"Data\":");
        out.extend_from_slice(&record.data);
    }
    out.push(b'}');
    out
}

/// Encodes a pull reply: a bare JSON array of records.
pub fn encode_records(records: &[Outgoing]) -> Vec<u8> {
    let size: usize = records.iter().map(|r| r.encoded_len() + 64).sum();
    encode_array(records, size, encode_record)
}

/// `GET user`: the user who may log in.
pub fn encode_user(user_id: &str, is_admin: bool) -> Vec<u8> {
    serde_json::json!({ "UserID": user_id, "isAdmin": is_admin })
        .to_string()
        .into_bytes()
}

/// `GET site`: who the authenticated site is, with its first store (`""` for what it lacks).
#[derive(Debug, Clone, Copy)]
pub struct SiteReply<'a> {
    pub server_id: u32,
    pub site_id: u32,
    pub store_id: &'a str,
    pub name_id: &'a str,
    pub supplying_store_id: &'a str,
    pub supplying_store_name_id: &'a str,
    pub server_version: u32,
}

pub fn encode_site(site: &SiteReply<'_>) -> Vec<u8> {
    serde_json::json!({
        "ServerID": site.server_id,
        "SiteID": site.site_id,
        "StoreID": site.store_id,
        "NameID": site.name_id,
        "SupplyingStoreID": site.supplying_store_id,
        "SupplyingStoreNameID": site.supplying_store_name_id,
        "ServerVersion": site.server_version,
    })
    .to_string()
    .into_bytes()
}

/// Decodes an acknowledgement body: `{"SyncRecordIDs":[…]}` or a bare array of ids.
pub fn decode_acknowledgement(body: &mut [u8]) -> Result<Vec<String>, DecodeError> {
    use simd_json::prelude::*;
    let malformed =
        || DecodeError::Malformed("the body must be {\"SyncRecordIDs\":[…]} or a JSON array of SyncIDs".to_string());
    let value = simd_json::to_borrowed_value(body).map_err(|_| malformed())?;
    let ids = match &value {
        simd_json::BorrowedValue::Array(ids) => ids.as_slice(),
        simd_json::BorrowedValue::Object(object) => match object.get("SyncRecordIDs") {
            Some(simd_json::BorrowedValue::Array(ids)) => ids.as_slice(),
            _ => return Err(malformed()),
        },
        _ => return Err(malformed()),
    };
    ids.iter()
        .map(|id| id.as_str().map(str::to_string).ok_or_else(malformed))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ids::SiteId;
    use crate::store::LogEntry;

    const SPEC_PUSH: &str = r#"[{"SyncID":"3f2a01","RecordType":"transact","RecordID":"ab12","SyncType":"U","StoreID":"s1",
  "Data":{"ID":"ab12","name_ID":"n1","invoice_num":12,"total":"10.5","store_ID":"s1"}},
 {"SyncID":"3f2a02","RecordType":"trans_line","RecordID":"cd34","SyncType":"D","StoreID":"s1"}]"#;

    #[test]
    fn spec_push_sample_decodes_with_data_kept_verbatim() {
        let records = decode_push(SPEC_PUSH.as_bytes(), 10).unwrap();
        assert_eq!(records.len(), 2);
        assert_eq!(records[0].record.table, "transact");
        assert_eq!(records[0].record.sync_type, SyncType::Update);
        assert_eq!(
            std::str::from_utf8(&records[0].record.data).unwrap(),
            r#"{"ID":"ab12","name_ID":"n1","invoice_num":12,"total":"10.5","store_ID":"s1"}"#
        );
        assert_eq!(records[1].record.sync_type, SyncType::Delete);
        assert!(records[1].record.data.is_empty());
    }

    #[test]
    fn pulled_shape_matches_the_spec_sample_and_round_trips() {
        let data =
            r#"{"ID":"fd44","status":"wf","daysToSupply":"90","date_entered":"2016-07-19T00:00:00","store_ID":"6CFD"}"#;
        let entry = LogEntry {
            origin: SiteId(2),
            audiences: vec![],
            record: SyncRecord {
                table: "requisition".into(),
                record_id: "fd44".into(),
                sync_type: SyncType::Update,
                store_id: "6CFD".into(),
                key_field_id: String::new(),
                merge_id_to_keep: String::new(),
                merge_id_to_delete: String::new(),
                data: data.as_bytes().to_vec(),
            },
        };
        let outgoing = Outgoing::new(*b"89E2D46494F00C409E96DE3F933D77F1", entry.encode()).unwrap();
        let encoded = String::from_utf8(encode_records(&[outgoing])).unwrap();
        let expected = format!(
            r#"[{{"SyncID":"89E2D46494F00C409E96DE3F933D77F1","RecordType":"requisition","RecordID":"fd44","KeyFieldID":1,"SyncType":"U","mergeIDtokeep":"","mergeIDtodelete":"","StoreID":"6CFD","data":{data}}}]"#
        );
        assert_eq!(encoded, expected);
        // A pulled record pushed back (as a satellite forwarding it would) decodes to the same record.
        let pushed = encoded.replace("\"data\"", "\"Data\"");
        let decoded = decode_push(pushed.as_bytes(), 10).unwrap();
        assert_eq!(decoded[0].record.data, data.as_bytes());
    }

    #[test]
    fn bad_pushes_name_the_problem() {
        assert!(matches!(decode_push(b"{}", 10), Err(DecodeError::Malformed(_))));
        assert!(matches!(decode_push(b"[1,", 10), Err(DecodeError::Malformed(_))));
        let unknown = br#"[{"SyncID":"a","RecordType":"item","RecordID":"b","SyncType":"X","Data":{}}]"#;
        assert!(matches!(decode_push(unknown, 10), Err(DecodeError::Record(m)) if m.contains("SyncType \"X\"")));
        let missing = br#"[{"SyncID":"a","RecordType":"item","SyncType":"U","Data":{}}]"#;
        assert!(matches!(decode_push(missing, 10), Err(DecodeError::Record(m)) if m.contains("RecordID")));
        let no_data = br#"[{"SyncID":"a","RecordType":"item","RecordID":"b","SyncType":"U"}]"#;
        assert!(matches!(decode_push(no_data, 10), Err(DecodeError::Record(_))));
        let wrong_type = br#"[{"SyncID":"a","RecordType":"item","RecordID":5,"SyncType":"U","Data":{}}]"#;
        assert!(matches!(decode_push(wrong_type, 10), Err(DecodeError::Record(_))));
        let two = br#"[{"SyncID":"a"},{"SyncID":"b"}]"#;
        assert!(matches!(decode_push(two, 1), Err(DecodeError::TooMany(_))));
    }

    #[test]
    fn acknowledgements_accept_both_shapes() {
        let mut object = br#"{"SyncRecordIDs":["A","B"]}"#.to_vec();
        assert_eq!(decode_acknowledgement(&mut object).unwrap(), vec!["A", "B"]);
        let mut array = br#"["C"]"#.to_vec();
        assert_eq!(decode_acknowledgement(&mut array).unwrap(), vec!["C"]);
        let mut empty = br#"{"SyncRecordIDs":[]}"#.to_vec();
        assert!(decode_acknowledgement(&mut empty).unwrap().is_empty());
        let mut bad = br#"{"SyncRecordIDs":[1]}"#.to_vec();
        assert!(decode_acknowledgement(&mut bad).is_err());
        let mut garbage = b"{nope".to_vec();
        assert!(decode_acknowledgement(&mut garbage).is_err());
    }
}
