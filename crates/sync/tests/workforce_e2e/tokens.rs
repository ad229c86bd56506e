//! The database token store under two processes: the one that loses a refresh race reads the
//! pair the winner saved in the database and goes on, without a reconnect.

use std::sync::atomic::{AtomicUsize, Ordering};
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

/// The winner's view of the database: its save of the new pair lands only when the test
/// releases it, so Procore has rotated the pair while the database still holds the old one.
struct SaveLandsLater {
    db: StoreTokenStore,
    saving: tokio::sync::Notify,
    land: tokio::sync::Notify,
}

#[async_trait::async_trait]
impl TokenStore for SaveLandsLater {
    async fn load(&self) -> procore::Result<Option<StoredTokens>> {
        self.db.load().await
    }
    async fn save(&self, tokens: &StoredTokens) -> procore::Result<()> {
        self.saving.notify_one();
        self.land.notified().await;
        self.db.save(tokens).await
    }
}

/// The loser's view of the database, counting its reads.
struct CountsLoads {
    db: StoreTokenStore,
    loads: AtomicUsize,
}

#[async_trait::async_trait]
impl TokenStore for CountsLoads {
    async fn load(&self) -> procore::Result<Option<StoredTokens>> {
        self.loads.fetch_add(1, Ordering::SeqCst);
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

    let winner_db = Arc::new(SaveLandsLater {
        db: db(),
        saving: Default::default(),
        land: Default::default(),
    });
    let loser_db = Arc::new(CountsLoads {
        db: db(),
        loads: Default::default(),
    });
    let winner = Client::new(code_config(&app.sim.url(), winner_db.clone())).unwrap();
    let loser = Client::new(code_config(&app.sim.url(), loser_db.clone())).unwrap();

    // The winner's refresh is answered, but its save has not reached the database yet.
    let winner_task = tokio::spawn(async move { winner.me().await });
    winner_db.saving.notified().await;

    // The loser is refused and reads the database again: still the old pair.
    let loser_task = tokio::spawn(async move {
        let me = loser.me().await;
        (me, loser.stats().token_requests)
    });
    let start = std::time::Instant::now();
    while loser_db.loads.load(Ordering::SeqCst) < 2 {
        assert!(
            start.elapsed() < std::time::Duration::from_secs(10),
            "the loser never read the database again"
        );
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }

    // The winner's save lands after the loser's refusal; the loser still goes on.
    winner_db.land.notify_one();
    winner_task.await.unwrap().expect("the winner goes on");
    let (me, token_requests) = loser_task.await.unwrap();
    let me = me.expect("no reconnect needed");
    assert!(me.id.get() > 0);
    assert_eq!(token_requests, 1);
}
