//! A pushed value read as its field's type and turned into the legacy text form the row keeps:
//! numbers and booleans as strings, dates as `YYYY-MM-DDT00:00:00` (the zero date for none),
//! times as `HH:MM:SS`, JSON documents as text. Clients send the same value in many spellings
//! (v5 native JSON, mobile's `"NaN"` and ISO instants, v1 text): all of them land here.

use std::borrow::Cow;

use super::fields::{FieldType, ZERO_DATE};
use super::row::{unescape, write_json_string, Token, TokenKind};

/// Why a value cannot be read as its field's type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValueError(pub &'static str);

impl std::fmt::Display for ValueError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}

/// How to read values whose meaning depends on where the satellites are.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ValueRules {
    /// The satellites' offset from UTC in minutes, to find the local date of a UTC instant
    /// (mSupply Mobile pushes local midnight as `moment(date).toISOString()`). `None`: the date of
    /// the nearest midnight, right for offsets from −11 to +12 hours.
    pub utc_offset_minutes: Option<i32>,
}

/// The stored JSON literal (always a string) for `token` pushed into a field of `kind` whose
/// default is `default_json`; `None` values (JSON null, `""` for a number, `"NaN"`, ...) give the
/// default. Borrows the pushed bytes whenever they are already in the stored form.
pub fn to_stored<'a>(
    kind: FieldType,
    token: Token<'a>,
    default_json: &'a [u8],
    rules: ValueRules,
) -> Result<Cow<'a, [u8]>, ValueError> {
    if token.kind == TokenKind::String && matches!(kind, FieldType::Text | FieldType::Id | FieldType::Json) {
        // Text is kept as pushed, escapes and all.
        return Ok(Cow::Borrowed(token.raw));
    }
    let text: Cow<'a, str> = match token.kind {
        TokenKind::Null => return Ok(Cow::Borrowed(default_json)),
        TokenKind::String => unescape(token.raw).ok_or(ValueError("is not a valid JSON string"))?,
        TokenKind::Number | TokenKind::True | TokenKind::False => {
            Cow::Borrowed(std::str::from_utf8(token.raw).map_err(|_| ValueError("is not UTF-8"))?)
        }
        TokenKind::Object | TokenKind::Array => {
            return match kind {
                FieldType::Text | FieldType::Id | FieldType::Json => Ok(Cow::Owned(as_json_string(token.raw))),
                _ => Err(ValueError("is an object or array")),
            }
        }
    };
    let is_string = token.kind == TokenKind::String;
    let keep = |token: Token<'a>| -> Cow<'a, [u8]> { Cow::Borrowed(token.raw) };
    let quoted = |s: &str| -> Cow<'a, [u8]> {
        let mut out = Vec::with_capacity(s.len() + 2);
        write_json_string(&mut out, s);
        Cow::Owned(out)
    };
    match kind {
        FieldType::Text | FieldType::Id | FieldType::Json => Ok(if is_string { keep(token) } else { quoted(&text) }),
        FieldType::Int | FieldType::Num => {
            if no_value(&text) {
                return Ok(Cow::Borrowed(default_json));
            }
            match token.kind {
                TokenKind::True => return Ok(quoted("1")),
                TokenKind::False => return Ok(quoted("0")),
                _ => {}
            }
            let number = canonical_number(&text, kind == FieldType::Int).ok_or(ValueError("is not a number"))?;
            Ok(match number {
                Cow::Borrowed(_) if is_string => keep(token),
                other => quoted(&other),
            })
        }
        FieldType::Bool => {
            if no_value(&text) {
                return Ok(Cow::Borrowed(default_json));
            }
            let value = parse_bool(&text).ok_or(ValueError("is not a boolean"))?;
            let canonical = if value { "true" } else { "false" };
            Ok(if is_string && text == canonical {
                keep(token)
            } else {
                quoted(canonical)
            })
        }
        FieldType::Date => match local_date(&text, rules).ok_or(ValueError("is not a date"))? {
            None => Ok(quoted(ZERO_DATE)),
            Some(date) if is_string && text.len() == 19 && text.ends_with("T00:00:00") => {
                debug_assert_eq!(&text[..10], date);
                Ok(keep(token))
            }
            Some(date) => Ok(quoted(&format!("{date}T00:00:00"))),
        },
        FieldType::Time => {
            if no_value(&text) {
                return Ok(Cow::Borrowed(default_json));
            }
            let time = canonical_time(&text).ok_or(ValueError("is not a time of day"))?;
            Ok(if is_string && text == time {
                keep(token)
            } else {
                quoted(&time)
            })
        }
        FieldType::Datetime => {
            if no_value(&text) {
                return Ok(Cow::Borrowed(default_json));
            }
            let datetime = canonical_datetime(&text).ok_or(ValueError("is not a date and time"))?;
            Ok(if is_string && text == datetime {
                keep(token)
            } else {
                quoted(&datetime)
            })
        }
    }
}

