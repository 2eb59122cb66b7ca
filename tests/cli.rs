//! The command line: help, exit codes, validation of every shipped file, the default run.
#![allow(clippy::unwrap_used)]

mod common;

use common::{otprig, run};
use predicates::prelude::*;

#[test]
fn help_and_version_exit_zero() {
    otprig()
        .arg("--help")
        .assert()
        .code(0)
        .stdout(predicate::str::contains("faults"));
    otprig().arg("--version").assert().code(0);
}

#[test]
fn usage_errors_exit_three() {
    otprig().args(["run", "--bogus"]).assert().code(3);
    otprig()
        .args(["run", "--seed", "not-a-number"])
        .assert()
        .code(3);
    otprig().arg("validate").assert().code(3);
}

#[test]
fn faults_lists_one_name_a_line() {
    let out = otprig().arg("faults").output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    let names: Vec<&str> = text.lines().collect();
    assert!(names.len() >= 8, "{names:?}");
    assert!(
        names
            .iter()
            .all(|n| !n.is_empty() && !n.contains(char::is_whitespace))
    );
    assert!(names.contains(&"wrong-digit") && names.contains(&"auto-off-never"));
}

/// Every file in rig/ and scenarios/ loads, so none can rot.
#[test]
fn every_shipped_yaml_file_validates() {
    otprig()
        .args(["validate", "rig", "scenarios"])
        .assert()
        .code(0);
}

#[test]
fn a_typo_in_a_scenario_exits_three_naming_file_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("typo.yaml");
    std::fs::write(
        &path,
        "kind: scenario\ntoken: mitid-code-display\nsteps:\n  - press: button\n  - expect_display: { shows: oracle, withn: 2s }\n  - presss: button\n",
    )
    .unwrap();
    let file = path.display().to_string();
    for command in ["validate", "run"] {
        let out = otprig().arg(command).arg(&path).output().unwrap();
        assert_eq!(out.status.code(), Some(3), "{command}");
        let err = String::from_utf8(out.stderr).unwrap();
        assert!(
            err.contains(&format!(
                "{file}:5:38: steps[1].expect_display.withn: unknown field `withn`"
            )),
            "{err}"
        );
        assert!(
            err.contains(&format!(
                "{file}:6:5: steps[2].presss: unknown field `presss`"
            )),
            "{err}"
        );
    }
}

#[test]
fn an_empty_selection_exits_three() {
    let dir = tempfile::tempdir().unwrap();
    let (code, _, err, _, _) = run(&[dir.path().to_str().unwrap()]);
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("no scenarios selected"), "{err}");
}

#[test]
fn an_unknown_fault_exits_three() {
    let (code, _, err, _, _) = run(&["--fault", "no-such-fault"]);
    assert_eq!(code, 3);
    assert!(err.contains("unknown fault `no-such-fault`"), "{err}");
}

#[test]
fn a_scenario_naming_an_unknown_requirement_or_button_exits_three() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.yaml");
    std::fs::write(&path, "kind: scenario\ntoken: mitid-code-display\nverifies: [NO-SUCH-ID]\nsteps:\n  - press: red\n").unwrap();
    let (code, _, err, _, _) = run(&[path.to_str().unwrap()]);
    assert_eq!(code, 3, "{err}");
    assert!(
        err.contains(":3:") && err.contains("`NO-SUCH-ID` is not in"),
        "{err}"
    );
    assert!(
        err.contains(":5:") && err.contains("`red` is not a button of mitid-code-display"),
        "{err}"
    );
}

/// A lab rig file validates, and running it is the rig's error (exit 2), not a usage error.
#[test]
fn a_lab_rig_without_its_backends_is_a_rig_error() {
    let (code, out, err, record, _dir) = run(&[
        "--rig",
        "rig/lab-pi.example.yaml",
        "scenarios/code-display/press-while-on.yaml",
    ]);
    assert_eq!(code, 2, "{out}{err}");
    let record = record.unwrap();
    assert_eq!(record.scenarios[0].outcome, otprig::runner::Outcome::Error);
    assert!(
        record.scenarios[0]
            .message
            .as_deref()
            .unwrap()
            .contains("feature"),
        "{:?}",
        record.scenarios[0].message
    );
}

