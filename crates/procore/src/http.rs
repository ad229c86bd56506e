//! The request core: token, company header, pacing, retries, and reading headers.
//!
//! Every `/rest/` call goes through [`Client::execute`]: get a valid access token, wait for the
//! pacer ([`crate::policy::before_send`]), send with `Authorization: Bearer` and
//! `Procore-Company-Id` (and `Idempotency-Token` on writes), fold the `X-Rate-Limit-*` report
//! into the shared pacer, read the whole body (and, for JSON reads, decode it, so a truncated
//! body is retried like any transient failure), then ask
//! [`crate::policy::after_response`] what to do.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use reqwest::header::HeaderMap;
use reqwest::Method;
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;
use url::Url;

use crate::auth::{build_http, TokenManager};
use crate::config::ClientConfig;
use crate::error::{ApiError, Error, ErrorBody, Result};
use crate::policy::{
    self, Attempt, GiveUp, Outcome, PacerState, RateLimit, RetryReason, SendDecision, Verdict,
};
use crate::tally::StatusTally;

/// Reads `X-Rate-Limit-Limit/Remaining/Reset`. Pure.
pub fn rate_limit(headers: &HeaderMap) -> Option<RateLimit> {
    let num = |name: &str| headers.get(name)?.to_str().ok()?.trim().parse::<i64>().ok();
    Some(RateLimit {
        limit: u32::try_from(num("x-rate-limit-limit")?).ok()?,
        remaining: u32::try_from(num("x-rate-limit-remaining")?.max(0)).ok()?,
        reset_at: num("x-rate-limit-reset")?,
    })
}

/// Reads `Retry-After` as seconds or an HTTP date. Pure except for the HTTP-date form, which
/// is measured against the local clock.
pub fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let v = headers.get("retry-after")?.to_str().ok()?.trim();
    if let Ok(secs) = v.parse::<f64>() {
        return (secs.is_finite() && secs >= 0.0)
            .then(|| Duration::from_secs_f64(secs.min(86_400.0)));
    }
    let at = chrono::DateTime::parse_from_rfc2822(v).ok()?;
    (at.with_timezone(&chrono::Utc) - chrono::Utc::now())
        .to_std()
        .ok()
}

/// The largest response body the client reads by default (64 MiB; see
/// [`ClientConfig::max_response_body`]). Procore's largest pages (2,000 records of a wide
/// resource) are a few MiB, so this is generous; it exists so that a broken or hostile server
/// streaming without end cannot exhaust memory.
pub const MAX_RESPONSE_BODY: u64 = 64 * 1024 * 1024;

/// The largest answer read from `/oauth/token` (a token answer is well under 1 KiB).
pub(crate) const MAX_TOKEN_BODY: u64 = 1024 * 1024;

/// The largest error body read from file storage (only its start is kept anyway).
pub(crate) const MAX_ERROR_BODY: u64 = 64 * 1024;

/// Why a body could not be read whole.
#[derive(Debug)]
pub(crate) enum BodyError {
    /// It is larger than the limit (from `Content-Length`, or counted while reading); the rest
    /// was not read.
    TooLarge(u64),
    /// The connection failed mid-body.
    Cut(String),
}

impl std::fmt::Display for BodyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BodyError::TooLarge(limit) => write!(f, "the answer is larger than {limit} bytes"),
            BodyError::Cut(e) => write!(f, "body cut short: {e}"),
        }
    }
}

