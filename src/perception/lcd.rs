//! LCD reader: reads the seven-segment code display of a token from a grey camera frame.
//!
//! Inputs: a grey image (a camera frame) and a hand-set [`Region`] of the frame that holds the
//! digits with a small margin (from the rig file's calibration), plus the number of digits.
//! Outputs: an [`LcdRead`]: the [`LcdReading`] (a code, a blank display, or why it could not be
//! read), a confidence, per-digit segment evidence, and the sharpness and contrast it measured.
//!
//! How it reads: it checks exposure, estimates the panel brightness as a plane (light gradients),
//! turns pixels into "darkness" relative to the panel, finds the digit cells from the column
//! projection of clearly dark ("ink") pixels after correcting slant and small rotations (about ±3°),
//! measures the darkness of the seven segment zones of each digit, and decodes the lit masks.
//!
//! Invariants:
//! - Only pixels are used; the reader never knows whether a frame is real or simulated (this
//!   module must not import `rig::sim`).
//! - Faint ghosts of unlit segments (about 10 % darker than the panel) never count as lit.
//! - [`LcdReading::Code`] is returned only when every position decoded to a digit.
//! - [`Unreadable::InvalidPattern`] (the token's fault) is only returned for a display that was
//!   found, sharp and well exposed; every other `Unreadable` is the rig's fault.

use std::fmt::Write as _;

use image::GrayImage;
use serde::Serialize;

/// A rectangle of a frame in pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Region {
    /// Left edge.
    pub x: u32,
    /// Top edge.
    pub y: u32,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
}

/// What the LCD showed, as far as the reader can tell.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub enum LcdReading {
    /// Every position showed a digit; the digits, left to right.
    Code(String),
    /// No segment is lit (display off, or on but blank).
    Blank,
    /// The display could not be read.
    Unreadable(Unreadable),
}

/// Why a display could not be read.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub enum Unreadable {
    /// No bright panel with digits was found in the region (dark frame, covered lens, wrong region).
    NotFound,
    /// Digits are there but their edges are too soft to read (out of focus, motion).
    Blurred,
    /// The panel is clipped white and the digits washed out.
    OverExposed,
    /// The display is sharp and well exposed but a position shows a pattern that is no digit; the
    /// text renders each position (`?` for bad ones) and names the lit segments of the bad ones,
    /// e.g. `12?456 (position 3: segments a,b,f)`.
    InvalidPattern(String),
}

impl Unreadable {
    /// True when the token is to blame (it shows a non-digit pattern); false when the rig is
    /// (cannot find, focus on or expose the display).
    pub fn is_token_fault(&self) -> bool {
        matches!(self, Unreadable::InvalidPattern(_))
    }
}

/// What the reader measured at one digit position.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DigitEvidence {
    /// Position, 0 = leftmost.
    pub position: usize,
    /// Darkness of segments a..g relative to the panel (0 = panel, 1 = black).
    pub darkness: [f32; 7],
    /// Lit-segment mask (bit0 = a … bit6 = g).
    pub mask: u8,
    /// The digit the mask shows, if it is one.
    pub digit: Option<u8>,
}

/// The result of reading one frame.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LcdRead {
    /// What the display showed.
    pub reading: LcdReading,
    /// Confidence in `reading` from 0 to 1: for codes and invalid patterns the smallest margin
    /// between a segment's darkness and the lit threshold; for blank displays how far the darkest
    /// spot stays below ink; 0 for the rig-side `Unreadable` kinds.
    pub confidence: f32,
    /// Segment evidence per position (empty when the digits were not located).
    pub digits: Vec<DigitEvidence>,
    /// Edge steepness of lit segments (per pixel, relative to their darkness); about 0.3 for a
    /// focused bench camera, below 0.15 when out of focus. 0 when not measured.
    pub sharpness: f32,
    /// Darkness of the darkest ink relative to the panel (0..1); about 0.8 for a good image.
    pub contrast: f32,
}

impl LcdRead {
    fn unreadable(why: Unreadable, contrast: f32) -> Self {
        LcdRead {
            reading: LcdReading::Unreadable(why),
            confidence: 0.0,
            digits: Vec::new(),
            sharpness: 0.0,
            contrast,
        }
    }
}

/// Segment names in bit order.
const SEGMENT_NAMES: [char; 7] = ['a', 'b', 'c', 'd', 'e', 'f', 'g'];

/// The digit a lit-segment mask shows, accepting 7 with and without the top-left segment.
pub fn decode_mask(mask: u8) -> Option<u8> {
    match mask {
        0x3f => Some(0),
        0x06 => Some(1),
        0x5b => Some(2),
        0x4f => Some(3),
        0x66 => Some(4),
        0x6d => Some(5),
        0x7d => Some(6),
        0x07 | 0x27 => Some(7),
        0x7f => Some(8),
        0x6f => Some(9),
        _ => None,
    }
}

