//! The simulated camera's view: renders grey frames of a MitID code display token on a bench.
//!
//! Inputs: the frame size, the [`Optics`] of the simulated camera and bench, a seed, and per frame
//! the [`LcdContent`] the simulated token shows (which segments are lit).
//! Outputs: `image::GrayImage` frames that look like photos of the token: a dark body on a
//! textured bench, a light LCD window with six seven-segment digits (faint ghosts of the unlit
//! segments while powered), a printed label and the button, a light gradient, tilt, blur, and
//! per-frame sensor noise. [`SceneRenderer::lcd_digits_region`] gives the hand-set LCD region a
//! rig file would hold for this framing.
//!
//! Invariants:
//! - The renderer only draws; nothing here reads frames back. Perception sees these frames the same
//!   way it sees real photos (it must not import this module).
//! - Frames are deterministic for a seed: the same seed, optics and sequence of contents give the
//!   same frames.
//! - The noiseless image of a content is cached, so a frame of an already seen content costs one
//!   pass of adding pre-drawn noise.
//!
//! Scene geometry is laid out in "token units" (one unit is one pixel of a 640×480 frame) and scaled
//! to the frame, so the token fills the same share of any 4:3 frame.

use std::sync::Arc;

use image::GrayImage;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;

/// Segment bit of the top bar.
pub const SEG_A: u8 = 1 << 0;
/// Segment bit of the top right bar.
pub const SEG_B: u8 = 1 << 1;
/// Segment bit of the bottom right bar.
pub const SEG_C: u8 = 1 << 2;
/// Segment bit of the bottom bar.
pub const SEG_D: u8 = 1 << 3;
/// Segment bit of the bottom left bar.
pub const SEG_E: u8 = 1 << 4;
/// Segment bit of the top left bar.
pub const SEG_F: u8 = 1 << 5;
/// Segment bit of the middle bar.
pub const SEG_G: u8 = 1 << 6;

/// Number of digit positions on the simulated LCD.
pub const LCD_DIGITS: usize = 6;

/// The simulated token's seven-segment font: the lit-segment mask of `digit` (bit0 = a … bit6 = g).
///
/// `seven_with_f` draws 7 with the top-left segment (a "hooked" 7). Values above 9 give 0 (blank).
pub fn font_mask(digit: u8, seven_with_f: bool) -> u8 {
    match digit {
        0 => SEG_A | SEG_B | SEG_C | SEG_D | SEG_E | SEG_F,
        1 => SEG_B | SEG_C,
        2 => SEG_A | SEG_B | SEG_D | SEG_E | SEG_G,
        3 => SEG_A | SEG_B | SEG_C | SEG_D | SEG_G,
        4 => SEG_B | SEG_C | SEG_F | SEG_G,
        5 => SEG_A | SEG_C | SEG_D | SEG_F | SEG_G,
        6 => SEG_A | SEG_C | SEG_D | SEG_E | SEG_F | SEG_G,
        7 if seven_with_f => SEG_A | SEG_B | SEG_C | SEG_F,
        7 => SEG_A | SEG_B | SEG_C,
        8 => 0x7f,
        9 => SEG_A | SEG_B | SEG_C | SEG_D | SEG_F | SEG_G,
        _ => 0,
    }
}

/// What the simulated LCD shows.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub enum LcdContent {
    /// Unpowered LCD: a plain panel without ghost segments.
    Off,
    /// Powered LCD with the lit-segment mask of each position (bit0 = a … bit6 = g); all zero is
    /// "on but blank", where only the faint ghosts of the unlit segments show.
    On([u8; LCD_DIGITS]),
}

impl LcdContent {
    /// The content showing `digits` (each 0..=9) in the simulated token's font.
    pub fn code(digits: [u8; LCD_DIGITS], seven_with_f: bool) -> Self {
        LcdContent::On(digits.map(|d| font_mask(d, seven_with_f)))
    }
}

