//! One workforce sync: collect, plan, apply, then drain the form uploads.
//!
//! The apply is one store transaction holding the app-side changes, their links, the outbox
//! items for form uploads, the new cursors and the run log. Uploads happen after it, from the
//! outbox, so a crash anywhere leaves either nothing done or work the next run finishes.

use super::collect::{
    collect, collect_targets, Cursors, INACTIVE_USERS, PROJECTS, SERVICE_ACCOUNT, USERS,
};
use super::input::{
    FormState, LocalWorkforce, ProcoreProject, ProcoreUser, RecordKind, WorkforceSettings,
    WorkforceSnapshot,
};
use super::plan::{plan, Action, Plan};
use super::upload::{FormUpload, Uploaded};
use crate::error::Result;
use crate::hooks::{CrashSwitch, Progress};
use crate::webhooks::Targets;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use domain::workforce::SubmissionState;
use procore::Client;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use store::{Connection, NewOutboxItem, RunEntry, RunId, Store, WorkforceBatch, WorkforceChange};

/// Where the toggles the last applied sync ran with are kept: beside the cursors, and saved
/// in the same transaction, so they always describe the records as applied.
pub const SETTINGS: &str = "workforce.settings";

/// The outbox kind of a form upload.
pub const UPLOAD_FORM: &str = "workforce.upload_form";

/// What one sync needs from outside: Procore, the store, the connection's settings, and the
/// date and time it runs at (arguments, so tests control them).
pub struct WorkforceJob<'a> {
    pub client: &'a Client,
    pub store: &'a Store,
    pub connection: &'a Connection,
    pub company_name: Option<String>,
    pub today: NaiveDate,
    pub now: DateTime<Utc>,
    /// Read every collection whole, ignoring the cursors.
    pub full_read: bool,
    /// Crash tests only: where to stop in an upload.
    pub crash_at: Option<CrashSwitch>,
    /// The caller is the company's only drainer: it holds a lock that every drainer takes and
    /// that ends with its process (the CLI's lock file beside a SQLite store). Leases left in the
    /// outbox then belong to processes that died mid-upload, and this run takes them back at
    /// once instead of waiting for them to run out. Leave it `false` when other processes may
    /// be draining the same outbox without such a lock.
    pub reclaim_leases: bool,
    /// Told after each page read and each form uploaded.
    pub progress: Option<Progress>,
}

/// What a sync did, for the summary table and the run log.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Summary {
    pub dry_run: bool,
    pub records_read: usize,
    pub requests: u64,
    pub projects_created: usize,
    pub projects_updated: usize,
    pub workers_created: usize,
    pub workers_updated: usize,
    pub skipped: usize,
    pub forms_queued: usize,
    pub forms_uploaded: usize,
    pub upload_failures: usize,
}

/// The result of a sync: its run id, the plan it applied (or would apply), uploads done.
#[derive(Debug, Clone)]
pub struct Report {
    pub run: RunId,
    pub plan: Plan,
    pub summary: Summary,
    pub uploads: Vec<Uploaded>,
    pub failures: Vec<String>,
}

#[derive(Debug, Serialize, Deserialize)]
struct UploadPayload {
    submission_id: i64,
    revision: u32,
    procore_project_id: i64,
}

/// The workforce toggles a connection holds.
pub fn settings_of(c: &Connection) -> WorkforceSettings {
    WorkforceSettings {
        sync_employees_only: c.sync_employees_only,
        auto_activate_workers: c.auto_activate_workers,
        sync_forms: c.sync_forms,
    }
}

/// Reads the app side the planner needs.
///
/// # Errors
/// The store failed.
pub async fn load_local(store: &Store, company: i64) -> Result<LocalWorkforce> {
    // One query for what Procore holds of every form; the outbox is asked only about the few
    // forms that still need an upload, so a sync's cost does not grow with every form ever made.
    let uploaded: std::collections::BTreeMap<i64, u32> = store
        .link_records(company, store::LinkKind::FormDocument)
        .await?
        .into_iter()
        .filter_map(|l| l.uploaded_revision.map(|r| (l.local_id, r)))
        .collect();
    let mut forms = Vec::new();
    for s in store.submissions(company).await? {
        let completed = s.state == SubmissionState::Completed;
        let uploaded_revision = uploaded.get(&s.id).copied();
        let queued = if completed && uploaded_revision < Some(s.revision) {
            store
                .outbox_item_by_key(company, &upload_key(company, s.id, s.revision))
                .await?
                .filter(|item| item.state != store::OutboxState::Failed)
                .map(|_| s.revision)
        } else {
            None
        };
        forms.push(FormState {
            submission_id: s.id,
            project_id: s.project_id,
            completed,
            revision: s.revision,
            uploaded_revision,
            queued_revision: queued,
        });
    }
    Ok(LocalWorkforce {
        projects: store.projects(company).await?,
        workers: store.workers(company).await?,
        project_links: store.links(company, store::LinkKind::Project).await?,
        worker_links: store.links(company, store::LinkKind::Worker).await?,
        forms,
        last_settings: last_settings(store, company).await?,
        decisions: store
            .workforce_decisions(company)
            .await?
            .into_iter()
            .map(|((kind, id), d)| ((RecordKind::from_waiting(kind), id), d))
            .collect(),
        blocked_by_admin: store.workers_blocked_by_admin(company).await?,
    })
}

