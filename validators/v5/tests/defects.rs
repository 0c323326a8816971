//! Starts from records open-mSupply is known to integrate (the shapes of the spec's §6), sent to
//! site 7 after a first sync of central data, and breaks one rule at a time, asserting that the
//! validator catches each with the remote's outcome — not merely that something failed.

#![allow(clippy::unwrap_used)]

mod fixtures;

use fixtures::*;
use serde_json::{json, Value};
use v5_validator::{Endpoint, Outcome, Session, Site, Verdict};

fn assert_passes(verdict: &Verdict) {
    assert!(verdict.passes(), "expected to pass: {verdict}");
}

fn assert_rejected(verdict: &Verdict, fragment: &str) {
    match &verdict.outcome {
        Outcome::Rejected(reason) if reason.contains(fragment) => {}
        _ => panic!("expected rejected with {fragment:?}: {verdict}"),
    }
    assert!(!verdict.passes());
}

fn assert_ignored(verdict: &Verdict, fragment: &str) {
    match &verdict.outcome {
        Outcome::Ignored(reason) if reason.contains(fragment) => {}
        _ => panic!("expected ignored with {fragment:?}: {verdict}"),
    }
}

/// Integrated, but with a defect containing `fragment`.
fn assert_silent_defect(verdict: &Verdict, fragment: &str) {
    assert_eq!(verdict.outcome, Outcome::Integrated, "{verdict}");
    assert!(
        verdict.defects.iter().any(|defect| defect.contains(fragment)),
        "expected a defect with {fragment:?}: {verdict}"
    );
}

fn verdict_for<'a>(verdicts: &'a [Verdict], id: &str) -> &'a Verdict {
    verdicts
        .iter()
        .find(|verdict| verdict.record_id == id)
        .unwrap_or_else(|| panic!("no verdict for {id}: {verdicts:#?}"))
}

// §2: value kinds.

#[test]
fn integers_sent_as_floats_or_strings_are_rejected() {
    assert_passes(&judged("unit", unit()));
    assert_rejected(
        &judged("unit", with(&unit(), "order_number", json!(1.0))),
        "order_number",
    );
    assert_rejected(
        &judged("unit", with(&unit(), "order_number", json!("1"))),
        "order_number",
    );
    assert_rejected(&judged("item", with(&item(), "doses", json!(0.0))), "doses");
}

#[test]
fn i32_fields_enforce_the_range() {
    let big = with(
        &store(STORE_A, "NAME_A", SITE),
        "sync_id_remote_site",
        json!(3_000_000_000_i64),
    );
    assert_rejected(&judged("store", big), "sync_id_remote_site");
    let mut transfer = transfer("T_BIG");
    transfer["invoice_num"] = json!(3_000_000_000_i64);
    assert_passes(&judged("transact", transfer));
}

#[test]
fn numbers_sent_as_strings_and_bools_as_numbers_are_rejected() {
    assert_rejected(
        &judged("item", with(&item(), "default_pack_size", json!("1"))),
        "default_pack_size",
    );
    assert_rejected(&judged("item", with(&item(), "is_vaccine", json!(0))), "is_vaccine");
    assert_rejected(
        &judged("item", with(&item(), "is_vaccine", json!("true"))),
        "is_vaccine",
    );
}

#[test]
fn plain_dates_refuse_datetimes_and_zero_dates() {
    assert_passes(&judged("period", period()));
    for bad in ["2023-01-01T00:00:00", "0000-00-00", "", "2023-02-30"] {
        assert_rejected(&judged("period", with(&period(), "startDate", json!(bad))), "startDate");
    }
    let invoice = with(&transfer("T_DATE"), "entry_date", json!("2021-07-30T00:00:00"));
    assert_rejected(&judged("transact", invoice), "entry_date");
}

#[test]
fn datetimes_need_t_and_no_zone() {
    let patient = |value: Value| with(&name("PAT1", "P1", "patient"), "om_created_datetime", value);
    assert_passes(&judged("name", patient(json!("2022-08-24T09:33:00"))));
    assert_passes(&judged("name", patient(json!("2022-08-24T09:33:00.123"))));
    assert_passes(&judged("name", patient(Value::Null)));
    assert_rejected(&judged("name", patient(json!("2022-08-24T09:33:00Z"))), "zone");
    assert_rejected(&judged("name", patient(json!("2022-08-24 09:33:00"))), "space");
}

