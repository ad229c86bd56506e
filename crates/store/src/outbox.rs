//! The outbox: Procore writes enqueued with the changes that call for them, claimed with a lease
//! by whichever process drains them.
//!
//! A claim moves the item's `available_at` to the end of its lease. A claimer that finishes
//! marks it done or failed; one that crashes does nothing, and the item becomes claimable again
//! when the lease runs out. The drain must therefore be idempotent on Procore's side (by
//! `origin_id`, or by looking before writing); the item's key only keeps one item per write here.
//!
//! A claim also stamps `claimed_at`, which completing or failing clears, so a lease (someone is
//! working on the item) can be told from a retry delay. A drainer that knows every earlier
//! claimer is gone (it holds a lock the operating system releases when a process dies) takes
//! abandoned leases back at once with [`Store::release_leases`] instead of waiting them out.

use crate::db::{int, lease_end, now, opt_text, text, timestamp, ts, Backend, EPOCH};
use crate::models::{CompanyId, NewOutboxItem, OutboxItem, OutboxState};
use crate::{Result, Store, StoreError};
use chrono::{DateTime, Utc};
use sqlx::any::AnyRow;
use sqlx::AnyConnection;
use std::time::Duration;

fn item_from_row(row: &AnyRow) -> Result<OutboxItem> {
    let state = text(row, "state")?;
    Ok(OutboxItem {
        id: int(row, "id")?,
        company_id: int(row, "company_id")?,
        kind: text(row, "kind")?,
        key: text(row, "idempotency_key")?,
        payload_json: text(row, "payload_json")?,
        state: OutboxState::parse(&state).ok_or(StoreError::Corrupt {
            what: "outbox state",
            detail: state,
        })?,
        attempts: u32::try_from(int(row, "attempts")?).unwrap_or(u32::MAX),
        last_error: opt_text(row, "last_error")?,
        result_json: opt_text(row, "result_json")?,
        available_at: timestamp(row, "outbox time", "available_at")?,
        created_at: timestamp(row, "outbox time", "created_at")?,
    })
}

