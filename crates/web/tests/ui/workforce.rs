use crate::{eventually, open, DESK, PATIENCE};
use domain::workforce::{ProjectFields, ProjectStatus, WorkerStatus};
use harness::Served;
use serde_json::json;
use store::ApiScope;

#[tokio::test]
async fn an_admin_finds_a_worker_by_name_and_blocks_unblocks_and_activates_them_from_the_workers_page(
) {
    let served = Served::start().await;
    let company = served.kit.company;
    let store = served.kit.store.clone();
    let worker = eventually(PATIENCE, "the first sync brings the workers", || async {
        store
            .workers(company)
            .await
            .unwrap()
            .into_iter()
            .find(|w| w.status() != WorkerStatus::Blocked)
    })
    .await;
    let name = format!("{} {}", worker.fields.first_name, worker.fields.last_name);
    let browser = open(&served, DESK).await;
    browser
        .go(&format!("/ui/companies/{company}/workforce/workers"))
        .await;
    browser.sign_in(&served.admin).await;
    browser.sees(&name).await;
    browser.seen("workers").await;

    // Found by name; the filter stays in the address, so the page can be shared.
    browser.fill("q", &worker.fields.last_name).await;
    browser.press("Filter").await;
    assert!(browser.at().await.contains("q="), "{}", browser.at().await);
    browser.press(&format!("Block {name}")).await;
    let page = browser.sees("Blocked (by an administrator)").await;
    assert!(page.contains(&name), "{page}");
    assert!(browser.at().await.contains("q="), "the filter is kept");
    assert_eq!(
        store
            .worker(company, worker.id)
            .await
            .unwrap()
            .unwrap()
            .status(),
        WorkerStatus::Blocked
    );

    // Only the blocked, then unblocked.
    browser.fill("q", "").await;
    browser.choose("status", "Blocked").await;
    browser.press("Filter").await;
    browser.sees(&name).await;
    browser.seen("workers-blocked").await;
    browser.press(&format!("Unblock {name}")).await;
    let page = browser.text().await;
    assert!(!page.contains(&name), "{page}");
    assert_eq!(
        store
            .worker(company, worker.id)
            .await
            .unwrap()
            .unwrap()
            .status(),
        worker.status(),
        "unblocked, the worker is where they were"
    );

    // Activated from the list of those pending activation.
    assert_eq!(worker.status(), WorkerStatus::PendingAccountActivation);
    browser.choose("status", "Pending Account Activation").await;
    browser.fill("q", &worker.fields.last_name).await;
    browser.press("Filter").await;
    browser.press(&format!("Activate {name}")).await;
    let now = eventually(PATIENCE, "the worker activated", || async {
        let w = store.worker(company, worker.id).await.unwrap().unwrap();
        (w.status() != WorkerStatus::PendingAccountActivation).then_some(w.status())
    })
    .await;
    assert_ne!(now, WorkerStatus::Blocked);
    browser.choose("status", "Any").await;
    browser.press("Filter").await;
    let row = browser
        .client
        .find(fantoccini::Locator::Id(&format!("worker-{}", worker.id)))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!row.contains("Pending Account Activation"), "{row}");
    assert!(!row.contains("Activate"), "activated once: {row}");
    browser.close().await;
}

