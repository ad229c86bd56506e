//! The work queue that `trestle serve` processes share: jobs claimed under a fenced lease, one
//! at a time per company and lane.
//!
//! # Leases and fencing
//! A worker can outlive its lease (a long Procore call, a suspended VM) while another process
//! takes the job over. Every claim therefore bumps the job's `lease_token`: the old holder's
//! heartbeat, completion, failure or release finds another token and changes nothing
//! ([`StoreError::LeaseLost`]). Its domain writes go through [`Store::fenced`], whose write
//! transactions check the token inside themselves. On PostgreSQL that check locks the job row
//! until the write commits, and a claim skips locked rows, so a new claim never commits while an
//! old holder's write is in flight, and a write that begins after the new claim sees the new
//! token. SQLite has one writer at a time, which gives the same order.
//!
//! A lease that runs out is the worker's failure: the job is claimable again at once (same row,
//! new token, one more attempt), or dead when its attempts are used up, so a job that kills its
//! worker every time stops being retried.
//!
//! # Lanes
//! Some work must not overlap within a company (two uploads into one folder, two insurance
//! writes of one vendor). A partial unique index keeps one running job per (company, lane)
//! whichever process claims it; the claim skips busy lanes, so one lane's backlog never holds
//! up another lane.
//!
//! # Order and fairness
//! The claim takes the due job with the smallest `run_at`, then id (a job whose lease ran out
//! is taken back before that: it is the oldest of its lane). Jobs of one lane enqueued for the
//! same time therefore run in enqueue order; a job retried later gives up its place and runs at
//! its retry time, after the lane's jobs due before then. Across companies the older due job
//! wins: a company with 10,000 due jobs delays another company's job only by those of its jobs
//! that were due earlier, never forever, since anything enqueued later is due later. Anything
//! finer (weights, per-company caps) is the caller's.
//!
//! # Coalescing
//! Webhook bursts ask for the same work many times. One pending job per (company, dedupe key)
//! absorbs the rest, keeping the earlier `run_at` and its own payload (a dedupe key promises
//! that the payloads are interchangeable). A running job absorbs nothing: it may have read
//! before the change that asked for the new one. A job that goes back to pending (a retry, a
//! release, a person's retry) while another pending job has its key merges into that one the
//! same way: that job stays, with the earlier `run_at` and the returning job's last error, and
//! the returning job's row is removed.

use crate::db::{int, lease_end, opt_text, opt_timestamp, text, timestamp, ts, Backend};
use crate::models::CompanyId;
use crate::{Result, Store, StoreError};
use chrono::{DateTime, Utc};
use sqlx::any::AnyRow;
use sqlx::AnyConnection;
use std::time::Duration;

/// A job to enqueue. The store does not interpret `kind`, `lane` or the payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewJob {
    pub company_id: CompanyId,
    /// What the worker does with it, e.g. `sync.workforce`.
    pub kind: String,
    /// Jobs of one company and lane never run at the same time.
    pub lane: String,
    /// At most one pending job per company and key; `None` never coalesces.
    pub dedupe_key: Option<String>,
    pub payload_json: String,
    /// Not claimable before this time.
    pub run_at: DateTime<Utc>,
    /// Claims allowed before a failure makes the job dead.
    pub max_attempts: u32,
}

/// Where a job is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum JobState {
    /// Waiting for its `run_at`, or due.
    Pending,
    /// Claimed by a worker whose lease has not been taken back.
    Running,
    Done,
    /// Failed for good (a permanent error, or its attempts used up); waits for a person.
    Dead,
}

impl JobState {
    pub const ALL: [JobState; 4] = [
        JobState::Pending,
        JobState::Running,
        JobState::Done,
        JobState::Dead,
    ];

    /// The name stored in the `state` column.
    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Pending => "pending",
            JobState::Running => "running",
            JobState::Done => "done",
            JobState::Dead => "dead",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// A stored job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    pub id: i64,
    pub company_id: CompanyId,
    pub kind: String,
    pub lane: String,
    pub dedupe_key: Option<String>,
    pub payload_json: String,
    pub state: JobState,
    /// Claims so far (a release does not count; a person's retry starts again at 0).
    pub attempts: u32,
    pub max_attempts: u32,
    pub run_at: DateTime<Utc>,
    pub last_error: Option<String>,
    /// The worker that claimed it last; kept after it finished, for people to see.
    pub leased_by: Option<String>,
    /// When the running job's lease runs out; `None` unless running.
    pub lease_until: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    /// When it became done or dead.
    pub finished_at: Option<DateTime<Utc>>,
}

