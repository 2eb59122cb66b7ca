//! Listener: recognises the spoken digits (and their language) in an utterance.
//!
//! Inputs: the samples of one utterance (from the [`Segmenter`](super::segmenter::Segmenter), or a
//! WAV or FLAC recording through [`Listener::listen_file`]), a [`LanguageChoice`] and, when known,
//! how many digits are spoken; a [`VoicePack`] supplies one template per digit and language.
//! Outputs: a [`Heard`]: the digits (or `None`), the language, a confidence per word and the word
//! times ([`speech_level`](super::speech_level) measures how loud it is).
//!
//! How it recognises (v1, template matching, noise- and room-compensated): the background of the
//! utterance (the mean spectrum of its quietest frames) is added to the templates' mel spectra at
//! the utterance's speech level before they become features, so that weak sounds buried by the
//! room are buried in the templates too; each language's templates are tried dry and with a small
//! room's late reflections, and the better fit is kept. MFCC features (see
//! [`features`](super::features)) normalised over the active frames of the utterance are aligned
//! with the templates of a language by one-pass dynamic time warping over the whole utterance
//! (connected words, with a silence state between them; given the number of digits, a level per
//! word so that exactly that many are found, and silence between two of them costs extra).
//! Warping steps allow each word to be spoken between a third and any multiple of the template's
//! length. With [`LanguageChoice::Auto`] each language is aligned and the one with the lowest
//! total cost wins. Each word found is then scored alone against the ten templates of
//! the language, and its confidence is the larger of two margins between the best template and
//! the runner-up: `1 - best / second best` over the mean frame costs, and the same ratio over the
//! frames weighted by how far apart the two templates' aligned frames are (a discriminative
//! re-score: pairs such as "five"/"nine" share a long vowel that hides their consonants in the
//! mean). It is 0 when that best template is not the word the whole alignment chose, when the
//! weighted frames favour the runner-up, or when the word's speed (its length over its
//! template's) is far from the median speed of the utterance (split or merged words; the last
//! word may be slower, as the end of a sentence is), or when another digit in its place, with
//! its own boundaries, costs the path little more (the substitution margin: the word and its
//! neighbours are aligned again without that digit).
//!
//! Invariants:
//! - Never guess: `digits` is `Some` only when there are 1 to [`MAX_WORDS`] words, every
//!   confidence is at least [`MIN_CONFIDENCE`] and the speech stands [`MIN_SNR_DB`] above the
//!   background.
//! - Word times are seconds from the first of the given samples, from the centre of the first
//!   10 ms frame of a word minus 5 ms to the centre of its last frame plus 5 ms.

use std::path::Path;
use std::rc::Rc;
use std::sync::Arc;

use tokio::time::Instant;

use super::capture::to_listener_rate;
use super::features::{
    Background, FeatureExtractor, Frame, HOP, Normaliser, Room, SAMPLE_RATE, Spectra, WINDOW,
    active_frames, distance, normalise, power_db,
};
use super::segmenter::Segmenter;
use super::voice_pack::{ListenError, VoicePack};
use crate::rig::AudioBlock;
use crate::rig::audio_file::{Clip, read_audio};

