//! The workforce planner: Procore projects and users into the app's projects and workers.
//!
//! `plan` is a pure function of the snapshot, the app's records, the settings and today's date.
//! Every action carries a [`Reason`] naming the seed rule that decided it; `explain` shows that
//! reason to a site administrator, so each one reads as a sentence.

use super::forms::needs_upload;
use super::input::{
    LocalWorkforce, ProcoreProject, ProcoreUser, RecordKind, WorkforceSettings, WorkforceSnapshot,
};
use crate::text::non_empty;
use chrono::NaiveDate;
use domain::workforce::worker::email_key;
use domain::workforce::{Activation, ProjectFields, ProjectStatus, WorkerFields};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// The rule that decided an action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "rule", rename_all = "snake_case")]
pub enum Reason {
    /// A new project whose status in Procore maps to Active or Upcoming.
    NewProject {
        status: ProjectStatus,
    },
    /// A linked project whose status or mapped fields changed in Procore.
    ProjectChanged {
        status: ProjectStatus,
    },
    /// Inactive with a past start date and not in the app yet.
    CompletedProjectNotCreated,
    TemplateNeverSynced,
    SameNumberAsUnlinkedProject {
        project_id: i64,
        number: String,
    },
    SameNameAsUnlinkedProject {
        project_id: i64,
        name: String,
    },
    ServiceAccountNeverSynced,
    /// Another app's service account (Procore's `role` says so): not a person.
    OtherServiceAccountNeverSynced,
    SameEmailAsUnlinkedWorker {
        worker_id: i64,
    },
    InactiveUserNotCreated,
    NotAnEmployee,
    NewActiveUser {
        activation: Activation,
    },
    UserInactiveBlocked,
    UserInactiveNeverActivatedStaysPending,
    EmployeeFlagRemovedBlocked,
    /// Sync Employees Only was turned on since the last sync, and the user is not an employee.
    SyncEmployeesOnlyTurnedOnBlocked,
    /// Sync Employees Only was turned off since the last sync: a non-employee's worker, blocked
    /// by it, is unblocked.
    SyncEmployeesOnlyTurnedOffUnblocked,
    UserActiveAgain,
    WorkerDetailsChanged,
    Malformed {
        problem: String,
    },
    /// A completed form that Procore does not hold yet.
    FormCompleted {
        revision: u32,
    },
    /// A form changed after completion: the same Procore document gets a new version.
    FormRevised {
        uploaded: u32,
        revision: u32,
    },
    FormsSyncOff,
    FormProjectNotInProcore {
        project_id: i64,
    },
    /// An administrator chose never to sync this record.
    IgnoredByDecision,
    /// An administrator chose to import it although an app record has its number, name or
    /// email.
    ImportedByDecision,
    /// Procore would unblock the worker, but an administrator blocked it in the app.
    BlockedByAdminStaysBlocked,
}

