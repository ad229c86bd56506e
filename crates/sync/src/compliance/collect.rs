//! Collect: read what the compliance integration needs from Procore, merge it into the
//! mirror of what earlier syncs read, and hand the planner the whole merged view.
//!
//! The planner needs every record each sync (it ends an association when no active commitment
//! remains, which a read of only the changes cannot tell from "unchanged"), so trestle keeps a
//! [`Mirror`] of the Procore records in its store and asks Procore only for what changed since
//! the cursors saved with it (`filters[updated_at]`):
//!
//! - projects: v1.1, every status, templates left out;
//! - vendors: the active list by `updated_at`; the inactive list (which takes no filters) whole,
//!   since which list a vendor is on says whether it is active;
//! - contacts: ONE paged list of company users changed since the cursor, each kept under its
//!   vendor (not one call per vendor);
//! - commitments: v2.0 `commitment_contracts` (`view=extended`, both kinds and their custom
//!   fields, deleted ones included so a deletion is seen), one paged request per project the
//!   caller names (the linked ones, and those this sync may bring in). Procore has no
//!   company-wide commitment list, so this is the one cost that grows with the projects
//!   followed even when nothing changed.
//!
//! - custom field definitions: their labels, on whole reads, and otherwise only when the profile
//!   field setting names a label the mirror neither knows nor has looked up since the last whole
//!   read, or the commitments read carry a field the mirror has no label for (see
//!   [`collect_field_labels`]). They are not counted as records read: they are settings, not
//!   records the sync plans over.
//!
//! A project followed for the first time has its commitments read whole. Every
//! [`full_read_days`](super::settings::ComplianceSettings::full_read_days), and on request,
//! everything is read whole, which is how records deleted in Procore or hidden from the
//! integration user leave the mirror. A record that cannot be used is not turned into a planner
//! input but listed in [`Collection::rejected`] with the problem; the mirror keeps its last good
//! version, and the rest go on.

use super::input::{
    ComplianceSnapshot, ProcoreCommitment, ProcoreContact, ProcoreProject, ProcoreVendor,
};
use super::settings::CommitmentKind;
use crate::error::Result;
use crate::hooks::Progress;
use crate::text::non_empty;
use crate::webhooks::{gone_is_none, Targets};
use chrono::{DateTime, NaiveDate, Utc};
use procore::api::projects::ProjectStatus;
use procore::{Client, Malformed};
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use store::{CursorUpdate, MirrorChange, MirrorRow, SubjectKind};

/// Cursor names, as stored.
pub const PROJECTS: &str = "compliance.projects";
pub const VENDORS: &str = "compliance.vendors";
pub const USERS: &str = "compliance.users";
/// The date of the last whole read.
pub const FULL_READ: &str = "compliance.full_read";
/// Followed by the Procore project id: where that project's commitments were read up to.
pub const COMMITMENTS: &str = "compliance.commitments.";
/// The shape of the mirrored records. The mirror holds records as the collector converted
/// them, so a trestle that converts differently must read everything whole once: bump this
/// when `ProcoreProject`, `ProcoreVendor`, `ProcoreContact`, `ProcoreCommitment` or the
/// conversions into them change.
pub const MIRROR_FORMAT: &str = "compliance.mirror_format";
pub const MIRROR_FORMAT_VERSION: &str = "2";

const PROJECT: &str = "project";
const VENDOR: &str = "vendor";
const CONTACT: &str = "contact";
const COMMITMENT: &str = "commitment";
const FIELD_DEFINITION: &str = "custom_field_definition";
/// One row (Procore id 0) holding [`Mirror::labels_not_found`].
const LABELS_NOT_FOUND: &str = "custom_field_labels_not_found";

/// A Procore record the collector could not use, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejected {
    /// A Procore project, company, contact or commitment.
    pub kind: SubjectKind,
    pub procore_id: Option<i64>,
    pub problem: String,
}

/// A contact as mirrored: the vendor it belongs to, and the contact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MirroredContact {
    pub vendor_id: i64,
    pub contact: ProcoreContact,
}

/// The last known state of the Procore records the integration reads, by Procore id.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Mirror {
    pub projects: BTreeMap<i64, ProcoreProject>,
    /// Vendors without their contacts (those are in `contacts`).
    pub vendors: BTreeMap<i64, ProcoreVendor>,
    /// By Procore company user id.
    pub contacts: BTreeMap<i64, MirroredContact>,
    pub commitments: BTreeMap<i64, ProcoreCommitment>,
    /// Labels of Procore's custom field definitions, by definition id: commitments carry
    /// custom fields as `custom_field_<id>` only, and the profile field setting names a label.
    /// Kept here so a sync asks Procore for them only when it must (see
    /// [`collect_field_labels`]).
    pub field_labels: FieldLabels,
    /// Profile field labels looked up in Procore's definitions and not found there, since the
    /// last whole read: an incremental sync does not ask again for them (it would ask every
    /// sync, for a field nobody created), unless the commitments it reads carry a field the
    /// mirror has no label for (the field may have been created since).
    pub labels_not_found: BTreeSet<String>,
    /// Records Procore sent that could not be used, by run-log kind and Procore id, with the
    /// problem: reported by every sync until a good version arrives (an incremental read does
    /// not send them again), gone with the record.
    pub rejected: BTreeMap<(SubjectKind, i64), String>,
}

/// The mirror kind of a rejected record's row, before its run-log kind.
const REJECTED: &str = "rejected ";

