//! Opening a store: the backend switch, the pool, embedded migrations, the key check, and the
//! codecs every module uses to write and read columns.

use crate::crypto::{self, Sealer, SecretKey};
use crate::{CryptoError, Result, Store, StoreError};
use chrono::{DateTime, NaiveDate, Utc};
use sqlx::any::{AnyConnectOptions, AnyPoolOptions, AnyRow};
use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{Any, ConnectOptions as _, Row as _, Transaction};
use std::borrow::Cow;
use std::path::Path;
use std::str::FromStr as _;
use std::sync::Arc;
use std::time::Duration;

/// Which database a store runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Backend {
    /// A SQLite file: the embedded default.
    Sqlite,
    /// A PostgreSQL server: several trestle processes can share it.
    Postgres,
}

/// The embedded migrations, one set per backend (their column types differ).
const SQLITE_MIGRATIONS: &[(i64, &str, &str)] = &[
    (
        1,
        "initial",
        include_str!("../migrations/sqlite/0001_initial.sql"),
    ),
    (
        2,
        "outbox claimed_at",
        include_str!("../migrations/sqlite/0002_outbox_claimed_at.sql"),
    ),
    (
        3,
        "compliance",
        include_str!("../migrations/sqlite/0003_compliance.sql"),
    ),
    (
        4,
        "procore mirror",
        include_str!("../migrations/sqlite/0004_procore_mirror.sql"),
    ),
    (
        5,
        "insurance write target",
        include_str!("../migrations/sqlite/0005_insurance_write_target.sql"),
    ),
    (
        6,
        "run log spans",
        include_str!("../migrations/sqlite/0006_run_log_spans.sql"),
    ),
    (
        7,
        "service",
        include_str!("../migrations/sqlite/0007_service.sql"),
    ),
    (
        8,
        "api tokens",
        include_str!("../migrations/sqlite/0008_api_tokens.sql"),
    ),
    (
        9,
        "idempotency keys",
        include_str!("../migrations/sqlite/0009_idempotency.sql"),
    ),
    (
        10,
        "workforce decisions",
        include_str!("../migrations/sqlite/0010_workforce_decisions.sql"),
    ),
    (
        11,
        "ui sessions",
        include_str!("../migrations/sqlite/0011_ui_sessions.sql"),
    ),
    (
        12,
        "sealed idempotency answers",
        include_str!("../migrations/sqlite/0012_sealed_idempotency_answers.sql"),
    ),
];
const POSTGRES_MIGRATIONS: &[(i64, &str, &str)] = &[
    (
        1,
        "initial",
        include_str!("../migrations/postgres/0001_initial.sql"),
    ),
    (
        2,
        "outbox claimed_at",
        include_str!("../migrations/postgres/0002_outbox_claimed_at.sql"),
    ),
    (
        3,
        "compliance",
        include_str!("../migrations/postgres/0003_compliance.sql"),
    ),
    (
        4,
        "procore mirror",
        include_str!("../migrations/postgres/0004_procore_mirror.sql"),
    ),
    (
        5,
        "insurance write target",
        include_str!("../migrations/postgres/0005_insurance_write_target.sql"),
    ),
    (
        6,
        "run log spans",
        include_str!("../migrations/postgres/0006_run_log_spans.sql"),
    ),
    (
        7,
        "service",
        include_str!("../migrations/postgres/0007_service.sql"),
    ),
    (
        8,
        "api tokens",
        include_str!("../migrations/postgres/0008_api_tokens.sql"),
    ),
    (
        9,
        "idempotency keys",
        include_str!("../migrations/postgres/0009_idempotency.sql"),
    ),
    (
        10,
        "job wakeups",
        include_str!("../migrations/postgres/0010_job_wakeups.sql"),
    ),
    (
        11,
        "workforce decisions",
        include_str!("../migrations/postgres/0011_workforce_decisions.sql"),
    ),
    (
        12,
        "ui sessions",
        include_str!("../migrations/postgres/0012_ui_sessions.sql"),
    ),
    (
        13,
        "sealed idempotency answers",
        include_str!("../migrations/postgres/0013_sealed_idempotency_answers.sql"),
    ),
];

const KEY_CHECK: &str = "secret_key_check";
const KEY_CHECK_CONTEXT: &str = "store_meta.secret_key_check";
const KEY_CHECK_PLAINTEXT: &[u8] = b"trestle secret key check";

impl Backend {
    /// Reads the backend from a database URL; a plain path is a SQLite file.
    pub fn of_url(url: &str) -> Result<Backend> {
        let scheme = url.split_once("://").map(|(s, _)| s);
        match scheme {
            Some("postgres" | "postgresql") => Ok(Backend::Postgres),
            Some("sqlite") => Ok(Backend::Sqlite),
            Some(_) => Err(StoreError::UnsupportedUrl(crate::redact_url(url))),
            None if url.starts_with("sqlite:") => Ok(Backend::Sqlite),
            None => Ok(Backend::Sqlite),
        }
    }

