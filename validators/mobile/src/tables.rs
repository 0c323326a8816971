//! Per-table facts of the current app (HEAD, mSupply Mobile v8.7.4, `/sync/v3/`), as data: every
//! `RecordType` the app maps, its two sanity lists, its store scoping, the fields it reads with the
//! way each is parsed, and the code lists its translators know. Nothing here is behaviour: `sanity.rs`,
//! `fields.rs`, `filters.rs` and `rules.rs` read these tables. The 2017 differences are in `v2017.rs`.

use crate::parsers::Kind::{self, *};

/// One field the app reads from `data`.
#[derive(Debug)]
pub(crate) struct Field {
    pub(crate) name: &'static str,
    pub(crate) kind: Kind,
    pub(crate) need: Need,
}

/// When a field must be in an update. Absent booleans reset to false, absent links are cleared and
/// absent numbers become blank, so the app needs the full row; these are the exceptions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Need {
    /// Always part of the full row.
    Full,
    /// Optional: absent leaves the device's value as it was.
    Optional,
    /// Read, and so required, only when the record concerns the device's own store.
    OwnStore,
    /// A billing-address line: all of them are required once any one is non-empty, because the app
    /// reuses or creates the address row with exactly those lines.
    Address,
}

pub(crate) const fn f(name: &'static str, kind: Kind) -> Field {
    Field {
        name,
        kind,
        need: Need::Full,
    }
}

pub(crate) const fn optional(name: &'static str, kind: Kind) -> Field {
    Field {
        name,
        kind,
        need: Need::Optional,
    }
}

pub(crate) const fn own(name: &'static str, kind: Kind) -> Field {
    Field {
        name,
        kind,
        need: Need::OwnStore,
    }
}

pub(crate) const fn address(name: &'static str) -> Field {
    Field {
        name,
        kind: Text,
        need: Need::Address,
    }
}

/// How the app scopes a type to the device's store.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Scope {
    /// No store rule.
    Any,
    /// Integrated only when this field equals the device's store ID; otherwise ignored.
    Filtered(&'static str),
    /// The `store` record: only the one whose `ID` is the device's store is read.
    StoreRecord,
    /// A join stored for every store; its own-store fields act only when `store_ID` is the device's.
    Join,
    /// Not filtered by the app at all, so the server must send only the device store's rows; these
    /// keys carry the store where the row has one.
    ServerFiltered(&'static [&'static str]),
}

/// What the app does with the type before looking at fields.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Fate {
    Judged,
    /// No entry in the sanity table: always dropped.
    AlwaysDropped,
    /// Checked, then ignored: HEAD keeps no server number sequences.
    IgnoredOnHead,
}

#[derive(Debug)]
pub(crate) struct Table {
    pub(crate) record_type: &'static str,
    /// The sanity list "cannot be blank": a non-empty JSON string (or a non-empty array).
    pub(crate) non_blank: &'static [&'static str],
    /// The sanity list "can be blank": present and not null; any JSON type.
    pub(crate) present: &'static [&'static str],
    pub(crate) fields: &'static [Field],
    pub(crate) scope: Scope,
    pub(crate) fate: Fate,
}

const fn table(
    record_type: &'static str,
    non_blank: &'static [&'static str],
    present: &'static [&'static str],
    fields: &'static [Field],
) -> Table {
    Table {
        record_type,
        non_blank,
        present,
        fields,
        scope: Scope::Any,
        fate: Fate::Judged,
    }
}

const fn scoped(mut t: Table, scope: Scope) -> Table {
    t.scope = scope;
    t
}

const fn fated(mut t: Table, fate: Fate) -> Table {
    t.fate = fate;
    t
}

pub(crate) const STORE_ID: &[&str] = &["store_ID"];

