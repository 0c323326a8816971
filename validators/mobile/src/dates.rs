//! The date and time rules. The app hands any date but its "none" forms to the JavaScript date parser,
//! which reads `YYYY-MM-DDT00:00:00` as local midnight on the device but other forms differently, so
//! only that form and `0000-00-00T00:00:00` (no date) are accepted.

use serde_json::Value;

use crate::parsers::{describe, Problem};

/// The form that means "no date" to both app generations.
pub(crate) const ZERO_DATE: &str = "0000-00-00T00:00:00";

pub(crate) fn date(value: &Value) -> Option<Problem> {
    let Value::String(s) = value else {
        return Problem::defect(format!("{}, not a date string", describe(value)));
    };
    if s == ZERO_DATE || is_real_date(s) {
        return None;
    }
    let message = if s.is_empty() {
        format!("blank date (send {ZERO_DATE} for none)")
    } else if s == "0000-00-00T00:00:00Z" {
        format!("{s:?} (the 2017 app does not read the Z form as no date: send {ZERO_DATE})")
    } else if s == "0000-00-00" {
        format!("{s:?} is not recognised as no date and gives an invalid date (send {ZERO_DATE})")
    } else if s.len() == 10 && calendar_day(s) {
        format!("{s:?} is read as utc midnight, a different day west of greenwich (send YYYY-MM-DDT00:00:00)")
    } else if s.len() > 19 && calendar_day(&s[..10]) && s.ends_with('Z') {
        format!("{s:?} is a utc instant, read as utc rather than local midnight (send YYYY-MM-DDT00:00:00)")
    } else if s.len() == 19 && calendar_day(&s[..10]) && s.as_bytes()[10] == b'T' && clock(&s[11..]) {
        format!("{s:?} carries a time of day (dates are sent as YYYY-MM-DDT00:00:00; times go in their own field)")
    } else if s.len() == 19 && s.ends_with("T00:00:00") {
        format!("{s:?} is not a real calendar date")
    } else {
        format!("{s:?} is not YYYY-MM-DDT00:00:00 (other forms are read differently by each engine)")
    };
    Problem::defect(message)
}

pub(crate) fn time(value: &Value) -> Option<Problem> {
    match value {
        Value::String(s) if clock(s) => None,
        Value::String(s) if s.is_empty() => Problem::defect("blank time (send 00:00:00 for none)"),
        Value::String(s) => Problem::defect(format!("{s:?} is not HH:MM:SS")),
        other => Problem::defect(format!("{}, not a time string", describe(other))),
    }
}

/// A date the app stores as a real timestamp: `YYYY-MM-DDT00:00:00` naming a day of the calendar.
pub(crate) fn is_real_date(s: &str) -> bool {
    s.len() == 19 && s.ends_with("T00:00:00") && calendar_day(&s[..10])
}

/// `YYYY-MM-DD` naming a real day (year 0000 is the legacy "no date").
fn calendar_day(s: &str) -> bool {
    let bytes = s.as_bytes();
    if bytes.len() != 10 || bytes[4] != b'-' || bytes[7] != b'-' {
        return false;
    }
    let (Some(year), Some(month), Some(day)) = (number(&s[..4]), number(&s[5..7]), number(&s[8..])) else {
        return false;
    };
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    let days_in_month = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    year > 0 && (1..=days_in_month).contains(&day)
}

/// `HH:MM:SS` on a 24-hour clock.
fn clock(s: &str) -> bool {
    let bytes = s.as_bytes();
    if bytes.len() != 8 || bytes[2] != b':' || bytes[5] != b':' {
        return false;
    }
    match (number(&s[..2]), number(&s[3..5]), number(&s[6..])) {
        (Some(hours), Some(minutes), Some(seconds)) => hours < 24 && minutes < 60 && seconds < 60,
        _ => false,
    }
}

fn number(digits: &str) -> Option<u32> {
    if digits.bytes().all(|b| b.is_ascii_digit()) {
        digits.parse().ok()
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn message(value: Value) -> String {
        date(&value).map(|p| p.message).unwrap_or_default()
    }

    #[test]
    fn local_midnight_and_the_zero_date_are_the_only_accepted_forms() {
        assert!(date(&json!("2024-02-29T00:00:00")).is_none());
        assert!(date(&json!(ZERO_DATE)).is_none());
        assert!(message(json!("2024-01-04")).contains("utc midnight"));
        assert!(message(json!("2024-01-04T11:00:00.000Z")).contains("utc instant"));
        assert!(message(json!("0000-00-00")).contains("invalid date"));
        assert!(message(json!("")).contains("blank"));
        assert!(message(json!("2023-02-29T00:00:00")).contains("calendar"));
        assert!(message(json!("2024-01-04T13:45:00")).contains("time of day"));
        assert!(message(json!("04/01/2024")).contains("not YYYY-MM-DD"));
        assert!(message(json!(20240104)).contains("not a date string"));
    }

    #[test]
    fn times_are_hours_minutes_and_seconds() {
        assert!(time(&json!("23:59:59")).is_none());
        assert!(time(&json!("24:00:00")).is_some() && time(&json!("9:00")).is_some() && time(&json!("")).is_some());
    }

    #[test]
    fn real_dates_exclude_the_zero_date() {
        assert!(is_real_date("2024-03-01T00:00:00") && !is_real_date(ZERO_DATE) && !is_real_date("2024-03-01"));
    }
}
