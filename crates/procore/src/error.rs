//! Errors: what went wrong and what the caller does next.
//!
//! Variants are chosen by the caller's next step: retry later ([`Error::is_retryable`]), look
//! up before retrying a write ([`Error::WriteOutcomeUnknown`]), ask a person to reconnect
//! ([`Error::ReconnectNeeded`]), skip one record ([`Error::MalformedRecord`]) or fix a request
//! ([`Error::Api`] with a 4xx status). Procore's own error body is kept, parsed into one of its
//! documented shapes ([`ErrorBody`]). No variant ever holds a token or a client secret.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use serde_json::Value;

/// Result alias for this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything the client can fail with.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Procore answered with an error status.
    #[error("{0}")]
    Api(Box<ApiError>),

    /// The saved authorization is gone (refresh token used, revoked or missing). A person must
    /// reconnect; retrying cannot help.
    #[error("Procore refused the saved refresh token; connect the company to Procore again to authorize it. ({reason})")]
    ReconnectNeeded {
        /// What exactly was refused or missing.
        reason: String,
    },

    /// The OAuth token endpoint refused the app's credentials (wrong client id or secret, or a
    /// bad authorization code).
    #[error("Procore's login server refused the app credentials ({code}): {description}. Check the client id and client secret of the Procore app.")]
    Unauthorized {
        /// OAuth `error` code, such as `invalid_client`.
        code: String,
        /// OAuth `error_description`.
        description: String,
    },

    /// A write was sent but its outcome is unknown (connection dropped or 5xx after sending).
    /// Look the record up (by `origin_id` or name) before sending it again.
    #[error("the outcome of {method} {path} is unknown ({cause}); look the record up before retrying (idempotency token {idempotency_token})")]
    WriteOutcomeUnknown {
        /// HTTP method.
        method: String,
        /// Request path.
        path: String,
        /// The `Idempotency-Token` that was sent.
        idempotency_token: String,
        /// What happened after sending.
        cause: String,
    },

    /// Rate limited too many times in a row.
    #[error("Procore kept rate-limiting {method} {path} after {attempts} attempts; the hourly budget is probably spent, try again after {wait:?}")]
    RateLimited {
        /// HTTP method.
        method: String,
        /// Request path.
        path: String,
        /// Attempts made.
        attempts: u32,
        /// How long Procore asked to wait on the last answer.
        wait: Duration,
    },

    /// The connection failed, timed out or the body was cut short, and retries ran out.
    #[error("could not reach Procore for {method} {path} after {attempts} attempts: {message}. Check the network and the API base URL, then retry.")]
    Transport {
        /// HTTP method.
        method: String,
        /// Request path.
        path: String,
        /// Attempts made.
        attempts: u32,
        /// Underlying error text (never contains headers or secrets).
        message: String,
    },

    /// Procore's login service (`POST /oauth/token`) answered, but never with a token: a 5xx,
    /// a 429, or an answer that could not be read, until retries ran out. The network is fine;
    /// the problem is on Procore's side (or a proxy in between), so a later run may succeed.
    #[error("Procore's login service (POST /oauth/token) {what}, after {attempts} attempts; this is on Procore's side (or a proxy's), not the network or the credentials: try again later")]
    LoginService {
        /// Attempts made.
        attempts: u32,
        /// What the last answer was (its status, or why it could not be read; never its body).
        what: String,
    },

    /// A response body was larger than the client accepts
    /// ([`crate::http::MAX_RESPONSE_BODY`]); the rest of it was not read.
    #[error("Procore's answer to {method} {path} is larger than {limit} bytes; the client stopped reading it. A page this large is not what Procore sends: ask for smaller pages or check a proxy in between")]
    ResponseTooLarge {
        /// HTTP method.
        method: String,
        /// Request path.
        path: String,
        /// The limit in bytes.
        limit: u64,
    },

    /// A list's `Link: rel="next"` pointed back to a page already read (A -> B -> A): the
    /// listing stops instead of going round for ever.
    #[error("the pages of GET {path} go round in a cycle: page {page}'s next link ({link}) leads back to page {back_to}; the listing stopped there. This is a fault in Procore's paging (or a proxy's); try again later")]
    PageCycle {
        /// Request path.
        path: String,
        /// The page whose next link closes the cycle.
        page: u32,
        /// The earlier page it links back to.
        back_to: u32,
        /// The link as given.
        link: String,
    },

    /// A list went on for more pages than any real listing has
    /// ([`crate::ClientConfig::max_pages`]).
    #[error("GET {path} went on for more than {pages} pages; the listing stopped there. Procore's lists are never this long: check the filters or a proxy in between")]
    TooManyPages {
        /// Request path.
        path: String,
        /// The page limit reached.
        pages: u32,
    },

    /// A successful response whose body is not what the endpoint documents.
    #[error("Procore's answer to {method} {path} could not be read: {message}")]
    Decode {
        /// HTTP method.
        method: String,
        /// Request path.
        path: String,
        /// What did not match.
        message: String,
    },

    /// One record of a list could not be read; the rest of the list is fine. Skip it with
    /// this reason.
    #[error("{0}")]
    MalformedRecord(Box<Malformed>),

    /// The client was configured wrongly (bad URL, missing credentials).
    #[error("invalid Procore client configuration: {0}")]
    Config(String),

    /// The token store could not be read or written.
    #[error("the Procore token store failed: {0}. Check the token file's path and permissions.")]
    TokenStore(String),

    /// The file-storage step of an upload (the v1.1 POST or a v2.1 part PUT to the returned
    /// URL) failed.
    #[error("uploading the file to storage failed with HTTP {status}: {body}")]
    Upload {
        /// HTTP status from the storage service.
        status: u16,
        /// Start of the storage service's answer.
        body: String,
    },

    /// A completed unified upload did not become `available` in time (or Procore reported it
    /// failed). Its bytes are stored; a later attempt uploads again, since an upload that is
    /// never attached to a file is deleted after 24 h anyway.
    #[error("Procore did not make upload {upload_id} available (last status {status:?} after {waited:?}); retry the upload later")]
    UploadNotAvailable {
        /// The v2.1 upload id.
        upload_id: String,
        /// The last status Procore reported.
        status: String,
        /// How long the client polled.
        waited: Duration,
    },
}