/// Every entry of the app's record-type map, in the order of the client's own summary.
#[rustfmt::skip]
pub(crate) static TABLES: &[Table] = &[
    table("abbreviation", &["abbreviation", "expansion"], &[], &[f("abbreviation", Text), f("expansion", Text)]),
    fated(table("adverse_drug_reaction", &[], &[], &[]), Fate::AlwaysDropped),
    table("currency", &[], &[], &[f("rate", NumRequired), f("currency", Text), f("is_home_currency", Bool), f("date_updated", Date)]),
    table("Ethnicity", &[], &["name"], &[f("name", Text)]),
    table("form_schema", &[], &["json_schema", "ui_schema", "type", "version"],
        &[f("json_schema", Text), f("ui_schema", Text), f("type", Text), f("version", Int)]),
    table("indicator_attribute", &["code", "indicator_ID"],
        &["description", "index", "is_required", "value_type", "default_value", "axis", "is_active"],
        &[f("indicator_ID", Link), f("code", Text), f("description", Text), f("value_type", Text), f("default_value", Text),
          f("axis", Text), f("index", NumRequired), f("is_required", Bool), f("is_active", Bool)]),
    scoped(table("indicator_value", &["facility_ID", "period_ID", "column_ID", "row_ID"], &["value"],
        &[f("facility_ID", Text), f("period_ID", Link), f("column_ID", Link), f("row_ID", Link), f("value", Text)]),
        Scope::ServerFiltered(&["facility_ID"])),
    table("nameInsuranceJoin", &["insuranceProviderID", "isActive", "policyNumberFamily", "expiryDate", "discountRate"],
        &["type", "nameID", "policyNumberPerson", "enteredByID"],
        &[f("insuranceProviderID", Link), f("nameID", Link), f("enteredByID", Link), f("isActive", Bool),
          f("policyNumberFamily", Text), f("policyNumberPerson", Text), f("type", Text), f("discountRate", NumOptional),
          f("expiryDate", Date)]),
    table("insuranceProvider", &["providerName", "isActive", "prescriptionValidityDays"], &["comment"],
        &[f("providerName", Text), f("isActive", Bool), f("prescriptionValidityDays", NumOptional), f("comment", Text)]),
    table("item", &["code", "item_name"], &["default_pack_size", "doses"],
        &[f("code", Text), f("item_name", Text), f("default_pack_size", Unread), f("doses", NumRequired),
          optional("description", Text), f("category_ID", Link), f("department_ID", Link), f("unit_ID", Link),
          f("cross_ref_item_ID", Link), f("is_vaccine", Bool)]),
    scoped(table("item_line", &["item_ID", "quantity"],
        &["pack_size", "batch", "expiry_date", "cost_price", "sell_price", "donor_id", "location_ID"],
        &[f("store_ID", Text), f("item_ID", Link), f("quantity", Quantity), f("pack_size", PackSize), f("expiry_date", Date),
          f("batch", Text), f("cost_price", Price), f("sell_price", Price), f("donor_id", Unread), f("donor_ID", Link),
          f("name_ID", Link), f("location_ID", Link)]),
        Scope::Filtered("store_ID")),
    table("item_category", &[], &["Description"], &[f("Description", Text)]),
    table("item_department", &[], &["department"], &[f("department", Text)]),
    table("item_direction", &["directions", "priority", "item_ID"], &[],
        &[f("directions", Text), f("priority", Int), f("item_ID", Link)]),
    scoped(table("item_store_join", &["item_ID", "store_ID"], &[],
        &[f("item_ID", Text), f("store_ID", Text), own("inactive", Bool), own("default_price", NumRequired)]),
        Scope::Join),
    table("list_local_line", &["item_ID", "list_master_name_join_ID"], &[],
        &[f("list_master_name_join_ID", Link), f("item_ID", Link), f("imprest_quantity", NumOptional)]),
    scoped(table("Location", &[], &["Description", "code", "type_ID"],
        &[f("Description", Text), f("code", Text), f("type_ID", Link), f("hold", Bool)]),
        Scope::ServerFiltered(STORE_ID)),
    scoped(table("location_movement", &["item_line_ID", "enter_time", "enter_date", "location_ID"], &["exit_time", "exit_date"],
        &[f("item_line_ID", Link), f("location_ID", Link), f("enter_date", Date), f("enter_time", Time),
          f("exit_date", Date), f("exit_time", Time)]),
        Scope::ServerFiltered(STORE_ID)),
    table("Location_type", &[], &["Description"], &[f("Description", Text)]),
    table("list_master", &[], &["description", "programSettings", "isProgram"],
        &[f("description", Text), f("programSettings", Json), f("isProgram", Bool), f("note", Text)]),
    table("list_master_line", &["item_ID"], &[],
        &[f("item_master_ID", RequiredLink), f("item_ID", Link), f("imprest_quan", NumOptional), f("price", NumRequired)]),
    table("list_master_name_join", &["name_ID", "list_master_ID"], &["description"],
        &[f("name_ID", Link), f("list_master_ID", Link), f("description", Unread)]),
    table("medicine_administrator", &[], &["first_name", "last_name", "code"],
        &[f("first_name", Text), f("last_name", Text), f("code", Text), f("is_active", Bool)]),
    fated(table("message", &[], &[], &[]), Fate::AlwaysDropped),
    table("name", &["type", "customer", "supplier", "manufacturer"], &["name", "code"],
        &[f("type", Text), f("customer", Bool), f("supplier", Bool), f("manufacturer", Bool), f("name", Text),
          f("code", Text), f("barcode", Text), f("phone", Text), f("email", Text), address("bill_address1"),
          address("bill_address2"), address("bill_address3"), address("bill_address4"), address("bill_postal_zip_code"),
          f("first", Text), f("middle", Text), f("last", Text), f("date_of_birth", Date), f("created_date", Date),
          f("isDeceased", Bool), f("is_deleted", Bool), f("female", Bool), f("supplying_store_id", Text),
          f("nationality_ID", Link), f("occupation_ID", Link), f("ethnicity_ID", Link)]),
    table("name_note", &[], &[],
        &[f("patient_event_ID", Link), f("name_ID", Link), f("entry_date", Date), f("data", Json), f("is_deleted", Bool),
          f("note", Text)]),
    scoped(table("name_store_join", &["name_ID", "store_ID"], &["name_ID", "store_ID"],
        &[f("name_ID", Text), f("store_ID", Text), own("inactive", Bool)]),
        Scope::Join),
    table("name_tag", &["ID"], &["description"], &[f("description", Text)]),
    table("name_tag_join", &["ID", "name_ID", "name_tag_ID"], &[], &[f("name_ID", Link), f("name_tag_ID", Link)]),
    table("nationality", &[], &["description"], &[f("description", Text)]),
    fated(table("number", &["name", "value"], &[], &[f("name", Text), f("value", Text)]), Fate::IgnoredOnHead),
    fated(table("number_reuse", &[], &[], &[]), Fate::AlwaysDropped),
    table("Occupation", &[], &["name"], &[f("name", Text)]),
    table("options", &["title", "type", "isActive"], &[], &[f("title", Text), f("type", Text), f("isActive", Bool)]),
    table("patient_event", &[], &["code", "description", "event_type", "unit"],
        &[f("code", Text), f("description", Text), f("event_type", Text), f("unit", Text)]),
    table("paymentType", &["code", "description"], &[], &[f("code", Text), f("description", Text)]),
    table("period", &["name", "startDate", "endDate", "periodScheduleID"], &[],
        &[f("name", Text), f("startDate", Date), f("endDate", Date), f("periodScheduleID", Link)]),
    table("periodSchedule", &["name"], &[], &[f("name", Text)]),
    scoped(table("pref", &["ID", "store_ID", "item", "data"], &["user_ID", "network_ID"],
        &[f("store_ID", Text), f("item", Text), f("data", Text), f("user_ID", Unread), f("network_ID", Unread)]),
        Scope::ServerFiltered(STORE_ID)),
    table("clinician", &["first_name", "last_name", "code"], &[],
        &[f("first_name", Text), f("last_name", Text), f("code", Unread), f("registration_code", Text),
          f("address1", Text), f("address2", Text), f("phone", Text), f("mobile", Text), f("email", Text),
          f("store_ID", Text)]),
    table("program_indicator", &["code", "program_ID", "is_active"], &[],
        &[f("code", Text), f("program_ID", Link), f("is_active", Bool)]),
    table("dashboard_store_report", &["ID", "title", "type", "json"], &[],
        &[f("title", Text), f("type", Text), f("json", Text)]),
    scoped(table("requisition", &["name_ID", "store_ID", "status", "type", "daysToSupply"],
        &["date_entered", "serial_number", "requester_reference", "programID", "periodID"],
        &[f("store_ID", Text), f("status", Text), f("type", Text), f("daysToSupply", NumRequired), f("name_ID", Link),
          f("date_entered", Date), f("serial_number", Text), f("requester_reference", Text), f("programID", Link),
          f("periodID", Link), f("comment", Text), f("orderType", Text), f("user_ID", Link), f("thresholdMOS", NumOptional),
          f("custom_data", Json), f("isRemoteOrder", Bool), f("date_order_received", Date),
          f("linked_requisition_id", Text)]),
        Scope::Filtered("store_ID")),
    table("requisition_line", &["requisition_ID", "item_ID"], &["stock_on_hand", "Cust_stock_order", "optionID"],
        &[f("requisition_ID", Link), f("item_ID", Link), f("stock_on_hand", NumRequired), f("Cust_stock_order", NumOptional),
          f("optionID", Link), f("actualQuan", NumRequired), f("daily_usage", NumOptional),
          f("Cust_prev_stock_balance", NumRequired), f("stockLosses", NumRequired), f("stockAdditions", NumRequired),
          f("Cust_stock_received", NumRequired), f("Cust_stock_issued", NumRequired), f("DOSforAMCadjustment", NumRequired),
          f("line_number", NumOptional), f("comment", Text)]),
    scoped(table("sensor", &["macAddress"], &["batteryLevel", "is_active", "name"],
        &[f("macAddress", Text), f("name", Text), f("batteryLevel", NumOptional), f("is_active", Bool), f("locationID", Link),
          f("logInterval", NumRequired), f("log_delay_date", Date), f("log_delay_time", Time), f("programmed_date", Date),
          f("programmed_time", Time)]),
        Scope::ServerFiltered(&["storeID", "store_ID"])),
    scoped(table("Stock_take", &["status"], &["Description", "stock_take_created_date", "serial_number", "programID"],
        &[f("status", Text), f("Description", Text), f("stock_take_created_date", Date), f("stock_take_date", Date),
          f("stock_take_time", Time), f("serial_number", Text), f("programID", Link), f("created_by_ID", Link),
          f("finalised_by_ID", Link), f("invad_additions_ID", Link), f("invad_reductions_ID", Link), f("comment", Text)]),
        Scope::ServerFiltered(STORE_ID)),
    table("Stock_take_lines", &["stock_take_ID", "item_line_ID", "item_ID", "snapshot_qty", "snapshot_packsize"],
        &["expiry", "Batch", "cost_price", "sell_price", "optionID", "vaccine_vial_monitor_status_ID", "location_id"],
        &[f("stock_take_ID", Link), f("item_line_ID", Link), f("item_ID", Text), f("snapshot_qty", Quantity),
          f("snapshot_packsize", PackSize), f("stock_take_qty", Quantity), f("expiry", Date), f("Batch", Text),
          f("cost_price", Price), f("sell_price", Price), f("optionID", Link), f("vaccine_vial_monitor_status_ID", Link),
          f("location_id", Link), f("line_number", NumOptional)]),
    // `tags` and `code` depend on whether the device has had its store record before: see `rules.rs`.
    scoped(table("store", &[], &[], &[]), Scope::StoreRecord),
    scoped(table("temperature_breach", &["start_time", "start_date", "location_ID", "sensor_ID", "type"],
        &["end_time", "end_date", "acknowledged", "threshold_duration", "threshold_maximum_temperature",
          "threshold_minimum_temperature"],
        &[f("start_date", Date), f("start_time", Time), f("end_date", Date), f("end_time", Time), f("location_ID", Link),
          f("sensor_ID", Link), f("type", Text), f("acknowledged", Bool), f("threshold_duration", NumOptional),
          f("threshold_maximum_temperature", NumOptional), f("threshold_minimum_temperature", NumOptional)]),
        Scope::ServerFiltered(STORE_ID)),
    scoped(table("temperature_breach_config", &["minimum_temperature", "maximum_temperature", "duration", "type"],
        &["description", "colour"],
        &[f("minimum_temperature", NumOptional), f("maximum_temperature", NumOptional), f("duration", NumOptional),
          f("type", Text), f("description", Text), f("colour", Text), f("location_ID", Link)]),
        Scope::ServerFiltered(STORE_ID)),
    scoped(table("temperature_log", &["temperature", "date", "time", "location_ID", "store_ID", "log_interval"],
        &["temperature_breach_ID"],
        &[f("temperature", NumRequired), f("date", Date), f("time", Time), f("location_ID", Link), f("sensor_ID", Link),
          f("log_interval", NumRequired), f("temperature_breach_ID", Link), f("store_ID", Text)]),
        Scope::ServerFiltered(STORE_ID)),
    scoped(table("transact", &["name_ID", "type", "status", "store_ID"], &["invoice_num", "entry_date"],
        &[f("store_ID", Text), f("name_ID", Link), f("type", Text), f("status", Text), f("invoice_num", Text),
          f("entry_date", Date), f("confirm_date", Date), f("comment", Text), f("their_ref", Text), f("user1", Text),
          f("mode", Text), f("custom_data", Json), f("user_ID", Link), f("category_ID", Link), f("prescriber_ID", Link),
          f("requisition_ID", Text), f("linked_transaction_id", Link), f("nameInsuranceJoinID", Link),
          f("optionID", Link), f("paymentTypeID", Link), f("subtotal", Float), f("total", Float),
          f("insuranceDiscountAmount", Float), f("insuranceDiscountRate", Float), f("is_cancellation", Bool)]),
        Scope::Filtered("store_ID")),
    table("trans_line", &["item_ID", "item_line_ID", "expiry_date", "quantity", "cost_price", "sell_price"],
        &["item_name", "batch", "pack_size", "donor_id", "vaccine_vial_monitor_status_ID", "location_ID"],
        &[f("transaction_ID", RequiredLink), f("item_line_ID", Link), f("item_ID", Text), f("item_name", Text),
          f("quantity", Quantity), f("pack_size", PackSize), f("sent_pack_size", NumOptional), f("cost_price", Price),
          f("sell_price", Price), f("expiry_date", Date), f("batch", Text), f("donor_id", Link), f("location_ID", Link),
          f("vaccine_vial_monitor_status_ID", Link), f("medicine_administrator_ID", Link), f("line_number", NumOptional),
          f("note", Text), f("type", Text)]),
    table("transaction_category", &[], &["category", "code", "type"], &[f("category", Text), f("code", Text), f("type", Text)]),
    table("unit", &[], &["units", "comment", "order_number"],
        &[f("units", Text), f("comment", Text), f("order_number", NumRequired)]),
    fated(table("user", &[], &[], &[]), Fate::AlwaysDropped),
    table("vaccine_vial_monitor_status", &[], &["description", "code", "level", "is_active"],
        &[f("description", Text), f("code", Text), f("level", NumRequired), f("is_active", Bool)]),
    // `status_ID` passes the check but is not read; the link comes from the long key, so send both.
    scoped(table("vaccine_vial_monitor_status_log", &["status_ID", "item_line_ID", "time", "date"], &[],
        &[f("status_ID", Unread), f("vaccine_vial_monitor_status_ID", Link), f("item_line_ID", Link), f("date", Date),
          f("time", Time)]),
        Scope::ServerFiltered(STORE_ID)),
];

