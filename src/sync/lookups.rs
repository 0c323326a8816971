//! The references indexed on every push, so that no request scans a table: those the patient
//! lookups follow (a patient's invoices, an invoice's lines, a patient's store joins) and those
//! routing follows (a line's header, the name a record follows), so that when a header or a
//! name's joins change, the records that follow it are found and routed again.

use crate::domain::record::SyncRecord;
use crate::domain::row::string_fields;
use crate::domain::tables::TableCatalogue;

/// (table, field) that the v4 patient lookups follow.
const PATIENT_LOOKUPS: [(&str, &str); 3] = [
    ("transact", "name_ID"),
    ("trans_line", "transaction_ID"),
    ("name_store_join", "name_ID"),
];

/// Every (table, field) indexed: a record of `table` is found from the id in its `field`. At most
/// one per table.
#[derive(Debug, Clone)]
pub struct Lookups {
    list: Vec<(String, String)>,
}

impl Lookups {
    /// The patient lookups and every reference the routing of `tables` follows.
    pub fn of(tables: &TableCatalogue) -> Lookups {
        let mut list: Vec<(String, String)> = PATIENT_LOOKUPS
            .iter()
            .map(|(t, f)| (t.to_string(), f.to_string()))
            .collect();
        for (table, field) in tables.followed_references() {
            match list.iter().find(|(t, _)| t == table) {
                Some((_, indexed)) if indexed != field => tracing::warn!(
                    table,
                    field,
                    indexed = indexed.as_str(),
                    "a table can follow one reference only: routing by this field is not kept up to date"
                ),
                Some(_) => {}
                None => list.push((table.to_string(), field.to_string())),
            }
        }
        list.sort();
        Lookups { list }
    }

    /// The (table, field) lookup of `table`, if it has one.
    pub fn of_table(&self, table: &str) -> Option<(&str, &str)> {
        self.list
            .iter()
            .find(|(t, _)| t == table)
            .map(|(t, f)| (t.as_str(), f.as_str()))
    }

    /// The lookup a record's current state puts it under: (its table, the id it refers to).
    /// `None` for tables not looked up, deleted records, and an empty or missing reference.
    pub fn parent(&self, record: &SyncRecord) -> Option<(String, String)> {
        if !record.sync_type.leaves_record() {
            return None;
        }
        let (table, field) = self.of_table(&record.table)?;
        let value = string_fields(&record.data, &[field]).pop()?.1?;
        (!value.is_empty()).then(|| (table.to_string(), value))
    }

    /// What the index holds, in a form stored beside it: a database whose index was built for
    /// another list is indexed again when it opens.
    pub fn fingerprint(&self) -> Vec<u8> {
        let text: Vec<String> = self.list.iter().map(|(t, f)| format!("{t}.{f}")).collect();
        text.join(",").into_bytes()
    }
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
        let lookups = Lookups::of(&TableCatalogue::builtin());
        let invoice = r#"{"ID":"R1","name_ID":"P1","type":"ci"}"#;
        let parent = |r: SyncRecord| lookups.parent(&r);
        assert_eq!(
            parent(record("transact", SyncType::Update, invoice)),
            Some(("transact".to_string(), "P1".to_string()))
        );
        assert_eq!(parent(record("transact", SyncType::Delete, "")), None);
        assert_eq!(parent(record("item", SyncType::Update, invoice)), None);
        assert_eq!(parent(record("transact", SyncType::Update, r#"{"name_ID":""}"#)), None);
        assert_eq!(
            parent(record("trans_line", SyncType::Insert, r#"{"transaction_ID":"T9"}"#)),
            Some(("trans_line".to_string(), "T9".to_string()))
        );
    }

    #[test]
    fn the_references_routing_follows_are_indexed() {
        let lookups = Lookups::of(&TableCatalogue::builtin());
        assert_eq!(
            lookups.of_table("requisition_line"),
            Some(("requisition_line", "requisition_ID"))
        );
        assert_eq!(
            lookups.of_table("Stock_take_lines"),
            Some(("Stock_take_lines", "stock_take_ID"))
        );
        assert_eq!(
            lookups.of_table("list_master_name_join"),
            Some(("list_master_name_join", "name_ID"))
        );
        assert_eq!(lookups.of_table("item"), None);
        let fingerprint = String::from_utf8(lookups.fingerprint()).unwrap();
        assert!(fingerprint.contains("trans_line.transaction_ID"), "{fingerprint}");
    }
}