impl Error {
    /// True when the same call may succeed later without any change: 5xx, 408, 429,
    /// connection failures and rate limiting. False for 4xx, unknown write outcomes (look up
    /// first), reconnects and malformed data.
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::Api(e) => e.status == 408 || e.status == 429 || e.status >= 500,
            Error::Transport { .. }
            | Error::LoginService { .. }
            | Error::RateLimited { .. }
            | Error::UploadNotAvailable { .. } => true,
            Error::Upload { status, .. } => *status >= 500 || *status == 429,
            _ => false,
        }
    }

    /// True for a per-record problem: the stream that yielded it keeps going.
    pub fn is_record_error(&self) -> bool {
        matches!(self, Error::MalformedRecord(_))
    }

    /// The HTTP status, when Procore answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Api(e) => Some(e.status),
            Error::Upload { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// True when Procore said the `Procore-Company-Id` header was missing.
    pub fn is_missing_company_header(&self) -> bool {
        match self {
            Error::Api(e) => {
                e.body.code().as_deref() == Some("missing_company_id")
                    || e.body
                        .message()
                        .is_some_and(|m| m.contains("Procore-Company-Id"))
            }
            _ => false,
        }
    }
}

impl From<Malformed> for Error {
    fn from(m: Malformed) -> Self {
        Error::MalformedRecord(Box::new(m))
    }
}

/// An error status from Procore with its parsed body.
#[derive(Debug, Clone)]
pub struct ApiError {
    /// HTTP status code.
    pub status: u16,
    /// HTTP method of the request.
    pub method: String,
    /// Path of the request (no query string, no host).
    pub path: String,
    /// Procore's error body.
    pub body: ErrorBody,
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Procore answered {} to {} {}",
            self.status, self.method, self.path
        )?;
        if let Some(summary) = self.body.summary() {
            write!(f, ": {summary}")?;
        }
        write!(f, ". {}", advice(self.status, &self.body))
    }
}

fn advice(status: u16, body: &ErrorBody) -> &'static str {
    if body.code().as_deref() == Some("missing_company_id") {
        return "Every /rest/ call needs the Procore-Company-Id header; set the company id in the client configuration.";
    }
    match status {
        400 => "The request is malformed or misses a required field; fix the request.",
        401 => "The access token was refused; check the app credentials or reconnect.",
        403 => "The app lacks permission: make sure it is installed in this company and its service account can use this tool.",
        404 => "The record does not exist, or the app's service account cannot see it.",
        406 => "Procore does not know one of the fields or the content type sent.",
        408 => "Procore timed out; narrow the request (filters, smaller pages) and retry.",
        409 => "The record conflicts with another (duplicate name or checked-out file).",
        422 => "Procore rejected the values; fix the fields listed.",
        429 => "The rate limit is spent; wait for the reset and retry.",
        500..=599 => "Procore had a problem on its side; retry later.",
        _ => "See Procore's error reference.",
    }
}

