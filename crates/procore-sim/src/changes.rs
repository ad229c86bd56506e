//! The only code that creates, updates and deletes records.
//!
//! Why one place: every change — from an API call or an admin "UI edit" — must bump
//! `updated_at` on the simulated clock, keep `origin_id` unique within the company, keep
//! permitted-project lists current (`add_to_all_new_projects`) and emit a webhook event with
//! the right `source_application_id`. Attributes arrive as the JSON object Procore's request
//! bodies carry (`{"project": {...}}` → the inner object).

use chrono::{DateTime, NaiveDate, Utc};
use serde_json::{Map, Value};

use crate::error::ApiError;
use crate::webhooks::Change;
use crate::world::*;

pub(crate) type Attrs = Map<String, Value>;

/// Who made a change.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Actor {
    pub(crate) user_id: Option<i64>,
    /// `Some` for API calls (the app's id), `None` for admin edits.
    pub(crate) app_id: Option<i64>,
}

impl Actor {
    pub(crate) fn admin() -> Actor {
        Actor {
            user_id: None,
            app_id: None,
        }
    }
}

fn to_string(v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

/// A scalar attribute. Rails' strong parameters drop an object or array sent where a scalar is
/// permitted, so such a value is as if it had not been sent (and a required one is blank).
fn scalar<'a>(a: &'a Attrs, key: &str) -> Option<&'a Value> {
    a.get(key).filter(|v| !v.is_object() && !v.is_array())
}

pub(crate) fn set_s(field: &mut Option<String>, a: &Attrs, key: &str) {
    if let Some(v) = scalar(a, key) {
        *field = to_string(v).filter(|s| !s.is_empty());
    }
}

fn set_req_s(field: &mut String, a: &Attrs, key: &str) -> Result<(), ApiError> {
    if let Some(v) = scalar(a, key) {
        match to_string(v).filter(|s| !s.trim().is_empty()) {
            Some(s) => *field = s,
            None => return Err(ApiError::invalid(key, "can't be blank")),
        }
    }
    Ok(())
}

pub(crate) fn as_bool(v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        Value::String(s) => Some(matches!(s.as_str(), "true" | "1" | "t")),
        Value::Number(n) => Some(n.as_i64() != Some(0)),
        _ => None,
    }
}

