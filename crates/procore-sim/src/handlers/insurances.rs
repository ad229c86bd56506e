//! Insurances in four scopes (company vendor, project vendor, company, project) with list,
//! create, show, update, delete and sync, plus the company-wide `PATCH /insurances/sync`.
//! Requests name the provider `name`; responses call it `insurance_provider`.

use super::Path;
use axum::extract::State;
use serde_json::{json, Value};

use super::*;
use crate::changes::{self, InsScope};
use crate::paging;
use crate::wire;
use crate::world::{Insurance, Tool};

#[derive(Clone, Copy, Debug)]
pub(crate) enum Scope {
    CompanyVendor(i64, i64),
    ProjectVendor(i64, i64),
    Company(i64),
    Project(i64),
}

impl Scope {
    /// Checks access and returns where records live.
    fn resolve(self, w: &World, ctx: &Ctx, write: bool) -> ApiResult<InsScope> {
        let s = match self {
            Scope::CompanyVendor(cid, vid) => {
                ctx.same_company(w, cid)?;
                InsScope {
                    company_id: cid,
                    project_id: None,
                    vendor_id: Some(vid),
                }
            }
            Scope::Company(cid) => {
                ctx.same_company(w, cid)?;
                InsScope {
                    company_id: cid,
                    project_id: None,
                    vendor_id: None,
                }
            }
            Scope::ProjectVendor(pid, vid) => {
                ctx.project(w, pid)?;
                InsScope {
                    company_id: ctx.company_id,
                    project_id: Some(pid),
                    vendor_id: Some(vid),
                }
            }
            Scope::Project(pid) => {
                ctx.project(w, pid)?;
                InsScope {
                    company_id: ctx.company_id,
                    project_id: Some(pid),
                    vendor_id: None,
                }
            }
        };
        if write {
            ctx.can_write(w, Tool::Insurances)?;
        } else {
            ctx.can_read(w, Tool::Insurances)?;
        }
        if let Some(v) = s.vendor_id {
            if w.vendors
                .get(&v)
                .is_none_or(|x| x.company_id != s.company_id)
            {
                return Err(ApiError::not_found("Vendor"));
            }
        }
        Ok(s)
    }
}

fn in_scope(i: &Insurance, s: &InsScope) -> bool {
    i.company_id == s.company_id
        && i.project_id == s.project_id
        && s.vendor_id.is_none_or(|v| v == i.vendor_id)
}

pub(crate) async fn list(sim: Sim, scope: Scope, req: Req) -> ApiResult {
    sim.rest(&req, CompanyHeader::Required, |w, ctx| {
        let s = scope.resolve(w, ctx, false)?;
        let items: Vec<&Insurance> = w.insurances.values().filter(|i| in_scope(i, &s)).collect();
        Ok(paging::v1(
            &req.info,
            v1_paging(&sim, &req.q),
            &items,
            |i| wire::insurance(i),
        ))
    })
}

fn get<'w>(w: &'w World, s: &InsScope, id: i64) -> ApiResult<&'w Insurance> {
    w.insurances
        .get(&id)
        .filter(|i| in_scope(i, s))
        .ok_or_else(|| ApiError::not_found("Insurance"))
}

pub(crate) async fn show(sim: Sim, scope: Scope, id: i64, req: Req) -> ApiResult {
    sim.rest(&req, CompanyHeader::Required, |w, ctx| {
        let s = scope.resolve(w, ctx, false)?;
        Ok(ok(wire::insurance(get(w, &s, id)?)))
    })
}

pub(crate) async fn create(sim: Sim, scope: Scope, req: Req, body: Body) -> ApiResult {
    let body = body.value;
    let now = sim.now();
    sim.rest(&req, CompanyHeader::Required, |w, ctx| {
        let s = scope.resolve(w, ctx, true)?;
        let id = changes::create_insurance(w, s, wrapped(&body, "insurance")?, ctx.actor(), now)?;
        Ok(created(wire::insurance(get(w, &s, id)?)))
    })
}

pub(crate) async fn update(sim: Sim, scope: Scope, id: i64, req: Req, body: Body) -> ApiResult {
    let body = body.value;
    let now = sim.now();
    sim.rest(&req, CompanyHeader::Required, |w, ctx| {
        let s = scope.resolve(w, ctx, true)?;
        get(w, &s, id)?;
        changes::update_insurance(w, id, wrapped(&body, "insurance")?, ctx.actor(), now)?;
        Ok(ok(wire::insurance(get(w, &s, id)?)))
    })
}

