//! The Procore webhook hook trestle registered for each company: where Procore sends
//! deliveries, the triggers asked for, and the secret deliveries are signed with, sealed at rest
//! like the client secret. The server keeps it to check the hook is still there and to verify
//! signatures without asking Procore.

use crate::db::{now, opt_int, opt_timestamp, text, ts};
use crate::models::CompanyId;
use crate::{Result, Store};
use chrono::{DateTime, Utc};
use secrecy::SecretString;

/// A company's registered hook. `Debug` shows the secret as `[REDACTED]`.
#[derive(Debug, Clone)]
pub struct HookRecord {
    pub company_id: CompanyId,
    /// Procore's id of the hook; `None` until Procore created it.
    pub hook_id: Option<i64>,
    pub destination_url: String,
    /// What deliveries are signed with.
    pub secret: SecretString,
    /// The triggers registered, as JSON.
    pub triggers_json: String,
    /// When the hook was last seen in Procore as recorded.
    pub checked_at: Option<DateTime<Utc>>,
}

/// The sealing context names the column and the company, so a sealed secret moved to another
/// row does not open.
fn secret_context(company: CompanyId) -> String {
    format!("hook_records.secret:{company}")
}

impl Store {
    /// The company's hook record, its secret opened.
    ///
    /// # Errors
    /// [`crate::CryptoError::WrongKey`] when the secret was sealed with another key.
    pub async fn hook_record(&self, company: CompanyId) -> Result<Option<HookRecord>> {
        let row = sqlx::query(
            "SELECT hook_id, destination_url, secret_sealed, triggers_json, checked_at FROM hook_records \
             WHERE company_id = $1",
        )
        .bind(company)
        .fetch_optional(self.pool())
        .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        Ok(Some(HookRecord {
            company_id: company,
            hook_id: opt_int(&row, "hook_id")?,
            destination_url: text(&row, "destination_url")?,
            secret: self
                .sealer()
                .open_secret(&secret_context(company), &text(&row, "secret_sealed")?)?,
            triggers_json: text(&row, "triggers_json")?,
            checked_at: opt_timestamp(&row, "hook time", "checked_at")?,
        }))
    }

    /// Saves the company's hook record, replacing the one it had; the secret is sealed.
    pub async fn save_hook_record(&self, hook: &HookRecord) -> Result<()> {
        let sealed = self
            .sealer()
            .seal_secret(&secret_context(hook.company_id), &hook.secret)?;
        sqlx::query(
            "INSERT INTO hook_records (company_id, hook_id, destination_url, secret_sealed, triggers_json, \
             checked_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (company_id) DO UPDATE SET \
             hook_id = excluded.hook_id, destination_url = excluded.destination_url, \
             secret_sealed = excluded.secret_sealed, triggers_json = excluded.triggers_json, \
             checked_at = excluded.checked_at, updated_at = excluded.updated_at",
        )
        .bind(hook.company_id)
        .bind(hook.hook_id)
        .bind(&hook.destination_url)
        .bind(sealed)
        .bind(&hook.triggers_json)
        .bind(hook.checked_at.map(ts))
        .bind(now())
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Forgets the company's hook record (the hook was removed from Procore, or the company
    /// disconnected). Nothing to forget is not an error.
    pub async fn delete_hook_record(&self, company: CompanyId) -> Result<()> {
        sqlx::query("DELETE FROM hook_records WHERE company_id = $1")
            .bind(company)
            .execute(self.pool())
            .await?;
        Ok(())
    }
}
