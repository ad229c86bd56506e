//! Completed forms into the project's Procore Documents: where they go, what they hold, how a
//! revision lands, and that no retry ever leaves two documents.

use crate::harness::{client_for, pdf_text, Front, TestApp};
use procore_sim::Faults;
use std::sync::Arc;
use store::SubjectKind;
use sync::workforce::upload::{described_marker, marker};

/// A synced demo company with Sync Forms on, and the Harbor Tower ids (Procore, app).
async fn with_forms() -> (TestApp, i64, i64) {
    let app = TestApp::demo_with(|c| c.sync_forms = true).await;
    app.sync().await;
    let procore = app.procore_project("Harbor Tower");
    let local = app.project_of(procore).await.unwrap().id;
    (app, procore, local)
}

#[tokio::test]
async fn a_completed_form_lands_as_a_pdf_in_the_month_folder_of_the_projects_documents() {
    let (app, procore, local) = with_forms().await;
    let form = app.complete_form(local, "Toolbox Talk", "2026-11-20").await;
    let report = app.sync().await;
    assert_eq!(report.summary.forms_uploaded, 1, "{:?}", report.failures);

    let docs = app.documents(procore);
    assert_eq!(docs.len(), 1, "{docs:?}");
    let doc = &docs[0];
    assert_eq!(doc.folder, "Corfix Forms/2026-11");
    assert_eq!(doc.name, "Toolbox Talk 2026-11-20.pdf");
    assert_eq!(
        doc.description.as_deref(),
        Some(described_marker(&marker(app.company, form), 1).as_str()),
        "the marker names the submission and the revision the document holds"
    );
    assert_eq!(doc.versions, 1);
    assert!(doc.latest.starts_with(b"%PDF"), "a PDF");
    let text = pdf_text(&doc.latest);
    for expected in [
        "Toolbox Talk",
        "Harbor Tower",
        "Ladder safety",
        "Bea Okafor",
    ] {
        assert!(text.contains(expected), "{expected:?} in {text:?}");
    }
    assert_eq!(
        app.store
            .uploaded_revision(app.company, form)
            .await
            .unwrap(),
        Some(1)
    );
    assert!(app
        .latest_reason(SubjectKind::Form, form)
        .await
        .contains("Corfix Forms/2026-11/Toolbox Talk 2026-11-20.pdf"));
}

#[tokio::test]
async fn an_existing_folder_whose_name_contains_corfix_forms_is_reused() {
    let (app, procore, local) = with_forms().await;
    let existing = app.sim().write(|w| {
        let root = w.root_folder_id(procore, chrono::Utc::now());
        let id = w.alloc_id();
        w.folders.insert(
            id,
            procore_sim::world::Folder {
                id,
                project_id: procore,
                parent_id: Some(root),
                name: "06 Corfix Forms".into(),
                ..Default::default()
            },
        );
        id
    });
    app.complete_form(local, "Toolbox Talk", "2026-11-20").await;
    app.sync().await;

    let docs = app.documents(procore);
    assert_eq!(docs.len(), 1);
    assert_eq!(docs[0].folder, "06 Corfix Forms/2026-11");
    assert!(
        app.sim().read(|w| !w
            .folders
            .values()
            .any(|f| f.project_id == procore && f.name == "Corfix Forms")),
        "no second forms folder"
    );
    let month_parent = app.sim().read(|w| {
        w.folders
            .values()
            .find(|f| f.project_id == procore && f.name == "2026-11")
            .and_then(|f| f.parent_id)
    });
    assert_eq!(month_parent, Some(existing));
}

