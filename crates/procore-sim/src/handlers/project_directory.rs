//! A project's Directory: the company users and vendors added to one project
//! (`GET /rest/v1.0/projects/{project_id}/users[/{id}]` and `/vendors[/{id}]`).
//!
//! Same rules as the company Directory (read access to the Directory tool), plus the project's:
//! a project the app may not see, or a record not on the project, reads as absent (404).

use super::Path;
use axum::extract::State;

use super::*;
use crate::paging;
use crate::wire;
use crate::world::{ProjectDirectory, Tool, User, Vendor};

fn directory<'w>(w: &'w World, ctx: &Ctx, pid: i64) -> ApiResult<&'w ProjectDirectory> {
    static EMPTY: std::sync::OnceLock<ProjectDirectory> = std::sync::OnceLock::new();
    ctx.can_read(w, Tool::Directory)?;
    ctx.project(w, pid)?;
    Ok(w.project_directories
        .get(&pid)
        .unwrap_or_else(|| EMPTY.get_or_init(ProjectDirectory::default)))
}

fn users<'w>(w: &'w World, d: &ProjectDirectory, q: &Query) -> Vec<&'w User> {
    let filters = super::users::UserFilters::new(q, "filters[employee]");
    let search = q.get("filters[search]").map(str::to_lowercase);
    let mut out: Vec<&User> = d
        .users
        .iter()
        .filter_map(|id| w.users.get(id))
        .filter(|u| filters.keeps(u))
        .filter(|u| {
            search.as_ref().is_none_or(|s| {
                [&u.first_name, &u.last_name, &u.email_address]
                    .iter()
                    .any(|f| f.as_ref().is_some_and(|v| v.to_lowercase().contains(s)))
            })
        })
        .collect();
    let name = |u: &User| (u.last_name.clone(), u.first_name.clone(), u.id);
    match q.get("sort") {
        Some("name" | "last_name") => out.sort_by_key(|u| name(u)),
        Some("-name" | "-last_name") => out.sort_by_key(|u| std::cmp::Reverse(name(u))),
        _ => {}
    }
    out
}

fn vendors<'w>(w: &'w World, d: &ProjectDirectory, q: &Query) -> Vec<&'w Vendor> {
    let ids = q.ids("filters[id]");
    let abbreviated: Vec<&str> = q.all("filters[abbreviated_name]");
    let search = q.get("filters[search]").map(str::to_lowercase);
    // The simulator keeps no trades, cost codes or parent vendors: a filter on one matches
    // nothing, as it would in a company that has none.
    let unmatched = [
        "filters[trade_id]",
        "filters[standard_cost_code_id]",
        "filters[parent_id]",
    ]
    .iter()
    .any(|k| !q.all(k).is_empty());
    let mut out: Vec<&Vendor> = d
        .vendors
        .iter()
        .filter_map(|id| w.vendors.get(id))
        .filter(|_| !unmatched)
        .filter(|v| ids.as_ref().is_none_or(|i| i.contains(&v.id)))
        .filter(|v| {
            abbreviated.is_empty()
                || v.abbreviated_name
                    .as_deref()
                    .is_some_and(|a| abbreviated.contains(&a))
        })
        .filter(|v| {
            search
                .as_ref()
                .is_none_or(|s| v.name.to_lowercase().contains(s))
        })
        .collect();
    match q.get("sort") {
        Some("name") => out.sort_by(|a, b| a.name.cmp(&b.name)),
        Some("-name") => out.sort_by(|a, b| b.name.cmp(&a.name)),
        _ => {}
    }
    out
}

pub(crate) async fn user_list(State(sim): State<Sim>, Path(pid): Path<i64>, req: Req) -> ApiResult {
    sim.rest(&req, CompanyHeader::Required, |w, ctx| {
        let d = directory(w, ctx, pid)?;
        let items = users(w, d, &req.q);
        Ok(paging::v1(
            &req.info,
            v1_paging(&sim, &req.q),
            &items,
            |u| wire::user(w, u),
        ))
    })
}

pub(crate) async fn user_show(
    State(sim): State<Sim>,
    Path((pid, id)): Path<(i64, i64)>,
    req: Req,
) -> ApiResult {
    sim.rest(&req, CompanyHeader::Required, |w, ctx| {
        let d = directory(w, ctx, pid)?;
        let u = d
            .users
            .get(&id)
            .and_then(|id| w.users.get(id))
            .ok_or_else(|| ApiError::not_found("User"))?;
        Ok(ok(wire::user(w, u)))
    })
}

pub(crate) async fn vendor_list(
    State(sim): State<Sim>,
    Path(pid): Path<i64>,
    req: Req,
) -> ApiResult {
    sim.rest(&req, CompanyHeader::Required, |w, ctx| {
        let d = directory(w, ctx, pid)?;
        let items = vendors(w, d, &req.q);
        let view = req.q.get("view").unwrap_or("extended").to_owned();
        Ok(paging::v1(
            &req.info,
            v1_paging(&sim, &req.q),
            &items,
            |v| wire::vendor(w, v, &view),
        ))
    })
}

pub(crate) async fn vendor_show(
    State(sim): State<Sim>,
    Path((pid, id)): Path<(i64, i64)>,
    req: Req,
) -> ApiResult {
    sim.rest(&req, CompanyHeader::Required, |w, ctx| {
        let d = directory(w, ctx, pid)?;
        let v = d
            .vendors
            .get(&id)
            .and_then(|id| w.vendors.get(id))
            .ok_or_else(|| ApiError::not_found("Vendor"))?;
        let view = req.q.get("view").unwrap_or("extended").to_owned();
        Ok(ok(wire::vendor(w, v, &view)))
    })
}
