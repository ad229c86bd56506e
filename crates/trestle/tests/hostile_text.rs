//! Procore text as hostile as it comes (NUL, escape sequences, line breaks, a name longer than
//! any terminal) through the real binary, on SQLite and on PostgreSQL: every sync finishes,
//! every record arrives, and nothing trestle prints carries a control character to the
//! terminal.

use common::{compliance_dataset, spawn_demo_sim, text, vendor_id, Setup};
use procore_sim::{demo, Sim};

mod common;

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
    let setup = Setup::with_database(&running.url(), database_url);
    let run = |args: Vec<String>| {
        let mut cmd = setup.command(&args.iter().map(String::as_str).collect::<Vec<_>>());
        async move {
            tokio::task::spawn_blocking(move || cmd.output().unwrap())
                .await
                .unwrap()
        }
    };
    let args = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let company = demo::COMPANY_ID.to_string();
    assert_terminal_safe(
        "connect and its initial workforce sync",
        &run(args(&["connect", "--company-id", &company])).await,
    );
    let data = compliance_dataset(
        vendor_id(sim, "Acme Electric"),
        vendor_id(sim, "Bolt Plumbing"),
    );
    let file = setup.write_file("records.json", &data);
    let out = run(args(&["compliance", "import", &file])).await;
    assert!(out.status.success(), "{}", text(&out));
    for command in [
        &["sync", "compliance"][..],
        &["sync", "workforce", "--full"],
        &["compliance", "mappings"],
        &["compliance", "projects"],
        &["compliance", "parties"],
        &["explain", "procore-project", &harbor.to_string()],
        &["explain", "procore-company", &delta.to_string()],
    ] {
        assert_terminal_safe(&command.join(" "), &run(args(command)).await);
    }

    // explain names the project on one line, its line break shown, not acted on.
    let explained = run(args(&["explain", "procore-project", &harbor.to_string()])).await;
    let explained = String::from_utf8_lossy(&explained.stdout).into_owned();
    assert!(
        explained
            .lines()
            .any(|l| l.contains("Now: linked to app project") && l.contains("\\r\\nline two")),
        "{explained}"
    );

    // The project arrived, its NUL dropped and the rest of its name kept.
    let mappings = run(args(&["compliance", "mappings"])).await;
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
    let schema = common::PgSchema::create().await;
    hostile_names_flow_through(Some(&schema.url())).await;
}