#[tokio::test]
async fn a_revision_after_completion_adds_a_version_to_the_same_file() {
    let (app, procore, local) = with_forms().await;
    let form = app.complete_form(local, "Toolbox Talk", "2026-11-20").await;
    app.sync().await;
    let first = app.documents(procore);
    assert_eq!(app.revise_form(form).await, 2);
    let report = app.sync().await;
    assert_eq!(report.summary.forms_uploaded, 1);
    assert!(!report.uploads[0].new_document);

    let docs = app.documents(procore);
    assert_eq!(docs.len(), 1, "still one document: {docs:?}");
    assert_eq!(docs[0].id, first[0].id, "the same file");
    assert_eq!(docs[0].versions, 2);
    assert!(
        pdf_text(&docs[0].latest).contains("Morgan Lee"),
        "the new version holds the late signature"
    );
    assert_eq!(
        app.store
            .uploaded_revision(app.company, form)
            .await
            .unwrap(),
        Some(2)
    );
    // Nothing more to do afterwards.
    let report = app.sync().await;
    assert_eq!(report.summary.forms_queued, 0);
    assert_eq!(app.documents(procore)[0].versions, 2);
}

#[tokio::test]
async fn with_sync_forms_off_nothing_is_uploaded() {
    let mut app = TestApp::demo().await;
    app.sync().await;
    let procore = app.procore_project("Harbor Tower");
    let local = app.project_of(procore).await.unwrap().id;
    let form = app.complete_form(local, "Toolbox Talk", "2026-11-20").await;
    let from = app.sim().request_log().len();
    let report = app.sync().await;

    assert_eq!(report.summary.forms_queued, 0);
    assert!(app.documents(procore).is_empty());
    assert!(app.requests_since(from).iter().all(|r| r.method == "GET"));
    assert!(app
        .latest_reason(SubjectKind::Form, form)
        .await
        .contains("Sync Forms to Procore is off"));

    // Turning it on later uploads the form.
    app.set(|c| c.sync_forms = true).await;
    let report = app.sync().await;
    assert_eq!(report.summary.forms_uploaded, 1);
    assert_eq!(app.documents(procore).len(), 1);
}

#[tokio::test]
async fn a_lost_answer_to_the_file_create_never_leaves_two_documents() {
    let (app, procore, local) = with_forms().await;
    let form = app.complete_form(local, "Toolbox Talk", "2026-11-20").await;
    // Procore creates the file, and the answer is lost on the way back: exactly that request.
    let front = Front::spawn(
        app.sim(),
        Arc::new(|req, sim| {
            if req.method() == "POST" && req.uri().path() == "/rest/v1.0/files" {
                sim.set_faults(Faults {
                    drop_after_write_rate: 1.0,
                    ..Faults::default()
                });
            }
            None
        }),
    )
    .await;
    let from = app.sim().request_log().len();
    let report = app.sync_through(&client_for(&front.url), false).await;

    let dropped: Vec<_> = app
        .requests_since(from)
        .into_iter()
        .filter(|r| r.fault.as_deref() == Some("drop_after_write"))
        .collect();
    assert_eq!(dropped.len(), 1, "the fault hit once");
    assert_eq!(dropped[0].path, "/rest/v1.0/files");
    let docs = app.documents(procore);
    assert_eq!(docs.len(), 1, "one document: {docs:?}");
    assert_eq!(
        report.summary.forms_uploaded, 1,
        "the look-up after the lost answer found it: {:?}",
        report.failures
    );
    assert_eq!(
        app.store
            .link_by_local(app.company, store::LinkKind::FormDocument, form)
            .await
            .unwrap()
            .map(|l| l.procore_id),
        Some(docs[0].id)
    );
    // A later sync finds nothing left to do.
    app.sync().await;
    assert_eq!(app.documents(procore).len(), 1);
}

/// A front that answers 503 after Procore applied exactly the requests `hit` picks.
async fn error_after_write_on(app: &TestApp, hit: fn(&axum::extract::Request) -> bool) -> Front {
    Front::spawn(
        app.sim(),
        Arc::new(move |req, sim| {
            if hit(req) {
                sim.set_faults(Faults {
                    error_after_write_rate: 1.0,
                    ..Faults::default()
                });
            }
            None
        }),
    )
    .await
}

