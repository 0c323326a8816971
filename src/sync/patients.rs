//! The v4 patient lookups, over the stored records: joining a patient to a store, and a
//! patient's dispensing history. Both follow the `lookups` index, never a table scan.

use sha2::{Digest, Sha256};

use super::{Result, SyncEngine, SyncError};
use crate::domain::dispensing::{DispensedLine, Dispensing, Join};
use crate::domain::ids::key_form;
use crate::domain::record::{PushedRecord, SyncRecord, SyncType};
use crate::domain::row::{text_fields, text_row};
use crate::store::SyncStorage;

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

/// A stored row's fields as text, read in one scan (a stored row holds each key once).
#[derive(Default)]
struct Row(Vec<(String, Option<String>)>);

impl Row {
    fn field(&self, name: &str) -> Option<String> {
        self.0
            .iter()
            .find(|(field, _)| field == name)
            .and_then(|(_, value)| value.clone())
    }

    /// The field's text; empty when it is missing.
    fn text(&self, name: &str) -> String {
        self.field(name).unwrap_or_default()
    }

    /// A number as stored, `"0"` when the field is missing.
    fn number(&self, name: &str) -> String {
        self.field(name).unwrap_or_else(|| "0".to_string())
    }

    fn truthy(&self, name: &str) -> bool {
        matches!(self.text(name).as_str(), "true" | "1")
    }
}

impl<S: SyncStorage> SyncEngine<S> {
    /// A stored record's current fields, if it exists and is not deleted.
    fn live(&self, table: &str, id: &str) -> Result<Option<Row>> {
        if id.is_empty() {
            return Ok(None);
        }
        let entry = self.storage.current(table, id)?;
        Ok(entry
            .filter(|e| e.record.sync_type.leaves_record())
            .map(|e| Row(text_fields(&e.record.data))))
    }

    fn person(&self, table: &str, id: &str) -> Result<(String, String)> {
        Ok(self
            .live(table, id)?
            .map(|f| (f.text("first_name"), f.text("last_name")))
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
            if key_form(&join.text("store_ID")) == key_form(store_id) {
                return Ok(Join {
                    id: join.text("ID"),
                    name_id: join.text("name_ID"),
                    store_id: join.text("store_ID"),
                    inactive: join.truthy("inactive"),
                });
            }
        }
        let id = join_id(name_id, store_id);
        let data = text_row(&[
            ("ID", &id),
            ("name_ID", name_id),
            ("store_ID", store_id),
            ("inactive", "false"),
        ]);
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
                data,
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
            if invoice.text("type") != CUSTOMER_INVOICE || !CONFIRMED.contains(&invoice.text("status").as_str()) {
                continue;
            }
            let store_id = invoice.text("store_ID");
            let store_name = match self.live("store", &store_id)? {
                Some(store) => store.text("name"),
                None => self.with_directory(|d| d.store(&store_id).map(|s| s.name.clone()).unwrap_or_default()),
            };
            let mut lines = Vec::new();
            for line_id in self.storage.lookup("trans_line", &invoice_id)? {
                let Some(line) = self.live("trans_line", &line_id)? else {
                    continue;
                };
                let item_line = self.live("item_line", &line.text("item_line_ID"))?;
                let item_id = item_line
                    .as_ref()
                    .map(|l| l.text("item_ID"))
                    .filter(|id| !id.is_empty())
                    .unwrap_or_else(|| line.text("item_ID"));
                let item = self.live("item", &item_id)?.unwrap_or_default();
                let item_name = Some(line.text("item_name"))
                    .filter(|n| !n.is_empty())
                    .unwrap_or_else(|| item.text("item_name"));
                lines.push(DispensedLine {
                    id: line.text("ID"),
                    quantity: line.number("quantity"),
                    item_name,
                    item_code: item.text("code"),
                    doses: item.number("doses"),
                    is_vaccine: item.truthy("is_vaccine"),
                    administrator: self.person("medicine_administrator", &line.text("medicine_administrator_ID"))?,
                });
            }
            lines.sort_by(|a, b| a.id.cmp(&b.id));
            // The day, as the lookup answers it (rows keep `YYYY-MM-DDT00:00:00`).
            let confirmed = invoice.text("confirm_date");
            history.push(Dispensing {
                confirm_date: confirmed.get(..10).unwrap_or(&confirmed).to_string(),
                store_name,
                // `prescriber_ID` is the field; data written before the field catalogue used
                // `clinician_ID`.
                clinician: self.person(
                    "clinician",
                    &Some(invoice.text("prescriber_ID"))
                        .filter(|id| !id.is_empty())
                        .unwrap_or_else(|| invoice.text("clinician_ID")),
                )?,
                lines,
            });
        }
        history.sort_by(|a, b| a.confirm_date.cmp(&b.confirm_date));
        Ok(history)
    }
}