/// The HEAD entry for a `RecordType`, spelled exactly (names are case-sensitive).
pub(crate) fn lookup(record_type: &str) -> Option<&'static Table> {
    TABLES.iter().find(|t| t.record_type == record_type)
}

/// A known name that differs from `record_type` only in case, to say what was probably meant.
pub(crate) fn near_miss(record_type: &str) -> Option<&'static str> {
    TABLES
        .iter()
        .map(|t| t.record_type)
        .find(|name| name.eq_ignore_ascii_case(record_type))
}

/// Transaction types the HEAD translator knows (others leave the type unchanged).
pub(crate) const TRANSACTION_TYPES: &[&str] = &["ci", "cc", "si", "sc", "in", "pi", "rc", "ps", "bu", "sr"];
/// Transaction (and stocktake) statuses both translators know.
pub(crate) const TRANSACTION_STATUSES: &[&str] = &["nw", "wp", "sg", "cn", "fn", "wf"];
/// Statuses the app reads as finalised: it refuses to delete such a transaction or stocktake.
pub(crate) const FINALISED_STATUSES: &[&str] = &["fn", "wf"];
/// Statuses of a received invoice to which the device still adds stock when the user finalises it.
pub(crate) const RECEIVABLE_STATUSES: &[&str] = &["nw", "wp", "sg"];
/// Name types both translators know.
pub(crate) const NAME_TYPES: &[&str] = &["invad", "facility", "patient", "build", "store", "repack"];
/// Requisition types the translator knows (others leave the type unchanged, new rows: request).
pub(crate) const REQUISITION_TYPES: &[&str] = &["request", "response", "im", "sh"];
/// Requisition statuses the app translates; a requisition in any other status is discarded.
pub(crate) const REQUISITION_STATUSES: &[&str] = &["sg", "fn", "cn"];
/// Types HEAD merges; a merge of any other type does nothing.
pub(crate) const MERGEABLE: &[&str] = &["item", "name", "clinician"];
/// The only `pref` item the app reads.
pub(crate) const STORE_PREFERENCES: &str = "store_preferences";
/// Preference keys whose value must be a JSON boolean (the string "true" reads as false).
pub(crate) const BOOLEAN_PREFERENCES: &[&str] = &[
    "usesVaccineModule",
    "usesDispensaryModule",
    "usesDashboardModule",
    "usesCashRegisterModule",
    "usesPaymentModule",
    "usesPatientTypes",
    "usesHideSnapshotColumn",
    "can_edit_patients_from_any_store",
    "can_view_all_patients_history",
    "new_patients_visible_in_this_store_only",
    "keepRequisitionLinesWithZeroQuantity",
    "makePatientPrescriberDemographicFieldsMandatory",
    "monthlyConsumptionEnforceLookBackPeriod",
];
/// Preference keys whose value must be a JSON number of at least 0 (the string "3" reads as 0).
pub(crate) const NUMBER_PREFERENCES: &[&str] = &["monthlyConsumptionLookBackPeriod", "monthsLeadTime"];
/// Dashboard report types drawn as charts, whose `json` must be a list of labelled series.
pub(crate) const CHART_REPORTS: &[&str] = &["PieChart", "LineChart", "BarChart"];