pub(crate) fn as_i64(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn set_b(field: &mut bool, a: &Attrs, key: &str) {
    if let Some(b) = scalar(a, key).and_then(as_bool) {
        *field = b;
    }
}

fn set_ob(field: &mut Option<bool>, a: &Attrs, key: &str) {
    if let Some(v) = a.get(key) {
        *field = as_bool(v);
    }
}

fn set_f(field: &mut Option<f64>, a: &Attrs, key: &str) {
    if let Some(v) = a.get(key) {
        *field = match v {
            Value::Number(n) => n.as_f64(),
            Value::String(s) => s.trim().parse().ok(),
            _ => None,
        };
    }
}

fn set_i(field: &mut Option<i64>, a: &Attrs, key: &str) {
    if let Some(v) = scalar(a, key) {
        *field = as_i64(v);
    }
}

fn set_date(field: &mut Option<NaiveDate>, a: &Attrs, key: &str) -> Result<(), ApiError> {
    if let Some(v) = a.get(key) {
        *field = match v {
            Value::Null => None,
            Value::String(s) if s.is_empty() => None,
            Value::String(s) => Some(
                NaiveDate::parse_from_str(s.get(..10).unwrap_or(s), "%Y-%m-%d")
                    .map_err(|_| ApiError::invalid(key, "is not a valid date"))?,
            ),
            _ => return Err(ApiError::invalid(key, "is not a valid date")),
        };
    }
    Ok(())
}

fn money(v: &Value) -> Option<String> {
    match v {
        Value::Number(n) => n.as_f64().map(|f| format!("{f:.1}")),
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        _ => None,
    }
}

#[allow(clippy::too_many_arguments)]
fn ev(
    w: &mut World,
    now: DateTime<Utc>,
    actor: Actor,
    company_id: i64,
    project_id: Option<i64>,
    resource_name: &'static str,
    resource_id: i64,
    event_type: &'static str,
) {
    w.emit(
        Change {
            company_id,
            project_id,
            resource_name,
            resource_id,
            event_type,
            user_id: actor.user_id,
            application_id: actor.app_id,
        },
        now,
    );
}

// ---------------------------------------------------------------- projects

fn apply_project(p: &mut Project, a: &Attrs) -> Result<(), ApiError> {
    set_req_s(&mut p.name, a, "name")?;
    set_s(&mut p.project_number, a, "project_number");
    set_s(&mut p.description, a, "description");
    set_s(&mut p.public_notes, a, "public_notes");
    set_s(&mut p.address, a, "address");
    set_s(&mut p.city, a, "city");
    set_s(&mut p.state_code, a, "state_code");
    set_s(&mut p.country_code, a, "country_code");
    set_s(&mut p.zip, a, "zip");
    set_s(&mut p.phone, a, "phone");
    set_s(&mut p.time_zone, a, "time_zone");
    set_s(&mut p.stage, a, "stage");
    set_s(&mut p.origin_id, a, "origin_id");
    set_s(&mut p.origin_data, a, "origin_data");
    set_s(&mut p.origin_code, a, "origin_code");
    set_b(&mut p.active, a, "active");
    set_b(&mut p.template, a, "template");
    set_date(&mut p.start_date, a, "start_date")?;
    set_date(&mut p.completion_date, a, "completion_date")?;
    set_date(&mut p.projected_finish_date, a, "projected_finish_date")?;
    set_s(&mut p.county, a, "county");
    set_s(&mut p.work_scope, a, "work_scope");
    set_s(&mut p.store_number, a, "store_number");
    set_s(&mut p.designated_market_area, a, "designated_market_area");
    set_i(&mut p.square_feet, a, "square_feet");
    set_f(&mut p.latitude, a, "latitude");
    set_f(&mut p.longitude, a, "longitude");
    if let Some(v) = a.get("total_value") {
        p.total_value = money(v);
    }
    Ok(())
}

pub(crate) fn create_project(
    w: &mut World,
    cid: i64,
    a: &Attrs,
    actor: Actor,
    now: DateTime<Utc>,
) -> Result<i64, ApiError> {
    if !w.companies.contains_key(&cid) {
        return Err(ApiError::not_found("Company"));
    }
    let mut p = Project {
        company_id: cid,
        active: true,
        created_at: now,
        updated_at: now,
        ..Project::default()
    };
    apply_project(&mut p, a)?;
    if p.name.trim().is_empty() {
        return Err(ApiError::invalid("name", "can't be blank"));
    }
    let id = w.alloc_id();
    p.id = id;
    w.projects.insert(id, p);
    w.create_root_folder(id, now);
    w.grant_new_project(cid, id);
    ev(w, now, actor, cid, Some(id), "Projects", id, "create");
    Ok(id)
}

pub(crate) fn update_project(
    w: &mut World,
    pid: i64,
    a: &Attrs,
    actor: Actor,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    let p = w
        .projects
        .get_mut(&pid)
        .ok_or_else(|| ApiError::not_found("Project"))?;
    let mut next = p.clone();
    apply_project(&mut next, a)?;
    next.updated_at = now;
    let cid = next.company_id;
    *p = next;
    ev(w, now, actor, cid, Some(pid), "Projects", pid, "update");
    Ok(())
}

// ---------------------------------------------------------------- users

fn apply_user(u: &mut User, a: &Attrs) {
    set_s(&mut u.first_name, a, "first_name");
    set_s(&mut u.last_name, a, "last_name");
    set_s(&mut u.email_address, a, "email_address");
    set_s(&mut u.mobile_phone, a, "mobile_phone");
    set_s(&mut u.business_phone, a, "business_phone");
    set_i(
        &mut u.business_phone_extension,
        a,
        "business_phone_extension",
    );
    set_s(&mut u.fax_number, a, "fax_number");
    set_s(&mut u.employee_id, a, "employee_id");
    set_b(&mut u.is_employee, a, "is_employee");
    set_s(&mut u.job_title, a, "job_title");
    set_s(&mut u.address, a, "address");
    set_s(&mut u.city, a, "city");
    set_s(&mut u.state_code, a, "state_code");
    set_s(&mut u.country_code, a, "country_code");
    set_s(&mut u.zip, a, "zip");
    set_s(&mut u.notes, a, "notes");
    set_i(&mut u.vendor_id, a, "vendor_id");
    set_s(&mut u.origin_id, a, "origin_id");
    set_s(&mut u.origin_data, a, "origin_data");
    set_s(&mut u.locale, a, "locale");
    set_ob(&mut u.is_insurance_manager, a, "is_insurance_manager");
}

fn check_origin<'a, T: 'a>(
    items: impl Iterator<Item = &'a T>,
    key: impl Fn(&T) -> (i64, i64, Option<&str>),
    cid: i64,
    me: i64,
    origin: &Option<String>,
) -> Result<(), ApiError> {
    if let Some(o) = origin {
        for it in items {
            let (id, c, oid) = key(it);
            if c == cid && id != me && oid == Some(o.as_str()) {
                return Err(ApiError::invalid("origin_id", "has already been taken"));
            }
        }
    }
    Ok(())
}

pub(crate) fn create_user(
    w: &mut World,
    cid: i64,
    a: &Attrs,
    actor: Actor,
    now: DateTime<Utc>,
) -> Result<i64, ApiError> {
    let mut u = User {
        company_id: cid,
        is_active: true,
        created_at: now,
        updated_at: now,
        ..User::default()
    };
    apply_user(&mut u, a);
    set_b(&mut u.is_active, a, "is_active");
    if u.last_name.is_none() {
        return Err(ApiError::invalid("last_name", "can't be blank"));
    }
    check_origin(
        w.users.values(),
        |x| (x.id, x.company_id, x.origin_id.as_deref()),
        cid,
        0,
        &u.origin_id,
    )?;
    let id = w.alloc_id();
    u.id = id;
    w.users.insert(id, u);
    ev(w, now, actor, cid, None, "Company Users", id, "create");
    Ok(id)
}

pub(crate) fn update_user(
    w: &mut World,
    uid: i64,
    a: &Attrs,
    actor: Actor,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    let mut next = w
        .users
        .get(&uid)
        .cloned()
        .ok_or_else(|| ApiError::not_found("User"))?;
    apply_user(&mut next, a);
    if let Some(active) = a.get("is_active").and_then(as_bool) {
        if active && !next.is_active {
            next.last_activated_at = Some(now);
        }
        next.is_active = active;
    }
    next.updated_at = now;
    check_origin(
        w.users.values(),
        |x| (x.id, x.company_id, x.origin_id.as_deref()),
        next.company_id,
        uid,
        &next.origin_id,
    )?;
    let cid = next.company_id;
    w.users.insert(uid, next);
    ev(w, now, actor, cid, None, "Company Users", uid, "update");
    Ok(())
}

// ---------------------------------------------------------------- vendors

fn apply_vendor(v: &mut Vendor, a: &Attrs) -> Result<(), ApiError> {
    set_req_s(&mut v.name, a, "name")?;
    set_s(&mut v.abbreviated_name, a, "abbreviated_name");
    set_s(&mut v.legal_name, a, "legal_name");
    set_s(&mut v.trade_name, a, "trade_name");
    set_s(&mut v.address, a, "address");
    set_s(&mut v.city, a, "city");
    set_s(&mut v.state_code, a, "state_code");
    set_s(&mut v.zip, a, "zip");
    set_s(&mut v.country_code, a, "country_code");
    set_s(&mut v.business_phone, a, "business_phone");
    set_s(&mut v.mobile_phone, a, "mobile_phone");
    set_s(&mut v.fax_number, a, "fax_number");
    set_s(&mut v.email_address, a, "email_address");
    set_s(&mut v.website, a, "website");
    set_s(&mut v.license_number, a, "license_number");
    set_s(&mut v.notes, a, "notes");
    set_s(&mut v.origin_id, a, "origin_id");
    set_s(&mut v.origin_data, a, "origin_data");
    set_s(&mut v.origin_code, a, "origin_code");
    set_i(&mut v.primary_contact_id, a, "primary_contact_id");
    set_b(&mut v.is_active, a, "is_active");
    set_ob(&mut v.prequalified, a, "prequalified");
    set_ob(&mut v.union_member, a, "union_member");
    set_ob(&mut v.authorized_bidder, a, "authorized_bidder");
    if let Some(Value::Array(trades)) = a.get("trades") {
        v.trades = trades.iter().filter_map(to_string).collect();
    }
    Ok(())
}

pub(crate) fn create_vendor(
    w: &mut World,
    cid: i64,
    a: &Attrs,
    actor: Actor,
    now: DateTime<Utc>,
) -> Result<i64, ApiError> {
    let mut v = Vendor {
        company_id: cid,
        is_active: true,
        created_at: now,
        updated_at: now,
        ..Vendor::default()
    };
    apply_vendor(&mut v, a)?;
    if v.name.trim().is_empty() {
        return Err(ApiError::invalid("name", "can't be blank"));
    }
    check_origin(
        w.vendors.values(),
        |x| (x.id, x.company_id, x.origin_id.as_deref()),
        cid,
        0,
        &v.origin_id,
    )?;
    let id = w.alloc_id();
    v.id = id;
    w.vendors.insert(id, v);
    ev(w, now, actor, cid, None, "Company Vendors", id, "create");
    Ok(id)
}

pub(crate) fn update_vendor(
    w: &mut World,
    vid: i64,
    a: &Attrs,
    actor: Actor,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    let mut next = w
        .vendors
        .get(&vid)
        .cloned()
        .ok_or_else(|| ApiError::not_found("Vendor"))?;
    apply_vendor(&mut next, a)?;
    next.updated_at = now;
    check_origin(
        w.vendors.values(),
        |x| (x.id, x.company_id, x.origin_id.as_deref()),
        next.company_id,
        vid,
        &next.origin_id,
    )?;
    let cid = next.company_id;
    w.vendors.insert(vid, next);
    ev(w, now, actor, cid, None, "Company Vendors", vid, "update");
    Ok(())
}

// ---------------------------------------------------------------- commitments

fn apply_commitment(w: &World, c: &mut Commitment, cid: i64, a: &Attrs) -> Result<(), ApiError> {
    set_s(&mut c.number, a, "number");
    set_s(&mut c.title, a, "title");
    set_s(&mut c.description, a, "description");
    if let Some(s) = a.get("status").and_then(to_string) {
        let canon = c
            .kind
            .statuses()
            .iter()
            .find(|x| x.eq_ignore_ascii_case(&s) || x.replace(' ', "_").eq_ignore_ascii_case(&s))
            .ok_or_else(|| ApiError::invalid("status", "is not included in the list"))?;
        c.status = (*canon).to_owned();
    }
    set_b(&mut c.executed, a, "executed");
    set_b(&mut c.private, a, "private");
    set_i(&mut c.vendor_id, a, "vendor_id");
    if let Some(v) = c.vendor_id {
        if w.vendors.get(&v).is_none_or(|x| x.company_id != cid) {
            return Err(ApiError::invalid("vendor_id", "is invalid"));
        }
    }
    if let Some(v) = a.get("grand_total") {
        c.grand_total = money(v).unwrap_or_else(|| "0.0".into());
    }
    set_date(&mut c.contract_date, a, "contract_date")?;
    set_s(&mut c.origin_id, a, "origin_id");
    set_s(&mut c.origin_data, a, "origin_data");
    set_s(&mut c.origin_code, a, "origin_code");
    for (k, v) in a {
        if let Some(def) = k
            .strip_prefix("custom_field_")
            .and_then(|d| d.parse::<i64>().ok())
        {
            match to_string(v) {
                Some(s) => c.custom_fields.insert(def, s),
                None => c.custom_fields.remove(&def),
            };
        }
    }
    Ok(())
}

fn commitment_company(w: &World, c: &Commitment) -> i64 {
    w.project_company(c.project_id).unwrap_or(0)
}

fn check_commitment_origin(w: &World, c: &Commitment, cid: i64) -> Result<(), ApiError> {
    if let Some(o) = &c.origin_id {
        let clash = w.commitments.values().any(|x| {
            x.id != c.id
                && x.kind == c.kind
                && x.origin_id.as_deref() == Some(o)
                && commitment_company(w, x) == cid
        });
        if clash {
            return Err(ApiError::invalid("origin_id", "has already been taken"));
        }
    }
    Ok(())
}

pub(crate) fn create_commitment(
    w: &mut World,
    kind: CommitmentKind,
    pid: i64,
    a: &Attrs,
    actor: Actor,
    now: DateTime<Utc>,
) -> Result<i64, ApiError> {
    let cid = w
        .project_company(pid)
        .ok_or_else(|| ApiError::not_found("Project"))?;
    let mut c = Commitment {
        kind,
        project_id: pid,
        status: "Draft".into(),
        grand_total: "0.0".into(),
        created_at: now,
        updated_at: now,
        ..Commitment::default()
    };
    apply_commitment(w, &mut c, cid, a)?;
    check_commitment_origin(w, &c, cid)?;
    let id = w.alloc_id();
    c.id = id;
    if c.number.is_none() {
        let n = w
            .commitments
            .values()
            .filter(|x| x.project_id == pid && x.kind == kind)
            .count()
            + 1;
        c.number = Some(n.to_string());
    }
    w.commitments.insert(id, c);
    ev(
        w,
        now,
        actor,
        cid,
        Some(pid),
        kind.resource_name(),
        id,
        "create",
    );
    Ok(id)
}

pub(crate) fn update_commitment(
    w: &mut World,
    id: i64,
    a: &Attrs,
    actor: Actor,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    let mut next = w
        .commitments
        .get(&id)
        .cloned()
        .ok_or_else(|| ApiError::not_found("Commitment"))?;
    let cid = commitment_company(w, &next);
    apply_commitment(w, &mut next, cid, a)?;
    check_commitment_origin(w, &next, cid)?;
    next.updated_at = now;
    let (pid, kind) = (next.project_id, next.kind);
    w.commitments.insert(id, next);
    ev(
        w,
        now,
        actor,
        cid,
        Some(pid),
        kind.resource_name(),
        id,
        "update",
    );
    Ok(())
}

pub(crate) fn delete_commitment(
    w: &mut World,
    id: i64,
    actor: Actor,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    let c = w
        .commitments
        .get_mut(&id)
        .ok_or_else(|| ApiError::not_found("Commitment"))?;
    c.deleted_at = Some(now);
    c.updated_at = now;
    let (pid, kind) = (c.project_id, c.kind);
    let cid = w.project_company(pid).unwrap_or(0);
    ev(
        w,
        now,
        actor,
        cid,
        Some(pid),
        kind.resource_name(),
        id,
        "delete",
    );
    Ok(())
}

// ---------------------------------------------------------------- insurances

/// Where an insurance lives.
#[derive(Clone, Copy, Debug)]
pub(crate) struct InsScope {
    pub(crate) company_id: i64,
    pub(crate) project_id: Option<i64>,
    /// Fixed by the path (vendor-level routes) or taken from the body.
    pub(crate) vendor_id: Option<i64>,
}

fn apply_insurance(i: &mut Insurance, a: &Attrs) -> Result<(), ApiError> {
    set_s(&mut i.insurance_type, a, "insurance_type");
    set_s(&mut i.insurance_provider, a, "name");
    set_s(&mut i.policy_number, a, "policy_number");
    set_date(&mut i.effective_date, a, "effective_date")?;
    set_date(&mut i.expiration_date, a, "expiration_date")?;
    if let Some(v) = a.get("limit") {
        i.limit = money(v);
    }
    if let Some(s) = a.get("status").and_then(to_string) {
        const OK: &[&str] = &[
            "compliant",
            "compliant_in_progress",
            "expired",
            "non_compliant",
            "non_compliant_in_progress",
            "undecided",
            "unregistered",
        ];
        if !OK.contains(&s.as_str()) {
            return Err(ApiError::invalid("status", "is not included in the list"));
        }
        i.status = Some(s);
    }
    set_b(&mut i.exempt, a, "exempt");
    set_b(&mut i.info_received, a, "info_received");
    set_b(
        &mut i.enable_expired_insurance_notifications,
        a,
        "enable_expired_insurance_notifications",
    );
    set_s(&mut i.notes, a, "notes");
    set_s(&mut i.additional_insured, a, "additional_insured");
    set_s(&mut i.division_template, a, "division_template");
    set_s(&mut i.insurance_sets, a, "insurance_sets");
    set_s(&mut i.origin_id, a, "origin_id");
    set_s(&mut i.origin_data, a, "origin_data");
    Ok(())
}

fn ins_resource(i: &Insurance) -> &'static str {
    if i.project_id.is_some() {
        "Project Insurances"
    } else {
        "Company Insurances"
    }
}

