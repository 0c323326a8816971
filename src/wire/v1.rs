//! The v1 record format: numbered tables and fields (mSupply desktop satellites).
//!
//! `{"SyncID":…,"TableNumber":3,"RecordID":…,"KeyFieldID":5,"SyncType":"U","StoreID":…,
//! "fields":[9,11,3],"values":["sadflkj","Trinity","12"]}`: the values are strings, in the order
//! of the field numbers. A push is translated on arrival, with the [`Numbering`], into the named
//! form every version stores (`data` = `{"<field name>":"<value>",…}` in the order sent); a pull
//! is translated from it. v1 has no types: a stored number or boolean goes out as its text.

use std::borrow::Cow;
use std::collections::HashSet;
use std::sync::{Mutex, OnceLock};

use serde::de::{Deserializer, MapAccess, Visitor};
use serde::Deserialize;
use serde_json::value::RawValue;

use super::json::{encode_array, write_string};
use super::v2::{write_id_fields, RecordFields};
use super::DecodeError;
use crate::domain::numbering::{NumberedTable, Numbering};
use crate::domain::record::{PushedRecord, SyncRecord, SyncType};
use crate::domain::row::text_row;
use crate::sync::Outgoing;

#[derive(Deserialize)]
struct PushedV1<'a> {
    #[serde(rename = "SyncID", borrow)]
    sync_id: Option<Cow<'a, str>>,
    #[serde(rename = "TableNumber")]
    table_number: Option<u32>,
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
    #[serde(default)]
    fields: Vec<u32>,
    #[serde(borrow, default)]
    values: Vec<Cow<'a, str>>,
}

/// Decodes a v1 push body: a JSON array of numbered records. Either every record is valid and
/// known to the numbering, or the error names the first one that is not.
pub fn decode_push(body: &[u8], max_records: usize, numbering: &Numbering) -> Result<Vec<PushedRecord>, DecodeError> {
    let items: Vec<&RawValue> = serde_json::from_slice(body)
        .map_err(|e| DecodeError::Malformed(format!("the body must be a JSON array of sync records: {e}")))?;
    if items.len() > max_records {
        return Err(DecodeError::TooMany(format!(
            "a push may hold at most {max_records} records, this one holds {}",
            items.len()
        )));
    }
    items
        .iter()
        .enumerate()
        .map(|(n, raw)| decode_record(n, raw, numbering))
        .collect()
}

fn decode_record(n: usize, raw: &RawValue, numbering: &Numbering) -> Result<PushedRecord, DecodeError> {
    let bad = |message: String| DecodeError::Record(format!("record {} of the push: {message}", n + 1));
    let pushed: PushedV1<'_> = serde_json::from_str(raw.get()).map_err(|e| bad(e.to_string()))?;
    let code = pushed.sync_type.as_deref().unwrap_or_default();
    let sync_type = match code {
        "" => None,
        code => Some(
            SyncType::from_code(code).ok_or_else(|| bad(format!("SyncType \"{code}\" is not one of I, U, D, M")))?,
        ),
    };
    let table = match pushed.table_number {
        None => None,
        Some(number) => Some(
            numbering
                .table_numbered(number)
                .ok_or_else(|| bad(format!("TableNumber {number} is not a table of the v1 numbering")))?,
        ),
    };
    let data = match table {
        Some(table) => Some(data_from_values(table, &pushed.fields, &pushed.values).map_err(bad)?),
        None => None,
    };
    let fields = RecordFields {
        sync_id: pushed.sync_id,
        table: table.map(|t| Cow::Borrowed(t.name.as_str())),
        record_id: pushed.record_id,
        sync_type,
        store_id: pushed.store_id,
        key_field_id: pushed.key_field_id.map(|k| k.get().to_string()),
        merge_id_to_keep: pushed.merge_id_to_keep,
        merge_id_to_delete: pushed.merge_id_to_delete,
        data: data.as_deref(),
    };
    fields.validate(&bad, ["SyncID", "TableNumber", "RecordID", "SyncType", "values"])
}