/// Words with a lower confidence make the digits unreadable. The template margins alone let
/// wrong words through at up to 0.27 on a held-out draw of the test set (the templates' own
/// boundaries flatter the winner); with [`MIN_SUBSTITUTION_MARGIN`] guarding that, this floor
/// only refuses words whose template barely wins, and the discriminative margin keeps every right
/// English "five" (against "nine") above it.
pub const MIN_CONFIDENCE: f32 = 0.08;
/// A word whose digit, replaced by the best other digit and aligned again with its neighbours
/// (boundaries free), makes the path cost less than this much more per frame of the word gets
/// confidence 0 ([`substitution_margin`]). Chosen with [`MIN_CONFIDENCE`] and [`MIN_SNR_DB`] on
/// a held-out draw (seed 7331 of `fixtures/voices/make-test-set.sh`, 500 codes): wrong codes 14
/// to 6 for the same share of codes heard; right words have a median margin of 1.2. Higher
/// costs many right codes for few wrong ones (0.3: 3 wrong, 7 % fewer codes heard).
const MIN_SUBSTITUTION_MARGIN: f32 = 0.2;
/// Speech this close to the background (dB, mean mel band energy of the active frames over that
/// of the quietest frames) makes the digits unreadable: the weak consonants that tell digits
/// apart (the /s/ of "seks" against "en") are buried. The simulated room of `tests/listener.rs`
/// gave wrong codes at 10.2 and 11.1 dB with the template margins alone; the substitution margin
/// refuses those words, so the floor is the test set's lowest SNR.
pub const MIN_SNR_DB: f32 = 10.0;
/// More words than this is no code.
pub const MAX_WORDS: usize = 16;
/// A word whose speed differs from the utterance's median by more than this factor gets
/// confidence 0 (it is probably two words merged or one split). Twice, because the words of
/// continuous speech vary in speed by more than the 1.6 the isolated words of Core 2/2 allowed
/// (an unstressed word is short).
const SPEED_SPREAD: f32 = 2.0;
/// The last word of an utterance may be this much slower again (speakers lengthen the end of a
/// sentence).
const FINAL_LENGTHENING: f32 = 1.5;
/// Share of an utterance's frames, the quietest, taken as its background noise (the padding
/// around it and the pauses between words are at least this much).
const BACKGROUND_SHARE: f32 = 0.15;
/// Cost of starting a word, in frame-distance units.
const WORD_PENALTY: f32 = 4.0;
/// Extra cost of each frame of silence between two words of a code of known length, in
/// frame-distance units. Why: a token's words run together; where noise buries a weak
/// consonant (the /s/ of "seks"), free silence lets the alignment hand it to the background and
/// fit a shorter word ("en") to the rest.
const INNER_SILENCE_COST: f32 = 1.0;
/// Only the first this many frames of a pause between words pay [`INNER_SILENCE_COST`]: a
/// consonant handed to the background is short, while a token that reads digit by digit may
/// pause for a quarter of a second between them.
const INNER_SILENCE_FRAMES: usize = 8;
/// Most template frames one frame of speech may advance: words may be spoken up to this many
/// times faster than their template. Three, because a fast token runs words together at more
/// than twice the pace of the clips it was enrolled from (espeak-ng at 1.4x speaks a word of a
/// sentence in 0.2 s that takes 0.46 s alone).
const MAX_STEP: usize = 3;
/// The rooms each language's templates are tried in; the utterance's best fit wins. Why: echo
/// longer than a frame smears each sound into the next, which mean normalisation cannot undo;
/// templates smeared the same way fit it again, and the dry ones still fit a dry recording.
const ROOMS: [Room; 2] = [Room::DRY, Room::SMALL];

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
    /// The ten templates as heard in each of [`ROOMS`], in that order.
    rooms: Vec<RoomTemplates>,
}

/// The templates of one language as heard in one room.
#[derive(Debug)]
struct RoomTemplates {
    /// One template per digit 0–9.
    spectra: Vec<Spectra>,
    /// Mean band energy of the active frames of all ten clean templates: the direct sound's
    /// level, which the utterance's speech level is matched to. (The level with the room's
    /// reflections heard one code fewer on the test set.)
    level: f32,
}

