//! Transfers between stores, which the primary generates for the receiving device: a supplier invoice
//! (`si`) from another store's customer invoice, and a response requisition from another store's
//! request. The device numbers a linked transfer whose number is below 1 every time it integrates it,
//! adds the received stock only when its user finalises an invoice that is not yet confirmed, and fills
//! the batches the lines name. These rules are HEAD's: the 2017 app links and renumbers nothing.

use serde_json::{Map, Value};

use crate::findings::Findings;
use crate::parsers::below_one;
use crate::state::{DeviceState, HeaderFate, HeaderKind};
use crate::tables::{RECEIVABLE_STATUSES, REQUISITION_STATUSES};
use crate::Device;

fn text<'a>(data: &'a Map<String, Value>, key: &str) -> &'a str {
    data.get(key).and_then(Value::as_str).unwrap_or_default()
}

/// Whether integrating this own-store record makes the device give it its next number: a linked
/// transaction (or requisition) whose number is below 1.
pub(crate) fn renumbered(record_type: &str, data: &Map<String, Value>, own_store: bool) -> bool {
    let (link, number) = match record_type {
        "transact" => ("linked_transaction_id", "invoice_num"),
        "requisition" => ("linked_requisition_id", "serial_number"),
        _ => return false,
    };
    own_store && !text(data, link).is_empty() && below_one(data.get(number))
}

pub(crate) fn check(
    device: &Device,
    state: &DeviceState,
    record_type: &str,
    id: &str,
    data: &Map<String, Value>,
    own_store: bool,
    f: &mut Findings,
) {
    let numbered = renumbered(record_type, data, own_store);
    let kind = HeaderKind::of_header(record_type);
    if numbered && kind.is_some_and(|kind| state.numbered.contains(&(kind, id.to_string()))) {
        let number = if record_type == "transact" {
            "invoice_num"
        } else {
            "serial_number"
        };
        f.defect(format!(
            "{id} re-sent with {number} below 1 after it was delivered: the device numbers it again each time \
             (do not re-send renumbered records with -1)"
        ));
    }
    match record_type {
        "transact" if own_store && text(data, "type") == "si" => supplier_invoice(device, state, data, numbered, f),
        "requisition" if own_store => requisition(device, state, id, data, numbered, f),
        "trans_line" => received_line(state, data, f),
        _ => {}
    }
}

fn supplier_invoice(device: &Device, state: &DeviceState, data: &Map<String, Value>, numbered: bool, f: &mut Findings) {
    let status = text(data, "status");
    if numbered && !RECEIVABLE_STATUSES.contains(&status) {
        let consequence = match status {
            "cn" => "is finalised without adding stock",
            "fn" | "wf" => "is read-only and adds no stock",
            _ => "is not one the device receives stock for",
        };
        f.defect(format!(
            "a received supplier invoice must arrive nw (or sg): status {status:?} {consequence}"
        ));
    }
    if RECEIVABLE_STATUSES.contains(&status) {
        match data.get("mode") {
            None => {}
            Some(Value::String(mode)) if mode == "store" => {}
            Some(mode) => f.defect(format!(
                "mode {mode}: a supplier invoice to receive needs mode store (or no mode), else the app's list hides it"
            )),
        }
        let name_id = text(data, "name_ID");
        if text(data, "linked_transaction_id").is_empty() && state.store_names.contains(name_id) {
            f.defect(format!(
                "supplier invoice from store name {name_id} without linked_transaction_id: the device neither links nor numbers it"
            ));
        }
    }
    if text(data, "name_ID") == device.name_id {
        f.defect("the supplier of the invoice is the device's own name");
    }
}

fn requisition(
    device: &Device,
    state: &DeviceState,
    id: &str,
    data: &Map<String, Value>,
    numbered: bool,
    f: &mut Findings,
) {
    let status = text(data, "status");
    let type_code = text(data, "type");
    if type_code == "response" {
        if numbered && status != "sg" && REQUISITION_STATUSES.contains(&status) {
            f.defect(format!(
                "a response requisition to fill must arrive sg: status {status:?} makes it read-only (no customer invoice is made)"
            ));
        }
        if status == "sg" && text(data, "linked_requisition_id").is_empty() {
            f.defect("response requisition in sg without linked_requisition_id (the customer's request)");
        }
        if text(data, "name_ID") == device.name_id {
            f.defect("the customer of the response requisition is the device's own name");
        }
    }
    let reopened = state.header(HeaderKind::Requisition, id).is_some_and(|earlier| {
        earlier.fate == HeaderFate::Integrated
            && earlier.type_code == "request"
            && ["fn", "cn"].contains(&earlier.status.as_str())
    });
    if type_code == "request" && status == "sg" && reopened {
        f.defect("request re-sent as sg after it was finalised: it reopens the device's finalised order as editable");
    }
}

/// A line of an invoice the device is to receive names the batch the device creates and fills.
fn received_line(state: &DeviceState, data: &Map<String, Value>, f: &mut Findings) {
    let transaction = text(data, "transaction_ID");
    let Some(header) = state.header(HeaderKind::Transaction, transaction) else {
        return;
    };
    if !(header.renumbered && header.type_code == "si" && header.fate == HeaderFate::Integrated) {
        return;
    }
    let batch = text(data, "item_line_ID");
    if state.item_lines.contains(batch) {
        f.defect(format!(
            "item_line_ID {batch} is an existing batch: a received line needs a new batch id (the sending store's batch stays its own)"
        ));
    }
    if let Some(Value::String(line_type)) = data.get("type") {
        if line_type != "stock_in" {
            f.defect(format!("type {line_type:?}: a received line is stock_in"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn linked_transfers_below_one_are_renumbered() {
        let si = json!({"linked_transaction_id": "CI", "invoice_num": "-1"});
        let si = si.as_object().cloned().unwrap_or_default();
        assert!(renumbered("transact", &si, true) && !renumbered("transact", &si, false));
        let numbered = json!({"linked_transaction_id": "CI", "invoice_num": "12"});
        assert!(!renumbered(
            "transact",
            numbered.as_object().unwrap_or(&Map::new()),
            true
        ));
        let unlinked = json!({"linked_requisition_id": "", "serial_number": "-1"});
        assert!(!renumbered(
            "requisition",
            unlinked.as_object().unwrap_or(&Map::new()),
            true
        ));
    }
}