fn decode<T: DeserializeOwned>(row: &MirrorRow) -> std::result::Result<T, String> {
    serde_json::from_str(&row.body)
        .map_err(|e| format!("mirrored {} {}: {e}", row.kind, row.procore_id))
}

fn encode<T: Serialize>(value: &T) -> String {
    serde_json::to_string(value).expect("mirror records serialize")
}

impl Mirror {
    /// Reads stored rows. A row that cannot be read (written by another version, or edited by
    /// hand) is left out and listed in the second value; the caller then reads everything
    /// whole, which puts a good version back, and removes the rows nothing replaced (see
    /// [`Unreadable`]).
    pub fn from_rows(rows: &[MirrorRow]) -> (Mirror, Unreadable) {
        let mut m = Mirror::default();
        let mut unreadable = Unreadable::default();
        for row in rows {
            let id = row.procore_id;
            let done = match row.kind.as_str() {
                PROJECT => decode(row).map(|p| {
                    m.projects.insert(id, p);
                }),
                VENDOR => decode(row).map(|v| {
                    m.vendors.insert(id, v);
                }),
                CONTACT => match row.scope {
                    Some(vendor_id) => decode(row).map(|contact| {
                        m.contacts
                            .insert(id, MirroredContact { vendor_id, contact });
                    }),
                    None => Err(format!("mirrored contact {id} names no company")),
                },
                COMMITMENT => decode(row).map(|c| {
                    m.commitments.insert(id, c);
                }),
                FIELD_DEFINITION => decode(row).map(|label| {
                    m.field_labels.insert(id, label);
                }),
                LABELS_NOT_FOUND => decode(row).map(|labels| {
                    m.labels_not_found = labels;
                }),
                other => match other.strip_prefix(REJECTED) {
                    Some(kind) => decode(row).map(|problem| {
                        m.rejected.insert((SubjectKind::parse(kind), id), problem);
                    }),
                    None => Err(format!("mirrored record of unknown kind \"{other}\"")),
                },
            };
            if let Err(problem) = done {
                unreadable.problems.push(problem);
                unreadable.rows.push((row.kind.clone(), id));
            }
        }
        (m, unreadable)
    }

    fn rows(&self) -> BTreeMap<(String, i64), (Option<i64>, String)> {
        let mut out = BTreeMap::new();
        for (id, p) in &self.projects {
            out.insert((PROJECT.to_owned(), *id), (None, encode(p)));
        }
        for (id, v) in &self.vendors {
            out.insert((VENDOR.to_owned(), *id), (None, encode(v)));
        }
        for (id, c) in &self.contacts {
            let row = (Some(c.vendor_id), encode(&c.contact));
            out.insert((CONTACT.to_owned(), *id), row);
        }
        for (id, c) in &self.commitments {
            let row = (Some(c.procore_project_id), encode(c));
            out.insert((COMMITMENT.to_owned(), *id), row);
        }
        for (id, label) in &self.field_labels {
            out.insert((FIELD_DEFINITION.to_owned(), *id), (None, encode(label)));
        }
        if !self.labels_not_found.is_empty() {
            let row = (None, encode(&self.labels_not_found));
            out.insert((LABELS_NOT_FOUND.to_owned(), 0), row);
        }
        for ((kind, id), problem) in &self.rejected {
            out.insert((format!("{REJECTED}{kind}"), *id), (None, encode(problem)));
        }
        out
    }

    /// What to write so the stored mirror, holding `before` and the `unreadable` rows, holds
    /// `self`: only the records that changed, so a sync with no change writes nothing, and the
    /// unreadable rows nothing replaced are removed.
    pub fn changes_since(&self, before: &Mirror, unreadable: &Unreadable) -> Vec<MirrorChange> {
        let old = before.rows();
        let new = self.rows();
        let mut changes = Vec::new();
        for (kind, id) in &unreadable.rows {
            if !new.contains_key(&(kind.clone(), *id)) {
                changes.push(MirrorChange::Remove {
                    kind: kind.clone(),
                    procore_id: *id,
                });
            }
        }
        for (key, value) in &new {
            if old.get(key) != Some(value) {
                changes.push(MirrorChange::Put(MirrorRow {
                    kind: key.0.clone(),
                    procore_id: key.1,
                    scope: value.0,
                    body: value.1.clone(),
                }));
            }
        }
        for key in old.keys() {
            if !new.contains_key(key) {
                changes.push(MirrorChange::Remove {
                    kind: key.0.clone(),
                    procore_id: key.1,
                });
            }
        }
        changes
    }

    /// The planner's input: every mirrored record, contacts under their vendors, and each
    /// commitment's custom fields under their labels as well as their `custom_field_<id>` keys
    /// (so the profile field setting may name either).
    pub fn snapshot(&self) -> ComplianceSnapshot {
        let mut vendors: BTreeMap<i64, ProcoreVendor> = self.vendors.clone();
        for c in self.contacts.values() {
            if let Some(v) = vendors.get_mut(&c.vendor_id) {
                v.contacts.push(c.contact.clone());
            }
        }
        let custom_field_labels: BTreeMap<String, String> = self
            .field_labels
            .iter()
            .map(|(id, label)| (format!("custom_field_{id}"), label.clone()))
            .collect();
        let commitments = self
            .commitments
            .values()
            .map(|c| {
                let mut c = c.clone();
                let labelled: Vec<(String, String)> = c
                    .custom_fields
                    .iter()
                    .filter_map(|(key, value)| {
                        custom_field_labels
                            .get(key)
                            .map(|label| (label.clone(), value.clone()))
                    })
                    .collect();
                for (label, value) in labelled {
                    c.custom_fields.entry(label).or_insert(value);
                }
                c
            })
            .collect();
        ComplianceSnapshot {
            projects: self.projects.values().cloned().collect(),
            vendors: vendors.into_values().collect(),
            commitments,
            custom_field_labels,
            custom_field_problem: None,
        }
    }
}

