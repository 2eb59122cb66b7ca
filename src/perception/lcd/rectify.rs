//! Rectify: undoes the camera's perspective on the LCD window.
//!
//! Input: a grey frame and the four corners of the LCD window in it ([`Quad`]). Output: a
//! [`Patch`], the window as seen from straight ahead, resampled through the homography between
//! the quad and an upright rectangle. The patch is always [`PATCH_HEIGHT`] rows high (a
//! large window is shrunk with two taps per axis), so reading costs the same on any frame size.

use image::GrayImage;
use serde::Serialize;

/// Rectified windows are this many rows high, whatever their size in the frame: digits of 30-60
/// rows read well, small windows are interpolated up and large ones shrunk, and a read costs the
/// same on any frame size.
pub const PATCH_HEIGHT: f32 = 96.0;

/// A point in frame pixels (x right, y down; pixel centres at integer + 0.5 are not used: pixel
/// (i, j) covers [i, i+1) × [j, j+1)).
pub type Point = [f32; 2];

/// Four corners of a quadrilateral in frame pixels: top-left, top-right, bottom-right, bottom-left
/// as the display is read (top = the digits' top).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Quad(pub [Point; 4]);

impl Quad {
    /// The axis-aligned rectangle `x, y, width, height` as a quad.
    pub fn from_rect(x: f32, y: f32, width: f32, height: f32) -> Quad {
        Quad([
            [x, y],
            [x + width, y],
            [x + width, y + height],
            [x, y + height],
        ])
    }

    /// Mean length of the top and bottom sides.
    pub fn width(&self) -> f32 {
        let [a, b, c, d] = self.0;
        0.5 * (distance(a, b) + distance(d, c))
    }

    /// Mean length of the left and right sides.
    pub fn height(&self) -> f32 {
        let [a, b, c, d] = self.0;
        0.5 * (distance(a, d) + distance(b, c))
    }

    /// The corners' centroid.
    pub fn centre(&self) -> Point {
        let mut c = [0.0, 0.0];
        for p in self.0 {
            c[0] += 0.25 * p[0];
            c[1] += 0.25 * p[1];
        }
        c
    }

    /// The quad shrunk towards its centre: each side moves in by `share` of the quad's height.
    pub fn inset(&self, share: f32) -> Quad {
        let h = Homography::from_unit_square(self);
        let (w, ht) = (self.width().max(1.0), self.height().max(1.0));
        let (du, dv) = (share * ht / w, share);
        Quad([
            h.map(du, dv),
            h.map(1.0 - du, dv),
            h.map(1.0 - du, 1.0 - dv),
            h.map(du, 1.0 - dv),
        ])
    }

    /// Twice the signed area (positive for corners in clockwise order on screen, y down).
    pub fn area(&self) -> f32 {
        let p = self.0;
        let mut twice = 0.0;
        for i in 0..4 {
            let (a, b) = (p[i], p[(i + 1) % 4]);
            twice += a[0] * b[1] - b[0] * a[1];
        }
        0.5 * twice
    }

    /// The corners rounded to 0.1 pixel, for logs and files.
    pub fn rounded(&self) -> [[f32; 2]; 4] {
        self.0.map(|p| p.map(|v| (v * 10.0).round() / 10.0))
    }
}

fn distance(a: Point, b: Point) -> f32 {
    (a[0] - b[0]).hypot(a[1] - b[1])
}

/// A plane projective map from the unit square (u right, v down) onto a quad.
#[derive(Debug, Clone, Copy)]
pub struct Homography {
    /// Row-major 3×3 matrix with the last entry 1.
    m: [f32; 9],
}

