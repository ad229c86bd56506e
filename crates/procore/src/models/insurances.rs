use std::collections::BTreeMap;
use std::fmt;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

use crate::ids::{InsuranceId, VendorId};

/// Insurance `status`. Unknown values are kept, not rejected.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum InsuranceStatus {
    /// `compliant`
    Compliant,
    /// `compliant_in_progress`
    CompliantInProgress,
    /// `expired`
    Expired,
    /// `non_compliant`
    NonCompliant,
    /// `non_compliant_in_progress`
    NonCompliantInProgress,
    /// `undecided`
    Undecided,
    /// `unregistered`
    Unregistered,
    /// Anything else.
    Unknown(String),
}

impl InsuranceStatus {
    /// The wire value.
    pub fn as_str(&self) -> &str {
        match self {
            InsuranceStatus::Compliant => "compliant",
            InsuranceStatus::CompliantInProgress => "compliant_in_progress",
            InsuranceStatus::Expired => "expired",
            InsuranceStatus::NonCompliant => "non_compliant",
            InsuranceStatus::NonCompliantInProgress => "non_compliant_in_progress",
            InsuranceStatus::Undecided => "undecided",
            InsuranceStatus::Unregistered => "unregistered",
            InsuranceStatus::Unknown(s) => s,
        }
    }

    /// Reads a wire value.
    pub fn parse(s: &str) -> Self {
        match s {
            "compliant" => InsuranceStatus::Compliant,
            "compliant_in_progress" => InsuranceStatus::CompliantInProgress,
            "expired" => InsuranceStatus::Expired,
            "non_compliant" => InsuranceStatus::NonCompliant,
            "non_compliant_in_progress" => InsuranceStatus::NonCompliantInProgress,
            "undecided" => InsuranceStatus::Undecided,
            "unregistered" => InsuranceStatus::Unregistered,
            other => InsuranceStatus::Unknown(other.to_string()),
        }
    }
}

impl fmt::Display for InsuranceStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for InsuranceStatus {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for InsuranceStatus {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(InsuranceStatus::parse(&String::deserialize(d)?))
    }
}

/// An insurance record (the same at company-vendor, project-vendor, company and project level).
/// Procore documents no timestamps on insurances.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[non_exhaustive]
pub struct Insurance {
    /// Insurance id.
    pub id: InsuranceId,
    /// Vendor.
    #[serde(default)]
    pub vendor_id: Option<VendorId>,
    /// Free-text type, e.g. "General Liability".
    #[serde(default)]
    pub insurance_type: Option<String>,
    /// Provider (written as `name`).
    #[serde(default)]
    pub insurance_provider: Option<String>,
    /// Policy number.
    #[serde(default, deserialize_with = "crate::de::string")]
    pub policy_number: Option<String>,
    /// Effective date.
    #[serde(default, deserialize_with = "crate::de::date")]
    pub effective_date: Option<NaiveDate>,
    /// Expiration date.
    #[serde(default, deserialize_with = "crate::de::date")]
    pub expiration_date: Option<NaiveDate>,
    /// Limit (money, sent as a string).
    #[serde(default, deserialize_with = "crate::de::decimal")]
    pub limit: Option<Decimal>,
    /// Status.
    #[serde(default)]
    pub status: Option<InsuranceStatus>,
    /// Exempt.
    #[serde(default)]
    pub exempt: Option<bool>,
    /// Info received.
    #[serde(default)]
    pub info_received: Option<bool>,
    /// Expired-insurance notifications (plural, as Procore spells it).
    #[serde(default)]
    pub enable_expired_insurance_notifications: Option<bool>,
    /// Notes.
    #[serde(default)]
    pub notes: Option<String>,
    /// Additional insured.
    #[serde(default)]
    pub additional_insured: Option<String>,
    /// Division template.
    #[serde(default)]
    pub division_template: Option<String>,
    /// Insurance sets (a string, not a list).
    #[serde(default)]
    pub insurance_sets: Option<String>,
    /// External id.
    #[serde(default, deserialize_with = "crate::de::string")]
    pub origin_id: Option<String>,
    /// External data.
    #[serde(default, deserialize_with = "crate::de::string")]
    pub origin_data: Option<String>,
}