/// The default run: every code-display scenario passes; the summary ends with the timing figures.
#[test]
fn the_default_run_passes_and_prints_wall_and_device_time() {
    let dir = tempfile::tempdir().unwrap();
    let out = otprig()
        .args(["run", "--report-dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("wall time") && stdout.contains("device time") && stdout.contains("ratio"),
        "{stdout}"
    );
    for file in ["journal.jsonl", "run.json", "junit.xml", "summary.md"] {
        assert!(dir.path().join(file).exists(), "{file} missing");
    }
    let record = otprig::report::json::read_run_json(&dir.path().join("run.json")).unwrap();
    assert!(record.scenarios.len() >= 5);
    assert!(
        record
            .scenarios
            .iter()
            .all(|s| s.outcome == otprig::runner::Outcome::Pass)
    );
    assert!(record.uncovered.is_empty(), "{:?}", record.uncovered);
    // Evidence files exist and match their hashes.
    for step in record.scenarios.iter().flat_map(|s| &s.steps) {
        for evidence in &step.evidence {
            let bytes = std::fs::read(dir.path().join(&evidence.path)).unwrap();
            use sha2::Digest;
            let digest: String = sha2::Sha256::digest(&bytes)
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect();
            assert_eq!(digest, evidence.sha256, "{}", evidence.path);
        }
    }
}

/// Ctrl-C mid-step: the run stops with exit 130, the relay held down is released, and the
/// record and journal are still written.
#[test]
fn ctrl_c_releases_the_relays_and_still_writes_the_record() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = dir.path().join("long-hold.yaml");
    std::fs::write(
        &scenario,
        "kind: scenario\ntoken: mitid-code-display\nsteps:\n  - hold: { button: button, for: 3600s }\n",
    )
    .unwrap();
    let report = dir.path().join("report");
    let child = std::process::Command::new(assert_cmd::cargo::cargo_bin("otprig"))
        .current_dir(common::root())
        .arg("run")
        .arg("--report-dir")
        .arg(&report)
        .arg(&scenario)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Wait (in real time) until the relay is down, as the journal says, then interrupt.
    let journal = report.join("journal.jsonl");
    let started = std::time::Instant::now();
    while !std::fs::read_to_string(&journal)
        .unwrap_or_default()
        .contains("key_down")
    {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(60),
            "the hold never started"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let status = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(130),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let record = otprig::report::json::read_run_json(&report.join("run.json")).unwrap();
    assert_eq!(
        record.scenarios[0].outcome,
        otprig::runner::Outcome::Aborted
    );
    let text = std::fs::read_to_string(&journal).unwrap();
    let down = text.find("\"key_down\"").unwrap();
    assert!(
        text[down..].contains("\"key_up\""),
        "the relay was not released:\n{text}"
    );
}

#[test]
fn ocr_prints_path_tab_digits_or_blank_per_image() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/lcd");
    let code = dir.join("photo-0003.jpg");
    let blank = dir.join("photo-0027.jpg");
    let output = otprig()
        .arg("ocr")
        .arg(&code)
        .arg(&blank)
        .output()
        .expect("otprig runs");
    assert_eq!(output.status.code(), Some(0));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(
        lines,
        [
            format!("{}\t023183", code.display()),
            format!("{}\tblank", blank.display())
        ]
    );
}

#[test]
fn ocr_of_a_missing_image_prints_a_question_mark_and_exits_three() {
    otprig()
        .args(["ocr", "no-such-photo.png"])
        .assert()
        .code(3)
        .stdout("no-such-photo.png\t?\n")
        .stderr(predicate::str::contains("no-such-photo.png"));
}

#[test]
fn calibrate_stores_the_window_beside_the_rig_and_ocr_uses_it() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = tempfile::tempdir().expect("temp dir");
    let rig_text = std::fs::read_to_string(root.join("rig/sim-code-display.yaml"))
        .expect("rig")
        .replace(
            "profile: tokens/",
            &format!("profile: {}/rig/tokens/", root.display()),
        )
        .replace(
            "file: ../fixtures",
            &format!("file: {}/fixtures", root.display()),
        );
    let rig = dir.path().join("bench.yaml");
    std::fs::write(&rig, rig_text).expect("write rig");
    otprig()
        .args(["calibrate", "--rig"])
        .arg(&rig)
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "bench.calibration.yaml: LCD window",
        ));
    let calibration =
        std::fs::read_to_string(dir.path().join("bench.calibration.yaml")).expect("calibration");
    assert!(calibration.contains("kind: calibration"), "{calibration}");
    assert!(calibration.contains("frame: [640, 480]"), "{calibration}");
    let png = image::open(dir.path().join("bench.calibration.png")).expect("annotated png");
    assert_eq!((png.width(), png.height()), (640, 480));
    // The rig now starts from the stored window; a simulator frame still reads.
    let frame = root.join("fixtures/lcd/sim-0001.png");
    otprig()
        .args(["ocr", "--rig"])
        .arg(&rig)
        .arg(&frame)
        .assert()
        .success()
        .stdout(format!("{}\t564780\n", frame.display()));
}
