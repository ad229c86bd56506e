//! Webhook deliveries: a pure parser for Procore's payloads.
//!
//! Procore POSTs one event per delivery, at least once. Two payload families exist:
//! v2.0/v3.0 (`id` integer that can exceed 2^53, `ulid`, `event_type`, `resource_name`,
//! integer ids, `metadata`, v3 `related_resources`) and v4.0 (`id` a ULID string, `reason`,
//! `resource_type`, every id a string, optional `data`). [`parse`] reads both into one
//! [`Delivery`]; unknown resources and event types are variants, never errors, so a new
//! Procore resource does not bounce deliveries. Procore documents no signature header: check
//! the hook's `Authorization` value before calling this.

use std::fmt;

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use crate::ids::{CompanyId, ProjectId, ResourceId, UserId};

/// Why a body is not a delivery.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WebhookError {
    /// The body is not JSON.
    #[error("webhook body is not JSON: {0}")]
    NotJson(String),
    /// The body is JSON but not an object.
    #[error("webhook body is not a JSON object")]
    NotAnObject,
    /// A required field is absent.
    #[error("webhook body has no `{0}`")]
    Missing(&'static str),
    /// A field has the wrong type or format.
    #[error("webhook field `{field}` is invalid: {reason}")]
    Invalid {
        /// Field name.
        field: &'static str,
        /// What is wrong.
        reason: String,
    },
}

/// The event id: an integer (v2/v3, may exceed 2^53) or a ULID string (v4).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum EventId {
    /// v2.0/v3.0 integer id.
    Number(u64),
    /// v4.0 ULID.
    Text(String),
}

impl fmt::Display for EventId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EventId::Number(n) => write!(f, "{n}"),
            EventId::Text(s) => f.write_str(s),
        }
    }
}

/// The payload format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PayloadVersion {
    /// v2.0 (legacy), including `api_version: "v2"`.
    V2,
    /// v3.0 (adds `related_resources`).
    V3,
    /// v4.0 (string ids, `reason`, `resource_type`).
    V4,
    /// Another `api_version` value in the v2/v3 shape.
    Other(String),
}

/// What happened.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum EventType {
    /// `create`
    Create,
    /// `update`
    Update,
    /// `delete`
    Delete,
    /// Anything else (v4 `reason` may carry more values).
    Unknown(String),
}

impl EventType {
    /// Reads `event_type`/`reason`, case-insensitively.
    pub fn parse(s: &str) -> Self {
        match s.to_ascii_lowercase().as_str() {
            "create" => EventType::Create,
            "update" => EventType::Update,
            "delete" => EventType::Delete,
            _ => EventType::Unknown(s.to_string()),
        }
    }
}

/// Which resource changed (`resource_name` / `resource_type`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Resource {
    /// `Projects`
    Projects,
    /// `Company Users`
    CompanyUsers,
    /// `Company Vendors`
    CompanyVendors,
    /// `Project Users`
    ProjectUsers,
    /// `Project Vendors`
    ProjectVendors,
    /// `Work Order Contracts`
    WorkOrderContracts,
    /// `Purchase Order Contracts`
    PurchaseOrderContracts,
    /// `Company Insurances`
    CompanyInsurances,
    /// `Project Insurances`
    ProjectInsurances,
    /// `Project Folders`
    ProjectFolders,
    /// `Project Files`
    ProjectFiles,
    /// `Project File Versions`
    ProjectFileVersions,
    /// `Company Folders`
    CompanyFolders,
    /// `Company Files`
    CompanyFiles,
    /// `Project Stages`
    ProjectStages,
    /// Any other resource name, kept verbatim.
    Unknown(String),
}

