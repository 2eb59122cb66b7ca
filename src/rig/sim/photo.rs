//! Lab photos: renders varied photos of a MitID code display token on a bench, with their ground
//! truth, for the labelled LCD fixture set (`fixtures/lcd/`, issue 4).
//!
//! Inputs: a [`PhotoSpec`] (frame, token geometry, font, camera pose, bench, lighting, LCD look,
//! sensor; chosen by [`PhotoSpec::random`] or built by hand) and a [`PhotoContent`] (chosen by
//! [`PhotoContent::random`] or by hand), kept apart so one spec can show several contents.
//! Outputs: a [`Photo`]: the image (grey or RGB) and its [`PhotoTruth`] (expected text, the
//! LCD window's and the digit block's corners in frame pixels, and a summary for the labels).
//!
//! Unlike the simulator's [`scene`](super::scene), which draws one fixed look for the simulated
//! camera, this renderer varies everything a reader meets on real benches: device proportions,
//! fonts, perspective, light, glare, blur, noise and compression.
//!
//! Invariants:
//! - Deterministic: the same spec and content give the same image, bit for bit.
//! - Drawing inverse-maps each pixel through the camera's homography into the token plane, with
//!   analytic anti-aliasing from the local pixel footprint; lens blur, light and noise follow in
//!   pixel space.
//! - Corners are listed TL, TR, BR, BL as seen on the upright token (not sorted in the frame).

mod camera;
mod font;
mod surface;
mod variety;

use image::{DynamicImage, GrayImage, RgbImage};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

pub use self::camera::{CameraPose, Homography};
pub use self::font::{FONTS, Font, SegmentEnds};
use self::surface::Surface;
use super::scene::{LCD_DIGITS, gaussian_blur};

/// Grey levels, or linear RGB when the photo is in colour.
pub type Rgb = [f32; 3];

/// Everything that defines one lab photo except what the LCD shows.
#[derive(Debug, Clone, PartialEq)]
pub struct PhotoSpec {
    /// Frame width in pixels.
    pub width: u32,
    /// Frame height in pixels.
    pub height: u32,
    /// The token's body, LCD window, digit layout, label, button and stickers.
    pub token: TokenLayout,
    /// The LCD's seven-segment font.
    pub font: Font,
    /// Where the camera sits.
    pub camera: CameraPose,
    /// What the token lies on.
    pub bench: Bench,
    /// Exposure, gradient, vignetting and glare.
    pub lighting: Lighting,
    /// Panel, ink and ghost shades of the LCD.
    pub lcd: LcdLook,
    /// Lens blur, sensor noise and file encoding.
    pub sensor: Sensor,
    /// Colour casts of the materials; `None` for a grey photo.
    pub tints: Option<Tints>,
    /// Seeds the textures and the sensor noise.
    pub seed: u64,
}

/// The token in token units ("mm"): origin at the body's centre, x right, y down.
#[derive(Debug, Clone, PartialEq)]
pub struct TokenLayout {
    /// Half width and half height of the body.
    pub body_half: (f32, f32),
    /// Corner radius of the body.
    pub body_radius: f32,
    /// Grey level of the body (dark plastic).
    pub body_grey: f32,
    /// Centre of the LCD window.
    pub window_centre: (f32, f32),
    /// Half width and half height of the LCD window (the light panel inside the bezel).
    pub window_half: (f32, f32),
    /// Corner radius of the LCD window.
    pub window_radius: f32,
    /// Width of the bezel around the window.
    pub bezel: f32,
    /// Grey level of the bezel.
    pub bezel_grey: f32,
    /// Width of one digit cell.
    pub digit_w: f32,
    /// Height of one digit cell.
    pub digit_h: f32,
    /// Horizontal gap between neighbouring digit cells.
    pub digit_gap: f32,
    /// Top-left corner of the digit block before slant.
    pub digits_origin: (f32, f32),
    /// The printed label (sticker or print on the body).
    pub label: Label,
    /// The round button.
    pub button: Button,
    /// An extra light sticker elsewhere on the body, a distractor for LCD locators.
    pub sticker: Option<Label>,
}

