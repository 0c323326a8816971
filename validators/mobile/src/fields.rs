//! The value of every field the app reads, judged by how the app parses it, and the full-row rule: an
//! update must carry every field the app reads, because absent booleans reset to false, absent links
//! are cleared and absent numbers become blank or NaN on the device.

use serde_json::{Map, Value};

use crate::findings::{Findings, Stage};
use crate::parsers::{self, Kind};
use crate::tables::{Field, Need};
use crate::Client;

/// What the field rules need to know about the record beyond its row.
pub(crate) struct FieldContext<'a> {
    pub(crate) client: Client,
    /// Whether the record concerns the device's own store (own-store fields are read only then).
    pub(crate) own_store: bool,
    /// Fields already reported by an earlier step.
    pub(crate) reported: &'a [&'static str],
    /// Fields the caller knows may be absent for this particular record.
    pub(crate) may_be_absent: &'a [&'static str],
}

pub(crate) fn check(fields: &[&Field], data: &Map<String, Value>, ctx: &FieldContext<'_>, f: &mut Findings) {
    let mut missing = Vec::new();
    for field in fields {
        if ctx.reported.contains(&field.name) || (field.need == Need::OwnStore && !ctx.own_store) {
            continue;
        }
        match data.get(field.name) {
            Some(value) => {
                if let Some(problem) = parsers::check(field.kind, value, ctx.client) {
                    let message = format!("{}: {}", field.name, problem.message);
                    if problem.crash {
                        f.crashed(Stage::Write, message);
                    } else {
                        f.defect(message);
                    }
                }
            }
            None => match field.kind {
                // The number parser turns an absent value into null, which a non-optional number refuses.
                Kind::NumRequired => f.crashed(
                    Stage::Write,
                    format!("{} missing: the field is a non-optional number (crash)", field.name),
                ),
                Kind::RequiredLink => f.crashed(
                    Stage::Write,
                    format!("{} missing: the link is required (crash)", field.name),
                ),
                _ if required(field, fields, data) && !ctx.may_be_absent.contains(&field.name) => {
                    missing.push(field.name)
                }
                _ => {}
            },
        }
    }
    if !missing.is_empty() {
        f.defect(format!(
            "partial row: missing {} (an update must carry the full row)",
            missing.join(", ")
        ));
    }
}

/// Whether an absent field breaks the full-row rule.
fn required(field: &Field, fields: &[&Field], data: &Map<String, Value>) -> bool {
    match field.need {
        Need::Full | Need::OwnStore => true,
        Need::Optional => false,
        // The address row is matched on all its lines, so they go together once any one is in use.
        Need::Address => fields.iter().filter(|other| other.need == Need::Address).any(|other| {
            data.get(other.name)
                .and_then(Value::as_str)
                .is_some_and(|line| !line.is_empty())
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tables::lookup;
    use crate::Outcome;
    use serde_json::json;

    fn judge(record_type: &str, data: Value, own_store: bool) -> (Outcome, Vec<String>) {
        let mut findings = Findings::default();
        let ctx = FieldContext {
            client: Client::Head,
            own_store,
            reported: &[],
            may_be_absent: &[],
        };
        if let (Some(table), Some(data)) = (lookup(record_type), data.as_object()) {
            let fields: Vec<_> = table.fields.iter().collect();
            check(&fields, data, &ctx, &mut findings);
        }
        findings.finish()
    }

    #[test]
    fn a_missing_required_number_crashes() {
        let (outcome, _) = judge(
            "list_master_line",
            json!({"item_master_ID": "L", "item_ID": "I", "imprest_quan": ""}),
            false,
        );
        assert!(matches!(outcome, Outcome::Crash(reason) if reason.contains("price")));
    }

    #[test]
    fn missing_fields_are_listed_as_a_partial_row() {
        let (outcome, defects) = judge("unit", json!({"units": "tab", "order_number": "1"}), false);
        assert_eq!(outcome, Outcome::Integrated);
        assert_eq!(
            defects,
            vec!["partial row: missing comment (an update must carry the full row)"]
        );
    }

    #[test]
    fn own_store_fields_are_only_read_for_the_own_store() {
        let join = json!({"item_ID": "I", "store_ID": "OTHER"});
        assert_eq!(
            judge("item_store_join", join.clone(), false),
            (Outcome::Integrated, vec![])
        );
        assert!(matches!(judge("item_store_join", join, true).0, Outcome::Crash(_)));
    }

    #[test]
    fn address_lines_go_together_once_one_is_used() {
        let mut name = json!({"type": "facility", "customer": "true", "supplier": "false", "manufacturer": "false",
            "name": "N", "code": "C", "barcode": "", "phone": "", "email": "", "bill_address1": "", "first": "",
            "middle": "", "last": "", "date_of_birth": "0000-00-00T00:00:00", "created_date": "0000-00-00T00:00:00",
            "isDeceased": "false", "is_deleted": "false", "female": "false", "supplying_store_id": "",
            "nationality_ID": "", "occupation_ID": "", "ethnicity_ID": ""});
        assert!(judge("name", name.clone(), false).1.is_empty());
        name["bill_address1"] = json!("1 Main St");
        assert!(judge("name", name, false).1[0].contains("bill_address2, bill_address3"));
    }
}
