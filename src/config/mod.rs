//! Configuration: the YAML files (rig, token profile, scenario, requirements), read strictly.
//!
//! `raw` mirrors the files as written; `source` parses text and maps YAML paths to line:column;
//! the other modules validate raw files into the types the rest of the crate uses. Every problem
//! of a file is reported at once, each naming file, line, column and YAML path.

pub mod calibration;
pub mod error;
pub mod raw;
pub mod requirements;
pub mod rig;
pub mod scenario;
pub mod source;
pub mod token;

use std::path::Path;

pub use error::{ConfigError, Problem, Problems};
pub use requirements::Catalogue;
pub use rig::RigConfig;
pub use scenario::Scenario;
pub use token::TokenProfile;

/// Any of our YAML files, validated according to its `kind:`.
#[derive(Debug)]
pub enum ConfigFile {
    /// `kind: rig`.
    Rig(Box<RigConfig>),
    /// `kind: token`.
    Token(Box<TokenProfile>),
    /// `kind: scenario`.
    Scenario(Box<Scenario>),
    /// `kind: requirements`.
    Requirements(Catalogue),
}

impl ConfigFile {
    /// The kind's name.
    pub fn kind(&self) -> &'static str {
        match self {
            ConfigFile::Rig(_) => "rig",
            ConfigFile::Token(_) => "token",
            ConfigFile::Scenario(_) => "scenario",
            ConfigFile::Requirements(_) => "requirements",
        }
    }
}

/// The `kind:` of a YAML file, read without validating the rest.
pub fn kind_of_file(file: &Path) -> Result<String, ConfigError> {
    let text = source::read(file)?;
    let (value, index) = source::parse_value(file, &text)?;
    match source::kind_of(&value) {
        Some(kind) => Ok(kind.to_string()),
        None => {
            let mut problems = Problems::new(file, &index);
            problems.push(
                ".",
                "missing `kind:` (rig, token, scenario or requirements)",
            );
            problems.finish(String::new())
        }
    }
}

/// Reads and validates any of our YAML files by its `kind:`.
pub fn load_any(file: &Path) -> Result<ConfigFile, ConfigError> {
    let text = source::read(file)?;
    let (value, index) = source::parse_value(file, &text)?;
    match source::kind_of(&value) {
        Some("rig") => RigConfig::from_text(file, &text).map(|r| ConfigFile::Rig(Box::new(r))),
        Some("token") => {
            TokenProfile::from_text(file, &text).map(|t| ConfigFile::Token(Box::new(t)))
        }
        Some("scenario") => {
            Scenario::from_text(file, &text).map(|s| ConfigFile::Scenario(Box::new(s)))
        }
        Some("requirements") => Catalogue::from_text(file, &text).map(ConfigFile::Requirements),
        other => {
            let mut problems = Problems::new(file, &index);
            match other {
                Some(kind) => problems.push(
                    "kind",
                    format!("unknown kind `{kind}`, expected rig, token, scenario or requirements"),
                ),
                None => problems.push(
                    ".",
                    "missing `kind:` (rig, token, scenario or requirements)",
                ),
            }
            Err(problems
                .finish(())
                .err()
                .unwrap_or_else(|| ConfigError::Invalid {
                    file: file.to_path_buf(),
                    problems: Vec::new(),
                }))
        }
    }
}
