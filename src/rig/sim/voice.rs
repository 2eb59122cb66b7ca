//! The simulated token's voice: spoken digits rendered from a voice pack.
//!
//! Purpose: the MitID audio code reader speaks its code and serial number; the simulator needs
//! that speech as samples, at a chosen speaking rate and loudness, before `room` puts the bench
//! between the token's speaker and the rig's microphone.
//!
//! Inputs: a voice pack folder `<dir>/<lang>/<digit>.wav` (one clip per digit word, any rate;
//! see `fixtures/voices/sim/`), then per utterance the digits, a language, a speed and a gain.
//!
//! Outputs: mono samples in the bank's sample rate, the words one after another with a short
//! pause between them (`WORD_PAUSE_S / speed`) and short fades at every word edge.
//!
//! Invariants: every language in a bank has all ten digits, each resampled to the bank's rate;
//! a speed change alters duration only, never pitch (a WSOLA time-stretch); `render` neither
//! clips nor normalises, so `gain_db` shifts the level by exactly that many decibels.

use std::collections::BTreeMap;
use std::path::Path;

use crate::rig::audio_file::{WavError, read_wav};

/// The pause between two words at speed 1.0, in seconds.
const WORD_PAUSE_S: f64 = 0.150;
/// The fade at each edge of a word, in seconds: long enough to avoid clicks at the joins,
/// short enough to keep the word's onset.
const FADE_S: f64 = 0.005;
/// The time-stretch frame, in seconds (a few pitch periods of a voice).
const FRAME_S: f64 = 0.025;
/// The slowest speed `render` accepts.
pub const MIN_SPEED: f32 = 0.25;
/// The fastest speed `render` accepts.
pub const MAX_SPEED: f32 = 4.0;

