//! The one thing about a party that trestle, not Procore, decides: the profile of its global
//! compliance.

use super::{find_profile, RecordError};
use domain::compliance::{ComplianceProfile, Party, PartyId};
use store::{CompanyId, Store};

/// Gives `party` the profile named `profile` (exactly, or ignoring case when only one
/// matches), or none: its global compliance is then not tracked. Only the profile changes;
/// the fields Procore owns stay the sync's. Returns the profile given. With `as_read` (the
/// party as the caller read it), refused if its profile changed since.
///
/// # Errors
/// [`RecordError::NoProfiles`] or [`RecordError::NoProfile`]; the store's not-found for a
/// party the company does not have; the store's changed.
pub async fn set_party_profile(
    store: &Store,
    company: CompanyId,
    party: PartyId,
    profile: Option<&str>,
    as_read: Option<&Party>,
) -> Result<Option<ComplianceProfile>, RecordError> {
    let profile = match profile {
        Some(name) => Some(find_profile(store, company, name).await?),
        None => None,
    };
    store
        .set_party_profile(company, party, profile.as_ref().map(|p| p.id), as_read)
        .await?;
    Ok(profile)
}
