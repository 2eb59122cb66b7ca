//! The spread of lab photo conditions: how [`PhotoSpec::random`] and [`PhotoContent::random`]
//! choose each parameter. The ranges here are the fixture set's documented ranges (issue 4).

use rand::Rng;

use super::{
    Bench, Button, CameraPose, Clutter, Encoding, FONTS, Glare, Label, LabelMarks, LcdLook,
    Lighting, PhotoContent, PhotoSpec, Sensor, Shadow, Tints, TokenLayout,
};
use crate::rig::sim::scene::LCD_DIGITS;

/// Digit height in token units; everything else is sized relative to it.
const DIGIT_H: f32 = 8.0;

/// Codes chosen now and then on purpose: runs of 1 and 7 (narrow glyphs, both 7 shapes), repeats.
const SPECIAL_CODES: [[u8; LCD_DIGITS]; 6] = [
    [1, 1, 1, 1, 1, 1],
    [1, 1, 7, 1, 7, 1],
    [7, 7, 1, 1, 7, 7],
    [1, 0, 1, 0, 1, 0],
    [8, 8, 8, 8, 8, 8],
    [9, 6, 9, 6, 6, 9],
];

impl PhotoContent {
    /// A random content: 6 % off, 6 % on but blank, else a code (mostly uniform digits, with
    /// extra codes full of 1s and 7s and a few special ones such as 111111 and 117171).
    pub fn random(rng: &mut impl Rng) -> PhotoContent {
        let p: f32 = rng.random();
        if p < 0.06 {
            return PhotoContent::Off;
        }
        if p < 0.12 {
            return PhotoContent::Blank;
        }
        let mut digits: [u8; LCD_DIGITS] = std::array::from_fn(|_| rng.random_range(0..10));
        let q: f32 = rng.random();
        if q < 0.04 {
            digits = SPECIAL_CODES[rng.random_range(0..SPECIAL_CODES.len())];
        } else if q < 0.12 {
            digits = digits.map(|_| if rng.random_bool(0.5) { 1 } else { 7 });
        } else if q < 0.18 {
            for _ in 0..3 {
                digits[rng.random_range(0..LCD_DIGITS)] = 1;
            }
        }
        PhotoContent::Code(digits)
    }
}

impl PhotoSpec {
    /// A random photo spec spread over the fixture set's ranges.
    pub fn random(rng: &mut impl Rng) -> PhotoSpec {
        let (width, height) = frame_size(rng);
        let token = token_layout(rng);
        let camera = camera_pose(rng, &token, width, height);
        let lcd = LcdLook {
            panel_grey: rng.random_range(120.0..220.0),
            // Skewed towards strong contrast: 0.15 … 0.6.
            ink_share: 0.15 + 0.45 * rng.random::<f32>().powf(1.5),
            ghost: rng.random_range(0.0..0.12),
        };
        let lighting = lighting(rng, &token, &lcd, &camera, width, height);
        let tints = rng.random_bool(0.2).then(|| tints(rng));
        // Lossless only for small grey frames: noisy PNGs are large.
        let encoding = if width == 640 && tints.is_none() && rng.random_bool(0.1) {
            Encoding::Png
        } else {
            Encoding::Jpeg {
                quality: rng.random_range(30..=95),
            }
        };
        PhotoSpec {
            width,
            height,
            font: FONTS[rng.random_range(0..FONTS.len())],
            bench: bench(rng, &token),
            lcd,
            sensor: Sensor {
                blur_px: rng.random_range(0.0..1.8) * width as f32 / 640.0,
                // Skewed towards a quiet sensor: 0 … 8, median about 2.7.
                noise: 8.0 * rng.random::<f32>().powf(1.5),
                encoding,
            },
            tints,
            seed: rng.random(),
            token,
            camera,
            lighting,
        }
    }
}