#[test]
fn zero_dates_take_the_listed_forms_only() {
    let born = |value: Value| with(&name("PAT1", "P1", "patient"), "date_of_birth", value);
    for ok in [
        json!("0000-00-00"),
        json!(""),
        Value::Null,
        json!("2000-01-01"),
        json!("2000-01-01T00:00:00"),
    ] {
        assert_passes(&judged("name", born(ok)));
    }
    assert_rejected(&judged("name", born(json!("2000-01-01T00:00:00.000"))), "date_of_birth");
    assert_rejected(&judged("name", born(json!("not a date"))), "date_of_birth");
}

#[test]
fn times_not_in_integer_seconds_are_lost_silently() {
    let invoice = with(&transfer("T_TIME"), "entry_time", json!("13:04:06"));
    assert_silent_defect(&judged("transact", invoice), "time lost");
    let mut session = initialised();
    let moved = with(&location_movement(), "enter_time", json!(1000.0));
    let (_, verdicts) = sync(
        &mut session,
        &[("item_line", item_line("IL1")), ("location_movement", moved)],
    );
    assert_silent_defect(verdict_for(&verdicts, "LM1"), "time lost");
    assert_rejected(
        &judged("transact", without(&transfer("T_T"), "entry_time")),
        "key missing",
    );
}

#[test]
fn zero_f64_fields_take_numbers_only() {
    assert_passes(&judged(
        "transact",
        with(&transfer("T_Z"), "insuranceDiscountAmount", json!(0)),
    ));
    let null = with(&transfer("T_Z"), "insuranceDiscountAmount", Value::Null);
    assert_rejected(&judged("transact", null), "insuranceDiscountAmount");
    let text = with(&transfer("T_Z"), "insuranceDiscountRate", json!("2.5"));
    assert_rejected(&judged("transact", text), "insuranceDiscountRate");
}

#[test]
fn pref_string_fields_refuse_numbers() {
    assert_passes(&judged("pref", pref()));
    let mut number = pref();
    number["data"]["monthsLeadTime"] = json!(0);
    assert_rejected(&judged("pref", number), "data.monthsLeadTime");
    let mut null_bool = pref();
    null_bool["data"]["usesVaccineModule"] = Value::Null;
    assert_rejected(&judged("pref", null_bool), "data.usesVaccineModule");
    let other = with(&pref(), "item", json!("dashboard"));
    let verdict = judged("pref", other);
    assert_ignored(&verdict, "not store_preferences");
    assert_passes(&verdict);
}

#[test]
fn key_fields_must_be_present_even_when_empty() {
    let patient = name("PAT1", "P1", "patient");
    assert_passes(&judged("name", with(&patient, "om_gender", json!(""))));
    assert_passes(&judged("name", with(&patient, "om_gender", Value::Null)));
    assert_rejected(
        &judged("name", without(&patient, "om_gender")),
        "om_gender: key missing",
    );
    assert_rejected(&judged("name", without(&patient, "om_created_datetime")), "key missing");
    assert_rejected(
        &judged("store", without(&store(STORE_A, "NAME_A", SITE), "logo")),
        "logo",
    );
    let mut session = initialised();
    let (_, verdicts) = sync(
        &mut session,
        &[
            ("transact", transfer("T1")),
            ("trans_line", without(&trans_line("TL1", "T1"), "donor_id")),
            ("requisition", requisition("R1")),
            (
                "requisition_line",
                without(&requisition_line("RL1", "R1"), "om_snapshot_datetime"),
            ),
        ],
    );
    assert_rejected(verdict_for(&verdicts, "TL1"), "donor_id: key missing");
    assert_rejected(verdict_for(&verdicts, "RL1"), "om_snapshot_datetime: key missing");
}

#[test]
fn required_fields_refuse_null_and_options_refuse_wrong_types() {
    assert_rejected(&judged("item", with(&item(), "code", Value::Null)), "code: null");
    assert_rejected(&judged("item", without(&item(), "code")), "code: missing");
    let patient = name("PAT1", "P1", "patient");
    assert_passes(&judged("name", with(&patient, "margin", Value::Null)));
    assert_passes(&judged("name", without(&patient, "margin")));
    assert_rejected(&judged("name", with(&patient, "margin", json!(""))), "margin");
    assert_passes(&judged(
        "item",
        with(&item(), "an_unknown_key", json!({"any": "thing"})),
    ));
}

