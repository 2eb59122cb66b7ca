//! The LCD reader on the labelled fixture set (`fixtures/lcd/`): whole frames, no region given.
//!
//! Prints the figures (exact reads, blanks, wrong codes, unreadable by reason, ms per frame) and
//! fails below the floors measured for this version. The target is higher (99.5 % exact,
//! every blank read blank, never a confident wrong code); the floors only stop regressions while
//! the reader gets there.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Instant;

use otprig::perception::lcd::{LcdReader, LcdReading, MIN_CODE_CONFIDENCE, Quad, read_window};

/// Floors of this version (measured: 359 of 360 exact, 51 of 51 blanks).
const MIN_EXACT_SHARE: f64 = 0.997;
const MIN_BLANK_SHARE: f64 = 1.0;
/// A wrong code at or above this confidence fails the test outright.
const HIGH_CONFIDENCE: f32 = 0.9;
/// Displays showing a code read as blank, tolerated in this version (measured: 1, faint hairline
/// digits under glare: photo-0210).
const MAX_BLANK_ON_CODE: usize = 1;

/// Photos of unseen sets (`fixtures/lcd-unseen/`) on which the reader once gave a wrong verdict:
/// a good token blamed for an invalid pattern (glare on a bright panel, photo-0103; a barcode
/// sticker read as digits beside a blank display, photo-0306) or a wrong code (an 8 read as a 0
/// under glare over its middle bar, seed13-photo-0094 and -0338; an 8 read as a 9 with a glare
/// spot over most of its segment e, seed21-photo-0310; a 9 read as a 5 where the window's rim
/// took its last stroke with it, seed26-photo-0235 and -0266; a 9 read as a 3 with confidence
/// 0.65 under a clipped glare spot that covers its whole segment f, seed23-photo-0117). Each must
/// read right or be blamed on the rig, never on the token, and a blank display must read blank;
/// only where glare covers a stroke whole ([`COVERED`]) may a code be a wrong guess, and then
/// only at the lowest confidence a code is given with.
#[test]
fn unseen_photos_read_right_or_blame_the_rig() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/lcd-unseen");
    let labels = std::fs::read_to_string(dir.join("labels.csv")).unwrap();
    let mut photos = 0;
    for line in labels.lines().skip(1) {
        let fields: Vec<&str> = line.splitn(3, ',').collect();
        let (file, expected) = (fields[0], fields[1]);
        let frame = image::open(dir.join(file)).unwrap().into_luma8();
        let read = LcdReader::new(6).read(&frame);
        println!("{file}: {expected} read {:?}", read.reading);
        match &read.reading {
            LcdReading::Code(code) if COVERED.contains(&file) && code != expected => assert!(
                read.confidence <= MIN_CODE_CONFIDENCE,
                "{file}: {code} for {expected} at confidence {}",
                read.confidence
            ),
            LcdReading::Code(code) => assert_eq!(code, expected, "{file}"),
            LcdReading::Blank => assert_eq!(expected, "blank", "{file}: a code read as blank"),
            LcdReading::Unreadable(why) => {
                assert!(!why.is_token_fault(), "{file}: {why:?} blamed on the token");
                assert_ne!(expected, "blank", "{file}: a blank display read as {why:?}");
            }
        }
        photos += 1;
    }
    assert_eq!(photos, 8);
}

/// Unseen photos with a segment under glare from end to end: nothing shows whether it is lit.
const COVERED: [&str; 1] = ["seed23-photo-0117.jpg"];

#[test]
fn reads_the_fixture_set() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/lcd");
    let labels = std::fs::read_to_string(dir.join("labels.csv")).unwrap();
    let (mut total, mut exact, mut blanks, mut blanks_right) = (0usize, 0usize, 0usize, 0usize);
    let mut wrong = Vec::new();
    let mut blank_on_code = Vec::new();
    let mut unreadable: BTreeMap<String, usize> = BTreeMap::new();
    let mut by_font: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    let mut seconds = 0f64;
    for line in labels.lines().skip(1) {
        let fields: Vec<&str> = line.splitn(19, ',').collect();
        let (file, expected, font) = (fields[0], fields[1], fields[6]);
        let frame = image::open(dir.join(file)).unwrap().into_luma8();
        let started = Instant::now();
        let read = LcdReader::new(6).read(&frame);
        seconds += started.elapsed().as_secs_f64();
        // A calibrated window (here the labelled one, set by hand) is a different crop of the
        // same photo: it may fail to read, but never give a wrong code or a code on a blank.
        if let Some(quad) = labelled_window(fields[4])
            && let LcdReading::Code(code) = read_window(&frame, &quad, 6).reading
        {
            assert_eq!(code, expected, "{file}: read through the labelled window");
        }
        total += 1;
        let entry = by_font.entry(font.to_string()).or_default();
        entry.1 += 1;
        let right = match &read.reading {
            LcdReading::Code(code) => {
                if code != expected {
                    wrong.push(format!(
                        "{file}: {expected} read {code} ({:.2})",
                        read.confidence
                    ));
                    assert!(
                        read.confidence < HIGH_CONFIDENCE,
                        "{file}: confident wrong code {code} for {expected}"
                    );
                }
                code == expected
            }
            LcdReading::Blank => {
                if expected != "blank" {
                    blank_on_code.push(format!(
                        "{file}: {expected} read blank ({:.2})",
                        read.confidence
                    ));
                }
                expected == "blank"
            }
            LcdReading::Unreadable(why) => {
                *unreadable
                    .entry(format!("{why:?}").chars().take(14).collect())
                    .or_default() += 1;
                false
            }
        };
        if expected == "blank" {
            blanks += 1;
            blanks_right += usize::from(right);
            assert!(
                !matches!(read.reading, LcdReading::Code(_)),
                "{file}: a code on a blank display"
            );
        }
        if right {
            exact += 1;
            entry.0 += 1;
        }
    }
    println!(
        "fixtures: {exact}/{total} exact ({:.1} %), blanks {blanks_right}/{blanks}, wrong codes {}, \
         codes read as blank {}, unreadable {unreadable:?}, {:.2} ms/frame (debug builds are slower)",
        100.0 * exact as f64 / total as f64,
        wrong.len(),
        blank_on_code.len(),
        1000.0 * seconds / total as f64
    );
    println!("by font (right/total): {by_font:?}");
    for w in wrong.iter().chain(&blank_on_code) {
        println!("wrong: {w}");
    }
    assert!(total >= 300, "the set holds {total} photos");
    assert!(
        exact as f64 >= MIN_EXACT_SHARE * total as f64,
        "{exact}/{total}"
    );
    assert!(blanks_right as f64 >= MIN_BLANK_SHARE * blanks as f64);
    // No wrong code at any confidence (measured: none).
    assert!(wrong.is_empty(), "{wrong:?}");
    assert!(
        blank_on_code.len() <= MAX_BLANK_ON_CODE,
        "{blank_on_code:?}"
    );
}

/// The `window_quad` column (`x0 y0 … x3 y3`, empty for simulator frames) as a quad.
fn labelled_window(text: &str) -> Option<Quad> {
    let v: Vec<f32> = text
        .split_whitespace()
        .map(|n| n.parse().expect("a number in window_quad"))
        .collect();
    (v.len() == 8).then(|| Quad([[v[0], v[1]], [v[2], v[3]], [v[4], v[5]], [v[6], v[7]]]))
}