fn frame_size(rng: &mut impl Rng) -> (u32, u32) {
    let p: f32 = rng.random();
    match p {
        p if p < 0.55 => (640, 480),
        p if p < 0.67 => (800, 600),
        p if p < 0.77 => (1024, 768),
        p if p < 0.87 => (1280, 720),
        p if p < 0.95 => (1280, 960),
        _ => (1920, 1080),
    }
}

/// Body, window, digits, label, button and sticker, laid out top to bottom.
fn token_layout(rng: &mut impl Rng) -> TokenLayout {
    // Digit share of the window height, digit aspect, gap (share of digit width) and window
    // aspect, redrawn until the side margins (in digit heights) come out sensible.
    let (share, aspect, gap, window_aspect) = loop {
        let share = rng.random_range(0.35..0.7);
        let aspect = rng.random_range(0.38..0.62);
        let gap = rng.random_range(0.12..0.6);
        let window_aspect = rng.random_range(2.2..5.0);
        let block = LCD_DIGITS as f32 * aspect + (LCD_DIGITS as f32 - 1.0) * aspect * gap;
        let margin = (window_aspect / share - block) / 2.0;
        if (0.12..=1.8).contains(&margin) {
            break (share, aspect, gap, window_aspect);
        }
    };
    let (digit_w, digit_gap) = (aspect * DIGIT_H, aspect * gap * DIGIT_H);
    let window_h = DIGIT_H / share;
    let window_w = window_aspect * window_h;
    let bezel = window_h * rng.random_range(0.04..0.15);
    let side = window_w * rng.random_range(0.04..0.18);
    let body_w = window_w + 2.0 * (bezel + side);
    let top = window_w * rng.random_range(0.05..0.2);

    let label_half = (
        body_w * rng.random_range(0.22..0.42),
        body_w * rng.random_range(0.04..0.09),
    );
    let button_r = body_w * rng.random_range(0.12..0.24);
    let sticker_half = rng.random_bool(0.35).then(|| {
        let half_w = window_w * rng.random_range(0.2..0.47);
        (half_w, half_w / rng.random_range(2.0..4.5))
    });
    let label_below_button = rng.random_bool(0.3);

    // Walk down from the body's top edge (y = 0), then centre the body on the origin.
    let mut y = top + bezel;
    let window_cy = y + window_h / 2.0;
    y += window_h + bezel;
    let mut place = |height: f32, gap: f32| {
        y += gap;
        let centre = y + height / 2.0;
        y += height;
        centre
    };
    let (label_cy, button_cy) = if label_below_button {
        let b = place(2.0 * button_r, window_h * rng.random_range(0.4..1.0));
        (place(2.0 * label_half.1, button_r * 0.5), b)
    } else {
        let l = place(2.0 * label_half.1, window_h * rng.random_range(0.25..0.6));
        (
            l,
            place(2.0 * button_r, window_h * rng.random_range(0.3..0.8)),
        )
    };
    let sticker_cy = sticker_half.map(|(_, hh)| place(2.0 * hh, button_r * 0.4));
    let body_h = y + body_w * rng.random_range(0.06..0.2);
    let shift = body_h / 2.0;

    let body_grey = rng.random_range(12.0..70.0);
    let label = if rng.random_bool(0.55) {
        Label {
            centre: (0.0, label_cy - shift),
            half: label_half,
            paper: Some(rng.random_range(150.0..235.0)),
            ink: rng.random_range(20.0..70.0),
            marks: if rng.random_bool(0.85) {
                LabelMarks::Text
            } else {
                LabelMarks::Barcode
            },
        }
    } else {
        Label {
            centre: (0.0, label_cy - shift),
            half: label_half,
            paper: None,
            ink: rng.random_range(110.0..200.0),
            marks: LabelMarks::Text,
        }
    };
    let sticker = sticker_half.zip(sticker_cy).map(|(half, cy)| Label {
        centre: (
            rng.random_range(-0.3..0.3) * (body_w / 2.0 - half.0),
            cy - shift,
        ),
        half,
        paper: Some(rng.random_range(140.0..230.0)),
        ink: rng.random_range(20.0..80.0),
        marks: if rng.random_bool(0.5) {
            LabelMarks::Text
        } else {
            LabelMarks::Barcode
        },
    });
    let block_w = LCD_DIGITS as f32 * digit_w + (LCD_DIGITS as f32 - 1.0) * digit_gap;
    let window_centre = (0.0, window_cy - shift);
    let digits_centre = (
        rng.random_range(-0.3..0.3) * (window_w - block_w) / 2.0,
        window_centre.1 + rng.random_range(-0.15..0.15) * (window_h - DIGIT_H) / 2.0,
    );
    TokenLayout {
        body_half: (body_w / 2.0, body_h / 2.0),
        // Keep the rounded corners clear of the bezel.
        body_radius: (body_w * rng.random_range(0.06..0.3)).min(3.0 * top.min(side)),
        body_grey,
        window_centre,
        window_half: (window_w / 2.0, window_h / 2.0),
        window_radius: window_h * rng.random_range(0.0..0.15),
        bezel,
        bezel_grey: if rng.random_bool(0.75) {
            body_grey * rng.random_range(0.4..0.9)
        } else {
            rng.random_range(80.0..140.0)
        },
        digit_w,
        digit_h: DIGIT_H,
        digit_gap,
        digits_origin: (
            digits_centre.0 - block_w / 2.0,
            digits_centre.1 - DIGIT_H / 2.0,
        ),
        label,
        button: Button {
            centre: (0.0, button_cy - shift),
            radius: button_r,
            grey: (body_grey + rng.random_range(-8.0..30.0)).max(8.0),
        },
        sticker,
    }
}

