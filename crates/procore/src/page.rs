//! Pages of a list endpoint and the `Link` header that chains them.
//!
//! Procore paginates with `page`/`per_page` and RFC 5988 `Link` headers (`rel="next"` is absent
//! on the last page), plus `Total` and `Per-Page`. A [`Page`] holds one page's records, the
//! records that could not be read ([`Malformed`]) and the link to the next page.

use chrono::{DateTime, Utc};
use url::Url;

use crate::error::Malformed;

/// Links parsed from one `Link` header.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Links {
    /// `rel="first"`
    pub first: Option<String>,
    /// `rel="prev"`
    pub prev: Option<String>,
    /// `rel="next"`
    pub next: Option<String>,
    /// `rel="last"`
    pub last: Option<String>,
}

/// Parses an RFC 5988 `Link` header value. Pure; unknown relations and malformed parts are
/// ignored.
pub fn parse_link_header(value: &str) -> Links {
    let mut links = Links::default();
    for part in split_links(value) {
        let part = part.trim();
        let Some(rest) = part.strip_prefix('<') else {
            continue;
        };
        let Some(end) = rest.find('>') else { continue };
        let target = rest[..end].trim().to_string();
        for param in rest[end + 1..].split(';') {
            let Some((key, val)) = param.split_once('=') else {
                continue;
            };
            if !key.trim().eq_ignore_ascii_case("rel") {
                continue;
            }
            for rel in val.trim().trim_matches('"').split_whitespace() {
                let slot = match rel.to_ascii_lowercase().as_str() {
                    "first" => &mut links.first,
                    "prev" | "previous" => &mut links.prev,
                    "next" => &mut links.next,
                    "last" => &mut links.last,
                    _ => continue,
                };
                *slot = Some(target.clone());
            }
        }
    }
    links
}

/// Splits on commas that are outside `<...>` (URLs may contain commas).
fn split_links(value: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut depth = 0usize;
    let mut start = 0;
    for (i, c) in value.char_indices() {
        match c {
            '<' => depth += 1,
            '>' => depth = depth.saturating_sub(1),
            ',' if depth == 0 => {
                parts.push(&value[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&value[start..]);
    parts
}

/// One page of a list.
#[derive(Debug, Clone)]
pub struct Page<T> {
    /// Records read from this page.
    pub items: Vec<T>,
    /// Records on this page that could not be read, with the reason.
    pub malformed: Vec<Malformed>,
    /// The `Total` header: records in the whole list.
    pub total: Option<u64>,
    /// The `Per-Page` header.
    pub per_page: Option<u32>,
    /// Procore's clock when it answered (the `Date` header), to which a cursor can be compared
    /// without trusting the local clock.
    pub server_time: Option<DateTime<Utc>>,
    /// The next page, when there is one.
    pub next: Option<Url>,
    /// 1-based number of this page in the walk.
    pub number: u32,
}

/// A whole list read into memory, with the records that were skipped.
#[derive(Debug, Clone)]
pub struct Collected<T> {
    /// Records read.
    pub items: Vec<T>,
    /// Records skipped, with reasons.
    pub malformed: Vec<Malformed>,
    /// The `Total` header of the first page.
    pub total: Option<u64>,
    /// The `Date` header of the first page: Procore's clock when the read began.
    pub server_time: Option<DateTime<Utc>>,
    /// Pages fetched.
    pub pages: u32,
}

/// Progress after each page: `(records seen so far, Total header)`.
pub type Progress = std::sync::Arc<dyn Fn(u64, Option<u64>) + Send + Sync>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_headers_yield_first_prev_next_and_last_as_procore_documents_them() {
        let doc = r#"<https://api.procore.com/rest/v1.0/punch_items?page=1&per_page=5>; rel="first", <https://api.procore.com/rest/v1.0/punch_items?page=2&per_page=5>; rel="prev", <https://api.procore.com/rest/v1.0/punch_items?page=30&per_page=5>; rel="last", <https://api.procore.com/rest/v1.0/punch_items?page=4&per_page=5>; rel="next""#;
        let cases: Vec<(&str, Links)> = vec![
            (
                doc,
                Links {
                    first: Some(
                        "https://api.procore.com/rest/v1.0/punch_items?page=1&per_page=5".into(),
                    ),
                    prev: Some(
                        "https://api.procore.com/rest/v1.0/punch_items?page=2&per_page=5".into(),
                    ),
                    next: Some(
                        "https://api.procore.com/rest/v1.0/punch_items?page=4&per_page=5".into(),
                    ),
                    last: Some(
                        "https://api.procore.com/rest/v1.0/punch_items?page=30&per_page=5".into(),
                    ),
                },
            ),
            (
                "<http://h/x?page=30>; rel=\"last\", <http://h/x?page=29>; rel=\"prev\"",
                Links {
                    last: Some("http://h/x?page=30".into()),
                    prev: Some("http://h/x?page=29".into()),
                    ..Links::default()
                },
            ),
            ("", Links::default()),
            ("garbage, <unterminated; rel=next", Links::default()),
            (
                "<http://h/x?filters[id][]=1,2&page=2>;rel=next",
                Links {
                    next: Some("http://h/x?filters[id][]=1,2&page=2".into()),
                    ..Links::default()
                },
            ),
            (
                "<http://h/a>; title=\"x\"; REL=\"next last\"",
                Links {
                    next: Some("http://h/a".into()),
                    last: Some("http://h/a".into()),
                    ..Links::default()
                },
            ),
        ];
        for (input, want) in cases {
            assert_eq!(parse_link_header(input), want, "{input}");
        }
    }
}
