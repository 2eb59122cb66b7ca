//! `otprig bench listen`, the run: the speech listener on a labelled speech set, each speaker heard
//! with its own ten-clip voice pack, timed per recording; and, when asked, faster-whisper on the
//! same recordings (see [`super::whisper`]).
//!
//! Inputs: [`ListenBenchOptions`] (the set, where the voice packs are, how many clips, the
//! faster-whisper install to run beside, a details file).
//! Outputs: a [`ListenBenchReport`]: per recording and tool the digits and language heard, the
//! time taken and the recording's length (see [`super::listen_report`] for the table).
//!
//! Invariants:
//! - otprig's time counts finding the speech and recognising it, not reading or decoding the file,
//!   on the calling thread (the listener uses one core). faster-whisper's is its transcription on
//!   one core, after its models are loaded and the file decoded. Each is measured on the wall
//!   clock and, where Linux tells, as processor time, which other work on a shared machine does
//!   not inflate.
//! - The language is decided from the audio (`auto`) by otprig and by the multilingual model: a
//!   wrong language is counted, never prevented. The code's length is given to otprig, as a rig
//!   knows its token's (unless told otherwise).
//! - Each recording is heard by otprig and then by each model in turn, so that a machine that gets
//!   busier during the run slows all of them alike.
//! - faster-whisper asked for but not installed is reported as such; otprig's figures still come.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use super::error::BenchError;
use super::speech_labels::{LabelledClip, read_speech_labels};
use super::whisper::{WhisperAnchor, WhisperHome, WhisperModel, WhisperSetup};
use crate::perception::listener::{LanguageChoice, Listener};
use crate::perception::voice_pack::VoicePack;
use crate::rig::audio_file::read_audio;

/// What to measure.
#[derive(Debug, Clone)]
pub struct ListenBenchOptions {
    /// The labelled speech set: recordings and their `labels.csv`.
    pub set: PathBuf,
    /// The folder of voice packs, one `<voice>/<lang>/<digit>.wav` per voice named in the labels.
    pub packs: PathBuf,
    /// Measure only the first N recordings of the label file.
    pub limit: Option<usize>,
    /// Listen for each code's length of digits (the rig knows how long its token's codes are);
    /// false: any number.
    pub known_length: bool,
    /// Run faster-whisper from this install on the same recordings; `None`: otprig alone.
    pub whisper: Option<WhisperHome>,
    /// Write one CSV line per recording (every tool's answer and time) to this file.
    pub details: Option<PathBuf>,
}

impl ListenBenchOptions {
    /// All recordings of `set`, with the voice packs in the set's parent folder (as
    /// `fixtures/voices/test` and `fixtures/voices/<voice>` are laid out).
    pub fn new(set: &Path) -> Self {
        let packs = set
            .parent()
            .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
        Self {
            set: set.to_path_buf(),
            packs,
            limit: None,
            known_length: true,
            whisper: None,
            details: None,
        }
    }
}

/// What a tool (otprig's listener, a Whisper model) made of one recording.
#[derive(Debug, Clone)]
pub struct HeardClip {
    /// The recording and its label.
    pub clip: LabelledClip,
    /// The digits heard, `None` when the listener refused (unrecognised speech) or a model's text
    /// is not a code.
    pub digits: Option<String>,
    /// The language it decided on (`None` for a model told the language).
    pub language: Option<String>,
    /// otprig's lowest word confidence (0 without words); `None` for a Whisper model.
    pub min_confidence: Option<f32>,
    /// A Whisper model's text; `None` for otprig.
    pub text: Option<String>,
    /// Seconds the tool took.
    pub seconds: f64,
    /// Processor seconds it spent, where the system tells (Linux): unlike `seconds`, not
    /// inflated by other work on the machine.
    pub cpu_seconds: Option<f64>,
    /// Seconds of audio in the recording.
    pub audio_seconds: f64,
}

impl HeardClip {
    /// The code heard exactly.
    pub fn exact(&self) -> bool {
        self.digits.as_deref() == Some(self.clip.code.as_str())
    }

    /// Digits reported that are not the code: a confident wrong code.
    pub fn wrong(&self) -> bool {
        self.digits.is_some() && !self.exact()
    }

    /// The language decided is the one spoken.
    pub fn language_right(&self) -> bool {
        self.language.as_deref() == Some(self.clip.language.as_str())
    }
}

/// Whether faster-whisper ran beside otprig.
#[derive(Debug, Clone)]
pub enum WhisperRun {
    /// It was not asked for.
    NotRequested,
    /// It was asked for, but this install is missing.
    NotInstalled(WhisperHome),
    /// It ran: its versions and settings, and each model's recordings in [`WhisperModel::ALL`]
    /// order (a model hears only the languages it knows, see [`WhisperModel::language_for`]).
    Ran {
        /// Versions and settings.
        setup: WhisperSetup,
        /// Each model and what it made of each recording it heard, in label-file order.
        models: Vec<(WhisperModel, Vec<HeardClip>)>,
    },
}

/// The listening benchmark's results, in label-file order.
#[derive(Debug, Clone)]
pub struct ListenBenchReport {
    /// The set measured.
    pub set: PathBuf,
    /// One entry per recording: otprig's listener.
    pub clips: Vec<HeardClip>,
    /// faster-whisper on the same recordings, when asked.
    pub whisper: WhisperRun,
}