#[test]
fn enum_fields_refuse_values_outside_their_lists() {
    let cases: Vec<(&str, Value, &str)> = vec![
        ("item", with(&item(), "type_of", json!("stock")), "type_of"),
        (
            "store",
            with(&store(STORE_A, "NAME_A", SITE), "store_mode", json!("Store")),
            "store_mode",
        ),
        (
            "options",
            json!({"ID": "O2", "type": "wastage", "isActive": true, "title": "x"}),
            "type",
        ),
        (
            "name",
            with(&name("PAT1", "P1", "patient"), "om_gender", json!("F")),
            "om_gender",
        ),
        (
            "transact",
            with(&transfer("T_E1"), "om_status", json!("FINALISED")),
            "om_status",
        ),
        (
            "transact",
            with(&transfer("T_E2"), "om_type", json!("OUTBOUND")),
            "om_type",
        ),
        (
            "requisition",
            with(&requisition("R_E1"), "om_status", json!("SHIPPED")),
            "om_status",
        ),
        (
            "requisition",
            with(&requisition("R_E2"), "authorisationStatus", json!("ok")),
            "authorisationStatus",
        ),
        (
            "om_activity_log",
            with(&activity_log(), "type", json!("invoice_created")),
            "type",
        ),
        (
            "om_user_permission",
            with(&user_permission(), "permission", json!("Read")),
            "permission",
        ),
    ];
    for (table, record, field) in cases {
        assert_rejected(&judged(table, record), field);
    }
    assert_rejected(
        &judged("requisition", with(&requisition("R_S"), "status", json!("wp"))),
        "Unsupported requisition status",
    );
    let mut session = initialised();
    let breach = with(&temperature_breach("TB1"), "type", json!("COLD"));
    let (_, verdicts) = sync(&mut session, &[("sensor", sensor()), ("temperature_breach", breach)]);
    assert_rejected(verdict_for(&verdicts, "TB1"), "type");
    assert_passes(&judged("om_activity_log", activity_log()));
    assert_passes(&judged("om_user_permission", user_permission()));
    assert_passes(&judged(
        "transact",
        with(&transfer("T_AL"), "om_type", json!("INVENTORY_ADJUSTMENT")),
    ));
}

#[test]
fn empty_str_or_i32_reads_other_strings_as_zero() {
    let mut session = initialised();
    let mut settings = program();
    settings["programSettings"]["storeTags"]["a1"]["orderTypes"][0]["maxEmergencyOrders"] = json!("2");
    let (_, verdicts) = sync(&mut session, &[("list_master", settings)]);
    assert_silent_defect(&verdicts[0], "read as 0");
}

// §3: table semantics.

#[test]
fn a_list_without_inactive_becomes_inactive() {
    assert_passes(&judged("list_master", list_master()));
    assert_silent_defect(
        &judged("list_master", without(&list_master(), "inactive")),
        "becomes inactive",
    );
    assert_silent_defect(
        &judged("list_master", with(&list_master(), "inactive", Value::Null)),
        "inactive",
    );
}

#[test]
fn programs_need_settings_whose_tags_and_schedules_exist() {
    assert_passes(&judged("list_master", program()));
    for empty in [Value::Null, json!({}), json!(""), json!([])] {
        let verdict = judged("list_master", with(&program(), "programSettings", empty));
        assert_rejected(&verdict, "non-empty object");
    }
    assert_rejected(
        &judged("list_master", without(&program(), "programSettings")),
        "key missing",
    );
    let mut unknown_tag = program();
    let tag = unknown_tag["programSettings"]["storeTags"]["a1"].take();
    unknown_tag["programSettings"]["storeTags"] = json!({"b2": tag});
    assert_rejected(&judged("list_master", unknown_tag), "name_tag");
    let mut schedule = program();
    schedule["programSettings"]["storeTags"]["a1"]["periodScheduleName"] = json!("Weekly");
    assert_rejected(&judged("list_master", schedule), "periodSchedule");
    let mut order_type = program();
    order_type["programSettings"]["storeTags"]["a1"]["orderTypes"][0]["maxOrdersPerPeriod"] = json!(1.0);
    assert_rejected(&judged("list_master", order_type), "maxOrdersPerPeriod");
    let broken_but_not_program = with(&list_master(), "programSettings", json!({"storeTags": 5}));
    assert_rejected(
        &judged("list_master", broken_but_not_program),
        "programSettings.storeTags",
    );
}

