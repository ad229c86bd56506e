//! `trestle connect` with the real binary: connecting again keeps the saved toggles unless a
//! flag changes them.

use common::{spawn_demo_sim, Setup};
use procore_sim::demo;

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
