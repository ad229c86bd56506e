//! Layered settings: built-in defaults, then a TOML file, then `TRESTLE_*` environment variables
//! (`__` separates sections: `TRESTLE_PROCORE__COMPANY_ID`); each face adds its own layer on top
//! (the CLI's flags).
//!
//! Secrets may come from a file (`client_secret_file`) so containers can mount them, and neither
//! `Debug` nor the serialized form (`trestle config show`) shows them: `SecretString` redacts
//! itself, and URLs that may carry a password are shown without it.

use chrono::{FixedOffset, NaiveTime};
use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use secrecy::SecretString;
use serde::de::{Deserializer, Error as _, Visitor};
use serde::{Deserialize, Serialize, Serializer};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;
use url::Url;

/// The commented example a face prints for people to start from (`trestle config example`);
/// a test parses it back, so it cannot drift from what [`Settings::load`] accepts.
pub const EXAMPLE: &str = include_str!("../trestle.example.toml");

/// Why the settings could not be read. Each says which setting (or file) to change.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SettingsError {
    /// A settings file was named explicitly and is not there.
    #[error("the settings file {} does not exist", path.display())]
    FileMissing { path: PathBuf },
    /// A value is malformed or a key is unknown; figment's text names the key.
    // The inner text is part of this one's, so it is not also its `source` (a chain printed
    // with `{:#}` would say it twice).
    #[error("reading settings (defaults, trestle.toml, TRESTLE_* variables): {0}")]
    Invalid(Box<figment::Error>),
    #[error("procore.environment = \"custom\" needs both procore.api_base and procore.login_base")]
    CustomNeedsBases,
    #[error("no Procore client secret: set procore.client_secret, procore.client_secret_file or TRESTLE_PROCORE__CLIENT_SECRET")]
    NoClientSecret,
    #[error("reading procore.client_secret_file {}: {error}", path.display())]
    SecretFile {
        path: PathBuf,
        error: std::io::Error,
    },
}

/// Every setting trestle reads.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    #[serde(default)]
    pub procore: ProcoreSettings,
    #[serde(default)]
    pub store: StoreSettings,
    #[serde(default)]
    pub server: ServerSettings,
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
    #[serde(serialize_with = "redact", deserialize_with = "secret", default)]
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
    #[serde(serialize_with = "redact", deserialize_with = "secret", default)]
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

