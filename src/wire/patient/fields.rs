//! One JSON object being decoded, taking its fields out one by one, and knowing where it is so
//! that every refusal reads `item 2: records[0].stampTime: …`.

use std::fmt;

use serde_json::{Map, Value};

use super::PatientWireError;
use crate::patient::stamp::StampTime;

pub(super) struct Fields<'a> {
    object: Map<String, Value>,
    /// The item in the body ("item 2", "the reply", "the body").
    item: &'a str,
    /// The object's path inside the item ("records[0]"), empty for the item itself.
    path: String,
}

impl<'a> Fields<'a> {
    /// `value` must be an object; `path` names it inside `item`.
    pub(super) fn of(value: Value, item: &'a str, path: &str) -> Result<Fields<'a>, PatientWireError> {
        match value {
            Value::Object(object) => Ok(Fields {
                object,
                item,
                path: path.to_string(),
            }),
            _ if path.is_empty() => Err(PatientWireError::BadRequest(format!("{item} must be a JSON object"))),
            _ => Err(PatientWireError::BadRequest(format!(
                "{item}: {path} must be an object"
            ))),
        }
    }

    /// An object inside this one, at `relative` from it.
    pub(super) fn nested(&self, value: Value, relative: &str) -> Result<Fields<'a>, PatientWireError> {
        Fields::of(value, self.item, &self.name(relative))
    }

    /// The field, taken out; `null` counts as absent.
    pub(super) fn take(&mut self, key: &str) -> Option<Value> {
        self.object.remove(key).filter(|value| !value.is_null())
    }

    /// A non-empty string.
    pub(super) fn required_string(&mut self, key: &str) -> Result<String, PatientWireError> {
        self.optional_string(key)?.ok_or_else(|| self.missing(key))
    }

    /// A non-empty string if present (an empty one counts as absent: ids are never empty).
    pub(super) fn optional_string(&mut self, key: &str) -> Result<Option<String>, PatientWireError> {
        match self.take(key) {
            None => Ok(None),
            Some(Value::String(text)) if text.trim().is_empty() => Ok(None),
            Some(Value::String(text)) => Ok(Some(text)),
            Some(_) => Err(self.wrong_type(key, "a string")),
        }
    }

    pub(super) fn optional_object(&mut self, key: &str) -> Result<Option<Map<String, Value>>, PatientWireError> {
        match self.take(key) {
            None => Ok(None),
            Some(Value::Object(object)) => Ok(Some(object)),
            Some(_) => Err(self.wrong_type(key, "an object")),
        }
    }

    /// The array's values; an absent array is empty.
    pub(super) fn optional_array(&mut self, key: &str) -> Result<Vec<Value>, PatientWireError> {
        match self.take(key) {
            None => Ok(Vec::new()),
            Some(Value::Array(values)) => Ok(values),
            Some(_) => Err(self.wrong_type(key, "an array")),
        }
    }

    pub(super) fn required_stamp(&mut self, key: &str) -> Result<StampTime, PatientWireError> {
        self.optional_stamp(key)?.ok_or_else(|| self.missing(key))
    }

    pub(super) fn optional_stamp(&mut self, key: &str) -> Result<Option<StampTime>, PatientWireError> {
        match self.take(key) {
            None => Ok(None),
            Some(value) => StampTime::from_json(&value).map(Some).map_err(|e| self.invalid(key, e)),
        }
    }

    pub(super) fn missing(&self, key: &str) -> PatientWireError {
        PatientWireError::BadRequest(format!("{}: {} is missing", self.item, self.name(key)))
    }

    pub(super) fn wrong_type(&self, key: &str, expected: &str) -> PatientWireError {
        PatientWireError::BadRequest(format!("{}: {} must be {expected}", self.item, self.name(key)))
    }

    /// A value of the right type that is not valid; `error` says why.
    pub(super) fn invalid(&self, key: &str, error: impl fmt::Display) -> PatientWireError {
        PatientWireError::BadRequest(format!("{}: {}: {error}", self.item, self.name(key)))
    }

    fn name(&self, key: &str) -> String {
        if self.path.is_empty() {
            key.to_string()
        } else {
            format!("{}.{key}", self.path)
        }
    }
}
