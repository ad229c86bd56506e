//! `/api/v1/companies/{company_id}/compliance/mappings/...`: TrustLayer's mapping screen. Every
//! Procore project and company trestle has seen, with what becomes of it (import, link to an
//! existing record, do not add), a preview of each decision, and the decision itself, which
//! queues the compliance sync that carries it out. Its shapes are also what `trestle
//! compliance mappings --json` prints.

use crate::auth::Caller;
use crate::compliance::queue_sync;
use crate::paging::{limit, paged, window, Next};
use crate::{Api, FieldError, Problem};
use axum::body::Bytes;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Json;
use chrono::Utc;
use engine::mapping::MapError;
use engine::views::{MappingRow, MappingState};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use store::{MappingDecision, ProcoreRecordKind};
use utoipa::{IntoParams, ToSchema};

/// A Procore project or company trestle has seen, and what becomes of it.
#[derive(Debug, Serialize, ToSchema)]
pub struct Mapping {
    /// `project` or `company`.
    pub kind: String,
    pub procore_id: i64,
    /// Its name as a sync last read it.
    pub name: Option<String>,
    /// `undecided`, `import`, `link` or `do_not_add`.
    pub decision: String,
    /// For `link`: the compliance project or party it is the same as.
    pub to: Option<i64>,
    /// What trestle holds for it now: `waiting` (for a person's decision),
    /// `imported_automatically` (a setting brought it in), `imported`, `import_pending`,
    /// `linked`, `link_pending` or `do_not_add`.
    pub state: String,
    /// The compliance project or party it is now, if any.
    pub local_id: Option<i64>,
}

fn decision_name(d: MappingDecision) -> (&'static str, Option<i64>) {
    match d {
        MappingDecision::Undecided => ("undecided", None),
        MappingDecision::Import => ("import", None),
        MappingDecision::LinkTo(to) => ("link", Some(to)),
        MappingDecision::DoNotAdd => ("do_not_add", None),
    }
}

impl From<MappingRow> for Mapping {
    fn from(r: MappingRow) -> Mapping {
        let (decision, to) = decision_name(r.decision);
        let (state, local_id) = match r.state {
            MappingState::ImportedAutomatically(id) => ("imported_automatically", Some(id)),
            MappingState::Waiting => ("waiting", None),
            MappingState::Imported(id) => ("imported", Some(id)),
            MappingState::ImportPending => ("import_pending", None),
            MappingState::Linked(id) => ("linked", Some(id)),
            MappingState::LinkPending(_) => ("link_pending", None),
            MappingState::DoNotAdd => ("do_not_add", None),
        };
        Mapping {
            kind: r.kind.as_str().into(),
            procore_id: r.procore_id,
            name: r.name,
            decision: decision.into(),
            to,
            state: state.into(),
            local_id,
        }
    }
}

/// The cursor of a mapping row: its kind and Procore id, as `company:562949953421312`.
fn cursor(m: &Mapping) -> String {
    format!("{}:{}", m.kind, m.procore_id)
}

/// Which mapping rows to list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MappingsQuery {
    /// Only those waiting for a person's decision.
    #[serde(default)]
    pub waiting: bool,
    /// Only `project` or only `company` rows.
    pub kind: Option<String>,
    /// Part of the name, any case.
    pub q: Option<String>,
    /// At most this many, projects first then companies, each by Procore id (1 to 500; 100
    /// when not given).
    pub limit: Option<u32>,
    /// Only rows after this one (`project:ID` or `company:ID`): the next page.
    pub after: Option<String>,
}

fn kind_of(kind: &str, errors: &mut Vec<FieldError>) -> Option<ProcoreRecordKind> {
    match kind {
        "project" => Some(ProcoreRecordKind::Project),
        "company" => Some(ProcoreRecordKind::Company),
        _ => {
            errors.push(FieldError::new(
                "kind",
                format!("\"{kind}\" is no kind; use `project` or `company`"),
            ));
            None
        }
    }
}

