//! `otprig bench ocr`: the LCD reader against `ssocr` and `tesseract` on one labelled photo set.
//!
//! The table goes to stdout, progress to stderr; the exit code is 0 when the benchmark ran (its
//! figures are the result, not a verdict), 3 for a bad fixture set, 2 when an anchor tool broke.

use indicatif::{ProgressBar, ProgressStyle};

use crate::bench::anchor::Anchor;
use crate::bench::{OcrBenchOptions, run_ocr_bench};
use crate::cli::BenchOcrArgs;
use crate::error::Error;
use crate::perception::lcd::LcdReader;

/// Runs `otprig bench ocr` and prints its report.
pub fn bench_ocr_command(args: &BenchOcrArgs) -> Result<i32, Error> {
    let mut options = OcrBenchOptions::new(&args.fixtures);
    options.limit = args.limit;
    options.details = args.details.clone();
    options.anchors.retain(|anchor| match anchor {
        Anchor::Ssocr => !args.no_ssocr,
        Anchor::Tesseract => !args.no_tesseract,
    });
    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template("{spinner} [{bar:30}] {pos}/{len} photos {elapsed}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    let mut reader = LcdReader::new(options.digits);
    let report = run_ocr_bench(&options, &mut reader, &mut |done, total| {
        bar.set_length(total as u64);
        bar.set_position(done as u64);
    });
    bar.finish_and_clear();
    let report = report?;
    let mut out = std::io::stdout().lock();
    report.print(&mut out).map_err(|source| Error::Io {
        path: "stdout".to_string(),
        source,
    })?;
    Ok(0)
}