impl Reason {
    /// Whether the record was left alone because of something on the app side (a clash with
    /// an unlinked record), not because of anything in Procore: such a record must be read
    /// again after the administrator acts, even if Procore never changes it. A setting is not
    /// such a cause: a changed setting makes the next sync read the users whole
    /// ([`super::input::WorkforceSettings::changes_user_decisions`]), so a skip because of
    /// Sync Employees Only need not hold the cursor back.
    pub fn waits_on_the_app_side(&self) -> bool {
        matches!(
            self,
            Reason::SameNumberAsUnlinkedProject { .. }
                | Reason::SameNameAsUnlinkedProject { .. }
                | Reason::SameEmailAsUnlinkedWorker { .. }
        )
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::NewProject { status } => write!(f, "created: the project is {} in Procore terms (active, or inactive with a start date in the future)", status.as_str()),
            Reason::ProjectChanged { status } => write!(f, "updated from Procore; its status is {}", status.as_str()),
            Reason::CompletedProjectNotCreated => write!(f, "not created: the project is inactive in Procore with a start date in the past (Completed), and completed projects are only kept up to date, never created"),
            Reason::TemplateNeverSynced => write!(f, "not synced: it is a project template in Procore, and templates are never synced"),
            Reason::SameNumberAsUnlinkedProject { project_id, number } => write!(f, "not synced: app project {project_id} already has project number \"{number}\"; link them, import it as a new project, ignore it, or change one of the numbers"),
            Reason::SameNameAsUnlinkedProject { project_id, name } => write!(f, "not synced: it has no project number and app project {project_id} already has the name \"{name}\"; link them, import it as a new project, ignore it, or give it a number in Procore"),
            Reason::ServiceAccountNeverSynced => write!(f, "not synced: it is the integration's own service account"),
            Reason::OtherServiceAccountNeverSynced => write!(f, "not synced: Procore marks the user as a service account (an app's user, not a person), and service accounts never become workers"),
            Reason::SameEmailAsUnlinkedWorker { worker_id } => write!(f, "not synced: worker {worker_id} already has this email address; link them, import it as a new worker, ignore it, or change one of the addresses"),
            Reason::InactiveUserNotCreated => write!(f, "not created: the user is inactive in Procore, and inactive users are never created"),
            Reason::NotAnEmployee => write!(f, "not created: Sync Employees Only is on and the user is not marked as an employee in Procore"),
            Reason::NewActiveUser { activation } => write!(f, "created as {}: the user is active in Procore", domain::workforce::WorkerStatus::from(*activation).as_str()),
            Reason::UserInactiveBlocked => write!(f, "blocked: the user is inactive in Procore"),
            Reason::UserInactiveNeverActivatedStaysPending => write!(f, "left in Pending Account Activation: the user is inactive in Procore but the worker was never activated, so it is not blocked"),
            Reason::EmployeeFlagRemovedBlocked => write!(f, "blocked: Sync Employees Only is on and the user is no longer marked as an employee in Procore"),
            Reason::SyncEmployeesOnlyTurnedOnBlocked => write!(f, "blocked: Sync Employees Only was turned on and the user is not marked as an employee in Procore"),
            Reason::SyncEmployeesOnlyTurnedOffUnblocked => write!(f, "unblocked: Sync Employees Only was turned off, so a user who is not an employee is synced again; the worker keeps the activation state it had"),
            Reason::UserActiveAgain => write!(f, "unblocked: the user is active in Procore again; the worker keeps the activation state it had"),
            Reason::WorkerDetailsChanged => write!(f, "updated: name, phone, employee number or email changed in Procore"),
            Reason::Malformed { problem } => write!(f, "skipped: Procore sent a record trestle cannot use ({problem})"),
            Reason::FormCompleted { revision } => write!(f, "uploaded: the form is completed (revision {revision}) and Sync Forms to Procore is on, so its PDF goes to the project's Documents"),
            Reason::FormRevised { uploaded, revision } => write!(f, "uploaded as a new version of the same document: the form changed after completion (Procore had revision {uploaded}, the form is now at revision {revision})"),
            Reason::FormsSyncOff => write!(f, "not uploaded: Sync Forms to Procore is off; turn on Sync Forms to Procore in the connection's settings"),
            Reason::FormProjectNotInProcore { project_id } => write!(f, "not uploaded: the form's project (app project {project_id}) is not linked to a Procore project, so there are no Documents to put it in"),
            Reason::IgnoredByDecision => write!(f, "not synced: an administrator chose to ignore it; link or import it to sync it"),
            Reason::ImportedByDecision => write!(f, "created: an administrator chose to import it although an app record has the same number, name or email"),
            Reason::BlockedByAdminStaysBlocked => write!(f, "left blocked: an administrator blocked the worker in the app; unblock it there to let Procore decide again"),
        }
    }
}

/// One decision of the planner.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Action {
    CreateProject {
        procore_id: i64,
        fields: ProjectFields,
        status: ProjectStatus,
        reason: Reason,
    },
    UpdateProject {
        procore_id: i64,
        project_id: i64,
        fields: ProjectFields,
        status: ProjectStatus,
        reason: Reason,
    },
    CreateWorker {
        procore_id: i64,
        fields: WorkerFields,
        activation: Activation,
        reason: Reason,
    },
    UpdateWorker {
        procore_id: i64,
        worker_id: i64,
        fields: WorkerFields,
        activation: Activation,
        blocked: bool,
        reason: Reason,
    },
    /// Render the form and put it in the project's Documents (a new version when Procore
    /// already holds an earlier revision).
    UploadForm {
        submission_id: i64,
        revision: u32,
        procore_project_id: i64,
        reason: Reason,
    },
    Skip {
        kind: RecordKind,
        procore_id: Option<i64>,
        reason: Reason,
    },
}

