//! The Documents tool of one project: folders, files, uploads and new versions.
//!
//! Uploading is three steps: `POST /rest/v1.1/projects/{p}/uploads` returns a storage `url`
//! and form `fields`; the bytes are POSTed there as multipart (fields first, file last) with
//! **no** bearer token; then `POST /rest/v1.0/files` (or `PATCH /rest/v1.0/files/{id}` for a
//! new version) names the `upload_uuid`. The first two steps are safe to repeat (an
//! unattached upload is deleted after a week); the last is not, so an ambiguous failure there
//! is [`crate::Error::WriteOutcomeUnknown`]: look the file up by name before retrying.

use std::time::Duration;

use bytes::Bytes;
use reqwest::Method;
use serde_json::{json, Map, Value};

use super::{from_answer, get_one};
use crate::error::{Error, Result};
use crate::http::Client;
use crate::ids::{FileId, FolderId, ProjectId};
use crate::list::to_query;
use crate::models::{File, FileVersion, Folder, Upload};
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

    /// Steps 1 and 2 of an upload: reserve it and send the bytes to storage. Returns the
    /// upload, whose `uuid` is then attached to a file.
    pub async fn upload(
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
                    let text = resp.text().await.unwrap_or_default();
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
        file.insert("upload_uuid".into(), json!(upload.uuid));
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
                Some(json!({ "file_version": { "notes": notes, "upload_uuid": upload.uuid } })),
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
                Some(json!({ "file": { "upload_uuid": upload.uuid } })),
                false,
            )
            .await?;
        from_answer("file", answer)
    }
}
