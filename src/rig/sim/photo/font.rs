//! Seven-segment fonts of lab photos: segment shapes, stroke, gaps, slant and digit glyphs.
//!
//! A [`Font`] draws a digit in a cell `w` wide and `h` high (cell units, x right, y down, no
//! slant: the photo renderer shears the cell about its middle line). All fonts use fixed pitch and
//! draw "1" narrow, as segments b and c only at the right of its cell, so its ink covers about a
//! fifth of the cell. [`FONTS`] lists the fonts photos are drawn with.

use crate::rig::sim::scene::{SEG_A, SEG_D, font_mask};

/// How the ends of a segment are cut.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SegmentEnds {
    /// Flat ends; horizontal segments reach the cell's corners, vertical ones fit between them.
    Square,
    /// 45° points meeting at the corners (hexagonal segments, the classic LCD look).
    Bevel,
    /// Half-round ends (capsules).
    Round,
}

/// A seven-segment font.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Font {
    /// Name written to the labels.
    pub name: &'static str,
    /// Stroke width as a share of the digit width.
    pub stroke: f32,
    /// Shape of the segment ends.
    pub ends: SegmentEnds,
    /// Gap at each segment end as a share of the digit height.
    pub gap: f32,
    /// Italic slant in degrees: the top of a digit leans right.
    pub slant_deg: f32,
    /// Whether 7 also lights the top-left segment f (a "hooked" 7).
    pub seven_with_f: bool,
    /// Whether 6 lights its top bar a (its tail).
    pub six_with_a: bool,
    /// Whether 9 lights its bottom bar d (its tail).
    pub nine_with_d: bool,
}

/// The fonts lab photos are drawn with.
pub const FONTS: [Font; 8] = [
    font("classic", 0.17, SegmentEnds::Bevel, 0.025, 4.0, false, true),
    font("block", 0.20, SegmentEnds::Square, 0.012, 0.0, true, true),
    font("rounded", 0.22, SegmentEnds::Round, 0.03, 8.0, false, true),
    font("hairline", 0.10, SegmentEnds::Bevel, 0.045, 0.0, true, true),
    font("heavy", 0.24, SegmentEnds::Square, 0.0, 10.0, false, true),
    font(
        "italic-tailless",
        0.13,
        SegmentEnds::Round,
        0.05,
        12.0,
        true,
        false,
    ),
    font("gapped", 0.15, SegmentEnds::Bevel, 0.06, 2.0, false, true),
    font(
        "thin-square",
        0.09,
        SegmentEnds::Square,
        0.02,
        6.0,
        true,
        true,
    ),
];

const fn font(
    name: &'static str,
    stroke: f32,
    ends: SegmentEnds,
    gap: f32,
    slant_deg: f32,
    seven_with_f: bool,
    tails: bool,
) -> Font {
    Font {
        name,
        stroke,
        ends,
        gap,
        slant_deg,
        seven_with_f,
        six_with_a: tails,
        nine_with_d: tails,
    }
}

impl Font {
    /// The lit-segment mask of `digit` (bit0 = a … bit6 = g); values above 9 give 0.
    pub fn mask(&self, digit: u8) -> u8 {
        let mask = font_mask(digit, self.seven_with_f);
        match digit {
            6 if !self.six_with_a => mask & !SEG_A,
            9 if !self.nine_with_d => mask & !SEG_D,
            _ => mask,
        }
    }

    /// Signed distance (cell units, negative inside) from (`x`, `y`) to the nearest segment of a
    /// `w`×`h` cell, and that segment's index (0 = a … 6 = g).
    pub fn nearest_segment(&self, x: f32, y: f32, w: f32, h: f32) -> (f32, u8) {
        let mut best = (f32::MAX, 0);
        for (index, line) in segment_lines(self.half_stroke(w), w, h).iter().enumerate() {
            let sd = self.segment_distance(x, y, line, h);
            if sd < best.0 {
                best = (sd, index as u8);
            }
        }
        best
    }

    /// The middle of segment `index` (0 = a … 6 = g) in a `w`×`h` cell.
    pub fn segment_centre(&self, index: u8, w: f32, h: f32) -> (f32, f32) {
        let line = segment_lines(self.half_stroke(w), w, h)[usize::from(index.min(6))];
        ((line.x1 + line.x2) / 2.0, (line.y1 + line.y2) / 2.0)
    }

