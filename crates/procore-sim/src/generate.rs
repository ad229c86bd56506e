//! Large deterministic companies for benchmarks and scale tests.
//!
//! `world(seed, sizes)` builds one company (the demo company id, and the demo app's
//! credentials, so the same client configuration works) with the requested numbers of
//! projects, users, vendors and commitments per project. Records are inserted directly with
//! sequential ids (no per-record validation or webhook work), so 2,000 projects, 20,000
//! users, 5,000 vendors and 10 commitments per project build in well under a second.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};

use crate::demo;
use crate::world::*;

/// How many records to generate.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sizes {
    pub projects: usize,
    pub users: usize,
    pub vendors: usize,
    pub commitments_per_project: usize,
}

impl Default for Sizes {
    fn default() -> Self {
        Sizes {
            projects: 2_000,
            users: 20_000,
            vendors: 5_000,
            commitments_per_project: 5,
        }
    }
}

const FIRST: &[&str] = &[
    "Alex", "Sam", "Jordan", "Taylor", "Riley", "Casey", "Jamie", "Morgan", "Avery", "Quinn",
    "Drew", "Reese",
];
const LAST: &[&str] = &[
    "Smith", "Garcia", "Nguyen", "Okafor", "Kowalski", "Haddad", "Silva", "Jensen", "Patel",
    "Moreau", "Ito", "Reyes",
];
const PLACES: &[&str] = &[
    "Harbor", "Summit", "Cedar", "Granite", "River", "Maple", "Pioneer", "Canyon", "Lakeside",
    "Union",
];
const KINDS: &[&str] = &[
    "Tower",
    "Clinic",
    "School",
    "Warehouse",
    "Lofts",
    "Library",
    "Station",
    "Plaza",
    "Depot",
    "Annex",
];
/// Trade names, also the ids of Procore's `trades` objects (position + 1; see `wire`).
pub(crate) const TRADES: &[&str] = &[
    "Electric", "Plumbing", "Concrete", "Drywall", "Roofing", "Steel", "Glazing", "Paving", "HVAC",
    "Masonry",
];
const PROFILES: &[&str] = &[
    demo::PROFILE_STANDARD,
    "High Risk Trade",
    "Supplier",
    demo::PROFILE_TYPO,
];

fn pick<'a>(rng: &mut SmallRng, xs: &[&'a str]) -> &'a str {
    xs[rng.random_range(0..xs.len())]
}

