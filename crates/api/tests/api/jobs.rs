use crate::{eventually, App};
use reqwest::{Method, StatusCode};
use std::time::Duration;
use sync::jobs::{enqueue, Integration, Work};

/// The jobs in `state` as the API lists them.
async fn jobs_in(app: &App, state: &str) -> Vec<serde_json::Value> {
    let answer = app
        .call(
            Method::GET,
            &format!("/api/v1/jobs?state={state}&company_id={}", app.kit.company),
            "/api/v1/jobs",
            Some(&app.admin),
            None,
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK);
    answer.body.as_array().unwrap().clone()
}

#[tokio::test]
async fn work_that_died_on_a_refused_secret_is_retried_by_an_admin_once_the_secret_is_fixed() {
    let app = App::start().await;
    let mut wrong = testkit::demo_connection();
    wrong.client_secret = "not-the-secret".to_string().into();
    app.kit.store.save_connection(&wrong, None).await.unwrap();
    let sync = Work::Sync {
        integration: Integration::Workforce,
        full: true,
        targets: None,
    };
    let job = enqueue(
        &app.kit.store,
        app.kit.company,
        &sync,
        chrono::Utc::now(),
        1,
    )
    .await
    .unwrap()
    .id();
    let dead = eventually(Duration::from_secs(30), "the sync dies", || async {
        jobs_in(&app, "dead")
            .await
            .into_iter()
            .find(|j| j["id"] == job)
    })
    .await;
    assert!(
        dead["last_error"]
            .as_str()
            .unwrap()
            .contains("refused the app credentials"),
        "{dead}"
    );

    app.kit
        .store
        .save_connection(&testkit::demo_connection(), None)
        .await
        .unwrap();
    let path = format!("/api/v1/jobs/{job}/retry");
    let retry = |key: &'static [(&'static str, &'static str)]| {
        app.call_with(
            Method::POST,
            &path,
            "/api/v1/jobs/{id}/retry",
            Some(&app.admin),
            key,
            None,
        )
    };
    let key: &[(&str, &str)] = &[("Idempotency-Key", "retry-the-dead-sync")];
    let retried = retry(key).await;
    assert_eq!(retried.status, StatusCode::OK, "{}", retried.body);
    assert_eq!(retried.body["job"]["state"], "dead", "as it was");
    eventually(
        Duration::from_secs(30),
        "the retried sync is done",
        || async {
            jobs_in(&app, "done")
                .await
                .into_iter()
                .find(|j| j["id"] == job)
        },
    )
    .await;

    // Sent again with its key (a lost answer): the first answer, and the job is not run again.
    retry(key).await.assert_replays(&retried);
    assert!(jobs_in(&app, "done").await.iter().any(|j| j["id"] == job));
    let done_again = retry(&[]).await;
    assert_eq!(done_again.status, StatusCode::CONFLICT);
    let unknown = app
        .call(
            Method::POST,
            "/api/v1/jobs/999999/retry",
            "/api/v1/jobs/{id}/retry",
            Some(&app.admin),
            None,
        )
        .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_job_list_asked_for_wrongly_names_the_field() {
    let app = App::start().await;
    for (query, field) in [
        ("state=lost", "state"),
        ("limit=0", "limit"),
        ("limit=501", "limit"),
        ("limit=many", "query"),
    ] {
        let answer = app
            .get(
                &format!("/api/v1/jobs?{query}"),
                "/api/v1/jobs",
                Some(&app.admin),
            )
            .await;
        assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY, "{query}");
        assert_eq!(answer.body["errors"][0]["field"], field, "{query}");
    }
}

#[tokio::test]
async fn the_job_list_pages_to_its_last_job_by_its_link_headers() {
    let app = App::start().await;
    // Seven jobs of a company with no connection, due in a day so no worker takes them.
    let later = chrono::Utc::now() + chrono::Duration::days(1);
    let mut made = Vec::new();
    for i in 0..7 {
        let work = Work::Sync {
            integration: Integration::Workforce,
            full: false,
            targets: Some(sync::webhooks::Targets {
                users: [i].into(),
                ..Default::default()
            }),
        };
        made.push(
            enqueue(&app.kit.store, 555, &work, later, 1)
                .await
                .unwrap()
                .id(),
        );
    }
    let mut seen = Vec::new();
    let mut url = "/api/v1/jobs?limit=3&company_id=555".to_string();
    let mut pages = 0;
    loop {
        let page = app.get(&url, "/api/v1/jobs", Some(&app.admin)).await;
        assert_eq!(page.status, StatusCode::OK);
        pages += 1;
        seen.extend(
            page.body
                .as_array()
                .unwrap()
                .iter()
                .map(|j| j["id"].as_i64().unwrap()),
        );
        let Some(link) = page.headers.get("link") else {
            break;
        };
        let link = link.to_str().unwrap();
        assert!(link.ends_with("rel=\"next\""), "{link}");
        url = link[1..link.find('>').unwrap()].to_string();
    }
    made.reverse();
    assert_eq!(seen, made, "every job once, newest first");
    assert_eq!(pages, 3);
}

#[tokio::test]
async fn an_admin_discards_a_dead_job_and_a_done_one_cannot_be() {
    let app = App::start().await;
    let mut wrong = testkit::demo_connection();
    wrong.client_secret = "not-the-secret".to_string().into();
    app.kit.store.save_connection(&wrong, None).await.unwrap();
    let sync = Work::Sync {
        integration: Integration::Workforce,
        full: true,
        targets: None,
    };
    let job = enqueue(
        &app.kit.store,
        app.kit.company,
        &sync,
        chrono::Utc::now(),
        1,
    )
    .await
    .unwrap()
    .id();
    eventually(Duration::from_secs(30), "the sync dies", || async {
        jobs_in(&app, "dead")
            .await
            .into_iter()
            .find(|j| j["id"] == job)
    })
    .await;
    let template = "/api/v1/jobs/{id}/discard";
    let path = format!("/api/v1/jobs/{job}/discard");
    let discard = |key: &'static [(&'static str, &'static str)]| {
        app.call_with(Method::POST, &path, template, Some(&app.admin), key, None)
    };
    let key: &[(&str, &str)] = &[("Idempotency-Key", "discard-the-dead-sync")];
    let discarded = discard(key).await;
    assert_eq!(discarded.status, StatusCode::OK, "{}", discarded.body);
    assert!(jobs_in(&app, "dead").await.iter().all(|j| j["id"] != job));
    // Sent again with its key (a lost answer): the first answer, not "no such job".
    let replayed = discard(key).await;
    replayed.assert_replays(&discarded);
    let again = discard(&[]).await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);
}
