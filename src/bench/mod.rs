//! Benchmarks: measure otprig's perception against the tools a lab would use instead.
//!
//! Inputs: a labelled fixture set (see [`labels`]) and otprig's reader behind [`FrameReader`].
//! Outputs: an [`OcrBenchReport`] of accuracy and time per frame, printed as one table with the
//! ratios and a breakdown, and optionally a per-photo CSV.
//!
//! Benchmarks read fixtures and run external tools (`ssocr`, `tesseract`, faster-whisper); they
//! never drive a rig.
//! The OCR benchmark is split by stage: [`labels`] (the label file), [`crop`] (the anchors' exact
//! crops), [`ssocr`] and [`tesseract`] (how each anchor is called), [`anchor`] (running and timing
//! a call), [`ocr`] (the run) and [`ocr_report`] (the printed report and the details CSV). The
//! listening benchmark: [`speech_labels`] (the label file), [`whisper`] (the faster-whisper
//! anchor process), [`listen`] (the run) and [`listen_report`] (the printed report).

pub mod anchor;
pub mod crop;
pub mod error;
pub mod labels;
pub mod listen;
pub mod listen_report;
pub mod ocr;
pub mod ocr_report;
pub mod speech_labels;
pub mod ssocr;
pub mod tesseract;
pub mod whisper;

pub use error::BenchError;
pub use ocr::{FrameReader, OcrBenchOptions, OcrBenchReport, run_ocr_bench};