#[test]
fn stores_of_the_site_must_be_active_on_it() {
    let mut session = Session::new(site());
    let (_, verdicts) = sync(
        &mut session,
        &[
            ("name", name("NAME_A", "STA", "store")),
            ("store", store(STORE_A, "NAME_A", 8)),
            ("name", name("NAME_C", "STC", "store")),
            ("store", store("STORE_C", "NAME_C", SITE)),
        ],
    );
    assert_silent_defect(verdict_for(&verdicts, STORE_A), "store not active on the site");
    assert_silent_defect(verdict_for(&verdicts, "STORE_C"), "/site does not list it");
}

#[test]
fn system_stores_and_stores_without_their_name_are_ignored() {
    let system = with(&store("HIS1", "NAME_B", 8), "code", json!("HIS"));
    let verdict = judged("store", system);
    assert_ignored(&verdict, "system store");
    assert_passes(&verdict);
    let nameless = judged("store", store("STORE_N", "", 8));
    assert_ignored(&nameless, "empty name_ID");
    assert_passes(&nameless);
    let orphan = judged("store", store("STORE_O", "NAME_UNKNOWN", 8));
    assert_ignored(&orphan, "not integrated");
    assert!(!orphan.passes());
}

#[test]
fn a_store_and_its_name_in_one_sync_integrate_in_dependency_order() {
    let mut session = initialised();
    let (defects, verdicts) = sync(
        &mut session,
        &[
            ("store", store("STORE_D", "NAME_D", 8)),
            ("name", name("NAME_D", "STD", "store")),
        ],
    );
    assert!(defects.is_empty(), "{defects:?}");
    assert!(verdicts.iter().all(Verdict::passes), "{verdicts:#?}");
}

#[test]
fn a_name_store_join_before_its_name_is_rejected() {
    let mut session = initialised();
    let (_, verdicts) = sync(
        &mut session,
        &[("name_store_join", name_store_join("NSJ_X", STORE_A, "NAME_X"))],
    );
    assert_rejected(&verdicts[0], "no such name");
    let (_, verdicts) = sync(&mut session, &[("name", name("NAME_X", "X", "facility"))]);
    assert_passes(&verdicts[0]);
}

#[test]
fn name_store_joins_inactive_become_deletes_and_own_names_are_ignored() {
    let inactive = with(&name_store_join("NSJ_A_B", STORE_A, "NAME_B"), "inactive", json!(true));
    assert_passes(&judged("name_store_join", inactive));
    let own = judged("name_store_join", name_store_join("NSJ_OWN", STORE_A, "NAME_A"));
    assert_ignored(&own, "own name");
    assert_passes(&own);
}

#[test]
fn a_trans_line_before_its_transact_across_syncs_is_rejected() {
    let mut session = initialised();
    let (defects, verdicts) = sync(&mut session, &[("trans_line", trans_line("TL1", "T1"))]);
    assert!(defects[0].contains("received before its transact"), "{defects:?}");
    assert_rejected(&verdicts[0], "Failed to get invoice");
    let (_, verdicts) = sync(&mut session, &[("transact", transfer("T1"))]);
    assert_passes(&verdicts[0]);
}

#[test]
fn a_trans_line_before_its_transact_in_one_sync_is_an_order_defect() {
    let mut session = initialised();
    let (defects, verdicts) = sync(
        &mut session,
        &[("trans_line", trans_line("TL1", "T1")), ("transact", transfer("T1"))],
    );
    assert_eq!(defects.len(), 1, "{defects:?}");
    assert!(
        defects[0].starts_with("trans_line TL1: received before its transact"),
        "{defects:?}"
    );
    assert!(verdicts.iter().all(Verdict::passes), "{verdicts:#?}");
    let (defects, _) = sync(&mut session, &[("trans_line", trans_line("TL2", "T1"))]);
    assert!(defects.is_empty(), "the header came in an earlier sync: {defects:?}");
}

