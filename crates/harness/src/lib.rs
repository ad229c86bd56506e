//! The tests' `spawn_app`: `trestle serve`'s library on an ephemeral port over the shared kit
//! (the simulator's demo company, a real SQLite store), with the first administrator's token
//! made as the operations guide makes it. Written once for the API's and the web UI's tests.

use chrono::Utc;
use engine::tokens::TokenRequest;
use secrecy::ExposeSecret;
use server::{Running, ServerConfig};
use std::sync::Arc;
use std::time::Duration;
use store::ApiScope;
use testkit::Kit;

/// The settings `trestle serve` would have for the simulator at `sim_url`.
pub fn engine_settings(sim_url: &str) -> engine::Settings {
    let mut settings = engine::Settings::default();
    settings.procore.environment = engine::settings::Environment::Custom;
    settings.procore.api_base = Some(sim_url.parse().expect("the simulator's URL"));
    settings.procore.login_base = Some(sim_url.parse().expect("the simulator's URL"));
    settings
}

/// A running server over a kit, and an admin token.
pub struct Served {
    pub kit: Kit,
    pub server: Running,
    /// The first administrator's token.
    pub admin: String,
}

impl Served {
    /// The demo company, connected, on SQLite.
    pub async fn start() -> Served {
        Self::with(|_| {}).await
    }

    /// [`Served::start`] with the connection's settings changed first.
    pub async fn with(settings: impl FnOnce(&mut store::Connection)) -> Served {
        Self::on(demo_kit(settings).await).await
    }

    /// The server on a store where no company is connected yet: a fresh deployment.
    pub async fn fresh() -> Served {
        let kit = Kit::demo().await;
        kit.store
            .delete_connection(kit.company)
            .await
            .expect("forgetting the connection");
        Self::on(kit).await
    }

    /// [`Served::start`] with `server.public_url` set: Procore is told to deliver the company's
    /// webhooks there.
    pub async fn reached_at(public_url: &str) -> Served {
        Self::serve(demo_kit(|_| {}).await, Some(public_url)).await
    }

    /// The server over `kit`, with short polling and retries so tests do not wait.
    pub async fn on(kit: Kit) -> Served {
        Self::serve(kit, None).await
    }

    async fn serve(kit: Kit, public_url: Option<&str>) -> Served {
        let sim_url = kit.sim.url();
        // Built from the connection, as the binary builds them: a changed secret takes effect.
        let clients: server::Clients = Arc::new(move |c| {
            procore::ClientConfig::custom(
                &sim_url,
                procore::CompanyId(c.company_id),
                procore::Credentials::client_credentials(
                    c.client_id.clone(),
                    c.client_secret.expose_secret().to_string(),
                ),
            )
            .and_then(procore::Client::new)
            .map_err(|e| e.to_string())
        });
        let config = ServerConfig {
            poll_every: Duration::from_millis(100),
            schedule_every: Duration::from_millis(200),
            retry_base: Duration::from_millis(100),
            retry_cap: Duration::from_millis(500),
            settings: Some(Arc::new({
                let mut settings = engine_settings(&kit.sim.url());
                settings.server.public_url = public_url.map(|u| u.parse().expect("a public URL"));
                settings
            })),
            ..ServerConfig::default()
        };
        let server = server::spawn(kit.store.clone(), config, clients, |_| {
            public_url.map(str::to_string)
        })
        .await
        .expect("binding the server");
        let admin = token_on(&kit.store, "first admin", ApiScope::Admin).await;
        Served { kit, server, admin }
    }

    /// A new token of `scope`.
    pub async fn token(&self, name: &str, scope: ApiScope) -> String {
        token_on(&self.kit.store, name, scope).await
    }
}

/// The demo company on SQLite, connected with `settings`.
async fn demo_kit(settings: impl FnOnce(&mut store::Connection)) -> Kit {
    Kit::spawn(
        procore_sim::demo::world(),
        testkit::quiet(),
        testkit::Backend::Sqlite,
        settings,
    )
    .await
}

/// A new token of `scope` on `store`, as `trestle token create` makes it.
pub async fn token_on(store: &store::Store, name: &str, scope: ApiScope) -> String {
    let made = engine::tokens::create(store, &TokenRequest { name, scope }, Utc::now())
        .await
        .expect("making a token");
    made.secret.expose_secret().to_string()
}
