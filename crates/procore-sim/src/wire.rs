//! JSON rendering of each resource, with Procore's field names and JSON types.
//!
//! Rules (so bodies validate against the OpenAPI subset): v1 ids are integers, v2 ids are
//! strings; money is a string; dates are `YYYY-MM-DD`; timestamps ISO 8601 UTC with `Z`.
//! A field without data is sent as `null`, as Procore does. The functions here render what the
//! world model knows; `shape` then completes each answer to its documented schema (every
//! documented property present, `null` where missing, nothing undocumented), so a property
//! left out here still arrives as `null` wherever the subset documents the answer.

use chrono::{DateTime, NaiveDate, Utc};
use serde_json::{json, Map, Value};

use crate::clock::ts;
use crate::world::*;

/// A JSON object builder; `None` is sent as `null` (the v2.0 bodies, documented only as a
/// free-form `data`, are not completed by `shape`, so `null` must be written here).
#[derive(Default)]
pub(crate) struct J(Map<String, Value>);

impl J {
    pub(crate) fn new() -> Self {
        J(Map::new())
    }
    pub(crate) fn put(mut self, k: &str, v: impl Into<Value>) -> Self {
        self.0.insert(k.to_owned(), v.into());
        self
    }
    pub(crate) fn opt<T: Into<Value>>(mut self, k: &str, v: Option<T>) -> Self {
        self.0
            .insert(k.to_owned(), v.map_or(Value::Null, Into::into));
        self
    }
    pub(crate) fn s(self, k: &str, v: &Option<String>) -> Self {
        self.opt(k, v.clone())
    }
    pub(crate) fn date(self, k: &str, v: &Option<NaiveDate>) -> Self {
        self.opt(k, v.map(|d| d.format("%Y-%m-%d").to_string()))
    }
    pub(crate) fn time(self, k: &str, v: &DateTime<Utc>) -> Self {
        self.put(k, ts(v))
    }
    pub(crate) fn otime(self, k: &str, v: &Option<DateTime<Utc>>) -> Self {
        self.opt(k, v.as_ref().map(ts))
    }
    pub(crate) fn done(self) -> Value {
        Value::Object(self.0)
    }
}

pub(crate) fn stage_id(stage: &str) -> i64 {
    match stage {
        "Pre-Construction" => 1,
        "Course of Construction" => 2,
        "Post-Construction" => 3,
        "Completed" => 4,
        "Not Awarded" => 5,
        "Canceled" => 6,
        _ => 7,
    }
}

fn display_name(p: &Project) -> String {
    match &p.project_number {
        Some(n) if !n.is_empty() => format!("{n} - {}", p.name),
        _ => p.name.clone(),
    }
}

fn company_ref(w: &World, cid: i64) -> Value {
    json!({"id": cid, "name": w.companies.get(&cid).map(|c| c.name.clone()).unwrap_or_default()})
}

fn project_common(w: &World, p: &Project) -> J {
    J::new()
        .put("id", p.id)
        .put("name", p.name.clone())
        .put("display_name", display_name(p))
        .s("project_number", &p.project_number)
        .s("address", &p.address)
        .s("city", &p.city)
        .s("state_code", &p.state_code)
        .s("country_code", &p.country_code)
        .s("zip", &p.zip)
        .s("phone", &p.phone)
        .s("time_zone", &p.time_zone)
        .put("active", p.active)
        .put("is_demo", false)
        .date("start_date", &p.start_date)
        .date("completion_date", &p.completion_date)
        .s("origin_id", &p.origin_id)
        .s("origin_data", &p.origin_data)
        .s("origin_code", &p.origin_code)
        .time("created_at", &p.created_at)
        .time("updated_at", &p.updated_at)
        .opt(
            "project_stage",
            p.stage
                .as_ref()
                .map(|s| json!({"id": stage_id(s), "name": s})),
        )
        .put("company", company_ref(w, p.company_id))
        .put("custom_fields", json!({}))
        .s("county", &p.county)
        .opt("latitude", p.latitude)
        .opt("longitude", p.longitude)
        .opt("square_feet", p.square_feet)
        .date("projected_finish_date", &p.projected_finish_date)
        .s("work_scope", &p.work_scope)
        .s("store_number", &p.store_number)
        .s("designated_market_area", &p.designated_market_area)
}

