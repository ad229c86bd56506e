//! The integration's settings: one field per option of the seed's "Configuration options", each
//! defaulting to what the seed calls the default, or, where it names none, to the choice that
//! changes nothing in trestle or Procore until an administrator asks for it.
//!
//! Every value has a label ([`ContactSync::label`] and friends) in the seed's own words, because
//! the reasons `explain` prints name the setting to change, and the administrator reads the same
//! words on the settings page.

use domain::compliance::WriteBackFormat;
use serde::{Deserialize, Serialize};

/// The commitment custom field whose value names a compliance profile, when not configured.
pub const DEFAULT_PROFILE_FIELD: &str = "Compliance Profile";

/// The project custom field the Procore project number goes to.
pub const PROJECT_NUMBER_FIELD: &str = "Project Number";

/// The project custom field the Procore total value goes to.
pub const TOTAL_VALUE_FIELD: &str = "Total Value";

/// A week: deletions are rare and mostly end associations, which can wait that long, while
/// a whole read of a large company costs thousands of records.
pub const DEFAULT_FULL_READ_DAYS: u32 = 7;

/// Every option of the compliance integration.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ComplianceSettings {
    /// What happens to a Procore project nobody has mapped yet.
    pub new_projects: NewProjects,
    /// A company with an active commitment on a linked project is imported without waiting for
    /// a mapping. Off by default: the seed recommends manual mapping for the initial setup, and
    /// a party created by mistake is more work to undo than one imported a sync later.
    pub import_companies_through_commitments: bool,
    /// Project description sync behavior.
    pub description: DescriptionSync,
    /// A Procore project or company turning inactive inactivates the linked record (and turning
    /// active again reactivates it). Off by default, as the seed calls it optional. An import
    /// copies Procore's status either way; the setting decides whether later changes (and a
    /// link to an existing record) follow it.
    pub sync_active_status: bool,
    /// Contacts synchronization.
    pub contacts: ContactSync,
    /// Purchase orders never create an association.
    pub ignore_purchase_orders: bool,
    /// Subcontracts (work order contracts) never create an association.
    pub ignore_subcontracts: bool,
    /// Which commitments count as active.
    pub active_commitments: ActiveCommitments,
    /// The commitment custom field whose value, equal to a profile name, picks the profile of
    /// the party-project association.
    pub profile_field: String,
    /// Compliance status is written back to Procore. On by default: it is what the integration
    /// is for, and the seed's wording ("if compliance sync is turned off") implies it starts on.
    pub compliance_sync: bool,
    /// Which compliance levels are written back.
    pub level: SyncLevel,
    /// The write-back format. The caller renders records in it before planning; it is kept here
    /// so `explain` can say which format the records are in.
    pub format: WriteBackFormat,
    /// Every this many days a sync reads every collection whole instead of only what changed,
    /// to notice what an incremental read cannot: records deleted in Procore or hidden from
    /// the integration user. 0 reads whole on every sync.
    pub full_read_days: u32,
}

impl Default for ComplianceSettings {
    fn default() -> Self {
        ComplianceSettings {
            new_projects: NewProjects::default(),
            import_companies_through_commitments: false,
            description: DescriptionSync::default(),
            sync_active_status: false,
            contacts: ContactSync::default(),
            ignore_purchase_orders: false,
            ignore_subcontracts: false,
            active_commitments: ActiveCommitments::default(),
            profile_field: DEFAULT_PROFILE_FIELD.to_owned(),
            compliance_sync: true,
            level: SyncLevel::default(),
            format: WriteBackFormat::default(),
            full_read_days: DEFAULT_FULL_READ_DAYS,
        }
    }
}

/// Automatic project import.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NewProjects {
    /// New projects are listed, waiting for an administrator to choose Import, Link or Do not
    /// add (the seed's recommended manual mapping).
    #[default]
    ListForMapping,
    /// New active projects are imported at once. Inactive ones still wait for a decision:
    /// there is no compliance to track on a finished job.
    ImportAutomatically,
}

impl NewProjects {
    pub fn label(self) -> &'static str {
        match self {
            NewProjects::ListForMapping => "list new projects for mapping",
            NewProjects::ImportAutomatically => "import new projects automatically",
        }
    }
}

/// Project description sync behavior.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DescriptionSync {
    /// The seed's default.
    #[default]
    Always,
    /// The description is copied when the project is imported and never again. Linking an
    /// existing trestle project fills its description only if it has none, so a description
    /// written in trestle is never replaced.
    OnImportOnly,
}

impl DescriptionSync {
    pub fn label(self) -> &'static str {
        match self {
            DescriptionSync::Always => "Always keep in sync",
            DescriptionSync::OnImportOnly => "Only sync on import",
        }
    }
}

/// Contacts synchronization.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ContactSync {
    /// The seed's default.
    #[default]
    DoNotSync,
    /// Every contact with an email; Procore's primary contact becomes the party's primary
    /// contact and no other contact of the party stays primary.
    AllSetPrimary,
    /// Every contact with an email; trestle's primary flags are left as they are (new contacts
    /// are not primary).
    AllWithoutPrimary,
    /// Only Procore's primary contact, which becomes the party's primary contact.
    PrimaryOnly,
}

