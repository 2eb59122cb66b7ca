//! `otprig bench listen`, the report: when faster-whisper ran, one table of otprig and each Whisper
//! model per language with the ratio of their real-time factors; then otprig's accuracy and
//! real-time factor per voice and language, by noise, SNR and echo, and its misses.
//!
//! Outcomes per recording: exact (every digit right), refused (`?`: the listener would not
//! guess; for a Whisper model, a text that is not digit words) or wrong (digits reported that are
//! not the code: the outcome that must never happen). The real-time factor is a tool's time over
//! the audio's length, summed over the rows.
//! Invariant: everything printed is computed from the report's per-recording results.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

use super::error::BenchError;
use super::listen::{HeardClip, ListenBenchReport, WhisperRun};
use super::whisper::{PROGRAM, SETUP_SCRIPT};

/// Totals of one row of the table.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Tally {
    /// Recordings.
    pub clips: usize,
    /// Codes heard exactly.
    pub exact: usize,
    /// Refused (`?`).
    pub refused: usize,
    /// Wrong codes reported.
    pub wrong: usize,
    /// Language decided right.
    pub language_right: usize,
    /// Seconds the listener took.
    pub seconds: f64,
    /// Processor seconds it spent, over the recordings where that is known.
    pub cpu_seconds: f64,
    /// Recordings whose processor time is known.
    pub cpu_clips: usize,
    /// Seconds of audio.
    pub audio_seconds: f64,
}

impl Tally {
    fn add(&mut self, heard: &HeardClip) {
        self.clips += 1;
        self.exact += usize::from(heard.exact());
        self.refused += usize::from(heard.digits.is_none());
        self.wrong += usize::from(heard.wrong());
        self.language_right += usize::from(heard.language_right());
        self.seconds += heard.seconds;
        if let Some(cpu_seconds) = heard.cpu_seconds {
            self.cpu_seconds += cpu_seconds;
            self.cpu_clips += 1;
        }
        self.audio_seconds += heard.audio_seconds;
    }

    /// Share of codes heard exactly.
    pub fn exact_share(&self) -> f64 {
        self.exact as f64 / self.clips.max(1) as f64
    }

    /// The listener's time over the audio's length.
    pub fn real_time_factor(&self) -> f64 {
        if self.audio_seconds > 0.0 {
            self.seconds / self.audio_seconds
        } else {
            0.0
        }
    }

    /// The listener's processor time over the audio's length, when known for every recording.
    pub fn cpu_real_time_factor(&self) -> Option<f64> {
        (self.cpu_clips == self.clips && self.audio_seconds > 0.0)
            .then(|| self.cpu_seconds / self.audio_seconds)
    }
}

/// Totals of `clips` per key, in key order.
fn tally_by<K: Ord>(clips: &[HeardClip], key: impl Fn(&HeardClip) -> K) -> BTreeMap<K, Tally> {
    let mut rows = BTreeMap::new();
    for heard in clips {
        rows.entry(key(heard))
            .or_insert_with(Tally::default)
            .add(heard);
    }
    rows
}

impl ListenBenchReport {
    /// otprig's totals per key, in key order.
    pub fn tally_by<K: Ord>(&self, key: impl Fn(&HeardClip) -> K) -> BTreeMap<K, Tally> {
        tally_by(&self.clips, key)
    }

    /// Totals over every recording.
    pub fn total(&self) -> Tally {
        let mut tally = Tally::default();
        for heard in &self.clips {
            tally.add(heard);
        }
        tally
    }

