//! What a scenario runs with: the rig's senses and hands (as traits), the oracle, the profile,
//! the timeline and the scenario's memory (the last code read). No simulator in sight.

use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::Outcome;
use super::evidence::EvidenceWriter;
use super::record::{Evidence, Measurement};
use super::timeline::{Entries, Timeline};
use crate::config::token::TokenProfile;
use crate::oracle::Oracle;
use crate::rig::{Clock, Frame, SharedButtons};

/// The facts of the bench the runner needs besides its devices.
#[derive(Debug, Clone, Copy)]
pub struct BenchTiming {
    /// Camera frame period.
    pub frame_period: Duration,
    /// Frames that must agree before a display event.
    pub stable_frames: u32,
    /// Time after energising a relay before its sense line is read; also the bound on
    /// relay latency used in uncertainties.
    pub relay_settle: Duration,
}

impl BenchTiming {
    /// How long after a moment the display events covering it are surely in: the frames that
    /// confirm a change starting then, plus one period for the phase.
    pub fn confirmation(&self) -> Duration {
        self.frame_period * (self.stable_frames + 1)
    }

    /// Uncertainty of a time measured between a relay edge and a frame.
    pub fn edge_to_frame_uncertainty(&self) -> f64 {
        (self.frame_period + self.relay_settle).as_secs_f64()
    }
}

/// What one step came to.
#[derive(Debug, Clone)]
pub struct StepResult {
    /// Its outcome.
    pub outcome: Outcome,
    /// Why, for anything but a plain pass; a pass may say what it saw.
    pub message: Option<String>,
    /// What it measured.
    pub measurements: Vec<Measurement>,
    /// Frames to save as evidence, with captions.
    pub frames: Vec<(Frame, String)>,
}

impl StepResult {
    /// A pass with nothing to say.
    pub fn pass() -> Self {
        Self {
            outcome: Outcome::Pass,
            message: None,
            measurements: Vec::new(),
            frames: Vec::new(),
        }
    }

    /// A pass with a note.
    pub fn pass_with(message: impl Into<String>) -> Self {
        Self {
            message: Some(message.into()),
            ..Self::pass()
        }
    }

    /// The token misbehaved.
    pub fn fail(message: impl Into<String>) -> Self {
        Self {
            outcome: Outcome::Fail,
            message: Some(message.into()),
            ..Self::pass()
        }
    }

    /// The rig broke.
    pub fn error(message: impl Into<String>) -> Self {
        Self {
            outcome: Outcome::Error,
            message: Some(message.into()),
            ..Self::pass()
        }
    }

    /// The operator stopped the run.
    pub fn aborted() -> Self {
        Self {
            outcome: Outcome::Aborted,
            message: Some("aborted by the operator".into()),
            ..Self::pass()
        }
    }

    /// Adds a measurement; a value outside its limits turns a pass into a fail.
    pub fn measured(mut self, measurement: Measurement) -> Self {
        if !measurement.within_limits && self.outcome == Outcome::Pass {
            self.outcome = Outcome::Fail;
            self.message = Some(format!(
                "{} = {:.3} {} is outside [{}, {}]",
                measurement.name,
                measurement.value,
                measurement.unit,
                measurement.min.map_or("-".into(), |v| format!("{v:.3}")),
                measurement.max.map_or("-".into(), |v| format!("{v:.3}")),
            ));
        }
        self.measurements.push(measurement);
        self
    }

    /// Adds an evidence frame.
    pub fn with_frame(mut self, frame: &Frame, caption: impl Into<String>) -> Self {
        self.frames.push((frame.clone(), caption.into()));
        self
    }
}

/// Why a wait ended without a decision.
#[derive(Debug, Clone)]
pub enum Interrupted {
    /// The operator stopped the run.
    Aborted,
    /// A source task failed (camera, reader, console).
    Source(String),
    /// No frames arrived to cover the deadline.
    NoFrames(String),
}