/// Stored mirror rows that could not be read, and why.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Unreadable {
    pub problems: Vec<String>,
    /// `(kind, Procore id)` of each.
    pub rows: Vec<(String, i64)>,
}

impl Unreadable {
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }
}

/// Where the last sync left off.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Cursors {
    pub projects: Option<DateTime<Utc>>,
    pub vendors: Option<DateTime<Utc>>,
    pub users: Option<DateTime<Utc>>,
    pub full_read_on: Option<NaiveDate>,
    /// The [`MIRROR_FORMAT`] the mirror was written in.
    pub mirror_format: Option<String>,
    /// By Procore project id.
    pub commitments: BTreeMap<i64, DateTime<Utc>>,
}

impl Cursors {
    /// Reads the cursors from `(collection, value)` pairs; an unreadable value counts as none,
    /// which reads that collection whole.
    pub fn from_pairs(pairs: &[(String, String)]) -> Cursors {
        let mut c = Cursors::default();
        for (name, value) in pairs {
            let at = value.parse::<DateTime<Utc>>().ok();
            match name.as_str() {
                PROJECTS => c.projects = at,
                VENDORS => c.vendors = at,
                USERS => c.users = at,
                FULL_READ => c.full_read_on = value.parse().ok(),
                MIRROR_FORMAT => c.mirror_format = Some(value.clone()),
                _ => {
                    if let (Some(project), Some(at)) = (
                        name.strip_prefix(COMMITMENTS)
                            .and_then(|id| id.parse::<i64>().ok()),
                        at,
                    ) {
                        c.commitments.insert(project, at);
                    }
                }
            }
        }
        c
    }

    /// Whether this sync reads everything whole: never read whole, not for `every_days`, or
    /// the mirror was written in another format.
    pub fn full_read_due(&self, today: NaiveDate, every_days: u32) -> bool {
        self.mirror_format.as_deref() != Some(MIRROR_FORMAT_VERSION)
            || self
                .full_read_on
                .is_none_or(|last| (today - last).num_days() >= i64::from(every_days))
    }
}

/// The merged mirror, what changed in it, and how many records Procore sent.
#[derive(Debug, Clone, Default)]
pub struct Collection {
    /// Filled from the mirror once every collection is read.
    pub snapshot: ComplianceSnapshot,
    pub mirror: Mirror,
    pub rejected: Vec<Rejected>,
    pub records_read: usize,
    /// Whether everything was read whole.
    pub full: bool,
    pub cursors: Vec<CursorUpdate>,
    pub forget_cursors: Vec<String>,
    /// Why Procore's custom field definitions could not be read this sync (no permission),
    /// when they could not: the mirror's labels, if any, stand in.
    pub field_labels_problem: Option<String>,
    /// A commitment this sync read carries a custom field the mirror has no label for: a field
    /// may have been created since the labels were read, so a label not found then is looked
    /// up again.
    pub unlabelled_field_read: bool,
}

impl Collection {
    /// Starts from the stored mirror; `full` reads everything whole (and so finds every
    /// rejected record again, or finds it gone).
    pub fn new(mut mirror: Mirror, full: bool) -> Collection {
        if full {
            mirror.rejected.clear();
        }
        Collection {
            mirror,
            full,
            ..Collection::default()
        }
    }

    /// A record Procore sent that cannot be used: reported now, and kept in the mirror so later
    /// syncs report it too until a good version arrives.
    fn reject(&mut self, kind: SubjectKind, procore_id: Option<i64>, problem: String) {
        if let Some(id) = procore_id {
            self.mirror
                .rejected
                .insert((kind.clone(), id), problem.clone());
        }
        self.rejected.push(Rejected {
            kind,
            procore_id,
            problem,
        });
    }

    /// A good version of a record arrived: no longer rejected.
    fn accept(&mut self, kind: SubjectKind, procore_id: i64) {
        self.mirror.rejected.remove(&(kind, procore_id));
    }

    /// Every record currently rejected: those this sync read, and those earlier syncs read
    /// that Procore has not sent again since.
    pub fn all_rejected(&self) -> Vec<Rejected> {
        let mut all = self.rejected.clone();
        for ((kind, id), problem) in &self.mirror.rejected {
            if !all
                .iter()
                .any(|r| r.kind == *kind && r.procore_id == Some(*id))
            {
                all.push(Rejected {
                    kind: kind.clone(),
                    procore_id: Some(*id),
                    problem: problem.clone(),
                });
            }
        }
        all
    }

    fn advance(
        &mut self,
        collection: String,
        newest: Option<DateTime<Utc>>,
        server_time: Option<DateTime<Utc>>,
        previous: Option<DateTime<Utc>>,
    ) {
        if let Some(at) = newest {
            let next = crate::cursor::next_cursor(at, server_time, previous);
            if Some(next) != previous {
                self.cursors.push(CursorUpdate {
                    collection,
                    value: crate::cursor::format(next),
                });
            }
        }
    }
}

/// Custom field definition id (`custom_field_<id>`'s number) to its label. The snapshot keys
/// commitment custom fields by label when the definition is known, and always also by the raw
/// `custom_field_<id>` key, so the profile field setting may name either.
pub type FieldLabels = BTreeMap<i64, String>;

