//! Saving a compliance profile, whole or by edits to its requirements, and removing one.

use super::{validate, RecordError};
use domain::compliance::{
    ComplianceData, ComplianceProfile, Currency, ProfileEdit, ProfileId,
    DEFAULT_EXPIRING_WITHIN_DAYS,
};
use store::{CompanyId, Store};

/// Saves profile `name`: `whole` replaces it (or creates it) with the given one, then `edit`
/// adds or changes requirements; without `whole` the edit applies to the saved profile, or to a
/// new, empty one. Returns the profile as saved, with its id.
///
/// # Errors
/// [`RecordError::ProfileNameMismatch`] when `whole` is named otherwise, [`RecordError::Edit`]
/// when the edit cannot apply (or leaves no requirement), [`RecordError::Invalid`] when the
/// result fails the import's validation.
pub async fn set_profile(
    store: &Store,
    company: CompanyId,
    name: &str,
    whole: Option<ComplianceProfile>,
    edit: &ProfileEdit,
) -> Result<ComplianceProfile, RecordError> {
    let existing = store.profile_by_name(company, name).await?;
    let mut profile = match (whole, existing) {
        (Some(given), _) if given.name != name => {
            return Err(RecordError::ProfileNameMismatch {
                given: given.name,
                asked: name.to_owned(),
            })
        }
        (Some(given), existing) => ComplianceProfile {
            id: existing.map_or(ProfileId(0), |e| e.id),
            ..given
        },
        (None, Some(existing)) => existing,
        (None, None) => ComplianceProfile {
            id: ProfileId(0),
            name: name.to_owned(),
            currency: Currency::default(),
            expiring_within_days: DEFAULT_EXPIRING_WITHIN_DAYS,
            requirements: Vec::new(),
        },
    };
    edit.apply(&mut profile)?;
    validate(ComplianceData {
        profiles: vec![profile.clone()],
        ..Default::default()
    })?;
    profile.id = store.upsert_profile(company, &profile).await?;
    Ok(profile)
}

/// Removes the profile named `name`.
///
/// # Errors
/// [`RecordError::NoProfileNamed`]; the store's conflict while a party or a party-project
/// still uses it.
pub async fn remove_profile(
    store: &Store,
    company: CompanyId,
    name: &str,
) -> Result<(), RecordError> {
    if store.remove_profile(company, name).await? {
        Ok(())
    } else {
        Err(RecordError::NoProfileNamed(name.to_owned()))
    }
}