impl TokenLayout {
    /// Width of the six-digit block.
    pub fn digits_width(&self) -> f32 {
        LCD_DIGITS as f32 * self.digit_w + (LCD_DIGITS as f32 - 1.0) * self.digit_gap
    }
}

/// A printed rectangle on the body: a light sticker with dark marks, or light marks printed
/// straight on the body.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Label {
    /// Centre on the body.
    pub centre: (f32, f32),
    /// Half width and half height.
    pub half: (f32, f32),
    /// Grey level of the sticker's paper; `None` when the marks are printed on the body.
    pub paper: Option<f32>,
    /// Grey level of the marks.
    pub ink: f32,
    /// What the marks are.
    pub marks: LabelMarks,
}

/// Marks on a label.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LabelMarks {
    /// Lines of text-like bars (with a ring logo when printed on the body).
    Text,
    /// A barcode of vertical bars.
    Barcode,
}

/// The round button below the window.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Button {
    /// Centre on the body.
    pub centre: (f32, f32),
    /// Radius.
    pub radius: f32,
    /// Grey level of its face.
    pub grey: f32,
}

/// The bench surface around the token.
#[derive(Debug, Clone, PartialEq)]
pub struct Bench {
    /// Mean grey level.
    pub grey: f32,
    /// Amplitude of the blotchy texture in grey levels.
    pub texture: f32,
    /// Direction of a wood-like grain in degrees, if the bench has one.
    pub grain_deg: Option<f32>,
    /// Objects lying around (papers, tools, cables).
    pub clutter: Vec<Clutter>,
    /// The token's soft shadow.
    pub shadow: Shadow,
}

/// A rectangle lying on the bench.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Clutter {
    /// Centre in token units.
    pub centre: (f32, f32),
    /// Half width and half height.
    pub half: (f32, f32),
    /// Rotation in degrees.
    pub angle_deg: f32,
    /// Grey level.
    pub grey: f32,
    /// Whether it carries lines of dark text (a sheet of paper).
    pub text: bool,
}

/// The token's shadow on the bench.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Shadow {
    /// Offset from the body in token units.
    pub offset: (f32, f32),
    /// Width of the shadow's soft edge in token units.
    pub softness: f32,
    /// Share of the light the shadow takes away (0–1).
    pub strength: f32,
}

/// Light over the frame.
#[derive(Debug, Clone, PartialEq)]
pub struct Lighting {
    /// Exposure factor (1 is nominal).
    pub exposure: f32,
    /// Linear gradient: illumination runs from `1 - gradient/2` to `1 + gradient/2` across the frame.
    pub gradient: f32,
    /// Direction of the gradient in degrees (towards the bright side).
    pub gradient_deg: f32,
    /// Vignetting: the frame's corners get `1 - vignette` of the centre's light.
    pub vignette: f32,
    /// Specular glare spots.
    pub glare: Vec<Glare>,
}

/// A bright elliptical gaussian spot added to the frame (a reflection of a lamp).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Glare {
    /// Centre in frame pixels.
    pub centre_px: (f32, f32),
    /// Standard deviations along the spot's axes in pixels.
    pub sigma_px: (f32, f32),
    /// Rotation of the spot's first axis in degrees.
    pub angle_deg: f32,
    /// Added grey levels at the centre.
    pub peak: f32,
}

/// Shades of the LCD.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LcdLook {
    /// Grey level of the panel.
    pub panel_grey: f32,
    /// Grey level of lit segments as a share of the panel's (0.15 strong … 0.6 faint).
    pub ink_share: f32,
    /// How much darker than the panel unlit segments of a powered LCD are (0–0.12).
    pub ghost: f32,
}

impl LcdLook {
    /// Contrast of lit segments against the panel: `1 - ink_share`.
    pub fn contrast(&self) -> f32 {
        1.0 - self.ink_share
    }
}

/// Lens and sensor.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sensor {
    /// Gaussian blur sigma in frame pixels.
    pub blur_px: f32,
    /// Standard deviation of the sensor noise in grey levels.
    pub noise: f32,
    /// How the photo is saved.
    pub encoding: Encoding,
}

/// File format of a saved photo.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// Lossless PNG.
    Png,
    /// JPEG at a quality of 1–100.
    Jpeg {
        /// Encoder quality.
        quality: u8,
    },
}

