//! Opening what every command needs: the store with its secret key, and a Procore client.

use crate::settings::Settings;
use anyhow::{bail, Context, Result};
use secrecy::ExposeSecret;
use std::path::Path;
use std::sync::Arc;
use store::{Connection, SecretKey, Store};

/// Opens the store named by the settings, creating the SQLite file's folder if needed.
pub async fn open_store(settings: &Settings) -> Result<Store> {
    let url = &settings.store.database_url;
    if let Some(path) = url.strip_prefix("sqlite://") {
        let path = path.split('?').next().unwrap_or(path);
        if let Some(dir) = Path::new(path)
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
        {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
    }
    let key = secret_key(settings)?;
    Store::open(url, key)
        .await
        .with_context(|| format!("opening the store at {}", redact_url(url)))
}

/// The key from the settings, or from the key file (created with mode 0600 on first use).
fn secret_key(settings: &Settings) -> Result<SecretKey> {
    if let Some(key) = &settings.store.secret_key {
        return SecretKey::from_base64(key.expose_secret())
            .context("store.secret_key (TRESTLE_STORE__SECRET_KEY) is not a base64 32-byte key");
    }
    let path = &settings.store.secret_key_file;
    if path.exists() {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        return SecretKey::from_base64(text.trim())
            .with_context(|| format!("{} does not hold a base64 32-byte key", path.display()));
    }
    let key = SecretKey::generate();
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    write_private(path, key.to_base64().expose_secret().as_bytes())?;
    Ok(key)
}

fn write_private(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    file.write_all(bytes)?;
    Ok(())
}

/// The sync lock of one company: held for a whole sync run, released when the process ends
/// however it ends (even `kill -9` or an abort).
///
/// Every `trestle` process that syncs a company takes this lock, so the process holding it
/// knows no other one is syncing that company: any outbox lease left over belongs to a process
/// that crashed, and the run takes it back at once (a restarted trestle finishes interrupted
/// uploads on its next run instead of five minutes later), and no other sync saves the Procore
/// mirror meanwhile. Two syncs started together run one after the other. On a SQLite store it
/// is a lock file beside the database (one file, one host); on PostgreSQL, shared by processes
/// on several hosts, an advisory lock in the database.
pub struct SyncLock {
    _file: Option<std::fs::File>,
    _database: Option<store::CompanyLock>,
}

fn waiting(company: i64) {
    eprintln!("Another trestle is syncing Procore company {company}; waiting for it to finish.");
}

/// Takes the sync lock of `company`; `None` for an in-memory SQLite store (nothing to share).
pub async fn sync_lock(
    settings: &Settings,
    store: &Store,
    company: i64,
) -> Result<Option<SyncLock>> {
    if let Some(lock) = store
        .lock_company(company, || waiting(company))
        .await
        .context("taking the company's sync lock in the database")?
    {
        return Ok(Some(SyncLock {
            _file: None,
            _database: Some(lock),
        }));
    }
    let url = &settings.store.database_url;
    if store::Backend::of_url(url).ok() != Some(store::Backend::Sqlite) {
        return Ok(None);
    }
    let path = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .unwrap_or(url);
    let path = path.split('?').next().unwrap_or(path);
    if path.is_empty() || path.contains(":memory:") {
        return Ok(None);
    }
    let lock_path = format!("{path}.sync-{company}.lock");
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .with_context(|| format!("opening the sync lock {lock_path}"))?;
    match file.try_lock() {
        Ok(()) => {}
        Err(std::fs::TryLockError::WouldBlock) => {
            waiting(company);
            file.lock()
                .with_context(|| format!("waiting for the sync lock {lock_path}"))?;
        }
        Err(std::fs::TryLockError::Error(e)) => {
            return Err(e).with_context(|| format!("taking the sync lock {lock_path}"));
        }
    }
    Ok(Some(SyncLock {
        _file: Some(file),
        _database: None,
    }))
}

/// A database URL with any password taken out, for messages.
pub fn redact_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("redacted"));
            u.to_string()
        }
        _ => url.to_string(),
    }
}

/// A Procore client for a saved connection, with the hosts from the settings.
pub fn client_for(
    settings: &Settings,
    connection: &Connection,
    store: &Store,
) -> Result<procore::Client> {
    Ok(procore::Client::new(config_for(
        settings, connection, store,
    )?)?)
}

/// The client configuration for a connection: hosts from the settings, and for the
/// authorization-code grant the database token store.
pub fn config_for(
    settings: &Settings,
    connection: &Connection,
    store: &Store,
) -> Result<procore::ClientConfig> {
    let (api, login) = settings.procore.bases()?;
    let credentials = match settings.procore.grant {
        crate::settings::Grant::ClientCredentials => procore::Credentials::client_credentials(
            connection.client_id.clone(),
            connection.client_secret.expose_secret().to_string(),
        ),
        crate::settings::Grant::AuthorizationCode => procore::Credentials::authorization_code(
            connection.client_id.clone(),
            connection.client_secret.expose_secret().to_string(),
            settings.procore.redirect_uri.clone(),
            Arc::new(sync::tokens::StoreTokenStore::new(
                store.clone(),
                connection.company_id,
            )),
        ),
    };
    let mut config = procore::ClientConfig::custom(
        api.as_str(),
        procore::CompanyId(connection.company_id),
        credentials,
    )?;
    config.login_base = login;
    Ok(config)
}

/// The connection a command works on: the one named, the one in the settings, or the only one.
pub async fn pick_connection(
    store: &Store,
    settings: &Settings,
    asked: Option<i64>,
) -> Result<Connection> {
    let wanted = asked.or(settings.procore.company_id);
    let all = store.connections().await?;
    match wanted {
        Some(id) => all
            .into_iter()
            .find(|c| c.company_id == id)
            .with_context(|| format!("Procore company {id} is not connected; run `trestle connect --company-id {id}` first")),
        None => match all.len() {
            0 => bail!("no Procore company is connected; run `trestle connect` first"),
            1 => Ok(all.into_iter().next().expect("one")),
            _ => bail!("several Procore companies are connected; name one with --company-id"),
        },
    }
}
