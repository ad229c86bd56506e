//! The workforce app's clashes and the decisions that end them.
//!
//! The workforce sync leaves a Procore project or user alone when an unlinked app record
//! already has its number, name or email: creating a second one would split a site's history
//! in two. Such a record *waits*: the sync keeps what Procore sent (so a person can see it and
//! a preview can plan it without a Procore request) until an administrator decides. A link is a
//! row of `links` like any other; importing anyway and ignoring are kept here, and the planner
//! reads them on every sync.

use crate::db::{int, parse_ts, text, ts};
use crate::links::insert_link_if_absent;
use crate::{CompanyId, Link, LinkKind, LinkOrigin, Result, Store, StoreError};
use chrono::{DateTime, Utc};
use sqlx::any::AnyRow;
use sqlx::AnyConnection;
use std::collections::BTreeMap;

/// Which kind of Procore record waits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum WaitingKind {
    /// A Procore project, against the workforce app's projects.
    Project,
    /// A Procore company user, against the workers.
    User,
}

impl WaitingKind {
    pub fn as_str(self) -> &'static str {
        match self {
            WaitingKind::Project => "project",
            WaitingKind::User => "user",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "project" => Some(WaitingKind::Project),
            "user" => Some(WaitingKind::User),
            _ => None,
        }
    }
}

/// A Procore record the workforce sync left for an administrator to decide about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WaitingRecord {
    pub company_id: CompanyId,
    pub kind: WaitingKind,
    pub procore_id: i64,
    /// The record as the planner read it (the sync's own input type, as JSON).
    pub record_json: String,
    /// Why it waits, as the planner's reason (JSON) and as a sentence.
    pub reason_json: String,
    pub reason: String,
    /// The last sync that left it waiting.
    pub seen_at: DateTime<Utc>,
}

/// What a workforce sync writes about waiting records, in the transaction of its changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WaitingChange {
    /// The record waits (again): kept with what Procore sent this time.
    Wait(WaitingRecord),
    /// The sync decided about the record (created, linked, updated, ignored, or left alone
    /// for a reason of Procore's): it no longer waits.
    Clear { kind: WaitingKind, procore_id: i64 },
}

/// What an administrator decided about a waiting record, besides linking it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WorkforceDecision {
    /// Create it in the app even though an app record has its number, name or email.
    Import,
    /// Never sync it.
    Ignore,
}

impl WorkforceDecision {
    pub fn as_str(self) -> &'static str {
        match self {
            WorkforceDecision::Import => "import",
            WorkforceDecision::Ignore => "ignore",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        match s {
            "import" => Some(WorkforceDecision::Import),
            "ignore" => Some(WorkforceDecision::Ignore),
            _ => None,
        }
    }
}

fn kind_of(row: &AnyRow) -> Result<WaitingKind> {
    let kind = text(row, "kind")?;
    WaitingKind::parse(&kind).ok_or(StoreError::Corrupt {
        what: "waiting record kind",
        detail: kind,
    })
}

fn waiting_from_row(row: &AnyRow) -> Result<WaitingRecord> {
    Ok(WaitingRecord {
        company_id: int(row, "company_id")?,
        kind: kind_of(row)?,
        procore_id: int(row, "procore_id")?,
        record_json: text(row, "record_json")?,
        reason_json: text(row, "reason_json")?,
        reason: text(row, "reason")?,
        seen_at: parse_ts("waiting record time", &text(row, "seen_at")?)?,
    })
}

const WAITING_COLUMNS: &str =
    "company_id, kind, procore_id, record_json, reason_json, reason, seen_at";

/// Writes a sync's [`WaitingChange`]s inside its transaction.
pub(crate) async fn apply_waiting_on(
    conn: &mut AnyConnection,
    company: CompanyId,
    changes: &[WaitingChange],
) -> Result<()> {
    for change in changes {
        match change {
            WaitingChange::Wait(w) => {
                sqlx::query(
                    "INSERT INTO workforce_waiting (company_id, kind, procore_id, record_json, reason_json, reason, seen_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (company_id, kind, procore_id) DO UPDATE SET \
                     record_json = excluded.record_json, reason_json = excluded.reason_json, \
                     reason = excluded.reason, seen_at = excluded.seen_at",
                )
                .bind(company)
                .bind(w.kind.as_str())
                .bind(w.procore_id)
                .bind(&w.record_json)
                .bind(&w.reason_json)
                .bind(&w.reason)
                .bind(ts(w.seen_at))
                .execute(&mut *conn)
                .await?;
            }
            WaitingChange::Clear { kind, procore_id } => {
                sqlx::query(
                    "DELETE FROM workforce_waiting WHERE company_id = $1 AND kind = $2 AND procore_id = $3",
                )
                .bind(company)
                .bind(kind.as_str())
                .bind(*procore_id)
                .execute(&mut *conn)
                .await?;
            }
        }
    }
    Ok(())
}

