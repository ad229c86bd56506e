//! The workforce app as an administrator runs it: the workers and what a Corfix admin does
//! to them (activate, block, unblock), and the Procore records the sync left waiting because
//! an unlinked app record has their number, name or email, with the three ways out (link to
//! that record, import as a new one, ignore) and a preview of each.
//!
//! A decision is saved at once and a targeted sync of the one record is queued, so a running
//! `trestle serve` applies it within seconds; without one, the next sync does (the record
//! holds the incremental cursor back until it is decided).

use chrono::{DateTime, NaiveDate, Utc};
use domain::workforce::{Activation, Project, ProjectFields, Worker, WorkerFields};
use serde::Serialize;
use store::{
    Store, StoreError, Versioned, WaitingKind, WaitingRecord, WorkerQuery, WorkerRecord,
    WorkerState, WorkforceDecision,
};
use sync::jobs::{Integration, Work};
use sync::webhooks::Targets;
use sync::workforce::input::{ProcoreProject, ProcoreUser, RecordKind, WorkforceSnapshot};
use sync::workforce::plan::{plan, project_fields, worker_fields, Action};
use sync::workforce::run::{load_local, settings_of};

/// Why a workforce use case could not do what was asked. Each names the record to look at.
#[derive(Debug, thiserror::Error)]
pub enum WorkforceError {
    #[error("Procore company {0} is not connected")]
    NotConnected(i64),
    #[error("Procore {kind} {procore_id} is not waiting for a decision")]
    NotWaiting { kind: &'static str, procore_id: i64 },
    #[error("there is no app {kind} {id}")]
    NoSuchRecord { kind: &'static str, id: i64 },
    #[error("app {kind} {id} is already linked to Procore {kind_procore} {procore_id}")]
    AlreadyLinked {
        kind: &'static str,
        id: i64,
        kind_procore: &'static str,
        procore_id: i64,
    },
    #[error(
        "worker {id} is {status}; only a worker in Pending Account Activation can be activated"
    )]
    NotPending { id: i64, status: &'static str },
    #[error("worker {id} is blocked; unblock it before activating it")]
    Blocked { id: i64 },
    /// The worker changed since the version the caller saw; nothing was written.
    #[error("worker {} changed since that version", .0.worker.id)]
    Stale(Box<WorkerRecord>),
    #[error("the stored record of Procore {kind} {procore_id} cannot be read: {detail}")]
    Unreadable {
        kind: &'static str,
        procore_id: i64,
        detail: String,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Sync(#[from] sync::SyncError),
}

type Result<T> = std::result::Result<T, WorkforceError>;

/// What an administrator can do with a waiting record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "decision", rename_all = "snake_case")]
pub enum Decision {
    /// It is the same as app record `to`: link them; Procore's fields then win.
    Link { to: i64 },
    /// Create a new app record anyway.
    Import,
    /// Never sync it.
    Ignore,
}

/// A Procore record waiting for a decision, as a person needs to see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Waiting {
    /// `project` or `user`.
    pub kind: &'static str,
    pub procore_id: i64,
    /// The project's name, or the user's full name.
    pub name: String,
    /// The project number, or the user's email.
    pub key: Option<String>,
    /// The app record it clashes with: the one a link would join it to.
    pub clashes_with: Option<i64>,
    /// Why it waits, in a sentence.
    pub reason: String,
    pub seen_at: DateTime<Utc>,
}

/// One field a decision changes in the app.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldChange {
    pub field: &'static str,
    pub from: Option<String>,
    pub to: Option<String>,
}

/// What a decision would do, planned by the workforce planner on what Procore last sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Preview {
    pub decision: Decision,
    /// What happens, in a sentence.
    pub outcome: String,
    /// The app record's fields that change (a link updates it from Procore).
    pub changes: Vec<FieldChange>,
    /// The planner's action, as a sync would log it.
    pub action: Option<Action>,
}

/// A decision made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Decided {
    pub preview: Preview,
    /// The queued sync of the record that applies it.
    pub job_id: i64,
}