impl Resource {
    /// Reads a resource name.
    pub fn parse(name: &str) -> Self {
        match name.trim() {
            "Projects" => Resource::Projects,
            "Company Users" => Resource::CompanyUsers,
            "Company Vendors" => Resource::CompanyVendors,
            "Project Users" => Resource::ProjectUsers,
            "Project Vendors" => Resource::ProjectVendors,
            "Work Order Contracts" => Resource::WorkOrderContracts,
            "Purchase Order Contracts" => Resource::PurchaseOrderContracts,
            "Company Insurances" => Resource::CompanyInsurances,
            "Project Insurances" => Resource::ProjectInsurances,
            "Project Folders" => Resource::ProjectFolders,
            "Project Files" => Resource::ProjectFiles,
            "Project File Versions" => Resource::ProjectFileVersions,
            "Company Folders" => Resource::CompanyFolders,
            "Company Files" => Resource::CompanyFiles,
            "Project Stages" => Resource::ProjectStages,
            other => Resource::Unknown(other.to_string()),
        }
    }

    /// The Procore name.
    pub fn name(&self) -> &str {
        match self {
            Resource::Projects => "Projects",
            Resource::CompanyUsers => "Company Users",
            Resource::CompanyVendors => "Company Vendors",
            Resource::ProjectUsers => "Project Users",
            Resource::ProjectVendors => "Project Vendors",
            Resource::WorkOrderContracts => "Work Order Contracts",
            Resource::PurchaseOrderContracts => "Purchase Order Contracts",
            Resource::CompanyInsurances => "Company Insurances",
            Resource::ProjectInsurances => "Project Insurances",
            Resource::ProjectFolders => "Project Folders",
            Resource::ProjectFiles => "Project Files",
            Resource::ProjectFileVersions => "Project File Versions",
            Resource::CompanyFolders => "Company Folders",
            Resource::CompanyFiles => "Company Files",
            Resource::ProjectStages => "Project Stages",
            Resource::Unknown(s) => s,
        }
    }
}

/// v2/v3 `metadata`: who caused the change (filter your own writes on
/// `source_application_id` to avoid loops).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Metadata {
    /// User who made the change.
    pub source_user_id: Option<UserId>,
    /// Company.
    pub source_company_id: Option<CompanyId>,
    /// Project.
    pub source_project_id: Option<ProjectId>,
    /// Application (OAuth app) that made the change.
    pub source_application_id: Option<String>,
    /// Operation.
    pub source_operation_id: Option<String>,
}

/// v3 `related_resources` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RelatedResource {
    /// Id.
    pub id: Option<ResourceId>,
    /// Resource name.
    pub name: Resource,
}

/// One webhook event.
#[derive(Debug, Clone, PartialEq)]
pub struct Delivery {
    /// Event id.
    pub id: EventId,
    /// v2/v3 ULID.
    pub ulid: Option<String>,
    /// When the event happened.
    pub timestamp: Option<DateTime<Utc>>,
    /// Payload format.
    pub version: PayloadVersion,
    /// What happened.
    pub event: EventType,
    /// Which resource.
    pub resource: Resource,
    /// The changed record's id.
    pub resource_id: ResourceId,
    /// Company.
    pub company_id: Option<CompanyId>,
    /// Project (absent for company-level resources).
    pub project_id: Option<ProjectId>,
    /// User who made the change.
    pub user_id: Option<UserId>,
    /// v2/v3 metadata.
    pub metadata: Option<Metadata>,
    /// v3 related resources.
    pub related_resources: Vec<RelatedResource>,
    /// v4 `data`.
    pub data: Option<Value>,
}

impl Delivery {
    /// The key to deduplicate at-least-once deliveries on: the ULID when there is one, else
    /// the id.
    pub fn dedupe_key(&self) -> String {
        self.ulid.clone().unwrap_or_else(|| self.id.to_string())
    }
}

fn id_of(obj: &Map<String, Value>, field: &'static str) -> Result<Option<i64>, WebhookError> {
    match obj.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.is_empty() => Ok(None),
        Some(Value::Number(n)) => n.as_i64().map(Some).ok_or_else(|| WebhookError::Invalid {
            field,
            reason: format!("{n} is not a 64-bit integer"),
        }),
        Some(Value::String(s)) => {
            s.trim()
                .parse::<i64>()
                .map(Some)
                .map_err(|_| WebhookError::Invalid {
                    field,
                    reason: format!("{s:?} is not an integer id"),
                })
        }
        Some(other) => Err(WebhookError::Invalid {
            field,
            reason: format!("{other} is not an id"),
        }),
    }
}

