//! `/api/v1/connections`: each connected Procore company's state, as `trestle status` shows
//! it: what is wrong and what fixes it, its webhook, its queue and its last syncs. Read from the
//! store alone, so it answers when Procore does not. Connecting a company (with the permission
//! checklist), changing its settings and disconnecting it.

use crate::auth::Caller;
use crate::paging::PageQuery;
use crate::{etag, Api, FieldError, Problem};
use axum::body::Bytes;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{DateTime, Utc};
use engine::connect::{ConnectError, ConnectRequest, Toggles};
use engine::hooks::HookOutcome;
use engine::status::CompanyStatus;
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use store::JobState;
use utoipa::ToSchema;

/// One connected company.
#[derive(Debug, Serialize, ToSchema)]
pub struct Connection {
    pub company_id: i64,
    /// The workforce integration's settings; its `ETag` (on `GET /connections/{company_id}`)
    /// covers these alone.
    pub settings: ConnectionSettings,
    /// The worst of its health: `ok`, `degraded` or `failing`.
    pub state: String,
    /// What is wrong (nothing when all is well), each with what fixes it.
    pub problems: Vec<HealthProblem>,
    pub webhook: Webhook,
    pub queue: Queue,
    pub last_syncs: Vec<LastSync>,
}

/// Corfix's toggles and forms folder.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConnectionSettings {
    /// Only users marked as employees in Procore become workers.
    pub sync_employees_only: bool,
    /// New workers are activated at once.
    pub auto_activate_workers: bool,
    /// Completed form PDFs go to each project's Procore Documents.
    pub sync_forms: bool,
    /// The forms folder's name in each project's Documents.
    pub forms_folder: String,
}

