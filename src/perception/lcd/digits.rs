//! Digits: reads the seven-segment digits of a rectified LCD window.
//!
//! Input: the window as an upright [`Patch`] (from `rectify`) and the number of digit positions.
//! Output: an [`LcdRead`] without its quad: the reading, confidence, per-digit segment evidence,
//! sharpness and contrast.
//!
//! How it reads: it checks exposure, estimates the panel brightness behind the digits as a coarse
//! grid of bright levels (adaptive: follows gradients and glare spots; where there is glare, held
//! under the light around each pixel so no halo spreads from a spot), turns pixels into
//! "darkness" relative to the panel, keeps the band of rows that holds the digits, finds the digit
//! cells from the column projection of clearly dark ("ink") pixels after correcting slant and
//! small rotations (up to about 11°), measures the darkness of the seven segment zones of each
//! digit, and decodes the lit masks. Lit is judged against the display's own ink level, so dim,
//! low-contrast digits read too; a window whose ink is no darker than ghosts is read only when
//! its lit and unlit segments part clearly (ghosts alone are every segment alike). A segment
//! that looks unlit but may be washed out (glare over it, or half as dark as the ink) gets a
//! second look: its contrast to the panel right beside it, which additive glare does not wipe
//! out.
//!
//! Invariants: ghosts of unlit segments never count as lit; a code only when every position
//! decoded and no unlit segment could be a lit one washed out (half as dark as the ink, or ink
//! showing through glare) that would make another digit; `InvalidPattern` only for a sharp, well
//! exposed window.

use super::MIN_CODE_CONFIDENCE as MIN_CONFIDENCE;
use super::closing::close_dark_strokes;
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
const NO_INK: f32 = 0.17;
/// Mean darkness over a square a sixth of the region high (in two thirds of the band, see
/// [`broad_darkness`]) above which faint ink is a defocused code rather than ghosts (ghosts
/// average to well under 0.1).
const BROAD_INK: f32 = 0.12;
/// Lit segments are at least this dark (ghosts of unlit ones reach about 0.12), or half the
/// display's ink level if that is lower, but never lighter than [`FAINT_LIT_MIN`].
const LIT_MIN: f32 = 0.2;
/// The lightest a lit segment can be, on the faintest display read.
const FAINT_LIT_MIN: f32 = 0.05;
/// Windows whose ink level is below this are not read for faint digits at all.
const FAINT_INK: f32 = 0.08;
/// On a display as faint as ghosts, lit segments are at least this many times as dark as the
/// unlit ones (on average).
const FAINT_SEPARATION: f32 = 3.0;
/// Unlit segments are at most this dark.
const LIT_MAX: f32 = 0.4;
/// Lit segments whose edges rise slower than this (per pixel, relative to the segment's darkness)
/// are blurred.
const MIN_SHARPNESS: f32 = 0.15;

/// A segment between these shares of the display's ink level is neither clearly lit nor clearly
/// unlit (unlit ones stay below 0.4 of it, ghosts included; lit ones above 0.7 even under uneven
/// light, after [`even_out_ink`]).
const DOUBT_LOW: f32 = 0.4;
/// See [`DOUBT_LOW`].
const DOUBT_HIGH: f32 = 0.7;

/// Share of a stroke's line under glare above which glare may hide that the segment is lit (with
/// a trace of ink showing; the trace, not the share, is the telling part: a spot grazing the
/// line washes the ink beside it too).
const GLARE_HIDES: f32 = 0.1;
/// Share of a stroke's line under glare from which it is mostly hidden: then a fainter trace
/// ([`MOSTLY_TRACE`]) already makes it a lit stroke washed out, and the local contrast of what
/// little is left cannot clear it.
const GLARE_MOSTLY: f32 = 0.5;
/// See [`GLARE_MOSTLY`]: darkness relative to the display's ink level, or local contrast as a
/// share of the way from the unlit strokes to the lit ones.
const MOSTLY_TRACE: f32 = 0.12;
/// Share of one line along a stroke under glare from which the stroke is covered: lit or not,
/// nothing of it shows. Of the 29 codes that rested on such an unlit stroke on the fixture set and
/// six unseen renderer sets, 28 read right (a lit stroke mostly leaves a trace the glare rules
/// see) and one wrong, a 9 read as a 3.
const GLARE_COVERS: f32 = 0.8;
/// An unlit segment under glare this dark relative to the display's ink level shows a lit stroke
/// washed out (clean panel under glare stays near 0): it may be lit, and it is when its local
/// contrast shows a stroke too (see [`washed_strokes`]).
const GLARE_SHOWS_INK: f32 = 0.15;
/// Glare: light at least this many times the panel level of its digit's cell …
const GLARE_LIGHT: f32 = 1.25;
/// … or this share of the way from the panel to white if that is less (on a bright panel 1.25×
/// is past white, yet light halfway to white already washes a stroke out); never above clipped
/// white (see [`glare_above`]).
const GLARE_HEADROOM: f32 = 0.5;

/// Ink at least this dark is needed to blame the token for an invalid pattern: fainter digits
/// may be a blurred display whose smeared strokes still show steep noisy edges.
const FAULT_CONTRAST: f32 = 0.3;
/// … and the loops inside the digits at most this share of the ink level dark (a barcode's
/// bars read as cells fill them halfway).
const CLEAN_HOLES: f32 = 0.3;
/// A doubtful segment is lit when its local contrast is this far from the display's unlit
/// strokes to its lit ones (see [`LocalLevels`]).
const SECOND_LOOK_LIT: f32 = 0.5;
/// … and unlit when at most this far.
const SECOND_LOOK_UNLIT: f32 = 0.25;
/// A lit-looking segment in a cell with glare, less dark than this share of the display's ink
/// level, gets a second look that may clear it (see [`may_be_false_ink`]).
const FALSE_INK_SHORT: f32 = 0.85;
/// Outside glare, an unlit segment at least this share of the ink level dark may be a lit one
/// washed out: the second look may light it or clear it (fainter ones are unlit and leave no
/// doubt).
const HALF_LOOK: f32 = 0.3;
/// An unlit segment with at least this share of its zone cleared with the window's rim may be a
/// lit stroke the rim took (see [`clear_rim`]): its local contrast tells, or nothing does.
const RIM_HIDES: f32 = 0.15;

/// Light above this many times the window's median level is glare, or the bright end of a
/// gradient: where a window has some, the panel estimate is held under the light around each
/// pixel (see [`Background::ceiling`]), and such light is left out of the estimate when an
/// unreadable window is read again.
const GLARE_CAP: f32 = 1.25;

/// When the digits cannot be located and the darkest ink stays below this, the frame is blurred:
/// a focused LCD's ink is about 80 % darker than its panel, defocus smears it into grey blobs.
const BLURRED_CONTRAST: f32 = 0.5;

/// Largest slant plus rotation tolerated, as a horizontal shear (about 18°).
const SHEAR_MAX: f32 = 0.32;

/// Reads the `digits` positions of the rectified LCD window `patch`. With `second_chances` (kept
/// for the windows most likely to be the display, in their usual trim), a window that does not
/// read under glare is read again against a panel estimate that leaves the glare out, and a
/// segment in doubt may be told by the digit shapes (see [`Check::Usual`]); without, every
/// segment must be clearly lit or unlit.
pub fn read_patch(patch: &Patch, digits: usize, second_chances: bool) -> LcdRead {
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

    let cap = GLARE_CAP * f32::from(percentile_of_histogram(&hist, 0.5));
    let glare = cap < 255.0 && hist[cap as usize + 1..].iter().any(|&c| c > 0);
    // A glare spot raises the coarse panel estimate around it, and the panel there looks dark:
    // ink that is not there. Under glare the estimate is held under the light around each pixel.
    let ceiling = glare.then(|| close_dark_strokes(patch, Background::block_size(patch)));
    let mut panel = Background::estimate(patch, u8::MAX, ceiling);
    let check = if second_chances {
        Check::Usual
    } else {
        Check::Clear
    };
    let read = read_lit(patch, &panel, clipped_share, digits, check);
    // With the glare left out of the estimate too, a window with no ink at all is blank, and one
    // whose cells that false ink hid may read.
    if second_chances
        && glare
        && matches!(
            read.reading,
            LcdReading::Unreadable(Unreadable::Blurred | Unreadable::NotFound)
        )
    {
        // Faint digits are tried too; a code must agree with the strokes' local contrast.
        let panel = Background::estimate(patch, cap as u8, panel.ceiling.take());
        let again = read_lit(patch, &panel, clipped_share, digits, Check::LocalContrast);
        if matches!(again.reading, LcdReading::Code(_) | LcdReading::Blank) {
            return again;
        }
    }
    read
}

/// How much a code read from the cells must prove.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Check {
    /// Decoded, no hole inked, the same under nudged cells; a segment neither clearly lit nor
    /// clearly unlit is told by the digit shapes when only one choice makes a digit.
    Usual,
    /// As [`Check::Usual`], but every segment clearly lit or unlit by itself: for other trims of
    /// a window and lesser candidates, whose edges may cut strokes or keep the bezel's dark rim
    /// (which fades the strokes beside it), so a faint segment there says nothing.
    Clear,
    /// Also every segment the strokes' local contrast settles (see [`LocalLevels`]) lit or
    /// unlit as decoded: for a second reading against another panel estimate, which must not
    /// turn ink washed out by broad light into unlit segments. Segments must be clear, too.
    LocalContrast,
}

impl Check {
    /// Whether a segment in doubt may be told by the digit shapes.
    fn tells_by_shape(self) -> bool {
        self == Check::Usual
    }
}

/// Reads the window with `panel` as the panel's brightness behind the digits.
fn read_lit(
    patch: &Patch,
    panel: &Background,
    clipped_share: f32,
    digits: usize,
    check: Check,
) -> LcdRead {
    let (band, reference, contrast) = ink_band(patch, panel);
    if contrast < NO_INK {
        // As faint as ghosts: a code only when its lit and unlit segments part clearly.
        if let Some(read) = read_faint(patch, panel, reference, digits, check) {
            return read;
        }
        return blank_or_blurred(&band, contrast);
    }
    if clipped_share > PARTLY_CLIPPED && contrast < OVEREXPOSED_INK {
        return LcdRead::unreadable(Unreadable::OverExposed, contrast);
    }
    let ink_threshold = (0.5 * contrast).clamp(0.18, 0.4);
    read_cells(&band, ink_threshold, contrast, digits, check)
}

/// The digits' band of `patch` against `panel`, with the ink level of the whole window (for
/// telling ink from panel while finding the digits; the rim is cleared at half of it) and of the
/// band.
fn ink_band(patch: &Patch, panel: &Background) -> (Band, f32, f32) {
    let mut full = patch.darkness(panel);
    let reference = darkness_reference(&full, patch.width, patch.height);
    let ink = (0.5 * reference).clamp(0.18, 0.4);
    let rim = clear_rim(&mut full, patch.width, patch.height, ink);
    let band = Band::crop(patch, &full, &rim, ink);
    let contrast = darkness_reference(&band.darkness, band.w, band.h);
    (band, reference, contrast)
}

/// The verdict on a band without crisp ink (ink level `contrast` below [`NO_INK`]): blank, or
/// blurred when broad grey blobs (as dark as ink spread over a few strokes) show digits far out
/// of focus; ghosts are thin and vanish under a wide average.
fn blank_or_blurred(band: &Band, contrast: f32) -> LcdRead {
    let window = (band.h / 6).max(3);
    if broad_darkness(&band.darkness, band.w, band.h, window) > BROAD_INK {
        return LcdRead::unreadable(Unreadable::Blurred, contrast);
    }
    LcdRead {
        reading: LcdReading::Blank,
        confidence: ((NO_INK - contrast) / (0.5 * NO_INK)).clamp(0.0, 1.0),
        digits: Vec::new(),
        sharpness: 0.0,
        contrast,
        quad: None,
        tracked: false,
    }
}

