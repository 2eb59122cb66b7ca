//! Locate: finds the LCD window in a whole camera frame with no region given.
//!
//! Input: a grey frame (640×480 and up). Output: candidate windows as [`Quad`]s, most window-like
//! first. A window is a light, nearly rectangular area (wider than high) enclosed by a darker
//! body; printed labels, glare and the bench produce other light areas, so several candidates are
//! returned and the reader keeps the one that reads.
//!
//! How: the frame is shrunk to about 160 columns; light areas are the connected components above a
//! few global levels (between the dark and light classes of Otsu's split) and of a local one
//! (each pixel against the middle of its neighbourhood, which keeps a window apart from glare
//! that joins it to the frame's edge); components that touch the frame's edge, are too small or
//! fill too little of their box are dropped, and of two outlines of one place the lighter (the
//! panel inside a lighter bezel) is kept. One that fills its box less well (a window under strong
//! tilt is a trapezoid) is kept only where it matches its fitted quadrilateral and no component
//! fills its box. Each side is a line fitted to the middle of the component's
//! outline, so a rounded or glare-eaten corner does not pull it; each side is then refined at full
//! resolution to the outermost strong dark-to-light edge that reaches the panel's level (a side
//! that finds none keeps its coarse line), and neighbouring sides are intersected.

use image::GrayImage;

use super::rectify::{Point, Quad, bilinear};

/// At most this many candidates are returned.
pub const MAX_CANDIDATES: usize = 4;
/// The frame is shrunk to about this many columns for the search.
const SEARCH_COLUMNS: u32 = 160;
/// The light and dark halves of the frame must differ by this many grey levels to hold a window.
const MIN_SPLIT: f32 = 24.0;
/// Components filling less of their box along their axes than this are skewed: kept only where
/// they match their fitted quadrilateral this well (see [`overlap_with`]) and nothing in the
/// frame fills its box.
const MIN_RECTANGULARITY: f32 = 0.86;
/// Components filling less than this of their box along their axes are no window. Looser than
/// [`MIN_RECTANGULARITY`]: a window under tilt is a trapezoid (0.81 for a window and its light
/// bezel tilted 7° both ways and turned 13°).
const MIN_BOX_FILL: f32 = 0.75;
/// Of two outlines of one place, the one more rectangular by this much is kept.
const RECTANGULARITY_MARGIN: f32 = 0.02;
/// A lighter outline of the same place is kept when it has at least this share of the area.
const NESTED_AREA: f32 = 0.7;
/// Width over height of a window.
const ASPECT_RANGE: (f32, f32) = (1.3, 10.0);
/// Smallest window, as a share of the shrunk frame's area.
const MIN_AREA_SHARE: f32 = 0.004;
/// Largest window, as a share of the shrunk frame's area.
const MAX_AREA_SHARE: f32 = 0.6;
/// A rise counts as the panel's edge when it climbs past this share of the way from the dark
/// outside to the lightest level just inside.
const PANEL_SHARE: f32 = 0.65;
/// Outline points within this many shrunk pixels of a side's line count as on it.
const OUTLINE_TOLERANCE: f32 = 0.75;
/// Edge points within this many frame pixels of a side's line count as on it.
const EDGE_TOLERANCE: f32 = 1.0;
/// Spacing, in frame pixels, of the samples across a side when refining it.
const STEP: f32 = 0.5;
/// Half the side of the neighbourhood, in shrunk pixels, that judges a pixel light or dark.
const LOCAL_RADIUS: usize = 4;