/// The simulated camera and bench: focus, sensor noise, framing and lighting.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Optics {
    /// Gaussian blur sigma in frame pixels (focus and lens softness); 0 is perfectly sharp.
    pub blur: f32,
    /// Standard deviation of the per-frame sensor noise in grey levels.
    pub noise: f32,
    /// Rotation of the token in the image in degrees (positive turns it clockwise on screen).
    pub tilt_deg: f32,
    /// Exposure factor: 1.0 is nominal, 0.03 is a covered lens, 4.0 is badly over-exposed.
    pub light: f32,
    /// Strength of the light gradient across the frame: the illumination runs from
    /// `1 - gradient/2` to `1 + gradient/2` of nominal from one corner to the opposite one.
    pub gradient: f32,
}

impl Default for Optics {
    /// A nominal bench: slightly soft focus, mild noise, a small tilt and an uneven desk lamp.
    fn default() -> Self {
        Optics {
            blur: 0.8,
            noise: 3.0,
            tilt_deg: 1.5,
            light: 1.0,
            gradient: 0.15,
        }
    }
}

// Reflectances (grey levels at light 1.0 before the gradient).
const BENCH_GREY: f32 = 108.0;
const BODY_GREY: f32 = 40.0;
const BEZEL_GREY: f32 = 24.0;
const PANEL_GREY: f32 = 190.0;
const INK_GREY: f32 = 30.0;
/// Unlit segments of a powered LCD are this much darker than the panel.
const GHOST_DARKENING: f32 = 0.10;
const LABEL_GREY: f32 = 150.0;
const BUTTON_GREY: f32 = 62.0;

// Geometry in token units (pixels of a 640×480 frame), relative to the token centre.
const DIGIT_H: f32 = 64.0;
const DIGIT_W: f32 = 32.0;
const STROKE: f32 = DIGIT_W / 6.0;
/// Gap left at each end of a segment (between neighbouring segments).
const SEGMENT_GAP: f32 = 0.9;
/// Horizontal distance between neighbouring digits.
const DIGIT_GAP: f32 = 10.0;
const DIGIT_PITCH: f32 = DIGIT_W + DIGIT_GAP;
/// Italic slant of the digits: the top of a digit leans right by this share of its height.
const SLANT: f32 = 0.05;
const BLOCK_W: f32 = DIGIT_PITCH * (LCD_DIGITS as f32 - 1.0) + DIGIT_W;
/// Vertical centre of the LCD window and of the digit block.
const LCD_CY: f32 = -118.0;
const WINDOW_HALF_W: f32 = BLOCK_W / 2.0 + 36.0;
const WINDOW_HALF_H: f32 = DIGIT_H / 2.0 + 30.0;
const BEZEL: f32 = 4.0;
const BODY_HALF_W: f32 = 185.0;
const BODY_HALF_H: f32 = 220.0;
const BODY_RADIUS: f32 = 36.0;
/// Margin of [`SceneRenderer::lcd_digits_region`] around the digits, as a share of the digit height.
const REGION_MARGIN: f32 = 0.08;
/// Noise samples drawn beyond one frame's worth, so frames start at different table offsets.
const NOISE_SLACK: usize = 1 << 18;
/// Noiseless images kept (most recently used first).
const CACHE_CONTENTS: usize = 6;

/// Renders frames of the simulated token for one camera framing, optics and seed.
#[derive(Debug)]
pub struct SceneRenderer {
    width: u32,
    height: u32,
    optics: Optics,
    /// Token units to pixels.
    scale: f32,
    rng: ChaCha8Rng,
    /// The blurred scene without digits, times the illumination, per pixel.
    base_lit: Vec<f32>,
    /// Illumination (light × gradient) per pixel.
    illumination: Vec<f32>,
    /// Gaussian noise in grey levels, read from a random offset each frame.
    noise: Vec<i16>,
    /// Noiseless frames (unclipped grey levels) of recently shown contents, newest first.
    cache: Vec<(LcdContent, Arc<Vec<i16>>)>,
}