impl ContactSync {
    pub fn label(self) -> &'static str {
        match self {
            ContactSync::DoNotSync => "Do not sync contacts",
            ContactSync::AllSetPrimary => "Sync all contacts and set primary",
            ContactSync::AllWithoutPrimary => "Sync all contacts (do not set primary)",
            ContactSync::PrimaryOnly => "Only sync primary contact",
        }
    }
}

/// The compliance sync level.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SyncLevel {
    /// Global (company-vendor) and project-level (project-vendor) compliance.
    #[default]
    All,
    ProjectsOnly,
    PartiesOnly,
}

impl SyncLevel {
    pub fn label(self) -> &'static str {
        match self {
            SyncLevel::All => "All",
            SyncLevel::ProjectsOnly => "Projects only",
            SyncLevel::PartiesOnly => "Parties only",
        }
    }

    /// Whether records of this level are written.
    pub fn includes(self, level: InsuranceLevel) -> bool {
        match (self, level) {
            (SyncLevel::All, _) => true,
            (SyncLevel::ProjectsOnly, level) => level == InsuranceLevel::ProjectVendor,
            (SyncLevel::PartiesOnly, level) => level == InsuranceLevel::CompanyVendor,
        }
    }
}

/// Where in Procore an insurance record goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InsuranceLevel {
    /// The vendor's company-level insurance: the party's global compliance.
    CompanyVendor,
    /// The vendor's insurance on one project: the party-project compliance.
    ProjectVendor,
}

impl InsuranceLevel {
    pub fn label(self) -> &'static str {
        match self {
            InsuranceLevel::CompanyVendor => "company-level (global)",
            InsuranceLevel::ProjectVendor => "project-level",
        }
    }
}

/// The two kinds of Procore commitment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CommitmentKind {
    /// A subcontract: Procore's work order contract.
    Subcontract,
    PurchaseOrder,
}

impl CommitmentKind {
    pub fn label(self) -> &'static str {
        match self {
            CommitmentKind::Subcontract => "subcontract",
            CommitmentKind::PurchaseOrder => "purchase order",
        }
    }
}

/// Which commitments count as active, and so associate a party with a project.
///
/// Statuses are compared ignoring case and surrounding spaces, so "approved" in a setting
/// matches Procore's "Approved".
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "rule", rename_all = "snake_case")]
pub enum ActiveCommitments {
    /// One list for both kinds.
    Shared { statuses: Vec<String> },
    /// A list per kind (the default, see [`ActiveCommitments::default`]).
    PerType {
        subcontracts: Vec<String>,
        purchase_orders: Vec<String>,
    },
    /// Active means executed (signed), whatever the status.
    ExecutedOnly,
}

impl Default for ActiveCommitments {
    /// Per type, because the two kinds have different status sets in Procore:
    ///
    /// - Subcontracts (Draft, Out For Bid, Out For Signature, Approved, Complete, Terminated,
    ///   Void): **Approved** and **Complete**. Approved is the awarded contract the work runs
    ///   under. Complete stays active because a finished subcontractor still carries
    ///   completed-operations exposure and comes back for punch-list and warranty work, which is
    ///   exactly when a lapsed certificate hurts; the association ends when the contract is
    ///   terminated or voided. The draft, bid and signature states are not an award yet.
    /// - Purchase orders (Draft, Processing, Submitted, Partially Received, Received, Approved,
    ///   Closed): **Approved**, **Partially Received** and **Received**: the order is agreed and
    ///   goods are on their way or delivered. Draft, Processing and Submitted are still in
    ///   approval (a vendor that has not been awarded anything should not be chased for
    ///   insurance), and Closed means nothing more will be delivered, unlike a completed
    ///   subcontract.
    fn default() -> Self {
        ActiveCommitments::PerType {
            subcontracts: vec!["Approved".into(), "Complete".into()],
            purchase_orders: vec![
                "Approved".into(),
                "Partially Received".into(),
                "Received".into(),
            ],
        }
    }
}

impl ActiveCommitments {
    /// The statuses that count as active for a kind; `None` in executed-only mode.
    pub fn statuses(&self, kind: CommitmentKind) -> Option<&[String]> {
        match self {
            ActiveCommitments::Shared { statuses } => Some(statuses),
            ActiveCommitments::PerType {
                subcontracts,
                purchase_orders,
            } => Some(match kind {
                CommitmentKind::Subcontract => subcontracts,
                CommitmentKind::PurchaseOrder => purchase_orders,
            }),
            ActiveCommitments::ExecutedOnly => None,
        }
    }

    /// Whether a commitment of this kind, status and execution counts as active.
    pub fn is_active(&self, kind: CommitmentKind, status: Option<&str>, executed: bool) -> bool {
        match self.statuses(kind) {
            None => executed,
            Some(list) => {
                status.is_some_and(|s| list.iter().any(|a| a.trim().eq_ignore_ascii_case(s.trim())))
            }
        }
    }
}
