//! Projects and workers, and the one-transaction apply of a workforce plan.

use crate::db::{flag, int, now, opt_text, text};
use crate::links::create_linked;
use crate::models::{CompanyId, LinkKind, WorkforceBatch, WorkforceChange};
use crate::{outbox, runlog, settings, Result, Store, StoreError};
use domain::workforce::{Activation, Project, ProjectFields, ProjectStatus, Worker, WorkerFields};
use sqlx::any::AnyRow;
use sqlx::AnyConnection;

pub(crate) fn activation_str(a: Activation) -> &'static str {
    match a {
        Activation::PendingAccountActivation => "PendingAccountActivation",
        Activation::PendingEmailVerification => "PendingEmailVerification",
        Activation::Active => "Active",
        Activation::ActiveForKiosk => "ActiveForKiosk",
    }
}

fn parse_activation(s: &str) -> Result<Activation> {
    Ok(match s {
        "PendingAccountActivation" => Activation::PendingAccountActivation,
        "PendingEmailVerification" => Activation::PendingEmailVerification,
        "Active" => Activation::Active,
        "ActiveForKiosk" => Activation::ActiveForKiosk,
        other => {
            return Err(StoreError::Corrupt {
                what: "worker activation",
                detail: other.into(),
            });
        }
    })
}

fn project_from_row(row: &AnyRow) -> Result<Project> {
    let status = text(row, "status")?;
    Ok(Project {
        id: int(row, "id")?,
        fields: ProjectFields {
            name: text(row, "name")?,
            project_number: opt_text(row, "project_number")?,
            private_description: opt_text(row, "private_description")?,
            public_info: opt_text(row, "public_info")?,
            street_address: opt_text(row, "street_address")?,
            city: opt_text(row, "city")?,
            state: opt_text(row, "state")?,
            zip: opt_text(row, "zip")?,
            country: opt_text(row, "country")?,
        },
        status: ProjectStatus::parse(&status).ok_or(StoreError::Corrupt {
            what: "project status",
            detail: status,
        })?,
    })
}

fn worker_from_row(row: &AnyRow) -> Result<Worker> {
    Ok(Worker {
        id: int(row, "id")?,
        fields: WorkerFields {
            first_name: text(row, "first_name")?,
            last_name: text(row, "last_name")?,
            phone: opt_text(row, "phone")?,
            employee_number: opt_text(row, "employee_number")?,
            email: opt_text(row, "email")?,
        },
        activation: parse_activation(&text(row, "activation")?)?,
        blocked: flag(row, "blocked")?,
    })
}

async fn insert_project(
    conn: &mut AnyConnection,
    company: CompanyId,
    f: &ProjectFields,
    status: ProjectStatus,
) -> Result<i64> {
    let at = now();
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO projects (company_id, name, project_number, private_description, public_info, \
         street_address, city, state, zip, country, status, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12) RETURNING id",
    )
    .bind(company)
    .bind(&f.name)
    .bind(&f.project_number)
    .bind(&f.private_description)
    .bind(&f.public_info)
    .bind(&f.street_address)
    .bind(&f.city)
    .bind(&f.state)
    .bind(&f.zip)
    .bind(&f.country)
    .bind(status.as_str())
    .bind(at)
    .fetch_one(&mut *conn)
    .await?;
    Ok(id)
}

async fn update_project(
    conn: &mut AnyConnection,
    company: CompanyId,
    id: i64,
    f: &ProjectFields,
    status: ProjectStatus,
) -> Result<()> {
    let done = sqlx::query(
        "UPDATE projects SET name = $3, project_number = $4, private_description = $5, public_info = $6, \
         street_address = $7, city = $8, state = $9, zip = $10, country = $11, status = $12, updated_at = $13 \
         WHERE id = $1 AND company_id = $2",
    )
    .bind(id)
    .bind(company)
    .bind(&f.name)
    .bind(&f.project_number)
    .bind(&f.private_description)
    .bind(&f.public_info)
    .bind(&f.street_address)
    .bind(&f.city)
    .bind(&f.state)
    .bind(&f.zip)
    .bind(&f.country)
    .bind(status.as_str())
    .bind(now())
    .execute(&mut *conn)
    .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound {
            what: "project",
            id: format!("{id} of company {company}"),
        });
    }
    Ok(())
}

