//! Safety forms as people fill them: templates (versioned: a change makes a new template that
//! replaces the old one, and a submission keeps the template it was filled on), submissions on
//! a project (start, answer, sign, complete, change after completion), the PDF, and where the
//! form is in Procore.
//!
//! Every save goes through `sync::jobs::save_form`, so a completed form (or one changed after
//! completion) has its upload queued in the same transaction: `trestle serve` puts it in the
//! project's Procore Documents at once, as a new version of the same document after a change.

use chrono::{DateTime, NaiveDate, Utc};
use domain::workforce::{
    form::FormError, Answer, Drawing, FieldKind, FormSection, FormTemplate, Signature, Submission,
    SubmissionState,
};
use std::collections::{BTreeMap, BTreeSet};
use store::{LinkKind, Store, StoreError};

/// Why a forms use case could not do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum FormsError {
    #[error("there is no form template {0}")]
    NoSuchTemplate(i64),
    #[error("there is no project {0}")]
    NoSuchProject(i64),
    #[error("there is no form {0}")]
    NoSuchSubmission(i64),
    #[error("there is no worker {0}")]
    NoSuchWorker(i64),
    #[error("form template {id} was replaced by template {by}; start new forms on that one")]
    Replaced { id: i64, by: i64 },
    /// Input that cannot be used: each entry names the field (a JSON path such as
    /// `sections[0].fields[1].key`) and why.
    #[error("invalid: {}", .0.iter().map(|(f, why)| format!("{f}: {why}")).collect::<Vec<_>>().join("; "))]
    Invalid(Vec<(String, String)>),
    /// The form refused the change (an answer that does not suit its field, a required answer
    /// missing at completion); the field it names is the one to fix.
    #[error("{error}")]
    Form { field: String, error: FormError },
    /// The form changed since the version the caller saw; nothing was written.
    #[error("form {0} changed since that version")]
    Stale(i64),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("rendering the PDF: {0}")]
    Pdf(#[from] pdf::PdfError),
}

type Result<T> = std::result::Result<T, FormsError>;

/// A template as a person writes it.
#[derive(Debug, Clone)]
pub struct TemplateInput {
    pub name: String,
    pub sections: Vec<FormSection>,
}

/// Checks a template: a name, titled sections, each field with a unique non-empty key and a
/// label, and choices with options.
fn check_template(input: &TemplateInput) -> Result<()> {
    let mut errors = Vec::new();
    if input.name.trim().is_empty() {
        errors.push(("name".into(), "a template needs a name".into()));
    }
    if input.sections.iter().all(|s| s.fields.is_empty()) {
        errors.push((
            "sections".into(),
            "a template needs at least one field".into(),
        ));
    }
    let mut keys = BTreeSet::new();
    for (i, section) in input.sections.iter().enumerate() {
        if section.title.trim().is_empty() {
            errors.push((
                format!("sections[{i}].title"),
                "a section needs a title".into(),
            ));
        }
        for (j, field) in section.fields.iter().enumerate() {
            let at = format!("sections[{i}].fields[{j}]");
            if field.key.trim().is_empty() {
                errors.push((format!("{at}.key"), "a field needs a key".into()));
            } else if !field
                .key
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
            {
                // A key names an answer in the API (`answers.KEY`), in addresses and on pages.
                errors.push((
                    format!("{at}.key"),
                    format!(
                        "\"{}\" has characters a key may not: use letters, digits, _, - and . (e.g. ppe_worn)",
                        field.key
                    ),
                ));
            } else if !keys.insert(field.key.as_str()) {
                errors.push((
                    format!("{at}.key"),
                    format!(
                        "\"{}\" is the key of another field; keys are unique",
                        field.key
                    ),
                ));
            }
            if field.label.trim().is_empty() {
                errors.push((format!("{at}.label"), "a field needs a label".into()));
            }
            if let FieldKind::Choice { options } | FieldKind::MultiChoice { options } = &field.kind
            {
                if options.iter().all(|o| o.trim().is_empty()) {
                    errors.push((
                        format!("{at}.options"),
                        "a choice needs at least one option".into(),
                    ));
                }
            }
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(FormsError::Invalid(errors))
    }
}

/// Makes a template.
///
/// # Errors
/// [`FormsError::Invalid`] naming each problem; the store failed.
pub async fn create_template(
    store: &Store,
    company: i64,
    input: TemplateInput,
) -> Result<FormTemplate> {
    check_template(&input)?;
    let mut template = FormTemplate {
        id: 0,
        name: input.name.trim().to_string(),
        sections: input.sections,
    };
    template.id = store.save_template(company, &template).await?;
    Ok(template)
}

/// A new version of template `id`, which replaces it for new forms.
///
/// # Errors
/// As [`create_template`]; no such template; it was replaced already.
pub async fn revise_template(
    store: &Store,
    company: i64,
    id: i64,
    input: TemplateInput,
) -> Result<FormTemplate> {
    check_template(&input)?;
    let mut template = FormTemplate {
        id: 0,
        name: input.name.trim().to_string(),
        sections: input.sections,
    };
    template.id = match store.revise_template(company, id, &template).await {
        Ok(new) => new,
        Err(StoreError::NotFound { .. }) => return Err(FormsError::NoSuchTemplate(id)),
        Err(StoreError::Conflict(_)) => {
            let by = store.template_replaced_by(company, id).await?.unwrap_or(id);
            return Err(FormsError::Replaced { id, by });
        }
        Err(e) => return Err(e.into()),
    };
    Ok(template)
}

/// A template, and the one that replaced it if any.
///
/// # Errors
/// No such template; the store failed.
pub async fn template(store: &Store, company: i64, id: i64) -> Result<(FormTemplate, Option<i64>)> {
    let t = store
        .template(company, id)
        .await?
        .ok_or(FormsError::NoSuchTemplate(id))?;
    Ok((t, store.template_replaced_by(company, id).await?))
}

/// The templates new forms are started on.
///
/// # Errors
/// The store failed.
pub async fn templates(store: &Store, company: i64) -> Result<Vec<FormTemplate>> {
    Ok(store.current_templates(company).await?)
}

/// A form, and where it is in Procore.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Form {
    pub submission: Submission,
    pub procore: Option<InProcore>,
}

