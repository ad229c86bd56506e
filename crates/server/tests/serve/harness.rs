//! The server under test, started the way `trestle serve` starts it, over the shared kit.

use server::{Running, ServerConfig};
use std::sync::Arc;
use std::time::Duration;
use sync::workforce::{sync_workforce, WorkforceJob};
use testkit::{client_for, Kit};

pub use testkit::eventually;

/// How long an outcome that arrives on its own may take before the test calls it lost.
pub const PATIENCE: Duration = Duration::from_secs(30);

pub struct App {
    pub kit: Kit,
    pub server: Option<Running>,
}

/// Quick schedules, so a test does not wait for them; the reconcile is off (an hour) unless a
/// test turns it on.
pub fn config() -> ServerConfig {
    ServerConfig {
        reconcile_every: Duration::from_secs(3600),
        poll_every: Duration::from_millis(100),
        schedule_every: Duration::from_millis(200),
        lease: Duration::from_secs(10),
        retry_base: Duration::from_millis(200),
        retry_cap: Duration::from_secs(2),
        shutdown_grace: Duration::from_secs(5),
        ..ServerConfig::default()
    }
}

/// A server over the kit's store, its Procore clients pointed at the kit's simulator.
pub async fn serve(kit: &Kit, config: ServerConfig, webhooks: bool) -> Running {
    let sim_url = kit.sim.url();
    let clients: server::Clients = Arc::new(move |_c| Ok(client_for(&sim_url)));
    server::spawn(kit.store.clone(), config, clients, |url| {
        webhooks.then(|| url.to_string())
    })
    .await
    .expect("binding the server")
}

impl App {
    /// The demo company connected and synced once (as `trestle connect` leaves it), and the
    /// server serving it with webhooks registered at its own address.
    pub async fn start() -> App {
        Self::start_with(config(), true).await
    }

    pub async fn start_with(config: ServerConfig, webhooks: bool) -> App {
        Self::start_full(config, webhooks, |_| {}).await
    }

    /// [`App::start_with`], with the connection's toggles set by `toggles`.
    pub async fn start_full(
        config: ServerConfig,
        webhooks: bool,
        toggles: impl FnOnce(&mut store::Connection),
    ) -> App {
        let kit = Kit::spawn(
            procore_sim::demo::world(),
            testkit::quiet(),
            testkit::Backend::Sqlite,
            toggles,
        )
        .await;
        let job = WorkforceJob {
            client: &kit.client,
            store: &kit.store,
            connection: &kit.connection,
            company_name: None,
            today: chrono::Utc::now().date_naive(),
            now: chrono::Utc::now(),
            full_read: false,
            crash_at: None,
            reclaim_leases: false,
            progress: None,
        };
        sync_workforce(&job, false).await.expect("the initial sync");
        Self::start_on(kit, config, webhooks).await
    }

    /// The demo company with its compliance side set up (see `testkit::compliance::seed`:
    /// projects and companies imported automatically) and synced once, and the server serving
    /// both integrations.
    pub async fn start_compliance() -> App {
        Self::start_compliance_with(testkit::quiet()).await
    }

    /// [`App::start_compliance`] with its own simulator settings.
    pub async fn start_compliance_with(sim: procore_sim::SimConfig) -> App {
        let kit = Kit::spawn(
            procore_sim::demo::world(),
            sim,
            testkit::Backend::Sqlite,
            |_| {},
        )
        .await;
        testkit::compliance::seed(&kit.store, kit.company, |name| {
            kit.sim()
                .read(|w| w.vendors.values().find(|v| v.name == name).map(|v| v.id))
                .expect("a demo vendor")
        })
        .await;
        let mut settings = sync::compliance::load_settings(&kit.store, kit.company)
            .await
            .unwrap();
        settings.new_projects = sync::compliance::NewProjects::ImportAutomatically;
        settings.import_companies_through_commitments = true;
        sync::compliance::save_settings(&kit.store, kit.company, &settings)
            .await
            .unwrap();
        let job = sync::compliance::ComplianceJob {
            client: &kit.client,
            store: &kit.store,
            company_id: kit.company,
            today: chrono::Utc::now().date_naive(),
            full_read: false,
            reclaim_leases: false,
            crash_at: None,
            progress: None,
        };
        sync::compliance::sync_compliance(&job, false)
            .await
            .expect("the first compliance sync");
        Self::start_on(kit, config(), true).await
    }

