use std::time::Duration;

use futures::TryStreamExt;
use procore::{Error, Method};
use procore_sim::{demo, generate, Faults, RateLimits, Sim, SimConfig};

use crate::{cc_client, count, demo_sim};

#[tokio::test]
async fn pacing_under_a_tight_spike_limit_reads_everything_without_a_single_429() {
    let app = demo_sim().await;
    app.sim().set_rate_limits(Some(RateLimits {
        hourly: 100_000,
        spike: 10,
        hourly_window: Duration::from_secs(3600),
        spike_window: Duration::from_secs(1),
    }));
    let client = cc_client(&app.url());
    let users = client.users().list().per_page(1).collect().await.unwrap();
    let vendors = client.vendors().list().per_page(1).collect().await.unwrap();
    let requests = app.sim().request_log().len();
    assert!(
        requests > 15,
        "the test must exceed one spike window ({requests} requests)"
    );
    assert_eq!(
        count(app.sim(), "GET", "/rest/") + count(app.sim(), "POST", "/oauth"),
        requests
    );
    let throttled = app
        .sim()
        .request_log()
        .iter()
        .filter(|e| e.status == 429)
        .count();
    assert_eq!(throttled, 0, "zero 429s");
    assert_eq!(client.stats().rate_limited, 0);
    assert!(!users.items.is_empty() && !vendors.items.is_empty());
}

#[tokio::test]
async fn a_429_storm_is_waited_out_and_the_list_completes() {
    let app = demo_sim().await;
    let client = cc_client(&app.url());
    client.me().await.unwrap();
    app.sim().set_faults(Faults {
        storm_429: 2,
        ..Faults::default()
    });
    let projects = client.projects().list().collect().await.unwrap();
    assert!(!projects.items.is_empty());
    assert_eq!(
        app.sim()
            .request_log()
            .iter()
            .filter(|e| e.status == 429)
            .count(),
        2
    );
    assert_eq!(client.stats().rate_limited, 2);
}

#[tokio::test]
async fn server_errors_and_503s_on_reads_are_retried_until_the_answer_arrives() {
    let app = demo_sim().await;
    let client = cc_client(&app.url());
    client.me().await.unwrap();
    app.sim().set_faults(Faults {
        error_rate: 0.5,
        ..Faults::default()
    });
    let users = client.users().list().per_page(2).collect().await.unwrap();
    app.sim().set_faults(Faults::default());
    let clean = client.users().list().collect().await.unwrap();
    assert_eq!(users.items.len(), clean.items.len());
    let log = app.sim().request_log();
    assert!(log.iter().any(|e| e.status >= 500), "faults were injected");
    assert!(client.stats().retries > 0);
}

#[tokio::test]
async fn a_call_without_the_company_header_is_a_typed_error() {
    let app = demo_sim().await;
    let client = cc_client(&app.url());
    let err = client
        .raw(Method::GET, "rest/v1.0/projects")
        .query("company_id", demo::COMPANY_ID)
        .without_company_header()
        .send()
        .await
        .unwrap_err();
    assert!(err.is_missing_company_header(), "{err:?}");
    assert_eq!(err.status(), Some(400));
    assert!(!err.is_retryable());
    let with_header = client
        .raw(Method::GET, "rest/v1.0/projects")
        .query("company_id", demo::COMPANY_ID)
        .send()
        .await;
    assert!(with_header.is_ok());
}

#[tokio::test]
async fn a_write_whose_answer_is_lost_reports_an_unknown_outcome_instead_of_writing_twice() {
    let app = demo_sim().await;
    let client = cc_client(&app.url());
    let project = client
        .projects()
        .list()
        .stream()
        .try_next()
        .await
        .unwrap()
        .unwrap();
    let folders_before = app.sim().read(|w| w.folders.len());
    app.sim().set_faults(Faults {
        drop_after_write_rate: 1.0,
        ..Faults::default()
    });
    let err = client
        .documents(project.id)
        .create_folder(None, "Lost answer")
        .await
        .unwrap_err();
    assert!(matches!(err, Error::WriteOutcomeUnknown { .. }), "{err:?}");
    assert!(!err.is_retryable());
    assert_eq!(
        count(app.sim(), "POST", "/rest/v1.0/folders"),
        1,
        "sent once, not retried"
    );
    assert_eq!(app.sim().read(|w| w.folders.len()), folders_before + 1);
}

#[tokio::test]
async fn a_full_listing_under_a_20_percent_fault_rate_yields_every_record_exactly_once() {
    let sizes = generate::Sizes {
        projects: 250,
        users: 2500,
        vendors: 600,
        commitments_per_project: 1,
    };
    let app = procore_sim::spawn(Sim::new(
        generate::world(7, sizes),
        SimConfig {
            rate_limits: None,
            ..SimConfig::default()
        },
    ))
    .await;
    let client = cc_client(&app.url());
    client.me().await.unwrap();
    app.sim().set_faults(Faults {
        error_rate: 0.2,
        truncate_rate: 0.2,
        ..Faults::default()
    });

    let mut users: Vec<i64> = client
        .users()
        .list()
        .per_page(250)
        .collect()
        .await
        .unwrap()
        .items
        .iter()
        .map(|u| u.id.get())
        .collect();
    users.extend(
        client
            .users()
            .list_inactive()
            .per_page(250)
            .collect()
            .await
            .unwrap()
            .items
            .iter()
            .map(|u| u.id.get()),
    );
    let mut vendors: Vec<i64> = client
        .vendors()
        .list()
        .per_page(100)
        .collect()
        .await
        .unwrap()
        .items
        .iter()
        .map(|v| v.id.get())
        .collect();
    vendors.extend(
        client
            .vendors()
            .list_inactive()
            .per_page(100)
            .collect()
            .await
            .unwrap()
            .items
            .iter()
            .map(|v| v.id.get()),
    );
    let mut projects: Vec<i64> = client
        .projects()
        .list()
        .status(procore::api::projects::ProjectStatus::All)
        .into_list()
        .per_page(50)
        .collect()
        .await
        .unwrap()
        .items
        .iter()
        .map(|p| p.id.get())
        .collect();

    let log = app.sim().request_log();
    assert!(
        log.iter().any(|e| e.fault.is_some()),
        "faults were injected"
    );

    let (want_users, want_vendors, want_projects) = app.sim().read(|w| {
        let cid = demo::COMPANY_ID;
        let permitted = &w.apps[demo::CLIENT_ID].installations[&cid].permitted_projects;
        (
            w.users
                .values()
                .filter(|u| u.company_id == cid)
                .map(|u| u.id)
                .collect::<Vec<_>>(),
            w.vendors
                .values()
                .filter(|v| v.company_id == cid)
                .map(|v| v.id)
                .collect::<Vec<_>>(),
            w.projects
                .values()
                .filter(|p| p.company_id == cid && permitted.contains(&p.id))
                .map(|p| p.id)
                .collect::<Vec<_>>(),
        )
    });
    for (name, got, want) in [
        ("users", &mut users, want_users),
        ("vendors", &mut vendors, want_vendors),
        ("projects", &mut projects, want_projects),
    ] {
        let n = got.len();
        got.sort_unstable();
        got.dedup();
        assert_eq!(got.len(), n, "{name}: no record twice");
        let mut want = want;
        want.sort_unstable();
        assert_eq!(*got, want, "{name}: exactly the simulator's records");
    }
}
