//! `/_sim/` administration endpoints: no token, no rate limits, not in the request log
//! (except the simulated S3 and storage routes, which are Procore-facing).
//!
//! The `/_sim/companies/{cid}/...` routes stand for a person editing in Procore's web UI:
//! they go through the same change functions as the API (so `updated_at` moves and webhooks
//! fire) but carry `source_application_id: null`.

use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch, post, put};
use axum::Router;
use serde_json::{json, Value};

use crate::changes::{self, Actor, Attrs};
use crate::error::{ApiError, ApiResult};
use crate::handlers::json_body;
use crate::query::Query;
use crate::world::{App, CommitmentKind, Permissions, ProjectDirectory, Secret};
use crate::{Faults, RateLimits, Sim};

pub(crate) fn routes() -> Router<Sim> {
    Router::new()
        .route("/_sim/state", get(state))
        .route("/_sim/state/save", post(save))
        .route("/_sim/clock/advance", post(advance))
        .route("/_sim/requests", get(requests).delete(clear_requests))
        .route("/_sim/faults", get(get_faults).put(set_faults))
        .route("/_sim/rate_limits", put(set_rate_limits))
        .route("/_sim/apps", post(create_app))
        .route("/_sim/apps/{client_id}/install", post(install))
        .route(
            "/_sim/apps/{client_id}/companies/{cid}/projects",
            put(permit_projects),
        )
        .route(
            "/_sim/apps/{client_id}/companies/{cid}/permissions",
            put(permissions),
        )
        .route("/_sim/companies/{cid}/projects", post(project_create))
        .route("/_sim/companies/{cid}/projects/{id}", patch(project_update))
        .route(
            "/_sim/companies/{cid}/projects/{id}/deactivate",
            post(project_deactivate),
        )
        .route("/_sim/companies/{cid}/users", post(user_create))
        .route("/_sim/companies/{cid}/users/{id}", patch(user_update))
        .route(
            "/_sim/companies/{cid}/users/{id}/deactivate",
            post(user_deactivate),
        )
        .route("/_sim/companies/{cid}/vendors", post(vendor_create))
        .route("/_sim/companies/{cid}/vendors/{id}", patch(vendor_update))
        .route(
            "/_sim/companies/{cid}/vendors/{id}/deactivate",
            post(vendor_deactivate),
        )
        .route("/_sim/companies/{cid}/commitments", post(commitment_create))
        .route(
            "/_sim/companies/{cid}/projects/{id}/directory",
            get(directory_show).put(directory_set),
        )
        .route(
            "/_sim/companies/{cid}/commitments/{id}",
            patch(commitment_update).delete(commitment_delete),
        )
        .route(
            "/_sim/companies/{cid}/insurances/{id}",
            patch(insurance_update).delete(insurance_delete),
        )
}

fn attrs(body: &Value, key: &str) -> ApiResult<Attrs> {
    match body.get(key).and_then(Value::as_object) {
        Some(a) => Ok(a.clone()),
        None => body
            .as_object()
            .cloned()
            .ok_or_else(|| ApiError::BadRequest("body must be a JSON object".into())),
    }
}

async fn state(State(sim): State<Sim>) -> Response {
    axum::Json(sim.state_json()).into_response()
}

async fn save(State(sim): State<Sim>) -> ApiResult {
    let path = sim
        .config()
        .state_file
        .clone()
        .ok_or_else(|| ApiError::BadRequest("no --state-file configured".into()))?;
    sim.save_state(&path).map_err(|e| {
        ApiError::Raw(
            StatusCode::INTERNAL_SERVER_ERROR,
            json!({"error": e.to_string()}),
        )
    })?;
    Ok(axum::Json(json!({"saved": path})).into_response())
}

async fn advance(State(sim): State<Sim>, body: Bytes) -> ApiResult {
    let v = json_body(&body)?;
    let secs = v
        .get("seconds")
        .and_then(Value::as_f64)
        .ok_or_else(|| ApiError::invalid("seconds", "must be a number"))?;
    let most = (crate::clock::MAX_OFFSET_MS / 1000) as f64;
    if !(0.0..=most).contains(&secs) {
        return Err(ApiError::invalid(
            "seconds",
            &format!("must be between 0 and {most} (a hundred years)"),
        ));
    }
    sim.advance_clock(Duration::from_secs_f64(secs));
    Ok(axum::Json(json!({"now": crate::clock::ts(&sim.now())})).into_response())
}

