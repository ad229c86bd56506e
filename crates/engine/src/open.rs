//! Opening what every use case needs: the store with its secret key, the company's sync lock,
//! a Procore client for a saved connection, and the connection a request is about.

use crate::settings::{Grant, Settings, SettingsError};
use secrecy::ExposeSecret;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use store::{Connection, CryptoError, SecretKey, Store, StoreError};

/// What stopped the store, the lock, a client or the connection from being opened. Each names
/// the setting, file or record to change; a face adds how to change it in its own words.
// Inner errors' text is part of these ones', so none is also a `source` (a chain printed with
// `{:#}` would say it twice).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OpenError {
    #[error(transparent)]
    Settings(#[from] SettingsError),
    /// A file or folder trestle keeps (the store's, the key's, a lock's) could not be used.
    #[error("{doing} {}: {error}", path.display())]
    File {
        /// What was being done: "creating", "reading", "opening the sync lock", ...
        doing: &'static str,
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("store.secret_key (TRESTLE_STORE__SECRET_KEY) is not a base64 32-byte key: {0}")]
    BadSecretKey(CryptoError),
    #[error("{} does not hold a base64 32-byte key: {error}", path.display())]
    BadKeyFile { path: PathBuf, error: CryptoError },
    /// The key opens every sealed secret, so a key file others may read is a leak to fix, not
    /// one to use.
    #[error("the secret key file {} may be read by others (mode {mode:o}); make it private with `chmod 600 {}`", path.display(), path.display())]
    KeyFileShared { path: PathBuf, mode: u32 },
    /// `url` is shown without its password.
    #[error("opening the store at {url}: {error}")]
    Store { url: String, error: StoreError },
    #[error("taking the company's sync lock in the database: {0}")]
    DatabaseLock(StoreError),
    #[error("reading the connections: {0}")]
    Connections(StoreError),
    #[error("Procore company {0} is not connected")]
    NotConnected(i64),
    #[error("no Procore company is connected")]
    NoneConnected,
    /// None was named, and there is more than one to choose from.
    #[error("several Procore companies are connected ({}) and none was named", ids(.0))]
    SeveralConnected(Vec<i64>),
    #[error("the Procore client: {0}")]
    Client(procore::Error),
}

fn ids(companies: &[i64]) -> String {
    companies
        .iter()
        .map(i64::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

fn file_error(doing: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> OpenError {
    let path = path.to_path_buf();
    move |error| OpenError::File { doing, path, error }
}

/// Opens the store named by the settings. A SQLite store's folder and file are made private
/// (0700 and 0600) when trestle creates them: the file holds workers' personal data, and the
/// folder by default also holds the secret key.
///
/// # Errors
/// The folder, file or key cannot be made or read, or the store refuses to open.
pub async fn open_store(settings: &Settings) -> Result<Store, OpenError> {
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
    let key = secret_key(settings).await?;
    Ok(Store::open(url, key)
        .await
        .map_err(|error| OpenError::Store {
            url: store::redact_url(url),
            error,
        })?
        .with_run_log_days(settings.store.run_log_days))
}

/// The key from the settings, or from the key file (created with mode 0600 on first use, and
/// refused when others may read it).
async fn secret_key(settings: &Settings) -> Result<SecretKey, OpenError> {
    if let Some(key) = &settings.store.secret_key {
        return SecretKey::from_base64(key.expose_secret()).map_err(OpenError::BadSecretKey);
    }
    let path = &settings.store.secret_key_file;
    if path.exists() {
        return read_key_file(path).await;
    }
    let key = SecretKey::generate();
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        create_private_dir(dir)?;
    }
    if create_private_file(path, key.to_base64().expose_secret().as_bytes())? {
        Ok(key)
    } else {
        // Another trestle created the key first: use that one.
        read_key_file(path).await
    }
}

/// Reads the key file, refusing one others may read. A file another trestle has just created
/// may not hold its key yet, so an empty one is read again for up to a second.
async fn read_key_file(path: &Path) -> Result<SecretKey, OpenError> {
    check_private(path)?;
    let mut text = String::new();
    for _ in 0..10 {
        text = std::fs::read_to_string(path).map_err(file_error("reading", path))?;
        if !text.trim().is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    SecretKey::from_base64(text.trim()).map_err(|error| OpenError::BadKeyFile {
        path: path.to_path_buf(),
        error,
    })
}

/// Says so (in the log) when a store file others may read holds workers' personal data (an
/// install from before trestle made it private, or a copy); trestle does not change a file it
/// did not create.
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
fn create_private_dir(dir: &Path) -> Result<(), OpenError> {
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
    builder.create(dir).map_err(file_error("creating", dir))
}

/// Creates a new file only its owner may read, and makes its bytes and its name durable before
/// returning: a key lost to a power cut would make every sealed secret unreadable. `false`
/// when the file already exists (another process made it first); nothing is written then.
fn create_private_file(path: &Path, bytes: &[u8]) -> Result<bool, OpenError> {
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
        Err(e) => return Err(file_error("creating", path)(e)),
    };
    file.write_all(bytes)
        .and_then(|()| file.sync_all())
        .map_err(file_error("writing", path))?;
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

/// Refuses a key file that its group or others may read or write.
fn check_private(path: &Path) -> Result<(), OpenError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path)
            .map_err(file_error("reading", path))?
            .permissions()
            .mode();
        if mode & 0o077 != 0 {
            return Err(OpenError::KeyFileShared {
                path: path.to_path_buf(),
                mode: mode & 0o777,
            });
        }
    }
    Ok(())
}

