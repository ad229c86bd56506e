//! The run log: every run, and every decision in it with its reason, so `trestle explain` can
//! answer "why did (or didn't) this record change".

use crate::db::{flag, int, now, opt_int, opt_text, opt_timestamp, text, timestamp};
use crate::models::{CompanyId, Run, RunEntry, RunEntryRecord, RunId, SubjectKind};
use crate::{Result, Store, StoreError};
use sqlx::any::AnyRow;
use sqlx::AnyConnection;

/// What makes two entries the same decision about the same record.
type Decision = (
    SubjectKind,
    Option<i64>,
    Option<i64>,
    String,
    String,
    Option<String>,
    String,
);

/// Writes entries for a run. `created` maps change indexes to the local ids they got, for
/// entries whose `change` is set and whose `local_id` is not.
///
/// A decision that a real run's plan makes again, unchanged, right after the previous run of
/// its integration made it is not written again: the earlier entry's span (`last_run_id`) moves to
/// this run. A sync plans every record it reads, and most decisions repeat run after run (a
/// compliance sync of a large company makes tens of thousands), so the log grows with what
/// changes rather than with how often trestle syncs. A decision that stopped and came back is a
/// new entry, so an entry's span never covers a run that decided otherwise.
pub(crate) async fn record_on(
    conn: &mut AnyConnection,
    run: RunId,
    entries: &[RunEntry],
    created: &[(usize, i64)],
) -> Result<()> {
    /// Below this many entries a call is a drain's outcome or a few skips: new decisions, not
    /// worth a read of the previous run's.
    const LOOK_BACK_FROM: usize = 32;
    let at = now();
    let previous = if entries.len() >= LOOK_BACK_FROM {
        previous_decisions(conn, run).await?
    } else {
        Default::default()
    };
    for e in entries {
        let local_id = e.local_id.or_else(|| {
            e.change
                .and_then(|c| created.iter().find(|(i, _)| *i == c).map(|(_, id)| *id))
        });
        let reason = without_nul(&e.reason);
        let outcome = without_nul(&e.outcome);
        let decision: Decision = (
            e.kind.clone(),
            e.procore_id,
            local_id,
            e.action.clone(),
            reason.clone(),
            e.detail_json.clone(),
            outcome.clone(),
        );
        if let Some(id) = previous.get(&decision) {
            sqlx::query("UPDATE run_entries SET last_run_id = $2, recorded_at = $3 WHERE id = $1")
                .bind(*id)
                .bind(run.0)
                .bind(&at)
                .execute(&mut *conn)
                .await?;
            continue;
        }
        sqlx::query(
            "INSERT INTO run_entries (run_id, kind, procore_id, local_id, action, reason, detail_json, outcome, \
             recorded_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(run.0)
        .bind(e.kind.as_str())
        .bind(e.procore_id)
        .bind(local_id)
        .bind(&e.action)
        .bind(reason)
        .bind(&e.detail_json)
        .bind(outcome)
        .bind(&at)
        .execute(&mut *conn)
        .await
        .map_err(|err| match StoreError::from(err) {
            StoreError::Conflict(_) => StoreError::NotFound { what: "run", id: run.0.to_string() },
            other => other,
        })?;
    }
    Ok(())
}

/// The decisions the previous real run of `run`'s integration made (entries whose span ends
/// there), by what they decided; empty for a dry run, a first run, or a run that does not
/// exist (its insert then fails as it should).
async fn previous_decisions(
    conn: &mut AnyConnection,
    run: RunId,
) -> Result<std::collections::HashMap<Decision, i64>> {
    let mut found = std::collections::HashMap::new();
    let this = sqlx::query("SELECT company_id, integration, dry_run FROM runs WHERE id = $1")
        .bind(run.0)
        .fetch_optional(&mut *conn)
        .await?;
    let Some(this) = this else {
        return Ok(found);
    };
    if flag(&this, "dry_run")? {
        return Ok(found);
    }
    let previous: Option<i64> = sqlx::query_scalar(
        "SELECT MAX(id) FROM runs WHERE company_id = $1 AND integration = $2 AND dry_run = $3 AND id < $4",
    )
    .bind(int(&this, "company_id")?)
    .bind(text(&this, "integration")?)
    .bind(false)
    .bind(run.0)
    .fetch_one(&mut *conn)
    .await?;
    let Some(previous) = previous else {
        return Ok(found);
    };
    let rows = sqlx::query(
        "SELECT id, kind, procore_id, local_id, action, reason, detail_json, outcome FROM run_entries \
         WHERE (run_id = $1 AND last_run_id IS NULL) OR last_run_id = $1",
    )
    .bind(previous)
    .fetch_all(&mut *conn)
    .await?;
    for row in &rows {
        found.insert(
            (
                SubjectKind::parse(&text(row, "kind")?),
                opt_int(row, "procore_id")?,
                opt_int(row, "local_id")?,
                text(row, "action")?,
                text(row, "reason")?,
                opt_text(row, "detail_json")?,
                text(row, "outcome")?,
            ),
            int(row, "id")?,
        );
    }
    Ok(found)
}

/// A reason can quote Procore text (a decoding problem names the value it met), and
/// PostgreSQL stores no NUL in text: the one character dropped keeps the entry.
fn without_nul(s: &str) -> String {
    s.replace('\0', "")
}

fn entry_from_row(row: &AnyRow) -> Result<RunEntryRecord> {
    Ok(RunEntryRecord {
        id: int(row, "id")?,
        run: RunId(int(row, "run_id")?),
        last_run: RunId(opt_int(row, "last_run_id")?.unwrap_or(int(row, "run_id")?)),
        integration: text(row, "integration")?,
        dry_run: flag(row, "dry_run")?,
        recorded_at: timestamp(row, "run log time", "recorded_at")?,
        entry: RunEntry {
            kind: SubjectKind::parse(&text(row, "kind")?),
            procore_id: opt_int(row, "procore_id")?,
            local_id: opt_int(row, "local_id")?,
            change: None,
            action: text(row, "action")?,
            reason: text(row, "reason")?,
            detail_json: opt_text(row, "detail_json")?,
            outcome: text(row, "outcome")?,
        },
    })
}

fn run_from_row(row: &AnyRow) -> Result<Run> {
    Ok(Run {
        id: RunId(int(row, "id")?),
        company_id: int(row, "company_id")?,
        integration: text(row, "integration")?,
        dry_run: flag(row, "dry_run")?,
        started_at: timestamp(row, "run time", "started_at")?,
        finished_at: opt_timestamp(row, "run time", "finished_at")?,
        summary_json: opt_text(row, "summary_json")?,
    })
}

/// The most entries [`Store::history`] returns.
pub const HISTORY_LIMIT: i64 = 1000;

/// How long the run log keeps an entry that is no longer a record's latest word, unless
/// [`Store::with_run_log_days`] says otherwise.
pub const DEFAULT_RUN_LOG_DAYS: u32 = 30;

impl Store {
    /// Starts a run of an integration (e.g. `workforce`) for a company.
    pub async fn start_run(
        &self,
        company: CompanyId,
        integration: &str,
        dry_run: bool,
    ) -> Result<RunId> {
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO runs (company_id, integration, dry_run, started_at) VALUES ($1, $2, $3, $4) RETURNING id",
        )
        .bind(company)
        .bind(integration)
        .bind(dry_run)
        .bind(now())
        .fetch_one(self.pool())
        .await?;
        Ok(RunId(id))
    }

    /// The same store, keeping run-log entries that are no record's latest word for `days`.
    pub fn with_run_log_days(mut self, days: u32) -> Store {
        self.run_log_days = days;
        self
    }

    /// Ends a run with its summary (counts, errors) as JSON, then prunes the company's run log
    /// ([`Store::prune_run_log`]), so the log stays bounded without a job of its own.
    pub async fn finish_run(&self, run: RunId, summary_json: &str) -> Result<()> {
        let done = sqlx::query("UPDATE runs SET finished_at = $2, summary_json = $3 WHERE id = $1")
            .bind(run.0)
            .bind(now())
            .bind(summary_json)
            .execute(self.pool())
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound {
                what: "run",
                id: run.0.to_string(),
            });
        }
        let company: i64 = sqlx::query_scalar("SELECT company_id FROM runs WHERE id = $1")
            .bind(run.0)
            .fetch_one(self.pool())
            .await?;
        let cutoff = chrono::Utc::now() - chrono::Duration::days(i64::from(self.run_log_days));
        // The run itself succeeded and is recorded: a prune that fails is tried again at the
        // end of the next run, and must not turn this one into a failure.
        if let Err(e) = self.prune_run_log(company, cutoff).await {
            tracing::warn!(company, error = %e, "could not prune the run log; the next run tries again");
        }
        Ok(())
    }

    /// Deletes what `explain` will never read from the company's run log, and returns how many
    /// entries went:
    /// - the entries of every dry run but the newest (explain reads no dry run, and one dry run
    ///   of a large company writes an entry per record);
    /// - entries whose last run started before `cutoff`, except those of each integration's newest run
    ///   (which holds the latest word on every record it read, e.g. each insurance record of a
    ///   vendor, all logged under the vendor's id) and each subject's newest entry per
    ///   integration, so `explain` still gives the latest word on a record that has not
    ///   changed in years.
    ///
    /// Runs themselves stay, with their summaries.
    pub async fn prune_run_log(
        &self,
        company: CompanyId,
        cutoff: chrono::DateTime<chrono::Utc>,
    ) -> Result<u64> {
        let mut tx = self.begin_write().await?;
        let dry = sqlx::query(
            "DELETE FROM run_entries WHERE run_id IN (SELECT id FROM runs WHERE company_id = $1 \
             AND dry_run = $2 AND id < (SELECT MAX(id) FROM runs WHERE company_id = $1 AND dry_run = $2))",
        )
        .bind(company)
        .bind(true)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        let old = sqlx::query(
            "DELETE FROM run_entries WHERE COALESCE(last_run_id, run_id) IN (SELECT id FROM runs \
             WHERE company_id = $1 AND started_at < $2 AND id NOT IN (SELECT MAX(id) FROM runs \
             WHERE company_id = $1 AND dry_run = $3 GROUP BY integration)) AND id NOT IN (SELECT MAX(e.id) FROM run_entries e \
             JOIN runs r ON r.id = e.run_id WHERE r.company_id = $1 AND r.dry_run = $3 \
             GROUP BY r.integration, e.kind, e.procore_id, e.local_id)",
        )
        .bind(company)
        .bind(crate::db::ts(cutoff))
        .bind(false)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        tx.commit().await?;
        Ok(dry + old)
    }

    /// Records entries outside an apply: skips, dry-run plans, outbox outcomes.
    pub async fn record(&self, run: RunId, entries: &[RunEntry]) -> Result<()> {
        let mut tx = self.begin_write().await?;
        record_on(&mut tx, run, entries, &[]).await?;
        tx.commit().await?;
        Ok(())
    }

    /// What happened to one record, newest
    /// first: what `explain` reads. At most the newest [`HISTORY_LIMIT`] entries, so explaining
    /// a record stays quick however long trestle has been syncing it.
    pub async fn history(
        &self,
        company: CompanyId,
        kind: SubjectKind,
        procore_id: i64,
    ) -> Result<Vec<RunEntryRecord>> {
        let rows = sqlx::query(
            "SELECT e.id, e.run_id, e.last_run_id, r.integration, r.dry_run, e.recorded_at, e.kind, e.procore_id, \
             e.local_id, e.action, e.reason, e.detail_json, e.outcome FROM run_entries e JOIN runs r ON r.id = e.run_id \
             WHERE r.company_id = $1 AND e.kind = $2 AND e.procore_id = $3 \
             ORDER BY COALESCE(e.last_run_id, e.run_id) DESC, e.id DESC LIMIT $4",
        )
        .bind(company)
        .bind(kind.as_str())
        .bind(procore_id)
        .bind(HISTORY_LIMIT)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(entry_from_row).collect()
    }

    /// Every decision of one run, in the order first recorded: its own entries and those of
    /// earlier runs whose span it extended (a span covers every run of its integration from
    /// its first to its last).
    pub async fn run_entries(&self, run: RunId) -> Result<Vec<RunEntryRecord>> {
        let rows = sqlx::query(
            "SELECT e.id, e.run_id, e.last_run_id, r.integration, r.dry_run, e.recorded_at, e.kind, e.procore_id, \
             e.local_id, e.action, e.reason, e.detail_json, e.outcome FROM run_entries e JOIN runs r ON r.id = e.run_id \
             JOIN runs t ON t.id = $1 WHERE r.company_id = t.company_id AND r.integration = t.integration \
             AND r.dry_run = t.dry_run AND e.run_id <= t.id AND COALESCE(e.last_run_id, e.run_id) >= t.id ORDER BY e.id",
        )
        .bind(run.0)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(entry_from_row).collect()
    }

    /// The company's runs, newest first: at most `limit`, only those older than `before` when
    /// given (the next page).
    pub async fn runs(
        &self,
        company: CompanyId,
        before: Option<i64>,
        limit: u32,
    ) -> Result<Vec<Run>> {
        let rows = sqlx::query(
            "SELECT id, company_id, integration, dry_run, started_at, finished_at, summary_json FROM runs \
             WHERE company_id = $1 AND ($2 IS NULL OR id < $2) ORDER BY id DESC LIMIT $3",
        )
        .bind(company)
        .bind(before)
        .bind(i64::from(limit))
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(run_from_row).collect()
    }

    pub async fn run(&self, run: RunId) -> Result<Option<Run>> {
        let row = sqlx::query(
            "SELECT id, company_id, integration, dry_run, started_at, finished_at, summary_json FROM runs WHERE id = $1",
        )
        .bind(run.0)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(run_from_row).transpose()
    }
}