#[utoipa::path(
    get,
    path = "/api/v1/companies/{company_id}/compliance/mappings",
    tag = "compliance",
    security(("token" = [])),
    params(("company_id" = i64, Path), MappingsQuery),
    responses(
        (status = 200, description = "The Procore projects and companies seen, each with its decision and what trestle holds for it; a full page carries `Link: <URL>; rel=\"next\"`", body = Vec<Mapping>),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn mappings(
    caller: Caller,
    State(api): State<Api>,
    Path(company): Path<i64>,
    query: Result<Query<MappingsQuery>, QueryRejection>,
) -> Result<Response, Problem> {
    caller.reader()?;
    let Query(q) = query.map_err(|r| crate::problem::bad_query(&r))?;
    let mut errors = Vec::new();
    let kind = q.kind.as_deref().and_then(|k| kind_of(k, &mut errors));
    let limit = limit(q.limit, 100, 500, &mut errors);
    let after = match q.after.as_deref() {
        None => None,
        Some(a) => {
            let parsed = a.split_once(':').and_then(|(k, id)| {
                let kind = match k {
                    "project" => ProcoreRecordKind::Project,
                    "company" => ProcoreRecordKind::Company,
                    _ => return None,
                };
                Some((kind, id.parse::<i64>().ok()?))
            });
            if parsed.is_none() {
                errors.push(FieldError::new(
                    "after",
                    "a row as `project:ID` or `company:ID`, from a page's Link header",
                ));
            }
            parsed
        }
    };
    if !errors.is_empty() {
        return Err(Problem::invalid(errors));
    }
    let search = q.q.as_deref().map(str::to_lowercase);
    let rows: Vec<MappingRow> = engine::views::mappings(&api.store, company, q.waiting)
        .await?
        .into_iter()
        .filter(|r| kind.is_none_or(|k| r.kind == k))
        .filter(|r| {
            search.as_deref().is_none_or(|s| {
                r.name
                    .as_deref()
                    .is_some_and(|n| n.to_lowercase().contains(s))
            })
        })
        .collect();
    let page = window(rows, |r| (r.kind, r.procore_id), after, limit);
    Ok(paged(
        page.into_iter().map(Mapping::from).collect(),
        limit,
        cursor,
        Next {
            path: format!("/api/v1/companies/{company}/compliance/mappings"),
            cursor: "after",
            filters: &[
                ("waiting", q.waiting.then(|| "true".to_string())),
                ("kind", q.kind.clone()),
                ("q", q.q.clone()),
            ],
        },
    ))
}

/// A mapping decision: `{"decision": "import"}`, `{"decision": "link", "to": 3}` or
/// `{"decision": "do_not_add"}`.
#[derive(Debug, Deserialize, ToSchema, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MapBody {
    /// `import`, `link` or `do_not_add`.
    pub decision: String,
    /// For `link`: the compliance project or party.
    pub to: Option<i64>,
}

/// The record kind and decision asked for, or every field that is wrong.
fn decision_of(kind: &str, b: &MapBody) -> Result<(ProcoreRecordKind, MappingDecision), Problem> {
    let mut errors = Vec::new();
    let record = kind_of(kind, &mut errors);
    let decision = match (b.decision.as_str(), b.to) {
        ("import", None) => Some(MappingDecision::Import),
        ("do_not_add", None) => Some(MappingDecision::DoNotAdd),
        ("link", Some(to)) => Some(MappingDecision::LinkTo(to)),
        ("link", None) => {
            errors.push(FieldError::new(
                "to",
                "a link needs `to`: the compliance project or party it is the same as",
            ));
            None
        }
        ("import" | "do_not_add", Some(_)) => {
            errors.push(FieldError::new("to", "only a link takes `to`"));
            None
        }
        (other, _) => {
            errors.push(FieldError::new(
                "decision",
                format!("\"{other}\" is no decision; use import, link or do_not_add"),
            ));
            None
        }
    };
    match (record, decision) {
        (Some(record), Some(decision)) => Ok((record, decision)),
        _ => Err(Problem::invalid(errors)),
    }
}

fn map_problem(e: MapError) -> Problem {
    match e {
        MapError::NoSuchRecord { .. }
        | MapError::NotInProcore { .. }
        | MapError::NotRead { .. } => Problem::not_found(e.to_string()),
        MapError::Check { .. } => Problem::new(StatusCode::BAD_GATEWAY, e.to_string()),
        MapError::Store(e) => e.into(),
        other => Problem::internal(&other),
    }
}

/// What a decision would do.
#[derive(Debug, Serialize, ToSchema)]
pub struct MappingPreview {
    pub kind: String,
    pub procore_id: i64,
    pub decision: String,
    pub to: Option<i64>,
    /// The actions the decision adds to the next compliance sync, each as a sync logs it, with
    /// `why`: the rule that decided it.
    #[schema(value_type = Vec<Object>)]
    pub actions: Vec<Value>,
    /// The actions it takes away: what the record would otherwise have become.
    #[schema(value_type = Vec<Object>)]
    pub withdrawn: Vec<Value>,
}

