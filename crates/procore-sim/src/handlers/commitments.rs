//! Work order and purchase order contracts (v1.0) and v2.0 commitment contracts.

use super::Path;
use axum::extract::State;
use serde_json::{json, Value};

use super::*;
use crate::changes;
use crate::paging;
use crate::wire;
use crate::world::{Commitment, CommitmentKind, Tool};

fn project_id(q: &Query, body: Option<&Value>) -> ApiResult<i64> {
    q.i64("project_id")
        .or_else(|| {
            body.and_then(|b| b.get("project_id"))
                .and_then(changes::as_i64)
        })
        .ok_or_else(|| {
            ApiError::BadRequest("param is missing or the value is empty: project_id".into())
        })
}

fn filter<'w>(
    w: &'w World,
    pid: i64,
    kind: Option<CommitmentKind>,
    q: &Query,
) -> Vec<&'w Commitment> {
    let statuses = q.all("filters[status]");
    let updated = q.range("filters[updated_at]");
    let created = q.range("filters[created_at]");
    let ids = q.ids("filters[id]");
    let origin = q.get("filters[origin_id]");
    let deleted = q.get("filters[include_deleted]");
    let vendors = q.ids("filters[vendor_id]");
    let executed = q.bool("filters[executed]");
    let types = q.all("filters[type]");
    w.commitments
        .values()
        .filter(|c| c.project_id == pid && kind.is_none_or(|k| c.kind == k))
        .filter(|c| match deleted {
            Some("only") => c.deleted_at.is_some(),
            Some("with") => true,
            _ => c.deleted_at.is_none(),
        })
        .filter(|c| {
            statuses.is_empty() || statuses.iter().any(|s| s.eq_ignore_ascii_case(&c.status))
        })
        .filter(|c| updated.is_none_or(|r| r.contains(&c.updated_at)))
        .filter(|c| created.is_none_or(|r| r.contains(&c.created_at)))
        .filter(|c| ids.as_ref().is_none_or(|i| i.contains(&c.id)))
        .filter(|c| origin.is_none_or(|o| c.origin_id.as_deref() == Some(o)))
        .filter(|c| {
            vendors
                .as_ref()
                .is_none_or(|v| c.vendor_id.is_some_and(|x| v.contains(&x)))
        })
        .filter(|c| executed.is_none_or(|e| c.executed == e))
        .filter(|c| types.is_empty() || types.contains(&c.kind.v2_type()))
        .collect()
}

fn get(w: &World, kind: CommitmentKind, pid: Option<i64>, id: i64) -> ApiResult<&Commitment> {
    w.commitments
        .get(&id)
        .filter(|c| c.kind == kind && pid.is_none_or(|p| p == c.project_id))
        .ok_or_else(|| ApiError::not_found("Commitment"))
}

pub(crate) async fn list(sim: Sim, kind: CommitmentKind, req: Req) -> ApiResult {
    sim.rest(&req, CompanyHeader::Required, |w, ctx| {
        let pid = project_id(&req.q, None)?;
        ctx.project(w, pid)?;
        ctx.can_read(w, Tool::Commitments)?;
        let items = filter(w, pid, Some(kind), &req.q);
        Ok(paging::v1(
            &req.info,
            v1_paging(&sim, &req.q),
            &items,
            |c| wire::commitment(w, c, false),
        ))
    })
}

pub(crate) async fn show(sim: Sim, kind: CommitmentKind, id: i64, req: Req) -> ApiResult {
    sim.rest(&req, CompanyHeader::Required, |w, ctx| {
        let pid = project_id(&req.q, None)?;
        ctx.project(w, pid)?;
        ctx.can_read(w, Tool::Commitments)?;
        let c = get(w, kind, Some(pid), id)?;
        if c.deleted_at.is_some() {
            return Err(ApiError::not_found("Commitment"));
        }
        Ok(ok(wire::commitment(w, c, true)))
    })
}

pub(crate) async fn create(sim: Sim, kind: CommitmentKind, req: Req, body: Body) -> ApiResult {
    let body = body.value;
    let now = sim.now();
    sim.rest(&req, CompanyHeader::Required, |w, ctx| {
        let pid = project_id(&req.q, Some(&body))?;
        ctx.project(w, pid)?;
        ctx.can_write(w, Tool::Commitments)?;
        let id = changes::create_commitment(
            w,
            kind,
            pid,
            wrapped(&body, kind.body_key())?,
            ctx.actor(),
            now,
        )?;
        Ok(created(wire::commitment(w, get(w, kind, None, id)?, true)))
    })
}

