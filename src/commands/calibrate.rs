//! `otprig calibrate --rig FILE`: finds the LCD window in the rig's camera frames and stores it.
//!
//! It makes the token show a code (the key its profile says shows one), grabs a second of frames,
//! locates the window afresh in each, and keeps the corner-wise median of the windows that read
//! as a code (or, if none did, as a framed blank display). The result goes to
//! `<rig>.calibration.yaml` beside the rig file and an annotated PNG, `<rig>.calibration.png`,
//! shows the frame with the window outlined and the rectified window in the corner.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use image::{GrayImage, Rgb, RgbImage};
use imageproc::drawing::{draw_filled_circle_mut, draw_hollow_rect_mut, draw_line_segment_mut};
use imageproc::rect::Rect;

use crate::app::{EXIT_RIG_ERROR, build_rig};
use crate::cli::CalibrateArgs;
use crate::config::RigConfig;
use crate::config::calibration::LcdCalibration;
use crate::config::rig::{Backend, file_beside};
use crate::error::Error;
use crate::perception::lcd::{LcdReader, LcdReading, Quad, rectify};
use crate::rig::{self, ReleaseOnDrop};

/// How long after the key press the first frame is taken (the display settles).
const SETTLE: Duration = Duration::from_millis(600);
/// Frames examined.
const FRAMES: usize = 15;

/// Runs `otprig calibrate`; exit 0 with the files written, 2 when no window was found.
pub async fn calibrate_command(args: &CalibrateArgs) -> Result<i32, Error> {
    let config = RigConfig::load(&args.rig)?;
    if config.backend == Backend::Lab {
        tokio::time::resume();
    }
    let rig = build_rig(&config, args.seed, &[])?;
    let _release = ReleaseOnDrop(rig.buttons.clone());
    let mut camera = rig.camera;
    if let Some(key) = config.token.profile.show_code_input() {
        let timing = &config.token.profile.timing;
        rig::press_input(&rig.buttons, key, timing.press, timing.chord_gap).await?;
    }
    tokio::time::sleep(SETTLE).await;
    let period = camera.frame_period();
    let mut found: Vec<(Quad, String)> = Vec::new();
    let mut blanks: Vec<Quad> = Vec::new();
    let mut last_frame = None;
    for _ in 0..FRAMES {
        let frame = camera.capture()?;
        let read = LcdReader::new(config.token.profile.display_digits).read(&frame.image);
        match (&read.reading, read.quad) {
            (LcdReading::Code(code), Some(quad)) => found.push((quad, code.clone())),
            (LcdReading::Blank, Some(quad)) => blanks.push(quad),
            _ => {}
        }
        last_frame = Some(frame);
        tokio::time::sleep(period).await;
    }
    rig::release_all(&rig.buttons)?;
    let Some(frame) = last_frame else {
        return Err(Error::Usage("the camera delivered no frame".into()));
    };
    let png = file_beside(&config.file, "calibration.png");
    let (quads, reading): (Vec<Quad>, String) = if found.is_empty() {
        (blanks, "blank".into())
    } else {
        let reading = found.last().map(|f| f.1.clone()).unwrap_or_default();
        (found.into_iter().map(|f| f.0).collect(), reading)
    };
    let Some(window) = median_quad(&quads) else {
        write_png(&annotate(&frame.image, None), &png)?;
        eprintln!(
            "otprig: no LCD window found in {FRAMES} frames from {}; the last frame is in {}",
            config.name,
            png.display()
        );
        return Ok(EXIT_RIG_ERROR);
    };
    let calibration = LcdCalibration {
        kind: "calibration".into(),
        rig: config.name.clone(),
        frame: [frame.image.width(), frame.image.height()],
        lcd_window: window.rounded(),
        reading: reading.clone(),
        made: humantime::format_rfc3339_seconds(SystemTime::now()).to_string(),
        file: PathBuf::new(),
    };
    let file = LcdCalibration::path_for(&config.file);
    std::fs::write(&file, calibration.to_text()).map_err(|source| Error::Io {
        path: file.display().to_string(),
        source,
    })?;
    write_png(&annotate(&frame.image, Some(&window)), &png)?;
    println!(
        "{}: LCD window {:?} (read {reading} in {} of {FRAMES} frames)",
        file.display(),
        window.rounded(),
        quads.len()
    );
    println!("{}: annotated frame", png.display());
    Ok(0)
}

/// The corner-wise median of `quads`.
fn median_quad(quads: &[Quad]) -> Option<Quad> {
    if quads.is_empty() {
        return None;
    }
    let mut corners = [[0.0f32; 2]; 4];
    for (i, corner) in corners.iter_mut().enumerate() {
        for (axis, value) in corner.iter_mut().enumerate() {
            let mut values: Vec<f32> = quads.iter().map(|q| q.0[i][axis]).collect();
            values.sort_by(f32::total_cmp);
            *value = values[values.len() / 2];
        }
    }
    Some(Quad(corners))
}

/// The frame in colour with the window outlined in green, its corners in red, and the rectified
/// window copied into the top-left corner.
fn annotate(frame: &GrayImage, window: Option<&Quad>) -> RgbImage {
    let mut out = RgbImage::from_fn(frame.width(), frame.height(), |x, y| {
        let v = frame.get_pixel(x, y)[0];
        Rgb([v, v, v])
    });
    let Some(window) = window else {
        return out;
    };
    let green = Rgb([40, 220, 60]);
    for i in 0..4 {
        let (a, b) = (window.0[i], window.0[(i + 1) % 4]);
        draw_line_segment_mut(&mut out, (a[0], a[1]), (b[0], b[1]), green);
    }
    for p in window.0 {
        draw_filled_circle_mut(&mut out, (p[0] as i32, p[1] as i32), 3, Rgb([230, 40, 40]));
    }
    if let Some(patch) = rectify::rectify(frame, window) {
        for (i, &v) in patch.pixels.iter().enumerate() {
            let (x, y) = ((i % patch.width) as u32 + 4, (i / patch.width) as u32 + 4);
            if x < out.width() && y < out.height() {
                out.put_pixel(x, y, Rgb([v, v, v]));
            }
        }
        let (w, h) = (patch.width as u32 + 2, patch.height as u32 + 2);
        draw_hollow_rect_mut(&mut out, Rect::at(3, 3).of_size(w, h), green);
    }
    out
}

fn write_png(image: &RgbImage, path: &Path) -> Result<(), Error> {
    image.save(path).map_err(|e| Error::Io {
        path: path.display().to_string(),
        source: std::io::Error::other(e),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_median_quad_ignores_one_outlier() {
        let a = Quad::from_rect(10.0, 10.0, 100.0, 30.0);
        let far = Quad::from_rect(200.0, 200.0, 100.0, 30.0);
        let median = median_quad(&[a, a, far]).expect("a quad");
        assert_eq!(median, a);
    }

    #[test]
    fn files_sit_beside_the_rig() {
        assert_eq!(
            file_beside(Path::new("rig/lab.yaml"), "calibration.png"),
            PathBuf::from("rig/lab.calibration.png")
        );
    }
}
