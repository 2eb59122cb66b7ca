//! The labelled photo set of the OCR benchmark: `labels.csv` beside the photos it describes.
//!
//! Inputs: a fixture directory holding whole camera frames (`.jpg`/`.png`, grey or colour) and a
//! `labels.csv` with a header and the columns
//! `file,expected,width,height,window_quad,digits_quad,font,slant_deg,rotation_deg,tilt_x_deg,`
//! `tilt_y_deg,blur,noise,jpeg_quality,glare,gradient,contrast,colour,notes`.
//! Outputs: one [`LabelledPhoto`] per data line, in file order.
//!
//! Invariants:
//! - `file`, `expected` and `digits_quad` are required in the header and on every line; the other
//!   columns may be missing or empty (they only feed the accuracy breakdown).
//! - `expected` is a string of digits or `blank`; a quad is 8 numbers `x0 y0 … x3 y3` (top left,
//!   top right, bottom right, bottom left, in frame pixels).
//! - Every problem of the file is reported at once, each as `labels.csv:LINE: what`.

use std::fmt;
use std::path::{Path, PathBuf};

use super::error::{BenchError, LabelProblem};

/// The name of the label file in a fixture directory.
pub const LABELS_FILE: &str = "labels.csv";

/// What a photo's LCD shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expected {
    /// A code: the digits, left to right.
    Code(String),
    /// No digit is lit (blank or switched-off display).
    Blank,
}

impl fmt::Display for Expected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expected::Code(digits) => f.write_str(digits),
            Expected::Blank => f.write_str("blank"),
        }
    }
}

/// Four corners in frame pixels: top left, top right, bottom right, bottom left.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Quad {
    /// The corners `(x, y)` in the order TL, TR, BR, BL.
    pub corners: [(f32, f32); 4],
}

impl Quad {
    /// Parses 8 space-separated numbers `x0 y0 x1 y1 x2 y2 x3 y3`.
    pub fn parse(text: &str) -> Result<Quad, String> {
        let numbers = text
            .split_whitespace()
            .map(|n| {
                n.parse::<f32>()
                    .ok()
                    .filter(|v| v.is_finite())
                    .ok_or_else(|| format!("`{n}` is not a number"))
            })
            .collect::<Result<Vec<f32>, String>>()?;
        let [x0, y0, x1, y1, x2, y2, x3, y3] = numbers[..] else {
            return Err(format!("a quad has 8 numbers, found {}", numbers.len()));
        };
        Ok(Quad {
            corners: [(x0, y0), (x1, y1), (x2, y2), (x3, y3)],
        })
    }

    /// Mean length of the left (TL–BL) and right (TR–BR) edges: the digit height for a digits quad.
    pub fn height(&self) -> f32 {
        let [tl, tr, br, bl] = self.corners;
        let length = |a: (f32, f32), b: (f32, f32)| (a.0 - b.0).hypot(a.1 - b.1);
        (length(tl, bl) + length(tr, br)) / 2.0
    }
}

/// One photo of the fixture set and what is known about it.
#[derive(Debug, Clone, PartialEq)]
pub struct LabelledPhoto {
    /// The file name as written in `labels.csv` (relative to the fixture directory).
    pub file: String,
    /// The full path of the image.
    pub path: PathBuf,
    /// The 1-based line of `labels.csv` this photo came from.
    pub line: usize,
    /// What the LCD shows.
    pub expected: Expected,
    /// Frame width in pixels, when labelled.
    pub width: Option<u32>,
    /// Frame height in pixels, when labelled.
    pub height: Option<u32>,
    /// The LCD window (glass) quad; absent for simulator frames.
    pub window_quad: Option<Quad>,
    /// The quad around the digit cells (all positions, lit or not).
    pub digits_quad: Quad,
    /// Font name (e.g. which seven-segment style).
    pub font: String,
    /// Italic slant of the digits in degrees.
    pub slant_deg: Option<f32>,
    /// In-plane rotation of the token in degrees.
    pub rotation_deg: Option<f32>,
    /// Out-of-plane tilt about the horizontal axis in degrees.
    pub tilt_x_deg: Option<f32>,
    /// Out-of-plane tilt about the vertical axis in degrees.
    pub tilt_y_deg: Option<f32>,
    /// Blur (sigma in pixels or the generator's scale).
    pub blur: Option<f32>,
    /// Sensor noise (grey levels or the generator's scale).
    pub noise: Option<f32>,
    /// JPEG quality the photo was saved with, when it is a JPEG.
    pub jpeg_quality: Option<f32>,
    /// Glare strength.
    pub glare: Option<f32>,
    /// Light gradient strength.
    pub gradient: Option<f32>,
    /// Contrast factor.
    pub contrast: Option<f32>,
    /// Colour description (e.g. `grey`, `rgb`, a tint).
    pub colour: String,
    /// Free text.
    pub notes: String,
}

impl LabelledPhoto {
    /// True for a simulator frame (no labelled LCD window), false for a photo.
    pub fn is_simulated(&self) -> bool {
        self.window_quad.is_none()
    }
}