/// Focal length, rotation, tilt and a framing where the LCD window spans 25–65 % of the frame
/// width and lies wholly inside the frame (about half of the time with the whole body too).
fn camera_pose(rng: &mut impl Rng, token: &TokenLayout, width: u32, height: u32) -> CameraPose {
    let (w, h) = (width as f32, height as f32);
    let mut tilt = || {
        if rng.random_bool(0.6) {
            rng.random_range(-7.0..7.0)
        } else {
            rng.random_range(-15.0..15.0)
        }
    };
    let (tilt_x_deg, tilt_y_deg) = (tilt(), tilt());
    let rotation_deg = if rng.random_bool(0.75) {
        rng.random_range(-10.0..10.0)
    } else {
        rng.random_range(-20.0..20.0)
    };
    let focal_px = w * rng.random_range(0.9..2.0);
    let mut span = rng.random_range(0.25..0.65);
    let window = window_corners(token, token.bezel);
    let (bw, bh) = token.body_half;
    let body = [(-bw, -bh), (bw, -bh), (bw, bh), (-bw, bh)];
    let keep = if rng.random_bool(0.5) { &body } else { &window };
    let mut pose = CameraPose {
        focal_px,
        rotation_deg,
        tilt_x_deg,
        tilt_y_deg,
        distance: 1.0,
        anchor: token.window_centre,
        target_px: (w / 2.0, h / 2.0),
    };
    let margin = 0.03 * w;
    for outline in [keep, &window] {
        for _ in 0..30 {
            pose.distance = focal_px * 2.0 * token.window_half.0 / (span * w);
            pose.target_px = (w / 2.0, h / 2.0);
            let (lo, hi) = extent(&pose, outline, width, height);
            // Target ranges that keep the outline's bounding box inside the frame.
            let x_range = (margin - lo.0 + w / 2.0)..(w - margin - hi.0 + w / 2.0);
            let y_range = (margin - lo.1 + h / 2.0)..(h - margin - hi.1 + h / 2.0);
            if !x_range.is_empty() && !y_range.is_empty() {
                pose.target_px = (rng.random_range(x_range), rng.random_range(y_range));
                let (lo, hi) = extent(&pose, &window, width, height);
                if lo.0 >= 0.0 && lo.1 >= 0.0 && hi.0 <= w && hi.1 <= h {
                    return pose;
                }
            }
            // The body rarely fits at large spans: try a little smaller, but not below 25 %.
            span = (span * 0.95).max(0.25);
        }
    }
    // Centred, which always fits at 25 % in practice.
    pose.target_px = (w / 2.0, h / 2.0);
    pose
}

