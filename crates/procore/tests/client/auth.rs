use std::sync::Arc;
use std::time::Duration;

use procore::{
    auth, Client, ClientConfig, CompanyId, Credentials, Error, MemoryTokenStore, StoredTokens,
    TokenStore,
};
use procore_sim::demo;
use secrecy::ExposeSecret;

use crate::{cc_client, count, demo_sim, fast_retry};

fn code_config(url: &str, store: Arc<dyn TokenStore>) -> ClientConfig {
    ClientConfig::custom(
        url,
        CompanyId(demo::COMPANY_ID),
        Credentials::authorization_code(
            demo::USER_APP_CLIENT_ID,
            demo::USER_APP_CLIENT_SECRET,
            demo::REDIRECT_URI,
            store,
        ),
    )
    .unwrap()
    .with_retry(fast_retry())
}

/// Plays the person who clicks "Allow": follows the authorize URL and reads the code from the
/// redirect.
async fn authorization_code(config: &ClientConfig) -> String {
    let url = auth::authorize_url(
        &config.login_base,
        demo::USER_APP_CLIENT_ID,
        demo::REDIRECT_URI,
        Some("xyz"),
    )
    .unwrap();
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let resp = http.get(url).send().await.unwrap();
    assert!(
        resp.status().is_redirection(),
        "authorize answered {}",
        resp.status()
    );
    let location = resp.headers()["location"].to_str().unwrap().to_string();
    let location = url::Url::parse(&location).unwrap();
    let code = location
        .query_pairs()
        .find(|(k, _)| k == "code")
        .map(|(_, v)| v.into_owned());
    code.expect("code in redirect")
}

#[tokio::test]
async fn client_credentials_tokens_are_fetched_once_and_reused() {
    let app = demo_sim().await;
    let client = cc_client(&app.url());
    let me = client.me().await.unwrap();
    client.me().await.unwrap();
    client.projects().list().collect().await.unwrap();
    assert!(me.id.get() > 0);
    assert_eq!(count(app.sim(), "POST", "/oauth/token"), 1);
    assert_eq!(client.stats().token_requests, 1);
}

#[tokio::test]
async fn an_expired_client_credentials_token_is_requested_again_after_the_clock_passes_5400_seconds(
) {
    let app = demo_sim().await;
    let client = cc_client(&app.url());
    client.me().await.unwrap();
    app.sim().advance_clock(Duration::from_secs(5401));
    client.me().await.unwrap();
    assert_eq!(count(app.sim(), "POST", "/oauth/token"), 2);
    let log = app.sim().request_log();
    let me_calls: Vec<_> = log
        .iter()
        .filter(|e| e.path == "/rest/v1.0/me")
        .map(|e| e.status)
        .collect();
    assert_eq!(
        me_calls,
        vec![200, 401, 200],
        "one 401, one renewal, one retry"
    );
}

#[tokio::test]
async fn authorization_code_tokens_rotate_and_the_new_pair_is_saved_before_use() {
    let app = demo_sim().await;
    let store = Arc::new(MemoryTokenStore::default());
    let config = code_config(&app.url(), store.clone());
    let code = authorization_code(&config).await;
    let first = auth::exchange_code(&config, &code).await.unwrap();
    assert_eq!(store.save_count(), 1);
    let client = Client::new(config).unwrap();
    client.me().await.unwrap();
    assert_eq!(
        count(app.sim(), "POST", "/oauth/token"),
        1,
        "the stored access token is used as is"
    );

    app.sim().advance_clock(Duration::from_secs(5401));
    client.me().await.unwrap();
    assert_eq!(store.save_count(), 2, "the rotated pair is saved once");
    let saved = store.current().unwrap();
    assert_ne!(
        saved.refresh_token.as_ref().unwrap().expose_secret(),
        first.refresh_token.as_ref().unwrap().expose_secret(),
        "a new refresh token replaced the used one"
    );
    assert_eq!(count(app.sim(), "POST", "/oauth/token"), 2);
    // The new access token was in the store before the retried call used it.
    let log = app.sim().request_log();
    let token_at = log.iter().rposition(|e| e.path == "/oauth/token").unwrap();
    let retry_at = log
        .iter()
        .rposition(|e| e.path == "/rest/v1.0/me" && e.status == 200)
        .unwrap();
    assert!(token_at < retry_at);
}

