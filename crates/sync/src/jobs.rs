//! The units of work `trestle serve` runs, as jobs in the store's queue: their kinds, lanes,
//! coalescing keys and payloads. Here, not in the server, so that whatever causes work (the
//! webhook receiver, the scheduler, a form completed in the app, a person in the CLI or the
//! API) enqueues it the same way, in the same transaction as its own writes when it has any.
//!
//! Lanes keep apart what must not overlap: the syncs of one company's integration (each reads
//! and saves its cursors and mirror), and the routing of its deliveries. The workforce and
//! compliance integrations of a company have lanes of their own, so a whole compliance read
//! (many minutes under Procore's rate limit) never holds back a worker's update.

use crate::webhooks::{Integrations, Targets};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use store::{Enqueued, NewJob, Store};

/// trestle's two integrations between Procore and the apps it holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Integration {
    /// Procore projects and users into projects and workers; completed forms into Procore
    /// Documents.
    Workforce,
    /// Procore projects, companies and commitments into compliance records; compliance status
    /// back to Procore as insurance records.
    Compliance,
}

impl Integration {
    pub fn as_str(self) -> &'static str {
        match self {
            Integration::Workforce => "workforce",
            Integration::Compliance => "compliance",
        }
    }
}

/// A unit of work, as its job's payload holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "work", rename_all = "snake_case")]
pub enum Work {
    /// Turn a company's stored webhook deliveries into syncs of the records they name.
    Route,
    /// A sync of one integration: of the records named (`targets`), else of what changed
    /// since the last one, or everything (`full`).
    Sync {
        integration: Integration,
        #[serde(default)]
        full: bool,
        #[serde(default)]
        targets: Option<Targets>,
    },
    /// Check the company's Procore hook, and repair it.
    Hook,
}

impl Work {
    /// The job's kind, as `trestle jobs` and the metrics show it.
    pub fn kind(&self) -> String {
        match self {
            Work::Route => "route".into(),
            Work::Sync {
                integration,
                full,
                targets,
            } => {
                let how = match (full, targets) {
                    (_, Some(_)) => "records",
                    (true, None) => "whole",
                    (false, None) => "changes",
                };
                format!("sync.{}.{how}", integration.as_str())
            }
            Work::Hook => "hook".into(),
        }
    }

    fn lane(&self) -> &'static str {
        match self {
            Work::Route => "route",
            Work::Sync { integration, .. } => integration.as_str(),
            Work::Hook => "hook",
        }
    }

    /// Jobs with one key coalesce while pending: a second reconcile, routing, or hook check
    /// asked for before the first ran adds nothing. A sync of named records has its own payload
    /// and is not coalesced, except the one with nothing named (the form uploads due).
    fn dedupe_key(&self) -> Option<String> {
        match self {
            Work::Sync {
                targets: Some(t), ..
            } if !t.is_empty() => None,
            _ => Some(self.kind()),
        }
    }
}

/// Enqueues `work` for `company`, due at `run_at`.
///
/// # Errors
/// The store failed.
pub async fn enqueue(
    store: &Store,
    company: i64,
    work: &Work,
    run_at: DateTime<Utc>,
    max_attempts: u32,
) -> store::Result<Enqueued> {
    store
        .enqueue_job(&new_job(company, work, run_at, max_attempts))
        .await
}

/// Queues an incremental sync of each integration the company has on: what reads the changes
/// a missing webhook never delivered.
///
/// # Errors
/// The store failed.
pub async fn enqueue_following(
    store: &Store,
    company: i64,
    run_at: DateTime<Utc>,
    max_attempts: u32,
) -> store::Result<()> {
    let on = integrations(store, company).await?;
    let following = [
        (Integration::Workforce, on.workforce),
        (Integration::Compliance, on.compliance),
    ];
    for (integration, _) in following.into_iter().filter(|(_, on)| *on) {
        let work = Work::Sync {
            integration,
            full: false,
            targets: None,
        };
        enqueue(store, company, &work, run_at, max_attempts).await?;
    }
    Ok(())
}

pub fn new_job(company: i64, work: &Work, run_at: DateTime<Utc>, max_attempts: u32) -> NewJob {
    NewJob {
        company_id: company,
        kind: work.kind(),
        lane: work.lane().into(),
        dedupe_key: work.dedupe_key(),
        payload_json: serde_json::to_string(work).unwrap_or_else(|_| "{}".into()),
        run_at,
        max_attempts,
    }
}

/// Which integrations a company has on. The workforce integration is on for every connected
/// company; the compliance integration once it has been synced (`trestle sync compliance`
/// or `connect --compliance`), which is when its settings and mapping decisions exist.
pub async fn integrations(store: &Store, company: i64) -> store::Result<Integrations> {
    Ok(Integrations {
        workforce: true,
        compliance: !store
            .cursors_with_prefix(company, "compliance.")
            .await?
            .is_empty(),
    })
}

/// Saves a form submission for `company`. A completed one (or one changed after completion)
/// gets its upload to Procore Documents enqueued in the same transaction, so `trestle serve`
/// uploads it at once; whether it is uploaded at all is still the workforce planner's call
/// (Sync Forms, the project's link), made when the job runs.
///
/// # Errors
/// As [`Store::save_submission`].
pub async fn save_form(
    store: &Store,
    company: i64,
    submission: &domain::workforce::Submission,
    max_attempts: u32,
) -> store::Result<i64> {
    let job = (submission.state == domain::workforce::SubmissionState::Completed).then(|| {
        new_job(
            company,
            &Work::Sync {
                integration: Integration::Workforce,
                full: false,
                targets: Some(Targets::default()),
            },
            Utc::now(),
            max_attempts,
        )
    });
    store
        .save_submission_with_job(submission, job.as_ref())
        .await
}
