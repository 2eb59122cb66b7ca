//! Digits: reads the seven-segment digits of a rectified LCD window.
//!
//! Input: the window as an upright [`Patch`] (from `rectify`) and the number of digit positions.
//! Output: an [`LcdRead`] without its quad: the reading, confidence, per-digit segment evidence,
//! sharpness and contrast.
//!
//! How it reads: it checks exposure, estimates the panel brightness behind the digits as a coarse
//! grid of bright levels (adaptive: follows gradients and glare spots), turns pixels into
//! "darkness" relative to the panel, keeps the band of rows that holds the digits, finds the digit
//! cells from the column projection of clearly dark ("ink") pixels after correcting slant and
//! small rotations (up to about 11°), measures the darkness of the seven segment zones of each
//! digit, and decodes the lit masks.
//!
//! Invariants: faint ghosts of unlit segments (about 10 % darker than the panel) never count as
//! lit; a code only when every position decoded; `InvalidPattern` only for a sharp, well exposed
//! window.

use super::MIN_CODE_CONFIDENCE as MIN_CONFIDENCE;
use super::rectify::Patch;
use super::{DigitEvidence, LcdRead, LcdReading, Unreadable, decode_mask, describe_invalid};

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

/// When the digits cannot be located and the darkest ink stays below this, the frame is blurred:
/// a focused LCD's ink is about 80 % darker than its panel, defocus smears it into grey blobs.
const BLURRED_CONTRAST: f32 = 0.5;

/// Largest slant plus rotation tolerated, as a horizontal shear (about 11°).
const SHEAR_MAX: f32 = 0.2;