pub(crate) async fn update(
    sim: Sim,
    kind: CommitmentKind,
    id: i64,
    req: Req,
    body: Body,
) -> ApiResult {
    let body = body.value;
    let now = sim.now();
    sim.rest(&req, CompanyHeader::Required, |w, ctx| {
        let c = get(w, kind, None, id)?;
        ctx.project(w, c.project_id)?;
        ctx.can_write(w, Tool::Commitments)?;
        changes::update_commitment(w, id, wrapped(&body, kind.body_key())?, ctx.actor(), now)?;
        Ok(ok(wire::commitment(w, get(w, kind, None, id)?, true)))
    })
}

pub(crate) async fn delete(sim: Sim, kind: CommitmentKind, id: i64, req: Req) -> ApiResult {
    let now = sim.now();
    sim.rest(&req, CompanyHeader::Required, |w, ctx| {
        let c = get(w, kind, None, id)?;
        ctx.project(w, c.project_id)?;
        ctx.can_write(w, Tool::Commitments)?;
        changes::delete_commitment(w, id, ctx.actor(), now)?;
        Ok(empty_ok())
    })
}

pub(crate) async fn sync(sim: Sim, kind: CommitmentKind, req: Req, body: Body) -> ApiResult {
    let body = body.value;
    let now = sim.now();
    sim.rest(&req, CompanyHeader::Required, |w, ctx| {
        let pid = project_id(&req.q, Some(&body))?;
        ctx.project(w, pid)?;
        ctx.can_write(w, Tool::Commitments)?;
        let cid = ctx.company_id;
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
                w.commitments
                    .values()
                    .find(|c| {
                        c.kind == kind
                            && c.origin_id.as_deref() == Some(o)
                            && w.project_company(c.project_id) == Some(cid)
                    })
                    .map(|c| c.id)
            },
            &|w, id| {
                w.commitments
                    .get(&id)
                    .is_some_and(|c| c.kind == kind && c.project_id == pid)
            },
            &mut |w, a| changes::create_commitment(w, kind, pid, a, actor, now),
            &mut |w, id, a| changes::update_commitment(w, id, a, actor, now),
        )?;
        let entities: Vec<Value> = ids
            .iter()
            .filter_map(|i| w.commitments.get(i))
            .map(|c| wire::commitment(w, c, true))
            .collect();
        Ok(ok(json!({"entities": entities, "errors": errors})))
    })
}

macro_rules! kind_routes {
    ($m:ident, $kind:expr) => {
        pub(crate) mod $m {
            use super::*;
            pub(crate) async fn list(State(sim): State<Sim>, req: Req) -> ApiResult {
                super::list(sim, $kind, req).await
            }
            pub(crate) async fn show(
                State(sim): State<Sim>,
                Path(id): Path<i64>,
                req: Req,
            ) -> ApiResult {
                super::show(sim, $kind, id, req).await
            }
            pub(crate) async fn create(State(sim): State<Sim>, req: Req, body: Body) -> ApiResult {
                super::create(sim, $kind, req, body).await
            }
            pub(crate) async fn update(
                State(sim): State<Sim>,
                Path(id): Path<i64>,
                req: Req,
                body: Body,
            ) -> ApiResult {
                super::update(sim, $kind, id, req, body).await
            }
            pub(crate) async fn delete(
                State(sim): State<Sim>,
                Path(id): Path<i64>,
                req: Req,
            ) -> ApiResult {
                super::delete(sim, $kind, id, req).await
            }
            pub(crate) async fn sync(State(sim): State<Sim>, req: Req, body: Body) -> ApiResult {
                super::sync(sim, $kind, req, body).await
            }
        }
    };
}

kind_routes!(woc, CommitmentKind::WorkOrderContract);
kind_routes!(poc, CommitmentKind::PurchaseOrderContract);

pub(crate) async fn v2_list(
    State(sim): State<Sim>,
    Path((cid, pid)): Path<(i64, i64)>,
    req: Req,
) -> ApiResult {
    sim.rest(&req, CompanyHeader::Required, |w, ctx| {
        ctx.same_company(w, cid)?;
        ctx.project(w, pid)?;
        ctx.can_read(w, Tool::Commitments)?;
        let items = filter(w, pid, None, &req.q);
        let extended = req.q.get("view") == Some("extended");
        Ok(paging::v2(&req.info, v2_paging(&req.q), &items, |c| {
            wire::commitment_v2(w, c, extended)
        }))
    })
}