/// Proof of holding a job: the fencing token is bumped by every claim.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Lease {
    pub job_id: i64,
    pub token: i64,
}

/// A claimed job and the lease that proves the claim.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claimed {
    pub job: Job,
    pub lease: Lease,
}

/// What an enqueue did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Enqueued {
    /// A new job, with its id.
    New(i64),
    /// A pending job with the same company and dedupe key was there and absorbed this one; its
    /// id.
    Coalesced(i64),
}

impl Enqueued {
    /// The id of the job that will do the work.
    pub fn id(self) -> i64 {
        match self {
            Enqueued::New(id) | Enqueued::Coalesced(id) => id,
        }
    }
}

/// Which jobs [`Store::jobs`] lists; `None` matches anything.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobFilter {
    pub company: Option<CompanyId>,
    pub state: Option<JobState>,
    pub kind: Option<String>,
    /// Only jobs older than this one (the id the previous page ended at).
    pub before: Option<i64>,
    /// At most this many, newest first.
    pub limit: u32,
}

impl Default for JobFilter {
    /// Every job, the newest 100.
    fn default() -> Self {
        JobFilter {
            company: None,
            state: None,
            kind: None,
            before: None,
            limit: 100,
        }
    }
}

/// How long to wait after attempt `attempt` (1 for the first) failed: `base * 2^(attempt-1)`,
/// capped at `cap`, with *equal jitter*: half of that always, plus `jitter` (0.0..=1.0, drawn
/// by the caller) times the other half.
///
/// Equal rather than full jitter: jobs that failed together (a Procore outage, a rate limit)
/// still spread out, but none comes back almost at once, which full jitter allows and which
/// would only hit the same wall again.
pub fn retry_delay(attempt: u32, base: Duration, cap: Duration, jitter: f64) -> Duration {
    let doublings = attempt.saturating_sub(1).min(31);
    let backoff = base.checked_mul(1 << doublings).unwrap_or(cap).min(cap);
    let jitter = if jitter.is_nan() {
        0.0
    } else {
        jitter.clamp(0.0, 1.0)
    };
    let fixed = backoff / 2;
    let spread = backoff - fixed;
    let extra = Duration::try_from_secs_f64(spread.as_secs_f64() * jitter)
        .unwrap_or(spread)
        .min(spread);
    fixed + extra
}

macro_rules! job_columns {
    () => {
        "id, company_id, kind, lane, dedupe_key, payload_json, state, attempts, max_attempts, run_at, \
         last_error, leased_by, lease_until, created_at, finished_at, lease_token"
    };
}

/// Claims the due pending job with the smallest `run_at`, then id, that is first in its lane's
/// queue and whose lane has no running job.
///
/// "First in its lane" matters on PostgreSQL: a claimer that skips a job another claimer is
/// taking must not take the same lane's next job instead, or the two could start in the wrong
/// order. Should two claimers still pick two jobs of one lane, the lane index refuses the
/// second, which tries again (see [`Store::claim_job`]).
macro_rules! claim_pending {
    ($lock:literal) => {
        concat!(
            "UPDATE jobs SET state = 'running', attempts = attempts + 1, lease_token = lease_token + 1, \
             leased_by = $2, lease_until = $3 \
             WHERE id = (SELECT j.id FROM jobs j WHERE j.state = 'pending' AND j.run_at <= $1 \
             AND NOT EXISTS (SELECT 1 FROM jobs r WHERE r.state = 'running' \
             AND r.company_id = j.company_id AND r.lane = j.lane) \
             AND NOT EXISTS (SELECT 1 FROM jobs e WHERE e.state = 'pending' \
             AND e.company_id = j.company_id AND e.lane = j.lane \
             AND (e.run_at < j.run_at OR (e.run_at = j.run_at AND e.id < j.id))) \
             ORDER BY j.run_at, j.id LIMIT 1",
            $lock,
            ") RETURNING ",
            job_columns!()
        )
    };
}