/// What an administrator does to a worker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WorkerAction {
    /// Pending Account Activation to Pending Email Verification (with an email) or Active
    /// for Kiosk (without).
    Activate,
    /// Blocked until an administrator unblocks it, whatever Procore says.
    Block,
    /// Unblocked; a worker whose Procore user is inactive is blocked again by the next sync
    /// that reads the user.
    Unblock,
}

fn kind_name(kind: WaitingKind) -> &'static str {
    kind.as_str()
}

fn app_kind(kind: WaitingKind) -> &'static str {
    match kind {
        WaitingKind::Project => "project",
        WaitingKind::User => "worker",
    }
}

/// The records waiting for a decision.
///
/// # Errors
/// The store failed, or a stored record cannot be read.
pub async fn waiting(store: &Store, company: i64) -> Result<Vec<Waiting>> {
    store
        .waiting_records(company)
        .await?
        .iter()
        .map(describe)
        .collect()
}

fn describe(w: &WaitingRecord) -> Result<Waiting> {
    let reason: sync::workforce::Reason =
        serde_json::from_str(&w.reason_json).map_err(|e| unreadable(w, e))?;
    let clashes_with = match reason {
        sync::workforce::Reason::SameNumberAsUnlinkedProject { project_id, .. }
        | sync::workforce::Reason::SameNameAsUnlinkedProject { project_id, .. } => Some(project_id),
        sync::workforce::Reason::SameEmailAsUnlinkedWorker { worker_id } => Some(worker_id),
        _ => None,
    };
    let (name, key) = match w.kind {
        WaitingKind::Project => {
            let p: ProcoreProject =
                serde_json::from_str(&w.record_json).map_err(|e| unreadable(w, e))?;
            (p.name, p.project_number)
        }
        WaitingKind::User => {
            let u: ProcoreUser =
                serde_json::from_str(&w.record_json).map_err(|e| unreadable(w, e))?;
            (
                format!("{} {}", u.first_name, u.last_name)
                    .trim()
                    .to_string(),
                u.email_address,
            )
        }
    };
    Ok(Waiting {
        kind: kind_name(w.kind),
        procore_id: w.procore_id,
        name,
        key,
        clashes_with,
        reason: w.reason.clone(),
        seen_at: w.seen_at,
    })
}

fn unreadable(w: &WaitingRecord, e: serde_json::Error) -> WorkforceError {
    WorkforceError::Unreadable {
        kind: kind_name(w.kind),
        procore_id: w.procore_id,
        detail: e.to_string(),
    }
}