/// The writable fields of an insurance (create, update, sync item). The provider is sent as
/// `name` (and read back as `insurance_provider`). Unset fields are left out.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct InsuranceWrite {
    /// Existing record to update (sync).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<InsuranceId>,
    /// Vendor (company- and project-level collections only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vendor_id: Option<VendorId>,
    /// Provider.
    #[serde(rename = "name", skip_serializing_if = "Option::is_none")]
    pub provider: Option<String>,
    /// Type.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub insurance_type: Option<String>,
    /// Policy number.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy_number: Option<String>,
    /// Effective date.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub effective_date: Option<NaiveDate>,
    /// Expiration date.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expiration_date: Option<NaiveDate>,
    /// Limit (written as a string).
    #[serde(
        serialize_with = "crate::de::ser_decimal",
        skip_serializing_if = "Option::is_none"
    )]
    pub limit: Option<Decimal>,
    /// Status.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<InsuranceStatus>,
    /// Exempt.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exempt: Option<bool>,
    /// Info received.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub info_received: Option<bool>,
    /// Expired-insurance notifications (Procore defaults to true).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enable_expired_insurance_notifications: Option<bool>,
    /// Notes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
    /// Additional insured.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub additional_insured: Option<String>,
    /// Division template.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub division_template: Option<String>,
    /// Insurance sets.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub insurance_sets: Option<String>,
    /// External id: makes a sync idempotent (found → update, not found → create).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub origin_id: Option<String>,
    /// External data.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub origin_data: Option<String>,
}

/// One failed item of a sync call.
#[derive(Debug, Clone, PartialEq)]
pub struct SyncItemError {
    /// The submitted `id`, if any.
    pub id: Option<String>,
    /// The submitted `origin_id`, if any.
    pub origin_id: Option<String>,
    /// Messages per field.
    pub errors: BTreeMap<String, Vec<String>>,
    /// The item as Procore echoed it.
    pub raw: Value,
}

/// The answer of a `PATCH .../sync` call (always HTTP 200): what was written and what failed.
#[derive(Debug, Clone)]
pub struct SyncResult<T> {
    /// Records created or updated.
    pub entities: Vec<T>,
    /// Items Procore refused, with reasons.
    pub errors: Vec<SyncItemError>,
    /// Entities in the answer that could not be read.
    pub malformed: Vec<crate::error::Malformed>,
}

impl SyncItemError {
    pub(crate) fn from_value(v: Value) -> Self {
        let text = |key: &str| match v.get(key) {
            Some(Value::String(s)) => Some(s.clone()),
            Some(Value::Number(n)) => Some(n.to_string()),
            _ => None,
        };
        let mut errors = BTreeMap::new();
        if let Some(Value::Object(map)) = v.get("errors") {
            for (k, msgs) in map {
                let list = match msgs {
                    Value::Array(items) => items
                        .iter()
                        .map(|m| {
                            m.as_str()
                                .map(str::to_string)
                                .unwrap_or_else(|| m.to_string())
                        })
                        .collect(),
                    Value::String(s) => vec![s.clone()],
                    other => vec![other.to_string()],
                };
                errors.insert(k.clone(), list);
            }
        }
        SyncItemError {
            id: text("id"),
            origin_id: text("origin_id"),
            errors,
            raw: v,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    #[test]
    fn insurance_write_sends_the_provider_as_name_and_money_as_a_string() {
        let w = InsuranceWrite {
            provider: Some("GL Insurance Inc.".into()),
            limit: Some(Decimal::from_str("1000000.00").unwrap()),
            expiration_date: NaiveDate::from_ymd_opt(2026, 3, 2),
            status: Some(InsuranceStatus::Compliant),
            origin_id: Some("trestle-1".into()),
            ..InsuranceWrite::default()
        };
        assert_eq!(
            serde_json::to_value(&w).unwrap(),
            serde_json::json!({"name":"GL Insurance Inc.","limit":"1000000.00","expiration_date":"2026-03-02","status":"compliant","origin_id":"trestle-1"})
        );
    }

    #[test]
    fn insurance_reads_the_documented_example() {
        let i: Insurance = serde_json::from_value(serde_json::json!({
            "id": 311823, "vendor_id": 2627684, "insurance_type": "General Liability",
            "insurance_provider": "GL Insurance Inc.", "policy_number": "12345GL",
            "effective_date": "2015-03-03", "expiration_date": "2016-03-02", "limit": "1000000.0",
            "status": "compliant", "exempt": false, "info_received": false,
            "enable_expired_insurance_notifications": false, "notes": "Meets minimum requirements",
            "additional_insured": "John Doe", "division_template": "Template 1",
            "insurance_sets": "Set 1", "origin_id": "ABC123", "origin_data": "OD-2398273424",
            "brand_new_field": {"x": 1}
        }))
        .unwrap();
        assert_eq!(i.limit, Some(Decimal::from_str("1000000.0").unwrap()));
        assert_eq!(i.status, Some(InsuranceStatus::Compliant));
        assert_eq!(i.vendor_id, Some(VendorId(2_627_684)));
        let odd: Insurance =
            serde_json::from_value(serde_json::json!({"id": "5", "status": "pending_review"}))
                .unwrap();
        assert_eq!(
            odd.status,
            Some(InsuranceStatus::Unknown("pending_review".into()))
        );
    }
}