/// The sync lock of one company: held for a whole sync run, released when it is dropped or
/// the process ends however it ends (even `kill -9` or an abort).
///
/// Every trestle process that syncs a company takes this lock, so the one holding it knows no
/// other one is syncing that company: any outbox lease left over belongs to a process that
/// crashed, and the run takes it back at once (a restarted trestle finishes interrupted
/// uploads on its next run instead of five minutes later), and no other sync saves the Procore
/// mirror meanwhile. Two syncs started together run one after the other. On a SQLite store it
/// is a lock file beside the database (one file, one host); on PostgreSQL, shared by processes
/// on several hosts, an advisory lock in the database.
#[derive(Debug)]
pub struct SyncLock {
    _file: Option<std::fs::File>,
    _database: Option<store::CompanyLock>,
}

/// The lock file of `company` for a SQLite store: beside the database, named after the file
/// itself, not after how the URL spells it, so the same file reached through a symlink or
/// another path takes the same lock. `None` without a file (PostgreSQL, in memory).
fn lock_file(database_url: &str, company: i64) -> Result<Option<PathBuf>, OpenError> {
    let Some(path) = store::sqlite_file(database_url) else {
        return Ok(None);
    };
    let path = std::fs::canonicalize(&path).map_err(file_error("finding the store file", &path))?;
    let mut name = path.into_os_string();
    name.push(format!(".sync-{company}.lock"));
    Ok(Some(name.into()))
}

/// How often a sync waiting for another one's lock file tries it again. The wait is a loop of
/// tries rather than a blocking `lock()`, so it holds no thread and a caller can drop it (a
/// signal stopping the CLI's `--every`, a server shutting down).
const LOCK_RETRY: std::time::Duration = std::time::Duration::from_millis(250);

/// Takes the sync lock of `company`, waiting while another process holds it (`on_wait` is told
/// once, when it has to wait). `None` for an in-memory SQLite store (nothing to share).
///
/// # Errors
/// The database lock or the lock file cannot be taken.
pub async fn sync_lock(
    settings: &Settings,
    store: &Store,
    company: i64,
    on_wait: impl FnOnce() + Send,
) -> Result<Option<SyncLock>, OpenError> {
    let mut on_wait = Some(on_wait);
    let mut told = || {
        if let Some(tell) = on_wait.take() {
            tell();
        }
    };
    if let Some(lock) = store
        .lock_company(company, &mut told)
        .await
        .map_err(OpenError::DatabaseLock)?
    {
        return Ok(Some(SyncLock {
            _file: None,
            _database: Some(lock),
        }));
    }
    let Some(path) = lock_file(&settings.store.database_url, company)? else {
        return Ok(None);
    };
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(file_error("opening the sync lock", &path))?;
    loop {
        match file.try_lock() {
            Ok(()) => break,
            Err(std::fs::TryLockError::WouldBlock) => {
                told();
                tokio::time::sleep(LOCK_RETRY).await;
            }
            Err(std::fs::TryLockError::Error(e)) => {
                return Err(file_error("taking the sync lock", &path)(e));
            }
        }
    }
    Ok(Some(SyncLock {
        _file: Some(file),
        _database: None,
    }))
}

/// A Procore client for a saved connection, with the hosts from the settings.
///
/// # Errors
/// The settings name no usable hosts, or the client cannot be built.
pub fn client_for(
    settings: &Settings,
    connection: &Connection,
    store: &Store,
) -> Result<procore::Client, OpenError> {
    procore::Client::new(config_for(settings, connection, store)?).map_err(OpenError::Client)
}