#[test]
fn lines_of_requisitions_and_stocktakes_need_their_headers() {
    let mut session = initialised();
    let (defects, verdicts) = sync(
        &mut session,
        &[
            ("requisition_line", requisition_line("RL1", "R1")),
            ("Stock_take_lines", stocktake_line("SL1", "ST1")),
        ],
    );
    assert_eq!(defects.len(), 2, "{defects:?}");
    assert_rejected(verdict_for(&verdicts, "RL1"), "no such requisition");
    assert_rejected(verdict_for(&verdicts, "SL1"), "no such Stock_take");
    let (_, verdicts) = sync(
        &mut session,
        &[
            ("requisition", requisition("R1")),
            ("requisition_line", requisition_line("RL2", "R1")),
            ("Stock_take", stocktake("ST1")),
            ("Stock_take_lines", stocktake_line("SL2", "ST1")),
        ],
    );
    assert!(verdicts.iter().all(Verdict::passes), "{verdicts:#?}");
}

#[test]
fn a_record_id_reused_by_another_table_is_a_defect() {
    let mut session = initialised();
    let (defects, verdicts) = sync(
        &mut session,
        &[("transact", transfer("SHARED")), ("Stock_take", stocktake("SHARED"))],
    );
    assert!(
        defects.iter().any(|d| d.contains("reused by another table (transact)")),
        "{defects:?}"
    );
    assert_eq!(
        verdicts.len(),
        1,
        "the later record replaced the earlier: {verdicts:#?}"
    );
    assert_eq!(verdicts[0].table, "Stock_take");
}

#[test]
fn the_sites_own_invoice_resent_is_rejected() {
    let mut session = initialised();
    let (_, first) = sync(
        &mut session,
        &[("transact", transact("T_OWN")), ("transact", transfer("T_IN"))],
    );
    assert!(first.iter().all(Verdict::passes), "{first:#?}");
    let (_, again) = sync(
        &mut session,
        &[("transact", transact("T_OWN")), ("transact", transfer("T_IN"))],
    );
    assert_rejected(verdict_for(&again, "T_OWN"), "Owned invoice updates are not allowed");
    assert_passes(verdict_for(&again, "T_IN"));
}

#[test]
fn destination_copies_of_oms_invoices_for_the_sites_stores_are_defects() {
    let copy = |id: &str, store_id: &str| {
        let mut record = transact(id);
        record["store_ID"] = json!(store_id);
        record["name_ID"] = json!(if store_id == STORE_A { "NAME_B" } else { "NAME_A" });
        record["om_type"] = json!("OUTBOUND_SHIPMENT");
        record["om_status"] = json!("not even valid");
        record
    };
    assert_silent_defect(&judged("transact", copy("T_COPY", STORE_A)), "destination copy");
    assert_passes(&judged("transact", copy("T_COPY", STORE_B)));
}

#[test]
fn other_own_records_echoed_back_are_defects() {
    let mut session = initialised();
    let (_, first) = sync(&mut session, &[("item_line", item_line("IL1"))]);
    assert_passes(&first[0]);
    let (_, again) = sync(&mut session, &[("item_line", item_line("IL1"))]);
    assert_silent_defect(&again[0], "echoed back");
}

#[test]
fn invoices_need_their_store_name_and_a_home_currency() {
    assert_rejected(
        &judged("transact", with(&transfer("T1"), "store_ID", json!("NOPE"))),
        "Store not found",
    );
    assert_rejected(
        &judged("transact", with(&transfer("T1"), "name_ID", json!("NOPE"))),
        "name not found",
    );
    let no_currency = with(&transfer("T1"), "currency_ID", json!(""));
    assert_passes(&judged("transact", no_currency.clone()));
    let mut session = Session::new(site());
    let records: Vec<(&str, Value)> = central()
        .into_iter()
        .filter(|(table, _)| *table != "currency")
        .collect();
    let (_, verdicts) = sync(&mut session, &records);
    assert!(verdicts.iter().all(Verdict::passes), "{verdicts:#?}");
    let (_, verdicts) = sync(&mut session, &[("transact", no_currency)]);
    assert_rejected(&verdicts[0], "Home currency not found");
}

#[test]
fn invoices_and_lines_of_unknown_types_are_ignored() {
    let verdict = judged("transact", with(&transfer("T1"), "type", json!("bu")));
    assert_ignored(&verdict, "invoice type");
    assert_passes(&verdict);
    let dispensary = with(&with(&transfer("T2"), "mode", json!("dispensary")), "type", json!("si"));
    assert_ignored(&judged("transact", dispensary), "dispensary");
    let mut session = initialised();
    let line = with(&trans_line("TL1", "T1"), "type", json!("non_stock"));
    let (_, verdicts) = sync(&mut session, &[("transact", transfer("T1")), ("trans_line", line)]);
    assert_ignored(verdict_for(&verdicts, "TL1"), "line type");
}