pub(crate) async fn v2_show(
    State(sim): State<Sim>,
    Path((cid, pid, id)): Path<(i64, i64, String)>,
    req: Req,
) -> ApiResult {
    sim.rest(&req, CompanyHeader::Required, |w, ctx| {
        ctx.same_company(w, cid)?;
        ctx.project(w, pid)?;
        ctx.can_read(w, Tool::Commitments)?;
        let id = id_of(&id)?;
        let c = w
            .commitments
            .get(&id)
            .filter(|c| c.project_id == pid && c.deleted_at.is_none())
            .ok_or_else(|| ApiError::not_found("Commitment Contract"))?;
        let extended = req.q.get("view") == Some("extended");
        Ok(ok(json!({"data": wire::commitment_v2(w, c, extended)})))
    })
}

/// `GET /rest/v2.0/companies/{company_id}/custom_field_definitions`: the company's custom field
/// definitions (the labels of the `custom_field_<id>` keys commitments carry), by id, with
/// `filters[with_label]` (label contains, ignoring case) and `filters[id]`. Procore lets a tool's
/// readers read the definitions its records use; the simulator asks for read access to
/// Commitments, the only tool whose records carry custom fields here.
pub(crate) async fn custom_field_definitions(
    State(sim): State<Sim>,
    Path(cid): Path<i64>,
    req: Req,
) -> ApiResult {
    sim.rest(&req, CompanyHeader::Required, |w, ctx| {
        ctx.same_company(w, cid)?;
        ctx.can_read(w, Tool::Commitments)?;
        let label = req.q.get("filters[with_label]").map(str::to_lowercase);
        let ids = req.q.ids("filters[id]");
        let items: Vec<_> = w
            .custom_field_definitions
            .values()
            .filter(|d| d.company_id == cid)
            .filter(|d| {
                label
                    .as_deref()
                    .is_none_or(|l| d.label.to_lowercase().contains(l))
            })
            .filter(|d| ids.as_ref().is_none_or(|i| i.contains(&d.id)))
            .collect();
        Ok(paging::v2(&req.info, v2_paging(&req.q), &items, |d| {
            wire::custom_field_definition(d)
        }))
    })
}

/// A commitment of either kind as `/rest/v1.0/commitments` renders it: the kind's own body,
/// its `type` (documented on the show only, so the list loses it), and the vendor as `{id, name}` (the kind-specific routes name it `company`).
fn commitment_any_kind(w: &World, c: &Commitment, show: bool) -> Value {
    let mut v = wire::commitment(w, c, show);
    if let Some(m) = v.as_object_mut() {
        m.insert("type".into(), json!(c.kind.v2_type()));
        let vendor = c
            .vendor_id
            .and_then(|id| w.vendors.get(&id))
            .map(|v| json!({"id": v.id, "name": v.name}));
        if let Some(vendor) = vendor {
            m.insert("vendor".into(), vendor);
        }
    }
    v
}

/// `GET /rest/v1.0/commitments?project_id=`: work order and purchase order contracts together.
pub(crate) async fn any_list(State(sim): State<Sim>, req: Req) -> ApiResult {
    sim.rest(&req, CompanyHeader::Required, |w, ctx| {
        let pid = project_id(&req.q, None)?;
        ctx.project(w, pid)?;
        ctx.can_read(w, Tool::Commitments)?;
        let items = filter(w, pid, None, &req.q);
        Ok(paging::v1(
            &req.info,
            v1_paging(&sim, &req.q),
            &items,
            |c| commitment_any_kind(w, c, false),
        ))
    })
}

/// `GET /rest/v1.0/commitments/{id}?project_id=`.
pub(crate) async fn any_show(State(sim): State<Sim>, Path(id): Path<i64>, req: Req) -> ApiResult {
    sim.rest(&req, CompanyHeader::Required, |w, ctx| {
        let pid = project_id(&req.q, None)?;
        ctx.project(w, pid)?;
        ctx.can_read(w, Tool::Commitments)?;
        let c = w
            .commitments
            .get(&id)
            .filter(|c| c.project_id == pid && c.deleted_at.is_none())
            .ok_or_else(|| ApiError::not_found("Commitment"))?;
        Ok(ok(commitment_any_kind(w, c, true)))
    })
}