    /// Prints the table, the breakdowns and the recordings not heard exactly.
    pub fn print(&self, out: &mut dyn Write) -> std::io::Result<()> {
        writeln!(
            out,
            "otprig bench listen: {} recordings in {} (language decided from the audio)",
            self.clips.len(),
            self.set.display()
        )?;
        self.print_whisper(out)?;
        writeln!(out)?;
        if matches!(self.whisper, WhisperRun::Ran { .. }) {
            writeln!(out, "otprig by voice, SNR, noise and echo:")?;
        }
        let header = format!(
            "{:<14} {:>6} {:>8} {:>8} {:>6} {:>9} {:>7}",
            "", "clips", "exact", "refused", "wrong", "language", "RTF"
        );
        let row = |out: &mut dyn Write, name: &str, t: &Tally| {
            writeln!(
                out,
                "{:<14} {:>6} {:>7.1}% {:>8} {:>6} {:>8.1}% {:>7.4}",
                name,
                t.clips,
                100.0 * t.exact_share(),
                t.refused,
                t.wrong,
                100.0 * t.language_right as f64 / t.clips.max(1) as f64,
                t.real_time_factor()
            )
        };
        writeln!(out, "{header}")?;
        for ((voice, language), t) in
            self.tally_by(|h| (h.clip.voice.clone(), h.clip.language.clone()))
        {
            row(out, &format!("{voice} {language}"), &t)?;
        }
        for (language, t) in self.tally_by(|h| h.clip.language.clone()) {
            row(out, &format!("all {language}"), &t)?;
        }
        row(out, "all", &self.total())?;
        writeln!(out)?;
        writeln!(out, "{header}")?;
        for (band, t) in self.tally_by(|h| snr_band(h.clip.snr_db)) {
            row(out, &band, &t)?;
        }
        for (noise, t) in self.tally_by(|h| h.clip.noise.clone().unwrap_or_else(|| "-".into())) {
            row(out, &format!("noise {noise}"), &t)?;
        }
        for (echo, t) in self.tally_by(|h| h.clip.echo) {
            let name = match echo {
                Some(true) => "echo",
                Some(false) => "no echo",
                None => "echo unknown",
            };
            row(out, name, &t)?;
        }
        let missed: Vec<&HeardClip> = self.clips.iter().filter(|h| !h.exact()).collect();
        if !missed.is_empty() {
            writeln!(out)?;
            writeln!(out, "not heard exactly:")?;
            for h in missed {
                let name = h
                    .clip
                    .path
                    .file_name()
                    .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
                writeln!(
                    out,
                    "  {name}: {} {} heard {} {} (lowest confidence {:.2}; snr {} dB, {}, speed {})",
                    h.clip.code,
                    h.clip.language,
                    h.digits.as_deref().unwrap_or("?"),
                    h.language.as_deref().unwrap_or("-"),
                    h.min_confidence.unwrap_or(0.0),
                    h.clip
                        .snr_db
                        .map_or_else(|| "-".into(), |s| format!("{s:.1}")),
                    h.clip.noise.as_deref().unwrap_or("-"),
                    h.clip
                        .speed
                        .map_or_else(|| "-".into(), |s| format!("{s:.2}")),
                )?;
            }
        }
        Ok(())
    }
}

impl ListenBenchReport {
    /// faster-whisper's status line and, when it ran, the table of otprig and each model per
    /// language.
    fn print_whisper(&self, out: &mut dyn Write) -> std::io::Result<()> {
        let (setup, models) = match &self.whisper {
            WhisperRun::NotRequested => return Ok(()),
            WhisperRun::NotInstalled(home) => {
                return writeln!(
                    out,
                    "{PROGRAM}: not installed (no venv and models.json in {}), run {SETUP_SCRIPT}: not run",
                    home.dir.display()
                );
            }
            WhisperRun::Ran { setup, models } => (setup, models),
        };
        writeln!(
            out,
            "{PROGRAM}: {}; tiny.en told English on the English recordings, base deciding the \
             language on all",
            setup.describe()
        )?;
        writeln!(out)?;
        writeln!(
            out,
            "{:<16} {:<4} {:>6} {:>8} {:>8} {:>6} {:>9} {:>8} {:>8} {:>9}",
            "tool",
            "lang",
            "clips",
            "exact",
            "refused",
            "wrong",
            "language",
            "RTF",
            "CPU RTF",
            "× otprig"
        )?;
        let otprig = self.tally_by(|h| h.clip.language.clone());
        let row = |out: &mut dyn Write,
                   tool: &str,
                   language: &str,
                   t: &Tally,
                   decides_language: bool,
                   ratio: String| {
            let language_right = if decides_language {
                format!(
                    "{:.1}%",
                    100.0 * t.language_right as f64 / t.clips.max(1) as f64
                )
            } else {
                "-".to_string()
            };
            let cpu = t
                .cpu_real_time_factor()
                .map_or_else(|| "-".to_string(), |rtf| format!("{rtf:.4}"));
            writeln!(
                out,
                "{tool:<16} {language:<4} {:>6} {:>7.1}% {:>8} {:>6} {language_right:>9} {:>8.4} {cpu:>8} {ratio:>9}",
                t.clips,
                100.0 * t.exact_share(),
                t.refused,
                t.wrong,
                t.real_time_factor(),
            )
        };
        for (language, t) in &otprig {
            row(out, "otprig", language, t, true, "-".to_string())?;
        }
        for (model, heard) in models {
            let name = format!("whisper {}", model.name());
            for (language, t) in tally_by(heard, |h| h.clip.language.clone()) {
                // The model hears every recording of its languages, so otprig's row of the
                // language covers the same recordings.
                let ratio = otprig
                    .get(&language)
                    .and_then(|o| rtf_ratio(&t, o))
                    .map_or_else(|| "n/a".to_string(), |r| format!("{r:.0}×"));
                row(out, &name, &language, &t, model.decides_language(), ratio)?;
            }
        }
        writeln!(
            out,
            "(refused: otprig would not guess, or the model's text is not digit words; language: \
             decided from the audio, `-` when told; RTF: wall-clock seconds of work per second of \
             audio on one core; CPU RTF: the same in processor time, which other work on the \
             machine does not inflate; × otprig: the tool's CPU RTF over otprig's on the same \
             recordings, or its RTF where processor time is unknown)"
        )
    }
}

