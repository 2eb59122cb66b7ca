//! Errors of the benchmarks: unreadable fixtures or voice packs, bad labels, scratch files that
//! cannot be written.
//!
//! A wrong or missing reading is never an error: it is a result the benchmark counts.

use std::path::{Path, PathBuf};

/// One problem on one line of a label file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabelProblem {
    /// 1-based line in the file.
    pub line: usize,
    /// What is wrong, lowercase, no trailing period.
    pub message: String,
}

/// Why a benchmark could not run.
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    /// A file or directory could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A label file is wrong: every problem, each as `FILE:LINE: what`.
    #[error("{}", render_problems(path, problems))]
    Labels {
        /// The label file.
        path: PathBuf,
        /// Every problem found, in file order.
        problems: Vec<LabelProblem>,
    },
    /// A photo could not be decoded.
    #[error("{}: {source}", path.display())]
    Image {
        /// The photo.
        path: PathBuf,
        /// Why.
        source: image::ImageError,
    },
    /// An anchor tool could not be started (after it was found installed).
    #[error("cannot run {program}: {source}")]
    Spawn {
        /// The program.
        program: &'static str,
        /// Why.
        source: std::io::Error,
    },
    /// An anchor tool ran but failed (not a wrong answer: the tool itself is broken).
    #[error("{program} failed on {}: {message}", input.display())]
    ToolFailed {
        /// The program.
        program: &'static str,
        /// The file it was given (a crop, a recording).
        input: PathBuf,
        /// Its exit status and first line of standard error, or its error message.
        message: String,
    },
    /// A long-lived anchor process failed outside any one input: it ended, or answered what its
    /// protocol does not allow.
    #[error("{program} ({}) {message}", process.display())]
    AnchorProcess {
        /// The anchor.
        program: &'static str,
        /// The program the process runs (the venv's Python).
        process: PathBuf,
        /// What happened, with its exit status and the last line of its standard error.
        message: String,
    },
    /// A voice pack or a recording could not be read.
    #[error("{}: {message}", path.display())]
    Voice {
        /// The pack folder or the recording.
        path: PathBuf,
        /// Why.
        message: String,
    },
    /// The speech set has no recording to measure.
    #[error("{}: no labelled recording", path.display())]
    NoClips {
        /// The set's directory.
        path: PathBuf,
    },
    /// The fixture set has no photo to measure.
    #[error("{}: no labelled photo", path.display())]
    NoPhotos {
        /// The fixture directory.
        path: PathBuf,
    },
}

impl BenchError {
    /// True when the user's input is wrong (bad or empty fixture set), false when the machine failed.
    pub fn is_bad_input(&self) -> bool {
        matches!(
            self,
            BenchError::Labels { .. }
                | BenchError::Image { .. }
                | BenchError::NoPhotos { .. }
                | BenchError::Voice { .. }
                | BenchError::NoClips { .. }
        )
    }
}

fn render_problems(path: &Path, problems: &[LabelProblem]) -> String {
    problems
        .iter()
        .map(|p| format!("{}:{}: {}", path.display(), p.line, p.message))
        .collect::<Vec<_>>()
        .join("\n")
}
