//! Dates and datetimes the way chrono and the custom deserialisers read them (§2.2, §2.3): a plain
//! `NaiveDate` is exactly `YYYY-MM-DD` and a real date; a `NaiveDateTime` needs the literal `T`,
//! allows a fraction and no zone; `zero_date_as_option` also takes the zero date and both datetime
//! separators. Each function returns why a string is refused.

/// Checks a plain `NaiveDate`: `"0000-00-00"`, `""` and datetimes are errors.
pub(crate) fn plain_date(text: &str) -> Result<(), String> {
    if text == "0000-00-00" {
        return Err("the zero date where a real date is required".to_string());
    }
    if text.is_empty() {
        return Err("an empty string where a date is required".to_string());
    }
    if text.len() > 10 && text.get(..10).is_some_and(real_date) {
        return Err(format!(
            "{text:?} is a datetime where a plain YYYY-MM-DD date is required"
        ));
    }
    if real_date(text) {
        Ok(())
    } else {
        Err(format!("{text:?} is not a YYYY-MM-DD date"))
    }
}

/// Checks a `NaiveDateTime`: `YYYY-MM-DDTHH:MM:SS[.fraction]`, no zone, `T` required.
pub(crate) fn date_time(text: &str) -> Result<(), String> {
    if is_date_time(text, b'T') {
        return Ok(());
    }
    let reason = if is_date_time(text, b' ') {
        "has a space where chrono requires T"
    } else if text.ends_with('Z') || has_offset(text) {
        "has a zone, which chrono's NaiveDateTime refuses"
    } else if real_date(text) {
        "is a date where a datetime is required"
    } else {
        "is not a YYYY-MM-DDTHH:MM:SS datetime"
    };
    Err(format!("{text:?} {reason}"))
}

/// Checks a non-empty `zero_date_as_option` string.
pub(crate) fn zero_date(text: &str) -> Result<(), String> {
    let with_clock = match text.split_at_checked(10) {
        Some((date, clock)) => real_date(date) && (is_clock(clock, b'T') || is_clock(clock, b' ')),
        None => false,
    };
    let accepted = text == "0000-00-00" || real_date(text) || with_clock;
    if accepted {
        Ok(())
    } else {
        Err(format!(
            "{text:?} is not \"\", \"0000-00-00\", YYYY-MM-DD or YYYY-MM-DD[T ]HH:MM:SS"
        ))
    }
}

/// True when chrono can turn these Unix seconds into a datetime (years -262143 to 262142); outside
/// it the requisition translator panics.
pub(crate) fn unix_seconds_in_range(seconds: i64) -> bool {
    let first = days_from_civil(-262_143, 1, 1) * 86_400;
    let last = days_from_civil(262_142, 12, 31) * 86_400 + 86_399;
    (first..=last).contains(&seconds)
}

fn is_date_time(text: &str, separator: u8) -> bool {
    let (Some(date), Some(clock), Some(rest)) = (text.get(..10), text.get(10..19), text.get(19..)) else {
        return false;
    };
    if !real_date(date) || !is_clock(clock, separator) {
        return false;
    }
    match rest.strip_prefix('.') {
        None => rest.is_empty(),
        Some(fraction) => !fraction.is_empty() && fraction.bytes().all(|b| b.is_ascii_digit()),
    }
}

/// `<separator>HH:MM:SS` (second 60 is chrono's leap second).
fn is_clock(text: &str, separator: u8) -> bool {
    let bytes = text.as_bytes();
    if bytes.len() != 9 || bytes[0] != separator || bytes[3] != b':' || bytes[6] != b':' {
        return false;
    }
    match (number(&text[1..3]), number(&text[4..6]), number(&text[7..9])) {
        (Some(hour), Some(minute), Some(second)) => hour < 24 && minute < 60 && second <= 60,
        _ => false,
    }
}

fn has_offset(text: &str) -> bool {
    text.get(19..).is_some_and(|rest| rest.contains(['+', '-']))
}

/// Exactly `YYYY-MM-DD`, and a day that exists.
fn real_date(text: &str) -> bool {
    let bytes = text.as_bytes();
    if bytes.len() != 10 || bytes[4] != b'-' || bytes[7] != b'-' {
        return false;
    }
    match (number(&text[..4]), number(&text[5..7]), number(&text[8..10])) {
        (Some(year), Some(month), Some(day)) => (1..=12).contains(&month) && day >= 1 && day <= month_days(year, month),
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

fn month_days(year: u32, month: u32) -> u32 {
    match month {
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month_index = (month + 9) % 12;
    let day_of_year = (153 * month_index + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_dates_are_exact_real_dates() {
        assert!(plain_date("2021-07-30").is_ok());
        assert!(plain_date("2024-02-29").is_ok());
        assert!(plain_date("2023-02-29").is_err());
        assert!(plain_date("0000-00-00").is_err());
        assert!(plain_date("2021-07-30T00:00:00")
            .expect_err("refused")
            .contains("datetime"));
        assert!(plain_date("").is_err());
        assert!(plain_date("30/07/2021").is_err());
    }

    #[test]
    fn datetimes_need_t_and_no_zone() {
        assert!(date_time("2022-08-24T09:33:00").is_ok());
        assert!(date_time("2022-08-24T09:33:00.123456").is_ok());
        assert!(date_time("2022-08-24 09:33:00").expect_err("refused").contains("space"));
        assert!(date_time("2022-08-24T09:33:00Z").expect_err("refused").contains("zone"));
        assert!(date_time("2022-08-24T09:33:00+02:00")
            .expect_err("refused")
            .contains("zone"));
        assert!(date_time("2022-08-24").expect_err("refused").contains("is a date"));
        assert!(date_time("2022-08-24T25:00:00").is_err());
        assert!(date_time("2022-08-24T09:33:00.").is_err());
    }

    #[test]
    fn zero_dates_take_both_separators_but_no_fraction_or_zone() {
        for ok in ["0000-00-00", "2023-02-10", "2023-02-10T00:00:00", "2023-02-10 10:00:00"] {
            assert!(zero_date(ok).is_ok(), "{ok}");
        }
        for bad in [
            "2023-02-10T00:00:00.5",
            "2023-02-10T00:00:00Z",
            "not a date",
            "0000-00-00T00:00:00",
        ] {
            assert!(zero_date(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_unix_range_is_chronos() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        assert!(unix_seconds_in_range(1_594_273_006));
        assert!(unix_seconds_in_range(-1));
        assert!(!unix_seconds_in_range(i64::MAX));
        assert!(!unix_seconds_in_range(i64::MIN));
        assert!(unix_seconds_in_range(days_from_civil(262_142, 12, 31) * 86_400));
        assert!(!unix_seconds_in_range(days_from_civil(262_143, 1, 1) * 86_400));
    }
}