    async fn start_on(kit: Kit, config: ServerConfig, webhooks: bool) -> App {
        let server = serve(&kit, config, webhooks).await;
        let app = App {
            kit,
            server: Some(server),
        };
        if webhooks {
            app.hook_registered().await;
        }
        // The start's own work (the first reconcile, the hook check) enqueued and done, so
        // whatever happens next in a test is the doing of what the test did.
        let store = &app.kit.store;
        let company = app.kit.company;
        eventually(PATIENCE, "the scheduler's first look", || async move {
            store
                .cursor(company, "service.reconciled.workforce")
                .await
                .unwrap()
                .map(|_| ())
        })
        .await;
        app.idle().await;
        app
    }

    /// Stops the server (as SIGTERM would) and starts another on the same store, as a restarted
    /// process would.
    pub async fn restart(&mut self, config: ServerConfig) {
        if let Some(server) = self.server.take() {
            server.stop().await.expect("a clean stop");
        }
        self.server = Some(serve(&self.kit, config, false).await);
    }

    /// Enqueues `work` as the scheduler would, and waits until the queue is idle again.
    pub async fn run(&self, work: sync::jobs::Work) {
        sync::jobs::enqueue(
            &self.kit.store,
            self.kit.company,
            &work,
            chrono::Utc::now(),
            8,
        )
        .await
        .unwrap();
        self.idle().await;
    }

    /// The paths of the Procore API requests the simulator saw since its log was cleared.
    pub fn api_paths(&self) -> Vec<String> {
        self.kit
            .sim()
            .request_log()
            .into_iter()
            .filter(|r| r.path.starts_with("/rest/"))
            .map(|r| r.path)
            .collect()
    }

    /// Waits until no job is pending or running.
    pub async fn idle(&self) {
        let store = &self.kit.store;
        eventually(PATIENCE, "the queue idle", || async move {
            let busy = store
                .job_counts()
                .await
                .unwrap()
                .into_iter()
                .any(|(_, state, n)| {
                    n > 0 && matches!(state, store::JobState::Pending | store::JobState::Running)
                });
            (!busy).then_some(())
        })
        .await;
    }

    pub fn url(&self) -> &str {
        &self.server.as_ref().expect("running").url
    }

    /// Waits until the simulator holds trestle's hook with its triggers.
    pub async fn hook_registered(&self) {
        let sim = self.kit.sim();
        eventually(PATIENCE, "the hook registered in Procore", || async {
            sim.read(|w| {
                let hook = w
                    .hooks
                    .values()
                    .find(|h| h.namespace.as_deref() == Some("trestle"))?;
                (w.triggers.values().filter(|t| t.hook_id == hook.id).count() >= 6).then_some(())
            })
        })
        .await;
    }

    /// The secret the server registered for the company's hook.
    pub async fn secret(&self) -> String {
        let record = self
            .kit
            .store
            .hook_record(self.kit.company)
            .await
            .unwrap()
            .expect("a hook record");
        secrecy::ExposeSecret::expose_secret(&record.secret).to_string()
    }

    /// POSTs a delivery as Procore would, with `authorization` as the header.
    pub async fn deliver(&self, body: &serde_json::Value, authorization: Option<&str>) -> u16 {
        let mut request = reqwest::Client::new()
            .post(format!(
                "{}/webhooks/procore/{}",
                self.url(),
                self.kit.company
            ))
            .json(body);
        if let Some(a) = authorization {
            request = request.header("Authorization", a);
        }
        request.send().await.unwrap().status().as_u16()
    }

    pub async fn worker_first_name(&self, procore_user: i64) -> Option<String> {
        let links = self
            .kit
            .store
            .links(self.kit.company, store::LinkKind::Worker)
            .await
            .unwrap();
        let worker_id = *links.get(&procore_user)?;
        self.kit
            .store
            .worker(self.kit.company, worker_id)
            .await
            .unwrap()
            .map(|w| w.fields.first_name)
    }

    pub async fn stop(mut self) {
        if let Some(server) = self.server.take() {
            server.stop().await.expect("a clean stop");
        }
    }
}
