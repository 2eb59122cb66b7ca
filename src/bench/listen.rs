//! `otprig bench listen`, the run: the speech listener on a labelled speech set, each speaker heard
//! with its own ten-clip voice pack, timed per recording.
//!
//! Inputs: [`ListenBenchOptions`] (the set, where the voice packs are, how many clips).
//! Outputs: a [`ListenBenchReport`]: per recording the digits and language heard, the time the
//! listener took and the recording's length (see [`super::listen_report`] for the table).
//!
//! Invariants:
//! - The time counts finding the speech and recognising it, not reading or decoding the file, on
//!   the calling thread (the listener uses one core).
//! - The language is always decided from the audio (`auto`): a wrong language is counted, never
//!   prevented. The code's length is given, as a rig knows its token's (unless told otherwise).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use super::error::BenchError;
use super::speech_labels::{LabelledClip, read_speech_labels};
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
        }
    }
}

/// What the listener made of one recording.
#[derive(Debug, Clone)]
pub struct HeardClip {
    /// The recording and its label.
    pub clip: LabelledClip,
    /// The digits heard, `None` when the listener refused (unrecognised speech).
    pub digits: Option<String>,
    /// The language it decided on.
    pub language: Option<String>,
    /// The lowest word confidence (0 without words).
    pub min_confidence: f32,
    /// Seconds the listener took.
    pub seconds: f64,
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

/// The listening benchmark's results, in label-file order.
#[derive(Debug, Clone)]
pub struct ListenBenchReport {
    /// The set measured.
    pub set: PathBuf,
    /// One entry per recording.
    pub clips: Vec<HeardClip>,
}

/// Runs the benchmark; `progress(done, total)` is called after each recording.
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
    let mut listeners: BTreeMap<String, Listener> = BTreeMap::new();
    let total = labelled.len();
    let mut clips = Vec::with_capacity(total);
    for (done, clip) in labelled.into_iter().enumerate() {
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
        let started = Instant::now();
        let words = options.known_length.then_some(clip.code.len());
        let heard = listener
            .listen_clip(&audio, &LanguageChoice::Auto, words)
            .map_err(|e| BenchError::Voice {
                path: clip.path.clone(),
                message: e.to_string(),
            })?;
        let seconds = started.elapsed().as_secs_f64();
        clips.push(HeardClip {
            audio_seconds: audio.samples.len() as f64 / f64::from(audio.sample_rate.max(1)),
            min_confidence: heard
                .confidences
                .iter()
                .copied()
                .reduce(f32::min)
                .unwrap_or(0.0),
            digits: heard.digits,
            language: heard.language,
            seconds,
            clip,
        });
        progress(done + 1, total);
    }
    Ok(ListenBenchReport {
        set: options.set.clone(),
        clips,
    })
}
