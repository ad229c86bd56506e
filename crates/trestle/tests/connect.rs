//! `trestle connect` with the real binary: connecting again keeps the saved toggles unless a
//! flag changes them.

use common::{spawn_demo_sim, text, Setup};
use procore_sim::demo;
use procore_sim::world::{Level, Permissions};

mod common;

#[tokio::test]
async fn connecting_again_keeps_the_saved_toggles_unless_a_flag_changes_them() {
    let sim = spawn_demo_sim().await;
    let setup = Setup::new(&sim.url());
    setup
        .connect(&[
            "--no-sync",
            "--sync-forms",
            "--forms-folder",
            "06 Safety Forms",
        ])
        .await;
    // Connecting again, as when rotating the client secret: no toggles given.
    setup.connect(&["--no-sync"]).await;
    let saved = setup
        .store()
        .await
        .connection(demo::COMPANY_ID)
        .await
        .unwrap()
        .unwrap();
    assert!(saved.sync_forms, "Sync Forms to Procore stayed on");
    assert_eq!(saved.forms_folder, "06 Safety Forms");
    assert!(!saved.auto_activate_workers);

    setup
        .connect(&["--no-sync", "--sync-forms=false", "--auto-activate-workers"])
        .await;
    let saved = setup
        .store()
        .await
        .connection(demo::COMPANY_ID)
        .await
        .unwrap()
        .unwrap();
    assert!(!saved.sync_forms, "an explicit false turns it off");
    assert!(saved.auto_activate_workers);
}

#[tokio::test]
async fn the_authorization_code_grant_connects_with_a_code_and_keeps_its_tokens_in_the_store() {
    let sim = spawn_demo_sim().await;
    let setup = Setup::new(&sim.url());
    let toml = std::fs::read_to_string(&setup.config).unwrap().replace(
        &format!("client_id = \"{}\"", demo::CLIENT_ID),
        &format!(
            "client_id = \"{}\"\ngrant = \"authorization_code\"\nredirect_uri = \"{}\"",
            demo::USER_APP_CLIENT_ID,
            demo::REDIRECT_URI
        ),
    );
    std::fs::write(&setup.config, toml).unwrap();
    let secret = setup.dir.path().join("user-app.secret");
    std::fs::write(&secret, demo::USER_APP_CLIENT_SECRET).unwrap();
    let secret = secret.display().to_string();
    let company = demo::COMPANY_ID.to_string();
    let connect = |code: Option<String>| {
        let mut args = vec![
            "connect".to_string(),
            "--company-id".into(),
            company.clone(),
            "--client-id".into(),
            demo::USER_APP_CLIENT_ID.into(),
            "--client-secret-file".into(),
            secret.clone(),
            "--no-sync".into(),
        ];
        if let Some(code) = code {
            args.extend(["--auth-code".into(), code]);
        }
        args
    };

    // Not authorized yet: refused, with the URL a person opens.
    let args = connect(None);
    let out = setup
        .trestle(&args.iter().map(String::as_str).collect::<Vec<_>>(), None)
        .await;
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("/oauth/authorize?"), "{stderr}");

    // The person approves; Procore redirects to the app with a code.
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let answer = http
        .get(format!("{}/oauth/authorize", sim.url()))
        .query(&[
            ("response_type", "code"),
            ("client_id", demo::USER_APP_CLIENT_ID),
            ("redirect_uri", demo::REDIRECT_URI),
        ])
        .send()
        .await
        .unwrap();
    let location = answer.headers()["location"].to_str().unwrap().to_string();
    let code = url::Url::parse(&location)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "code")
        .map(|(_, v)| v.into_owned())
        .expect("a code in the redirect");

    let args = connect(Some(code));
    setup
        .ok(&args.iter().map(String::as_str).collect::<Vec<_>>())
        .await;
    let store = setup.store().await;
    assert!(
        store.load_tokens(demo::COMPANY_ID).await.unwrap().is_some(),
        "the token pair is kept, sealed, in the store"
    );
    // Later commands run on the stored tokens.
    setup.ok(&["sync", "workforce", "--dry-run"]).await;
}

fn connect_args<'a>(company: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec![
        "connect",
        "--company-id",
        company,
        "--client-id",
        demo::CLIENT_ID,
    ];
    args.extend_from_slice(extra);
    args
}

fn set_permissions(sim: &procore_sim::Sim, change: impl FnOnce(&mut Permissions)) {
    sim.write(|w| {
        change(
            &mut w
                .apps
                .get_mut(demo::CLIENT_ID)
                .unwrap()
                .installations
                .get_mut(&demo::COMPANY_ID)
                .unwrap()
                .permissions,
        )
    })
}

