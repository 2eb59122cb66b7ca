//! The "exact crop" the anchor tools get: the labelled digits, cut from the frame with a margin.
//!
//! Inputs: a grey frame, the labelled quad around its digit cells and the labelled slant of the
//! digits. Outputs: the axis-aligned bounding box of the quad, widened by the glyphs' italic
//! overhang (the quad is the cells' box before slant), grown by [`MARGIN_SHARE`] of the digit
//! height on every side and clipped to the frame; the grey pixels inside it (with some context,
//! [`ExactCrop`]); and the [`Deskew`] that would make the digits upright.
//!
//! This is the anchors' best case: a lab using `ssocr` or `tesseract` would hand-set such a box,
//! rotation and shear once per bench; here they come from the ground truth of every photo, so the
//! anchors never pay for finding or straightening the display.

use image::GrayImage;

use super::labels::{LabelledPhoto, Quad};

/// Margin around the digits' bounding box, as a share of the digit height.
pub const MARGIN_SHARE: f32 = 0.10;

/// An axis-aligned rectangle of a frame in pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CropBox {
    /// Left edge.
    pub x: u32,
    /// Top edge.
    pub y: u32,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
}

/// The crop box of `digits_quad` (digits slanted by `slant_deg`) in a
/// `frame_width`×`frame_height` frame; `None` when the quad lies outside the frame.
pub fn exact_crop_box(
    digits_quad: &Quad,
    slant_deg: f32,
    frame_width: u32,
    frame_height: u32,
) -> Option<CropBox> {
    let height = digits_quad.height();
    let margin = MARGIN_SHARE * height;
    // The glyphs lean out of the cells' box by tan(slant) × height / 2 at the top right and the
    // bottom left.
    let overhang = slant_deg.to_radians().tan().abs() * height / 2.0;
    let xs = digits_quad.corners.map(|c| c.0);
    let ys = digits_quad.corners.map(|c| c.1);
    let low_x = xs.into_iter().fold(f32::MAX, f32::min) - margin - overhang;
    let high_x = xs.into_iter().fold(f32::MIN, f32::max) + margin + overhang;
    let low = |v: [f32; 4]| v.into_iter().fold(f32::MAX, f32::min) - margin;
    let high = |v: [f32; 4]| v.into_iter().fold(f32::MIN, f32::max) + margin;
    let clip = |v: f32, max: u32| v.clamp(0.0, max as f32) as u32;
    let (x0, x1) = (
        clip(low_x.floor(), frame_width),
        clip(high_x.ceil(), frame_width),
    );
    let (y0, y1) = (
        clip(low(ys).floor(), frame_height),
        clip(high(ys).ceil(), frame_height),
    );
    (x1 > x0 && y1 > y0).then_some(CropBox {
        x: x0,
        y: y0,
        width: x1 - x0,
        height: y1 - y0,
    })
}

/// Context kept around the exact crop box in [`ExactCrop::image`], as a share of the digit height.
pub const CONTEXT_SHARE: f32 = 0.5;

/// A photo's exact crop, with what an anchor needs to know to straighten it.
///
/// The image holds the exact crop box plus some context, so that turning it back brings in frame
/// pixels rather than blank corners; the tools read only [`ExactCrop::exact_box`] or
/// [`ExactCrop::upright_box`] of it.
#[derive(Debug, Clone, PartialEq)]
pub struct ExactCrop {
    /// The grey pixels of the crop box and its context.
    pub image: GrayImage,
    /// How the digits in the crop are turned and leaning.
    pub deskew: Deskew,
    /// The digits' height in pixels (the digits quad's).
    pub digit_height: f32,
    /// The digits quad in image coordinates.
    pub digits_quad: Quad,
}

impl ExactCrop {
    /// The exact crop of the labelled `photo` from its grey `frame`; `None` when its digits quad
    /// lies outside the frame.
    pub fn cut(frame: &GrayImage, photo: &LabelledPhoto) -> Option<ExactCrop> {
        let slant_deg = photo.slant_deg.unwrap_or(0.0);
        let exact = exact_crop_box(&photo.digits_quad, slant_deg, frame.width(), frame.height())?;
        let context = (CONTEXT_SHARE * photo.digits_quad.height()).ceil() as u32;
        let (x, y) = (
            exact.x.saturating_sub(context),
            exact.y.saturating_sub(context),
        );
        let area = CropBox {
            x,
            y,
            width: (exact.x + exact.width + context).min(frame.width()) - x,
            height: (exact.y + exact.height + context).min(frame.height()) - y,
        };
        Some(ExactCrop {
            image: image::imageops::crop_imm(frame, area.x, area.y, area.width, area.height)
                .to_image(),
            deskew: Deskew::from_labels(&photo.digits_quad, slant_deg, photo.rotation_deg),
            digit_height: photo.digits_quad.height(),
            digits_quad: Quad {
                corners: photo
                    .digits_quad
                    .corners
                    .map(|(x, y)| (x - area.x as f32, y - area.y as f32)),
            },
        })
    }