/// A voice pack that could not be loaded, or an utterance that could not be rendered.
#[derive(Debug, thiserror::Error)]
pub enum VoiceError {
    /// The voice pack folder (or a language folder in it) could not be listed.
    #[error("{path}: {source}")]
    ReadDir {
        /// The folder.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The voice pack folder holds no language folder.
    #[error("{path}: no language folder in the voice pack")]
    NoLanguage {
        /// The voice pack folder.
        path: String,
    },
    /// A language folder lacks the clip of a digit.
    #[error("{path}: missing voice clip")]
    MissingClip {
        /// The clip that should exist.
        path: String,
    },
    /// A clip holds no samples.
    #[error("{path}: empty voice clip")]
    EmptyClip {
        /// The clip.
        path: String,
    },
    /// A clip could not be read.
    #[error(transparent)]
    Wav(#[from] WavError),
    /// The bank was asked for a sample rate of zero.
    #[error("voice bank sample rate must be above 0 Hz")]
    ZeroSampleRate,
    /// The bank has no voice for the language.
    #[error("no voice for language {language:?} (have {available})")]
    UnknownLanguage {
        /// The language asked for.
        language: String,
        /// The languages the bank has, comma-separated.
        available: String,
    },
    /// The text to speak holds something other than the digits 0-9.
    #[error("cannot speak {character:?} in {text:?}: only digits 0-9")]
    NotADigit {
        /// The offending character.
        character: char,
        /// The whole text.
        text: String,
    },
    /// The speed is not a number in `MIN_SPEED..=MAX_SPEED`.
    #[error("speaking speed {0} is outside {MIN_SPEED}..={MAX_SPEED}")]
    InvalidSpeed(f32),
}

/// One clip per digit word (0-9) for each language, all at one sample rate.
#[derive(Debug, Clone)]
pub struct VoiceBank {
    sample_rate: u32,
    /// Language → the ten digit clips, index = digit.
    voices: BTreeMap<String, Vec<Vec<f32>>>,
}

impl VoiceBank {
    /// Loads `<dir>/<lang>/<digit>.wav` for every language folder in `dir` (folders whose name
    /// starts with `.` are skipped), resampling each clip to `sample_rate`.
    ///
    /// Every language folder must hold all ten digits; a missing clip is an error naming it.
    pub fn load(dir: &Path, sample_rate: u32) -> Result<VoiceBank, VoiceError> {
        if sample_rate == 0 {
            return Err(VoiceError::ZeroSampleRate);
        }
        let read_dir_error = |source| VoiceError::ReadDir {
            path: dir.display().to_string(),
            source,
        };
        let mut languages = Vec::new();
        for entry in std::fs::read_dir(dir).map_err(read_dir_error)? {
            let entry = entry.map_err(read_dir_error)?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') || !entry.path().is_dir() {
                continue;
            }
            languages.push(name);
        }
        if languages.is_empty() {
            return Err(VoiceError::NoLanguage {
                path: dir.display().to_string(),
            });
        }
        languages.sort();
        let mut voices = BTreeMap::new();
        for language in languages {
            let mut clips = Vec::with_capacity(10);
            for digit in 0..10 {
                let path = dir.join(&language).join(format!("{digit}.wav"));
                if !path.is_file() {
                    return Err(VoiceError::MissingClip {
                        path: path.display().to_string(),
                    });
                }
                let clip = read_wav(&path)?;
                if clip.samples.is_empty() || clip.sample_rate == 0 {
                    return Err(VoiceError::EmptyClip {
                        path: path.display().to_string(),
                    });
                }
                clips.push(resample_linear(
                    &clip.samples,
                    clip.sample_rate,
                    sample_rate,
                ));
            }
            voices.insert(language, clips);
        }
        Ok(VoiceBank {
            sample_rate,
            voices,
        })
    }

    /// The languages the bank speaks, sorted.
    pub fn languages(&self) -> Vec<String> {
        self.voices.keys().cloned().collect()
    }

    /// The sample rate of every clip and of `render`'s output.
    pub fn sample_rate(&self) -> u32 {
        self.sample_rate
    }

    /// Speaks `digits` one word after another in `language`.
    ///
    /// `speed` is the speaking rate (1.0 as recorded, 0.7 slower, 1.4 faster; words are
    /// time-stretched without changing pitch and the pauses shrink with it); `gain_db` scales
    /// the level (0 = as recorded). An empty `digits` gives no samples.
    pub fn render(
        &self,
        digits: &str,
        language: &str,
        speed: f32,
        gain_db: f32,
    ) -> Result<Vec<f32>, VoiceError> {
        let clips = self
            .voices
            .get(language)
            .ok_or_else(|| VoiceError::UnknownLanguage {
                language: language.to_owned(),
                available: self.languages().join(", "),
            })?;
        let words = digits
            .chars()
            .map(|c| {
                c.to_digit(10)
                    .filter(|_| c.is_ascii_digit())
                    .map(|d| d as usize)
                    .ok_or_else(|| VoiceError::NotADigit {
                        character: c,
                        text: digits.to_owned(),
                    })
            })
            .collect::<Result<Vec<usize>, _>>()?;
        if !speed.is_finite() || !(MIN_SPEED..=MAX_SPEED).contains(&speed) {
            return Err(VoiceError::InvalidSpeed(speed));
        }
        let rate = f64::from(self.sample_rate);
        let pause = (WORD_PAUSE_S / f64::from(speed) * rate).round() as usize;
        let fade = ((FADE_S * rate).round() as usize).max(1);
        let gain = 10_f32.powf(gain_db / 20.0);
        let mut out = Vec::new();
        for (i, &digit) in words.iter().enumerate() {
            if i > 0 {
                out.resize(out.len() + pause, 0.0);
            }
            let mut word = time_stretch(&clips[digit], speed, self.sample_rate);
            apply_fades(&mut word, fade);
            out.extend(word.iter().map(|s| s * gain));
        }
        Ok(out)
    }
}

/// Linear-interpolation resampling from `from` Hz to `to` Hz (both above zero).
fn resample_linear(samples: &[f32], from: u32, to: u32) -> Vec<f32> {
    if from == to || samples.is_empty() {
        return samples.to_vec();
    }
    let ratio = f64::from(from) / f64::from(to);
    let len = ((samples.len() as f64) / ratio).round().max(1.0) as usize;
    let last = samples.len() - 1;
    (0..len)
        .map(|j| {
            let pos = j as f64 * ratio;
            let i = (pos.floor() as usize).min(last);
            let frac = (pos - i as f64) as f32;
            let next = samples[(i + 1).min(last)];
            samples[i] * (1.0 - frac) + next * frac
        })
        .collect()
}

/// Linear fade-in and fade-out of `fade` samples (shortened for a short word).
fn apply_fades(word: &mut [f32], fade: usize) {
    let fade = fade.min(word.len() / 2);
    let len = word.len();
    for i in 0..fade {
        let g = (i as f32 + 0.5) / fade as f32;
        word[i] *= g;
        word[len - 1 - i] *= g;
    }
}

/// Pitch-preserving time-stretch by WSOLA (waveform-similarity overlap-add).
///
/// Output frames of `FRAME_S` with a Hann window overlap by half; each is read from the input
/// near its nominal position (`speed` times further on), shifted by up to a quarter frame to
/// the spot that best continues the previous frame's waveform, so periods line up and pitch
/// stays. The output lasts `len / speed` samples.
fn time_stretch(input: &[f32], speed: f32, sample_rate: u32) -> Vec<f32> {
    let out_len = (input.len() as f64 / f64::from(speed)).round() as usize;
    if (speed - 1.0).abs() < 1e-4 || input.is_empty() {
        return input.to_vec();
    }
    let half = ((FRAME_S * f64::from(sample_rate) / 2.0).round() as usize).max(2);
    let frame = 2 * half;
    let tolerance = (half / 2) as isize;
    // Periodic Hann: copies shifted by `half` sum to exactly one.
    let window: Vec<f32> = (0..frame)
        .map(|i| 0.5 - 0.5 * (std::f64::consts::TAU * i as f64 / frame as f64).cos() as f32)
        .collect();
    let at = |i: isize| -> f32 {
        if i >= 0 && (i as usize) < input.len() {
            input[i as usize]
        } else {
            0.0
        }
    };
    let analysis_hop = half as f64 * f64::from(speed);
    // Output buffer index `n` is output sample `n - half`: frame k starts at index k * half.
    let mut out = vec![0.0_f32; out_len + frame + half];
    let mut norm = vec![0.0_f32; out.len()];
    let mut previous_start: Option<isize> = None;
    let mut k = 0usize;
    while k * half < out_len + half {
        let nominal = (k as f64 * analysis_hop).round() as isize - half as isize;
        let start = match previous_start {
            None => nominal,
            Some(prev) => {
                let natural = prev + half as isize;
                let mut best_delta = 0isize;
                let mut best = f32::NEG_INFINITY;
                // Try delta 0 first so that silence (all scores equal) keeps the nominal spot.
                for delta in std::iter::once(0).chain(-tolerance..=tolerance) {
                    let candidate = nominal + delta;
                    let score: f32 = (0..frame as isize)
                        .map(|i| at(candidate + i) * at(natural + i))
                        .sum();
                    if score > best {
                        best = score;
                        best_delta = delta;
                    }
                }
                nominal + best_delta
            }
        };
        let base = k * half;
        for i in 0..frame {
            out[base + i] += window[i] * at(start + i as isize);
            norm[base + i] += window[i];
        }
        previous_start = Some(start);
        k += 1;
    }
    out[half..half + out_len]
        .iter()
        .zip(&norm[half..half + out_len])
        .map(|(s, n)| if *n > 1e-3 { s / n } else { *s })
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn pack() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/voices/sim")
    }

