use crate::App;
use reqwest::{Method, StatusCode};

#[tokio::test]
async fn a_connection_shows_what_is_wrong_and_what_fixes_it() {
    let app = App::start().await;
    let all = app
        .get(
            "/api/v1/connections",
            "/api/v1/connections",
            Some(&app.admin),
        )
        .await;
    assert_eq!(all.status, StatusCode::OK);
    assert_eq!(all.body[0]["company_id"], app.kit.company);
    assert_eq!(all.body[0]["state"], "ok");
    assert_eq!(
        all.body[0]["webhook"]["wanted_url"],
        serde_json::Value::Null
    );

    app.kit
        .store
        .set_health(
            app.kit.company,
            "credentials",
            store::HealthState::Failing,
            "Procore refused the app credentials",
            "Check the client id and secret of the Procore app",
            chrono::Utc::now(),
        )
        .await
        .unwrap();
    let all = app
        .get(
            "/api/v1/connections",
            "/api/v1/connections",
            Some(&app.admin),
        )
        .await;
    assert_eq!(all.body[0]["state"], "failing");
    assert_eq!(all.body[0]["problems"][0]["aspect"], "credentials");
    assert!(all.body[0]["problems"][0]["remedy"]
        .as_str()
        .unwrap()
        .contains("client id"));
}

#[tokio::test]
async fn a_connection_request_names_each_wrong_field_and_a_check_only_saves_nothing() {
    let app = App::fresh().await;
    let post = |body: serde_json::Value| {
        let app = &app;
        async move {
            app.call(
                reqwest::Method::POST,
                "/api/v1/connections",
                "/api/v1/connections",
                Some(&app.admin),
                Some(body),
            )
            .await
        }
    };
    let blank =
        post(serde_json::json!({"company_id": 0, "client_id": " ", "client_secret": "x"})).await;
    assert_eq!(blank.status, StatusCode::UNPROCESSABLE_ENTITY);
    let fields: Vec<&str> = blank.body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["client_id", "company_id"]);
    let elsewhere = post(
        serde_json::json!({"company_id": 4242, "client_id": procore_sim::demo::CLIENT_ID,
        "client_secret": procore_sim::demo::CLIENT_SECRET}),
    )
    .await;
    assert_eq!(
        elsewhere.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        elsewhere.body
    );
    assert_eq!(elsewhere.body["errors"][0]["field"], "company_id");
    assert!(elsewhere.body["detail"]
        .as_str()
        .unwrap()
        .contains("Company ID"));

    let checked = post(
        serde_json::json!({"company_id": app.kit.company, "client_id": procore_sim::demo::CLIENT_ID,
        "client_secret": procore_sim::demo::CLIENT_SECRET, "check_only": true}),
    )
    .await;
    assert_eq!(
        checked.status,
        StatusCode::OK,
        "a check makes nothing: {}",
        checked.body
    );
    assert_eq!(checked.body["saved"], false);
    assert!(app
        .kit
        .store
        .connection(app.kit.company)
        .await
        .unwrap()
        .is_none());
}

