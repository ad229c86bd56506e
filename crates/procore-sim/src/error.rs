//! API errors in the body shapes fixed by `docs/contract-sim-client.md`.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

#[derive(Debug, thiserror::Error)]
pub(crate) enum ApiError {
    #[error("invalid token")]
    InvalidToken,
    #[error("invalid client")]
    InvalidClient,
    #[error("invalid grant: {0}")]
    InvalidGrant(&'static str),
    #[error("unsupported grant type")]
    UnsupportedGrant,
    #[error("missing company id")]
    MissingCompany,
    #[error("forbidden: {0}")]
    Forbidden(String),
    #[error("not found: {0}")]
    NotFound(String),
    /// 400 with `{"errors":{"base":[..]}}`.
    #[error("bad request: {0}")]
    BadRequest(String),
    /// 422 with `{"errors":{field:[msg]}}`.
    #[error("unprocessable: {0}: {1}")]
    Unprocessable(String, String),
    /// Any other status with a complete body.
    #[error("raw {0}")]
    Raw(StatusCode, Value),
}

impl ApiError {
    pub(crate) fn not_found(what: &str) -> Self {
        ApiError::NotFound(format!("{what} not found"))
    }
    pub(crate) fn invalid(field: &str, msg: &str) -> Self {
        ApiError::Unprocessable(field.to_owned(), msg.to_owned())
    }
}

pub(crate) fn default_error(code: &str, message: &str) -> Value {
    json!({"error": {"code": code, "message": message, "details": []}})
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, body) = match &self {
            ApiError::InvalidToken => {
                let mut r = (
                    StatusCode::UNAUTHORIZED,
                    axum::Json(json!({"error": "invalid_token", "error_description": "The access token is invalid"})),
                )
                    .into_response();
                r.headers_mut()
                    .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
                return r;
            }
            ApiError::InvalidClient => (
                StatusCode::UNAUTHORIZED,
                json!({"error": "invalid_client", "error_description": "Client authentication failed due to unknown client, no client authentication included, or unsupported authentication method."}),
            ),
            ApiError::InvalidGrant(d) => (
                StatusCode::UNAUTHORIZED,
                json!({"error": "invalid_grant", "error_description": d}),
            ),
            ApiError::UnsupportedGrant => (
                StatusCode::BAD_REQUEST,
                json!({"error": "unsupported_grant_type", "error_description": "The authorization grant type is not supported by the authorization server."}),
            ),
            ApiError::MissingCompany => (
                StatusCode::BAD_REQUEST,
                default_error("missing_company_id", "Missing Procore-Company-Id header!"),
            ),
            ApiError::Forbidden(m) => (
                StatusCode::FORBIDDEN,
                json!({"code": 403, "message": m, "fields": "", "reason": "forbidden", "error": "Forbidden"}),
            ),
            ApiError::NotFound(m) => (StatusCode::NOT_FOUND, default_error("not_found", m)),
            ApiError::BadRequest(m) => (StatusCode::BAD_REQUEST, json!({"errors": {"base": [m]}})),
            ApiError::Unprocessable(f, m) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                json!({"errors": {f.as_str(): [m]}}),
            ),
            ApiError::Raw(s, v) => (*s, v.clone()),
        };
        (status, axum::Json(body)).into_response()
    }
}

pub(crate) type ApiResult<T = Response> = Result<T, ApiError>;

/// The last resort behind every handler: an error answer that is not JSON (axum's own
/// rejections: 405, 413, a body that cannot be read; or a handler's plain-text refusal) is
/// rewritten into Procore's default error body, since a Procore client decodes every 4xx and
/// 5xx as JSON. A method a route does not take is Rails' unmatched route, so 404.
pub(crate) async fn json_errors(
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    // The simulated object storage answers as S3 does, not as Procore.
    let storage = req.uri().path().starts_with("/_sim/s3/");
    let resp = next.run(req).await;
    let status = resp.status();
    if storage || !(status.is_client_error() || status.is_server_error()) || is_json(&resp) {
        return resp;
    }
    let (status, code, message) = match status {
        StatusCode::METHOD_NOT_ALLOWED | StatusCode::NOT_FOUND => (
            StatusCode::NOT_FOUND,
            "not_found",
            "The requested resource could not be found".to_owned(),
        ),
        StatusCode::PAYLOAD_TOO_LARGE => (
            status,
            "payload_too_large",
            "The request body is too large".to_owned(),
        ),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => (
            StatusCode::NOT_ACCEPTABLE,
            "not_acceptable",
            "Unsupported content type".to_owned(),
        ),
        s if s.is_server_error() => (
            s,
            "server_error",
            s.canonical_reason().unwrap_or("Server Error").to_owned(),
        ),
        s => {
            let (parts, body) = resp.into_parts();
            let text = axum::body::to_bytes(body, 4096)
                .await
                .map(|b| String::from_utf8_lossy(&b).trim().to_owned())
                .unwrap_or_default();
            let message = if text.is_empty() {
                s.canonical_reason().unwrap_or("Error").to_owned()
            } else {
                text
            };
            let mut r = (s, axum::Json(default_error("bad_request", &message))).into_response();
            keep_headers(&parts.headers, r.headers_mut());
            return r;
        }
    };
    let headers = resp.headers().clone();
    let mut r = (status, axum::Json(default_error(code, &message))).into_response();
    keep_headers(&headers, r.headers_mut());
    r
}

fn is_json(resp: &Response) -> bool {
    resp.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| {
            let ct = ct.to_ascii_lowercase();
            ct.starts_with("application/json") || ct.contains("+json")
        })
}

/// Rate-limit and retry headers survive the rewrite; the body's own headers do not.
fn keep_headers(from: &axum::http::HeaderMap, to: &mut axum::http::HeaderMap) {
    for name in [header::RETRY_AFTER, header::WWW_AUTHENTICATE] {
        if let Some(v) = from.get(&name) {
            to.insert(name, v.clone());
        }
    }
}