fn check_ins_origin(w: &World, i: &Insurance) -> Result<(), ApiError> {
    check_origin(
        w.insurances.values(),
        |x| (x.id, x.company_id, x.origin_id.as_deref()),
        i.company_id,
        i.id,
        &i.origin_id,
    )
}

pub(crate) fn create_insurance(
    w: &mut World,
    s: InsScope,
    a: &Attrs,
    actor: Actor,
    now: DateTime<Utc>,
) -> Result<i64, ApiError> {
    let vendor_id = s
        .vendor_id
        .or_else(|| a.get("vendor_id").and_then(as_i64))
        .ok_or_else(|| ApiError::invalid("vendor_id", "can't be blank"))?;
    if w.vendors
        .get(&vendor_id)
        .is_none_or(|v| v.company_id != s.company_id)
    {
        return Err(ApiError::not_found("Vendor"));
    }
    let mut i = Insurance {
        company_id: s.company_id,
        project_id: s.project_id,
        vendor_id,
        enable_expired_insurance_notifications: true,
        ..Insurance::default()
    };
    apply_insurance(&mut i, a)?;
    check_ins_origin(w, &i)?;
    let id = w.alloc_id();
    i.id = id;
    let res = ins_resource(&i);
    w.insurances.insert(id, i);
    ev(w, now, actor, s.company_id, s.project_id, res, id, "create");
    Ok(id)
}

