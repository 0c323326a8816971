//! The v4 patient lookups, over the stored records: joining a patient to a store, and a
//! patient's dispensing history. Both follow the `lookups` index, never a table scan.

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use super::{Result, SyncEngine, SyncError};
use crate::domain::ids::key_form;
use crate::domain::record::{PushedRecord, SyncRecord, SyncType};
use crate::store::LogEntry;

/// A `name_store_join` as the v4 call answers it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Join {
    pub id: String,
    pub name_id: String,
    pub store_id: String,
    pub inactive: bool,
}

/// One confirmed customer invoice of a patient, with what the history shows of it.
#[derive(Debug, Clone, PartialEq)]
pub struct Dispensing {
    pub confirm_date: String,
    pub store_name: String,
    pub clinician: (String, String),
    pub lines: Vec<DispensedLine>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct DispensedLine {
    pub id: String,
    /// As stored, made a number when it is a numeric string.
    pub quantity: Value,
    pub item_name: String,
    pub item_code: String,
    pub doses: Value,
    pub is_vaccine: bool,
    pub administrator: (String, String),
}

/// Invoice types and statuses that count as dispensed to the patient.
const CUSTOMER_INVOICE: &str = "ci";
const CONFIRMED: [&str; 2] = ["cn", "fn"];

/// The id of a join the primary creates: derived from the pair, so that two requests racing to
/// create the same join write the same record.
fn join_id(name_id: &str, store_id: &str) -> String {
    let digest = Sha256::digest(format!(
        "name_store_join\0{}\0{}",
        key_form(name_id),
        key_form(store_id)
    ));
    hex::encode_upper(&digest[..16])
}

fn fields(entry: &LogEntry) -> Map<String, Value> {
    serde_json::from_slice(&entry.record.data).unwrap_or_default()
}

fn text(fields: &Map<String, Value>, name: &str) -> String {
    match fields.get(name) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        Some(Value::Bool(b)) => b.to_string(),
        _ => String::new(),
    }
}

/// Numbers the clients send as strings ("5") become JSON numbers; anything else stays as it is.
fn number(fields: &Map<String, Value>, name: &str) -> Value {
    match fields.get(name) {
        Some(Value::String(s)) => s
            .trim()
            .parse::<i64>()
            .map(Value::from)
            .or_else(|_| s.trim().parse::<f64>().map(Value::from))
            .unwrap_or_else(|_| Value::String(s.clone())),
        Some(value) => value.clone(),
        None => Value::from(0),
    }
}

fn truthy(fields: &Map<String, Value>, name: &str) -> bool {
    match fields.get(name) {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => s == "true" || s == "1",
        Some(Value::Number(n)) => n.as_i64() == Some(1),
        _ => false,
    }
}

impl SyncEngine {
    /// A stored record's current fields, if it exists and is not deleted.
    fn live(&self, table: &str, id: &str) -> Result<Option<Map<String, Value>>> {
        if id.is_empty() {
            return Ok(None);
        }
        let entry = self.storage.current(table, id)?;
        Ok(entry.filter(|e| e.record.sync_type.leaves_record()).map(|e| fields(&e)))
    }

    fn person(&self, table: &str, id: &str) -> Result<(String, String)> {
        Ok(self
            .live(table, id)?
            .map(|f| (text(&f, "first_name"), text(&f, "last_name")))
            .unwrap_or_default())
    }

