//! Reports: one writer per format, each reading only the [`RunRecord`].
//!
//! Input: a finished [`RunRecord`] (the runner's immutable result). Output, in the run folder:
//! - `run.json` ([`json`]): the record itself, the source of truth every other report can be
//!   rebuilt from;
//! - `junit.xml` ([`junit`]): one `<testsuite>` per rig and token, one `<testcase>` per scenario,
//!   for CI dashboards;
//! - `summary.md` ([`summary`]): scenarios, requirement coverage and measurements for people;
//!   [`summary::render_console`] gives the short terminal version.
//!
//! Invariants:
//! - Reports read the record and nothing else: never the rig, the configs or the clock, so a
//!   report rendered again from `run.json` is byte for byte the same.
//! - A token failure (Fail) and a rig failure (Error) stay apart in every format.
//! - Every file is written to a temporary file in the same folder and then renamed over the
//!   target, so a crash leaves either the old file or the whole new one, never half a file.
//! - The record holds no OTP secrets and no report adds any.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use crate::runner::record::{Measurement, RunRecord};

pub mod json;
pub mod junit;
pub mod summary;

/// File name of the record in a run folder.
pub const RUN_JSON: &str = "run.json";
/// File name of the JUnit report in a run folder.
pub const JUNIT_XML: &str = "junit.xml";
/// File name of the Markdown summary in a run folder.
pub const SUMMARY_MD: &str = "summary.md";

/// Why a report could not be written or read.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// Reading, writing or renaming a report file failed.
    #[error("cannot access {}", path.display())]
    Io {
        /// The report file (the target, not its temporary sibling).
        path: PathBuf,
        /// The underlying error.
        source: io::Error,
    },
    /// Converting between the record and a file format failed.
    #[error("{what}: {message}")]
    Serialize {
        /// What was being done, naming the file, e.g. `cannot parse reports/x/run.json`.
        what: String,
        /// The serializer's own message, with its causes.
        message: String,
    },
}

/// Writes `run.json`, `junit.xml` and `summary.md` into `run_dir` (created if missing) and
/// returns their paths in that order.
///
/// Stops at the first file that cannot be written; files written before it stay in place.
pub fn write_all(record: &RunRecord, run_dir: &Path) -> Result<Vec<PathBuf>, ReportError> {
    fs::create_dir_all(run_dir).map_err(|source| ReportError::Io {
        path: run_dir.to_path_buf(),
        source,
    })?;
    let run_json = run_dir.join(RUN_JSON);
    let junit_xml = run_dir.join(JUNIT_XML);
    let summary_md = run_dir.join(SUMMARY_MD);
    json::write_run_json(record, &run_json)?;
    junit::write_junit(record, &junit_xml)?;
    summary::write_markdown(record, &summary_md)?;
    Ok(vec![run_json, junit_xml, summary_md])
}

