//! Stamp times: the 14-digit `YYYYMMDDHHmmss` integers every metastamp, status and completion time
//! is written in. Sources send them as JSON numbers or strings; anything that is not a real date and
//! time in that form is refused, since a wrong stamp would silently mark data stored or not.

use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

/// A date and time as the 14-digit integer `YYYYMMDDHHmmss`; integer order is time order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct StampTime(u64);

/// A value that is not a stamp time, with what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("stamp time {value} is not valid: {reason}; a stamp time is 14 digits YYYYMMDDHHmmss")]
pub struct StampError {
    /// The value as received (JSON text for JSON values).
    pub value: String,
    pub reason: String,
}

impl StampTime {
    /// Checks the number is a real date and time in `YYYYMMDDHHmmss` form.
    pub fn from_number(number: u64) -> Result<StampTime, StampError> {
        let refuse = |reason: String| StampError {
            value: number.to_string(),
            reason,
        };
        if !(10_000_000_000_000..100_000_000_000_000).contains(&number) {
            return Err(refuse("not 14 digits".to_string()));
        }
        let field = |divisor: u64, modulus: u64| (number / divisor) % modulus;
        let (year, month, day) = (number / 10_000_000_000, field(100_000_000, 100), field(1_000_000, 100));
        let (hour, minute, second) = (field(10_000, 100), field(100, 100), number % 100);
        if !(1..=12).contains(&month) {
            return Err(refuse(format!("month {month} is out of range")));
        }
        if day == 0 || day > days_in_month(year, month) {
            return Err(refuse(format!("day {day} is out of range for {year}-{month:02}")));
        }
        if hour > 23 || minute > 59 || second > 59 {
            return Err(refuse(format!(
                "time {hour:02}:{minute:02}:{second:02} is out of range"
            )));
        }
        Ok(StampTime(number))
    }

    /// 14 ASCII digits, nothing else (no sign, no spaces, no fraction).
    pub fn parse(text: &str) -> Result<StampTime, StampError> {
        if text.len() != 14 || !text.bytes().all(|byte| byte.is_ascii_digit()) {
            let reason = "not 14 digits".to_string();
            return Err(StampError {
                value: format!("{text:?}"),
                reason,
            });
        }
        StampTime::from_number(text.parse().expect("14 ASCII digits fit in u64"))
    }

    /// A JSON number or string holding a stamp time; any other JSON value is refused.
    pub fn from_json(value: &serde_json::Value) -> Result<StampTime, StampError> {
        let refuse = |reason: &str| StampError {
            value: value.to_string(),
            reason: reason.to_string(),
        };
        match value {
            serde_json::Value::Number(number) => match number.as_u64() {
                Some(integer) => StampTime::from_number(integer),
                None => Err(refuse("not a whole positive number")),
            },
            serde_json::Value::String(text) => StampTime::parse(text),
            _ => Err(refuse("not a number or a string")),
        }
    }

    /// The current time (UTC: the primary serves sites in several time zones).
    pub fn now() -> StampTime {
        let since_epoch = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
        StampTime::from_unix_seconds(since_epoch.as_secs())
    }

    /// The UTC stamp time of a count of seconds since the Unix epoch.
    pub fn from_unix_seconds(seconds: u64) -> StampTime {
        let (year, month, day) = civil_from_days(seconds / 86_400);
        let second_of_day = seconds % 86_400;
        let (hour, minute, second) = (second_of_day / 3600, second_of_day / 60 % 60, second_of_day % 60);
        let date = (year * 100 + month) * 100 + day;
        StampTime(((date * 100 + hour) * 100 + minute) * 100 + second)
    }

    pub fn get(self) -> u64 {
        self.0
    }
}

impl fmt::Display for StampTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// Written as a JSON number, the form the API's views use.
impl serde::Serialize for StampTime {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_u64(self.0)
    }
}

/// Read from a number or a string, checked like [`StampTime::from_number`].
impl<'de> serde::Deserialize<'de> for StampTime {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<StampTime, D::Error> {
        deserializer.deserialize_any(StampVisitor)
    }
}

