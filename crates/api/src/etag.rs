//! Entity tags for the records a person edits in place (a connection's settings, the
//! compliance settings, a profile, a certificate, a party's profile), and `If-Match` on their
//! writes: two admins editing the
//! same settings from two screens cannot silently undo each other. The tag is a hash of what
//! the write changes, so it moves only when that does (a connection's health may change
//! every minute; its settings do not). Workers and forms carry the store's version instead.

use crate::Problem;
use axum::http::header::{ETAG, IF_MATCH};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use serde::Serialize;
use sha2::{Digest, Sha256};

/// The quoted tag of `value`'s JSON.
pub(crate) fn of(value: &impl Serialize) -> String {
    let json = serde_json::to_vec(value).unwrap_or_default();
    let digest = Sha256::digest(json);
    let hex: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
    format!("\"{hex}\"")
}

/// Whether `If-Match`, when given, names `current` (or is `*`).
pub(crate) fn matches(headers: &HeaderMap, current: &str) -> bool {
    let Some(wanted) = headers.get(IF_MATCH) else {
        return true;
    };
    let wanted = wanted.to_str().unwrap_or_default();
    wanted.trim() == "*"
        || wanted
            .split(',')
            .any(|t| t.trim().trim_start_matches("W/") == current)
}

/// `record` when the request names a tag in `If-Match`: the record as read, which the write
/// then names to the store so the compare and the write are one step (another write between
/// this read and that write is refused, 412, not overwritten). `*` asks only that the record
/// exists, so it names none.
pub(crate) fn as_read<'a, T>(headers: &HeaderMap, record: &'a T) -> Option<&'a T> {
    let tag = headers.get(IF_MATCH)?;
    (tag.to_str().ok().map(str::trim) != Some("*")).then_some(record)
}

/// `Ok` when the write may go ahead; 412 naming the record when it changed since it was read.
pub(crate) fn check(headers: &HeaderMap, current: &str, what: &str) -> Result<(), Problem> {
    if matches(headers, current) {
        Ok(())
    } else {
        Err(Problem::new(
            StatusCode::PRECONDITION_FAILED,
            format!(
                "{what} changed since it was read (its ETag is now {current}); read it again and change what it is now"
            ),
        ))
    }
}

/// [`check`] for a record that may not exist yet (a PUT that creates or replaces): an
/// `If-Match` naming a tag (not `*`) fails when there is nothing to match.
pub(crate) fn check_existing(
    headers: &HeaderMap,
    current: Option<&str>,
    what: &str,
) -> Result<(), Problem> {
    match current {
        Some(current) => check(headers, current, what),
        None if headers.get(IF_MATCH).is_some_and(|v| v != "*") => Err(Problem::new(
            StatusCode::PRECONDITION_FAILED,
            format!("{what} does not exist any more; read it again"),
        )),
        None => Ok(()),
    }
}

/// `response` with `tag` as its `ETag`.
pub(crate) fn tagged(mut response: Response, tag: &str) -> Response {
    if let Ok(v) = HeaderValue::from_str(tag) {
        response.headers_mut().insert(ETAG, v);
    }
    response
}