pub(crate) fn update_insurance(
    w: &mut World,
    id: i64,
    a: &Attrs,
    actor: Actor,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    let mut next = w
        .insurances
        .get(&id)
        .cloned()
        .ok_or_else(|| ApiError::not_found("Insurance"))?;
    apply_insurance(&mut next, a)?;
    check_ins_origin(w, &next)?;
    let (cid, pid, res) = (next.company_id, next.project_id, ins_resource(&next));
    w.insurances.insert(id, next);
    ev(w, now, actor, cid, pid, res, id, "update");
    Ok(())
}

pub(crate) fn delete_insurance(
    w: &mut World,
    id: i64,
    actor: Actor,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    let i = w
        .insurances
        .remove(&id)
        .ok_or_else(|| ApiError::not_found("Insurance"))?;
    ev(
        w,
        now,
        actor,
        i.company_id,
        i.project_id,
        ins_resource(&i),
        id,
        "delete",
    );
    Ok(())
}

/// Sync action over any resource (Procore's `PATCH .../sync`): always 200; each item is
/// matched by `id` (must exist), else by `origin_id` (update if found, create if not), else
/// created. Returns the ids of entities written and the failed items with their errors.
pub(crate) fn sync(
    w: &mut World,
    updates: &[Value],
    by_origin: &dyn Fn(&World, &str) -> Option<i64>,
    exists: &dyn Fn(&World, i64) -> bool,
    create: &mut dyn FnMut(&mut World, &Attrs) -> Result<i64, ApiError>,
    update: &mut dyn FnMut(&mut World, i64, &Attrs) -> Result<(), ApiError>,
) -> Result<(Vec<i64>, Vec<Value>), ApiError> {
    if updates.len() > 1000 {
        return Err(ApiError::BadRequest(
            "A maximum of 1000 items may be synced at once".into(),
        ));
    }
    let mut ok = Vec::new();
    let mut errors = Vec::new();
    for item in updates {
        let Some(a) = item.as_object() else {
            errors.push(serde_json::json!({"errors": {"base": ["must be an object"]}}));
            continue;
        };
        let id = a.get("id").and_then(as_i64);
        let origin = a.get("origin_id").and_then(to_string);
        let result = match (id, origin) {
            (Some(id), _) if exists(w, id) => update(w, id, a).map(|_| id),
            (Some(_), _) => Err(ApiError::invalid("id", "not found")),
            (None, Some(o)) => match by_origin(w, &o) {
                Some(id) => update(w, id, a).map(|_| id),
                None => create(w, a),
            },
            (None, None) => create(w, a),
        };
        match result {
            Ok(id) => ok.push(id),
            Err(e) => {
                let mut failed = a.clone();
                let errs = match e {
                    ApiError::Unprocessable(f, m) => serde_json::json!({ f: [m] }),
                    other => serde_json::json!({"base": [other.to_string()]}),
                };
                failed.insert("errors".into(), errs);
                errors.push(Value::Object(failed));
            }
        }
    }
    Ok((ok, errors))
}

