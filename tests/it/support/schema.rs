//! The patient API's reply schemas (`tests/schemas/patient-sync/`, draft-04, the shapes the spec
//! gives) and the checks against them. Every scenario that reads a patient reply validates it here.

use std::path::PathBuf;

use serde_json::Value;

/// The schema's file: `tests/schemas/patient-sync/{name}.json`.
pub fn schema_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/schemas/patient-sync")
        .join(format!("{name}.json"))
}

/// What is wrong with `value` for the schema `name`, one line per error; empty when it is valid.
pub fn validation_errors(name: &str, value: &Value) -> Vec<String> {
    let path = schema_path(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("schema {}: {e}", path.display()));
    let schema: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("schema {}: {e}", path.display()));
    let validator = jsonschema::draft4::new(&schema).unwrap_or_else(|e| panic!("schema {}: {e}", path.display()));
    validator
        .iter_errors(value)
        .map(|error| format!("at {:?}: {error}", error.instance_path().to_string()))
        .collect()
}

/// Panics, listing every validation error, unless `value` is valid for the schema `name`.
pub fn assert_valid(name: &str, value: &Value) {
    let errors = validation_errors(name, value);
    assert!(
        errors.is_empty(),
        "the reply is not valid for {name}.json:\n  {}\nreply: {value}",
        errors.join("\n  ")
    );
}

/// Panics unless the schema `name` refuses `value`.
pub fn assert_invalid(name: &str, value: &Value) {
    assert!(
        !validation_errors(name, value).is_empty(),
        "{name}.json accepts what it should refuse: {value}"
    );
}
