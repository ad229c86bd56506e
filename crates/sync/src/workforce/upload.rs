//! Putting a completed form into a project's Procore Documents without ever duplicating it.
//!
//! Each step can be interrupted (a crash, a lost answer) and retried, so each one first looks
//! for what an earlier attempt may already have done:
//! - the forms folder and the month folder are recorded as links once found or created; before
//!   creating one, the parent folder is listed and an existing folder of that name is adopted;
//! - a new document carries a marker in its description that names the submission and the
//!   revision it holds; before uploading, the month folder is listed and a file with that
//!   marker is adopted, and when it holds an earlier revision (the form was revised after a
//!   crash that came before the upload was recorded) the current one is added as a version;
//! - a new version carries "trestle revision N" in its notes; before adding one, the file's
//!   versions are read and a version with those notes counts as done.
//!
//! A failed create or version add (a lost answer, or a 503 after Procore applied it: the client
//! does not repeat non-idempotent writes on its own) is followed by one more look-up before the
//! error is returned.
//!
//! Only then is the upload recorded in the store, so a crash between the upload and the record
//! redoes the look-ups, finds the document, and records it once.

use super::forms::{choose_forms_folder, document_name, month_folder_name, FolderEntry};
use crate::error::{Result, SyncError};
use crate::hooks::{crash_if, CrashPoint, CrashSwitch};
use bytes::Bytes;
use chrono::{DateTime, Utc};
use procore::{Client, FileId, FolderId, ProjectId};
use store::{CompanyId, Link, LinkKind, LinkOrigin, Store};

/// What an upload did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Uploaded {
    pub file_id: i64,
    pub revision: u32,
    pub new_document: bool,
    pub path: String,
}

/// The description marker that ties a Procore document to a submission.
pub fn marker(company: CompanyId, submission_id: i64) -> String {
    format!("trestle form submission {company}/{submission_id}")
}

/// The description a new document gets: the marker, and the revision its first version holds,
/// so a later run that adopts the document (after a crash before it was recorded) knows
/// whether a newer revision still has to be added.
pub fn described_marker(marker: &str, revision: u32) -> String {
    format!("{marker} revision {revision}")
}

/// Whether `description` carries `marker`: `Some(revision named)`, `Some(None)` for the bare
/// marker of documents created before descriptions named a revision, `None` otherwise. Pure.
fn marked_revision(description: &str, marker: &str) -> Option<Option<u32>> {
    let rest = description.strip_prefix(marker)?;
    if rest.is_empty() {
        return Some(None);
    }
    rest.strip_prefix(" revision ")?.parse().ok().map(Some)
}

/// A document found by its marker.
struct Marked {
    id: i64,
    /// The revision named in its description (`None`: a bare marker).
    revision: Option<u32>,
}

fn version_note(revision: u32) -> String {
    format!("trestle revision {revision}")
}

/// Everything an upload needs.
pub struct FormUpload<'a> {
    pub client: &'a Client,
    pub store: &'a Store,
    pub company: CompanyId,
    pub forms_folder: &'a str,
    pub company_name: Option<String>,
    pub now: DateTime<Utc>,
    pub crash_at: Option<CrashSwitch>,
}