pub(crate) async fn delete(sim: Sim, scope: Scope, id: i64, req: Req) -> ApiResult {
    let now = sim.now();
    sim.rest(&req, CompanyHeader::Required, |w, ctx| {
        let s = scope.resolve(w, ctx, true)?;
        get(w, &s, id)?;
        changes::delete_insurance(w, id, ctx.actor(), now)?;
        Ok(empty_ok())
    })
}

fn sync_in(
    w: &mut World,
    ctx: &Ctx,
    s: InsScope,
    updates: &[Value],
    now: chrono::DateTime<chrono::Utc>,
) -> ApiResult<(Vec<i64>, Vec<Value>)> {
    let actor = ctx.actor();
    changes::sync(
        w,
        updates,
        // origin_id is unique within a company.
        &|w, o| {
            w.insurances
                .values()
                .find(|i| i.company_id == s.company_id && i.origin_id.as_deref() == Some(o))
                .map(|i| i.id)
        },
        &|w, id| w.insurances.get(&id).is_some_and(|i| in_scope(i, &s)),
        &mut |w, a| changes::create_insurance(w, s, a, actor, now),
        &mut |w, id, a| changes::update_insurance(w, id, a, actor, now),
    )
}

/// A sync body over [`crate::SimConfig::max_insurance_sync_body`] is refused whole (413), as a
/// server in front of Procore's API refuses an oversized request, before anything is written.
fn within_limit(sim: &Sim, body: &Body) -> ApiResult<()> {
    let limit = sim.config().max_insurance_sync_body;
    if body.len > limit {
        return Err(ApiError::Raw(
            axum::http::StatusCode::PAYLOAD_TOO_LARGE,
            json!({"errors": {"base": [format!(
                "Request entity too large: the body is {} bytes; the limit is {limit}",
                body.len
            )]}}),
        ));
    }
    Ok(())
}

pub(crate) async fn sync(sim: Sim, scope: Scope, req: Req, body: Body) -> ApiResult {
    within_limit(&sim, &body)?;
    let body = body.value;
    let now = sim.now();
    sim.rest(&req, CompanyHeader::Required, |w, ctx| {
        let s = scope.resolve(w, ctx, true)?;
        let updates = body
            .get("updates")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let (ids, errors) = sync_in(w, ctx, s, &updates, now)?;
        let entities: Vec<Value> = ids
            .iter()
            .filter_map(|i| w.insurances.get(i))
            .map(wire::insurance)
            .collect();
        Ok(ok(json!({"entities": entities, "errors": errors})))
    })
}

/// `PATCH /rest/v1.0/insurances/sync`: each item names its `company_id`.
pub(crate) async fn global_sync(State(sim): State<Sim>, req: Req, body: Body) -> ApiResult {
    within_limit(&sim, &body)?;
    let body = body.value;
    let now = sim.now();
    sim.rest(&req, CompanyHeader::Required, |w, ctx| {
        ctx.can_write(w, Tool::Insurances)?;
        let updates = body
            .get("updates")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        if updates.len() > 1000 {
            return Err(ApiError::BadRequest(
                "A maximum of 1000 items may be synced at once".into(),
            ));
        }
        let mut entities = Vec::new();
        let mut errors = Vec::new();
        for item in updates {
            // Refused alone, like the scoped sync endpoints' items (an index assignment into a
            // non-object would panic the handler and drop the connection).
            if !item.is_object() {
                errors.push(json!({"errors": {"base": ["must be an object"]}}));
                continue;
            }
            let cid = item.get("company_id").and_then(changes::as_i64);
            if cid != Some(ctx.company_id) {
                let mut failed = item.clone();
                failed["errors"] = json!({"company_id": ["is invalid"]});
                errors.push(failed);
                continue;
            }
            let s = InsScope {
                company_id: ctx.company_id,
                project_id: None,
                vendor_id: None,
            };
            let (ids, errs) = sync_in(w, ctx, s, std::slice::from_ref(&item), now)?;
            entities.extend(
                ids.iter()
                    .filter_map(|i| w.insurances.get(i))
                    .map(wire::insurance),
            );
            errors.extend(errs);
        }
        Ok(ok(json!({"entities": entities, "errors": errors})))
    })
}

