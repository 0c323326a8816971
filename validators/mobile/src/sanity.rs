//! The app's sanity check (steps 6 to 9): the row ID, the types it always drops, and the two lists of
//! each type — "cannot be blank" (a non-empty string) and "can be blank" (present, not null). The check
//! looks at nothing else: it parses no numbers or dates.

use serde_json::{Map, Value};

use crate::findings::{Findings, Stage};
use crate::parsers::{describe, truthy};
use crate::tables::{Fate, Table};
use crate::{v2017, Client};

/// Runs the check; returns the fields that failed it, so that the later steps do not report them twice.
pub(crate) fn check(table: &Table, data: &Map<String, Value>, client: Client, f: &mut Findings) -> Vec<&'static str> {
    check_id(data.get("ID"), f);
    let fate = match client {
        Client::Head => table.fate,
        Client::V2017 => v2017::fate(table),
    };
    if fate == Fate::AlwaysDropped {
        f.dropped(
            Stage::Sanity,
            format!(
                "{} records are always dropped by the app: do not send them",
                table.record_type
            ),
        );
        return Vec::new();
    }
    let (non_blank, present) = match client {
        Client::Head => (table.non_blank.to_vec(), table.present.to_vec()),
        Client::V2017 => (
            v2017::sanity_list(table, table.non_blank),
            v2017::sanity_list(table, table.present),
        ),
    };
    let mut failed = Vec::new();
    for field in non_blank {
        if let Some(problem) = blank(data.get(field)) {
            failed.push(field);
            if client == Client::V2017 && data.get(field).is_none() {
                // The 2017 check reads the length of the missing value, which throws.
                f.crashed(
                    Stage::Sanity,
                    format!("{field} missing: the 2017 sanity check throws on a missing key (crash)"),
                );
            } else {
                f.dropped(
                    Stage::Sanity,
                    format!("{field} {problem}: it cannot be blank (dropped)"),
                );
            }
        }
    }
    for field in present {
        match data.get(field) {
            None => f.dropped(
                Stage::Sanity,
                format!("{field} missing: it must be present, \"\" allowed (dropped)"),
            ),
            Some(Value::Null) => f.dropped(Stage::Sanity, format!("{field} is null: it must be present (dropped)")),
            Some(_) => continue,
        }
        failed.push(field);
    }
    failed
}

/// The first test of the check: the ID must be truthy with a length, and Realm then needs a string.
fn check_id(id: Option<&Value>, f: &mut Findings) {
    match id {
        Some(Value::String(s)) if !s.is_empty() => {}
        Some(Value::Array(items)) if !items.is_empty() => {
            f.crashed(Stage::Write, "data.ID is a json array: ids must be strings (crash)");
        }
        Some(other) if truthy(Some(other)) && !other.is_array() => {
            // Numbers and booleans have no length, so they pass the first test and crash in the write.
            f.crashed(
                Stage::Write,
                format!("data.ID is {}: ids must be strings (crash)", describe(other)),
            );
        }
        _ => f.dropped(Stage::Sanity, "data.ID missing or blank (dropped)"),
    }
}

/// Why a value fails "cannot be blank", if it does: it must have a length above zero.
fn blank(value: Option<&Value>) -> Option<String> {
    match value {
        Some(Value::String(s)) if !s.is_empty() => None,
        Some(Value::Array(items)) if !items.is_empty() => None,
        None => Some("missing".to_string()),
        Some(Value::String(_)) => Some("is blank".to_string()),
        Some(other) => Some(format!("is {}", describe(other))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tables::lookup;
    use crate::Outcome;
    use serde_json::json;

    fn judge(record_type: &str, data: Value, client: Client) -> (Outcome, Vec<&'static str>) {
        let mut findings = Findings::default();
        let table =
            lookup(record_type).map(|t| check(t, data.as_object().unwrap_or(&Map::new()), client, &mut findings));
        (findings.finish().0, table.unwrap_or_default())
    }

    #[test]
    fn json_booleans_in_non_blank_fields_are_dropped() {
        let name = json!({"ID": "N", "type": "store", "customer": true, "supplier": "true", "manufacturer": "false",
            "name": "X", "code": "X"});
        let (outcome, failed) = judge("name", name, Client::Head);
        assert!(matches!(outcome, Outcome::Dropped(_)) && failed == vec!["customer"]);
    }

    #[test]
    fn present_fields_may_be_blank_but_not_null() {
        let item = json!({"ID": "I", "code": "C", "item_name": "N", "default_pack_size": "", "doses": null});
        let (outcome, failed) = judge("item", item, Client::Head);
        assert!(matches!(outcome, Outcome::Dropped(reason) if reason.contains("doses")) && failed == vec!["doses"]);
    }

    #[test]
    fn a_number_id_crashes_and_a_blank_one_drops() {
        let unit = |id: Value| json!({"ID": id, "units": "tab", "comment": "", "order_number": "1"});
        assert!(matches!(
            judge("unit", unit(json!(5)), Client::Head).0,
            Outcome::Crash(_)
        ));
        assert!(matches!(
            judge("unit", unit(json!("")), Client::Head).0,
            Outcome::Dropped(_)
        ));
    }

    #[test]
    fn the_2017_check_throws_on_a_missing_key_but_drops_a_null() {
        let missing = json!({"ID": "N", "type": "patient", "name": "X", "code": "X"});
        assert!(matches!(
            judge("name", missing.clone(), Client::V2017).0,
            Outcome::Crash(_)
        ));
        assert!(matches!(judge("name", missing, Client::Head).0, Outcome::Dropped(_)));
        let null = json!({"ID": "N", "type": "patient", "customer": null, "supplier": "x", "manufacturer": "x",
            "name": "X", "code": "X"});
        assert!(matches!(judge("name", null, Client::V2017).0, Outcome::Dropped(_)));
    }

    #[test]
    fn push_only_types_are_always_dropped() {
        assert!(matches!(
            judge("message", json!({"ID": "M"}), Client::Head).0,
            Outcome::Dropped(_)
        ));
    }
}
