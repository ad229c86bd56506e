//! Documents: folders, files, file versions, direct uploads, the simulated S3 upload target
//! and the authenticated download of a version's bytes.

use super::Path;
use axum::extract::{FromRequest, Multipart, Request, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value};

use super::*;
use crate::changes::{self, Content, NewFile};
use crate::wire::{self, FolderOpts};
use crate::world::{Blob, Tool, Upload};

fn pid(q: &Query) -> ApiResult<i64> {
    required_i64(q, "project_id")
}

fn opts(q: &Query) -> FolderOpts {
    FolderOpts {
        exclude_folders: q.bool("exclude_folders").unwrap_or(false),
        exclude_files: q.bool("exclude_files").unwrap_or(false),
        latest_only: q.bool("show_latest_file_version_only").unwrap_or(false),
    }
}

fn doc_ctx(w: &World, ctx: &Ctx, pid: i64, write: bool) -> ApiResult<()> {
    ctx.project(w, pid)?;
    if write {
        ctx.can_write(w, Tool::Documents)
    } else {
        ctx.can_read(w, Tool::Documents)
    }
}

pub(crate) async fn root(State(sim): State<Sim>, req: Req) -> ApiResult {
    let now = sim.now();
    sim.rest(&req, CompanyHeader::Required, |w, ctx| {
        let pid = pid(&req.q)?;
        doc_ctx(w, ctx, pid, false)?;
        let root = w.root_folder_id(pid, now);
        let f = w
            .folders
            .get(&root)
            .ok_or_else(|| ApiError::not_found("Folder"))?;
        Ok(ok(wire::folder(w, req.base(), f, opts(&req.q))))
    })
}

pub(crate) async fn folder_show(
    State(sim): State<Sim>,
    Path(id): Path<i64>,
    req: Req,
) -> ApiResult {
    sim.rest(&req, CompanyHeader::Required, |w, ctx| {
        let pid = pid(&req.q)?;
        doc_ctx(w, ctx, pid, false)?;
        let f = w
            .folders
            .get(&id)
            .filter(|f| f.project_id == pid && !f.is_deleted)
            .ok_or_else(|| ApiError::not_found("Folder"))?;
        Ok(ok(wire::folder(w, req.base(), f, opts(&req.q))))
    })
}

pub(crate) async fn folder_create(State(sim): State<Sim>, req: Req, body: Body) -> ApiResult {
    let body = body.value;
    let now = sim.now();
    sim.rest(&req, CompanyHeader::Required, |w, ctx| {
        let pid = pid(&req.q)?;
        doc_ctx(w, ctx, pid, true)?;
        let id = changes::create_folder(w, pid, wrapped(&body, "folder")?, ctx.actor(), now)?;
        let f = w
            .folders
            .get(&id)
            .ok_or_else(|| ApiError::not_found("Folder"))?;
        Ok(created(wire::folder(
            w,
            req.base(),
            f,
            FolderOpts::default(),
        )))
    })
}

pub(crate) async fn folder_update(
    State(sim): State<Sim>,
    Path(id): Path<i64>,
    req: Req,
    body: Body,
) -> ApiResult {
    let body = body.value;
    let now = sim.now();
    sim.rest(&req, CompanyHeader::Required, |w, ctx| {
        let pid = pid(&req.q)?;
        doc_ctx(w, ctx, pid, true)?;
        w.folders
            .get(&id)
            .filter(|f| f.project_id == pid)
            .ok_or_else(|| ApiError::not_found("Folder"))?;
        changes::update_folder(w, id, wrapped(&body, "folder")?, ctx.actor(), now)?;
        let f = w
            .folders
            .get(&id)
            .ok_or_else(|| ApiError::not_found("Folder"))?;
        Ok(ok(wire::folder(w, req.base(), f, FolderOpts::default())))
    })
}

pub(crate) async fn folder_delete(
    State(sim): State<Sim>,
    Path(id): Path<i64>,
    req: Req,
) -> ApiResult {
    let now = sim.now();
    sim.rest(&req, CompanyHeader::Required, |w, ctx| {
        let pid = pid(&req.q)?;
        doc_ctx(w, ctx, pid, true)?;
        w.folders
            .get(&id)
            .filter(|f| f.project_id == pid)
            .ok_or_else(|| ApiError::not_found("Folder"))?;
        changes::delete_folder(w, id, ctx.actor(), now)?;
        Ok(empty_ok())
    })
}

