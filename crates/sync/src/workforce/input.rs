//! The planner's inputs.
//!
//! Procore records arrive here already checked by the collector: a record whose required fields
//! are missing or malformed never becomes a `ProcoreProject`; it is listed in
//! [`WorkforceSnapshot::rejected`] with the reason, so one bad record skips itself and the rest
//! of the sync goes on.

use chrono::NaiveDate;
use domain::workforce::{Project, Worker};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The three toggles of the workforce connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct WorkforceSettings {
    /// Only users marked as employees in Procore become workers.
    pub sync_employees_only: bool,
    /// New workers are activated at once instead of waiting in Pending Account Activation.
    pub auto_activate_workers: bool,
    /// Completed form PDFs go to the project's Procore Documents.
    pub sync_forms: bool,
}

/// A Procore project, as much of it as the workforce app maps.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProcoreProject {
    pub id: i64,
    pub name: String,
    pub project_number: Option<String>,
    pub description: Option<String>,
    pub public_notes: Option<String>,
    pub address: Option<String>,
    pub city: Option<String>,
    pub state_code: Option<String>,
    pub zip: Option<String>,
    pub country_code: Option<String>,
    pub active: bool,
    pub start_date: Option<NaiveDate>,
    pub is_template: bool,
}

/// A Procore company user, as much of it as the workforce app maps.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProcoreUser {
    pub id: i64,
    pub first_name: String,
    pub last_name: String,
    pub mobile_phone: Option<String>,
    pub business_phone: Option<String>,
    pub employee_id: Option<String>,
    pub email_address: Option<String>,
    pub is_active: bool,
    pub is_employee: bool,
    /// Procore marks the user as a service account (`role: "service_account"` on the v1.3
    /// list): an app's user, never a person, so never a worker.
    #[serde(default)]
    pub is_service_account: bool,
}

/// A record the collector could not use, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rejected {
    pub kind: RecordKind,
    pub procore_id: Option<i64>,
    pub problem: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum RecordKind {
    Project,
    User,
    /// A form submission; its id is trestle's own, since forms start on the app side.
    Form,
}

impl WorkforceSettings {
    /// Whether going from `before` to these settings can change what the planner decides
    /// about records Procore has not changed: then the next sync must read the users whole,
    /// or an incremental read would leave the records Procore did not touch as they were.
    /// Only Sync Employees Only does: Automatically Activate Workers applies to workers as
    /// they are created (existing workers keep their state, as the seed says), and Sync Forms
    /// and the forms folder decide about the app's forms, which every sync considers whole.
    pub fn changes_user_decisions(&self, before: Option<&WorkforceSettings>) -> bool {
        before.is_none_or(|b| b.sync_employees_only != self.sync_employees_only)
    }
}

impl RecordKind {
    /// The kind of waiting record this is, for projects and users.
    pub fn waiting(self) -> Option<store::WaitingKind> {
        match self {
            RecordKind::Project => Some(store::WaitingKind::Project),
            RecordKind::User => Some(store::WaitingKind::User),
            RecordKind::Form => None,
        }
    }

    pub fn from_waiting(kind: store::WaitingKind) -> RecordKind {
        match kind {
            store::WaitingKind::Project => RecordKind::Project,
            store::WaitingKind::User => RecordKind::User,
        }
    }

    /// What the run log files a decision about this record under.
    pub fn subject(self) -> store::SubjectKind {
        match self {
            RecordKind::Project => store::SubjectKind::ProcoreProject,
            RecordKind::User => store::SubjectKind::ProcoreUser,
            RecordKind::Form => store::SubjectKind::Form,
        }
    }
}

/// What the collector read from Procore for one sync.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkforceSnapshot {
    pub projects: Vec<ProcoreProject>,
    pub users: Vec<ProcoreUser>,
    /// The integration's own service account (from `/me`), which is never a worker.
    pub service_account_id: Option<i64>,
    pub rejected: Vec<Rejected>,
}

/// A form submission as the forms planner needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormState {
    pub submission_id: i64,
    /// The app project the form was filled on.
    pub project_id: i64,
    pub completed: bool,
    pub revision: u32,
    /// The revision Procore holds, if any.
    pub uploaded_revision: Option<u32>,
    /// The revision already waiting in the outbox, if any.
    pub queued_revision: Option<u32>,
}

/// The app's side: its records and which Procore record each is linked to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LocalWorkforce {
    pub projects: Vec<Project>,
    pub workers: Vec<Worker>,
    /// Procore project id to app project id.
    pub project_links: BTreeMap<i64, i64>,
    /// Procore user id to worker id.
    pub worker_links: BTreeMap<i64, i64>,
    /// Form submissions, for the forms half of the integration.
    pub forms: Vec<FormState>,
    /// The toggles the last applied sync ran with (`None` before the first sync, or when a
    /// version that did not record them ran it). A change of Sync Employees Only since then is
    /// named as the reason a worker is blocked or unblocked, not a change in Procore.
    pub last_settings: Option<WorkforceSettings>,
    /// What administrators decided about Procore records that clashed with app records:
    /// import anyway, or never sync. (A link is in `project_links` / `worker_links`.)
    pub decisions: BTreeMap<(RecordKind, i64), store::WorkforceDecision>,
    /// Workers an administrator blocked, which no sync unblocks.
    pub blocked_by_admin: std::collections::BTreeSet<i64>,
}
