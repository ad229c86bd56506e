//! Running one sync of an integration for a connected company: what the CLI's `sync`, its
//! `connect` (the initial sync) and the server's worker (a sync job) each do.
//!
//! Taking the company's sync lock ([`crate::open::sync_lock`]) is the caller's: a real run
//! should hold it, a dry run needs none, and a server may arrange its own, so the caller says
//! in [`RunOptions::reclaim_leases`] whether it holds one. The client is the caller's too, so
//! a process can share one client (and its rate-limit pacing) between runs.

use chrono::{NaiveDate, Utc};
use store::{Connection, Store};
use sync::compliance::{sync_compliance, ComplianceJob};
use sync::hooks::{CrashPoint, Progress};
use sync::workforce::{sync_workforce, WorkforceJob};
use sync::SyncError;

use crate::Integration;

/// How one sync runs.
#[derive(Clone, Default)]
pub struct RunOptions {
    /// Plan and report what would change, and change nothing (locally or in Procore).
    pub dry_run: bool,
    /// Read every Procore collection whole, not only what changed since the last sync: notices
    /// records deleted in Procore or hidden from the integration user at once.
    pub full_read: bool,
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
    /// Crash tests only: stop the process at this point of an upload or insurance write. Read
    /// from the environment by the binary, never by the engine.
    pub crash_at: Option<CrashPoint>,
}

/// By hand: the progress callback has no `Debug`.
impl std::fmt::Debug for RunOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunOptions")
            .field("dry_run", &self.dry_run)
            .field("full_read", &self.full_read)
            .field("reclaim_leases", &self.reclaim_leases)
            .field("today", &self.today)
            .field("progress", &self.progress.is_some())
            .field("crash_at", &self.crash_at)
            .finish()
    }
}

/// What one sync did: the integration's own report.
#[derive(Debug, Clone)]
pub enum Report {
    Workforce(sync::workforce::Report),
    Compliance(sync::compliance::Report),
}

impl Report {
    /// Procore writes (uploads, insurance records) the run could not make: they wait in the
    /// outbox for the next sync, and a face should say so (the CLI's exit code 3).
    pub fn failed_writes(&self) -> usize {
        match self {
            Report::Workforce(r) => r.failures.len(),
            Report::Compliance(r) => r.failures.len(),
        }
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
        full_read: options.full_read,
        crash_at: options.crash_at,
        reclaim_leases: options.reclaim_leases,
        progress: options.progress,
    };
    sync_workforce(&job, options.dry_run).await
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
        full_read: options.full_read,
        reclaim_leases: options.reclaim_leases,
        crash_at: options.crash_at,
        progress: options.progress,
    };
    sync_compliance(&job, options.dry_run).await
}