/// Fields of a JSON or multipart `file`/`file_version` body, plus raw data if sent.
struct FileBody {
    attrs: Map<String, Value>,
    data: Option<(Vec<u8>, Option<String>, Option<String>)>,
}

/// The `file`/`file_version` object of a body in any encoding; its binary `data` part (the
/// deprecated direct upload) becomes the new version's content.
fn file_body(mut body: Body, key: &str) -> ApiResult<FileBody> {
    let data = body
        .take_file(&format!("{key}[data]"))
        .map(|f| (f.bytes, f.filename, f.content_type));
    let mut attrs = wrapped(&body.value, key)?.clone();
    attrs.remove("data");
    Ok(FileBody { attrs, data })
}

fn content_of(fb: &mut FileBody) -> Option<Content> {
    if let Some((bytes, filename, content_type)) = fb.data.take() {
        return Some(Content::Data {
            bytes,
            filename,
            content_type,
        });
    }
    fb.attrs
        .get("upload_uuid")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(|u| Content::Upload(u.to_owned()))
}

pub(crate) async fn file_create(State(sim): State<Sim>, req: Req, body: Body) -> ApiResult {
    let now = sim.now();
    sim.rest(&req, CompanyHeader::Required, |w, ctx| {
        let pid = pid(&req.q)?;
        doc_ctx(w, ctx, pid, true)?;
        let mut fb = file_body(body, "file")?;
        let content = content_of(&mut fb);
        let nf = NewFile {
            name: fb
                .attrs
                .get("name")
                .and_then(Value::as_str)
                .map(str::to_owned),
            parent_id: fb.attrs.get("parent_id").and_then(changes::as_i64),
            description: fb
                .attrs
                .get("description")
                .and_then(Value::as_str)
                .map(str::to_owned),
            unique_name: fb.attrs.get("unique_name").and_then(changes::as_bool),
            content,
        };
        let id = changes::create_file(w, pid, nf, ctx.actor(), now)?;
        let f = w
            .files
            .get(&id)
            .ok_or_else(|| ApiError::not_found("File"))?;
        Ok(created(wire::file(w, req.base(), f, false)))
    })
}

pub(crate) async fn file_show(State(sim): State<Sim>, Path(id): Path<i64>, req: Req) -> ApiResult {
    sim.rest(&req, CompanyHeader::Required, |w, ctx| {
        let pid = pid(&req.q)?;
        doc_ctx(w, ctx, pid, false)?;
        let f = w
            .files
            .get(&id)
            .filter(|f| f.project_id == pid && !f.is_deleted)
            .ok_or_else(|| ApiError::not_found("File"))?;
        let latest = req.q.bool("show_latest_version_only").unwrap_or(false);
        Ok(ok(wire::file(w, req.base(), f, latest)))
    })
}

pub(crate) async fn file_update(
    State(sim): State<Sim>,
    Path(id): Path<i64>,
    req: Req,
    body: Body,
) -> ApiResult {
    let now = sim.now();
    sim.rest(&req, CompanyHeader::Required, |w, ctx| {
        let pid = pid(&req.q)?;
        doc_ctx(w, ctx, pid, true)?;
        w.files
            .get(&id)
            .filter(|f| f.project_id == pid && !f.is_deleted)
            .ok_or_else(|| ApiError::not_found("File"))?;
        let mut fb = file_body(body, "file")?;
        let content = content_of(&mut fb);
        let meta: Map<String, Value> = fb
            .attrs
            .iter()
            .filter(|(k, _)| matches!(k.as_str(), "name" | "parent_id" | "description"))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        if !meta.is_empty() {
            changes::update_file_meta(w, id, &meta, ctx.actor(), now)?;
        }
        if let Some(c) = content {
            let notes = fb
                .attrs
                .get("notes")
                .and_then(Value::as_str)
                .map(str::to_owned);
            changes::add_version(w, id, c, notes, ctx.actor(), now)?;
        }
        let f = w
            .files
            .get(&id)
            .ok_or_else(|| ApiError::not_found("File"))?;
        Ok(ok(wire::file(w, req.base(), f, false)))
    })
}

