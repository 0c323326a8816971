//! Invoices (§3.26), their lines (§3.27) and goods receipts (§3.32). An invoice of a type or status
//! the translator does not map is ignored; its store and name must be on the site; an invoice of a
//! store active on the site is accepted only as a first insert ("Owned invoice updates are not
//! allowed"); an empty `currency_ID` needs a home currency. A line needs its invoice.

use serde_json::{Map, Value};

use crate::enums::{INVOICE_LINE_TYPES, INVOICE_STATUSES, INVOICE_TYPES};
use crate::semantics::{Ctx, Stop};
use crate::state::RemoteState;
use crate::{foreign_keys, ownership, Site};

/// The translator's first step for a 4D-generated destination copy of an OMS outbound (`si` with
/// `OUTBOUND_SHIPMENT`, or `cc` with `SUPPLIER_RETURN`): every `om_*` key is dropped.
pub(crate) fn sanitised(table: &str, data: &Map<String, Value>) -> Option<Map<String, Value>> {
    let text = |key: &str| data.get(key).and_then(Value::as_str).unwrap_or_default();
    let copy_of_oms = matches!(
        (text("type"), text("om_type")),
        ("si", "OUTBOUND_SHIPMENT") | ("cc", "SUPPLIER_RETURN")
    );
    if table != "transact" || !copy_of_oms {
        return None;
    }
    let kept = data.iter().filter(|(key, _)| !key.starts_with("om_"));
    Some(kept.map(|(key, value)| (key.clone(), value.clone())).collect())
}

/// A destination copy sanitised away belongs to a legacy (desktop) store; for a store of this OMS
/// site the primary must not generate the destination half itself (§4.4).
pub(crate) fn destination_copy_defect(site: &Site, state: &RemoteState, data: &Map<String, Value>) -> Option<String> {
    let store_id = data.get("store_ID").and_then(Value::as_str).unwrap_or_default();
    let own = ownership::is_own(site, store_id) || ownership::is_active(site, state, store_id);
    own.then(|| {
        format!(
            "a 4D-generated destination copy of an OMS invoice for the site's own store {store_id}: the site creates that half itself (§4.4)"
        )
    })
}

pub(crate) fn transact(ctx: &mut Ctx) -> Result<(), Stop> {
    let store_id = ctx.text("store_ID").to_string();
    let name_id = ctx.text("name_ID").to_string();
    let no_currency = ctx.text("currency_ID").is_empty();
    ctx.state.trades.insert((store_id.clone(), name_id.clone()));
    ctx.state.referenced_stores.insert(store_id.clone());
    ctx.state.needs_home_currency |= no_currency;

    let om_type = ctx.text("om_type");
    let legacy_type = match ctx.text("type") {
        "Sc" => "sc",
        other => other,
    };
    if om_type.is_empty() && !INVOICE_TYPES.contains(&legacy_type) {
        return Err(Stop::Ignored(format!("invoice type {legacy_type:?} is not handled")));
    }
    if !ctx.state.has("store", &store_id) {
        return Err(Stop::Rejected(format!("Store not found: store_ID {store_id:?}")));
    }
    if !ctx.state.has("name", &name_id) {
        return Err(Stop::Rejected(format!(
            "name_ID {name_id:?}: name not found on the site"
        )));
    }
    let mut repack = om_type == "REPACK";
    if om_type.is_empty() {
        let invad = ctx.state.names.get(&name_id).is_some_and(|name| name.code == "invad");
        let dispensary = ctx.text("mode") == "dispensary";
        if invad && !matches!(legacy_type, "si" | "sc") {
            return Err(Stop::Ignored(format!(
                "inventory-adjustment invoice of type {legacy_type:?} is not handled"
            )));
        }
        if !invad && dispensary && legacy_type != "ci" {
            return Err(Stop::Ignored(format!(
                "dispensary invoice of type {legacy_type:?} is not handled"
            )));
        }
        repack = !invad && !dispensary && legacy_type == "sr";
    }
    if ctx.text("om_status").is_empty() {
        let status = ctx.text("status");
        if !INVOICE_STATUSES.contains(&status) {
            return Err(Stop::Ignored(format!("invoice status {status:?} is not handled")));
        }
        if repack && !matches!(status, "fn" | "FN") {
            return Err(Stop::Ignored(format!("repack with status {status:?} is not handled")));
        }
    }
    if ctx.state.has("transact", ctx.id) {
        if ownership::is_active(ctx.site, ctx.state, &store_id) {
            return Err(Stop::Rejected("Owned invoice updates are not allowed".to_string()));
        }
        if ownership::is_own(ctx.site, &store_id) {
            ctx.defects.push(format!(
                "the site's own invoice (store {store_id}) re-sent after it was integrated (§4.3)"
            ));
        }
    }
    if no_currency && ctx.state.home_currencies.is_empty() {
        return Err(Stop::Rejected(
            "Home currency not found (currency_ID is empty)".to_string(),
        ));
    }
    foreign_keys::check(ctx)
}

