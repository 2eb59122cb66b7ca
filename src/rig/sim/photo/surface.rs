//! What a lab photo's token plane looks like at one point: the bench with its texture, clutter
//! and the token's shadow, and the token's body, bezel, LCD (with digits and ghosts), labels and
//! button. Shades are grey levels (times the material's tint in colour photos) at nominal light.
//!
//! Edges are anti-aliased analytically: each shape's signed distance times the local pixels per
//! token unit gives its coverage of the pixel.

use super::{Label, LabelMarks, PhotoContent, PhotoSpec, Rgb};
use crate::rig::sim::scene::{LCD_DIGITS, circle, coverage, lattice, rounded_rect, value_noise};

/// The shading of one photo's token plane.
pub(super) struct Surface<'a> {
    spec: &'a PhotoSpec,
    /// Lit segments per digit position; `None` when the LCD is off.
    masks: Option<[u8; LCD_DIGITS]>,
    seed: u32,
    tan_slant: f32,
    bench_tint: Rgb,
    body_tint: Rgb,
    panel_tint: Rgb,
}

impl<'a> Surface<'a> {
    /// The surface of `spec` with the LCD showing `content`.
    pub(super) fn new(spec: &'a PhotoSpec, content: &PhotoContent) -> Self {
        let masks = match content {
            PhotoContent::Off => None,
            PhotoContent::Blank => Some([0; LCD_DIGITS]),
            PhotoContent::Code(digits) => Some(digits.map(|d| spec.font.mask(d))),
        };
        let tints = spec.tints;
        Surface {
            spec,
            masks,
            seed: spec.seed as u32 ^ (spec.seed >> 32) as u32,
            tan_slant: spec.font.slant_deg.to_radians().tan(),
            bench_tint: tints.map_or([1.0; 3], |t| t.bench),
            body_tint: tints.map_or([1.0; 3], |t| t.body),
            panel_tint: tints.map_or([1.0; 3], |t| t.panel),
        }
    }

    /// The shade at token point (`u`, `v`), seen with `scale` pixels per token unit.
    pub(super) fn shade(&self, u: f32, v: f32, scale: f32) -> Rgb {
        let t = &self.spec.token;
        let body_sd = rounded_rect(u, v, 0.0, 0.0, t.body_half.0, t.body_half.1, t.body_radius);
        let body = coverage(body_sd, scale);
        if body <= 0.0 {
            return self.bench(u, v, scale);
        }
        let shade = self.body(u, v, scale, body_sd);
        if body >= 1.0 {
            return shade;
        }
        mix(self.bench(u, v, scale), shade, body)
    }

    fn bench(&self, u: f32, v: f32, scale: f32) -> Rgb {
        let b = &self.spec.bench;
        let seed = self.seed;
        let mut g = b.grey
            + b.texture
                * (0.7 * value_noise(seed, u, v, 30.0)
                    + 0.3 * value_noise(seed ^ 0xA5A5, u, v, 6.0))
            + 0.15 * b.texture * value_noise(seed ^ 0x5bd1, u, v, 0.5);
        if let Some(deg) = b.grain_deg {
            let (s, c) = deg.to_radians().sin_cos();
            let (along, across) = (u * c + v * s, -u * s + v * c);
            g += 0.5 * b.texture * value_noise(seed ^ 0x3333, along / 12.0, across, 1.0);
        }
        for item in &b.clutter {
            let (s, c) = item.angle_deg.to_radians().sin_cos();
            let (du, dv) = (u - item.centre.0, v - item.centre.1);
            let (x, y) = (du * c + dv * s, -du * s + dv * c);
            let sd = rounded_rect(x, y, 0.0, 0.0, item.half.0, item.half.1, 0.5);
            let cover = coverage(sd, scale);
            if cover > 0.0 {
                let mut shade = item.grey + 3.0 * value_noise(seed ^ 0x4444, u, v, 8.0);
                if item.text {
                    let ink = text_distance(x, y, (-item.half.0, item.half.0), item.half.1, seed);
                    shade += (item.grey * 0.25 - shade) * coverage(ink, scale);
                }
                g += (shade - g) * cover;
            }
        }
        let t = &self.spec.token;
        let shadow = &b.shadow;
        let (su, sv) = (u - shadow.offset.0, v - shadow.offset.1);
        let sd = rounded_rect(
            su,
            sv,
            0.0,
            0.0,
            t.body_half.0,
            t.body_half.1,
            t.body_radius,
        );
        let dark = (0.5 - sd / shadow.softness.max(1e-3)).clamp(0.0, 1.0);
        g *= 1.0 - shadow.strength * dark;
        tint(g, self.bench_tint)
    }