/// Checks that `text` is in the stored form of `kind` (what a default must be).
pub fn check_text(kind: FieldType, text: &str) -> Result<(), ValueError> {
    let ok = match kind {
        FieldType::Text | FieldType::Id | FieldType::Json => true,
        FieldType::Int => canonical_number(text, true).is_some_and(|n| matches!(n, Cow::Borrowed(_))),
        FieldType::Num => canonical_number(text, false).is_some_and(|n| matches!(n, Cow::Borrowed(_))),
        FieldType::Bool => text == "true" || text == "false",
        FieldType::Date => {
            text == ZERO_DATE || (text.len() == 19 && text.ends_with("T00:00:00") && is_date(&text[..10]))
        }
        FieldType::Time => canonical_time(text).as_deref() == Some(text),
        FieldType::Datetime => text.is_empty() || canonical_datetime(text).as_deref() == Some(text),
    };
    if ok {
        Ok(())
    } else {
        Err(ValueError("is not in the stored form"))
    }
}

/// The spellings of "no value": mobile pushes a missing number as `"NaN"`, `"null"` or
/// `"undefined"` (a JavaScript value through `String()`).
fn no_value(text: &str) -> bool {
    matches!(text, "" | "null" | "undefined" | "NaN" | "Infinity" | "-Infinity")
}

fn parse_bool(text: &str) -> Option<bool> {
    if text.eq_ignore_ascii_case("true") || text == "1" {
        Some(true)
    } else if text.eq_ignore_ascii_case("false") || text == "0" {
        Some(false)
    } else {
        None
    }
}

/// A decimal number as the row keeps it: borrowed when `text` already is one (`-12`, `12.5`,
/// `1e-7`), otherwise rewritten (`12.0` → `12` in an integer field, `1E3` → `1000`). `None` when
/// `text` is not a number.
fn canonical_number(text: &str, integer: bool) -> Option<Cow<'_, str>> {
    let bytes = text.as_bytes();
    let digits_from = usize::from(bytes.first() == Some(&b'-'));
    let is_integer = bytes.len() > digits_from && bytes[digits_from..].iter().all(u8::is_ascii_digit);
    if is_integer {
        return Some(Cow::Borrowed(text));
    }
    let plain_decimal = {
        let rest = &bytes[digits_from..];
        match rest.iter().position(|b| *b == b'.') {
            Some(dot) => {
                dot > 0
                    && dot + 1 < rest.len()
                    && rest[..dot].iter().all(u8::is_ascii_digit)
                    && rest[dot + 1..].iter().all(u8::is_ascii_digit)
            }
            None => false,
        }
    };
    let value: f64 = text.parse().ok().filter(|v: &f64| v.is_finite())?;
    if integer && value.fract() == 0.0 && value.abs() < 9.0e15 {
        return Some(Cow::Owned(format!("{}", value as i64)));
    }
    if plain_decimal {
        return Some(Cow::Borrowed(text));
    }
    // Exponents and other spellings `parse` accepts: the shortest decimal that reads back.
    Some(Cow::Owned(format!("{value}")))
}

/// The local date a pushed date stands for: `Some(None)` for "no date", `Some(Some("YYYY-MM-DD"))`
/// for a date, `None` for text that is not a date.
fn local_date(text: &str, rules: ValueRules) -> Option<Option<String>> {
    if no_value(text) || text.starts_with("0000-00-00") {
        return Some(None);
    }
    let date = text.get(..10).filter(|d| is_date(d))?;
    let rest = &text[10..];
    if rest.is_empty() {
        return Some(Some(date.to_string()));
    }
    let rest = rest.strip_prefix(['T', ' '])?;
    let (clock, zone) = split_zone(rest)?;
    let seconds = clock_seconds(clock)?;
    if zone != Some(0) {
        // A wall-clock time (no zone, or the writer's own offset): its date is the local date.
        return Some(Some(date.to_string()));
    }
    // A UTC instant: mobile's local midnight, seen from Greenwich.
    let days = days_from_civil(date)?;
    let local = days * 86_400 + i64::from(seconds) + i64::from(rules.utc_offset_minutes.unwrap_or(0)) * 60;
    let local_day = match rules.utc_offset_minutes {
        Some(_) => local.div_euclid(86_400),
        None => (local + 43_200).div_euclid(86_400),
    };
    Some(Some(civil_from_days(local_day)))
}