    /// Joins patient `name_id` to store `store_id`, or returns the join that exists. A new join
    /// is written as the primary's own `name_store_join` record, so routing sends it, and the
    /// patient's `name` record, to the store's site.
    pub async fn join_patient(&self, name_id: &str, store_id: &str) -> Result<Join> {
        if self.live("name", name_id)?.is_none() {
            return Err(SyncError::Invalid(format!("name_ID {name_id} is not a known name")));
        }
        let (store_known, primary) = self.with_directory(|d| (d.store(store_id).is_some(), d.primary()));
        if !store_known {
            return Err(SyncError::Invalid(format!("store_ID {store_id} is not a known store")));
        }
        for id in self.storage.lookup("name_store_join", name_id)? {
            let Some(join) = self.live("name_store_join", &id)? else {
                continue;
            };
            if key_form(&text(&join, "store_ID")) == key_form(store_id) {
                return Ok(Join {
                    id: text(&join, "ID"),
                    name_id: text(&join, "name_ID"),
                    store_id: text(&join, "store_ID"),
                    inactive: truthy(&join, "inactive"),
                });
            }
        }
        let id = join_id(name_id, store_id);
        let data = serde_json::json!({"ID": id, "name_ID": name_id, "store_ID": store_id, "inactive": false});
        let record = PushedRecord::new(
            format!("V4JOIN{id}"),
            SyncRecord {
                table: "name_store_join".into(),
                record_id: id.clone(),
                sync_type: SyncType::Insert,
                store_id: store_id.to_string(),
                key_field_id: String::new(),
                merge_id_to_keep: String::new(),
                merge_id_to_delete: String::new(),
                data: data.to_string().into_bytes(),
            },
        );
        self.push(primary, vec![record]).await?;
        Ok(Join {
            id,
            name_id: name_id.to_string(),
            store_id: store_id.to_string(),
            inactive: false,
        })
    }

    /// Patient `name_id`'s confirmed customer invoices across every store, oldest first.
    pub fn patient_history(&self, name_id: &str) -> Result<Vec<Dispensing>> {
        let mut history = Vec::new();
        for invoice_id in self.storage.lookup("transact", name_id)? {
            let Some(invoice) = self.live("transact", &invoice_id)? else {
                continue;
            };
            if text(&invoice, "type") != CUSTOMER_INVOICE || !CONFIRMED.contains(&text(&invoice, "status").as_str()) {
                continue;
            }
            let store_id = text(&invoice, "store_ID");
            let store_name = match self.live("store", &store_id)? {
                Some(store) => text(&store, "name"),
                None => self.with_directory(|d| d.store(&store_id).map(|s| s.name.clone()).unwrap_or_default()),
            };
            let mut lines = Vec::new();
            for line_id in self.storage.lookup("trans_line", &invoice_id)? {
                let Some(line) = self.live("trans_line", &line_id)? else {
                    continue;
                };
                let item_line = self.live("item_line", &text(&line, "item_line_ID"))?;
                let item_id = item_line
                    .as_ref()
                    .map(|l| text(l, "item_ID"))
                    .filter(|id| !id.is_empty())
                    .unwrap_or_else(|| text(&line, "item_ID"));
                let item = self.live("item", &item_id)?.unwrap_or_default();
                let item_name = Some(text(&line, "item_name"))
                    .filter(|n| !n.is_empty())
                    .unwrap_or_else(|| text(&item, "item_name"));
                lines.push(DispensedLine {
                    id: text(&line, "ID"),
                    quantity: number(&line, "quantity"),
                    item_name,
                    item_code: text(&item, "code"),
                    doses: number(&item, "doses"),
                    is_vaccine: truthy(&item, "is_vaccine"),
                    administrator: self.person("medicine_administrator", &text(&line, "medicine_administrator_ID"))?,
                });
            }
            lines.sort_by(|a, b| a.id.cmp(&b.id));
            // The day, as the lookup answers it (rows keep `YYYY-MM-DDT00:00:00`).
            let confirmed = text(&invoice, "confirm_date");
            history.push(Dispensing {
                confirm_date: confirmed.get(..10).unwrap_or(&confirmed).to_string(),
                store_name,
                // `prescriber_ID` is the field; data written before the field catalogue used
                // `clinician_ID`.
                clinician: self.person(
                    "clinician",
                    &Some(text(&invoice, "prescriber_ID"))
                        .filter(|id| !id.is_empty())
                        .unwrap_or_else(|| text(&invoice, "clinician_ID")),
                )?,
                lines,
            });
        }
        history.sort_by(|a, b| a.confirm_date.cmp(&b.confirm_date));
        Ok(history)
    }
}
