//! The journal: `journal.jsonl`, one JSON object per event, appended and flushed event by event
//! so that a crash mid-run leaves a readable account up to the crash. Never holds secrets.

use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};

/// A failure to write the journal.
#[derive(Debug, thiserror::Error)]
#[error("journal {}: {source}", path.display())]
pub struct JournalError {
    /// The journal file.
    pub path: PathBuf,
    /// Why.
    pub source: std::io::Error,
}

/// An append-only JSON-lines journal, shared by the tasks of a run.
#[derive(Debug, Clone)]
pub struct Journal {
    path: PathBuf,
    file: Arc<Mutex<Option<BufWriter<File>>>>,
}

impl Journal {
    /// Creates (or truncates) the journal file.
    pub fn create(path: &Path) -> Result<Self, JournalError> {
        let file = OpenOptions::new()
            .create(true)
            .write(true)
            .truncate(true)
            .open(path)
            .map_err(|source| JournalError {
                path: path.to_path_buf(),
                source,
            })?;
        Ok(Self {
            path: path.to_path_buf(),
            file: Arc::new(Mutex::new(Some(BufWriter::new(file)))),
        })
    }

    /// A journal that writes nowhere (for tests of other stages).
    pub fn discard() -> Self {
        Self {
            path: PathBuf::new(),
            file: Arc::new(Mutex::new(None)),
        }
    }

    /// The journal file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends one event `{"t": device_s, "event": kind, ...fields}` and flushes it.
    pub fn append(&self, device_s: f64, event: &str, fields: Value) -> Result<(), JournalError> {
        let mut line = json!({ "t": round_ms(device_s), "event": event });
        if let (Some(line), Value::Object(fields)) = (line.as_object_mut(), fields) {
            line.extend(fields);
        }
        let mut guard = match self.file.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        let Some(writer) = guard.as_mut() else {
            return Ok(());
        };
        let result = serde_json::to_writer(&mut *writer, &line)
            .map_err(std::io::Error::other)
            .and_then(|()| writer.write_all(b"\n"))
            .and_then(|()| writer.flush());
        result.map_err(|source| JournalError {
            path: self.path.clone(),
            source,
        })
    }
}

/// Device seconds rounded to the millisecond, for readable records.
pub fn round_ms(seconds: f64) -> f64 {
    (seconds * 1000.0).round() / 1000.0
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn every_event_is_on_disk_as_soon_as_it_is_appended() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("journal.jsonl");
        let journal = Journal::create(&path).unwrap();
        journal
            .append(1.23456, "press", json!({ "button": "ok" }))
            .unwrap();
        // Read while the journal is still open: nothing may sit in a buffer.
        let text = std::fs::read_to_string(&path).unwrap();
        let line: Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
        assert_eq!(line["event"], "press");
        assert_eq!(line["button"], "ok");
        assert_eq!(line["t"], 1.235);
    }
}
