//! Generates the labelled LCD fixture set (issue 4): varied lab photos of a MitID code display
//! token from `rig::sim::photo`, plus frames of the simulator's own scene, and `labels.csv`.
//!
//! ```text
//! cargo run --release --example lcd_fixtures -- [--seed S] [--count N] [--sim N] OUT_DIR
//! ```
//!
//! Every image is a pure function of the seed and its index, so the set is reproducible however
//! many threads render it. The shares of each condition are printed at the end.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::Parser;
use image::codecs::png::{CompressionType, FilterType, PngEncoder};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use otprig::rig::sim::photo::{
    Encoding, LabelMarks, PhotoContent, PhotoSpec, bench_class, photo_truth, render_photo,
};
use otprig::rig::sim::scene::{LcdContent, Optics, SceneRenderer};

/// Command line of the generator.
#[derive(Parser)]
struct Args {
    /// Seed of the whole set.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Number of lab photos.
    #[arg(long, default_value_t = 320)]
    count: usize,
    /// Number of simulator frames.
    #[arg(long, default_value_t = 40)]
    sim: usize,
    /// Directory to write the images and `labels.csv` to.
    out_dir: PathBuf,
}

const HEADER: &str = "file,expected,width,height,window_quad,digits_quad,font,slant_deg,\
rotation_deg,tilt_x_deg,tilt_y_deg,blur,noise,jpeg_quality,glare,gradient,contrast,colour,notes";

/// Slant of the simulator's digits: its top leans right by 5 % of the digit height.
const SIM_SLANT_DEG: f32 = 2.86;
/// Ink contrast of the simulator's digits: 1 - 30/190.
const SIM_CONTRAST: f32 = 0.84;

/// One image of the set: its labels row, and for lab photos the spec and content behind it.
struct Item {
    row: String,
    photo: Option<(PhotoSpec, PhotoContent)>,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    std::fs::create_dir_all(&args.out_dir)
        .with_context(|| format!("cannot create {}", args.out_dir.display()))?;
    let total = args.count + args.sim;
    let workers = std::thread::available_parallelism().map_or(1, usize::from);
    let mut items = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|worker| {
                let args = &args;
                scope.spawn(move || -> anyhow::Result<Vec<(usize, Item)>> {
                    (worker..total)
                        .step_by(workers)
                        .map(|i| Ok((i, make_item(args, i)?)))
                        .collect()
                })
            })
            .collect();
        let mut items = Vec::with_capacity(total);
        for handle in handles {
            let done = handle
                .join()
                .map_err(|_| anyhow::anyhow!("a render thread panicked"))??;
            items.extend(done);
        }
        anyhow::Ok(items)
    })?;
    items.sort_by_key(|(i, _)| *i);
    let mut csv = format!("{HEADER}\n");
    for (_, item) in &items {
        csv.push_str(&item.row);
        csv.push('\n');
    }
    let labels = args.out_dir.join("labels.csv");
    std::fs::write(&labels, csv).with_context(|| format!("cannot write {}", labels.display()))?;
    let photos: Vec<_> = items
        .iter()
        .filter_map(|(_, it)| it.photo.as_ref())
        .collect();
    print!("{}", shares(&photos));
    println!(
        "wrote {} photos and {} simulator frames to {}",
        args.count,
        args.sim,
        args.out_dir.display()
    );
    Ok(())
}

/// Renders and saves image `index` (photos first, then simulator frames).
fn make_item(args: &Args, index: usize) -> anyhow::Result<Item> {
    let mut rng = ChaCha8Rng::seed_from_u64(args.seed);
    rng.set_stream(index as u64);
    if index < args.count {
        make_photo(&args.out_dir, index + 1, &mut rng)
    } else {
        make_sim_frame(&args.out_dir, index - args.count + 1, &mut rng)
    }
}

