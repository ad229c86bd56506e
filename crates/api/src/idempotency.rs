//! `Idempotency-Key` on POST: the first answer is kept under the caller's key, and the same
//! request sent again gets it back (with `Idempotent-Replayed: true`) instead of doing the work
//! twice, as Stripe's API does. A key reused for a different request is refused (422); a key
//! whose first request still runs answers 409. Answers that say nothing about the work (the
//! caller was not signed in, or trestle failed) are not kept, so a retry does the work.

use crate::auth::SignedIn;
use crate::{Api, FieldError, Problem};
use axum::body::{to_bytes, Body};
use axum::extract::{Request, State};
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use sha2::{Digest, Sha256};
use store::KeyClaim;

/// The largest body a POST with a key is read up to: axum's default, which every route but
/// the compliance import keeps ([`crate::IMPORT_MAX_BYTES`]).
const MAX_BODY: usize = 2 * 1024 * 1024;
/// The longest key taken (Stripe's limit).
const MAX_KEY: usize = 255;

fn hex(bytes: impl AsRef<[u8]>) -> String {
    bytes.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

fn field(detail: &str) -> Problem {
    Problem::invalid(vec![FieldError::new("Idempotency-Key", detail)])
}

pub(crate) async fn idempotent(
    State(api): State<Api>,
    mut request: Request,
    next: Next,
) -> Response {
    if request.method() != Method::POST {
        return next.run(request).await;
    }
    let Some(key) = request.headers().get("idempotency-key") else {
        return next.run(request).await;
    };
    let Some(key) = key
        .to_str()
        .ok()
        .filter(|k| !k.is_empty() && k.len() <= MAX_KEY)
        .map(str::to_string)
    else {
        return field("give 1 to 255 visible ASCII characters, e.g. a UUID").into_response();
    };
    // Keys are the caller's: its token (by id). A caller with no good token is answered 401
    // by the route without a key being claimed, so strangers write nothing. The token checked
    // here goes on with the request (as a page of the web UI's does) and is not checked twice.
    let token = match request.extensions().get::<SignedIn>() {
        Some(SignedIn(token)) => token.clone(),
        None => match crate::auth::bearer(&api, request.headers()).await {
            Ok(token) => token,
            Err(_) => return next.run(request).await,
        },
    };
    let scope = hex(Sha256::digest(format!("token {}", token.id)));
    request.extensions_mut().insert(SignedIn(token));
    let (parts, body) = request.into_parts();
    let limit = if parts.uri.path().ends_with("/compliance/import") {
        crate::IMPORT_MAX_BYTES
    } else {
        MAX_BODY
    };
    let Ok(bytes) = to_bytes(body, limit).await else {
        return Problem::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!(
                "the body is over {} MiB, the most this route takes",
                limit / (1024 * 1024)
            ),
        )
        .into_response();
    };
    let mut fingerprint = Sha256::new();
    fingerprint.update(parts.uri.to_string().as_bytes());
    fingerprint.update([0]);
    fingerprint.update(&bytes);
    let fingerprint = hex(fingerprint.finalize());

    match api
        .store
        .claim_idempotency_key(&scope, &key, &fingerprint, Utc::now())
        .await
    {
        Err(e) => return Problem::internal(&e).into_response(),
        Ok(KeyClaim::OtherRequest) => {
            return field("this key was used for a different request; send a new key").into_response()
        }
        Ok(KeyClaim::InFlight) => {
            return Problem::conflict(
                "the first request with this Idempotency-Key is still running; send it again in a moment",
            )
            .into_response()
        }
        Ok(KeyClaim::Answered {
            status,
            content_type,
            body,
        }) => {
            let mut response = Response::new(Body::from(body));
            *response.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
            if let Some(ct) = content_type.and_then(|c| HeaderValue::from_str(&c).ok()) {
                response.headers_mut().insert(CONTENT_TYPE, ct);
            }
            response
                .headers_mut()
                .insert("idempotent-replayed", HeaderValue::from_static("true"));
            return response;
        }
        Ok(KeyClaim::First) => {}
    }

    let response = next
        .run(Request::from_parts(parts, Body::from(bytes)))
        .await;
    let status = response.status();
    let keep = !(status.is_server_error()
        || status == StatusCode::UNAUTHORIZED
        || status == StatusCode::FORBIDDEN
        || status == StatusCode::TOO_MANY_REQUESTS);
    if !keep {
        if let Err(e) = api.store.release_idempotency_key(&scope, &key).await {
            tracing::warn!(error = %e, "could not release an idempotency key");
        }
        return response;
    }
    let (parts, body) = response.into_parts();
    let Ok(bytes) = to_bytes(body, usize::MAX).await else {
        return Problem::internal(&"the answer could not be read").into_response();
    };
    let content_type = parts
        .headers
        .get(CONTENT_TYPE)
        .and_then(|c| c.to_str().ok());
    let text = String::from_utf8_lossy(&bytes);
    if let Err(e) = api
        .store
        .answer_idempotency_key(&scope, &key, status.as_u16(), content_type, &text)
        .await
    {
        tracing::warn!(error = %e, "could not keep an answer under its idempotency key");
    }
    Response::from_parts(parts, Body::from(bytes))
}
