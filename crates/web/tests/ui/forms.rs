use crate::{eventually, open, PATIENCE, PHONE};
use fantoccini::Locator;
use harness::Served;
use serde_json::json;
use store::ApiScope;

/// An administrator makes the Toolbox Talk template over the API.
async fn toolbox_talk_made(served: &Served) {
    let made = reqwest::Client::new()
        .post(format!(
            "{}/api/v1/companies/{}/forms/templates",
            served.server.url, served.kit.company
        ))
        .bearer_auth(&served.admin)
        .json(&json!({"name": "Toolbox Talk", "sections": [{"title": "Talk", "fields": [
            {"key": "topic", "label": "Topic", "kind": "text", "required": true},
            {"key": "ppe", "label": "PPE worn", "kind": "yes_no_na", "required": true},
            {"key": "sig", "label": "Supervisor signature", "kind": "signature", "required": true}]}]}))
        .send()
        .await
        .unwrap();
    let status = made.status();
    assert!(status.is_success(), "{}", made.text().await.unwrap());
}

#[tokio::test]
async fn a_worker_fills_signs_and_completes_a_form_on_a_phone_and_its_pdf_reaches_procore_twice() {
    let served = Served::with(|c| c.sync_forms = true).await;
    let company = served.kit.company;
    let store = served.kit.store.clone();
    let http = reqwest::Client::new();
    // An administrator made the template.
    toolbox_talk_made(&served).await;
    let project = eventually(PATIENCE, "a project linked to Procore", || async {
        crate::api_get(
            &served,
            &format!("/api/v1/companies/{company}/workforce/projects"),
        )
        .await
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["procore_project_id"].is_i64())
        .map(|p| p["name"].as_str().unwrap().to_string())
    })
    .await;
    let worker = store.workers(company).await.unwrap().remove(0);
    let phone = served
        .token(
            "Bea's phone",
            ApiScope::Worker {
                company_id: company,
                worker_id: worker.id,
            },
        )
        .await;

    let browser = open(&served, PHONE).await;
    browser.go("/ui/").await;
    browser.sign_in(&phone).await;
    // A worker starts on the forms.
    assert_eq!(browser.at().await, format!("/ui/companies/{company}/forms"));
    browser.seen("forms-phone").await;
    let width = browser
        .client
        .execute("return window.innerWidth", vec![])
        .await
        .unwrap();
    assert_eq!(width, PHONE.0, "the page is laid out at the phone's width");
    browser.choose("project_id", &project).await;
    browser.fill("form_date", "11/12/2026").await;
    browser.press("Start").await;
    browser.sees("Draft").await;

    // Completing without the answers and the signature the template requires is refused,
    // each named; what was typed stays.
    browser.fill("a-topic", "Ladders").await;
    browser.press("Complete").await;
    let page = browser.sees("Draft").await;
    assert!(
        browser.at().await.contains("/forms/"),
        "{}",
        browser.at().await
    );
    let typed = browser
        .client
        .execute("return document.getElementById('a-topic').value", vec![])
        .await
        .unwrap();
    assert_eq!(typed, "Ladders", "{page}");
    let invalid = browser
        .client
        .find_all(Locator::Css("p.error"))
        .await
        .unwrap();
    assert!(!invalid.is_empty(), "{page}");
    browser.seen("form-refused-phone").await;

    // A colleague saves the form meanwhile: a save from this page is not laid over theirs
    // unseen; what was typed here stays in the fields, and saving again keeps it.
    let form_api = format!(
        "{}{}",
        served.server.url,
        browser.at().await.replace("/ui/", "/api/v1/")
    );
    let theirs = http
        .patch(&form_api)
        .bearer_auth(&served.admin)
        .json(&json!({"answers": {"topic": {"type": "text", "value": "Scaffolds"}}}))
        .send()
        .await
        .unwrap();
    assert!(theirs.status().is_success());
    browser.fill("a-topic", "Ladders, again").await;
    browser.press("Save").await;
    browser.sees("Someone changed this form").await;
    let typed = browser
        .client
        .execute("return document.getElementById('a-topic').value", vec![])
        .await
        .unwrap();
    assert_eq!(typed, "Ladders, again");
    browser.press("Save").await;
    let saved = crate::api_get(&served, &form_api.replace(&served.server.url, "")).await;
    assert_eq!(saved["answers"]["topic"]["value"], "Ladders, again");

    browser
        .client
        .find(Locator::Css("input[name='a.ppe'][value='yes']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    browser.press("Save").await;
    // A stroke with a finger, cleared; then a signature with the mouse, which is what signs.
    let pad = ".pad canvas";
    let drawn = || async {
        browser
            .client
            .execute(
                "return document.querySelector('input[name^=\"drawing.\"]').value",
                vec![],
            )
            .await
            .unwrap()
    };
    browser
        .draw(pad, &[(-60.0, 10.0), (0.0, -20.0), (60.0, 10.0)], true)
        .await;
    assert!(
        drawn()
            .await
            .as_str()
            .is_some_and(|d| d.contains("strokes")),
        "the finger drew"
    );
    browser
        .press("Clear the drawing of Supervisor signature")
        .await;
    assert_eq!(drawn().await, "", "cleared");
    let signature = [
        (-120.0, 20.0),
        (-80.0, -25.0),
        (-30.0, 15.0),
        (20.0, -20.0),
        (90.0, 10.0),
    ];
    browser.draw(pad, &signature, false).await;
    browser
        .draw(pad, &[(120.0, 25.0), (121.0, 25.0)], false)
        .await;
    browser.seen("form-signing-phone").await;
    browser.press("Sign Supervisor signature").await;
    let page = browser.sees("signed by").await;
    assert!(page.contains(&worker.fields.first_name), "{page}");
    let shown = crate::api_get(&served, &browser.at().await.replace("/ui/", "/api/v1/")).await;
    let strokes = shown["signatures"][0]["drawing"]["strokes"]
        .as_array()
        .cloned()
        .unwrap_or_else(|| panic!("the drawing is the signature's: {shown}"));
    assert_eq!(strokes.len(), 2, "the cleared stroke is gone: {strokes:?}");
    // Left to right across the middle of the 1000-wide grid, as the mouse went.
    let xs: Vec<i64> = strokes[0]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p[0].as_i64().unwrap())
        .collect();
    assert!(
        xs.len() >= 3 && xs.windows(2).all(|w| w[0] <= w[1]),
        "{xs:?}"
    );
    assert!(xs[0] < 500 && *xs.last().unwrap() > 500, "{xs:?}");
    let lines = browser
        .client
        .find_all(Locator::Css("svg.drawn polyline"))
        .await
        .unwrap();
    assert_eq!(lines.len(), 2, "the page shows what was drawn");
    browser.press("Complete").await;
    browser.sees("Completed").await;
    let page = browser.sees("In Procore:").await;
    assert!(page.contains("Toolbox Talk 2026-11-12.pdf"), "{page}");
    browser.seen("form-completed-phone").await;

    // Where the page says, the simulator holds one version.
    let form = browser.at().await;
    let shown = crate::api_get(&served, &form.replace("/ui/", "/api/v1/")).await;
    let file_id = shown["procore"]["file_id"]
        .as_i64()
        .expect("the form's Procore file");
    let path = served.kit.sim().read(|w| {
        let f = &w.files[&file_id];
        format!("{}/{}", w.folder_path(f.parent_id), f.name)
    });
    assert!(page.contains(&path), "{path}: {page}");
    let versions = || {
        served
            .kit
            .sim()
            .read(|w| w.files.get(&file_id).map(|f| f.versions.len()))
    };
    assert_eq!(versions(), Some(1));

    // An edit after completion is a new revision: a second version of the same document.
    browser.fill("a-topic", "Ladders and scaffolds").await;
    browser.press("Save as a new revision").await;
    eventually(PATIENCE, "the second version in Procore", || async {
        (versions() == Some(2)).then_some(())
    })
    .await;
    browser.go(&form).await;
    browser.sees("version 2").await;
    browser.close().await;
}

