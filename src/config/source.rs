//! Parsing YAML text into `Raw*` types with every problem located (temporary stand-in; the
//! real module lands from the config-source branch).

use std::path::Path;

use serde::de::DeserializeOwned;

use super::{ConfigError, Problem};

/// Maps YAML paths to 1-based (line, column).
#[derive(Debug, Default)]
pub struct LocationIndex;

impl LocationIndex {
    /// Builds the index.
    pub fn from_text(_text: &str) -> Self {
        Self
    }
    /// The position of the node at `path`.
    pub fn locate(&self, _path: &str) -> Option<(usize, usize)> {
        None
    }
}

/// Reads a file.
pub fn read(file: &Path) -> Result<String, ConfigError> {
    std::fs::read_to_string(file).map_err(|source| ConfigError::Io { file: file.to_path_buf(), source })
}

/// Parses text into a value.
pub fn parse_value(file: &Path, text: &str) -> Result<(serde_yaml::Value, LocationIndex), ConfigError> {
    let value = serde_yaml::from_str(text).map_err(|e| ConfigError::Invalid {
        file: file.to_path_buf(),
        problems: vec![Problem { line: None, column: None, path: ".".into(), message: e.to_string() }],
    })?;
    Ok((value, LocationIndex::from_text(text)))
}

/// Deserializes a value.
pub fn deserialize_all<T: DeserializeOwned>(
    file: &Path,
    value: &serde_yaml::Value,
    _index: &LocationIndex,
) -> Result<T, ConfigError> {
    serde_path_to_error::deserialize(value.clone()).map_err(|e| ConfigError::Invalid {
        file: file.to_path_buf(),
        problems: vec![Problem { line: None, column: None, path: e.path().to_string(), message: e.inner().to_string() }],
    })
}

/// The top-level `kind:`.
pub fn kind_of(value: &serde_yaml::Value) -> Option<&str> {
    value.get("kind").and_then(|k| k.as_str())
}