impl SceneRenderer {
    /// A renderer for `width`×`height` frames seen through `optics`; `seed` fixes the bench
    /// texture, the light direction and every frame's noise.
    pub fn new(width: u32, height: u32, optics: Optics, seed: u64) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let scale = (width as f32 / 640.0).min(height as f32 / 480.0).max(1e-3);
        let (w, h) = (width as usize, height as usize);
        let light_angle: f32 = rng.random_range(0.0..std::f32::consts::TAU);
        let (gx, gy) = (light_angle.cos(), light_angle.sin());
        let mut illumination = Vec::with_capacity(w * h);
        for y in 0..h {
            for x in 0..w {
                let u = (x as f32 + 0.5) / w.max(1) as f32 - 0.5;
                let v = (y as f32 + 0.5) / h.max(1) as f32 - 0.5;
                // (u, v) spans ±0.5 per axis; along the light direction the ramp spans about ±0.7.
                let ramp = (u * gx + v * gy) / 0.71;
                illumination.push(optics.light.max(0.0) * (1.0 + 0.5 * optics.gradient * ramp));
            }
        }
        let mut base = draw_base(width, height, scale, optics.tilt_deg, &mut rng);
        gaussian_blur(&mut base, w, h, optics.blur);
        let base_lit = base.iter().zip(&illumination).map(|(b, l)| b * l).collect();
        let noise = if optics.noise > 0.0 {
            (0..w * h + NOISE_SLACK)
                .map(|_| {
                    let z: f32 = rng.sample(StandardNormal);
                    (z * optics.noise).round().clamp(-4096.0, 4096.0) as i16
                })
                .collect()
        } else {
            Vec::new()
        };
        SceneRenderer {
            width,
            height,
            optics,
            scale,
            rng,
            base_lit,
            illumination,
            noise,
            cache: Vec::new(),
        }
    }

    /// The optics this renderer was built with.
    pub fn optics(&self) -> Optics {
        self.optics
    }

    /// One camera frame of the token showing `content`, with fresh sensor noise.
    pub fn render(&mut self, content: &LcdContent) -> GrayImage {
        let clean = self.clean(content);
        let n = clean.len();
        let mut out = vec![0u8; n];
        if self.noise.len() > n {
            let offset = self.rng.random_range(0..self.noise.len() - n);
            let noise = &self.noise[offset..offset + n];
            for ((o, &c), &z) in out.iter_mut().zip(clean.iter()).zip(noise) {
                *o = c.saturating_add(z).clamp(0, 255) as u8;
            }
        } else {
            for (o, &c) in out.iter_mut().zip(clean.iter()) {
                *o = c.clamp(0, 255) as u8;
            }
        }
        // The buffer has exactly width × height bytes, so `from_raw` cannot fail; the fallback
        // only keeps this function panic-free.
        GrayImage::from_raw(self.width, self.height, out)
            .unwrap_or_else(|| GrayImage::new(self.width, self.height))
    }

    /// The axis-aligned box `(x, y, width, height)` in frame pixels that holds the six digits after
    /// tilt, with a margin of about 8 % of the digit height, clipped to the frame.
    pub fn lcd_digits_region(&self) -> (u32, u32, u32, u32) {
        let m = REGION_MARGIN * DIGIT_H;
        let lean = SLANT * DIGIT_H / 2.0;
        let (x0, x1) = (-BLOCK_W / 2.0 - lean - m, BLOCK_W / 2.0 + lean + m);
        let (y0, y1) = (LCD_CY - DIGIT_H / 2.0 - m, LCD_CY + DIGIT_H / 2.0 + m);
        let (mut lo_x, mut lo_y, mut hi_x, mut hi_y) = (f32::MAX, f32::MAX, f32::MIN, f32::MIN);
        for (u, v) in [(x0, y0), (x1, y0), (x0, y1), (x1, y1)] {
            let (x, y) = self.token_to_pixel(u, v);
            lo_x = lo_x.min(x);
            lo_y = lo_y.min(y);
            hi_x = hi_x.max(x);
            hi_y = hi_y.max(y);
        }
        let clip = |v: f32, max: u32| v.clamp(0.0, max as f32);
        let (x, y) = (
            clip(lo_x.floor(), self.width),
            clip(lo_y.floor(), self.height),
        );
        let (xe, ye) = (
            clip(hi_x.ceil(), self.width),
            clip(hi_y.ceil(), self.height),
        );
        (x as u32, y as u32, (xe - x) as u32, (ye - y) as u32)
    }

    /// Token units (relative to the token centre) to frame pixel coordinates.
    fn token_to_pixel(&self, u: f32, v: f32) -> (f32, f32) {
        let (s, c) = self.optics.tilt_deg.to_radians().sin_cos();
        let (u, v) = (u * self.scale, v * self.scale);
        (
            self.width as f32 / 2.0 + u * c - v * s,
            self.height as f32 / 2.0 + u * s + v * c,
        )
    }

    /// The noiseless frame of `content` (unclipped grey levels), from the cache or freshly drawn.
    fn clean(&mut self, content: &LcdContent) -> Arc<Vec<i16>> {
        if let Some(i) = self.cache.iter().position(|(c, _)| c == content) {
            let entry = self.cache.remove(i);
            let image = Arc::clone(&entry.1);
            self.cache.insert(0, entry);
            return image;
        }
        let image = Arc::new(self.draw_clean(content));
        self.cache.insert(0, (content.clone(), Arc::clone(&image)));
        self.cache.truncate(CACHE_CONTENTS);
        image
    }

    fn draw_clean(&self, content: &LcdContent) -> Vec<i16> {
        let mut clean: Vec<i16> = self
            .base_lit
            .iter()
            .map(|v| v.round().clamp(-4096.0, 4096.0) as i16)
            .collect();
        let LcdContent::On(masks) = content else {
            return clean;
        };
        // The digits darken the panel: draw that darkening in a padded box around the digit
        // block, blur it alone (blur is linear) and add it to the blurred base.
        let pad = 3.0 * self.optics.blur.max(0.0) + 3.0;
        let (rx, ry, rw, rh) = self.lcd_digits_region();
        let x0 = (rx as f32 - pad).max(0.0) as usize;
        let y0 = (ry as f32 - pad).max(0.0) as usize;
        let x1 = ((rx + rw) as f32 + pad).min(self.width as f32) as usize;
        let y1 = ((ry + rh) as f32 + pad).min(self.height as f32) as usize;
        if x1 <= x0 || y1 <= y0 {
            return clean;
        }
        let (bw, bh) = (x1 - x0, y1 - y0);
        let mut delta = vec![0f32; bw * bh];
        let (s, c) = self.optics.tilt_deg.to_radians().sin_cos();
        let (cx, cy) = (self.width as f32 / 2.0, self.height as f32 / 2.0);
        for by in 0..bh {
            for bx in 0..bw {
                let dx = (x0 + bx) as f32 + 0.5 - cx;
                let dy = (y0 + by) as f32 + 0.5 - cy;
                // Inverse rotation back to token units.
                let u = (dx * c + dy * s) / self.scale;
                let v = (-dx * s + dy * c) / self.scale;
                delta[by * bw + bx] = digit_darkening(masks, u, v, self.scale);
            }
        }
        gaussian_blur(&mut delta, bw, bh, self.optics.blur);
        let w = self.width as usize;
        for by in 0..bh {
            for bx in 0..bw {
                let i = (y0 + by) * w + x0 + bx;
                let v = self.base_lit[i] + delta[by * bw + bx] * self.illumination[i];
                clean[i] = v.round().clamp(-4096.0, 4096.0) as i16;
            }
        }
        clean
    }
}