    /// The exact crop box in image coordinates.
    pub fn exact_box(&self) -> Option<CropBox> {
        let (width, height) = self.image.dimensions();
        exact_crop_box(&self.digits_quad, self.deskew.slant_deg, width, height)
    }

    /// The box around the digits once the image is turned back by the deskew's rotation about
    /// its centre (see [`Deskew::upright_box`]).
    pub fn upright_box(&self) -> Option<CropBox> {
        let (width, height) = self.image.dimensions();
        self.deskew.upright_box(&self.digits_quad, width, height)
    }
}

/// How the digits in a crop are turned and leaning, from the labels.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Deskew {
    /// Clockwise rotation of the digit row on screen, in degrees.
    pub rotation_deg: f32,
    /// Rightward lean of the digits' verticals after that rotation is undone, in degrees: the
    /// font's italic slant plus the lean perspective gives the cells.
    pub slant_deg: f32,
}

impl Deskew {
    /// The deskew of digits in `digits_quad` with the labelled font slant `slant_deg` (0 when not
    /// labelled) and in-plane rotation `rotation_deg`.
    ///
    /// The quad's own edges give the rotation and the perspective lean. An axis-aligned quad is a
    /// hand-set region around the digits rather than their outline (the simulator frames' labels),
    /// so for one the labelled rotation is used instead.
    pub fn from_labels(digits_quad: &Quad, slant_deg: f32, rotation_deg: Option<f32>) -> Deskew {
        let [tl, tr, br, bl] = digits_quad.corners;
        let along = ((tr.0 - tl.0) + (br.0 - bl.0), (tr.1 - tl.1) + (br.1 - bl.1));
        let rise = ((tl.0 - bl.0) + (tr.0 - br.0), (tl.1 - bl.1) + (tr.1 - br.1));
        let axis_aligned = tl.1 == tr.1 && bl.1 == br.1 && tl.0 == bl.0 && tr.0 == br.0;
        if axis_aligned || along.0.hypot(along.1) == 0.0 {
            return Deskew {
                rotation_deg: rotation_deg.unwrap_or(0.0),
                slant_deg,
            };
        }
        let rotation = along.1.atan2(along.0);
        let (sin, cos) = rotation.sin_cos();
        // The rise in the digit row's frame: `right` along the row, `up` perpendicular to it
        // (screen y grows downwards).
        let right = rise.0 * cos + rise.1 * sin;
        let up = rise.0 * sin - rise.1 * cos;
        let lean = right.atan2(up);
        Deskew {
            rotation_deg: rotation.to_degrees(),
            slant_deg: slant_deg + lean.to_degrees(),
        }
    }

