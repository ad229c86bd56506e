//! Form templates and submissions. Sections, answers and signatures are stored as JSON text in
//! the domain types' own serde form: they are read and written whole, never queried inside.

use crate::db::{int, now, opt_timestamp, parse_date, revision, text, ts};
use crate::models::CompanyId;
use crate::{Result, Store, StoreError};
use domain::workforce::{FormTemplate, Submission, SubmissionState};
use sqlx::any::AnyRow;

fn to_json<T: serde::Serialize>(what: &'static str, value: &T) -> Result<String> {
    serde_json::to_string(value).map_err(|e| StoreError::Corrupt {
        what,
        detail: e.to_string(),
    })
}

fn from_json<T: serde::de::DeserializeOwned>(what: &'static str, s: &str) -> Result<T> {
    serde_json::from_str(s).map_err(|e| StoreError::Corrupt {
        what,
        detail: e.to_string(),
    })
}

fn state_str(s: SubmissionState) -> &'static str {
    match s {
        SubmissionState::Draft => "Draft",
        SubmissionState::Completed => "Completed",
    }
}

fn template_from_row(row: &AnyRow) -> Result<FormTemplate> {
    Ok(FormTemplate {
        id: int(row, "id")?,
        name: text(row, "name")?,
        sections: from_json("form template sections", &text(row, "sections_json")?)?,
    })
}

fn submission_from_row(row: &AnyRow) -> Result<Submission> {
    let state = text(row, "state")?;
    Ok(Submission {
        id: int(row, "id")?,
        template_id: int(row, "template_id")?,
        project_id: int(row, "project_id")?,
        form_date: parse_date("form date", &text(row, "form_date")?)?,
        state: match state.as_str() {
            "Draft" => SubmissionState::Draft,
            "Completed" => SubmissionState::Completed,
            _ => {
                return Err(StoreError::Corrupt {
                    what: "submission state",
                    detail: state,
                })
            }
        },
        answers: from_json("submission answers", &text(row, "answers_json")?)?,
        signatures: from_json("submission signatures", &text(row, "signatures_json")?)?,
        revision: revision(row, "submission revision", "revision")?.unwrap_or(0),
        completed_at: opt_timestamp(row, "submission time", "completed_at")?,
    })
}

impl Store {
    /// Saves a template: a new one when `id` is 0 (the new id is returned), otherwise replaces
    /// the stored one.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] when `id` names no template of the company.
    pub async fn save_template(&self, company: CompanyId, template: &FormTemplate) -> Result<i64> {
        let sections = to_json("form template sections", &template.sections)?;
        if template.id == 0 {
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO form_templates (company_id, name, sections_json, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $4) RETURNING id",
            )
            .bind(company)
            .bind(&template.name)
            .bind(sections)
            .bind(now())
            .fetch_one(self.pool())
            .await?;
            return Ok(id);
        }
        let done = sqlx::query(
            "UPDATE form_templates SET name = $3, sections_json = $4, updated_at = $5 WHERE id = $1 AND company_id = $2",
        )
        .bind(template.id)
        .bind(company)
        .bind(&template.name)
        .bind(sections)
        .bind(now())
        .execute(self.pool())
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound {
                what: "form template",
                id: template.id.to_string(),
            });
        }
        Ok(template.id)
    }

    /// One of the company's form templates; another company's template reads as absent.
    pub async fn template(&self, company: CompanyId, id: i64) -> Result<Option<FormTemplate>> {
        let row = sqlx::query(
            "SELECT id, name, sections_json FROM form_templates WHERE id = $1 AND company_id = $2",
        )
        .bind(id)
        .bind(company)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(template_from_row).transpose()
    }

    /// The company's templates, by id.
    pub async fn templates(&self, company: CompanyId) -> Result<Vec<FormTemplate>> {
        let rows = sqlx::query(
            "SELECT id, name, sections_json FROM form_templates WHERE company_id = $1 ORDER BY id",
        )
        .bind(company)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(template_from_row).collect()
    }

    /// Saves a submission: a new one when `id` is 0 (the new id is returned), otherwise replaces
    /// the stored one. The company is the project's.
    ///
    /// # Errors
    /// [`StoreError::Conflict`] when the template or project does not exist;
    /// [`StoreError::NotFound`] when `id` names no submission.
    pub async fn save_submission(&self, s: &Submission) -> Result<i64> {
        self.save_submission_with_job(s, None).await
    }

    /// [`Store::save_submission`], and `job` enqueued in the same transaction: the work a
    /// saved form calls for (its upload, once completed) is never lost to a crash between the
    /// two, nor enqueued for a form that was not saved.
    ///
    /// # Errors
    /// As [`Store::save_submission`].
    pub async fn save_submission_with_job(
        &self,
        s: &Submission,
        job: Option<&crate::jobs::NewJob>,
    ) -> Result<i64> {
        let mut tx = self.begin_write().await?;
        let id = save_submission_on(&mut tx, s).await?;
        if let Some(job) = job {
            crate::jobs::enqueue_job_on(&mut tx, job).await?;
        }
        tx.commit().await?;
        Ok(id)
    }
}