/// Takes back the oldest running job whose lease ran out and which has attempts left, in place:
/// it keeps its lane, so nothing else of the lane can have started meanwhile.
macro_rules! reclaim_expired {
    ($lock:literal) => {
        concat!(
            "UPDATE jobs SET attempts = attempts + 1, lease_token = lease_token + 1, leased_by = $2, \
             lease_until = $3, last_error = 'the lease held by ' || COALESCE(leased_by, 'a worker') \
             || ' ran out before the job finished' \
             WHERE id = (SELECT id FROM jobs WHERE state = 'running' AND lease_until <= $1 \
             AND attempts < max_attempts ORDER BY run_at, id LIMIT 1",
            $lock,
            ") RETURNING ",
            job_columns!()
        )
    };
}

/// Makes dead the running jobs whose lease ran out on their last attempt.
macro_rules! bury_expired {
    ($lock:literal) => {
        concat!(
            "UPDATE jobs SET state = 'dead', finished_at = $1, lease_until = NULL, \
             last_error = 'the lease held by ' || COALESCE(leased_by, 'a worker') \
             || ' ran out before the job finished, on its last attempt' \
             WHERE id IN (SELECT id FROM jobs WHERE state = 'running' AND lease_until <= $1 \
             AND attempts >= max_attempts",
            $lock,
            ")"
        )
    };
}

struct ClaimSql {
    pending: &'static str,
    reclaim: &'static str,
    bury: &'static str,
}

/// On PostgreSQL every claim statement skips rows another transaction holds: another claimer's
/// pick, or a fenced write in flight (which must commit before its job can change hands).
const CLAIM_POSTGRES: ClaimSql = ClaimSql {
    pending: claim_pending!(" FOR UPDATE OF j SKIP LOCKED"),
    reclaim: reclaim_expired!(" FOR UPDATE SKIP LOCKED"),
    bury: bury_expired!(" FOR UPDATE SKIP LOCKED"),
};
const CLAIM_SQLITE: ClaimSql = ClaimSql {
    pending: claim_pending!(""),
    reclaim: reclaim_expired!(""),
    bury: bury_expired!(""),
};

/// How often a claim that lost a lane to another claimer tries the next job.
const CLAIM_TRIES: usize = 8;

/// How often a hand-back that met a concurrent enqueue of its dedupe key tries again.
const HAND_BACK_TRIES: usize = 3;

fn count(row: &AnyRow, col: &str) -> Result<u32> {
    let n = int(row, col)?;
    u32::try_from(n).map_err(|_| StoreError::Corrupt {
        what: "job count",
        detail: format!("{col} = {n}"),
    })
}

fn job_from_row(row: &AnyRow) -> Result<Job> {
    let state = text(row, "state")?;
    Ok(Job {
        id: int(row, "id")?,
        company_id: int(row, "company_id")?,
        kind: text(row, "kind")?,
        lane: text(row, "lane")?,
        dedupe_key: opt_text(row, "dedupe_key")?,
        payload_json: text(row, "payload_json")?,
        state: JobState::parse(&state).ok_or(StoreError::Corrupt {
            what: "job state",
            detail: state,
        })?,
        attempts: count(row, "attempts")?,
        max_attempts: count(row, "max_attempts")?,
        run_at: timestamp(row, "job time", "run_at")?,
        last_error: opt_text(row, "last_error")?,
        leased_by: opt_text(row, "leased_by")?,
        lease_until: opt_timestamp(row, "job time", "lease_until")?,
        created_at: timestamp(row, "job time", "created_at")?,
        finished_at: opt_timestamp(row, "job time", "finished_at")?,
    })
}

fn claimed_from_row(row: &AnyRow) -> Result<Claimed> {
    let job = job_from_row(row)?;
    let lease = Lease {
        job_id: job.id,
        token: int(row, "lease_token")?,
    };
    Ok(Claimed { job, lease })
}

fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(db) if db.is_unique_violation())
}

