//! What the syncs did and do: run either integration now, preview one (a dry run answering
//! the plan with each decision's reason), the runs with their per-record entries, and
//! `explain` for any Procore record or form.

use crate::auth::Caller;
use crate::paging::{limit, paged, Next};
use crate::{Api, FieldError, Problem};
use axum::body::Bytes;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{DateTime, Utc};
use engine::run::{Reads, Report, RunOptions};
use engine::Integration;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use store::{RunId, SubjectKind};
use utoipa::{IntoParams, ToSchema};

/// Which integration, and how much of Procore to read.
#[derive(Debug, Deserialize, ToSchema)]
pub struct SyncBody {
    /// `workforce` or `compliance`.
    pub integration: String,
    /// Read everything, not only what changed since the last sync.
    #[serde(default)]
    pub full: bool,
}

/// A sync queued.
#[derive(Debug, Serialize, ToSchema)]
pub struct Queued {
    pub job_id: i64,
}

/// What a sync would do now; nothing was changed.
#[derive(Debug, Serialize, ToSchema)]
pub struct SyncPreview {
    /// The dry run, in the run log.
    pub run_id: i64,
    /// In a line.
    pub summary: String,
    /// Every decision, each with the rule that made it (`reason`).
    #[schema(value_type = Vec<Object>)]
    pub actions: Vec<Value>,
}

/// A sync run.
#[derive(Debug, Serialize, ToSchema)]
pub struct Run {
    pub id: i64,
    pub integration: String,
    pub dry_run: bool,
    pub started_at: DateTime<Utc>,
    /// None while it runs, or when its process stopped first.
    pub finished_at: Option<DateTime<Utc>>,
    /// Its counts, as the sync reported them.
    #[schema(value_type = Option<Object>)]
    pub summary: Option<Value>,
}

/// One decision of a run about one record.
#[derive(Debug, Serialize, ToSchema)]
pub struct Entry {
    /// `procore-project`, `procore-user`, `procore-company`, `form`, ...
    pub kind: String,
    pub procore_id: Option<i64>,
    pub local_id: Option<i64>,
    pub action: String,
    pub reason: String,
    /// `applied`, `planned`, `skipped`, `queued`, `failed`, ...
    pub outcome: String,
}

/// A run with its entries.
#[derive(Debug, Serialize, ToSchema)]
pub struct RunDetail {
    pub run: Run,
    pub entries: Vec<Entry>,
}

fn integration(name: &str) -> Result<Integration, Problem> {
    match name {
        "workforce" => Ok(Integration::Workforce),
        "compliance" => Ok(Integration::Compliance),
        other => Err(Problem::invalid(vec![FieldError::new(
            "integration",
            format!("\"{other}\" is no integration; use workforce or compliance"),
        )])),
    }
}

fn sync_body(bytes: &Bytes) -> Result<SyncBody, Problem> {
    crate::problem::json_body(bytes, "a sync (send {\"integration\": \"workforce\"})")
}

fn run_of(r: store::Run) -> Run {
    Run {
        id: r.id.0,
        integration: r.integration,
        dry_run: r.dry_run,
        started_at: r.started_at,
        finished_at: r.finished_at,
        summary: r
            .summary_json
            .as_deref()
            .and_then(|s| serde_json::from_str(s).ok()),
    }
}

