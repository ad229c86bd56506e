//! Webhook management: v1.0 hooks/triggers/deliveries (scoped by `company_id` or
//! `project_id`) and v2.0 company and project hooks/triggers/deliveries/resources.

use super::Path;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde_json::{json, Value};

use super::*;
use crate::changes;
use crate::paging;
use crate::webhooks::RESOURCES;
use crate::wire;
use crate::world::{Hook, HookApi, Secret, Trigger};

#[derive(Clone, Copy, Debug)]
struct Scope {
    company_id: i64,
    project_id: Option<i64>,
}

fn v1_scope(w: &World, ctx: &Ctx, q: &Query, body: Option<&Value>) -> ApiResult<Scope> {
    let get = |k: &str| {
        q.i64(k)
            .or_else(|| body.and_then(|b| b.get(k)).and_then(changes::as_i64))
    };
    if let Some(pid) = get("project_id") {
        ctx.project(w, pid)?;
        return Ok(Scope {
            company_id: ctx.company_id,
            project_id: Some(pid),
        });
    }
    let cid = get("company_id").ok_or_else(|| {
        ApiError::BadRequest("You must supply either a company_id or project_id".into())
    })?;
    ctx.same_company(w, cid)?;
    Ok(Scope {
        company_id: cid,
        project_id: None,
    })
}

fn v2_scope(w: &World, ctx: &Ctx, cid: i64, pid: Option<i64>) -> ApiResult<Scope> {
    ctx.same_company(w, cid)?;
    if let Some(p) = pid {
        ctx.project(w, p)?;
    }
    Ok(Scope {
        company_id: cid,
        project_id: pid,
    })
}

fn hook_in(w: &World, s: Scope, id: i64, api: HookApi) -> ApiResult<&Hook> {
    w.hooks
        .get(&id)
        .filter(|h| h.company_id == s.company_id && h.project_id == s.project_id && h.api == api)
        .ok_or_else(|| ApiError::not_found("Hook"))
}

fn apply_hook(h: &mut Hook, a: &changes::Attrs, api: HookApi) -> ApiResult<()> {
    let key = if api == HookApi::V1 {
        "api_version"
    } else {
        "payload_version"
    };
    if let Some(v) = a.get(key).and_then(Value::as_str) {
        h.payload_version = v.to_owned();
    }
    if let Some(v) = a.get("namespace").and_then(Value::as_str) {
        if !v
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        {
            return Err(ApiError::invalid(
                "namespace",
                "may only contain lowercase letters, digits and '-'",
            ));
        }
        h.namespace = Some(v.to_owned());
    }
    if let Some(v) = a.get("destination_url").and_then(Value::as_str) {
        if url::Url::parse(v).is_err() {
            return Err(ApiError::invalid("destination_url", "is invalid"));
        }
        h.destination_url = v.to_owned();
    }
    if let Some(hd) = a.get("destination_headers") {
        h.authorization = hd
            .get("Authorization")
            .and_then(Value::as_str)
            .map(|s| Secret(s.to_owned()));
    }
    if let Some(v) = a.get("status").and_then(Value::as_str) {
        if v != "active" && v != "disabled" {
            return Err(ApiError::invalid("status", "is not included in the list"));
        }
        h.status = v.to_owned();
    }
    Ok(())
}

fn create_hook(
    w: &mut World,
    ctx: &Ctx,
    s: Scope,
    a: &changes::Attrs,
    api: HookApi,
    now: chrono::DateTime<chrono::Utc>,
) -> ApiResult<i64> {
    let mut h = Hook {
        api,
        company_id: s.company_id,
        project_id: s.project_id,
        owner_client_id: Some(ctx.client_id.clone()),
        owner_user_id: Some(ctx.user_id),
        payload_version: if api == HookApi::V1 {
            "v2".into()
        } else {
            "v2.0".into()
        },
        status: "active".into(),
        created_at: now,
        updated_at: now,
        ..Hook::default()
    };
    apply_hook(&mut h, a, api)?;
    if h.destination_url.is_empty() {
        return Err(ApiError::invalid("destination_url", "can't be blank"));
    }
    let id = w.alloc_id();
    h.id = id;
    w.hooks.insert(id, h);
    Ok(id)
}

