use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::Deserialize;

use super::{CustomFields, Named};
use crate::ids::{CompanyId, ProjectId, UserId};

/// A project (`GET /rest/v1.0/projects`, `/rest/v1.1/projects`, `/rest/v1.0/projects/{id}`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[non_exhaustive]
pub struct Project {
    /// Project id.
    pub id: ProjectId,
    /// Name.
    #[serde(default)]
    pub name: Option<String>,
    /// Name with number, as shown in Procore.
    #[serde(default)]
    pub display_name: Option<String>,
    /// Project number.
    #[serde(default, deserialize_with = "crate::de::string")]
    pub project_number: Option<String>,
    /// Whether the project is active.
    #[serde(default)]
    pub active: Option<bool>,
    /// Stage name.
    #[serde(default)]
    pub stage: Option<String>,
    /// Stage reference.
    #[serde(default)]
    pub project_stage: Option<Named>,
    /// Template the project came from.
    #[serde(default)]
    pub project_template: Option<Named>,
    /// Whether this project is itself a template (show only).
    #[serde(default)]
    pub template: Option<bool>,
    /// Demo project.
    #[serde(default)]
    pub is_demo: Option<bool>,
    /// Street address.
    #[serde(default)]
    pub address: Option<String>,
    /// City.
    #[serde(default)]
    pub city: Option<String>,
    /// State code.
    #[serde(default)]
    pub state_code: Option<String>,
    /// ISO 3166 alpha-2 country code.
    #[serde(default)]
    pub country_code: Option<String>,
    /// Postal code.
    #[serde(default, deserialize_with = "crate::de::string")]
    pub zip: Option<String>,
    /// County.
    #[serde(default)]
    pub county: Option<String>,
    /// Time zone.
    #[serde(default)]
    pub time_zone: Option<String>,
    /// Latitude.
    #[serde(default)]
    pub latitude: Option<f64>,
    /// Longitude.
    #[serde(default)]
    pub longitude: Option<f64>,
    /// Phone.
    #[serde(default)]
    pub phone: Option<String>,
    /// Description (show and v1.1 only).
    #[serde(default)]
    pub description: Option<String>,
    /// Public notes (show and v1.1 only).
    #[serde(default)]
    pub public_notes: Option<String>,
    /// Start date.
    #[serde(default, deserialize_with = "crate::de::date")]
    pub start_date: Option<NaiveDate>,
    /// Completion date.
    #[serde(default, deserialize_with = "crate::de::date")]
    pub completion_date: Option<NaiveDate>,
    /// Projected finish date.
    #[serde(default, deserialize_with = "crate::de::date")]
    pub projected_finish_date: Option<NaiveDate>,
    /// Total value (money, sent as a string).
    #[serde(default, deserialize_with = "crate::de::decimal")]
    pub total_value: Option<Decimal>,
    /// Deprecated mirror of `total_value`.
    #[serde(default, deserialize_with = "crate::de::decimal")]
    pub estimated_value: Option<Decimal>,
    /// External id set by an integration.
    #[serde(default, deserialize_with = "crate::de::string")]
    pub origin_id: Option<String>,
    /// External data set by an integration.
    #[serde(default, deserialize_with = "crate::de::string")]
    pub origin_data: Option<String>,
    /// External code set by an integration.
    #[serde(default, deserialize_with = "crate::de::string")]
    pub origin_code: Option<String>,
    /// Owning company.
    #[serde(default)]
    pub company: Option<Named<CompanyId>>,
    /// Creator.
    #[serde(default)]
    pub created_by: Option<Named<UserId>>,
    /// Office (show and v1.1).
    #[serde(default)]
    pub office: Option<Named>,
    /// Custom field values.
    #[serde(default)]
    pub custom_fields: Option<CustomFields>,
    /// Created.
    #[serde(default, deserialize_with = "crate::de::datetime")]
    pub created_at: Option<DateTime<Utc>>,
    /// Last updated.
    #[serde(default, deserialize_with = "crate::de::datetime")]
    pub updated_at: Option<DateTime<Utc>>,
}
