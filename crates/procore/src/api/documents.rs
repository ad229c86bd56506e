//! The Documents tool of one project: folders, files, uploads and new versions.
//!
//! Uploading uses Procore's v2.1 unified flow ([`DocumentsHandler::upload`]): declare the file
//! and its SHA-256 per segment, `PUT` each part to its presigned URL with **no** bearer token,
//! complete with the part ETags, poll until `available`. Then `POST /rest/v1.0/files` (or
//! `PATCH /rest/v1.0/files/{id}` / `POST /rest/v1.0/file_versions` for a new version) names the
//! `upload_id` as `upload_uuid`. Procore documents the unified flow for Document Management;
//! that the v1.0 file endpoints take its ids is an assumption (NOTES §8, UNCONFIRMED), and
//! [`DocumentsHandler::upload_v11`] keeps the older flow for a server that refuses them.
//!
//! The upload steps are safe to repeat (an unattached upload is deleted after 24 h); the file
//! write is not, so an ambiguous failure there is [`crate::Error::WriteOutcomeUnknown`]: look
//! the file up by name before retrying.

use std::time::Duration;

use bytes::Bytes;
use reqwest::Method;
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

use super::{from_answer, get_one};
use crate::config::MAX_UPLOAD_SEGMENT;
use crate::error::{Error, Result};
use crate::http::Client;
use crate::ids::{FileId, FolderId, ProjectId};
use crate::list::to_query;
use crate::models::{File, FileVersion, Folder, UnifiedUpload, Upload, UploadSegment};
use crate::policy::backoff;

/// Handler for one project's documents. Created with [`Client::documents`].
#[derive(Debug, Clone)]
pub struct DocumentsHandler {
    client: Client,
    project_id: ProjectId,
}

impl Client {
    /// The Documents tool of one project.
    pub fn documents(&self, project_id: ProjectId) -> DocumentsHandler {
        DocumentsHandler {
            client: self.clone(),
            project_id,
        }
    }
}

impl DocumentsHandler {
    fn q(&self) -> Result<String> {
        to_query(&[("project_id", self.project_id.get())])
    }

    /// The root folder with its direct children (not paginated).
    pub async fn root(&self) -> Result<Folder> {
        get_one(&self.client, "rest/v1.0/folders", &self.q()?, "folder").await
    }

    /// One folder with its direct children.
    pub async fn folder(&self, id: FolderId) -> Result<Folder> {
        get_one(
            &self.client,
            &format!("rest/v1.0/folders/{id}"),
            &self.q()?,
            "folder",
        )
        .await
    }

    /// One file with its versions.
    pub async fn file(&self, id: FileId) -> Result<File> {
        get_one(
            &self.client,
            &format!("rest/v1.0/files/{id}"),
            &self.q()?,
            "file",
        )
        .await
    }

    /// Create a folder under `parent` (the root when `None`).
    pub async fn create_folder(&self, parent: Option<FolderId>, name: &str) -> Result<Folder> {
        let mut folder = Map::new();
        folder.insert("name".into(), json!(name));
        if let Some(p) = parent {
            folder.insert("parent_id".into(), json!(p));
        }
        let url = self
            .client
            .url_with_query("rest/v1.0/folders", &self.q()?)?;
        let answer = self
            .client
            .write_json(
                Method::POST,
                url,
                Some(json!({ "folder": Value::Object(folder) })),
                false,
            )
            .await?;
        from_answer("folder", answer)
    }