impl Homography {
    /// The map taking (0,0), (1,0), (1,1), (0,1) to the quad's corners (Heckbert's closed form).
    pub fn from_unit_square(quad: &Quad) -> Homography {
        let [[x0, y0], [x1, y1], [x2, y2], [x3, y3]] = quad.0;
        let (sx, sy) = (x0 - x1 + x2 - x3, y0 - y1 + y2 - y3);
        if sx.abs() < 1e-6 && sy.abs() < 1e-6 {
            return Homography {
                m: [x1 - x0, x3 - x0, x0, y1 - y0, y3 - y0, y0, 0.0, 0.0, 1.0],
            };
        }
        let (dx1, dx2, dy1, dy2) = (x1 - x2, x3 - x2, y1 - y2, y3 - y2);
        let det = dx1 * dy2 - dx2 * dy1;
        let det = if det.abs() < 1e-9 { 1e-9 } else { det };
        let g = (sx * dy2 - dx2 * sy) / det;
        let h = (dx1 * sy - sx * dy1) / det;
        Homography {
            m: [
                x1 - x0 + g * x1,
                x3 - x0 + h * x3,
                x0,
                y1 - y0 + g * y1,
                y3 - y0 + h * y3,
                y0,
                g,
                h,
                1.0,
            ],
        }
    }

    /// The frame point of unit-square point (u, v).
    pub fn map(&self, u: f32, v: f32) -> Point {
        let m = &self.m;
        let w = m[6] * u + m[7] * v + m[8];
        let w = if w.abs() < 1e-9 { 1e-9 } else { w };
        [
            (m[0] * u + m[1] * v + m[2]) / w,
            (m[3] * u + m[4] * v + m[5]) / w,
        ]
    }
}

/// A small grey image cut out of a frame: row-major bytes.
#[derive(Debug, Clone)]
pub struct Patch {
    /// Columns.
    pub width: usize,
    /// Rows.
    pub height: usize,
    /// `width × height` grey levels.
    pub pixels: Vec<u8>,
}

/// The quad's content resampled to an upright patch [`PATCH_HEIGHT`] rows high with the quad's
/// proportions; `None` when the quad is degenerate or too small to hold digits.
pub fn rectify(image: &GrayImage, quad: &Quad) -> Option<Patch> {
    let (qw, qh) = (quad.width(), quad.height());
    if !(qw >= 8.0 && qh >= 8.0) || quad.area().abs() < 32.0 {
        return None;
    }
    let scale = PATCH_HEIGHT / qh;
    let (width, height) = ((qw * scale).round() as usize, (qh * scale).round() as usize);
    let h = Homography::from_unit_square(quad);
    // When shrinking below half size, average two taps a half output pixel apart per axis (a
    // cheap box filter); milder shrinking keeps the strokes without it.
    let taps: &[(f32, f32)] = if scale < 0.5 {
        &[(-0.25, -0.25), (0.25, -0.25), (-0.25, 0.25), (0.25, 0.25)]
    } else {
        &[(0.0, 0.0)]
    };
    let (iw, ih) = (image.width() as usize, image.height() as usize);
    if iw < 2 || ih < 2 {
        return None;
    }
    let raw = image.as_raw();
    // Every sample lies inside the quad (a homography keeps the unit square's convex hull), or
    // within the taps' reach of it: with the quad clear of the frame's edges by that and a
    // pixel, no sample needs clamping.
    let reach = 1.0 + if taps.len() > 1 { 0.5 / scale } else { 0.0 };
    let inside = iw >= 4
        && ih >= 4
        && quad.0.iter().all(|&[x, y]| {
            x >= reach && y >= reach && x <= (iw - 2) as f32 - reach && y <= (ih - 2) as f32 - reach
        });
    let mut pixels = vec![0u8; width * height];
    let (du, dv) = (1.0 / width as f32, 1.0 / height as f32);
    let m = h.m;
    // Grey levels in 16.16 fixed point, summed over the taps.
    let mut acc = vec![0u32; width];
    for (row, out) in pixels.chunks_exact_mut(width).enumerate() {
        acc.fill(0);
        for &(tu, tv) in taps {
            let v = (row as f32 + 0.5 + tv) * dv;
            // Numerators and denominator are linear in u along a row: step them.
            let u0 = (0.5 + tu) * du;
            let w0 = m[6] * u0 + m[7] * v + m[8];
            let start = [
                m[0] * u0 + m[1] * v + m[2] - 0.5 * w0,
                m[3] * u0 + m[4] * v + m[5] - 0.5 * w0,
                w0,
            ];
            let step = [
                (m[0] - 0.5 * m[6]) * du,
                (m[3] - 0.5 * m[6]) * du,
                m[6] * du,
            ];
            for_each_along(start, step, &mut acc, |a, x, y| {
                *a += if inside {
                    bilinear_fixed(raw, iw, x, y)
                } else {
                    (bilinear(raw, iw, ih, x, y) * 65536.0) as u32
                };
            });
        }
        let n = taps.len() as u32;
        for (o, &a) in out.iter_mut().zip(&acc) {
            // At most 255 · 65536 per tap: the rounded mean fits a u8.
            *o = ((a / n + 32768) >> 16).min(255) as u8;
        }
    }
    Some(Patch {
        width,
        height,
        pixels,
    })
}

