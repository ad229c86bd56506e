//! `/api/v1/companies/{company_id}/workforce/...`: the workforce app. Its projects and workers
//! (with the actions a Corfix admin takes: activate, block, unblock), and the Procore records
//! waiting for a decision with link, import or ignore and a preview of each. Its shapes are
//! also what `trestle workforce ... --json` prints.

use crate::auth::Caller;
use crate::paging::{limit, paged, window, Next};
use crate::problem::bad_query;
use crate::{Api, FieldError, Problem};
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::header::{ETAG, IF_MATCH};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{DateTime, Utc};
use domain::workforce::WorkerStatus;
use engine::workforce::{Decision, WorkerAction, WorkforceError};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use store::{WaitingKind, WorkerQuery, WorkerRecord};
use utoipa::{IntoParams, ToSchema};

/// A worker of the workforce app.
#[derive(Debug, Serialize, ToSchema)]
pub struct Worker {
    pub id: i64,
    pub first_name: String,
    pub last_name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub employee_number: Option<String>,
    /// `pending_account_activation`, `pending_email_verification`, `active`,
    /// `active_for_kiosk` or `blocked`.
    pub status: String,
    /// Blocked by an administrator: no sync unblocks it.
    pub blocked_by_admin: bool,
    /// The Procore company user it is synced from, if any.
    pub procore_user_id: Option<i64>,
}

const STATUSES: [(WorkerStatus, &str); 5] = [
    (
        WorkerStatus::PendingAccountActivation,
        "pending_account_activation",
    ),
    (
        WorkerStatus::PendingEmailVerification,
        "pending_email_verification",
    ),
    (WorkerStatus::Active, "active"),
    (WorkerStatus::ActiveForKiosk, "active_for_kiosk"),
    (WorkerStatus::Blocked, "blocked"),
];

fn status_name(s: WorkerStatus) -> &'static str {
    STATUSES
        .iter()
        .find(|(k, _)| *k == s)
        .map_or("blocked", |(_, n)| n)
}

impl From<&WorkerRecord> for Worker {
    fn from(r: &WorkerRecord) -> Worker {
        let w = &r.worker;
        Worker {
            id: w.id,
            first_name: w.fields.first_name.clone(),
            last_name: w.fields.last_name.clone(),
            email: w.fields.email.clone(),
            phone: w.fields.phone.clone(),
            employee_number: w.fields.employee_number.clone(),
            status: status_name(w.status()).into(),
            blocked_by_admin: r.blocked_by_admin,
            procore_user_id: r.procore_user_id,
        }
    }
}

/// The worker's entity tag: changes with every write to it.
fn etag(r: &WorkerRecord) -> String {
    let digest = Sha256::digest(format!("{}:{}", r.worker.id, r.version));
    let hex: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
    format!("\"{hex}\"")
}

fn with_etag(r: &WorkerRecord) -> Response {
    let mut response = Json(Worker::from(r)).into_response();
    if let Ok(v) = HeaderValue::from_str(&etag(r)) {
        response.headers_mut().insert(ETAG, v);
    }
    response
}

/// A project of the workforce app.
#[derive(Debug, Serialize, ToSchema)]
pub struct Project {
    pub id: i64,
    pub name: String,
    pub project_number: Option<String>,
    /// `active`, `upcoming` or `completed`.
    pub status: String,
    pub city: Option<String>,
    /// The Procore project it is synced from, if any.
    pub procore_project_id: Option<i64>,
}

/// Which workers to list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct WorkersQuery {
    /// Only workers in this state: `pending_account_activation`,
    /// `pending_email_verification`, `active`, `active_for_kiosk` or `blocked`.
    pub status: Option<String>,
    /// Part of the name or email (any case), or the whole employee number.
    pub q: Option<String>,
    /// At most this many, by id (1 to 500; 100 when not given).
    pub limit: Option<u32>,
    /// Only workers with a greater id: the next page. A full page's `Link` header gives it.
    pub after: Option<i64>,
}

/// Which projects to list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ProjectsQuery {
    /// Part of the name (any case), or the whole project number.
    pub q: Option<String>,
    /// At most this many, by id (1 to 500; 100 when not given).
    pub limit: Option<u32>,
    /// Only projects with a greater id: the next page.
    pub after: Option<i64>,
}