/// The named `data` object of a numbered record: `{"<name of field 1>":"<value 1>",…}` in the
/// order sent. Fails on a field the table does not number, a field given twice, or a count of
/// values that is not the count of fields.
pub fn data_from_values(
    table: &NumberedTable,
    fields: &[u32],
    values: &[Cow<'_, str>],
) -> Result<Box<RawValue>, String> {
    if fields.len() != values.len() {
        return Err(format!(
            "{} field numbers but {} values: each field needs one value",
            fields.len(),
            values.len()
        ));
    }
    let mut seen = HashSet::with_capacity(fields.len());
    let mut members: Vec<(&str, &str)> = Vec::with_capacity(fields.len());
    for (&number, value) in fields.iter().zip(values) {
        let name = table.field_name(number).ok_or_else(|| {
            format!(
                "field number {number} is not a field of table {} ({}) in the v1 numbering",
                table.name, table.number
            )
        })?;
        if !seen.insert(number) {
            return Err(format!("field number {number} ({name}) is given twice"));
        }
        members.push((name, value));
    }
    let data = text_row(&members);
    let text = String::from_utf8(data).expect("built from strings");
    Ok(RawValue::from_string(text).expect("built as a JSON object"))
}

/// A named record's values split by the numbering: `(field number, text)` for the fields the
/// table numbers, and the names of those it does not.
pub type SplitValues<'d> = (Vec<(u32, Cow<'d, str>)>, Vec<Cow<'d, str>>);

/// The field numbers and values of a named `data` object, in its order. Values go out as
/// text: strings unescaped, `null` empty, numbers, booleans and nested JSON as written. Fields
/// the table does not number come back in the second list, by name.
pub fn values_from_data<'d>(table: &NumberedTable, data: &'d [u8]) -> Result<SplitValues<'d>, serde_json::Error> {
    let mut numbered = Vec::new();
    let mut unnumbered = Vec::new();
    if data.is_empty() {
        return Ok((numbered, unnumbered));
    }
    for (name, raw) in ordered_fields(data)? {
        match table.field_number(&name) {
            Some(number) => numbered.push((number, value_text(raw))),
            None => unnumbered.push(name),
        }
    }
    Ok((numbered, unnumbered))
}

/// Encodes one outgoing record in the numbered shape.
pub fn encode_record(out: &mut Vec<u8>, outgoing: &Outgoing, numbering: &Numbering) {
    let r = outgoing.record();
    out.extend_from_slice(b"{\"SyncID\":\"");
    out.extend_from_slice(&outgoing.sync_id);
    out.extend_from_slice(b"\",\"TableNumber\":");
    let table = numbering.table_named(r.table);
    match table {
        Some(table) => out.extend_from_slice(table.number.to_string().as_bytes()),
        None => {
            warn_once(r.table, None);
            out.extend_from_slice(b"0,\"RecordType\":");
            write_string(out, r.table);
        }
    }
    write_id_fields(out, &r);
    out.extend_from_slice(b",\"StoreID\":");
    write_string(out, r.store_id);
    out.extend_from_slice(b",\"mergeIDtokeep\":");
    write_string(out, r.merge_id_to_keep);
    out.extend_from_slice(b",\"mergeIDtodelete\":");
    write_string(out, r.merge_id_to_delete);
    let (numbered, unnumbered) = match table.map(|t| values_from_data(t, r.data)) {
        Some(Ok(split)) => split,
        Some(Err(_)) | None => Default::default(),
    };
    for field in &unnumbered {
        warn_once(r.table, Some(field));
    }
    out.extend_from_slice(b",\"fields\":[");
    for (i, (number, _)) in numbered.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(number.to_string().as_bytes());
    }
    out.extend_from_slice(b"],\"values\":[");
    for (i, (_, value)) in numbered.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_string(out, value);
    }
    out.extend_from_slice(b"]}");
}

/// Encodes a pull reply: a bare JSON array of numbered records.
pub fn encode_records(records: &[Outgoing], numbering: &Numbering) -> Vec<u8> {
    let size: usize = records.iter().map(|r| r.encoded_len() + 96).sum();
    encode_array(records, size, |out, record| encode_record(out, record, numbering))
}

/// One named record as a v1 client pushes it (for the harness and the tests). Fails on a table
/// or field the numbering lacks, since v1 cannot carry it.
pub fn encode_push_record(
    out: &mut Vec<u8>,
    sync_id: &str,
    record: &SyncRecord,
    numbering: &Numbering,
) -> Result<(), String> {
    let table = numbering
        .table_named(&record.table)
        .ok_or_else(|| format!("table {} has no v1 number", record.table))?;
    let (numbered, unnumbered) = values_from_data(table, &record.data).map_err(|e| e.to_string())?;
    if let Some(field) = unnumbered.first() {
        return Err(format!("field {field} of table {} has no v1 number", record.table));
    }
    out.extend_from_slice(b"{\"SyncID\":");
    write_string(out, sync_id);
    out.extend_from_slice(format!(",\"TableNumber\":{},\"RecordID\":", table.number).as_bytes());
    write_string(out, &record.record_id);
    out.extend_from_slice(b",\"SyncType\":\"");
    out.extend_from_slice(record.sync_type.code().as_bytes());
    out.extend_from_slice(b"\",\"StoreID\":");
    write_string(out, &record.store_id);
    if record.sync_type == SyncType::Merge {
        out.extend_from_slice(b",\"mergeIDtokeep\":");
        write_string(out, &record.merge_id_to_keep);
        out.extend_from_slice(b",\"mergeIDtodelete\":");
        write_string(out, &record.merge_id_to_delete);
    }
    let numbers: Vec<String> = numbered.iter().map(|(n, _)| n.to_string()).collect();
    out.extend_from_slice(format!(",\"fields\":[{}],\"values\":[", numbers.join(",")).as_bytes());
    for (i, (_, value)) in numbered.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_string(out, value);
    }
    out.extend_from_slice(b"]}");
    Ok(())
}

