//! Starts from records the current app is known to accept — integrated in this order, in one batch,
//! by a device of store B255… whose own name is B266…, supplied by store X (name B066…) — and then
//! breaks one rule at a time, asserting that the validator catches each with the app's outcome.

#![allow(clippy::unwrap_used)]

use std::sync::atomic::{AtomicUsize, Ordering};

use mobile_validator::{BatchVerdict, Client, Device, Outcome, Session, Verdict};
use serde_json::{json, Map, Value};

const STORE: &str = "B2555555555555555555555555555555";
const NAME: &str = "B2666666666666666666666666666666";
const STORE_X_NAME: &str = "B0666666666666666666666666666666";
const OTHER_STORE: &str = "B0555555555555555555555555555555";

/// The accepted records as (record type, row), in the order they were integrated.
fn accepted() -> Vec<(&'static str, Value)> {
    vec![
        (
            "store",
            json!({"ID":STORE,"code":"STY","name":"Store Y","name_ID":NAME,"tags":""}),
        ),
        (
            "name",
            json!({"ID":STORE_X_NAME,"type":"store","customer":"true","supplier":"true","manufacturer":"false",
            "name":"Store X","code":"STX","barcode":"","phone":"","email":"","bill_address1":"","bill_address2":"",
            "supplying_store_id":"","first":"","middle":"","last":"","date_of_birth":"0000-00-00T00:00:00",
            "created_date":"0000-00-00T00:00:00","isDeceased":"false","is_deleted":"false","female":"false",
            "nationality_ID":"","occupation_ID":"","ethnicity_ID":""}),
        ),
        (
            "name_store_join",
            json!({"ID":"NSJ1","name_ID":STORE_X_NAME,"store_ID":STORE,"inactive":"false"}),
        ),
        (
            "item",
            json!({"ID":"ITEM1","code":"AMX500","item_name":"Amoxicillin 500mg","default_pack_size":"1",
            "doses":"0","description":"","category_ID":"","department_ID":"","unit_ID":"","cross_ref_item_ID":"",
            "is_vaccine":"false"}),
        ),
        (
            "item_store_join",
            json!({"ID":"ISJ1","item_ID":"ITEM1","store_ID":STORE,"inactive":"false",
            "default_price":"0"}),
        ),
        (
            "item_line",
            json!({"ID":"LINE1","item_ID":"ITEM1","store_ID":STORE,"quantity":"10","pack_size":"100",
            "batch":"A123","expiry_date":"2027-06-30T00:00:00","cost_price":"12.5","sell_price":"15","donor_id":"",
            "donor_ID":"","location_ID":"","name_ID":""}),
        ),
        (
            "pref",
            json!({"ID":"PREF1","store_ID":STORE,"item":"store_preferences",
            "data":"{\"usesVaccineModule\":false,\"monthsLeadTime\":1}","user_ID":"","network_ID":""}),
        ),
        (
            "requisition",
            json!({"ID":"REQY","name_ID":STORE_X_NAME,"store_ID":STORE,"status":"fn","type":"request",
            "daysToSupply":"90","date_entered":"2024-02-01T00:00:00","serial_number":"12","requester_reference":"12",
            "programID":"","periodID":"","comment":"","user_ID":"","thresholdMOS":"","orderType":"","custom_data":"",
            "isRemoteOrder":"true","date_order_received":"2024-02-01T00:00:00","linked_requisition_id":""}),
        ),
        (
            "transact",
            json!({"ID":"SI1","store_ID":STORE,"name_ID":STORE_X_NAME,"type":"si","status":"nw",
            "invoice_num":"-1","linked_transaction_id":"CIX1","requisition_ID":"REQY","mode":"store",
            "entry_date":"2024-03-01T00:00:00","confirm_date":"0000-00-00T00:00:00","their_ref":"","comment":"",
            "user_ID":"","category_ID":"","prescriber_ID":"","custom_data":"","subtotal":"150","total":"150",
            "insuranceDiscountAmount":"0","insuranceDiscountRate":"0","is_cancellation":"false","optionID":"",
            "paymentTypeID":"","user1":"","nameInsuranceJoinID":""}),
        ),
        (
            "trans_line",
            json!({"ID":"TL1","transaction_ID":"SI1","item_ID":"ITEM1","item_line_ID":"NEWLINE_Y1",
            "item_name":"Amoxicillin 500mg","batch":"A123","expiry_date":"2027-06-30T00:00:00","quantity":"1",
            "pack_size":"100","sent_pack_size":"100","cost_price":"12.5","sell_price":"15","donor_id":"",
            "location_ID":"","vaccine_vial_monitor_status_ID":"","medicine_administrator_ID":"","line_number":"1",
            "note":"","type":"stock_in"}),
        ),
        (
            "requisition",
            json!({"ID":"RESP1","name_ID":STORE_X_NAME,"store_ID":STORE,"status":"sg","type":"response",
            "daysToSupply":"90","date_entered":"2024-02-02T00:00:00","serial_number":"-1","requester_reference":"77",
            "programID":"","periodID":"","comment":"","user_ID":"","thresholdMOS":"","orderType":"","custom_data":"",
            "isRemoteOrder":"false","date_order_received":"2024-02-02T00:00:00","linked_requisition_id":"REQX77"}),
        ),
        (
            "requisition_line",
            json!({"ID":"RL1","requisition_ID":"RESP1","item_ID":"ITEM1","stock_on_hand":"20",
            "daily_usage":"1.5","Cust_stock_order":"100","actualQuan":"0","comment":"","line_number":"1","optionID":"",
            "Cust_prev_stock_balance":"0","stockLosses":"0","stockAdditions":"0","Cust_stock_received":"0",
            "Cust_stock_issued":"0","DOSforAMCadjustment":"0"}),
        ),
        (
            "name",
            json!({"ID":"PAT1","type":"patient","customer":"true","supplier":"false","manufacturer":"false",
            "name":"Doe, Jane","code":"P0001","barcode":"*P0001*","phone":"","email":"","bill_address1":"",
            "bill_address2":"","supplying_store_id":STORE,"first":"Jane","middle":"","last":"Doe",
            "date_of_birth":"1990-05-17T00:00:00","created_date":"2024-01-01T00:00:00","isDeceased":"false",
            "is_deleted":"false","female":"true","nationality_ID":"","occupation_ID":"","ethnicity_ID":""}),
        ),
        (
            "name_store_join",
            json!({"ID":"NSJ2","name_ID":"PAT1","store_ID":STORE,"inactive":"false"}),
        ),
    ]
}

