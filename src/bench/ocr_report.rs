//! The OCR benchmark's report: one table of accuracy and time per tool, the ratios of otprig to
//! each anchor, a short breakdown by photo condition, and the per-photo details CSV.
//!
//! Inputs: an [`OcrBenchReport`]. Outputs: text on any `Write`, and a CSV file.
//! Invariant: everything printed is computed from the report's per-photo results; nothing is
//! measured here.

use std::io::{self, Write};
use std::path::Path;
use std::time::Duration;

use super::anchor::Anchor;
use super::error::BenchError;
use super::labels::{Expected, LabelledPhoto};
use super::ocr::{AnchorStatus, Answer, OcrBenchReport, PhotoResult, ToolResult, Verdict};

/// otprig's confidence from which a wrong code counts as a confident one.
pub const CONFIDENT: f32 = 0.5;

/// The frame size the speed targets are set for.
const TARGET_FRAME: (u32, u32) = (640, 480);
/// Speed target of a whole-frame locate and read at [`TARGET_FRAME`], in milliseconds.
const WHOLE_FRAME_TARGET_MS: f64 = 5.0;
/// Speed target of a tracked read at [`TARGET_FRAME`], in milliseconds.
const TRACKED_TARGET_MS: f64 = 1.0;

/// Accuracy and time of one tool over a set of photos.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ToolStats {
    /// Photos read.
    pub photos: usize,
    /// Photos read right (the expected code, or no digit on a blank photo).
    pub right: usize,
    /// Blank photos.
    pub blank_photos: usize,
    /// Blank photos read as blank.
    pub blank_right: usize,
    /// Full-length codes that were not the expected one.
    pub wrong_codes: usize,
    /// Photos showing a code that were read as showing no digit (a verdict as wrong as a wrong
    /// code: the display would be judged off).
    pub blank_on_code: usize,
    /// Wrong codes given with a confidence of at least [`CONFIDENT`] (otprig only).
    pub confident_wrong_codes: Option<usize>,
    /// Mean time per frame in milliseconds.
    pub mean_ms: f64,
    /// Median time per frame in milliseconds.
    pub median_ms: f64,
}

impl ToolStats {
    /// The stats of `results` (each with its photo's label).
    pub fn of<'a>(results: impl IntoIterator<Item = (&'a Expected, &'a ToolResult)>) -> Self {
        let mut stats = ToolStats {
            photos: 0,
            right: 0,
            blank_photos: 0,
            blank_right: 0,
            wrong_codes: 0,
            blank_on_code: 0,
            confident_wrong_codes: None,
            mean_ms: 0.0,
            median_ms: 0.0,
        };
        let mut times = Vec::new();
        for (expected, result) in results {
            stats.photos += 1;
            let right = result.verdict == Verdict::Right;
            stats.right += usize::from(right);
            if *expected == Expected::Blank {
                stats.blank_photos += 1;
                stats.blank_right += usize::from(right);
            }
            if result.verdict == Verdict::WrongCode {
                stats.wrong_codes += 1;
            }
            if *expected != Expected::Blank && result.answer == Answer::Digits(String::new()) {
                stats.blank_on_code += 1;
            }
            if let Some(confidence) = result.confidence {
                let confident = result.verdict == Verdict::WrongCode && confidence >= CONFIDENT;
                *stats.confident_wrong_codes.get_or_insert(0) += usize::from(confident);
            }
            times.push(ms(result.elapsed));
        }
        (stats.mean_ms, stats.median_ms) = mean_and_median(&mut times);
        stats
    }

    /// Share of photos read right, in percent.
    pub fn accuracy_percent(&self) -> f64 {
        percent(self.right, self.photos)
    }
}

/// A tool of the report: otprig's two ways of reading, or an anchor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tool {
    WholeFrame,
    Tracked,
    Anchor(Anchor),
}

impl Tool {
    fn name(self) -> String {
        match self {
            Tool::WholeFrame => "otprig whole frame".to_string(),
            Tool::Tracked => "otprig tracked".to_string(),
            Tool::Anchor(anchor) => format!("{} exact crop", anchor.name()),
        }
    }

    fn result(self, photo: &PhotoResult) -> Option<&ToolResult> {
        match self {
            Tool::WholeFrame => Some(&photo.whole_frame),
            Tool::Tracked => Some(&photo.tracked),
            Tool::Anchor(anchor) => photo
                .anchors
                .iter()
                .find(|(a, _)| *a == anchor)
                .map(|(_, r)| r),
        }
    }
}

