use crate::{open, DESK};
use harness::Served;
use reqwest::redirect::Policy;
use reqwest::StatusCode;
use store::ApiScope;

#[tokio::test]
async fn a_page_opened_without_signing_in_sends_the_person_to_sign_in_and_back_afterwards() {
    let served = Served::start().await;
    let company = served.kit.company;
    let browser = open(&served, DESK).await;
    let workers = format!("/ui/companies/{company}/workforce/workers");
    browser.go(&workers).await;
    assert!(
        browser.at().await.starts_with("/ui/sign-in?next="),
        "{}",
        browser.at().await
    );
    let page = browser.text().await;
    assert!(page.contains("trestle token create"), "{page}");
    assert!(!page.contains("Procore company"), "{page}");
    browser.seen("sign-in").await;

    // A wrong token is refused with what to do.
    browser.sign_in("my password").await;
    browser.sees("not a trestle API token").await;
    browser
        .sign_in(&format!("trestle_{}", "A".repeat(43)))
        .await;
    browser.sees("unknown or revoked").await;
    // The right one brings the person to the page they opened.
    browser.sign_in(&served.admin).await;
    assert_eq!(browser.at().await, workers);
    browser.sees("Workers").await;
    // A page that is not there says so, as a page.
    browser.go("/ui/no-such-page").await;
    browser.sees("There is no such page").await;
    browser.seen("not-found").await;
    browser.close().await;
}

/// A worker the first sync brought in, not blocked.
async fn unblocked_worker(served: &Served) -> domain::workforce::Worker {
    crate::eventually(
        crate::PATIENCE,
        "the first sync brings the workers",
        || async {
            served
                .kit
                .store
                .workers(served.kit.company)
                .await
                .unwrap()
                .into_iter()
                .find(|w| w.status() != domain::workforce::WorkerStatus::Blocked)
        },
    )
    .await
}

/// Signs in over plain HTTP and answers the session cookie.
async fn session_cookie(http: &reqwest::Client, base: &str, token: &str) -> String {
    let answer = http
        .post(format!("{base}/ui/sign-in"))
        .form(&[("token", token), ("next", "/ui/")])
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::SEE_OTHER);
    let set = answer.headers()["set-cookie"].to_str().unwrap().to_string();
    for part in ["HttpOnly", "Secure", "SameSite=Lax"] {
        assert!(set.contains(part), "{set}");
    }
    set.split(';').next().unwrap().to_string()
}

