//! Procore webhook deliveries as the receiver accepted them.
//!
//! The receiver answers Procore only after the delivery is stored, so the store is its hot path
//! (2,000 deliveries a second): a batch of deliveries is one write transaction of two
//! statements for one company (a multi-row insert, then an upsert of the job they share), each
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
use std::collections::{BTreeMap, HashMap};

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

/// Rows per multi-row insert: eight bound values each, well under every backend's limit.
const INSERT_CHUNK: usize = 500;

/// Stores the deliveries whose company and event key are not there yet, and enqueues the jobs
/// of those it stored: one multi-row insert per [`INSERT_CHUNK`] deliveries, then one upsert
/// per distinct job, however many deliveries share it (the receiver's hot path: a batch of one
/// company's deliveries is two statements, not two per delivery).
///
/// Rows are written in (company, event key) order and jobs in (company, dedupe key) order, so
/// two processes storing overlapping batches take the same locks in the same order and cannot
/// deadlock on PostgreSQL. (Event keys are mostly ULIDs, so that order is also Procore's.)
async fn receive_on(
    conn: &mut AnyConnection,
    items: &[(&NewDelivery, &NewJob)],
) -> Result<Vec<Received>> {
    let order = insert_order(items.iter().map(|(d, _)| *d));
    let first: HashMap<(CompanyId, &str), usize> = order
        .iter()
        .map(|&i| ((items[i].0.company_id, items[i].0.event_key.as_str()), i))
        .collect();
    let mut ids: Vec<Option<i64>> = vec![None; items.len()];
    for chunk in order.chunks(INSERT_CHUNK) {
        // Only placeholders are in the text; every value is bound.
        let mut query = sqlx::query(sqlx::AssertSqlSafe(insert_sql(chunk.len())));
        for &i in chunk {
            let d = items[i].0;
            query = query
                .bind(d.company_id)
                .bind(&d.event_key)
                .bind(&d.resource_name)
                .bind(&d.event_type)
                .bind(d.resource_id)
                .bind(d.project_id)
                .bind(&d.body_json)
                .bind(ts(d.received_at));
        }
        for row in query.fetch_all(&mut *conn).await? {
            let key = (int(&row, "company_id")?, text(&row, "event_key")?);
            if let Some(&i) = first.get(&(key.0, key.1.as_str())) {
                ids[i] = Some(int(&row, "id")?);
            }
        }
    }
    let jobs = items
        .iter()
        .zip(&ids)
        .filter(|(_, id)| id.is_some())
        .map(|((_, job), _)| *job)
        .collect();
    for job in distinct_jobs(jobs) {
        enqueue_job_on(conn, &job).await?;
    }
    Ok(ids
        .into_iter()
        .map(|id| id.map_or(Received::Duplicate, Received::Stored))
        .collect())
}

/// The order a batch's deliveries are inserted in, as indexes into it: sorted by company and
/// event key, the first of each key only (a later one in the batch is a duplicate of it).
fn insert_order<'a>(deliveries: impl Iterator<Item = &'a NewDelivery>) -> Vec<usize> {
    let mut keyed: Vec<(CompanyId, &str, usize)> = deliveries
        .enumerate()
        .map(|(i, d)| (d.company_id, d.event_key.as_str(), i))
        .collect();
    keyed.sort_unstable();
    keyed.dedup_by(|later, first| (later.0, later.1) == (first.0, first.1));
    keyed.into_iter().map(|(_, _, i)| i).collect()
}

/// The statement inserting `rows` deliveries, skipping those whose key is stored, and
/// returning the keys it stored with their ids.
fn insert_sql(rows: usize) -> String {
    let values: Vec<String> = (0..rows)
        .map(|r| {
            let first = r * 8 + 1;
            let params: Vec<String> = (first..first + 8).map(|n| format!("${n}")).collect();
            format!("({})", params.join(", "))
        })
        .collect();
    format!(
        "INSERT INTO webhook_deliveries (company_id, event_key, resource_name, event_type, resource_id, \
         project_id, body_json, received_at) VALUES {} \
         ON CONFLICT (company_id, event_key) DO NOTHING RETURNING id, company_id, event_key",
        values.join(", ")
    )
}

