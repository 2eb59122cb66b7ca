//! Speech features: turns 16 kHz mono samples into normalised cepstral frames for the listener.
//!
//! Inputs: samples in [-1, 1] at [`SAMPLE_RATE`] (use [`to_listener_rate`](super::capture::to_listener_rate) first for other rates).
//! Outputs: [`Features`], one row per frame: 13 MFCCs (c0..c12) of a log-mel filterbank plus their
//! deltas ([`DIMS`] values), and the frame's energy in dBFS.
//!
//! Framing: a [`WINDOW`]-sample (25 ms) Hamming window every [`HOP`] samples (10 ms); frame `t`
//! covers samples `t * HOP .. t * HOP + WINDOW` (the last one zero-padded). The spectrum is a
//! 512-point real FFT of the pre-emphasised frame; [`MEL_BANDS`] triangular mel filters span
//! 250–3800 Hz, the band a small speaker reproduces, so that band limits do not change the features.
//!
//! Invariants:
//! - Log-mel energies are floored at [`SPECTRAL_FLOOR_DB`] below the mean band energy of the active
//!   frames, so that digital silence in clean templates and background noise in recordings look alike.
//! - [`normalise`] (cepstral mean and variance normalisation) uses only the frames it is given as
//!   active, so a word and the same word with silence around it normalise alike.
//! - Pure functions of their inputs: no state, no randomness.

use std::sync::Arc;

use realfft::{RealFftPlanner, RealToComplex};

/// The rate the features are defined at (samples per second).
pub const SAMPLE_RATE: u32 = 16_000;
/// Samples per analysis window (25 ms).
pub const WINDOW: usize = 400;
/// Samples between frames (10 ms).
pub const HOP: usize = 160;
/// Triangular mel filters.
pub const MEL_BANDS: usize = 24;
/// Cepstral coefficients per frame (c0..c12).
pub const CEPSTRA: usize = 13;
/// Values per feature frame: the cepstra and their deltas.
pub const DIMS: usize = 2 * CEPSTRA;
/// How far below the mean band energy of the active frames the log-mel energies are floored (dB).
pub const SPECTRAL_FLOOR_DB: f32 = 35.0;

const FFT_LEN: usize = 512;
const MEL_LOW_HZ: f32 = 250.0;
const MEL_HIGH_HZ: f32 = 3800.0;
const PRE_EMPHASIS: f32 = 0.97;
/// Weight of the deltas against the static cepstra in [`distance`].
const DELTA_WEIGHT: f32 = 0.7;

/// One feature row: c0..c12 then their deltas.
pub type Frame = [f32; DIMS];

/// The features of a stretch of audio.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Features {
    /// Cepstra and deltas, one row per frame.
    pub frames: Vec<Frame>,
    /// Energy of each frame (mean square of its samples) in dBFS, floored at -120 dB.
    pub energy_db: Vec<f32>,
}

/// Computes [`Features`]; holds the FFT plan, window, filterbank and DCT tables.
pub struct FeatureExtractor {
    fft: Arc<dyn RealToComplex<f32>>,
    window: Vec<f32>,
    /// Per mel band: the first FFT bin and the weights from there.
    filters: Vec<(usize, Vec<f32>)>,
    /// `dct[k][m]`: DCT-II basis (orthonormal) for cepstrum `k` and band `m`.
    dct: Vec<[f32; MEL_BANDS]>,
}

impl std::fmt::Debug for FeatureExtractor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FeatureExtractor").finish_non_exhaustive()
    }
}

impl Default for FeatureExtractor {
    fn default() -> Self {
        Self::new()
    }
}

fn hz_to_mel(hz: f32) -> f32 {
    2595.0 * (1.0 + hz / 700.0).log10()
}

fn mel_to_hz(mel: f32) -> f32 {
    700.0 * (10_f32.powf(mel / 2595.0) - 1.0)
}

