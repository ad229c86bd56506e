//! The templates, compiled into the binary, and a page rendered from one.
//!
//! Templates are MiniJinja (Jinja2's syntax); HTML is escaped everywhere unless a template
//! says otherwise, so a name read from Procore can never become markup.

use crate::session::Signed;
use crate::Web;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use minijinja::Environment;
use serde_json::{json, Value};

const TEMPLATES: &[(&str, &str)] = &[
    ("layout.html", include_str!("../templates/layout.html")),
    ("live.html", include_str!("../templates/live.html")),
    ("sign_in.html", include_str!("../templates/sign_in.html")),
    ("refused.html", include_str!("../templates/refused.html")),
    ("failed.html", include_str!("../templates/failed.html")),
    (
        "not_found.html",
        include_str!("../templates/not_found.html"),
    ),
    ("home.html", include_str!("../templates/home.html")),
    ("connect.html", include_str!("../templates/connect.html")),
    (
        "workforce_projects.html",
        include_str!("../templates/workforce_projects.html"),
    ),
    ("workers.html", include_str!("../templates/workers.html")),
    ("waiting.html", include_str!("../templates/waiting.html")),
    ("forms.html", include_str!("../templates/forms.html")),
    (
        "compliance_settings.html",
        include_str!("../templates/compliance_settings.html"),
    ),
    ("mappings.html", include_str!("../templates/mappings.html")),
    ("mapping.html", include_str!("../templates/mapping.html")),
    (
        "mappings_preview.html",
        include_str!("../templates/mappings_preview.html"),
    ),
    ("parties.html", include_str!("../templates/parties.html")),
    ("import.html", include_str!("../templates/import.html")),
    ("party.html", include_str!("../templates/party.html")),
    ("profiles.html", include_str!("../templates/profiles.html")),
    ("profile.html", include_str!("../templates/profile.html")),
    ("projects.html", include_str!("../templates/projects.html")),
    ("project.html", include_str!("../templates/project.html")),
    ("activity.html", include_str!("../templates/activity.html")),
    ("run.html", include_str!("../templates/run.html")),
    ("explain.html", include_str!("../templates/explain.html")),
    ("form.html", include_str!("../templates/form.html")),
    (
        "templates.html",
        include_str!("../templates/templates.html"),
    ),
    ("template.html", include_str!("../templates/template.html")),
    ("decision.html", include_str!("../templates/decision.html")),
];

pub(crate) fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    env.add_filter("when", when);
    for (name, source) in TEMPLATES {
        env.add_template(name, source)
            .unwrap_or_else(|e| panic!("template {name}: {e}"));
    }
    env
}

/// A time as people read it: `2026-12-05 08:28 UTC` (the API's are RFC 3339, to the
/// nanosecond); anything else as it is.
fn when(value: String) -> String {
    chrono::DateTime::parse_from_rfc3339(&value)
        .map(|t| {
            t.with_timezone(&chrono::Utc)
                .format("%Y-%m-%d %H:%M UTC")
                .to_string()
        })
        .unwrap_or(value)
}

/// A page to render: its title, template and values.
pub(crate) struct Page {
    title: String,
    template: &'static str,
    values: Value,
    status: StatusCode,
    live: Option<Live>,
}

/// A page whose lists follow Procore by themselves: its live region (`<div id="live"
/// {% include "live.html" %}>`) asks the server for the page again every few seconds, naming
/// the version it shows (`X-Trestle-Seen`), and is replaced only when the page changed; an
/// unchanged page answers 204, which htmx leaves alone, so focus and scroll stay put.
pub(crate) struct Live {
    /// The page's path and query, asked for again.
    here: String,
    /// The version the browser shows, when this is such a request.
    seen: Option<String>,
}

/// Whether a request is a live region asking for its page again: htmx names the element
/// that triggered a request (`HX-Trigger`), and only the region is called `live`.
pub(crate) fn is_live_poll(headers: &axum::http::HeaderMap) -> bool {
    headers.get("hx-trigger").is_some_and(|v| v == "live")
}

