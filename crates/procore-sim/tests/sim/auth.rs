use std::time::Duration;

use procore_sim::demo;
use serde_json::Value;

use crate::helpers::*;

async fn auth_code(t: &T) -> String {
    let noredirect = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let r = noredirect
        .get(t.url("/oauth/authorize"))
        .query(&[
            ("response_type", "code"),
            ("client_id", demo::USER_APP_CLIENT_ID),
            ("redirect_uri", demo::REDIRECT_URI),
            ("state", "xyz"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 302);
    let loc = url::Url::parse(&header(&r, "location").unwrap()).unwrap();
    assert!(loc.as_str().starts_with(demo::REDIRECT_URI));
    assert_eq!(
        loc.query_pairs().find(|(k, _)| k == "state").unwrap().1,
        "xyz"
    );
    loc.query_pairs()
        .find(|(k, _)| k == "code")
        .unwrap()
        .1
        .into_owned()
}

async fn exchange(t: &T, code: &str) -> (u16, Value) {
    t.json(t.http.post(t.url("/oauth/token")).form(&[
        ("grant_type", "authorization_code"),
        ("client_id", demo::USER_APP_CLIENT_ID),
        ("client_secret", demo::USER_APP_CLIENT_SECRET),
        ("code", code),
        ("redirect_uri", demo::REDIRECT_URI),
    ]))
    .await
}

async fn refresh(t: &T, rt: &str) -> (u16, Value) {
    t.json(t.http.post(t.url("/oauth/token")).form(&[
        ("grant_type", "refresh_token"),
        ("client_id", demo::USER_APP_CLIENT_ID),
        ("client_secret", demo::USER_APP_CLIENT_SECRET),
        ("refresh_token", rt),
    ]))
    .await
}

#[tokio::test]
async fn client_credentials_token_has_no_refresh_token_and_lasts_5400_seconds() {
    let t = start().await;
    let (s, v) = t
        .json(t.http.post(t.url("/oauth/token")).json(&serde_json::json!({"grant_type": "client_credentials", "client_id": demo::CLIENT_ID, "client_secret": demo::CLIENT_SECRET})))
        .await;
    assert_eq!(s, 200);
    assert_eq!(v["expires_in"], 5400);
    assert_eq!(v["token_type"], "bearer");
    assert!(v.get("refresh_token").is_none());
    assert!(v["created_at"].is_i64());
}

#[tokio::test]
async fn wrong_client_secret_is_invalid_client() {
    let t = start().await;
    let (s, v) = t
        .json(t.http.post(t.url("/oauth/token")).form(&[
            ("grant_type", "client_credentials"),
            ("client_id", demo::CLIENT_ID),
            ("client_secret", "nope"),
        ]))
        .await;
    assert_eq!((s, v["error"].as_str()), (401, Some("invalid_client")));
}

#[tokio::test]
async fn authorization_code_is_exchanged_once_for_tokens_of_the_installing_user() {
    let t = start().await;
    let code = auth_code(&t).await;
    let (s, v) = exchange(&t, &code).await;
    assert_eq!(s, 200);
    assert!(v["refresh_token"].is_string());
    let (s, again) = exchange(&t, &code).await;
    assert_eq!((s, again["error"].as_str()), (401, Some("invalid_grant")));
    let tok = v["access_token"].as_str().unwrap();
    let (s, me) = t
        .json(t.http.get(t.url("/rest/v1.0/me")).bearer_auth(tok))
        .await;
    assert_eq!(s, 200);
    assert_eq!(me["login"], "pat.alvarez@granitepeak.example");
}

#[tokio::test]
async fn oob_redirect_shows_the_code_in_the_body() {
    let t = start().await;
    let r = t
        .http
        .get(t.url("/oauth/authorize"))
        .query(&[
            ("response_type", "code"),
            ("client_id", demo::USER_APP_CLIENT_ID),
            ("redirect_uri", "urn:ietf:wg:oauth:2.0:oob"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert!(r.text().await.unwrap().contains("<code id=\"code\">"));
}

#[tokio::test]
async fn refresh_token_is_rejected_after_it_has_been_used_once() {
    let t = start().await;
    let (_, v) = exchange(&t, &auth_code(&t).await).await;
    let rt = v["refresh_token"].as_str().unwrap().to_owned();
    let (s, v2) = refresh(&t, &rt).await;
    assert_eq!(s, 200);
    assert_ne!(v2["refresh_token"], v["refresh_token"]);
    let (s, e) = refresh(&t, &rt).await;
    assert_eq!(
        (s, e["error"].as_str(), e["error_description"].as_str()),
        (
            401,
            Some("invalid_grant"),
            Some("The refresh token is invalid")
        )
    );
    // The rotated one still works.
    let (s, _) = refresh(&t, v2["refresh_token"].as_str().unwrap()).await;
    assert_eq!(s, 200);
}

#[tokio::test]
async fn refresh_token_is_consumed_even_by_a_failed_refresh_call() {
    let t = start().await;
    let (_, v) = exchange(&t, &auth_code(&t).await).await;
    let rt = v["refresh_token"].as_str().unwrap();
    let (s, _) = t
        .json(t.http.post(t.url("/oauth/token")).form(&[
            ("grant_type", "refresh_token"),
            ("client_id", demo::USER_APP_CLIENT_ID),
            ("client_secret", "wrong"),
            ("refresh_token", rt),
        ]))
        .await;
    assert_eq!(s, 401);
    let (s, _) = refresh(&t, rt).await;
    assert_eq!(s, 401);
}

#[tokio::test]
async fn access_token_expires_after_5400_seconds_of_sim_clock() {
    let t = start().await;
    let (s, _) = t.json(t.get("/rest/v1.0/me")).await;
    assert_eq!(s, 200);
    t.sim().advance_clock(Duration::from_secs(5399));
    assert_eq!(t.json(t.get("/rest/v1.0/me")).await.0, 200);
    t.sim().advance_clock(Duration::from_secs(2));
    let r = t.get("/rest/v1.0/me").send().await.unwrap();
    assert_eq!(r.status().as_u16(), 401);
    assert_eq!(header(&r, "www-authenticate").as_deref(), Some("Bearer"));
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error_description"], "The access token is invalid");
}

#[tokio::test]
async fn revoked_token_is_invalid_and_token_info_names_the_app() {
    let t = start().await;
    let (s, info) = t.json(t.get("/oauth/token/info")).await;
    assert_eq!(s, 200);
    assert_eq!(info["application"]["uid"], demo::CLIENT_ID);
    let (s, _) = t
        .json(t.http.post(t.url("/oauth/revoke")).form(&[
            ("token", t.token.as_str()),
            ("client_id", demo::CLIENT_ID),
            ("client_secret", demo::CLIENT_SECRET),
        ]))
        .await;
    assert_eq!(s, 200);
    assert_eq!(t.json(t.get("/rest/v1.0/me")).await.0, 401);
}

#[tokio::test]
async fn missing_company_header_is_a_400_with_procores_message() {
    let t = start().await;
    let (s, v) = t
        .json(
            t.http
                .get(t.url("/rest/v1.0/projects?company_id=4000000001"))
                .bearer_auth(&t.token),
        )
        .await;
    assert_eq!(s, 400);
    assert_eq!(v["error"]["message"], "Missing Procore-Company-Id header!");
    // client_credentials tokens need it on /me too.
    let (s, _) = t
        .json(t.http.get(t.url("/rest/v1.0/me")).bearer_auth(&t.token))
        .await;
    assert_eq!(s, 400);
}

#[tokio::test]
async fn me_returns_the_apps_service_account() {
    let t = start().await;
    let (_, me) = t.json(t.get("/rest/v1.0/me")).await;
    let sa = t
        .sim()
        .read(|w| w.apps[demo::CLIENT_ID].installations[&demo::COMPANY_ID].service_user_id);
    assert_eq!(me["id"], sa);
    assert!(me["login"]
        .as_str()
        .unwrap()
        .ends_with("@procore-integration.invalid"));
}

#[tokio::test]
async fn company_the_app_is_not_installed_in_is_forbidden() {
    let t = start().await;
    let (s, v) = t
        .json(
            t.http
                .get(t.url("/rest/v1.0/me"))
                .bearer_auth(&t.token)
                .header("Procore-Company-Id", "123"),
        )
        .await;
    assert_eq!(s, 403);
    assert_eq!(v["message"], "App is not connected to this company");
}

#[tokio::test]
async fn unknown_route_is_a_404_in_the_default_error_shape() {
    let t = start().await;
    let (s, v) = t.json(t.get("/rest/v1.0/nope")).await;
    assert_eq!((s, v["error"]["code"].as_str()), (404, Some("not_found")));
}

#[tokio::test]
async fn the_token_endpoint_takes_http_basic_client_authentication() {
    let t = start().await;
    let (status, body) = t
        .json(
            t.http
                .post(t.url("/oauth/token"))
                .basic_auth(demo::CLIENT_ID, Some(demo::CLIENT_SECRET))
                .form(&[("grant_type", "client_credentials")]),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert!(body["access_token"].is_string(), "{body}");

    let (status, body) = t
        .json(
            t.http
                .post(t.url("/oauth/token"))
                .basic_auth(demo::CLIENT_ID, Some("not-the-secret"))
                .form(&[("grant_type", "client_credentials")]),
        )
        .await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(body["error"], "invalid_client", "{body}");

    // Both ways at once is refused, as RFC 6749 §2.3 says.
    let (status, _) = t
        .json(
            t.http
                .post(t.url("/oauth/token"))
                .basic_auth(demo::CLIENT_ID, Some(demo::CLIENT_SECRET))
                .form(&[
                    ("grant_type", "client_credentials"),
                    ("client_id", demo::CLIENT_ID),
                    ("client_secret", demo::CLIENT_SECRET),
                ]),
        )
        .await;
    assert_eq!(status, 401);
}