fn create_trigger(w: &mut World, ctx: &Ctx, hook_id: i64, a: &Value) -> ApiResult<i64> {
    let name = a
        .get("resource_name")
        .and_then(Value::as_str)
        .ok_or_else(|| ApiError::invalid("resource_name", "can't be blank"))?;
    let ev = a
        .get("event_type")
        .and_then(Value::as_str)
        .map(str::to_lowercase)
        .ok_or_else(|| ApiError::invalid("event_type", "can't be blank"))?;
    if !["create", "update", "delete"].contains(&ev.as_str()) {
        return Err(ApiError::invalid(
            "event_type",
            "is not included in the list",
        ));
    }
    let h = w
        .hooks
        .get(&hook_id)
        .ok_or_else(|| ApiError::not_found("Hook"))?;
    let (cid, pid) = (h.company_id, h.project_id);
    if let Some(t) = w
        .triggers
        .values()
        .find(|t| t.hook_id == hook_id && t.resource_name == name && t.event_type == ev)
    {
        return Ok(t.id);
    }
    let id = w.alloc_id();
    w.triggers.insert(
        id,
        Trigger {
            id,
            hook_id,
            resource_name: name.to_owned(),
            event_type: ev,
            company_id: cid,
            project_id: pid,
            user_id: Some(ctx.user_id),
        },
    );
    Ok(id)
}

fn delete_hook(w: &mut World, id: i64) {
    w.hooks.remove(&id);
    w.triggers.retain(|_, t| t.hook_id != id);
}

// ---------------------------------------------------------------- v1.0

pub(crate) async fn v1_list(State(sim): State<Sim>, req: Req) -> ApiResult {
    sim.rest(&req, CompanyHeader::Required, |w, ctx| {
        let s = v1_scope(w, ctx, &req.q, None)?;
        let ns = req.q.get("namespace");
        let list: Vec<Value> = w
            .hooks
            .values()
            .filter(|h| {
                h.api == HookApi::V1 && h.company_id == s.company_id && h.project_id == s.project_id
            })
            .filter(|h| ns.is_none_or(|n| h.namespace.as_deref() == Some(n)))
            .map(wire::hook_v1)
            .collect();
        Ok(ok(Value::Array(list)))
    })
}

pub(crate) async fn v1_create(State(sim): State<Sim>, req: Req, body: Body) -> ApiResult {
    let body = body.value;
    let now = sim.now();
    sim.rest(&req, CompanyHeader::Required, |w, ctx| {
        let s = v1_scope(w, ctx, &req.q, Some(&body))?;
        let id = create_hook(w, ctx, s, wrapped(&body, "hook")?, HookApi::V1, now)?;
        Ok(created(wire::hook_v1(hook_in(w, s, id, HookApi::V1)?)))
    })
}

pub(crate) async fn v1_update(
    State(sim): State<Sim>,
    Path(id): Path<i64>,
    req: Req,
    body: Body,
) -> ApiResult {
    let body = body.value;
    let now = sim.now();
    sim.rest(&req, CompanyHeader::Required, |w, ctx| {
        let s = v1_scope(w, ctx, &req.q, Some(&body))?;
        let mut h = hook_in(w, s, id, HookApi::V1)?.clone();
        apply_hook(&mut h, wrapped(&body, "hook")?, HookApi::V1)?;
        h.updated_at = now;
        let out = wire::hook_v1(&h);
        w.hooks.insert(id, h);
        Ok(ok(out))
    })
}

pub(crate) async fn v1_delete(State(sim): State<Sim>, Path(id): Path<i64>, req: Req) -> ApiResult {
    sim.rest(&req, CompanyHeader::Required, |w, ctx| {
        let s = v1_scope(w, ctx, &req.q, None)?;
        hook_in(w, s, id, HookApi::V1)?;
        delete_hook(w, id);
        Ok(empty_ok())
    })
}

pub(crate) async fn v1_triggers(
    State(sim): State<Sim>,
    Path(hook_id): Path<i64>,
    req: Req,
) -> ApiResult {
    sim.rest(&req, CompanyHeader::Required, |w, ctx| {
        let s = v1_scope(w, ctx, &req.q, None)?;
        hook_in(w, s, hook_id, HookApi::V1)?;
        let list: Vec<Value> = w
            .triggers
            .values()
            .filter(|t| t.hook_id == hook_id)
            .map(wire::trigger_v1)
            .collect();
        Ok(ok(Value::Array(list)))
    })
}