#[tokio::test]
async fn an_admin_previews_and_links_a_procore_project_whose_number_an_app_project_has() {
    let served = Served::start().await;
    let company = served.kit.company;
    let store = served.kit.store.clone();
    let ours = store
        .create_project(
            company,
            &ProjectFields {
                name: "Pier Nine (ours)".into(),
                project_number: Some("P-900".into()),
                ..ProjectFields::default()
            },
            ProjectStatus::Active,
        )
        .await
        .unwrap();
    served
        .kit
        .ui_create(
            "projects",
            json!({"name": "Pier Nine", "project_number": "P-900", "city": "Oakland"}),
        )
        .await;
    // Someone asks for a whole sync (as the Activity page or a script would).
    crate::sync_now(&served, json!({"integration": "workforce", "full": true})).await;

    let browser = open(&served, DESK).await;
    let page = format!("/ui/companies/{company}/workforce/waiting");
    browser.go(&page).await;
    browser.sign_in(&served.admin).await;
    let text = eventually(PATIENCE, "the project waits for a decision", || async {
        browser.go(&page).await;
        let text = browser.text().await;
        text.contains("Pier Nine (P-900)").then_some(text)
    })
    .await;
    assert!(text.contains(&format!("#{ours}")), "{text}");
    browser.seen("waiting").await;

    // Link is offered first; the preview shows the name the app project will take.
    browser.press("Preview the decision about Pier Nine").await;
    let text = browser.sees("What changes in the app").await;
    assert!(text.contains("Pier Nine (ours)"), "{text}");
    assert_eq!(
        store
            .project(company, ours)
            .await
            .unwrap()
            .unwrap()
            .fields
            .name,
        "Pier Nine (ours)",
        "a preview changes nothing"
    );
    browser.seen("waiting-preview").await;
    browser.press("Confirm: link").await;
    browser.sees("Decided").await;
    // The decision leads back to the list (post/redirect/get), which says it once.
    let waiting = format!("/ui/companies/{company}/workforce/waiting");
    eventually(
        PATIENCE,
        "the list, its address without ?decided",
        || async { (browser.at().await == waiting).then_some(()) },
    )
    .await;
    browser.client.refresh().await.unwrap();
    browser.settled().await;
    assert!(!browser.text().await.contains("Decided."));

    eventually(PATIENCE, "the app project follows Procore", || async {
        let p = store.project(company, ours).await.unwrap().unwrap();
        (p.fields.name == "Pier Nine").then_some(())
    })
    .await;
    browser.go(&page).await;
    let text = browser.text().await;
    assert!(!text.contains("Pier Nine (P-900)"), "{text}");
    browser.close().await;
}

