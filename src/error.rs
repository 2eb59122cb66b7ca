//! The crate-level error: every stage's error, and the exit code each comes to.

use crate::bench::BenchError;
use crate::config::ConfigError;
use crate::oracle::OracleError;
use crate::report::ReportError;
use crate::rig::RigError;
use crate::runner::journal::JournalError;

/// Anything that stops a command before or around a run.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Bad usage (no scenarios selected, unknown fault, mixed backends).
    #[error("{0}")]
    Usage(String),
    /// A YAML file is wrong (all of its problems).
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// Several files are wrong.
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))]
    Configs(Vec<ConfigError>),
    /// A device of the rig failed.
    #[error(transparent)]
    Rig(#[from] RigError),
    /// The oracle could not be set up (secret, counter file).
    #[error("oracle: {0}")]
    Oracle(#[from] OracleError),
    /// The journal could not be written.
    #[error(transparent)]
    Journal(#[from] JournalError),
    /// A report could not be written.
    #[error("report: {0}")]
    Report(#[from] ReportError),
    /// A benchmark could not run (bad fixture set, or an anchor tool broke).
    #[error("bench: {0}")]
    Bench(#[from] BenchError),
    /// The run folder could not be made.
    #[error("{path}: {source}")]
    Io {
        /// The path.
        path: String,
        /// Why.
        source: std::io::Error,
    },
}

impl Error {
    /// 3 for bad usage or bad files, 2 for everything the rig is to blame for.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Usage(_) | Error::Config(_) | Error::Configs(_) => 3,
            Error::Bench(e) if e.is_bad_input() => 3,
            Error::Rig(_)
            | Error::Oracle(_)
            | Error::Journal(_)
            | Error::Report(_)
            | Error::Bench(_)
            | Error::Io { .. } => 2,
        }
    }
}