/// A top-level field's value as v1 text.
fn value_text(raw: &RawValue) -> Cow<'_, str> {
    let text = raw.get();
    if text.starts_with('"') {
        match serde_json::from_str::<&str>(text) {
            Ok(plain) => Cow::Borrowed(plain),
            // Escapes need an owned copy.
            Err(_) => Cow::Owned(serde_json::from_str::<String>(text).unwrap_or_default()),
        }
    } else if text == "null" {
        Cow::Borrowed("")
    } else {
        Cow::Borrowed(text)
    }
}

/// The top-level fields of a JSON object, in their order, values unparsed.
fn ordered_fields(data: &[u8]) -> Result<Vec<(Cow<'_, str>, &RawValue)>, serde_json::Error> {
    struct Fields;
    impl<'de> Visitor<'de> for Fields {
        type Value = Vec<(Cow<'de, str>, &'de RawValue)>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a JSON object")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut fields = Vec::with_capacity(map.size_hint().unwrap_or(16));
            while let Some(key) = map.next_key::<Cow<'de, str>>()? {
                fields.push((key, map.next_value::<&'de RawValue>()?));
            }
            Ok(fields)
        }
    }
    serde_json::Deserializer::from_slice(data).deserialize_map(Fields)
}

/// Logs, once per table (and field), what a v1 pull had to leave out.
fn warn_once(table: &str, field: Option<&str>) {
    static WARNED: OnceLock<Mutex<HashSet<String>>> = OnceLock::new();
    let key = format!("{table}.{}", field.unwrap_or("*"));
    let first = WARNED
        .get_or_init(Default::default)
        .lock()
        .map(|mut warned| warned.insert(key))
        .unwrap_or(false);
    if first {
        match field {
            None => tracing::warn!(table, "v1 pull of a table without a v1 number: sent as TableNumber 0"),
            Some(field) => tracing::warn!(table, field, "v1 pull left out a field without a v1 number"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ids::SiteId;
    use crate::store::LogEntry;

    /// A numbering in which the spec's sample (table 3, fields 9, 11 and 3) means something.
    fn sample_numbering() -> Numbering {
        Numbering::parse(
            r#"[tables.name]
v1 = 3
fields = [
  { name = "ID", type = "id", v1 = 9 }, { name = "name", type = "text", v1 = 11 },
  { name = "code", type = "text", v1 = 3 }, { name = "type", type = "text", v1 = 4 },
]
[tables.item]
v1 = 1
fields = [
  { name = "ID", type = "id", v1 = 1 }, { name = "price", type = "num", v1 = 2 },
  { name = "on", type = "bool", v1 = 3 }, { name = "note", type = "text", v1 = 4 },
]
"#,
        )
        .unwrap()
    }

    const SPEC_PUSH: &str = r#"[{"SyncID":"asdlkfj","TableNumber":3,"RecordID":"dkfaadj","KeyFieldID":5,"SyncType":"U",
  "StoreID":"knvslkj","fields":[9,11,3],"values":["sadflkj","Trinity","12"]}]"#;

    fn outgoing(record: SyncRecord) -> Outgoing {
        let entry = LogEntry {
            origin: SiteId(2),
            audiences: vec![],
            record,
        };
        Outgoing::new(*b"89E2D46494F00C409E96DE3F933D77F1", entry.encode()).unwrap()
    }

    #[test]
    fn spec_push_sample_decodes_to_the_named_form_and_encodes_back() {
        let numbering = sample_numbering();
        let records = decode_push(SPEC_PUSH.as_bytes(), 10, &numbering).unwrap();
        let record = &records[0].record;
        assert_eq!(records[0].sync_id, "asdlkfj");
        assert_eq!(record.table, "name");
        assert_eq!(record.key_field_id, "5");
        assert_eq!(record.sync_type, SyncType::Update);
        assert_eq!(record.data, br#"{"ID":"sadflkj","name":"Trinity","code":"12"}"#);
        let pulled = String::from_utf8(encode_records(&[outgoing(record.clone())], &numbering)).unwrap();
        assert_eq!(
            pulled,
            r#"[{"SyncID":"89E2D46494F00C409E96DE3F933D77F1","TableNumber":3,"RecordID":"dkfaadj","KeyFieldID":5,"SyncType":"U","StoreID":"knvslkj","mergeIDtokeep":"","mergeIDtodelete":"","fields":[9,11,3],"values":["sadflkj","Trinity","12"]}]"#
        );
        let mut pushed = Vec::new();
        encode_push_record(&mut pushed, "asdlkfj", record, &numbering).unwrap();
        let again = decode_push(&[b"[", pushed.as_slice(), b"]"].concat(), 10, &numbering).unwrap();
        assert_eq!(again[0].record.data, record.data);
    }

    #[test]
    fn typed_named_data_goes_out_as_text_in_its_order() {
        let numbering = sample_numbering();
        let record = SyncRecord {
            table: "item".into(),
            record_id: "A".into(),
            sync_type: SyncType::Insert,
            store_id: String::new(),
            key_field_id: String::new(),
            merge_id_to_keep: String::new(),
            merge_id_to_delete: String::new(),
            data: br#"{"price":1.5,"ID":"A","extra":"x","on":true,"note":"say \"hi\"","gone":null}"#.to_vec(),
        };
        let pulled = String::from_utf8(encode_records(&[outgoing(record)], &numbering)).unwrap();
        assert!(
            pulled.ends_with(r#""fields":[2,1,3,4],"values":["1.5","A","true","say \"hi\""]}]"#),
            "{pulled}"
        );
    }

    #[test]
    fn a_table_without_a_number_still_goes_out_named() {
        let record = SyncRecord {
            table: "custom_table".into(),
            record_id: "A".into(),
            sync_type: SyncType::Delete,
            store_id: String::new(),
            key_field_id: String::new(),
            merge_id_to_keep: String::new(),
            merge_id_to_delete: String::new(),
            data: Vec::new(),
        };
        let pulled = String::from_utf8(encode_records(&[outgoing(record)], &sample_numbering())).unwrap();
        assert!(
            pulled.contains(r#""TableNumber":0,"RecordType":"custom_table""#),
            "{pulled}"
        );
        assert!(pulled.ends_with(r#""fields":[],"values":[]}]"#), "{pulled}");
    }

    #[test]
    fn unknown_numbers_and_bad_shapes_are_named() {
        let numbering = sample_numbering();
        let error = |body: &str| match decode_push(body.as_bytes(), 10, &numbering) {
            Err(DecodeError::Record(message) | DecodeError::Malformed(message)) => message,
            other => panic!("expected an error for {body}: {other:?}"),
        };
        let record = |rest: &str| format!(r#"[{{"SyncID":"s","RecordID":"r","SyncType":"U",{rest}}}]"#);
        assert!(error(&record(r#""TableNumber":77,"fields":[],"values":[]"#)).contains("TableNumber 77"));
        assert!(error(&record(r#""TableNumber":3,"fields":[42],"values":["x"]"#))
            .contains("field number 42 is not a field of table name (3)"));
        assert!(error(&record(r#""TableNumber":3,"fields":[9,9],"values":["x","y"]"#)).contains("given twice"));
        assert!(error(&record(r#""TableNumber":3,"fields":[9,11],"values":["x"]"#)).contains("2 field numbers but 1"));
        assert!(error(&record(r#""TableNumber":3,"fields":[9],"values":[12]"#)).contains("expected a string"));
        assert!(error(&record(r#""TableNumber":"3","fields":[],"values":[]"#)).contains("record 1"));
        assert!(error(&record(r#""fields":[],"values":[]"#)).contains("TableNumber is missing"));
        assert!(error("{}").contains("JSON array"));
        assert!(matches!(
            decode_push(SPEC_PUSH.as_bytes(), 0, &numbering),
            Err(DecodeError::TooMany(_))
        ));
    }

    #[test]
    fn deletes_need_no_values_and_merges_keep_their_ids() {
        let numbering = sample_numbering();
        let body = r#"[{"SyncID":"d","TableNumber":1,"RecordID":"A","SyncType":"D"},
            {"SyncID":"m","TableNumber":1,"RecordID":"A","SyncType":"M","mergeIDtokeep":"K","mergeIDtodelete":"G"}]"#;
        let records = decode_push(body.as_bytes(), 10, &numbering).unwrap();
        assert_eq!(records[0].record.sync_type, SyncType::Delete);
        assert!(records[0].record.data.is_empty());
        assert_eq!(records[1].record.merge_id_to_keep, "K");
        assert_eq!(records[1].record.target_id(), "G");
    }
}
