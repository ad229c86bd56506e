//! What the use-case tests share: the demo company in a simulator, and settings pointing at
//! it with a SQLite store in a folder of the test's own.

use engine::connect::{ConnectRequest, Toggles};
use engine::settings::Environment;
use engine::Settings;
use procore_sim::demo;
use procore_sim::world::Permissions;
use secrecy::SecretString;
use store::Store;

pub use testkit::spawn_demo_sim;

/// Settings for the simulator at `sim_url`, a store and key file in `dir`.
pub fn settings(sim_url: &str, dir: &std::path::Path) -> Settings {
    let mut settings = Settings::default();
    settings.procore.environment = Environment::Custom;
    settings.procore.api_base = Some(sim_url.parse().unwrap());
    settings.procore.login_base = Some(sim_url.parse().unwrap());
    settings.store.database_url = format!("sqlite://{}", dir.join("trestle.sqlite").display());
    settings.store.secret_key_file = dir.join("secret.key");
    settings
}

/// A simulator, settings for it, and its store open.
pub struct App {
    pub sim: procore_sim::Running,
    pub settings: Settings,
    pub store: Store,
    _dir: tempfile::TempDir,
}

impl App {
    pub async fn new() -> App {
        let sim = spawn_demo_sim().await;
        let dir = tempfile::tempdir().unwrap();
        let settings = settings(&sim.url(), dir.path());
        let store = engine::open::open_store(&settings).await.unwrap();
        App {
            sim,
            settings,
            store,
            _dir: dir,
        }
    }

    /// Changes the permissions of trestle's app in the demo company.
    pub fn set_permissions(&self, change: impl FnOnce(&mut Permissions)) {
        self.sim.sim().write(|w| {
            change(
                &mut w
                    .apps
                    .get_mut(demo::CLIENT_ID)
                    .unwrap()
                    .installations
                    .get_mut(&demo::COMPANY_ID)
                    .unwrap()
                    .permissions,
            )
        })
    }
}

/// Connecting the demo company with the demo app's credentials, toggles left as they are.
pub fn request() -> ConnectRequest {
    ConnectRequest {
        company_id: demo::COMPANY_ID,
        client_id: demo::CLIENT_ID.into(),
        client_secret: SecretString::from(demo::CLIENT_SECRET),
        toggles: Toggles::default(),
        auth_code: None,
        require_compliance: false,
        check_only: false,
        as_read: None,
        keep_credentials: false,
    }
}
