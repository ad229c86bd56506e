//! `trestle workforce ...`, the real binary: a clash the sync reports is listed, previewed and
//! decided from the terminal, the next sync applies it, and an administrator's actions on a
//! worker stick; `--json` prints the REST API's shapes.

mod common;

use common::Setup;
use domain::workforce::{Activation, ProjectFields, ProjectStatus, WorkerFields};
use procore_sim::demo;
use serde_json::{json, Value};

async fn ui_create(sim_url: &str, what: &str, body: Value) {
    let resp = reqwest::Client::new()
        .post(format!(
            "{sim_url}/_sim/companies/{}/{what}",
            demo::COMPANY_ID
        ))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_success(), "{resp:?}");
}

fn json_of(out: &str) -> Value {
    serde_json::from_str(out).unwrap_or_else(|e| panic!("not JSON ({e}): {out}"))
}

#[tokio::test]
async fn a_project_clash_is_listed_previewed_and_linked_from_the_terminal_and_the_next_sync_applies_it(
) {
    let running = common::spawn_demo_sim().await;
    let setup = Setup::new(&running.url());
    setup.connect(&[]).await;
    let store = setup.store().await;
    let ours = store
        .create_project(
            demo::COMPANY_ID,
            &ProjectFields {
                name: "Dock 4 (ours)".into(),
                project_number: Some("D-4".into()),
                ..ProjectFields::default()
            },
            ProjectStatus::Active,
        )
        .await
        .unwrap();
    ui_create(
        &running.url(),
        "projects",
        json!({"name": "Dock 4", "project_number": "D-4"}),
    )
    .await;
    setup.sync("workforce").await;

    let waiting = json_of(&setup.ok(&["workforce", "waiting", "--json"]).await);
    let clash = waiting
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["key"] == "D-4")
        .unwrap_or_else(|| panic!("{waiting}"))
        .clone();
    assert_eq!(clash["clashes_with"], ours);
    let procore = clash["procore_id"].to_string();
    let to = ours.to_string();

    let text = setup
        .ok(&[
            "workforce",
            "decide",
            "project",
            &procore,
            "link",
            "--to",
            &to,
            "--preview",
        ])
        .await;
    assert!(text.contains("Would: links Procore project"), "{text}");
    assert!(text.contains("name: Dock 4 (ours) -> Dock 4"), "{text}");
    let refused = setup
        .trestle(&["workforce", "decide", "project", &procore, "link"], None)
        .await;
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("a link needs --to"),
        "{refused:?}"
    );

    let decided = json_of(
        &setup
            .ok(&[
                "workforce",
                "decide",
                "project",
                &procore,
                "link",
                "--to",
                &to,
                "--json",
            ])
            .await,
    );
    assert!(decided["job_id"].is_i64(), "{decided}");
    assert_eq!(decided["preview"]["decision"], "link");
    setup.sync("workforce").await;
    let project = store
        .project(demo::COMPANY_ID, ours)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(project.fields.name, "Dock 4");
    assert_eq!(
        json_of(&setup.ok(&["workforce", "waiting", "--json"]).await),
        json!([])
    );
    let again = setup
        .trestle(
            &["workforce", "decide", "project", &procore, "ignore"],
            None,
        )
        .await;
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("`trestle workforce waiting` lists"),
        "{again:?}"
    );
}

#[tokio::test]
async fn an_administrator_activates_and_blocks_a_worker_from_the_terminal_and_a_sync_keeps_the_block(
) {
    let running = common::spawn_demo_sim().await;
    let setup = Setup::new(&running.url());
    setup.connect(&[]).await;
    let store = setup.store().await;
    let id = store
        .create_worker(
            demo::COMPANY_ID,
            &WorkerFields {
                first_name: "Kiosk".into(),
                last_name: "Only".into(),
                ..WorkerFields::default()
            },
            Activation::PendingAccountActivation,
            false,
        )
        .await
        .unwrap()
        .to_string();
    let activated = json_of(&setup.ok(&["workforce", "activate", &id, "--json"]).await);
    assert_eq!(
        activated["status"], "active_for_kiosk",
        "without an email a worker can only use a kiosk"
    );
    let twice = setup.trestle(&["workforce", "activate", &id], None).await;
    assert!(String::from_utf8_lossy(&twice.stderr)
        .contains("only a worker in Pending Account Activation"));

    // A synced worker blocked by hand stays blocked through a whole sync.
    let listed = json_of(
        &setup
            .ok(&[
                "workforce",
                "workers",
                "--status",
                "pending_account_activation",
                "--json",
            ])
            .await,
    );
    let synced = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["procore_user_id"].is_i64())
        .unwrap_or_else(|| panic!("{listed}"))["id"]
        .to_string();
    let blocked = json_of(&setup.ok(&["workforce", "block", &synced, "--json"]).await);
    assert_eq!(blocked["blocked_by_admin"], true);
    setup.ok(&["sync", "workforce", "--full"]).await;
    let text = setup
        .ok(&["workforce", "workers", "--status", "blocked"])
        .await;
    assert!(
        text.lines()
            .any(|l| l.trim_start().starts_with(&format!("{synced} "))
                && l.contains("(by an administrator)")),
        "{text}"
    );
    let bad = setup
        .trestle(&["workforce", "workers", "--status", "asleep"], None)
        .await;
    assert!(String::from_utf8_lossy(&bad.stderr).contains("use pending_account_activation"));
}
