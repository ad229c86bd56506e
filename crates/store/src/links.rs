//! Links: which Procore record each local record is joined to, per company and kind.

use crate::db::{int, now, revision, text};
use crate::models::{CompanyId, Link, LinkKind, LinkOrigin};
use crate::{Result, Store, StoreError};
use sqlx::any::AnyRow;
use sqlx::AnyConnection;
use std::collections::BTreeMap;

fn link_from_row(row: &AnyRow) -> Result<Link> {
    let kind = text(row, "kind")?;
    let origin = text(row, "origin")?;
    Ok(Link {
        company_id: int(row, "company_id")?,
        kind: LinkKind::parse(&kind).ok_or(StoreError::Corrupt {
            what: "link kind",
            detail: kind,
        })?,
        procore_id: int(row, "procore_id")?,
        local_id: int(row, "local_id")?,
        local_key: text(row, "local_key")?,
        origin: LinkOrigin::parse(&origin).ok_or(StoreError::Corrupt {
            what: "link origin",
            detail: origin,
        })?,
        uploaded_revision: revision(row, "uploaded revision", "uploaded_revision")?,
    })
}

/// Inserts a link unless its Procore side is already linked; `false` when it was.
///
/// A local side that is already linked to another Procore record is a
/// [`StoreError::Conflict`]: that is a decision for a person, not something to skip.
pub(crate) async fn insert_link_if_absent(conn: &mut AnyConnection, link: &Link) -> Result<bool> {
    let at = now();
    let done = sqlx::query(
        "INSERT INTO links (company_id, kind, procore_id, local_id, local_key, origin, uploaded_revision, \
         created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) \
         ON CONFLICT (company_id, kind, procore_id) DO NOTHING",
    )
    .bind(link.company_id)
    .bind(link.kind.as_str())
    .bind(link.procore_id)
    .bind(link.local_id)
    .bind(&link.local_key)
    .bind(link.origin.as_str())
    .bind(link.uploaded_revision.map(i64::from))
    .bind(at)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Creates a local record for a Procore record unless one is linked already, and links it.
///
/// `insert` inserts the record and returns its id. When another apply linked that Procore id
/// in between (two processes on one PostgreSQL), the spare row is deleted with `delete_spare`
/// (`DELETE FROM <table> WHERE id = $1`) and the winner's id returned: either way exactly one
/// local record is linked.
pub(crate) async fn create_linked(
    conn: &mut AnyConnection,
    company: CompanyId,
    kind: LinkKind,
    delete_spare: &'static str,
    procore_id: i64,
    insert: impl AsyncFnOnce(&mut AnyConnection) -> Result<i64>,
) -> Result<i64> {
    if let Some(id) = linked_local_id(conn, company, kind, procore_id).await? {
        return Ok(id);
    }
    let new_id = insert(conn).await?;
    let link = Link::new(
        company,
        kind,
        procore_id,
        new_id,
        LinkOrigin::CreatedFromProcore,
    );
    if insert_link_if_absent(conn, &link).await? {
        return Ok(new_id);
    }
    sqlx::query(delete_spare)
        .bind(new_id)
        .execute(&mut *conn)
        .await?;
    linked_local_id(conn, company, kind, procore_id)
        .await?
        .ok_or_else(|| {
            StoreError::Conflict(format!(
                "Procore {} {procore_id} could not be linked: its local side is already linked elsewhere",
                kind.as_str()
            ))
        })
}

pub(crate) async fn linked_local_id(
    conn: &mut AnyConnection,
    company: CompanyId,
    kind: LinkKind,
    procore_id: i64,
) -> Result<Option<i64>> {
    Ok(sqlx::query_scalar(
        "SELECT local_id FROM links WHERE company_id = $1 AND kind = $2 AND procore_id = $3",
    )
    .bind(company)
    .bind(kind.as_str())
    .bind(procore_id)
    .fetch_optional(&mut *conn)
    .await?)
}

/// Procore id to local id for every link of one kind, on a connection (the import reads them in
/// its transaction).
pub(crate) async fn links_on(
    conn: &mut AnyConnection,
    company: CompanyId,
    kind: LinkKind,
) -> Result<BTreeMap<i64, i64>> {
    let rows =
        sqlx::query("SELECT procore_id, local_id FROM links WHERE company_id = $1 AND kind = $2")
            .bind(company)
            .bind(kind.as_str())
            .fetch_all(&mut *conn)
            .await?;
    rows.iter()
        .map(|r| Ok((int(r, "procore_id")?, int(r, "local_id")?)))
        .collect()
}

impl Store {
    /// Procore id to local id for every link of one kind: what the planner's `LocalWorkforce`
    /// needs (`project_links`, `worker_links`).
    pub async fn links(&self, company: CompanyId, kind: LinkKind) -> Result<BTreeMap<i64, i64>> {
        let mut conn = self.pool().acquire().await?;
        links_on(&mut conn, company, kind).await
    }

    /// Every link of one kind, in full.
    pub async fn link_records(&self, company: CompanyId, kind: LinkKind) -> Result<Vec<Link>> {
        let rows = sqlx::query(
            "SELECT company_id, kind, procore_id, local_id, local_key, origin, uploaded_revision FROM links \
             WHERE company_id = $1 AND kind = $2 ORDER BY procore_id",
        )
        .bind(company)
        .bind(kind.as_str())
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(link_from_row).collect()
    }

    /// The link of a Procore record.
    pub async fn link(
        &self,
        company: CompanyId,
        kind: LinkKind,
        procore_id: i64,
    ) -> Result<Option<Link>> {
        let row = sqlx::query(
            "SELECT company_id, kind, procore_id, local_id, local_key, origin, uploaded_revision FROM links \
             WHERE company_id = $1 AND kind = $2 AND procore_id = $3",
        )
        .bind(company)
        .bind(kind.as_str())
        .bind(procore_id)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(link_from_row).transpose()
    }

    /// The link of a local record (with an empty local key).
    pub async fn link_by_local(
        &self,
        company: CompanyId,
        kind: LinkKind,
        local_id: i64,
    ) -> Result<Option<Link>> {
        self.link_by_local_key(company, kind, local_id, "").await
    }

    /// The month folder recorded for a project and a month (`YYYY-MM`).
    pub async fn month_folder(
        &self,
        company: CompanyId,
        project_id: i64,
        month: &str,
    ) -> Result<Option<Link>> {
        self.link_by_local_key(company, LinkKind::MonthFolder, project_id, month)
            .await
    }

    async fn link_by_local_key(
        &self,
        company: CompanyId,
        kind: LinkKind,
        local_id: i64,
        local_key: &str,
    ) -> Result<Option<Link>> {
        let row = sqlx::query(
            "SELECT company_id, kind, procore_id, local_id, local_key, origin, uploaded_revision FROM links \
             WHERE company_id = $1 AND kind = $2 AND local_id = $3 AND local_key = $4",
        )
        .bind(company)
        .bind(kind.as_str())
        .bind(local_id)
        .bind(local_key)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(link_from_row).transpose()
    }

    /// Records a link: a manual match made by an administrator, or a folder trestle found or
    /// created in Procore.
    ///
    /// # Errors
    /// [`StoreError::Conflict`] when either side is already linked.
    pub async fn save_link(&self, link: &Link) -> Result<()> {
        let mut tx = self.begin_write().await?;
        if !insert_link_if_absent(&mut tx, link).await? {
            return Err(StoreError::Conflict(format!(
                "Procore {} {} is already linked",
                link.kind.as_str(),
                link.procore_id
            )));
        }
        tx.commit().await?;
        Ok(())
    }

    /// Removes the link of a Procore record; `true` when there was one.
    pub async fn unlink(
        &self,
        company: CompanyId,
        kind: LinkKind,
        procore_id: i64,
    ) -> Result<bool> {
        let done = sqlx::query(
            "DELETE FROM links WHERE company_id = $1 AND kind = $2 AND procore_id = $3",
        )
        .bind(company)
        .bind(kind.as_str())
        .bind(procore_id)
        .execute(self.pool())
        .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Records that Procore file `procore_file_id` holds `revision` of a submission: the
    /// [`LinkKind::FormDocument`] link is created or moved forward. Each new revision is a new
    /// version of the same Procore file, so the file id normally stays the same.
    ///
    /// # Errors
    /// [`StoreError::Conflict`] when that file is linked to another submission.
    pub async fn record_form_upload(
        &self,
        company: CompanyId,
        submission_id: i64,
        procore_file_id: i64,
        revision: u32,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO links (company_id, kind, procore_id, local_id, local_key, origin, uploaded_revision, \
             created_at, updated_at) VALUES ($1, $2, $3, $4, '', $5, $6, $7, $7) \
             ON CONFLICT (company_id, kind, local_id, local_key) DO UPDATE \
             SET procore_id = excluded.procore_id, uploaded_revision = excluded.uploaded_revision, \
             updated_at = excluded.updated_at",
        )
        .bind(company)
        .bind(LinkKind::FormDocument.as_str())
        .bind(procore_file_id)
        .bind(submission_id)
        .bind(LinkOrigin::CreatedInProcore.as_str())
        .bind(i64::from(revision))
        .bind(now())
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// The revision of a submission that Procore holds, if any was uploaded.
    pub async fn uploaded_revision(
        &self,
        company: CompanyId,
        submission_id: i64,
    ) -> Result<Option<u32>> {
        Ok(self
            .link_by_local(company, LinkKind::FormDocument, submission_id)
            .await?
            .and_then(|l| l.uploaded_revision))
    }
}