/// Enqueues a job on a connection the caller holds, so it commits with the caller's writes.
pub(crate) async fn enqueue_job_on(conn: &mut AnyConnection, job: &NewJob) -> Result<Enqueued> {
    let row = sqlx::query(
        "INSERT INTO jobs (company_id, kind, lane, dedupe_key, payload_json, state, attempts, max_attempts, \
         run_at, lease_token, coalesced, created_at) VALUES ($1, $2, $3, $4, $5, 'pending', 0, $6, $7, 0, 0, $8) \
         ON CONFLICT (company_id, dedupe_key) WHERE state = 'pending' DO UPDATE SET \
         run_at = CASE WHEN excluded.run_at < jobs.run_at THEN excluded.run_at ELSE jobs.run_at END, \
         coalesced = jobs.coalesced + 1 \
         RETURNING id, coalesced",
    )
    .bind(job.company_id)
    .bind(&job.kind)
    .bind(&job.lane)
    .bind(job.dedupe_key.as_deref())
    .bind(&job.payload_json)
    .bind(i64::from(job.max_attempts))
    .bind(ts(job.run_at))
    .bind(crate::db::now())
    .fetch_one(&mut *conn)
    .await?;
    let id = int(&row, "id")?;
    Ok(if int(&row, "coalesced")? == 0 {
        Enqueued::New(id)
    } else {
        Enqueued::Coalesced(id)
    })
}

/// Fails unless `lease` still holds: the job is running under this token. The no-op update
/// takes the job row's lock on PostgreSQL, held until the caller's transaction ends, so no claim
/// can take the job over while the caller writes.
pub(crate) async fn check_fence(conn: &mut AnyConnection, lease: Lease) -> Result<()> {
    let done = sqlx::query(
        "UPDATE jobs SET lease_until = lease_until WHERE id = $1 AND lease_token = $2 AND state = 'running'",
    )
    .bind(lease.job_id)
    .bind(lease.token)
    .execute(&mut *conn)
    .await?;
    if done.rows_affected() == 1 {
        Ok(())
    } else {
        Err(StoreError::LeaseLost)
    }
}

/// Puts a job back in line at `run_at`; when another pending job of its company has its dedupe
/// key, merges into that one instead (see the module doc).
async fn requeue_on(
    conn: &mut AnyConnection,
    id: i64,
    company: CompanyId,
    dedupe_key: Option<&str>,
    run_at: DateTime<Utc>,
) -> Result<()> {
    let run_at = ts(run_at);
    if let Some(key) = dedupe_key {
        let merged = sqlx::query(
            "UPDATE jobs SET run_at = CASE WHEN $4 < run_at THEN $4 ELSE run_at END, coalesced = coalesced + 1, \
             last_error = COALESCE((SELECT b.last_error FROM jobs b WHERE b.id = $3), last_error) \
             WHERE company_id = $1 AND dedupe_key = $2 AND state = 'pending' AND id <> $3",
        )
        .bind(company)
        .bind(key)
        .bind(id)
        .bind(&run_at)
        .execute(&mut *conn)
        .await?;
        if merged.rows_affected() > 0 {
            sqlx::query("DELETE FROM jobs WHERE id = $1")
                .bind(id)
                .execute(&mut *conn)
                .await?;
            return Ok(());
        }
    }
    sqlx::query(
        "UPDATE jobs SET state = 'pending', run_at = $2, lease_until = NULL, finished_at = NULL WHERE id = $1",
    )
    .bind(id)
    .bind(&run_at)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// How a worker hands a job back.
#[derive(Clone, Copy)]
enum HandBack<'a> {
    /// The attempt failed; `retry_at` `None` is a permanent error.
    Fail {
        error: &'a str,
        retry_at: Option<DateTime<Utc>>,
    },
    /// Not attempted after all: back in line at `run_at`, the attempt not counted.
    Release { run_at: DateTime<Utc> },
}

impl Store {
    /// Enqueues a job, or coalesces it into the pending job with its company and dedupe key
    /// (which then runs at the earlier of the two times).
    pub async fn enqueue_job(&self, job: &NewJob) -> Result<Enqueued> {
        let mut tx = self.begin_write().await?;
        let enqueued = enqueue_job_on(&mut tx, job).await?;
        tx.commit().await?;
        Ok(enqueued)
    }