async fn requests(State(sim): State<Sim>) -> Response {
    axum::Json(sim.request_log()).into_response()
}

async fn clear_requests(State(sim): State<Sim>) -> Response {
    sim.clear_request_log();
    StatusCode::NO_CONTENT.into_response()
}

async fn get_faults(State(sim): State<Sim>) -> Response {
    axum::Json(sim.faults()).into_response()
}

async fn set_faults(State(sim): State<Sim>, body: Bytes) -> ApiResult {
    let f: Faults =
        serde_json::from_slice(&body).map_err(|e| ApiError::BadRequest(e.to_string()))?;
    sim.set_faults(f.clone());
    Ok(axum::Json(f).into_response())
}

async fn set_rate_limits(State(sim): State<Sim>, body: Bytes) -> ApiResult {
    let l: Option<RateLimits> =
        serde_json::from_slice(&body).map_err(|e| ApiError::BadRequest(e.to_string()))?;
    sim.set_rate_limits(l.clone());
    Ok(axum::Json(l).into_response())
}

async fn create_app(State(sim): State<Sim>, body: Bytes) -> ApiResult {
    let v = json_body(&body)?;
    let s = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_owned);
    let client_id =
        s("client_id").ok_or_else(|| ApiError::invalid("client_id", "can't be blank"))?;
    let out = sim.write(|w| {
        let id = w.alloc_id();
        let app = App {
            id,
            name: s("name").unwrap_or_else(|| client_id.clone()),
            client_id: client_id.clone(),
            client_secret: Secret(s("client_secret").unwrap_or_default()),
            redirect_uri: s("redirect_uri"),
            installations: Default::default(),
        };
        w.apps.insert(client_id.clone(), app);
        json!({"id": id, "client_id": client_id})
    });
    Ok((StatusCode::CREATED, axum::Json(out)).into_response())
}

async fn install(
    State(sim): State<Sim>,
    Path(client_id): Path<String>,
    uri: axum::http::Uri,
) -> ApiResult {
    let q = Query::parse(uri.query());
    let cid = q
        .i64("company_id")
        .ok_or_else(|| ApiError::invalid("company_id", "can't be blank"))?;
    let now = sim.now();
    let user = sim.write(|w| {
        if !w.companies.contains_key(&cid) {
            return Err(ApiError::not_found("Company"));
        }
        w.install_app(&client_id, cid, now)
            .ok_or_else(|| ApiError::not_found("App"))
    })?;
    Ok(axum::Json(json!({"service_user_id": user})).into_response())
}

async fn permit_projects(
    State(sim): State<Sim>,
    Path((client_id, cid)): Path<(String, i64)>,
    body: Bytes,
) -> ApiResult {
    let v = json_body(&body)?;
    sim.write(|w| {
        let inst = w
            .apps
            .get_mut(&client_id)
            .and_then(|a| a.installations.get_mut(&cid))
            .ok_or_else(|| ApiError::not_found("Installation"))?;
        if let Some(ids) = v.get("project_ids").and_then(Value::as_array) {
            inst.permitted_projects = ids.iter().filter_map(changes::as_i64).collect();
        }
        if let Some(b) = v.get("add_to_all_new_projects").and_then(Value::as_bool) {
            inst.add_to_all_new_projects = b;
        }
        Ok(axum::Json(json!({"project_ids": inst.permitted_projects, "add_to_all_new_projects": inst.add_to_all_new_projects})).into_response())
    })
}

async fn permissions(
    State(sim): State<Sim>,
    Path((client_id, cid)): Path<(String, i64)>,
    body: Bytes,
) -> ApiResult {
    let p: Permissions =
        serde_json::from_slice(&body).map_err(|e| ApiError::BadRequest(e.to_string()))?;
    sim.write(|w| {
        let inst = w
            .apps
            .get_mut(&client_id)
            .and_then(|a| a.installations.get_mut(&cid))
            .ok_or_else(|| ApiError::not_found("Installation"))?;
        inst.permissions = p;
        Ok(axum::Json(p).into_response())
    })
}