/// Reads a window whose ink is no darker than ghosts can be (`reference`, the window's ink level,
/// below [`NO_INK`]): dim digits under a low-contrast panel. Their darkness does not tell them
/// from ghosts, their pattern does: lit segments at least [`FAINT_SEPARATION`] times as dark as
/// the unlit ones, which ghosts (every segment alike) never show. Only a code counts; anything
/// else returns `None` and the window is judged as blank or blurred.
fn read_faint(
    patch: &Patch,
    panel: &Background,
    reference: f32,
    digits: usize,
    check: Check,
) -> Option<LcdRead> {
    if reference < FAINT_INK {
        return None;
    }
    let (w, h) = (patch.width, patch.height);
    // The darkness afresh (the first pass cleared its rim at a higher threshold), with sensor
    // noise, as strong as faint ink in single pixels, averaged down first.
    let mut full = box_mean_3x3(&patch.darkness(panel), w, h);
    let ink = 0.5 * reference;
    let rim = clear_rim(&mut full, w, h, ink);
    let band = Band::crop(patch, &full, &rim, ink);
    let contrast = darkness_reference(&band.darkness, band.w, band.h);
    let read = read_cells(&band, ink, contrast, digits, check);
    let LcdReading::Code(_) = read.reading else {
        return None;
    };
    let (mut lit, mut unlit) = (Vec::new(), Vec::new());
    for d in &read.digits {
        for (i, &dark) in d.darkness.iter().enumerate() {
            if d.mask & (1 << i) != 0 {
                lit.push(dark);
            } else {
                unlit.push(dark);
            }
        }
    }
    let mean = |v: &[f32]| v.iter().sum::<f32>() / v.len().max(1) as f32;
    // A display of eights has no unlit segment to compare with: ghosts can look like that.
    if unlit.is_empty() || mean(&lit) < FAINT_SEPARATION * mean(&unlit).max(0.01) {
        return None;
    }
    Some(read)
}

/// The 3×3 mean of every pixel (edge pixels average their in-bounds neighbours).
fn box_mean_3x3(map: &[f32], w: usize, h: usize) -> Vec<f32> {
    // Rows first, then columns: two passes of three taps.
    let mut rows = vec![0f32; map.len()];
    for (src, dst) in map.chunks_exact(w).zip(rows.chunks_exact_mut(w)) {
        for (x, out) in dst.iter_mut().enumerate() {
            let (a, b) = (x.saturating_sub(1), (x + 1).min(w - 1));
            *out = src[a..=b].iter().sum::<f32>() / (b - a + 1) as f32;
        }
    }
    let mut out = vec![0f32; map.len()];
    for y in 0..h {
        let (a, b) = (y.saturating_sub(1), (y + 1).min(h - 1));
        for x in 0..w {
            let sum: f32 = (a..=b).map(|r| rows[r * w + x]).sum();
            out[y * w + x] = sum / (b - a + 1) as f32;
        }
    }
    out
}

/// Finds the digit cells in `band` (ink darker than `ink_threshold`, ink level `contrast`),
/// samples and decodes them, and checks the code does not hinge on exactly where the cells are.
fn read_cells(
    band: &Band,
    ink_threshold: f32,
    contrast: f32,
    digits: usize,
    check: Check,
) -> LcdRead {
    let Some(layout) = Layout::locate(&band.darkness, band.w, band.h, ink_threshold, digits) else {
        // Faint ink that does not form digit cells: soft blobs of defocused digits.
        let why = if contrast < BLURRED_CONTRAST {
            Unreadable::Blurred
        } else {
            Unreadable::NotFound
        };
        return LcdRead::unreadable(why, contrast);
    };
    let sampled = layout.sample_digits(digits, band, Glare::Measured);
    let holes = (0..digits)
        .map(|k| layout.hole_darkness(k, band))
        .fold(0.0, f32::max);
    let by_shape = check.tells_by_shape();
    let mut read = decide(&sampled, contrast, by_shape);
    // The two loops inside a seven-segment digit are never inked; ink there means these cells
    // are not digits (a printed label, or cells put in the wrong place).
    let (threshold, _) = lit_threshold(&sampled);
    // A token fault needs cells that are plainly digits: loops as clean as the panel. A
    // barcode's bars fill them halfway and decode to a few vertical-stroke digits.
    let not_digits = match read.reading {
        LcdReading::Unreadable(Unreadable::InvalidPattern(_)) => {
            holes > (CLEAN_HOLES * ink_level(&sampled)).min(threshold)
        }
        _ => holes > threshold,
    };
    if not_digits {
        read.reading = LcdReading::Unreadable(Unreadable::NotFound);
        read.confidence = 0.0;
        return read;
    }
    // A code must not hinge on where exactly the cells are: nudged cells must read the same,
    // or the reading was luck (soft, smeared strokes) and is not reported.
    if let LcdReading::Code(code) = &read.reading {
        for (du, dv) in NUDGES {
            let nudged = layout.nudged(du, dv);
            let again = nudged.sample_digits(digits, band, Glare::Kept(&sampled));
            if decide(&again, contrast, by_shape).reading != LcdReading::Code(code.clone()) {
                read.reading = LcdReading::Unreadable(Unreadable::Blurred);
                read.confidence = 0.0;
                break;
            }
        }
    }
    if check == Check::LocalContrast
        && matches!(read.reading, LcdReading::Code(_))
        && !layout.local_contrast_agrees(&sampled, band, &read.digits, threshold)
    {
        read.reading = LcdReading::Unreadable(Unreadable::Blurred);
        read.confidence = 0.0;
    }
    read
}

/// Where the glare shares of sampled segments come from.
#[derive(Debug, Clone, Copy)]
enum Glare<'a> {
    /// Measured on the strokes.
    Measured,
    /// Taken from these segments, sampled a pixel or so away: the light on a stroke does not
    /// change under cells nudged that little, and the nudged reading must weigh it alike.
    Kept(&'a [[Segment; 7]]),
}

/// Shifts of the cells (share of the cell width, share of the digit height) under which a code
/// must read the same.
const NUDGES: [(f32, f32); 2] = [(0.03, 0.0), (-0.03, 0.0)];

/// Clears the ink (darker than `threshold`) connected to the window's border within a strip
/// along it: the bezel's edge, the
/// panel's shaded rim or a shadow reaching in. Digits sit inside the window with a margin; the
/// strip keeps a blurred digit's halo that reaches the border from taking the digit with it.
/// Returns the pixels cleared: where a digit reaches the border, its stroke went with the rim.
fn clear_rim(darkness: &mut [f32], w: usize, h: usize, threshold: f32) -> Vec<usize> {
    let strip = (h / 10).max(2);
    let in_strip = |i: usize| {
        let (x, y) = (i % w, i / w);
        x < strip || y < strip || x + strip >= w || y + strip >= h
    };
    let mut stack: Vec<usize> = (0..w)
        .flat_map(|x| [x, (h - 1) * w + x])
        .chain((0..h).flat_map(|y| [y * w, y * w + w - 1]))
        .filter(|&i| darkness[i] > threshold)
        .collect();
    let mut cleared = Vec::new();
    while let Some(i) = stack.pop() {
        if darkness[i] <= threshold || !in_strip(i) {
            continue;
        }
        darkness[i] = 0.0;
        cleared.push(i);
        let (x, y) = (i % w, i / w);
        if x > 0 {
            stack.push(i - 1);
        }
        if x + 1 < w {
            stack.push(i + 1);
        }
        if y > 0 {
            stack.push(i - w);
        }
        if y + 1 < h {
            stack.push(i + w);
        }
    }
    cleared
}

/// The rows and columns of the window that hold the digits, with a margin: the band of rows with
/// the most ink (rows darkened along their whole width are the bezel, not digits) and the ink's
/// columns inside it (ink: darker than `threshold`). Returns the band as `(x0, y0, x1, y1)`
/// (the whole window when no band stands out).
fn digit_band(
    darkness: &[f32],
    w: usize,
    h: usize,
    threshold: f32,
) -> (usize, usize, usize, usize) {
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
                // Segment gaps split a digit at its middle rows (1s and 7s have no middle bar).
                if gap > (h / 8).max(2) {
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
        return (0, 0, w, h);
    };
    let band_h = bottom - top + 1;
    if band_h < 6 {
        return (0, 0, w, h);
    }
    let margin = (band_h / 8).max(2);
    let (y0, y1) = (top.saturating_sub(margin), (bottom + margin + 1).min(h));
    // Columns with ink inside the band; columns near the window's edge that are dark all the way
    // down the band, or also well above and below it (digits never are), are the bezel or the
    // shaded rim of the panel.
    let mut cols = vec![0usize; w];
    let mut outside = vec![0usize; w];
    for (y, row) in darkness.chunks_exact(w).enumerate() {
        let counts = if (top..=bottom).contains(&y) {
            &mut cols
        } else if y < y0 || y >= y1 {
            &mut outside
        } else {
            continue;
        };
        for (x, &d) in row.iter().enumerate() {
            if d > threshold {
                counts[x] += 1;
            }
        }
    }
    let rows_outside = h - (y1 - y0);
    let rim = |x: usize| {
        cols[x] * 10 >= band_h * 9 || (rows_outside >= 4 && outside[x] * 10 >= rows_outside * 4)
    };
    let edge = w / 12 + 1;
    let mut left = 0;
    while left < w && (cols[left] == 0 || (left < edge && rim(left))) {
        left += 1;
    }
    let mut right = w;
    while right > left && (cols[right - 1] == 0 || (right > w - edge && rim(right - 1))) {
        right -= 1;
    }
    if right <= left + 4 {
        return (0, 0, w, h);
    }
    let (x0, x1) = (left.saturating_sub(margin), (right + margin).min(w));
    (x0, y0, x1, y1)
}

/// The digits' band of a window: darkness and clipped pixels, `w`×`h`.
struct Band {
    darkness: Vec<f32>,
    /// Grey levels (for telling glare, light far above the panel around it).
    grey: Vec<u8>,
    /// Pixels whose ink [`clear_rim`] cleared with the window's rim; empty when none.
    rim: Vec<bool>,
    w: usize,
    h: usize,
}