    /// Claims the next job due at `now` (see the module doc for the order) for `worker`,
    /// leasing it for `lease`; the claim counts an attempt. `None` when nothing is due or every
    /// due job's lane is busy.
    pub async fn claim_job(
        &self,
        worker: &str,
        now: DateTime<Utc>,
        lease: Duration,
    ) -> Result<Option<Claimed>> {
        let sql = match self.backend() {
            Backend::Postgres => &CLAIM_POSTGRES,
            Backend::Sqlite => &CLAIM_SQLITE,
        };
        let now_text = ts(now);
        let until = ts(lease_end(now, lease));
        // Lapsed leases are rare; a read that finds none spares the two writes that handle
        // them (on SQLite every write statement takes the one write lock, even one that
        // changes nothing).
        let lapsed: Option<i64> = sqlx::query_scalar(
            "SELECT id FROM jobs WHERE state = 'running' AND lease_until <= $1 LIMIT 1",
        )
        .bind(&now_text)
        .fetch_optional(self.pool())
        .await?;
        let claims: &[&str] = if lapsed.is_some() {
            sqlx::query(sql.bury)
                .bind(&now_text)
                .execute(self.pool())
                .await?;
            &[sql.reclaim, sql.pending]
        } else {
            &[sql.pending]
        };
        for claim in claims.iter().copied() {
            for _ in 0..CLAIM_TRIES {
                let row = sqlx::query(claim)
                    .bind(&now_text)
                    .bind(worker)
                    .bind(&until)
                    .fetch_optional(self.pool())
                    .await;
                match row {
                    Ok(Some(row)) => return claimed_from_row(&row).map(Some),
                    Ok(None) => break,
                    // Another claimer took this lane a moment ago; the next try skips it.
                    Err(e) if is_unique_violation(&e) => continue,
                    Err(e) => return Err(e.into()),
                }
            }
        }
        Ok(None)
    }

    /// Extends a held lease to `now + lease_for`. A lease that ran out but was not taken back
    /// yet is still held, and extended.
    ///
    /// # Errors
    /// [`StoreError::LeaseLost`] when the lease was taken back; nothing changes.
    pub async fn heartbeat_job(
        &self,
        lease: Lease,
        now: DateTime<Utc>,
        lease_for: Duration,
    ) -> Result<()> {
        let done = sqlx::query(
            "UPDATE jobs SET lease_until = $3 WHERE id = $1 AND lease_token = $2 AND state = 'running'",
        )
        .bind(lease.job_id)
        .bind(lease.token)
        .bind(ts(lease_end(now, lease_for)))
        .execute(self.pool())
        .await?;
        lease_held(done.rows_affected())
    }

    /// Marks a held job done.
    ///
    /// # Errors
    /// [`StoreError::LeaseLost`] when the lease was taken back; nothing changes.
    pub async fn complete_job(&self, lease: Lease, now: DateTime<Utc>) -> Result<()> {
        let done = sqlx::query(
            "UPDATE jobs SET state = 'done', finished_at = $3, lease_until = NULL, last_error = NULL \
             WHERE id = $1 AND lease_token = $2 AND state = 'running'",
        )
        .bind(lease.job_id)
        .bind(lease.token)
        .bind(ts(now))
        .execute(self.pool())
        .await?;
        lease_held(done.rows_affected())
    }

    /// Records a failed attempt of a held job. With its attempts used up, or `retry_at` `None`
    /// (a permanent error), the job is dead; otherwise pending again at `retry_at`. Returns the
    /// new state.
    ///
    /// # Errors
    /// [`StoreError::LeaseLost`] when the lease was taken back; nothing changes.
    pub async fn fail_job(
        &self,
        lease: Lease,
        now: DateTime<Utc>,
        error: &str,
        retry_at: Option<DateTime<Utc>>,
    ) -> Result<JobState> {
        self.hand_back(lease, now, HandBack::Fail { error, retry_at })
            .await
    }

    /// Hands a held job back without counting the attempt (shutdown, a rate-limit backlog): it
    /// is pending again at `run_at`.
    ///
    /// # Errors
    /// [`StoreError::LeaseLost`] when the lease was taken back; nothing changes.
    pub async fn release_job(&self, lease: Lease, run_at: DateTime<Utc>) -> Result<()> {
        self.hand_back(lease, run_at, HandBack::Release { run_at })
            .await
            .map(|_| ())
    }

