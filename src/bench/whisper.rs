//! The faster-whisper anchor of `otprig bench listen`: the Whisper models a lab would use instead
//! of otprig's listener, run by `scripts/whisper_anchor.py` (carried in this binary) in the venv
//! that `scripts/setup-whisper.sh` makes.
//!
//! Inputs: a [`WhisperHome`] (the venv and its `models.json`), recordings, and the language each
//! model is told. Outputs: one [`Transcript`] per recording and model: the text, the digits it
//! spells, the language the model decided and the seconds it took.
//!
//! Invariants:
//! - Whether faster-whisper is installed is found out once, up front
//!   ([`WhisperHome::is_installed`]); a missing install is reported as such, never as wrong codes.
//! - The models are loaded once, before any clock starts; the script times each transcription on
//!   one core, after decoding the file (as otprig's time leaves the decoding out).
//! - A process that cannot start, dies, or answers an error is an error of the machine
//!   ([`BenchError`]), never a wrong transcript.

use std::fs::File;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

use serde::{Deserialize, Serialize};

use super::error::BenchError;

/// The anchor's name in reports and errors.
pub const PROGRAM: &str = "faster-whisper";

/// The script that installs the anchor, for the messages that ask for it.
pub const SETUP_SCRIPT: &str = "scripts/setup-whisper.sh";

/// The environment variable that moves the install away from `$HOME/.cache/otprig-whisper`.
pub const WHISPER_HOME_ENV: &str = "OTPRIG_WHISPER_HOME";

/// The anchor script, written to a scratch folder and run with the venv's Python.
const ANCHOR_SCRIPT: &str = include_str!("../../scripts/whisper_anchor.py");

/// A Whisper model the anchor runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum WhisperModel {
    /// `tiny.en`: the smallest model, English only.
    TinyEn,
    /// `base`: the smallest multilingual model shipped for offline use.
    Base,
}

impl WhisperModel {
    /// Every model, in report order.
    pub const ALL: [WhisperModel; 2] = [WhisperModel::TinyEn, WhisperModel::Base];

    /// Whisper's name of the model (also its key in `models.json`).
    pub fn name(self) -> &'static str {
        match self {
            WhisperModel::TinyEn => "tiny.en",
            WhisperModel::Base => "base",
        }
    }

    /// What to tell the model of a clip spoken in `language`, or `None` when it does not hear
    /// that language: tiny.en is told English and hears only the English clips (on Danish it
    /// could only write English words); base decides the language from the audio, as otprig's
    /// listener does.
    pub fn language_for(self, language: &str) -> Option<&'static str> {
        match self {
            WhisperModel::TinyEn => (language == "en").then_some("en"),
            WhisperModel::Base => Some("auto"),
        }
    }

    /// The model decides the language, and so is scored on it.
    pub fn decides_language(self) -> bool {
        self == WhisperModel::Base
    }
}

/// Where `scripts/setup-whisper.sh` installed faster-whisper and its models.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WhisperHome {
    /// The folder holding `venv/` and `models.json`.
    pub dir: PathBuf,
}

impl WhisperHome {
    /// The install in `dir`.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        WhisperHome { dir: dir.into() }
    }

    /// `$OTPRIG_WHISPER_HOME`, else `$HOME/.cache/otprig-whisper`, as the setup script chooses.
    pub fn from_env() -> Self {
        if let Some(dir) = std::env::var_os(WHISPER_HOME_ENV).filter(|d| !d.is_empty()) {
            return WhisperHome::new(dir);
        }
        let home = std::env::var_os("HOME").map_or_else(|| PathBuf::from("."), PathBuf::from);
        WhisperHome::new(home.join(".cache/otprig-whisper"))
    }

    /// The venv's Python interpreter.
    pub fn python(&self) -> PathBuf {
        self.dir.join("venv/bin/python")
    }

    /// The file listing the model folders.
    pub fn models_file(&self) -> PathBuf {
        self.dir.join("models.json")
    }

    /// Both the venv and its model list are there (what is in them is checked when the anchor
    /// starts, and a broken install is an error then).
    pub fn is_installed(&self) -> bool {
        self.python().is_file() && self.models_file().is_file()
    }
}

/// What the anchor said once its models were loaded.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct WhisperSetup {
    /// faster-whisper's version.
    pub faster_whisper: String,
    /// CTranslate2's version.
    pub ctranslate2: String,
    /// The beam search's width.
    pub beam_size: u32,
    /// The types the models compute in (`float32`, `int8`, ...).
    pub compute_type: Vec<String>,
}

impl WhisperSetup {
    /// One line for the report: versions and settings.
    pub fn describe(&self) -> String {
        format!(
            "faster-whisper {} (CTranslate2 {}), beam {}, {}, one core",
            self.faster_whisper,
            self.ctranslate2,
            self.beam_size,
            self.compute_type.join("/")
        )
    }
}