/// The lit segments of `mask` as letters, e.g. `a,b,f`; `none` for 0.
pub fn segment_list(mask: u8) -> String {
    let names: Vec<String> = SEGMENT_NAMES
        .iter()
        .enumerate()
        .filter(|(i, _)| mask & (1 << i) != 0)
        .map(|(_, c)| c.to_string())
        .collect();
    if names.is_empty() {
        "none".to_string()
    } else {
        names.join(",")
    }
}

// Exposure limits (grey levels and shares of the region).
/// Below this 95th-percentile brightness there is no lit panel in the region.
const DARK_LEVEL: u8 = 60;
/// Pixels at or above this grey level count as clipped.
const CLIPPED_LEVEL: u8 = 250;
/// With this share of clipped pixels the whole region is washed out.
const ALL_CLIPPED: f32 = 0.9;
/// With this share clipped, ink lighter than `OVEREXPOSED_INK` darkness means over-exposure
/// (on a well exposed LCD ink is about 80 % darker than the panel).
const PARTLY_CLIPPED: f32 = 0.25;
/// See `PARTLY_CLIPPED`.
const OVEREXPOSED_INK: f32 = 0.6;

// Darkness limits (0 = panel, 1 = black).
/// Below this the darkest spot is no ink: ghosts of unlit segments reach about 0.1-0.15.
const NO_INK: f32 = 0.2;
/// Mean darkness over a square a sixth of the region high above which faint ink is a defocused
/// digit rather than ghosts (ghosts average to well under 0.1).
const BROAD_INK: f32 = 0.12;
/// Segments are lit when darker than half the ink level, clamped to this range.
const LIT_MIN: f32 = 0.2;
/// See `LIT_MIN`.
const LIT_MAX: f32 = 0.45;
/// Lit segments whose edges rise slower than this (per pixel, relative to the segment's darkness)
/// are blurred.
const MIN_SHARPNESS: f32 = 0.15;

/// Exposure is fine but the darkest ink is this faint: defocus has smeared the strokes.
const MIN_CONTRAST: f32 = 0.4;
/// A segment this close to the lit threshold (share of the margin) makes the reading untrustworthy.
const MIN_CONFIDENCE: f32 = 0.3;

/// When the digits cannot be located and the darkest ink stays below this, the frame is blurred:
/// a focused LCD's ink is about 80 % darker than its panel, defocus smears it into grey blobs.
const BLURRED_CONTRAST: f32 = 0.5;

/// Largest slant plus rotation tolerated, as a horizontal shear (about 11°).
const SHEAR_MAX: f32 = 0.2;

/// Reads a seven-segment LCD inside a fixed region of camera frames.
#[derive(Debug, Clone)]
pub struct LcdReader {
    region: Region,
    digits: usize,
}

impl LcdReader {
    /// A reader for `digits` digit positions inside `region` of the frame.
    pub fn new(region: Region, digits: usize) -> Self {
        LcdReader {
            region,
            digits: digits.max(1),
        }
    }

    /// The region this reader looks at.
    pub fn region(&self) -> Region {
        self.region
    }

    /// Reads the display in `image`.
    pub fn read(&self, image: &GrayImage) -> LcdRead {
        let Some(patch) = Patch::cut(image, self.region) else {
            return LcdRead::unreadable(Unreadable::NotFound, 0.0);
        };
        let n = patch.pixels.len();
        let mut hist = [0u32; 256];
        for &p in &patch.pixels {
            hist[usize::from(p)] += 1;
        }
        if percentile_of_histogram(&hist, 0.95) < DARK_LEVEL {
            return LcdRead::unreadable(Unreadable::NotFound, 0.0);
        }
        let clipped: u32 = hist[usize::from(CLIPPED_LEVEL)..].iter().sum();
        let clipped_share = clipped as f32 / n as f32;
        if clipped_share > ALL_CLIPPED {
            return LcdRead::unreadable(Unreadable::OverExposed, 0.0);
        }

        let panel = Plane::fit_panel(&patch);
        let darkness = patch.darkness(&panel);
        let contrast = darkness_reference(&darkness, patch.width, patch.height);
        if contrast < NO_INK {
            // No crisp ink; but broad grey blobs (as dark as ink spread over a few strokes) are
            // digits far out of focus, while ghosts are thin and vanish under a wide average.
            let window = (patch.height / 6).max(3);
            let broad = broad_darkness(&darkness, patch.width, patch.height, window);
            if broad > BROAD_INK {
                return LcdRead::unreadable(Unreadable::Blurred, contrast);
            }
            return LcdRead {
                reading: LcdReading::Blank,
                confidence: ((NO_INK - contrast) / (0.5 * NO_INK)).clamp(0.0, 1.0),
                digits: Vec::new(),
                sharpness: 0.0,
                contrast,
            };
        }
        if clipped_share > PARTLY_CLIPPED && contrast < OVEREXPOSED_INK {
            return LcdRead::unreadable(Unreadable::OverExposed, contrast);
        }
        if contrast < MIN_CONTRAST {
            // Exposure is fine, yet the darkest ink is pale: defocus has smeared thin strokes.
            return LcdRead::unreadable(Unreadable::Blurred, contrast);
        }

        let ink_threshold = (0.5 * contrast).clamp(0.18, 0.4);
        let Some(layout) = Layout::locate(
            &darkness,
            patch.width,
            patch.height,
            ink_threshold,
            self.digits,
        ) else {
            // Faint ink that does not form digit cells: soft blobs of defocused digits.
            let why = if contrast < BLURRED_CONTRAST {
                Unreadable::Blurred
            } else {
                Unreadable::NotFound
            };
            return LcdRead::unreadable(why, contrast);
        };
        let sampled: Vec<[Segment; 7]> = (0..self.digits)
            .map(|k| layout.sample_digit(k, &darkness, patch.width, patch.height))
            .collect();
        self.decide(&sampled, contrast)
    }

