//! Segmenter: streaming voice-activity detection that cuts the microphone stream into utterances.
//!
//! Inputs: [`AudioBlock`]s in capture order at the segmenter's rate (about 20 ms each; the
//! [`capture`](super::capture) resamples the microphone's and fills dropped blocks with silence).
//! Outputs: [`Utterance`]s, each a stretch of speech with its start and end on the rig's clock,
//! its samples and the words in it (found by [`words`](super::words) where the speech pauses;
//! [`Utterance::words_of`] splits it into a known number).
//!
//! How it works: the signal is band-passed to 200–4000 Hz (removing 50 Hz hum and most of its
//! harmonics, and hiss above the speech band) and its energy is measured every 5 ms. An adaptive
//! noise floor follows the background: it falls quickly and rises by at most 3 dB/s, and only
//! between utterances. Speech starts when the 20 ms energy stays 12 dB above the floor for 10 ms;
//! the onset is then traced back through the 10 ms energies to where they first rose 3 dB above the
//! floor (at most 300 ms back). Speech continues while 5 ms energies exceed the floor by 8 dB; it
//! ends after [`END_SILENCE`] (600 ms) without such energy, so the pauses between spoken digits
//! (up to about 300 ms) do not split a code.
//!
//! Invariants:
//! - `Utterance::start` is the capture time of the first speech sample and `Utterance::end` the
//!   capture time just after the last one (both from [`AudioBlock::time_of`]).
//! - `Utterance::samples` hold [`PADDING`] (50 ms) of audio before `start` and after `end` when the
//!   stream has it (less only at the very start of the stream or at a [`Segmenter::flush`]).
//! - Bursts shorter than [`MIN_SPEECH`] (clicks) are dropped; an utterance longer than
//!   [`MAX_UTTERANCE`] is cut there and the rest starts a new one.
//! - Memory is bounded: between utterances only the last 0.5 s of audio is kept.

use std::collections::VecDeque;
use std::ops::Range;
use std::time::Duration;

use tokio::time::Instant;

use crate::rig::AudioBlock;

use super::features::power_db;
use super::sample_clock::SampleClock;
use super::words::find_words;

/// Silence that ends an utterance.
pub const END_SILENCE: Duration = Duration::from_millis(600);
/// Audio kept before the start and after the end of an utterance.
pub const PADDING: Duration = Duration::from_millis(50);
/// Shorter bursts are not utterances.
pub const MIN_SPEECH: Duration = Duration::from_millis(60);
/// Longer speech is cut into several utterances.
pub const MAX_UTTERANCE: Duration = Duration::from_secs(30);

const SUB_FRAME: Duration = Duration::from_millis(5);
/// Sub-frames in the energy that starts speech (20 ms).
const SMOOTH: usize = 4;
const START_DB: f32 = 12.0;
const START_FRAMES: usize = 2;
const ONSET_DB: f32 = 3.0;
const CONTINUE_DB: f32 = 8.0;
const MAX_BACKTRACK: Duration = Duration::from_millis(300);
const FLOOR_FALL: f32 = 0.3;
const FLOOR_RISE_DB_PER_S: f32 = 3.0;
/// The floor never goes below this, so digital silence does not make every rustle speech.
const FLOOR_MIN_DB: f32 = -90.0;
const KEEP_IDLE: Duration = Duration::from_millis(500);

/// A stretch of speech heard on the stream.
#[derive(Debug, Clone, PartialEq)]
pub struct Utterance {
    /// Capture time of the first speech sample.
    pub start: Instant,
    /// Capture time just after the last speech sample.
    pub end: Instant,
    /// Samples per second of `samples`.
    pub sample_rate: u32,
    /// The audio from `PADDING` (50 ms) before `start` to `PADDING` after `end` (less when the
    /// stream began later or was flushed earlier).
    pub samples: Vec<f32>,
    /// Samples of `samples` before `start` (`PADDING`'s worth, or less at the stream's start).
    pub lead: usize,
    /// The background's level when the utterance began (dB of the speech band's power).
    pub floor_db: f32,
    /// The words, as ranges of `samples`, separated where the speech pauses (see
    /// [`find_words`]; [`Utterance::words_of`] splits it into a known number).
    pub words: Vec<Range<usize>>,
}

impl Utterance {
    /// The utterance split into exactly `count` words (pauses first, then the valleys between
    /// words run together), or `None` when it cannot hold that many.
    pub fn words_of(&self, count: usize) -> Option<Vec<Range<usize>>> {
        find_words(&self.samples, self.sample_rate, self.floor_db, Some(count))
    }