impl FeatureExtractor {
    /// Plans the FFT and builds the tables.
    pub fn new() -> Self {
        let fft = RealFftPlanner::<f32>::new().plan_fft_forward(FFT_LEN);
        let window = (0..WINDOW)
            .map(|n| {
                0.54 - 0.46 * (2.0 * std::f32::consts::PI * n as f32 / (WINDOW - 1) as f32).cos()
            })
            .collect();
        let bin_hz = SAMPLE_RATE as f32 / FFT_LEN as f32;
        let (low, high) = (hz_to_mel(MEL_LOW_HZ), hz_to_mel(MEL_HIGH_HZ));
        let edges: Vec<f32> = (0..MEL_BANDS + 2)
            .map(|i| mel_to_hz(low + (high - low) * i as f32 / (MEL_BANDS + 1) as f32))
            .collect();
        let filters = (0..MEL_BANDS)
            .map(|m| {
                let (left, centre, right) = (edges[m], edges[m + 1], edges[m + 2]);
                let first = (left / bin_hz).ceil() as usize;
                let last = ((right / bin_hz).floor() as usize).min(FFT_LEN / 2);
                let weights = (first..=last)
                    .map(|bin| {
                        let hz = bin as f32 * bin_hz;
                        if hz <= centre {
                            ((hz - left) / (centre - left)).max(0.0)
                        } else {
                            ((right - hz) / (right - centre)).max(0.0)
                        }
                    })
                    .collect();
                (first, weights)
            })
            .collect();
        let dct = (0..CEPSTRA)
            .map(|k| {
                let scale = if k == 0 {
                    (1.0 / MEL_BANDS as f32).sqrt()
                } else {
                    (2.0 / MEL_BANDS as f32).sqrt()
                };
                let mut row = [0.0; MEL_BANDS];
                for (m, value) in row.iter_mut().enumerate() {
                    *value = scale
                        * (std::f32::consts::PI * k as f32 * (m as f32 + 0.5) / MEL_BANDS as f32)
                            .cos();
                }
                row
            })
            .collect();
        Self {
            fft,
            window,
            filters,
            dct,
        }
    }

    /// Features of `samples` (at [`SAMPLE_RATE`]); not yet normalised (see [`normalise`]).
    pub fn extract(&self, samples: &[f32]) -> Features {
        self.cepstra(&self.spectra(samples))
    }

    /// The mel filterbank energies and frame energies of `samples` (at [`SAMPLE_RATE`]): the
    /// linear-power stage before [`FeatureExtractor::cepstra`], where noise adds.
    pub fn spectra(&self, samples: &[f32]) -> Spectra {
        let count = frame_count(samples.len());
        let mut input = self.fft.make_input_vec();
        let mut spectrum = self.fft.make_output_vec();
        let mut bands = Vec::with_capacity(count);
        let mut power = Vec::with_capacity(count);
        for t in 0..count {
            let start = t * HOP;
            let end = (start + WINDOW).min(samples.len());
            let frame = &samples[start..end];
            power.push(frame.iter().map(|s| s * s).sum::<f32>() / WINDOW as f32);
            input.iter_mut().for_each(|x| *x = 0.0);
            let mut previous = if start > 0 { samples[start - 1] } else { 0.0 };
            for (n, &s) in frame.iter().enumerate() {
                input[n] = (s - PRE_EMPHASIS * previous) * self.window[n];
                previous = s;
            }
            // Lengths come from the same plan, so the transform cannot fail.
            if self.fft.process(&mut input, &mut spectrum).is_err() {
                spectrum
                    .iter_mut()
                    .for_each(|c| *c = realfft::num_complex::Complex::default());
            }
            let mut row = [0.0_f32; MEL_BANDS];
            for (band, (first, weights)) in row.iter_mut().zip(&self.filters) {
                *band = weights
                    .iter()
                    .zip(&spectrum[*first..])
                    .map(|(w, c)| w * c.norm_sqr())
                    .sum();
            }
            bands.push(row);
        }
        Spectra { bands, power }
    }

    /// Cepstra and deltas of `spectra`, with the log floor of the module invariants.
    pub fn cepstra(&self, spectra: &Spectra) -> Features {
        let energy_db: Vec<f32> = spectra.power.iter().map(|&p| power_db(p)).collect();
        let active = active_frames(&energy_db);
        let mean_band = mean_band_energy(&spectra.bands, &active);
        let floor = (mean_band * 10_f32.powf(-SPECTRAL_FLOOR_DB / 10.0)).max(1e-20);
        let cepstra: Vec<[f32; CEPSTRA]> = spectra
            .bands
            .iter()
            .map(|bands| {
                let logs = bands.map(|b| (b + floor).ln());
                let mut c = [0.0; CEPSTRA];
                for (value, basis) in c.iter_mut().zip(&self.dct) {
                    *value = basis.iter().zip(&logs).map(|(b, l)| b * l).sum();
                }
                c
            })
            .collect();
        let frames = (0..cepstra.len())
            .map(|t| {
                let mut row = [0.0; DIMS];
                row[..CEPSTRA].copy_from_slice(&cepstra[t]);
                let delta = delta_at(&cepstra, t);
                row[CEPSTRA..].copy_from_slice(&delta);
                row
            })
            .collect();
        Features { frames, energy_db }
    }
}

