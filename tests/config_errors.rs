//! Bad YAML and the messages it produces: file, line, column, YAML path, every problem at once.
#![allow(clippy::unwrap_used)]

use std::path::Path;

use otprig::config::{Catalogue, ConfigError, RigConfig, Scenario, TokenProfile};

fn lines(error: ConfigError) -> Vec<String> {
    error.to_string().lines().map(str::to_string).collect()
}

#[test]
fn every_problem_of_a_scenario_is_reported_with_its_position() {
    let text = "kind: scenario
token: mitid-code-display
steps:
  - press: button
    wait: 2s
  - expect_display: { shows: sometimes }
  - wait: 5
  - measure: { quantity: press_to_display }
  - {}
";
    let error = Scenario::from_text(Path::new("s.yaml"), text).unwrap_err();
    let all = lines(error);
    // A wrong type stops serde; the bare number is reported first, alone (a parse problem).
    assert_eq!(
        all,
        vec!["s.yaml:7:5: steps[2].wait: bare number 5 has no unit; write it like 5s or 5ms"]
    );
    let text = text.replace("wait: 5\n", "wait: 5s\n");
    let all = lines(Scenario::from_text(Path::new("s.yaml"), &text).unwrap_err());
    assert_eq!(all.len(), 4, "{all:#?}");
    assert!(
        all[0].starts_with("s.yaml:4:5: steps[0]: one action per step, found press and wait"),
        "{all:#?}"
    );
    assert!(
        all[1].starts_with("s.yaml:6:")
            && all[1].contains("steps[1].expect_display.shows: `sometimes` is not oracle"),
        "{all:#?}"
    );
    assert!(
        all[2].starts_with("s.yaml:8:") && all[2].contains("a measurement needs limits"),
        "{all:#?}"
    );
    assert!(
        all[3].starts_with("s.yaml:9:") && all[3].contains("a step needs one action"),
        "{all:#?}"
    );
}

#[test]
fn a_rig_file_reports_all_its_problems() {
    let dir = tempfile::tempdir().unwrap();
    let profile = Path::new(env!("CARGO_MANIFEST_DIR")).join("rig/tokens/mitid-code-display.yaml");
    let text = format!(
        "kind: rig
backend: simulated
token:
  profile: {}
  serial: X
  oracle: totp
camera:
  fps: 500
  lcd_region: {{ x: 600, y: 0, width: 100, height: 10 }}
relays:
  buttons:
    red: {{ sense: true }}
",
        profile.display()
    );
    let path = dir.path().join("rig.yaml");
    let all = lines(RigConfig::from_text(&path, &text).unwrap_err());
    let joined = all.join("\n");
    for needle in [
        ":2:1: backend: unknown backend `simulated`",
        "oracle `totp` needs `secret`",
        ":8:3: camera.fps: 500 frames per second",
        "camera.lcd_region: the region lies outside the 640×480 frame",
        "relays.buttons.red: `red` is not a button of mitid-code-display",
        "no relay for the token's button `button`",
    ] {
        assert!(joined.contains(needle), "missing {needle:?} in\n{joined}");
    }
}