/// A photo condition of the breakdown: its name and test.
type Condition = (&'static str, fn(&LabelledPhoto) -> bool);

/// The conditions of the breakdown, in pairs that split the set.
const CONDITIONS: [Condition; 9] = [
    ("simulator frames", |p| p.is_simulated()),
    ("lab photos", |p| !p.is_simulated()),
    ("slant > 0°", |p| p.slant_deg.unwrap_or(0.0) > 0.0),
    ("upright digits", |p| p.slant_deg.unwrap_or(0.0) <= 0.0),
    ("colour", |p| is_colour(p)),
    ("grey", |p| !is_colour(p)),
    ("blank", |p| p.expected == Expected::Blank),
    ("code", |p| p.expected != Expected::Blank),
    ("glare", |p| p.glare.unwrap_or(0.0) > 0.0),
];

fn is_colour(photo: &LabelledPhoto) -> bool {
    !photo.colour.is_empty() && !photo.colour.eq_ignore_ascii_case("grey")
}

impl OcrBenchReport {
    /// The tools that have results, in table order.
    fn tools(&self) -> Vec<Tool> {
        let mut tools = vec![Tool::WholeFrame, Tool::Tracked];
        tools.extend(
            self.anchors
                .iter()
                .filter(|(_, status)| matches!(status, AnchorStatus::Ran(_)))
                .map(|(anchor, _)| Tool::Anchor(*anchor)),
        );
        tools
    }

    /// The stats of `tool` over the photos `keep` accepts.
    fn stats_where(&self, tool: Tool, keep: impl Fn(&PhotoResult) -> bool) -> ToolStats {
        ToolStats::of(
            self.photos
                .iter()
                .filter(|p| keep(p))
                .filter_map(|p| tool.result(p).map(|r| (&p.photo.expected, r))),
        )
    }

    /// The stats of `tool` over all photos.
    pub fn stats(&self, tool_name: &str) -> Option<ToolStats> {
        self.tools()
            .into_iter()
            .find(|t| t.name() == tool_name)
            .map(|t| self.stats_where(t, |_| true))
    }

    /// Prints the table, the ratios and the breakdown.
    pub fn print(&self, out: &mut impl Write) -> io::Result<()> {
        let simulated = self
            .photos
            .iter()
            .filter(|p| p.photo.is_simulated())
            .count();
        let blank = self
            .photos
            .iter()
            .filter(|p| p.photo.expected == Expected::Blank)
            .count();
        writeln!(
            out,
            "OCR benchmark: {} photos from {} ({} lab photos, {simulated} simulator frames; {blank} blank)",
            self.photos.len(),
            self.fixtures.display(),
            self.photos.len() - simulated,
        )?;
        writeln!(
            out,
            "otprig reads whole frames on one core; each anchor gets the exact crop of the labelled \
             digits, straightened, and is timed per process call"
        )?;
        for (anchor, status) in &self.anchors {
            let text = match status {
                AnchorStatus::Ran(version) => version.clone(),
                AnchorStatus::NotInstalled => format!(
                    "not installed (apt-get install {}): not run",
                    anchor.package()
                ),
                AnchorStatus::Skipped => "skipped on request".to_string(),
            };
            writeln!(out, "  {:<10} {text}", anchor.name())?;
        }
        writeln!(out)?;
        self.print_table(out)?;
        writeln!(out)?;
        self.print_speed_targets(out)?;
        self.print_ratios(out)?;
        writeln!(out)?;
        self.print_breakdown(out)
    }

    fn print_table(&self, out: &mut impl Write) -> io::Result<()> {
        writeln!(
            out,
            "{:<22} {:>6} {:>6} {:>9} {:>7} {:>7} {:>11} {:>11} {:>9} {:>9}",
            "tool",
            "photos",
            "right",
            "accuracy",
            "blank",
            "wrong",
            "wrong ≥0.5",
            "code→blank",
            "mean ms",
            "median ms"
        )?;
        for tool in self.tools() {
            let s = self.stats_where(tool, |_| true);
            let confident = s
                .confident_wrong_codes
                .map_or_else(|| "-".to_string(), |n| n.to_string());
            writeln!(
                out,
                "{:<22} {:>6} {:>6} {:>8.1}% {:>7} {:>7} {:>11} {:>11} {:>9.2} {:>9.2}",
                tool.name(),
                s.photos,
                s.right,
                s.accuracy_percent(),
                format!("{}/{}", s.blank_right, s.blank_photos),
                s.wrong_codes,
                confident,
                s.blank_on_code,
                s.mean_ms,
                s.median_ms
            )?;
        }
        writeln!(
            out,
            "(right: exact code, or no digit on a blank photo; blank: blank photos read as blank; \
             wrong: a full-length code that is not the expected one; code→blank: a code read as no digit)"
        )
    }

    fn print_speed_targets(&self, out: &mut impl Write) -> io::Result<()> {
        let at_target = |p: &PhotoResult| p.frame_size == TARGET_FRAME;
        let whole = self.stats_where(Tool::WholeFrame, at_target);
        // A tracked frame is one read in the window kept from the frame before; a second read
        // whose window no longer reads is located afresh and counts as a whole-frame read.
        let in_window = self.stats_where(Tool::Tracked, |p| {
            at_target(p) && p.tracked.in_tracked_window
        });
        let second_reads = self.stats_where(Tool::Tracked, at_target);
        if whole.photos == 0 {
            return writeln!(out, "speed targets: no 640×480 frame in the set");
        }
        let verdict = |ms: f64, target: f64| if ms <= target { "met" } else { "MISSED" };
        let tracked_verdict = if in_window.photos == 0 {
            "none read tracked"
        } else {
            verdict(in_window.mean_ms, TRACKED_TARGET_MS)
        };
        write!(
            out,
            "mean ms on the {} frames of 640×480: otprig whole frame {:.2} (target ≤ {WHOLE_FRAME_TARGET_MS}: {}), \
             tracked {:.2} on the {} read in their tracked window (target ≤ {TRACKED_TARGET_MS}: {}; \
             {:.2} over all second reads, the rest located afresh)",
            whole.photos,
            whole.mean_ms,
            verdict(whole.mean_ms, WHOLE_FRAME_TARGET_MS),
            in_window.mean_ms,
            in_window.photos,
            tracked_verdict,
            second_reads.mean_ms,
        )?;
        for tool in self.tools() {
            if let Tool::Anchor(anchor) = tool {
                let s = self.stats_where(tool, at_target);
                write!(out, ", {} {:.2}", anchor.name(), s.mean_ms)?;
            }
        }
        writeln!(out)
    }

    fn print_ratios(&self, out: &mut impl Write) -> io::Result<()> {
        let whole = self.stats_where(Tool::WholeFrame, |_| true);
        let tracked = self.stats_where(Tool::Tracked, |_| true);
        for tool in self.tools() {
            let Tool::Anchor(anchor) = tool else {
                continue;
            };
            let a = self.stats_where(tool, |_| true);
            writeln!(
                out,
                "otprig vs {}: accuracy {:.1}% vs {:.1}% ({}, {:+.1} points); \
                 {:.1}× faster whole frame, {:.1}× faster tracked (mean ms)",
                anchor.name(),
                whole.accuracy_percent(),
                a.accuracy_percent(),
                ratio(whole.accuracy_percent(), a.accuracy_percent()),
                whole.accuracy_percent() - a.accuracy_percent(),
                a.mean_ms / whole.mean_ms.max(1e-6),
                a.mean_ms / tracked.mean_ms.max(1e-6),
            )?;
        }
        Ok(())
    }

    fn print_breakdown(&self, out: &mut impl Write) -> io::Result<()> {
        let tools: Vec<Tool> = self
            .tools()
            .into_iter()
            .filter(|t| *t != Tool::Tracked)
            .collect();
        write!(out, "{:<18} {:>6}", "accuracy by", "photos")?;
        for tool in &tools {
            let name = match tool {
                Tool::Anchor(anchor) => anchor.name(),
                _ => "otprig",
            };
            write!(out, " {name:>9}")?;
        }
        writeln!(out)?;
        for (name, keep) in CONDITIONS {
            let count = self.photos.iter().filter(|p| keep(&p.photo)).count();
            if count == 0 {
                continue;
            }
            write!(out, "{name:<18} {count:>6}")?;
            for tool in &tools {
                let s = self.stats_where(*tool, |p| keep(&p.photo));
                write!(out, " {:>8.1}%", s.accuracy_percent())?;
            }
            writeln!(out)?;
        }
        Ok(())
    }

    /// Writes one CSV line per photo: the label, then each tool's answer, verdict and time.
    pub fn write_details(&self, path: &Path) -> Result<(), BenchError> {
        let io_error = |source: io::Error| BenchError::Io {
            path: path.to_path_buf(),
            source,
        };
        let csv_error = |error: csv::Error| io_error(io::Error::other(error));
        let mut writer = csv::Writer::from_path(path).map_err(csv_error)?;
        let tools = self.tools();
        let mut header = vec!["file".to_string(), "expected".to_string()];
        for tool in &tools {
            let prefix = match tool {
                Tool::WholeFrame => "otprig".to_string(),
                Tool::Tracked => "otprig_tracked".to_string(),
                Tool::Anchor(anchor) => anchor.name().to_string(),
            };
            for column in ["", "_verdict", "_output", "_confidence", "_ms"] {
                header.push(format!("{prefix}{column}"));
            }
        }
        header.push("otprig_tracked_window".to_string());
        writer.write_record(&header).map_err(csv_error)?;
        for photo in &self.photos {
            let mut row = vec![photo.photo.file.clone(), photo.photo.expected.to_string()];
            for tool in &tools {
                match tool.result(photo) {
                    Some(r) => row.extend([
                        r.answer.label().to_string(),
                        verdict_name(r.verdict).to_string(),
                        r.output.clone(),
                        r.confidence.map_or_else(String::new, |c| format!("{c:.3}")),
                        format!("{:.3}", ms(r.elapsed)),
                    ]),
                    None => row.extend(std::iter::repeat_n(String::new(), 5)),
                }
            }
            row.push(
                if photo.tracked.in_tracked_window {
                    "yes"
                } else {
                    "no"
                }
                .to_string(),
            );
            writer.write_record(&row).map_err(csv_error)?;
        }
        writer.flush().map_err(io_error)
    }
}

fn verdict_name(verdict: Verdict) -> &'static str {
    match verdict {
        Verdict::Right => "right",
        Verdict::WrongCode => "wrong_code",
        Verdict::Miss => "miss",
    }
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

fn percent(part: usize, whole: usize) -> f64 {
    if whole == 0 {
        0.0
    } else {
        100.0 * part as f64 / whole as f64
    }
}

/// `a / b` as `1.23×`, or `n/a` when `b` is zero.
fn ratio(a: f64, b: f64) -> String {
    if b > 0.0 {
        format!("{:.2}×", a / b)
    } else {
        "n/a".to_string()
    }
}

/// Mean and median of `values` (0 for none); sorts them.
fn mean_and_median(values: &mut [f64]) -> (f64, f64) {
    if values.is_empty() {
        return (0.0, 0.0);
    }
    values.sort_by(f64::total_cmp);
    let mean = values.iter().sum::<f64>() / values.len() as f64;
    let mid = values.len() / 2;
    let median = if values.len().is_multiple_of(2) {
        (values[mid - 1] + values[mid]) / 2.0
    } else {
        values[mid]
    };
    (mean, median)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn result(verdict: Verdict, confidence: Option<f32>, ms: u64) -> ToolResult {
        ToolResult {
            answer: Answer::Unreadable,
            output: String::new(),
            confidence,
            verdict,
            elapsed: Duration::from_millis(ms),
            in_tracked_window: false,
        }
    }

    #[test]
    fn a_code_read_as_no_digit_is_counted() {
        let code = Expected::Code("123456".into());
        let mut blank_answer = result(Verdict::Miss, Some(0.7), 2);
        blank_answer.answer = Answer::Digits(String::new());
        let results = [
            (code.clone(), blank_answer),
            (code, result(Verdict::Miss, Some(0.0), 2)),
        ];
        let s = ToolStats::of(results.iter().map(|(e, r)| (e, r)));
        assert_eq!((s.right, s.wrong_codes, s.blank_on_code), (0, 0, 1));
    }

    #[test]
    fn stats_count_verdicts_and_times() {
        let code = Expected::Code("123456".into());
        let blank = Expected::Blank;
        let results = [
            (code.clone(), result(Verdict::Right, Some(0.9), 2)),
            (code.clone(), result(Verdict::WrongCode, Some(0.6), 4)),
            (code, result(Verdict::WrongCode, Some(0.2), 9)),
            (blank.clone(), result(Verdict::Right, Some(0.8), 1)),
            (blank, result(Verdict::Miss, Some(0.0), 3)),
        ];
        let s = ToolStats::of(results.iter().map(|(e, r)| (e, r)));
        assert_eq!((s.photos, s.right), (5, 2));
        assert_eq!((s.blank_photos, s.blank_right), (2, 1));
        assert_eq!(s.wrong_codes, 2);
        assert_eq!(s.confident_wrong_codes, Some(1));
        assert!((s.mean_ms - 3.8).abs() < 1e-9);
        assert!((s.median_ms - 3.0).abs() < 1e-9);
        assert!((s.accuracy_percent() - 40.0).abs() < 1e-9);
    }

    #[test]
    fn anchors_have_no_confident_wrong_codes() {
        let code = Expected::Code("1".into());
        let r = result(Verdict::WrongCode, None, 10);
        let s = ToolStats::of([(&code, &r)]);
        assert_eq!(s.confident_wrong_codes, None);
    }

    #[test]
    fn medians_of_even_and_empty_sets() {
        assert_eq!(mean_and_median(&mut [4.0, 1.0, 3.0, 2.0]), (2.5, 2.5));
        assert_eq!(mean_and_median(&mut []), (0.0, 0.0));
        assert_eq!(ratio(90.0, 0.0), "n/a");
        assert_eq!(ratio(90.0, 45.0), "2.00×");
    }
}
