//! Enrolment: a voice pack built from a device's own readings, each word labelled with the digit
//! the rig knows it said.
//!
//! Inputs: utterances from the [`segmenter`](super::segmenter), each with the digits it reads
//! (the code the LCD reader saw, or the serial number the rig file declares). Outputs: per digit
//! the examples heard, and a pack folder `<dir>/<lang>/<digit>.wav` made of the most typical
//! example of each digit (the one nearest all the others), the layout [`VoicePack`] loads.
//!
//! Invariants:
//! - A reading is used only when it splits into exactly as many words as it has digits
//!   ([`Utterance::words_of`]); otherwise it is refused with the count found, never guessed.
//! - Each word's clip runs from [`MARGIN`] before its first speech frame to [`MARGIN`] after its
//!   last, never past half-way to a neighbouring word, at the listener's rate.
//! - A pack is written only when every digit has an example.
//!
//! [`VoicePack`]: super::voice_pack::VoicePack

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::capture::to_listener_rate;
use super::features::{FeatureExtractor, SAMPLE_RATE, distance, normalise};
use super::segmenter::Utterance;
use crate::rig::audio_file::{Clip, write_wav};

/// Audio kept around each word's speech.
pub const MARGIN: Duration = Duration::from_millis(10);

/// Why a reading or a pack could not be used.
#[derive(Debug, thiserror::Error)]
pub enum EnrolError {
    /// The label is not all digits.
    #[error("{0:?} is not a string of digits")]
    NotDigits(String),
    /// The reading does not split into one word a digit.
    #[error("heard {found} words where {digits} has {expected} digits")]
    WordCount {
        /// The digits it should read.
        digits: String,
        /// Their number.
        expected: usize,
        /// Words found by pauses (the count-aware split found no boundaries enough).
        found: usize,
    },
    /// The audio could not be brought to the listener's rate.
    #[error("resampling: {0}")]
    Resample(String),
    /// Some digits have no example.
    #[error("no example of digit(s) {0}")]
    Missing(String),
    /// A clip could not be written.
    #[error("{0}")]
    Write(String),
}

/// The examples heard so far, per digit, at the listener's rate.
#[derive(Debug, Default, Clone)]
pub struct Enrolment {
    examples: BTreeMap<u8, Vec<Vec<f32>>>,
}

impl Enrolment {
    /// No examples yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Splits `utterance` into one word per digit of `digits` and keeps each word as an example
    /// of its digit.
    pub fn add_reading(&mut self, utterance: &Utterance, digits: &str) -> Result<(), EnrolError> {
        let labels: Vec<u8> = digits
            .chars()
            .map(|c| c.to_digit(10).map(|d| d as u8))
            .collect::<Option<_>>()
            .filter(|l: &Vec<u8>| !l.is_empty())
            .ok_or_else(|| EnrolError::NotDigits(digits.to_owned()))?;
        let words = utterance
            .words_of(labels.len())
            .ok_or_else(|| EnrolError::WordCount {
                digits: digits.to_owned(),
                expected: labels.len(),
                found: utterance.words.len(),
            })?;
        let samples = to_listener_rate(&utterance.samples, utterance.sample_rate)
            .map_err(|e| EnrolError::Resample(e.to_string()))?;
        let scale = f64::from(SAMPLE_RATE) / f64::from(utterance.sample_rate);
        let at = |i: usize| ((i as f64 * scale).round() as usize).min(samples.len());
        let margin = (MARGIN.as_secs_f64() * f64::from(SAMPLE_RATE)).round() as usize;
        for (i, (word, label)) in words.iter().zip(&labels).enumerate() {
            let (start, end) = (at(word.start), at(word.end));
            let earliest = if i == 0 {
                0
            } else {
                (at(words[i - 1].end) + start) / 2
            };
            let latest = words
                .get(i + 1)
                .map_or(samples.len(), |next| (end + at(next.start)) / 2);
            let from = start.saturating_sub(margin).max(earliest);
            let to = (end + margin).min(latest);
            self.examples
                .entry(*label)
                .or_default()
                .push(samples[from..to].to_vec());
        }
        Ok(())
    }

    /// How many examples each digit has (digits without any are absent).
    pub fn counts(&self) -> BTreeMap<u8, usize> {
        self.examples.iter().map(|(d, e)| (*d, e.len())).collect()
    }

    /// The digits with fewer than `wanted` examples.
    pub fn short_of(&self, wanted: usize) -> Vec<u8> {
        (0..10)
            .filter(|d| self.examples.get(d).map_or(0, Vec::len) < wanted)
            .collect()
    }

    /// The most typical example of `digit`: the one whose summed distance to the others is
    /// least (with one or two examples, the first).
    pub fn typical(&self, digit: u8) -> Option<&[f32]> {
        let examples = self.examples.get(&digit)?;
        if examples.len() <= 2 {
            return examples.first().map(Vec::as_slice);
        }
        let extractor = FeatureExtractor::new();
        let features: Vec<_> = examples
            .iter()
            .map(|e| {
                let mut f = extractor.extract(e);
                let active = vec![true; f.frames.len()];
                normalise(&mut f.frames, &active);
                f.frames
            })
            .collect();
        let totals: Vec<f32> = (0..features.len())
            .map(|i| {
                (0..features.len())
                    .filter(|&j| j != i)
                    .map(|j| dtw(&features[i], &features[j]))
                    .sum()
            })
            .collect();
        (0..examples.len())
            .min_by(|&a, &b| totals[a].total_cmp(&totals[b]))
            .map(|i| examples[i].as_slice())
    }

    /// Writes `<dir>/<language>/<digit>.wav` for every digit, the typical example of each;
    /// returns the files written.
    pub fn write_pack(&self, dir: &Path, language: &str) -> Result<Vec<PathBuf>, EnrolError> {
        let missing = self.short_of(1);
        if !missing.is_empty() {
            let list: Vec<String> = missing.iter().map(u8::to_string).collect();
            return Err(EnrolError::Missing(list.join(", ")));
        }
        let folder = dir.join(language);
        std::fs::create_dir_all(&folder)
            .map_err(|e| EnrolError::Write(format!("{}: {e}", folder.display())))?;
        let mut written = Vec::new();
        for digit in 0..10 {
            let samples = self.typical(digit).unwrap_or_default().to_vec();
            let path = folder.join(format!("{digit}.wav"));
            write_wav(
                &path,
                &Clip {
                    samples,
                    sample_rate: SAMPLE_RATE,
                },
            )
            .map_err(|e| EnrolError::Write(e.to_string()))?;
            written.push(path);
        }
        Ok(written)
    }
}

/// Dynamic time warping distance between two feature sequences, per step of the path.
fn dtw(a: &[super::features::Frame], b: &[super::features::Frame]) -> f32 {
    if a.is_empty() || b.is_empty() {
        return f32::INFINITY;
    }
    let mut previous = vec![(f32::INFINITY, 0usize); b.len() + 1];
    previous[0] = (0.0, 0);
    for row in a {
        let mut current = vec![(f32::INFINITY, 0usize); b.len() + 1];
        for (j, column) in b.iter().enumerate() {
            let step = [previous[j], previous[j + 1], current[j]]
                .into_iter()
                .min_by(|x, y| x.0.total_cmp(&y.0))
                .unwrap_or((f32::INFINITY, 0));
            current[j + 1] = (step.0 + distance(row, column), step.1 + 1);
        }
        previous = current;
    }
    let (cost, steps) = previous[b.len()];
    cost / steps.max(1) as f32
}
