//! `/api/v1/companies/{company_id}/forms/...`: safety forms. Templates (an admin's; a change
//! is a new version that replaces the template for new forms), and forms on a project that an
//! admin or a worker (with a worker token of the company) starts, fills, signs and completes;
//! the PDF; where the form is in Procore. Completing a form, or changing it afterwards, queues
//! its upload to the project's Procore Documents.

use crate::auth::Caller;
use crate::paging::{limit, paged, Next, PageQuery};
use crate::{Api, FieldError, Problem};
use axum::body::Bytes;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::header::{CONTENT_TYPE, ETAG, IF_MATCH};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{DateTime, NaiveDate, Utc};
use domain::workforce::{Answer, Drawing, FormSection, FormTemplate, Submission, SubmissionState};
use engine::forms::{Change, FormsError, TemplateInput};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;
use utoipa::{IntoParams, ToSchema};

/// A form template. Its sections hold typed fields: each `{"key", "label", "kind",
/// "required"}` with `kind` one of `instruction`, `checkbox`, `yes_no_na`, `pass_fail_na`,
/// `text` (with `multiline`), `number`, `date`, `choice` / `multi_choice` (with `options`),
/// `signature`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Template {
    pub id: i64,
    pub name: String,
    pub sections: Vec<FormSection>,
    /// The newer version that replaced it for new forms.
    pub replaced_by: Option<i64>,
}

fn template_of(t: FormTemplate, replaced_by: Option<i64>) -> Template {
    Template {
        id: t.id,
        name: t.name,
        sections: t.sections,
        replaced_by,
    }
}

/// A template as written: `{"name", "sections": [{"title", "fields": [...]}]}`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct TemplateBody {
    pub name: String,
    pub sections: Vec<FormSection>,
}

/// Where a form is in Procore.
#[derive(Debug, Serialize, ToSchema)]
pub struct InProcore {
    pub file_id: i64,
    /// The revision Procore holds.
    pub revision: u32,
    /// Folder and document name in the project's Documents.
    pub path: String,
}

/// A signature on a form.
#[derive(Debug, Serialize, ToSchema)]
pub struct Signed {
    pub field_key: String,
    pub signer_name: String,
    pub worker_id: Option<i64>,
    pub signed_at: DateTime<Utc>,
    /// The mark drawn on a signature pad, when one was drawn.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub drawing: Option<Drawing>,
}

/// A form filled on a project.
#[derive(Debug, Serialize, ToSchema)]
pub struct Form {
    pub id: i64,
    /// The template it is filled on (kept when a newer version replaces it).
    pub template_id: i64,
    pub project_id: i64,
    pub form_date: NaiveDate,
    /// `draft` or `completed`.
    pub state: String,
    /// 0 while a draft, 1 at completion, one more for every change after it.
    pub revision: u32,
    /// Answers by field key, each `{"type": ..., "value": ...}` (`{"type": "text", "value":
    /// "Ladders"}`, `{"type": "yes"}`, `{"type": "checked", "value": true}`, ...).
    pub answers: BTreeMap<String, Answer>,
    pub signatures: Vec<Signed>,
    pub completed_at: Option<DateTime<Utc>>,
    /// In the project's Procore Documents, once uploaded.
    pub procore: Option<InProcore>,
}

fn form_of(f: engine::forms::Form) -> Form {
    let s = f.submission;
    Form {
        id: s.id,
        template_id: s.template_id,
        project_id: s.project_id,
        form_date: s.form_date,
        state: match s.state {
            SubmissionState::Draft => "draft",
            SubmissionState::Completed => "completed",
        }
        .into(),
        revision: s.revision,
        answers: s.answers,
        signatures: s
            .signatures
            .into_iter()
            .map(|g| Signed {
                field_key: g.field_key,
                signer_name: g.signer_name,
                worker_id: g.worker_id,
                signed_at: g.signed_at,
                drawing: g.drawing,
            })
            .collect(),
        completed_at: s.completed_at,
        procore: f.procore.map(|p| InProcore {
            file_id: p.file_id,
            revision: p.revision,
            path: p.path,
        }),
    }
}