macro_rules! scope_routes {
    ($m:ident, $params:ty, $scope:expr) => {
        pub(crate) mod $m {
            use super::*;
            #[allow(clippy::redundant_closure_call)]
            fn scope(p: $params) -> Scope {
                ($scope)(p)
            }
            pub(crate) async fn list(
                State(sim): State<Sim>,
                Path(p): Path<$params>,
                req: Req,
            ) -> ApiResult {
                super::list(sim, scope(p), req).await
            }
            pub(crate) async fn create(
                State(sim): State<Sim>,
                Path(p): Path<$params>,
                req: Req,
                body: Body,
            ) -> ApiResult {
                super::create(sim, scope(p), req, body).await
            }
            pub(crate) async fn sync(
                State(sim): State<Sim>,
                Path(p): Path<$params>,
                req: Req,
                body: Body,
            ) -> ApiResult {
                super::sync(sim, scope(p), req, body).await
            }
        }
    };
}

scope_routes!(company_vendor, (i64, i64), |(c, v)| Scope::CompanyVendor(
    c, v
));
scope_routes!(project_vendor, (i64, i64), |(p, v)| Scope::ProjectVendor(
    p, v
));
scope_routes!(company, i64, Scope::Company);
scope_routes!(project, i64, Scope::Project);

/// Item routes: the last path parameter is the insurance id.
pub(crate) mod item {
    use super::*;
    pub(crate) async fn cv_show(
        State(sim): State<Sim>,
        Path((c, v, id)): Path<(i64, i64, i64)>,
        req: Req,
    ) -> ApiResult {
        show(sim, Scope::CompanyVendor(c, v), id, req).await
    }
    pub(crate) async fn cv_update(
        State(sim): State<Sim>,
        Path((c, v, id)): Path<(i64, i64, i64)>,
        req: Req,
        b: Body,
    ) -> ApiResult {
        update(sim, Scope::CompanyVendor(c, v), id, req, b).await
    }
    pub(crate) async fn cv_delete(
        State(sim): State<Sim>,
        Path((c, v, id)): Path<(i64, i64, i64)>,
        req: Req,
    ) -> ApiResult {
        delete(sim, Scope::CompanyVendor(c, v), id, req).await
    }
    pub(crate) async fn pv_show(
        State(sim): State<Sim>,
        Path((p, v, id)): Path<(i64, i64, i64)>,
        req: Req,
    ) -> ApiResult {
        show(sim, Scope::ProjectVendor(p, v), id, req).await
    }
    pub(crate) async fn pv_update(
        State(sim): State<Sim>,
        Path((p, v, id)): Path<(i64, i64, i64)>,
        req: Req,
        b: Body,
    ) -> ApiResult {
        update(sim, Scope::ProjectVendor(p, v), id, req, b).await
    }
    pub(crate) async fn pv_delete(
        State(sim): State<Sim>,
        Path((p, v, id)): Path<(i64, i64, i64)>,
        req: Req,
    ) -> ApiResult {
        delete(sim, Scope::ProjectVendor(p, v), id, req).await
    }
    pub(crate) async fn c_show(
        State(sim): State<Sim>,
        Path((c, id)): Path<(i64, i64)>,
        req: Req,
    ) -> ApiResult {
        show(sim, Scope::Company(c), id, req).await
    }
    pub(crate) async fn c_update(
        State(sim): State<Sim>,
        Path((c, id)): Path<(i64, i64)>,
        req: Req,
        b: Body,
    ) -> ApiResult {
        update(sim, Scope::Company(c), id, req, b).await
    }
    pub(crate) async fn c_delete(
        State(sim): State<Sim>,
        Path((c, id)): Path<(i64, i64)>,
        req: Req,
    ) -> ApiResult {
        delete(sim, Scope::Company(c), id, req).await
    }
    pub(crate) async fn p_show(
        State(sim): State<Sim>,
        Path((p, id)): Path<(i64, i64)>,
        req: Req,
    ) -> ApiResult {
        show(sim, Scope::Project(p), id, req).await
    }
    pub(crate) async fn p_update(
        State(sim): State<Sim>,
        Path((p, id)): Path<(i64, i64)>,
        req: Req,
        b: Body,
    ) -> ApiResult {
        update(sim, Scope::Project(p), id, req, b).await
    }
    pub(crate) async fn p_delete(
        State(sim): State<Sim>,
        Path((p, id)): Path<(i64, i64)>,
        req: Req,
    ) -> ApiResult {
        delete(sim, Scope::Project(p), id, req).await
    }
}