/// The client configuration for a connection: hosts from the settings, and for the
/// authorization-code grant the database token store.
///
/// # Errors
/// The settings name no usable hosts.
pub fn config_for(
    settings: &Settings,
    connection: &Connection,
    store: &Store,
) -> Result<procore::ClientConfig, OpenError> {
    let (api, login) = settings.procore.bases()?;
    let credentials = match settings.procore.grant {
        Grant::ClientCredentials => procore::Credentials::client_credentials(
            connection.client_id.clone(),
            connection.client_secret.expose_secret().to_string(),
        ),
        Grant::AuthorizationCode => procore::Credentials::authorization_code(
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
    )
    .map_err(OpenError::Client)?;
    config.login_base = login;
    Ok(config)
}

/// The connection a request is about: the company asked for, else the one in the settings,
/// else the only one connected.
///
/// # Errors
/// The company wanted is not connected; none is; several are and none was named.
pub async fn pick_connection(
    store: &Store,
    settings: &Settings,
    asked: Option<i64>,
) -> Result<Connection, OpenError> {
    let wanted = asked.or(settings.procore.company_id);
    let mut all = store.connections().await.map_err(OpenError::Connections)?;
    match wanted {
        Some(id) => all
            .into_iter()
            .find(|c| c.company_id == id)
            .ok_or(OpenError::NotConnected(id)),
        None => match all.len() {
            0 => Err(OpenError::NoneConnected),
            1 => Ok(all.remove(0)),
            _ => Err(OpenError::SeveralConnected(
                all.iter().map(|c| c.company_id).collect(),
            )),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::SecretString;

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

    /// Settings for a SQLite store and key file in `dir`.
    fn settings_in(dir: &Path) -> Settings {
        let mut settings = Settings::default();
        settings.store.database_url = format!("sqlite://{}", dir.join("trestle.sqlite").display());
        settings.store.secret_key_file = dir.join("secret.key");
        settings
    }

    async fn store_with(settings: &Settings, companies: &[i64]) -> Store {
        let store = open_store(settings).await.unwrap();
        for &company in companies {
            let secret = SecretString::from("s".to_string());
            store
                .save_connection(&Connection::new(company, "client", secret), None)
                .await
                .unwrap();
        }
        store
    }

    #[tokio::test]
    async fn a_company_asked_for_that_is_not_connected_is_named_in_the_error() {
        let dir = tempfile::tempdir().unwrap();
        let settings = settings_in(dir.path());
        let store = store_with(&settings, &[1]).await;
        let err = pick_connection(&store, &settings, Some(2))
            .await
            .unwrap_err();
        assert!(matches!(err, OpenError::NotConnected(2)), "{err:?}");
        assert_eq!(err.to_string(), "Procore company 2 is not connected");
    }

    #[tokio::test]
    async fn without_a_company_named_the_only_connection_is_picked_and_several_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let settings = settings_in(dir.path());
        let store = store_with(&settings, &[]).await;
        let none = pick_connection(&store, &settings, None).await.unwrap_err();
        assert!(matches!(none, OpenError::NoneConnected), "{none:?}");

        let store = store_with(&settings, &[5]).await;
        let only = pick_connection(&store, &settings, None).await.unwrap();
        assert_eq!(only.company_id, 5);

        let store = store_with(&settings, &[6]).await;
        let several = pick_connection(&store, &settings, None).await.unwrap_err();
        assert!(
            matches!(&several, OpenError::SeveralConnected(ids) if ids == &[5, 6]),
            "{several:?}"
        );
        let mut configured = settings.clone();
        configured.procore.company_id = Some(6);
        let picked = pick_connection(&store, &configured, None).await.unwrap();
        assert_eq!(picked.company_id, 6, "the configured company decides");
    }

    #[tokio::test]
    async fn a_store_opened_again_reads_the_key_its_first_opening_created() {
        let dir = tempfile::tempdir().unwrap();
        let settings = settings_in(dir.path());
        store_with(&settings, &[3]).await;
        let again = open_store(&settings).await.unwrap();
        let connection = again.connection(3).await.unwrap().unwrap();
        assert_eq!(
            connection.client_secret.expose_secret(),
            "s",
            "the sealed secret opens"
        );
    }

    #[tokio::test]
    async fn a_key_file_others_may_read_is_refused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let settings = settings_in(dir.path());
        store_with(&settings, &[]).await;
        let key = &settings.store.secret_key_file;
        std::fs::set_permissions(key, std::fs::Permissions::from_mode(0o644)).unwrap();
        let err = open_store(&settings).await.unwrap_err();
        assert!(
            matches!(&err, OpenError::KeyFileShared { path, mode: 0o644 } if path == key),
            "{err:?}"
        );
    }

    #[tokio::test]
    async fn a_second_sync_of_a_company_waits_for_the_first_to_release_its_lock() {
        let dir = tempfile::tempdir().unwrap();
        let settings = settings_in(dir.path());
        let store = store_with(&settings, &[]).await;
        let first = sync_lock(&settings, &store, 9, || {}).await.unwrap();
        assert!(first.is_some(), "a SQLite file store has a lock file");
        let (waiting_tx, waiting_rx) = tokio::sync::oneshot::channel();
        let second = {
            let (settings, store) = (settings.clone(), store.clone());
            tokio::spawn(async move {
                sync_lock(&settings, &store, 9, move || {
                    let _ = waiting_tx.send(());
                })
                .await
                .map(|lock| lock.is_some())
            })
        };
        waiting_rx.await.expect("the second was told it waits");
        assert!(!second.is_finished(), "it waits while the first holds it");
        drop(first);
        assert!(
            second.await.unwrap().unwrap(),
            "it takes the lock once released"
        );
    }
}
