//! The OCR benchmark: otprig's LCD reader against `ssocr` and `tesseract` on one labelled set.
//!
//! Inputs: [`OcrBenchOptions`] (the fixture directory, which anchors to run, a limit, a details
//! file) and otprig's side as a [`FrameReader`]. Outputs: an [`OcrBenchReport`] with every photo's
//! answers, verdicts and times (printed by [`super::ocr_report`]).
//!
//! What is measured, per photo:
//! - otprig, whole frame: a reset reader locates and reads the LCD in the whole frame.
//! - otprig, tracked: the same reader reads the same frame again, reusing the window it found.
//! - each anchor: one process call on the exact crop of the labelled digits, straightened as the
//!   labels say (see [`super::crop`]), its best case.
//!
//! Invariants:
//! - Image decoding, crop cutting and crop writing happen before any clock starts; otprig is
//!   timed around its `read` call only, an anchor around its whole process (spawn included).
//! - Everything runs on the calling thread, one photo and one tool at a time.
//! - A requested anchor that is not installed is reported as such, never counted as wrong.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use image::GrayImage;

use super::anchor::{Anchor, AnchorInput, AnchorSettings};
use super::crop::ExactCrop;
use super::error::{BenchError, LabelProblem};
use super::labels::{Expected, LABELS_FILE, LabelledPhoto, load_labels};
use crate::perception::lcd::{LcdReader, LcdReading};

/// A tool's answer for one photo, normalised for scoring.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// The digits it read, in order; empty when it saw no digit (its "blank").
    Digits(String),
    /// It saw something but could not read it (otprig only: the anchors always give digits).
    Unreadable,
}

impl Answer {
    /// `123456`, `blank` (no digit) or `?` (unreadable).
    pub fn label(&self) -> &str {
        match self {
            Answer::Digits(d) if d.is_empty() => "blank",
            Answer::Digits(d) => d,
            Answer::Unreadable => "?",
        }
    }
}

/// otprig's answer for one frame and how sure it was.
#[derive(Debug, Clone, PartialEq)]
pub struct FrameRead {
    /// The answer.
    pub answer: Answer,
    /// Confidence from 0 to 1.
    pub confidence: f32,
    /// Read in the window tracked from the previous frame, without locating afresh.
    pub in_tracked_window: bool,
}

/// otprig's side of the benchmark: a reader that locates the LCD in whole frames and may track it.
pub trait FrameReader {
    /// Forgets any tracked window: the next read locates the LCD afresh.
    fn reset(&mut self);
    /// Reads the LCD in a whole grey frame.
    fn read_frame(&mut self, frame: &GrayImage) -> FrameRead;
}

impl FrameReader for LcdReader {
    fn reset(&mut self) {
        LcdReader::reset(self);
    }

    fn read_frame(&mut self, frame: &GrayImage) -> FrameRead {
        let read = self.read(frame);
        let answer = match read.reading {
            LcdReading::Code(digits) => Answer::Digits(digits),
            LcdReading::Blank => Answer::Digits(String::new()),
            LcdReading::Unreadable(_) => Answer::Unreadable,
        };
        FrameRead {
            answer,
            confidence: read.confidence,
            in_tracked_window: read.tracked,
        }
    }
}

/// How an answer compares with the label.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// The expected code, or no digit on a blank photo.
    Right,
    /// A full-length code that is not the expected one (the dangerous kind of error).
    WrongCode,
    /// Anything else: unreadable, no digit on a code, too few or too many digits.
    Miss,
}

/// Judges `answer` against `expected`; a code has `code_digits` digits.
pub fn judge(expected: &Expected, answer: &Answer, code_digits: usize) -> Verdict {
    let Answer::Digits(digits) = answer else {
        return Verdict::Miss;
    };
    let right = match expected {
        Expected::Code(code) => digits == code,
        Expected::Blank => digits.is_empty(),
    };
    let full_length = match expected {
        Expected::Code(code) => code.len(),
        Expected::Blank => code_digits,
    };
    if right {
        Verdict::Right
    } else if digits.len() == full_length {
        Verdict::WrongCode
    } else {
        Verdict::Miss
    }
}

