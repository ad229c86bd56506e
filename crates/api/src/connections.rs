//! `/api/v1/connections`: each connected Procore company's state, as `trestle status` shows
//! it: what is wrong and what fixes it, its webhook, its queue and its last syncs. Read from the
//! store alone, so it answers when Procore does not.

use crate::auth::Caller;
use crate::{Api, Problem};
use axum::extract::State;
use axum::Json;
use chrono::{DateTime, Utc};
use engine::status::CompanyStatus;
use serde::Serialize;
use store::JobState;
use utoipa::ToSchema;

/// One connected company.
#[derive(Debug, Serialize, ToSchema)]
pub struct Connection {
    pub company_id: i64,
    /// The worst of its health: `ok`, `degraded` or `failing`.
    pub state: String,
    /// What is wrong (nothing when all is well), each with what fixes it.
    pub problems: Vec<HealthProblem>,
    pub webhook: Webhook,
    pub queue: Queue,
    pub last_syncs: Vec<LastSync>,
}

/// One aspect of a company's integration that is not well.
#[derive(Debug, Serialize, ToSchema)]
pub struct HealthProblem {
    /// `credentials`, `permissions`, `webhook`, `sync.workforce`, `sync.compliance`,
    /// `rate_limit`.
    pub aspect: String,
    /// `degraded` or `failing`.
    pub state: String,
    pub problem: String,
    pub remedy: String,
    pub since: DateTime<Utc>,
}

/// The company's Procore hook.
#[derive(Debug, Serialize, ToSchema)]
pub struct Webhook {
    /// Where it should deliver; none without `server.public_url`.
    pub wanted_url: Option<String>,
    /// Where the hook trestle registered delivers; none when there is none.
    pub registered_url: Option<String>,
    pub checked_at: Option<DateTime<Utc>>,
    /// Registered where it should be (or none wanted and none there).
    pub in_place: bool,
}

/// The company's jobs by state; a count of 1000 means at least that many.
#[derive(Debug, Serialize, ToSchema)]
pub struct Queue {
    pub pending: u32,
    pub running: u32,
    pub dead: u32,
}

/// The last real run of one integration.
#[derive(Debug, Serialize, ToSchema)]
pub struct LastSync {
    /// `workforce` or `compliance`.
    pub integration: String,
    pub run_id: Option<i64>,
    pub started_at: Option<DateTime<Utc>>,
    /// None while it runs, or when its process stopped before it finished.
    pub finished_at: Option<DateTime<Utc>>,
}

impl From<CompanyStatus> for Connection {
    fn from(s: CompanyStatus) -> Connection {
        Connection {
            company_id: s.company_id,
            state: s.state().as_str().into(),
            problems: s
                .health
                .iter()
                .map(|h| HealthProblem {
                    aspect: h.aspect.clone(),
                    state: h.state.as_str().into(),
                    problem: h.problem.clone(),
                    remedy: h.remedy.clone(),
                    since: h.since,
                })
                .collect(),
            webhook: Webhook {
                in_place: s.webhook.in_place(),
                wanted_url: s.webhook.wanted_url.clone(),
                registered_url: s
                    .webhook
                    .registered
                    .as_ref()
                    .map(|r| r.destination_url.clone()),
                checked_at: s.webhook.registered.as_ref().and_then(|r| r.checked_at),
            },
            queue: Queue {
                pending: s.queue.count(JobState::Pending).n,
                running: s.queue.count(JobState::Running).n,
                dead: s.queue.count(JobState::Dead).n,
            },
            last_syncs: s
                .last_runs
                .iter()
                .map(|l| LastSync {
                    integration: l.integration.as_str().into(),
                    run_id: l.run.as_ref().map(|r| r.id.0),
                    started_at: l.run.as_ref().map(|r| r.started_at),
                    finished_at: l.run.as_ref().and_then(|r| r.finished_at),
                })
                .collect(),
        }
    }
}

#[utoipa::path(
    get,
    path = "/api/v1/connections",
    tag = "connections",
    security(("token" = [])),
    responses(
        (status = 200, description = "Every connected company, by company id", body = Vec<Connection>),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn list(
    caller: Caller,
    State(api): State<Api>,
) -> Result<Json<Vec<Connection>>, Problem> {
    caller.reader()?;
    let all = engine::status::status(api.public_url.as_deref(), &api.store, None)
        .await
        .map_err(|e| Problem::internal(&e))?;
    Ok(Json(all.into_iter().map(Connection::from).collect()))
}
