//! OAuth 2.0: tokens, their store, and renewal.
//!
//! Procore access tokens live 5400 s. `client_credentials` tokens are simply requested again.
//! `authorization_code` tokens come with a refresh token that is **single-use**: any refresh
//! call, successful or not, invalidates it and returns a new pair. So the new pair is written
//! to the [`TokenStore`] in one write *before* the access token is used, and a refused or
//! missing refresh token becomes one [`Error::ReconnectNeeded`] (later calls answer from memory
//! without asking Procore again, until the store holds a different refresh token). A refused
//! refresh token is first taken as a lost race: another process sharing the store refreshed
//! with it and saved the new pair, so the store is read once more and, when it holds a
//! different refresh token (or a fresh access token), the client goes on with that.
//!
//! All renewals go through one `tokio::sync::Mutex`, so concurrent callers cause one refresh.

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use url::Url;

use crate::config::{ClientConfig, Credentials};
use crate::error::{ApiError, Error, ErrorBody, Result};
use crate::policy::{backoff, RetryConfig};

/// The token pair kept between runs.
#[derive(Clone)]
pub struct StoredTokens {
    /// The current access token.
    pub access_token: SecretString,
    /// The refresh token that goes with it (single-use).
    pub refresh_token: Option<SecretString>,
    /// When the access token expires.
    pub expires_at: DateTime<Utc>,
}

impl fmt::Debug for StoredTokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoredTokens")
            .field("access_token", &"[REDACTED]")
            .field(
                "refresh_token",
                &self.refresh_token.as_ref().map(|_| "[REDACTED]"),
            )
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

#[derive(Serialize, Deserialize)]
struct StoredTokensWire {
    access_token: String,
    #[serde(default)]
    refresh_token: Option<String>,
    expires_at: DateTime<Utc>,
}

impl StoredTokens {
    /// Serialises to JSON (this exposes the secrets: only for the token store's own file).
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(&StoredTokensWire {
            access_token: self.access_token.expose_secret().to_string(),
            refresh_token: self
                .refresh_token
                .as_ref()
                .map(|t| t.expose_secret().to_string()),
            expires_at: self.expires_at,
        })
        .expect("token JSON serialises")
    }

    /// Reads what [`StoredTokens::to_json`] wrote.
    pub fn from_json(text: &str) -> Result<Self> {
        let wire: StoredTokensWire = serde_json::from_str(text)
            .map_err(|e| Error::TokenStore(format!("token file is not valid: {e}")))?;
        Ok(StoredTokens {
            access_token: SecretString::from(wire.access_token),
            refresh_token: wire.refresh_token.map(SecretString::from),
            expires_at: wire.expires_at,
        })
    }
}

/// Where the `authorization_code` token pair is kept. Implementations must make `save` a single
/// atomic write: a crash mid-save must leave either the old or the new pair.
#[async_trait]
pub trait TokenStore: Send + Sync {
    /// The saved pair, if any.
    async fn load(&self) -> Result<Option<StoredTokens>>;
    /// Replaces the saved pair.
    async fn save(&self, tokens: &StoredTokens) -> Result<()>;
}

/// A token store in memory (tests, short-lived tools).
#[derive(Default)]
pub struct MemoryTokenStore {
    tokens: std::sync::Mutex<Option<StoredTokens>>,
    saves: std::sync::atomic::AtomicU64,
}

impl MemoryTokenStore {
    /// A store holding `tokens`.
    pub fn with(tokens: StoredTokens) -> Self {
        MemoryTokenStore {
            tokens: std::sync::Mutex::new(Some(tokens)),
            saves: Default::default(),
        }
    }

    /// How many times `save` was called.
    pub fn save_count(&self) -> u64 {
        self.saves.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// The current pair, synchronously.
    pub fn current(&self) -> Option<StoredTokens> {
        self.tokens.lock().expect("token store lock").clone()
    }
}

impl fmt::Debug for MemoryTokenStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryTokenStore").finish_non_exhaustive()
    }
}

#[async_trait]
impl TokenStore for MemoryTokenStore {
    async fn load(&self) -> Result<Option<StoredTokens>> {
        Ok(self.current())
    }
    async fn save(&self, tokens: &StoredTokens) -> Result<()> {
        *self.tokens.lock().expect("token store lock") = Some(tokens.clone());
        self.saves.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        Ok(())
    }
}

