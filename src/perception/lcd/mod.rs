//! LCD reader: finds, rectifies and reads the seven-segment code display of a token in whole
//! camera frames.
//!
//! Input: grey frames (640×480 and up) and the number of digit positions; optionally a starting
//! window from calibration. Output per frame: an [`LcdRead`]: the digits, `Blank` (display off or
//! empty) or why it could not be read, with a confidence, per-digit segment evidence, and where
//! the window was.
//!
//! Stages, one file each: [`locate`] finds candidate LCD windows (a light quadrilateral inside a
//! dark body) and their four corners; [`rectify`] undoes the perspective; [`digits`] reads the
//! rectified window, with `closing` (the light around each pixel, strokes filled in) to hold
//! its panel estimate to a glare spot's edge. [`LcdReader`] tracks the window across frames and
//! locates it afresh when it is lost.
//!
//! Invariants:
//! - Only pixels are used; the reader never knows whether a frame is real or simulated (this
//!   module must not import `rig::sim`).
//! - Faint ghosts of unlit segments never count as lit.
//! - [`LcdReading::Code`] is returned only when every position decoded to a digit with a
//!   confidence of at least [`MIN_CODE_CONFIDENCE`].
//! - [`Unreadable::InvalidPattern`] (the token's fault) is only returned for a display that was
//!   found, sharp and well exposed; every other `Unreadable` is the rig's fault.

mod closing;
pub mod digits;
pub mod locate;
pub mod rectify;

use image::GrayImage;
use serde::Serialize;

pub use rectify::{Point, Quad};

use std::fmt::Write as _;

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
    /// The LCD window's corners in the frame, when it was found.
    pub quad: Option<Quad>,
    /// True when the reading came from the window of the previous frame with no search of the
    /// whole frame (a tracked window that no longer reads is located afresh: false).
    pub tracked: bool,
}

impl LcdRead {
    pub(crate) fn unreadable(why: Unreadable, contrast: f32) -> Self {
        LcdRead {
            reading: LcdReading::Unreadable(why),
            confidence: 0.0,
            digits: Vec::new(),
            sharpness: 0.0,
            contrast,
            quad: None,
            tracked: false,
        }
    }
}

/// Segment names in bit order.
const SEGMENT_NAMES: [char; 7] = ['a', 'b', 'c', 'd', 'e', 'f', 'g'];

