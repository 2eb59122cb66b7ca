//! Capture: the microphone's blocks at the listener's rate, kept in a ring buffer that can be asked
//! for any recent span of time.
//!
//! Inputs: [`AudioBlock`]s in capture order, at any rate (a USB microphone gives 44.1 or 48 kHz).
//! Outputs: the same audio at [`SAMPLE_RATE`] as blocks with capture times (for the segmenter),
//! and [`AudioRing::span`]: the samples between two instants (evidence, measures).
//!
//! How: blocks at another rate go through `rubato`'s FFT resampler (a fixed ratio: the microphone
//! does not change rate while it runs); its start-up delay is dropped, so output sample `k` is
//! input sample `k / ratio`. Each input block anchors its first sample's stream index to its
//! capture time; the time of any sample is taken from the last anchor at or before it, so the
//! audio clock and the rig's clock may drift apart without the times drifting.
//!
//! Invariants:
//! - A gap in the block sequence (blocks dropped upstream) is filled with silence of the missing
//!   length, so stream indices stay in step with time; the gap is counted and a span that covers
//!   it says so ([`AudioSpan::gaps`]).
//! - Memory is bounded: the ring keeps the last [`KEEP`] of audio.

use std::borrow::Cow;
use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use rubato::audioadapter_buffers::direct::InterleavedSlice;
use rubato::{Fft, FixedSync, Resampler};
use tokio::time::Instant;

use super::features::SAMPLE_RATE;
use super::sample_clock::SampleClock;
use crate::rig::AudioBlock;

/// Audio kept in the ring: longer than any expectation's window (a code read at the slowest
/// speed, the 20 s auto-off).
pub const KEEP: Duration = Duration::from_secs(60);
/// Input samples the resampler takes per call: 20 ms at 48 kHz.
const CHUNK: usize = 960;

/// Why the capture cannot take a block.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CaptureError {
    /// The microphone changed rate mid-stream.
    #[error("the microphone changed rate from {from} Hz to {to} Hz while running")]
    RateChanged {
        /// The rate so far.
        from: u32,
        /// The new block's rate.
        to: u32,
    },
    /// rubato refused the rate pair or a chunk.
    #[error("resampling {rate} Hz to {SAMPLE_RATE} Hz: {message}")]
    Resampler {
        /// The input rate.
        rate: u32,
        /// rubato's message.
        message: String,
    },
}

/// Samples of the ring between two instants.
#[derive(Debug, Clone, PartialEq)]
pub struct AudioSpan {
    /// Capture time of the first sample.
    pub start: Instant,
    /// Samples at [`SAMPLE_RATE`].
    pub samples: Vec<f32>,
    /// Time filled with silence because blocks were dropped, inside the span.
    pub gaps: Duration,
}

impl AudioSpan {
    /// Capture time just after the last sample.
    pub fn end(&self) -> Instant {
        self.start + samples_to_duration(self.samples.len() as u64)
    }
}

fn samples_to_duration(samples: u64) -> Duration {
    Duration::from_secs_f64(samples as f64 / f64::from(SAMPLE_RATE))
}

/// The last [`KEEP`] of audio at [`SAMPLE_RATE`], with the capture time of every sample.
#[derive(Debug)]
pub struct AudioRing {
    samples: VecDeque<f32>,
    /// Stream index of `samples[0]`.
    first: u64,
    clock: SampleClock,
    /// Stream index ranges filled with silence for dropped blocks.
    gaps: VecDeque<(u64, u64)>,
    capacity: usize,
}

impl Default for AudioRing {
    fn default() -> Self {
        Self::with_capacity(KEEP)
    }
}

impl AudioRing {
    /// A ring keeping the last `keep` of audio.
    pub fn with_capacity(keep: Duration) -> Self {
        Self {
            samples: VecDeque::new(),
            first: 0,
            clock: SampleClock::new(SAMPLE_RATE),
            gaps: VecDeque::new(),
            capacity: (keep.as_secs_f64() * f64::from(SAMPLE_RATE)).ceil() as usize,
        }
    }

