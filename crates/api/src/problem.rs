//! Errors as `application/problem+json` (RFC 9457): a status, a title, a detail a person can
//! act on, and for invalid input the fields that were wrong and why, so a form can show each
//! message beside its field. Internal failures are logged and answered without their detail
//! (it may name a table or a host), with a time to find the log line by.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

/// An error answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Problem {
    /// `about:blank`: the status and title say what kind of problem it is.
    #[serde(rename = "type")]
    pub kind: String,
    /// The status's name ("Unprocessable Content").
    pub title: String,
    pub status: u16,
    /// What was wrong and what to do about it.
    pub detail: String,
    /// For invalid input: each field that was wrong.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub errors: Vec<FieldError>,
}

/// One invalid field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct FieldError {
    /// The field's name in the request body or query (`scope`, `worker_id`).
    pub field: String,
    /// Why it was refused, and what to send instead.
    pub detail: String,
}

impl FieldError {
    pub fn new(field: &str, detail: impl Into<String>) -> FieldError {
        FieldError {
            field: field.into(),
            detail: detail.into(),
        }
    }
}

/// Reads a route's JSON body as `T` (`what` it is, for the message). What does not fit is
/// named by its path in the body (`policy.expiration_date`, `requirements[2].minimum`), so a
/// form can show the message beside the field; `body` only when the body is not JSON at all.
pub fn json_body<T: serde::de::DeserializeOwned>(bytes: &[u8], what: &str) -> Result<T, Problem> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let read = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        // A map key serde cannot name (an enum's) shows as `?`: the map itself is named.
        let path = e.path().to_string().replace(".?", "");
        (path, e.into_inner())
    });
    let read = read.and_then(|value| de.end().map(|()| value).map_err(|e| (".".into(), e)));
    read.map_err(|(path, inner): (String, serde_json::Error)| {
        let message = inner.to_string();
        // A missing field is reported at the object that lacks it: name the field itself.
        let missing = message
            .strip_prefix("missing field `")
            .and_then(|rest| rest.split_once('`'))
            .map(|(name, _)| name);
        let field = match (path.as_str(), missing) {
            (".", Some(name)) => name.to_string(),
            // The body is a list where an object is wanted: the body itself is wrong.
            (".", None) => "body".to_string(),
            (path, _) if path.starts_with('[') => "body".to_string(),
            (path, Some(name)) => format!("{path}.{name}"),
            (path, None) => path.to_string(),
        };
        // serde's line and column say nothing to a person sending one small object.
        let why = message
            .rsplit_once(" at line ")
            .map_or(message.as_str(), |(why, _)| why);
        Problem::invalid(vec![FieldError::new(&field, format!("not {what}: {why}"))])
    })
}

/// A query string that is not the one a route takes, as a problem naming what serde found.
pub(crate) fn bad_query(rejection: &axum::extract::rejection::QueryRejection) -> Problem {
    Problem::invalid(vec![FieldError::new("query", rejection.body_text())])
}

impl Problem {
    pub fn new(status: StatusCode, detail: impl Into<String>) -> Problem {
        Problem {
            kind: "about:blank".into(),
            title: status.canonical_reason().unwrap_or("Error").into(),
            status: status.as_u16(),
            detail: detail.into(),
            errors: Vec::new(),
        }
    }

    pub fn unauthorized(detail: impl Into<String>) -> Problem {
        Problem::new(StatusCode::UNAUTHORIZED, detail)
    }

    pub fn forbidden(detail: impl Into<String>) -> Problem {
        Problem::new(StatusCode::FORBIDDEN, detail)
    }

    pub fn not_found(detail: impl Into<String>) -> Problem {
        Problem::new(StatusCode::NOT_FOUND, detail)
    }

    pub fn conflict(detail: impl Into<String>) -> Problem {
        Problem::new(StatusCode::CONFLICT, detail)
    }

    /// Invalid input: 422 naming each field.
    pub fn invalid(errors: Vec<FieldError>) -> Problem {
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        let detail = format!("invalid: {}; see errors", fields.join(", "));
        Problem {
            errors,
            ..Problem::new(StatusCode::UNPROCESSABLE_ENTITY, detail)
        }
    }

    /// A failure that is not the caller's: logged here, answered without its detail.
    pub fn internal(error: &dyn std::fmt::Display) -> Problem {
        let at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        tracing::error!(%error, at, "API request failed");
        Problem::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("trestle could not answer; its log has the cause (at {at})"),
        )
    }
}

impl From<sync::SyncError> for Problem {
    fn from(e: sync::SyncError) -> Problem {
        match e {
            sync::SyncError::Store(e) => e.into(),
            other => Problem::internal(&other),
        }
    }
}

impl From<store::StoreError> for Problem {
    fn from(e: store::StoreError) -> Problem {
        match e {
            store::StoreError::NotFound { what, id } => {
                Problem::not_found(format!("there is no {what} {id}"))
            }
            store::StoreError::Conflict(detail) => Problem::conflict(detail),
            e @ store::StoreError::Changed { .. } => {
                Problem::new(StatusCode::PRECONDITION_FAILED, e.to_string())
            }
            other => Problem::internal(&other),
        }
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut response = (status, axum::Json(&self)).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if status == StatusCode::UNAUTHORIZED {
            headers.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"trestle\""),
            );
        }
        response
    }
}

/// Any `/api/v1` path no route serves.
pub(crate) async fn no_route() -> Problem {
    Problem::not_found("no such API route; /api/v1/openapi.json lists them")
}