/// The always-on service (`trestle serve`): where it listens, what its scheduler runs when,
/// and how much work it takes on. Durations are written as text (`"15m"`, `"1d"`), as in the
/// example file.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ServerSettings {
    /// The address and port the server binds.
    #[serde(deserialize_with = "listen", serialize_with = "display")]
    pub listen: SocketAddr,
    /// Where Procore delivers webhooks (the server's address as Procore reaches it). Unset: no
    /// webhooks are registered, and the reconcile runs alone keep companies in sync.
    #[serde(
        deserialize_with = "public_url",
        serialize_with = "redact_public_url",
        default
    )]
    pub public_url: Option<Url>,
    /// How often each company gets an incremental sync, which catches what webhooks missed.
    #[serde(deserialize_with = "interval", serialize_with = "duration")]
    pub reconcile_every: Duration,
    /// How often each company gets a sync that reads every collection whole, which notices
    /// records deleted in Procore or hidden from the integration user.
    #[serde(deserialize_with = "interval", serialize_with = "duration")]
    pub full_reconcile_every: Duration,
    /// The time of day (in `utc_offset`) of the daily compliance evaluation, which moves
    /// expiring and expired policies.
    #[serde(deserialize_with = "time_of_day", serialize_with = "hh_mm")]
    pub evaluate_at: NaiveTime,
    /// The local time zone `evaluate_at` is read in, as a fixed offset from UTC.
    #[serde(deserialize_with = "utc_offset", serialize_with = "display")]
    pub utc_offset: FixedOffset,
    /// Jobs one process runs at once.
    #[serde(deserialize_with = "at_least_one")]
    pub workers: u32,
    /// How long a stopping server lets the jobs under way finish before it drops them (they
    /// are crash-safe: the next run finishes what they left).
    #[serde(deserialize_with = "grace", serialize_with = "duration")]
    pub shutdown_grace: Duration,
    /// The largest webhook body accepted, in bytes; a larger one is refused unread.
    #[serde(deserialize_with = "at_least_one")]
    pub max_body_bytes: usize,
    /// How many times a job is tried (with backoff) before it is left dead, for a person to
    /// see and retry.
    #[serde(deserialize_with = "at_least_one")]
    pub job_attempts: u32,
    /// How long a job stays with the process that took it without word from it (a heartbeat
    /// renews it every third of this): a process that died this long ago has its jobs taken
    /// up by the others.
    #[serde(deserialize_with = "interval", serialize_with = "duration")]
    pub job_lease: Duration,
    /// The longest wait between two tries of a failed job (waits double from a few seconds up
    /// to this): lower it where a job waiting long after Procore recovered costs more than the
    /// requests of trying sooner.
    #[serde(deserialize_with = "interval", serialize_with = "duration")]
    pub job_retry_cap: Duration,
    /// How long done jobs and processed webhook deliveries are kept before they are pruned:
    /// what `trestle jobs` can still show, and how late a repeated delivery is still known as
    /// a repeat. Dead jobs stay until a person retries them.
    #[serde(deserialize_with = "interval", serialize_with = "duration")]
    pub keep_done_for: Duration,
    /// How the server writes its log lines.
    pub log_format: LogFormat,
}

impl Default for ServerSettings {
    fn default() -> Self {
        ServerSettings {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            public_url: None,
            reconcile_every: Duration::from_secs(15 * 60),
            full_reconcile_every: Duration::from_secs(24 * 60 * 60),
            evaluate_at: NaiveTime::from_hms_opt(6, 0, 0).expect("06:00 is a time"),
            utc_offset: FixedOffset::east_opt(0).expect("zero is an offset"),
            workers: 4,
            shutdown_grace: Duration::from_secs(30),
            max_body_bytes: 256 * 1024,
            job_attempts: 8,
            job_lease: Duration::from_secs(60),
            job_retry_cap: Duration::from_secs(60 * 60),
            keep_done_for: Duration::from_secs(7 * 24 * 60 * 60),
            log_format: LogFormat::Text,
        }
    }
}

/// How log lines are written: `text` for people at a terminal, `json` for a log collector.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

fn redact<S: Serializer>(v: &Option<SecretString>, s: S) -> Result<S::Ok, S::Error> {
    match v {
        Some(_) => s.serialize_some("[redacted]"),
        None => s.serialize_none(),
    }
}

fn redact_url<S: Serializer>(url: &str, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&store::redact_url(url))
}

/// A public URL could carry credentials in its user part or query: shown without them.
fn redact_public_url<S: Serializer>(url: &Option<Url>, s: S) -> Result<S::Ok, S::Error> {
    match url {
        Some(url) => s.serialize_some(&store::redact_url(url.as_str())),
        None => s.serialize_none(),
    }
}

fn display<S: Serializer, T: std::fmt::Display>(v: &T, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(v)
}

fn duration<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(&humantime::format_duration(*d))
}

fn hh_mm<S: Serializer>(t: &NaiveTime, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(&t.format("%H:%M"))
}

/// Reads a setting as text whatever type its layer gave it. An environment variable of digits
/// arrives as a number (`TRESTLE_PROCORE__CLIENT_SECRET=123456`, `TRESTLE_SERVER__WORKERS=8`):
/// a secret must still be read (an error would quote it), and a bad value must get the error
/// that says what to write, not "expected a string".
struct Text;