/// `HH:MM[:SS[.fff]]` and an optional zone: (clock, offset in minutes, `Some(0)` for `Z`).
fn split_zone(rest: &str) -> Option<(&str, Option<i32>)> {
    if let Some(clock) = rest.strip_suffix('Z') {
        return Some((clock, Some(0)));
    }
    match rest.rfind(['+', '-']) {
        Some(at) if at >= 5 => {
            let zone = &rest[at + 1..];
            let sign = if rest.as_bytes()[at] == b'-' { -1 } else { 1 };
            let (h, m) = match zone.split_once(':') {
                Some((h, m)) => (h, m),
                None if zone.len() == 4 => zone.split_at(2),
                None => (zone, "0"),
            };
            let minutes = h.parse::<i32>().ok()? * 60 + m.parse::<i32>().ok()?;
            // A non-zero offset is a wall-clock time; `+00:00` is UTC like `Z`.
            Some((&rest[..at], Some(sign * minutes)))
        }
        _ => Some((rest, None)),
    }
}

fn clock_seconds(clock: &str) -> Option<u32> {
    let clock = clock.split('.').next()?;
    let mut parts = clock.split(':');
    let h: u32 = parts.next()?.parse().ok()?;
    let m: u32 = parts.next()?.parse().ok()?;
    let s: u32 = parts.next().map(str::parse).transpose().ok()?.unwrap_or(0);
    (parts.next().is_none() && h < 24 && m < 60 && s < 61).then_some(h * 3600 + m * 60 + s.min(59))
}

/// `HH:MM:SS` from `HH:MM[:SS[.fff]]` or a number of seconds since midnight (v5).
fn canonical_time(text: &str) -> Option<String> {
    let seconds = if text.bytes().all(|b| b.is_ascii_digit()) {
        text.parse::<u32>().ok().filter(|s| *s < 86_400)?
    } else {
        clock_seconds(text)?
    };
    Some(format!(
        "{:02}:{:02}:{:02}",
        seconds / 3600,
        seconds / 60 % 60,
        seconds % 60
    ))
}

/// `YYYY-MM-DDTHH:MM:SS[.fff]` as the row keeps it: a space separator becomes `T`, a trailing
/// `Z` is dropped (open-mSupply's datetimes are zone-less).
fn canonical_datetime(text: &str) -> Option<String> {
    let date = text.get(..10).filter(|d| is_date(d))?;
    let rest = text[10..].strip_prefix(['T', ' '])?;
    let rest = rest.strip_suffix('Z').unwrap_or(rest);
    clock_seconds(rest)?;
    Some(format!("{date}T{rest}"))
}

fn is_date(text: &str) -> bool {
    let b = text.as_bytes();
    b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && [0, 1, 2, 3, 5, 6, 8, 9].iter().all(|&i| b[i].is_ascii_digit())
        && (1..=12).contains(&text[5..7].parse::<u32>().unwrap_or(0))
        && (1..=31).contains(&text[8..10].parse::<u32>().unwrap_or(0))
}

/// Days since 1970-01-01 of a `YYYY-MM-DD` (proleptic Gregorian).
fn days_from_civil(date: &str) -> Option<i64> {
    let y: i64 = date[..4].parse().ok()?;
    let m: i64 = date[5..7].parse().ok()?;
    let d: i64 = date[8..10].parse().ok()?;
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (m + if m > 2 { -3 } else { 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    Some(era * 146_097 + doe - 719_468)
}

/// The `YYYY-MM-DD` of a day counted from 1970-01-01.
pub fn civil_from_days(days: i64) -> String {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

fn as_json_string(raw: &[u8]) -> Vec<u8> {
    let text = String::from_utf8_lossy(raw);
    let mut out = Vec::with_capacity(raw.len() + 8);
    write_json_string(&mut out, &text);
    out
}

#[cfg(test)]
mod tests;
