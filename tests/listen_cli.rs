//! `otprig listen` on clips the simulated world rendered (the token's voice through the room):
//! it must report the digits and language the world was given (issue #3).
#![allow(clippy::unwrap_used)]

mod common;

use otprig::rig::audio_file::{Clip, write_wav};
use otprig::rig::sim::room::{Room, RoomConfig};
use otprig::rig::sim::voice::VoiceBank;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

#[test]
fn listen_reports_the_digits_and_language_the_world_spoke() {
    let root = common::root();
    let bank = VoiceBank::load(&root.join("fixtures/voices/sim"), 16_000).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let mut expected = Vec::new();
    let speeds = [0.7_f32, 0.85, 1.0, 1.2, 1.4];
    let gains = [-20.0_f32, -15.0, -10.0, -5.0, 0.0];
    for i in 0..20 {
        let language = if i % 2 == 0 { "da" } else { "en" };
        let digits: String = (0..6)
            .map(|_| char::from(b'0' + rng.random_range(0..10u8)))
            .collect();
        let speech = bank
            .render(&digits, language, speeds[i % 5], gains[(i / 2) % 5])
            .unwrap();
        // Half a second of room before and after, as a microphone would hear it.
        let mut room = Room::new(RoomConfig::default(), i as u64);
        let mut samples = room.process(&vec![0.0; 8_000]);
        samples.extend(room.process(&speech));
        samples.extend(room.process(&vec![0.0; 8_000]));
        let path = dir.path().join(format!("clip-{i:02}.wav"));
        write_wav(
            &path,
            &Clip {
                samples,
                sample_rate: 16_000,
            },
        )
        .unwrap();
        expected.push(format!("{}\t{digits}\t{language}", path.display()));
    }
    let out = common::otprig()
        .args(["listen", "--voice", "fixtures/voices/sim", "--lang", "auto"])
        .args(expected.iter().map(|line| line.split('\t').next().unwrap()))
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let printed: Vec<String> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect();
    assert_eq!(printed, expected);
}

#[test]
fn listen_names_a_missing_file_and_exits_three() {
    let out = common::otprig()
        .args(["listen", "/no/such/clip.wav"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/no/such/clip.wav"));
}