/// Signed distance (token units, negative inside) of a rounded rectangle centred at (`cx`, `cy`).
pub(crate) fn rounded_rect(
    u: f32,
    v: f32,
    cx: f32,
    cy: f32,
    half_w: f32,
    half_h: f32,
    r: f32,
) -> f32 {
    let qx = (u - cx).abs() - half_w + r;
    let qy = (v - cy).abs() - half_h + r;
    let outside = (qx.max(0.0).powi(2) + qy.max(0.0).powi(2)).sqrt();
    outside + qx.max(qy).min(0.0) - r
}

/// Signed distance of a circle.
pub(crate) fn circle(u: f32, v: f32, cx: f32, cy: f32, r: f32) -> f32 {
    ((u - cx).powi(2) + (v - cy).powi(2)).sqrt() - r
}

/// Anti-aliased coverage of a shape from its signed distance in token units.
pub(crate) fn coverage(sd: f32, scale: f32) -> f32 {
    (0.5 - sd * scale).clamp(0.0, 1.0)
}

/// Cheap deterministic hash noise in [-1, 1] for a lattice point.
pub(crate) fn lattice(seed: u32, x: i32, y: i32) -> f32 {
    let mut h = seed ^ (x as u32).wrapping_mul(0x9E37_79B1) ^ (y as u32).wrapping_mul(0x85EB_CA77);
    h ^= h >> 15;
    h = h.wrapping_mul(0x2C1B_3C6D);
    h ^= h >> 12;
    h = h.wrapping_mul(0x297A_2D39);
    h ^= h >> 15;
    (h as f32 / u32::MAX as f32) * 2.0 - 1.0
}

