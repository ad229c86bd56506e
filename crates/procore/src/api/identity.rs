//! Who the token is (`/me`) and which companies it sees (`/companies`).

use serde::Serialize;

use super::get_one;
use crate::error::Result;
use crate::http::Client;
use crate::list::{list_methods, to_query, List, MAX_PER_PAGE_V1};
use crate::models::{Company, Me};

impl Client {
    /// `GET /rest/v1.0/me`: the user the token acts as (with client credentials, the app's
    /// service account). The company header is sent, as client credentials require.
    pub async fn me(&self) -> Result<Me> {
        get_one(self, "rest/v1.0/me", "", "me").await
    }

    /// `GET /rest/v1.0/companies`: companies the token can see.
    pub fn companies(&self) -> ListCompanies {
        ListCompanies {
            client: self.clone(),
        }
    }
}

/// `GET /rest/v1.0/companies`.
#[derive(Debug, Clone, Serialize)]
pub struct ListCompanies {
    #[serde(skip)]
    client: Client,
}

impl ListCompanies {
    /// The list call, ready to walk.
    pub fn into_list(self) -> List<Company> {
        List::new(
            self.client.clone(),
            "rest/v1.0/companies".into(),
            to_query(&self),
            MAX_PER_PAGE_V1,
            "company",
        )
    }

    list_methods!(Company);
}