fn etag(s: &Submission) -> String {
    format!("\"{}\"", engine::forms::version_of(s))
}

fn with_etag(f: engine::forms::Form, status: StatusCode) -> Response {
    let tag = etag(&f.submission);
    let mut response = (status, Json(form_of(f))).into_response();
    if let Ok(v) = HeaderValue::from_str(&tag) {
        response.headers_mut().insert(ETAG, v);
    }
    response
}

fn problem(e: FormsError) -> Problem {
    match e {
        FormsError::NoSuchTemplate(_)
        | FormsError::NoSuchProject(_)
        | FormsError::NoSuchSubmission(_)
        | FormsError::NoSuchWorker(_) => Problem::not_found(e.to_string()),
        FormsError::Replaced { .. } => Problem::conflict(e.to_string()),
        FormsError::Invalid(errors) => Problem::invalid(
            errors
                .into_iter()
                .map(|(field, why)| FieldError::new(&field, why))
                .collect(),
        ),
        FormsError::Form { field, error } => {
            Problem::invalid(vec![FieldError::new(&field, error.to_string())])
        }
        FormsError::Stale(_) => Problem::new(
            StatusCode::PRECONDITION_FAILED,
            format!("{e}; read it again and change what it is now"),
        ),
        FormsError::Store(e) => e.into(),
        other => Problem::internal(&other),
    }
}

/// Reads a JSON body, naming what is wrong with it.
fn body<T: serde::de::DeserializeOwned>(bytes: &Bytes) -> Result<T, Problem> {
    crate::problem::json_body(bytes, "the JSON this route takes")
}

/// The version in `If-Match`, when it is given and is not `*`.
fn if_match(headers: &HeaderMap) -> Option<String> {
    let v = headers.get(IF_MATCH)?.to_str().ok()?.trim();
    (v != "*").then(|| v.trim_start_matches("W/").trim_matches('"').to_string())
}