fn make_photo(dir: &Path, number: usize, rng: &mut ChaCha8Rng) -> anyhow::Result<Item> {
    let spec = PhotoSpec::random(rng);
    let content = PhotoContent::random(rng);
    let photo = render_photo(&spec, &content);
    let (bytes, extension) = photo.encode(spec.sensor.encoding)?;
    let file = format!("photo-{number:04}.{extension}");
    std::fs::write(dir.join(&file), bytes).with_context(|| format!("cannot write {file}"))?;
    let t = &photo.truth;
    let s = &t.summary;
    let row = [
        file,
        t.expected.clone(),
        spec.width.to_string(),
        spec.height.to_string(),
        quad(&t.window),
        quad(&t.digits),
        s.font.to_string(),
        format!("{:.1}", s.slant_deg),
        format!("{:.1}", s.rotation_deg),
        format!("{:.1}", s.tilt_x_deg),
        format!("{:.1}", s.tilt_y_deg),
        format!("{:.2}", s.blur),
        format!("{:.1}", s.noise),
        s.jpeg_quality.map_or(String::new(), |q| q.to_string()),
        s.glare.to_string(),
        format!("{:.2}", s.gradient),
        format!("{:.2}", s.contrast),
        if s.colour { "rgb" } else { "grey" }.to_string(),
        s.notes.join("; "),
    ]
    .join(",");
    Ok(Item {
        row,
        photo: Some((spec, content)),
    })
}

fn make_sim_frame(dir: &Path, number: usize, rng: &mut ChaCha8Rng) -> anyhow::Result<Item> {
    let (width, height) = if rng.random_bool(0.8) {
        (640, 480)
    } else {
        (800, 600)
    };
    let optics = Optics {
        blur: rng.random_range(0.5..1.5),
        noise: rng.random_range(2.0..6.0),
        tilt_deg: rng.random_range(-3.0..3.0),
        light: rng.random_range(0.7..1.3),
        gradient: rng.random_range(0.0..0.3),
    };
    let seven_with_f = rng.random_bool(0.5);
    let content = PhotoContent::random(rng);
    let (lcd, note) = match content {
        PhotoContent::Off => (LcdContent::Off, "off"),
        PhotoContent::Blank => (LcdContent::On([0; 6]), "on-blank (ghosts only)"),
        PhotoContent::Code(digits) => (
            LcdContent::code(digits, seven_with_f),
            if seven_with_f && digits.contains(&7) {
                "7 with f"
            } else {
                ""
            },
        ),
    };
    let mut renderer = SceneRenderer::new(width, height, optics, rng.random());
    let image = renderer.render(&lcd);
    let file = format!("sim-{number:04}.png");
    let mut bytes = Vec::new();
    let encoder =
        PngEncoder::new_with_quality(&mut bytes, CompressionType::Best, FilterType::Adaptive);
    image.write_with_encoder(encoder)?;
    std::fs::write(dir.join(&file), bytes).with_context(|| format!("cannot write {file}"))?;
    let (x, y, w, h) = renderer.lcd_digits_region();
    let (x0, y0, x1, y1) = (x as f32, y as f32, (x + w) as f32, (y + h) as f32);
    let mut notes =
        vec!["simulator scene; digits_quad is its axis-aligned reader region (8% margin)"];
    if !note.is_empty() {
        notes.push(note);
    }
    let row = [
        file,
        content.expected(),
        width.to_string(),
        height.to_string(),
        String::new(),
        quad(&[(x0, y0), (x1, y0), (x1, y1), (x0, y1)]),
        "sim".to_string(),
        format!("{SIM_SLANT_DEG:.1}"),
        format!("{:.1}", optics.tilt_deg),
        "0.0".to_string(),
        "0.0".to_string(),
        format!("{:.2}", optics.blur),
        format!("{:.1}", optics.noise),
        String::new(),
        "0".to_string(),
        format!("{:.2}", optics.gradient),
        format!("{SIM_CONTRAST:.2}"),
        "grey".to_string(),
        notes.join("; "),
    ]
    .join(",");
    Ok(Item { row, photo: None })
}