#[tokio::test]
async fn a_wrong_secret_says_the_sign_in_failed_not_that_permissions_are_missing() {
    let sim = spawn_demo_sim().await;
    let setup = Setup::new(&sim.url());
    let secret = setup.dir.path().join("wrong.secret");
    std::fs::write(&secret, "not-the-secret").unwrap();
    let secret = secret.display().to_string();
    let company = demo::COMPANY_ID.to_string();
    let out = setup
        .trestle(
            &connect_args(&company, &["--client-secret-file", &secret, "--no-sync"]),
            None,
        )
        .await;
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("signing in to Procore failed")
            && stderr.contains("check the client id and the client secret"),
        "{}",
        text(&out)
    );
    assert!(!stderr.contains("permissions are missing"), "{stderr}");
}

#[tokio::test]
async fn an_unreachable_procore_says_it_could_not_be_reached() {
    // A port nobody listens on.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let setup = Setup::new(&url);
    let company = demo::COMPANY_ID.to_string();
    let out = setup
        .trestle(&connect_args(&company, &["--no-sync"]), None)
        .await;
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("Procore could not be reached") && stderr.contains("check the network"),
        "{}",
        text(&out)
    );
    assert!(!stderr.contains("permissions are missing"), "{stderr}");
}

#[tokio::test]
async fn a_wrong_company_id_says_to_check_the_company_id() {
    let sim = spawn_demo_sim().await;
    let setup = Setup::new(&sim.url());
    let wrong = (demo::COMPANY_ID + 1).to_string();
    let out = setup
        .trestle(&connect_args(&wrong, &["--no-sync"]), None)
        .await;
    assert!(!out.status.success());
    let all = text(&out);
    assert!(all.contains("Check the Company ID"), "{all}");
    assert!(all.contains("check the Company ID"), "{all}");
    assert!(!all.contains("permissions are missing"), "{all}");
}

#[tokio::test]
async fn connecting_again_to_change_a_toggle_announces_a_sync_not_the_initial_sync() {
    let sim = spawn_demo_sim().await;
    let setup = Setup::new(&sim.url());
    let company = demo::COMPANY_ID.to_string();
    let first = setup.ok(&connect_args(&company, &[])).await;
    assert!(first.contains("Initial sync:"), "{first}");
    let again = setup
        .ok(&connect_args(&company, &["--sync-employees-only"]))
        .await;
    assert!(!again.contains("Initial sync"), "{again}");
    assert!(again.contains("\nSync:"), "{again}");
}

#[tokio::test]
async fn a_permission_removed_after_connecting_is_reported_once() {
    let sim = spawn_demo_sim().await;
    let setup = Setup::new(&sim.url());
    setup.connect(&["--no-sync"]).await;
    set_permissions(sim.sim(), |p| p.directory = Level::None);
    let out = setup.trestle(&["sync", "workforce"], None).await;
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        stderr.matches("Procore answered 403").count(),
        1,
        "the message once: {stderr}"
    );
}

#[tokio::test]
async fn connect_reports_what_compliance_lacks_and_with_compliance_refuses_to_connect() {
    let sim = spawn_demo_sim().await;
    let setup = Setup::new(&sim.url());
    set_permissions(sim.sim(), |p| {
        p.commitments = Level::None;
        p.insurances = Level::ReadOnly;
    });
    let insurances_before = sim.sim().read(|w| w.insurances.len());
    let company = demo::COMPANY_ID.to_string();
    // The workforce side has all it needs: connect succeeds and says what compliance lacks.
    let out = setup.ok(&connect_args(&company, &["--no-sync"])).await;
    assert!(
        out.contains("[MISSING] read commitments (Commitments tool)")
            && out.contains("[MISSING] write insurance records")
            && out.contains("`trestle sync compliance` will fail"),
        "{out}"
    );
    assert!(
        out.contains("[ok] read the company directory (companies)"),
        "{out}"
    );

    let out = setup
        .trestle(
            &connect_args(&company, &["--no-sync", "--compliance"]),
            None,
        )
        .await;
    assert!(!out.status.success(), "{}", text(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("some permissions are missing (above) for the compliance integration"),
        "{}",
        text(&out)
    );
    assert_eq!(
        sim.sim().read(|w| w.insurances.len()),
        insurances_before,
        "the insurance check wrote nothing"
    );
}

#[tokio::test]
async fn explain_says_why_another_apps_service_account_is_not_a_worker() {
    let sim = spawn_demo_sim().await;
    let setup = Setup::new(&sim.url());
    setup.connect(&[]).await;
    let web = sim.sim().read(|w| {
        w.apps[demo::USER_APP_CLIENT_ID].installations[&demo::COMPANY_ID].service_user_id
    });
    let out = setup
        .ok(&["explain", "procore-user", &web.to_string()])
        .await;
    assert!(
        out.contains("Procore marks the user as a service account"),
        "{out}"
    );
}

#[tokio::test]
async fn a_sync_of_a_company_not_connected_says_how_to_connect_it() {
    let sim = spawn_demo_sim().await;
    let setup = Setup::new(&sim.url());
    let out = setup.trestle(&["sync", "workforce"], None).await;
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let company = demo::COMPANY_ID;
    assert!(
        stderr.contains(&format!(
            "Procore company {company} is not connected; run `trestle connect --company-id {company}` first"
        )),
        "{stderr}"
    );
}
