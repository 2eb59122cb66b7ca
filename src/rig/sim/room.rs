//! What a bench does to sound between the token's speaker and the rig's microphone.
//!
//! Purpose: the simulated microphone must not hand the listener clean voice-pack clips; `Room`
//! turns the token's speech into what a microphone on a bench would pick up.
//!
//! Inputs: the token's speech as mono samples at `RoomConfig::sample_rate`, block by block (any
//! block sizes, e.g. 20 ms), or silence while the token is quiet.
//!
//! Outputs: one microphone sample per input sample, in [-1, 1]. The chain, in order:
//! 1. the small speaker's band limit: RBJ-cookbook 2nd-order high-pass at `speaker_low_hz` and
//!    low-pass at `speaker_high_hz` (Butterworth Q);
//! 2. room echo: five early reflections between 7 and 39 ms plus a damped feedback tail from two
//!    comb filters, mixed in at `echo`;
//! 3. background noise at `noise_dbfs` RMS: seeded Gaussian noise tinted towards pink/brown by a
//!    leaky-integrated part, plus a little 50 Hz mains hum with its 150 Hz harmonic;
//! 4. a soft clip: linear up to ±0.8, then smoothly bounded by ±1.
//!
//! Invariants: `process` is stateful and per-sample, so the output does not depend on how the
//! input is cut into blocks (bit-identical); the same config and seed give the same output.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;

/// How the bench colours sound.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RoomConfig {
    /// Samples per second of the speech in and the microphone out.
    pub sample_rate: u32,
    /// Background noise (hum included) as RMS in dBFS; `f32::NEG_INFINITY` for none.
    pub noise_dbfs: f32,
    /// How much echo the room adds, 0 (none) to 1 (a lively room); clamped to that range.
    pub echo: f32,
    /// The speaker's lower band edge (high-pass corner), in Hz.
    pub speaker_low_hz: f32,
    /// The speaker's upper band edge (low-pass corner), in Hz.
    pub speaker_high_hz: f32,
}

impl Default for RoomConfig {
    /// 16 kHz, −55 dBFS of background noise, echo 0.3, a 300–3800 Hz speaker.
    fn default() -> Self {
        RoomConfig {
            sample_rate: 16_000,
            noise_dbfs: -55.0,
            echo: 0.3,
            speaker_low_hz: 300.0,
            speaker_high_hz: 3_800.0,
        }
    }
}

/// Early reflections: delay in milliseconds and gain.
const REFLECTIONS: [(f64, f64); 5] = [
    (7.1, 0.55),
    (11.9, 0.42),
    (17.3, 0.33),
    (26.2, 0.25),
    (38.7, 0.18),
];
/// The tail's comb filters: delay in milliseconds. Their feedback decays about 6 dB a round.
const COMBS_MS: [f64; 2] = [29.7, 37.1];
/// Feedback of the tail combs.
const COMB_FEEDBACK: f64 = 0.5;
/// High-frequency damping inside the tail combs (one-pole low-pass coefficient).
const COMB_DAMP: f64 = 0.3;
/// Where the soft clip starts to bend.
const CLIP_KNEE: f64 = 0.8;
/// Mains hum share of the background noise power.
const HUM_POWER_SHARE: f64 = 0.1;
/// Pole of the leaky integrator that tints the noise.
const BROWN_POLE: f64 = 0.97;
/// Share of the broadband noise power carried by the tinted (brown) part.
const BROWN_POWER_SHARE: f64 = 0.5;

/// A 2nd-order IIR section in transposed direct form II.
#[derive(Debug, Clone)]
struct Biquad {
    b: [f64; 3],
    a: [f64; 2],
    z: [f64; 2],
}

impl Biquad {
    /// RBJ cookbook high-pass (`high_pass`) or low-pass at `hz` with quality `q`.
    fn rbj(high_pass: bool, hz: f64, q: f64, sample_rate: f64) -> Self {
        let w0 = std::f64::consts::TAU * hz / sample_rate;
        let (sin, cos) = w0.sin_cos();
        let alpha = sin / (2.0 * q);
        let a0 = 1.0 + alpha;
        let (b0, b1) = if high_pass {
            ((1.0 + cos) / 2.0, -(1.0 + cos))
        } else {
            ((1.0 - cos) / 2.0, 1.0 - cos)
        };
        Biquad {
            b: [b0 / a0, b1 / a0, b0 / a0],
            a: [-2.0 * cos / a0, (1.0 - alpha) / a0],
            z: [0.0; 2],
        }
    }

