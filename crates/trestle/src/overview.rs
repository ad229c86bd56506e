//! `compliance parties`, `compliance projects`, `compliance mappings`: what trestle holds, with
//! the ids the other commands take (`map ... link LOCAL_ID`, `--party`), and the Procore records
//! waiting for a mapping decision.

use crate::output::table;
use anyhow::Result;
use chrono::NaiveDate;
use domain::compliance::OverallStatus;
use std::collections::BTreeMap;
use store::{MappingDecision, ProcoreRecordKind, Store};
use sync::compliance::collect::Mirror;

fn or_dash(v: Option<impl ToString>) -> String {
    v.map_or_else(|| "-".into(), |v| v.to_string())
}

/// The date a view evaluates on, and its column heading: today, or the `--as-of` date.
fn on_date(as_of: Option<NaiveDate>) -> (NaiveDate, String) {
    match as_of {
        Some(d) => (d, format!("on {d}")),
        None => (chrono::Utc::now().date_naive(), "today".into()),
    }
}

/// Every party with its compliance today, or on `as_of` (global, and how many of its active
/// projects are not compliant), so a person sees at a glance who needs a certificate, now or
/// by a coming date.
pub async fn parties(store: &Store, company: i64, as_of: Option<NaiveDate>) -> Result<String> {
    let (today, heading) = on_date(as_of);
    let data = store.compliance_dataset(company).await?;
    let active: BTreeMap<_, bool> = data
        .party_projects
        .iter()
        .map(|pp| ((pp.party_id, pp.project_id), pp.active))
        .collect();
    let mut rows = vec![vec![
        "id".into(),
        "name".into(),
        "active".into(),
        "Procore company".into(),
        format!("compliance {heading}"),
        "next expiration".into(),
        "projects (not compliant)".into(),
    ]];
    for e in data.evaluate_all(today) {
        let projects: Vec<_> = e
            .projects
            .iter()
            .filter(|p| {
                p.target
                    .project
                    .is_some_and(|project| active.get(&(e.party.id, project)) == Some(&true))
            })
            .collect();
        let failing = projects
            .iter()
            .filter(|p| p.status == OverallStatus::NonCompliant)
            .count();
        let mut status = e.global.status.as_str().to_string();
        if e.global.expiring_soon {
            status.push_str(", expiring soon");
        }
        rows.push(vec![
            e.party.id.to_string(),
            e.party.name.clone(),
            if e.party.active { "yes" } else { "no" }.into(),
            or_dash(e.party.procore_vendor_id),
            status,
            or_dash(e.global.next_expiration),
            format!("{} ({failing})", projects.len()),
        ]);
    }
    if rows.len() == 1 {
        return Ok("No parties yet: `trestle sync compliance` brings them in from Procore, or `trestle compliance import` from a file.\n".into());
    }
    Ok(table(&rows))
}

/// Every compliance project, with how many parties are active on it and how many of them are
/// not compliant there today (or on `as_of`).
pub async fn projects(store: &Store, company: i64, as_of: Option<NaiveDate>) -> Result<String> {
    let (today, heading) = on_date(as_of);
    let data = store.compliance_dataset(company).await?;
    let active: std::collections::BTreeSet<_> = data
        .party_projects
        .iter()
        .filter(|pp| pp.active)
        .map(|pp| (pp.party_id, pp.project_id))
        .collect();
    // By project: (active parties, of which not compliant).
    let mut on_project: BTreeMap<_, (usize, usize)> = BTreeMap::new();
    for e in data.evaluate_all(today) {
        for p in &e.projects {
            let Some(project) = p.target.project else {
                continue;
            };
            if !active.contains(&(e.party.id, project)) {
                continue;
            }
            let counts = on_project.entry(project).or_default();
            counts.0 += 1;
            if p.status == OverallStatus::NonCompliant {
                counts.1 += 1;
            }
        }
    }
    let mut rows = vec![vec![
        "id".into(),
        "name".into(),
        "active".into(),
        "Procore project".into(),
        "start".into(),
        "completion".into(),
        format!("parties (not compliant {heading})"),
    ]];
    for p in store.compliance_projects(company).await? {
        let p = p.project;
        let (parties, failing) = on_project.get(&p.id).copied().unwrap_or_default();
        rows.push(vec![
            p.id.to_string(),
            p.name,
            if p.active { "yes" } else { "no" }.into(),
            or_dash(p.procore_project_id),
            or_dash(p.start_date),
            or_dash(p.completion_date),
            format!("{parties} ({failing})"),
        ]);
    }
    if rows.len() == 1 {
        return Ok(
            "No compliance projects yet: `trestle sync compliance` brings them in from Procore.\n"
                .into(),
        );
    }
    Ok(table(&rows))
}

/// The Procore projects and companies trestle has seen, with their names as last read and the
/// decision for each (TrustLayer's mapping screen); `undecided_only` lists those waiting.
pub async fn mappings(store: &Store, company: i64, undecided_only: bool) -> Result<String> {
    let (mirror, _) = Mirror::from_rows(&store.mirror(company).await?);
    // What each Procore record is in trestle now: a record imported automatically (a new
    // project, a company through its commitment) was decided by a setting, not waiting.
    let mut local: BTreeMap<(ProcoreRecordKind, i64), i64> = BTreeMap::new();
    for p in store.compliance_projects(company).await? {
        if let Some(procore) = p.project.procore_project_id {
            local.insert((ProcoreRecordKind::Project, procore), p.project.id.0);
        }
    }
    for p in store.parties(company).await? {
        if let Some(procore) = p.procore_vendor_id {
            local.insert((ProcoreRecordKind::Company, procore), p.id.0);
        }
    }
    let mut rows = vec![vec![
        "kind".into(),
        "Procore id".into(),
        "name in Procore".into(),
        "decision".into(),
    ]];
    for kind in [ProcoreRecordKind::Project, ProcoreRecordKind::Company] {
        for m in store.mappings(company, kind).await? {
            let now = local.get(&(kind, m.procore_id)).copied();
            let waiting = m.decision == MappingDecision::Undecided && now.is_none();
            if undecided_only && !waiting {
                continue;
            }
            let name = match kind {
                ProcoreRecordKind::Project => {
                    mirror.projects.get(&m.procore_id).map(|p| p.name.clone())
                }
                ProcoreRecordKind::Company => {
                    mirror.vendors.get(&m.procore_id).map(|v| v.name.clone())
                }
            };
            let what = match kind {
                ProcoreRecordKind::Project => "trestle project",
                ProcoreRecordKind::Company => "trestle party",
            };
            let decision = match (m.decision, now) {
                (MappingDecision::Undecided, Some(id)) => {
                    format!("imported automatically ({what} {id})")
                }
                (MappingDecision::Undecided, None) => "undecided".to_string(),
                (MappingDecision::Import, Some(id)) => format!("import ({what} {id})"),
                (MappingDecision::Import, None) => "import (at the next sync)".into(),
                (MappingDecision::LinkTo(id), Some(now)) if now == id => {
                    format!("link to {id}")
                }
                (MappingDecision::LinkTo(id), _) => format!("link to {id} (at the next sync)"),
                (MappingDecision::DoNotAdd, _) => "do not add".into(),
            };
            rows.push(vec![
                kind.as_str().into(),
                m.procore_id.to_string(),
                or_dash(name),
                decision,
            ]);
        }
    }
    if rows.len() == 1 {
        return Ok(if undecided_only {
            "Nothing is waiting for a mapping decision.\n".into()
        } else {
            "No Procore records seen yet: run `trestle sync compliance`.\n".into()
        });
    }
    Ok(table(&rows))
}