/// Whether a profile field setting names a field by its key (`custom_field_<id>`), which needs
/// no label.
pub fn is_field_key(field: &str) -> bool {
    field
        .strip_prefix("custom_field_")
        .is_some_and(|id| id.parse::<i64>().is_ok())
}

/// Reads the labels of Procore's custom field definitions into the mirror, when they are
/// needed and may have changed: on a whole read (labels can be renamed); when the profile field
/// setting names a label the mirror neither holds nor has looked up since the last whole read
/// (the setting just changed); and when it names a label looked up and not found but a
/// commitment this sync read carries a field the mirror has no label for (the field was
/// created since). Otherwise no request: not with an empty setting (which takes no profiles
/// from commitments), a setting naming `custom_field_<id>`, a label already known, or a label
/// not found with nothing new on the commitments read, so a setting naming a field nobody
/// created costs one request per whole read, not one per sync. One paged list (100
/// definitions a page). Run after [`collect_commitments`], whose reads it looks at. The
/// definitions are not counted in [`Collection::records_read`].
///
/// # Errors
/// What stops the whole collection (auth, Procore unavailable). No permission to read the
/// definitions (403) or no such list (404) does not: the sync goes on with the labels it has,
/// and [`Collection::field_labels_problem`] says why.
pub async fn collect_field_labels(
    client: &Client,
    profile_field: &str,
    out: &mut Collection,
) -> Result<()> {
    if profile_field.trim().is_empty() {
        // No profiles from commitments: no label to look up.
        return Ok(());
    }
    if !out.full && !labels_needed(&out.mirror, profile_field, out.unlabelled_field_read) {
        return Ok(());
    }
    match client
        .custom_field_definitions()
        .into_list()
        .collect()
        .await
    {
        Ok(definitions) => {
            let mirror = &mut out.mirror;
            mirror.field_labels = definitions
                .items
                .iter()
                .filter_map(|d| non_empty(d.label.as_deref()).map(|l| (d.id.get(), l)))
                .collect();
            if out.full {
                mirror.labels_not_found.clear();
            }
            let labels = &mirror.field_labels;
            mirror
                .labels_not_found
                .retain(|l| !labels.values().any(|known| known == l));
            if !labels.values().any(|l| l == profile_field) {
                mirror.labels_not_found.insert(profile_field.to_owned());
            }
            Ok(())
        }
        Err(e) if matches!(e.status(), Some(403 | 404)) => {
            out.field_labels_problem = Some(e.to_string());
            Ok(())
        }
        Err(e) => Err(e.into()),
    }
}

/// Whether an incremental sync must read the definitions for `profile_field` (see
/// [`collect_field_labels`]).
fn labels_needed(mirror: &Mirror, profile_field: &str, unlabelled_field_read: bool) -> bool {
    if is_field_key(profile_field) || mirror.field_labels.values().any(|l| l == profile_field) {
        return false;
    }
    !mirror.labels_not_found.contains(profile_field) || unlabelled_field_read
}

/// Whether a commitment carries a `custom_field_<id>` the labels do not name.
fn carries_unlabelled_field(commitment: &ProcoreCommitment, labels: &FieldLabels) -> bool {
    commitment.custom_fields.keys().any(|key| {
        key.strip_prefix("custom_field_")
            .and_then(|id| id.parse::<i64>().ok())
            .is_some_and(|id| !labels.contains_key(&id))
    })
}

fn newest<'a>(times: impl Iterator<Item = &'a Option<DateTime<Utc>>>) -> Option<DateTime<Utc>> {
    times.flatten().max().copied()
}

/// Ids Procore sent that could not be read: their last good version stays in the mirror.
fn malformed_ids(malformed: &[Malformed]) -> BTreeSet<i64> {
    malformed
        .iter()
        .filter_map(|m| m.id.as_deref().and_then(|id| id.parse().ok()))
        .collect()
}

/// On a whole read, keeps only the records Procore sent (and those it sent unreadable).
fn keep_only<T>(map: &mut BTreeMap<i64, T>, sent: &BTreeSet<i64>) {
    map.retain(|id, _| sent.contains(id));
}

