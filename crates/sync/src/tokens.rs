//! The database token store: the Procore client's `TokenStore` over trestle's store.
//!
//! Refresh tokens are single-use, so the client saves each new pair before it uses it; here
//! that save is one encrypted write of the whole pair, per company. `load` always reads the
//! database (nothing is cached here): when two processes race to refresh one single-use token,
//! the client of the one that lost reloads the pair the winner saved and goes on with it.

use procore::{StoredTokens, TokenStore};
use secrecy::{ExposeSecret, SecretString};
use store::{CompanyId, Store};

/// Keeps one company's Procore tokens in the store, sealed with the store's key.
pub struct StoreTokenStore {
    store: Store,
    company: CompanyId,
}

impl StoreTokenStore {
    pub fn new(store: Store, company: CompanyId) -> Self {
        StoreTokenStore { store, company }
    }
}

#[async_trait::async_trait]
impl TokenStore for StoreTokenStore {
    async fn load(&self) -> procore::Result<Option<StoredTokens>> {
        let saved = self
            .store
            .load_tokens(self.company)
            .await
            .map_err(|e| procore::Error::TokenStore(e.to_string()))?;
        saved
            .map(|json| StoredTokens::from_json(json.expose_secret()))
            .transpose()
    }

    async fn save(&self, tokens: &StoredTokens) -> procore::Result<()> {
        self.store
            .save_tokens(self.company, &SecretString::from(tokens.to_json()))
            .await
            .map_err(|e| procore::Error::TokenStore(e.to_string()))
    }
}
