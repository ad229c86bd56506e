//! Signing in and out, and who a request is from.
//!
//! A person signs in by pasting an API token (the first administrator makes one with
//! `trestle token create --scope admin`); the answer sets a session cookie that is `HttpOnly`
//! (no script reads it), `Secure` (browsers send it only over HTTPS, and to `localhost`) and
//! `SameSite=Lax`. Every form carries the session's anti-forgery value, and a change without
//! it is refused.

use crate::view::Page;
use crate::Web;
use axum::extract::{FromRequestParts, Query, State};
use axum::http::header::{COOKIE, SET_COOKIE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use chrono::Utc;
use engine::sessions::{self, Session};
use engine::tokens::Refused;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::json;
use store::SessionRequest;
use subtle::ConstantTimeEq as _;

/// `__Host-`: browsers take the cookie only from this host, over HTTPS (or `localhost`), for
/// the whole site, so a neighbouring subdomain cannot plant a session of its own.
const COOKIE_NAME: &str = "__Host-trestle_session";

/// The signed-in person of a request. A request without a live session is sent to the
/// sign-in page, which brings the person back afterwards.
pub(crate) struct Signed(pub Session);

fn cookie(headers: &HeaderMap) -> Option<SecretString> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE_NAME)
        .map(|(_, value)| SecretString::from(value.to_string()))
}

impl FromRequestParts<Web> for Signed {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, web: &Web) -> Result<Self, Response> {
        if let Some(cookie) = cookie(&parts.headers) {
            let request = if crate::view::is_poll(&parts.headers) {
                SessionRequest::Poll
            } else {
                SessionRequest::Use
            };
            match sessions::session(&web.store, &cookie, Utc::now(), request).await {
                Ok(Some(session)) => return Ok(Signed(session)),
                Ok(None) => {}
                Err(e) => return Err(crate::pages::failed(web, &e)),
            }
        }
        // Back to this page after signing in; a change (a POST) cannot be sent again from
        // the sign-in page, so back to the page it was sent from.
        let here = if parts.method == axum::http::Method::GET {
            parts.uri.path_and_query().map(|p| p.as_str().to_string())
        } else {
            parts
                .headers
                .get(axum::http::header::REFERER)
                .and_then(|r| r.to_str().ok())
                .and_then(|r| url::Url::parse(r).ok())
                .map(|u| u[url::Position::BeforePath..].to_string())
        };
        let here = here
            .as_deref()
            .map_or("/ui/", |h| within(Some(h), "/ui/").unwrap_or("/ui/"));
        let to = format!(
            "/ui/sign-in?next={}",
            url::form_urlencoded::byte_serialize(here.as_bytes()).collect::<String>()
        );
        // A live list asking for its page again (see `view::Live`) would swap the sign-in
        // page's nothing into itself: htmx is told to go to sign-in instead.
        if crate::view::is_live_poll(&parts.headers) {
            return Err(([("HX-Redirect", to)], StatusCode::OK).into_response());
        }
        Err(Redirect::to(&to).into_response())
    }
}

impl Signed {
    /// The refusal of a change whose form (or htmx header) lacks this session's anti-forgery
    /// value; none when it has it.
    pub fn forged(&self, web: &Web, headers: &HeaderMap, given: Option<&str>) -> Option<Response> {
        let given = given.or_else(|| headers.get("x-csrf-token").and_then(|v| v.to_str().ok()));
        // In a time that does not tell how much of a guess was right.
        if given.is_some_and(|g| bool::from(g.as_bytes().ct_eq(self.0.csrf.as_bytes()))) {
            return None;
        }
        Some(
            Page::new("Refused", "refused.html")
                .with(json!({"detail": "This form is out of date or came from another site. Open the page again and resend it."}))
                .status(StatusCode::FORBIDDEN)
                .render(web, Some(self)),
        )
    }
}

/// `path` when it is a page under `prefix` of this site: a link elsewhere must not borrow a
/// sign-in or a form's way back.
pub(crate) fn within<'a>(path: Option<&'a str>, prefix: &str) -> Option<&'a str> {
    path.filter(|p| p.starts_with(prefix) && !p.starts_with("//") && !p.contains("/\\"))
}

