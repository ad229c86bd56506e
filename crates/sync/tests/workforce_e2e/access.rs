//! `connect`'s permission checks: each names what is missing, so one run says everything to fix.

use crate::harness::TestApp;
use procore_sim::demo;
use procore_sim::world::Level;
use sync::workforce::access::check_access;

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
