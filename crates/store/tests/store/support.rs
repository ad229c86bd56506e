//! Runs each test on both backends: SQLite in a fresh temporary file, and PostgreSQL in a fresh
//! schema of the server at `TRESTLE_TEST_POSTGRES_URL` (default
//! `postgres://postgres@127.0.0.1:5432/test`), dropped afterwards so tests run in parallel.
//!
//! A PostgreSQL that cannot be reached FAILS the postgres variant with a message saying what to
//! do: a suite that passed without PostgreSQL would claim a coverage it does not have.

use sqlx::Connection as _;
use std::future::Future;
use std::time::Duration;
use store::{SecretKey, Store, StoreError};

pub const DEFAULT_POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

/// What a test body gets: the store, and what it needs to reopen it or read it raw.
#[derive(Clone)]
pub struct Ctx {
    pub store: Store,
    /// The URL the store was opened with.
    pub url: String,
    /// A URL `sqlx::AnyPool` opens as is, for reading columns raw.
    raw_url: String,
    key: String,
}

impl Ctx {
    pub fn key(&self) -> SecretKey {
        SecretKey::from_base64(&self.key).unwrap()
    }

    /// Opens the same database again, as a restarted process would.
    pub async fn reopen(&self, key: SecretKey) -> Result<Store, StoreError> {
        Store::open(&self.url, key).await
    }

    /// Runs one statement past the store, to set up a state an older trestle left behind.
    pub async fn raw_execute(&self, sql: &'static str) {
        sqlx::any::install_default_drivers();
        let pool = sqlx::AnyPool::connect(&self.raw_url).await.unwrap();
        sqlx::query(sql).execute(&pool).await.unwrap();
        pool.close().await;
    }

    /// Every value of one text column, read past the store.
    pub async fn raw_texts(&self, sql: &'static str) -> Vec<String> {
        sqlx::any::install_default_drivers();
        let pool = sqlx::AnyPool::connect(&self.raw_url).await.unwrap();
        let values: Vec<String> = sqlx::query_scalar(sql).fetch_all(&pool).await.unwrap();
        pool.close().await;
        values
    }
}

enum Cleanup {
    Sqlite(#[allow(dead_code)] tempfile::TempDir),
    Postgres { admin_url: String, schema: String },
}

pub struct Db {
    ctx: Ctx,
    cleanup: Cleanup,
}

pub async fn sqlite() -> Db {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("trestle.db");
    let url = path.to_str().unwrap().to_string();
    let key = SecretKey::generate();
    let store = Store::open(&url, key.clone()).await.unwrap();
    let raw_url = format!("sqlite://{url}");
    let ctx = Ctx {
        store,
        url,
        raw_url,
        key: secrecy::ExposeSecret::expose_secret(&key.to_base64()).to_string(),
    };
    Db {
        ctx,
        cleanup: Cleanup::Sqlite(dir),
    }
}

fn postgres_url() -> String {
    std::env::var("TRESTLE_TEST_POSTGRES_URL").unwrap_or_else(|_| DEFAULT_POSTGRES_URL.to_string())
}

pub async fn postgres() -> Db {
    let admin_url = postgres_url();
    let connect = tokio::time::timeout(
        Duration::from_secs(10),
        sqlx::PgConnection::connect(&admin_url),
    )
    .await;
    let mut admin = match connect {
        Ok(Ok(conn)) => conn,
        Ok(Err(e)) => no_postgres(&admin_url, &e.to_string()),
        Err(_) => no_postgres(&admin_url, "no answer within 10 s"),
    };
    let schema = format!("t_{:016x}", rand::random::<u64>());
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
        .execute(&mut admin)
        .await
        .unwrap();
    admin.close().await.unwrap();
    let sep = if admin_url.contains('?') { '&' } else { '?' };
    let url = format!("{admin_url}{sep}options=-c%20search_path%3D{schema}");
    let key = SecretKey::generate();
    let store = Store::open(&url, key.clone()).await.unwrap();
    let ctx = Ctx {
        store,
        raw_url: url.clone(),
        url,
        key: secrecy::ExposeSecret::expose_secret(&key.to_base64()).to_string(),
    };
    Db {
        ctx,
        cleanup: Cleanup::Postgres { admin_url, schema },
    }
}

fn no_postgres(url: &str, why: &str) -> ! {
    panic!(
        "\n\nPostgreSQL is not reachable at {url} ({why}).\n\
         The store suite runs every test on PostgreSQL too and does not pass without it.\n\
         Start PostgreSQL (CI uses {DEFAULT_POSTGRES_URL} with trust auth), or set \
         TRESTLE_TEST_POSTGRES_URL to a server where you may create schemas.\n\n"
    )
}

/// Runs a test body on a database, cleans the database up whatever the body did, then passes
/// the body's panic on.
pub async fn run<F, Fut>(db: Db, body: F)
where
    F: FnOnce(Ctx) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let outcome = tokio::spawn(body(db.ctx.clone())).await;
    db.ctx.store.close().await;
    match db.cleanup {
        Cleanup::Sqlite(dir) => drop(dir),
        Cleanup::Postgres { admin_url, schema } => {
            let mut admin = sqlx::PgConnection::connect(&admin_url).await.unwrap();
            sqlx::raw_sql(sqlx::AssertSqlSafe(format!("DROP SCHEMA {schema} CASCADE")))
                .execute(&mut admin)
                .await
                .unwrap();
            admin.close().await.unwrap();
        }
    }
    if let Err(e) = outcome {
        std::panic::resume_unwind(e.into_panic());
    }
}

/// `both!(name, |ctx| { ... })` makes `name::on_sqlite` and `name::on_postgres`.
macro_rules! both {
    ($name:ident, |$ctx:ident| $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            async fn body($ctx: crate::support::Ctx) $body

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn on_sqlite() {
                crate::support::run(crate::support::sqlite().await, body).await
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn on_postgres() {
                crate::support::run(crate::support::postgres().await, body).await
            }
        }
    };
}