    /// The box around the digits of a `width`×`height` crop after it is turned back by this
    /// deskew's rotation about its centre: the bounds of the turned `digits_quad` (crop
    /// coordinates), widened by the italic overhang and grown by the margin, clipped to the crop.
    pub fn upright_box(&self, digits_quad: &Quad, width: u32, height: u32) -> Option<CropBox> {
        let (cx, cy) = (width as f32 / 2.0, height as f32 / 2.0);
        let (sin, cos) = (-self.rotation_deg).to_radians().sin_cos();
        let turned = Quad {
            corners: digits_quad.corners.map(|(x, y)| {
                let (dx, dy) = (x - cx, y - cy);
                (cx + dx * cos - dy * sin, cy + dx * sin + dy * cos)
            }),
        };
        exact_crop_box(&turned, self.slant_deg, width, height)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn quad(numbers: &str) -> Quad {
        Quad::parse(numbers).unwrap()
    }

    #[test]
    fn the_box_is_the_quad_bounds_plus_a_tenth_of_the_digit_height() {
        // Digits 100 px high: 10 px margin on each side.
        let q = quad("200 100 440 100 440 200 200 200");
        let area = exact_crop_box(&q, 0.0, 640, 480).unwrap();
        assert_eq!(
            area,
            CropBox {
                x: 190,
                y: 90,
                width: 260,
                height: 120
            }
        );
        // Rotated: the box holds every corner, rounded outwards (edges 100.08 px, margin 10.008).
        let q = quad("200 90 440 80 444 180 204 190");
        let area = exact_crop_box(&q, 0.0, 640, 480).unwrap();
        assert_eq!((area.y, area.y + area.height), (69, 201));
        // Italic digits overhang the cells' box by tan(slant) × height / 2 on each side.
        let q = quad("200 100 440 100 440 200 200 200");
        let area = exact_crop_box(&q, 45.0, 640, 480).unwrap();
        assert_eq!((area.x, area.width), (140, 360));
    }

    #[test]
    fn the_box_is_clipped_to_the_frame() {
        let q = quad("-20 -10 100 -10 100 40 -20 40");
        let area = exact_crop_box(&q, 0.0, 80, 30).unwrap();
        assert_eq!(
            area,
            CropBox {
                x: 0,
                y: 0,
                width: 80,
                height: 30
            }
        );
        assert_eq!(
            exact_crop_box(&quad("700 10 800 10 800 50 700 50"), 0.0, 640, 480),
            None
        );
    }

    #[test]
    fn the_crop_holds_the_box_and_context_from_the_frame() {
        let frame = GrayImage::from_fn(64, 48, |x, y| image::Luma([(x + y) as u8]));
        let text = "file,expected,digits_quad\nf.png,123456,20 12 40 12 40 32 20 32\n";
        let photos = crate::bench::labels::parse_labels(
            text,
            std::path::Path::new("labels.csv"),
            std::path::Path::new("."),
        )
        .unwrap();
        let crop = ExactCrop::cut(&frame, &photos[0]).unwrap();
        // Exact box x 18..42, y 10..34; 10 px of context, clipped to the frame.
        assert_eq!(crop.image.dimensions(), (44, 44));
        let exact = crop.exact_box().unwrap();
        assert_eq!(
            (exact.x, exact.y, exact.width, exact.height),
            (10, 10, 24, 24)
        );
        assert_eq!(crop.image.get_pixel(exact.x, exact.y)[0], 18 + 10);
        assert_eq!(crop.digits_quad.corners[0], (12.0, 12.0));
    }

    #[test]
    fn deskew_reads_rotation_and_lean_from_the_quad() {
        // A row turned 10° clockwise whose verticals lean 5° right of its perpendicular.
        let (r, l) = (10f32.to_radians(), 5f32.to_radians());
        let (w, h) = (300.0, 60.0);
        let along = (r.cos(), r.sin());
        let up = (r.sin(), -r.cos());
        let rise = (
            h * (l.cos() * up.0 + l.sin() * along.0),
            h * (l.cos() * up.1 + l.sin() * along.1),
        );
        let bl = (100.0, 200.0);
        let br = (bl.0 + w * along.0, bl.1 + w * along.1);
        let tl = (bl.0 + rise.0, bl.1 + rise.1);
        let tr = (br.0 + rise.0, br.1 + rise.1);
        let q = Quad {
            corners: [tl, tr, br, bl],
        };
        let deskew = Deskew::from_labels(&q, 3.0, Some(-40.0));
        assert!((deskew.rotation_deg - 10.0).abs() < 1e-3, "{deskew:?}");
        assert!((deskew.slant_deg - 8.0).abs() < 1e-3, "{deskew:?}");
    }

    #[test]
    fn the_upright_box_holds_the_turned_back_digits() {
        // Digits 40 px high and 200 px wide, turned 30° clockwise about the crop's centre (150, 100).
        let (sin, cos) = 30f32.to_radians().sin_cos();
        let turn = |x: f32, y: f32| {
            let (dx, dy) = (x - 150.0, y - 100.0);
            (150.0 + dx * cos - dy * sin, 100.0 + dx * sin + dy * cos)
        };
        let q = Quad {
            corners: [
                turn(50.0, 80.0),
                turn(250.0, 80.0),
                turn(250.0, 120.0),
                turn(50.0, 120.0),
            ],
        };
        let deskew = Deskew::from_labels(&q, 0.0, None);
        assert!((deskew.rotation_deg - 30.0).abs() < 1e-3);
        let area = deskew.upright_box(&q, 300, 200).unwrap();
        assert_eq!(
            area,
            CropBox {
                x: 46,
                y: 76,
                width: 208,
                height: 48
            }
        );
    }

    #[test]
    fn an_axis_aligned_quad_takes_the_labelled_rotation() {
        let q = quad("10 10 300 10 300 80 10 80");
        let deskew = Deskew::from_labels(&q, 2.9, Some(-1.5));
        assert_eq!(
            deskew,
            Deskew {
                rotation_deg: -1.5,
                slant_deg: 2.9
            }
        );
    }
}