    fn rms(x: &[f32]) -> f64 {
        (x.iter().map(|s| f64::from(*s).powi(2)).sum::<f64>() / x.len() as f64).sqrt()
    }

    /// Frequency from rising zero crossings, over the middle of the signal.
    fn zero_crossing_hz(x: &[f32], rate: u32) -> f64 {
        let mid = &x[x.len() / 5..x.len() * 4 / 5];
        let crossings: Vec<usize> = (1..mid.len())
            .filter(|&i| mid[i - 1] < 0.0 && mid[i] >= 0.0)
            .collect();
        let (first, last) = (crossings[0], crossings[crossings.len() - 1]);
        (crossings.len() - 1) as f64 * f64::from(rate) / (last - first) as f64
    }

    #[test]
    fn the_sim_pack_loads_both_languages() {
        let bank = VoiceBank::load(&pack(), 16_000).unwrap();
        assert_eq!(bank.languages(), vec!["da".to_owned(), "en".to_owned()]);
        assert_eq!(bank.sample_rate(), 16_000);
    }

    #[test]
    fn clips_are_resampled_to_the_bank_rate() {
        let at16 = VoiceBank::load(&pack(), 16_000).unwrap();
        let at8 = VoiceBank::load(&pack(), 8_000).unwrap();
        let a = at16.render("7", "en", 1.0, 0.0).unwrap();
        let b = at8.render("7", "en", 1.0, 0.0).unwrap();
        assert!((b.len() as f64 - a.len() as f64 / 2.0).abs() <= 1.0);
    }

    #[test]
    fn duration_scales_with_one_over_speed() {
        let bank = VoiceBank::load(&pack(), 16_000).unwrap();
        let nominal = bank.render("123456", "en", 1.0, 0.0).unwrap().len() as f64;
        let fast = bank.render("123456", "en", 1.4, 0.0).unwrap().len() as f64;
        let slow = bank.render("123456", "da", 0.7, 0.0).unwrap().len() as f64;
        let slow_ref = bank.render("123456", "da", 1.0, 0.0).unwrap().len() as f64;
        assert!(fast <= 0.75 * nominal, "fast {fast} nominal {nominal}");
        assert!((fast / nominal - 1.0 / 1.4).abs() < 0.02);
        assert!((slow / slow_ref - 1.0 / 0.7).abs() < 0.02);
    }