/// Writes `bytes` to a temporary sibling of `path`, flushes it to disk and renames it over `path`.
///
/// The sibling lives in the same folder so that the rename stays on one file system and is atomic.
pub(crate) fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), ReportError> {
    let io_error = |source| ReportError::Io {
        path: path.to_path_buf(),
        source,
    };
    let name = path.file_name().ok_or_else(|| {
        io_error(io::Error::new(
            io::ErrorKind::InvalidInput,
            "path has no file name",
        ))
    })?;
    let mut tmp_name = std::ffi::OsString::from(".");
    tmp_name.push(name);
    tmp_name.push(format!(".tmp{}", std::process::id()));
    let tmp = path.with_file_name(tmp_name);

    let result = (|| {
        let mut file = fs::File::create(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        drop(file);
        fs::rename(&tmp, path)
    })();
    if let Err(source) = result {
        // Best effort: the temporary file is ours and useless now; the error that matters is
        // the one returned.
        let _ = fs::remove_file(&tmp);
        return Err(io_error(source));
    }
    Ok(())
}

/// The error and its causes on one line, `outer: inner: innermost`.
pub(crate) fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// A number for people: at most six decimals, without trailing zeros (`0.412`, `12`, `-0.5`).
pub(crate) fn format_number(value: f64) -> String {
    if !value.is_finite() {
        return value.to_string();
    }
    let text = format!("{value:.6}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    match text {
        "-0" | "" => "0".to_string(),
        _ => text.to_string(),
    }
}

/// A measurement's limits as `[min..max]`, an open side left empty (`[..0.5]`).
pub(crate) fn format_limits(measurement: &Measurement) -> String {
    let side = |limit: Option<f64>| limit.map(format_number).unwrap_or_default();
    format!("[{}..{}]", side(measurement.min), side(measurement.max))
}

/// A measurement as `<value> <unit> ±<uncertainty> [min..max] ok|out`.
pub(crate) fn format_measurement(measurement: &Measurement) -> String {
    format!(
        "{} {} ±{} {} {}",
        format_number(measurement.value),
        measurement.unit,
        format_number(measurement.uncertainty),
        format_limits(measurement),
        if measurement.within_limits {
            "ok"
        } else {
            "out"
        },
    )
}

/// A hand-built record shared by the tests of every format: one rig, four scenarios
/// (Fail with a measurement out of limits, Error, Pass with a repeat, Skip).
#[cfg(test)]
#[allow(clippy::unwrap_used)]
pub(crate) mod fixture {
    use crate::runner::Outcome;
    use crate::runner::record::{
        Evidence, FrameCounts, Measurement, Phase, RequirementRecord, RigRecord, RunRecord,
        ScenarioRecord, Statistic, StepRecord, Totals,
    };

    fn step(
        phase: Phase,
        path: &str,
        kind: &str,
        description: &str,
        outcome: Outcome,
        message: Option<&str>,
        (started_s, ended_s): (f64, f64),
    ) -> StepRecord {
        StepRecord {
            phase,
            path: path.to_string(),
            iteration: None,
            kind: kind.to_string(),
            description: description.to_string(),
            outcome,
            message: message.map(str::to_string),
            started_s,
            ended_s,
            measurements: vec![],
            evidence: vec![],
        }
    }

    fn scenario(
        name: &str,
        token: &str,
        verifies: &[&str],
        outcome: Outcome,
        message: Option<&str>,
        (started_s, device_s): (f64, f64),
        steps: Vec<StepRecord>,
    ) -> ScenarioRecord {
        ScenarioRecord {
            name: name.to_string(),
            file: format!("scenarios/{name}.yaml"),
            token: token.to_string(),
            rig: "sim-code-display".to_string(),
            verifies: verifies.iter().map(|id| id.to_string()).collect(),
            outcome,
            message: message.map(str::to_string),
            started_s,
            device_s,
            steps,
            statistics: vec![],
            frames: FrameCounts {
                captured: 100,
                read: 98,
                dropped: 2,
                audio_blocks_dropped: 0,
            },
        }
    }

    fn requirement(
        id: &str,
        source: &str,
        verified_by: &[&str],
        outcome: Outcome,
    ) -> RequirementRecord {
        RequirementRecord {
            id: id.to_string(),
            token: "mitid-code-display".to_string(),
            source: source.to_string(),
            text: format!("the text of {id}"),
            verified_by: verified_by.iter().map(|s| s.to_string()).collect(),
            outcome,
        }
    }

    /// The shared test record.
    pub(crate) fn record() -> RunRecord {
        let token = "mitid-code-display";

        let mut press = step(
            Phase::Steps,
            "steps[0]",
            "press",
            "press ok for 150ms",
            Outcome::Pass,
            None,
            (0.0, 0.2),
        );
        press.measurements.push(Measurement::new(
            "press_to_on",
            0.31,
            "s",
            None,
            Some(0.5),
            0.04,
        ));
        let mut off = step(
            Phase::Steps,
            "steps[1]",
            "expect_display",
            "display is off within 0.5 s of release",
            Outcome::Fail,
            Some("display still on 0.92 s after release (limit 0.5 s)"),
            (0.2, 1.2),
        );
        off.measurements.push(Measurement::new(
            "release_to_off",
            0.92,
            "s",
            Some(0.0),
            Some(0.5),
            0.04,
        ));
        off.evidence.push(Evidence {
            path: "evidence/0002-display.png".to_string(),
            sha256: "ab12".repeat(16),
            caption: "display still on".to_string(),
            captured_s: 1.1,
        });
        let teardown = step(
            Phase::Teardown,
            "teardown[0]",
            "wait",
            "wait 2s",
            Outcome::Pass,
            None,
            (1.2, 3.2),
        );
        let fail = scenario(
            "display-off-after-release",
            token,
            &["CD-OFF-1"],
            Outcome::Fail,
            Some("display still on 0.92 s after release (limit 0.5 s)"),
            (0.0, 3.2),
            vec![press, off, teardown],
        );

        let camera = step(
            Phase::Setup,
            "setup[0]",
            "expect_display",
            "display shows a 6-digit code",
            Outcome::Error,
            Some("camera \"lcd\" (sim) stopped delivering frames"),
            (3.2, 5.2),
        );
        let error = scenario(
            "code-equals-oracle",
            token,
            &["CD-CODE-1", "CD-CODE-2"],
            Outcome::Error,
            Some("camera \"lcd\" (sim) stopped delivering frames"),
            (3.2, 2.0),
            vec![camera],
        );

        let mut repeat = Vec::new();
        for (iteration, value) in [(1, 0.12), (2, 0.14)] {
            let mut wake = step(
                Phase::Steps,
                "steps[0].repeat.steps[0]",
                "press",
                "press ok, display wakes",
                Outcome::Pass,
                None,
                (5.2 + f64::from(iteration), 5.7 + f64::from(iteration)),
            );
            wake.iteration = Some(iteration);
            wake.measurements.push(Measurement::new(
                "press_to_on",
                value,
                "s",
                None,
                Some(0.5),
                0.04,
            ));
            repeat.push(wake);
        }
        let mut pass = scenario(
            "wake-on-press",
            token,
            &["CD-WAKE-1"],
            Outcome::Pass,
            None,
            (5.2, 12.3),
            repeat,
        );
        pass.statistics.push(Statistic {
            path: "steps[0]".to_string(),
            name: "press_to_on".to_string(),
            unit: "s".to_string(),
            count: 2,
            min: 0.12,
            median: 0.13,
            max: 0.14,
        });

        let mut skip = scenario(
            "spoken-code",
            "mitid-audio-reader",
            &["AR-SPEAK-1"],
            Outcome::Skip,
            Some("written for mitid-audio-reader, rig has mitid-code-display"),
            (17.5, 0.0),
            vec![],
        );
        skip.frames = FrameCounts::default();

        let scenarios = vec![fail, error, pass, skip];
        RunRecord {
            run_id: "20250101T120000Z-sim".to_string(),
            otprig_version: "0.1.0".to_string(),
            started_utc: "2025-01-01T12:00:00Z".to_string(),
            seed: Some(42),
            faults: vec!["slow-off".to_string()],
            rigs: vec![RigRecord {
                name: "sim-code-display".to_string(),
                file: "rig/sim-code-display.yaml".to_string(),
                backend: "sim".to_string(),
                token: token.to_string(),
                serial: "SIM-0001".to_string(),
                oracle: "totp".to_string(),
            }],
            totals: Totals::of(&scenarios),
            scenarios,
            requirements: vec![
                requirement(
                    "CD-OFF-1",
                    "seed",
                    &["display-off-after-release"],
                    Outcome::Fail,
                ),
                requirement("CD-CODE-1", "seed", &["code-equals-oracle"], Outcome::Error),
                requirement(
                    "CD-CODE-2",
                    "assumed",
                    &["code-equals-oracle"],
                    Outcome::Error,
                ),
                requirement("CD-WAKE-1", "assumed", &["wake-on-press"], Outcome::Pass),
                requirement("CD-PIN-1", "seed", &[], Outcome::Skip),
            ],
            uncovered: vec!["CD-PIN-1".to_string()],
            outcome: Outcome::Fail,
            exit_code: 1,
            wall_s: 1.234,
            device_s: 17.5,
            peak_memory_bytes: Some(12_897_484),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn write_all_writes_three_files_and_no_temporaries() {
        let dir = tempfile::tempdir().unwrap();
        let run_dir = dir.path().join("run");
        let paths = write_all(&fixture::record(), &run_dir).unwrap();
        assert_eq!(
            paths,
            vec![
                run_dir.join(RUN_JSON),
                run_dir.join(JUNIT_XML),
                run_dir.join(SUMMARY_MD)
            ]
        );
        let mut names: Vec<_> = fs::read_dir(&run_dir)
            .unwrap()
            .map(|entry| entry.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        assert_eq!(names, ["junit.xml", "run.json", "summary.md"]);
    }

    #[test]
    fn io_error_names_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("missing-folder").join(RUN_JSON);
        let error = write_atomically(&path, b"{}").unwrap_err();
        let text = error.to_string();
        assert!(text.starts_with("cannot access "), "{text}");
        assert!(text.ends_with("missing-folder/run.json"), "{text}");
    }

    #[test]
    fn measurement_format() {
        let m = Measurement::new("release_to_off", 0.92, "s", Some(0.0), Some(0.5), 0.04);
        assert_eq!(format_measurement(&m), "0.92 s ±0.04 [0..0.5] out");
        let m = Measurement::new("press_to_on", 0.1 + 0.2, "s", None, Some(0.5), 0.04);
        assert_eq!(format_measurement(&m), "0.3 s ±0.04 [..0.5] ok");
        assert_eq!(format_number(-0.0000001), "0");
        assert_eq!(format_number(12.0), "12");
    }
}
