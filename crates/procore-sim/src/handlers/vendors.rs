//! Company vendors: list, show, inactive list, create, update, sync.

use super::Path;
use axum::extract::State;
use serde_json::{json, Value};

use super::*;
use crate::changes;
use crate::paging;
use crate::wire;
use crate::world::{Tool, Vendor};

fn filter<'w>(w: &'w World, cid: i64, q: &Query, active: bool) -> Vec<&'w Vendor> {
    let updated = q.range("filters[updated_at]");
    let created = q.range("filters[created_at]");
    let ids = q.ids("filters[id]");
    let origin = q.get("filters[origin_id]");
    let search = q.get("filters[search]").map(str::to_lowercase);
    w.vendors
        .values()
        .filter(|v| v.company_id == cid && v.is_active == active)
        .filter(|v| updated.is_none_or(|r| r.contains(&v.updated_at)))
        .filter(|v| created.is_none_or(|r| r.contains(&v.created_at)))
        .filter(|v| ids.as_ref().is_none_or(|i| i.contains(&v.id)))
        .filter(|v| origin.is_none_or(|o| v.origin_id.as_deref() == Some(o)))
        .filter(|v| {
            search
                .as_ref()
                .is_none_or(|s| v.name.to_lowercase().contains(s))
        })
        .collect()
}

fn check(w: &World, ctx: &Ctx, cid: i64, write: bool) -> ApiResult<()> {
    ctx.same_company(w, cid)?;
    if write {
        ctx.can_write(w, Tool::Directory)
    } else {
        ctx.can_read(w, Tool::Directory)
    }
}

fn query_company(q: &Query, body: Option<&Value>) -> ApiResult<i64> {
    q.i64("company_id")
        .or_else(|| {
            body.and_then(|b| b.get("company_id"))
                .and_then(changes::as_i64)
        })
        .ok_or_else(|| {
            ApiError::BadRequest("param is missing or the value is empty: company_id".into())
        })
}

pub(crate) async fn list(State(sim): State<Sim>, req: Req) -> ApiResult {
    sim.rest(&req, CompanyHeader::Required, |w, ctx| {
        let cid = query_company(&req.q, None)?;
        check(w, ctx, cid, false)?;
        let items = filter(w, cid, &req.q, true);
        let view = req.q.get("view").unwrap_or("extended").to_owned();
        Ok(paging::v1(
            &req.info,
            v1_paging(&sim, &req.q),
            &items,
            |v| wire::vendor(w, v, &view),
        ))
    })
}

pub(crate) async fn inactive(State(sim): State<Sim>, Path(cid): Path<i64>, req: Req) -> ApiResult {
    sim.rest(&req, CompanyHeader::Required, |w, ctx| {
        check(w, ctx, cid, false)?;
        let items = filter(w, cid, &req.q, false);
        Ok(paging::v1(
            &req.info,
            v1_paging(&sim, &req.q),
            &items,
            |v| wire::vendor_inactive(w, v),
        ))
    })
}

fn get(w: &World, cid: i64, id: i64) -> ApiResult<&Vendor> {
    w.vendors
        .get(&id)
        .filter(|v| v.company_id == cid)
        .ok_or_else(|| ApiError::not_found("Vendor"))
}

pub(crate) async fn show(State(sim): State<Sim>, Path(id): Path<i64>, req: Req) -> ApiResult {
    sim.rest(&req, CompanyHeader::Required, |w, ctx| {
        let cid = query_company(&req.q, None).unwrap_or(ctx.company_id);
        check(w, ctx, cid, false)?;
        Ok(ok(wire::vendor(w, get(w, cid, id)?, "extended")))
    })
}

pub(crate) async fn create(State(sim): State<Sim>, req: Req, body: Body) -> ApiResult {
    let body = body.value;
    let now = sim.now();
    sim.rest(&req, CompanyHeader::Required, |w, ctx| {
        let cid = query_company(&req.q, Some(&body))?;
        check(w, ctx, cid, true)?;
        let id = changes::create_vendor(w, cid, wrapped(&body, "vendor")?, ctx.actor(), now)?;
        Ok(created(wire::vendor(w, get(w, cid, id)?, "extended")))
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
        let cid = query_company(&req.q, Some(&body)).unwrap_or(ctx.company_id);
        check(w, ctx, cid, true)?;
        get(w, cid, id)?;
        changes::update_vendor(w, id, wrapped(&body, "vendor")?, ctx.actor(), now)?;
        Ok(ok(wire::vendor(w, get(w, cid, id)?, "extended")))
    })
}

pub(crate) async fn sync(State(sim): State<Sim>, req: Req, body: Body) -> ApiResult {
    let body = body.value;
    let now = sim.now();
    sim.rest(&req, CompanyHeader::Required, |w, ctx| {
        let cid = query_company(&req.q, Some(&body)).unwrap_or(ctx.company_id);
        check(w, ctx, cid, true)?;
        let updates = body
            .get("updates")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let actor = ctx.actor();
        let (ids, errors) = changes::sync(
            w,
            &updates,
            &|w, o| {
                w.vendors
                    .values()
                    .find(|v| v.company_id == cid && v.origin_id.as_deref() == Some(o))
                    .map(|v| v.id)
            },
            &|w, id| w.vendors.get(&id).is_some_and(|v| v.company_id == cid),
            &mut |w, a| changes::create_vendor(w, cid, a, actor, now),
            &mut |w, id, a| changes::update_vendor(w, id, a, actor, now),
        )?;
        let entities: Vec<Value> = ids
            .iter()
            .filter_map(|i| w.vendors.get(i))
            .map(|v| wire::vendor(w, v, "extended"))
            .collect();
        Ok(ok(json!({"entities": entities, "errors": errors})))
    })
}
