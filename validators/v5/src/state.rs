//! What the remote database holds after what it has integrated, as far as judging later records and
//! listing missing prerequisites needs: the IDs of every table's rows and a few facts about names,
//! stores, items, tags, schedules, programs, currencies and joins. An integration step works on a
//! copy, kept only when nothing aborted it.

use std::collections::{HashMap, HashSet};

use serde_json::{Map, Value};

/// The pseudo-table of programs: `list_master` rows with `isProgram: true`.
pub(crate) const PROGRAM: &str = "program";

/// A name's facts that other records depend on.
#[derive(Clone, Debug, Default)]
pub(crate) struct NameFacts {
    pub(crate) code: String,
    pub(crate) kind: String,
}

/// A store's facts that other records depend on.
#[derive(Clone, Debug)]
pub(crate) struct StoreFacts {
    pub(crate) name_id: String,
    pub(crate) site_id: Option<i64>,
}

#[derive(Clone, Debug, Default)]
pub(crate) struct RemoteState {
    /// Integrated row IDs per table (and per pseudo-table such as `program`).
    rows: HashMap<&'static str, HashSet<String>>,
    pub(crate) names: HashMap<String, NameFacts>,
    pub(crate) stores: HashMap<String, StoreFacts>,
    /// Items soft-deleted by a delete (an item upsert reactivates).
    pub(crate) inactive_items: HashSet<String>,
    /// `name_tag` ID → description.
    pub(crate) tag_descriptions: HashMap<String, String>,
    /// `periodSchedule` ID → name.
    pub(crate) schedule_names: HashMap<String, String>,
    pub(crate) home_currencies: HashSet<String>,
    /// `name_store_join` ID → (store, name).
    pub(crate) visibility: HashMap<String, (String, String)>,
    /// `list_master_name_join` ID → name.
    pub(crate) list_joins: HashMap<String, String>,
    /// Header ID (`transact`, `requisition`, `Stock_take`) → its store.
    pub(crate) header_stores: HashMap<String, String>,
    /// (store, name) of every invoice and requisition judged: who trades with whom.
    pub(crate) trades: HashSet<(String, String)>,
    /// Store IDs named by invoices and requisitions judged.
    pub(crate) referenced_stores: HashSet<String>,
    /// A judged invoice had an empty `currency_ID`, so a home currency is needed.
    pub(crate) needs_home_currency: bool,
}

impl RemoteState {
    /// True when `table` holds a row `id`.
    pub(crate) fn has(&self, table: &str, id: &str) -> bool {
        self.rows.get(table).is_some_and(|ids| ids.contains(id))
    }

    /// Records an integrated upsert and the facts later records depend on.
    pub(crate) fn remember(&mut self, table: &'static str, id: &str, data: &Map<String, Value>) {
        self.rows.entry(table).or_default().insert(id.to_string());
        let text = |key: &str| data.get(key).and_then(Value::as_str).unwrap_or_default().to_string();
        match table {
            "name" => {
                self.names.insert(
                    id.to_string(),
                    NameFacts {
                        code: text("code"),
                        kind: text("type"),
                    },
                );
            }
            "store" => {
                let facts = StoreFacts {
                    name_id: text("name_ID"),
                    site_id: data.get("sync_id_remote_site").and_then(Value::as_i64),
                };
                self.stores.insert(id.to_string(), facts);
            }
            "item" => {
                self.inactive_items.remove(id);
            }
            "name_tag" => {
                self.tag_descriptions.insert(id.to_string(), text("description"));
            }
            "periodSchedule" => {
                self.schedule_names.insert(id.to_string(), text("name"));
            }
            "list_master" => {
                let rows = self.rows.entry(PROGRAM).or_default();
                if data.get("isProgram") == Some(&Value::Bool(true)) {
                    rows.insert(id.to_string());
                } else {
                    // An existing program with this id is soft-deleted.
                    rows.remove(id);
                }
            }
            "currency" => {
                if data.get("is_home_currency") == Some(&Value::Bool(true)) {
                    self.home_currencies.insert(id.to_string());
                } else {
                    self.home_currencies.remove(id);
                }
            }
            "name_store_join" => {
                self.visibility
                    .insert(id.to_string(), (text("store_ID"), text("name_ID")));
            }
            "list_master_name_join" => {
                self.list_joins.insert(id.to_string(), text("name_ID"));
            }
            "transact" | "requisition" | "Stock_take" => {
                self.header_stores.insert(id.to_string(), text("store_ID"));
            }
            _ => {}
        }
    }

    /// Records a delete that removes the row.
    pub(crate) fn remove(&mut self, table: &str, id: &str) {
        if let Some(ids) = self.rows.get_mut(table) {
            ids.remove(id);
        }
        match table {
            "store" => {
                self.stores.remove(id);
            }
            "currency" => {
                self.home_currencies.remove(id);
            }
            "name_store_join" => {
                self.visibility.remove(id);
            }
            "list_master_name_join" => {
                self.list_joins.remove(id);
            }
            _ => {}
        }
    }

    /// Records a soft delete: the row stays (foreign keys still resolve) but is inactive.
    pub(crate) fn deactivate(&mut self, table: &str, id: &str) {
        match table {
            "item" if self.has("item", id) => {
                self.inactive_items.insert(id.to_string());
            }
            "list_master" => {
                if let Some(programs) = self.rows.get_mut(PROGRAM) {
                    programs.remove(id);
                }
            }
            _ => {}
        }
    }

    /// The store whose own name is `name_id`, if the site has one.
    pub(crate) fn store_named(&self, name_id: &str) -> Option<&str> {
        self.stores
            .iter()
            .find(|(_, store)| store.name_id == name_id)
            .map(|(id, _)| id.as_str())
    }

    /// True when a name with code `invad` has been integrated.
    pub(crate) fn has_invad_name(&self) -> bool {
        self.names.values().any(|name| name.code == "invad")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn object(value: Value) -> Map<String, Value> {
        match value {
            Value::Object(object) => object,
            _ => Map::new(),
        }
    }

    #[test]
    fn programs_follow_is_program() {
        let mut state = RemoteState::default();
        state.remember("list_master", "L1", &object(json!({"isProgram": true})));
        assert!(state.has("list_master", "L1") && state.has(PROGRAM, "L1"));
        state.remember("list_master", "L1", &object(json!({"isProgram": false})));
        assert!(!state.has(PROGRAM, "L1"));
    }

    #[test]
    fn stores_are_found_by_name_and_removed_by_delete() {
        let mut state = RemoteState::default();
        state.remember(
            "store",
            "S1",
            &object(json!({"name_ID": "N1", "sync_id_remote_site": 2})),
        );
        assert_eq!(state.store_named("N1"), Some("S1"));
        assert_eq!(state.stores["S1"].site_id, Some(2));
        state.remove("store", "S1");
        assert!(!state.has("store", "S1") && state.store_named("N1").is_none());
    }
}
