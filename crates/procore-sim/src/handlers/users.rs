//! Company users (v1.0 and v1.3), inactive users, people, create, update, sync.

use super::Path;
use axum::extract::State;
use serde_json::{json, Value};

use super::*;
use crate::changes;
use crate::paging;
use crate::wire;
use crate::world::{Tool, User};

/// The user filters the company and project Directories share (`employee_key` is how each
/// operation names the employee filter); search differs between them and stays with each.
pub(super) struct UserFilters<'q> {
    updated: Option<crate::query::Range>,
    created: Option<crate::query::Range>,
    vendors: Option<Vec<i64>>,
    origin: Option<&'q str>,
    ids: Option<Vec<i64>>,
    employee: Option<bool>,
}

impl<'q> UserFilters<'q> {
    pub(super) fn new(q: &'q Query, employee_key: &str) -> Self {
        UserFilters {
            updated: q.range("filters[updated_at]"),
            created: q.range("filters[created_at]"),
            vendors: q.ids("filters[vendor_id]"),
            origin: q.get("filters[origin_id]"),
            ids: q.ids("filters[id]"),
            employee: q.bool(employee_key),
        }
    }

    pub(super) fn keeps(&self, u: &User) -> bool {
        self.updated
            .as_ref()
            .is_none_or(|r| r.contains(&u.updated_at))
            && self
                .created
                .as_ref()
                .is_none_or(|r| r.contains(&u.created_at))
            && self
                .vendors
                .as_ref()
                .is_none_or(|v| u.vendor_id.is_some_and(|x| v.contains(&x)))
            && self
                .origin
                .is_none_or(|o| u.origin_id.as_deref() == Some(o))
            && self.ids.as_ref().is_none_or(|i| i.contains(&u.id))
            && self.employee.is_none_or(|e| u.is_employee == e)
    }
}

fn filter<'w>(w: &'w World, cid: i64, q: &Query, active: Option<bool>) -> Vec<&'w User> {
    let filters = UserFilters::new(q, "filters[is_employee]");
    let search = q.get("filters[search]").map(str::to_lowercase);
    w.users
        .values()
        .filter(|u| u.company_id == cid)
        .filter(|u| active.is_none_or(|a| u.is_active == a))
        .filter(|u| filters.keeps(u))
        .filter(|u| {
            search.as_ref().is_none_or(|s| {
                [&u.first_name, &u.last_name, &u.email_address, &u.job_title]
                    .iter()
                    .any(|f| f.as_ref().is_some_and(|v| v.to_lowercase().contains(s)))
                    || u.vendor_id
                        .and_then(|v| w.vendors.get(&v))
                        .is_some_and(|v| v.name.to_lowercase().contains(s))
            })
        })
        .collect()
}

fn company_ctx(w: &World, ctx: &Ctx, cid: i64, write: bool) -> ApiResult<()> {
    ctx.same_company(w, cid)?;
    if write {
        ctx.can_write(w, Tool::Directory)
    } else {
        ctx.can_read(w, Tool::Directory)
    }
}

pub(crate) async fn list(State(sim): State<Sim>, Path(cid): Path<i64>, req: Req) -> ApiResult {
    sim.rest(&req, CompanyHeader::Required, |w, ctx| {
        company_ctx(w, ctx, cid, false)?;
        let items = filter(w, cid, &req.q, Some(true));
        Ok(paging::v1(
            &req.info,
            v1_paging(&sim, &req.q),
            &items,
            |u| wire::user(w, u),
        ))
    })
}

pub(crate) async fn list_v13(State(sim): State<Sim>, Path(cid): Path<i64>, req: Req) -> ApiResult {
    sim.rest(&req, CompanyHeader::Required, |w, ctx| {
        company_ctx(w, ctx, cid, false)?;
        let items = filter(w, cid, &req.q, Some(true));
        let p = v1_paging(&sim, &req.q);
        if req.q.get("view") == Some("ids_only") {
            return Ok(paging::v1(&req.info, p, &items, |u| json!({"id": u.id})));
        }
        Ok(paging::v1(&req.info, p, &items, |u| wire::user_v13(w, u)))
    })
}

pub(crate) async fn inactive(State(sim): State<Sim>, Path(cid): Path<i64>, req: Req) -> ApiResult {
    sim.rest(&req, CompanyHeader::Required, |w, ctx| {
        company_ctx(w, ctx, cid, false)?;
        let items = filter(w, cid, &req.q, Some(false));
        Ok(paging::v1(
            &req.info,
            v1_paging(&sim, &req.q),
            &items,
            |u| wire::user_inactive(w, u),
        ))
    })
}

pub(crate) async fn people(State(sim): State<Sim>, Path(cid): Path<i64>, req: Req) -> ApiResult {
    sim.rest(&req, CompanyHeader::Required, |w, ctx| {
        company_ctx(w, ctx, cid, false)?;
        let items: Vec<&User> = filter(w, cid, &req.q, None)
            .into_iter()
            .filter(|u| u.service_account_of.is_none())
            .collect();
        Ok(paging::v1(
            &req.info,
            v1_paging(&sim, &req.q),
            &items,
            |u| wire::person(u),
        ))
    })
}

fn get_user(w: &World, cid: i64, id: i64) -> ApiResult<&User> {
    w.users
        .get(&id)
        .filter(|u| u.company_id == cid)
        .ok_or_else(|| ApiError::not_found("User"))
}

pub(crate) async fn show(
    State(sim): State<Sim>,
    Path((cid, id)): Path<(i64, i64)>,
    req: Req,
) -> ApiResult {
    sim.rest(&req, CompanyHeader::Required, |w, ctx| {
        company_ctx(w, ctx, cid, false)?;
        Ok(ok(wire::user(w, get_user(w, cid, id)?)))
    })
}