impl<'de> Visitor<'de> for Text {
    type Value = String;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("text")
    }

    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<String, E> {
        Ok(v.to_owned())
    }

    fn visit_string<E: serde::de::Error>(self, v: String) -> Result<String, E> {
        Ok(v)
    }

    fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<String, E> {
        Ok(v.to_string())
    }

    fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<String, E> {
        Ok(v.to_string())
    }

    fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<String, E> {
        Ok(v.to_string())
    }

    fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<String, E> {
        Ok(v.to_string())
    }

    /// An unset value (the defaults' `None`) reads as empty text.
    fn visit_none<E: serde::de::Error>(self) -> Result<String, E> {
        Ok(String::new())
    }

    fn visit_unit<E: serde::de::Error>(self) -> Result<String, E> {
        Ok(String::new())
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<String, D::Error> {
        d.deserialize_any(Text)
    }
}

/// A setting's text through `parse`, whose error says what to write; figment adds the key.
fn parsed<'de, D: Deserializer<'de>, T>(
    d: D,
    parse: impl FnOnce(&str) -> Result<T, String>,
) -> Result<T, D::Error> {
    let text = d.deserialize_any(Text)?;
    parse(text.trim()).map_err(D::Error::custom)
}

/// Empty text is no secret, so an environment variable can clear one.
fn secret<'de, D: Deserializer<'de>>(d: D) -> Result<Option<SecretString>, D::Error> {
    let text = d.deserialize_any(Text)?;
    Ok((!text.is_empty()).then(|| SecretString::from(text)))
}

fn listen<'de, D: Deserializer<'de>>(d: D) -> Result<SocketAddr, D::Error> {
    parsed(d, |s| {
        s.parse().map_err(|_| {
            format!("\"{s}\" is not an address and port; write one such as \"127.0.0.1:8080\" or \"0.0.0.0:8080\"")
        })
    })
}

fn public_url<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Url>, D::Error> {
    parsed(d, parse_public_url)
}

/// An absolute http(s) URL; empty text means unset, so an environment variable can clear it.
fn parse_public_url(s: &str) -> Result<Option<Url>, String> {
    if s.is_empty() {
        return Ok(None);
    }
    match Url::parse(s) {
        Ok(url) if matches!(url.scheme(), "http" | "https") && url.has_host() => Ok(Some(url)),
        _ => Err(format!(
            "\"{}\" is not an absolute http(s) URL; write one such as \"https://trestle.example.com\"",
            store::redact_url(s)
        )),
    }
}

fn parse_duration(s: &str) -> Result<Duration, String> {
    humantime::parse_duration(s).map_err(|_| {
        format!("\"{s}\" is not a duration; write one such as \"30s\", \"15m\", \"6h\" or \"1d\"")
    })
}

/// A schedule's interval: at least a second, so a typo cannot make a busy loop.
fn interval<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    parsed(d, |s| {
        let d = parse_duration(s)?;
        if d < Duration::from_secs(1) {
            return Err(format!(
                "\"{s}\" is too short; write a duration of at least 1s, such as \"15m\" or \"1d\""
            ));
        }
        Ok(d)
    })
}

fn grace<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    parsed(d, parse_duration)
}

fn time_of_day<'de, D: Deserializer<'de>>(d: D) -> Result<NaiveTime, D::Error> {
    parsed(d, |s| {
        NaiveTime::parse_from_str(s, "%H:%M").map_err(|_| {
            format!(
                "\"{s}\" is not a time of day; write HH:MM on a 24-hour clock, such as \"06:00\""
            )
        })
    })
}

fn utc_offset<'de, D: Deserializer<'de>>(d: D) -> Result<FixedOffset, D::Error> {
    parsed(d, parse_utc_offset)
}