    fn migrations(self) -> &'static [(i64, &'static str, &'static str)] {
        match self {
            Backend::Sqlite => SQLITE_MIGRATIONS,
            Backend::Postgres => POSTGRES_MIGRATIONS,
        }
    }
}

fn migrator(backend: Backend) -> Migrator {
    let migrations = backend
        .migrations()
        .iter()
        .map(|(version, description, sql)| {
            Migration::new(
                *version,
                Cow::Borrowed(*description),
                MigrationType::Simple,
                sqlx::SqlSafeStr::into_sql_str(*sql),
                false,
            )
        })
        .collect();
    Migrator::with_migrations(migrations)
}

/// The connect options for a URL. A plain path, or a `sqlite://` URL without a `mode`, is a
/// SQLite file created when missing: that is what a new user expects of the embedded default.
/// A `sqlite://` URL with `?mode=...` is taken as written.
fn connect_options(url: &str, backend: Backend) -> Result<AnyConnectOptions> {
    let url = match backend {
        Backend::Sqlite if !url.starts_with("sqlite:") => SqliteConnectOptions::new()
            .filename(Path::new(url))
            .create_if_missing(true)
            .to_url_lossy()
            .to_string(),
        Backend::Sqlite if !url.contains("mode=") => {
            let sep = if url.contains('?') { '&' } else { '?' };
            format!("{url}{sep}mode=rwc")
        }
        _ => url.to_string(),
    };
    AnyConnectOptions::from_str(&url).map_err(StoreError::Database)
}

impl Store {
    /// Opens the store at `url`, brings its schema up to date, and checks that `key` is the key
    /// its secrets were sealed with.
    ///
    /// `url` is a SQLite file path, `sqlite://PATH[?mode=rwc]`, or `postgres://...`. SQLite runs
    /// in WAL mode with foreign keys on and a busy timeout, so readers never wait for the writer
    /// and writers queue instead of failing.
    ///
    /// # Errors
    /// [`StoreError::UnsupportedUrl`], [`StoreError::Database`] when the database cannot be
    /// reached, [`StoreError::Migration`], or [`CryptoError::WrongKey`] when the database's
    /// secrets were sealed with another key.
    pub async fn open(url: &str, key: SecretKey) -> Result<Store> {
        sqlx::any::install_default_drivers();
        let backend = Backend::of_url(url)?;
        let options = connect_options(url, backend)?;
        let pool = match backend {
            Backend::Sqlite => {
                // WAL is a property of the file: set it once, on one connection, before the pool
                // opens more (changing it needs an exclusive lock that busy_timeout cannot wait on).
                let mut first =
                    <sqlx::AnyConnection as sqlx::Connection>::connect_with(&options).await?;
                sqlx::query("PRAGMA journal_mode = WAL")
                    .execute(&mut first)
                    .await?;
                sqlx::Connection::close(first).await?;
                AnyPoolOptions::new()
                    .max_connections(8)
                    .after_connect(|conn, _meta| {
                        Box::pin(async move {
                            sqlx::query("PRAGMA foreign_keys = ON")
                                .execute(&mut *conn)
                                .await?;
                            sqlx::query("PRAGMA busy_timeout = 10000")
                                .execute(&mut *conn)
                                .await?;
                            Ok(())
                        })
                    })
                    .connect_with(options)
                    .await?
            }
            Backend::Postgres => {
                AnyPoolOptions::new()
                    .max_connections(10)
                    .acquire_timeout(Duration::from_secs(10))
                    .connect_with(options)
                    .await?
            }
        };
        migrator(backend)
            .run(&pool)
            .await
            .map_err(StoreError::Migration)?;
        let store = Store {
            pool,
            backend,
            sealer: Arc::new(Sealer::new(&key)),
            run_log_days: crate::runlog::DEFAULT_RUN_LOG_DAYS,
            fence: None,
            url: Arc::new(secrecy::SecretString::from(url)),
        };
        store.check_key().await?;
        Ok(store)
    }

    /// Which database this store runs on.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Whether the store can take work: the database answers, and every migration this
    /// version embeds is applied (another process may have opened an older schema, or a
    /// migration failed halfway). What `/readyz` asks.
    ///
    /// # Errors
    /// [`StoreError::Database`] when the database does not answer; [`StoreError::Invalid`]
    /// naming the migrations missing.
    pub async fn check_ready(&self) -> Result<()> {
        let applied: Vec<i64> =
            sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success = TRUE")
                .fetch_all(&self.pool)
                .await?;
        let missing: Vec<String> = migrator(self.backend)
            .iter()
            .filter(|m| !applied.contains(&m.version))
            .map(|m| format!("{} ({})", m.version, m.description))
            .collect();
        if missing.is_empty() {
            Ok(())
        } else {
            Err(StoreError::Invalid(format!(
                "the database lacks migrations {}; start a trestle of this version once to apply them",
                missing.join(", ")
            )))
        }
    }

