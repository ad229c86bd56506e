//! `engine::hooks` and `engine::status`: the webhook a connect registers, and how the status
//! reads it back.

use crate::support::{request, App};
use engine::connect::{connect, ConnectRequest};
use engine::hooks::HookOutcome;
use procore_sim::demo;

const PUBLIC_URL: &str = "https://trestle.example.com/base/";

fn destination() -> String {
    format!(
        "https://trestle.example.com/base/webhooks/procore/{}",
        demo::COMPANY_ID
    )
}

#[tokio::test]
async fn a_connect_registers_the_hook_only_when_a_public_url_says_where_procore_delivers() {
    let mut app = App::new().await;
    let connected = connect(&app.settings, &app.store, request()).await.unwrap();
    assert_eq!(connected.webhook, Some(HookOutcome::NoPublicUrl));
    let check = ConnectRequest {
        check_only: true,
        as_read: None,
        keep_credentials: false,
        ..request()
    };
    let checked = connect(&app.settings, &app.store, check).await.unwrap();
    assert_eq!(checked.webhook, None, "a check only touches nothing");

    app.settings.server.public_url = Some(PUBLIC_URL.parse().unwrap());
    let connected = connect(&app.settings, &app.store, request()).await.unwrap();
    let Some(HookOutcome::InPlace {
        destination_url,
        report,
    }) = connected.webhook
    else {
        panic!("the hook is in place: {:?}", connected.webhook);
    };
    assert_eq!(destination_url, destination());
    assert!(report.created && !report.triggers_added.is_empty());
    let in_procore = app.sim.sim().read(|w| {
        w.hooks
            .values()
            .map(|h| h.destination_url.clone())
            .collect::<Vec<_>>()
    });
    assert_eq!(in_procore, vec![destination()]);

    let again = connect(&app.settings, &app.store, request()).await.unwrap();
    let Some(HookOutcome::InPlace { report, .. }) = again.webhook else {
        panic!("{:?}", again.webhook);
    };
    assert!(!report.repaired(), "nothing to change the second time");

    let public_url = app.settings.server.public_url.as_ref().map(|u| u.as_str());
    let status = engine::status::status(public_url, &app.store, None)
        .await
        .unwrap();
    assert_eq!(status.len(), 1);
    assert!(status[0].webhook.in_place(), "{:?}", status[0].webhook);
    assert!(status[0]
        .webhook
        .registered
        .as_ref()
        .unwrap()
        .checked_at
        .is_some());
}