/// An accepted row by its ID, to be broken.
fn row(id: &str) -> Map<String, Value> {
    let (_, data) = accepted().into_iter().find(|(_, data)| data["ID"] == id).unwrap();
    data.as_object().cloned().unwrap()
}

/// Wraps a row in the envelope of an insert, with a SyncID no other record of the run has.
fn record(record_type: &str, data: impl Into<Value>) -> Value {
    static NEXT: AtomicUsize = AtomicUsize::new(1);
    let data = data.into();
    let sync_id = format!("SYNC{}", NEXT.fetch_add(1, Ordering::Relaxed));
    json!({"SyncID": sync_id, "RecordType": record_type, "RecordID": data["ID"], "SyncType": "I", "data": data})
}

fn device(client: Client) -> Device {
    Device::new(client, STORE, NAME)
}

/// A device that has integrated the accepted records.
fn head() -> Session {
    let mut session = Session::new(device(Client::Head));
    let batch: Vec<Value> = accepted().into_iter().map(|(t, data)| record(t, data)).collect();
    assert!(session.judge_batch(&batch).passes());
    session
}

/// The accepted records a 2017 device may get: no store, pref, requisitions or requisition lines.
fn v2017() -> Session {
    let mut session = Session::new(device(Client::V2017));
    let skipped = ["store", "pref", "requisition", "requisition_line"];
    let batch: Vec<Value> = accepted()
        .into_iter()
        .filter(|(t, _)| !skipped.contains(t))
        .map(|(t, data)| record(t, data))
        .collect();
    let verdict = session.judge_batch(&batch);
    assert!(verdict.passes(), "{:#?}", verdict.failures().collect::<Vec<_>>());
    session
}

fn one(session: &mut Session, record: Value) -> Verdict {
    session.judge_batch(&[record]).records.remove(0)
}

fn with(id: &str, changes: Value) -> Map<String, Value> {
    let mut data = row(id);
    for (key, value) in changes.as_object().unwrap() {
        data.insert(key.clone(), value.clone());
    }
    data
}

fn without(id: &str, keys: &[&str]) -> Map<String, Value> {
    let mut data = row(id);
    for key in keys {
        data.remove(*key);
    }
    data
}

fn has_defect(verdict: &Verdict, words: &str) -> bool {
    verdict.defects.iter().any(|defect| defect.contains(words))
}

#[track_caller]
fn assert_crash(verdict: &Verdict, words: &str) {
    assert!(
        matches!(&verdict.outcome, Outcome::Crash(reason) if reason.contains(words)),
        "{verdict}"
    );
    assert!(!verdict.passes());
}

#[track_caller]
fn assert_dropped(verdict: &Verdict, words: &str) {
    assert!(
        matches!(&verdict.outcome, Outcome::Dropped(reason) if reason.contains(words)),
        "{verdict}"
    );
}

