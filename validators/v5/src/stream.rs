//! The rules of the stream as a whole, over every page the site has received: `recordId`s are unique
//! across tables (the sync buffer is keyed by `recordId` alone, §1.8), every header arrives no later
//! than its lines, even inside one sync (§4.1, §7 item 7), and central change-log IDs ascend (§1.4).

use std::collections::HashMap;

use serde_json::Value;

use crate::envelope::{Action, Element};
use crate::order;

#[derive(Clone, Debug, Default)]
pub(crate) struct Stream {
    /// Every `recordId` received (merges aside) → the table it last came with.
    tables: HashMap<String, String>,
    /// The highest central `ID` received.
    last_change_id: Option<u64>,
}

impl Stream {
    /// Checks one element against what came before it, then notes it.
    pub(crate) fn receive(&mut self, element: &Element, defects: &mut Vec<String>) {
        let label = format!("{} {}", element.table, element.record_id);
        if let Some(id) = element.change_id {
            match self.last_change_id {
                Some(last) if id <= last => defects.push(format!(
                    "{label}: ID {id} is not above the previous {last} (central IDs must ascend)"
                )),
                _ => self.last_change_id = Some(id),
            }
        }
        if element.action == Action::Merge {
            // The buffer keys merges by a random UUID: their recordId is never looked at.
            return;
        }
        if element.action == Action::Upsert {
            self.check_header(element, &label, defects);
        }
        let previous = self.tables.insert(element.record_id.clone(), element.table.clone());
        if let Some(previous) = previous.filter(|previous| *previous != element.table) {
            defects.push(format!(
                "{label}: recordId reused by another table ({previous}); the later record replaces the earlier in the sync buffer"
            ));
        }
    }

    fn check_header(&self, element: &Element, label: &str, defects: &mut Vec<String>) {
        let Some(pair) = order::header_of(&element.table) else {
            return;
        };
        let header_id = element.data.get(pair.field).and_then(Value::as_str).unwrap_or_default();
        if header_id.is_empty() {
            return;
        }
        if self.tables.get(header_id).map(String::as_str) != Some(pair.header) {
            defects.push(format!(
                "{label}: received before its {} {header_id:?} (headers must reach the site before their lines)",
                pair.header
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn element(table: &str, id: &str, data: Value) -> Element {
        Element {
            table: table.into(),
            record_id: id.into(),
            action_text: "Insert".into(),
            action: Action::Upsert,
            data,
            change_id: None,
        }
    }

    #[test]
    fn lines_after_their_header_pass() {
        let mut stream = Stream::default();
        let mut defects = Vec::new();
        stream.receive(&element("transact", "T1", json!({})), &mut defects);
        stream.receive(
            &element("trans_line", "L1", json!({"transaction_ID": "T1"})),
            &mut defects,
        );
        assert!(defects.is_empty(), "{defects:?}");
        stream.receive(
            &element("trans_line", "L2", json!({"transaction_ID": "T2"})),
            &mut defects,
        );
        assert!(defects[0].contains("received before its transact"), "{defects:?}");
    }

    #[test]
    fn a_record_id_may_not_move_to_another_table() {
        let mut stream = Stream::default();
        let mut defects = Vec::new();
        stream.receive(&element("item", "X", json!({})), &mut defects);
        stream.receive(&element("item", "X", json!({})), &mut defects);
        assert!(defects.is_empty());
        stream.receive(&element("name", "X", json!({})), &mut defects);
        assert!(defects[0].contains("reused by another table (item)"), "{defects:?}");
    }

    #[test]
    fn central_ids_ascend() {
        let mut stream = Stream::default();
        let mut defects = Vec::new();
        let mut first = element("unit", "U1", json!({}));
        first.change_id = Some(5);
        let mut second = element("unit", "U2", json!({}));
        second.change_id = Some(5);
        stream.receive(&first, &mut defects);
        stream.receive(&second, &mut defects);
        assert!(defects[0].contains("not above the previous 5"), "{defects:?}");
    }
}
