//! Listener: recognises the spoken digits (and their language) in an utterance.
//!
//! Inputs: the samples of one utterance (from the [`Segmenter`](super::segmenter::Segmenter), or a
//! WAV file through [`Listener::listen_file`]) and a [`LanguageChoice`]; a [`VoicePack`] supplies
//! one template per digit and language.
//! Outputs: a [`Heard`]: the digits (or `None`), the language, a confidence per word and the word
//! times; [`level_dbfs`] measures the speech level.
//!
//! How it recognises (v1, template matching, noise-compensated): the background of the utterance
//! (the mean spectrum of its quietest frames) is added to the templates' mel spectra at the
//! utterance's speech level before they become features, so that weak sounds buried by the room
//! are buried in the templates too. MFCC features (see [`features`](super::features))
//! normalised over the active frames of the utterance are aligned with the templates of a language
//! by one-pass dynamic time warping over the whole utterance (connected words, with a silence state
//! between them). Warping steps allow each word to be spoken between about half and any multiple of
//! the template's speed. With [`LanguageChoice::Auto`] each language is aligned and the one with
//! the lowest total cost wins. Each word found is then scored alone against the ten templates of
//! the language: its confidence is `1 - best / second best` (mean frame costs), and 0 when that
//! best template is not the word the whole alignment chose, or when the word's speed (its length
//! over its template's) is far from the median speed of the utterance (split or merged words).
//!
//! Invariants:
//! - Never guess: `digits` is `Some` only when there are 1 to [`MAX_WORDS`] words, every
//!   confidence is at least [`MIN_CONFIDENCE`] and the speech stands [`MIN_SNR_DB`] above the
//!   background.
//! - Word times are seconds from the first of the given samples, from the centre of the first
//!   10 ms frame of a word minus 5 ms to the centre of its last frame plus 5 ms.

use std::path::Path;
use std::sync::Arc;

use tokio::time::Instant;

use super::features::{
    Background, FeatureExtractor, Frame, HOP, Normaliser, SAMPLE_RATE, Spectra, WINDOW,
    active_frames, distance, frame_count, normalise, power_db, resample_linear,
};
use super::segmenter::Segmenter;
use super::voice_pack::{ListenError, VoicePack};
use crate::rig::AudioBlock;
use crate::rig::audio_file::read_wav;

/// Words with a lower confidence make the digits unreadable.
pub const MIN_CONFIDENCE: f32 = 0.12;
/// Speech this close to the background (dB, mean mel band energy of the active frames over that
/// of the quietest frames) makes the digits unreadable: the weak consonants that tell digits
/// apart (the /s/ of "seks" against "en") are buried, and the word that is left can match a wrong
/// template with a good margin. The simulated room gave wrong codes at 9–11 dB and none above.
pub const MIN_SNR_DB: f32 = 13.0;
/// More words than this is no code.
pub const MAX_WORDS: usize = 16;
/// A word whose speed differs from the utterance's median by more than this factor gets
/// confidence 0 (it is probably two words merged or one split).
const SPEED_SPREAD: f32 = 1.6;
/// Share of an utterance's frames, the quietest, taken as its background noise (the padding
/// around it and the pauses between words are at least this much).
const BACKGROUND_SHARE: f32 = 0.15;
/// Cost of starting a word, in frame-distance units.
const WORD_PENALTY: f32 = 4.0;

/// Which language to listen for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LanguageChoice {
    /// Only this language of the voice pack.
    Fixed(String),
    /// Whichever language of the pack fits best.
    Auto,
}

/// What the listener heard in an utterance.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Heard {
    /// The digits, or `None` when they could not be recognised with confidence (never a guess).
    pub digits: Option<String>,
    /// The language the words were matched in (`None` when no speech was found).
    pub language: Option<String>,
    /// Confidence of each word in [0, 1), in order.
    pub confidences: Vec<f32>,
    /// Start and end of each word in seconds from the first sample.
    pub words: Vec<(f32, f32)>,
}

impl Heard {
    fn nothing() -> Self {
        Heard {
            digits: None,
            language: None,
            confidences: Vec::new(),
            words: Vec::new(),
        }
    }
}

/// The templates of one language, kept as spectra so that each utterance's background can be
/// added to them before they become features.
#[derive(Debug)]
struct Language {
    name: String,
    /// One clean template per digit 0–9.
    spectra: Vec<Spectra>,
    /// Mean band energy of the active frames of all ten templates.
    level: f32,
}