    /// Stream index just after the newest sample.
    fn end_index(&self) -> u64 {
        self.first + self.samples.len() as u64
    }

    fn extend(&mut self, samples: &[f32]) {
        self.samples.extend(samples.iter().copied());
        let excess = self.samples.len().saturating_sub(self.capacity);
        if excess > 0 {
            self.samples.drain(..excess);
            self.first += excess as u64;
        }
        self.clock.forget_before(self.first);
        while self.gaps.front().is_some_and(|&(_, end)| end <= self.first) {
            self.gaps.pop_front();
        }
    }

    /// Capture time of stream index `index`.
    pub fn time_of(&self, index: u64) -> Option<Instant> {
        self.clock.time_of(index)
    }

    /// Capture time of the oldest sample kept, if any.
    pub fn oldest(&self) -> Option<Instant> {
        (!self.samples.is_empty())
            .then(|| self.time_of(self.first))
            .flatten()
    }

    /// Capture time just after the newest sample, if any.
    pub fn newest(&self) -> Option<Instant> {
        (!self.samples.is_empty())
            .then(|| self.time_of(self.end_index()))
            .flatten()
    }

    /// The samples captured in `[from, to)`, cut to what the ring holds; `None` when it holds none
    /// of that time (already forgotten, or not captured yet).
    pub fn span(&self, from: Instant, to: Instant) -> Option<AudioSpan> {
        let start = self.clock.index_of(from)?.max(self.first);
        let end = self.clock.index_of(to)?.min(self.end_index());
        if start >= end {
            return None;
        }
        let samples: Vec<f32> = self
            .samples
            .range((start - self.first) as usize..(end - self.first) as usize)
            .copied()
            .collect();
        let gaps = self
            .gaps
            .iter()
            .map(|&(a, b)| b.min(end).saturating_sub(a.max(start)))
            .sum();
        Some(AudioSpan {
            start: self.time_of(start)?,
            samples,
            gaps: samples_to_duration(gaps),
        })
    }
}

/// A whole recording at [`SAMPLE_RATE`] (rubato's FFT resampler, start-up delay trimmed);
/// borrowed unchanged when it is at that rate already.
pub fn to_listener_rate(samples: &[f32], rate: u32) -> Result<Cow<'_, [f32]>, CaptureError> {
    if rate == SAMPLE_RATE {
        return Ok(Cow::Borrowed(samples));
    }
    let error = |e: &dyn std::fmt::Display| CaptureError::Resampler {
        rate,
        message: e.to_string(),
    };
    let mut fft = Fft::<f32>::new(
        rate as usize,
        SAMPLE_RATE as usize,
        CHUNK,
        1,
        FixedSync::Both,
    )
    .map_err(|e| error(&e))?;
    let input = InterleavedSlice::new(samples, 1, samples.len()).map_err(|e| error(&e))?;
    let output = fft
        .process_all(&input, samples.len(), None)
        .map_err(|e| error(&e))?;
    Ok(Cow::Owned(output.take_data()))
}

/// The resampler for one input rate, with its pending input.
struct Converter {
    rate: u32,
    fft: Fft<f32>,
    pending: Vec<f32>,
    output: Vec<f32>,
    /// Output samples still to drop: the resampler's start-up delay.
    delay_left: usize,
}

impl std::fmt::Debug for Converter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Converter")
            .field("rate", &self.rate)
            .field("pending", &self.pending.len())
            .field("delay_left", &self.delay_left)
            .finish_non_exhaustive()
    }
}

impl Converter {
    fn new(rate: u32) -> Result<Self, CaptureError> {
        let fft = Fft::<f32>::new(
            rate as usize,
            SAMPLE_RATE as usize,
            CHUNK,
            1,
            FixedSync::Input,
        )
        .map_err(|e| CaptureError::Resampler {
            rate,
            message: e.to_string(),
        })?;
        Ok(Self {
            rate,
            delay_left: fft.output_delay(),
            output: vec![0.0; fft.output_frames_max()],
            fft,
            pending: Vec::new(),
        })
    }

