//! Orders, as data. The remote integrates its sync buffer table by table in dependency order (worked
//! out from the translators' pull dependencies, §1.8): all upserts first, then deletes in reverse
//! order, then merges. Separately, the stream must deliver every header before its lines (§4.1,
//! §7 item 7): the header/line pairs are listed here.

/// Every table a translator handles, parents before the tables that depend on them (§3's "Pull
/// dependencies", plus the foreign keys of `foreign_keys.rs`).
pub(crate) static DEPENDENCY_ORDER: &[&str] = &[
    "currency",
    "unit",
    "item_category",
    "item_category_level1",
    "item_category_level2",
    "Location_type",
    "item",
    "name",
    "store",
    "user",
    "abbreviation",
    "diagnosis",
    "warning",
    "item_warning_link",
    "item_direction",
    "name_tag",
    "name_tag_join",
    "periodSchedule",
    "period",
    "list_master",
    "list_master_line",
    "list_master_name_join",
    "name_store_join",
    "options",
    "pref",
    "om_user_permission",
    "Location",
    "item_store_join",
    "form_schema",
    "om_document_registry",
    "program_indicator",
    "indicator_attribute",
    "clinician",
    "clinician_store_join",
    "contact",
    "barcode",
    "vaccine_vial_monitor_status",
    "insuranceProvider",
    "nameInsuranceJoin",
    "ship_method",
    "message",
    "sensor",
    "item_line",
    "location_movement",
    "purchase_order",
    "purchase_order_line",
    "transact",
    "trans_line",
    "Goods_received",
    "Goods_received_line",
    "Stock_take",
    "Stock_take_lines",
    "requisition",
    "requisition_line",
    "indicator_value",
    "temperature_breach",
    "temperature_log",
    "vaccine_vial_monitor_status_log",
    "om_activity_log",
    "om_document",
];

/// Where a table comes in the dependency order; tables no translator handles come last.
pub(crate) fn rank(table: &str) -> usize {
    DEPENDENCY_ORDER
        .iter()
        .position(|name| *name == table)
        .unwrap_or(DEPENDENCY_ORDER.len())
}

/// A line table and the key that names its header.
#[derive(Debug)]
pub(crate) struct Header {
    pub(crate) line: &'static str,
    pub(crate) field: &'static str,
    pub(crate) header: &'static str,
}

const fn header(line: &'static str, field: &'static str, header: &'static str) -> Header {
    Header { line, field, header }
}

/// Lines whose header must reach the site first.
pub(crate) static HEADERS: &[Header] = &[
    header("trans_line", "transaction_ID", "transact"),
    header("requisition_line", "requisition_ID", "requisition"),
    header("Stock_take_lines", "stock_take_ID", "Stock_take"),
    header("purchase_order_line", "purchase_order_ID", "purchase_order"),
    header("Goods_received_line", "goods_received_ID", "Goods_received"),
    header("list_master_line", "item_master_ID", "list_master"),
];

/// The header a line table names, if it is one.
pub(crate) fn header_of(line: &str) -> Option<&'static Header> {
    HEADERS.iter().find(|pair| pair.line == line)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{foreign_keys, tables};

    #[test]
    fn every_translated_table_has_a_place_once() {
        for table in tables::all() {
            assert_eq!(
                DEPENDENCY_ORDER.iter().filter(|name| **name == table.name).count(),
                1,
                "{}",
                table.name
            );
        }
        assert_eq!(DEPENDENCY_ORDER.len(), tables::all().count());
    }

    #[test]
    fn headers_and_foreign_key_targets_come_first() {
        for pair in HEADERS {
            assert!(rank(pair.header) < rank(pair.line), "{pair:?}");
        }
        for (table, keys) in foreign_keys::ALL {
            for key in *keys {
                let target = if key.target == "program" {
                    "list_master"
                } else {
                    key.target
                };
                assert!(rank(target) < rank(table), "{table} -> {}", key.target);
            }
        }
    }

    #[test]
    fn unknown_tables_come_last() {
        assert_eq!(rank("report"), DEPENDENCY_ORDER.len());
        assert_eq!(rank("currency"), 0);
    }
}