/// A form's document in the project's Procore Documents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InProcore {
    pub file_id: i64,
    /// The revision Procore holds; behind the form's while a newer one is on its way.
    pub revision: u32,
    /// Folder and name, e.g. `Corfix Forms/2026-11/Toolbox Talk 2026-11-12.pdf`.
    pub path: String,
}

async fn form_of(store: &Store, company: i64, submission: Submission) -> Result<Form> {
    let link = store
        .link_by_local(company, LinkKind::FormDocument, submission.id)
        .await?;
    let procore = match link {
        None => None,
        Some(l) => {
            let folder = store
                .connection(company)
                .await?
                .map(|c| c.forms_folder)
                .unwrap_or_default();
            let name = store
                .template(company, submission.template_id)
                .await?
                .map(|t| t.name)
                .unwrap_or_default();
            Some(InProcore {
                file_id: l.procore_id,
                revision: l.uploaded_revision.unwrap_or(0),
                path: format!(
                    "{folder}/{}/{}",
                    sync::workforce::forms::month_folder_name(submission.form_date),
                    sync::workforce::forms::document_name(&name, submission.form_date)
                ),
            })
        }
    };
    Ok(Form {
        submission,
        procore,
    })
}

/// One form.
///
/// # Errors
/// No such form; the store failed.
pub async fn form(store: &Store, company: i64, id: i64) -> Result<Form> {
    let s = store
        .submission(company, id)
        .await?
        .ok_or(FormsError::NoSuchSubmission(id))?;
    form_of(store, company, s).await
}

/// The company's forms, by id: those after `after`, on `project` when given, at most `limit`.
///
/// # Errors
/// The store failed.
pub async fn forms(
    store: &Store,
    company: i64,
    project: Option<i64>,
    after: Option<i64>,
    limit: usize,
) -> Result<Vec<Submission>> {
    Ok(store
        .submissions(company)
        .await?
        .into_iter()
        .filter(|s| project.is_none_or(|p| s.project_id == p))
        .filter(|s| after.is_none_or(|a| s.id > a))
        .take(limit)
        .collect())
}

/// Starts a form on a project, on a template no newer version replaced.
///
/// # Errors
/// No such template or project; the template was replaced; the store failed.
pub async fn start(
    store: &Store,
    company: i64,
    template_id: i64,
    project_id: i64,
    form_date: NaiveDate,
) -> Result<Form> {
    let (_, replaced) = template(store, company, template_id).await?;
    if let Some(by) = replaced {
        return Err(FormsError::Replaced {
            id: template_id,
            by,
        });
    }
    if store.project(company, project_id).await?.is_none() {
        return Err(FormsError::NoSuchProject(project_id));
    }
    let mut s = Submission::draft(0, template_id, project_id, form_date);
    s.id = store.save_submission(&s).await?;
    form_of(store, company, s).await
}

/// A change to a form.
#[derive(Debug, Clone)]
pub enum Change {
    /// Answers by field key.
    /// Answers by field key; `None` takes one back.
    Answer(BTreeMap<String, Option<Answer>>),
    /// A signature on a signature field, by this person (a worker when `worker_id` is given,
    /// whose name is then the signer's).
    Sign {
        field_key: String,
        signer_name: Option<String>,
        worker_id: Option<i64>,
        /// The mark drawn on a signature pad, if one was drawn.
        drawing: Option<Drawing>,
    },
    /// Completes it: every required answer and signature must be there.
    Complete,
}

