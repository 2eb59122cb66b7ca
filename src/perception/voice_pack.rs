//! Voice pack: the spoken digits a listener compares what it hears against.
//!
//! Inputs: a directory holding one folder per language (`en`, `da`, …), each with the ten clips
//! `0.wav` … `9.wav` (mono or mixed down, any rate, trimmed to the word).
//! Outputs: a [`VoicePack`] of clips at the listener's rate ([`SAMPLE_RATE`], 16 kHz), resampled
//! linearly when a clip has another rate.
//!
//! Invariants: every language in a pack has all ten digits and no clip is empty; a missing or
//! unreadable clip is an error naming the file; languages are kept in name order.

use std::collections::BTreeMap;
use std::path::Path;

use crate::rig::audio_file::{WavError, read_wav};

use super::capture::to_listener_rate;
use super::features::SAMPLE_RATE;

/// Why a voice pack or a recording could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ListenError {
    /// The pack directory could not be listed.
    #[error("voice pack {path}: {message}")]
    PackDir {
        /// The directory.
        path: String,
        /// Why.
        message: String,
    },
    /// The pack has no language folder.
    #[error("voice pack {path}: no language folder (expected <lang>/0.wav … 9.wav)")]
    NoLanguage {
        /// The directory.
        path: String,
    },
    /// A language folder lacks a digit.
    #[error("voice pack clip {path} is missing")]
    MissingClip {
        /// The file that should be there.
        path: String,
    },
    /// A clip holds no samples.
    #[error("voice pack clip {path} is empty")]
    EmptyClip {
        /// The file.
        path: String,
    },
    /// Audio that cannot be brought to the listener's rate.
    #[error("{message}")]
    Audio {
        /// What went wrong, naming the file where there is one.
        message: String,
    },
    /// A WAV file could not be read (the message names it).
    #[error(transparent)]
    Wav(#[from] WavError),
}

/// The ten digit clips of each language, at [`SAMPLE_RATE`].
#[derive(Debug, Clone, PartialEq)]
pub struct VoicePack {
    clips: BTreeMap<String, Vec<Vec<f32>>>,
}

impl VoicePack {
    /// Loads every language folder of `dir`; each must hold `0.wav` … `9.wav`.
    pub fn load(dir: &Path) -> Result<VoicePack, ListenError> {
        let dir_error = |e: std::io::Error| ListenError::PackDir {
            path: dir.display().to_string(),
            message: e.to_string(),
        };
        let mut clips = BTreeMap::new();
        for entry in std::fs::read_dir(dir).map_err(dir_error)? {
            let entry = entry.map_err(dir_error)?;
            if !entry.file_type().map_err(dir_error)?.is_dir() {
                continue;
            }
            let language = entry.file_name().to_string_lossy().into_owned();
            let mut digits = Vec::with_capacity(10);
            for digit in 0..10 {
                let path = entry.path().join(format!("{digit}.wav"));
                if !path.is_file() {
                    return Err(ListenError::MissingClip {
                        path: path.display().to_string(),
                    });
                }
                let clip = read_wav(&path)?;
                if clip.samples.is_empty() {
                    return Err(ListenError::EmptyClip {
                        path: path.display().to_string(),
                    });
                }
                let samples = to_listener_rate(&clip.samples, clip.sample_rate).map_err(|e| {
                    ListenError::Audio {
                        message: format!("voice pack clip {}: {e}", path.display()),
                    }
                })?;
                digits.push(samples.into_owned());
            }
            clips.insert(language, digits);
        }
        if clips.is_empty() {
            return Err(ListenError::NoLanguage {
                path: dir.display().to_string(),
            });
        }
        Ok(VoicePack { clips })
    }

    /// The languages of the pack, in name order.
    pub fn languages(&self) -> Vec<String> {
        self.clips.keys().cloned().collect()
    }

    /// The clip of `digit` (0–9) in `language`, at [`SAMPLE_RATE`].
    pub fn clip(&self, language: &str, digit: usize) -> Option<&[f32]> {
        self.clips
            .get(language)
            .and_then(|d| d.get(digit))
            .map(Vec::as_slice)
    }

    /// The rate of every clip (samples per second).
    pub fn sample_rate(&self) -> u32 {
        SAMPLE_RATE
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::rig::audio_file::{Clip, write_wav};

    fn sim_dir() -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/voices/sim")
    }

    #[test]
    fn the_sim_pack_has_english_and_danish() {
        let pack = VoicePack::load(&sim_dir()).unwrap();
        assert_eq!(pack.languages(), vec!["da".to_string(), "en".to_string()]);
        assert!(pack.clip("en", 9).unwrap().len() > 3000);
        assert!(pack.clip("en", 10).is_none());
    }

    #[test]
    fn a_missing_clip_is_named_and_other_rates_are_resampled() {
        let dir = tempfile::tempdir().unwrap();
        let lang = dir.path().join("xx");
        std::fs::create_dir(&lang).unwrap();
        let clip = Clip {
            samples: vec![0.1; 800],
            sample_rate: 8_000,
        };
        for digit in 0..9 {
            write_wav(&lang.join(format!("{digit}.wav")), &clip).unwrap();
        }
        let err = VoicePack::load(dir.path()).unwrap_err().to_string();
        assert!(err.contains("xx/9.wav") && err.contains("missing"), "{err}");
        write_wav(&lang.join("9.wav"), &clip).unwrap();
        let pack = VoicePack::load(dir.path()).unwrap();
        assert_eq!(pack.clip("xx", 9).unwrap().len(), 1600);
    }

    #[test]
    fn an_empty_directory_is_no_pack() {
        let dir = tempfile::tempdir().unwrap();
        let err = VoicePack::load(dir.path()).unwrap_err();
        assert!(matches!(err, ListenError::NoLanguage { .. }));
    }
}
