//! `otprig bench listen`, the report: accuracy and real-time factor per voice and language, then by
//! noise, SNR and echo.
//!
//! Outcomes per recording: exact (every digit right), refused (`?`: the listener would not
//! guess) or wrong (digits reported that are not the code: the outcome that must never happen).
//! The real-time factor is the listener's time over the audio's length, summed over the rows.

use std::collections::BTreeMap;
use std::io::Write;

use super::listen::{HeardClip, ListenBenchReport};

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
}

impl ListenBenchReport {
    /// Totals per key, in key order.
    pub fn tally_by<K: Ord>(&self, key: impl Fn(&HeardClip) -> K) -> BTreeMap<K, Tally> {
        let mut rows = BTreeMap::new();
        for heard in &self.clips {
            rows.entry(key(heard))
                .or_insert_with(Tally::default)
                .add(heard);
        }
        rows
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
        writeln!(out)?;
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
                    h.min_confidence,
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
mod tests {
    use super::*;

    #[test]
    fn snr_bands_are_five_decibels_wide() {
        assert_eq!(snr_band(Some(10.0)), "snr 10-15 dB");
        assert_eq!(snr_band(Some(14.99)), "snr 10-15 dB");
        assert_eq!(snr_band(Some(29.9)), "snr 25-30 dB");
        assert_eq!(snr_band(Some(9.0)), "snr < 10 dB");
        assert_eq!(snr_band(None), "snr unknown");
    }
}