/// A Procore record the workforce sync left waiting for a decision.
#[derive(Debug, Serialize, ToSchema)]
pub struct Waiting {
    /// `project` or `user`.
    pub kind: String,
    pub procore_id: i64,
    /// The project's name, or the user's full name.
    pub name: String,
    /// The project number, or the user's email.
    pub key: Option<String>,
    /// The app project or worker it clashes with: the one a link joins it to.
    pub clashes_with: Option<i64>,
    pub reason: String,
    pub seen_at: DateTime<Utc>,
}

/// A decision about a waiting record: `{"decision": "link", "to": 12}`, `{"decision":
/// "import"}` or `{"decision": "ignore"}`.
#[derive(Debug, Deserialize, IntoParams, ToSchema)]
#[into_params(parameter_in = Query)]
pub struct DecisionInput {
    /// `link`, `import` or `ignore`.
    pub decision: String,
    /// For `link`: the app project or worker it is the same as.
    pub to: Option<i64>,
}

/// One field of the app record a decision changes.
#[derive(Debug, Serialize, ToSchema)]
pub struct FieldChange {
    pub field: String,
    pub from: Option<String>,
    pub to: Option<String>,
}

/// What a decision does (or would do).
#[derive(Debug, Serialize, ToSchema)]
pub struct Preview {
    pub decision: String,
    pub to: Option<i64>,
    /// In a sentence.
    pub outcome: String,
    pub changes: Vec<FieldChange>,
    /// The planner's action, as a sync logs it.
    #[schema(value_type = Option<Object>)]
    pub action: Option<serde_json::Value>,
}

/// A decision made, and the queued sync of the record that applies it.
#[derive(Debug, Serialize, ToSchema)]
pub struct Decided {
    pub preview: Preview,
    pub job_id: i64,
}

impl From<engine::workforce::Preview> for Preview {
    fn from(p: engine::workforce::Preview) -> Preview {
        let (decision, to) = match p.decision {
            Decision::Link { to } => ("link", Some(to)),
            Decision::Import => ("import", None),
            Decision::Ignore => ("ignore", None),
        };
        Preview {
            decision: decision.into(),
            to,
            outcome: p.outcome,
            changes: p
                .changes
                .into_iter()
                .map(|c| FieldChange {
                    field: c.field.into(),
                    from: c.from,
                    to: c.to,
                })
                .collect(),
            action: p.action.and_then(|a| serde_json::to_value(a).ok()),
        }
    }
}

impl From<engine::workforce::Waiting> for Waiting {
    fn from(w: engine::workforce::Waiting) -> Waiting {
        Waiting {
            kind: w.kind.into(),
            procore_id: w.procore_id,
            name: w.name,
            key: w.key,
            clashes_with: w.clashes_with,
            reason: w.reason,
            seen_at: w.seen_at,
        }
    }
}

/// A worker status by its API name (`active_for_kiosk`, ...).
pub fn parse_status(name: &str) -> Option<WorkerStatus> {
    STATUSES.iter().find(|(_, n)| *n == name).map(|(k, _)| *k)
}

/// The API names of the worker statuses, in order.
pub fn status_names() -> [&'static str; 5] {
    STATUSES.map(|(_, n)| n)
}

fn problem(e: WorkforceError) -> Problem {
    match e {
        WorkforceError::NotConnected(_)
        | WorkforceError::NotWaiting { .. }
        | WorkforceError::NoSuchRecord { .. } => Problem::not_found(e.to_string()),
        WorkforceError::AlreadyLinked { .. }
        | WorkforceError::NotPending { .. }
        | WorkforceError::Blocked { .. } => Problem::conflict(e.to_string()),
        WorkforceError::Stale(_) => Problem::new(
            StatusCode::PRECONDITION_FAILED,
            format!("{e}; read it again and decide on what it is now"),
        ),
        WorkforceError::Store(e) => e.into(),
        other => Problem::internal(&other),
    }
}