/// Reads projects and the directory (vendors and company users) into the mirror: only what
/// changed since `cursors`, or everything when the collection is `full`.
///
/// # Errors
/// Only what stops the whole collection: auth, permissions, Procore unavailable after retries.
pub async fn collect_directory(
    client: &Client,
    cursors: &Cursors,
    progress: Option<&Progress>,
    out: &mut Collection,
) -> Result<()> {
    let report = |name: &'static str| {
        let p = progress.cloned();
        move |seen: u64, total: Option<u64>| {
            if let Some(p) = &p {
                p(name, seen, total);
            }
        }
    };
    let since = |cursor: Option<DateTime<Utc>>| if out.full { None } else { cursor };

    // v1.1 list items do not say whether a project is a template, so Procore's filter leaves
    // templates out; a project turned into a template later leaves the mirror at the next
    // whole read.
    let mut projects = client
        .projects()
        .list_v11()
        .status(ProjectStatus::All)
        .template(false);
    if let Some(at) = since(cursors.projects) {
        projects = projects.updated_since(at);
    }
    let projects = projects
        .into_list()
        .on_progress(report("projects"))
        .collect()
        .await?;
    let mut active = client.vendors().list();
    if let Some(at) = since(cursors.vendors) {
        active = active.updated_since(at);
    }
    let active = active
        .into_list()
        .on_progress(report("companies"))
        .collect()
        .await?;
    let inactive = client
        .vendors()
        .list_inactive()
        .into_list()
        .on_progress(report("inactive companies"))
        .collect()
        .await?;
    let mut users = client.users().list();
    if let Some(at) = since(cursors.users) {
        users = users.updated_since(at);
    }
    let users = users
        .into_list()
        .on_progress(report("contacts"))
        .collect()
        .await?;
    out.records_read +=
        projects.items.len() + active.items.len() + inactive.items.len() + users.items.len();
    reject_all(out, SubjectKind::ProcoreProject, &projects.malformed);
    reject_all(out, SubjectKind::ProcoreCompany, &active.malformed);
    reject_all(out, SubjectKind::ProcoreCompany, &inactive.malformed);
    reject_all(out, SubjectKind::ProcoreContact, &users.malformed);

    if out.full {
        let mut sent = malformed_ids(&projects.malformed);
        sent.extend(projects.items.iter().map(|p| p.id.get()));
        keep_only(&mut out.mirror.projects, &sent);
        let mut sent = malformed_ids(&active.malformed);
        sent.extend(malformed_ids(&inactive.malformed));
        sent.extend(active.items.iter().map(|v| v.id.get()));
        sent.extend(inactive.items.iter().map(|v| v.id.get()));
        keep_only(&mut out.mirror.vendors, &sent);
        let mut sent = malformed_ids(&users.malformed);
        sent.extend(users.items.iter().map(|u| u.id.get()));
        keep_only(&mut out.mirror.contacts, &sent);
    }

    for p in &projects.items {
        match project_input(p) {
            Ok(input) => {
                out.accept(SubjectKind::ProcoreProject, input.id);
                out.mirror.projects.insert(input.id, input);
            }
            Err(problem) => out.reject(SubjectKind::ProcoreProject, Some(p.id.get()), problem),
        }
    }

    for u in &users.items {
        merge_contact(out, u);
    }
    // Inactive last: a vendor on both lists (deactivated while the lists were read) is
    // inactive, as the list that names it so is the later word.
    for (list, listed_active) in [(&active.items, true), (&inactive.items, false)] {
        for v in list {
            match vendor_input(v, listed_active) {
                Ok(input) => {
                    out.accept(SubjectKind::ProcoreCompany, input.id);
                    out.mirror.vendors.insert(input.id, input);
                }
                Err(problem) => out.reject(SubjectKind::ProcoreCompany, Some(v.id.get()), problem),
            }
        }
    }

    if !out.full {
        recheck_vanished_inactive(client, &active, &inactive, out).await?;
    }

    out.advance(
        PROJECTS.into(),
        newest(projects.items.iter().map(|p| &p.updated_at)),
        projects.server_time,
        if out.full { None } else { cursors.projects },
    );
    out.advance(
        VENDORS.into(),
        newest(active.items.iter().map(|v| &v.updated_at)),
        active.server_time,
        if out.full { None } else { cursors.vendors },
    );
    out.advance(
        USERS.into(),
        newest(users.items.iter().map(|u| &u.updated_at)),
        users.server_time,
        if out.full { None } else { cursors.users },
    );
    Ok(())
}

/// A company user as the mirror keeps it: a contact of the vendor it belongs to, or no one's.
fn merge_contact(out: &mut Collection, u: &procore::models::CompanyUser) {
    out.accept(SubjectKind::ProcoreContact, u.id.get());
    let Some(vendor) = &u.vendor else {
        // Moved out of every company: no longer anyone's contact.
        out.mirror.contacts.remove(&u.id.get());
        return;
    };
    out.mirror.contacts.insert(
        u.id.get(),
        MirroredContact {
            vendor_id: vendor.id.get(),
            contact: ProcoreContact {
                id: u.contact_id.map_or(u.id.get(), |c| c.get()),
                first_name: non_empty(u.first_name.as_deref()),
                last_name: non_empty(u.last_name.as_deref()),
                email: non_empty(u.email_address.as_deref()),
                business_phone: non_empty(u.business_phone.as_deref()),
                mobile_phone: non_empty(u.mobile_phone.as_deref()),
                fax: non_empty(u.fax_number.as_deref()),
            },
        },
    );
}

/// Reads the projects, companies and contacts webhook deliveries named, one request each,
/// into the mirror: their state now, whatever the deliveries said. One Procore no longer shows
/// (deleted, or hidden from the integration user) leaves the mirror, as a whole read would
/// find it gone. No cursor moves: the next incremental read of the lists starts where the last
/// one stopped, and reads these again at no harm.
///
/// # Errors
/// As [`collect_directory`]; a record that is gone or forbidden is not an error.
pub async fn collect_directory_targets(
    client: &Client,
    targets: &Targets,
    out: &mut Collection,
) -> Result<()> {
    for &id in &targets.projects {
        let read = gone_is_none(client.projects().get(procore::ProjectId(id)).await)?;
        match read.filter(|p| p.template != Some(true)) {
            None => {
                out.accept(SubjectKind::ProcoreProject, id);
                out.mirror.projects.remove(&id);
            }
            Some(p) => {
                out.records_read += 1;
                match project_input(&p) {
                    Ok(input) => {
                        out.accept(SubjectKind::ProcoreProject, id);
                        out.mirror.projects.insert(id, input);
                    }
                    Err(problem) => out.reject(SubjectKind::ProcoreProject, Some(id), problem),
                }
            }
        }
    }
    for &id in &targets.vendors {
        match gone_is_none(client.vendors().get(procore::VendorId(id)).await)? {
            None => {
                out.accept(SubjectKind::ProcoreCompany, id);
                out.mirror.vendors.remove(&id);
            }
            Some(v) => {
                out.records_read += 1;
                match vendor_input(&v, true) {
                    Ok(input) => {
                        out.accept(SubjectKind::ProcoreCompany, id);
                        out.mirror.vendors.insert(id, input);
                    }
                    Err(problem) => out.reject(SubjectKind::ProcoreCompany, Some(id), problem),
                }
            }
        }
    }
    for &id in &targets.users {
        match gone_is_none(client.users().get(procore::UserId(id)).await)? {
            None => {
                out.accept(SubjectKind::ProcoreContact, id);
                out.mirror.contacts.remove(&id);
            }
            Some(u) => {
                out.records_read += 1;
                merge_contact(out, &u);
            }
        }
    }
    Ok(())
}