/// What `decision` about the waiting record would do, without doing it.
///
/// # Errors
/// The record is not waiting; a link names an app record that does not exist or is linked
/// already; the store failed.
pub async fn preview(
    store: &Store,
    company: i64,
    kind: WaitingKind,
    procore_id: i64,
    decision: Decision,
    today: NaiveDate,
) -> Result<Preview> {
    let connection = store
        .connection(company)
        .await?
        .ok_or(WorkforceError::NotConnected(company))?;
    let record = store
        .waiting_record(company, kind, procore_id)
        .await?
        .ok_or(WorkforceError::NotWaiting {
            kind: kind_name(kind),
            procore_id,
        })?;
    let mut local = load_local(store, company).await?;
    let record_kind = RecordKind::from_waiting(kind);
    let mut snapshot = WorkforceSnapshot::default();
    match kind {
        WaitingKind::Project => snapshot
            .projects
            .push(serde_json::from_str(&record.record_json).map_err(|e| unreadable(&record, e))?),
        WaitingKind::User => snapshot
            .users
            .push(serde_json::from_str(&record.record_json).map_err(|e| unreadable(&record, e))?),
    }
    let mut before: Option<Vec<FieldChange>> = None;
    match decision {
        Decision::Link { to } => {
            let links = match kind {
                WaitingKind::Project => &mut local.project_links,
                WaitingKind::User => &mut local.worker_links,
            };
            if let Some((linked, _)) = links.iter().find(|(_, l)| **l == to) {
                return Err(WorkforceError::AlreadyLinked {
                    kind: app_kind(kind),
                    id: to,
                    kind_procore: kind_name(kind),
                    procore_id: *linked,
                });
            }
            links.insert(procore_id, to);
            local.decisions.remove(&(record_kind, procore_id));
            before = Some(match kind {
                WaitingKind::Project => {
                    let p = local.projects.iter().find(|p| p.id == to).ok_or(
                        WorkforceError::NoSuchRecord {
                            kind: "project",
                            id: to,
                        },
                    )?;
                    project_changes(p, &project_fields(&snapshot.projects[0]))
                }
                WaitingKind::User => {
                    let w = local.workers.iter().find(|w| w.id == to).ok_or(
                        WorkforceError::NoSuchRecord {
                            kind: "worker",
                            id: to,
                        },
                    )?;
                    worker_changes(w, &worker_fields(&snapshot.users[0]))
                }
            });
        }
        Decision::Import => {
            local
                .decisions
                .insert((record_kind, procore_id), WorkforceDecision::Import);
        }
        Decision::Ignore => {
            local
                .decisions
                .insert((record_kind, procore_id), WorkforceDecision::Ignore);
        }
    }
    let planned = plan(&snapshot, &local, &settings_of(&connection), today);
    let action = planned
        .actions
        .into_iter()
        .find(|a| a.subject() == (record_kind, Some(procore_id)));
    let (name, what) = (kind_name(kind), app_kind(kind));
    let outcome = match (decision, &action) {
        (Decision::Link { to }, Some(a)) if a.is_change() => format!(
            "links Procore {name} {procore_id} to app {what} {to}, which is then kept up to date from Procore"
        ),
        (Decision::Link { to }, _) => format!(
            "links Procore {name} {procore_id} to app {what} {to}; nothing else changes: the app {what} already matches"
        ),
        (_, Some(a)) => a.reason().to_string(),
        (_, None) => format!("Procore {name} {procore_id}: nothing changes"),
    };
    let changes = match (&action, before) {
        (Some(Action::UpdateProject { .. } | Action::UpdateWorker { .. }), Some(c)) => c,
        _ => Vec::new(),
    };
    Ok(Preview {
        decision,
        outcome,
        changes,
        action,
    })
}

fn change(field: &'static str, from: Option<&str>, to: Option<&str>) -> Option<FieldChange> {
    (from != to).then(|| FieldChange {
        field,
        from: from.map(str::to_string),
        to: to.map(str::to_string),
    })
}

fn project_changes(p: &Project, to: &ProjectFields) -> Vec<FieldChange> {
    let f = &p.fields;
    [
        change("name", Some(&f.name), Some(&to.name)),
        change(
            "project_number",
            f.project_number.as_deref(),
            to.project_number.as_deref(),
        ),
        change(
            "private_description",
            f.private_description.as_deref(),
            to.private_description.as_deref(),
        ),
        change(
            "public_info",
            f.public_info.as_deref(),
            to.public_info.as_deref(),
        ),
        change(
            "street_address",
            f.street_address.as_deref(),
            to.street_address.as_deref(),
        ),
        change("city", f.city.as_deref(), to.city.as_deref()),
        change("state", f.state.as_deref(), to.state.as_deref()),
        change("zip", f.zip.as_deref(), to.zip.as_deref()),
        change("country", f.country.as_deref(), to.country.as_deref()),
    ]
    .into_iter()
    .flatten()
    .collect()
}

fn worker_changes(w: &Worker, to: &WorkerFields) -> Vec<FieldChange> {
    let f = &w.fields;
    [
        change("first_name", Some(&f.first_name), Some(&to.first_name)),
        change("last_name", Some(&f.last_name), Some(&to.last_name)),
        change("phone", f.phone.as_deref(), to.phone.as_deref()),
        change(
            "employee_number",
            f.employee_number.as_deref(),
            to.employee_number.as_deref(),
        ),
        change("email", f.email.as_deref(), to.email.as_deref()),
    ]
    .into_iter()
    .flatten()
    .collect()
}

