use crate::{eventually, open, DESK, PATIENCE};
use harness::Served;
use serde_json::json;

/// The demo company's compliance side (`testkit::compliance::seed`): Acme Electric and Bolt
/// Plumbing, linked to their Procore companies.
async fn seeded(served: &Served) -> [domain::compliance::PartyId; 2] {
    let sim = served.kit.sim();
    testkit::compliance::seed(&served.kit.store, served.kit.company, |name| {
        sim.read(|w| {
            w.vendors
                .values()
                .find(|v| v.name == name)
                .map(|v| v.id)
                .unwrap()
        })
    })
    .await
}

/// The compliance seed's "Configuration options", each heading, choice and warning as the seed
/// words it (trestle standing where it says TrustLayer): the settings page says each.
const SEED_OPTIONS: &[&str] = &[
    "1) Turn compliance sync on or off",
    "If compliance sync is turned off, no compliance status is written back to Procore.",
    "Projects and Parties can still be linked and imported.",
    "2) Choose the compliance sync level",
    "Choose which level of compliance trestle sends back to Procore:",
    "All: sends global-level and project-level compliance.",
    "Projects only: sends only project-level compliance.",
    "Parties only: sends only global-level compliance.",
    "3) Choose the compliance format (Subjects vs Summary)",
    "Subjects: one record per subject with associated requirements (more detail).",
    "Summary: one overall record (less noise).",
    "4) Contacts synchronization (optional)",
    "Do not sync contacts (default)",
    "Sync all contacts and set primary",
    "Sync all contacts (do not set primary)",
    "Only sync primary contact",
    "Many teams do not maintain a primary contact consistently in Procore. If you select \
     “Only sync primary contact” and no primary contact is set in Procore, trestle may not \
     receive contact data.",
    "5) Ignore commitment types (optional)",
    "If you only want certain types of commitments to create associations, you can choose to \
     ignore:",
    "Purchase Orders (PO)",
    "Subcontracts / Work Order Contracts (SC)",
    "6) Define which commitment states count as “active”",
    "trestle uses “active” commitments to decide when a Party should be associated with a \
     Project.",
    "The shared list of active commitment states.",
    "Separate active state lists for subcontracts vs purchase orders.",
    "Whether “active” is based on status or strictly on executed.",
    "7) Sync active/inactive status from Procore to trestle (optional)",
    "a Procore project or company becoming inactive should also inactivate the linked trestle \
     record",
    "8) Project description sync behavior",
    "Choose how Project descriptions are handled:",
    "Always keep in sync (default)",
    "Only sync on import (trestle won’t update descriptions after the initial import)",
    "Compliance profile mapping (Advanced)",
    "This requires exact name matching. Even a small typo can prevent the intended profile from \
     applying.",
];

