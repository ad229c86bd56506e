//! Procore webhook deliveries as the receiver accepted them.
//!
//! The receiver answers Procore only after the delivery is stored, so the store is its hot path
//! (2,000 deliveries a second on SQLite): one write transaction with at most two statements, the
//! delivery deduplicated by its unique key and its job coalesced by the job's dedupe key. A
//! delivery and its job commit together, so a delivery is never stored without the job that
//! processes it, nor a job enqueued for a delivery that was not kept. Procore delivers at least
//! once; the (company, event key) key drops the repeats.

use crate::db::{int, opt_int, opt_timestamp, text, timestamp, ts};
use crate::jobs::{enqueue_job_on, NewJob};
use crate::models::CompanyId;
use crate::{Result, Store};
use chrono::{DateTime, Utc};
use sqlx::any::AnyRow;
use sqlx::AnyConnection;

/// A webhook delivery as received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewDelivery {
    pub company_id: CompanyId,
    /// What tells one event from another: Procore's event id, or a ULID when it has none.
    pub event_key: String,
    pub resource_name: String,
    pub event_type: String,
    pub resource_id: Option<i64>,
    pub project_id: Option<i64>,
    pub body_json: String,
    pub received_at: DateTime<Utc>,
}

/// A stored delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    pub id: i64,
    pub company_id: CompanyId,
    pub event_key: String,
    pub resource_name: String,
    pub event_type: String,
    pub resource_id: Option<i64>,
    pub project_id: Option<i64>,
    pub body_json: String,
    pub received_at: DateTime<Utc>,
    /// When a worker took it into account; `None` until then.
    pub processed_at: Option<DateTime<Utc>>,
}

/// What [`Store::receive_delivery`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Received {
    /// Stored with this id, and its job enqueued (or coalesced).
    Stored(i64),
    /// The company's event key was there already; nothing was written.
    Duplicate,
}

/// How many deliveries are waiting and how many were processed (and not pruned yet).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DeliveryCounts {
    pub unprocessed: i64,
    pub processed: i64,
}

/// Ids marked per statement, well under every backend's limit of bound values.
const MARK_CHUNK: usize = 500;

/// Stores a delivery unless its company and event key are there, and enqueues its job when it
/// is new: the receiver's hot path, two statements at most.
async fn receive_on(
    conn: &mut AnyConnection,
    delivery: &NewDelivery,
    job: &NewJob,
) -> Result<Received> {
    let id: Option<i64> = sqlx::query_scalar(
        "INSERT INTO webhook_deliveries (company_id, event_key, resource_name, event_type, resource_id, \
         project_id, body_json, received_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
         ON CONFLICT (company_id, event_key) DO NOTHING RETURNING id",
    )
    .bind(delivery.company_id)
    .bind(&delivery.event_key)
    .bind(&delivery.resource_name)
    .bind(&delivery.event_type)
    .bind(delivery.resource_id)
    .bind(delivery.project_id)
    .bind(&delivery.body_json)
    .bind(ts(delivery.received_at))
    .fetch_optional(&mut *conn)
    .await?;
    let Some(id) = id else {
        return Ok(Received::Duplicate);
    };
    enqueue_job_on(conn, job).await?;
    Ok(Received::Stored(id))
}

fn delivery_from_row(row: &AnyRow) -> Result<Delivery> {
    Ok(Delivery {
        id: int(row, "id")?,
        company_id: int(row, "company_id")?,
        event_key: text(row, "event_key")?,
        resource_name: text(row, "resource_name")?,
        event_type: text(row, "event_type")?,
        resource_id: opt_int(row, "resource_id")?,
        project_id: opt_int(row, "project_id")?,
        body_json: text(row, "body_json")?,
        received_at: timestamp(row, "delivery time", "received_at")?,
        processed_at: opt_timestamp(row, "delivery time", "processed_at")?,
    })
}

impl Store {
    /// In one transaction: stores the delivery unless its company and event key are there
    /// already, and when it is new, enqueues `job` (coalesced with a pending job of its dedupe
    /// key).
    pub async fn receive_delivery(&self, delivery: &NewDelivery, job: &NewJob) -> Result<Received> {
        let mut tx = self.begin_write().await?;
        let received = receive_on(&mut tx, delivery, job).await?;
        tx.commit().await?;
        Ok(received)
    }

    /// [`Store::receive_delivery`] for several deliveries in one transaction, each with its
    /// job; what happened to each, in order. On SQLite a commit waits for the disk, so a
    /// receiver that gathers the deliveries of a few milliseconds and stores them together
    /// accepts many more per second. All or none are stored.
    pub async fn receive_deliveries(
        &self,
        deliveries: &[(NewDelivery, NewJob)],
    ) -> Result<Vec<Received>> {
        let mut tx = self.begin_write().await?;
        let mut received = Vec::with_capacity(deliveries.len());
        for (delivery, job) in deliveries {
            received.push(receive_on(&mut tx, delivery, job).await?);
        }
        tx.commit().await?;
        Ok(received)
    }

    /// A company's deliveries not processed yet, oldest first, at most `limit`.
    pub async fn unprocessed_deliveries(
        &self,
        company: CompanyId,
        limit: u32,
    ) -> Result<Vec<Delivery>> {
        let rows = sqlx::query(
            "SELECT id, company_id, event_key, resource_name, event_type, resource_id, project_id, body_json, \
             received_at, processed_at FROM webhook_deliveries WHERE company_id = $1 AND processed_at IS NULL \
             ORDER BY id LIMIT $2",
        )
        .bind(company)
        .bind(i64::from(limit))
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(delivery_from_row).collect()
    }

    /// Marks a company's deliveries processed at `now`. Ids of other companies, unknown ids and
    /// deliveries processed already are left as they are.
    pub async fn mark_deliveries_processed(
        &self,
        company: CompanyId,
        ids: &[i64],
        now: DateTime<Utc>,
    ) -> Result<()> {
        if ids.is_empty() {
            return Ok(());
        }
        let now = ts(now);
        let mut tx = self.begin_write().await?;
        for chunk in ids.chunks(MARK_CHUNK) {
            let placeholders: Vec<String> = (3..chunk.len() + 3).map(|n| format!("${n}")).collect();
            let sql = format!(
                "UPDATE webhook_deliveries SET processed_at = $1 WHERE company_id = $2 \
                 AND processed_at IS NULL AND id IN ({})",
                placeholders.join(", ")
            );
            // Only placeholders are in the text; every value is bound.
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(&now)
                .bind(company);
            for id in chunk {
                query = query.bind(*id);
            }
            query.execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Removes deliveries processed before `processed_before`; returns how many. Unprocessed
    /// ones stay, however old.
    pub async fn prune_deliveries(&self, processed_before: DateTime<Utc>) -> Result<u64> {
        let done = sqlx::query(
            "DELETE FROM webhook_deliveries WHERE processed_at IS NOT NULL AND processed_at < $1",
        )
        .bind(ts(processed_before))
        .execute(self.pool())
        .await?;
        Ok(done.rows_affected())
    }

    /// How many deliveries wait and how many were processed, for metrics.
    pub async fn delivery_counts(&self) -> Result<DeliveryCounts> {
        let row = sqlx::query(
            "SELECT COUNT(*) - COUNT(processed_at) AS unprocessed, COUNT(processed_at) AS processed \
             FROM webhook_deliveries",
        )
        .fetch_one(self.pool())
        .await?;
        Ok(DeliveryCounts {
            unprocessed: int(&row, "unprocessed")?,
            processed: int(&row, "processed")?,
        })
    }
}
