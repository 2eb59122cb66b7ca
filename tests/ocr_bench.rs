//! The OCR benchmark (issue 4, item 6): a run on a tiny generated set with a scripted reader, the
//! anchors on real crops when they are installed, and a short run on the LCD fixture set.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::Path;

use image::GrayImage;
use otprig::bench::anchor::{Anchor, AnchorInput, AnchorSettings};
use otprig::bench::crop::ExactCrop;
use otprig::bench::labels::{Expected, load_labels};
use otprig::bench::ocr::{AnchorStatus, Answer, FrameRead, Verdict};
use otprig::bench::{FrameReader, OcrBenchOptions, run_ocr_bench};
use otprig::perception::lcd::LcdReader;
use otprig::rig::sim::scene::{LcdContent, Optics, SceneRenderer};

const HEADER: &str = "file,expected,width,height,window_quad,digits_quad,font,slant_deg,rotation_deg,tilt_x_deg,tilt_y_deg,blur,noise,jpeg_quality,glare,gradient,contrast,colour,notes";

/// Writes simulator frames showing `codes` (or a switched-off display) and their labels into `dir`.
fn write_sim_set(dir: &Path, codes: &[Option<[u8; 6]>]) {
    let mut labels = format!("{HEADER}\n");
    for (i, code) in codes.iter().enumerate() {
        let optics = Optics {
            tilt_deg: 0.0,
            ..Optics::default()
        };
        let mut renderer = SceneRenderer::new(640, 480, optics, 40 + i as u64);
        let (content, expected) = match code {
            Some(digits) => (
                LcdContent::code(*digits, false),
                digits.iter().map(|d| char::from(b'0' + d)).collect(),
            ),
            None => (LcdContent::Off, "blank".to_string()),
        };
        let file = format!("sim-{i}.png");
        renderer.render(&content).save(dir.join(&file)).unwrap();
        let (x, y, w, h) = renderer.lcd_digits_region();
        let (x0, y0, x1, y1) = (x, y, x + w, y + h);
        labels.push_str(&format!(
            "{file},{expected},640,480,,{x0} {y0} {x1} {y0} {x1} {y1} {x0} {y1},sim,2.9,0,0,0,0.8,3,,0,0.15,0.84,grey,test\n"
        ));
    }
    std::fs::write(dir.join("labels.csv"), labels).unwrap();
}

/// A reader that answers from a script, one answer per photo: located afresh after a reset,
/// then again on the second read, in the tracked window where the script says so.
struct ScriptedReader {
    answers: Vec<FrameRead>,
    next: usize,
    resets: usize,
    reads_since_reset: usize,
}

impl FrameReader for ScriptedReader {
    fn reset(&mut self) {
        self.resets += 1;
        self.next = self.resets - 1;
        self.reads_since_reset = 0;
    }

    fn read_frame(&mut self, _frame: &GrayImage) -> FrameRead {
        self.reads_since_reset += 1;
        let scripted = &self.answers[self.next];
        FrameRead {
            in_tracked_window: self.reads_since_reset > 1 && scripted.in_tracked_window,
            ..scripted.clone()
        }
    }
}

#[test]
fn a_run_counts_rights_wrongs_and_blanks_and_writes_details() {
    let dir = tempfile::tempdir().unwrap();
    write_sim_set(
        dir.path(),
        &[Some([1, 2, 3, 4, 5, 6]), Some([9, 8, 7, 6, 5, 4]), None],
    );
    let mut reader = ScriptedReader {
        answers: vec![
            FrameRead {
                answer: Answer::Digits("123456".into()),
                confidence: 0.9,
                in_tracked_window: true,
            },
            FrameRead {
                answer: Answer::Digits("988654".into()),
                confidence: 0.7,
                in_tracked_window: true,
            },
            FrameRead {
                answer: Answer::Digits(String::new()),
                confidence: 0.8,
                in_tracked_window: false,
            },
        ],
        next: 0,
        resets: 0,
        reads_since_reset: 0,
    };
    let details = dir.path().join("details.csv");
    let options = OcrBenchOptions {
        anchors: Vec::new(),
        details: Some(details.clone()),
        ..OcrBenchOptions::new(dir.path())
    };
    let report = run_ocr_bench(&options, &mut reader, &mut |_, _| {}).unwrap();
    assert_eq!(reader.resets, 3, "a fresh reader for every photo");
    let verdicts: Vec<Verdict> = report.photos.iter().map(|p| p.tracked.verdict).collect();
    assert_eq!(
        verdicts,
        [Verdict::Right, Verdict::WrongCode, Verdict::Right]
    );
    let whole = report.stats("otprig whole frame").unwrap();
    assert_eq!((whole.photos, whole.right, whole.wrong_codes), (3, 2, 1));
    assert_eq!(whole.confident_wrong_codes, Some(1));
    assert_eq!((whole.blank_photos, whole.blank_right), (1, 1));
    assert!(
        report
            .anchors
            .iter()
            .all(|(_, status)| *status == AnchorStatus::Skipped)
    );

    let mut text = Vec::new();
    report.print(&mut text).unwrap();
    let text = String::from_utf8(text).unwrap();
    assert!(text.contains("3 photos"), "{text}");
    assert!(text.contains("ssocr      skipped on request"), "{text}");
    assert!(text.contains("otprig whole frame"), "{text}");
    assert!(text.contains("66.7%"), "{text}");
    assert!(
        text.contains("mean ms on the 3 frames of 640×480"),
        "{text}"
    );
    // The tracked target is judged on the frames read in their tracked window.
    assert!(
        text.contains("on the 2 read in their tracked window"),
        "{text}"
    );
    let in_window: Vec<bool> = report
        .photos
        .iter()
        .map(|p| (p.whole_frame.in_tracked_window, p.tracked.in_tracked_window))
        .map(|(whole, tracked)| !whole && tracked)
        .collect();
    assert_eq!(in_window, [true, true, false]);

    let csv = std::fs::read_to_string(&details).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 4, "{csv}");
    assert!(lines[0].starts_with("file,expected,otprig,otprig_verdict,"));
    assert!(lines[2].starts_with("sim-1.png,987654,988654,wrong_code,"));
    assert!(lines[0].ends_with(",otprig_tracked_window"), "{csv}");
    assert!(
        lines[1].ends_with(",yes") && lines[3].ends_with(",no"),
        "{csv}"
    );
}