#[tokio::test]
async fn an_admin_maps_a_procore_project_sees_its_party_associated_and_a_setting_change_rewrites_procores_insurance(
) {
    let served = Served::start().await;
    let company = served.kit.company;
    let sim = served.kit.sim();
    let [acme, _bolt] = seeded(&served).await;
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
    browser.sees(SEED_OPTIONS[0]).await;
    let page = browser.text().await;
    for words in SEED_OPTIONS {
        assert!(
            page.contains(words),
            "the settings page lacks the seed's {words:?}"
        );
    }
    browser.seen("compliance-settings").await;
    // Saving the settings queues the compliance sync, which lists Procore's projects.
    browser
        .click_label("Sync all contacts and set primary")
        .await;
    browser.press("Save").await;
    browser.sees("Saved").await;
    // Said once: the address forgets the save, so a reload does not claim another.
    let settings = format!("/ui/companies/{company}/compliance/settings");
    eventually(PATIENCE, "the address without ?saved", || async {
        (browser.at().await == settings).then_some(())
    })
    .await;
    browser.client.refresh().await.unwrap();
    browser.settled().await;
    browser.sees(SEED_OPTIONS[0]).await;
    assert!(!browser.text().await.contains("Saved."));

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
    // Its contacts came from Procore, its primary one marked.
    let contacts = browser
        .client
        .execute(
            "return document.querySelector('[aria-labelledby=contacts-h]').innerText",
            vec![],
        )
        .await
        .unwrap();
    let contacts = contacts.as_str().unwrap();
    assert!(
        contacts.contains("(primary)") && contacts.contains("Procore"),
        "{contacts}"
    );
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
    // The party's page says what was written where; the project's lists the party.
    browser.go(&party).await;
    browser.sees("Written to Procore").await;
    let section = browser
        .client
        .execute(
            "return document.querySelector('[aria-labelledby=written-h]').innerText",
            vec![],
        )
        .await
        .unwrap();
    let section = section.as_str().unwrap();
    for t in &subjects {
        assert!(section.contains(t.as_str()), "{t}: {section}");
    }
    assert!(section.contains("Company level"), "{section}");
    browser
        .go(&format!("/ui/companies/{company}/compliance/projects"))
        .await;
    browser.sees("Harbor Tower").await;
    browser.seen("projects").await;
    browser.press_link("Harbor Tower").await;
    let page = browser.sees("Acme Electric").await;
    assert!(page.contains("Compliance here"), "{page}");
    browser.seen("project").await;
    browser
        .go(&format!("/ui/companies/{company}/compliance/settings"))
        .await;
    browser
        .click_label("Summary: one overall record (less noise).")
        .await;
    // A wrong value is named, and nothing chosen or typed is lost: put right, it saves.
    browser.fill("full_read_days", "soon").await;
    browser.press("Save").await;
    let page = browser.sees("full_read_days").await;
    assert!(!page.contains("Saved"), "{page}");
    let kept = browser
        .client
        .execute(
            "return [document.getElementById('full_read_days').value,
                     document.querySelector('input[name=format][value=summary]').checked]",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(kept, json!(["soon", true]));
    browser.fill("full_read_days", "7").await;
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

#[tokio::test]
async fn an_admin_enters_a_certificate_and_a_waiver_on_a_partys_page_and_its_compliance_follows() {
    let served = Served::start().await;
    let company = served.kit.company;
    let [_acme, bolt] = seeded(&served).await;
    let browser = open(&served, DESK).await;
    let page = format!("/ui/companies/{company}/compliance/parties/{}", bolt.0);
    browser.go(&page).await;
    browser.sign_in(&served.admin).await;
    let text = browser.sees("Global: non compliant").await;
    assert!(text.contains("None yet."), "{text}");

    // General liability, as printed on the certificate.
    browser.choose("c-subject", "General Liability").await;
    browser.fill("c-insurer", "Granite Mutual").await;
    browser.fill("c-number", "GL-900").await;
    browser.fill("c-effective", "01/01/2026").await;
    browser.fill("c-expiration", "12/31/2030").await;
    browser
        .choose("limit0-kind", "General Liability: Each Occurrence")
        .await;
    browser.fill("limit0-amount", "2,000,000").await;
    browser.press("Enter the certificate").await;
    let text = browser.sees("GL-900").await;
    assert!(text.contains("each occurrence 2000000"), "{text}");

    // The same certificate gets an automobile policy, which is then taken off again.
    let prefix = browser
        .client
        .execute(
            "return document.querySelector('details [id$=\"c-subject\"]').id.replace('c-subject', '')",
            vec![],
        )
        .await
        .unwrap();
    let prefix = prefix
        .as_str()
        .expect("a certificate's policy form")
        .to_string();
    let certificate = prefix
        .trim_start_matches("cert")
        .trim_end_matches('-')
        .to_string();
    browser
        .client
        .find(fantoccini::Locator::Css("details summary"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    browser
        .choose(&format!("{prefix}c-subject"), "Automobile Liability")
        .await;
    browser
        .fill(&format!("{prefix}c-insurer"), "Granite Mutual")
        .await;
    browser.fill(&format!("{prefix}c-number"), "AU-77").await;
    browser
        .fill(&format!("{prefix}c-effective"), "01/01/2026")
        .await;
    browser
        .fill(&format!("{prefix}c-expiration"), "12/31/2030")
        .await;
    browser
        .press(&format!("Save the policy on certificate {certificate}"))
        .await;
    let text = browser.sees("AU-77").await;
    assert!(
        text.contains("GL-900"),
        "one certificate, two policies: {text}"
    );
    browser
        .press(&format!(
            "Remove the automobile liability policy of certificate {certificate}"
        ))
        .await;
    browser.sees("GL-900").await;
    // (Procore keeps the record written for it until the next sync rewrites the party's.)
    let policies = browser
        .client
        .execute(
            "return document.querySelector('.certificate table').innerText",
            vec![],
        )
        .await
        .unwrap();
    let policies = policies.as_str().unwrap();
    assert!(
        policies.contains("GL-900") && !policies.contains("AU-77"),
        "{policies}"
    );

    // Automobile liability is waived for now, with the reason.
    browser.choose("w-target", "Requirement auto.csl").await;
    browser.fill("w-reason", "No vehicles on site").await;
    browser.press("Add").await;
    let text = browser.sees("No vehicles on site").await;
    assert!(
        text.contains("Global: waived") || text.contains("Global: compliant"),
        "{text}"
    );
    assert!(!text.contains("Global: non compliant"), "{text}");
    browser.seen("party-records").await;
    browser.close().await;
}

#[tokio::test]
async fn a_refused_certificate_or_waiver_says_why_and_keeps_what_was_typed_in_its_form() {
    let served = Served::start().await;
    let company = served.kit.company;
    let [_acme, bolt] = seeded(&served).await;
    let browser = open(&served, DESK).await;
    browser
        .go(&format!(
            "/ui/companies/{company}/compliance/parties/{}",
            bolt.0
        ))
        .await;
    browser.sign_in(&served.admin).await;
    browser.sees("Global: non compliant").await;

    // A certificate without its expiration date.
    browser.choose("c-subject", "Automobile Liability").await;
    browser.fill("c-insurer", "Granite Mutual").await;
    browser.fill("c-number", "AU-12").await;
    browser.fill("c-effective", "01/01/2026").await;
    browser
        .choose("limit1-kind", "Automobile Liability: Combined Single Limit")
        .await;
    browser.fill("limit1-amount", "1,000,000").await;
    browser.click_label("additional insured").await;
    browser.fill("c-projects", "Harbor").await;
    browser.press("Enter the certificate").await;
    let text = browser.sees("Not saved").await;
    assert!(text.contains("expiration_date"), "{text}");
    assert!(text.contains("None yet."), "nothing was entered: {text}");
    assert_eq!(
        browser
            .values(&[
                "c-subject",
                "c-insurer",
                "c-number",
                "c-effective",
                "c-expiration",
                "limit1-kind",
                "limit1-amount",
                "c-projects",
            ])
            .await,
        [
            "automobile_liability",
            "Granite Mutual",
            "AU-12",
            "2026-01-01",
            "",
            "combined_single_limit",
            "1,000,000",
            "Harbor",
        ]
    );
    let ticked = browser
        .client
        .execute(
            "return [...document.querySelectorAll('input[name=endorsement]:checked')].map(e => e.value)",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(ticked, serde_json::json!(["additional_insured"]));
    // The date it lacked (and for all projects), and it goes in as typed.
    browser.fill("c-expiration", "12/31/2030").await;
    browser.fill("c-projects", "").await;
    browser.press("Enter the certificate").await;
    let text = browser.sees("AU-12").await;
    assert!(!text.contains("Not saved"), "{text}");
    assert!(text.contains("1000000"), "{text}");

    // An override without a reason.
    browser.choose("w-target", "Requirement auto.csl").await;
    browser.click_label("Override: treat as met").await;
    browser.fill("w-until", "06/30/2027").await;
    browser.press("Add").await;
    let text = browser.sees("Not saved").await;
    assert!(text.contains("reason"), "{text}");
    assert_eq!(
        browser.values(&["w-target", "w-until", "w-reason"]).await,
        ["requirement:auto.csl", "2027-06-30", ""]
    );
    let kind = browser
        .client
        .execute(
            "return document.querySelector('input[name=kind]:checked').value",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(kind, "override");
    browser.seen("party-refused").await;
    browser.close().await;
}

#[tokio::test]
async fn an_admin_adds_a_requirement_to_a_profile_and_a_party_that_met_it_no_longer_does() {
    let served = Served::start().await;
    let company = served.kit.company;
    let [acme, _bolt] = seeded(&served).await;
    let browser = open(&served, DESK).await;
    browser
        .go(&format!("/ui/companies/{company}/compliance/profiles"))
        .await;
    browser.sign_in(&served.admin).await;
    browser.sees("Each Occurrence at least $1,000,000").await;
    browser.seen("profiles").await;
    let acme_page = format!("/ui/companies/{company}/compliance/parties/{}", acme.0);
    browser.go(&acme_page).await;
    browser.sees("Global: compliant").await;

    browser
        .go(&format!("/ui/companies/{company}/compliance/profiles"))
        .await;
    browser
        .press_link("Edit the requirements of Standard Subcontractor")
        .await;
    browser.seen("profile").await;
    browser.fill("r2-key", "umbrella.each_occurrence").await;
    browser
        .choose(
            "r2-limit",
            "Umbrella/Excess Liability: Umbrella Each Occurrence",
        )
        .await;
    // Without its minimum the requirement is refused, and the rows stay as typed.
    browser.press("Save the profile").await;
    browser
        .sees("Requirement 3 (umbrella.each_occurrence): not a requirement")
        .await;
    let kept = browser
        .client
        .execute("return document.getElementById('r2-key').value", vec![])
        .await
        .unwrap();
    assert_eq!(kept, "umbrella.each_occurrence");
    browser.seen("profile-refused").await;
    browser.fill("r2-minimum", "5,000,000").await;
    browser.press("Save the profile").await;
    browser
        .sees("Umbrella Each Occurrence at least $5,000,000")
        .await;

    // Acme carries no umbrella policy: not compliant any more, and the page says why.
    browser.go(&acme_page).await;
    let page = browser.sees("Global: non compliant").await;
    assert!(page.contains("umbrella.each_occurrence"), "{page}");
    browser.close().await;
}

#[tokio::test]
async fn an_admin_imports_parties_kept_outside_procore_from_a_file_and_a_wrong_file_is_refused_whole(
) {
    let served = Served::start().await;
    let company = served.kit.company;
    let folder = tempfile::tempdir().unwrap();
    let file = |name: &str, text: &str| {
        let path = folder.path().join(name);
        std::fs::write(&path, text).unwrap();
        path.to_str().unwrap().to_string()
    };
    let browser = open(&served, DESK).await;
    browser
        .go(&format!("/ui/companies/{company}/compliance/parties"))
        .await;
    browser.sign_in(&served.admin).await;
    browser.press_link("Import compliance records").await;
    browser.sees("Compliance document (JSON)").await;
    browser.seen("import").await;

    // A document that refers to a party it does not hold: refused whole, the problem named.
    let wrong = file(
        "wrong.json",
        r#"{"parties": [{"id": 1, "name": "Cedar Roofing"}],
            "contacts": [{"id": 1, "party_id": 2, "first_name": "Dana"}]}"#,
    );
    browser.fill("document", &wrong).await;
    browser.press("Import").await;
    let text = browser.sees("Nothing was imported").await;
    assert!(
        text.contains("contact 1 refers to party 2, which is not in the import"),
        "{text}"
    );
    browser.seen("import-refused").await;
    let parties = served.kit.store.parties(company).await.unwrap();
    assert!(parties.iter().all(|p| p.name != "Cedar Roofing"));

    // A file that is not JSON is named as such.
    let not_json = file("notes.txt", "Cedar Roofing, Dana");
    browser.fill("document", &not_json).await;
    browser.press("Import").await;
    browser.sees("notes.txt is not JSON").await;

    // Put right, it is written, and counted.
    let right = file(
        "cedar.json",
        r#"{"parties": [{"id": 1, "name": "Cedar Roofing"}],
            "contacts": [{"id": 1, "party_id": 1, "first_name": "Dana", "email": "dana@cedar.example"}]}"#,
    );
    browser.fill("document", &right).await;
    browser.press("Import").await;
    let text = browser.sees("Imported from cedar.json").await;
    assert!(text.contains("Parties\t1\t0"), "{text}");
    let cedar = served
        .kit
        .store
        .parties(company)
        .await
        .unwrap()
        .into_iter()
        .find(|p| p.name == "Cedar Roofing")
        .expect("Cedar Roofing imported");
    browser.press_link("To the parties").await;
    browser.sees("Cedar Roofing").await;
    // Sent again, it finds what it wrote: nothing new.
    browser
        .go(&format!("/ui/companies/{company}/compliance/import"))
        .await;
    browser.fill("document", &right).await;
    browser.press("Import").await;
    let text = browser.sees("Imported from cedar.json").await;
    assert!(text.contains("Parties\t0\t1"), "{text}");
    assert_eq!(
        served
            .kit
            .store
            .parties(company)
            .await
            .unwrap()
            .iter()
            .filter(|p| p.name == "Cedar Roofing")
            .count(),
        1,
        "party {} imported twice",
        cedar.id
    );
    browser.close().await;
}

#[tokio::test]
async fn an_admin_finds_an_existing_party_among_many_links_a_procore_company_to_it_and_leaves_another_out(
) {
    let served = Served::start().await;
    let company = served.kit.company;
    let base = &served.server.url;
    let http = reqwest::Client::new();
    // More parties than the link list shows at once, the one wanted last of all.
    let mut parties: Vec<_> = (1..=120)
        .map(|i| json!({"id": i, "name": format!("Filler Party {i:03}")}))
        .collect();
    parties.push(json!({"id": 121, "name": "Delta Drywall Services"}));
    let imported = http
        .post(format!(
            "{base}/api/v1/companies/{company}/compliance/import"
        ))
        .bearer_auth(&served.admin)
        .json(&json!({"parties": parties}))
        .send()
        .await
        .unwrap();
    assert!(
        imported.status().is_success(),
        "{}",
        imported.text().await.unwrap()
    );
    let delta = served.kit.sim().read(|w| {
        w.vendors
            .values()
            .find(|v| v.name == "Delta Drywall")
            .map(|v| v.id)
            .unwrap()
    });
    crate::sync_now(&served, json!({"integration": "compliance"})).await;

    let browser = open(&served, DESK).await;
    let waiting = format!("/ui/companies/{company}/compliance/mappings?kind=company&waiting=true");
    browser.go(&waiting).await;
    browser.sign_in(&served.admin).await;
    eventually(PATIENCE, "Delta Drywall waits for a decision", || async {
        browser.go(&waiting).await;
        browser.text().await.contains("Delta Drywall").then_some(())
    })
    .await;
    browser.press_link("Decide about Delta Drywall").await;
    let page = browser.sees("Only the first 100 are listed").await;
    assert!(!page.contains("Delta Drywall Services"), "{page}");

    // Found by name, chosen, previewed and confirmed, with the keyboard's Enter to search.
    browser.fill("find", "drywall").await;
    browser
        .client
        .find(fantoccini::Locator::Id("find"))
        .await
        .unwrap()
        .send_keys("\u{E007}")
        .await
        .unwrap();
    browser.settled().await;
    browser.sees("1 parties named like “drywall”").await;
    browser.choose("to", "Delta Drywall Services").await;
    browser.press("Preview").await;
    let page = browser.sees("What the next compliance sync would do").await;
    assert!(page.contains("Delta Drywall Services"), "{page}");
    browser.seen("mapping-link").await;
    browser.press("Confirm: link").await;

    // The row says it is linked to the party, once the sync carried it out.
    let all = format!("/ui/companies/{company}/compliance/mappings?kind=company&q=Delta");
    let row = eventually(PATIENCE, "Delta Drywall linked", || async {
        browser.go(&all).await;
        let text = browser.text().await;
        text.contains("linked (#").then_some(text)
    })
    .await;
    assert!(row.contains(&format!("company {delta}")), "{row}");
    let party = crate::api_get(
        &served,
        &format!("/api/v1/companies/{company}/compliance/parties?q=Delta"),
    )
    .await;
    // One party, the one linked (it takes Procore's name from now on), not a second one.
    assert_eq!(party.as_array().unwrap().len(), 1, "{party}");
    let linked_to = row
        .split("linked (#")
        .nth(1)
        .and_then(|r| r.split(')').next())
        .unwrap();
    assert_eq!(party[0]["id"].to_string(), linked_to, "{party}");
    assert_eq!(party[0]["procore_vendor_id"], delta, "{party}");

    // Another company left out from the list, by its box and the bulk button.
    browser.go(&waiting).await;
    browser.sees("Cobalt Concrete").await;
    browser.tick("Select Cobalt Concrete (closed)").await;
    browser.press("Do not add selected…").await;
    let page = browser
        .sees("What the next compliance sync would do if the 1 selected")
        .await;
    assert!(page.contains("do not add"), "{page}");
    browser.seen("mapping-bulk-preview").await;
    let still = crate::api_get(
        &served,
        &format!("/api/v1/companies/{company}/compliance/mappings?kind=company&q=Cobalt"),
    )
    .await;
    assert_eq!(
        still[0]["state"], "waiting",
        "a preview decides nothing: {still}"
    );
    browser.press("Confirm: do not add the 1 selected").await;
    let left_out = format!("/ui/companies/{company}/compliance/mappings?kind=company&q=Cobalt");
    eventually(PATIENCE, "Cobalt Concrete left out", || async {
        browser.go(&left_out).await;
        browser.text().await.contains("do not add").then_some(())
    })
    .await;
    browser.close().await;
}