    /// Resamples what whole chunks of `input` (after the pending samples) allow; appends the
    /// output (past the start-up delay) to `out`.
    fn push(&mut self, input: &[f32], out: &mut Vec<f32>) -> Result<(), CaptureError> {
        self.pending.extend_from_slice(input);
        let mut used = 0;
        while self.pending.len() - used >= self.fft.input_frames_next() {
            let need = self.fft.input_frames_next();
            let error = |e: &dyn std::fmt::Display| CaptureError::Resampler {
                rate: self.rate,
                message: e.to_string(),
            };
            let chunk = InterleavedSlice::new(&self.pending[used..used + need], 1, need)
                .map_err(|e| error(&e))?;
            let frames = self.output.len();
            let mut target =
                InterleavedSlice::new_mut(&mut self.output, 1, frames).map_err(|e| error(&e))?;
            let (read, written) = self
                .fft
                .process_into_buffer(&chunk, &mut target, None)
                .map_err(|e| error(&e))?;
            used += read;
            let skip = self.delay_left.min(written);
            self.delay_left -= skip;
            out.extend_from_slice(&self.output[skip..written]);
        }
        self.pending.drain(..used);
        Ok(())
    }
}

/// Takes the microphone's blocks, brings them to [`SAMPLE_RATE`] and keeps them in an
/// [`AudioRing`] shared with whoever asks for spans.
#[derive(Debug)]
pub struct AudioCapture {
    ring: Arc<std::sync::Mutex<AudioRing>>,
    converter: Option<Converter>,
    rate: Option<u32>,
    /// Input samples so far (including silence put in for gaps).
    input_total: u64,
    /// Output samples so far.
    output_total: u64,
    /// When the next input block should start: the end of the last one.
    expected_at: Option<Instant>,
    seq: u64,
    gaps: u64,
}

impl AudioCapture {
    /// A capture writing into `ring`.
    pub fn new(ring: Arc<std::sync::Mutex<AudioRing>>) -> Self {
        Self {
            ring,
            converter: None,
            rate: None,
            input_total: 0,
            output_total: 0,
            expected_at: None,
            seq: 0,
            gaps: 0,
        }
    }

    /// The ring the audio goes to.
    pub fn ring(&self) -> Arc<std::sync::Mutex<AudioRing>> {
        self.ring.clone()
    }

    /// Gaps (dropped blocks) filled with silence so far.
    pub fn gaps(&self) -> u64 {
        self.gaps
    }

