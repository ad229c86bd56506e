//! Field-level serde helpers for Procore's loosely typed JSON.
//!
//! Procore sends money as strings (`"1000000.0"`), sometimes as numbers, dates as
//! `YYYY-MM-DD`, timestamps as ISO 8601 UTC, and empty strings where a value is absent. These
//! helpers read all of those exactly (money never passes through `f64` when it arrives as a
//! string) and map empty values to `None`. Use them with `#[serde(default, deserialize_with)]`.

use std::str::FromStr;

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Deserializer, Serializer};
use serde_json::Value;

/// Parses a money or quantity value exactly: a decimal string, a JSON number, `null` or `""`.
pub fn parse_decimal(value: &Value) -> Result<Option<Decimal>, String> {
    match value {
        Value::Null => Ok(None),
        Value::String(s) if s.trim().is_empty() => Ok(None),
        Value::String(s) => Decimal::from_str(s.trim())
            .or_else(|_| Decimal::from_scientific(s.trim()))
            .map(Some)
            .map_err(|_| format!("{s:?} is not a decimal amount")),
        Value::Number(n) => {
            let text = n.to_string();
            Decimal::from_str(&text)
                .or_else(|_| Decimal::from_scientific(&text))
                .map(Some)
                .map_err(|_| format!("{text} is not a decimal amount"))
        }
        other => Err(format!("{other} is not a decimal amount")),
    }
}

/// Parses a calendar date: `YYYY-MM-DD`, or the date part of a timestamp; `null`/`""` are `None`.
pub fn parse_date(value: &Value) -> Result<Option<NaiveDate>, String> {
    match value {
        Value::Null => Ok(None),
        Value::String(s) if s.trim().is_empty() => Ok(None),
        Value::String(s) => {
            let s = s.trim();
            NaiveDate::parse_from_str(s, "%Y-%m-%d")
                .or_else(|_| parse_timestamp_str(s).map(|t| t.date_naive()).ok_or(()))
                .map(Some)
                .map_err(|_| format!("{s:?} is not a date (YYYY-MM-DD)"))
        }
        other => Err(format!("{other} is not a date (YYYY-MM-DD)")),
    }
}

/// Parses an ISO 8601 timestamp into UTC; `null`/`""` are `None`.
pub fn parse_datetime(value: &Value) -> Result<Option<DateTime<Utc>>, String> {
    match value {
        Value::Null => Ok(None),
        Value::String(s) if s.trim().is_empty() => Ok(None),
        Value::String(s) => parse_timestamp_str(s.trim())
            .map(Some)
            .ok_or_else(|| format!("{s:?} is not an ISO 8601 timestamp")),
        other => Err(format!("{other} is not an ISO 8601 timestamp")),
    }
}

fn parse_timestamp_str(s: &str) -> Option<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&Utc));
    }
    // Offsets without a colon (`+0000`) and naive timestamps (assumed UTC).
    if let Ok(t) = DateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f%z") {
        return Some(t.with_timezone(&Utc));
    }
    chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f")
        .ok()
        .map(|t| t.and_utc())
}

/// `deserialize_with` for a collection Procore may send as `null` (a folder's `folders` and
/// `files`): `null` reads as empty, as an absent field does with `#[serde(default)]`.
pub fn null_as_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// `deserialize_with` for `Option<Decimal>`.
pub fn decimal<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Decimal>, D::Error> {
    parse_decimal(&Value::deserialize(d)?).map_err(serde::de::Error::custom)
}

/// `deserialize_with` for `Option<NaiveDate>`.
pub fn date<'de, D: Deserializer<'de>>(d: D) -> Result<Option<NaiveDate>, D::Error> {
    parse_date(&Value::deserialize(d)?).map_err(serde::de::Error::custom)
}

/// `deserialize_with` for `Option<DateTime<Utc>>`.
pub fn datetime<'de, D: Deserializer<'de>>(d: D) -> Result<Option<DateTime<Utc>>, D::Error> {
    parse_datetime(&Value::deserialize(d)?).map_err(serde::de::Error::custom)
}

/// `deserialize_with` for `Option<String>` that also accepts numbers and booleans (some
/// "string" fields such as `employee_id` or `origin_id` arrive as numbers) and maps `""` to
/// `None`.
pub fn string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::Null => None,
        Value::String(s) if s.is_empty() => None,
        Value::String(s) => Some(s),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        other => return Err(serde::de::Error::custom(format!("{other} is not a string"))),
    })
}

/// `serialize_with` writing `Option<Decimal>` as a string, as Procore's write bodies expect.
pub fn ser_decimal<S: Serializer>(v: &Option<Decimal>, s: S) -> Result<S::Ok, S::Error> {
    match v {
        Some(d) => s.serialize_str(&d.to_string()),
        None => s.serialize_none(),
    }
}

/// Formats a timestamp the way Procore's filters expect: ISO 8601 UTC with a `Z`.
pub fn format_timestamp(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn decimals_parse_exactly_from_strings_and_numbers() {
        let cases = [
            (json!("1000000.0"), Some("1000000.0")),
            (json!("0.1"), Some("0.1")),
            (json!("12345678901234567.89"), Some("12345678901234567.89")),
            (json!(" 42 "), Some("42")),
            (json!(2500.5), Some("2500.5")),
            (json!(7), Some("7")),
            (json!("1e3"), Some("1000")),
            (json!(""), None),
            (json!(null), None),
        ];
        for (input, want) in cases {
            let got = parse_decimal(&input).unwrap_or_else(|e| panic!("{input}: {e}"));
            assert_eq!(got, want.map(|w| Decimal::from_str(w).unwrap()), "{input}");
        }
        for bad in [json!("abc"), json!(true), json!([1])] {
            assert!(parse_decimal(&bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn dates_and_timestamps_parse_leniently_but_reject_garbage() {
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        assert_eq!(
            parse_date(&json!("2016-03-02")).unwrap(),
            Some(d("2016-03-02"))
        );
        assert_eq!(
            parse_date(&json!("2016-03-02T10:00:00Z")).unwrap(),
            Some(d("2016-03-02"))
        );
        assert_eq!(parse_date(&json!("")).unwrap(), None);
        assert!(parse_date(&json!("03/02/2016")).is_err());
        assert!(parse_date(&json!(20160302)).is_err());

        let t = parse_datetime(&json!("2016-10-23T21:39:40Z"))
            .unwrap()
            .unwrap();
        assert_eq!(format_timestamp(t), "2016-10-23T21:39:40Z");
        let t = parse_datetime(&json!("2025-02-06T23:34:12.246562Z"))
            .unwrap()
            .unwrap();
        assert_eq!(t.timestamp_subsec_micros(), 246_562);
        let t = parse_datetime(&json!("2016-10-23T23:39:40+02:00"))
            .unwrap()
            .unwrap();
        assert_eq!(format_timestamp(t), "2016-10-23T21:39:40Z");
        assert_eq!(parse_datetime(&json!(null)).unwrap(), None);
        assert!(parse_datetime(&json!("yesterday")).is_err());
    }
}