    /// Closes the pool; pending connections finish first.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// Seals a known value on first open and opens it on every later one, so a wrong key is
    /// reported at start-up rather than at the first token refresh.
    async fn check_key(&self) -> Result<()> {
        let stored: Option<String> =
            sqlx::query_scalar("SELECT value FROM store_meta WHERE key = $1")
                .bind(KEY_CHECK)
                .fetch_optional(&self.pool)
                .await?;
        match stored {
            Some(sealed) => {
                let plain = self.sealer.open(KEY_CHECK_CONTEXT, &sealed)?;
                if plain != KEY_CHECK_PLAINTEXT {
                    return Err(CryptoError::WrongKey.into());
                }
            }
            None => {
                let sealed = self.sealer.seal(KEY_CHECK_CONTEXT, KEY_CHECK_PLAINTEXT)?;
                sqlx::query("INSERT INTO store_meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING")
                    .bind(KEY_CHECK)
                    .bind(sealed)
                    .execute(&self.pool)
                    .await?;
                // Another process may have won the race with its own key: check again.
                let stored: String =
                    sqlx::query_scalar("SELECT value FROM store_meta WHERE key = $1")
                        .bind(KEY_CHECK)
                        .fetch_one(&self.pool)
                        .await?;
                self.sealer.open(KEY_CHECK_CONTEXT, &stored)?;
            }
        }
        Ok(())
    }

    /// Begins a transaction that will write.
    ///
    /// On SQLite it is `BEGIN IMMEDIATE`: it takes the write lock at once (waiting up to the busy
    /// timeout), so a transaction that reads before it writes cannot fail half-way when another
    /// writer committed in between. PostgreSQL's row locks make a plain `BEGIN` enough.
    ///
    /// A fenced store ([`Store::fenced`]) first checks, inside the transaction, that its job
    /// lease still holds, and fails with [`StoreError::LeaseLost`] otherwise.
    pub(crate) async fn begin_write(&self) -> Result<Transaction<'static, Any>> {
        let mut tx = self.begin_unfenced().await?;
        if let Some(lease) = self.fence {
            crate::jobs::check_fence(&mut tx, lease).await?;
        }
        Ok(tx)
    }

    /// [`Store::begin_write`] without the fence: for the queue's own bookkeeping, which checks
    /// the lease it is given itself and must work on a fenced store as on any other.
    pub(crate) async fn begin_unfenced(&self) -> Result<Transaction<'static, Any>> {
        Ok(match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => self.pool.begin().await?,
        })
    }

    /// What a read inside a write transaction appends to lock the rows it reads until the
    /// commit, so a write guarded by what it read cannot interleave with another: PostgreSQL's
    /// `FOR UPDATE`. SQLite needs none: its write transactions begin `IMMEDIATE`, one at a time.
    pub(crate) fn for_update(&self) -> &'static str {
        match self.backend {
            Backend::Sqlite => "",
            Backend::Postgres => " FOR UPDATE",
        }
    }

    pub(crate) fn pool(&self) -> &sqlx::AnyPool {
        &self.pool
    }

    pub(crate) fn sealer(&self) -> &crypto::Sealer {
        &self.sealer
    }
}

/// A timestamp as stored: UTC, fixed width, nanoseconds, so text order is time order.
pub(crate) fn ts(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.9fZ").to_string()
}

pub(crate) fn now() -> String {
    ts(Utc::now())
}

/// When a lease taken at `now` ends; a lease past year 9999 (which the stored text format cannot
/// sort) ends then.
pub(crate) fn lease_end(now: DateTime<Utc>, lease: Duration) -> DateTime<Utc> {
    let last = DateTime::<Utc>::from_naive_utc_and_offset(
        chrono::NaiveDate::from_ymd_opt(9999, 12, 31)
            .and_then(|d| d.and_hms_opt(23, 59, 59))
            .unwrap_or_default(),
        Utc,
    );
    chrono::Duration::from_std(lease)
        .ok()
        .and_then(|l| now.checked_add_signed(l))
        .map_or(last, |t| t.min(last))
}

/// The earliest stored time: what "at once" is for an outbox item.
pub(crate) const EPOCH: &str = "1970-01-01T00:00:00.000000000Z";

