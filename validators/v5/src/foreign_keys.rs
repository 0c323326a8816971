//! The required foreign keys, as data (§1.8, §3): a key whose row is not in the remote database
//! makes the database refuse the record. Optional links the translators null out when they do not
//! resolve (unit, location, currency, ...) are not listed. Checks with their own messages (the
//! invoice of a line, the store of an invoice) are in the table rules.

use serde_json::Value;

use crate::semantics::{Ctx, Stop};
use crate::state::PROGRAM;

/// When the key is checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum When {
    /// Always: an empty value is a missing row too.
    Always,
    /// Only when the value is not empty (an empty value means no link).
    NonEmpty,
}

#[derive(Debug)]
pub(crate) struct ForeignKey {
    pub(crate) field: &'static str,
    /// A table, or the pseudo-table `program`.
    pub(crate) target: &'static str,
    pub(crate) when: When,
}

const fn always(field: &'static str, target: &'static str) -> ForeignKey {
    ForeignKey {
        field,
        target,
        when: When::Always,
    }
}

const fn non_empty(field: &'static str, target: &'static str) -> ForeignKey {
    ForeignKey {
        field,
        target,
        when: When::NonEmpty,
    }
}

/// Per table, its required foreign keys.
pub(crate) static ALL: &[(&str, &[ForeignKey])] = &[
    (
        "name_store_join",
        &[always("name_ID", "name"), always("store_ID", "store")],
    ),
    ("list_master_line", &[always("item_ID", "item")]),
    (
        "list_master_name_join",
        &[always("name_ID", "name"), always("list_master_ID", "list_master")],
    ),
    (
        "name_tag_join",
        &[always("name_ID", "name"), always("name_tag_ID", "name_tag")],
    ),
    ("period", &[always("periodScheduleID", "periodSchedule")]),
    (
        "item_store_join",
        &[always("item_ID", "item"), always("store_ID", "store")],
    ),
    ("item_direction", &[always("item_ID", "item")]),
    (
        "item_warning_link",
        &[always("item_ID", "item"), always("warning_ID", "warning")],
    ),
    ("contact", &[always("name_ID", "name")]),
    ("program_indicator", &[always("program_ID", PROGRAM)]),
    ("indicator_attribute", &[always("indicator_ID", "program_indicator")]),
    ("indicator_value", &[always("facility_ID", "store")]),
    (
        "clinician_store_join",
        &[always("store_ID", "store"), always("prescriber_ID", "clinician")],
    ),
    ("barcode", &[always("itemID", "item")]),
    ("Location", &[always("store_ID", "store")]),
    (
        "location_movement",
        &[always("store_ID", "store"), always("item_line_ID", "item_line")],
    ),
    (
        "item_line",
        &[
            always("store_ID", "store"),
            always("item_ID", "item"),
            non_empty("name_ID", "name"),
            non_empty("donor_id", "name"),
        ],
    ),
    (
        "transact",
        &[
            non_empty("prescriber_ID", "clinician"),
            non_empty("programID", PROGRAM),
            non_empty("donor_default_id", "name"),
        ],
    ),
    ("trans_line", &[non_empty("donor_id", "name")]),
    (
        "Stock_take",
        &[
            always("store_ID", "store"),
            non_empty("invad_additions_ID", "transact"),
            non_empty("invad_reductions_ID", "transact"),
            non_empty("programID", PROGRAM),
        ],
    ),
    ("Stock_take_lines", &[always("item_ID", "item")]),
    (
        "requisition",
        &[
            always("name_ID", "name"),
            always("store_ID", "store"),
            non_empty("periodID", "period"),
        ],
    ),
    ("requisition_line", &[always("item_ID", "item")]),
    ("sensor", &[always("storeID", "store")]),
    (
        "temperature_log",
        &[always("sensor_ID", "sensor"), always("store_ID", "store")],
    ),
    (
        "temperature_breach",
        &[always("sensor_ID", "sensor"), always("store_ID", "store")],
    ),
    (
        "nameInsuranceJoin",
        &[
            always("nameID", "name"),
            always("insuranceProviderID", "insuranceProvider"),
        ],
    ),
    (
        "purchase_order",
        &[always("name_ID", "name"), always("store_ID", "store")],
    ),
    (
        "purchase_order_line",
        &[
            always("purchase_order_ID", "purchase_order"),
            always("item_ID", "item"),
            always("store_ID", "store"),
        ],
    ),
    ("Goods_received", &[always("store_ID", "store")]),
];

/// The first required foreign key of the record that does not resolve.
pub(crate) fn check(ctx: &Ctx) -> Result<(), Stop> {
    let Some((_, keys)) = ALL.iter().find(|(table, _)| *table == ctx.table) else {
        return Ok(());
    };
    for key in *keys {
        let value = ctx.data.get(key.field).and_then(Value::as_str).unwrap_or_default();
        if value.is_empty() && key.when == When::NonEmpty {
            continue;
        }
        if !ctx.state.has(key.target, value) {
            return Err(Stop::Rejected(format!(
                "{} {value:?}: no such {} on the site (required foreign key)",
                key.field, key.target
            )));
        }
    }
    Ok(())
}
