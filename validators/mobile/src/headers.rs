//! Lines and their headers. The app files transaction, requisition and stocktake lines under their
//! header without any store check, creating a placeholder header when it has none, so a line whose
//! header the device did not integrate leaves a ghost header on it. A header never seen in this session
//! is not judged: it may have arrived in an earlier one.

use serde_json::{Map, Value};

use crate::findings::Findings;
use crate::state::{DeviceState, HeaderFate, HeaderKind};

/// The header a line type belongs to, and the key naming it.
fn header_of(record_type: &str) -> Option<(HeaderKind, &'static str)> {
    match record_type {
        "trans_line" => Some((HeaderKind::Transaction, "transaction_ID")),
        "requisition_line" => Some((HeaderKind::Requisition, "requisition_ID")),
        "Stock_take_lines" => Some((HeaderKind::Stocktake, "stock_take_ID")),
        _ => None,
    }
}

pub(crate) fn check_line(state: &DeviceState, record_type: &str, data: &Map<String, Value>, f: &mut Findings) {
    let Some((kind, key)) = header_of(record_type) else {
        return;
    };
    let Some(header_id) = data.get(key).and_then(Value::as_str).filter(|id| !id.is_empty()) else {
        return;
    };
    let Some(header) = state.header(kind, header_id) else {
        return;
    };
    let noun = kind.noun();
    match &header.fate {
        HeaderFate::Integrated => {}
        HeaderFate::Foreign => f.defect(format!("line of another store's {noun} {header_id}: send only the device store's")),
        HeaderFate::Ignored(reason) => f.defect(format!(
            "line of {noun} {header_id}, which the device ignored ({reason}): the line leaves a ghost {noun} on the device"
        )),
        HeaderFate::Dropped(reason) => f.defect(format!(
            "line of {noun} {header_id}, which the device dropped ({reason}): the line leaves a ghost {noun} on the device"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::Header;
    use serde_json::json;

    fn state_with(fate: HeaderFate) -> DeviceState {
        let mut state = DeviceState::default();
        let header = Header {
            fate,
            type_code: "ci".into(),
            status: "fn".into(),
            renumbered: false,
        };
        state.headers.insert((HeaderKind::Transaction, "T1".into()), header);
        state
    }

    fn defects(state: &DeviceState, line: Value) -> Vec<String> {
        let mut findings = Findings::default();
        check_line(
            state,
            "trans_line",
            line.as_object().unwrap_or(&Map::new()),
            &mut findings,
        );
        findings.finish().1
    }

    #[test]
    fn lines_of_an_ignored_header_are_defects() {
        let state = state_with(HeaderFate::Ignored("another store's transact".into()));
        assert!(defects(&state, json!({"transaction_ID": "T1"}))[0].contains("ghost"));
    }

    #[test]
    fn lines_of_integrated_or_unseen_headers_are_fine() {
        let state = state_with(HeaderFate::Integrated);
        assert!(defects(&state, json!({"transaction_ID": "T1"})).is_empty());
        assert!(defects(&state, json!({"transaction_ID": "T9"})).is_empty());
    }
}