    /// Thresholds the sampled segments, checks focus and decodes.
    fn decide(&self, sampled: &[[Segment; 7]], contrast: f32) -> LcdRead {
        let mut all: Vec<f32> = sampled.iter().flatten().map(|s| s.darkness).collect();
        all.sort_by(f32::total_cmp);
        // `all` holds 7 values per position and there is at least one position, so the index
        // is in bounds.
        let ink_level = all[(all.len() * 9 / 10).min(all.len() - 1)];
        let threshold = (0.5 * ink_level).clamp(LIT_MIN, LIT_MAX);

        let mut edges: Vec<f32> = Vec::new();
        let mut confidence = 1.0f32;
        let mut digits = Vec::with_capacity(sampled.len());
        for (position, segments) in sampled.iter().enumerate() {
            let mut mask = 0u8;
            let mut dark = [0f32; 7];
            for (i, s) in segments.iter().enumerate() {
                dark[i] = s.darkness;
                if s.darkness > threshold {
                    mask |= 1 << i;
                    edges.push(s.edge);
                    let span = (ink_level - threshold).max(0.05);
                    confidence = confidence.min((s.darkness - threshold) / span);
                } else {
                    confidence = confidence.min((threshold - s.darkness) / threshold);
                }
            }
            digits.push(DigitEvidence {
                position,
                darkness: dark,
                mask,
                digit: decode_mask(mask),
            });
        }
        let confidence = confidence.clamp(0.0, 1.0);
        if edges.is_empty() {
            return LcdRead {
                reading: LcdReading::Blank,
                confidence,
                digits,
                sharpness: 0.0,
                contrast,
            };
        }
        edges.sort_by(f32::total_cmp);
        let sharpness = edges[edges.len() / 2];
        // Soft edges or segments neither clearly lit nor clearly unlit: the image is too
        // soft to trust, and a pattern read from it must not be blamed on the token.
        if sharpness < MIN_SHARPNESS || confidence < MIN_CONFIDENCE {
            return LcdRead {
                sharpness,
                digits,
                ..LcdRead::unreadable(Unreadable::Blurred, contrast)
            };
        }
        let reading = if digits.iter().all(|d| d.digit.is_some()) {
            LcdReading::Code(
                digits
                    .iter()
                    .filter_map(|d| d.digit)
                    .map(|d| char::from(b'0' + d))
                    .collect(),
            )
        } else {
            LcdReading::Unreadable(Unreadable::InvalidPattern(describe_invalid(&digits)))
        };
        LcdRead {
            reading,
            confidence,
            digits,
            sharpness,
            contrast,
        }
    }
}

/// `12?456 (position 3: segments a,b,f)` for an invalid display.
fn describe_invalid(digits: &[DigitEvidence]) -> String {
    let mut text: String = digits
        .iter()
        .map(|d| d.digit.map_or('?', |v| char::from(b'0' + v)))
        .collect();
    let bad: Vec<String> = digits
        .iter()
        .filter(|d| d.digit.is_none())
        .map(|d| {
            format!(
                "position {}: segments {}",
                d.position + 1,
                segment_list(d.mask)
            )
        })
        .collect();
    // Writing to a String cannot fail.
    let _ = write!(text, " ({})", bad.join("; "));
    text
}

/// The grey level below which `q` of the histogram's pixels lie.
fn percentile_of_histogram(hist: &[u32; 256], q: f32) -> u8 {
    let total: u32 = hist.iter().sum();
    let target = (q * total as f32) as u32;
    let mut seen = 0;
    for (level, &count) in hist.iter().enumerate() {
        seen += count;
        if seen > target {
            return level as u8;
        }
    }
    255
}

