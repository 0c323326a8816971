//! Reads one `recordData` object (or a nested object) against a field list the way serde derives
//! it: a missing key is an error for R and KEY fields (§2.1), a present value is judged by its kind
//! (`kinds.rs`), and keys the list does not name are ignored.

use serde_json::{Map, Value};

use crate::contract::{Field, Need};
use crate::kinds::{self, Problem};

/// Appends the problems of `object` read as `fields`; nested paths are prefixed with `prefix`.
pub(crate) fn read(fields: &[Field], object: &Map<String, Value>, prefix: &str, out: &mut Vec<Problem>) {
    for field in fields {
        let path = if prefix.is_empty() {
            field.name.to_string()
        } else {
            format!("{prefix}.{}", field.name)
        };
        match (object.get(field.name), field.need) {
            (Some(value), need) => kinds::judge(field.kind, need, value, &path, out),
            (None, Need::Required) => out.push(Problem::Error(format!("{path}: missing (required)"))),
            (None, Need::Key) => out.push(Problem::Error(format!(
                "{path}: key missing (it must be present, even if empty)"
            ))),
            (None, Need::Optional | Need::Defaulted) => {}
        }
    }
}

/// Every problem of a whole record, errors and losses together.
pub(crate) fn problems(fields: &[Field], record: &Map<String, Value>) -> Vec<Problem> {
    let mut out = Vec::new();
    read(fields, record, "", &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contract::{key, opt, r};
    use crate::kinds::Kind::{OptStr, Str, Struct, I32};
    use serde_json::json;

    const INNER: &[Field] = &[r("name", Str)];
    const FIELDS: &[Field] = &[
        r("ID", Str),
        key("note", OptStr),
        opt("n", I32),
        opt("inner", Struct(INNER)),
    ];

    fn of(value: Value) -> Vec<Problem> {
        match value {
            Value::Object(object) => problems(FIELDS, &object),
            _ => unreachable!("tests pass objects"),
        }
    }

    #[test]
    fn required_and_key_fields_must_be_present() {
        assert!(of(json!({"ID": "A", "note": ""})).is_empty());
        assert!(of(json!({"ID": "A", "note": null, "extra": 1})).is_empty());
        let missing = of(json!({"note": ""}));
        assert!(matches!(&missing[..], [Problem::Error(m)] if m == "ID: missing (required)"));
        let no_key = of(json!({"ID": "A"}));
        assert!(matches!(&no_key[..], [Problem::Error(m)] if m.starts_with("note: key missing")));
    }

    #[test]
    fn nested_paths_name_the_inner_key() {
        let found = of(json!({"ID": "A", "note": "", "inner": {"name": 3}}));
        assert!(matches!(&found[..], [Problem::Error(m)] if m.starts_with("inner.name: expected a string")));
    }
}
