//! A person's decision about a Procore project or company before it reaches the compliance
//! side (TrustLayer's mapping screen): import it, link it to an existing record, or never add
//! it. The next compliance sync carries the decision out.

use chrono::NaiveDate;
use domain::compliance::{PartyId, ProjectId};
use serde::Serialize;
use store::{CompanyId, MappingDecision, ProcoreRecordKind, Store, StoreError};
use sync::compliance::collect::Mirror;
use sync::compliance::local::{load_local, load_settings, mapping};
use sync::compliance::plan::{plan, Action};

/// A decision saved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Mapped {
    pub kind: ProcoreRecordKind,
    pub procore_id: i64,
    pub decision: MappingDecision,
}

/// Why a decision was refused; nothing was saved.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MapError {
    /// The record to link to does not exist in this company.
    #[error("there is no trestle {} {id}", local_record(*kind))]
    NoSuchRecord { kind: ProcoreRecordKind, id: i64 },
    /// Procore does not know the record (or hides it from the integration user): a decision
    /// about a mistyped id would wait forever and hide the record meant. `read` is how many
    /// records of its kind trestle has read.
    #[error("Procore has no {} {procore_id} in company {company} (or does not show it to the integration user); nothing was changed", kind.as_str())]
    NotInProcore {
        kind: ProcoreRecordKind,
        procore_id: i64,
        company: CompanyId,
        read: usize,
    },
    /// Procore could not be asked whether the record exists.
    #[error("could not check that Procore {} {procore_id} exists; nothing was changed", kind.as_str())]
    Check {
        kind: ProcoreRecordKind,
        procore_id: i64,
        #[source]
        source: procore::Error,
    },
    /// A preview plans on what trestle has read; this record it has not read yet.
    #[error("trestle has not read Procore {} {procore_id} yet; run a compliance sync, then preview again", kind.as_str())]
    NotRead {
        kind: ProcoreRecordKind,
        procore_id: i64,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Sync(#[from] sync::SyncError),
}

/// What a decision would change: the planner's actions that the decision adds to the next
/// compliance sync, each with its reason, planned on the records trestle last read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MappingPreview {
    pub kind: ProcoreRecordKind,
    pub procore_id: i64,
    pub decision: MappingDecision,
    /// The actions the decision adds, in the order a sync would apply them.
    pub actions: Vec<Action>,
    /// The actions it takes away (what the record would otherwise have become).
    pub withdrawn: Vec<Action>,
}

/// Plans the next compliance sync from what trestle last read twice, with the record's
/// decision as it stands and with `decision`, and answers the difference: the person sees
/// what a decision does before making it. Nothing is saved and Procore is not asked; the
/// commitments of a project nobody imported yet are not read, so its associations appear only
/// once a sync imports it.
pub async fn preview(
    store: &Store,
    company: CompanyId,
    kind: ProcoreRecordKind,
    procore_id: i64,
    decision: MappingDecision,
    today: NaiveDate,
) -> Result<MappingPreview, MapError> {
    check_link_target(store, company, kind, decision).await?;
    let (mirror, _) = Mirror::from_rows(&store.mirror(company).await?);
    let read = match kind {
        ProcoreRecordKind::Project => mirror.projects.contains_key(&procore_id),
        ProcoreRecordKind::Company => mirror.vendors.contains_key(&procore_id),
    };
    if !read {
        return Err(MapError::NotRead { kind, procore_id });
    }
    let snapshot = mirror.snapshot();
    let settings = load_settings(store, company).await?;
    let now = load_local(store, company, &settings, today).await?;
    let mut then = now.clone();
    match kind {
        ProcoreRecordKind::Project => {
            then.project_mappings
                .insert(procore_id, mapping(decision, ProjectId));
        }
        ProcoreRecordKind::Company => {
            then.vendor_mappings
                .insert(procore_id, mapping(decision, PartyId));
        }
    }
    let before = plan(&snapshot, &now, &settings, today).actions;
    let after = plan(&snapshot, &then, &settings, today).actions;
    Ok(MappingPreview {
        kind,
        procore_id,
        decision,
        actions: after
            .iter()
            .filter(|a| !before.contains(a))
            .cloned()
            .collect(),
        withdrawn: before.into_iter().filter(|a| !after.contains(a)).collect(),
    })
}

/// A link's target must be a record of the company.
async fn check_link_target(
    store: &Store,
    company: CompanyId,
    kind: ProcoreRecordKind,
    decision: MappingDecision,
) -> Result<(), MapError> {
    let MappingDecision::LinkTo(id) = decision else {
        return Ok(());
    };
    let exists = match kind {
        ProcoreRecordKind::Project => store
            .compliance_project(company, ProjectId(id))
            .await?
            .is_some(),
        ProcoreRecordKind::Company => store.party(company, PartyId(id)).await?.is_some(),
    };
    if exists {
        Ok(())
    } else {
        Err(MapError::NoSuchRecord { kind, id })
    }
}

/// What a Procore record of `kind` becomes on the compliance side.
fn local_record(kind: ProcoreRecordKind) -> &'static str {
    match kind {
        ProcoreRecordKind::Project => "compliance project",
        ProcoreRecordKind::Company => "party",
    }
}

/// Saves the decision about a Procore record of `company`, after checking that the record to
/// link to exists, and that the Procore record does: one a sync has read does; any other is
/// looked up in Procore through `client`, so a decision can be made before the first sync.
pub async fn map(
    store: &Store,
    client: &procore::Client,
    company: CompanyId,
    kind: ProcoreRecordKind,
    procore_id: i64,
    decision: MappingDecision,
) -> Result<Mapped, MapError> {
    check_link_target(store, company, kind, decision).await?;
    procore_record_exists(store, client, company, kind, procore_id).await?;
    store
        .set_mapping(company, kind, procore_id, decision)
        .await?;
    Ok(Mapped {
        kind,
        procore_id,
        decision,
    })
}

async fn procore_record_exists(
    store: &Store,
    client: &procore::Client,
    company: CompanyId,
    kind: ProcoreRecordKind,
    procore_id: i64,
) -> Result<(), MapError> {
    let (mirror, _) = Mirror::from_rows(&store.mirror(company).await?);
    let (seen, read) = match kind {
        ProcoreRecordKind::Project => (
            mirror.projects.contains_key(&procore_id),
            mirror.projects.len(),
        ),
        ProcoreRecordKind::Company => (
            mirror.vendors.contains_key(&procore_id),
            mirror.vendors.len(),
        ),
    };
    if seen {
        return Ok(());
    }
    let found = match kind {
        ProcoreRecordKind::Project => client
            .projects()
            .get(procore::ProjectId(procore_id))
            .await
            .map(|_| ()),
        ProcoreRecordKind::Company => client
            .vendors()
            .get(procore::VendorId(procore_id))
            .await
            .map(|_| ()),
    };
    match found {
        Ok(()) => Ok(()),
        Err(e) if e.status() == Some(404) => Err(MapError::NotInProcore {
            kind,
            procore_id,
            company,
            read,
        }),
        Err(source) => Err(MapError::Check {
            kind,
            procore_id,
            source,
        }),
    }
}