/// Candidate LCD windows in `frame`, most window-like first.
pub fn find_windows(frame: &GrayImage) -> Vec<Quad> {
    let small = Shrunk::of(frame);
    let Some((dark, light, otsu)) = split_levels(&small.pixels) else {
        return Vec::new();
    };
    let mut masks: Vec<Vec<bool>> = [
        dark + 0.3 * (light - dark),
        otsu,
        dark + 0.7 * (light - dark),
    ]
    .iter()
    .map(|&t| small.pixels.iter().map(|&p| f32::from(p) > t).collect())
    .collect();
    masks.push(local_mask(&small, otsu));
    let mut found: Vec<Candidate> = Vec::new();
    for mask in &masks {
        for c in components(&small, mask) {
            let duplicate = found.iter_mut().find(|f| f.same_place(&c));
            match duplicate {
                Some(f) if c.better_outline(f) => *f = c,
                Some(_) => {}
                None => found.push(c),
            }
        }
    }
    // Skewed outlines only where nothing fills its box: beside a window that does, they are
    // lesser shapes (a label smeared round by blur, a window run together with a sticker).
    // (So a window under strong tilt is still missed beside an upright label, as before skewed
    // outlines counted at all.)
    if found.iter().any(|c| !c.skewed) {
        found.retain(|c| !c.skewed);
    }
    found.sort_by(|a, b| b.score.total_cmp(&a.score));
    found.truncate(MAX_CANDIDATES);
    let factor = small.factor as f32;
    found
        .iter()
        .map(|c| {
            let coarse = Quad(c.corners.map(|p| [p[0] * factor, p[1] * factor]));
            refine(frame, &coarse, factor)
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
        let scale = 1.0 / (f * f) as f32;
        Shrunk {
            factor,
            width,
            height,
            pixels: sums.iter().map(|&s| (s as f32 * scale) as u8).collect(),
        }
    }
}

/// Mean grey level of the dark and light classes and Otsu's threshold between them; `None` when
/// the pixels have no contrast worth searching (a covered lens).
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
    /// Pixels in the outline (rows filled across) times the box fill: larger and squarer first.
    score: f32,
    /// Share of the fitted quadrilateral that the component fills.
    rectangularity: f32,
    /// Mean grey level.
    level: f32,
    /// Pixels in the component.
    area: f32,
    /// Fills less than [`MIN_RECTANGULARITY`] of its box along its axes (but matches its fitted
    /// quadrilateral): a window under tilt, or one run together with a sticker beside it.
    skewed: bool,
}

impl Candidate {
    /// True when `self` outlines the same place better than `other`: one that fills its box
    /// rather than a skewed one (which may hold the window and a sticker beside it); a lighter
    /// component of about the same size and shape (the panel rather than the panel and its
    /// lighter bezel); else the bigger one.
    fn better_outline(&self, other: &Candidate) -> bool {
        if self.skewed != other.skewed {
            return other.skewed;
        }
        let (lighter, darker) = if self.level > other.level {
            (self, other)
        } else {
            (other, self)
        };
        let panel = lighter.area >= NESTED_AREA * darker.area
            && lighter.squareness() >= darker.squareness() - RECTANGULARITY_MARGIN;
        if panel {
            std::ptr::eq(lighter, self)
        } else {
            self.score > other.score
        }
    }