    /// Uploads `bytes` with Procore's v2.1 unified flow and returns the upload once it is
    /// `available`; its `upload_id` is then attached to a file as `upload_uuid`.
    ///
    /// 1. `POST /rest/v2.1/companies/{c}/projects/{p}/uploads` declares the name, size,
    ///    SHA-256 and the segments (one for files up to
    ///    [`ClientConfig::upload_segment_size`](crate::ClientConfig::upload_segment_size),
    ///    else parts of that size), each with its own SHA-256. MD5 is optional for Procore and
    ///    not sent, which spares a second digest of every byte.
    /// 2. Each part is `PUT` to its presigned URL with exactly the returned headers and no
    ///    bearer token; a part `PUT` is idempotent, so transient failures are retried.
    /// 3. `PATCH .../uploads/{id}` with `part_etags` (the storage ETags, in part order)
    ///    completes it.
    /// 4. `GET .../uploads/{id}` is polled with backoff until `available`, for at most
    ///    [`ClientConfig::upload_available_timeout`](crate::ClientConfig::upload_available_timeout).
    ///
    /// Every step is safe to repeat: an upload never attached to a file is deleted after 24 h.
    pub async fn upload(
        &self,
        file_name: &str,
        bytes: Bytes,
        content_type: &str,
    ) -> Result<UnifiedUpload> {
        let segment_size = self.client.inner.config.upload_segment_size;
        if segment_size == 0 || segment_size > MAX_UPLOAD_SEGMENT {
            return Err(Error::Config(format!(
                "upload_segment_size {segment_size} must be between 1 and {MAX_UPLOAD_SEGMENT} bytes"
            )));
        }
        let plan = {
            let bytes = bytes.clone();
            tokio::task::spawn_blocking(move || plan_segments(&bytes, segment_size))
                .await
                .map_err(|e| Error::Config(format!("hashing the upload failed: {e}")))?
        };
        let base = format!(
            "rest/v2.1/companies/{}/projects/{}/uploads",
            self.client.inner.config.company_id, self.project_id
        );
        let body = json!({
            "file_name": file_name,
            "file_size": bytes.len(),
            "content_type": content_type,
            "sha256": plan.sha256,
            "segments": plan.parts.iter().map(|p| json!({"size": p.len, "sha256": p.sha256})).collect::<Vec<_>>(),
        });
        let url = self.client.url(&base)?;
        // Idempotent: a repeated create only leaves an unused upload behind, which expires.
        let answer = self
            .client
            .write_json(Method::POST, url, Some(body), true)
            .await?;
        let created: UnifiedUpload = from_answer("upload", answer)?;
        if created.segments.len() != plan.parts.len() {
            return Err(Error::Decode {
                method: "POST".into(),
                path: format!("/{base}"),
                message: format!(
                    "{} part URLs for {} declared segments",
                    created.segments.len(),
                    plan.parts.len()
                ),
            });
        }
        let mut etags = Vec::with_capacity(plan.parts.len());
        for (part, target) in plan.parts.iter().zip(&created.segments) {
            let chunk = bytes.slice(part.start..part.start + part.len);
            etags.push(self.put_part(target, chunk).await?);
        }
        let path = format!("{base}/{}", created.upload_id);
        let url = self.client.url(&path)?;
        let answer = self
            .client
            .write_json(
                Method::PATCH,
                url,
                Some(json!({ "part_etags": etags })),
                true,
            )
            .await?;
        let completed: UnifiedUpload = from_answer("upload", answer)?;
        self.wait_until_available(&path, completed).await
    }