/// `GET /rest/v1.0/projects` item.
pub(crate) fn project_v10_list(w: &World, p: &Project) -> Value {
    project_common(w, p)
        .s("stage", &p.stage)
        .s("total_value", &p.total_value)
        .s("estimated_value", &p.total_value)
        .done()
}

/// `serializer_view=compact`.
pub(crate) fn project_compact(p: &Project) -> Value {
    json!({"id": p.id, "name": p.name, "display_name": display_name(p)})
}

/// `GET /rest/v1.0/projects/{id}` and POST/PATCH answers.
pub(crate) fn project_show(w: &World, p: &Project) -> Value {
    project_common(w, p)
        .put("template", p.template)
        .s("description", &p.description)
        .s("public_notes", &p.public_notes)
        .s("total_value", &p.total_value)
        .s("estimated_value", &p.total_value)
        .date("estimated_start_date", &p.start_date)
        .date("estimated_completion_date", &p.completion_date)
        .opt("project_stage_id", p.stage.as_deref().map(stage_id))
        .s("tz_name", &p.time_zone)
        .done()
}

/// `GET /rest/v1.1/projects` item (`total_value` is a number in v1.1).
pub(crate) fn project_v11(w: &World, p: &Project, view: &str) -> Value {
    if view == "compact" {
        return json!({"id": p.id, "name": p.name, "display_name": display_name(p)});
    }
    let tv = p.total_value.as_deref().and_then(|v| v.parse::<f64>().ok());
    let j = project_common(w, p)
        .opt("total_value", tv)
        .opt("estimated_value", tv);
    if view == "extended" || view == "normal" {
        j.s("description", &p.description)
            .s("public_notes", &p.public_notes)
            .s("tz_name", &p.time_zone)
            .done()
    } else {
        j.done()
    }
}

fn user_base(w: &World, u: &User) -> J {
    let initials: String = [&u.first_name, &u.last_name]
        .iter()
        .filter_map(|n| n.as_ref().and_then(|s| s.chars().next()))
        .collect();
    J::new()
        .put("id", u.id)
        .s("first_name", &u.first_name)
        .s("last_name", &u.last_name)
        .put("name", u.full_name())
        .put("initials", initials)
        .s("email_address", &u.email_address)
        .s("mobile_phone", &u.mobile_phone)
        .s("business_phone", &u.business_phone)
        .opt("business_phone_extension", u.business_phone_extension)
        .s("fax_number", &u.fax_number)
        .s("employee_id", &u.employee_id)
        .put("is_employee", u.is_employee)
        .put("is_active", u.is_active)
        .s("job_title", &u.job_title)
        .s("address", &u.address)
        .s("city", &u.city)
        .s("state_code", &u.state_code)
        .s("country_code", &u.country_code)
        .s("zip", &u.zip)
        .s("notes", &u.notes)
        .put("erp_integrated_accountant", false)
        .otime("last_login_at", &u.last_login_at)
        .otime("welcome_email_sent_at", &u.welcome_email_sent_at)
        .s("origin_id", &u.origin_id)
        .s("origin_data", &u.origin_data)
        .s("locale", &u.locale)
        .opt("is_insurance_manager", u.is_insurance_manager)
        .time("created_at", &u.created_at)
        .time("updated_at", &u.updated_at)
        .opt(
            "vendor",
            u.vendor_id
                .and_then(|v| w.vendors.get(&v))
                .map(|v| json!({"id": v.id, "name": v.name})),
        )
}

/// Company user (v1.0 list/show/create/update).
pub(crate) fn user(w: &World, u: &User) -> Value {
    user_base(w, u)
        .otime("last_activated_at", &u.last_activated_at)
        .done()
}

/// Inactive user list item (adds `_links.reactivate`).
pub(crate) fn user_inactive(w: &World, u: &User) -> Value {
    user_base(w, u)
        .put(
            "_links",
            json!({"reactivate": format!("/rest/v1.0/companies/{}/users/inactive/{}", u.company_id, u.id)}),
        )
        .done()
}

/// v1.3 user (adds `role`, `verified_employee`).
pub(crate) fn user_v13(w: &World, u: &User) -> Value {
    user_base(w, u)
        .put(
            "role",
            if u.service_account_of.is_some() {
                "service_account"
            } else {
                "user"
            },
        )
        .put("verified_employee", u.is_employee)
        .done()
}

