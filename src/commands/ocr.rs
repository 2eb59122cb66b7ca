//! `otprig ocr`: reads the LCD in photos, one line per image: path, tab, digits | `blank` | `?`.
//!
//! The reader locates the window in each whole image (or starts from the rig's calibrated window
//! with `--rig`); why an image could not be read goes to stderr, so stdout stays one line each.

use std::path::Path;

use image::GrayImage;

use crate::app::EXIT_BAD_INPUT;
use crate::app::EXIT_RIG_ERROR;
use crate::cli::OcrArgs;
use crate::config::RigConfig;
use crate::error::Error;
use crate::perception::lcd::{LcdRead, LcdReader, LcdReading};

/// Runs `otprig ocr`; exit 0 when every image was read, 2 when some showed no readable display,
/// 3 when an image could not be opened.
pub fn ocr_command(args: &OcrArgs) -> Result<i32, Error> {
    let rig = match &args.rig {
        Some(file) => Some(RigConfig::load(file)?),
        None => None,
    };
    let fresh_reader = || match &rig {
        Some(rig) => crate::app::lcd_reader_for(rig),
        None => LcdReader::new(6),
    };
    let (mut unreadable, mut bad_files) = (0, 0);
    for path in &args.images {
        let frame = match open_grey(path) {
            Ok(frame) => frame,
            Err(why) => {
                bad_files += 1;
                eprintln!("otprig: {}: {why}", path.display());
                println!("{}\t?", path.display());
                continue;
            }
        };
        // A fresh reader per image: each line depends on its image only.
        let read = fresh_reader().read(&frame);
        println!("{}\t{}", path.display(), answer(&read));
        if let LcdReading::Unreadable(why) = &read.reading {
            unreadable += 1;
            eprintln!("otprig: {}: {why:?}", path.display());
        }
        if args.explain {
            eprintln!("{}", explain(path, &read));
        }
    }
    Ok(if bad_files > 0 {
        EXIT_BAD_INPUT
    } else if unreadable > 0 {
        EXIT_RIG_ERROR
    } else {
        0
    })
}

/// The image at `path` as grey levels (luma of colour images).
pub fn open_grey(path: &Path) -> Result<GrayImage, String> {
    let image = image::ImageReader::open(path)
        .map_err(|e| e.to_string())?
        .with_guessed_format()
        .map_err(|e| e.to_string())?
        .decode()
        .map_err(|e| e.to_string())?;
    Ok(image.into_luma8())
}

/// The answer column: the digits, `blank`, or `?`.
pub fn answer(read: &LcdRead) -> String {
    match &read.reading {
        LcdReading::Code(code) => code.clone(),
        LcdReading::Blank => "blank".to_string(),
        LcdReading::Unreadable(_) => "?".to_string(),
    }
}

/// One line of details: confidence, window corners and per-digit masks.
fn explain(path: &Path, read: &LcdRead) -> String {
    let masks: Vec<String> = read
        .digits
        .iter()
        .map(|d| format!("{:02x}", d.mask))
        .collect();
    format!(
        "{}: {:?} confidence {:.2} sharpness {:.2} contrast {:.2} window {:?} masks [{}]",
        path.display(),
        read.reading,
        read.confidence,
        read.sharpness,
        read.contrast,
        read.quad.map(|q| q.rounded()),
        masks.join(" ")
    )
}
