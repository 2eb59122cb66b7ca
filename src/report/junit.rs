//! `junit.xml`: the record in the JUnit XML shape CI dashboards read.
//!
//! Input: a [`RunRecord`]. Output: one `<testsuite>` per (rig, token) pair, named
//! `<token> on <rig>`, in order of first appearance; one `<testcase>` per scenario (name = the
//! scenario, classname = the token kind it was written for, time = its device seconds).
//!
//! Outcome mapping; Fail and Error never share an element, because they blame different things:
//!
//! | outcome | element                      |
//! |---------|------------------------------|
//! | Pass    | none                         |
//! | Fail    | `<failure type="token-fail">` |
//! | Error   | `<error type="rig-error">`   |
//! | Skip    | `<skipped>`                  |
//! | Aborted | `<error type="aborted">`     |
//!
//! The element's message is the scenario's message; its text is the deciding step (path,
//! description, message, measurements). Test case properties carry every measurement
//! (`<step path>[#<iteration>].<name>` = `<value> <unit> ±<uncertainty> [min..max] ok|out`),
//! repeat statistics (`stat.<path>.<name>`), `verifies` and the evidence (`evidence.<n>` =
//! `<path> <sha256>`); `system-out` holds the step log. Suite properties: seed, faults, run_id,
//! wall_s, device_s and the rig's backend, serial and oracle.
//!
//! quick-junit 0.8 can stamp timestamps only as `chrono` values, which this crate does not
//! depend on, so none are written; the run's start is in `run.json`.

use std::fmt::Write as _;
use std::path::Path;
use std::time::Duration;

use quick_junit::{NonSuccessKind, Property, Report, TestCase, TestCaseStatus, TestSuite};

use super::{ReportError, error_chain, format_measurement, format_number, write_atomically};
use crate::runner::Outcome;
use crate::runner::record::{RunRecord, ScenarioRecord, StepRecord};

/// The JUnit `type` of a token failure.
pub const TYPE_TOKEN_FAIL: &str = "token-fail";
/// The JUnit `type` of a rig error.
pub const TYPE_RIG_ERROR: &str = "rig-error";
/// The JUnit `type` of a scenario the operator aborted.
pub const TYPE_ABORTED: &str = "aborted";

/// Renders the record as JUnit XML.
pub fn render_junit(record: &RunRecord) -> Result<String, ReportError> {
    let mut report = Report::new(format!("otprig {}", record.run_id));
    if let Some(time) = seconds(record.device_s) {
        report.set_time(time);
    }

    // (rig, token) pairs in order of first appearance, each with its scenarios.
    let mut groups: Vec<((&str, &str), Vec<&ScenarioRecord>)> = Vec::new();
    for scenario in &record.scenarios {
        let key = (scenario.rig.as_str(), rig_token(record, scenario));
        match groups.iter_mut().find(|(k, _)| *k == key) {
            Some((_, scenarios)) => scenarios.push(scenario),
            None => groups.push((key, vec![scenario])),
        }
    }

    for ((rig, token), scenarios) in groups {
        let mut suite = TestSuite::new(format!("{token} on {rig}"));
        let device_s: f64 = scenarios.iter().map(|s| s.device_s).sum();
        if let Some(time) = seconds(device_s) {
            suite.set_time(time);
        }
        suite.add_properties(suite_properties(record, rig));
        suite.add_test_cases(scenarios.into_iter().map(test_case));
        report.add_test_suite(suite);
    }

    report.to_string().map_err(|error| ReportError::Serialize {
        what: "cannot render junit.xml".to_string(),
        message: error_chain(&error),
    })
}

/// Writes the record as JUnit XML to `path`, replacing any earlier file atomically.
pub fn write_junit(record: &RunRecord, path: &Path) -> Result<(), ReportError> {
    let xml = render_junit(record)?;
    write_atomically(path, xml.as_bytes())
}

/// The token kind on the scenario's rig, or the scenario's own kind if the rig is not recorded.
fn rig_token<'a>(record: &'a RunRecord, scenario: &'a ScenarioRecord) -> &'a str {
    record
        .rigs
        .iter()
        .find(|rig| rig.name == scenario.rig)
        .map_or(scenario.token.as_str(), |rig| rig.token.as_str())
}