pub(crate) async fn v1_trigger_create(
    State(sim): State<Sim>,
    Path(hook_id): Path<i64>,
    req: Req,
    body: Body,
) -> ApiResult {
    let body = body.value;
    sim.rest(&req, CompanyHeader::Required, |w, ctx| {
        let s = v1_scope(w, ctx, &req.q, Some(&body))?;
        hook_in(w, s, hook_id, HookApi::V1)?;
        let t = body.get("trigger").ok_or_else(|| {
            ApiError::BadRequest("param is missing or the value is empty: trigger".into())
        })?;
        let id = create_trigger(w, ctx, hook_id, t)?;
        Ok(created(wire::trigger_v1(&w.triggers[&id])))
    })
}

pub(crate) async fn v1_trigger_delete(
    State(sim): State<Sim>,
    Path((hook_id, id)): Path<(i64, i64)>,
    req: Req,
) -> ApiResult {
    sim.rest(&req, CompanyHeader::Required, |w, ctx| {
        let s = v1_scope(w, ctx, &req.q, None)?;
        hook_in(w, s, hook_id, HookApi::V1)?;
        w.triggers
            .get(&id)
            .filter(|t| t.hook_id == hook_id)
            .ok_or_else(|| ApiError::not_found("Trigger"))?;
        w.triggers.remove(&id);
        Ok(empty_ok())
    })
}

fn too_many(n: usize) -> ApiResult<()> {
    if n > 500 {
        return Err(ApiError::Raw(
            StatusCode::PAYLOAD_TOO_LARGE,
            crate::error::default_error("too_many_triggers", "At most 500 triggers per request"),
        ));
    }
    Ok(())
}

pub(crate) async fn v1_bulk_create(
    State(sim): State<Sim>,
    Path(hook_id): Path<i64>,
    req: Req,
    body: Body,
) -> ApiResult {
    let body = body.value;
    sim.rest(&req, CompanyHeader::Required, |w, ctx| {
        let s = v1_scope(w, ctx, &req.q, Some(&body))?;
        hook_in(w, s, hook_id, HookApi::V1)?;
        let items = body
            .get("triggers")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        too_many(items.len())?;
        let mut success = Vec::new();
        let mut errors = Vec::new();
        for t in &items {
            match create_trigger(w, ctx, hook_id, t) {
                Ok(id) => success.push(wire::trigger_v1(&w.triggers[&id])),
                Err(e) => errors.push(json!({"trigger": t, "error": e.to_string()})),
            }
        }
        let status = if errors.is_empty() {
            StatusCode::OK
        } else {
            StatusCode::MULTI_STATUS
        };
        Ok((
            status,
            axum::Json(json!({"success": success, "errors": errors})),
        )
            .into_response())
    })
}

pub(crate) async fn v1_bulk_delete(
    State(sim): State<Sim>,
    Path(hook_id): Path<i64>,
    req: Req,
    body: Body,
) -> ApiResult {
    let body = body.value;
    sim.rest(&req, CompanyHeader::Required, |w, ctx| {
        let s = v1_scope(w, ctx, &req.q, Some(&body))?;
        hook_in(w, s, hook_id, HookApi::V1)?;
        let ids: Vec<i64> = body
            .get("triggers")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(changes::as_i64).collect())
            .unwrap_or_default();
        too_many(ids.len())?;
        let mut success = Vec::new();
        let mut failed = Vec::new();
        for id in ids {
            if w.triggers.get(&id).is_some_and(|t| t.hook_id == hook_id) {
                w.triggers.remove(&id);
                success.push(id);
            } else {
                failed.push(id);
            }
        }
        let status = if failed.is_empty() {
            StatusCode::OK
        } else {
            StatusCode::MULTI_STATUS
        };
        Ok((
            status,
            axum::Json(json!({"success": success, "errors": failed})),
        )
            .into_response())
    })
}

pub(crate) async fn v1_deliveries(
    State(sim): State<Sim>,
    Path(hook_id): Path<i64>,
    req: Req,
) -> ApiResult {
    sim.rest(&req, CompanyHeader::Required, |w, ctx| {
        let s = v1_scope(w, ctx, &req.q, None)?;
        hook_in(w, s, hook_id, HookApi::V1)?;
        let status = req
            .q
            .get("filters[status]")
            .or_else(|| req.q.get("filter[status]"))
            .unwrap_or("any");
        let size = req.q.i64("page_size").unwrap_or(100).clamp(1, 1000) as usize;
        let start = req.q.i64("page_start").unwrap_or(0);
        let list: Vec<Value> = w
            .deliveries
            .values()
            .filter(|d| d.hook_id == hook_id && d.id > start)
            .filter(|d| match status {
                "successful" => d.status == "delivered",
                "failing" => d.status == "retrying" || d.status == "failed",
                "discarded" => d.status == "discarded",
                _ => true,
            })
            .take(size)
            .map(wire::delivery_v1)
            .collect();
        Ok(ok(Value::Array(list)))
    })
}