/// Runs the benchmark; `progress(done, total)` is called after each recording heard by each tool.
pub fn run_listen_bench(
    options: &ListenBenchOptions,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<ListenBenchReport, BenchError> {
    let mut labelled = read_speech_labels(&options.set)?;
    if let Some(limit) = options.limit {
        labelled.truncate(limit);
    }
    if labelled.is_empty() {
        return Err(BenchError::NoClips {
            path: options.set.clone(),
        });
    }
    let mut anchor = match &options.whisper {
        Some(home) if home.is_installed() => Some(WhisperAnchor::start(home, &WhisperModel::ALL)?),
        _ => None,
    };
    let mut whisper_clips: Vec<(WhisperModel, Vec<HeardClip>)> = WhisperModel::ALL
        .into_iter()
        .map(|model| (model, Vec::new()))
        .collect();
    let heard_by_whisper = |clip: &LabelledClip| {
        WhisperModel::ALL
            .into_iter()
            .filter(|model| model.language_for(&clip.language).is_some())
            .count()
    };
    let total = labelled.len()
        + anchor
            .as_ref()
            .map_or(0, |_| labelled.iter().map(heard_by_whisper).sum());
    let mut done = 0;
    let mut listeners: BTreeMap<String, Listener> = BTreeMap::new();
    let mut clips = Vec::with_capacity(labelled.len());
    for clip in labelled {
        let heard = listen_with_otprig(&mut listeners, options, clip)?;
        done += 1;
        progress(done, total);
        if let Some(anchor) = anchor.as_mut() {
            for (model, heard_clips) in &mut whisper_clips {
                let Some(language) = model.language_for(&heard.clip.language) else {
                    continue;
                };
                let transcript = anchor.transcribe(*model, &heard.clip.path, language)?;
                heard_clips.push(HeardClip {
                    clip: heard.clip.clone(),
                    digits: transcript.digits,
                    language: transcript.language,
                    min_confidence: None,
                    text: Some(transcript.text),
                    seconds: transcript.seconds,
                    cpu_seconds: Some(transcript.cpu_seconds),
                    audio_seconds: heard.audio_seconds,
                });
                done += 1;
                progress(done, total);
            }
        }
        clips.push(heard);
    }
    let whisper = match (&options.whisper, anchor) {
        (None, _) => WhisperRun::NotRequested,
        (Some(home), None) => WhisperRun::NotInstalled(home.clone()),
        (Some(_), Some(anchor)) => WhisperRun::Ran {
            setup: anchor.setup.clone(),
            models: whisper_clips,
        },
    };
    let report = ListenBenchReport {
        set: options.set.clone(),
        clips,
        whisper,
    };
    if let Some(path) = &options.details {
        report.write_details(path)?;
    }
    Ok(report)
}

/// otprig's listener on one recording, with its speaker's voice pack (loaded on first use).
fn listen_with_otprig(
    listeners: &mut BTreeMap<String, Listener>,
    options: &ListenBenchOptions,
    clip: LabelledClip,
) -> Result<HeardClip, BenchError> {
    if !listeners.contains_key(&clip.voice) {
        let dir = options.packs.join(&clip.voice);
        let pack = VoicePack::load(&dir).map_err(|source| BenchError::Voice {
            path: dir.clone(),
            message: source.to_string(),
        })?;
        listeners.insert(clip.voice.clone(), Listener::new(pack));
    }
    let listener = &listeners[&clip.voice];
    let audio = read_audio(&clip.path).map_err(|e| BenchError::Voice {
        path: clip.path.clone(),
        message: e.message,
    })?;
    let words = options.known_length.then_some(clip.code.len());
    let cpu_started = thread_cpu_seconds();
    let started = Instant::now();
    let heard = listener.listen_clip(&audio, &LanguageChoice::Auto, words);
    let seconds = started.elapsed().as_secs_f64();
    let cpu_seconds = thread_cpu_seconds()
        .zip(cpu_started)
        .map(|(end, start)| end - start);
    let heard = heard.map_err(|e| BenchError::Voice {
        path: clip.path.clone(),
        message: e.to_string(),
    })?;
    Ok(HeardClip {
        audio_seconds: audio.samples.len() as f64 / f64::from(audio.sample_rate.max(1)),
        min_confidence: Some(
            heard
                .confidences
                .iter()
                .copied()
                .reduce(f32::min)
                .unwrap_or(0.0),
        ),
        text: None,
        digits: heard.digits,
        language: heard.language,
        seconds,
        cpu_seconds,
        clip,
    })
}

/// The processor time the calling thread has run, in seconds, from Linux's
/// `/proc/thread-self/schedstat` (nanoseconds, first field); `None` elsewhere. The kernel brings
/// it up to date at its scheduler tick, so one difference may be off by a few milliseconds either
/// way; the sums over many recordings that the report prints are sound.
fn thread_cpu_seconds() -> Option<f64> {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let nanoseconds: u64 = text.split_whitespace().next()?.parse().ok()?;
    Some(nanoseconds as f64 * 1e-9)
}