    fn half_stroke(&self, w: f32) -> f32 {
        self.stroke * w / 2.0
    }

    fn segment_distance(&self, x: f32, y: f32, line: &SegmentLine, h: f32) -> f32 {
        // Work on a horizontal segment: swap the axes of vertical ones.
        let (along, across, start, end, at) = if line.y1 == line.y2 {
            (x, y, line.x1, line.x2, line.y1)
        } else {
            (y, x, line.y1, line.y2, line.x1)
        };
        let half = line.half;
        let gap = self.gap * h;
        let side = (across - at).abs() - half;
        match self.ends {
            SegmentEnds::Bevel => {
                let dy = (across - at).abs();
                let tip1 = (start + gap + dy - along) * std::f32::consts::FRAC_1_SQRT_2;
                let tip2 = (along - end + gap + dy) * std::f32::consts::FRAC_1_SQRT_2;
                side.max(tip1).max(tip2)
            }
            SegmentEnds::Square => {
                // Horizontal bars own the corners; vertical bars fit between them.
                let reach = if line.y1 == line.y2 { half } else { -half };
                let d = (start - reach + gap - along).max(along - end - reach + gap);
                let outside = (d.max(0.0).powi(2) + side.max(0.0).powi(2)).sqrt();
                outside + d.max(side).min(0.0)
            }
            SegmentEnds::Round => {
                let (a, b) = (start + gap + half, end - gap - half);
                let t = along.clamp(a.min(b), b.max(a));
                ((along - t).powi(2) + (across - at).powi(2)).sqrt() - half
            }
        }
    }
}

/// The centre line of one segment, from corner point to corner point.
#[derive(Debug, Clone, Copy)]
struct SegmentLine {
    x1: f32,
    y1: f32,
    x2: f32,
    y2: f32,
    half: f32,
}

/// The centre lines of segments a … g of a `w`×`h` cell with half stroke `half`.
fn segment_lines(half: f32, w: f32, h: f32) -> [SegmentLine; 7] {
    let (left, right) = (half, w - half);
    let (top, mid, bottom) = (half, h / 2.0, h - half);
    let line = |x1, y1, x2, y2| SegmentLine {
        x1,
        y1,
        x2,
        y2,
        half,
    };
    [
        line(left, top, right, top),
        line(right, top, right, mid),
        line(right, mid, right, bottom),
        line(left, bottom, right, bottom),
        line(left, mid, left, bottom),
        line(left, top, left, mid),
        line(left, mid, right, mid),
    ]
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn fonts_are_distinct_and_in_range() {
        for (i, a) in FONTS.iter().enumerate() {
            assert!((0.09..=0.24).contains(&a.stroke), "{}", a.name);
            assert!((0.0..=0.06).contains(&a.gap), "{}", a.name);
            assert!((0.0..=12.0).contains(&a.slant_deg), "{}", a.name);
            for b in &FONTS[i + 1..] {
                assert_ne!(a.name, b.name);
            }
        }
        assert!(FONTS.iter().filter(|f| f.slant_deg > 0.0).count() >= 4);
        assert!(FONTS.iter().any(|f| f.seven_with_f));
        assert!(FONTS.iter().any(|f| !f.seven_with_f));
    }

    #[test]
    fn tails_follow_the_font() {
        assert_eq!(FONTS[0].mask(6), font_mask(6, false));
        let tailless = FONTS.iter().find(|f| !f.six_with_a).unwrap();
        assert_eq!(tailless.mask(6) & SEG_A, 0);
        assert_eq!(tailless.mask(9) & SEG_D, 0);
        assert_eq!(tailless.mask(8), 0x7f);
    }

    #[test]
    fn segment_centres_lie_inside_their_segment() {
        for font in FONTS {
            for index in 0..7 {
                let (x, y) = font.segment_centre(index, 20.0, 40.0);
                let (sd, nearest) = font.nearest_segment(x, y, 20.0, 40.0);
                assert_eq!(nearest, index, "{} segment {index}", font.name);
                assert!(sd < 0.0, "{} segment {index}: {sd}", font.name);
            }
        }
    }
}
