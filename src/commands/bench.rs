//! `otprig bench ocr`: the LCD reader against `ssocr` and `tesseract` on one labelled photo set;
//! `otprig bench listen`: the speech listener on a labelled speech set, and faster-whisper beside it
//! when asked.
//!
//! The table goes to stdout, progress to stderr; the exit code is 0 when the benchmark ran (its
//! figures are the result, not a verdict; an anchor that is not installed is reported and left
//! out), 3 for a bad fixture set, 2 when an anchor tool broke.

use indicatif::{ProgressBar, ProgressStyle};

use crate::bench::anchor::Anchor;
use crate::bench::listen::{ListenBenchOptions, run_listen_bench};
use crate::bench::whisper::WhisperHome;
use crate::bench::{BenchError, OcrBenchOptions, run_ocr_bench};
use crate::cli::{BenchListenArgs, BenchOcrArgs, ListenAnchor};
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
    let mut reader = LcdReader::new(options.digits);
    let report = with_progress("photos", |progress| {
        run_ocr_bench(&options, &mut reader, progress)
    })?;
    print_to_stdout(|out| report.print(out))
}

/// Runs `otprig bench listen` and prints its report.
pub fn bench_listen_command(args: &BenchListenArgs) -> Result<i32, Error> {
    let mut options = ListenBenchOptions::new(&args.set);
    if let Some(packs) = &args.packs {
        options.packs = packs.clone();
    }
    options.limit = args.limit;
    options.known_length = !args.any_length;
    options.details = args.details.clone();
    if args.anchor.contains(&ListenAnchor::FasterWhisper) {
        options.whisper = Some(WhisperHome::from_env());
    }
    let report = with_progress("recordings heard", |progress| {
        run_listen_bench(&options, progress)
    })?;
    print_to_stdout(|out| report.print(out))
}

/// Runs a benchmark with a progress bar on stderr counting `what` (cleared when it ends).
fn with_progress<R>(
    what: &str,
    run: impl FnOnce(&mut dyn FnMut(usize, usize)) -> Result<R, BenchError>,
) -> Result<R, BenchError> {
    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template(&format!(
            "{{spinner}} [{{bar:30}}] {{pos}}/{{len}} {what} {{elapsed}}"
        ))
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    let result = run(&mut |done, total| {
        bar.set_length(total as u64);
        bar.set_position(done as u64);
    });
    bar.finish_and_clear();
    result
}

/// Prints a report on stdout; exit code 0 (a benchmark's figures are its result).
fn print_to_stdout(
    print: impl FnOnce(&mut std::io::StdoutLock<'static>) -> std::io::Result<()>,
) -> Result<i32, Error> {
    let mut out = std::io::stdout().lock();
    print(&mut out).map_err(|source| Error::Io {
        path: "stdout".to_string(),
        source,
    })?;
    Ok(0)
}
