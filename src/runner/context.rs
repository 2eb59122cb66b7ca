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
use crate::oracle::{Oracle, OracleError, OracleVerdict};
use crate::perception::capture::AudioSpan;
use crate::perception::features::SAMPLE_RATE;
use crate::perception::observation::SpeechEvent;
use crate::rig::clock::unix_seconds;
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
    /// Audio clips to save as evidence: samples, rate, start, caption.
    pub clips: Vec<(Arc<Vec<f32>>, u32, Instant, String)>,
}

impl StepResult {
    /// A pass with nothing to say.
    pub fn pass() -> Self {
        Self {
            outcome: Outcome::Pass,
            message: None,
            measurements: Vec::new(),
            frames: Vec::new(),
            clips: Vec::new(),
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

    /// Adds an evidence audio clip.
    pub fn with_clip(mut self, event: &SpeechEvent, caption: impl Into<String>) -> Self {
        self.clips.push((
            event.clip.clone(),
            event.sample_rate,
            event.start,
            caption.into(),
        ));
        self
    }

    /// Adds the audio of a stretch of the microphone's stream (from the timeline's ring) as
    /// evidence: what the rig heard where it expected speech.
    pub fn with_audio(mut self, span: AudioSpan, caption: impl Into<String>) -> Self {
        self.clips.push((
            Arc::new(span.samples),
            SAMPLE_RATE,
            span.start,
            caption.into(),
        ));
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
    /// Oracle verdicts by (code, moment it was made): a code is put to the oracle once, so an
    /// HOTP counter is not advanced twice by one code seen and heard.
    pub verdicts: Vec<(String, Instant, OracleVerdict)>,
    /// Whether the rig has a console.
    pub has_console: bool,
    /// Whether the rig has a microphone and listener.
    pub has_microphone: bool,
    /// The unit's serial number (from the rig file), for `expect_speech: serial`.
    pub serial: String,
    /// The digits of the last utterance an expectation heard (for `same`).
    pub last_speech: Option<String>,
    /// When the scenario started.
    pub scenario_start: Instant,
}

impl Context {
    /// Device seconds since the run started.
    pub fn device_s(&self, at: Instant) -> f64 {
        self.timeline.device_s(at)
    }

    /// Saves a result's frames and clips as evidence.
    pub fn save_evidence(
        &mut self,
        label: &str,
        result: &StepResult,
    ) -> (Vec<Evidence>, Option<String>) {
        let mut saved = Vec::new();
        let mut problem = None;
        for (frame, caption) in &result.frames {
            let device_s = self.device_s(frame.captured_at);
            match self.evidence.save(frame, label, caption.clone(), device_s) {
                Ok(evidence) => saved.push(evidence),
                Err(e) => problem = Some(e.to_string()),
            }
        }
        for (samples, rate, start, caption) in &result.clips {
            let device_s = self.device_s(*start);
            match self
                .evidence
                .save_clip(samples, *rate, label, caption.clone(), device_s)
            {
                Ok(evidence) => saved.push(evidence),
                Err(e) => problem = Some(e.to_string()),
            }
        }
        (saved, problem)
    }

    /// Puts a code seen (or heard) at `seen_at` to the oracle, once per code and press: the
    /// code was made at the last key release before `seen_at`, so a time-based code is judged
    /// at that moment, and at `seen_at` too when a step boundary lies between the two.
    pub async fn check_code(
        &mut self,
        code: &str,
        seen_at: Instant,
    ) -> Result<OracleVerdict, OracleError> {
        let made_at = self
            .timeline
            .entries()
            .last_release(seen_at)
            .map_or(seen_at, |a| a.at);
        if let Some((_, _, verdict)) = self
            .verdicts
            .iter()
            .find(|(c, at, _)| c == code && *at == made_at)
        {
            return Ok(verdict.clone());
        }
        let mut verdict = self.oracle.check(code, self.clock.utc_at(made_at)).await?;
        let step = self.profile.otp.step.as_secs_f64().max(1.0);
        let step_of = |at: Instant| (unix_seconds(self.clock.utc_at(at)) / step).floor();
        if !verdict.accepted && self.oracle.name() == "totp" && step_of(made_at) != step_of(seen_at)
        {
            let later = self.oracle.check(code, self.clock.utc_at(seen_at)).await?;
            if later.accepted {
                verdict = later;
            }
        }
        self.verdicts
            .push((code.to_string(), made_at, verdict.clone()));
        Ok(verdict)
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
        decide: impl FnMut(&Entries, bool) -> Option<T>,
    ) -> Result<T, Interrupted> {
        self.watch_sense(Sense::Camera, deadline, decide).await
    }

    /// Like `watch`, for utterances: settled once the listener has heard past `deadline`
    /// with no utterance open (or a long tail has passed), so that speech that started by the
    /// deadline has been recognised.
    pub async fn watch_speech<T>(
        &self,
        deadline: Instant,
        decide: impl FnMut(&Entries, bool) -> Option<T>,
    ) -> Result<T, Interrupted> {
        if !self.has_microphone {
            return Err(Interrupted::Source(
                "this rig has no microphone to listen with".into(),
            ));
        }
        self.watch_sense(Sense::Microphone, deadline, decide).await
    }

    async fn watch_sense<T>(
        &self,
        sense: Sense,
        deadline: Instant,
        mut decide: impl FnMut(&Entries, bool) -> Option<T>,
    ) -> Result<T, Interrupted> {
        let mut changes = self.timeline.subscribe();
        let (settled_at, long_tail, period) = match sense {
            Sense::Camera => (
                deadline + self.timing.confirmation(),
                Duration::ZERO,
                self.timing.frame_period,
            ),
            // An utterance that starts by the deadline ends within the longest reading
            // (a serial number at the slowest speed) plus the silence that closes it.
            Sense::Microphone => (
                deadline + UTTERANCE_CLOSE,
                SPEECH_TAIL,
                Duration::from_millis(20),
            ),
        };
        // A source that stops delivering must not hang the run: allow a grace, then call it.
        let give_up = settled_at + long_tail + Duration::from_secs(2) + period * 4;
        loop {
            {
                let entries = self.timeline.entries();
                if let Some(failure) = &entries.source_failure {
                    return Err(Interrupted::Source(failure.clone()));
                }
                let settled = match sense {
                    Sense::Camera => entries.last_frame_at.is_some_and(|at| at >= settled_at),
                    Sense::Microphone => entries.last_audio_at.is_some_and(|at| {
                        (at >= settled_at && !entries.in_speech) || at >= settled_at + long_tail
                    }),
                };
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
                    let (what, last) = match sense {
                        Sense::Camera => ("camera: no frames", entries.last_frame_at),
                        Sense::Microphone => ("microphone: no audio", entries.last_audio_at),
                    };
                    let last = last.map_or("none yet".to_string(), |at| format!("{:.3} s", self.device_s(at)));
                    return Err(Interrupted::NoFrames(format!(
                        "{what} to cover the deadline at {:.3} s (last received: {last})",
                        self.device_s(deadline),
                    )));
                }
            }
        }
    }
}

/// For `watch` closures that wait for the first match: `Some(Some(found))` as soon as it is
/// there, `Some(None)` once settled without it, `None` (keep waiting) before.
pub fn first_or_settled<T>(found: Option<T>, settled: bool) -> Option<Option<T>> {
    match found {
        Some(found) => Some(Some(found)),
        None if settled => Some(None),
        None => None,
    }
}

/// Which sense a wait depends on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sense {
    Camera,
    Microphone,
}

/// Silence that closes an utterance in the segmenter, plus a margin.
const UTTERANCE_CLOSE: Duration = Duration::from_millis(900);
/// The longest reading: ten digits at the slowest speed, with pauses.
const SPEECH_TAIL: Duration = Duration::from_secs(12);
