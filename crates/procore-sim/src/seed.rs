//! Loading worlds from JSON seed files.
//!
//! The seed format is the serde form of [`World`] (the same JSON `GET /_sim/state` returns
//! and `--state-file` persists); every field has a default, so a hand-written seed needs only
//! what it uses. See `docs/procore-fidelity.md` for an example.

use std::path::{Path, PathBuf};

use crate::World;

/// Why a seed could not be loaded or saved.
#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    #[error("cannot read or write {0}: {1}")]
    Io(PathBuf, #[source] std::io::Error),
    #[error("invalid seed JSON: {0}")]
    Json(#[from] serde_json::Error),
}

/// Reads a seed (or saved state) file and normalizes it.
pub fn load(path: impl AsRef<Path>) -> Result<World, SeedError> {
    let path = path.as_ref();
    let bytes = std::fs::read(path).map_err(|e| SeedError::Io(path.to_owned(), e))?;
    from_json(&bytes)
}

/// Parses seed JSON and normalizes it.
pub fn from_json(bytes: &[u8]) -> Result<World, SeedError> {
    let mut w: World = serde_json::from_slice(bytes)?;
    w.normalize();
    Ok(w)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minimal_seed_gets_root_folders_and_service_accounts() {
        let json = br#"{
            "companies": {"7": {"id": 7, "name": "Acme", "is_active": true}},
            "apps": {"cid": {"id": 50, "name": "Test App", "client_id": "cid", "client_secret": "s",
                              "installations": {"7": {"permitted_projects": [10]}}}},
            "projects": {"10": {"id": 10, "company_id": 7, "name": "P", "active": true}}
        }"#;
        let w = from_json(json).unwrap();
        assert!(w
            .folders
            .values()
            .any(|f| f.project_id == 10 && f.parent_id.is_none()));
        let sa = w.apps["cid"].installations[&7].service_user_id;
        assert_eq!(w.users[&sa].service_account_of.as_deref(), Some("cid"));
    }

    #[test]
    fn world_round_trips_through_json() {
        let w = crate::demo::world();
        let back = from_json(&serde_json::to_vec(&w).unwrap()).unwrap();
        assert_eq!(
            serde_json::to_value(&w).unwrap(),
            serde_json::to_value(&back).unwrap()
        );
    }
}