fn next_or_home(next: Option<&str>) -> &str {
    within(next, "/ui/").unwrap_or("/ui/")
}

#[derive(Deserialize)]
pub(crate) struct Next {
    next: Option<String>,
}

pub(crate) async fn sign_in_page(State(web): State<Web>, Query(q): Query<Next>) -> Response {
    Page::new("Sign in", "sign_in.html")
        .with(json!({"next": next_or_home(q.next.as_deref())}))
        .render(&web, None)
}

#[derive(Deserialize)]
pub(crate) struct SignInForm {
    token: String,
    next: Option<String>,
}

/// A sign-in sent by another site (which could sign a person in under its own token) is
/// refused: browsers say where a form came from in `Sec-Fetch-Site`, older ones in `Origin`.
fn from_elsewhere(headers: &HeaderMap) -> bool {
    let site = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok());
    if let Some(site) = site {
        return !matches!(site, "same-origin" | "none");
    }
    let host = headers
        .get(axum::http::header::HOST)
        .and_then(|v| v.to_str().ok());
    match (
        headers
            .get(axum::http::header::ORIGIN)
            .and_then(|v| v.to_str().ok()),
        host,
    ) {
        (Some(origin), Some(host)) => url::Url::parse(origin)
            .ok()
            .map(|o| o[url::Position::BeforeHost..url::Position::AfterPort].to_string())
            .is_none_or(|o| o != host),
        _ => false,
    }
}

pub(crate) async fn sign_in(
    State(web): State<Web>,
    headers: HeaderMap,
    Form(form): Form<SignInForm>,
) -> Response {
    if from_elsewhere(&headers) {
        return Page::new("Sign in", "sign_in.html")
            .with(json!({"next": "/ui/", "error": "That sign-in came from another site. Sign in here."}))
            .status(StatusCode::FORBIDDEN)
            .render(&web, None);
    }
    let next = next_or_home(form.next.as_deref()).to_string();
    let token = SecretString::from(form.token.trim().to_string());
    let refused = |why: &str| {
        Page::new("Sign in", "sign_in.html")
            .with(json!({"next": next, "error": why}))
            .status(StatusCode::UNAUTHORIZED)
            .render(&web, None)
    };
    match sessions::sign_in(&web.store, &token, Utc::now()).await {
        Ok(Ok(started)) => {
            let cookie = format!(
                "{COOKIE_NAME}={}; Path=/; HttpOnly; Secure; SameSite=Lax; Max-Age={}",
                started.cookie.expose_secret(),
                (started.expires_at - Utc::now()).num_seconds().max(0)
            );
            ([(SET_COOKIE, cookie)], Redirect::to(&next)).into_response()
        }
        Ok(Err(Refused::Malformed)) => refused(
            "That is not a trestle API token: they start with trestle_. Paste the whole token.",
        ),
        Ok(Err(Refused::Unknown)) => {
            refused("That token is unknown or revoked. Ask an administrator for a new one.")
        }
        Ok(Err(Refused::WorkerBlocked)) => refused(
            "The worker this token belongs to is blocked. Ask an administrator to unblock them.",
        ),
        Err(e) => crate::pages::failed(&web, &e),
    }
}

/// A form that carries nothing but the anti-forgery value (a button).
#[derive(Deserialize)]
pub(crate) struct CsrfForm {
    pub csrf: Option<String>,
}

pub(crate) async fn sign_out(
    State(web): State<Web>,
    signed: Signed,
    headers: HeaderMap,
    Form(form): Form<CsrfForm>,
) -> Response {
    if let Some(refused) = signed.forged(&web, &headers, form.csrf.as_deref()) {
        return refused;
    }
    if let Some(cookie) = cookie(&headers) {
        if let Err(e) = sessions::sign_out(&web.store, &cookie).await {
            return crate::pages::failed(&web, &e);
        }
    }
    let gone = format!("{COOKIE_NAME}=; Path=/; HttpOnly; Secure; SameSite=Lax; Max-Age=0");
    ([(SET_COOKIE, gone)], Redirect::to("/ui/sign-in")).into_response()
}