    /// `PUT`s one part to its presigned URL and returns the storage ETag without quotes (as
    /// Procore's tutorial sends it back). The URL is not Procore's API, so no bearer token.
    async fn put_part(&self, target: &UploadSegment, chunk: Bytes) -> Result<String> {
        let url = self
            .client
            .inner
            .config
            .api_base
            .join(&target.url)
            .map_err(|e| Error::Config(format!("upload part URL {:?}: {e}", target.url)))?;
        let retry = &self.client.inner.config.retry;
        let mut attempt = 0u32;
        loop {
            let mut req = self.client.inner.http.put(url.clone()).body(chunk.clone());
            for (k, v) in &target.headers {
                req = req.header(k.as_str(), v.as_str());
            }
            let (failure, wait) = match req.send().await {
                Ok(resp) if resp.status().is_success() => {
                    let etag = resp
                        .headers()
                        .get(reqwest::header::ETAG)
                        .and_then(|v| v.to_str().ok())
                        .map(|v| v.trim().trim_matches('"').to_string())
                        .filter(|v| !v.is_empty());
                    return etag.ok_or_else(|| Error::Decode {
                        method: "PUT".into(),
                        path: url.path().to_string(),
                        message: "the storage accepted the part but sent no ETag".into(),
                    });
                }
                Ok(resp) => {
                    let status = resp.status().as_u16();
                    let wait = crate::http::retry_after(resp.headers());
                    let text = crate::http::read_capped(resp, crate::http::MAX_ERROR_BODY)
                        .await
                        .map(|b| String::from_utf8_lossy(&b).into_owned())
                        .unwrap_or_default();
                    let failure = Error::Upload {
                        status,
                        body: text.chars().take(300).collect(),
                    };
                    if !failure.is_retryable() && status != 408 {
                        return Err(failure);
                    }
                    (failure, wait)
                }
                Err(e) => (
                    Error::Transport {
                        method: "PUT".into(),
                        path: url.path().to_string(),
                        attempts: attempt + 1,
                        message: e.without_url().to_string(),
                    },
                    None,
                ),
            };
            if attempt >= retry.max_retries {
                return Err(failure);
            }
            let delay = backoff(attempt, rand::random::<f64>(), retry)
                .max(wait.unwrap_or_default())
                .min(Duration::from_secs(30));
            tokio::time::sleep(delay).await;
            attempt += 1;
        }
    }

    /// Reads the upload's status until it is `available`: the first read right after the
    /// completion, then after 100 ms, 200 ms, … up to 5 s between reads, for at most the
    /// configured timeout. The completion answer is checked first, since a `ready` or
    /// `receiving` upload there means a part was not accepted and waiting cannot help.
    async fn wait_until_available(
        &self,
        path: &str,
        completed: UnifiedUpload,
    ) -> Result<UnifiedUpload> {
        let timeout = self.client.inner.config.upload_available_timeout;
        let started = tokio::time::Instant::now();
        let stuck = |u: UnifiedUpload| Error::UploadNotAvailable {
            upload_id: u.upload_id,
            status: u.status.unwrap_or_default(),
            waited: started.elapsed(),
        };
        if upload_state(&completed) == UploadState::Stuck {
            return Err(stuck(completed));
        }
        let mut delay = Duration::from_millis(100);
        loop {
            let url = self.client.url(path)?;
            let (value, _) = self.client.get_json(url).await?;
            let upload: UnifiedUpload = from_answer("upload", value)?;
            match upload_state(&upload) {
                UploadState::Available => return Ok(upload),
                UploadState::Stuck => return Err(stuck(upload)),
                UploadState::Processing if started.elapsed() >= timeout => {
                    return Err(stuck(upload))
                }
                UploadState::Processing => {}
            }
            tokio::time::sleep(delay).await;
            delay = (delay * 2).min(Duration::from_secs(5));
        }
    }

    /// The older v1.1 direct upload (NOTES §8 "Direct upload"): reserve it with
    /// `POST /rest/v1.1/projects/{p}/uploads`, then POST the bytes as multipart with the
    /// returned form `fields` to its storage `url`. Returns the upload, whose `uuid` is then
    /// attached to a file. Kept for callers and servers that predate [`Self::upload`].
    pub async fn upload_v11(
        &self,
        file_name: &str,
        bytes: Bytes,
        content_type: &str,
    ) -> Result<Upload> {
        let url = self
            .client
            .url(&format!("rest/v1.1/projects/{}/uploads", self.project_id))?;
        let body = json!({
            "response_filename": file_name,
            "response_content_type": content_type,
            "size": bytes.len(),
        });
        let answer = self
            .client
            .write_json(Method::POST, url, Some(body), true)
            .await?;
        let upload: Upload = from_answer("upload", answer)?;
        self.send_to_storage(&upload, file_name, bytes, content_type)
            .await?;
        Ok(upload)
    }

