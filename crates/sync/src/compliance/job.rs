//! What one compliance sync needs from outside. Its own module so that the sync and the
//! write-back drains it runs both take it without importing each other.

use crate::hooks::{CrashSwitch, Progress};
use chrono::NaiveDate;
use procore::Client;
use store::Store;

/// What one sync needs from outside: Procore, the store, the company, and the date it runs on.
pub struct ComplianceJob<'a> {
    pub client: &'a Client,
    pub store: &'a Store,
    pub company_id: i64,
    pub today: NaiveDate,
    /// Read every collection whole, not only what changed since the last sync.
    pub full_read: bool,
    /// The caller is the company's only drainer (it holds the sync lock), so leases left in the
    /// outbox belong to processes that stopped and are taken back at once.
    pub reclaim_leases: bool,
    /// Crash tests only: where to stop at an insurance write (before the Procore write, after
    /// it before it is recorded, after recording before the outbox item is completed).
    pub crash_at: Option<CrashSwitch>,
    /// Told after each page read and each record written.
    pub progress: Option<Progress>,
}