/// Eight numbers `x0 y0 … x3 y3` rounded to 0.1 px.
fn quad(corners: &[(f32, f32); 4]) -> String {
    corners
        .iter()
        .map(|(x, y)| format!("{x:.1} {y:.1}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The share of each condition among the lab photos, as a printable table.
fn shares(photos: &[&(PhotoSpec, PhotoContent)]) -> String {
    let n = photos.len().max(1) as f32;
    let mut groups: BTreeMap<&str, BTreeMap<String, usize>> = BTreeMap::new();
    let mut count = |group: &'static str, key: String| {
        *groups.entry(group).or_default().entry(key).or_default() += 1;
    };
    let mut digit_uses = [0usize; 10];
    for (spec, content) in photos {
        count("frame", format!("{}x{}", spec.width, spec.height));
        count("font", spec.font.name.to_string());
        let (kind, digits) = match content {
            PhotoContent::Off => ("blank, off", None),
            PhotoContent::Blank => ("blank, on (ghosts only)", None),
            PhotoContent::Code(d) => ("code", Some(d)),
        };
        count("content", kind.to_string());
        if let Some(digits) = digits {
            for &d in digits {
                digit_uses[usize::from(d)] += 1;
            }
            if digits.contains(&7) {
                let shape = if spec.font.seven_with_f {
                    "with f"
                } else {
                    "without f"
                };
                count("7 shape (photos with a 7)", shape.to_string());
            }
            if digits.iter().filter(|&&d| d == 1).count() >= 3 {
                count("codes with three or more 1s", "yes".to_string());
            }
        }
        count(
            "colour",
            if spec.tints.is_some() { "rgb" } else { "grey" }.to_string(),
        );
        count(
            "encoding",
            match spec.sensor.encoding {
                Encoding::Png => "png".to_string(),
                Encoding::Jpeg { quality } if quality < 50 => "jpeg q30-49".to_string(),
                Encoding::Jpeg { quality } if quality < 75 => "jpeg q50-74".to_string(),
                Encoding::Jpeg { .. } => "jpeg q75-95".to_string(),
            },
        );
        count("glare spots", spec.lighting.glare.len().to_string());
        let notes = photo_truth(spec, content).summary.notes;
        let has = |note: &str| notes.iter().any(|n| n == note).to_string();
        count("glare centred on the window", has("glare on window"));
        count("glare clipping on the window", has("glare clips"));
        let rotation = spec.camera.rotation_deg.abs();
        count("|rotation|", bucket(rotation, &[5.0, 10.0], "deg"));
        let tilt = spec
            .camera
            .tilt_x_deg
            .abs()
            .max(spec.camera.tilt_y_deg.abs());
        count("max |tilt|", bucket(tilt, &[5.0, 10.0], "deg"));
        let blur = spec.sensor.blur_px * 640.0 / spec.width as f32;
        count("blur (px at 640 wide)", bucket(blur, &[0.6, 1.2], "px"));
        count(
            "noise",
            bucket(spec.sensor.noise, &[2.0, 5.0], "grey levels"),
        );
        count("contrast", bucket(spec.lcd.contrast(), &[0.55, 0.7], ""));
        count("gradient", bucket(spec.lighting.gradient, &[0.2, 0.4], ""));
        count(
            "exposure",
            bucket(spec.lighting.exposure, &[0.85, 1.15], ""),
        );
        count("bench", bench_class(spec.bench.grey).to_string());
        count(
            "clutter on bench",
            (!spec.bench.clutter.is_empty()).to_string(),
        );
        let label = match spec.token.label.paper {
            Some(_) => "sticker",
            None => "printed on body",
        };
        count("label", label.to_string());
        let sticker = match spec.token.sticker.map(|s| s.marks) {
            None => "none",
            Some(LabelMarks::Text) => "text",
            Some(LabelMarks::Barcode) => "barcode",
        };
        count("distractor sticker", sticker.to_string());
        let t = &spec.token;
        count(
            "window aspect",
            bucket(t.window_half.0 / t.window_half.1, &[3.0, 4.0], ""),
        );
        count(
            "digit height / window height",
            bucket(t.digit_h / (2.0 * t.window_half.1), &[0.45, 0.6], ""),
        );
    }
    let mut out = String::new();
    for (group, keys) in &groups {
        let _ = write!(out, "{group}:");
        for (key, k) in keys {
            let _ = write!(out, " {key} {:.0}%", 100.0 * *k as f32 / n);
        }
        out.push('\n');
    }
    let total: usize = digit_uses.iter().sum::<usize>().max(1);
    let _ = write!(out, "digit uses:");
    for (d, k) in digit_uses.iter().enumerate() {
        let _ = write!(out, " {d} {:.1}%", 100.0 * *k as f32 / total as f32);
    }
    out.push('\n');
    out
}

/// A label for `value` among the buckets split at `edges`.
fn bucket(value: f32, edges: &[f32], unit: &str) -> String {
    let unit = if unit.is_empty() {
        String::new()
    } else {
        format!(" {unit}")
    };
    match edges.iter().position(|&e| value < e) {
        Some(0) => format!("<{}{unit}", edges[0]),
        Some(i) => format!("{}-{}{unit}", edges[i - 1], edges[i]),
        None => format!(">={}{unit}", edges[edges.len() - 1]),
    }
}