pub(crate) fn parse_ts(what: &'static str, s: &str) -> Result<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| StoreError::Corrupt {
            what,
            detail: format!("timestamp \"{s}\": {e}"),
        })
}

pub(crate) fn parse_date(what: &'static str, s: &str) -> Result<NaiveDate> {
    s.parse().map_err(|e| StoreError::Corrupt {
        what,
        detail: format!("date \"{s}\": {e}"),
    })
}

/// Column readers. `Any` hands back SQLite flags as integers and PostgreSQL ones as booleans;
/// [`flag`] accepts both.
pub(crate) fn text(row: &AnyRow, col: &str) -> Result<String> {
    Ok(row.try_get::<String, _>(col)?)
}

pub(crate) fn opt_text(row: &AnyRow, col: &str) -> Result<Option<String>> {
    Ok(row.try_get::<Option<String>, _>(col)?)
}

pub(crate) fn int(row: &AnyRow, col: &str) -> Result<i64> {
    Ok(row.try_get::<i64, _>(col)?)
}

pub(crate) fn opt_int(row: &AnyRow, col: &str) -> Result<Option<i64>> {
    Ok(row.try_get::<Option<i64>, _>(col)?)
}

pub(crate) fn flag(row: &AnyRow, col: &str) -> Result<bool> {
    match row.try_get::<bool, _>(col) {
        Ok(b) => Ok(b),
        Err(_) => Ok(row.try_get::<i64, _>(col)? != 0),
    }
}

pub(crate) fn timestamp(row: &AnyRow, what: &'static str, col: &str) -> Result<DateTime<Utc>> {
    parse_ts(what, &text(row, col)?)
}

pub(crate) fn opt_timestamp(
    row: &AnyRow,
    what: &'static str,
    col: &str,
) -> Result<Option<DateTime<Utc>>> {
    opt_text(row, col)?.map(|s| parse_ts(what, &s)).transpose()
}

pub(crate) fn revision(row: &AnyRow, what: &'static str, col: &str) -> Result<Option<u32>> {
    opt_int(row, col)?
        .map(|r| {
            u32::try_from(r).map_err(|e| StoreError::Corrupt {
                what,
                detail: e.to_string(),
            })
        })
        .transpose()
}

/// `Ok` when a write may go ahead: no record was read before it (`as_read` is `None`), or the
/// record is `now` as it was read. [`StoreError::Changed`] when another write came between;
/// [`StoreError::NotFound`] when the record is gone.
pub(crate) fn unchanged<T: PartialEq>(
    what: &'static str,
    id: &str,
    now: Option<&T>,
    as_read: Option<&T>,
) -> Result<()> {
    match (as_read, now) {
        (None, _) => Ok(()),
        (Some(_), None) => Err(StoreError::NotFound {
            what,
            id: id.to_owned(),
        }),
        (Some(read), Some(now)) if read == now => Ok(()),
        (Some(_), Some(_)) => Err(StoreError::Changed {
            what,
            id: id.to_owned(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_backend_follows_the_url() {
        assert_eq!(Backend::of_url("trestle.db").unwrap(), Backend::Sqlite);
        assert_eq!(
            Backend::of_url("/var/lib/trestle/trestle.db").unwrap(),
            Backend::Sqlite
        );
        assert_eq!(
            Backend::of_url("sqlite://x.db?mode=rwc").unwrap(),
            Backend::Sqlite
        );
        assert_eq!(
            Backend::of_url("postgres://u@h/db").unwrap(),
            Backend::Postgres
        );
        assert_eq!(
            Backend::of_url("postgresql://u@h/db").unwrap(),
            Backend::Postgres
        );
        assert!(matches!(
            Backend::of_url("mysql://u@h/db"),
            Err(StoreError::UnsupportedUrl(_))
        ));
    }

    #[test]
    fn stored_timestamps_sort_as_text_and_read_back_exactly() {
        let a: DateTime<Utc> = "2026-11-22T09:59:59.999999999Z".parse().unwrap();
        let b: DateTime<Utc> = "2026-11-22T10:00:00Z".parse().unwrap();
        assert!(ts(a) < ts(b));
        assert_eq!(ts(b), "2026-11-22T10:00:00.000000000Z");
        assert_eq!(parse_ts("t", &ts(a)).unwrap(), a);
        assert!(EPOCH < ts(a).as_str());
    }

    #[tokio::test]
    async fn a_plain_path_with_spaces_opens_a_sqlite_file_in_wal_mode() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("my data #1.db");
        let store = Store::open(path.to_str().unwrap(), SecretKey::generate())
            .await
            .unwrap();
        let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
            .fetch_one(store.pool())
            .await
            .unwrap();
        assert_eq!(mode, "wal");
        store.close().await;
        assert!(path.exists());
    }
}
