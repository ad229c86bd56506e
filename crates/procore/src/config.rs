//! Client configuration: where Procore is, which company, and how to authenticate.
//!
//! Hosts come from `api-conventions.json` (`hosts`): production, the developer sandbox and the
//! monthly sandbox each have an API host and a login host; [`ClientConfig::custom`] points both
//! at one base URL (the simulator serves `/oauth/*` and `/rest/*` on one host). Secrets are
//! [`SecretString`]s and every `Debug` here redacts them.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use secrecy::SecretString;
use url::Url;

use crate::auth::TokenStore;
use crate::error::{Error, Result};
use crate::ids::CompanyId;
use crate::policy::RetryConfig;

/// A Procore environment with documented hosts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Environment {
    /// `api.procore.com` / `login.procore.com` (also on-demand sandboxes).
    Production,
    /// `sandbox.procore.com` / `login-sandbox.procore.com`.
    DeveloperSandbox,
    /// `api-monthly.procore.com` / `login-sandbox-monthly.procore.com`.
    MonthlySandbox,
}

impl Environment {
    /// `(api base, login base)` for this environment.
    pub fn hosts(self) -> (&'static str, &'static str) {
        match self {
            Environment::Production => ("https://api.procore.com", "https://login.procore.com"),
            Environment::DeveloperSandbox => (
                "https://sandbox.procore.com",
                "https://login-sandbox.procore.com",
            ),
            Environment::MonthlySandbox => (
                "https://api-monthly.procore.com",
                "https://login-sandbox-monthly.procore.com",
            ),
        }
    }
}

/// How the client gets access tokens.
#[derive(Clone)]
#[non_exhaustive]
pub enum Credentials {
    /// OAuth `client_credentials` (a Developer Managed Service Account). Tokens are simply
    /// requested again when they expire.
    ClientCredentials {
        /// The app's client id.
        client_id: String,
        /// The app's client secret.
        client_secret: SecretString,
    },
    /// OAuth `authorization_code`: a person connected the app once; the access and refresh
    /// tokens live in `store` and rotate on every refresh.
    AuthorizationCode {
        /// The app's client id.
        client_id: String,
        /// The app's client secret.
        client_secret: SecretString,
        /// The redirect URI registered with the app.
        redirect_uri: String,
        /// Where the current token pair is kept.
        store: Arc<dyn TokenStore>,
    },
}

impl Credentials {
    /// `client_credentials` with this id and secret.
    pub fn client_credentials(
        client_id: impl Into<String>,
        client_secret: impl Into<String>,
    ) -> Self {
        Credentials::ClientCredentials {
            client_id: client_id.into(),
            client_secret: SecretString::from(client_secret.into()),
        }
    }

    /// `authorization_code` + `refresh_token` with tokens in `store`.
    pub fn authorization_code(
        client_id: impl Into<String>,
        client_secret: impl Into<String>,
        redirect_uri: impl Into<String>,
        store: Arc<dyn TokenStore>,
    ) -> Self {
        Credentials::AuthorizationCode {
            client_id: client_id.into(),
            client_secret: SecretString::from(client_secret.into()),
            redirect_uri: redirect_uri.into(),
            store,
        }
    }

    /// The app's client id.
    pub fn client_id(&self) -> &str {
        match self {
            Credentials::ClientCredentials { client_id, .. }
            | Credentials::AuthorizationCode { client_id, .. } => client_id,
        }
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Credentials::ClientCredentials { client_id, .. } => f
                .debug_struct("ClientCredentials")
                .field("client_id", client_id)
                .field("client_secret", &"[REDACTED]")
                .finish(),
            Credentials::AuthorizationCode {
                client_id,
                redirect_uri,
                ..
            } => f
                .debug_struct("AuthorizationCode")
                .field("client_id", client_id)
                .field("client_secret", &"[REDACTED]")
                .field("redirect_uri", redirect_uri)
                .field("store", &"dyn TokenStore")
                .finish(),
        }
    }
}

/// Everything a [`crate::Client`] needs.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// Base of `/rest/` calls, e.g. `https://api.procore.com`.
    pub api_base: Url,
    /// Base of `/oauth/` calls, e.g. `https://login.procore.com`.
    pub login_base: Url,
    /// Sent as `Procore-Company-Id` on every `/rest/` call.
    pub company_id: CompanyId,
    /// How to get access tokens.
    pub credentials: Credentials,
    /// `User-Agent` header.
    pub user_agent: String,
    /// Timeout of one HTTP attempt.
    pub request_timeout: Duration,
    /// Timeout to open a connection.
    pub connect_timeout: Duration,
    /// Renew access tokens this long before they expire.
    pub token_refresh_buffer: Duration,
    /// Pacing and retry tuning.
    pub retry: RetryConfig,
    /// Part size of v2.1 unified uploads: files up to this size go as one segment, larger ones
    /// in parts of this size. Procore allows at most 100 MiB per part (the default) and at
    /// least 5 MiB for every part but the last, so smaller values only make sense against the
    /// simulator's tests or to bound memory per request.
    pub upload_segment_size: u64,
    /// How long to keep polling a completed unified upload until Procore reports it
    /// `available` before giving up with [`Error::UploadNotAvailable`].
    pub upload_available_timeout: Duration,
    /// The largest response body read (default [`crate::http::MAX_RESPONSE_BODY`], 64 MiB). A
    /// larger answer fails its call with [`Error::ResponseTooLarge`] without being read
    /// further, so a server that streams without end cannot exhaust memory.
    pub max_response_body: u64,
    /// The most pages one listing follows (default [`crate::list::MAX_PAGES`]). Beyond it the
    /// listing ends with [`Error::TooManyPages`], so next links that never end (each one new)
    /// cannot keep a sync going for ever; links that go back to a page already read end it at
    /// once with [`Error::PageCycle`].
    pub max_pages: u32,
}