#[track_caller]
fn assert_ignored_defect(verdict: &Verdict, words: &str) {
    assert!(
        matches!(&verdict.outcome, Outcome::Ignored(reason) if reason.contains(words)),
        "{verdict}"
    );
    assert!(!verdict.passes(), "{verdict}");
}

#[track_caller]
fn assert_defect(verdict: &Verdict, words: &str) {
    assert_eq!(verdict.outcome, Outcome::Integrated, "{verdict}");
    assert!(has_defect(verdict, words), "{verdict}");
}

#[track_caller]
fn assert_allowed_ignore(verdict: &Verdict) {
    assert!(
        matches!(verdict.outcome, Outcome::Ignored(_)) && verdict.passes(),
        "{verdict}"
    );
}

// ---- the accepted records ----

#[test]
fn the_accepted_records_pass_in_one_batch() {
    let session = head();
    let report = session.report();
    assert_eq!(
        (report.records, report.passed, report.integrated, report.rolled_back),
        (14, 14, 14, 0)
    );
    assert!(report.to_string().starts_with("14 of 14 records accepted"));
    // The batch did not deliver the device's own name nor an inventory-adjustment name.
    assert_eq!(report.missing.len(), 2);
}

#[test]
fn the_accepted_records_a_2017_device_may_get_pass() {
    assert!(v2017().report().all_passed());
}

// ---- the envelope ----

#[test]
fn a_row_under_capital_data_is_ignored() {
    let mut broken = record("item", row("ITEM1"));
    let data = broken.as_object_mut().unwrap().remove("data").unwrap();
    broken["Data"] = data;
    assert_ignored_defect(&one(&mut head(), broken), "Data (capital D)");
}

#[test]
fn an_unknown_record_type_is_ignored_and_pointless() {
    assert_ignored_defect(
        &one(&mut head(), record("stock_take", row("ITEM1"))),
        "case-sensitive: Stock_take",
    );
    assert_ignored_defect(&one(&mut head(), record("widget", row("ITEM1"))), "pointless");
}

#[test]
fn a_lower_case_sync_type_is_ignored() {
    let mut broken = record("item", row("ITEM1"));
    broken["SyncType"] = json!("u");
    assert_ignored_defect(&one(&mut head(), broken), "I U D M");
}

#[test]
fn a_missing_sync_type_is_ignored() {
    let mut broken = record("item", row("ITEM1"));
    broken.as_object_mut().unwrap().remove("SyncType");
    assert_ignored_defect(&one(&mut head(), broken), "SyncType missing");
}

#[test]
fn sync_ids_are_present_and_unique_in_a_batch() {
    let mut missing = record("item", row("ITEM1"));
    missing.as_object_mut().unwrap().remove("SyncID");
    assert_defect(&one(&mut head(), missing), "SyncID missing");
    let first = record("item", row("ITEM1"));
    let verdict = head().judge_batch(&[first.clone(), first]);
    assert!(verdict.records[0].passes() && has_defect(&verdict.records[1], "repeats"));
}

#[test]
fn the_record_id_equals_the_row_id() {
    let mut broken = record("item", row("ITEM1"));
    broken["RecordID"] = json!("item1");
    assert_defect(&one(&mut head(), broken), "differs from data.ID");
}

#[test]
fn a_missing_data_is_ignored() {
    let mut broken = record("item", row("ITEM1"));
    broken.as_object_mut().unwrap().remove("data");
    assert_ignored_defect(&one(&mut head(), broken), "data missing");
}

// ---- the row ID and the sanity lists ----

#[test]
fn a_json_number_id_crashes() {
    assert_crash(
        &one(&mut head(), record("item", with("ITEM1", json!({"ID": 1})))),
        "ids must be strings",
    );
}

#[test]
fn a_blank_id_is_dropped() {
    assert_dropped(
        &one(&mut head(), record("item", with("ITEM1", json!({"ID": ""})))),
        "data.ID",
    );
}

#[test]
fn names_with_json_booleans_are_dropped() {
    let broken = with(STORE_X_NAME, json!({"customer": true, "supplier": true}));
    assert_dropped(&one(&mut head(), record("name", broken)), "customer");
}

#[test]
fn an_item_line_without_quantity_is_dropped() {
    assert_dropped(
        &one(&mut head(), record("item_line", without("LINE1", &["quantity"]))),
        "quantity",
    );
}

#[test]
fn a_null_present_field_is_dropped() {
    assert_dropped(
        &one(&mut head(), record("item_line", with("LINE1", json!({"batch": null})))),
        "batch is null",
    );
}

#[test]
fn push_only_and_unmapped_types_are_always_dropped() {
    for record_type in ["user", "message", "adverse_drug_reaction", "number_reuse"] {
        assert_dropped(
            &one(&mut head(), record(record_type, json!({"ID": "X1"}))),
            "always dropped",
        );
    }
}