impl Action {
    pub fn reason(&self) -> &Reason {
        match self {
            Action::CreateProject { reason, .. }
            | Action::UpdateProject { reason, .. }
            | Action::CreateWorker { reason, .. }
            | Action::UpdateWorker { reason, .. }
            | Action::UploadForm { reason, .. }
            | Action::Skip { reason, .. } => reason,
        }
    }

    /// The Procore record this action is about.
    pub fn subject(&self) -> (RecordKind, Option<i64>) {
        match self {
            Action::CreateProject { procore_id, .. } | Action::UpdateProject { procore_id, .. } => {
                (RecordKind::Project, Some(*procore_id))
            }
            Action::CreateWorker { procore_id, .. } | Action::UpdateWorker { procore_id, .. } => {
                (RecordKind::User, Some(*procore_id))
            }
            Action::UploadForm { submission_id, .. } => (RecordKind::Form, Some(*submission_id)),
            Action::Skip {
                kind, procore_id, ..
            } => (*kind, *procore_id),
        }
    }

    /// Whether applying this action changes anything.
    pub fn is_change(&self) -> bool {
        !matches!(self, Action::Skip { .. })
    }
}

/// The planner's output, sorted by (kind, Procore id) so equal input gives an equal plan.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    pub actions: Vec<Action>,
}

impl Plan {
    pub fn changes(&self) -> impl Iterator<Item = &Action> {
        self.actions.iter().filter(|a| a.is_change())
    }

    pub fn has_changes(&self) -> bool {
        self.changes().next().is_some()
    }
}

/// The seed's project field mapping.
pub fn project_fields(p: &ProcoreProject) -> ProjectFields {
    ProjectFields {
        name: crate::text::kept(&p.name),
        project_number: non_empty(p.project_number.as_deref()),
        private_description: non_empty(p.description.as_deref()),
        public_info: non_empty(p.public_notes.as_deref()),
        street_address: non_empty(p.address.as_deref()),
        city: non_empty(p.city.as_deref()),
        state: non_empty(p.state_code.as_deref()),
        zip: non_empty(p.zip.as_deref()),
        country: non_empty(p.country_code.as_deref()),
    }
}

/// The seed's user field mapping: the mobile phone, or the business phone when there is none.
pub fn worker_fields(u: &ProcoreUser) -> WorkerFields {
    WorkerFields {
        first_name: crate::text::kept(&u.first_name),
        last_name: crate::text::kept(&u.last_name),
        phone: non_empty(u.mobile_phone.as_deref())
            .or_else(|| non_empty(u.business_phone.as_deref())),
        employee_number: non_empty(u.employee_id.as_deref()),
        email: non_empty(u.email_address.as_deref()),
    }
}

fn name_key(s: &str) -> String {
    s.trim().to_lowercase()
}

/// Plans the project and worker changes for one sync.
pub fn plan(
    snapshot: &WorkforceSnapshot,
    local: &LocalWorkforce,
    settings: &WorkforceSettings,
    today: NaiveDate,
) -> Plan {
    let mut actions = Vec::new();
    plan_projects(snapshot, local, today, &mut actions);
    plan_users(snapshot, local, settings, &mut actions);
    plan_forms(local, settings, &mut actions);
    for r in &snapshot.rejected {
        actions.push(Action::Skip {
            kind: r.kind,
            procore_id: r.procore_id,
            reason: Reason::Malformed {
                problem: r.problem.clone(),
            },
        });
    }
    actions.sort_by_key(|a| a.subject());
    Plan { actions }
}

