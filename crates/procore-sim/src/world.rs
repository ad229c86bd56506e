//! The simulated state of Procore: companies, apps and their installations, projects, users,
//! vendors, commitments, insurances, documents, webhooks and OAuth grants.
//!
//! Why one plain struct: the same value is the seed-file format, the persistence format
//! (`--state-file`) and what `GET /_sim/state` returns, so everything here is serde
//! (de)serializable and every collection is a `BTreeMap` keyed by id, which keeps lookups
//! `O(log n)`, iteration ordered by id (the order Procore pages in), and seeds diff-friendly.
//! Runtime-only data (the outbox of webhook events) is skipped by serde.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// First id handed out by [`World::alloc_id`] when a world has no records yet.
pub const FIRST_ID: i64 = 1_000;

/// A `String` that never shows up in `Debug` output (client secrets, tokens, hook headers).
#[derive(Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Secret(pub String);

impl Secret {
    /// The secret value.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl From<&str> for Secret {
    fn from(s: &str) -> Self {
        Secret(s.to_owned())
    }
}

/// The whole simulated Procore. See `docs/procore-fidelity.md` for the seed format.
#[derive(Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct World {
    /// Next id to allocate; `0` means "compute from the records" (see [`World::normalize`]).
    pub next_id: i64,
    pub companies: BTreeMap<i64, Company>,
    /// Apps by `client_id`.
    pub apps: BTreeMap<String, App>,
    pub projects: BTreeMap<i64, Project>,
    pub users: BTreeMap<i64, User>,
    pub vendors: BTreeMap<i64, Vendor>,
    pub custom_field_definitions: BTreeMap<i64, CustomFieldDefinition>,
    pub commitments: BTreeMap<i64, Commitment>,
    pub insurances: BTreeMap<i64, Insurance>,
    pub folders: BTreeMap<i64, Folder>,
    pub files: BTreeMap<i64, File>,
    pub file_versions: BTreeMap<i64, FileVersion>,
    pub uploads: BTreeMap<String, Upload>,
    /// v2.1 unified uploads by `upload_id` (NOTES §8 "Unified uploads").
    pub unified_uploads: BTreeMap<String, UnifiedUpload>,
    /// Stored bytes (uploads and file versions) by key.
    pub blobs: BTreeMap<String, Blob>,
    pub hooks: BTreeMap<i64, Hook>,
    pub triggers: BTreeMap<i64, Trigger>,
    pub deliveries: BTreeMap<i64, Delivery>,
    /// Project directories by project id: the company users and vendors added to each project
    /// (`GET /projects/{project_id}/users` and `/vendors`). Absent in older seeds: an empty
    /// directory.
    pub project_directories: BTreeMap<i64, ProjectDirectory>,
    pub oauth: OAuthState,
    /// Webhook events created by changes, waiting to be handed to the delivery task.
    #[serde(skip)]
    pub(crate) outbox: Vec<crate::webhooks::Job>,
    /// Counter for webhook event ids (large on purpose: Procore's exceed 2^53).
    pub next_event_id: i64,
}

impl fmt::Debug for World {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("World")
            .field("companies", &self.companies.len())
            .field("apps", &self.apps.keys().collect::<Vec<_>>())
            .field("projects", &self.projects.len())
            .field("users", &self.users.len())
            .field("vendors", &self.vendors.len())
            .field("commitments", &self.commitments.len())
            .field("insurances", &self.insurances.len())
            .field("folders", &self.folders.len())
            .field("files", &self.files.len())
            .field("hooks", &self.hooks.len())
            .finish_non_exhaustive()
    }
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Company {
    pub id: i64,
    pub name: String,
    pub is_active: bool,
}

/// Access level of an app to one Procore tool.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    None,
    ReadOnly,
    Standard,
    #[default]
    Admin,
}

/// The tools a permission template grants, each at a [`Level`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Permissions {
    pub projects: Level,
    pub directory: Level,
    pub commitments: Level,
    pub documents: Level,
    pub insurances: Level,
}

/// Which tool an operation needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tool {
    Projects,
    Directory,
    Commitments,
    Documents,
    Insurances,
}