/// What the sync keeps of the records its plan decided about: those left alone because of an
/// unlinked app record wait for an administrator, with what Procore sent; every other
/// decision about a project or user ends its wait.
fn waiting_changes(
    plan: &Plan,
    snapshot: &WorkforceSnapshot,
    now: DateTime<Utc>,
    company: i64,
) -> Vec<store::WaitingChange> {
    let projects: BTreeMap<i64, &ProcoreProject> =
        snapshot.projects.iter().map(|p| (p.id, p)).collect();
    let users: BTreeMap<i64, &ProcoreUser> = snapshot.users.iter().map(|u| (u.id, u)).collect();
    plan.actions
        .iter()
        .filter_map(|action| {
            let (kind, Some(procore_id)) = action.subject() else {
                return None;
            };
            let waiting = kind.waiting()?;
            if !action.reason().waits_on_the_app_side() {
                return Some(store::WaitingChange::Clear {
                    kind: waiting,
                    procore_id,
                });
            }
            let record_json = match kind {
                RecordKind::Project => serde_json::to_string(projects.get(&procore_id)?),
                _ => serde_json::to_string(users.get(&procore_id)?),
            }
            .ok()?;
            Some(store::WaitingChange::Wait(store::WaitingRecord {
                company_id: company,
                kind: waiting,
                procore_id,
                record_json,
                reason_json: serde_json::to_string(action.reason()).ok()?,
                reason: action.reason().to_string(),
                seen_at: now,
            }))
        })
        .collect()
}

/// The toggles the last applied sync ran with, if it recorded them.
async fn last_settings(store: &Store, company: i64) -> Result<Option<WorkforceSettings>> {
    Ok(store
        .cursor(company, SETTINGS)
        .await?
        .and_then(|v| serde_json::from_str(&v).ok()))
}

fn upload_key(company: i64, submission: i64, revision: u32) -> String {
    format!("form:{company}:{submission}:r{revision}")
}

/// Runs one workforce sync. A dry run collects and plans, records the run as a dry run, and
/// changes nothing.
///
/// # Errors
/// What stops the whole sync (auth, permissions, the store). Malformed records and failed
/// uploads do not: they are in the report and the run log.
pub async fn sync_workforce(job: &WorkforceJob<'_>, dry_run: bool) -> Result<Report> {
    run(job, dry_run, None).await
}

/// A sync of the records webhook deliveries named (read one by one, see [`collect_targets`])
/// instead of the lists, then the form uploads due: what `trestle serve` runs when deliveries
/// arrive and, with no targets, when a form is completed (no Procore read at all then, once an
/// earlier sync recorded the service account). A change of the toggles since the last sync
/// reads the lists as an ordinary sync does, since it may change any worker.
///
/// # Errors
/// As [`sync_workforce`].
pub async fn sync_workforce_targets(job: &WorkforceJob<'_>, targets: &Targets) -> Result<Report> {
    run(job, false, Some(targets)).await
}

