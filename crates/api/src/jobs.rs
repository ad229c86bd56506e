//! `/api/v1/jobs`: the work queue as an operator sees it, and retrying failed work.

use crate::auth::Caller;
use crate::paging::{limit, paged, Next};
use crate::problem::bad_query;
use crate::{Api, FieldError, Problem};
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::Json;
use chrono::{DateTime, Utc};
use engine::jobs::{JobQuery, RetryError};
use serde::{Deserialize, Serialize};
use store::{Job as StoredJob, JobState};
use utoipa::{IntoParams, ToSchema};

/// A unit of work of `trestle serve`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Job {
    pub id: i64,
    pub company_id: i64,
    /// `route`, `hook`, `sync.workforce.changes`, `sync.compliance.records`, ...
    pub kind: String,
    /// `pending`, `running`, `done` or `dead`.
    pub state: String,
    pub attempts: u32,
    pub max_attempts: u32,
    pub run_at: DateTime<Utc>,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
}

impl From<StoredJob> for Job {
    fn from(j: StoredJob) -> Job {
        Job {
            id: j.id,
            company_id: j.company_id,
            kind: j.kind,
            state: j.state.as_str().into(),
            attempts: j.attempts,
            max_attempts: j.max_attempts,
            run_at: j.run_at,
            last_error: j.last_error,
            created_at: j.created_at,
            finished_at: j.finished_at,
        }
    }
}

/// Which jobs to list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct JobsQuery {
    /// Only this company's.
    pub company_id: Option<i64>,
    /// Only jobs in this state: `pending`, `running`, `done` or `dead`.
    pub state: Option<String>,
    /// At most this many, newest first (1 to 500; 50 when not given).
    pub limit: Option<u32>,
    /// Only jobs older than this job id: the next page. The `Link` header of a full page
    /// gives the next page's URL.
    pub before: Option<i64>,
}

/// A retried job.
#[derive(Debug, Serialize, ToSchema)]
pub struct Retried {
    /// The job as it was before the retry.
    pub job: Job,
    /// A waiting job of the same kind that took this one's place.
    pub merged_into: Option<i64>,
}

#[utoipa::path(
    get,
    path = "/api/v1/jobs",
    tag = "jobs",
    security(("token" = [])),
    params(JobsQuery),
    responses(
        (status = 200, description = "Jobs, newest first; a full page carries `Link: <URL>; rel=\"next\"`", body = Vec<Job>),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn list(
    caller: Caller,
    State(api): State<Api>,
    query: Result<Query<JobsQuery>, QueryRejection>,
) -> Result<Response, Problem> {
    caller.reader()?;
    let Query(query) = query.map_err(|r| bad_query(&r))?;
    let mut errors = Vec::new();
    let state = match query.state.as_deref() {
        None => None,
        Some(s) => {
            let parsed = JobState::parse(s);
            if parsed.is_none() {
                errors.push(FieldError::new(
                    "state",
                    format!("\"{s}\" is no job state; use pending, running, done or dead"),
                ));
            }
            parsed
        }
    };
    let limit = limit(query.limit, 50, 500, &mut errors);
    if !errors.is_empty() {
        return Err(Problem::invalid(errors));
    }
    let jobs = engine::jobs::list(
        &api.store,
        &JobQuery {
            company: query.company_id,
            state,
            before: query.before,
            limit,
        },
    )
    .await?;
    // Newest first: the next page starts below this page's last (oldest) job.
    Ok(paged(
        jobs.into_iter().map(Job::from).collect(),
        limit,
        |j: &Job| j.id.to_string(),
        Next {
            path: "/api/v1/jobs".into(),
            cursor: "before",
            filters: &[
                ("company_id", query.company_id.map(|c| c.to_string())),
                ("state", state.map(|s| s.as_str().to_string())),
            ],
        },
    ))
}

#[utoipa::path(
    post,
    path = "/api/v1/jobs/{id}/retry",
    tag = "jobs",
    security(("token" = [])),
    params(
        ("id" = i64, Path, description = "The job's id"),
    ),
    responses(
        (status = 200, description = "Due now, its attempts counted from none", body = Retried),
        (status = 422, description = "An Idempotency-Key used for another request", body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Running or done: nothing to retry", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn retry(
    caller: Caller,
    State(api): State<Api>,
    Path(id): Path<i64>,
) -> Result<Json<Retried>, Problem> {
    caller.admin()?;
    match engine::jobs::retry(&api.store, None, id, Utc::now()).await {
        Ok(r) => Ok(Json(Retried {
            job: r.job.into(),
            merged_into: r.merged_into,
        })),
        Err(e @ RetryError::UnknownJob { .. }) => Err(Problem::not_found(e.to_string())),
        Err(e @ RetryError::NotRetryable { .. }) => Err(Problem::conflict(e.to_string())),
        Err(RetryError::Store(e)) => Err(e.into()),
        Err(e) => Err(Problem::internal(&e)),
    }
}

#[utoipa::path(
    post,
    path = "/api/v1/jobs/{id}/discard",
    tag = "jobs",
    description = "Discards a dead or pending job: its work is not done.",
    security(("token" = [])),
    params(("id" = i64, Path, description = "The job's id")),
    responses(
        (status = 200, description = "Discarded; the job as it was", body = Job),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Running or done: nothing to discard", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn discard(
    caller: Caller,
    State(api): State<Api>,
    Path(id): Path<i64>,
) -> Result<Json<Job>, Problem> {
    caller.admin()?;
    match engine::jobs::discard(&api.store, None, id).await {
        Ok(job) => Ok(Json(job.into())),
        Err(e @ RetryError::UnknownJob { .. }) => Err(Problem::not_found(e.to_string())),
        Err(e @ RetryError::NotRetryable { .. }) => Err(Problem::conflict(e.to_string())),
        Err(RetryError::Store(e)) => Err(e.into()),
        Err(e) => Err(Problem::internal(&e)),
    }
}