#[tokio::test]
async fn an_admin_changes_a_connected_companys_toggles_and_an_empty_folder_name_is_refused() {
    let app = App::start().await;
    let path = format!("/api/v1/connections/{}", app.kit.company);
    let patch = |body: serde_json::Value| {
        let (app, path) = (&app, &path);
        async move {
            app.call(
                reqwest::Method::PATCH,
                path,
                "/api/v1/connections/{company_id}",
                Some(&app.admin),
                Some(body),
            )
            .await
        }
    };
    let changed =
        patch(serde_json::json!({"sync_forms": true, "forms_folder": "Safety Forms"})).await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.body);
    assert_eq!(changed.body["sync_forms"], true);
    let saved = app
        .kit
        .store
        .connection(app.kit.company)
        .await
        .unwrap()
        .unwrap();
    assert!(saved.sync_forms);
    assert_eq!(saved.forms_folder, "Safety Forms");
    let empty = patch(serde_json::json!({"forms_folder": "  "})).await;
    assert_eq!(empty.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(empty.body["errors"][0]["field"], "forms_folder");
    let unknown = app
        .call(
            reqwest::Method::PATCH,
            "/api/v1/connections/77",
            "/api/v1/connections/{company_id}",
            Some(&app.admin),
            Some(serde_json::json!({"sync_forms": false})),
        )
        .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    let reader = app.token("auditor", store::ApiScope::ReadOnly).await;
    let refused = app
        .call(
            reqwest::Method::PATCH,
            &path,
            "/api/v1/connections/{company_id}",
            Some(&reader),
            Some(serde_json::json!({"sync_forms": false})),
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn a_connection_is_shown_with_its_settings_etag_and_a_change_on_a_stale_one_is_refused() {
    let app = App::start().await;
    let path = format!("/api/v1/connections/{}", app.kit.company);
    let template = "/api/v1/connections/{company_id}";
    let shown = app.get(&path, template, Some(&app.admin)).await;
    assert_eq!(shown.status, StatusCode::OK, "{}", shown.body);
    assert_eq!(shown.body["settings"]["forms_folder"], "Corfix Forms");
    let tag = shown.headers["etag"].to_str().unwrap().to_string();

    let changed = app
        .call_with(
            reqwest::Method::PATCH,
            &path,
            template,
            Some(&app.admin),
            &[("If-Match", &tag)],
            Some(serde_json::json!({"auto_activate_workers": true})),
        )
        .await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.body);
    // Another admin's screen still holds the first tag: its change is refused, nothing saved.
    let stale = app
        .call_with(
            reqwest::Method::PATCH,
            &path,
            template,
            Some(&app.admin),
            &[("If-Match", &tag)],
            Some(serde_json::json!({"auto_activate_workers": false})),
        )
        .await;
    assert_eq!(
        stale.status,
        StatusCode::PRECONDITION_FAILED,
        "{}",
        stale.body
    );
    assert!(stale.body["detail"]
        .as_str()
        .unwrap()
        .contains("read it again"));
    let now = app.get(&path, template, Some(&app.admin)).await;
    assert_eq!(now.body["settings"]["auto_activate_workers"], true);
    assert_ne!(now.headers["etag"].to_str().unwrap(), tag);
    let unknown = app
        .get("/api/v1/connections/77", template, Some(&app.admin))
        .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn toggles_changed_at_the_same_moment_without_if_match_are_all_kept() {
    let app = App::start().await;
    let path = format!("/api/v1/connections/{}", app.kit.company);
    let template = "/api/v1/connections/{company_id}";
    let before = app.get(&path, template, Some(&app.admin)).await.body["settings"].clone();
    let toggles = ["sync_employees_only", "auto_activate_workers", "sync_forms"];
    let answers = futures::future::join_all(toggles.iter().map(|t| {
        app.call(
            reqwest::Method::PATCH,
            &path,
            template,
            Some(&app.admin),
            Some(serde_json::json!({ *t: !before[*t].as_bool().unwrap() })),
        )
    }))
    .await;
    for a in &answers {
        assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    }
    let after = app.get(&path, template, Some(&app.admin)).await.body["settings"].clone();
    for t in toggles {
        assert_ne!(after[t], before[t], "{t} was overwritten: {after}");
    }
}

const PATIENCE: std::time::Duration = std::time::Duration::from_secs(30);

/// trestle's hooks in the simulated company, by where they deliver.
fn trestle_hooks(app: &App) -> Vec<String> {
    app.kit.sim().read(|w| {
        w.hooks
            .values()
            .filter(|h| h.namespace.as_deref() == Some("trestle"))
            .map(|h| h.destination_url.clone())
            .collect()
    })
}

#[tokio::test]
async fn an_admin_repairs_a_companys_webhook_that_was_removed_in_procore_and_is_told_when_none_is_wanted(
) {
    let public = "http://127.0.0.1:9";
    let app = App::reached_at(public).await;
    let company = app.kit.company;
    let repair = format!("/api/v1/connections/{company}/webhook/repair");
    let template = "/api/v1/connections/{company_id}/webhook/repair";
    let wanted = format!("{public}/webhooks/procore/{company}");

    // The server registers the hook as it starts; then someone deletes it in Procore, and the
    // repair puts it back where it should deliver.
    let shown = format!("/api/v1/connections/{company}");
    crate::eventually(PATIENCE, "the hook registered at start", || async {
        let c = app
            .get(&shown, "/api/v1/connections/{company_id}", Some(&app.admin))
            .await;
        (c.body["webhook"]["in_place"] == true && trestle_hooks(&app) == [wanted.clone()])
            .then_some(())
    })
    .await;
    let store = &app.kit.store;
    let all_jobs = store::JobFilter {
        company: Some(company),
        ..Default::default()
    };
    crate::eventually(PATIENCE, "the start-up work done", || async {
        let jobs = store.jobs(&all_jobs).await.unwrap();
        let busy = jobs
            .iter()
            .any(|j| matches!(j.state, store::JobState::Pending | store::JobState::Running));
        (!busy).then_some(())
    })
    .await;
    let before = chrono::Utc::now();
    app.kit.sim().write(|w| w.hooks.clear());
    let key: &[(&str, &str)] = &[("Idempotency-Key", "repair-once")];
    let repaired = app
        .call_with(Method::POST, &repair, template, Some(&app.admin), key, None)
        .await;
    assert_eq!(repaired.status, StatusCode::OK, "{}", repaired.body);
    assert_eq!(repaired.body["destination_url"], wanted);
    assert_eq!(repaired.body["repaired"], true);
    assert_eq!(repaired.body["created"], true);
    assert_eq!(trestle_hooks(&app), std::slice::from_ref(&wanted));
    // The hook delivered nothing while it was gone: a sync reads what changed meanwhile.
    let queued: Vec<String> = store
        .jobs(&all_jobs)
        .await
        .unwrap()
        .into_iter()
        .filter(|j| j.created_at >= before)
        .map(|j| j.kind)
        .collect();
    assert!(
        queued.iter().any(|k| k == "sync.workforce.changes"),
        "{queued:?}"
    );
    let shown = app
        .get(&shown, "/api/v1/connections/{company_id}", Some(&app.admin))
        .await;
    assert_eq!(
        shown.body["webhook"]["registered_url"], wanted,
        "{}",
        shown.body
    );
    assert_eq!(shown.body["webhook"]["in_place"], true, "{}", shown.body);

    // Asked again, nothing needs to change.
    let again = app
        .call(Method::POST, &repair, template, Some(&app.admin), None)
        .await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.body);
    assert_eq!(again.body["repaired"], false, "{}", again.body);
    assert_eq!(trestle_hooks(&app).len(), 1);
    // The first repair sent again with its key: its own answer, nothing done again.
    app.call_with(Method::POST, &repair, template, Some(&app.admin), key, None)
        .await
        .assert_replays(&repaired);
    assert_eq!(trestle_hooks(&app).len(), 1);

    // Two repairs at once make one hook, not two.
    app.kit.sim().write(|w| w.hooks.clear());
    let (a, b) = tokio::join!(
        app.call(Method::POST, &repair, template, Some(&app.admin), None),
        app.call(Method::POST, &repair, template, Some(&app.admin), None),
    );
    assert_eq!((a.status, b.status), (StatusCode::OK, StatusCode::OK));
    assert_eq!(trestle_hooks(&app).len(), 1, "{} {}", a.body, b.body);
    let created = [&a, &b]
        .iter()
        .filter(|r| r.body["created"] == true)
        .count();
    assert_eq!(created, 1, "{} {}", a.body, b.body);

    // A company not connected, and a reader, are refused.
    let unknown = app
        .call(
            Method::POST,
            "/api/v1/connections/12/webhook/repair",
            template,
            Some(&app.admin),
            None,
        )
        .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND, "{}", unknown.body);
    let reader = app.token("reader", store::ApiScope::ReadOnly).await;
    let refused = app
        .call(Method::POST, &repair, template, Some(&reader), None)
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);

    // Without server.public_url there is nowhere for Procore to deliver: the answer says so.
    let unreached = App::start().await;
    let none = unreached
        .call(
            Method::POST,
            &format!(
                "/api/v1/connections/{}/webhook/repair",
                unreached.kit.company
            ),
            template,
            Some(&unreached.admin),
            None,
        )
        .await;
    assert_eq!(none.status, StatusCode::CONFLICT, "{}", none.body);
    assert!(
        none.body["detail"]
            .as_str()
            .unwrap()
            .contains("server.public_url"),
        "{}",
        none.body
    );
}
