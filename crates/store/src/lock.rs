//! The company lock on PostgreSQL: one sync of a company at a time across every process and
//! host sharing the database.
//!
//! A sync reads the Procore mirror, plans, and saves the mirror's difference; two syncs of one
//! company at once would each save against the same starting mirror. A SQLite store is one
//! file on one host, where the binary takes a lock file instead; PostgreSQL has advisory locks,
//! held here by a connection taken out of the pool, so the lock goes when the connection does:
//! on drop, or when the process dies however it dies.

use crate::db::Backend;
use crate::models::CompanyId;
use crate::{Result, Store};
use sqlx::AnyConnection;

/// Held for a whole sync run; released on drop.
pub struct CompanyLock {
    _conn: AnyConnection,
}

impl std::fmt::Debug for CompanyLock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CompanyLock")
    }
}

/// The advisory lock key space trestle uses: one key per company, offset so that a company id
/// does not collide with small keys other applications sharing the database may use.
fn key(company: CompanyId) -> i64 {
    company ^ 0x7472_6573_746c_6500
}

impl Store {
    /// Takes the sync lock of `company` on PostgreSQL, waiting for another holder to finish
    /// (`on_wait` is told once, before waiting). `None` on SQLite, where the binary's lock file
    /// serves.
    ///
    /// # Errors
    /// [`StoreError::Database`](crate::StoreError::Database).
    pub async fn lock_company(
        &self,
        company: CompanyId,
        on_wait: impl FnOnce(),
    ) -> Result<Option<CompanyLock>> {
        if self.backend() != Backend::Postgres {
            return Ok(None);
        }
        let mut conn = self.pool().acquire().await?.detach();
        let got: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1)")
            .bind(key(company))
            .fetch_one(&mut conn)
            .await?;
        if !got {
            on_wait();
            sqlx::query("SELECT pg_advisory_lock($1)")
                .bind(key(company))
                .execute(&mut conn)
                .await?;
        }
        Ok(Some(CompanyLock { _conn: conn }))
    }
}