// ---------------------------------------------------------------- v2.0

/// Path parameters of v2 routes: company, optional project, then the rest.
pub(crate) mod v2 {
    use super::*;

    async fn list(sim: Sim, cid: i64, pid: Option<i64>, req: Req) -> ApiResult {
        sim.rest(&req, CompanyHeader::Required, |w, ctx| {
            let s = v2_scope(w, ctx, cid, pid)?;
            let ns = req.q.get("namespace");
            let items: Vec<&Hook> = w
                .hooks
                .values()
                .filter(|h| {
                    h.api == HookApi::V2
                        && h.company_id == s.company_id
                        && h.project_id == s.project_id
                })
                .filter(|h| ns.is_none_or(|n| h.namespace.as_deref() == Some(n)))
                .collect();
            Ok(paging::v2(&req.info, v2_paging(&req.q), &items, |h| {
                wire::hook_v2(w, h, false)
            }))
        })
    }

    async fn create(sim: Sim, cid: i64, pid: Option<i64>, req: Req, body: Body) -> ApiResult {
        let body = body.value;
        let now = sim.now();
        sim.rest(&req, CompanyHeader::Required, |w, ctx| {
            let s = v2_scope(w, ctx, cid, pid)?;
            let a = body
                .as_object()
                .ok_or_else(|| ApiError::BadRequest("body must be an object".into()))?;
            if a.get("namespace").and_then(Value::as_str).is_none() {
                return Err(ApiError::invalid("namespace", "can't be blank"));
            }
            let id = create_hook(w, ctx, s, a, HookApi::V2, now)?;
            Ok(created(
                json!({"data": wire::hook_v2(w, hook_in(w, s, id, HookApi::V2)?, true)}),
            ))
        })
    }

    async fn show(sim: Sim, cid: i64, pid: Option<i64>, id: String, req: Req) -> ApiResult {
        sim.rest(&req, CompanyHeader::Required, |w, ctx| {
            let s = v2_scope(w, ctx, cid, pid)?;
            Ok(ok(
                json!({"data": wire::hook_v2(w, hook_in(w, s, id_of(&id)?, HookApi::V2)?, true)}),
            ))
        })
    }

    async fn update(
        sim: Sim,
        cid: i64,
        pid: Option<i64>,
        id: String,
        req: Req,
        body: Body,
    ) -> ApiResult {
        let body = body.value;
        let now = sim.now();
        sim.rest(&req, CompanyHeader::Required, |w, ctx| {
            let s = v2_scope(w, ctx, cid, pid)?;
            let id = id_of(&id)?;
            let mut h = hook_in(w, s, id, HookApi::V2)?.clone();
            let a = body
                .as_object()
                .ok_or_else(|| ApiError::BadRequest("body must be an object".into()))?;
            apply_hook(&mut h, a, HookApi::V2)?;
            h.updated_at = now;
            w.hooks.insert(id, h);
            Ok(ok(json!({"data": wire::hook_v2(w, &w.hooks[&id], true)})))
        })
    }

    async fn delete(sim: Sim, cid: i64, pid: Option<i64>, id: String, req: Req) -> ApiResult {
        sim.rest(&req, CompanyHeader::Required, |w, ctx| {
            let s = v2_scope(w, ctx, cid, pid)?;
            let id = id_of(&id)?;
            hook_in(w, s, id, HookApi::V2)?;
            delete_hook(w, id);
            Ok(StatusCode::NO_CONTENT.into_response())
        })
    }

    async fn triggers(sim: Sim, cid: i64, pid: Option<i64>, hook: String, req: Req) -> ApiResult {
        sim.rest(&req, CompanyHeader::Required, |w, ctx| {
            let s = v2_scope(w, ctx, cid, pid)?;
            let hid = id_of(&hook)?;
            hook_in(w, s, hid, HookApi::V2)?;
            let items: Vec<&Trigger> = w.triggers.values().filter(|t| t.hook_id == hid).collect();
            Ok(paging::v2(&req.info, v2_paging(&req.q), &items, |t| {
                wire::trigger_v2(t)
            }))
        })
    }

