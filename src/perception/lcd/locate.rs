//! Locate: finds the LCD window in a whole camera frame with no region given.
//!
//! Input: a grey frame (640×480 and up). Output: candidate windows as [`Quad`]s, most window-like
//! first. A window is a light, nearly rectangular area (wider than high) enclosed by a darker
//! body; printed labels, glare and the bench produce other light areas, so several candidates are
//! returned and the reader keeps the one that reads.
//!
//! How: the frame is shrunk to about 160 columns; light areas are the connected components above a
//! few thresholds between the dark and light grey levels (Otsu's split); components that touch
//! the frame's edge, are too small or too far from a rectangle are dropped; the corners of the
//! rest come from their outline, and each side is then refined at full resolution to the
//! strongest dark-to-light edge and intersected with its neighbours.

use image::GrayImage;

use super::rectify::{Point, Quad, bilinear};

/// At most this many candidates are returned.
pub const MAX_CANDIDATES: usize = 4;
/// The frame is shrunk to about this many columns for the search.
const SEARCH_COLUMNS: u32 = 160;
/// The light and dark halves of the frame must differ by this many grey levels to hold a window.
const MIN_SPLIT: f32 = 24.0;
/// Components filling less of their bounding rectangle than this are no window.
const MIN_RECTANGULARITY: f32 = 0.78;
/// Width over height of a window.
const ASPECT_RANGE: (f32, f32) = (1.3, 10.0);
/// Smallest window, as a share of the shrunk frame's area.
const MIN_AREA_SHARE: f32 = 0.004;
/// Largest window, as a share of the shrunk frame's area.
const MAX_AREA_SHARE: f32 = 0.6;

/// Candidate LCD windows in `frame`, most window-like first.
pub fn find_windows(frame: &GrayImage) -> Vec<Quad> {
    let small = Shrunk::of(frame);
    let Some((dark, light, otsu)) = split_levels(&small.pixels) else {
        return Vec::new();
    };
    let mut found: Vec<Candidate> = Vec::new();
    for threshold in [
        dark + 0.3 * (light - dark),
        otsu,
        dark + 0.7 * (light - dark),
    ] {
        for c in components(&small, threshold) {
            let duplicate = found.iter_mut().find(|f| f.same_place(&c));
            match duplicate {
                Some(f) if c.score > f.score => *f = c,
                Some(_) => {}
                None => found.push(c),
            }
        }
    }
    found.sort_by(|a, b| b.score.total_cmp(&a.score));
    found.truncate(MAX_CANDIDATES);
    let factor = small.factor as f32;
    found
        .iter()
        .map(|c| {
            let coarse = Quad(c.corners.map(|p| [p[0] * factor, p[1] * factor]));
            refine(frame, &coarse, factor).unwrap_or(coarse)
        })
        .collect()
}

/// True when `quad` still frames a window in `frame`: light inside, darker just outside.
pub fn framed(frame: &GrayImage, quad: &Quad) -> bool {
    let inner = quad.inset(0.12);
    let outer = quad.inset(-0.12);
    let (w, h) = (frame.width() as usize, frame.height() as usize);
    if outer
        .0
        .iter()
        .any(|p| p[0] < 0.0 || p[1] < 0.0 || p[0] >= w as f32 || p[1] >= h as f32)
    {
        return false;
    }
    let raw = frame.as_raw();
    let ring = |q: &Quad| -> f32 {
        let mut values = Vec::with_capacity(32);
        for i in 0..4 {
            let (a, b) = (q.0[i], q.0[(i + 1) % 4]);
            for k in 1..8 {
                let t = k as f32 / 8.0;
                let x = a[0] + t * (b[0] - a[0]);
                let y = a[1] + t * (b[1] - a[1]);
                values.push(bilinear(raw, w, h, x - 0.5, y - 0.5));
            }
        }
        values.sort_by(f32::total_cmp);
        values[values.len() / 2]
    };
    let (inside, outside) = (ring(&inner), ring(&outer));
    inside > outside + MIN_SPLIT && inside > 1.3 * outside
}

