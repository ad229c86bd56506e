//! Connection settings per Procore company (secrets sealed), the Procore token blob, and sync
//! cursors.

use crate::db::{flag, int, now, text, unchanged};
use crate::models::{CompanyId, Connection};
use crate::{Result, Store};
use secrecy::{ExposeSecret, SecretString};
use sqlx::any::AnyRow;
use sqlx::AnyConnection;

/// Sealing contexts name the column and the company, so a sealed value moved to another row or
/// column does not open.
fn secret_context(company: CompanyId) -> String {
    format!("connections.client_secret:{company}")
}

fn tokens_context(company: CompanyId) -> String {
    format!("procore_tokens.tokens:{company}")
}

pub(crate) async fn set_cursor_on(
    conn: &mut AnyConnection,
    company: CompanyId,
    collection: &str,
    value: &str,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO sync_cursors (company_id, collection, value, updated_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (company_id, collection) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
    )
    .bind(company)
    .bind(collection)
    .bind(value)
    .bind(now())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

pub(crate) async fn remove_cursor_on(
    conn: &mut AnyConnection,
    company: CompanyId,
    collection: &str,
) -> Result<()> {
    sqlx::query("DELETE FROM sync_cursors WHERE company_id = $1 AND collection = $2")
        .bind(company)
        .bind(collection)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

impl Store {
    fn connection_from_row(&self, row: &AnyRow) -> Result<Connection> {
        let company_id = int(row, "company_id")?;
        let sealed = text(row, "client_secret_sealed")?;
        Ok(Connection {
            company_id,
            client_id: text(row, "client_id")?,
            client_secret: self
                .sealer()
                .open_secret(&secret_context(company_id), &sealed)?,
            sync_employees_only: flag(row, "sync_employees_only")?,
            auto_activate_workers: flag(row, "auto_activate_workers")?,
            sync_forms: flag(row, "sync_forms")?,
            forms_folder: text(row, "forms_folder")?,
        })
    }

    /// Saves a company's connection, replacing the one it had. The client secret is sealed.
    ///
    /// # Errors
    /// With `as_read` (the connection as its writer read it): [`crate::StoreError::Changed`] when its
    /// credentials or a setting changed since, [`crate::StoreError::NotFound`] when it was removed
    /// since (a disconnect is not undone by a change made before it); nothing is written.
    pub async fn save_connection(
        &self,
        c: &Connection,
        as_read: Option<&Connection>,
    ) -> Result<()> {
        let sealed = self
            .sealer()
            .seal_secret(&secret_context(c.company_id), &c.client_secret)?;
        let mut tx = self.begin_write().await?;
        if let Some(read) = as_read {
            let sql = format!(
                "SELECT client_id, client_secret_sealed, sync_employees_only, \
                 auto_activate_workers, sync_forms, forms_folder FROM connections \
                 WHERE company_id = $1{}",
                self.for_update()
            );
            let row = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(c.company_id)
                .fetch_optional(&mut *tx)
                .await?;
            let now = row
                .map(|r| -> Result<_> {
                    let secret = self.sealer().open_secret(
                        &secret_context(c.company_id),
                        &text(&r, "client_secret_sealed")?,
                    )?;
                    Ok((
                        text(&r, "client_id")?,
                        secret.expose_secret().to_owned(),
                        flag(&r, "sync_employees_only")?,
                        flag(&r, "auto_activate_workers")?,
                        flag(&r, "sync_forms")?,
                        text(&r, "forms_folder")?,
                    ))
                })
                .transpose()?;
            let read = (
                read.client_id.clone(),
                read.client_secret.expose_secret().to_owned(),
                read.sync_employees_only,
                read.auto_activate_workers,
                read.sync_forms,
                read.forms_folder.clone(),
            );
            unchanged(
                "the connection of company",
                &c.company_id.to_string(),
                now.as_ref(),
                Some(&read),
            )?;
        }
        sqlx::query(
            "INSERT INTO connections (company_id, client_id, client_secret_sealed, sync_employees_only, \
             auto_activate_workers, sync_forms, forms_folder, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) ON CONFLICT (company_id) DO UPDATE SET \
             client_id = excluded.client_id, client_secret_sealed = excluded.client_secret_sealed, \
             sync_employees_only = excluded.sync_employees_only, \
             auto_activate_workers = excluded.auto_activate_workers, sync_forms = excluded.sync_forms, \
             forms_folder = excluded.forms_folder, updated_at = excluded.updated_at",
        )
        .bind(c.company_id)
        .bind(&c.client_id)
        .bind(sealed)
        .bind(c.sync_employees_only)
        .bind(c.auto_activate_workers)
        .bind(c.sync_forms)
        .bind(&c.forms_folder)
        .bind(now())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// A company's connection, its secret opened.
    ///
    /// # Errors
    /// [`crate::CryptoError::WrongKey`] when the secret was sealed with another key.
    pub async fn connection(&self, company: CompanyId) -> Result<Option<Connection>> {
        let row = sqlx::query(
            "SELECT company_id, client_id, client_secret_sealed, sync_employees_only, auto_activate_workers, \
             sync_forms, forms_folder FROM connections WHERE company_id = $1",
        )
        .bind(company)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref()
            .map(|r| self.connection_from_row(r))
            .transpose()
    }

    /// Every connection, by company id.
    pub async fn connections(&self) -> Result<Vec<Connection>> {
        let rows = sqlx::query(
            "SELECT company_id, client_id, client_secret_sealed, sync_employees_only, auto_activate_workers, \
             sync_forms, forms_folder FROM connections ORDER BY company_id",
        )
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(|r| self.connection_from_row(r)).collect()
    }

    /// Removes a company's connection and its tokens; `true` when there was a connection.
    pub async fn delete_connection(&self, company: CompanyId) -> Result<bool> {
        let mut tx = self.begin_write().await?;
        sqlx::query("DELETE FROM procore_tokens WHERE company_id = $1")
            .bind(company)
            .execute(&mut *tx)
            .await?;
        let done = sqlx::query("DELETE FROM connections WHERE company_id = $1")
            .bind(company)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(done.rows_affected() > 0)
    }

    /// Saves the Procore client's token blob (opaque JSON) for a company, sealed, in ONE
    /// statement: a refresh that rotated the refresh token is either stored whole or not at all,
    /// never half-written.
    pub async fn save_tokens(&self, company: CompanyId, tokens_json: &SecretString) -> Result<()> {
        let sealed = self
            .sealer()
            .seal_secret(&tokens_context(company), tokens_json)?;
        sqlx::query(
            "INSERT INTO procore_tokens (company_id, tokens_sealed, updated_at) VALUES ($1, $2, $3) \
             ON CONFLICT (company_id) DO UPDATE SET tokens_sealed = excluded.tokens_sealed, \
             updated_at = excluded.updated_at",
        )
        .bind(company)
        .bind(sealed)
        .bind(now())
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// The company's token blob, if one was saved.
    ///
    /// # Errors
    /// [`crate::CryptoError::WrongKey`] when it was sealed with another key.
    pub async fn load_tokens(&self, company: CompanyId) -> Result<Option<SecretString>> {
        let sealed: Option<String> =
            sqlx::query_scalar("SELECT tokens_sealed FROM procore_tokens WHERE company_id = $1")
                .bind(company)
                .fetch_optional(self.pool())
                .await?;
        Ok(sealed
            .map(|s| self.sealer().open_secret(&tokens_context(company), &s))
            .transpose()?)
    }

    /// Forgets the company's tokens (disconnect, or a refresh token Procore revoked).
    pub async fn clear_tokens(&self, company: CompanyId) -> Result<()> {
        sqlx::query("DELETE FROM procore_tokens WHERE company_id = $1")
            .bind(company)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// The last `updated_at` seen in a collection, for incremental sync.
    pub async fn cursor(&self, company: CompanyId, collection: &str) -> Result<Option<String>> {
        Ok(sqlx::query_scalar(
            "SELECT value FROM sync_cursors WHERE company_id = $1 AND collection = $2",
        )
        .bind(company)
        .bind(collection)
        .fetch_optional(self.pool())
        .await?)
    }

    /// Sets a cursor outside an apply (an apply sets its cursors in its own transaction).
    pub async fn set_cursor(
        &self,
        company: CompanyId,
        collection: &str,
        value: &str,
    ) -> Result<()> {
        let mut conn = self.pool().acquire().await?;
        set_cursor_on(&mut conn, company, collection, value).await
    }
}
