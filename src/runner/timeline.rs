//! The timeline: every action and observation of a scenario on the rig's one monotonic clock.
//!
//! Tasks push key actions, display events, console lines and frame progress; expectations
//! read it and wait for it to change. Each entry is also written to the journal.

use std::sync::{Arc, Mutex, MutexGuard};

use serde_json::json;
use tokio::sync::watch;
use tokio::time::Instant;

use super::journal::Journal;
use super::record::FrameCounts;
use crate::perception::capture::{AudioRing, AudioSpan};
use crate::perception::lcd::LcdReading;
use crate::perception::observation::{DisplayEvent, SpeechEvent};
use crate::rig::LogLine;

/// A relay edge the runner commanded.
#[derive(Debug, Clone)]
pub struct KeyAction {
    /// When the relay was commanded.
    pub at: Instant,
    /// Which button.
    pub button: String,
    /// Energised (press) or released.
    pub closed: bool,
    /// Press feedback read after the settle time: `Some(true)` contact confirmed closed.
    pub confirmed: Option<bool>,
}

/// What the timeline holds.
#[derive(Debug, Default)]
pub struct Entries {
    /// Relay edges.
    pub actions: Vec<KeyAction>,
    /// Display events.
    pub display: Vec<DisplayEvent>,
    /// Console lines.
    pub logs: Vec<LogLine>,
    /// Utterances heard.
    pub speech: Vec<SpeechEvent>,
    /// End time of the newest audio block the listener has processed.
    pub last_audio_at: Option<Instant>,
    /// Whether the listener is inside an utterance at `last_audio_at`.
    pub in_speech: bool,
    /// Audio blocks dropped because the listener fell behind.
    pub audio_dropped: u64,
    /// Capture time of the newest frame the LCD reader has processed.
    pub last_frame_at: Option<Instant>,
    /// Frame counts.
    pub frames: FrameCounts,
    /// Why the camera or reader stopped, if it did.
    pub source_failure: Option<String>,
}

impl Entries {
    /// The display event in force at `at` (the last one whose first frame is not later).
    pub fn display_at(&self, at: Instant) -> Option<&DisplayEvent> {
        self.display.iter().rev().find(|e| e.first_frame_at <= at)
    }

    /// The last release of any key at or before `at`.
    pub fn last_release(&self, before: Instant) -> Option<&KeyAction> {
        self.actions
            .iter()
            .rev()
            .find(|a| !a.closed && a.at <= before)
    }

    /// The last press of any key at or before `at`.
    pub fn last_press(&self, before: Instant) -> Option<&KeyAction> {
        self.actions
            .iter()
            .rev()
            .find(|a| a.closed && a.at <= before)
    }
}

/// The shared timeline of one scenario.
#[derive(Debug, Clone)]
pub struct Timeline {
    run_start: Instant,
    entries: Arc<Mutex<Entries>>,
    version: Arc<watch::Sender<u64>>,
    journal: Journal,
    /// The microphone's recent audio at the listener's rate, filled by the listener task.
    audio: Arc<Mutex<AudioRing>>,
}

impl Timeline {
    /// An empty timeline; device times are counted from `run_start`.
    pub fn new(run_start: Instant, journal: Journal) -> Self {
        let (version, _) = watch::channel(0);
        Self {
            run_start,
            entries: Arc::new(Mutex::new(Entries::default())),
            version: Arc::new(version),
            journal,
            audio: Arc::new(Mutex::new(AudioRing::default())),
        }
    }

    /// The ring the listener task captures audio into.
    pub fn audio_ring(&self) -> Arc<Mutex<AudioRing>> {
        self.audio.clone()
    }

    /// The audio captured in `[from, to)`, as far as it is still kept (`None`: none of it).
    pub fn audio_span(&self, from: Instant, to: Instant) -> Option<AudioSpan> {
        self.audio
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .span(from, to)
    }

    /// Device seconds since the run started.
    pub fn device_s(&self, at: Instant) -> f64 {
        at.saturating_duration_since(self.run_start).as_secs_f64()
    }

    /// The run's start.
    pub fn run_start(&self) -> Instant {
        self.run_start
    }

    /// The journal.
    pub fn journal(&self) -> &Journal {
        &self.journal
    }

    /// A receiver that changes whenever the timeline does.
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.version.subscribe()
    }

    /// Reads the entries.
    pub fn entries(&self) -> MutexGuard<'_, Entries> {
        // Entries are plain data; a panic elsewhere cannot leave them half-written in a way
        // that matters more than losing the whole record.
        match self.entries.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    fn changed(&self) {
        self.version.send_modify(|v| *v += 1);
    }

    fn journal_event(&self, at: Instant, event: &str, fields: serde_json::Value) {
        if let Err(e) = self.journal.append(self.device_s(at), event, fields) {
            tracing::error!("{e}");
        }
    }

    /// Records a relay edge.
    pub fn push_action(&self, action: KeyAction) {
        self.journal_event(
            action.at,
            if action.closed { "key_down" } else { "key_up" },
            json!({ "button": action.button, "contact_confirmed": action.confirmed }),
        );
        self.entries().actions.push(action);
        self.changed();
    }

    /// Records a display event.
    pub fn push_display(&self, event: DisplayEvent) {
        let reading = match &event.reading {
            LcdReading::Code(code) => json!({ "code": code }),
            LcdReading::Blank => json!("blank"),
            LcdReading::Unreadable(why) => json!({ "unreadable": why }),
        };
        self.journal_event(
            event.first_frame_at,
            "display",
            json!({
                "reading": reading,
                "confidence": event.confidence,
                "confirmed_t": super::journal::round_ms(self.device_s(event.confirmed_at)),
                "frame": event.frame.seq,
            }),
        );
        self.entries().display.push(event);
        self.changed();
    }

    /// Records an utterance.
    pub fn push_speech(&self, event: SpeechEvent) {
        self.journal_event(
            event.start,
            "speech",
            json!({
                "digits": event.heard.digits,
                "language": event.heard.language,
                "confidences": event.heard.confidences,
                "level_dbfs": (event.level.rms_dbfs * 10.0).round() / 10.0,
                "loudness_lufs": event.level.loudness_lufs.map(|l| (l * 10.0).round() / 10.0),
                "words": event.heard.words.len(),
                "duration_s": super::journal::round_ms(event.duration_s()),
            }),
        );
        self.entries().speech.push(event);
        self.changed();
    }

    /// Records that the listener has processed audio up to `at`.
    pub fn push_audio_progress(&self, at: Instant, in_speech: bool, dropped: u64) {
        {
            let mut entries = self.entries();
            entries.last_audio_at = Some(at);
            entries.in_speech = in_speech;
            entries.audio_dropped = dropped;
        }
        self.changed();
    }

    /// Records a console line.
    pub fn push_log(&self, line: LogLine) {
        self.journal_event(line.captured_at, "console", json!({ "line": line.text }));
        self.entries().logs.push(line);
        self.changed();
    }

    /// Records that the reader has processed frames up to `at`.
    pub fn push_frame_progress(&self, at: Instant, counts: FrameCounts) {
        {
            let mut entries = self.entries();
            entries.last_frame_at = Some(at);
            entries.frames = counts;
        }
        self.changed();
    }

    /// Records that a source (camera, reader, console) stopped with an error.
    pub fn push_source_failure(&self, at: Instant, message: String) {
        self.journal_event(at, "source_failure", json!({ "message": message }));
        self.entries().source_failure = Some(message);
        self.changed();
    }
}