#[tokio::test]
async fn the_workers_page_shows_a_change_made_in_procore_by_itself_keeping_focus_rests_while_hidden_and_is_left_alone_while_nothing_changes(
) {
    let served = Served::start().await;
    let company = served.kit.company;
    let store = served.kit.store.clone();
    let worker = eventually(PATIENCE, "the first sync brings the workers", || async {
        store
            .workers(company)
            .await
            .unwrap()
            .into_iter()
            .find(|w| w.fields.email.is_some())
    })
    .await;
    let last = worker.fields.last_name.clone();
    let browser = open(&served, DESK).await;
    let page = format!("/ui/companies/{company}/workforce/workers?q={last}");
    browser.go(&page).await;
    browser
        .sign_in(&served.token("browser", ApiScope::Admin).await)
        .await;
    browser.sees(&worker.fields.first_name).await;

    // Asked again by its live region with the version it shows, the unchanged page answers
    // 204: nothing to swap. (A sync may still be changing it at first: then the region takes
    // the new version, and the next asking is answered 204.)
    eventually(PATIENCE, "the unchanged page answered 204", || async {
        let again = browser
            .client
            .execute_async(
                "const done = arguments[0];
                 const live = document.getElementById('live');
                 const seen = JSON.parse(live.getAttribute('hx-headers'))['X-Trestle-Seen'];
                 fetch(location.href, {headers: {'X-Trestle-Seen': seen, 'HX-Trigger': 'live'}})
                   .then(r => done(r.status));",
                vec![],
            )
            .await
            .unwrap();
        (again == 204).then_some(())
    })
    .await;
    browser
        .client
        .execute("window.kept = true", vec![])
        .await
        .unwrap();

    // Focus is on the worker's Block button while the list changes under it.
    let block = format!("worker-{}-block", worker.id);
    browser
        .client
        .execute(
            "document.getElementById(arguments[0]).focus()",
            vec![json!(block)],
        )
        .await
        .unwrap();

    // Someone renames the user in Procore, and a sync runs; nobody touches the page.
    let user = served.kit.procore_user(&last);
    renamed_in_procore(&served, user, "Renamed").await;
    browser.sees(&format!("Renamed {last}")).await;
    let kept = browser
        .client
        .execute("return window.kept === true", vec![])
        .await
        .unwrap();
    assert_eq!(kept, true, "the page was not reloaded");
    assert_eq!(browser.at().await, page);
    let focused = browser
        .client
        .execute("return document.activeElement.id", vec![])
        .await
        .unwrap();
    assert_eq!(focused, json!(block), "focus stays on the button it was on");
    // A button inside the live list is boosted like any other: no page load.
    browser.press(&format!("Block Renamed {last}")).await;
    browser.sees("Blocked (by an administrator)").await;
    let kept = browser
        .client
        .execute("return window.kept === true", vec![])
        .await
        .unwrap();
    assert_eq!(kept, true, "the block went through htmx");

    // A page nobody can see (a tab in the background) asks nothing; shown again, it asks at
    // once and shows what changed meanwhile.
    browser
        .client
        .execute(
            "window.polls = 0;
             document.body.addEventListener('htmx:beforeSend', e => {
               if (e.detail.elt.id === 'live') { window.polls += 1; }
             });
             window.seen = false;
             Object.defineProperty(document, 'hidden', {configurable: true, get: () => !window.seen});
             Object.defineProperty(document, 'visibilityState', {configurable: true,
               get: () => window.seen ? 'visible' : 'hidden'});
             document.dispatchEvent(new Event('visibilitychange'));",
            vec![],
        )
        .await
        .unwrap();
    renamed_in_procore(&served, user, "Meanwhile").await;
    eventually(PATIENCE, "the sync renamed the worker", || async {
        let w = store.worker(company, worker.id).await.unwrap()?;
        (w.fields.first_name == "Meanwhile").then_some(())
    })
    .await;
    // Longer than a poll's interval (five seconds): a visible page would have asked.
    tokio::time::sleep(std::time::Duration::from_secs(6)).await;
    let polls = browser
        .client
        .execute("return window.polls", vec![])
        .await
        .unwrap();
    assert_eq!(polls, json!(0), "a hidden page asked for its list");
    assert!(!browser.text().await.contains("Meanwhile"));
    browser
        .client
        .execute(
            "window.seen = true; document.dispatchEvent(new Event('visibilitychange'));",
            vec![],
        )
        .await
        .unwrap();
    browser.sees(&format!("Meanwhile {last}")).await;

    // Its session ended (its token revoked), the page goes to sign-in rather than go blank.
    let token = served
        .kit
        .store
        .api_tokens()
        .await
        .unwrap()
        .into_iter()
        .find(|t| t.name == "browser")
        .unwrap();
    served
        .kit
        .store
        .revoke_api_token(token.id, chrono::Utc::now())
        .await
        .unwrap();
    browser.sees("Sign in").await;
    assert!(
        browser.at().await.starts_with("/ui/sign-in?next="),
        "{}",
        browser.at().await
    );
    browser.close().await;
}

/// Renames the Procore user `user` (first name) and queues a workforce sync, as a person would
/// through the API.
async fn renamed_in_procore(served: &Served, user: i64, first_name: &str) {
    served.kit.sim().write(|w| {
        let u = w.users.get_mut(&user).expect("the user");
        u.first_name = Some(first_name.into());
        u.updated_at = chrono::Utc::now();
    });
    crate::sync_now(served, json!({"integration": "workforce"})).await;
}

#[tokio::test]
async fn the_projects_page_lists_the_projects_procore_brings_finds_one_by_its_number_and_follows_a_rename(
) {
    let served = Served::start().await;
    let company = served.kit.company;
    let (procore_id, name, number) = served.kit.sim().read(|w| {
        w.projects
            .values()
            .filter(|p| p.company_id == company && p.active && p.project_number.is_some())
            .min_by_key(|p| p.id)
            .map(|p| (p.id, p.name.clone(), p.project_number.clone().unwrap()))
            .expect("a demo project with a number")
    });
    let browser = open(&served, DESK).await;
    browser
        .go(&format!("/ui/companies/{company}/workforce/projects"))
        .await;
    browser.sign_in(&served.admin).await;
    // The first sync brings it; the page follows by itself.
    let page = browser.sees(&name).await;
    assert!(
        page.contains(&format!("Procore project {procore_id}")),
        "{page}"
    );
    browser.seen("workforce-projects").await;

    browser.fill("q", &number).await;
    browser.press("Filter").await;
    let page = browser.sees(&name).await;
    let rows = browser
        .client
        .find_all(fantoccini::Locator::Css("tbody tr"))
        .await
        .unwrap();
    assert_eq!(rows.len(), 1, "only the project numbered {number}: {page}");

    // Renamed in Procore, and a sync runs: the page shows the new name without a reload.
    served.kit.sim().write(|w| {
        let p = w.projects.get_mut(&procore_id).expect("the project");
        p.name = "Harbor Tower Phase 2".into();
        p.updated_at = chrono::Utc::now();
    });
    crate::sync_now(&served, json!({"integration": "workforce"})).await;
    browser.sees("Harbor Tower Phase 2").await;
    browser.close().await;
}