pub(crate) fn trans_line(ctx: &mut Ctx) -> Result<(), Stop> {
    let line_type = ctx.text("type");
    if !INVOICE_LINE_TYPES.contains(&line_type) {
        return Err(Stop::Ignored(format!("invoice line type {line_type:?} is not handled")));
    }
    let invoice = ctx.text("transaction_ID");
    if !ctx.state.has("transact", invoice) {
        return Err(Stop::Rejected(format!(
            "Failed to get invoice: transaction_ID {invoice:?} is not on the site"
        )));
    }
    let item = ctx.text("item_ID");
    if !ctx.state.has("item", item) {
        return Err(Stop::Rejected(format!(
            "item_ID {item:?}: no such item on the site (required foreign key)"
        )));
    }
    if ctx.text("om_item_code").is_empty() && ctx.state.inactive_items.contains(item) {
        return Err(Stop::Rejected(format!(
            "item_ID {item:?} is inactive and om_item_code is empty"
        )));
    }
    foreign_keys::check(ctx)
}

/// A receipt for a known PO that no invoice already has becomes an inbound invoice (non-finalised),
/// or links the PO to the invoice in the sync buffer naming it (finalised); otherwise it is ignored.
pub(crate) fn goods_received(ctx: &mut Ctx) -> Result<(), Stop> {
    if ctx.state.has("transact", ctx.id) {
        return Err(Stop::Ignored("an invoice with this ID already exists".to_string()));
    }
    let order = ctx.text("purchase_order_ID");
    if order.is_empty() {
        return Err(Stop::Ignored("purchase_order_ID is empty".to_string()));
    }
    if !ctx.state.has("purchase_order", order) {
        return Err(Stop::Ignored(format!(
            "purchase_order_ID {order:?}: PO not on the site"
        )));
    }
    let finalised = ctx.text("status") == "fn";
    if finalised && !ctx.buffer.receipts_named_by_invoices.contains(ctx.id) {
        return Err(Stop::Ignored(
            "finalised receipt: no invoice in the sync buffer has it as goods_received_ID".to_string(),
        ));
    }
    foreign_keys::check(ctx)?;
    if !finalised {
        ctx.state.remember("transact", ctx.id, ctx.data);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn destination_copies_of_oms_outbounds_lose_their_om_keys() {
        let Value::Object(data) = json!({"type": "si", "om_type": "OUTBOUND_SHIPMENT", "om_status": "bad", "ID": "T"})
        else {
            unreachable!()
        };
        let cleaned = sanitised("transact", &data).unwrap_or_default();
        assert!(cleaned.contains_key("ID") && !cleaned.contains_key("om_status"));
        assert!(sanitised("trans_line", &data).is_none());
        let Value::Object(plain) = json!({"type": "ci", "om_type": "OUTBOUND_SHIPMENT"}) else {
            unreachable!()
        };
        assert!(sanitised("transact", &plain).is_none());
    }
}