impl Permissions {
    /// The level granted for `tool`.
    pub fn level(&self, tool: Tool) -> Level {
        match tool {
            Tool::Projects => self.projects,
            Tool::Directory => self.directory,
            Tool::Commitments => self.commitments,
            Tool::Documents => self.documents,
            Tool::Insurances => self.insurances,
        }
    }
}

/// A registered OAuth application.
#[derive(Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct App {
    /// Procore's application id (`metadata.source_application_id` in webhooks).
    pub id: i64,
    pub name: String,
    pub client_id: String,
    pub client_secret: Secret,
    /// Registered redirect URI for the authorization-code flow (`urn:ietf:wg:oauth:2.0:oob` is always allowed).
    pub redirect_uri: Option<String>,
    /// Installations by company id.
    pub installations: BTreeMap<i64, Installation>,
}

impl fmt::Debug for App {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("App")
            .field("id", &self.id)
            .field("name", &self.name)
            .field("client_id", &self.client_id)
            .field("client_secret", &self.client_secret)
            .field("installations", &self.installations)
            .finish()
    }
}

/// An app installed in a company: its service account, permitted projects and permissions.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Installation {
    /// The company user Procore created for the app (the DMSA).
    pub service_user_id: i64,
    /// The person who installed the app; `/oauth/authorize` approves as this user.
    pub installed_by_user_id: Option<i64>,
    pub permitted_projects: BTreeSet<i64>,
    pub add_to_all_new_projects: bool,
    pub permissions: Permissions,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Project {
    pub id: i64,
    pub company_id: i64,
    pub name: String,
    pub project_number: Option<String>,
    pub description: Option<String>,
    pub public_notes: Option<String>,
    pub address: Option<String>,
    pub city: Option<String>,
    pub state_code: Option<String>,
    pub country_code: Option<String>,
    pub zip: Option<String>,
    pub phone: Option<String>,
    pub time_zone: Option<String>,
    pub active: bool,
    pub template: bool,
    pub stage: Option<String>,
    pub start_date: Option<NaiveDate>,
    pub completion_date: Option<NaiveDate>,
    pub total_value: Option<String>,
    pub origin_id: Option<String>,
    pub origin_data: Option<String>,
    pub origin_code: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub county: Option<String>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub square_feet: Option<i64>,
    pub projected_finish_date: Option<NaiveDate>,
    /// Procore's enum: `new_construction`, `renovation_alteration`, `maintenance_service`.
    pub work_scope: Option<String>,
    pub store_number: Option<String>,
    pub designated_market_area: Option<String>,
}

/// The people and companies on one project, as Procore's project Directory tool keeps them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ProjectDirectory {
    /// Company user ids.
    pub users: BTreeSet<i64>,
    /// Company vendor ids.
    pub vendors: BTreeSet<i64>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct User {
    pub id: i64,
    pub company_id: i64,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub email_address: Option<String>,
    pub mobile_phone: Option<String>,
    pub business_phone: Option<String>,
    pub business_phone_extension: Option<i64>,
    pub fax_number: Option<String>,
    pub employee_id: Option<String>,
    pub is_employee: bool,
    pub is_active: bool,
    pub job_title: Option<String>,
    pub address: Option<String>,
    pub city: Option<String>,
    pub state_code: Option<String>,
    pub country_code: Option<String>,
    pub zip: Option<String>,
    pub notes: Option<String>,
    /// The vendor (directory company) this person belongs to; a vendor contact when set.
    pub vendor_id: Option<i64>,
    pub last_activated_at: Option<DateTime<Utc>>,
    pub last_login_at: Option<DateTime<Utc>>,
    pub welcome_email_sent_at: Option<DateTime<Utc>>,
    pub origin_id: Option<String>,
    pub origin_data: Option<String>,
    /// Set on an app's service account: the app's client id.
    pub service_account_of: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// e.g. `en`.
    pub locale: Option<String>,
    pub is_insurance_manager: Option<bool>,
}

