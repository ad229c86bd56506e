//! Records the store keeps that are not app-side domain types: links, outbox items, the run
//! log, connection settings and the changes an apply writes.

use chrono::{DateTime, Utc};
use domain::workforce::{Activation, ProjectFields, ProjectStatus, WorkerFields};
use secrecy::SecretString;
use std::fmt;

/// A Procore company id: every record of an integration belongs to one company.
pub type CompanyId = i64;

/// What a link joins: a Procore record and the local record it became (or was matched to).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LinkKind {
    /// A Procore project and an app project.
    Project,
    /// A Procore company user and a worker.
    Worker,
    /// A Procore file and the form submission it holds; carries the uploaded revision.
    FormDocument,
    /// A project's forms folder in Procore Documents; the local id is the app project.
    FormsFolder,
    /// A month folder (`YYYY-MM`) inside the forms folder; the local id is the app project and
    /// the local key the month.
    MonthFolder,
    /// A Procore company (directory vendor) and the compliance party it became.
    Party,
    /// A Procore project and the compliance app's project; separate from [`LinkKind::Project`]
    /// because the two apps keep separate projects.
    ComplianceProject,
    /// A Procore company contact and a party's contact.
    Contact,
}

impl LinkKind {
    pub const ALL: [LinkKind; 8] = [
        LinkKind::Project,
        LinkKind::Worker,
        LinkKind::FormDocument,
        LinkKind::FormsFolder,
        LinkKind::MonthFolder,
        LinkKind::Party,
        LinkKind::ComplianceProject,
        LinkKind::Contact,
    ];

    /// The name stored in the `kind` column.
    pub fn as_str(self) -> &'static str {
        match self {
            LinkKind::Project => "project",
            LinkKind::Worker => "worker",
            LinkKind::FormDocument => "form_document",
            LinkKind::FormsFolder => "forms_folder",
            LinkKind::MonthFolder => "month_folder",
            LinkKind::Party => "party",
            LinkKind::ComplianceProject => "compliance_project",
            LinkKind::Contact => "contact",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// How a link came to be; `explain` and the UI show it, and only sync-made links are ever
/// removed by sync.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LinkOrigin {
    /// Sync created the local record from the Procore one.
    CreatedFromProcore,
    /// An administrator matched an existing local record to a Procore one.
    LinkedManually,
    /// trestle created the Procore record from the local one (a forms folder, a month folder,
    /// a form document).
    CreatedInProcore,
}

impl LinkOrigin {
    pub fn as_str(self) -> &'static str {
        match self {
            LinkOrigin::CreatedFromProcore => "created_from_procore",
            LinkOrigin::LinkedManually => "linked_manually",
            LinkOrigin::CreatedInProcore => "created_in_procore",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            LinkOrigin::CreatedFromProcore,
            LinkOrigin::LinkedManually,
            LinkOrigin::CreatedInProcore,
        ]
        .into_iter()
        .find(|o| o.as_str() == s)
    }
}

/// A Procore record joined to a local one.
///
/// Unique per company and kind on each side: one Procore record links to at most one local
/// record and the other way round (for month folders, per local id and local key).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    pub company_id: CompanyId,
    pub kind: LinkKind,
    pub procore_id: i64,
    pub local_id: i64,
    /// Tells apart several links of one local record; the month (`YYYY-MM`) for
    /// [`LinkKind::MonthFolder`], empty otherwise.
    pub local_key: String,
    pub origin: LinkOrigin,
    /// For [`LinkKind::FormDocument`]: the submission revision Procore holds.
    pub uploaded_revision: Option<u32>,
}

impl Link {
    /// A link with no local key and no uploaded revision.
    pub fn new(
        company_id: CompanyId,
        kind: LinkKind,
        procore_id: i64,
        local_id: i64,
        origin: LinkOrigin,
    ) -> Self {
        Link {
            company_id,
            kind,
            procore_id,
            local_id,
            local_key: String::new(),
            origin,
            uploaded_revision: None,
        }
    }
}

/// One change to the app side that an apply writes.
///
/// The sync crate maps its planner's actions onto these; skips are not changes and only reach
/// the run log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WorkforceChange {
    /// Inserts the project and links it to `procore_id`. Already linked: nothing is written and
    /// the linked project's id is returned, so applying twice is harmless.
    CreateProject {
        procore_id: i64,
        fields: ProjectFields,
        status: ProjectStatus,
    },
    UpdateProject {
        project_id: i64,
        fields: ProjectFields,
        status: ProjectStatus,
    },
    /// Inserts the worker (not blocked) and links it to `procore_id`; idempotent like
    /// `CreateProject`.
    CreateWorker {
        procore_id: i64,
        fields: WorkerFields,
        activation: Activation,
    },
    /// The worker's Procore fields and whether Procore's side blocks it. Never its activation,
    /// which only a person changes (an administrator may activate it between the sync's plan
    /// and this write), and never an administrator's block away: a worker an administrator
    /// blocked stays blocked.
    UpdateWorker {
        worker_id: i64,
        fields: WorkerFields,
        blocked: bool,
    },
}

