//! Procore text as hostile as it comes (NUL, escape sequences, line breaks, a name longer than
//! any terminal) through the real binary, on SQLite and on PostgreSQL: every sync finishes,
//! every record arrives, and nothing trestle prints carries a control character to the
//! terminal.

use common::{compliance_dataset, spawn_demo_sim, text, vendor_id, Setup};
use procore_sim::{demo, Sim};
use sqlx::Connection as _;

mod common;

const POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

/// A fresh schema on the PostgreSQL server every machine here runs, and the URL that uses it.
async fn postgres_schema() -> (String, String) {
    let admin = std::env::var("TRESTLE_TEST_POSTGRES_URL").unwrap_or_else(|_| POSTGRES_URL.into());
    let mut conn = sqlx::PgConnection::connect(&admin)
        .await
        .unwrap_or_else(|e| {
            panic!("PostgreSQL is not reachable at {admin} ({e}); these tests need it")
        });
    let schema = format!("cli_{:016x}", rand::random::<u64>());
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
        .execute(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();
    let sep = if admin.contains('?') { '&' } else { '?' };
    (
        format!("{admin}{sep}options=-c%20search_path%3D{schema}"),
        schema,
    )
}

async fn drop_schema(schema: &str) {
    let admin = std::env::var("TRESTLE_TEST_POSTGRES_URL").unwrap_or_else(|_| POSTGRES_URL.into());
    let mut conn = sqlx::PgConnection::connect(&admin).await.unwrap();
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("DROP SCHEMA {schema} CASCADE")))
        .execute(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();
}

const HOSTILE: &str = "Evil\u{0} Corp\u{1b}[2J\u{1b}]0;owned\u{7}\r\nline two\u{202e}";

/// Makes the demo company hostile: a project, a vendor and a user carry NUL, escapes and line
/// breaks, and one vendor's name is 70,000 characters long.
fn poison(sim: &Sim) -> (i64, i64) {
    sim.write(|w| {
        let project = w
            .projects
            .values_mut()
            .find(|p| p.name == "Harbor Tower")
            .unwrap();
        project.name = format!("Harbor Tower {HOSTILE}");
        let harbor = project.id;
        let vendor = w
            .vendors
            .values_mut()
            .find(|v| v.name == "Delta Drywall")
            .unwrap();
        vendor.name = format!("Delta {HOSTILE}{}", "D".repeat(70_000));
        let delta = vendor.id;
        let user = w
            .users
            .values_mut()
            .find(|u| u.first_name.is_some() && u.vendor_id.is_none())
            .unwrap();
        user.first_name = Some(format!("Ann{HOSTILE}"));
        (harbor, delta)
    })
}

fn assert_terminal_safe(what: &str, out: &std::process::Output) {
    assert!(out.status.success(), "{what}: {}", text(out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    for c in ['\u{0}', '\u{1b}', '\u{7}', '\r', '\u{202e}'] {
        assert!(
            !stdout.contains(c),
            "{what} printed {c:?} raw:\n{}",
            text(out)
        );
    }
}

async fn hostile_names_flow_through(database_url: Option<&str>) {
    let running = spawn_demo_sim().await;
    let sim = running.sim();
    let (harbor, delta) = poison(sim);
    let setup = Setup::new(&running.url());
    let run = |args: &'static [&'static str]| {
        let mut cmd = setup.command(args);
        if let Some(url) = database_url {
            cmd.env("TRESTLE_STORE__DATABASE_URL", url);
        }
        async move {
            tokio::task::spawn_blocking(move || cmd.output().unwrap())
                .await
                .unwrap()
        }
    };
    let company = demo::COMPANY_ID.to_string();
    let mut connect = setup.command(&["connect", "--company-id", &company]);
    if let Some(url) = database_url {
        connect.env("TRESTLE_STORE__DATABASE_URL", url);
    }
    let out = tokio::task::spawn_blocking(move || connect.output().unwrap())
        .await
        .unwrap();
    assert_terminal_safe("connect and its initial workforce sync", &out);

    let data = compliance_dataset(
        vendor_id(sim, "Acme Electric"),
        vendor_id(sim, "Bolt Plumbing"),
    );
    let file = setup.write_file("records.json", &data);
    let mut import = setup.command(&["compliance", "import", &file]);
    if let Some(url) = database_url {
        import.env("TRESTLE_STORE__DATABASE_URL", url);
    }
    let out = tokio::task::spawn_blocking(move || import.output().unwrap())
        .await
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    assert_terminal_safe("sync compliance", &run(&["sync", "compliance"]).await);
    assert_terminal_safe(
        "sync workforce",
        &run(&["sync", "workforce", "--full"]).await,
    );
    assert_terminal_safe(
        "compliance mappings",
        &run(&["compliance", "mappings"]).await,
    );
    assert_terminal_safe(
        "compliance projects",
        &run(&["compliance", "projects"]).await,
    );
    assert_terminal_safe("compliance parties", &run(&["compliance", "parties"]).await);

    let harbor_arg = harbor.to_string();
    let delta_arg = delta.to_string();
    for (kind, id) in [
        ("procore-project", &harbor_arg),
        ("procore-company", &delta_arg),
    ] {
        let mut explain = setup.command(&["explain", kind, id]);
        if let Some(url) = database_url {
            explain.env("TRESTLE_STORE__DATABASE_URL", url);
        }
        let out = tokio::task::spawn_blocking(move || explain.output().unwrap())
            .await
            .unwrap();
        assert_terminal_safe("explain", &out);
    }

    // The project arrived, its NUL dropped and the rest of its name kept.
    let mappings = run(&["compliance", "mappings"]).await;
    let listed = String::from_utf8_lossy(&mappings.stdout).into_owned();
    assert!(
        listed.contains("Harbor Tower Evil Corp\\u{1b}[2J"),
        "the NUL is dropped and the escape shown escaped:\n{listed}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_procore_text_neither_stops_a_sync_nor_reaches_the_terminal_on_sqlite() {
    hostile_names_flow_through(None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_procore_text_neither_stops_a_sync_nor_reaches_the_terminal_on_postgres() {
    let (url, schema) = postgres_schema().await;
    hostile_names_flow_through(Some(&url)).await;
    drop_schema(&schema).await;
}