/// Company person.
pub(crate) fn person(u: &User) -> Value {
    J::new()
        .put("id", u.id)
        .s("first_name", &u.first_name)
        .s("last_name", &u.last_name)
        .s("employee_id", &u.employee_id)
        .put("is_employee", u.is_employee)
        .put("user_id", u.id)
        .s("origin_id", &u.origin_id)
        .put(
            "contact",
            J::new()
                .put("is_active", u.is_active)
                .s("email", &u.email_address)
                .done(),
        )
        .done()
}

/// `/me`.
pub(crate) fn me(u: &User) -> Value {
    J::new()
        .put("id", u.id)
        .put("login", u.email_address.clone().unwrap_or_default())
        .put("name", u.full_name())
        .done()
}

fn primary_contact(w: &World, v: &Vendor) -> Option<Value> {
    let u = w.users.get(&v.primary_contact_id?)?;
    Some(
        J::new()
            .put("id", u.id)
            .s("first_name", &u.first_name)
            .s("last_name", &u.last_name)
            .s("business_phone", &u.business_phone)
            .opt("business_phone_extension", u.business_phone_extension)
            .s("fax_number", &u.fax_number)
            .s("mobile_phone", &u.mobile_phone)
            .s("email_address", &u.email_address)
            .time("created_at", &u.created_at)
            .time("updated_at", &u.updated_at)
            .done(),
    )
}

/// Vendor (`view`: compact gives id/name/is_active only; everything else is extended).
pub(crate) fn vendor(w: &World, v: &Vendor, view: &str) -> Value {
    if view == "compact" {
        return json!({"id": v.id, "name": v.name, "is_active": v.is_active});
    }
    let contacts = w
        .users
        .values()
        .filter(|u| u.company_id == v.company_id && u.vendor_id == Some(v.id))
        .count();
    J::new()
        .put("id", v.id)
        .put("name", v.name.clone())
        .s("abbreviated_name", &v.abbreviated_name)
        .s("legal_name", &v.legal_name)
        .s("trade_name", &v.trade_name)
        .s("address", &v.address)
        .s("city", &v.city)
        .s("state_code", &v.state_code)
        .s("zip", &v.zip)
        .s("country_code", &v.country_code)
        .s("business_phone", &v.business_phone)
        .s("mobile_phone", &v.mobile_phone)
        .s("fax_number", &v.fax_number)
        .s("email_address", &v.email_address)
        .s("website", &v.website)
        .s("license_number", &v.license_number)
        .s("notes", &v.notes)
        .put("is_active", v.is_active)
        .put("is_connected", false)
        .opt("authorized_bidder", v.authorized_bidder)
        .opt("prequalified", v.prequalified)
        .opt("union_member", v.union_member)
        .put("non_union_prevailing_wage", false)
        .put("synced_to_erp", false)
        .put("company_vendor", true)
        .put("children_count", 0)
        .put("contact_count", contacts as i64)
        .put("attachments", json!([]))
        .put("trades", trades(v))
        .s("origin_id", &v.origin_id)
        .s("origin_data", &v.origin_data)
        .s("origin_code", &v.origin_code)
        .opt("primary_contact", primary_contact(w, v))
        .time("created_at", &v.created_at)
        .time("updated_at", &v.updated_at)
        .done()
}

/// Procore's trade objects; the simulator has no trade records of its own, so a trade's id is
/// its position in `generate::TRADES` (or 1000 + its place on the vendor) and it is active.
fn trades(v: &Vendor) -> Value {
    v.trades
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let id = crate::generate::TRADES
                .iter()
                .position(|t| t == name)
                .map_or(1000 + i as i64, |p| p as i64 + 1);
            json!({"id": id, "name": name, "active": true, "updated_at": ts(&v.updated_at)})
        })
        .collect()
}

/// Inactive vendor list item.
pub(crate) fn vendor_inactive(w: &World, v: &Vendor) -> Value {
    let mut o = vendor(w, v, "extended");
    if let Some(m) = o.as_object_mut() {
        m.insert(
            "_links".into(),
            json!({"reactivate": format!("/rest/v1.0/companies/{}/vendors/inactive/{}", v.company_id, v.id)}),
        );
    }
    o
}