/// Smooth value noise in [-1, 1] with features about `cell` token units wide.
pub(crate) fn value_noise(seed: u32, u: f32, v: f32, cell: f32) -> f32 {
    let (fu, fv) = (u / cell, v / cell);
    let (iu, iv) = (fu.floor(), fv.floor());
    let (tu, tv) = (fu - iu, fv - iv);
    let (tu, tv) = (tu * tu * (3.0 - 2.0 * tu), tv * tv * (3.0 - 2.0 * tv));
    let (iu, iv) = (iu as i32, iv as i32);
    let top = lattice(seed, iu, iv) * (1.0 - tu) + lattice(seed, iu + 1, iv) * tu;
    let bottom = lattice(seed, iu, iv + 1) * (1.0 - tu) + lattice(seed, iu + 1, iv + 1) * tu;
    top * (1.0 - tv) + bottom * tv
}

/// The scene without digits (reflectance in grey levels at light 1.0), before blur.
fn draw_base(width: u32, height: u32, scale: f32, tilt_deg: f32, rng: &mut ChaCha8Rng) -> Vec<f32> {
    let (w, h) = (width as usize, height as usize);
    let texture_seed: u32 = rng.random();
    let (s, c) = tilt_deg.to_radians().sin_cos();
    let (cx, cy) = (width as f32 / 2.0, height as f32 / 2.0);
    let mut out = Vec::with_capacity(w * h);
    for y in 0..h {
        for x in 0..w {
            let dx = x as f32 + 0.5 - cx;
            let dy = y as f32 + 0.5 - cy;
            let u = (dx * c + dy * s) / scale;
            let v = (-dx * s + dy * c) / scale;
            let grain = lattice(texture_seed ^ 0x5bd1_e995, x as i32, y as i32);
            // Bench: mid grey with blotches and grain (wood or a mat).
            let mut g = BENCH_GREY
                + 14.0 * value_noise(texture_seed, u, v, 48.0)
                + 5.0 * value_noise(texture_seed ^ 0xA5A5, u, v, 9.0)
                + 3.0 * grain;
            let body = coverage(
                rounded_rect(u, v, 0.0, 0.0, BODY_HALF_W, BODY_HALF_H, BODY_RADIUS),
                scale,
            );
            if body > 0.0 {
                let mut inner =
                    BODY_GREY + 1.5 * grain + 3.0 * value_noise(texture_seed ^ 0x77, u, v, 60.0);
                let bezel_sd = rounded_rect(
                    u,
                    v,
                    0.0,
                    LCD_CY,
                    WINDOW_HALF_W + BEZEL,
                    WINDOW_HALF_H + BEZEL,
                    8.0,
                );
                inner += (BEZEL_GREY - inner) * coverage(bezel_sd, scale);
                let window_sd = rounded_rect(u, v, 0.0, LCD_CY, WINDOW_HALF_W, WINDOW_HALF_H, 4.0);
                inner += (PANEL_GREY - inner) * coverage(window_sd, scale);
                // Printed label below the LCD: a ring logo and a pill with a dark stripe.
                let ring = circle(u, v, -78.0, -12.0, 15.0).abs() - 2.5;
                inner += (LABEL_GREY - inner) * coverage(ring, scale);
                let pill = rounded_rect(u, v, 22.0, -12.0, 70.0, 13.0, 13.0);
                inner += (LABEL_GREY - inner) * coverage(pill, scale);
                let stripe = rounded_rect(u, v, 22.0, -12.0, 48.0, 3.0, 3.0);
                inner += (BODY_GREY - inner) * coverage(stripe, scale);
                // The button: a slightly lighter disc with a darker rim.
                let rim = circle(u, v, 0.0, 110.0, 58.0);
                inner += (BEZEL_GREY - inner) * coverage(rim, scale);
                let button = circle(u, v, 0.0, 110.0, 54.0);
                inner += (BUTTON_GREY + 4.0 * grain - inner) * coverage(button, scale);
                g += (inner - g) * body;
            }
            out.push(g);
        }
    }
    out
}