#[test]
fn a_profile_checks_its_table() {
    let text = "kind: token
name: t
buttons: [a]
otp: { kind: time, digits: 6 }
table:
  off:
    a: { action: explode, next: \"on\", source: seed }
    b: { action: show_code, next: nowhere, source: assumed }
";
    let joined = lines(TokenProfile::from_text(Path::new("t.yaml"), text).unwrap_err()).join("\n");
    assert!(
        joined.contains("t.yaml:7:") && joined.contains("unknown action `explode`"),
        "{joined}"
    );
    assert!(
        joined.contains("table.off.b: `b` is not one of the token's buttons"),
        "{joined}"
    );
    assert!(
        joined.contains("`nowhere` is not a state of the table"),
        "{joined}"
    );
}

#[test]
fn a_requirement_needs_its_source_and_reference() {
    let text = "kind: requirements
requirements:
  A: { token: t, text: x, source: seed }
  B: { token: t, text: x }
  C: { token: t, text: x, source: assumed }
";
    let joined = lines(Catalogue::from_text(Path::new("r.yaml"), text).unwrap_err()).join("\n");
    assert!(
        joined
            .contains("r.yaml:3:3: requirements.A: a seed requirement names its `reference` file"),
        "{joined}"
    );
    assert!(
        joined.contains("r.yaml:4:3: requirements.B: needs `token`, `text` and `source`"),
        "{joined}"
    );
    assert!(!joined.contains("requirements.C"), "{joined}");
}

/// Issue #3: speech steps and limits in the right units.
#[test]
fn speech_steps_check_their_quantities_and_units() {
    let text = "kind: scenario
token: mitid-audio-code-reader
steps:
  - expect_speech: { says: louder }
  - measure: { quantity: speech_level, min: 2s }
  - measure: { quantity: speech_latency, max: 1 }
  - measure: { quantity: press_to_display, relative_to: previous, max: 1s }
  - measure: { quantity: digit_rate, min: 2, max: 5 }
  - expect_silence: { for: 2s }
";
    let joined = lines(Scenario::from_text(Path::new("a.yaml"), text).unwrap_err()).join("\n");
    assert!(
        joined.contains("a.yaml:4:") && joined.contains("`louder` is not display, oracle, serial"),
        "{joined}"
    );
    assert!(
        joined.contains("steps[1].measure.min: write the limit as a plain number in dBFS"),
        "{joined}"
    );
    assert!(
        joined.contains("steps[2].measure.max: speech_latency is a time"),
        "{joined}"
    );
    assert!(
        joined.contains("press_to_display cannot be measured relative to the previous utterance"),
        "{joined}"
    );
    assert!(
        !joined.contains("steps[4]") && !joined.contains("steps[5]"),
        "{joined}"
    );
}

/// Issue #3: a speaking token's rig needs a microphone and a serial number it can read.
#[test]
fn a_speaking_token_needs_a_microphone_and_a_readable_serial() {
    let dir = tempfile::tempdir().unwrap();
    let profile =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("rig/tokens/mitid-audio-code-reader.yaml");
    let text = format!(
        "kind: rig
backend: sim
token:
  profile: {}
  serial: AB-12
  oracle: properties
camera:
  lcd_region: {{ x: 0, y: 0, width: 10, height: 10 }}
relays:
  buttons: {{ red: {{}}, \"0\": {{}}, \"1\": {{}}, \"2\": {{}}, \"3\": {{}}, \"4\": {{}}, \"5\": {{}}, \"6\": {{}}, \"7\": {{}}, \"8\": {{}}, \"9\": {{}} }}
",
        profile.display()
    );
    let joined =
        lines(RigConfig::from_text(&dir.path().join("rig.yaml"), &text).unwrap_err()).join("\n");
    assert!(
        joined.contains("token.serial: mitid-audio-code-reader reads a serial number of 10 digits; `AB-12` is not one"),
        "{joined}"
    );
    assert!(
        joined.contains("mitid-audio-code-reader speaks: the rig needs a `microphone`"),
        "{joined}"
    );
}

/// Issue #3: a profile's speech section is checked.
#[test]
fn a_profile_checks_its_speech_steps() {
    let text = "kind: token
name: t
buttons: [red, \"0\"]
otp: { kind: time }
speech:
  languages: [da, en]
  default_language: fr
  volume: { levels: [0, -5], default: 4 }
  speed: { levels: [1.0, 1.2], at_ends: wrap }
  source: assumed
table:
  off:
    red: { action: show_code, next: \"off\", source: seed }
";
    let joined = lines(TokenProfile::from_text(Path::new("t.yaml"), text).unwrap_err()).join("\n");
    assert!(
        joined.contains("speech.default_language: `fr` is not one of da, en"),
        "{joined}"
    );
    assert!(
        joined.contains("speech.volume.levels: levels must rise"),
        "{joined}"
    );
    assert!(
        joined.contains("speech.volume.default: the default level 4 is not one of 1 to 2"),
        "{joined}"
    );
    assert!(
        joined.contains("speech.speed.at_ends: `wrap`: only `stay` is supported"),
        "{joined}"
    );
}

#[test]
fn a_unit_may_override_its_otp_kind() {
    let dir = tempfile::tempdir().unwrap();
    let profile = Path::new(env!("CARGO_MANIFEST_DIR")).join("rig/tokens/mitid-code-display.yaml");
    let rig = |otp: &str| {
        format!(
            "kind: rig\nbackend: lab\ntoken:\n  profile: {}\n  serial: X\n  otp: {otp}\ncamera:\n  lcd_region: {{ x: 0, y: 0, width: 10, height: 10 }}\nrelays:\n  buttons: {{ button: {{ line: 17 }} }}\n",
            profile.display()
        )
    };
    let path = dir.path().join("rig.yaml");
    let ok = RigConfig::from_text(&path, &rig("event")).unwrap();
    assert_eq!(
        ok.token.profile.otp.kind,
        otprig::config::token::OtpKind::Event
    );
    let joined = lines(RigConfig::from_text(&path, &rig("sometimes")).unwrap_err()).join("\n");
    assert!(
        joined.contains("token.otp: unknown OTP kind `sometimes`"),
        "{joined}"
    );
}
