//! Evidence: the frames a verdict rests on, saved as PNG under `evidence/` with their SHA-256.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::record::Evidence;
use crate::rig::Frame;
use crate::rig::audio_file::{Clip, wav_bytes};

/// A failure to save evidence.
#[derive(Debug, thiserror::Error)]
#[error("evidence {}: {message}", path.display())]
pub struct EvidenceError {
    /// The file.
    pub path: PathBuf,
    /// Why.
    pub message: String,
}

/// Saves one scenario's frames into `evidence/<scenario>/` of its run, numbering them in order.
#[derive(Debug)]
pub struct EvidenceWriter {
    run_dir: Option<PathBuf>,
    folder: String,
    next: u32,
}

/// A file-name-safe form of `text`: lowercase letters, digits and single dashes.
fn slug(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    out.trim_matches('-').to_string()
}

impl EvidenceWriter {
    /// Writes into `run_dir/evidence/<token>/<scenario>/`.
    pub fn new(run_dir: &Path, token: &str, scenario: &str) -> Self {
        Self {
            run_dir: Some(run_dir.to_path_buf()),
            folder: format!("{}/{}", slug(token), slug(scenario)),
            next: 1,
        }
    }

    /// Keeps nothing (tests of other stages).
    pub fn discard() -> Self {
        Self {
            run_dir: None,
            folder: String::new(),
            next: 1,
        }
    }

    /// Saves `frame` as PNG and returns its record; `device_s` is its capture time.
    pub fn save(
        &mut self,
        frame: &Frame,
        label: &str,
        caption: String,
        device_s: f64,
    ) -> Result<Evidence, EvidenceError> {
        self.store(label, "png", caption, device_s, |out| {
            frame
                .image
                .write_to(&mut std::io::Cursor::new(out), image::ImageFormat::Png)
                .map_err(|e| e.to_string())
        })
    }

    /// Saves an audio clip as 16-bit WAV and returns its record; `device_s` is its start.
    pub fn save_clip(
        &mut self,
        samples: &[f32],
        sample_rate: u32,
        label: &str,
        caption: String,
        device_s: f64,
    ) -> Result<Evidence, EvidenceError> {
        self.store(label, "wav", caption, device_s, |out| {
            let clip = Clip {
                samples: samples.to_vec(),
                sample_rate,
            };
            *out = wav_bytes(&clip).map_err(|e| e.to_string())?;
            Ok(())
        })
    }

    /// Names the next evidence file, encodes it with `encode`, writes it and hashes it.
    fn store(
        &mut self,
        label: &str,
        extension: &str,
        caption: String,
        device_s: f64,
        encode: impl FnOnce(&mut Vec<u8>) -> Result<(), String>,
    ) -> Result<Evidence, EvidenceError> {
        let name = format!(
            "evidence/{}/{:04}-{}.{extension}",
            self.folder,
            self.next,
            slug(label)
        );
        self.next += 1;
        let Some(run_dir) = &self.run_dir else {
            return Ok(Evidence {
                path: name,
                sha256: String::new(),
                caption,
                captured_s: device_s,
            });
        };
        let path = run_dir.join(&name);
        let error = |message: String| EvidenceError {
            path: path.clone(),
            message,
        };
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| error(e.to_string()))?;
        }
        let mut bytes = Vec::new();
        encode(&mut bytes).map_err(error)?;
        std::fs::write(&path, &bytes).map_err(|e| error(e.to_string()))?;
        let sha256 = Sha256::digest(&bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        Ok(Evidence {
            path: name,
            sha256,
            caption,
            captured_s: device_s,
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::sync::Arc;

    use image::GrayImage;
    use tokio::time::Instant;

    use super::*;

    #[test]
    fn frames_are_saved_per_scenario_with_their_hash() {
        let dir = tempfile::tempdir().unwrap();
        let frame = Frame {
            seq: 1,
            captured_at: Instant::now(),
            image: Arc::new(GrayImage::new(4, 3)),
        };
        let mut a = EvidenceWriter::new(dir.path(), "mitid-code-display", "Code equals oracle");
        let mut b = EvidenceWriter::new(dir.path(), "mitid-code-display", "auto-off");
        let first = a
            .save(&frame, "steps[0].repeat.steps[2]", "shown".into(), 1.0)
            .unwrap();
        let other = b.save(&frame, "steps[0]", "shown".into(), 2.0).unwrap();
        assert_eq!(
            first.path,
            "evidence/mitid-code-display/code-equals-oracle/0001-steps-0-repeat-steps-2.png"
        );
        assert_eq!(
            other.path,
            "evidence/mitid-code-display/auto-off/0001-steps-0.png"
        );
        let bytes = std::fs::read(dir.path().join(&first.path)).unwrap();
        let digest: String = Sha256::digest(&bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(digest, first.sha256);
    }
}