async fn insert_worker(
    conn: &mut AnyConnection,
    company: CompanyId,
    f: &WorkerFields,
    activation: Activation,
    blocked: bool,
) -> Result<i64> {
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO workers (company_id, first_name, last_name, phone, employee_number, email, \
         activation, blocked, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9) RETURNING id",
    )
    .bind(company)
    .bind(&f.first_name)
    .bind(&f.last_name)
    .bind(&f.phone)
    .bind(&f.employee_number)
    .bind(&f.email)
    .bind(activation_str(activation))
    .bind(blocked)
    .bind(now())
    .fetch_one(&mut *conn)
    .await?;
    Ok(id)
}

async fn update_worker(
    conn: &mut AnyConnection,
    company: CompanyId,
    id: i64,
    f: &WorkerFields,
    blocked: bool,
) -> Result<()> {
    let done = sqlx::query(
        "UPDATE workers SET first_name = $3, last_name = $4, phone = $5, employee_number = $6, email = $7, \
         blocked = CASE WHEN blocked_by_admin THEN TRUE ELSE $8 END, updated_at = $9 \
         WHERE id = $1 AND company_id = $2",
    )
    .bind(id)
    .bind(company)
    .bind(&f.first_name)
    .bind(&f.last_name)
    .bind(&f.phone)
    .bind(&f.employee_number)
    .bind(&f.email)
    .bind(blocked)
    .bind(now())
    .execute(&mut *conn)
    .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound {
            what: "worker",
            id: format!("{id} of company {company}"),
        });
    }
    Ok(())
}