    async fn send_to_storage(
        &self,
        upload: &Upload,
        file_name: &str,
        bytes: Bytes,
        content_type: &str,
    ) -> Result<()> {
        let target = self
            .client
            .inner
            .config
            .api_base
            .join(&upload.url)
            .map_err(|e| Error::Config(format!("upload URL {:?}: {e}", upload.url)))?;
        let retry = &self.client.inner.config.retry;
        let mut attempt = 0u32;
        loop {
            let mut form = reqwest::multipart::Form::new();
            for (k, v) in &upload.fields {
                form = form.text(k.clone(), v.clone());
            }
            let part = reqwest::multipart::Part::stream(bytes.clone())
                .file_name(file_name.to_string())
                .mime_str(content_type)
                .map_err(|e| Error::Config(format!("content type {content_type:?}: {e}")))?;
            form = form.part("file", part);
            // No bearer token: the storage URL is not Procore's API.
            let result = self
                .client
                .inner
                .http
                .post(target.clone())
                .multipart(form)
                .send()
                .await;
            let failure = match result {
                Ok(resp) if resp.status().is_success() => return Ok(()),
                Ok(resp) => {
                    let status = resp.status().as_u16();
                    let text = crate::http::read_capped(resp, crate::http::MAX_ERROR_BODY)
                        .await
                        .map(|b| String::from_utf8_lossy(&b).into_owned())
                        .unwrap_or_default();
                    if status < 500 && status != 429 {
                        return Err(Error::Upload {
                            status,
                            body: text.chars().take(300).collect(),
                        });
                    }
                    Error::Upload {
                        status,
                        body: text.chars().take(300).collect(),
                    }
                }
                Err(e) => Error::Transport {
                    method: "POST".into(),
                    path: target.path().to_string(),
                    attempts: attempt + 1,
                    message: e.without_url().to_string(),
                },
            };
            if attempt >= retry.max_retries {
                return Err(failure);
            }
            tokio::time::sleep(
                backoff(attempt, rand::random::<f64>(), retry).min(Duration::from_secs(30)),
            )
            .await;
            attempt += 1;
        }
    }

    /// Upload `bytes` as a new file named `name` in `folder` (the root when `None`).
    pub async fn upload_file(
        &self,
        folder: Option<FolderId>,
        name: &str,
        bytes: Bytes,
        content_type: &str,
    ) -> Result<File> {
        self.upload_described_file(folder, name, None, bytes, content_type)
            .await
    }

    /// Like [`Self::upload_file`], with a `description`. trestle writes a marker there that
    /// names the record the file stands for, so a retry after a lost answer can find the file
    /// it already created instead of creating a second one.
    pub async fn upload_described_file(
        &self,
        folder: Option<FolderId>,
        name: &str,
        description: Option<&str>,
        bytes: Bytes,
        content_type: &str,
    ) -> Result<File> {
        let upload = self.upload(name, bytes, content_type).await?;
        let mut file = Map::new();
        file.insert("name".into(), json!(name));
        file.insert("upload_uuid".into(), json!(upload.upload_id));
        if let Some(f) = folder {
            file.insert("parent_id".into(), json!(f));
        }
        if let Some(d) = description {
            file.insert("description".into(), json!(d));
        }
        let url = self.client.url_with_query("rest/v1.0/files", &self.q()?)?;
        let answer = self
            .client
            .write_json(
                Method::POST,
                url,
                Some(json!({ "file": Value::Object(file) })),
                false,
            )
            .await?;
        from_answer("file", answer)
    }

    /// Upload `bytes` as a new version of a file with version `notes`
    /// (`POST /rest/v1.0/file_versions`). The notes let a retry see whether this version
    /// already reached Procore.
    pub async fn add_noted_version(
        &self,
        file_id: FileId,
        name: &str,
        notes: &str,
        bytes: Bytes,
        content_type: &str,
    ) -> Result<FileVersion> {
        let upload = self.upload(name, bytes, content_type).await?;
        let q = to_query(&[
            ("project_id", self.project_id.get()),
            ("file_id", file_id.get()),
        ])?;
        let url = self.client.url_with_query("rest/v1.0/file_versions", &q)?;
        let answer = self
            .client
            .write_json(
                Method::POST,
                url,
                Some(
                    json!({ "file_version": { "notes": notes, "upload_uuid": upload.upload_id } }),
                ),
                false,
            )
            .await?;
        from_answer("file version", answer)
    }