/// Darkening of the panel (grey levels, ≤ 0) by the digits at token point (`u`, `v`).
fn digit_darkening(masks: &[u8; LCD_DIGITS], u: f32, v: f32, scale: f32) -> f32 {
    let y = v - (LCD_CY - DIGIT_H / 2.0);
    if !(-2.0..DIGIT_H + 2.0).contains(&y) {
        return 0.0;
    }
    // Undo the italic slant, then find the digit cell.
    let x = u + BLOCK_W / 2.0 - SLANT * (DIGIT_H / 2.0 - y);
    let k = (x + DIGIT_GAP / 2.0).div_euclid(DIGIT_PITCH);
    if !(0.0..LCD_DIGITS as f32).contains(&k) {
        return 0.0;
    }
    let x = x - k * DIGIT_PITCH;
    let mask = masks[k as usize];
    let (sd, segment) = nearest_segment(x, y);
    let cover = coverage(sd, scale);
    if cover <= 0.0 {
        return 0.0;
    }
    let darkening = if mask & (1 << segment) != 0 {
        PANEL_GREY - INK_GREY
    } else {
        PANEL_GREY * GHOST_DARKENING
    };
    -cover * darkening
}

/// Signed distance to the nearest segment of a digit (digit-local units) and that segment's bit.
fn nearest_segment(x: f32, y: f32) -> (f32, u8) {
    let half = STROKE / 2.0;
    let (left, right) = (half, DIGIT_W - half);
    let (top, mid, bottom) = (half, DIGIT_H / 2.0, DIGIT_H - half);
    let segments: [(u8, f32); 7] = [
        (0, horizontal_segment(x, y, left, right, top)),
        (1, vertical_segment(x, y, right, top, mid)),
        (2, vertical_segment(x, y, right, mid, bottom)),
        (3, horizontal_segment(x, y, left, right, bottom)),
        (4, vertical_segment(x, y, left, mid, bottom)),
        (5, vertical_segment(x, y, left, top, mid)),
        (6, horizontal_segment(x, y, left, right, mid)),
    ];
    let mut best = (f32::MAX, 0);
    for (bit, sd) in segments {
        if sd < best.0 {
            best = (sd, bit);
        }
    }
    best
}

/// Signed distance to a horizontal bar along `x1..x2` at height `yc` with 45° pointed ends.
fn horizontal_segment(x: f32, y: f32, x1: f32, x2: f32, yc: f32) -> f32 {
    let half = STROKE / 2.0;
    let dy = (y - yc).abs();
    let side = dy - half;
    let tip1 = (x1 + SEGMENT_GAP + dy - x) * std::f32::consts::FRAC_1_SQRT_2;
    let tip2 = (x - x2 + SEGMENT_GAP + dy) * std::f32::consts::FRAC_1_SQRT_2;
    side.max(tip1).max(tip2)
}

/// Signed distance to a vertical bar along `y1..y2` at `xc` with 45° pointed ends.
fn vertical_segment(x: f32, y: f32, xc: f32, y1: f32, y2: f32) -> f32 {
    horizontal_segment(y, x, y1, y2, xc)
}