struct StampVisitor;

impl serde::de::Visitor<'_> for StampVisitor {
    type Value = StampTime;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a 14-digit stamp time YYYYMMDDHHmmss, as a number or a string")
    }
    fn visit_u64<E: serde::de::Error>(self, number: u64) -> Result<StampTime, E> {
        StampTime::from_number(number).map_err(E::custom)
    }
    fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<StampTime, E> {
        StampTime::parse(text).map_err(E::custom)
    }
}

fn is_leap_year(year: u64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: u64, month: u64) -> u64 {
    match month {
        2 if is_leap_year(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// (year, month, day) of a count of days since 1970-01-01, in the proleptic Gregorian calendar
/// (Howard Hinnant's `civil_from_days`, on unsigned numbers since the days are never negative here).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let shifted = days + 719_468; // days since 0000-03-01: leap days then fall at a year's end
    let era = shifted / 146_097;
    let day_of_era = shifted % 146_097;
    let year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_from_march = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_from_march + 2) / 5 + 1;
    let month = if month_from_march < 10 {
        month_from_march + 3
    } else {
        month_from_march - 9
    };
    let year = era * 400 + year_of_era + u64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn numbers_and_strings_in_the_form_are_accepted() {
        for value in [
            json!(20160706094004_u64),
            json!("20160706094004"),
            json!(20000229235959_u64),
        ] {
            let stamp = StampTime::from_json(&value).unwrap();
            assert_eq!(stamp.to_string(), value.to_string().trim_matches('"'));
        }
    }

    #[test]
    fn anything_else_is_refused_with_the_reason() {
        let refused = [
            (json!(2016070609400_u64), "not 14 digits"),
            (json!("201607060940041"), "not 14 digits"),
            (json!(" 20160706094004"), "not 14 digits"),
            (json!("+2016070609400"), "not 14 digits"),
            (json!(20161306094004_u64), "month 13 is out of range"),
            (json!(20160006094004_u64), "month 0 is out of range"),
            (json!(20150229094004_u64), "day 29 is out of range for 2015-02"),
            (json!(20160431094004_u64), "day 31 is out of range for 2016-04"),
            (json!(20160706244004_u64), "time 24:40:04 is out of range"),
            (json!(20160706096004_u64), "time 09:60:04 is out of range"),
            (json!(-20160706094004_i64), "not a whole positive number"),
            (json!(20160706094004.5), "not a whole positive number"),
            (json!(null), "not a number or a string"),
            (json!([20160706094004_u64]), "not a number or a string"),
        ];
        for (value, reason) in refused {
            let error = StampTime::from_json(&value).unwrap_err();
            assert_eq!(error.reason, reason, "{value}");
            assert!(error.to_string().contains("YYYYMMDDHHmmss"));
        }
    }

    #[test]
    fn unix_seconds_convert_to_the_utc_civil_time() {
        let cases = [
            (0, 19700101000000),
            (951_782_400, 20000229000000),
            (1_467_798_004, 20160706094004),
            (4_102_444_799, 20991231235959),
            (4_107_542_400, 21000301000000), // 2100 is not a leap year
        ];
        for (seconds, expected) in cases {
            assert_eq!(StampTime::from_unix_seconds(seconds).get(), expected, "{seconds}");
        }
        assert!(StampTime::from_number(StampTime::now().get()).is_ok());
    }

    #[test]
    fn serde_writes_a_number_and_reads_either_form() {
        let stamp = StampTime::from_number(20160706094004).unwrap();
        assert_eq!(serde_json::to_string(&stamp).unwrap(), "20160706094004");
        assert_eq!(serde_json::from_str::<StampTime>("\"20160706094004\"").unwrap(), stamp);
        assert!(serde_json::from_str::<StampTime>("20161306094004").is_err());
        assert!(serde_json::from_str::<StampTime>("true").is_err());
    }
}