/// Reads the `digits` positions of the rectified LCD window `patch`.
pub fn read_patch(patch: &Patch, digits: usize) -> LcdRead {
    let digits = digits.max(1);
    let n = patch.pixels.len();
    if n == 0 {
        return LcdRead::unreadable(Unreadable::NotFound, 0.0);
    }
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

    let panel = Background::estimate(patch);
    let full = patch.darkness(&panel);
    let (darkness, w, h) = digit_band(&full, patch.width, patch.height);
    let contrast = darkness_reference(&darkness, w, h);
    if contrast < NO_INK {
        // No crisp ink; but broad grey blobs (as dark as ink spread over a few strokes) are
        // digits far out of focus, while ghosts are thin and vanish under a wide average.
        let window = (h / 6).max(3);
        let broad = broad_darkness(&darkness, w, h, window);
        if broad > BROAD_INK {
            return LcdRead::unreadable(Unreadable::Blurred, contrast);
        }
        return LcdRead {
            reading: LcdReading::Blank,
            confidence: ((NO_INK - contrast) / (0.5 * NO_INK)).clamp(0.0, 1.0),
            digits: Vec::new(),
            sharpness: 0.0,
            contrast,
            quad: None,
            tracked: false,
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
    let Some(layout) = Layout::locate(&darkness, w, h, ink_threshold, digits) else {
        // Faint ink that does not form digit cells: soft blobs of defocused digits.
        let why = if contrast < BLURRED_CONTRAST {
            Unreadable::Blurred
        } else {
            Unreadable::NotFound
        };
        return LcdRead::unreadable(why, contrast);
    };
    let sampled: Vec<[Segment; 7]> = (0..digits)
        .map(|k| layout.sample_digit(k, &darkness, w, h))
        .collect();
    decide(&sampled, contrast)
}

/// The rows and columns of the window that hold the digits, with a margin: the band of rows with
/// the most ink (rows darkened along their whole width are the bezel, not digits) and the ink's
/// columns inside it. Returns the cropped darkness map and its size.
fn digit_band(darkness: &[f32], w: usize, h: usize) -> (Vec<f32>, usize, usize) {
    let reference = darkness_reference(darkness, w, h);
    let threshold = (0.5 * reference).clamp(0.18, 0.4);
    let mut rows = vec![0usize; h];
    for (y, row) in darkness.chunks_exact(w).enumerate() {
        rows[y] = row.iter().filter(|&&d| d > threshold).count();
    }
    let full_width = (w * 9) / 10;
    // Runs of rows with ink, bridging gaps of a couple of rows (segment gaps).
    let mut best: Option<(usize, usize, usize)> = None;
    let mut current: Option<(usize, usize, usize)> = None;
    let mut gap = 0;
    for (y, &count) in rows.iter().enumerate() {
        let inked = count >= 2 && count < full_width;
        match (&mut current, inked) {
            (Some(run), true) => {
                run.1 = y;
                run.2 += count;
                gap = 0;
            }
            (Some(_), false) => {
                gap += 1;
                if gap > (h / 40).max(2) {
                    best = better_run(best, current.take());
                }
            }
            (None, true) => {
                current = Some((y, y, count));
                gap = 0;
            }
            (None, false) => {}
        }
    }
    best = better_run(best, current);
    let Some((top, bottom, _)) = best else {
        return (darkness.to_vec(), w, h);
    };
    let band_h = bottom - top + 1;
    if band_h < 6 {
        return (darkness.to_vec(), w, h);
    }
    let margin = (band_h / 8).max(2);
    let (y0, y1) = (top.saturating_sub(margin), (bottom + margin + 1).min(h));
    // Columns with ink inside the band; columns at the window's edge that are dark all the way
    // down are the bezel.
    let mut cols = vec![0usize; w];
    for y in top..=bottom {
        for (x, &d) in darkness[y * w..(y + 1) * w].iter().enumerate() {
            if d > threshold {
                cols[x] += 1;
            }
        }
    }
    let mut left = 0;
    while left < w && (cols[left] == 0 || (left < w / 20 + 1 && cols[left] * 10 >= band_h * 9)) {
        left += 1;
    }
    let mut right = w;
    while right > left
        && (cols[right - 1] == 0 || (right > w - w / 20 - 1 && cols[right - 1] * 10 >= band_h * 9))
    {
        right -= 1;
    }
    if right <= left + 4 {
        return (darkness.to_vec(), w, h);
    }
    let (x0, x1) = (left.saturating_sub(margin), (right + margin).min(w));
    let (cw, ch) = (x1 - x0, y1 - y0);
    let mut out = Vec::with_capacity(cw * ch);
    for y in y0..y1 {
        out.extend_from_slice(&darkness[y * w + x0..y * w + x1]);
    }
    (out, cw, ch)
}

/// The run `(first row, last row, ink)` with more ink.
fn better_run(
    best: Option<(usize, usize, usize)>,
    run: Option<(usize, usize, usize)>,
) -> Option<(usize, usize, usize)> {
    match (best, run) {
        (Some(b), Some(r)) if r.2 > b.2 => Some(r),
        (None, r) => r,
        (b, _) => b,
    }
}

/// Thresholds the sampled segments, checks focus and decodes.
fn decide(sampled: &[[Segment; 7]], contrast: f32) -> LcdRead {
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
            quad: None,
            tracked: false,
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
        quad: None,
        tracked: false,
    }
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

impl Patch {
    /// Darkness of each pixel relative to the panel behind it: `1 - grey / panel`.
    fn darkness(&self, panel: &Background) -> Vec<f32> {
        let mut out = Vec::with_capacity(self.pixels.len());
        let mut levels = vec![0f32; self.width];
        for y in 0..self.height {
            panel.row(y, &mut levels);
            let row = &self.pixels[y * self.width..(y + 1) * self.width];
            for (&p, &level) in row.iter().zip(&levels) {
                out.push(1.0 - f32::from(p) / level.max(1.0));
            }
        }
        out
    }
}

/// The panel's brightness behind the digits, as a coarse grid of blocks interpolated
/// bilinearly: follows light gradients and glare spots that a single threshold or plane cannot.
#[derive(Debug, Clone)]
struct Background {
    /// Block size in pixels.
    block: usize,
    cols: usize,
    rows: usize,
    /// Panel level per block, row-major.
    levels: Vec<f32>,
}

impl Background {
    /// The bright (80th percentile) level of each block; blocks much darker than their
    /// neighbours (inside a bold digit) take their neighbours' level.
    fn estimate(patch: &Patch) -> Background {
        let block = (patch.height / 4).clamp(6, 32);
        let cols = patch.width.div_ceil(block);
        let rows = patch.height.div_ceil(block);
        let mut levels = Vec::with_capacity(cols * rows);
        let mut values: Vec<u8> = Vec::with_capacity(block * block);
        for by in 0..rows {
            for bx in 0..cols {
                values.clear();
                let (y0, x0) = (by * block, bx * block);
                let (y1, x1) = (
                    (y0 + block).min(patch.height),
                    (x0 + block).min(patch.width),
                );
                for y in y0..y1 {
                    values.extend_from_slice(
                        &patch.pixels[y * patch.width + x0..y * patch.width + x1],
                    );
                }
                let k = (values.len() * 4 / 5).min(values.len().saturating_sub(1));
                let level = if values.is_empty() {
                    0
                } else {
                    *values.select_nth_unstable(k).1
                };
                levels.push(f32::from(level));
            }
        }
        // A block well below the brightest of its neighbours sits on ink, not on panel.
        let original = levels.clone();
        for by in 0..rows {
            for bx in 0..cols {
                let mut brightest = 0f32;
                for (dx, dy) in [(-1i32, 0i32), (1, 0), (0, -1), (0, 1)] {
                    let (nx, ny) = (bx as i32 + dx, by as i32 + dy);
                    if nx >= 0 && ny >= 0 && (nx as usize) < cols && (ny as usize) < rows {
                        brightest = brightest.max(original[ny as usize * cols + nx as usize]);
                    }
                }
                let i = by * cols + bx;
                if original[i] < 0.75 * brightest {
                    levels[i] = brightest * 0.9;
                }
            }
        }
        Background {
            block,
            cols,
            rows,
            levels,
        }
    }

    /// The panel level along row `y`, interpolated between block centres, into `out`.
    fn row(&self, y: usize, out: &mut [f32]) {
        let fy = ((y as f32 + 0.5) / self.block as f32 - 0.5).clamp(0.0, (self.rows - 1) as f32);
        // Non-negative after the clamp: truncation is floor.
        let y0 = fy as usize;
        let y1 = (y0 + 1).min(self.rows - 1);
        let ty = fy - y0 as f32;
        let column: Vec<f32> = (0..self.cols)
            .map(|bx| {
                let (a, b) = (
                    self.levels[y0 * self.cols + bx],
                    self.levels[y1 * self.cols + bx],
                );
                a + ty * (b - a)
            })
            .collect();
        let last = (self.cols - 1) as f32;
        for (x, o) in out.iter_mut().enumerate() {
            let fx = ((x as f32 + 0.5) / self.block as f32 - 0.5).clamp(0.0, last);
            let x0 = fx as usize;
            let x1 = (x0 + 1).min(self.cols - 1);
            *o = column[x0] + (fx - x0 as f32) * (column[x1] - column[x0]);
        }
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