#[tokio::test]
async fn a_used_refresh_token_asks_for_reconnect_once_and_never_loops() {
    let app = demo_sim().await;
    let store = Arc::new(MemoryTokenStore::default());
    let config = code_config(&app.url(), store.clone());
    let code = authorization_code(&config).await;
    let pair = auth::exchange_code(&config, &code).await.unwrap();
    let used = pair
        .refresh_token
        .as_ref()
        .unwrap()
        .expose_secret()
        .to_string();

    // Someone else uses the refresh token behind our back (e.g. a copy of the token file).
    let http = reqwest::Client::new();
    let stolen = http
        .post(format!("{}/oauth/token", app.url()))
        .form(&[
            ("grant_type", "refresh_token"),
            ("client_id", demo::USER_APP_CLIENT_ID),
            ("client_secret", demo::USER_APP_CLIENT_SECRET),
            (
                "refresh_token",
                pair.refresh_token.as_ref().unwrap().expose_secret(),
            ),
        ])
        .send()
        .await
        .unwrap();
    assert!(stolen.status().is_success());
    // Our store still holds the used refresh token, and an expired access token.
    store
        .save(&StoredTokens {
            expires_at: chrono::Utc::now() - chrono::Duration::minutes(1),
            ..pair
        })
        .await
        .unwrap();
    app.sim().clear_request_log();

    let client = Client::new(config).unwrap();
    for call in 0..3 {
        let start = std::time::Instant::now();
        let err = client.me().await.unwrap_err();
        // The first refusal waits, bounded, for another process's pair; the token is then
        // remembered as refused, so later calls give up at once.
        let bound = if call == 0 {
            auth::REFRESH_RACE_WAIT + Duration::from_secs(3)
        } else {
            Duration::from_secs(1)
        };
        assert!(
            start.elapsed() < bound,
            "call {call} took {:?}",
            start.elapsed()
        );
        assert!(matches!(err, Error::ReconnectNeeded { .. }), "{err:?}");
        let text = err.to_string();
        assert!(
            text.contains("connect the company to Procore again"),
            "{text}"
        );
        assert!(
            !text.contains(&used) && !format!("{err:?}").contains(&used),
            "no secret in the error"
        );
    }
    assert_eq!(
        count(app.sim(), "POST", "/oauth/token"),
        1,
        "exactly one refresh attempt, no loop"
    );
    assert_eq!(
        count(app.sim(), "GET", "/rest/"),
        0,
        "no API call without a token"
    );
}

#[tokio::test]
async fn no_saved_authorization_asks_for_reconnect_without_calling_procore() {
    let app = demo_sim().await;
    let client = Client::new(code_config(
        &app.url(),
        Arc::new(MemoryTokenStore::default()),
    ))
    .unwrap();
    let err = client.me().await.unwrap_err();
    assert!(matches!(err, Error::ReconnectNeeded { .. }), "{err:?}");
    assert_eq!(app.sim().request_log().len(), 0);
}

#[tokio::test]
async fn a_wrong_client_secret_is_a_clear_unauthorized_error() {
    let app = demo_sim().await;
    let config = ClientConfig::custom(
        &app.url(),
        CompanyId(demo::COMPANY_ID),
        Credentials::client_credentials(demo::CLIENT_ID, "wrong-secret-123"),
    )
    .unwrap()
    .with_retry(fast_retry());
    let err = Client::new(config).unwrap().me().await.unwrap_err();
    assert!(
        matches!(err, Error::Unauthorized { ref code, .. } if code == "invalid_client"),
        "{err:?}"
    );
    assert!(!err.to_string().contains("wrong-secret-123"));
    assert!(!format!("{err:?}").contains("wrong-secret-123"));
}

/// A token store shared with another process: its first `load` returns the pair as it was
/// before the other process refreshed (the read happened just before the other's save).
struct ReadBeforeTheOtherSaved {
    shared: Arc<MemoryTokenStore>,
    stale: std::sync::Mutex<Option<StoredTokens>>,
}