/// Translated code fields: (record type, field, codes HEAD knows). An unknown code is left unchanged
/// by HEAD (a defect) and crashes 2017 (see `v2017.rs` for its lists).
pub(crate) const CODE_FIELDS: &[(&str, &str, &[&str])] = &[
    ("transact", "type", TRANSACTION_TYPES),
    ("transact", "status", TRANSACTION_STATUSES),
    ("name", "type", NAME_TYPES),
    ("requisition", "type", REQUISITION_TYPES),
    ("Stock_take", "status", TRANSACTION_STATUSES),
    ("transaction_category", "type", TRANSACTION_TYPES),
];

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn every_record_type_appears_once() {
        let names: HashSet<_> = TABLES.iter().map(|t| t.record_type).collect();
        assert_eq!(names.len(), TABLES.len());
        assert_eq!(TABLES.len(), 58);
    }

    #[test]
    fn sanity_fields_other_than_the_id_are_read_fields() {
        for t in TABLES.iter().filter(|t| t.fate == Fate::Judged) {
            for name in t.non_blank.iter().chain(t.present).filter(|name| **name != "ID") {
                assert!(
                    t.fields.iter().any(|field| field.name == *name),
                    "{} {}",
                    t.record_type,
                    name
                );
            }
        }
    }

    #[test]
    fn lookups_are_case_sensitive() {
        assert!(lookup("Location").is_some() && lookup("location").is_none());
        assert_eq!(near_miss("stock_take"), Some("Stock_take"));
    }
}
