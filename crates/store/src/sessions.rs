//! The web UI's sign-in sessions: a cookie that stands for an API token for a while. The store
//! keeps a hash of the cookie, never the cookie, for the same reason as with tokens; making the
//! cookie and its hash is the engine's.

use crate::db::{text, ts};
use crate::tokens::{token_from_row, ApiToken};
use crate::{Result, Store};
use chrono::{DateTime, Utc};

/// What a session's request is to its token: someone at work, or a page open on a screen
/// asking whether anything changed. Only the first is the token's use, so a tab left open
/// on a wall display does not keep an abandoned token looking alive in `trestle token list`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionRequest {
    Use,
    Poll,
}

/// A session to keep.
#[derive(Debug, Clone)]
pub struct NewUiSession<'a> {
    pub id_hash: &'a str,
    pub token_id: i64,
    pub csrf: &'a str,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

impl Store {
    /// Keeps a new session. Sessions that expired before `created_at` are dropped on the way,
    /// so the table holds only what can still sign someone in.
    pub async fn create_ui_session(&self, new: &NewUiSession<'_>) -> Result<()> {
        let mut tx = self.pool().begin().await?;
        sqlx::query("DELETE FROM ui_sessions WHERE expires_at <= $1")
            .bind(ts(new.created_at))
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO ui_sessions (id_hash, token_id, csrf, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(new.id_hash)
        .bind(new.token_id)
        .bind(new.csrf)
        .bind(ts(new.created_at))
        .bind(ts(new.expires_at))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The token a live session stands for, and the session's anti-forgery value; none once
    /// the session expired or ended or its token was revoked.
    pub async fn ui_session(
        &self,
        id_hash: &str,
        now: DateTime<Utc>,
        request: SessionRequest,
    ) -> Result<Option<(ApiToken, String)>> {
        let row = sqlx::query(
            "SELECT t.id, t.name, t.scope, t.company_id, t.worker_id, t.prefix, t.created_at, \
                    t.last_used_at, t.revoked_at, s.csrf \
             FROM ui_sessions s JOIN api_tokens t ON t.id = s.token_id \
             WHERE s.id_hash = $1 AND s.expires_at > $2 AND t.revoked_at IS NULL",
        )
        .bind(id_hash)
        .bind(ts(now))
        .fetch_optional(self.pool())
        .await?;
        let Some(row) = row else { return Ok(None) };
        let mut token = token_from_row(&row)?;
        // A session's requests are its token's use, as `trestle token list` shows it.
        if request == SessionRequest::Use {
            self.touch_api_token(&mut token, now).await?;
        }
        Ok(Some((token, text(&row, "csrf")?)))
    }

    /// Ends a session (signing out); nothing happens when there is none.
    pub async fn end_ui_session(&self, id_hash: &str) -> Result<()> {
        sqlx::query("DELETE FROM ui_sessions WHERE id_hash = $1")
            .bind(id_hash)
            .execute(self.pool())
            .await?;
        Ok(())
    }
}