    fn step(&mut self, x: f64) -> f64 {
        let y = self.b[0] * x + self.z[0];
        self.z[0] = self.b[1] * x - self.a[0] * y + self.z[1];
        self.z[1] = self.b[2] * x - self.a[1] * y;
        y
    }
}

/// A damped feedback comb filter (Schroeder/Freeverb style).
#[derive(Debug, Clone)]
struct Comb {
    buffer: Vec<f64>,
    index: usize,
    filtered: f64,
}

impl Comb {
    fn new(delay: usize) -> Self {
        Comb {
            buffer: vec![0.0; delay.max(1)],
            index: 0,
            filtered: 0.0,
        }
    }

    fn step(&mut self, x: f64) -> f64 {
        let y = self.buffer[self.index];
        self.filtered = y * (1.0 - COMB_DAMP) + self.filtered * COMB_DAMP;
        self.buffer[self.index] = x + self.filtered * COMB_FEEDBACK;
        self.index += 1;
        if self.index == self.buffer.len() {
            self.index = 0;
        }
        y
    }
}

/// The acoustic path from the token's speaker to the rig's microphone, with its state.
#[derive(Debug, Clone)]
pub struct Room {
    config: RoomConfig,
    high_pass: Biquad,
    low_pass: Biquad,
    /// Ring buffer of band-limited speech for the reflections; its length is a power of two.
    history: Vec<f64>,
    /// Where the next sample goes in `history`.
    write: usize,
    /// Reflection delays in samples and their gains.
    taps: Vec<(usize, f64)>,
    combs: Vec<Comb>,
    echo: f64,
    rng: ChaCha8Rng,
    /// State of the leaky integrator tinting the noise.
    brown: f64,
    /// Scales of the white and the tinted noise parts.
    white_scale: f64,
    brown_scale: f64,
    /// Amplitudes of the 50 Hz hum and its 150 Hz harmonic.
    hum_amplitude: [f64; 2],
    /// Hum phase in cycles of 50 Hz, in [0, 1).
    hum_phase: f64,
    hum_step: f64,
}

impl Room {
    /// A quiet room with `config`, its noise seeded by `seed`.
    ///
    /// Out-of-range settings are clamped: band edges into (0, 0.45 × sample rate), `echo` into
    /// [0, 1]; a sample rate of 0 is taken as 16 kHz.
    pub fn new(config: RoomConfig, seed: u64) -> Self {
        let rate = if config.sample_rate == 0 {
            16_000.0
        } else {
            f64::from(config.sample_rate)
        };
        let edge = |hz: f32| {
            if hz.is_finite() {
                f64::from(hz).clamp(1.0, 0.45 * rate)
            } else {
                0.45 * rate
            }
        };
        let q = std::f64::consts::FRAC_1_SQRT_2;
        let ms = |ms: f64| ((ms / 1000.0 * rate).round() as usize).max(1);
        let taps: Vec<(usize, f64)> = REFLECTIONS.iter().map(|&(d, g)| (ms(d), g)).collect();
        let longest = taps.iter().map(|t| t.0).max().unwrap_or(1);
        let history = vec![0.0; (longest + 1).next_power_of_two()];
        let echo = if config.echo.is_finite() {
            f64::from(config.echo).clamp(0.0, 1.0)
        } else {
            0.0
        };
        // Noise power split: hum gets HUM_POWER_SHARE, the rest is broadband, of which the
        // tinted part gets BROWN_POWER_SHARE. The brown part is a unit-variance AR(1) process
        // (innovation scaled by sqrt(1 - p²)), independent of the white part.
        let total = if config.noise_dbfs.is_finite() {
            10_f64.powf(f64::from(config.noise_dbfs) / 20.0)
        } else {
            0.0
        };
        let broadband = total * (1.0 - HUM_POWER_SHARE).sqrt();
        let hum_rms = total * HUM_POWER_SHARE.sqrt();
        // Hum: fundamental and third harmonic at 4:1 power; a sine's peak is sqrt(2) × RMS.
        let hum_amplitude = [
            hum_rms * (0.8_f64).sqrt() * std::f64::consts::SQRT_2,
            hum_rms * (0.2_f64).sqrt() * std::f64::consts::SQRT_2,
        ];
        Room {
            config,
            high_pass: Biquad::rbj(true, edge(config.speaker_low_hz), q, rate),
            low_pass: Biquad::rbj(false, edge(config.speaker_high_hz), q, rate),
            history,
            write: 0,
            taps,
            combs: COMBS_MS.iter().map(|&d| Comb::new(ms(d))).collect(),
            echo,
            rng: ChaCha8Rng::seed_from_u64(seed),
            brown: 0.0,
            white_scale: broadband * (1.0 - BROWN_POWER_SHARE).sqrt(),
            brown_scale: broadband * BROWN_POWER_SHARE.sqrt(),
            hum_amplitude,
            hum_phase: 0.0,
            hum_step: 50.0 / rate,
        }
    }

