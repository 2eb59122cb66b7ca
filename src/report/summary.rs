//! Summaries for people: a short one for the terminal and `summary.md` for the run folder.
//!
//! Input: a [`RunRecord`]. Output: plain text ([`render_console`]) and Markdown
//! ([`render_markdown`]). Both name every scenario with its outcome and message, the requirement
//! coverage and the timing; the Markdown adds the rigs, the requirement table and every
//! measurement. Nothing here adds data the record does not hold (in particular no OTP secrets).

use std::fmt::Write as _;
use std::path::Path;

use super::{ReportError, format_limits, format_number, write_atomically};
use crate::runner::Outcome;
use crate::runner::record::{RequirementRecord, RunRecord};

/// The short terminal summary: one line per scenario (with its message indented under any
/// non-pass), the totals, the requirement coverage, the run's outcome and the timing line.
///
/// The caller adds the lines naming the output folder.
pub fn render_console(record: &RunRecord) -> String {
    let mut out = String::new();
    let seed = record
        .seed
        .map_or_else(|| "none".to_string(), |seed| seed.to_string());
    let faults = if record.faults.is_empty() {
        "none".to_string()
    } else {
        record.faults.join(", ")
    };
    let _ = writeln!(out, "run {}  (seed {seed}, faults {faults})", record.run_id);

    let token_width = column_width(record.scenarios.iter().map(|s| s.token.as_str()));
    let name_width = column_width(record.scenarios.iter().map(|s| s.name.as_str()));
    for scenario in &record.scenarios {
        let _ = writeln!(
            out,
            "{:<5} {:<token_width$}  {:<name_width$}  ({:.1} s device)",
            scenario.outcome.label(),
            scenario.token,
            scenario.name,
            scenario.device_s,
        );
        if scenario.outcome == Outcome::Pass {
            continue;
        }
        for line in scenario.message.iter().flat_map(|message| message.lines()) {
            let _ = writeln!(out, "      {line}");
        }
    }

    let totals = record.totals;
    let _ = writeln!(
        out,
        "{} scenarios: {} passed, {} failed, {} erred, {} skipped, {} aborted",
        record.scenarios.len(),
        totals.pass,
        totals.fail,
        totals.error,
        totals.skip,
        totals.aborted,
    );

    let _ = writeln!(out, "{}", coverage_line(&record.requirements));
    if record.uncovered.is_empty() {
        let _ = writeln!(out, "all requirements covered");
    } else {
        let _ = writeln!(
            out,
            "uncovered requirements ({}): {}",
            record.uncovered.len(),
            record.uncovered.join(", ")
        );
    }

    let _ = writeln!(
        out,
        "result {}, exit code {}",
        record.outcome.label(),
        record.exit_code
    );
    let _ = writeln!(out, "{}", timing_line(record));
    out
}

/// Writes [`render_markdown`] to `path`, replacing any earlier file atomically.
pub fn write_markdown(record: &RunRecord, path: &Path) -> Result<(), ReportError> {
    write_atomically(path, render_markdown(record).as_bytes())
}

