//! The record: the immutable result of a run, the single source of truth that `run.json`
//! holds and every report is rendered from. Times are device seconds since the run started.

use serde::{Deserialize, Serialize};

use super::outcome::Outcome;

/// A measured quantity with its limits and uncertainty.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Measurement {
    /// What was measured, e.g. `release_to_off`.
    pub name: String,
    /// The value, in `unit`.
    pub value: f64,
    /// The unit, e.g. `s`.
    pub unit: String,
    /// Lower limit, if any.
    pub min: Option<f64>,
    /// Upper limit, if any.
    pub max: Option<f64>,
    /// Half-width of the interval the true value lies in (e.g. one frame period plus relay latency).
    pub uncertainty: f64,
    /// Whether the value lies within the limits.
    pub within_limits: bool,
}

impl Measurement {
    /// A measurement, judged against its limits.
    pub fn new(
        name: &str,
        value: f64,
        unit: &str,
        min: Option<f64>,
        max: Option<f64>,
        uncertainty: f64,
    ) -> Self {
        let within_limits = min.is_none_or(|m| value >= m) && max.is_none_or(|m| value <= m);
        Self {
            name: name.to_string(),
            value,
            unit: unit.to_string(),
            min,
            max,
            uncertainty,
            within_limits,
        }
    }
}

/// A file a verdict rests on (a frame, an audio clip), with its hash.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evidence {
    /// Path relative to the run folder, e.g. `evidence/0003-display.png`.
    pub path: String,
    /// SHA-256 of the file, hex.
    pub sha256: String,
    /// What it shows.
    pub caption: String,
    /// When it was captured, device seconds since the run started.
    pub captured_s: f64,
}

/// Which part of a scenario a step belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Phase {
    /// Bringing the token to the starting state.
    Setup,
    /// The test itself.
    Steps,
    /// Always run; leaves the token off with its settings as found.
    Teardown,
}

/// One executed step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepRecord {
    /// Setup, steps or teardown.
    pub phase: Phase,
    /// The step's YAML path, e.g. `steps[2]` or `steps[1].repeat.steps[0]`.
    pub path: String,
    /// Repetition number (1-based) inside a `repeat`, if any.
    pub iteration: Option<u32>,
    /// The step kind, e.g. `expect_display`.
    pub kind: String,
    /// What the step did or expected, in words.
    pub description: String,
    /// Its outcome.
    pub outcome: Outcome,
    /// Why, for anything but a plain pass.
    pub message: Option<String>,
    /// Start, device seconds since the run started.
    pub started_s: f64,
    /// End, device seconds since the run started.
    pub ended_s: f64,
    /// What it measured.
    pub measurements: Vec<Measurement>,
    /// Frames it rests on.
    pub evidence: Vec<Evidence>,
}

/// Statistics of one measurement over the iterations of a `repeat`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Statistic {
    /// The repeat step's path.
    pub path: String,
    /// The measurement's name.
    pub name: String,
    /// Its unit.
    pub unit: String,
    /// How many values.
    pub count: usize,
    /// Smallest.
    pub min: f64,
    /// Median.
    pub median: f64,
    /// Largest.
    pub max: f64,
}

/// One scenario run on one rig.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScenarioRecord {
    /// Its name.
    pub name: String,
    /// Its file, as given.
    pub file: String,
    /// The token kind it was written for.
    pub token: String,
    /// The rig it ran on.
    pub rig: String,
    /// Requirement ids it verifies.
    pub verifies: Vec<String>,
    /// Its outcome: that of the first step that did not pass.
    pub outcome: Outcome,
    /// Why, for anything but a pass.
    pub message: Option<String>,
    /// Start, device seconds since the run started.
    pub started_s: f64,
    /// Device time it covered, seconds.
    pub device_s: f64,
    /// Every step run, in order.
    pub steps: Vec<StepRecord>,
    /// min/median/max of measurements repeated by `repeat` steps.
    pub statistics: Vec<Statistic>,
    /// Camera frames captured and frames the LCD reader had to skip.
    pub frames: FrameCounts,
}

/// Frame counts of a scenario.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FrameCounts {
    /// Frames captured by the camera.
    pub captured: u64,
    /// Frames read by the LCD reader.
    pub read: u64,
    /// Frames dropped before reading (the reader was busy).
    pub dropped: u64,
    /// Audio blocks dropped before the listener heard them (it fell behind).
    #[serde(default)]
    pub audio_blocks_dropped: u64,
}

/// Coverage of one requirement by this run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RequirementRecord {
    /// Its id.
    pub id: String,
    /// The token kind it applies to.
    pub token: String,
    /// `seed` or `assumed`.
    pub source: String,
    /// The quoted sentence or stated assumption.
    pub text: String,
    /// Scenarios of this run that verify it.
    pub verified_by: Vec<String>,
    /// Pass only if every scenario verifying it passed; Skip if none ran.
    pub outcome: Outcome,
}

/// The bench a scenario ran on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RigRecord {
    /// The rig's name.
    pub name: String,
    /// Its file.
    pub file: String,
    /// `sim` or `lab`.
    pub backend: String,
    /// The token kind on it.
    pub token: String,
    /// The unit's serial number.
    pub serial: String,
    /// Which oracle judged its codes.
    pub oracle: String,
}

/// Counts of scenario outcomes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Totals {
    /// Passed.
    pub pass: usize,
    /// Failed.
    pub fail: usize,
    /// Erred.
    pub error: usize,
    /// Skipped.
    pub skip: usize,
    /// Aborted.
    pub aborted: usize,
}

impl Totals {
    /// Counts the outcomes.
    pub fn of<'a>(scenarios: impl IntoIterator<Item = &'a ScenarioRecord>) -> Self {
        let mut totals = Totals::default();
        for scenario in scenarios {
            match scenario.outcome {
                Outcome::Pass => totals.pass += 1,
                Outcome::Fail => totals.fail += 1,
                Outcome::Error => totals.error += 1,
                Outcome::Skip => totals.skip += 1,
                Outcome::Aborted => totals.aborted += 1,
            }
        }
        totals
    }
}

/// A whole run: `run.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    /// The run's id, also its folder name.
    pub run_id: String,
    /// otprig's version.
    pub otprig_version: String,
    /// When the run started, RFC 3339 UTC.
    pub started_utc: String,
    /// The seed of the simulated world, if simulated.
    pub seed: Option<u64>,
    /// The device faults injected into the simulated token, if any.
    pub faults: Vec<String>,
    /// The rigs used.
    pub rigs: Vec<RigRecord>,
    /// Every scenario, in run order.
    pub scenarios: Vec<ScenarioRecord>,
    /// Every requirement of the catalogue and how this run covered it.
    pub requirements: Vec<RequirementRecord>,
    /// Ids of requirements no scenario of this run verifies.
    pub uncovered: Vec<String>,
    /// Scenario outcome counts.
    pub totals: Totals,
    /// The run's outcome (worst first: aborted, fail, error, pass).
    pub outcome: Outcome,
    /// The exit code the run ended with.
    pub exit_code: i32,
    /// Wall-clock seconds the run took.
    pub wall_s: f64,
    /// Device seconds the run covered.
    pub device_s: f64,
    /// Peak resident memory of the process, bytes, where the platform tells.
    pub peak_memory_bytes: Option<u64>,
}
