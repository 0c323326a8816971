//! Deletes and merges. A delete uses `recordId` only; a table whose translators take no delete
//! marks it "translator for record not found", which is harmless (§1.8). A merge (`name`, `item`,
//! `clinician`) carries `mergeIdToKeep` and `mergeIdToDelete`, and the kept row must exist.

use serde_json::Value;

use crate::contract::{Delete, Table};
use crate::semantics::Stop;
use crate::state::RemoteState;

const NOT_FOUND: &str = "translator for record not found";

/// Applies a delete of row `id` to `state`.
pub(crate) fn delete(table: &'static Table, id: &str, state: &mut RemoteState) -> Result<(), Stop> {
    match table.delete {
        Delete::Unsupported => Err(Stop::Ignored(NOT_FOUND.to_string())),
        Delete::Ignores => Err(Stop::Ignored(
            "the translator logs the delete and ignores it".to_string(),
        )),
        Delete::Removes => {
            state.remove(table.name, id);
            Ok(())
        }
        Delete::Deactivates => {
            if table.name == "list_master" && !state.has("list_master", id) {
                return Err(Stop::Ignored("delete of a master list not on the site".to_string()));
            }
            state.deactivate(table.name, id);
            Ok(())
        }
    }
}

/// Judges a merge record's `recordData`.
pub(crate) fn merge(table: &'static Table, data: &Value, state: &RemoteState) -> Result<(), Stop> {
    if !table.merge {
        return Err(Stop::Ignored(NOT_FOUND.to_string()));
    }
    let text = |key: &str| match data.get(key) {
        Some(Value::String(id)) => Ok(id.as_str()),
        Some(other) => Err(Stop::Rejected(format!("{key}: expected a string, got {other}"))),
        None => Err(Stop::Rejected(format!("{key}: missing (required)"))),
    };
    let keep = text("mergeIdToKeep")?;
    text("mergeIdToDelete")?;
    if !state.has(table.name, keep) {
        return Err(Stop::Rejected(format!(
            "mergeIdToKeep {keep:?}: no such {} on the site",
            table.name
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tables;
    use serde_json::json;

    fn table(name: &str) -> &'static Table {
        tables::find(name).unwrap_or_else(|| panic!("{name} is a table"))
    }

    #[test]
    fn deletes_follow_each_tables_support() {
        let mut state = RemoteState::default();
        assert_eq!(
            delete(table("item_line"), "X", &mut state),
            Err(Stop::Ignored(NOT_FOUND.to_string()))
        );
        assert!(delete(table("trans_line"), "X", &mut state).is_ok());
        assert!(matches!(
            delete(table("diagnosis"), "X", &mut state),
            Err(Stop::Ignored(_))
        ));
        assert!(matches!(
            delete(table("list_master"), "L", &mut state),
            Err(Stop::Ignored(_))
        ));
    }

    #[test]
    fn merges_need_both_ids_and_the_kept_row() {
        let state = RemoteState::default();
        let data = json!({"mergeIdToKeep": "A", "mergeIdToDelete": "B"});
        assert!(matches!(merge(table("item"), &data, &state), Err(Stop::Rejected(m)) if m.contains("no such item")));
        assert!(
            matches!(merge(table("item"), &json!({"mergeIdToKeep": "A"}), &state), Err(Stop::Rejected(m)) if m.contains("mergeIdToDelete"))
        );
        assert_eq!(
            merge(table("unit"), &data, &state),
            Err(Stop::Ignored(NOT_FOUND.to_string()))
        );
    }
}