impl Band {
    /// Crops the digit band (see [`digit_band`]) of `patch` with its darkness map `full`, whose
    /// `cleared` pixels were the window's rim.
    fn crop(patch: &Patch, full: &[f32], cleared: &[usize], threshold: f32) -> Band {
        let w = patch.width;
        let (x0, y0, x1, y1) = digit_band(full, w, patch.height, threshold);
        // Most windows' rims never reach the band: the map only where one does.
        let mut rim = Vec::new();
        for &i in cleared {
            let (x, y) = (i % w, i / w);
            if (x0..x1).contains(&x) && (y0..y1).contains(&y) {
                if rim.is_empty() {
                    rim = vec![false; (x1 - x0) * (y1 - y0)];
                }
                rim[(y - y0) * (x1 - x0) + x - x0] = true;
            }
        }
        let mut darkness = Vec::with_capacity((x1 - x0) * (y1 - y0));
        let mut grey = Vec::with_capacity((x1 - x0) * (y1 - y0));
        for y in y0..y1 {
            darkness.extend_from_slice(&full[y * w + x0..y * w + x1]);
            grey.extend_from_slice(&patch.pixels[y * w + x0..y * w + x1]);
        }
        Band {
            darkness,
            grey,
            rim,
            w: x1 - x0,
            h: y1 - y0,
        }
    }
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

/// The darkness that splits lit from unlit segments, and the gap between the two groups' means.
///
/// The split is the widest gap in the sorted darkness values (with the panel's own level, 0, as
/// the lowest value, so a display of all eights still splits), among splits whose lit side is
/// clearly ink and whose unlit side is no darker than ghosts can be ([`LIT_MAX`]). Clearly ink is
/// [`LIT_MIN`], or half the display's ink level on a dim display (never below
/// [`FAINT_LIT_MIN`]); a lit side below [`LIT_MIN`] must be [`FAINT_SEPARATION`] times as dark as
/// the unlit side, which ghosts alone never are.
fn lit_threshold(sampled: &[[Segment; 7]]) -> (f32, f32) {
    let mut values: Vec<f32> = sampled.iter().flatten().map(|s| s.darkness).collect();
    values.push(0.0);
    values.sort_by(f32::total_cmp);
    let mean = |v: &[f32]| v.iter().sum::<f32>() / v.len().max(1) as f32;
    let split = |lit_min: f32| {
        let mut best: Option<(f32, usize)> = None;
        for i in 0..values.len() - 1 {
            let (lo, hi) = (values[i], values[i + 1]);
            if hi < lit_min || lo > LIT_MAX {
                continue;
            }
            let gap = hi - lo;
            if best.is_none_or(|(g, _)| gap > g) {
                best = Some((gap, i));
            }
        }
        best.map(|(_, i)| i)
    };
    let dim = (0.5 * ink_level(sampled)).clamp(FAINT_LIT_MIN, LIT_MIN);
    let parted = |i: usize| {
        let (lower, upper) = values.split_at(i + 1);
        values[i + 1] >= LIT_MIN || mean(upper) >= FAINT_SEPARATION * mean(lower).max(0.01)
    };
    let Some(i) = split(dim).filter(|&i| parted(i)).or_else(|| split(LIT_MIN)) else {
        // Nothing reaches ink level: all unlit.
        return (LIT_MIN, LIT_MIN);
    };
    let (lower, upper) = values.split_at(i + 1);
    ((values[i] + values[i + 1]) / 2.0, mean(upper) - mean(lower))
}

/// The display's ink level: the median over digits of each digit's second-darkest segment (every
/// digit has at least two lit segments).
fn ink_level(sampled: &[[Segment; 7]]) -> f32 {
    let mut levels: Vec<f32> = sampled.iter().map(second_darkest).collect();
    levels.sort_by(f32::total_cmp);
    levels.get(levels.len() / 2).copied().unwrap_or(0.0)
}

/// A digit's second-darkest segment.
fn second_darkest(segments: &[Segment; 7]) -> f32 {
    let mut d = segments.map(|s| s.darkness);
    d.sort_by(|a, b| b.total_cmp(a));
    d[1]
}

/// Lifts the segments of digits whose ink is fainter than the others' to the common ink level.
///
/// Glare adds light to ink and panel alike, so under a glare spot ink is less dark relative to
/// its panel, and ghosts in proportion. Every digit of a code has at least two lit segments, so a
/// digit's second-darkest segment is its ink level; a digit below the median level is scaled up
/// to it (at most [`MAX_INK_LIFT`] times). With no ink at code level (a blank display) nothing
/// is scaled, so ghosts are never lifted into ink.
fn even_out_ink(sampled: &mut [[Segment; 7]]) {
    let reference = ink_level(sampled);
    if reference < LIT_MIN {
        return;
    }
    for segments in sampled.iter_mut() {
        let level = second_darkest(segments);
        if level <= 0.0 {
            continue;
        }
        let lift = (reference / level).clamp(1.0, MAX_INK_LIFT);
        for s in segments.iter_mut() {
            s.darkness *= lift;
        }
    }
}

/// The most a digit's segment darkness is scaled up by [`even_out_ink`].
const MAX_INK_LIFT: f32 = 2.0;

/// Thresholds the sampled segments, checks focus and decodes; with `by_shape`, a segment in doubt
/// is told by the digit shapes when only one choice makes a digit.
fn decide(sampled: &[[Segment; 7]], contrast: f32, by_shape: bool) -> LcdRead {
    let (threshold, separation) = lit_threshold(sampled);
    let half = (0.5 * separation).max(0.02);
    let level = ink_level(sampled);
    let local = LocalLevels::of(sampled, threshold);

    let mut edges: Vec<f32> = Vec::new();
    let mut confidence = 1.0f32;
    let mut digits = Vec::with_capacity(sampled.len());
    // Per digit, the unlit-looking segments the local contrast settled (see `LocalLevels`).
    let mut settled = Vec::with_capacity(sampled.len());
    for (position, segments) in sampled.iter().enumerate() {
        let mut mask = 0u8;
        let mut settled_here = 0u8;
        let mut dark = [0f32; 7];
        let mut margins = [0f32; 7];
        for (i, s) in segments.iter().enumerate() {
            dark[i] = s.darkness;
            let by_darkness = s.darkness > threshold;
            let (may_light, may_clear) = second_look_may(s, segments, threshold, level);
            let second_look = local
                .and_then(|l| l.settle(s.local))
                .filter(|&(lit, _)| if lit { may_light } else { may_clear });
            if second_look.is_some() {
                settled_here |= 1 << i;
            }
            let (lit, margin) =
                second_look.unwrap_or((by_darkness, (s.darkness - threshold).abs() / half));
            if lit {
                mask |= 1 << i;
            }
            margins[i] = margin;
        }
        // Neither clearly lit nor clearly unlit: a small margin to the threshold, or (where the
        // local contrast did not settle it) between the unlit and the lit level.
        let doubtful = segments_where(|i| {
            let between = (DOUBT_LOW * level..=DOUBT_HIGH * level).contains(&dark[i]);
            margins[i] < MIN_CONFIDENCE || (between && settled_here & (1 << i) == 0)
        });
        // A segment in doubt told by the digit shapes counts as a margin just good enough.
        if by_shape && let Some(told) = told_by_shape(mask, doubtful, segments, local) {
            mask = told;
            for (i, margin) in margins.iter_mut().enumerate() {
                if doubtful & (1 << i) != 0 {
                    *margin = MIN_CONFIDENCE;
                }
            }
        }
        // A stroke washed out by glare that still shows its ink, lit to make a digit.
        if let Some(lit) = washed_strokes(mask, segments, level, local) {
            for (i, margin) in margins.iter_mut().enumerate() {
                if (lit ^ mask) & (1 << i) != 0 {
                    *margin = margin.min(MIN_CONFIDENCE);
                }
            }
            mask = lit;
        }
        // Unlit strokes that glare covers from end to end show nothing either way: the digit
        // rests on how such strokes usually look (unlit, no trace showing), at the lowest code
        // confidence when lighting them would show another digit.
        let covered =
            segments_where(|i| mask & (1 << i) == 0 && segments[i].covered >= GLARE_COVERS);
        if flipping_any(mask, covered, |digit| {
            digit.is_some() && digit != decode_mask(mask)
        }) {
            for (i, margin) in margins.iter_mut().enumerate() {
                if covered & (1 << i) != 0 {
                    *margin = margin.min(MIN_CONFIDENCE);
                }
            }
        }
        for (i, s) in segments.iter().enumerate() {
            if mask & (1 << i) != 0 {
                edges.push(s.edge);
            }
            confidence = confidence.min(margins[i]);
        }
        settled.push(settled_here);
        digits.push(DigitEvidence {
            position,
            darkness: dark,
            mask,
            digit: decode_mask(mask),
        });
    }
    let confidence = confidence.clamp(0.0, 1.0);
    if edges.is_empty() {
        // No segment is lit. Ghosts of a blank display stay well below ink level; segments
        // halfway to it are digits smeared too thin to tell.
        let darkest = sampled
            .iter()
            .flatten()
            .map(|s| s.darkness)
            .fold(0.0, f32::max);
        let reading = if darkest < 0.75 * LIT_MIN {
            LcdReading::Blank
        } else {
            LcdReading::Unreadable(Unreadable::Blurred)
        };
        return LcdRead {
            reading,
            digits,
            ..LcdRead::unreadable(Unreadable::Blurred, contrast)
        };
    }
    edges.sort_by(f32::total_cmp);
    let sharpness = edges[edges.len() / 2];
    // Soft edges or segments neither clearly lit nor clearly unlit: the image is too
    // soft to trust, and a pattern read from it must not be blamed on the token.
    let all_digits = digits.iter().all(|d| d.digit.is_some());
    // A code needs every segment clearly lit or unlit (or told by shape); an invalid pattern (the
    // token's fault) also needs sharp edges and crisp ink, or the rig's focus would be blamed on
    // the token.
    let crisp = sharpness >= MIN_SHARPNESS && contrast >= FAULT_CONTRAST;
    if confidence < MIN_CONFIDENCE || (!all_digits && !crisp) {
        return LcdRead {
            sharpness,
            digits,
            ..LcdRead::unreadable(Unreadable::Blurred, contrast)
        };
    }
    // A token fault garbles a position or two; cells that mostly hold no digit are no display
    // (a label, a misplaced window), which is the rig's problem, not the token's.
    let valid = digits.iter().filter(|d| d.digit.is_some()).count();
    if !all_digits && valid * 2 < digits.len() {
        return LcdRead {
            sharpness,
            digits,
            ..LcdRead::unreadable(Unreadable::NotFound, contrast)
        };
    }
    // An unlit segment from DOUBT_LOW of the ink level on (glare over a lit stroke, ink smeared
    // across) that would make another digit if lit: the position cannot be told.
    let half_lit = || {
        digits
            .iter()
            .zip(&settled)
            .any(|(d, &settled)| half_lit_could_change(d, level, settled))
    };
    // Glare where an unlit segment's stroke runs, with some ink showing through, hides whether it
    // is lit: when lighting it would show another digit, the position cannot be told.
    let glare_hides = || {
        digits
            .iter()
            .zip(sampled)
            .zip(&settled)
            .any(|((d, segments), &settled)| {
                glare_could_change(d.mask, segments, level, local, settled)
            })
    };
    // A position that is no digit, with glare over unlit segments that would make it one: the
    // light may have washed them out, however little ink shows.
    let glare_completes = || {
        digits
            .iter()
            .zip(sampled)
            .any(|(d, segments)| d.digit.is_none() && glare_could_complete(d.mask, segments))
    };
    // An unlit segment whose ink went with the window's rim, not settled by its local contrast,
    // that would make another digit if lit: the window cuts the digits.
    let rim_hides = || {
        digits
            .iter()
            .zip(sampled)
            .zip(&settled)
            .any(|((d, segments), &settled)| rim_could_change(d, segments, settled))
    };
    // Doubt from glare is the rig's light, and a window cutting the digits the rig's framing:
    // never the token's fault.
    let doubt = if half_lit() {
        Some(Unreadable::Blurred)
    } else if glare_hides() || glare_completes() {
        Some(Unreadable::OverExposed)
    } else if rim_hides() {
        Some(Unreadable::NotFound)
    } else {
        None
    };
    if let Some(why) = doubt {
        return LcdRead {
            sharpness,
            digits,
            ..LcdRead::unreadable(why, contrast)
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

/// True when an unlit segment of digit `d` (not among the `settled` ones) is at least
/// [`DOUBT_LOW`] of the display's ink `level` dark and lighting it would decode to another digit.
fn half_lit_could_change(d: &DigitEvidence, level: f32, settled: u8) -> bool {
    (0..7).any(|i| {
        let lit = decode_mask(d.mask | (1 << i));
        (d.mask | settled) & (1 << i) == 0
            && d.darkness[i] >= DOUBT_LOW * level
            && lit.is_some()
            && lit != d.digit
    })
}

/// True when some unlit segments of digit `d` (not among the `settled` ones) lost their zone's
/// ink with the window's rim ([`RIM_HIDES`]) and lighting some of them would decode to a digit
/// other than what `d` shows.
fn rim_could_change(d: &DigitEvidence, segments: &[Segment; 7], settled: u8) -> bool {
    let hidden =
        segments_where(|i| (d.mask | settled) & (1 << i) == 0 && segments[i].rim >= RIM_HIDES);
    flipping_any(d.mask, hidden, |digit| digit.is_some() && digit != d.digit)
}

/// True when some unlit segments of `mask` (not among the `settled` ones) lie under glare
/// ([`GLARE_HIDES`]) yet show some ink through it ([`GLARE_SHOWS_INK`] of the display's ink
/// `level`, or more local contrast than an unlit stroke by the display's `local` levels), and
/// lighting some of them would decode to a digit other than what `mask` shows. A segment that
/// stays clean panel around the glare is unlit.
fn glare_could_change(
    mask: u8,
    segments: &[Segment; 7],
    level: f32,
    local: Option<LocalLevels>,
    settled: u8,
) -> bool {
    let hidden = segments_where(|i| {
        let s = segments[i];
        // A trace of ink: this share of the display's ink level dark, or local contrast beyond
        // this share of the way to a lit stroke's.
        let shows = |dark: f32, contrast: f32| {
            s.darkness >= dark * level || local.is_some_and(|l| l.shows_ink(s.local, contrast))
        };
        // Mostly under glare, the little left to see is no proof the stroke is unlit, whatever
        // its local contrast settled.
        let mostly_hidden =
            mask & (1 << i) == 0 && s.glare >= GLARE_MOSTLY && shows(MOSTLY_TRACE, MOSTLY_TRACE);
        mostly_hidden
            || ((mask | settled) & (1 << i) == 0
                && s.glare >= GLARE_HIDES
                && shows(GLARE_SHOWS_INK, SECOND_LOOK_UNLIT))
    });
    let shown = decode_mask(mask);
    flipping_any(mask, hidden, |digit| digit.is_some() && digit != shown)
}

/// `mask` with its unlit segments under glare ([`GLARE_HIDES`]) that still show a washed-out
/// stroke lit, when that makes a digit: at least [`GLARE_SHOWS_INK`] of the display's ink `level`
/// dark, and with more local contrast than an unlit stroke ([`SECOND_LOOK_UNLIT`] of the way to a
/// lit one, by the display's `local` levels). Where the contrast cannot be measured (glare on one
/// side) the darkness alone lights a stroke, and only to make a digit of a position that shows
/// none. `None` when no stroke is washed or lighting them makes no digit.
///
/// Measured on the fixture set and four unseen renderer sets: unlit segments under glare showed
/// at most 0.06 of the way to a lit stroke's local contrast, however dark a halo made them, and
/// washed-out lit ones up to 0.4.
fn washed_strokes(
    mask: u8,
    segments: &[Segment; 7],
    level: f32,
    local: Option<LocalLevels>,
) -> Option<u8> {
    let completes = decode_mask(mask).is_none();
    let washed = segments_where(|i| {
        let s = segments[i];
        let contrast = match (local, s.local) {
            (Some(l), Some(_)) => l.shows_ink(s.local, SECOND_LOOK_UNLIT),
            (Some(_), None) => completes,
            (None, _) => false,
        };
        mask & (1 << i) == 0
            && s.glare >= GLARE_HIDES
            && s.darkness >= GLARE_SHOWS_INK * level
            && contrast
    });
    let lit = mask | washed;
    (washed != 0 && decode_mask(lit).is_some()).then_some(lit)
}

/// True when lighting some of the unlit segments of `mask` that lie under glare
/// ([`GLARE_HIDES`]) would decode to a digit.
fn glare_could_complete(mask: u8, segments: &[Segment; 7]) -> bool {
    let hidden = segments_where(|i| mask & (1 << i) == 0 && segments[i].glare >= GLARE_HIDES);
    flipping_any(mask, hidden, |digit| digit.is_some())
}

/// The segments (bit i for segment i) for which `chosen` holds.
fn segments_where(chosen: impl Fn(usize) -> bool) -> u8 {
    (0..7).filter(|&i| chosen(i)).fold(0u8, |m, i| m | (1 << i))
}

/// `mask` with each subset of its `segments` flipped (unlit ones lit, lit ones cleared): the
/// whole set first, `mask` itself last.
fn flips(mask: u8, segments: u8) -> impl Iterator<Item = u8> {
    let mut next = Some(segments);
    std::iter::from_fn(move || {
        let subset = next?;
        next = (subset != 0).then(|| (subset - 1) & segments);
        Some(mask ^ subset)
    })
}

/// True when flipping some non-empty subset of the `hidden` segments of `mask` (lighting the
/// unlit ones, clearing the lit ones) decodes to what `shows` accepts.
fn flipping_any(mask: u8, hidden: u8, shows: impl Fn(Option<u8>) -> bool) -> bool {
    flips(mask, hidden)
        .filter(|&flipped| flipped != mask)
        .any(|flipped| shows(decode_mask(flipped)))
}

/// The digit pattern the `doubtful` segments of one digit's `mask` make by the digit shapes
/// ([`only_digit_among`]), unless light or contrast says otherwise: none under glare (it may wash
/// a lit stroke out altogether, which no shape tells), and none against a segment that the
/// strokes' `local` contrast settles (a cell cut by the band's edge fades whole strokes; their
/// contrast beside them still shows them).
fn told_by_shape(
    mask: u8,
    doubtful: u8,
    segments: &[Segment; 7],
    local: Option<LocalLevels>,
) -> Option<u8> {
    if segments.iter().any(|s| s.glare >= GLARE_HIDES) {
        return None;
    }
    let told = only_digit_among(mask, doubtful)?;
    local
        .is_none_or(|l| l.settles_alike(segments, told))
        .then_some(told)
}

/// The one pattern that decodes to a digit among `mask` with any of its `doubtful` segments
/// (at most [`MAX_DOUBTFUL`]) flipped, when exactly one does: a segment half washed out by light
/// or half smeared is then told by the digit shapes, as a reader would. `None` when none or
/// several decode, or nothing is doubtful.
fn only_digit_among(mask: u8, doubtful: u8) -> Option<u8> {
    if doubtful == 0 || doubtful.count_ones() > MAX_DOUBTFUL {
        return None;
    }
    let mut digits = flips(mask, doubtful).filter(|&m| decode_mask(m).is_some());
    let found = digits.next()?;
    digits.next().is_none().then_some(found)
}

/// The most doubtful segments in one digit that [`only_digit_among`] settles by the digit shapes.
const MAX_DOUBTFUL: u32 = 2;

/// The display's lit and unlit strokes in local contrast (see [`Layout::local_contrast`]), for a
/// second look at segments that look unlit but may be washed out: glare over them, or a trace of
/// ink showing.
///
/// Glare adds light to a stroke and the panel beside it alike, so where the darkness against the
/// coarse panel estimate fades, the stroke's contrast to its own sides still shows. A doubtful
/// segment is lit when that contrast comes at least [`SECOND_LOOK_LIT`] of the way from the
/// display's unlit strokes to its lit ones, unlit when at most [`SECOND_LOOK_UNLIT`]; in between
/// it stays doubtful.
#[derive(Debug, Clone, Copy)]
struct LocalLevels {
    unlit: f32,
    lit: f32,
}

impl LocalLevels {
    /// The medians over glare-free segments lit and unlit by `threshold`; none when the display
    /// has too few of either or they do not part.
    fn of(sampled: &[[Segment; 7]], threshold: f32) -> Option<LocalLevels> {
        let (mut lit, mut unlit): (Vec<f32>, Vec<f32>) = (Vec::new(), Vec::new());
        for s in sampled.iter().flatten().filter(|s| s.glare < GLARE_HIDES) {
            let Some(local) = s.local else { continue };
            if s.darkness > threshold {
                lit.push(local);
            } else {
                unlit.push(local);
            }
        }
        let median = |v: &mut Vec<f32>| {
            v.sort_by(f32::total_cmp);
            v[v.len() / 2]
        };
        if lit.len() < 3 || unlit.len() < 3 {
            return None;
        }
        let levels = LocalLevels {
            unlit: median(&mut unlit),
            lit: median(&mut lit),
        };
        (levels.lit > 2.0 * levels.unlit && levels.lit - levels.unlit > 0.05).then_some(levels)
    }

    /// How far local contrast `local` lies from the display's unlit strokes (0) to its lit
    /// ones (1).
    fn share(&self, local: f32) -> f32 {
        (local - self.unlit) / (self.lit - self.unlit)
    }

    /// Lit or unlit with its margin (as a share, like a segment's confidence), for a segment of
    /// local contrast `local`; none while it stays doubtful or was not measured.
    fn settle(&self, local: Option<f32>) -> Option<(bool, f32)> {
        let r = self.share(local?);
        let middle = 0.5 * (SECOND_LOOK_LIT + SECOND_LOOK_UNLIT);
        let margin = ((r - middle).abs() / middle).min(1.0);
        if r >= SECOND_LOOK_LIT {
            Some((true, margin))
        } else if r <= SECOND_LOOK_UNLIT {
            Some((false, margin))
        } else {
            None
        }
    }

    /// Whether every segment of a digit that its local contrast settles is lit or unlit as
    /// `mask` has it.
    fn settles_alike(&self, segments: &[Segment; 7], mask: u8) -> bool {
        segments.iter().enumerate().all(|(i, s)| {
            self.settle(s.local)
                .is_none_or(|(lit, _)| lit == (mask & (1 << i) != 0))
        })
    }

    /// True when local contrast `local` is more than `beyond` of the way from an unlit stroke's
    /// to a lit one's: some ink shows.
    fn shows_ink(&self, local: Option<f32>, beyond: f32) -> bool {
        local.is_some_and(|local| self.share(local) > beyond)
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
    // 3×3 means at every other pixel of every other row: the percentile of a quarter of the
    // means is the same figure at a quarter of the cost.
    let mut hist = [0u32; 1024];
    let mut count = 0u32;
    for y in (1..h - 1).step_by(2) {
        for x in (1..w - 1).step_by(2) {
            let mut sum = 0f32;
            for row in [y - 1, y, y + 1] {
                let i = row * w + x;
                sum += darkness[i - 1] + darkness[i] + darkness[i + 1];
            }
            // Percentile from a histogram of 1/512 steps over [-1, 1): cheaper than sorting.
            hist[(((sum / 9.0).clamp(-1.0, 0.999) + 1.0) * 512.0) as usize] += 1;
            count += 1;
        }
    }
    let target = count * 99 / 100;
    let mut seen = 0;
    for (bin, &n) in hist.iter().enumerate() {
        seen += n;
        if seen > target {
            return bin as f32 / 512.0 - 1.0;
        }
    }
    1.0
}

/// The mean darkness of the darkest `window`×`window` square (sampled every other pixel) in each
/// third of the band, left to right, and of those three the middle one: a defocused code smears
/// ink over most of the band, a glare spot's halo (the panel estimate raised around it) darkens
/// one place.
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
    let mut strips = [f64::MIN; 3];
    for y in (0..=h - window).step_by(2) {
        for x in (0..=w - window).step_by(2) {
            let (x1, y1) = (x + window, y + window);
            let sum = table[y1 * (w + 1) + x1] - table[y * (w + 1) + x1] - table[y1 * (w + 1) + x]
                + table[y * (w + 1) + x];
            let strip = ((x + window / 2) * 3 / w).min(2);
            strips[strip] = strips[strip].max(sum / area);
        }
    }
    // A band too narrow for a square in every third: the middle of those that hold one, the
    // darker of two (never an empty third's nothing, which would pass for a blank display).
    let mut filled: Vec<f64> = strips.into_iter().filter(|&d| d > f64::MIN).collect();
    filled.sort_by(f64::total_cmp);
    filled.get(filled.len() / 2).map_or(0.0, |&d| d as f32)
}

impl Patch {
    /// Darkness of each pixel relative to the panel behind it: `1 - grey / panel`.
    fn darkness(&self, panel: &Background) -> Vec<f32> {
        let mut out = Vec::with_capacity(self.pixels.len());
        let mut levels = vec![0f32; self.width];
        let columns = panel.column_weights(self.width);
        let mut column = vec![0f32; panel.cols];
        for y in 0..self.height {
            panel.row(y, &columns, &mut column, &mut levels);
            let row = &self.pixels[y * self.width..(y + 1) * self.width];
            if let Some(ceiling) = &panel.ceiling {
                let ceiling = &ceiling[y * self.width..(y + 1) * self.width];
                for (level, &most) in levels.iter_mut().zip(ceiling) {
                    *level = level.min(f32::from(most));
                }
            }
            for level in levels.iter_mut() {
                *level = 1.0 / level.max(1.0);
            }
            // Extended from the zipped rows, not pushed one by one: the loop vectorises.
            out.extend(
                row.iter()
                    .zip(&levels)
                    .map(|(&p, &inverse)| 1.0 - f32::from(p) * inverse),
            );
        }
        out
    }
}

/// The panel's brightness behind the digits, as a coarse grid of blocks interpolated
/// bilinearly: follows light gradients and glare spots that a single threshold or plane cannot;
/// under glare, held under the light around each pixel.
#[derive(Debug, Clone)]
struct Background {
    /// Block size in pixels.
    block: usize,
    cols: usize,
    rows: usize,
    /// Panel level per block, row-major.
    levels: Vec<f32>,
    /// Per pixel, the most the panel can be there: the window's light with its strokes closed
    /// over (see [`close_dark_strokes`]). A glare spot raises a whole block and, interpolated,
    /// the panel around it; the closing keeps the spot's own edge.
    ceiling: Option<Vec<u8>>,
}

impl Background {
    /// The block size for `patch`: a quarter of its height (wider than a stroke), within bounds.
    fn block_size(patch: &Patch) -> usize {
        (patch.height / 4).clamp(6, 32)
    }

    /// The bright (80th percentile) level of each block, of the levels up to `cap`; blocks much
    /// darker than their neighbours (inside a bold digit) take their neighbours' level. Held
    /// under `ceiling` per pixel, if any.
    fn estimate(patch: &Patch, cap: u8, ceiling: Option<Vec<u8>>) -> Background {
        let block = Background::block_size(patch);
        let cols = patch.width.div_ceil(block);
        let rows = patch.height.div_ceil(block);
        let mut levels = Vec::with_capacity(cols * rows);
        // The 80th percentile of each block's grey levels, from a histogram (u8 levels).
        let mut hist = [0u32; 256];
        for by in 0..rows {
            for bx in 0..cols {
                hist.fill(0);
                let (y0, x0) = (by * block, bx * block);
                let (y1, x1) = (
                    (y0 + block).min(patch.height),
                    (x0 + block).min(patch.width),
                );
                for y in y0..y1 {
                    for &p in &patch.pixels[y * patch.width + x0..y * patch.width + x1] {
                        hist[usize::from(p)] += 1;
                    }
                }
                // Levels above `cap` (glare) do not count; a block that is mostly glare is
                // panel at the cap.
                let all = ((y1 - y0) * (x1 - x0)) as u32;
                let kept = &hist[..=usize::from(cap)];
                let n: u32 = kept.iter().sum();
                let level = if all == 0 {
                    0
                } else if n * 3 < all {
                    cap
                } else {
                    let k = (n * 4 / 5).min(n - 1);
                    let mut seen = 0;
                    kept.iter()
                        .position(|&c| {
                            seen += c;
                            seen > k
                        })
                        .map_or(cap, |level| level as u8)
                };
                levels.push(level as f32);
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
            ceiling,
        }
    }

    /// For each of `width` columns: the two grid columns around it and the weight of the second.
    fn column_weights(&self, width: usize) -> Vec<(usize, usize, f32)> {
        let last = (self.cols - 1) as f32;
        (0..width)
            .map(|x| {
                let fx = ((x as f32 + 0.5) / self.block as f32 - 0.5).clamp(0.0, last);
                // Non-negative after the clamp: truncation is floor.
                let x0 = fx as usize;
                (x0, (x0 + 1).min(self.cols - 1), fx - x0 as f32)
            })
            .collect()
    }

    /// The panel level along row `y`, interpolated between block centres, into `out` (at the
    /// columns of [`Background::column_weights`]); `column` is scratch space, one level per block
    /// column.
    fn row(&self, y: usize, columns: &[(usize, usize, f32)], column: &mut [f32], out: &mut [f32]) {
        let fy = ((y as f32 + 0.5) / self.block as f32 - 0.5).clamp(0.0, (self.rows - 1) as f32);
        // Non-negative after the clamp: truncation is floor.
        let y0 = fy as usize;
        let y1 = (y0 + 1).min(self.rows - 1);
        let ty = fy - y0 as f32;
        for (bx, c) in column.iter_mut().enumerate() {
            let (a, b) = (
                self.levels[y0 * self.cols + bx],
                self.levels[y1 * self.cols + bx],
            );
            *c = a + ty * (b - a);
        }
        for (o, &(x0, x1, tx)) in out.iter_mut().zip(columns) {
            *o = column[x0] + tx * (column[x1] - column[x0]);
        }
    }
}

/// The grey level above which light is glare on a panel at grey level `panel` (see
/// [`GLARE_LIGHT`] and [`GLARE_HEADROOM`]): only clipped white where the panel is itself about
/// clipped (ink still shows there, but not where the light clips).
fn glare_above(panel: u8) -> f32 {
    let panel = f32::from(panel);
    (GLARE_LIGHT * panel)
        .min(panel + GLARE_HEADROOM * (255.0 - panel))
        .min(f32::from(CLIPPED_LEVEL) - 0.5)
}

/// Where a segment's stroke runs in its cell: its centre line `across` (u for a vertical stroke,
/// v for a horizontal one) over the range `along` it.
#[derive(Debug, Clone, Copy)]
struct StrokeLine {
    across: f32,
    along: (f32, f32),
    vertical: bool,
}

/// What a second look may settle for segment `s` of digit `cell`, on a display lit above
/// `threshold` with ink `level`: (light it, clear it). A segment lit by its darkness may only be
/// cleared, where it may be false ink (see [`may_be_false_ink`]). One that looks unlit: glare can
/// hide ink but never makes it, so under glare only ink seen counts, and so where the window's
/// rim took the zone's ink (the dark rim beside a lit stroke takes its contrast too, so no
/// contrast clears it); elsewhere a stroke at least [`HALF_LOOK`] of the ink level dark may go
/// either way; a fainter one is unlit and leaves no doubt.
fn second_look_may(s: &Segment, cell: &[Segment; 7], threshold: f32, level: f32) -> (bool, bool) {
    if s.darkness > threshold {
        let glare_in_cell = cell.iter().any(|c| c.glare >= GLARE_HIDES);
        (false, may_be_false_ink(s, glare_in_cell, level))
    } else if s.glare >= GLARE_HIDES || s.rim >= RIM_HIDES {
        (true, false)
    } else if s.darkness >= HALF_LOOK * level {
        (true, true)
    } else {
        (false, false)
    }
}

/// True when some segment may be settled otherwise by a second look (see [`second_look_may`]).
fn needs_second_look(sampled: &[[Segment; 7]]) -> bool {
    let (threshold, _) = lit_threshold(sampled);
    let level = ink_level(sampled);
    sampled.iter().any(|cell| {
        cell.iter()
            .any(|s| second_look_may(s, cell, threshold, level) != (false, false))
    })
}

/// Whether segment `s`, lit by its darkness, may be false ink: the coarse panel estimate rises
/// around a glare spot (where the window's light stays under [`GLARE_CAP`] nothing holds it
/// down), so the panel beside the spot looks dark. Only in a cell with glare
/// (`glare_in_cell`), and only short of [`FALSE_INK_SHORT`] of the display's ink `level` (real
/// ink beside glare is as dark as elsewhere, or darker).
fn may_be_false_ink(s: &Segment, glare_in_cell: bool, level: f32) -> bool {
    glare_in_cell && s.glare < GLARE_HIDES && s.darkness < FALSE_INK_SHORT * level
}

/// One sampled segment zone.
#[derive(Debug, Clone, Copy, Default)]
struct Segment {
    /// Peak darkness across the zone (3-pixel average).
    darkness: f32,
    /// Steepest change of the darkness profile per pixel, relative to its peak.
    edge: f32,
    /// Share of the zone whose ink was cleared with the window's rim (see [`clear_rim`]): a
    /// digit reaching the window's edge loses the stroke there from its darkness.
    rim: f32,
    /// Share of the stroke's line under glare (see [`Layout::glare_level`]): light that can wash
    /// out a lit stroke.
    glare: f32,
    /// The most glare along the whole length of any one of three lines where the stroke may run
    /// (see [`covered_by_glare`]): from [`GLARE_COVERS`] on, nothing of the stroke shows. 0 where
    /// glare is not measured.
    covered: f32,
    /// Contrast of the stroke against the panel right beside it (see [`Layout::local_contrast`]):
    /// glare lightens ink and panel alike, so a washed-out lit stroke still shows here. None
    /// where not measured, or not measurable (no point of the line with panel beside it inside
    /// the band on both sides, or on one side that is no glare).
    local: Option<f32>,
}

/// One digit's cell-normalised coordinates (u across, v down, 0..1 = the digit) as band
/// coordinates `x = x0 + xu·u + xv·v`, `y = y0 + yu·u + yv·v`: worked out once per digit, not
/// per sample.
#[derive(Debug, Clone, Copy)]
struct CellMap {
    x0: f32,
    xu: f32,
    xv: f32,
    y0: f32,
    yu: f32,
    yv: f32,
}

impl CellMap {
    /// The band pixel at (u, v), if inside the band.
    fn pixel(&self, u: f32, v: f32, band: &Band) -> Option<usize> {
        let x = self.x0 + self.xu * u + self.xv * v;
        let y = self.y0 + self.yu * u + self.yv * v;
        if x < -0.5 || y < -0.5 {
            return None;
        }
        // Truncation after adding 0.5 rounds the non-negative coordinates.
        let (xi, yi) = ((x + 0.5) as usize, (y + 0.5) as usize);
        (xi < band.w && yi < band.h).then_some(yi * band.w + xi)
    }

    /// Darkness at (u, v) (0 outside the band).
    fn darkness(&self, u: f32, v: f32, band: &Band) -> f32 {
        self.pixel(u, v, band).map_or(0.0, |i| band.darkness[i])
    }
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
    /// Width of a stroke in pixels.
    stroke: f32,
    /// Row of the digits' vertical centre as `centre_a + centre_b·x'`.
    centre_a: f32,
    centre_b: f32,
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

        // Every digit has a lit right-hand stroke (b or c) at its cell's right edge, so the cells'
        // right edges form a comb of `digits` teeth one pitch apart, the last at the rightmost
        // ink. The first ink lies in the first cell, which bounds the pitch to
        // [extent / digits, (extent - stroke) / (digits - 1)]; within that, the pitch whose teeth
        // hold the most ink, less the ink a stroke's width right of them (where the gap to the
        // next digit is), wins: blurred strokes make the teeth alone a broad, flat ridge. A tooth
        // never counts below nothing: where a digit touches the next (a narrow 1 against a 6 in
        // a tight font), the neighbour's stroke must not count against the true pitch. Narrow
        // 1s, 7s and fonts with gaps between segments all keep their right-hand stroke, so none
        // of them confuses the comb.
        // Columns with a real stroke's worth of ink (not noise specks).
        let floor = (profile.iter().copied().max()? / 10).max(2);
        let first = profile.iter().position(|&p| p >= floor)?;
        let last = profile.iter().rposition(|&p| p >= floor)?;
        let right = last as f32 + 1.0;
        let extent = right - first as f32;
        let stroke = stroke_width(&ink)?;
        let (top, bottom) = ink
            .iter()
            .fold((i32::MAX, i32::MIN), |(t, b), p| (t.min(p.1), b.max(p.1)));
        let ink_height = (bottom - top + 1) as f32;
        if ink_height < 6.0 || extent < 2.0 * stroke {
            return None;
        }
        let mut cumulative = Vec::with_capacity(profile.len() + 1);
        cumulative.push(0f32);
        for &p in &profile {
            let next = cumulative.last().copied().unwrap_or(0.0) + p as f32;
            cumulative.push(next);
        }
        // Ink in columns [x0, x1), interpolated between bins.
        let mass = |x0: f32, x1: f32| -> f32 {
            let at = |x: f32| {
                let x = x.clamp(0.0, profile.len() as f32);
                // Non-negative after the clamp: truncation is floor.
                let i = (x as usize).min(profile.len() - 1);
                cumulative[i] + (x - i as f32) * (cumulative[i + 1] - cumulative[i])
            };
            at(x1) - at(x0)
        };
        let pitch = if digits > 1 {
            let n = digits as f32;
            let (lo, hi) = (extent / n, (extent - 0.8 * stroke) / (n - 1.0));
            if hi < lo {
                return None;
            }
            let mut best = (f32::MIN, lo);
            let mut p = lo;
            while p <= hi + 1e-3 {
                let teeth: f32 = (0..digits)
                    .map(|k| {
                        let edge = right - k as f32 * p;
                        // Right of every tooth but the last lies the gap before the next digit.
                        let gap = if k == 0 {
                            0.0
                        } else {
                            mass(edge + 0.5, edge + 0.5 + stroke)
                        };
                        (mass(edge - stroke - 0.5, edge + 0.5) - gap).max(0.0)
                    })
                    .sum();
                if teeth > best.0 {
                    best = (teeth, p);
                }
                p += 0.25;
            }
            best.1
        } else {
            extent
        };
        // Cell width: in each cell, the gap after the previous digit stays empty and the digit's
        // ink starts at the cell's left edge. A column through a bar holds about a stroke's
        // height of ink, so that (not the far heavier right-hand stroke) is the level that
        // marks the start. The digits that reach left of their right-hand stroke (all but 1s)
        // share one width: the widest, since bars stop short of the left-hand strokes. Only 1s:
        // the usual proportion, width = height / 2.
        // The first phases may still hold the blurred edge of the previous digit's stroke.
        let skip = (0.5 * stroke).ceil().max(2.0);
        let level = (0.5 * stroke).max(2.0);
        let widths: Vec<f32> = (0..digits)
            .filter_map(|k| {
                let cell_end = right - (digits - 1 - k) as f32 * pitch;
                // The first digit has no neighbour on its left: its ink starts at the first ink.
                let mut x = if k == 0 {
                    first as f32 + 0.5
                } else {
                    cell_end - pitch + skip
                };
                while x < cell_end {
                    if mass(x - 0.5, x + 0.5) >= level && mass(x + 0.5, x + 1.5) >= level {
                        return Some(cell_end - x);
                    }
                    x += 1.0;
                }
                None
            })
            .filter(|&width| width > 2.2 * stroke)
            .collect();
        let cell_width = widths
            .iter()
            .copied()
            .reduce(f32::max)
            .unwrap_or(0.5 * ink_height)
            .min(pitch - 1.0)
            .max(stroke);
        let left = right - (digits - 1) as f32 * pitch - cell_width;

        // All ink must lie inside the cells; ink between them means the cells are wrong.
        let total: f32 = mass(0.0, profile.len() as f32);
        let mut outside = mass(0.0, left - 1.5) + mass(right + 1.5, profile.len() as f32);
        for k in 0..digits.saturating_sub(1) {
            let gap_start = left + k as f32 * pitch + cell_width + 1.5;
            let gap_end = left + (k + 1) as f32 * pitch - 1.5;
            if gap_end > gap_start {
                outside += mass(gap_start, gap_end);
            }
        }
        if outside > 0.06 * total {
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
            stroke,
            centre_a,
            centre_b,
        })
    }

    /// Where digit `k`'s cell-normalised coordinates lie in the band.
    fn cell_map(&self, k: usize) -> CellMap {
        // x' = left + u·cell_width; y = centre_a + centre_b·x' + (v - 0.5)·height;
        // x = x' - offset + shear·(y - yc): all linear in u and v.
        let left = self.first_left + k as f32 * self.pitch;
        let y0 = self.centre_a + self.centre_b * left - 0.5 * self.height;
        let (yu, yv) = (self.centre_b * self.cell_width, self.height);
        CellMap {
            x0: left - self.offset + self.shear * (y0 - self.yc),
            xu: self.cell_width + self.shear * yu,
            xv: self.shear * yv,
            y0,
            yu,
            yv,
        }
    }

    /// The same cells moved by `du` cell widths right and `dv` digit heights down.
    fn nudged(&self, du: f32, dv: f32) -> Layout {
        Layout {
            first_left: self.first_left + du * self.cell_width,
            centre_a: self.centre_a + dv * self.height,
            ..self.clone()
        }
    }

    /// The darker of the two loop centres of digit `k` (mean darkness over their middle).
    fn hole_darkness(&self, k: usize, band: &Band) -> f32 {
        let cell = self.cell_map(k);
        let mut darkest = 0f32;
        for v0 in [0.27f32, 0.73] {
            let (mut sum, mut n) = (0.0, 0);
            for du in [-0.08f32, 0.0, 0.08] {
                for dv in [-0.04f32, 0.0, 0.04] {
                    sum += cell.darkness(0.5 + du, v0 + dv, band);
                    n += 1;
                }
            }
            darkest = darkest.max(sum / n as f32);
        }
        darkest
    }

    /// Samples every digit's segments, with each digit's ink lifted to the common level (see
    /// [`even_out_ink`]), and the glare on their strokes as `glare` says.
    fn sample_digits(&self, digits: usize, band: &Band, glare: Glare) -> Vec<[Segment; 7]> {
        let mut sampled: Vec<[Segment; 7]> = (0..digits)
            .map(|k| self.sample_digit(k, band, matches!(glare, Glare::Measured)))
            .collect();
        if let Glare::Kept(kept) = glare {
            for (segments, kept) in sampled.iter_mut().zip(kept) {
                for (s, k) in segments.iter_mut().zip(kept) {
                    s.glare = k.glare;
                    s.covered = k.covered;
                }
            }
        }
        even_out_ink(&mut sampled);
        // The local contrast only where a second look may be needed (it costs a tenth of a
        // millisecond a read).
        if needs_second_look(&sampled) {
            self.measure_local_contrast(&mut sampled, band);
        }
        sampled
    }

    /// Fills in every segment's local contrast (see [`Layout::local_contrast`]).
    fn measure_local_contrast(&self, sampled: &mut [[Segment; 7]], band: &Band) {
        let lines = self.stroke_lines();
        for (k, segments) in sampled.iter_mut().enumerate() {
            let glare_level = self.glare_level(k, band);
            for (s, &line) in segments.iter_mut().zip(&lines) {
                let under_glare = s.glare >= GLARE_HIDES;
                s.local = self.local_contrast(k, band, line, glare_level, under_glare);
            }
        }
    }

    /// Whether every segment that its local contrast settles is lit or unlit as `decoded`
    /// says (segments lit above `threshold` set the display's levels), and flipping the segments
    /// it does not settle (not measurable, between an unlit and a lit stroke, or under glare)
    /// makes no other digit; false when the display gives no levels to judge by.
    fn local_contrast_agrees(
        &self,
        sampled: &[[Segment; 7]],
        band: &Band,
        decoded: &[DigitEvidence],
        threshold: f32,
    ) -> bool {
        let mut measured = sampled.to_vec();
        self.measure_local_contrast(&mut measured, band);
        let Some(levels) = LocalLevels::of(&measured, threshold) else {
            return false;
        };
        measured.iter().zip(decoded).all(|(segments, d)| {
            let settled_alike = levels.settles_alike(segments, d.mask);
            // The code must not hinge on segments whose local contrast leaves them in doubt, nor
            // on strokes under glare (a hotspot along a lit stroke leaves it no contrast).
            let unsettled = segments_where(|i| {
                segments[i].glare >= GLARE_HIDES || levels.settle(segments[i].local).is_none()
            });
            settled_alike
                && !flipping_any(d.mask, unsettled, |other| {
                    other.is_some() && other != d.digit
                })
        })
    }

    /// The stroke's width as a share of the cell's width and of the digit's height, within sane
    /// bounds.
    fn stroke_shares(&self) -> (f32, f32) {
        (
            (self.stroke / self.cell_width.max(1.0)).clamp(0.05, 0.45),
            (self.stroke / self.height.max(1.0)).clamp(0.03, 0.3),
        )
    }

    /// Where each segment's stroke runs (a to g), its whole length between the bars across its
    /// ends, in cell-normalised coordinates.
    fn stroke_lines(&self) -> [StrokeLine; 7] {
        let (su, sv) = self.stroke_shares();
        let (bar_u, bar_v) = (su + 0.08, 0.5 * sv + 0.06);
        let across_bar = (bar_u, 1.0 - bar_u);
        let upper = (sv + 0.06, 0.5 - bar_v);
        let lower = (0.5 + bar_v, 1.0 - sv - 0.06);
        let (left, right) = (0.5 * su, 1.0 - 0.5 * su);
        let line = |across: f32, along: (f32, f32), vertical: bool| StrokeLine {
            across,
            along,
            vertical,
        };
        [
            line(0.5 * sv, across_bar, false),
            line(right, upper, true),
            line(right, lower, true),
            line(1.0 - 0.5 * sv, across_bar, false),
            line(left, lower, true),
            line(left, upper, true),
            line(0.5, across_bar, false),
        ]
    }

    /// The grey level above which light in digit `k`'s cell is glare ([`glare_above`] the cell's
    /// panel, the 75th percentile of its grey levels); infinite when the cell lies outside the
    /// band.
    fn glare_level(&self, k: usize, band: &Band) -> f32 {
        let cell = self.cell_map(k);
        let mut hist = [0u32; 256];
        let mut n = 0;
        for i in 0..12 {
            for j in 0..8 {
                let (u, v) = ((j as f32 + 0.5) / 8.0, (i as f32 + 0.5) / 12.0);
                if let Some(p) = cell.pixel(u, v, band) {
                    hist[usize::from(band.grey[p])] += 1;
                    n += 1;
                }
            }
        }
        if n == 0 {
            return f32::INFINITY;
        }
        glare_above(percentile_of_histogram(&hist, 0.75))
    }

    /// The stroke's contrast against the panel right beside it, in digit `k`, in grey levels: along
    /// the stroke's `line`, the upper quartile of
    /// `side - ink`, where ink is the darkest grey across the stroke's width and side the darker
    /// of the panel a stroke's width and a half either side (the darker: a glare spot beside the
    /// line must not pass for contrast; past the band's edge, the one side inside counts unless it
    /// is above `glare_level`; a point with glare on one side and a side as dark as the stroke on
    /// the other has no panel to compare with). Ink takes a share of the light that falls on it,
    /// glare adds light on top of ink and panel alike: the difference stays where the darkness
    /// against the coarse panel estimate washes out. An unlit stroke stays near 0; none where
    /// less than a quarter of the line has a side to compare with.
    ///
    /// With `find_stroke` (for a stroke under glare) the ink is looked for up to three quarters
    /// of a stroke's width either side of the line, and the sides are taken beside where it was
    /// found: cells may sit a pixel off a stroke, and where a glare spot's halo lifts one side of
    /// the line, a stroke a pixel away otherwise reads as none. Elsewhere a wider search would
    /// find the strokes beside an unlit one. Measured on the fixture set and eight unseen
    /// renderer sets: a search a whole stroke's width wide, or used everywhere, cost right codes;
    /// this one cost none and read two more (fixture 274, seed 23's photo 285).
    fn local_contrast(
        &self,
        k: usize,
        band: &Band,
        line: StrokeLine,
        glare_level: f32,
        find_stroke: bool,
    ) -> Option<f32> {
        let StrokeLine {
            across: stroke,
            along,
            vertical: vertical_bar,
        } = line;
        let (scale, along_scale) = if vertical_bar {
            (self.cell_width, self.height)
        } else {
            (self.height, self.cell_width)
        };
        let width = self.stroke / scale.max(1.0);
        let step_along = 1.0 / along_scale.max(1.0);
        let step_across = 1.0 / scale.max(1.0);
        // Beside the stroke, but never past the centre of the loop next to it.
        let loop_centre = if vertical_bar {
            (0.5 - stroke).abs()
        } else {
            (0.27 - stroke).abs().min((0.73 - stroke).abs())
        };
        let beside = (1.5 * width + step_across).min(loop_centre.max(width));
        let cell = self.cell_map(k);
        let grey = |a: f32, b: f32| {
            let (u, v) = if vertical_bar { (a, b) } else { (b, a) };
            cell.pixel(u, v, band).map(|i| f32::from(band.grey[i]))
        };
        let mut contrasts = Vec::with_capacity(32);
        let mut points = 0usize;
        let mut b = along.0;
        while b <= along.1 {
            points += 1;
            // The darkest point across the stroke's width (or further, see `find_stroke`).
            let offsets: &[f32] = if find_stroke {
                &[-0.75, -0.5, 0.0, 0.5, 0.75]
            } else {
                &[-0.5, 0.0, 0.5]
            };
            let darkest = offsets
                .iter()
                .map(|&d| stroke + d * width)
                .filter_map(|a| grey(a, b).map(|g| (g, a)))
                .reduce(|best, next| if next.0 < best.0 { next } else { best });
            let ink = darkest.map(|(g, _)| g);
            let at = match darkest {
                Some((_, a)) if find_stroke => a,
                _ => stroke,
            };
            // Past the band's edge only one side shows: it counts unless it is glare.
            let side = match (grey(at - beside, b), grey(at + beside, b)) {
                (Some(before), Some(after)) => {
                    let (darker, lighter) = (before.min(after), before.max(after));
                    // Glare on one side, and on the other a side about as dark as the stroke
                    // (the next digit's stroke, or a loop smeared shut): no panel to compare
                    // with here, and the darker side would clear a lit stroke.
                    let like_stroke = ink.is_some_and(|ink| {
                        let span = lighter - ink;
                        (ink - 0.25 * span..=ink + 0.5 * span).contains(&darker)
                    });
                    (lighter <= glare_level || !like_stroke).then_some(darker)
                }
                (Some(one), None) | (None, Some(one)) => (one <= glare_level).then_some(one),
                (None, None) => None,
            };
            if let (Some(ink), Some(side)) = (ink, side) {
                contrasts.push((side - ink).max(0.0));
            }
            b += step_along;
        }
        // Where a quarter of the stroke shows, a lit stroke shows; where less than a quarter
        // has a side to compare with, nothing is told.
        if contrasts.len() * 4 < points {
            return None;
        }
        contrasts.sort_by(f32::total_cmp);
        contrasts.get(contrasts.len() * 3 / 4).copied()
    }

    /// Samples the seven segment zones of digit `k`, with the glare on their strokes if `glare`.
    fn sample_digit(&self, k: usize, band: &Band, glare: bool) -> [Segment; 7] {
        let du = 1.0 / self.cell_width.max(1.0);
        let dv = 1.0 / self.height.max(1.0);
        let (su, sv) = self.stroke_shares();
        let glare_level = if glare {
            self.glare_level(k, band)
        } else {
            f32::INFINITY
        };
        let cell = self.cell_map(k);
        // A bar's zone: a darkness profile across the bar, each point averaged along it over the
        // pixels inside the band and not above the glare level (a hotspot along a lit stroke would
        // outweigh its ink and pass for an unlit one: judged by what glare leaves); and the
        // share of clipped pixels on three lines along where the stroke runs (`stroke`: its
        // centre across, `half`: half its width). Vertical bars run along v, horizontal ones
        // along u.
        let zone = |across: (f32, f32), along: (f32, f32), stroke: f32, vertical_bar: bool| {
            let (step_across, step_along, half) = if vertical_bar {
                (du, dv, 0.5 * su)
            } else {
                (dv, du, 0.5 * sv)
            };
            let at = |a: f32, b: f32| if vertical_bar { (a, b) } else { (b, a) };
            // The lightest grey that is no glare (grey levels are whole numbers).
            let visible_max = glare_level.floor().clamp(0.0, 255.0) as u8;
            let mut profile = Vec::new();
            let (mut inside, mut on_rim) = (0usize, 0usize);
            let mut a = across.0;
            while a <= across.1 {
                let (mut sum, mut n) = (0.0, 0);
                let mut b = along.0;
                while b <= along.1 {
                    let (u, v) = at(a, b);
                    if let Some(i) = cell.pixel(u, v, band) {
                        inside += 1;
                        on_rim += usize::from(band.rim.get(i).copied().unwrap_or(false));
                        if band.grey[i] <= visible_max {
                            sum += band.darkness[i];
                            n += 1;
                        }
                    }
                    b += step_along;
                }
                profile.push(sum / n.max(1) as f32);
                a += step_across;
            }
            let (mut glared, mut n) = (0, 0);
            let lines = [stroke - half, stroke, stroke + half];
            let lines = if glare_level.is_finite() {
                &lines[..]
            } else {
                &[]
            };
            for &a in lines {
                let mut b = along.0;
                while b <= along.1 {
                    let (u, v) = at(a, b);
                    if let Some(i) = cell.pixel(u, v, band) {
                        glared += usize::from(f32::from(band.grey[i]) > glare_level);
                        n += 1;
                    }
                    b += step_along;
                }
            }
            let glare = glared as f32 / n.max(1) as f32;
            let rim = on_rim as f32 / inside.max(1) as f32;
            Segment::from_profile(&profile, glare, rim)
        };
        let horizontal = |v0: f32, v1: f32, v: f32| zone((v0, v1), (0.3, 0.7), v, false);
        let vertical =
            |u0: f32, u1: f32, v0: f32, v1: f32, u: f32| zone((u0, u1), (v0, v1), u, true);
        // Zones around where each stroke runs: a stroke's width plus some slack inwards, and
        // outwards at most halfway into the gap to the next digit (never onto its strokes).
        let gap = ((self.pitch - self.cell_width) / self.cell_width.max(1.0)).max(0.0);
        let out = (0.45 * gap).min(0.15);
        let (left0, left1) = (-out, (su + 0.15).min(0.45));
        let (right0, right1) = ((1.0 - su - 0.15).max(0.55), 1.0 + out);
        let (left, right) = (0.5 * su, 1.0 - 0.5 * su);
        let mut segments = [
            horizontal(-0.08, sv + 0.1, 0.5 * sv),
            vertical(right0, right1, 0.2, 0.38, right),
            vertical(right0, right1, 0.62, 0.8, right),
            horizontal(1.0 - sv - 0.1, 1.08, 1.0 - 0.5 * sv),
            vertical(left0, left1, 0.62, 0.8, left),
            vertical(left0, left1, 0.2, 0.38, left),
            horizontal(0.5 - 0.5 * sv - 0.08, 0.5 + 0.5 * sv + 0.08, 0.5),
        ];
        // A zone is most of its stroke's length: with no glare over it, none covers the stroke.
        if glare_level.is_finite() {
            for (s, line) in segments.iter_mut().zip(self.stroke_lines()) {
                if s.glare > 0.0 {
                    let half = 0.5 * if line.vertical { su } else { sv };
                    s.covered = covered_by_glare(&cell, band, line, half, glare_level);
                }
            }
        }
        segments
    }
}

/// The most glare (grey above `glare_level`) along the whole of any one of three lines where the
/// stroke `line` may run: its centre and `half` a stroke's width either side. A lit stroke
/// shows wherever a spot leaves some of its length clear.
fn covered_by_glare(
    cell: &CellMap,
    band: &Band,
    line: StrokeLine,
    half: f32,
    glare_level: f32,
) -> f32 {
    let step = if line.vertical {
        1.0 / cell.yv.abs().max(1.0)
    } else {
        1.0 / cell.xu.abs().max(1.0)
    };
    let mut most = 0f32;
    for a in [line.across - half, line.across, line.across + half] {
        let (mut glared, mut n) = (0usize, 0usize);
        let mut b = line.along.0;
        while b <= line.along.1 {
            let (u, v) = if line.vertical { (a, b) } else { (b, a) };
            if let Some(i) = cell.pixel(u, v, band) {
                glared += usize::from(f32::from(band.grey[i]) > glare_level);
                n += 1;
            }
            b += step;
        }
        if n > 0 {
            most = most.max(glared as f32 / n as f32);
        }
    }
    most
}

impl Segment {
    fn from_profile(profile: &[f32], glare: f32, rim: f32) -> Segment {
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
        Segment {
            darkness,
            edge,
            glare,
            covered: 0.0,
            rim,
            local: None,
        }
    }
}

/// The typical width of a vertical stroke: the median length of the horizontal ink runs (rows
/// through vertical segments, which are most rows, give one run per stroke). `ink` is in row
/// order, left to right.
fn stroke_width(ink: &[(i32, i32)]) -> Option<f32> {
    let mut runs: Vec<u32> = Vec::new();
    let mut current: Option<(i32, i32, u32)> = None;
    for &(x, y) in ink {
        current = match current {
            Some((px, py, n)) if py == y && px + 1 == x => Some((x, y, n + 1)),
            Some((_, _, n)) => {
                runs.push(n);
                Some((x, y, 1))
            }
            None => Some((x, y, 1)),
        };
    }
    if let Some((_, _, n)) = current {
        runs.push(n);
    }
    runs.sort_unstable();
    runs.get(runs.len() / 2).map(|&n| n as f32)
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
    fn broad_darkness_is_the_middle_third_and_never_an_empty_one() {
        // One dark blob (a glare halo) in the left third of a wide band: the middle third's.
        let (w, h) = (60, 18);
        let mut band = vec![0.02f32; w * h];
        for y in 0..h {
            for x in 0..8 {
                band[y * w + x] = 0.5;
            }
        }
        assert!(broad_darkness(&band, w, h, 3) < 0.05);
        // A band so narrow that only its left third holds a square: that square's darkness.
        let narrow = vec![0.3f32; 4 * h];
        assert!((broad_darkness(&narrow, 4, h, 3) - 0.3).abs() < 1e-6);
    }

    /// Segment bits: a = 0 … g = 6.
    const A: u8 = 1 << 0;
    const B: u8 = 1 << 1;
    const C: u8 = 1 << 2;
    const D: u8 = 1 << 3;
    const E: u8 = 1 << 4;
    const F: u8 = 1 << 5;
    const G: u8 = 1 << 6;

    fn one_with_a(a: f32) -> DigitEvidence {
        let mut darkness = [0.02; 7];
        darkness[0] = a;
        darkness[1] = 0.5;
        darkness[2] = 0.5;
        DigitEvidence {
            position: 0,
            darkness,
            mask: B | C,
            digit: decode_mask(B | C),
        }
    }

    #[test]
    fn a_half_dark_segment_that_makes_another_digit_is_doubt() {
        // A 1 whose top bar is half as dark as the ink could be a 7.
        assert!(half_lit_could_change(&one_with_a(0.3), 0.5, 0));
        // Ghost-dark, it is unlit.
        assert!(!half_lit_could_change(&one_with_a(0.1), 0.5, 0));
        // A half-dark e on a 1 makes no digit (b, c, e): no doubt about the 1.
        let mut d = one_with_a(0.02);
        d.darkness[4] = 0.3;
        assert!(!half_lit_could_change(&d, 0.5, 0));
    }

    fn segments(darkness: [f32; 7], glare: [f32; 7]) -> [Segment; 7] {
        std::array::from_fn(|i| Segment {
            darkness: darkness[i],
            edge: 0.3,
            glare: glare[i],
            covered: 0.0,
            rim: 0.0,
            local: None,
        })
    }

    /// A display of six 9s as sampled: lit segments 0.5 dark and 60 grey levels darker than the
    /// panel beside them, unlit ones 0.03 and 4.
    fn nines() -> Vec<[Segment; 7]> {
        let nine = A | B | C | D | F | G;
        (0..6)
            .map(|_| {
                std::array::from_fn(|i| {
                    let lit = nine & (1 << i) != 0;
                    Segment {
                        darkness: if lit { 0.5 } else { 0.03 },
                        edge: 0.3,
                        glare: 0.0,
                        covered: 0.0,
                        rim: 0.0,
                        local: Some(if lit { 60.0 } else { 4.0 }),
                    }
                })
            })
            .collect()
    }

    #[test]
    fn a_stroke_the_rim_took_is_told_by_its_contrast_or_the_window_cuts_the_digits() {
        // Segment b of the last 9 went with the window's rim: no darkness left, it reads as a 5.
        let mut sampled = nines();
        sampled[5][1] = Segment {
            darkness: 0.02,
            edge: 0.3,
            glare: 0.0,
            covered: 0.0,
            rim: 0.4,
            local: Some(58.0),
        };
        // Its contrast to the panel beside it is a lit stroke's: lit, a 9.
        assert_eq!(
            decide(&sampled, 0.5, true).reading,
            LcdReading::Code("999999".into())
        );
        // Contrast unmeasured: a 5 and a 9 are both digits, and the window cut the stroke.
        sampled[5][1].local = None;
        let cut = LcdReading::Unreadable(Unreadable::NotFound);
        assert_eq!(decide(&sampled, 0.5, true).reading, cut);
        // The contrast of an unlit stroke settles nothing either: the dark rim beside a lit
        // stroke takes its contrast too.
        sampled[5][1].local = Some(4.0);
        assert_eq!(decide(&sampled, 0.5, true).reading, cut);
        // Clear of the rim, no second look: a stroke with no darkness is unlit, a 5.
        sampled[5][1].rim = 0.0;
        sampled[5][1].local = None;
        assert_eq!(
            decide(&sampled, 0.5, true).reading,
            LcdReading::Code("999995".into())
        );
    }

    #[test]
    fn a_code_resting_on_an_unlit_stroke_glare_covers_has_the_lowest_confidence() {
        // The last 9 shows a 3: segment f unlit, with no trace in the little glare leaves of it.
        let mut sampled = nines();
        sampled[5][5] = Segment {
            darkness: 0.03,
            edge: 0.3,
            glare: 0.3,
            covered: 0.5,
            rim: 0.0,
            local: Some(4.0),
        };
        let read = decide(&sampled, 0.5, true);
        assert_eq!(read.reading, LcdReading::Code("999993".into()));
        assert!(read.confidence > MIN_CONFIDENCE);
        // Glare over the whole of a line where it may run: nothing shows either way. A 3 by
        // how such strokes usually look, at the lowest confidence: lit, it would be a 9.
        sampled[5][5].covered = 1.0;
        let read = decide(&sampled, 0.5, true);
        assert_eq!(read.reading, LcdReading::Code("999993".into()));
        assert!(read.confidence <= MIN_CONFIDENCE);
        // A lit stroke under glare shows itself: covering it costs no confidence.
        let mut nines = nines();
        nines[0][2].covered = 1.0;
        assert!(decide(&nines, 0.5, true).confidence > MIN_CONFIDENCE);
    }

    #[test]
    fn a_second_look_lights_a_washed_stroke_only_where_it_sees_ink() {
        // Segment e of the first 9 under glare, a trace of ink left against the panel estimate.
        let mut sampled = nines();
        sampled[0][4] = Segment {
            darkness: 0.1,
            edge: 0.3,
            glare: 0.5,
            covered: 0.0,
            rim: 0.0,
            local: Some(45.0),
        };
        // Its contrast to the panel beside it is most of the ink's: lit, an 8.
        assert_eq!(
            decide(&sampled, 0.5, true).reading,
            LcdReading::Code("899999".into())
        );
        // Washed out beside it too: glare can hide ink, so it is not cleared, and the 9 may be an 8.
        sampled[0][4].local = Some(5.0);
        assert_eq!(
            decide(&sampled, 0.5, true).reading,
            LcdReading::Unreadable(Unreadable::OverExposed)
        );
        // Without glare, a trace of ink with no contrast beside it is no stroke: a 9.
        sampled[0][4].glare = 0.0;
        assert_eq!(
            decide(&sampled, 0.5, true).reading,
            LcdReading::Code("999999".into())
        );
        // A faint trace that shows contrast beside it is still not lit (only strokes a good share
        // as dark as the ink may be), and too faint to doubt: a 9.
        sampled[0][4].local = Some(45.0);
        assert_eq!(
            decide(&sampled, 0.5, true).reading,
            LcdReading::Code("999999".into())
        );
    }

    #[test]
    fn a_stroke_washed_by_glare_is_lit_where_its_darkness_and_contrast_both_show_it() {
        // Segment e of the first 9 a third under glare: 0.2 of the ink level dark, and its
        // contrast to the panel beside it a third of the way to a lit stroke's (doubt for the
        // second look, which needs half).
        let mut sampled = nines();
        sampled[0][4] = Segment {
            darkness: 0.1,
            edge: 0.3,
            glare: 0.33,
            covered: 0.0,
            rim: 0.0,
            local: Some(22.0),
        };
        let read = decide(&sampled, 0.5, true);
        assert_eq!(read.reading, LcdReading::Code("899999".into()));
        // Lit on that evidence alone: reported, but never with more than the least confidence.
        assert!(read.confidence <= MIN_CONFIDENCE);
        // The contrast of an unlit stroke: the halo darkened the panel, no stroke; it may be
        // washed out all the same, so the position cannot be told.
        sampled[0][4].local = Some(6.0);
        let doubt = LcdReading::Unreadable(Unreadable::OverExposed);
        assert_eq!(decide(&sampled, 0.5, true).reading, doubt);
        // Contrast unmeasured: an 8 and a 9 are both digits, so the darkness alone decides nothing.
        sampled[0][4].local = None;
        assert_eq!(decide(&sampled, 0.5, true).reading, doubt);
        // No trace of darkness under the glare: the contrast alone lights nothing, though it
        // leaves the doubt.
        sampled[0][4].darkness = 0.02;
        sampled[0][4].local = Some(22.0);
        assert_eq!(decide(&sampled, 0.5, true).reading, doubt);
        // Neither: clean panel under the glare, an unlit e and a 9.
        sampled[0][4].local = Some(6.0);
        assert_eq!(
            decide(&sampled, 0.5, true).reading,
            LcdReading::Code("999999".into())
        );
    }

    #[test]
    fn a_washed_stroke_with_unmeasured_contrast_completes_only_a_position_showing_no_digit() {
        let levels = LocalLevels {
            unlit: 4.0,
            lit: 60.0,
        };
        let mut glare = [0.0; 7];
        glare[2] = 0.33;
        // A 7 (a, b, c) whose c is washed to 0.3 of the ink level, its sides lost to the glare:
        // a and b alone are no digit, and lighting c is what makes one.
        let seven = segments([0.5, 0.5, 0.15, 0.03, 0.03, 0.03, 0.03], glare);
        assert_eq!(
            washed_strokes(A | B, &seven, 0.5, Some(levels)),
            Some(A | B | C)
        );
        // Without the display's local levels nothing is lit on darkness.
        assert_eq!(washed_strokes(A | B, &seven, 0.5, None), None);
        // The same trace on a position that already shows a digit (a 7 with f, lighting c of
        // nothing else) is left to the glare check.
        assert_eq!(washed_strokes(A | B | C, &seven, 0.5, Some(levels)), None);
    }

    #[test]
    fn only_one_digit_among_the_doubtful_segments_tells_them() {
        let six = A | C | D | E | F | G;
        // c of a 6 in doubt: without it no digit, so it is lit.
        assert_eq!(only_digit_among(six & !C, C), Some(six));
        assert_eq!(only_digit_among(six, C), Some(six));
        // g of an 8 in doubt: 0 and 8 are both digits, so it stays in doubt.
        assert_eq!(only_digit_among(A | B | C | D | E | F, G), None);
        // Nothing in doubt, or more than two segments: nothing told.
        assert_eq!(only_digit_among(six, 0), None);
        assert_eq!(only_digit_among(six, C | D | E), None);
    }

    #[test]
    fn a_half_washed_segment_is_told_by_the_digit_shapes() {
        // Segment c of the first 9 half as dark as the ink (a light stripe below the glare
        // level): unlit it leaves no digit, lit it is the 9 the strokes show.
        let mut sampled = nines();
        sampled[0][2].darkness = 0.24;
        sampled[0][2].local = None;
        let read = decide(&sampled, 0.5, true);
        assert_eq!(read.reading, LcdReading::Code("999999".into()));
        // A code told by shape is a code of low confidence.
        assert!(
            read.confidence <= MIN_CONFIDENCE + f32::EPSILON,
            "{}",
            read.confidence
        );
        // Not where the shapes may not be used (another trim of the window).
        assert_eq!(
            decide(&sampled, 0.5, false).reading,
            LcdReading::Unreadable(Unreadable::Blurred)
        );
        // Not under glare: it may have washed out another stroke altogether.
        sampled[0][4].glare = 0.5;
        assert_eq!(
            decide(&sampled, 0.5, true).reading,
            LcdReading::Unreadable(Unreadable::Blurred)
        );
        // Not against the strokes' local contrast: an 8 whose b and c the band's edge faded (b to
        // panel, c to half) is no 6, for b's contrast beside it is a lit stroke's.
        let mut sampled = nines();
        sampled[0] = segments([0.5; 7], [0.0; 7]);
        sampled[0].iter_mut().for_each(|s| s.local = Some(60.0));
        sampled[0][1].darkness = 0.05;
        sampled[0][2].darkness = 0.24;
        sampled[0][2].local = None;
        assert_eq!(
            decide(&sampled, 0.5, true).reading,
            LcdReading::Unreadable(Unreadable::Blurred)
        );
    }

    #[test]
    fn glare_over_the_missing_segment_of_no_digit_is_the_lights_fault() {
        let eight_without_f = A | B | C | D | E | G;
        let mut glare = [0.0; 7];
        glare[5] = 0.6;
        let lit = [0.5, 0.5, 0.5, 0.5, 0.5, 0.02, 0.5];
        assert!(glare_could_complete(eight_without_f, &segments(lit, glare)));
        assert!(!glare_could_complete(
            eight_without_f,
            &segments(lit, [0.0; 7])
        ));
    }

    #[test]
    fn glare_hides_a_segment_only_where_ink_shows_through() {
        let nine = A | B | C | D | F | G;
        let mut glare = [0.0; 7];
        glare[4] = 0.6;
        // Segment e under glare with a trace of ink: the 9 may be an 8.
        let traced = segments([0.5, 0.5, 0.5, 0.5, 0.12, 0.5, 0.5], glare);
        assert!(glare_could_change(nine, &traced, 0.5, None, 0));
        // Clean panel around the glare: e is unlit, a 9.
        let clean = segments([0.5, 0.5, 0.5, 0.5, 0.01, 0.5, 0.5], glare);
        assert!(!glare_could_change(nine, &clean, 0.5, None, 0));
        // A little glare (a tenth of the line) over a trace of ink: still doubt.
        let mut edge_of_glare = glare;
        edge_of_glare[4] = 0.15;
        let grazed = segments([0.5, 0.5, 0.5, 0.5, 0.12, 0.5, 0.5], edge_of_glare);
        assert!(glare_could_change(nine, &grazed, 0.5, None, 0));
        // No glare on e: nothing hidden.
        let bare = segments([0.5, 0.5, 0.5, 0.5, 0.12, 0.5, 0.5], [0.0; 7]);
        assert!(!glare_could_change(nine, &bare, 0.5, None, 0));
        // Glare over a segment whose lighting makes no other digit (e on a 4: b, c, e, f, g).
        let four = B | C | F | G;
        assert!(!glare_could_change(four, &traced, 0.5, None, 0));
        // Clean against the panel estimate, but the stroke's local contrast shows ink (the
        // estimate follows the glare, which leaves no trace): doubt; an unlit stroke's: none.
        let levels = LocalLevels {
            unlit: 4.0,
            lit: 60.0,
        };
        let mut shown = clean;
        shown[4].local = Some(30.0);
        assert!(glare_could_change(nine, &shown, 0.5, Some(levels), 0));
        shown[4].local = Some(6.0);
        assert!(!glare_could_change(nine, &shown, 0.5, Some(levels), 0));
        shown[4].local = None;
        assert!(!glare_could_change(nine, &shown, 0.5, Some(levels), 0));
    }

    #[test]
    fn glare_is_a_quarter_over_the_panel_or_halfway_to_white() {
        assert_eq!(glare_above(100), 125.0);
        assert_eq!(glare_above(200), 227.5);
        assert_eq!(glare_above(248), f32::from(CLIPPED_LEVEL) - 0.5);
    }

    /// A darkness map `w`×`h` of `code` in a plain seven-segment font: cells `cell` wide from
    /// `x0`, `pitch` apart, digits `height` high from row `y0`, strokes `stroke` wide, ink 0.6,
    /// then blurred by `passes` of a 5-wide box (8 passes: about σ = 4).
    fn painted(code: &[u8], w: usize, h: usize, geometry: [usize; 6], passes: usize) -> Vec<f32> {
        let [x0, y0, cell, pitch, height, stroke] = geometry;
        let mut map = vec![0f32; w * h];
        let mut fill = |xa: usize, ya: usize, xb: usize, yb: usize| {
            for y in ya..yb {
                for x in xa..xb {
                    map[y * w + x] = 0.6;
                }
            }
        };
        let masks = [0x3f, 0x06, 0x5b, 0x4f, 0x66, 0x6d, 0x7d, 0x07, 0x7f, 0x6f];
        for (k, &digit) in code.iter().enumerate() {
            let (l, t) = (x0 + k * pitch, y0);
            let (r, b, m) = (l + cell, t + height, t + height / 2);
            let mask: u8 = masks[usize::from(digit)];
            let bars = [
                (l, t, r, t + stroke),
                (r - stroke, t, r, m),
                (r - stroke, m, r, b),
                (l, b - stroke, r, b),
                (l, m, l + stroke, b),
                (l, t, l + stroke, m),
                (l, m - stroke / 2, r, m + stroke - stroke / 2),
            ];
            for (i, &(xa, ya, xb, yb)) in bars.iter().enumerate() {
                if mask & (1 << i) != 0 {
                    fill(xa, ya, xb, yb);
                }
            }
        }
        for _ in 0..passes {
            let mut next = vec![0f32; w * h];
            for y in 0..h {
                for x in 0..w {
                    let (xa, xb) = (x.saturating_sub(2), (x + 2).min(w - 1));
                    let (ya, yb) = (y.saturating_sub(2), (y + 2).min(h - 1));
                    let mut sum = 0.0;
                    for yy in ya..=yb {
                        for xx in xa..=xb {
                            sum += map[yy * w + xx];
                        }
                    }
                    next[y * w + x] = sum / ((xb - xa + 1) * (yb - ya + 1)) as f32;
                }
            }
            map = next;
        }
        map
    }

    #[test]
    fn the_comb_finds_the_pitch_of_blurred_digits_around_a_one() {
        // A 1 keeps only its right-hand strokes; heavy strokes blurred wide make the teeth of
        // the comb a broad ridge, and the gaps right of them pick the pitch.
        let (w, h) = (300, 80);
        for pitch in [40, 42, 46] {
            let map = painted(&[5, 2, 6, 1, 0, 8], w, h, [12, 10, 28, pitch, 58, 9], 8);
            let layout = Layout::locate(&map, w, h, 0.2, 6).expect("cells found");
            assert!(
                (layout.pitch - pitch as f32).abs() <= 1.0,
                "pitch {} for {pitch}",
                layout.pitch
            );
        }
    }

    #[test]
    fn the_comb_finds_the_pitch_of_digits_that_touch() {
        // A tight font: two pixels between cells, closed by blur, so a narrow 1 touches the 6
        // after it and the 6's half right-hand stroke the 8's left-hand one. The neighbours'
        // strokes right of those teeth must not pull the comb off the other four.
        let (w, h) = (220, 70);
        for pitch in [28, 30, 33] {
            let map = painted(
                &[1, 6, 8, 1, 1, 3],
                w,
                h,
                [8, 8, pitch - 2, pitch, 52, 7],
                1,
            );
            let layout = Layout::locate(&map, w, h, 0.2, 6).expect("cells found");
            assert!(
                (layout.pitch - pitch as f32).abs() <= 0.5,
                "pitch {} for {pitch}",
                layout.pitch
            );
        }
    }

    #[test]
    fn a_stroke_under_glare_is_found_a_pixel_off_its_line() {
        // One cell, 20 × 40 pixels from (10, 10), strokes 3 pixels wide: segment e's line runs
        // at x = 11.5. The stroke itself runs two pixels left of it (x = 8 and 9), 30 grey
        // levels under the panel.
        let (w, h) = (40, 60);
        let mut grey = vec![200u8; w * h];
        for y in 10..50 {
            grey[y * w + 8] = 170;
            grey[y * w + 9] = 170;
        }
        let band = Band {
            darkness: vec![0.0; w * h],
            grey,
            rim: Vec::new(),
            w,
            h,
        };
        let layout = Layout {
            shear: 0.0,
            yc: 30.0,
            offset: 0.0,
            first_left: 10.0,
            pitch: 30.0,
            cell_width: 20.0,
            height: 40.0,
            stroke: 3.0,
            centre_a: 30.0,
            centre_b: 0.0,
        };
        let e = layout.stroke_lines()[4];
        // Across the stroke's width of the line: panel only, no stroke.
        let on_line = layout.local_contrast(0, &band, e, f32::INFINITY, false);
        assert!(on_line.is_some_and(|c| c < 5.0), "{on_line:?}");
        // Looked for as under glare: the stroke, with the panel beside it on both sides.
        let found = layout.local_contrast(0, &band, e, f32::INFINITY, true);
        assert!(found.is_some_and(|c| c >= 25.0), "{found:?}");
    }
}