impl User {
    /// "First Last", as Procore's `name`.
    pub fn full_name(&self) -> String {
        match (&self.first_name, &self.last_name) {
            (Some(f), Some(l)) => format!("{f} {l}"),
            (Some(f), None) => f.clone(),
            (None, Some(l)) => l.clone(),
            (None, None) => String::new(),
        }
    }
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Vendor {
    pub id: i64,
    pub company_id: i64,
    pub name: String,
    pub abbreviated_name: Option<String>,
    pub legal_name: Option<String>,
    pub trade_name: Option<String>,
    pub address: Option<String>,
    pub city: Option<String>,
    pub state_code: Option<String>,
    pub zip: Option<String>,
    pub country_code: Option<String>,
    pub business_phone: Option<String>,
    pub mobile_phone: Option<String>,
    pub fax_number: Option<String>,
    pub email_address: Option<String>,
    pub website: Option<String>,
    pub license_number: Option<String>,
    pub notes: Option<String>,
    pub is_active: bool,
    /// A company user (normally one with `vendor_id` = this vendor).
    pub primary_contact_id: Option<i64>,
    pub origin_id: Option<String>,
    pub origin_data: Option<String>,
    pub origin_code: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Trade names (rendered as Procore's `trades` objects).
    pub trades: Vec<String>,
    pub prequalified: Option<bool>,
    pub union_member: Option<bool>,
    pub authorized_bidder: Option<bool>,
}

/// A company-level custom field definition (only `string` fields on commitments are modelled).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct CustomFieldDefinition {
    pub id: i64,
    pub company_id: i64,
    pub label: String,
    pub data_type: String,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CommitmentKind {
    #[default]
    WorkOrderContract,
    PurchaseOrderContract,
}

impl CommitmentKind {
    /// Every status Procore allows for this kind.
    pub fn statuses(self) -> &'static [&'static str] {
        match self {
            CommitmentKind::WorkOrderContract => &[
                "Draft",
                "Out For Bid",
                "Out For Signature",
                "Approved",
                "Complete",
                "Terminated",
                "Void",
            ],
            CommitmentKind::PurchaseOrderContract => &[
                "Draft",
                "Processing",
                "Submitted",
                "Partially Received",
                "Received",
                "Approved",
                "Closed",
            ],
        }
    }
    /// Webhook resource name.
    pub fn resource_name(self) -> &'static str {
        match self {
            CommitmentKind::WorkOrderContract => "Work Order Contracts",
            CommitmentKind::PurchaseOrderContract => "Purchase Order Contracts",
        }
    }
    /// v2.0 `type`.
    pub fn v2_type(self) -> &'static str {
        match self {
            CommitmentKind::WorkOrderContract => "WorkOrderContract",
            CommitmentKind::PurchaseOrderContract => "PurchaseOrderContract",
        }
    }
    /// The JSON body key (`work_order_contract`).
    pub fn body_key(self) -> &'static str {
        match self {
            CommitmentKind::WorkOrderContract => "work_order_contract",
            CommitmentKind::PurchaseOrderContract => "purchase_order_contract",
        }
    }
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Commitment {
    pub id: i64,
    pub kind: CommitmentKind,
    pub project_id: i64,
    pub number: Option<String>,
    pub title: Option<String>,
    pub description: Option<String>,
    pub status: String,
    pub executed: bool,
    pub vendor_id: Option<i64>,
    pub grand_total: String,
    pub contract_date: Option<NaiveDate>,
    pub private: bool,
    pub origin_id: Option<String>,
    pub origin_data: Option<String>,
    pub origin_code: Option<String>,
    /// Custom field values by definition id.
    pub custom_fields: BTreeMap<i64, String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Insurance {
    pub id: i64,
    pub company_id: i64,
    pub vendor_id: i64,
    /// Set for project-level insurances.
    pub project_id: Option<i64>,
    pub insurance_type: Option<String>,
    pub insurance_provider: Option<String>,
    pub policy_number: Option<String>,
    pub effective_date: Option<NaiveDate>,
    pub expiration_date: Option<NaiveDate>,
    pub limit: Option<String>,
    pub status: Option<String>,
    pub exempt: bool,
    pub info_received: bool,
    pub enable_expired_insurance_notifications: bool,
    pub notes: Option<String>,
    pub additional_insured: Option<String>,
    pub division_template: Option<String>,
    pub insurance_sets: Option<String>,
    pub origin_id: Option<String>,
    pub origin_data: Option<String>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Folder {
    pub id: i64,
    pub project_id: i64,
    /// `None` for the project's root folder.
    pub parent_id: Option<i64>,
    pub name: String,
    pub private: bool,
    pub is_tracked: bool,
    pub is_deleted: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct File {
    pub id: i64,
    pub project_id: i64,
    pub parent_id: i64,
    pub name: String,
    pub description: Option<String>,
    pub private: bool,
    pub is_deleted: bool,
    /// File version ids, oldest first.
    pub versions: Vec<i64>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct FileVersion {
    pub id: i64,
    pub file_id: i64,
    pub number: i64,
    pub notes: Option<String>,
    pub blob: String,
    pub filename: String,
    pub created_by: Option<i64>,
    pub created_at: DateTime<Utc>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Upload {
    pub uuid: String,
    pub company_id: i64,
    pub project_id: Option<i64>,
    pub filename: String,
    pub content_type: Option<String>,
    pub content_disposition: Option<String>,
    /// `ready` until the bytes arrive, then `complete`.
    pub status: String,
    pub blob: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// A v2.1 unified upload (NOTES §8): declared up front with a SHA-256 per segment, filled by
/// one presigned `PUT` per segment, completed by a `PATCH` with the part ETags, then
/// `available` to be named as the `upload_uuid` of a file or version.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct UnifiedUpload {
    pub upload_id: String,
    pub company_id: i64,
    pub project_id: i64,
    /// Only this user may complete, read or use the upload (as Procore documents).
    pub user_id: i64,
    pub file_name: String,
    pub file_size: u64,
    pub content_type: Option<String>,
    /// Lower-case hex SHA-256 of the whole file, checked when the upload is completed.
    pub sha256: String,
    pub md5: Option<String>,
    pub segments: Vec<UnifiedSegment>,
    /// `ready`, `receiving` (some part ETags submitted), `complete`, `available`.
    pub status: String,
    /// Status reads a `complete` upload still answers `complete` to before it turns
    /// `available` (from `Faults::upload_processing_polls` at completion).
    pub polls_left: u32,
    /// The assembled bytes once complete.
    pub blob: Option<String>,
    pub created_at: DateTime<Utc>,
    /// Creation + 24 h: after that the upload is gone (it must be associated within 24 h).
    pub expires_at: DateTime<Utc>,
}

/// One declared part of a [`UnifiedUpload`].
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct UnifiedSegment {
    pub size: u64,
    /// Lower-case hex SHA-256 the storage `PUT` body must have.
    pub sha256: String,
    /// Accepted and kept, not verified (the simulator has no MD5).
    pub md5: Option<String>,
    /// Set by the storage `PUT`: the ETag it answered (unquoted).
    pub etag: Option<String>,
    /// ETag submitted through `PATCH part_etags` (partial progress is allowed).
    pub submitted_etag: Option<String>,
}

/// Stored bytes, base64 in JSON.
#[derive(Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Blob {
    pub content_type: Option<String>,
    #[serde(with = "b64")]
    pub bytes: Vec<u8>,
}

impl fmt::Debug for Blob {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Blob({} bytes)", self.bytes.len())
    }
}

mod b64 {
    use base64::Engine;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&base64::engine::general_purpose::STANDARD.encode(v))
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let s = String::deserialize(d)?;
        base64::engine::general_purpose::STANDARD
            .decode(s)
            .map_err(serde::de::Error::custom)
    }
}

/// Which management API created a hook; it decides id types and envelopes on the wire.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HookApi {
    #[default]
    V1,
    V2,
}