    /// Upload `bytes` as a new version of an existing file (`PATCH /rest/v1.0/files/{id}`).
    pub async fn add_version(
        &self,
        file_id: FileId,
        name: &str,
        bytes: Bytes,
        content_type: &str,
    ) -> Result<File> {
        let upload = self.upload(name, bytes, content_type).await?;
        let url = self
            .client
            .url_with_query(&format!("rest/v1.0/files/{file_id}"), &self.q()?)?;
        let answer = self
            .client
            .write_json(
                Method::PATCH,
                url,
                Some(json!({ "file": { "upload_uuid": upload.upload_id } })),
                false,
            )
            .await?;
        from_answer("file", answer)
    }
}

/// What a unified upload's status means for a client that has completed it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum UploadState {
    /// `available`: attach it.
    Available,
    /// `ready`/`receiving` (parts missing) or a failure status: waiting will not help.
    Stuck,
    /// `complete` or any other status: Procore is still processing (checksums, scans).
    Processing,
}

fn upload_state(u: &UnifiedUpload) -> UploadState {
    match u.status.as_deref().unwrap_or_default() {
        "available" => UploadState::Available,
        "ready" | "receiving" => UploadState::Stuck,
        s if s.contains("fail") || s.contains("error") || s.contains("reject") => {
            UploadState::Stuck
        }
        _ => UploadState::Processing,
    }
}

/// One part of a planned unified upload.
#[derive(Debug, Clone, PartialEq)]
struct PlannedPart {
    start: usize,
    len: usize,
    sha256: String,
}

/// The digests a unified upload declares up front.
#[derive(Debug, Clone, PartialEq)]
struct Plan {
    sha256: String,
    parts: Vec<PlannedPart>,
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Splits `bytes` into parts of `segment_size` (one part when it fits, also for an empty file)
/// and computes the SHA-256 of the whole and of every part. Pure; CPU-bound, so callers run it
/// off the async executor.
fn plan_segments(bytes: &[u8], segment_size: u64) -> Plan {
    let size = usize::try_from(segment_size).unwrap_or(usize::MAX).max(1);
    let mut parts = Vec::new();
    let mut start = 0;
    loop {
        let len = (bytes.len() - start).min(size);
        let chunk = &bytes[start..start + len];
        parts.push(PlannedPart {
            start,
            len,
            sha256: hex(&Sha256::digest(chunk)),
        });
        start += len;
        if start >= bytes.len() {
            break;
        }
    }
    Plan {
        sha256: hex(&Sha256::digest(bytes)),
        parts,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_that_fits_is_one_segment_and_a_larger_one_is_cut_into_full_parts() {
        let one = plan_segments(b"abc", 100);
        assert_eq!(one.parts.len(), 1);
        assert_eq!(
            one.sha256,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(one.parts[0].sha256, one.sha256);

        let bytes: Vec<u8> = (0..=9).collect();
        let three = plan_segments(&bytes, 4);
        let spans: Vec<_> = three.parts.iter().map(|p| (p.start, p.len)).collect();
        assert_eq!(spans, vec![(0, 4), (4, 4), (8, 2)]);
        assert_eq!(three.parts[2].sha256, hex(&Sha256::digest([8u8, 9])));

        let exact = plan_segments(&bytes[..8], 4);
        assert_eq!(exact.parts.len(), 2, "no empty trailing part");
        let empty = plan_segments(b"", 4);
        assert_eq!(empty.parts.len(), 1);
        assert_eq!(empty.parts[0].len, 0);
    }
}
