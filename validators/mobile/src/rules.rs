//! Type-specific rules of the writing step that are not a single field's parser: the own store's
//! settings, the pack sizes of a transaction line, a temperature log's timestamp, the code lists of the
//! translators, and the 2017 app's required dates and its inability to take requisitions.

use serde_json::{Map, Value};

use crate::dates::ZERO_DATE;
use crate::findings::{Findings, Stage};
use crate::parsers::{describe, truthy};
use crate::state::DeviceState;
use crate::tables::{Table, CODE_FIELDS};
use crate::{v2017, Client, Device};

pub(crate) fn check(
    device: &Device,
    state: &DeviceState,
    table: &Table,
    data: &Map<String, Value>,
    own_store: bool,
    f: &mut Findings,
) {
    match table.record_type {
        "store" if own_store => store_settings(state, data, f),
        "trans_line" if device.client == Client::Head => pack_sizes(data, f),
        "temperature_log" => temperature_timestamp(data, f),
        "requisition_line" if device.client == Client::V2017 => {
            f.defect("requisition_line sent to a 2017 device: its requisitions cannot be (they crash it)");
        }
        _ => {}
    }
    codes(device.client, table.record_type, data, f);
    if device.client == Client::V2017 {
        required_dates(table.record_type, data, f);
    }
}

/// The own store record's `tags` and `code` become settings: on the first receipt there is no earlier
/// value to keep, and a null or non-string value is refused at any time.
fn store_settings(state: &DeviceState, data: &Map<String, Value>, f: &mut Findings) {
    let mut missing = Vec::new();
    for key in ["tags", "code"] {
        match data.get(key) {
            Some(Value::String(_)) => {}
            None if state.own_store_record => missing.push(key),
            None => f.crashed(
                Stage::Write,
                format!("{key} missing on the first receipt of the device's own store record (crash: the setting has no value)"),
            ),
            Some(other) => f.crashed(Stage::Write, format!("{key} is {}: the setting must be a string (crash)", describe(other))),
        }
    }
    if !missing.is_empty() {
        f.defect(format!(
            "partial row: missing {} (an update must carry the full row)",
            missing.join(", ")
        ));
    }
}

/// The sent pack size falls back to the pack size; with both blank the line cannot be written.
fn pack_sizes(data: &Map<String, Value>, f: &mut Findings) {
    if !truthy(data.get("pack_size")) && !truthy(data.get("sent_pack_size")) {
        f.crashed(Stage::Write, "pack_size and sent_pack_size both blank (crash)");
    }
}

/// A temperature log's timestamp has no default, so "no date" cannot be stored.
fn temperature_timestamp(data: &Map<String, Value>, f: &mut Findings) {
    if let Some(Value::String(date)) = data.get("date") {
        if date == ZERO_DATE || date == "0000-00-00T00:00:00Z" {
            f.crashed(
                Stage::Write,
                "date: the zero date leaves the log's timestamp without a value (crash)",
            );
        }
    }
}

/// Translated codes: HEAD leaves the old value for a code it does not know; 2017 crashes on it.
fn codes(client: Client, record_type: &str, data: &Map<String, Value>, f: &mut Findings) {
    let lists = match client {
        Client::Head => CODE_FIELDS,
        Client::V2017 => v2017::CODE_FIELDS,
    };
    for (_, field, codes) in lists.iter().filter(|(t, _, _)| *t == record_type) {
        let Some(Value::String(code)) = data.get(*field) else {
            continue;
        };
        if codes.contains(&code.as_str()) {
            continue;
        }
        let known = codes.join(" ");
        match client {
            Client::Head => f.defect(format!(
                "{field}: {code:?} is not one of {known} (the app leaves the {field} unchanged; new rows get a placeholder)"
            )),
            Client::V2017 => f.crashed(
                Stage::Write,
                format!("{field}: {code:?} is not one of {known}, and the 2017 translator finds no match (crash)"),
            ),
        }
    }
}

/// 2017 stores these dates in required properties: no date gives null, which crashes.
fn required_dates(record_type: &str, data: &Map<String, Value>, f: &mut Findings) {
    for (_, field) in v2017::REQUIRED_DATES.iter().filter(|(t, _)| *t == record_type) {
        if let Some(Value::String(date)) = data.get(*field) {
            if date.is_empty() || date == ZERO_DATE {
                f.crashed(
                    Stage::Write,
                    format!("{field}: the 2017 app needs a real date here (no date crashes)"),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tables::lookup;
    use crate::Outcome;
    use serde_json::json;

    fn judge(client: Client, record_type: &str, data: Value, state: &DeviceState) -> (Outcome, Vec<String>) {
        let device = Device::new(client, "S", "N");
        let mut findings = Findings::default();
        if let (Some(table), Some(data)) = (lookup(record_type), data.as_object()) {
            check(&device, state, table, data, true, &mut findings);
        }
        findings.finish()
    }

    #[test]
    fn the_first_own_store_record_needs_tags() {
        let fresh = DeviceState::default();
        assert!(matches!(
            judge(Client::Head, "store", json!({"code": "S"}), &fresh).0,
            Outcome::Crash(_)
        ));
        let known = DeviceState {
            own_store_record: true,
            ..DeviceState::default()
        };
        let (outcome, defects) = judge(Client::Head, "store", json!({"code": "S"}), &known);
        assert!(outcome == Outcome::Integrated && defects[0].contains("partial row"));
        assert!(matches!(
            judge(Client::Head, "store", json!({"code": "S", "tags": null}), &known).0,
            Outcome::Crash(_)
        ));
    }

    #[test]
    fn unknown_codes_are_defects_on_head_and_crashes_on_2017() {
        let state = DeviceState::default();
        let bu = json!({"type": "bu", "status": "nw"});
        assert_eq!(
            judge(Client::Head, "transact", bu.clone(), &state),
            (Outcome::Integrated, vec![])
        );
        assert!(matches!(
            judge(Client::V2017, "transact", bu, &state).0,
            Outcome::Crash(_)
        ));
        let (outcome, defects) = judge(Client::Head, "name", json!({"type": "customer"}), &state);
        assert!(outcome == Outcome::Integrated && defects.len() == 1);
    }

    #[test]
    fn the_2017_app_needs_real_entry_dates() {
        let state = DeviceState::default();
        let row = json!({"type": "ci", "status": "fn", "entry_date": ZERO_DATE});
        assert!(matches!(
            judge(Client::V2017, "transact", row.clone(), &state).0,
            Outcome::Crash(_)
        ));
        assert_eq!(judge(Client::Head, "transact", row, &state).0, Outcome::Integrated);
    }
}
