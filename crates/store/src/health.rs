//! Each company's health, per aspect of its integration: what is wrong, and what a person does
//! about it. Workers set it as they meet problems and clear it when they pass; the UI and the
//! metrics read it, so a problem is shown where someone can fix it instead of only in a log.
//!
//! `since` says how long a problem has lasted: it is kept while an aspect stays in one state,
//! however often it is set again, and moves when the state changes.

use crate::db::{int, text, timestamp, ts};
use crate::models::CompanyId;
use crate::{Result, Store, StoreError};
use chrono::{DateTime, Utc};
use sqlx::any::AnyRow;

/// How bad an aspect is; ordered from best to worst, so the worst of a company's is its max.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum HealthState {
    Ok,
    /// Working, but not fully (a retry backlog, a permission missing for one project).
    Degraded,
    /// Not working until someone acts.
    Failing,
}

impl HealthState {
    pub const ALL: [HealthState; 3] =
        [HealthState::Ok, HealthState::Degraded, HealthState::Failing];

    /// The name stored in the `state` column.
    pub fn as_str(self) -> &'static str {
        match self {
            HealthState::Ok => "ok",
            HealthState::Degraded => "degraded",
            HealthState::Failing => "failing",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|h| h.as_str() == s)
    }
}

/// One aspect of one company's health.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HealthEntry {
    pub company_id: CompanyId,
    /// What part of the integration: `credentials`, `permissions`, `webhook`,
    /// `sync.workforce`, `sync.compliance`, `rate_limit`.
    pub aspect: String,
    pub state: HealthState,
    /// What is wrong, as a person reads it.
    pub problem: String,
    /// What fixes it.
    pub remedy: String,
    /// Since when the aspect has been in this state.
    pub since: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

fn entry_from_row(row: &AnyRow) -> Result<HealthEntry> {
    let state = text(row, "state")?;
    Ok(HealthEntry {
        company_id: int(row, "company_id")?,
        aspect: text(row, "aspect")?,
        state: HealthState::parse(&state).ok_or(StoreError::Corrupt {
            what: "health state",
            detail: state,
        })?,
        problem: text(row, "problem")?,
        remedy: text(row, "remedy")?,
        since: timestamp(row, "health time", "since")?,
        updated_at: timestamp(row, "health time", "updated_at")?,
    })
}

impl Store {
    /// Sets one aspect of a company's health at `now`. `since` stays when the state is the one
    /// stored; problem and remedy are replaced either way.
    pub async fn set_health(
        &self,
        company: CompanyId,
        aspect: &str,
        state: HealthState,
        problem: &str,
        remedy: &str,
        now: DateTime<Utc>,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO company_health (company_id, aspect, state, problem, remedy, since, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $6) ON CONFLICT (company_id, aspect) DO UPDATE SET \
             since = CASE WHEN company_health.state = excluded.state THEN company_health.since \
             ELSE excluded.since END, \
             state = excluded.state, problem = excluded.problem, remedy = excluded.remedy, \
             updated_at = excluded.updated_at",
        )
        .bind(company)
        .bind(aspect)
        .bind(state.as_str())
        .bind(problem)
        .bind(remedy)
        .bind(ts(now))
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Forgets one aspect of a company's health (the problem is gone, or the aspect no longer
    /// applies).
    pub async fn clear_health(&self, company: CompanyId, aspect: &str) -> Result<()> {
        sqlx::query("DELETE FROM company_health WHERE company_id = $1 AND aspect = $2")
            .bind(company)
            .bind(aspect)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// One company's health entries, or every company's with `None`, by company then aspect.
    pub async fn health(&self, company: Option<CompanyId>) -> Result<Vec<HealthEntry>> {
        let rows = match company {
            Some(company) => {
                sqlx::query(
                    "SELECT company_id, aspect, state, problem, remedy, since, updated_at FROM company_health \
                     WHERE company_id = $1 ORDER BY aspect",
                )
                .bind(company)
                .fetch_all(self.pool())
                .await?
            }
            None => {
                sqlx::query(
                    "SELECT company_id, aspect, state, problem, remedy, since, updated_at FROM company_health \
                     ORDER BY company_id, aspect",
                )
                .fetch_all(self.pool())
                .await?
            }
        };
        rows.iter().map(entry_from_row).collect()
    }
}
