//! The envelope of an incoming record — `SyncID`, `RecordType`, `SyncType`, `RecordID`, `data` and the
//! merge keys — and the app's first five decisions, which look at nothing else. `StoreID` in the
//! envelope is not read by the app, so it is not judged.

use std::collections::HashSet;

use serde_json::Value;

use crate::findings::{Findings, Stage};
use crate::parsers::{describe, truthy};
use crate::tables::{self, Table};
use crate::{v2017, Client};

/// What the record asks the app to do.
pub(crate) enum Operation<'a> {
    /// `I` or `U`: both upsert the row in `data` (lower case).
    Upsert(&'a Value),
    /// `D`: delete the row whose ID is `RecordID`.
    Delete(Option<&'a Value>),
    /// `M`: merge `mergeIDtodelete` into `mergeIDtokeep`.
    Merge {
        keep: Option<&'a Value>,
        delete: Option<&'a Value>,
    },
}

pub(crate) struct Envelope<'a> {
    pub(crate) table: &'static Table,
    pub(crate) operation: Operation<'a>,
}

/// Reads the envelope; `None` when the app ignores the record at this stage (the findings say why).
/// `sync_ids` holds the SyncIDs seen so far in the batch, which must all differ.
pub(crate) fn read<'a>(
    record: &'a Value,
    client: Client,
    sync_ids: &mut HashSet<String>,
    f: &mut Findings,
) -> Option<Envelope<'a>> {
    if !record.is_object() {
        f.ignored(
            Stage::Envelope,
            format!("the record is {}, not a json object", describe(record)),
        );
        return None;
    }
    check_sync_id(record.get("SyncID"), sync_ids, f);
    let record_type = record.get("RecordType");
    let sync_type = record.get("SyncType");
    if !truthy(record_type) {
        f.ignored(Stage::Envelope, "RecordType missing or empty (ignored)");
        return None;
    }
    if !truthy(sync_type) {
        f.ignored(Stage::Envelope, "SyncType missing or empty (ignored)");
        return None;
    }
    let table = known_table(record_type, client, f)?;
    let operation = match sync_type.and_then(Value::as_str) {
        Some("I" | "U") => Operation::Upsert(upsert_row(record, f)?),
        Some("D") => Operation::Delete(record.get("RecordID")),
        Some("M") => Operation::Merge {
            keep: record.get("mergeIDtokeep"),
            delete: record.get("mergeIDtodelete"),
        },
        _ => {
            let shown = sync_type.map(describe).unwrap_or_default();
            f.ignored(
                Stage::Envelope,
                format!("SyncType {shown} is not one of I U D M (ignored)"),
            );
            return None;
        }
    };
    Some(Envelope { table, operation })
}

fn check_sync_id(sync_id: Option<&Value>, sync_ids: &mut HashSet<String>, f: &mut Findings) {
    // The app only echoes the SyncID back; the server needs it present and unique to de-queue the record.
    let key = match sync_id {
        Some(Value::String(s)) if !s.is_empty() => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        None | Some(Value::Null) => {
            f.defect("SyncID missing: the server cannot de-queue the record");
            return;
        }
        Some(other) => {
            f.defect(format!(
                "SyncID is {}: the server cannot de-queue the record",
                describe(other)
            ));
            return;
        }
    };
    if !sync_ids.insert(key.clone()) {
        f.defect(format!("SyncID {key:?} repeats one earlier in the batch"));
    }
}

fn known_table(record_type: Option<&Value>, client: Client, f: &mut Findings) -> Option<&'static Table> {
    let Some(name) = record_type.and_then(Value::as_str) else {
        let shown = record_type.map(describe).unwrap_or_default();
        f.ignored(
            Stage::Envelope,
            format!("RecordType is {shown}, not a record type name (ignored)"),
        );
        return None;
    };
    let table = tables::lookup(name);
    match table {
        Some(table) if client == Client::Head || v2017::knows(name) => Some(table),
        Some(_) => {
            f.ignored_allowed(Stage::Envelope, format!("the 2017 app does not know {name} records"));
            None
        }
        None => {
            let message = match tables::near_miss(name) {
                Some(meant) => format!("unknown RecordType {name:?} (ignored; names are case-sensitive: {meant})"),
                None => format!("unknown RecordType {name:?} (ignored: the record is pointless)"),
            };
            f.ignored(Stage::Envelope, message);
            None
        }
    }
}

/// The row of an insert or update, and the RecordID rule that goes with it.
fn upsert_row<'a>(record: &'a Value, f: &mut Findings) -> Option<&'a Value> {
    let data = record.get("data");
    if !truthy(data) {
        let message = if record.get("Data").is_some() {
            "the row is under Data (capital D), the key of pushes: the app reads only data (ignored)"
        } else {
            "data missing (ignored)"
        };
        f.ignored(Stage::Envelope, message);
        return None;
    }
    let data = data?;
    if let Some(id) = data.get("ID") {
        match record.get("RecordID") {
            None | Some(Value::Null) => f.defect("RecordID missing (it must equal data.ID)"),
            Some(record_id) if record_id != id => {
                f.defect(format!(
                    "RecordID {} differs from data.ID {}",
                    describe(record_id),
                    describe(id)
                ));
            }
            Some(_) => {}
        }
    }
    Some(data)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Outcome;
    use serde_json::json;

    fn judge(record: Value, client: Client) -> (bool, Outcome, Vec<String>) {
        let mut findings = Findings::default();
        let read = read(&record, client, &mut HashSet::new(), &mut findings).is_some();
        let (outcome, defects) = findings.finish();
        (read, outcome, defects)
    }

    fn row(record_type: &str, sync_type: &str) -> Value {
        json!({"SyncID": "1", "RecordType": record_type, "SyncType": sync_type, "RecordID": "A", "data": {"ID": "A"}})
    }

    #[test]
    fn a_well_formed_envelope_reads_cleanly() {
        let (read, outcome, defects) = judge(row("item", "U"), Client::Head);
        assert!(read && outcome == Outcome::Integrated && defects.is_empty());
    }

    #[test]
    fn record_types_are_case_sensitive() {
        let (read, outcome, defects) = judge(row("location", "I"), Client::Head);
        assert!(!read && matches!(outcome, Outcome::Ignored(_)) && defects[0].contains("Location"));
    }

    #[test]
    fn lower_case_sync_types_are_ignored() {
        let (read, _, defects) = judge(row("item", "i"), Client::Head);
        assert!(!read && defects[0].contains("I U D M"));
    }

    #[test]
    fn types_unknown_to_2017_are_ignored_without_defect() {
        let (read, outcome, defects) = judge(row("store", "I"), Client::V2017);
        assert!(!read && matches!(outcome, Outcome::Ignored(_)) && defects.is_empty());
    }

    #[test]
    fn sync_ids_must_differ_within_a_batch() {
        let mut ids = HashSet::new();
        let mut findings = Findings::default();
        read(&row("item", "I"), Client::Head, &mut ids, &mut findings);
        read(&row("item", "I"), Client::Head, &mut ids, &mut findings);
        assert!(findings.finish().1.iter().any(|d| d.contains("repeats")));
    }

    #[test]
    fn record_id_must_equal_the_row_id() {
        let mut record = row("item", "I");
        record["RecordID"] = json!("B");
        assert!(judge(record, Client::Head).2[0].contains("differs"));
    }
}
