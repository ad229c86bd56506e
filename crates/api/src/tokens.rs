//! `/api/v1/tokens`: the API's tokens, for administrators. A token is answered once, when it
//! is made; afterwards only its first characters are.

use crate::auth::Caller;
use crate::paging::PageQuery;
use crate::{Api, FieldError, Problem};
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Json;
use chrono::{DateTime, Utc};
use engine::tokens::{self, TokenError, TokenRequest};
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use store::{ApiScope, ApiToken};
use utoipa::ToSchema;

/// A token, without the token.
#[derive(Debug, Serialize, ToSchema)]
pub struct Token {
    pub id: i64,
    pub name: String,
    /// `admin`, `read-only` or `worker`.
    pub scope: String,
    /// A worker token's company.
    pub company_id: Option<i64>,
    /// A worker token's worker.
    pub worker_id: Option<i64>,
    /// The token's first characters.
    pub prefix: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl From<ApiToken> for Token {
    fn from(t: ApiToken) -> Token {
        let (company_id, worker_id) = match t.scope {
            ApiScope::Worker {
                company_id,
                worker_id,
            } => (Some(company_id), Some(worker_id)),
            ApiScope::Admin | ApiScope::ReadOnly => (None, None),
        };
        Token {
            id: t.id,
            name: t.name,
            scope: t.scope.name().into(),
            company_id,
            worker_id,
            prefix: t.prefix,
            created_at: t.created_at,
            last_used_at: t.last_used_at,
            revoked_at: t.revoked_at,
        }
    }
}

/// A token to make.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewToken {
    /// Who or what uses it ("CI", "Maria's phone"); up to 100 characters.
    pub name: Option<String>,
    /// `admin`, `read-only` or `worker`.
    pub scope: Option<String>,
    /// For a worker token: the worker's company.
    pub company_id: Option<i64>,
    /// For a worker token: the worker.
    pub worker_id: Option<i64>,
}

/// A token just made: `secret` is the token, answered this once.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedToken {
    pub token: Token,
    pub secret: String,
}

impl From<tokens::CreatedToken> for CreatedToken {
    /// The token just made, with its secret: what `POST /tokens` answers (and `trestle token
    /// create --json` prints) once.
    fn from(created: tokens::CreatedToken) -> CreatedToken {
        CreatedToken {
            secret: created.secret.expose_secret().to_string(),
            token: created.token.into(),
        }
    }
}

/// The scope asked for, or the fields that were wrong.
fn scope(new: &NewToken) -> Result<ApiScope, Vec<FieldError>> {
    let worker_fields = |errors: &mut Vec<FieldError>| {
        for (field, given) in [
            ("company_id", new.company_id.is_some()),
            ("worker_id", new.worker_id.is_some()),
        ] {
            if given {
                errors.push(FieldError::new(field, "only a worker token names a worker"));
            }
        }
    };
    let mut errors = Vec::new();
    let scope = match new.scope.as_deref() {
        Some("admin") => {
            worker_fields(&mut errors);
            Some(ApiScope::Admin)
        }
        Some("read-only") => {
            worker_fields(&mut errors);
            Some(ApiScope::ReadOnly)
        }
        Some("worker") => match (new.company_id, new.worker_id) {
            (Some(company_id), Some(worker_id)) => Some(ApiScope::Worker {
                company_id,
                worker_id,
            }),
            (company, worker) => {
                if company.is_none() {
                    errors.push(FieldError::new(
                        "company_id",
                        "a worker token needs the worker's company",
                    ));
                }
                if worker.is_none() {
                    errors.push(FieldError::new(
                        "worker_id",
                        "a worker token needs the worker",
                    ));
                }
                None
            }
        },
        Some(other) => {
            errors.push(FieldError::new(
                "scope",
                format!("\"{other}\" is no scope; use admin, read-only or worker"),
            ));
            None
        }
        None => {
            errors.push(FieldError::new(
                "scope",
                "missing; use admin, read-only or worker",
            ));
            None
        }
    };
    match scope {
        Some(scope) if errors.is_empty() => Ok(scope),
        _ => Err(errors),
    }
}

#[utoipa::path(
    get,
    path = "/api/v1/tokens",
    tag = "tokens",
    security(("token" = [])),
    params(PageQuery),
    responses(
        (status = 200, description = "Every token, revoked ones included, oldest first; a full page carries `Link: <URL>; rel=\"next\"`", body = Vec<Token>),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn list(
    caller: Caller,
    State(api): State<Api>,
    query: Result<Query<PageQuery>, QueryRejection>,
) -> Result<Response, Problem> {
    caller.admin()?;
    let Query(page) = query.map_err(|r| crate::problem::bad_query(&r))?;
    let all = tokens::list(&api.store).await.map_err(token_problem)?;
    let all = all.into_iter().map(Token::from).collect();
    crate::paging::by_id(all, |t: &Token| t.id, &page, "/api/v1/tokens".into())
}

#[utoipa::path(
    post,
    path = "/api/v1/tokens",
    tag = "tokens",
    security(("token" = [])),
    request_body = NewToken,
    responses(
        (status = 201, description = "The token, answered this once (or again, to the same Idempotency-Key)", body = CreatedToken),
        (status = 409, description = "The first request with this Idempotency-Key still runs", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field was wrong", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn create(
    caller: Caller,
    State(api): State<Api>,
    bytes: axum::body::Bytes,
) -> Result<(StatusCode, Json<CreatedToken>), Problem> {
    caller.admin()?;
    let new: NewToken = crate::problem::json_body(&bytes, "a token")?;
    let scope = scope(&new).map_err(Problem::invalid)?;
    let request = TokenRequest {
        name: new.name.as_deref().unwrap_or_default(),
        scope,
    };
    let created = tokens::create(&api.store, &request, Utc::now())
        .await
        .map_err(token_problem)?;
    Ok((StatusCode::CREATED, Json(created.into())))
}

#[utoipa::path(
    delete,
    path = "/api/v1/tokens/{id}",
    tag = "tokens",
    security(("token" = [])),
    params(("id" = i64, Path, description = "The token's id")),
    responses(
        (status = 200, description = "The token, revoked: it answers no request from now on", body = Token),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Revoked already", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn revoke(
    caller: Caller,
    State(api): State<Api>,
    Path(id): Path<i64>,
) -> Result<Json<Token>, Problem> {
    caller.admin()?;
    let token = tokens::revoke(&api.store, id, Utc::now())
        .await
        .map_err(token_problem)?;
    Ok(Json(token.into()))
}

fn token_problem(e: TokenError) -> Problem {
    match e {
        TokenError::NameEmpty | TokenError::NameTooLong(_) => {
            Problem::invalid(vec![FieldError::new("name", e.to_string())])
        }
        TokenError::NoSuchWorker { .. } => {
            Problem::invalid(vec![FieldError::new("worker_id", e.to_string())])
        }
        TokenError::Store(e) => e.into(),
    }
}
