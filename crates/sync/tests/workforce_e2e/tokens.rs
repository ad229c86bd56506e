//! The database token store under two processes: the one that loses a refresh race reads the
//! pair the winner saved in the database and goes on, without a reconnect.

use std::sync::Arc;

use procore::{auth, Client, ClientConfig, CompanyId, Credentials, StoredTokens, TokenStore};
use procore_sim::demo;
use sync::tokens::StoreTokenStore;

use crate::harness::TestApp;

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
}

/// Plays the person who clicks "Allow" and returns the authorization code.
async fn authorization_code(config: &ClientConfig) -> String {
    let url = auth::authorize_url(
        &config.login_base,
        demo::USER_APP_CLIENT_ID,
        demo::REDIRECT_URI,
        None,
    )
    .unwrap();
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let resp = http.get(url).send().await.unwrap();
    let location = reqwest::Url::parse(resp.headers()["location"].to_str().unwrap()).unwrap();
    let code = location
        .query_pairs()
        .find(|(k, _)| k == "code")
        .map(|(_, v)| v.into_owned());
    code.unwrap()
}

/// The loser's view of the database: its first read came just before the winner's save.
struct ReadBeforeTheOtherSaved {
    db: StoreTokenStore,
    stale: std::sync::Mutex<Option<StoredTokens>>,
}

#[async_trait::async_trait]
impl TokenStore for ReadBeforeTheOtherSaved {
    async fn load(&self) -> procore::Result<Option<StoredTokens>> {
        if let Some(stale) = self.stale.lock().unwrap().take() {
            return Ok(Some(stale));
        }
        self.db.load().await
    }
    async fn save(&self, tokens: &StoredTokens) -> procore::Result<()> {
        self.db.save(tokens).await
    }
}

#[tokio::test]
async fn the_sync_that_loses_a_refresh_race_goes_on_with_the_pair_the_winner_saved_in_the_database()
{
    let app = TestApp::demo().await;
    let db = || StoreTokenStore::new(app.store.clone(), app.company);
    let config = code_config(&app.sim.url(), Arc::new(db()));
    let code = authorization_code(&config).await;
    let pair = auth::exchange_code(&config, &code).await.unwrap();
    let expired = StoredTokens {
        expires_at: chrono::Utc::now() - chrono::Duration::minutes(1),
        ..pair
    };
    db().save(&expired).await.unwrap();

    let winner = Client::new(config).unwrap();
    winner.me().await.unwrap();

    let loser = Client::new(code_config(
        &app.sim.url(),
        Arc::new(ReadBeforeTheOtherSaved {
            db: db(),
            stale: std::sync::Mutex::new(Some(expired)),
        }),
    ))
    .unwrap();
    let me = loser.me().await.expect("no reconnect needed");
    assert!(me.id.get() > 0);
    assert_eq!(loser.stats().token_requests, 1);
}
