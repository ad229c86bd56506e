use crate::App;
use reqwest::StatusCode;

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