#[tokio::test]
async fn an_admin_imports_one_clashing_procore_project_as_a_new_one_and_ignores_another() {
    let served = Served::start().await;
    let company = served.kit.company;
    let store = served.kit.store.clone();
    for (name, number) in [
        ("Dock Ten (ours)", "P-910"),
        ("Yard Eleven (ours)", "P-911"),
    ] {
        store
            .create_project(
                company,
                &ProjectFields {
                    name: name.into(),
                    project_number: Some(number.into()),
                    ..ProjectFields::default()
                },
                ProjectStatus::Active,
            )
            .await
            .unwrap();
    }
    for (name, number) in [("Dock Ten", "P-910"), ("Yard Eleven", "P-911")] {
        served
            .kit
            .ui_create(
                "projects",
                json!({"name": name, "project_number": number, "city": "Oakland"}),
            )
            .await;
    }
    let procore = |name: &str| {
        served.kit.sim().read(|w| {
            w.projects
                .values()
                .find(|p| p.name == name)
                .map(|p| p.id)
                .unwrap()
        })
    };
    let (dock, yard) = (procore("Dock Ten"), procore("Yard Eleven"));
    crate::sync_now(&served, json!({"integration": "workforce", "full": true})).await;

    let browser = open(&served, DESK).await;
    let page = format!("/ui/companies/{company}/workforce/waiting");
    browser.go(&page).await;
    browser.sign_in(&served.admin).await;
    eventually(PATIENCE, "both projects wait for a decision", || async {
        browser.go(&page).await;
        let text = browser.text().await;
        (text.contains("Dock Ten") && text.contains("Yard Eleven")).then_some(())
    })
    .await;
    let decide = |procore_id: i64, decision: &'static str| {
        let browser = &browser;
        async move {
            browser
                .client
                .find(fantoccini::Locator::XPath(&format!(
                    "//section[@aria-labelledby='waiting-project-{procore_id}']//input[@value='{decision}']"
                )))
                .await
                .unwrap()
                .click()
                .await
                .unwrap();
        }
    };
    decide(dock, "import").await;
    browser.press("Preview the decision about Dock Ten").await;
    let text = browser.sees("What this decision does").await;
    assert!(text.contains("created"), "{text}");
    browser.press("Confirm: import").await;
    browser.sees("Decided").await;
    decide(yard, "ignore").await;
    browser
        .press("Preview the decision about Yard Eleven")
        .await;
    browser.sees("What this decision does").await;
    browser.press("Confirm: ignore").await;
    browser.sees("Decided").await;

    // Imported: a second project numbered P-910 follows Procore; ours is left as it was.
    // Ignored: nothing follows Yard Eleven, and it waits no more.
    let projects = format!("/ui/companies/{company}/workforce/projects");
    eventually(PATIENCE, "Dock Ten imported", || async {
        browser.go(&projects).await;
        browser
            .text()
            .await
            .contains(&format!("Procore project {dock}"))
            .then_some(())
    })
    .await;
    let text = browser.text().await;
    assert!(text.contains("Dock Ten (ours)"), "{text}");
    assert!(!text.contains(&format!("Procore project {yard}")), "{text}");
    browser.go(&page).await;
    let text = browser.text().await;
    assert!(
        !text.contains("Dock Ten") && !text.contains("Yard Eleven"),
        "{text}"
    );
    browser.close().await;
}
