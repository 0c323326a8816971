//! The value rules of the app's field parsers: for each kind of field, which JSON values the app reads
//! the way the server meant, which it silently misreads (a defect), and which make the write throw
//! (a crash). Dates and times live in `dates.rs`.

use serde_json::Value;

use crate::{dates, Client};

/// How the app reads one field of `data`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// Copied into a string property: any JSON type but a string crashes the write.
    Text,
    /// Required by the sanity check but never read; like every legacy value it is still a string.
    Unread,
    /// Parsed into a non-optional number: a falsy input (`""`, absent, `null`, the JSON number 0) or
    /// text the float parser cannot read gives null, and null into that property crashes.
    NumRequired,
    /// The same parser into an optional number: `""` is "no value"; unreadable text silently is too.
    NumOptional,
    /// A raw float parse into an optional number: blank or unreadable stores NaN.
    Float,
    /// A quantity multiplied by the pack size: unreadable counts as 0.
    Quantity,
    /// The multiplier and divisor of quantities and prices: blank, 0 or unreadable zeroes them.
    PackSize,
    /// A price divided by the pack size: unreadable counts as 0.
    Price,
    /// `Number(value)` into an integer property.
    Int,
    /// A date: `YYYY-MM-DDT00:00:00`, or `0000-00-00T00:00:00` for none.
    Date,
    /// The time of a date+time pair: `HH:MM:SS`.
    Time,
    /// True exactly when the lower-cased string form is "true"; everything else, absence too, is false.
    Bool,
    /// The ID of a linked row: `""` clears the link, any other string links (or makes a placeholder).
    Link,
    /// A link the write cannot do without: blank or absent crashes.
    RequiredLink,
    /// A JSON document sent as text; a JSON object, array, `true` or non-zero number crashes.
    Json,
}

/// What is wrong with one value, and whether it makes the write throw.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Problem {
    pub(crate) crash: bool,
    pub(crate) message: String,
}

impl Problem {
    pub(crate) fn defect(message: impl Into<String>) -> Option<Problem> {
        Some(Problem {
            crash: false,
            message: message.into(),
        })
    }

    pub(crate) fn crash(message: impl Into<String>) -> Option<Problem> {
        Some(Problem {
            crash: true,
            message: message.into(),
        })
    }
}

/// Judges a value that is present (absence is the caller's business: it depends on the field).
pub(crate) fn check(kind: Kind, value: &Value, client: Client) -> Option<Problem> {
    match kind {
        Kind::Text => text(value),
        Kind::Unread => unread(value),
        Kind::NumRequired => num_required(value, client),
        Kind::NumOptional => num_optional(value),
        Kind::Float => numeric_always(value, "stored as NaN"),
        Kind::Quantity => numeric_always(value, "the quantity reads as 0"),
        Kind::Price => numeric_always(value, "the price reads as 0"),
        Kind::PackSize => pack_size(value),
        Kind::Int => int(value),
        Kind::Date => dates::date(value),
        Kind::Time => dates::time(value),
        Kind::Bool => boolean(value),
        Kind::Link => link(value),
        Kind::RequiredLink => required_link(value),
        Kind::Json => json_text(value),
    }
}

/// Names a JSON value's type the way the messages speak of it.
pub(crate) fn describe(value: &Value) -> String {
    match value {
        Value::Null => "null".to_string(),
        Value::Bool(b) => format!("the json boolean {b}"),
        Value::Number(n) => format!("the json number {n}"),
        Value::String(s) => format!("{s:?}"),
        Value::Array(_) => "a json array".to_string(),
        Value::Object(_) => "a json object".to_string(),
    }
}

/// JavaScript truthiness, which is what the app's "is it there" tests use.
pub(crate) fn truthy(value: Option<&Value>) -> bool {
    match value {
        None | Some(Value::Null) | Some(Value::Bool(false)) => false,
        Some(Value::String(s)) => !s.is_empty(),
        Some(Value::Number(n)) => n.as_f64().is_some_and(|x| x != 0.0),
        Some(_) => true,
    }
}

/// A decimal the way the contract wants numbers: an optional minus, digits, an optional fraction.
pub(crate) fn is_plain_decimal(s: &str) -> bool {
    let digits = s.strip_prefix('-').unwrap_or(s);
    let (whole, fraction) = match digits.split_once('.') {
        Some((whole, fraction)) => (whole, Some(fraction)),
        None => (digits, None),
    };
    let all_digits = |part: &str| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit());
    all_digits(whole) && fraction.is_none_or(all_digits)
}

/// Whether JavaScript's `parseFloat` finds a number at the start of `s` (it accepts any numeric prefix).
pub(crate) fn float_parser_reads(s: &str) -> bool {
    let rest = s.trim_start_matches(|c: char| c.is_whitespace() || c == '\u{feff}');
    let rest = rest.strip_prefix(['+', '-']).unwrap_or(rest);
    if rest.starts_with("Infinity") {
        return true;
    }
    let rest = rest.strip_prefix('.').unwrap_or(rest);
    rest.starts_with(|c: char| c.is_ascii_digit())
}