/// The 99th percentile of the 3×3 box-smoothed darkness: the ink level of the display, robust to
/// single noisy pixels.
fn darkness_reference(darkness: &[f32], w: usize, h: usize) -> f32 {
    if w < 3 || h < 3 {
        return 0.0;
    }
    let mut rows = vec![0f32; w * h];
    for y in 0..h {
        let row = &darkness[y * w..(y + 1) * w];
        for x in 1..w - 1 {
            rows[y * w + x] = row[x - 1] + row[x] + row[x + 1];
        }
    }
    let mut smooth: Vec<f32> = Vec::with_capacity((w - 2) * (h - 2));
    for y in 1..h - 1 {
        for x in 1..w - 1 {
            let i = y * w + x;
            smooth.push((rows[i - w] + rows[i] + rows[i + w]) / 9.0);
        }
    }
    // Percentile from a histogram of 1/512 steps over [-1, 1): cheaper than sorting.
    let mut hist = vec![0u32; 1024];
    for &d in &smooth {
        hist[((d.clamp(-1.0, 0.999) + 1.0) * 512.0) as usize] += 1;
    }
    let target = smooth.len() as u32 * 99 / 100;
    let mut seen = 0;
    for (bin, &count) in hist.iter().enumerate() {
        seen += count;
        if seen > target {
            return bin as f32 / 512.0 - 1.0;
        }
    }
    1.0
}

/// The largest mean darkness of a `window`×`window` square (sampled every other pixel).
fn broad_darkness(darkness: &[f32], w: usize, h: usize, window: usize) -> f32 {
    if w < window || h < window {
        return 0.0;
    }
    // Summed-area table with a zero first row and column.
    let mut table = vec![0f64; (w + 1) * (h + 1)];
    for y in 0..h {
        let mut row = 0f64;
        for x in 0..w {
            row += f64::from(darkness[y * w + x]);
            table[(y + 1) * (w + 1) + x + 1] = table[y * (w + 1) + x + 1] + row;
        }
    }
    let area = (window * window) as f64;
    let mut best = f64::MIN;
    for y in (0..=h - window).step_by(2) {
        for x in (0..=w - window).step_by(2) {
            let (x1, y1) = (x + window, y + window);
            let sum = table[y1 * (w + 1) + x1] - table[y * (w + 1) + x1] - table[y1 * (w + 1) + x]
                + table[y * (w + 1) + x];
            best = best.max(sum / area);
        }
    }
    best as f32
}

/// The region's pixels, copied out of the frame.
struct Patch {
    width: usize,
    height: usize,
    pixels: Vec<u8>,
}

impl Patch {
    /// The part of `region` inside `image`; `None` when that is too small to hold digits.
    fn cut(image: &GrayImage, region: Region) -> Option<Patch> {
        let x0 = region.x.min(image.width());
        let y0 = region.y.min(image.height());
        let x1 = region.x.saturating_add(region.width).min(image.width());
        let y1 = region.y.saturating_add(region.height).min(image.height());
        let (width, height) = ((x1 - x0) as usize, (y1 - y0) as usize);
        if width < 8 || height < 8 {
            return None;
        }
        let stride = image.width() as usize;
        let raw = image.as_raw();
        let mut pixels = Vec::with_capacity(width * height);
        for y in y0 as usize..y1 as usize {
            let start = y * stride + x0 as usize;
            pixels.extend_from_slice(raw.get(start..start + width)?);
        }
        Some(Patch {
            width,
            height,
            pixels,
        })
    }

    /// Darkness of each pixel relative to the panel: `1 - grey / panel`.
    fn darkness(&self, panel: &Plane) -> Vec<f32> {
        let mut out = Vec::with_capacity(self.pixels.len());
        for y in 0..self.height {
            let row = &self.pixels[y * self.width..(y + 1) * self.width];
            for (x, &p) in row.iter().enumerate() {
                let level = panel.at(x as f32, y as f32).max(1.0);
                out.push(1.0 - f32::from(p) / level);
            }
        }
        out
    }
}

/// A brightness plane `a + b·(x - mx) + c·(y - my)` over the region.
#[derive(Debug, Clone, Copy)]
struct Plane {
    a: f32,
    b: f32,
    c: f32,
    mx: f32,
    my: f32,
}

impl Plane {
    fn at(&self, x: f32, y: f32) -> f32 {
        self.a + self.b * (x - self.mx) + self.c * (y - self.my)
    }

