//! `/me`, `/companies` and projects (v1.0 list/show/create/update, v1.1 list).

use super::Path;
use axum::extract::State;
use serde_json::json;

use super::*;
use crate::changes;
use crate::paging;
use crate::wire;
use crate::world::{Project, Tool};

pub(crate) async fn me(State(sim): State<Sim>, req: Req) -> ApiResult {
    sim.rest(&req, CompanyHeader::OptionalForUsers, |w, ctx| {
        let u = w
            .users
            .get(&ctx.user_id)
            .ok_or_else(|| ApiError::not_found("User"))?;
        Ok(ok(wire::me(u)))
    })
}

pub(crate) async fn companies(State(sim): State<Sim>, req: Req) -> ApiResult {
    sim.rest(&req, CompanyHeader::OptionalForUsers, |w, ctx| {
        let app = w.apps.get(&ctx.client_id).ok_or(ApiError::InvalidToken)?;
        let list: Vec<_> = app.installations.keys().filter_map(|c| w.companies.get(c)).collect();
        let paging = v1_paging(&sim, &req.q);
        Ok(paging::v1(&req.info, paging, &list, |c| {
            json!({"id": c.id, "name": c.name, "is_active": c.is_active, "my_company": c.id == ctx.company_id, "pcn_business_experience": false})
        }))
    })
}

fn filtered<'w>(w: &'w World, ctx: &Ctx, q: &Query, v11: bool) -> ApiResult<Vec<&'w Project>> {
    let cid = required_i64(q, "company_id")?;
    ctx.same_company(w, cid)?;
    ctx.can_read(w, Tool::Projects)?;
    let status = q.get("filters[by_status]").unwrap_or("Active");
    let updated = q.range("filters[updated_at]");
    let created = q.range("filters[created_at]");
    let ids = q.ids("filters[id]");
    let name = q.get("filters[name]");
    let number = q.get("filters[project_number]");
    let origin = q.get("filters[origin_id]");
    let template = if v11 {
        q.bool("filters[template]")
    } else {
        None
    };
    let permitted = &ctx.installation(w).permitted_projects;
    let mut out: Vec<&Project> = permitted
        .iter()
        .filter_map(|id| w.projects.get(id))
        .filter(|p| p.company_id == cid)
        .filter(|p| match status {
            "All" => true,
            "Inactive" => !p.active,
            _ => p.active,
        })
        .filter(|p| updated.is_none_or(|r| r.contains(&p.updated_at)))
        .filter(|p| created.is_none_or(|r| r.contains(&p.created_at)))
        .filter(|p| ids.as_ref().is_none_or(|i| i.contains(&p.id)))
        .filter(|p| name.is_none_or(|n| p.name.to_lowercase().contains(&n.to_lowercase())))
        .filter(|p| number.is_none_or(|n| p.project_number.as_deref() == Some(n)))
        .filter(|p| origin.is_none_or(|o| p.origin_id.as_deref() == Some(o)))
        .filter(|p| template.is_none_or(|t| p.template == t))
        .collect();
    match q.get("sort") {
        Some("name") => out.sort_by(|a, b| a.name.cmp(&b.name)),
        Some("-name") => out.sort_by(|a, b| b.name.cmp(&a.name)),
        _ => {}
    }
    Ok(out)
}

pub(crate) async fn list(State(sim): State<Sim>, req: Req) -> ApiResult {
    sim.rest(&req, CompanyHeader::Required, |w, ctx| {
        let items = filtered(w, ctx, &req.q, false)?;
        let paging = v1_paging(&sim, &req.q);
        if req.q.get("serializer_view") == Some("compact") {
            Ok(paging::v1(&req.info, paging, &items, |p| {
                wire::project_compact(p)
            }))
        } else {
            Ok(paging::v1(&req.info, paging, &items, |p| {
                wire::project_v10_list(w, p)
            }))
        }
    })
}

pub(crate) async fn list_v11(State(sim): State<Sim>, req: Req) -> ApiResult {
    sim.rest(&req, CompanyHeader::Required, |w, ctx| {
        let items = filtered(w, ctx, &req.q, true)?;
        let view = req.q.get("view").unwrap_or("normal").to_owned();
        if view == "ids" {
            let ids: Vec<i64> = items.iter().map(|p| p.id).collect();
            let paging = crate::paging::Paging {
                page: 1,
                per_page: 200_000,
            };
            return Ok(paging::v1(&req.info, paging, &ids, |i| json!({"id": i})));
        }
        let paging = crate::paging::Paging::from_query(&req.q, 100, 300);
        Ok(paging::v1(&req.info, paging, &items, |p| {
            wire::project_v11(w, p, &view)
        }))
    })
}

pub(crate) async fn show(State(sim): State<Sim>, Path(id): Path<i64>, req: Req) -> ApiResult {
    sim.rest(&req, CompanyHeader::Required, |w, ctx| {
        if let Some(cid) = req.q.i64("company_id") {
            ctx.same_company(w, cid)?;
        }
        ctx.can_read(w, Tool::Projects)?;
        let p = ctx.project(w, id)?;
        Ok(ok(wire::project_show(w, p)))
    })
}

