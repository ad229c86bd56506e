//! Route handlers, one module per Procore area. Each handler takes the lock once, checks
//! auth, then reads or changes the world through `changes` and renders through `wire`.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use crate::auth::{self, CompanyHeader, Ctx};
use crate::changes::{Actor, Attrs};
use crate::error::{ApiError, ApiResult};
use crate::paging::{Paging, ReqInfo};
use crate::query::Query;
use crate::world::World;
use crate::Sim;
pub(crate) use body::Body;

pub(crate) mod body;
pub(crate) mod commitments;
pub(crate) mod company_uploads;
pub(crate) mod documents;
pub(crate) mod insurances;
pub(crate) mod oauth;
pub(crate) mod project_directory;
pub(crate) mod project_documents;
pub(crate) mod projects;
pub(crate) mod unified_uploads;
pub(crate) mod users;
pub(crate) mod vendors;
pub(crate) mod webhooks;

/// Path parameters as Procore answers them: an id that is no number, or one too large for
/// Procore's ids, names a record that does not exist, so the answer is 404 with Procore's JSON
/// error body (before any token check, as for any missing record), never axum's plain-text 400.
pub(crate) struct Path<T>(pub(crate) T);

impl<T, S> FromRequestParts<S> for Path<T>
where
    T: serde::de::DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(value)) => Ok(Path(value)),
            Err(_) => Err(ApiError::NotFound("Record not found".into())),
        }
    }
}

/// What every handler needs from the request besides path and body.
pub(crate) struct Req {
    pub(crate) headers: HeaderMap,
    pub(crate) q: Query,
    pub(crate) info: ReqInfo,
}

impl Req {
    pub(crate) fn base(&self) -> &str {
        &self.info.base
    }
}

pub(crate) fn base_url(sim: &Sim, headers: &HeaderMap) -> String {
    if let Some(u) = &sim.config().public_url {
        return u.trim_end_matches('/').to_owned();
    }
    let host = headers
        .get(axum::http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("127.0.0.1");
    format!("http://{host}")
}

impl FromRequestParts<Sim> for Req {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, sim: &Sim) -> Result<Self, Self::Rejection> {
        let q = Query::parse(parts.uri.query());
        let info = ReqInfo {
            base: base_url(sim, &parts.headers),
            path: parts.uri.path().to_owned(),
            query: q.clone(),
        };
        Ok(Req {
            headers: parts.headers.clone(),
            q,
            info,
        })
    }
}

impl Sim {
    pub(crate) fn now_unix(&self) -> i64 {
        self.now().timestamp()
    }

    /// Authenticates and runs `f` under the world lock; dispatches webhook events afterwards.
    pub(crate) fn rest<R>(
        &self,
        req: &Req,
        need: CompanyHeader,
        f: impl FnOnce(&mut World, &Ctx) -> ApiResult<R>,
    ) -> ApiResult<R> {
        let now = self.now_unix();
        self.write(|w| {
            let ctx = auth::rest(w, &req.headers, now, need)?;
            f(w, &ctx)
        })
    }
}

impl Ctx {
    pub(crate) fn actor(&self) -> Actor {
        Actor {
            user_id: Some(self.user_id),
            app_id: Some(self.app_id),
        }
    }
}

/// A JSON body, for the simulator's own `/_sim/` admin endpoints; Procore's routes take
/// [`Body`] in any encoding.
pub(crate) fn json_body(body: &[u8]) -> ApiResult<Value> {
    body::json(body)
}

/// The object under `key` (`{"project": {...}}`).
pub(crate) fn wrapped<'a>(body: &'a Value, key: &str) -> ApiResult<&'a Attrs> {
    body.get(key).and_then(Value::as_object).ok_or_else(|| {
        ApiError::BadRequest(format!("param is missing or the value is empty: {key}"))
    })
}

pub(crate) fn v1_paging(sim: &Sim, q: &Query) -> Paging {
    Paging::from_query(q, sim.config().default_per_page, sim.config().max_per_page)
}

pub(crate) fn v2_paging(q: &Query) -> Paging {
    Paging::from_query(q, 10, 100)
}

pub(crate) fn required_i64(q: &Query, key: &str) -> ApiResult<i64> {
    q.i64(key).ok_or_else(|| {
        ApiError::BadRequest(format!("param is missing or the value is empty: {key}"))
    })
}

pub(crate) fn created(v: Value) -> Response {
    (StatusCode::CREATED, axum::Json(v)).into_response()
}

pub(crate) fn ok(v: Value) -> Response {
    axum::Json(v).into_response()
}

pub(crate) fn empty_ok() -> Response {
    StatusCode::OK.into_response()
}

/// Parses a v2 string id path segment.
pub(crate) fn id_of(s: &str) -> ApiResult<i64> {
    s.parse().map_err(|_| ApiError::not_found("Resource"))
}