/// What a model made of one recording.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Transcript {
    /// The text it wrote.
    pub text: String,
    /// The digits the text spells, `None` when it holds anything but digit words and numerals.
    pub digits: Option<String>,
    /// The language it decided, `None` when it was told.
    pub language: Option<String>,
    /// Seconds the transcription took.
    pub seconds: f64,
    /// Processor seconds the process spent on it.
    pub cpu_seconds: f64,
}

/// One request line of the protocol.
#[derive(Serialize)]
struct Request<'a> {
    audio: &'a Path,
    model: &'static str,
    language: &'a str,
}

/// One answer line of the protocol (`error` first: an answer that has it is a failure).
#[derive(Deserialize)]
#[serde(untagged)]
enum Reply {
    Failed { error: String },
    Heard(Transcript),
}

/// The running anchor, its models loaded. Dropping it ends the process.
pub struct WhisperAnchor {
    process: WhisperProcess,
    /// Versions and settings.
    pub setup: WhisperSetup,
}

/// The script's process and its pipes.
struct WhisperProcess {
    child: Child,
    requests: ChildStdin,
    replies: BufReader<ChildStdout>,
    python: PathBuf,
    /// The process's standard error, for the message when it ends.
    log: PathBuf,
    /// Holds the script and the log; removed with the process.
    _scratch: tempfile::TempDir,
}

impl WhisperAnchor {
    /// Starts the anchor from `home` with `models` and waits until they are loaded.
    pub fn start(home: &WhisperHome, models: &[WhisperModel]) -> Result<WhisperAnchor, BenchError> {
        let mut process = WhisperProcess::spawn(home, models)?;
        let line = process.next_line("loading the models")?;
        let setup = serde_json::from_str(&line)
            .map_err(|e| process.error(format!("answered `{}` when ready ({e})", line.trim())))?;
        Ok(WhisperAnchor { process, setup })
    }

    /// Transcribes `audio` with `model`, telling it `language` (`en`, `da` or `auto`).
    pub fn transcribe(
        &mut self,
        model: WhisperModel,
        audio: &Path,
        language: &str,
    ) -> Result<Transcript, BenchError> {
        let request = Request {
            audio,
            model: model.name(),
            language,
        };
        let failed = |message: String| BenchError::ToolFailed {
            program: PROGRAM,
            input: audio.to_path_buf(),
            message,
        };
        let line = serde_json::to_string(&request).map_err(|e| failed(e.to_string()))?;
        let process = &mut self.process;
        if let Err(e) = writeln!(process.requests, "{line}").and_then(|()| process.requests.flush())
        {
            return Err(process.ended(format!("cannot be sent a request ({e})")));
        }
        let answer = process.next_line(&format!("transcribing {}", audio.display()))?;
        match serde_json::from_str::<Reply>(&answer) {
            Ok(Reply::Heard(transcript)) => Ok(transcript),
            Ok(Reply::Failed { error }) => Err(failed(format!("{} said {error}", model.name()))),
            Err(e) => Err(process.error(format!(
                "answered `{}` for {} ({e})",
                answer.trim(),
                audio.display()
            ))),
        }
    }
}

impl WhisperProcess {
    /// Writes the script to a scratch folder and starts it with the venv's Python.
    fn spawn(home: &WhisperHome, models: &[WhisperModel]) -> Result<WhisperProcess, BenchError> {
        let scratch = tempfile::Builder::new()
            .prefix("otprig-whisper-")
            .tempdir()
            .map_err(|source| BenchError::Io {
                path: std::env::temp_dir(),
                source,
            })?;
        let script = scratch.path().join("whisper_anchor.py");
        std::fs::write(&script, ANCHOR_SCRIPT).map_err(|source| BenchError::Io {
            path: script.clone(),
            source,
        })?;
        let log = scratch.path().join("stderr.log");
        let log_file = File::create(&log).map_err(|source| BenchError::Io {
            path: log.clone(),
            source,
        })?;
        let names: Vec<&str> = models.iter().map(|m| m.name()).collect();
        let python = home.python();
        let mut child = Command::new(&python)
            .arg(&script)
            .arg("--models-file")
            .arg(home.models_file())
            .arg("--models")
            .arg(names.join(","))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(log_file)
            .spawn()
            .map_err(|source| BenchError::Spawn {
                program: PROGRAM,
                source,
            })?;
        // Both pipes were asked for above, so the child has them.
        let (Some(requests), Some(replies)) = (child.stdin.take(), child.stdout.take()) else {
            return Err(BenchError::Spawn {
                program: PROGRAM,
                source: std::io::Error::other("no pipes to the process"),
            });
        };
        Ok(WhisperProcess {
            child,
            requests,
            replies: BufReader::new(replies),
            python,
            log,
            _scratch: scratch,
        })
    }

    /// The next answer line; an error naming `doing` when the process ended instead.
    fn next_line(&mut self, doing: &str) -> Result<String, BenchError> {
        let mut line = String::new();
        match self.replies.read_line(&mut line) {
            Ok(0) => Err(self.ended(format!("ended while {doing}"))),
            Ok(_) => Ok(line),
            Err(e) => Err(self.error(format!("cannot be read while {doing} ({e})"))),
        }
    }

