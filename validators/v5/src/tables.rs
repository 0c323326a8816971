//! The central tables of §3 as data: for each legacy table a translator handles, every key its
//! translators read (R/KEY/opt and kind) and which deletes and merges it takes. The remote tables
//! are in `tables_remote.rs`; `find` looks a `tableName` up in both.

use crate::contract::Delete::{Deactivates, Ignores, Removes};
use crate::contract::{defaulted, deletes, key, merges, opt, r, table, Field, Table};
use crate::enums::*;
use crate::kinds::Kind::*;
use crate::tables_remote::REMOTE;

/// The table a `tableName` names, if any translator handles it.
pub(crate) fn find(name: &str) -> Option<&'static Table> {
    CENTRAL.iter().chain(REMOTE.iter()).find(|table| table.name == name)
}

/// Every table a translator handles.
#[cfg(test)]
pub(crate) fn all() -> impl Iterator<Item = &'static Table> {
    CENTRAL.iter().chain(REMOTE.iter())
}

const UNIT: &[Field] = &[r("ID", Str), r("units", Str), r("comment", Str), r("order_number", I32)];

const ITEM_CATEGORY: &[Field] = &[
    r("ID", Str),
    r("Description", Str),
    r("sort_order", I32),
    opt("parent_ID", OptStr),
];

const LOCATION_TYPE: &[Field] = &[
    r("ID", Str),
    r("Description", Str),
    r("Temperature_min", Num),
    r("Temperature_max", Num),
];

const ITEM: &[Field] = &[
    r("ID", Str),
    r("item_name", Str),
    r("code", Str),
    r("type_of", Enum(ITEM_TYPES)),
    r("default_pack_size", Num),
    r("is_vaccine", Bool),
    r("VEN_category", Str),
    r("doses", I32),
    r("volume_per_pack", Num),
    key("unit_ID", OptStr),
    key("strength", OptStr),
    key("category_ID", OptStr),
    key("restricted_location_type_ID", OptStr),
    key("universalcodes_code", OptStr),
];

const CURRENCY: &[Field] = &[
    r("ID", Str),
    r("rate", Num),
    r("currency", Str),
    r("is_home_currency", Bool),
    key("date_updated", ZeroDate),
];

const NAME: &[Field] = &[
    r("ID", Str),
    r("name", Str),
    r("code", Str),
    r("type", Str),
    r("customer", Bool),
    r("supplier", Bool),
    r("female", Bool),
    r("manufacturer", Bool),
    r("donor", Bool),
    r("hold", Bool),
    r("isDeceased", Bool),
    key("supplying_store_id", OptStr),
    key("first", OptStr),
    key("last", OptStr),
    key("phone", OptStr),
    key("charge code", OptStr),
    key("comment", OptStr),
    key("country", OptStr),
    key("bill_address1", OptStr),
    key("bill_address2", OptStr),
    key("email", OptStr),
    key("url", OptStr),
    key("NEXT_OF_KIN_ID", OptStr),
    key("next_of_kin_relative", OptStr),
    key("national_health_number", OptStr),
    key("date_of_birth", ZeroDate),
    key("created_date", ZeroDate),
    key("om_created_datetime", OptDateTime),
    key("om_gender", OptEnum(GENDERS)),
    opt("om_date_of_death", ZeroDate),
    opt("custom_data", Json),
    opt("HSH_code", Str),
    opt("HSH_name", Str),
    opt("currency_ID", Str),
    opt("margin", Num),
    opt("freightfac", Num),
];

const STORE: &[Field] = &[
    r("ID", Str),
    r("name_ID", Str),
    r("code", Str),
    r("sync_id_remote_site", I32),
    r("store_mode", Enum(STORE_MODES)),
    r("disabled", Bool),
    key("logo", OptStr),
    key("created_date", ZeroDate),
];

const NAME_STORE_JOIN: &[Field] = &[
    r("ID", Str),
    r("store_ID", Str),
    r("name_ID", Str),
    opt("inactive", Bool),
    opt("om_name_is_customer", Bool),
    opt("om_name_is_supplier", Bool),
];

const ORDER_TYPE: &[Field] = &[
    r("name", Str),
    r("thresholdMOS", Num),
    r("maxMOS", Num),
    r("maxOrdersPerPeriod", I64),
    r("isEmergency", Bool),
    opt("maxEmergencyOrders", StrOrI32),
];

const STORE_TAG_SETTINGS: &[Field] = &[r("periodScheduleName", Str), opt("orderTypes", List(ORDER_TYPE))];

const PROGRAM_SETTINGS: &[Field] = &[opt("elmisCode", OptStr), opt("storeTags", Map(STORE_TAG_SETTINGS))];

