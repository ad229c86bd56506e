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