    fn body(&self, u: f32, v: f32, scale: f32, body_sd: f32) -> Rgb {
        let t = &self.spec.token;
        let seed = self.seed;
        let mut g = t.body_grey
            + 1.5 * value_noise(seed ^ 0x77, u, v, 0.4)
            + 3.0 * value_noise(seed ^ 0x78, u, v, 15.0);
        // A lighter rim where the body's rounded edge catches the light.
        let rim = 0.03 * t.body_half.0;
        g += (0.4 * t.body_grey + 10.0) * (1.0 - coverage(body_sd + rim, scale));
        let (wx, wy) = t.window_centre;
        let (hw, hh) = t.window_half;
        let bezel = rounded_rect(
            u,
            v,
            wx,
            wy,
            hw + t.bezel,
            hh + t.bezel,
            t.window_radius + t.bezel,
        );
        g += (t.bezel_grey - g) * coverage(bezel, scale);
        g = self.label(&t.label, g, u, v, scale);
        if let Some(sticker) = &t.sticker {
            g = self.label(sticker, g, u, v, scale);
        }
        let b = &t.button;
        let (bx, by) = b.centre;
        g += (0.6 * t.body_grey - g) * coverage(circle(u, v, bx, by, b.radius * 1.08), scale);
        // The face is lit from the top: a little lighter above its centre.
        let face = b.grey * (1.0 - 0.12 * (v - by) / b.radius.max(1e-3));
        g += (face - g) * coverage(circle(u, v, bx, by, b.radius), scale);
        let mut body = tint(g, self.body_tint);
        let window = coverage(rounded_rect(u, v, wx, wy, hw, hh, t.window_radius), scale);
        if window > 0.0 {
            body = mix(body, self.panel(u, v, scale), window);
        }
        body
    }

    /// A label's shade over the body shade `under`.
    fn label(&self, label: &Label, under: f32, u: f32, v: f32, scale: f32) -> f32 {
        let (x, y) = (u - label.centre.0, v - label.centre.1);
        let (hw, hh) = label.half;
        if x.abs() > hw + 1.0 || y.abs() > hh + 1.0 {
            return under;
        }
        let seed = self.seed ^ label.centre.1.to_bits();
        let mut g = under;
        let mut text_from = -hw;
        if let Some(paper) = label.paper {
            let sd = rounded_rect(x, y, 0.0, 0.0, hw, hh, 0.15 * hh);
            let shade = paper + 2.0 * value_noise(seed, u, v, 3.0);
            g += (shade - g) * coverage(sd, scale);
        } else if label.marks == LabelMarks::Text {
            // Printed straight on the body: a ring logo, then the text.
            let ring = circle(x, y, -hw + hh, 0.0, 0.8 * hh).abs() - 0.15 * hh;
            g += (label.ink - g) * coverage(ring, scale);
            text_from = -hw + 2.2 * hh;
        }
        let marks = match label.marks {
            LabelMarks::Text => text_distance(x, y, (text_from, hw), hh, seed),
            LabelMarks::Barcode => barcode_distance(x, y, hw, hh, seed),
        };
        g + (label.ink - g) * coverage(marks, scale)
    }

