//! `connect`'s permission checks: each names what is missing, so one run says everything to fix.

use crate::harness::TestApp;
use procore_sim::demo;
use procore_sim::world::Level;
use sync::workforce::access::{check_access, check_compliance_access, Problem};

#[tokio::test]
async fn with_every_permission_granted_every_check_passes() {
    let app = TestApp::demo().await;
    let checks = check_access(&app.client, true, "Corfix Forms").await;
    assert!(checks.iter().all(|c| c.ok), "{checks:#?}");
    let names: Vec<&str> = checks.iter().map(|c| c.what).collect();
    assert_eq!(
        names,
        vec![
            "sign in to Procore with the client id and secret",
            "read projects",
            "read the company directory (users)",
            "read project Documents",
            "create folders and files in project Documents",
        ]
    );
}

#[tokio::test]
async fn withholding_documents_write_is_named_as_the_missing_permission() {
    let app = TestApp::demo().await;
    app.sim().write(|w| {
        w.apps
            .get_mut(demo::CLIENT_ID)
            .unwrap()
            .installations
            .get_mut(&demo::COMPANY_ID)
            .unwrap()
            .permissions
            .documents = Level::ReadOnly;
    });
    let checks = check_access(&app.client, true, "Corfix Forms").await;
    let failed: Vec<_> = checks.iter().filter(|c| !c.ok).collect();
    assert_eq!(failed.len(), 1, "{checks:#?}");
    let check = failed[0];
    assert_eq!(check.what, "create folders and files in project Documents");
    assert!(
        check.detail.contains("403")
            && check
                .detail
                .contains("Give the integration's user this permission"),
        "{}",
        check.detail
    );
    assert!(
        checks
            .iter()
            .any(|c| c.what == "read project Documents" && c.ok),
        "reading is still allowed: {checks:#?}"
    );
    assert!(
        app.sim()
            .read(|w| !w.folders.values().any(|f| f.name == "Corfix Forms")),
        "nothing was created"
    );
}

#[tokio::test]
async fn without_sync_forms_documents_are_not_checked() {
    let app = TestApp::demo().await;
    app.sim().write(|w| {
        w.apps
            .get_mut(demo::CLIENT_ID)
            .unwrap()
            .installations
            .get_mut(&demo::COMPANY_ID)
            .unwrap()
            .permissions
            .documents = Level::None;
    });
    let checks = check_access(&app.client, false, "Corfix Forms").await;
    assert!(checks.iter().all(|c| c.ok), "{checks:#?}");
    assert!(!checks.iter().any(|c| c.what.contains("Documents")));
}

fn installation(w: &mut procore_sim::World) -> &mut procore_sim::world::Installation {
    w.apps
        .get_mut(demo::CLIENT_ID)
        .unwrap()
        .installations
        .get_mut(&demo::COMPANY_ID)
        .unwrap()
}

#[tokio::test]
async fn a_company_whose_visible_projects_are_all_upcoming_passes_the_documents_checks() {
    let app = TestApp::demo().await;
    let upcoming = app.procore_project("Northgate Library");
    app.sim().write(|w| {
        installation(w).permitted_projects = [upcoming].into_iter().collect();
    });
    let checks = check_access(&app.client, true, "Corfix Forms").await;
    assert!(checks.iter().all(|c| c.ok), "{checks:#?}");
    let projects = checks.iter().find(|c| c.what == "read projects").unwrap();
    assert_eq!(projects.detail, "1 project(s) visible");
    assert!(
        app.sim().read(|w| w
            .folders
            .values()
            .any(|f| f.name == "Corfix Forms" && f.project_id == upcoming)),
        "the forms folder was made in the Upcoming project"
    );
}

#[tokio::test]
async fn the_project_count_includes_every_stage_and_status() {
    let app = TestApp::demo().await;
    let visible = app.sim().read(|w| {
        let inst = &w.apps[demo::CLIENT_ID].installations[&demo::COMPANY_ID];
        w.projects
            .values()
            .filter(|p| {
                p.company_id == demo::COMPANY_ID
                    && !p.template
                    && inst.permitted_projects.contains(&p.id)
            })
            .count()
    });
    let checks = check_access(&app.client, false, "Corfix Forms").await;
    let projects = checks.iter().find(|c| c.what == "read projects").unwrap();
    assert_eq!(projects.detail, format!("{visible} project(s) visible"));
}

#[tokio::test]
async fn a_wrong_company_id_is_reported_as_such() {
    let app = TestApp::demo().await;
    let client = procore::Client::new(
        procore::ClientConfig::custom(
            &app.sim.url(),
            procore::CompanyId(demo::COMPANY_ID + 1),
            procore::Credentials::client_credentials(demo::CLIENT_ID, demo::CLIENT_SECRET),
        )
        .unwrap(),
    )
    .unwrap();
    let checks = check_access(&client, true, "Corfix Forms").await;
    assert_eq!(checks.len(), 1, "{checks:#?}");
    assert_eq!(checks[0].problem, Some(Problem::Company));
    assert!(
        checks[0].detail.contains("Check the Company ID"),
        "{}",
        checks[0].detail
    );
    assert!(
        !checks[0].detail.contains("permission"),
        "{}",
        checks[0].detail
    );
}

#[tokio::test]
async fn an_app_installed_in_no_company_is_told_to_install_it() {
    let app = TestApp::demo().await;
    app.sim().write(|w| {
        w.apps
            .get_mut(demo::CLIENT_ID)
            .unwrap()
            .installations
            .clear()
    });
    let checks = check_access(&app.client, true, "Corfix Forms").await;
    assert_eq!(checks.len(), 1, "{checks:#?}");
    assert_eq!(checks[0].problem, Some(Problem::Company));
    assert!(
        checks[0]
            .detail
            .contains("the app is not installed in any Procore company"),
        "{}",
        checks[0].detail
    );
    assert!(!checks[0].detail.contains("Check the Company ID"));
}

#[tokio::test]
async fn with_every_permission_granted_the_compliance_checks_pass_and_write_nothing() {
    let app = TestApp::demo().await;
    let before = app.sim().read(|w| w.insurances.len());
    let checks = check_compliance_access(&app.client).await;
    assert!(checks.iter().all(|c| c.ok), "{checks:#?}");
    let names: Vec<&str> = checks.iter().map(|c| c.what).collect();
    assert_eq!(
        names,
        vec![
            "read the company directory (companies)",
            "read commitments (Commitments tool)",
            "write insurance records",
        ]
    );
    assert_eq!(app.sim().read(|w| w.insurances.len()), before);
}

#[tokio::test]
async fn the_compliance_checks_name_each_missing_permission() {
    let app = TestApp::demo().await;
    app.sim().write(|w| {
        let p = &mut installation(w).permissions;
        p.commitments = Level::None;
        p.insurances = Level::ReadOnly;
        p.directory = Level::None;
    });
    let checks = check_compliance_access(&app.client).await;
    let failed: Vec<&str> = checks.iter().filter(|c| !c.ok).map(|c| c.what).collect();
    assert_eq!(
        failed,
        vec![
            "read the company directory (companies)",
            "read commitments (Commitments tool)",
            "write insurance records",
        ],
        "{checks:#?}"
    );
    assert!(checks
        .iter()
        .all(|c| c.problem == Some(Problem::Permission)));
    let insurance = checks.last().unwrap();
    assert!(insurance.detail.contains("403"), "{}", insurance.detail);
}
