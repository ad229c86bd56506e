//! `GET /rest/v1.0/projects/{project_id}/documents`: every folder and file of a project in one
//! paged list (Procore's operation `RestV10ProjectsProjectIdDocumentsGet`, "Project Folder and
//! File index", documented beside the subset's operations but not carried into it), which
//! SDKs call instead of walking the tree with `/folders/{id}`.

use super::Path;
use axum::extract::State;
use chrono::{DateTime, Utc};
use serde_json::{json, Value};

use super::*;
use crate::clock::ts;
use crate::paging;
use crate::wire;
use crate::world::{File, Folder, Tool};

/// One row of the index: a folder or a file of the project (never the root folder).
enum Doc<'w> {
    Folder(&'w Folder),
    File(&'w File),
}

impl Doc<'_> {
    fn id(&self) -> i64 {
        match self {
            Doc::Folder(f) => f.id,
            Doc::File(f) => f.id,
        }
    }
    fn name(&self) -> &str {
        match self {
            Doc::Folder(f) => &f.name,
            Doc::File(f) => &f.name,
        }
    }
    fn kind(&self) -> &'static str {
        match self {
            Doc::Folder(_) => "folder",
            Doc::File(_) => "file",
        }
    }
    fn parent(&self) -> Option<i64> {
        match self {
            Doc::Folder(f) => f.parent_id,
            Doc::File(f) => Some(f.parent_id),
        }
    }
    fn deleted(&self) -> bool {
        match self {
            Doc::Folder(f) => f.is_deleted,
            Doc::File(f) => f.is_deleted,
        }
    }
    fn private(&self) -> bool {
        match self {
            Doc::Folder(f) => f.private,
            Doc::File(f) => f.private,
        }
    }
    fn created_at(&self) -> DateTime<Utc> {
        match self {
            Doc::Folder(f) => f.created_at,
            Doc::File(f) => f.created_at,
        }
    }
    fn updated_at(&self) -> DateTime<Utc> {
        match self {
            Doc::Folder(f) => f.updated_at,
            Doc::File(f) => f.updated_at,
        }
    }
    /// Who created it: a file's first version records its author; folders record none.
    fn created_by(&self, w: &World) -> Option<i64> {
        match self {
            Doc::Folder(_) => None,
            Doc::File(f) => f
                .versions
                .first()
                .and_then(|v| w.file_versions.get(v))
                .and_then(|v| v.created_by),
        }
    }
}

fn extension(name: &str) -> String {
    name.rsplit_once('.')
        .map(|(_, e)| e.to_lowercase())
        .unwrap_or_default()
}

/// Whether `id` is `ancestor` or lies beneath it.
fn under(w: &World, mut id: Option<i64>, ancestor: i64) -> bool {
    // Depth-bounded, as Procore's own index is (100 levels).
    for _ in 0..=100 {
        match id {
            Some(i) if i == ancestor => return true,
            Some(i) => id = w.folders.get(&i).and_then(|f| f.parent_id),
            None => return false,
        }
    }
    false
}

fn render(w: &World, base: &str, d: &Doc) -> Value {
    let path = match d {
        Doc::Folder(f) => w.folder_path(f.id),
        Doc::File(f) => {
            let dir = w.folder_path(f.parent_id);
            if dir.is_empty() {
                f.name.clone()
            } else {
                format!("{dir}/{}", f.name)
            }
        }
    };
    let created_by = d.created_by(w).and_then(|u| w.users.get(&u)).map(|u| {
        json!({"id": u.id, "login": u.email_address.clone().unwrap_or_default(), "name": u.full_name()})
    });
    let (file, children) = match d {
        Doc::File(f) => (
            json!({
                "checked_out_by": null,
                "checked_out_until": null,
                "current_version": f.versions.last().and_then(|v| w.file_versions.get(v))
                    .map(|v| wire::file_version(w, base, v)),
                "description": f.description,
                "file_type": extension(&f.name),
            }),
            Value::Null,
        ),
        Doc::Folder(f) => {
            let has_folders = w
                .folders
                .values()
                .any(|c| c.parent_id == Some(f.id) && !c.is_deleted);
            let has_files = w
                .files
                .values()
                .any(|c| c.parent_id == f.id && !c.is_deleted);
            (
                Value::Null,
                json!({"has_children": has_folders || has_files,
                       "has_children_files": has_files, "has_children_folders": has_folders}),
            )
        }
    };
    let tracked = matches!(d, Doc::Folder(f) if f.is_tracked);
    json!({
        "id": d.id(),
        "name": d.name(),
        "name_with_path": path,
        "parent_id": d.parent(),
        "created_at": ts(&d.created_at()),
        "created_by": created_by,
        "updated_at": ts(&d.updated_at()),
        "read_only": false,
        "is_deleted": d.deleted(),
        "is_recycle_bin": false,
        "document_type": d.kind(),
        "is_tracked": tracked,
        "private": d.private(),
        "private_parent": null,
        "tracked_folder": null,
        "file": file,
        "children": children,
        "custom_fields": {},
    })
}

