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