/// The digit a lit-segment mask shows, accepting both common shapes of 7 (with and without the
/// top-left segment f) and of 6 and 9 (with and without their tails a and d).
pub fn decode_mask(mask: u8) -> Option<u8> {
    match mask {
        0x3f => Some(0),
        0x06 => Some(1),
        0x5b => Some(2),
        0x4f => Some(3),
        0x66 => Some(4),
        0x6d => Some(5),
        0x7d | 0x7c => Some(6),
        0x07 | 0x27 => Some(7),
        0x7f => Some(8),
        0x6f | 0x67 => Some(9),
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

/// Codes are reported only with at least this confidence (the smallest margin of any segment to
/// the lit threshold, as a share); below it the frame is unreadable (blurred).
pub const MIN_CODE_CONFIDENCE: f32 = 0.3;

/// Share of the window's height trimmed off each side before reading (the bezel's soft edge).
const WINDOW_INSET: f32 = 0.04;

/// The deeper trim tried (before none at all) when a window does not read with
/// [`WINDOW_INSET`].
const DEEP_INSET: f32 = 0.1;

/// How many of a frame's candidate windows (most window-like first) get the other trims.
const RETRIMMED_CANDIDATES: usize = 2;

/// Reads a token's LCD in successive frames of one camera: locates the window, then tracks it.
#[derive(Debug, Clone)]
pub struct LcdReader {
    digits: usize,
    /// Where the window was last read (or the calibrated start), tried first on the next frame.
    tracked: Option<Quad>,
}

impl LcdReader {
    /// A reader for `digits` positions that finds the window itself.
    pub fn new(digits: usize) -> Self {
        LcdReader {
            digits: digits.max(1),
            tracked: None,
        }
    }

    /// A reader that starts from a calibrated window and re-locates when it is lost.
    pub fn starting_at(quad: Quad, digits: usize) -> Self {
        LcdReader {
            digits: digits.max(1),
            tracked: Some(quad),
        }
    }

    /// The window the next frame is read in first, if any.
    pub fn tracked(&self) -> Option<Quad> {
        self.tracked
    }

    /// Forgets the tracked window: the next frame is located afresh.
    pub fn reset(&mut self) {
        self.tracked = None;
    }

    /// Reads the display in `frame`: in the tracked window when that still shows a display,
    /// otherwise in the best window located in the whole frame.
    pub fn read(&mut self, frame: &GrayImage) -> LcdRead {
        let mut fallback = None;
        if let Some(quad) = self.tracked {
            let mut read = read_window(frame, &quad, self.digits);
            read.tracked = true;
            if trusted(&read) && (read.reading != LcdReading::Blank || locate::framed(frame, &quad))
            {
                return read;
            }
            // Located afresh below, whichever reading wins.
            read.tracked = false;
            fallback = Some(read);
        }
        // A code from any window wins; otherwise the first (most window-like) candidate that
        // says what a display shows; otherwise the most telling of the rest. A blank window does
        // not hide a larger one with ink that cannot be read (a smeared display beside an empty
        // light patch on the body, at least twice as large): that stays unreadable, never blank.
        let mut best: Option<LcdRead> = None;
        let mut first_trusted: Option<LcdRead> = None;
        for (rank_in_frame, candidate) in locate::find_windows(frame).iter().enumerate() {
            // Other trims only for the most window-like candidates: they cost a read each.
            let trims = rank_in_frame < RETRIMMED_CANDIDATES;
            let read = read_window_trimmed(frame, candidate, self.digits, trims);
            if matches!(read.reading, LcdReading::Code(_)) {
                best = Some(read);
                first_trusted = None;
                break;
            }
            if first_trusted.is_none() && trusted(&read) {
                first_trusted = Some(read);
                continue;
            }
            if best.as_ref().is_none_or(|b| rank(&read) > rank(b)) {
                best = Some(read);
            }
        }
        let inked_and_far_larger = |blank: &LcdRead, other: &LcdRead| {
            blank.reading == LcdReading::Blank
                && matches!(
                    other.reading,
                    LcdReading::Unreadable(Unreadable::Blurred | Unreadable::OverExposed)
                )
                && area(other) >= 2.0 * area(blank)
        };
        let best = match (first_trusted, best) {
            (Some(t), Some(b)) if inked_and_far_larger(&t, &b) => Some(b),
            (Some(t), _) => Some(t),
            (None, b) => b,
        };
        let read = match (best, fallback) {
            (Some(b), Some(f)) if rank(&f) > rank(&b) => f,
            (Some(b), _) => b,
            (None, Some(f)) => f,
            (None, None) => LcdRead::unreadable(Unreadable::NotFound, 0.0),
        };
        self.tracked = if trusted(&read) { read.quad } else { None };
        read
    }
}

/// Reads the digits inside `quad` (trimmed by the bezel's edge; other trims are tried when that
/// does not read).
pub fn read_window(frame: &GrayImage, quad: &Quad, digits: usize) -> LcdRead {
    read_window_trimmed(frame, quad, digits, true)
}

/// Reads the digits inside `quad` trimmed by [`WINDOW_INSET`], then, if `other_trims` and that
/// does not read, checks it for a blank display under glare and tries it trimmed deeper and not
/// at all.
fn read_window_trimmed(
    frame: &GrayImage,
    quad: &Quad,
    digits: usize,
    other_trims: bool,
) -> LcdRead {
    let Some(patch) = rectify::rectify(frame, &quad.inset(WINDOW_INSET)) else {
        return LcdRead::unreadable(Unreadable::NotFound, 0.0);
    };
    let mut read = digits::read_patch(&patch, digits, other_trims);
    // A window found at the bezel's outer edge keeps a dark rim inside its usual trim, and a
    // tight one loses the strokes at its edge to the trim; either can spoil the read. Trimmed
    // otherwise, only a code counts (another trim could cut digits off and leave a blank). An
    // invalid pattern is only tried untrimmed: a wider window cannot cut a stroke off, so a
    // segment the token really left out stays out.
    let trims: &[f32] = match read.reading {
        _ if !other_trims => &[],
        LcdReading::Unreadable(Unreadable::Blurred | Unreadable::NotFound) => &[DEEP_INSET, 0.0],
        LcdReading::Unreadable(Unreadable::InvalidPattern(_)) => &[0.0],
        _ => &[],
    };
    for &trim in trims {
        let Some(patch) = rectify::rectify(frame, &quad.inset(trim)) else {
            continue;
        };
        let other = digits::read_patch(&patch, digits, false);
        if matches!(other.reading, LcdReading::Code(_)) {
            read = other;
            break;
        }
    }
    read.quad = Some(*quad);
    read
}

/// Area of the window a reading came from (0 without one).
fn area(read: &LcdRead) -> f32 {
    read.quad.map_or(0.0, |q| q.area())
}

/// A reading that says what the display shows: a code, blank, or a pattern the token got wrong.
fn trusted(read: &LcdRead) -> bool {
    matches!(
        read.reading,
        LcdReading::Code(_)
            | LcdReading::Blank
            | LcdReading::Unreadable(Unreadable::InvalidPattern(_))
    )
}

/// How much a reading says about the display, for choosing between candidate windows.
fn rank(read: &LcdRead) -> u8 {
    match &read.reading {
        LcdReading::Code(_) => 6,
        LcdReading::Blank => 4,
        LcdReading::Unreadable(Unreadable::InvalidPattern(_)) => 5,
        LcdReading::Unreadable(Unreadable::Blurred) => 3,
        LcdReading::Unreadable(Unreadable::OverExposed) => 2,
        LcdReading::Unreadable(Unreadable::NotFound) => 1,
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
    fn black_and_white_windows_are_unreadable() {
        let quad = Quad::from_rect(0.0, 0.0, 40.0, 20.0);
        let black = GrayImage::new(40, 20);
        assert_eq!(
            read_window(&black, &quad, 6).reading,
            LcdReading::Unreadable(Unreadable::NotFound)
        );
        let white = GrayImage::from_pixel(40, 20, image::Luma([255]));
        assert_eq!(
            read_window(&white, &quad, 6).reading,
            LcdReading::Unreadable(Unreadable::OverExposed)
        );
        let grey = GrayImage::from_pixel(40, 20, image::Luma([180]));
        assert_eq!(read_window(&grey, &quad, 6).reading, LcdReading::Blank);
        assert_eq!(
            LcdReader::new(6).read(&black).reading,
            LcdReading::Unreadable(Unreadable::NotFound)
        );
    }
}