/// Whether a request is a page asking by itself whether something changed (a live region,
/// or a form's line while its PDF is on its way), not a person at work.
pub(crate) fn is_poll(headers: &axum::http::HeaderMap) -> bool {
    headers
        .get("hx-trigger")
        .is_some_and(|v| v == "live" || v == "form-status")
}

/// A live region's poll answered with anything but its page (a refusal, an error, a page
/// gone) would swap nothing into the list and stop polling: it is answered 204, which htmx
/// leaves alone, so the list stays as it was.
pub(crate) async fn live_polls(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let poll = is_live_poll(request.headers());
    let response = next.run(request).await;
    if poll && !response.status().is_success() {
        return StatusCode::NO_CONTENT.into_response();
    }
    response
}

/// Where the version goes in a rendered page: it is a digest of the page rendered with this
/// mark in its place.
const VERSION_MARK: &str = "trestle-live-version";

impl<S: Send + Sync> FromRequestParts<S> for Live {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Live {
            here: parts
                .uri
                .path_and_query()
                .map_or_else(|| parts.uri.path().to_string(), |p| p.as_str().to_string()),
            // Links and forms inside the region carry its header too; only its poll counts.
            seen: is_live_poll(&parts.headers)
                .then(|| parts.headers.get("x-trestle-seen"))
                .flatten()
                .and_then(|v| v.to_str().ok())
                .map(str::to_string),
        })
    }
}

/// A digest of a rendered page, to tell a changed page from the same one: not a secret.
fn version(html: &str) -> String {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::hash::DefaultHasher::new();
    html.hash(&mut hasher);
    format!("{:016x}", hasher.finish())
}

impl Page {
    pub fn new(title: impl Into<String>, template: &'static str) -> Page {
        Page {
            title: title.into(),
            template,
            values: json!({}),
            status: StatusCode::OK,
            live: None,
        }
    }

    /// Makes the page's live region follow changes (see [`Live`]).
    pub fn live(mut self, live: Live) -> Page {
        self.live = Some(live);
        self
    }

    /// Adds the values of `more` (an object) to the page's.
    pub fn with(mut self, more: Value) -> Page {
        if let (Value::Object(values), Value::Object(more)) = (&mut self.values, more) {
            values.extend(more);
        }
        self
    }

    pub fn status(mut self, status: StatusCode) -> Page {
        self.status = status;
        self
    }

    /// The page as an answer; `signed` fills in the header (who, sign out).
    pub fn render(self, web: &Web, signed: Option<&Signed>) -> Response {
        let mut values = self.values;
        values["title"] = Value::from(self.title);
        if let Some(Signed(session)) = signed {
            values["csrf"] = Value::from(session.csrf.clone());
            values["who"] = json!({
                "name": session.token.name,
                "scope": session.token.scope.name(),
            });
        }
        if let Some(live) = &self.live {
            values["live"] = json!({"here": live.here, "version": VERSION_MARK});
        }
        let rendered = web
            .views
            .get_template(self.template)
            .and_then(|t| t.render(&values));
        match rendered {
            Ok(html) => match &self.live {
                Some(live) => {
                    let version = version(&html);
                    if live.seen.as_deref() == Some(version.as_str()) {
                        return StatusCode::NO_CONTENT.into_response();
                    }
                    (self.status, Html(html.replace(VERSION_MARK, &version))).into_response()
                }
                None => (self.status, Html(html)).into_response(),
            },
            Err(e) => {
                tracing::error!(template = self.template, error = %e, "a page failed to render");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    Html("<!doctype html><title>Error</title><p>trestle could not show this page; its log says why.</p>".to_string()),
                )
                    .into_response()
            }
        }
    }
}

/// A page that says something once (`?saved=1`, `?decided=JOB`), answered with the address
/// it is shown under without the flag (`HX-Replace-Url`), so htmx's address and history
/// hold the plain page and neither a reload nor Back repeats the message. A page loaded
/// whole drops the flag through `trestle.js`.
pub(crate) fn said_once(mut page: Response, plain: &str) -> Response {
    if let Ok(plain) = axum::http::HeaderValue::from_str(plain) {
        page.headers_mut().insert("hx-replace-url", plain);
    }
    page
}