#[utoipa::path(
    post,
    path = "/api/v1/companies/{company_id}/syncs",
    tag = "activity",
    description = "Queues a sync of one integration now; `trestle serve` runs it at once.",
    security(("token" = [])),
    params(
        ("company_id" = i64, Path),
    ),
    request_body = SyncBody,
    responses(
        (status = 202, description = "Queued (joined to a waiting one of the same kind, if any)", body = Queued),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn sync_now(
    caller: Caller,
    State(api): State<Api>,
    Path(company): Path<i64>,
    bytes: Bytes,
) -> Result<Response, Problem> {
    caller.admin()?;
    let b = sync_body(&bytes)?;
    let integration = integration(&b.integration)?;
    api.connection(company).await?;
    let work = sync::jobs::Work::Sync {
        integration,
        full: b.full,
        targets: None,
    };
    let queued =
        sync::jobs::enqueue(&api.store, company, &work, Utc::now(), api.job_attempts).await?;
    api.wake.notify_waiters();
    Ok((
        StatusCode::ACCEPTED,
        Json(Queued {
            job_id: queued.id(),
        }),
    )
        .into_response())
}

#[utoipa::path(
    post,
    path = "/api/v1/companies/{company_id}/syncs/preview",
    tag = "activity",
    description = "A dry run: reads Procore, plans, and answers every decision with its reason; changes nothing.",
    security(("token" = [])),
    params(("company_id" = i64, Path)),
    request_body = SyncBody,
    responses(
        (status = 200, description = "What the sync would do", body = SyncPreview),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
        (status = 502, description = "Procore refused or could not be reached", body = Problem, content_type = "application/problem+json"),
        (status = 503, body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn preview(
    caller: Caller,
    State(api): State<Api>,
    Path(company): Path<i64>,
    bytes: Bytes,
) -> Result<Json<SyncPreview>, Problem> {
    caller.admin()?;
    let b = sync_body(&bytes)?;
    let integration = integration(&b.integration)?;
    let connection = api.connection(company).await?;
    let settings = api.procore_settings()?;
    let client = engine::open::client_for(settings, &connection, &api.store)
        .map_err(|e| Problem::internal(&e))?;
    let options = RunOptions {
        dry_run: true,
        reads: if b.full { Reads::Whole } else { Reads::Changed },
        ..RunOptions::default()
    };
    let report = engine::run::run(&api.store, &client, &connection, integration, options)
        .await
        .map_err(|e| match e {
            sync::SyncError::Procore(p) => {
                Problem::new(StatusCode::BAD_GATEWAY, format!("Procore: {p}"))
            }
            other => Problem::internal(&other),
        })?;
    Ok(Json(SyncPreview::of(&report)))
}

impl SyncPreview {
    /// A dry run's report, as the preview answers it (and `trestle sync --dry-run --json`
    /// prints it).
    pub fn of(report: &Report) -> SyncPreview {
        let actions = match report {
            Report::Workforce(r) => r
                .plan
                .actions
                .iter()
                .filter_map(|a| with_why(a, a.reason()))
                .collect(),
            Report::Compliance(r) => r
                .plan
                .actions
                .iter()
                .filter_map(|a| with_why(a, a.reason()))
                .collect(),
        };
        SyncPreview {
            run_id: report.run().0,
            summary: report.summary_line(),
            actions,
        }
    }
}

/// An action as JSON, with the rule that decided it as the sentence `explain` shows.
fn with_why(action: &impl Serialize, reason: &impl std::fmt::Display) -> Option<Value> {
    let mut v = serde_json::to_value(action).ok()?;
    v["why"] = Value::String(reason.to_string());
    Some(v)
}

/// How many runs to list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RunsQuery {
    /// At most this many, newest first (1 to 500; 20 when not given).
    pub limit: Option<u32>,
    /// Only runs older than this one: the next page.
    pub before: Option<i64>,
}

#[utoipa::path(
    get,
    path = "/api/v1/companies/{company_id}/runs",
    tag = "activity",
    security(("token" = [])),
    params(("company_id" = i64, Path), RunsQuery),
    responses(
        (status = 200, description = "The latest runs, newest first; a full page carries `Link: <URL>; rel=\"next\"`", body = Vec<Run>),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn runs(
    caller: Caller,
    State(api): State<Api>,
    Path(company): Path<i64>,
    query: Result<Query<RunsQuery>, QueryRejection>,
) -> Result<Response, Problem> {
    caller.reader()?;
    let Query(q) = query.map_err(|r| crate::problem::bad_query(&r))?;
    let mut errors = Vec::new();
    let limit = limit(q.limit, 20, 500, &mut errors);
    if !errors.is_empty() {
        return Err(Problem::invalid(errors));
    }
    let runs = api.store.runs(company, q.before, limit).await?;
    Ok(paged(
        runs.into_iter().map(run_of).collect(),
        limit,
        |r: &Run| r.id.to_string(),
        Next {
            path: format!("/api/v1/companies/{company}/runs"),
            cursor: "before",
            filters: &[],
        },
    ))
}

#[utoipa::path(
    get,
    path = "/api/v1/companies/{company_id}/runs/{id}",
    tag = "activity",
    security(("token" = [])),
    params(("company_id" = i64, Path), ("id" = i64, Path)),
    responses(
        (status = 200, description = "The run and every decision it made, per record", body = RunDetail),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn run(
    caller: Caller,
    State(api): State<Api>,
    Path((company, id)): Path<(i64, i64)>,
) -> Result<Json<RunDetail>, Problem> {
    caller.reader()?;
    let run = api
        .store
        .run(RunId(id))
        .await?
        .filter(|r| r.company_id == company)
        .ok_or_else(|| Problem::not_found(format!("there is no run {id} of company {company}")))?;
    let entries = api.store.run_entries(run.id).await?;
    Ok(Json(RunDetail::of(run, entries)))
}

impl RunDetail {
    /// A run and its entries, as `GET …/runs/{id}` answers them (and `trestle sync --json`
    /// prints them).
    pub fn of(run: store::Run, entries: Vec<store::RunEntryRecord>) -> RunDetail {
        RunDetail {
            run: run_of(run),
            entries: entries
                .into_iter()
                .map(|e| Entry {
                    kind: e.entry.kind.as_str().into(),
                    procore_id: e.entry.procore_id,
                    local_id: e.entry.local_id,
                    action: e.entry.action,
                    reason: e.entry.reason,
                    outcome: e.entry.outcome,
                })
                .collect(),
        }
    }
}

/// The answer of `explain`: a Procore record or form explained, or an app record with the
/// Procore record it follows (`record`, `id`, `follows`).
#[derive(Debug, Serialize, ToSchema)]
#[serde(untagged)]
pub enum ExplainAnswer {
    App(engine::explain::AppExplanation),
    Record(engine::explain::Explanation),
}

#[utoipa::path(
    get,
    path = "/api/v1/companies/{company_id}/explain/{kind}/{id}",
    tag = "activity",
    description = "Why a record is as it is: what trestle holds for it, and what the syncs decided and why. An app record (`worker`, `project`, `party`, `compliance-project`, `contact`) is answered with the Procore record it follows, explained (`follows`), or `follows: null` when it follows none, so no sync changes it.",
    security(("token" = [])),
    params(
        ("company_id" = i64, Path),
        ("kind" = String, Path, description = "A Procore record: `procore-project`, `procore-user`, `procore-company`, `procore-contact`, `procore-commitment`; `form`; or an app record: `worker`, `project`, `party`, `compliance-project`, `contact`"),
        ("id" = i64, Path, description = "The Procore id of a Procore record, trestle's own id of a form or an app record"),
    ),
    responses(
        (status = 200, description = "The explanation", body = ExplainAnswer),
        (status = 404, description = "No such app record", body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn explain(
    caller: Caller,
    State(api): State<Api>,
    Path((company, kind, id)): Path<(i64, String, i64)>,
) -> Result<Json<ExplainAnswer>, Problem> {
    use engine::explain::{explain, explain_app, AppRecord, ExplainError};
    caller.reader()?;
    let answer = match AppRecord::parse(&kind) {
        Some(record) => explain_app(&api.store, company, record, id)
            .await
            .map(ExplainAnswer::App),
        None => explain(&api.store, company, SubjectKind::parse(&kind), id)
            .await
            .map(ExplainAnswer::Record),
    };
    match answer {
        Ok(answer) => Ok(Json(answer)),
        Err(e @ ExplainError::NotExplained(_)) => Err(Problem::invalid(vec![FieldError::new(
            "kind",
            format!(
                "{e}; an app record's kind is one of {}",
                AppRecord::ALL.map(AppRecord::as_str).join(", ")
            ),
        )])),
        Err(e @ ExplainError::NoSuchRecord(..)) => Err(Problem::not_found(e.to_string())),
        Err(ExplainError::Store(e)) => Err(e.into()),
        Err(e) => Err(Problem::internal(&e)),
    }
}
