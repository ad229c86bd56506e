//! Webhooks: registered at the server's address, received only with the company's secret,
//! stored once however often Procore delivers them, and turned into the reads that bring the
//! change into the app with no command run.

use crate::harness::{eventually, App, PATIENCE};
use serde_json::json;

#[tokio::test]
async fn the_hook_is_registered_with_triggers_for_what_the_workforce_integration_reads() {
    let app = App::start().await;
    let (destination, resources) = app.kit.sim().read(|w| {
        let hook = w
            .hooks
            .values()
            .find(|h| h.namespace.as_deref() == Some("trestle"))
            .unwrap();
        let mut resources: Vec<String> = w
            .triggers
            .values()
            .filter(|t| t.hook_id == hook.id)
            .map(|t| format!("{} {}", t.resource_name, t.event_type))
            .collect();
        resources.sort();
        (hook.destination_url.clone(), resources)
    });
    assert_eq!(
        destination,
        format!("{}/webhooks/procore/{}", app.url(), app.kit.company)
    );
    assert_eq!(
        resources,
        [
            "Company Users create",
            "Company Users delete",
            "Company Users update",
            "Projects create",
            "Projects delete",
            "Projects update"
        ]
    );
    app.stop().await;
}

#[tokio::test]
async fn a_user_edited_in_procore_updates_the_worker_with_no_command_run() {
    let app = App::start().await;
    let pat = app.kit.procore_user("Alvarez");
    assert_ne!(
        app.worker_first_name(pat).await.as_deref(),
        Some("Patricia")
    );

    app.kit
        .ui_edit(
            &format!("users/{pat}"),
            Some(json!({"first_name": "Patricia"})),
        )
        .await;

    eventually(PATIENCE, "the worker renamed", || async {
        (app.worker_first_name(pat).await.as_deref() == Some("Patricia")).then_some(())
    })
    .await;
    app.stop().await;
}

#[tokio::test]
async fn a_project_created_in_procore_appears_in_the_app() {
    let app = App::start().await;
    app.kit
        .ui_create(
            "projects",
            json!({"name": "Harbor Pier", "project_number": "HP-1"}),
        )
        .await;
    let procore = app.kit.procore_project("Harbor Pier");
    let store = &app.kit.store;
    let company = app.kit.company;
    eventually(PATIENCE, "the project in the app", || async move {
        store
            .links(company, store::LinkKind::Project)
            .await
            .unwrap()
            .contains_key(&procore)
            .then_some(())
    })
    .await;
    app.stop().await;
}

fn event(id: u64, user: i64) -> serde_json::Value {
    user_event(id, user, "update")
}

/// A "Company Users" event as Procore sends it; `id` orders events as Procore made them.
fn user_event(id: u64, user: i64, event_type: &str) -> serde_json::Value {
    json!({
        "id": id, "ulid": format!("01JTESTEVENT{id:014}"), "timestamp": "2026-12-03T10:00:00.000000Z",
        "metadata": {"source_user_id": 1, "source_company_id": testkit_company(), "source_project_id": null,
                     "source_application_id": null, "source_operation_id": null},
        "user_id": 1, "company_id": testkit_company(), "project_id": null, "api_version": "v2.0",
        "event_type": event_type, "resource_name": "Company Users", "resource_id": user,
    })
}

fn testkit_company() -> i64 {
    procore_sim::demo::COMPANY_ID
}

#[tokio::test]
async fn a_delivery_without_the_companys_secret_is_refused_and_stores_nothing() {
    let app = App::start().await;
    let pat = app.kit.procore_user("Alvarez");
    let before = app.kit.store.delivery_counts().await.unwrap();
    assert_eq!(app.deliver(&event(1, pat), None).await, 401);
    assert_eq!(app.deliver(&event(2, pat), Some("Bearer guess")).await, 401);
    let secret = app.secret().await;
    let almost = format!("{}x", &secret[..secret.len() - 1]);
    assert_eq!(app.deliver(&event(3, pat), Some(&almost)).await, 401);
    let after = app.kit.store.delivery_counts().await.unwrap();
    assert_eq!(before, after, "nothing stored");
    app.stop().await;
}