fn custom_fields_v1(c: &Commitment) -> Value {
    let mut m = Map::new();
    for (def, val) in &c.custom_fields {
        m.insert(
            format!("custom_field_{def}"),
            json!({"data_type": "string", "value": val}),
        );
    }
    Value::Object(m)
}

/// v1.0 work order or purchase order contract (list, show, create, update).
pub(crate) fn commitment(w: &World, c: &Commitment, show: bool) -> Value {
    let project = w.projects.get(&c.project_id);
    let vendor = c.vendor_id.and_then(|v| w.vendors.get(&v));
    let mut vendor_j = vendor.map(|v| J::new().put("id", v.id).put("company", v.name.clone()));
    if show {
        vendor_j = vendor_j.map(|j| j.s("origin_id", &vendor.and_then(|v| v.origin_id.clone())));
    }
    let mut j = J::new()
        .put("id", c.id)
        .s("number", &c.number)
        .s("title", &c.title)
        .s("description", &c.description)
        .put("status", c.status.clone())
        .put("executed", c.executed)
        .put("private", c.private)
        .put("accounting_method", "amount")
        .put("grand_total", c.grand_total.clone())
        .put("revised_contract", c.grand_total.clone())
        .put("approved_change_orders", "0.0")
        .put("pending_change_orders", "0.0")
        .put("draft_change_orders_amount", "0.0")
        .put("pending_revised_contract", c.grand_total.clone())
        .put("percentage_paid", "0.0")
        .put("remaining_balance_outstanding", c.grand_total.clone())
        .put("total_payments", "0.0")
        .put("requisitions_are_enabled", false)
        .put("show_line_items_to_non_admins", false)
        .date("contract_date", &c.contract_date)
        .s("origin_id", &c.origin_id)
        .s("origin_data", &c.origin_data)
        .s("origin_code", &c.origin_code)
        .opt(
            "project",
            project.map(|p| json!({"id": p.id, "name": p.name})),
        )
        .opt("vendor", vendor_j.map(J::done))
        .put(
            "currency_configuration",
            json!({"currency_iso_code": "USD"}),
        )
        .put("custom_fields", custom_fields_v1(c))
        .time("created_at", &c.created_at)
        .time("updated_at", &c.updated_at)
        .otime("deleted_at", &c.deleted_at);
    if show {
        j = j
            .put("line_items", json!([]))
            .put("change_order_packages", json!([]));
        if c.kind == CommitmentKind::WorkOrderContract {
            j = j.put("attachments", json!([]));
        }
    }
    j.done()
}

/// v2.0 commitment contract (string ids); `extended` adds custom fields and vendor name.
pub(crate) fn commitment_v2(w: &World, c: &Commitment, extended: bool) -> Value {
    let vendor = c.vendor_id.and_then(|v| w.vendors.get(&v));
    let mut j = J::new()
        .put("id", c.id.to_string())
        .put("type", c.kind.v2_type())
        .s("number", &c.number)
        .s("title", &c.title)
        .put("status", c.status.clone())
        .put("executed", c.executed)
        .put("private", c.private)
        .put("grand_total", c.grand_total.clone())
        .put("project_id", c.project_id.to_string())
        .opt("vendor_id", c.vendor_id.map(|v| v.to_string()))
        .s("origin_id", &c.origin_id)
        .time("created_at", &c.created_at)
        .time("updated_at", &c.updated_at)
        .otime("deleted_at", &c.deleted_at);
    if extended {
        j = j
            .opt(
                "vendor",
                vendor.map(|v| json!({"id": v.id.to_string(), "name": v.name})),
            )
            .put("custom_fields", custom_fields_v1(c));
    }
    j.done()
}

/// Custom field definition (v2.0: ids are strings, as documented).
pub(crate) fn custom_field_definition(d: &CustomFieldDefinition) -> Value {
    json!({
        "id": d.id.to_string(),
        "label": d.label,
        "active": true,
        "company_id": d.company_id.to_string(),
        "data_type": d.data_type,
        "variant": null,
        "description": null,
        "default_value": null,
    })
}