/// Separable Gaussian blur of a `w`×`h` buffer in place (edges extended).
pub(crate) fn gaussian_blur(buf: &mut [f32], w: usize, h: usize, sigma: f32) {
    if sigma < 0.05 || w == 0 || h == 0 {
        return;
    }
    let radius = (3.0 * sigma).ceil() as usize;
    let mut kernel: Vec<f32> = (0..=2 * radius)
        .map(|i| {
            let d = i as f32 - radius as f32;
            (-d * d / (2.0 * sigma * sigma)).exp()
        })
        .collect();
    let sum: f32 = kernel.iter().sum();
    kernel.iter_mut().for_each(|k| *k /= sum);
    let r = radius as isize;
    let mut line = vec![0f32; w.max(h) + 2 * radius];
    // Rows.
    for y in 0..h {
        let row = &mut buf[y * w..(y + 1) * w];
        for (i, l) in line[..w + 2 * radius].iter_mut().enumerate() {
            *l = row[(i as isize - r).clamp(0, w as isize - 1) as usize];
        }
        for (x, out) in row.iter_mut().enumerate() {
            *out = line[x..x + kernel.len()]
                .iter()
                .zip(&kernel)
                .map(|(a, b)| a * b)
                .sum();
        }
    }
    // Columns.
    let mut col = vec![0f32; h];
    for x in 0..w {
        for (i, l) in line[..h + 2 * radius].iter_mut().enumerate() {
            *l = buf[(i as isize - r).clamp(0, h as isize - 1) as usize * w + x];
        }
        for (y, out) in col.iter_mut().enumerate() {
            *out = line[y..y + kernel.len()]
                .iter()
                .zip(&kernel)
                .map(|(a, b)| a * b)
                .sum();
        }
        for (y, v) in col.iter().enumerate() {
            buf[y * w + x] = *v;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code() -> LcdContent {
        LcdContent::code([1, 2, 3, 4, 5, 6], false)
    }

    #[test]
    fn same_seed_gives_same_frames() {
        let mut a = SceneRenderer::new(320, 240, Optics::default(), 7);
        let mut b = SceneRenderer::new(320, 240, Optics::default(), 7);
        for _ in 0..3 {
            assert_eq!(a.render(&code()), b.render(&code()));
        }
        let mut c = SceneRenderer::new(320, 240, Optics::default(), 8);
        assert_ne!(a.render(&code()), c.render(&code()));
    }

    #[test]
    fn frames_differ_by_noise_only() {
        let mut r = SceneRenderer::new(320, 240, Optics::default(), 1);
        let (f1, f2) = (r.render(&code()), r.render(&code()));
        assert_ne!(f1, f2);
        let max_diff = f1
            .pixels()
            .zip(f2.pixels())
            .map(|(a, b)| a.0[0].abs_diff(b.0[0]))
            .max();
        assert!(max_diff.is_some_and(|d| d < 40), "{max_diff:?}");
    }

    #[test]
    fn region_lies_inside_the_frame() {
        for (w, h) in [(640, 480), (800, 600), (320, 240)] {
            for tilt in [-3.0, 0.0, 2.5] {
                let optics = Optics {
                    tilt_deg: tilt,
                    ..Optics::default()
                };
                let r = SceneRenderer::new(w, h, optics, 1);
                let (x, y, rw, rh) = r.lcd_digits_region();
                assert!(rw > 0 && rh > 0);
                assert!(x + rw <= w && y + rh <= h, "{:?}", (x, y, rw, rh));
                // Six digits about twice as high as wide, plus tilt and margin.
                assert!(rw > 2 * rh && rw < 5 * rh);
            }
        }
    }

    #[test]
    fn ghosts_tell_on_blank_from_off() {
        let optics = Optics {
            noise: 0.0,
            ..Optics::default()
        };
        let mut r = SceneRenderer::new(640, 480, optics, 3);
        let off = r.render(&LcdContent::Off);
        let blank = r.render(&LcdContent::On([0; LCD_DIGITS]));
        let lit = r.render(&LcdContent::On([0x7f; LCD_DIGITS]));
        let (x, y, w, h) = r.lcd_digits_region();
        let sum = |img: &GrayImage| -> i64 {
            let mut s = 0;
            for yy in y..y + h {
                for xx in x..x + w {
                    s += i64::from(img.get_pixel(xx, yy).0[0]);
                }
            }
            s
        };
        let n = i64::from(w * h);
        let (off, blank, lit) = (sum(&off) / n, sum(&blank) / n, sum(&lit) / n);
        assert!(off > blank + 2, "off {off} blank {blank}");
        assert!(blank > lit + 20, "blank {blank} lit {lit}");
    }

    #[test]
    fn font_has_both_sevens() {
        assert_eq!(font_mask(7, false), 0x07);
        assert_eq!(font_mask(7, true), 0x27);
        assert_eq!(font_mask(8, false), 0x7f);
        assert_eq!(font_mask(10, false), 0);
    }
}