/// Colour casts (RGB multipliers) of a colour photo's materials.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Tints {
    /// The bench and clutter.
    pub bench: Rgb,
    /// The body, bezel and button.
    pub body: Rgb,
    /// The LCD panel and its ink.
    pub panel: Rgb,
    /// The light (white balance), applied to everything.
    pub light: Rgb,
}

/// What the LCD shows in a photo.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PhotoContent {
    /// Unpowered: a plain panel without ghosts.
    Off,
    /// Powered but showing nothing: only the ghosts of unlit segments.
    Blank,
    /// Six digits, each 0–9.
    Code([u8; LCD_DIGITS]),
}

impl PhotoContent {
    /// The text a reader should report: the six digits, or `blank`.
    pub fn expected(&self) -> String {
        match self {
            PhotoContent::Code(digits) => {
                digits.iter().map(|d| char::from(b'0' + d % 10)).collect()
            }
            PhotoContent::Off | PhotoContent::Blank => "blank".to_string(),
        }
    }
}

/// A rendered lab photo and its ground truth.
#[derive(Debug, Clone)]
pub struct Photo {
    /// The frame (`Luma8`, or `Rgb8` when the spec has tints), before file encoding.
    pub image: DynamicImage,
    /// What a reader should find in it.
    pub truth: PhotoTruth,
}

/// Ground truth of a lab photo.
#[derive(Debug, Clone, PartialEq)]
pub struct PhotoTruth {
    /// Six digits or `blank`.
    pub expected: String,
    /// Corners (TL, TR, BR, BL of the upright token) of the light LCD panel inside the bezel,
    /// in frame pixels; the window's rounded corners are ignored.
    pub window: [(f32, f32); 4],
    /// Corners of the six digit cells' bounding box before slant (the glyphs lean out of it by
    /// `tan(slant) × digit height / 2` at the top right and bottom left), in frame pixels.
    pub digits: [(f32, f32); 4],
    /// The conditions of the photo, for the labels.
    pub summary: PhotoSummary,
}

/// The conditions of a photo as written to the labels.
#[derive(Debug, Clone, PartialEq)]
pub struct PhotoSummary {
    /// Font name.
    pub font: &'static str,
    /// Italic slant of the digits in degrees.
    pub slant_deg: f32,
    /// In-plane rotation in degrees.
    pub rotation_deg: f32,
    /// Tilt about the token's horizontal axis in degrees.
    pub tilt_x_deg: f32,
    /// Tilt about the token's vertical axis in degrees.
    pub tilt_y_deg: f32,
    /// Blur sigma in pixels.
    pub blur: f32,
    /// Noise sigma in grey levels.
    pub noise: f32,
    /// JPEG quality, `None` for PNG.
    pub jpeg_quality: Option<u8>,
    /// Number of glare spots.
    pub glare: usize,
    /// Light gradient across the frame.
    pub gradient: f32,
    /// Ink contrast `1 - ink/panel`.
    pub contrast: f32,
    /// Whether the photo is in colour.
    pub colour: bool,
    /// Other conditions, each a short phrase.
    pub notes: Vec<String>,
}

impl Photo {
    /// The photo encoded as `encoding` (usually its spec's `sensor.encoding`), and the file
    /// extension to save it under.
    pub fn encode(&self, encoding: Encoding) -> Result<(Vec<u8>, &'static str), image::ImageError> {
        let mut bytes = Vec::new();
        match encoding {
            Encoding::Png => {
                let encoder = image::codecs::png::PngEncoder::new_with_quality(
                    &mut bytes,
                    image::codecs::png::CompressionType::Best,
                    image::codecs::png::FilterType::Adaptive,
                );
                self.image.write_with_encoder(encoder)?;
                Ok((bytes, "png"))
            }
            Encoding::Jpeg { quality } => {
                let encoder =
                    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut bytes, quality);
                self.image.write_with_encoder(encoder)?;
                Ok((bytes, "jpg"))
            }
        }
    }
}

