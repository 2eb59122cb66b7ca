//! `otprig bench ocr`: the LCD reader against `ssocr` and `tesseract` on one labelled photo set;
//! `otprig bench listen`: the speech listener on a labelled speech set.
//!
//! The table goes to stdout, progress to stderr; the exit code is 0 when the benchmark ran (its
//! figures are the result, not a verdict), 3 for a bad fixture set, 2 when an anchor tool broke.

use indicatif::{ProgressBar, ProgressStyle};

use crate::bench::anchor::Anchor;
use crate::bench::listen::{ListenBenchOptions, run_listen_bench};
use crate::bench::{OcrBenchOptions, run_ocr_bench};
use crate::cli::{BenchListenArgs, BenchOcrArgs};
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
    let bar = progress_bar("photos");
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

/// Runs `otprig bench listen` and prints its report.
pub fn bench_listen_command(args: &BenchListenArgs) -> Result<i32, Error> {
    let mut options = ListenBenchOptions::new(&args.set);
    if let Some(packs) = &args.packs {
        options.packs = packs.clone();
    }
    options.limit = args.limit;
    options.known_length = !args.any_length;
    let bar = progress_bar("recordings");
    let report = run_listen_bench(&options, &mut |done, total| {
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

/// A progress bar on stderr counting `what`.
fn progress_bar(what: &str) -> ProgressBar {
    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template(&format!(
            "{{spinner}} [{{bar:30}}] {{pos}}/{{len}} {what} {{elapsed}}"
        ))
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    bar
}