    async fn hand_back(
        &self,
        lease: Lease,
        now: DateTime<Utc>,
        how: HandBack<'_>,
    ) -> Result<JobState> {
        let mut tries = 0;
        loop {
            match self.hand_back_once(lease, now, how).await {
                // A job of this key was enqueued (and committed) between our look for it and
                // our return to pending: look again, and merge into it this time.
                Err(StoreError::Conflict(_)) if tries + 1 < HAND_BACK_TRIES => tries += 1,
                outcome => return outcome,
            }
        }
    }

    async fn hand_back_once(
        &self,
        lease: Lease,
        now: DateTime<Utc>,
        how: HandBack<'_>,
    ) -> Result<JobState> {
        let (error, uncount) = match how {
            HandBack::Fail { error, .. } => (Some(error), 0_i64),
            HandBack::Release { .. } => (None, 1),
        };
        let mut tx = self.begin_unfenced().await?;
        let row = sqlx::query(
            "UPDATE jobs SET last_error = COALESCE($3, last_error), \
             attempts = CASE WHEN attempts >= $4 THEN attempts - $4 ELSE 0 END \
             WHERE id = $1 AND lease_token = $2 AND state = 'running' \
             RETURNING company_id, dedupe_key, attempts, max_attempts",
        )
        .bind(lease.job_id)
        .bind(lease.token)
        .bind(error)
        .bind(uncount)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else {
            return Err(StoreError::LeaseLost);
        };
        let used_up = count(&row, "attempts")? >= count(&row, "max_attempts")?;
        let back_at = match how {
            HandBack::Fail { retry_at, .. } => retry_at.filter(|_| !used_up),
            HandBack::Release { run_at } => Some(run_at),
        };
        let state = match back_at {
            Some(at) => {
                let company = int(&row, "company_id")?;
                let key = opt_text(&row, "dedupe_key")?;
                requeue_on(&mut tx, lease.job_id, company, key.as_deref(), at).await?;
                JobState::Pending
            }
            None => {
                sqlx::query(
                    "UPDATE jobs SET state = 'dead', finished_at = $2, lease_until = NULL WHERE id = $1",
                )
                .bind(lease.job_id)
                .bind(ts(now))
                .execute(&mut *tx)
                .await?;
                JobState::Dead
            }
        };
        tx.commit().await?;
        Ok(state)
    }

    /// Jobs matching `filter`, newest first.
    pub async fn jobs(&self, filter: &JobFilter) -> Result<Vec<Job>> {
        let mut sql = String::from(concat!("SELECT ", job_columns!(), " FROM jobs WHERE 1 = 1"));
        let mut n = 0;
        let mut next = |column: &str| {
            n += 1;
            format!(" AND {column} = ${n}")
        };
        if filter.company.is_some() {
            sql.push_str(&next("company_id"));
        }
        if filter.state.is_some() {
            sql.push_str(&next("state"));
        }
        if filter.kind.is_some() {
            sql.push_str(&next("kind"));
        }
        if filter.before.is_some() {
            n += 1;
            sql.push_str(&format!(" AND id < ${n}"));
        }
        sql.push_str(&format!(" ORDER BY id DESC LIMIT ${}", n + 1));
        // Only the fixed pieces above are in the text; every value is bound.
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        if let Some(company) = filter.company {
            query = query.bind(company);
        }
        if let Some(state) = filter.state {
            query = query.bind(state.as_str());
        }
        if let Some(kind) = &filter.kind {
            query = query.bind(kind.clone());
        }
        if let Some(before) = filter.before {
            query = query.bind(before);
        }
        let rows = query
            .bind(i64::from(filter.limit))
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(job_from_row).collect()
    }

    /// One of a company's jobs; another company's job reads as `None`.
    pub async fn job(&self, company: CompanyId, id: i64) -> Result<Option<Job>> {
        let row = sqlx::query(concat!(
            "SELECT ",
            job_columns!(),
            " FROM jobs WHERE id = $1 AND company_id = $2"
        ))
        .bind(id)
        .bind(company)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(job_from_row).transpose()
    }

