//! The REST API's tokens. The store keeps a hash of each token, never the token: whoever reads
//! the database (a backup, a support dump) cannot call the API with what they find. Making the
//! token and its hash is the engine's; the store finds a token by its hash and records its use.

use crate::db::{int, opt_int, opt_timestamp, text, timestamp, ts};
use crate::models::CompanyId;
use crate::{Result, Store, StoreError};
use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use sqlx::any::AnyRow;

/// What a token may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "scope", rename_all = "kebab-case")]
pub enum ApiScope {
    /// Everything, in every company.
    Admin,
    /// Every read, no change.
    ReadOnly,
    /// Filling and signing forms as one worker of one company (and reading the templates and
    /// projects that takes), nothing else.
    Worker {
        company_id: CompanyId,
        worker_id: i64,
    },
}

impl ApiScope {
    /// The name stored in the `scope` column, and the one people type.
    pub fn name(&self) -> &'static str {
        match self {
            ApiScope::Admin => "admin",
            ApiScope::ReadOnly => "read-only",
            ApiScope::Worker { .. } => "worker",
        }
    }
}

/// A token as trestle keeps it: everything but the token itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApiToken {
    pub id: i64,
    /// What the person who made it called it ("CI", "Maria's phone").
    pub name: String,
    #[serde(flatten)]
    pub scope: ApiScope,
    /// The token's first characters, to tell tokens apart in a list.
    pub prefix: String,
    pub created_at: DateTime<Utc>,
    /// When it last called the API (to the minute).
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// A token to keep: its hash, never the token.
#[derive(Debug, Clone)]
pub struct NewApiToken<'a> {
    pub name: &'a str,
    pub scope: ApiScope,
    pub prefix: &'a str,
    pub token_hash: &'a str,
    pub created_at: DateTime<Utc>,
}

/// The columns a token is read from (a macro, so queries stay literal strings).
macro_rules! columns {
    () => {
        "id, name, scope, company_id, worker_id, prefix, created_at, last_used_at, revoked_at"
    };
}

pub(crate) fn token_from_row(row: &AnyRow) -> Result<ApiToken> {
    let scope = text(row, "scope")?;
    let scope = match (
        scope.as_str(),
        opt_int(row, "company_id")?,
        opt_int(row, "worker_id")?,
    ) {
        ("admin", None, None) => ApiScope::Admin,
        ("read-only", None, None) => ApiScope::ReadOnly,
        ("worker", Some(company_id), Some(worker_id)) => ApiScope::Worker {
            company_id,
            worker_id,
        },
        _ => {
            return Err(StoreError::Corrupt {
                what: "API token scope",
                detail: scope,
            })
        }
    };
    Ok(ApiToken {
        id: int(row, "id")?,
        name: text(row, "name")?,
        scope,
        prefix: text(row, "prefix")?,
        created_at: timestamp(row, "API token time", "created_at")?,
        last_used_at: opt_timestamp(row, "API token time", "last_used_at")?,
        revoked_at: opt_timestamp(row, "API token time", "revoked_at")?,
    })
}

impl Store {
    /// Keeps a new token; returns it as listed.
    pub async fn create_api_token(&self, new: &NewApiToken<'_>) -> Result<ApiToken> {
        let (company, worker) = match new.scope {
            ApiScope::Worker {
                company_id,
                worker_id,
            } => (Some(company_id), Some(worker_id)),
            ApiScope::Admin | ApiScope::ReadOnly => (None, None),
        };
        let row = sqlx::query(concat!(
            "INSERT INTO api_tokens (name, scope, company_id, worker_id, prefix, token_hash, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING ",
            columns!()
        ))
        .bind(new.name)
        .bind(new.scope.name())
        .bind(company)
        .bind(worker)
        .bind(new.prefix)
        .bind(new.token_hash)
        .bind(ts(new.created_at))
        .fetch_one(self.pool())
        .await?;
        token_from_row(&row)
    }

    /// Every token, revoked ones included, oldest first.
    pub async fn api_tokens(&self) -> Result<Vec<ApiToken>> {
        sqlx::query(concat!(
            "SELECT ",
            columns!(),
            " FROM api_tokens ORDER BY id"
        ))
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(token_from_row)
        .collect()
    }

    /// Revokes a token at `now`; it answers no request after this returns.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] when there is no such token; [`StoreError::Conflict`] when it
    /// was revoked already.
    pub async fn revoke_api_token(&self, id: i64, now: DateTime<Utc>) -> Result<ApiToken> {
        let row = sqlx::query(concat!(
            "UPDATE api_tokens SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL RETURNING ",
            columns!()
        ))
        .bind(id)
        .bind(ts(now))
        .fetch_optional(self.pool())
        .await?;
        if let Some(row) = row {
            return token_from_row(&row);
        }
        let exists: Option<i64> = sqlx::query_scalar("SELECT id FROM api_tokens WHERE id = $1")
            .bind(id)
            .fetch_optional(self.pool())
            .await?;
        Err(match exists {
            None => StoreError::NotFound {
                what: "API token",
                id: id.to_string(),
            },
            Some(_) => StoreError::Conflict(format!("API token {id} is revoked already")),
        })
    }

    /// The token with this hash, unless it was revoked; records its use at `now`, at most once
    /// a minute so that a busy token does not turn every read into a write.
    pub async fn use_api_token(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<ApiToken>> {
        let row = sqlx::query(concat!(
            "SELECT ",
            columns!(),
            " FROM api_tokens WHERE token_hash = $1 AND revoked_at IS NULL"
        ))
        .bind(token_hash)
        .fetch_optional(self.pool())
        .await?;
        let Some(row) = row else { return Ok(None) };
        let mut token = token_from_row(&row)?;
        self.touch_api_token(&mut token, now).await?;
        Ok(Some(token))
    }

    /// Records that `token` was used at `now` (directly or through a UI session), at most
    /// once a minute: a busy token would otherwise write on every request.
    pub(crate) async fn touch_api_token(
        &self,
        token: &mut ApiToken,
        now: DateTime<Utc>,
    ) -> Result<()> {
        if token
            .last_used_at
            .is_none_or(|at| now - at >= Duration::minutes(1))
        {
            sqlx::query("UPDATE api_tokens SET last_used_at = $2 WHERE id = $1")
                .bind(token.id)
                .bind(ts(now))
                .execute(self.pool())
                .await?;
            token.last_used_at = Some(now);
        }
        Ok(())
    }
}
