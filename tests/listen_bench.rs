//! `otprig bench listen --anchor faster-whisper` (issue 5): a missing install is reported as not
//! installed and the bench still runs; with the install (`scripts/setup-whisper.sh`), both models
//! hear a small set beside otprig. CI does not install faster-whisper, so that test skips there.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::Path;

use otprig::bench::listen::{ListenBenchOptions, WhisperRun, run_listen_bench};
use otprig::bench::whisper::{WHISPER_HOME_ENV, WhisperHome, WhisperModel};

#[test]
fn a_missing_faster_whisper_is_reported_as_not_installed_and_the_bench_runs() {
    let home = tempfile::tempdir().unwrap();
    let out = common::otprig()
        .args([
            "bench",
            "listen",
            "--anchor",
            "faster-whisper",
            "--limit",
            "2",
        ])
        .env(WHISPER_HOME_ENV, home.path())
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
        stdout.contains("faster-whisper: not installed")
            && stdout.contains("run scripts/setup-whisper.sh"),
        "{stdout}"
    );
    assert!(stdout.contains("all en              2"), "{stdout}");
    assert!(!stdout.contains("whisper tiny.en"), "{stdout}");
}

/// A set of two recordings of the test set, one English and one Danish.
fn two_recordings(dir: &Path) {
    let test_set = common::root().join("fixtures/voices/test");
    let labels = std::fs::read_to_string(test_set.join("labels.csv")).unwrap();
    let mut lines = labels.lines();
    let mut kept = vec![lines.next().unwrap().to_string()];
    for file in ["sim-en-010.flac", "sim-da-010.flac"] {
        let line = lines.clone().find(|l| l.starts_with(file)).unwrap();
        kept.push(line.to_string());
        std::fs::copy(test_set.join(file), dir.join(file)).unwrap();
    }
    std::fs::write(dir.join("labels.csv"), kept.join("\n") + "\n").unwrap();
}

#[test]
fn faster_whisper_hears_the_same_recordings_beside_otprig() {
    let home = WhisperHome::from_env();
    if !home.is_installed() {
        eprintln!(
            "skipped: faster-whisper is not installed in {} (scripts/setup-whisper.sh)",
            home.dir.display()
        );
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    two_recordings(dir.path());
    let mut options = ListenBenchOptions::new(dir.path());
    options.packs = common::root().join("fixtures/voices");
    options.whisper = Some(home);
    options.details = Some(dir.path().join("details.csv"));
    let report = run_listen_bench(&options, &mut |_, _| {}).unwrap();
    let WhisperRun::Ran { setup, models } = &report.whisper else {
        panic!(
            "faster-whisper is installed but did not run: {:?}",
            report.whisper
        );
    };
    assert_eq!(setup.beam_size, 5);
    let heard: Vec<(WhisperModel, Vec<&str>)> = models
        .iter()
        .map(|(model, clips)| {
            (
                *model,
                clips.iter().map(|h| h.clip.language.as_str()).collect(),
            )
        })
        .collect();
    assert_eq!(
        heard,
        [
            (WhisperModel::TinyEn, vec!["en"]),
            (WhisperModel::Base, vec!["en", "da"])
        ]
    );
    for (model, clips) in models {
        for h in clips {
            assert!(h.seconds > 0.0, "{} took no time", model.name());
            assert!(h.text.is_some());
            assert_eq!(h.language.is_some(), model.decides_language());
        }
    }
    let mut table = Vec::new();
    report.print(&mut table).unwrap();
    let table = String::from_utf8(table).unwrap();
    println!("{table}");
    assert!(table.contains("whisper base     da        1"), "{table}");
    let details = std::fs::read_to_string(dir.path().join("details.csv")).unwrap();
    assert_eq!(details.lines().count(), 3, "{details}");
}
