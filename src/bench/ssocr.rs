//! How the benchmark calls `ssocr` (seven-segment OCR, Debian package `ssocr`) on an exact crop.
//!
//! Inputs: an [`ExactCrop`] and the file it is saved in, the number of digits.
//! Outputs: the command-line arguments of one `ssocr` call.
//!
//! The default [`SsocrSettings`] are the best honest case found with ssocr 2.22.1 on
//! `fixtures/lcd` (360 frames; accuracy of each step, cumulative):
//!
//! | call | accuracy |
//! |---|---|
//! | `ssocr -d 6 crop.png` | 33.9 % |
//! | `-T`: iterative (k-means) threshold instead of 50 % of the luminance range | 36.4 % |
//! | `-c digits`: no look-alike letters (`b`, `o`, `h`) | 36.7 % |
//! | `rotate`, `crop` and `shear` from the labels | 66.1 % |
//! | `remove_isolated`: drop lone noise pixels | 67.8 % |
//! | `dilation` after it: grow the digits a pixel, closing segment gaps | 70.3 % |
//!
//! - Straightening is the largest gain: ssocr separates digits by empty pixel columns, so a
//!   turned row or italic digits make neighbours overlap. The crop is turned back about its
//!   centre, cut to the upright digits (the turned corners hold bezel and body, which spoil the
//!   threshold), then sheared. A lab would hand-set the same `rotate`, `crop` and `shear` once
//!   per bench; here they come from each photo's labels.
//! - `dilation` trades a few more wrong codes (3 → 9 of 360) for 2.5 points of accuracy.
//! - Commands follow `--`, so negative angles and offsets are not read as options.
//! - Tried and dropped (on generated frames): `-d -1` (auto-detect) splits or merges digits;
//!   `dynamic_threshold W H` (local threshold) takes about a second per crop and was no better;
//!   `closing`, `opening`, `dilation 2`, `-i`, `-n`, `-r` and fixed `-t` levels were no better.
//! - ssocr stretches its threshold to the crop's own luminance range, so on an on-but-blank LCD
//!   faint ghost segments can become ink: it read 2 of the 51 blank frames as `888888`/`888111`.

use std::ffi::OsString;
use std::path::Path;

use super::crop::ExactCrop;

/// Which of ssocr's options and commands to use (the default is the best case found).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SsocrSettings {
    /// `-T`: iterative threshold instead of a fixed one.
    pub iterative_threshold: bool,
    /// `-c digits`: recognise digits only.
    pub digits_charset: bool,
    /// `rotate` and `shear` from the labels.
    pub deskew: bool,
    /// `remove_isolated`: drop lone foreground pixels.
    pub remove_isolated: bool,
    /// `dilation` (after `remove_isolated`): grow the digits by a pixel, closing segment gaps.
    pub dilation: bool,
}

impl Default for SsocrSettings {
    fn default() -> Self {
        SsocrSettings {
            iterative_threshold: true,
            digits_charset: true,
            deskew: true,
            remove_isolated: true,
            dilation: true,
        }
    }
}

/// Smallest rotation worth a `rotate` command, in degrees.
const ROTATE_MIN_DEG: f32 = 0.5;

/// The arguments of an ssocr call reading `digits` digits from `crop`, saved as `image`.
pub fn ssocr_args(
    settings: &SsocrSettings,
    digits: usize,
    crop: &ExactCrop,
    image: &Path,
) -> Vec<OsString> {
    let deskew = &crop.deskew;
    let mut args: Vec<OsString> = vec!["-d".into(), digits.to_string().into()];
    if settings.iterative_threshold {
        args.push("-T".into());
    }
    if settings.digits_charset {
        args.extend(["-c".into(), "digits".into()]);
    }
    args.push("--".into());
    let turn = settings.deskew && deskew.rotation_deg.abs() >= ROTATE_MIN_DEG;
    if turn {
        // ssocr turns clockwise about the centre by its argument; undo the row's clockwise turn.
        args.extend([
            "rotate".into(),
            format!("{:.2}", -deskew.rotation_deg).into(),
        ]);
    }
    let area = if turn {
        crop.upright_box()
    } else {
        crop.exact_box()
    };
    let Some(mut area) = area else {
        // The digits quad lies outside the crop: let ssocr try the whole image.
        args.push(image.into());
        return args;
    };
    // `shear N` moves the bottom row N pixels right and the top row not at all, which undoes a
    // lean of atan(N / height) to the right. It drops what it moves out of the image, so the box
    // gets N more pixels on the side the digits move to.
    let offset = if settings.deskew {
        (deskew.slant_deg.to_radians().tan() * area.height as f32).round() as i64
    } else {
        0
    };
    let room = offset.unsigned_abs() as u32;
    if offset > 0 {
        area.width = (area.width + room).min(crop.image.width() - area.x);
    } else if offset < 0 {
        let x = area.x.saturating_sub(room);
        area.width += area.x - x;
        area.x = x;
    }
    args.push("crop".into());
    args.extend([area.x, area.y, area.width, area.height].map(|v| OsString::from(v.to_string())));
    if offset != 0 {
        args.extend(["shear".into(), offset.to_string().into()]);
    }
    if settings.remove_isolated {
        args.push("remove_isolated".into());
    }
    if settings.dilation {
        args.push("dilation".into());
    }
    args.push(image.into());
    args
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::bench::crop::Deskew;
    use crate::bench::labels::Quad;

    fn text(args: &[OsString]) -> String {
        args.iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join(" ")
    }

    fn crop(rotation_deg: f32, slant_deg: f32) -> ExactCrop {
        ExactCrop {
            image: image::GrayImage::new(320, 120),
            deskew: Deskew {
                rotation_deg,
                slant_deg,
            },
            digit_height: 60.0,
            digits_quad: Quad::parse("30 30 290 30 290 90 30 90").unwrap(),
        }
    }

    #[test]
    fn the_default_call_straightens_the_crop() {
        let args = ssocr_args(
            &SsocrSettings::default(),
            6,
            &crop(-3.0, 6.0),
            Path::new("/tmp/c.png"),
        );
        // Turned by 3° about (160, 60), the 260×60 quad's box is 262.8×73.5; add a 6 px margin
        // on every side and a 3.2 px italic overhang left and right: x 19..301, y 17..103. The
        // shear is tan 6° × 86 px = 9 px, and the box gets 9 px more on the right.
        assert_eq!(
            text(&args),
            "-d 6 -T -c digits -- rotate 3.00 crop 19 17 291 86 shear 9 remove_isolated dilation /tmp/c.png"
        );
    }

    #[test]
    fn settings_drop_their_options_and_tiny_turns_are_skipped() {
        let settings = SsocrSettings {
            iterative_threshold: false,
            digits_charset: false,
            deskew: true,
            remove_isolated: false,
            dilation: false,
        };
        let args = ssocr_args(&settings, 6, &crop(0.2, 0.0), Path::new("c.png"));
        assert_eq!(text(&args), "-d 6 -- crop 24 24 272 72 c.png");
    }
}