/// Renders `spec` with the LCD showing `content`.
pub fn render_photo(spec: &PhotoSpec, content: &PhotoContent) -> Photo {
    let to_frame = spec.camera.homography(spec.width, spec.height);
    let image = match to_frame.inverse() {
        Some(to_token) => draw(spec, content, &to_token),
        // Only a degenerate hand-built pose gets here; an empty frame keeps this panic-free.
        None => DynamicImage::ImageLuma8(GrayImage::new(spec.width, spec.height)),
    };
    Photo {
        image,
        truth: photo_truth(spec, content),
    }
}

/// The ground truth of `spec` showing `content`, without rendering it.
pub fn photo_truth(spec: &PhotoSpec, content: &PhotoContent) -> PhotoTruth {
    let to_frame = spec.camera.homography(spec.width, spec.height);
    let t = &spec.token;
    let map_box = |(x0, y0): (f32, f32), (x1, y1): (f32, f32)| {
        [(x0, y0), (x1, y0), (x1, y1), (x0, y1)].map(|(u, v)| {
            let (x, y) = to_frame.map(f64::from(u), f64::from(v));
            (x as f32, y as f32)
        })
    };
    let (cx, cy) = t.window_centre;
    let (hw, hh) = t.window_half;
    let window = map_box((cx - hw, cy - hh), (cx + hw, cy + hh));
    let (dx, dy) = t.digits_origin;
    let digits = map_box((dx, dy), (dx + t.digits_width(), dy + t.digit_h));
    PhotoTruth {
        expected: content.expected(),
        window,
        digits,
        summary: summary(spec, content, &window),
    }
}

fn summary(spec: &PhotoSpec, content: &PhotoContent, window: &[(f32, f32); 4]) -> PhotoSummary {
    let t = &spec.token;
    let mut notes = Vec::new();
    match content {
        PhotoContent::Off => notes.push("off".to_string()),
        PhotoContent::Blank => notes.push("on-blank (ghosts only)".to_string()),
        PhotoContent::Code(digits) => {
            if spec.font.seven_with_f && digits.contains(&7) {
                notes.push("7 with f".to_string());
            }
            if (!spec.font.six_with_a && digits.contains(&6))
                || (!spec.font.nine_with_d && digits.contains(&9))
            {
                notes.push("6/9 without tails".to_string());
            }
        }
    }
    notes.push(format!(
        "window aspect {:.1}",
        t.window_half.0 / t.window_half.1
    ));
    notes.push(format!(
        "digits {:.0}% of window height",
        100.0 * t.digit_h / (2.0 * t.window_half.1)
    ));
    notes.push(
        match t.label.paper {
            Some(_) => "sticker label",
            None => "printed label",
        }
        .to_string(),
    );
    if let Some(sticker) = &t.sticker {
        notes.push(match sticker.marks {
            LabelMarks::Text => "distractor sticker (text)".to_string(),
            LabelMarks::Barcode => "distractor sticker (barcode)".to_string(),
        });
    }
    notes.push(format!("{} bench", bench_class(spec.bench.grey)));
    if !spec.bench.clutter.is_empty() {
        notes.push(format!("clutter {}", spec.bench.clutter.len()));
    }
    let on_window = spec
        .lighting
        .glare
        .iter()
        .filter(|g| inside_quad(g.centre_px, window))
        .collect::<Vec<_>>();
    if !on_window.is_empty() {
        notes.push("glare on window".to_string());
        let panel = spec.lcd.panel_grey * spec.lighting.exposure;
        if on_window.iter().any(|g| panel + g.peak > 255.0) {
            notes.push("glare clips".to_string());
        }
    }
    if spec.lighting.vignette > 0.25 {
        notes.push("strong vignette".to_string());
    }
    PhotoSummary {
        font: spec.font.name,
        slant_deg: spec.font.slant_deg,
        rotation_deg: spec.camera.rotation_deg,
        tilt_x_deg: spec.camera.tilt_x_deg,
        tilt_y_deg: spec.camera.tilt_y_deg,
        blur: spec.sensor.blur_px,
        noise: spec.sensor.noise,
        jpeg_quality: match spec.sensor.encoding {
            Encoding::Png => None,
            Encoding::Jpeg { quality } => Some(quality),
        },
        glare: spec.lighting.glare.len(),
        gradient: spec.lighting.gradient,
        contrast: spec.lcd.contrast(),
        colour: spec.tints.is_some(),
        notes,
    }
}