#[async_trait::async_trait]
impl TokenStore for ReadBeforeTheOtherSaved {
    async fn load(&self) -> procore::Result<Option<StoredTokens>> {
        if let Some(stale) = self.stale.lock().unwrap().take() {
            return Ok(Some(stale));
        }
        self.shared.load().await
    }
    async fn save(&self, tokens: &StoredTokens) -> procore::Result<()> {
        self.shared.save(tokens).await
    }
}

#[tokio::test]
async fn the_process_that_loses_a_refresh_race_reloads_the_saved_pair_and_goes_on() {
    let app = demo_sim().await;
    let shared = Arc::new(MemoryTokenStore::default());
    let config = code_config(&app.url(), shared.clone());
    let code = authorization_code(&config).await;
    let pair = auth::exchange_code(&config, &code).await.unwrap();
    // Both processes see an expired access token and the same single-use refresh token.
    let expired = StoredTokens {
        expires_at: chrono::Utc::now() - chrono::Duration::minutes(1),
        ..pair
    };
    shared.save(&expired).await.unwrap();
    let loser_store = Arc::new(ReadBeforeTheOtherSaved {
        shared: shared.clone(),
        stale: std::sync::Mutex::new(Some(expired.clone())),
    });

    // The winner refreshes first and saves the new pair.
    let winner = Client::new(config).unwrap();
    winner.me().await.unwrap();
    let after_winner = shared.current().unwrap();

    // The loser read the old pair before that save, refreshes with the used token, is told
    // invalid_grant, and must go on with the pair the winner saved: no reconnect.
    let mut c = code_config(&app.url(), shared.clone());
    c.credentials = Credentials::authorization_code(
        demo::USER_APP_CLIENT_ID,
        demo::USER_APP_CLIENT_SECRET,
        demo::REDIRECT_URI,
        loser_store,
    );
    let loser = Client::new(c).unwrap();
    let me = loser
        .me()
        .await
        .expect("the loser goes on without a reconnect");
    assert!(me.id.get() > 0);
    assert_eq!(
        loser.stats().token_requests,
        1,
        "one refused refresh, then the saved pair"
    );
    assert_eq!(
        shared
            .current()
            .unwrap()
            .refresh_token
            .unwrap()
            .expose_secret(),
        after_winner.refresh_token.unwrap().expose_secret(),
        "the winner's pair stays saved"
    );
}

#[tokio::test]
async fn the_loser_of_a_refresh_race_refreshes_once_with_the_new_token_when_the_saved_access_token_is_stale_too(
) {
    let app = demo_sim().await;
    let shared = Arc::new(MemoryTokenStore::default());
    let config = code_config(&app.url(), shared.clone());
    let code = authorization_code(&config).await;
    let pair = auth::exchange_code(&config, &code).await.unwrap();
    let expired = StoredTokens {
        expires_at: chrono::Utc::now() - chrono::Duration::minutes(1),
        ..pair
    };
    shared.save(&expired).await.unwrap();

    let winner = Client::new(config).unwrap();
    winner.me().await.unwrap();
    // The winner's access token counts as stale too (say it was saved long ago).
    let mut won = shared.current().unwrap();
    won.expires_at = chrono::Utc::now() - chrono::Duration::minutes(1);
    shared.save(&won).await.unwrap();

    let mut c = code_config(&app.url(), shared.clone());
    c.credentials = Credentials::authorization_code(
        demo::USER_APP_CLIENT_ID,
        demo::USER_APP_CLIENT_SECRET,
        demo::REDIRECT_URI,
        Arc::new(ReadBeforeTheOtherSaved {
            shared: shared.clone(),
            stale: std::sync::Mutex::new(Some(expired)),
        }),
    );
    let loser = Client::new(c).unwrap();
    loser
        .me()
        .await
        .expect("the loser refreshes with the winner's refresh token");
    assert_eq!(
        loser.stats().token_requests,
        2,
        "the refused refresh and one more"
    );
    assert_ne!(
        shared
            .current()
            .unwrap()
            .refresh_token
            .unwrap()
            .expose_secret(),
        won.refresh_token.unwrap().expose_secret(),
        "the loser's refresh rotated the pair and saved it"
    );
}

/// The winner's token store: its save of the new pair lands only when the test releases it, so
/// the winner has rotated the pair at Procore but the store still holds the old one.
struct SaveLandsLater {
    shared: Arc<MemoryTokenStore>,
    saving: tokio::sync::Notify,
    land: tokio::sync::Notify,
}

