//! `docs/api.md` runs: every ```http example in it is sent, in order, to a real server over
//! the simulator, and must get the status the ```text answer after it shows. Values an answer
//! gives (`<!-- $NAME = /json/pointer -->`) feed the examples after it; work an example queues
//! is waited for by asking again until the answer is the one shown. Every POST is sent twice
//! with one `Idempotency-Key`: the second gets the first's answer.

use crate::App;
use domain::workforce::{ProjectFields, ProjectStatus};
use procore_sim::demo;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

const PATIENCE: Duration = Duration::from_secs(60);

/// One example: the request as written, the status shown, and the values to keep.
#[derive(Debug)]
struct Example {
    line: usize,
    request: String,
    status: u16,
    captures: Vec<(String, String)>,
}

fn examples(doc: &str) -> Vec<Example> {
    let lines: Vec<&str> = doc.lines().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        if lines[i].trim() != "```http" {
            i += 1;
            continue;
        }
        let line = i + 1;
        let mut request = Vec::new();
        i += 1;
        while lines[i].trim() != "```" {
            request.push(lines[i]);
            i += 1;
        }
        // The answer: the next ```text block's first line.
        while lines[i].trim() != "```text" {
            i += 1;
        }
        let status: u16 = lines[i + 1]
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("docs/api.md:{}: no status after the example", i + 2));
        i += 2;
        while lines[i].trim() != "```" {
            i += 1;
        }
        i += 1;
        let mut captures = Vec::new();
        while let Some(l) = lines.get(i).map(|l| l.trim()) {
            let Some(inner) = l.strip_prefix("<!-- $").and_then(|l| l.strip_suffix("-->")) else {
                break;
            };
            let (name, pointer) = inner.split_once('=').expect("<!-- $NAME = /pointer -->");
            captures.push((name.trim().to_string(), pointer.trim().to_string()));
            i += 1;
        }
        out.push(Example {
            line,
            request: request.join("\n"),
            status,
            captures,
        });
    }
    out
}

/// `text` with every `$NAME` replaced, longest names first (`$PROCORE_PROJECT` before
/// `$PROJECT`).
fn filled(text: &str, values: &BTreeMap<String, String>) -> String {
    let mut names: Vec<&String> = values.keys().collect();
    names.sort_by_key(|n| std::cmp::Reverse(n.len()));
    let mut out = text.to_string();
    for name in names {
        out = out.replace(&format!("${name}"), &values[name]);
    }
    out
}

#[tokio::test]
async fn every_example_in_the_api_guide_gets_the_answer_it_shows() {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/api.md"))
        .expect("docs/api.md");
    let examples = examples(&doc);
    assert!(examples.len() >= 15, "{} examples", examples.len());

    // The account the guide starts from: no company connected yet, and a project of its own
    // that Procore has too (same number).
    let app = App::fresh().await;
    let company = app.kit.company;
    let number = app.kit.sim().read(|w| {
        w.projects
            .values()
            .find(|p| p.name == "Harbor Tower")
            .and_then(|p| p.project_number.clone())
            .unwrap()
    });
    app.kit
        .store
        .create_project(
            company,
            &ProjectFields {
                name: "Harbor (ours)".into(),
                project_number: Some(number),
                ..ProjectFields::default()
            },
            ProjectStatus::Active,
        )
        .await
        .unwrap();

    let mut values = BTreeMap::from([
        ("COMPANY".to_string(), company.to_string()),
        ("TOKEN".to_string(), app.admin.clone()),
        ("CLIENT_ID".to_string(), demo::CLIENT_ID.to_string()),
        ("CLIENT_SECRET".to_string(), demo::CLIENT_SECRET.to_string()),
    ]);
    let http = reqwest::Client::new();
    for example in &examples {
        let text = filled(&example.request, &values);
        assert!(
            !text.contains('$'),
            "docs/api.md:{}: a value no earlier example gave: {text}",
            example.line
        );
        let (head, body) = text.split_once("\n\n").unwrap_or((&text, ""));
        let mut head_lines = head.lines();
        let (method, path) = head_lines
            .next()
            .and_then(|l| l.split_once(' '))
            .expect("METHOD PATH");
        let started = Instant::now();
        let mut tries = 0;
        loop {
            tries += 1;
            // Every POST goes with a key of its own try, and is sent again with it once it
            // got its answer: the repeat must get that answer and do nothing again.
            let key = (method == "POST").then(|| format!("docs/api.md:{}:{tries}", example.line));
            let send = || {
                let mut request = http.request(
                    method.parse().unwrap(),
                    format!("{}{}", app.server.url, path.trim()),
                );
                for h in head_lines.clone() {
                    let (name, value) = h.split_once(':').expect("Name: value");
                    request = request.header(name.trim(), value.trim());
                }
                if let Some(key) = &key {
                    request = request.header("Idempotency-Key", key);
                }
                if !body.trim().is_empty() {
                    request = request.body(body.to_string());
                }
                request.send()
            };
            let response = send().await.unwrap();
            let status = response.status().as_u16();
            let answer: serde_json::Value = response.json().await.unwrap_or_default();
            if key.is_some() && status == example.status {
                let again = send().await.unwrap();
                assert_eq!(
                    (
                        again.status().as_u16(),
                        again
                            .headers()
                            .get("idempotent-replayed")
                            .and_then(|v| v.to_str().ok())
                    ),
                    (status, Some("true")),
                    "docs/api.md:{}: {method} {path} sent again with its key",
                    example.line
                );
                let replayed: serde_json::Value = again.json().await.unwrap_or_default();
                assert_eq!(
                    replayed, answer,
                    "docs/api.md:{}: the repeat's answer",
                    example.line
                );
            }
            let captured: Option<Vec<(String, String)>> = example
                .captures
                .iter()
                .map(|(name, pointer)| {
                    answer.pointer(pointer).map(|v| {
                        let v = match v {
                            serde_json::Value::String(s) => s.clone(),
                            other => other.to_string(),
                        };
                        (name.clone(), v)
                    })
                })
                .collect();
            match captured {
                Some(c) if status == example.status => {
                    values.extend(c);
                    break;
                }
                // Work an earlier example queued may not be done yet; a write that got its
                // status is not sent again.
                _ if started.elapsed() < PATIENCE && (method == "GET" || status != example.status) => {
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
                _ => panic!(
                    "docs/api.md:{}: {method} {path} answered {status}, not {} (or lacks {:?}): {answer}",
                    example.line, example.status, example.captures
                ),
            }
        }
    }
}
