//! How every list pages: by a cursor past the last item, never by offset, so a record added
//! while a client walks the pages neither repeats nor hides one. A full page answers with
//! `Link: <URL>; rel="next"` carrying the same filters (GitHub's convention): a client follows
//! links to the end without knowing how cursors are made; a page shorter than `limit` is the
//! last.

use crate::FieldError;
use axum::http::header::LINK;
use axum::http::HeaderValue;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;

/// The page size asked for, or `default`; outside 1 to `max` it is a field error.
pub(crate) fn limit(
    given: Option<u32>,
    default: u32,
    max: u32,
    errors: &mut Vec<FieldError>,
) -> u32 {
    let limit = given.unwrap_or(default);
    if !(1..=max).contains(&limit) {
        errors.push(FieldError::new("limit", format!("from 1 to {max}")));
    }
    limit
}

/// The items of a list held whole in memory that come after `after` (by `key`, the order the
/// list is in), at most `limit` of them: the lists computed rather than read page by page
/// (compliance is evaluated over the whole company at once).
pub(crate) fn window<T, K: PartialOrd>(
    all: Vec<T>,
    key: impl Fn(&T) -> K,
    after: Option<K>,
    limit: u32,
) -> Vec<T> {
    all.into_iter()
        .filter(|item| after.as_ref().is_none_or(|a| key(item) > *a))
        .take(limit as usize)
        .collect()
}

/// Where a list lives and what its next page keeps.
pub(crate) struct Next<'a> {
    /// The list's path, `/api/v1/...`.
    pub path: String,
    /// The query parameter the cursor goes in (`after`, or `before` for newest-first lists).
    pub cursor: &'static str,
    /// The filters asked for, repeated on the next page.
    pub filters: &'a [(&'static str, Option<String>)],
}

/// `items` as a JSON array, with a `Link` to the next page when the page is full; `cursor`
/// gives the value that page starts past.
pub(crate) fn paged<T: Serialize>(
    items: Vec<T>,
    limit: u32,
    cursor: impl Fn(&T) -> String,
    next: Next<'_>,
) -> Response {
    let link = (items.len() == limit as usize)
        .then(|| items.last().map(&cursor))
        .flatten()
        .map(|last| {
            let mut query = url::form_urlencoded::Serializer::new(String::new());
            query.append_pair("limit", &limit.to_string());
            query.append_pair(next.cursor, &last);
            for (name, value) in next.filters {
                if let Some(value) = value {
                    query.append_pair(name, value);
                }
            }
            format!("<{}?{}>; rel=\"next\"", next.path, query.finish())
        });
    let mut response = Json(items).into_response();
    if let Some(link) = link.and_then(|l| HeaderValue::from_str(&l).ok()) {
        response.headers_mut().insert(LINK, link);
    }
    response
}

/// A page of a short list held whole in memory (a party's certificates, the tokens), by
/// `id`, paged like every other: the one shape a client walks for every list.
pub(crate) fn by_id<T: Serialize>(
    mut all: Vec<T>,
    id: impl Fn(&T) -> i64,
    page: &PageQuery,
    path: String,
) -> Result<Response, crate::Problem> {
    let mut errors = Vec::new();
    let limit = limit(page.limit, 100, 500, &mut errors);
    if !errors.is_empty() {
        return Err(crate::Problem::invalid(errors));
    }
    all.sort_by_key(&id);
    let items = window(all, &id, page.after, limit);
    Ok(paged(
        items,
        limit,
        |item| id(item).to_string(),
        Next {
            path,
            cursor: "after",
            filters: &[],
        },
    ))
}

/// A page of a list with no filter of its own.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// At most this many, by id (1 to 500; 100 when not given).
    pub limit: Option<u32>,
    /// Only items with a greater id: the next page.
    pub after: Option<i64>,
}