/// Loads `dir/labels.csv`; each photo's `path` is `dir/file`.
pub fn load_labels(dir: &Path) -> Result<Vec<LabelledPhoto>, BenchError> {
    let path = dir.join(LABELS_FILE);
    let text = std::fs::read_to_string(&path).map_err(|source| BenchError::Io {
        path: path.clone(),
        source,
    })?;
    parse_labels(&text, &path, dir)
}

/// Parses the text of a label file `path`; photo paths are resolved against `dir`.
pub fn parse_labels(text: &str, path: &Path, dir: &Path) -> Result<Vec<LabelledPhoto>, BenchError> {
    let invalid = |problems| BenchError::Labels {
        path: path.to_path_buf(),
        problems,
    };
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let header = match reader.headers() {
        Ok(header) => header.clone(),
        Err(error) => return Err(invalid(vec![csv_problem(&error, 1)])),
    };
    let columns = Columns::find(&header)
        .map_err(|message| invalid(vec![LabelProblem { line: 1, message }]))?;
    let mut photos = Vec::new();
    let mut problems = Vec::new();
    let mut record = csv::StringRecord::new();
    let mut line = 1;
    loop {
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {
                line = record.position().map_or(line + 1, |p| p.line() as usize);
                match columns.photo(&record, line, dir) {
                    Ok(photo) => photos.push(photo),
                    Err(message) => problems.push(LabelProblem { line, message }),
                }
            }
            Err(error) => {
                let is_io = matches!(error.kind(), csv::ErrorKind::Io(_));
                problems.push(csv_problem(&error, line + 1));
                if is_io {
                    break;
                }
                line += 1;
            }
        }
    }
    if !problems.is_empty() {
        return Err(invalid(problems));
    }
    Ok(photos)
}

/// A csv error as a problem at its own line (or `fallback_line` when it has none).
fn csv_problem(error: &csv::Error, fallback_line: usize) -> LabelProblem {
    let line = error
        .position()
        .map_or(fallback_line, |p| p.line() as usize);
    let message = match error.kind() {
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => format!("{len} fields where the header has {expected_len}"),
        _ => error.to_string(),
    };
    LabelProblem { line, message }
}

/// Where each known column sits in the header.
struct Columns {
    file: usize,
    expected: usize,
    digits_quad: usize,
    optional: [Option<usize>; OPTIONAL_COLUMNS.len()],
}

const OPTIONAL_COLUMNS: [&str; 16] = [
    "width",
    "height",
    "window_quad",
    "font",
    "slant_deg",
    "rotation_deg",
    "tilt_x_deg",
    "tilt_y_deg",
    "blur",
    "noise",
    "jpeg_quality",
    "glare",
    "gradient",
    "contrast",
    "colour",
    "notes",
];

impl Columns {
    fn find(header: &csv::StringRecord) -> Result<Columns, String> {
        let index = |name: &str| header.iter().position(|h| h == name);
        let required = |name: &str| index(name).ok_or_else(|| format!("no `{name}` column"));
        let missing: Vec<String> = ["file", "expected", "digits_quad"]
            .into_iter()
            .filter_map(|name| required(name).err())
            .collect();
        if !missing.is_empty() {
            return Err(format!("header: {}", missing.join(", ")));
        }
        Ok(Columns {
            file: required("file")?,
            expected: required("expected")?,
            digits_quad: required("digits_quad")?,
            optional: OPTIONAL_COLUMNS.map(index),
        })
    }

    /// The text of optional column `name` ("" when the column is absent).
    fn text<'r>(&self, record: &'r csv::StringRecord, name: &str) -> &'r str {
        OPTIONAL_COLUMNS
            .iter()
            .position(|c| *c == name)
            .and_then(|i| self.optional[i])
            .and_then(|i| record.get(i))
            .unwrap_or("")
    }

    fn number(&self, record: &csv::StringRecord, name: &str) -> Result<Option<f32>, String> {
        let text = self.text(record, name);
        if text.is_empty() {
            return Ok(None);
        }
        text.parse::<f32>()
            .ok()
            .filter(|v| v.is_finite())
            .map(Some)
            .ok_or_else(|| format!("{name}: `{text}` is not a number"))
    }

    fn photo(
        &self,
        record: &csv::StringRecord,
        line: usize,
        dir: &Path,
    ) -> Result<LabelledPhoto, String> {
        let field = |i: usize| record.get(i).unwrap_or("");
        let file = field(self.file);
        if file.is_empty() {
            return Err("file: empty".to_string());
        }
        let expected = parse_expected(field(self.expected))?;
        let digits_quad =
            Quad::parse(field(self.digits_quad)).map_err(|e| format!("digits_quad: {e}"))?;
        let window_text = self.text(record, "window_quad");
        let window_quad = if window_text.is_empty() {
            None
        } else {
            Some(Quad::parse(window_text).map_err(|e| format!("window_quad: {e}"))?)
        };
        let pixels = |name: &str| -> Result<Option<u32>, String> {
            match self.number(record, name)? {
                Some(v) if v >= 1.0 && v.fract() == 0.0 => Ok(Some(v as u32)),
                Some(v) => Err(format!("{name}: `{v}` is not a pixel count")),
                None => Ok(None),
            }
        };
        Ok(LabelledPhoto {
            file: file.to_string(),
            path: dir.join(file),
            line,
            expected,
            width: pixels("width")?,
            height: pixels("height")?,
            window_quad,
            digits_quad,
            font: self.text(record, "font").to_string(),
            slant_deg: self.number(record, "slant_deg")?,
            rotation_deg: self.number(record, "rotation_deg")?,
            tilt_x_deg: self.number(record, "tilt_x_deg")?,
            tilt_y_deg: self.number(record, "tilt_y_deg")?,
            blur: self.number(record, "blur")?,
            noise: self.number(record, "noise")?,
            jpeg_quality: self.number(record, "jpeg_quality")?,
            glare: self.number(record, "glare")?,
            gradient: self.number(record, "gradient")?,
            contrast: self.number(record, "contrast")?,
            colour: self.text(record, "colour").to_string(),
            notes: self.text(record, "notes").to_string(),
        })
    }
}