/// How many times `tool`'s real-time factor is `otprig`'s: in processor time when both know it,
/// else on the wall clock; `None` when otprig's is zero.
fn rtf_ratio(tool: &Tally, otprig: &Tally) -> Option<f64> {
    let (tool_rtf, otprig_rtf) = match (tool.cpu_real_time_factor(), otprig.cpu_real_time_factor())
    {
        (Some(t), Some(o)) => (t, o),
        _ => (tool.real_time_factor(), otprig.real_time_factor()),
    };
    (otprig_rtf > 0.0).then(|| tool_rtf / otprig_rtf)
}

impl ListenBenchReport {
    /// Writes one CSV line per recording: its label, then each tool's digits (empty: refused),
    /// language, seconds and processor seconds, and each Whisper model's text (empty columns where a model did not
    /// hear the recording's language).
    pub fn write_details(&self, path: &Path) -> Result<(), BenchError> {
        let io_error = |source: std::io::Error| BenchError::Io {
            path: path.to_path_buf(),
            source,
        };
        let csv_error = |error: csv::Error| io_error(std::io::Error::other(error));
        let mut writer = csv::Writer::from_path(path).map_err(csv_error)?;
        let models: &[_] = match &self.whisper {
            WhisperRun::Ran { models, .. } => models,
            _ => &[],
        };
        let mut header: Vec<String> = [
            "file", "code", "lang", "voice", "speed", "snr_db", "noise", "echo", "audio_s",
        ]
        .map(String::from)
        .to_vec();
        let mut tools = vec!["otprig".to_string()];
        tools.extend(models.iter().map(|(model, _)| model.name().to_string()));
        for tool in &tools {
            for column in ["", "_lang", "_s", "_cpu_s"] {
                header.push(format!("{tool}{column}"));
            }
        }
        for (model, _) in models {
            header.push(format!("{}_text", model.name()));
        }
        writer.write_record(&header).map_err(csv_error)?;
        // Each model's recordings by label line, to line them up with otprig's.
        let by_line: Vec<BTreeMap<usize, &HeardClip>> = models
            .iter()
            .map(|(_, heard)| heard.iter().map(|h| (h.clip.line, h)).collect())
            .collect();
        let optional = |value: Option<String>| value.unwrap_or_default();
        for heard in &self.clips {
            let clip = &heard.clip;
            let mut row = vec![
                clip.path
                    .file_name()
                    .map_or_else(String::new, |n| n.to_string_lossy().into_owned()),
                clip.code.clone(),
                clip.language.clone(),
                clip.voice.clone(),
                optional(clip.speed.map(|v| format!("{v:.2}"))),
                optional(clip.snr_db.map(|v| format!("{v:.2}"))),
                optional(clip.noise.clone()),
                optional(clip.echo.map(|e| u8::from(e).to_string())),
                format!("{:.3}", heard.audio_seconds),
            ];
            let tool_columns = |h: Option<&HeardClip>| match h {
                Some(h) => [
                    optional(h.digits.clone()),
                    optional(h.language.clone()),
                    format!("{:.4}", h.seconds),
                    optional(h.cpu_seconds.map(|s| format!("{s:.4}"))),
                ],
                None => Default::default(),
            };
            row.extend(tool_columns(Some(heard)));
            for lines in &by_line {
                row.extend(tool_columns(lines.get(&clip.line).copied()));
            }
            for lines in &by_line {
                row.push(optional(lines.get(&clip.line).and_then(|h| h.text.clone())));
            }
            writer.write_record(&row).map_err(csv_error)?;
        }
        writer.flush().map_err(io_error)
    }
}