#[test]
fn invoice_lines_need_an_active_item_unless_they_carry_its_code() {
    let mut session = initialised();
    let delete = element(Endpoint::Central, 500, "item", "Delete", &item());
    assert!(session.receive(Endpoint::Central, &[delete]).is_empty());
    assert!(session.integrate().iter().all(Verdict::passes));
    let coded = with(&trans_line("TL2", "T1"), "om_item_code", json!("AMX"));
    let (_, verdicts) = sync(
        &mut session,
        &[
            ("transact", transfer("T1")),
            ("trans_line", trans_line("TL1", "T1")),
            ("trans_line", coded),
        ],
    );
    assert_rejected(verdict_for(&verdicts, "TL1"), "inactive");
    assert_passes(verdict_for(&verdicts, "TL2"));
}

#[test]
fn temperature_records_without_any_date_abort_the_integration() {
    let mut session = initialised();
    let undated = with(
        &with(&temperature_log("TL_X"), "date", json!("0000-00-00")),
        "om_datetime",
        json!(""),
    );
    let (_, verdicts) = sync(&mut session, &[("sensor", sensor()), ("temperature_log", undated)]);
    assert!(
        matches!(verdict_for(&verdicts, "TL_X").outcome, Outcome::Aborts(_)),
        "{verdicts:#?}"
    );
    let report = session.report();
    assert_eq!((report.aborted_syncs, report.buffered), (1, 2), "{report}");
    // The next sync retries the same buffer; a corrected copy replaces the bad one.
    let dated = with(&temperature_log("TL_X"), "om_datetime", json!("2023-07-01T13:04:06"));
    let (_, verdicts) = sync(&mut session, &[("temperature_log", dated)]);
    assert!(verdicts.iter().all(Verdict::passes), "{verdicts:#?}");
    let breach = with(
        &with(&temperature_breach("TB1"), "start_date", Value::Null),
        "om_start_datetime",
        Value::Null,
    );
    let (_, verdicts) = sync(&mut session, &[("temperature_breach", breach)]);
    assert!(matches!(verdicts[0].outcome, Outcome::Aborts(_)), "{verdicts:#?}");
}

#[test]
fn requisition_timestamps_out_of_range_abort_and_om_datetimes_need_a_status() {
    assert_passes(&judged("requisition", requisition("R1")));
    let far = with(&requisition("R1"), "lastModifiedAt", json!(i64::MAX));
    assert!(matches!(judged("requisition", far).outcome, Outcome::Aborts(_)));
    let created = with(&requisition("R1"), "om_created_datetime", json!("2022-08-24T09:33:00"));
    assert_rejected(&judged("requisition", created.clone()), "om_status");
    let with_status = with(&with(&created, "om_status", json!("SENT")), "status", json!("wp"));
    assert_passes(&judged("requisition", with_status));
    let unknown_type = judged("requisition", with(&requisition("R1"), "type", json!("supply")));
    assert_ignored(&unknown_type, "requisition type");
    let empty_fields = with(&requisition("R1"), "oms_fields", json!(""));
    assert_rejected(&judged("requisition", empty_fields), "oms_fields");
}

#[test]
fn merges_need_both_ids_and_the_kept_row() {
    let merge = |table: &str, data: Value| {
        let mut session = initialised();
        let element = json!({"ID": 900, "tableName": table, "recordId": "M1", "action": "merge", "recordData": data});
        assert!(session.receive(Endpoint::Central, &[element]).is_empty());
        session.integrate().remove(0)
    };
    assert_passes(&merge(
        "item",
        json!({"mergeIdToKeep": "ITEM1", "mergeIdToDelete": "ITEM2"}),
    ));
    assert_passes(&merge(
        "name",
        json!({"mergeIdToKeep": "SUPPLIER", "mergeIdToDelete": "NAME_Z"}),
    ));
    assert_rejected(
        &merge("item", json!({"mergeIdToKeep": "ITEM9", "mergeIdToDelete": "ITEM1"})),
        "no such item",
    );
    assert_rejected(
        &merge("clinician", json!({"mergeIdToKeep": "CLIN1"})),
        "mergeIdToDelete",
    );
    let unit = merge("unit", json!({"mergeIdToKeep": "UNIT1", "mergeIdToDelete": "UNIT2"}));
    assert_ignored(&unit, "translator for record not found");
    assert_passes(&unit);
}

