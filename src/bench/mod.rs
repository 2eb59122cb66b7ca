//! Benchmarks: measure otprig's perception against the tools a lab would use instead.
//!
//! Inputs: a labelled fixture set (see [`labels`]). Outputs: reports of accuracy and time per frame.
//! Benchmarks read fixtures and run external tools; they never drive a rig.

pub mod anchor;
pub mod crop;
pub mod error;
pub mod labels;
pub mod ocr;
pub mod ocr_report;
pub mod scratch;
pub mod ssocr;
pub mod tesseract;

pub use error::BenchError;
pub use ocr::{FrameReader, OcrBenchOptions, OcrBenchReport, run_ocr_bench};