/// The linear-power analysis of a stretch of audio, one row per frame.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Spectra {
    /// Mel filterbank energies of each frame (power, not dB).
    pub bands: Vec<[f32; MEL_BANDS]>,
    /// Mean square of each frame's samples.
    pub power: Vec<f32>,
}

impl Spectra {
    /// What these spectra would look like scaled by `gain` (a power ratio) with stationary
    /// `noise` added: powers of uncorrelated signals add, so this is how a recording made in
    /// that noise would analyse (to within the noise's own fluctuation).
    pub fn with_noise(&self, gain: f32, noise: &Background) -> Spectra {
        Spectra {
            bands: self
                .bands
                .iter()
                .map(|row| {
                    let mut out = [0.0; MEL_BANDS];
                    for ((o, b), n) in out.iter_mut().zip(row).zip(&noise.bands) {
                        *o = gain * b + n;
                    }
                    out
                })
                .collect(),
            power: self.power.iter().map(|p| gain * p + noise.power).collect(),
        }
    }

    /// What these spectra would look like in `room`: powers of the direct sound and of its
    /// late reflections add (the reflections are longer than a frame, so the mean normalisation
    /// of the cepstra does not remove them as it does a short echo).
    pub fn in_room(&self, room: Room) -> Spectra {
        if room.reflection <= 0.0 {
            return self.clone();
        }
        let mut late = [0.0_f32; MEL_BANDS];
        let mut late_power = 0.0_f32;
        let mut bands = Vec::with_capacity(self.bands.len());
        let mut power = Vec::with_capacity(self.power.len());
        for t in 0..self.bands.len() {
            let source = t.checked_sub(Room::DELAY_FRAMES);
            for (m, l) in late.iter_mut().enumerate() {
                *l = room.decay * *l + source.map_or(0.0, |s| room.reflection * self.bands[s][m]);
            }
            late_power =
                room.decay * late_power + source.map_or(0.0, |s| room.reflection * self.power[s]);
            let mut row = self.bands[t];
            for (r, l) in row.iter_mut().zip(&late) {
                *r += l;
            }
            bands.push(row);
            power.push(self.power[t] + late_power);
        }
        Spectra { bands, power }
    }

    /// The frames that carry speech (see [`active_frames`]).
    pub fn active(&self) -> Vec<bool> {
        let energy_db: Vec<f32> = self.power.iter().map(|&p| power_db(p)).collect();
        active_frames(&energy_db)
    }

    /// The background of a recording: the mean spectrum of its quietest `share` of frames
    /// (by frame energy), which between words and around an utterance is the room's noise.
    pub fn background(&self, share: f32) -> Background {
        let mut order: Vec<usize> = (0..self.power.len()).collect();
        order.sort_by(|&a, &b| self.power[a].total_cmp(&self.power[b]));
        let take = ((self.power.len() as f32 * share) as usize)
            .max(1)
            .min(order.len());
        let mut background = Background {
            bands: [0.0; MEL_BANDS],
            power: 0.0,
        };
        if order.is_empty() {
            return background;
        }
        for &t in &order[..take] {
            for (b, v) in background.bands.iter_mut().zip(&self.bands[t]) {
                *b += v / take as f32;
            }
            background.power += self.power[t] / take as f32;
        }
        background
    }

    /// Mean band energy over the frames marked `active` (0 when none is).
    pub fn speech_level(&self, active: &[bool]) -> f32 {
        mean_band_energy(&self.bands, active)
    }
}

/// The late reflections of a room as the listener models them: they arrive
/// [`Room::DELAY_FRAMES`] frames after the sound at `reflection` of its power and keep `decay` of
/// their power from one frame to the next (an exponential tail, as a room's reverberation has).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Room {
    /// Power of the first late reflection over that of the direct sound.
    pub reflection: f32,
    /// Power kept from one frame of the tail to the next.
    pub decay: f32,
}

impl Room {
    /// No reflections (a headphone jack, or a microphone at the speaker).
    pub const DRY: Room = Room {
        reflection: 0.0,
        decay: 0.0,
    };
    /// A small lab room or enclosure: reflections 7 dB down after 20 ms, losing 2.2 dB a frame
    /// (60 dB in about 270 ms).
    pub const SMALL: Room = Room {
        reflection: 0.2,
        decay: 0.6,
    };
    /// Frames (10 ms) between a sound and its first late reflection.
    pub const DELAY_FRAMES: usize = 2;
}