async fn run(job: &WorkforceJob<'_>, dry_run: bool, targets: Option<&Targets>) -> Result<Report> {
    let store = job.store;
    let company = job.connection.company_id;
    let requests_before = job.client.stats().requests;
    let settings = settings_of(job.connection);
    let last_settings = last_settings(store, company).await?;
    let mut cursors = if job.full_read {
        Cursors::default()
    } else {
        Cursors::parse(
            store.cursor(company, PROJECTS).await?,
            store.cursor(company, USERS).await?,
            store.cursor(company, INACTIVE_USERS).await?,
        )
    };
    // A setting changed since the last sync applies to every record, not only to those
    // Procore happens to change: read the users whole this once.
    let settings_changed = settings.changes_user_decisions(last_settings.as_ref());
    if settings_changed {
        cursors.users = None;
        cursors.inactive_users = None;
    }
    // Known from an earlier sync; a whole read asks again.
    let service_account = if job.full_read {
        None
    } else {
        store
            .cursor(company, SERVICE_ACCOUNT)
            .await?
            .and_then(|v| v.parse().ok())
    };
    let mut collection = match targets {
        Some(targets) if !settings_changed && !job.full_read => {
            collect_targets(job.client, targets, service_account).await?
        }
        _ => collect(job.client, &cursors, service_account, job.progress.as_ref()).await?,
    };
    if last_settings != Some(settings) {
        collection.cursors.push(store::CursorUpdate {
            collection: SETTINGS.into(),
            value: serde_json::to_string(&settings).expect("serializable"),
        });
    }
    let local = load_local(store, company).await?;
    let plan = plan(&collection.snapshot, &local, &settings, job.today);
    collection.hold_back(
        plan.actions
            .iter()
            .filter(|a| !a.is_change() && a.reason().waits_on_the_app_side())
            .filter_map(|a| match a.subject() {
                (kind, Some(id)) => Some((kind, id)),
                _ => None,
            }),
    );

    let mut summary = Summary {
        dry_run,
        records_read: collection.records_read,
        ..Summary::default()
    };
    let mut changes = Vec::new();
    let mut outbox = Vec::new();
    let mut log = Vec::new();
    for action in &plan.actions {
        let (kind, procore_id) = action.subject();
        let mut entry = RunEntry {
            kind: kind.subject(),
            procore_id,
            local_id: None,
            change: None,
            action: action_name(action).into(),
            reason: action.reason().to_string(),
            detail_json: serde_json::to_string(action.reason()).ok(),
            outcome: if dry_run {
                "planned".into()
            } else {
                "applied".into()
            },
        };
        match action {
            Action::CreateProject {
                procore_id,
                fields,
                status,
                ..
            } => {
                summary.projects_created += 1;
                entry.change = Some(changes.len());
                changes.push(WorkforceChange::CreateProject {
                    procore_id: *procore_id,
                    fields: fields.clone(),
                    status: *status,
                });
            }
            Action::UpdateProject {
                project_id,
                fields,
                status,
                ..
            } => {
                summary.projects_updated += 1;
                entry.local_id = Some(*project_id);
                changes.push(WorkforceChange::UpdateProject {
                    project_id: *project_id,
                    fields: fields.clone(),
                    status: *status,
                });
            }
            Action::CreateWorker {
                procore_id,
                fields,
                activation,
                ..
            } => {
                summary.workers_created += 1;
                entry.change = Some(changes.len());
                changes.push(WorkforceChange::CreateWorker {
                    procore_id: *procore_id,
                    fields: fields.clone(),
                    activation: *activation,
                });
            }
            Action::UpdateWorker {
                worker_id,
                fields,
                blocked,
                ..
            } => {
                summary.workers_updated += 1;
                entry.local_id = Some(*worker_id);
                changes.push(WorkforceChange::UpdateWorker {
                    worker_id: *worker_id,
                    fields: fields.clone(),
                    blocked: *blocked,
                });
            }
            Action::UploadForm {
                submission_id,
                revision,
                procore_project_id,
                ..
            } => {
                summary.forms_queued += 1;
                entry.local_id = Some(*submission_id);
                entry.outcome = if dry_run {
                    "planned".into()
                } else {
                    "queued".into()
                };
                let payload = UploadPayload {
                    submission_id: *submission_id,
                    revision: *revision,
                    procore_project_id: *procore_project_id,
                };
                outbox.push(NewOutboxItem::new(
                    company,
                    UPLOAD_FORM,
                    &upload_key(company, *submission_id, *revision),
                    &serde_json::to_string(&payload).expect("serializable"),
                ));
            }
            Action::Skip { kind, .. } => {
                summary.skipped += 1;
                if *kind == RecordKind::Form {
                    entry.local_id = procore_id;
                }
                entry.outcome = "skipped".into();
            }
        }
        log.push(entry);
    }

    let run = store.start_run(company, "workforce", dry_run).await?;
    let mut report = Report {
        run,
        plan,
        summary,
        uploads: Vec::new(),
        failures: Vec::new(),
    };
    if dry_run {
        store.record(run, &log).await?;
    } else {
        store
            .apply_workforce(&WorkforceBatch {
                company_id: company,
                run: Some(run),
                changes: &changes,
                outbox: &outbox,
                cursors: &collection.cursors,
                log: &log,
                waiting: &waiting_changes(&report.plan, &collection.snapshot, Utc::now(), company),
            })
            .await?;
        drain_uploads(job, run, &mut report).await?;
    }
    report.summary.requests = job.client.stats().requests - requests_before;
    store
        .finish_run(
            run,
            &serde_json::to_string(&report.summary).expect("serializable"),
        )
        .await?;
    Ok(report)
}