/// `blank` or a non-empty string of ASCII digits.
fn parse_expected(text: &str) -> Result<Expected, String> {
    if text.eq_ignore_ascii_case("blank") {
        Ok(Expected::Blank)
    } else if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        Ok(Expected::Code(text.to_string()))
    } else {
        Err(format!("expected: `{text}` is neither digits nor `blank`"))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const HEADER: &str = "file,expected,width,height,window_quad,digits_quad,font,slant_deg,rotation_deg,tilt_x_deg,tilt_y_deg,blur,noise,jpeg_quality,glare,gradient,contrast,colour,notes";

    fn parse(text: &str) -> Result<Vec<LabelledPhoto>, BenchError> {
        parse_labels(text, Path::new("set/labels.csv"), Path::new("set"))
    }

    #[test]
    fn reads_a_good_file() {
        let text = format!(
            "{HEADER}\n\
             a.png,012345,640,480,,10 20 110 20 110 60 10 60,seg7,3,1.5,0,0,0.8,3,,0,0.1,1,grey,sim\n\
             b.jpg,blank,1280,960,0 0 200 0 200 100 0 100,20 30 120 32 119 70 19 68,seg7,0,,,,,,85,,,,rgb,\"lab, lamp on\"\n"
        );
        let photos = parse(&text).unwrap();
        assert_eq!(photos.len(), 2);
        let a = &photos[0];
        assert_eq!(a.path, Path::new("set/a.png"));
        assert_eq!(a.line, 2);
        assert_eq!(a.expected, Expected::Code("012345".into()));
        assert!(a.is_simulated());
        assert_eq!(a.digits_quad.corners[2], (110.0, 60.0));
        assert_eq!(a.slant_deg, Some(3.0));
        assert_eq!(a.jpeg_quality, None);
        let b = &photos[1];
        assert_eq!(b.line, 3);
        assert_eq!(b.expected, Expected::Blank);
        assert!(!b.is_simulated());
        assert_eq!(b.width, Some(1280));
        assert_eq!(b.jpeg_quality, Some(85.0));
        assert_eq!(b.notes, "lab, lamp on");
        assert!((b.digits_quad.height() - 38.0).abs() < 0.1);
    }

    #[test]
    fn only_the_key_columns_are_required() {
        let photos = parse("file,digits_quad,expected\nx.png,0 0 9 0 9 9 0 9,7\n").unwrap();
        assert_eq!(photos[0].expected, Expected::Code("7".into()));
        assert_eq!(photos[0].colour, "");
        let error = parse("file,expected\nx.png,7\n").unwrap_err().to_string();
        assert_eq!(error, "set/labels.csv:1: header: no `digits_quad` column");
    }

    #[test]
    fn every_bad_line_is_named_with_file_and_line() {
        let text = format!(
            "{HEADER}\n\
             a.png,012345,640,480,,10 20 110 20 110 60 10 60,,,,,,,,,,,,,\n\
             b.png,01234x,640,480,,10 20 110 20 110 60 10 60,,,,,,,,,,,,,\n\
             c.png,blank,640,480,,10 20 110 20 110 60,,,,,,,,,,,,,\n\
             d.png,blank,640\n\
             e.png,blank,640,480,,10 20 110 20 110 60 10 60,,soft,,,,,,,,,,,\n"
        );
        let error = parse(&text).unwrap_err().to_string();
        assert_eq!(
            error,
            "set/labels.csv:3: expected: `01234x` is neither digits nor `blank`\n\
             set/labels.csv:4: digits_quad: a quad has 8 numbers, found 6\n\
             set/labels.csv:5: 3 fields where the header has 19\n\
             set/labels.csv:6: slant_deg: `soft` is not a number"
        );
    }

    #[test]
    fn a_missing_label_file_names_its_path() {
        let error = load_labels(Path::new("/nonexistent/fixtures")).unwrap_err();
        assert!(
            error
                .to_string()
                .starts_with("/nonexistent/fixtures/labels.csv: "),
            "{error}"
        );
    }
}
