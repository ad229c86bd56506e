use std::time::Instant;

use procore_sim::world::CommitmentKind;
use procore_sim::{demo, generate, seed, Sim, SimConfig};

#[test]
fn demo_company_contains_every_case_the_seeds_need() {
    let w = demo::world();
    let users: Vec<_> = w
        .users
        .values()
        .filter(|u| u.company_id == demo::COMPANY_ID)
        .collect();
    assert!(users
        .iter()
        .any(|u| u.mobile_phone.is_none() && u.business_phone.is_some() && u.is_active));
    assert!(users.iter().any(|u| u.email_address.is_none()));
    assert!(users
        .iter()
        .any(|u| !u.is_employee && u.is_active && u.service_account_of.is_none()));
    assert!(users
        .iter()
        .any(|u| !u.is_active && u.last_activated_at.is_none()));
    assert!(users
        .iter()
        .any(|u| !u.is_active && u.last_activated_at.is_some()));
    assert!(users
        .iter()
        .any(|u| u.service_account_of.as_deref() == Some(demo::CLIENT_ID)));

    let projects: Vec<_> = w.projects.values().collect();
    assert!(projects
        .iter()
        .any(|p| p.project_number.is_none() && p.name == demo::CLASHING_PROJECT_NAME));
    assert!(projects
        .iter()
        .any(|p| p.project_number.as_deref() == Some(demo::CLASHING_PROJECT_NUMBER)));
    let today = chrono::Utc::now().date_naive();
    assert!(projects
        .iter()
        .any(|p| !p.active && p.start_date.is_some_and(|d| d > today)));
    assert!(projects
        .iter()
        .any(|p| !p.active && p.start_date.is_some_and(|d| d < today)));
    assert!(projects.iter().any(|p| p.template));
    let inst = &w.apps[demo::CLIENT_ID].installations[&demo::COMPANY_ID];
    assert!(projects
        .iter()
        .any(|p| !inst.permitted_projects.contains(&p.id)));

    assert!(w.vendors.values().any(|v| v.primary_contact_id.is_some()));
    assert!(w
        .vendors
        .values()
        .any(|v| v.primary_contact_id.is_none() && v.is_active));
    assert!(w.vendors.values().any(|v| !v.is_active));
    assert!(w
        .users
        .values()
        .any(|u| u.vendor_id.is_some() && u.email_address.is_none()));
    assert!(w
        .users
        .values()
        .any(|u| u.vendor_id.is_some() && u.email_address.is_some()));

    for kind in [
        CommitmentKind::WorkOrderContract,
        CommitmentKind::PurchaseOrderContract,
    ] {
        for s in kind.statuses() {
            assert!(
                w.commitments
                    .values()
                    .any(|c| c.kind == kind && c.status == *s),
                "{kind:?} {s}"
            );
        }
    }
    assert!(
        w.commitments.values().any(|c| c.executed) && w.commitments.values().any(|c| !c.executed)
    );
    let def = w
        .custom_field_definitions
        .values()
        .find(|d| d.label == demo::COMPLIANCE_PROFILE_FIELD)
        .unwrap()
        .id;
    assert!(w
        .commitments
        .values()
        .any(|c| c.custom_fields.get(&def).map(String::as_str) == Some(demo::PROFILE_TYPO)));
    assert!(w
        .commitments
        .values()
        .any(|c| c.custom_fields.get(&def).map(String::as_str) == Some(demo::PROFILE_STANDARD)));
    assert!(w.apps[demo::USER_APP_CLIENT_ID].redirect_uri.as_deref() == Some(demo::REDIRECT_URI));
}

#[test]
fn generator_builds_the_requested_sizes_fast_and_deterministically() {
    let sizes = generate::Sizes {
        projects: 2_000,
        users: 20_000,
        vendors: 5_000,
        commitments_per_project: 5,
    };
    let t = Instant::now();
    let w = generate::world(42, sizes);
    let took = t.elapsed();
    assert_eq!(w.projects.len(), 2_000);
    assert_eq!(w.vendors.len(), 5_000);
    assert_eq!(w.commitments.len(), 10_000);
    // 20,000 generated users plus the app's service account.
    assert_eq!(w.users.len(), 20_001);
    assert!(took.as_secs_f64() < 5.0, "took {took:?} (debug build)");
    let again = generate::world(42, sizes);
    assert_eq!(
        w.projects.values().map(|p| &p.name).collect::<Vec<_>>(),
        again.projects.values().map(|p| &p.name).collect::<Vec<_>>()
    );
    assert_eq!(
        w.users.keys().collect::<Vec<_>>(),
        again.users.keys().collect::<Vec<_>>()
    );
}

#[test]
fn state_saved_to_a_file_loads_back_as_the_same_world() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.json");
    let sim = Sim::new(demo::world(), SimConfig::default());
    sim.save_state(&path).unwrap();
    let back = seed::load(&path).unwrap();
    assert_eq!(serde_json::to_value(&back).unwrap(), sim.state_json());
}

#[test]
fn operations_list_covers_the_core_paths() {
    let ops = procore_sim::operations();
    assert!(ops.len() > 100);
    assert!(ops
        .iter()
        .any(|(m, p)| m == "PATCH" && *p == "/rest/v1.0/insurances/sync"));
}
