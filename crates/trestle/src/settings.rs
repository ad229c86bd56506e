//! Layered settings: built-in defaults, then a TOML file, then `TRESTLE_*` environment variables
//! (`__` separates sections: `TRESTLE_PROCORE__COMPANY_ID`), then command-line flags.
//!
//! Secrets may come from a file (`client_secret_file`) so containers can mount them, and `Debug`
//! never shows them: `SecretString` redacts itself.

use anyhow::{bail, Context, Result};
use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use url::Url;

/// The commented example printed by `trestle config example`; a test parses it back.
pub const EXAMPLE: &str = include_str!("../trestle.example.toml");

/// Every setting trestle reads. Later issues add sections (compliance, server).
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    #[serde(default)]
    pub procore: ProcoreSettings,
    #[serde(default)]
    pub store: StoreSettings,
}

/// Where trestle keeps its records, and the key that seals secrets at rest.
#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoreSettings {
    /// `sqlite://path` (the default: a file, nothing to install) or `postgres://...`. A
    /// PostgreSQL URL may carry a password, so it is shown with the password taken out.
    #[serde(serialize_with = "redact_url")]
    pub database_url: String,
    /// The 32-byte key (base64) that encrypts secrets in the store. Prefer the key file or
    /// `TRESTLE_STORE__SECRET_KEY` over writing it here.
    #[serde(serialize_with = "redact", default)]
    pub secret_key: Option<SecretString>,
    /// Used when `secret_key` is not set; created (mode 0600) on first use.
    pub secret_key_file: PathBuf,
    /// Days the run log keeps a decision that is no longer a record's latest word.
    pub run_log_days: u32,
}

/// By hand, so the database URL's password never reaches debug output.
impl std::fmt::Debug for StoreSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoreSettings")
            .field("database_url", &store::redact_url(&self.database_url))
            .field("secret_key", &self.secret_key)
            .field("secret_key_file", &self.secret_key_file)
            .field("run_log_days", &self.run_log_days)
            .finish()
    }
}

impl Default for StoreSettings {
    fn default() -> Self {
        StoreSettings {
            database_url: "sqlite://.trestle/trestle.sqlite".into(),
            secret_key: None,
            secret_key_file: PathBuf::from(".trestle/secret.key"),
            run_log_days: store::DEFAULT_RUN_LOG_DAYS,
        }
    }
}

/// Which Procore trestle talks to and how it authenticates.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProcoreSettings {
    /// `production`, `sandbox`, `monthly-sandbox`, or `custom` (then `api_base`/`login_base`).
    pub environment: Environment,
    pub api_base: Option<Url>,
    pub login_base: Option<Url>,
    /// The number after `/app/company/` in a Procore URL.
    pub company_id: Option<i64>,
    pub client_id: Option<String>,
    #[serde(serialize_with = "redact", default)]
    pub client_secret: Option<SecretString>,
    pub client_secret_file: Option<PathBuf>,
    /// `client_credentials` (a Developer Managed Service Account) or `authorization_code`.
    pub grant: Grant,
    pub redirect_uri: String,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum Environment {
    Production,
    Sandbox,
    MonthlySandbox,
    Custom,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Grant {
    ClientCredentials,
    AuthorizationCode,
}

impl Default for ProcoreSettings {
    fn default() -> Self {
        ProcoreSettings {
            environment: Environment::Production,
            api_base: None,
            login_base: None,
            company_id: None,
            client_id: None,
            client_secret: None,
            client_secret_file: None,
            grant: Grant::ClientCredentials,
            redirect_uri: "urn:ietf:wg:oauth:2.0:oob".into(),
        }
    }
}

fn redact<S: serde::Serializer>(v: &Option<SecretString>, s: S) -> Result<S::Ok, S::Error> {
    match v {
        Some(_) => s.serialize_some("[redacted]"),
        None => s.serialize_none(),
    }
}

fn redact_url<S: serde::Serializer>(url: &str, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&store::redact_url(url))
}

impl Settings {
    /// Loads defaults < `file` (if it exists, or if it was asked for explicitly) < environment.
    ///
    /// # Errors
    /// A malformed file or variable, named with the key that was wrong.
    pub fn load(file: Option<&Path>) -> Result<Settings> {
        // TRESTLE_CRASH_AT is read by the crash tests' hook (commands.rs), not a setting.
        Self::load_from(
            file,
            Env::prefixed("TRESTLE_").ignore(&["CRASH_AT"]).split("__"),
        )
    }

    fn load_from(file: Option<&Path>, env: Env) -> Result<Settings> {
        let mut figment = Figment::from(Serialized::defaults(Settings::default()));
        match file {
            Some(path) => {
                if !path.exists() {
                    bail!(
                        "the settings file {} does not exist; create it (`trestle config example > {}`) or drop --config",
                        path.display(),
                        path.display()
                    );
                }
                figment = figment.merge(Toml::file(path));
            }
            None => figment = figment.merge(Toml::file("trestle.toml")),
        }
        let settings: Settings = figment
            .merge(env)
            .extract()
            .context("reading settings (defaults, trestle.toml, TRESTLE_* variables)")?;
        Ok(settings)
    }
}

