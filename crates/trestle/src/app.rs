//! Opening what every command needs: the store with its secret key, and a Procore client.

use anyhow::{bail, Context, Result};
use engine::settings::Settings;
use secrecy::ExposeSecret;
use std::path::Path;
use std::sync::Arc;
use store::{Connection, SecretKey, Store};

/// Opens the store named by the settings. A SQLite store's folder and file are made private
/// (0700 and 0600) when trestle creates them: the file holds workers' personal data, and the
/// folder by default also holds the secret key.
pub async fn open_store(settings: &Settings) -> Result<Store> {
    let url = &settings.store.database_url;
    if let Some(path) = store::sqlite_file(url) {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            create_private_dir(dir)?;
        }
        if path.exists() {
            warn_if_shared(&path);
        } else {
            // Another trestle starting at the same moment may create it first: either way it
            // exists, private, afterwards.
            create_private_file(&path, b"")?;
        }
    }
    let key = secret_key(settings)?;
    Ok(Store::open(url, key)
        .await
        .with_context(|| format!("opening the store at {}", store::redact_url(url)))?
        .with_run_log_days(settings.store.run_log_days))
}

/// The key from the settings, or from the key file (created with mode 0600 on first use, and
/// refused when others may read it).
fn secret_key(settings: &Settings) -> Result<SecretKey> {
    if let Some(key) = &settings.store.secret_key {
        return SecretKey::from_base64(key.expose_secret())
            .context("store.secret_key (TRESTLE_STORE__SECRET_KEY) is not a base64 32-byte key");
    }
    let path = &settings.store.secret_key_file;
    if path.exists() {
        return read_key_file(path);
    }
    let key = SecretKey::generate();
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        create_private_dir(dir)?;
    }
    if create_private_file(path, key.to_base64().expose_secret().as_bytes())? {
        Ok(key)
    } else {
        // Another trestle created the key first: use that one.
        read_key_file(path)
    }
}

/// Reads the key file, refusing one others may read. A file another trestle has just created
/// may not hold its key yet, so an empty one is read again for up to a second.
fn read_key_file(path: &Path) -> Result<SecretKey> {
    check_private(path)?;
    let mut text = String::new();
    for _ in 0..10 {
        text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        if !text.trim().is_empty() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    SecretKey::from_base64(text.trim())
        .with_context(|| format!("{} does not hold a base64 32-byte key", path.display()))
}

/// Says so when a store file others may read holds workers' personal data (an install from
/// before trestle made it private, or a copy); trestle does not change a file it did not create.
fn warn_if_shared(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(meta) = std::fs::metadata(path) {
            let mode = meta.permissions().mode();
            if mode & 0o077 != 0 {
                tracing::warn!(
                    "the store {} may be read by others (mode {:o}) and holds workers' personal data; make it private with `chmod 600 {}`",
                    path.display(),
                    mode & 0o777,
                    path.display()
                );
            }
        }
    }
}

/// Creates `dir` (and its parents) when missing; the folder trestle creates last is 0700.
fn create_private_dir(dir: &Path) -> Result<()> {
    if dir.exists() {
        return Ok(());
    }
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder
        .create(dir)
        .with_context(|| format!("creating {}", dir.display()))
}

/// Creates a new file only its owner may read, and makes its bytes and its name durable before
/// returning: a key lost to a power cut would make every sealed secret unreadable. `false`
/// when the file already exists (another process made it first); nothing is written then.
fn create_private_file(path: &Path, bytes: &[u8]) -> Result<bool> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = match options.open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => return Ok(false),
        Err(e) => return Err(e).with_context(|| format!("creating {}", path.display())),
    };
    file.write_all(bytes)
        .and_then(|()| file.sync_all())
        .with_context(|| format!("writing {}", path.display()))?;
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    if let Ok(dir) = std::fs::File::open(dir) {
        // Not every platform can sync a directory; the file itself is already durable.
        let _ = dir.sync_all();
    }
    Ok(true)
}

/// Refuses a key file that its group or others may read or write: the key opens every sealed
/// secret, so a readable one is a leak to fix, not to use.
fn check_private(path: &Path) -> Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path)
            .with_context(|| format!("reading {}", path.display()))?
            .permissions()
            .mode();
        if mode & 0o077 != 0 {
            bail!(
                "the secret key file {} may be read by others (mode {:o}); make it private with `chmod 600 {}` and run again",
                path.display(),
                mode & 0o777,
                path.display()
            );
        }
    }
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

/// The lock file of `company` for a SQLite store: beside the database, named after the file
/// itself, not after how the URL spells it, so the same file reached through a symlink or
/// another path takes the same lock. `None` without a file (PostgreSQL, in memory).
fn lock_file(database_url: &str, company: i64) -> Result<Option<std::path::PathBuf>> {
    let Some(path) = store::sqlite_file(database_url) else {
        return Ok(None);
    };
    let path = std::fs::canonicalize(&path)
        .with_context(|| format!("finding the store file {}", path.display()))?;
    let mut name = path.into_os_string();
    name.push(format!(".sync-{company}.lock"));
    Ok(Some(name.into()))
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
    let Some(lock_path) = lock_file(&settings.store.database_url, company)? else {
        return Ok(None);
    };
    let lock_path = lock_path.display().to_string();
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
        engine::settings::Grant::ClientCredentials => procore::Credentials::client_credentials(
            connection.client_id.clone(),
            connection.client_secret.expose_secret().to_string(),
        ),
        engine::settings::Grant::AuthorizationCode => procore::Credentials::authorization_code(
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

#[cfg(test)]
mod tests {
    use super::lock_file;

    #[test]
    fn the_same_store_file_under_any_name_has_one_lock_file() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("trestle.sqlite");
        std::fs::write(&real, b"").unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        let alias = dir.path().join("alias.sqlite");
        std::os::unix::fs::symlink(&real, &alias).unwrap();
        let spellings = [
            format!("sqlite://{}", real.display()),
            format!("sqlite:{}", alias.display()),
            format!("{}/sub/../trestle.sqlite?mode=rwc", dir.path().display()),
        ];
        let locks: Vec<_> = spellings
            .iter()
            .map(|url| lock_file(url, 7).unwrap().unwrap())
            .collect();
        assert!(locks.iter().all(|l| l == &locks[0]), "{locks:?}");
        assert!(locks[0].ends_with("trestle.sqlite.sync-7.lock"));
        assert_eq!(lock_file("postgres://h/db", 7).unwrap(), None);
    }
}