/// Procore's error body in one of its documented shapes (`api-conventions.json`
/// `errors.body_shapes_in_openapi`), an OAuth error, or raw text.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum ErrorBody {
    /// `{"error":{"code","message","details":[{code,message,source}]}}`
    Default {
        /// `error.code`
        code: Option<String>,
        /// `error.message`
        message: Option<String>,
        /// `error.details`
        details: Vec<ErrorDetail>,
    },
    /// `{"code":403,"message","fields","reason","error"}` (many 401/403 answers).
    Flat {
        /// `code` (usually the status as a number).
        code: Option<String>,
        /// `message`
        message: Option<String>,
        /// `fields`
        fields: Option<String>,
        /// `reason`
        reason: Option<String>,
        /// `error`
        error: Option<String>,
    },
    /// `{"errors":{"base":[..],"<field>":[..]}}` (validation).
    Validation {
        /// Messages per field; `base` holds record-level messages.
        errors: BTreeMap<String, Vec<String>>,
    },
    /// `{"error":"invalid_grant","error_description":"..."}` from the OAuth endpoints.
    OAuth {
        /// `error`
        error: String,
        /// `error_description`
        description: Option<String>,
    },
    /// Anything else, kept as text (truncated to 2 KiB).
    Text(String),
}

/// One entry of `error.details`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ErrorDetail {
    /// `code`
    pub code: Option<String>,
    /// `message`
    pub message: Option<String>,
    /// `source`
    pub source: Option<String>,
}

