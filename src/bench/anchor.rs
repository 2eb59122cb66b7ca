//! The anchor tools: the OCR programs a lab would use instead of otprig, called as processes.
//!
//! Inputs: an [`ExactCrop`] of a photo.
//! Outputs: an [`AnchorRead`]: the tool's output, its digits, and the wall-clock time of the call.
//!
//! Invariants:
//! - The crop is prepared and written before the clock starts; the time covers spawning the
//!   process, its run and reading its output, which is what a lab pays per frame.
//! - A tool that is not installed is found out once, up front ([`Anchor::version`]), and reported
//!   as such; it never reads as "wrong".
//! - ssocr's exit statuses 1 and 2 (too few or unknown digits) are answers; a failure to start the
//!   process or any other exit status is an error of the machine, never a wrong read.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use image::GrayImage;

use super::crop::ExactCrop;
use super::error::BenchError;
use super::ssocr::{SsocrSettings, ssocr_args};
use super::tesseract::{TESSERACT_ENV, TesseractSettings, prepare_for_tesseract, tesseract_args};

/// An OCR program the benchmark compares otprig with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Anchor {
    /// `ssocr`, seven-segment OCR.
    Ssocr,
    /// `tesseract`, general OCR.
    Tesseract,
}

impl Anchor {
    /// Every anchor, in report order.
    pub const ALL: [Anchor; 2] = [Anchor::Ssocr, Anchor::Tesseract];

    /// The program's name (also its Debian package's, but for `tesseract-ocr`).
    pub fn name(self) -> &'static str {
        match self {
            Anchor::Ssocr => "ssocr",
            Anchor::Tesseract => "tesseract",
        }
    }

    /// The Debian package that installs the program.
    pub fn package(self) -> &'static str {
        match self {
            Anchor::Ssocr => "ssocr",
            Anchor::Tesseract => "tesseract-ocr",
        }
    }

    /// True when a call that ended with `exit_code` gave an answer: ssocr exits 1 or 2 when it
    /// found too few or unknown digits, which is an answer; anything else (tesseract without its
    /// language data, ssocr's 99) is a broken tool.
    fn is_answer(self, exit_code: Option<i32>) -> bool {
        match self {
            Anchor::Ssocr => matches!(exit_code, Some(0..=2)),
            Anchor::Tesseract => exit_code == Some(0),
        }
    }

    /// The first line of the program's version text, or `None` when it cannot be started (not
    /// installed).
    pub fn version(self) -> Option<String> {
        let output = Command::new(self.name())
            .arg("--version")
            .stdin(Stdio::null())
            .output()
            .ok()?;
        // ssocr prints its version to stdout, tesseract to stdout or stderr by release.
        let text = [output.stdout, output.stderr]
            .iter()
            .map(|bytes| String::from_utf8_lossy(bytes).into_owned())
            .collect::<String>();
        let line = text.lines().map(str::trim).find(|l| !l.is_empty())?;
        Some(line.to_string())
    }
}

/// How each anchor is called (the defaults are the best cases found).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct AnchorSettings {
    /// ssocr's options and commands.
    pub ssocr: SsocrSettings,
    /// tesseract's preparation and options.
    pub tesseract: TesseractSettings,
}

/// One photo's input for an anchor: the image file it reads and how to call it on it.
#[derive(Debug, Clone, PartialEq)]
pub struct AnchorInput {
    /// Which anchor.
    pub anchor: Anchor,
    /// The prepared crop on disk.
    pub image: PathBuf,
    /// The arguments of the call.
    pub args: Vec<std::ffi::OsString>,
}

impl AnchorInput {
    /// Prepares `crop` for `anchor` reading `digits` digits, writing it to `dir/STEM-ANCHOR.png`.
    pub fn prepare(
        anchor: Anchor,
        settings: &AnchorSettings,
        crop: &ExactCrop,
        digits: usize,
        dir: &Path,
        stem: &str,
    ) -> Result<AnchorInput, BenchError> {
        let image = dir.join(format!("{stem}-{}.png", anchor.name()));
        let save = |picture: &GrayImage| {
            picture.save(&image).map_err(|source| BenchError::Image {
                path: image.clone(),
                source,
            })
        };
        let args = match anchor {
            Anchor::Ssocr => {
                save(&crop.image)?;
                ssocr_args(&settings.ssocr, digits, crop, &image)
            }
            Anchor::Tesseract => {
                save(&prepare_for_tesseract(&settings.tesseract, crop))?;
                tesseract_args(&settings.tesseract, &image)
            }
        };
        Ok(AnchorInput {
            anchor,
            image,
            args,
        })
    }

    /// Runs the anchor on its input, timing the call.
    pub fn run(&self) -> Result<AnchorRead, BenchError> {
        let mut command = Command::new(self.anchor.name());
        command
            .args(&self.args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if self.anchor == Anchor::Tesseract {
            command.envs(TESSERACT_ENV);
        }
        let start = Instant::now();
        let output = command.output();
        let elapsed = start.elapsed();
        let output = output.map_err(|source| BenchError::Spawn {
            program: self.anchor.name(),
            source,
        })?;
        if !self.anchor.is_answer(output.status.code()) {
            let stderr = String::from_utf8_lossy(&output.stderr);
            return Err(BenchError::ToolFailed {
                program: self.anchor.name(),
                input: self.image.clone(),
                message: format!(
                    "{}: {}",
                    output.status,
                    stderr.lines().next().unwrap_or("").trim()
                ),
            });
        }
        let text = String::from_utf8_lossy(&output.stdout).trim().to_string();
        Ok(AnchorRead {
            digits: digits_only(&text),
            output: text,
            elapsed,
        })
    }
}

/// What an anchor answered for one photo.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnchorRead {
    /// The tool's standard output, trimmed.
    pub output: String,
    /// The digits of the output, in order (empty: the tool saw no digit).
    pub digits: String,
    /// Wall-clock time of the call: spawn, run and output.
    pub elapsed: Duration,
}

/// The ASCII digits of `text`, in order: the tools' answers are normalised to this (ssocr marks
/// unknown digits with `_`, tesseract may add spaces and line breaks).
pub fn digits_only(text: &str) -> String {
    text.chars().filter(char::is_ascii_digit).collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn only_broken_calls_are_errors() {
        assert!(Anchor::Ssocr.is_answer(Some(0)));
        assert!(Anchor::Ssocr.is_answer(Some(2)));
        assert!(!Anchor::Ssocr.is_answer(Some(99)));
        assert!(!Anchor::Ssocr.is_answer(None));
        assert!(Anchor::Tesseract.is_answer(Some(0)));
        assert!(!Anchor::Tesseract.is_answer(Some(1)));
    }

    #[test]
    fn outputs_are_normalised_to_their_digits() {
        assert_eq!(digits_only("123456\n"), "123456");
        assert_eq!(digits_only("12_4 56"), "12456");
        assert_eq!(digits_only(" 1 2 3\n\n4 5 6 \u{c}"), "123456");
        assert_eq!(digits_only("--.-"), "");
        assert_eq!(digits_only("٣"), "", "only ASCII digits count");
    }
}
