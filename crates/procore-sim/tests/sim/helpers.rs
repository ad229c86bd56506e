use procore_sim::{demo, spawn, Running, Sim, SimConfig, World};
use reqwest::{Client, RequestBuilder, Response};
use serde_json::Value;

pub struct T {
    pub run: Running,
    pub http: Client,
    pub token: String,
}

pub fn no_limits() -> SimConfig {
    SimConfig {
        rate_limits: None,
        ..SimConfig::default()
    }
}

pub async fn start_with(world: World, config: SimConfig) -> T {
    let run = spawn(Sim::new(world, config)).await;
    let http = Client::new();
    let token = client_credentials(&http, &run.url()).await;
    T { run, http, token }
}

pub async fn start() -> T {
    start_with(demo::world(), no_limits()).await
}

pub async fn client_credentials(http: &Client, url: &str) -> String {
    let r: Value = http
        .post(format!("{url}/oauth/token"))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", demo::CLIENT_ID),
            ("client_secret", demo::CLIENT_SECRET),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    r["access_token"].as_str().unwrap().to_owned()
}

impl T {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.run.url(), path)
    }
    pub fn sim(&self) -> &Sim {
        self.run.sim()
    }
    pub fn get(&self, path: &str) -> RequestBuilder {
        self.auth(self.http.get(self.url(path)))
    }
    pub fn post(&self, path: &str) -> RequestBuilder {
        self.auth(self.http.post(self.url(path)))
    }
    pub fn patch(&self, path: &str) -> RequestBuilder {
        self.auth(self.http.patch(self.url(path)))
    }
    pub fn auth(&self, b: RequestBuilder) -> RequestBuilder {
        b.bearer_auth(&self.token)
            .header("Procore-Company-Id", demo::COMPANY_ID.to_string())
    }
    pub async fn json(&self, b: RequestBuilder) -> (u16, Value) {
        let r = b.send().await.unwrap();
        let s = r.status().as_u16();
        (s, r.json().await.unwrap_or(Value::Null))
    }
    /// A permitted, active project by name.
    pub fn project(&self, name: &str) -> i64 {
        self.sim().read(|w| {
            w.projects
                .values()
                .find(|p| p.name == name)
                .map(|p| p.id)
                .unwrap()
        })
    }
    pub fn vendor(&self, name: &str) -> i64 {
        self.sim().read(|w| {
            w.vendors
                .values()
                .find(|v| v.name == name)
                .map(|v| v.id)
                .unwrap()
        })
    }
}

pub fn header(r: &Response, name: &str) -> Option<String> {
    r.headers()
        .get(name)
        .map(|v| v.to_str().unwrap().to_owned())
}
