//! How the benchmark calls `tesseract` (general OCR, Debian package `tesseract-ocr`) on an exact
//! crop, and how it prepares that crop.
//!
//! Inputs: an [`ExactCrop`].
//! Outputs: the image to hand to tesseract, and the arguments and environment of one call.
//!
//! Tesseract has no rotate or shear option, so the crop is straightened here before the timed
//! call, as a lab's capture script would (it costs well under a millisecond next to the
//! process's own ~170 ms). The default [`TesseractSettings`] are the best honest case found with
//! tesseract 5.3.0 and Debian's `eng` LSTM model on `fixtures/lcd` (360 frames):
//!
//! | call | accuracy | wrong codes |
//! |---|---|---|
//! | `tesseract crop.png stdout --psm 7 -c tessedit_char_whitelist=0123456789` | 18.6 % | 38 |
//! | the same without the whitelist | 18.9 % | 33 |
//! | `--psm 8` or `--psm 13` (one word, raw line) | 21.1 % | 55 |
//! | straightened crop (`--psm 7`, whitelist) | 17.2 % | 41 |
//! | straightened, digits scaled to 40 px, gaussian blur of 6 % of the digit height | 26.9 % | 50 |
//!
//! - The blur closes the gaps between segments, so digits look like the strokes the model knows;
//!   3 % helps less, 10 % smears digits together (16 %). Digit heights of 24 to 64 px scored
//!   23–27 %; Otsu binarising first lost 3 points; straightening alone changes little (±1 point).
//! - Tesseract turns many crops into a wrong six-digit code (about one in seven): it guesses.
//! - `OMP_THREAD_LIMIT=1`: one core, like otprig, and faster than its default thread pool on a
//!   crop this small (about 190 instead of 240 ms per call).

use std::ffi::OsString;
use std::path::Path;

use image::GrayImage;
use image::imageops::FilterType;
use imageproc::geometric_transformations::{Border, Interpolation, Projection, warp};

use super::crop::ExactCrop;

/// How to prepare crops for tesseract and call it (the default is the best case found).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TesseractSettings {
    /// Tesseract's page segmentation mode (`--psm`).
    pub page_segmentation: u8,
    /// Restrict the answer to digits (`tessedit_char_whitelist`).
    pub digits_whitelist: bool,
    /// Undo the row's rotation and the digits' slant before the call.
    pub deskew: bool,
    /// Scale the crop so digits are this many pixels high; `None` keeps the crop's size.
    pub digit_height_px: Option<u32>,
    /// Gaussian blur sigma as a share of the digit height (after scaling); 0 for none.
    pub blur_share: f32,
}

impl Default for TesseractSettings {
    fn default() -> Self {
        TesseractSettings {
            page_segmentation: 7,
            digits_whitelist: true,
            deskew: true,
            digit_height_px: Some(40),
            blur_share: 0.06,
        }
    }
}

/// The image tesseract is given: `crop` straightened, scaled and blurred as `settings` say.
pub fn prepare_for_tesseract(settings: &TesseractSettings, crop: &ExactCrop) -> GrayImage {
    let mut image = if settings.deskew {
        straighten(crop)
    } else {
        match crop.exact_box() {
            Some(a) => {
                image::imageops::crop_imm(&crop.image, a.x, a.y, a.width, a.height).to_image()
            }
            None => crop.image.clone(),
        }
    };
    let mut height = crop.digit_height.max(1.0);
    if let Some(target) = settings.digit_height_px {
        let k = target as f32 / height;
        let w = ((image.width() as f32 * k).round() as u32).max(1);
        let h = ((image.height() as f32 * k).round() as u32).max(1);
        image = image::imageops::resize(&image, w, h, FilterType::Triangle);
        height = target as f32;
    }
    if settings.blur_share > 0.0 {
        image = imageproc::filter::gaussian_blur_f32(&image, settings.blur_share * height);
    }
    image
}