    /// The panel brightness: a plane through the bright (80th percentile) level of small blocks,
    /// refitted once without blocks well below the first fit.
    fn fit_panel(patch: &Patch) -> Plane {
        let bs = (patch.height / 5).clamp(6, 24);
        let mut blocks: Vec<(f32, f32, f32)> = Vec::new();
        let mut values: Vec<u8> = Vec::with_capacity(bs * bs);
        for by in (0..patch.height).step_by(bs) {
            for bx in (0..patch.width).step_by(bs) {
                values.clear();
                let (ye, xe) = ((by + bs).min(patch.height), (bx + bs).min(patch.width));
                for y in by..ye {
                    values.extend_from_slice(
                        &patch.pixels[y * patch.width + bx..y * patch.width + xe],
                    );
                }
                if values.len() * 3 < bs * bs {
                    continue;
                }
                let k = values.len() * 4 / 5;
                let v = *values.select_nth_unstable(k).1;
                blocks.push(((bx + xe) as f32 / 2.0, (by + ye) as f32 / 2.0, f32::from(v)));
            }
        }
        let first = Plane::least_squares(&blocks);
        let kept: Vec<(f32, f32, f32)> = blocks
            .iter()
            .copied()
            .filter(|&(x, y, v)| v >= 0.9 * first.at(x, y))
            .collect();
        if kept.len() >= 3 {
            Plane::least_squares(&kept)
        } else {
            first
        }
    }

    fn least_squares(points: &[(f32, f32, f32)]) -> Plane {
        let n = points.len().max(1) as f32;
        let mx = points.iter().map(|p| p.0).sum::<f32>() / n;
        let my = points.iter().map(|p| p.1).sum::<f32>() / n;
        let a = points.iter().map(|p| p.2).sum::<f32>() / n;
        let (mut sxx, mut sxy, mut syy, mut sxv, mut syv) = (0f32, 0f32, 0f32, 0f32, 0f32);
        for &(x, y, v) in points {
            let (dx, dy, dv) = (x - mx, y - my, v - a);
            sxx += dx * dx;
            sxy += dx * dy;
            syy += dy * dy;
            sxv += dx * dv;
            syv += dy * dv;
        }
        let det = sxx * syy - sxy * sxy;
        let (b, c) = if det.abs() > 1e-3 * (sxx * syy).max(1e-6) {
            ((sxv * syy - syv * sxy) / det, (syv * sxx - sxv * sxy) / det)
        } else if sxx > 0.0 {
            (sxv / sxx, 0.0)
        } else if syy > 0.0 {
            (0.0, syv / syy)
        } else {
            (0.0, 0.0)
        };
        Plane { a, b, c, mx, my }
    }
}

/// One sampled segment zone.
#[derive(Debug, Clone, Copy, Default)]
struct Segment {
    /// Peak darkness across the zone (3-pixel average).
    darkness: f32,
    /// Steepest change of the darkness profile per pixel, relative to its peak.
    edge: f32,
}

/// Where the digits are, in sheared coordinates `x' = x - shear·(y - yc) + offset` (slant and
/// rotation make vertical strokes vertical there) and image rows.
#[derive(Debug, Clone)]
struct Layout {
    shear: f32,
    yc: f32,
    offset: f32,
    /// Left edge of the first cell and distance between cells, in x'.
    first_left: f32,
    pitch: f32,
    cell_width: f32,
    /// Digit height in rows.
    height: f32,
    /// Row of the digits' vertical centre as `centre_a + centre_b·x'`.
    centre_a: f32,
    centre_b: f32,
}

/// One contiguous stretch of columns with ink.
#[derive(Debug, Clone, Copy)]
struct Run {
    start: usize,
    end: usize,
    mass: u32,
}

