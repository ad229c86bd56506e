//! Walking a list endpoint page by page, leniently.
//!
//! A [`List`] fetches the first page with the builder's query and the largest `per_page` the
//! endpoint allows, then follows `Link: rel="next"` until it is absent. Each page body is
//! decoded as a JSON array (or a v2.0 `{"data": [...]}` envelope) of raw values, and each value
//! is converted on its own: a record that does not match its model becomes a
//! [`Malformed`] entry with the reason, and the rest of the page is kept.

use std::marker::PhantomData;

use chrono::{DateTime, Utc};
use futures::stream::BoxStream;
use futures::StreamExt;
use serde::de::DeserializeOwned;
use serde::{Serialize, Serializer};
use serde_json::Value;
use url::Url;

use crate::error::{Error, Malformed, Result};
use crate::http::Client;
use crate::page::{parse_link_header, Collected, Page, Progress};

/// Largest `per_page` on v1.x list endpoints (current docs: keep at or below 2,000).
pub const MAX_PER_PAGE_V1: u32 = 2000;
/// Largest `per_page` on `GET /rest/v1.1/projects`.
pub const MAX_PER_PAGE_PROJECTS_V11: u32 = 300;
/// Largest `per_page` on v2.0 list endpoints.
pub const MAX_PER_PAGE_V2: u32 = 100;

/// The most pages a listing follows by default. 10,000 pages hold a million records even at
/// v2.0's 100 per page (20 million at v1's 2,000), far beyond any list this client reads (its
/// v2.0 lists are custom fields and one commitment's line items). Each page is a request, so a
/// server whose next links never end is stopped after 10,000 requests: under 3 hours at
/// Procore's historical 3,600 requests an hour, not minutes. Lower would stop it sooner but
/// risks ending a real listing, which a user cannot resume; higher would spend a day's budget.
pub const MAX_PAGES: u32 = 10_000;

/// A time range for `filters[updated_at]` / `filters[created_at]`:
/// `<from>...<to>` in ISO 8601 UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeRange {
    /// Start (inclusive).
    pub from: DateTime<Utc>,
    /// End; `None` means open-ended (written as the far future).
    pub to: Option<DateTime<Utc>>,
}

impl Serialize for TimeRange {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let to = self
            .to
            .map(crate::de::format_timestamp)
            .unwrap_or_else(|| "9999-12-31T23:59:59Z".to_string());
        s.serialize_str(&format!(
            "{}...{}",
            crate::de::format_timestamp(self.from),
            to
        ))
    }
}

/// A repeated query parameter (`filters[vendor_id][]=1&filters[vendor_id][]=2`); use with
/// `#[serde(flatten)]`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Many<T> {
    key: &'static str,
    values: Vec<T>,
}

impl<T> Many<T> {
    /// An empty list for `key`.
    pub fn new(key: &'static str) -> Self {
        Many {
            key,
            values: Vec::new(),
        }
    }

    /// Adds a value.
    pub fn push(&mut self, value: T) {
        self.values.push(value);
    }
}

impl<T: std::fmt::Display> Serialize for Many<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = s.serialize_map(Some(self.values.len()))?;
        for v in &self.values {
            map.serialize_entry(self.key, &v.to_string())?;
        }
        map.end()
    }
}

/// Serialises a builder's query with `serde_urlencoded`.
pub(crate) fn to_query<Q: Serialize>(q: &Q) -> Result<String> {
    serde_urlencoded::to_string(q).map_err(|e| Error::Config(format!("query string: {e}")))
}

/// Converts one raw record; a mismatch becomes a [`Malformed`] with the record's id.
pub(crate) fn convert<T: DeserializeOwned>(
    kind: &'static str,
    value: Value,
) -> Result<T, Malformed> {
    match serde_json::from_value::<T>(value.clone()) {
        Ok(v) => Ok(v),
        Err(e) => Err(Malformed {
            kind,
            id: match value.get("id") {
                Some(Value::String(s)) => Some(s.clone()),
                Some(Value::Number(n)) => Some(n.to_string()),
                _ => None,
            },
            reason: e.to_string(),
            raw: value,
        }),
    }
}

/// A list call, ready to walk. Built by the resource handlers.
pub struct List<T> {
    client: Client,
    path: String,
    query: Result<String>,
    per_page: u32,
    kind: &'static str,
    progress: Option<Progress>,
    _t: PhantomData<fn() -> T>,
}

impl<T> std::fmt::Debug for List<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("List")
            .field("path", &self.path)
            .field("per_page", &self.per_page)
            .field("kind", &self.kind)
            .finish_non_exhaustive()
    }
}