#[test]
fn deletes_follow_each_tables_support() {
    let mut session = initialised();
    let deletes = [
        element(Endpoint::Queued, 1, "item_line", "Delete", &json!({"ID": "IL1"})),
        element(
            Endpoint::Queued,
            2,
            "list_master_line",
            "delete",
            &json!({"ID": "LML1"}),
        ),
        element(Endpoint::Queued, 3, "list_master", "Delete", &json!({"ID": "LIST9"})),
    ];
    assert!(session.receive(Endpoint::Queued, &deletes).is_empty());
    let verdicts = session.integrate();
    assert_ignored(verdict_for(&verdicts, "IL1"), "translator for record not found");
    assert_eq!(verdict_for(&verdicts, "LML1").outcome, Outcome::Integrated);
    assert_ignored(verdict_for(&verdicts, "LIST9"), "not on the site");
    assert!(verdicts.iter().all(Verdict::passes), "{verdicts:#?}");
}

#[test]
fn tables_without_a_translator_are_ignored() {
    let verdict = judged("report", json!({"ID": "REP1", "title": "Stock"}));
    assert_ignored(&verdict, "no translator");
    assert_passes(&verdict);
}

#[test]
fn required_foreign_keys_must_resolve() {
    let cases: Vec<(&str, Value, &str)> = vec![
        (
            "item_line",
            with(&item_line("IL1"), "store_ID", json!("NOPE")),
            "store_ID",
        ),
        (
            "item_line",
            with(&item_line("IL1"), "item_ID", json!("NOPE")),
            "item_ID",
        ),
        (
            "item_line",
            with(&item_line("IL1"), "name_ID", json!("NOPE")),
            "name_ID",
        ),
        (
            "item_line",
            with(&item_line("IL1"), "donor_id", json!("NOPE")),
            "donor_id",
        ),
        (
            "list_master_line",
            with(&list_master_line(), "item_ID", json!("NOPE")),
            "item_ID",
        ),
        (
            "list_master_name_join",
            with(&list_master_name_join(), "list_master_ID", json!("NOPE")),
            "list_master_ID",
        ),
        (
            "list_master_name_join",
            with(&list_master_name_join(), "name_ID", json!("NOPE")),
            "name_ID",
        ),
        (
            "clinician_store_join",
            json!({"ID": "CSJ2", "store_ID": STORE_A, "prescriber_ID": "NOPE"}),
            "prescriber_ID",
        ),
        (
            "requisition",
            with(&requisition("R1"), "periodID", json!("NOPE")),
            "periodID",
        ),
    ];
    for (table, record, field) in cases {
        assert_rejected(&judged(table, record), field);
    }
    assert_passes(&judged("item_line", with(&item_line("IL1"), "name_ID", json!(""))));
    let unknown_list = judged(
        "list_master_line",
        with(&list_master_line(), "item_master_ID", json!("NOPE")),
    );
    assert_ignored(&unknown_list, "master list not on the site");
    assert_ignored(
        &judged(
            "list_master_name_join",
            with(&list_master_name_join(), "name_ID", json!("")),
        ),
        "empty",
    );
}

// §1.4, §1.5: envelopes.

#[test]
fn broken_envelopes_are_reported_and_not_buffered() {
    let mut session = initialised();
    let good = element(Endpoint::Central, 1000, "unit", "Insert", &unit());
    let cases = [
        (with(&good, "ID", json!("1001")), "is not an integer"),
        (with(&good, "action", json!("INSERT")), "is not Insert"),
        (with(&good, "tableName", json!(3)), "tableName"),
        (without(&good, "recordId"), "recordId"),
    ];
    for (broken, fragment) in cases {
        let defects = session.receive(Endpoint::Central, &[broken]);
        assert!(
            defects.len() == 1 && defects[0].contains(fragment),
            "{fragment}: {defects:?}"
        );
    }
    assert!(session.integrate().is_empty());
    let queued = element(Endpoint::Queued, 1, "unit", "Update", &unit());
    let defects = session.receive(Endpoint::Queued, &[with(&queued, "syncOutId", json!(1))]);
    assert!(defects[0].contains("syncOutId"), "{defects:?}");
}

