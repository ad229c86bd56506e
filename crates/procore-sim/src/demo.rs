//! The demo company: a small, hand-made Procore company that exercises every rule of the two
//! integrations trestle implements (workforce: seed 000; compliance: seed 002).
//!
//! It contains users with no mobile phone (business phone only), with no email, who are not
//! employees, inactive users never activated and inactive users previously active, the
//! integration's own service account; projects with and without a number, one whose number
//! and one whose name clash with records the app side may already hold
//! ([`CLASHING_PROJECT_NUMBER`], [`CLASHING_PROJECT_NAME`]), active, upcoming (inactive,
//! future start), completed (inactive, past start), a template and one the app is not
//! permitted to see; vendors with and without a primary contact, active and inactive, with
//! contacts with and without email; commitments of both kinds in every status, executed and
//! not, carrying a "Compliance Profile" custom field (one value misspelt). All ids exceed
//! 2^32, as Procore's may.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde_json::{json, Value};

use crate::changes::{self, Actor, Attrs};
use crate::world::*;

/// The demo company id (above 2^32 on purpose).
pub const COMPANY_ID: i64 = 4_000_000_001;
/// Name of the demo company.
pub const COMPANY_NAME: &str = "Granite Peak Builders";
/// The demo integration app (client_credentials; installed in the demo company).
pub const CLIENT_ID: &str = "trestle-demo-client-id";
pub const CLIENT_SECRET: &str = "trestle-demo-client-secret";
/// Name of the demo app (its service account is "Trestle Service Account").
pub const APP_NAME: &str = "Trestle";
/// A second app for the authorization-code flow.
pub const USER_APP_CLIENT_ID: &str = "trestle-user-app-client-id";
pub const USER_APP_CLIENT_SECRET: &str = "trestle-user-app-client-secret";
/// Redirect URI registered for [`USER_APP_CLIENT_ID`].
pub const REDIRECT_URI: &str = "http://127.0.0.1:8787/oauth/callback";
/// A project number the app side may already use (the workforce seed skips such projects).
pub const CLASHING_PROJECT_NUMBER: &str = "P-100";
/// A project name the app side may already use (for a Procore project without a number).
pub const CLASHING_PROJECT_NAME: &str = "Warehouse Retrofit";
/// Label of the commitments custom field naming a compliance profile.
pub const COMPLIANCE_PROFILE_FIELD: &str = "Compliance Profile";
/// The correctly spelt profile name used by most commitments.
pub const PROFILE_STANDARD: &str = "Standard Subcontractor";
/// The misspelt value on one commitment.
pub const PROFILE_TYPO: &str = "Standard Subcontracter";
/// Name of the project the demo app is not permitted to see.
pub const UNPERMITTED_PROJECT_NAME: &str = "Confidential Bid Package";

fn at(s: &str) -> DateTime<Utc> {
    s.parse().unwrap_or_default()
}

fn attrs(v: Value) -> Attrs {
    v.as_object().cloned().unwrap_or_default()
}