/// Corners (TL, TR, BR, BL) of the LCD window grown by `grow` on each side, in token units.
fn window_corners(token: &TokenLayout, grow: f32) -> [(f32, f32); 4] {
    let (cx, cy) = token.window_centre;
    let (hw, hh) = (token.window_half.0 + grow, token.window_half.1 + grow);
    [
        (cx - hw, cy - hh),
        (cx + hw, cy - hh),
        (cx + hw, cy + hh),
        (cx - hw, cy + hh),
    ]
}

/// The bounding box (min and max corners, pixels) of token-plane `points` in the frame.
fn extent(
    pose: &CameraPose,
    points: &[(f32, f32)],
    width: u32,
    height: u32,
) -> ((f32, f32), (f32, f32)) {
    let to_frame = pose.homography(width, height);
    let mut lo = (f32::MAX, f32::MAX);
    let mut hi = (f32::MIN, f32::MIN);
    for &(u, v) in points {
        let (x, y) = to_frame.map(f64::from(u), f64::from(v));
        let (x, y) = (x as f32, y as f32);
        lo = (lo.0.min(x), lo.1.min(y));
        hi = (hi.0.max(x), hi.1.max(y));
    }
    (lo, hi)
}

fn bench(rng: &mut impl Rng, token: &TokenLayout) -> Bench {
    let p: f32 = rng.random();
    let grey = if p < 0.3 {
        rng.random_range(20.0..60.0)
    } else if p < 0.7 {
        rng.random_range(70.0..140.0)
    } else {
        rng.random_range(150.0..225.0)
    };
    let body_diag = (token.body_half.0.powi(2) + token.body_half.1.powi(2)).sqrt();
    let items = if rng.random_bool(0.4) {
        rng.random_range(1..=4)
    } else {
        0
    };
    let clutter = (0..items)
        .map(|_| {
            let half: (f32, f32) = (rng.random_range(8.0..60.0), rng.random_range(2.0..40.0));
            let item_diag = (half.0 * half.0 + half.1 * half.1).sqrt();
            let distance = (body_diag + item_diag) * rng.random_range(1.0..1.6);
            let angle = rng.random_range(0.0..std::f32::consts::TAU);
            let item_grey = rng.random_range(0.0..255.0);
            Clutter {
                centre: (distance * angle.cos(), distance * angle.sin()),
                half,
                angle_deg: rng.random_range(0.0..180.0),
                grey: item_grey,
                text: item_grey > 170.0 && rng.random_bool(0.6),
            }
        })
        .collect();
    let shadow_angle = rng.random_range(0.0..std::f32::consts::TAU);
    let shadow_len = rng.random_range(0.5..4.0);
    Bench {
        grey,
        texture: rng.random_range(3.0..25.0),
        grain_deg: rng.random_bool(0.35).then(|| rng.random_range(0.0..180.0)),
        clutter,
        shadow: Shadow {
            offset: (
                shadow_len * shadow_angle.cos(),
                shadow_len * shadow_angle.sin(),
            ),
            softness: rng.random_range(1.0..5.0),
            strength: rng.random_range(0.15..0.55),
        },
    }
}