pub(crate) async fn create(State(sim): State<Sim>, req: Req, body: Body) -> ApiResult {
    let body = body.value;
    let now = sim.now();
    sim.rest(&req, CompanyHeader::Required, |w, ctx| {
        let cid = body
            .get("company_id")
            .and_then(changes::as_i64)
            .ok_or_else(|| {
                ApiError::BadRequest("param is missing or the value is empty: company_id".into())
            })?;
        ctx.same_company(w, cid)?;
        ctx.can_write(w, Tool::Projects)?;
        let attrs = wrapped(&body, "project")?;
        let id = changes::create_project(w, cid, attrs, ctx.actor(), now)?;
        // The creating app can always see what it created.
        if let Some(i) = w
            .apps
            .get_mut(&ctx.client_id)
            .and_then(|a| a.installations.get_mut(&cid))
        {
            i.permitted_projects.insert(id);
        }
        let p = w
            .projects
            .get(&id)
            .ok_or_else(|| ApiError::not_found("Project"))?;
        Ok(created(wire::project_show(w, p)))
    })
}

pub(crate) async fn update(
    State(sim): State<Sim>,
    Path(id): Path<i64>,
    req: Req,
    body: Body,
) -> ApiResult {
    let body = body.value;
    let now = sim.now();
    sim.rest(&req, CompanyHeader::Required, |w, ctx| {
        ctx.can_write(w, Tool::Projects)?;
        ctx.project(w, id)?;
        let attrs = wrapped(&body, "project")?;
        changes::update_project(w, id, attrs, ctx.actor(), now)?;
        let p = w
            .projects
            .get(&id)
            .ok_or_else(|| ApiError::not_found("Project"))?;
        Ok(ok(wire::project_show(w, p)))
    })
}

/// `GET /rest/v1.0/companies/{company_id}/projects` (Company Admin's project list): every
/// project the app may see, active or not, in the documented compact shape. Not paged: the
/// operation documents neither paging parameters nor headers.
pub(crate) async fn company_list(
    State(sim): State<Sim>,
    Path(cid): Path<i64>,
    req: Req,
) -> ApiResult {
    sim.rest(&req, CompanyHeader::Required, |w, ctx| {
        ctx.same_company(w, cid)?;
        ctx.can_read(w, Tool::Projects)?;
        let items: Vec<serde_json::Value> = ctx
            .installation(w)
            .permitted_projects
            .iter()
            .filter_map(|id| w.projects.get(id))
            .filter(|p| p.company_id == cid)
            .map(|p| {
                json!({
                    "id": p.id,
                    "name": p.name,
                    "address": {"street": p.address, "city": p.city, "state_code": p.state_code,
                                "zip": p.zip, "country_code": p.country_code},
                    "stage_name": p.stage,
                    "status_name": if p.active { "Active" } else { "Inactive" },
                    "type_name": null,
                    "open_items": [],
                    "created_by": null,
                })
            })
            .collect();
        Ok(ok(serde_json::Value::Array(items)))
    })
}

/// Procore's default project stages (NOTES §3 "Stages"); a company in the simulator has
/// exactly these, with the ids projects carry in `project_stage`.
const STAGES: &[(&str, &str)] = &[
    ("Pre-Construction", "pre_construction"),
    ("Course of Construction", "course_of_construction"),
    ("Post-Construction", "post_construction"),
    ("Completed", "completed"),
    ("Not Awarded", "not_awarded"),
    ("Canceled", "canceled"),
];

fn stage(name: &str, category: &str) -> serde_json::Value {
    json!({
        "id": wire::stage_id(name),
        "name": name,
        "is_bidding_stage": category == "not_awarded",
        "is_concept_stage": false,
        "category": category,
        "readonly": true,
        "default_stage": true,
        "hideable": false,
        "has_rfi_prefixes": false,
        "project_stage_has_children": false,
    })
}

/// `GET /rest/v1.0/companies/{company_id}/project_stages`; `project_id` narrows the list to
/// that project's stage.
pub(crate) async fn stages(State(sim): State<Sim>, Path(cid): Path<i64>, req: Req) -> ApiResult {
    sim.rest(&req, CompanyHeader::Required, |w, ctx| {
        ctx.same_company(w, cid)?;
        ctx.can_read(w, Tool::Projects)?;
        let only = match req.q.i64("project_id") {
            Some(pid) => Some(ctx.project(w, pid)?.stage.clone().unwrap_or_default()),
            None => None,
        };
        let items: Vec<&(&str, &str)> = STAGES
            .iter()
            .filter(|(n, _)| only.as_deref().is_none_or(|o| o == *n))
            .collect();
        Ok(paging::v1(
            &req.info,
            v1_paging(&sim, &req.q),
            &items,
            |(n, c)| stage(n, c),
        ))
    })
}

/// `GET /rest/v1.0/companies/{company_id}/project_stages/{id}`.
pub(crate) async fn stage_show(
    State(sim): State<Sim>,
    Path((cid, id)): Path<(i64, i64)>,
    req: Req,
) -> ApiResult {
    sim.rest(&req, CompanyHeader::Required, |w, ctx| {
        ctx.same_company(w, cid)?;
        ctx.can_read(w, Tool::Projects)?;
        let (n, c) = STAGES
            .iter()
            .find(|(n, _)| wire::stage_id(n) == id)
            .ok_or_else(|| ApiError::not_found("Project Stage"))?;
        Ok(ok(stage(n, c)))
    })
}