pub(crate) async fn file_delete(
    State(sim): State<Sim>,
    Path(id): Path<i64>,
    req: Req,
) -> ApiResult {
    let now = sim.now();
    sim.rest(&req, CompanyHeader::Required, |w, ctx| {
        let pid = pid(&req.q)?;
        doc_ctx(w, ctx, pid, true)?;
        w.files
            .get(&id)
            .filter(|f| f.project_id == pid)
            .ok_or_else(|| ApiError::not_found("File"))?;
        changes::delete_file(w, id, ctx.actor(), now)?;
        Ok(empty_ok())
    })
}

pub(crate) async fn version_create(State(sim): State<Sim>, req: Req, body: Body) -> ApiResult {
    let now = sim.now();
    sim.rest(&req, CompanyHeader::Required, |w, ctx| {
        let pid = pid(&req.q)?;
        doc_ctx(w, ctx, pid, true)?;
        let fid = required_i64(&req.q, "file_id")?;
        w.files
            .get(&fid)
            .filter(|f| f.project_id == pid && !f.is_deleted)
            .ok_or_else(|| ApiError::not_found("File"))?;
        let mut fb = file_body(body, "file_version")?;
        let content =
            content_of(&mut fb).ok_or_else(|| ApiError::invalid("data", "can't be blank"))?;
        let notes = fb
            .attrs
            .get("notes")
            .and_then(Value::as_str)
            .map(str::to_owned);
        let vid = changes::add_version(w, fid, content, notes, ctx.actor(), now)?;
        let v = w
            .file_versions
            .get(&vid)
            .ok_or_else(|| ApiError::not_found("File Version"))?;
        Ok(created(wire::file_version(w, req.base(), v)))
    })
}

pub(crate) async fn version_show(
    State(sim): State<Sim>,
    Path(id): Path<i64>,
    req: Req,
) -> ApiResult {
    sim.rest(&req, CompanyHeader::Required, |w, ctx| {
        let pid = pid(&req.q)?;
        doc_ctx(w, ctx, pid, false)?;
        let v = w
            .file_versions
            .get(&id)
            .filter(|v| w.files.get(&v.file_id).is_some_and(|f| f.project_id == pid))
            .ok_or_else(|| ApiError::not_found("File Version"))?;
        Ok(ok(wire::file_version(w, req.base(), v)))
    })
}

/// An upload as `POST .../uploads` declares it, in a project or (with no project) company-wide.
pub(super) fn declared_upload(
    body: &Value,
    company_id: i64,
    project_id: Option<i64>,
    now: chrono::DateTime<chrono::Utc>,
) -> ApiResult<Upload> {
    let text = |key: &str| body.get(key).and_then(Value::as_str).map(str::to_owned);
    let filename = text("response_filename")
        .filter(|s| !s.is_empty())
        .ok_or_else(|| ApiError::invalid("response_filename", "can't be blank"))?;
    Ok(Upload {
        uuid: uuid::Uuid::new_v4().to_string().to_uppercase(),
        company_id,
        project_id,
        filename,
        content_type: text("response_content_type"),
        content_disposition: text("attachment_content_disposition"),
        status: "ready".into(),
        blob: None,
        created_at: now,
    })
}

pub(crate) async fn upload_create(
    State(sim): State<Sim>,
    Path(pid): Path<i64>,
    req: Req,
    body: Body,
) -> ApiResult {
    let body = body.value;
    let now = sim.now();
    sim.rest(&req, CompanyHeader::Required, |w, ctx| {
        doc_ctx(w, ctx, pid, true)?;
        let u = declared_upload(&body, ctx.company_id, Some(pid), now)?;
        let uuid = u.uuid.clone();
        let out = wire::upload(req.base(), &u, &now);
        w.uploads.insert(uuid, u);
        Ok(created(out))
    })
}

pub(crate) async fn upload_show(
    State(sim): State<Sim>,
    Path((pid, uuid)): Path<(i64, String)>,
    req: Req,
) -> ApiResult {
    let now = sim.now();
    sim.rest(&req, CompanyHeader::Required, |w, ctx| {
        doc_ctx(w, ctx, pid, false)?;
        let u = w
            .uploads
            .get(&uuid)
            .filter(|u| u.project_id == Some(pid))
            .ok_or_else(|| ApiError::not_found("Upload"))?;
        Ok(ok(wire::upload(req.base(), u, &now)))
    })
}