#[tokio::test]
async fn a_503_after_procore_created_the_file_never_leaves_two_documents() {
    let (app, procore, local) = with_forms().await;
    let form = app.complete_form(local, "Toolbox Talk", "2026-11-20").await;
    let front = error_after_write_on(&app, |req| {
        req.method() == "POST" && req.uri().path() == "/rest/v1.0/files"
    })
    .await;
    let from = app.sim().request_log().len();
    let report = app.sync_through(&client_for(&front.url), false).await;

    let requests = app.requests_since(from);
    let hit: Vec<_> = requests
        .iter()
        .filter(|r| r.fault.as_deref() == Some("error_after_write"))
        .collect();
    assert_eq!(hit.len(), 1, "the fault hit once");
    assert_eq!(hit[0].path, "/rest/v1.0/files");
    assert_eq!(
        requests
            .iter()
            .filter(|r| r.method == "POST" && r.path == "/rest/v1.0/files")
            .count(),
        1,
        "the create is not sent again blindly"
    );
    let docs = app.documents(procore);
    assert_eq!(docs.len(), 1, "one document: {docs:?}");
    assert_eq!(
        report.summary.forms_uploaded, 1,
        "the look-up after the 503 found it: {:?}",
        report.failures
    );
    assert_eq!(
        app.store
            .uploaded_revision(app.company, form)
            .await
            .unwrap(),
        Some(1)
    );
    app.sync().await;
    assert_eq!(app.documents(procore).len(), 1);
}

#[tokio::test]
async fn a_503_after_procore_added_the_version_never_leaves_two_versions() {
    let (app, procore, local) = with_forms().await;
    let form = app.complete_form(local, "Toolbox Talk", "2026-11-20").await;
    app.sync().await;
    assert_eq!(app.revise_form(form).await, 2);
    let front = error_after_write_on(&app, |req| {
        req.method() == "POST" && req.uri().path() == "/rest/v1.0/file_versions"
    })
    .await;
    let from = app.sim().request_log().len();
    let report = app.sync_through(&client_for(&front.url), false).await;

    let requests = app.requests_since(from);
    assert_eq!(
        requests
            .iter()
            .filter(|r| r.fault.as_deref() == Some("error_after_write"))
            .count(),
        1,
        "the fault hit once"
    );
    let docs = app.documents(procore);
    assert_eq!(docs.len(), 1, "{docs:?}");
    assert_eq!(docs[0].versions, 2, "one version per revision: {docs:?}");
    assert_eq!(report.summary.forms_uploaded, 1, "{:?}", report.failures);
    assert_eq!(
        app.store
            .uploaded_revision(app.company, form)
            .await
            .unwrap(),
        Some(2)
    );
}

#[tokio::test]
async fn a_503_after_procore_created_a_folder_never_leaves_two_folders() {
    let (app, procore, local) = with_forms().await;
    app.complete_form(local, "Toolbox Talk", "2026-11-20").await;
    let front = error_after_write_on(&app, |req| {
        req.method() == "POST" && req.uri().path() == "/rest/v1.0/folders"
    })
    .await;
    let from = app.sim().request_log().len();
    let report = app.sync_through(&client_for(&front.url), false).await;

    let requests = app.requests_since(from);
    let creates = requests
        .iter()
        .filter(|r| r.method == "POST" && r.path == "/rest/v1.0/folders")
        .count();
    assert!(
        requests
            .iter()
            .any(|r| r.fault.as_deref() == Some("error_after_write")),
        "the fault hit"
    );
    assert_eq!(
        creates, 2,
        "one create per folder (forms, month), neither sent again blindly"
    );
    assert_eq!(report.summary.forms_uploaded, 1, "{:?}", report.failures);
    let folders = app.sim().read(|w| {
        w.folders
            .values()
            .filter(|f| f.project_id == procore && !f.is_deleted)
            .map(|f| f.name.clone())
            .collect::<Vec<_>>()
    });
    for name in ["Corfix Forms", "2026-11"] {
        assert_eq!(
            folders.iter().filter(|n| *n == name).count(),
            1,
            "one {name} folder ({creates} creates sent): {folders:?}"
        );
    }
}