pub(crate) async fn show_v13(
    State(sim): State<Sim>,
    Path((cid, id)): Path<(i64, i64)>,
    req: Req,
) -> ApiResult {
    sim.rest(&req, CompanyHeader::Required, |w, ctx| {
        company_ctx(w, ctx, cid, false)?;
        Ok(ok(wire::user_v13(w, get_user(w, cid, id)?)))
    })
}

pub(crate) async fn create(
    State(sim): State<Sim>,
    Path(cid): Path<i64>,
    req: Req,
    body: Body,
) -> ApiResult {
    let body = body.value;
    let now = sim.now();
    sim.rest(&req, CompanyHeader::Required, |w, ctx| {
        company_ctx(w, ctx, cid, true)?;
        let attrs = wrapped(&body, "user")?;
        if attrs
            .get("email_address")
            .and_then(Value::as_str)
            .is_none_or(str::is_empty)
        {
            return Err(ApiError::invalid("email_address", "can't be blank"));
        }
        let id = changes::create_user(w, cid, attrs, ctx.actor(), now)?;
        Ok(created(wire::user(w, get_user(w, cid, id)?)))
    })
}

pub(crate) async fn update(
    State(sim): State<Sim>,
    Path((cid, id)): Path<(i64, i64)>,
    req: Req,
    body: Body,
) -> ApiResult {
    let body = body.value;
    let now = sim.now();
    sim.rest(&req, CompanyHeader::Required, |w, ctx| {
        company_ctx(w, ctx, cid, true)?;
        get_user(w, cid, id)?;
        changes::update_user(w, id, wrapped(&body, "user")?, ctx.actor(), now)?;
        Ok(ok(wire::user(w, get_user(w, cid, id)?)))
    })
}

pub(crate) async fn sync(
    State(sim): State<Sim>,
    Path(cid): Path<i64>,
    req: Req,
    body: Body,
) -> ApiResult {
    let body = body.value;
    let now = sim.now();
    sim.rest(&req, CompanyHeader::Required, |w, ctx| {
        company_ctx(w, ctx, cid, true)?;
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
                w.users
                    .values()
                    .find(|u| u.company_id == cid && u.origin_id.as_deref() == Some(o))
                    .map(|u| u.id)
            },
            &|w, id| w.users.get(&id).is_some_and(|u| u.company_id == cid),
            &mut |w, a| changes::create_user(w, cid, a, actor, now),
            &mut |w, id, a| changes::update_user(w, id, a, actor, now),
        )?;
        let entities: Vec<Value> = ids
            .iter()
            .filter_map(|i| w.users.get(i))
            .map(|u| wire::user(w, u))
            .collect();
        Ok(ok(json!({"entities": entities, "errors": errors})))
    })
}

/// Every property Procore's `RestV11CompaniesCompanyIdUsersGet` documents for an item; the
/// subset does not carry the operation, so the shape is kept here: what the simulator has no
/// value for is `null`.
const V11_USER_FIELDS: &[&str] = &[
    "address",
    "avatar",
    "business_id",
    "business_phone",
    "business_phone_extension",
    "city",
    "contact_id",
    "country_code",
    "created_at",
    "email_address",
    "email_signature",
    "employee_id",
    "erp_integrated_accountant",
    "fax_number",
    "first_name",
    "id",
    "initials",
    "is_active",
    "is_employee",
    "job_title",
    "last_activated_at",
    "last_login_at",
    "last_name",
    "mobile_phone",
    "name",
    "notes",
    "origin_id",
    "origin_data",
    "state_code",
    "updated_at",
    "welcome_email_sent_at",
    "zip",
    "work_classification_id",
    "permission_template",
    "company_permission_template",
    "vendor",
];

fn user_v11(w: &World, u: &User) -> Value {
    let mut full = wire::user(w, u);
    let out: serde_json::Map<String, Value> = V11_USER_FIELDS
        .iter()
        .map(|k| {
            let v = full.get_mut(*k).map(Value::take).unwrap_or(Value::Null);
            ((*k).to_owned(), v)
        })
        .collect();
    Value::Object(out)
}

/// `GET /rest/v1.1/companies/{company_id}/users`: the active users, as v1.0 lists them, with
/// v1.1's documented sorts (by name, vendor name, email or job title).
pub(crate) async fn list_v11(State(sim): State<Sim>, Path(cid): Path<i64>, req: Req) -> ApiResult {
    sim.rest(&req, CompanyHeader::Required, |w, ctx| {
        company_ctx(w, ctx, cid, false)?;
        let mut items = filter(w, cid, &req.q, Some(true));
        let lower = |s: &Option<String>| s.as_deref().unwrap_or("").to_lowercase();
        let vendor = |u: &User| {
            u.vendor_id
                .and_then(|v| w.vendors.get(&v))
                .map(|v| v.name.to_lowercase())
                .unwrap_or_default()
        };
        match req.q.get("sort") {
            Some("name" | "full_name") => {
                items.sort_by_key(|u| (lower(&u.last_name), lower(&u.first_name), u.id))
            }
            Some("vendor_name") => items.sort_by_key(|u| (vendor(u), u.id)),
            Some("email") => items.sort_by_key(|u| (lower(&u.email_address), u.id)),
            Some("job_title") => items.sort_by_key(|u| (lower(&u.job_title), u.id)),
            _ => {}
        }
        Ok(paging::v1(
            &req.info,
            v1_paging(&sim, &req.q),
            &items,
            |u| user_v11(w, u),
        ))
    })
}
