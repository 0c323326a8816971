//! What the 2017 app (mSupply Mobile v1.2.0, `/sync/v2/`) does differently from HEAD, as data: the
//! record types it knows, the sanity fields HEAD added since, the fields it reads where they differ,
//! and the shorter code lists of its translators. Its Realm treats an explicitly undefined value as a
//! value, so a code its translator does not know crashes instead of leaving the old value.

use crate::parsers::Kind::*;
use crate::tables::{address, f, optional, own, Fate, Field, Table};

/// The only record types the 2017 app maps; every other type is ignored.
pub(crate) const KNOWN: &[&str] = &[
    "item",
    "item_store_join",
    "item_line",
    "item_department",
    "item_category",
    "list_local_line",
    "list_master",
    "list_master_line",
    "list_master_name_join",
    "name",
    "name_store_join",
    "number",
    "number_reuse",
    "requisition",
    "requisition_line",
    "Stock_take",
    "Stock_take_lines",
    "transact",
    "transaction_category",
    "trans_line",
    "user",
];

/// Sanity fields HEAD requires that 2017 neither requires nor reads (HEAD's lists are a superset).
const HEAD_ONLY: &[(&str, &[&str])] = &[
    ("item", &["doses"]),
    ("item_line", &["donor_id", "location_ID"]),
    ("requisition", &["name_ID", "store_ID", "programID", "periodID"]),
    ("requisition_line", &["optionID"]),
    ("Stock_take", &["programID"]),
    (
        "Stock_take_lines",
        &["optionID", "vaccine_vial_monitor_status_ID", "location_id"],
    ),
    (
        "trans_line",
        &["donor_id", "vaccine_vial_monitor_status_ID", "location_ID"],
    ),
    ("list_master", &["programSettings", "isProgram"]),
];

/// Types whose 2017 reading differs from HEAD's beyond the sanity lists: the fields it reads.
#[rustfmt::skip]
static READS: &[(&str, &[Field])] = &[
    // No doses, vaccine flag, unit or cross reference; the default price is buy_price ÷ default_pack_size
    // (buy_price is not among the fields the contract asks for, so its absence is not a partial row).
    ("item", &[f("code", Text), f("item_name", Text), f("default_pack_size", PackSize), optional("buy_price", Price),
        optional("description", Text), f("category_ID", Link), f("department_ID", Link)]),
    // Only `inactive`: no default price.
    ("item_store_join", &[f("item_ID", Text), f("store_ID", Text), own("inactive", Bool)]),
    // No patient fields.
    ("name", &[f("type", Text), f("customer", Bool), f("supplier", Bool), f("manufacturer", Bool), f("name", Text),
        f("code", Text), f("phone", Text), f("email", Text), address("bill_address1"), address("bill_address2"),
        address("bill_address3"), address("bill_address4"), address("bill_postal_zip_code"),
        f("supplying_store_id", Text)]),
    // No transfer linking, no amounts, no flags.
    ("transact", &[f("store_ID", Text), f("invoice_num", Text), f("comment", Text), f("entry_date", Date),
        f("type", Text), f("status", Text), f("confirm_date", Date), f("their_ref", Text), f("name_ID", Link),
        f("user_ID", Link), f("category_ID", Link)]),
    // No donor, location, vaccine vial monitor, sent pack size, type or medicine administrator.
    ("trans_line", &[f("transaction_ID", RequiredLink), f("item_line_ID", Link), f("item_ID", Text),
        f("item_name", Text), f("quantity", Quantity), f("pack_size", PackSize), f("cost_price", Price),
        f("sell_price", Price), f("expiry_date", Date), f("batch", Text), f("line_number", NumOptional),
        f("note", Text)]),
];

/// Transaction types the 2017 translator knows.
pub(crate) const TRANSACTION_TYPES: &[&str] = &["ci", "cc", "si", "sc", "in", "pi"];

/// Translated code fields and the codes 2017 knows: any other value crashes.
pub(crate) const CODE_FIELDS: &[(&str, &str, &[&str])] = &[
    ("transact", "type", TRANSACTION_TYPES),
    ("transact", "status", crate::tables::TRANSACTION_STATUSES),
    ("name", "type", crate::tables::NAME_TYPES),
    ("Stock_take", "status", crate::tables::TRANSACTION_STATUSES),
    ("transaction_category", "type", TRANSACTION_TYPES),
];

/// Dates stored in required properties: a blank or zero date gives null, which crashes.
pub(crate) const REQUIRED_DATES: &[(&str, &str)] =
    &[("transact", "entry_date"), ("Stock_take", "stock_take_created_date")];

/// The legacy sequence keys a 2017 `number` record may carry (followed by the device's store ID).
pub(crate) const SEQUENCE_PREFIXES: &[&str] = &[
    "customer_invoice_number_for_store_",
    "inventory_adjustment_serial_number_for_store_",
    "requisition_serial_number_for_store_",
    "requisition_requester_reference_for_store_",
    "stock_take_number_for_store_",
    "supplier_invoice_number_for_store_",
];

pub(crate) fn knows(record_type: &str) -> bool {
    KNOWN.contains(&record_type)
}

fn head_only(record_type: &str, field: &str) -> bool {
    HEAD_ONLY
        .iter()
        .any(|(t, fields)| *t == record_type && fields.contains(&field))
}

/// A HEAD sanity list with the fields 2017 does not require taken out.
pub(crate) fn sanity_list(table: &Table, list: &'static [&'static str]) -> Vec<&'static str> {
    list.iter()
        .copied()
        .filter(|field| !head_only(table.record_type, field))
        .collect()
}

/// The fields the 2017 app reads for a type.
pub(crate) fn fields(table: &'static Table) -> Vec<&'static Field> {
    match READS.iter().find(|(t, _)| *t == table.record_type) {
        Some((_, fields)) => fields.iter().collect(),
        None => table
            .fields
            .iter()
            .filter(|field| !head_only(table.record_type, field.name))
            .collect(),
    }
}

/// 2017 keeps HEAD's fates except that `user` is a mapped type it integrates (HEAD drops every user).
pub(crate) fn fate(table: &Table) -> Fate {
    match table.record_type {
        "user" => Fate::Judged,
        "number" => Fate::Judged,
        _ => table.fate,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tables::lookup;

    #[test]
    fn every_known_type_has_a_head_table() {
        assert!(KNOWN.iter().all(|t| lookup(t).is_some()));
    }

    #[test]
    fn the_2017_lists_drop_the_head_only_fields() {
        let requisition = lookup("requisition").map(|t| sanity_list(t, t.non_blank));
        assert_eq!(requisition, Some(vec!["status", "type", "daysToSupply"]));
        let item = lookup("item").map(|t| sanity_list(t, t.present));
        assert_eq!(item, Some(vec!["default_pack_size"]));
    }

    #[test]
    fn read_overrides_replace_the_head_fields() {
        let names: Vec<_> = lookup("trans_line")
            .map(fields)
            .unwrap_or_default()
            .iter()
            .map(|f| f.name)
            .collect();
        assert!(!names.contains(&"sent_pack_size") && names.contains(&"transaction_ID"));
        let unit: Vec<_> = lookup("requisition_line")
            .map(fields)
            .unwrap_or_default()
            .iter()
            .map(|f| f.name)
            .collect();
        assert!(!unit.contains(&"optionID") && unit.contains(&"stock_on_hand"));
    }
}