impl<T: DeserializeOwned + Send + 'static> List<T> {
    pub(crate) fn new(
        client: Client,
        path: String,
        query: Result<String>,
        per_page: u32,
        kind: &'static str,
    ) -> Self {
        List {
            client,
            path,
            query,
            per_page,
            kind,
            progress: None,
            _t: PhantomData,
        }
    }

    /// Overrides the page size (the default is the largest the endpoint allows).
    pub fn per_page(mut self, per_page: u32) -> Self {
        self.per_page = per_page.max(1);
        self
    }

    /// Calls `f(records so far, Total header)` after each page.
    pub fn on_progress(mut self, f: impl Fn(u64, Option<u64>) + Send + Sync + 'static) -> Self {
        self.progress = Some(std::sync::Arc::new(f));
        self
    }

    fn first_url(&self) -> Result<Url> {
        let query = self
            .query
            .as_ref()
            .map_err(|e| Error::Config(e.to_string()))?;
        let mut q = query.clone();
        if !q.is_empty() {
            q.push('&');
        }
        q.push_str(&format!("per_page={}", self.per_page));
        self.client.url_with_query(&self.path, &q)
    }

    /// The pages, in order. The stream ends after the last page or after the first error.
    pub fn pages(self) -> BoxStream<'static, Result<Page<T>>> {
        let first = self.first_url();
        let List {
            client,
            kind,
            progress,
            ..
        } = self;
        Box::pin(async_stream::stream! {
            let mut url = match first {
                Ok(u) => u,
                Err(e) => { yield Err(e); return; }
            };
            let mut number = 1u32;
            let mut seen = 0u64;
            let max_pages = client.config().max_pages;
            // Every page URL asked for so far, with its page number: a next link back to one
            // of them is a cycle (A -> B -> A), which would otherwise be followed for ever.
            let mut visited: std::collections::HashMap<Url, u32> = std::collections::HashMap::new();
            visited.insert(url.clone(), number);
            loop {
                let (body, headers) = match client.get_json(url.clone()).await {
                    Ok(r) => r,
                    Err(e) => { yield Err(e); return; }
                };
                let records = match body {
                    Value::Array(items) => items,
                    Value::Object(mut map) if matches!(map.get("data"), Some(Value::Array(_))) => {
                        match map.remove("data") { Some(Value::Array(items)) => items, _ => Vec::new() }
                    }
                    other => {
                        yield Err(Error::Decode {
                            method: "GET".into(),
                            path: url.path().to_string(),
                            message: format!("expected a JSON array of {kind} records, got {}", short(&other)),
                        });
                        return;
                    }
                };
                let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_string);
                let total = header("total").and_then(|v| v.trim().parse::<u64>().ok());
                let per_page = header("per-page").and_then(|v| v.trim().parse::<u32>().ok());
                let server_time = header("date").and_then(|v| chrono::DateTime::parse_from_rfc2822(v.trim()).ok()).map(|t| t.with_timezone(&chrono::Utc));
                let links = header("link").map(|l| parse_link_header(&l)).unwrap_or_default();
                let next = match links.next.map(|n| url.join(&n)) {
                    None => None,
                    Some(Ok(n)) if client.is_api_url(&n) => {
                        if let Some(earlier) = visited.get(&n) {
                            yield Err(Error::PageCycle {
                                path: url.path().to_string(),
                                page: number,
                                back_to: *earlier,
                                link: n.to_string(),
                            });
                            return;
                        }
                        if number >= max_pages {
                            yield Err(Error::TooManyPages { path: url.path().to_string(), pages: max_pages });
                            return;
                        }
                        visited.insert(n.clone(), number + 1);
                        Some(n)
                    }
                    Some(Ok(n)) => {
                        yield Err(Error::Decode {
                            method: "GET".into(),
                            path: url.path().to_string(),
                            message: format!("the next-page link {n} leaves the API host; refusing to follow it"),
                        });
                        return;
                    }
                    Some(Err(e)) => {
                        yield Err(Error::Decode { method: "GET".into(), path: url.path().to_string(), message: format!("bad next-page link: {e}") });
                        return;
                    }
                };
                let mut items = Vec::with_capacity(records.len());
                let mut malformed = Vec::new();
                for record in records {
                    match convert::<T>(kind, record) {
                        Ok(v) => items.push(v),
                        Err(m) => {
                            tracing::warn!(kind, id = ?m.id, reason = %m.reason, "skipping a malformed Procore record");
                            malformed.push(m);
                        }
                    }
                }
                seen += (items.len() + malformed.len()) as u64;
                if let Some(p) = &progress { p(seen, total); }
                yield Ok(Page { items, malformed, total, per_page, server_time, next: next.clone(), number });
                match next {
                    Some(n) => url = n,
                    None => return,
                }
                number += 1;
            }
        })
    }

    /// The records, one by one. A malformed record is yielded as
    /// `Err(Error::MalformedRecord)` and the stream goes on ([`Error::is_record_error`]);
    /// any other error ends the stream.
    pub fn stream(self) -> BoxStream<'static, Result<T>> {
        Box::pin(self.pages().flat_map(|page| {
            let items: Vec<Result<T>> = match page {
                Ok(p) => p
                    .malformed
                    .into_iter()
                    .map(|m| Err(Error::from(m)))
                    .chain(p.items.into_iter().map(Ok))
                    .collect(),
                Err(e) => vec![Err(e)],
            };
            futures::stream::iter(items)
        }))
    }

    /// Reads the whole list into memory, keeping the malformed records aside.
    pub async fn collect(self) -> Result<Collected<T>> {
        let mut out = Collected {
            items: Vec::new(),
            malformed: Vec::new(),
            total: None,
            server_time: None,
            pages: 0,
        };
        let mut pages = self.pages();
        while let Some(page) = pages.next().await {
            let page = page?;
            if out.pages == 0 {
                out.total = page.total;
                out.server_time = page.server_time;
            }
            out.pages += 1;
            out.items.extend(page.items);
            out.malformed.extend(page.malformed);
        }
        Ok(out)
    }
}