    /// The error of a process that closed its pipes: waits for it to end (so that its standard
    /// error is complete), then tells `what` happened, its exit status and the last line it wrote
    /// to standard error.
    fn ended(&mut self, what: String) -> BenchError {
        let status = match self.child.wait() {
            Ok(status) => format!(" ({status})"),
            Err(_) => String::new(),
        };
        let said = std::fs::read_to_string(&self.log)
            .ok()
            .and_then(|text| last_line(&text).map(str::to_string))
            .map_or_else(String::new, |line| format!(": {line}"));
        self.error(format!("{what}{status}{said}"))
    }

    /// An error of the process: `what` happened.
    fn error(&self, what: String) -> BenchError {
        BenchError::AnchorProcess {
            program: PROGRAM,
            process: self.python.clone(),
            message: what,
        }
    }
}

impl Drop for WhisperProcess {
    fn drop(&mut self) {
        // The process keeps nothing that needs a clean exit; errors here mean it already ended.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The last line of `text` that is not blank (a Python traceback ends with its exception).
fn last_line(text: &str) -> Option<&str> {
    text.lines().map(str::trim).rfind(|line| !line.is_empty())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn tiny_en_hears_only_english_and_base_decides_the_language() {
        assert_eq!(WhisperModel::TinyEn.language_for("en"), Some("en"));
        assert_eq!(WhisperModel::TinyEn.language_for("da"), None);
        assert_eq!(WhisperModel::Base.language_for("da"), Some("auto"));
        assert_eq!(WhisperModel::Base.language_for("en"), Some("auto"));
        assert!(!WhisperModel::TinyEn.decides_language());
        assert!(WhisperModel::Base.decides_language());
    }

    #[test]
    fn an_empty_home_is_not_installed() {
        let dir = tempfile::tempdir().unwrap();
        assert!(!WhisperHome::new(dir.path()).is_installed());
        std::fs::create_dir_all(dir.path().join("venv/bin")).unwrap();
        std::fs::write(dir.path().join("venv/bin/python"), "").unwrap();
        assert!(
            !WhisperHome::new(dir.path()).is_installed(),
            "a venv without models.json is not an install"
        );
        std::fs::write(dir.path().join("models.json"), "{}").unwrap();
        assert!(WhisperHome::new(dir.path()).is_installed());
    }

    #[test]
    fn replies_are_transcripts_or_failures() {
        let heard: Reply = serde_json::from_str(
            r#"{"text": "3-4-1", "digits": "341", "language": null, "language_probability": null, "seconds": 0.5, "cpu_seconds": 0.4}"#,
        )
        .unwrap();
        assert!(matches!(heard, Reply::Heard(t) if t.digits.as_deref() == Some("341")));
        let failed: Reply = serde_json::from_str(r#"{"error": "FileNotFoundError: x"}"#).unwrap();
        assert!(matches!(failed, Reply::Failed { error } if error.starts_with("FileNotFound")));
        assert!(serde_json::from_str::<Reply>(r#"{"text": "x"}"#).is_err());
    }

    #[test]
    fn a_traceback_is_summed_up_by_its_last_line() {
        let text = "Traceback (most recent call last):\n  File \"x\", line 1\nModuleNotFoundError: No module named 'faster_whisper'\n\n";
        assert_eq!(
            last_line(text),
            Some("ModuleNotFoundError: No module named 'faster_whisper'")
        );
        assert_eq!(last_line(" \n"), None);
    }

    /// The script's digit mapping (its doctests), with the system's Python: no model needed.
    #[test]
    fn the_anchor_script_maps_transcripts_to_digits() {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/whisper_anchor.py");
        let Ok(output) = Command::new("python3")
            .args(["-m", "doctest"])
            .arg(&script)
            .output()
        else {
            eprintln!("skipped: python3 is not installed");
            return;
        };
        assert!(
            output.status.success(),
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }

    #[test]
    fn a_broken_install_is_a_process_error_naming_its_last_words() {
        // A "python" that fails as a venv without faster-whisper would.
        let dir = tempfile::tempdir().unwrap();
        let bin = dir.path().join("venv/bin");
        std::fs::create_dir_all(&bin).unwrap();
        let python = bin.join("python");
        std::fs::write(
            &python,
            "#!/bin/sh\necho \"ModuleNotFoundError: No module named 'faster_whisper'\" >&2\nexit 1\n",
        )
        .unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&python, std::fs::Permissions::from_mode(0o755)).unwrap();
        std::fs::write(dir.path().join("models.json"), "{}").unwrap();
        let home = WhisperHome::new(dir.path());
        let Err(error) = WhisperAnchor::start(&home, &WhisperModel::ALL) else {
            panic!("a failing process started");
        };
        let text = error.to_string();
        assert!(matches!(error, BenchError::AnchorProcess { .. }), "{text}");
        assert!(text.contains("ended while loading the models"), "{text}");
        assert!(text.contains("No module named 'faster_whisper'"), "{text}");
        assert!(text.contains("venv/bin/python"), "{text}");
        assert!(!error.is_bad_input());
    }
}