fn plan_projects(
    snapshot: &WorkforceSnapshot,
    local: &LocalWorkforce,
    today: NaiveDate,
    out: &mut Vec<Action>,
) {
    let linked_local: std::collections::BTreeSet<i64> =
        local.project_links.values().copied().collect();
    let by_id: BTreeMap<i64, &domain::workforce::Project> =
        local.projects.iter().map(|p| (p.id, p)).collect();
    // Indexes of the unlinked app projects, built once: a company can hold thousands. The
    // lowest id wins when two app projects share a number or name.
    let mut by_number: BTreeMap<&str, &domain::workforce::Project> = BTreeMap::new();
    let mut by_name: BTreeMap<String, &domain::workforce::Project> = BTreeMap::new();
    for l in local
        .projects
        .iter()
        .filter(|p| !linked_local.contains(&p.id))
    {
        if let Some(n) = l.fields.project_number.as_deref().map(str::trim) {
            by_number
                .entry(n)
                .and_modify(|e| {
                    if l.id < e.id {
                        *e = l
                    }
                })
                .or_insert(l);
        }
        by_name
            .entry(name_key(&l.fields.name))
            .and_modify(|e| {
                if l.id < e.id {
                    *e = l
                }
            })
            .or_insert(l);
    }

    for p in &snapshot.projects {
        let skip = |reason| Action::Skip {
            kind: RecordKind::Project,
            procore_id: Some(p.id),
            reason,
        };
        if p.is_template {
            out.push(skip(Reason::TemplateNeverSynced));
            continue;
        }
        let fields = project_fields(p);
        let status = ProjectStatus::from_procore(p.active, p.start_date, today);
        if let Some(local_id) = local.project_links.get(&p.id) {
            if let Some(existing) = by_id.get(local_id) {
                if existing.fields != fields || existing.status != status {
                    out.push(Action::UpdateProject {
                        procore_id: p.id,
                        project_id: *local_id,
                        fields,
                        status,
                        reason: Reason::ProjectChanged { status },
                    });
                }
                continue;
            }
        }
        let decision = local.decisions.get(&(RecordKind::Project, p.id)).copied();
        if decision == Some(store::WorkforceDecision::Ignore) {
            out.push(skip(Reason::IgnoredByDecision));
            continue;
        }
        let import = decision == Some(store::WorkforceDecision::Import);
        if import {
            // Chosen over the clash; a completed project is still never created.
        } else if let Some(number) = &fields.project_number {
            if let Some(clash) = by_number.get(number.as_str()) {
                out.push(skip(Reason::SameNumberAsUnlinkedProject {
                    project_id: clash.id,
                    number: number.clone(),
                }));
                continue;
            }
        } else if let Some(clash) = by_name.get(&name_key(&fields.name)) {
            out.push(skip(Reason::SameNameAsUnlinkedProject {
                project_id: clash.id,
                name: clash.fields.name.clone(),
            }));
            continue;
        }
        if status == ProjectStatus::Completed {
            out.push(skip(Reason::CompletedProjectNotCreated));
            continue;
        }
        out.push(Action::CreateProject {
            procore_id: p.id,
            fields,
            status,
            reason: if import {
                Reason::ImportedByDecision
            } else {
                Reason::NewProject { status }
            },
        });
    }
}

