//! One element of a pull page (§1.4, §1.5): `ID` (an integer, central) or `syncOutId` (a string,
//! queued), `tableName`, `recordId`, `action` (`Insert`/`Update`/`Delete`/`Merge` or lower case)
//! and `recordData` (an object, or absent for `{}`). A broken key is a parse error that fails the
//! whole page, so such an element is not buffered; a broken `recordData` fails only the record.

use serde_json::{Map, Value};

use crate::kinds::shown;
use crate::Endpoint;

/// What an element asks the remote to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Action {
    /// `Insert` or `Update`: both upsert.
    Upsert,
    Delete,
    Merge,
}

/// An element that parsed.
#[derive(Clone, Debug)]
pub(crate) struct Element {
    pub(crate) table: String,
    pub(crate) record_id: String,
    /// `action` as sent.
    pub(crate) action_text: String,
    pub(crate) action: Action,
    /// `recordData` as sent, `{}` when absent.
    pub(crate) data: Value,
    /// The central change-log `ID`.
    pub(crate) change_id: Option<u64>,
}

impl Element {
    /// The row's own ID: `recordData.ID` when it is a string, else `recordId`.
    pub(crate) fn row_id(&self) -> &str {
        self.data.get("ID").and_then(Value::as_str).unwrap_or(&self.record_id)
    }
}

/// Reads one element. `Err` holds the parse errors (the element is lost with its page); `Ok` holds
/// the element and the rules it breaks without failing the page.
pub(crate) fn read(endpoint: Endpoint, value: &Value, position: usize) -> Result<(Element, Vec<String>), Vec<String>> {
    let Value::Object(element) = value else {
        return Err(vec![format!(
            "element #{position}: not a JSON object (a parse error that fails the whole page)"
        )]);
    };
    let table = element.get("tableName").and_then(Value::as_str);
    let record_id = element.get("recordId").and_then(Value::as_str);
    let label = format!(
        "{} {}",
        table.unwrap_or("?"),
        record_id.map_or_else(|| format!("(element #{position})"), str::to_string)
    );
    let mut errors = Vec::new();
    let mut defects = Vec::new();
    let fails = "a parse error that fails the whole page";
    let change_id = match endpoint {
        Endpoint::Central => match element.get("ID") {
            Some(id) if id.as_u64().is_some() => id.as_u64(),
            other => {
                errors.push(format!(
                    "{label}: ID {} is not an integer ({fails})",
                    shown_or_missing(other)
                ));
                None
            }
        },
        Endpoint::Queued => {
            if !element.get("syncOutId").is_some_and(Value::is_string) {
                let found = shown_or_missing(element.get("syncOutId"));
                errors.push(format!("{label}: syncOutId {found} is not a string ({fails})"));
            }
            None
        }
    };
    if let Some(id) = change_id.filter(|id| *id >= 1 << 31) {
        defects.push(format!(
            "{label}: ID {id} is 2^31 or more, but the remote stores its cursor as an i32"
        ));
    }
    if table.is_none() {
        let found = shown_or_missing(element.get("tableName"));
        errors.push(format!("{label}: tableName {found} is not a string ({fails})"));
    }
    if record_id.is_none() {
        let found = shown_or_missing(element.get("recordId"));
        errors.push(format!("{label}: recordId {found} is not a string ({fails})"));
    }
    let action_text = element.get("action").and_then(Value::as_str);
    let action = match action_text {
        Some("Insert" | "insert" | "Update" | "update") => Some(Action::Upsert),
        Some("Delete" | "delete") => Some(Action::Delete),
        Some("Merge" | "merge") => Some(Action::Merge),
        _ => {
            let found = shown_or_missing(element.get("action"));
            errors.push(format!(
                "{label}: action {found} is not Insert, Update, Delete or Merge (or lower case) ({fails})"
            ));
            None
        }
    };
    let (Some(table), Some(record_id), Some(action), Some(action_text), true) =
        (table, record_id, action, action_text, errors.is_empty())
    else {
        return Err(errors);
    };
    let data = element
        .get("recordData")
        .cloned()
        .unwrap_or_else(|| Value::Object(Map::new()));
    match (&data, action) {
        (Value::Object(_), _) | (Value::Null, Action::Delete) => {}
        (Value::Null, _) => defects.push(format!("{label}: recordData is null (it must be an object)")),
        (other, _) => defects.push(format!("{label}: recordData {} is not an object", shown(other))),
    }
    if record_id.is_empty() {
        defects.push(format!("{label}: recordId is empty"));
    }
    if action != Action::Merge {
        if let Some(id) = data.get("ID").and_then(Value::as_str).filter(|id| *id != record_id) {
            defects.push(format!(
                "{label}: recordId differs from recordData.ID {id:?} (deletes use recordId)"
            ));
        }
    }
    let element = Element {
        table: table.to_string(),
        record_id: record_id.to_string(),
        action_text: action_text.to_string(),
        action,
        data,
        change_id,
    };
    Ok((element, defects))
}

fn shown_or_missing(value: Option<&Value>) -> String {
    value.map_or_else(|| "missing".to_string(), shown)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn central_elements_need_an_integer_id() {
        let good =
            json!({"ID": 7, "tableName": "unit", "recordId": "U", "action": "insert", "recordData": {"ID": "U"}});
        let (element, defects) = read(Endpoint::Central, &good, 0).unwrap_or_else(|e| panic!("{e:?}"));
        assert!(defects.is_empty() && element.change_id == Some(7) && element.action == Action::Upsert);
        let bad = json!({"ID": "7", "tableName": "unit", "recordId": "U", "action": "Insert"});
        assert!(read(Endpoint::Central, &bad, 0).is_err_and(|e| e[0].contains("ID \"7\" is not an integer")));
    }

    #[test]
    fn queued_elements_need_a_string_sync_out_id_and_a_known_action() {
        let bad = json!({"syncOutId": 3, "tableName": "unit", "recordId": "U", "action": "UPSERT"});
        let errors = read(Endpoint::Queued, &bad, 0).err().unwrap_or_default();
        assert_eq!(errors.len(), 2, "{errors:?}");
        let delete =
            json!({"syncOutId": "3", "tableName": "unit", "recordId": "U", "action": "Delete", "recordData": null});
        assert!(read(Endpoint::Queued, &delete, 0).is_ok_and(|(_, defects)| defects.is_empty()));
    }

    #[test]
    fn record_id_must_be_the_rows_id() {
        let element = json!({"syncOutId": "1", "tableName": "unit", "recordId": "U", "action": "Update", "recordData": {"ID": "V"}});
        let (element, defects) = read(Endpoint::Queued, &element, 0).unwrap_or_else(|e| panic!("{e:?}"));
        assert!(defects[0].contains("recordId differs"), "{defects:?}");
        assert_eq!(element.row_id(), "V");
    }
}
