//! Collect: read what the compliance integration needs from Procore into a snapshot.
//!
//! - projects: v1.1, every status, templates left out;
//! - vendors: the active and the inactive directory lists (which list a vendor came from says
//!   whether it is active), with the primary contact's id;
//! - contacts: ONE paged list of company users, grouped here by their vendor (not one call per
//!   vendor);
//! - commitments: v2.0 `commitment_contracts` (`view=extended`, both kinds and their custom
//!   fields), one paged request per project the caller names (the linked ones, and those this
//!   sync may bring in).
//!
//! Everything is read whole each sync: the planner ends associations whose commitments are
//! gone, which an incremental read cannot tell from "unchanged". A record that cannot be used is
//! not turned into a planner input but listed in [`Collection::rejected`] with the problem, and
//! the rest go on.

use super::input::{
    ComplianceSnapshot, ProcoreCommitment, ProcoreContact, ProcoreProject, ProcoreVendor,
};
use super::settings::CommitmentKind;
use crate::error::Result;
use crate::text::non_empty;
use crate::workforce::collect::Progress;
use procore::api::projects::ProjectStatus;
use procore::{Client, Malformed};
use std::collections::BTreeMap;

/// A Procore record the collector could not use, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejected {
    /// The run-log kind: `procore-project`, `procore-company`, `procore-contact`,
    /// `procore-commitment`.
    pub kind: &'static str,
    pub procore_id: Option<i64>,
    pub problem: String,
}

/// A snapshot, what was rejected, and how many records Procore sent.
#[derive(Debug, Clone, Default)]
pub struct Collection {
    pub snapshot: ComplianceSnapshot,
    pub rejected: Vec<Rejected>,
    pub records_read: usize,
}

/// Custom field definition id (`custom_field_<id>`'s number) to its label. The collector keys
/// commitment custom fields by label when the definition is known, and always also by the raw
/// `custom_field_<id>` key, so the profile field setting may name either.
pub type FieldLabels = BTreeMap<i64, String>;

/// Reads projects and the directory (vendors and company users) from Procore.
///
/// # Errors
/// Only what stops the whole collection: auth, permissions, Procore unavailable after retries.
pub async fn collect_directory(
    client: &Client,
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
    let projects = client
        .projects()
        .list_v11()
        .status(ProjectStatus::All)
        .template(false)
        .into_list()
        .on_progress(report("projects"))
        .collect()
        .await?;
    let active = client
        .vendors()
        .list()
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
    let users = client
        .users()
        .list()
        .into_list()
        .on_progress(report("contacts"))
        .collect()
        .await?;
    out.records_read +=
        projects.items.len() + active.items.len() + inactive.items.len() + users.items.len();
    reject_all(out, "procore-project", &projects.malformed);
    reject_all(out, "procore-company", &active.malformed);
    reject_all(out, "procore-company", &inactive.malformed);
    reject_all(out, "procore-contact", &users.malformed);

    for p in &projects.items {
        if p.template == Some(true) {
            continue;
        }
        match project_input(p) {
            Ok(input) => out.snapshot.projects.push(input),
            Err(problem) => out.rejected.push(Rejected {
                kind: "procore-project",
                procore_id: Some(p.id.get()),
                problem,
            }),
        }
    }

    let mut contacts: BTreeMap<i64, Vec<ProcoreContact>> = BTreeMap::new();
    for u in &users.items {
        let Some(vendor) = &u.vendor else { continue };
        contacts
            .entry(vendor.id.get())
            .or_default()
            .push(ProcoreContact {
                id: u.contact_id.map_or(u.id.get(), |c| c.get()),
                first_name: non_empty(u.first_name.as_deref()),
                last_name: non_empty(u.last_name.as_deref()),
                email: non_empty(u.email_address.as_deref()),
                business_phone: non_empty(u.business_phone.as_deref()),
                mobile_phone: non_empty(u.mobile_phone.as_deref()),
                fax: None,
            });
    }
    let mut seen = std::collections::BTreeSet::new();
    for (list, listed_active) in [(&active.items, true), (&inactive.items, false)] {
        for v in list {
            if !seen.insert(v.id.get()) {
                continue;
            }
            match vendor_input(v, listed_active) {
                Ok(mut input) => {
                    input.contacts = contacts.remove(&input.id).unwrap_or_default();
                    out.snapshot.vendors.push(input);
                }
                Err(problem) => out.rejected.push(Rejected {
                    kind: "procore-company",
                    procore_id: Some(v.id.get()),
                    problem,
                }),
            }
        }
    }
    Ok(())
}

/// Reads the commitments of each project in `projects` (one paged v2.0 request per project).
///
/// # Errors
/// As [`collect_directory`]. A project whose commitments cannot be read stops the sync rather
/// than being read as "no commitments", which would end its associations.
pub async fn collect_commitments(
    client: &Client,
    projects: &[i64],
    labels: &FieldLabels,
    progress: Option<&Progress>,
    out: &mut Collection,
) -> Result<()> {
    for (done, &project) in projects.iter().enumerate() {
        let contracts = client
            .commitments(procore::ProjectId(project))
            .contracts()
            .into_list()
            .collect()
            .await?;
        out.records_read += contracts.items.len();
        reject_all(out, "procore-commitment", &contracts.malformed);
        for c in &contracts.items {
            if c.deleted_at.is_some() {
                continue;
            }
            match commitment_input(c, project, labels) {
                Ok(input) => out.snapshot.commitments.push(input),
                Err(problem) => out.rejected.push(Rejected {
                    kind: "procore-commitment",
                    procore_id: Some(c.id.get()),
                    problem,
                }),
            }
        }
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

fn reject_all(out: &mut Collection, kind: &'static str, malformed: &[Malformed]) {
    for m in malformed {
        out.rejected.push(Rejected {
            kind,
            procore_id: m.id.as_deref().and_then(|id| id.parse().ok()),
            problem: m.reason.clone(),
        });
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

/// Checks a v2.0 commitment contract and keeps what the planner reads.
pub fn commitment_input(
    c: &procore::models::CommitmentContract,
    project: i64,
    labels: &FieldLabels,
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
        let label = key
            .strip_prefix("custom_field_")
            .and_then(|id| id.parse::<i64>().ok())
            .and_then(|id| labels.get(&id));
        if let Some(label) = label {
            custom_fields.insert(label.clone(), text.clone());
        }
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