    async fn trigger_create(
        sim: Sim,
        cid: i64,
        pid: Option<i64>,
        hook: String,
        req: Req,
        body: Body,
    ) -> ApiResult {
        let body = body.value;
        sim.rest(&req, CompanyHeader::Required, |w, ctx| {
            let s = v2_scope(w, ctx, cid, pid)?;
            let hid = id_of(&hook)?;
            hook_in(w, s, hid, HookApi::V2)?;
            let id = create_trigger(w, ctx, hid, &body)?;
            Ok(created(json!({"data": wire::trigger_v2(&w.triggers[&id])})))
        })
    }

    async fn trigger_delete(
        sim: Sim,
        cid: i64,
        pid: Option<i64>,
        hook: String,
        id: String,
        req: Req,
    ) -> ApiResult {
        sim.rest(&req, CompanyHeader::Required, |w, ctx| {
            let s = v2_scope(w, ctx, cid, pid)?;
            let hid = id_of(&hook)?;
            hook_in(w, s, hid, HookApi::V2)?;
            let id = id_of(&id)?;
            w.triggers
                .get(&id)
                .filter(|t| t.hook_id == hid)
                .ok_or_else(|| ApiError::not_found("Trigger"))?;
            w.triggers.remove(&id);
            Ok(StatusCode::NO_CONTENT.into_response())
        })
    }

    async fn bulk_create(
        sim: Sim,
        cid: i64,
        pid: Option<i64>,
        hook: String,
        req: Req,
        body: Body,
    ) -> ApiResult {
        let body = body.value;
        sim.rest(&req, CompanyHeader::Required, |w, ctx| {
            let s = v2_scope(w, ctx, cid, pid)?;
            let hid = id_of(&hook)?;
            hook_in(w, s, hid, HookApi::V2)?;
            let items = body.as_array().cloned().unwrap_or_default();
            too_many(items.len())?;
            let mut data = Vec::new();
            let mut failed = false;
            for t in &items {
                match create_trigger(w, ctx, hid, t) {
                    Ok(id) => data.push(wire::trigger_v2(&w.triggers[&id])),
                    Err(_) => failed = true,
                }
            }
            let status = if failed {
                StatusCode::MULTI_STATUS
            } else {
                StatusCode::CREATED
            };
            Ok((status, axum::Json(json!({"data": data}))).into_response())
        })
    }

    async fn bulk_delete(
        sim: Sim,
        cid: i64,
        pid: Option<i64>,
        hook: String,
        req: Req,
        body: Body,
    ) -> ApiResult {
        let body = body.value;
        sim.rest(&req, CompanyHeader::Required, |w, ctx| {
            let s = v2_scope(w, ctx, cid, pid)?;
            let hid = id_of(&hook)?;
            hook_in(w, s, hid, HookApi::V2)?;
            let ids: Vec<i64> = body
                .as_array()
                .map(|a| a.iter().filter_map(changes::as_i64).collect())
                .unwrap_or_default();
            too_many(ids.len())?;
            let mut ok_ids = Vec::new();
            let mut failed = false;
            for id in ids {
                if w.triggers.get(&id).is_some_and(|t| t.hook_id == hid) {
                    w.triggers.remove(&id);
                    ok_ids.push(id.to_string());
                } else {
                    failed = true;
                }
            }
            let status = if failed {
                StatusCode::MULTI_STATUS
            } else {
                StatusCode::OK
            };
            Ok((status, axum::Json(json!({"data": {"succeeded": ok_ids}}))).into_response())
        })
    }

    async fn deliveries(sim: Sim, cid: i64, pid: Option<i64>, hook: String, req: Req) -> ApiResult {
        sim.rest(&req, CompanyHeader::Required, |w, ctx| {
            let s = v2_scope(w, ctx, cid, pid)?;
            let hid = id_of(&hook)?;
            hook_in(w, s, hid, HookApi::V2)?;
            let status =
                req.q
                    .get("filter[status]")
                    .map(|s| if s == "succeeded" { "delivered" } else { s });
            let rname = req.q.get("filter[resource_name]");
            let etype = req.q.get("filter[event_type]");
            let items: Vec<_> = w
                .deliveries
                .values()
                .filter(|d| d.hook_id == hid)
                .filter(|d| status.is_none_or(|s| d.status == s))
                .filter(|d| rname.is_none_or(|r| d.resource_name == r))
                .filter(|d| etype.is_none_or(|e| d.event_type == e))
                .collect();
            Ok(paging::v2(&req.info, v2_paging(&req.q), &items, |d| {
                wire::delivery_v2(d)
            }))
        })
    }

