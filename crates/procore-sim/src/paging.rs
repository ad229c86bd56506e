//! v1 and v2 pagination: `page`/`per_page`, and the `Total`, `Per-Page` and `Link` headers
//! with exactly the `rel`s Procore documents for each page (see `api-conventions.json`
//! `pagination.v1.link_rules`). Links are absolute, built from the request's `Host`.

use axum::http::{HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

use crate::query::Query;

/// A page request after defaults and clamping.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Paging {
    pub(crate) page: usize,
    pub(crate) per_page: usize,
}

impl Paging {
    pub(crate) fn from_query(q: &Query, default: usize, max: usize) -> Paging {
        let page = q
            .get("page")
            .and_then(|v| v.parse::<usize>().ok())
            .filter(|p| *p >= 1)
            .unwrap_or(1);
        let per_page = q
            .get("per_page")
            .and_then(|v| v.parse::<usize>().ok())
            .filter(|p| *p >= 1)
            .unwrap_or(default)
            .min(max);
        Paging { page, per_page }
    }

    /// The slice of `items` on this page.
    pub(crate) fn slice<'a, T>(&self, items: &'a [T]) -> &'a [T] {
        let start = (self.page - 1)
            .saturating_mul(self.per_page)
            .min(items.len());
        let end = start.saturating_add(self.per_page).min(items.len());
        &items[start..end]
    }

    pub(crate) fn last_page(&self, total: usize) -> usize {
        total.div_ceil(self.per_page).max(1)
    }
}

/// Request facts needed for absolute links.
#[derive(Clone, Debug)]
pub(crate) struct ReqInfo {
    pub(crate) base: String,
    pub(crate) path: String,
    pub(crate) query: Query,
}

fn url_for(req: &ReqInfo, page: usize, per_page: usize) -> String {
    let mut pairs: Vec<(String, String)> = req
        .query
        .pairs
        .iter()
        .filter(|(k, _)| k != "page" && k != "per_page")
        .cloned()
        .collect();
    pairs.push(("page".into(), page.to_string()));
    pairs.push(("per_page".into(), per_page.to_string()));
    let qs = serde_urlencoded::to_string(&pairs).unwrap_or_default();
    format!("{}{}?{}", req.base, req.path, qs)
}

/// `Total`, `Per-Page` and `Link` for a page.
pub(crate) fn headers(req: &ReqInfo, paging: Paging, total: usize) -> HeaderMap {
    let mut h = HeaderMap::new();
    let last = paging.last_page(total);
    let p = paging.page;
    let mut links = Vec::new();
    if p >= 2 {
        links.push(format!(
            "<{}>; rel=\"first\"",
            url_for(req, 1, paging.per_page)
        ));
    }
    if p >= 3 {
        links.push(format!(
            "<{}>; rel=\"prev\"",
            url_for(req, p - 1, paging.per_page)
        ));
    }
    if p < last {
        links.push(format!(
            "<{}>; rel=\"next\"",
            url_for(req, p + 1, paging.per_page)
        ));
    }
    links.push(format!(
        "<{}>; rel=\"last\"",
        url_for(req, last, paging.per_page)
    ));
    h.insert("Total", HeaderValue::from(total as u64));
    h.insert("Per-Page", HeaderValue::from(paging.per_page as u64));
    if let Ok(v) = HeaderValue::from_str(&links.join(", ")) {
        h.insert("Link", v);
    }
    h
}

/// A v1 page: the JSON array of rendered items plus headers.
pub(crate) fn v1<T>(
    req: &ReqInfo,
    paging: Paging,
    items: &[T],
    render: impl Fn(&T) -> Value,
) -> Response {
    let body: Vec<Value> = paging.slice(items).iter().map(render).collect();
    (
        headers(req, paging, items.len()),
        axum::Json(Value::Array(body)),
    )
        .into_response()
}

/// A v2 page: `{"data": [...]}` plus headers.
pub(crate) fn v2<T>(
    req: &ReqInfo,
    paging: Paging,
    items: &[T],
    render: impl Fn(&T) -> Value,
) -> Response {
    let body: Vec<Value> = paging.slice(items).iter().map(render).collect();
    (
        headers(req, paging, items.len()),
        axum::Json(json!({ "data": body })),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rels(page: usize, total: usize) -> Vec<String> {
        let req = ReqInfo {
            base: "http://h".into(),
            path: "/p".into(),
            query: Query::default(),
        };
        let h = headers(&req, Paging { page, per_page: 10 }, total);
        h["Link"]
            .to_str()
            .unwrap()
            .split(", ")
            .map(|l| l.split("rel=").nth(1).unwrap().trim_matches('"').to_owned())
            .collect()
    }

    #[test]
    fn link_rels_follow_procore_rules_per_page() {
        assert_eq!(rels(1, 50), ["next", "last"]);
        assert_eq!(rels(2, 50), ["first", "next", "last"]);
        assert_eq!(rels(3, 50), ["first", "prev", "next", "last"]);
        assert_eq!(rels(5, 50), ["first", "prev", "last"]);
        assert_eq!(rels(1, 5), ["last"]);
    }

    #[test]
    fn per_page_is_clamped_to_the_maximum() {
        let q = Query::parse(Some("per_page=5000"));
        assert_eq!(Paging::from_query(&q, 100, 2000).per_page, 2000);
    }
}
