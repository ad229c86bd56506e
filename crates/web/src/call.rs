//! One REST API call made in-process as the signed-in person, and its answer.

use crate::Web;
use axum::body::Body;
use axum::http::header::{CONTENT_TYPE, IF_MATCH, LINK};
use axum::http::{HeaderMap, Method, Request, StatusCode};
use serde_json::Value;
use std::collections::BTreeMap;
use store::ApiToken;
use tower::ServiceExt as _;

/// An API answer, its body read as JSON (null when it had none).
pub(crate) struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
}

/// A refusal, as a page shows it: the sentence, and each invalid field with why.
#[derive(Debug, Default, serde::Serialize)]
pub(crate) struct Refusal {
    pub detail: String,
    pub fields: BTreeMap<String, String>,
}

impl Reply {
    pub fn ok(&self) -> bool {
        self.status.is_success()
    }

    /// The problem the API answered, as a page shows it.
    pub fn refusal(&self) -> Refusal {
        let detail = self.body["detail"]
            .as_str()
            .or_else(|| self.body["title"].as_str())
            .unwrap_or("trestle could not do that")
            .to_string();
        // Several problems with one field (several permissions missing) are all shown.
        let mut fields: BTreeMap<String, String> = BTreeMap::new();
        for e in self.body["errors"].as_array().into_iter().flatten() {
            let (Some(field), Some(why)) = (e["field"].as_str(), e["detail"].as_str()) else {
                continue;
            };
            fields
                .entry(field.to_string())
                .and_modify(|all| {
                    all.push_str("; ");
                    all.push_str(why);
                })
                .or_insert_with(|| why.to_string());
        }
        Refusal { detail, fields }
    }

    /// The query of the next page, from the `Link` header the API's lists carry.
    pub fn next_query(&self) -> Option<String> {
        let link = self.headers.get(LINK)?.to_str().ok()?;
        let url = link.split(';').next()?.trim();
        let url = url.strip_prefix('<')?.strip_suffix('>')?;
        url.split_once('?').map(|(_, q)| q.to_string())
    }
}

/// `path` with a query of the given parameters that have a value (empty ones left out), so a
/// page's filters pass to the API as they are.
pub(crate) fn with_query(path: &str, params: &[(&str, Option<&str>)]) -> String {
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    for (name, value) in params {
        if let Some(v) = value.filter(|v| !v.is_empty()) {
            query.append_pair(name, v);
        }
    }
    format!("{path}?{}", query.finish())
}

impl Web {
    /// `method uri` on the API as `token`, with `body` as JSON: the status, the headers and
    /// the body's bytes. A URI the API could not take (it holds a character a URI may not) is
    /// answered 400, as the API would answer a bad request.
    async fn send(
        &self,
        token: &ApiToken,
        method: Method,
        uri: &str,
        body: Option<Value>,
        if_match: Option<&str>,
    ) -> (StatusCode, HeaderMap, axum::body::Bytes) {
        let mut request = Request::builder().method(method).uri(uri);
        if let Some(version) = if_match {
            request = request.header(IF_MATCH, version);
        }
        let body = match body {
            Some(body) => {
                request = request.header(CONTENT_TYPE, "application/json");
                Body::from(body.to_string())
            }
            None => Body::empty(),
        };
        let Ok(mut request) = request.body(body) else {
            return (
                StatusCode::BAD_REQUEST,
                HeaderMap::new(),
                Default::default(),
            );
        };
        request
            .extensions_mut()
            .insert(api::SignedIn(token.clone()));
        let response = match self.api.clone().oneshot(request).await {
            Ok(response) => response,
            Err(never) => match never {},
        };
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap_or_default();
        (status, headers, bytes)
    }

    /// `method uri` on the API as `token`, with `body` as JSON.
    pub async fn call(
        &self,
        token: &ApiToken,
        method: Method,
        uri: &str,
        body: Option<Value>,
    ) -> Reply {
        self.call_if(token, method, uri, body, None).await
    }

    /// [`Web::call`] of a change to the version of a record the page showed (its ETag):
    /// refused (412) if someone changed it since.
    pub async fn call_if(
        &self,
        token: &ApiToken,
        method: Method,
        uri: &str,
        body: Option<Value>,
        if_match: Option<&str>,
    ) -> Reply {
        let (status, headers, bytes) = self.send(token, method, uri, body, if_match).await;
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Reply {
            status,
            headers,
            body,
        }
    }

    /// `GET uri` as `token`, its body as bytes (a PDF).
    pub async fn bytes(&self, token: &ApiToken, uri: &str) -> (StatusCode, axum::body::Bytes) {
        let (status, _, bytes) = self.send(token, Method::GET, uri, None, None).await;
        (status, bytes)
    }

    /// `GET uri` as `token`.
    pub async fn get(&self, token: &ApiToken, uri: &str) -> Reply {
        self.call(token, Method::GET, uri, None).await
    }

    /// Every page of the list at `uri` as `token`, one answer holding them all: for the lists
    /// a page needs whole (the names of what it refers to, the choices of a select), which a
    /// large company holds more of than one page of the API.
    pub async fn get_all(&self, token: &ApiToken, uri: &str) -> Reply {
        let path = uri.split_once('?').map_or(uri, |(path, _)| path);
        let mut all = self.get(token, uri).await;
        let mut next = all.next_query();
        while let Some(query) = next.take() {
            let page = self.get(token, &format!("{path}?{query}")).await;
            if !page.ok() {
                return page;
            }
            next = page.next_query();
            if let (Some(all), Value::Array(more)) = (all.body.as_array_mut(), page.body) {
                all.extend(more);
            }
        }
        all
    }
}