/// `summary.md`: run facts, rigs, a scenario table, the requirement coverage table and the
/// measurements, statistics and evidence of each scenario.
pub fn render_markdown(record: &RunRecord) -> String {
    let mut md = String::new();
    let _ = writeln!(md, "# otprig run `{}`\n", record.run_id);
    let _ = writeln!(
        md,
        "**{}** (exit code {}): {}\n",
        record.outcome.label(),
        record.exit_code,
        totals_phrase(record)
    );
    let _ = writeln!(md, "- started: {}", cell(&record.started_utc));
    let _ = writeln!(md, "- otprig: {}", cell(&record.otprig_version));
    let seed = record
        .seed
        .map_or_else(|| "none".to_string(), |seed| seed.to_string());
    let _ = writeln!(md, "- seed: {seed}");
    let faults = if record.faults.is_empty() {
        "none".to_string()
    } else {
        record.faults.join(", ")
    };
    let _ = writeln!(md, "- faults: {}", cell(&faults));
    let _ = writeln!(md, "- {}\n", timing_line(record));

    if !record.rigs.is_empty() {
        md.push_str("## Rigs\n\n");
        md.push_str("| Rig | File | Backend | Token | Serial | Oracle |\n");
        md.push_str("|---|---|---|---|---|---|\n");
        for rig in &record.rigs {
            let _ = writeln!(
                md,
                "| {} | {} | {} | {} | {} | {} |",
                cell(&rig.name),
                cell(&rig.file),
                cell(&rig.backend),
                cell(&rig.token),
                cell(&rig.serial),
                cell(&rig.oracle)
            );
        }
        md.push('\n');
    }

    md.push_str("## Scenarios\n\n");
    md.push_str("| Outcome | Scenario | Token | Rig | Device s | Verifies | Message |\n");
    md.push_str("|---|---|---|---|---:|---|---|\n");
    for scenario in &record.scenarios {
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} | {:.1} | {} | {} |",
            scenario.outcome.label(),
            cell(&scenario.name),
            cell(&scenario.token),
            cell(&scenario.rig),
            scenario.device_s,
            cell(&scenario.verifies.join(", ")),
            cell(scenario.message.as_deref().unwrap_or(""))
        );
    }
    md.push('\n');

    md.push_str("## Requirements\n\n");
    let _ = writeln!(md, "{}\n", coverage_line(&record.requirements));
    if !record.requirements.is_empty() {
        md.push_str("| Id | Source | Verified by | Outcome |\n");
        md.push_str("|---|---|---|---|\n");
        for requirement in &record.requirements {
            let verified_by = if requirement.verified_by.is_empty() {
                "(none)".to_string()
            } else {
                requirement.verified_by.join(", ")
            };
            let _ = writeln!(
                md,
                "| {} | {} | {} | {} |",
                cell(&requirement.id),
                cell(&requirement.source),
                cell(&verified_by),
                requirement.outcome.label()
            );
        }
        md.push('\n');
    }
    if record.uncovered.is_empty() {
        md.push_str("All requirements covered.\n\n");
    } else {
        let _ = writeln!(md, "Uncovered: {}\n", cell(&record.uncovered.join(", ")));
    }

    md.push_str("## Measurements\n");
    for scenario in &record.scenarios {
        let measured: Vec<_> = scenario
            .steps
            .iter()
            .flat_map(|step| step.measurements.iter().map(move |m| (step, m)))
            .collect();
        let evidence: Vec<_> = scenario.steps.iter().flat_map(|s| &s.evidence).collect();
        let _ = writeln!(
            md,
            "\n### {} ({})\n",
            cell(&scenario.name),
            scenario.outcome.label()
        );
        let _ = writeln!(
            md,
            "Frames: {} captured, {} read, {} dropped.\n",
            scenario.frames.captured, scenario.frames.read, scenario.frames.dropped
        );
        if measured.is_empty() {
            md.push_str("No measurements.\n");
        } else {
            md.push_str("| Step | Measurement | Value | Uncertainty | Limits | Verdict |\n");
            md.push_str("|---|---|---:|---:|---|---|\n");
            for (step, m) in measured {
                let step_label = match step.iteration {
                    Some(iteration) => format!("{} #{iteration}", step.path),
                    None => step.path.clone(),
                };
                let _ = writeln!(
                    md,
                    "| {} | {} | {} {} | ±{} | {} | {} |",
                    cell(&step_label),
                    cell(&m.name),
                    format_number(m.value),
                    cell(&m.unit),
                    format_number(m.uncertainty),
                    format_limits(m),
                    if m.within_limits { "ok" } else { "**out**" }
                );
            }
        }
        if !scenario.statistics.is_empty() {
            md.push_str("\n| Repeat | Measurement | n | Min | Median | Max |\n");
            md.push_str("|---|---|---:|---:|---:|---:|\n");
            for stat in &scenario.statistics {
                let _ = writeln!(
                    md,
                    "| {} | {} | {} | {} {unit} | {} {unit} | {} {unit} |",
                    cell(&stat.path),
                    cell(&stat.name),
                    stat.count,
                    format_number(stat.min),
                    format_number(stat.median),
                    format_number(stat.max),
                    unit = cell(&stat.unit),
                );
            }
        }
        if !evidence.is_empty() {
            md.push_str("\nEvidence:\n\n");
            for item in evidence {
                let _ = writeln!(
                    md,
                    "- `{}` ({}), sha256 `{}`",
                    item.path.replace('`', "'"),
                    cell(&item.caption),
                    item.sha256
                );
            }
        }
    }
    md
}