#[tokio::test]
async fn an_admin_defines_a_template_in_the_editor_and_a_new_version_leaves_filled_forms_on_the_old_one(
) {
    let served = Served::start().await;
    let company = served.kit.company;
    let browser = open(&served, crate::DESK).await;
    browser
        .go(&format!("/ui/companies/{company}/forms/templates/new"))
        .await;
    browser.sign_in(&served.admin).await;
    browser.seen("template-new").await;
    browser.fill("name", "Daily Site Check").await;
    browser.fill("f0-section", "Site").await;
    browser.fill("f0-key", "weather").await;
    browser.fill("f0-label", "Weather").await;
    browser.choose("f0-kind", "One of several").await;
    // A choice without options is refused on its row.
    browser.press("Save the template").await;
    browser.sees("options").await;
    browser.seen("template-refused").await;
    browser.fill("f0-options", "Dry, Wet, Windy").await;
    browser.fill("f1-section", "Site").await;
    browser.fill("f1-key", "sig").await;
    browser.fill("f1-label", "Foreman signature").await;
    browser.choose("f1-kind", "Signature").await;
    browser.press("Save the template").await;
    let page = browser.sees("Daily Site Check").await;
    assert!(page.contains("current"), "{page}");
    browser.seen("templates").await;

    let templates = served.kit.store.current_templates(company).await.unwrap();
    let made = templates
        .iter()
        .find(|t| t.name == "Daily Site Check")
        .expect("the template saved");
    let field = made.field("weather").expect("the weather field");
    assert_eq!(
        field.kind,
        domain::workforce::FieldKind::Choice {
            options: vec!["Dry".into(), "Wet".into(), "Windy".into()]
        }
    );

    // A new version: the old one stays for what was filled on it.
    browser.press_link("Daily Site Check").await;
    browser.fill("f2-key", "notes").await;
    browser.fill("f2-label", "Notes").await;
    // Four blank rows are offered; more on asking, with what was typed kept and nothing saved.
    browser.press("More rows").await;
    let kept = browser
        .client
        .execute(
            "return [document.getElementById('f2-key').value, !!document.getElementById('f9-key')]",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(kept, json!(["notes", true]));
    browser.fill("f6-key", "crew").await;
    browser.fill("f6-label", "Crew on site").await;
    browser.press("Save as a new version").await;
    browser.sees("Daily Site Check").await;
    let current = served.kit.store.current_templates(company).await.unwrap();
    let newer = current
        .iter()
        .find(|t| t.name == "Daily Site Check")
        .expect("the new version");
    assert_ne!(newer.id, made.id);
    assert!(newer.field("notes").is_some());
    assert!(
        newer.field("crew").is_some(),
        "a row added by asking is saved"
    );
    // The old version's editor says a newer one replaced it, also after asking for rows.
    browser
        .go(&format!(
            "/ui/companies/{company}/forms/templates/{}",
            made.id
        ))
        .await;
    browser.sees("A newer version").await;
    browser.seen("template-old-version").await;
    browser.press("More rows").await;
    browser.sees("A newer version").await;
    browser.close().await;
}

#[tokio::test]
async fn a_form_can_be_started_on_any_project_of_a_company_with_more_than_a_page_of_them() {
    let served = Served::start().await;
    let company = served.kit.company;
    toolbox_talk_made(&served).await;
    // More projects than the API answers in one page (500).
    let mut last_id = 0;
    for i in 1..=510 {
        last_id = served
            .kit
            .store
            .create_project(
                company,
                &domain::workforce::ProjectFields {
                    name: format!("Site {i:03}"),
                    ..Default::default()
                },
                domain::workforce::ProjectStatus::Active,
            )
            .await
            .unwrap();
    }
    let browser = open(&served, crate::DESK).await;
    browser.go(&format!("/ui/companies/{company}/forms")).await;
    browser.sign_in(&served.admin).await;
    browser.sees("Start a form").await;
    let last = browser
        .client
        .find_all(Locator::XPath(
            "//select[@id='project_id']/option[normalize-space(.)='Site 510']",
        ))
        .await
        .unwrap();
    assert_eq!(last.len(), 1, "the 510th project is offered");
    browser.choose("project_id", "Site 510").await;
    browser.press("Start").await;
    browser.sees("Draft").await;
    let form = browser.at().await.rsplit('/').next().unwrap().to_string();
    let started = crate::api_get(
        &served,
        &format!("/api/v1/companies/{company}/forms/{form}"),
    )
    .await;
    assert_eq!(started["project_id"], last_id, "{started}");
    browser.close().await;
}

#[tokio::test]
async fn a_form_is_filled_signed_by_name_and_completed_with_the_keyboard_alone_and_its_pdf_opens() {
    let served = Served::start().await;
    let company = served.kit.company;
    toolbox_talk_made(&served).await;
    let browser = open(&served, crate::DESK).await;
    browser.go(&format!("/ui/companies/{company}/forms")).await;
    browser.sign_in(&served.admin).await;
    eventually(PATIENCE, "a project to fill a form on", || async {
        browser.go(&format!("/ui/companies/{company}/forms")).await;
        browser.text().await.contains("Start a form").then_some(())
    })
    .await;
    browser.tab_to("button[type=submit]:not(.who button)").await;
    browser.key("\u{E007}").await;
    browser.sees("Draft").await;

    browser.tab_to("#a-topic").await;
    browser.key("Ladders").await;
    browser.tab_to("input[name='a.ppe']").await;
    browser.key("\u{E00D}").await;
    browser.tab_to("#signer-sig").await;
    browser.key("Pat Supervisor").await;
    browser.tab_to("button[value='sign:sig']").await;
    browser.key("\u{E007}").await;
    let page = browser.sees("signed by").await;
    assert!(page.contains("Pat Supervisor"), "{page}");
    // Signing saved what was typed before it.
    let typed = browser
        .client
        .execute("return document.getElementById('a-topic').value", vec![])
        .await
        .unwrap();
    assert_eq!(typed, "Ladders");
    browser.tab_to("button[value=complete]").await;
    browser.key("\u{E007}").await;
    browser.sees("Completed").await;
    browser.seen("form-completed-desk").await;

    // The page's link to the PDF gives the PDF.
    let pdf = browser
        .client
        .execute_async(
            "const done = arguments[0];
             const link = [...document.links].find(a => a.textContent.trim() === 'The PDF');
             fetch(link.href).then(async r => done([r.status, r.headers.get('content-type'),
               new TextDecoder().decode((await r.arrayBuffer()).slice(0, 5))]));",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(pdf, json!([200, "application/pdf", "%PDF-"]), "{pdf}");
    browser.close().await;
}