/// A word found by the alignment: digit and first and last frame (inclusive).
#[derive(Debug, Clone, Copy, PartialEq)]
struct Word {
    digit: usize,
    first: usize,
    last: usize,
}

/// Recognises spoken digits with the templates of a voice pack.
#[derive(Debug)]
pub struct Listener {
    extractor: FeatureExtractor,
    languages: Vec<Language>,
}

impl Listener {
    /// A listener for the languages of `pack`.
    pub fn new(pack: VoicePack) -> Self {
        let extractor = FeatureExtractor::new();
        let languages = pack
            .languages()
            .into_iter()
            .map(|name| {
                let spectra: Vec<Spectra> = (0..10)
                    .map(|digit| extractor.spectra(pack.clip(&name, digit).unwrap_or(&[])))
                    .collect();
                // The level of the ten words together, as an utterance of several digits has.
                let (sum, n) = spectra.iter().fold((0.0_f64, 0_usize), |(sum, n), s| {
                    let active = s.active();
                    let frames = active.iter().filter(|a| **a).count();
                    (
                        sum + f64::from(s.speech_level(&active)) * frames as f64,
                        n + frames,
                    )
                });
                let level = if n > 0 { (sum / n as f64) as f32 } else { 0.0 };
                Language {
                    name,
                    spectra,
                    level,
                }
            })
            .collect();
        Self {
            extractor,
            languages,
        }
    }

    /// The normalised templates of `language` as they would sound at speech level `speech` (mean
    /// band energy) in `background`.
    ///
    /// Why: the clean templates keep weak sounds (the /s/ of "seks", the /f/ of "five") that a
    /// quiet token in a noisy room buries under the noise; compared with clean templates, those
    /// stretches cost a lot wherever they are put, so the alignment cuts words short and the right
    /// template loses its margin. Adding the same noise to the templates makes them fit again.
    fn templates(
        &self,
        language: &Language,
        background: &Background,
        speech: f32,
    ) -> Vec<Vec<Frame>> {
        let gain = if language.level > 0.0 && speech > 0.0 {
            speech / language.level
        } else {
            1.0
        };
        let features: Vec<_> = language
            .spectra
            .iter()
            .map(|s| self.extractor.cepstra(&s.with_noise(gain, background)))
            .collect();
        // Templates are normalised together, with the statistics of all ten words, as an
        // utterance of several digits is.
        let normaliser = Normaliser::measure(features.iter().flat_map(|f| {
            let active = active_frames(&f.energy_db);
            f.frames
                .iter()
                .zip(active)
                .filter(|(_, a)| *a)
                .map(|(x, _)| x)
        }));
        features
            .into_iter()
            .map(|f| {
                let mut frames = f.frames;
                normaliser.apply(&mut frames);
                frames
            })
            .collect()
    }

    /// The digits spoken in `samples` (one utterance, at any rate).
    pub fn recognise(&self, samples: &[f32], sample_rate: u32, language: &LanguageChoice) -> Heard {
        let samples = resample_linear(samples, sample_rate, SAMPLE_RATE);
        let spectra = self.extractor.spectra(&samples);
        let features = self.extractor.cepstra(&spectra);
        let active = active_frames(&features.energy_db);
        if features.frames.len() < 10 || !active.iter().any(|a| *a) {
            return Heard::nothing();
        }
        let mut frames = features.frames;
        normalise(&mut frames, &active);
        let silence = silence_model(&frames, &features.energy_db);
        let silence_cost: Vec<f32> = frames.iter().map(|f| distance(f, &silence)).collect();
        let candidates: Vec<&Language> = match language {
            LanguageChoice::Auto => self.languages.iter().collect(),
            LanguageChoice::Fixed(name) => {
                self.languages.iter().filter(|l| &l.name == name).collect()
            }
        };
        let background = spectra.background(BACKGROUND_SHARE);
        let speech = (spectra.speech_level(&active) - background.level()).max(0.0);
        let snr_db = power_db(speech) - power_db(background.level());
        let best = candidates
            .into_iter()
            .map(|l| {
                let templates = self.templates(l, &background, speech);
                let alignment = align(&frames, &silence_cost, &templates);
                (l, templates, alignment)
            })
            .min_by(|a, b| a.2.0.total_cmp(&b.2.0));
        let Some((language, templates, (_, words))) = best else {
            return Heard::nothing();
        };
        let confidences = confidences(&frames, &words, &templates);
        let seconds = |frame: usize, end: bool| {
            let centre = frame * HOP + WINDOW / 2;
            let edge = if end {
                centre + HOP / 2
            } else {
                centre - HOP / 2
            };
            edge as f32 / SAMPLE_RATE as f32
        };
        let plausible = (1..=MAX_WORDS).contains(&words.len());
        let audible = snr_db >= MIN_SNR_DB;
        let digits = (plausible && audible && confidences.iter().all(|&c| c >= MIN_CONFIDENCE))
            .then(|| {
                words
                    .iter()
                    .map(|w| char::from(b'0' + w.digit as u8))
                    .collect()
            });
        Heard {
            digits,
            language: Some(language.name.clone()),
            confidences,
            words: words
                .iter()
                .map(|w| (seconds(w.first, false), seconds(w.last, true)))
                .collect(),
        }
    }

