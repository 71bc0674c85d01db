//! The pages in a real browser: a server on loopback over `pages_support`'s registers, and
//! `tests/browser/pages.mjs` driving Debian's headless Chromium through playwright-core
//! (every page type with axe-core, navigation, paging, filters, Verify good and tampered,
//! hostile values, no JavaScript). Screenshots at 375 and 1,280 px go to
//! `<target>/pages-screenshots/` (the path is printed).
//!
//! Needs `node`, `/usr/bin/chromium` (or `CHROMIUM`) and `npm ci` in `tests/browser`
//! (`.ci/run` does all three). Without them the test is skipped with a line saying why,
//! except under `CI=true`, where it fails: CI may not silently skip the browser.

mod common;
mod pages_support;

use std::path::{Path, PathBuf};
use std::process::Command;

use server_actix::testing::{backends, LoopbackServer};

fn missing(what: &str) {
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{what}, and CI=true: the browser tests must run in CI");
    }
    eprintln!("SKIPPED pages_browser: {what}");
}

/// Where screenshots go: under the build's target directory.
fn artifacts() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target"));
    target.join("pages-screenshots")
}

#[test]
fn pages_work_in_a_real_browser() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser");
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    if Command::new("node").arg("--version").output().is_err() {
        return missing("node not found");
    }
    if !Path::new(&chromium).exists() {
        return missing(&format!("{chromium} not found (apt-get install chromium)"));
    }
    for package in ["playwright-core", "axe-core"] {
        if !dir.join("node_modules").join(package).exists() {
            return missing(&format!(
                "{package} not installed (npm ci in {})",
                dir.display()
            ));
        }
    }
    let db = backends().into_iter().next().expect("a SQLite database");
    pages_support::load(&db.store);
    let server = LoopbackServer::start(db.store.clone());
    let out = artifacts();
    let pages = serde_json::to_string(pages_support::PAGES).expect("JSON");
    let run = Command::new("node")
        .current_dir(&dir)
        .env("CHROMIUM", &chromium)
        .arg("pages.mjs")
        .arg(server.url())
        .arg(&out)
        .arg(pages)
        .output()
        .expect("run node");
    server.stop();
    let stdout = String::from_utf8_lossy(&run.stdout);
    let stderr = String::from_utf8_lossy(&run.stderr);
    // The script's own lines (one per check), whatever the outcome.
    println!("{stdout}");
    eprintln!("{stderr}");
    println!(
        "screenshots of every page type at 375 and 1,280 px: {}",
        out.display()
    );
    assert!(
        run.status.success(),
        "the browser tests failed:\n{stdout}\n{stderr}"
    );
    assert!(stdout.contains(" passed, 0 failed"), "{stdout}");
}
