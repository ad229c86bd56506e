//! v2.1 unified uploads (NOTES §8 "Unified uploads", after Procore's
//! `tutorials/tutorial_unified_uploads.md`): `POST` declares the file and its segments with
//! their SHA-256, the bytes go to one presigned storage URL per segment (`PUT`, no bearer
//! token, answered with an `ETag`), `PATCH` completes the upload with the part ETags, and
//! `GET` reports the status until it is `available`. Only then may the `upload_id` be named
//! as a file's or version's `upload_uuid` (see `changes::store_content`).
//!
//! Why checksums are enforced where they are: Procore promises segment-level SHA-256
//! verification without saying at which step it fails. Refusing the part `PUT` itself is the
//! earliest point and the one a client can retry, so the simulator checks each part there and
//! the whole file's SHA-256 when the upload is completed.

use super::Path;
use axum::body::Bytes;
use axum::extract::{Query as AxumQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use super::*;
use crate::wire;
use crate::world::{Tool, UnifiedSegment, UnifiedUpload};

/// Largest segment: 100 MiB (Procore: "100 MB"; read as MiB, see `docs/procore-fidelity.md`).
pub(crate) const MAX_SEGMENT: u64 = 100 * 1024 * 1024;
/// Smallest segment other than the last: 5 MiB, as in S3 multipart uploads.
pub(crate) const MIN_SEGMENT: u64 = 5 * 1024 * 1024;
/// At most this many segments per upload.
const MAX_SEGMENTS: usize = 10_000;
/// An upload must be associated with a file within this long.
const LIFETIME_HOURS: i64 = 24;

pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

fn is_sha256_hex(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// ETags compare without the quotes storage puts around them.
fn bare_etag(s: &str) -> &str {
    s.trim().trim_matches('"')
}

/// The upload as its owner may see it: right project, not expired, same user.
fn owned<'w>(
    w: &'w mut World,
    ctx: &Ctx,
    pid: i64,
    id: &str,
    now: DateTime<Utc>,
) -> ApiResult<&'w mut UnifiedUpload> {
    w.unified_uploads
        .get_mut(id)
        .filter(|u| {
            u.project_id == pid
                && u.company_id == ctx.company_id
                && u.user_id == ctx.user_id
                && now < u.expires_at
        })
        .ok_or_else(|| ApiError::not_found("Upload"))
}

fn upload_ctx(w: &World, ctx: &Ctx, cid: i64, pid: i64, write: bool) -> ApiResult<()> {
    ctx.same_company(w, cid)?;
    ctx.project(w, pid)?;
    if write {
        ctx.can_write(w, Tool::Documents)
    } else {
        ctx.can_read(w, Tool::Documents)
    }
}

fn u64_field(v: &Value, key: &str) -> ApiResult<u64> {
    v.get(key)
        .and_then(|x| x.as_u64().or_else(|| x.as_str()?.parse().ok()))
        .ok_or_else(|| ApiError::invalid(key, "must be a non-negative integer"))
}

fn sha_field(v: &Value, key: &str, field: &str) -> ApiResult<String> {
    let s = v
        .get(key)
        .and_then(Value::as_str)
        .ok_or_else(|| ApiError::invalid(field, "can't be blank"))?;
    if !is_sha256_hex(s) {
        return Err(ApiError::invalid(
            field,
            "must be a hex SHA-256 (64 characters)",
        ));
    }
    Ok(s.to_ascii_lowercase())
}

fn segments_of(body: &Value, file_size: u64) -> ApiResult<Vec<UnifiedSegment>> {
    let list = body
        .get("segments")
        .and_then(Value::as_array)
        .filter(|a| !a.is_empty())
        .ok_or_else(|| ApiError::invalid("segments", "can't be blank"))?;
    if list.len() > MAX_SEGMENTS {
        return Err(ApiError::invalid(
            "segments",
            "must have at most 10000 elements",
        ));
    }
    let last = list.len() - 1;
    let mut out = Vec::with_capacity(list.len());
    for (i, s) in list.iter().enumerate() {
        let size = u64_field(s, "size").map_err(|_| {
            ApiError::invalid("segments", &format!("segment {} has no valid size", i + 1))
        })?;
        if size > MAX_SEGMENT {
            return Err(ApiError::invalid(
                "segments",
                &format!("segment {} is larger than {MAX_SEGMENT} bytes", i + 1),
            ));
        }
        if i < last && size < MIN_SEGMENT {
            return Err(ApiError::invalid(
                "segments",
                &format!(
                    "segment {} is smaller than {MIN_SEGMENT} bytes (only the last may be)",
                    i + 1
                ),
            ));
        }
        let sha256 = sha_field(s, "sha256", "segments")?;
        let md5 = s.get("md5").and_then(Value::as_str).map(str::to_owned);
        out.push(UnifiedSegment {
            size,
            sha256,
            md5,
            etag: None,
            submitted_etag: None,
        });
    }
    let total: u64 = out.iter().map(|s| s.size).sum();
    if total != file_size {
        return Err(ApiError::invalid(
            "file_size",
            "does not match the sum of the segment sizes",
        ));
    }
    Ok(out)
}