#[test]
fn envelope_values_that_do_not_fail_the_page_are_still_defects() {
    let mut session = initialised();
    let good = element(Endpoint::Central, 1000, "unit", "Insert", &unit());
    let defects = session.receive(Endpoint::Central, &[with(&good, "recordId", json!("OTHER"))]);
    assert!(
        defects[0].contains("recordId differs from recordData.ID"),
        "{defects:?}"
    );
    let defects = session.receive(Endpoint::Central, &[with(&good, "ID", json!(1_u64 << 31))]);
    assert!(defects[0].contains("i32"), "{defects:?}");
    let defects = session.receive(Endpoint::Central, &[with(&good, "ID", json!(999))]);
    assert!(defects[0].contains("must ascend"), "{defects:?}");
    let text = with(
        &element(Endpoint::Queued, 5, "unit", "Update", &unit()),
        "recordData",
        json!("{}"),
    );
    let defects = session.receive(Endpoint::Queued, &[text]);
    assert!(defects[0].contains("not an object"), "{defects:?}");
    let verdicts = session.integrate();
    assert_rejected(verdict_for(&verdicts, "UNIT1"), "not an object");
}

// §4.2, §7 item 11: prerequisites.

fn missing_after(records: Vec<(&'static str, Value)>, site: Site) -> Vec<String> {
    let mut session = Session::new(site);
    sync(&mut session, &records);
    session.missing_prerequisites()
}

#[test]
fn a_complete_initialisation_lacks_nothing() {
    let mut session = initialised();
    let (_, verdicts) = sync(
        &mut session,
        &[("transact", transact("T1")), ("requisition", requisition("R1"))],
    );
    assert!(verdicts.iter().all(Verdict::passes), "{verdicts:#?}");
    assert!(
        session.missing_prerequisites().is_empty(),
        "{:?}",
        session.missing_prerequisites()
    );
    assert!(session.report().passes(), "{}", session.report());
}

#[test]
fn each_missing_prerequisite_is_named() {
    let mut records = central();
    records.extend(site_joins());
    let without_tables = |skip: &[&str]| -> Vec<(&'static str, Value)> {
        records
            .iter()
            .filter(|(table, record)| !skip.contains(table) && !skip.contains(&record["ID"].as_str().unwrap_or("")))
            .cloned()
            .collect()
    };
    let invoice = ("transact", with(&transact("T1"), "currency_ID", json!("")));
    let mut no_currency = without_tables(&["currency"]);
    no_currency.push(invoice.clone());
    assert!(missing_after(no_currency, site())
        .iter()
        .any(|m| m.contains("no home currency")));
    assert!(missing_after(without_tables(&["invad"]), site())
        .iter()
        .any(|m| m.contains("invad")));
    let two_stores = Site {
        site_id: SITE,
        own_stores: vec![STORE_A.into(), "STORE_MISSING".into()],
    };
    assert!(missing_after(without_tables(&[]), two_stores)
        .iter()
        .any(|m| m.contains("STORE_MISSING")));
    let mut inactive = without_tables(&[STORE_A]);
    inactive.push(("store", store(STORE_A, "NAME_A", 8)));
    assert!(missing_after(inactive, site())
        .iter()
        .any(|m| m.contains("does not make it active")));
    let no_list = missing_after(without_tables(&["list_master_name_join"]), site());
    assert!(
        no_list.iter().any(|m| m.contains("list_master_name_join")),
        "{no_list:?}"
    );
    let mut foreign = without_tables(&[STORE_B]);
    foreign.push(("transact", with(&transfer("T2"), "name_ID", json!("NAME_A"))));
    let foreign = missing_after(foreign, site());
    assert!(
        foreign.iter().any(|m| m.contains("store STORE_B: named by an invoice")),
        "{foreign:?}"
    );
    let mut no_join = without_tables(&["NSJ_A_B"]);
    no_join.push(("transact", transact("T3")));
    let no_join = missing_after(no_join, site());
    assert!(
        no_join.iter().any(|m| m.contains("no name_store_join to name NAME_B")),
        "{no_join:?}"
    );
}

#[test]
fn the_report_totals_outcomes_and_lists_failures() {
    let mut session = initialised();
    sync(
        &mut session,
        &[
            ("unit", with(&unit(), "order_number", json!(1.0))),
            ("report", json!({"ID": "R"})),
        ],
    );
    let report = session.report();
    assert_eq!(report.rejected, 1);
    assert_eq!(report.failures(), 1);
    assert!(!report.passes());
    let text = report.to_string();
    assert!(text.contains("unit UNIT1: rejected: order_number"), "{text}");
}
