//! The Procore mirror: the last known state of the Procore records an integration plans over.
//!
//! The compliance planner needs every project, company, contact and commitment each sync (an
//! association ends when no active commitment remains), but Procore should be asked only for
//! what changed. So a sync reads the changes, merges them into the mirror, plans over the
//! merged view, and saves the difference here with the cursors that go with it, in one
//! transaction: a mirror and its cursors never disagree, so a crash only means the next sync
//! reads the same changes again.
//!
//! Bodies are opaque JSON to the store; the `sync` crate owns their shape.

use crate::db::{int, opt_int, text};
use crate::models::{CompanyId, CursorUpdate};
use crate::{settings, Result, Store};

/// One mirrored Procore record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MirrorRow {
    /// What the record is, e.g. `project`, `vendor`, `contact`, `commitment`.
    pub kind: String,
    pub procore_id: i64,
    /// The record that holds this one (a commitment's project, a contact's company).
    pub scope: Option<i64>,
    /// The record as JSON.
    pub body: String,
}

/// A change to the mirror.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MirrorChange {
    /// Insert or replace the record with this kind and id.
    Put(MirrorRow),
    /// Forget the record (deleted in Procore, out of sight, or no longer followed).
    Remove { kind: String, procore_id: i64 },
}

/// The mirror's changes and the cursors that were read with them.
#[derive(Debug, Clone, Copy)]
pub struct MirrorUpdate<'a> {
    pub company_id: CompanyId,
    pub changes: &'a [MirrorChange],
    pub cursors: &'a [CursorUpdate],
    /// Cursors to forget, so their collections are read whole next time.
    pub forget_cursors: &'a [String],
}

impl Store {
    /// Every mirrored record of a company, in kind then id order.
    ///
    /// # Errors
    /// [`StoreError::Database`](crate::StoreError::Database).
    pub async fn mirror(&self, company: CompanyId) -> Result<Vec<MirrorRow>> {
        let rows = sqlx::query(
            "SELECT kind, procore_id, scope, body FROM procore_mirror WHERE company_id = $1 \
             ORDER BY kind, procore_id",
        )
        .bind(company)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(MirrorRow {
                    kind: text(r, "kind")?,
                    procore_id: int(r, "procore_id")?,
                    scope: opt_int(r, "scope")?,
                    body: text(r, "body")?,
                })
            })
            .collect()
    }

    /// Applies mirror changes and sets (or forgets) cursors in ONE transaction.
    ///
    /// # Errors
    /// [`StoreError::Database`](crate::StoreError::Database); nothing is written on error.
    pub async fn save_mirror(&self, update: &MirrorUpdate<'_>) -> Result<()> {
        let company = update.company_id;
        let mut tx = self.begin_write().await?;
        for change in update.changes {
            match change {
                MirrorChange::Put(row) => {
                    sqlx::query(
                        "INSERT INTO procore_mirror (company_id, kind, procore_id, scope, body) \
                         VALUES ($1, $2, $3, $4, $5) \
                         ON CONFLICT (company_id, kind, procore_id) \
                         DO UPDATE SET scope = excluded.scope, body = excluded.body",
                    )
                    .bind(company)
                    .bind(&row.kind)
                    .bind(row.procore_id)
                    .bind(row.scope)
                    .bind(&row.body)
                    .execute(&mut *tx)
                    .await?;
                }
                MirrorChange::Remove { kind, procore_id } => {
                    sqlx::query(
                        "DELETE FROM procore_mirror \
                         WHERE company_id = $1 AND kind = $2 AND procore_id = $3",
                    )
                    .bind(company)
                    .bind(kind)
                    .bind(*procore_id)
                    .execute(&mut *tx)
                    .await?;
                }
            }
        }
        for cursor in update.cursors {
            settings::set_cursor_on(&mut tx, company, &cursor.collection, &cursor.value).await?;
        }
        for collection in update.forget_cursors {
            settings::remove_cursor_on(&mut tx, company, collection).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Every cursor of a company whose collection name starts with `prefix`, as
    /// `(collection, value)`.
    ///
    /// # Errors
    /// [`StoreError::Database`](crate::StoreError::Database).
    pub async fn cursors_with_prefix(
        &self,
        company: CompanyId,
        prefix: &str,
    ) -> Result<Vec<(String, String)>> {
        // Filtered here: a LIKE pattern would need escaping, and text ranges follow the
        // database's collation.
        let rows = sqlx::query(
            "SELECT collection, value FROM sync_cursors WHERE company_id = $1 ORDER BY collection",
        )
        .bind(company)
        .fetch_all(self.pool())
        .await?;
        let mut out = Vec::new();
        for r in &rows {
            let collection = text(r, "collection")?;
            if collection.starts_with(prefix) {
                out.push((collection, text(r, "value")?));
            }
        }
        Ok(out)
    }
}
