//! The README's run command as a newcomer meets it: `trestle demo` runs the whole job on the
//! embedded default, then leaves `trestle serve` running with the web UI, prints its address
//! and a token to sign in with, and a change made in "Procore" reaches the pages by itself;
//! Ctrl-C stops it cleanly.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// What the demo printed for a newcomer.
#[derive(Debug, Default)]
struct Printed {
    ui: Option<String>,
    token: Option<String>,
    rename: Option<String>,
}

#[tokio::test]
async fn the_demo_leaves_the_web_ui_running_with_data_a_token_to_sign_in_and_procore_changes_arriving_live(
) {
    let dir = tempfile::tempdir().unwrap();
    let errors = std::fs::File::create(dir.path().join("stderr.log")).unwrap();
    let mut demo = Command::new(env!("CARGO_BIN_EXE_trestle"))
        .args(["demo", "--data-dir"])
        .arg(dir.path().join("data"))
        .current_dir(dir.path())
        .stdout(Stdio::piped())
        .stderr(errors)
        .spawn()
        .unwrap();
    let stderr = || std::fs::read_to_string(dir.path().join("stderr.log")).unwrap_or_default();

    // Read what it prints (all of it, so the pipe never fills) on a thread of its own.
    let (lines, printed) = std::sync::mpsc::channel();
    let out = demo.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            if lines.send(line).is_err() {
                break;
            }
        }
    });
    let mut seen = Printed::default();
    let mut token_next = false;
    let started = Instant::now();
    while seen.rename.is_none() {
        let line = printed
            .recv_timeout(Duration::from_secs(300).saturating_sub(started.elapsed()))
            .unwrap_or_else(|_| {
                panic!(
                    "the demo never printed how to sign in; stderr:\n{}",
                    stderr()
                )
            });
        let line = line.trim();
        if token_next {
            seen.token = Some(line.to_string());
            token_next = false;
        } else if let Some(url) = line.strip_prefix("Open ") {
            seen.ui = Some(url.to_string());
        } else if line.contains("sign in with this API token") {
            token_next = true;
        } else if let Some(curl) = line.strip_prefix("curl -X PATCH ") {
            seen.rename = curl.split_whitespace().next().map(str::to_string);
        }
    }
    let ui = seen.ui.expect("the UI's address");
    let token = seen.token.expect("a token");
    let rename = seen.rename.unwrap();
    assert!(
        ui.starts_with("http://127.0.0.1:") && ui.ends_with("/ui/"),
        "{ui}"
    );
    assert!(token.starts_with("trestle_"), "{token}");
    let company = rename
        .split("/companies/")
        .nth(1)
        .and_then(|r| r.split('/').next())
        .expect("the company in the printed command")
        .to_string();

    // Signing in with the printed token opens pages with the demo's data in them.
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let signed_in = http
        .post(format!("{ui}sign-in"))
        .form(&[("token", token.as_str()), ("next", "/ui/")])
        .send()
        .await
        .unwrap();
    assert_eq!(signed_in.status(), reqwest::StatusCode::SEE_OTHER);
    let cookie = signed_in.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    let workers = format!("{ui}companies/{company}/workforce/workers");
    let page = || async {
        let answer = http
            .get(&workers)
            .header("cookie", &cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), reqwest::StatusCode::OK);
        answer.text().await.unwrap()
    };
    let first = page().await;
    assert!(first.contains("<tbody>"), "workers listed: {first}");
    assert!(!first.contains("Robin"), "{first}");

    // The printed change, made in "Procore", shows up without anyone asking for a sync.
    let changed = http
        .patch(&rename)
        .json(&serde_json::json!({"first_name": "Robin"}))
        .send()
        .await
        .unwrap();
    assert!(changed.status().is_success(), "{}", changed.status());
    let started = Instant::now();
    while !page().await.contains("Robin") {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the rename never reached the workers page; stderr:\n{}",
            stderr()
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }

    // Ctrl-C stops it, successfully.
    let interrupted = Command::new("kill")
        .args(["-INT", &demo.id().to_string()])
        .status()
        .unwrap();
    assert!(interrupted.success());
    let started = Instant::now();
    let status = loop {
        if let Some(status) = demo.try_wait().unwrap() {
            break status;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "Ctrl-C did not stop the demo"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(status.success(), "{status}; stderr:\n{}", stderr());
}