/// Calls `sample` with each of `out`'s slots and the frame point it maps to: the point whose
/// homogeneous coordinates start at `start` and move by `step` per slot. The division is exact
/// every [`SPAN`] slots and linear in between, which keeps it out of the per-pixel work: within
/// a tenth of a pixel even where the window's near side is a quarter taller than its far one.
fn for_each_along<T>(
    start: [f32; 3],
    step: [f32; 3],
    out: &mut [T],
    mut sample: impl FnMut(&mut T, f32, f32),
) {
    let [mut nx, mut ny, mut nw] = start;
    for chunk in out.chunks_mut(SPAN) {
        let n = chunk.len() as f32;
        let (x0, y0) = (nx / nw, ny / nw);
        (nx, ny, nw) = (nx + n * step[0], ny + n * step[1], nw + n * step[2]);
        let (dx, dy) = ((nx / nw - x0) / n, (ny / nw - y0) / n);
        let (mut x, mut y) = (x0, y0);
        for slot in chunk.iter_mut() {
            sample(slot, x, y);
            x += dx;
            y += dy;
        }
    }
}

/// Slots between exact divisions in [`for_each_along`].
const SPAN: usize = 16;

/// Grey level at (x, y) in pixel-centre coordinates in 16.16 fixed point, for points at least a
/// pixel inside the frame (no clamping: the caller checked). Integer weights in 1/256 steps.
fn bilinear_fixed(raw: &[u8], w: usize, x: f32, y: f32) -> u32 {
    // Non-negative inside the frame: truncation is floor.
    let (xf, yf) = ((x * 256.0) as u32, (y * 256.0) as u32);
    let (fx, fy) = (xf & 255, yf & 255);
    let i = (yf >> 8) as usize * w + (xf >> 8) as usize;
    // One bounds check for the four neighbours.
    let square = &raw[i..i + w + 2];
    let (p00, p01) = (u32::from(square[0]), u32::from(square[1]));
    let (p10, p11) = (u32::from(square[w]), u32::from(square[w + 1]));
    let top = p00 * (256 - fx) + p01 * fx;
    let bottom = p10 * (256 - fx) + p11 * fx;
    top * (256 - fy) + bottom * fy
}

