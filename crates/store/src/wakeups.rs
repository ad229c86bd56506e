//! Wake-ups across processes when a job becomes claimable, on PostgreSQL.
//!
//! A worker that finds nothing to claim waits for a wake-up or its poll interval. The process
//! that enqueues a job wakes its own workers; without more, a job enqueued by another process
//! (another server, a person's `trestle jobs retry`) would wait for some worker's next poll.
//! On PostgreSQL a trigger on `jobs` notifies the `trestle_jobs` channel when a job is
//! inserted or put back in line (migration 0008), and [`JobWakeups`] listens on it. A
//! notification can be lost (the listening connection dropped and was made anew), so the poll
//! stays: wake-ups make it rare, not unneeded.

use crate::db::Backend;
use crate::{Result, Store};
use secrecy::ExposeSecret;
use sqlx::postgres::PgListener;

/// The channel the trigger notifies.
const CHANNEL: &str = "trestle_jobs";

/// A listening connection of its own, outside the pool.
pub struct JobWakeups {
    listener: PgListener,
}

impl std::fmt::Debug for JobWakeups {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JobWakeups").finish_non_exhaustive()
    }
}

impl JobWakeups {
    /// Waits until some process made a job claimable. A dropped connection is made anew
    /// before waiting on.
    ///
    /// # Errors
    /// [`crate::StoreError::Database`] when the connection cannot be made anew.
    pub async fn next(&mut self) -> Result<()> {
        self.listener.recv().await?;
        Ok(())
    }
}

impl Store {
    /// Listens for jobs other processes make claimable; `None` on SQLite, which one process
    /// serves.
    ///
    /// # Errors
    /// [`crate::StoreError::Database`] when the listening connection cannot be made.
    pub async fn job_wakeups(&self) -> Result<Option<JobWakeups>> {
        if self.backend != Backend::Postgres {
            return Ok(None);
        }
        let mut listener = PgListener::connect(self.url.expose_secret()).await?;
        listener.listen(CHANNEL).await?;
        Ok(Some(JobWakeups { listener }))
    }
}
