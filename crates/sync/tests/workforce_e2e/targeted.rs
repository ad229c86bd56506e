//! Syncs of the records webhook deliveries named (`trestle serve`): one read per record, the
//! same rules as any sync, and nothing read at all to upload a form just completed.

use crate::harness::TestApp;
use serde_json::json;
use std::collections::BTreeSet;
use sync::webhooks::Targets;
use sync::workforce::Reason;

fn users(ids: &[i64]) -> Targets {
    Targets {
        users: ids.iter().copied().collect(),
        ..Targets::default()
    }
}

#[tokio::test]
async fn a_user_named_by_a_delivery_is_read_alone_and_updates_its_worker() {
    let app = TestApp::demo().await;
    app.sync().await;
    let pat = app.procore_user("Alvarez");
    app.ui_edit(
        &format!("users/{pat}"),
        Some(json!({"first_name": "Patricia"})),
    )
    .await;
    let from = app.sim().request_log().len();

    let report = app.sync_targets(&users(&[pat])).await;

    let paths: Vec<String> = app
        .requests_since(from)
        .into_iter()
        .map(|r| r.path)
        .collect();
    assert_eq!(
        paths,
        [format!("/rest/v1.3/companies/{}/users/{pat}", app.company)],
        "one read, no /me (known from the first sync), no list"
    );
    assert_eq!(
        app.worker_of(pat).await.unwrap().fields.first_name,
        "Patricia"
    );
    let changes: Vec<_> = report.plan.changes().collect();
    assert_eq!(changes.len(), 1, "{changes:?}");
    assert_eq!(*changes[0].reason(), Reason::WorkerDetailsChanged);
}

#[tokio::test]
async fn reading_the_same_user_again_changes_nothing_twice() {
    let app = TestApp::demo().await;
    app.sync().await;
    let pat = app.procore_user("Alvarez");
    app.ui_edit(
        &format!("users/{pat}"),
        Some(json!({"last_name": "Alvarez-Soto"})),
    )
    .await;
    let first = app.sync_targets(&users(&[pat])).await;
    let again = app.sync_targets(&users(&[pat])).await;
    assert_eq!(first.plan.changes().count(), 1);
    assert!(
        !again.plan.has_changes(),
        "{:?}",
        again.plan.changes().collect::<Vec<_>>()
    );
}

#[tokio::test]
async fn a_new_project_named_by_a_delivery_becomes_an_app_project() {
    let app = TestApp::demo().await;
    app.sync().await;
    app.ui_create(
        "projects",
        json!({"name": "Harbor Pier", "project_number": "HP-1"}),
    )
    .await;
    let id = app.procore_project("Harbor Pier");
    app.sync_targets(&Targets {
        projects: BTreeSet::from([id]),
        ..Targets::default()
    })
    .await;
    let project = app.project_of(id).await.expect("created");
    assert_eq!(project.fields.name, "Harbor Pier");
}

#[tokio::test]
async fn a_record_procore_no_longer_has_is_skipped_and_the_others_go_on() {
    let app = TestApp::demo().await;
    app.sync().await;
    let pat = app.procore_user("Alvarez");
    app.ui_edit(
        &format!("users/{pat}"),
        Some(json!({"first_name": "Patricia"})),
    )
    .await;
    let report = app.sync_targets(&users(&[999_999_999, pat])).await;
    assert_eq!(report.plan.changes().count(), 1);
    assert_eq!(
        app.worker_of(pat).await.unwrap().fields.first_name,
        "Patricia"
    );
}

#[tokio::test]
async fn a_form_completed_since_is_uploaded_with_no_procore_read_but_the_upload() {
    let app = TestApp::demo_with(|c| c.sync_forms = true).await;
    app.sync().await;
    let project = app.procore_project("Harbor Tower");
    let local = app.project_of(project).await.unwrap().id;
    app.complete_form(local, "Toolbox Talk", "2026-11-20").await;
    let from = app.sim().request_log().len();

    let report = app.sync_targets(&Targets::default()).await;

    assert_eq!(report.summary.forms_uploaded, 1, "{:?}", report.failures);
    assert_eq!(app.documents(project).len(), 1);
    let requests = app.requests_since(from);
    assert!(
        requests.iter().all(|r| !r.path.ends_with("/me")
            && !r.path.ends_with("/users")
            && r.path != "/rest/v1.1/projects"),
        "no list and no /me: {:?}",
        requests.iter().map(|r| &r.path).collect::<Vec<_>>()
    );
}