async fn save_submission_on(conn: &mut sqlx::AnyConnection, s: &Submission) -> Result<i64> {
    let answers = to_json("submission answers", &s.answers)?;
    let signatures = to_json("submission signatures", &s.signatures)?;
    let form_date = s.form_date.format("%Y-%m-%d").to_string();
    let completed_at = s.completed_at.map(ts);
    if s.id == 0 {
        let id: i64 = sqlx::query_scalar(
                "INSERT INTO form_submissions (template_id, project_id, form_date, state, answers_json, \
                 signatures_json, revision, completed_at, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9) RETURNING id",
            )
            .bind(s.template_id)
            .bind(s.project_id)
            .bind(form_date)
            .bind(state_str(s.state))
            .bind(answers)
            .bind(signatures)
            .bind(i64::from(s.revision))
            .bind(completed_at)
            .bind(now())
            .fetch_one(&mut *conn)
            .await?;
        return Ok(id);
    }
    let done = sqlx::query(
            "UPDATE form_submissions SET template_id = $2, project_id = $3, form_date = $4, state = $5, \
             answers_json = $6, signatures_json = $7, revision = $8, completed_at = $9, updated_at = $10 \
             WHERE id = $1",
        )
        .bind(s.id)
        .bind(s.template_id)
        .bind(s.project_id)
        .bind(form_date)
        .bind(state_str(s.state))
        .bind(answers)
        .bind(signatures)
        .bind(i64::from(s.revision))
        .bind(completed_at)
        .bind(now())
        .execute(&mut *conn)
        .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound {
            what: "form submission",
            id: s.id.to_string(),
        });
    }
    Ok(s.id)
}

impl Store {
    /// One of the company's submissions; another company's is not found, so an id typed into
    /// `trestle explain form` cannot reach across companies.
    pub async fn submission(&self, company: CompanyId, id: i64) -> Result<Option<Submission>> {
        let row = sqlx::query(
            "SELECT s.id, s.template_id, s.project_id, s.form_date, s.state, s.answers_json, s.signatures_json, \
             s.revision, s.completed_at FROM form_submissions s JOIN projects p ON p.id = s.project_id \
             WHERE s.id = $1 AND p.company_id = $2",
        )
        .bind(id)
        .bind(company)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(submission_from_row).transpose()
    }

    /// The company's submissions (through their projects), by id.
    pub async fn submissions(&self, company: CompanyId) -> Result<Vec<Submission>> {
        let rows = sqlx::query(
            "SELECT s.id, s.template_id, s.project_id, s.form_date, s.state, s.answers_json, s.signatures_json, \
             s.revision, s.completed_at FROM form_submissions s JOIN projects p ON p.id = s.project_id \
             WHERE p.company_id = $1 ORDER BY s.id",
        )
        .bind(company)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(submission_from_row).collect()
    }
}

impl Store {
    /// A new version of template `id`: saved as a new template (its id is returned) that
    /// replaces `id`, in one transaction. Submissions filled on `id` keep it.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] when the company has no template `id`;
    /// [`StoreError::Conflict`] when it was replaced already (change the newest version).
    pub async fn revise_template(
        &self,
        company: CompanyId,
        id: i64,
        template: &FormTemplate,
    ) -> Result<i64> {
        let sections = to_json("form template sections", &template.sections)?;
        let mut tx = self.begin_write().await?;
        let replaced: Option<Option<i64>> = sqlx::query_scalar(
            "SELECT replaced_by FROM form_templates WHERE id = $1 AND company_id = $2",
        )
        .bind(id)
        .bind(company)
        .fetch_optional(&mut *tx)
        .await?;
        match replaced {
            None => {
                return Err(StoreError::NotFound {
                    what: "form template",
                    id: id.to_string(),
                })
            }
            Some(Some(by)) => {
                return Err(StoreError::Conflict(format!(
                    "form template {id} was replaced by template {by}; change that one"
                )))
            }
            Some(None) => {}
        }
        let at = now();
        let new_id: i64 = sqlx::query_scalar(
            "INSERT INTO form_templates (company_id, name, sections_json, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $4) RETURNING id",
        )
        .bind(company)
        .bind(&template.name)
        .bind(sections)
        .bind(&at)
        .fetch_one(&mut *tx)
        .await?;
        sqlx::query(
            "UPDATE form_templates SET replaced_by = $3, updated_at = $4 WHERE id = $1 AND company_id = $2",
        )
        .bind(id)
        .bind(company)
        .bind(new_id)
        .bind(&at)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(new_id)
    }

    /// The company's templates that no newer version replaced, by id.
    pub async fn current_templates(&self, company: CompanyId) -> Result<Vec<FormTemplate>> {
        let rows = sqlx::query(
            "SELECT id, name, sections_json FROM form_templates \
             WHERE company_id = $1 AND replaced_by IS NULL ORDER BY id",
        )
        .bind(company)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(template_from_row).collect()
    }

    /// The template that replaced template `id`, if one did.
    pub async fn template_replaced_by(&self, company: CompanyId, id: i64) -> Result<Option<i64>> {
        let by: Option<Option<i64>> = sqlx::query_scalar(
            "SELECT replaced_by FROM form_templates WHERE id = $1 AND company_id = $2",
        )
        .bind(id)
        .bind(company)
        .fetch_optional(self.pool())
        .await?;
        Ok(by.flatten())
    }
}