/// Insurance record (identical in all four scopes; no timestamps, as documented).
pub(crate) fn insurance(i: &Insurance) -> Value {
    J::new()
        .put("id", i.id)
        .put("vendor_id", i.vendor_id)
        .s("insurance_type", &i.insurance_type)
        .s("insurance_provider", &i.insurance_provider)
        .s("policy_number", &i.policy_number)
        .date("effective_date", &i.effective_date)
        .date("expiration_date", &i.expiration_date)
        .s("limit", &i.limit)
        .s("status", &i.status)
        .put("exempt", i.exempt)
        .put("info_received", i.info_received)
        .put(
            "enable_expired_insurance_notifications",
            i.enable_expired_insurance_notifications,
        )
        .s("notes", &i.notes)
        .s("additional_insured", &i.additional_insured)
        .s("division_template", &i.division_template)
        .s("insurance_sets", &i.insurance_sets)
        .s("origin_id", &i.origin_id)
        .s("origin_data", &i.origin_data)
        .done()
}

fn user_ref(w: &World, uid: Option<i64>) -> Option<Value> {
    let u = w.users.get(&uid?)?;
    Some(
        json!({"id": u.id, "login": u.email_address.clone().unwrap_or_default(), "name": u.full_name()}),
    )
}

/// URL where a version's bytes are served (bearer token required).
pub(crate) fn version_url(base: &str, v: &FileVersion) -> String {
    format!("{base}/_sim/storage/{}", v.id)
}

pub(crate) fn file_version(w: &World, base: &str, v: &FileVersion) -> Value {
    let size = w
        .blobs
        .get(&v.blob)
        .map(|b| b.bytes.len() as i64)
        .unwrap_or(0);
    let url = version_url(base, v);
    J::new()
        .put("id", v.id)
        .put("file_id", v.file_id)
        .put("number", v.number)
        .s("notes", &v.notes)
        .put("url", url.clone())
        .put("size", size)
        .time("created_at", &v.created_at)
        .opt("created_by", user_ref(w, v.created_by))
        .put(
            "prostore_file",
            json!({"id": v.id, "name": v.filename, "url": url, "filename": v.filename}),
        )
        .done()
}

fn file_type(name: &str) -> String {
    name.rsplit_once('.')
        .map(|(_, e)| e.to_lowercase())
        .unwrap_or_default()
}

/// File (with versions unless `nested`, which keeps them to the latest as folder listings do).
pub(crate) fn file(w: &World, base: &str, f: &File, latest_only: bool) -> Value {
    let versions: Vec<Value> = if latest_only {
        f.versions
            .last()
            .into_iter()
            .filter_map(|v| w.file_versions.get(v))
            .map(|v| file_version(w, base, v))
            .collect()
    } else {
        f.versions
            .iter()
            .rev()
            .filter_map(|v| w.file_versions.get(v))
            .map(|v| file_version(w, base, v))
            .collect()
    };
    let size = f
        .versions
        .last()
        .and_then(|v| w.file_versions.get(v))
        .and_then(|v| w.blobs.get(&v.blob))
        .map(|b| b.bytes.len() as i64)
        .unwrap_or(0);
    let folder_path = w.folder_path(f.parent_id);
    let path = if folder_path.is_empty() {
        f.name.clone()
    } else {
        format!("{folder_path}/{}", f.name)
    };
    J::new()
        .put("id", f.id)
        .put("name", f.name.clone())
        .put("parent_id", f.parent_id)
        .put("size", size)
        .s("description", &f.description)
        .time("created_at", &f.created_at)
        .time("updated_at", &f.updated_at)
        .put("name_with_path", path)
        .put("private", f.private)
        .put("is_tracked", false)
        .put("file_type", file_type(&f.name))
        .put("is_deleted", f.is_deleted)
        .put("custom_fields", json!({}))
        .put("file_versions", Value::Array(versions))
        .done()
}

fn folder_head(w: &World, f: &Folder) -> J {
    let has_folders = w
        .folders
        .values()
        .any(|c| c.parent_id == Some(f.id) && !c.is_deleted);
    let has_files = w
        .files
        .values()
        .any(|c| c.parent_id == f.id && !c.is_deleted);
    J::new()
        .put("id", f.id)
        .put("name", f.name.clone())
        .opt("parent_id", f.parent_id)
        .put("private", f.private)
        .time("updated_at", &f.updated_at)
        .put("is_tracked", f.is_tracked)
        .put("name_with_path", w.folder_path(f.id))
        .put("read_only", false)
        .put("is_deleted", f.is_deleted)
        .put("is_recycle_bin", false)
        .put("has_children", has_folders || has_files)
        .put("has_children_files", has_files)
        .put("has_children_folders", has_folders)
        .put("custom_fields", json!({}))
}