impl Layout {
    /// Finds `digits` equally spaced digit cells in the darkness map, or `None`.
    fn locate(
        darkness: &[f32],
        w: usize,
        h: usize,
        threshold: f32,
        digits: usize,
    ) -> Option<Layout> {
        let mut ink: Vec<(i32, i32)> = Vec::new();
        for (y, row) in darkness.chunks_exact(w).enumerate() {
            for (x, &d) in row.iter().enumerate() {
                if d > threshold {
                    ink.push((x as i32, y as i32));
                }
            }
        }
        if ink.len() < 20 {
            return None;
        }
        // Binning is integer arithmetic with shears in 1/256 steps (cheap in the search loop).
        let yc = (h / 2) as i32;
        let offset = (SHEAR_MAX * h as f32).ceil() as i32 + 2;
        let bins = w + 2 * offset as usize + 2;
        let mut profile = vec![0u32; bins];
        // Always at least 1 thanks to the offset, so the cast to usize keeps the value.
        let column =
            |x: i32, y: i32, shear: i32| (x + offset + ((128 - shear * (y - yc)) >> 8)) as usize;
        // The search uses every other ink row: plenty of evidence at half the cost.
        let sparse: Vec<(i32, i32)> = ink.iter().copied().filter(|p| p.1 % 2 == 0).collect();
        let fill = |profile: &mut Vec<u32>, points: &[(i32, i32)], shear: i32| {
            profile.iter_mut().for_each(|p| *p = 0);
            for &(x, y) in points {
                if let Some(p) = profile.get_mut(column(x, y, shear)) {
                    *p += 1;
                }
            }
        };
        // Shear that makes the column profile peakiest: vertical strokes line up.
        let score = |profile: &mut Vec<u32>, shear: i32| {
            fill(profile, &sparse, shear);
            profile
                .iter()
                .map(|&p| u64::from(p) * u64::from(p))
                .sum::<u64>()
        };
        let max_step = (SHEAR_MAX * 256.0) as i32;
        let mut best = (0u64, 0i32);
        for shear in (-max_step..=max_step).step_by(12) {
            let s = score(&mut profile, shear);
            if s > best.0 {
                best = (s, shear);
            }
        }
        let centre = best.1;
        for shear in (centre - 10..=centre + 10).step_by(2) {
            let s = score(&mut profile, shear);
            if s > best.0 {
                best = (s, shear);
            }
        }
        let shear_steps = best.1;
        fill(&mut profile, &ink, shear_steps);
        let shear = shear_steps as f32 / 256.0;

        // Runs of ink columns; one-column gaps are bridged, specks dropped.
        let mut runs: Vec<Run> = Vec::new();
        for (i, &p) in profile.iter().enumerate() {
            if p < 2 {
                continue;
            }
            match runs.last_mut() {
                Some(r) if i <= r.end + 2 => {
                    r.end = i;
                    r.mass += p;
                }
                _ => runs.push(Run {
                    start: i,
                    end: i,
                    mass: p,
                }),
            }
        }
        let max_mass = runs.iter().map(|r| r.mass).max()?;
        runs.retain(|r| r.mass * 20 >= max_mass);
        let last = *runs.last()?;

        // Height of each run, then the typical digit height and width.
        let mut run_of_bin = vec![usize::MAX; bins];
        for (k, r) in runs.iter().enumerate() {
            run_of_bin[r.start..=r.end].iter_mut().for_each(|b| *b = k);
        }
        let mut extent = vec![(f32::MAX, f32::MIN); runs.len()];
        for &(x, y) in &ink {
            if let Some(&k) = run_of_bin.get(column(x, y, shear_steps))
                && let Some(e) = extent.get_mut(k)
            {
                *e = (e.0.min(y as f32), e.1.max(y as f32));
            }
        }
        let mut heights: Vec<f32> = extent.iter().map(|e| e.1 - e.0 + 1.0).collect();
        heights.sort_by(f32::total_cmp);
        let run_height = *heights.get(heights.len() / 2)?;
        if run_height < 6.0 {
            return None;
        }
        let widest = runs
            .iter()
            .map(|r| (r.end - r.start + 1) as f32)
            .filter(|&wd| wd <= 0.8 * run_height)
            .fold(0.0, f32::max);
        // Only "1"s (one stroke wide): fall back on the usual LCD proportion, width = height / 2.
        let cell_width = if widest >= 0.3 * run_height {
            widest
        } else {
            0.5 * run_height
        };

        // Every digit has a lit right-hand stroke (b or c), so the right ends of the runs mark the
        // cells; their left ends do not (a "1", or a "7" whose bars end in a pointed tip).
        let (first_right, pitch) = if digits > 1 {
            cell_rights(&runs, digits, cell_width)?
        } else {
            (last.end as f32 + 1.0, cell_width)
        };
        let left = first_right - cell_width;
        if digits > 1 && !(pitch >= cell_width && pitch <= 3.0 * cell_width) {
            return None;
        }

        // All ink must lie inside the cells; ink between them means the cells are wrong.
        let total: u32 = profile.iter().sum();
        let mut outside = 0u32;
        for (i, &p) in profile.iter().enumerate() {
            let rel = i as f32 - left;
            let k = (rel / pitch).floor().clamp(0.0, (digits - 1) as f32);
            let inside = rel - k * pitch;
            if !(-1.5..cell_width + 1.5).contains(&inside) {
                outside += p;
            }
        }

        if outside as f32 > 0.04 * total as f32 {
            return None;
        }

        // Vertical extent per cell; digits with full height fix the centre line and the height.
        let mut cells = vec![(f32::MAX, f32::MIN); digits];
        for &(x, y) in &ink {
            let rel = column(x, y, shear_steps) as f32 - left;
            if rel < 0.0 {
                continue;
            }
            // Truncation is floor for the non-negative `rel`.
            let k = (rel / pitch) as usize;
            if k < digits && rel - k as f32 * pitch < cell_width + 1.5 {
                let e = &mut cells[k];
                *e = (e.0.min(y as f32), e.1.max(y as f32));
            }
        }
        let filled: Vec<(f32, f32, f32)> = cells
            .iter()
            .enumerate()
            .filter(|(_, e)| e.1 >= e.0)
            .map(|(k, e)| {
                (
                    left + k as f32 * pitch + cell_width / 2.0,
                    (e.0 + e.1) / 2.0,
                    e.1 - e.0 + 1.0,
                )
            })
            .collect();
        let tallest = filled.iter().map(|c| c.2).fold(0.0, f32::max);
        let full: Vec<(f32, f32, f32)> = filled
            .iter()
            .copied()
            .filter(|c| c.2 >= 0.94 * tallest)
            .collect();
        let mut full_heights: Vec<f32> = full.iter().map(|c| c.2).collect();
        full_heights.sort_by(f32::total_cmp);
        let height = *full_heights.get(full_heights.len() / 2)?;
        let line_points = if full.len() >= 2 { &full } else { &filled };
        let (centre_a, centre_b) = fit_line(line_points);

        Some(Layout {
            shear,
            yc: yc as f32,
            offset: offset as f32,
            first_left: left,
            pitch,
            cell_width,
            height,
            centre_a,
            centre_b,
        })
    }

