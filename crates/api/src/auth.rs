//! Who is calling: the API token in `Authorization: Bearer`, checked against the store, and
//! the scope each route needs. A request without a valid token never reaches a handler.

use crate::{Api, Problem};
use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use axum::http::HeaderMap;
use chrono::Utc;
use engine::tokens::{authenticate, Refused};
use secrecy::SecretString;
use store::{ApiScope, ApiToken};

/// The token a request was made with.
pub(crate) struct Caller(pub ApiToken);

/// A caller the server already signed in another way: the web UI's session, for the calls
/// its pages make to the API in-process. Only code in the server can attach it (a request
/// extension never comes from the network), and it stands for a token checked just before.
#[derive(Debug, Clone)]
pub struct SignedIn(pub ApiToken);

impl Caller {
    /// Routes that change anything outside a worker's own forms.
    pub fn admin(&self) -> Result<(), Problem> {
        match self.0.scope {
            ApiScope::Admin => Ok(()),
            _ => Err(self.refused("an admin token")),
        }
    }

    /// Routes that read.
    pub fn reader(&self) -> Result<(), Problem> {
        match self.0.scope {
            ApiScope::Admin | ApiScope::ReadOnly => Ok(()),
            ApiScope::Worker { .. } => Err(self.refused("an admin or read-only token")),
        }
    }

    /// Routes that fill and sign forms: an admin, or a worker of `company`.
    pub fn filler(&self, company: i64) -> Result<Option<i64>, Problem> {
        match self.0.scope {
            ApiScope::Admin => Ok(None),
            ApiScope::Worker {
                company_id,
                worker_id,
            } if company_id == company => Ok(Some(worker_id)),
            _ => Err(self.refused(&format!(
                "an admin token or a worker token of company {company}"
            ))),
        }
    }

    /// Routes that read forms and templates: any reader, or a worker of `company`.
    pub fn form_reader(&self, company: i64) -> Result<(), Problem> {
        match self.0.scope {
            ApiScope::Admin | ApiScope::ReadOnly => Ok(()),
            ApiScope::Worker { company_id, .. } if company_id == company => Ok(()),
            ApiScope::Worker { .. } => Err(self.refused(&format!(
                "an admin or read-only token, or a worker token of company {company}"
            ))),
        }
    }

    fn refused(&self, needed: &str) -> Problem {
        Problem::forbidden(format!(
            "this route needs {needed}; token {} is {}",
            self.0.id,
            self.0.scope.name()
        ))
    }
}

impl FromRequestParts<Api> for Caller {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, api: &Api) -> Result<Self, Problem> {
        if let Some(SignedIn(token)) = parts.extensions.get::<SignedIn>() {
            return Ok(Caller(token.clone()));
        }
        Ok(Caller(bearer(api, &parts.headers).await?))
    }
}

/// The token in `Authorization: Bearer`, checked against the store; 401 saying what was
/// wrong with it otherwise.
pub(crate) async fn bearer(api: &Api, headers: &HeaderMap) -> Result<ApiToken, Problem> {
    let Some(header) = headers.get(AUTHORIZATION) else {
        return Err(Problem::unauthorized(
            "no API token: send `Authorization: Bearer TOKEN` (an administrator makes tokens)",
        ));
    };
    let token = header
        .to_str()
        .ok()
        .and_then(|h| {
            let (scheme, token) = h.split_once(' ')?;
            scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
        })
        .ok_or_else(|| Problem::unauthorized("the Authorization header is not `Bearer TOKEN`"))?;
    let presented = SecretString::from(token.to_string());
    match authenticate(&api.store, &presented, Utc::now()).await {
        Ok(Ok(token)) => Ok(token),
        Ok(Err(Refused::Malformed)) => Err(Problem::unauthorized(
            "that is not a trestle API token (they start with `trestle_`)",
        )),
        Ok(Err(Refused::Unknown)) => Err(Problem::unauthorized(
            "the API token is unknown or revoked; ask an administrator for a new one",
        )),
        Ok(Err(Refused::WorkerBlocked)) => Err(Problem::forbidden(
            "the worker this token belongs to is blocked; an administrator unblocks them",
        )),
        Err(e) => Err(Problem::internal(&e)),
    }
}