impl RoomTemplates {
    /// The clean `spectra` as heard in `room`.
    fn new(spectra: &[Spectra], room: Room) -> Self {
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
        let spectra = spectra.iter().map(|s| s.in_room(room)).collect();
        Self { spectra, level }
    }
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
                let clean: Vec<Spectra> = (0..10)
                    .map(|digit| extractor.spectra(pack.clip(&name, digit).unwrap_or(&[])))
                    .collect();
                let rooms = ROOMS
                    .iter()
                    .map(|&room| RoomTemplates::new(&clean, room))
                    .collect();
                Language { name, rooms }
            })
            .collect();
        Self {
            extractor,
            languages,
        }
    }

    /// The normalised templates `heard` in a room as they would sound at speech level `speech`
    /// (mean band energy) in `background`.
    ///
    /// Why: the clean templates keep weak sounds (the /s/ of "seks", the /f/ of "five") that a
    /// quiet token in a noisy room buries under the noise; compared with clean templates, those
    /// stretches cost a lot wherever they are put, so the alignment cuts words short and the right
    /// template loses its margin. Adding the same noise to the templates makes them fit again.
    fn templates(
        &self,
        heard: &RoomTemplates,
        background: &Background,
        speech: f32,
    ) -> Vec<Vec<Frame>> {
        let gain = if heard.level > 0.0 && speech > 0.0 {
            speech / heard.level
        } else {
            1.0
        };
        let features: Vec<_> = heard
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

    /// The digits spoken in `samples` (one utterance, at any rate), one of `lengths` many (what
    /// the token may say: its code's digits, its serial number's) or, when `lengths` is empty,
    /// however many. Each length is aligned and the lowest cost wins, as a language does.
    pub fn recognise(
        &self,
        samples: &[f32],
        sample_rate: u32,
        language: &LanguageChoice,
        lengths: &[usize],
    ) -> Heard {
        if lengths.is_empty() {
            return self
                .recognise_counts(samples, sample_rate, language, &[None])
                .0;
        }
        let counts: Vec<Option<usize>> = lengths.iter().copied().map(Some).collect();
        let (heard, aligned) = self.recognise_counts(samples, sample_rate, language, &counts);
        if heard.digits.is_some() {
            return heard;
        }
        // Refused at the lengths the token may say. When any count is confident of the same
        // digits, the refusal was the speed check of a word stretched over a pause (a token
        // reading digit by digit) and the two alignments agree. A confident code of another
        // length is not taken: in noise it is mostly a digit lost (four such wrong codes in the
        // test set against none kept), so a token saying too few digits is heard as
        // unrecognised speech, with its clip.
        let (free, _) = self.recognise_counts(samples, sample_rate, language, &[None]);
        match &free.digits {
            Some(digits) if *digits == aligned => free,
            _ => heard,
        }
    }

    /// Aligns each language, room and word count (`None`: any number) and keeps the best; also
    /// gives the digits that alignment found, confident or not.
    fn recognise_counts(
        &self,
        samples: &[f32],
        sample_rate: u32,
        language: &LanguageChoice,
        counts: &[Option<usize>],
    ) -> (Heard, String) {
        let samples = match to_listener_rate(samples, sample_rate) {
            Ok(samples) => samples,
            Err(e) => {
                tracing::error!("listener: {e}");
                return (Heard::nothing(), String::new());
            }
        };
        let spectra = self.extractor.spectra(&samples);
        let features = self.extractor.cepstra(&spectra);
        let active = active_frames(&features.energy_db);
        if features.frames.len() < 10 || !active.iter().any(|a| *a) {
            return (Heard::nothing(), String::new());
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
        let (frames_seen, silence_seen) = (&frames, &silence_cost);
        let best = candidates
            .into_iter()
            .flat_map(|l| l.rooms.iter().map(move |heard| (l, heard)))
            .flat_map(|(l, heard)| {
                let templates = self.templates(heard, &background, speech);
                let distances = Rc::new(Distances::new(frames_seen, &templates));
                let templates = Rc::new(templates);
                counts.iter().map(move |&count| {
                    let span = 0..frames_seen.len();
                    let alignment = align_span(&distances, span, silence_seen, count, true, None);
                    (l, (templates.clone(), distances.clone()), alignment)
                })
            })
            .min_by(|a, b| a.2.0.total_cmp(&b.2.0));
        // No language fits (the words asked for cannot fit in the utterance): nothing heard.
        let Some((language, (templates, distances), (_, found))) =
            best.filter(|b| b.2.0.is_finite())
        else {
            return (Heard::nothing(), String::new());
        };
        let words = found;
        let confidences = confidences(&frames, &silence_cost, &distances, &words, &templates);
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
        let aligned: String = words
            .iter()
            .map(|w| char::from(b'0' + w.digit as u8))
            .collect();
        let digits = (plausible && audible && confidences.iter().all(|&c| c >= MIN_CONFIDENCE))
            .then(|| aligned.clone());
        let heard = Heard {
            digits,
            language: Some(language.name.clone()),
            confidences,
            words: words
                .iter()
                .map(|w| (seconds(w.first, false), seconds(w.last, true)))
                .collect(),
        };
        (heard, aligned)
    }

    /// Reads a recording (WAV or FLAC) and hears it as [`Listener::listen_clip`] does.
    pub fn listen_file(
        &self,
        path: &Path,
        language: &LanguageChoice,
        words: Option<usize>,
    ) -> Result<Heard, ListenError> {
        self.listen_clip(&read_audio(path)?, language, words)
    }

    /// Finds the speech in a recording and recognises it; word times count from the start of the
    /// recording. Speech in several utterances is recognised as one stretch from the start of the
    /// first to the end of the last; with `words`, exactly that many digits are looked for.
    pub fn listen_clip(
        &self,
        clip: &Clip,
        language: &LanguageChoice,
        words: Option<usize>,
    ) -> Result<Heard, ListenError> {
        let samples =
            to_listener_rate(&clip.samples, clip.sample_rate).map_err(|e| ListenError::Audio {
                message: e.to_string(),
            })?;
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
        let lengths: Vec<usize> = words.into_iter().collect();
        let mut heard = self.recognise(&samples[from..to], SAMPLE_RATE, language, &lengths);
        let offset = from as f32 / SAMPLE_RATE as f32;
        for word in &mut heard.words {
            word.0 += offset;
            word.1 += offset;
        }
        Ok(heard)
    }
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

/// [`align_span`] over all of `frames` (the unit tests' way in).
#[cfg(test)]
fn align(
    frames: &[Frame],
    silence_cost: &[f32],
    templates: &[Vec<Frame>],
    words: Option<usize>,
) -> (f32, Vec<Word>) {
    let distances = Distances::new(frames, templates);
    align_span(&distances, 0..frames.len(), silence_cost, words, true, None)
}

/// Each frame's distance to every frame of every template: what the alignments of an utterance
/// spend most of their time on, computed once for all of them.
#[derive(Debug)]
struct Distances {
    /// Frame after frame, the distances to the templates' frames, one template after another.
    values: Vec<f32>,
    /// Where each template's frames start in a frame's row, and the row's length last.
    offsets: Vec<usize>,
}

impl Distances {
    fn new(frames: &[Frame], templates: &[Vec<Frame>]) -> Self {
        let mut offsets = vec![0];
        for t in templates {
            offsets.push(offsets[offsets.len() - 1] + t.len());
        }
        let values = frames
            .iter()
            .flat_map(|frame| {
                templates
                    .iter()
                    .flat_map(move |t| t.iter().map(move |model| distance(frame, model)))
            })
            .collect();
        Self { values, offsets }
    }

    /// The distances of frame `t` to the frames of template `digit`.
    fn to(&self, t: usize, digit: usize) -> &[f32] {
        let row = t * self.offsets[self.offsets.len() - 1];
        &self.values[row + self.offsets[digit]..row + self.offsets[digit + 1]]
    }

    /// The distances of frame `t` to the frames of each template, in digit order.
    fn of(&self, t: usize) -> impl Iterator<Item = &[f32]> {
        (0..self.offsets.len() - 1).map(move |digit| self.to(t, digit))
    }

    /// How many frames each template has, in digit order.
    fn template_lengths(&self) -> impl Iterator<Item = usize> + '_ {
        self.offsets.windows(2).map(|w| w[1] - w[0])
    }
}

/// One-pass DTW of the frames `span` (word frames count from its start) against connected
/// templates (their `distances` to every frame computed once), with optional silence between
/// and around words. With `words`, the path holds exactly that many words (a level per word: a word
/// ends on one level and the next starts on the one above); without, any number. Returns the
/// total cost (infinite when `words` cannot fit) and the words of the best path.
///
/// Why the count: where two words run together the free path may take them for one template
/// (the cheaper path pays one word penalty less); a code's length is known, and the best path
/// with that many words puts the boundary where the two words meet.
///
/// `pause_cost` makes the first frames of a pause between counted words cost
/// [`INNER_SILENCE_COST`]; with `exclude`, word `(level, digit)` of a counted path may not be that
/// digit ([`substitution_margin`]).
fn align_span(
    distances: &Distances,
    span: std::ops::Range<usize>,
    silence_cost: &[f32],
    words: Option<usize>,
    pause_cost: bool,
    exclude: Option<(usize, usize)>,
) -> (f32, Vec<Word>) {
    let silence_cost = &silence_cost[span.clone()];
    // Levels of words: a free path has one that loops onto itself.
    let levels = words.unwrap_or(1);
    if levels == 0 || span.is_empty() {
        return (f32::INFINITY, Vec::new());
    }
    let frame_count = span.len();
    // A silence state after each number of words (a free path has only the first).
    let silences = if words.is_some() { levels + 1 } else { 1 };
    // Each frame ends at most one word a level and one stretch of each silence.
    let mut traces: Vec<Trace> = Vec::with_capacity(frame_count * (levels + silences));
    let empty_rows: Vec<Vec<Cell>> = distances
        .template_lengths()
        .map(|n| vec![NO_CELL; n])
        .collect();
    let mut rows: Vec<Vec<Vec<Cell>>> = vec![empty_rows.clone(); levels];
    let mut next = rows.clone();
    // Entry into a word of each level at frame t (paid WORD_PENALTY).
    let mut entry = vec![NO_CELL; levels];
    entry[0].cost = WORD_PENALTY;
    let mut silence = vec![NO_CELL; silences];
    silence[0] = Cell {
        cost: silence_cost[0],
        start: 0,
        prev: None,
    };
    for t in 0..frame_count {
        let mut word_ends: Vec<Option<(f32, usize)>> = Vec::with_capacity(levels);
        for level in 0..levels {
            for ((row, out), costs) in rows[level]
                .iter()
                .zip(next[level].iter_mut())
                .zip(distances.of(span.start + t))
            {
                for (j, &cost) in costs.iter().enumerate() {
                    let mut best = if t == 0 { NO_CELL } else { row[j] };
                    if t > 0 {
                        for step in 1..=MAX_STEP.min(j) {
                            if row[j - step].cost < best.cost {
                                best = row[j - step];
                            }
                        }
                    }
                    if j == 0 && entry[level].cost < best.cost {
                        best = Cell {
                            cost: entry[level].cost,
                            start: t,
                            prev: entry[level].prev,
                        };
                    }
                    out[j] = if best.cost.is_finite() {
                        Cell {
                            cost: best.cost + cost,
                            ..best
                        }
                    } else {
                        NO_CELL
                    };
                }
            }
            // Word ends at t on this level: the best last cell of any template.
            let word_end = next[level]
                .iter()
                .enumerate()
                .filter_map(|(digit, row)| row.last().map(|c| (digit, *c)))
                .filter(|(digit, _)| exclude != Some((level, *digit)))
                .filter(|(_, c)| c.cost.is_finite())
                .min_by(|a, b| a.1.cost.total_cmp(&b.1.cost));
            word_ends.push(word_end.map(|(d, c)| {
                traces.push(Trace {
                    digit: Some(d),
                    start: c.start,
                    end: t,
                    prev: c.prev,
                });
                (c.cost, traces.len() - 1)
            }));
        }
        std::mem::swap(&mut rows, &mut next);
        let silence_traces: Vec<(f32, usize)> = silence
            .iter()
            .map(|s| {
                traces.push(Trace {
                    digit: None,
                    start: s.start,
                    end: t,
                    prev: s.prev,
                });
                (s.cost, traces.len() - 1)
            })
            .collect();
        // The word that ends at frame t as the `done`-th (a free path: any word).
        let word_after = |done: usize| -> Option<(f32, usize)> {
            if words.is_some() {
                done.checked_sub(1).and_then(|l| word_ends[l])
            } else {
                word_ends[0]
            }
        };
        // What may follow frame t after `done` words: that word or the silence after it.
        let best_after = |done: usize| -> Option<(f32, usize)> {
            let quiet = silence_traces[done];
            match word_after(done) {
                Some(w) if w.0 < quiet.0 => Some(w),
                _ => quiet.0.is_finite().then_some(quiet),
            }
        };
        if t + 1 == frame_count {
            let done = silences - 1;
            return match best_after(done) {
                Some((cost, last)) => (cost, backtrack(&traces, last)),
                None => (f32::INFINITY, Vec::new()),
            };
        }
        for (level, cell) in entry.iter_mut().enumerate() {
            let done = if words.is_some() { level } else { 0 };
            *cell = match best_after(done) {
                Some((cost, index)) => Cell {
                    cost: cost + WORD_PENALTY,
                    start: t + 1,
                    prev: Some(index),
                },
                None => NO_CELL,
            };
        }
        // Silence after `done` words continues, or begins where such a word ended.
        for (done, state) in silence.iter_mut().enumerate() {
            if let Some((cost, index)) = word_after(done)
                && cost < state.cost
            {
                *state = Cell {
                    cost,
                    start: t + 1,
                    prev: Some(index),
                };
            }
            let inner = pause_cost && words.is_some() && done > 0 && done + 1 < silences;
            let short = t + 1 - state.start < INNER_SILENCE_FRAMES;
            state.cost += silence_cost[t + 1]
                + if inner && short {
                    INNER_SILENCE_COST
                } else {
                    0.0
                };
        }
    }
    (f32::INFINITY, Vec::new())
}

/// How much more the best path costs, per frame of word `i`, when that word may be any digit
/// but the one chosen: the word and its neighbours are aligned again (a word each, boundaries
/// free) with and without that digit at its place. Infinite when no other digit fits, 0 when the
/// words do not fit again.
///
/// Why: the margins of [`confidences`] score the word on the boundaries its own template chose;
/// a runner-up given its own boundaries (a short "to" where a long "nul" was, taking the rest
/// from a neighbour) can come much closer, and that is the doubt that matters.
fn substitution_margin(
    distances: &Distances,
    silence_cost: &[f32],
    words: &[Word],
    i: usize,
) -> f32 {
    let first = i.saturating_sub(1);
    let last = (i + 1).min(words.len() - 1);
    let span = words[first].first..words[last].last + 1;
    let count = Some(last + 1 - first);
    let (best, _) = align_span(distances, span.clone(), silence_cost, count, false, None);
    if !best.is_finite() {
        // The words cannot be aligned again (they were, so this is not expected): no margin.
        return 0.0;
    }
    let exclude = Some((i - first, words[i].digit));
    let (other, _) = align_span(distances, span, silence_cost, count, false, exclude);
    (other - best) / (words[i].last + 1 - words[i].first) as f32
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

/// The end-to-end alignment of the frames `span` (one word) with template `digit`, with the same
/// steps as [`align_span`] and its `distances`: the mean frame cost and, for each frame, the
/// template frame it is matched with. `None` when the word is too short for the template.
fn word_path(
    distances: &Distances,
    span: std::ops::Range<usize>,
    digit: usize,
) -> Option<(f32, Vec<usize>)> {
    if span.is_empty() {
        return None;
    }
    let (n, m) = (span.len(), distances.to(span.start, digit).len());
    if m == 0 {
        return None;
    }
    // Step taken into each cell (0 to MAX_STEP template frames), for the backtrack.
    let mut steps = vec![0_u8; n * m];
    let mut row = vec![f32::INFINITY; m];
    let mut next = row.clone();
    for (t, frame) in span.enumerate() {
        for (j, cost) in distances.to(frame, digit).iter().enumerate() {
            let (best, step) = if t == 0 {
                (if j == 0 { 0.0 } else { f32::INFINITY }, 0)
            } else {
                let mut b = (row[j], 0);
                for step in 1..=MAX_STEP.min(j) {
                    if row[j - step] < b.0 {
                        b = (row[j - step], step as u8);
                    }
                }
                b
            };
            steps[t * m + j] = step;
            next[j] = best + cost;
        }
        std::mem::swap(&mut row, &mut next);
    }
    let cost = row[m - 1];
    if !cost.is_finite() {
        return None;
    }
    let mut path = vec![0; n];
    let mut j = m - 1;
    for t in (0..n).rev() {
        path[t] = j;
        j = j.saturating_sub(usize::from(steps[t * m + j]));
    }
    Some((cost / n as f32, path))
}

/// Confidence that `segment` is the template `best` rather than `second`, judged on the frames
/// where the two differ: each frame's costs against the template frames its two alignments match
/// it with are weighted by how far apart those template frames are.
///
/// Why: "five" and "nine" share a long /aɪ/ that costs the same against both templates and
/// dilutes the mean costs towards each other; only the consonants tell them apart, and weighting
/// by the templates' own difference (not the utterance's, so noise does not pick the frames)
/// scores those alone.
fn discriminative_confidence(
    segment: &[Frame],
    best: (&[Frame], &[usize]),
    second: (&[Frame], &[usize]),
) -> f32 {
    let (mut own, mut other) = (0.0_f32, 0.0_f32);
    for (t, x) in segment.iter().enumerate() {
        let a = &best.0[best.1[t]];
        let b = &second.0[second.1[t]];
        let weight = distance(a, b);
        own += weight * distance(x, a);
        other += weight * distance(x, b);
    }
    if other > 0.0 { 1.0 - own / other } else { 0.0 }
}

fn confidences(
    frames: &[Frame],
    silence_cost: &[f32],
    distances: &Distances,
    words: &[Word],
    templates: &[Vec<Frame>],
) -> Vec<f32> {
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
        .enumerate()
        .map(|(i, (w, &speed))| {
            let segment = &frames[w.first..=w.last];
            let mut costs: Vec<(usize, f32, Vec<usize>)> = (0..templates.len())
                .filter_map(|d| {
                    word_path(distances, w.first..w.last + 1, d).map(|(c, p)| (d, c, p))
                })
                .collect();
            costs.sort_by(|a, b| a.1.total_cmp(&b.1));
            let ratio = speed / median;
            let Some(first) = costs.first() else {
                return 0.0;
            };
            let slowest = if i + 1 == words.len() {
                SPEED_SPREAD * FINAL_LENGTHENING
            } else {
                SPEED_SPREAD
            };
            if first.0 != w.digit || !(1.0 / SPEED_SPREAD..=slowest).contains(&ratio) {
                return 0.0;
            }
            let Some(second) = costs.get(1) else {
                return 1.0 - first.1 / (first.1 + 1.0);
            };
            let plain = 1.0 - first.1 / second.1;
            let discriminative = discriminative_confidence(
                segment,
                (&templates[first.0], &first.2),
                (&templates[second.0], &second.2),
            );
            // Either margin is evidence for the winner, but frames that tell the two apart
            // and favour the runner-up are evidence against it, whatever the mean says.
            let confidence = if discriminative > 0.0 {
                plain.max(discriminative)
            } else {
                0.0
            };
            // The costlier test last, and only where it can still refuse the word.
            if confidence >= MIN_CONFIDENCE
                && substitution_margin(distances, silence_cost, words, i) < MIN_SUBSTITUTION_MARGIN
            {
                return 0.0;
            }
            confidence
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
            let heard = listener.recognise(
                &speak(&pack, language, code),
                16_000,
                &LanguageChoice::Auto,
                &[],
            );
            assert_eq!(heard.digits.as_deref(), Some(code), "{heard:?}");
            assert_eq!(heard.language.as_deref(), Some(language));
            assert_eq!(heard.words.len(), code.len());
        }
    }

    #[test]
    fn only_the_token_lengths_are_heard() {
        let (listener, pack) = listener();
        let lengths = [6, 10];
        let five = speak(&pack, "da", "12345");
        let heard = listener.recognise(&five, 16_000, &LanguageChoice::Auto, &lengths);
        assert_eq!(heard.digits, None, "{heard:?}");
        let heard = listener.recognise(&five, 16_000, &LanguageChoice::Auto, &[]);
        assert_eq!(heard.digits.as_deref(), Some("12345"), "{heard:?}");
        for code in ["482913", "4711093582"] {
            let heard = listener.recognise(
                &speak(&pack, "da", code),
                16_000,
                &LanguageChoice::Auto,
                &lengths,
            );
            assert_eq!(heard.digits.as_deref(), Some(code), "{heard:?}");
        }
    }

    #[test]
    fn a_fixed_language_is_used_and_times_are_in_seconds() {
        let (listener, pack) = listener();
        let x = speak(&pack, "en", "7");
        let heard = listener.recognise(&x, 16_000, &LanguageChoice::Fixed("en".into()), &[]);
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
        let heard = listener.recognise(&vec![0.0; 16_000], 16_000, &LanguageChoice::Auto, &[]);
        assert_eq!(heard.digits, None);
        assert!(
            listener
                .recognise(&[], 16_000, &LanguageChoice::Auto, &[])
                .digits
                .is_none()
        );
    }

    /// A frame with `value` in its first cepstrum (distance between two such frames is the
    /// difference of the values).
    fn frame(value: f32) -> Frame {
        let mut f = [0.0; super::super::features::DIMS];
        f[0] = value;
        f
    }

    /// The digits of an alignment's words, in order.
    fn digits(words: &[Word]) -> Vec<usize> {
        words.iter().map(|w| w.digit).collect()
    }

    #[test]
    fn a_known_word_count_splits_words_that_run_together() {
        // Two "0" words back to back with no pause: the free path takes them for one stretched
        // "0" (one word penalty less); told there are two, it finds both.
        let templates: Vec<Vec<Frame>> =
            vec![[0.0; 4].map(frame).to_vec(), [5.0; 4].map(frame).to_vec()];
        let frames: Vec<Frame> = [0.0; 8].map(frame).to_vec();
        let silence = vec![10.0; frames.len()];
        let (_, free) = align(&frames, &silence, &templates, None);
        assert_eq!(digits(&free), vec![0]);
        let (cost, two) = align(&frames, &silence, &templates, Some(2));
        assert_eq!(digits(&two), vec![0, 0]);
        // The two words cover the frames between them (where they meet costs nothing here).
        assert_eq!(
            (two[0].first, two[1].first, two[1].last),
            (0, two[0].last + 1, 7)
        );
        assert!((cost - 2.0 * WORD_PENALTY).abs() < 1e-4, "{cost}");
        // A four-frame template takes at least two frames (a step advances at most
        // MAX_STEP = 3 template frames): four words fit in eight frames, five cannot.
        let (cost, four) = align(&frames, &silence, &templates, Some(4));
        assert!(cost.is_finite() && four.len() == 4, "{cost}");
        let (cost, none) = align(&frames, &silence, &templates, Some(5));
        assert!(cost.is_infinite() && none.is_empty());
    }

    #[test]
    fn silence_between_the_words_of_a_known_count_costs_extra() {
        // Pause, word, pause, word, pause: the pauses cost nothing as silence and far too much
        // as a word; only the pause between the two words pays the extra cost.
        let templates: Vec<Vec<Frame>> = vec![[0.0; 4].map(frame).to_vec()];
        let values = [
            100.0, 100.0, 0.0, 0.0, 0.0, 0.0, 100.0, 100.0, 100.0, 0.0, 0.0, 0.0, 0.0, 100.0,
        ];
        let frames: Vec<Frame> = values.map(frame).to_vec();
        let silence: Vec<f32> = frames
            .iter()
            .map(|f| if f[0] > 50.0 { 0.0 } else { 10.0 })
            .collect();
        let (cost, two) = align(&frames, &silence, &templates, Some(2));
        assert_eq!(two.len(), 2);
        assert_eq!((two[0].first, two[0].last), (2, 5));
        assert_eq!((two[1].first, two[1].last), (9, 12));
        let expected = 2.0 * WORD_PENALTY + 3.0 * INNER_SILENCE_COST;
        assert!((cost - expected).abs() < 1e-4, "{cost} against {expected}");
        // Without a count the pause is plain silence.
        let (cost, free) = align(&frames, &silence, &templates, None);
        assert_eq!(free.len(), 2);
        assert!((cost - 2.0 * WORD_PENALTY).abs() < 1e-4, "{cost}");
    }

    #[test]
    fn a_runner_up_with_its_own_boundaries_is_the_doubt_that_counts() {
        // A long word "0" (a stretch like a short "1", then one like "2"), then a word "2". On
        // the long word's own boundaries "1" costs 5 a frame more; but "1" over its first half
        // and a stretched "2" over the rest fit exactly as well, so the margin is nothing.
        let templates: Vec<Vec<Frame>> = vec![
            [0.0, 0.0, 0.0, 5.0, 5.0, 5.0].map(frame).to_vec(),
            [0.0; 3].map(frame).to_vec(),
            [5.0; 3].map(frame).to_vec(),
            [9.0; 3].map(frame).to_vec(),
        ];
        let margin = |heard: &[f32], next: usize| {
            let frames: Vec<Frame> = heard.iter().copied().map(frame).collect();
            let silence = vec![10.0; frames.len()];
            let distances = Distances::new(&frames, &templates);
            let words = [
                Word {
                    digit: 0,
                    first: 0,
                    last: 5,
                },
                Word {
                    digit: next,
                    first: 6,
                    last: 8,
                },
            ];
            substitution_margin(&distances, &silence, &words, 0)
        };
        let doubtful = margin(&[0.0, 0.0, 0.0, 5.0, 5.0, 5.0, 5.0, 5.0, 5.0], 2);
        assert!(doubtful.abs() < 1e-4, "{doubtful}");
        // Followed by a "3" instead, the "2"-like half costs 4 a frame wherever it goes (in a
        // stretched "1", a "2" over the "3" or a "3" over it): 12 over the word's six frames.
        let clear = margin(&[0.0, 0.0, 0.0, 5.0, 5.0, 5.0, 9.0, 9.0, 9.0], 3);
        assert!((clear - 2.0).abs() < 1e-4, "{clear}");
    }

    #[test]
    fn an_excluded_digit_is_not_chosen_at_its_place() {
        let templates: Vec<Vec<Frame>> =
            vec![[0.0; 3].map(frame).to_vec(), [1.0; 3].map(frame).to_vec()];
        let frames: Vec<Frame> = [0.0; 6].map(frame).to_vec();
        let silence = vec![10.0; frames.len()];
        let distances = Distances::new(&frames, &templates);
        let (best, words) = align_span(&distances, 0..6, &silence, Some(2), false, None);
        assert_eq!(digits(&words), vec![0, 0]);
        let (other, words) = align_span(&distances, 0..6, &silence, Some(2), false, Some((1, 0)));
        assert_eq!(digits(&words), vec![0, 1]);
        // The second word, "1" at a distance of 1 a frame, takes as few frames as it can: two
        // (a word enters at its template's first frame and a step advances up to three).
        assert!((other - best - 2.0).abs() < 1e-4, "{best} {other}");
    }

    #[test]
    fn word_paths_follow_the_template_end_to_end() {
        let template: Vec<Frame> = [0.0, 1.0, 2.0, 3.0].map(frame).to_vec();
        let word: Vec<Frame> = [0.0, 0.0, 1.0, 2.0, 2.0, 3.0].map(frame).to_vec();
        let path_of = |frames: &[Frame], n: usize| {
            word_path(
                &Distances::new(frames, std::slice::from_ref(&template)),
                0..n,
                0,
            )
        };
        let (cost, path) = path_of(&word, word.len()).unwrap();
        assert_eq!(path, vec![0, 0, 1, 2, 2, 3]);
        assert!(cost.abs() < 1e-6, "{cost}");
        // A word three times faster than its template: two frames cover four template frames
        // (a step advances at most three), one cannot.
        let fast: Vec<Frame> = [0.0, 3.0].map(frame).to_vec();
        assert_eq!(path_of(&fast, 2).unwrap().1, vec![0, 3]);
        assert!(path_of(&word, 1).is_none());
    }

    #[test]
    fn a_shared_vowel_does_not_hide_the_consonant_that_tells_words_apart() {
        // "five" and "nine": a different first frame, then the same long vowel; the word heard
        // is "five" with a little noise on every frame.
        let vowel = [5.0; 20];
        let five: Vec<Frame> = std::iter::once(0.0).chain(vowel).map(frame).collect();
        let nine: Vec<Frame> = std::iter::once(1.0).chain(vowel).map(frame).collect();
        let heard: Vec<Frame> = std::iter::once(0.3)
            .chain(vowel.map(|v| v + 0.3))
            .map(frame)
            .collect();
        let distances = Distances::new(&heard, &[five.clone(), nine.clone()]);
        let (five_cost, five_path) = word_path(&distances, 0..heard.len(), 0).unwrap();
        let (nine_cost, nine_path) = word_path(&distances, 0..heard.len(), 1).unwrap();
        let plain = 1.0 - five_cost / nine_cost;
        let weighted = discriminative_confidence(&heard, (&five, &five_path), (&nine, &nine_path));
        assert!(plain < MIN_CONFIDENCE, "{plain}");
        assert!(weighted > 0.5, "{weighted}");
        // The other way round the weighted frames speak against the winner.
        let against = discriminative_confidence(&heard, (&nine, &nine_path), (&five, &five_path));
        assert!(against < 0.0, "{against}");
    }
}