    /// Darkness at cell-normalised coordinates of digit `k` (u across, v down, 0..1 = the digit).
    fn darkness_at(&self, k: usize, u: f32, v: f32, darkness: &[f32], w: usize, h: usize) -> f32 {
        let xs = self.first_left + k as f32 * self.pitch + u * self.cell_width;
        let y = self.centre_a + self.centre_b * xs + (v - 0.5) * self.height;
        let x = xs - self.offset + self.shear * (y - self.yc);
        if x < -0.5 || y < -0.5 {
            return 0.0;
        }
        // Truncation after adding 0.5 rounds the non-negative coordinates.
        let (xi, yi) = ((x + 0.5) as usize, (y + 0.5) as usize);
        if xi >= w || yi >= h {
            return 0.0;
        }
        darkness[yi * w + xi]
    }

    /// Samples the seven segment zones of digit `k`.
    fn sample_digit(&self, k: usize, darkness: &[f32], w: usize, h: usize) -> [Segment; 7] {
        let du = 1.0 / self.cell_width.max(1.0);
        let dv = 1.0 / self.height.max(1.0);
        // Horizontal bars: profile down a band of rows, each row averaged across the bar's middle.
        let horizontal = |v0: f32, v1: f32| {
            let mut profile = Vec::new();
            let mut v = v0;
            while v <= v1 {
                let (mut sum, mut n) = (0.0, 0);
                let mut u = 0.3;
                while u <= 0.7 {
                    sum += self.darkness_at(k, u, v, darkness, w, h);
                    n += 1;
                    u += du;
                }
                profile.push(sum / n.max(1) as f32);
                v += dv;
            }
            Segment::from_profile(&profile)
        };
        // Vertical bars: profile across a band of columns, each column averaged along the bar.
        let vertical = |u0: f32, u1: f32, v0: f32, v1: f32| {
            let mut profile = Vec::new();
            let mut u = u0;
            while u <= u1 {
                let (mut sum, mut n) = (0.0, 0);
                let mut v = v0;
                while v <= v1 {
                    sum += self.darkness_at(k, u, v, darkness, w, h);
                    n += 1;
                    v += dv;
                }
                profile.push(sum / n.max(1) as f32);
                u += du;
            }
            Segment::from_profile(&profile)
        };
        [
            horizontal(-0.08, 0.22),
            vertical(0.6, 1.15, 0.2, 0.38),
            vertical(0.6, 1.15, 0.62, 0.8),
            horizontal(0.78, 1.08),
            vertical(-0.15, 0.4, 0.62, 0.8),
            vertical(-0.15, 0.4, 0.2, 0.38),
            horizontal(0.35, 0.65),
        ]
    }
}

impl Segment {
    fn from_profile(profile: &[f32]) -> Segment {
        let peak = profile.iter().copied().fold(0.0, f32::max);
        let darkness = profile
            .windows(3)
            .map(|w| (w[0] + w[1] + w[2]) / 3.0)
            .fold(f32::MIN, f32::max)
            .max(0.0);
        let steepest = profile
            .windows(2)
            .map(|w| (w[1] - w[0]).abs())
            .fold(0.0, f32::max);
        let edge = if peak > 0.0 { steepest / peak } else { 0.0 };
        Segment { darkness, edge }
    }
}