/// Procore's largest unified-upload part (100 MiB).
pub const MAX_UPLOAD_SEGMENT: u64 = 100 * 1024 * 1024;

impl ClientConfig {
    /// A configuration for a documented environment.
    pub fn for_environment(
        env: Environment,
        company_id: CompanyId,
        credentials: Credentials,
    ) -> Self {
        let (api, login) = env.hosts();
        Self::build(
            Url::parse(api).expect("documented host is a URL"),
            Url::parse(login).expect("documented host is a URL"),
            company_id,
            credentials,
        )
    }

    /// Production (`api.procore.com`).
    pub fn production(company_id: CompanyId, credentials: Credentials) -> Self {
        Self::for_environment(Environment::Production, company_id, credentials)
    }

    /// The developer sandbox.
    pub fn sandbox(company_id: CompanyId, credentials: Credentials) -> Self {
        Self::for_environment(Environment::DeveloperSandbox, company_id, credentials)
    }

    /// The monthly sandbox.
    pub fn monthly_sandbox(company_id: CompanyId, credentials: Credentials) -> Self {
        Self::for_environment(Environment::MonthlySandbox, company_id, credentials)
    }

    /// One base URL for both API and login (the simulator, or a proxy).
    pub fn custom(base: &str, company_id: CompanyId, credentials: Credentials) -> Result<Self> {
        let url = Url::parse(base).map_err(|e| Error::Config(format!("base URL {base:?}: {e}")))?;
        Ok(Self::build(url.clone(), url, company_id, credentials))
    }

    fn build(
        api_base: Url,
        login_base: Url,
        company_id: CompanyId,
        credentials: Credentials,
    ) -> Self {
        ClientConfig {
            api_base,
            login_base,
            company_id,
            credentials,
            user_agent: concat!("trestle-procore/", env!("CARGO_PKG_VERSION")).to_string(),
            request_timeout: Duration::from_secs(60),
            connect_timeout: Duration::from_secs(10),
            token_refresh_buffer: Duration::from_secs(300),
            retry: RetryConfig::default(),
            upload_segment_size: MAX_UPLOAD_SEGMENT,
            upload_available_timeout: Duration::from_secs(300),
            max_response_body: crate::http::MAX_RESPONSE_BODY,
            max_pages: crate::list::MAX_PAGES,
        }
    }

    /// Replaces the retry tuning.
    pub fn with_retry(mut self, retry: RetryConfig) -> Self {
        self.retry = retry;
        self
    }

    /// Replaces the unified-upload part size (see [`ClientConfig::upload_segment_size`]).
    pub fn with_upload_segment_size(mut self, bytes: u64) -> Self {
        self.upload_segment_size = bytes;
        self
    }

    /// Replaces the largest response body read (see [`ClientConfig::max_response_body`]).
    pub fn with_max_response_body(mut self, bytes: u64) -> Self {
        self.max_response_body = bytes;
        self
    }

    /// Replaces the most pages one listing follows (see [`ClientConfig::max_pages`]).
    pub fn with_max_pages(mut self, pages: u32) -> Self {
        self.max_pages = pages.max(1);
        self
    }

    /// Replaces the user agent.
    pub fn with_user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = user_agent.into();
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::{MemoryTokenStore, StoredTokens};

    #[test]
    fn presets_use_the_documented_hosts() {
        let c = ClientConfig::sandbox(CompanyId(1), Credentials::client_credentials("id", "s"));
        assert_eq!(c.api_base.as_str(), "https://sandbox.procore.com/");
        assert_eq!(c.login_base.as_str(), "https://login-sandbox.procore.com/");
        let c =
            ClientConfig::monthly_sandbox(CompanyId(1), Credentials::client_credentials("id", "s"));
        assert_eq!(
            c.login_base.as_str(),
            "https://login-sandbox-monthly.procore.com/"
        );
        let c = ClientConfig::production(CompanyId(1), Credentials::client_credentials("id", "s"));
        assert_eq!(c.api_base.as_str(), "https://api.procore.com/");
    }

    #[test]
    fn debug_of_config_and_tokens_never_shows_secrets() {
        let store = Arc::new(MemoryTokenStore::default());
        let cfg = ClientConfig::custom(
            "http://127.0.0.1:1",
            CompanyId(7),
            Credentials::authorization_code(
                "client-id",
                "very-secret-client-secret",
                "urn:x",
                store,
            ),
        )
        .unwrap();
        let cc = ClientConfig::production(
            CompanyId(7),
            Credentials::client_credentials("cid", "another-secret-value"),
        );
        let tokens = StoredTokens {
            access_token: SecretString::from("access-token-value".to_string()),
            refresh_token: Some(SecretString::from("refresh-token-value".to_string())),
            expires_at: chrono::Utc::now(),
        };
        let text = format!("{cfg:?} {cfg:#?} {cc:?} {tokens:?} {tokens:#?}");
        for secret in [
            "very-secret-client-secret",
            "another-secret-value",
            "access-token-value",
            "refresh-token-value",
        ] {
            assert!(!text.contains(secret), "{secret} leaked in {text}");
        }
        assert!(text.contains("client-id"));
    }
}