/// `+HH:MM` or `-HH:MM`, and nothing looser: an offset misread by an hour moves the daily
/// evaluation without anyone noticing.
fn parse_utc_offset(s: &str) -> Result<FixedOffset, String> {
    let refused = || {
        format!(
            "\"{s}\" is not a UTC offset; write +HH:MM or -HH:MM, such as \"+00:00\" or \"-05:00\""
        )
    };
    let bytes = s.as_bytes();
    let digits = |r: std::ops::Range<usize>| -> Option<i32> {
        let part = s.get(r)?;
        part.bytes()
            .all(|b| b.is_ascii_digit())
            .then(|| part.parse().ok())?
    };
    let sign = match bytes.first() {
        Some(b'+') => 1,
        Some(b'-') => -1,
        _ => return Err(refused()),
    };
    if bytes.len() != 6 || bytes[3] != b':' {
        return Err(refused());
    }
    let (Some(hours), Some(minutes)) = (digits(1..3), digits(4..6)) else {
        return Err(refused());
    };
    if hours > 23 || minutes > 59 {
        return Err(refused());
    }
    FixedOffset::east_opt(sign * (hours * 3600 + minutes * 60)).ok_or_else(refused)
}

fn at_least_one<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: std::str::FromStr + PartialOrd + From<u8>,
{
    parsed(d, |s| match s.parse::<T>() {
        Ok(n) if n >= T::from(1) => Ok(n),
        _ => Err(format!("\"{s}\" is not a whole number of at least 1")),
    })
}

impl Settings {
    /// Loads defaults < `file` (if it exists, or if it was asked for explicitly) < the
    /// `TRESTLE_*` environment.
    ///
    /// # Errors
    /// A file asked for that is missing; a malformed file or variable, named with the key
    /// that was wrong.
    pub fn load(file: Option<&Path>) -> Result<Settings, SettingsError> {
        // TRESTLE_CRASH_AT is read by the binary for the crash tests, not a setting.
        Self::load_from(
            file,
            Env::prefixed("TRESTLE_").ignore(&["CRASH_AT"]).split("__"),
        )
    }

    fn load_from(file: Option<&Path>, env: Env) -> Result<Settings, SettingsError> {
        let mut figment = Figment::from(Serialized::defaults(Settings::default()));
        match file {
            Some(path) => {
                if !path.exists() {
                    return Err(SettingsError::FileMissing {
                        path: path.to_path_buf(),
                    });
                }
                figment = figment.merge(Toml::file(path));
            }
            None => figment = figment.merge(Toml::file("trestle.toml")),
        }
        figment
            .merge(env)
            .extract()
            .map_err(|e| SettingsError::Invalid(Box::new(e)))
    }
}