    /// Reads a WAV file, finds the speech in it and recognises it; word times count from the
    /// start of the file. Speech in several utterances is recognised as one stretch from the start
    /// of the first to the end of the last.
    pub fn listen_file(
        &self,
        path: &Path,
        language: &LanguageChoice,
    ) -> Result<Heard, ListenError> {
        let clip = read_wav(path)?;
        let samples = resample_linear(&clip.samples, clip.sample_rate, SAMPLE_RATE);
        let t0 = Instant::now();
        let mut segmenter = Segmenter::new(SAMPLE_RATE);
        let block = (SAMPLE_RATE / 50) as usize;
        let mut utterances = Vec::new();
        for (seq, chunk) in samples.chunks(block).enumerate() {
            let audio = AudioBlock {
                seq: seq as u64,
                captured_at: t0 + std::time::Duration::from_millis(20 * seq as u64),
                sample_rate: SAMPLE_RATE,
                samples: Arc::from(chunk),
            };
            utterances.extend(segmenter.push(&audio));
        }
        utterances.extend(segmenter.flush());
        let (Some(first), Some(last)) = (utterances.first(), utterances.last()) else {
            return Ok(Heard::nothing());
        };
        let pad = super::segmenter::PADDING.as_secs_f64();
        let index = |t: Instant, shift: f64| {
            let s = (t - t0).as_secs_f64() + shift;
            ((s.max(0.0) * f64::from(SAMPLE_RATE)).round() as usize).min(samples.len())
        };
        let from = index(first.start, -pad);
        let to = index(last.end, pad).max(from);
        let mut heard = self.recognise(&samples[from..to], SAMPLE_RATE, language);
        let offset = from as f32 / SAMPLE_RATE as f32;
        for word in &mut heard.words {
            word.0 += offset;
            word.1 += offset;
        }
        Ok(heard)
    }
}

/// The speech level of `samples` in dBFS: the RMS over the active 25 ms frames (those within 30 dB
/// of the loudest frame and 6 dB above the background), where a full-scale square wave is 0 dBFS
/// (a full-scale sine -3 dBFS). -120 for silence.
pub fn level_dbfs(samples: &[f32], sample_rate: u32) -> f32 {
    let samples = resample_linear(samples, sample_rate, SAMPLE_RATE);
    let count = frame_count(samples.len());
    let powers: Vec<f32> = (0..count)
        .map(|t| {
            let frame = &samples[t * HOP..(t * HOP + WINDOW).min(samples.len())];
            frame.iter().map(|s| s * s).sum::<f32>() / frame.len().max(1) as f32
        })
        .collect();
    let energy: Vec<f32> = powers.iter().map(|&p| power_db(p)).collect();
    let active = active_frames(&energy);
    let (sum, n) = powers
        .iter()
        .zip(&active)
        .filter(|(_, a)| **a)
        .fold((0.0_f64, 0_usize), |(s, n), (p, _)| {
            (s + f64::from(*p), n + 1)
        });
    if n == 0 {
        return -120.0;
    }
    power_db((sum / n as f64) as f32)
}

/// The mean feature frame of the quietest fifth of the utterance: what silence looks like in it.
fn silence_model(frames: &[Frame], energy_db: &[f32]) -> Frame {
    let mut order: Vec<usize> = (0..frames.len()).collect();
    order.sort_by(|&a, &b| energy_db[a].total_cmp(&energy_db[b]));
    let quiet = &order[..(frames.len() / 5).max(1)];
    let mut mean = [0.0; super::features::DIMS];
    for &t in quiet {
        for (m, v) in mean.iter_mut().zip(&frames[t]) {
            *m += v / quiet.len() as f32;
        }
    }
    mean
}

