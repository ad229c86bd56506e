use crate::{eventually, open, DESK, PATIENCE};
use harness::Served;

#[tokio::test]
async fn an_admin_maps_a_procore_project_sees_its_party_associated_and_a_setting_change_rewrites_procores_insurance(
) {
    let served = Served::start().await;
    let company = served.kit.company;
    let sim = served.kit.sim();
    let [acme, _bolt] = testkit::compliance::seed(&served.kit.store, company, |name| {
        sim.read(|w| {
            w.vendors
                .values()
                .find(|v| v.name == name)
                .map(|v| v.id)
                .unwrap()
        })
    })
    .await;
    let acme_vendor = sim.read(|w| {
        w.vendors
            .values()
            .find(|v| v.name == "Acme Electric")
            .map(|v| v.id)
            .unwrap()
    });
    let browser = open(&served, DESK).await;
    browser
        .go(&format!("/ui/companies/{company}/compliance/settings"))
        .await;
    browser.sign_in(&served.admin).await;
    browser.sees("1) Compliance sync").await;
    browser.seen("compliance-settings").await;
    // Saving the settings queues the compliance sync, which lists Procore's projects.
    browser.press("Save").await;
    browser.sees("Saved").await;

    let mappings = format!("/ui/companies/{company}/compliance/mappings?kind=project&waiting=true");
    eventually(
        PATIENCE,
        "Harbor Tower waits on the mapping screen",
        || async {
            browser.go(&mappings).await;
            browser.text().await.contains("Harbor Tower").then_some(())
        },
    )
    .await;
    browser.seen("mapping").await;
    browser.press_link("Decide about Harbor Tower").await;
    browser.press("Preview").await;
    let page = browser.sees("What the next compliance sync would do").await;
    assert!(page.contains("create project"), "{page}");
    browser.seen("mapping-preview").await;
    browser.press("Confirm: import").await;

    // The sync imports the project, and Acme's commitment on it makes the association.
    let party = format!("/ui/companies/{company}/compliance/parties/{}", acme.0);
    eventually(
        PATIENCE,
        "Acme Electric associated with Harbor Tower",
        || async {
            browser.go(&party).await;
            browser
                .text()
                .await
                .contains("On Harbor Tower")
                .then_some(())
        },
    )
    .await;
    let page = browser.text().await;
    assert!(!page.contains("Harbor Tower (inactive)"), "{page}");
    browser.seen("party").await;
    browser
        .go(&format!("/ui/companies/{company}/compliance/parties"))
        .await;
    browser.sees("Acme Electric").await;
    browser.seen("parties").await;

    // Compliance goes back to Procore; the summary format writes one record instead.
    let written = || {
        sim.read(|w| {
            let mut types: Vec<String> = w
                .insurances
                .values()
                .filter(|i| i.vendor_id == acme_vendor)
                .filter_map(|i| i.insurance_type.clone())
                .collect();
            types.sort();
            types
        })
    };
    let subjects = eventually(PATIENCE, "Acme's insurance records in Procore", || async {
        let t = written();
        (!t.is_empty()).then_some(t)
    })
    .await;
    browser
        .go(&format!("/ui/companies/{company}/compliance/settings"))
        .await;
    browser
        .click_label("Summary: one overall record (less noise)")
        .await;
    browser.press("Save").await;
    browser.sees("Saved").await;
    let summary = eventually(
        PATIENCE,
        "the records rewritten in the summary format",
        || async {
            let t = written();
            (t != subjects && !t.is_empty()).then_some(t)
        },
    )
    .await;
    assert_ne!(summary, subjects);
    browser.close().await;
}
