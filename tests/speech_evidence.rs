//! Evidence of a missing reading (issue 5, the capture's ring buffer): when no speech starts
//! within an `expect_speech` window, the fail carries the audio the microphone heard from the key
//! to the deadline, taken from the timeline's ring, so a reviewer can hear that nothing was said.
#![allow(clippy::unwrap_used)]

mod common;

use otprig::rig::audio_file::read_audio;
use otprig::runner::Outcome;

#[test]
fn no_speech_within_the_window_fails_with_the_audio_of_the_window() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = dir.path().join("digit-key-alone.yaml");
    std::fs::write(
        &scenario,
        "kind: scenario\n\
         name: digit-key-alone-speaks\n\
         description: A digit key alone wakes the token (it does not, so this must fail).\n\
         token: mitid-audio-code-reader\n\
         setup:\n  - power_off:\n\
         steps:\n  - press: \"2\"\n  - expect_speech: { says: any, within: 1500ms }\n",
    )
    .unwrap();
    let (code, stdout, stderr, record, report) = common::run(&[scenario.to_str().unwrap()]);
    assert_eq!(code, 1, "{stdout}{stderr}");
    let record = record.unwrap();
    let scenario = &record.scenarios[0];
    assert_eq!(scenario.outcome, Outcome::Fail);
    let step = scenario
        .steps
        .iter()
        .find(|s| s.kind == "expect_speech")
        .unwrap();
    assert_eq!(step.outcome, Outcome::Fail);
    assert!(
        step.message
            .as_deref()
            .unwrap()
            .contains("no speech started within 1.500 s")
    );
    let clip = step
        .evidence
        .iter()
        .find(|e| {
            e.caption
                .starts_with("no speech: the audio from the key to the deadline")
        })
        .unwrap_or_else(|| panic!("{:?}", step.evidence));
    let audio = read_audio(&report.path().join(&clip.path)).unwrap();
    let seconds = audio.samples.len() as f64 / f64::from(audio.sample_rate);
    // From the key's first edge to 1.5 s after it, less at most one block not yet captured.
    assert!((1.4..=1.55).contains(&seconds), "{seconds} s of audio");
    // The bench's background, never silence made up: its level is the simulated room's.
    let rms =
        (audio.samples.iter().map(|s| s * s).sum::<f32>() / audio.samples.len() as f32).sqrt();
    let dbfs = 20.0 * rms.log10();
    assert!((-70.0..-40.0).contains(&dbfs), "{dbfs:.1} dBFS");
}