    /// The configuration the room was built with.
    pub fn config(&self) -> &RoomConfig {
        &self.config
    }

    /// What the microphone hears while the token's speaker plays `speech` (silence: zeros).
    ///
    /// Continues from the previous call: cutting a signal into blocks does not change the
    /// output. Returns one sample per input sample, in [-1, 1].
    pub fn process(&mut self, speech: &[f32]) -> Vec<f32> {
        let mask = self.history.len() - 1;
        let innovation = (1.0 - BROWN_POLE * BROWN_POLE).sqrt();
        speech
            .iter()
            .map(|&x| {
                let x = if x.is_finite() { f64::from(x) } else { 0.0 };
                let dry = self.low_pass.step(self.high_pass.step(x));
                self.history[self.write] = dry;
                let early: f64 = self
                    .taps
                    .iter()
                    .map(|&(delay, gain)| {
                        gain * self.history[(self.write + mask + 1 - delay) & mask]
                    })
                    .sum();
                self.write = (self.write + 1) & mask;
                let tail: f64 = self.combs.iter_mut().map(|c| c.step(early)).sum::<f64>() * 0.5;
                let wet = dry + self.echo * (early + tail);

                let white: f64 = self.rng.sample(StandardNormal);
                let drive: f64 = self.rng.sample(StandardNormal);
                self.brown = BROWN_POLE * self.brown + innovation * drive;
                let phase = std::f64::consts::TAU * self.hum_phase;
                let hum = self.hum_amplitude[0] * phase.sin()
                    + self.hum_amplitude[1] * (3.0 * phase).sin();
                self.hum_phase += self.hum_step;
                if self.hum_phase >= 1.0 {
                    self.hum_phase -= 1.0;
                }
                let noisy = wet + self.white_scale * white + self.brown_scale * self.brown + hum;
                soft_clip(noisy) as f32
            })
            .collect()
    }
}