/// The frame shrunk by an integer factor (box average).
struct Shrunk {
    factor: u32,
    width: usize,
    height: usize,
    pixels: Vec<u8>,
}

impl Shrunk {
    fn of(frame: &GrayImage) -> Shrunk {
        let factor = (frame.width() / SEARCH_COLUMNS).max(1);
        let (fw, f) = (frame.width() as usize, factor as usize);
        let (width, height) = (fw / f, frame.height() as usize / f);
        let raw = frame.as_raw();
        let mut sums = vec![0u32; width * height];
        for (y, row) in raw.chunks_exact(fw).enumerate().take(height * f) {
            let out = &mut sums[(y / f) * width..(y / f + 1) * width];
            for (o, block) in out.iter_mut().zip(row.chunks_exact(f)) {
                *o += block.iter().map(|&p| u32::from(p)).sum::<u32>();
            }
        }
        let area = (f * f) as u32;
        Shrunk {
            factor,
            width,
            height,
            pixels: sums.iter().map(|&s| (s / area) as u8).collect(),
        }
    }
}

/// Mean grey level of the dark and light classes and Otsu's threshold between them; `None` when
/// the frame has no contrast worth searching (a covered lens).
fn split_levels(pixels: &[u8]) -> Option<(f32, f32, f32)> {
    let mut hist = [0u64; 256];
    for &p in pixels {
        hist[usize::from(p)] += 1;
    }
    let total = pixels.len() as f64;
    let sum: f64 = hist
        .iter()
        .enumerate()
        .map(|(i, &c)| i as f64 * c as f64)
        .sum();
    let (mut weight, mut partial, mut best) = (0f64, 0f64, (0f64, 0usize));
    for (level, &count) in hist.iter().enumerate() {
        weight += count as f64;
        partial += level as f64 * count as f64;
        if weight == 0.0 || weight == total {
            continue;
        }
        let (m0, m1) = (partial / weight, (sum - partial) / (total - weight));
        let between = weight * (total - weight) * (m0 - m1) * (m0 - m1);
        if between > best.0 {
            best = (between, level);
        }
    }
    let t = best.1;
    let (mut w0, mut s0) = (0f64, 0f64);
    for (level, &count) in hist.iter().enumerate().take(t + 1) {
        w0 += count as f64;
        s0 += level as f64 * count as f64;
    }
    if w0 == 0.0 || w0 == total {
        return None;
    }
    let (dark, light) = ((s0 / w0) as f32, ((sum - s0) / (total - w0)) as f32);
    (light - dark >= MIN_SPLIT).then_some((dark, light, t as f32 + 0.5))
}

/// A light component that may be the window, in shrunk-frame pixels.
#[derive(Debug, Clone)]
struct Candidate {
    /// TL, TR, BR, BL from the outline.
    corners: [Point; 4],
    centre: Point,
    length: f32,
    score: f32,
}

impl Candidate {
    fn same_place(&self, other: &Candidate) -> bool {
        let d = (self.centre[0] - other.centre[0]).hypot(self.centre[1] - other.centre[1]);
        d < 0.2 * self.length.min(other.length)
            && (self.length / other.length).clamp(0.0, 10.0) > 0.7
            && (other.length / self.length).clamp(0.0, 10.0) > 0.7
    }
}

/// Running statistics of one component.
#[derive(Debug, Clone, Default)]
struct Blob {
    area: u32,
    sx: f64,
    sy: f64,
    sxx: f64,
    sxy: f64,
    syy: f64,
    top: usize,
    bottom: usize,
    left: usize,
    right: usize,
    touches_edge: bool,
}

