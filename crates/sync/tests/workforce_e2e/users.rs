//! The initial sync's user rules: the field mapping, the clash and service-account skips, and
//! the two toggles that decide which users become workers and in what state.

use crate::harness::TestApp;
use domain::workforce::{Activation, WorkerFields};
use procore_sim::demo;
use store::SubjectKind;

#[tokio::test]
async fn users_map_to_workers_with_the_business_phone_when_there_is_no_mobile_phone() {
    let app = TestApp::demo().await;
    app.sync().await;

    let pat = app.worker_of(app.procore_user("Alvarez")).await.unwrap();
    assert_eq!(
        pat.fields,
        WorkerFields {
            first_name: "Pat".into(),
            last_name: "Alvarez".into(),
            phone: Some("+1 555 0100".into()),
            employee_number: Some("E-0001".into()),
            email: Some("pat.alvarez@granitepeak.example".into()),
        },
        "the mobile phone wins over the business phone"
    );
    let bea = app.worker_of(app.procore_user("Okafor")).await.unwrap();
    assert_eq!(
        bea.fields.phone.as_deref(),
        Some("+1 555 0120"),
        "no mobile phone: the business phone"
    );
    let nico = app.worker_of(app.procore_user("Sandoval")).await.unwrap();
    assert_eq!(nico.fields.email, None, "a user with no email still syncs");
}

#[tokio::test]
async fn a_user_whose_email_matches_an_unlinked_worker_is_not_synced() {
    let app = TestApp::demo().await;
    let existing = app
        .store
        .create_worker(
            app.company,
            &WorkerFields {
                first_name: "M.".into(),
                last_name: "Lee".into(),
                email: Some("  Morgan.Lee@GranitePeak.example ".into()),
                ..Default::default()
            },
            Activation::Active,
            false,
        )
        .await
        .unwrap();
    app.sync().await;

    let morgan = app.procore_user("Lee");
    assert!(app.worker_of(morgan).await.is_none());
    let names = app.worker_names().await;
    assert_eq!(
        names.iter().filter(|n| n.ends_with("Lee")).count(),
        1,
        "{names:?}"
    );
    assert_eq!(
        app.store
            .worker(app.company, existing)
            .await
            .unwrap()
            .unwrap()
            .fields
            .first_name,
        "M.",
        "the app's worker is left as it was"
    );
    let reason = app.latest_reason(SubjectKind::ProcoreUser, morgan).await;
    assert!(
        reason.contains(&format!("worker {existing} already has this email")),
        "{reason}"
    );
}

#[tokio::test]
async fn the_service_account_is_never_synced_and_inactive_users_are_never_created() {
    let app = TestApp::demo().await;
    app.sync().await;
    let service = app
        .sim()
        .read(|w| w.apps[demo::CLIENT_ID].installations[&demo::COMPANY_ID].service_user_id);
    assert!(app.worker_of(service).await.is_none());
    assert!(app
        .latest_reason(SubjectKind::ProcoreUser, service)
        .await
        .contains("service account"));
    let names = app.worker_names().await;
    assert!(
        !names.iter().any(|n| n == "Trestle Service Account"),
        "{names:?}"
    );
    for inactive in ["Nakamura", "Brooks", "Duarte"] {
        let id = app.procore_user(inactive);
        assert!(app.worker_of(id).await.is_none(), "{inactive} was created");
        assert!(app
            .latest_reason(SubjectKind::ProcoreUser, id)
            .await
            .contains("inactive users are never created"));
    }
    assert!(
        app.worker_of(app.procore_user("Harper")).await.is_some(),
        "with Sync Employees Only off a non-employee is synced"
    );
}

#[tokio::test]
async fn with_sync_employees_only_on_only_users_marked_as_employees_become_workers() {
    let app = TestApp::demo_with(|c| c.sync_employees_only = true).await;
    app.sync().await;
    let mut names = app.worker_names().await;
    names.sort();
    assert_eq!(
        names,
        vec!["Bea Okafor", "Morgan Lee", "Nico Sandoval", "Pat Alvarez"],
        "the active employees, and nobody else"
    );
    let quinn = app.procore_user("Harper");
    assert!(app
        .latest_reason(SubjectKind::ProcoreUser, quinn)
        .await
        .contains("Sync Employees Only"));
}

#[tokio::test]
async fn new_workers_wait_in_pending_account_activation_unless_automatic_activation_is_on() {
    let app = TestApp::demo().await;
    app.sync().await;
    let workers = app.store.workers(app.company).await.unwrap();
    assert!(!workers.is_empty());
    assert!(workers
        .iter()
        .all(|w| w.activation == Activation::PendingAccountActivation && !w.blocked));

    let app = TestApp::demo_with(|c| c.auto_activate_workers = true).await;
    app.sync().await;
    let pat = app.worker_of(app.procore_user("Alvarez")).await.unwrap();
    assert_eq!(
        pat.activation,
        Activation::PendingEmailVerification,
        "activated with an email: an invitation goes out"
    );
    let nico = app.worker_of(app.procore_user("Sandoval")).await.unwrap();
    assert_eq!(
        nico.activation,
        Activation::ActiveForKiosk,
        "activated without an email: kiosk only"
    );
}