/// Reads a response body of at most `limit` bytes, chunk by chunk, and stops (dropping the
/// connection) as soon as it is known to be larger: from its `Content-Length` before reading
/// anything, or once the bytes read pass the limit.
pub(crate) async fn read_capped(
    mut resp: reqwest::Response,
    limit: u64,
) -> std::result::Result<Bytes, BodyError> {
    if resp.content_length().is_some_and(|n| n > limit) {
        return Err(BodyError::TooLarge(limit));
    }
    let mut buf = bytes::BytesMut::new();
    loop {
        match resp.chunk().await {
            Ok(Some(chunk)) => {
                if buf.len() as u64 + chunk.len() as u64 > limit {
                    return Err(BodyError::TooLarge(limit));
                }
                buf.extend_from_slice(&chunk);
            }
            Ok(None) => return Ok(buf.freeze()),
            Err(e) => return Err(BodyError::Cut(describe(&e))),
        }
    }
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// Counters of what the client did, for tests, benchmarks and logs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// HTTP requests sent to the API host (retries included, token calls excluded).
    pub requests: u64,
    /// Retries after 5xx, timeouts, connection errors or bad bodies.
    pub retries: u64,
    /// 429 answers received.
    pub rate_limited: u64,
    /// Times the pacer made a send wait.
    pub paced_waits: u64,
    /// Calls to the OAuth token endpoint.
    pub token_requests: u64,
}

#[derive(Default)]
struct Counters {
    requests: AtomicU64,
    retries: AtomicU64,
    rate_limited: AtomicU64,
    paced_waits: AtomicU64,
    statuses: StatusTally,
}

pub(crate) struct Inner {
    pub(crate) http: reqwest::Client,
    pub(crate) config: ClientConfig,
    tokens: TokenManager,
    pacer: std::sync::Mutex<PacerState>,
    counters: Counters,
}

/// A Procore client for one company. Cheap to clone; clones share the token cache and the
/// rate-limit pacer.
#[derive(Clone)]
pub struct Client {
    pub(crate) inner: Arc<Inner>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("config", &self.inner.config)
            .finish_non_exhaustive()
    }
}

/// The body of a call.
#[derive(Debug, Clone)]
pub(crate) enum Body {
    Empty,
    Json(Value),
}

/// One logical call (retries reuse it).
#[derive(Debug, Clone)]
pub(crate) struct Call {
    pub method: Method,
    pub url: Url,
    pub body: Body,
    pub company_header: bool,
    /// Decode the body as JSON inside the retry loop (reads).
    pub expect_json: bool,
    /// A write that is safe to repeat.
    pub idempotent: bool,
}

/// A successful answer.
#[derive(Debug, Clone)]
pub(crate) struct Response {
    pub headers: HeaderMap,
    pub body: Bytes,
    pub json: Option<Value>,
}

impl Client {
    /// Builds a client. No network traffic happens until the first call.
    pub fn new(config: ClientConfig) -> Result<Client> {
        let http = build_http(&config)?;
        let tokens = TokenManager::new(http.clone(), &config);
        Ok(Client {
            inner: Arc::new(Inner {
                http,
                config,
                tokens,
                pacer: std::sync::Mutex::new(PacerState::default()),
                counters: Counters::default(),
            }),
        })
    }

    /// The configuration this client was built with.
    pub fn config(&self) -> &ClientConfig {
        &self.inner.config
    }

    /// Counters of requests, retries and rate limiting so far.
    pub fn stats(&self) -> Stats {
        let c = &self.inner.counters;
        Stats {
            requests: c.requests.load(Ordering::Relaxed),
            retries: c.retries.load(Ordering::Relaxed),
            rate_limited: c.rate_limited.load(Ordering::Relaxed),
            paced_waits: c.paced_waits.load(Ordering::Relaxed),
            token_requests: self.inner.tokens.token_requests(),
        }
    }

    /// The requests sent to the API host so far by how they were answered: a label of
    /// [`crate::tally::STATUS_LABELS`] (`"200"`, `"429"`, `"5xx"`, `"error"` when no answer
    /// came) and how many, for the labels met. They add up to [`Stats::requests`].
    pub fn requests_by_status(&self) -> Vec<(&'static str, u64)> {
        self.inner.counters.statuses.counts()
    }

    /// The last rate-limit report seen (with sends since counted).
    pub fn rate_limit(&self) -> Option<RateLimit> {
        self.inner.pacer.lock().expect("pacer lock").known
    }

    /// A URL under the API base.
    pub(crate) fn url(&self, path: &str) -> Result<Url> {
        self.inner
            .config
            .api_base
            .join(path.trim_start_matches('/'))
            .map_err(|e| Error::Config(format!("API path {path}: {e}")))
    }

