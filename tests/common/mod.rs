//! Shared builders for the integration tests.
#![allow(dead_code, clippy::unwrap_used)]

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use otprig::report::json::read_run_json;
use otprig::runner::record::RunRecord;

/// The package root, where `rig/`, `scenarios/` and `fixtures/` live.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `otprig` run from the package root.
pub fn otprig() -> Command {
    let mut cmd = Command::cargo_bin("otprig").unwrap();
    cmd.current_dir(root());
    cmd
}

/// Runs `otprig run` with `args` into a fresh report folder; returns exit code, stdout and record.
pub fn run(args: &[&str]) -> (i32, String, String, Option<RunRecord>, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let out = otprig()
        .arg("run")
        .arg("--report-dir")
        .arg(dir.path())
        .args(args)
        .output()
        .unwrap();
    let record = read_run_json(&dir.path().join("run.json")).ok();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        record,
        dir,
    )
}

/// Writes a simulated code-display rig file into `dir`, with extra YAML under `sim:` and the
/// relay's sense line on or off; profile and secret point into the package.
pub fn sim_rig(dir: &Path, sim_extra: &str, sense: bool) -> PathBuf {
    let base = std::fs::read_to_string(root().join("rig/sim-code-display.yaml")).unwrap();
    let root = root();
    let text = base
        .replace(
            "profile: tokens/",
            &format!("profile: {}/rig/tokens/", root.display()),
        )
        .replace(
            "file: ../fixtures/",
            &format!("file: {}/fixtures/", root.display()),
        )
        .replace(
            "button: { sense: true }",
            &format!("button: {{ sense: {sense} }}"),
        )
        .replace("sim:\n", &format!("sim:\n{sim_extra}"));
    let path = dir.join("rig.yaml");
    std::fs::write(&path, text).unwrap();
    path
}

/// Runs the listening benchmark with `options`, prints its table, and fails unless it heard
/// `clips` recordings, at least `min_exact` of each language's codes exactly, every language
/// right, and at most `max_wrong` wrong codes.
pub fn hear_set_at_least(
    options: &otprig::bench::listen::ListenBenchOptions,
    clips: usize,
    min_exact: &[(&str, f64)],
    max_wrong: usize,
) {
    let report = otprig::bench::listen::run_listen_bench(options, &mut |_, _| {}).unwrap();
    let mut table = Vec::new();
    report.print(&mut table).unwrap();
    println!("{}", String::from_utf8(table).unwrap());
    assert_eq!(report.clips.len(), clips);
    let by_language = report.tally_by(|h| h.clip.language.clone());
    for &(language, floor) in min_exact {
        let tally = by_language[language];
        assert!(
            tally.exact_share() >= floor,
            "{language}: {}/{} exact, floor {floor}",
            tally.exact,
            tally.clips
        );
    }
    let total = report.total();
    assert_eq!(total.language_right, total.clips, "language decided wrong");
    assert!(total.wrong <= max_wrong, "{} wrong codes", total.wrong);
}
