//! Typed records as Procore sends them.
//!
//! Field names follow `procore-openapi-subset.json` exactly. Ids are newtypes
//! ([`crate::ids`]); money is [`rust_decimal::Decimal`] read exactly from strings; dates are
//! [`chrono::NaiveDate`]; timestamps `DateTime<Utc>`. Every field but `id` is optional, and
//! unknown fields are ignored, so Procore adding or dropping a field does not break a sync.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::ids::{CompanyId, CustomFieldDefinitionId, LookupId, UserId};

mod commitments;
mod directory;
mod documents;
mod hooks;
mod insurances;
mod projects;

pub use commitments::*;
pub use directory::*;
pub use documents::*;
pub use hooks::*;
pub use insurances::*;
pub use projects::*;

/// `{id, name}` references (stages, templates, offices, ...).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct Named<I = LookupId> {
    /// Id.
    pub id: I,
    /// Name.
    #[serde(default)]
    pub name: Option<String>,
}

/// One custom field value: `{"data_type": "string", "value": ...}`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct CustomField {
    /// `string`, `decimal`, `boolean`, `lov_entry`, `lov_entries`, ...
    #[serde(default)]
    pub data_type: Option<String>,
    /// The value as sent (its JSON type depends on `data_type`).
    #[serde(default)]
    pub value: Value,
}

/// `custom_fields`: `{"custom_field_<definition id>": CustomField}`.
pub type CustomFields = BTreeMap<String, CustomField>;

/// An item of `GET /rest/v2.0/companies/{company_id}/custom_field_definitions`: what a
/// `custom_field_<id>` key is called where people see it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[non_exhaustive]
pub struct CustomFieldDefinition {
    /// Definition id (a string in v2.0).
    pub id: CustomFieldDefinitionId,
    /// The label an administrator typed.
    #[serde(default)]
    pub label: Option<String>,
    /// Whether the definition is active.
    #[serde(default)]
    pub active: Option<bool>,
    /// `string`, `decimal`, `boolean`, `lov_entry`, `lov_entries`, ...
    #[serde(default)]
    pub data_type: Option<String>,
}

impl CustomFieldDefinition {
    /// The key records carry this field under: `custom_field_<id>`.
    pub fn key(&self) -> String {
        format!("custom_field_{}", self.id)
    }
}

/// `GET /rest/v1.0/me`: the user the token acts as (for client credentials, the app's service
/// account).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[non_exhaustive]
pub struct Me {
    /// User id.
    pub id: UserId,
    /// Login (email).
    #[serde(default)]
    pub login: Option<String>,
    /// Display name.
    #[serde(default)]
    pub name: Option<String>,
}

/// An item of `GET /rest/v1.0/companies`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[non_exhaustive]
pub struct Company {
    /// Company id.
    pub id: CompanyId,
    /// Name.
    #[serde(default)]
    pub name: Option<String>,
    /// Whether the company is active.
    #[serde(default)]
    pub is_active: Option<bool>,
    /// Logo URL.
    #[serde(default)]
    pub logo_url: Option<String>,
    /// Whether this is the user's own company.
    #[serde(default)]
    pub my_company: Option<bool>,
}