/// `dark`, `mid` or `light` for a bench grey level.
pub fn bench_class(grey: f32) -> &'static str {
    if grey < 65.0 {
        "dark"
    } else if grey < 145.0 {
        "mid"
    } else {
        "light"
    }
}

/// Whether `p` lies inside the convex quad `q` (either winding).
fn inside_quad(p: (f32, f32), q: &[(f32, f32); 4]) -> bool {
    let sides = (0..4).map(|i| {
        let (a, b) = (q[i], q[(i + 1) % 4]);
        (b.0 - a.0) * (p.1 - a.1) - (b.1 - a.1) * (p.0 - a.0)
    });
    let signs: Vec<f32> = sides.collect();
    signs.iter().all(|s| *s >= 0.0) || signs.iter().all(|s| *s <= 0.0)
}

/// Draws the frame: surface shading through the inverse homography, light, blur, noise.
fn draw(spec: &PhotoSpec, content: &PhotoContent, to_token: &Homography) -> DynamicImage {
    let (w, h) = (spec.width as usize, spec.height as usize);
    let surface = Surface::new(spec, content);
    let channels = if spec.tints.is_some() { 3 } else { 1 };
    let white = spec.tints.map_or([1.0; 3], |t| t.light);
    let mut planes = vec![Vec::with_capacity(w * h); channels];
    for y in 0..h {
        for x in 0..w {
            let (px, py) = (x as f64 + 0.5, y as f64 + 0.5);
            let (u, v) = to_token.map(px, py);
            let (ux, vx) = to_token.map(px + 1.0, py);
            let (uy, vy) = to_token.map(px, py + 1.0);
            // Token units per pixel, from the area of the pixel's footprint on the token plane.
            let footprint = ((ux - u) * (vy - v) - (vx - v) * (uy - u)).abs().sqrt();
            let colour = surface.shade(u as f32, v as f32, (1.0 / footprint.max(1e-9)) as f32);
            let (light, glare) = illumination(spec, x as f32 + 0.5, y as f32 + 0.5);
            for (c, plane) in planes.iter_mut().enumerate() {
                plane.push((colour[c] * light + glare) * white[c]);
            }
        }
    }
    let mut rng = ChaCha8Rng::seed_from_u64(spec.seed ^ 0x006e_6f69_7365);
    let noise = spec.sensor.noise.max(0.0);
    for plane in &mut planes {
        gaussian_blur(plane, w, h, spec.sensor.blur_px);
        if noise > 0.0 {
            for value in plane.iter_mut() {
                let z: f32 = StandardNormal.sample(&mut rng);
                *value += z * noise;
            }
        }
    }
    let quantise = |v: f32| v.round().clamp(0.0, 255.0) as u8;
    // The buffers hold exactly width × height samples per channel, so `from_raw` cannot fail;
    // the fallbacks only keep this function panic-free.
    if channels == 3 {
        let raw = (0..w * h)
            .flat_map(|i| [0, 1, 2].map(|c| quantise(planes[c][i])))
            .collect();
        let image = RgbImage::from_raw(spec.width, spec.height, raw)
            .unwrap_or_else(|| RgbImage::new(spec.width, spec.height));
        DynamicImage::ImageRgb8(image)
    } else {
        let raw = planes[0].iter().map(|&v| quantise(v)).collect();
        let image = GrayImage::from_raw(spec.width, spec.height, raw)
            .unwrap_or_else(|| GrayImage::new(spec.width, spec.height));
        DynamicImage::ImageLuma8(image)
    }
}