/// Makes `decision` about the waiting record and queues the sync of that record that
/// applies it (`max_attempts`: the server's `job_attempts`).
///
/// # Errors
/// As [`preview`].
pub async fn decide(
    store: &Store,
    company: i64,
    kind: WaitingKind,
    procore_id: i64,
    decision: Decision,
    now: DateTime<Utc>,
    max_attempts: u32,
) -> Result<Decided> {
    let preview = preview(store, company, kind, procore_id, decision, now.date_naive()).await?;
    match decision {
        Decision::Link { to } => store.link_waiting(company, kind, procore_id, to).await?,
        Decision::Import => {
            store
                .decide_workforce(company, kind, procore_id, WorkforceDecision::Import, now)
                .await?
        }
        Decision::Ignore => {
            store
                .decide_workforce(company, kind, procore_id, WorkforceDecision::Ignore, now)
                .await?
        }
    }
    let mut targets = Targets::default();
    match kind {
        WaitingKind::Project => targets.projects.insert(procore_id),
        WaitingKind::User => targets.users.insert(procore_id),
    };
    let work = Work::Sync {
        integration: Integration::Workforce,
        full: false,
        targets: Some(targets),
    };
    let job_id = match sync::jobs::enqueue(store, company, &work, now, max_attempts).await? {
        store::Enqueued::New(id) | store::Enqueued::Coalesced(id) => id,
    };
    Ok(Decided { preview, job_id })
}

/// A page of the company's workers.
///
/// # Errors
/// The store failed.
pub async fn workers(
    store: &Store,
    company: i64,
    query: &WorkerQuery,
) -> Result<Vec<WorkerRecord>> {
    Ok(store.worker_page(company, query).await?)
}

/// One worker.
///
/// # Errors
/// There is no such worker, or the store failed.
pub async fn worker(store: &Store, company: i64, id: i64) -> Result<WorkerRecord> {
    store
        .worker_record(company, id)
        .await?
        .ok_or(WorkforceError::NoSuchRecord { kind: "worker", id })
}

/// Does what an administrator asked to a worker, if it is still at `version` (the version
/// the caller saw, when it says one). Blocking a blocked worker or unblocking an unblocked one
/// changes nothing.
///
/// # Errors
/// No such worker; it cannot be activated (not pending, or blocked); it changed since
/// `version` ([`WorkforceError::Stale`]); the store failed.
pub async fn act_on_worker(
    store: &Store,
    company: i64,
    id: i64,
    action: WorkerAction,
    version: Option<&str>,
) -> Result<WorkerRecord> {
    let current = worker(store, company, id).await?;
    if version.is_some_and(|v| v != current.version) {
        return Err(WorkforceError::Stale(Box::new(current)));
    }
    let w = &current.worker;
    let state = match action {
        WorkerAction::Activate => {
            if w.blocked {
                return Err(WorkforceError::Blocked { id });
            }
            if w.activation != Activation::PendingAccountActivation {
                return Err(WorkforceError::NotPending {
                    id,
                    status: w.status().as_str(),
                });
            }
            WorkerState {
                activation: Activation::on_activation(w.fields.email.as_deref()),
                blocked: false,
                blocked_by_admin: false,
            }
        }
        WorkerAction::Block if current.blocked_by_admin => return Ok(current),
        WorkerAction::Block => WorkerState {
            activation: w.activation,
            blocked: true,
            blocked_by_admin: true,
        },
        WorkerAction::Unblock if !w.blocked => return Ok(current),
        WorkerAction::Unblock => WorkerState {
            activation: w.activation,
            blocked: false,
            blocked_by_admin: false,
        },
    };
    match store
        .set_worker_state(company, id, Some(&current.version), state)
        .await?
    {
        Versioned::Done(w) => Ok(w),
        Versioned::Stale(w) => Err(WorkforceError::Stale(Box::new(w))),
        Versioned::Missing => Err(WorkforceError::NoSuchRecord { kind: "worker", id }),
    }
}