/// Exposure (capped so that the unglared panel does not clip), gradient, vignetting and glare.
///
/// Glare that reaches the window either is a small specular hotspot, which may clip but covers
/// only part of a segment, or a broad veil, capped so that lit segments keep about 40 grey levels
/// of contrast even after blur has mixed them with the glared panel.
fn lighting(
    rng: &mut impl Rng,
    token: &TokenLayout,
    lcd: &LcdLook,
    pose: &CameraPose,
    width: u32,
    height: u32,
) -> Lighting {
    let (w, h) = (width as f32, height as f32);
    let gradient: f32 = rng.random_range(0.0..0.6);
    let brightest = 1.0 + gradient / 2.0;
    let exposure = rng
        .random_range(0.6f32..1.4)
        .min(245.0 / (lcd.panel_grey * brightest));
    let panel = lcd.panel_grey * exposure * brightest;
    let ink = panel * lcd.ink_share;
    let p: f32 = rng.random();
    let spots = if p < 0.5 {
        0
    } else if p < 0.85 {
        1
    } else {
        2
    };
    // Blur can halve a thin stroke's contrast; the cap is shared in case both spots overlap.
    let veil_cap = (215.0 - panel + 0.5 * (panel - ink)).max(30.0) / spots.max(1) as f32;
    let digit_px = pose.focal_px / pose.distance * token.digit_h;
    let to_frame = pose.homography(width, height);
    let (cx, cy) = token.window_centre;
    let (wx, wy) = to_frame.map(f64::from(cx), f64::from(cy));
    let (wx, wy) = (wx as f32, wy as f32);
    // Half the window's diagonal in pixels.
    let window_reach = window_corners(token, 0.0)
        .iter()
        .map(|&(u, v)| {
            let (x, y) = to_frame.map(f64::from(u), f64::from(v));
            (x as f32 - wx).hypot(y as f32 - wy)
        })
        .fold(0.0, f32::max);
    let glare = (0..spots)
        .map(|_| {
            let on_window = rng.random_bool(0.5);
            let centre_px = if on_window {
                let u = cx + token.window_half.0 * rng.random_range(-0.9..0.9);
                let v = cy + token.window_half.1 * rng.random_range(-0.9..0.9);
                let (x, y) = to_frame.map(f64::from(u), f64::from(v));
                (x as f32, y as f32)
            } else {
                (rng.random_range(0.0..w), rng.random_range(0.0..h))
            };
            let hotspot = on_window && rng.random_bool(0.5);
            let (major, peak): (f32, f32) = if hotspot {
                (
                    digit_px * rng.random_range(0.05..0.15),
                    rng.random_range(100.0..260.0),
                )
            } else if on_window {
                (
                    w * rng.random_range(0.03..0.1),
                    rng.random_range(30.0..200.0),
                )
            } else {
                (
                    w * rng.random_range(0.03..0.15),
                    rng.random_range(40.0..260.0),
                )
            };
            let reaches_window =
                (centre_px.0 - wx).hypot(centre_px.1 - wy) < window_reach + 2.0 * major;
            Glare {
                centre_px,
                sigma_px: (major, major / rng.random_range(1.0..3.0)),
                angle_deg: rng.random_range(0.0..180.0),
                peak: if reaches_window && !hotspot {
                    peak.min(veil_cap)
                } else {
                    peak
                },
            }
        })
        .collect();
    Lighting {
        exposure,
        gradient,
        gradient_deg: rng.random_range(0.0..360.0),
        vignette: rng.random_range(0.0..0.4),
        glare,
    }
}

fn tints(rng: &mut impl Rng) -> Tints {
    let mut jitter = |spread: f32| rng.random_range(1.0 - spread..1.0 + spread);
    let panel = if jitter(0.5) > 1.0 {
        [0.92, 1.0, 0.86]
    } else {
        [0.88, 0.96, 1.04]
    };
    Tints {
        bench: [jitter(0.25), jitter(0.25), jitter(0.25)],
        body: [jitter(0.08), jitter(0.08), jitter(0.12)],
        panel: panel.map(|c| c * jitter(0.03)),
        light: [jitter(0.08), 1.0, jitter(0.12)],
    }
}