/// A Procore write to perform later, enqueued with the changes that call for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewOutboxItem {
    pub company_id: CompanyId,
    /// What the drain does with it, e.g. `upload_form`.
    pub kind: String,
    /// Unique across the outbox: enqueueing an existing key does nothing, so a retried apply or
    /// a re-planned form revision never sends twice.
    pub key: String,
    pub payload_json: String,
    /// Not claimable before this time; `None` means at once.
    pub not_before: Option<DateTime<Utc>>,
}

impl NewOutboxItem {
    pub fn new(company_id: CompanyId, kind: &str, key: &str, payload_json: &str) -> Self {
        NewOutboxItem {
            company_id,
            kind: kind.into(),
            key: key.into(),
            payload_json: payload_json.into(),
            not_before: None,
        }
    }
}

/// Where an outbox item is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OutboxState {
    /// Waiting, or claimed and leased (see [`OutboxItem::available_at`]).
    Pending,
    Done,
    /// Given up: failed with no retry time.
    Failed,
}

impl OutboxState {
    pub fn as_str(self) -> &'static str {
        match self {
            OutboxState::Pending => "pending",
            OutboxState::Done => "done",
            OutboxState::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [OutboxState::Pending, OutboxState::Done, OutboxState::Failed]
            .into_iter()
            .find(|o| o.as_str() == s)
    }
}

/// An outbox item as a claimer receives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxItem {
    pub id: i64,
    pub company_id: CompanyId,
    pub kind: String,
    pub key: String,
    pub payload_json: String,
    pub state: OutboxState,
    /// Claims so far, this one included.
    pub attempts: u32,
    pub last_error: Option<String>,
    pub result_json: Option<String>,
    /// When a claimed item's lease runs out (it is claimable again then), or when a failed one
    /// may be retried.
    pub available_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
}

/// A sync run's id; every run-log entry belongs to one run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RunId(pub i64);

impl fmt::Display for RunId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "run {}", self.0)
    }
}

/// What a run-log entry is about: the kind of record its id names. Stored as its text
/// ([`SubjectKind::as_str`]), the names `explain` has always taken, so older rows read as they
/// were written.
///
/// Kinds compare by their stored names, so `Other("form")` is `Form`.
#[derive(Debug, Clone)]
pub enum SubjectKind {
    ProcoreProject,
    ProcoreUser,
    /// A company of the Procore directory (a vendor), the compliance side's party.
    ProcoreCompany,
    ProcoreContact,
    ProcoreCommitment,
    /// A form submission; its id is trestle's own, since forms start on the app side.
    Form,
    /// An insurance record trestle writes to Procore, filed under its party's Procore company.
    Insurance,
    /// A setting of the integration (e.g. a profile field that Procore does not define).
    Setting,
    /// A kind this version does not know, kept as stored: a row written by another version
    /// still reads, and shows what it said.
    Other(String),
}

impl SubjectKind {
    /// Every kind this version writes.
    pub const KNOWN: [SubjectKind; 8] = [
        SubjectKind::ProcoreProject,
        SubjectKind::ProcoreUser,
        SubjectKind::ProcoreCompany,
        SubjectKind::ProcoreContact,
        SubjectKind::ProcoreCommitment,
        SubjectKind::Form,
        SubjectKind::Insurance,
        SubjectKind::Setting,
    ];

    /// The stored name.
    pub fn as_str(&self) -> &str {
        match self {
            SubjectKind::ProcoreProject => "procore-project",
            SubjectKind::ProcoreUser => "procore-user",
            SubjectKind::ProcoreCompany => "procore-company",
            SubjectKind::ProcoreContact => "procore-contact",
            SubjectKind::ProcoreCommitment => "procore-commitment",
            SubjectKind::Form => "form",
            SubjectKind::Insurance => "insurance",
            SubjectKind::Setting => "setting",
            SubjectKind::Other(s) => s,
        }
    }

