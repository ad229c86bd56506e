use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::Deserialize;

use super::{CustomFields, Named};
use crate::ids::{CommitmentId, ProjectId, VendorId};

/// The vendor of a commitment: `{id, company}` in v1.0, `{id, name}` in v2.0.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[non_exhaustive]
pub struct CommitmentVendor {
    /// Vendor id.
    pub id: VendorId,
    /// Vendor name (v1.0 `company`).
    #[serde(default)]
    pub company: Option<String>,
    /// Vendor name (v2.0 `name`).
    #[serde(default)]
    pub name: Option<String>,
    /// Vendor external id (show).
    #[serde(default, deserialize_with = "crate::de::string")]
    pub origin_id: Option<String>,
}

impl CommitmentVendor {
    /// The vendor's name from whichever field carries it.
    pub fn display_name(&self) -> Option<&str> {
        self.company.as_deref().or(self.name.as_deref())
    }
}

/// A work order contract (subcontract) or purchase order contract (v1.0 list and show).
///
/// Work order `status` ∈ {Draft, Out For Bid, Out For Signature, Approved, Complete,
/// Terminated, Void}; purchase order `status` ∈ {Draft, Processing, Submitted, Partially
/// Received, Received, Approved, Closed}. Kept as text so new statuses do not fail a sync.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[non_exhaustive]
pub struct Commitment {
    /// Contract id.
    pub id: CommitmentId,
    /// Number.
    #[serde(default, deserialize_with = "crate::de::string")]
    pub number: Option<String>,
    /// Title.
    #[serde(default)]
    pub title: Option<String>,
    /// Description.
    #[serde(default)]
    pub description: Option<String>,
    /// Status (see above).
    #[serde(default)]
    pub status: Option<String>,
    /// Whether the contract is executed (signed).
    #[serde(default)]
    pub executed: Option<bool>,
    /// Execution date.
    #[serde(default, deserialize_with = "crate::de::date")]
    pub execution_date: Option<NaiveDate>,
    /// Contract date.
    #[serde(default, deserialize_with = "crate::de::date")]
    pub contract_date: Option<NaiveDate>,
    /// Start date.
    #[serde(default, deserialize_with = "crate::de::date")]
    pub contract_start_date: Option<NaiveDate>,
    /// Estimated completion date.
    #[serde(default, deserialize_with = "crate::de::date")]
    pub contract_estimated_completion_date: Option<NaiveDate>,
    /// Actual completion date.
    #[serde(default, deserialize_with = "crate::de::date")]
    pub actual_completion_date: Option<NaiveDate>,
    /// Delivery date (purchase orders).
    #[serde(default, deserialize_with = "crate::de::date")]
    pub delivery_date: Option<NaiveDate>,
    /// Whether the contract is private.
    #[serde(default)]
    pub private: Option<bool>,
    /// `amount` or `unit`.
    #[serde(default)]
    pub accounting_method: Option<String>,
    /// Grand total.
    #[serde(default, deserialize_with = "crate::de::decimal")]
    pub grand_total: Option<Decimal>,
    /// Revised contract amount.
    #[serde(default, deserialize_with = "crate::de::decimal")]
    pub revised_contract: Option<Decimal>,
    /// Approved change orders.
    #[serde(default, deserialize_with = "crate::de::decimal")]
    pub approved_change_orders: Option<Decimal>,
    /// Pending change orders.
    #[serde(default, deserialize_with = "crate::de::decimal")]
    pub pending_change_orders: Option<Decimal>,
    /// Retainage percent.
    #[serde(default, deserialize_with = "crate::de::decimal")]
    pub retainage_percent: Option<Decimal>,
    /// Project.
    #[serde(default)]
    pub project: Option<Named<ProjectId>>,
    /// Vendor.
    #[serde(default)]
    pub vendor: Option<CommitmentVendor>,
    /// Custom field values.
    #[serde(default)]
    pub custom_fields: Option<CustomFields>,
    /// External id.
    #[serde(default, deserialize_with = "crate::de::string")]
    pub origin_id: Option<String>,
    /// External data.
    #[serde(default, deserialize_with = "crate::de::string")]
    pub origin_data: Option<String>,
    /// External code.
    #[serde(default, deserialize_with = "crate::de::string")]
    pub origin_code: Option<String>,
    /// Created.
    #[serde(default, deserialize_with = "crate::de::datetime")]
    pub created_at: Option<DateTime<Utc>>,
    /// Last updated.
    #[serde(default, deserialize_with = "crate::de::datetime")]
    pub updated_at: Option<DateTime<Utc>>,
    /// Deleted (with `filters[include_deleted]`).
    #[serde(default, deserialize_with = "crate::de::datetime")]
    pub deleted_at: Option<DateTime<Utc>>,
}

/// A v2.0 commitment contract (`GET /rest/v2.0/companies/{c}/projects/{p}/commitment_contracts`);
/// ids arrive as strings. The extended view carries the vendor name and custom fields.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[non_exhaustive]
pub struct CommitmentContract {
    /// Contract id.
    pub id: CommitmentId,
    /// `WorkOrderContract` or `PurchaseOrderContract`.
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    /// Number.
    #[serde(default, deserialize_with = "crate::de::string")]
    pub number: Option<String>,
    /// Title.
    #[serde(default)]
    pub title: Option<String>,
    /// Status.
    #[serde(default)]
    pub status: Option<String>,
    /// Executed.
    #[serde(default)]
    pub executed: Option<bool>,
    /// Vendor.
    #[serde(default)]
    pub vendor: Option<CommitmentVendor>,
    /// Vendor id, when sent flat.
    #[serde(default)]
    pub vendor_id: Option<VendorId>,
    /// Grand total.
    #[serde(default, deserialize_with = "crate::de::decimal")]
    pub grand_total: Option<Decimal>,
    /// Custom field values.
    #[serde(default)]
    pub custom_fields: Option<CustomFields>,
    /// External id.
    #[serde(default, deserialize_with = "crate::de::string")]
    pub origin_id: Option<String>,
    /// Created.
    #[serde(default, deserialize_with = "crate::de::datetime")]
    pub created_at: Option<DateTime<Utc>>,
    /// Last updated.
    #[serde(default, deserialize_with = "crate::de::datetime")]
    pub updated_at: Option<DateTime<Utc>>,
    /// Deleted.
    #[serde(default, deserialize_with = "crate::de::datetime")]
    pub deleted_at: Option<DateTime<Utc>>,
}