/// `POST /rest/v2.1/companies/{company_id}/projects/{project_id}/uploads`.
pub(crate) async fn create(
    State(sim): State<Sim>,
    Path((cid, pid)): Path<(i64, i64)>,
    req: Req,
    body: Body,
) -> ApiResult {
    let body = body.value;
    let now = sim.now();
    sim.rest(&req, CompanyHeader::Required, |w, ctx| {
        upload_ctx(w, ctx, cid, pid, true)?;
        let file_name = body
            .get("file_name")
            .and_then(Value::as_str)
            .filter(|s| !s.trim().is_empty())
            .ok_or_else(|| ApiError::invalid("file_name", "can't be blank"))?
            .to_owned();
        let file_size = u64_field(&body, "file_size")?;
        let sha256 = sha_field(&body, "sha256", "sha256")?;
        let segments = segments_of(&body, file_size)?;
        let upload_id = uuid::Uuid::new_v4().simple().to_string().to_uppercase();
        let u = UnifiedUpload {
            upload_id: upload_id.clone(),
            company_id: ctx.company_id,
            project_id: pid,
            user_id: ctx.user_id,
            file_name,
            file_size,
            content_type: body
                .get("content_type")
                .and_then(Value::as_str)
                .map(str::to_owned),
            sha256,
            md5: body.get("md5").and_then(Value::as_str).map(str::to_owned),
            segments,
            status: "ready".into(),
            polls_left: 0,
            blob: None,
            created_at: now,
            expires_at: now + chrono::Duration::hours(LIFETIME_HOURS),
        };
        let out = wire::unified_upload(req.base(), &u);
        w.unified_uploads.insert(upload_id, u);
        Ok(created(out))
    })
}

/// `GET .../uploads/{upload_id}`: the status. A `complete` upload turns `available` on a read
/// once its `polls_left` (from `Faults::upload_processing_polls`) are used up.
pub(crate) async fn show(
    State(sim): State<Sim>,
    Path((cid, pid, id)): Path<(i64, i64, String)>,
    req: Req,
) -> ApiResult {
    let now = sim.now();
    sim.rest(&req, CompanyHeader::Required, |w, ctx| {
        upload_ctx(w, ctx, cid, pid, false)?;
        let u = owned(w, ctx, pid, &id, now)?;
        if u.status == "complete" {
            if u.polls_left > 0 {
                u.polls_left -= 1;
            } else {
                u.status = "available".into();
            }
        }
        Ok(ok(wire::unified_upload(req.base(), u)))
    })
}

/// The ETags of a completion body: `part_etags: [etag|null]` as the tutorial shows, or
/// `segments: [{etag}]` as NOTES §8 summarises it. `None` entries are parts not sent yet.
fn submitted(body: &Value) -> ApiResult<(Vec<Option<String>>, &'static str)> {
    let as_etag = |v: &Value| v.as_str().map(|s| bare_etag(s).to_owned());
    if let Some(list) = body.get("part_etags").and_then(Value::as_array) {
        return Ok((list.iter().map(as_etag).collect(), "part_etags"));
    }
    if let Some(list) = body.get("segments").and_then(Value::as_array) {
        let etags = list
            .iter()
            .map(|s| s.get("etag").and_then(as_etag))
            .collect();
        return Ok((etags, "segments"));
    }
    Err(ApiError::invalid("part_etags", "can't be blank"))
}