/// The JavaScript comparison `value < 1` the app uses to decide that a transfer needs a number.
pub(crate) fn below_one(value: Option<&Value>) -> bool {
    match value {
        None | Some(Value::Null) => false,
        Some(Value::String(s)) if s.trim().is_empty() => true,
        Some(Value::String(s)) if is_plain_decimal(s.trim()) => s.trim().parse::<f64>().is_ok_and(|n| n < 1.0),
        Some(Value::Number(n)) => n.as_f64().is_some_and(|n| n < 1.0),
        Some(Value::Bool(b)) => !b,
        Some(_) => false,
    }
}

fn text(value: &Value) -> Option<Problem> {
    match value {
        Value::String(_) => None,
        Value::Null => Problem::defect("null in a text field (send a string)"),
        other => Problem::crash(format!("{} in a text field crashes the write", describe(other))),
    }
}

fn unread(value: &Value) -> Option<Problem> {
    match value {
        Value::String(_) => None,
        other => Problem::defect(format!("{}, not a string (legacy values are strings)", describe(other))),
    }
}

fn num_required(value: &Value, client: Client) -> Option<Problem> {
    match value {
        Value::String(s) if s.is_empty() => Problem::crash("blank, but the field is a non-optional number (crash)"),
        Value::String(s) if is_plain_decimal(s) => None,
        Value::String(s) if float_parser_reads(s) => {
            Problem::defect(format!("{s:?} is not a plain decimal (read as its numeric prefix)"))
        }
        Value::String(s) if client == Client::V2017 => Problem::defect(format!("{s:?} is not numeric (stored as NaN)")),
        Value::String(s) => Problem::crash(format!(
            "{s:?} is not numeric, and the field is a non-optional number (crash)"
        )),
        Value::Number(_) if !truthy(Some(value)) => {
            Problem::crash("the json number 0 reads as blank, and the field is a non-optional number (crash)")
        }
        Value::Number(n) => Problem::defect(format!("the json number {n}, not a decimal string")),
        other => Problem::crash(format!(
            "{} is not a number, and the field is a non-optional number (crash)",
            describe(other)
        )),
    }
}

fn num_optional(value: &Value) -> Option<Problem> {
    match value {
        Value::String(s) if s.is_empty() || is_plain_decimal(s) => None,
        Value::String(s) if float_parser_reads(s) => {
            Problem::defect(format!("{s:?} is not a plain decimal (read as its numeric prefix)"))
        }
        Value::String(s) => Problem::defect(format!("{s:?} is not numeric (stored as no value)")),
        Value::Null => Problem::defect("null (send \"\" for no value)"),
        Value::Number(n) => Problem::defect(format!("the json number {n}, not a decimal string")),
        other => Problem::defect(format!("{} is not numeric (stored as no value)", describe(other))),
    }
}

/// Kinds whose every value must be numeric: `consequence` says what a blank or unreadable one does.
fn numeric_always(value: &Value, consequence: &str) -> Option<Problem> {
    match value {
        Value::String(s) if is_plain_decimal(s) => None,
        Value::String(s) if s.is_empty() => Problem::defect(format!("blank ({consequence}: send a number)")),
        Value::String(s) if float_parser_reads(s) => {
            Problem::defect(format!("{s:?} is not a plain decimal (read as its numeric prefix)"))
        }
        Value::Number(n) => Problem::defect(format!("the json number {n}, not a decimal string")),
        other => Problem::defect(format!("{} is not numeric ({consequence})", describe(other))),
    }
}

fn pack_size(value: &Value) -> Option<Problem> {
    match value {
        Value::String(s) if is_plain_decimal(s) && s.parse::<f64>().is_ok_and(|n| n <= 0.0) => Problem::defect(
            format!("pack size {s:?} is not positive (quantities and prices read as 0)"),
        ),
        _ => numeric_always(value, "quantities and prices read as 0"),
    }
}

fn int(value: &Value) -> Option<Problem> {
    match value {
        Value::String(s) if !s.is_empty() && s.strip_prefix('-').unwrap_or(s).bytes().all(|b| b.is_ascii_digit()) => {
            None
        }
        other => Problem::defect(format!("{} is not an integer in a string", describe(other))),
    }
}

fn boolean(value: &Value) -> Option<Problem> {
    match value {
        Value::String(s) if s == "true" || s == "false" => None,
        Value::String(s) if s.eq_ignore_ascii_case("true") => Problem::defect(format!("{s:?}: send \"true\"")),
        Value::Bool(true) => Problem::defect("the json boolean true (read as false by the 2017 app; send \"true\")"),
        Value::Bool(false) => Problem::defect("the json boolean false (send \"false\")"),
        other => Problem::defect(format!(
            "{} reads as false (send \"true\" or \"false\")",
            describe(other)
        )),
    }
}

fn link(value: &Value) -> Option<Problem> {
    match value {
        Value::String(_) => None,
        Value::Null => Problem::defect("null clears the link (send \"\" for none)"),
        other if !truthy(Some(other)) => {
            Problem::defect(format!("{} clears the link (send \"\" for none)", describe(other)))
        }
        other => Problem::crash(format!(
            "{} as a link crashes the write (ids are strings)",
            describe(other)
        )),
    }
}