/// Light factor (exposure × gradient × vignette) and added glare at pixel (`x`, `y`).
fn illumination(spec: &PhotoSpec, x: f32, y: f32) -> (f32, f32) {
    let l = &spec.lighting;
    let (w, h) = (spec.width as f32, spec.height as f32);
    let (nx, ny) = (x / w - 0.5, y / h - 0.5);
    let (s, c) = l.gradient_deg.to_radians().sin_cos();
    // Along any direction (nx, ny) spans about ±0.7.
    let ramp = (nx * c + ny * s) / 0.71;
    let r2 = (nx * nx + ny * ny) / 0.5;
    let light = l.exposure * (1.0 + 0.5 * l.gradient * ramp) * (1.0 - l.vignette * r2);
    let glare = l
        .glare
        .iter()
        .map(|g| {
            let (s, c) = g.angle_deg.to_radians().sin_cos();
            let (dx, dy) = (x - g.centre_px.0, y - g.centre_px.1);
            let (a, b) = (dx * c + dy * s, -dx * s + dy * c);
            let q = (a / g.sigma_px.0).powi(2) + (b / g.sigma_px.1).powi(2);
            if q > 30.0 {
                0.0
            } else {
                g.peak * (-0.5 * q).exp()
            }
        })
        .sum();
    (light.max(0.0), glare)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use rand::SeedableRng;

    use super::*;

    /// A random spec shrunk to 320×240 with the same framing, to keep unoptimised tests quick.
    fn small_random_spec(seed: u64) -> PhotoSpec {
        let mut spec = PhotoSpec::random(&mut ChaCha8Rng::seed_from_u64(seed));
        let k = 320.0 / spec.width as f32;
        spec.width = 320;
        spec.height = (spec.height as f32 * k).round() as u32;
        spec.camera.focal_px *= k;
        spec.camera.target_px = (spec.camera.target_px.0 * k, spec.camera.target_px.1 * k);
        spec.sensor.blur_px *= k;
        for glare in &mut spec.lighting.glare {
            glare.centre_px = (glare.centre_px.0 * k, glare.centre_px.1 * k);
            glare.sigma_px = (glare.sigma_px.0 * k, glare.sigma_px.1 * k);
        }
        spec
    }

    /// A clean, sharp, square-on spec in `font`: even light, no glare, no noise, strong ink.
    fn clean_spec(font: Font) -> PhotoSpec {
        let mut spec = PhotoSpec::random(&mut ChaCha8Rng::seed_from_u64(11));
        let (width, height) = (400, 300);
        let focal_px = 600.0;
        spec.width = width;
        spec.height = height;
        spec.font = font;
        spec.camera = CameraPose {
            focal_px,
            rotation_deg: 0.0,
            tilt_x_deg: 0.0,
            tilt_y_deg: 0.0,
            // The window spans 80 % of the frame width.
            distance: focal_px * 2.0 * spec.token.window_half.0 / (0.8 * width as f32),
            anchor: spec.token.window_centre,
            target_px: (200.0, 150.0),
        };
        spec.lighting = Lighting {
            exposure: 1.0,
            gradient: 0.0,
            gradient_deg: 0.0,
            vignette: 0.0,
            glare: Vec::new(),
        };
        spec.lcd = LcdLook {
            panel_grey: 200.0,
            ink_share: 0.15,
            ghost: 0.1,
        };
        spec.sensor = Sensor {
            blur_px: 0.0,
            noise: 0.0,
            encoding: Encoding::Png,
        };
        spec.tints = None;
        spec
    }

    #[test]
    fn same_seed_gives_identical_photos() {
        let code = PhotoContent::Code([1, 2, 3, 4, 5, 6]);
        let a = render_photo(&small_random_spec(3), &code);
        let b = render_photo(&small_random_spec(3), &code);
        assert_eq!(a.image, b.image);
        assert_eq!(a.truth, b.truth);
        let c = render_photo(&small_random_spec(4), &code);
        assert_ne!(a.image, c.image);
    }

    #[test]
    fn colour_specs_give_rgb_images() {
        let mut spec = small_random_spec(5);
        spec.tints = Some(Tints {
            bench: [1.1, 0.9, 0.8],
            body: [1.0; 3],
            panel: [0.9, 1.0, 0.9],
            light: [1.0; 3],
        });
        let photo = render_photo(&spec, &PhotoContent::Off);
        assert!(matches!(photo.image, DynamicImage::ImageRgb8(_)));
        spec.tints = None;
        let photo = render_photo(&spec, &PhotoContent::Off);
        assert!(matches!(photo.image, DynamicImage::ImageLuma8(_)));
    }

    #[test]
    fn untilted_window_corners_match_the_analytic_positions() {
        let spec = clean_spec(FONTS[0]);
        let truth = photo_truth(&spec, &PhotoContent::Blank);
        let scale = spec.camera.focal_px / spec.camera.distance;
        let (hw, hh) = (
            spec.token.window_half.0 * scale,
            spec.token.window_half.1 * scale,
        );
        let expected = [
            (200.0 - hw, 150.0 - hh),
            (200.0 + hw, 150.0 - hh),
            (200.0 + hw, 150.0 + hh),
            (200.0 - hw, 150.0 + hh),
        ];
        for (got, want) in truth.window.iter().zip(expected) {
            assert!((got.0 - want.0).abs() < 1e-3 && (got.1 - want.1).abs() < 1e-3);
        }
        assert!((hw * 2.0 - 320.0).abs() < 1e-3);
        assert_eq!(truth.expected, "blank");
    }

    #[test]
    fn random_specs_frame_the_window() {
        let mut rng = ChaCha8Rng::seed_from_u64(9);
        for _ in 0..300 {
            let spec = PhotoSpec::random(&mut rng);
            let truth = photo_truth(&spec, &PhotoContent::Off);
            let (w, h) = (spec.width as f32, spec.height as f32);
            for (x, y) in truth.window {
                assert!(
                    (0.0..=w).contains(&x) && (0.0..=h).contains(&y),
                    "{truth:?}"
                );
            }
            let xs = truth.window.map(|(x, _)| x);
            let span = xs.iter().fold(f32::MIN, |a, &b| a.max(b))
                - xs.iter().fold(f32::MAX, |a, &b| a.min(b));
            assert!((0.2 * w..0.8 * w).contains(&span), "{span} of {w}");
            let t = &spec.token;
            let aspect = t.window_half.0 / t.window_half.1;
            assert!((2.2..=5.0).contains(&aspect), "{aspect}");
            let share = t.digit_h / (2.0 * t.window_half.1);
            assert!((0.35..=0.7).contains(&share), "{share}");
            assert!(t.digits_width() < 2.0 * t.window_half.0);
        }
    }

    #[test]
    fn digits_are_drawn_with_the_font_masks() {
        for font in FONTS {
            let spec = clean_spec(font);
            let to_frame = spec.camera.homography(spec.width, spec.height);
            let t = &spec.token;
            let tan_slant = font.slant_deg.to_radians().tan();
            for digits in [[0, 1, 2, 3, 4, 5], [6, 7, 8, 9, 1, 7]] {
                let photo = render_photo(&spec, &PhotoContent::Code(digits));
                let DynamicImage::ImageLuma8(image) = &photo.image else {
                    panic!("grey spec gave a colour image");
                };
                for (k, &digit) in digits.iter().enumerate() {
                    let mut drawn = 0u8;
                    for segment in 0..7 {
                        let (x, y) = font.segment_centre(segment, t.digit_w, t.digit_h);
                        // The slant leans the top of a digit right, about the block's middle line.
                        let u = t.digits_origin.0
                            + k as f32 * (t.digit_w + t.digit_gap)
                            + x
                            + (t.digit_h / 2.0 - y) * tan_slant;
                        let v = t.digits_origin.1 + y;
                        let (px, py) = to_frame.map(f64::from(u), f64::from(v));
                        let grey = image.get_pixel(px as u32, py as u32).0[0];
                        if grey < 100 {
                            drawn |= 1 << segment;
                        }
                    }
                    assert_eq!(
                        drawn,
                        font.mask(digit),
                        "font {} digit {digit} at {k}",
                        font.name
                    );
                }
            }
        }
    }

    #[test]
    fn jpeg_and_png_encodings_decode_back() {
        let photo = render_photo(&small_random_spec(6), &PhotoContent::Blank);
        for encoding in [Encoding::Png, Encoding::Jpeg { quality: 60 }] {
            let (bytes, extension) = photo.encode(encoding).unwrap();
            let decoded = image::load_from_memory(&bytes).unwrap();
            assert_eq!(decoded.width(), photo.image.width(), "{extension}");
            assert_eq!(decoded.height(), photo.image.height(), "{extension}");
        }
    }
}