fn state_of(sim: &Sim, f: impl FnOnce(&crate::World) -> Option<Value>) -> ApiResult {
    sim.read(f)
        .map(|v| axum::Json(v).into_response())
        .ok_or_else(|| ApiError::not_found("Record"))
}

macro_rules! ui_resource {
    ($create:ident, $update:ident, $deactivate:ident, $key:literal, $map:ident, $cr:path, $up:path, $active:literal) => {
        async fn $create(State(sim): State<Sim>, Path(cid): Path<i64>, body: Bytes) -> ApiResult {
            let a = attrs(&json_body(&body)?, $key)?;
            let now = sim.now();
            let id = sim.write(|w| $cr(w, cid, &a, Actor::admin(), now))?;
            state_of(&sim, |w| {
                w.$map.get(&id).and_then(|r| serde_json::to_value(r).ok())
            })
            .map(|r| (StatusCode::CREATED, r).into_response())
        }
        async fn $update(
            State(sim): State<Sim>,
            Path((cid, id)): Path<(i64, i64)>,
            body: Bytes,
        ) -> ApiResult {
            let a = attrs(&json_body(&body)?, $key)?;
            let now = sim.now();
            sim.write(|w| {
                w.$map
                    .get(&id)
                    .filter(|r| r.company_id == cid)
                    .ok_or_else(|| ApiError::not_found("Record"))?;
                $up(w, id, &a, Actor::admin(), now)
            })?;
            state_of(&sim, |w| {
                w.$map.get(&id).and_then(|r| serde_json::to_value(r).ok())
            })
        }
        async fn $deactivate(
            State(sim): State<Sim>,
            Path((cid, id)): Path<(i64, i64)>,
        ) -> ApiResult {
            let mut a = Attrs::new();
            a.insert($active.into(), Value::Bool(false));
            let now = sim.now();
            sim.write(|w| {
                w.$map
                    .get(&id)
                    .filter(|r| r.company_id == cid)
                    .ok_or_else(|| ApiError::not_found("Record"))?;
                $up(w, id, &a, Actor::admin(), now)
            })?;
            state_of(&sim, |w| {
                w.$map.get(&id).and_then(|r| serde_json::to_value(r).ok())
            })
        }
    };
}

ui_resource!(
    project_create,
    project_update,
    project_deactivate,
    "project",
    projects,
    changes::create_project,
    changes::update_project,
    "active"
);
ui_resource!(
    user_create,
    user_update,
    user_deactivate,
    "user",
    users,
    changes::create_user,
    changes::update_user,
    "is_active"
);
ui_resource!(
    vendor_create,
    vendor_update,
    vendor_deactivate,
    "vendor",
    vendors,
    changes::create_vendor,
    changes::update_vendor,
    "is_active"
);

async fn commitment_create(State(sim): State<Sim>, Path(cid): Path<i64>, body: Bytes) -> ApiResult {
    let v = json_body(&body)?;
    let kind: CommitmentKind = v
        .get("kind")
        .cloned()
        .map(serde_json::from_value)
        .transpose()
        .map_err(|_| {
            ApiError::invalid(
                "kind",
                "must be work_order_contract or purchase_order_contract",
            )
        })?
        .unwrap_or_default();
    let pid = v
        .get("project_id")
        .and_then(changes::as_i64)
        .ok_or_else(|| ApiError::invalid("project_id", "can't be blank"))?;
    let a = attrs(&v, kind.body_key())?;
    let now = sim.now();
    let id = sim.write(|w| {
        if w.project_company(pid) != Some(cid) {
            return Err(ApiError::not_found("Project"));
        }
        changes::create_commitment(w, kind, pid, &a, Actor::admin(), now)
    })?;
    state_of(&sim, |w| {
        w.commitments
            .get(&id)
            .and_then(|r| serde_json::to_value(r).ok())
    })
    .map(|r| (StatusCode::CREATED, r).into_response())
}

async fn commitment_update(
    State(sim): State<Sim>,
    Path((cid, id)): Path<(i64, i64)>,
    body: Bytes,
) -> ApiResult {
    let v = json_body(&body)?;
    let now = sim.now();
    sim.write(|w| {
        let c = w
            .commitments
            .get(&id)
            .ok_or_else(|| ApiError::not_found("Commitment"))?;
        if w.project_company(c.project_id) != Some(cid) {
            return Err(ApiError::not_found("Commitment"));
        }
        let a = attrs(&v, c.kind.body_key())?;
        changes::update_commitment(w, id, &a, Actor::admin(), now)
    })?;
    state_of(&sim, |w| {
        w.commitments
            .get(&id)
            .and_then(|r| serde_json::to_value(r).ok())
    })
}