impl Store {
    /// The records waiting for a decision, oldest first.
    pub async fn waiting_records(&self, company: CompanyId) -> Result<Vec<WaitingRecord>> {
        let sql = format!(
            "SELECT {WAITING_COLUMNS} FROM workforce_waiting WHERE company_id = $1 \
             ORDER BY kind, procore_id"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(company)
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(waiting_from_row).collect()
    }

    /// One waiting record.
    pub async fn waiting_record(
        &self,
        company: CompanyId,
        kind: WaitingKind,
        procore_id: i64,
    ) -> Result<Option<WaitingRecord>> {
        let sql = format!(
            "SELECT {WAITING_COLUMNS} FROM workforce_waiting \
             WHERE company_id = $1 AND kind = $2 AND procore_id = $3"
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(company)
            .bind(kind.as_str())
            .bind(procore_id)
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(waiting_from_row).transpose()
    }

    /// Every import or ignore decision of the company.
    pub async fn workforce_decisions(
        &self,
        company: CompanyId,
    ) -> Result<BTreeMap<(WaitingKind, i64), WorkforceDecision>> {
        let rows = sqlx::query(
            "SELECT kind, procore_id, decision FROM workforce_decisions WHERE company_id = $1",
        )
        .bind(company)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|row| {
                let decision = text(row, "decision")?;
                let parsed = WorkforceDecision::parse(&decision).ok_or(StoreError::Corrupt {
                    what: "workforce decision",
                    detail: decision,
                })?;
                Ok(((kind_of(row)?, int(row, "procore_id")?), parsed))
            })
            .collect()
    }

    /// Records a decision about a waiting Procore record (replacing an earlier one); the
    /// record no longer waits.
    pub async fn decide_workforce(
        &self,
        company: CompanyId,
        kind: WaitingKind,
        procore_id: i64,
        decision: WorkforceDecision,
        at: DateTime<Utc>,
    ) -> Result<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO workforce_decisions (company_id, kind, procore_id, decision, decided_at) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (company_id, kind, procore_id) DO UPDATE SET \
             decision = excluded.decision, decided_at = excluded.decided_at",
        )
        .bind(company)
        .bind(kind.as_str())
        .bind(procore_id)
        .bind(decision.as_str())
        .bind(ts(at))
        .execute(&mut *tx)
        .await?;
        apply_waiting_on(
            &mut tx,
            company,
            &[WaitingChange::Clear { kind, procore_id }],
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Links a waiting Procore record to an existing app record (`local_id`), as an
    /// administrator's match: the record no longer waits, and an earlier import or ignore
    /// decision about it is forgotten.
    ///
    /// # Errors
    /// [`StoreError::Conflict`] when either side is already linked; nothing is written.
    pub async fn link_waiting(
        &self,
        company: CompanyId,
        kind: WaitingKind,
        procore_id: i64,
        local_id: i64,
    ) -> Result<()> {
        let link = Link {
            company_id: company,
            kind: match kind {
                WaitingKind::Project => LinkKind::Project,
                WaitingKind::User => LinkKind::Worker,
            },
            procore_id,
            local_id,
            local_key: String::new(),
            origin: LinkOrigin::LinkedManually,
            uploaded_revision: None,
        };
        let mut tx = self.begin_write().await?;
        if !insert_link_if_absent(&mut tx, &link).await? {
            return Err(StoreError::Conflict(format!(
                "Procore {} {procore_id} or app record {local_id} is already linked",
                kind.as_str()
            )));
        }
        sqlx::query(
            "DELETE FROM workforce_decisions WHERE company_id = $1 AND kind = $2 AND procore_id = $3",
        )
        .bind(company)
        .bind(kind.as_str())
        .bind(procore_id)
        .execute(&mut *tx)
        .await?;
        apply_waiting_on(
            &mut tx,
            company,
            &[WaitingChange::Clear { kind, procore_id }],
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}