    /// The capture time of sample `index` of `samples`.
    pub fn time_of(&self, index: usize) -> Instant {
        let rate = f64::from(self.sample_rate);
        if index >= self.lead {
            self.start + Duration::from_secs_f64((index - self.lead) as f64 / rate)
        } else {
            self.start - Duration::from_secs_f64((self.lead - index) as f64 / rate)
        }
    }
}

/// A biquad filter section (RBJ cookbook), transposed direct form II.
#[derive(Debug, Clone, Copy)]
pub(super) struct Biquad {
    b: [f32; 3],
    a: [f32; 2],
    z: [f32; 2],
}

impl Biquad {
    fn new(sample_rate: u32, hz: f32, high_pass: bool) -> Self {
        let w0 = 2.0 * std::f32::consts::PI * hz / sample_rate as f32;
        let alpha = w0.sin() / (2.0 * std::f32::consts::FRAC_1_SQRT_2);
        let cos = w0.cos();
        let a0 = 1.0 + alpha;
        let b = if high_pass {
            [(1.0 + cos) / 2.0, -(1.0 + cos), (1.0 + cos) / 2.0]
        } else {
            [(1.0 - cos) / 2.0, 1.0 - cos, (1.0 - cos) / 2.0]
        };
        Self {
            b: b.map(|v| v / a0),
            a: [-2.0 * cos / a0, (1.0 - alpha) / a0],
            z: [0.0; 2],
        }
    }

    pub(super) fn run(&mut self, x: f32) -> f32 {
        let y = self.b[0] * x + self.z[0];
        self.z[0] = self.b[1] * x - self.a[0] * y + self.z[1];
        self.z[1] = self.b[2] * x - self.a[1] * y;
        y
    }
}