// ---- the own store record ----

#[test]
fn a_store_record_without_tags_crashes_the_first_batch() {
    let mut session = Session::new(device(Client::Head));
    let batch = [record("store", without(STORE, &["tags"])), record("item", row("ITEM1"))];
    let verdict: BatchVerdict = session.judge_batch(&batch);
    assert!(verdict.rolled_back && verdict.culprit == Some(0));
    assert_crash(&verdict.records[0], "tags missing on the first receipt");
    // Rolled back: the device still has no store record, so the same record crashes again.
    assert_crash(
        &one(&mut session, record("store", without(STORE, &["tags"]))),
        "first receipt",
    );
    assert_eq!(session.report().rolled_back, 2);
}

#[test]
fn a_later_store_record_without_tags_is_a_partial_row() {
    assert_defect(
        &one(&mut head(), record("store", without(STORE, &["tags"]))),
        "partial row: missing tags",
    );
}

#[test]
fn a_null_store_code_crashes_at_any_time() {
    assert_crash(
        &one(&mut head(), record("store", with(STORE, json!({"code": null})))),
        "code is null",
    );
}

#[test]
fn the_store_record_of_another_store_is_ignored_and_allowed() {
    assert_allowed_ignore(&one(
        &mut head(),
        record("store", json!({"ID": OTHER_STORE, "name": "Store X"})),
    ));
}

// ---- numbers the app must parse ----

#[test]
fn a_list_master_line_without_price_crashes() {
    let line = json!({"ID": "LML1", "item_master_ID": "LM1", "item_ID": "ITEM1", "imprest_quan": ""});
    assert_crash(&one(&mut head(), record("list_master_line", line)), "price missing");
}

#[test]
fn a_list_master_line_without_its_list_crashes() {
    let line = json!({"ID": "LML1", "item_master_ID": "", "item_ID": "ITEM1", "imprest_quan": "", "price": "1"});
    assert_crash(&one(&mut head(), record("list_master_line", line)), "item_master_ID");
}

#[test]
fn blank_doses_crash_and_prefixed_numbers_are_defects() {
    assert_crash(
        &one(&mut head(), record("item", with("ITEM1", json!({"doses": ""})))),
        "doses",
    );
    assert_defect(
        &one(&mut head(), record("item", with("ITEM1", json!({"doses": "2x"})))),
        "plain decimal",
    );
    assert_crash(
        &one(&mut head(), record("item", with("ITEM1", json!({"doses": 0})))),
        "json number 0",
    );
}

#[test]
fn an_own_store_item_store_join_needs_a_default_price() {
    assert_crash(
        &one(
            &mut head(),
            record("item_store_join", without("ISJ1", &["default_price"])),
        ),
        "default_price",
    );
    let other = with("ISJ1", json!({"ID": "ISJ9", "store_ID": OTHER_STORE}));
    let verdict = one(
        &mut head(),
        record("item_store_join", without_keys(other, &["default_price", "inactive"])),
    );
    assert!(verdict.passes() && verdict.outcome == Outcome::Integrated, "{verdict}");
}

fn without_keys(mut data: Map<String, Value>, keys: &[&str]) -> Map<String, Value> {
    keys.iter().for_each(|key| {
        data.remove(*key);
    });
    data
}

#[test]
fn required_numbers_outside_the_sanity_lists_crash() {
    let cases = [
        (
            "currency",
            json!({"ID": "C1", "currency": "USD", "is_home_currency": "true", "date_updated": "2024-01-01T00:00:00"}),
            "rate",
        ),
        (
            "unit",
            json!({"ID": "U1", "units": "tab", "comment": "", "order_number": ""}),
            "order_number",
        ),
        (
            "sensor",
            json!({"ID": "S1", "macAddress": "AA", "batteryLevel": "90", "is_active": "true", "name": "s",
            "locationID": "", "log_delay_date": "0000-00-00T00:00:00", "log_delay_time": "00:00:00",
            "programmed_date": "0000-00-00T00:00:00", "programmed_time": "00:00:00"}),
            "logInterval",
        ),
        (
            "vaccine_vial_monitor_status",
            json!({"ID": "V1", "description": "", "code": "", "level": "x", "is_active": "true"}),
            "level",
        ),
        (
            "indicator_attribute",
            json!({"ID": "IA1", "code": "c", "indicator_ID": "I", "description": "", "index": "",
            "is_required": "false", "value_type": "", "default_value": "", "axis": "", "is_active": "true"}),
            "index",
        ),
    ];
    for (record_type, data, field) in cases {
        assert_crash(&one(&mut head(), record(record_type, data)), field);
    }
}

