//! Speech level: how loud an utterance is, two ways.
//!
//! Inputs: one utterance's samples at [`SAMPLE_RATE`] (the segmenter's, with a little padding).
//! Outputs: a [`SpeechLevel`]: the RMS of its speech frames in dBFS (what the volume steps of a
//! token change, told apart from the pauses and the background), and its EBU R128 integrated
//! loudness in LUFS (ITU-R BS.1770 K-weighting and gating, through the `ebur128` crate: the
//! figure a lab's audio analyser reports).
//!
//! Invariants:
//! - Silence, or an utterance too short for one 400 ms gating block, has no loudness (`None`),
//!   never a made-up figure; its RMS level is [`SILENCE_DBFS`].

use ebur128::{EbuR128, Mode};

use super::features::{HOP, SAMPLE_RATE, WINDOW, active_frames, frame_count, power_db};

/// The RMS level reported for silence.
pub const SILENCE_DBFS: f32 = -120.0;

/// How loud an utterance is.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct SpeechLevel {
    /// RMS over the active 25 ms frames (within 30 dB of the loudest and 6 dB above the
    /// background), where a full-scale square wave is 0 dBFS and a full-scale sine -3 dBFS.
    pub rms_dbfs: f32,
    /// EBU R128 integrated loudness, LUFS (a full-scale 1 kHz sine is -3 LUFS).
    pub loudness_lufs: Option<f32>,
}

/// Measures `samples` (at [`SAMPLE_RATE`]).
pub fn speech_level(samples: &[f32]) -> SpeechLevel {
    SpeechLevel {
        rms_dbfs: rms_dbfs(samples),
        loudness_lufs: loudness_lufs(samples),
    }
}

fn rms_dbfs(samples: &[f32]) -> f32 {
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
        return SILENCE_DBFS;
    }
    power_db((sum / n as f64) as f32)
}

fn loudness_lufs(samples: &[f32]) -> Option<f32> {
    let mut meter = EbuR128::new(1, SAMPLE_RATE, Mode::I).ok()?;
    meter.add_frames_f32(samples).ok()?;
    let lufs = meter.loudness_global().ok()?;
    lufs.is_finite().then_some(lufs as f32)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn tone(amplitude: f32, seconds: f32) -> Vec<f32> {
        let n = (seconds * SAMPLE_RATE as f32) as usize;
        (0..n)
            .map(|i| {
                amplitude * (std::f32::consts::TAU * 1000.0 * i as f32 / SAMPLE_RATE as f32).sin()
            })
            .collect()
    }

    #[test]
    fn the_rms_level_is_that_of_the_speech_not_the_pauses() {
        let mut x = vec![0.0; 8000];
        x.extend(tone(0.5, 1.0));
        x.extend(vec![0.0; 8000]);
        let level = speech_level(&x);
        assert!((level.rms_dbfs + 9.03).abs() < 0.3, "{level:?}");
    }

    #[test]
    fn loudness_follows_bs_1770_and_drops_with_the_level() {
        // A 1 kHz sine at -6 dBFS peak: -9.0 LUFS (K-weighting is about 0 dB at 1 kHz).
        let loud = speech_level(&tone(0.5, 2.0))
            .loudness_lufs
            .expect("loudness");
        assert!((loud + 9.03).abs() < 0.2, "{loud}");
        let quiet = speech_level(&tone(0.05, 2.0))
            .loudness_lufs
            .expect("loudness");
        assert!((loud - quiet - 20.0).abs() < 0.1, "{loud} against {quiet}");
    }

    #[test]
    fn silence_and_short_bursts_have_no_loudness() {
        let silence = speech_level(&vec![0.0; 16_000]);
        assert_eq!(silence.rms_dbfs, SILENCE_DBFS);
        assert_eq!(silence.loudness_lufs, None);
        assert_eq!(speech_level(&tone(0.5, 0.2)).loudness_lufs, None);
        assert_eq!(speech_level(&[]).rms_dbfs, SILENCE_DBFS);
    }
}