    /// A person retries a dead job, or runs a pending one now: it is pending at `now` with its
    /// attempts reset to 0. A pending job with the same dedupe key absorbs it (see the module
    /// doc).
    ///
    /// # Errors
    /// [`StoreError::NotFound`] when the company has no such job; [`StoreError::Conflict`]
    /// when it is running or done.
    pub async fn retry_job(&self, company: CompanyId, id: i64, now: DateTime<Utc>) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let row = sqlx::query(
            "UPDATE jobs SET attempts = 0 WHERE id = $1 AND company_id = $2 AND state IN ('dead', 'pending') \
             RETURNING dedupe_key",
        )
        .bind(id)
        .bind(company)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else {
            let state: Option<String> =
                sqlx::query_scalar("SELECT state FROM jobs WHERE id = $1 AND company_id = $2")
                    .bind(id)
                    .bind(company)
                    .fetch_optional(&mut *tx)
                    .await?;
            return Err(match state {
                None => StoreError::NotFound {
                    what: "job",
                    id: format!("{id} of company {company}"),
                },
                Some(state) => StoreError::Conflict(format!(
                    "job {id} is {state}; only a dead or pending job can be retried"
                )),
            });
        };
        let key = opt_text(&row, "dedupe_key")?;
        requeue_on(&mut tx, id, company, key.as_deref(), now).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Deletes a dead or pending job: work a person decided is not to be done. `false` when
    /// the company has no such job in those states (running, done, or none).
    pub async fn discard_job(&self, company: CompanyId, id: i64) -> Result<bool> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(
            "DELETE FROM jobs WHERE id = $1 AND company_id = $2 AND state IN ('dead', 'pending')",
        )
        .bind(id)
        .bind(company)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(done.rows_affected() == 1)
    }

    /// How many jobs there are of each kind and state, for metrics.
    pub async fn job_counts(&self) -> Result<Vec<(String, JobState, i64)>> {
        let rows = sqlx::query(
            "SELECT kind, state, COUNT(*) AS n FROM jobs GROUP BY kind, state ORDER BY kind, state",
        )
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|row| {
                let state = text(row, "state")?;
                Ok((
                    text(row, "kind")?,
                    JobState::parse(&state).ok_or(StoreError::Corrupt {
                        what: "job state",
                        detail: state,
                    })?,
                    int(row, "n")?,
                ))
            })
            .collect()
    }

    /// Removes done jobs finished before `done_before`; returns how many. Dead jobs stay until a
    /// person retries them: they are the ones someone must look at.
    pub async fn prune_jobs(&self, done_before: DateTime<Utc>) -> Result<u64> {
        let done = sqlx::query("DELETE FROM jobs WHERE state = 'done' AND finished_at < $1")
            .bind(ts(done_before))
            .execute(self.pool())
            .await?;
        Ok(done.rows_affected())
    }

    /// A clone of the store whose every write transaction first checks, inside itself, that
    /// `lease` still holds, and fails with [`StoreError::LeaseLost`] otherwise: a worker does
    /// its job's domain writes through it, so a worker whose job was taken over cannot write
    /// after the new holder's claim.
    ///
    /// Writes of one statement that do not open a write transaction (saving tokens, recording
    /// an insurance write Procore already took) are not fenced: they record what happened
    /// whoever holds the job. The queue's own calls that take a [`Lease`] check that lease.
    pub fn fenced(&self, lease: Lease) -> Store {
        Store {
            fence: Some(lease),
            ..self.clone()
        }
    }
}