/// A vendor the mirror holds as inactive that is no longer on the inactive list was
/// reactivated or deleted; reactivation need not change its `updated_at`, so the changes read
/// may not say which. One request for all of them, by id, on the active list: those found are
/// active again, the others leave the mirror.
async fn recheck_vanished_inactive(
    client: &Client,
    active: &procore::Collected<procore::models::Vendor>,
    inactive: &procore::Collected<procore::models::Vendor>,
    out: &mut Collection,
) -> Result<()> {
    let listed: BTreeSet<i64> = active
        .items
        .iter()
        .chain(&inactive.items)
        .map(|v| v.id.get())
        .chain(malformed_ids(&active.malformed))
        .chain(malformed_ids(&inactive.malformed))
        .collect();
    let vanished: Vec<i64> = out
        .mirror
        .vendors
        .values()
        .filter(|v| !v.active && !listed.contains(&v.id))
        .map(|v| v.id)
        .collect();
    if vanished.is_empty() {
        return Ok(());
    }
    let mut list = client.vendors().list();
    for id in &vanished {
        list = list.id(procore::VendorId(*id));
    }
    let found = list.into_list().collect().await?;
    out.records_read += found.items.len();
    reject_all(out, SubjectKind::ProcoreCompany, &found.malformed);
    let unreadable = malformed_ids(&found.malformed);
    for id in vanished {
        if unreadable.contains(&id) {
            continue;
        }
        match found.items.iter().find(|v| v.id.get() == id) {
            Some(v) => match vendor_input(v, true) {
                Ok(input) => {
                    out.accept(SubjectKind::ProcoreCompany, id);
                    out.mirror.vendors.insert(id, input);
                }
                Err(problem) => out.reject(SubjectKind::ProcoreCompany, Some(id), problem),
            },
            None => {
                out.mirror.vendors.remove(&id);
            }
        }
    }
    Ok(())
}

/// Reads the commitments of each project in `projects` (one paged v2.0 request per project)
/// into the mirror: what changed since the project's cursor, or all of them when the project
/// has none or the collection is `full`. Projects no longer named leave the mirror with their
/// cursors, so following one again reads it whole.
///
/// # Errors
/// As [`collect_directory`]. A project whose commitments cannot be read stops the sync rather
/// than being read as "no commitments", which would end its associations.
pub async fn collect_commitments(
    client: &Client,
    projects: &[i64],
    cursors: &Cursors,
    progress: Option<&Progress>,
    out: &mut Collection,
) -> Result<()> {
    forget_unfollowed(projects, cursors, out);
    for (done, &project) in projects.iter().enumerate() {
        read_commitments_of(client, project, cursors, out).await?;
        if let Some(p) = progress {
            p(
                "commitments (projects)",
                done as u64 + 1,
                Some(projects.len() as u64),
            );
        }
    }
    Ok(())
}

/// Like [`collect_commitments`], for what webhook deliveries named: the commitments of the
/// followed `projects` among `targets.commitment_projects` since each one's cursor, and of
/// projects followed now and not before the deliveries' records were merged (`followed_before`:
/// a project just created in Procore and imported automatically, say); the commitments Procore
/// said were deleted leave the mirror. One request per project read, none for the others. (A
/// project followed because a person changed its mapping decision is read by the ordinary
/// sync such a change calls for.)
///
/// # Errors
/// As [`collect_commitments`].
pub async fn collect_commitment_targets(
    client: &Client,
    projects: &[i64],
    followed_before: &[i64],
    targets: &Targets,
    cursors: &Cursors,
    out: &mut Collection,
) -> Result<()> {
    forget_unfollowed(projects, cursors, out);
    for id in &targets.deleted_commitments {
        out.accept(SubjectKind::ProcoreCommitment, *id);
        out.mirror.commitments.remove(id);
    }
    for &project in projects {
        if targets.commitment_projects.contains(&project) || !followed_before.contains(&project) {
            read_commitments_of(client, project, cursors, out).await?;
        }
    }
    Ok(())
}

/// Projects no longer followed leave the mirror with their commitments and cursors, so
/// following one again reads it whole.
fn forget_unfollowed(projects: &[i64], cursors: &Cursors, out: &mut Collection) {
    let followed: BTreeSet<i64> = projects.iter().copied().collect();
    out.mirror
        .commitments
        .retain(|_, c| followed.contains(&c.procore_project_id));
    for project in cursors.commitments.keys() {
        if !followed.contains(project) {
            out.forget_cursors.push(format!("{COMMITMENTS}{project}"));
        }
    }
}

