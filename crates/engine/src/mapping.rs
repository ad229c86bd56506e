//! A person's decision about a Procore project or company before it reaches the compliance
//! side (TrustLayer's mapping screen): import it, link it to an existing record, or never add
//! it. The next compliance sync carries the decision out.

use serde::Serialize;
use store::{CompanyId, MappingDecision, ProcoreRecordKind, Store, StoreError};
use sync::compliance::collect::Mirror;

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
    #[error(transparent)]
    Store(#[from] StoreError),
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
    if let MappingDecision::LinkTo(id) = decision {
        let exists = match kind {
            ProcoreRecordKind::Project => store
                .compliance_project(company, domain::compliance::ProjectId(id))
                .await?
                .is_some(),
            ProcoreRecordKind::Company => store
                .party(company, domain::compliance::PartyId(id))
                .await?
                .is_some(),
        };
        if !exists {
            return Err(MapError::NoSuchRecord { kind, id });
        }
    }
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