fn lease_held(rows: u64) -> Result<()> {
    if rows == 1 {
        Ok(())
    } else {
        Err(StoreError::LeaseLost)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: Duration = Duration::from_secs(1);

    #[test]
    fn the_delay_doubles_per_attempt_from_half_to_all_of_the_backoff() {
        let base = 10 * S;
        let cap = 3600 * S;
        assert_eq!(retry_delay(1, base, cap, 0.0), 5 * S);
        assert_eq!(retry_delay(1, base, cap, 1.0), 10 * S);
        assert_eq!(retry_delay(2, base, cap, 0.0), 10 * S);
        assert_eq!(retry_delay(3, base, cap, 1.0), 40 * S);
        assert_eq!(retry_delay(3, base, cap, 0.5), 30 * S);
    }

    #[test]
    fn the_delay_never_passes_the_cap_however_many_attempts() {
        let base = 10 * S;
        let cap = 300 * S;
        assert_eq!(retry_delay(6, base, cap, 1.0), cap);
        assert_eq!(retry_delay(40, base, cap, 1.0), cap);
        assert_eq!(retry_delay(u32::MAX, base, cap, 0.0), cap / 2);
        assert_eq!(
            retry_delay(u32::MAX, Duration::MAX, Duration::MAX, 1.0),
            Duration::MAX
        );
    }

    #[test]
    fn a_jitter_outside_zero_to_one_is_held_to_it() {
        let base = 10 * S;
        let cap = 300 * S;
        assert_eq!(retry_delay(1, base, cap, -3.0), 5 * S);
        assert_eq!(retry_delay(1, base, cap, 7.0), 10 * S);
        assert_eq!(retry_delay(1, base, cap, f64::NAN), 5 * S);
        assert_eq!(
            retry_delay(0, base, cap, 1.0),
            10 * S,
            "attempt 0 reads as 1"
        );
    }

    /// A private schema of the test PostgreSQL (see tests/store/support.rs, which the unit
    /// tests cannot reach): its URL and name.
    async fn postgres_schema() -> (String, String) {
        use sqlx::Connection as _;
        let admin = std::env::var("TRESTLE_TEST_POSTGRES_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
        let mut conn = sqlx::PgConnection::connect(&admin)
            .await
            .unwrap_or_else(|e| panic!("PostgreSQL at {admin} is needed for this test: {e}"));
        let schema = format!("u_{:016x}", rand::random::<u64>());
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
            .execute(&mut conn)
            .await
            .unwrap();
        conn.close().await.unwrap();
        let sep = if admin.contains('?') { '&' } else { '?' };
        (
            format!("{admin}{sep}options=-c%20search_path%3D{schema}"),
            schema,
        )
    }

    async fn drop_schema(url: &str, schema: &str) {
        use sqlx::Connection as _;
        let mut conn = sqlx::PgConnection::connect(url).await.unwrap();
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("DROP SCHEMA {schema} CASCADE")))
            .execute(&mut conn)
            .await
            .unwrap();
        conn.close().await.unwrap();
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn on_postgres_a_claim_never_takes_over_a_job_while_its_old_holders_fenced_write_is_in_flight(
    ) {
        let (url, schema) = postgres_schema().await;
        let store = Store::open(&url, crate::SecretKey::generate())
            .await
            .unwrap();
        let t0: DateTime<Utc> = "2026-11-22T10:00:00Z".parse().unwrap();
        let later = t0 + chrono::Duration::seconds(120);
        let outcome = tokio::spawn({
            let store = store.clone();
            async move {
                let new = |lane: &str| NewJob {
                    company_id: 1,
                    kind: "k".into(),
                    lane: lane.into(),
                    dedupe_key: None,
                    payload_json: "{}".into(),
                    run_at: t0,
                    max_attempts: 5,
                };
                let id = store.enqueue_job(&new("l")).await.unwrap().id();
                let old = store.claim_job("a", t0, 60 * S).await.unwrap().unwrap();
                let fenced = store.fenced(old.lease);

                let mut write = fenced.begin_write().await.unwrap();
                let follow_up = enqueue_job_on(&mut write, &new("m")).await.unwrap().id();
                assert_eq!(
                    store.claim_job("b", later, 60 * S).await.unwrap(),
                    None,
                    "the lapsed job is skipped while its holder's write is in flight"
                );
                write.commit().await.unwrap();

                let new_holder = store.claim_job("b", later, 60 * S).await.unwrap().unwrap();
                assert_eq!(new_holder.job.id, id, "taken over once the write committed");
                assert!(new_holder.lease.token > old.lease.token);
                assert!(matches!(
                    fenced.begin_write().await,
                    Err(StoreError::LeaseLost)
                ));
                assert!(store.job(1, follow_up).await.unwrap().is_some());
            }
        })
        .await;
        store.close().await;
        drop_schema(&url, &schema).await;
        if let Err(e) = outcome {
            std::panic::resume_unwind(e.into_panic());
        }
    }

    #[test]
    fn job_states_round_trip_through_their_stored_names() {
        for state in JobState::ALL {
            assert_eq!(JobState::parse(state.as_str()), Some(state));
        }
        assert_eq!(JobState::parse("failed"), None);
    }
}
