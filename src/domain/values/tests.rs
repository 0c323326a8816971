use super::*;
use crate::domain::row::{Token, TokenKind};

fn token(raw: &str) -> Token<'_> {
    let kind = match raw.as_bytes()[0] {
        b'"' => TokenKind::String,
        b'{' => TokenKind::Object,
        b'[' => TokenKind::Array,
        b't' => TokenKind::True,
        b'f' => TokenKind::False,
        b'n' => TokenKind::Null,
        _ => TokenKind::Number,
    };
    Token {
        kind,
        raw: raw.as_bytes(),
    }
}

fn stored(kind: FieldType, raw: &str) -> Result<String, ValueError> {
    stored_with(kind, raw, ValueRules::default())
}

fn stored_with(kind: FieldType, raw: &str, rules: ValueRules) -> Result<String, ValueError> {
    let mut default = Vec::new();
    write_json_string(&mut default, kind.none_value());
    to_stored(kind, token(raw), &default, rules).map(|v| String::from_utf8(v.into_owned()).unwrap())
}

#[test]
fn numbers_are_kept_as_text_whatever_they_arrive_as() {
    let cases = [
        (FieldType::Num, r#""12.5""#, r#""12.5""#),
        (FieldType::Num, "12.5", r#""12.5""#),
        (FieldType::Num, "10", r#""10""#),
        (FieldType::Num, "1e-7", r#""0.0000001""#),
        (FieldType::Num, r#""30.416666666666668""#, r#""30.416666666666668""#),
        (FieldType::Num, r#""NaN""#, r#""0""#),
        (FieldType::Num, r#""null""#, r#""0""#),
        (FieldType::Num, r#""undefined""#, r#""0""#),
        (FieldType::Num, r#""""#, r#""0""#),
        (FieldType::Num, "null", r#""0""#),
        (FieldType::Int, "12.0", r#""12""#),
        (FieldType::Int, r#""-3""#, r#""-3""#),
        (FieldType::Int, "true", r#""1""#),
        (FieldType::Int, "5", r#""5""#),
    ];
    for (kind, pushed, want) in cases {
        assert_eq!(stored(kind, pushed).as_deref(), Ok(want), "{kind:?} {pushed}");
    }
    assert!(stored(FieldType::Num, r#""12abc""#).is_err());
    assert!(stored(FieldType::Int, r#""twelve""#).is_err());
    assert!(stored(FieldType::Num, "{}").is_err());
}

#[test]
fn booleans_become_the_strings_mobile_reads() {
    for (pushed, want) in [
        ("true", "\"true\""),
        ("false", "\"false\""),
        (r#""True""#, "\"true\""),
        (r#""FALSE""#, "\"false\""),
        (r#""1""#, "\"true\""),
        ("null", "\"false\""),
        (r#""""#, "\"false\""),
    ] {
        assert_eq!(stored(FieldType::Bool, pushed).as_deref(), Ok(want), "{pushed}");
    }
    assert!(stored(FieldType::Bool, r#""maybe""#).is_err());
}

#[test]
fn dates_become_local_midnight_in_the_legacy_form() {
    let cases = [
        (r#""2024-01-05T00:00:00""#, r#""2024-01-05T00:00:00""#),
        (r#""2024-01-05""#, r#""2024-01-05T00:00:00""#),
        (r#""0000-00-00T00:00:00""#, r#""0000-00-00T00:00:00""#),
        (r#""0000-00-00""#, r#""0000-00-00T00:00:00""#),
        (r#""""#, r#""0000-00-00T00:00:00""#),
        ("null", r#""0000-00-00T00:00:00""#),
        // A wall-clock time keeps its date.
        (r#""2024-01-05 15:30:00""#, r#""2024-01-05T00:00:00""#),
        (r#""2024-01-05T00:00:00+13:00""#, r#""2024-01-05T00:00:00""#),
        // Local midnight in UTC-5, as mobile pushes it: the nearest midnight.
        (r#""2024-01-05T05:00:00.000Z""#, r#""2024-01-05T00:00:00""#),
        // Local midnight in UTC+10.
        (r#""2024-01-04T14:00:00.000Z""#, r#""2024-01-05T00:00:00""#),
        // The last day of a year, in UTC+12.
        (r#""2023-12-31T12:00:00Z""#, r#""2024-01-01T00:00:00""#),
    ];
    for (pushed, want) in cases {
        assert_eq!(stored(FieldType::Date, pushed).as_deref(), Ok(want), "{pushed}");
    }
    for bad in [r#""05/01/2024""#, r#""2024-13-01""#, "12", r#""2024-01-05Tnoon""#] {
        assert!(stored(FieldType::Date, bad).is_err(), "{bad}");
    }
}

#[test]
fn a_configured_offset_finds_the_day_east_of_the_date_line() {
    // Local midnight of 5 January in UTC+13 (Tonga): nearest-midnight would say the 4th.
    let tonga = ValueRules {
        utc_offset_minutes: Some(13 * 60),
    };
    assert_eq!(
        stored_with(FieldType::Date, r#""2024-01-04T11:00:00.000Z""#, tonga).as_deref(),
        Ok(r#""2024-01-05T00:00:00""#)
    );
    assert_eq!(
        stored(FieldType::Date, r#""2024-01-04T11:00:00.000Z""#).as_deref(),
        Ok(r#""2024-01-04T00:00:00""#)
    );
}

#[test]
fn times_datetimes_and_documents() {
    assert_eq!(stored(FieldType::Time, r#""08:05:09""#).as_deref(), Ok(r#""08:05:09""#));
    assert_eq!(stored(FieldType::Time, r#""08:05""#).as_deref(), Ok(r#""08:05:00""#));
    assert_eq!(stored(FieldType::Time, "3661").as_deref(), Ok(r#""01:01:01""#));
    assert_eq!(stored(FieldType::Time, "null").as_deref(), Ok(r#""00:00:00""#));
    assert!(stored(FieldType::Time, "86400").is_err());
    assert_eq!(
        stored(FieldType::Datetime, r#""2024-01-05 10:11:12""#).as_deref(),
        Ok(r#""2024-01-05T10:11:12""#)
    );
    assert_eq!(stored(FieldType::Datetime, "null").as_deref(), Ok(r#""""#));
    assert_eq!(
        stored(FieldType::Json, r#"{"a": [1, "x"]}"#).as_deref(),
        Ok(r#""{\"a\": [1, \"x\"]}""#)
    );
    assert_eq!(
        stored(FieldType::Json, r#""{\"a\":1}""#).as_deref(),
        Ok(r#""{\"a\":1}""#)
    );
    assert_eq!(stored(FieldType::Json, "null").as_deref(), Ok(r#""""#));
}

#[test]
fn text_takes_any_scalar_as_its_text() {
    assert_eq!(
        stored(FieldType::Text, r#""Doe, Jane""#).as_deref(),
        Ok(r#""Doe, Jane""#)
    );
    assert_eq!(stored(FieldType::Text, "12").as_deref(), Ok(r#""12""#));
    assert_eq!(stored(FieldType::Id, "true").as_deref(), Ok(r#""true""#));
    assert_eq!(stored(FieldType::Text, "null").as_deref(), Ok(r#""""#));
}

#[test]
fn stored_forms_are_recognised() {
    assert!(check_text(FieldType::Int, "12").is_ok());
    assert!(check_text(FieldType::Int, "12.0").is_err());
    assert!(check_text(FieldType::Num, "12.5").is_ok());
    assert!(check_text(FieldType::Bool, "true").is_ok());
    assert!(check_text(FieldType::Bool, "True").is_err());
    assert!(check_text(FieldType::Date, ZERO_DATE).is_ok());
    assert!(check_text(FieldType::Date, "2024-01-05T00:00:00").is_ok());
    assert!(check_text(FieldType::Date, "2024-01-05").is_err());
    assert!(check_text(FieldType::Time, "00:00:00").is_ok());
    assert!(check_text(FieldType::Datetime, "").is_ok());
}

proptest::proptest! {
    /// Every day from 1900 to 2100 comes back through the day arithmetic unchanged.
    #[test]
    fn civil_days_round_trip(days in -25_567i64..47_482) {
        let date = civil_from_days(days);
        proptest::prop_assert_eq!(days_from_civil(&date), Some(days));
    }

    /// A value in the stored form is stored as itself.
    #[test]
    fn stored_values_are_fixed_points(n in -1_000_000i64..1_000_000, cents in 0u32..100) {
        let text = format!("\"{n}.{cents:02}\"");
        let once = stored(FieldType::Num, &text).unwrap();
        proptest::prop_assert_eq!(stored(FieldType::Num, &once).unwrap(), once);
    }
}