/// Changes a form, if it is still at `version` (when the caller names the version it saw:
/// [`version_of`]). A change after completion is a new revision, whose upload is queued like
/// the first one's.
///
/// # Errors
/// No such form; the form refused the change (naming the field); it changed since `version`;
/// the store failed.
pub async fn change(
    store: &Store,
    company: i64,
    id: i64,
    change: Change,
    version: Option<&str>,
    now: DateTime<Utc>,
    max_attempts: u32,
) -> Result<Form> {
    let mut s = store
        .submission(company, id)
        .await?
        .ok_or(FormsError::NoSuchSubmission(id))?;
    if version.is_some_and(|v| v != version_of(&s)) {
        return Err(FormsError::Stale(id));
    }
    let template = store
        .template(company, s.template_id)
        .await?
        .ok_or(FormsError::NoSuchTemplate(s.template_id))?;
    match change {
        Change::Answer(answers) => {
            s.answer_all(&template, answers).map_err(|refused| {
                FormsError::Invalid(
                    refused
                        .into_iter()
                        .map(|(key, e)| (format!("answers.{key}"), e.to_string()))
                        .collect(),
                )
            })?;
        }
        Change::Sign {
            field_key,
            signer_name,
            worker_id,
            drawing,
        } => {
            let signer_name = match (worker_id, signer_name) {
                (Some(w), _) => {
                    let worker = store
                        .worker(company, w)
                        .await?
                        .ok_or(FormsError::NoSuchWorker(w))?;
                    format!("{} {}", worker.fields.first_name, worker.fields.last_name)
                        .trim()
                        .to_string()
                }
                (None, Some(name)) if !name.trim().is_empty() => name.trim().to_string(),
                (None, _) => {
                    return Err(FormsError::Invalid(vec![(
                        "signer_name".into(),
                        "who signs: their name".into(),
                    )]))
                }
            };
            s.sign(
                &template,
                Signature {
                    field_key: field_key.clone(),
                    signer_name,
                    worker_id,
                    signed_at: now,
                    drawing,
                },
            )
            .map_err(|error| FormsError::Form {
                field: "field_key".into(),
                error,
            })?;
        }
        Change::Complete => {
            // Everything missing at once, each by its field.
            let missing: Vec<(String, String)> = s
                .missing(&template)
                .into_iter()
                .map(|(field, error)| {
                    let list = match error {
                        FormError::MissingSignature(_) => "signatures",
                        _ => "answers",
                    };
                    (format!("{list}.{}", field.key), error.to_string())
                })
                .collect();
            if !missing.is_empty() && s.state != SubmissionState::Completed {
                return Err(FormsError::Invalid(missing));
            }
            s.complete(&template, now)
                .map_err(|error| FormsError::Form {
                    field: match &error {
                        FormError::MissingAnswer(_) => "answers",
                        FormError::MissingSignature(_) => "signatures",
                        _ => "state",
                    }
                    .into(),
                    error,
                })?;
        }
    }
    sync::jobs::save_form(store, company, &s, max_attempts).await?;
    form_of(store, company, s).await
}

/// A form's version: changes with every change to it (what `If-Match` compares).
pub fn version_of(s: &Submission) -> String {
    use sha2::{Digest, Sha256};
    let json = serde_json::to_string(s).unwrap_or_default();
    let digest = Sha256::digest(json.as_bytes());
    digest[..8].iter().map(|b| format!("{b:02x}")).collect()
}

/// The form as the PDF Procore gets (of its current state: a draft renders too, marked by
/// its state).
///
/// # Errors
/// No such form; its template is gone; the store failed.
pub async fn pdf(store: &Store, company: i64, id: i64, now: DateTime<Utc>) -> Result<Vec<u8>> {
    let s = store
        .submission(company, id)
        .await?
        .ok_or(FormsError::NoSuchSubmission(id))?;
    let template = store
        .template(company, s.template_id)
        .await?
        .ok_or(FormsError::NoSuchTemplate(s.template_id))?;
    let project = store.project(company, s.project_id).await?;
    Ok(pdf::render_submission(&pdf::FormDocument {
        template: &template,
        submission: &s,
        project_name: project
            .as_ref()
            .map(|p| p.fields.name.clone())
            .unwrap_or_default(),
        project_number: project.and_then(|p| p.fields.project_number),
        company_name: None,
        submitted_by: s.signatures.first().map(|g| g.signer_name.clone()),
        generated_at: now,
    })?)
}
