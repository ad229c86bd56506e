//! `trestle token create|list|revoke` with the real binary: the REST API's tokens are shown
//! once, kept only as hashes, scoped, and stop working when revoked.

use chrono::Utc;
use common::{spawn_demo_sim, text, Setup};
use engine::tokens::{authenticate, Refused};
use procore_sim::demo;
use secrecy::SecretString;

mod common;

/// The token `trestle token create` printed: its line starting `trestle_`.
fn printed_token(stdout: &str) -> String {
    let tokens: Vec<&str> = stdout
        .lines()
        .filter(|l| l.starts_with("trestle_"))
        .collect();
    assert_eq!(tokens.len(), 1, "one token printed:\n{stdout}");
    tokens[0].to_string()
}

#[tokio::test]
async fn a_token_is_shown_once_kept_only_as_a_hash_and_refused_once_revoked() {
    let sim = spawn_demo_sim().await;
    let setup = Setup::new(&sim.url());
    let out = setup
        .ok(&["token", "create", "--name", "CI", "--scope", "admin"])
        .await;
    assert!(out.contains("cannot show it again"), "{out}");
    let token = printed_token(&out);

    let list = setup.ok(&["token", "list"]).await;
    assert!(list.contains("CI") && list.contains("admin"), "{list}");
    assert!(list.contains(&token[..14]), "the start is listed:\n{list}");
    assert!(!list.contains(&token), "the token itself is not:\n{list}");
    let on_disk = std::fs::read(setup.dir.path().join("trestle.sqlite")).unwrap();
    assert!(
        !on_disk.windows(token.len()).any(|w| w == token.as_bytes()),
        "the store holds no copy of the token"
    );

    let store = setup.store().await;
    let presented = SecretString::from(token.clone());
    let found = authenticate(&store, &presented, Utc::now())
        .await
        .unwrap()
        .expect("the new token is taken");
    assert_eq!(found.name, "CI");
    // One character in the middle changed to one it is not: a fixed last "A" was the token
    // itself 1 time in 64, and the last character carries padding bits that must stay zero.
    let middle = token.len() / 2;
    let other = if &token[middle..=middle] == "A" {
        "B"
    } else {
        "A"
    };
    let tampered = SecretString::from(format!(
        "{}{other}{}",
        &token[..middle],
        &token[middle + 1..]
    ));
    assert_eq!(
        authenticate(&store, &tampered, Utc::now()).await.unwrap(),
        Err(Refused::Unknown)
    );
    assert_eq!(
        authenticate(
            &store,
            &SecretString::from("Bearer abc".to_string()),
            Utc::now()
        )
        .await
        .unwrap(),
        Err(Refused::Malformed)
    );

    let out = setup.ok(&["token", "revoke", &found.id.to_string()]).await;
    assert!(out.contains("Revoked token"), "{out}");
    assert_eq!(
        authenticate(&store, &presented, Utc::now()).await.unwrap(),
        Err(Refused::Unknown)
    );
    let list = setup.ok(&["token", "list"]).await;
    assert!(
        list.contains("UTC"),
        "the revocation time is listed:\n{list}"
    );

    let again = setup
        .trestle(&["token", "revoke", &found.id.to_string()], None)
        .await;
    assert!(!again.status.success());
    assert!(text(&again).contains("revoked already"), "{}", text(&again));
    let unknown = setup.trestle(&["token", "revoke", "999"], None).await;
    assert!(!unknown.status.success());
    assert!(
        text(&unknown).contains("there is no token 999"),
        "{}",
        text(&unknown)
    );
}

#[tokio::test]
async fn a_worker_token_is_for_a_worker_the_company_has() {
    let sim = spawn_demo_sim().await;
    let setup = Setup::new(&sim.url());
    setup.connect(&[]).await;
    let company = demo::COMPANY_ID.to_string();

    let bare = setup
        .trestle(
            &["token", "create", "--name", "w", "--scope", "worker"],
            None,
        )
        .await;
    assert!(!bare.status.success());
    assert!(
        text(&bare).contains("--company-id N --worker ID"),
        "{}",
        text(&bare)
    );
    let admin_with_worker = setup
        .trestle(
            &[
                "token", "create", "--name", "a", "--scope", "admin", "--worker", "1",
            ],
            None,
        )
        .await;
    assert!(!admin_with_worker.status.success());
    assert!(
        text(&admin_with_worker).contains("for worker tokens only"),
        "{}",
        text(&admin_with_worker)
    );
    let missing = setup
        .trestle(
            &[
                "token",
                "create",
                "--name",
                "w",
                "--scope",
                "worker",
                "--company-id",
                &company,
                "--worker",
                "999999",
            ],
            None,
        )
        .await;
    assert!(!missing.status.success());
    assert!(
        text(&missing).contains("has no worker 999999"),
        "{}",
        text(&missing)
    );

    let store = setup.store().await;
    let worker = store.workers(demo::COMPANY_ID).await.unwrap()[0].id;
    let out = setup
        .ok(&[
            "token",
            "create",
            "--name",
            "Maria's phone",
            "--scope",
            "worker",
            "--company-id",
            &company,
            "--worker",
            &worker.to_string(),
        ])
        .await;
    let token = printed_token(&out);
    let found = authenticate(&store, &SecretString::from(token), Utc::now())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        found.scope,
        store::ApiScope::Worker {
            company_id: demo::COMPANY_ID,
            worker_id: worker
        }
    );
    assert!(setup
        .ok(&["token", "list"])
        .await
        .contains(&format!("worker {worker} of company {company}")));
}
