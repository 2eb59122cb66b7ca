//! A scratch directory for the files the anchor tools read, removed when dropped.
//!
//! Inputs: none (it lives under `std::env::temp_dir()`). Outputs: a fresh, empty, uniquely named
//! directory. Invariant: dropping it removes the directory and everything in it; a failure to
//! remove is logged, never a panic.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

use super::error::BenchError;

/// Scratch directories made by this process so far (keeps names unique within it).
static MADE: AtomicU32 = AtomicU32::new(0);

/// A temporary directory that is removed with everything in it when dropped.
#[derive(Debug)]
pub struct ScratchDir {
    path: PathBuf,
}

impl ScratchDir {
    /// Makes `TMP/otprig-bench-PID-N`.
    pub fn new() -> Result<ScratchDir, BenchError> {
        let n = MADE.fetch_add(1, Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!("otprig-bench-{}-{n}", std::process::id()));
        // A leftover of an earlier process with the same id would only hold stale crops.
        if path.exists() {
            std::fs::remove_dir_all(&path).map_err(|source| BenchError::Io {
                path: path.clone(),
                source,
            })?;
        }
        std::fs::create_dir_all(&path).map_err(|source| BenchError::Io {
            path: path.clone(),
            source,
        })?;
        Ok(ScratchDir { path })
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        if let Err(error) = std::fs::remove_dir_all(&self.path) {
            tracing::warn!(
                "cannot remove scratch directory {}: {error}",
                self.path.display()
            );
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn the_directory_is_fresh_and_removed_on_drop() {
        let scratch = ScratchDir::new().unwrap();
        let other = ScratchDir::new().unwrap();
        assert_ne!(scratch.path(), other.path());
        std::fs::write(scratch.path().join("crop.png"), b"x").unwrap();
        let path = scratch.path().to_path_buf();
        drop(scratch);
        assert!(!path.exists());
    }
}