#[test]
fn requisition_days_to_supply_must_be_numeric() {
    assert_crash(
        &one(
            &mut head(),
            record("requisition", with("REQY", json!({"daysToSupply": "ninety"}))),
        ),
        "daysToSupply",
    );
}

#[test]
fn each_of_the_eight_requisition_line_quantities_must_be_numeric() {
    let quantities = [
        "stock_on_hand",
        "actualQuan",
        "Cust_prev_stock_balance",
        "stockLosses",
        "stockAdditions",
        "Cust_stock_received",
        "Cust_stock_issued",
        "DOSforAMCadjustment",
    ];
    for field in quantities {
        assert_crash(
            &one(
                &mut head(),
                record("requisition_line", with("RL1", json!({ field: "" }))),
            ),
            field,
        );
    }
}

#[test]
fn temperature_logs_need_numbers_and_a_real_date() {
    let log = json!({"ID": "TLOG1", "temperature": "4.5", "date": "2024-01-04T00:00:00", "time": "10:00:00",
        "location_ID": "LOC1", "sensor_ID": "", "log_interval": "300", "temperature_breach_ID": "", "store_ID": STORE});
    assert!(one(&mut head(), record("temperature_log", log.clone())).passes());
    let mut zero = log.clone();
    zero["date"] = json!("0000-00-00T00:00:00");
    assert_crash(&one(&mut head(), record("temperature_log", zero)), "zero date");
    let mut warm = log;
    warm["temperature"] = json!("warm");
    assert_crash(&one(&mut head(), record("temperature_log", warm)), "temperature");
}

#[test]
fn optional_numbers_and_floats_are_numeric_strings() {
    assert_defect(
        &one(
            &mut head(),
            record("requisition", with("REQY", json!({"thresholdMOS": "n/a"}))),
        ),
        "thresholdMOS",
    );
    assert_defect(
        &one(
            &mut head(),
            record("transact", with("SI1", json!({"ID": "SI2", "subtotal": ""}))),
        ),
        "NaN",
    );
}

#[test]
fn a_blank_pack_size_zeroes_the_stock() {
    assert_defect(
        &one(
            &mut head(),
            record("item_line", with("LINE1", json!({"pack_size": ""}))),
        ),
        "pack_size",
    );
}

// ---- text, links, json, booleans, dates and times ----

#[test]
fn a_json_number_in_a_text_field_crashes() {
    assert_crash(
        &one(
            &mut head(),
            record("transact", with("SI1", json!({"ID": "SI2", "invoice_num": -1}))),
        ),
        "invoice_num",
    );
    assert_crash(
        &one(&mut head(), record("item_line", with("LINE1", json!({"batch": 123})))),
        "batch",
    );
}

#[test]
fn a_json_object_in_a_json_field_crashes() {
    let broken = with("REQY", json!({"custom_data": {"priority": "high"}}));
    assert_crash(&one(&mut head(), record("requisition", broken)), "custom_data");
    let text = with("REQY", json!({"custom_data": "{priority: high}"}));
    assert_defect(&one(&mut head(), record("requisition", text)), "not valid json text");
}

#[test]
fn a_json_number_as_a_link_crashes() {
    assert_crash(
        &one(&mut head(), record("item", with("ITEM1", json!({"unit_ID": 7})))),
        "unit_ID",
    );
}

#[test]
fn a_json_boolean_works_on_head_but_is_a_defect() {
    assert_defect(
        &one(&mut head(), record("item", with("ITEM1", json!({"is_vaccine": true})))),
        "2017",
    );
    assert_defect(
        &one(&mut head(), record("item", with("ITEM1", json!({"is_vaccine": "yes"})))),
        "reads as false",
    );
}

#[test]
fn a_date_without_its_time_is_read_as_utc() {
    let broken = with("SI1", json!({"ID": "SI2", "entry_date": "2024-01-04"}));
    assert_defect(&one(&mut head(), record("transact", broken)), "utc midnight");
    let zero = with("SI1", json!({"ID": "SI2", "confirm_date": "0000-00-00"}));
    assert_defect(&one(&mut head(), record("transact", zero)), "invalid date");
}

#[test]
fn times_are_hours_minutes_seconds() {
    let stocktake = json!({"ID": "ST1", "status": "sg", "Description": "", "stock_take_created_date": "2024-01-04T00:00:00",
        "stock_take_date": "2024-01-04T00:00:00", "stock_take_time": "9:30", "serial_number": "1", "programID": "",
        "created_by_ID": "", "finalised_by_ID": "", "invad_additions_ID": "", "invad_reductions_ID": "", "comment": "",
        "store_ID": STORE});
    assert_defect(&one(&mut head(), record("Stock_take", stocktake)), "HH:MM:SS");
}

// ---- full rows ----