fn text(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

fn strings(v: &Value) -> Vec<String> {
    match v {
        Value::Array(items) => items.iter().filter_map(|i| text(Some(i))).collect(),
        Value::Null => Vec::new(),
        other => text(Some(other)).into_iter().collect(),
    }
}

impl ErrorBody {
    /// Parses an error body. Pure; never fails.
    pub fn parse(body: &[u8]) -> ErrorBody {
        let Ok(value) = serde_json::from_slice::<Value>(body) else {
            let mut s = String::from_utf8_lossy(body).into_owned();
            if s.len() > 2048 {
                let mut cut = 2048;
                while !s.is_char_boundary(cut) {
                    cut -= 1;
                }
                s.truncate(cut);
            }
            return ErrorBody::Text(s);
        };
        Self::from_value(&value).unwrap_or_else(|| ErrorBody::Text(value.to_string()))
    }

    fn from_value(value: &Value) -> Option<ErrorBody> {
        let obj = value.as_object()?;
        if let Some(Value::Object(err)) = obj.get("error") {
            let details = err
                .get("details")
                .and_then(Value::as_array)
                .map(|items| {
                    items
                        .iter()
                        .map(|d| match d {
                            Value::Object(_) => ErrorDetail {
                                code: text(d.get("code")),
                                message: text(d.get("message")),
                                source: text(d.get("source")),
                            },
                            other => ErrorDetail {
                                message: text(Some(other)),
                                ..ErrorDetail::default()
                            },
                        })
                        .collect()
                })
                .unwrap_or_default();
            return Some(ErrorBody::Default {
                code: text(err.get("code")),
                message: text(err.get("message")),
                details,
            });
        }
        if let Some(Value::Object(errs)) = obj.get("errors") {
            let errors = errs.iter().map(|(k, v)| (k.clone(), strings(v))).collect();
            return Some(ErrorBody::Validation { errors });
        }
        if let Some(Value::Array(errs)) = obj.get("errors") {
            let mut errors = BTreeMap::new();
            errors.insert(
                "base".to_string(),
                errs.iter().filter_map(|e| text(Some(e))).collect(),
            );
            return Some(ErrorBody::Validation { errors });
        }
        if let (Some(Value::String(error)), false) = (obj.get("error"), obj.contains_key("reason"))
        {
            if obj.contains_key("error_description") || !obj.contains_key("message") {
                return Some(ErrorBody::OAuth {
                    error: error.clone(),
                    description: text(obj.get("error_description")),
                });
            }
        }
        if obj.contains_key("message") || obj.contains_key("reason") || obj.contains_key("error") {
            return Some(ErrorBody::Flat {
                code: text(obj.get("code")),
                message: text(obj.get("message")),
                fields: text(obj.get("fields")),
                reason: text(obj.get("reason")),
                error: text(obj.get("error")),
            });
        }
        None
    }

    /// A machine-readable code: `error.code`, the OAuth `error`, or the flat `reason`.
    pub fn code(&self) -> Option<String> {
        match self {
            ErrorBody::Default { code, .. } => code.clone(),
            ErrorBody::Flat { reason, code, .. } => reason.clone().or_else(|| code.clone()),
            ErrorBody::OAuth { error, .. } => Some(error.clone()),
            _ => None,
        }
    }

    /// The human-readable message, when there is one.
    pub fn message(&self) -> Option<String> {
        match self {
            ErrorBody::Default { message, .. } => message.clone(),
            ErrorBody::Flat { message, error, .. } => message.clone().or_else(|| error.clone()),
            ErrorBody::OAuth { description, error } => {
                description.clone().or_else(|| Some(error.clone()))
            }
            ErrorBody::Validation { .. } => self.summary(),
            ErrorBody::Text(t) => Some(t.clone()),
        }
    }

    /// One line describing the body, for error messages.
    pub fn summary(&self) -> Option<String> {
        match self {
            ErrorBody::Validation { errors } => Some(
                errors
                    .iter()
                    .map(|(field, msgs)| format!("{field}: {}", msgs.join(", ")))
                    .collect::<Vec<_>>()
                    .join("; "),
            ),
            ErrorBody::Default {
                code,
                message,
                details,
            } => {
                let mut s = match (code, message) {
                    (Some(c), Some(m)) => format!("{m} ({c})"),
                    (None, Some(m)) => m.clone(),
                    (Some(c), None) => c.clone(),
                    (None, None) => return None,
                };
                for d in details {
                    if let Some(m) = &d.message {
                        s.push_str("; ");
                        s.push_str(m);
                    }
                }
                Some(s)
            }
            ErrorBody::Text(t) if t.trim().is_empty() => None,
            _ => self.message(),
        }
    }
}

/// A record that could not be read, with enough context to skip it and say why.
#[derive(Debug, Clone)]
pub struct Malformed {
    /// What kind of record (`"project"`, `"company user"`, ...).
    pub kind: &'static str,
    /// The record's `id`, when it could be read.
    pub id: Option<String>,
    /// Why it could not be read.
    pub reason: String,
    /// The record as received.
    pub raw: Value,
}

impl fmt::Display for Malformed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "skipped a malformed {} record (id {}): {}",
            self.kind,
            self.id.as_deref().unwrap_or("unknown"),
            self.reason
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_bodies_parse_into_the_documented_shapes() {
        let cases: Vec<(&str, ErrorBody)> = vec![
            (
                r#"{"error":{"code":"missing_company_id","message":"Missing Procore-Company-Id header!","details":[]}}"#,
                ErrorBody::Default {
                    code: Some("missing_company_id".into()),
                    message: Some("Missing Procore-Company-Id header!".into()),
                    details: vec![],
                },
            ),
            (
                r#"{"error":{"code":"bad","message":"Bad","details":[{"code":"c","message":"m","source":"s"}]}}"#,
                ErrorBody::Default {
                    code: Some("bad".into()),
                    message: Some("Bad".into()),
                    details: vec![ErrorDetail {
                        code: Some("c".into()),
                        message: Some("m".into()),
                        source: Some("s".into()),
                    }],
                },
            ),
            (
                r#"{"code":403,"message":"App is not connected to this company","fields":"","reason":"forbidden","error":"Forbidden"}"#,
                ErrorBody::Flat {
                    code: Some("403".into()),
                    message: Some("App is not connected to this company".into()),
                    fields: Some("".into()),
                    reason: Some("forbidden".into()),
                    error: Some("Forbidden".into()),
                },
            ),
            (
                r#"{"errors":{"base":["is invalid"],"name":["has already been taken"]}}"#,
                ErrorBody::Validation {
                    errors: [
                        ("base".to_string(), vec!["is invalid".to_string()]),
                        (
                            "name".to_string(),
                            vec!["has already been taken".to_string()],
                        ),
                    ]
                    .into_iter()
                    .collect(),
                },
            ),
            (
                r#"{"error":"invalid_grant","error_description":"The refresh token is invalid"}"#,
                ErrorBody::OAuth {
                    error: "invalid_grant".into(),
                    description: Some("The refresh token is invalid".into()),
                },
            ),
            (
                "<html>Bad Gateway</html>",
                ErrorBody::Text("<html>Bad Gateway</html>".into()),
            ),
            ("", ErrorBody::Text(String::new())),
        ];
        for (raw, want) in cases {
            assert_eq!(ErrorBody::parse(raw.as_bytes()), want, "{raw}");
        }
    }

    #[test]
    fn api_error_messages_say_what_was_wrong_and_what_to_do() {
        let e = Error::Api(Box::new(ApiError {
            status: 400,
            method: "GET".into(),
            path: "/rest/v1.0/projects".into(),
            body: ErrorBody::parse(
                br#"{"error":{"code":"missing_company_id","message":"Missing Procore-Company-Id header!","details":[]}}"#,
            ),
        }));
        let text = e.to_string();
        assert!(
            text.contains("Missing Procore-Company-Id header!"),
            "{text}"
        );
        assert!(text.contains("set the company id"), "{text}");
        assert!(e.is_missing_company_header());
        assert!(!e.is_retryable());
    }
}
