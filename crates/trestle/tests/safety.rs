//! The binary's safety rules as a user meets them: secrets never printed, exit codes scripts
//! can read, files only their owner may read, a demo that empties only its own folder, a
//! schedule that stops when asked, and Procore text that can neither stop a sync (on either
//! store) nor reach the terminal raw.

use common::{compliance_dataset, spawn_demo_sim, text, vendor_id, Setup};
use procore_sim::world::Level;
use procore_sim::{demo, Sim};
use std::os::unix::fs::PermissionsExt;

mod common;

fn mode(path: &std::path::Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[tokio::test]
async fn config_show_never_prints_the_database_password() {
    let setup = Setup::new("http://127.0.0.1:9");
    let out = setup
        .command(&["config", "show"])
        .env(
            "TRESTLE_STORE__DATABASE_URL",
            "postgres://trestle:hunter2@db.example/trestle?sslpassword=pw-two",
        )
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let shown = text(&out);
    assert!(
        !shown.contains("hunter2") && !shown.contains("pw-two"),
        "{shown}"
    );
    assert!(shown.contains("db.example/trestle"), "{shown}");
}

#[tokio::test]
async fn a_misspelt_database_url_is_refused_without_printing_its_password() {
    let setup = Setup::new("http://127.0.0.1:9");
    let out = setup
        .command(&["compliance", "parties"])
        .env(
            "TRESTLE_STORE__DATABASE_URL",
            "postgress://trestle:hunter2@db.example/trestle",
        )
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let shown = text(&out);
    assert!(!shown.contains("hunter2"), "{shown}");
    assert!(
        shown.contains("unsupported database URL")
            && shown.contains("postgress://trestle:[redacted]@db.example/trestle"),
        "{shown}"
    );
}

fn set_insurance_level(sim: &Sim, level: Level) {
    sim.write(|w| {
        for app in w.apps.values_mut() {
            for installation in app.installations.values_mut() {
                installation.permissions.insurances = level;
            }
        }
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sync_whose_procore_writes_failed_exits_with_code_3() {
    let running = spawn_demo_sim().await;
    let sim = running.sim();
    let setup = Setup::new(&running.url());
    setup.connect(&["--no-sync"]).await;
    let data = compliance_dataset(
        vendor_id(sim, "Acme Electric"),
        vendor_id(sim, "Bolt Plumbing"),
    );
    let file = setup.write_file("records.json", &data);
    setup.ok(&["compliance", "import", &file]).await;

    set_insurance_level(sim, Level::ReadOnly);
    let out = setup.trestle(&["sync", "compliance"], None).await;
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("Procore write") && stderr.contains("the next sync tries"),
        "{}",
        text(&out)
    );

    set_insurance_level(sim, Level::Admin);
    let out = setup.trestle(&["sync", "compliance"], None).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
}

#[tokio::test]
async fn the_demo_refuses_to_empty_a_folder_it_did_not_make() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir(&data).unwrap();
    std::fs::write(data.join("keep.txt"), "precious").unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_trestle"))
        .args(["demo", "--data-dir"])
        .arg(&data)
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("was not made by `trestle demo`"),
        "{}",
        text(&out)
    );
    assert_eq!(
        std::fs::read_to_string(data.join("keep.txt")).unwrap(),
        "precious"
    );
}

/// A setup whose store and key live in a folder trestle must create.
fn setup_in_subfolder(sim_url: &str) -> (Setup, std::path::PathBuf) {
    let setup = Setup::new(sim_url);
    let private = setup.dir.path().join("private");
    let toml = std::fs::read_to_string(&setup.config)
        .unwrap()
        .replace(
            &setup
                .dir
                .path()
                .join("trestle.sqlite")
                .display()
                .to_string(),
            &private.join("trestle.sqlite").display().to_string(),
        )
        .replace(
            &setup.dir.path().join("secret.key").display().to_string(),
            &private.join("secret.key").display().to_string(),
        );
    std::fs::write(&setup.config, toml).unwrap();
    (setup, private)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_store_folder_database_and_key_are_private_to_their_owner() {
    let running = spawn_demo_sim().await;
    let (setup, private) = setup_in_subfolder(&running.url());
    setup.connect(&["--no-sync"]).await;
    assert_eq!(mode(&private), 0o700);
    assert_eq!(mode(&private.join("trestle.sqlite")), 0o600);
    assert_eq!(mode(&private.join("secret.key")), 0o600);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_file_others_may_read_is_refused_with_the_command_that_fixes_it() {
    let running = spawn_demo_sim().await;
    let setup = Setup::new(&running.url());
    setup.connect(&["--no-sync"]).await;
    let key = setup.dir.path().join("secret.key");
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
    let out = setup.trestle(&["compliance", "parties"], None).await;
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("chmod 600"), "{}", text(&out));

    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
    setup.ok(&["compliance", "parties"]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sync_lock_is_the_store_files_whatever_path_names_it() {
    let running = spawn_demo_sim().await;
    let setup = Setup::new(&running.url());
    setup.connect(&["--no-sync"]).await;
    setup.sync("workforce").await;
    // The same file through a symlink, as another process might be configured.
    let alias = setup.dir.path().join("alias.sqlite");
    std::os::unix::fs::symlink(setup.dir.path().join("trestle.sqlite"), &alias).unwrap();
    let out = setup
        .command(&["sync", "workforce"])
        .env(
            "TRESTLE_STORE__DATABASE_URL",
            format!("sqlite://{}", alias.display()),
        )
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let locks: Vec<String> = std::fs::read_dir(setup.dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".lock"))
        .collect();
    assert_eq!(
        locks,
        vec![format!("trestle.sqlite.sync-{}.lock", demo::COMPANY_ID)],
        "one lock file, named after the real file"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signal_stops_a_scheduled_sync_in_the_middle_of_its_run() {
    let running = spawn_demo_sim().await;
    let sim = running.sim();
    let setup = Setup::new(&running.url());
    setup.connect(&["--no-sync"]).await;
    // Every request takes seconds: a whole run would take far longer than the wait below.
    sim.set_faults(procore_sim::Faults {
        latency: std::time::Duration::from_secs(3),
        ..Default::default()
    });
    sim.clear_request_log();
    let mut child = setup
        .command(&["sync", "workforce", "--every", "1h"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until the run is under way in Procore.
    for _ in 0..200 {
        if !sim.request_log().is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(!sim.request_log().is_empty(), "the run started");
    let pid = child.id().to_string();
    assert!(std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap()
        .success());
    let out = tokio::task::spawn_blocking(move || {
        let _ = &mut child;
        child.wait_with_output().unwrap()
    })
    .await
    .unwrap();
    sim.set_faults(procore_sim::Faults::default());
    let shown = text(&out);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{shown}");
    assert!(
        stdout.contains("The run under way was stopped") && stdout.trim_end().ends_with("Stopped."),
        "{shown}"
    );
    assert!(
        !shown.contains("Sync finished"),
        "the run did not go on to its end: {shown}"
    );
}

#[test]
fn output_into_a_closed_pipe_ends_trestle_quietly_with_the_sigpipe_status() {
    // The reader is gone before trestle starts, as with `trestle ... | head` once head exits.
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_trestle"))
        .args(["config", "example"])
        .stdout(writer)
        .stderr(std::process::Stdio::piped())
        .env("RUST_BACKTRACE", "0")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(141), "stderr: {stderr}");
    assert!(!stderr.contains("panicked"), "stderr: {stderr}");
}
