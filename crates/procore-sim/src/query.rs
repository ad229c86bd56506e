//! Query strings: Rails-style `filters[attr]`, `filters[attr][]` and `a...b` ranges.

use chrono::{DateTime, NaiveDate, Utc};

/// Decoded query pairs, in order.
#[derive(Clone, Debug, Default)]
pub(crate) struct Query {
    pub(crate) pairs: Vec<(String, String)>,
}

impl Query {
    pub(crate) fn parse(raw: Option<&str>) -> Self {
        let pairs = raw
            .map(|q| serde_urlencoded::from_str::<Vec<(String, String)>>(q).unwrap_or_default())
            .unwrap_or_default();
        Query { pairs }
    }

    /// First value of `key` (also accepts `key[]`).
    pub(crate) fn get(&self, key: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(k, _)| {
                k == key || (k.len() == key.len() + 2 && k.starts_with(key) && k.ends_with("[]"))
            })
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    }

    /// All values of `key` and `key[]`; comma-separated values are split.
    pub(crate) fn all(&self, key: &str) -> Vec<&str> {
        let arr = format!("{key}[]");
        self.pairs
            .iter()
            .filter(|(k, _)| *k == key || *k == arr)
            .flat_map(|(_, v)| v.split(','))
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .collect()
    }

    pub(crate) fn i64(&self, key: &str) -> Option<i64> {
        self.get(key).and_then(|v| v.parse().ok())
    }

    pub(crate) fn ids(&self, key: &str) -> Option<Vec<i64>> {
        let v = self.all(key);
        if v.is_empty() {
            None
        } else {
            Some(v.iter().filter_map(|s| s.parse().ok()).collect())
        }
    }

    pub(crate) fn bool(&self, key: &str) -> Option<bool> {
        self.get(key)
            .map(|v| matches!(v, "true" | "1" | "t" | "yes"))
    }

    pub(crate) fn range(&self, key: &str) -> Option<Range> {
        self.get(key).and_then(Range::parse)
    }
}

/// An inclusive time range from `a...b` (either side may be a date or a timestamp).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Range {
    pub(crate) from: Option<DateTime<Utc>>,
    pub(crate) to: Option<DateTime<Utc>>,
}

fn parse_time(s: &str, end: bool) -> Option<DateTime<Utc>> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&Utc));
    }
    if let Ok(t) = DateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f%z") {
        return Some(t.with_timezone(&Utc));
    }
    let d = NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()?;
    let t = if end {
        d.and_hms_opt(23, 59, 59)?
    } else {
        d.and_hms_opt(0, 0, 0)?
    };
    Some(t.and_utc())
}

impl Range {
    pub(crate) fn parse(s: &str) -> Option<Range> {
        match s.split_once("...") {
            Some((a, b)) => Some(Range {
                from: parse_time(a, false),
                to: parse_time(b, true),
            }),
            None => {
                let from = parse_time(s, false)?;
                Some(Range {
                    from: Some(from),
                    to: parse_time(s, true),
                })
            }
        }
    }

    pub(crate) fn contains(&self, t: &DateTime<Utc>) -> bool {
        self.from.is_none_or(|f| *t >= f) && self.to.is_none_or(|e| *t <= e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn array_filters_accept_bracket_and_comma_forms() {
        let q = Query::parse(Some(
            "filters%5Bid%5D%5B%5D=1&filters%5Bid%5D%5B%5D=2&filters[vendor_id]=3,4",
        ));
        assert_eq!(q.ids("filters[id]"), Some(vec![1, 2]));
        assert_eq!(q.ids("filters[vendor_id]"), Some(vec![3, 4]));
    }

    #[test]
    fn updated_at_range_includes_both_ends() {
        let r = Range::parse("2026-01-01T00:00:00Z...2026-01-02").unwrap();
        assert!(r.contains(&"2026-01-02T12:00:00Z".parse().unwrap()));
        assert!(!r.contains(&"2025-12-31T23:59:59Z".parse().unwrap()));
    }
}
