//! JSON documents the app parses out of text fields: the store preferences of a `pref` record and the
//! `json` of a dashboard report. The generic rule for JSON text fields is in `parsers.rs`.

use serde_json::{Map, Value};

use crate::findings::{Findings, Stage};
use crate::tables::{Table, BOOLEAN_PREFERENCES, CHART_REPORTS, NUMBER_PREFERENCES};

pub(crate) fn check(table: &Table, data: &Map<String, Value>, f: &mut Findings) {
    match table.record_type {
        "pref" => preferences(data, f),
        "dashboard_store_report" => report(data, f),
        _ => {}
    }
}

/// Each key of the object becomes one preference; text that does not parse is silently ignored, and
/// the app reads flags as JSON booleans and counts as JSON numbers.
fn preferences(data: &Map<String, Value>, f: &mut Findings) {
    let Some(Value::String(text)) = data.get("data") else {
        return;
    };
    let preferences = match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(preferences)) => preferences,
        Ok(_) => return f.defect("data: not a json object as text (the app keeps no preferences from it)"),
        Err(_) => return f.defect("data: not valid json text (the app silently ignores the preferences)"),
    };
    for (key, value) in &preferences {
        if BOOLEAN_PREFERENCES.contains(&key.as_str()) && !value.is_boolean() {
            f.defect(format!("data: preference {key} must be a json boolean (anything else, the string \"true\" too, reads as false)"));
        }
        if NUMBER_PREFERENCES.contains(&key.as_str()) && !value.as_f64().is_some_and(|n| n >= 0.0) {
            f.defect(format!(
                "data: preference {key} must be a json number of at least 0 (a string reads as 0)"
            ));
        }
    }
}

/// The report's `json` must parse; tables and charts need their shape (else the report is ignored), and
/// every other type at least a `data` member (else the write throws).
fn report(data: &Map<String, Value>, f: &mut Findings) {
    let Some(Value::String(text)) = data.get("json") else {
        return;
    };
    let Ok(document) = serde_json::from_str::<Value>(text) else {
        return f.crashed(Stage::Write, "json: not valid json text (crash)");
    };
    let report_type = data.get("type").and_then(Value::as_str).unwrap_or_default();
    let content = document.get("data");
    if report_type == "Table" {
        let header = content.and_then(|c| c.get("header")).and_then(Value::as_array);
        let rows = content.and_then(|c| c.get("rows")).and_then(Value::as_array);
        let header_ok = header.is_some_and(|h| h.iter().all(Value::is_string));
        let rows_ok = rows.is_some_and(|r| r.iter().all(Value::is_array));
        if !(header_ok && rows_ok) {
            f.ignored(
                Stage::Write,
                "json: a Table report needs data.header (strings) and data.rows (arrays): ignored",
            );
        }
    } else if CHART_REPORTS.contains(&report_type) {
        let series_ok = content
            .and_then(Value::as_array)
            .is_some_and(|series| series.iter().all(chart_series));
        if document.get("name").is_none() || !series_ok {
            f.ignored(
                Stage::Write,
                format!("json: a {report_type} report needs name and data = [{{label, values: [{{x, y}}]}}]: ignored"),
            );
        }
    } else if content.is_none() {
        f.crashed(
            Stage::Write,
            format!("json: a {report_type} report without a data member (crash)"),
        );
    }
}

fn chart_series(series: &Value) -> bool {
    let points = series.get("values").and_then(Value::as_array);
    series.get("label").is_some()
        && points.is_some_and(|p| p.iter().all(|v| v.get("x").is_some() && v.get("y").is_some()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tables::lookup;
    use crate::Outcome;
    use serde_json::json;

    fn judge(record_type: &str, data: Value) -> (Outcome, Vec<String>) {
        let mut findings = Findings::default();
        if let (Some(table), Some(data)) = (lookup(record_type), data.as_object()) {
            check(table, data, &mut findings);
        }
        findings.finish()
    }

    #[test]
    fn preferences_have_typed_values() {
        let fine = json!({"data": "{\"usesVaccineModule\":false,\"monthsLeadTime\":1}"});
        assert_eq!(judge("pref", fine), (Outcome::Integrated, vec![]));
        let strings = json!({"data": "{\"usesVaccineModule\":\"true\",\"monthsLeadTime\":\"3\"}"});
        assert_eq!(judge("pref", strings).1.len(), 2);
        assert_eq!(judge("pref", json!({"data": "{oops"})).1.len(), 1);
    }

    #[test]
    fn reports_need_their_shape() {
        let table = json!({"type": "Table", "json": "{\"data\":{\"header\":[\"a\"],\"rows\":[[1]]}}"});
        assert_eq!(judge("dashboard_store_report", table).0, Outcome::Integrated);
        let bad_chart = json!({"type": "BarChart", "json": "{\"name\":\"x\",\"data\":[{\"label\":\"a\"}]}"});
        assert!(matches!(
            judge("dashboard_store_report", bad_chart).0,
            Outcome::Ignored(_)
        ));
        let other = json!({"type": "Summary", "json": "{\"title\":\"x\"}"});
        assert!(matches!(judge("dashboard_store_report", other).0, Outcome::Crash(_)));
        let unparsable = json!({"type": "Table", "json": "not json"});
        assert!(matches!(
            judge("dashboard_store_report", unparsable).0,
            Outcome::Crash(_)
        ));
    }
}