// ---------------------------------------------------------------- documents

fn folder_name_taken(w: &World, pid: i64, parent: i64, name: &str, except: i64) -> bool {
    w.folders.values().any(|f| {
        f.project_id == pid
            && f.parent_id == Some(parent)
            && !f.is_deleted
            && f.id != except
            && f.name == name
    })
}

pub(crate) fn create_folder(
    w: &mut World,
    pid: i64,
    a: &Attrs,
    actor: Actor,
    now: DateTime<Utc>,
) -> Result<i64, ApiError> {
    let cid = w
        .project_company(pid)
        .ok_or_else(|| ApiError::not_found("Project"))?;
    let name = a
        .get("name")
        .and_then(to_string)
        .filter(|s| !s.trim().is_empty())
        .ok_or_else(|| ApiError::invalid("name", "can't be blank"))?;
    let parent = match a.get("parent_id").and_then(as_i64) {
        Some(p) => {
            if !w
                .folders
                .get(&p)
                .is_some_and(|f| f.project_id == pid && !f.is_deleted)
            {
                return Err(ApiError::invalid("parent_id", "is invalid"));
            }
            p
        }
        None => w.root_folder_id(pid, now),
    };
    if folder_name_taken(w, pid, parent, &name, 0) {
        return Err(ApiError::invalid("name", "has already been taken"));
    }
    let mut f = Folder {
        project_id: pid,
        parent_id: Some(parent),
        name,
        created_at: now,
        updated_at: now,
        ..Folder::default()
    };
    set_b(&mut f.is_tracked, a, "is_tracked");
    set_b(&mut f.private, a, "explicit_permissions");
    let id = w.alloc_id();
    f.id = id;
    w.folders.insert(id, f);
    ev(
        w,
        now,
        actor,
        cid,
        Some(pid),
        "Project Folders",
        id,
        "create",
    );
    Ok(id)
}