#[derive(Debug, Clone, Copy)]
struct Cell {
    cost: f32,
    start: usize,
    prev: Option<usize>,
}

const NO_CELL: Cell = Cell {
    cost: f32::INFINITY,
    start: 0,
    prev: None,
};

/// A finished stretch of the best path: a word (or silence when `digit` is `None`) from `start` to
/// `end` (frames, inclusive) after the stretch `prev`.
#[derive(Debug, Clone, Copy)]
struct Trace {
    digit: Option<usize>,
    start: usize,
    end: usize,
    prev: Option<usize>,
}

/// One-pass DTW of `frames` against connected `templates` with optional silence between and
/// around words. Returns the total cost and the words of the best path.
fn align(frames: &[Frame], silence_cost: &[f32], templates: &[Vec<Frame>]) -> (f32, Vec<Word>) {
    let mut traces: Vec<Trace> = Vec::with_capacity(2 * frames.len());
    let mut rows: Vec<Vec<Cell>> = templates.iter().map(|t| vec![NO_CELL; t.len()]).collect();
    let mut next: Vec<Vec<Cell>> = rows.clone();
    // Entry into a word at frame t (paid WORD_PENALTY) and the silence state at frame t.
    let mut entry = Cell {
        cost: WORD_PENALTY,
        start: 0,
        prev: None,
    };
    let mut silence = Cell {
        cost: silence_cost[0],
        start: 0,
        prev: None,
    };
    for (t, frame) in frames.iter().enumerate() {
        for ((template, row), out) in templates.iter().zip(&rows).zip(next.iter_mut()) {
            for (j, model) in template.iter().enumerate() {
                let mut best = if t == 0 { NO_CELL } else { row[j] };
                if j >= 1 && t > 0 && row[j - 1].cost < best.cost {
                    best = row[j - 1];
                }
                if j >= 2 && t > 0 && row[j - 2].cost < best.cost {
                    best = row[j - 2];
                }
                if j == 0 && entry.cost < best.cost {
                    best = Cell {
                        cost: entry.cost,
                        start: t,
                        prev: entry.prev,
                    };
                }
                out[j] = Cell {
                    cost: best.cost + distance(frame, model),
                    ..best
                };
            }
        }
        std::mem::swap(&mut rows, &mut next);
        // Word ends at t: the best last cell of any template.
        let word_end = rows
            .iter()
            .enumerate()
            .filter_map(|(digit, row)| row.last().map(|c| (digit, *c)))
            .min_by(|a, b| a.1.cost.total_cmp(&b.1.cost));
        let word_trace = word_end.filter(|(_, c)| c.cost.is_finite()).map(|(d, c)| {
            traces.push(Trace {
                digit: Some(d),
                start: c.start,
                end: t,
                prev: c.prev,
            });
            (c.cost, traces.len() - 1)
        });
        traces.push(Trace {
            digit: None,
            start: silence.start,
            end: t,
            prev: silence.prev,
        });
        let silence_trace = (silence.cost, traces.len() - 1);
        if t + 1 == frames.len() {
            let (cost, last) = match word_trace {
                Some(w) if w.0 < silence_trace.0 => w,
                _ => silence_trace,
            };
            return (cost, backtrack(&traces, last));
        }
        let from = match word_trace {
            Some(w) if w.0 < silence_trace.0 => w,
            _ => silence_trace,
        };
        entry = Cell {
            cost: from.0 + WORD_PENALTY,
            start: t + 1,
            prev: Some(from.1),
        };
        let stay = silence.cost;
        silence = match word_trace {
            Some((cost, index)) if cost < stay => Cell {
                cost,
                start: t + 1,
                prev: Some(index),
            },
            _ => silence,
        };
        silence.cost += silence_cost[t + 1];
    }
    (f32::INFINITY, Vec::new())
}

fn backtrack(traces: &[Trace], last: usize) -> Vec<Word> {
    let mut words = Vec::new();
    let mut at = Some(last);
    while let Some(i) = at {
        let trace = traces[i];
        if let Some(digit) = trace.digit {
            words.push(Word {
                digit,
                first: trace.start,
                last: trace.end,
            });
        }
        at = trace.prev;
    }
    words.reverse();
    words
}