/// Right edge of the first cell and the pitch, from the right ends of the ink runs: every digit
/// ends in a lit right-hand stroke, while a broken digit may add a run that ends inside its cell.
fn cell_rights(runs: &[Run], digits: usize, cell_width: f32) -> Option<(f32, f32)> {
    let ends: Vec<f32> = runs.iter().map(|r| r.end as f32 + 1.0).collect();
    let last = *ends.last()?;
    if ends.len() == digits {
        let points: Vec<(f32, f32, f32)> = ends
            .iter()
            .enumerate()
            .map(|(k, &e)| (k as f32, e, 0.0))
            .collect();
        return Some(fit_line(&points));
    }
    // Neighbouring right ends one pitch apart give the pitch; then keep the runs that end on a
    // cell boundary counted back from the rightmost one.
    let mut steps: Vec<f32> = ends
        .windows(2)
        .map(|w| w[1] - w[0])
        .filter(|&d| d >= cell_width && d <= 2.0 * cell_width)
        .collect();
    steps.sort_by(f32::total_cmp);
    let pitch = match steps.get(steps.len() / 2) {
        Some(&p) => p,
        None => (last - ends[0]) / (digits - 1) as f32,
    };
    if pitch <= 0.0 {
        return None;
    }
    let mut slots: Vec<Option<(f32, f32)>> = vec![None; digits];
    for &e in &ends {
        let from_right = ((last - e) / pitch).round();
        let miss = (last - from_right * pitch - e).abs();
        if from_right < 0.0 || from_right >= digits as f32 || miss > 0.15 * pitch {
            continue;
        }
        let k = digits - 1 - from_right as usize;
        if slots[k].is_none_or(|(_, m)| miss < m) {
            slots[k] = Some((e, miss));
        }
    }
    let points: Vec<(f32, f32, f32)> = slots
        .iter()
        .enumerate()
        .filter_map(|(k, s)| s.map(|(e, _)| (k as f32, e, 0.0)))
        .collect();
    if points.len() >= 2 {
        Some(fit_line(&points))
    } else {
        Some((last - (digits - 1) as f32 * pitch, pitch))
    }
}

/// Least-squares line `y = a + b·x` through `(x, y, _)` points, refitted once without points more
/// than 2 rows off; a flat line through the mean for fewer than two points.
fn fit_line(points: &[(f32, f32, f32)]) -> (f32, f32) {
    let fit = |pts: &[(f32, f32, f32)]| -> (f32, f32) {
        let n = pts.len().max(1) as f32;
        let mx = pts.iter().map(|p| p.0).sum::<f32>() / n;
        let my = pts.iter().map(|p| p.1).sum::<f32>() / n;
        let sxx: f32 = pts.iter().map(|p| (p.0 - mx).powi(2)).sum();
        let sxy: f32 = pts.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
        let b = if pts.len() >= 2 && sxx > 0.0 {
            sxy / sxx
        } else {
            0.0
        };
        (my - b * mx, b)
    };
    let (a, b) = fit(points);
    let kept: Vec<(f32, f32, f32)> = points
        .iter()
        .copied()
        .filter(|p| (p.1 - (a + b * p.0)).abs() <= 2.0)
        .collect();
    if kept.len() >= 2 && kept.len() < points.len() {
        fit(&kept)
    } else {
        (a, b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decode_table_accepts_both_sevens() {
        assert_eq!(decode_mask(0x07), Some(7));
        assert_eq!(decode_mask(0x27), Some(7));
        assert_eq!(decode_mask(0x7b), None);
        assert_eq!(decode_mask(0), None);
    }

    #[test]
    fn invalid_pattern_names_segments() {
        let d = |position, mask| DigitEvidence {
            position,
            darkness: [0.0; 7],
            mask,
            digit: decode_mask(mask),
        };
        let text = describe_invalid(&[d(0, 0x06), d(1, 0x5b), d(2, 0x23)]);
        assert_eq!(text, "12? (position 3: segments a,b,f)");
    }

    #[test]
    fn only_invalid_patterns_are_token_faults() {
        assert!(Unreadable::InvalidPattern(String::new()).is_token_fault());
        assert!(!Unreadable::Blurred.is_token_fault());
        assert!(!Unreadable::NotFound.is_token_fault());
        assert!(!Unreadable::OverExposed.is_token_fault());
    }

    #[test]
    fn black_and_white_regions_are_unreadable() {
        let region = Region {
            x: 0,
            y: 0,
            width: 40,
            height: 20,
        };
        let reader = LcdReader::new(region, 6);
        let black = GrayImage::new(40, 20);
        assert_eq!(
            reader.read(&black).reading,
            LcdReading::Unreadable(Unreadable::NotFound)
        );
        let white = GrayImage::from_pixel(40, 20, image::Luma([255]));
        assert_eq!(
            reader.read(&white).reading,
            LcdReading::Unreadable(Unreadable::OverExposed)
        );
        let grey = GrayImage::from_pixel(40, 20, image::Luma([180]));
        assert_eq!(reader.read(&grey).reading, LcdReading::Blank);
    }
}
