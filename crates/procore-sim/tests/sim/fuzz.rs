//! A seeded fuzz pass over every operation the simulator implements: malformed path ids,
//! bodies of every wrong type in every encoding, missing and bad credentials, odd query
//! strings. Whatever a Procore client sends, the simulator answers without a 5xx, with a JSON
//! body in one of Procore's error shapes, and keeps answering afterwards. Operations are read
//! from `operations()` and `operations_beyond_the_subset()`, so routes added later are fuzzed
//! without touching this file.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use reqwest::{Method, RequestBuilder};
use serde_json::{json, Map, Value};

use crate::helpers::{start, T};
use procore_sim::demo;

/// Path ids Procore cannot have: each must be a JSON 404 (or another JSON 4xx), never a 5xx.
const BAD_IDS: &[&str] = &[
    "abc",
    "-1",
    "0",
    "1.5",
    "99999999999999999999",
    "%E2%98%83%C3%A9",
    "%00%ff",
    "%zz",
    "%2e%2e",
    "1%20OR%201",
    "",
];

/// Request-body wrappers of the implemented operations, so wrong types reach past the
/// "param is missing" check into the records' own validation.
const WRAPPERS: &[&str] = &[
    "project",
    "user",
    "vendor",
    "insurance",
    "folder",
    "file",
    "file_version",
    "work_order_contract",
    "purchase_order_contract",
    "hook",
    "trigger",
];

/// Field names the handlers read, for random objects.
const KEYS: &[&str] = &[
    "id",
    "name",
    "updates",
    "data",
    "parent_id",
    "upload_uuid",
    "upload_id",
    "segments",
    "part_etags",
    "project_id",
    "company_id",
    "vendor_id",
    "origin_id",
    "custom_fields",
    "status",
    "email_address",
    "last_name",
    "is_active",
    "event_type",
    "resource_name",
    "resource_id",
    "api_version",
    "destination_url",
    "file_name",
    "file_size",
    "sha256",
    "response_filename",
    "expiration_date",
    "grant_type",
    "client_id",
    "token",
    "ids",
];

/// Answers that are documented to have no JSON body: v1 deletes answer 200 with none, v2
/// deletes 204, and the authorization endpoint answers a login or code page (HTML) or a
/// redirect.
fn bodiless_is_documented(method: &Method, path: &str, status: u16, content_type: &str) -> bool {
    match status {
        204 => *method == Method::DELETE,
        200 if *method == Method::DELETE => true,
        200 if path.starts_with("/oauth/authorize") => content_type.starts_with("text/html"),
        302 => path.starts_with("/oauth/authorize"),
        _ => false,
    }
}

/// Procore's documented error shapes: the default `{"error":{..}}`, the 401/403
/// `{"code","message",..}`, validation `{"errors":{..}}` and OAuth's `{"error":".."}`.
fn is_error_shape(v: &Value) -> bool {
    match v {
        Value::Object(m) => {
            m.get("error")
                .is_some_and(|e| e.is_object() || e.is_string())
                || m.get("errors").is_some_and(Value::is_object)
                || m.get("message").is_some_and(Value::is_string)
        }
        _ => false,
    }
}

struct Fuzz<'a> {
    t: &'a T,
    rng: StdRng,
    project_id: i64,
    vendor_id: i64,
    findings: Vec<String>,
    sent: usize,
}

/// One request to send, described well enough to repeat it from a finding.
struct Case {
    method: Method,
    path: String,
    query: String,
    token: Option<String>,
    company: Option<String>,
    body: Payload,
}

