//! A stored row as v5 carries it: native JSON, each field the catalogue knows turned from the
//! legacy text form into its v5 type (numbers as numbers, integers without a fraction, booleans,
//! dates as `YYYY-MM-DD`, times as seconds since midnight, documents as JSON values); fields the
//! catalogue does not know as stored.

use crate::domain::fields::{Field, FieldType, TableFields, V5Kind};
use crate::domain::row::{unescape, Members, TokenKind};

use super::json::write_string;

/// Appends `data` (a stored row) in v5's native form.
pub fn write_row(out: &mut Vec<u8>, table: Option<&TableFields>, data: &[u8]) {
    let Some(table) = table else {
        out.extend_from_slice(data);
        return;
    };
    let start = out.len();
    let mut cursor = 0usize;
    out.push(b'{');
    for (n, member) in Members::new(data).enumerate() {
        let Ok((key, token)) = member else {
            // Stored rows are written by the primary; one that does not read goes out as stored.
            out.truncate(start);
            out.extend_from_slice(data);
            return;
        };
        if n > 0 {
            out.push(b',');
        }
        out.extend_from_slice(key);
        out.push(b':');
        let field = field_at(table, key, &mut cursor);
        match (field, token.kind) {
            (Some(field), TokenKind::String) => match unescape(token.raw) {
                Some(text) => write_native(out, field, &text),
                None => out.extend_from_slice(token.raw),
            },
            _ => out.extend_from_slice(token.raw),
        }
    }
    out.push(b'}');
}

/// The field `key` names, trying the next field in order first.
fn field_at<'t>(table: &'t TableFields, key: &[u8], cursor: &mut usize) -> Option<&'t Field> {
    let name = key.get(1..key.len().saturating_sub(1))?;
    let position = match table.fields.get(*cursor) {
        Some(field) if field.name.as_bytes() == name => *cursor,
        _ => table.position(&unescape(key)?)?,
    };
    *cursor = position + 1;
    Some(&table.fields[position])
}

/// One value, stored as `text`, in v5's form.
fn write_native(out: &mut Vec<u8>, field: &Field, text: &str) {
    let v5 = field.v5.unwrap_or(match field.kind {
        FieldType::Text | FieldType::Id => V5Kind::Str,
        FieldType::Int => V5Kind::Int,
        FieldType::Num => V5Kind::Num,
        FieldType::Bool => V5Kind::Bool,
        FieldType::Date => V5Kind::Zdate,
        FieldType::Time => V5Kind::Secs,
        FieldType::Datetime => V5Kind::Dt,
        FieldType::Json => V5Kind::Json,
    });
    match v5 {
        V5Kind::Str | V5Kind::Dt => write_string(out, text),
        V5Kind::Int => out.extend_from_slice(integer(text).to_string().as_bytes()),
        V5Kind::Num | V5Kind::NumOrNull => match number(text) {
            Some(n) => out.extend_from_slice(n.as_bytes()),
            None if v5 == V5Kind::NumOrNull => out.extend_from_slice(b"null"),
            None => out.push(b'0'),
        },
        V5Kind::Bool => out.extend_from_slice(if text == "true" { b"true" } else { b"false" }),
        V5Kind::Date | V5Kind::Zdate => {
            let date = text
                .get(..10)
                .filter(|d| !d.starts_with("0000"))
                .unwrap_or("0000-00-00");
            write_string(out, date);
        }
        V5Kind::Secs => out.extend_from_slice(seconds(text).to_string().as_bytes()),
        V5Kind::Json => {
            if text.is_empty() {
                out.extend_from_slice(b"null");
            } else if !field.v5_strings.is_empty() {
                write_document_with_strings(out, text, &field.v5_strings);
            } else if serde_json::from_str::<serde::de::IgnoredAny>(text).is_ok() {
                out.extend_from_slice(text.as_bytes());
            } else {
                write_string(out, text);
            }
        }
    }
}

/// A JSON document with the numbers at its top-level `keys` as strings (`1` → `"1"`); a document
/// that is not an object goes out as it is, text that is not JSON as a string.
fn write_document_with_strings(out: &mut Vec<u8>, text: &str, keys: &[String]) {
    let mut document = match serde_json::from_str::<serde_json::Value>(text) {
        Ok(serde_json::Value::Object(document)) => document,
        Ok(_) => return out.extend_from_slice(text.as_bytes()),
        Err(_) => return write_string(out, text),
    };
    for key in keys {
        if let Some(value) = document.get_mut(key.as_str()).filter(|v| v.is_number()) {
            *value = serde_json::Value::String(value.to_string());
        }
    }
    out.extend_from_slice(serde_json::Value::Object(document).to_string().as_bytes());
}

/// A stored number's text when it is a JSON number (the stored form always is, but a row written
/// by an older build may hold anything).
fn number(text: &str) -> Option<&str> {
    let valid = serde_json::from_str::<serde_json::Number>(text).is_ok();
    valid.then_some(text)
}

fn integer(text: &str) -> i64 {
    text.parse::<i64>()
        .ok()
        .or_else(|| {
            text.parse::<f64>()
                .ok()
                .filter(|v| v.is_finite())
                .map(|v| v.round() as i64)
        })
        .unwrap_or(0)
}

fn seconds(text: &str) -> u32 {
    let mut parts = text.split(':').map(|p| p.parse::<u32>().unwrap_or(0));
    let (h, m, s) = (
        parts.next().unwrap_or(0),
        parts.next().unwrap_or(0),
        parts.next().unwrap_or(0),
    );
    (h * 3600 + m * 60 + s).min(86_399)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::fields::FieldCatalogue;

    const TABLES: &str = r#"
[tables.transact]
fields = [
  { name = "ID", type = "id" },
  { name = "invoice_num", type = "int" },
  { name = "total", type = "num" },
  { name = "hold", type = "bool" },
  { name = "entry_date", type = "date", v5 = "date" },
  { name = "confirm_date", type = "date" },
  { name = "entry_time", type = "time" },
  { name = "custom_data", type = "json" },
  { name = "daysToSupply", type = "num", v5 = "int" },
  { name = "tax_rate", type = "num", v5 = "num_or_null" },
  { name = "data", type = "json", v5_strings = ["monthsLeadTime", "absent"] },
]
"#;

    #[test]
    fn a_stored_row_goes_out_in_native_types() {
        let catalogue = FieldCatalogue::parse(TABLES).unwrap();
        let row = br#"{"ID":"T1","invoice_num":"12","total":"10.5","hold":"true","entry_date":"2024-01-05T00:00:00","confirm_date":"0000-00-00T00:00:00","entry_time":"01:01:01","custom_data":"{\"a\":1}","daysToSupply":"30.4","tax_rate":"","data":"{\"monthsLeadTime\":2,\"usesVaccineModule\":true}","om_status":"NEW","x":{"y":1}}"#;
        let mut out = Vec::new();
        write_row(&mut out, catalogue.table("transact").map(|t| &**t), row);
        let got: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(
            got,
            serde_json::json!({"ID":"T1","invoice_num":12,"total":10.5,"hold":true,"entry_date":"2024-01-05",
                "confirm_date":"0000-00-00","entry_time":3661,"custom_data":{"a":1},"daysToSupply":30,
                "tax_rate":null,"data":{"monthsLeadTime":"2","usesVaccineModule":true},"om_status":"NEW","x":{"y":1}})
        );
        let mut unknown = Vec::new();
        write_row(&mut unknown, None, row);
        assert_eq!(unknown, row, "a table the catalogue does not know goes out as stored");
    }
}
