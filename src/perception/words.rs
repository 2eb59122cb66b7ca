//! Word boundaries inside an utterance: where each spoken word begins and ends.
//!
//! Inputs: an utterance's samples (the [`segmenter`](super::segmenter)'s), its rate, the
//! background's level the segmenter measured (dB of band-passed power), and optionally how many
//! words it holds. Outputs: one sample range per word, tight around the word's energy.
//!
//! How it works: the speech band (200–4000 Hz, the segmenter's filter) is measured in 10 ms
//! frames and smoothed over 30 ms. A frame is speech when it is [`SPEECH_DB`] over the background
//! and within [`PEAK_RANGE_DB`] of the utterance's loudest frame (so an echo tail or a breath does
//! not join two words). Candidate boundaries are the pauses between stretches of speech and the
//! valleys inside a stretch (the dip between two words run together, at least [`VALLEY_DB`]
//! deep).
//! - With no count, every pause of at least [`MIN_PAUSE`] is a boundary, and valleys are not:
//!   a stop consonant's closure ("six", "otte": up to about 80 ms in slow speech) is shorter than
//!   a reading's pause. At fast speeds with echo, pauses fill and words stay joined; a count
//!   separates them.
//! - With a count, the `count - 1` best candidates are chosen: longer pauses first, then deeper
//!   valleys, each leaving every word at least [`MIN_WORD`] of speech. Fewer candidates than that
//!   is `None`: the utterance cannot be that many words, and no boundary is made up.
//!
//! Invariants: ranges are in order, do not overlap, and lie inside the samples; each holds at
//! least one speech frame.

use std::ops::Range;
use std::time::Duration;

use super::features::power_db;
use super::segmenter::speech_band;

/// The measuring frame.
pub const FRAME: Duration = Duration::from_millis(10);
/// A frame is speech this far over the background.
pub const SPEECH_DB: f32 = 8.0;
/// ... and no further than this below the utterance's loudest frame.
pub const PEAK_RANGE_DB: f32 = 25.0;
/// The shortest pause that separates words when their number is not known.
pub const MIN_PAUSE: Duration = Duration::from_millis(100);
/// The shallowest valley that may separate two words run together.
pub const VALLEY_DB: f32 = 6.0;
/// The least speech a word holds.
pub const MIN_WORD: Duration = Duration::from_millis(60);
/// Frames in the smoothing window (30 ms).
const SMOOTH: usize = 3;

/// A place between two words, in frames.
#[derive(Debug, Clone, Copy)]
struct Boundary {
    /// The last frame of the word before is before `from`; the next word starts at `to` or later.
    from: usize,
    to: usize,
    /// Pauses outrank valleys; longer pauses and deeper valleys outrank the rest.
    score: f32,
}

/// The words of an utterance; see the module docs. `count`: how many it must hold (`None`: as
/// many as its pauses say).
pub fn find_words(
    samples: &[f32],
    sample_rate: u32,
    floor_db: f32,
    count: Option<usize>,
) -> Option<Vec<Range<usize>>> {
    let hop = ((FRAME.as_secs_f64() * f64::from(sample_rate)).round() as usize).max(1);
    let level = smoothed_db(samples, sample_rate, hop);
    let peak = level.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let threshold = (floor_db + SPEECH_DB).max(peak - PEAK_RANGE_DB);
    let speech: Vec<bool> = level.iter().map(|&db| db > threshold).collect();
    let runs = runs_of_speech(&speech);
    if runs.is_empty() {
        return (count.unwrap_or(0) == 0).then(Vec::new);
    }
    let frames_in = |d: Duration| (d.as_secs_f64() / FRAME.as_secs_f64()).round() as usize;
    let mut candidates: Vec<Boundary> = runs
        .windows(2)
        .map(|pair| {
            let (from, to) = (pair[0].end, pair[1].start);
            Boundary {
                from,
                to,
                score: 1000.0 + (to - from) as f32,
            }
        })
        .collect();
    let wanted = match count {
        None => {
            candidates.retain(|b| b.to - b.from >= frames_in(MIN_PAUSE));
            usize::MAX
        }
        Some(0) => return None,
        Some(count) => {
            for run in &runs {
                candidates.extend(valleys(&level[run.clone()], run.start));
            }
            count - 1
        }
    };
    candidates.sort_by(|a, b| b.score.total_cmp(&a.score));
    let long_enough = |word: &Range<usize>| {
        speech[word.clone()].iter().filter(|&&s| s).count() >= frames_in(MIN_WORD)
    };
    let mut chosen: Vec<Boundary> = Vec::new();
    for candidate in candidates {
        if chosen.len() == wanted {
            break;
        }
        let mut trial = chosen.clone();
        trial.push(candidate);
        trial.sort_by_key(|b| b.from);
        if words_between(&trial, &speech).iter().all(long_enough) {
            chosen = trial;
        }
    }
    if count.is_some() && chosen.len() != wanted {
        return None;
    }
    chosen.sort_by_key(|b| b.from);
    let words = words_between(&chosen, &speech)
        .into_iter()
        .map(|w| (w.start * hop).min(samples.len())..(w.end * hop).min(samples.len()))
        .filter(|w| !w.is_empty())
        .collect();
    Some(words)
}