/// What to run.
#[derive(Debug, Clone, PartialEq)]
pub struct OcrBenchOptions {
    /// The fixture directory (images and `labels.csv`).
    pub fixtures: PathBuf,
    /// The anchors to run (the others are reported as skipped).
    pub anchors: Vec<Anchor>,
    /// Use only the first N photos of the label file.
    pub limit: Option<usize>,
    /// Write one CSV line per photo (answers and times of every tool) to this file.
    pub details: Option<PathBuf>,
    /// Digit positions of the display.
    pub digits: usize,
    /// How the anchors are called.
    pub anchor_settings: AnchorSettings,
}

impl OcrBenchOptions {
    /// The fixture set at `fixtures` with both anchors, all photos, no details, six digits.
    pub fn new(fixtures: impl Into<PathBuf>) -> Self {
        OcrBenchOptions {
            fixtures: fixtures.into(),
            anchors: Anchor::ALL.to_vec(),
            limit: None,
            details: None,
            digits: 6,
            anchor_settings: AnchorSettings::default(),
        }
    }
}

/// Whether an anchor ran.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AnchorStatus {
    /// It ran; the first line of its version text.
    Ran(String),
    /// It was requested but cannot be started.
    NotInstalled,
    /// It was not requested.
    Skipped,
}

/// One tool's answer for one photo.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolResult {
    /// The normalised answer.
    pub answer: Answer,
    /// The raw output (an anchor's standard output; otprig's answer label).
    pub output: String,
    /// otprig's confidence; `None` for anchors.
    pub confidence: Option<f32>,
    /// How the answer compares with the label.
    pub verdict: Verdict,
    /// Time of the call.
    pub elapsed: Duration,
    /// otprig read the frame in its tracked window (always false for anchors).
    pub in_tracked_window: bool,
}

/// Everything measured on one photo.
#[derive(Debug, Clone, PartialEq)]
pub struct PhotoResult {
    /// The photo and its labels.
    pub photo: LabelledPhoto,
    /// The decoded frame's width and height.
    pub frame_size: (u32, u32),
    /// otprig reading the whole frame with a reset reader.
    pub whole_frame: ToolResult,
    /// otprig reading the same frame again on the same reader (tracked).
    pub tracked: ToolResult,
    /// Each anchor that ran, in [`Anchor::ALL`] order.
    pub anchors: Vec<(Anchor, ToolResult)>,
}

/// The benchmark's results: every photo, and which anchors ran.
#[derive(Debug, Clone, PartialEq)]
pub struct OcrBenchReport {
    /// The fixture directory.
    pub fixtures: PathBuf,
    /// Every anchor with whether it ran, in [`Anchor::ALL`] order.
    pub anchors: Vec<(Anchor, AnchorStatus)>,
    /// Digit positions of the display.
    pub digits: usize,
    /// Per-photo results, in label order.
    pub photos: Vec<PhotoResult>,
}

