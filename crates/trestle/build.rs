//! Names the commit the binary is built from, for `trestle --version`: an operator reporting a
//! problem (or reading a bug report) must know which code ran, and a version number alone does
//! not say that between releases.
//!
//! Sets `BUILD_GIT_COMMIT` to the short commit hash, with `-dirty` when the work tree had
//! changes, or to `unknown` when the source is not a git checkout or git is not installed (a
//! source tarball, a container build without `.git`). A packager who builds without `.git` can
//! give the commit in `BUILD_GIT_COMMIT` instead. Not a `TRESTLE_*` name: cargo passes the
//! variable on to the tests it runs, and the binary reads every `TRESTLE_*` as a setting.
//!
//! The build script runs again when HEAD moves (a checkout, a commit) or the branch it points
//! to moves. It is not rerun for every edited file, so `-dirty` tells what the tree was when it
//! last ran; a commit always refreshes it.

use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=BUILD_GIT_COMMIT");
    let commit = std::env::var("BUILD_GIT_COMMIT")
        .ok()
        .filter(|c| !c.trim().is_empty())
        .unwrap_or_else(|| from_git().unwrap_or_else(|| "unknown".into()));
    println!("cargo:rustc-env=BUILD_GIT_COMMIT={commit}");
}

/// The commit from git, with the files to watch for the next one; `None` without git or a
/// repository.
fn from_git() -> Option<String> {
    let hash = git(&["rev-parse", "--short=12", "HEAD"])?;
    watch_head();
    let dirty = git(&["status", "--porcelain", "--untracked-files=no"])
        .is_some_and(|changes| !changes.is_empty());
    Some(if dirty { format!("{hash}-dirty") } else { hash })
}

/// Watches HEAD and the ref it points to. In a linked worktree HEAD is in the worktree's own
/// git folder and branches are in the common one, so both come from git rather than from
/// `../../.git`; a branch may be packed, so `packed-refs` is watched too.
fn watch_head() {
    let Some(git_dir) = git(&["rev-parse", "--absolute-git-dir"]).map(PathBuf::from) else {
        return;
    };
    // Relative to the folder git ran in when it is not absolute.
    let common = match (
        git(&["rev-parse", "--git-common-dir"]),
        std::env::var_os("CARGO_MANIFEST_DIR"),
    ) {
        (Some(common), Some(here)) => Path::new(&here).join(common),
        _ => git_dir.clone(),
    };
    watch(&git_dir.join("HEAD"));
    if let Some(branch) = git(&["symbolic-ref", "-q", "HEAD"]) {
        watch(&common.join(branch));
    }
    watch(&common.join("packed-refs"));
}

fn watch(path: &Path) {
    if path.exists() {
        println!("cargo:rerun-if-changed={}", path.display());
    }
}

/// `git ARGS` in this crate's folder: its trimmed output, or `None` when git is missing or
/// fails.
fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git")
        .args(args)
        .current_dir(std::env::var_os("CARGO_MANIFEST_DIR")?)
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    Some(String::from_utf8(out.stdout).ok()?.trim().to_string())
}