/// One project's commitments into the mirror (one paged request): what changed since its
/// cursor, or all of them when it has none or the collection is whole.
async fn read_commitments_of(
    client: &Client,
    project: i64,
    cursors: &Cursors,
    out: &mut Collection,
) -> Result<()> {
    let since = if out.full {
        None
    } else {
        cursors.commitments.get(&project).copied()
    };
    let mut list = client.commitments(procore::ProjectId(project)).contracts();
    if let Some(at) = since {
        list = list.updated_since(at).include_deleted(false);
    }
    let contracts = list.into_list().collect().await?;
    out.records_read += contracts.items.len();
    reject_all(out, SubjectKind::ProcoreCommitment, &contracts.malformed);
    if since.is_none() {
        let mut sent = malformed_ids(&contracts.malformed);
        sent.extend(contracts.items.iter().map(|c| c.id.get()));
        out.mirror
            .commitments
            .retain(|id, c| c.procore_project_id != project || sent.contains(id));
    }
    for c in &contracts.items {
        out.accept(SubjectKind::ProcoreCommitment, c.id.get());
        if c.deleted_at.is_some() {
            out.mirror.commitments.remove(&c.id.get());
            continue;
        }
        match commitment_input(c, project) {
            Ok(input) => {
                if carries_unlabelled_field(&input, &out.mirror.field_labels) {
                    out.unlabelled_field_read = true;
                }
                out.mirror.commitments.insert(input.id, input);
            }
            Err(problem) => out.reject(SubjectKind::ProcoreCommitment, Some(c.id.get()), problem),
        }
    }
    out.advance(
        format!("{COMMITMENTS}{project}"),
        newest(contracts.items.iter().map(|c| &c.updated_at)),
        contracts.server_time,
        since,
    );
    Ok(())
}

fn reject_all(out: &mut Collection, kind: SubjectKind, malformed: &[Malformed]) {
    for m in malformed {
        let id = m.id.as_deref().and_then(|id| id.parse().ok());
        out.reject(kind.clone(), id, m.reason.clone());
    }
}

/// Checks a Procore project and keeps what the planner maps.
pub fn project_input(p: &procore::models::Project) -> std::result::Result<ProcoreProject, String> {
    let name = non_empty(p.name.as_deref()).ok_or("the project has no name")?;
    Ok(ProcoreProject {
        id: p.id.get(),
        name,
        description: non_empty(p.description.as_deref()),
        start_date: p.start_date,
        completion_date: p.completion_date,
        project_number: non_empty(p.project_number.as_deref()),
        total_value: p.total_value.map(|v| v.normalize().to_string()),
        active: p
            .active
            .ok_or("the project does not say whether it is active")?,
    })
}

/// Checks a Procore vendor; which list it came from is the authority on whether it is active.
pub fn vendor_input(
    v: &procore::models::Vendor,
    listed_active: bool,
) -> std::result::Result<ProcoreVendor, String> {
    let name = non_empty(v.name.as_deref()).ok_or("the company has no name")?;
    Ok(ProcoreVendor {
        id: v.id.get(),
        name,
        address: non_empty(v.address.as_deref()),
        city: non_empty(v.city.as_deref()),
        state_code: non_empty(v.state_code.as_deref()),
        zip: non_empty(v.zip.as_deref()),
        country_code: non_empty(v.country_code.as_deref()),
        website: non_empty(v.website.as_deref()),
        active: listed_active && v.is_active.unwrap_or(true),
        primary_contact_id: v
            .primary_contact
            .as_ref()
            .and_then(|c| c.id)
            .map(|id| id.get()),
        contacts: Vec::new(),
    })
}