impl FormUpload<'_> {
    /// Uploads the submission's current revision (a new document, or a new version of its
    /// document). Does nothing when Procore already holds that revision.
    ///
    /// # Errors
    /// Procore or the store failed; the caller retries later and nothing is duplicated.
    pub async fn run(&self, submission_id: i64, procore_project: i64) -> Result<Option<Uploaded>> {
        let store = self.store;
        let submission = store
            .submission(self.company, submission_id)
            .await?
            .ok_or_else(|| {
                SyncError::Invalid(format!("form submission {submission_id} no longer exists"))
            })?;
        if store.uploaded_revision(self.company, submission_id).await? >= Some(submission.revision)
        {
            return Ok(None);
        }
        let template = store
            .template(self.company, submission.template_id)
            .await?
            .ok_or_else(|| {
                SyncError::Invalid(format!(
                    "the template of form {submission_id} no longer exists"
                ))
            })?;
        let project = store.project(self.company, submission.project_id).await?;
        let bytes = pdf::render_submission(&pdf::FormDocument {
            template: &template,
            submission: &submission,
            project_name: project
                .as_ref()
                .map(|p| p.fields.name.clone())
                .unwrap_or_default(),
            project_number: project
                .as_ref()
                .and_then(|p| p.fields.project_number.clone()),
            company_name: self.company_name.clone(),
            submitted_by: submission.signatures.first().map(|s| s.signer_name.clone()),
            generated_at: self.now,
        })?;
        crash_if(self.crash_at.as_ref(), CrashPoint::BeforeUpload);

        let docs = self.client.documents(ProjectId(procore_project));
        let forms = self
            .forms_folder(submission.project_id, procore_project)
            .await?;
        let month = month_folder_name(submission.form_date);
        let month_id = self
            .month_folder(submission.project_id, procore_project, forms, &month)
            .await?;
        let name = document_name(&template.name, submission.form_date);
        let marker = marker(self.company, submission_id);
        let bytes = Bytes::from(bytes);

        let existing = store
            .link_by_local(self.company, LinkKind::FormDocument, submission_id)
            .await?;
        let revision = submission.revision;
        let (file_id, new_document) = match existing {
            Some(link) => {
                self.ensure_version(procore_project, link.procore_id, &name, revision, bytes)
                    .await?;
                (link.procore_id, false)
            }
            None => {
                let found = match self.find_marked(procore_project, month_id, &marker).await? {
                    Some(found) => found,
                    None => {
                        let created = docs
                            .upload_described_file(
                                Some(FolderId(month_id)),
                                &name,
                                Some(&described_marker(&marker, revision)),
                                bytes.clone(),
                                "application/pdf",
                            )
                            .await;
                        match created {
                            Ok(file) => Marked {
                                id: file.id.get(),
                                revision: Some(revision),
                            },
                            // The answer was lost (or a 503 came back) after Procore may have
                            // created the file: look once more before giving up, so the retry
                            // never uploads twice.
                            Err(e) => {
                                match self.find_marked(procore_project, month_id, &marker).await? {
                                    Some(found) => found,
                                    None => return Err(e.into()),
                                }
                            }
                        }
                    }
                };
                // An adopted document may hold an earlier revision: an earlier run created it
                // and was killed before recording it, and the form was revised since. Its
                // description names the revision it was created with (a document from before
                // that names none, and is taken to hold revision 1); a later revision is
                // added as a version unless one already carries its note.
                if found.revision.unwrap_or(1) < revision {
                    self.ensure_version(procore_project, found.id, &name, revision, bytes)
                        .await?;
                }
                (found.id, true)
            }
        };
        crash_if(self.crash_at.as_ref(), CrashPoint::AfterUpload);
        store
            .record_form_upload(self.company, submission_id, file_id, submission.revision)
            .await?;
        crash_if(self.crash_at.as_ref(), CrashPoint::AfterLink);
        let forms_name = self.forms_folder.to_string();
        Ok(Some(Uploaded {
            file_id,
            revision: submission.revision,
            new_document,
            path: format!("{forms_name}/{month}/{name}"),
        }))
    }

    /// The forms folder of a project: the recorded one, an existing folder whose name contains
    /// the base name, or a new one.
    async fn forms_folder(&self, project_id: i64, procore_project: i64) -> Result<i64> {
        if let Some(link) = self
            .store
            .link_by_local(self.company, LinkKind::FormsFolder, project_id)
            .await?
        {
            return Ok(link.procore_id);
        }
        let docs = self.client.documents(ProjectId(procore_project));
        let root = docs.root().await?;
        let entries = folder_entries(&root.folders);
        let id = match choose_forms_folder(&entries, self.forms_folder) {
            Some(found) => found.id,
            None => match docs.create_folder(Some(root.id), self.forms_folder).await {
                Ok(f) => f.id.get(),
                Err(e) => {
                    self.refind(procore_project, None, self.forms_folder, e)
                        .await?
                }
            },
        };
        self.remember(LinkKind::FormsFolder, id, project_id, "")
            .await?;
        Ok(id)
    }

    async fn month_folder(
        &self,
        project_id: i64,
        procore_project: i64,
        forms: i64,
        month: &str,
    ) -> Result<i64> {
        if let Some(link) = self
            .store
            .month_folder(self.company, project_id, month)
            .await?
        {
            return Ok(link.procore_id);
        }
        let docs = self.client.documents(ProjectId(procore_project));
        let parent = docs.folder(FolderId(forms)).await?;
        let id = match folder_entries(&parent.folders)
            .into_iter()
            .find(|f| f.name == month)
        {
            Some(found) => found.id,
            None => match docs.create_folder(Some(FolderId(forms)), month).await {
                Ok(f) => f.id.get(),
                Err(e) => self.refind(procore_project, Some(forms), month, e).await?,
            },
        };
        self.remember(LinkKind::MonthFolder, id, project_id, month)
            .await?;
        Ok(id)
    }

    /// After a failed folder create, the folder may exist all the same (a lost answer, or a
    /// name already taken): look for it before giving up.
    async fn refind(
        &self,
        procore_project: i64,
        parent: Option<i64>,
        name: &str,
        error: procore::Error,
    ) -> Result<i64> {
        let docs = self.client.documents(ProjectId(procore_project));
        let listing = match parent {
            Some(p) => docs.folder(FolderId(p)).await?,
            None => docs.root().await?,
        };
        folder_entries(&listing.folders)
            .into_iter()
            .find(|f| f.name == name)
            .map(|f| f.id)
            .ok_or_else(|| error.into())
    }

    /// The document in `folder` whose description carries `marker`, with the revision it was
    /// created with when the description names one.
    async fn find_marked(
        &self,
        procore_project: i64,
        folder: i64,
        marker: &str,
    ) -> Result<Option<Marked>> {
        let listing = self
            .client
            .documents(ProjectId(procore_project))
            .folder(FolderId(folder))
            .await?;
        Ok(listing.files.iter().find_map(|f| {
            let revision = marked_revision(f.description.as_deref()?, marker)?;
            Some(Marked {
                id: f.id.get(),
                revision,
            })
        }))
    }

    /// Makes the file hold `revision` as a version noted "trestle revision N": reads its
    /// versions first, adds one only when none carries the note, and after a failed add
    /// (a lost answer, a 503 after Procore added it) reads them once more before giving up,
    /// so a retry never adds the same revision twice.
    async fn ensure_version(
        &self,
        procore_project: i64,
        file_id: i64,
        name: &str,
        revision: u32,
        bytes: Bytes,
    ) -> Result<()> {
        let docs = self.client.documents(ProjectId(procore_project));
        let note = version_note(revision);
        let holds = |file: &procore::models::File| {
            file.file_versions
                .iter()
                .any(|v| v.notes.as_deref() == Some(note.as_str()))
        };
        if holds(&docs.file(FileId(file_id)).await?) {
            return Ok(());
        }
        match docs
            .add_noted_version(FileId(file_id), name, &note, bytes, "application/pdf")
            .await
        {
            Ok(_) => Ok(()),
            Err(e) => {
                if holds(&docs.file(FileId(file_id)).await?) {
                    Ok(())
                } else {
                    Err(e.into())
                }
            }
        }
    }

    async fn remember(
        &self,
        kind: LinkKind,
        procore_id: i64,
        local_id: i64,
        local_key: &str,
    ) -> Result<()> {
        let link = Link {
            company_id: self.company,
            kind,
            procore_id,
            local_id,
            local_key: local_key.into(),
            origin: LinkOrigin::CreatedInProcore,
            uploaded_revision: None,
        };
        match self.store.save_link(&link).await {
            // Another worker recorded the same folder first: theirs is as good as ours.
            Ok(()) | Err(store::StoreError::Conflict(_)) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }
}

fn folder_entries(folders: &[procore::models::Folder]) -> Vec<FolderEntry> {
    folders
        .iter()
        .filter(|f| !f.is_deleted.unwrap_or(false) && !f.is_recycle_bin.unwrap_or(false))
        .map(|f| FolderEntry {
            id: f.id.get(),
            name: f.name.clone().unwrap_or_default(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_description_is_read_as_the_marker_and_the_revision_it_names() {
        let m = marker(7, 12);
        assert_eq!(marked_revision(&described_marker(&m, 3), &m), Some(Some(3)));
        assert_eq!(marked_revision(&m, &m), Some(None), "a bare marker");
        assert_eq!(
            marked_revision(&described_marker(&marker(7, 123), 1), &m),
            None,
            "another submission whose id starts the same"
        );
        assert_eq!(marked_revision("notes by a person", &m), None);
        assert_eq!(marked_revision(&format!("{m} revision x"), &m), None);
    }
}