#[tokio::test]
async fn a_change_without_the_sessions_anti_forgery_value_is_refused_and_a_revoked_token_ends_its_sessions(
) {
    let served = Served::start().await;
    let company = served.kit.company;
    let base = &served.server.url;
    let http = reqwest::Client::builder()
        .redirect(Policy::none())
        .build()
        .unwrap();
    let token = served.token("Maria (admin)", ApiScope::Admin).await;
    let cookie = session_cookie(&http, base, &token).await;
    let worker = unblocked_worker(&served).await;
    let block = format!(
        "{base}/ui/companies/{company}/workforce/workers/{}/block",
        worker.id
    );
    // As a page on another site would send it: the cookie, but no anti-forgery value.
    let forged = http
        .post(&block)
        .header("cookie", &cookie)
        .form(&[("back", "/ui/")])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    assert!(forged.text().await.unwrap().contains("another site"));
    let still = served
        .kit
        .store
        .worker(company, worker.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(still.status(), worker.status(), "nothing was changed");

    // Revoking the token ends the session at once.
    let id = served
        .kit
        .store
        .api_tokens()
        .await
        .unwrap()
        .into_iter()
        .find(|t| t.name == "Maria (admin)")
        .unwrap()
        .id;
    engine::tokens::revoke(&served.kit.store, id, chrono::Utc::now())
        .await
        .unwrap();
    let after = http
        .get(format!("{base}/ui/"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(after.status(), StatusCode::SEE_OTHER);
    assert!(after.headers()["location"]
        .to_str()
        .unwrap()
        .starts_with("/ui/sign-in"));
}

#[tokio::test]
async fn signing_out_ends_the_session_for_good() {
    let served = Served::start().await;
    let browser = open(&served, DESK).await;
    browser.go("/ui/").await;
    browser.sign_in(&served.admin).await;
    browser.sees("Procore company").await;
    browser.press("Sign out").await;
    assert!(browser.at().await.starts_with("/ui/sign-in"));
    browser.go("/ui/").await;
    assert!(
        browser.at().await.starts_with("/ui/sign-in"),
        "{}",
        browser.at().await
    );
    browser.close().await;
}

#[tokio::test]
async fn a_sign_in_sent_from_another_site_is_refused_and_pages_are_never_framed_or_cached() {
    let served = Served::start().await;
    let base = &served.server.url;
    let http = reqwest::Client::builder()
        .redirect(Policy::none())
        .build()
        .unwrap();
    let forged = http
        .post(format!("{base}/ui/sign-in"))
        .header("sec-fetch-site", "cross-site")
        .form(&[("token", served.admin.as_str()), ("next", "/ui/")])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    assert!(forged.headers().get("set-cookie").is_none());
    let forged = http
        .post(format!("{base}/ui/sign-in"))
        .header("origin", "https://elsewhere.example")
        .form(&[("token", served.admin.as_str()), ("next", "/ui/")])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);

    let cookie = session_cookie(&http, base, &served.admin).await;
    assert!(cookie.starts_with("__Host-"), "{cookie}");
    let page = http
        .get(format!("{base}/ui/"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let csp = page.headers()["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert_eq!(page.headers()["x-frame-options"], "DENY");
    assert_eq!(page.headers()["cache-control"], "no-store");
}

#[tokio::test]
async fn a_worker_blocked_after_signing_in_is_signed_out_and_cannot_sign_in_again() {
    let served = Served::start().await;
    let company = served.kit.company;
    let base = &served.server.url;
    let http = reqwest::Client::builder()
        .redirect(Policy::none())
        .build()
        .unwrap();
    let worker = unblocked_worker(&served).await;
    let phone = served
        .token(
            "Bea's phone",
            ApiScope::Worker {
                company_id: company,
                worker_id: worker.id,
            },
        )
        .await;
    let cookie = session_cookie(&http, base, &phone).await;
    let forms = format!("{base}/ui/companies/{company}/forms");
    let open = || http.get(&forms).header("cookie", &cookie).send();
    assert_eq!(open().await.unwrap().status(), StatusCode::OK);

    let blocked = http
        .post(format!(
            "{base}/api/v1/companies/{company}/workforce/workers/{}/block",
            worker.id
        ))
        .bearer_auth(&served.admin)
        .send()
        .await
        .unwrap();
    assert_eq!(blocked.status(), StatusCode::OK);
    let after = open().await.unwrap();
    assert_eq!(after.status(), StatusCode::SEE_OTHER);
    assert!(after.headers()["location"]
        .to_str()
        .unwrap()
        .starts_with("/ui/sign-in"));
    let again = http
        .post(format!("{base}/ui/sign-in"))
        .form(&[("token", phone.as_str()), ("next", "/ui/")])
        .send()
        .await
        .unwrap();
    assert_ne!(again.status(), StatusCode::SEE_OTHER);
    assert!(again.text().await.unwrap().contains("blocked"));
}

/// When the token `name` was last used, as `GET /api/v1/tokens` tells an admin.
async fn last_used(served: &Served, name: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    let tokens = crate::api_get(served, "/api/v1/tokens").await;
    let token = tokens
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == name)
        .unwrap_or_else(|| panic!("{name} in {tokens}"));
    token["last_used_at"]
        .as_str()
        .map(|at| at.parse().expect("a time"))
}

#[tokio::test]
async fn a_page_left_open_asking_for_changes_does_not_count_as_its_tokens_use() {
    let served = Served::start().await;
    let company = served.kit.company;
    let base = &served.server.url;
    let http = reqwest::Client::builder()
        .redirect(Policy::none())
        .build()
        .unwrap();
    let token = served.token("wall display", ApiScope::Admin).await;
    // Signed in an hour ago, and the page left open since.
    let an_hour_ago = chrono::Utc::now() - chrono::Duration::hours(1);
    let started = engine::sessions::sign_in(
        &served.kit.store,
        &secrecy::SecretString::from(token),
        an_hour_ago,
    )
    .await
    .unwrap()
    .unwrap();
    let cookie = format!(
        "__Host-trestle_session={}",
        secrecy::ExposeSecret::expose_secret(&started.cookie)
    );
    let then = last_used(&served, "wall display").await;
    assert!(then.is_some());

    let workers = format!("{base}/ui/companies/{company}/workforce/workers");
    for _ in 0..3 {
        let poll = http
            .get(&workers)
            .header("cookie", &cookie)
            .header("hx-request", "true")
            .header("hx-trigger", "live")
            .header("x-trestle-seen", "an older version")
            .send()
            .await
            .unwrap();
        assert_eq!(poll.status(), StatusCode::OK, "the session is live");
    }
    assert_eq!(
        last_used(&served, "wall display").await,
        then,
        "polls are not a use"
    );

    // Someone opening a page is.
    let opened = http
        .get(&workers)
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(opened.status(), StatusCode::OK);
    let now = last_used(&served, "wall display").await;
    assert!(now > then, "{now:?} after {then:?}");
}

#[tokio::test]
async fn a_read_only_token_sees_pages_without_their_buttons_and_a_worker_token_is_refused_an_admin_page(
) {
    let served = Served::start().await;
    let company = served.kit.company;
    let worker = unblocked_worker(&served).await;
    let workers = format!("/ui/companies/{company}/workforce/workers");

    let reader = served.token("Dashboard", ApiScope::ReadOnly).await;
    let browser = open(&served, DESK).await;
    browser.go(&workers).await;
    browser.sign_in(&reader).await;
    browser.sees(&worker.fields.last_name).await;
    let buttons = browser
        .client
        .find_all(fantoccini::Locator::XPath(
            "//main//button[normalize-space(.)='Block' or normalize-space(.)='Activate']",
        ))
        .await
        .unwrap();
    assert!(buttons.is_empty(), "a read-only token changes nothing");
    browser.seen("workers-read-only").await;
    browser.press("Sign out").await;

    let phone = served
        .token(
            "Site phone",
            ApiScope::Worker {
                company_id: company,
                worker_id: worker.id,
            },
        )
        .await;
    browser.go(&workers).await;
    browser.sign_in(&phone).await;
    let page = browser.sees("Refused").await;
    assert!(!page.contains(&worker.fields.last_name), "{page}");
    browser.seen("refused").await;
    browser.close().await;
}