/// A stationary background: its mean mel band energies and mean frame power.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Background {
    /// Mean energy per mel band.
    pub bands: [f32; MEL_BANDS],
    /// Mean square of the samples.
    pub power: f32,
}

impl Background {
    /// Mean band energy of the background.
    pub fn level(&self) -> f32 {
        self.bands.iter().sum::<f32>() / MEL_BANDS as f32
    }
}

/// Mean mel band energy over the frames marked `active` (0 when none is).
fn mean_band_energy(bands: &[[f32; MEL_BANDS]], active: &[bool]) -> f32 {
    let (sum, n) = bands.iter().zip(active).filter(|(_, a)| **a).fold(
        (0.0_f64, 0_usize),
        |(sum, n), (row, _)| {
            (
                sum + row.iter().map(|&b| f64::from(b)).sum::<f64>(),
                n + MEL_BANDS,
            )
        },
    );
    if n > 0 { (sum / n as f64) as f32 } else { 0.0 }
}

/// Frames [`FeatureExtractor::extract`] makes from `len` samples (a partial last frame counts).
pub fn frame_count(len: usize) -> usize {
    if len == 0 {
        0
    } else if len <= WINDOW {
        1
    } else {
        1 + (len - WINDOW).div_ceil(HOP)
    }
}

/// A power (mean square) in dBFS, floored at -120 dB.
pub fn power_db(power: f32) -> f32 {
    10.0 * power.max(1e-12).log10()
}

/// Regression deltas over ±2 frames, repeating the edge frames.
fn delta_at(cepstra: &[[f32; CEPSTRA]], t: usize) -> [f32; CEPSTRA] {
    let last = cepstra.len().saturating_sub(1);
    let at = |i: isize| cepstra[(t as isize + i).clamp(0, last as isize) as usize];
    let mut delta = [0.0; CEPSTRA];
    for n in 1..=2_isize {
        let (plus, minus) = (at(n), at(-n));
        for k in 0..CEPSTRA {
            delta[k] += n as f32 * (plus[k] - minus[k]) / 10.0;
        }
    }
    delta
}

/// Which frames carry speech, judged by energy alone: frames within 30 dB of the loudest one and at
/// least 6 dB above the quietest tenth (the background).
pub fn active_frames(energy_db: &[f32]) -> Vec<bool> {
    if energy_db.is_empty() {
        return Vec::new();
    }
    let mut sorted = energy_db.to_vec();
    sorted.sort_by(f32::total_cmp);
    let background = sorted[sorted.len() / 10];
    let peak = sorted[sorted.len() - 1];
    let threshold = (peak - 30.0).max(background + 6.0).min(peak);
    energy_db.iter().map(|&e| e >= threshold).collect()
}

/// Cepstral mean and variance normalisation: per-dimension mean and inverse standard deviation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Normaliser {
    mean: Frame,
    inv_std: Frame,
}

impl Normaliser {
    /// Statistics of `frames` (the identity when there are none).
    pub fn measure<'a>(frames: impl IntoIterator<Item = &'a Frame>) -> Self {
        let mut n = 0.0_f64;
        let mut sum = [0.0_f64; DIMS];
        let mut square = [0.0_f64; DIMS];
        for frame in frames {
            n += 1.0;
            for k in 0..DIMS {
                let v = f64::from(frame[k]);
                sum[k] += v;
                square[k] += v * v;
            }
        }
        if n == 0.0 {
            return Self {
                mean: [0.0; DIMS],
                inv_std: [1.0; DIMS],
            };
        }
        let mean = sum.map(|s| (s / n) as f32);
        let mut inv_std = [1.0; DIMS];
        for k in 0..DIMS {
            let var = (square[k] / n - (sum[k] / n).powi(2)).max(0.0);
            inv_std[k] = 1.0 / (var.sqrt() as f32).max(1e-3);
        }
        Self { mean, inv_std }
    }

    /// Normalises `frames` in place.
    pub fn apply(&self, frames: &mut [Frame]) {
        for frame in frames {
            for ((v, m), s) in frame.iter_mut().zip(&self.mean).zip(&self.inv_std) {
                *v = (*v - m) * s;
            }
        }
    }
}

/// Cepstral mean and variance normalisation in place, with statistics from the frames marked
/// `active` (all frames when none is).
pub fn normalise(frames: &mut [Frame], active: &[bool]) {
    let chosen = frames
        .iter()
        .zip(active)
        .filter(|(_, a)| **a)
        .map(|(f, _)| f);
    let normaliser = if active.iter().any(|a| *a) {
        Normaliser::measure(chosen)
    } else {
        Normaliser::measure(frames.iter())
    };
    normaliser.apply(frames);
}

