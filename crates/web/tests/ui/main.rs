//! The web UI in a real headless Chromium (Debian's `chromium`, driven through Debian's
//! `chromedriver` over WebDriver), against a real `trestle serve` over the simulator.
//! Each test saves a screenshot of the pages it visits under `target/ui-screenshots/`, and
//! checks each with axe-core (npm, `tests/axe`) for serious or critical accessibility
//! violations.
//!
//! `session`: signing in and out, and what a page opened without signing in gets.
//! `integrations`: connecting a Procore company and its permission checklist.
//! `activity`: failed work retried, a record explained.
//! `compliance`: the settings, the mapping screen and a party's compliance.
//! `forms`: a worker fills, signs and completes a form on a phone; its PDF in Procore.
//! `workforce`: the workers page, its filters and an administrator's actions.
//! `docs`: the pictures in `docs/ui.md` are pages these tests save.

mod activity;
mod compliance;
mod docs;
mod forms;
mod integrations;
mod session;
mod workforce;

use fantoccini::{Client, ClientBuilder, Locator};
use harness::Served;
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::json;
use std::net::TcpListener;
use std::os::unix::process::CommandExt as _;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub use testkit::eventually;

/// Asks for a sync over the API as the first administrator (as the Activity page or a script
/// would); `body` names the integration, and `full` if wanted.
pub async fn sync_now(served: &Served, body: serde_json::Value) {
    let queued = reqwest::Client::new()
        .post(format!(
            "{}/api/v1/companies/{}/syncs",
            served.server.url, served.kit.company
        ))
        .bearer_auth(&served.admin)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = queued.status();
    assert!(status.is_success(), "{}", queued.text().await.unwrap());
}

