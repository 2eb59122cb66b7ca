//! `run.json`: the [`RunRecord`] as pretty-printed JSON, and back.
//!
//! Input: a record. Output: a file that [`read_run_json`] turns back into an equal record, so any
//! other report can be rendered again later from `run.json` alone. The file is replaced
//! atomically (temporary sibling, then rename).

use std::fs;
use std::path::Path;

use super::{ReportError, error_chain, write_atomically};
use crate::runner::record::RunRecord;

/// The record as pretty-printed JSON with a trailing newline.
pub fn render_run_json(record: &RunRecord) -> Result<String, ReportError> {
    let mut text =
        serde_json::to_string_pretty(record).map_err(|error| ReportError::Serialize {
            what: "cannot render run.json".to_string(),
            message: error_chain(&error),
        })?;
    text.push('\n');
    Ok(text)
}

/// Writes the record to `path` as pretty-printed JSON, replacing any earlier file atomically.
pub fn write_run_json(record: &RunRecord, path: &Path) -> Result<(), ReportError> {
    let text = render_run_json(record)?;
    write_atomically(path, text.as_bytes())
}

/// Reads a record back from a `run.json` file.
pub fn read_run_json(path: &Path) -> Result<RunRecord, ReportError> {
    let text = fs::read_to_string(path).map_err(|source| ReportError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    serde_json::from_str(&text).map_err(|error| ReportError::Serialize {
        what: format!("cannot parse {}", path.display()),
        message: error_chain(&error),
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::report::fixture;

    #[test]
    fn run_json_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("run.json");
        let record = fixture::record();
        write_run_json(&record, &path).unwrap();
        assert_eq!(read_run_json(&path).unwrap(), record);
    }

    #[test]
    fn run_json_replaces_an_earlier_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("run.json");
        fs::write(&path, "half a fi").unwrap();
        let record = fixture::record();
        write_run_json(&record, &path).unwrap();
        assert_eq!(read_run_json(&path).unwrap(), record);
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn run_json_snapshot() {
        insta::assert_snapshot!(render_run_json(&fixture::record()).unwrap());
    }

    #[test]
    fn parse_error_names_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("run.json");
        fs::write(&path, "{\"run_id\": 3}").unwrap();
        let text = read_run_json(&path).unwrap_err().to_string();
        assert!(text.starts_with("cannot parse "), "{text}");
        assert!(text.contains("run.json: invalid type"), "{text}");
    }
}