/// Distance between two normalised frames (Euclidean, deltas weighted by 0.7).
pub fn distance(a: &Frame, b: &Frame) -> f32 {
    let mut sum = 0.0;
    for k in 0..CEPSTRA {
        let d = a[k] - b[k];
        sum += d * d;
    }
    let mut delta_sum = 0.0;
    for k in CEPSTRA..DIMS {
        let d = a[k] - b[k];
        delta_sum += d * d;
    }
    (sum + DELTA_WEIGHT * DELTA_WEIGHT * delta_sum).sqrt()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn tone(hz: f32, seconds: f32, amplitude: f32) -> Vec<f32> {
        (0..(seconds * SAMPLE_RATE as f32) as usize)
            .map(|n| amplitude * (2.0 * std::f32::consts::PI * hz * n as f32 / 16_000.0).sin())
            .collect()
    }

    #[test]
    fn frames_follow_the_window_and_hop() {
        assert_eq!(frame_count(0), 0);
        assert_eq!(frame_count(100), 1);
        assert_eq!(frame_count(400), 1);
        assert_eq!(frame_count(401), 2);
        assert_eq!(frame_count(16_000), 99);
        let f = FeatureExtractor::new().extract(&tone(1000.0, 1.0, 0.5));
        assert_eq!(f.frames.len(), 99);
        assert_eq!(f.energy_db.len(), 99);
    }

    #[test]
    fn energy_is_in_dbfs() {
        // A sine of amplitude 0.5 has mean square 0.125: -9.03 dBFS.
        let f = FeatureExtractor::new().extract(&tone(1000.0, 0.5, 0.5));
        assert!((f.energy_db[10] + 9.03).abs() < 0.2, "{}", f.energy_db[10]);
    }

    #[test]
    fn normalised_cepstra_ignore_gain() {
        let x = FeatureExtractor::new();
        let mut a = x.extract(&tone(700.0, 0.3, 0.5)).frames;
        let mut b = x.extract(&tone(700.0, 0.3, 0.01)).frames;
        let all = vec![true; a.len()];
        normalise(&mut a, &all);
        normalise(&mut b, &all);
        for (fa, fb) in a.iter().zip(&b).skip(3).take(20) {
            assert!(distance(fa, fb) < 0.05, "{}", distance(fa, fb));
        }
    }

    #[test]
    fn different_tones_have_different_cepstra() {
        let x = FeatureExtractor::new();
        let a = x.extract(&[tone(500.0, 0.2, 0.5), tone(2500.0, 0.2, 0.5)].concat());
        let c0 = &a.frames[5];
        let c1 = &a.frames[a.frames.len() - 5];
        assert!(distance(c0, c1) > 1.0);
    }

    #[test]
    fn normalisation_gives_zero_mean_unit_variance_over_active_frames() {
        let mut frames: Vec<Frame> = (0..50).map(|t| [t as f32; DIMS]).collect();
        let active: Vec<bool> = (0..50).map(|t| t < 40).collect();
        normalise(&mut frames, &active);
        let mean: f32 = frames[..40].iter().map(|f| f[3]).sum::<f32>() / 40.0;
        let var: f32 = frames[..40].iter().map(|f| f[3] * f[3]).sum::<f32>() / 40.0;
        assert!(mean.abs() < 1e-4 && (var - 1.0).abs() < 1e-3);
    }

    #[test]
    fn active_frames_skip_the_background() {
        let mut e = vec![-60.0; 30];
        e.extend(vec![-20.0; 10]);
        let a = active_frames(&e);
        assert_eq!(a.iter().filter(|x| **x).count(), 10);
    }

    #[test]
    fn a_room_adds_a_decaying_tail_after_the_delay() {
        // One loud frame among silent ones.
        let mut spectra = Spectra {
            bands: vec![[0.0; MEL_BANDS]; 6],
            power: vec![0.0; 6],
        };
        spectra.bands[0] = [1.0; MEL_BANDS];
        spectra.power[0] = 2.0;
        assert_eq!(spectra.in_room(Room::DRY), spectra);
        let room = Room {
            reflection: 0.5,
            decay: 0.5,
        };
        let wet = spectra.in_room(room);
        let first_band: Vec<f32> = wet.bands.iter().map(|b| b[0]).collect();
        assert_eq!(first_band, vec![1.0, 0.0, 0.5, 0.25, 0.125, 0.0625]);
        assert_eq!(wet.power, vec![2.0, 0.0, 1.0, 0.5, 0.25, 0.125]);
    }
}