/// A person editing an insurance record (company or project level) in Procore's web UI:
/// `{"insurance": {...}}` with the API's attributes.
async fn insurance_update(
    State(sim): State<Sim>,
    Path((cid, id)): Path<(i64, i64)>,
    body: Bytes,
) -> ApiResult {
    let v = json_body(&body)?;
    let now = sim.now();
    sim.write(|w| {
        if w.insurances.get(&id).map(|i| i.company_id) != Some(cid) {
            return Err(ApiError::not_found("Insurance"));
        }
        let a = attrs(&v, "insurance")?;
        changes::update_insurance(w, id, &a, Actor::admin(), now)
    })?;
    state_of(&sim, |w| {
        w.insurances
            .get(&id)
            .and_then(|r| serde_json::to_value(r).ok())
    })
}

/// A person deleting an insurance record in Procore's web UI.
async fn insurance_delete(State(sim): State<Sim>, Path((cid, id)): Path<(i64, i64)>) -> ApiResult {
    let now = sim.now();
    sim.write(|w| {
        if w.insurances.get(&id).map(|i| i.company_id) != Some(cid) {
            return Err(ApiError::not_found("Insurance"));
        }
        changes::delete_insurance(w, id, Actor::admin(), now)
    })?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn commitment_delete(State(sim): State<Sim>, Path((cid, id)): Path<(i64, i64)>) -> ApiResult {
    let now = sim.now();
    sim.write(|w| {
        let c = w
            .commitments
            .get(&id)
            .ok_or_else(|| ApiError::not_found("Commitment"))?;
        if w.project_company(c.project_id) != Some(cid) {
            return Err(ApiError::not_found("Commitment"));
        }
        changes::delete_commitment(w, id, Actor::admin(), now)
    })?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// A project's directory as the UI's project Directory tool shows it.
async fn directory_show(State(sim): State<Sim>, Path((cid, id)): Path<(i64, i64)>) -> ApiResult {
    state_of(&sim, |w| {
        w.projects.get(&id).filter(|p| p.company_id == cid)?;
        let d = w.project_directories.get(&id).cloned().unwrap_or_default();
        serde_json::to_value(d).ok()
    })
}

/// Replaces a project's directory (`{"users": [ids], "vendors": [ids]}`, each optional); every
/// id must be a user or vendor of the project's company.
async fn directory_set(
    State(sim): State<Sim>,
    Path((cid, id)): Path<(i64, i64)>,
    body: Bytes,
) -> ApiResult {
    let v = json_body(&body)?;
    let ids = |key: &str| -> Option<Vec<i64>> {
        v.get(key)
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(changes::as_i64).collect())
    };
    let (users, vendors) = (ids("users"), ids("vendors"));
    sim.write(|w| {
        w.projects
            .get(&id)
            .filter(|p| p.company_id == cid)
            .ok_or_else(|| ApiError::not_found("Project"))?;
        let foreign_user = users
            .iter()
            .flatten()
            .find(|u| w.users.get(u).is_none_or(|u| u.company_id != cid));
        let foreign_vendor = vendors
            .iter()
            .flatten()
            .find(|x| w.vendors.get(x).is_none_or(|x| x.company_id != cid));
        if let Some(u) = foreign_user {
            return Err(ApiError::invalid(
                "users",
                &format!("{u} is not a user of this company"),
            ));
        }
        if let Some(x) = foreign_vendor {
            return Err(ApiError::invalid(
                "vendors",
                &format!("{x} is not a vendor of this company"),
            ));
        }
        let d: &mut ProjectDirectory = w.project_directories.entry(id).or_default();
        if let Some(u) = users {
            d.users = u.into_iter().collect();
        }
        if let Some(x) = vendors {
            d.vendors = x.into_iter().collect();
        }
        Ok(axum::Json(serde_json::to_value(&*d).unwrap_or_default()).into_response())
    })
}