/// `GET path` on the API as the first administrator: its JSON.
pub async fn api_get(served: &Served, path: &str) -> serde_json::Value {
    reqwest::Client::new()
        .get(format!("{}{path}", served.server.url))
        .bearer_auth(&served.admin)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

pub const PATIENCE: Duration = Duration::from_secs(30);

/// A phone's screen (a common Android size), for the worker's pages.
pub const PHONE: (u32, u32) = (412, 915);
/// A laptop's.
pub const DESK: (u32, u32) = (1280, 900);

/// A headless Chromium driven through its own chromedriver, on a free port.
pub struct Browser {
    pub client: Client,
    /// chromedriver, leading its own process group, which Chromium joins.
    driver: Child,
    profile: tempfile::TempDir,
    base: String,
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

impl Browser {
    /// A new browser at `size`, its pages under `base` (the server's URL).
    pub async fn open(base: &str, size: (u32, u32)) -> Browser {
        let port = free_port();
        let driver = Command::new("/usr/bin/chromedriver")
            .arg(format!("--port={port}"))
            .process_group(0)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver (Debian's chromium-driver; .ci/run installs it)");
        let profile = tempfile::tempdir().expect("a profile directory");
        // The machine's network is closed: Chromium's own background traffic is turned off,
        // or it tries again and again.
        let capabilities = json!({
            "goog:chromeOptions": {
                "binary": "/usr/bin/chromium",
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--disable-background-networking", "--disable-component-update",
                    "--disable-sync", "--disable-quic", "--no-first-run",
                    format!("--user-data-dir={}", profile.path().display()),
                    format!("--window-size={},{}", size.0, size.1),
                ]
            }
        });
        let mut capabilities = match capabilities {
            serde_json::Value::Object(map) => map,
            _ => unreachable!(),
        };
        // Headless Chromium keeps a window at least 500 pixels wide: a phone's screen is
        // emulated instead, touch included, as Chromium's device mode does.
        if size.0 < 500 {
            capabilities["goog:chromeOptions"]["mobileEmulation"] = json!({
                "deviceMetrics": {"width": size.0, "height": size.1, "pixelRatio": 2.0, "touch": true}
            });
        }
        let started = Instant::now();
        let client = loop {
            match ClientBuilder::new(HttpConnector::new())
                .capabilities(capabilities.clone())
                .connect(&format!("http://127.0.0.1:{port}"))
                .await
            {
                Ok(client) => break client,
                Err(e) if started.elapsed() < PATIENCE => {
                    let _ = e;
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(e) => panic!("chromedriver did not start Chromium: {e}"),
            }
        };
        Browser {
            client,
            driver,
            profile,
            base: base.to_string(),
        }
    }

    /// Opens `path` of the server.
    pub async fn go(&self, path: &str) {
        self.client
            .goto(&format!("{}{path}", self.base))
            .await
            .unwrap_or_else(|e| panic!("opening {path}: {e}"));
    }

    /// The path (and query) the browser is at.
    pub async fn at(&self) -> String {
        let url = self.client.current_url().await.expect("the current URL");
        url[url::Position::BeforePath..].to_string()
    }

    /// The visible text of the page.
    pub async fn text(&self) -> String {
        // Read in one script, not through an element: htmx may replace the body (or a live
        // list) between finding an element and reading it.
        let text = self
            .client
            .execute(
                "return document.body ? document.body.innerText : ''",
                vec![],
            )
            .await
            .expect("the page's text");
        text.as_str().unwrap_or_default().to_string()
    }

    /// Waits until the page's text contains `what`, and returns the text.
    pub async fn sees(&self, what: &str) -> String {
        let started = Instant::now();
        loop {
            let text = self.text().await;
            if text.contains(what) {
                return text;
            }
            assert!(
                started.elapsed() < PATIENCE,
                "the page at {} never showed {what:?}; it shows:\n{text}",
                self.at().await
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// What the fields with these ids hold (a box: `true` or `false` ticked), read in one
    /// script.
    pub async fn values(&self, ids: &[&str]) -> Vec<String> {
        let read = self
            .client
            .execute(
                "return arguments[0].map(id => { const f = document.getElementById(id); \
                 return !f ? null : f.type === 'checkbox' || f.type === 'radio' \
                 ? String(f.checked) : f.value; })",
                vec![json!(ids)],
            )
            .await
            .expect("the fields' values");
        ids.iter()
            .zip(read.as_array().expect("a list"))
            .map(|(id, v)| match v.as_str() {
                Some(v) => v.to_string(),
                None => panic!("no field #{id}"),
            })
            .collect()
    }

    /// Follows the link whose text or accessible label is `label`.
    pub async fn press_link(&self, label: &str) {
        let xpath = format!("//a[normalize-space(.)='{label}' or @aria-label='{label}']");
        let link = match self.client.find(Locator::XPath(&xpath)).await {
            Ok(link) => link,
            Err(e) => panic!("no link {label:?} at {}: {e}", self.at().await),
        };
        link.click().await.expect("clicking");
        self.settled().await;
    }

    /// Clicks the label whose text is `label` (ticking its box or choosing its option).
    pub async fn click_label(&self, label: &str) {
        let xpath = format!("//label[normalize-space(.)='{label}']");
        match self.client.find(Locator::XPath(&xpath)).await {
            Ok(l) => l.click().await.expect("clicking"),
            Err(e) => panic!("no label {label:?} at {}: {e}", self.at().await),
        };
    }

    /// Presses Tab (at most 60 times) until the element matching CSS `selector` has focus,
    /// as a person with a keyboard alone reaches it; fails if it is never reached.
    pub async fn tab_to(&self, selector: &str) {
        for _ in 0..60 {
            let there = self
                .client
                .execute(
                    "return !!document.activeElement && document.activeElement.matches(arguments[0])",
                    vec![serde_json::json!(selector)],
                )
                .await
                .expect("asking what has focus");
            if there == true {
                return;
            }
            self.key("\u{E004}").await;
        }
        panic!("Tab never reached {selector} at {}", self.at().await);
    }

    /// Sends `keys` to whatever has focus (WebDriver key codes: `\u{E007}` Enter,
    /// `\u{E00D}` Space, `\u{E004}` Tab).
    pub async fn key(&self, keys: &str) {
        self.client
            .active_element()
            .await
            .expect("the focused element")
            .send_keys(keys)
            .await
            .expect("typing");
    }

    /// Ticks the box whose accessible label is `label` (a row's "Select ..." box).
    pub async fn tick(&self, label: &str) {
        let xpath = format!("//input[@type='checkbox' and @aria-label='{label}']");
        match self.client.find(Locator::XPath(&xpath)).await {
            Ok(b) => b.click().await.expect("ticking"),
            Err(e) => panic!("no box {label:?} at {}: {e}", self.at().await),
        };
    }

    /// Chooses the option labelled `label` in the select with id `id`.
    pub async fn choose(&self, id: &str, label: &str) {
        let select = self
            .client
            .find(Locator::Id(id))
            .await
            .unwrap_or_else(|e| panic!("no select #{id}: {e}"));
        select.select_by_label(label).await.expect("choosing");
    }

    /// Types `value` into the field labelled by id `id`, replacing what was there.
    pub async fn fill(&self, id: &str, value: &str) {
        let field = self
            .client
            .find(Locator::Id(id))
            .await
            .unwrap_or_else(|e| panic!("no field #{id}: {e}"));
        field.clear().await.expect("clearing a field");
        field.send_keys(value).await.expect("typing");
    }

    /// Clicks the button whose text or accessible label is `label`, and waits for the page
    /// it leads to.
    pub async fn press(&self, label: &str) {
        let xpath = format!("//button[normalize-space(.)='{label}' or @aria-label='{label}']");
        let button = match self.client.find(Locator::XPath(&xpath)).await {
            Ok(button) => button,
            Err(e) => panic!("no button {label:?} at {}: {e}", self.at().await),
        };
        button.click().await.expect("clicking");
        self.settled().await;
    }

    /// Waits until the page finished loading (and htmx finished swapping).
    pub async fn settled(&self) {
        let started = Instant::now();
        loop {
            let state = self
                .client
                .execute(
                    "return document.readyState === 'complete' && !document.querySelector('.htmx-request')",
                    vec![],
                )
                .await;
            if matches!(state, Ok(serde_json::Value::Bool(true))) {
                return;
            }
            assert!(started.elapsed() < PATIENCE, "the page never settled");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Draws one stroke through `points` on the element `css` (offsets from its centre, in
    /// CSS pixels), with a finger (`touch`) or with the mouse.
    pub async fn draw(&self, css: &str, points: &[(f64, f64)], touch: bool) {
        use fantoccini::actions::{
            InputSource, MouseActions, PointerAction, TouchActions, MOUSE_BUTTON_LEFT,
        };
        let on = self
            .client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("nothing to draw on at {css}: {e}"));
        let to = |&(x, y): &(f64, f64)| PointerAction::MoveToElement {
            element: on.clone(),
            duration: Some(Duration::from_millis(40)),
            x,
            y,
        };
        let mut steps = vec![
            to(&points[0]),
            PointerAction::Down {
                button: MOUSE_BUTTON_LEFT,
            },
        ];
        steps.extend(points[1..].iter().map(to));
        steps.push(PointerAction::Up {
            button: MOUSE_BUTTON_LEFT,
        });
        let done = if touch {
            let finger = steps
                .into_iter()
                .fold(TouchActions::new("finger".into()), InputSource::then);
            self.client.perform_actions(finger).await
        } else {
            let mouse = steps
                .into_iter()
                .fold(MouseActions::new("mouse".into()), InputSource::then);
            self.client.perform_actions(mouse).await
        };
        done.expect("drawing");
    }

    /// Signs in with `token`, from wherever the browser is sent to sign in.
    pub async fn sign_in(&self, token: &str) {
        self.fill("token", token).await;
        self.press("Sign in").await;
    }

    /// The page as it is now: its screenshot saved as `target/ui-screenshots/NAME.png`, and
    /// axe-core's check of it, which must find no serious or critical violation.
    pub async fn seen(&self, name: &str) {
        self.screenshot(name).await;
        self.light(name).await;
        self.accessible(name).await;
    }

    /// The page ships at most 100 KB of script: the files it loaded and its inline scripts.
    pub async fn light(&self, name: &str) {
        let bytes = self
            .client
            .execute(
                r#"const files = performance.getEntriesByType("resource")
                  .filter(e => e.initiatorType === "script")
                  .reduce((n, e) => n + e.decodedBodySize, 0);
                const inline = [...document.scripts]
                  .filter(s => !s.src)
                  .reduce((n, s) => n + s.text.length, 0);
                return files + inline;"#,
                vec![],
            )
            .await
            .expect("measuring the page's script");
        let bytes = bytes.as_u64().expect("a size");
        assert!(
            bytes <= 100 * 1024,
            "page {name} ships {bytes} bytes of script"
        );
        assert!(bytes > 0, "page {name}: htmx was not loaded");
    }

    /// Runs axe-core (from npm, injected into the page) on the page as it is now.
    pub async fn accessible(&self, name: &str) {
        self.client
            .execute(&axe_source(), vec![])
            .await
            .expect("injecting axe-core");
        let found = self
            .client
            .execute_async(
                r#"const done = arguments[arguments.length - 1];
                axe.run(document, {resultTypes: ["violations"]})
                  .then(r => done(r.violations
                    .filter(v => v.impact === "serious" || v.impact === "critical")
                    .map(v => `${v.impact} ${v.id}: ${v.help} at ${v.nodes.map(n => n.target.join(" ")).join(", ")}`)))
                  .catch(e => done([`axe-core failed: ${e}`]));"#,
                vec![],
            )
            .await
            .expect("running axe-core");
        let found: Vec<String> = serde_json::from_value(found).expect("axe-core's findings");
        assert!(
            found.is_empty(),
            "page {name} ({}) has accessibility violations:\n{}",
            self.at().await,
            found.join("\n")
        );
    }

    /// Saves a screenshot as `target/ui-screenshots/NAME.png`; with `TRESTLE_UI_DOCS=1`, a
    /// page `docs/ui.md` shows is saved as its picture there too, so the guide's pictures are
    /// taken by the tests, never copied by hand.
    pub async fn screenshot(&self, name: &str) {
        let png = self.client.screenshot().await.expect("a screenshot");
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
        let dir = root.join("target/ui-screenshots");
        std::fs::create_dir_all(&dir).expect("the screenshot folder");
        std::fs::write(dir.join(format!("{name}.png")), &png).expect("saving a screenshot");
        if std::env::var_os("TRESTLE_UI_DOCS").is_some_and(|v| v == "1")
            && docs::guide_shows(&root).iter().any(|shown| shown == name)
        {
            std::fs::write(root.join(format!("docs/ui/{name}.png")), &png)
                .expect("saving the guide's picture");
        }
    }

    /// Closes the browser (and, on drop, its driver).
    pub async fn close(self) {
        let _ = self.client.clone().close().await;
    }
}

impl Drop for Browser {
    /// The driver and every Chromium process it started, also when a test failed half-way.
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-s", "KILL", "--", &format!("-{}", self.driver.id())])
            .status();
        let _ = self.driver.wait();
        let _ = &self.profile;
    }
}

/// axe-core's script, installed from npm by `npm ci` in `tests/axe` (`.ci/run` does it; the
/// first test to need it does it otherwise, the others waiting for it).
fn axe_source() -> String {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/axe");
    let script = dir.join("node_modules/axe-core/axe.min.js");
    if !script.exists() {
        let lock = dir.join(".installing");
        if std::fs::create_dir(&lock).is_ok() {
            let out = Command::new("npm")
                .args([
                    "ci",
                    "--no-audit",
                    "--no-fund",
                    "--loglevel=error",
                    "--prefix",
                ])
                .arg(&dir)
                .output();
            let _ = std::fs::remove_dir(&lock);
            match out {
                Ok(out) if out.status.success() => {}
                Ok(out) => panic!(
                    "`npm ci --prefix {}` failed: {}",
                    dir.display(),
                    String::from_utf8_lossy(&out.stderr)
                ),
                Err(e) => panic!(
                    "npm did not start ({e}); run `npm ci --prefix {}`",
                    dir.display()
                ),
            }
        } else {
            let started = Instant::now();
            while !script.exists() {
                assert!(
                    started.elapsed() < Duration::from_secs(180),
                    "another test's `npm ci --prefix {}` never finished",
                    dir.display()
                );
                std::thread::sleep(Duration::from_millis(200));
            }
        }
    }
    std::fs::read_to_string(&script).expect("axe-core's script")
}

/// The server over the demo company, and a browser on it.
pub async fn open(served: &Served, size: (u32, u32)) -> Browser {
    Browser::open(&served.server.url, size).await
}