/// Completes a segmented upload; the simulator stores whole bodies, so this only marks it complete.
pub(crate) async fn upload_update(
    State(sim): State<Sim>,
    Path((pid, uuid)): Path<(i64, String)>,
    req: Req,
) -> ApiResult {
    let now = sim.now();
    sim.rest(&req, CompanyHeader::Required, |w, ctx| {
        doc_ctx(w, ctx, pid, true)?;
        let u = w
            .uploads
            .get_mut(&uuid)
            .filter(|u| u.project_id == Some(pid))
            .ok_or_else(|| ApiError::not_found("Upload"))?;
        if u.blob.is_some() {
            u.status = "complete".into();
        }
        let u = u.clone();
        Ok(ok(wire::upload(req.base(), &u, &now)))
    })
}

/// The simulated S3 bucket: `POST {url}` with the `fields` and a `file` part, no bearer token.
pub(crate) async fn s3_post(
    State(sim): State<Sim>,
    Path(uuid): Path<String>,
    body: Request,
) -> Response {
    let ct = body
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let (bytes, ctype) = if ct.starts_with("multipart/form-data") {
        let Ok(mut mp) = Multipart::from_request(body, &()).await else {
            return (StatusCode::BAD_REQUEST, "malformed multipart").into_response();
        };
        let mut file = None;
        let mut ctype = None;
        while let Ok(Some(f)) = mp.next_field().await {
            match f.name() {
                Some("file") => {
                    let t = f.content_type().map(str::to_owned);
                    file = f.bytes().await.ok().map(|b| (b.to_vec(), t));
                }
                Some("Content-Type") => ctype = f.text().await.ok(),
                _ => {}
            }
        }
        match file {
            Some((b, t)) => (b, ctype.or(t)),
            None => return (StatusCode::BAD_REQUEST, "missing file field").into_response(),
        }
    } else {
        match axum::body::to_bytes(body.into_body(), 512 << 20).await {
            Ok(b) => (b.to_vec(), None),
            Err(_) => return StatusCode::BAD_REQUEST.into_response(),
        }
    };
    let stored = sim.write(|w| {
        let key = format!("uploads/{uuid}");
        let Some(u) = w.uploads.get_mut(&uuid) else {
            return false;
        };
        u.blob = Some(key.clone());
        u.status = "complete".into();
        let ct = ctype.or_else(|| u.content_type.clone());
        w.blobs.insert(
            key,
            Blob {
                content_type: ct,
                bytes,
            },
        );
        true
    });
    if stored {
        let mut r = StatusCode::NO_CONTENT.into_response();
        r.headers_mut().insert(
            header::ETAG,
            axum::http::HeaderValue::from_static("\"sim\""),
        );
        r
    } else {
        (
            StatusCode::NOT_FOUND,
            "<Error><Code>NoSuchUpload</Code></Error>",
        )
            .into_response()
    }
}

/// Bytes of a file version; needs a valid bearer token of an app that can read the project.
pub(crate) async fn download(State(sim): State<Sim>, Path(id): Path<i64>, req: Req) -> ApiResult {
    let now = sim.now_unix();
    sim.read(|w| {
        let (client, _) = crate::auth::token(w, &req.headers, now)?;
        let v = w
            .file_versions
            .get(&id)
            .ok_or_else(|| ApiError::not_found("File Version"))?;
        let f = w
            .files
            .get(&v.file_id)
            .ok_or_else(|| ApiError::not_found("File"))?;
        let p = w
            .projects
            .get(&f.project_id)
            .ok_or_else(|| ApiError::not_found("Project"))?;
        let allowed = w
            .apps
            .get(&client)
            .and_then(|a| a.installations.get(&p.company_id))
            .is_some_and(|i| i.permitted_projects.contains(&p.id));
        if !allowed {
            return Err(ApiError::not_found("File Version"));
        }
        let blob = w
            .blobs
            .get(&v.blob)
            .ok_or_else(|| ApiError::not_found("File Version"))?;
        let ct = blob
            .content_type
            .clone()
            .unwrap_or_else(|| "application/octet-stream".into());
        Ok((
            [
                (header::CONTENT_TYPE, ct),
                (
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"{}\"", v.filename),
                ),
            ],
            blob.bytes.clone(),
        )
            .into_response())
    })
}
