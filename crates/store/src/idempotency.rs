//! The REST API's idempotency keys: the first answer to a POST, kept under the key its caller
//! sent, so the same POST sent again gets that answer and nothing is done twice. Answers are
//! sealed like the other secrets: one of them is a new API token, shown once.

use crate::db::{opt_int, opt_text, text, ts};
use crate::{Result, Store};
use chrono::{DateTime, Duration, Utc};

/// How long a key is remembered: a client retries within minutes, and a day is what Stripe
/// keeps.
pub const IDEMPOTENCY_KEPT: Duration = Duration::hours(24);

/// What the store knows of a key when a request arrives with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyClaim {
    /// The first request with this key: it is this one's to answer.
    First,
    /// The key's first request was answered so; answer the same.
    Answered {
        status: u16,
        content_type: Option<String>,
        body: String,
    },
    /// The key's first request is still running.
    InFlight,
    /// The key was used for a different request.
    OtherRequest,
}

impl Store {
    /// Claims `key` of `scope` for a request with `fingerprint` at `now`, or says what became
    /// of the key's first request. A key older than [`IDEMPOTENCY_KEPT`] is forgotten first.
    pub async fn claim_idempotency_key(
        &self,
        scope: &str,
        key: &str,
        fingerprint: &str,
        now: DateTime<Utc>,
    ) -> Result<KeyClaim> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "DELETE FROM idempotency_keys WHERE scope = $1 AND idem_key = $2 AND created_at < $3",
        )
        .bind(scope)
        .bind(key)
        .bind(ts(now - IDEMPOTENCY_KEPT))
        .execute(&mut *tx)
        .await?;
        let inserted = sqlx::query(
            "INSERT INTO idempotency_keys (scope, idem_key, fingerprint, created_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (scope, idem_key) DO NOTHING",
        )
        .bind(scope)
        .bind(key)
        .bind(fingerprint)
        .bind(ts(now))
        .execute(&mut *tx)
        .await?
        .rows_affected();
        let claim = if inserted == 1 {
            KeyClaim::First
        } else {
            let row = sqlx::query(
                "SELECT fingerprint, status, content_type, body FROM idempotency_keys \
                 WHERE scope = $1 AND idem_key = $2",
            )
            .bind(scope)
            .bind(key)
            .fetch_one(&mut *tx)
            .await?;
            if text(&row, "fingerprint")? != fingerprint {
                KeyClaim::OtherRequest
            } else {
                match opt_int(&row, "status")? {
                    None => KeyClaim::InFlight,
                    Some(status) => KeyClaim::Answered {
                        status: u16::try_from(status).unwrap_or(500),
                        content_type: opt_text(&row, "content_type")?,
                        body: match opt_text(&row, "body")? {
                            Some(sealed) => {
                                let bytes = self.sealer().open(&context(scope, key), &sealed)?;
                                String::from_utf8_lossy(&bytes).into_owned()
                            }
                            None => String::new(),
                        },
                    },
                }
            }
        };
        tx.commit().await?;
        Ok(claim)
    }

    /// Keeps the answer to the request that claimed `key`.
    pub async fn answer_idempotency_key(
        &self,
        scope: &str,
        key: &str,
        status: u16,
        content_type: Option<&str>,
        body: &str,
    ) -> Result<()> {
        let sealed = self.sealer().seal(&context(scope, key), body.as_bytes())?;
        sqlx::query(
            "UPDATE idempotency_keys SET status = $3, content_type = $4, body = $5 \
             WHERE scope = $1 AND idem_key = $2",
        )
        .bind(scope)
        .bind(key)
        .bind(i64::from(status))
        .bind(content_type)
        .bind(sealed)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Forgets the keys claimed before `before` (a day ago: [`IDEMPOTENCY_KEPT`]), so the
    /// answers kept under them, a new token's secret among them, do not stay; returns how
    /// many.
    pub async fn prune_idempotency_keys(&self, before: DateTime<Utc>) -> Result<u64> {
        let done = sqlx::query("DELETE FROM idempotency_keys WHERE created_at < $1")
            .bind(ts(before))
            .execute(self.pool())
            .await?;
        Ok(done.rows_affected())
    }

    /// Forgets a key whose request had no answer worth keeping (it failed on trestle's side),
    /// so the caller may send it again.
    pub async fn release_idempotency_key(&self, scope: &str, key: &str) -> Result<()> {
        sqlx::query("DELETE FROM idempotency_keys WHERE scope = $1 AND idem_key = $2")
            .bind(scope)
            .bind(key)
            .execute(self.pool())
            .await?;
        Ok(())
    }
}

/// Where a kept answer lives, bound into its seal: an answer moved under another key does
/// not open.
fn context(scope: &str, key: &str) -> String {
    format!("idempotency_keys {scope} {key}")
}