    /// The kind a stored name names; never fails, since an unknown name is [`SubjectKind::Other`].
    pub fn parse(s: &str) -> SubjectKind {
        SubjectKind::KNOWN
            .into_iter()
            .find(|k| k.as_str() == s)
            .unwrap_or_else(|| SubjectKind::Other(s.to_string()))
    }
}

impl PartialEq for SubjectKind {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for SubjectKind {}

impl std::hash::Hash for SubjectKind {
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        self.as_str().hash(h);
    }
}

/// In the order of their stored names, as lists of them were sorted before they were typed.
impl Ord for SubjectKind {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.as_str().cmp(other.as_str())
    }
}

impl PartialOrd for SubjectKind {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for SubjectKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// As its stored name, the name people and tools already know.
impl serde::Serialize for SubjectKind {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// One decision of a run, with the reason that decided it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunEntry {
    /// The kind of record the entry is about.
    pub kind: SubjectKind,
    pub procore_id: Option<i64>,
    pub local_id: Option<i64>,
    /// Inside [`crate::Store::apply_workforce`]: the index of the change this entry records;
    /// its `local_id` is then filled with the id the change created, which the caller cannot
    /// know beforehand.
    pub change: Option<usize>,
    /// What was done, e.g. `create_project`, `skip`.
    pub action: String,
    /// The reason as a sentence, as `explain` shows it.
    pub reason: String,
    /// The reason's structured form (JSON), for tools.
    pub detail_json: Option<String>,
    /// `applied`, `planned` (dry run), `skipped`, `failed: ...`.
    pub outcome: String,
}

/// A stored run-log entry with its run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunEntryRecord {
    pub id: i64,
    /// The run that first made this decision.
    pub run: RunId,
    /// The last run that made it again, unchanged, run after run (`run` when only one did).
    pub last_run: RunId,
    pub integration: String,
    pub dry_run: bool,
    pub recorded_at: DateTime<Utc>,
    pub entry: RunEntry,
}

/// A sync run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Run {
    pub id: RunId,
    pub company_id: CompanyId,
    pub integration: String,
    pub dry_run: bool,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    pub summary_json: Option<String>,
}

/// A sync cursor to set: the last `updated_at` seen in a collection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CursorUpdate {
    pub collection: String,
    pub value: String,
}

/// Everything one apply writes in one transaction.
#[derive(Debug, Clone, Copy, Default)]
pub struct WorkforceBatch<'a> {
    pub company_id: CompanyId,
    /// The run whose log receives `log`; no log is written without one.
    pub run: Option<RunId>,
    pub changes: &'a [WorkforceChange],
    pub outbox: &'a [NewOutboxItem],
    pub cursors: &'a [CursorUpdate],
    pub log: &'a [RunEntry],
    /// Records left waiting for an administrator's decision, and those no longer waiting.
    pub waiting: &'a [crate::WaitingChange],
}

/// The connection to one Procore company, with the workforce integration's settings.
///
/// `Debug` shows the client secret as `[REDACTED]`; it is sealed at rest.
#[derive(Debug, Clone)]
pub struct Connection {
    pub company_id: CompanyId,
    pub client_id: String,
    pub client_secret: SecretString,
    /// Only users marked as employees in Procore become workers.
    pub sync_employees_only: bool,
    /// New workers are activated at once.
    pub auto_activate_workers: bool,
    /// Completed form PDFs go to Procore Documents.
    pub sync_forms: bool,
    /// The forms folder's base name, "Corfix Forms" unless a company uses its own.
    pub forms_folder: String,
}

/// The forms folder's base name when a connection does not name one.
pub const DEFAULT_FORMS_FOLDER: &str = "Corfix Forms";

impl Connection {
    /// A connection with every toggle off and the default forms folder.
    pub fn new(company_id: CompanyId, client_id: &str, client_secret: SecretString) -> Self {
        Connection {
            company_id,
            client_id: client_id.into(),
            client_secret,
            sync_employees_only: false,
            auto_activate_workers: false,
            sync_forms: false,
            forms_folder: DEFAULT_FORMS_FOLDER.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_known_subject_kind_reads_back_from_its_stored_name() {
        for kind in SubjectKind::KNOWN {
            assert_eq!(SubjectKind::parse(kind.as_str()), kind);
        }
    }

    #[test]
    fn a_subject_kind_this_version_does_not_know_reads_as_stored() {
        let kind = SubjectKind::parse("procore-invoice");
        assert_eq!(kind, SubjectKind::Other("procore-invoice".into()));
        assert_eq!(kind.as_str(), "procore-invoice");
        assert_eq!(serde_json::to_string(&kind).unwrap(), "\"procore-invoice\"");
    }
}