/// Both translators' fields: the master list and the program settings.
const LIST_MASTER: &[Field] = &[
    r("ID", Str),
    r("description", Str),
    r("code", Str),
    r("note", Str),
    opt("inactive", Bool),
    opt("is_default_price_list", Bool),
    opt("discount_percentage", Num),
    r("isProgram", Bool),
    key("programSettings", Fields(PROGRAM_SETTINGS)),
    opt("is_immunisation", Bool),
];

const LIST_MASTER_LINE: &[Field] = &[
    r("ID", Str),
    r("item_master_ID", Str),
    r("item_ID", Str),
    opt("price", Num),
];

const LIST_MASTER_NAME_JOIN: &[Field] = &[r("ID", Str), r("name_ID", Str), r("list_master_ID", Str)];

const NAME_TAG: &[Field] = &[r("ID", Str), r("description", Str)];

const NAME_TAG_JOIN: &[Field] = &[r("ID", Str), r("name_ID", Str), r("name_tag_ID", Str)];

const PERIOD_SCHEDULE: &[Field] = &[r("ID", Str), r("name", Str)];

const PERIOD: &[Field] = &[
    r("ID", Str),
    r("periodScheduleID", Str),
    r("startDate", Date),
    r("endDate", Date),
    r("name", Str),
];

const OPTIONS: &[Field] = &[
    r("ID", Str),
    r("isActive", Bool),
    r("title", Str),
    r("type", Enum(OPTION_TYPES)),
];

/// The `data` fields of a `store_preferences` pref: all defaulted, so `null` is an error.
pub(crate) const STORE_PREFERENCES: &[Field] = &[
    defaulted("default_item_packsize_to_one", Bool),
    defaulted("shouldAuthoriseResponseRequisition", Bool),
    defaulted("includeRequisitionsInSuppliersRemoteAuthorisationProcesses", Bool),
    defaulted("omSupplyUsesProgramModule", Bool),
    defaulted("usesVaccineModule", Bool),
    defaulted("can_issue_in_foreign_currency", Bool),
    defaulted("useExtraFieldsForRequisitions", Bool),
    defaulted("keepRequisitionLinesWithZeroQuantity", Bool),
    defaulted("useConsumptionAndStockFromCustomersForInternalOrders", Bool),
    defaulted("canLinkRequistionToSupplierInvoice", Bool),
    defaulted("editPrescribedQuantityOnPrescription", Bool),
    defaulted("monthsOverstock", Num),
    defaulted("monthsUnderstock", Num),
    defaulted("monthsItemsExpire", Num),
    defaulted("stocktakeFrequency", Num),
    defaulted("monthlyConsumptionLookBackPeriod", StrF64),
    defaulted("monthsLeadTime", StrF64),
];

/// The `data` object is read only for `item: "store_preferences"` (see `semantics.rs`).
const PREF: &[Field] = &[r("store_ID", Str), r("item", Str), r("data", Struct(&[]))];

const USER: &[Field] = &[
    r("ID", Str),
    r("name", Str),
    r("Language", I64),
    key("e_mail", OptStr),
    key("first_name", OptStr),
    key("last_name", OptStr),
    key("phone1", OptStr),
    key("job_title", OptStr),
    opt("active", Bool),
];

const OM_USER_PERMISSION: &[Field] = &[
    r("ID", Str),
    r("user_ID", Str),
    r("permission", Enum(PERMISSIONS)),
    key("store_ID", OptStr),
    key("context_ID", OptStr),
];

const ITEM_STORE_JOIN: &[Field] = &[
    r("ID", Str),
    r("item_ID", Str),
    r("store_ID", Str),
    r("default_price", Num),
    r("ignore_for_orders", Bool),
    r("margin", Num),
    opt("default_location_ID", Str),
];

const ABBREVIATION: &[Field] = &[r("ID", Str), r("abbreviation", Str), r("expansion", Str)];

const DIAGNOSIS: &[Field] = &[
    r("ID", Str),
    r("ICD_CODE", Str),
    r("ICD_DESCRIPTION", Str),
    key("VALID_TILL", ZeroDate),
    opt("NOTES", Str),
];

const ITEM_DIRECTION: &[Field] = &[
    r("ID", Str),
    r("item_ID", Str),
    r("directions", Str),
    r("priority", I64),
];

const WARNING: &[Field] = &[r("ID", Str), r("warning_text", Str), r("code", Str)];

const ITEM_WARNING_LINK: &[Field] = &[
    r("ID", Str),
    r("item_ID", Str),
    r("warning_ID", Str),
    r("priority", Bool),
];

const SHIP_METHOD: &[Field] = &[r("ID", Str), r("method", Str), r("isActive", Bool)];