pub(crate) fn update_folder(
    w: &mut World,
    id: i64,
    a: &Attrs,
    actor: Actor,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    let mut next = w
        .folders
        .get(&id)
        .cloned()
        .ok_or_else(|| ApiError::not_found("Folder"))?;
    if next.parent_id.is_none() {
        return Err(ApiError::invalid(
            "base",
            "The root folder cannot be changed",
        ));
    }
    if let Some(n) = a.get("name").and_then(to_string) {
        next.name = n;
    }
    if let Some(p) = a.get("parent_id").and_then(as_i64) {
        if p == id
            || w.folders
                .get(&p)
                .is_none_or(|f| f.project_id != next.project_id)
        {
            return Err(ApiError::invalid("parent_id", "is invalid"));
        }
        next.parent_id = Some(p);
    }
    if folder_name_taken(
        w,
        next.project_id,
        next.parent_id.unwrap_or(0),
        &next.name,
        id,
    ) {
        return Err(ApiError::invalid("name", "has already been taken"));
    }
    next.updated_at = now;
    let pid = next.project_id;
    w.folders.insert(id, next);
    let cid = w.project_company(pid).unwrap_or(0);
    ev(
        w,
        now,
        actor,
        cid,
        Some(pid),
        "Project Folders",
        id,
        "update",
    );
    Ok(())
}