fn with_why(actions: &[sync::compliance::plan::Action]) -> Vec<Value> {
    actions
        .iter()
        .filter_map(|a| {
            let mut v = serde_json::to_value(a).ok()?;
            v["why"] = Value::String(a.reason().to_string());
            Some(v)
        })
        .collect()
}

#[utoipa::path(
    get,
    path = "/api/v1/companies/{company_id}/compliance/mappings/{kind}/{procore_id}/preview",
    tag = "compliance",
    description = "What a decision would do, planned on the records trestle last read; nothing is saved and Procore is not asked.",
    security(("token" = [])),
    params(
        ("company_id" = i64, Path),
        ("kind" = String, Path, description = "`project` or `company`"),
        ("procore_id" = i64, Path),
        MapBody,
    ),
    responses(
        (status = 200, description = "The actions the decision adds and takes away", body = MappingPreview),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn preview(
    caller: Caller,
    State(api): State<Api>,
    Path((company, kind, procore_id)): Path<(i64, String, i64)>,
    query: Result<Query<MapBody>, QueryRejection>,
) -> Result<Json<MappingPreview>, Problem> {
    caller.reader()?;
    let Query(b) = query.map_err(|r| {
        Problem::invalid(vec![FieldError::new(
            "decision",
            format!(
                "{}; give ?decision=import, link (with &to=ID) or do_not_add",
                r.body_text()
            ),
        )])
    })?;
    let (record, decision) = decision_of(&kind, &b)?;
    api.connection(company).await?;
    let p = engine::mapping::preview(
        &api.store,
        company,
        record,
        procore_id,
        decision,
        Utc::now().date_naive(),
    )
    .await
    .map_err(map_problem)?;
    Ok(Json(MappingPreview {
        kind,
        procore_id,
        decision: b.decision,
        to: b.to,
        actions: with_why(&p.actions),
        withdrawn: with_why(&p.withdrawn),
    }))
}

/// A decision saved, and the sync queued that carries it out.
#[derive(Debug, Serialize, ToSchema)]
pub struct Mapped {
    /// `project` or `company`.
    pub kind: String,
    pub procore_id: i64,
    /// `import`, `link` or `do_not_add`.
    pub decision: String,
    pub to: Option<i64>,
    /// The queued compliance sync that carries the decision out; `null` when `trestle
    /// compliance map` saved it (the next sync does).
    pub job_id: Option<i64>,
}

impl Mapped {
    /// `decision` saved for Procore `kind` `procore_id`, as the API answers it.
    pub fn of(
        kind: ProcoreRecordKind,
        procore_id: i64,
        decision: MappingDecision,
        job_id: Option<i64>,
    ) -> Mapped {
        let (decision, to) = decision_name(decision);
        Mapped {
            kind: kind.as_str().to_string(),
            procore_id,
            decision: decision.to_string(),
            to,
            job_id,
        }
    }
}

#[utoipa::path(
    post,
    path = "/api/v1/companies/{company_id}/compliance/mappings/{kind}/{procore_id}",
    tag = "compliance",
    description = "Decides what becomes of a Procore project or company; the queued compliance sync carries it out.",
    security(("token" = [])),
    params(
        ("company_id" = i64, Path),
        ("kind" = String, Path, description = "`project` or `company`"),
        ("procore_id" = i64, Path),
    ),
    request_body = MapBody,
    responses(
        (status = 200, description = "Decided", body = Mapped),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
        (status = 502, description = "Procore could not be asked whether the record exists", body = Problem, content_type = "application/problem+json"),
        (status = 503, body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn map(
    caller: Caller,
    State(api): State<Api>,
    Path((company, kind, procore_id)): Path<(i64, String, i64)>,
    bytes: Bytes,
) -> Result<Json<Mapped>, Problem> {
    caller.admin()?;
    let b: MapBody = crate::problem::json_body(&bytes, "a decision")?;
    let (record, decision) = decision_of(&kind, &b)?;
    let connection = api.connection(company).await?;
    let settings = api.procore_settings()?;
    let client = engine::open::client_for(settings, &connection, &api.store)
        .map_err(|e| Problem::internal(&e))?;
    engine::mapping::map(&api.store, &client, company, record, procore_id, decision)
        .await
        .map_err(map_problem)?;
    let job_id = queue_sync(&api, company).await?;
    Ok(Json(Mapped::of(record, procore_id, decision, Some(job_id))))
}
