//! Evidence: the frames a verdict rests on, saved as PNG under `evidence/` with their SHA-256.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::record::Evidence;
use crate::rig::Frame;

/// A failure to save evidence.
#[derive(Debug, thiserror::Error)]
#[error("evidence {}: {message}", path.display())]
pub struct EvidenceError {
    /// The file.
    pub path: PathBuf,
    /// Why.
    pub message: String,
}

/// Saves frames into a run's `evidence/` folder, numbering them in order.
#[derive(Debug)]
pub struct EvidenceWriter {
    run_dir: Option<PathBuf>,
    next: u32,
}

impl EvidenceWriter {
    /// Writes into `run_dir/evidence/`.
    pub fn new(run_dir: &Path) -> Self {
        Self { run_dir: Some(run_dir.to_path_buf()), next: 1 }
    }

    /// Keeps nothing (tests of other stages).
    pub fn discard() -> Self {
        Self { run_dir: None, next: 1 }
    }

    /// Saves `frame` as PNG and returns its record; `device_s` is its capture time.
    pub fn save(&mut self, frame: &Frame, label: &str, caption: String, device_s: f64) -> Result<Evidence, EvidenceError> {
        let slug: String = label
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '-' })
            .collect();
        let name = format!("evidence/{:04}-{slug}.png", self.next);
        self.next += 1;
        let Some(run_dir) = &self.run_dir else {
            return Ok(Evidence { path: name, sha256: String::new(), caption, captured_s: device_s });
        };
        let path = run_dir.join(&name);
        let error = |message: String| EvidenceError { path: path.clone(), message };
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| error(e.to_string()))?;
        }
        let mut png = Vec::new();
        frame
            .image
            .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
            .map_err(|e| error(e.to_string()))?;
        std::fs::write(&path, &png).map_err(|e| error(e.to_string()))?;
        let sha256 = Sha256::digest(&png).iter().map(|b| format!("{b:02x}")).collect();
        Ok(Evidence { path: name, sha256, caption, captured_s: device_s })
    }
}