    async fn resources(sim: Sim, cid: i64, pid: Option<i64>, req: Req) -> ApiResult {
        sim.rest(&req, CompanyHeader::Required, |w, ctx| {
            v2_scope(w, ctx, cid, pid)?;
            let names: Vec<&str> = RESOURCES
                .iter()
                .copied()
                .filter(|n| pid.is_none() || !matches!(*n, "Company Users" | "Company Vendors" | "Company Insurances"))
                .collect();
            Ok(paging::v2(&req.info, v2_paging(&req.q), &names, |n| {
                let tool = match *n {
                    "Projects" => "Portfolio",
                    "Company Users" | "Company Vendors" => "Directory",
                    "Work Order Contracts" | "Purchase Order Contracts" => "Commitments",
                    "Project Folders" | "Project Files" => "Documents",
                    _ => "Directory",
                };
                json!({"name": n, "tool": tool, "category": if n.starts_with("Project ") || n.contains("Contracts") { "project" } else { "company" }, "event_types": ["create", "update", "delete"]})
            }))
        })
    }

    macro_rules! both {
        ($($name:ident ( $($p:ident : $t:ty),* ) => $call:ident ( $($a:ident),* ) $(+ $body:ident)?;)*) => {
            pub(crate) mod company {
                use super::*;
                $(pub(crate) async fn $name(State(sim): State<Sim>, Path((cid, $($p),*)): Path<(i64, $($t),*)>, req: Req $(, $body: Body)?) -> ApiResult {
                    super::$call(sim, cid, None, $($a,)* req $(, $body)?).await
                })*
            }
            pub(crate) mod project {
                use super::*;
                $(pub(crate) async fn $name(State(sim): State<Sim>, Path((cid, pid, $($p),*)): Path<(i64, i64, $($t),*)>, req: Req $(, $body: Body)?) -> ApiResult {
                    super::$call(sim, cid, Some(pid), $($a,)* req $(, $body)?).await
                })*
            }
        };
    }

    both! {
        list() => list();
        create() => create() + body;
        show(id: String) => show(id);
        update(id: String) => update(id) + body;
        delete(id: String) => delete(id);
        triggers(hook: String) => triggers(hook);
        trigger_create(hook: String) => trigger_create(hook) + body;
        trigger_delete(hook: String, id: String) => trigger_delete(hook, id);
        bulk_create(hook: String) => bulk_create(hook) + body;
        bulk_delete(hook: String) => bulk_delete(hook) + body;
        deliveries(hook: String) => deliveries(hook);
        resources() => resources();
    }
}

/// Payload versions a v1.0 hook may name as its `api_version` (NOTES §9, payload formats).
const V1_API_VERSIONS: &[&str] = &["v2", "v3", "v4"];

/// The resources a v1.0 scope can trigger on; a project scope offers only project resources.
fn v1_resource_names(s: Scope) -> Vec<&'static str> {
    RESOURCES
        .iter()
        .copied()
        .filter(|n| {
            s.project_id.is_none()
                || !matches!(
                    *n,
                    "Company Users" | "Company Vendors" | "Company Insurances"
                )
        })
        .collect()
}

/// `GET /rest/v1.0/webhooks/resources?project_id=|company_id=`: one entry per resource and
/// payload version, in the documented shape (`tools` is the resource name).
pub(crate) async fn v1_resources(State(sim): State<Sim>, req: Req) -> ApiResult {
    sim.rest(&req, CompanyHeader::Required, |w, ctx| {
        let s = v1_scope(w, ctx, &req.q, None)?;
        let wanted = req.q.get("api_version");
        let items: Vec<Value> = V1_API_VERSIONS
            .iter()
            .filter(|v| wanted.is_none_or(|x| x == **v))
            .flat_map(|v| {
                v1_resource_names(s).into_iter().map(move |n| {
                    let category = if n.starts_with("Project ") || n.contains("Contracts") {
                        "Project"
                    } else {
                        "Company"
                    };
                    json!({"api_version": v, "product_category": category, "tools": n,
                           "except": [], "create": "create", "update": "update", "delete": "delete"})
                })
            })
            .collect();
        Ok(ok(Value::Array(items)))
    })
}

/// `GET /rest/v1.0/webhooks/resources/api_versions?project_id=|company_id=`.
pub(crate) async fn v1_api_versions(State(sim): State<Sim>, req: Req) -> ApiResult {
    sim.rest(&req, CompanyHeader::Required, |w, ctx| {
        v1_scope(w, ctx, &req.q, None)?;
        Ok(ok(json!(V1_API_VERSIONS)))
    })
}