/// A multipart part: its name, bytes and file name if it is a file.
type Part = (String, Vec<u8>, Option<&'static str>);

enum Payload {
    None,
    Json(String),
    Form(String),
    Multipart(Vec<Part>),
    Raw(&'static str, Vec<u8>),
}

impl Payload {
    fn describe(&self) -> String {
        match self {
            Payload::None => "no body".into(),
            Payload::Json(s) => format!("json {}", clip(s)),
            Payload::Form(s) => format!("form {}", clip(s)),
            Payload::Multipart(p) => format!(
                "multipart [{}]",
                p.iter()
                    .map(|(n, _, _)| n.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Payload::Raw(ct, b) => format!("{ct} {}", clip(&String::from_utf8_lossy(b))),
        }
    }
}

fn clip(s: &str) -> String {
    s.chars().take(120).collect()
}

impl<'a> Fuzz<'a> {
    fn new(t: &'a T, seed: u64) -> Self {
        let (project_id, vendor_id) = t.sim().read(|w| {
            let p = w.projects.keys().min().copied().unwrap_or(1);
            let v = w.vendors.keys().min().copied().unwrap_or(1);
            (p, v)
        });
        Fuzz {
            t,
            rng: StdRng::seed_from_u64(seed),
            project_id,
            vendor_id,
            findings: Vec::new(),
            sent: 0,
        }
    }

    /// A path with every parameter filled with a plausible value, except `bad` (param, value).
    fn fill(&self, template: &str, bad: Option<(&str, &str)>) -> String {
        let mut out = String::new();
        let mut rest = template;
        while let Some(open) = rest.find('{') {
            out.push_str(&rest[..open]);
            let close = rest[open..].find('}').map_or(rest.len(), |c| open + c);
            let name = &rest[open + 1..close];
            let value = match bad {
                Some((b, v)) if b == name => v.to_owned(),
                _ => match name {
                    "company_id" => demo::COMPANY_ID.to_string(),
                    "project_id" => self.project_id.to_string(),
                    "vendor_id" => self.vendor_id.to_string(),
                    _ => "1".to_owned(),
                },
            };
            out.push_str(&value);
            rest = &rest[(close + 1).min(rest.len())..];
        }
        out.push_str(rest);
        out
    }

    fn base_query(&self) -> String {
        format!(
            "project_id={}&company_id={}&file_id=1",
            self.project_id,
            demo::COMPANY_ID
        )
    }

    fn case(&self, method: &Method, path: String) -> Case {
        Case {
            method: method.clone(),
            path,
            query: self.base_query(),
            token: Some(self.t.token.clone()),
            company: Some(demo::COMPANY_ID.to_string()),
            body: Payload::None,
        }
    }

    fn build(&self, c: &Case) -> RequestBuilder {
        let url = format!("{}{}?{}", self.t.run.url(), c.path, c.query);
        let mut b = self.t.http.request(c.method.clone(), url);
        if let Some(tok) = &c.token {
            b = b.bearer_auth(tok);
        }
        if let Some(co) = &c.company {
            b = b.header("Procore-Company-Id", co);
        }
        match &c.body {
            Payload::None => b,
            Payload::Json(s) => b.header("Content-Type", "application/json").body(s.clone()),
            Payload::Form(s) => b
                .header("Content-Type", "application/x-www-form-urlencoded")
                .body(s.clone()),
            Payload::Multipart(parts) => {
                let mut form = reqwest::multipart::Form::new();
                for (name, bytes, filename) in parts {
                    let mut part = reqwest::multipart::Part::bytes(bytes.clone());
                    if let Some(f) = filename {
                        part = part.file_name(*f);
                    }
                    form = form.part(name.clone(), part);
                }
                b.multipart(form)
            }
            Payload::Raw(ct, bytes) => b.header("Content-Type", *ct).body(bytes.clone()),
        }
    }

    async fn send(&mut self, c: Case) {
        self.sent += 1;
        let what = format!(
            "{} {}?{} token={} company={:?} {}",
            c.method,
            clip(&c.path),
            clip(&c.query),
            c.token.is_some(),
            c.company.as_deref().map(clip),
            c.body.describe()
        );
        let resp = match self.build(&c).send().await {
            Ok(r) => r,
            Err(e) => {
                self.findings.push(format!("{what}: no answer: {e}"));
                return;
            }
        };
        let status = resp.status().as_u16();
        let ct = resp
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        let bytes = match resp.bytes().await {
            Ok(b) => b,
            Err(e) => {
                self.findings
                    .push(format!("{what}: {status} with a broken body: {e}"));
                return;
            }
        };
        if status >= 500 {
            self.findings.push(format!(
                "{what}: {status} {}",
                clip(&String::from_utf8_lossy(&bytes))
            ));
            return;
        }
        if bodiless_is_documented(&c.method, &c.path, status, &ct) {
            return;
        }
        match serde_json::from_slice::<Value>(&bytes) {
            Ok(v) if status >= 400 && !is_error_shape(&v) => self.findings.push(format!(
                "{what}: {status} in no documented error shape: {}",
                clip(&v.to_string())
            )),
            Ok(_) if !ct.starts_with("application/json") => self
                .findings
                .push(format!("{what}: {status} JSON sent as {ct:?}")),
            Ok(_) => {}
            Err(_) => self.findings.push(format!(
                "{what}: {status} not JSON ({ct:?}): {:?}",
                clip(&String::from_utf8_lossy(&bytes))
            )),
        }
    }

    fn random_string(&mut self) -> String {
        let pool = [
            "",
            " ",
            "a",
            "Ω≈ç√",
            "☃",
            "\u{0}",
            "\u{202e}",
            "'; DROP TABLE x;--",
            "%s%n",
            "1e309",
            "-0",
            "null",
            "true",
            "2026-13-45",
            "../../etc/passwd",
        ];
        let n = self.rng.random_range(0..pool.len() + 1);
        match pool.get(n) {
            Some(s) => (*s).to_owned(),
            None => "x".repeat(self.rng.random_range(1..3000)),
        }
    }

    fn random_json(&mut self, depth: u32) -> Value {
        let pick = if depth == 0 {
            self.rng.random_range(0..6)
        } else {
            self.rng.random_range(0..8)
        };
        match pick {
            0 => Value::Null,
            1 => Value::Bool(self.rng.random()),
            2 => [
                json!(i64::MIN),
                json!(i64::MAX),
                json!(-1),
                json!(0),
                json!(u64::MAX),
                json!(1.5),
                json!(-1e308),
                json!(f64::MAX),
            ][self.rng.random_range(0..8)]
            .clone(),
            3..=5 => Value::String(self.random_string()),
            6 => Value::Array(
                (0..self.rng.random_range(0..4))
                    .map(|_| self.random_json(depth - 1))
                    .collect(),
            ),
            _ => {
                let mut m = Map::new();
                for _ in 0..self.rng.random_range(0..6) {
                    let k = KEYS[self.rng.random_range(0..KEYS.len())];
                    m.insert(k.to_owned(), self.random_json(depth - 1));
                }
                Value::Object(m)
            }
        }
    }

    /// Bodies of the wrong JSON type, wrappers of the wrong type, properties of the wrong
    /// type inside the wrappers, sync items that are not objects, and malformed JSON.
    fn json_bodies(&mut self) -> Vec<String> {
        let mut out: Vec<String> = [
            "\"str\"",
            "[]",
            "[1,2]",
            "42",
            "null",
            "true",
            "{}",
            "{\"a\":",
            "\u{feff}{}",
            "{\"updates\": \"x\"}",
            "{\"updates\": [1, \"a\", null, [], {\"id\": \"x\"}, {\"id\": 99999999999999999999}]}",
            "{\"updates\": {\"id\": 1}}",
            "{\"ids\": \"x\", \"part_etags\": 7, \"segments\": {\"a\": 1}}",
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
        for wrong in [json!("str"), json!([1]), json!(7), Value::Null, json!(true)] {
            let all: Map<String, Value> = WRAPPERS
                .iter()
                .map(|w| ((*w).to_owned(), wrong.clone()))
                .collect();
            out.push(Value::Object(all).to_string());
        }
        for _ in 0..4 {
            let inner = self.random_json(3);
            let mut props = Map::new();
            for k in KEYS {
                let v = self.random_json(2);
                props.insert((*k).to_owned(), v);
            }
            let mut all: Map<String, Value> = WRAPPERS
                .iter()
                .map(|w| ((*w).to_owned(), Value::Object(props.clone())))
                .collect();
            all.extend(props);
            out.push(Value::Object(all).to_string());
            out.push(inner.to_string());
        }
        out
    }

    fn form_bodies(&mut self) -> Vec<String> {
        let mut out = vec![
            "user[first_name]=&user[last_name]=%00&updates[][id]=x&updates[][id]=&updates[]=1"
                .to_owned(),
            "project[custom_fields][x][y]=1&project[name][]=a&project=b".to_owned(),
            "file[data]=zz&file[name]=a.pdf&file[parent_id]=abc&file_version[data]=1".to_owned(),
            "%ff%fe=%ff&[=]&a[[b]]=1&=&&==".to_owned(),
        ];
        let mut junk = String::new();
        for (i, w) in WRAPPERS.iter().enumerate() {
            let k = KEYS[(i * 7) % KEYS.len()];
            let v = self.random_string();
            junk.push_str(&format!(
                "{w}[{k}]={}&",
                url::form_urlencoded::byte_serialize(v.as_bytes()).collect::<String>()
            ));
        }
        out.push(junk);
        out
    }

    fn multipart_bodies(&mut self) -> Vec<Vec<Part>> {
        let junk: Vec<u8> = (0..self.rng.random_range(0..2048))
            .map(|_| self.rng.random())
            .collect();
        vec![
            vec![
                ("user[first_name]".into(), b"Ada".to_vec(), None),
                ("updates[][id]".into(), b"x".to_vec(), None),
                ("user[avatar]".into(), junk.clone(), Some("a.png")),
            ],
            vec![
                ("file[name]".into(), b"fuzz.bin".to_vec(), None),
                ("file[parent_id]".into(), b"-1".to_vec(), None),
                ("file[data]".into(), junk.clone(), Some("fuzz.bin")),
                ("file_version[data]".into(), junk.clone(), None),
            ],
            vec![
                ("".into(), junk.clone(), None),
                ("[".into(), vec![0xff, 0xfe], None),
            ],
        ]
    }

    async fn operation(&mut self, method: &Method, template: &str) {
        let params = params_of(template);
        let good = self.fill(template, None);

        // Malformed path ids, one parameter at a time.
        for p in &params {
            for bad in BAD_IDS {
                let c = self.case(method, self.fill(template, Some((p, bad))));
                self.send(c).await;
            }
            let huge = "9".repeat(2000);
            let c = self.case(method, self.fill(template, Some((p, &huge))));
            self.send(c).await;
        }

        // Credentials and the company header.
        let mut c = self.case(method, good.clone());
        c.token = None;
        self.send(c).await;
        let mut c = self.case(method, good.clone());
        c.token = Some("not-a-token".into());
        self.send(c).await;
        for company in [
            None,
            Some("abc"),
            Some("-1"),
            Some("99999999999999999999"),
            Some("1"),
        ] {
            let mut c = self.case(method, good.clone());
            c.company = company.map(str::to_owned);
            self.send(c).await;
        }

        // Odd query strings.
        for q in [
            "page=-1&per_page=abc",
            "page=0&per_page=0",
            "page=99999999999999999999&per_page=99999999999999999999",
            "filters=junk&filters[id]=abc&filters[updated_at]=x...y&filters[vendor_id][]=z",
            "sort=%ff&view=nope&project_id=abc&company_id=-1",
            "project_id=&company_id=&file_id=x",
            "a[=1&%zz=%zz&&=",
        ] {
            let mut c = self.case(method, good.clone());
            c.query = format!("{q}&{}", self.base_query());
            self.send(c).await;
            let mut c = self.case(method, good.clone());
            c.query = q.to_owned();
            self.send(c).await;
        }

        // Bodies, in every encoding; GETs get them too, since a client may send one.
        for body in self.json_bodies() {
            let mut c = self.case(method, good.clone());
            c.body = Payload::Json(body);
            self.send(c).await;
        }
        for body in self.form_bodies() {
            let mut c = self.case(method, good.clone());
            c.body = Payload::Form(body);
            self.send(c).await;
        }
        for parts in self.multipart_bodies() {
            let mut c = self.case(method, good.clone());
            c.body = Payload::Multipart(parts);
            self.send(c).await;
        }
        for (ct, bytes) in [
            ("text/xml", b"<user/>".to_vec()),
            ("multipart/form-data", b"--x\r\n\r\n".to_vec()),
            (
                "multipart/form-data; boundary=x",
                b"--x\r\nnot a part".to_vec(),
            ),
            ("application/json", vec![0xff, 0xfe, 0x00]),
            ("application/x-www-form-urlencoded", vec![0xff, b'=', 0xfe]),
        ] {
            let mut c = self.case(method, good.clone());
            c.body = Payload::Raw(ct, bytes);
            self.send(c).await;
        }
    }
}

#[tokio::test]
async fn no_input_to_any_operation_gets_a_5xx_or_an_answer_that_is_not_json() {
    let t = start().await;
    let mut ops = procore_sim::operations();
    ops.extend(procore_sim::operations_beyond_the_subset());
    assert!(ops.len() > 50, "only {} operations", ops.len());
    let mut f = Fuzz::new(&t, 0x007e_571e);
    for (method, template) in &ops {
        f.operation(method, template).await;
    }
    // Routes Procore does not have, and methods the routes do not take.
    for (method, path) in [
        (Method::GET, "/rest/v1.0/nope"),
        (Method::PUT, "/rest/v1.0/projects"),
        (Method::DELETE, "/rest/v1.0/me"),
        (Method::OPTIONS, "/rest/v1.0/projects"),
        (Method::POST, "/oauth/nope"),
        (Method::GET, "/rest/v9.9/companies/1/users"),
    ] {
        let c = f.case(&method, path.to_owned());
        f.send(c).await;
    }
    let (s, me) = t.json(t.get("/rest/v1.0/me")).await;
    assert_eq!(s, 200, "the simulator stopped answering: {me}");
    assert!(f.sent > ops.len() * 50, "only {} requests sent", f.sent);
    assert!(
        f.findings.is_empty(),
        "{} of {} requests answered badly:\n{}",
        f.findings.len(),
        f.sent,
        f.findings
            .iter()
            .take(40)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}

/// The path parameters of an OpenAPI path template, in order.
fn params_of(template: &str) -> Vec<String> {
    template
        .split('{')
        .skip(1)
        .filter_map(|s| s.split('}').next())
        .map(str::to_owned)
        .collect()
}

#[tokio::test]
async fn every_rest_operation_is_401_without_a_token_and_404_or_403_for_ids_that_do_not_exist() {
    let t = start().await;
    let mut ops = procore_sim::operations();
    ops.extend(procore_sim::operations_beyond_the_subset());
    let f = Fuzz::new(&t, 1);
    let mut wrong = Vec::new();
    for (method, template) in ops.iter().filter(|(_, p)| p.starts_with("/rest/")) {
        let mut c = f.case(method, f.fill(template, None));
        c.token = None;
        let (s, v) = t.json(f.build(&c)).await;
        if s != 401 || v["error"] != "invalid_token" {
            wrong.push(format!("{method} {template} without a token: {s} {v}"));
        }
        for p in params_of(template) {
            let c = f.case(method, f.fill(template, Some((&p, "98765432101"))));
            let (s, v) = t.json(f.build(&c)).await;
            // A company the app is not installed in is Procore's documented 403.
            let expected = if p == "company_id" {
                s == 403 && v["message"] == "App is not connected to this company"
            } else {
                s == 404 && v["error"]["code"] == "not_found"
            };
            if !expected {
                wrong.push(format!("{method} {template} with an unknown {p}: {s} {v}"));
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[tokio::test]
async fn every_operation_over_the_rate_limit_is_429_with_procores_body_and_retry_after() {
    let t = start().await;
    t.sim().set_rate_limits(Some(procore_sim::RateLimits {
        hourly: 10_000,
        spike: 1,
        hourly_window: std::time::Duration::from_secs(3600),
        spike_window: std::time::Duration::from_secs(3600),
    }));
    let (s, _) = t.json(t.get("/rest/v1.0/me")).await;
    assert_eq!(s, 200, "the one request the budget allows");
    let mut ops = procore_sim::operations();
    ops.extend(procore_sim::operations_beyond_the_subset());
    let f = Fuzz::new(&t, 2);
    let mut wrong = Vec::new();
    for (method, template) in &ops {
        let r = f
            .build(&f.case(method, f.fill(template, None)))
            .send()
            .await
            .unwrap();
        let retry = r.headers().get("retry-after").is_some();
        let s = r.status().as_u16();
        let v: Value = r.json().await.unwrap_or(Value::Null);
        if s != 429 || !retry || v["error"]["code"] != "rate_limited" {
            wrong.push(format!("{method} {template}: {s} retry-after={retry} {v}"));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