const INSURANCE_PROVIDER: &[Field] = &[
    r("ID", Str),
    r("providerName", Str),
    r("isActive", Bool),
    opt("comment", Str),
    opt("prescriptionValidityDays", I64),
];

const CONTACT: &[Field] = &[
    r("ID", Str),
    r("first", Str),
    r("last", Str),
    r("name_ID", Str),
    key("address1", OptStr),
    key("address2", OptStr),
    key("category", OptStr),
    key("category2", OptStr),
    key("category3", OptStr),
    key("comment", OptStr),
    key("country", OptStr),
    key("email", OptStr),
    key("phone", OptStr),
    key("position", OptStr),
];

const VVM_STATUS: &[Field] = &[
    r("ID", Str),
    r("description", Str),
    r("code", Str),
    r("level", I64),
    r("is_active", Bool),
    opt("unusable", Bool),
    opt("option_id", Str),
];

const PROGRAM_INDICATOR: &[Field] = &[
    r("ID", Str),
    r("program_ID", Str),
    r("is_active", Bool),
    key("code", OptStr),
];

const INDICATOR_ATTRIBUTE: &[Field] = &[
    r("ID", Str),
    r("indicator_ID", Str),
    r("description", Str),
    r("code", Str),
    r("default_value", Str),
    r("index", I64),
    r("is_required", Bool),
    r("is_active", Bool),
    r("value_type", Enum(INDICATOR_VALUE_TYPES)),
    r("axis", Enum(INDICATOR_AXES)),
];

const FORM_SCHEMA: &[Field] = &[
    r("ID", Str),
    r("type", Str),
    r("json_schema", Json),
    r("ui_schema", Json),
];

const DOCUMENT_REGISTRY: &[Field] = &[
    r("ID", Str),
    r("document_type", Str),
    r("context_ID", Str),
    r("category", Str),
    key("form_schema_ID", OptStr),
    opt("name", Str),
    opt("config", Json),
];

/// The tables under the code's `// Central` comment, plus the small central ones of §3.20.
static CENTRAL: &[Table] = &[
    deletes(table("unit", UNIT), Deactivates),
    deletes(table("item_category", ITEM_CATEGORY), Removes),
    deletes(table("item_category_level1", ITEM_CATEGORY), Removes),
    deletes(table("item_category_level2", ITEM_CATEGORY), Removes),
    table("Location_type", LOCATION_TYPE),
    merges(deletes(table("item", ITEM), Deactivates)),
    deletes(table("currency", CURRENCY), Removes),
    merges(deletes(table("name", NAME), Deactivates)),
    deletes(table("store", STORE), Removes),
    deletes(table("name_store_join", NAME_STORE_JOIN), Removes),
    deletes(table("list_master", LIST_MASTER), Deactivates),
    deletes(table("list_master_line", LIST_MASTER_LINE), Removes),
    deletes(table("list_master_name_join", LIST_MASTER_NAME_JOIN), Removes),
    table("name_tag", NAME_TAG),
    deletes(table("name_tag_join", NAME_TAG_JOIN), Removes),
    table("periodSchedule", PERIOD_SCHEDULE),
    table("period", PERIOD),
    deletes(table("options", OPTIONS), Removes),
    table("pref", PREF),
    table("user", USER),
    deletes(table("om_user_permission", OM_USER_PERMISSION), Removes),
    table("item_store_join", ITEM_STORE_JOIN),
    deletes(table("abbreviation", ABBREVIATION), Removes),
    deletes(table("diagnosis", DIAGNOSIS), Ignores),
    deletes(table("item_direction", ITEM_DIRECTION), Removes),
    table("warning", WARNING),
    table("item_warning_link", ITEM_WARNING_LINK),
    table("ship_method", SHIP_METHOD),
    table("insuranceProvider", INSURANCE_PROVIDER),
    deletes(table("contact", CONTACT), Removes),
    table("vaccine_vial_monitor_status", VVM_STATUS),
    deletes(table("program_indicator", PROGRAM_INDICATOR), Removes),
    table("indicator_attribute", INDICATOR_ATTRIBUTE),
    table("form_schema", FORM_SCHEMA),
    table("om_document_registry", DOCUMENT_REGISTRY),
];

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn field_names_are_unique_per_table() {
        for table in all() {
            let mut seen = HashSet::new();
            for field in table.fields {
                assert!(seen.insert(field.name), "{}.{}", table.name, field.name);
            }
        }
    }

    #[test]
    fn only_names_items_and_clinicians_merge() {
        let merging: Vec<&str> = all().filter(|table| table.merge).map(|table| table.name).collect();
        assert_eq!(merging, ["item", "name", "clinician"]);
        assert!(find("report").is_none() && find("Location").is_some());
    }
}
