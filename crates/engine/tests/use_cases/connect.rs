//! `engine::connect`: the checks come back as data, and a failed one is a typed refusal that
//! saves nothing.

use crate::support::{request, App};
use engine::connect::{connect, ConnectError, ConnectRequest, Toggles};
use engine::settings::Grant;
use engine::Integration;
use procore_sim::demo;
use procore_sim::world::Level;
use secrecy::SecretString;
use sync::workforce::access::Problem;

async fn saved(app: &App) -> Option<store::Connection> {
    app.store.connection(demo::COMPANY_ID).await.unwrap()
}

#[tokio::test]
async fn a_first_connect_whose_checks_pass_is_saved_and_says_it_is_new() {
    let app = App::new().await;
    let connected = connect(&app.settings, &app.store, request()).await.unwrap();
    assert!(connected.saved && !connected.connected_before);
    assert!(
        connected.workforce.iter().all(|c| c.ok),
        "{:?}",
        connected.workforce
    );
    assert!(connected.compliance_ready(), "{:?}", connected.compliance);
    assert!(saved(&app).await.is_some());

    let again = connect(&app.settings, &app.store, request()).await.unwrap();
    assert!(again.connected_before);
}

#[tokio::test]
async fn a_wrong_secret_is_refused_as_a_sign_in_problem_and_nothing_is_saved() {
    let app = App::new().await;
    let wrong = ConnectRequest {
        client_secret: SecretString::from("not-the-secret"),
        ..request()
    };
    let err = connect(&app.settings, &app.store, wrong).await.unwrap_err();
    let ConnectError::Refused(refusal) = err else {
        panic!("a refusal: {err:?}");
    };
    assert_eq!(refusal.problem, Problem::SignIn);
    assert_eq!(refusal.integration, Integration::Workforce);
    assert!(refusal.failed().count() >= 1);
    assert!(refusal.compliance.is_empty(), "compliance was not checked");
    let said = refusal.to_string();
    assert!(
        said.starts_with("signing in to Procore failed: check the client id")
            && said.ends_with("nothing was saved"),
        "{said}"
    );
    assert!(saved(&app).await.is_none());
}

#[tokio::test]
async fn missing_compliance_permissions_are_reported_and_refuse_only_when_compliance_is_required() {
    let app = App::new().await;
    app.set_permissions(|p| p.commitments = Level::None);

    let required = ConnectRequest {
        require_compliance: true,
        ..request()
    };
    let err = connect(&app.settings, &app.store, required)
        .await
        .unwrap_err();
    let ConnectError::Refused(refusal) = err else {
        panic!("a refusal: {err:?}");
    };
    assert_eq!(refusal.integration, Integration::Compliance);
    assert_eq!(refusal.problem, Problem::Permission);
    assert!(refusal.workforce.iter().all(|c| c.ok));
    assert!(
        refusal
            .failed()
            .any(|c| c.what == "read commitments (Commitments tool)"),
        "{refusal:?}"
    );
    assert_eq!(
        refusal.to_string(),
        "some permissions are missing for the compliance integration; nothing was saved"
    );
    assert!(saved(&app).await.is_none());

    let connected = connect(&app.settings, &app.store, request()).await.unwrap();
    assert!(connected.saved && !connected.compliance_ready());
    assert!(saved(&app).await.is_some());
}

#[tokio::test]
async fn a_check_only_request_runs_the_checks_and_saves_nothing() {
    let app = App::new().await;
    let check = ConnectRequest {
        check_only: true,
        as_read: None,
        keep_credentials: false,
        ..request()
    };
    let connected = connect(&app.settings, &app.store, check).await.unwrap();
    assert!(!connected.saved);
    assert!(!connected.workforce.is_empty());
    assert!(saved(&app).await.is_none());
}

#[tokio::test]
async fn toggles_not_in_the_request_keep_their_saved_values() {
    let app = App::new().await;
    let first = ConnectRequest {
        toggles: Toggles {
            auto_activate_workers: Some(true),
            forms_folder: Some("06 Safety Forms".into()),
            ..Toggles::default()
        },
        ..request()
    };
    connect(&app.settings, &app.store, first).await.unwrap();
    let rotated = connect(&app.settings, &app.store, request()).await.unwrap();
    assert!(rotated.connection.auto_activate_workers);
    assert_eq!(rotated.connection.forms_folder, "06 Safety Forms");
}

#[tokio::test]
async fn the_authorization_code_grant_without_tokens_or_a_code_gives_the_url_to_approve_the_app() {
    let mut app = App::new().await;
    app.settings.procore.grant = Grant::AuthorizationCode;
    app.settings.procore.redirect_uri = demo::REDIRECT_URI.into();
    let user_app = ConnectRequest {
        client_id: demo::USER_APP_CLIENT_ID.into(),
        client_secret: SecretString::from(demo::USER_APP_CLIENT_SECRET),
        ..request()
    };
    let err = connect(&app.settings, &app.store, user_app)
        .await
        .unwrap_err();
    let ConnectError::NotAuthorized { company_id, url } = &err else {
        panic!("not authorized: {err:?}");
    };
    assert_eq!(*company_id, demo::COMPANY_ID);
    assert!(
        url.as_str()
            .starts_with(&format!("{}/oauth/authorize?", app.sim.url())),
        "{url}"
    );
    assert!(!err.to_string().contains("trestle connect"), "{err}");
    assert!(saved(&app).await.is_none());
}