/// Builds a deterministic world: the same `seed` and `sizes` give the same world.
pub fn world(seed: u64, sizes: Sizes) -> World {
    let mut rng = SmallRng::seed_from_u64(seed);
    let base: DateTime<Utc> = "2025-01-01T00:00:00Z".parse().unwrap_or_default();
    let cid = demo::COMPANY_ID;
    let mut w = World {
        next_id: 5_000_000_000,
        ..World::default()
    };
    w.companies.insert(
        cid,
        Company {
            id: cid,
            name: format!("Generated Company {seed}"),
            is_active: true,
        },
    );
    let app_id = 7_000_000_001;
    w.apps.insert(
        demo::CLIENT_ID.into(),
        App {
            id: app_id,
            name: demo::APP_NAME.into(),
            client_id: demo::CLIENT_ID.into(),
            client_secret: Secret(demo::CLIENT_SECRET.into()),
            redirect_uri: Some(demo::REDIRECT_URI.into()),
            installations: BTreeMap::new(),
        },
    );
    w.install_app(demo::CLIENT_ID, cid, base);
    let when = |rng: &mut SmallRng| base + Duration::seconds(rng.random_range(0..30_000_000));

    let mut vendor_ids = Vec::with_capacity(sizes.vendors);
    for i in 0..sizes.vendors {
        let id = w.alloc_id();
        let t = when(&mut rng);
        let place = pick(&mut rng, PLACES);
        let trade = pick(&mut rng, TRADES);
        w.vendors.insert(
            id,
            Vendor {
                id,
                company_id: cid,
                name: format!("{place} {trade} {}", i + 1),
                trades: vec![trade.to_owned()],
                // Derived from the index, not drawn, so older seeds generate the same world.
                prequalified: Some(i % 3 != 0),
                union_member: Some(i % 4 == 0),
                authorized_bidder: Some(i % 5 != 4),
                city: Some(pick(&mut rng, PLACES).to_owned() + " City"),
                state_code: Some("CO".into()),
                country_code: Some("US".into()),
                business_phone: Some(format!("+1 555 {:04}", i % 10_000)),
                is_active: rng.random_bool(0.9),
                created_at: t,
                updated_at: t,
                ..Vendor::default()
            },
        );
        vendor_ids.push(id);
    }
    for i in 0..sizes.users {
        let id = w.alloc_id();
        let t = when(&mut rng);
        let (f, l) = (pick(&mut rng, FIRST), pick(&mut rng, LAST));
        let employee = rng.random_bool(0.7);
        let active = rng.random_bool(0.9);
        let vendor_id = (!employee && !vendor_ids.is_empty())
            .then(|| vendor_ids[rng.random_range(0..vendor_ids.len())]);
        w.users.insert(
            id,
            User {
                id,
                company_id: cid,
                first_name: Some(f.into()),
                last_name: Some(l.into()),
                email_address: rng
                    .random_bool(0.95)
                    .then(|| format!("{}.{}.{i}@example.com", f.to_lowercase(), l.to_lowercase())),
                mobile_phone: rng
                    .random_bool(0.6)
                    .then(|| format!("+1 555 {:04}", (i * 7) % 10_000)),
                business_phone: rng
                    .random_bool(0.5)
                    .then(|| format!("+1 555 {:04}", (i * 3) % 10_000)),
                employee_id: employee.then(|| format!("E-{i:06}")),
                locale: Some("en".into()),
                is_insurance_manager: Some(i % 50 == 0),
                is_employee: employee,
                is_active: active,
                vendor_id,
                last_activated_at: (active || rng.random_bool(0.5)).then_some(t),
                created_at: t,
                updated_at: t,
                ..User::default()
            },
        );
    }
    for (n, v) in vendor_ids.iter().enumerate() {
        if n % 3 == 0 {
            // Every third vendor has a primary contact; it need not be one of its own users.
            let contact = w.users.values().nth(n % sizes.users.max(1)).map(|u| u.id);
            if let Some(x) = w.vendors.get_mut(v) {
                x.primary_contact_id = contact;
            }
        }
    }
    let def = w.alloc_id();
    w.custom_field_definitions.insert(
        def,
        CustomFieldDefinition {
            id: def,
            company_id: cid,
            label: demo::COMPLIANCE_PROFILE_FIELD.into(),
            data_type: "string".into(),
        },
    );
    let mut permitted = std::collections::BTreeSet::new();
    for i in 0..sizes.projects {
        let id = w.alloc_id();
        let t = when(&mut rng);
        let start =
            NaiveDate::from_ymd_opt(2022 + rng.random_range(0..8), rng.random_range(1..13), 1);
        w.projects.insert(
            id,
            Project {
                id,
                company_id: cid,
                name: format!(
                    "{} {} {}",
                    pick(&mut rng, PLACES),
                    pick(&mut rng, KINDS),
                    i + 1
                ),
                project_number: rng.random_bool(0.85).then(|| format!("P-{:05}", i + 1)),
                city: Some(pick(&mut rng, PLACES).to_owned() + " City"),
                state_code: Some("CO".into()),
                country_code: Some("US".into()),
                active: rng.random_bool(0.8),
                template: i % 250 == 249,
                start_date: start,
                total_value: Some(format!("{}.0", rng.random_range(100..50_000) * 1000)),
                county: Some(format!("{} County", PLACES[i % PLACES.len()])),
                latitude: Some(39.5 + (i % 100) as f64 * 0.005),
                longitude: Some(-105.0 + (i % 70) as f64 * 0.005),
                square_feet: Some(12_000 + (i as i64 % 90) * 2_500),
                projected_finish_date: start.map(|d| d + Duration::days(540 + (i as i64 % 200))),
                work_scope: Some(
                    [
                        "new_construction",
                        "renovation_alteration",
                        "maintenance_service",
                    ][i % 3]
                        .into(),
                ),
                created_at: t,
                updated_at: t,
                ..Project::default()
            },
        );
        w.create_root_folder(id, t);
        if i % 50 != 49 {
            permitted.insert(id);
        }
        for k in 0..sizes.commitments_per_project {
            let cid2 = w.alloc_id();
            let kind = if k % 2 == 0 {
                CommitmentKind::WorkOrderContract
            } else {
                CommitmentKind::PurchaseOrderContract
            };
            let statuses = kind.statuses();
            let status = statuses[rng.random_range(0..statuses.len())];
            let mut custom = BTreeMap::new();
            custom.insert(def, pick(&mut rng, PROFILES).to_owned());
            w.commitments.insert(
                cid2,
                Commitment {
                    id: cid2,
                    kind,
                    project_id: id,
                    number: Some(format!(
                        "{}-{:03}",
                        if k % 2 == 0 { "SC" } else { "PO" },
                        k + 1
                    )),
                    title: Some(format!("{} package {}", pick(&mut rng, TRADES), k + 1)),
                    status: status.into(),
                    executed: rng.random_bool(0.5),
                    vendor_id: (!vendor_ids.is_empty())
                        .then(|| vendor_ids[rng.random_range(0..vendor_ids.len())]),
                    grand_total: format!("{}.0", rng.random_range(10..5_000) * 100),
                    custom_fields: custom,
                    created_at: t,
                    updated_at: t,
                    ..Commitment::default()
                },
            );
        }
    }
    directories(&mut w, seed);
    if let Some(i) = w
        .apps
        .get_mut(demo::CLIENT_ID)
        .and_then(|a| a.installations.get_mut(&cid))
    {
        i.permitted_projects = permitted;
        i.add_to_all_new_projects = true;
        i.installed_by_user_id = w.users.keys().next().copied();
    }
    w
}