/// The crop turned back by the row's rotation about its centre, cut to the upright digits, and
/// sheared back by the digits' lean about its middle row; pixels from outside repeat the nearest
/// edge.
fn straighten(crop: &ExactCrop) -> GrayImage {
    let deskew = &crop.deskew;
    let (width, height) = crop.image.dimensions();
    let (cx, cy) = (width as f32 / 2.0, height as f32 / 2.0);
    let turn_back = Projection::translate(cx, cy)
        * Projection::rotate(-deskew.rotation_deg.to_radians())
        * Projection::translate(-cx, -cy);
    let turned = warp(
        &crop.image,
        turn_back,
        Interpolation::Bilinear,
        Border::Replicate,
    );
    let upright = match crop.upright_box() {
        Some(a) => image::imageops::crop_imm(&turned, a.x, a.y, a.width, a.height).to_image(),
        None => turned,
    };
    let k = deskew.slant_deg.to_radians().tan();
    let middle = upright.height() as f32 / 2.0;
    // x' = x + k (y - middle): the top (y < middle) moves left, the bottom right. A shear matrix
    // always has an inverse; the fallback only keeps this function panic-free.
    match Projection::from_matrix([1.0, k, -k * middle, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0]) {
        Some(unslant) => warp(
            &upright,
            unslant,
            Interpolation::Bilinear,
            Border::Replicate,
        ),
        None => upright,
    }
}

/// The arguments of a tesseract call on `image` that prints its answer to standard output.
pub fn tesseract_args(settings: &TesseractSettings, image: &Path) -> Vec<OsString> {
    let mut args: Vec<OsString> = vec![
        image.into(),
        "stdout".into(),
        "--psm".into(),
        settings.page_segmentation.to_string().into(),
    ];
    if settings.digits_whitelist {
        args.extend(["-c".into(), "tessedit_char_whitelist=0123456789".into()]);
    }
    args
}

/// Environment variables of a tesseract call: one OpenMP thread.
pub const TESSERACT_ENV: [(&str, &str); 1] = [("OMP_THREAD_LIMIT", "1")];

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::bench::crop::Deskew;
    use crate::bench::labels::Quad;

    #[test]
    fn the_call_reads_one_line_of_digits() {
        let args = tesseract_args(&TesseractSettings::default(), Path::new("c.png"));
        let text: Vec<_> = args.iter().map(|a| a.to_string_lossy()).collect();
        assert_eq!(
            text.join(" "),
            "c.png stdout --psm 7 -c tessedit_char_whitelist=0123456789"
        );
    }

    fn crop(image: GrayImage, slant_deg: f32, quad: &str) -> ExactCrop {
        let digits_quad = Quad::parse(quad).unwrap();
        ExactCrop {
            image,
            deskew: Deskew {
                rotation_deg: 0.0,
                slant_deg,
            },
            digit_height: digits_quad.height(),
            digits_quad,
        }
    }

    #[test]
    fn preparation_scales_to_the_digit_height() {
        let settings = TesseractSettings {
            deskew: false,
            digit_height_px: Some(48),
            ..TesseractSettings::default()
        };
        let image = GrayImage::from_pixel(120, 30, image::Luma([200]));
        let image = prepare_for_tesseract(&settings, &crop(image, 0.0, "3 3 117 3 117 27 3 27"));
        assert_eq!(image.dimensions(), (240, 60));
        assert_eq!(image.get_pixel(120, 30)[0], 200);
    }

    #[test]
    fn straightening_undoes_a_lean() {
        // A vertical bar leaning right by 45°: x = 20 + (20 - y) around the middle row 20.
        let mut image = GrayImage::from_pixel(40, 40, image::Luma([255]));
        for y in 5..35u32 {
            let x = 40 - y;
            image.put_pixel(x, y, image::Luma([0]));
        }
        let upright = straighten(&crop(image, 45.0, "-100 -100 140 -100 140 140 -100 140"));
        assert_eq!(upright.dimensions(), (40, 40));
        for y in 8..32u32 {
            assert!(upright.get_pixel(20, y)[0] < 128, "row {y}");
        }
    }
}