impl Store {
    /// Creates a project that exists before any sync (seeded by the CLI, the demo, or a user).
    ///
    /// # Errors
    /// [`StoreError::Database`].
    pub async fn create_project(
        &self,
        company: CompanyId,
        fields: &ProjectFields,
        status: ProjectStatus,
    ) -> Result<i64> {
        let mut tx = self.begin_write().await?;
        let id = insert_project(&mut tx, company, fields, status).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Creates a worker that exists before any sync.
    ///
    /// # Errors
    /// [`StoreError::Database`].
    pub async fn create_worker(
        &self,
        company: CompanyId,
        fields: &WorkerFields,
        activation: Activation,
        blocked: bool,
    ) -> Result<i64> {
        let mut tx = self.begin_write().await?;
        let id = insert_worker(&mut tx, company, fields, activation, blocked).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// The company's projects, by id.
    pub async fn projects(&self, company: CompanyId) -> Result<Vec<Project>> {
        let rows = sqlx::query(
            "SELECT id, name, project_number, private_description, public_info, street_address, \
             city, state, zip, country, status FROM projects WHERE company_id = $1 ORDER BY id",
        )
        .bind(company)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(project_from_row).collect()
    }

    /// One of the company's projects; another company's project reads as absent, so an id from
    /// a request can never reach across companies.
    pub async fn project(&self, company: CompanyId, id: i64) -> Result<Option<Project>> {
        let row = sqlx::query(
            "SELECT id, name, project_number, private_description, public_info, street_address, \
             city, state, zip, country, status FROM projects WHERE id = $1 AND company_id = $2",
        )
        .bind(id)
        .bind(company)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(project_from_row).transpose()
    }

    /// The company's workers, by id.
    pub async fn workers(&self, company: CompanyId) -> Result<Vec<Worker>> {
        let rows = sqlx::query(
            "SELECT id, first_name, last_name, phone, employee_number, email, activation, blocked \
             FROM workers WHERE company_id = $1 ORDER BY id",
        )
        .bind(company)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(worker_from_row).collect()
    }

    /// One of the company's workers; another company's worker reads as absent.
    pub async fn worker(&self, company: CompanyId, id: i64) -> Result<Option<Worker>> {
        let row = sqlx::query(
            "SELECT id, first_name, last_name, phone, employee_number, email, activation, blocked \
             FROM workers WHERE id = $1 AND company_id = $2",
        )
        .bind(id)
        .bind(company)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(worker_from_row).transpose()
    }

    /// Applies a workforce plan in ONE transaction: the local changes, their links, the outbox
    /// items, the cursors and the run-log entries are all written, or none is.
    ///
    /// Returns `(index in batch.changes, local id)` for every create. A create whose Procore id
    /// is already linked writes nothing and returns the linked id, so re-applying a plan after a
    /// crash (or two processes applying the same plan) never duplicates a record. Log entries
    /// whose `change` names a create get that create's local id.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] when an update names a record the company does not have;
    /// [`StoreError::Conflict`]; [`StoreError::Database`]. Nothing is written on error.
    pub async fn apply_workforce(&self, batch: &WorkforceBatch<'_>) -> Result<Vec<(usize, i64)>> {
        let company = batch.company_id;
        let mut tx = self.begin_write().await?;
        let mut created = Vec::new();
        for (index, change) in batch.changes.iter().enumerate() {
            match change {
                WorkforceChange::CreateProject {
                    procore_id,
                    fields,
                    status,
                } => {
                    let id = create_linked(
                        &mut tx,
                        company,
                        LinkKind::Project,
                        "DELETE FROM projects WHERE id = $1",
                        *procore_id,
                        async |conn| insert_project(conn, company, fields, *status).await,
                    )
                    .await?;
                    created.push((index, id));
                }
                WorkforceChange::UpdateProject {
                    project_id,
                    fields,
                    status,
                } => {
                    update_project(&mut tx, company, *project_id, fields, *status).await?;
                }
                WorkforceChange::CreateWorker {
                    procore_id,
                    fields,
                    activation,
                } => {
                    let id = create_linked(
                        &mut tx,
                        company,
                        LinkKind::Worker,
                        "DELETE FROM workers WHERE id = $1",
                        *procore_id,
                        async |conn| insert_worker(conn, company, fields, *activation, false).await,
                    )
                    .await?;
                    created.push((index, id));
                }
                WorkforceChange::UpdateWorker {
                    worker_id,
                    fields,
                    blocked,
                } => {
                    update_worker(&mut tx, company, *worker_id, fields, *blocked).await?;
                }
            }
        }
        for item in batch.outbox {
            outbox::enqueue_on(&mut tx, item).await?;
        }
        for cursor in batch.cursors {
            settings::set_cursor_on(&mut tx, company, &cursor.collection, &cursor.value).await?;
        }
        crate::decisions::apply_waiting_on(&mut tx, company, batch.waiting).await?;
        if let Some(run) = batch.run {
            runlog::record_on(&mut tx, run, batch.log, &created).await?;
        }
        tx.commit().await?;
        Ok(created)
    }
}

/// A worker as an administrator sees it: the app's record, whether an administrator blocked
/// it, the Procore user it is linked to, and its version (what `If-Match` compares).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkerRecord {
    pub worker: Worker,
    /// Blocked by an administrator: no sync unblocks it.
    pub blocked_by_admin: bool,
    pub procore_user_id: Option<i64>,
    /// Changes with every write to the worker.
    pub version: String,
}

/// Which workers to list, a page at a time, by id.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WorkerQuery {
    pub status: Option<domain::workforce::WorkerStatus>,
    /// Part of the name or email, any case, or the whole employee number.
    pub search: Option<String>,
    /// Only workers with a greater id: the next page.
    pub after: Option<i64>,
    pub limit: u32,
}

/// What an administrator changes about a worker's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WorkerState {
    pub activation: Activation,
    pub blocked: bool,
    pub blocked_by_admin: bool,
}

/// The outcome of a write that names the version it expects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Versioned<T> {
    Done(T),
    /// Changed since that version: nothing was written; the record as it is now.
    Stale(T),
    Missing,
}

/// The link is a subquery, one index probe per row, rather than a join: on PostgreSQL a join
/// planned on stale statistics (right after a bulk sync) probed every link for every worker.
const WORKER_RECORD_SQL: &str =
    "SELECT w.id, w.first_name, w.last_name, w.phone, w.employee_number, \
     w.email, w.activation, w.blocked, w.blocked_by_admin, w.updated_at, \
     (SELECT l.procore_id FROM links l WHERE l.company_id = w.company_id AND l.kind = 'worker' \
     AND l.local_id = w.id AND l.local_key = '') AS procore_id FROM workers w";

fn worker_record_from_row(row: &AnyRow) -> Result<WorkerRecord> {
    Ok(WorkerRecord {
        worker: worker_from_row(row)?,
        blocked_by_admin: flag(row, "blocked_by_admin")?,
        procore_user_id: crate::db::opt_int(row, "procore_id")?,
        version: text(row, "updated_at")?,
    })
}