/// Grey level at (x, y) in pixel-centre coordinates, clamped at the frame's edges.
pub fn bilinear(raw: &[u8], w: usize, h: usize, x: f32, y: f32) -> f32 {
    let x = x.clamp(0.0, (w - 1) as f32);
    let y = y.clamp(0.0, (h - 1) as f32);
    // Non-negative after the clamp: truncation is floor.
    let (x0, y0) = (x as usize, y as usize);
    let (x1, y1) = ((x0 + 1).min(w - 1), (y0 + 1).min(h - 1));
    let (fx, fy) = (x - x0 as f32, y - y0 as f32);
    let p = |xx: usize, yy: usize| f32::from(raw[yy * w + xx]);
    let top = p(x0, y0) + fx * (p(x1, y0) - p(x0, y0));
    let bottom = p(x0, y1) + fx * (p(x1, y1) - p(x0, y1));
    top + fy * (bottom - top)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn homography_maps_the_unit_square_onto_the_corners() {
        let quad = Quad([[10.0, 20.0], [110.0, 25.0], [105.0, 60.0], [12.0, 50.0]]);
        let h = Homography::from_unit_square(&quad);
        for (uv, corner) in [(0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0)]
            .iter()
            .zip(quad.0)
        {
            let p = h.map(uv.0, uv.1);
            assert!((p[0] - corner[0]).abs() < 1e-3 && (p[1] - corner[1]).abs() < 1e-3);
        }
    }

    #[test]
    fn rectifying_a_rectangle_copies_its_pixels() {
        let image = GrayImage::from_fn(250, 120, |x, y| image::Luma([(x + y) as u8]));
        let patch = rectify(&image, &Quad::from_rect(5.0, 4.0, 200.0, 96.0)).expect("patch");
        assert_eq!((patch.width, patch.height), (200, 96));
        assert_eq!(patch.pixels[0], image.get_pixel(5, 4)[0]);
        assert_eq!(patch.pixels[200 * 95 + 199], image.get_pixel(204, 99)[0]);
    }

    #[test]
    fn a_window_at_the_frame_edge_is_sampled_with_clamping() {
        let image = GrayImage::from_fn(250, 120, |x, y| image::Luma([(x + 2 * y) as u8]));
        // Touches the left and top edges: the clamped path; the same pixels as a copy.
        let patch = rectify(&image, &Quad::from_rect(0.0, 0.0, 200.0, 96.0)).expect("patch");
        assert_eq!(patch.pixels[0], image.get_pixel(0, 0)[0]);
        assert_eq!(patch.pixels[200 * 95 + 199], image.get_pixel(199, 95)[0]);
        // Shrunk with taps reaching past the edge: still a value between its neighbours.
        let small = rectify(&image, &Quad::from_rect(0.0, 0.0, 250.0, 120.0)).expect("patch");
        assert!(small.pixels[0] <= image.get_pixel(1, 1)[0] + 1);
    }

    #[test]
    fn stepping_along_a_row_stays_on_the_exact_mapping() {
        // A window filling a 640×480 frame, seen at an angle: its near side a quarter taller
        // than the far one (a bench camera tilted well over 15°).
        let quad = Quad([[40.0, 60.0], [600.0, 47.5], [600.0, 172.5], [40.0, 160.0]]);
        let h = Homography::from_unit_square(&quad);
        let width = 400;
        let du = 1.0 / width as f32;
        for v in [0.1, 0.5, 0.9] {
            let start = [
                h.m[2] + h.m[1] * v,
                h.m[5] + h.m[4] * v,
                h.m[8] + h.m[7] * v,
            ];
            let step = [h.m[0] * du, h.m[3] * du, h.m[6] * du];
            let mut worst = 0f32;
            let mut slots = vec![0usize; width];
            let mut k = 0;
            for_each_along(start, step, &mut slots, |_, x, y| {
                let exact = h.map(k as f32 * du, v);
                worst = worst.max((x - exact[0]).abs()).max((y - exact[1]).abs());
                k += 1;
            });
            assert_eq!(k, width);
            assert!(worst < 0.1, "{worst} px off the exact mapping at v = {v}");
        }
    }

    #[test]
    fn inset_keeps_the_shape_inside() {
        let quad = Quad::from_rect(0.0, 0.0, 100.0, 20.0);
        let inner = quad.inset(0.1);
        assert_eq!(inner.rounded()[0], [2.0, 2.0]);
        assert_eq!(inner.rounded()[2], [98.0, 18.0]);
    }
}
