//! Word boundaries (issue 5, segmentation): the simulator's voice read through its room (noise,
//! echo) is cut into utterances by the segmenter, whose words must lie where the words were
//! spoken, at every speed the token has, with the count known and without it.
#![allow(clippy::unwrap_used)]

mod common;

use std::ops::Range;
use std::sync::Arc;
use std::time::Duration;

use otprig::perception::segmenter::{Segmenter, Utterance};
use otprig::rig::AudioBlock;
use otprig::rig::sim::room::{Room, RoomConfig};
use otprig::rig::sim::voice::VoiceBank;
use tokio::time::Instant;

const RATE: u32 = 16_000;

/// Where each word of `digits` lies in the simulator's rendering of them, in samples, as the
/// microphone can hear it: the same words rendered one by one, each through the token's speaker
/// (the room's band, without noise or echo), trimmed to the 10 ms frames within 25 dB of its own
/// loudest, laid out with the pauses the whole rendering has between them. (A /s/ above the
/// speaker's band, or a faint /f/, is not part of the word the rig can hear.)
fn truth(bank: &VoiceBank, digits: &str, language: &str, speed: f32) -> Vec<Range<usize>> {
    let whole = bank.render(digits, language, speed, 0.0).unwrap().len();
    let words: Vec<Vec<f32>> = digits
        .chars()
        .map(|d| bank.render(&d.to_string(), language, speed, 0.0).unwrap())
        .collect();
    let pause = (whole - words.iter().map(Vec::len).sum::<usize>()) / (words.len() - 1);
    let mut at = 0;
    words
        .iter()
        .map(|w| {
            let mut speaker = Room::new(
                RoomConfig {
                    noise_dbfs: f32::NEG_INFINITY,
                    echo: 0.0,
                    ..RoomConfig::default()
                },
                1,
            );
            let heard = speaker.process(w);
            let frames: Vec<f32> = heard
                .chunks(160)
                .map(|c| {
                    10.0 * (c.iter().map(|s| s * s).sum::<f32>() / c.len() as f32 + 1e-12).log10()
                })
                .collect();
            let peak = frames.iter().copied().fold(f32::NEG_INFINITY, f32::max);
            let loud = |db: &f32| *db > peak - 25.0;
            let first = frames.iter().position(loud).unwrap() * 160;
            let last = (frames.iter().rposition(loud).unwrap() + 1) * 160;
            let range = at + first..at + last.min(w.len());
            at += w.len() + pause;
            range
        })
        .collect()
}

/// The simulator's voice speaking `digits` 12 dB under its recording level one second into a
/// stream, through a room with noise and echo, cut by the segmenter.
fn utterance(bank: &VoiceBank, digits: &str, language: &str, speed: f32, t0: Instant) -> Utterance {
    let mut speech = vec![0.0; RATE as usize];
    speech.extend(bank.render(digits, language, speed, -12.0).unwrap());
    speech.extend(vec![0.0; RATE as usize]);
    let mut room = Room::new(
        RoomConfig {
            noise_dbfs: -50.0,
            echo: 0.4,
            ..RoomConfig::default()
        },
        5,
    );
    let samples = room.process(&speech);
    let mut segmenter = Segmenter::new(RATE);
    let mut found = Vec::new();
    for (i, chunk) in samples.chunks(320).enumerate() {
        found.extend(segmenter.push(&AudioBlock {
            seq: i as u64,
            captured_at: t0 + Duration::from_millis(20 * i as u64),
            sample_rate: RATE,
            samples: Arc::from(chunk),
        }));
    }
    found.extend(segmenter.flush());
    assert_eq!(found.len(), 1, "{digits} {language} {speed}x");
    found.remove(0)
}

/// Seconds from `t0` to each true word's start and end.
fn spoken_times(spoken: &[Range<usize>]) -> Vec<(f64, f64)> {
    let at = |i: usize| 1.0 + i as f64 / f64::from(RATE);
    spoken.iter().map(|w| (at(w.start), at(w.end))).collect()
}

/// How far a found word's start may lie from a spoken word's (the onset is sharp).
const START_TOLERANCE: f64 = 0.040;
/// How far its end may: a room's echo prolongs a word, and its last consonant may fall under
/// the background; either way the word stays clear of the next.
const END_TOLERANCE: f64 = 0.120;

#[test]
fn six_words_lie_where_they_were_spoken_at_every_speed() {
    let bank = VoiceBank::load(&common::root().join("fixtures/voices/sim"), RATE).unwrap();
    let t0 = Instant::now();
    let seconds = |at: Instant| (at - t0).as_secs_f64();
    let (mut worst_start, mut worst_end): (f64, f64) = (0.0, 0.0);
    for (digits, language) in [("471109", "da"), ("358266", "en"), ("808080", "da")] {
        for speed in [0.7, 1.0, 1.4] {
            let heard = utterance(&bank, digits, language, speed, t0);
            let spoken = spoken_times(&truth(&bank, digits, language, speed));
            let words = heard.words_of(6).unwrap();
            assert_eq!(words.len(), 6, "{digits} {language} {speed}x: {words:?}");
            for (i, (found, word)) in words.iter().zip(&spoken).enumerate() {
                let start = seconds(heard.time_of(found.start)) - word.0;
                let end = seconds(heard.time_of(found.end)) - word.1;
                worst_start = worst_start.max(start.abs());
                worst_end = worst_end.max(end.abs());
                assert!(
                    start.abs() < START_TOLERANCE && end.abs() < END_TOLERANCE,
                    "{digits} {language} {speed}x: word {i} off by {start:.3} s at its start and \
                     {end:.3} s at its end"
                );
                if let Some(next) = spoken.get(i + 1) {
                    assert!(
                        seconds(heard.time_of(found.end)) < next.0,
                        "{digits} {speed}x: word {i} runs into the next"
                    );
                }
            }
        }
    }
    println!(
        "six words: starts within {:.0} ms, ends within {:.0} ms",
        worst_start * 1000.0,
        worst_end * 1000.0
    );
}

#[test]
fn pauses_never_split_a_word_and_separate_the_slow_readings() {
    let bank = VoiceBank::load(&common::root().join("fixtures/voices/sim"), RATE).unwrap();
    let t0 = Instant::now();
    let seconds = |at: Instant| (at - t0).as_secs_f64();
    for (digits, language) in [("471109", "da"), ("358266", "en"), ("808080", "da")] {
        for speed in [0.7, 1.0, 1.4] {
            let heard = utterance(&bank, digits, language, speed, t0);
            let spoken = spoken_times(&truth(&bank, digits, language, speed));
            assert!(
                !heard.words.is_empty() && heard.words.len() <= 6,
                "{:?}",
                heard.words
            );
            for found in &heard.words {
                let start = seconds(heard.time_of(found.start));
                let end = seconds(heard.time_of(found.end));
                assert!(
                    spoken.iter().any(|w| (w.0 - start).abs() < START_TOLERANCE),
                    "{digits} {language} {speed}x: a word starts at {start:.3} s, where no word does"
                );
                assert!(
                    spoken.iter().any(|w| (w.1 - end).abs() < END_TOLERANCE),
                    "{digits} {language} {speed}x: a word ends at {end:.3} s, where no word does"
                );
            }
            println!(
                "{digits} {language} {speed}x: {} words by pauses",
                heard.words.len()
            );
            if speed < 1.0 {
                assert_eq!(heard.words.len(), 6, "{digits} {language} {speed}x");
            }
        }
    }
}