#[utoipa::path(
    get,
    path = "/api/v1/companies/{company_id}/forms/templates",
    tag = "forms",
    security(("token" = [])),
    params(("company_id" = i64, Path), PageQuery),
    responses(
        (status = 200, description = "The templates new forms are started on, by id; a full page carries `Link: <URL>; rel=\"next\"`", body = Vec<Template>),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn templates(
    caller: Caller,
    State(api): State<Api>,
    Path(company): Path<i64>,
    query: Result<Query<PageQuery>, QueryRejection>,
) -> Result<Response, Problem> {
    caller.form_reader(company)?;
    let Query(page) = query.map_err(|r| crate::problem::bad_query(&r))?;
    let list = engine::forms::templates(&api.store, company)
        .await
        .map_err(problem)?;
    crate::paging::by_id(
        list.into_iter().map(|t| template_of(t, None)).collect(),
        |t: &Template| t.id,
        &page,
        format!("/api/v1/companies/{company}/forms/templates"),
    )
}

#[utoipa::path(
    post,
    path = "/api/v1/companies/{company_id}/forms/templates",
    tag = "forms",
    security(("token" = [])),
    params(
        ("company_id" = i64, Path),
    ),
    request_body = TemplateBody,
    responses(
        (status = 201, description = "Made", body = Template),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn create_template(
    caller: Caller,
    State(api): State<Api>,
    Path(company): Path<i64>,
    bytes: Bytes,
) -> Result<Response, Problem> {
    caller.admin()?;
    let b: TemplateBody = body(&bytes)?;
    let t = engine::forms::create_template(
        &api.store,
        company,
        TemplateInput {
            name: b.name,
            sections: b.sections,
        },
    )
    .await
    .map_err(problem)?;
    Ok((StatusCode::CREATED, Json(template_of(t, None))).into_response())
}

#[utoipa::path(
    get,
    path = "/api/v1/companies/{company_id}/forms/templates/{id}",
    tag = "forms",
    security(("token" = [])),
    params(("company_id" = i64, Path), ("id" = i64, Path)),
    responses(
        (status = 200, description = "The template, replaced or not", body = Template),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn template(
    caller: Caller,
    State(api): State<Api>,
    Path((company, id)): Path<(i64, i64)>,
) -> Result<Json<Template>, Problem> {
    caller.form_reader(company)?;
    let (t, by) = engine::forms::template(&api.store, company, id)
        .await
        .map_err(problem)?;
    Ok(Json(template_of(t, by)))
}

#[utoipa::path(
    put,
    path = "/api/v1/companies/{company_id}/forms/templates/{id}",
    tag = "forms",
    description = "A new version of the template: a new template (new id) that replaces it for new forms; forms filled on it keep it.",
    security(("token" = [])),
    params(("company_id" = i64, Path), ("id" = i64, Path)),
    request_body = TemplateBody,
    responses(
        (status = 201, description = "The new version", body = Template),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Replaced already: change the newest version", body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn revise_template(
    caller: Caller,
    State(api): State<Api>,
    Path((company, id)): Path<(i64, i64)>,
    bytes: Bytes,
) -> Result<Response, Problem> {
    caller.admin()?;
    let b: TemplateBody = body(&bytes)?;
    let t = engine::forms::revise_template(
        &api.store,
        company,
        id,
        TemplateInput {
            name: b.name,
            sections: b.sections,
        },
    )
    .await
    .map_err(problem)?;
    Ok((StatusCode::CREATED, Json(template_of(t, None))).into_response())
}

/// Which forms to list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FormsQuery {
    /// Only forms on this app project.
    pub project_id: Option<i64>,
    /// At most this many, by id (1 to 500; 100 when not given).
    pub limit: Option<u32>,
    /// Only forms with a greater id: the next page.
    pub after: Option<i64>,
}

#[utoipa::path(
    get,
    path = "/api/v1/companies/{company_id}/forms",
    tag = "forms",
    security(("token" = [])),
    params(("company_id" = i64, Path), FormsQuery),
    responses(
        (status = 200, description = "Forms by id; a full page carries `Link: <URL>; rel=\"next\"`", body = Vec<Form>),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn list(
    caller: Caller,
    State(api): State<Api>,
    Path(company): Path<i64>,
    query: Result<Query<FormsQuery>, QueryRejection>,
) -> Result<Response, Problem> {
    caller.form_reader(company)?;
    let Query(query) = query.map_err(|r| crate::problem::bad_query(&r))?;
    let mut errors = Vec::new();
    let limit = limit(query.limit, 100, 500, &mut errors);
    if !errors.is_empty() {
        return Err(Problem::invalid(errors));
    }
    let page = engine::forms::forms(
        &api.store,
        company,
        query.project_id,
        query.after,
        limit as usize,
    )
    .await
    .map_err(problem)?;
    let forms = page
        .into_iter()
        .map(|s| {
            form_of(engine::forms::Form {
                submission: s,
                procore: None,
            })
        })
        .collect();
    Ok(paged(
        forms,
        limit,
        |f: &Form| f.id.to_string(),
        Next {
            path: format!("/api/v1/companies/{company}/forms"),
            cursor: "after",
            filters: &[("project_id", query.project_id.map(|p| p.to_string()))],
        },
    ))
}

/// A form to start.
#[derive(Debug, Deserialize, ToSchema)]
pub struct StartBody {
    pub template_id: i64,
    /// The app project it is filled on.
    pub project_id: i64,
    /// The form's date (`YYYY-MM-DD`): it names the month folder and the document.
    pub form_date: NaiveDate,
}

#[utoipa::path(
    post,
    path = "/api/v1/companies/{company_id}/forms",
    tag = "forms",
    security(("token" = [])),
    params(
        ("company_id" = i64, Path),
    ),
    request_body = StartBody,
    responses(
        (status = 201, description = "A draft, with its `ETag`", body = Form),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The template was replaced: start on the newer version", body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn start(
    caller: Caller,
    State(api): State<Api>,
    Path(company): Path<i64>,
    bytes: Bytes,
) -> Result<Response, Problem> {
    caller.filler(company)?;
    let b: StartBody = body(&bytes)?;
    let f = engine::forms::start(
        &api.store,
        company,
        b.template_id,
        b.project_id,
        b.form_date,
    )
    .await
    .map_err(problem)?;
    Ok(with_etag(f, StatusCode::CREATED))
}

#[utoipa::path(
    get,
    path = "/api/v1/companies/{company_id}/forms/{id}",
    tag = "forms",
    security(("token" = [])),
    params(("company_id" = i64, Path), ("id" = i64, Path)),
    responses(
        (status = 200, description = "The form, with its `ETag` and where it is in Procore", body = Form),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn get_form(
    caller: Caller,
    State(api): State<Api>,
    Path((company, id)): Path<(i64, i64)>,
) -> Result<Response, Problem> {
    caller.form_reader(company)?;
    let f = engine::forms::form(&api.store, company, id)
        .await
        .map_err(problem)?;
    Ok(with_etag(f, StatusCode::OK))
}

/// Answers to set, by field key.
#[derive(Debug, Deserialize, ToSchema)]
pub struct AnswersBody {
    /// Each `{"type": ..., "value": ...}`, e.g. `{"topic": {"type": "text", "value":
    /// "Ladders"}, "ppe": {"type": "yes"}}`; `null` takes an answer back. Read one by one, so
    /// each wrong answer is named.
    #[schema(value_type = Object)]
    pub answers: BTreeMap<String, Value>,
}

/// A signature to add.
#[derive(Debug, Deserialize, ToSchema)]
pub struct SignBody {
    /// The signature field.
    pub field_key: String,
    /// Who signs (an admin signing for someone); a worker token signs as its worker.
    pub signer_name: Option<String>,
    /// What the signer drew, e.g. `{"strokes": [[[120, 200], [180, 150], [260, 210]]]}`: each
    /// stroke the `[x, y]` points one touch passed through, on a 1000 × 300 grid (origin top
    /// left), at most 5,000 points in all. Leave it out to sign by name alone.
    #[schema(value_type = Option<Drawing>)]
    pub drawing: Option<Value>,
}

async fn change(
    api: Api,
    company: i64,
    id: i64,
    headers: &HeaderMap,
    change: Change,
) -> Result<Response, Problem> {
    let f = engine::forms::change(
        &api.store,
        company,
        id,
        change,
        if_match(headers).as_deref(),
        Utc::now(),
        api.job_attempts,
    )
    .await
    .map_err(problem)?;
    api.wake.notify_waiters();
    Ok(with_etag(f, StatusCode::OK))
}

#[utoipa::path(
    patch,
    path = "/api/v1/companies/{company_id}/forms/{id}",
    tag = "forms",
    description = "Sets answers; after completion this is a new revision, uploaded to Procore as a new version of the same document.",
    security(("token" = [])),
    params(
        ("company_id" = i64, Path),
        ("id" = i64, Path),
        ("If-Match" = Option<String>, Header, description = "The form's ETag as read: refused (412) if it changed since"),
    ),
    request_body = AnswersBody,
    responses(
        (status = 200, description = "The form now, with its new `ETag`", body = Form),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Changed since the ETag in If-Match", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Each answer that does not fit its field, named `answers.KEY`", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn answer(
    caller: Caller,
    State(api): State<Api>,
    Path((company, id)): Path<(i64, i64)>,
    headers: HeaderMap,
    bytes: Bytes,
) -> Result<Response, Problem> {
    caller.filler(company)?;
    let b: AnswersBody = body(&bytes)?;
    let mut answers = BTreeMap::new();
    let mut errors = Vec::new();
    for (key, value) in b.answers {
        match serde_json::from_value::<Option<Answer>>(value) {
            Ok(a) => {
                answers.insert(key, a);
            }
            Err(e) => errors.push(FieldError::new(
                &format!("answers.{key}"),
                format!("not an answer ({e}); send {{\"type\": \"text\", \"value\": \"...\"}}, {{\"type\": \"yes\"}}, ..."),
            )),
        }
    }
    if !errors.is_empty() {
        return Err(Problem::invalid(errors));
    }
    change(api, company, id, &headers, Change::Answer(answers)).await
}

#[utoipa::path(
    post,
    path = "/api/v1/companies/{company_id}/forms/{id}/signatures",
    tag = "forms",
    security(("token" = [])),
    params(
        ("company_id" = i64, Path),
        ("id" = i64, Path),
        ("If-Match" = Option<String>, Header, description = "The form's ETag as read: refused (412) if it changed since"),
    ),
    request_body = SignBody,
    responses(
        (status = 200, description = "Signed", body = Form),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 412, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn sign(
    caller: Caller,
    State(api): State<Api>,
    Path((company, id)): Path<(i64, i64)>,
    headers: HeaderMap,
    bytes: Bytes,
) -> Result<Response, Problem> {
    let worker = caller.filler(company)?;
    let b: SignBody = body(&bytes)?;
    let drawing = match b.drawing {
        None | Some(Value::Null) => None,
        Some(d) => Some(serde_json::from_value::<Drawing>(d).map_err(|e| {
            Problem::invalid(vec![FieldError::new(
                "drawing",
                format!("not a drawing: {e}; send {{\"strokes\": [[[x, y], ...], ...]}}"),
            )])
        })?),
    };
    let signer_name = if worker.is_some() {
        None
    } else {
        b.signer_name
    };
    change(
        api,
        company,
        id,
        &headers,
        Change::Sign {
            field_key: b.field_key,
            signer_name,
            worker_id: worker,
            drawing,
        },
    )
    .await
}

#[utoipa::path(
    post,
    path = "/api/v1/companies/{company_id}/forms/{id}/complete",
    tag = "forms",
    description = "Completes the form; its PDF is queued for the project's Procore Documents.",
    security(("token" = [])),
    params(
        ("company_id" = i64, Path),
        ("id" = i64, Path),
        ("If-Match" = Option<String>, Header, description = "The form's ETag as read: refused (412) if it changed since"),
    ),
    responses(
        (status = 200, description = "Completed", body = Form),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 412, body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A required answer or signature is missing (named), or it is completed already", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn complete(
    caller: Caller,
    State(api): State<Api>,
    Path((company, id)): Path<(i64, i64)>,
    headers: HeaderMap,
) -> Result<Response, Problem> {
    caller.filler(company)?;
    change(api, company, id, &headers, Change::Complete).await
}

#[utoipa::path(
    get,
    path = "/api/v1/companies/{company_id}/forms/{id}/pdf",
    tag = "forms",
    security(("token" = [])),
    params(("company_id" = i64, Path), ("id" = i64, Path)),
    responses(
        (status = 200, description = "The form as the PDF Procore gets", content_type = "application/pdf"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn pdf(
    caller: Caller,
    State(api): State<Api>,
    Path((company, id)): Path<(i64, i64)>,
) -> Result<Response, Problem> {
    caller.form_reader(company)?;
    let bytes = engine::forms::pdf(&api.store, company, id, Utc::now())
        .await
        .map_err(problem)?;
    Ok((
        [(CONTENT_TYPE, HeaderValue::from_static("application/pdf"))],
        bytes,
    )
        .into_response())
}