    #[test]
    fn words_are_separated_by_a_short_pause() {
        let bank = VoiceBank::load(&pack(), 16_000).unwrap();
        let one = bank.render("1", "en", 1.0, 0.0).unwrap().len();
        let two = bank.render("1", "en", 1.0, 0.0).unwrap().len() * 2;
        let pair = bank.render("11", "en", 1.0, 0.0).unwrap();
        assert_eq!(pair.len(), two + 2_400);
        assert!(pair[one..one + 2_400].iter().all(|s| *s == 0.0));
        // The fades leave no step at the word edges.
        assert!(pair[0].abs() < 0.01 && pair[one - 1].abs() < 0.01);
    }

    #[test]
    fn gain_shifts_the_level_by_the_decibels_given() {
        let bank = VoiceBank::load(&pack(), 16_000).unwrap();
        let base = rms(&bank.render("4711", "en", 1.0, 0.0).unwrap());
        for gain_db in [-12.0_f32, -3.0, 6.0] {
            let level = rms(&bank.render("4711", "en", 1.0, gain_db).unwrap());
            let shift = 20.0 * (level / base).log10();
            assert!(
                (shift - f64::from(gain_db)).abs() < 0.5,
                "{gain_db}: {shift}"
            );
        }
    }

    #[test]
    fn the_stretch_keeps_the_pitch_of_a_tone() {
        let rate = 16_000;
        let tone: Vec<f32> = (0..rate)
            .map(|i| (std::f64::consts::TAU * 200.0 * f64::from(i) / f64::from(rate)).sin() as f32)
            .collect();
        for speed in [0.7_f32, 1.4, 0.5, 2.0] {
            let stretched = time_stretch(&tone, speed, rate);
            let expected_len = f64::from(rate) / f64::from(speed);
            assert!((stretched.len() as f64 - expected_len).abs() <= 1.0);
            let hz = zero_crossing_hz(&stretched, rate);
            assert!((hz - 200.0).abs() < 10.0, "speed {speed}: {hz} Hz");
            // WSOLA keeps the waveform whole: no deep dips at the frame joins.
            let level = rms(&stretched[stretched.len() / 5..stretched.len() * 4 / 5]);
            assert!(
                (level - 0.5_f64.sqrt()).abs() < 0.05,
                "speed {speed}: rms {level}"
            );
        }
    }

    #[test]
    fn unknown_language_non_digit_and_bad_speed_are_errors() {
        let bank = VoiceBank::load(&pack(), 16_000).unwrap();
        let err = bank.render("12", "fr", 1.0, 0.0).unwrap_err();
        assert!(matches!(err, VoiceError::UnknownLanguage { .. }), "{err}");
        assert!(err.to_string().contains("da, en"));
        let err = bank.render("12a4", "en", 1.0, 0.0).unwrap_err();
        assert!(matches!(err, VoiceError::NotADigit { character: 'a', .. }));
        let err = bank.render("1٣", "en", 1.0, 0.0).unwrap_err();
        assert!(matches!(err, VoiceError::NotADigit { .. }));
        for speed in [0.0, -1.0, f32::NAN, 10.0] {
            assert!(matches!(
                bank.render("1", "en", speed, 0.0),
                Err(VoiceError::InvalidSpeed(_))
            ));
        }
        assert!(bank.render("", "en", 1.0, 0.0).unwrap().is_empty());
    }

    #[test]
    fn a_missing_clip_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let lang = dir.path().join("en");
        std::fs::create_dir(&lang).unwrap();
        for digit in 0..10 {
            if digit != 3 {
                std::fs::copy(
                    pack().join(format!("en/{digit}.wav")),
                    lang.join(format!("{digit}.wav")),
                )
                .unwrap();
            }
        }
        let err = VoiceBank::load(dir.path(), 16_000).unwrap_err();
        assert!(matches!(err, VoiceError::MissingClip { .. }));
        assert!(
            err.to_string().ends_with("en/3.wav: missing voice clip"),
            "{err}"
        );
        let empty = tempfile::tempdir().unwrap();
        assert!(matches!(
            VoiceBank::load(empty.path(), 16_000),
            Err(VoiceError::NoLanguage { .. })
        ));
    }
}