/// Checks a v2.0 commitment contract and keeps what the planner reads. Custom fields are kept
/// under Procore's `custom_field_<id>` keys; [`Mirror::snapshot`] adds their labels.
pub fn commitment_input(
    c: &procore::models::CommitmentContract,
    project: i64,
) -> std::result::Result<ProcoreCommitment, String> {
    let kind = match c.kind.as_deref() {
        Some("WorkOrderContract") => CommitmentKind::Subcontract,
        Some("PurchaseOrderContract") => CommitmentKind::PurchaseOrder,
        Some(other) => return Err(format!("unknown commitment type \"{other}\"")),
        None => return Err("the commitment does not say its type".into()),
    };
    let mut custom_fields = BTreeMap::new();
    for (key, field) in c.custom_fields.iter().flatten() {
        let text = match &field.value {
            serde_json::Value::Null => continue,
            serde_json::Value::String(s) => s.clone(),
            serde_json::Value::Object(o) => match o.get("label").or_else(|| o.get("name")) {
                Some(serde_json::Value::String(s)) => s.clone(),
                _ => continue,
            },
            other => other.to_string(),
        };
        custom_fields.insert(key.clone(), text);
    }
    Ok(ProcoreCommitment {
        id: c.id.get(),
        kind,
        procore_project_id: project,
        procore_vendor_id: c
            .vendor
            .as_ref()
            .map(|v| v.id.get())
            .or(c.vendor_id.map(|v| v.get())),
        status: non_empty(c.status.as_deref()),
        executed: c.executed.unwrap_or(false),
        custom_fields,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vendor(id: i64, name: &str) -> ProcoreVendor {
        ProcoreVendor {
            id,
            name: name.into(),
            address: None,
            city: None,
            state_code: None,
            zip: None,
            country_code: None,
            website: None,
            active: true,
            primary_contact_id: None,
            contacts: Vec::new(),
        }
    }

    fn contact(id: i64) -> ProcoreContact {
        ProcoreContact {
            id,
            first_name: Some("Ann".into()),
            last_name: None,
            email: Some(format!("c{id}@example.com")),
            business_phone: None,
            mobile_phone: None,
            fax: None,
        }
    }

    #[test]
    fn only_changed_and_removed_records_are_written_back_to_the_mirror() {
        let mut before = Mirror::default();
        before.vendors.insert(1, vendor(1, "Acme"));
        before.vendors.insert(2, vendor(2, "Bolt"));
        before.vendors.insert(3, vendor(3, "Cobalt"));
        let mut after = before.clone();
        after.vendors.insert(2, vendor(2, "Bolt Plumbing"));
        after.vendors.remove(&3);

        let changes = after.changes_since(&before, &Unreadable::default());

        assert_eq!(changes.len(), 2, "{changes:?}");
        assert!(
            matches!(&changes[0], MirrorChange::Put(r) if r.procore_id == 2 && r.body.contains("Bolt Plumbing"))
        );
        assert_eq!(
            changes[1],
            MirrorChange::Remove {
                kind: VENDOR.into(),
                procore_id: 3
            }
        );
        assert!(after
            .changes_since(&after, &Unreadable::default())
            .is_empty());
    }

    #[test]
    fn a_mirror_read_back_from_its_rows_is_the_mirror_written() {
        let mut m = Mirror::default();
        m.vendors.insert(1, vendor(1, "Acme"));
        m.contacts.insert(
            10,
            MirroredContact {
                vendor_id: 1,
                contact: contact(100),
            },
        );
        m.field_labels.insert(7, "Compliance Profile".into());
        m.labels_not_found.insert("Compliance Tier".into());
        let rows: Vec<MirrorRow> = m
            .changes_since(&Mirror::default(), &Unreadable::default())
            .into_iter()
            .map(|c| match c {
                MirrorChange::Put(r) => r,
                MirrorChange::Remove { .. } => unreachable!("nothing to remove"),
            })
            .collect();

        let (back, unreadable) = Mirror::from_rows(&rows);

        assert_eq!(back, m);
        assert!(unreadable.is_empty());
    }

    #[test]
    fn unreadable_rows_are_left_out_and_named() {
        let rows = vec![
            MirrorRow {
                kind: VENDOR.into(),
                procore_id: 1,
                scope: None,
                body: "{".into(),
            },
            MirrorRow {
                kind: CONTACT.into(),
                procore_id: 2,
                scope: None,
                body: serde_json::to_string(&contact(2)).unwrap(),
            },
            MirrorRow {
                kind: "invoice".into(),
                procore_id: 3,
                scope: None,
                body: "{}".into(),
            },
        ];

        let (m, unreadable) = Mirror::from_rows(&rows);

        assert_eq!(m, Mirror::default());
        assert_eq!(unreadable.problems.len(), 3, "{unreadable:?}");
        assert!(unreadable.problems[1].contains("names no company"));
        // Nothing replaces them, so they are removed with the next save.
        let changes = m.changes_since(&m, &unreadable);
        assert_eq!(changes.len(), 3);
        assert!(changes
            .iter()
            .all(|c| matches!(c, MirrorChange::Remove { .. })));
    }

    #[test]
    fn the_snapshot_puts_each_contact_under_its_company() {
        let mut m = Mirror::default();
        m.vendors.insert(1, vendor(1, "Acme"));
        m.vendors.insert(2, vendor(2, "Bolt"));
        for (user, vendor_id) in [(10, 2), (11, 1), (12, 2), (13, 99)] {
            m.contacts.insert(
                user,
                MirroredContact {
                    vendor_id,
                    contact: contact(user * 10),
                },
            );
        }

        let s = m.snapshot();

        let ids = |v: &ProcoreVendor| v.contacts.iter().map(|c| c.id).collect::<Vec<_>>();
        assert_eq!(ids(&s.vendors[0]), vec![110]);
        assert_eq!(ids(&s.vendors[1]), vec![100, 120]);
    }

    #[test]
    fn a_whole_read_is_due_first_and_then_every_full_read_days() {
        let day = |d: &str| d.parse::<NaiveDate>().unwrap();
        let mut c = Cursors::default();
        assert!(c.full_read_due(day("2026-11-22"), 7));
        c.full_read_on = Some(day("2026-11-22"));
        assert!(
            c.full_read_due(day("2026-11-23"), 7),
            "a mirror of unknown format is read again"
        );
        c.mirror_format = Some(MIRROR_FORMAT_VERSION.into());
        assert!(!c.full_read_due(day("2026-11-28"), 7));
        assert!(c.full_read_due(day("2026-11-29"), 7));
        assert!(c.full_read_due(day("2026-11-22"), 0));
    }

    #[test]
    fn cursors_are_read_by_name_and_unreadable_values_count_as_none() {
        let pairs = vec![
            (PROJECTS.to_string(), "2026-11-01T10:00:00Z".to_string()),
            (VENDORS.to_string(), "yesterday".to_string()),
            (FULL_READ.to_string(), "2026-11-20".to_string()),
            (
                format!("{COMMITMENTS}42"),
                "2026-11-02T00:00:00Z".to_string(),
            ),
            (
                format!("{COMMITMENTS}x"),
                "2026-11-02T00:00:00Z".to_string(),
            ),
        ];

        let c = Cursors::from_pairs(&pairs);

        assert_eq!(c.projects, Some("2026-11-01T10:00:00Z".parse().unwrap()));
        assert_eq!(c.vendors, None);
        assert_eq!(c.full_read_on, Some("2026-11-20".parse().unwrap()));
        assert_eq!(c.commitments.keys().copied().collect::<Vec<_>>(), vec![42]);
    }
}
