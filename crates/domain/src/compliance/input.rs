//! What people type for a compliance record's values, read into the records' types.
//!
//! A person enters an amount as "$1,000,000" and a subject as "gl", on a command line or in a
//! form field; every face reads them with the same rules so a value accepted in one is
//! accepted in the other. Each error quotes what was typed and says what to write instead.

use super::profile::{Endorsement, LimitKind, Subject};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::de::{value::StrDeserializer, DeserializeOwned, IntoDeserializer};

const MONEY_HINT: &str = "write e.g. \"$1,000,000\" or \"1000000\"";

const LIMIT_NAMES: &str = "general liability: each-occurrence, damage-to-rented-premises, \
    medical-expense, personal-and-advertising-injury, general-aggregate, \
    products-completed-operations-aggregate; automobile: combined-single-limit, \
    bodily-injury-per-person, bodily-injury-per-accident, property-damage-per-accident; \
    umbrella: umbrella-each-occurrence, umbrella-aggregate; workers compensation: \
    el-each-accident, el-disease-each-employee, el-disease-policy-limit";

/// A typed value that is not one the records can hold, quoting what was typed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ValueError {
    #[error("\"{0}\" is not an amount; {MONEY_HINT}")]
    EmptyAmount(String),
    #[error("\"{0}\" is not an amount: commas must separate groups of three digits; {MONEY_HINT}")]
    MisgroupedAmount(String),
    #[error("\"{0}\" is not an amount; {MONEY_HINT} (no minus sign, no letters)")]
    NotAnAmount(String),
    #[error("\"{0}\" is not a date; write YYYY-MM-DD, e.g. 2026-12-31")]
    NotADate(String),
    #[error(
        "\"{0}\" is not a subject; use general-liability (gl), automobile-liability (auto), \
         umbrella-excess (umbrella) or workers-compensation (wc)"
    )]
    NotASubject(String),
    #[error("\"{0}\" is not a limit; the limits are {LIMIT_NAMES}")]
    NotALimit(String),
    #[error(
        "\"{0}\" is not an endorsement; use additional-insured, waiver-of-subrogation or \
         primary-non-contributory"
    )]
    NotAnEndorsement(String),
}

/// An amount as people write it: "$1,000,000", "1000000", "2500.50". Commas must group
/// thousands, so a slip like "1,000,00" is caught rather than read as 100,000.
pub fn parse_money(s: &str) -> Result<Decimal, ValueError> {
    let t = s.trim();
    let t = t.strip_prefix('$').unwrap_or(t).trim();
    if t.is_empty() {
        return Err(ValueError::EmptyAmount(s.to_owned()));
    }
    let (whole, frac) = t.split_once('.').unwrap_or((t, ""));
    if whole.contains(',') {
        let groups: Vec<&str> = whole.split(',').collect();
        let first_ok = (1..=3).contains(&groups[0].len());
        if !first_ok || groups[1..].iter().any(|g| g.len() != 3) {
            return Err(ValueError::MisgroupedAmount(s.to_owned()));
        }
    }
    let digits = format!(
        "{}{}{frac}",
        whole.replace(',', ""),
        if frac.is_empty() { "" } else { "." }
    );
    let ok = !digits.is_empty()
        && digits.chars().all(|c| c.is_ascii_digit() || c == '.')
        && digits.chars().filter(|c| *c == '.').count() <= 1;
    ok.then(|| digits.parse().ok())
        .flatten()
        .ok_or_else(|| ValueError::NotAnAmount(s.to_owned()))
}

pub fn parse_date(s: &str) -> Result<NaiveDate, ValueError> {
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").map_err(|_| ValueError::NotADate(s.to_owned()))
}

/// A value by its snake_case serde name, from what people type ("Each Occurrence",
/// "each-occurrence"), so the names people type are the names in JSON.
fn serde_name<T: DeserializeOwned>(s: &str) -> Option<T> {
    let name = s.trim().to_lowercase().replace(['-', ' '], "_");
    let name: StrDeserializer<'_, serde::de::value::Error> = name.as_str().into_deserializer();
    T::deserialize(name).ok()
}

/// A subject by its name or the short one people use ("gl", "auto", "umbrella", "wc").
pub fn parse_subject(s: &str) -> Result<Subject, ValueError> {
    let short = Subject::ALL
        .into_iter()
        .find(|subject| s.trim().eq_ignore_ascii_case(subject.short_key()));
    let alias = match s.trim().to_lowercase().as_str() {
        "cgl" => Some(Subject::GeneralLiability),
        "al" => Some(Subject::AutomobileLiability),
        "excess" => Some(Subject::UmbrellaExcess),
        _ => None,
    };
    short
        .or(alias)
        .or_else(|| serde_name(s))
        .ok_or_else(|| ValueError::NotASubject(s.to_owned()))
}

pub fn parse_limit(s: &str) -> Result<LimitKind, ValueError> {
    serde_name(s).ok_or_else(|| ValueError::NotALimit(s.to_owned()))
}

pub fn parse_endorsement(s: &str) -> Result<Endorsement, ValueError> {
    serde_name(s).ok_or_else(|| ValueError::NotAnEndorsement(s.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_are_read_with_or_without_dollar_sign_and_separators() {
        for (typed, exact) in [
            ("$1,000,000", "1000000"),
            ("1000000", "1000000"),
            ("1,000,000", "1000000"),
            (" $2,500.50 ", "2500.50"),
            ("999", "999"),
        ] {
            assert_eq!(parse_money(typed), Ok(exact.parse().unwrap()), "{typed}");
        }
    }

    #[test]
    fn a_misplaced_comma_or_a_sign_is_refused_with_what_to_write() {
        for typed in [
            "1,000,00",
            "10,00",
            "-5",
            "1e6",
            "",
            "$",
            "1.000.000",
            "one million",
        ] {
            let err = parse_money(typed).unwrap_err().to_string();
            assert!(err.contains("1,000,000"), "{typed}: {err}");
        }
    }

    #[test]
    fn subjects_limits_and_endorsements_are_read_in_kebab_or_snake_case() {
        assert_eq!(parse_subject("gl"), Ok(Subject::GeneralLiability));
        assert_eq!(parse_subject("CGL"), Ok(Subject::GeneralLiability));
        assert_eq!(parse_subject("umbrella"), Ok(Subject::UmbrellaExcess));
        assert_eq!(
            parse_subject("workers-compensation"),
            Ok(Subject::WorkersCompensation)
        );
        assert_eq!(
            parse_limit("Each Occurrence"),
            Ok(LimitKind::EachOccurrence)
        );
        assert_eq!(
            parse_endorsement("waiver_of_subrogation"),
            Ok(Endorsement::WaiverOfSubrogation)
        );
        assert!(parse_limit("each-occurence")
            .unwrap_err()
            .to_string()
            .contains("each-occurrence"));
        assert!(parse_date("2026-13-01")
            .unwrap_err()
            .to_string()
            .contains("YYYY-MM-DD"));
    }
}