/// Window-like light components of the shrunk frame above `threshold`.
fn components(small: &Shrunk, threshold: f32) -> Vec<Candidate> {
    let (w, h) = (small.width, small.height);
    if w < 8 || h < 8 {
        return Vec::new();
    }
    let light: Vec<bool> = small
        .pixels
        .iter()
        .map(|&p| f32::from(p) > threshold)
        .collect();
    let mut label = vec![u32::MAX; w * h];
    let mut blobs: Vec<Blob> = Vec::new();
    let mut stack: Vec<usize> = Vec::new();
    for start in 0..w * h {
        if !light[start] || label[start] != u32::MAX {
            continue;
        }
        let id = blobs.len() as u32;
        let mut blob = Blob {
            top: usize::MAX,
            left: usize::MAX,
            ..Blob::default()
        };
        label[start] = id;
        stack.push(start);
        while let Some(i) = stack.pop() {
            let (x, y) = (i % w, i / w);
            blob.area += 1;
            let (fx, fy) = (x as f64, y as f64);
            blob.sx += fx;
            blob.sy += fy;
            blob.sxx += fx * fx;
            blob.sxy += fx * fy;
            blob.syy += fy * fy;
            blob.top = blob.top.min(y);
            blob.bottom = blob.bottom.max(y);
            blob.left = blob.left.min(x);
            blob.right = blob.right.max(x);
            if x == 0 || y == 0 || x == w - 1 || y == h - 1 {
                blob.touches_edge = true;
            }
            let mut visit = |j: usize| {
                if light[j] && label[j] == u32::MAX {
                    label[j] = id;
                    stack.push(j);
                }
            };
            if x > 0 {
                visit(i - 1);
            }
            if x + 1 < w {
                visit(i + 1);
            }
            if y > 0 {
                visit(i - w);
            }
            if y + 1 < h {
                visit(i + w);
            }
        }
        blobs.push(blob);
    }
    let total = (w * h) as f32;
    let mut out = Vec::new();
    for (id, blob) in blobs.iter().enumerate() {
        let area = blob.area as f32;
        if blob.touches_edge
            || area < MIN_AREA_SHARE * total
            || area > MAX_AREA_SHARE * total
            || blob.right - blob.left < 6
            || blob.bottom - blob.top < 3
        {
            continue;
        }
        if let Some(c) = describe(blob, id as u32, &label, w) {
            out.push(c);
        }
    }
    out
}

/// Orientation, outline corners and window-likeness of a component; `None` if it is no window.
fn describe(blob: &Blob, id: u32, label: &[u32], w: usize) -> Option<Candidate> {
    let n = f64::from(blob.area);
    let (mx, my) = (blob.sx / n, blob.sy / n);
    let (cxx, cxy, cyy) = (
        blob.sxx / n - mx * mx,
        blob.sxy / n - mx * my,
        blob.syy / n - my * my,
    );
    let angle = 0.5 * (2.0 * cxy).atan2(cxx - cyy);
    if angle.abs() > std::f64::consts::FRAC_PI_4 {
        return None;
    }
    let (cos, sin) = (angle.cos() as f32, angle.sin() as f32);
    let (mx, my) = (mx as f32, my as f32);
    // The outline: the first and last pixel of the component on each row (holes left by the
    // digits do not matter), which also gives the area with holes filled.
    let mut outline: Vec<Point> = Vec::new();
    let mut filled = 0usize;
    for y in blob.top..=blob.bottom {
        let row = &label[y * w + blob.left..=y * w + blob.right];
        let first = row.iter().position(|&l| l == id);
        let last = row.iter().rposition(|&l| l == id);
        if let (Some(a), Some(b)) = (first, last) {
            filled += b - a + 1;
            let yc = y as f32 + 0.5;
            outline.push([(blob.left + a) as f32, yc]);
            outline.push([(blob.left + b) as f32 + 1.0, yc]);
        }
    }
    // Extents along the component's axes.
    let along = |p: &Point| (p[0] - mx) * cos + (p[1] - my) * sin;
    let across = |p: &Point| -(p[0] - mx) * sin + (p[1] - my) * cos;
    let (mut u0, mut u1, mut v0, mut v1) = (f32::MAX, f32::MIN, f32::MAX, f32::MIN);
    for p in &outline {
        let (u, v) = (along(p), across(p));
        u0 = u0.min(u);
        u1 = u1.max(u);
        v0 = v0.min(v);
        v1 = v1.max(v);
    }
    let (length, breadth) = (u1 - u0, v1 - v0);
    if breadth < 2.0 {
        return None;
    }
    let aspect = length / breadth;
    let rectangularity = filled as f32 / (length * breadth);
    if !(ASPECT_RANGE.0..=ASPECT_RANGE.1).contains(&aspect) || rectangularity < MIN_RECTANGULARITY {
        return None;
    }
    // Corners: the outline points farthest towards each diagonal of the axis-aligned box.
    let mut corners = [[0.0f32; 2]; 4];
    let directions = [(-1.0, -1.0), (1.0, -1.0), (1.0, 1.0), (-1.0, 1.0)];
    for (corner, (du, dv)) in corners.iter_mut().zip(directions) {
        let mut best = f32::MIN;
        for p in &outline {
            let s = du * along(p) / length + dv * across(p) / breadth;
            if s > best {
                best = s;
                *corner = *p;
            }
        }
    }
    Some(Candidate {
        corners,
        centre: [mx, my],
        length,
        score: filled as f32 * rectangularity.min(1.0),
    })
}

