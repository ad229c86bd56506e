//! Running one sync of an integration for a connected company: what the CLI's `sync`, its
//! `connect` (the initial sync) and the server's worker (a sync job) each do.
//!
//! Taking the company's sync lock ([`crate::open::sync_lock`]) is the caller's: a real run
//! should hold it, a dry run needs none, and a server may arrange its own, so the caller says
//! in [`RunOptions::reclaim_leases`] whether it holds one. The client is the caller's too, so
//! a process can share one client (and its rate-limit pacing) between runs.

use chrono::{NaiveDate, Utc};
use store::{Connection, Store};
use sync::compliance::{
    sync_compliance, sync_compliance_directory, sync_compliance_targets, ComplianceJob,
};
use sync::hooks::{CrashSwitch, Progress};
use sync::webhooks::Targets;
use sync::workforce::{sync_workforce, sync_workforce_targets, WorkforceJob};
use sync::SyncError;

use crate::Integration;

/// How one sync runs.
#[derive(Clone, Default)]
pub struct RunOptions {
    /// Plan and report what would change, and change nothing (locally or in Procore).
    pub dry_run: bool,
    /// What the run reads of Procore before it plans. A dry run reads what changed or, asked,
    /// everything: targeted and directory reads are the server's, and have no preview.
    pub reads: Reads,
    /// The caller holds the company's sync lock, so outbox leases left by runs that stopped
    /// are taken back at once instead of when they run out. Leave it `false` without the lock:
    /// another process may be draining the same outbox.
    pub reclaim_leases: bool,
    /// The date the run counts as today, which compliance is evaluated on (the day expiring
    /// and expired policies are measured from); `None` is today in UTC. A scheduler gives the
    /// date in its own time zone; a preview of another date belongs to a dry run, since a real
    /// run writes compliance to Procore.
    pub today: Option<NaiveDate>,
    /// Told after each page read and each record written (a face's progress bar).
    pub progress: Option<Progress>,
    /// Crash tests only: where to stop in an upload or insurance write, and how. The binary
    /// builds it from the environment; the engine never reads the environment or aborts.
    pub crash_at: Option<CrashSwitch>,
}

/// By hand: the progress callback has no `Debug`.
impl std::fmt::Debug for RunOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunOptions")
            .field("dry_run", &self.dry_run)
            .field("reads", &self.reads)
            .field("reclaim_leases", &self.reclaim_leases)
            .field("today", &self.today)
            .field("progress", &self.progress.is_some())
            .field("crash_at", &self.crash_at)
            .finish()
    }
}

/// What a sync reads of Procore before it plans.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Reads {
    /// What changed since the last sync (the first sync reads everything).
    #[default]
    Changed,
    /// Every Procore collection whole: notices records deleted in Procore or hidden from the
    /// integration user at once.
    Whole,
    /// Only the records webhook deliveries named, read one by one and merged into what the
    /// planners read; with no targets, only the writes that are due (a completed form).
    Targets(Targets),
    /// Compliance: what changed in the company directory, leaving commitments to a hook that
    /// delivers them (a reconcile while webhooks flow); the workforce reads what changed.
    Directory,
}

impl Reads {
    fn whole(&self) -> bool {
        matches!(self, Reads::Whole)
    }
}

/// What one sync did: the integration's own report.
#[derive(Debug, Clone)]
pub enum Report {
    Workforce(sync::workforce::Report),
    Compliance(sync::compliance::Report),
}

impl Report {
    /// One line for a job's log and a face's summary: what changed, what was written, what it
    /// cost in Procore requests.
    pub fn summary_line(&self) -> String {
        match self {
            Report::Workforce(r) => format!(
                "{} changes, {} forms uploaded, {} Procore requests",
                r.plan.changes().count(),
                r.summary.forms_uploaded,
                r.summary.requests
            ),
            Report::Compliance(r) => format!(
                "{} changes, {} insurance records written, {} Procore requests",
                r.plan.changes().count(),
                r.summary.insurance_written,
                r.summary.requests
            ),
        }
    }

    /// The run, in the run log.
    pub fn run(&self) -> store::RunId {
        match self {
            Report::Workforce(r) => r.run,
            Report::Compliance(r) => r.run,
        }
    }

    /// The Procore writes the run could not make, each with what Procore answered.
    pub fn failures(&self) -> &[String] {
        match self {
            Report::Workforce(r) => &r.failures,
            Report::Compliance(r) => &r.failures,
        }
    }

    /// Procore writes (uploads, insurance records) the run could not make: they wait in the
    /// outbox for the next sync, and a face should say so (the CLI's exit code 3).
    pub fn failed_writes(&self) -> usize {
        self.failures().len()
    }
}

/// Runs one sync of `integration` for `connection`.
///
/// # Errors
/// What stopped the sync as a whole; per-record problems are in the report.
pub async fn run(
    store: &Store,
    client: &procore::Client,
    connection: &Connection,
    integration: Integration,
    options: RunOptions,
) -> Result<Report, SyncError> {
    Ok(match integration {
        Integration::Workforce => {
            Report::Workforce(workforce(store, client, connection, options).await?)
        }
        Integration::Compliance => {
            Report::Compliance(compliance(store, client, connection.company_id, options).await?)
        }
    })
}

/// Runs one workforce sync: Procore projects and users into projects and workers, completed
/// forms into Procore Documents.
///
/// # Errors
/// What stopped the sync as a whole.
pub async fn workforce(
    store: &Store,
    client: &procore::Client,
    connection: &Connection,
    options: RunOptions,
) -> Result<sync::workforce::Report, SyncError> {
    let now = Utc::now();
    let job = WorkforceJob {
        client,
        store,
        connection,
        company_name: None,
        today: options.today.unwrap_or_else(|| now.date_naive()),
        now,
        full_read: options.reads.whole(),
        crash_at: options.crash_at,
        reclaim_leases: options.reclaim_leases,
        progress: options.progress,
    };
    match &options.reads {
        Reads::Targets(targets) if !options.dry_run => sync_workforce_targets(&job, targets).await,
        _ => sync_workforce(&job, options.dry_run).await,
    }
}

/// Runs one compliance sync: Procore projects, companies and commitments into compliance
/// records, then every party's compliance on `options.today` back to Procore.
///
/// # Errors
/// What stopped the sync as a whole.
pub async fn compliance(
    store: &Store,
    client: &procore::Client,
    company_id: i64,
    options: RunOptions,
) -> Result<sync::compliance::Report, SyncError> {
    let job = ComplianceJob {
        client,
        store,
        company_id,
        today: options.today.unwrap_or_else(|| Utc::now().date_naive()),
        full_read: options.reads.whole(),
        reclaim_leases: options.reclaim_leases,
        crash_at: options.crash_at,
        progress: options.progress,
    };
    match &options.reads {
        Reads::Targets(targets) if !options.dry_run => sync_compliance_targets(&job, targets).await,
        Reads::Directory if !options.dry_run => sync_compliance_directory(&job).await,
        _ => sync_compliance(&job, options.dry_run).await,
    }
}