/// A duration for JUnit; `None` for values a `Duration` cannot hold (negative, NaN).
fn seconds(value: f64) -> Option<Duration> {
    Duration::try_from_secs_f64(value).ok()
}

fn suite_properties(record: &RunRecord, rig: &str) -> Vec<Property> {
    let faults = if record.faults.is_empty() {
        "none".to_string()
    } else {
        record.faults.join(",")
    };
    let mut properties = vec![
        Property::new("run_id", &record.run_id),
        Property::new(
            "seed",
            record
                .seed
                .map_or_else(|| "none".to_string(), |seed| seed.to_string()),
        ),
        Property::new("faults", faults),
        Property::new("wall_s", format_number(record.wall_s)),
        Property::new("device_s", format_number(record.device_s)),
    ];
    if let Some(rig) = record.rigs.iter().find(|r| r.name == rig) {
        properties.push(Property::new("rig_backend", &rig.backend));
        properties.push(Property::new("token_serial", &rig.serial));
        properties.push(Property::new("oracle", &rig.oracle));
    }
    properties
}

fn test_case(scenario: &ScenarioRecord) -> TestCase {
    let message = scenario.message.as_deref();
    let status = match scenario.outcome {
        Outcome::Pass => TestCaseStatus::success(),
        Outcome::Fail => non_success(scenario, NonSuccessKind::Failure, TYPE_TOKEN_FAIL),
        Outcome::Error => non_success(scenario, NonSuccessKind::Error, TYPE_RIG_ERROR),
        Outcome::Aborted => non_success(scenario, NonSuccessKind::Error, TYPE_ABORTED),
        Outcome::Skip => {
            let mut status = TestCaseStatus::skipped();
            if let Some(message) = message {
                status.set_message(message);
            }
            status
        }
    };

    let mut case = TestCase::new(&scenario.name, status);
    case.set_classname(&scenario.token);
    if let Some(time) = seconds(scenario.device_s) {
        case.set_time(time);
    }
    case.add_properties(case_properties(scenario));
    if !scenario.steps.is_empty() {
        case.set_system_out(step_log(scenario));
    }
    case
}

/// A `<failure>` or `<error>` whose text is the step that decided the outcome.
fn non_success(scenario: &ScenarioRecord, kind: NonSuccessKind, ty: &str) -> TestCaseStatus {
    let mut status = TestCaseStatus::non_success(kind);
    status.set_message(
        scenario
            .message
            .as_deref()
            .unwrap_or(scenario.outcome.label()),
    );
    status.set_type(ty);
    let deciding = scenario
        .steps
        .iter()
        .find(|step| step.outcome == scenario.outcome);
    if let Some(step) = deciding {
        status.set_description(step_detail(step));
    }
    status
}

/// `<path>: <description>`, the step's message and its measurements, one per line.
fn step_detail(step: &StepRecord) -> String {
    let mut text = format!("{}: {}", step_label(step), step.description);
    if let Some(message) = &step.message {
        let _ = write!(text, "\n{message}");
    }
    for measurement in &step.measurements {
        let _ = write!(
            text,
            "\n{} = {}",
            measurement.name,
            format_measurement(measurement)
        );
    }
    text
}

/// The step's path, with `#<iteration>` inside a repeat so that iterations stay apart.
fn step_label(step: &StepRecord) -> String {
    match step.iteration {
        Some(iteration) => format!("{}#{iteration}", step.path),
        None => step.path.clone(),
    }
}

