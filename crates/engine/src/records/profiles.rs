//! Saving a compliance profile, whole or by edits to its requirements, and removing one.

use super::{validate, RecordError};
use domain::compliance::{
    ComplianceData, ComplianceProfile, Currency, ProfileEdit, ProfileId,
    DEFAULT_EXPIRING_WITHIN_DAYS,
};
use store::{CompanyId, Store, StoreError};

/// Saves profile `name`: `whole` replaces it (or creates it) with the given one, then `edit`
/// adds or changes requirements; without `whole` the edit applies to the saved profile, or to a
/// new, empty one. Returns the profile as saved, with its id. With `as_read` (the profile as
/// the caller read it) the save is refused if it changed since; without it, the edit applies
/// to the profile as it is, so an edit made at the same moment is kept, not overwritten.
///
/// # Errors
/// [`RecordError::ProfileNameMismatch`] when `whole` is named otherwise, [`RecordError::Edit`]
/// when the edit cannot apply (or leaves no requirement), [`RecordError::Invalid`] when the
/// result fails the import's validation; the store's changed.
pub async fn set_profile(
    store: &Store,
    company: CompanyId,
    name: &str,
    whole: Option<ComplianceProfile>,
    edit: &ProfileEdit,
    as_read: Option<&ComplianceProfile>,
) -> Result<ComplianceProfile, RecordError> {
    if let Some(given) = whole.as_ref().filter(|g| g.name != name) {
        return Err(RecordError::ProfileNameMismatch {
            given: given.name.clone(),
            asked: name.to_owned(),
        });
    }
    let mut tries_left = store::TRIES_AGAIN;
    loop {
        let existing = match as_read {
            Some(p) => Some(p.clone()),
            None => store.profile_by_name(company, name).await?,
        };
        let mut profile = match (whole.clone(), &existing) {
            (Some(given), existing) => ComplianceProfile {
                id: existing.as_ref().map_or(ProfileId(0), |e| e.id),
                ..given
            },
            (None, Some(existing)) => existing.clone(),
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
        match store
            .upsert_profile(company, &profile, existing.as_ref())
            .await
        {
            Ok(id) => {
                profile.id = id;
                return Ok(profile);
            }
            Err(StoreError::Changed { .. } | StoreError::NotFound { .. })
                if as_read.is_none() && tries_left > 0 =>
            {
                tries_left -= 1;
            }
            Err(e) if as_read.is_none() => return Err(e.gave_up().into()),
            Err(e) => return Err(e.into()),
        }
    }
}

/// Removes the profile named `name`; with `as_read`, refused if it changed since the caller
/// read it.
///
/// # Errors
/// [`RecordError::NoProfileNamed`]; the store's conflict while a party or a party-project
/// still uses it; the store's changed.
pub async fn remove_profile(
    store: &Store,
    company: CompanyId,
    name: &str,
    as_read: Option<&ComplianceProfile>,
) -> Result<(), RecordError> {
    if store.remove_profile(company, name, as_read).await? {
        Ok(())
    } else {
        Err(RecordError::NoProfileNamed(name.to_owned()))
    }
}