#[derive(Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Hook {
    pub id: i64,
    pub api: HookApi,
    pub company_id: i64,
    pub project_id: Option<i64>,
    pub owner_client_id: Option<String>,
    pub owner_user_id: Option<i64>,
    pub namespace: Option<String>,
    /// v1 `api_version` ("v2") or v2 `payload_version` ("v2.0", "v3.0", "v4.0").
    pub payload_version: String,
    pub destination_url: String,
    pub authorization: Option<Secret>,
    /// `active` or `disabled`.
    pub status: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl fmt::Debug for Hook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Hook")
            .field("id", &self.id)
            .field("api", &self.api)
            .field("company_id", &self.company_id)
            .field("project_id", &self.project_id)
            .field("payload_version", &self.payload_version)
            .field("destination_url", &self.destination_url)
            .field("authorization", &self.authorization)
            .field("status", &self.status)
            .finish()
    }
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Trigger {
    pub id: i64,
    pub hook_id: i64,
    pub resource_name: String,
    /// Lowercase: `create`, `update` or `delete`.
    pub event_type: String,
    pub company_id: i64,
    pub project_id: Option<i64>,
    pub user_id: Option<i64>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Delivery {
    pub id: i64,
    pub hook_id: i64,
    pub event_id: i64,
    pub resource_name: String,
    pub event_type: String,
    pub payload: Value,
    /// `enqueued`, `retrying`, `delivered`, `failed` or `discarded`.
    pub status: String,
    pub attempts: Vec<Attempt>,
    pub created_at: DateTime<Utc>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Attempt {
    pub started_at: DateTime<Utc>,
    pub completed_at: DateTime<Utc>,
    pub response_status: Option<u16>,
    pub response_error: Option<String>,
    pub response_body: Option<String>,
}

/// Issued tokens and codes. Keys are the secret strings themselves; `Debug` redacts them.
#[derive(Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct OAuthState {
    pub access_tokens: BTreeMap<String, AccessToken>,
    pub refresh_tokens: BTreeMap<String, RefreshToken>,
    pub codes: BTreeMap<String, AuthCode>,
}

impl fmt::Debug for OAuthState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OAuthState")
            .field("access_tokens", &self.access_tokens.len())
            .field("refresh_tokens", &self.refresh_tokens.len())
            .field("codes", &self.codes.len())
            .finish()
    }
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct AccessToken {
    pub client_id: String,
    /// `None` for client_credentials tokens: the owner is the app's service account in the
    /// company named by `Procore-Company-Id`.
    pub user_id: Option<i64>,
    pub created_at: i64,
    pub expires_at: i64,
    pub revoked: bool,
    /// The refresh token issued with this access token, if any.
    pub refresh_token: Option<Secret>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct RefreshToken {
    pub client_id: String,
    pub user_id: Option<i64>,
    pub used: bool,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct AuthCode {
    pub client_id: String,
    pub redirect_uri: String,
    pub user_id: i64,
    pub expires_at: i64,
    pub used: bool,
}

impl World {
    /// Allocates a fresh id (shared sequence for every record type).
    pub fn alloc_id(&mut self) -> i64 {
        if self.next_id == 0 {
            self.next_id = self.max_id().max(FIRST_ID - 1) + 1;
        }
        let id = self.next_id;
        self.next_id += 1;
        id
    }

    fn max_id(&self) -> i64 {
        [
            self.companies.keys().next_back(),
            self.projects.keys().next_back(),
            self.users.keys().next_back(),
            self.vendors.keys().next_back(),
            self.custom_field_definitions.keys().next_back(),
            self.commitments.keys().next_back(),
            self.insurances.keys().next_back(),
            self.folders.keys().next_back(),
            self.files.keys().next_back(),
            self.file_versions.keys().next_back(),
            self.hooks.keys().next_back(),
            self.triggers.keys().next_back(),
            self.deliveries.keys().next_back(),
        ]
        .into_iter()
        .flatten()
        .copied()
        .chain(self.apps.values().map(|a| a.id))
        .max()
        .unwrap_or(0)
    }

    /// Makes a loaded or hand-built world consistent: ids, root folders, service accounts.
    pub fn normalize(&mut self) {
        let max = self.max_id();
        if self.next_id <= max {
            self.next_id = max.max(FIRST_ID - 1) + 1;
        }
        if self.next_event_id == 0 {
            self.next_event_id = 5_982_324_300_946_918_154;
        }
        let with_root: BTreeSet<i64> = self
            .folders
            .values()
            .filter(|f| f.parent_id.is_none())
            .map(|f| f.project_id)
            .collect();
        let missing_roots: Vec<(i64, DateTime<Utc>)> = self
            .projects
            .values()
            .filter(|p| !with_root.contains(&p.id))
            .map(|p| (p.id, p.created_at))
            .collect();
        for (pid, at) in missing_roots {
            self.create_root_folder(pid, at);
        }
        let mut installs = Vec::new();
        for app in self.apps.values() {
            for (cid, inst) in &app.installations {
                if inst.service_user_id == 0 || !self.users.contains_key(&inst.service_user_id) {
                    installs.push((app.client_id.clone(), *cid));
                }
            }
        }
        for (client_id, cid) in installs {
            let now = self
                .companies
                .get(&cid)
                .map(|_| Utc::now())
                .unwrap_or_else(Utc::now);
            self.ensure_service_account(&client_id, cid, now);
        }
    }

    pub(crate) fn create_root_folder(&mut self, project_id: i64, at: DateTime<Utc>) -> i64 {
        let id = self.alloc_id();
        self.folders.insert(
            id,
            Folder {
                id,
                project_id,
                parent_id: None,
                name: "Root Folder".into(),
                created_at: at,
                updated_at: at,
                ..Folder::default()
            },
        );
        id
    }

    /// The root folder of a project (created if missing).
    pub fn root_folder_id(&mut self, project_id: i64, now: DateTime<Utc>) -> i64 {
        match self
            .folders
            .values()
            .find(|f| f.project_id == project_id && f.parent_id.is_none())
        {
            Some(f) => f.id,
            None => self.create_root_folder(project_id, now),
        }
    }

    /// Creates (or finds) the service account of `client_id` in company `cid`.
    pub(crate) fn ensure_service_account(
        &mut self,
        client_id: &str,
        cid: i64,
        now: DateTime<Utc>,
    ) -> i64 {
        if let Some(u) = self
            .users
            .values()
            .find(|u| u.company_id == cid && u.service_account_of.as_deref() == Some(client_id))
        {
            let id = u.id;
            if let Some(inst) = self
                .apps
                .get_mut(client_id)
                .and_then(|a| a.installations.get_mut(&cid))
            {
                inst.service_user_id = id;
            }
            return id;
        }
        let name = self
            .apps
            .get(client_id)
            .map(|a| a.name.clone())
            .unwrap_or_else(|| client_id.to_owned());
        let slug: String = name
            .to_lowercase()
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
            .collect();
        let id = self.alloc_id();
        self.users.insert(
            id,
            User {
                id,
                company_id: cid,
                first_name: Some(name.clone()),
                last_name: Some("Service Account".into()),
                email_address: Some(format!("{slug}-service@procore-integration.invalid")),
                is_employee: false,
                is_active: true,
                job_title: Some("Developer Managed Service Account".into()),
                last_activated_at: Some(now),
                service_account_of: Some(client_id.to_owned()),
                created_at: now,
                updated_at: now,
                ..User::default()
            },
        );
        if let Some(inst) = self
            .apps
            .get_mut(client_id)
            .and_then(|a| a.installations.get_mut(&cid))
        {
            inst.service_user_id = id;
        }
        id
    }

    /// Installs `client_id` in company `cid` (idempotent); returns the service account id.
    pub fn install_app(&mut self, client_id: &str, cid: i64, now: DateTime<Utc>) -> Option<i64> {
        let app = self.apps.get_mut(client_id)?;
        app.installations.entry(cid).or_default();
        Some(self.ensure_service_account(client_id, cid, now))
    }

    /// The company of a project.
    pub fn project_company(&self, project_id: i64) -> Option<i64> {
        self.projects.get(&project_id).map(|p| p.company_id)
    }

    /// Adds a new project to every installation that has `add_to_all_new_projects`.
    pub(crate) fn grant_new_project(&mut self, cid: i64, pid: i64) {
        for app in self.apps.values_mut() {
            if let Some(inst) = app.installations.get_mut(&cid) {
                if inst.add_to_all_new_projects {
                    inst.permitted_projects.insert(pid);
                }
            }
        }
    }

    /// `name_with_path` of a folder (root excluded), e.g. `Corfix Forms/2026-11`.
    pub fn folder_path(&self, folder_id: i64) -> String {
        let mut parts = Vec::new();
        let mut cur = self.folders.get(&folder_id);
        while let Some(f) = cur {
            match f.parent_id {
                Some(p) => {
                    parts.push(f.name.as_str());
                    cur = self.folders.get(&p);
                }
                None => break,
            }
        }
        parts.reverse();
        parts.join("/")
    }
}
