//! LCD calibration: where `otprig calibrate` found a rig's LCD window, stored beside the rig file.
//!
//! The file `<rig>.calibration.yaml` (for `rig/lab-pi.yaml`: `rig/lab-pi.calibration.yaml`) holds
//! the window's four corners in camera pixels for the rig's frame size. When it exists the rig
//! loads it and the LCD reader starts from that window (and still re-locates when it is lost);
//! without it the reader finds the window itself. Strict like every other file: unknown keys and
//! a frame size other than the rig camera's are errors naming file, line and column.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::error::{ConfigError, Problems};
use super::source;

/// A calibrated LCD window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LcdCalibration {
    /// Always `calibration`.
    pub kind: String,
    /// The rig's name, as in its file.
    pub rig: String,
    /// Frame width and height the corners refer to.
    pub frame: [u32; 2],
    /// Corners of the LCD window: top-left, top-right, bottom-right, bottom-left, in pixels.
    pub lcd_window: [[f32; 2]; 4],
    /// What the reader saw when calibrating (digits or `blank`), for the record.
    pub reading: String,
    /// When the calibration was made (RFC 3339, UTC).
    pub made: String,
    /// Where the file was read from (not written).
    #[serde(skip)]
    pub file: PathBuf,
}

impl LcdCalibration {
    /// The calibration file that belongs to `rig_file`.
    pub fn path_for(rig_file: &Path) -> PathBuf {
        super::rig::file_beside(rig_file, "calibration.yaml")
    }

    /// Loads `rig_file`'s calibration if there is one, checked against the camera's frame size.
    pub fn load_for(
        rig_file: &Path,
        rig_name: &str,
        frame: [u32; 2],
    ) -> Result<Option<Self>, ConfigError> {
        let file = Self::path_for(rig_file);
        if !file.exists() {
            return Ok(None);
        }
        let text = source::read(&file)?;
        let (mut calibration, index): (LcdCalibration, _) = source::parse(&file, &text)?;
        calibration.file = file.clone();
        let mut problems = Problems::new(&file, &index);
        if calibration.kind != "calibration" {
            problems.push("kind", "expected `kind: calibration`");
        }
        if calibration.rig != rig_name {
            problems.push(
                "rig",
                format!(
                    "made for rig `{}`, not `{rig_name}`; run `otprig calibrate` again",
                    calibration.rig
                ),
            );
        }
        if calibration.frame != frame {
            problems.push(
                "frame",
                format!(
                    "made for {}×{} frames but the camera delivers {}×{}; run `otprig calibrate` again",
                    calibration.frame[0], calibration.frame[1], frame[0], frame[1]
                ),
            );
        }
        let inside = calibration.lcd_window.iter().all(|p| {
            p.iter().all(|v| v.is_finite())
                && (0.0..=frame[0] as f32).contains(&p[0])
                && (0.0..=frame[1] as f32).contains(&p[1])
        });
        if !inside {
            problems.push("lcd_window", "a corner lies outside the frame");
        }
        problems.finish(Some(calibration))
    }

    /// The file's text: a comment saying what made it, then the YAML (flow style for points).
    pub fn to_text(&self) -> String {
        let quote = |s: &str| serde_json::to_string(s).unwrap_or_default();
        let corners: Vec<String> = self
            .lcd_window
            .iter()
            .map(|p| format!("[{:.1}, {:.1}]", p[0], p[1]))
            .collect();
        format!(
            "# Written by `otprig calibrate`: where the LCD window is in this rig's camera frames.\n\
             # Delete this file to let the reader locate the window by itself.\n\
             kind: calibration\nrig: {}\nframe: [{}, {}]\n\
             # top-left, top-right, bottom-right, bottom-left, in pixels\n\
             lcd_window: [{}]\nreading: {}\nmade: {}\n",
            quote(&self.rig),
            self.frame[0],
            self.frame[1],
            corners.join(", "),
            quote(&self.reading),
            quote(&self.made),
        )
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn calibration() -> LcdCalibration {
        LcdCalibration {
            kind: "calibration".into(),
            rig: "bench".into(),
            frame: [640, 480],
            lcd_window: [[10.0, 20.0], [300.0, 22.0], [298.0, 120.0], [12.0, 118.0]],
            reading: "123456".into(),
            made: "2026-11-21T10:00:00Z".into(),
            file: PathBuf::new(),
        }
    }

    #[test]
    fn a_written_calibration_loads_back() {
        let dir = tempfile::tempdir().unwrap();
        let rig = dir.path().join("bench.yaml");
        std::fs::write(LcdCalibration::path_for(&rig), calibration().to_text()).unwrap();
        let loaded = LcdCalibration::load_for(&rig, "bench", [640, 480])
            .unwrap()
            .unwrap();
        assert_eq!(loaded.lcd_window, calibration().lcd_window);
        assert!(loaded.file.ends_with("bench.calibration.yaml"));
    }

    #[test]
    fn a_calibration_for_another_frame_size_is_refused_with_its_line() {
        let dir = tempfile::tempdir().unwrap();
        let rig = dir.path().join("bench.yaml");
        std::fs::write(LcdCalibration::path_for(&rig), calibration().to_text()).unwrap();
        let error = LcdCalibration::load_for(&rig, "bench", [800, 600]).unwrap_err();
        let text = error.to_string();
        assert!(text.contains("bench.calibration.yaml:"), "{text}");
        assert!(text.contains("made for 640×480 frames"), "{text}");
    }

    #[test]
    fn no_file_means_no_calibration() {
        let dir = tempfile::tempdir().unwrap();
        let rig = dir.path().join("bench.yaml");
        assert!(
            LcdCalibration::load_for(&rig, "bench", [640, 480])
                .unwrap()
                .is_none()
        );
    }
}
