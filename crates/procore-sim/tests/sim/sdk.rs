//! Procore's official JavaScript SDK (`@procore/js-sdk`, from npm) against the simulator with
//! only its base URL changed: sign in through the authorization-code flow, list projects,
//! users and vendors, create a folder. The SDK is installed by `npm ci` in `tests/sdk/`
//! (`.ci/run` does it, and the test does it itself when it finds it missing, so the README's test
//! command works on a fresh machine); the script it runs is `tests/sdk/drive.js`.

use std::collections::BTreeMap;
use std::path::PathBuf;

use procore_sim::demo;
use serde_json::Value;

use crate::helpers::start;

fn sdk_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/sdk")
}

/// Installs the SDK in `dir` with `npm ci` (from the committed lockfile) unless it is there.
/// A failed install fails the test, naming the command to run by hand: a missing SDK is a setup
/// step left out, not a pass.
fn ensure_installed(dir: &std::path::Path) -> Result<(), String> {
    if dir
        .join("node_modules/@procore/js-sdk/package.json")
        .exists()
    {
        return Ok(());
    }
    let how = format!("run `npm ci --prefix {}`", dir.display());
    let out = std::process::Command::new("npm")
        .args([
            "ci",
            "--no-audit",
            "--no-fund",
            "--loglevel=error",
            "--prefix",
        ])
        .arg(dir)
        .output()
        .map_err(|e| {
            format!("Procore's JavaScript SDK is not installed and npm did not start ({e}): {how}")
        })?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "Procore's JavaScript SDK is not installed and `npm ci` failed ({}): {how}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

/// Runs `drive.js` against `base` and returns its steps by name.
async fn drive(base: String) -> BTreeMap<String, Value> {
    let dir = sdk_dir();
    if let Err(e) = ensure_installed(&dir) {
        panic!("{e}");
    }
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new("node")
            .current_dir(&dir)
            .arg("drive.js")
            .arg(base)
            .arg(demo::USER_APP_CLIENT_ID)
            .arg(demo::USER_APP_CLIENT_SECRET)
            .arg(demo::REDIRECT_URI)
            .arg(demo::COMPANY_ID.to_string())
            .output()
    })
    .await
    .expect("the node process is awaited")
    .expect("node runs (Node.js is on the PATH)");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "the SDK script failed: {}\nstdout:\n{stdout}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).expect("each line the script prints is JSON"))
        .map(|v| (v["step"].as_str().unwrap_or_default().to_owned(), v))
        .collect()
}

fn names(v: &Value) -> Vec<String> {
    v.as_array()
        .into_iter()
        .flatten()
        .filter_map(|n| n.as_str().map(str::to_owned))
        .collect()
}

#[tokio::test]
async fn procores_javascript_sdk_signs_in_lists_the_directory_and_creates_a_folder() {
    let t = start().await;
    let steps = drive(t.run.url()).await;

    assert_eq!(steps["authorize"]["status"], 302);
    assert_eq!(steps["token"]["token_type"], "bearer");
    assert_eq!(steps["token"]["has_refresh"], true);
    assert_eq!(steps["companies"]["ids"][0], demo::COMPANY_ID);

    // Projects: the active ones the app may see, as the simulator holds them.
    let mut projects = names(&steps["projects"]["names"]);
    projects.sort();
    let mut permitted = t.sim().read(|w| {
        w.apps[demo::USER_APP_CLIENT_ID].installations[&demo::COMPANY_ID]
            .permitted_projects
            .iter()
            .filter_map(|id| w.projects.get(id))
            .filter(|p| p.active)
            .map(|p| p.name.clone())
            .collect::<Vec<_>>()
    });
    permitted.sort();
    assert_eq!(projects, permitted);
    assert!(projects.iter().any(|n| n == "Harbor Tower"), "{projects:?}");

    // Users and vendors: the active ones, as the simulator holds them.
    let (active_users, active_vendors) = t.sim().read(|w| {
        let users = w
            .users
            .values()
            .filter(|u| u.company_id == demo::COMPANY_ID && u.is_active)
            .count();
        let mut vendors: Vec<String> = w
            .vendors
            .values()
            .filter(|v| v.company_id == demo::COMPANY_ID && v.is_active)
            .map(|v| v.name.clone())
            .collect();
        vendors.sort();
        (users, vendors)
    });
    assert_eq!(steps["users"]["total"], active_users);
    assert_eq!(steps["users_v11"]["count"], active_users);
    let mut vendors = names(&steps["vendors"]["names"]);
    vendors.sort();
    assert_eq!(vendors, active_vendors);

    // The project directory of the project the script chose.
    let harbor = t.project("Harbor Tower");
    assert_eq!(steps["project_users"]["project_id"], harbor);
    let on_project = t.sim().read(|w| w.project_directories[&harbor].users.len());
    assert_eq!(steps["project_users"]["count"], on_project);
    assert!(!names(&steps["project_vendors"]["names"]).is_empty());

    // The folder exists in the simulator, where the SDK said it made it, and the documents
    // index lists it.
    let created = &steps["create_folder"];
    assert_eq!(created["status"], 201);
    let id = created["id"].as_i64().expect("the created folder's id");
    let name = created["name"].as_str().expect("the created folder's name");
    let folder = t
        .sim()
        .read(|w| w.folders.get(&id).cloned())
        .expect("the folder the SDK created exists in the simulator");
    assert_eq!(folder.name, name);
    assert_eq!(folder.project_id, harbor);
    assert!(!folder.is_deleted);
    assert_eq!(steps["documents"]["ids"], serde_json::json!([id]));

    // Token refresh and revocation through the SDK.
    assert_eq!(steps["refresh"]["has_access"], true);
    assert_eq!(steps["revoke"]["revoked_token_status"], 401);
}

#[test]
fn an_sdk_install_that_fails_names_the_command_that_installs_it() {
    // A folder without a package.json: `npm ci` refuses it.
    let empty = tempfile::tempdir().unwrap();
    let err = ensure_installed(empty.path()).unwrap_err();
    assert!(err.contains("npm ci --prefix"), "{err}");
    assert!(err.contains(&empty.path().display().to_string()), "{err}");
}