/// Builds the demo world.
pub fn world() -> World {
    let mut w = World {
        next_id: 5_000_000_000,
        ..World::default()
    };
    let t0 = at("2025-06-02T14:00:00Z");
    w.companies.insert(
        COMPANY_ID,
        Company {
            id: COMPANY_ID,
            name: COMPANY_NAME.into(),
            is_active: true,
        },
    );
    let ui = Actor::admin();

    // People.
    let user = |w: &mut World, v: Value| -> i64 {
        let id = changes::create_user(w, COMPANY_ID, &attrs(v.clone()), ui, t0).unwrap_or_default();
        if let Some(u) = w.users.get_mut(&id) {
            u.last_activated_at = v.get("never_activated").is_none().then_some(t0);
            if v.get("inactive").is_some() {
                u.is_active = false;
            }
        }
        id
    };
    let admin = user(
        &mut w,
        json!({"first_name": "Pat", "last_name": "Alvarez", "email_address": "pat.alvarez@granitepeak.example", "mobile_phone": "+1 555 0100", "business_phone": "+1 555 0101", "employee_id": "E-0001", "is_employee": true, "job_title": "Project Executive", "address": "1450 Larimer St", "city": "Denver", "state_code": "CO", "zip": "80202", "country_code": "US", "locale": "en"}),
    );
    user(
        &mut w,
        json!({"first_name": "Morgan", "last_name": "Lee", "email_address": "morgan.lee@granitepeak.example", "mobile_phone": "+1 555 0110", "business_phone": "+1 555 0111", "employee_id": "E-0002", "is_employee": true, "job_title": "Superintendent", "city": "Lakewood", "state_code": "CO", "country_code": "US", "locale": "en", "notes": "Site lead at Harbor Tower"}),
    );
    user(
        &mut w,
        json!({"first_name": "Bea", "last_name": "Okafor", "email_address": "bea.okafor@granitepeak.example", "business_phone": "+1 555 0120", "business_phone_extension": 42, "employee_id": "E-0003", "is_employee": true, "job_title": "Foreman"}),
    );
    user(
        &mut w,
        json!({"first_name": "Nico", "last_name": "Sandoval", "mobile_phone": "+1 555 0130", "employee_id": "E-0004", "is_employee": true, "job_title": "Laborer"}),
    );
    user(
        &mut w,
        json!({"first_name": "Quinn", "last_name": "Harper", "email_address": "quinn.harper@consultant.example", "mobile_phone": "+1 555 0140", "is_employee": false, "job_title": "Safety Consultant"}),
    );
    user(
        &mut w,
        json!({"first_name": "Ivy", "last_name": "Nakamura", "email_address": "ivy.nakamura@granitepeak.example", "employee_id": "E-0005", "is_employee": true, "inactive": true, "never_activated": true}),
    );
    user(
        &mut w,
        json!({"first_name": "Owen", "last_name": "Brooks", "email_address": "owen.brooks@granitepeak.example", "mobile_phone": "+1 555 0150", "employee_id": "E-0006", "is_employee": true, "inactive": true}),
    );
    user(
        &mut w,
        json!({"first_name": "Ray", "last_name": "Duarte", "email_address": "ray.duarte@granitepeak.example", "business_phone": "+1 555 0160", "employee_id": "E-0007", "is_employee": false, "inactive": true}),
    );

    // Vendors and their contacts.
    let vendor = |w: &mut World, v: Value| {
        changes::create_vendor(w, COMPANY_ID, &attrs(v), ui, t0).unwrap_or_default()
    };
    let acme = vendor(
        &mut w,
        json!({"name": "Acme Electric", "address": "12 Spark Way", "city": "Denver", "state_code": "CO", "zip": "80202", "country_code": "US", "website": "https://acme-electric.example", "business_phone": "+1 555 0200", "email_address": "office@acme-electric.example", "origin_id": null, "trades": ["Electric"], "legal_name": "Acme Electric LLC", "abbreviated_name": "ACME", "license_number": "EC-104233", "mobile_phone": "+1 555 0209", "prequalified": true, "union_member": true, "authorized_bidder": true}),
    );
    let bolt = vendor(
        &mut w,
        json!({"name": "Bolt Plumbing", "address": "3 Pipe St", "city": "Boulder", "state_code": "CO", "zip": "80301", "country_code": "US", "website": "https://boltplumbing.example", "trades": ["Plumbing", "HVAC"], "legal_name": "Bolt Plumbing & Heating Inc.", "license_number": "PL-88412", "prequalified": false}),
    );
    let closed = vendor(
        &mut w,
        json!({"name": "Cobalt Concrete (closed)", "city": "Aurora", "state_code": "CO", "is_active": false}),
    );
    let delta = vendor(
        &mut w,
        json!({"name": "Delta Drywall", "city": "Golden", "state_code": "CO", "country_code": "US", "fax_number": "+1 555 0299", "trades": ["Drywall"], "prequalified": true, "union_member": false}),
    );
    let acme_pm = user(
        &mut w,
        json!({"first_name": "Alice", "last_name": "Voltaire", "email_address": "alice@acme-electric.example", "business_phone": "+1 555 0201", "fax_number": "+1 555 0202", "is_employee": false, "vendor_id": acme, "job_title": "Project Manager", "locale": "en", "is_insurance_manager": true}),
    );
    user(
        &mut w,
        json!({"first_name": "Ben", "last_name": "Watts", "email_address": "ben@acme-electric.example", "mobile_phone": "+1 555 0203", "is_employee": false, "vendor_id": acme}),
    );
    user(
        &mut w,
        json!({"first_name": "Dora", "last_name": "Plaster", "mobile_phone": "+1 555 0290", "is_employee": false, "vendor_id": delta}),
    );
    let delta_lead = user(
        &mut w,
        json!({"first_name": "Dev", "last_name": "Stud", "email_address": "dev@delta-drywall.example", "is_employee": false, "vendor_id": delta}),
    );
    user(
        &mut w,
        json!({"first_name": "Bo", "last_name": "Flux", "business_phone": "+1 555 0310", "is_employee": false, "vendor_id": bolt}),
    );
    for (v, c) in [(acme, acme_pm), (delta, delta_lead)] {
        if let Some(x) = w.vendors.get_mut(&v) {
            x.primary_contact_id = Some(c);
        }
    }
    let _ = closed;

    // Apps (installed before projects so add_to_all_new_projects applies).
    for (id, name, cid, secret, redirect) in [
        (7_000_000_001, APP_NAME, CLIENT_ID, CLIENT_SECRET, None),
        (
            7_000_000_002,
            "Trestle Web",
            USER_APP_CLIENT_ID,
            USER_APP_CLIENT_SECRET,
            Some(REDIRECT_URI.to_owned()),
        ),
    ] {
        w.apps.insert(
            cid.into(),
            App {
                id,
                name: name.into(),
                client_id: cid.into(),
                client_secret: Secret(secret.into()),
                redirect_uri: redirect,
                installations: BTreeMap::new(),
            },
        );
        w.install_app(cid, COMPANY_ID, t0);
        if let Some(i) = w
            .apps
            .get_mut(cid)
            .and_then(|a| a.installations.get_mut(&COMPANY_ID))
        {
            i.installed_by_user_id = Some(admin);
            i.add_to_all_new_projects = true;
        }
    }

    // Projects.
    let project = |w: &mut World, v: Value| {
        changes::create_project(w, COMPANY_ID, &attrs(v), ui, t0).unwrap_or_default()
    };
    let harbor = project(
        &mut w,
        json!({"name": "Harbor Tower", "project_number": "HT-200", "description": "22-storey mixed-use tower", "public_notes": "Gate 3 for deliveries", "address": "100 Harbor Blvd", "city": "Denver", "state_code": "CO", "country_code": "US", "zip": "80202", "start_date": "2025-03-01", "completion_date": "2027-09-30", "total_value": "48500000.0", "stage": "Course of Construction", "time_zone": "America/Denver", "county": "Denver County", "latitude": 39.7527, "longitude": -105.0003, "square_feet": 410000, "projected_finish_date": "2027-11-15", "work_scope": "new_construction", "designated_market_area": "Denver"}),
    );
    project(
        &mut w,
        json!({"name": CLASHING_PROJECT_NAME, "address": "8 Depot Rd", "city": "Aurora", "state_code": "CO", "country_code": "US", "zip": "80010", "start_date": "2025-01-15", "stage": "Course of Construction"}),
    );
    project(
        &mut w,
        json!({"name": "Riverside Clinic", "project_number": CLASHING_PROJECT_NUMBER, "city": "Boulder", "state_code": "CO", "country_code": "US", "start_date": "2025-05-01", "total_value": "12000000.0", "county": "Boulder County", "square_feet": 86000, "work_scope": "renovation_alteration"}),
    );
    project(
        &mut w,
        json!({"name": "Northgate Library", "project_number": "NL-310", "active": false, "start_date": "2031-04-01", "stage": "Pre-Construction", "city": "Westminster", "state_code": "CO", "country_code": "US"}),
    );
    project(
        &mut w,
        json!({"name": "Old Mill Lofts", "project_number": "OM-090", "active": false, "start_date": "2022-02-01", "completion_date": "2023-11-30", "stage": "Completed"}),
    );
    project(
        &mut w,
        json!({"name": "Standard Template - Commercial", "template": true}),
    );
    let secret = project(
        &mut w,
        json!({"name": UNPERMITTED_PROJECT_NAME, "project_number": "CB-999", "start_date": "2025-07-01"}),
    );
    if let Some(i) = w
        .apps
        .get_mut(CLIENT_ID)
        .and_then(|a| a.installations.get_mut(&COMPANY_ID))
    {
        i.permitted_projects.remove(&secret);
    }

    // Commitments with a "Compliance Profile" custom field.
    let def = w.alloc_id();
    w.custom_field_definitions.insert(
        def,
        CustomFieldDefinition {
            id: def,
            company_id: COMPANY_ID,
            label: COMPLIANCE_PROFILE_FIELD.into(),
            data_type: "string".into(),
        },
    );
    let vendors = [acme, bolt, delta];
    for kind in [
        CommitmentKind::WorkOrderContract,
        CommitmentKind::PurchaseOrderContract,
    ] {
        for (i, status) in kind.statuses().iter().enumerate() {
            let executed = matches!(
                *status,
                "Approved" | "Complete" | "Received" | "Closed" | "Partially Received"
            );
            let profile = match (kind, i) {
                (CommitmentKind::WorkOrderContract, 3) => PROFILE_TYPO,
                (_, 1) => "High Risk Trade",
                _ => PROFILE_STANDARD,
            };
            let prefix = if kind == CommitmentKind::WorkOrderContract {
                "SC"
            } else {
                "PO"
            };
            let mut a = attrs(json!({
                "number": format!("{prefix}-{:03}", i + 1),
                "title": format!("{} - {}", if kind == CommitmentKind::WorkOrderContract { "Subcontract" } else { "Purchase order" }, status),
                "status": status,
                "executed": executed,
                "vendor_id": vendors[i % vendors.len()],
                "grand_total": format!("{}.0", 25_000 * (i + 1)),
                "contract_date": "2025-04-01",
            }));
            a.insert(format!("custom_field_{def}"), json!(profile));
            let _ = changes::create_commitment(&mut w, kind, harbor, &a, ui, t0);
        }
    }
    let _ = changes::create_commitment(
        &mut w,
        CommitmentKind::WorkOrderContract,
        secret,
        &attrs(
            json!({"title": "Hidden subcontract", "status": "Approved", "executed": true, "vendor_id": bolt}),
        ),
        ui,
        t0,
    );

    // An insurance record and a document.
    let _ = changes::create_insurance(
        &mut w,
        changes::InsScope {
            company_id: COMPANY_ID,
            project_id: None,
            vendor_id: Some(acme),
        },
        &attrs(
            json!({"insurance_type": "General Liability", "name": "Summit Mutual", "policy_number": "GL-2025-001", "effective_date": "2025-01-01", "expiration_date": "2026-01-01", "limit": "1000000.0", "status": "compliant", "origin_id": "demo-ins-1"}),
        ),
        ui,
        t0,
    );
    let drawings =
        changes::create_folder(&mut w, harbor, &attrs(json!({"name": "Drawings"})), ui, t0)
            .unwrap_or_default();
    let _ = changes::create_file(
        &mut w,
        harbor,
        changes::NewFile {
            name: Some("Site Plan.pdf".into()),
            parent_id: Some(drawings),
            description: None,
            unique_name: None,
            content: Some(changes::Content::Data {
                bytes: b"%PDF-1.4\n% demo site plan\n".to_vec(),
                filename: None,
                content_type: Some("application/pdf".into()),
            }),
        },
        ui,
        t0,
    );
    directories(&mut w, harbor, admin);
    w.outbox.clear();
    w.normalize();
    w
}

/// Project directories: every project lists the project executive and the vendors holding
/// its commitments; Harbor Tower, the busy site, also lists the active employees, one
/// inactive former employee and those vendors' contacts.
fn directories(w: &mut World, harbor: i64, admin: i64) {
    for pid in w.projects.keys().copied().collect::<Vec<_>>() {
        let vendors: std::collections::BTreeSet<i64> = w
            .commitments
            .values()
            .filter(|c| c.project_id == pid)
            .filter_map(|c| c.vendor_id)
            .collect();
        let mut users = std::collections::BTreeSet::from([admin]);
        if pid == harbor {
            users.extend(
                w.users
                    .values()
                    .filter(|u| u.service_account_of.is_none())
                    .filter(|u| {
                        (u.is_employee && (u.is_active || u.last_activated_at.is_some()))
                            || u.vendor_id.is_some_and(|v| vendors.contains(&v))
                    })
                    .map(|u| u.id),
            );
        }
        w.project_directories
            .insert(pid, ProjectDirectory { users, vendors });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_world_builds_with_ids_above_32_bits() {
        let w = world();
        assert!(w.projects.keys().all(|id| *id > u32::MAX as i64));
        assert!(w.users.keys().all(|id| *id > u32::MAX as i64));
    }
}
