//! Runs each test on both backends, on `testkit`'s databases: SQLite in a fresh temporary file,
//! and PostgreSQL in a fresh schema of the server at `TRESTLE_TEST_POSTGRES_URL`, dropped
//! afterwards so tests run in parallel. A PostgreSQL that cannot be reached fails the postgres
//! variant with what to do.

use std::future::Future;
use store::{SecretKey, Store, StoreError};
use testkit::{Backend, Database};

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

pub struct Db {
    ctx: Ctx,
    database: Database,
}

async fn on(backend: Backend) -> Db {
    let database = Database::new(backend).await;
    let store = database.open().await;
    let ctx = Ctx {
        store,
        url: database.url.clone(),
        raw_url: database.url.clone(),
        key: secrecy::ExposeSecret::expose_secret(&database.key.to_base64()).to_string(),
    };
    Db { ctx, database }
}

pub async fn sqlite() -> Db {
    on(Backend::Sqlite).await
}

pub async fn postgres() -> Db {
    on(Backend::Postgres).await
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
    db.database.remove().await;
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