/// The SNR band of a recording: 10–15, 15–20, 20–25, 25–30 dB (and below or above).
fn snr_band(snr_db: Option<f32>) -> String {
    match snr_db {
        None => "snr unknown".into(),
        Some(s) if s < 10.0 => "snr < 10 dB".into(),
        Some(s) if s >= 30.0 => "snr >= 30 dB".into(),
        Some(s) => {
            let low = 10 + 5 * ((s - 10.0) / 5.0).floor() as i32;
            format!("snr {low}-{} dB", low + 5)
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::path::PathBuf;

    use super::*;
    use crate::bench::speech_labels::LabelledClip;
    use crate::bench::whisper::{WhisperHome, WhisperModel, WhisperSetup};

    fn clip(line: usize, code: &str, language: &str) -> LabelledClip {
        LabelledClip {
            path: PathBuf::from(format!("set/{language}-{line}.flac")),
            line,
            code: code.to_string(),
            language: language.to_string(),
            voice: "sim".to_string(),
            snr_db: Some(20.0),
            noise: Some("pink".to_string()),
            speed: Some(1.0),
            echo: Some(false),
        }
    }

    fn heard(
        clip: &LabelledClip,
        digits: Option<&str>,
        language: Option<&str>,
        seconds: f64,
    ) -> HeardClip {
        HeardClip {
            clip: clip.clone(),
            digits: digits.map(str::to_string),
            language: language.map(str::to_string),
            min_confidence: Some(0.5),
            text: None,
            seconds,
            cpu_seconds: Some(seconds / 2.0),
            audio_seconds: 2.0,
        }
    }

    /// Two Danish and one English recording; otprig hears all but one Danish code at RTF 0.01;
    /// tiny.en hears the English one right, base one Danish code wrong and the English right.
    fn report(whisper: bool) -> ListenBenchReport {
        let (da1, da2, en1) = (
            clip(2, "123456", "da"),
            clip(3, "654321", "da"),
            clip(4, "111111", "en"),
        );
        let whisper_heard =
            |c: &LabelledClip, digits: Option<&str>, language: Option<&str>, seconds| HeardClip {
                min_confidence: None,
                text: Some(format!("text of {}", c.line)),
                cpu_seconds: Some(seconds),
                ..heard(c, digits, language, seconds)
            };
        ListenBenchReport {
            set: PathBuf::from("set"),
            clips: vec![
                heard(&da1, Some("123456"), Some("da"), 0.02),
                heard(&da2, None, Some("da"), 0.02),
                heard(&en1, Some("111111"), Some("en"), 0.02),
            ],
            whisper: if whisper {
                WhisperRun::Ran {
                    setup: WhisperSetup {
                        faster_whisper: "1.2.1".to_string(),
                        ctranslate2: "4.8.5".to_string(),
                        beam_size: 5,
                        compute_type: vec!["float32".to_string()],
                    },
                    models: vec![
                        (
                            WhisperModel::TinyEn,
                            vec![whisper_heard(&en1, Some("111111"), None, 0.4)],
                        ),
                        (
                            WhisperModel::Base,
                            vec![
                                whisper_heard(&da1, Some("123455"), Some("da"), 3.0),
                                whisper_heard(&da2, None, Some("de"), 5.0),
                                whisper_heard(&en1, Some("111111"), Some("en"), 2.0),
                            ],
                        ),
                    ],
                }
            } else {
                WhisperRun::NotRequested
            },
        }
    }

    fn printed(report: &ListenBenchReport) -> String {
        let mut out = Vec::new();
        report.print(&mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn whisper_rows_sit_beside_otprig_per_language_with_the_rtf_ratio() {
        let text = printed(&report(true));
        let table: Vec<&str> = text
            .lines()
            .skip_while(|l| !l.starts_with("tool "))
            .take(6)
            .collect();
        assert_eq!(
            table,
            [
                "tool             lang  clips    exact  refused  wrong  language      RTF  CPU RTF  × otprig",
                "otprig           da        2    50.0%        1      0    100.0%   0.0100   0.0050         -",
                "otprig           en        1   100.0%        0      0    100.0%   0.0100   0.0050         -",
                "whisper tiny.en  en        1   100.0%        0      0         -   0.2000   0.2000       40×",
                "whisper base     da        2     0.0%        1      1     50.0%   2.0000   2.0000      400×",
                "whisper base     en        1   100.0%        0      0    100.0%   1.0000   1.0000      200×",
            ],
            "{text}"
        );
        assert!(text.contains(
            "faster-whisper: faster-whisper 1.2.1 (CTranslate2 4.8.5), beam 5, float32, one core"
        ));
        assert!(text.contains("otprig by voice, SNR, noise and echo:"));
    }

    #[test]
    fn rtf_ratios_are_in_processor_time_when_both_know_it() {
        let tally = |seconds: f64, cpu_seconds: Option<f64>| Tally {
            clips: 1,
            seconds,
            cpu_seconds: cpu_seconds.unwrap_or(0.0),
            cpu_clips: usize::from(cpu_seconds.is_some()),
            audio_seconds: 2.0,
            ..Tally::default()
        };
        let otprig = tally(0.02, Some(0.01));
        assert_eq!(rtf_ratio(&tally(4.0, Some(1.0)), &otprig), Some(100.0));
        assert_eq!(rtf_ratio(&tally(4.0, None), &otprig), Some(200.0));
        assert_eq!(rtf_ratio(&tally(4.0, None), &tally(0.0, None)), None);
    }

    #[test]
    fn without_whisper_the_report_is_otprig_alone() {
        let text = printed(&report(false));
        assert!(!text.contains("whisper"), "{text}");
        assert!(
            text.lines()
                .nth(2)
                .unwrap()
                .trim_start()
                .starts_with("clips")
        );
    }

    #[test]
    fn a_missing_whisper_is_reported_as_not_installed() {
        let mut report = report(false);
        report.whisper = WhisperRun::NotInstalled(WhisperHome::new("/nowhere"));
        let text = printed(&report);
        assert_eq!(
            text.lines().nth(1).unwrap(),
            "faster-whisper: not installed (no venv and models.json in /nowhere), run scripts/setup-whisper.sh: not run"
        );
        assert!(!text.contains("whisper tiny.en"), "{text}");
    }

    #[test]
    fn details_line_up_each_model_with_its_recordings() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("details.csv");
        report(true).write_details(&path).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[0],
            "file,code,lang,voice,speed,snr_db,noise,echo,audio_s,otprig,otprig_lang,otprig_s,\
             otprig_cpu_s,tiny.en,tiny.en_lang,tiny.en_s,tiny.en_cpu_s,base,base_lang,base_s,\
             base_cpu_s,tiny.en_text,base_text"
        );
        assert_eq!(
            lines[2],
            "da-3.flac,654321,da,sim,1.00,20.00,pink,0,2.000,,da,0.0200,0.0100,,,,,,de,5.0000,\
             5.0000,,text of 3"
        );
        assert_eq!(
            lines[3],
            "en-4.flac,111111,en,sim,1.00,20.00,pink,0,2.000,111111,en,0.0200,0.0100,111111,,\
             0.4000,0.4000,111111,en,2.0000,2.0000,text of 4,text of 4"
        );
    }

    #[test]
    fn snr_bands_are_five_decibels_wide() {
        assert_eq!(snr_band(Some(10.0)), "snr 10-15 dB");
        assert_eq!(snr_band(Some(14.99)), "snr 10-15 dB");
        assert_eq!(snr_band(Some(29.9)), "snr 25-30 dB");
        assert_eq!(snr_band(Some(9.0)), "snr < 10 dB");
        assert_eq!(snr_band(None), "snr unknown");
    }
}