    /// Takes one block; returns the audio it completed at [`SAMPLE_RATE`] (empty while the
    /// resampler fills its first chunk), timed from the blocks' capture times.
    pub fn push(&mut self, block: &AudioBlock) -> Result<Option<AudioBlock>, CaptureError> {
        let rate = block.sample_rate.max(1);
        match self.rate {
            Some(known) if known != rate => {
                return Err(CaptureError::RateChanged {
                    from: known,
                    to: rate,
                });
            }
            Some(_) => {}
            None => {
                self.rate = Some(rate);
                if rate != SAMPLE_RATE {
                    self.converter = Some(Converter::new(rate)?);
                }
            }
        }
        let ratio = f64::from(SAMPLE_RATE) / f64::from(rate);
        let mut input: Vec<f32> = Vec::new();
        // A block later than the end of the one before it: the blocks between were dropped.
        if let Some(expected) = self.expected_at
            && block.captured_at > expected
        {
            let missing = ((block.captured_at - expected).as_secs_f64() * f64::from(rate)).round();
            // Less than half a block is the jitter of capture timestamps, not a lost block.
            if missing >= block.samples.len() as f64 / 2.0 {
                let start = (self.input_total as f64 * ratio).round() as u64;
                input.resize(missing as usize, 0.0);
                let end = ((self.input_total + missing as u64) as f64 * ratio).round() as u64;
                self.ring
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .gaps
                    .push_back((start, end));
                self.gaps += 1;
                self.input_total += missing as u64;
            }
        }
        let anchor = (self.input_total as f64 * ratio).round() as u64;
        input.extend_from_slice(&block.samples);
        self.input_total += block.samples.len() as u64;
        self.expected_at = Some(block.captured_at + block.duration());
        let output = match &mut self.converter {
            None => input,
            Some(converter) => {
                let mut out = Vec::new();
                converter.push(&input, &mut out)?;
                out
            }
        };
        let mut ring = self
            .ring
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        ring.clock.anchor(anchor, block.captured_at);
        if output.is_empty() {
            return Ok(None);
        }
        let first = self.output_total;
        ring.extend(&output);
        self.output_total += output.len() as u64;
        let Some(captured_at) = ring.time_of(first) else {
            return Ok(None);
        };
        self.seq += 1;
        Ok(Some(AudioBlock {
            seq: self.seq,
            captured_at,
            sample_rate: SAMPLE_RATE,
            samples: output.into(),
        }))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn block(seq: u64, at: Instant, rate: u32, samples: Vec<f32>) -> AudioBlock {
        AudioBlock {
            seq,
            captured_at: at,
            sample_rate: rate,
            samples: samples.into(),
        }
    }

    fn tone(rate: u32, hz: f32, from: usize, len: usize) -> Vec<f32> {
        (from..from + len)
            .map(|n| (std::f32::consts::TAU * hz * n as f32 / rate as f32).sin() * 0.5)
            .collect()
    }

    fn capture() -> AudioCapture {
        AudioCapture::new(Arc::new(std::sync::Mutex::new(AudioRing::default())))
    }

    /// Feeds `seconds` of 20 ms blocks of a 1 kHz tone (silence before `onset_s`) at `rate`.
    fn feed(capture: &mut AudioCapture, rate: u32, seconds: f64, onset_s: f64) -> Instant {
        let t0 = Instant::now();
        let per_block = rate as usize / 50;
        let blocks = (seconds * 50.0) as usize;
        for b in 0..blocks {
            let mut samples = tone(rate, 1000.0, b * per_block, per_block);
            for (i, s) in samples.iter_mut().enumerate() {
                if ((b * per_block + i) as f64) < onset_s * f64::from(rate) {
                    *s = 0.0;
                }
            }
            let at = t0 + Duration::from_millis(20 * b as u64);
            capture
                .push(&block(b as u64, at, rate, samples))
                .expect("push");
        }
        t0
    }

    /// The frequency of a tone from its zero crossings.
    fn frequency(samples: &[f32]) -> f32 {
        let crossings = samples
            .windows(2)
            .filter(|w| w[0] < 0.0 && w[1] >= 0.0)
            .count();
        crossings as f32 * SAMPLE_RATE as f32 / samples.len() as f32
    }

    #[test]
    fn a_48_khz_stream_is_resampled_keeping_pitch_and_timing() {
        let mut capture = capture();
        let t0 = feed(&mut capture, 48_000, 2.0, 1.0);
        let ring = capture.ring();
        let ring = ring.lock().unwrap();
        let tail = ring
            .span(
                t0 + Duration::from_millis(1200),
                t0 + Duration::from_millis(1800),
            )
            .expect("span");
        assert_eq!(tail.samples.len(), 9600);
        let hz = frequency(&tail.samples);
        assert!((hz - 1000.0).abs() < 5.0, "{hz} Hz");
        // The tone starts at 1.0 s: the resampled onset is within a millisecond of it.
        let around = ring
            .span(
                t0 + Duration::from_millis(900),
                t0 + Duration::from_millis(1100),
            )
            .expect("span");
        let onset = around.samples.iter().position(|s| s.abs() > 0.05).unwrap();
        let onset_at = around.start + Duration::from_secs_f64(onset as f64 / 16_000.0);
        let error = (onset_at - (t0 + Duration::from_secs(1)))
            .as_secs_f64()
            .abs();
        assert!(error < 0.001, "onset off by {error} s");
    }

    #[test]
    fn a_whole_recording_is_resampled_to_the_same_length_and_pitch() {
        let samples = tone(44_100, 1000.0, 0, 44_100);
        let out = to_listener_rate(&samples, 44_100).unwrap();
        assert_eq!(out.len(), 16_000);
        let hz = frequency(&out[1000..15_000]);
        assert!((hz - 1000.0).abs() < 5.0, "{hz} Hz");
        assert!(matches!(
            to_listener_rate(&samples, 16_000).unwrap(),
            Cow::Borrowed(_)
        ));
        assert!(to_listener_rate(&samples, 0).is_err());
    }

    #[test]
    fn blocks_at_the_listeners_rate_pass_unchanged() {
        let mut capture = capture();
        let t0 = Instant::now();
        let samples = tone(16_000, 440.0, 0, 320);
        let out = capture
            .push(&block(0, t0, 16_000, samples.clone()))
            .unwrap()
            .expect("a block");
        assert_eq!(&out.samples[..], &samples[..]);
        assert_eq!(out.captured_at, t0);
    }

    #[test]
    fn a_dropped_block_leaves_silence_of_its_length_and_is_reported() {
        let mut capture = capture();
        let t0 = Instant::now();
        let ms = |n| t0 + Duration::from_millis(n);
        capture
            .push(&block(0, ms(0), 16_000, vec![0.5; 320]))
            .unwrap();
        // Block 1 (20–40 ms) never arrived.
        let out = capture
            .push(&block(2, ms(40), 16_000, vec![0.5; 320]))
            .unwrap()
            .unwrap();
        assert_eq!(out.samples.len(), 640);
        assert_eq!(capture.gaps(), 1);
        let ring = capture.ring();
        let ring = ring.lock().unwrap();
        let span = ring.span(ms(10), ms(50)).unwrap();
        assert_eq!(span.samples.len(), 640);
        assert_eq!(span.gaps, Duration::from_millis(20));
        assert!(span.samples[160..480].iter().all(|&s| s == 0.0));
        assert_eq!(ring.span(ms(40), ms(60)).unwrap().gaps, Duration::ZERO);
    }

    #[test]
    fn timestamp_jitter_is_no_gap() {
        let mut capture = capture();
        let t0 = Instant::now();
        capture.push(&block(0, t0, 16_000, vec![0.5; 320])).unwrap();
        // 3 ms late: the capture clock's jitter; the block is not dropped.
        let out = capture
            .push(&block(
                1,
                t0 + Duration::from_millis(23),
                16_000,
                vec![0.5; 320],
            ))
            .unwrap()
            .unwrap();
        assert_eq!(out.samples.len(), 320);
        assert_eq!(capture.gaps(), 0);
    }

    #[test]
    fn the_ring_forgets_what_is_older_than_its_capacity() {
        let ring = Arc::new(std::sync::Mutex::new(AudioRing::with_capacity(
            Duration::from_millis(100),
        )));
        let mut capture = AudioCapture::new(ring.clone());
        let t0 = Instant::now();
        for b in 0..10_u64 {
            capture
                .push(&block(
                    b,
                    t0 + Duration::from_millis(20 * b),
                    16_000,
                    vec![b as f32; 320],
                ))
                .unwrap();
        }
        let ring = ring.lock().unwrap();
        assert_eq!(ring.oldest(), Some(t0 + Duration::from_millis(100)));
        assert_eq!(ring.newest(), Some(t0 + Duration::from_millis(200)));
        assert!(ring.span(t0, t0 + Duration::from_millis(50)).is_none());
        let span = ring.span(t0, t0 + Duration::from_millis(130)).unwrap();
        assert_eq!(span.start, t0 + Duration::from_millis(100));
        assert_eq!(span.samples.len(), 480);
        assert_eq!(span.samples[0], 5.0);
    }

    #[test]
    fn a_change_of_rate_is_an_error() {
        let mut capture = capture();
        let t0 = Instant::now();
        capture.push(&block(0, t0, 48_000, vec![0.0; 960])).unwrap();
        let error = capture
            .push(&block(
                1,
                t0 + Duration::from_millis(20),
                44_100,
                vec![0.0; 882],
            ))
            .unwrap_err();
        assert_eq!(
            error,
            CaptureError::RateChanged {
                from: 48_000,
                to: 44_100
            }
        );
    }
}