fn required_link(value: &Value) -> Option<Problem> {
    match value {
        Value::String(s) if !s.is_empty() => None,
        other if !truthy(Some(other)) => Problem::crash(format!("{}: the link is required (crash)", describe(other))),
        other => Problem::crash(format!(
            "{} as a link crashes the write (ids are strings)",
            describe(other)
        )),
    }
}

fn json_text(value: &Value) -> Option<Problem> {
    match value {
        Value::String(s) => {
            let lowered = s.trim().to_ascii_lowercase();
            if lowered.is_empty() || lowered == "null" || lowered == "undefined" {
                None
            } else if s.contains('\\') {
                Problem::defect("json text with backslashes, which the app strips before storing")
            } else if serde_json::from_str::<Value>(s).is_err() {
                Problem::defect("not valid json text")
            } else {
                None
            }
        }
        Value::Null => Problem::defect("null (send \"\" for none)"),
        other if !truthy(Some(other)) => {
            Problem::defect(format!("{}: send the json document as text", describe(other)))
        }
        other => Problem::crash(format!(
            "{} crashes the write: send the json document as text",
            describe(other)
        )),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use serde_json::json;

    fn crash(kind: Kind, value: Value) -> bool {
        check(kind, &value, Client::Head).is_some_and(|p| p.crash)
    }

    fn fine(kind: Kind, value: Value) -> bool {
        check(kind, &value, Client::Head).is_none()
    }

    #[test]
    fn plain_decimals_are_digits_with_an_optional_sign_and_fraction() {
        assert!(is_plain_decimal("0") && is_plain_decimal("-12.5") && is_plain_decimal("100"));
        assert!(!is_plain_decimal("") && !is_plain_decimal("12abc") && !is_plain_decimal(".5"));
        assert!(!is_plain_decimal("1e5") && !is_plain_decimal("12.") && !is_plain_decimal(" 1"));
    }

    #[test]
    fn the_float_parser_reads_numeric_prefixes_only() {
        assert!(float_parser_reads("12abc") && float_parser_reads(" .5") && float_parser_reads("-Infinity"));
        assert!(!float_parser_reads("abc") && !float_parser_reads("") && !float_parser_reads("NaN"));
    }

    #[test]
    fn required_numbers_crash_when_blank_zero_or_unreadable() {
        assert!(fine(Kind::NumRequired, json!("0")));
        assert!(crash(Kind::NumRequired, json!("")));
        assert!(crash(Kind::NumRequired, json!(0)));
        assert!(crash(Kind::NumRequired, json!("abc")));
        assert!(crash(Kind::NumRequired, json!(true)));
        let prefix = check(Kind::NumRequired, &json!("12abc"), Client::Head).unwrap();
        assert!(!prefix.crash && prefix.message.contains("plain decimal"));
        let number = check(Kind::NumRequired, &json!(12), Client::Head).unwrap();
        assert!(!number.crash);
        let nan = check(Kind::NumRequired, &json!("abc"), Client::V2017).unwrap();
        assert!(!nan.crash && nan.message.contains("NaN"));
    }

    #[test]
    fn optional_numbers_allow_blank_and_flag_everything_else() {
        assert!(fine(Kind::NumOptional, json!("")) && fine(Kind::NumOptional, json!("1.5")));
        assert!(!fine(Kind::NumOptional, json!("abc")) && !crash(Kind::NumOptional, json!("abc")));
        assert!(!fine(Kind::Float, json!("")) && !fine(Kind::PackSize, json!("0")));
    }

    #[test]
    fn text_and_links_crash_on_non_strings() {
        assert!(fine(Kind::Text, json!("")) && crash(Kind::Text, json!(12)) && crash(Kind::Text, json!({})));
        assert!(fine(Kind::Link, json!("")) && crash(Kind::Link, json!(7)) && !crash(Kind::Link, json!(null)));
        assert!(crash(Kind::RequiredLink, json!("")) && fine(Kind::RequiredLink, json!("SI1")));
    }

    #[test]
    fn booleans_are_the_strings_true_and_false() {
        assert!(fine(Kind::Bool, json!("true")) && fine(Kind::Bool, json!("false")));
        assert!(!fine(Kind::Bool, json!(true)) && !fine(Kind::Bool, json!("True")) && !fine(Kind::Bool, json!("1")));
    }

    #[test]
    fn json_fields_are_documents_as_text() {
        assert!(fine(Kind::Json, json!("")) && fine(Kind::Json, json!("{\"a\":1}")) && fine(Kind::Json, json!("NULL")));
        assert!(!fine(Kind::Json, json!("{a")) && crash(Kind::Json, json!({"a": 1})) && crash(Kind::Json, json!(true)));
        assert!(!fine(Kind::Json, json!("{\"a\":\"\\\\\"}")));
    }

    #[test]
    fn renumbering_compares_like_javascript() {
        assert!(below_one(Some(&json!("-1"))) && below_one(Some(&json!(""))) && below_one(Some(&json!("0"))));
        assert!(!below_one(Some(&json!("12"))) && !below_one(None) && !below_one(Some(&json!("abc"))));
    }
}