    /// A URL under the API base with a query string (already encoded).
    pub(crate) fn url_with_query(&self, path: &str, query: &str) -> Result<Url> {
        let mut url = self.url(path)?;
        if !query.is_empty() {
            url.set_query(Some(query));
        }
        Ok(url)
    }

    /// True when `url` is on the API host (so it may receive the bearer token).
    pub(crate) fn is_api_url(&self, url: &Url) -> bool {
        let base = &self.inner.config.api_base;
        url.scheme() == base.scheme()
            && url.host_str() == base.host_str()
            && url.port_or_known_default() == base.port_or_known_default()
    }

    async fn pace(&self) {
        let cfg = &self.inner.config.retry;
        loop {
            let decision = {
                let mut state = self.inner.pacer.lock().expect("pacer lock");
                policy::before_send(&mut state, now_ms(), rand::random::<f64>(), cfg)
            };
            match decision {
                SendDecision::SendNow => return,
                SendDecision::Wait { delay, reason } => {
                    self.inner
                        .counters
                        .paced_waits
                        .fetch_add(1, Ordering::Relaxed);
                    tracing::debug!(?delay, ?reason, "pacing Procore requests");
                    tokio::time::sleep(delay).await;
                }
            }
        }
    }

    /// Sends one logical call with retries; `Ok` only for 2xx answers.
    pub(crate) async fn execute(&self, call: &Call) -> Result<Response> {
        let cfg = &self.inner.config.retry;
        let path = call.url.path().to_string();
        let method = call.method.to_string();
        let mut attempt = Attempt {
            safe: call.method == Method::GET || call.method == Method::HEAD,
            idempotent: call.idempotent,
            retries: 0,
            rate_limit_waits: 0,
            auth_refreshed: false,
        };
        let idempotency_token = (!attempt.safe).then(|| uuid::Uuid::new_v4().to_string());
        let mut rejected: Option<SecretString> = None;
        loop {
            // Pace first: the wait can be long, and a token taken before it could expire in it.
            self.pace().await;
            let token = self.inner.tokens.access_token(rejected.as_ref()).await?;
            let mut req = self
                .inner
                .http
                .request(call.method.clone(), call.url.clone())
                .bearer_auth(token.expose_secret())
                .header(reqwest::header::ACCEPT, "application/json");
            if call.company_header {
                req = req.header(
                    "Procore-Company-Id",
                    self.inner.config.company_id.to_string(),
                );
            }
            if let Some(t) = &idempotency_token {
                req = req.header("Idempotency-Token", t);
            }
            if let Body::Json(v) = &call.body {
                req = req.json(v);
            }
            self.inner.counters.requests.fetch_add(1, Ordering::Relaxed);
            let sent = req.send().await;

            let mut status = 0u16;
            let mut headers = HeaderMap::new();
            let mut body = Bytes::new();
            let mut json = None;
            let mut failure = String::new();
            self.inner
                .counters
                .statuses
                .count(sent.as_ref().ok().map(|r| r.status().as_u16()));
            let outcome = match sent {
                Err(e) => {
                    failure = describe(&e);
                    if e.is_connect() {
                        Outcome::ConnectFailed
                    } else {
                        Outcome::Transport
                    }
                }
                Ok(resp) => {
                    status = resp.status().as_u16();
                    headers = resp.headers().clone();
                    if let Some(report) = rate_limit(&headers) {
                        policy::observe(&mut self.inner.pacer.lock().expect("pacer lock"), report);
                    }
                    match read_capped(resp, self.inner.config.max_response_body).await {
                        Err(BodyError::TooLarge(limit)) => {
                            // Asking again would only fetch the same oversized answer.
                            return Err(Error::ResponseTooLarge {
                                method,
                                path,
                                limit,
                            });
                        }
                        Err(e) => {
                            failure = e.to_string();
                            if (200..300).contains(&status) {
                                Outcome::BadBody
                            } else {
                                Outcome::Status(status)
                            }
                        }
                        Ok(b) => {
                            body = b;
                            if (200..300).contains(&status) && call.expect_json {
                                match decode_json(&body, &path) {
                                    Ok(v) => {
                                        json = Some(v);
                                        Outcome::Status(status)
                                    }
                                    Err(e) => {
                                        failure = format!(
                                            "undecodable JSON body ({} bytes): {e}",
                                            body.len()
                                        );
                                        Outcome::BadBody
                                    }
                                }
                            } else {
                                Outcome::Status(status)
                            }
                        }
                    }
                }
            };
            if status == 429 {
                self.inner
                    .counters
                    .rate_limited
                    .fetch_add(1, Ordering::Relaxed);
            }
            let verdict = policy::after_response(
                outcome,
                &attempt,
                retry_after(&headers),
                rate_limit(&headers),
                now_ms(),
                rand::random::<f64>(),
                cfg,
            );
            let api_error = |status: u16, body: &Bytes| {
                Error::Api(Box::new(ApiError {
                    status,
                    method: method.clone(),
                    path: path.clone(),
                    body: ErrorBody::parse(body),
                }))
            };
            match verdict {
                Verdict::Done if (200..300).contains(&status) => {
                    return Ok(Response {
                        headers,
                        body,
                        json,
                    })
                }
                Verdict::Done => return Err(api_error(status, &body)),
                Verdict::RefreshAndRetry => {
                    attempt.auth_refreshed = true;
                    rejected = Some(token);
                }
                Verdict::RetryAfter { delay, reason } => {
                    match reason {
                        RetryReason::RateLimited => attempt.rate_limit_waits += 1,
                        RetryReason::Unavailable | RetryReason::Transient => {
                            attempt.retries += 1;
                            self.inner.counters.retries.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                    tracing::debug!(%method, %path, status, ?outcome, ?delay, "retrying Procore call");
                    tokio::time::sleep(delay).await;
                }
                Verdict::GiveUp(GiveUp::RateLimited) => {
                    return Err(Error::RateLimited {
                        method,
                        path,
                        attempts: attempt.rate_limit_waits + 1,
                        wait: retry_after(&headers).unwrap_or_default(),
                    })
                }
                Verdict::GiveUp(GiveUp::OutcomeUnknown) => {
                    let cause = if status != 0 && failure.is_empty() {
                        format!(
                            "HTTP {status}: {}",
                            ErrorBody::parse(&body).summary().unwrap_or_default()
                        )
                    } else {
                        failure
                    };
                    return Err(Error::WriteOutcomeUnknown {
                        method,
                        path,
                        idempotency_token: idempotency_token.unwrap_or_default(),
                        cause,
                    });
                }
                Verdict::GiveUp(GiveUp::TooManyRetries) => {
                    if status >= 400 {
                        return Err(api_error(status, &body));
                    }
                    return Err(Error::Transport {
                        method,
                        path,
                        attempts: attempt.retries + 1,
                        message: failure,
                    });
                }
            }
        }
    }

    /// GET a JSON document from the API.
    pub(crate) async fn get_json(&self, url: Url) -> Result<(Value, HeaderMap)> {
        let resp = self
            .execute(&Call {
                method: Method::GET,
                url,
                body: Body::Empty,
                company_header: true,
                expect_json: true,
                idempotent: false,
            })
            .await?;
        Ok((resp.json.unwrap_or(Value::Null), resp.headers))
    }

    /// A write with a JSON body; returns the decoded answer (`Null` for an empty body).
    pub(crate) async fn write_json(
        &self,
        method: Method,
        url: Url,
        body: Option<Value>,
        idempotent: bool,
    ) -> Result<Value> {
        let path = url.path().to_string();
        let resp = self
            .execute(&Call {
                method: method.clone(),
                url,
                body: body.map(Body::Json).unwrap_or(Body::Empty),
                company_header: true,
                expect_json: false,
                idempotent,
            })
            .await?;
        if resp.body.iter().all(u8::is_ascii_whitespace) {
            return Ok(Value::Null);
        }
        serde_json::from_slice(&resp.body).map_err(|e| Error::Decode {
            method: method.to_string(),
            path,
            message: format!("the write succeeded but its answer is not JSON: {e}"),
        })
    }

    /// A raw call, for endpoints this crate does not model and for tests.
    pub fn raw(&self, method: Method, path: &str) -> RawRequest {
        RawRequest {
            client: self.clone(),
            method,
            path: path.to_string(),
            query: Vec::new(),
            body: None,
            company_header: true,
            idempotent: false,
        }
    }
}

/// Decodes a JSON body. Bytes that are not UTF-8 would fail the whole body, so one bad byte in
/// one record would fail its page on every run; they are replaced with U+FFFD first (only when
/// the body is not UTF-8, so a good body is decoded as is). The record holding them then
/// decodes with the replacement character, or fails on its own in the list's per-record check.
fn decode_json(body: &[u8], path: &str) -> serde_json::Result<Value> {
    match serde_json::from_slice::<Value>(body) {
        Ok(v) => Ok(v),
        Err(e) => match std::str::from_utf8(body) {
            Ok(_) => Err(e),
            Err(_) => {
                tracing::warn!(
                    path,
                    "Procore's answer is not valid UTF-8; the bad bytes are read as U+FFFD"
                );
                serde_json::from_str::<Value>(&String::from_utf8_lossy(body))
            }
        },
    }
}

/// An error with its whole source chain (a connection's cause is only in the sources).
pub(crate) fn describe(e: &reqwest::Error) -> String {
    // reqwest's Display names the URL (never headers, so never a token).
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

/// A hand-built call (see [`Client::raw`]).
#[derive(Debug)]
pub struct RawRequest {
    client: Client,
    method: Method,
    path: String,
    query: Vec<(String, String)>,
    body: Option<Value>,
    company_header: bool,
    idempotent: bool,
}

impl RawRequest {
    /// Adds a query parameter.
    pub fn query(mut self, key: impl Into<String>, value: impl ToString) -> Self {
        self.query.push((key.into(), value.to_string()));
        self
    }

    /// Sets a JSON body.
    pub fn json(mut self, body: Value) -> Self {
        self.body = Some(body);
        self
    }

    /// Leaves out `Procore-Company-Id` (only `/me` and `/companies` allow that, and not with
    /// client credentials).
    pub fn without_company_header(mut self) -> Self {
        self.company_header = false;
        self
    }

    /// Marks a write as safe to repeat.
    pub fn idempotent(mut self) -> Self {
        self.idempotent = true;
        self
    }

    /// Sends it and decodes the JSON answer (`Null` when empty).
    pub async fn send(self) -> Result<Value> {
        let query =
            serde_urlencoded::to_string(&self.query).map_err(|e| Error::Config(e.to_string()))?;
        let url = self.client.url_with_query(&self.path, &query)?;
        let is_get = self.method == Method::GET;
        let resp = self
            .client
            .execute(&Call {
                method: self.method.clone(),
                url,
                body: self.body.map(Body::Json).unwrap_or(Body::Empty),
                company_header: self.company_header,
                expect_json: is_get,
                idempotent: self.idempotent,
            })
            .await?;
        if let Some(v) = resp.json {
            return Ok(v);
        }
        if resp.body.iter().all(u8::is_ascii_whitespace) {
            return Ok(Value::Null);
        }
        serde_json::from_slice(&resp.body).map_err(|e| Error::Decode {
            method: self.method.to_string(),
            path: self.path,
            message: e.to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_limit_and_retry_after_headers_are_read() {
        let mut h = HeaderMap::new();
        assert_eq!(rate_limit(&h), None);
        h.insert("X-Rate-Limit-Limit", "25".parse().unwrap());
        h.insert("X-Rate-Limit-Remaining", "24".parse().unwrap());
        h.insert("X-Rate-Limit-Reset", "1466182247".parse().unwrap());
        assert_eq!(
            rate_limit(&h),
            Some(RateLimit {
                limit: 25,
                remaining: 24,
                reset_at: 1_466_182_247
            })
        );
        h.insert("Retry-After", "7".parse().unwrap());
        assert_eq!(retry_after(&h), Some(Duration::from_secs(7)));
        h.insert("Retry-After", "soon".parse().unwrap());
        assert_eq!(retry_after(&h), None);
    }
}
