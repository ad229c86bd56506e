//! Malformed Procore data: the one bad record is skipped with its reason in the run log, and
//! the rest of the sync goes on.

use crate::harness::{client_for, Front, RawRewrite, Rewrite, TestApp};
use std::sync::Arc;
use store::SubjectKind;
use sync::workforce::Reason;

#[tokio::test]
async fn a_project_with_no_name_is_skipped_with_its_reason_and_the_rest_of_the_sync_goes_on() {
    let app = TestApp::demo().await;
    let harbor = app.procore_project("Harbor Tower");
    app.sim().write(|w| {
        w.projects.get_mut(&harbor).unwrap().name = "   ".into();
    });
    let report = app.sync().await;

    assert!(app.project_of(harbor).await.is_none());
    assert_eq!(report.summary.projects_created, 3, "the other projects");
    assert!(app
        .project_of(app.procore_project("Riverside Clinic"))
        .await
        .is_some());
    assert!(report.summary.workers_created > 0, "users still sync");
    let entry = &app
        .store
        .history(app.company, SubjectKind::ProcoreProject, harbor)
        .await
        .unwrap()[0]
        .entry;
    assert_eq!(entry.outcome, "skipped");
    assert!(
        entry.reason.contains("the project has no name"),
        "{}",
        entry.reason
    );
    let runs = app.store.run_entries(report.run).await.unwrap();
    assert!(runs
        .iter()
        .any(|e| e.entry.procore_id == Some(harbor) && e.entry.action == "skip"));
}

#[tokio::test]
async fn a_user_with_a_wrong_typed_field_is_skipped_with_its_reason_and_the_rest_of_the_sync_goes_on(
) {
    let app = TestApp::demo().await;
    let pat = app.procore_user("Alvarez");
    let users_path = format!("/rest/v1.3/companies/{}/users", app.company);
    let front = Front::spawn(
        app.sim(),
        Arc::new(move |req, _sim| {
            req.uri().path().ends_with(&users_path).then(|| -> Rewrite {
                Box::new(move |body| {
                    for u in body.as_array_mut().unwrap() {
                        if u["id"] == pat {
                            u["is_employee"] = "yes".into();
                        }
                    }
                })
            })
        }),
    )
    .await;
    let report = app.sync_through(&client_for(&front.url), false).await;

    assert!(app.worker_of(pat).await.is_none());
    assert!(
        app.worker_of(app.procore_user("Okafor")).await.is_some(),
        "the rest of the page still syncs"
    );
    let skip = report
        .plan
        .actions
        .iter()
        .find(|a| a.subject().1 == Some(pat))
        .expect("the bad user is in the plan");
    assert!(
        matches!(skip.reason(), Reason::Malformed { problem } if problem.contains("invalid type")),
        "{skip:?}"
    );
    let reason = app.latest_reason(SubjectKind::ProcoreUser, pat).await;
    assert!(
        reason.starts_with("skipped: Procore sent a record trestle cannot use"),
        "{reason}"
    );
}

#[tokio::test]
async fn a_user_with_neither_first_nor_last_name_is_skipped_and_the_rest_still_syncs() {
    let app = TestApp::demo().await;
    let bea = app.procore_user("Okafor");
    app.sim().write(|w| {
        let u = w.users.get_mut(&bea).unwrap();
        u.first_name = None;
        u.last_name = Some(String::new());
    });
    let report = app.sync().await;
    assert!(app.worker_of(bea).await.is_none());
    assert!(app.worker_of(app.procore_user("Alvarez")).await.is_some());
    assert!(report.summary.skipped > 0);
    assert!(app
        .latest_reason(SubjectKind::ProcoreUser, bea)
        .await
        .contains("neither a first nor a last name"));
}

#[tokio::test]
async fn one_invalid_utf8_byte_in_one_record_affects_only_that_record_and_the_sync_succeeds() {
    let app = TestApp::demo().await;
    let pat = app.procore_user("Alvarez");
    app.sim().write(|w| {
        w.users.get_mut(&pat).unwrap().last_name = Some("AlvXBADXarez".into());
    });
    // Whatever version of the users list the sync reads.
    let users_path = format!("/companies/{}/users", app.company);
    let front = Front::spawn_raw(
        app.sim(),
        Arc::new(move |req, _sim| {
            req.uri()
                .path()
                .ends_with(&users_path)
                .then(|| -> RawRewrite {
                    Box::new(|bytes| {
                        // An incremental read may not carry the record at all.
                        let Some(text) = bytes.windows(5).position(|w| w == b"XBADX") else {
                            return bytes;
                        };
                        let mut out = bytes[..text].to_vec();
                        out.extend_from_slice(b"\xff\xfe");
                        out.extend_from_slice(&bytes[text + 5..]);
                        out
                    })
                })
        }),
    )
    .await;
    let client = client_for(&front.url);
    for run in 0..2 {
        // The sync succeeds (today: the page fails to decode, every run).
        app.sync_through(&client, false).await;
        assert!(
            app.worker_of(app.procore_user("Okafor")).await.is_some(),
            "run {run}: the rest of the page syncs"
        );
    }
    let worker = app.worker_of(pat).await.expect("the record itself is kept");
    assert_eq!(
        worker.fields.last_name, "Alv\u{fffd}\u{fffd}arez",
        "the bad bytes become replacement characters"
    );
}

#[tokio::test]
async fn a_user_whose_name_parts_are_null_is_named_from_the_full_name() {
    let app = TestApp::demo().await;
    let pat = app.procore_user("Alvarez");
    let users_path = format!("/rest/v1.3/companies/{}/users", app.company);
    let front = Front::spawn(
        app.sim(),
        Arc::new(move |req, _sim| {
            req.uri().path().ends_with(&users_path).then(|| -> Rewrite {
                Box::new(move |body| {
                    for u in body.as_array_mut().unwrap() {
                        if u["id"] == pat {
                            u["first_name"] = serde_json::Value::Null;
                            u["last_name"] = serde_json::Value::Null;
                            u["name"] = "Pat Maria Alvarez".into();
                        }
                    }
                })
            })
        }),
    )
    .await;
    app.sync_through(&client_for(&front.url), false).await;
    let worker = app.worker_of(pat).await.expect("the user is synced");
    assert_eq!(worker.fields.first_name, "Pat Maria");
    assert_eq!(worker.fields.last_name, "Alvarez");
}