pub(crate) fn delete_folder(
    w: &mut World,
    id: i64,
    actor: Actor,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    let f = w
        .folders
        .get_mut(&id)
        .ok_or_else(|| ApiError::not_found("Folder"))?;
    if f.parent_id.is_none() {
        return Err(ApiError::invalid(
            "base",
            "The root folder cannot be deleted",
        ));
    }
    f.is_deleted = true;
    f.updated_at = now;
    let pid = f.project_id;
    let cid = w.project_company(pid).unwrap_or(0);
    ev(
        w,
        now,
        actor,
        cid,
        Some(pid),
        "Project Folders",
        id,
        "delete",
    );
    Ok(())
}

/// `NAME (n).ext` for the first free n.
pub(crate) fn unique_file_name(w: &World, parent: i64, name: &str, except: i64) -> String {
    let taken = |n: &str| {
        w.files
            .values()
            .any(|f| f.parent_id == parent && !f.is_deleted && f.id != except && f.name == n)
    };
    if !taken(name) {
        return name.to_owned();
    }
    let (stem, ext) = match name.rsplit_once('.') {
        Some((s, e)) if !s.is_empty() => (s, format!(".{e}")),
        _ => (name, String::new()),
    };
    (1..)
        .map(|i| format!("{stem} ({i}){ext}"))
        .find(|n| !taken(n))
        .unwrap_or_else(|| name.to_owned())
}

/// Bytes for a new version: from an upload (by uuid) or given directly.
pub(crate) enum Content {
    Upload(String),
    Data {
        bytes: Vec<u8>,
        filename: Option<String>,
        content_type: Option<String>,
    },
}