/// `PATCH .../uploads/{upload_id}`: records the part ETags; when every part has a matching
/// one, assembles the file, checks its size and SHA-256 and marks it `complete`.
pub(crate) async fn complete(
    State(sim): State<Sim>,
    Path((cid, pid, id)): Path<(i64, i64, String)>,
    req: Req,
    body: Body,
) -> ApiResult {
    let body = body.value;
    let now = sim.now();
    let polls = sim.faults().upload_processing_polls;
    sim.rest(&req, CompanyHeader::Required, |w, ctx| {
        upload_ctx(w, ctx, cid, pid, true)?;
        // An unknown upload is 404 whatever the body says, as Rails finds the record first.
        owned(w, ctx, pid, &id, now)?;
        let (etags, field) = submitted(&body)?;
        let u = owned(w, ctx, pid, &id, now)?;
        if matches!(u.status.as_str(), "complete" | "available") {
            return Ok(ok(
                json!({"data": {"upload_id": u.upload_id, "status": u.status}}),
            ));
        }
        if etags.len() != u.segments.len() {
            return Err(ApiError::invalid(
                field,
                &format!("must have one entry per segment ({})", u.segments.len()),
            ));
        }
        for (i, (seg, given)) in u.segments.iter().zip(&etags).enumerate() {
            if let Some(given) = given {
                if seg.etag.as_deref() != Some(given.as_str()) {
                    return Err(ApiError::invalid(
                        field,
                        &format!("ETag of part {} does not match the stored part", i + 1),
                    ));
                }
            }
        }
        for (seg, given) in u.segments.iter_mut().zip(&etags) {
            if given.is_some() {
                seg.submitted_etag.clone_from(given);
            }
        }
        if u.segments.iter().any(|s| s.submitted_etag.is_none()) {
            u.status = "receiving".into();
            return Ok(ok(
                json!({"data": {"upload_id": u.upload_id, "status": u.status}}),
            ));
        }
        let upload_id = u.upload_id.clone();
        let (expected_sha, expected_size, parts) =
            (u.sha256.clone(), u.file_size, u.segments.len());
        let mut bytes = Vec::with_capacity(usize::try_from(expected_size).unwrap_or(0));
        for part in 1..=parts {
            let key = part_key(&upload_id, part);
            let b = w
                .blobs
                .get(&key)
                .ok_or_else(|| ApiError::invalid(field, "a part is missing"))?;
            bytes.extend_from_slice(&b.bytes);
        }
        if bytes.len() as u64 != expected_size {
            return Err(ApiError::invalid(
                "file_size",
                "does not match the uploaded bytes",
            ));
        }
        if sha256_hex(&bytes) != expected_sha {
            return Err(ApiError::invalid(
                "sha256",
                "does not match the uploaded file",
            ));
        }
        for part in 1..=parts {
            w.blobs.remove(&part_key(&upload_id, part));
        }
        let key = format!("unified/{upload_id}");
        let u = owned(w, ctx, pid, &id, now)?;
        u.status = "complete".into();
        u.polls_left = polls;
        u.blob = Some(key.clone());
        let content_type = u.content_type.clone();
        w.blobs.insert(
            key,
            crate::world::Blob {
                content_type,
                bytes,
            },
        );
        Ok(ok(
            json!({"data": {"upload_id": upload_id, "status": "complete"}}),
        ))
    })
}

fn part_key(upload_id: &str, part: usize) -> String {
    format!("unified/{upload_id}/parts/{part}")
}

fn storage_error(status: StatusCode, field: &str, msg: &str) -> Response {
    (status, axum::Json(json!({"errors": {field: [msg]}}))).into_response()
}

/// `PUT /_sim/s3/unified/{upload_id}/{part}`: the presigned storage URL of one part. No bearer
/// token (Procore: "Including an Authorization header in the PUT will cause an error"), not
/// rate limited, logged. Repeating a `PUT` with the same bytes stores the same part and
/// answers the same `ETag`, so clients may retry it freely.
pub(crate) async fn storage_put(
    State(sim): State<Sim>,
    Path((id, part)): Path<(String, usize)>,
    AxumQuery(q): AxumQuery<std::collections::BTreeMap<String, String>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if headers.contains_key(header::AUTHORIZATION) {
        return storage_error(
            StatusCode::BAD_REQUEST,
            "base",
            "Presigned URLs are pre-authenticated: send no Authorization header",
        );
    }
    if sim.lock_faults().storage_error() {
        let mut r = storage_error(
            StatusCode::SERVICE_UNAVAILABLE,
            "base",
            "Storage is unavailable, retry the part",
        );
        r.headers_mut()
            .insert("Retry-After", HeaderValue::from_static("1"));
        return r;
    }
    let now = sim.now();
    let signed_until = q.get("expires_at").and_then(|s| s.parse::<i64>().ok());
    sim.write(|w| {
        let Some(u) = w.unified_uploads.get_mut(&id) else {
            return storage_error(StatusCode::NOT_FOUND, "base", "No such upload");
        };
        if now >= u.expires_at || signed_until.is_some_and(|t| now.timestamp() >= t) {
            return storage_error(
                StatusCode::FORBIDDEN,
                "base",
                "The presigned URL has expired",
            );
        }
        if !matches!(u.status.as_str(), "ready" | "receiving") {
            return storage_error(
                StatusCode::UNPROCESSABLE_ENTITY,
                "base",
                "The upload is already complete",
            );
        }
        let Some(seg) = part.checked_sub(1).and_then(|i| u.segments.get_mut(i)) else {
            return storage_error(StatusCode::NOT_FOUND, "base", "No such part");
        };
        if body.len() as u64 != seg.size {
            return storage_error(
                StatusCode::UNPROCESSABLE_ENTITY,
                "size",
                "does not match the declared segment size",
            );
        }
        let sha = sha256_hex(&body);
        if sha != seg.sha256 {
            return storage_error(
                StatusCode::UNPROCESSABLE_ENTITY,
                "sha256",
                "does not match the declared segment checksum",
            );
        }
        // Opaque to clients; derived from the bytes so a repeated PUT answers the same ETag.
        let etag = sha[..32].to_owned();
        seg.etag = Some(etag.clone());
        w.blobs.insert(
            part_key(&id, part),
            crate::world::Blob {
                content_type: None,
                bytes: body.to_vec(),
            },
        );
        let mut r = StatusCode::OK.into_response();
        if let Ok(v) = HeaderValue::from_str(&format!("\"{etag}\"")) {
            r.headers_mut().insert(header::ETAG, v);
        }
        r
    })
}