/// A token store in a JSON file, written atomically (temporary file, fsync, rename) with
/// mode 0600.
#[derive(Debug, Clone)]
pub struct FileTokenStore {
    path: PathBuf,
}

impl FileTokenStore {
    /// A store at `path` (created on first save).
    pub fn new(path: impl Into<PathBuf>) -> Self {
        FileTokenStore { path: path.into() }
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

fn write_atomically(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.tmp-{}", uuid::Uuid::new_v4().simple()));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let result = (|| {
        let mut file = options.open(&tmp)?;
        file.write_all(contents)?;
        file.sync_all()?;
        drop(file);
        std::fs::rename(&tmp, path)?;
        if let Ok(d) = std::fs::File::open(dir) {
            let _ = d.sync_all();
        }
        Ok(())
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

#[async_trait]
impl TokenStore for FileTokenStore {
    async fn load(&self) -> Result<Option<StoredTokens>> {
        match tokio::fs::read_to_string(&self.path).await {
            Ok(text) => StoredTokens::from_json(&text).map(Some),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(Error::TokenStore(format!(
                "reading {}: {e}",
                self.path.display()
            ))),
        }
    }

    async fn save(&self, tokens: &StoredTokens) -> Result<()> {
        let path = self.path.clone();
        let json = tokens.to_json();
        tokio::task::spawn_blocking(move || write_atomically(&path, json.as_bytes()))
            .await
            .map_err(|e| Error::TokenStore(format!("token save task failed: {e}")))?
            .map_err(|e| Error::TokenStore(format!("writing {}: {e}", self.path.display())))
    }
}

/// The URL a person opens to connect the app (`GET /oauth/authorize`).
pub fn authorize_url(
    login_base: &Url,
    client_id: &str,
    redirect_uri: &str,
    state: Option<&str>,
) -> Result<Url> {
    let mut url = login_base
        .join("oauth/authorize")
        .map_err(|e| Error::Config(format!("login base URL: {e}")))?;
    {
        let mut q = url.query_pairs_mut();
        q.append_pair("response_type", "code");
        q.append_pair("client_id", client_id);
        q.append_pair("redirect_uri", redirect_uri);
        if let Some(state) = state {
            q.append_pair("state", state);
        }
    }
    Ok(url)
}

/// Exchanges an authorization code for a token pair and saves it to the configured store.
/// Only for [`Credentials::AuthorizationCode`].
pub async fn exchange_code(config: &ClientConfig, code: &str) -> Result<StoredTokens> {
    let Credentials::AuthorizationCode {
        client_id,
        client_secret,
        redirect_uri,
        store,
    } = &config.credentials
    else {
        return Err(Error::Config(
            "exchange_code needs authorization_code credentials".into(),
        ));
    };
    let http = build_http(config)?;
    let form = [
        ("grant_type", "authorization_code"),
        ("client_id", client_id.as_str()),
        ("client_secret", client_secret.expose_secret()),
        ("code", code),
        ("redirect_uri", redirect_uri.as_str()),
    ];
    let tokens =
        token_request(&http, &config.login_base, &form, &config.retry, Grant::Code).await?;
    store.save(&tokens).await?;
    Ok(tokens)
}

/// The HTTP client every Procore call goes through: the configured timeouts and user agent, no
/// redirects (a bearer token must never follow one), and rustls trusting both the bundled
/// webpki roots and the system's trust store (`/etc/ssl/certs`, `SSL_CERT_FILE` /
/// `SSL_CERT_DIR` on Linux; the keychain on macOS; the certificate store on Windows), so a
/// corporate CA or a TLS-inspecting proxy the machine trusts is trusted too.
pub fn build_http(config: &ClientConfig) -> Result<reqwest::Client> {
    reqwest::Client::builder()
        .user_agent(config.user_agent.clone())
        .timeout(config.request_timeout)
        .connect_timeout(config.connect_timeout)
        .redirect(reqwest::redirect::Policy::none())
        .tls_built_in_webpki_certs(true)
        .tls_built_in_native_certs(true)
        .build()
        .map_err(|e| {
            Error::Config(format!(
                "HTTP client (TLS roots from the system store): {e}"
            ))
        })
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    /// Any JSON number (or nothing): a nonsense value is clamped, not a reason to fail.
    #[serde(default)]
    expires_in: Option<serde_json::Number>,
    #[serde(default)]
    refresh_token: Option<String>,
}

/// Procore access tokens live 5400 s; a token answer without `expires_in` is taken to mean that.
const DEFAULT_TOKEN_LIFETIME_SECS: i64 = 5400;

/// The longest an access token is trusted for, whatever `expires_in` claims: one day. A huge
/// value (a bug, a hostile proxy) must neither overflow the clock arithmetic nor keep a token
/// in use for ever; after a day the client simply asks for a new one.
pub const MAX_TOKEN_LIFETIME_SECS: i64 = 86_400;

/// Seconds an access token is used for: `expires_in` clamped to `0..=MAX_TOKEN_LIFETIME_SECS`
/// (negative, fractional, huge or missing values included). Pure.
fn token_lifetime_secs(expires_in: Option<&serde_json::Number>) -> i64 {
    let Some(n) = expires_in else {
        return DEFAULT_TOKEN_LIFETIME_SECS;
    };
    if let Some(i) = n.as_i64() {
        return i.clamp(0, MAX_TOKEN_LIFETIME_SECS);
    }
    if n.as_u64().is_some() {
        return MAX_TOKEN_LIFETIME_SECS;
    }
    match n.as_f64() {
        Some(f) if f.is_finite() => f.clamp(0.0, MAX_TOKEN_LIFETIME_SECS as f64) as i64,
        _ => 0,
    }
}

/// The parts of an `/oauth/token` error answer that are kept: the OAuth `error` code and its
/// `error_description`, nothing else. The login service may echo the request (the client
/// secret, the refresh token or the authorization code) in any other field, so the rest of the
/// body is never kept, and any form value that is a secret is blanked out of what is kept.
fn oauth_error_body(body: &[u8], form: &[(&str, &str)]) -> ErrorBody {
    let value = serde_json::from_slice::<serde_json::Value>(body).ok();
    let field = |name: &str| {
        value
            .as_ref()
            .and_then(|v| v.get(name))
            .and_then(serde_json::Value::as_str)
            .map(|s| redact_form_secrets(s, form))
    };
    match field("error") {
        Some(error) => ErrorBody::OAuth {
            error,
            description: field("error_description"),
        },
        None => ErrorBody::Text(format!(
            "an answer without an OAuth error code ({} bytes, not shown: it may echo the credentials)",
            body.len()
        )),
    }
}

/// Replaces every secret value of `form` found in `text` with `[REDACTED]`.
fn redact_form_secrets(text: &str, form: &[(&str, &str)]) -> String {
    let mut out = text.to_string();
    for (key, value) in form {
        if matches!(*key, "client_secret" | "refresh_token" | "code") && !value.is_empty() {
            out = out.replace(value, "[REDACTED]");
        }
    }
    out
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Grant {
    ClientCredentials,
    Refresh,
    Code,
}

/// POSTs a form to `/oauth/token`, retrying only what is safe: connection failures, 429, and
/// 5xx (for a refresh, a repeat after a lost answer at worst gets `invalid_grant`, which is
/// the same reconnect the caller would face anyway).
async fn token_request(
    http: &reqwest::Client,
    login_base: &Url,
    form: &[(&str, &str)],
    retry: &RetryConfig,
    grant: Grant,
) -> Result<StoredTokens> {
    let url = login_base
        .join("oauth/token")
        .map_err(|e| Error::Config(format!("login base URL: {e}")))?;
    let mut attempt = 0u32;
    loop {
        let sent = http.post(url.clone()).form(form).send().await;
        let retry_after;
        // What went wrong with this attempt, if the login service answered at all.
        let problem: LoginProblem;
        match sent {
            Ok(resp) => {
                let status = resp.status().as_u16();
                retry_after = crate::http::retry_after(resp.headers());
                let body = crate::http::read_capped(resp, crate::http::MAX_TOKEN_BODY).await;
                match (status, body) {
                    (200..=299, Ok(body)) => match serde_json::from_slice::<TokenResponse>(&body) {
                        Ok(t) => {
                            let lifetime = token_lifetime_secs(t.expires_in.as_ref());
                            return Ok(StoredTokens {
                                access_token: SecretString::from(t.access_token),
                                refresh_token: t
                                    .refresh_token
                                    .filter(|s| !s.is_empty())
                                    .map(SecretString::from),
                                expires_at: Utc::now() + chrono::Duration::seconds(lifetime),
                            });
                        }
                        // An unreadable token answer: treat like a lost answer. serde's
                        // message names a position and a field, never the body's text.
                        Err(e) => {
                            problem = LoginProblem::Answered(format!(
                                "answered {status} but its token answer could not be read ({} bytes: {e})",
                                body.len()
                            ))
                        }
                    },
                    (200..=299, Err(e)) => {
                        problem = LoginProblem::Answered(format!(
                            "answered {status} but its token answer could not be read ({e})"
                        ))
                    }
                    (429 | 500..=599, _) => {
                        problem = LoginProblem::Answered(format!("answered HTTP {status}"))
                    }
                    (_, body) => {
                        let body = oauth_error_body(&body.unwrap_or_default(), form);
                        let code = body.code().unwrap_or_default();
                        let description = body.message().unwrap_or_default();
                        return Err(match (code.as_str(), grant) {
                            ("invalid_grant", Grant::Refresh) => Error::ReconnectNeeded {
                                reason: format!("Procore answered {status} invalid_grant: {description}"),
                            },
                            ("invalid_grant", Grant::Code) => Error::Unauthorized {
                                code,
                                description: format!("{description} (authorization codes are single-use and expire after 10 minutes; start the connection again)"),
                            },
                            ("invalid_client" | "unauthorized_client", _) => Error::Unauthorized { code, description },
                            _ => Error::Api(Box::new(ApiError {
                                status,
                                method: "POST".into(),
                                path: "/oauth/token".into(),
                                body,
                            })),
                        });
                    }
                }
            }
            Err(e) => {
                retry_after = None;
                // The cause (refused, timed out, a certificate not trusted) without the URL,
                // which is the login base and could carry user info.
                problem = LoginProblem::Unreachable(crate::http::describe(&e.without_url()));
            }
        }
        if attempt >= retry.max_retries {
            return Err(match problem {
                LoginProblem::Answered(what) => Error::LoginService {
                    attempts: attempt + 1,
                    what,
                },
                LoginProblem::Unreachable(cause) => Error::Transport {
                    method: "POST".into(),
                    path: "/oauth/token".into(),
                    attempts: attempt + 1,
                    message: format!(
                        "the login server did not give a token: {cause}{}",
                        certificate_hint(&cause)
                    ),
                },
            });
        }
        let delay =
            backoff(attempt, rand::random::<f64>(), retry).max(retry_after.unwrap_or_default());
        tokio::time::sleep(delay.min(Duration::from_secs(60))).await;
        attempt += 1;
    }
}

/// Why one token request did not give a token.
enum LoginProblem {
    /// The login service answered, but not with a token (5xx, 429, an unreadable body).
    Answered(String),
    /// No answer at all (no connection, a timeout, a reset, a TLS failure), with its cause.
    Unreachable(String),
}

/// What to do when a connection failed on the server's certificate: the usual cause is a
/// TLS-inspecting proxy or a corporate CA this machine does not trust yet.
fn certificate_hint(cause: &str) -> &'static str {
    if cause.to_ascii_lowercase().contains("certificate") {
        " (if a proxy or a corporate CA signs this connection, install its CA certificate in the system trust store or point SSL_CERT_FILE at it)"
    } else {
        ""
    }
}

struct Cached {
    token: SecretString,
    expires_at: DateTime<Utc>,
}

#[derive(Default)]
struct TokenState {
    current: Option<Cached>,
    /// A refresh token Procore already refused; never sent again.
    refused: Option<SecretString>,
}

/// Hands out valid access tokens, renewing them as needed.
pub(crate) struct TokenManager {
    http: reqwest::Client,
    login_base: Url,
    credentials: Credentials,
    buffer: chrono::Duration,
    retry: RetryConfig,
    state: tokio::sync::Mutex<TokenState>,
    requests: std::sync::atomic::AtomicU64,
}

impl TokenManager {
    pub(crate) fn new(http: reqwest::Client, config: &ClientConfig) -> Self {
        TokenManager {
            http,
            login_base: config.login_base.clone(),
            credentials: config.credentials.clone(),
            buffer: chrono::Duration::from_std(config.token_refresh_buffer)
                .unwrap_or(chrono::Duration::minutes(5)),
            retry: config.retry.clone(),
            state: tokio::sync::Mutex::new(TokenState::default()),
            requests: Default::default(),
        }
    }

    /// Token endpoint calls made so far.
    pub(crate) fn token_requests(&self) -> u64 {
        self.requests.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// A valid access token. `rejected` is a token Procore just answered 401 to: it is not
    /// handed out again.
    pub(crate) async fn access_token(
        &self,
        rejected: Option<&SecretString>,
    ) -> Result<SecretString> {
        let mut state = self.state.lock().await;
        let now = Utc::now();
        let is_rejected =
            |t: &SecretString| rejected.is_some_and(|r| r.expose_secret() == t.expose_secret());
        if let Some(c) = &state.current {
            if is_fresh(c.expires_at, self.buffer, now) && !is_rejected(&c.token) {
                return Ok(c.token.clone());
            }
        }
        state.current = None;
        match &self.credentials {
            Credentials::ClientCredentials {
                client_id,
                client_secret,
            } => {
                let form = [
                    ("grant_type", "client_credentials"),
                    ("client_id", client_id.as_str()),
                    ("client_secret", client_secret.expose_secret()),
                ];
                self.requests
                    .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let t = token_request(
                    &self.http,
                    &self.login_base,
                    &form,
                    &self.retry,
                    Grant::ClientCredentials,
                )
                .await?;
                state.current = Some(Cached {
                    token: t.access_token.clone(),
                    expires_at: t.expires_at,
                });
                Ok(t.access_token)
            }
            Credentials::AuthorizationCode {
                client_id,
                client_secret,
                redirect_uri,
                store,
            } => {
                // Refresh tokens are single-use: another process sharing the store (a second
                // `trestle sync`, the scheduler) may refresh first, and the one that loses the
                // race gets `invalid_grant`. The winner saves its new pair only once Procore's
                // answer reaches it, which may be after the loser's refusal, so the loser
                // watches the store for a changed refresh token (up to `REFRESH_RACE_WAIT`)
                // and goes on with it.
                let mut lost_race: Option<Error> = None;
                loop {
                    let Some(saved) = store.load().await? else {
                        return Err(lost_race.unwrap_or(Error::ReconnectNeeded {
                            reason: "no Procore authorization is saved yet".into(),
                        }));
                    };
                    // Another process (or an earlier run) may already hold a fresh token.
                    if is_fresh(saved.expires_at, self.buffer, now)
                        && !is_rejected(&saved.access_token)
                    {
                        state.current = Some(Cached {
                            token: saved.access_token.clone(),
                            expires_at: saved.expires_at,
                        });
                        return Ok(saved.access_token);
                    }
                    let Some(refresh) = saved.refresh_token else {
                        return Err(lost_race.unwrap_or(Error::ReconnectNeeded {
                            reason: "the saved authorization has no refresh token".into(),
                        }));
                    };
                    if state
                        .refused
                        .as_ref()
                        .is_some_and(|r| r.expose_secret() == refresh.expose_secret())
                    {
                        return Err(lost_race.unwrap_or(Error::ReconnectNeeded {
                            reason: "the saved refresh token was already refused".into(),
                        }));
                    }
                    let form = [
                        ("grant_type", "refresh_token"),
                        ("client_id", client_id.as_str()),
                        ("client_secret", client_secret.expose_secret()),
                        ("refresh_token", refresh.expose_secret()),
                        ("redirect_uri", redirect_uri.as_str()),
                    ];
                    self.requests
                        .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    match token_request(
                        &self.http,
                        &self.login_base,
                        &form,
                        &self.retry,
                        Grant::Refresh,
                    )
                    .await
                    {
                        Ok(mut fresh) => {
                            if fresh.refresh_token.is_none() {
                                // Not expected from Procore; keep nothing rather than a used token.
                                tracing::warn!(
                                    "Procore refreshed the token without returning a new refresh token"
                                );
                            }
                            fresh.expires_at = fresh.expires_at.min(
                                Utc::now() + chrono::Duration::seconds(MAX_TOKEN_LIFETIME_SECS),
                            );
                            // One write, before the new access token is used anywhere.
                            store.save(&fresh).await?;
                            state.current = Some(Cached {
                                token: fresh.access_token.clone(),
                                expires_at: fresh.expires_at,
                            });
                            return Ok(fresh.access_token);
                        }
                        Err(e @ Error::ReconnectNeeded { .. }) => {
                            if lost_race.is_some() {
                                state.refused = Some(refresh);
                                return Err(e);
                            }
                            tracing::info!(
                                "Procore refused the saved refresh token; waiting up to {}s for another process that refreshed first to save its new pair",
                                REFRESH_RACE_WAIT.as_secs()
                            );
                            let changed = wait_for_another_pair(store.as_ref(), &refresh).await?;
                            state.refused = Some(refresh);
                            if !changed {
                                return Err(e);
                            }
                            lost_race = Some(e);
                        }
                        Err(e) => return Err(e),
                    }
                }
            }
        }
    }
}

/// How long a process whose refresh token Procore refused (`invalid_grant`) watches the token
/// store for another process's new pair before asking for a reconnect. The winner of a refresh
/// race saves its pair when Procore's answer reaches it, a round trip that may end after the
/// loser's refusal; a few seconds cover that with room, and a token that is really gone costs
/// only this wait once per process (a refused token is remembered and never sent again).
pub const REFRESH_RACE_WAIT: Duration = Duration::from_secs(5);

/// How often the store is read while waiting ([`REFRESH_RACE_WAIT`]).
pub const REFRESH_RACE_POLL: Duration = Duration::from_millis(200);

/// Reads the store until its refresh token is no longer `refused` (true; a missing pair counts
/// as changed, so the caller reports what it finds) or [`REFRESH_RACE_WAIT`] passes (false).
async fn wait_for_another_pair(store: &dyn TokenStore, refused: &SecretString) -> Result<bool> {
    let deadline = tokio::time::Instant::now() + REFRESH_RACE_WAIT;
    loop {
        let unchanged = store.load().await?.is_some_and(|saved| {
            saved
                .refresh_token
                .is_some_and(|r| r.expose_secret() == refused.expose_secret())
        });
        if !unchanged {
            return Ok(true);
        }
        let now = tokio::time::Instant::now();
        if now >= deadline {
            return Ok(false);
        }
        tokio::time::sleep(REFRESH_RACE_POLL.min(deadline - now)).await;
    }
}

/// Whether a token expiring at `expires_at` is still good `buffer` before then. Checked, so a
/// nonsense stored time cannot panic the comparison.
fn is_fresh(expires_at: DateTime<Utc>, buffer: chrono::Duration, now: DateTime<Utc>) -> bool {
    expires_at
        .checked_sub_signed(buffer)
        .is_some_and(|t| t > now)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn authorize_url_carries_the_documented_query() {
        let base = Url::parse("https://login.procore.com").unwrap();
        let url = authorize_url(&base, "abc", "urn:ietf:wg:oauth:2.0:oob", Some("s1")).unwrap();
        assert_eq!(
            url.as_str(),
            "https://login.procore.com/oauth/authorize?response_type=code&client_id=abc&redirect_uri=urn%3Aietf%3Awg%3Aoauth%3A2.0%3Aoob&state=s1"
        );
    }

    #[tokio::test]
    async fn file_token_store_round_trips_atomically_with_private_permissions() {
        let dir = tempfile::tempdir().unwrap();
        let store = FileTokenStore::new(dir.path().join("sub/tokens.json"));
        assert!(store.load().await.unwrap().is_none());
        let t = StoredTokens {
            access_token: SecretString::from("a1".to_string()),
            refresh_token: Some(SecretString::from("r1".to_string())),
            expires_at: Utc::now(),
        };
        store.save(&t).await.unwrap();
        let t2 = StoredTokens {
            refresh_token: Some(SecretString::from("r2".to_string())),
            ..t
        };
        store.save(&t2).await.unwrap();
        let back = store.load().await.unwrap().unwrap();
        assert_eq!(back.refresh_token.unwrap().expose_secret(), "r2");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(store.path())
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let leftovers: Vec<_> = std::fs::read_dir(dir.path().join("sub")).unwrap().collect();
        assert_eq!(
            leftovers.len(),
            1,
            "temporary files must not be left behind"
        );
    }
}