/// Moves each side of `coarse` onto the strongest dark-to-light edge within a few shrunk pixels
/// and intersects neighbouring sides; `None` when a side finds too little edge.
fn refine(frame: &GrayImage, coarse: &Quad, factor: f32) -> Option<Quad> {
    let (w, h) = (frame.width() as usize, frame.height() as usize);
    let raw = frame.as_raw();
    let reach = 1.5 * factor + 2.0;
    let centre = coarse.centre();
    let mut lines = [(0.0f32, 0.0f32, 0.0f32); 4];
    for (side, line) in lines.iter_mut().enumerate() {
        let (a, b) = (coarse.0[side], coarse.0[(side + 1) % 4]);
        let (dx, dy) = (b[0] - a[0], b[1] - a[1]);
        let len = dx.hypot(dy);
        if len < 4.0 {
            return None;
        }
        // Unit normal pointing into the window.
        let (mut nx, mut ny) = (-dy / len, dx / len);
        let mid = [(a[0] + b[0]) / 2.0, (a[1] + b[1]) / 2.0];
        if (centre[0] - mid[0]) * nx + (centre[1] - mid[1]) * ny < 0.0 {
            nx = -nx;
            ny = -ny;
        }
        let mut points: Vec<Point> = Vec::new();
        let samples = 20;
        for k in 0..samples {
            let t = 0.12 + 0.76 * k as f32 / (samples - 1) as f32;
            let (px, py) = (a[0] + t * dx, a[1] + t * dy);
            let mut best = (0.0f32, 0.0f32);
            let step = 0.5;
            let mut s = -reach;
            let mut previous = bilinear(raw, w, h, px + s * nx - 0.5, py + s * ny - 0.5);
            while s < reach {
                let next = bilinear(
                    raw,
                    w,
                    h,
                    px + (s + 2.0 * step) * nx - 0.5,
                    py + (s + 2.0 * step) * ny - 0.5,
                );
                let rise = next - previous;
                if rise > best.0 {
                    best = (rise, s + step);
                }
                s += step;
                previous = bilinear(raw, w, h, px + s * nx - 0.5, py + s * ny - 0.5);
            }
            if best.0 > MIN_SPLIT * 0.5 {
                points.push([px + best.1 * nx, py + best.1 * ny]);
            }
        }
        if points.len() < samples / 3 {
            return None;
        }
        *line = fit_line(&points)?;
    }
    let mut corners = [[0.0f32; 2]; 4];
    for (i, corner) in corners.iter_mut().enumerate() {
        *corner = intersect(lines[(i + 3) % 4], lines[i])?;
    }
    let refined = Quad(corners);
    let ratio = refined.area() / coarse.area();
    let moved = corners
        .iter()
        .zip(coarse.0)
        .all(|(p, q)| (p[0] - q[0]).hypot(p[1] - q[1]) < 2.5 * reach);
    (moved && (0.7..1.4).contains(&ratio)).then_some(refined)
}