/// Enqueues an item; `true` when it was new, `false` when its key was already there.
pub(crate) async fn enqueue_on(conn: &mut AnyConnection, item: &NewOutboxItem) -> Result<bool> {
    let available_at = item.not_before.map(ts).unwrap_or_else(|| EPOCH.to_string());
    let done = sqlx::query(
        "INSERT INTO outbox (company_id, kind, idempotency_key, payload_json, state, attempts, available_at, \
         created_at) VALUES ($1, $2, $3, $4, 'pending', 0, $5, $6) ON CONFLICT (idempotency_key) DO NOTHING",
    )
    .bind(item.company_id)
    .bind(&item.kind)
    .bind(&item.key)
    .bind(&item.payload_json)
    .bind(available_at)
    .bind(now())
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// The claim, in one statement. PostgreSQL skips rows another claimer holds locked so parallel
/// claimers never wait for or take the same row; SQLite has one writer, so the statement is
/// atomic as it stands. `$3` and `$4` narrow the claim to one company and kind when not NULL.
const CLAIM_POSTGRES: &str = "UPDATE outbox SET available_at = $2, attempts = attempts + 1, claimed_at = $1 \
     WHERE id = (SELECT id FROM outbox WHERE state = 'pending' AND available_at <= $1 \
     AND ($3::BIGINT IS NULL OR company_id = $3) AND ($4::TEXT IS NULL OR kind = $4) \
     ORDER BY available_at, id LIMIT 1 FOR UPDATE SKIP LOCKED) \
     RETURNING id, company_id, kind, idempotency_key, payload_json, state, attempts, last_error, result_json, \
     available_at, created_at";
const CLAIM_SQLITE: &str = "UPDATE outbox SET available_at = $2, attempts = attempts + 1, claimed_at = $1 \
     WHERE id = (SELECT id FROM outbox WHERE state = 'pending' AND available_at <= $1 \
     AND ($3 IS NULL OR company_id = $3) AND ($4 IS NULL OR kind = $4) \
     ORDER BY available_at, id LIMIT 1) \
     RETURNING id, company_id, kind, idempotency_key, payload_json, state, attempts, last_error, result_json, \
     available_at, created_at";

/// The claim of up to `$5` items of one company and kind at once (see [`CLAIM_POSTGRES`]).
const CLAIM_BATCH_POSTGRES: &str = "UPDATE outbox SET available_at = $2, attempts = attempts + 1, claimed_at = $1 \
     WHERE id IN (SELECT id FROM outbox WHERE state = 'pending' AND available_at <= $1 \
     AND company_id = $3 AND kind = $4 \
     ORDER BY available_at, id LIMIT $5 FOR UPDATE SKIP LOCKED) \
     RETURNING id, company_id, kind, idempotency_key, payload_json, state, attempts, last_error, result_json, \
     available_at, created_at";
const CLAIM_BATCH_SQLITE: &str = "UPDATE outbox SET available_at = $2, attempts = attempts + 1, claimed_at = $1 \
     WHERE id IN (SELECT id FROM outbox WHERE state = 'pending' AND available_at <= $1 \
     AND company_id = $3 AND kind = $4 \
     ORDER BY available_at, id LIMIT $5) \
     RETURNING id, company_id, kind, idempotency_key, payload_json, state, attempts, last_error, result_json, \
     available_at, created_at";

impl Store {
    /// Enqueues a Procore write. An item with the same key already there (pending or done) is
    /// left as it is, so enqueueing is safe to repeat. `true` when the item is new.
    pub async fn enqueue(&self, item: &NewOutboxItem) -> Result<bool> {
        let mut conn = self.pool().acquire().await?;
        enqueue_on(&mut conn, item).await
    }

    /// Claims the oldest item available at `now`, leasing it for `lease`. `None` when nothing is
    /// due.
    pub async fn claim_next(
        &self,
        now: DateTime<Utc>,
        lease: Duration,
    ) -> Result<Option<OutboxItem>> {
        self.claim(None, None, now, lease).await
    }

    /// Like [`Store::claim_next`], for one company's items of one kind: the worker of an
    /// integration never takes work it cannot do.
    pub async fn claim_next_for(
        &self,
        company: CompanyId,
        kind: &str,
        now: DateTime<Utc>,
        lease: Duration,
    ) -> Result<Option<OutboxItem>> {
        self.claim(Some(company), Some(kind), now, lease).await
    }

    /// Claims up to `max` of one company's items of one kind available at `now`, all leased for
    /// `lease`: the oldest (by `available_at`, then id), returned in id order. Empty when nothing
    /// is due. A drainer that sends many items in one request claims them together with this.
    pub async fn claim_batch_for(
        &self,
        company: CompanyId,
        kind: &str,
        now: DateTime<Utc>,
        lease: Duration,
        max: usize,
    ) -> Result<Vec<OutboxItem>> {
        if max == 0 {
            return Ok(Vec::new());
        }
        let sql = match self.backend() {
            Backend::Postgres => CLAIM_BATCH_POSTGRES,
            Backend::Sqlite => CLAIM_BATCH_SQLITE,
        };
        let rows = sqlx::query(sql)
            .bind(ts(now))
            .bind(ts(lease_end(now, lease)))
            .bind(company)
            .bind(kind)
            .bind(i64::try_from(max).unwrap_or(i64::MAX))
            .fetch_all(self.pool())
            .await?;
        let mut items = rows.iter().map(item_from_row).collect::<Result<Vec<_>>>()?;
        // RETURNING gives no order; the claim order is the subquery's.
        items.sort_by_key(|i| i.id);
        Ok(items)
    }

    async fn claim(
        &self,
        company: Option<CompanyId>,
        kind: Option<&str>,
        now: DateTime<Utc>,
        lease: Duration,
    ) -> Result<Option<OutboxItem>> {
        let until = lease_end(now, lease);
        let sql = match self.backend() {
            Backend::Postgres => CLAIM_POSTGRES,
            Backend::Sqlite => CLAIM_SQLITE,
        };
        let row = sqlx::query(sql)
            .bind(ts(now))
            .bind(ts(until))
            .bind(company)
            .bind(kind)
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(item_from_row).transpose()
    }

    /// Marks an item done with what Procore answered.
    pub async fn complete(&self, id: i64, result_json: &str) -> Result<()> {
        let done = sqlx::query(
            "UPDATE outbox SET state = 'done', result_json = $2, finished_at = $3, last_error = NULL, claimed_at = NULL \
             WHERE id = $1",
        )
        .bind(id)
        .bind(result_json)
        .bind(now())
        .execute(self.pool())
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound {
                what: "outbox item",
                id: id.to_string(),
            });
        }
        Ok(())
    }

    /// Records a failed attempt. With `retry_at` the item is claimable again from then; with
    /// `None` it is given up ([`OutboxState::Failed`]) and waits for a person. An item already
    /// done (a lease that ran out while a slow claimer finished) stays done.
    pub async fn fail(&self, id: i64, error: &str, retry_at: Option<DateTime<Utc>>) -> Result<()> {
        let done = match retry_at {
            Some(at) => {
                sqlx::query("UPDATE outbox SET last_error = $2, available_at = $3, claimed_at = NULL \
                     WHERE id = $1 AND state = 'pending'")
                    .bind(id)
                    .bind(error)
                    .bind(ts(at))
                    .execute(self.pool())
                    .await?
            }
            None => {
                sqlx::query(
                    "UPDATE outbox SET state = 'failed', last_error = $2, finished_at = $3, claimed_at = NULL \
                     WHERE id = $1 AND state = 'pending'",
                )
                .bind(id)
                .bind(error)
                .bind(now())
                .execute(self.pool())
                .await?
            }
        };
        let exists: Option<i64> = sqlx::query_scalar("SELECT id FROM outbox WHERE id = $1")
            .bind(id)
            .fetch_optional(self.pool())
            .await?;
        if done.rows_affected() == 0 && exists.is_none() {
            return Err(StoreError::NotFound {
                what: "outbox item",
                id: id.to_string(),
            });
        }
        Ok(())
    }

    /// Takes back the leases on one company's items of one kind, so they are claimable at `now`;
    /// returns how many. Items waiting out a retry delay are left alone.
    ///
    /// Only for a caller that knows no claimer of these items is still running, e.g. one that
    /// holds a lock which every drainer takes and which ends with its process: every lease left
    /// then belongs to a process that crashed, and waiting for it to run out would only delay
    /// the work. The drain is idempotent on Procore's side, so redoing it is safe.
    pub async fn release_leases(
        &self,
        company: CompanyId,
        kind: &str,
        now: DateTime<Utc>,
    ) -> Result<u64> {
        let done = sqlx::query(
            "UPDATE outbox SET available_at = $3, claimed_at = NULL WHERE state = 'pending' \
             AND claimed_at IS NOT NULL AND company_id = $1 AND kind = $2 AND available_at > $3",
        )
        .bind(company)
        .bind(kind)
        .bind(ts(now))
        .execute(self.pool())
        .await?;
        Ok(done.rows_affected())
    }

    /// Items still to send (waiting or leased).
    pub async fn pending_count(&self) -> Result<u64> {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM outbox WHERE state = 'pending'")
            .fetch_one(self.pool())
            .await?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    /// One of the company's items; another company's id finds nothing.
    pub async fn outbox_item(&self, company: CompanyId, id: i64) -> Result<Option<OutboxItem>> {
        let row = sqlx::query(
            "SELECT id, company_id, kind, idempotency_key, payload_json, state, attempts, last_error, result_json, \
             available_at, created_at FROM outbox WHERE id = $1 AND company_id = $2",
        )
        .bind(id)
        .bind(company)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(item_from_row).transpose()
    }

    /// The item with an idempotency key, e.g. to see whether a form revision was sent.
    pub async fn outbox_item_by_key(
        &self,
        company: CompanyId,
        key: &str,
    ) -> Result<Option<OutboxItem>> {
        let row = sqlx::query(
            "SELECT id, company_id, kind, idempotency_key, payload_json, state, attempts, last_error, result_json, \
             available_at, created_at FROM outbox WHERE idempotency_key = $1 AND company_id = $2",
        )
        .bind(key)
        .bind(company)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(item_from_row).transpose()
    }

    /// When the company's next pending write of one of `kinds` is due (its retry delay or its
    /// lease ends), if any: so a service can come back for it then instead of at its next
    /// scheduled sync.
    pub async fn outbox_next_due(
        &self,
        company: CompanyId,
        kinds: &[&str],
    ) -> Result<Option<DateTime<Utc>>> {
        let mut next: Option<DateTime<Utc>> = None;
        for kind in kinds {
            let at: Option<String> = sqlx::query_scalar(
                "SELECT MIN(available_at) FROM outbox WHERE company_id = $1 AND kind = $2 AND state = 'pending'",
            )
            .bind(company)
            .bind(*kind)
            .fetch_one(self.pool())
            .await?;
            if let Some(at) = at {
                let at = crate::db::parse_ts("outbox time", &at)?;
                next = Some(next.map_or(at, |n| n.min(at)));
            }
        }
        Ok(next)
    }
}