#[tokio::test]
async fn turning_sync_employees_only_on_blocks_every_non_employee_at_the_next_sync_and_says_why() {
    let mut app = TestApp::demo().await;
    app.sync().await;
    let quinn = app.procore_user("Harper");
    assert!(!app.worker_of(quinn).await.unwrap().blocked);

    app.set(|c| c.sync_employees_only = true).await;
    app.sync().await;
    assert!(
        app.worker_of(quinn).await.unwrap().blocked,
        "blocked at the first sync after the change, though Procore never changed the user"
    );
    let reason = app.latest_reason(SubjectKind::ProcoreUser, quinn).await;
    assert!(
        reason.contains("Sync Employees Only was turned on"),
        "the reason names the setting: {reason}"
    );
    let alice = app.procore_user("Voltaire");
    assert!(
        app.worker_of(alice).await.unwrap().blocked,
        "every non-employee, vendor contacts too"
    );

    // A later, unrelated edit in Procore does not claim the employee flag was removed.
    app.ui_edit(
        &format!("users/{quinn}"),
        Some(serde_json::json!({"mobile_phone": "+1 555 0199"})),
    )
    .await;
    let report = app.sync().await;
    let reason = app.latest_reason(SubjectKind::ProcoreUser, quinn).await;
    assert!(!reason.contains("no longer marked"), "{reason}");
    assert!(app.worker_of(quinn).await.unwrap().blocked);
    assert!(
        report
            .plan
            .changes()
            .all(|a| a.subject() == (sync::workforce::input::RecordKind::User, Some(quinn))),
        "only the edited user changes: {:?}",
        report.plan.actions
    );
}

#[tokio::test]
async fn turning_sync_employees_only_off_unblocks_and_creates_non_employees_at_the_next_sync() {
    let mut app = TestApp::demo().await;
    app.sync().await;
    let quinn = app.procore_user("Harper");
    app.set(|c| c.sync_employees_only = true).await;
    app.sync().await;
    assert!(app.worker_of(quinn).await.unwrap().blocked);
    // A non-employee who joins while the setting is on is not created.
    app.ui_create(
        "users",
        serde_json::json!({"first_name": "Gale", "last_name": "Storm", "email_address": "gale@consultant.example", "is_employee": false}),
    )
    .await;
    app.sync().await;
    let gale = app.procore_user("Storm");
    assert!(app.worker_of(gale).await.is_none());

    app.set(|c| c.sync_employees_only = false).await;
    app.sync().await;
    assert!(
        !app.worker_of(quinn).await.unwrap().blocked,
        "unblocked without a --full sync"
    );
    let reason = app.latest_reason(SubjectKind::ProcoreUser, quinn).await;
    assert!(
        reason.contains("Sync Employees Only was turned off"),
        "the reason names the setting: {reason}"
    );
    assert!(
        app.worker_of(gale).await.is_some(),
        "the non-employee Procore never changed again is created"
    );
}

#[tokio::test]
async fn no_apps_service_account_becomes_a_worker() {
    let app = TestApp::demo().await;
    app.sync().await;
    // The demo company has a second app installed, "Trestle Web", with its own service account.
    let web = app.sim().read(|w| {
        w.apps[demo::USER_APP_CLIENT_ID].installations[&demo::COMPANY_ID].service_user_id
    });
    assert!(app.worker_of(web).await.is_none());
    let names = app.worker_names().await;
    assert!(
        !names.iter().any(|n| n.ends_with("Service Account")),
        "{names:?}"
    );
    let reason = app.latest_reason(SubjectKind::ProcoreUser, web).await;
    assert!(
        reason.contains("Procore marks the user as a service account"),
        "{reason}"
    );
}

/// Whether the sync since `from` read the active users whole (no `updated_at` filter).
fn read_users_whole(app: &TestApp, from: usize) -> bool {
    let path = format!("/rest/v1.3/companies/{}/users", app.company);
    app.requests_since(from)
        .iter()
        .filter(|r| r.path == path)
        .all(|r| {
            !r.query
                .as_deref()
                .unwrap_or_default()
                .contains("updated_at")
        })
}

#[tokio::test]
async fn a_sync_employees_only_change_reads_the_users_whole_once_and_other_toggles_never() {
    let mut app = TestApp::demo().await;
    app.sync().await;

    app.set(|c| c.auto_activate_workers = true).await;
    let from = app.sim().request_log().len();
    let report = app.sync().await;
    assert!(
        !read_users_whole(&app, from),
        "Automatically Activate Workers decides only about new workers"
    );
    assert!(
        !report.plan.has_changes(),
        "existing workers keep their state: {:?}",
        report.plan.actions
    );

    app.set(|c| c.sync_employees_only = true).await;
    let from = app.sim().request_log().len();
    app.sync().await;
    assert!(read_users_whole(&app, from), "the sync after the change");
    let from = app.sim().request_log().len();
    app.sync().await;
    assert!(!read_users_whole(&app, from), "and only that one");
}

#[tokio::test]
async fn a_dry_run_after_a_setting_change_previews_it_and_the_next_sync_still_applies_it() {
    let mut app = TestApp::demo().await;
    app.sync().await;
    let quinn = app.procore_user("Harper");
    app.set(|c| c.sync_employees_only = true).await;
    let preview = app.sync_dry().await;
    assert!(
        preview.plan.actions.iter().any(|a| a.subject()
            == (sync::workforce::input::RecordKind::User, Some(quinn))
            && *a.reason() == sync::workforce::Reason::SyncEmployeesOnlyTurnedOnBlocked),
        "{:?}",
        preview.plan.actions
    );
    assert!(
        !app.worker_of(quinn).await.unwrap().blocked,
        "a dry run changes nothing"
    );
    app.sync().await;
    assert!(app.worker_of(quinn).await.unwrap().blocked);
}