#[async_trait::async_trait]
impl TokenStore for SaveLandsLater {
    async fn load(&self) -> procore::Result<Option<StoredTokens>> {
        self.shared.load().await
    }
    async fn save(&self, tokens: &StoredTokens) -> procore::Result<()> {
        self.saving.notify_one();
        self.land.notified().await;
        self.shared.save(tokens).await
    }
}

/// The loser's token store: the shared one, counting its reads.
struct CountsLoads {
    shared: Arc<MemoryTokenStore>,
    loads: std::sync::atomic::AtomicUsize,
}

#[async_trait::async_trait]
impl TokenStore for CountsLoads {
    async fn load(&self) -> procore::Result<Option<StoredTokens>> {
        self.loads.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        self.shared.load().await
    }
    async fn save(&self, tokens: &StoredTokens) -> procore::Result<()> {
        self.shared.save(tokens).await
    }
}

#[tokio::test]
async fn the_loser_of_a_refresh_race_waits_for_the_winners_pair_when_it_is_saved_after_the_refusal()
{
    let app = demo_sim().await;
    let shared = Arc::new(MemoryTokenStore::default());
    let config = code_config(&app.url(), shared.clone());
    let code = authorization_code(&config).await;
    let pair = auth::exchange_code(&config, &code).await.unwrap();
    shared
        .save(&StoredTokens {
            expires_at: chrono::Utc::now() - chrono::Duration::minutes(1),
            ..pair
        })
        .await
        .unwrap();
    let winner_store = Arc::new(SaveLandsLater {
        shared: shared.clone(),
        saving: Default::default(),
        land: Default::default(),
    });
    let loser_store = Arc::new(CountsLoads {
        shared: shared.clone(),
        loads: Default::default(),
    });
    let winner = Client::new(code_config(&app.url(), winner_store.clone())).unwrap();
    let loser = Client::new(code_config(&app.url(), loser_store.clone())).unwrap();

    // The winner's refresh is answered; its save has not landed yet.
    let winner_task = tokio::spawn(async move { winner.me().await });
    winner_store.saving.notified().await;

    // The loser refreshes with the used token, is refused, and reads the store again: still
    // the old pair.
    let loser_task = tokio::spawn(async move {
        let me = loser.me().await;
        (me, loser.stats().token_requests)
    });
    let start = std::time::Instant::now();
    while loser_store.loads.load(std::sync::atomic::Ordering::SeqCst) < 2 {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "the loser never read the store again"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }

    // Only now does the winner's save land; the loser must still go on.
    winner_store.land.notify_one();
    winner_task.await.unwrap().expect("the winner goes on");
    let (me, token_requests) = loser_task.await.unwrap();
    let me = me.expect("the loser waits for the winner's pair instead of asking for a reconnect");
    assert!(me.id.get() > 0);
    assert_eq!(
        token_requests, 1,
        "one refused refresh, then the winner's saved pair"
    );
}

#[tokio::test]
async fn a_login_server_that_cannot_be_reached_is_reported_with_the_connection_error() {
    // A port where nothing listens: bound, then closed.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut config = ClientConfig::custom(
        &format!("http://127.0.0.1:{port}"),
        CompanyId(demo::COMPANY_ID),
        Credentials::client_credentials(demo::CLIENT_ID, "secret-not-shown-42"),
    )
    .unwrap()
    .with_retry(procore::RetryConfig {
        max_retries: 1,
        ..fast_retry()
    });
    config.login_base =
        url::Url::parse(&format!("http://user:pw-not-shown@127.0.0.1:{port}/")).unwrap();
    let err = Client::new(config).unwrap().me().await.unwrap_err();
    let Error::Transport { ref message, .. } = err else {
        panic!("{err:?}")
    };
    assert!(
        message.contains("Connection refused"),
        "the cause is named: {message}"
    );
    let text = err.to_string();
    assert!(text.contains("/oauth/token"), "{text}");
    for secret in ["secret-not-shown-42", "pw-not-shown"] {
        assert!(
            !text.contains(secret) && !format!("{err:?}").contains(secret),
            "no secret in the error: {text}"
        );
    }
}