/// The jobs to enqueue for the stored deliveries' jobs, sorted by company and dedupe key: one
/// per company and dedupe key, at the earliest `run_at` asked for (what enqueueing each would
/// have coalesced into), and every job without a key as it is.
fn distinct_jobs(jobs: Vec<&NewJob>) -> Vec<NewJob> {
    let mut merged: BTreeMap<(CompanyId, &str), NewJob> = BTreeMap::new();
    let mut single = Vec::new();
    for job in jobs {
        match job.dedupe_key.as_deref() {
            Some(key) => {
                merged
                    .entry((job.company_id, key))
                    .and_modify(|j| j.run_at = j.run_at.min(job.run_at))
                    .or_insert_with(|| job.clone());
            }
            None => single.push(job.clone()),
        }
    }
    merged.into_values().chain(single).collect()
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
        let received = receive_on(&mut tx, &[(delivery, job)]).await?;
        tx.commit().await?;
        Ok(received.into_iter().next().unwrap_or(Received::Duplicate))
    }

    /// [`Store::receive_delivery`] for several deliveries in one transaction, each with its
    /// job; what happened to each, in order. A commit waits for the disk (SQLite) or a round
    /// trip (PostgreSQL), so a receiver that gathers the deliveries of a few milliseconds and
    /// stores them together accepts many more per second; the batch is a few statements
    /// whatever its size. A delivery whose key came earlier in the batch is a duplicate, as if
    /// stored one after the other. All or none are stored.
    pub async fn receive_deliveries(
        &self,
        deliveries: &[(NewDelivery, NewJob)],
    ) -> Result<Vec<Received>> {
        if deliveries.is_empty() {
            return Ok(Vec::new());
        }
        let items: Vec<(&NewDelivery, &NewJob)> = deliveries.iter().map(|(d, j)| (d, j)).collect();
        let mut tx = self.begin_write().await?;
        let received = receive_on(&mut tx, &items).await?;
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

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: i64) -> DateTime<Utc> {
        DateTime::<Utc>::from_timestamp(1_800_000_000 + s, 0).unwrap_or_default()
    }

    fn delivery(company: CompanyId, key: &str) -> NewDelivery {
        NewDelivery {
            company_id: company,
            event_key: key.into(),
            resource_name: "Projects".into(),
            event_type: "update".into(),
            resource_id: None,
            project_id: None,
            body_json: "{}".into(),
            received_at: at(0),
        }
    }

    fn job(company: CompanyId, key: Option<&str>, run_at: i64) -> NewJob {
        NewJob {
            company_id: company,
            kind: "route".into(),
            lane: "route".into(),
            dedupe_key: key.map(Into::into),
            payload_json: format!("{{\"at\":{run_at}}}"),
            run_at: at(run_at),
            max_attempts: 3,
        }
    }

    #[test]
    fn a_batch_is_inserted_by_company_and_key_with_each_key_once_at_its_first_place() {
        let batch = [
            delivery(2, "b"),
            delivery(1, "c"),
            delivery(2, "a"),
            delivery(2, "b"),
            delivery(1, "c"),
        ];
        assert_eq!(insert_order(batch.iter()), [1, 2, 0]);
    }

    #[test]
    fn the_insert_numbers_eight_placeholders_a_row() {
        let sql = insert_sql(2);
        assert!(
            sql.contains("VALUES ($1, $2, $3, $4, $5, $6, $7, $8), ($9, $10, $11, $12, $13, $14, $15, $16) ON CONFLICT"),
            "{sql}"
        );
    }

    #[test]
    fn jobs_with_one_company_and_dedupe_key_merge_at_the_earliest_time_and_keyless_jobs_stay_apart()
    {
        let jobs = [
            job(2, Some("route"), 5),
            job(1, Some("route"), 9),
            job(2, Some("route"), 3),
            job(1, None, 1),
            job(1, None, 2),
        ];
        let merged = distinct_jobs(jobs.iter().collect());
        let seen: Vec<(CompanyId, Option<&str>, DateTime<Utc>, &str)> = merged
            .iter()
            .map(|j| {
                (
                    j.company_id,
                    j.dedupe_key.as_deref(),
                    j.run_at,
                    j.payload_json.as_str(),
                )
            })
            .collect();
        assert_eq!(
            seen,
            [
                (1, Some("route"), at(9), "{\"at\":9}"),
                (2, Some("route"), at(3), "{\"at\":5}"),
                (1, None, at(1), "{\"at\":1}"),
                (1, None, at(2), "{\"at\":2}"),
            ],
            "a merged job keeps its first payload, as coalescing keeps the pending job's"
        );
    }
}