#[tokio::test]
async fn a_replayed_delivery_is_stored_once() {
    let app = App::start().await;
    let pat = app.kit.procore_user("Alvarez");
    let secret = app.secret().await;
    let before = app.kit.store.delivery_counts().await.unwrap();
    let body = event(77, pat);
    for _ in 0..3 {
        assert_eq!(app.deliver(&body, Some(&secret)).await, 204);
    }
    let after = app.kit.store.delivery_counts().await.unwrap();
    assert_eq!(
        after.processed + after.unprocessed,
        before.processed + before.unprocessed + 1,
        "one delivery stored for three posts"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_body_that_is_not_a_procore_event_is_refused() {
    let app = App::start().await;
    let secret = app.secret().await;
    let status = reqwest::Client::new()
        .post(format!(
            "{}/webhooks/procore/{}",
            app.url(),
            app.kit.company
        ))
        .header("Authorization", &secret)
        .body("not json")
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, 400);
    app.stop().await;
}

#[tokio::test]
async fn a_body_over_the_limit_is_refused() {
    let app = App::start().await;
    let secret = app.secret().await;
    let status = reqwest::Client::new()
        .post(format!(
            "{}/webhooks/procore/{}",
            app.url(),
            app.kit.company
        ))
        .header("Authorization", &secret)
        .header("Content-Type", "application/json")
        .body(vec![b' '; 300 * 1024])
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, 413);
    app.stop().await;
}

/// Changes a Procore user as a person would, but with no webhook sent: the test delivers the
/// events itself, in the order it chooses.
fn change_quietly(app: &App, user: i64, change: impl FnOnce(&mut procore_sim::world::User)) {
    app.kit.sim().write(|w| {
        let u = w.users.get_mut(&user).expect("the user");
        change(u);
        u.updated_at = chrono::Utc::now();
    });
}

/// The worker updates applied for a Procore user so far.
async fn updates_applied(app: &App, user: i64) -> usize {
    app.kit
        .store
        .history(app.kit.company, store::SubjectKind::ProcoreUser, user)
        .await
        .unwrap()
        .iter()
        .filter(|e| e.entry.action == "update_worker" && e.entry.outcome == "applied")
        .count()
}

async fn worker(app: &App, user: i64) -> domain::workforce::Worker {
    let links = app
        .kit
        .store
        .links(app.kit.company, store::LinkKind::Worker)
        .await
        .unwrap();
    app.kit
        .store
        .worker(app.kit.company, links[&user])
        .await
        .unwrap()
        .expect("the worker")
}

#[tokio::test]
async fn deliveries_out_of_order_leave_the_worker_as_procore_holds_it_now_and_change_nothing_twice()
{
    let app = App::start().await;
    let pat = app.kit.procore_user("Alvarez");
    let secret = app.secret().await;
    let before = updates_applied(&app, pat).await;

    // An older update arriving after a newer one: renamed twice in Procore, the second
    // rename's event delivered first.
    change_quietly(&app, pat, |u| u.first_name = Some("Patricia".into()));
    change_quietly(&app, pat, |u| u.first_name = Some("Patty".into()));
    assert_eq!(
        app.deliver(&user_event(901, pat, "update"), Some(&secret))
            .await,
        204
    );
    app.idle().await;
    assert_eq!(worker(&app, pat).await.fields.first_name, "Patty");
    assert_eq!(updates_applied(&app, pat).await, before + 1);
    assert_eq!(
        app.deliver(&user_event(900, pat, "update"), Some(&secret))
            .await,
        204
    );
    app.idle().await;
    assert_eq!(
        worker(&app, pat).await.fields.first_name,
        "Patty",
        "the late event read the user as Procore holds it now"
    );
    assert_eq!(
        updates_applied(&app, pat).await,
        before + 1,
        "nothing written twice"
    );

    // A delete arriving before the update that preceded it: renamed, then removed from the
    // directory (inactive), the removal delivered first.
    change_quietly(&app, pat, |u| u.first_name = Some("Pat".into()));
    change_quietly(&app, pat, |u| u.is_active = false);
    assert_eq!(
        app.deliver(&user_event(903, pat, "delete"), Some(&secret))
            .await,
        204
    );
    app.idle().await;
    let current = worker(&app, pat).await;
    assert_eq!(
        current.fields.first_name, "Pat",
        "the rename came with the read"
    );
    let applied = updates_applied(&app, pat).await;
    assert_eq!(applied, before + 2);
    assert_eq!(
        app.deliver(&user_event(902, pat, "update"), Some(&secret))
            .await,
        204
    );
    app.idle().await;
    assert_eq!(
        worker(&app, pat).await,
        current,
        "the late update undid nothing"
    );
    assert_eq!(
        updates_applied(&app, pat).await,
        applied,
        "nothing written twice"
    );

    // Every event again, newest first: Procore repeating itself changes nothing either.
    for id in (900..904).rev() {
        let kind = if id == 903 { "delete" } else { "update" };
        assert_eq!(
            app.deliver(&user_event(id, pat, kind), Some(&secret)).await,
            204
        );
    }
    app.idle().await;
    assert_eq!(worker(&app, pat).await, current);
    assert_eq!(updates_applied(&app, pat).await, applied);
    app.stop().await;
}