/// Linear up to `CLIP_KNEE`, then a tanh knee that approaches ±1 with a continuous slope.
fn soft_clip(x: f64) -> f64 {
    let magnitude = x.abs();
    if magnitude <= CLIP_KNEE {
        x
    } else {
        let room = 1.0 - CLIP_KNEE;
        (CLIP_KNEE + room * ((magnitude - CLIP_KNEE) / room).tanh()).copysign(x)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn rms(x: &[f32]) -> f64 {
        (x.iter().map(|s| f64::from(*s).powi(2)).sum::<f64>() / x.len() as f64).sqrt()
    }

    fn db(x: f64) -> f64 {
        20.0 * x.log10()
    }

    fn tone(hz: f64, seconds: f64, amplitude: f64) -> Vec<f32> {
        let n = (seconds * 16_000.0) as usize;
        (0..n)
            .map(|i| (amplitude * (std::f64::consts::TAU * hz * i as f64 / 16_000.0).sin()) as f32)
            .collect()
    }

    /// Speech-like test input: a few tones with a syllable-rate envelope.
    fn speechy(seconds: f64) -> Vec<f32> {
        let n = (seconds * 16_000.0) as usize;
        (0..n)
            .map(|i| {
                let t = i as f64 / 16_000.0;
                let envelope = (std::f64::consts::TAU * 4.0 * t).sin().max(0.0);
                let voice: f64 = [(180.0, 0.5), (720.0, 0.3), (2_300.0, 0.15), (5_000.0, 0.1)]
                    .iter()
                    .map(|&(hz, a)| a * (std::f64::consts::TAU * hz * t).sin())
                    .sum();
                (0.7 * envelope * voice) as f32
            })
            .collect()
    }

    #[test]
    fn block_size_does_not_change_the_output() {
        let input = speechy(2.0);
        let whole = Room::new(RoomConfig::default(), 7).process(&input);
        for block in [320, 1, 97, 4_000] {
            let mut room = Room::new(RoomConfig::default(), 7);
            let pieces: Vec<f32> = input.chunks(block).flat_map(|c| room.process(c)).collect();
            assert_eq!(pieces, whole, "block {block}");
        }
    }

    #[test]
    fn the_speaker_passes_1_khz_and_cuts_100_hz_and_6_khz() {
        let quiet = RoomConfig {
            noise_dbfs: f32::NEG_INFINITY,
            echo: 0.0,
            ..RoomConfig::default()
        };
        let gain_db = |config: RoomConfig, hz: f64| {
            let input = tone(hz, 1.0, 0.5);
            let out = Room::new(config, 1).process(&input);
            // Skip the filters' settling.
            db(rms(&out[4_000..]) / rms(&input[4_000..]))
        };
        let pass = gain_db(quiet, 1_000.0);
        let low = gain_db(quiet, 100.0);
        let high = gain_db(quiet, 6_000.0);
        println!("speaker: 1 kHz {pass:.1} dB, 100 Hz {low:.1} dB, 6 kHz {high:.1} dB");
        assert!(pass.abs() < 1.0, "1 kHz {pass:.1} dB");
        assert!(low < -6.0, "100 Hz {low:.1} dB");
        assert!(high < -6.0, "6 kHz {high:.1} dB");
        // With the default echo and noise the band still shows.
        let room = RoomConfig::default();
        let pass = gain_db(room, 1_000.0);
        println!(
            "room: 1 kHz {pass:.1} dB, 100 Hz {:.1} dB, 6 kHz {:.1} dB",
            gain_db(room, 100.0),
            gain_db(room, 6_000.0)
        );
        assert!(pass.abs() < 3.0, "1 kHz with echo {pass:.1} dB");
        assert!(gain_db(room, 100.0) < pass - 6.0);
        assert!(gain_db(room, 6_000.0) < pass - 6.0);
    }

    #[test]
    fn silence_gives_noise_at_the_configured_level() {
        for noise_dbfs in [-55.0_f32, -40.0, -70.0] {
            let config = RoomConfig {
                noise_dbfs,
                ..RoomConfig::default()
            };
            let out = Room::new(config, 3).process(&vec![0.0; 16_000 * 10]);
            let level = db(rms(&out));
            println!("noise: configured {noise_dbfs} dBFS, measured {level:.2} dBFS");
            assert!(
                (level - f64::from(noise_dbfs)).abs() < 2.0,
                "{noise_dbfs}: {level:.1}"
            );
        }
        let silent = RoomConfig {
            noise_dbfs: f32::NEG_INFINITY,
            ..RoomConfig::default()
        };
        let out = Room::new(silent, 3).process(&[0.0; 1_000]);
        assert!(out.iter().all(|s| *s == 0.0));
    }

    #[test]
    fn the_seed_decides_the_noise() {
        let input = speechy(0.5);
        let a = Room::new(RoomConfig::default(), 11).process(&input);
        let b = Room::new(RoomConfig::default(), 11).process(&input);
        let c = Room::new(RoomConfig::default(), 12).process(&input);
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn the_soft_clip_bounds_loud_input() {
        let out = Room::new(RoomConfig::default(), 5).process(&tone(1_000.0, 0.5, 4.0));
        assert!(out.iter().all(|s| s.abs() <= 1.0));
        assert!(out.iter().any(|s| s.abs() > 0.9));
        assert_eq!(soft_clip(0.5), 0.5);
        assert!((soft_clip(-50.0) + 1.0).abs() < 1e-9);
    }

    #[test]
    fn the_echo_adds_a_decaying_tail() {
        let config = RoomConfig {
            noise_dbfs: f32::NEG_INFINITY,
            ..RoomConfig::default()
        };
        let mut click = vec![0.0_f32; 16_000];
        click[0] = 0.5;
        let out = Room::new(config, 1).process(&click);
        let energy = |from: usize, to: usize| rms(&out[from..to]);
        // 40-100 ms holds reflections and tail; 300-400 ms much less.
        assert!(energy(640, 1_600) > 1e-4);
        assert!(energy(4_800, 6_400) < energy(640, 1_600) / 10.0);
        let dry = Room::new(
            RoomConfig {
                echo: 0.0,
                ..config
            },
            1,
        )
        .process(&click);
        assert!(rms(&dry[640..1_600]) < energy(640, 1_600) / 10.0);
    }

    #[test]
    fn processing_is_much_faster_than_real_time() {
        let seconds = 60.0;
        let input = speechy(seconds);
        let mut room = Room::new(RoomConfig::default(), 9);
        let start = std::time::Instant::now();
        let mut total = 0usize;
        for block in input.chunks(320) {
            total += room.process(block).len();
        }
        let elapsed = start.elapsed().as_secs_f64();
        let factor = seconds / elapsed;
        assert_eq!(total, input.len());
        println!("room: {seconds} s of 16 kHz audio in {elapsed:.3} s = {factor:.0}x real time");
        if !cfg!(debug_assertions) {
            assert!(factor >= 200.0, "only {factor:.0}x real time");
        }
    }
}
