//! Configuration errors: every problem of a file, each with its line, column and YAML path.

use std::fmt;
use std::path::{Path, PathBuf};

use super::source::LocationIndex;

/// One problem in a YAML file.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Problem {
    /// 1-based line, when known.
    pub line: Option<usize>,
    /// 1-based column, when known.
    pub column: Option<usize>,
    /// The YAML path, e.g. `steps[3].expect_display.within`; `.` for the whole document.
    pub path: String,
    /// What is wrong, lowercase, no trailing period.
    pub message: String,
}

/// A file that could not be used: all of its problems at once.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("{}: {source}", file.display())]
    Io {
        /// The file.
        file: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file was read but is wrong.
    #[error("{}", render(file, problems))]
    Invalid {
        /// The file.
        file: PathBuf,
        /// Every problem found, in file order.
        problems: Vec<Problem>,
    },
}

impl ConfigError {
    /// The file this error is about.
    pub fn file(&self) -> &Path {
        match self {
            ConfigError::Io { file, .. } | ConfigError::Invalid { file, .. } => file,
        }
    }
}

fn render(file: &Path, problems: &[Problem]) -> String {
    let mut out = String::new();
    for (i, problem) in problems.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        out.push_str(&format!("{}", Located { file, problem }));
    }
    out
}

struct Located<'a> {
    file: &'a Path,
    problem: &'a Problem,
}

impl fmt::Display for Located<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let Some(line) = self.problem.line {
            write!(f, ":{line}")?;
            if let Some(column) = self.problem.column {
                write!(f, ":{column}")?;
            }
        }
        write!(f, ": {}: {}", self.problem.path, self.problem.message)
    }
}

/// Collects the semantic problems of one parsed file, locating each by its YAML path.
#[derive(Debug)]
pub struct Problems<'a> {
    file: &'a Path,
    index: &'a LocationIndex,
    list: Vec<Problem>,
}

impl<'a> Problems<'a> {
    /// An empty collection for `file`, whose paths are located through `index`.
    pub fn new(file: &'a Path, index: &'a LocationIndex) -> Self {
        Self {
            file,
            index,
            list: Vec::new(),
        }
    }

    /// Adds a problem at a YAML path (`steps[2].press`); the location is looked up.
    pub fn push(&mut self, path: impl Into<String>, message: impl Into<String>) {
        let path = path.into();
        let (line, column) = match self.index.locate_nearest(&path) {
            Some((line, column)) => (Some(line), Some(column)),
            None => (None, None),
        };
        self.list.push(Problem {
            line,
            column,
            path,
            message: message.into(),
        });
    }

    /// Whether no problem was found.
    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// `Ok(value)` when no problem was found, else every problem, sorted by position.
    pub fn finish<T>(mut self, value: T) -> Result<T, ConfigError> {
        if self.list.is_empty() {
            return Ok(value);
        }
        self.list
            .sort_by_key(|p| (p.line.unwrap_or(usize::MAX), p.column.unwrap_or(0)));
        Err(ConfigError::Invalid {
            file: self.file.to_path_buf(),
            problems: self.list,
        })
    }
}