#[test]
fn a_partial_transact_update_is_a_defect() {
    let partial = without("SI1", &["category_ID", "subtotal", "is_cancellation", "requisition_ID"]);
    let partial = with_map(partial, json!({"ID": "SI2"}));
    assert_defect(
        &one(&mut head(), record("transact", partial)),
        "partial row: missing category_ID, requisition_ID, subtotal, is_cancellation",
    );
}

fn with_map(mut data: Map<String, Value>, changes: Value) -> Map<String, Value> {
    data.extend(changes.as_object().cloned().unwrap());
    data
}

#[test]
fn a_medicine_administrator_without_is_active_is_a_partial_row() {
    let administrator = json!({"ID": "MA1", "first_name": "A", "last_name": "B", "code": "AB"});
    assert_defect(
        &one(&mut head(), record("medicine_administrator", administrator)),
        "is_active",
    );
}

// ---- codes ----

#[test]
fn unknown_codes_are_defects() {
    assert_defect(
        &one(
            &mut head(),
            record("transact", with("SI1", json!({"ID": "SI2", "type": "xx"}))),
        ),
        "type",
    );
    assert_defect(
        &one(
            &mut head(),
            record("name", with(STORE_X_NAME, json!({"type": "customer"}))),
        ),
        "customer",
    );
    let request = with("REQY", json!({"type": "order"}));
    assert_defect(&one(&mut head(), record("requisition", request)), "order");
}

#[test]
fn a_requisition_in_an_untranslatable_status_is_ignored() {
    let mut session = head();
    let header = with("REQY", json!({"ID": "REQW", "status": "wp"}));
    assert_ignored_defect(&one(&mut session, record("requisition", header)), "not sg, fn or cn");
    let line = with("RL1", json!({"ID": "RLW", "requisition_ID": "REQW"}));
    assert_defect(
        &one(&mut session, record("requisition_line", line)),
        "ghost requisition",
    );
}

// ---- store scoping ----

#[test]
fn another_stores_transact_is_ignored_and_a_defect() {
    let mut session = head();
    let foreign = with(
        "SI1",
        json!({"ID": "CIX9", "store_ID": OTHER_STORE, "type": "ci", "status": "fn"}),
    );
    assert_ignored_defect(
        &one(&mut session, record("transact", foreign)),
        "another store's transact",
    );
    // Its lines have no store check: they leave a ghost transaction on the device.
    let line = with(
        "TL1",
        json!({"ID": "TLX9", "transaction_ID": "CIX9", "item_line_ID": "LINEX9"}),
    );
    assert_defect(&one(&mut session, record("trans_line", line)), "ghost transaction");
}

#[test]
fn a_line_whose_header_was_never_seen_is_not_judged() {
    let line = with(
        "TL1",
        json!({"ID": "TL7", "transaction_ID": "EARLIER1", "item_line_ID": "LINE7"}),
    );
    assert!(one(&mut head(), record("trans_line", line)).passes());
}

#[test]
fn another_stores_item_line_is_ignored_and_a_defect() {
    let foreign = with("LINE1", json!({"ID": "LINEX", "store_ID": OTHER_STORE}));
    assert_ignored_defect(
        &one(&mut head(), record("item_line", foreign)),
        "another store's item_line",
    );
    assert_ignored_defect(
        &one(&mut head(), record("item_line", without("LINE1", &["store_ID"]))),
        "store_ID missing",
    );
}

#[test]
fn a_store_id_in_another_case_is_another_store() {
    let lower = with("LINE1", json!({"store_ID": STORE.to_ascii_lowercase()}));
    assert_ignored_defect(&one(&mut head(), record("item_line", lower)), "compared exactly");
}

#[test]
fn another_stores_stocktake_and_its_lines_are_defects() {
    let mut session = head();
    let stocktake = json!({"ID": "STX", "status": "fn", "Description": "", "stock_take_created_date": "2024-01-04T00:00:00",
        "stock_take_date": "2024-01-04T00:00:00", "stock_take_time": "00:00:00", "serial_number": "1", "programID": "",
        "created_by_ID": "", "finalised_by_ID": "", "invad_additions_ID": "", "invad_reductions_ID": "", "comment": "",
        "store_ID": OTHER_STORE});
    assert_defect(
        &one(&mut session, record("Stock_take", stocktake)),
        "does not filter Stock_take",
    );
    let line = json!({"ID": "STLX", "stock_take_ID": "STX", "item_line_ID": "LINE1", "item_ID": "ITEM1",
        "snapshot_qty": "1", "snapshot_packsize": "1", "stock_take_qty": "1", "expiry": "0000-00-00T00:00:00",
        "Batch": "", "cost_price": "0", "sell_price": "0", "optionID": "", "vaccine_vial_monitor_status_ID": "",
        "location_id": "", "line_number": "1"});
    assert_defect(
        &one(&mut session, record("Stock_take_lines", line)),
        "another store's stocktake",
    );
}