    fn panel(&self, u: f32, v: f32, scale: f32) -> Rgb {
        let t = &self.spec.token;
        let lcd = &self.spec.lcd;
        let panel = lcd.panel_grey
            * (1.0
                + 0.03 * (v - t.window_centre.1) / t.window_half.1.max(1e-3)
                + 0.012 * value_noise(self.seed ^ 0x99, u, v, 5.0));
        let Some(masks) = self.masks else {
            return tint(panel, self.panel_tint);
        };
        let Some((sd, digit, segment)) = self.nearest_segment(u, v) else {
            return tint(panel, self.panel_tint);
        };
        let cover = coverage(sd, scale);
        let target = if masks[digit] & (1 << segment) != 0 {
            panel * lcd.ink_share
        } else {
            panel * (1.0 - lcd.ghost)
        };
        tint(panel + (target - panel) * cover, self.panel_tint)
    }

    /// Signed distance to the nearest segment of the digit cell under (`u`, `v`), with the
    /// digit's position and the segment's index; `None` away from the digit block.
    fn nearest_segment(&self, u: f32, v: f32) -> Option<(f32, usize, u8)> {
        let t = &self.spec.token;
        let (ox, oy) = t.digits_origin;
        let y = v - oy;
        if y < -0.1 * t.digit_h || y > 1.1 * t.digit_h {
            return None;
        }
        // Undo the slant about the block's middle line: the top leans right.
        let x = u - ox - (t.digit_h / 2.0 - y) * self.tan_slant;
        let pitch = t.digit_w + t.digit_gap;
        let k = ((x + t.digit_gap / 2.0) / pitch).floor();
        if !(0.0..LCD_DIGITS as f32).contains(&k) {
            return None;
        }
        let (sd, segment) = self
            .spec
            .font
            .nearest_segment(x - k * pitch, y, t.digit_w, t.digit_h);
        Some((sd, k as usize, segment))
    }
}

/// Signed distance to text-like marks in a label spanning `x_range` and ±`half_h` (label-local
/// units): up to three lines of character-sized bars with word gaps and ragged line ends.
fn text_distance(x: f32, y: f32, x_range: (f32, f32), half_h: f32, seed: u32) -> f32 {
    let lines = if half_h > 4.0 { 3.0 } else { 2.0 };
    let pitch = 2.0 * half_h / (lines + 0.4);
    let line_h = 0.55 * pitch;
    let char_w = 0.7 * line_h;
    let margin = 0.3 * pitch;
    let (lx, ly) = (x - x_range.0 - margin, y + half_h - 0.5 * margin);
    let (line, col) = ((ly / pitch).floor(), (lx / char_w).floor());
    let cols = ((x_range.1 - x_range.0 - 2.0 * margin) / char_w).floor();
    if !(0.0..lines).contains(&line) || !(0.0..cols).contains(&col) {
        return f32::MAX;
    }
    let line_len = cols * (0.55 + 0.45 * lattice(seed ^ 0x11, 0, line as i32).abs());
    if col >= line_len || lattice(seed, col as i32, line as i32) < -0.55 {
        return f32::MAX;
    }
    let (cx, cy) = (col * char_w + 0.47 * char_w, line * pitch + line_h / 2.0);
    rounded_rect(lx, ly, cx, cy, 0.37 * char_w, line_h / 2.0, 0.0)
}

/// Signed distance to the bars of a barcode filling a label of half size (`half_w`, `half_h`).
fn barcode_distance(x: f32, y: f32, half_w: f32, half_h: f32, seed: u32) -> f32 {
    let unit = 2.0 * half_w / 36.0;
    let lx = x + half_w - 2.0 * unit;
    let col = (lx / unit).floor();
    if !(0.0..32.0).contains(&col) || lattice(seed, col as i32, 7) < -0.3 {
        return f32::MAX;
    }
    let bar_w = unit * (0.3 + 0.3 * (1.0 + lattice(seed ^ 0x22, col as i32, 7)));
    rounded_rect(
        lx,
        y,
        col * unit + unit / 2.0,
        -0.1 * half_h,
        bar_w / 2.0,
        0.7 * half_h,
        0.0,
    )
}

fn tint(grey: f32, tint: Rgb) -> Rgb {
    tint.map(|t| grey * t)
}

fn mix(a: Rgb, b: Rgb, t: f32) -> Rgb {
    [0, 1, 2].map(|i| a[i] + (b[i] - a[i]) * t)
}