    /// How close the component comes to filling its fitted quadrilateral exactly (1 at best).
    fn squareness(&self) -> f32 {
        1.0 - (1.0 - self.rectangularity).abs()
    }

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
    /// Sum of the grey levels.
    level: u64,
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

/// Light pixels judged by their neighbourhood (Bernsen's method): above the middle of the
/// darkest and lightest level within [`LOCAL_RADIUS`] where those differ by [`MIN_SPLIT`], above
/// `fallback` elsewhere. Unlike a global level this keeps a dimly lit window apart from glare on
/// the body or bench next to it: the body just outside the window always falls below the middle.
fn local_mask(small: &Shrunk, fallback: f32) -> Vec<bool> {
    let (w, h) = (small.width, small.height);
    let r = LOCAL_RADIUS;
    // Separable minimum and maximum filters, written as element-wise passes over shifted rows so
    // that they vectorise.
    let (mut lo, mut hi) = (small.pixels.clone(), small.pixels.clone());
    for y in 0..h {
        let row = &small.pixels[y * w..(y + 1) * w];
        let (lo, hi) = (&mut lo[y * w..(y + 1) * w], &mut hi[y * w..(y + 1) * w]);
        for d in 1..=r.min(w - 1) {
            for ((l, u), &p) in lo[..w - d].iter_mut().zip(&mut hi[..w - d]).zip(&row[d..]) {
                *l = (*l).min(p);
                *u = (*u).max(p);
            }
            for ((l, u), &p) in lo[d..].iter_mut().zip(&mut hi[d..]).zip(&row[..w - d]) {
                *l = (*l).min(p);
                *u = (*u).max(p);
            }
        }
    }
    let mut mask = vec![false; w * h];
    let (mut a, mut b) = (vec![0u8; w], vec![0u8; w]);
    for y in 0..h {
        a.copy_from_slice(&lo[y * w..(y + 1) * w]);
        b.copy_from_slice(&hi[y * w..(y + 1) * w]);
        for k in y.saturating_sub(r)..(y + r + 1).min(h) {
            let (l, u) = (&lo[k * w..(k + 1) * w], &hi[k * w..(k + 1) * w]);
            for (((a, b), &l), &u) in a.iter_mut().zip(b.iter_mut()).zip(l).zip(u) {
                *a = (*a).min(l);
                *b = (*b).max(u);
            }
        }
        let row = &small.pixels[y * w..(y + 1) * w];
        for (((m, &p), &a), &b) in mask[y * w..(y + 1) * w].iter_mut().zip(row).zip(&a).zip(&b) {
            *m = if b - a >= MIN_SPLIT as u8 {
                2 * u16::from(p) > u16::from(a) + u16::from(b)
            } else {
                f32::from(p) > fallback
            };
        }
    }
    mask
}

/// Window-like components of the light pixels `mask` of the shrunk frame.
fn components(small: &Shrunk, light: &[bool]) -> Vec<Candidate> {
    let (w, h) = (small.width, small.height);
    if w < 8 || h < 8 {
        return Vec::new();
    }
    let mut label = vec![u32::MAX; w * h];
    let mut blobs: Vec<Blob> = Vec::new();
    // Pixels to visit as (x, y), which spares a division per pixel.
    let mut stack: Vec<(usize, usize)> = Vec::new();
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
        stack.push((start % w, start / w));
        while let Some((x, y)) = stack.pop() {
            let i = y * w + x;
            blob.area += 1;
            blob.level += u64::from(small.pixels[i]);
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
            let mut visit = |j: usize, x: usize, y: usize| {
                if light[j] && label[j] == u32::MAX {
                    label[j] = id;
                    stack.push((x, y));
                }
            };
            if x > 0 {
                visit(i - 1, x - 1, y);
            }
            if x + 1 < w {
                visit(i + 1, x + 1, y);
            }
            if y > 0 {
                visit(i - w, x, y - 1);
            }
            if y + 1 < h {
                visit(i + w, x, y + 1);
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

/// Orientation, corners and window-likeness of a component; `None` if it is no window.
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
    // The outline: the first and last pixel of the component on each row and each column (holes
    // left by the digits do not matter); the rows also give the area with holes filled.
    let mut outline: Vec<Point> = Vec::new();
    let mut filled = 0usize;
    // Each row's span: its centre line, first and last edge.
    let mut spans: Vec<(f32, f32, f32)> = Vec::new();
    for y in blob.top..=blob.bottom {
        let row = &label[y * w + blob.left..=y * w + blob.right];
        let first = row.iter().position(|&l| l == id);
        let last = row.iter().rposition(|&l| l == id);
        if let (Some(a), Some(b)) = (first, last) {
            filled += b - a + 1;
            let yc = y as f32 + 0.5;
            let (x0, x1) = ((blob.left + a) as f32, (blob.left + b) as f32 + 1.0);
            outline.push([x0, yc]);
            outline.push([x1, yc]);
            spans.push((yc, x0, x1));
        }
    }
    for x in blob.left..=blob.right {
        let inside = |y: &usize| label[y * w + x] == id;
        let first = (blob.top..=blob.bottom).find(inside);
        let last = (blob.top..=blob.bottom).rev().find(inside);
        if let (Some(a), Some(b)) = (first, last) {
            let xc = x as f32 + 0.5;
            outline.push([xc, a as f32]);
            outline.push([xc, b as f32 + 1.0]);
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
    let box_fill = filled as f32 / (length * breadth);
    if !(ASPECT_RANGE.0..=ASPECT_RANGE.1).contains(&aspect) || box_fill < MIN_BOX_FILL {
        return None;
    }
    // First guess: the outline points farthest towards each diagonal of the axis-aligned box.
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
    // Then lines fitted to the middle of each side, so that a rounded or clipped corner does
    // not pull its two sides.
    for _ in 0..2 {
        let mut lines = [(0.0f32, 0.0f32, 0.0f32); 4];
        for (side, line) in lines.iter_mut().enumerate() {
            let (a, b) = (corners[side], corners[(side + 1) % 4]);
            let chord = line_through(a, b)?;
            let tolerance = (0.12 * breadth).max(1.5);
            let near: Vec<Point> = outline
                .iter()
                .copied()
                .filter(|p| {
                    let t = position_on(a, b, *p);
                    (0.12..=0.88).contains(&t) && distance_to(chord, *p).abs() <= tolerance
                })
                .collect();
            *line = if near.len() >= 4 {
                fit_line(&near, OUTLINE_TOLERANCE).unwrap_or(chord)
            } else {
                chord
            };
        }
        corners = intersect_all(&lines)?;
    }
    let skewed = box_fill < MIN_RECTANGULARITY;
    if skewed && overlap_with(&spans, &corners) < MIN_RECTANGULARITY {
        return None;
    }
    Some(Candidate {
        corners,
        centre: [mx, my],
        length,
        score: filled as f32 * box_fill.min(1.0),
        rectangularity: filled as f32 / Quad(corners).area().abs().max(1.0),
        level: blob.level as f32 / blob.area as f32,
        area: blob.area as f32,
        skewed,
    })
}

/// How well the component whose rows span `spans` (centre line, first and last edge) matches
/// the quadrilateral `corners`: the area of both over the area of either, row by row (1 for a
/// perfect match; a component that falls short of the corners or spills past the sides scores
/// less, whichever way the fill of one by the other would say). 0 for a quadrilateral that is
/// not convex or has no area.
fn overlap_with(spans: &[(f32, f32, f32)], corners: &[Point; 4]) -> f32 {
    if !convex(corners) {
        return 0.0;
    }
    let (mut both, mut either) = (0f32, 0f32);
    let quad_top = corners.iter().map(|p| p[1]).fold(f32::MAX, f32::min);
    let quad_bottom = corners.iter().map(|p| p[1]).fold(f32::MIN, f32::max);
    // Rows of the quadrilateral the component does not reach count whole.
    let (first, last) = match (spans.first(), spans.last()) {
        (Some(f), Some(l)) => (f.0, l.0),
        _ => return 0.0,
    };
    let mut y = quad_top.floor() + 0.5;
    while y < quad_bottom {
        if (y < first - 0.25 || y > last + 0.25)
            && let Some((q0, q1)) = row_of(corners, y)
        {
            either += q1 - q0;
        }
        y += 1.0;
    }
    for &(yc, x0, x1) in spans {
        match row_of(corners, yc) {
            Some((q0, q1)) => {
                let common = (x1.min(q1) - x0.max(q0)).max(0.0);
                both += common;
                either += (x1 - x0) + (q1 - q0) - common;
            }
            None => either += x1 - x0,
        }
    }
    if either <= 0.0 { 0.0 } else { both / either }
}

/// Whether the quadrilateral `corners` is convex with its corners in one turning direction
/// and some area.
fn convex(corners: &[Point; 4]) -> bool {
    let turns: [f32; 4] = std::array::from_fn(|i| {
        let (a, b, c) = (corners[i], corners[(i + 1) % 4], corners[(i + 2) % 4]);
        (b[0] - a[0]) * (c[1] - b[1]) - (b[1] - a[1]) * (c[0] - b[0])
    });
    turns.iter().all(|&t| t > 0.0) || turns.iter().all(|&t| t < 0.0)
}

/// Where the line `y` crosses the convex quadrilateral `corners`: its first and last x.
fn row_of(corners: &[Point; 4], y: f32) -> Option<(f32, f32)> {
    let mut crossing: Option<(f32, f32)> = None;
    for i in 0..4 {
        let (a, b) = (corners[i], corners[(i + 1) % 4]);
        if (a[1] - y) * (b[1] - y) > 0.0 || a[1] == b[1] {
            continue;
        }
        let x = a[0] + (y - a[1]) * (b[0] - a[0]) / (b[1] - a[1]);
        crossing = Some(crossing.map_or((x, x), |(lo, hi)| (lo.min(x), hi.max(x))));
    }
    crossing.filter(|(lo, hi)| hi > lo)
}

/// Moves each side of `coarse` onto the strongest dark-to-light edge within a few shrunk pixels
/// and intersects neighbouring sides; a side that finds too little edge keeps its coarse line,
/// and `coarse` itself is returned when the refined corners make no sense.
fn refine(frame: &GrayImage, coarse: &Quad, factor: f32) -> Quad {
    let (w, h) = (frame.width() as usize, frame.height() as usize);
    let raw = frame.as_raw();
    let reach = 2.0 * factor + 2.0;
    // Profiles across a side are sampled every `STEP` pixels from `reach` outside to `reach`
    // inside (plus room for the rise); a rise is measured over `2 * half_steps` samples, a wider
    // span for big (and so softer) frames.
    let reach_steps = (reach / STEP).ceil() as usize;
    let half_steps = ((factor / 4.0).clamp(1.0, 3.0) / STEP).round() as usize;
    let origin = (reach_steps + half_steps) as f32;
    let centre = coarse.centre();
    let mut lines = [(0.0f32, 0.0f32, 0.0f32); 4];
    for (side, line) in lines.iter_mut().enumerate() {
        let (a, b) = (coarse.0[side], coarse.0[(side + 1) % 4]);
        let Some(chord) = line_through(a, b) else {
            return *coarse;
        };
        *line = chord;
        let (dx, dy) = (b[0] - a[0], b[1] - a[1]);
        let len = dx.hypot(dy);
        if len < 4.0 {
            continue;
        }
        // Unit normal pointing into the window.
        let (mut nx, mut ny) = (-dy / len, dx / len);
        let mid = [(a[0] + b[0]) / 2.0, (a[1] + b[1]) / 2.0];
        if (centre[0] - mid[0]) * nx + (centre[1] - mid[1]) * ny < 0.0 {
            nx = -nx;
            ny = -ny;
        }
        let mut points: Vec<Point> = Vec::new();
        let samples = 24;
        let mut profile = vec![0.0f32; 2 * reach_steps + 3 * half_steps + 1];
        for k in 0..samples {
            let t = 0.1 + 0.8 * k as f32 / (samples - 1) as f32;
            let (px, py) = (a[0] + t * dx, a[1] + t * dy);
            for (j, value) in profile.iter_mut().enumerate() {
                let s = (j as f32 - origin) * STEP;
                *value = bilinear(raw, w, h, px + s * nx - 0.5, py + s * ny - 0.5);
            }
            if let Some(j) = edge_in(&profile, half_steps, reach_steps, reach_steps) {
                let s = (j - origin) * STEP;
                points.push([px + s * nx, py + s * ny]);
            }
        }
        if points.len() < samples / 3 {
            continue;
        }
        let Some(fitted) = fit_line(&points, EDGE_TOLERANCE) else {
            continue;
        };
        // The refined side must stay near and roughly parallel to the coarse one.
        let parallel = (fitted.0 * chord.0 + fitted.1 * chord.1).abs() > 0.99;
        let near = [a, b]
            .iter()
            .all(|p| distance_to(fitted, *p).abs() < 1.5 * reach);
        if parallel && near {
            *line = fitted;
        }
    }
    let Some(corners) = intersect_all(&lines) else {
        return *coarse;
    };
    let refined = Quad(corners);
    let ratio = refined.area() / coarse.area();
    let moved = corners
        .iter()
        .zip(coarse.0)
        .all(|(p, q)| (p[0] - q[0]).hypot(p[1] - q[1]) < 2.5 * reach);
    if moved && (0.7..1.4).contains(&ratio) {
        refined
    } else {
        *coarse
    }
}

/// Index (with a sub-sample fraction) in `profile`, which runs from outside a side to inside, of
/// the panel's edge: the outermost strong rise, measured over `2 * half` samples, that ends at the
/// panel's level. A lighter bezel around the panel gives a rise to a middle level further out,
/// and the digits' strokes give rises further in. Edges are looked for between `half` and
/// `half + outside + inside` samples, the coarse side at `half + outside`; `None` when there is
/// none.
fn edge_in(profile: &[f32], half: usize, outside: usize, inside: usize) -> Option<f32> {
    let centre = half + outside;
    let end = centre + inside;
    let dark = profile[..=centre].iter().copied().fold(f32::MAX, f32::min);
    let panel = profile[centre..].iter().copied().fold(f32::MIN, f32::max);
    let level = dark + PANEL_SHARE * (panel - dark);
    let rise = |i: usize| profile[i + half] - profile[i - half];
    let span = half..=end;
    let rises: Vec<f32> = span
        .clone()
        .map(|i| {
            if profile[i + 2 * half] >= level {
                rise(i)
            } else {
                f32::MIN
            }
        })
        .collect();
    let strongest = rises.iter().copied().fold(f32::MIN, f32::max);
    if strongest <= MIN_SPLIT * 0.5 {
        return None;
    }
    let peak = (0..rises.len()).find(|&k| {
        let r = rises[k];
        r >= 0.5 * strongest
            && (k == 0 || rises[k - 1] <= r)
            && rises.get(k + 1).is_none_or(|&n| n < r)
    })?;
    // Parabola through the peak and its neighbours for a sub-sample position.
    let i = half + peak;
    let offset = if i > half && i < end {
        let (r0, r1, r2) = (rise(i - 1), rise(i), rise(i + 1));
        let curve = r0 - 2.0 * r1 + r2;
        if curve < 0.0 {
            (0.5 * (r0 - r2) / curve).clamp(-0.5, 0.5)
        } else {
            0.0
        }
    } else {
        0.0
    };
    Some(i as f32 + offset)
}

/// The line `a·x + b·y = c` (unit normal) through two points; `None` when they coincide.
fn line_through(p: Point, q: Point) -> Option<(f32, f32, f32)> {
    let (dx, dy) = (q[0] - p[0], q[1] - p[1]);
    // Not `hypot`: this runs for every pair in `fit_line` and needs no guard against overflow.
    let len = (dx * dx + dy * dy).sqrt();
    if len < 1e-3 {
        return None;
    }
    let (a, b) = (-dy / len, dx / len);
    Some((a, b, a * p[0] + b * p[1]))
}

/// Signed distance of `p` from the line (unit normal).
fn distance_to(line: (f32, f32, f32), p: Point) -> f32 {
    line.0 * p[0] + line.1 * p[1] - line.2
}

/// Where the foot of `p` falls on the segment from `a` to `b` (0 at `a`, 1 at `b`).
fn position_on(a: Point, b: Point, p: Point) -> f32 {
    let (dx, dy) = (b[0] - a[0], b[1] - a[1]);
    ((p[0] - a[0]) * dx + (p[1] - a[1]) * dy) / (dx * dx + dy * dy).max(1e-6)
}

/// The line `n·p = c` (unit normal `n = (a, b)`) that most points lie on: the line through the
/// pair of points with the most others within `tolerance` (a glare-eaten corner or a stray
/// edge cannot tilt it), then the total-least-squares fit to those near it.
fn fit_line(points: &[Point], tolerance: f32) -> Option<(f32, f32, f32)> {
    // Pairs are drawn from at most this many evenly spread points.
    const PICKS: usize = 24;
    let stride = points.len().div_ceil(PICKS).max(1);
    let picks: Vec<Point> = points.iter().copied().step_by(stride).collect();
    // Counting on the picks alone keeps the search quadratic in `PICKS`, not in the points.
    let inliers = |line: (f32, f32, f32)| {
        picks
            .iter()
            .filter(|p| distance_to(line, **p).abs() <= tolerance)
            .count()
    };
    let mut best: Option<((f32, f32, f32), usize)> = None;
    for (i, &p) in picks.iter().enumerate() {
        for &q in &picks[i + 1..] {
            let Some(line) = line_through(p, q) else {
                continue;
            };
            let count = inliers(line);
            if best.is_none_or(|b| count > b.1) {
                best = Some((line, count));
            }
        }
    }
    let (line, _) = best?;
    let near: Vec<Point> = points
        .iter()
        .copied()
        .filter(|p| distance_to(line, *p).abs() <= tolerance)
        .collect();
    let n = near.len() as f32;
    if n < 2.0 {
        return Some(line);
    }
    let mx = near.iter().map(|p| p[0]).sum::<f32>() / n;
    let my = near.iter().map(|p| p[1]).sum::<f32>() / n;
    let (mut sxx, mut sxy, mut syy) = (0f32, 0f32, 0f32);
    for p in &near {
        let (dx, dy) = (p[0] - mx, p[1] - my);
        sxx += dx * dx;
        sxy += dx * dy;
        syy += dy * dy;
    }
    // Direction of largest spread; the normal is perpendicular to it.
    let theta = 0.5 * (2.0 * sxy).atan2(sxx - syy);
    let (a, b) = (-theta.sin(), theta.cos());
    Some((a, b, a * mx + b * my))
}

/// The corners where neighbouring sides cross: corner `i` joins sides `i - 1` and `i`.
fn intersect_all(lines: &[(f32, f32, f32); 4]) -> Option<[Point; 4]> {
    let mut corners = [[0.0f32; 2]; 4];
    for (i, corner) in corners.iter_mut().enumerate() {
        *corner = intersect(lines[(i + 3) % 4], lines[i])?;
    }
    Some(corners)
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

    /// The largest distance between corresponding corners.
    fn corner_miss(found: &Quad, truth: &Quad) -> f32 {
        found
            .0
            .iter()
            .zip(truth.0)
            .map(|(p, q)| (p[0] - q[0]).hypot(p[1] - q[1]))
            .fold(0.0, f32::max)
    }

    /// A 640×480 frame: the `light` quads (grey 200) on a dark body `x0, y0, x1, y1` (40) on
    /// a mid-grey bench (115).
    fn light_quads_on_a_body(light: &[&Quad], body: (f32, f32, f32, f32)) -> GrayImage {
        light_on_a_body(|p| light.iter().any(|q| inside(q, p)), body)
    }

    /// A 640×480 frame: grey 200 where `light` holds (at pixel centres), else a dark body
    /// `x0, y0, x1, y1` (40) on a mid-grey bench (115).
    fn light_on_a_body(light: impl Fn(Point) -> bool, body: (f32, f32, f32, f32)) -> GrayImage {
        let (x0, y0, x1, y1) = body;
        GrayImage::from_fn(640, 480, |x, y| {
            let p = [x as f32 + 0.5, y as f32 + 0.5];
            let level = if light(p) {
                200
            } else if (x0..x1).contains(&p[0]) && (y0..y1).contains(&p[1]) {
                40
            } else {
                115
            };
            image::Luma([level])
        })
    }

    /// Whether `p` lies inside `quad` (corners clockwise on screen, y down).
    fn inside(quad: &Quad, p: Point) -> bool {
        (0..4).all(|i| {
            let (a, b) = (quad.0[i], quad.0[(i + 1) % 4]);
            (b[0] - a[0]) * (p[1] - a[1]) - (b[1] - a[1]) * (p[0] - a[0]) >= 0.0
        })
    }

    /// The window `x0..x1 × y0..y1` as a quad.
    fn rect(x0: f32, y0: f32, x1: f32, y1: f32) -> Quad {
        Quad::from_rect(x0, y0, x1 - x0, y1 - y0)
    }

    #[test]
    fn a_window_joined_to_glare_is_found() {
        // A dim window whose right end sits in a glare column that runs up over the body to the
        // top of the frame: at any global level the window either joins the glare (which touches
        // the edge) or loses its dim left end.
        let truth = rect(170.0, 150.0, 470.0, 250.0);
        let image = GrayImage::from_fn(640, 480, |x, y| {
            let (x, y) = (x as f32 + 0.5, y as f32 + 0.5);
            let glare = 170.0 * (-((x - 430.0) / 60.0).powi(2)).exp() * (1.0 - y / 400.0).max(0.0);
            let base = if (170.0..470.0).contains(&x) && (150.0..250.0).contains(&y) {
                100.0 + 80.0 * (x - 170.0) / 300.0
            } else if (130.0..510.0).contains(&x) && (40.0..460.0).contains(&y) {
                35.0
            } else {
                90.0
            };
            image::Luma([(base + glare).min(255.0) as u8])
        });
        let found = find_windows(&image);
        assert!(
            found.iter().any(|q| corner_miss(q, &truth) < 2.0),
            "{found:?}"
        );
    }

    #[test]
    fn a_lighter_bezel_is_not_the_window() {
        // Body, a lighter bezel ring around the panel, the panel: the panel is the window.
        let truth = rect(200.0, 150.0, 440.0, 230.0);
        let image = GrayImage::from_fn(640, 480, |x, y| {
            let (x, y) = (x as f32 + 0.5, y as f32 + 0.5);
            let level = if (200.0..440.0).contains(&x) && (150.0..230.0).contains(&y) {
                190
            } else if (188.0..452.0).contains(&x) && (138.0..242.0).contains(&y) {
                105
            } else if (140.0..500.0).contains(&x) && (60.0..440.0).contains(&y) {
                35
            } else {
                120
            };
            image::Luma([level])
        });
        let found = find_windows(&image);
        let first = found.first().expect("a window");
        assert!(corner_miss(first, &truth) < 1.5, "{found:?}");
    }

    #[test]
    fn a_cut_corner_does_not_pull_the_sides() {
        // Glare or a rounded corner eats the top-right corner; the sides still meet where the
        // panel's straight edges do.
        let truth = rect(160.0, 140.0, 480.0, 240.0);
        let image = GrayImage::from_fn(640, 480, |x, y| {
            let (x, y) = (x as f32 + 0.5, y as f32 + 0.5);
            let inside = (160.0..480.0).contains(&x) && (140.0..240.0).contains(&y);
            let cut = (480.0 - x) + (y - 140.0) < 30.0;
            let level = if inside && !cut {
                185
            } else if (120.0..520.0).contains(&x) && (60.0..440.0).contains(&y) {
                40
            } else {
                110
            };
            image::Luma([level])
        });
        let found = find_windows(&image);
        let first = found.first().expect("a window");
        assert!(corner_miss(first, &truth) < 1.5, "{found:?}");
    }

    #[test]
    fn a_window_seen_under_strong_tilt_is_found() {
        // Perspective makes the window a trapezoid (the near side longer), turned a little: it
        // fills about 0.76 of its box along its axes but all of its fitted quadrilateral.
        let truth = Quad([
            [220.0, 150.0],
            [420.0, 170.0],
            [490.0, 270.0],
            [140.0, 235.0],
        ]);
        let image = light_quads_on_a_body(&[&truth], (100.0, 100.0, 540.0, 460.0));
        let found = find_windows(&image);
        let first = found.first().expect("a window");
        assert!(corner_miss(first, &truth) < 1.5, "{found:?}");
    }

    #[test]
    fn a_skewed_shape_beside_a_window_is_no_candidate() {
        // A light trapezoid on the body below an upright window (a label smeared round, say)
        // fills its fitted quadrilateral but not its box: only the window is a candidate.
        let window = rect(200.0, 100.0, 440.0, 180.0);
        let label = Quad([
            [260.0, 260.0],
            [380.0, 260.0],
            [420.0, 320.0],
            [220.0, 320.0],
        ]);
        let image = light_quads_on_a_body(&[&window, &label], (150.0, 60.0, 490.0, 440.0));
        let found = find_windows(&image);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(corner_miss(&found[0], &window) < 1.5, "{found:?}");
    }

    #[test]
    fn an_ellipse_is_no_window() {
        // It fills about 0.79 of its box along its axes, and lines fitted to the middle of its
        // sides cut its ends off: it matches no quadrilateral.
        let ellipse = |p: Point| {
            let (dx, dy) = ((p[0] - 320.0) / 150.0, (p[1] - 200.0) / 50.0);
            dx * dx + dy * dy < 1.0
        };
        let image = light_on_a_body(ellipse, (120.0, 60.0, 520.0, 440.0));
        assert!(find_windows(&image).is_empty());
    }

    #[test]
    fn a_flat_frame_has_no_window() {
        assert!(find_windows(&GrayImage::from_pixel(640, 480, image::Luma([5]))).is_empty());
        assert!(find_windows(&GrayImage::from_pixel(640, 480, image::Luma([200]))).is_empty());
    }
}