/// Project directories: each project lists the vendors holding its commitments and up to 25
/// users drawn at random. A random source of its own, so that adding directories left every
/// other generated value as it was.
fn directories(w: &mut World, seed: u64) {
    let mut rng = SmallRng::seed_from_u64(seed ^ 0x5eed_d1ec);
    let users: Vec<i64> = w
        .users
        .values()
        .filter(|u| u.service_account_of.is_none())
        .map(|u| u.id)
        .collect();
    let mut vendors: BTreeMap<i64, std::collections::BTreeSet<i64>> = BTreeMap::new();
    for c in w.commitments.values() {
        if let Some(v) = c.vendor_id {
            vendors.entry(c.project_id).or_default().insert(v);
        }
    }
    for pid in w.projects.keys().copied().collect::<Vec<_>>() {
        let mut d = ProjectDirectory {
            vendors: vendors.remove(&pid).unwrap_or_default(),
            ..ProjectDirectory::default()
        };
        if !users.is_empty() {
            for _ in 0..rng.random_range(1..=users.len().min(25)) {
                d.users.insert(users[rng.random_range(0..users.len())]);
            }
        }
        w.project_directories.insert(pid, d);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_gives_the_same_world() {
        let s = Sizes {
            projects: 20,
            users: 50,
            vendors: 10,
            commitments_per_project: 2,
        };
        let a = serde_json::to_string(&world(3, s)).unwrap();
        let b = serde_json::to_string(&world(3, s)).unwrap();
        assert_eq!(a, b);
        assert_ne!(a, serde_json::to_string(&world(4, s)).unwrap());
    }
}