impl From<&store::Connection> for ConnectionSettings {
    fn from(c: &store::Connection) -> ConnectionSettings {
        ConnectionSettings {
            sync_employees_only: c.sync_employees_only,
            auto_activate_workers: c.auto_activate_workers,
            sync_forms: c.sync_forms,
            forms_folder: c.forms_folder.clone(),
        }
    }
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

impl Connection {
    /// The company's state, with the settings it is connected with.
    pub fn of(s: CompanyStatus, connection: &store::Connection) -> Connection {
        Connection {
            company_id: s.company_id,
            settings: connection.into(),
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
    params(PageQuery),
    responses(
        (status = 200, description = "Every connected company, by company id (`after`: a company id); a full page carries `Link: <URL>; rel=\"next\"`", body = Vec<Connection>),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn list(
    caller: Caller,
    State(api): State<Api>,
    query: Result<Query<PageQuery>, QueryRejection>,
) -> Result<Response, Problem> {
    caller.reader()?;
    let Query(page) = query.map_err(|r| crate::problem::bad_query(&r))?;
    let all = engine::status::status(api.public_url.as_deref(), &api.store, None)
        .await
        .map_err(|e| Problem::internal(&e))?;
    let mut shown = Vec::with_capacity(all.len());
    for s in all {
        // A company disconnected since its status was read is not shown.
        if let Some(c) = api.store.connection(s.company_id).await? {
            shown.push(Connection::of(s, &c));
        }
    }
    crate::paging::by_id(
        shown,
        |c: &Connection| c.company_id,
        &page,
        "/api/v1/connections".into(),
    )
}

#[utoipa::path(
    get,
    path = "/api/v1/connections/{company_id}",
    tag = "connections",
    security(("token" = [])),
    params(("company_id" = i64, Path)),
    responses(
        (status = 200, description = "The company's settings, health, hook, queue and last syncs, with the settings' `ETag`", body = Connection),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn show(
    caller: Caller,
    State(api): State<Api>,
    Path(company): Path<i64>,
) -> Result<Response, Problem> {
    caller.reader()?;
    let connection = api.connection(company).await?;
    let status = engine::status::status(api.public_url.as_deref(), &api.store, Some(company))
        .await
        .map_err(|e| Problem::internal(&e))?
        .into_iter()
        .next()
        .ok_or_else(|| crate::not_connected(company))?;
    let shown = Connection::of(status, &connection);
    let tag = etag::of(&shown.settings);
    Ok(etag::tagged(Json(shown).into_response(), &tag))
}

/// A company to connect (or connect again, to rotate the secret or change a toggle).
#[derive(Debug, Deserialize, ToSchema)]
pub struct ConnectBody {
    /// The number after `/app/company/` in a Procore URL.
    pub company_id: i64,
    /// The OAuth client id of trestle's Procore app.
    pub client_id: String,
    /// Its client secret: kept sealed, never answered.
    pub client_secret: String,
    /// Only users marked as employees in Procore become workers.
    pub sync_employees_only: Option<bool>,
    /// New workers are activated at once.
    pub auto_activate_workers: Option<bool>,
    /// Completed form PDFs go to each project's Procore Documents.
    pub sync_forms: Option<bool>,
    /// The forms folder's name in each project's Documents.
    pub forms_folder: Option<String>,
    /// Run the checks and save nothing.
    #[serde(default)]
    pub check_only: bool,
}

/// Changes to a connected company's settings; those not given stay.
#[derive(Debug, Deserialize, ToSchema)]
pub struct SettingsBody {
    pub sync_employees_only: Option<bool>,
    pub auto_activate_workers: Option<bool>,
    pub sync_forms: Option<bool>,
    pub forms_folder: Option<String>,
}

/// One permission check, as Procore answered it.
#[derive(Debug, Serialize, ToSchema)]
pub struct Check {
    pub what: String,
    pub ok: bool,
    pub detail: String,
}

/// A connection whose checks passed.
#[derive(Debug, Serialize, ToSchema)]
pub struct Connected {
    pub company_id: i64,
    /// `false` for a check only.
    pub saved: bool,
    pub sync_employees_only: bool,
    pub auto_activate_workers: bool,
    pub sync_forms: bool,
    pub forms_folder: String,
    /// The workforce integration's checks (all passed).
    pub workforce: Vec<Check>,
    /// The compliance integration's checks; those that failed say what its first sync would
    /// lack.
    pub compliance: Vec<Check>,
    /// The webhook: `in place`, `none wanted` (no `server.public_url`), or what failed.
    pub webhook: Option<String>,
    /// The first sync queued (a new connection).
    pub job_id: Option<i64>,
}

fn checks(list: &[sync::workforce::access::AccessCheck]) -> Vec<Check> {
    list.iter()
        .map(|c| Check {
            what: c.what.into(),
            ok: c.ok,
            detail: c.detail.clone(),
        })
        .collect()
}

/// A refused connection: the failed checks, each named after what the person fixes (as
/// `POST /connections` answers it, and `trestle connect --json` prints it).
pub fn refused(r: &engine::connect::Refusal) -> Problem {
    use sync::workforce::access::Problem as Kind;
    let field = match r.problem {
        Kind::SignIn => "client_secret",
        Kind::Company => "company_id",
        Kind::Unreachable => "procore",
        Kind::Permission => "permissions",
    };
    let mut errors: Vec<FieldError> = r
        .failed()
        .map(|c| FieldError::new(field, format!("{}: {}", c.what, c.detail)))
        .collect();
    if errors.is_empty() {
        errors.push(FieldError::new(field, r.headline()));
    }
    let mut p = Problem::invalid(errors);
    p.detail = match r.advice() {
        Some(advice) => format!("{}: {advice}", r.headline()),
        None => r.headline(),
    };
    p
}

async fn connect_with(
    api: &Api,
    request: ConnectRequest,
    first_sync: bool,
) -> Result<Connected, Problem> {
    let settings = api.procore_settings()?;
    let company = request.company_id;
    let check_only = request.check_only;
    let c = match engine::connect::connect(settings, &api.store, request).await {
        Ok(c) => c,
        Err(ConnectError::Refused(r)) => return Err(refused(&r)),
        Err(ConnectError::Store(e)) => return Err(e.into()),
        Err(e @ ConnectError::Open(_)) => {
            return Err(Problem::invalid(vec![FieldError::new(
                "company_id",
                e.to_string(),
            )]))
        }
        Err(e) => return Err(Problem::conflict(e.to_string())),
    };
    let mut job_id = None;
    if first_sync && !check_only && !c.connected_before {
        let work = sync::jobs::Work::Sync {
            integration: engine::Integration::Workforce,
            full: true,
            targets: None,
        };
        let enqueued =
            sync::jobs::enqueue(&api.store, company, &work, Utc::now(), api.job_attempts).await?;
        job_id = Some(enqueued.id());
        api.wake.notify_waiters();
    }
    Ok(Connected::of(&c, job_id))
}

impl Connected {
    /// A connection whose checks passed, and the first sync queued for it if one was, as
    /// `POST /connections` answers it (and `trestle connect --json` prints it).
    pub fn of(c: &engine::connect::Connected, job_id: Option<i64>) -> Connected {
        let webhook = c.webhook.as_ref().map(|w| match w {
            HookOutcome::NoPublicUrl => "none wanted: no server.public_url".to_string(),
            HookOutcome::InPlace {
                destination_url, ..
            } => format!("in place at {destination_url}"),
            HookOutcome::Failed { error, .. } => format!("failed: {error}"),
        });
        Connected {
            company_id: c.connection.company_id,
            saved: c.saved,
            sync_employees_only: c.connection.sync_employees_only,
            auto_activate_workers: c.connection.auto_activate_workers,
            sync_forms: c.connection.sync_forms,
            forms_folder: c.connection.forms_folder.clone(),
            workforce: checks(&c.workforce),
            compliance: checks(&c.compliance),
            webhook,
            job_id,
        }
    }
}

#[utoipa::path(
    post,
    path = "/api/v1/connections",
    tag = "connections",
    description = "Connects a Procore company: checks what trestle may do there (the permission checklist), saves the connection, registers the webhook, and queues the first sync.",
    security(("token" = [])),
    request_body = ConnectBody,
    responses(
        (status = 201, description = "Connected", body = Connected),
        (status = 200, description = "Connected again (a rotated secret, changed toggles), or, for `check_only`, checked and nothing saved", body = Connected),
        (status = 422, description = "Refused: each failed check, named after what to fix (`client_secret`, `company_id`, `permissions`)", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "This server cannot reach Procore", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn connect(
    caller: Caller,
    State(api): State<Api>,
    bytes: Bytes,
) -> Result<Response, Problem> {
    caller.admin()?;
    let b: ConnectBody = crate::problem::json_body(
        &bytes,
        "a connection (send company_id, client_id and client_secret)",
    )?;
    let mut errors = Vec::new();
    if b.client_id.trim().is_empty() {
        errors.push(FieldError::new("client_id", "the app's client id is empty"));
    }
    if b.client_secret.trim().is_empty() {
        errors.push(FieldError::new(
            "client_secret",
            "the app's client secret is empty",
        ));
    }
    if b.company_id <= 0 {
        errors.push(FieldError::new(
            "company_id",
            "the number after /app/company/ in a Procore URL",
        ));
    }
    if !errors.is_empty() {
        return Err(Problem::invalid(errors));
    }
    let before = api.store.connection(b.company_id).await?.is_some();
    let request = ConnectRequest {
        company_id: b.company_id,
        client_id: b.client_id.trim().to_string(),
        client_secret: SecretString::from(b.client_secret.trim().to_string()),
        toggles: Toggles {
            sync_employees_only: b.sync_employees_only,
            auto_activate_workers: b.auto_activate_workers,
            sync_forms: b.sync_forms,
            forms_folder: b.forms_folder,
        },
        auth_code: None,
        require_compliance: false,
        check_only: b.check_only,
        as_read: None,
        keep_credentials: false,
    };
    let c = connect_with(&api, request, true).await?;
    // Only a connection that was not there before and is now is made (201); a check saves
    // nothing.
    let status = if before || b.check_only {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok((status, Json(c)).into_response())
}

#[utoipa::path(
    patch,
    path = "/api/v1/connections/{company_id}",
    tag = "connections",
    description = "Changes the workforce integration's settings, checked again with the saved credentials (turning on Sync Forms checks the Documents permission).",
    security(("token" = [])),
    params(
        ("company_id" = i64, Path),
        ("If-Match" = Option<String>, Header, description = "The connection's ETag as read: the change is refused (412) if its settings changed since"),
    ),
    request_body = SettingsBody,
    responses(
        (status = 200, description = "Saved", body = Connected),
        (status = 412, description = "Changed since the ETag in If-Match", body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
        (status = 503, body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn change(
    caller: Caller,
    State(api): State<Api>,
    Path(company): Path<i64>,
    headers: HeaderMap,
    bytes: Bytes,
) -> Result<Json<Connected>, Problem> {
    caller.admin()?;
    let b: SettingsBody = crate::problem::json_body(&bytes, "a connection's settings")?;
    if b.forms_folder
        .as_deref()
        .is_some_and(|f| f.trim().is_empty())
    {
        return Err(Problem::invalid(vec![FieldError::new(
            "forms_folder",
            "the forms folder needs a name",
        )]));
    }
    let saved = api.connection(company).await?;
    etag::check(
        &headers,
        &etag::of(&ConnectionSettings::from(&saved)),
        "the connection's settings",
    )?;
    let request = ConnectRequest {
        company_id: company,
        client_id: saved.client_id.clone(),
        client_secret: saved.client_secret.clone(),
        toggles: Toggles {
            sync_employees_only: b.sync_employees_only,
            auto_activate_workers: b.auto_activate_workers,
            sync_forms: b.sync_forms,
            forms_folder: b.forms_folder,
        },
        auth_code: None,
        require_compliance: false,
        check_only: false,
        as_read: etag::as_read(&headers, &saved).cloned(),
        keep_credentials: true,
    };
    Ok(Json(connect_with(&api, request, false).await?))
}

#[utoipa::path(
    delete,
    path = "/api/v1/connections/{company_id}",
    tag = "connections",
    description = "Removes trestle's webhook from the company and forgets its connection and credentials; its records stay.",
    security(("token" = [])),
    params(("company_id" = i64, Path)),
    responses(
        (status = 204, description = "Disconnected"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 503, body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn disconnect(
    caller: Caller,
    State(api): State<Api>,
    Path(company): Path<i64>,
) -> Result<StatusCode, Problem> {
    caller.admin()?;
    let settings = api.procore_settings()?;
    match engine::hooks::disconnect(settings, &api.store, company).await {
        Ok(_) => Ok(StatusCode::NO_CONTENT),
        Err(engine::hooks::HooksError::Open(engine::OpenError::NotConnected(_))) => {
            Err(crate::not_connected(company))
        }
        Err(e) => Err(Problem::internal(&e)),
    }
}

/// What checking and repairing a company's hook came to: in place at `destination_url`, and
/// what had to change in Procore for that (nothing, when it was in place).
#[derive(Debug, Serialize, ToSchema)]
pub struct HookRepaired {
    pub company_id: i64,
    /// Where the hook delivers: `server.public_url`'s webhook address for the company.
    pub destination_url: String,
    /// Whether anything in Procore had to change.
    pub repaired: bool,
    /// A hook was created (none was there, or the one there could not be used).
    pub created: bool,
    /// trestle's hooks at another address, or with a secret trestle no longer holds, removed.
    pub stale_removed: usize,
    /// Triggers added for the integrations the company has on, and those no longer wanted.
    pub triggers_added: Vec<String>,
    pub triggers_removed: Vec<String>,
}

impl HookRepaired {
    /// Company `company`'s hook in place at `destination_url` after what `report` says was
    /// done, as the API answers it.
    pub fn of(
        company: i64,
        destination_url: String,
        report: sync::webhooks::HookReport,
    ) -> HookRepaired {
        HookRepaired {
            company_id: company,
            destination_url,
            repaired: report.repaired(),
            created: report.created,
            stale_removed: report.stale_removed,
            triggers_added: report.triggers_added,
            triggers_removed: report.triggers_removed,
        }
    }
}

#[utoipa::path(
    post,
    path = "/api/v1/connections/{company_id}/webhook/repair",
    tag = "connections",
    description = "Checks the company's Procore webhook against `server.public_url` and the integrations it has on, and repairs what differs (a missing hook, another address, missing triggers), as `trestle hooks repair` does. The company's `webhook` health follows the outcome. A hook that had to be repaired delivered nothing meanwhile, so a sync of each integration is queued to read what changed.",
    security(("token" = [])),
    params(("company_id" = i64, Path)),
    responses(
        (status = 200, description = "The hook is in place; what had to change for that", body = HookRepaired),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "No `server.public_url`: Procore has nowhere to deliver, so there is no hook to check", body = Problem, content_type = "application/problem+json"),
        (status = 502, description = "Procore refused or could not be reached; the detail says what to fix", body = Problem, content_type = "application/problem+json"),
        (status = 503, body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn repair_webhook(
    caller: Caller,
    State(api): State<Api>,
    Path(company): Path<i64>,
) -> Result<Json<HookRepaired>, Problem> {
    use engine::hooks::{repair, HooksError};
    caller.admin()?;
    let settings = api.procore_settings()?;
    let repaired = match repair(settings, &api.store, Some(company), Utc::now()).await {
        Ok(r) => r,
        Err(e @ HooksError::NoPublicUrl) => return Err(Problem::conflict(e.to_string())),
        Err(HooksError::Open(engine::OpenError::NotConnected(_))) => {
            return Err(crate::not_connected(company))
        }
        Err(HooksError::Store(e)) => return Err(e.into()),
        Err(e) => return Err(Problem::internal(&e)),
    };
    let outcome = repaired
        .into_iter()
        .next()
        .map(|r| r.outcome)
        .ok_or_else(|| crate::not_connected(company))?;
    match outcome {
        HookOutcome::InPlace {
            destination_url,
            report,
        } => {
            // Any syncs the repair queued, to read what the hook never delivered.
            api.wake.notify_waiters();
            Ok(Json(HookRepaired::of(company, destination_url, report)))
        }
        HookOutcome::Failed {
            destination_url,
            error,
        } => Err(Problem::new(
            StatusCode::BAD_GATEWAY,
            format!(
                "the hook at {destination_url} could not be checked: {error}. If Procore refused, \
                 give trestle's Procore app permission to manage webhooks (Company Admin > \
                 Webhooks); then ask again"
            ),
        )),
        HookOutcome::NoPublicUrl => Err(Problem::conflict(
            engine::hooks::HooksError::NoPublicUrl.to_string(),
        )),
    }
}