/// Mean frame cost of aligning `frames` (one word) with `template`, end to end, with the same
/// steps as [`align`]; infinite when the word is too short for the template.
fn word_cost(frames: &[Frame], template: &[Frame]) -> f32 {
    let mut row = vec![f32::INFINITY; template.len()];
    let mut next = row.clone();
    for (t, frame) in frames.iter().enumerate() {
        for (j, model) in template.iter().enumerate() {
            let best = if t == 0 {
                if j == 0 { 0.0 } else { f32::INFINITY }
            } else {
                let mut b = row[j];
                if j >= 1 {
                    b = b.min(row[j - 1]);
                }
                if j >= 2 {
                    b = b.min(row[j - 2]);
                }
                b
            };
            next[j] = best + distance(frame, model);
        }
        std::mem::swap(&mut row, &mut next);
    }
    row.last().copied().unwrap_or(f32::INFINITY) / frames.len().max(1) as f32
}

fn confidences(frames: &[Frame], words: &[Word], templates: &[Vec<Frame>]) -> Vec<f32> {
    let speeds: Vec<f32> = words
        .iter()
        .map(|w| (w.last + 1 - w.first) as f32 / templates[w.digit].len().max(1) as f32)
        .collect();
    let mut sorted = speeds.clone();
    sorted.sort_by(f32::total_cmp);
    let median = sorted.get(sorted.len() / 2).copied().unwrap_or(1.0);
    words
        .iter()
        .zip(&speeds)
        .map(|(w, &speed)| {
            let segment = &frames[w.first..=w.last];
            let mut costs: Vec<(usize, f32)> = templates
                .iter()
                .enumerate()
                .map(|(d, t)| (d, word_cost(segment, t)))
                .collect();
            costs.sort_by(|a, b| a.1.total_cmp(&b.1));
            let ratio = speed / median;
            if costs[0].0 != w.digit
                || !costs[0].1.is_finite()
                || !(1.0 / SPEED_SPREAD..=SPEED_SPREAD).contains(&ratio)
            {
                return 0.0;
            }
            if costs[1].1.is_finite() {
                1.0 - costs[0].1 / costs[1].1
            } else {
                1.0 - costs[0].1 / (costs[0].1 + 1.0)
            }
        })
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn listener() -> (Listener, VoicePack) {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/voices/sim");
        let pack = VoicePack::load(&dir).unwrap();
        (Listener::new(pack.clone()), pack)
    }

    fn speak(pack: &VoicePack, language: &str, digits: &str) -> Vec<f32> {
        let mut x = vec![0.0; 1600];
        for c in digits.bytes() {
            x.extend_from_slice(pack.clip(language, usize::from(c - b'0')).unwrap());
            x.extend(vec![0.0; 1600]);
        }
        x
    }

    #[test]
    fn clean_codes_are_heard_in_both_languages() {
        let (listener, pack) = listener();
        for (language, code) in [("en", "0123456789"), ("da", "9876543210"), ("da", "441")] {
            let heard =
                listener.recognise(&speak(&pack, language, code), 16_000, &LanguageChoice::Auto);
            assert_eq!(heard.digits.as_deref(), Some(code), "{heard:?}");
            assert_eq!(heard.language.as_deref(), Some(language));
            assert_eq!(heard.words.len(), code.len());
        }
    }

    #[test]
    fn a_fixed_language_is_used_and_times_are_in_seconds() {
        let (listener, pack) = listener();
        let x = speak(&pack, "en", "7");
        let heard = listener.recognise(&x, 16_000, &LanguageChoice::Fixed("en".into()));
        assert_eq!(heard.digits.as_deref(), Some("7"));
        let (start, end) = heard.words[0];
        let truth_end = (1600 + pack.clip("en", 7).unwrap().len()) as f32 / 16_000.0;
        assert!(
            (start - 0.1).abs() < 0.03 && (end - truth_end).abs() < 0.03,
            "{start} {end}"
        );
    }

    #[test]
    fn silence_and_noise_are_not_digits() {
        let (listener, _) = listener();
        let heard = listener.recognise(&vec![0.0; 16_000], 16_000, &LanguageChoice::Auto);
        assert_eq!(heard.digits, None);
        assert!(
            listener
                .recognise(&[], 16_000, &LanguageChoice::Auto)
                .digits
                .is_none()
        );
    }

    #[test]
    fn the_level_is_the_rms_of_the_speech() {
        let mut x = vec![0.0; 8000];
        x.extend((0..16_000).map(|n| 0.5 * (n as f32 * 0.3).sin()));
        x.extend(vec![0.0; 8000]);
        let level = level_dbfs(&x, 16_000);
        assert!((level + 9.03).abs() < 0.3, "{level}");
        assert_eq!(level_dbfs(&[], 16_000), -120.0);
    }
}