/// Widest value of a column, for alignment.
fn column_width<'a>(values: impl Iterator<Item = &'a str>) -> usize {
    values.map(|value| value.chars().count()).max().unwrap_or(0)
}

/// `wall time 1.23 s, device time 456.7 s, ratio 0.0027 (wall/device), peak memory 12.3 MiB`.
fn timing_line(record: &RunRecord) -> String {
    let ratio = if record.device_s > 0.0 {
        format!("{:.4}", record.wall_s / record.device_s)
    } else {
        "n/a".to_string()
    };
    #[allow(clippy::cast_precision_loss)] // MiB with one decimal; exact to 2^53 bytes anyway
    let memory = record.peak_memory_bytes.map_or_else(
        || "unknown".to_string(),
        |bytes| format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0)),
    );
    format!(
        "wall time {:.2} s, device time {:.1} s, ratio {ratio} (wall/device), peak memory {memory}",
        record.wall_s, record.device_s
    )
}

/// `requirements covered: 2 of 3 seed, 2 of 2 assumed`.
fn coverage_line(requirements: &[RequirementRecord]) -> String {
    let count = |source: &str| {
        let of_source = requirements.iter().filter(|r| r.source == source);
        let total = of_source.clone().count();
        let covered = of_source.filter(|r| !r.verified_by.is_empty()).count();
        (covered, total)
    };
    let (seed_covered, seed_total) = count("seed");
    let (assumed_covered, assumed_total) = count("assumed");
    let mut line = format!(
        "requirements covered: {seed_covered} of {seed_total} seed, \
         {assumed_covered} of {assumed_total} assumed"
    );
    let other = requirements.len() - seed_total - assumed_total;
    if other > 0 {
        let _ = write!(line, ", {other} of another source");
    }
    line
}

fn totals_phrase(record: &RunRecord) -> String {
    let totals = record.totals;
    format!(
        "{} scenarios, {} passed, {} failed, {} erred, {} skipped, {} aborted",
        record.scenarios.len(),
        totals.pass,
        totals.fail,
        totals.error,
        totals.skip,
        totals.aborted
    )
}

/// Text made safe for one Markdown table cell: pipes escaped, line breaks as `<br>`.
fn cell(text: &str) -> String {
    text.replace('|', "\\|")
        .replace("\r\n", "<br>")
        .replace('\n', "<br>")
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::report::fixture;

    #[test]
    fn console_snapshot() {
        insta::assert_snapshot!(render_console(&fixture::record()));
    }

    #[test]
    fn markdown_snapshot() {
        insta::assert_snapshot!(render_markdown(&fixture::record()));
    }

    #[test]
    fn console_closing_line() {
        let mut record = fixture::record();
        let text = render_console(&record);
        assert!(text.ends_with(
            "wall time 1.23 s, device time 17.5 s, ratio 0.0705 (wall/device), peak memory 12.3 MiB\n"
        ));
        record.peak_memory_bytes = None;
        record.uncovered.clear();
        let text = render_console(&record);
        assert!(text.ends_with("peak memory unknown\n"), "{text}");
        assert!(text.contains("\nall requirements covered\n"), "{text}");
    }

    #[test]
    fn console_indents_messages_of_non_passes_only() {
        let mut record = fixture::record();
        record.scenarios[2].message = Some("not shown".to_string());
        let text = render_console(&record);
        assert!(text.contains("\n      camera \"lcd\" (sim) stopped delivering frames\n"));
        assert!(!text.contains("not shown"));
    }

    #[test]
    fn markdown_cells_escape_pipes_and_newlines() {
        assert_eq!(cell("a|b\nc"), "a\\|b<br>c");
    }
}
