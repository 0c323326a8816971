//! Store scoping and the other filters the app applies after the sanity check (step 10): records of
//! another store, `number` records, `pref` items other than store preferences, requisitions in a status
//! the app cannot translate. Types the app does not filter must still be the device store's: the
//! server has to filter them.

use serde_json::{Map, Value};

use crate::findings::{Findings, Stage};
use crate::parsers::describe;
use crate::state::DeviceState;
use crate::tables::{Scope, Table, REQUISITION_STATUSES, STORE_PREFERENCES};
use crate::{v2017, Client, Device};

/// Applies the filters; returns whether the record concerns the device's own store.
pub(crate) fn apply(
    device: &Device,
    state: &DeviceState,
    table: &Table,
    data: &Map<String, Value>,
    f: &mut Findings,
) -> bool {
    let record_type = table.record_type;
    if device.client == Client::V2017 && record_type == "requisition" {
        // Every requisition that passes the 2017 check calls a database method that does not exist.
        f.crashed(
            Stage::Filter,
            "requisition records crash the 2017 app: never send them to a 2017 device",
        );
        return false;
    }
    let own_store = scope(device, table, data, f);
    match record_type {
        "number" => number(device, state, data, f),
        "pref" if data.get("item").and_then(Value::as_str) != Some(STORE_PREFERENCES) => {
            f.ignored_allowed(
                Stage::Filter,
                "a pref whose item is not store_preferences is not used by the app",
            );
        }
        "requisition" => {
            let status = data.get("status").and_then(Value::as_str).unwrap_or_default();
            if !REQUISITION_STATUSES.contains(&status) {
                f.ignored(
                    Stage::Filter,
                    format!("requisition status {status:?} is not sg, fn or cn: the app discards it"),
                );
            }
        }
        _ => {}
    }
    own_store
}

fn scope(device: &Device, table: &Table, data: &Map<String, Value>, f: &mut Findings) -> bool {
    let record_type = table.record_type;
    match table.scope {
        Scope::Any => true,
        // The 2017 app has no store filter on stock: another store's batch becomes this device's stock.
        Scope::Filtered(key) if device.client == Client::V2017 && record_type == "item_line" => {
            let own = is_own(device, data.get(key));
            if !own && data.get(key).is_some() {
                f.defect(format!(
                    "another store's item_line ({key} {}): the 2017 app integrates it as this device's stock",
                    shown(data.get(key))
                ));
            }
            true
        }
        Scope::Filtered(key) => {
            let own = is_own(device, data.get(key));
            if !own {
                let reason = match data.get(key) {
                    None | Some(Value::Null) => {
                        format!("{key} missing: the app ignores a {record_type} without its store")
                    }
                    value => format!(
                        "another store's {record_type} ({key} {}{}): the server must send only the device store's",
                        shown(value),
                        case_note(device, value)
                    ),
                };
                f.ignored(Stage::Filter, reason);
            }
            own
        }
        Scope::StoreRecord => {
            let own = is_own(device, data.get("ID"));
            if !own {
                if case_note(device, data.get("ID")).is_empty() {
                    f.ignored_allowed(Stage::Filter, "the store record of another store is not read");
                } else {
                    f.ignored(
                        Stage::Filter,
                        format!(
                            "store ID{}: the device's own store record is ignored",
                            case_note(device, data.get("ID"))
                        ),
                    );
                }
            }
            own
        }
        Scope::Join => is_own(device, data.get("store_ID")),
        Scope::ServerFiltered(keys) => {
            let foreign = keys.iter().find_map(|key| match data.get(*key) {
                Some(Value::String(s)) if !s.is_empty() && *s != device.store_id => Some((*key, s)),
                _ => None,
            });
            let relevant = record_type != "pref" || data.get("item").and_then(Value::as_str) == Some(STORE_PREFERENCES);
            if let (Some((key, store)), true) = (foreign, relevant) {
                f.defect(format!(
                    "another store's {record_type} ({key} {store:?}{}): the app does not filter {record_type}, the server must",
                    case_note(device, data.get(key))
                ));
            }
            foreign.is_none()
        }
    }
}

/// HEAD keeps no server sequences; 2017 takes the first record of each of its own legacy sequences.
fn number(device: &Device, state: &DeviceState, data: &Map<String, Value>, f: &mut Findings) {
    if device.client == Client::Head {
        f.ignored_allowed(Stage::Filter, "number records are not used by the app");
        return;
    }
    let name = data.get("name").and_then(Value::as_str).unwrap_or_default();
    let own_sequence = v2017::SEQUENCE_PREFIXES
        .iter()
        .any(|prefix| name.strip_prefix(prefix) == Some(device.store_id.as_str()));
    if !own_sequence {
        f.ignored_allowed(
            Stage::Filter,
            "a number record that is not one of the device store's legacy sequences",
        );
    } else if state.sequences.contains(name) {
        f.ignored_allowed(Stage::Filter, "the device already has this number sequence");
    }
}

fn is_own(device: &Device, value: Option<&Value>) -> bool {
    value.and_then(Value::as_str) == Some(device.store_id.as_str())
}

fn shown(value: Option<&Value>) -> String {
    value.map(describe).unwrap_or_default()
}

/// Says so when a store ID differs from the device's only in case: IDs are compared byte for byte.
fn case_note(device: &Device, value: Option<&Value>) -> &'static str {
    match value.and_then(Value::as_str) {
        Some(s) if s != device.store_id && s.eq_ignore_ascii_case(&device.store_id) => {
            ", the device's store in another case: ids are compared exactly"
        }
        _ => "",
    }
}