fn plan_users(
    snapshot: &WorkforceSnapshot,
    local: &LocalWorkforce,
    settings: &WorkforceSettings,
    out: &mut Vec<Action>,
) {
    let linked_local: std::collections::BTreeSet<i64> =
        local.worker_links.values().copied().collect();
    let employees_only_was = local.last_settings.map(|s| s.sync_employees_only);
    let by_id: BTreeMap<i64, &domain::workforce::Worker> =
        local.workers.iter().map(|w| (w.id, w)).collect();
    // Unlinked workers by email, built once; the lowest id wins on a shared address.
    let mut by_email: BTreeMap<String, i64> = BTreeMap::new();
    for w in local
        .workers
        .iter()
        .filter(|w| !linked_local.contains(&w.id))
    {
        if let Some(key) = w.fields.email.as_deref().and_then(email_key) {
            by_email
                .entry(key)
                .and_modify(|id| *id = (*id).min(w.id))
                .or_insert(w.id);
        }
    }

    for u in &snapshot.users {
        let skip = |reason| Action::Skip {
            kind: RecordKind::User,
            procore_id: Some(u.id),
            reason,
        };
        if Some(u.id) == snapshot.service_account_id {
            out.push(skip(Reason::ServiceAccountNeverSynced));
            continue;
        }
        if u.is_service_account {
            out.push(skip(Reason::OtherServiceAccountNeverSynced));
            continue;
        }
        let fields = worker_fields(u);
        if let Some(existing) = local.worker_links.get(&u.id).and_then(|id| by_id.get(id)) {
            let (blocked, status_reason) = if !u.is_active {
                if existing.activation.was_activated() {
                    (true, Reason::UserInactiveBlocked)
                } else {
                    (
                        existing.blocked,
                        Reason::UserInactiveNeverActivatedStaysPending,
                    )
                }
            } else if settings.sync_employees_only && !u.is_employee {
                if employees_only_was == Some(false) {
                    (true, Reason::SyncEmployeesOnlyTurnedOnBlocked)
                } else {
                    (true, Reason::EmployeeFlagRemovedBlocked)
                }
            } else if !u.is_employee && employees_only_was == Some(true) {
                (false, Reason::SyncEmployeesOnlyTurnedOffUnblocked)
            } else if local.blocked_by_admin.contains(&existing.id) {
                (true, Reason::BlockedByAdminStaysBlocked)
            } else {
                (false, Reason::UserActiveAgain)
            };
            let status_changed = blocked != existing.blocked;
            if status_changed || existing.fields != fields {
                out.push(Action::UpdateWorker {
                    procore_id: u.id,
                    worker_id: existing.id,
                    fields,
                    activation: existing.activation,
                    blocked,
                    reason: if status_changed {
                        status_reason
                    } else {
                        Reason::WorkerDetailsChanged
                    },
                });
            } else if matches!(
                status_reason,
                Reason::UserInactiveNeverActivatedStaysPending | Reason::BlockedByAdminStaysBlocked
            ) {
                // Nothing to write, but the rule decided something a site administrator will
                // ask about: why a Procore-inactive user's worker is not blocked.
                out.push(skip(status_reason));
            }
            continue;
        }
        let decision = local.decisions.get(&(RecordKind::User, u.id)).copied();
        if decision == Some(store::WorkforceDecision::Ignore) {
            out.push(skip(Reason::IgnoredByDecision));
            continue;
        }
        let import = decision == Some(store::WorkforceDecision::Import);
        if import {
            // Chosen over the clash: a second worker with this address.
        } else if let Some(key) = fields.email.as_deref().and_then(email_key) {
            if let Some(worker_id) = by_email.get(&key) {
                out.push(skip(Reason::SameEmailAsUnlinkedWorker {
                    worker_id: *worker_id,
                }));
                continue;
            }
        }
        if !u.is_active {
            out.push(skip(Reason::InactiveUserNotCreated));
            continue;
        }
        if settings.sync_employees_only && !u.is_employee {
            out.push(skip(Reason::NotAnEmployee));
            continue;
        }
        let activation = if settings.auto_activate_workers {
            Activation::on_activation(fields.email.as_deref())
        } else {
            Activation::PendingAccountActivation
        };
        out.push(Action::CreateWorker {
            procore_id: u.id,
            fields,
            activation,
            reason: if import {
                Reason::ImportedByDecision
            } else {
                Reason::NewActiveUser { activation }
            },
        });
    }
}

fn plan_forms(local: &LocalWorkforce, settings: &WorkforceSettings, out: &mut Vec<Action>) {
    let procore_project: BTreeMap<i64, i64> = local
        .project_links
        .iter()
        .map(|(procore, local)| (*local, *procore))
        .collect();
    for form in &local.forms {
        let skip = |reason| Action::Skip {
            kind: RecordKind::Form,
            procore_id: Some(form.submission_id),
            reason,
        };
        // Only completed forms newer than what Procore holds are worth a decision; a revision
        // already in the outbox has been decided.
        if !needs_upload(true, form.completed, form.revision, form.uploaded_revision)
            || form.queued_revision >= Some(form.revision)
        {
            continue;
        }
        if !settings.sync_forms {
            out.push(skip(Reason::FormsSyncOff));
            continue;
        }
        let Some(procore_project_id) = procore_project.get(&form.project_id) else {
            out.push(skip(Reason::FormProjectNotInProcore {
                project_id: form.project_id,
            }));
            continue;
        };
        let reason = match form.uploaded_revision {
            Some(uploaded) => Reason::FormRevised {
                uploaded,
                revision: form.revision,
            },
            None => Reason::FormCompleted {
                revision: form.revision,
            },
        };
        out.push(Action::UploadForm {
            submission_id: form.submission_id,
            revision: form.revision,
            procore_project_id: *procore_project_id,
            reason,
        });
    }
}