impl ProcoreSettings {
    /// The API and login base URLs for the chosen environment.
    ///
    /// # Errors
    /// `custom` without both URLs.
    pub fn bases(&self) -> Result<(Url, Url), SettingsError> {
        let env = match self.environment {
            Environment::Production => procore::Environment::Production,
            Environment::Sandbox => procore::Environment::DeveloperSandbox,
            Environment::MonthlySandbox => procore::Environment::MonthlySandbox,
            Environment::Custom => {
                let (Some(api), Some(login)) = (&self.api_base, &self.login_base) else {
                    return Err(SettingsError::CustomNeedsBases);
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
    pub fn secret(&self) -> Result<SecretString, SettingsError> {
        if let Some(secret) = &self.client_secret {
            return Ok(secret.clone());
        }
        if let Some(path) = &self.client_secret_file {
            let text =
                std::fs::read_to_string(path).map_err(|error| SettingsError::SecretFile {
                    path: path.clone(),
                    error,
                })?;
            return Ok(SecretString::from(text.trim().to_string()));
        }
        Err(SettingsError::NoClientSecret)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    /// figment's Env reads the process environment; a prefix unique to the test keeps tests
    /// (which share the process) independent.
    fn env_from(test: &str, pairs: &[(&str, &str)]) -> Env {
        let prefix = format!("TRESTLE_T{}_{}_", std::process::id(), test.to_uppercase());
        for (k, v) in pairs {
            std::env::set_var(format!("{prefix}{k}"), v);
        }
        Env::prefixed(&prefix).split("__")
    }

    fn no_env() -> Env {
        Env::prefixed("TRESTLE_NEVER_SET_")
    }

    fn load_toml(text: &str) -> Result<Settings, SettingsError> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("trestle.toml");
        std::fs::write(&path, text).unwrap();
        Settings::load_from(Some(&path), no_env())
    }

    #[test]
    fn the_example_settings_file_parses_back_to_the_defaults() {
        let settings = load_toml(EXAMPLE).unwrap();
        assert_eq!(settings.procore.environment, Environment::Production);
        assert_eq!(settings.server, ServerSettings::default());
    }

    #[test]
    fn the_example_settings_file_documents_every_server_setting() {
        let shown = serde_json::to_value(ServerSettings::default()).unwrap();
        for key in shown.as_object().unwrap().keys() {
            assert!(
                EXAMPLE.contains(&format!("\n{key} = "))
                    || EXAMPLE.contains(&format!("# {key} = ")),
                "server.{key} is not in the example"
            );
        }
    }

    #[test]
    fn environment_variables_override_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("trestle.toml");
        std::fs::write(&path, "[procore]\ncompany_id = 1\n").unwrap();
        let env = env_from("override", &[("PROCORE__COMPANY_ID", "42")]);
        let settings = Settings::load_from(Some(&path), env).unwrap();
        assert_eq!(settings.procore.company_id, Some(42));
    }

    #[test]
    fn a_misspelled_setting_is_named_in_the_error() {
        let err = load_toml("[procore]\ncompany_idd = 1\n").unwrap_err();
        assert!(err.to_string().contains("company_idd"), "{err}");
    }

    #[test]
    fn a_settings_file_asked_for_that_is_missing_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nowhere.toml");
        let err = Settings::load_from(Some(&path), no_env()).unwrap_err();
        assert!(
            matches!(&err, SettingsError::FileMissing { path: p } if p == &path),
            "{err:?}"
        );
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
    fn a_client_secret_of_digits_from_the_environment_is_read_and_never_quoted() {
        let env = env_from("digits", &[("PROCORE__CLIENT_SECRET", "90817263")]);
        let settings = Settings::load_from(None, env).unwrap();
        assert_eq!(
            settings.procore.secret().unwrap().expose_secret(),
            "90817263"
        );
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
        assert!(matches!(p.bases(), Err(SettingsError::CustomNeedsBases)));
        p.api_base = Some("http://127.0.0.1:3030".parse().unwrap());
        p.login_base = Some("http://127.0.0.1:3030".parse().unwrap());
        assert_eq!(p.bases().unwrap().0.as_str(), "http://127.0.0.1:3030/");
    }

    #[test]
    fn server_settings_are_read_from_the_file_in_the_forms_the_example_shows() {
        let settings = load_toml(
            "[server]\nlisten = \"0.0.0.0:9000\"\npublic_url = \"https://trestle.example.com/\"\n\
             reconcile_every = \"5m\"\nfull_reconcile_every = \"12h\"\nevaluate_at = \"05:30\"\n\
             utc_offset = \"-05:00\"\nworkers = 2\nshutdown_grace = \"0s\"\nmax_body_bytes = 1024\n\
             job_attempts = 3\nkeep_done_for = \"2d\"\nlog_format = \"json\"\n",
        )
        .unwrap();
        let s = settings.server;
        assert_eq!(s.listen, "0.0.0.0:9000".parse().unwrap());
        assert_eq!(
            s.public_url.as_ref().map(Url::as_str),
            Some("https://trestle.example.com/")
        );
        assert_eq!(s.reconcile_every, Duration::from_secs(300));
        assert_eq!(s.full_reconcile_every, Duration::from_secs(12 * 3600));
        assert_eq!(s.evaluate_at, NaiveTime::from_hms_opt(5, 30, 0).unwrap());
        assert_eq!(s.utc_offset.local_minus_utc(), -5 * 3600);
        assert_eq!(s.workers, 2);
        assert_eq!(s.shutdown_grace, Duration::ZERO);
        assert_eq!(s.max_body_bytes, 1024);
        assert_eq!(s.job_attempts, 3);
        assert_eq!(s.keep_done_for, Duration::from_secs(2 * 24 * 3600));
        assert_eq!(s.log_format, LogFormat::Json);
    }

    #[test]
    fn server_settings_from_the_environment_override_the_file_even_when_they_look_like_numbers() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("trestle.toml");
        std::fs::write(&path, "[server]\nworkers = 2\n").unwrap();
        let env = env_from(
            "server",
            &[
                ("SERVER__WORKERS", "16"),
                ("SERVER__UTC_OFFSET", "+05:30"),
                ("SERVER__SHUTDOWN_GRACE", "1m"),
            ],
        );
        let s = Settings::load_from(Some(&path), env).unwrap().server;
        assert_eq!(s.workers, 16);
        assert_eq!(s.utc_offset.local_minus_utc(), 5 * 3600 + 30 * 60);
        assert_eq!(s.shutdown_grace, Duration::from_secs(60));
    }

    #[test]
    fn each_bad_server_value_is_refused_naming_the_setting_and_the_accepted_form() {
        let cases = [
            ("listen = \"localhost\"", "listen", "127.0.0.1:8080"),
            (
                "public_url = \"trestle.example.com\"",
                "public_url",
                "https://",
            ),
            (
                "public_url = \"ftp://trestle.example.com\"",
                "public_url",
                "http(s)",
            ),
            ("reconcile_every = \"15\"", "reconcile_every", "\"15m\""),
            ("reconcile_every = 15", "reconcile_every", "\"15m\""),
            (
                "full_reconcile_every = \"daily\"",
                "full_reconcile_every",
                "\"1d\"",
            ),
            ("reconcile_every = \"0s\"", "reconcile_every", "at least 1s"),
            ("evaluate_at = \"6am\"", "evaluate_at", "HH:MM"),
            ("evaluate_at = \"25:00\"", "evaluate_at", "HH:MM"),
            ("utc_offset = \"UTC\"", "utc_offset", "+HH:MM"),
            ("utc_offset = \"+5:00\"", "utc_offset", "+HH:MM"),
            ("utc_offset = \"+24:00\"", "utc_offset", "+HH:MM"),
            ("workers = 0", "workers", "at least 1"),
            ("workers = \"many\"", "workers", "at least 1"),
            ("shutdown_grace = \"soon\"", "shutdown_grace", "\"30s\""),
            ("max_body_bytes = -1", "max_body_bytes", "at least 1"),
            ("job_attempts = 0", "job_attempts", "at least 1"),
            ("keep_done_for = \"a week\"", "keep_done_for", "\"1d\""),
            ("log_format = \"xml\"", "log_format", "`json`"),
        ];
        for (line, key, form) in cases {
            let err = load_toml(&format!("[server]\n{line}\n")).unwrap_err();
            let said = err.to_string();
            assert!(
                said.contains(&format!("server.{key}")) && said.contains(form),
                "{line}: {said}"
            );
        }
    }

    #[test]
    fn a_public_url_is_shown_without_its_password() {
        let mut settings = Settings::default();
        settings.server.public_url = Some(
            "https://hook:hook-pass@trestle.example.com/"
                .parse()
                .unwrap(),
        );
        let shown = serde_json::to_string(&settings).unwrap();
        assert!(!shown.contains("hook-pass"), "{shown}");
        assert!(shown.contains("trestle.example.com"), "{shown}");
    }

    #[test]
    fn an_empty_public_url_from_the_environment_means_none() {
        let env = env_from("empty_url", &[("SERVER__PUBLIC_URL", "")]);
        let settings = Settings::load_from(None, env).unwrap();
        assert_eq!(settings.server.public_url, None);
    }
}
