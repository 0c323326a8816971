//! The v4 patient lookups: plain JSON objects (`name_store_join` in and out, `patient_history`
//! out).

use serde::Deserialize;
use serde_json::{json, Value};

use super::DecodeError;
use crate::domain::dispensing::{Dispensing, Join};

#[derive(Deserialize)]
struct JoinRequest {
    #[serde(rename = "name_ID", default)]
    name_id: Option<String>,
    #[serde(rename = "store_ID", default)]
    store_id: Option<String>,
}

/// `{"name_ID":"…","store_ID":"…"}` → (name id, store id); both must be non-empty strings.
pub fn decode_join(body: &[u8]) -> Result<(String, String), DecodeError> {
    let request: JoinRequest = serde_json::from_slice(body).map_err(|e| {
        DecodeError::Malformed(format!(
            "the body must be {{\"name_ID\":\"…\",\"store_ID\":\"…\"}} with string ids: {e}"
        ))
    })?;
    let required = |value: Option<String>, name: &str| {
        value
            .filter(|v| !v.trim().is_empty())
            .ok_or_else(|| DecodeError::Malformed(format!("{name} is missing")))
    };
    Ok((
        required(request.name_id, "name_ID")?,
        required(request.store_id, "store_ID")?,
    ))
}

pub fn encode_join(join: &Join) -> Vec<u8> {
    json!({"ID": join.id, "name_ID": join.name_id, "store_ID": join.store_id, "inactive": join.inactive})
        .to_string()
        .into_bytes()
}

/// A stored number as the history carries it: a JSON number when the text is one (the clients
/// send numbers as strings), the text as it is otherwise.
fn number(text: &str) -> Value {
    let trimmed = text.trim();
    trimmed
        .parse::<i64>()
        .map(Value::from)
        .or_else(|_| trimmed.parse::<f64>().map(Value::from))
        .unwrap_or_else(|_| Value::String(text.to_string()))
}

/// The history as the mobile client reads it, oldest first.
pub fn encode_history(history: &[Dispensing]) -> Vec<u8> {
    let person = |(first, last): &(String, String)| json!({"first_name": first, "last_name": last});
    let entries: Vec<Value> = history
        .iter()
        .map(|d| {
            let lines: Vec<Value> = d
                .lines
                .iter()
                .map(|l| {
                    json!({
                        "ID": l.id,
                        "quantity": number(&l.quantity),
                        "item_name": l.item_name,
                        "itemLine": {"item": {"code": l.item_code, "doses": number(&l.doses), "is_vaccine": l.is_vaccine}},
                        "medicineAdministrator": person(&l.administrator),
                    })
                })
                .collect();
            json!({
                "confirm_date": d.confirm_date,
                "store": {"name": d.store_name},
                "clinician": person(&d.clinician),
                "transLines": lines,
            })
        })
        .collect();
    Value::Array(entries).to_string().into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::dispensing::DispensedLine;

    #[test]
    fn join_request_needs_both_ids() {
        assert_eq!(
            decode_join(br#"{"name_ID":"P1","store_ID":"S1"}"#).unwrap(),
            ("P1".to_string(), "S1".to_string())
        );
        for body in [
            &br#"{"name_ID":"P1"}"#[..],
            br#"{"name_ID":"","store_ID":"S1"}"#,
            br#"{"name_ID":5}"#,
            b"nope",
        ] {
            assert!(matches!(decode_join(body), Err(DecodeError::Malformed(_))), "{body:?}");
        }
    }

    #[test]
    fn history_has_the_shape_of_the_spec_sample() {
        let history = [Dispensing {
            confirm_date: "2019-02-22".into(),
            store_name: "Clinic".into(),
            clinician: ("Ana".into(), "Lopes".into()),
            lines: vec![DispensedLine {
                id: "L1".into(),
                quantity: "5".into(),
                item_name: "Amoxicillin".into(),
                item_code: "AMX".into(),
                doses: "0".into(),
                is_vaccine: false,
                administrator: ("Bo".into(), "Chen".into()),
            }],
        }];
        let encoded: Value = serde_json::from_slice(&encode_history(&history)).unwrap();
        let expected = json!([{"confirm_date":"2019-02-22","store":{"name":"Clinic"},
            "clinician":{"first_name":"Ana","last_name":"Lopes"},
            "transLines":[{"ID":"L1","quantity":5,"item_name":"Amoxicillin",
                "itemLine":{"item":{"code":"AMX","doses":0,"is_vaccine":false}},
                "medicineAdministrator":{"first_name":"Bo","last_name":"Chen"}}]}]);
        assert_eq!(encoded, expected);
    }
}
