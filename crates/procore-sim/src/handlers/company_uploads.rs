//! Company-level direct uploads, `/rest/v1.1/companies/{company_id}/uploads[/{uuid}]`: the
//! project upload flow without a project (the bytes go to the same simulated bucket, and the
//! upload may then back a file anywhere in the company).
//!
//! The documented request body is `multipart/form-data`; JSON and form bodies are read too,
//! as Procore's Rails stack reads them.

use super::Path;
use axum::extract::State;

use super::body::Body;
use super::*;
use crate::wire;
use crate::world::{Tool, Upload};

fn check(w: &World, ctx: &Ctx, cid: i64, write: bool) -> ApiResult<()> {
    ctx.same_company(w, cid)?;
    if write {
        ctx.can_write(w, Tool::Documents)
    } else {
        ctx.can_read(w, Tool::Documents)
    }
}

pub(crate) async fn create(
    State(sim): State<Sim>,
    Path(cid): Path<i64>,
    req: Req,
    body: Body,
) -> ApiResult {
    let now = sim.now();
    sim.rest(&req, CompanyHeader::Required, |w, ctx| {
        check(w, ctx, cid, true)?;
        let u = super::documents::declared_upload(&body.value, cid, None, now)?;
        let out = wire::upload(req.base(), &u, &now);
        w.uploads.insert(u.uuid.clone(), u);
        Ok(created(out))
    })
}

fn get<'w>(w: &'w World, cid: i64, uuid: &str) -> ApiResult<&'w Upload> {
    w.uploads
        .get(uuid)
        .filter(|u| u.company_id == cid && u.project_id.is_none())
        .ok_or_else(|| ApiError::not_found("Upload"))
}

pub(crate) async fn show(
    State(sim): State<Sim>,
    Path((cid, uuid)): Path<(i64, String)>,
    req: Req,
) -> ApiResult {
    let now = sim.now();
    sim.rest(&req, CompanyHeader::Required, |w, ctx| {
        check(w, ctx, cid, false)?;
        Ok(ok(wire::upload(req.base(), get(w, cid, &uuid)?, &now)))
    })
}

/// Completes a segmented upload; as for project uploads the simulator stores whole bodies, so
/// this only marks a stored upload complete.
pub(crate) async fn update(
    State(sim): State<Sim>,
    Path((cid, uuid)): Path<(i64, String)>,
    req: Req,
) -> ApiResult {
    let now = sim.now();
    sim.rest(&req, CompanyHeader::Required, |w, ctx| {
        check(w, ctx, cid, true)?;
        get(w, cid, &uuid)?;
        let u = w
            .uploads
            .get_mut(&uuid)
            .ok_or_else(|| ApiError::not_found("Upload"))?;
        if u.blob.is_some() {
            u.status = "complete".into();
        }
        let u = u.clone();
        Ok(ok(wire::upload(req.base(), &u, &now)))
    })
}
