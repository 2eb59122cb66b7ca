//! The labelled speech set of the listening benchmark: `labels.csv` beside the recordings it
//! describes (made by `fixtures/voices/make-test-set.sh`).
//!
//! Inputs: a directory of recordings (WAV or FLAC) and a `labels.csv` with a header and the columns
//! `file,code,lang,voice,speed,peak_dbfs,snr_db,noise,echo`.
//! Outputs: one [`LabelledClip`] per data line, in file order.
//!
//! Invariants:
//! - `file`, `code`, `lang` and `voice` are required in the header and on every line; the other
//!   columns may be missing or empty (they only feed the accuracy breakdown).
//! - `code` is a string of digits; `voice` names a voice pack folder (`<packs>/<voice>`).
//! - Every problem of the file is reported at once, each as `labels.csv:LINE: what`.

use std::path::{Path, PathBuf};

use super::error::{BenchError, LabelProblem};
use super::labels::LABELS_FILE;

/// One recording and what it says.
#[derive(Debug, Clone, PartialEq)]
pub struct LabelledClip {
    /// The recording.
    pub path: PathBuf,
    /// The 1-based line of the label file that describes it.
    pub line: usize,
    /// The digits spoken.
    pub code: String,
    /// The language spoken (`en`, `da`).
    pub language: String,
    /// The voice pack of the speaker.
    pub voice: String,
    /// Signal-to-noise ratio in dB, when labelled.
    pub snr_db: Option<f32>,
    /// The kind of noise added, when labelled.
    pub noise: Option<String>,
    /// Speaking speed against the pack's, when labelled.
    pub speed: Option<f32>,
    /// Whether echo was added, when labelled.
    pub echo: Option<bool>,
}

/// Reads `<dir>/labels.csv`.
pub fn read_speech_labels(dir: &Path) -> Result<Vec<LabelledClip>, BenchError> {
    let path = dir.join(LABELS_FILE);
    let text = std::fs::read_to_string(&path).map_err(|source| BenchError::Io {
        path: path.clone(),
        source,
    })?;
    parse_speech_labels(&text, dir).map_err(|problems| BenchError::Labels { path, problems })
}

/// Parses the text of a label file whose recordings are in `dir`.
pub fn parse_speech_labels(text: &str, dir: &Path) -> Result<Vec<LabelledClip>, Vec<LabelProblem>> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .from_reader(text.as_bytes());
    let problem = |line: usize, message: String| LabelProblem { line, message };
    let headers = reader
        .headers()
        .map_err(|e| vec![problem(1, e.to_string())])?
        .clone();
    let column = |name: &str| headers.iter().position(|h| h.trim() == name);
    let required = ["file", "code", "lang", "voice"];
    let missing: Vec<&str> = required
        .iter()
        .copied()
        .filter(|name| column(name).is_none())
        .collect();
    if !missing.is_empty() {
        return Err(vec![problem(
            1,
            format!("header lacks column(s) {}", missing.join(", ")),
        )]);
    }
    let at = |name: &str| column(name).unwrap_or(usize::MAX);
    let (file_at, code_at, lang_at, voice_at) = (at("file"), at("code"), at("lang"), at("voice"));
    let (snr_at, noise_at, speed_at, echo_at) =
        (at("snr_db"), at("noise"), at("speed"), at("echo"));
    let mut clips = Vec::new();
    let mut problems = Vec::new();
    for record in reader.records() {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line() as usize);
                problems.push(problem(line, e.to_string()));
                continue;
            }
        };
        let line = record.position().map_or(0, |p| p.line() as usize);
        let field = |i: usize| record.get(i).map(str::trim).filter(|v| !v.is_empty());
        let mut required_field = |name: &str, i: usize| {
            let value = field(i);
            if value.is_none() {
                problems.push(problem(line, format!("`{name}` is empty")));
            }
            value
        };
        let (Some(file), Some(code), Some(language), Some(voice)) = (
            required_field("file", file_at),
            required_field("code", code_at),
            required_field("lang", lang_at),
            required_field("voice", voice_at),
        ) else {
            continue;
        };
        if !code.bytes().all(|b| b.is_ascii_digit()) {
            problems.push(problem(line, format!("code `{code}` is not digits")));
            continue;
        }
        let number = |i: usize, name: &str, problems: &mut Vec<LabelProblem>| {
            field(i).and_then(|v| match v.parse::<f32>() {
                Ok(x) if x.is_finite() => Some(x),
                _ => {
                    problems.push(problem(line, format!("{name} `{v}` is not a number")));
                    None
                }
            })
        };
        let snr_db = number(snr_at, "snr_db", &mut problems);
        let speed = number(speed_at, "speed", &mut problems);
        let echo = match field(echo_at) {
            None => None,
            Some("0") => Some(false),
            Some("1") => Some(true),
            Some(other) => {
                problems.push(problem(line, format!("echo `{other}` is not 0 or 1")));
                None
            }
        };
        clips.push(LabelledClip {
            path: dir.join(file),
            line,
            code: code.to_string(),
            language: language.to_string(),
            voice: voice.to_string(),
            snr_db,
            noise: field(noise_at).map(str::to_string),
            speed,
            echo,
        });
    }
    if problems.is_empty() {
        Ok(clips)
    } else {
        Err(problems)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_label_file_parses_with_its_optional_columns() {
        let text = "file,code,lang,voice,speed,peak_dbfs,snr_db,noise,echo\n\
                    a.flac,012345,en,sim,1.10,-9.1,26.8,babble,0\n\
                    b.wav,9,da,low,,,,,\n";
        let clips = parse_speech_labels(text, Path::new("set")).unwrap();
        assert_eq!(clips.len(), 2);
        assert_eq!(clips[0].path, Path::new("set/a.flac"));
        assert_eq!(clips[0].code, "012345");
        assert_eq!(clips[0].snr_db, Some(26.8));
        assert_eq!(clips[0].echo, Some(false));
        assert_eq!(clips[0].noise.as_deref(), Some("babble"));
        assert_eq!((clips[1].line, clips[1].voice.as_str()), (3, "low"));
        assert_eq!(clips[1].snr_db, None);
    }

    #[test]
    fn every_bad_line_is_reported_with_its_number() {
        let text = "file,code,lang,voice,snr_db,echo\n\
                    a.flac,01x,en,sim,10,0\n\
                    b.flac,12,,sim,10,0\n\
                    c.flac,12,en,sim,loud,2\n";
        let problems = parse_speech_labels(text, Path::new(".")).unwrap_err();
        let lines: Vec<(usize, &str)> = problems
            .iter()
            .map(|p| (p.line, p.message.as_str()))
            .collect();
        assert_eq!(
            lines,
            vec![
                (2, "code `01x` is not digits"),
                (3, "`lang` is empty"),
                (4, "snr_db `loud` is not a number"),
                (4, "echo `2` is not 0 or 1"),
            ]
        );
        let header = parse_speech_labels("file,code\n", Path::new(".")).unwrap_err();
        assert_eq!(header[0].message, "header lacks column(s) lang, voice");
    }
}
