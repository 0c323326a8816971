//! The value kinds of §2: the plain serde types and the custom deserialisers of `sync_serde.rs`, and
//! for each which JSON values deserialise, which fail the record (an error) and which deserialise
//! to something the primary did not mean (a silent loss). Presence is `fields.rs`'s business; this
//! module judges a value that is there, `null` included.

use serde_json::Value;

use crate::contract::{Field, Need};
use crate::{dates, fields};

/// How a translator's struct reads one value.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Kind {
    /// String: a JSON string (`""` valid); a number is not converted.
    Str,
    /// i32: a JSON integer in range; `1.0` and `"1"` are errors.
    I32,
    /// i64: a JSON integer.
    I64,
    /// f64: any JSON number.
    Num,
    /// bool: `true`/`false` only.
    Bool,
    /// NaiveDate: exactly `YYYY-MM-DD`.
    Date,
    /// NaiveDateTime: `YYYY-MM-DDTHH:MM:SS[.f]`.
    DateTime,
    /// `serde_json::Value`: anything, `null` too.
    Json,
    /// A legacy enum without a catch-all: exactly one of these strings.
    Enum(&'static [&'static str]),
    /// An enum whose variants the spec names only by their form (PascalCase, e.g. `InvoiceCreated`).
    PascalCase,
    /// `empty_str_as_option_string`: a string or null.
    OptStr,
    /// `empty_str_as_option<Enum>`: `""`/null, or one of these strings.
    OptEnum(&'static [&'static str]),
    /// `empty_str_as_option<NaiveDateTime>`: `""`/null, or a datetime.
    OptDateTime,
    /// `ok_or_none`: a string or null; an unknown value is None, not an error.
    Lenient,
    /// `zero_date_as_option`.
    ZeroDate,
    /// `naive_time`: integer seconds since midnight; anything else silently becomes 00:00:00.
    Secs,
    /// `zero_f64_as_none`: a JSON number only (0 is None); null and strings are errors.
    ZeroF64,
    /// `string_to_f64`: a JSON string only, parsed as a float (unparsable is 0.0).
    StrF64,
    /// `empty_str_or_i32`: any string is 0, an integer its value, another number 0.
    StrOrI32,
    /// `object_fields_as_option<T>`: null, `""`, `{}`, `[]` are None; an object is read as T.
    Fields(&'static [Field]),
    /// A plain nested struct: an object read as T.
    Struct(&'static [Field]),
    /// A map of string keys to the nested struct.
    Map(&'static [Field]),
    /// An array of the nested struct.
    List(&'static [Field]),
    /// A string holding a JSON array, parsed a second time.
    JsonArrayText,
}

/// What is wrong with one value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Problem {
    /// Deserialisation fails: the record is rejected.
    Error(String),
    /// Deserialises, but not to what was sent.
    Loss(String),
}

impl Problem {
    pub(crate) fn is_error(&self) -> bool {
        matches!(self, Problem::Error(_))
    }

    pub(crate) fn into_message(self) -> String {
        match self {
            Problem::Error(message) | Problem::Loss(message) => message,
        }
    }
}

/// Judges a value that is present (`null` included) for a field of `kind` and `need`.
pub(crate) fn judge(kind: Kind, need: Need, value: &Value, path: &str, out: &mut Vec<Problem>) {
    if value.is_null() {
        null(kind, need, path, out);
        return;
    }
    if let Err(reason) = non_null(kind, value, path, out) {
        out.push(Problem::Error(format!("{path}: {reason}")));
    }
}

/// A custom deserialiser decides about null itself; a plain type takes it only as an `Option`.
fn null(kind: Kind, need: Need, path: &str, out: &mut Vec<Problem>) {
    match kind {
        Kind::Json | Kind::OptStr | Kind::OptEnum(_) | Kind::OptDateTime | Kind::Lenient | Kind::ZeroDate => {}
        Kind::Fields(_) => {}
        Kind::Secs => out.push(Problem::Loss(format!("{path}: time lost (null is read as 00:00:00)"))),
        Kind::ZeroF64 => out.push(Problem::Error(format!(
            "{path}: null where a number is required (use 0)"
        ))),
        Kind::StrF64 | Kind::StrOrI32 => out.push(Problem::Error(format!("{path}: null is refused"))),
        _ if need == Need::Optional => {}
        _ => out.push(Problem::Error(format!(
            "{path}: null where {} is required",
            expected(kind)
        ))),
    }
}

fn non_null(kind: Kind, value: &Value, path: &str, out: &mut Vec<Problem>) -> Result<(), String> {
    match kind {
        Kind::Str | Kind::OptStr | Kind::Lenient => string(value, kind).map(|_| ()),
        Kind::I32 => match value.as_i64() {
            Some(n) if i32::try_from(n).is_ok() => Ok(()),
            _ => Err(refused(kind, value)),
        },
        Kind::I64 => value.as_i64().map(|_| ()).ok_or_else(|| refused(kind, value)),
        Kind::Num | Kind::ZeroF64 => value.as_f64().map(|_| ()).ok_or_else(|| refused(kind, value)),
        Kind::Bool => value.as_bool().map(|_| ()).ok_or_else(|| refused(kind, value)),
        Kind::Json => Ok(()),
        Kind::Date => dates::plain_date(string(value, kind)?),
        Kind::DateTime => dates::date_time(string(value, kind)?),
        Kind::OptDateTime => match string(value, kind)? {
            "" => Ok(()),
            text => dates::date_time(text),
        },
        Kind::ZeroDate => match string(value, kind)? {
            "" => Ok(()),
            text => dates::zero_date(text),
        },
        Kind::Enum(list) => one_of(string(value, kind)?, list),
        Kind::OptEnum(list) => match string(value, kind)? {
            "" => Ok(()),
            text => one_of(text, list),
        },
        Kind::PascalCase => pascal_case(string(value, kind)?),
        Kind::Secs => {
            let seconds_of_day = matches!(value.as_u64(), Some(seconds) if seconds < 86_400);
            if !seconds_of_day {
                let shown = shown(value);
                out.push(Problem::Loss(format!(
                    "{path}: time lost ({shown} is not integer seconds 0..86399, read as 00:00:00)"
                )));
            }
            Ok(())
        }
        Kind::StrF64 => {
            let text = string(value, kind)?;
            // `""` reads as 0.0 too, which is what an empty preference means.
            if !text.is_empty() && text.parse::<f64>().is_err() {
                out.push(Problem::Loss(format!("{path}: {text:?} is not a number, read as 0")));
            }
            Ok(())
        }
        Kind::StrOrI32 => str_or_i32(value, path, out),
        Kind::Fields(nested) => match value {
            Value::Object(object) => {
                fields::read(nested, object, path, out);
                Ok(())
            }
            Value::String(text) if text.is_empty() => Ok(()),
            Value::Array(items) if items.is_empty() => Ok(()),
            _ => Err(refused(kind, value)),
        },
        Kind::Struct(nested) => match value {
            Value::Object(object) => {
                fields::read(nested, object, path, out);
                Ok(())
            }
            _ => Err(refused(kind, value)),
        },
        Kind::Map(nested) => match value {
            Value::Object(entries) => {
                for (name, entry) in entries {
                    judge(
                        Kind::Struct(nested),
                        Need::Required,
                        entry,
                        &format!("{path}.{name}"),
                        out,
                    );
                }
                Ok(())
            }
            _ => Err(refused(kind, value)),
        },
        Kind::List(nested) => match value {
            Value::Array(items) => {
                for (index, item) in items.iter().enumerate() {
                    judge(
                        Kind::Struct(nested),
                        Need::Required,
                        item,
                        &format!("{path}[{index}]"),
                        out,
                    );
                }
                Ok(())
            }
            _ => Err(refused(kind, value)),
        },
        Kind::JsonArrayText => match serde_json::from_str::<Value>(string(value, kind)?) {
            Ok(Value::Array(_)) => Ok(()),
            _ => Err(format!("{} is not a string holding a JSON array", shown(value))),
        },
    }
}

fn string(value: &Value, kind: Kind) -> Result<&str, String> {
    value.as_str().ok_or_else(|| refused(kind, value))
}

fn one_of(text: &str, list: &[&str]) -> Result<(), String> {
    if list.contains(&text) {
        Ok(())
    } else {
        Err(format!("{text:?} is not one of {}", list.join(", ")))
    }
}

fn pascal_case(text: &str) -> Result<(), String> {
    let mut chars = text.chars();
    let starts_upper = chars.next().is_some_and(|c| c.is_ascii_uppercase());
    if starts_upper && chars.all(|c| c.is_ascii_alphanumeric()) {
        Ok(())
    } else {
        Err(format!("{text:?} is not a PascalCase variant name"))
    }
}

fn str_or_i32(value: &Value, path: &str, out: &mut Vec<Problem>) -> Result<(), String> {
    match value {
        Value::String(text) if text.is_empty() => Ok(()),
        Value::String(text) => {
            out.push(Problem::Loss(format!("{path}: the string {text:?} is read as 0")));
            Ok(())
        }
        Value::Number(number) => match number.as_i64() {
            Some(n) if i32::try_from(n).is_ok() => Ok(()),
            Some(_) => Err(format!("{number} is outside the i32 range")),
            None => {
                out.push(Problem::Loss(format!("{path}: {number} is not an integer, read as 0")));
                Ok(())
            }
        },
        _ => Err(refused(Kind::StrOrI32, value)),
    }
}

fn refused(kind: Kind, value: &Value) -> String {
    format!("expected {}, got {}", expected(kind), shown(value))
}

fn expected(kind: Kind) -> &'static str {
    match kind {
        Kind::Str | Kind::OptStr | Kind::Lenient => "a string",
        Kind::I32 => "an i32 integer",
        Kind::I64 => "an integer",
        Kind::Num | Kind::ZeroF64 => "a number",
        Kind::Bool => "true or false",
        Kind::Date => "a YYYY-MM-DD date string",
        Kind::DateTime | Kind::OptDateTime => "a datetime string",
        Kind::ZeroDate => "a date string",
        Kind::Json => "any JSON",
        Kind::Enum(_) | Kind::OptEnum(_) | Kind::PascalCase => "an enum string",
        Kind::Secs => "integer seconds",
        Kind::StrF64 => "a string holding a number",
        Kind::StrOrI32 => "a string or an integer",
        Kind::Fields(_) => "an object (or null, \"\", {} or [])",
        Kind::Struct(_) | Kind::Map(_) => "an object",
        Kind::List(_) => "an array",
        Kind::JsonArrayText => "a string holding a JSON array",
    }
}

/// A value for messages, cut short.
pub(crate) fn shown(value: &Value) -> String {
    let text = value.to_string();
    match text.char_indices().nth(40) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn problems(kind: Kind, need: Need, value: Value) -> Vec<Problem> {
        let mut out = Vec::new();
        judge(kind, need, &value, "f", &mut out);
        out
    }

    fn errs(kind: Kind, value: Value) -> bool {
        problems(kind, Need::Required, value).iter().any(Problem::is_error)
    }

    #[test]
    fn integers_are_json_integers() {
        assert!(!errs(Kind::I32, json!(1)));
        assert!(errs(Kind::I32, json!(1.0)));
        assert!(errs(Kind::I32, json!("1")));
        assert!(errs(Kind::I32, json!(3_000_000_000_i64)));
        assert!(!errs(Kind::I64, json!(3_000_000_000_i64)));
        assert!(errs(Kind::I64, json!(u64::MAX)));
    }

    #[test]
    fn plain_types_take_null_only_as_options() {
        assert!(errs(Kind::Str, Value::Null));
        assert!(problems(Kind::Str, Need::Optional, Value::Null).is_empty());
        assert!(!problems(Kind::Bool, Need::Defaulted, Value::Null).is_empty());
        assert!(problems(Kind::Json, Need::Required, Value::Null).is_empty());
        assert!(errs(Kind::Str, json!(5)));
        assert!(errs(Kind::Bool, json!(1)));
    }

    #[test]
    fn custom_deserialisers_decide_about_null_and_empty() {
        assert!(!errs(Kind::OptStr, Value::Null));
        assert!(errs(Kind::OptStr, json!(0)));
        assert!(!errs(Kind::OptEnum(&["A"]), json!("")));
        assert!(errs(Kind::OptEnum(&["A"]), json!("B")));
        assert!(errs(Kind::ZeroF64, Value::Null));
        assert!(errs(Kind::ZeroF64, json!("0")));
        assert!(errs(Kind::StrF64, json!(0)));
        assert!(!errs(Kind::Lenient, json!("whatever")));
        assert!(!errs(Kind::Fields(&[]), json!([])));
        assert!(errs(Kind::Fields(&[]), json!("x")));
    }

    #[test]
    fn times_that_are_not_integer_seconds_are_lost_silently() {
        assert!(problems(Kind::Secs, Need::Key, json!(47046)).is_empty());
        for lost in [json!("13:04:06"), json!(-1), json!(86_400), json!(10.5), Value::Null] {
            let found = problems(Kind::Secs, Need::Key, lost);
            assert!(
                matches!(&found[..], [Problem::Loss(m)] if m.contains("time lost")),
                "{found:?}"
            );
        }
    }

    #[test]
    fn str_or_i32_reads_strings_as_zero() {
        assert!(problems(Kind::StrOrI32, Need::Optional, json!("")).is_empty());
        assert!(problems(Kind::StrOrI32, Need::Optional, json!(2)).is_empty());
        assert!(!problems(Kind::StrOrI32, Need::Optional, json!("2"))[0].is_error());
        assert!(problems(Kind::StrOrI32, Need::Optional, json!(true))[0].is_error());
    }

    #[test]
    fn pascal_case_names() {
        assert!(!errs(Kind::PascalCase, json!("InvoiceCreated")));
        assert!(errs(Kind::PascalCase, json!("invoice_created")));
        assert!(errs(Kind::PascalCase, json!("")));
    }
}
