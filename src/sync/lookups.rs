//! The references the patient lookups follow (a patient's invoices, an invoice's lines, a
//! patient's store joins), indexed on every push so that no request scans a table.

use crate::domain::record::SyncRecord;
use crate::wire::json::top_level_strings;

/// (table, field): a record of `table` is found from the id in its `field`.
pub const LOOKUPS: [(&str, &str); 3] = [
    ("transact", "name_ID"),
    ("trans_line", "transaction_ID"),
    ("name_store_join", "name_ID"),
];

/// The (table, field) lookup of `table`, if it has one.
pub fn of_table(table: &str) -> Option<(&'static str, &'static str)> {
    LOOKUPS.iter().find(|(t, _)| *t == table).copied()
}

/// The lookup a record's current state puts it under: (its table, the id it refers to). `None`
/// for tables not looked up, deleted records, and an empty or missing reference. (A push reads
/// the field in the same pass as its routing fields; this is for stored entries.)
pub fn parent(record: &SyncRecord) -> Option<(&'static str, String)> {
    if !record.sync_type.leaves_record() {
        return None;
    }
    let (table, field) = of_table(&record.table)?;
    let value = top_level_strings(&record.data, &[field]).pop()?.1?;
    (!value.is_empty()).then_some((table, value))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::record::SyncType;

    fn record(table: &str, sync_type: SyncType, data: &str) -> SyncRecord {
        SyncRecord {
            table: table.into(),
            record_id: "R1".into(),
            sync_type,
            store_id: String::new(),
            key_field_id: String::new(),
            merge_id_to_keep: String::new(),
            merge_id_to_delete: String::new(),
            data: data.as_bytes().to_vec(),
        }
    }

    #[test]
    fn only_live_records_of_looked_up_tables_with_a_reference() {
        let invoice = r#"{"ID":"R1","name_ID":"P1","type":"ci"}"#;
        assert_eq!(
            parent(&record("transact", SyncType::Update, invoice)),
            Some(("transact", "P1".to_string()))
        );
        assert_eq!(parent(&record("transact", SyncType::Delete, "")), None);
        assert_eq!(parent(&record("item", SyncType::Update, invoice)), None);
        assert_eq!(parent(&record("transact", SyncType::Update, r#"{"name_ID":""}"#)), None);
        assert_eq!(
            parent(&record("trans_line", SyncType::Insert, r#"{"transaction_ID":"T9"}"#)),
            Some(("trans_line", "T9".to_string()))
        );
    }
}