fn case_properties(scenario: &ScenarioRecord) -> Vec<Property> {
    let mut properties = Vec::new();
    if !scenario.verifies.is_empty() {
        properties.push(Property::new("verifies", scenario.verifies.join(",")));
    }
    for step in &scenario.steps {
        let label = step_label(step);
        for measurement in &step.measurements {
            properties.push(Property::new(
                format!("{label}.{}", measurement.name),
                format_measurement(measurement),
            ));
        }
    }
    for stat in &scenario.statistics {
        properties.push(Property::new(
            format!("stat.{}.{}", stat.path, stat.name),
            format!(
                "min {} median {} max {} {} (n={})",
                format_number(stat.min),
                format_number(stat.median),
                format_number(stat.max),
                stat.unit,
                stat.count
            ),
        ));
    }
    let evidence = scenario.steps.iter().flat_map(|step| &step.evidence);
    for (n, evidence) in evidence.enumerate() {
        properties.push(Property::new(
            format!("evidence.{}", n + 1),
            format!("{} {}", evidence.path, evidence.sha256),
        ));
    }
    properties
}

/// One line per step: outcome, path, kind, device start and duration, then its message.
fn step_log(scenario: &ScenarioRecord) -> String {
    let mut log = String::new();
    for step in &scenario.steps {
        let _ = writeln!(
            log,
            "{:<5} {} {} at {} s for {} s: {}",
            step.outcome.label(),
            step_label(step),
            step.kind,
            format_number(step.started_s),
            format_number(step.ended_s - step.started_s),
            step.description
        );
        if let Some(message) = &step.message {
            let _ = writeln!(log, "      {message}");
        }
    }
    log
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::report::fixture;

    /// The `<testcase>` element of the named scenario, up to its closing tag.
    fn case_xml<'a>(xml: &'a str, name: &str) -> &'a str {
        let start = xml
            .find(&format!("<testcase name=\"{name}\""))
            .unwrap_or_else(|| panic!("no testcase {name} in\n{xml}"));
        let rest = &xml[start..];
        let end = rest.find("</testcase>").map_or(rest.len(), |end| end);
        &rest[..end]
    }

    #[test]
    fn junit_snapshot() {
        insta::assert_snapshot!(render_junit(&fixture::record()).unwrap());
    }

    #[test]
    fn fail_is_a_failure_and_error_is_an_error() {
        let xml = render_junit(&fixture::record()).unwrap();

        let fail = case_xml(&xml, "display-off-after-release");
        assert!(fail.contains("<failure "), "{fail}");
        assert!(fail.contains("type=\"token-fail\""), "{fail}");
        assert!(!fail.contains("<error"), "{fail}");

        let error = case_xml(&xml, "code-equals-oracle");
        assert!(error.contains("<error "), "{error}");
        assert!(error.contains("type=\"rig-error\""), "{error}");
        assert!(!error.contains("<failure"), "{error}");

        let pass = case_xml(&xml, "wake-on-press");
        assert!(
            !pass.contains("<failure") && !pass.contains("<error") && !pass.contains("<skipped")
        );

        let skip = case_xml(&xml, "spoken-code");
        assert!(skip.contains("<skipped "), "{skip}");

        assert!(xml.contains(
            "<testsuite name=\"mitid-code-display on sim-code-display\" tests=\"4\" skipped=\"1\" errors=\"1\" failures=\"1\""
        ));
    }

    #[test]
    fn measurements_and_evidence_are_properties() {
        let xml = render_junit(&fixture::record()).unwrap();
        let fail = case_xml(&xml, "display-off-after-release");
        assert!(fail.contains(
            "<property name=\"steps[1].release_to_off\" value=\"0.92 s ±0.04 [0..0.5] out\"/>"
        ));
        assert!(fail.contains("<property name=\"verifies\" value=\"CD-OFF-1\"/>"));
        assert!(fail.contains("<property name=\"evidence.1\" value=\"evidence/0002-display.png "));
        let pass = case_xml(&xml, "wake-on-press");
        assert!(pass.contains("name=\"steps[0].repeat.steps[0]#2.press_to_on\""));
    }

    #[test]
    fn aborted_is_an_error_of_its_own_type() {
        let mut record = fixture::record();
        record.scenarios[2].outcome = Outcome::Aborted;
        record.scenarios[2].message = Some("stopped by the operator".to_string());
        let xml = render_junit(&record).unwrap();
        let aborted = case_xml(&xml, "wake-on-press");
        assert!(aborted.contains("<error message=\"stopped by the operator\" type=\"aborted\""));
        assert!(!aborted.contains("<failure"));
    }
}