/// The speech band's level in frames of `hop` samples, dB, smoothed over [`SMOOTH`] frames.
fn smoothed_db(samples: &[f32], sample_rate: u32, hop: usize) -> Vec<f32> {
    let mut band = speech_band(sample_rate);
    let powers: Vec<f32> = samples
        .chunks(hop)
        .map(|chunk| {
            let sum: f32 = chunk
                .iter()
                .map(|&s| {
                    let y = band.iter_mut().fold(s, |x, f| f.run(x));
                    y * y
                })
                .sum();
            sum / chunk.len() as f32
        })
        .collect();
    (0..powers.len())
        .map(|i| {
            let lo = i.saturating_sub(SMOOTH / 2);
            let hi = (i + SMOOTH / 2 + 1).min(powers.len());
            power_db(powers[lo..hi].iter().sum::<f32>() / (hi - lo) as f32)
        })
        .collect()
}

/// The maximal stretches of speech frames.
fn runs_of_speech(speech: &[bool]) -> Vec<Range<usize>> {
    let mut runs = Vec::new();
    let mut start = None;
    for (i, &s) in speech.iter().enumerate() {
        match (s, start) {
            (true, None) => start = Some(i),
            (false, Some(from)) => {
                runs.push(from..i);
                start = None;
            }
            _ => {}
        }
    }
    if let Some(from) = start {
        runs.push(from..speech.len());
    }
    runs
}

/// The dips inside one stretch of speech (`level` starts at frame `offset`) at least
/// [`VALLEY_DB`] below the peaks on both sides, scored by that depth.
fn valleys(level: &[f32], offset: usize) -> Vec<Boundary> {
    let mut out = Vec::new();
    for i in 1..level.len().saturating_sub(1) {
        if !(level[i] < level[i - 1] && level[i] <= level[i + 1]) {
            continue;
        }
        let left = level[..i].iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let right = level[i + 1..]
            .iter()
            .copied()
            .fold(f32::NEG_INFINITY, f32::max);
        let depth = left.min(right) - level[i];
        if depth >= VALLEY_DB {
            out.push(Boundary {
                from: offset + i,
                to: offset + i,
                score: depth,
            });
        }
    }
    out
}

/// The words the boundaries (in order) leave, each trimmed to its first and last speech frame.
fn words_between(boundaries: &[Boundary], speech: &[bool]) -> Vec<Range<usize>> {
    let mut edges = vec![0];
    for b in boundaries {
        edges.push(b.from);
        edges.push(b.to);
    }
    edges.push(speech.len());
    edges
        .chunks(2)
        .map(|pair| {
            let (from, to) = (pair[0], pair[1].max(pair[0]));
            let first = (from..to).find(|&i| speech[i]).unwrap_or(from);
            let last = (from..to)
                .rev()
                .find(|&i| speech[i])
                .map_or(first, |i| i + 1);
            first..last
        })
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const RATE: u32 = 16_000;

    #[test]
    fn words_run_together_are_split_at_their_valleys_when_the_count_is_known() {
        // Two tone bursts with a dip between them but no pause: one word by pauses, two when
        // two are expected.
        let burst = |n: usize, hz: f32| -> Vec<f32> {
            (0..n)
                .map(|i| {
                    let t = i as f32 / n as f32;
                    let envelope = (std::f32::consts::PI * t).sin().max(0.05);
                    0.3 * envelope * (i as f32 * 2.0 * std::f32::consts::PI * hz / 16_000.0).sin()
                })
                .collect()
        };
        let mut samples = vec![0.0; 1600];
        samples.extend(burst(4000, 500.0));
        samples.extend(burst(4000, 700.0));
        samples.extend(vec![0.0; 1600]);
        let one = find_words(&samples, RATE, -90.0, None).unwrap();
        assert_eq!(one.len(), 1, "{one:?}");
        let two = find_words(&samples, RATE, -90.0, Some(2)).unwrap();
        assert_eq!(two.len(), 2, "{two:?}");
        let split = two[0].end as f32;
        assert!((split - 5600.0).abs() < 0.02 * RATE as f32, "{two:?}");
        assert!(find_words(&samples, RATE, -90.0, Some(7)).is_none());
    }

    #[test]
    fn silence_has_no_words() {
        let samples = vec![0.0; 8000];
        assert_eq!(find_words(&samples, RATE, -90.0, None), Some(Vec::new()));
        assert_eq!(find_words(&samples, RATE, -90.0, Some(3)), None);
    }
}