/// Total-least-squares line `n·p = c` (unit normal `n = (a, b)`) through points, refitted once
/// without those more than 1.5 pixels off.
fn fit_line(points: &[Point]) -> Option<(f32, f32, f32)> {
    let fit = |pts: &[Point]| -> Option<(f32, f32, f32)> {
        let n = pts.len() as f32;
        if n < 2.0 {
            return None;
        }
        let mx = pts.iter().map(|p| p[0]).sum::<f32>() / n;
        let my = pts.iter().map(|p| p[1]).sum::<f32>() / n;
        let (mut sxx, mut sxy, mut syy) = (0f32, 0f32, 0f32);
        for p in pts {
            let (dx, dy) = (p[0] - mx, p[1] - my);
            sxx += dx * dx;
            sxy += dx * dy;
            syy += dy * dy;
        }
        // Direction of largest spread; the normal is perpendicular to it.
        let theta = 0.5 * (2.0 * sxy).atan2(sxx - syy);
        let (a, b) = (-theta.sin(), theta.cos());
        Some((a, b, a * mx + b * my))
    };
    let first = fit(points)?;
    let kept: Vec<Point> = points
        .iter()
        .copied()
        .filter(|p| (first.0 * p[0] + first.1 * p[1] - first.2).abs() <= 1.5)
        .collect();
    if kept.len() >= points.len() / 2 && kept.len() >= 3 {
        fit(&kept)
    } else {
        Some(first)
    }
}

/// The crossing point of two lines `a·x + b·y = c`.
fn intersect(l1: (f32, f32, f32), l2: (f32, f32, f32)) -> Option<Point> {
    let det = l1.0 * l2.1 - l1.1 * l2.0;
    if det.abs() < 1e-4 {
        return None;
    }
    Some([
        (l1.2 * l2.1 - l1.1 * l2.2) / det,
        (l1.0 * l2.2 - l1.2 * l2.0) / det,
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A dark body with a light, rotated window on a mid-grey bench.
    fn frame_with_window(angle_deg: f32) -> (GrayImage, Quad) {
        let (cx, cy, hw, hh) = (320.0f32, 200.0f32, 150.0f32, 50.0f32);
        let (c, s) = (angle_deg.to_radians().cos(), angle_deg.to_radians().sin());
        let corner = |u: f32, v: f32| [cx + u * c - v * s, cy + u * s + v * c];
        let quad = Quad([
            corner(-hw, -hh),
            corner(hw, -hh),
            corner(hw, hh),
            corner(-hw, hh),
        ]);
        let image = GrayImage::from_fn(640, 480, |x, y| {
            let (dx, dy) = (x as f32 + 0.5 - cx, y as f32 + 0.5 - cy);
            let (u, v) = (dx * c + dy * s, -dx * s + dy * c);
            let level = if u.abs() < hw && v.abs() < hh {
                190
            } else if u.abs() < hw + 40.0 && v.abs() < hh + 120.0 {
                40
            } else {
                110
            };
            image::Luma([level])
        });
        (image, quad)
    }

    #[test]
    fn finds_the_corners_of_a_rotated_window() {
        for angle in [-12.0, 0.0, 7.0] {
            let (image, truth) = frame_with_window(angle);
            let found = find_windows(&image);
            let quad = found.first().expect("a window");
            for (p, q) in quad.0.iter().zip(truth.0) {
                let miss = (p[0] - q[0]).hypot(p[1] - q[1]);
                assert!(miss < 1.5, "angle {angle}: corner {p:?} vs {q:?}");
            }
            assert!(framed(&image, quad));
        }
    }

    #[test]
    fn a_flat_frame_has_no_window() {
        assert!(find_windows(&GrayImage::from_pixel(640, 480, image::Luma([5]))).is_empty());
        assert!(find_windows(&GrayImage::from_pixel(640, 480, image::Luma([200]))).is_empty());
    }
}
