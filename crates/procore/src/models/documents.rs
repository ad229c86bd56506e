use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Deserialize;

use crate::ids::{FileId, FileVersionId, FolderId, UserId};

/// A folder of the Documents tool, with its direct children (`GET /rest/v1.0/folders[/{id}]`).
/// Listings are not paginated; deeper levels come back empty and are fetched by id.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[non_exhaustive]
pub struct Folder {
    /// Folder id.
    pub id: FolderId,
    /// Name ("Root Folder" for the root).
    #[serde(default)]
    pub name: Option<String>,
    /// Parent (none for the root).
    #[serde(default)]
    pub parent_id: Option<FolderId>,
    /// Private.
    #[serde(default)]
    pub private: Option<bool>,
    /// Tracked.
    #[serde(default)]
    pub is_tracked: Option<bool>,
    /// Full path.
    #[serde(default)]
    pub name_with_path: Option<String>,
    /// Read only.
    #[serde(default)]
    pub read_only: Option<bool>,
    /// Deleted (in the recycle bin).
    #[serde(default)]
    pub is_deleted: Option<bool>,
    /// Recycle bin.
    #[serde(default)]
    pub is_recycle_bin: Option<bool>,
    /// Has children.
    #[serde(default)]
    pub has_children: Option<bool>,
    /// Child folders (one level).
    #[serde(default, deserialize_with = "crate::de::null_as_default")]
    pub folders: Vec<Folder>,
    /// Files in this folder.
    #[serde(default, deserialize_with = "crate::de::null_as_default")]
    pub files: Vec<File>,
    /// Last updated.
    #[serde(default, deserialize_with = "crate::de::datetime")]
    pub updated_at: Option<DateTime<Utc>>,
}

/// `{id, login, name}` of a user on documents.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[non_exhaustive]
pub struct UserRef {
    /// User id.
    #[serde(default)]
    pub id: Option<UserId>,
    /// Login.
    #[serde(default)]
    pub login: Option<String>,
    /// Name.
    #[serde(default)]
    pub name: Option<String>,
}

/// The stored blob of a file version.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[non_exhaustive]
pub struct ProstoreFile {
    /// Name.
    #[serde(default)]
    pub name: Option<String>,
    /// Download URL (needs the bearer token on Procore hosts).
    #[serde(default)]
    pub url: Option<String>,
    /// File name.
    #[serde(default)]
    pub filename: Option<String>,
}

/// A file version.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[non_exhaustive]
pub struct FileVersion {
    /// Version id.
    pub id: FileVersionId,
    /// Version number.
    #[serde(default)]
    pub number: Option<i64>,
    /// Notes.
    #[serde(default)]
    pub notes: Option<String>,
    /// URL.
    #[serde(default)]
    pub url: Option<String>,
    /// Size in bytes.
    #[serde(default)]
    pub size: Option<u64>,
    /// File.
    #[serde(default)]
    pub file_id: Option<FileId>,
    /// Stored blob.
    #[serde(default)]
    pub prostore_file: Option<ProstoreFile>,
    /// Creator.
    #[serde(default)]
    pub created_by: Option<UserRef>,
    /// Created.
    #[serde(default, deserialize_with = "crate::de::datetime")]
    pub created_at: Option<DateTime<Utc>>,
}

/// A file of the Documents tool.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[non_exhaustive]
pub struct File {
    /// File id.
    pub id: FileId,
    /// Name.
    #[serde(default)]
    pub name: Option<String>,
    /// Folder.
    #[serde(default)]
    pub parent_id: Option<FolderId>,
    /// Size in bytes.
    #[serde(default)]
    pub size: Option<u64>,
    /// Description.
    #[serde(default)]
    pub description: Option<String>,
    /// Full path.
    #[serde(default)]
    pub name_with_path: Option<String>,
    /// Private.
    #[serde(default)]
    pub private: Option<bool>,
    /// File type.
    #[serde(default)]
    pub file_type: Option<String>,
    /// Deleted.
    #[serde(default)]
    pub is_deleted: Option<bool>,
    /// Versions (in listings these may be trimmed; read the file to get them all).
    #[serde(default, deserialize_with = "lenient_versions")]
    pub file_versions: Vec<FileVersion>,
    /// Created.
    #[serde(default, deserialize_with = "crate::de::datetime")]
    pub created_at: Option<DateTime<Utc>>,
    /// Last updated.
    #[serde(default, deserialize_with = "crate::de::datetime")]
    pub updated_at: Option<DateTime<Utc>>,
}

/// Versions nested in folder listings can be placeholders; keep the ones that read.
fn lenient_versions<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<FileVersion>, D::Error> {
    let raw = Option::<Vec<serde_json::Value>>::deserialize(d)?.unwrap_or_default();
    Ok(raw
        .into_iter()
        .filter_map(|v| serde_json::from_value(v).ok())
        .collect())
}

/// The answer of `POST /rest/v1.1/projects/{project_id}/uploads`: where to POST the bytes.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[non_exhaustive]
pub struct Upload {
    /// Upload id, sent later as `upload_uuid`.
    pub uuid: String,
    /// Storage URL for the multipart POST (no bearer token).
    pub url: String,
    /// Form fields to send before the file, in order.
    #[serde(default)]
    pub fields: BTreeMap<String, String>,
    /// Status.
    #[serde(default)]
    pub status: Option<String>,
}

/// A v2.1 unified upload (`/rest/v2.1/companies/{c}/projects/{p}/uploads`): the answer of
/// its create, complete and status calls, unwrapped from `{"data": ...}`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[non_exhaustive]
pub struct UnifiedUpload {
    /// Upload id, sent later as a file's or version's `upload_uuid`.
    pub upload_id: String,
    /// `ready`, `receiving`, `complete` or `available`; only `available` may be used.
    #[serde(default)]
    pub status: Option<String>,
    /// Where to `PUT` each part still to send, in part order (empty once complete).
    #[serde(default)]
    pub segments: Vec<UploadSegment>,
    /// The declared file name.
    #[serde(default)]
    pub file_name: Option<String>,
    /// The declared size in bytes.
    #[serde(default)]
    pub file_size: Option<u64>,
    /// Unix time after which the upload is deleted unless attached to a file.
    #[serde(default)]
    pub upload_expires_at: Option<i64>,
}

/// One part's presigned storage target. Procore asks clients to treat both fields as opaque
/// and send the headers exactly as given.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[non_exhaustive]
pub struct UploadSegment {
    /// Presigned URL: `PUT` the part's bytes here, with no bearer token.
    pub url: String,
    /// Headers to send with the `PUT`, verbatim.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// Unix time the URL stops working.
    #[serde(default)]
    pub url_expires_at: Option<i64>,
}
