//! Judges one record the way the app takes it: the envelope, then for an upsert the sanity check, the
//! filters, the writing step and the rules that need what the device already holds; for a delete the
//! refusals of the app's models; for a merge the types the app merges.

use std::collections::HashSet;

use serde_json::Value;

use crate::envelope::{self, Envelope, Operation};
use crate::fields::{self, FieldContext};
use crate::findings::{Findings, Stage};
use crate::parsers::describe;
use crate::state::{DeviceState, HeaderFate, HeaderKind, Learnt};
use crate::tables::{Fate, Table, FINALISED_STATUSES, MERGEABLE};
use crate::{documents, filters, headers, rules, sanity, transfers, v2017, Client, Device, Outcome, Verdict};

/// Judges `record` and updates `state` with what the device keeps from it (unless it crashes: the
/// caller then throws the batch's state away).
pub(crate) fn judge(
    device: &Device,
    state: &mut DeviceState,
    record: &Value,
    sync_ids: &mut HashSet<String>,
) -> Verdict {
    let mut f = Findings::default();
    let learnt = match envelope::read(record, device.client, sync_ids, &mut f) {
        Some(Envelope {
            table,
            operation: Operation::Upsert(data),
        }) => upsert(device, state, table, data, &mut f),
        Some(Envelope {
            table,
            operation: Operation::Delete(record_id),
        }) => {
            delete(device, state, table, record_id, &mut f);
            None
        }
        Some(Envelope {
            table,
            operation: Operation::Merge { keep, delete },
        }) => {
            merge(device.client, table, keep, delete, &mut f);
            None
        }
        None => None,
    };
    let (outcome, defects) = f.finish();
    if let Some(learnt) = learnt.filter(|_| !matches!(outcome, Outcome::Crash(_))) {
        state.remember(device, &learnt, &outcome);
    }
    Verdict {
        table: label(record.get("RecordType")),
        record_id: record_id(record),
        outcome,
        defects,
    }
}

fn upsert<'a>(
    device: &Device,
    state: &DeviceState,
    table: &'static Table,
    data: &'a Value,
    f: &mut Findings,
) -> Option<Learnt<'a>> {
    let Some(row) = data.as_object() else {
        f.dropped(
            Stage::Sanity,
            format!(
                "data is {}, not a json object: the row has no ID (dropped)",
                describe(data)
            ),
        );
        return None;
    };
    let reported = sanity::check(table, row, device.client, f);
    let fate = match device.client {
        Client::Head => table.fate,
        Client::V2017 => v2017::fate(table),
    };
    if fate == Fate::AlwaysDropped {
        return None;
    }
    let own_store = filters::apply(device, state, table, row, f);
    if f.allowed_ignore() {
        // The app reads nothing more of a record it is allowed to ignore.
        return None;
    }
    let record_type = table.record_type;
    let id = row.get("ID").and_then(Value::as_str).unwrap_or_default();
    let renumbered = device.client == Client::Head && transfers::renumbered(record_type, row, own_store);
    let fields = match device.client {
        Client::Head => table.fields.iter().collect(),
        Client::V2017 => v2017::fields(table),
    };
    // A transfer invoice on its first delivery may leave out the mode: new rows default to store.
    let is_transfer_invoice = renumbered && row.get("type").and_then(Value::as_str) == Some("si");
    let may_be_absent: &[&str] = if is_transfer_invoice { &["mode"] } else { &[] };
    let ctx = FieldContext {
        client: device.client,
        own_store,
        reported: &reported,
        may_be_absent,
    };
    fields::check(&fields, row, &ctx, f);
    rules::check(device, state, table, row, own_store, f);
    documents::check(table, row, f);
    headers::check_line(state, record_type, row, f);
    if device.client == Client::Head {
        transfers::check(device, state, record_type, id, row, own_store, f);
    }
    Some(Learnt {
        table,
        id,
        data: row,
        own_store,
        renumbered,
    })
}

fn delete(device: &Device, state: &mut DeviceState, table: &Table, record_id: Option<&Value>, f: &mut Findings) {
    let Some(id) = record_id.and_then(Value::as_str).filter(|id| !id.is_empty()) else {
        let shown = record_id.map(describe).unwrap_or_else(|| "missing".to_string());
        f.ignored(
            Stage::Write,
            format!("delete with RecordID {shown}: nothing is deleted"),
        );
        return;
    };
    match (refusal(device.client, state, table.record_type, id), device.client) {
        (Some(refused), Client::Head) => {
            f.ignored(Stage::Write, format!("{refused}: the app silently refuses the delete"))
        }
        (Some(refused), Client::V2017) => f.crashed(
            Stage::Write,
            format!("{refused}: the 2017 app throws on a refused delete (crash)"),
        ),
        (None, _) => state.forget(table.record_type, id),
    }
}

/// Why the app's model would refuse to delete the row, as far as this session saw the row.
fn refusal(client: Client, state: &DeviceState, record_type: &str, id: &str) -> Option<String> {
    let finalised = |kind: HeaderKind, id: &str| {
        state.header(kind, id).is_some_and(|header| {
            matches!(header.fate, HeaderFate::Integrated | HeaderFate::Foreign)
                && FINALISED_STATUSES.contains(&header.status.as_str())
        })
    };
    match record_type {
        "transact" if finalised(HeaderKind::Transaction, id) => Some(format!("delete of finalised transaction {id}")),
        "Stock_take" if finalised(HeaderKind::Stocktake, id) => Some(format!("delete of finalised stocktake {id}")),
        // HEAD deletes such lines; 2017 refuses.
        "trans_line" if client == Client::V2017 => state
            .line_transactions
            .get(id)
            .filter(|transaction| finalised(HeaderKind::Transaction, transaction))
            .map(|transaction| format!("delete of line {id} of finalised transaction {transaction}")),
        _ => None,
    }
}

fn merge(client: Client, table: &Table, keep: Option<&Value>, delete: Option<&Value>, f: &mut Findings) {
    let record_type = table.record_type;
    if client == Client::V2017 {
        return f.ignored_allowed(Stage::Envelope, "the 2017 app ignores merges");
    }
    if !MERGEABLE.contains(&record_type) {
        return f.ignored_allowed(
            Stage::Envelope,
            format!("the app merges only item, name and clinician, not {record_type}"),
        );
    }
    match (merge_id(keep), merge_id(delete)) {
        (Some(keep), Some(delete)) if keep == delete => {
            f.ignored(Stage::Write, format!("merge of {keep} into itself: nothing happens"));
        }
        (Some(_), Some(_)) => {}
        _ => f.ignored(
            Stage::Write,
            "merge without mergeIDtokeep and mergeIDtodelete (non-empty strings): nothing happens",
        ),
    }
}

fn merge_id(value: Option<&Value>) -> Option<&str> {
    value.and_then(Value::as_str).filter(|id| !id.is_empty())
}

fn label(value: Option<&Value>) -> String {
    match value {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => String::new(),
    }
}

fn record_id(record: &Value) -> String {
    // A row under the push key `Data` is ignored, but its ID still names the record in reports.
    ["data", "Data"]
        .iter()
        .map(|key| label(record.get(*key).and_then(|data| data.get("ID"))))
        .chain([label(record.get("RecordID"))])
        .find(|id| !id.is_empty())
        .unwrap_or_default()
}