pub(crate) async fn list(State(sim): State<Sim>, Path(pid): Path<i64>, req: Req) -> ApiResult {
    sim.rest(&req, CompanyHeader::Required, |w, ctx| {
        ctx.project(w, pid)?;
        ctx.can_read(w, Tool::Documents)?;
        let q = &req.q;
        let kind = q.get("filters[document_type]");
        let recycled = q.bool("filters[is_in_recycle_bin]");
        let private = q.bool("filters[private]");
        let folder = q.i64("filters[folder_id]");
        let types: Vec<String> = q
            .all("filters[file_type]")
            .iter()
            .map(|t| t.trim_start_matches('.').to_lowercase())
            .collect();
        let creators = q.ids("filters[created_by_id]");
        let created = q.range("filters[created_at]");
        let updated = q.range("filters[updated_at]");
        let search = q.get("filters[search]").map(str::to_lowercase);
        let folders = w
            .folders
            .values()
            .filter(|f| f.project_id == pid && f.parent_id.is_some())
            .map(Doc::Folder);
        let files = w
            .files
            .values()
            .filter(|f| f.project_id == pid)
            .map(Doc::File);
        let mut items: Vec<Doc> = folders
            .chain(files)
            .filter(|d| kind.is_none_or(|k| k == d.kind()))
            .filter(|d| recycled.is_none_or(|r| r == d.deleted()))
            .filter(|d| private.is_none_or(|p| p == d.private()))
            .filter(|d| folder.is_none_or(|f| d.id() == f || under(w, d.parent(), f)))
            .filter(|d| {
                types.is_empty() || matches!(d, Doc::File(f) if types.contains(&extension(&f.name)))
            })
            .filter(|d| {
                creators
                    .as_ref()
                    .is_none_or(|c| d.created_by(w).is_some_and(|u| c.contains(&u)))
            })
            .filter(|d| created.is_none_or(|r| r.contains(&d.created_at())))
            .filter(|d| updated.is_none_or(|r| r.contains(&d.updated_at())))
            .filter(|d| {
                search.as_ref().is_none_or(|s| {
                    d.name().to_lowercase().contains(s)
                        || matches!(d, Doc::File(f) if f.description.as_ref()
                            .is_some_and(|x| x.to_lowercase().contains(s)))
                })
            })
            .collect();
        if let Some(sort) = q.get("sort") {
            let (field, reverse) = match sort.strip_prefix('-') {
                Some(f) => (f, true),
                None => (sort, false),
            };
            let key = |d: &Doc| -> (String, String) {
                let name = d.name().to_lowercase();
                let updated = ts(&d.updated_at());
                let created = ts(&d.created_at());
                match field {
                    "updated_at" => (updated, String::new()),
                    "document_type" => (d.kind().into(), String::new()),
                    "document_type_then_name" => (d.kind().into(), name),
                    "document_type_then_created_at" => (d.kind().into(), created),
                    "document_type_then_updated_at" => (d.kind().into(), updated),
                    _ => (name, String::new()),
                }
            };
            items.sort_by_key(|d| key(d));
            if reverse {
                items.reverse();
            }
        }
        Ok(paging::v1(&req.info, v1_paging(&sim, q), &items, |d| {
            render(w, req.base(), d)
        }))
    })
}