#[utoipa::path(
    get,
    path = "/api/v1/companies/{company_id}/workforce/workers",
    tag = "workforce",
    security(("token" = [])),
    params(("company_id" = i64, Path, description = "The Procore company"), WorkersQuery),
    responses(
        (status = 200, description = "Workers by id; a full page carries `Link: <URL>; rel=\"next\"`", body = Vec<Worker>),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn workers(
    caller: Caller,
    State(api): State<Api>,
    Path(company): Path<i64>,
    query: Result<Query<WorkersQuery>, QueryRejection>,
) -> Result<Response, Problem> {
    caller.reader()?;
    let Query(query) = query.map_err(|r| bad_query(&r))?;
    let mut errors = Vec::new();
    let status = match query.status.as_deref() {
        None => None,
        Some(s) => {
            let found = parse_status(s);
            if found.is_none() {
                errors.push(FieldError::new(
                    "status",
                    format!(
                        "\"{s}\" is no worker status; use {}",
                        status_names().join(", ")
                    ),
                ));
            }
            found
        }
    };
    let limit = limit(query.limit, 100, 500, &mut errors);
    if !errors.is_empty() {
        return Err(Problem::invalid(errors));
    }
    api.connection(company).await?;
    let page = engine::workforce::workers(
        &api.store,
        company,
        &WorkerQuery {
            status,
            search: query.q.clone(),
            after: query.after,
            limit,
        },
    )
    .await
    .map_err(problem)?;
    let workers = page.iter().map(Worker::from).collect::<Vec<_>>();
    Ok(paged(
        workers,
        limit,
        |w| w.id.to_string(),
        Next {
            path: format!("/api/v1/companies/{company}/workforce/workers"),
            cursor: "after",
            filters: &[("status", query.status.clone()), ("q", query.q.clone())],
        },
    ))
}

#[utoipa::path(
    get,
    path = "/api/v1/companies/{company_id}/workforce/workers/{id}",
    tag = "workforce",
    security(("token" = [])),
    params(("company_id" = i64, Path), ("id" = i64, Path, description = "The worker")),
    responses(
        (status = 200, description = "The worker, with its `ETag`", body = Worker),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn worker(
    caller: Caller,
    State(api): State<Api>,
    Path((company, id)): Path<(i64, i64)>,
) -> Result<Response, Problem> {
    caller.reader()?;
    let w = engine::workforce::worker(&api.store, company, id)
        .await
        .map_err(problem)?;
    Ok(with_etag(&w))
}

/// `activate`, `block` or `unblock`, honouring `If-Match`.
async fn act(
    caller: Caller,
    api: Api,
    company: i64,
    id: i64,
    headers: &HeaderMap,
    action: WorkerAction,
) -> Result<Response, Problem> {
    caller.admin()?;
    let current = engine::workforce::worker(&api.store, company, id)
        .await
        .map_err(problem)?;
    let version = match headers.get(IF_MATCH) {
        None => None,
        Some(v) => {
            let wanted = v.to_str().unwrap_or_default();
            let tag = etag(&current);
            let matches = wanted.trim() == "*"
                || wanted
                    .split(',')
                    .any(|t| t.trim().trim_start_matches("W/") == tag);
            if !matches {
                return Err(problem(WorkforceError::Stale(Box::new(current))));
            }
            Some(current.version.clone())
        }
    };
    let done =
        engine::workforce::act_on_worker(&api.store, company, id, action, version.as_deref())
            .await
            .map_err(problem)?;
    Ok(with_etag(&done))
}

macro_rules! worker_action {
    ($name:ident, $path:literal, $action:expr, $what:literal) => {
        #[utoipa::path(
            post,
            path = $path,
            tag = "workforce",
            description = $what,
            security(("token" = [])),
            params(
                ("company_id" = i64, Path),
                ("id" = i64, Path, description = "The worker"),
                ("If-Match" = Option<String>, Header, description = "The worker's ETag as read: the action is refused (412) if it changed since"),
            ),
            responses(
                (status = 200, description = "The worker now, with its new `ETag`", body = Worker),
                (status = 404, body = Problem, content_type = "application/problem+json"),
                (status = 409, description = "Not possible in the worker's state", body = Problem, content_type = "application/problem+json"),
                (status = 412, description = "Changed since the ETag in If-Match", body = Problem, content_type = "application/problem+json"),
                (status = 422, body = Problem, content_type = "application/problem+json"),
            )
        )]
        pub(crate) async fn $name(
            caller: Caller,
            State(api): State<Api>,
            Path((company, id)): Path<(i64, i64)>,
            headers: HeaderMap,
        ) -> Result<Response, Problem> {
            act(caller, api, company, id, &headers, $action).await
        }
    };
}