fn str_of(obj: &Map<String, Value>, field: &'static str) -> Result<Option<String>, WebhookError> {
    match obj.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(Value::Number(n)) => Ok(Some(n.to_string())),
        Some(other) => Err(WebhookError::Invalid {
            field,
            reason: format!("{other} is not a string"),
        }),
    }
}

/// Parses one delivery body. Pure: no clock, no I/O.
pub fn parse(body: &[u8]) -> Result<Delivery, WebhookError> {
    let value: Value =
        serde_json::from_slice(body).map_err(|e| WebhookError::NotJson(e.to_string()))?;
    let Value::Object(obj) = value else {
        return Err(WebhookError::NotAnObject);
    };
    let v4 = obj.contains_key("resource_type")
        || (obj.contains_key("reason") && !obj.contains_key("event_type"));

    let id = match obj.get("id") {
        None | Some(Value::Null) => return Err(WebhookError::Missing("id")),
        Some(Value::Number(n)) => {
            EventId::Number(n.as_u64().ok_or_else(|| WebhookError::Invalid {
                field: "id",
                reason: format!("{n} is not a 64-bit unsigned integer"),
            })?)
        }
        Some(Value::String(s)) => match s.parse::<u64>() {
            Ok(n) if !v4 => EventId::Number(n),
            _ => EventId::Text(s.clone()),
        },
        Some(other) => {
            return Err(WebhookError::Invalid {
                field: "id",
                reason: format!("{other} is not an id"),
            })
        }
    };

    let (event_field, resource_field) = if v4 {
        ("reason", "resource_type")
    } else {
        ("event_type", "resource_name")
    };
    let event = str_of(&obj, event_field)?.ok_or(WebhookError::Missing(event_field))?;
    let resource = str_of(&obj, resource_field)?.ok_or(WebhookError::Missing(resource_field))?;
    let resource_id = id_of(&obj, "resource_id")?.ok_or(WebhookError::Missing("resource_id"))?;

    let timestamp = match str_of(&obj, "timestamp")? {
        None => None,
        Some(t) => Some(
            crate::de::parse_datetime(&Value::String(t))
                .map_err(|reason| WebhookError::Invalid {
                    field: "timestamp",
                    reason,
                })?
                .ok_or(WebhookError::Missing("timestamp"))?,
        ),
    };

    let version = if v4 {
        PayloadVersion::V4
    } else {
        match str_of(&obj, "api_version")?.as_deref() {
            None | Some("v2") | Some("v2.0") => PayloadVersion::V2,
            Some("v3") | Some("v3.0") => PayloadVersion::V3,
            Some("v4") | Some("v4.0") => PayloadVersion::V4,
            Some(other) => PayloadVersion::Other(other.to_string()),
        }
    };

    let metadata = match obj.get("metadata") {
        Some(Value::Object(m)) => Some(Metadata {
            source_user_id: id_of(m, "source_user_id")?.map(UserId),
            source_company_id: id_of(m, "source_company_id")?.map(CompanyId),
            source_project_id: id_of(m, "source_project_id")?.map(ProjectId),
            source_application_id: str_of(m, "source_application_id")?,
            source_operation_id: str_of(m, "source_operation_id")?,
        }),
        _ => None,
    };

    let related_resources = match obj.get("related_resources") {
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(Value::as_object)
            .map(|r| {
                Ok(RelatedResource {
                    id: id_of(r, "id")?.map(ResourceId),
                    name: Resource::parse(&str_of(r, "name")?.unwrap_or_default()),
                })
            })
            .collect::<Result<Vec<_>, WebhookError>>()?,
        _ => Vec::new(),
    };

    Ok(Delivery {
        id,
        ulid: str_of(&obj, "ulid")?,
        timestamp,
        version,
        event: EventType::parse(&event),
        resource: Resource::parse(&resource),
        resource_id: ResourceId(resource_id),
        company_id: id_of(&obj, "company_id")?.map(CompanyId),
        project_id: id_of(&obj, "project_id")?.map(ProjectId),
        user_id: id_of(&obj, "user_id")?.map(UserId),
        metadata,
        related_resources,
        data: obj.get("data").filter(|d| !d.is_null()).cloned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_webhook_payload_parses_to_its_version_resource_and_event() {
        // (name, body, expected resource, event, id)
        let cases: Vec<(&str, &str, Resource, EventType, EventId)> = vec![
            (
                "v2 id above 2^53 stays exact",
                r#"{"api_version":"v2","company_id":6452,"event_type":"create","id":5982324300946918154,"metadata":{"source_application_id":null,"source_company_id":6452,"source_operation_id":null,"source_project_id":219542,"source_user_id":1469242},"project_id":219542,"resource_id":245510722,"resource_name":"Purchase Order Contract Line Items","timestamp":"2020-07-20T15:22:01.353581Z","ulid":"01EDPD2J6SBY1163N77H95GW09","user_id":1469242}"#,
                Resource::Unknown("Purchase Order Contract Line Items".into()),
                EventType::Create,
                EventId::Number(5_982_324_300_946_918_154),
            ),
            (
                "v4 string ids",
                r#"{"id":"01JMYXMZRBVKK0PC6XS8SA4QRE","timestamp":"2025-02-25T16:04:43.619085Z","reason":"update","company_id":"8","project_id":"6778","user_id":"5447","resource_type":"Company Users","resource_id":"379913"}"#,
                Resource::CompanyUsers,
                EventType::Update,
                EventId::Text("01JMYXMZRBVKK0PC6XS8SA4QRE".into()),
            ),
            (
                "company event without project",
                r#"{"id":1,"event_type":"DELETE","resource_name":"Company Vendors","resource_id":9,"company_id":3,"timestamp":"2025-01-01T00:00:00Z"}"#,
                Resource::CompanyVendors,
                EventType::Delete,
                EventId::Number(1),
            ),
            (
                "unknown event type is a variant",
                r#"{"id":"01J","reason":"restore","resource_type":"Project Files","resource_id":"4","company_id":"1","project_id":"2","user_id":"3","timestamp":"2025-01-01T00:00:00Z"}"#,
                Resource::ProjectFiles,
                EventType::Unknown("restore".into()),
                EventId::Text("01J".into()),
            ),
        ];
        for (name, body, resource, event, id) in cases {
            let d = parse(body.as_bytes()).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(d.resource, resource, "{name}");
            assert_eq!(d.event, event, "{name}");
            assert_eq!(d.id, id, "{name}");
        }
    }

    #[test]
    fn webhook_parse_rejects_what_is_not_a_delivery() {
        let cases: Vec<(&str, WebhookError)> = vec![
            ("not json", WebhookError::NotJson(String::new())),
            ("[1]", WebhookError::NotAnObject),
            (
                r#"{"event_type":"create","resource_name":"Projects","resource_id":1}"#,
                WebhookError::Missing("id"),
            ),
            (
                r#"{"id":1,"resource_name":"Projects","resource_id":1}"#,
                WebhookError::Missing("event_type"),
            ),
            (
                r#"{"id":1,"event_type":"create","resource_name":"Projects"}"#,
                WebhookError::Missing("resource_id"),
            ),
            (
                r#"{"id":1.5,"event_type":"create","resource_name":"Projects","resource_id":1}"#,
                WebhookError::Invalid {
                    field: "id",
                    reason: String::new(),
                },
            ),
        ];
        for (body, want) in cases {
            let got = parse(body.as_bytes()).unwrap_err();
            assert_eq!(
                std::mem::discriminant(&got),
                std::mem::discriminant(&want),
                "{body}: {got}"
            );
        }
    }
}