/// Uploads every due form in the outbox. A failure is retried by a later run (with a growing
/// delay) and never stops the others.
async fn drain_uploads(job: &WorkforceJob<'_>, run: RunId, report: &mut Report) -> Result<()> {
    let upload = FormUpload {
        client: job.client,
        store: job.store,
        company: job.connection.company_id,
        forms_folder: &job.connection.forms_folder,
        company_name: job.company_name.clone(),
        now: job.now,
        crash_at: job.crash_at.clone(),
    };
    let lease = std::time::Duration::from_secs(300);
    let company = job.connection.company_id;
    if job.reclaim_leases {
        let released = job
            .store
            .release_leases(company, UPLOAD_FORM, Utc::now())
            .await?;
        if released > 0 {
            tracing::info!(
                released,
                "took back form uploads left leased by a process that stopped"
            );
        }
    }
    while let Some(item) = job
        .store
        .claim_next_for(company, UPLOAD_FORM, Utc::now(), lease)
        .await?
    {
        let payload: UploadPayload = match serde_json::from_str(&item.payload_json) {
            Ok(p) => p,
            Err(e) => {
                job.store
                    .fail(item.id, &format!("unreadable payload: {e}"), None)
                    .await?;
                continue;
            }
        };
        let entry = |outcome: &str, reason: String| RunEntry {
            kind: RecordKind::Form.subject(),
            procore_id: Some(payload.submission_id),
            local_id: Some(payload.submission_id),
            change: None,
            action: "upload_form".into(),
            reason,
            detail_json: None,
            outcome: outcome.into(),
        };
        match upload
            .run(payload.submission_id, payload.procore_project_id)
            .await
        {
            Ok(done) => {
                job.store
                    .complete(
                        item.id,
                        &serde_json::json!({ "file_id": done.as_ref().map(|d| d.file_id) })
                            .to_string(),
                    )
                    .await?;
                if let Some(done) = done {
                    let what = if done.new_document {
                        "a new document"
                    } else {
                        "a new version of its document"
                    };
                    job.store
                        .record(
                            run,
                            &[entry(
                                "uploaded",
                                format!(
                                    "uploaded revision {} as {what}: {}",
                                    done.revision, done.path
                                ),
                            )],
                        )
                        .await?;
                    report.summary.forms_uploaded += 1;
                    if let Some(p) = &job.progress {
                        p(
                            "form uploads",
                            report.summary.forms_uploaded as u64,
                            Some(report.summary.forms_queued as u64),
                        );
                    }
                    report.uploads.push(done);
                } else {
                    // An earlier run uploaded and recorded it, then stopped before marking the
                    // item done: say so, or the run log would never show the upload.
                    job.store
                        .record(
                            run,
                            &[entry(
                                "already_uploaded",
                                format!(
                                    "Procore already holds revision {}: an earlier run uploaded it and stopped before finishing",
                                    payload.revision
                                ),
                            )],
                        )
                        .await?;
                }
            }
            Err(e) => {
                // A connection-wide failure says nothing about this form: it stays due, and the
                // drain stops rather than fail (and push back) every form in turn.
                let stop = e.is_about_the_connection();
                let attempts = item.attempts.max(1);
                let delay = if stop {
                    Duration::zero()
                } else {
                    Duration::seconds(30 * 2_i64.pow(attempts.min(10)))
                };
                let message = e.to_string();
                job.store
                    .fail(item.id, &message, Some(Utc::now() + delay))
                    .await?;
                job.store
                    .record(
                        run,
                        &[entry(
                            "failed",
                            format!("upload failed, retried later: {message}"),
                        )],
                    )
                    .await?;
                report.summary.upload_failures += 1;
                report
                    .failures
                    .push(format!("form {}: {message}", payload.submission_id));
                if stop {
                    break;
                }
                // A failed item comes back after its delay, not in this run.
            }
        }
    }
    Ok(())
}

fn action_name(a: &Action) -> &'static str {
    match a {
        Action::CreateProject { .. } => "create_project",
        Action::UpdateProject { .. } => "update_project",
        Action::CreateWorker { .. } => "create_worker",
        Action::UpdateWorker { .. } => "update_worker",
        Action::UploadForm { .. } => "upload_form",
        Action::Skip { .. } => "skip",
    }
}