impl ProcoreSettings {
    /// The API and login base URLs for the chosen environment.
    ///
    /// # Errors
    /// `custom` without both URLs.
    pub fn bases(&self) -> Result<(Url, Url)> {
        let env = match self.environment {
            Environment::Production => procore::Environment::Production,
            Environment::Sandbox => procore::Environment::DeveloperSandbox,
            Environment::MonthlySandbox => procore::Environment::MonthlySandbox,
            Environment::Custom => {
                let (Some(api), Some(login)) = (&self.api_base, &self.login_base) else {
                    bail!("procore.environment = \"custom\" needs both procore.api_base and procore.login_base");
                };
                return Ok((api.clone(), login.clone()));
            }
        };
        let (api, login) = env.hosts();
        Ok((
            self.api_base
                .clone()
                .unwrap_or_else(|| api.parse().expect("documented host")),
            self.login_base
                .clone()
                .unwrap_or_else(|| login.parse().expect("documented host")),
        ))
    }

    /// The client secret, from the setting or from `client_secret_file`.
    ///
    /// # Errors
    /// Neither is set, or the file cannot be read.
    pub fn secret(&self) -> Result<SecretString> {
        if let Some(secret) = &self.client_secret {
            return Ok(secret.clone());
        }
        if let Some(path) = &self.client_secret_file {
            let text = std::fs::read_to_string(path).with_context(|| {
                format!("reading procore.client_secret_file {}", path.display())
            })?;
            return Ok(SecretString::from(text.trim().to_string()));
        }
        bail!("no Procore client secret: set procore.client_secret, procore.client_secret_file or TRESTLE_PROCORE__CLIENT_SECRET")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env_from(pairs: &[(&str, &str)]) -> Env {
        // figment's Env reads the process environment; a unique prefix keeps tests independent.
        let prefix = format!("TRESTLE_T{}_", std::process::id());
        for (k, v) in pairs {
            std::env::set_var(format!("{prefix}{k}"), v);
        }
        Env::prefixed(&prefix).split("__")
    }

    #[test]
    fn the_example_settings_file_parses_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("trestle.toml");
        std::fs::write(&path, EXAMPLE).unwrap();
        let settings =
            Settings::load_from(Some(&path), Env::prefixed("TRESTLE_NEVER_SET_")).unwrap();
        assert_eq!(settings.procore.environment, Environment::Production);
    }

    #[test]
    fn environment_variables_override_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("trestle.toml");
        std::fs::write(&path, "[procore]\ncompany_id = 1\n").unwrap();
        let env = env_from(&[("PROCORE__COMPANY_ID", "42")]);
        let settings = Settings::load_from(Some(&path), env).unwrap();
        assert_eq!(settings.procore.company_id, Some(42));
    }

    #[test]
    fn a_misspelled_setting_is_named_in_the_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("trestle.toml");
        std::fs::write(&path, "[procore]\ncompany_idd = 1\n").unwrap();
        let err =
            Settings::load_from(Some(&path), Env::prefixed("TRESTLE_NEVER_SET_")).unwrap_err();
        assert!(format!("{err:#}").contains("company_idd"), "{err:#}");
    }

    #[test]
    fn debug_and_serialized_settings_never_show_the_client_secret() {
        let mut settings = Settings::default();
        settings.procore.client_secret = Some(SecretString::from("super-secret-value".to_string()));
        assert!(!format!("{settings:?}").contains("super-secret-value"));
        let toml = serde_json::to_string(&settings).unwrap();
        assert!(!toml.contains("super-secret-value"));
    }

    #[test]
    fn serialized_and_debug_settings_never_show_the_database_password() {
        let mut settings = Settings::default();
        settings.store.database_url =
            "postgres://trestle:db-pass-1@db.example/trestle?password=db-pass-2".into();
        let shown = format!(
            "{}\n{settings:?}",
            serde_json::to_string(&settings).unwrap()
        );
        assert!(!shown.contains("db-pass-1"), "{shown}");
        assert!(!shown.contains("db-pass-2"), "{shown}");
        assert!(shown.contains("db.example/trestle"), "{shown}");
    }

    #[test]
    fn a_custom_environment_needs_both_base_urls() {
        let mut p = ProcoreSettings {
            environment: Environment::Custom,
            ..ProcoreSettings::default()
        };
        assert!(p.bases().is_err());
        p.api_base = Some("http://127.0.0.1:3030".parse().unwrap());
        p.login_base = Some("http://127.0.0.1:3030".parse().unwrap());
        assert_eq!(p.bases().unwrap().0.as_str(), "http://127.0.0.1:3030/");
    }
}
