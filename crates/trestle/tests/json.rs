//! `--json`: every command that prints a view prints it as JSON in the REST API's shapes, for
//! scripts.

mod common;

use common::Setup;
use serde_json::Value;

fn json_of(out: &str) -> Value {
    serde_json::from_str(out).unwrap_or_else(|e| panic!("not JSON ({e}): {out}"))
}

#[tokio::test]
async fn the_views_print_json_in_the_apis_shapes() {
    let running = common::spawn_demo_sim().await;
    let sim = running.sim();
    let setup = Setup::new(&running.url());
    setup.connect(&[]).await;
    let (acme, _) = setup.with_compliance(sim).await;
    setup.sync("compliance").await;

    let status = json_of(&setup.ok(&["status", "--json"]).await);
    assert_eq!(
        status[0]["company_id"],
        procore_sim::demo::COMPANY_ID,
        "{status}"
    );
    assert!(status[0]["problems"].is_array() && status[0]["queue"]["pending"].is_u64());

    let jobs = json_of(&setup.ok(&["jobs", "--json"]).await);
    assert!(jobs.is_array(), "{jobs}");

    let parties = json_of(&setup.ok(&["compliance", "parties", "--json"]).await);
    let acme_row = parties
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["procore_vendor_id"] == acme)
        .unwrap_or_else(|| panic!("{parties}"));
    assert_eq!(acme_row["name"], "Acme Electric");
    assert!(acme_row["status"].is_string());

    let projects = json_of(&setup.ok(&["compliance", "projects", "--json"]).await);
    assert!(projects
        .as_array()
        .unwrap()
        .iter()
        .any(|p| p["name"] == "Harbor Tower"));
    let mappings = json_of(&setup.ok(&["compliance", "mappings", "--json"]).await);
    assert!(mappings
        .as_array()
        .unwrap()
        .iter()
        .all(|m| m["state"].is_string() && m["decision"].is_string() && m["kind"].is_string()));
    let settings = json_of(&setup.ok(&["compliance", "settings", "--json"]).await);
    assert_eq!(settings["new_projects"], "import_automatically");

    let explained = json_of(
        &setup
            .ok(&["explain", "procore-company", &acme.to_string(), "--json"])
            .await,
    );
    assert_eq!(explained["kind"], "procore-company");
    assert_eq!(explained["id"], acme);
    assert!(explained["history"]
        .as_array()
        .is_some_and(|h| !h.is_empty()));
}