impl Store {
    /// A page of the company's workers, by id, filtered.
    pub async fn worker_page(
        &self,
        company: CompanyId,
        query: &WorkerQuery,
    ) -> Result<Vec<WorkerRecord>> {
        use domain::workforce::WorkerStatus;
        let mut sql = format!("{WORKER_RECORD_SQL} WHERE w.company_id = $1 AND w.id > $2");
        let mut n = 2;
        let mut next = |sql: &mut String, clause: &str| {
            n += 1;
            sql.push_str(&clause.replace('?', &format!("${n}")));
        };
        let activation = match query.status {
            None => None,
            Some(WorkerStatus::Blocked) => {
                next(&mut sql, " AND w.blocked = ?");
                None
            }
            Some(s) => {
                next(&mut sql, " AND w.blocked = ?");
                next(&mut sql, " AND w.activation = ?");
                Some(match s {
                    WorkerStatus::PendingAccountActivation => Activation::PendingAccountActivation,
                    WorkerStatus::PendingEmailVerification => Activation::PendingEmailVerification,
                    WorkerStatus::Active => Activation::Active,
                    WorkerStatus::ActiveForKiosk | WorkerStatus::Blocked => {
                        Activation::ActiveForKiosk
                    }
                })
            }
        };
        let search = query
            .search
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty());
        if search.is_some() {
            n += 1;
            let like = n;
            n += 1;
            sql.push_str(&format!(
                " AND (LOWER(w.first_name || ' ' || w.last_name) LIKE ${like} \
                 OR LOWER(COALESCE(w.email, '')) LIKE ${like} OR COALESCE(w.employee_number, '') = ${n})"
            ));
        }
        n += 1;
        sql.push_str(&format!(" ORDER BY w.id LIMIT ${n}"));
        // Built from fixed clauses; every value is bound.
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(company)
            .bind(query.after.unwrap_or(i64::MIN));
        if let Some(status) = query.status {
            q = q.bind(status == WorkerStatus::Blocked);
        }
        if let Some(a) = activation {
            q = q.bind(activation_str(a));
        }
        if let Some(s) = search {
            let escaped = s.to_lowercase().replace(['%', '_'], "");
            q = q.bind(format!("%{escaped}%")).bind(s.to_string());
        }
        let rows = q
            .bind(i64::from(query.limit))
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(worker_record_from_row).collect()
    }

    /// One of the company's workers as an administrator sees it.
    pub async fn worker_record(&self, company: CompanyId, id: i64) -> Result<Option<WorkerRecord>> {
        let sql = format!("{WORKER_RECORD_SQL} WHERE w.company_id = $1 AND w.id = $2");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(company)
            .bind(id)
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(worker_record_from_row).transpose()
    }

    /// Workers an administrator blocked: the planner never unblocks them.
    pub async fn workers_blocked_by_admin(
        &self,
        company: CompanyId,
    ) -> Result<std::collections::BTreeSet<i64>> {
        let rows: Vec<i64> = sqlx::query_scalar(
            "SELECT id FROM workers WHERE company_id = $1 AND blocked_by_admin = $2",
        )
        .bind(company)
        .bind(true)
        .fetch_all(self.pool())
        .await?;
        Ok(rows.into_iter().collect())
    }

    /// Sets a worker's state if it is still at `version` (any version when `None`).
    pub async fn set_worker_state(
        &self,
        company: CompanyId,
        id: i64,
        version: Option<&str>,
        state: WorkerState,
    ) -> Result<Versioned<WorkerRecord>> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(
            "UPDATE workers SET activation = $3, blocked = $4, blocked_by_admin = $5, updated_at = $6 \
             WHERE company_id = $1 AND id = $2 AND ($7 IS NULL OR updated_at = $7)",
        )
        .bind(company)
        .bind(id)
        .bind(activation_str(state.activation))
        .bind(state.blocked)
        .bind(state.blocked_by_admin)
        .bind(now())
        .bind(version)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        let now = self.worker_record(company, id).await?;
        Ok(match now {
            None => Versioned::Missing,
            Some(w) if done.rows_affected() == 1 => Versioned::Done(w),
            Some(w) => Versioned::Stale(w),
        })
    }
}
