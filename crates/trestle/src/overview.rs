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

/// Every party with its compliance on `today` (global, and how many of its active projects are
/// not compliant), so a person sees at a glance who needs a certificate.
pub async fn parties(store: &Store, company: i64, today: NaiveDate) -> Result<String> {
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
        "compliance today".into(),
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

/// Every compliance project.
pub async fn projects(store: &Store, company: i64) -> Result<String> {
    let mut rows = vec![vec![
        "id".into(),
        "name".into(),
        "active".into(),
        "Procore project".into(),
        "start".into(),
        "completion".into(),
    ]];
    for p in store.compliance_projects(company).await? {
        let p = p.project;
        rows.push(vec![
            p.id.to_string(),
            p.name,
            if p.active { "yes" } else { "no" }.into(),
            or_dash(p.procore_project_id),
            or_dash(p.start_date),
            or_dash(p.completion_date),
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
    let mut rows = vec![vec![
        "kind".into(),
        "Procore id".into(),
        "name in Procore".into(),
        "decision".into(),
    ]];
    for kind in [ProcoreRecordKind::Project, ProcoreRecordKind::Company] {
        for m in store.mappings(company, kind).await? {
            if undecided_only && m.decision != MappingDecision::Undecided {
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
            let decision = match m.decision {
                MappingDecision::Undecided => "undecided".to_string(),
                MappingDecision::Import => "import".into(),
                MappingDecision::LinkTo(id) => format!("link to {id}"),
                MappingDecision::DoNotAdd => "do not add".into(),
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