fn short(v: &Value) -> String {
    let s = v.to_string();
    if s.len() > 120 {
        let mut cut = 120;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        format!("{}...", &s[..cut])
    } else {
        s
    }
}

/// Gives a list builder the walking methods of [`List`].
macro_rules! list_methods {
    ($item:ty) => {
        /// Overrides the page size.
        pub fn per_page(self, per_page: u32) -> $crate::list::List<$item> {
            self.into_list().per_page(per_page)
        }

        /// The records, one by one (see [`crate::list::List::stream`]).
        pub fn stream(self) -> futures::stream::BoxStream<'static, $crate::error::Result<$item>> {
            self.into_list().stream()
        }

        /// The pages, with `Total` and the next link.
        pub fn pages(
            self,
        ) -> futures::stream::BoxStream<'static, $crate::error::Result<$crate::page::Page<$item>>> {
            self.into_list().pages()
        }

        /// The whole list in memory, malformed records aside.
        pub async fn collect(self) -> $crate::error::Result<$crate::page::Collected<$item>> {
            self.into_list().collect().await
        }
    };
}
pub(crate) use list_methods;

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[derive(Serialize)]
    struct Q {
        #[serde(
            rename = "filters[updated_at]",
            skip_serializing_if = "Option::is_none"
        )]
        updated: Option<TimeRange>,
        #[serde(flatten)]
        vendors: Many<i64>,
    }

    #[test]
    fn the_default_page_limit_holds_a_million_records_and_stops_a_runaway_listing_within_3_hours() {
        // Procore's historical rate limit, the pace a runaway listing is read at.
        const REQUESTS_PER_HOUR: u64 = 3_600;
        assert!(u64::from(MAX_PAGES) * u64::from(MAX_PER_PAGE_V2) >= 1_000_000);
        assert!(u64::from(MAX_PAGES) <= 3 * REQUESTS_PER_HOUR);
        assert_eq!(
            crate::ClientConfig::custom(
                "http://localhost",
                crate::CompanyId(1),
                crate::Credentials::client_credentials("id", "secret")
            )
            .unwrap()
            .max_pages,
            MAX_PAGES
        );
    }

    #[test]
    fn ranges_and_repeated_params_serialize_as_procore_expects() {
        let from = Utc.with_ymd_and_hms(2016, 9, 23, 16, 30, 0).unwrap();
        let to = Utc.with_ymd_and_hms(2016, 9, 23, 17, 0, 0).unwrap();
        let mut vendors = Many::new("filters[vendor_id][]");
        vendors.push(1);
        vendors.push(2);
        let q = Q {
            updated: Some(TimeRange { from, to: Some(to) }),
            vendors,
        };
        assert_eq!(
            to_query(&q).unwrap(),
            "filters%5Bupdated_at%5D=2016-09-23T16%3A30%3A00Z...2016-09-23T17%3A00%3A00Z&filters%5Bvendor_id%5D%5B%5D=1&filters%5Bvendor_id%5D%5B%5D=2"
        );
        let q = Q {
            updated: None,
            vendors: Many::new("filters[vendor_id][]"),
        };
        assert_eq!(to_query(&q).unwrap(), "");
    }
}