/// Folder with direct children filled in (grand-children arrays empty).
pub(crate) fn folder(w: &World, base: &str, f: &Folder, opts: FolderOpts) -> Value {
    let folders: Vec<Value> = if opts.exclude_folders {
        Vec::new()
    } else {
        w.folders
            .values()
            .filter(|c| c.parent_id == Some(f.id) && !c.is_deleted)
            .map(|c| {
                folder_head(w, c)
                    .put("folders", json!([]))
                    .put("files", json!([]))
                    .done()
            })
            .collect()
    };
    let files: Vec<Value> = if opts.exclude_files {
        Vec::new()
    } else {
        w.files
            .values()
            .filter(|c| c.parent_id == f.id && !c.is_deleted)
            .map(|c| file(w, base, c, opts.latest_only))
            .collect()
    };
    folder_head(w, f)
        .put("folders", Value::Array(folders))
        .put("files", Value::Array(files))
        .done()
}

#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct FolderOpts {
    pub(crate) exclude_folders: bool,
    pub(crate) exclude_files: bool,
    pub(crate) latest_only: bool,
}

/// Direct upload answer.
pub(crate) fn upload(base: &str, u: &Upload, now: &DateTime<Utc>) -> Value {
    let cd = u
        .content_disposition
        .clone()
        .unwrap_or_else(|| format!("attachment; filename=\"{}\"", u.filename));
    json!({
        "uuid": u.uuid,
        "url": format!("{base}/_sim/s3/{}", u.uuid),
        "fields": {
            "key": format!("uploads/{}", u.uuid),
            "Content-Type": u.content_type.clone().unwrap_or_else(|| "application/octet-stream".into()),
            "Content-Disposition": cd,
            "policy": "c2ltdWxhdGVkLXBvbGljeQ==",
            "x-amz-credential": "SIMULATED/20260101/us-east-1/s3/aws4_request",
            "x-amz-algorithm": "AWS4-HMAC-SHA256",
            "x-amz-date": now.format("%Y%m%dT%H%M%SZ").to_string(),
            "x-amz-signature": "0000000000000000000000000000000000000000000000000000000000000000",
        },
        "status": u.status,
        "segments": [],
    })
}

/// Masks a hook `Authorization` value to its last 5 characters, as Procore does.
pub(crate) fn mask(s: &Secret) -> String {
    let v = s.expose();
    let n = v.chars().count();
    if n <= 5 {
        "*".repeat(n)
    } else {
        let tail: String = v.chars().skip(n - 5).collect();
        format!("{}{}", "*".repeat(n - 5), tail)
    }
}

pub(crate) fn hook_v1(h: &Hook) -> Value {
    J::new()
        .put("id", h.id)
        .put("api_version", h.payload_version.clone())
        .put(
            "destination_headers",
            J::new()
                .opt("Authorization", h.authorization.as_ref().map(mask))
                .done(),
        )
        .put("destination_url", h.destination_url.clone())
        .opt(
            "owned_by_company_id",
            h.project_id.is_none().then_some(h.company_id),
        )
        .opt("owned_by_project_id", h.project_id)
        .opt("owned_by_user_id", h.owner_user_id)
        .s("namespace", &h.namespace)
        .done()
}

pub(crate) fn hook_v2(w: &World, h: &Hook, with_auth: bool) -> Value {
    let count = w.triggers.values().filter(|t| t.hook_id == h.id).count() as i64;
    let headers = if with_auth {
        J::new()
            .opt("Authorization", h.authorization.as_ref().map(mask))
            .done()
    } else {
        json!({})
    };
    J::new()
        .put("id", h.id.to_string())
        .put("status", h.status.clone())
        .put("payload_version", h.payload_version.clone())
        .s("namespace", &h.namespace)
        .put("destination_headers", headers)
        .put("destination_url", h.destination_url.clone())
        .put("trigger_count", count)
        .put("company_id", h.company_id.to_string())
        .opt("project_id", h.project_id.map(|p| p.to_string()))
        .time("created_at", &h.created_at)
        .time("updated_at", &h.updated_at)
        .put("hook_type", "classic")
        .done()
}