#[test]
fn preferences_of_another_store_or_with_strings_are_defects() {
    let foreign = with("PREF1", json!({"ID": "PREF2", "store_ID": OTHER_STORE}));
    assert_defect(&one(&mut head(), record("pref", foreign)), "does not filter pref");
    let strings = with("PREF1", json!({"data": "{\"usesVaccineModule\":\"true\"}"}));
    assert_defect(&one(&mut head(), record("pref", strings)), "json boolean");
    let other_item = with(
        "PREF1",
        json!({"ID": "PREF3", "item": "general", "store_ID": OTHER_STORE}),
    );
    assert_allowed_ignore(&one(&mut head(), record("pref", other_item)));
}

#[test]
fn number_records_are_ignored_by_head_and_allowed() {
    let number = json!({"ID": "NUM1", "name": format!("supplier_invoice_number_for_store_{STORE}"), "value": "12"});
    assert_allowed_ignore(&one(&mut head(), record("number", number)));
}

// ---- transaction lines ----

#[test]
fn a_trans_line_with_a_blank_transaction_id_crashes() {
    assert_crash(
        &one(
            &mut head(),
            record("trans_line", with("TL1", json!({"transaction_ID": ""}))),
        ),
        "transaction_ID",
    );
}

#[test]
fn a_trans_line_with_both_pack_sizes_blank_crashes() {
    let broken = with("TL1", json!({"pack_size": "", "sent_pack_size": ""}));
    assert_crash(&one(&mut head(), record("trans_line", broken)), "both blank");
}

// ---- transfers ----

#[test]
fn a_supplier_invoice_re_sent_with_minus_one_is_a_defect() {
    let mut session = head();
    assert_defect(
        &one(&mut session, record("transact", row("SI1"))),
        "do not re-send renumbered records with -1",
    );
}

#[test]
fn a_response_re_sent_with_minus_one_is_a_defect() {
    let mut session = head();
    assert_defect(
        &one(&mut session, record("requisition", row("RESP1"))),
        "do not re-send renumbered records",
    );
}

#[test]
fn a_received_invoice_must_arrive_new_with_mode_store() {
    let confirmed = with("SI1", json!({"ID": "SI3", "status": "cn"}));
    assert_defect(
        &one(&mut head(), record("transact", confirmed)),
        "finalised without adding stock",
    );
    let hidden = with("SI1", json!({"ID": "SI3", "mode": ""}));
    assert_defect(&one(&mut head(), record("transact", hidden)), "mode store");
    let no_mode = without("SI1", &["mode"]);
    assert!(one(&mut Session::new(device(Client::Head)), record("transact", no_mode)).passes());
}

#[test]
fn an_invoice_from_a_store_needs_its_link() {
    let unlinked = with(
        "SI1",
        json!({"ID": "SI4", "linked_transaction_id": "", "invoice_num": "7"}),
    );
    assert_defect(
        &one(&mut head(), record("transact", unlinked)),
        "without linked_transaction_id",
    );
}

#[test]
fn received_lines_need_new_batches() {
    let mut session = head();
    let line = with(
        "TL1",
        json!({"ID": "TL2", "item_line_ID": "LINE1", "type": "stock_out"}),
    );
    let verdict = one(&mut session, record("trans_line", line));
    assert_defect(&verdict, "existing batch");
    assert!(has_defect(&verdict, "stock_in"));
}

#[test]
fn a_response_to_fill_arrives_suggested_and_linked() {
    let finalised = with("RESP1", json!({"ID": "RESP2", "status": "fn"}));
    assert_defect(&one(&mut head(), record("requisition", finalised)), "must arrive sg");
    let unlinked = with("RESP1", json!({"ID": "RESP3", "linked_requisition_id": ""}));
    assert_defect(
        &one(&mut head(), record("requisition", unlinked)),
        "without linked_requisition_id",
    );
}

#[test]
fn a_finalised_request_re_sent_as_suggested_reopens() {
    assert_defect(
        &one(
            &mut head(),
            record("requisition", with("REQY", json!({"status": "sg"}))),
        ),
        "reopens",
    );
}

// ---- dashboard reports ----

#[test]
fn dashboard_reports_need_valid_json_of_their_shape() {
    let report = |kind: &str, json: &str| {
        record(
            "dashboard_store_report",
            json!({"ID": "R1", "title": "t", "type": kind, "json": json}),
        )
    };
    assert_crash(&one(&mut head(), report("Table", "{oops")), "not valid json");
    assert_ignored_defect(&one(&mut head(), report("Table", "{\"data\":{}}")), "Table report");
    assert_crash(&one(&mut head(), report("Summary", "{}")), "without a data member");
    assert!(one(&mut head(), report("Summary", "{\"data\":[]}")).passes());
}