/// The speech band's filter, 200–4000 Hz (two high-pass sections for hum, one low-pass for hiss
/// where the rate allows): what the segmenter and the word finder measure energy in.
pub(super) fn speech_band(sample_rate: u32) -> Vec<Biquad> {
    let sample_rate = sample_rate.max(1000);
    let mut filters = vec![
        Biquad::new(sample_rate, 200.0, true),
        Biquad::new(sample_rate, 200.0, true),
    ];
    if 4000.0 < 0.45 * sample_rate as f32 {
        filters.push(Biquad::new(sample_rate, 4000.0, false));
    }
    filters
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum State {
    Idle,
    /// Speech from sample `onset`; the last sub-frame with speech energy ends at `last_active`.
    Speech {
        onset: u64,
        last_active: u64,
    },
}

/// Streaming voice-activity detection; see the module docs.
#[derive(Debug)]
pub struct Segmenter {
    sample_rate: u32,
    sub_len: usize,
    filters: Vec<Biquad>,
    /// Stream index of the next sample.
    total: u64,
    clock: SampleClock,
    /// Raw samples from stream index `buffer_start`.
    buffer: VecDeque<f32>,
    buffer_start: u64,
    /// Filtered energy accumulator of the current sub-frame.
    acc: f32,
    acc_len: usize,
    /// Recent sub-frame powers (linear) and dB, oldest first; the last one ends at `total`-ish.
    powers: VecDeque<f32>,
    /// dB of recent sub-frames, with the stream index where each ends.
    recent_db: VecDeque<(u64, f32)>,
    floor_db: Option<f32>,
    above: usize,
    state: State,
}

impl Segmenter {
    /// A segmenter for a stream at `sample_rate` samples per second.
    pub fn new(sample_rate: u32) -> Self {
        let sample_rate = sample_rate.max(1000);
        Self {
            sample_rate,
            sub_len: Self::samples_in(sample_rate, SUB_FRAME).max(1) as usize,
            filters: speech_band(sample_rate),
            total: 0,
            clock: SampleClock::new(sample_rate),
            buffer: VecDeque::new(),
            buffer_start: 0,
            acc: 0.0,
            acc_len: 0,
            powers: VecDeque::new(),
            recent_db: VecDeque::new(),
            floor_db: None,
            above: 0,
            state: State::Idle,
        }
    }

    fn samples_in(sample_rate: u32, duration: Duration) -> u64 {
        (duration.as_secs_f64() * f64::from(sample_rate)).round() as u64
    }

    /// Feeds the next block, at the segmenter's rate (the [`capture`](super::capture) brings the
    /// microphone's blocks to it); returns the utterances that ended in it (usually none).
    ///
    /// # Panics
    /// When the block is at another rate: a wiring fault, not a condition of the audio.
    pub fn push(&mut self, block: &AudioBlock) -> Vec<Utterance> {
        assert_eq!(
            block.sample_rate, self.sample_rate,
            "segmenter: blocks must come through the capture, at the segmenter's rate"
        );
        let samples: &[f32] = &block.samples;
        self.clock.anchor(self.total, block.captured_at);
        let mut out = Vec::new();
        for &s in samples {
            self.buffer.push_back(s);
            let y = self.filters.iter_mut().fold(s, |x, f| f.run(x));
            self.total += 1;
            self.acc += y * y;
            self.acc_len += 1;
            if self.acc_len == self.sub_len {
                let power = self.acc / self.sub_len as f32;
                self.acc = 0.0;
                self.acc_len = 0;
                if let Some(u) = self.sub_frame(power) {
                    out.push(u);
                }
            }
        }
        self.trim();
        out
    }

    /// Whether an utterance is open (speech heard and its closing silence not yet complete).
    pub fn is_active(&self) -> bool {
        matches!(self.state, State::Speech { .. })
    }

    /// Ends the stream: returns the utterance in progress, if any (with whatever padding exists).
    pub fn flush(&mut self) -> Option<Utterance> {
        let utterance = match self.state {
            State::Speech { onset, last_active } => self.cut(onset, last_active),
            State::Idle => None,
        };
        self.state = State::Idle;
        self.above = 0;
        utterance
    }

    /// Handles one 5 ms sub-frame ending at `self.total`.
    fn sub_frame(&mut self, power: f32) -> Option<Utterance> {
        let db = power_db(power);
        self.powers.push_back(power);
        if self.powers.len() > SMOOTH {
            self.powers.pop_front();
        }
        self.recent_db.push_back((self.total, db));
        let keep = (MAX_BACKTRACK.as_millis() / SUB_FRAME.as_millis()) as usize + 2 * SMOOTH;
        while self.recent_db.len() > keep {
            self.recent_db.pop_front();
        }
        if self.powers.len() < SMOOTH {
            return None;
        }
        let smooth_db = power_db(self.powers.iter().sum::<f32>() / SMOOTH as f32);
        let floor = *self.floor_db.get_or_insert(smooth_db.max(FLOOR_MIN_DB));
        match self.state {
            State::Idle => {
                if smooth_db > floor + START_DB {
                    self.above += 1;
                } else {
                    self.above = 0;
                    self.track_floor(smooth_db, true);
                }
                if self.above >= START_FRAMES {
                    self.above = 0;
                    let onset = self.trace_onset(floor);
                    self.state = State::Speech {
                        onset,
                        last_active: self.total,
                    };
                }
                None
            }
            State::Speech { onset, last_active } => {
                self.track_floor(smooth_db, false);
                let last_active = if db > floor + CONTINUE_DB {
                    self.total
                } else {
                    last_active
                };
                self.state = State::Speech { onset, last_active };
                let silent = self.total - last_active;
                let too_long =
                    self.total - onset >= Self::samples_in(self.sample_rate, MAX_UTTERANCE);
                if silent >= Self::samples_in(self.sample_rate, END_SILENCE) || too_long {
                    self.state = State::Idle;
                    let end = if too_long { self.total } else { last_active };
                    return self.cut(onset, end);
                }
                None
            }
        }
    }

    fn track_floor(&mut self, db: f32, may_rise: bool) {
        let Some(floor) = self.floor_db else {
            return;
        };
        let next = if db < floor {
            floor + FLOOR_FALL * (db - floor)
        } else if may_rise {
            let rise = FLOOR_RISE_DB_PER_S * SUB_FRAME.as_secs_f32();
            floor + (db - floor).min(rise)
        } else {
            floor
        };
        self.floor_db = Some(next.max(FLOOR_MIN_DB));
    }

    /// The stream index where the speech just detected began: the start of the run of sub-frames
    /// ending now whose 10 ms energy is `ONSET_DB` over the floor. The 10 ms smoothing and the
    /// tolerance of one quiet sub-frame keep voiced speech, whose 5 ms energies beat with the
    /// pitch period, from looking like a pause.
    fn trace_onset(&self, floor: f32) -> u64 {
        let frames: Vec<(u64, f32)> = self.recent_db.iter().copied().collect();
        let loud = |i: usize| {
            let power = |db: f32| 10_f32.powf(db / 10.0);
            let pair = if i > 0 {
                (power(frames[i].1) + power(frames[i - 1].1)) / 2.0
            } else {
                power(frames[i].1)
            };
            power_db(pair) > floor + ONSET_DB
        };
        let mut first = frames.len();
        let mut quiet_run = 0;
        for i in (0..frames.len()).rev() {
            if loud(i) {
                first = i;
                quiet_run = 0;
            } else {
                quiet_run += 1;
                if quiet_run >= 2 {
                    break;
                }
            }
        }
        if first == frames.len() {
            return self.total;
        }
        // The pair at `first` may be loud only through its earlier half.
        if first > 0 && frames[first - 1].1 > floor + ONSET_DB {
            first -= 1;
        }
        frames[first].0.saturating_sub(self.sub_len as u64)
    }

    /// The utterance from `onset` to `end` (stream indices), or `None` for a click.
    fn cut(&mut self, onset: u64, end: u64) -> Option<Utterance> {
        if end.saturating_sub(onset) < Self::samples_in(self.sample_rate, MIN_SPEECH) {
            return None;
        }
        let pad = Self::samples_in(self.sample_rate, PADDING);
        let from = onset.saturating_sub(pad).max(self.buffer_start);
        let to = (end + pad).min(self.total);
        let samples: Vec<f32> = self
            .buffer
            .iter()
            .skip((from - self.buffer_start) as usize)
            .take((to - from) as usize)
            .copied()
            .collect();
        let floor_db = self.floor_db.unwrap_or(FLOOR_MIN_DB);
        let words = find_words(&samples, self.sample_rate, floor_db, None).unwrap_or_default();
        Some(Utterance {
            start: self.clock.time_of(onset)?,
            end: self.clock.time_of(end)?,
            sample_rate: self.sample_rate,
            lead: (onset - from) as usize,
            samples,
            floor_db,
            words,
        })
    }

    /// Drops audio no utterance can need any more.
    fn trim(&mut self) {
        let keep_from = match self.state {
            State::Idle => self
                .total
                .saturating_sub(Self::samples_in(self.sample_rate, KEEP_IDLE)),
            State::Speech { onset, .. } => {
                onset.saturating_sub(Self::samples_in(self.sample_rate, PADDING))
            }
        };
        while self.buffer_start < keep_from && !self.buffer.is_empty() {
            self.buffer.pop_front();
            self.buffer_start += 1;
        }
        self.clock.forget_before(self.buffer_start);
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn blocks(samples: &[f32], t0: Instant) -> Vec<AudioBlock> {
        samples
            .chunks(320)
            .enumerate()
            .map(|(i, c)| AudioBlock {
                seq: i as u64,
                captured_at: t0 + Duration::from_millis(20 * i as u64),
                sample_rate: 16_000,
                samples: Arc::from(c),
            })
            .collect()
    }

    /// Deterministic noise in [-a, a].
    fn noise(n: usize, a: f32, seed: u32) -> Vec<f32> {
        let mut x = seed.wrapping_mul(2_654_435_761).max(1);
        (0..n)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                a * (x as f32 / u32::MAX as f32 * 2.0 - 1.0)
            })
            .collect()
    }

    fn tone_burst(n: usize, a: f32) -> Vec<f32> {
        (0..n)
            .map(|i| a * (i as f32 * 2.0 * std::f32::consts::PI * 440.0 / 16_000.0).sin())
            .collect()
    }

    #[test]
    fn a_burst_in_noise_and_hum_is_one_utterance_with_its_times() {
        let mut x = noise(16_000 * 3, 0.003, 7);
        for (i, s) in x.iter_mut().enumerate() {
            *s += 0.05 * (i as f32 * 2.0 * std::f32::consts::PI * 50.0 / 16_000.0).sin();
        }
        let burst = tone_burst(8_000, 0.3);
        for (i, b) in burst.iter().enumerate() {
            x[16_000 + i] += b;
        }
        let t0 = Instant::now();
        let mut seg = Segmenter::new(16_000);
        let mut found: Vec<Utterance> = blocks(&x, t0).iter().flat_map(|b| seg.push(b)).collect();
        found.extend(seg.flush());
        assert_eq!(found.len(), 1);
        let u = &found[0];
        let start = (u.start - t0).as_secs_f64();
        let end = (u.end - t0).as_secs_f64();
        assert!((start - 1.0).abs() < 0.01, "start {start}");
        assert!((end - 1.5).abs() < 0.03, "end {end}");
        let expected = (0.6 * 16_000.0) as usize;
        assert!(
            u.samples.len().abs_diff(expected) < 500,
            "{}",
            u.samples.len()
        );
    }

    #[test]
    fn a_click_is_no_utterance_and_flush_ends_speech() {
        let mut x = noise(16_000, 0.001, 3);
        x[4000] = 0.9;
        x.extend(tone_burst(4_000, 0.3));
        let mut seg = Segmenter::new(16_000);
        let t0 = Instant::now();
        let pushed: Vec<Utterance> = blocks(&x, t0).iter().flat_map(|b| seg.push(b)).collect();
        assert!(pushed.is_empty());
        let u = seg.flush().unwrap();
        assert!(((u.start - t0).as_secs_f64() - 1.0).abs() < 0.01);
        assert!(seg.flush().is_none());
    }
}