worker_action!(
    activate,
    "/api/v1/companies/{company_id}/workforce/workers/{id}/activate",
    WorkerAction::Activate,
    "Activates a worker in Pending Account Activation: Pending Email Verification with an email, Active for Kiosk without."
);
worker_action!(
    block,
    "/api/v1/companies/{company_id}/workforce/workers/{id}/block",
    WorkerAction::Block,
    "Blocks a worker until an administrator unblocks it; no sync unblocks it."
);
worker_action!(
    unblock,
    "/api/v1/companies/{company_id}/workforce/workers/{id}/unblock",
    WorkerAction::Unblock,
    "Unblocks a worker; one whose Procore user is inactive is blocked again by the next sync that reads the user."
);

#[utoipa::path(
    get,
    path = "/api/v1/companies/{company_id}/workforce/projects",
    tag = "workforce",
    security(("token" = [])),
    params(("company_id" = i64, Path), ProjectsQuery),
    responses(
        (status = 200, description = "The workforce app's projects, by id; a full page carries `Link: <URL>; rel=\"next\"`", body = Vec<Project>),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn projects(
    caller: Caller,
    State(api): State<Api>,
    Path(company): Path<i64>,
    query: Result<Query<ProjectsQuery>, QueryRejection>,
) -> Result<Response, Problem> {
    // A worker picks the project a form is filled on.
    caller.form_reader(company)?;
    let Query(query) = query.map_err(|r| bad_query(&r))?;
    let mut errors = Vec::new();
    let limit = limit(query.limit, 100, 500, &mut errors);
    if !errors.is_empty() {
        return Err(Problem::invalid(errors));
    }
    api.connection(company).await?;
    let links = api
        .store
        .links(company, store::LinkKind::Project)
        .await?
        .into_iter()
        .map(|(procore, local)| (local, procore))
        .collect::<std::collections::BTreeMap<_, _>>();
    let search = query.q.as_deref().map(str::to_lowercase);
    let projects = api
        .store
        .projects(company)
        .await?
        .into_iter()
        .filter(|p| {
            search.as_deref().is_none_or(|q| {
                p.fields.name.to_lowercase().contains(q)
                    || p.fields
                        .project_number
                        .as_deref()
                        .is_some_and(|n| n.to_lowercase() == q)
            })
        })
        .map(|p| Project {
            procore_project_id: links.get(&p.id).copied(),
            id: p.id,
            name: p.fields.name,
            project_number: p.fields.project_number,
            status: p.status.as_str().to_ascii_lowercase(),
            city: p.fields.city,
        })
        .collect();
    Ok(paged(
        window(projects, |p: &Project| p.id, query.after, limit),
        limit,
        |p| p.id.to_string(),
        Next {
            path: format!("/api/v1/companies/{company}/workforce/projects"),
            cursor: "after",
            filters: &[("q", query.q.clone())],
        },
    ))
}

#[utoipa::path(
    get,
    path = "/api/v1/companies/{company_id}/workforce/waiting",
    tag = "workforce",
    security(("token" = [])),
    params(("company_id" = i64, Path), WaitingQuery),
    responses(
        (status = 200, description = "Procore records waiting for a decision, projects first, each by Procore id; a full page carries `Link: <URL>; rel=\"next\"`", body = Vec<Waiting>),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn waiting(
    caller: Caller,
    State(api): State<Api>,
    Path(company): Path<i64>,
    query: Result<Query<WaitingQuery>, QueryRejection>,
) -> Result<Response, Problem> {
    caller.reader()?;
    let Query(query) = query.map_err(|r| bad_query(&r))?;
    let mut errors = Vec::new();
    let limit = limit(query.limit, 100, 500, &mut errors);
    let after = match query.after.as_deref() {
        None => None,
        Some(a) => {
            let parsed = a.split_once(':').and_then(|(k, id)| {
                Some((
                    waiting_rank(WaitingKind::parse(k)?),
                    id.parse::<i64>().ok()?,
                ))
            });
            if parsed.is_none() {
                errors.push(FieldError::new(
                    "after",
                    "a record as `project:ID` or `user:ID`, from a page's Link header",
                ));
            }
            parsed
        }
    };
    if !errors.is_empty() {
        return Err(Problem::invalid(errors));
    }
    api.connection(company).await?;
    let mut waiting: Vec<Waiting> = engine::workforce::waiting(&api.store, company)
        .await
        .map_err(problem)?
        .into_iter()
        .map(Waiting::from)
        .collect();
    let key = |w: &Waiting| {
        (
            WaitingKind::parse(&w.kind).map_or(2, waiting_rank),
            w.procore_id,
        )
    };
    waiting.sort_by_key(key);
    Ok(paged(
        window(waiting, key, after, limit),
        limit,
        |w| format!("{}:{}", w.kind, w.procore_id),
        Next {
            path: format!("/api/v1/companies/{company}/workforce/waiting"),
            cursor: "after",
            filters: &[],
        },
    ))
}

/// Projects before users.
fn waiting_rank(kind: WaitingKind) -> u8 {
    match kind {
        WaitingKind::Project => 0,
        WaitingKind::User => 1,
    }
}

/// A page of the records waiting.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct WaitingQuery {
    /// At most this many (1 to 500; 100 when not given).
    pub limit: Option<u32>,
    /// Only records after this one (`project:ID` or `user:ID`): the next page.
    pub after: Option<String>,
}

/// Reads the record's kind and the decision, naming every field that is wrong.
fn decision_of(kind: &str, input: &DecisionInput) -> Result<(WaitingKind, Decision), Problem> {
    let mut errors = Vec::new();
    let kind = WaitingKind::parse(kind);
    if kind.is_none() {
        errors.push(FieldError::new("kind", "the kind is `project` or `user`"));
    }
    let decision = match (input.decision.as_str(), input.to) {
        ("link", Some(to)) => Some(Decision::Link { to }),
        ("link", None) => {
            errors.push(FieldError::new(
                "to",
                "a link needs `to`: the app project or worker it is the same as",
            ));
            None
        }
        ("import", None) => Some(Decision::Import),
        ("ignore", None) => Some(Decision::Ignore),
        ("import" | "ignore", Some(_)) => {
            errors.push(FieldError::new("to", "only a link takes `to`"));
            None
        }
        (other, _) => {
            errors.push(FieldError::new(
                "decision",
                format!("\"{other}\" is no decision; use link, import or ignore"),
            ));
            None
        }
    };
    match (kind, decision) {
        (Some(k), Some(d)) if errors.is_empty() => Ok((k, d)),
        _ => Err(Problem::invalid(errors)),
    }
}

#[utoipa::path(
    get,
    path = "/api/v1/companies/{company_id}/workforce/waiting/{kind}/{procore_id}/preview",
    tag = "workforce",
    security(("token" = [])),
    params(
        ("company_id" = i64, Path),
        ("kind" = String, Path, description = "`project` or `user`"),
        ("procore_id" = i64, Path),
        DecisionInput,
    ),
    responses(
        (status = 200, description = "What the decision would do; nothing is changed", body = Preview),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The app record is linked already", body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn preview(
    caller: Caller,
    State(api): State<Api>,
    Path((company, kind, procore_id)): Path<(i64, String, i64)>,
    query: Result<Query<DecisionInput>, QueryRejection>,
) -> Result<Json<Preview>, Problem> {
    caller.reader()?;
    let Query(input) = query.map_err(|r| bad_query(&r))?;
    let (kind, decision) = decision_of(&kind, &input)?;
    let p = engine::workforce::preview(
        &api.store,
        company,
        kind,
        procore_id,
        decision,
        Utc::now().date_naive(),
    )
    .await
    .map_err(problem)?;
    Ok(Json(p.into()))
}

#[utoipa::path(
    post,
    path = "/api/v1/companies/{company_id}/workforce/waiting/{kind}/{procore_id}/decision",
    tag = "workforce",
    security(("token" = [])),
    params(
        ("company_id" = i64, Path),
        ("kind" = String, Path, description = "`project` or `user`"),
        ("procore_id" = i64, Path),
    ),
    request_body = DecisionInput,
    responses(
        (status = 200, description = "Decided; the queued sync of the record applies it", body = Decided),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The app record is linked already", body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn decide(
    caller: Caller,
    State(api): State<Api>,
    Path((company, kind, procore_id)): Path<(i64, String, i64)>,
    bytes: axum::body::Bytes,
) -> Result<Json<Decided>, Problem> {
    caller.admin()?;
    let input: DecisionInput = crate::problem::json_body(&bytes, "a decision")?;
    let (kind, decision) = decision_of(&kind, &input)?;
    let d = engine::workforce::decide(
        &api.store,
        company,
        kind,
        procore_id,
        decision,
        Utc::now(),
        api.job_attempts,
    )
    .await
    .map_err(problem)?;
    api.wake.notify_waiters();
    Ok(Json(Decided {
        preview: d.preview.into(),
        job_id: d.job_id,
    }))
}
