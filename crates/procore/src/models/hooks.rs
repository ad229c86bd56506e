use serde::Deserialize;

use crate::ids::{CompanyId, HookId, ProjectId, ResourceId, TriggerId, UserId};

/// A webhook hook (v1.0). `destination_headers` (the masked Authorization) is not kept.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[non_exhaustive]
pub struct Hook {
    /// Hook id.
    pub id: HookId,
    /// Payload version, e.g. `v2`.
    #[serde(default)]
    pub api_version: Option<String>,
    /// Namespace (one per app).
    #[serde(default)]
    pub namespace: Option<String>,
    /// Where deliveries go.
    #[serde(default)]
    pub destination_url: Option<String>,
    /// Company owner.
    #[serde(default)]
    pub owned_by_company_id: Option<CompanyId>,
    /// Project owner.
    #[serde(default)]
    pub owned_by_project_id: Option<ProjectId>,
    /// User who created it.
    #[serde(default)]
    pub owned_by_user_id: Option<UserId>,
}

/// A webhook trigger (v1.0). Responses echo `event_type` in capitals (`CREATE`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[non_exhaustive]
pub struct Trigger {
    /// Trigger id.
    pub id: TriggerId,
    /// Hook.
    #[serde(default)]
    pub webhook_hook_id: Option<HookId>,
    /// Resource name, e.g. "Company Users".
    #[serde(default)]
    pub resource_name: Option<String>,
    /// Resource id, when the trigger is for one record.
    #[serde(default)]
    pub resource_id: Option<ResourceId>,
    /// `CREATE`, `UPDATE` or `DELETE`.
    #[serde(default)]
    pub event_type: Option<String>,
    /// Company.
    #[serde(default)]
    pub company_id: Option<CompanyId>,
    /// Project.
    #[serde(default)]
    pub project_id: Option<ProjectId>,
    /// User.
    #[serde(default)]
    pub user_id: Option<UserId>,
}

/// One delivery of an event to a hook (v1.0 `GET …/hooks/{id}/deliveries`), as much as trestle
/// reads: whether Procore gave it up, and when.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[non_exhaustive]
pub struct HookDelivery {
    /// The event delivered.
    #[serde(default)]
    pub event_id: Option<u64>,
    /// `ok`, `retried`, `failed` or `discarded`.
    #[serde(default)]
    pub outcome: Option<String>,
    /// The HTTP status of the last attempt.
    #[serde(default)]
    pub response_status: Option<u16>,
    /// When the last attempt ended.
    #[serde(default, deserialize_with = "crate::de::datetime")]
    pub completed_at: Option<chrono::DateTime<chrono::Utc>>,
}