impl Interrupted {
    /// The step result this interruption comes to: Aborted, or Error (the rig's fault).
    pub fn into_result(self) -> StepResult {
        match self {
            Interrupted::Aborted => StepResult::aborted(),
            Interrupted::Source(message) | Interrupted::NoFrames(message) => {
                StepResult::error(message)
            }
        }
    }
}

/// Everything a scenario's steps use.
pub struct Context {
    /// The timeline.
    pub timeline: Timeline,
    /// The relays.
    pub buttons: SharedButtons,
    /// The clock.
    pub clock: Arc<dyn Clock>,
    /// The bench's timing facts.
    pub timing: BenchTiming,
    /// The token profile.
    pub profile: TokenProfile,
    /// The oracle.
    pub oracle: Oracle,
    /// Accepted clock drift of time-based codes, in steps each way (for the offset measurement).
    pub drift_window: Option<u32>,
    /// Stops waits when the operator aborts.
    pub cancel: CancellationToken,
    /// Evidence files.
    pub evidence: EvidenceWriter,
    /// The last code an expectation read in this scenario (for `same` / `different`).
    pub last_code: Option<String>,
    /// Whether the rig has a console.
    pub has_console: bool,
    /// When the scenario started.
    pub scenario_start: Instant,
}

impl Context {
    /// Device seconds since the run started.
    pub fn device_s(&self, at: Instant) -> f64 {
        self.timeline.device_s(at)
    }

    /// Saves a result's frames as evidence.
    pub fn save_evidence(
        &mut self,
        label: &str,
        frames: &[(Frame, String)],
    ) -> (Vec<Evidence>, Option<String>) {
        let mut saved = Vec::new();
        let mut problem = None;
        for (frame, caption) in frames {
            let device_s = self.device_s(frame.captured_at);
            match self.evidence.save(frame, label, caption.clone(), device_s) {
                Ok(evidence) => saved.push(evidence),
                Err(e) => problem = Some(e.to_string()),
            }
        }
        (saved, problem)
    }

    /// Sleeps on the rig's clock unless the operator aborts.
    pub async fn sleep(&self, duration: Duration) -> Result<(), Interrupted> {
        tokio::select! {
            biased;
            () = self.cancel.cancelled() => Err(Interrupted::Aborted),
            () = tokio::time::sleep(duration) => Ok(()),
        }
    }

    /// Waits until `decide` returns a value. `decide` sees the entries and whether every display
    /// event that can start by `deadline` is in (`settled`); once settled it must decide.
    /// Ends early on abort or a failed source, and with `NoFrames` if frames stop arriving.
    pub async fn watch<T>(
        &self,
        deadline: Instant,
        mut decide: impl FnMut(&Entries, bool) -> Option<T>,
    ) -> Result<T, Interrupted> {
        let mut changes = self.timeline.subscribe();
        let settled_at = deadline + self.timing.confirmation();
        // Frames that stop arriving must not hang the run: allow a generous grace, then call it.
        let give_up = settled_at + Duration::from_secs(2) + self.timing.frame_period * 4;
        loop {
            {
                let entries = self.timeline.entries();
                if let Some(failure) = &entries.source_failure {
                    return Err(Interrupted::Source(failure.clone()));
                }
                let settled = entries.last_frame_at.is_some_and(|at| at >= settled_at);
                if let Some(value) = decide(&entries, settled) {
                    return Ok(value);
                }
            }
            tokio::select! {
                biased;
                () = self.cancel.cancelled() => return Err(Interrupted::Aborted),
                changed = changes.changed() => {
                    if changed.is_err() {
                        return Err(Interrupted::Source("the timeline closed".into()));
                    }
                }
                () = tokio::time::sleep_until(give_up) => {
                    let entries = self.timeline.entries();
                    let last = entries.last_frame_at.map_or("none yet".to_string(), |at| format!("{:.3} s", self.device_s(at)));
                    return Err(Interrupted::NoFrames(format!(
                        "camera: no frames to cover the deadline at {:.3} s (last frame read: {last})",
                        self.device_s(deadline),
                    )));
                }
            }
        }
    }
}