#[test]
fn a_limit_of_zero_photos_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    write_sim_set(dir.path(), &[Some([1, 2, 3, 4, 5, 6])]);
    let options = OcrBenchOptions {
        limit: Some(0),
        ..OcrBenchOptions::new(dir.path())
    };
    let error = run_ocr_bench(&options, &mut LcdReader::new(6), &mut |_, _| {}).unwrap_err();
    assert!(
        error.to_string().ends_with(": no labelled photo"),
        "{error}"
    );
}

/// Each installed anchor reads crops of clean simulator frames; a missing one is said so.
#[test]
fn installed_anchors_read_clean_simulator_crops() {
    let dir = tempfile::tempdir().unwrap();
    write_sim_set(dir.path(), &[Some([3, 0, 5, 8, 2, 7]), None]);
    let photos = load_labels(dir.path()).unwrap();
    let scratch = tempfile::tempdir().unwrap();
    for anchor in Anchor::ALL {
        let Some(version) = anchor.version() else {
            eprintln!("skipped: {} not installed", anchor.name());
            continue;
        };
        eprintln!("{version}");
        for photo in &photos {
            let frame = image::open(&photo.path).unwrap().into_luma8();
            let crop = ExactCrop::cut(&frame, photo).unwrap();
            let input = AnchorInput::prepare(
                anchor,
                &AnchorSettings::default(),
                &crop,
                6,
                scratch.path(),
                "c",
            )
            .unwrap();
            let read = input.run().unwrap();
            assert!(read.elapsed.as_secs_f64() > 0.0);
            // tesseract is no seven-segment reader: only its call is checked.
            if anchor == Anchor::Ssocr {
                let expected = match &photo.expected {
                    Expected::Code(code) => code.clone(),
                    Expected::Blank => String::new(),
                };
                assert_eq!(
                    read.digits,
                    expected,
                    "{} on {}: {:?}",
                    anchor.name(),
                    photo.file,
                    read
                );
            }
        }
    }
}

/// A short run of the whole benchmark on the committed LCD fixture set, with otprig's reader.
#[test]
fn the_benchmark_runs_on_the_lcd_fixture_set() {
    let options = OcrBenchOptions {
        limit: Some(6),
        ..OcrBenchOptions::new(common::root().join("fixtures/lcd"))
    };
    let report = run_ocr_bench(&options, &mut LcdReader::new(6), &mut |_, _| {}).unwrap();
    assert_eq!(report.photos.len(), 6);
    for (anchor, status) in &report.anchors {
        match anchor.version() {
            Some(_) => assert!(matches!(status, AnchorStatus::Ran(_)), "{status:?}"),
            None => assert_eq!(*status, AnchorStatus::NotInstalled),
        }
    }
    let mut text = Vec::new();
    report.print(&mut text).unwrap();
    let text = String::from_utf8(text).unwrap();
    assert!(text.contains("otprig tracked"), "{text}");
}

/// `otprig bench ocr` prints the table on stdout and exits 0; the anchors can be left out.
#[test]
fn bench_ocr_command_prints_the_table() {
    let dir = tempfile::tempdir().unwrap();
    write_sim_set(dir.path(), &[Some([4, 0, 7, 1, 9, 2]), None]);
    let details = dir.path().join("details.csv");
    let out = common::otprig()
        .args(["bench", "ocr", "--no-ssocr", "--no-tesseract", "--fixtures"])
        .arg(dir.path())
        .arg("--details")
        .arg(&details)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("OCR benchmark: 2 photos"), "{stdout}");
    assert!(stdout.contains("otprig whole frame"), "{stdout}");
    assert!(stdout.contains("ssocr      skipped on request"), "{stdout}");
    assert_eq!(
        std::fs::read_to_string(&details).unwrap().lines().count(),
        3
    );
}

/// A broken label file exits 3 and names the file and line.
#[test]
fn bench_ocr_command_names_a_bad_label_line() {
    let dir = tempfile::tempdir().unwrap();
    write_sim_set(dir.path(), &[Some([4, 0, 7, 1, 9, 2])]);
    let labels = dir.path().join("labels.csv");
    let text = std::fs::read_to_string(&labels).unwrap();
    std::fs::write(&labels, text.replace(",407192,", ",40719x,")).unwrap();
    let out = common::otprig()
        .args(["bench", "ocr", "--fixtures"])
        .arg(dir.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("labels.csv:2:"), "{stderr}");
}
