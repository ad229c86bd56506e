//! The probes an operator's monitoring reads.

use crate::harness::App;

#[tokio::test]
async fn healthz_says_alive_and_readyz_says_the_store_is_ready() {
    let app = App::start().await;
    let http = reqwest::Client::new();
    let health = http
        .get(format!("{}/healthz", app.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
    let ready = http
        .get(format!("{}/readyz", app.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(ready.status(), 200);
    let body: serde_json::Value = ready.json().await.unwrap();
    assert_eq!(body["status"], "ready");
    app.stop().await;
}

#[tokio::test]
async fn metrics_count_deliveries_and_jobs_in_prometheus_text() {
    let app = App::start().await;
    let pat = app.kit.procore_user("Alvarez");
    app.kit
        .ui_edit(
            &format!("users/{pat}"),
            Some(serde_json::json!({"first_name": "Pat"})),
        )
        .await;
    let text =
        crate::harness::eventually(crate::harness::PATIENCE, "a delivery counted", || async {
            let text = reqwest::get(format!("{}/metrics", app.url()))
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            text.contains("trestle_webhook_deliveries_total{outcome=\"accepted\"}")
                .then_some(text)
        })
        .await;
    assert!(text.contains("trestle_jobs{"), "{text}");
    assert!(
        text.contains("# TYPE trestle_job_duration_seconds histogram"),
        "{text}"
    );
    app.stop().await;
}

/// The value of the metric line that starts with `series` (name and labels).
fn metric(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.trim().parse().ok())
}

#[tokio::test]
async fn metrics_count_procore_requests_by_the_status_they_were_answered_with() {
    let app = App::start().await;
    let company = app.kit.company;
    // The next request is answered 429 (the client waits and asks again); then a user
    // Procore does not hold is read, and answered 404.
    app.kit.sim().set_faults(procore_sim::Faults {
        storm_429: 1,
        ..procore_sim::Faults::default()
    });
    let targets = sync::webhooks::Targets {
        users: [987_654_321].into(),
        ..Default::default()
    };
    app.run(server::Work::Sync {
        integration: server::Integration::Workforce,
        full: false,
        targets: Some(targets),
    })
    .await;

    let text = reqwest::get(format!("{}/metrics", app.url()))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let requests = |status: &str| {
        metric(
            &text,
            &format!("trestle_procore_requests{{company=\"{company}\",status=\"{status}\"}} "),
        )
    };
    assert_eq!(requests("429"), Some(1.0), "{text}");
    assert!(requests("404").is_some_and(|n| n >= 1.0), "{text}");
    assert!(requests("200").is_some_and(|n| n >= 1.0), "{text}");
    assert_eq!(
        requests("error"),
        None,
        "only labels met are listed: {text}"
    );
    app.stop().await;
}