/// Runs the benchmark: otprig through `otprig`, and the available requested anchors;
/// `progress(done, total)` is called after each photo.
pub fn run_ocr_bench(
    options: &OcrBenchOptions,
    otprig: &mut dyn FrameReader,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<OcrBenchReport, BenchError> {
    let mut photos = load_labels(&options.fixtures)?;
    if let Some(limit) = options.limit {
        photos.truncate(limit);
    }
    if photos.is_empty() {
        return Err(BenchError::NoPhotos {
            path: options.fixtures.clone(),
        });
    }
    let anchors: Vec<(Anchor, AnchorStatus)> = Anchor::ALL
        .into_iter()
        .map(|anchor| {
            let status = if !options.anchors.contains(&anchor) {
                AnchorStatus::Skipped
            } else {
                anchor
                    .version()
                    .map_or(AnchorStatus::NotInstalled, AnchorStatus::Ran)
            };
            (anchor, status)
        })
        .collect();
    let running: Vec<Anchor> = anchors
        .iter()
        .filter(|(_, status)| matches!(status, AnchorStatus::Ran(_)))
        .map(|(anchor, _)| *anchor)
        .collect();
    let scratch = if running.is_empty() {
        None
    } else {
        let dir = std::env::temp_dir();
        Some(
            tempfile::Builder::new()
                .prefix("otprig-bench-")
                .tempdir()
                .map_err(|source| BenchError::Io { path: dir, source })?,
        )
    };
    let total = photos.len();
    let mut results = Vec::with_capacity(total);
    for (index, photo) in photos.into_iter().enumerate() {
        let frame = image::open(&photo.path)
            .map_err(|source| BenchError::Image {
                path: photo.path.clone(),
                source,
            })?
            .into_luma8();
        let (whole_frame, tracked) = measure_otprig(otprig, &frame, &photo, options.digits);
        let mut anchor_results = Vec::with_capacity(running.len());
        if let Some(scratch) = &scratch {
            let crop =
                ExactCrop::cut(&frame, &photo).ok_or_else(|| outside_frame(&photo, &frame))?;
            for &anchor in &running {
                let input = AnchorInput::prepare(
                    anchor,
                    &options.anchor_settings,
                    &crop,
                    options.digits,
                    scratch.path(),
                    "crop",
                )?;
                let read = input.run()?;
                let answer = Answer::Digits(read.digits);
                anchor_results.push((
                    anchor,
                    ToolResult {
                        verdict: judge(&photo.expected, &answer, options.digits),
                        answer,
                        output: read.output,
                        confidence: None,
                        elapsed: read.elapsed,
                        in_tracked_window: false,
                    },
                ));
            }
        }
        progress(index + 1, total);
        results.push(PhotoResult {
            frame_size: frame.dimensions(),
            photo,
            whole_frame,
            tracked,
            anchors: anchor_results,
        });
    }
    let report = OcrBenchReport {
        fixtures: options.fixtures.clone(),
        anchors,
        digits: options.digits,
        photos: results,
    };
    if let Some(path) = &options.details {
        report.write_details(path)?;
    }
    Ok(report)
}

/// otprig's whole-frame read (after a reset) and tracked re-read of `frame`.
fn measure_otprig(
    otprig: &mut dyn FrameReader,
    frame: &GrayImage,
    photo: &LabelledPhoto,
    digits: usize,
) -> (ToolResult, ToolResult) {
    otprig.reset();
    let timed = |otprig: &mut dyn FrameReader| {
        let start = Instant::now();
        let read = otprig.read_frame(frame);
        let elapsed = start.elapsed();
        ToolResult {
            verdict: judge(&photo.expected, &read.answer, digits),
            output: read.answer.label().to_string(),
            answer: read.answer,
            confidence: Some(read.confidence),
            elapsed,
            in_tracked_window: read.in_tracked_window,
        }
    };
    let whole_frame = timed(otprig);
    let tracked = timed(otprig);
    (whole_frame, tracked)
}

/// The label error of a photo whose digits quad is not inside its frame.
fn outside_frame(photo: &LabelledPhoto, frame: &GrayImage) -> BenchError {
    BenchError::Labels {
        path: photo
            .path
            .parent()
            .map_or_else(|| PathBuf::from(LABELS_FILE), |dir| dir.join(LABELS_FILE)),
        problems: vec![LabelProblem {
            line: photo.line,
            message: format!(
                "digits_quad lies outside the {}×{} frame of {}",
                frame.width(),
                frame.height(),
                photo.file
            ),
        }],
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn code(digits: &str) -> Expected {
        Expected::Code(digits.to_string())
    }

    fn digits(text: &str) -> Answer {
        Answer::Digits(text.to_string())
    }

    #[test]
    fn answers_are_judged_against_the_label() {
        assert_eq!(judge(&code("123456"), &digits("123456"), 6), Verdict::Right);
        assert_eq!(
            judge(&code("123456"), &digits("123455"), 6),
            Verdict::WrongCode
        );
        assert_eq!(judge(&code("123456"), &digits("12345"), 6), Verdict::Miss);
        assert_eq!(judge(&code("123456"), &digits(""), 6), Verdict::Miss);
        assert_eq!(
            judge(&code("123456"), &Answer::Unreadable, 6),
            Verdict::Miss
        );
        assert_eq!(judge(&Expected::Blank, &digits(""), 6), Verdict::Right);
        assert_eq!(
            judge(&Expected::Blank, &digits("888888"), 6),
            Verdict::WrongCode
        );
        assert_eq!(judge(&Expected::Blank, &digits("88"), 6), Verdict::Miss);
        assert_eq!(
            judge(&Expected::Blank, &Answer::Unreadable, 6),
            Verdict::Miss
        );
    }

    #[test]
    fn answers_have_short_labels() {
        assert_eq!(digits("012345").label(), "012345");
        assert_eq!(digits("").label(), "blank");
        assert_eq!(Answer::Unreadable.label(), "?");
    }
}
