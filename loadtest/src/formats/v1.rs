//! v1's numbered records, translated by the harness itself from the numbering alone (the
//! catalogue's table and field numbers, a fact both sides share), never with satsync's v1 codec:
//! an error in that codec would otherwise be mirrored in what the harness expects.
//!
//! The shape: `{"SyncID","TableNumber","RecordID","SyncType","StoreID", "fields":[numbers],
//! "values":[texts]}`, every value a string, in the order of the field numbers.

use std::fmt;

use anyhow::{anyhow, bail};
use serde::de::{Deserializer, MapAccess, Visitor};
use serde_json::value::RawValue;
use serde_json::{json, Value};

use satsync::domain::numbering::NumberedTable;
use satsync::domain::record::SyncRecord;

/// The top-level fields of a named row in its order, each value as v1 carries it: strings
/// unescaped, `null` empty, numbers, booleans and nested JSON as written.
pub fn row_fields(data: &str) -> anyhow::Result<Vec<(String, String)>> {
    struct Ordered;
    impl<'de> Visitor<'de> for Ordered {
        type Value = Vec<(String, &'de RawValue)>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a JSON object")
        }
        fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<Self::Value, M::Error> {
            let mut fields = Vec::new();
            while let Some(field) = map.next_entry::<String, &'de RawValue>()? {
                fields.push(field);
            }
            Ok(fields)
        }
    }
    if data.trim().is_empty() {
        return Ok(Vec::new());
    }
    let mut reader = serde_json::Deserializer::from_str(data);
    let fields = reader.deserialize_map(Ordered)?;
    fields
        .into_iter()
        .map(|(name, raw)| {
            let text = match raw.get() {
                "null" => String::new(),
                quoted if quoted.starts_with('"') => serde_json::from_str::<String>(quoted)?,
                other => other.to_string(),
            };
            Ok((name, text))
        })
        .collect()
}

/// A row split by the numbering: `(number, text)` of the fields the table numbers, in the row's
/// order, and the names of the others.
pub type Split = (Vec<(u32, String)>, Vec<String>);

/// The field numbers and texts of a row, keeping the fields the table numbers; the others are
/// returned by name.
pub fn numbered(table: &NumberedTable, data: &str) -> anyhow::Result<Split> {
    let mut numbered = Vec::new();
    let mut unnumbered = Vec::new();
    for (name, text) in row_fields(data)? {
        match table.field_number(&name) {
            Some(number) => numbered.push((number, text)),
            None => unnumbered.push(name),
        }
    }
    Ok((numbered, unnumbered))
}

/// The named row of numbered fields and their texts, in the order given.
pub fn named(table: &NumberedTable, fields: &[u32], values: &[String]) -> anyhow::Result<String> {
    if fields.len() != values.len() {
        bail!("{} field numbers but {} values", fields.len(), values.len());
    }
    let mut out = String::from("{");
    for (i, (number, value)) in fields.iter().zip(values).enumerate() {
        let name = table
            .field_name(*number)
            .ok_or_else(|| anyhow!("field {number} is not numbered in table {}", table.name))?;
        if i > 0 {
            out.push(',');
        }
        out.push_str(&serde_json::to_string(name)?);
        out.push(':');
        out.push_str(&serde_json::to_string(value)?);
    }
    out.push('}');
    Ok(out)
}

/// One record as a v1 client pushes it; fails on a field the numbering lacks, which v1 cannot
/// carry.
pub fn push_record(table: &NumberedTable, sync_id: &str, record: &SyncRecord) -> anyhow::Result<Value> {
    let data = std::str::from_utf8(&record.data)?;
    let (fields, unnumbered) = numbered(table, data)?;
    if let Some(field) = unnumbered.first() {
        bail!("field {field} of table {} has no v1 number", record.table);
    }
    let (numbers, values): (Vec<u32>, Vec<String>) = fields.into_iter().unzip();
    let mut pushed = json!({
        "SyncID": sync_id,
        "TableNumber": table.number,
        "RecordID": record.record_id,
        "SyncType": record.sync_type.code(),
        "StoreID": record.store_id,
        "fields": numbers,
        "values": values,
    });
    if record.sync_type == satsync::domain::record::SyncType::Merge {
        pushed["mergeIDtokeep"] = json!(record.merge_id_to_keep);
        pushed["mergeIDtodelete"] = json!(record.merge_id_to_delete);
    }
    Ok(pushed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_row_keeps_its_order_and_reads_every_value_as_text() {
        let fields = row_fields(r#"{"b":"x\"y","a":5,"c":null,"d":true,"e":{"k":1}}"#).unwrap();
        let expected = [("b", "x\"y"), ("a", "5"), ("c", ""), ("d", "true"), ("e", r#"{"k":1}"#)];
        let expected: Vec<(String, String)> = expected.iter().map(|(n, v)| (n.to_string(), v.to_string())).collect();
        assert_eq!(fields, expected);
        assert!(row_fields("[1]").is_err());
    }
}