pub(crate) fn trigger_v1(t: &Trigger) -> Value {
    J::new()
        .put("id", t.id)
        .put("webhook_hook_id", t.hook_id)
        .put("resource_name", t.resource_name.clone())
        .put("event_type", t.event_type.to_uppercase())
        .put("company_id", t.company_id)
        .opt("project_id", t.project_id)
        .opt("user_id", t.user_id)
        .done()
}

pub(crate) fn trigger_v2(t: &Trigger) -> Value {
    J::new()
        .put("id", t.id.to_string())
        .put("webhook_hook_id", t.hook_id.to_string())
        .put("resource_name", t.resource_name.clone())
        .put("event_type", t.event_type.clone())
        .put("company_id", t.company_id.to_string())
        .opt("project_id", t.project_id.map(|p| p.to_string()))
        .done()
}

pub(crate) fn delivery_v1(d: &Delivery) -> Value {
    let last = d.attempts.last();
    let outcome = match d.status.as_str() {
        "delivered" if d.attempts.len() > 1 => "retried",
        "delivered" => "ok",
        "discarded" => "discarded",
        _ => "failed",
    };
    let mut event = d.payload.clone();
    if let Some(m) = event.as_object_mut() {
        // v1 deliveries model `event` with integer ids (v2.0 payload); v4.0 payloads are strings.
        m.retain(|k, v| !(k.ends_with("id") && v.is_string()) || k == "ulid");
    }
    J::new()
        .put("event", event)
        .put("event_id", d.event_id)
        .put("outcome", outcome)
        .opt(
            "response_status",
            last.and_then(|a| a.response_status).map(i64::from),
        )
        .opt(
            "response_error",
            last.and_then(|a| a.response_error.clone()),
        )
        .opt("response_body", last.and_then(|a| a.response_body.clone()))
        .put("response_headers", json!({}))
        .opt("started_at", d.attempts.first().map(|a| ts(&a.started_at)))
        .opt("completed_at", last.map(|a| ts(&a.completed_at)))
        .done()
}

pub(crate) fn delivery_v2(d: &Delivery) -> Value {
    let attempts: Vec<Value> = d
        .attempts
        .iter()
        .map(|a| {
            J::new()
                .time("started_at", &a.started_at)
                .time("completed_at", &a.completed_at)
                .opt("response_status", a.response_status.map(i64::from))
                .opt("response_error", a.response_error.clone())
                .done()
        })
        .collect();
    json!({
        "id": d.id.to_string(),
        "status": d.status,
        "payload": d.payload,
        "delivery_attempts": attempts,
    })
}

/// A v2.1 unified upload (NOTES §8), inside the v2 `data` envelope. `segments` carries a
/// presigned `url` and the `headers` to send for every part not stored yet (none once the
/// upload is complete), which is also how a client gets fresh URLs after they expire.
pub(crate) fn unified_upload(base: &str, u: &UnifiedUpload) -> Value {
    let expires = u.expires_at.timestamp();
    let open = matches!(u.status.as_str(), "ready" | "receiving");
    let segments: Vec<Value> = u
        .segments
        .iter()
        .enumerate()
        .filter(|(_, s)| open && s.etag.is_none())
        .map(|(i, s)| {
            json!({
                "url": format!(
                    "{base}/_sim/s3/unified/{}/{}?expires_at={expires}&user_id={}&sig=simulated",
                    u.upload_id,
                    i + 1,
                    u.user_id
                ),
                "url_expires_at": expires,
                "headers": {"Content-Length": s.size.to_string()},
            })
        })
        .collect();
    json!({"data": {
        "upload_id": u.upload_id,
        "file_name": u.file_name,
        "sanitized_file_name": u.file_name,
        "file_size": u.file_size,
        "total_parts": u.segments.len(),
        "content_type": u.content_type.clone().unwrap_or_else(|| "application/octet-stream".into()),
        "upload_expires_at": expires,
        "status": u.status,
        "custom_metadata": {},
        "segments": segments,
    }})
}