// ---- deletes and merges ----

#[test]
fn a_delete_needs_its_record_id() {
    let delete = json!({"SyncID": "D1", "RecordType": "item", "SyncType": "D"});
    assert_ignored_defect(&one(&mut head(), delete), "nothing is deleted");
    let fine = json!({"SyncID": "D2", "RecordType": "item", "SyncType": "D", "RecordID": "ITEM1"});
    assert!(one(&mut head(), fine).passes());
}

#[test]
fn deleting_a_finalised_transaction_is_refused() {
    let finalised = with("SI1", json!({"ID": "SIF", "status": "fn", "invoice_num": "3"}));
    let delete = json!({"SyncID": "D3", "RecordType": "transact", "SyncType": "D", "RecordID": "SIF"});
    let mut session = head();
    assert!(one(&mut session, record("transact", finalised.clone())).passes());
    assert_ignored_defect(&one(&mut session, delete.clone()), "refuses the delete");
    let mut old = v2017();
    assert!(one(&mut old, record("transact", finalised)).passes());
    assert_crash(&one(&mut old, delete), "refused delete");
}

#[test]
fn merges_need_both_ids_and_a_mergeable_type() {
    let merge = |record_type: &str, keep: Value| json!({"SyncID": "M1", "RecordType": record_type, "SyncType": "M", "mergeIDtokeep": keep, "mergeIDtodelete": "ITEM2"});
    assert!(one(&mut head(), merge("item", json!("ITEM1"))).passes());
    assert_ignored_defect(&one(&mut head(), merge("item", Value::Null)), "mergeIDtokeep");
    assert_allowed_ignore(&one(&mut head(), merge("trans_line", json!("TL1"))));
    assert_allowed_ignore(&one(&mut v2017(), merge("item", json!("ITEM1"))));
}

// ---- the 2017 app ----

#[test]
fn a_2017_device_crashes_on_a_requisition() {
    assert_crash(&one(&mut v2017(), record("requisition", row("REQY"))), "2017");
}

#[test]
fn a_2017_device_crashes_on_a_patient_without_customer() {
    assert_crash(
        &one(&mut v2017(), record("name", without("PAT1", &["customer"]))),
        "customer missing",
    );
}

#[test]
fn a_2017_device_ignores_types_it_does_not_know() {
    assert_allowed_ignore(&one(&mut v2017(), record("store", row(STORE))));
    assert_allowed_ignore(&one(&mut v2017(), record("pref", row("PREF1"))));
}

#[test]
fn a_2017_device_takes_another_stores_stock() {
    let foreign = with("LINE1", json!({"ID": "LINEX", "store_ID": OTHER_STORE}));
    assert_defect(
        &one(&mut v2017(), record("item_line", foreign)),
        "2017 app integrates it",
    );
}

#[test]
fn a_2017_device_crashes_on_codes_it_does_not_know() {
    let build = with("SI1", json!({"ID": "BU1", "type": "bu", "invoice_num": "4"}));
    assert_crash(&one(&mut v2017(), record("transact", build)), "2017 translator");
}

#[test]
fn a_2017_device_needs_real_entry_dates() {
    let undated = with("SI1", json!({"ID": "SI5", "entry_date": "0000-00-00T00:00:00"}));
    assert_crash(&one(&mut v2017(), record("transact", undated.clone())), "real date");
    assert!(one(
        &mut head(),
        record("transact", with_map(undated, json!({"invoice_num": "5"})))
    )
    .passes());
}

#[test]
fn a_2017_device_gets_no_requisition_lines() {
    assert!(has_defect(
        &one(&mut v2017(), record("requisition_line", row("RL1"))),
        "2017 device"
    ));
}

#[test]
fn a_2017_device_takes_the_first_record_of_its_own_sequences() {
    let mut session = v2017();
    let key = format!("supplier_invoice_number_for_store_{STORE}");
    let number = json!({"ID": "NUM1", "name": key, "value": "12"});
    assert_eq!(
        one(&mut session, record("number", number.clone())).outcome,
        Outcome::Integrated
    );
    assert_allowed_ignore(&one(&mut session, record("number", number)));
}

// ---- the report ----

#[test]
fn the_report_counts_failures_with_examples() {
    let mut session = head();
    one(&mut session, record("item_line", without("LINE1", &["quantity"])));
    let report = session.report();
    assert_eq!((report.records, report.passed, report.dropped), (15, 14, 1));
    assert_eq!(report.failures[0].table, "item_line");
    let summary = report.to_string();
    assert!(
        summary.contains("14 of 15 records accepted") && summary.contains("item_line LINE1 (dropped)"),
        "{summary}"
    );
}