fn store_content(
    w: &mut World,
    pid: i64,
    c: Content,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<(String, Option<String>), ApiError> {
    match c {
        Content::Upload(uuid) if !w.uploads.contains_key(&uuid) => {
            unified_content(w, pid, &uuid, actor, now)
        }
        Content::Upload(uuid) => {
            let u = w
                .uploads
                .get(&uuid)
                .ok_or_else(|| ApiError::invalid("upload_uuid", "is invalid"))?;
            if u.project_id.is_some_and(|p| p != pid) {
                return Err(ApiError::invalid("upload_uuid", "is invalid"));
            }
            let blob = u
                .blob
                .clone()
                .ok_or_else(|| ApiError::invalid("upload_uuid", "upload is not complete"))?;
            Ok((blob, Some(u.filename.clone())))
        }
        Content::Data {
            bytes,
            filename,
            content_type,
        } => {
            let key = format!("data/{}", uuid::Uuid::new_v4());
            w.blobs.insert(
                key.clone(),
                Blob {
                    content_type,
                    bytes,
                },
            );
            Ok((key, filename))
        }
    }
}

/// A v2.1 unified upload named as `upload_uuid`. Whether Procore accepts these on the v1.0
/// file endpoints is UNCONFIRMED (NOTES §8); the simulator does, for the uploader only, within
/// 24 h of creation and once the upload is `available`.
fn unified_content(
    w: &World,
    pid: i64,
    id: &str,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<(String, Option<String>), ApiError> {
    let u = w
        .unified_uploads
        .get(id)
        .filter(|u| {
            u.project_id == pid
                && now < u.expires_at
                && actor.user_id.is_none_or(|uid| uid == u.user_id)
        })
        .ok_or_else(|| ApiError::invalid("upload_uuid", "is invalid"))?;
    if u.status != "available" {
        return Err(ApiError::invalid("upload_uuid", "upload is not available"));
    }
    let blob = u
        .blob
        .clone()
        .ok_or_else(|| ApiError::invalid("upload_uuid", "upload is not available"))?;
    Ok((blob, Some(u.file_name.clone())))
}

pub(crate) struct NewFile {
    pub(crate) name: Option<String>,
    pub(crate) parent_id: Option<i64>,
    pub(crate) description: Option<String>,
    pub(crate) unique_name: Option<bool>,
    pub(crate) content: Option<Content>,
}

pub(crate) fn create_file(
    w: &mut World,
    pid: i64,
    nf: NewFile,
    actor: Actor,
    now: DateTime<Utc>,
) -> Result<i64, ApiError> {
    let cid = w
        .project_company(pid)
        .ok_or_else(|| ApiError::not_found("Project"))?;
    let parent = match nf.parent_id {
        Some(p) => {
            if !w
                .folders
                .get(&p)
                .is_some_and(|f| f.project_id == pid && !f.is_deleted)
            {
                return Err(ApiError::invalid("parent_id", "is invalid"));
            }
            p
        }
        None => w.root_folder_id(pid, now),
    };
    let content = nf
        .content
        .ok_or_else(|| ApiError::invalid("data", "can't be blank"))?;
    let (blob, upload_name) = store_content(w, pid, content, &actor, now)?;
    let name = nf
        .name
        .or(upload_name)
        .filter(|n| !n.trim().is_empty())
        .ok_or_else(|| ApiError::invalid("name", "can't be blank"))?;
    let name = match nf.unique_name {
        Some(false) => {
            if unique_file_name(w, parent, &name, 0) != name {
                return Err(ApiError::invalid("name", "has already been taken"));
            }
            name
        }
        _ => unique_file_name(w, parent, &name, 0),
    };
    let id = w.alloc_id();
    let vid = w.alloc_id();
    w.file_versions.insert(
        vid,
        FileVersion {
            id: vid,
            file_id: id,
            number: 1,
            notes: None,
            blob,
            filename: name.clone(),
            created_by: actor.user_id,
            created_at: now,
        },
    );
    w.files.insert(
        id,
        File {
            id,
            project_id: pid,
            parent_id: parent,
            name,
            description: nf.description,
            private: false,
            is_deleted: false,
            versions: vec![vid],
            created_at: now,
            updated_at: now,
        },
    );
    ev(w, now, actor, cid, Some(pid), "Project Files", id, "create");
    Ok(id)
}

/// Adds a version to a file (PATCH /files/{id} with content, or POST /file_versions).
pub(crate) fn add_version(
    w: &mut World,
    file_id: i64,
    content: Content,
    notes: Option<String>,
    actor: Actor,
    now: DateTime<Utc>,
) -> Result<i64, ApiError> {
    let f = w
        .files
        .get(&file_id)
        .ok_or_else(|| ApiError::not_found("File"))?;
    let (pid, number, fname) = (f.project_id, f.versions.len() as i64 + 1, f.name.clone());
    let (blob, _) = store_content(w, pid, content, &actor, now)?;
    let vid = w.alloc_id();
    w.file_versions.insert(
        vid,
        FileVersion {
            id: vid,
            file_id,
            number,
            notes,
            blob,
            filename: fname,
            created_by: actor.user_id,
            created_at: now,
        },
    );
    if let Some(f) = w.files.get_mut(&file_id) {
        f.versions.push(vid);
        f.updated_at = now;
    }
    let cid = w.project_company(pid).unwrap_or(0);
    ev(
        w,
        now,
        actor,
        cid,
        Some(pid),
        "Project Files",
        file_id,
        "update",
    );
    Ok(vid)
}

/// Renames, moves or re-describes a file. A name already taken in the target folder is a 409
/// (Procore documents a 409 for this call without naming its cause; see the fidelity doc).
pub(crate) fn update_file_meta(
    w: &mut World,
    id: i64,
    a: &Attrs,
    actor: Actor,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    let mut next = w
        .files
        .get(&id)
        .cloned()
        .ok_or_else(|| ApiError::not_found("File"))?;
    if let Some(n) = a.get("name").and_then(to_string) {
        next.name = n;
    }
    if let Some(p) = a.get("parent_id").and_then(as_i64) {
        if w.folders
            .get(&p)
            .is_none_or(|f| f.project_id != next.project_id)
        {
            return Err(ApiError::invalid("parent_id", "is invalid"));
        }
        next.parent_id = p;
    }
    set_s(&mut next.description, a, "description");
    if unique_file_name(w, next.parent_id, &next.name, id) != next.name {
        return Err(ApiError::Raw(
            axum::http::StatusCode::CONFLICT,
            serde_json::json!({"errors": {"base": ["Name has already been taken"]}, "error_type": "name_taken", "file": {"id": id, "name": next.name}}),
        ));
    }
    next.updated_at = now;
    let pid = next.project_id;
    w.files.insert(id, next);
    let cid = w.project_company(pid).unwrap_or(0);
    ev(w, now, actor, cid, Some(pid), "Project Files", id, "update");
    Ok(())
}

pub(crate) fn delete_file(
    w: &mut World,
    id: i64,
    actor: Actor,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    let f = w
        .files
        .get_mut(&id)
        .ok_or_else(|| ApiError::not_found("File"))?;
    f.is_deleted = true;
    f.updated_at = now;
    let pid = f.project_id;
    let cid = w.project_company(pid).unwrap_or(0);
    ev(w, now, actor, cid, Some(pid), "Project Files", id, "delete");
    Ok(())
}
